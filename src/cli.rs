//! The native command line over the same engine the browser runs.

use std::path::PathBuf;

use burn::tensor::Device;
use futures_lite::future::block_on;

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::time::Instant;

use burn::module::Module;

use crate::lab::data::{DatasetKind, load_dir};
use crate::lab::core::error::{LabError, LabResult};
use crate::lab::compress::factorized::MlpSpectrum;
use crate::lab::compress::ranks::{self, params_for};
use crate::lab::classifier::mlp::{MLP_WIDTHS, Mlp};
use crate::lab::compress::report::compression_report;
use crate::lab::core::bundle::Bundle;
use crate::lab::classifier::metrics::EpochMetrics;
use crate::lab::compress::ranks::RankPoint;
use crate::lab::compress::report::{BaseRun, CompressedRun, CompressionMetrics, ReportContext};
use crate::lab::classifier::summary::mlp_summary;
use crate::lab::compress::summary::factorized_summary;
use crate::lab::classifier::eval::{EVAL_BATCH, evaluate};
use crate::lab::classifier::train::{ClassifierTrainer, LrSchedule, TrainConfig};
use crate::lab::classifier::weights::mlp_tensors;
use crate::lab::compress::weights::factorized_tensors;
use crate::lab::core::safetensors::encode_safetensors;

mod bench_report;
mod dist;
mod gan;
mod step_breakdown;

const USAGE: &str = "mnist-lab — the MNIST Lab engine, headless

