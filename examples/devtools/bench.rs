//! `devtools bench`: native benchmarks of the engine → target/bench/native.json.

use std::path::Path;
use std::time::Instant;

use burn::tensor::Device;
use futures_lite::future::block_on;

use crate::BenchArgs;
use crate::{median, write};
use mnist_lab::lab::classifier::eval::{EVAL_BATCH, evaluate};
use mnist_lab::lab::classifier::mlp::{MLP_WIDTHS, Mlp};
use mnist_lab::lab::classifier::train::{ClassifierTrainer, TrainConfig};
use mnist_lab::lab::compress::factorized::MlpSpectrum;
use mnist_lab::lab::core::error::{LabError, LabResult};
use mnist_lab::lab::data::{DatasetKind, load_dir};
use mnist_lab::lab::gan::{GanArch, GanConfig, GanTrainer};

/// Native benchmarks: what the rank slider and training cost on the CPU backend.
pub(crate) fn bench(args: &BenchArgs) -> LabResult<()> {
    let runs = args.runs;
    mnist_lab::lab::core::error::check_count("--runs", runs, 1, 100)?;
    let out = args.out.clone();
    let data = load_dir(&args.data.dir, DatasetKind::Mnist)?;
    let opened = mnist_lab::cli::device::open(args.device.device)?;
    println!("device: {}", opened.name);
    let device = opened.device.clone().autodiff();
    device.seed(1);
    let config = TrainConfig { epochs: runs, ..TrainConfig::default() };
    let mut trainer =
        ClassifierTrainer::new(Mlp::new(&MLP_WIDTHS, &device), config, data.train.len(), &device)?;
    let mut epoch_s = Vec::new();
    while !trainer.finished() {
        let t = Instant::now();
        block_on(trainer.train_chunk(&data.train, usize::MAX))?;
        epoch_s.push(t.elapsed().as_secs_f64());
    }
    let epoch = median(epoch_s);
    println!(
        "base training epoch (60000 images, batch 128, Adam): {:.3} s median of {runs} → {:.0} samples/s",
        epoch,
        60000.0 / epoch
    );
    let model = trainer.into_model();
    let mut breakdown = Vec::new();
    for batch in [128, 512] {
        let row =
            crate::step_breakdown::mlp_step_breakdown(&data.train, batch, 20 * runs, &device)?;
        println!("MLP step breakdown: {row}");
        breakdown.push(row);
    }
    let mut rows = Vec::new();
    for factor in [1.0, 1.25, 2.0, 4.0, 8.0, 16.0] {
        let mut times = Vec::new();
        let mut acc = 0.0;
        let mut ranks = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            let spectrum = block_on(MlpSpectrum::of(&model))?;
            ranks = spectrum.ranks_for_factor(factor)?;
            let f = spectrum.build(&ranks, &device)?;
            acc = block_on(evaluate(&f, &data.test, EVAL_BATCH, &device))?.accuracy;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let ms = median(times);
        println!(
            "{factor:>5}×  ranks {ranks:?}: SVD + rebuild + 10k evaluation {ms:.1} ms (test acc {:.2}%)",
            acc * 100.0
        );
        rows.push(serde_json::json!({"factor": factor, "ranks": ranks, "svd_rebuild_eval_ms": ms}));
    }
    let gan_steps = gan_steps(&args.data.dir, runs, &opened.device)?;
    let ceiling = crate::flops::gemm_ceiling_gflops();
    println!("this machine's ceiling: a 1536³ f32 GEMM on rayon's threads, {ceiling:.1} GFLOP/s");
    let json = serde_json::json!({
        "gan_steps": gan_steps,
        "gemm_ceiling_gflops": ceiling,
        "machine": format!("{} logical CPUs, {}", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1), std::env::consts::ARCH),
        "backend": match args.device.device {
            mnist_lab::cli::device::DeviceArg::Flex => "Flex CPU (native, rayon + SIMD)".to_string(),
            _ => opened.name.clone(),
        },
        "device": args.device.device.flag(),
        "runs": runs,
        "base_epoch_s": epoch,
        "base_samples_per_s": 60000.0 / epoch,
        "mlp_step_breakdown": breakdown,
        "rank_rebuild": rows,
    });
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| {
            LabError::InvalidConfig(format!("cannot create {}: {e}", dir.display()))
        })?;
    }
    write(&out, serde_json::to_string_pretty(&json).expect("json"))?;
    println!("wrote {}", out.display());
    Ok(())
}

/// Median GAN training-step time (one D step and one G step) per architecture and batch size,
/// on `device`: rows for `bench`'s JSON.
fn gan_steps(data_root: &Path, runs: usize, device: &Device) -> LabResult<Vec<serde_json::Value>> {
    let data = load_dir(data_root, DatasetKind::FashionMnist)?;
    let device = device.clone().autodiff();
    let mut rows = Vec::new();
    for arch in [GanArch::Dense, GanArch::Cnn] {
        for batch in [64, 128] {
            let config = GanConfig { arch, batch_size: batch, epochs: 1, ..GanConfig::default() };
            let mut t = GanTrainer::new(config, data.train.len(), &device)?;
            block_on(t.train_chunk(&data.train, 2))?; // warm-up: allocations, first kernels
            let steps = if arch == GanArch::Cnn { 3 } else { 10 };
            let mut times = Vec::new();
            for _ in 0..runs {
                let start = Instant::now();
                block_on(t.train_chunk(&data.train, steps))?;
                times.push(start.elapsed().as_secs_f64() * 1000.0 / steps as f64);
            }
            let ms = crate::median(times);
            println!(
                "GAN {:5} B={batch:3}: {ms:7.1} ms per training step (D step + G step), {:.0} real images/s",
                arch.slug(),
                batch as f64 / ms * 1000.0
            );
            let mut row =
                serde_json::json!({"arch": arch.slug(), "batch_size": batch, "step_ms": ms});
            if arch == GanArch::Cnn {
                let flops = crate::flops::cnn_step_flops(batch);
                row["gflop"] = (flops / 1e9).into();
                row["gflops"] = (flops / 1e6 / ms).into();
                println!(
                    "  {:.2} GFLOP a step (counted per layer) → {:.1} GFLOP/s",
                    flops / 1e9,
                    flops / 1e6 / ms
                );
            }
            rows.push(row);
        }
    }
    Ok(rows)
}
