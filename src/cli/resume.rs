//! Long CLI runs survive: after every epoch `gan` and `compress` write DIR/checkpoint/ — the
//! trainer's checkpoint (the same format the page stores), the run's settings and history so
//! far, and (GAN) the sample grids — so `--resume DIR` continues where it stopped, bit for bit on the same device,
//! and the report covers the whole run. Each epoch goes to its own folder and `latest` is
//! switched to it last (files written whole, then renamed): a run killed mid-save resumes from
//! the epoch before.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::lab::classifier::metrics::EpochMetrics;
use crate::lab::classifier::train::TrainConfig;
use crate::lab::compress::ranks::RankRule;
use crate::lab::compress::report::CompressedRun;
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
    /// The devices it ran on, in order (a run resumed elsewhere names each; records written
    /// before `--device` existed ran on Flex).
    #[serde(default)]
    pub devices: Vec<String>,
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

/// Saves a run after an epoch into `out/checkpoint/epoch-NNN/` (`step`: epochs done in all) and
/// then points `out/checkpoint/latest` at it (new grids only); older epochs' folders go after.
pub(crate) fn save_state<T: Serialize>(
    out: &Path,
    step: usize,
    run: &T,
    checkpoint: &Checkpoint,
    grids: &Grids,
) -> LabResult<()> {
    let dir = out.join("checkpoint");
    let this = dir.join(format!("epoch-{step:03}"));
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
    write_whole(&dir.join("latest"), format!("epoch-{step:03}").as_bytes())?;
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

/// Reads the run record and checkpoint that [`save_state`] last completed in `out`; `what`
/// names the command, for the message when there is none.
pub(crate) fn load_state<T: DeserializeOwned>(
    out: &Path,
    what: &str,
) -> LabResult<(T, Checkpoint)> {
    let dir = out.join("checkpoint");
    let latest = std::fs::read_to_string(dir.join("latest")).map_err(|e| {
        io("resume from", out, format!("{e} (no checkpoint/latest: was it a {what} run?)"))
    })?;
    let this = dir.join(latest.trim());
    let run: T = serde_json::from_slice(
        &std::fs::read(this.join("run.json")).map_err(|e| io("read", &this, e))?,
    )
    .map_err(|e| io("read", &this.join("run.json"), e))?;
    let bytes = std::fs::read(this.join("state.bin")).map_err(|e| io("read", &this, e))?;
    Ok((run, Checkpoint::from_bytes(&bytes)?))
}

fn check_version(out: &Path, version: u32) -> LabResult<()> {
    if version == RESUME_VERSION {
        return Ok(());
    }
    Err(LabError::InvalidConfig(format!(
        "{} was written by another version (format {version}, this one reads {RESUME_VERSION})",
        out.display()
    )))
}

/// Notes that this invocation runs on `device` (`resumed`: the run has epochs from before).
pub(crate) fn note_device(devices: &mut Vec<String>, device: &str, resumed: bool) {
    if devices.is_empty() && resumed {
        devices.push("Flex CPU".into());
    }
    if devices.last().map(String::as_str) != Some(device) {
        devices.push(device.to_string());
    }
}

/// The devices for a report: "Flex CPU", or "Flex CPU, then Vulkan: …" for a run resumed
/// elsewhere.
pub(crate) fn devices_text(devices: &[String]) -> String {
    devices.join(", then ")
}

/// Saves a GAN run after an epoch.
pub(crate) fn save_gan(
    out: &Path,
    run: &GanRun,
    checkpoint: &Checkpoint,
    grids: &Grids,
) -> LabResult<()> {
    save_state(out, run.history.len(), run, checkpoint, grids)
}

/// Reads a GAN run back, checking that its parts belong together.
pub(crate) fn load_gan(out: &Path) -> LabResult<(GanRun, Checkpoint, Grids)> {
    let (run, checkpoint): (GanRun, Checkpoint) = load_state(out, "gan")?;
    check_version(out, run.version)?;
    if checkpoint.loop_state.epochs_done != run.history.len() {
        return Err(LabError::InvalidConfig(format!(
            "{}: the checkpoint has {} epochs but its record {}",
            out.display(),
            checkpoint.loop_state.epochs_done,
            run.history.len()
        )));
    }
    let dir = out.join("checkpoint");
    let mut grids = Vec::new();
    for &epoch in &run.grid_epochs {
        let f = grid_file(&dir, epoch);
        grids.push((epoch, std::fs::read(&f).map_err(|e| io("read", &f, e))?));
    }
    Ok((run, checkpoint, grids))
}

/// Everything an exercise-1 run needs to go on, besides the network in training.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CompressRun {
    pub version: u32,
    pub config: TrainConfig,
    pub refine_epochs: usize,
    /// The refinement's own optimiser settings, when they differ from the base's (older runs:
    /// the base's).
    #[serde(default)]
    pub refine: Option<TrainConfig>,
    pub factors: Vec<f64>,
    pub rules: Vec<RankRule>,
    pub train_subset: Option<usize>,
    pub train_files: Option<(PathBuf, PathBuf)>,
    pub data: PathBuf,
    /// The base model's epochs so far (all of them once it is trained: its weights are then in
    /// `weights/base.safetensors`).
    pub base_epochs: Vec<EpochMetrics>,
    /// Finished refinements, in the order run.
    pub compressed: Vec<CompressedRun>,
    /// Epochs of the refinement in progress (the next in order).
    pub refining: Vec<EpochMetrics>,
    /// Training seconds so far (over all invocations).
    pub seconds: f64,
    /// The devices it ran on, in order (a run resumed elsewhere names each; records written
    /// before `--device` existed ran on Flex).
    #[serde(default)]
    pub devices: Vec<String>,
}

