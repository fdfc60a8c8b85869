//! Messages between the page and the training worker (JSON over `postMessage`), so the UI
//! thread only renders typed progress and never runs a training step.

use serde::{Deserialize, Serialize};

use crate::app::backend::BackendKind;
pub use crate::app::worker::record::{BaseRef, RunRecord, RunSpec, SnapshotRecord};
pub use crate::app::worker::user_data::{DataRef, UserData};
use crate::lab::classifier::metrics::{ConfusionMatrix, EpochMetrics};
use crate::lab::classifier::train::TrainConfig;
use crate::lab::compress::ranks::RankRule;
use crate::lab::core::safetensors::NamedTensor;
use crate::lab::gan::quality::Quality;
use crate::lab::gan::{GanArch, GanChunk, GanConfig};

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
        /// Time a few steps on WebGPU and on the CPU first, and run on the faster (`backend` is
        /// then only the default the page chose).
        #[serde(default)]
        measure: bool,
        /// Train on the user's own set instead of MNIST's training images.
        #[serde(default)]
        data: Option<UserData>,
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
        /// Where `base` came from, in words (kept with the run, for the report).
        #[serde(default)]
        base_described: String,
        /// The rank rule these ranks follow at `factor` (`None`: ranks set by hand).
        #[serde(default)]
        rule: Option<RankRule>,
        /// Time a few steps on WebGPU and on the CPU first, and run on the faster (`backend` is
        /// then only the default the page chose).
        #[serde(default)]
        measure: bool,
        /// Refine on the user's own set instead of MNIST's training images.
        #[serde(default)]
        data: Option<UserData>,
    },
    /// Train a GAN on Fashion-MNIST, streaming losses, sample grids and snapshots.
    Gan {
        /// Hyper-parameters (validated again here).
        config: GanConfig,
        /// Where to compute.
        backend: BackendKind,
        /// Train on the first n images only.
        subset: Option<usize>,
        /// Time a few steps on WebGPU and on the CPU first, and run on the faster (`backend` is
        /// then only the default the page chose).
        #[serde(default)]
        measure: bool,
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
        /// Seed of [`crate::lab::gan::sampling::grid_noise`].
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
    /// Reopen a stored run: continue it from its last checkpoint (or show it, if it finished).
    ResumeRun {
        /// The run's id in the store.
        id: String,
        /// Where to compute now (a lost GPU continues on the CPU).
        backend: BackendKind,
        /// A new learning rate (G's, for a GAN), e.g. lower after a divergence.
        lr: Option<f64>,
        /// A new discriminator learning rate (GAN runs).
        lr_d: Option<f64>,
        /// The user's set loaded in the page now (a run that trained on the user's files needs
        /// them again; the worker checks they are the same).
        #[serde(default)]
        data: Option<UserData>,
    },
    /// The Diagnostics view's smoke train: `steps` Adam steps of the MLP on MNIST.
    Smoke {
        /// How many steps.
        steps: usize,
        /// Where to compute.
        backend: BackendKind,
    },
    /// The Diagnostics view's timing of the MLP's step on both backends.
    Bench {
        /// The browser has a WebGPU adapter (else WebGPU is not tried).
        has_gpu: bool,
    },
    /// Test hook: destroy the worker's WebGPU device, as a driver reset would.
    LoseDevice,
    /// Test hook: make the next chunk of batches count as diverged (NaN), as a too-high
    /// learning rate would.
    Diverge,
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
    /// One smoke-train step: its loss and the mean time per step so far.
    SmokeStep {
        /// Where it ran (the CPU when WebGPU was asked for and failed to start).
        backend: BackendKind,
        /// 1-based.
        step: usize,
        /// The batch's loss.
        loss: f64,
        /// Mean milliseconds per step so far.
        ms_per_step: f64,
    },
    /// The smoke train ran all its steps.
    SmokeDone,
    /// One backend's time per MLP step, or why it could not be measured.
    Bench {
        /// Which backend.
        backend: BackendKind,
        /// Milliseconds per step.
        ms: Result<f64, String>,
    },
    /// Both backends are timed.
    BenchDone,
    /// The worker's wasm is up and listening. Messages posted before this are lost (the
    /// worker's `onmessage` does not exist yet), so the page queues them until it arrives.
    Ready,
    /// The worker's backend is up and the data is loaded.
    Started {
        /// Backend title as the banner writes it.
        backend: String,
        /// Batches per epoch.
        batches_per_epoch: usize,
        /// How the backend was picked, when the worker measured it ("measured WebGPU 3.1
        /// ms/step vs CPU 4.8 ms/step → WebGPU").
        #[serde(default)]
        chosen: Option<String>,
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
        /// What a step costs: warm-up and steady-state time, and its WebGPU work.
        #[serde(default)]
        cost: StepCost,
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
    /// The run's loop is waiting at the pause gate: sent when it arrives there and every 10
    /// polls (50 ms each) after, so the page (and a test) knows the loop has truly stopped
    /// rather than guessing from elapsed time.
    Held {
        /// Polls spent at the gate so far.
        polls: u32,
    },
    /// Going again.
    Resumed,
    /// Stopped on request.
    Stopped,
    /// All epochs ran; the trained weights.
    Done {
        /// `layers.{i}.weight` / `.bias`.
        tensors: Vec<NamedTensor>,
    },
    /// A refinement finished: the refined (factorized) model's weights, sent just before its
    /// table row, so the page can draw with it and export it.
    RefinedWeights {
        /// The compression factor these ranks came from.
        factor: f64,
        /// The rank rule they follow (`None`: set by hand).
        rule: Option<RankRule>,
        /// Rank per layer.
        ranks: Vec<usize>,
        /// Its test accuracy.
        accuracy: f64,
        /// Its test-set confusion matrix.
        confusion: Box<ConfusionMatrix>,
        /// Its predicted class of each test image.
        predictions: Vec<u8>,
        /// `layers.{i}.first.weight`, `layers.{i}.second.{weight,bias}`.
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
        /// How the backend was picked, when the worker measured it ("measured WebGPU 3.1
        /// ms/step vs CPU 4.8 ms/step → WebGPU").
        #[serde(default)]
        chosen: Option<String>,
    },
    /// A chunk of GAN batches is done (with the epoch's numbers when it closed one).
    GanProgress {
        /// The chunk's numbers.
        chunk: Box<GanChunk>,
        /// Wall-clock milliseconds per training step (D step + G step) in this chunk.
        ms_per_batch: f64,
        /// What a step costs: warm-up and steady-state time, and its WebGPU work.
        #[serde(default)]
        cost: StepCost,
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
    /// The run's record and checkpoint are in the browser's store (epoch 0: just created).
    RunSaved {
        /// The run's id in the store.
        id: String,
        /// Epochs the saved checkpoint holds.
        epoch: usize,
    },
    /// Saving a checkpoint failed (a full disk, most likely); training goes on.
    SaveFailed(String),
    /// A stored run was reopened: its record, so the page shows the history before new epochs.
    RunRestored(Box<RunRecord>),
    /// Training produced NaN or infinity: the run is paused at its last checkpoint.
    Halted {
        /// What happened and what to do, in a sentence.
        message: String,
        /// The run to resume.
        id: String,
    },
    /// The WebGPU device was lost (driver reset, GPU removed, the test hook): the run is paused;
    /// its last checkpoint is in the store.
    DeviceLost(String),
    /// The WebGPU device was lost while no run was going: the worker ends (its device is dead),
    /// and the next run starts in a fresh worker on a new device.
    DeviceLostIdle(String),
    /// The worker panicked: it is unusable now; the run's last checkpoint is in the store.
    Crashed(String),
    /// The run failed (bad setting, failed readback): the message says why.
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
    #[serde(with = "crate::lab::core::finite::kept")]
    pub before: f64,
    /// Test accuracy after refinement.
    #[serde(with = "crate::lab::core::finite::kept")]
    pub after: f64,
}

/// The WebGPU work of a training step, counted by wrappers `static/worker-boot.js` installs
/// around the browser's WebGPU calls (per step; `pipelines` is per job).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct GpuCounts {
    /// Compute dispatches (`dispatchWorkgroups`).
    pub dispatches: f64,
    /// Queue submits.
    pub submits: f64,
    /// Uploads: `writeBuffer` calls and buffers mapped at creation.
    pub uploads: f64,
    /// Bytes those uploads carried.
    pub upload_bytes: f64,
    /// Readbacks (`mapAsync`).
    pub readbacks: f64,
    /// Compute pipelines compiled.
    pub pipelines: f64,
    /// Launches of our own kernels (`lab::core::kernels`), counted by the engine: a step whose
    /// kernels silently fell back to burn's operations shows 0 here.
    #[serde(default)]
    pub kernels: f64,
}

impl GpuCounts {
    /// `self - earlier`, divided by `steps`.
    pub fn per_step(&self, earlier: &GpuCounts, steps: usize) -> GpuCounts {
        let n = steps.max(1) as f64;
        GpuCounts {
            dispatches: (self.dispatches - earlier.dispatches) / n,
            submits: (self.submits - earlier.submits) / n,
            uploads: (self.uploads - earlier.uploads) / n,
            upload_bytes: (self.upload_bytes - earlier.upload_bytes) / n,
            readbacks: (self.readbacks - earlier.readbacks) / n,
            pipelines: (self.pipelines - earlier.pipelines) / n,
            kernels: (self.kernels - earlier.kernels) / n,
        }
    }
}

/// What a job's training steps cost so far. The first chunk, and any chunk that compiled a new
/// pipeline, count as warm-up (shader compilation, first allocations); the rest as steady state.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct StepCost {
    /// Mean milliseconds per step in the steady state (none yet: only warm-up so far).
    pub steady_ms: Option<f64>,
    /// Steps measured in the steady state.
    pub steady_steps: usize,
    /// Mean milliseconds per step during warm-up.
    pub warmup_ms: Option<f64>,
    /// Steps measured during warm-up.
    pub warmup_steps: usize,
    /// WebGPU work per step in the latest steady chunk (the latest chunk while warming up);
    /// none on the CPU backend.
    pub gpu: Option<GpuCounts>,
    /// Compute pipelines the job has compiled so far.
    pub pipelines: f64,
}
