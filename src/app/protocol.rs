//! Messages between the page and the training worker (JSON over `postMessage`), so the UI
//! thread only renders typed progress and never runs a training step.

use serde::{Deserialize, Serialize};

use crate::app::backend::BackendKind;
use crate::lab::gan::quality::Quality;
use crate::lab::gan::{GanArch, GanChunk, GanConfig};
use crate::lab::metrics::ConfusionMatrix;
use crate::lab::report::EpochMetrics;
use crate::lab::train::TrainConfig;
use crate::lab::weights::NamedTensor;

/// Page → worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ToWorker {
    /// Train a fresh MLP on MNIST (the first `subset` training images if given).
    Train {
        /// Hyper-parameters (already validated by the page; validated again here).
        config: TrainConfig,
        /// Where to compute.
        backend: BackendKind,
        /// Train on the first n images only (tests, quick looks).
        subset: Option<usize>,
    },
    /// Factorise `base` at `ranks` by SVD, then refine the factorized model on MNIST.
    Refine {
        /// The base model's weights (`layers.{i}.weight` / `.bias`).
        base: Vec<NamedTensor>,
        /// Rank per layer.
        ranks: Vec<usize>,
        /// The compression factor these ranks came from (for the comparison table).
        factor: f64,
        /// Refinement hyper-parameters.
        config: TrainConfig,
        /// Where to compute.
        backend: BackendKind,
        /// Refine on the first n training images only.
        subset: Option<usize>,
    },
    /// Train a GAN on Fashion-MNIST, streaming losses, sample grids and snapshots.
    Gan {
        /// Hyper-parameters (validated again here).
        config: GanConfig,
        /// Where to compute.
        backend: BackendKind,
        /// Train on the first n images only.
        subset: Option<usize>,
    },
    /// Show the shipped pretrained generator of `arch` (if there is one) on the canvas.
    Pretrained {
        /// Which generator.
        arch: GanArch,
        /// The canvas's noise seed.
        noise_seed: u64,
    },
    /// Redraw the canvas from a new fixed-noise batch (seeded, so the page knows the vectors).
    Noise {
        /// Seed of [`crate::lab::gan::trainer::grid_noise`].
        seed: u64,
    },
    /// Images along the straight line between two latent vectors, with the latest generator.
    Walk {
        /// Start (100 values).
        a: Vec<f32>,
        /// End (100 values).
        b: Vec<f32>,
        /// Images, ends included.
        steps: usize,
    },
    /// Hold after the current chunk of batches.
    Pause,
    /// Carry on.
    Resume,
    /// Give up the run.
    Stop,
}

/// Worker → page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum FromWorker {
    /// The worker's wasm is up and listening. Messages posted before this are lost (the
    /// worker's `onmessage` does not exist yet), so the page queues them until it arrives.
    Ready,
    /// The worker's backend is up and the data is loaded.
    Started {
        /// Backend title as the banner writes it.
        backend: String,
        /// Batches per epoch.
        batches_per_epoch: usize,
    },
    /// A chunk of batches is done.
    Progress {
        /// 1-based epoch.
        epoch: usize,
        /// Batches done in it.
        batch: usize,
        /// Mean loss of the chunk.
        loss: f64,
        /// Wall-clock milliseconds per Adam step in this chunk (readback included).
        ms_per_batch: f64,
    },
    /// An epoch is done and evaluated on the test set.
    Epoch {
        /// Its row of the table.
        metrics: EpochMetrics,
        /// Test-set confusion matrix (boxed: it is large next to the other messages).
        confusion: Box<ConfusionMatrix>,
        /// Predicted class of each test image.
        predictions: Vec<u8>,
    },
    /// Holding.
    Paused,
    /// Going again.
    Resumed,
    /// Stopped on request.
    Stopped,
    /// All epochs ran; the trained weights.
    Done {
        /// `layers.{i}.weight` / `.bias`.
        tensors: Vec<NamedTensor>,
    },
    /// A refinement finished: one row of the comparison table.
    Refined(RefineRow),
    /// A GAN run is set up.
    GanStarted {
        /// Backend title.
        backend: String,
        /// Batches per epoch.
        batches_per_epoch: usize,
    },
    /// A chunk of GAN batches is done (with the epoch's numbers when it closed one).
    GanProgress {
        /// The chunk's numbers.
        chunk: Box<GanChunk>,
        /// Wall-clock milliseconds per training step (D step + G step) in this chunk.
        ms_per_batch: f64,
    },
    /// The canvas: 64 images as bytes (0 = black), 784 each, from the current noise.
    GanSamples {
        /// Epoch the generator is in (0 = pretrained / not trained yet).
        epoch: usize,
        /// `64 × 784` bytes.
        images: Vec<u8>,
    },
    /// A gallery snapshot from the run's fixed noise, with the quality numbers when measured.
    GanSnapshot {
        /// Epoch just finished.
        epoch: usize,
        /// `64 × 784` bytes.
        images: Vec<u8>,
        /// Fréchet distance and score, if the judge is available.
        quality: Option<Quality>,
    },
    /// The latent walk's images (`steps × 784` bytes).
    Walk(Vec<u8>),
    /// A GAN run finished all its epochs.
    GanDone,
    /// The run failed (bad setting, lost device, NaN): the message says why.
    Failed(String),
}

/// Encodes a message for `postMessage`.
pub fn encode<T: Serialize>(msg: &T) -> wasm_bindgen::JsValue {
    wasm_bindgen::JsValue::from_str(&serde_json::to_string(msg).expect("messages serialise"))
}

/// Decodes a message from a `MessageEvent`'s data.
pub fn decode<T: for<'de> Deserialize<'de>>(data: &wasm_bindgen::JsValue) -> Result<T, String> {
    let text = data.as_string().ok_or("a message that is not text")?;
    serde_json::from_str(&text).map_err(|e| format!("a malformed message: {e}"))
}

/// One compression setting, before and after refinement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefineRow {
    /// Compression factor.
    pub factor: f64,
    /// Rank per layer.
    pub ranks: Vec<usize>,
    /// Trainable parameters.
    pub params: usize,
    /// Test accuracy straight after the SVD.
    pub before: f64,
    /// Test accuracy after refinement.
    pub after: f64,
}
