//! End to end: the trunk-built page served from `dist/` on 127.0.0.1, driven in headless
//! Chromium (WebGPU via SwiftShader) over WebDriver. `make test` builds `dist/` first.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::sync::OnceLock;

use mnist_lab::lab::core::adapter::is_software_adapter;
use mnist_lab::lab::data::idx::{Images, encode_images};
use support::{Browser, dist_dir, measure_frames, serve_dir, serve_dir_at};

fn site() -> &'static str {
    static SITE: OnceLock<String> = OnceLock::new();
    SITE.get_or_init(|| serve_dir(dist_dir()))
}

/// `data-*` attribute of the `smoke-loss` line, as a number.
fn smoke_value(b: &Browser, name: &str) -> Option<f64> {
    b.attr("[data-testid=smoke-loss]", name)?.parse().ok()
}

fn wait_backend(b: &Browser) -> String {
    b.wait_for(120, "the backend banner", |b| {
        b.attr("[data-testid=backend-banner]", "data-backend").filter(|s| !s.is_empty())
    })
}

fn wait_dataset(b: &Browser, slug: &str) -> (String, String) {
    let sel = format!("[data-testid=dataset-{slug}] .counts");
    b.wait_for(180, &format!("{slug} to load"), |b| {
        Some((b.attr(&sel, "data-train")?, b.attr(&sel, "data-test")?))
    })
}

/// Opens `path` and waits until the backend is chosen and MNIST has loaded.
fn open_ready(path: &str) -> Browser {
    let b = Browser::new(site());
    b.open(path);
    wait_backend(&b);
    wait_dataset(&b, "mnist");
    b
}

/// Runs the smoke training on the page and returns (first loss, last loss, steps).
fn smoke_train(b: &Browser, secs: u64) -> (f64, f64, f64) {
    click_when_enabled(b, "smoke-train", 60);
    b.wait_for(secs, "smoke training to finish", |b| {
        (b.attr("[data-testid=smoke-loss]", "data-done").as_deref() == Some("true")).then_some(())
    });
    (
        smoke_value(b, "data-first").unwrap(),
        smoke_value(b, "data-last").unwrap(),
        smoke_value(b, "data-steps").unwrap(),
    )
}

#[test]
fn banner_names_backend_and_adapter_and_both_datasets_load() {
    let b = Browser::new(site());
    b.open("/");
    let backend = wait_backend(&b);
    let banner = b.text("backend-banner");
    let adapter = b.attr("[data-testid=backend-banner]", "data-adapter").unwrap_or_default();
    assert!(
        !adapter.is_empty(),
        "headless Chromium with --enable-unsafe-webgpu has a WebGPU adapter; banner: {banner}"
    );
    assert!(banner.contains(&adapter), "the banner names the adapter: {banner}");
    let expected = if is_software_adapter(&adapter) { "cpu" } else { "webgpu" };
    assert_eq!(backend, expected, "auto picks the faster backend for adapter {adapter}: {banner}");
    assert!(
        banner.contains(if expected == "cpu" { "Backend: CPU (Flex)" } else { "Backend: WebGPU" }),
        "{banner}"
    );
    for slug in ["mnist", "fashion-mnist"] {
        assert_eq!(wait_dataset(&b, slug), ("60000".into(), "10000".into()), "{slug} counts");
        let text = b.text(&format!("dataset-{slug}"));
        assert!(text.contains("60000 train / 10000 test"), "{slug}: {text}");
    }
    // #18 item 1: the first screen works (the slider scores the SVD model on the 10 000 test
    // images) having fetched MNIST's test files and the small previews, and no training file.
    b.wait_for(120, "the slider's accuracy", |b| {
        Some(b.text("factorized-accuracy")).filter(|t| t.ends_with('%'))
    });
    let fetched: Vec<String> = serde_json::from_value(b.js(
        "return performance.getEntriesByType('resource').map(e => new URL(e.name).pathname)",
        vec![],
    ))
    .unwrap();
    let data: Vec<&String> = fetched.iter().filter(|p| p.contains("/data/")).collect();
    assert!(data.iter().any(|p| p.ends_with("mnist/t10k-images-idx3-ubyte.gz")), "{data:?}");
    assert!(data.iter().any(|p| p.ends_with("fashion-mnist/preview.json")), "{data:?}");
    assert!(
        !data.iter().any(|p| p.contains("train-") || p.contains("fashion-mnist/t10k")),
        "no training file (nor Fashion-MNIST's test files) before a job starts: {data:?}"
    );
    // #18 item 2: the workers' module (the WebGPU stack) is fetched after the first screen
    // works, never with it: the page marks that moment, and the server saw no request for the
    // module before it (and one after, when the GAN panel's worker starts).
    let opened = b.js("return performance.timeOrigin", vec![]).as_f64().unwrap();
    let interactive = b.js(
        "return performance.timeOrigin + performance.getEntriesByName('mnist-lab-interactive')[0].startTime",
        vec![],
    );
    let interactive = interactive.as_f64().expect("the page marks when it is interactive");
    b.wait_for(300, "the pretrained GAN canvas", |b| b.find("gan-canvas"));
    let module: Vec<f64> = support::requests()
        .into_iter()
        .filter(|(at, p)| *at >= opened && p.contains("mnist-lab-worker-") && p.ends_with(".wasm"))
        .map(|(at, _)| at)
        .collect();
    assert!(!module.is_empty(), "the GAN worker loaded the workers' module");
    assert!(
        module.iter().all(|at| *at >= interactive),
        "the workers' module was requested {:.0} ms before the page was interactive",
        interactive - module.iter().cloned().fold(f64::INFINITY, f64::min)
    );
    // The smoke test trains in a worker, which fetches MNIST's training set when asked to.
    let (first, last, _) = smoke_train(&b, 300);
    assert!(last < first, "{first} → {last}");
    b.screenshot("home");
}

#[test]
fn cpu_backend_smoke_train_lowers_the_loss() {
    let b = Browser::new(site());
    b.open("/?backend=cpu&smoke_steps=80");
    assert_eq!(wait_backend(&b), "cpu");
    assert!(b.text("backend-banner").contains("Backend: CPU (Flex)"));
    wait_dataset(&b, "mnist");
    let (first, last, steps) = smoke_train(&b, 300);
    assert_eq!(steps, 80.0);
    assert!(first.is_finite() && last.is_finite());
    assert!(last < 0.7 * first, "loss should fall clearly on CPU: first {first}, last {last}");
    b.screenshot("smoke-cpu");
}

#[test]
fn webgpu_backend_smoke_train_lowers_the_loss() {
    let b = Browser::new(site());
    b.open("/?backend=webgpu&smoke_steps=10");
    assert_eq!(wait_backend(&b), "webgpu", "banner: {}", b.text("backend-banner"));
    assert!(b.text("backend-banner").contains("Backend: WebGPU"));
    wait_dataset(&b, "mnist");
    // On a WebGPU page the drawing is predicted on the CPU (one image is too little work for a
    // GPU), with the same models: a vertical stroke is a one.
    b.wait_for(300, "the pretrained model on WebGPU", |b| {
        b.attr("[data-testid=factorized-params]", "data-params")
    });
    draw_a_one(&b);
    assert_eq!(b.text("prediction-base").trim(), "1", "a vertical stroke is a one");
    let comp = b.wait_for(30, "a compressed prediction", |b| {
        Some(b.text("prediction-compressed")).filter(|t| t.trim().len() == 1)
    });
    assert!(comp.trim().chars().all(|c| c.is_ascii_digit()), "{comp}");
    assert!(b.text("draw-latency").contains("on the CPU"), "{}", b.text("draw-latency"));
    let (first, last, steps) = smoke_train(&b, 540);
    assert_eq!(steps, 10.0);
    assert!(last < first, "loss should fall on WebGPU: first {first}, last {last}");
    b.screenshot("smoke-webgpu");
}

