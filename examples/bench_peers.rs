//! Peer benchmark: the same 784-100-50-10 MLP training step (batch 128, Adam, float32) in other
//! in-browser frameworks, jax-js and TensorFlow.js, on the same WebGPU adapter and in the same
//! headless Chromium as `bench_browser`, so MNIST Lab's own ms per step and WebGPU work per step
//! have something to be compared with. Writes `target/bench/peers.json`.
//!
//! The page is `bench/peers/` (it times the steps and counts the WebGPU calls itself); the
//! frameworks come from `target/peers/node_modules`, installed by `scripts/peers-setup.sh`.
//! Each framework runs in a fresh browser: its own GPU device, its own pipeline cache, its own
//! counters.
//!
//! Benchmarks, not tests: a framework that fails or does not finish in time is recorded with
//! `steady_ms: null` and the reason, and the others still run.
//!
//! `cargo run --release --example bench_peers -- [--out FILE] [--only jaxjs,tfjs-webgpu]
//!  [--steps 30] [--warmup 5] [--timeout 600]`

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Browser, flag, serve_dir};

/// Every framework the page knows, in run order; the default is all of them.
const FRAMEWORKS: &[&str] =
    &["jaxjs", "tfjs-webgpu", "tfjs-webgl", "tfjs-wasm", "tfjs-cpu", "jaxjs-wasm"];

