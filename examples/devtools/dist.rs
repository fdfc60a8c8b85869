//! `devtools harden-dist DIR`: makes trunk's output a static site that works from any sub-path
//! under a strict Content-Security-Policy. trunk inlines the start-up module script, which a CSP
//! without `'unsafe-inline'` blocks, so it moves to `init.js`; and every URL in `index.html` must
//! be relative (a leading `/` would escape the sub-path).

use std::path::Path;

use crate::HardenDistArgs;
use mnist_lab::lab::core::error::{LabError, LabResult};

/// The policy: scripts and workers only from the site (plus compiling its own wasm), data and
/// models fetched from the site, and any https URL the user types for their own IDX files.
/// Inline styles are allowed (the charts set element widths); nothing else inline.
pub const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; \
connect-src 'self' https:; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; object-src 'none'; \
base-uri 'none'; form-action 'none'";

fn err(msg: String) -> LabError {
    LabError::InvalidConfig(msg)
}

/// Rewrites `index.html` in place (idempotent) and writes `init.js`.
pub fn harden(dir: &Path) -> LabResult<()> {
    let index = dir.join("index.html");
    let mut html = std::fs::read_to_string(&index)
        .map_err(|e| err(format!("cannot read {}: {e}", index.display())))?;
    let open = "<script type=\"module\">";
    if let Some(start) = html.find(open) {
        let end = html[start..]
            .find("</script>")
            .map(|e| start + e)
            .ok_or_else(|| err("an unterminated inline script".into()))?;
        let script = html[start + open.len()..end].trim().to_string();
        std::fs::write(dir.join("init.js"), format!("{script}\n"))
            .map_err(|e| err(format!("cannot write init.js: {e}")))?;
        html.replace_range(
            start..end + "</script>".len(),
            "<script type=\"module\" src=\"./init.js\"></script>",
        );
    }
    if html.contains("<script>") || html.contains("<script type=\"module\">") {
        return Err(err("index.html still has an inline script, which the CSP would block".into()));
    }
    if !html.contains("Content-Security-Policy") {
        let charset = "<meta charset=\"utf-8\" />";
        let at = html
            .find(charset)
            .ok_or_else(|| err("index.html has no charset meta to put the CSP after".into()))?
            + charset.len();
        html.insert_str(
            at,
            &format!("\n    <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\" />"),
        );
    }
    for attr in ["href=\"/", "src=\"/", "from '/", "path: '/"] {
        if html.contains(attr) {
            return Err(err(format!(
                "index.html has an absolute URL ({attr}…): build with --public-url ./"
            )));
        }
    }
    std::fs::write(&index, html)
        .map_err(|e| err(format!("cannot write {}: {e}", index.display())))?;
    // The `<meta>` policy does not govern the training workers' scripts; a host that reads a
    // `_headers` file (Netlify, Cloudflare Pages) sends the same policy as an HTTP header, which
    // does. docs/hosting.md has the Apache and nginx equivalents.
    std::fs::write(dir.join("_headers"), headers_file())
        .map_err(|e| err(format!("cannot write _headers: {e}")))
}

/// The HTTP headers a host should send for every file of the site (Netlify / Cloudflare Pages
/// `_headers` syntax).
pub fn headers_file() -> String {
    format!(
        "/*\n  Content-Security-Policy: {CSP}\n  X-Content-Type-Options: nosniff\n  Referrer-Policy: no-referrer\n  Cross-Origin-Opener-Policy: same-origin\n"
    )
}

/// The CLI entry: `harden-dist DIR`.
pub fn harden_dist(args: &HardenDistArgs) -> LabResult<()> {
    harden(&args.dir)?;
    crate::offline::offline_copy(&args.dir, &args.data_sha256)?;
    println!(
        "{}: start-up script moved to init.js, CSP and _headers added, all URLs relative, \
         service worker registered with every file's SHA-256",
        args.dir.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What trunk writes with `--public-url ./`: an inline module script and relative URLs.
    const TRUNK: &str = "<!doctype html><html><head><meta charset=\"utf-8\" />\
<link rel=\"modulepreload\" href=\"./mnist-lab.js\" />\
<script type=\"module\">import init, * as bindings from './mnist-lab.js';\nawait init({ module_or_path: './mnist-lab_bg.wasm' });</script>\
</head><body></body></html>";

    fn site(html: &str) -> std::path::PathBuf {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "mnist-lab-harden-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("index.html"), html).unwrap();
        dir
    }

    #[test]
    fn the_inline_script_moves_out_and_the_policy_goes_in_once() {
        let dir = site(TRUNK);
        harden(&dir).unwrap();
        let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
        let init = std::fs::read_to_string(dir.join("init.js")).unwrap();
        assert!(init.starts_with("import init, * as bindings from './mnist-lab.js';"), "{init}");
        assert!(html.contains("<script type=\"module\" src=\"./init.js\"></script>"), "{html}");
        assert!(!html.contains("await init("), "no inline code is left: {html}");
        assert_eq!(html.matches("Content-Security-Policy").count(), 1);
        assert!(html.find("charset").unwrap() < html.find("Content-Security-Policy").unwrap());
        let headers = std::fs::read_to_string(dir.join("_headers")).unwrap();
        assert!(headers.starts_with("/*\n") && headers.contains(CSP), "{headers}");
        // Idempotent: a second run changes nothing.
        harden(&dir).unwrap();
        assert_eq!(std::fs::read_to_string(dir.join("index.html")).unwrap(), html);
    }

    #[test]
    fn what_the_policy_would_break_is_refused() {
        let absolute = site(&TRUNK.replace("./mnist-lab.js\" />", "/mnist-lab.js\" />"));
        let e = harden(&absolute).unwrap_err().to_string();
        assert!(e.contains("absolute URL (href=\"/") && e.contains("--public-url ./"), "{e}");
        let open = site(&TRUNK.replace("</script>", ""));
        assert!(harden(&open).unwrap_err().to_string().contains("unterminated inline script"));
        let classic = site(&TRUNK.replace("</head>", "<script>alert(1)</script></head>"));
        assert!(harden(&classic).unwrap_err().to_string().contains("still has an inline script"));
        let bare = site("<html><head></head></html>");
        assert!(harden(&bare).unwrap_err().to_string().contains("no charset meta"));
    }
}
