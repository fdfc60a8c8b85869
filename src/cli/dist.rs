//! `mnist-lab harden-dist DIR`: makes trunk's output a static site that works from any sub-path
//! under a strict Content-Security-Policy. trunk inlines the start-up module script, which a CSP
//! without `'unsafe-inline'` blocks, so it moves to `init.js`; and every URL in `index.html` must
//! be relative (a leading `/` would escape the sub-path).

use std::path::Path;

use crate::lab::core::error::{LabError, LabResult};

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
    std::fs::write(&index, html).map_err(|e| err(format!("cannot write {}: {e}", index.display())))
}

/// The CLI entry: `harden-dist DIR`.
pub fn harden_dist(args: &[String]) -> LabResult<()> {
    let dir = args.first().ok_or_else(|| err("usage: mnist-lab harden-dist DIR".into()))?;
    harden(Path::new(dir))?;
    println!("{dir}: start-up script moved to init.js, CSP added, all URLs relative");
    Ok(())
}
