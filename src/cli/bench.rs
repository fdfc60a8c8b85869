//! `mnist-lab bench`: native benchmarks of the engine → target/bench/native.json.

use std::time::Instant;

use futures_lite::future::block_on;

use crate::cli::args::BenchArgs;
use crate::cli::common::{median, write};
use crate::lab::classifier::eval::{EVAL_BATCH, evaluate};
use crate::lab::classifier::mlp::{MLP_WIDTHS, Mlp};
use crate::lab::classifier::train::{ClassifierTrainer, TrainConfig};
use crate::lab::compress::factorized::MlpSpectrum;
use crate::lab::core::error::{LabError, LabResult};
use crate::lab::data::{DatasetKind, load_dir};

/// Native benchmarks: what the rank slider and training cost on the CPU backend.
pub(crate) fn bench(args: &BenchArgs) -> LabResult<()> {
    let runs = args.runs;
    crate::lab::core::error::check_count("--runs", runs, 1, 100)?;
    let out = args.out.clone();
    let data = load_dir(&args.data.dir, DatasetKind::Mnist)?;
    let opened = crate::cli::device::open(args.device.device)?;
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
            crate::cli::step_breakdown::mlp_step_breakdown(&data.train, batch, 20 * runs, &device)?;
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
    let gan_steps = crate::cli::gan::bench_steps(&args.data.dir, runs, &opened.device)?;
    let ceiling = crate::cli::bench_flops::gemm_ceiling_gflops();
    println!("this machine's ceiling: a 1536³ f32 GEMM on rayon's threads, {ceiling:.1} GFLOP/s");
    let json = serde_json::json!({
        "gan_steps": gan_steps,
        "gemm_ceiling_gflops": ceiling,
        "machine": format!("{} logical CPUs, {}", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1), std::env::consts::ARCH),
        "backend": match args.device.device {
            crate::cli::device::DeviceArg::Flex => "Flex CPU (native, rayon + SIMD)".to_string(),
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
