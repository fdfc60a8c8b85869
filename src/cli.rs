//! The native command line over the same engine the browser runs.

use futures_lite::future::block_on;

use clap::Parser;

use crate::cli::args::{Cli, Command, DataArgs, SmokeArgs};
use crate::lab::classifier::eval::evaluate;
use crate::lab::classifier::mlp::{MLP_WIDTHS, Mlp};
use crate::lab::classifier::train::{ClassifierTrainer, TrainConfig};
use crate::lab::core::error::LabResult;
use crate::lab::data::{DatasetKind, load_dir};

pub mod args;
pub mod common;
mod compress;
mod compress_seeds;
pub mod device;
mod evaluate;
mod gan;
mod resume;

/// Runs the command line `args` (without the program name); the exit code: 0, 1 for a failed
/// command, 2 for a malformed command line (clap prints the usage).
pub fn main(args: Vec<String>) -> i32 {
    let cli = match Cli::try_parse_from(std::iter::once("mnist-lab".to_string()).chain(args)) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    let result = match &cli.command {
        Command::Data(a) => data(a),
        Command::Smoke(a) => smoke(a),
        Command::Compress(a) if a.seeds > 1 => compress_seeds::compress_seeds(a),
        Command::Compress(a) => compress::compress(a),
        Command::Evaluate(a) => evaluate::evaluate_files(a),
        Command::Gan(a) => gan::gan(a),
        Command::Judge(a) => gan::judge(a),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

fn data(args: &DataArgs) -> LabResult<()> {
    let root = &args.data.dir;
    for kind in DatasetKind::ALL {
        let tt = load_dir(root, kind)?;
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

fn smoke(args: &SmokeArgs) -> LabResult<()> {
    let steps = args.steps;
    crate::lab::core::error::check_count("--steps", steps, 1, 1_000_000)?;
    let tt = load_dir(&args.data.dir, DatasetKind::Mnist)?;
    let opened = device::open(args.device.device)?;
    eprintln!("device: {}", opened.name);
    let device = opened.device.autodiff();
    let config = TrainConfig::smoke();
    device.seed(config.seed);
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