#[test]
fn a_corrupt_upload_shows_its_error_and_the_page_keeps_working() {
    let b = Browser::new(site());
    b.open("/?backend=cpu");
    wait_backend(&b);
    let dir = std::env::temp_dir().join(format!("mnist-lab-upload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("corrupt-images-idx3-ubyte");
    std::fs::write(&bad, b"PK\x03\x04 this is a zip, not an IDX file").unwrap();
    let input = b.wait_for(30, "the upload input", |b| b.find("data-upload"));
    b.send_keys(&input, bad.to_str().unwrap());
    let err =
        b.wait_for(30, "the data error", |b| Some(b.text("data-error")).filter(|t| !t.is_empty()));
    assert!(err.contains("corrupt-images-idx3-ubyte") && err.contains("not an IDX file"), "{err}");

    // The page still works: a valid upload is accepted and MNIST still loads.
    let good = dir.join("three-images-idx3-ubyte");
    std::fs::write(&good, encode_images(&Images { count: 3, pixels: vec![128; 3 * 784] })).unwrap();
    let input = b.find("data-upload").unwrap();
    b.send_keys(&input, good.to_str().unwrap());
    let list = b.wait_for(30, "the uploaded file listed", |b| {
        Some(b.text("user-files")).filter(|t| t.contains("3 images"))
    });
    assert!(list.contains("three-images-idx3-ubyte"), "{list}");
    assert_eq!(wait_dataset(&b, "mnist"), ("60000".into(), "10000".into()));
    b.screenshot("upload-error");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn rank_slider_rebuilds_the_factorized_model_and_drawing_predicts_with_both() {
    let b = open_ready("/?backend=cpu");
    let params_at = |b: &Browser| {
        b.attr("[data-testid=factorized-params]", "data-params")
            .and_then(|p| p.parse::<usize>().ok())
    };
    let accuracy_at = |b: &Browser| {
        let t = b.text("factorized-accuracy");
        t.trim_end_matches('%').parse::<f64>().ok()
    };
    // Default 2×: ranks (50, 25, 5).
    let p2 = b.wait_for(120, "the 2× model", |b| params_at(b).filter(|&p| p == 48_410));
    let a2 = b.wait_for(120, "the 2× accuracy", accuracy_at);
    b.set_input("rank-factor", "8");
    let p8 = b.wait_for(60, "the 8× model", |b| params_at(b).filter(|&p| p != p2));
    assert_eq!(p8, 11_728, "8× means ranks (12, 6, 1)");
    let a8 = b.wait_for(60, "the 8× accuracy", |b| accuracy_at(b).filter(|&a| a != a2));
    assert!(a8 < a2, "8× loses accuracy before refinement: {a8} vs {a2}");
    assert!(a2 > 50.0, "the shipped model factorised at 2× still classifies: {a2}");

    // Draw a vertical stroke: a "1" for both models.
    let pad = b.find("draw-pad").expect("the drawing pad");
    b.stroke(&pad, "mouse", &[(0, -100), (0, -50), (0, 0), (0, 50), (0, 100)]);
    let base = b.wait_for(30, "a base prediction", |b| {
        Some(b.text("prediction-base")).filter(|t| t.trim().len() == 1)
    });
    let comp = b.wait_for(30, "a compressed prediction", |b| {
        Some(b.text("prediction-compressed")).filter(|t| t.trim().len() == 1)
    });
    assert_eq!(base.trim(), "1", "a vertical stroke is a one");
    assert!(comp.trim().chars().all(|c| c.is_ascii_digit()));
    b.screenshot("compress-draw");
    b.click(&b.find("draw-clear").unwrap());
    b.wait_for(10, "cleared predictions", |b| {
        (b.text("prediction-base").trim() == "–").then_some(())
    });
}

fn train_status(b: &Browser) -> String {
    b.attr("[data-testid=train-status]", "data-status").unwrap_or_default()
}

#[test]
fn training_from_scratch_fills_the_chart_and_confusion_matrix_and_replaces_the_base() {
    let b = open_ready("/?backend=cpu&train_subset=2000");
    b.wait_for(60, "the pretrained base", |b| {
        b.text("base-source").contains("pretrained").then_some(())
    });
    b.set_input("train-epochs", "2");
    click_when_enabled(&b, "train-start", 30);
    b.wait_for(300, "training to finish", |b| (train_status(b) == "done").then_some(()));
    let took = b.text_in("[data-testid=run-eta][data-panel=train-status]");
    // "took …" only when the clock ran (a run never timed says "finished"); how long it took
    // depends on the machine, so no bound on it here.
    assert!(took.starts_with("took "), "{took}");
    assert_eq!(
        b.attr("[data-testid=metrics-chart]", "data-points").as_deref(),
        Some("2"),
        "one chart point per epoch"
    );
    let total: u64 = b
        .js(
            "return [...document.querySelectorAll('[data-testid=confusion-matrix] td')].reduce((s, td) => s + Number(td.dataset.count), 0)",
            vec![],
        )
        .as_u64()
        .unwrap();
    assert_eq!(total, 10_000, "the confusion matrix covers the test set");
    let diagonal: u64 = b
        .js("return [...document.querySelectorAll('[data-testid=confusion-matrix] td')].filter(td => td.dataset.true === td.dataset.pred).reduce((s, td) => s + Number(td.dataset.count), 0)", vec![])
        .as_u64()
        .unwrap();
    assert!(
        diagonal > 3_000,
        "2 epochs (32 Adam steps) on 2000 images: far above chance ({diagonal} correct)"
    );
    // Click an off-diagonal cell: its images are listed.
    b.js("document.querySelector('[data-testid=confusion-matrix] td[data-true=\"4\"][data-pred=\"9\"]').click()", vec![]);
    let sel = b.wait_for(10, "the selected cell", |b| {
        Some(b.text("confusion-selection")).filter(|t| !t.is_empty())
    });
    assert!(sel.starts_with("true 4, predicted 9"), "{sel}");
    b.wait_for(60, "the trained model to drive the slider", |b| {
        b.text("base-source").contains("you trained").then_some(())
    });
    b.screenshot("train");

    // A refinement of this model is recorded with its base, so the report pairs them.
    b.wait_for(120, "the 2× model of the trained base", |b| {
        (b.attr("[data-testid=factorized-params]", "data-params")? == "48410").then_some(())
    });
    b.set_input("refine-epochs", "1");
    click_when_enabled(&b, "preset-2", 30);
    b.wait_for(300, "the refined model", |b| {
        (b.attr("[data-testid=refined-models]", "data-count")? == "1").then_some(())
    });
    click_when_enabled(&b, "export-report", 30);
    b.wait_for(120, "the built report", |b| b.find("report-html"));
    let html = b.js("return fetch(document.querySelector('[data-testid=report-html]').href).then(r => r.text())", vec![]);
    assert!(html.as_str().unwrap().contains("2× compression"), "the refinement of this base is in");
    assert!(b.find("report-notes").is_none(), "{}", b.text("report-notes"));
    // Built on the shipped model instead, the same refinement is left out, and the notes say why.
    let old_url = b.attr("[data-testid=report-html]", "href");
    pick_model(&b, "report-base", "shipped");
    click_when_enabled(&b, "export-report", 30);
    let notes = b.wait_for(180, "the notes of the shipped model's report", |b| {
        Some(b.text("report-notes")).filter(|t| !t.is_empty())
    });
    assert!(
        notes.contains("2× refinement") && notes.contains("built on the shipped pretrained model"),
        "{notes}"
    );
    b.wait_for(60, "the new report", |b| {
        b.attr("[data-testid=report-html]", "href").filter(|h| Some(h) != old_url.as_ref())
    });
    let html = b.js("return fetch(document.querySelector('[data-testid=report-html]').href).then(r => r.text())", vec![]);
    assert!(
        !html.as_str().unwrap().contains("2× compression"),
        "another model's refinement is not in"
    );
}

#[test]
fn training_pauses_and_resumes() {
    let b = open_ready("/?backend=cpu");
    b.set_input("train-epochs", "20");
    click_when_enabled(&b, "train-start", 30);
    b.wait_for(60, "the first batches", |b| {
        (train_status(b) == "running" && b.attr("[data-testid=train-status]", "data-batch")? != "0")
            .then_some(())
    });
    b.click(&b.find("train-pause").unwrap());
    b.wait_for(10, "the paused state", |b| (train_status(b) == "paused").then_some(()));
    // Screen readers hear the change of state (a polite live region, not every progress tick).
    let live = b.js(
        "return [...document.querySelectorAll('[aria-live]')].map(e => e.textContent).join('|')",
        vec![],
    );
    assert!(live.as_str().unwrap_or("").contains("Training: paused"), "{live}");
    // No sleeps: the worker says when its loop reaches the pause gate, and how many 50 ms polls
    // it has waited there since.
    let held = |b: &Browser, n: u32| {
        b.attr("[data-testid=train-status]", "data-held-polls")?
            .parse::<u32>()
            .ok()
            .filter(|&p| p >= n)
    };
    b.wait_for(30, "the loop at the pause gate", |b| held(b, 0));
    // The elapsed time stops with the run, and the estimate of what is left stays.
    let eta = b.text_in("[data-testid=run-eta][data-panel=train-status]");
    assert!(eta.contains("elapsed · about") && eta.ends_with("more to finish"), "{eta}");
    let frozen = b.text("train-status");
    b.wait_for(30, "20 polls at the gate", |b| held(b, 20));
    assert_eq!(b.text("train-status"), frozen, "nothing moves while paused");
    let paused_eta = b.text_in("[data-testid=run-eta][data-panel=train-status]");
    assert_eq!(paused_eta, eta, "a pause does not count as running time");
    b.click(&b.find("train-pause").unwrap());
    b.wait_for(60, "training to move again", |b| {
        (b.text("train-status") != frozen && train_status(b) != "paused").then_some(())
    });
    let running = b.text_in("[data-testid=run-eta][data-panel=train-status]");
    assert!(running.contains(" elapsed · about ") && running.ends_with(" left"), "{running}");
    b.click(&b.find("train-stop").unwrap());
    b.wait_for(30, "the stop", |b| (train_status(b) == "stopped").then_some(()));
}

#[test]
fn an_invalid_learning_rate_shows_a_message_and_starts_nothing() {
    let b = open_ready("/?backend=cpu&train_subset=2000");
    // Each message names the value it refuses, so a case cannot pass on the previous one's.
    for (lr, needle) in [
        ("NaN", "learning rate must be a number in (0, 10], got NaN"),
        ("-1", "learning rate must be a number in (0, 10], got -1"),
        ("abc", "learning rate: `abc` is not a number"),
    ] {
        b.set_input("train-lr", lr);
        b.click(&b.find("train-start").unwrap());
        b.wait_for(10, &format!("the message for lr {lr}"), |b| {
            b.text("train-error").contains(needle).then_some(())
        });
        assert_eq!(train_status(&b), "idle", "nothing started for lr {lr}");
    }
    b.set_input("train-batch", "0");
    b.set_input("train-lr", "0.001");
    b.click(&b.find("train-start").unwrap());
    let err = b.wait_for(10, "the batch-size message", |b| {
        Some(b.text("train-error")).filter(|t| t.contains("batch size"))
    });
    assert!(err.contains("between 1"), "{err}");
}

/// #18 item 2: the page's module has no WebGPU stack, so a page asked for WebGPU computes its
/// own work (the slider, the drawing pad, the pretrained generator's preview) on the CPU and
/// never makes a WebGPU device; the smoke train, in a worker, does train on WebGPU there. A page
/// still holding a device of its own (the old single module) fails the count.
#[test]
fn a_webgpu_page_computes_on_the_cpu_and_its_workers_on_webgpu() {
    let b = Browser::new(site());
    b.cdp(
        "Page.addScriptToEvaluateOnNewDocument",
        serde_json::json!({"source": "window.__devices = 0; if (self.GPUAdapter) { const r = GPUAdapter.prototype.requestDevice; GPUAdapter.prototype.requestDevice = function (...a) { window.__devices++; return r.apply(this, a); }; }"}),
    );
    b.open("/?backend=webgpu&smoke_steps=3");
    assert_eq!(wait_backend(&b), "webgpu");
    wait_dataset(&b, "mnist");
    b.wait_for(300, "the slider's accuracy", |b| {
        Some(b.text("factorized-accuracy")).filter(|t| t.ends_with('%'))
    });
    draw_a_one(&b);
    assert_eq!(b.text("prediction-base").trim(), "1", "a vertical stroke is a one");
    b.wait_for(300, "the pretrained GAN canvas", |b| b.find("gan-canvas"));
    let (_, _, steps) = smoke_train(&b, 540);
    assert_eq!(steps, 3.0);
    assert!(b.text("smoke-loss").starts_with("WebGPU"), "{}", b.text("smoke-loss"));
    assert_eq!(
        b.js("return window.__devices", vec![]),
        serde_json::json!(0),
        "the page made a WebGPU device"
    );
}

#[test]
fn the_worker_trains_on_webgpu_too() {
    let b = Browser::new(site());
    b.open("/?backend=webgpu&train_subset=256&test_hooks=1");
    assert_eq!(wait_backend(&b), "webgpu");
    wait_dataset(&b, "mnist");
    b.set_input("train-epochs", "1");
    click_when_enabled(&b, "train-start", 30);
    wait_train_done(&b, 480, "a WebGPU epoch in the worker");
    assert_eq!(b.attr("[data-testid=metrics-chart]", "data-points").as_deref(), Some("1"));
    // #15: each step ran our kernels in the worker, not burn's fallbacks: six fused Adam updates,
    // one fused loss, one batch gathered on the device, and the three layers' eight products
    // (three forward, three weight gradients that also sum the biases', two gradients flowing
    // down).
    assert_eq!(
        b.attr("[data-testid=train-status]", "data-kernels").as_deref(),
        Some("16.0"),
        "{}",
        b.text("train-status")
    );
    // The worker says where it computed, not only the page's banner.
    assert_eq!(
        b.attr("[data-testid=train-status]", "data-worker-backend").as_deref(),
        Some("WebGPU")
    );

    // #17: the GPU is lost while the worker is idle. The page hears it at once, drops the dead
    // worker, and the next run trains on a new device (it failed on the dead one before).
    click_when_enabled(&b, "lose-device", 30);
    let warning = b.wait_for(60, "the idle loss reported", |b| {
        Some(b.text("train-warning")).filter(|t| t.contains("lost"))
    });
    assert!(
        warning.contains("while no run was going") && warning.contains("new GPU device"),
        "{warning}"
    );
    assert_eq!(train_status(&b), "done", "a finished run stays finished");
    assert_eq!(b.attr("[data-testid=train-status]", "data-worker").as_deref(), Some("ended"));
    click_when_enabled(&b, "train-start", 30);
    b.wait_for(60, "the new run", |b| (train_status(b) != "done").then_some(()));
    wait_train_done(&b, 480, "an epoch on the new device");
    assert_eq!(
        b.attr("[data-testid=train-status]", "data-worker-backend").as_deref(),
        Some("WebGPU")
    );
    assert!(b.text("train-error").is_empty(), "{}", b.text("train-error"));
}

/// A job asked to measure (`?measure_backend=1`; on a hardware adapter it is the default) times
/// a few steps on both backends and runs on the faster, saying why: the verdict agrees with the
/// numbers shown and the run goes where the verdict says, whichever wins on this adapter.
#[test]
fn a_measured_job_runs_on_the_faster_backend_and_says_why() {
    let b = Browser::new(site());
    b.open("/?measure_backend=1&train_subset=256");
    wait_backend(&b);
    wait_dataset(&b, "mnist");
    b.set_input("train-epochs", "1");
    click_when_enabled(&b, "train-start", 30);
    let why = b.wait_for(300, "the measured choice", |b| {
        Some(b.text("train-status-backend-choice")).filter(|t| !t.is_empty())
    });
    let number = |after: &str| -> f64 {
        let rest = why.split(after).nth(1).unwrap_or_else(|| panic!("no {after:?} in {why}"));
        rest.split_whitespace().next().and_then(|n| n.parse().ok()).expect(&why)
    };
    let (gpu, cpu) = (number("measured WebGPU "), number("vs CPU "));
    eprintln!("backend choice: {why}");
    let verdict = why.rsplit("→ ").next().unwrap_or_default().trim();
    assert_eq!(verdict, if gpu < cpu { "WebGPU" } else { "CPU" }, "{why}");
    wait_train_done(&b, 300, "the measured run");
    assert_eq!(
        b.attr("[data-testid=train-status]", "data-worker-backend").as_deref(),
        Some(if verdict == "WebGPU" { "WebGPU" } else { "CPU (Flex)" }),
        "the run went where the measurement said: {why}"
    );
}

#[test]
fn presets_refine_in_the_worker_and_fill_the_comparison_table() {
    let b = open_ready("/?backend=cpu&train_subset=3000");
    b.wait_for(120, "the 2× model", |b| {
        (b.attr("[data-testid=factorized-params]", "data-params")? == "48410").then_some(())
    });
    let totals = b.js("return [...document.querySelectorAll('[data-testid=model-summary] [data-total]')].map(e => e.dataset.total)", vec![]);
    assert_eq!(
        totals,
        serde_json::json!(["84060", "48410"]),
        "summaries of the base and the factorized model"
    );
    assert!(
        b.js("return !!document.querySelector('[data-testid=spectrum-plot] svg circle')", vec![])
            .as_bool()
            .unwrap()
    );
    b.wait_for(120, "the accuracy-vs-parameters sweep, both rank rules", |b| {
        (b.attr("[data-testid=sweep-plot]", "data-points")? == "20").then_some(())
    });

    b.set_input("refine-epochs", "2");
    b.click(&b.find("preset-8").unwrap());
    b.wait_for(30, "the slider at 8×", |b| {
        (b.attr("[data-testid=factorized-params]", "data-params")? == "11728").then_some(())
    });
    let slider = b.wait_for(60, "the 8× test accuracy", |b| {
        Some(b.text("factorized-accuracy"))
            .filter(|t| t.trim_end_matches('%').parse::<f64>().is_ok())
    });
    b.wait_for(300, "the 8× refinement", |b| {
        let s = b.attr("[data-testid=refine-status]", "data-status")?;
        assert_ne!(s, "failed", "{}", b.text("refine-error"));
        (s == "done").then_some(())
    });
    let row = |name: &str| {
        b.attr("[data-testid=compare-table] tr[data-factor=\"8\"]", name)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap()
    };
    let (before, after) = (row("data-before"), row("data-after"));
    // #34: the refinement starts from the slider's model (the SVD factors at [12, 6, 1]), not
    // from fresh weights: its accuracy before the first step is the slider's, on the same
    // 10 000 test images.
    assert_eq!(format!("{:.2}%", before * 100.0), slider, "the refinement's start is the slider's");
    assert!(after > before, "refinement improves the 8× model: {before} → {after}");
    assert!(b.text("compare-table").contains("[12, 6, 1]"));
    b.screenshot("refine");
}

fn gan_status(b: &Browser) -> String {
    b.attr("[data-testid=gan-status]", "data-status").unwrap_or_default()
}

/// A cheap fingerprint of the sample canvas's pixels: (sum, count of non-black pixels).
fn canvas_pixels(b: &Browser) -> (u64, u64) {
    let v = b.js(
        "const c = document.querySelector('[data-testid=gan-canvas]'); if (!c) return null;
         const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
         let s = 0, lit = 0; for (let i = 0; i < d.length; i += 4) { s += d[i]; if (d[i] > 16) lit++; } return [s, lit];",
        vec![],
    );
    match v.as_array() {
        Some(a) => (a[0].as_u64().unwrap_or(0), a[1].as_u64().unwrap_or(0)),
        None => (0, 0),
    }
}

/// Waits for the shipped generator's samples on the GAN canvas (epoch 0) and checks they are not
/// blank.
fn wait_pretrained_canvas(b: &Browser, arch: &str) {
    b.wait_for(120, &format!("the pretrained {arch} generator's samples"), |b| {
        (b.attr("[data-canvas-epoch]", "data-canvas-epoch")? == "0").then_some(())
    });
    let pixels = canvas_pixels(b);
    assert!(pixels.1 > 5_000, "pretrained {arch} samples are not blank: {pixels:?}");
}

fn canvas_updates(b: &Browser) -> usize {
    b.attr("[data-canvas-updates]", "data-canvas-updates").and_then(|v| v.parse().ok()).unwrap_or(0)
}

#[test]
fn gan_studio_trains_the_dense_gan_with_a_live_canvas_pause_gallery_and_latent_walk() {
    let b = Browser::new(site());
    b.open("/?backend=cpu&gan_subset=512");
    wait_backend(&b);
    b.set_input("gan-epochs", "200");
    let start = b.wait_for(60, "an enabled GAN start button", |b| {
        b.find("gan-start").filter(|e| b.enabled(e))
    });
    b.click(&start);
    b.wait_for(180, "the first GAN batches", |b| {
        let s = gan_status(b);
        assert_ne!(s, "failed", "{}", b.text("gan-error"));
        let trained = b.attr("[data-testid=gan-status]", "data-batch")?.parse::<usize>().ok()? > 0;
        // The pretrained generator and the run's first (untrained) grid count as updates too.
        (s == "running" && trained && canvas_updates(b) >= 3).then_some(())
    });
    let first = canvas_pixels(&b);
    b.screenshot("gan-canvas-first");
    assert!(first.1 > 500, "the canvas has lit pixels: {first:?}");
    for name in ["data-d-loss", "data-g-loss", "data-ms-per-batch"] {
        let v: f64 = b.attr("[data-testid=gan-status]", name).unwrap().parse().unwrap();
        assert!(v.is_finite() && v > 0.0, "{name} = {v}");
    }
    let seen = canvas_updates(&b);
    b.wait_for(60, "another canvas update", |b| {
        assert_eq!(gan_status(b), "running", "{}", b.text("gan-status"));
        (canvas_updates(b) > seen).then_some(())
    });
    b.screenshot("gan-canvas-changing");
    assert_ne!(canvas_pixels(&b), first, "the samples change as G trains");

    // Pause: nothing changes; resume: it moves on.
    b.click(&b.find("gan-pause").unwrap());
    b.wait_for(30, "the paused state", |b| (gan_status(b) == "paused").then_some(()));
    let held = |b: &Browser, n: u32| {
        b.attr("[data-testid=gan-status]", "data-held-polls")?
            .parse::<u32>()
            .ok()
            .filter(|&p| p >= n)
    };
    b.wait_for(30, "the GAN loop at the pause gate", |b| held(b, 0));
    let (frozen, frozen_status) = (canvas_pixels(&b), b.text("gan-status"));
    b.wait_for(30, "20 polls at the gate", |b| held(b, 20));
    assert_eq!(canvas_pixels(&b), frozen, "the canvas holds still while paused");
    assert_eq!(b.text("gan-status"), frozen_status);
    b.click(&b.find("gan-pause").unwrap());
    b.wait_for(600, "snapshots at epochs 1 and 10", |b| {
        let s = gan_status(b);
        assert_ne!(s, "failed", "{}", b.text("gan-error"));
        (b.attr("[data-testid=gan-gallery]", "data-snapshots")?.parse::<usize>().ok()? >= 2)
            .then_some(())
    });
    b.click(&b.find("gan-stop").unwrap());
    b.wait_for(120, "the stop", |b| {
        matches!(gan_status(b).as_str(), "stopped" | "done").then_some(())
    });
    let epochs: usize =
        b.attr("[data-testid=gan-loss-chart]", "data-points").unwrap().parse().unwrap();
    assert!(epochs >= 10, "one chart point per epoch: {epochs}");
    assert_eq!(b.attr("[data-testid=gan-health]", "data-epoch"), Some(epochs.to_string()));
    let captions = b.text("gan-gallery");
    assert!(captions.contains("epoch 1 ") && captions.contains("epoch 10 "), "{captions}");
    let health = b.text("gan-health");
    assert!(health.contains("layers.0") && health.contains("Fréchet"), "{health}");
    b.js("document.querySelector('[data-testid=gan-gallery] figure').click()", vec![]);
    b.wait_for(10, "the enlarged snapshot", |b| b.find("gan-enlarged"));

    // Latent walk between two picked samples.
    b.js("document.querySelector('[data-testid=gan-enlarged]').click()", vec![]);
    b.js(
        "const c = document.querySelector('[data-testid=gan-canvas]'); const r = c.getBoundingClientRect();
         for (const [x, y] of [[r.left + 5, r.top + 5], [r.right - 5, r.bottom - 5]])
           c.dispatchEvent(new MouseEvent('click', {clientX: x, clientY: y, bubbles: true}));",
        vec![],
    );
    let go =
        b.wait_for(10, "two picked samples", |b| b.find("gan-walk-go").filter(|e| b.enabled(e)));
    b.click(&go);
    b.wait_for(60, "the latent walk", |b| {
        (b.attr("[data-testid=gan-walk]", "data-images")? == "10").then_some(())
    });
    b.screenshot("gan-dense");
}

#[test]
fn gan_studio_switches_to_the_cnn_and_refuses_bad_settings() {
    let b = Browser::new(site());
    b.open("/?backend=cpu&gan_subset=256");
    wait_backend(&b);
    let totals = |b: &Browser| {
        b.js("return ['g', 'd'].map(n => document.querySelector(`[data-testid=gan-summary-${n}] [data-total]`).dataset.total)", vec![])
    };
    assert_eq!(
        b.wait_for(30, "the dense summaries", |b| Some(totals(b))),
        serde_json::json!(["581520", "533505"])
    );
    // The shipped pretrained dense generator fills the canvas before any training.
    wait_pretrained_canvas(&b, "dense");
    assert_eq!(gan_status(&b), "idle");
    for (field, value, needle) in [
        ("gan-lr-g", "NaN", "generator learning rate"),
        ("gan-batch", "1", "batch size"),
        ("gan-noise", "-1", "noise"),
    ] {
        b.set_input(field, value);
        b.click(&b.find("gan-start").unwrap());
        let err = b.wait_for(10, "the validation message", |b| {
            Some(b.text("gan-error")).filter(|t| t.contains(needle))
        });
        assert!(err.contains(&format!("got {value}")), "the message names the value: {err}");
        assert_eq!(gan_status(&b), "idle", "nothing started for {field} = {value}");
        b.set_input(
            field,
            match field {
                "gan-lr-g" => "0.0002",
                "gan-batch" => "32",
                _ => "0",
            },
        );
    }
    b.js("const s = document.querySelector('[data-testid=gan-arch]'); s.value = 'cnn'; s.dispatchEvent(new Event('change', {bubbles: true}));", vec![]);
    b.wait_for(10, "the CNN summaries", |b| {
        (b.attr("[data-testid=gan-summaries]", "data-arch")? == "cnn").then_some(())
    });
    assert_eq!(totals(&b), serde_json::json!(["833985", "212865"]));
    assert!(b.text("gan-summaries").contains("7×7×128"));
    // The shipped CNN generator (#19 item 4) fills the canvas, cleared at the switch, before any
    // training.
    wait_pretrained_canvas(&b, "CNN");
    b.set_input("gan-epochs", "5");
    b.click(&b.find("gan-start").unwrap());
    b.wait_for(300, "a few CNN batches", |b| {
        let s = gan_status(b);
        assert_ne!(s, "failed", "{}", b.text("gan-error"));
        (s == "running"
            && b.attr("[data-testid=gan-status]", "data-batch")?.parse::<usize>().ok()? >= 2)
            .then_some(())
    });
    let g: f64 = b.attr("[data-testid=gan-status]", "data-g-loss").unwrap().parse().unwrap();
    assert!(g.is_finite());
    b.click(&b.find("gan-stop").unwrap());
    b.wait_for(300, "the stop", |b| (gan_status(b) == "stopped").then_some(()));
    b.screenshot("gan-cnn");
}

/// Long main-thread tasks allowed while a worker trains. Generous on purpose: the bound catches
/// training (or a synchronous readback) on the main thread, which blocks it for seconds, and not
/// a loaded machine's jitter. The frame-gap figures are in `make bench` (bench_browser's frames).
const LONGEST_MAIN_TASK_MS: f64 = 1000.0;

#[test]
fn the_page_stays_responsive_while_the_workers_train() {
    let b = open_ready("/?backend=cpu&gan_subset=2048");
    let gan_batch = |b: &Browser| {
        b.attr("[data-testid=gan-status]", "data-batch").and_then(|v| v.parse::<usize>().ok())
    };
    let train_steps = |b: &Browser| {
        let n = |name| b.attr("[data-testid=train-status]", name)?.parse::<usize>().ok();
        Some(n("data-epochs-done")? * 10_000 + n("data-batch")?)
    };

    // Exercise 1 training in its worker.
    b.set_input("train-epochs", "50");
    click_when_enabled(&b, "train-start", 30);
    b.wait_for(60, "classifier training", |b| {
        (train_status(b) == "running" && b.attr("[data-testid=train-status]", "data-batch")? != "0")
            .then_some(())
    });
    let before = train_steps(&b).unwrap();
    let classifier = measure_frames(&b, 10);
    eprintln!("while the classifier trains: {classifier:?}");
    let trained = train_steps(&b).unwrap();
    b.click(&b.find("train-stop").unwrap());
    b.wait_for(60, "the stop", |b| (train_status(b) == "stopped").then_some(()));

    // The GAN in its worker, with the live canvas and charts redrawn on the main thread.
    b.set_input("gan-epochs", "200");
    click_when_enabled(&b, "gan-start", 30);
    b.wait_for(120, "GAN training", |b| {
        (gan_status(b) == "running" && canvas_updates(b) >= 2).then_some(())
    });
    let (batch0, canvas0) = (gan_batch(&b).unwrap(), canvas_updates(&b));
    let gan = measure_frames(&b, 10);
    eprintln!("while the GAN trains: {gan:?}");
    let (batch1, canvas1) = (gan_batch(&b).unwrap(), canvas_updates(&b));
    b.click(&b.find("gan-stop").unwrap());
    b.wait_for(120, "the GAN stop", |b| (gan_status(b) == "stopped").then_some(()));

    // The window measured what it claims: the workers trained and the page drew through it.
    assert!(trained > before, "the classifier trained during the window: {before} → {trained}");
    assert!(batch1 != batch0 && canvas1 > canvas0, "the GAN trained and was drawn: {gan:?}");
    for (what, f) in [("classifier", &classifier), ("GAN", &gan)] {
        assert!(f.frames > 0, "{what}: the page drew frames: {f:?}");
        assert!(
            f.longest_task_ms < LONGEST_MAIN_TASK_MS,
            "{what}: no main-thread task over {LONGEST_MAIN_TASK_MS} ms: {f:?}"
        );
    }
}

#[test]
fn the_gan_trains_on_webgpu_in_its_worker() {
    let b = Browser::new(site());
    b.open("/?backend=webgpu&gan_subset=128");
    assert_eq!(wait_backend(&b), "webgpu");
    b.set_input("gan-epochs", "2");
    b.set_input("gan-batch", "32");
    click_when_enabled(&b, "gan-start", 60);
    let t = std::time::Instant::now();
    b.wait_for(900, "two WebGPU epochs of the dense GAN", |b| {
        let s = gan_status(b);
        assert_ne!(s, "failed", "{}", b.text("gan-error"));
        (s == "done").then_some(())
    });
    eprintln!(
        "dense GAN on WebGPU: 8 steps of batch 32 (+ 2 snapshots with quality) in {:?}",
        t.elapsed()
    );
    // The worker says where it computed (the status line's text reads "done" either way).
    assert_eq!(
        b.attr("[data-testid=gan-status]", "data-worker-backend").as_deref(),
        Some("WebGPU"),
        "{}",
        b.text("gan-status")
    );
    for name in ["data-d-loss", "data-g-loss"] {
        let v: f64 = b.attr("[data-testid=gan-status]", name).unwrap().parse().unwrap();
        assert!(v.is_finite() && v > 0.0, "{name} = {v}");
    }
    assert_eq!(b.attr("[data-testid=gan-gallery]", "data-snapshots").as_deref(), Some("2"));
    assert!(canvas_pixels(&b).1 > 500, "the canvas shows the generator's samples");
}

#[test]
fn idx_files_load_by_drag_and_drop_and_by_url() {
    let b = Browser::new(site());
    b.open("/?backend=cpu");
    wait_backend(&b);
    b.wait_for(30, "the user-files card", |b| b.find("data-url"));
    // Drop two files made in the page: 2 images (IDX3) and their 2 labels (IDX1).
    b.js(
        "const be32 = n => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
         const images = new Uint8Array([...be32(0x803), ...be32(2), ...be32(28), ...be32(28), ...new Array(2 * 784).fill(200)]);
         const labels = new Uint8Array([...be32(0x801), ...be32(2), 3, 7]);
         const dt = new DataTransfer();
         dt.items.add(new File([images], 'dropped-images-idx3-ubyte'));
         dt.items.add(new File([labels], 'dropped-labels-idx1-ubyte'));
         document.querySelector('.user-files').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));",
        vec![],
    );
    let list = b.wait_for(30, "the dropped files", |b| {
        Some(b.text("user-files"))
            .filter(|t| t.contains("dropped-images") && t.contains("dropped-labels"))
    });
    assert!(list.contains("2 images"), "{list}");
    let pair =
        b.wait_for(10, "the pairing", |b| Some(b.text("user-pair")).filter(|t| !t.is_empty()));
    assert!(pair.contains("2 labelled images"), "{pair}");

    // A URL on the same server (the bundled test labels), then a missing one.
    b.set_input("data-url", &format!("{}/data/mnist/t10k-labels-idx1-ubyte.gz", site()));
    b.click(&b.find("data-url-load").unwrap());
    let list = b.wait_for(60, "the URL's file", |b| {
        Some(b.text("user-files")).filter(|t| t.contains("t10k-labels-idx1-ubyte.gz"))
    });
    assert!(list.contains("10000"), "{list}");
    b.set_input("data-url", &format!("{}/data/no-such-file-idx3-ubyte.gz", site()));
    b.click(&b.find("data-url-load").unwrap());
    let err =
        b.wait_for(30, "the URL error", |b| Some(b.text("data-error")).filter(|t| !t.is_empty()));
    assert!(err.contains("404"), "{err}");

    // #17: a server that announces 3 GB is refused before anything is read, and the loader is
    // free again; a body that ends before its announced length is an error, not a short file.
    b.set_input("data-url", &format!("{}/__lie/huge-images-idx3-ubyte.gz", site()));
    b.click(&b.find("data-url-load").unwrap());
    let err = b.wait_for(30, "the refusal of a 3 GB file", |b| {
        Some(b.text("data-error")).filter(|t| t.contains("huge-images"))
    });
    assert!(err.contains("announces 2.8 GB") && err.contains("128.0 MB"), "{err}");
    b.wait_for(10, "the loader free again", |b| {
        b.find("data-url-load").filter(|e| b.enabled(e)).map(|_| ())
    });
    b.set_input("data-url", &format!("{}/__lie/short-labels-idx1-ubyte.gz", site()));
    b.click(&b.find("data-url-load").unwrap());
    let err = b.wait_for(30, "the refusal of a cut file", |b| {
        Some(b.text("data-error")).filter(|t| t.contains("short-labels"))
    });
    // Chromium itself fails a body shorter than its Content-Length ("network error"); the
    // page's own check (DownloadBounds) says so where a browser passes the short body on.
    assert!(err.contains("network error") || err.contains("ended after 100 bytes"), "{err}");
    let list = b.text("user-files");
    assert!(!list.contains("short-labels"), "a cut download is not loaded: {list}");
}

/// The per-epoch rows of the training table: (epoch, train loss, test accuracy), as the page
/// wrote them (full precision).
fn epoch_rows(b: &Browser) -> Vec<(String, String, String)> {
    let v = b.js(
        "return [...document.querySelectorAll('[data-testid=epoch-table] tr[data-epoch]')].map(r => [r.dataset.epoch, r.dataset.trainLoss, r.dataset.testAcc])",
        vec![],
    );
    serde_json::from_value(v).unwrap()
}

/// The run list's row of a stored run, as a CSS selector.
fn run_row(run_id: &str) -> String {
    format!("[data-testid=run-list] tr[data-run-id=\"{run_id}\"]")
}

/// Epochs of a run whose checkpoint the store holds, as the run list shows them.
fn saved_epochs(b: &Browser, row: &str) -> Option<usize> {
    b.attr(row, "data-epochs-done")?.parse().ok()
}

/// Waits for the training panel to say "done", failing at once if it says "failed".
fn wait_train_done(b: &Browser, secs: u64, what: &str) {
    b.wait_for(secs, what, |b| {
        let s = train_status(b);
        assert_ne!(s, "failed", "{}", b.text("train-error"));
        (s == "done").then_some(())
    });
}

fn click_when_enabled(b: &Browser, testid: &str, secs: u64) {
    let e = b.wait_for(secs, &format!("an enabled {testid}"), |b| {
        b.find(testid).filter(|e| b.enabled(e))
    });
    b.click(&e);
}

#[test]
fn a_reload_mid_run_resumes_from_the_last_epoch_with_its_history() {
    let path = "/?backend=cpu&train_subset=3000";
    let b = open_ready(path);
    b.set_input("train-epochs", "8");
    click_when_enabled(&b, "train-start", 30);
    b.wait_for(300, "two epochs", |b| {
        (b.attr("[data-testid=train-status]", "data-epochs-done")?.parse::<usize>().ok()? >= 2)
            .then_some(())
    });
    let run_id = b.attr("[data-testid=train-status]", "data-run-id").unwrap();
    assert!(run_id.starts_with("train-"), "the run is in the store: {run_id:?}");
    let row = run_row(&run_id);
    b.wait_for(60, "two saved epochs", |b| (saved_epochs(b, &row)? >= 2).then_some(()));
    let before = epoch_rows(&b);
    assert!(before.len() >= 2);

    // Reload in the middle of the run: the worker dies with the page.
    b.open(path);
    wait_backend(&b);
    wait_dataset(&b, "mnist");
    let saved: usize = b.wait_for(30, "the run in the run list", |b| saved_epochs(b, &row));
    assert!((2..8).contains(&saved), "saved at an epoch's end: {saved}");
    assert_eq!(b.attr(&row, "data-finished").as_deref(), Some("false"));
    b.js(&format!("document.querySelector('{row} [data-testid=run-resume]').click()"), vec![]);
    wait_train_done(&b, 300, "the resumed run to finish");
    let after = epoch_rows(&b);
    assert_eq!(after.len(), 8, "all eight epochs: {after:?}");
    let kept = saved.min(before.len());
    assert_eq!(&after[..kept], &before[..kept], "the saved epochs' metrics are intact");
    assert_eq!(
        b.attr(&row, "data-finished").as_deref(),
        Some("true"),
        "the run list shows it finished"
    );
    b.wait_for(60, "the resumed model to drive the slider", |b| {
        b.text("base-source").contains("you trained").then_some(())
    });
    b.screenshot("resume");

    // The report, from the saved run, through the engine's report code.
    click_when_enabled(&b, "export-report", 30);
    b.wait_for(120, "the built report", |b| b.find("report-html"));
    assert_eq!(
        b.attr("[data-testid=report-html]", "data-parts").as_deref(),
        Some("exercise1"),
        "no GAN run yet"
    );
    let html = b.js("return fetch(document.querySelector('[data-testid=report-html]').href).then(r => r.text())", vec![]);
    let html = html.as_str().unwrap();
    assert!(
        html.starts_with("<!doctype html>") && html.contains("Exercise 1"),
        "{}",
        &html[..html.len().min(400)]
    );
    for (epoch, _, _) in &after {
        assert!(
            html.contains(&format!("<tr><td>{epoch}</td>")),
            "epoch {epoch} is in the per-epoch table"
        );
    }
    assert!(html.contains("data:image/svg+xml;base64,"), "the curves are inlined");
    assert!(html.contains("84,060"), "the model summary with its parameter count");
    assert!(html.contains("true \\ predicted"), "the confusion matrix's header");
    // #36: a number's run count — the page trains one run, with the panel's seed (42 by default).
    assert!(html.contains("comes from this one run (seed 42)"), "the report says it is one run");
    assert!(!html.contains("src=\"http"), "self-contained");
    let zip: Vec<u8> = serde_json::from_value(b.js(
        "return fetch(document.querySelector('[data-testid=report-zip]').href).then(r => r.arrayBuffer()).then(a => Array.from(new Uint8Array(a)))",
        vec![],
    ))
    .unwrap();
    assert_eq!(&zip[..4], b"PK\x03\x04");
    let names = String::from_utf8_lossy(&zip);
    assert!(names.contains("exercise1/report.md") && names.contains("exercise1/base-curves.svg"));

    // #34: the finished run opened again after a reload shows all of it done, and the training
    // time its record kept over both sessions (not this page's few milliseconds).
    b.open(path);
    wait_backend(&b);
    let stored: f64 = b.wait_for(30, "the finished run in the list", |b| {
        b.attr(&row, "data-train-ms")?.parse().ok()
    });
    assert!(stored > 0.0, "the record keeps its training time: {stored}");
    b.js(&format!("document.querySelector('{row} [data-testid=run-resume]').click()"), vec![]);
    wait_train_done(&b, 120, "the reopened run");
    assert_eq!(b.attr("[data-testid=train-status]", "data-run-id").as_deref(), Some(&*run_id));
    assert_eq!(b.attr("[data-testid=run-progress]", "value").as_deref(), Some("1"));
    let eta = "[data-testid=run-eta][data-panel=train-status]";
    let shown: f64 = b.attr(eta, "data-elapsed-ms").unwrap().parse().unwrap();
    assert!(shown >= stored, "the recorded {stored} ms, shown as {shown} ms");
    assert!(b.text_in(eta).starts_with("took "), "{}", b.text_in(eta));
}

#[test]
fn a_lost_gpu_pauses_the_run_and_it_continues_on_the_cpu() {
    let b = Browser::new(site());
    b.open("/?backend=webgpu&train_subset=256&test_hooks=1");
    assert_eq!(wait_backend(&b), "webgpu");
    wait_dataset(&b, "mnist");
    b.set_input("train-epochs", "3");
    click_when_enabled(&b, "train-start", 30);
    b.wait_for(480, "a WebGPU epoch", |b| {
        assert_ne!(train_status(b), "failed", "{}", b.text("train-error"));
        (b.attr("[data-testid=train-status]", "data-epochs-done")? != "0").then_some(())
    });
    let first = epoch_rows(&b)[0].clone();
    // Lose the device once epoch 1's checkpoint is saved (the run list shows it).
    let run = b.attr("[data-testid=train-status]", "data-run-id").unwrap();
    let row = run_row(&run);
    b.wait_for(120, "epoch 1's checkpoint", |b| (saved_epochs(b, &row)? > 0).then_some(()));
    click_when_enabled(&b, "lose-device", 10);
    b.wait_for(120, "the pause after the lost device", |b| {
        (train_status(b) == "interrupted").then_some(())
    });
    let msg = b.text("train-error");
    assert!(msg.contains("lost") && msg.contains("history kept"), "{msg}");
    assert_eq!(epoch_rows(&b)[0], first, "the history is kept");
    click_when_enabled(&b, "continue-cpu", 10);
    wait_train_done(&b, 300, "the run to finish on the CPU");
    let rows = epoch_rows(&b);
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(rows[0], first, "epoch 1 came from the checkpoint, not trained again");
    let backend = b.js(&format!("return document.querySelector('[data-testid=run-list] tr[data-run-id=\"{run}\"]').textContent"), vec![]);
    assert!(
        backend.as_str().unwrap().contains("CPU"),
        "the run list says where it finished: {backend}"
    );
}

#[test]
fn a_lost_gpu_pauses_the_gan_and_it_continues_on_the_cpu() {
    let b = Browser::new(site());
    b.open("/?backend=webgpu&gan_subset=64&test_hooks=1");
    assert_eq!(wait_backend(&b), "webgpu");
    b.set_input("gan-epochs", "2");
    b.set_input("gan-batch", "32");
    click_when_enabled(&b, "gan-start", 60);
    b.wait_for(600, "a WebGPU epoch of the GAN", |b| {
        assert_ne!(gan_status(b), "failed", "{}", b.text("gan-error"));
        (b.attr("[data-testid=gan-status]", "data-epochs-done")? != "0").then_some(())
    });
    let run = b.attr("[data-testid=gan-status]", "data-run-id").unwrap();
    let row = run_row(&run);
    b.wait_for(120, "epoch 1's checkpoint", |b| (saved_epochs(b, &row)? > 0).then_some(()));
    click_when_enabled(&b, "gan-lose-device", 10);
    b.wait_for(120, "the pause after the lost device", |b| {
        (gan_status(b) == "interrupted").then_some(())
    });
    let msg = b.text("gan-error");
    assert!(msg.contains("lost") && msg.contains("history kept"), "{msg}");
    // The lost device's worker is ended, so its stopping loop's later words cannot overwrite
    // the pause (no sleep: the page says when the worker is gone).
    b.wait_for(30, "the old worker ended", |b| {
        b.attr("[data-testid=gan-status]", "data-worker").filter(|w| w == "ended")
    });
    assert_eq!(gan_status(&b), "interrupted", "{}", b.text("gan-error"));
    click_when_enabled(&b, "gan-continue-cpu", 10);
    b.wait_for(300, "the GAN to finish on the CPU", |b| {
        let s = gan_status(b);
        assert_ne!(s, "failed", "{}", b.text("gan-error"));
        (s == "done").then_some(())
    });
    assert_eq!(b.attr("[data-testid=gan-status]", "data-epochs-done").as_deref(), Some("2"));
    assert_eq!(
        b.attr("[data-testid=gan-gallery]", "data-snapshots").as_deref(),
        Some("2"),
        "epoch 1's snapshot came back with the run"
    );
    let listed = b.js(&format!("return document.querySelector('{row}').textContent"), vec![]);
    assert!(
        listed.as_str().unwrap().contains("CPU"),
        "the run list says where it finished: {listed}"
    );
}

/// The base model's class probabilities for the drawing, as the page computed them (f32 text).
fn base_probs(b: &Browser) -> Option<String> {
    b.attr("[data-testid=prediction-base]", "data-probs").filter(|p| !p.is_empty())
}

fn draw_a_one(b: &Browser) -> String {
    let pad = b.wait_for(60, "the drawing pad", |b| b.find("draw-pad"));
    // Pointer actions land where the element is on screen: bring it into view first.
    b.reveal(&pad);
    b.js(
        "document.querySelector('[data-testid=draw-pad]').scrollIntoView({block: 'center'})",
        vec![],
    );
    b.stroke(&pad, "mouse", &[(0, -100), (0, -50), (0, 0), (0, 50), (0, 100)]);
    b.wait_for(30, "the base model's probabilities", base_probs)
}

#[test]
fn exported_weights_import_back_bit_identically_and_a_corrupt_file_is_refused() {
    let b = open_ready("/?backend=cpu&train_subset=2000");
    b.wait_for(60, "the pretrained base", |b| {
        b.text("base-source").contains("pretrained").then_some(())
    });
    // Train a model of our own, so the export is not the shipped file.
    b.set_input("train-epochs", "1");
    click_when_enabled(&b, "train-start", 30);
    b.wait_for(300, "training to finish", |b| (train_status(b) == "done").then_some(()));
    b.wait_for(60, "the trained model as the base", |b| {
        b.text("base-source").contains("you trained").then_some(())
    });
    // One drawing for the whole test: every model below predicts on the very same pixels.
    let trained = draw_a_one(&b);
    let bytes: Vec<u8> = serde_json::from_value(b.js(
        "return fetch(document.querySelector('[data-testid=export-weights]').href).then(r => r.arrayBuffer()).then(a => Array.from(new Uint8Array(a)))",
        vec![],
    ))
    .unwrap();
    assert!(bytes.len() > 84_060 * 4, "the export holds every weight: {} bytes", bytes.len());
    let dir = std::env::temp_dir().join(format!("mnist-lab-weights-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("mine.safetensors");
    std::fs::write(&file, &bytes).unwrap();

    // Clear: load the shipped model over it.
    let shipped_file = dist_dir().join("models/mlp-784-100-50-10.safetensors");
    b.send_keys(&b.find("import-weights").unwrap(), shipped_file.to_str().unwrap());
    b.wait_for(60, "the shipped model as the base", |b| {
        b.text("base-source").contains("imported from mlp-784-100-50-10").then_some(())
    });
    let shipped = b.wait_for(30, "new probabilities", |b| base_probs(b).filter(|p| *p != trained));

    // A corrupt file and a file of the wrong shapes are refused; the model stays.
    let corrupt = dir.join("corrupt.safetensors");
    std::fs::write(&corrupt, &bytes[..bytes.len() / 2]).unwrap();
    b.send_keys(&b.find("import-weights").unwrap(), corrupt.to_str().unwrap());
    let err = b.wait_for(30, "the import error", |b| {
        Some(b.text("weights-error")).filter(|t| !t.is_empty())
    });
    assert!(err.contains("corrupt.safetensors") && err.contains("current model stays"), "{err}");
    let judge =
        std::fs::read(dist_dir().join("models/fashion-judge-784-256-64-10.safetensors")).unwrap();
    let wrong = dir.join("judge.safetensors");
    std::fs::write(&wrong, judge).unwrap();
    b.send_keys(&b.find("import-weights").unwrap(), wrong.to_str().unwrap());
    let err = b.wait_for(30, "the shape error", |b| {
        Some(b.text("weights-error")).filter(|t| t.contains("judge.safetensors"))
    });
    assert!(err.contains("do not fit"), "{err}");
    assert!(
        b.text("base-source").contains("imported from mlp-784-100-50-10"),
        "the current model stays"
    );
    assert_eq!(base_probs(&b).as_deref(), Some(shipped.as_str()));

    // Import the export: bit-identical predictions.
    b.send_keys(&b.find("import-weights").unwrap(), file.to_str().unwrap());
    b.wait_for(60, "the imported model as the base", |b| {
        b.text("base-source").contains("imported from mine.safetensors").then_some(())
    });
    assert!(
        b.find("weights-error").is_none(),
        "no error after a good import: {}",
        b.text("weights-error")
    );
    let back = b.wait_for(30, "the imported model's probabilities", |b| {
        base_probs(b).filter(|p| *p != shipped)
    });
    assert_eq!(back, trained, "bit-identical predictions after export and import");
}

#[test]
fn the_static_site_works_from_a_sub_path_under_its_csp() {
    let site_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("site");
    assert!(site_dir.join("init.js").is_file(), "build the hosted site first: make dist");
    let host = serve_dir_at(site_dir.clone(), "/sub/mnist-lab");
    let b = Browser::new(&host);
    b.open("/sub/mnist-lab/?backend=cpu&smoke_steps=20&train_subset=1000");
    assert_eq!(wait_backend(&b), "cpu");
    wait_dataset(&b, "mnist");
    wait_dataset(&b, "fashion-mnist");
    let csp = b.js(
        "return document.querySelector('meta[http-equiv=Content-Security-Policy]').content",
        vec![],
    );
    assert!(csp.as_str().unwrap().contains("script-src 'self' 'wasm-unsafe-eval'"), "{csp}");
    // The policy reaches the workers too: the site ships it as HTTP headers for hosts that read
    // `_headers`, and worker-boot.js refuses a module from another origin by itself.
    let headers =
        std::fs::read_to_string(site_dir.join("_headers")).expect("make dist writes _headers");
    assert!(headers.contains(csp.as_str().unwrap()), "{headers}");
    let refused = b.js(
        "return new Promise(resolve => {
           const w = new Worker('worker-boot.js?js=' + encodeURIComponent('https://example.invalid/glue.js') + '&wasm=x', {type: 'module'});
           w.onerror = e => { e.preventDefault(); resolve('refused'); };
         })",
        vec![],
    );
    assert_eq!(refused, serde_json::json!("refused"));
    let (first, last, _) = smoke_train(&b, 300);
    assert!(last < first, "training works on the hosted build: {first} → {last}");
    // The workers start under the CSP, as module workers running the workers' module (the
    // site ships two: the page's and the workers', named by its hash in the page): the GAN
    // worker draws the shipped generator, the training worker trains and checkpoints.
    let mut wasm_files: Vec<String> = std::fs::read_dir(&site_dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().to_string()))
        .filter(|n| n.ends_with(".wasm"))
        .collect();
    wasm_files.sort();
    assert_eq!(wasm_files.len(), 2, "the page's module and the workers': {wasm_files:?}");
    let named =
        b.js("return document.querySelector('meta[name=mnist-lab-worker]').content", vec![]);
    let named = named.as_str().unwrap_or_default().trim_start_matches("./");
    assert!(
        wasm_files.contains(&format!("{named}_bg.wasm")),
        "the page names the workers' module it ships: {named} in {wasm_files:?}"
    );
    b.wait_for(120, "the pretrained GAN canvas", |b| b.find("gan-canvas"));
    b.set_input("train-epochs", "1");
    click_when_enabled(&b, "train-start", 30);
    wait_train_done(&b, 300, "training in the worker");
    b.wait_for(60, "the saved run", |b| {
        (b.attr("[data-testid=run-list]", "data-count")? == "1").then_some(())
    });
    b.wait_for(120, "the pretrained classifier", |b| {
        b.attr("[data-testid=factorized-params]", "data-params")
    });
    let urls: Vec<String> = serde_json::from_value(
        b.js("return performance.getEntriesByType('resource').map(e => e.name)", vec![]),
    )
    .unwrap();
    assert!(urls.iter().any(|u| u.ends_with(".wasm")) && urls.iter().any(|u| u.contains("/data/")));
    for u in &urls {
        assert!(
            u.starts_with(&format!("{host}/sub/mnist-lab/")),
            "every request stays on the origin and under the sub-path: {u}"
        );
    }
    b.open("/");
    assert!(b.text_of_page().contains("not found"), "nothing is served outside the sub-path");
}