/// A framework's label and backend, for a row the page could not fill in (failed, timed out):
/// the same `name` ("jax-js 0.1.25", "TF.js 4.22.0") and `backend` the page reports.
fn describe(modules: &Path, key: &str) -> (String, &'static str) {
    let (package, label) = if key.starts_with("jaxjs") {
        ("@jax-js/jax", "jax-js")
    } else {
        ("@tensorflow/tfjs", "TF.js")
    };
    let version = std::fs::read_to_string(modules.join(package).join("package.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v["version"].as_str().map(str::to_string))
        .unwrap_or_default();
    let backend = match key.rsplit('-').next() {
        Some("wasm") => "wasm",
        Some("webgl") => "webgl",
        Some("cpu") => "cpu",
        _ => "webgpu",
    };
    (format!("{label} {version}"), backend)
}

/// A number after `--flag`, or `default` (a typo must not silently become the default).
fn number(args: &[String], name: &str, default: u64) -> u64 {
    flag(args, name).map_or(default, |s| {
        s.parse().unwrap_or_else(|_| panic!("{name} takes a whole number, not {s:?}"))
    })
}

#[cfg(unix)]
use std::os::unix::fs::symlink;

/// Windows tells file links from folder links.
#[cfg(windows)]
fn symlink(from: &Path, to: &Path) -> std::io::Result<()> {
    if from.is_dir() {
        std::os::windows::fs::symlink_dir(from, to)
    } else {
        std::os::windows::fs::symlink_file(from, to)
    }
}

/// Links `from` at `to`, replacing whatever was there (a symlink: the server reads through it).
fn link(from: &Path, to: &Path) -> std::io::Result<()> {
    if let Ok(meta) = to.symlink_metadata() {
        if meta.is_dir() {
            std::fs::remove_dir_all(to)?;
        } else {
            std::fs::remove_file(to)?;
        }
    }
    symlink(from, to)
}

/// `target/peers/site/`: the page and the installed frameworks under one root, as
/// `support::serve_dir` serves a single folder.
fn site_dir(root: &Path, modules: &Path) -> PathBuf {
    if !modules.join("@jax-js/jax/package.json").is_file() {
        eprintln!("{} is missing: run scripts/peers-setup.sh first", modules.display());
        std::process::exit(2);
    }
    let site = root.join("target/peers/site");
    std::fs::create_dir_all(&site).expect("create target/peers/site");
    for file in ["index.html", "peers.js"] {
        link(&root.join("bench/peers").join(file), &site.join(file)).expect("link the page");
    }
    link(modules, &site.join("node_modules")).expect("link node_modules");
    site
}

/// Opens one framework's page in a fresh browser and waits for its result, up to `limit`.
fn bench_one(site: &str, modules: &Path, key: &str, query: &str, limit: Duration) -> Value {
    let b = Browser::new(site);
    let t = Instant::now();
    b.open(&format!("/index.html?framework={key}&{query}"));
    let mut result = Value::Null;
    while t.elapsed() < limit {
        result = b.js("return window.__peerResult ?? null", vec![]);
        if !result.is_null() {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let wall_s = (t.elapsed().as_secs_f64() * 10.0).round() / 10.0;
    let mut row = match result {
        Value::Object(map) if !map.contains_key("error") => map,
        Value::Null => {
            let status = b.js("return document.getElementById('status')?.textContent", vec![]);
            let mut map = serde_json::Map::new();
            map.insert(
                "error".into(),
                json!(format!("timed out after {}s (page: {status})", limit.as_secs())),
            );
            map
        }
        // The page's own error, or WebDriver's when the script itself failed.
        Value::Object(map) => map,
        other => [("error".to_string(), json!(format!("unexpected result {other}")))]
            .into_iter()
            .collect(),
    };
    if row.contains_key("error") {
        let (name, backend) = describe(modules, key);
        row.insert("key".into(), json!(key));
        row.insert("name".into(), json!(name));
        row.insert("backend".into(), json!(backend));
        row.insert("steady_ms".into(), Value::Null);
    }
    row.insert("wall_s".into(), json!(wall_s));
    Value::Object(row)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = flag(&args, "--out").unwrap_or_else(|| "target/bench/peers.json".into());
    let only: Vec<String> = flag(&args, "--only")
        .map(|s| s.split(',').map(str::to_string).collect())
        .unwrap_or_else(|| FRAMEWORKS.iter().map(|s| s.to_string()).collect());
    if let Some(bad) = only.iter().find(|k| !FRAMEWORKS.contains(&k.as_str())) {
        panic!("unknown framework {bad:?}; known: {}", FRAMEWORKS.join(","));
    }
    let steps = number(&args, "--steps", 30);
    let warmup = number(&args, "--warmup", 5);
    let limit = Duration::from_secs(number(&args, "--timeout", 600));

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let modules = root.join("target/peers/node_modules");
    let site = serve_dir(site_dir(root, &modules));
    let query = format!("warmup={warmup}&steps={steps}");
    let (mut adapter, mut user_agent) = (Value::Null, Value::Null);
    let mut frameworks = Vec::new();
    for key in &only {
        eprintln!("[{key}] running");
        let mut row = bench_one(&site, &modules, key, &query, limit);
        // One adapter and browser for the whole run: kept once, at the top.
        if let Some(map) = row.as_object_mut() {
            for (field, slot) in [("adapter", &mut adapter), ("user_agent", &mut user_agent)] {
                if let Some(v) = map.remove(field).filter(|v| !v.is_null()) {
                    if slot.is_null() {
                        *slot = v;
                    } else if *slot != v {
                        map.insert(field.into(), v);
                    }
                }
            }
        }
        eprintln!(
            "[{key}] warm-up {} ms/step, steady {} ms/step, per step {}{}",
            row["warmup_ms"],
            row["steady_ms"],
            row["per_step"],
            row.get("error").map(|e| format!(", error: {e}")).unwrap_or_default()
        );
        frameworks.push(row);
    }

    let report = json!({
        "adapter": adapter,
        "user_agent": user_agent,
        "workload": {
            "model": "784-100-50-10 MLP with biases, ReLU, softmax cross-entropy on 10 classes",
            "optimizer": "Adam lr 1e-3, betas 0.9/0.999, eps 1e-8",
            "batch_size": 128,
            "dtype": "float32",
            "data": "one seeded random batch (pixels in [0,1), random labels), uploaded once",
            "warmup_steps": warmup,
            "steady_steps": steps,
            "steady_ms": "median over the steady steps, each awaited by reading its loss back",
            "per_step": "WebGPU calls per steady step (prototype wrappers as in static/worker-boot.js)",
        },
        "frameworks": frameworks,
    });
    if let Some(dir) = Path::new(&out).parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    std::fs::write(&out, serde_json::to_string_pretty(&report).unwrap()).expect("write results");
    println!("wrote {out}");
}
