//! The command line, declared with clap (derive): every subcommand has `--help`, an unknown or
//! malformed flag is refused with the usage line, and numbers are typed here and then checked
//! by the same `validate` rules as the page's forms.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::cli::device::DeviceFlag;

/// MNIST Lab's engine, headless: the exercises' runs, reports and benchmarks.
#[derive(Debug, Parser)]
#[command(name = "mnist-lab", version, about, long_about = None)]
pub struct Cli {
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check both data sets and print their counts.
    Data(DataArgs),
    /// A few hundred Adam steps of the MLP on MNIST (CPU).
    Smoke(SmokeArgs),
    /// Exercise 1: train the 784-100-50-10 MLP, compress it by truncated SVD at each factor,
    /// refine each, and write DIR/report.md, DIR/metrics.json, plots and weights.
    Compress(CompressArgs),
    /// A saved model (the dense base, or a factorized model from compress or the page) on your
    /// own IDX files: accuracy and confusion matrix.
    Evaluate(EvaluateArgs),
    /// Exercise 2: train a GAN on Fashion-MNIST and write DIR/report.md, DIR/metrics.json,
    /// plots, sample grids (epochs 1, 10, 20, …) and the weights of G and D.
    Gan(GanArgs),
    /// Train the Fashion-MNIST classifier behind the GAN quality score.
    Judge(JudgeArgs),
}

/// A long run in pieces: `gan` and `compress` save every epoch.
#[derive(Debug, Clone, Args)]
pub struct Pieces {
    /// Continue the run in DIR from its last saved epoch (its own settings; the other flags but
    /// --pause-after and --device are ignored; bit for bit on the same device).
    #[arg(long, value_name = "DIR")]
    pub resume: Option<PathBuf>,
    /// Stop after N epochs of this invocation, with the checkpoint saved (continue with
    /// --resume); `gan --resume DIR --pause-after 0` writes the report of the epochs saved so
    /// far without training.
    #[arg(long, value_name = "N")]
    pub pause_after: Option<u64>,
}

/// Where the data sets are.
#[derive(Debug, Clone, Args)]
pub struct DataDir {
    /// The folder holding data/mnist and data/fashion-mnist (run `make data` first).
    #[arg(long = "data", value_name = "DIR", default_value = "static")]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct DataArgs {
    #[command(flatten)]
    pub data: DataDir,
}

#[derive(Debug, Args)]
pub struct SmokeArgs {
    /// Adam steps.
    #[arg(long, value_name = "N", default_value_t = 300)]
    pub steps: usize,
    #[command(flatten)]
    pub data: DataDir,
    #[command(flatten)]
    pub device: DeviceFlag,
}

/// The learning-rate schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScheduleArg {
    // Cosine decay to 0 over the run.
    Cosine,
    // The same rate throughout.
    Constant,
}

/// Which rank rule(s) to compress with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RankRuleArg {
    // k = int(n/f) per layer (the exercise's rule).
    Seed,
    // The same parameter count spread over the layers by retained spectral energy.
    Budget,
    // Both, side by side.
    Both,
}