#[test]
fn a_share_link_restores_the_slider_and_the_settings() {
    let b = open_ready("/?backend=cpu");
    let params_at = |b: &Browser| b.attr("[data-testid=factorized-params]", "data-params");
    b.wait_for(120, "the 2× model", |b| params_at(b).filter(|p| p == "48410"));
    b.set_input("rank-factor", "8");
    b.wait_for(60, "the 8× model", |b| params_at(b).filter(|p| p == "11728"));
    b.set_input("train-lr", "0.003");
    b.set_input("gan-epochs", "7");
    // The drawing pad's two models, swapped.
    pick_model(&b, "draw-model-a", "svd");
    pick_model(&b, "draw-model-b", "base");
    b.click(&b.find("view-exercise2").unwrap());
    b.click(&b.find("share-copy").unwrap());
    let link = b.wait_for(10, "the share link", |b| {
        value_of(b, "share-link").filter(|l| l.contains("ranks="))
    });
    assert!(
        link.contains("factor=8")
            && link.contains("lr=0.003")
            && link.contains("gan_epochs=7")
            && link.contains("pad=svd%2Cbase")
            && link.ends_with("#/exercise2"),
        "{link}"
    );
    let path = link.strip_prefix(site()).expect("a link to this site").to_string();

    let c = Browser::new(site());
    c.open(&path);
    wait_backend(&c);
    c.wait_for(120, "the linked 8× model", |c| params_at(c).filter(|p| p == "11728"));
    assert_eq!(
        value_of(&c, "rank-factor").as_deref(),
        Some("8"),
        "the slider is where the link put it"
    );
    assert_eq!(value_of(&c, "train-lr").as_deref(), Some("0.003"));
    assert_eq!(value_of(&c, "gan-epochs").as_deref(), Some("7"));
    assert_eq!(shown_views(&c), ["exercise2"], "the link's view");
    assert_eq!(value_of(&c, "draw-model-a").as_deref(), Some("svd"), "the pad's models");
    assert_eq!(value_of(&c, "draw-model-b").as_deref(), Some("base"));
}

