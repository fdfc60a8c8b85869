//! Long CLI runs survive: after every epoch `gan` writes DIR/checkpoint/ — the trainer's
//! checkpoint (the same format the page stores), the run's settings and history so far, and the
//! sample grids — so `--resume DIR` continues where it stopped, bit for bit on the same device,
//! and the report covers the whole run. Each epoch goes to its own folder and `latest` is
//! switched to it last (files written whole, then renamed): a run killed mid-save resumes from
//! the epoch before.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::lab::core::checkpoint::Checkpoint;
use crate::lab::core::error::{LabError, LabResult};
use crate::lab::gan::GanConfig;
use crate::lab::gan::progress::GanEpoch;
use crate::lab::gan::quality::Quality;

/// Sample grids by epoch, as PNG bytes.
pub(crate) type Grids = Vec<(usize, Vec<u8>)>;

/// The format of `run.json`.
const RESUME_VERSION: u32 = 1;

/// Everything a GAN run needs to go on, besides the networks.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct GanRun {
    pub version: u32,
    pub config: GanConfig,
    pub train_subset: Option<usize>,
    pub quality_every: usize,
    pub quality_samples: usize,
    pub judge: PathBuf,
    pub data: PathBuf,
    pub history: Vec<GanEpoch>,
    pub quality: Vec<Quality>,
    /// Epochs whose sample grid is saved as `grid-epoch-NNN.png`.
    pub grid_epochs: Vec<usize>,
    /// Training seconds so far (over all invocations).
    pub seconds: f64,
}

fn io(what: &str, path: &Path, e: impl std::fmt::Display) -> LabError {
    LabError::InvalidConfig(format!("cannot {what} {}: {e}", path.display()))
}

/// Writes `bytes` to `path` through a temporary file and a rename.
fn write_whole(path: &Path, bytes: &[u8]) -> LabResult<()> {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes).map_err(|e| io("write", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io("rename", path, e))
}

fn grid_file(dir: &Path, epoch: usize) -> PathBuf {
    dir.join(format!("grid-epoch-{epoch:03}.png"))
}

/// Saves the run after an epoch into `out/checkpoint/epoch-NNN/` and then points
/// `out/checkpoint/latest` at it (new grids only; older epochs' folders are removed after).
pub(crate) fn save_gan(
    out: &Path,
    run: &GanRun,
    checkpoint: &Checkpoint,
    grids: &Grids,
) -> LabResult<()> {
    let dir = out.join("checkpoint");
    let epoch = run.history.len();
    let this = dir.join(format!("epoch-{epoch:03}"));
    std::fs::create_dir_all(&this).map_err(|e| io("create", &this, e))?;
    for (epoch, png) in grids {
        let f = grid_file(&dir, *epoch);
        if !f.exists() {
            write_whole(&f, png)?;
        }
    }
    write_whole(&this.join("state.bin"), &checkpoint.to_bytes())?;
    write_whole(
        &this.join("run.json"),
        &serde_json::to_vec_pretty(run).expect("a run serialises"),
    )?;
    // Only now does the run move on: a crash before this line leaves the previous epoch in place.
    write_whole(&dir.join("latest"), format!("epoch-{epoch:03}").as_bytes())?;
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with("epoch-") && e.path() != this {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    Ok(())
}

/// Reads what [`save_gan`] last completed in `out`, checking that the parts belong together.
pub(crate) fn load_gan(out: &Path) -> LabResult<(GanRun, Checkpoint, Grids)> {
    let dir = out.join("checkpoint");
    let latest = std::fs::read_to_string(dir.join("latest")).map_err(|e| {
        io("resume from", out, format!("{e} (no checkpoint/latest: was it a gan run?)"))
    })?;
    let this = dir.join(latest.trim());
    let run: GanRun = serde_json::from_slice(
        &std::fs::read(this.join("run.json")).map_err(|e| io("read", &this, e))?,
    )
    .map_err(|e| io("read", &this.join("run.json"), e))?;
    if run.version != RESUME_VERSION {
        return Err(LabError::InvalidConfig(format!(
            "{} was written by another version (format {}, this one reads {RESUME_VERSION})",
            this.display(),
            run.version
        )));
    }
    let bytes = std::fs::read(this.join("state.bin")).map_err(|e| io("read", &this, e))?;
    let checkpoint = Checkpoint::from_bytes(&bytes)?;
    if checkpoint.loop_state.epochs_done != run.history.len() {
        return Err(LabError::InvalidConfig(format!(
            "{}: the checkpoint has {} epochs but its record {}",
            this.display(),
            checkpoint.loop_state.epochs_done,
            run.history.len()
        )));
    }
    let mut grids = Vec::new();
    for &epoch in &run.grid_epochs {
        let f = grid_file(&dir, epoch);
        grids.push((epoch, std::fs::read(&f).map_err(|e| io("read", &f, e))?));
    }
    Ok((run, checkpoint, grids))
}

/// A new run's record.
pub(crate) fn new_gan_run(
    config: GanConfig,
    train_subset: Option<usize>,
    quality: (usize, usize),
    judge: PathBuf,
    data: PathBuf,
) -> GanRun {
    GanRun {
        version: RESUME_VERSION,
        config,
        train_subset,
        quality_every: quality.0,
        quality_samples: quality.1,
        judge,
        data,
        history: Vec::new(),
        quality: Vec::new(),
        grid_epochs: Vec::new(),
        seconds: 0.0,
    }
}
