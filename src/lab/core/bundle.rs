//! Reports as files: the Markdown write-up with its figures (the CLI writes them to a folder),
//! and, for the page's export, one self-contained HTML file (figures inlined as data URIs) or a
//! zip of the Markdown and figures. One code path makes both exercises' reports everywhere.

/// A report: Markdown that refers to files by relative name, and those files.
#[derive(Debug, Clone, PartialEq)]
pub struct Bundle {
    /// Folder name inside an export (`exercise1`, `exercise2`).
    pub name: String,
    /// The write-up.
    pub markdown: String,
    /// `(file name, bytes)` of every figure the Markdown shows.
    pub files: Vec<(String, Vec<u8>)>,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// `**bold**`, `` `code` `` and `![alt](file)` / `[text](url)` inside a line (on escaped text).
fn inline(s: &str, image: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = escape(s);
    // Images and links first.
    while let Some(start) = rest.find("](") {
        let Some(open) = rest[..start].rfind('[') else { break };
        let Some(close) = rest[start..].find(')') else { break };
        let is_image = rest[..open].ends_with('!');
        let text = rest[open + 1..start].to_string();
        let target = rest[start + 2..start + close].to_string();
        let before = &rest[..if is_image { open - 1 } else { open }];
        out += before;
        if is_image {
            match image(&target) {
                Some(src) => out += &format!("<img alt=\"{text}\" src=\"{src}\">"),
                None => out += &format!("[missing figure: {text}]"),
            }
        } else {
            out += &format!("<a href=\"{target}\">{text}</a>");
        }
        rest = rest[start + close + 1..].to_string();
    }
    out += &rest;
    let mut html = String::new();
    let (mut bold, mut code) = (false, false);
    let mut chars = out.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '*' && chars.peek() == Some(&'*') && !code {
            chars.next();
            html += if bold { "</strong>" } else { "<strong>" };
            bold = !bold;
        } else if c == '`' {
            html += if code { "</code>" } else { "<code>" };
            code = !code;
        } else {
            html.push(c);
        }
    }
    html
}

/// The Markdown this project writes (headings, paragraphs, lists, pipe tables, fenced code,
/// images, bold, code) as HTML. `image` turns a figure's file name into an `src`.
pub fn markdown_to_html(md: &str, image: &dyn Fn(&str) -> Option<String>) -> String {
    let mut html = String::new();
    let mut para: Vec<String> = Vec::new();
    let mut list = false;
    let mut table: Vec<Vec<String>> = Vec::new();
    let mut fence = false;
    let flush = |html: &mut String,
                 para: &mut Vec<String>,
                 list: &mut bool,
                 table: &mut Vec<Vec<String>>| {
        if !para.is_empty() {
            *html += &format!(
                "<p>{}</p>\n",
                para.iter().map(|l| inline(l, image)).collect::<Vec<_>>().join(" ")
            );
            para.clear();
        }
        if *list {
            *html += "</ul>\n";
            *list = false;
        }
        if !table.is_empty() {
            *html += "<table>\n";
            for (i, row) in table.iter().enumerate() {
                if i == 1 && row.iter().all(|c| c.chars().all(|ch| matches!(ch, '-' | ':' | ' '))) {
                    continue;
                }
                let tag = if i == 0 { "th" } else { "td" };
                *html += "<tr>";
                for c in row {
                    *html += &format!("<{tag}>{}</{tag}>", inline(c.trim(), image));
                }
                *html += "</tr>\n";
            }
            *html += "</table>\n";
            table.clear();
        }
    };
    for line in md.lines() {
        if line.starts_with("```") {
            flush(&mut html, &mut para, &mut list, &mut table);
            html += if fence { "</code></pre>\n" } else { "<pre><code>" };
            fence = !fence;
            continue;
        }
        if fence {
            html += &escape(line);
            html.push('\n');
            continue;
        }
        let t = line.trim();
        if t.is_empty() {
            flush(&mut html, &mut para, &mut list, &mut table);
        } else if let Some(level) = (1..=4).find(|&n| t.starts_with(&format!("{} ", "#".repeat(n))))
        {
            flush(&mut html, &mut para, &mut list, &mut table);
            html += &format!("<h{level}>{}</h{level}>\n", inline(&t[level + 1..], image));
        } else if t.starts_with('|') {
            if !para.is_empty() || list {
                flush(&mut html, &mut para, &mut list, &mut table);
            }
            table.push(t.trim_matches('|').split('|').map(str::to_string).collect());
        } else if let Some(item) = t.strip_prefix("- ").or_else(|| t.strip_prefix("* ")) {
            if !list {
                flush(&mut html, &mut para, &mut list, &mut table);
                html += "<ul>\n";
                list = true;
            }
            html += &format!("<li>{}</li>\n", inline(item, image));
        } else {
            if !table.is_empty() || list {
                flush(&mut html, &mut para, &mut list, &mut table);
            }
            para.push(t.to_string());
        }
    }
    flush(&mut html, &mut para, &mut list, &mut table);
    if fence {
        html += "</code></pre>\n";
    }
    html
}

