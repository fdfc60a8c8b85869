//! The native command line over the same engine the browser runs.

use burn::tensor::Device;
use futures_lite::future::block_on;

use crate::cli::common::{data_dir, flag};
use crate::lab::classifier::eval::evaluate;
use crate::lab::classifier::mlp::{MLP_WIDTHS, Mlp};
use crate::lab::classifier::train::{ClassifierTrainer, LrSchedule, TrainConfig};
use crate::lab::core::error::LabResult;
use crate::lab::data::{DatasetKind, load_dir};

mod bench;
mod bench_report;
mod common;
mod compress;
mod dist;
mod evaluate;
mod gan;
mod step_breakdown;

const USAGE: &str = "mnist-lab — the MNIST Lab engine, headless

USAGE:
  mnist-lab data  [--data DIR]              check both data sets and print their counts
  mnist-lab smoke [--data DIR] [--steps N]  a few hundred Adam steps of the MLP on MNIST (CPU)
  mnist-lab compress [--epochs 100] [--refine-epochs 10] [--factors 2,4,8] [--batch-size 128]
                     [--lr 0.001] [--schedule cosine|constant] [--weight-decay 1e-4] [--seed 42] [--train-subset N]
                     [--rank-rule seed|budget|both] [--train-images FILE --train-labels FILE]
                     [--out DIR] [--data DIR]
      exercise 1: train the 784-100-50-10 MLP, compress it by truncated SVD at each factor
      (seed rule: k = int(n/f) per layer; budget rule: the same parameter count spread over
      the layers by retained spectral energy), refine each, and write DIR/report.md, DIR/metrics.json,
      DIR/*.svg plots and DIR/weights/*.safetensors (default DIR: out/compress); --train-images and
      --train-labels (IDX, raw or .gz) train and refine on your own files instead of MNIST's
  mnist-lab evaluate --weights FILE --images FILE --labels FILE
      a saved model (the dense base, or a factorized model from compress or the page) on your own
      IDX files (raw or .gz): accuracy and confusion matrix
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
        Some("compress") => compress::compress(&args[1..]),
        Some("bench") => bench::bench(&args[1..]),
        Some("gan") => gan::gan(&args[1..]),
        Some("judge") => gan::judge(&args[1..]),
        Some("bench-report") => bench_report::bench_report(&args[1..]),
        Some("harden-dist") => dist::harden_dist(&args[1..]),
        Some("evaluate") => evaluate::evaluate_files(&args[1..]),
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

fn data(args: &[String]) -> LabResult<()> {
    let root = data_dir(args);
    for kind in DatasetKind::ALL {
        let tt = load_dir(&root, kind)?;
        println!(
            "{}: {} train / {} test, train classes {:?}",
            kind.title(),
            tt.train.len(),
            tt.test.len(),
            tt.train.class_counts()
        );
    }
    Ok(())
}

fn smoke(args: &[String]) -> LabResult<()> {
    let steps: usize = match flag(args, "--steps").map(str::parse) {
        None => 300,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            return Err(crate::lab::core::error::LabError::InvalidConfig(
                "--steps must be a whole number".into(),
            ));
        }
    };
    let tt = load_dir(&data_dir(args), DatasetKind::Mnist)?;
    let device = Device::flex().autodiff();
    device.seed(7);
    let config = TrainConfig {
        epochs: 1000,
        batch_size: 128,
        lr: 1e-3,
        seed: 7,
        schedule: LrSchedule::Constant,
        weight_decay: 0.0,
    };
    let mut trainer =
        ClassifierTrainer::new(Mlp::new(&MLP_WIDTHS, &device), config, tt.train.len(), &device)?;
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
