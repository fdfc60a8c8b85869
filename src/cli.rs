//! The native command line over the same engine the browser runs.

use std::path::PathBuf;

use burn::tensor::Device;
use futures_lite::future::block_on;

use crate::lab::data::{DatasetKind, load_dir};
use crate::lab::error::LabResult;
use crate::lab::mlp::{MLP_WIDTHS, Mlp};
use crate::lab::train::{ClassifierTrainer, TrainConfig, evaluate};

const USAGE: &str = "mnist-lab — the MNIST Lab engine, headless

USAGE:
  mnist-lab data  [--data DIR]              check both data sets and print their counts
  mnist-lab smoke [--data DIR] [--steps N]  a few hundred Adam steps of the MLP on MNIST (CPU)

--data DIR defaults to ./static (run `make data` first).";

/// Runs the CLI; returns the process exit code.
pub fn main(args: Vec<String>) -> i32 {
    let result = match args.first().map(String::as_str) {
        Some("data") => data(&args[1..]),
        Some("smoke") => smoke(&args[1..]),
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
        Some(Err(_)) => return Err(crate::lab::error::LabError::InvalidConfig("--steps must be a whole number".into())),
    };
    let tt = load_dir(&data_dir(args), DatasetKind::Mnist)?;
    let device = Device::flex().autodiff();
    device.seed(7);
    let config = TrainConfig { epochs: 1000, batch_size: 128, lr: 1e-3, seed: 7 };
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
