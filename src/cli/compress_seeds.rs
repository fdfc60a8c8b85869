//! `mnist-lab compress --seeds N` (#36): the whole exercise N times, seeds S, S+1, …, each in
//! DIR/seed-<seed>/ exactly as a single run with that seed writes it (bit for bit), then the
//! spread over the runs in DIR/seeds.md and DIR/seeds.json. Run it again with the same DIR to
//! continue: finished seeds are kept, an interrupted one resumes from its last epoch.

use crate::cli::args::CompressArgs;
use crate::cli::common::write;
use crate::cli::compress::compress;
use crate::lab::compress::report::CompressionMetrics;
use crate::lab::compress::seed_bands::seed_bands_svg;
use crate::lab::compress::seeds::{SEED_BANDS_FILE, SeedRun, seeds_markdown, summarize};
use crate::lab::core::error::{LabError, LabResult};

/// Runs every seed that has no metrics yet, then writes the summary.
pub(crate) fn compress_seeds(args: &CompressArgs) -> LabResult<()> {
    if args.pieces.resume.is_some() {
        return Err(LabError::InvalidConfig(
            "--seeds continues by itself: run the same command again with the same --out".into(),
        ));
    }
    let mut runs = Vec::new();
    for seed in args.seed..args.seed + args.seeds {
        let dir = args.out.join(format!("seed-{seed}"));
        let metrics = dir.join("metrics.json");
        if !metrics.is_file() {
            let mut one = args.clone();
            (one.seed, one.seeds, one.out) = (seed, 1, dir.clone());
            if dir.join("checkpoint").is_dir() {
                one.pieces.resume = Some(dir.clone());
            }
            eprintln!(
                "seed {seed} ({} of {}): {}",
                seed - args.seed + 1,
                args.seeds,
                dir.display()
            );
            compress(&one)?;
            if !metrics.is_file() {
                // --pause-after stopped this seed: the summary waits for every run.
                return Ok(());
            }
        }
        let text = std::fs::read_to_string(&metrics).map_err(|e| {
            LabError::InvalidConfig(format!("cannot read {}: {e}", metrics.display()))
        })?;
        let metrics: CompressionMetrics = serde_json::from_str(&text).map_err(|e| {
            LabError::InvalidConfig(format!("{} does not parse: {e}", metrics.display()))
        })?;
        runs.push(SeedRun { seed, metrics });
    }
    let summary = summarize(&runs)?;
    let json = serde_json::to_string_pretty(&(&summary, &runs))
        .map_err(|e| LabError::InvalidConfig(format!("cannot encode the summary: {e}")))?;
    write(&args.out.join("seeds.json"), json.as_bytes())?;
    write(&args.out.join(SEED_BANDS_FILE), seed_bands_svg(&summary).as_bytes())?;
    write(&args.out.join("seeds.md"), seeds_markdown(&summary, &runs).as_bytes())?;
    println!("wrote {} ({} runs)", args.out.join("seeds.md").display(), runs.len());
    Ok(())
}