impl CompressRun {
    /// Epochs done in all: base and refinements.
    pub(crate) fn steps(&self) -> usize {
        self.base_epochs.len()
            + self.compressed.iter().map(|c| c.epochs.len()).sum::<usize>()
            + self.refining.len()
    }
}

/// Reads an exercise-1 run back, checking that its checkpoint is the stage's.
pub(crate) fn load_compress(out: &Path) -> LabResult<(CompressRun, Checkpoint)> {
    let (run, checkpoint): (CompressRun, Checkpoint) = load_state(out, "compress")?;
    check_version(out, run.version)?;
    // The checkpoint is the base trainer's while the base trains, then the refinement's in
    // progress (none to check between two refinements).
    let expected = if run.base_epochs.len() < run.config.epochs {
        Some(run.base_epochs.len())
    } else if !run.refining.is_empty() {
        Some(run.refining.len())
    } else {
        None
    };
    if let Some(n) = expected.filter(|&n| n != checkpoint.loop_state.epochs_done) {
        return Err(LabError::InvalidConfig(format!(
            "{}: the checkpoint has {} epochs but its record {n}",
            out.display(),
            checkpoint.loop_state.epochs_done
        )));
    }
    Ok((run, checkpoint))
}

/// A new exercise-1 run's record.
pub(crate) fn new_compress_run(
    config: TrainConfig,
    refine_epochs: usize,
    (factors, rules): (Vec<f64>, Vec<RankRule>),
    train_subset: Option<usize>,
    train_files: Option<(PathBuf, PathBuf)>,
    data: PathBuf,
) -> CompressRun {
    CompressRun {
        version: RESUME_VERSION,
        config,
        refine_epochs,
        refine: None,
        factors,
        rules,
        train_subset,
        train_files,
        data,
        base_epochs: Vec::new(),
        compressed: Vec::new(),
        refining: Vec::new(),
        seconds: 0.0,
        devices: Vec::new(),
    }
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
        devices: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_names_every_device_it_ran_on_once_in_order() {
        let mut d = Vec::new();
        note_device(&mut d, "Flex CPU", false);
        note_device(&mut d, "Flex CPU", true);
        assert_eq!(devices_text(&d), "Flex CPU");
        note_device(&mut d, "Vulkan: llvmpipe", true);
        assert_eq!(devices_text(&d), "Flex CPU, then Vulkan: llvmpipe");
        // A record from before --device existed ran on Flex.
        let mut old = Vec::new();
        note_device(&mut old, "Vulkan: llvmpipe", true);
        assert_eq!(devices_text(&old), "Flex CPU, then Vulkan: llvmpipe");
        // An old record read back has no `devices` field at all.
        let json = serde_json::to_value(new_gan_run(
            GanConfig::default(),
            None,
            (0, 10),
            PathBuf::from("j"),
            PathBuf::from("d"),
        ))
        .unwrap();
        let mut legacy = json.as_object().unwrap().clone();
        legacy.remove("devices");
        let run: GanRun = serde_json::from_value(legacy.into()).unwrap();
        assert!(run.devices.is_empty());
    }
}
