//! The CLI on Vulkan (#19): the same commands on `--device vulkan` and `--device flex` agree.
//! `make test` builds with the `vulkan` feature and installs Mesa's lavapipe (a Vulkan driver
//! that runs on the CPU), so this runs wherever the tests run; a binary built without the
//! feature, or a machine without a Vulkan driver, fails here with the CLI's own sentence naming
//! what is missing.
//!
//! Flex and Vulkan draw different random numbers from the same seed (each backend has its own
//! generator), so training runs start from different weights: they are compared within
//! tolerances that a correct backend meets and a wrong kernel (a broken convolution, a wrong
//! gradient) misses by far. The forward pass of a saved model has no randomness and is compared
//! almost exactly.
#![cfg(not(target_arch = "wasm32"))]

use std::path::{Path, PathBuf};
use std::process::Command;

// The crate root's own folder is tests/, so the submodule names its path.
#[path = "kernels/mod.rs"]
#[macro_use]
mod kernels;

/// The kernel cases (`tests/kernels/`) on native Vulkan through wgpu — Mesa's lavapipe here, a
/// second driver stack and shader compiler beside the browser's — the same comparisons with
/// burn's operations as `tests/browser.rs` runs on WebGPU (#34).
#[cfg(feature = "vulkan")]
mod on_vulkan {
    use std::sync::{Mutex, OnceLock};

    use burn::tensor::Device;
    use burn::tensor::wgpu::WgpuBackend;

    /// The launch counters are per process: one case at a time, so that each counts its own.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

    fn device() -> Device {
        static DEVICE: OnceLock<Device> = OnceLock::new();
        DEVICE
            .get_or_init(|| {
                let (device, setup) = Device::wgpu_options()
                    .graphics_api(WgpuBackend::Vulkan)
                    .init_with_setup()
                    .expect("a Vulkan device (make test installs Mesa's lavapipe)");
                let info = setup.adapter.get_info();
                eprintln!("Vulkan adapter: {} ({})", info.name, info.driver);
                device
            })
            .clone()
    }

    macro_rules! on_vulkan {
        ($($module:ident :: $case:ident),* $(,)?) => {$(
            #[test]
            fn $case() {
                let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
                futures_lite::future::block_on(super::kernels::$module::$case(device()))
            }
        )*};
    }

    kernel_cases!(on_vulkan);
}

/// Without the feature there is no Vulkan device to run the kernel cases on: a failure that says
/// so, not ten tests that silently do not exist.
#[cfg(not(feature = "vulkan"))]
#[test]
fn the_kernel_cases_need_the_vulkan_feature() {
    panic!(
        "tests/vulkan.rs runs the kernel cases on Vulkan: build with `--features vulkan` (make test does)"
    );
}

fn cli(args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_mnist-lab"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run the CLI");
    let (out, err) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "mnist-lab {args:?} failed:\n{err}\n{out}");
    format!("{err}{out}")
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("mnist-lab-vulkan-{name}-{}", std::process::id()))
}

fn metrics(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("metrics.json")).unwrap()).unwrap()
}

fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// "accuracy 98.18% (9818 of 10000)" → 9818.
fn correct(output: &str) -> u64 {
    let at = output.find("% (").expect("an accuracy line") + 3;
    output[at..].split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn the_device_is_lavapipe_or_a_real_vulkan_gpu_and_named() {
    let out = cli(&["smoke", "--steps", "20", "--device", "vulkan"]);
    assert!(out.contains("Vulkan: "), "the device is named: {out}");
    assert!(out.contains("test accuracy"), "{out}");
}

#[test]
fn a_saved_model_scores_the_same_on_vulkan_and_flex() {
    let d = "static/data/mnist";
    let args = |device| {
        vec![
            "evaluate".to_string(),
            "--weights".into(),
            "static/models/mlp-784-100-50-10.safetensors".into(),
            "--images".into(),
            format!("{d}/t10k-images-idx3-ubyte.gz"),
            "--labels".into(),
            format!("{d}/t10k-labels-idx1-ubyte.gz"),
            "--device".into(),
            device,
        ]
    };
    let run = |device: &str| {
        let a = args(device.to_string());
        cli(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let (vulkan, flex) = (run("vulkan"), run("flex"));
    assert!(vulkan.contains("Vulkan: "), "{vulkan}");
    let (v, f) = (correct(&vulkan), correct(&flex));
    eprintln!("correct of 10 000: Vulkan {v} vs Flex {f}");
    assert_eq!(f, 9818, "the shipped model's accuracy on Flex: {flex}");
    // Summation order differs between backends: at most a few borderline digits may flip.
    assert!(v.abs_diff(f) <= 3, "Vulkan {v} vs Flex {f} correct of 10 000");
}

#[test]
fn compress_trains_and_refines_on_vulkan_like_on_flex() {
    let run = |device: &str| {
        let out = temp(&format!("compress-{device}"));
        cli(&[
            "compress",
            "--epochs",
            "2",
            "--refine-epochs",
            "1",
            "--train-subset",
            "2048",
            "--factors",
            "4",
            // The base model's gentle rate, not the refinement's default 0.01: from a 2-epoch
            // base, 16 Adam steps at 0.01 turn rounding-level gradient differences between the
            // backends into weight moves of the rate's size, several points of accuracy apart.
            "--refine-lr",
            "0.001",
            "--device",
            device,
            "--out",
            out.to_str().unwrap(),
        ]);
        let m = metrics(&out);
        let report = std::fs::read_to_string(out.join("report.md")).unwrap();
        let _ = std::fs::remove_dir_all(&out);
        (m, report)
    };
    let ((vulkan, report), (flex, _)) = (run("vulkan"), run("flex"));
    assert!(report.contains("Vulkan: "), "the report names the device");
    let last = |m: &serde_json::Value, key: &str| f(&m["base"]["epochs"][1][key]);
    for key in ["train_loss", "test_loss"] {
        let (v, fl) = (last(&vulkan, key), last(&flex, key));
        eprintln!("base {key}: Vulkan {v:.4} vs Flex {fl:.4}");
        assert!((v - fl).abs() < TOL_LOSS, "base {key}: Vulkan {v} vs Flex {fl}");
    }
    let (v, fl) = (last(&vulkan, "test_acc"), last(&flex, "test_acc"));
    eprintln!("base test accuracy: Vulkan {v:.4} vs Flex {fl:.4}");
    assert!((v - fl).abs() < TOL_ACC, "base test accuracy: Vulkan {v} vs Flex {fl}");
    for (what, key) in [("after the SVD", "test_acc_before_refine"), ("refined", "epochs")] {
        let acc = |m: &serde_json::Value| match key {
            "epochs" => f(&m["compressed"][0]["epochs"][0]["test_acc"]),
            _ => f(&m["compressed"][0][key]),
        };
        let (v, fl) = (acc(&vulkan), acc(&flex));
        eprintln!("4× {what}: Vulkan {v:.4} vs Flex {fl:.4}");
        assert!((v - fl).abs() < TOL_ACC, "4× {what}: Vulkan {v} vs Flex {fl}");
    }
    assert_eq!(vulkan["compressed"][0]["ranks"], flex["compressed"][0]["ranks"]);
}

#[test]
fn a_cnn_gan_epoch_on_vulkan_is_like_flex() {
    let run = |device: &str| {
        let out = temp(&format!("gan-{device}"));
        cli(&[
            "gan",
            "--arch",
            "cnn",
            "--epochs",
            "1",
            "--batch-size",
            "64",
            "--train-subset",
            "640",
            "--quality-every",
            "0",
            "--device",
            device,
            "--out",
            out.to_str().unwrap(),
        ]);
        let m = metrics(&out);
        let _ = std::fs::remove_dir_all(&out);
        m
    };
    let (vulkan, flex) = (run("vulkan"), run("flex"));
    for key in ["d_loss", "g_loss", "d_real", "d_fake"] {
        let (v, fl) = (f(&vulkan["epochs"][0][key]), f(&flex["epochs"][0][key]));
        eprintln!("GAN {key}: Vulkan {v:.4} vs Flex {fl:.4}");
        assert!(v.is_finite() && (v - fl).abs() < TOL_GAN, "{key}: Vulkan {v} vs Flex {fl}");
    }
}

// Tolerances, about twice the differences measured on lavapipe (Mesa 22.3, 2026-12-04): losses
// 0.050–0.054 apart, accuracies 0.009–0.014, the GAN's four numbers 0.003–0.023. Each backend is
// deterministic, so these do not flake; a wrong gradient leaves the base near chance (loss 2.3,
// accuracy 0.1 against 1.9 and 0.6), and a broken (transposed) convolution lets D win at once
// (D(fake) far below 0.48).
const TOL_LOSS: f64 = 0.1;
const TOL_ACC: f64 = 0.03;
const TOL_GAN: f64 = 0.06;
