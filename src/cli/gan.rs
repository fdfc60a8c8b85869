//! `mnist-lab gan` and `mnist-lab judge`: exercise 2, headless.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::tensor::Device;
use futures_lite::future::block_on;

use crate::cli::args::{ArchArg, GanArgs, JudgeArgs};
use crate::cli::common::{Progress, command_line, write, write_bundle};
use crate::cli::device::open;
use crate::cli::resume::{devices_text, load_gan, new_gan_run, note_device, save_gan};
use crate::lab::classifier::mlp::Mlp;
use crate::lab::classifier::weights::{mlp_from_tensors, mlp_tensors};
use crate::lab::core::error::{LabError, LabResult};
use crate::lab::core::params::{module_tensors, trainable_params};
use crate::lab::core::safetensors::{decode_safetensors, encode_safetensors};
use crate::lab::data::{DatasetKind, load_dir};
use crate::lab::gan::grid::{png, tile};
use crate::lab::gan::quality::{CLASSIFIER_WIDTHS, QualityJudge, train_classifier};
use crate::lab::gan::report::{GanMetrics, GanReportContext, gan_report};
use crate::lab::gan::summary::{discriminator_summary, generator_summary};
use crate::lab::gan::{GanArch, GanConfig, GanTrainer};

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
pub fn judge(args: &JudgeArgs) -> LabResult<()> {
    let (epochs, seed, out) = (args.epochs, args.seed, args.out.clone());
    let data = load_dir(&args.data.dir, DatasetKind::FashionMnist)?;
    let device = open(args.device.device)?.device.autodiff();
    eprintln!("training the quality judge (784-256-64-10) on Fashion-MNIST for {epochs} epochs");
    let (model, acc) = block_on(train_classifier(&data.train, &data.test, epochs, seed, &device))?;
    let meta = BTreeMap::from([
        ("model".to_string(), "mnist-lab Fashion-MNIST judge MLP 784-256-64-10".to_string()),
        ("command".to_string(), command_line()),
        ("test_accuracy".to_string(), format!("{acc:.4}")),
    ]);
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io_err("create", dir, e))?;
    }
    write(&out, encode_safetensors(&block_on(mlp_tensors(&model))?, &meta))?;
    println!("judge test accuracy {:.2}%; wrote {}", acc * 100.0, out.display());
    Ok(())
}

/// The report's sample grid: the generator on its fixed noise, 8 to a row, as PNG.
fn sample_grid(trainer: &GanTrainer) -> LabResult<Vec<u8>> {
    let images = block_on(trainer.generate(trainer.fixed_noise()))?;
    png(&tile(&images, 8, 2, 2)?)
}

