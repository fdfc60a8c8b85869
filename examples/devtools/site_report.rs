//! The hosted build's section of BENCHMARKS.md (#18 item 4): first visit, second visit and
//! offline start of `site/` with the network throttled, and each wasm module's size, judged
//! against the targets. The numbers come from `examples/bench_site.rs`.

use serde_json::Value;

/// The first visit's budget: bytes before interactive, and seconds to interactive.
const FIRST_BYTES: f64 = 3e6;
const FIRST_SECONDS: f64 = 3.0;
/// The page module's budget, gzip.
const PAGE_GZIP: f64 = 1.5e6;

fn mb(bytes: f64) -> String {
    format!("{:.2} MB", bytes / 1e6)
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "not met" }
}

/// Files of a visit's responses that are a data file or a wasm module (what a second visit
/// must not download again).
fn heavy(visit: &Value) -> Vec<String> {
    visit["responses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["path"].as_str())
        .filter(|p| p.contains("/data/") || p.contains("/models/") || p.ends_with(".wasm"))
        .map(str::to_string)
        .collect()
}

fn visit_row(name: &str, v: &Value) -> String {
    let ms = v["interactive_ms"].as_f64();
    let bytes = v["bytes_before_interactive"].as_f64();
    let files = v["responses"].as_array().map(Vec::len);
    format!(
        "| {name} | {} | {} | {} |\n",
        ms.map(|ms| format!("{:.2} s", ms / 1e3))
            .unwrap_or_else(|| v["note"].as_str().unwrap_or("not measured").to_string()),
        bytes.map(mb).unwrap_or_else(|| "—".into()),
        files.map(|n| n.to_string()).unwrap_or_else(|| "—".into()),
    )
}

/// The section, or nothing when the site was not measured.
pub fn site_section(site: &Value) -> String {
    if site.is_null() {
        return String::new();
    }
    let t = &site["throttle"];
    let mut s = format!(
        "\n## The hosted build: first visit, second visit, offline (`examples/bench_site.rs`)\n\n\
         `site/` (`make dist`) served from a sub-path by a host that gzips text and wasm and sends \
         `Cache-Control: max-age=600`, as GitHub Pages does; headless Chromium with the network throttled through the \
         DevTools protocol to {} Mbit/s down and {} ms latency. Interactive: the rank slider shows the compressed \
         model's test accuracy and the drawing pad is there (time from navigation start). Bytes: what the host sent \
         for the requests made before that moment, the workers' and the service worker's included.\n\n\
         | visit | to interactive | bytes before interactive | responses |\n|---|---:|---:|---:|\n",
        t["down_mbit_s"].as_f64().unwrap_or(f64::NAN),
        t["latency_ms"].as_f64().unwrap_or(f64::NAN),
    );
    s += &visit_row("first (fresh profile)", &site["first_visit"]);
    s += &visit_row("second (service worker in control)", &site["second_visit"]);
    s += &visit_row("offline start (host down, browser offline)", &site["offline"]);
    if let Some(ms) = site["first_visit"]["gan_preview_ms"].as_f64() {
        s += &format!(
            "\nThe GAN panel's preview (the shipped generator, drawn in a worker on the CPU) shows {:.2} s after navigation \
             on the first visit: its worker loads the workers' module once the first screen works.\n",
            ms / 1e3
        );
    }
    s += "\n| module | raw | gzip |\n|---|---:|---:|\n";
    let modules = site["modules"].as_array().cloned().unwrap_or_default();
    for m in &modules {
        s += &format!(
            "| {} (`{}`) | {} | {} |\n",
            m["module"].as_str().unwrap_or("?"),
            m["file"].as_str().unwrap_or("?"),
            mb(m["raw_bytes"].as_f64().unwrap_or(f64::NAN)),
            mb(m["gzip_bytes"].as_f64().unwrap_or(f64::NAN)),
        );
    }
    s += "\nTargets:\n";
    let first = &site["first_visit"];
    if let (Some(bytes), Some(ms)) =
        (first["bytes_before_interactive"].as_f64(), first["interactive_ms"].as_f64())
    {
        s += &format!(
            "- first visit ≤ {} before interactive: {} ({}); ≤ {FIRST_SECONDS} s to interactive: {} ({:.2} s)\n",
            mb(FIRST_BYTES),
            met(bytes <= FIRST_BYTES),
            mb(bytes),
            met(ms <= FIRST_SECONDS * 1e3),
            ms / 1e3
        );
    }
    if site["second_visit"]["interactive_ms"].is_number() {
        let again = heavy(&site["second_visit"]);
        s += &format!(
            "- second visit downloads no data file or module again: {}{}\n",
            met(again.is_empty()),
            if again.is_empty() { String::new() } else { format!(" ({})", again.join(", ")) }
        );
    }
    s +=
        &format!("- interactive offline: {}\n", met(site["offline"]["interactive_ms"].is_number()));
    if let Some(page) = modules.iter().find(|m| m["module"] == "page") {
        let gz = page["gzip_bytes"].as_f64().unwrap_or(f64::INFINITY);
        s += &format!(
            "- page module ≤ {} gzip: {} ({})\n",
            mb(PAGE_GZIP),
            met(gz <= PAGE_GZIP),
            mb(gz)
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn visit(ms: f64, files: &[(&str, u64)]) -> Value {
        let responses: Vec<Value> =
            files.iter().map(|(p, b)| json!({"path": p, "bytes": b})).collect();
        let bytes: u64 = files.iter().map(|f| f.1).sum();
        json!({"interactive_ms": ms, "bytes_before_interactive": bytes, "responses": responses})
    }

    #[test]
    fn the_targets_are_judged_from_the_measurements() {
        let site = json!({
            "throttle": {"down_mbit_s": 20.0, "latency_ms": 40.0},
            "modules": [{"module": "page", "file": "p_bg.wasm", "raw_bytes": 5e6, "gzip_bytes": 1.2e6},
                        {"module": "workers", "file": "w_bg.wasm", "raw_bytes": 25e6, "gzip_bytes": 4.4e6}],
            "first_visit": visit(2500.0, &[("/sub/index.html", 1000), ("/sub/p_bg.wasm", 1_200_000)]),
            "second_visit": visit(900.0, &[("/sub/index.html", 1000), ("/sub/data/mnist/t10k.gz", 10)]),
            "offline": {"interactive_ms": null, "note": "not interactive within 300 s"},
        });
        let mut site = site;
        site["first_visit"]["gan_preview_ms"] = json!(6200.0);
        let s = site_section(&site);
        assert!(s.contains("shows 6.20 s after navigation"), "{s}");
        assert!(s.contains("first visit ≤ 3.00 MB before interactive: met (1.20 MB)"), "{s}");
        assert!(s.contains("≤ 3 s to interactive: met (2.50 s)"), "{s}");
        assert!(
            s.contains("downloads no data file or module again: not met (/sub/data/mnist/t10k.gz)"),
            "{s}"
        );
        assert!(s.contains("interactive offline: not met"), "{s}");
        assert!(s.contains("page module ≤ 1.50 MB gzip: met (1.20 MB)"), "{s}");
        assert!(
            s.contains(
                "| offline start (host down, browser offline) | not interactive within 300 s |"
            ),
            "{s}"
        );
        assert_eq!(site_section(&Value::Null), "");
    }
}
