//! `mnist-lab gan` and `mnist-lab judge`: exercise 2, headless.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::tensor::Device;
use futures_lite::future::block_on;

use crate::cli::common::{Progress, data_dir, flag, parsed, write, write_bundle};
use crate::lab::classifier::mlp::Mlp;
use crate::lab::classifier::weights::{mlp_from_tensors, mlp_tensors};
use crate::lab::core::error::{LabError, LabResult};
use crate::lab::core::params::{module_tensors, trainable_params};
use crate::lab::core::safetensors::{decode_safetensors, encode_safetensors};
use crate::lab::data::{DatasetKind, load_dir};
use crate::lab::gan::grid::{png, tile};
use crate::lab::gan::quality::{
    CLASSIFIER_WIDTHS, QUALITY_SAMPLES, QualityJudge, train_classifier,
};
use crate::lab::gan::report::{GanMetrics, GanReportContext, gan_report};
use crate::lab::gan::summary::{discriminator_summary, generator_summary};
use crate::lab::gan::{GanArch, GanConfig, GanTrainer};

/// Where the shipped quality judge lives.
pub const JUDGE_PATH: &str = "static/models/fashion-judge-784-256-64-10.safetensors";

/// Batches between two progress updates.
const CHUNK: usize = 25;

fn io_err(what: &str, path: &Path, e: impl std::fmt::Display) -> LabError {
    LabError::InvalidConfig(format!("cannot {what} {}: {e}", path.display()))
}

/// Loads the judge from `path`, refusing a file of the wrong shape.
fn load_judge(path: &Path, device: &Device) -> LabResult<Mlp> {
    let bytes = std::fs::read(path).map_err(|e| io_err("read", path, e))?;
    let (tensors, _) = decode_safetensors(&bytes)?;
    Ok(mlp_from_tensors(&tensors, &CLASSIFIER_WIDTHS, device)?)
}

/// `mnist-lab judge`: trains the Fashion-MNIST classifier behind the quality score and saves it.
pub fn judge(args: &[String]) -> LabResult<()> {
    let epochs: usize = parsed(args, "--epochs", 10)?;
    let seed: u64 = parsed(args, "--seed", 7)?;
    let out = PathBuf::from(flag(args, "--out").unwrap_or(JUDGE_PATH));
    let data = load_dir(&data_dir(args), DatasetKind::FashionMnist)?;
    let device = Device::flex().autodiff();
    eprintln!("training the quality judge (784-256-64-10) on Fashion-MNIST for {epochs} epochs");
    let (model, acc) = block_on(train_classifier(&data.train, &data.test, epochs, seed, &device))?;
    let meta = BTreeMap::from([
        ("model".to_string(), "mnist-lab Fashion-MNIST judge MLP 784-256-64-10".to_string()),
        ("command".to_string(), format!("mnist-lab judge {}", args.join(" "))),
        ("test_accuracy".to_string(), format!("{acc:.4}")),
    ]);
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io_err("create", dir, e))?;
    }
    write(&out, encode_safetensors(&block_on(mlp_tensors(&model))?, &meta))?;
    println!("judge test accuracy {:.2}%; wrote {}", acc * 100.0, out.display());
    Ok(())
}