USAGE:
  mnist-lab data  [--data DIR]              check both data sets and print their counts
  mnist-lab smoke [--data DIR] [--steps N]  a few hundred Adam steps of the MLP on MNIST (CPU)
  mnist-lab compress [--epochs 100] [--refine-epochs 10] [--factors 2,4,8] [--batch-size 128]
                     [--lr 0.001] [--schedule cosine|constant] [--weight-decay 1e-4] [--seed 42] [--train-subset N]
                     [--out DIR] [--data DIR]
      exercise 1: train the 784-100-50-10 MLP, compress it by truncated SVD at each factor
      (k = int(n/f) per layer), refine each, and write DIR/report.md, DIR/metrics.json,
      DIR/*.svg plots and DIR/weights/*.safetensors (default DIR: out/compress)
  mnist-lab bench [--runs 5] [--out FILE]
      native CPU benchmarks: exercise 1's base-training epoch time and SVD + rebuild + full 10k test
      evaluation per compression factor; exercise 2's GAN training-step time (dense and CNN, B = 64
      and 128); medians as JSON (default target/bench/native.json)

  mnist-lab gan [--arch dense|cnn] [--epochs 100] [--batch-size 128] [--lr-g 2e-4] [--lr-d 2e-4] [--beta1 0.5]
                [--soft-labels] [--noise SIGMA] [--noise-anneal EPOCHS] [--seed 42] [--train-subset N]
                [--quality-every 10] [--quality-samples 2000] [--judge FILE] [--out DIR] [--data DIR]
      exercise 2: train a GAN on Fashion-MNIST and write DIR/report.md, DIR/metrics.json, loss and
      gradient-norm plots, sample grids DIR/samples-epoch-NNN.png (epochs 1, 10, 20, …) and the
      weights of G and D (default DIR: out/gan-ARCH)
  mnist-lab harden-dist DIR
      make trunk's output (built with --public-url ./) a static site for any sub-path: the start-up
      script moves to init.js and a strict Content-Security-Policy is added (`make dist` runs it)
  mnist-lab bench-report [--native FILE] [--browser FILE] [--json FILE] [--out BENCHMARKS.md]
      merge the native and browser benchmark JSON into target/bench/results.json and BENCHMARKS.md
  mnist-lab judge [--epochs 10] [--seed 7] [--out FILE]
      train the Fashion-MNIST classifier behind the GAN quality score
      (default FILE: static/models/fashion-judge-784-256-64-10.safetensors)

--data DIR defaults to ./static (run `make data` first).";

/// Runs the CLI; returns the process exit code.
pub fn main(args: Vec<String>) -> i32 {
    let result = match args.first().map(String::as_str) {
        Some("data") => data(&args[1..]),
        Some("smoke") => smoke(&args[1..]),
        Some("compress") => compress(&args[1..]),
        Some("bench") => bench(&args[1..]),
        Some("gan") => gan::gan(&args[1..]),
        Some("judge") => gan::judge(&args[1..]),
        Some("bench-report") => bench_report::bench_report(&args[1..]),
        Some("harden-dist") => dist::harden_dist(&args[1..]),
        Some("-h") | Some("--help") | None => {
            println!("{USAGE}");
            return 0;
        }
        Some(other) => {
            eprintln!("unknown command `{other}`\n\n{USAGE}");
            return 2;
        }
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

/// The value after `--name`, if given.
fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(String::as_str)
}

fn data_dir(args: &[String]) -> PathBuf {
    PathBuf::from(flag(args, "--data").unwrap_or("static"))
}

fn data(args: &[String]) -> LabResult<()> {
    let root = data_dir(args);
    for kind in DatasetKind::ALL {
        let tt = load_dir(&root, kind)?;
        println!("{}: {} train / {} test, train classes {:?}", kind.title(), tt.train.len(), tt.test.len(), tt.train.class_counts());
    }
    Ok(())
}

fn smoke(args: &[String]) -> LabResult<()> {
    let steps: usize = match flag(args, "--steps").map(str::parse) {
        None => 300,
        Some(Ok(n)) => n,
        Some(Err(_)) => return Err(crate::lab::core::error::LabError::InvalidConfig("--steps must be a whole number".into())),
    };
    let tt = load_dir(&data_dir(args), DatasetKind::Mnist)?;
    let device = Device::flex().autodiff();
    device.seed(7);
    let config = TrainConfig { epochs: 1000, batch_size: 128, lr: 1e-3, seed: 7, schedule: LrSchedule::Constant, weight_decay: 0.0 };
    let mut trainer = ClassifierTrainer::new(Mlp::new(&MLP_WIDTHS, &device), config, tt.train.len(), &device)?;
    let start = std::time::Instant::now();
    for step in 1..=steps {
        let r = block_on(trainer.train_chunk(&tt.train, 1))?;
        if step == 1 || step % 50 == 0 || step == steps {
            println!("step {step:4}: loss {:.4}", r.loss);
        }
    }
    let ms = start.elapsed().as_secs_f64() * 1000.0 / steps.max(1) as f64;
    let eval = block_on(evaluate(trainer.model(), &tt.test, 1000, &device))?;
    println!("{ms:.1} ms/step; test accuracy {:.2}%", eval.accuracy * 100.0);
    Ok(())
}

/// Parses `--name VALUE` with a default, as a typed error on bad input.
fn parsed<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> LabResult<T> {
    match flag(args, name) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| LabError::InvalidConfig(format!("{name}: cannot read `{v}`"))),
    }
}

/// A one-line progress bar on stderr (one line per update when stderr is not a terminal).
struct Progress {
    total: usize,
    done: usize,
    unit: &'static str,
    /// Last 5 % step printed when stderr is a log file (one line per step, not per batch).
    printed: usize,
    start: Instant,
    tty: bool,
}

impl Progress {
    fn new(total: usize) -> Self {
        Self::with_unit(total, "epochs")
    }

    fn with_unit(total: usize, unit: &'static str) -> Self {
        Self { total, done: 0, unit, start: Instant::now(), tty: std::io::stderr().is_terminal(), printed: usize::MAX }
    }

    fn tick(&mut self, what: &str) {
        self.advance(1, what);
    }

    fn advance(&mut self, n: usize, what: &str) {
        self.done = (self.done + n).min(self.total);
        let frac = self.done as f64 / self.total.max(1) as f64;
        let width = 30;
        let filled = (frac * width as f64).round() as usize;
        let elapsed = self.start.elapsed().as_secs_f64();
        let eta = if self.done > 0 { elapsed / self.done as f64 * (self.total - self.done) as f64 } else { 0.0 };
        let line = format!(
            "[{}{}] {:3.0}% {}/{} {} · {what} · {:.0}s elapsed, ~{:.0}s left",
            "#".repeat(filled),
            "-".repeat(width - filled),
            frac * 100.0,
            self.done,
            self.total,
            self.unit,
            elapsed,
            eta
        );
        if self.tty {
            eprint!("\r{line}\x1b[K");
            if self.done == self.total {
                eprintln!();
            }
        } else if self.unit == "epochs" || (frac * 20.0) as usize != self.printed {
            self.printed = (frac * 20.0) as usize;
            eprintln!("{line}");
        }
        let _ = std::io::stderr().flush();
    }
}

fn write(path: &std::path::Path, bytes: impl AsRef<[u8]>) -> LabResult<()> {
    std::fs::write(path, bytes).map_err(|e| LabError::InvalidConfig(format!("cannot write {}: {e}", path.display())))
}

/// Writes a report bundle: `report.md` and its figures.
fn write_bundle(out: &std::path::Path, bundle: &Bundle) -> LabResult<()> {
    for (file, bytes) in &bundle.files {
        write(&out.join(file), bytes)?;
    }
    write(&out.join("report.md"), &bundle.markdown)
}

fn epoch_line(e: &EpochMetrics) -> String {
    format!("loss {:.4} · test acc {:.2}%", e.train_loss, e.test_acc * 100.0)
}

/// Factors swept for the accuracy-vs-parameters curve (no refinement).
const SWEEP: [f64; 12] = [1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 32.0, 100.0];

/// Exercise 1, headless: train, compress at each factor, refine, report.
fn compress(args: &[String]) -> LabResult<()> {
    let config = TrainConfig {
        epochs: parsed(args, "--epochs", 100)?,
        batch_size: parsed(args, "--batch-size", 128)?,
        lr: parsed(args, "--lr", 1e-3)?,
        seed: parsed(args, "--seed", 42)?,
        schedule: match flag(args, "--schedule").unwrap_or("cosine") {
            "cosine" => LrSchedule::Cosine,
            "constant" => LrSchedule::Constant,
            other => return Err(LabError::InvalidConfig(format!("--schedule must be cosine or constant, got `{other}`"))),
        },
        weight_decay: parsed(args, "--weight-decay", 1e-4)?,
    };
    config.validate()?;
    let refine_epochs: usize = parsed(args, "--refine-epochs", 10)?;
    let refine = TrainConfig { epochs: refine_epochs, ..config.clone() };
    if refine_epochs > 0 {
        refine.validate()?;
    }
    let factors: Vec<f64> = flag(args, "--factors")
        .unwrap_or("2,4,8")
        .split(',')
        .map(|f| f.trim().parse::<f64>().map_err(|_| LabError::InvalidConfig(format!("--factors: cannot read `{f}`"))))
        .collect::<LabResult<_>>()?;
    for &f in &factors {
        ranks::rank_for_factor(1, f)?;
    }
    let out = std::path::PathBuf::from(flag(args, "--out").unwrap_or("out/compress"));
    std::fs::create_dir_all(out.join("weights")).map_err(|e| LabError::InvalidConfig(format!("cannot create {}: {e}", out.display())))?;

    let mut data = load_dir(&data_dir(args), DatasetKind::Mnist)?;
    if let Some(n) = flag(args, "--train-subset") {
        let n: usize = n.parse().map_err(|_| LabError::InvalidConfig(format!("--train-subset: cannot read `{n}`")))?;
        data.train = data.train.take(n);
    }
    if data.train.is_empty() {
        return Err(LabError::EmptyDataset);
    }
    let started = Instant::now();
    let device = Device::flex().autodiff();
    device.seed(config.seed);
    let mut progress = Progress::new(config.epochs + factors.len() * refine_epochs);

    // 1. The base model.
    eprintln!("training the base model: {} epochs on {} images", config.epochs, data.train.len());
    let mut trainer = ClassifierTrainer::new(Mlp::new(&MLP_WIDTHS, &device), config.clone(), data.train.len(), &device)?;
    let mut base_epochs = Vec::new();
    while !trainer.finished() {
        let e = block_on(trainer.train_epoch(&data.train, &data.test))?;
        progress.tick(&format!("base {}", epoch_line(&e)));
        base_epochs.push(e);
    }
    let base = trainer.into_model();
    let base_eval = block_on(evaluate(&base, &data.test, EVAL_BATCH, &device))?;
    let base_tensors = block_on(mlp_tensors(&base))?;
    let meta = BTreeMap::from([
        ("model".to_string(), "mnist-lab dense MLP 784-100-50-10".to_string()),
        ("command".to_string(), format!("mnist-lab compress {}", args.join(" "))),
        ("seed".to_string(), config.seed.to_string()),
        ("epochs".to_string(), config.epochs.to_string()),
        ("test_accuracy".to_string(), format!("{:.4}", base_eval.accuracy)),
    ]);
    write(&out.join("weights/base.safetensors"), encode_safetensors(&base_tensors, &meta))?;

    // 2. SVD of every layer, the sweep over ranks, and each factor with refinement.
    let spectrum = block_on(MlpSpectrum::of(&base))?;
    let shapes = spectrum.shapes();
    let mut sweep = Vec::new();
    for f in SWEEP {
        let ranks = spectrum.ranks_for_factor(f)?;
        let model = spectrum.build(&ranks, &device)?;
        let acc = block_on(evaluate(&model, &data.test, EVAL_BATCH, &device))?.accuracy;
        sweep.push(RankPoint { factor: f, params: params_for(&shapes, &ranks), ranks, test_acc: acc });
    }
    let mut summaries = vec![mlp_summary(&base)];
    let mut compressed = Vec::new();
    for &f in &factors {
        let ranks = spectrum.ranks_for_factor(f)?;
        let model = spectrum.build(&ranks, &device)?;
        summaries.push(factorized_summary(&model));
        let before = block_on(evaluate(&model, &data.test, EVAL_BATCH, &device))?;
        eprintln!("{f}×: ranks {ranks:?}, {} parameters, test accuracy after SVD {:.2}%", model.num_params(), before.accuracy * 100.0);
        let params = model.num_params();
        let (model, epochs) = if refine_epochs > 0 {
            let mut t = ClassifierTrainer::new(model, refine.clone(), data.train.len(), &device)?;
            let mut epochs = Vec::new();
            while !t.finished() {
                let e = block_on(t.train_epoch(&data.train, &data.test))?;
                progress.tick(&format!("{f}× refine {}", epoch_line(&e)));
                epochs.push(e);
            }
            (t.into_model(), epochs)
        } else {
            (model, Vec::new())
        };
        let after = block_on(evaluate(&model, &data.test, EVAL_BATCH, &device))?;
        let tensors = block_on(factorized_tensors(&model))?;
        write(&out.join(format!("weights/compressed-{f}x.safetensors")), encode_safetensors(&tensors, &BTreeMap::new()))?;
        compressed.push(CompressedRun { factor: f, ranks, params, test_acc_before_refine: before.accuracy, epochs, confusion: after.confusion });
    }

    // 3. Figures, metrics.json and the report (the same bundle the page exports).
    let spectra: Vec<Vec<f64>> = spectrum.layers.iter().map(|(s, _)| s.singular_values.clone()).collect();

    let metrics = CompressionMetrics {
        base: BaseRun { params: base.num_params(), epochs: base_epochs, confusion: base_eval.confusion },
        compressed,
    };
    write(&out.join("metrics.json"), serde_json::to_string_pretty(&metrics).expect("metrics serialise"))?;
    let ctx = ReportContext {
        config,
        refine_epochs,
        summaries,
        spectra,
        shapes,
        sweep,
        seconds: started.elapsed().as_secs_f64(),
        backend: "Flex CPU".into(),
        plots: Vec::new(),
    };
    write_bundle(&out, &compression_report(&metrics, ctx))?;
    println!("base test accuracy {:.2}%", base_eval.accuracy * 100.0);
    for c in &metrics.compressed {
        let after = c.epochs.last().map(|e| e.test_acc).unwrap_or(c.test_acc_before_refine);
        println!("{}×: ranks {:?}, {} params, {:.2}% after SVD, {:.2}% after refinement", c.factor, c.ranks, c.params, c.test_acc_before_refine * 100.0, after * 100.0);
    }
    println!("wrote {}", out.join("report.md").display());
    Ok(())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Native benchmarks: what the rank slider and training cost on the CPU backend.
fn bench(args: &[String]) -> LabResult<()> {
    let runs: usize = parsed(args, "--runs", 5)?;
    crate::lab::core::error::check_count("--runs", runs, 1, 100)?;
    let out = std::path::PathBuf::from(flag(args, "--out").unwrap_or("target/bench/native.json"));
    let data = load_dir(&data_dir(args), DatasetKind::Mnist)?;
    let device = Device::flex().autodiff();
    device.seed(1);
    let config = TrainConfig { epochs: runs, ..TrainConfig::default() };
    let mut trainer = ClassifierTrainer::new(Mlp::new(&MLP_WIDTHS, &device), config, data.train.len(), &device)?;
    let mut epoch_s = Vec::new();
    while !trainer.finished() {
        let t = Instant::now();
        block_on(trainer.train_chunk(&data.train, usize::MAX))?;
        epoch_s.push(t.elapsed().as_secs_f64());
    }
    let epoch = median(epoch_s);
    println!("base training epoch (60000 images, batch 128, Adam): {:.3} s median of {runs} → {:.0} samples/s", epoch, 60000.0 / epoch);
    let model = trainer.into_model();
    let mut breakdown = Vec::new();
    for batch in [128, 512] {
        let row = step_breakdown::mlp_step_breakdown(&data.train, batch, 20 * runs, &device)?;
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
        println!("{factor:>5}×  ranks {ranks:?}: SVD + rebuild + 10k evaluation {ms:.1} ms (test acc {:.2}%)", acc * 100.0);
        rows.push(serde_json::json!({"factor": factor, "ranks": ranks, "svd_rebuild_eval_ms": ms}));
    }
    let gan_steps = gan::bench_steps(&data_dir(args), runs)?;
    let json = serde_json::json!({
        "gan_steps": gan_steps,
        "machine": format!("{} logical CPUs, {}", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1), std::env::consts::ARCH),
        "backend": "Flex CPU (native, rayon + SIMD)",
        "runs": runs,
        "base_epoch_s": epoch,
        "base_samples_per_s": 60000.0 / epoch,
        "mlp_step_breakdown": breakdown,
        "rank_rebuild": rows,
    });
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| LabError::InvalidConfig(format!("cannot create {}: {e}", dir.display())))?;
    }
    write(&out, serde_json::to_string_pretty(&json).expect("json"))?;
    println!("wrote {}", out.display());
    Ok(())
}