/// The views shown (`[data-view]` sections not hidden).
fn shown_views(b: &Browser) -> Vec<String> {
    let v = b.js(
        "return [...document.querySelectorAll('[data-view]')].filter(v => !v.hidden && v.offsetParent !== null).map(v => v.dataset.view)",
        vec![],
    );
    v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
}

#[test]
fn views_are_routes_the_tabs_back_and_links_follow() {
    let b = open_ready("/?backend=cpu");
    assert_eq!(shown_views(&b), ["overview"], "a link without a view opens the overview");
    assert_eq!(b.attr("[data-testid=view-overview]", "aria-current").as_deref(), Some("page"));
    b.click(&b.find("view-exercise2").unwrap());
    b.wait_for(10, "the exercise 2 view", |b| (shown_views(b) == ["exercise2"]).then_some(()));
    assert_eq!(b.js("return location.hash", vec![]).as_str(), Some("#/exercise2"));
    assert_eq!(b.attr("[data-testid=view-exercise2]", "aria-current").as_deref(), Some("page"));
    assert_eq!(b.attr("[data-testid=view-overview]", "aria-current"), None);

    // Diagnostics: the backend, the adapter and the storage, and the smoke test moved there.
    b.click(&b.find("view-diagnostics").unwrap());
    b.wait_for(10, "the diagnostics view", |b| (shown_views(b) == ["diagnostics"]).then_some(()));
    assert!(
        b.text("diagnostics-backend").starts_with("CPU (Flex)"),
        "{}",
        b.text("diagnostics-backend")
    );
    // The adapter is named, and called software exactly when it is one (any adapter, #34).
    let named = b.attr("[data-testid=backend-banner]", "data-adapter").unwrap_or_default();
    let adapter = b.text("diagnostics-adapter");
    assert!(!named.is_empty() && adapter.starts_with(&named), "{adapter} vs {named}");
    assert_eq!(adapter.contains("(software"), is_software_adapter(&named), "{adapter}");
    b.wait_for(30, "the storage estimate", |b| {
        Some(b.text("diagnostics-storage")).filter(|t| t.contains(" used of "))
    });
    let smoke = b.find("smoke-train").expect("the smoke test");
    assert_eq!(
        b.js("return arguments[0].closest('[data-view]').dataset.view", vec![serde_json::json!({"element-6066-11e4-a52e-4f735466cecf": support::element_id(&smoke)})]).as_str(),
        Some("diagnostics")
    );

    // Both backends timed on this device, the faster named.
    b.click(&b.find("diagnostics-bench-run").unwrap());
    let (cpu, gpu) = b.wait_for(300, "both backends measured", |b| {
        let sel = "[data-testid=diagnostics-bench]";
        (b.attr(sel, "data-running")? == "false").then_some(())?;
        let ms = |name| b.attr(sel, name)?.parse::<f64>().ok();
        Some((ms("data-cpu-ms")?, ms("data-webgpu-ms")?))
    });
    assert!(cpu > 0.0 && gpu > 0.0, "{cpu} {gpu}");
    let verdict = b.text("diagnostics-bench-verdict");
    let faster = if gpu < cpu { "WebGPU is" } else { "the CPU is" };
    assert!(verdict.starts_with(faster), "{verdict} ({cpu} vs {gpu} ms)");
    eprintln!("diagnostics: CPU {cpu} ms/step, WebGPU {gpu} ms/step");

    // Back returns to the previous view, Forward comes back.
    b.js("history.back()", vec![]);
    b.wait_for(10, "Back to exercise 2", |b| (shown_views(b) == ["exercise2"]).then_some(()));
    b.js("history.forward()", vec![]);
    b.wait_for(10, "Forward to diagnostics", |b| (shown_views(b) == ["diagnostics"]).then_some(()));

    // A link to a view opens it; the one-page layout's old anchors still land in their view.
    for (path, view) in [("/?backend=cpu#/runs", "runs"), ("/?backend=cpu#exercise1", "exercise1")]
    {
        let c = Browser::new(site());
        c.open(path);
        wait_backend(&c);
        assert_eq!(shown_views(&c), [view], "{path}");
    }
}

