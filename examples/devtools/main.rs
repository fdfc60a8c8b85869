//! Developer tooling over MNIST Lab's engine, kept out of the user's CLI (#35): the native
//! benchmarks, the benchmark report and the hosted build's hardening. `make bench` and
//! `make dist` run it: `cargo run --release --example devtools -- <command> …`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use mnist_lab::cli::args::DataDir;
use mnist_lab::cli::device::DeviceFlag;
use mnist_lab::lab::core::error::{LabError, LabResult};

mod bench;
mod dist;
mod flops;
mod native_report;
mod offline;
mod peers_report;
mod report;
mod site_report;
mod step_breakdown;

/// MNIST Lab's developer tools: benchmarks, their report, the hosted build.
#[derive(Debug, Parser)]
#[command(name = "devtools", about, long_about = None)]
struct Tools {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Native CPU benchmarks → JSON (`make bench` runs it).
    Bench(BenchArgs),
    /// Merge the native, browser and peer benchmark JSON into results.json and BENCHMARKS.md.
    BenchReport(BenchReportArgs),
    /// Make trunk's output (built with --public-url ./) a static site for any sub-path: the
    /// start-up script moves to init.js, a strict Content-Security-Policy and _headers are added,
    /// and the offline copy's service worker gets every file's SHA-256 (`make dist` runs it).
    HardenDist(HardenDistArgs),
}

#[derive(Debug, Args)]
struct BenchArgs {
    /// Repetitions per measurement (the median is kept).
    #[arg(long, value_name = "N", default_value_t = 5)]
    runs: usize,
    /// The JSON file written.
    #[arg(long, value_name = "FILE", default_value = "target/bench/native.json")]
    out: PathBuf,
    #[command(flatten)]
    data: DataDir,
    #[command(flatten)]
    device: DeviceFlag,
}

#[derive(Debug, Args)]
struct BenchReportArgs {
    /// Native results (devtools bench).
    #[arg(long, value_name = "FILE", default_value = "target/bench/native.json")]
    native: PathBuf,
    /// The native results on --device vulkan (devtools bench --device vulkan), when present.
    #[arg(long, value_name = "FILE", default_value = "target/bench/native-vulkan.json")]
    vulkan: PathBuf,
    /// Browser results (examples/bench_browser).
    #[arg(long, value_name = "FILE", default_value = "target/bench/browser.json")]
    browser: PathBuf,
    /// The peers' results (examples/bench_peers), when present.
    #[arg(long, value_name = "FILE", default_value = "target/bench/peers.json")]
    peers: PathBuf,
    /// Alternating rounds of our MLP step and jax-js's (make bench-rounds: ours-N.json and
    /// jaxjs-N.json), when present.
    #[arg(long, value_name = "DIR", default_value = "target/bench/rounds")]
    rounds: PathBuf,
    /// The hosted build's first visit, second visit and offline start (examples/bench_site), when
    /// present.
    #[arg(long, value_name = "FILE", default_value = "target/bench/site.json")]
    site: PathBuf,
    /// A note for the report's head.
    #[arg(long, value_name = "TEXT")]
    note: Option<String>,
    /// The merged JSON written.
    #[arg(long, value_name = "FILE", default_value = "target/bench/results.json")]
    json: PathBuf,
    /// The Markdown written.
    #[arg(long, value_name = "FILE", default_value = "BENCHMARKS.md")]
    out: PathBuf,
}

#[derive(Debug, Args)]
struct HardenDistArgs {
    /// trunk's output folder.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// The data sets' SHA-256 sums, which the service worker checks every download against.
    #[arg(long, value_name = "FILE", default_value = "scripts/data.sha256")]
    data_sha256: PathBuf,
}

fn main() {
    let tools = Tools::parse();
    let result = match &tools.command {
        Command::Bench(a) => bench::bench(a),
        Command::BenchReport(a) => report::bench_report(a),
        Command::HardenDist(a) => dist::harden_dist(a),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn write(path: &std::path::Path, bytes: impl AsRef<[u8]>) -> LabResult<()> {
    std::fs::write(path, bytes)
        .map_err(|e| LabError::InvalidConfig(format!("cannot write {}: {e}", path.display())))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Milliseconds for a benchmark table: "1.23 s", "45 ms", "6.7 ms", or "did not finish".
fn ms(v: &serde_json::Value) -> String {
    match v.as_f64() {
        Some(x) if x >= 1000.0 => format!("{:.2} s", x / 1000.0),
        Some(x) if x >= 10.0 => format!("{x:.0} ms"),
        Some(x) => format!("{x:.1} ms"),
        None => "did not finish".into(),
    }
}
