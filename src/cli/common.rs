//! What the commands share: flags, the data folder, progress lines with time left, and
//! writing files and report bundles.

use std::io::{IsTerminal, Write};
use std::time::Instant;

use crate::lab::classifier::metrics::EpochMetrics;
use crate::lab::core::bundle::Bundle;
use crate::lab::core::error::{LabError, LabResult};

/// Where the shipped quality judge lives.
pub const JUDGE_PATH: &str = "static/models/fashion-judge-784-256-64-10.safetensors";

/// The command as typed ("mnist-lab compress --epochs 5"), for the metadata of the files it
/// writes.
pub(crate) fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!("mnist-lab {}", args.join(" "))
}

/// A one-line progress bar on stderr (one line per update when stderr is not a terminal).
pub(crate) struct Progress {
    total: usize,
    done: usize,
    unit: &'static str,
    /// Last 5 % step printed when stderr is a log file (one line per step, not per batch).
    printed: usize,
    start: Instant,
    tty: bool,
}

impl Progress {
    pub(crate) fn new(total: usize) -> Self {
        Self::with_unit(total, "epochs")
    }

    pub(crate) fn with_unit(total: usize, unit: &'static str) -> Self {
        Self {
            total,
            done: 0,
            unit,
            start: Instant::now(),
            tty: std::io::stderr().is_terminal(),
            printed: usize::MAX,
        }
    }

    pub(crate) fn tick(&mut self, what: &str) {
        self.advance(1, what);
    }

    pub(crate) fn advance(&mut self, n: usize, what: &str) {
        self.done = (self.done + n).min(self.total);
        let frac = self.done as f64 / self.total.max(1) as f64;
        let width = 30;
        let filled = (frac * width as f64).round() as usize;
        let elapsed = self.start.elapsed().as_secs_f64();
        let eta = if self.done > 0 {
            elapsed / self.done as f64 * (self.total - self.done) as f64
        } else {
            0.0
        };
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

pub(crate) fn write(path: &std::path::Path, bytes: impl AsRef<[u8]>) -> LabResult<()> {
    std::fs::write(path, bytes)
        .map_err(|e| LabError::InvalidConfig(format!("cannot write {}: {e}", path.display())))
}

/// Writes a report bundle: `report.md` and its figures.
pub(crate) fn write_bundle(out: &std::path::Path, bundle: &Bundle) -> LabResult<()> {
    for (file, bytes) in &bundle.files {
        write(&out.join(file), bytes)?;
    }
    write(&out.join("report.md"), &bundle.markdown)
}

pub(crate) fn epoch_line(e: &EpochMetrics) -> String {
    format!("loss {:.4} · test acc {:.2}%", e.train_loss, e.test_acc * 100.0)
}