/// An input's current value (the property, not the attribute).
fn value_of(b: &Browser, testid: &str) -> Option<String> {
    b.js("const e = document.querySelector(`[data-testid=${arguments[0]}]`); return e ? e.value : null;", vec![serde_json::json!(testid)])
        .as_str()
        .map(str::to_string)
}

#[test]
fn a_reloaded_gan_run_resumes_with_its_history_and_gallery() {
    let path = "/?backend=cpu&gan_subset=512";
    let b = Browser::new(site());
    b.open(path);
    wait_backend(&b);
    wait_dataset(&b, "fashion-mnist");
    b.set_input("gan-epochs", "3");
    b.set_input("gan-batch", "64");
    click_when_enabled(&b, "gan-start", 60);
    b.wait_for(300, "the first GAN epoch", |b| {
        assert_ne!(gan_status(b), "failed", "{}", b.text("gan-error"));
        (b.attr("[data-testid=gan-status]", "data-epochs-done")? != "0").then_some(())
    });
    let run_id = b.wait_for(30, "the stored run", |b| {
        b.attr("[data-testid=gan-status]", "data-run-id").filter(|r| r.starts_with("gan-"))
    });
    let row = run_row(&run_id);
    // The checkpoint is written after the epoch's snapshot: wait for it, then reload.
    b.wait_for(120, "the epoch's checkpoint", |b| (saved_epochs(b, &row)? > 0).then_some(()));
    b.open(path);
    wait_backend(&b);
    let saved: usize = b.wait_for(30, "the GAN run in the run list", |b| saved_epochs(b, &row));
    assert!(saved >= 1, "{saved}");
    b.js(&format!("document.querySelector('{row} [data-testid=run-resume]').click()"), vec![]);
    b.wait_for(300, "the resumed GAN run to finish", |b| {
        assert_ne!(gan_status(b), "failed", "{}", b.text("gan-error"));
        (gan_status(b) == "done").then_some(())
    });
    assert_eq!(
        b.attr("[data-testid=gan-status]", "data-epochs-done").as_deref(),
        Some("3"),
        "the history before the reload is kept"
    );
    assert_eq!(b.attr("[data-testid=gan-loss-chart]", "data-points").as_deref(), Some("3"));
    assert_eq!(
        value_of(&b, "gan-epochs").as_deref(),
        Some("3"),
        "the run's settings are back in the form"
    );
    assert_eq!(b.attr(&row, "data-finished").as_deref(), Some("true"));
    assert_eq!(
        b.attr("[data-testid=gan-gallery]", "data-snapshots").as_deref(),
        Some("2"),
        "epoch 1 (saved before the reload) and epoch 3"
    );
}