/// Standard base64, for data URIs.
pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = ((b[0] as u32) << 16) | ((b[1] as u32) << 8) | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn mime(file: &str) -> &'static str {
    if file.ends_with(".svg") {
        "image/svg+xml"
    } else if file.ends_with(".png") {
        "image/png"
    } else {
        "application/octet-stream"
    }
}

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d2330}\
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}td,th{border:1px solid #ccd;padding:.2rem .5rem;text-align:right}\
th{background:#eef}img{max-width:100%;display:block;margin:.5rem 0;image-rendering:pixelated}code{background:#f3f3f6;padding:0 .2rem}\
pre{background:#f3f3f6;padding:.5rem;overflow:auto}h1{border-top:3px solid #335;padding-top:1rem}";

/// One HTML file holding every report, figures inlined: it opens anywhere, offline, and needs
/// nothing else.
pub fn html_document(title: &str, bundles: &[Bundle]) -> String {
    let mut body = String::new();
    for b in bundles {
        let image = |name: &str| {
            b.files
                .iter()
                .find(|(f, _)| f == name)
                .map(|(f, bytes)| format!("data:{};base64,{}", mime(f), base64(bytes)))
        };
        body += &format!(
            "<section id=\"{}\">\n{}</section>\n",
            escape(&b.name),
            markdown_to_html(&b.markdown, &image)
        );
    }
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\
         <style>{STYLE}</style></head>\n<body>\n{body}</body></html>\n",
        escape(title)
    )
}

/// The reports as a zip: `README.md` listing them, and per report its folder with `report.md`
/// and figures (stored, not compressed: the figures are PNG and small SVG).
pub fn zip_bundles(bundles: &[Bundle]) -> Vec<u8> {
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    let mut index = String::from("# MNIST Lab report\n\n");
    for b in bundles {
        index += &format!("- [{0}]({0}/report.md)\n", b.name);
        entries.push((format!("{}/report.md", b.name), b.markdown.clone().into_bytes()));
        for (f, bytes) in &b.files {
            entries.push((format!("{}/{f}", b.name), bytes.clone()));
        }
    }
    entries.insert(0, ("README.md".into(), index.into_bytes()));
    zip_store(&entries)
}

/// A zip archive of `entries` with the "stored" method (readable by every unzip).
pub fn zip_store(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let crc = crc32;
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let offset = out.len() as u32;
        let (c, n, len) = (crc(data), name.as_bytes(), data.len() as u32);
        let header = |sig: u32, central: bool| {
            let mut h = Vec::new();
            h.extend_from_slice(&sig.to_le_bytes());
            if central {
                h.extend_from_slice(&20u16.to_le_bytes()); // made by
            }
            h.extend_from_slice(&20u16.to_le_bytes()); // version needed
            h.extend_from_slice(&0x0800u16.to_le_bytes()); // UTF-8 names
            h.extend_from_slice(&0u16.to_le_bytes()); // stored
            h.extend_from_slice(&0u32.to_le_bytes()); // time, date
            h.extend_from_slice(&c.to_le_bytes());
            h.extend_from_slice(&len.to_le_bytes());
            h.extend_from_slice(&len.to_le_bytes());
            h.extend_from_slice(&(n.len() as u16).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes()); // extra
            if central {
                h.extend_from_slice(&[0u8; 6]); // comment length, disk number, internal attributes
                h.extend_from_slice(&0u32.to_le_bytes()); // external attributes
                h.extend_from_slice(&offset.to_le_bytes());
            }
            h.extend_from_slice(n);
            h
        };
        out.extend(header(0x0403_4b50, false));
        out.extend_from_slice(data);
        central.extend(header(0x0201_4b50, true));
    }
    let (start, size) = (out.len() as u32, central.len() as u32);
    out.extend(central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0u8; 4]);
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&start.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// CRC-32 (IEEE) as PNG chunks use it.
/// CRC-32 (IEEE), as PNG chunks and zip entries use it.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_html_with_inlined_figures() {
        let md = "# Title\n\nSome **bold** and `code`.\n\n| a | b |\n|---:|---:|\n| 1 | 2 |\n\n- one\n- two\n\n![a plot](p.svg)\n\n![gone](x.png)\n";
        let b = Bundle {
            name: "exercise1".into(),
            markdown: md.into(),
            files: vec![("p.svg".into(), b"<svg/>".to_vec())],
        };
        let html = html_document("t <x>", &[b]);
        assert!(html.contains("<h1>Title</h1>"), "{html}");
        assert!(html.contains("<strong>bold</strong>") && html.contains("<code>code</code>"));
        assert!(
            html.contains("<tr><th>a</th><th>b</th></tr>")
                && html.contains("<tr><td>1</td><td>2</td></tr>")
        );
        assert!(!html.contains("---"), "the alignment row is not a row");
        assert!(html.contains("<li>one</li>"));
        assert!(html.contains(&format!("src=\"data:image/svg+xml;base64,{}\"", base64(b"<svg/>"))));
        assert!(html.contains("[missing figure: gone]"));
        assert!(html.contains("<title>t &lt;x&gt;</title>"));
        assert!(!html.contains("://"), "a self-contained file refers to nothing outside");
    }

    #[test]
    fn base64_and_zip_are_standard() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        let z =
            zip_store(&[("a.txt".into(), b"hello".to_vec()), ("d/b.bin".into(), vec![0, 1, 2])]);
        assert_eq!(&z[..4], b"PK\x03\x04");
        let end = z.len() - 22;
        assert_eq!(&z[end..end + 4], b"PK\x05\x06");
        assert_eq!(u16::from_le_bytes([z[end + 10], z[end + 11]]), 2, "two entries");
        // The stored data sits right after the local header, with the CRC-32 of "hello".
        assert_eq!(&z[30 + 5..30 + 10], b"hello");
        assert_eq!(u32::from_le_bytes(z[14..18].try_into().unwrap()), 0x3610_a686);
        // Walk the central directory as an unzip does: each entry 46 bytes plus its name, and
        // its offset pointing at a local header with the same name.
        let u16_at = |i: usize| u16::from_le_bytes([z[i], z[i + 1]]) as usize;
        let u32_at = |i: usize| u32::from_le_bytes(z[i..i + 4].try_into().unwrap()) as usize;
        let (size, start) = (u32_at(end + 12), u32_at(end + 16));
        let mut at = start;
        for name in ["a.txt", "d/b.bin"] {
            assert_eq!(&z[at..at + 4], b"PK\x01\x02");
            let n = u16_at(at + 28);
            assert_eq!(&z[at + 46..at + 46 + n], name.as_bytes());
            let local = u32_at(at + 42);
            assert_eq!(&z[local..local + 4], b"PK\x03\x04");
            assert_eq!(&z[local + 30..local + 30 + n], name.as_bytes());
            at += 46 + n;
        }
        assert_eq!(at, start + size, "the directory ends where the end record says");
    }
}
