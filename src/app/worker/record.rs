//! The run store's record of a run: what it trains ([`RunSpec`]), its history and snapshots,
//! with a schema version, and the one way to read a stored record back ([`decode_record`]):
//! older formats are migrated, a newer or damaged one is a reason the run list shows.

use serde::{Deserialize, Serialize};

use crate::app::backend::BackendKind;
use crate::app::worker::user_data::DataRef;
use crate::lab::classifier::metrics::{ConfusionMatrix, EpochMetrics};
use crate::lab::classifier::train::TrainConfig;
use crate::lab::compress::ranks::RankRule;
use crate::lab::gan::GanConfig;
use crate::lab::gan::quality::Quality;

/// The record format this page writes. 1: records before the field existed (non-finite
/// numbers were written as `null`, which the float fields now read as NaN); 2: non-finite
/// numbers by name, the field present.
pub const RUN_SCHEMA: u32 = 2;

fn schema_one() -> u32 {
    1
}

/// What a stored run is, enough to rebuild its trainer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RunSpec {
    /// The exercise-1 classifier from scratch.
    Classifier {
        /// Hyper-parameters.
        config: TrainConfig,
        /// Training subset.
        subset: Option<usize>,
        /// The user's set it trains on (`None`: MNIST's training images).
        #[serde(default)]
        data: Option<DataRef>,
    },
    /// Refinement of a factorized model.
    Refine {
        /// Rank per layer.
        ranks: Vec<usize>,
        /// Compression factor.
        factor: f64,
        /// Test accuracy straight after the SVD.
        #[serde(with = "crate::lab::core::finite::kept")]
        before: f64,
        /// Hyper-parameters.
        config: TrainConfig,
        /// Training subset.
        subset: Option<usize>,
        /// The model it refined (absent in records made before it was kept).
        #[serde(default)]
        base: Option<BaseRef>,
        /// The rank rule its ranks follow (`None`: set by hand, or an older record).
        #[serde(default)]
        rule: Option<RankRule>,
        /// The user's set it refines on (`None`: MNIST's training images).
        #[serde(default)]
        data: Option<DataRef>,
    },
    /// A GAN.
    Gan {
        /// Hyper-parameters.
        config: GanConfig,
        /// Training subset.
        subset: Option<usize>,
    },
}

/// Which base model a refinement started from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaseRef {
    /// [`crate::lab::core::safetensors::fingerprint`] of its tensors.
    pub fingerprint: String,
    /// In words: "the shipped pretrained model", "the model you trained in this page", …
    pub described: String,
}

impl RunSpec {
    /// Epochs the run is set to.
    pub fn epochs(&self) -> usize {
        match self {
            RunSpec::Classifier { config, .. } | RunSpec::Refine { config, .. } => config.epochs,
            RunSpec::Gan { config, .. } => config.epochs,
        }
    }

    /// The user's set the run trains on, if not MNIST's.
    pub fn data(&self) -> Option<&DataRef> {
        match self {
            RunSpec::Classifier { data, .. } | RunSpec::Refine { data, .. } => data.as_ref(),
            RunSpec::Gan { .. } => None,
        }
    }

    /// The kind of run, as the run list names it.
    pub fn title(&self) -> String {
        let on = self.data().map(|d| format!(" · on {}", d.described())).unwrap_or_default();
        let kind = match self {
            RunSpec::Classifier { config, .. } => {
                format!("classifier · batch {} · lr {}", config.batch_size, config.lr)
            }
            RunSpec::Refine { ranks, factor, .. } => {
                format!("refinement {factor}× · ranks {ranks:?}")
            }
            RunSpec::Gan { config, .. } => {
                format!("{} GAN · batch {}", config.arch.slug(), config.batch_size)
            }
        };
        kind + &on
    }

    /// Which panel shows it.
    pub fn panel(&self) -> &'static str {
        match self {
            RunSpec::Classifier { .. } => "train",
            RunSpec::Refine { .. } => "refine",
            RunSpec::Gan { .. } => "gan",
        }
    }
}

/// A fixed-noise snapshot kept with a GAN run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotRecord {
    /// Epoch.
    pub epoch: usize,
    /// `64 × 784` bytes.
    pub images: Vec<u8>,
    /// Quality numbers, when measured.
    pub quality: Option<Quality>,
}

/// A run as the store keeps it (the checkpoint bytes live beside it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The record format ([`RUN_SCHEMA`]; 1 when absent).
    #[serde(default = "schema_one")]
    pub schema: u32,
    /// Unique id (kind and start time).
    pub id: String,
    /// What it trains.
    pub spec: RunSpec,
    /// Backend it last ran on.
    pub backend: BackendKind,
    /// Start time, ms since the epoch.
    pub created_ms: f64,
    /// Last save, ms since the epoch.
    pub updated_ms: f64,
    /// Epochs in the checkpoint.
    pub epochs_done: usize,
    /// True once all epochs ran.
    pub finished: bool,
    /// Classifier / refinement rows, one per epoch.
    pub history: Vec<EpochMetrics>,
    /// GAN rows, one per epoch.
    pub gan_history: Vec<crate::lab::gan::GanEpoch>,
    /// GAN fixed-noise snapshots.
    pub snapshots: Vec<SnapshotRecord>,
    /// Why it stopped, if it did not finish (diverged, lost device).
    pub note: Option<String>,
    /// Test-set confusion matrix after the last epoch (classifier and refinement runs).
    #[serde(default)]
    pub confusion: Option<ConfusionMatrix>,
    /// GAN runs: the quality judge's test accuracy and the score of real images, when it ran.
    #[serde(default, with = "crate::lab::core::finite::kept_pair")]
    pub judge: Option<(f64, f64)>,
    /// Milliseconds per training step as the worker last measured them (steady state once there
    /// is one): the guide's estimate of a step's time on this device. Absent in older records.
    #[serde(default)]
    pub ms_per_step: Option<f64>,
    /// Milliseconds spent training, over every session of the run (pauses and the time between
    /// sessions excluded), so a reopened run says how long it took. Absent in older records.
    #[serde(default)]
    pub train_ms: Option<f64>,
}

/// Reads a stored record: any format up to [`RUN_SCHEMA`], migrated to the current one; a record
/// from a newer page or one that does not parse is an error that says why.
pub fn decode_record(text: &str) -> Result<RunRecord, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not a readable record ({e})"))?;
    let schema = match value.get("schema") {
        None => 1,
        Some(v) => v.as_u64().ok_or_else(|| format!("its format number {v} is not a number"))?,
    };
    if schema > u64::from(RUN_SCHEMA) {
        return Err(format!(
            "saved by a newer version of MNIST Lab (record format {schema}; this page reads up to {RUN_SCHEMA})"
        ));
    }
    // Migrations, oldest first. 1 → 2 changed no field: its `null` floats read as NaN, and the
    // fields added since have defaults.
    let mut record: RunRecord =
        serde_json::from_value(value).map_err(|e| format!("a field does not fit ({e})"))?;
    record.schema = RUN_SCHEMA;
    Ok(record)
}
