//! `make bench`, browser half: drives the trunk-built page in headless Chromium (the same harness
//! as the end-to-end tests) on the CPU backend and on WebGPU, reads the timings the page itself
//! measures (`performance.now()` around the work), and writes `target/bench/browser.json`.
//! `make bench` then merges it with the native numbers into `target/bench/results.json` and
//! `BENCHMARKS.md` (see `--report`).
//!
//! Benchmarks, not tests: nothing here fails on a slow number; a measurement that does not finish
//! in its time limit is recorded as `null` with the reason.

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Browser, dist_dir, flag, measure_frames, serve_dir};

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    Some(v[v.len() / 2])
}

/// Polls `probe` every 50 ms for up to `secs`; `None` on time-out (no panic: a bench records it).
fn poll<T>(b: &Browser, secs: u64, mut probe: impl FnMut(&Browser) -> Option<T>) -> Option<T> {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if let Some(v) = probe(b) {
            return Some(v);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

fn num(b: &Browser, selector: &str, attr: &str) -> Option<f64> {
    b.attr(selector, attr)?.parse().ok()
}

/// What the worker measured a step to cost, from a status line's data attributes: steady-state
/// and warm-up ms per step, and (on WebGPU) the work per step and the pipelines compiled.
fn step_cost(b: &Browser, status: &str) -> Value {
    let sel = format!("[data-testid={status}]");
    let gpu = num(b, &sel, "data-dispatches").map(|dispatches| {
        json!({
            "dispatches": dispatches,
            "submits": num(b, &sel, "data-submits"),
            "uploads": num(b, &sel, "data-uploads"),
            "upload_bytes": num(b, &sel, "data-upload-bytes"),
            "readbacks": num(b, &sel, "data-readbacks"),
            "pipelines": num(b, &sel, "data-pipelines"),
            "kernels": num(b, &sel, "data-kernels"),
        })
    });
    json!({
        "steady_ms": num(b, &sel, "data-steady-ms"),
        "warmup_ms": num(b, &sel, "data-warmup-ms"),
        "gpu": gpu,
    })
}

fn accuracy_shown(b: &Browser) -> Option<f64> {
    b.text("factorized-accuracy").trim_end_matches('%').parse().ok()
}

/// Parameters of the factorized MLP at factor f (k = int(n/f) per layer).
fn params_at(f: f64) -> usize {
    let shapes = [(784usize, 100usize), (100, 50), (50, 10)];
    let ranks: Vec<usize> =
        shapes.iter().map(|&(m, n)| ((n as f64 / f) as usize).clamp(1, m.min(n))).collect();
    mnist_lab::lab::compress::ranks::params_for(&shapes, &ranks)
}

fn bench_backend(site: &str, backend: &str, only: &[String]) -> Value {
    let want = |section: &str| only.is_empty() || only.iter().any(|s| s == section);
    let slow = backend == "webgpu";
    let mut out = serde_json::Map::new();

    if want("cold") {
        // Cold start to interactive: a fresh profile (empty cache), until the slider's first
        // accuracy on the 10k test set is on screen (pretrained model loaded, SVD done, evaluated).
        let mut cold = Vec::new();
        for _ in 0..3 {
            let b = Browser::new(site);
            let t = Instant::now();
            b.open(&format!("/?backend={backend}"));
            if poll(&b, if slow { 300 } else { 120 }, accuracy_shown).is_some() {
                cold.push(t.elapsed().as_secs_f64() * 1000.0);
            }
        }
        eprintln!("[{backend}] cold start to interactive: {cold:?} ms");
        out.insert("cold_start_ms".into(), json!(median(cold)));
    }

    let b = Browser::new(site);
    b.open(&format!(
        "/?backend={backend}&train_subset={}&gan_subset=4096",
        if slow { 2560 } else { 60000 }
    ));
    poll(&b, 300, accuracy_shown);
    out.insert("user_agent".into(), b.js("return navigator.userAgent", vec![]));
    out.insert(
        "adapter".into(),
        json!(b.attr("[data-testid=backend-banner]", "data-adapter").unwrap_or_default()),
    );

    if want("slider") {
        // Rank slider: SVD factors + rebuild + full 10k evaluation, as the page times it.
        let factors = [1.0, 2.0, 4.0, 8.0, 16.0];
        let mut per_factor: Vec<Vec<f64>> = vec![Vec::new(); factors.len()];
        for _ in 0..3 {
            for (i, &f) in factors.iter().enumerate() {
                b.set_input("rank-factor", &format!("{f}"));
                let want = params_at(f).to_string();
                let ok = poll(&b, if slow { 300 } else { 60 }, |b| {
                    (b.attr("[data-testid=factorized-params]", "data-params")? == want)
                        .then_some(())
                });
                if ok.is_some() {
                    std::thread::sleep(Duration::from_millis(100));
                    if let Some(ms) = num(&b, "[data-testid=rebuild-time]", "data-ms") {
                        per_factor[i].push(ms);
                    }
                }
            }
        }
        let slider: Vec<Value> = factors
            .iter()
            .zip(per_factor)
            .map(|(f, v)| json!({"factor": f, "ms": median(v)}))
            .collect();
        eprintln!("[{backend}] rank slider: {slider:?}");
        out.insert("rank_slider".into(), json!(slider));
    }

    if want("draw") {
        // Draw → prediction (pre-processing and both models), as the page times it.
        let mut draw = Vec::new();
        for i in 0..5 {
            if let Some(pad) = b.find("draw-pad") {
                let x = -60 + 30 * i;
                b.stroke(&pad, "mouse", &[(x, -90), (x, -30), (x, 30), (x, 90)]);
                if let Some(ms) = poll(&b, if slow { 120 } else { 20 }, |b| {
                    num(b, "[data-testid=draw-latency]", "data-ms")
                }) {
                    draw.push(ms);
                }
                if let Some(c) = b.find("draw-clear") {
                    b.click(&c);
                }
                poll(&b, 20, |b| b.find("draw-latency").is_none().then_some(()));
            }
        }
        eprintln!("[{backend}] draw → prediction: {draw:?} ms");
        out.insert("draw_to_prediction_ms".into(), json!(median(draw)));
    }

    if want("mlp") {
        // MLP training: ms per Adam step from the worker, and one epoch's wall time.
        let mut training = Vec::new();
        for batch in [128usize, 512] {
            b.set_input("train-epochs", "1");
            b.set_input("train-batch", &batch.to_string());
            let Some(start) = poll(&b, 60, |b| b.find("train-start").filter(|e| b.enabled(e)))
            else {
                continue;
            };
            let t = Instant::now();
            b.click(&start);
            let mut steps = Vec::new();
            let done = poll(&b, if slow { 900 } else { 300 }, |b| {
                if let Some(ms) =
                    num(b, "[data-testid=train-status]", "data-ms-per-batch").filter(|m| *m > 0.0)
                    && steps.last() != Some(&ms)
                {
                    steps.push(ms);
                }
                matches!(
                    b.attr("[data-testid=train-status]", "data-status")?.as_str(),
                    "done" | "failed"
                )
                .then_some(())
            });
            let cost = step_cost(&b, "train-status");
            let step_ms = cost["steady_ms"]
                .as_f64()
                .or(median(steps.iter().skip(1).copied().collect()))
                .or(median(steps.clone()));
            // The epoch's seeded training loss: two builds (fused or not) must agree on it.
            let train_loss = b
                .attr("[data-testid=epoch-table] tr[data-epoch=\"1\"]", "data-train-loss")
                .and_then(|v| v.parse::<f64>().ok());
            let row = json!({
                "cost": cost,
                "train_loss": train_loss,
                "batch_size": batch,
                "images": if slow { 2560 } else { 60000 },
                "step_ms": step_ms,
                "samples_per_s": step_ms.map(|ms| batch as f64 / ms * 1000.0),
                "epoch_s": done.map(|_| t.elapsed().as_secs_f64()),
            });
            eprintln!("[{backend}] MLP training: {row}");
            training.push(row);
        }
        out.insert("mlp_training".into(), json!(training));
    }

    if want("gan") || only.iter().any(|s| s.starts_with("gan-")) {
        // GAN training step (D step + G step), per architecture and batch size.
        let mut gan = Vec::new();
        // `--only gan-dense` (or `gan-cnn`): that architecture only.
        let archs = ["dense", "cnn"]
            .into_iter()
            .filter(|a| want("gan") || only.iter().any(|s| s.strip_prefix("gan-") == Some(*a)));
        for arch in archs {
            b.js(&format!("const s = document.querySelector('[data-testid=gan-arch]'); s.value = '{arch}'; s.dispatchEvent(new Event('change', {{bubbles: true}}));"), vec![]);
            for batch in [64usize, 128] {
                b.set_input("gan-epochs", "50");
                b.set_input("gan-batch", &batch.to_string());
                let Some(start) = poll(&b, 120, |b| b.find("gan-start").filter(|e| b.enabled(e)))
                else {
                    continue;
                };
                b.click(&start);
                let mut steps = Vec::new();
                let want = if slow { 3 } else { 6 };
                let limit = if slow { 600 } else { 180 };
                poll(&b, limit, |b| {
                    if let Some(ms) =
                        num(b, "[data-testid=gan-status]", "data-ms-per-batch").filter(|m| *m > 0.0)
                        && steps.last() != Some(&ms)
                    {
                        steps.push(ms);
                    }
                    (steps.len() > want
                        || b.attr("[data-testid=gan-status]", "data-status")? == "failed")
                        .then_some(())
                });
                let cost = step_cost(&b, "gan-status");
                if let Some(stop) = b.find("gan-stop") {
                    b.click(&stop);
                }
                poll(&b, limit, |b| {
                    matches!(
                        b.attr("[data-testid=gan-status]", "data-status")?.as_str(),
                        "stopped" | "done" | "failed"
                    )
                    .then_some(())
                });
                // The first chunk pays for kernel compilation and warm-up: leave it out when there are more.
                let step_ms = cost["steady_ms"]
                    .as_f64()
                    .or(median(steps.iter().skip(1).copied().collect()))
                    .or(median(steps.clone()));
                let row = json!({"arch": arch, "batch_size": batch, "step_ms": step_ms, "samples": steps.len(), "cost": cost});
                eprintln!("[{backend}] GAN step: {row}");
                gan.push(row);
            }
        }
        out.insert("gan_steps".into(), json!(gan));
    }

    if want("frames") {
        // The main thread while the dense GAN trains in its worker and the page redraws its
        // canvas and charts: frame gaps and long tasks over 10 s (#34: a figure, not a test).
        b.js("const s = document.querySelector('[data-testid=gan-arch]'); s.value = 'dense'; s.dispatchEvent(new Event('change', {bubbles: true}));", vec![]);
        b.set_input("gan-epochs", "200");
        b.set_input("gan-batch", "64");
        if let Some(start) = poll(&b, 120, |b| b.find("gan-start").filter(|e| b.enabled(e))) {
            b.click(&start);
            let updates = |b: &Browser| {
                b.attr("[data-canvas-updates]", "data-canvas-updates")?.parse::<usize>().ok()
            };
            let running = poll(&b, if slow { 600 } else { 120 }, |b| {
                (b.attr("[data-testid=gan-status]", "data-status")? == "running"
                    && updates(b)? >= 2)
                    .then_some(())
            });
            if running.is_some() {
                let f = measure_frames(&b, 10);
                eprintln!("[{backend}] main thread while the GAN trains: {f:?}");
                out.insert("frames_while_gan_trains".into(), json!(f));
            }
            if let Some(stop) = b.find("gan-stop") {
                b.click(&stop);
            }
        }
    }
    Value::Object(out)
}

fn wasm_sizes() -> Value {
    let mut rows = Vec::new();
    let Ok(dir) = std::fs::read_dir(dist_dir()) else { return json!([]) };
    for entry in dir.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("wasm") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap_or_default();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let _ = gz.write_all(&bytes);
        let gzip = gz.finish().map(|v| v.len()).unwrap_or(0);
        // The page's module (Flex only) and the workers' (with WebGPU), #18.
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let file = if name.starts_with("mnist-lab-worker") {
            "training workers (with WebGPU)"
        } else {
            "page (CPU only)"
        };
        rows.push(json!({"file": file, "raw_bytes": bytes.len(), "gzip_bytes": gzip}));
    }
    json!(rows)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = flag(&args, "--out").unwrap_or_else(|| "target/bench/browser.json".into());
    let backends: Vec<String> = flag(&args, "--backends")
        .map(|s| s.split(',').map(str::to_string).collect())
        .unwrap_or_else(|| vec!["cpu".into(), "webgpu".into()]);
    // `--only mlp,gan`: just those sections (cold, slider, draw, mlp, gan, frames, or gan-dense / gan-cnn
    // for one architecture), e.g. for an A/B run.
    let only: Vec<String> = flag(&args, "--only")
        .map(|s| s.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    let site = serve_dir(dist_dir());
    // Backends measured earlier (`--backends webgpu` after `--backends cpu`) are kept.
    let mut results = std::fs::read_to_string(&out)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    results.insert("wasm".into(), wasm_sizes());
    for backend in &backends {
        results.insert(backend.clone(), bench_backend(&site, backend, &only));
    }
    if let Some(dir) = std::path::Path::new(&out).parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    std::fs::write(&out, serde_json::to_string_pretty(&Value::Object(results)).unwrap())
        .expect("write the results");
    println!("wrote {out}");
}