#[derive(Debug, Clone, Args)]
#[command(allow_negative_numbers = true)]
pub struct CompressArgs {
    /// Epochs of base training.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub epochs: usize,
    /// Epochs of refinement per compressed model (0: none).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub refine_epochs: usize,
    /// Compression factors f (k = int(n/f)), comma-separated.
    #[arg(long, value_name = "F,F,…", value_delimiter = ',', default_value = "2,4,8")]
    pub factors: Vec<f64>,
    /// Batch size.
    #[arg(long, value_name = "N", default_value_t = 128)]
    pub batch_size: usize,
    /// Adam's learning rate.
    #[arg(long, value_name = "LR", default_value_t = 1e-3)]
    pub lr: f64,
    /// Learning-rate schedule: cosine decay to 0 over the run, or constant.
    #[arg(long, value_enum, default_value_t = ScheduleArg::Cosine)]
    pub schedule: ScheduleArg,
    /// L2 weight decay.
    #[arg(long, value_name = "W", default_value_t = 1e-4)]
    pub weight_decay: f64,
    /// Seed of the initialisation and the shuffles.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// The refinement's learning rate (default 0.01, chosen in docs/exercise1/refine-recipes.md).
    #[arg(long, value_name = "LR")]
    pub refine_lr: Option<f64>,
    /// The refinement's schedule over its epochs (default: cosine).
    #[arg(long, value_enum, value_name = "SCHEDULE")]
    pub refine_schedule: Option<ScheduleArg>,
    /// The refinement's L2 weight decay (default: none).
    #[arg(long, value_name = "W")]
    pub refine_weight_decay: Option<f64>,
    /// Run the whole exercise N times (seeds S, S+1, …) into DIR/seed-<seed>/, then write each
    /// number's mean ± standard deviation to DIR/seeds.md and seeds.json.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub seeds: u64,
    /// Train on the first N training images only.
    #[arg(long, value_name = "N")]
    pub train_subset: Option<usize>,
    /// Rank rule(s): seed = k = int(n/f) per layer (the exercise's), budget = the same
    /// parameter count spread over the layers by retained spectral energy, both = side by side.
    #[arg(long, value_enum, default_value_t = RankRuleArg::Seed)]
    pub rank_rule: RankRuleArg,
    /// Your own training images (IDX, raw or .gz) instead of MNIST's; the test set stays MNIST's.
    #[arg(long, value_name = "FILE", requires = "train_labels")]
    pub train_images: Option<PathBuf>,
    /// The labels of --train-images.
    #[arg(long, value_name = "FILE", requires = "train_images")]
    pub train_labels: Option<PathBuf>,
    /// Where the report, metrics, plots and weights go.
    #[arg(long, value_name = "DIR", default_value = "out/compress")]
    pub out: PathBuf,
    #[command(flatten)]
    pub pieces: Pieces,
    #[command(flatten)]
    pub data: DataDir,
    #[command(flatten)]
    pub device: DeviceFlag,
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The model: a dense or factorized safetensors file.
    #[arg(long, value_name = "FILE")]
    pub weights: PathBuf,
    /// IDX images (raw or .gz).
    #[arg(long, value_name = "FILE")]
    pub images: PathBuf,
    /// IDX labels (raw or .gz).
    #[arg(long, value_name = "FILE")]
    pub labels: PathBuf,
    #[command(flatten)]
    pub device: DeviceFlag,
}

/// Which GAN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ArchArg {
    // 100 → 128 → 256 → 512 → 784 with batch norm.
    Dense,
    // DCGAN-style: 5×5 stride-2 (transposed) convolutions, 7×7×128.
    Cnn,
}

#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct GanArgs {
    /// Which networks: dense (100-128-256-512-784 with batch norm) or cnn (DCGAN-style, 5×5
    /// stride-2 convolutions, 7×7×128).
    #[arg(long, value_enum, default_value_t = ArchArg::Dense)]
    pub arch: ArchArg,
    /// Epochs.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub epochs: usize,
    /// Batch size.
    #[arg(long, value_name = "N", default_value_t = 128)]
    pub batch_size: usize,
    /// Both learning rates at once (--lr-g / --lr-d override it).
    #[arg(long, value_name = "LR")]
    pub lr: Option<f64>,
    /// G's learning rate (default: --lr, else 2e-4).
    #[arg(long, value_name = "LR")]
    pub lr_g: Option<f64>,
    /// D's learning rate (default: --lr, else 2e-4).
    #[arg(long, value_name = "LR")]
    pub lr_d: Option<f64>,
    /// Adam's β₁.
    #[arg(long, value_name = "B", default_value_t = 0.5)]
    pub beta1: f64,
    /// One-sided label smoothing (real labels 0.9).
    #[arg(long)]
    pub soft_labels: bool,
    /// Instance noise σ added to D's inputs.
    #[arg(long, value_name = "SIGMA", default_value_t = 0.0)]
    pub noise: f64,
    /// Epochs over which the instance noise fades to 0 (0: constant).
    #[arg(long, value_name = "EPOCHS", default_value_t = 0)]
    pub noise_anneal: usize,
    /// Seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Train on the first N images only.
    #[arg(long, value_name = "N")]
    pub train_subset: Option<usize>,
    /// Quality numbers every N epochs and at the last (0: never).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub quality_every: usize,
    /// Samples per quality measurement.
    #[arg(long, value_name = "N", default_value_t = crate::lab::gan::quality::QUALITY_SAMPLES)]
    pub quality_samples: usize,
    /// The quality judge's weights (trained first when missing).
    #[arg(long, value_name = "FILE", default_value = crate::cli::common::JUDGE_PATH)]
    pub judge: PathBuf,
    /// Where the report goes (default: out/gan-ARCH).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub pieces: Pieces,
    #[command(flatten)]
    pub data: DataDir,
    #[command(flatten)]
    pub device: DeviceFlag,
}

#[derive(Debug, Args)]
pub struct JudgeArgs {
    /// Epochs.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub epochs: usize,
    /// Seed.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Where the weights go.
    #[arg(long, value_name = "FILE", default_value = crate::cli::common::JUDGE_PATH)]
    pub out: PathBuf,
    #[command(flatten)]
    pub data: DataDir,
    #[command(flatten)]
    pub device: DeviceFlag,
}
