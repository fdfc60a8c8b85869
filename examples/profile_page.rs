//! Profiles the page's main thread while it does one interaction, with Chromium's sampling
//! profiler (over WebDriver's CDP bridge), and prints the functions with the most self time.
//! `cargo run --release --example profile_page -- draw|slider` after `make build-web`.
//! A tool for finding what dominates a benchmark, not a test.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Browser, dist_dir, serve_dir};

fn wait(b: &Browser, secs: u64, mut probe: impl FnMut(&Browser) -> bool) {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end && !probe(b) {
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn main() {
    let what = std::env::args().nth(1).unwrap_or_else(|| "draw".into());
    let site = serve_dir(dist_dir());
    let b = Browser::new(&site);
    b.open("/?backend=cpu");
    wait(&b, 120, |b| b.text("factorized-accuracy").ends_with('%'));
    b.cdp("Profiler.enable", json!({}));
    b.cdp("Profiler.setSamplingInterval", json!({"interval": 50}));
    b.cdp("Profiler.start", json!({}));
    let mut shown = Vec::new();
    for i in 0..20 {
        match what.as_str() {
            "slider" => {
                let f = [1.0, 2.0, 4.0, 8.0][i % 4];
                b.set_input("rank-factor", &format!("{f}"));
                std::thread::sleep(Duration::from_millis(300));
                shown.push(b.attr("[data-testid=rebuild-time]", "data-ms").unwrap_or_default());
            }
            _ => {
                let pad = b.find("draw-pad").expect("draw pad");
                let x = -60 + 6 * i as i64;
                b.stroke(&pad, "mouse", &[(x, -90), (x, -30), (x, 30), (x, 90)]);
                wait(&b, 20, |b| b.attr("[data-testid=draw-latency]", "data-ms").is_some());
                shown.push(b.attr("[data-testid=draw-latency]", "data-ms").unwrap_or_default());
                b.click(&b.find("draw-clear").expect("clear"));
                wait(&b, 20, |b| b.find("draw-latency").is_none());
            }
        }
    }
    let profile = b.cdp("Profiler.stop", json!({}));
    println!("page timings (ms): {shown:?}");
    let p = &profile["profile"];
    let nodes = p["nodes"].as_array().cloned().unwrap_or_default();
    let name_of: HashMap<u64, String> = nodes
        .iter()
        .map(|n| {
            (
                n["id"].as_u64().unwrap_or(0),
                format!(
                    "{} {}",
                    n["callFrame"]["functionName"].as_str().unwrap_or(""),
                    n["callFrame"]["url"].as_str().unwrap_or("").rsplit('/').next().unwrap_or("")
                ),
            )
        })
        .collect();
    let deltas: Vec<f64> = p["timeDeltas"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|v| v.as_f64().unwrap_or(0.0))
        .collect();
    let mut self_us: HashMap<String, f64> = HashMap::new();
    for (s, d) in p["samples"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .zip(deltas.iter().skip(1).chain(std::iter::once(&0.0)))
    {
        *self_us
            .entry(name_of.get(&s.as_u64().unwrap_or(0)).cloned().unwrap_or_default())
            .or_default() += d;
    }
    let mut top: Vec<(String, f64)> = self_us.into_iter().collect();
    top.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (name, us) in top.iter().take(40) {
        println!("{:>10.1} ms  {}", us / 1000.0, name.chars().take(150).collect::<String>());
    }
    let _: Value = Value::Null;
}