/// #17: no hook. The highest learning rate the form allows (10) really blows the loss up in the
/// first steps; the run pauses with the divergence message instead of training on a wrecked
/// model, and continues from its start with a sane rate.
#[test]
fn a_learning_rate_of_10_truly_diverges_and_the_run_pauses() {
    let b = open_ready("/?backend=cpu&train_subset=2000");
    b.set_input("train-epochs", "2");
    b.set_input("train-lr", "10");
    click_when_enabled(&b, "train-start", 30);
    b.wait_for(120, "the automatic pause", |b| {
        let s = train_status(b);
        assert_ne!(s, "done", "lr 10 trained to the end without a word");
        (s == "halted").then_some(())
    });
    let msg = b.text("train-error");
    assert!(msg.contains("diverged") && msg.contains("training loss became"), "{msg}");
    assert!(epoch_rows(&b).is_empty(), "no epoch of the wrecked model is kept");
    b.set_input("train-lr", "0.001");
    click_when_enabled(&b, "continue-cpu", 10);
    wait_train_done(&b, 300, "the run with a sane rate");
    assert_eq!(epoch_rows(&b).len(), 2);
}

#[test]
fn a_diverged_run_pauses_at_its_last_checkpoint_and_resumes_with_a_lower_rate() {
    let b = open_ready("/?backend=cpu&train_subset=3000&test_hooks=1");
    b.set_input("train-epochs", "12");
    click_when_enabled(&b, "train-start", 30);
    let run_id = b.wait_for(60, "the stored run", |b| {
        b.attr("[data-testid=train-status]", "data-run-id").filter(|r| !r.is_empty())
    });
    let row = run_row(&run_id);
    b.wait_for(120, "a saved epoch", |b| (saved_epochs(b, &row)? > 0).then_some(()));
    click_when_enabled(&b, "diverge", 10);
    b.wait_for(60, "the automatic pause", |b| (train_status(b) == "halted").then_some(()));
    let msg = b.text("train-error");
    assert!(
        msg.contains("diverged")
            && msg.contains("last good checkpoint")
            && msg.contains("lower the learning rate"),
        "{msg}"
    );
    let kept = epoch_rows(&b).len();
    assert_eq!(saved_epochs(&b, &row), Some(kept), "the pause is at the last saved epoch");
    b.set_input("train-lr", "0.0005");
    click_when_enabled(&b, "continue-cpu", 10);
    wait_train_done(&b, 300, "the resumed run to finish");
    assert_eq!(epoch_rows(&b).len(), 12);
    assert!(
        b.text("run-list").contains("lr 0.0005"),
        "the run goes on with the lower rate: {}",
        b.text("run-list")
    );
}

#[test]
fn a_full_disk_is_reported_and_training_goes_on() {
    let b = open_ready("/?backend=cpu&train_subset=2000");
    // Chromium's own quota override: this origin may store 64 kB, far less than a checkpoint.
    let r = b.cdp(
        "Storage.overrideQuotaForOrigin",
        serde_json::json!({"origin": site(), "quotaSize": 65536}),
    );
    assert!(r.get("error").is_none(), "{r}");
    b.set_input("train-epochs", "2");
    click_when_enabled(&b, "train-start", 30);
    let warning = b.wait_for(120, "the storage warning", |b| {
        Some(b.text("train-warning")).filter(|t| !t.is_empty())
    });
    assert!(warning.contains("quota exceeded") && warning.contains("delete old runs"), "{warning}");
    b.wait_for(300, "training to finish anyway", |b| (train_status(b) == "done").then_some(()));
    assert_eq!(epoch_rows(&b).len(), 2);
}

fn pick_model(b: &Browser, testid: &str, key: &str) {
    b.js(
        &format!(
            "const s = document.querySelector('[data-testid={testid}]'); s.value = '{key}'; \
             s.dispatchEvent(new Event('change', {{bubbles: true}}))"
        ),
        vec![],
    );
}

fn second_probs(b: &Browser) -> Option<String> {
    b.attr("[data-testid=prediction-compressed]", "data-probs").filter(|p| !p.is_empty())
}

