//! BENCHMARKS.md's native part: the CLI's own numbers on Flex, and the same on `--device vulkan`.

use serde_json::Value;

use crate::ms;

/// The "Native CLI" section from `native` (devtools bench) and `vulkan` (the same with
/// `--device vulkan`; null when not measured).
pub(crate) fn native_section(native: &Value, vulkan: &Value) -> String {
    let mut s = String::new();
    s += "\n## Native CLI (burn Flex on the CPU, rayon + SIMD)\n\n| measurement | value |\n|---|---:|\n";
    s += &format!(
        "| MLP epoch, 60 000 images, batch 128 | {:.2} s ({:.0} samples/s) |\n",
        native["base_epoch_s"].as_f64().unwrap_or(f64::NAN),
        native["base_samples_per_s"].as_f64().unwrap_or(f64::NAN)
    );
    for r in native["rank_rebuild"].as_array().into_iter().flatten() {
        s += &format!(
            "| rank slider {}×: SVD + rebuild + 10k evaluation | {} |\n",
            r["factor"],
            ms(&r["svd_rebuild_eval_ms"])
        );
    }
    let ceiling = native["gemm_ceiling_gflops"].as_f64();
    if let Some(c) = ceiling {
        s += &format!(
            "| this machine's ceiling: a 1536³ f32 GEMM on every core | {c:.1} GFLOP/s |\n"
        );
    }
    for r in native["gan_steps"].as_array().into_iter().flatten() {
        let rate = match (r["gflops"].as_f64(), ceiling) {
            (Some(g), Some(c)) => format!(
                " ({:.2} GFLOP counted per layer: {g:.1} GFLOP/s, {:.0} % of the ceiling)",
                r["gflop"].as_f64().unwrap_or(f64::NAN),
                100.0 * g / c
            ),
            _ => String::new(),
        };
        s += &format!(
            "| GAN step ({}, B = {}) | {}{rate} |\n",
            r["arch"].as_str().unwrap_or("?"),
            r["batch_size"],
            ms(&r["step_ms"])
        );
    }
    if let Some(rows) = native["mlp_step_breakdown"].as_array().filter(|r| !r.is_empty()) {
        s += "\n### What dominates an MLP training step (native Flex, phase by phase, median ms)\n\n\
              Flex computes eagerly, so each phase's time is its own. The browser's CPU backend runs the same engine, single-threaded.\n\n\
              | batch | batch tensors | forward + loss | backward | Adam update | loss readback | total |\n|---:|---:|---:|---:|---:|---:|---:|\n";
        for r in rows {
            let total = r["total_ms"].as_f64().unwrap_or(f64::NAN);
            let cell = |k: &str| {
                let v = r[k].as_f64().unwrap_or(f64::NAN);
                format!("{v:.2} ({:.0} %)", 100.0 * v / total)
            };
            s += &format!(
                "| {} | {} | {} | {} | {} | {} | {total:.2} |\n",
                r["batch_size"],
                cell("data_ms"),
                cell("forward_ms"),
                cell("backward_ms"),
                cell("adam_ms"),
                cell("readback_ms")
            );
        }
    }
    s += &vulkan_section(native, vulkan);
    s
}

/// The CLI's `--device vulkan` beside Flex, row by row: on a machine without a GPU the Vulkan
/// device is lavapipe (Mesa's Vulkan on the CPU), which shows the path works, not GPU speed.
fn vulkan_section(flex: &Value, vulkan: &Value) -> String {
    if vulkan.is_null() {
        return "\n### The CLI on Vulkan\n\nNot measured in this run (`make bench` runs \
                `devtools bench --device vulkan`, which needs the `vulkan` feature and a Vulkan \
                driver).\n"
            .into();
    }
    let mut s = format!(
        "\n### The CLI on Vulkan (`--device vulkan`) beside Flex\n\nDevice: {}. lavapipe and \
         llvmpipe are Mesa's Vulkan on the CPU: this shows that the path works and what it costs \
         on these cores, not what a GPU does.\n\n| measurement | Flex | Vulkan |\n|---|---:|---:|\n",
        vulkan["backend"].as_str().unwrap_or("?")
    );
    s += &format!(
        "| MLP epoch, 60 000 images, batch 128 | {:.2} s | {:.2} s |\n",
        flex["base_epoch_s"].as_f64().unwrap_or(f64::NAN),
        vulkan["base_epoch_s"].as_f64().unwrap_or(f64::NAN)
    );
    let rows = |v: &Value| v["gan_steps"].as_array().cloned().unwrap_or_default();
    for (f, v) in rows(flex).iter().zip(rows(vulkan).iter()) {
        s += &format!(
            "| GAN step ({}, B = {}) | {} | {} |\n",
            f["arch"].as_str().unwrap_or("?"),
            f["batch_size"],
            ms(&f["step_ms"]),
            ms(&v["step_ms"])
        );
    }
    s
}