/// `mnist-lab gan`: trains a GAN and writes the exercise's report.
pub fn gan(args: &[String]) -> LabResult<()> {
    let arch_s = flag(args, "--arch").unwrap_or("dense");
    let arch = GanArch::parse(arch_s).ok_or_else(|| {
        LabError::InvalidConfig(format!("--arch must be dense or cnn, got `{arch_s}`"))
    })?;
    let lr: Option<f64> = flag(args, "--lr")
        .map(|v| v.parse().map_err(|_| LabError::InvalidConfig(format!("--lr: cannot read `{v}`"))))
        .transpose()?;
    let base_lr = lr.unwrap_or(2e-4);
    let config = GanConfig {
        arch,
        epochs: parsed(args, "--epochs", 100)?,
        batch_size: parsed(args, "--batch-size", 128)?,
        lr_g: parsed(args, "--lr-g", base_lr)?,
        lr_d: parsed(args, "--lr-d", base_lr)?,
        beta1: parsed(args, "--beta1", 0.5)?,
        soft_labels: args.iter().any(|a| a == "--soft-labels"),
        noise: parsed(args, "--noise", 0.0)?,
        noise_anneal_epochs: parsed(args, "--noise-anneal", 0)?,
        seed: parsed(args, "--seed", 42)?,
    };
    config.validate()?;
    let quality_every: usize = parsed(args, "--quality-every", 10)?;
    let samples: usize = parsed(args, "--quality-samples", QUALITY_SAMPLES)?;
    crate::lab::core::error::check_count("--quality-samples", samples, 2, 10_000)?;
    let out = PathBuf::from(
        flag(args, "--out")
            .map(str::to_string)
            .unwrap_or_else(|| format!("out/gan-{}", arch.slug())),
    );
    std::fs::create_dir_all(out.join("weights")).map_err(|e| io_err("create", &out, e))?;

    let mut data = load_dir(&data_dir(args), DatasetKind::FashionMnist)?;
    if let Some(n) = flag(args, "--train-subset") {
        let n: usize = n
            .parse()
            .map_err(|_| LabError::InvalidConfig(format!("--train-subset: cannot read `{n}`")))?;
        data.train = data.train.take(n);
    }
    let device = Device::flex().autodiff();

    // The quality judge: the shipped one, or trained now (and saved next to the report).
    let judge_path = PathBuf::from(flag(args, "--judge").unwrap_or(JUDGE_PATH));
    let (classifier, judge_note) = if judge_path.exists() {
        (load_judge(&judge_path, &device)?, format!("loaded from {}", judge_path.display()))
    } else {
        eprintln!(
            "{} not found: training the quality judge first (10 epochs)",
            judge_path.display()
        );
        let (m, _) = block_on(train_classifier(&data.train, &data.test, 10, 7, &device))?;
        let saved = out.join("weights/judge.safetensors");
        write(&saved, encode_safetensors(&block_on(mlp_tensors(&m))?, &BTreeMap::new()))?;
        (m, format!("trained for this run, saved to {}", saved.display()))
    };
    let judge_acc = block_on(crate::lab::classifier::eval::evaluate(
        &classifier,
        &data.test,
        crate::lab::classifier::eval::EVAL_BATCH,
        &device,
    ))?
    .accuracy;
    let judge = block_on(QualityJudge::new(classifier, &data.test, samples, &device))?;
    eprintln!(
        "quality judge {judge_note}: test accuracy {:.2}%, real test images score {:.2}",
        judge_acc * 100.0,
        judge.real_score
    );

    let mut trainer = GanTrainer::new(config.clone(), data.train.len(), &device)?;
    let (g_params, d_params) =
        (trainable_params(trainer.generator()), trainable_params(trainer.discriminator()));
    eprintln!(
        "training the {} GAN: G {g_params} / D {d_params} parameters, {} epochs × {} batches of {}",
        arch.slug(),
        config.epochs,
        trainer.batches_per_epoch(),
        config.batch_size
    );
    let started = Instant::now();
    let mut progress = Progress::with_unit(config.epochs * trainer.batches_per_epoch(), "batches");
    let mut grids = Vec::new();
    let mut quality = Vec::new();
    let mut stopped = None;
    while !trainer.finished() {
        let chunk = match block_on(trainer.train_chunk(&data.train, CHUNK)) {
            Ok(c) => c,
            Err(e @ LabError::NonFinite { .. }) => {
                eprintln!("\n{e}");
                stopped = Some(e);
                break;
            }
            Err(e) => return Err(e),
        };
        progress.advance(
            chunk.batches,
            &format!("epoch {} · D {:.3} · G {:.3}", chunk.epoch, chunk.d_loss, chunk.g_loss),
        );
        let Some(e) = chunk.finished_epoch else { continue };
        let last = trainer.finished();
        if trainer.is_snapshot_epoch(e.epoch) {
            let images = block_on(trainer.generate(trainer.fixed_noise()))?;
            grids.push((e.epoch, png(&tile(&images, 8, 2, 2)?)?));
        }
        if quality_every > 0 && (e.epoch.is_multiple_of(quality_every) || last) {
            let q = block_on(judge.judge_generator(trainer.generator(), config.seed, e.epoch))?;
            eprintln!("\nepoch {}: Fréchet distance {:.2}, score {:.2}", e.epoch, q.fid, q.score);
            quality.push(q);
        }
    }
    let seconds = started.elapsed().as_secs_f64();

    // Weights (the last good state if the run diverged).
    let g_meta = BTreeMap::from([
        ("model".to_string(), format!("mnist-lab {} GAN generator", arch.slug())),
        ("command".to_string(), format!("mnist-lab gan {}", args.join(" "))),
        ("epochs".to_string(), trainer.epochs_done().to_string()),
    ]);
    write(
        &out.join("weights/generator.safetensors"),
        encode_safetensors(&block_on(module_tensors(trainer.generator()))?, &g_meta),
    )?;
    write(
        &out.join("weights/discriminator.safetensors"),
        encode_safetensors(&block_on(module_tensors(trainer.discriminator()))?, &BTreeMap::new()),
    )?;

    let metrics = GanMetrics::new(arch, g_params, d_params, trainer.history(), quality);
    write(
        &out.join("metrics.json"),
        serde_json::to_string_pretty(&metrics).expect("metrics serialise"),
    )?;
    let ctx = GanReportContext {
        config,
        train_images: data.train.len(),
        summaries: [generator_summary(arch), discriminator_summary(arch)],
        grids: Vec::new(),
        plots: Vec::new(),
        classifier_accuracy: judge_acc,
        real_score: judge.real_score,
        quality_samples: samples,
        seconds,
        backend: "Flex CPU".into(),
        stopped_early: stopped.as_ref().map(|e| e.to_string()),
    };
    write_bundle(&out, &gan_report(&metrics, ctx, grids))?;
    if let Some(last) = metrics.epochs.last() {
        println!(
            "epoch {}: D loss {:.4}, G loss {:.4}, D(real) {:.3}, D(fake) {:.3}",
            last.epoch, last.d_loss, last.g_loss, last.d_real, last.d_fake
        );
    }
    if let Some(q) = metrics.quality.last() {
        println!(
            "quality at epoch {}: Fréchet distance {:.2}, score {:.2} (real images {:.2})",
            q.epoch, q.fid, q.score, judge.real_score
        );
    }
    println!("{:.0} s; wrote {}", seconds, out.join("report.md").display());
    match stopped {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Median GAN training-step time (one D step and one G step) per architecture and batch size,
/// on the native CPU backend: rows for `bench`'s JSON.
pub fn bench_steps(data_root: &Path, runs: usize) -> LabResult<Vec<serde_json::Value>> {
    let data = load_dir(data_root, DatasetKind::FashionMnist)?;
    let device = Device::flex().autodiff();
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
            let ms = crate::cli::common::median(times);
            println!(
                "GAN {:5} B={batch:3}: {ms:7.1} ms per training step (D step + G step), {:.0} real images/s",
                arch.slug(),
                batch as f64 / ms * 1000.0
            );
            rows.push(serde_json::json!({"arch": arch.slug(), "batch_size": batch, "step_ms": ms}));
        }
    }
    Ok(rows)
}