/// `mnist-lab gan`: trains a GAN and writes the exercise's report.
pub fn gan(args: &GanArgs) -> LabResult<()> {
    // A new run from the flags, or a saved one from its checkpoint folder.
    if args.pieces.pause_after == Some(0) && args.pieces.resume.is_none() {
        return Err(LabError::InvalidConfig(
            "--pause-after 0 writes the report of a saved run: it needs --resume DIR".into(),
        ));
    }
    let (mut run, out, saved) = match &args.pieces.resume {
        Some(dir) => {
            let (run, checkpoint, grids) = load_gan(dir)?;
            eprintln!(
                "resuming {}: {} of {} epochs done (its own settings)",
                dir.display(),
                run.history.len(),
                run.config.epochs
            );
            (run, dir.clone(), Some((checkpoint, grids)))
        }
        None => {
            let base_lr = args.lr.unwrap_or(2e-4);
            let config = GanConfig {
                arch: match args.arch {
                    ArchArg::Dense => GanArch::Dense,
                    ArchArg::Cnn => GanArch::Cnn,
                },
                epochs: args.epochs,
                batch_size: args.batch_size,
                lr_g: args.lr_g.unwrap_or(base_lr),
                lr_d: args.lr_d.unwrap_or(base_lr),
                beta1: args.beta1,
                soft_labels: args.soft_labels,
                noise: args.noise,
                noise_anneal_epochs: args.noise_anneal,
                seed: args.seed,
            };
            let out = args
                .out
                .clone()
                .unwrap_or_else(|| PathBuf::from(format!("out/gan-{}", config.arch.slug())));
            let quality = (args.quality_every, args.quality_samples);
            let run = new_gan_run(
                config,
                args.train_subset,
                quality,
                args.judge.clone(),
                args.data.dir.clone(),
            );
            (run, out, None)
        }
    };
    let config = run.config.clone();
    let arch = config.arch;
    config.validate()?;
    let quality_every = run.quality_every;
    let samples = run.quality_samples;
    crate::lab::core::error::check_count("--quality-samples", samples, 2, 10_000)?;
    std::fs::create_dir_all(out.join("weights")).map_err(|e| io_err("create", &out, e))?;

    let mut data = load_dir(&run.data, DatasetKind::FashionMnist)?;
    if let Some(n) = run.train_subset {
        data.train = data.train.take(n);
    }
    let opened = open(args.device.device)?;
    note_device(&mut run.devices, &opened.name, saved.is_some());
    eprintln!("device: {}", opened.name);
    let device = opened.device.autodiff();

    // The quality judge: the shipped one, or trained now (and saved next to the report).
    let judge_path = run.judge.clone();
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

    let (mut trainer, mut grids, mut quality) = match saved {
        Some((checkpoint, grids)) => (
            GanTrainer::restore(
                config.clone(),
                &checkpoint,
                run.history.clone(),
                data.train.len(),
                &device,
            )?,
            grids,
            run.quality.clone(),
        ),
        None => {
            (GanTrainer::new(config.clone(), data.train.len(), &device)?, Vec::new(), Vec::new())
        }
    };
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
    let left = config.epochs - trainer.epochs_done();
    let mut progress = Progress::with_unit(left * trainer.batches_per_epoch(), "batches");
    let mut stopped = None;
    let mut paused = None;
    let mut epochs_now = 0;
    if args.pieces.pause_after == Some(0) {
        // `--resume DIR --pause-after 0`: the report of the epochs saved so far, no training.
        paused = Some(trainer.epochs_done());
    }
    while paused.is_none() && !trainer.finished() {
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
            grids.push((e.epoch, sample_grid(&trainer)?));
        }
        if quality_every > 0 && (e.epoch.is_multiple_of(quality_every) || last) {
            let q = block_on(judge.judge_generator(trainer.generator(), config.seed, e.epoch))?;
            eprintln!("\nepoch {}: Fréchet distance {:.2}, score {:.2}", e.epoch, q.fid, q.score);
            quality.push(q);
        }
        // Every epoch is saved: a killed run continues with --resume from here.
        run.history = trainer.history().to_vec();
        run.quality = quality.clone();
        run.grid_epochs = grids.iter().map(|(e, _)| *e).collect();
        let seconds_before = run.seconds;
        run.seconds += started.elapsed().as_secs_f64();
        save_gan(&out, &run, &block_on(trainer.checkpoint())?, &grids)?;
        run.seconds = seconds_before;
        epochs_now += 1;
        if !last && args.pieces.pause_after.is_some_and(|n| epochs_now >= n as usize) {
            paused = Some(e.epoch);
            break;
        }
    }
    // A run that stops short still shows where it got to: its last epoch's samples and quality.
    let done = trainer.epochs_done();
    if (paused.is_some() || stopped.is_some()) && done > 0 {
        if !grids.iter().any(|(e, _)| *e == done) {
            grids.push((done, sample_grid(&trainer)?));
        }
        if quality_every > 0 && !quality.iter().any(|q| q.epoch == done) {
            quality.push(block_on(judge.judge_generator(trainer.generator(), config.seed, done))?);
        }
    }
    let seconds = run.seconds + started.elapsed().as_secs_f64();

    // Weights (the last good state if the run diverged).
    let g_meta = BTreeMap::from([
        ("model".to_string(), format!("mnist-lab {} GAN generator", arch.slug())),
        ("command".to_string(), command_line()),
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
        config: config.clone(),
        train_images: data.train.len(),
        summaries: [generator_summary(arch), discriminator_summary(arch)],
        grids: Vec::new(),
        plots: Vec::new(),
        classifier_accuracy: judge_acc,
        real_score: judge.real_score,
        quality_samples: samples,
        seconds,
        backend: devices_text(&run.devices),
        stopped_early: match (&stopped, paused) {
            (Some(e), _) => Some(e.to_string()),
            // The report names no path of this machine: it may be published (docs/exercise2).
            (None, Some(epoch)) => Some(format!(
                "paused after epoch {epoch} of {}: continue with `mnist-lab gan --resume DIR`, \
                 DIR being the folder of this report",
                config.epochs
            )),
            (None, None) => None,
        },
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
    if let Some(epoch) = paused {
        println!(
            "paused after epoch {epoch} of {}: continue with `mnist-lab gan --resume {}`",
            config.epochs,
            out.display()
        );
    }
    match stopped {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