/// #16: a refinement's model comes back to the page. The pad then compares the base with it by
/// default, its prediction comes from its own weights (not the slider's SVD model), it exports
/// as safetensors and imports back with identical probabilities, and a file that is not a
/// factorized model is refused with the models left as they were.
#[test]
fn a_refined_model_draws_exports_and_imports_back() {
    let b = open_ready("/?backend=cpu&train_subset=600");
    b.wait_for(120, "the 2× model", |b| {
        (b.attr("[data-testid=factorized-params]", "data-params")? == "48410").then_some(())
    });
    b.set_input("refine-epochs", "1");
    click_when_enabled(&b, "preset-2", 30);
    b.wait_for(300, "the refined model", |b| {
        (b.attr("[data-testid=refined-models]", "data-count")? == "1").then_some(())
    });
    let selected = |testid: &str| {
        b.js(
            &format!(
                "const s = document.querySelector('[data-testid={testid}]'); \
                 return [s.value, s.selectedOptions[0].textContent]"
            ),
            vec![],
        )
    };
    assert_eq!(selected("draw-model-a")[0], "base");
    assert_eq!(
        selected("draw-model-b"),
        serde_json::json!(["refined-0", "refined 2× (50, 25, 5)"]),
        "after a refinement the pad compares the base with it"
    );
    // Its confusion matrix covers the test set.
    let cells = |b: &Browser| -> u64 {
        b.js("return [...document.querySelectorAll('[data-testid=refined-confusion-matrix] td')].reduce((s, td) => s + Number(td.dataset.count), 0)", vec![])
            .as_u64()
            .unwrap_or(0)
    };
    assert_eq!(cells(&b), 10_000, "the refined model's confusion matrix covers the test set");
    assert_eq!(
        b.attr("[data-testid=refined-confusion]", "data-model").as_deref(),
        Some("refined 2× (50, 25, 5)")
    );
    draw_a_one(&b);
    let refined = b.wait_for(30, "the refined model's probabilities", second_probs);
    pick_model(&b, "draw-model-b", "svd");
    let svd = b.wait_for(30, "the SVD model's probabilities", |b| {
        second_probs(b).filter(|p| *p != refined)
    });
    assert_ne!(svd, refined, "refining changed the model the pad uses");
    pick_model(&b, "draw-model-b", "refined-0");
    b.wait_for(30, "the refined probabilities again", |b| {
        second_probs(b).filter(|p| *p == refined)
    });

    // Export, then import the file back: a second entry with the very same probabilities.
    let bytes: Vec<u8> = serde_json::from_value(b.js(
        "return fetch(document.querySelector('[data-testid=export-refined]').href).then(r => r.arrayBuffer()).then(a => Array.from(new Uint8Array(a)))",
        vec![],
    ))
    .unwrap();
    let dir = std::env::temp_dir().join(format!("mnist-lab-refined-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("refined.safetensors");
    std::fs::write(&file, &bytes).unwrap();
    b.send_keys(&b.find("import-refined").unwrap(), file.to_str().unwrap());
    b.wait_for(60, "the imported model", |b| {
        (b.attr("[data-testid=refined-models]", "data-count")? == "2").then_some(())
    });
    assert_eq!(
        selected("draw-model-b"),
        serde_json::json!(["refined-1", "imported refined.safetensors (50, 25, 5)"])
    );
    b.wait_for(30, "the imported model's probabilities", |b| {
        second_probs(b).filter(|p| *p == refined)
    });
    // Scored in the page: the same accuracy and matrix as the worker's for the same weights.
    let accuracies = b.js("return [...document.querySelectorAll('[data-testid=refined-models] tr[data-accuracy]')].map(r => r.dataset.accuracy)", vec![]);
    assert_eq!(accuracies[0], accuracies[1], "{accuracies}");
    assert!(accuracies[0].as_str().is_some_and(|a| !a.is_empty()), "{accuracies}");
    assert_eq!(
        b.attr("[data-testid=refined-confusion]", "data-model").as_deref(),
        Some("imported refined.safetensors (50, 25, 5)")
    );
    assert_eq!(cells(&b), 10_000);

    // The base model's own export is no factorized model; a truncated export is no file at all.
    let base: Vec<u8> = serde_json::from_value(b.js(
        "return fetch(document.querySelector('[data-testid=export-weights]').href).then(r => r.arrayBuffer()).then(a => Array.from(new Uint8Array(a)))",
        vec![],
    ))
    .unwrap();
    let dense = dir.join("dense.safetensors");
    std::fs::write(&dense, &base).unwrap();
    b.send_keys(&b.find("import-refined").unwrap(), dense.to_str().unwrap());
    let err = b.wait_for(30, "the refusal", |b| {
        Some(b.text("import-refined-error")).filter(|t| t.contains("dense.safetensors"))
    });
    assert!(err.contains("first.weight is missing") && err.contains("stay"), "{err}");
    let cut = dir.join("cut.safetensors");
    std::fs::write(&cut, &bytes[..bytes.len() - 100]).unwrap();
    b.send_keys(&b.find("import-refined").unwrap(), cut.to_str().unwrap());
    let err = b.wait_for(30, "the refusal of a cut file", |b| {
        Some(b.text("import-refined-error")).filter(|t| t.contains("cut.safetensors"))
    });
    assert!(err.contains("not a weights file"), "{err}");
    assert_eq!(b.attr("[data-testid=refined-models]", "data-count").as_deref(), Some("2"));
    assert_eq!(second_probs(&b).as_deref(), Some(refined.as_str()), "the models stay");
    b.screenshot("refined");

    // After a reload, opening the finished refinement from the run list brings its model back,
    // predicting exactly as before.
    let path = "/?backend=cpu&train_subset=600";
    let run_id =
        b.attr("[data-testid=refine-status]", "data-run-id").expect("the refinement is saved");
    b.open(path);
    wait_backend(&b);
    wait_dataset(&b, "mnist");
    b.wait_for(120, "the 2× model", |b| {
        (b.attr("[data-testid=factorized-params]", "data-params")? == "48410").then_some(())
    });
    let row = run_row(&run_id);
    b.wait_for(60, "the refinement in the run list", |b| saved_epochs(b, &row));
    b.js(&format!("document.querySelector('{row} [data-testid=run-resume]').click()"), vec![]);
    b.wait_for(120, "the reopened refined model", |b| {
        (b.attr("[data-testid=refined-models]", "data-count")? == "1").then_some(())
    });
    assert_eq!(
        selected("draw-model-b"),
        serde_json::json!(["refined-0", "refined 2× (50, 25, 5)"])
    );
    draw_a_one(&b);
    b.wait_for(30, "the reopened model's probabilities", |b| {
        second_probs(b).filter(|p| *p == refined)
    });
    // The file exported before the reload imports into the fresh page with the same probabilities.
    b.send_keys(&b.find("import-refined").unwrap(), file.to_str().unwrap());
    b.wait_for(60, "the file imported after the reload", |b| {
        (b.attr("[data-testid=refined-models]", "data-count")? == "2").then_some(())
    });
    assert_eq!(selected("draw-model-b")[0], "refined-1");
    b.wait_for(30, "the imported model's probabilities after the reload", |b| {
        second_probs(b).filter(|p| *p == refined)
    });

    // The report knows what this refinement refined: with no classifier run saved, it is built
    // on the shipped model (its CLI history ships with it), this refinement and the sweep.
    assert_eq!(value_of(&b, "report-base").as_deref(), Some("shipped"));
    click_when_enabled(&b, "export-report", 30);
    b.wait_for(180, "the built report", |b| b.find("report-html"));
    let html = b.js("return fetch(document.querySelector('[data-testid=report-html]').href).then(r => r.text())", vec![]);
    let html = html.as_str().unwrap();
    assert!(html.contains("the shipped pretrained model, trained by"), "names its base");
    assert!(html.contains("2× compression"), "the refinement of the shipped model is in");
    assert!(html.contains("test accuracy after SVD against parameters"), "the sweep is in");
    assert!(
        html.contains("<tr><td>100</td><td>0.0022</td>"),
        "the base's 100 CLI epochs are in its table"
    );
    assert!(b.find("report-notes").is_none(), "nothing left out: {}", b.text("report-notes"));
}

/// Drops MNIST's test images with every label moved to the next class ((d + 1) mod 10) as the
/// user's own files: a model trained on them predicts the next class, which no model trained
/// on MNIST does.
fn drop_shifted_test_files(b: &Browser) {
    b.js(
        "const raw = f => fetch('data/mnist/' + f).then(r => new Response(r.body.pipeThrough(new DecompressionStream('gzip'))).arrayBuffer());
         Promise.all([raw('t10k-images-idx3-ubyte.gz'), raw('t10k-labels-idx1-ubyte.gz')]).then(([images, labels]) => {
           const l = new Uint8Array(labels);
           for (let i = 8; i < l.length; i++) l[i] = (l[i] + 1) % 10;
           const dt = new DataTransfer();
           dt.items.add(new File([images], 'shifted-images-idx3-ubyte'));
           dt.items.add(new File([l], 'shifted-labels-idx1-ubyte'));
           document.querySelector('.user-files').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
         })",
        vec![],
    );
    b.wait_for(60, "the shifted pair", |b| {
        b.attr("[data-testid=user-pair]", "data-count").filter(|c| c == "10000")
    });
}

/// #16 item 4: the user's files as the training set. A model trained on MNIST's test images
/// with shifted labels predicts the next class on MNIST's test set, so the job really used
/// them; the run list says so; reopening the run needs the same files, and says which.
#[test]
fn a_classifier_trains_on_the_users_files() {
    let b = open_ready("/?backend=cpu&train_subset=2000");
    drop_shifted_test_files(&b);
    pick_model(&b, "train-data", "mine");
    b.set_input("train-epochs", "2");
    click_when_enabled(&b, "train-start", 30);
    wait_train_done(&b, 300, "training on the user's files");
    let shifted: u64 = b
        .js("return [...document.querySelectorAll('[data-testid=confusion-matrix] td')].filter(td => Number(td.dataset.pred) === (Number(td.dataset.true) + 1) % 10).reduce((s, td) => s + Number(td.dataset.count), 0)", vec![])
        .as_u64()
        .unwrap();
    assert!(shifted > 3_000, "it learned the shifted labels: {shifted} of 10 000 one class up");
    let run_id = b.attr("[data-testid=train-status]", "data-run-id").expect("the run is saved");
    let row = run_row(&run_id);
    let listed = b.wait_for(30, "the run in the list", |b| {
        b.js(
            &format!("const r = document.querySelector('{row}'); return r ? r.textContent : null"),
            vec![],
        )
        .as_str()
        .map(str::to_string)
    });
    assert!(
        listed.contains(
            "on your files shifted-images-idx3-ubyte + shifted-labels-idx1-ubyte (10000 images)"
        ),
        "{listed}"
    );

    // After a reload the files are gone: reopening the run says which files it needs.
    b.open("/?backend=cpu&train_subset=2000");
    wait_backend(&b);
    b.wait_for(60, "the run in the list", |b| saved_epochs(b, &row));
    b.js(&format!("document.querySelector('{row} [data-testid=run-resume]').click()"), vec![]);
    let err =
        b.wait_for(60, "the refusal", |b| Some(b.text("train-error")).filter(|t| !t.is_empty()));
    assert!(
        err.contains("trained on your files shifted-images") && err.contains("load them"),
        "{err}"
    );
    // With the same files loaded again, it reopens.
    drop_shifted_test_files(&b);
    assert_eq!(train_status(&b), "failed", "the refused reopen");
    b.js(&format!("document.querySelector('{row} [data-testid=run-resume]').click()"), vec![]);
    // The refusal left the panel at "failed": wait for the new job to replace it.
    b.wait_for(60, "the reopen to start", |b| {
        ["starting", "running", "done"].contains(&train_status(b).as_str()).then_some(())
    });
    wait_train_done(&b, 120, "the reopened run");
    assert!(b.text("train-error").is_empty(), "{}", b.text("train-error"));
    assert_eq!(b.attr("[data-testid=train-status]", "data-run-id").as_deref(), Some(&*run_id));
}

/// The cells of a confusion matrix, summed (the hook is `{prefix}-matrix`).
fn matrix_total(b: &Browser, prefix: &str) -> u64 {
    b.js(&format!("return [...document.querySelectorAll('[data-testid={prefix}-matrix] td')].reduce((s, td) => s + Number(td.dataset.count), 0)"), vec![])
        .as_u64()
        .unwrap_or(0)
}

/// #16 items 4 and 5: a user's IDX pair is evaluated by every model of the pad, with a confusion
/// matrix that sums to its count; a drawing added to "my digits" is evaluated the same way and
/// stays in the browser across a reload; a damaged stored set is reported and left in place.
#[test]
fn user_files_and_my_digits_are_evaluated_by_every_model() {
    let b = open_ready("/?backend=cpu");
    let svd_acc = b.wait_for(120, "the SVD model's accuracy", |b| {
        Some(b.text("factorized-accuracy")).filter(|t| t.ends_with('%'))
    });
    b.js("localStorage.removeItem('mnist-lab-my-digits')", vec![]);
    // The bundled test files, dropped as the user's own: the base scores what the slider's
    // table says, on all 10 000.
    b.js(
        "const get = f => fetch('data/mnist/' + f).then(r => r.blob()).then(x => new File([x], f));
         Promise.all([get('t10k-images-idx3-ubyte.gz'), get('t10k-labels-idx1-ubyte.gz')]).then(files => {
           const dt = new DataTransfer();
           files.forEach(f => dt.items.add(f));
           document.querySelector('.user-files').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
         })",
        vec![],
    );
    b.wait_for(60, "the pairing", |b| {
        b.attr("[data-testid=user-pair]", "data-count").filter(|c| c == "10000")
    });
    let table = b.wait_for(120, "the evaluation of the files", |b| {
        Some(b.text("user-eval")).filter(|t| t.contains("of 10000"))
    });
    assert_eq!(value_of(&b, "user-eval-set").as_deref(), Some("files"));
    assert!(table.contains("base model") && table.contains("SVD at the sliders' ranks"), "{table}");
    assert_eq!(matrix_total(&b, "user-eval-confusion"), 10_000);
    let accuracies = b.js("return [...document.querySelectorAll('[data-testid=user-eval] tr[data-accuracy]')].map(r => Number(r.dataset.accuracy))", vec![]);
    let svd = accuracies[1].as_f64().unwrap();
    assert!(
        (svd * 100.0 - percent(&svd_acc)).abs() < 0.025,
        "the SVD model scores on the same images what the slider says: {svd} vs {svd_acc}"
    );

    // My digits: a drawn "1", labelled, is one digit evaluated by every model.
    draw_a_one(&b);
    pick_model(&b, "my-digit-label", "1");
    click_when_enabled(&b, "my-digit-add", 30);
    b.wait_for(10, "the kept digit", |b| {
        b.attr("[data-testid=my-digits]", "data-count").filter(|c| c == "1")
    });
    pick_model(&b, "user-eval-set", "digits");
    let rows =
        "return document.querySelectorAll('[data-testid=user-eval] tr[data-accuracy]').length";
    b.wait_for(60, "the evaluation of my digits", |b| {
        (b.attr("[data-testid=user-eval]", "data-count")? == "1"
            && b.js(rows, vec![]).as_u64()? >= 2)
            .then_some(())
    });
    let table = b.text("user-eval");
    assert!(table.contains("base model"), "{table}");
    assert_eq!(matrix_total(&b, "user-eval-confusion"), 1);
    assert_eq!(
        b.js("return document.querySelector('[data-testid=user-eval-confusion-matrix] td[data-true=\"1\"][data-count=\"1\"]') !== null", vec![]),
        serde_json::json!(true),
        "the digit counts under its label, 1"
    );

    // Kept across a reload; a damaged record is reported and stays stored for the user to clear.
    b.open("/?backend=cpu");
    b.wait_for(60, "my digits after a reload", |b| {
        b.attr("[data-testid=my-digits]", "data-count").filter(|c| c == "1")
    });
    b.js("localStorage.setItem('mnist-lab-my-digits', '{\"version\":1,\"digits\":[{\"label\":12,\"pixels\":\"00\"}]}')", vec![]);
    b.open("/?backend=cpu");
    let err = b.wait_for(60, "the damaged set's message", |b| {
        Some(b.text("my-digits-error")).filter(|t| !t.is_empty())
    });
    assert!(err.contains("label 12") && err.contains("until you clear"), "{err}");
    assert_eq!(
        b.js("return localStorage.getItem('mnist-lab-my-digits').includes('\"label\":12')", vec![]),
        serde_json::json!(true),
        "nothing is overwritten before the user clears it"
    );
    click_when_enabled(&b, "my-digits-clear", 30);
    assert_eq!(b.attr("[data-testid=my-digits]", "data-count").as_deref(), Some("0"));
    b.screenshot("user-eval");
}

fn percent(text: &str) -> f64 {
    text.trim().trim_end_matches('%').parse().unwrap_or_else(|_| panic!("not a percentage: {text}"))
}

/// #16: the budget rank rule spends no more parameters than k = int(n/f) and, at 8× (where the
/// seed leaves the output layer at rank 1), its SVD model is more accurate; the sweep plots both.
#[test]
fn the_budget_rank_rule_beats_the_seed_rule_at_8x_within_its_budget() {
    let b = open_ready("/?backend=cpu&factor=8");
    let seed_params: usize = b
        .wait_for(120, "the 8× model", |b| {
            b.attr("[data-testid=factorized-params]", "data-params").filter(|p| p == "11728")
        })
        .parse()
        .unwrap();
    let seed_acc = b.wait_for(60, "its accuracy", |b| {
        Some(b.text("factorized-accuracy")).filter(|t| t.ends_with('%'))
    });
    pick_model(&b, "rank-rule", "budget");
    let budget_params: usize = b
        .wait_for(60, "the budget rule's model", |b| {
            b.attr("[data-testid=factorized-params]", "data-params").filter(|p| p != "11728")
        })
        .parse()
        .unwrap();
    let budget_acc = b.wait_for(60, "its accuracy", |b| {
        Some(b.text("factorized-accuracy")).filter(|t| t.ends_with('%') && *t != seed_acc)
    });
    assert!(budget_params <= seed_params, "{budget_params} > {seed_params}");
    assert!(percent(&budget_acc) >= percent(&seed_acc), "budget {budget_acc} vs seed {seed_acc}");
    b.wait_for(120, "the sweep with both rules", |b| {
        b.js("const s = document.querySelector('[data-testid=sweep-plot]'); return !!s && s.innerHTML.includes('same budget') && s.innerHTML.includes('seed rule')", vec![])
            .as_bool()
            .filter(|&ok| ok)
    });
    let url = b.js("return location.search", vec![]);
    assert!(url.as_str().unwrap().contains("rank_rule=budget"), "shareable: {url}");
}

/// Writes `text` under `key` in the page's run store, as an older or another page might have.
fn put_raw_record(b: &Browser, key: &str, text: &str) {
    let done = b.js(
        "const [key, text] = arguments;
         return new Promise((resolve, reject) => {
           const open = indexedDB.open('mnist-lab', 1);
           open.onupgradeneeded = () => { open.result.createObjectStore('runs'); open.result.createObjectStore('checkpoints'); };
           open.onsuccess = () => {
             const tx = open.result.transaction(['runs'], 'readwrite');
             tx.objectStore('runs').put(text, key);
             tx.oncomplete = () => { open.result.close(); resolve(true); };
             tx.onerror = () => reject(tx.error);
           };
           open.onerror = () => reject(open.error);
         })",
        vec![serde_json::json!(key), serde_json::json!(text)],
    );
    assert_eq!(done, serde_json::json!(true));
}

/// #17: stored runs never vanish. A record an older page wrote with a NaN loss (`null`) is
/// listed; a damaged one and one from a newer page are listed as unreadable, with the reason,
/// and Delete removes them.
/// #17: the training worker fetches only from its own site, whatever the page's policy allows
/// (a `<meta>` CSP does not govern workers): worker-boot.js refuses another origin.
#[test]
fn the_worker_fetches_only_from_its_own_site() {
    let b = Browser::new(site());
    b.open("/?backend=cpu");
    wait_backend(&b);
    let said = b.js(
        "return new Promise(resolve => {
           const w = new Worker('worker-boot.js?js=__probe/fetch-elsewhere.js&wasm=none', {type: 'module'});
           w.onmessage = e => resolve(e.data);
           w.onerror = e => { e.preventDefault(); resolve('error: ' + e.message); };
         })",
        vec![],
    );
    let said = said.as_str().unwrap_or_default().to_string();
    assert!(
        said.starts_with("refused: the training worker fetches only this site's files"),
        "{said}"
    );
}

#[test]
fn every_stored_record_is_listed_even_unreadable_ones() {
    let b = open_ready("/?backend=cpu");
    let legacy = r#"{"id":"train-1000","spec":{"Classifier":{"config":{"epochs":3,"batch_size":128,"lr":0.001,"seed":1,"schedule":"Cosine","weight_decay":0.0001},"subset":null}},"backend":"Cpu","created_ms":1000,"updated_ms":2000,"epochs_done":1,"finished":false,"history":[{"epoch":1,"train_loss":null,"train_acc":0.5,"test_loss":null,"test_acc":0.4}],"gan_history":[],"snapshots":[],"note":"diverged"}"#;
    put_raw_record(&b, "train-1000", legacy);
    put_raw_record(&b, "train-1001", "{not json");
    put_raw_record(&b, "train-1002", &legacy.replace(r#"{"id""#, r#"{"schema":99,"id""#));
    b.open("/?backend=cpu");
    wait_backend(&b);
    let row = run_row("train-1000");
    b.wait_for(60, "the legacy record in the list", |b| saved_epochs(b, &row));
    let listed = b.text("run-list");
    assert!(listed.contains("epoch 1 of 3 — diverged"), "{listed}");
    let bad = b.wait_for(30, "the unreadable records", |b| {
        b.attr("[data-testid=run-unreadable]", "data-count").filter(|c| c == "2")
    });
    assert_eq!(bad, "2");
    let text = b.text("run-unreadable");
    assert!(
        text.contains("train-1001") && text.contains("unreadable (not a readable record"),
        "{text}"
    );
    assert!(
        text.contains("train-1002")
            && text.contains("newer version of MNIST Lab (record format 99"),
        "{text}"
    );
    b.js("document.querySelector('[data-testid=run-unreadable] tr[data-run-id=\"train-1001\"] [data-testid=run-delete]').click()", vec![]);
    b.wait_for(30, "one unreadable record left", |b| {
        b.attr("[data-testid=run-unreadable]", "data-count").filter(|c| c == "1")
    });
    // A readable legacy record deletes like any other.
    b.js(&format!("document.querySelector('{row} [data-testid=run-delete]').click()"), vec![]);
    b.wait_for(30, "the legacy record deleted", |b| {
        b.js(&format!("return document.querySelector('{row}') === null"), vec![])
            .as_bool()
            .filter(|&g| g)
    });
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            copy_dir(&src, &dst)
        } else {
            std::fs::copy(&src, &dst).map(|_| ()).unwrap()
        }
    }
}

fn slider_accuracy(b: &Browser, what: &str) -> String {
    b.wait_for(120, what, |b| Some(b.text("factorized-accuracy")).filter(|t| t.ends_with('%')))
}

/// #18 item 3: after a first visit the hosted site opens with the host gone and the network
/// offline (its service worker serves the shell, the model and the test set), says that it is
/// offline, and a corrupted cached data file is caught by its SHA-256 and fetched again.
#[test]
fn the_hosted_site_opens_offline_and_refetches_a_corrupted_file() {
    let site_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("site");
    assert!(site_dir.join("sw.js").is_file(), "build the hosted site first: make dist");
    // A copy the test can take away, as a host that goes down.
    let tmp = std::env::temp_dir().join(format!("mnist-lab-offline-{}", std::process::id()));
    let (up, down) = (tmp.join("up"), tmp.join("down"));
    let _ = std::fs::remove_dir_all(&tmp);
    copy_dir(&site_dir, &up);
    let host = serve_dir_at(up.clone(), "/sub/mnist-lab");
    let b = Browser::new(&host);
    let page = "/sub/mnist-lab/?backend=cpu";
    b.open(page);
    wait_backend(&b);
    let online = slider_accuracy(&b, "the slider's accuracy online");
    b.wait_for(180, "the service worker in control", |b| {
        b.js(
            "return navigator.serviceWorker.controller ? navigator.serviceWorker.controller.state : null",
            vec![],
        )
        .as_str()
        .filter(|s| *s == "activated")
        .map(String::from)
    });
    let labels = "data/mnist/t10k-labels-idx1-ubyte.gz";
    let cached_len = |b: &Browser| {
        b.js(
            "return caches.open('mnist-lab-files').then(c => c.match(new URL(arguments[0], location.href).href)).then(r => r ? r.arrayBuffer().then(a => a.byteLength) : null)",
            vec![serde_json::json!(labels)],
        )
        .as_u64()
    };
    let real_len = std::fs::metadata(up.join(labels)).unwrap().len();
    assert_eq!(cached_len(&b), Some(real_len), "the first screen's files are cached at install");
    assert!(b.find("offline-banner").is_none(), "no offline banner online");

    // The host goes down and the browser goes offline: the page still opens and works.
    std::fs::rename(&up, &down).unwrap();
    b.cdp("Network.enable", serde_json::json!({}));
    let offline = |on: bool| {
        b.cdp(
            "Network.emulateNetworkConditions",
            serde_json::json!({"offline": on, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}),
        )
    };
    offline(true);
    b.open(page);
    wait_backend(&b);
    assert_eq!(slider_accuracy(&b, "the slider's accuracy offline"), online);
    let banner = b.wait_for(30, "the offline banner", |b| {
        b.find("offline-banner").map(|_| b.text("offline-banner"))
    });
    assert!(banner.contains("Offline"), "{banner}");
    // The workers start offline too (worker-boot.js from the cache, with its query intact): the
    // GAN worker draws the shipped generator.
    b.wait_for(120, "the pretrained GAN canvas offline", |b| b.find("gan-canvas"));
    b.screenshot("offline");

    // Back online, with the cached test labels corrupted: the worker notices by the hash and
    // fetches them again; the page never sees the bad bytes.
    std::fs::rename(&down, &up).unwrap();
    offline(false);
    assert_eq!(
        b.js(
            "return caches.open('mnist-lab-files').then(c => c.put(new URL(arguments[0], location.href).href, new Response('garbage'))).then(() => 'ok')",
            vec![serde_json::json!(labels)],
        ),
        serde_json::json!("ok")
    );
    assert_eq!(cached_len(&b), Some(7), "the corruption is in place");
    b.open(page);
    wait_backend(&b);
    assert_eq!(slider_accuracy(&b, "the slider's accuracy after the corruption"), online);
    assert_eq!(cached_len(&b), Some(real_len), "the corrupted copy was replaced");
    let _ = std::fs::remove_dir_all(&tmp);
}

/// #18: the workers' module loads apart from the page's. One that fails to load (offline, or a
/// deploy that replaced it) is reported, and the next job starts a fresh worker; before, the
/// page kept the dead worker and queued every command behind it, so the job never started.
#[test]
fn a_workers_module_that_fails_to_load_is_reported_and_the_next_job_starts_afresh() {
    let tmp = std::env::temp_dir().join(format!("mnist-lab-noworker-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    copy_dir(&dist_dir(), &tmp);
    let module = std::fs::read_dir(&tmp)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("mnist-lab-worker-") && name.ends_with("_bg.wasm")
        })
        .expect("dist/ ships the workers' module");
    let hidden = module.with_extension("hidden");
    std::fs::rename(&module, &hidden).unwrap();
    let b = Browser::new(&serve_dir(tmp.clone()));
    b.open("/?backend=cpu&smoke_steps=3");
    wait_backend(&b);
    click_when_enabled(&b, "smoke-train", 60);
    let error = b.wait_for(120, "the worker's failure", |b| {
        b.find("smoke-error").map(|_| b.text("smoke-error"))
    });
    assert!(error.contains("training worker failed"), "{error}");
    // The GAN panel's worker (started once the first screen works) failed the same way.
    let gan = b.wait_for(120, "the GAN panel's failure", |b| {
        b.find("gan-error").map(|_| b.text("gan-error"))
    });
    assert!(gan.contains("training worker failed"), "{gan}");
    assert!(b.find("gan-canvas").is_none(), "no preview without the workers' module");
    // The module is back (the host recovered): the next smoke train starts a worker that loads it.
    std::fs::rename(&hidden, &module).unwrap();
    let (first, last, steps) = smoke_train(&b, 300);
    assert_eq!(steps, 3.0, "the smoke train ran in a fresh worker");
    assert!(first.is_finite() && last.is_finite());
    // So does the GAN panel's next request: the CNN's shipped generator draws. A panel that kept
    // its dead worker would queue the request behind it for ever.
    b.js("const s = document.querySelector('[data-testid=gan-arch]'); s.value = 'cnn'; s.dispatchEvent(new Event('change', {bubbles: true}));", vec![]);
    b.wait_for(120, "the CNN's shipped generator in a fresh worker", |b| b.find("gan-canvas"));
    let _ = std::fs::remove_dir_all(&tmp);
}

/// The views, in the order of their tabs.
const VIEWS: [&str; 5] = ["overview", "exercise1", "exercise2", "runs", "diagnostics"];

/// Shows a view by its tab and waits until it is the one shown.
fn show_view(b: &Browser, view: &str) {
    b.click(&b.find(&format!("view-{view}")).unwrap());
    b.wait_for(10, &format!("the {view} view"), |b| (shown_views(b) == [view]).then_some(()));
}

/// axe-core's violations of impact serious or critical on what the page shows now (axe skips
/// hidden content), as "rule (impact): element, …" lines. `make test-e2e` fetches axe-core
/// (scripts/axe-setup.sh); the test fails when it is missing rather than skipping the check.
fn axe_serious(b: &Browser) -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/axe/axe.min.js");
    let source = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/axe-setup.sh)", path.display()));
    if b.js("return typeof window.axe", vec![]).as_str() != Some("object") {
        b.js(&format!("{source}\n;window.axe = axe; return true"), vec![]);
    }
    let v = b.js(
        "return axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'best-practice']}})
           .then(r => r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
           .map(v => `${v.id} (${v.impact}): ${v.nodes.map(n => n.target.join(' ')).join(', ')}`))",
        vec![],
    );
    v.as_array()
        .unwrap_or_else(|| panic!("axe did not run: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn no_view_has_a_serious_or_critical_accessibility_violation() {
    let b = open_ready("/?backend=cpu");
    b.wait_for(120, "the 2× model", |b| {
        (b.attr("[data-testid=factorized-params]", "data-params")? == "48410").then_some(())
    });
    // The rank slider moves with the keyboard, and the model follows.
    let slider = b.find("rank-factor").unwrap();
    b.press_keys(&slider, "\u{E014}\u{E014}"); // ArrowRight twice
    b.wait_for(60, "the slider moved by keys", |b| {
        b.attr("[data-testid=factorized-params]", "data-params").filter(|p| p != "48410")
    });
    let mut found = vec![];
    for view in VIEWS {
        show_view(&b, view);
        b.screenshot(&format!("view-{view}"));
        found.extend(axe_serious(&b).into_iter().map(|v| format!("{view}: {v}")));
    }
    assert!(found.is_empty(), "axe-core found:\n{}", found.join("\n"));
}

#[test]
fn at_phone_and_tablet_size_no_view_scrolls_sideways_and_a_touch_stroke_predicts() {
    let b = Browser::new(site());
    b.set_window(768, 1024);
    b.open("/?backend=cpu");
    wait_backend(&b);
    wait_dataset(&b, "mnist");
    // Exercise 1 at its widest: the model loaded, the tables and the spectrum drawn.
    b.wait_for(120, "the 2× model", |b| {
        (b.attr("[data-testid=factorized-params]", "data-params")? == "48410").then_some(())
    });
    let mut sideways = vec![];
    for (size, view) in VIEWS.map(|v| ("768", v)).into_iter().chain(VIEWS.map(|v| ("390", v))) {
        if view == VIEWS[0] {
            let w = size.parse().unwrap();
            b.set_window(w, if w == 390 { 844 } else { 1024 });
            let width = b.js("return window.innerWidth", vec![]).as_u64().unwrap();
            assert!(width <= w as u64, "a {size}-pixel viewport ({width} px)");
        }
        show_view(&b, view);
        let wide = b.js(
            "const w = document.documentElement.clientWidth;
             return [...document.querySelectorAll('body *')]
               .filter(e => e.getClientRects().length && e.getBoundingClientRect().right > w + 1)
               .slice(0, 5).map(e => `${e.tagName.toLowerCase()}.${e.className} (${Math.round(e.getBoundingClientRect().right)} px)`)",
            vec![],
        );
        let overflow = b.js(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
            vec![],
        );
        if overflow.as_i64() != Some(0) {
            sideways.push(format!("{view} at {size} px: {overflow} px too wide: {wide}"));
        }
    }
    assert!(sideways.is_empty(), "the page scrolls sideways:\n{}", sideways.join("\n"));
    show_view(&b, "exercise1");
    let pad = b.wait_for(60, "the drawing pad", |b| b.find("draw-pad"));
    b.js(
        "document.querySelector('[data-testid=draw-pad]').scrollIntoView({block: 'center'})",
        vec![],
    );
    let before = b.js("return window.scrollY", vec![]);
    b.stroke(&pad, "touch", &[(0, -100), (0, -50), (0, 0), (0, 50), (0, 100)]);
    b.wait_for(30, "the base model's probabilities after a touch stroke", base_probs);
    assert_eq!(b.js("return window.scrollY", vec![]), before, "drawing did not scroll the page");
    b.screenshot("phone-exercise1");
}

/// `data-status` of a guide step (`train`, `refine-2`, `gan-dense`, …).
fn guide_status(b: &Browser, step: &str) -> Option<String> {
    b.attr(&format!("[data-testid=guide-step][data-step=\"{step}\"]"), "data-status")
}

#[test]
fn the_guide_runs_the_assignment_step_by_step_and_resumes_a_started_step() {
    let b = open_ready("/?backend=cpu&train_subset=256#/exercise1");
    let steps = b.js("return document.querySelectorAll('[data-testid=guide-step]').length", vec![]);
    assert_eq!(steps.as_u64(), Some(6), "four steps in exercise 1, two in exercise 2");
    b.wait_for(30, "the stored runs read", |b| guide_status(b, "train").filter(|s| s == "todo"));
    let next = b.find("guide-next").unwrap();
    assert!(b.text("guide-next").contains("Train the classifier"), "{}", b.text("guide-next"));

    // The next step starts with the assignment's settings (on the page's subset).
    b.click(&next);
    b.wait_for(60, "the assignment's training", |b| (train_status(b) == "running").then_some(()));
    assert_eq!(value_of(&b, "train-epochs").as_deref(), Some("100"));
    assert_eq!(value_of(&b, "train-batch").as_deref(), Some("128"));
    b.wait_for(120, "two epochs saved", |b| {
        saved_epochs(b, &run_row(&b.attr("[data-testid=train-status]", "data-run-id")?))
            .filter(|&n| n >= 2)
    });
    let id = b.attr("[data-testid=train-status]", "data-run-id").unwrap();
    // Paused in its panel, the guide's button resumes it (the same run, not a new one).
    b.click(&b.find("train-pause").unwrap());
    b.wait_for(30, "the pause", |b| (train_status(b) == "paused").then_some(()));
    b.wait_for(30, "the started step", |b| guide_status(b, "train").filter(|s| s == "partial"));
    b.click(&b.find("guide-next").unwrap());
    b.wait_for(30, "the paused run going again", |b| (train_status(b) == "running").then_some(()));
    assert_eq!(b.attr("[data-testid=train-status]", "data-run-id").as_deref(), Some(id.as_str()));
    b.click(&b.find("train-stop").unwrap());
    b.wait_for(60, "the stop", |b| (train_status(b) == "stopped").then_some(()));

    // Stopped part-way, the step is started, with the time left measured on this device, and
    // the button resumes that run rather than starting another.
    b.wait_for(30, "the started step", |b| guide_status(b, "train").filter(|s| s == "partial"));
    let line = b.text_in("[data-testid=guide-step][data-step=train]");
    assert!(line.contains("epochs saved") && line.contains("on this device"), "{line}");
    assert!(b.text("guide-next").starts_with("Resume"), "{}", b.text("guide-next"));
    b.click(&b.find("guide-next").unwrap());
    wait_train_done(&b, 600, "the resumed assignment run");
    assert_eq!(b.attr("[data-testid=train-status]", "data-run-id").as_deref(), Some(id.as_str()));
    b.wait_for(30, "the step done", |b| guide_status(b, "train").filter(|s| s == "done"));

    // Then the 2× refinement: the seed's ranks, 10 epochs (whatever the form said).
    assert!(b.text("guide-next").contains("2×"), "{}", b.text("guide-next"));
    b.set_input("refine-epochs", "3");
    b.click(&b.find("guide-next").unwrap());
    b.wait_for(300, "the 2× refinement step done", |b| {
        guide_status(b, "refine-2").filter(|s| s == "done")
    });
    assert_eq!(value_of(&b, "refine-epochs").as_deref(), Some("10"));
    assert!(b.text("guide-next").contains("4×"), "{}", b.text("guide-next"));
    assert_eq!(guide_status(&b, "gan-dense").as_deref(), Some("todo"));
    b.js("document.querySelector('[data-testid=guide]').scrollIntoView()", vec![]);
    b.screenshot("guide");
}
