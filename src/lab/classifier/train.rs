//! Training and evaluating a classifier a few batches at a time.
//!
//! The browser cannot block: a WebGPU readback is a future, and the page must get control back
//! between batches. So the loop is a struct you drive (`train_chunk(n)`), reading metrics only
//! through async readbacks and only once per chunk. The CLI drives the very same code with
//! `block_on`.

use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::lab::classifier::eval::{EVAL_BATCH, evaluate};
use crate::lab::classifier::mlp::{Classifier, PIXEL_SCALE};
use crate::lab::core::adam::{Adam, AdamSettings};
use crate::lab::core::checkpoint::{Checkpoint, LoopState, ModuleState};
use crate::lab::core::error::{LabError, LabResult, check_count, check_range};
use crate::lab::core::kernels::{fused_dense_grads, fused_xent};
use crate::lab::core::readback::read_values;
use crate::lab::core::rng::SplitMix64;
use crate::lab::data::Dataset;
use crate::lab::data::batches::Batches;

/// How the learning rate moves over a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum LrSchedule {
    /// The same rate for every step.
    Constant,
    /// Cosine decay from `lr` to 0 over the run's steps: the late, small steps settle the weights
    /// instead of bouncing around a minimum, which gains a few tenths of a point of test accuracy.
    #[default]
    Cosine,
}

/// Hyper-parameters of a classifier run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Passes over the training set.
    pub epochs: usize,
    /// Images per Adam step.
    pub batch_size: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Seeds weight initialisation and shuffling.
    pub seed: u64,
    /// Learning-rate schedule over the run.
    #[serde(default)]
    pub schedule: LrSchedule,
    /// L2 penalty added to the gradient by Adam (0 = none): keeps 100 epochs from memorising
    /// the training set at the expense of test accuracy.
    #[serde(default)]
    pub weight_decay: f64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 100,
            batch_size: 128,
            lr: 1e-3,
            seed: 42,
            schedule: LrSchedule::Cosine,
            weight_decay: 1e-4,
        }
    }
}

impl TrainConfig {
    /// The smoke train's settings (the CLI's `smoke` and the page's, in a worker): Adam at a
    /// constant rate on batches of 128, seeded, with epochs to spare for any step count.
    pub fn smoke() -> Self {
        Self {
            epochs: 1000,
            batch_size: 128,
            lr: 1e-3,
            seed: 7,
            schedule: LrSchedule::Constant,
            weight_decay: 0.0,
        }
    }

    /// Refuses settings that cannot train (NaN or non-positive lr, zero batch, …).
    pub fn validate(&self) -> LabResult<()> {
        check_count("epochs", self.epochs, 1, 10_000)?;
        check_count("batch size", self.batch_size, 1, 60_000)?;
        check_range("learning rate", self.lr, 0.0, 10.0, false)?;
        check_range("weight decay", self.weight_decay, 0.0, 1.0, true)?;
        Ok(())
    }
}

/// A mean training loss above this counts as divergence, like NaN. Ten-class cross-entropy
/// starts at ln 10 ≈ 2.3 and a sane run stays below ~10; with Adam a too-high learning rate
/// rarely reaches NaN (its steps are bounded by the rate, and dead ReLUs stop the gradients):
/// it shows as a loss of 10⁴–10⁸ instead (6.5·10⁶ after one step at lr 10 here), which
/// training then only partly recovers from.
pub const DIVERGED_LOSS: f64 = 1e3;

/// Where a run is and what its last chunk of batches measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkReport {
    /// The epoch these batches belong to (1-based).
    pub epoch: usize,
    /// Batches done in that epoch so far.
    pub batch_in_epoch: usize,
    /// Batches in a full epoch.
    pub batches_per_epoch: usize,
    /// True when this chunk finished the epoch.
    pub epoch_finished: bool,
    /// Mean training loss over this chunk's batches.
    pub loss: f64,
    /// Training accuracy over this chunk's batches (as the weights moved).
    pub accuracy: f64,
    /// Images seen in this chunk.
    pub samples: usize,
}

pub fn adam_settings(config: &TrainConfig) -> AdamSettings {
    AdamSettings { weight_decay: config.weight_decay as f32, ..AdamSettings::default() }
}

/// Drives Adam on a classifier, batch by batch, with a seeded shuffle per epoch.
pub struct ClassifierTrainer<M: Classifier> {
    model: Option<M>,
    optim: Adam,
    config: TrainConfig,
    device: Device,
    loss_fn: CrossEntropyLoss,
    rng: SplitMix64,
    order: Vec<usize>,
    cursor: usize,
    epochs_done: usize,
    /// The chunk's summed loss and correct count `[2]`, on the device until the chunk's read.
    pending: Option<Tensor<1>>,
    pending_samples: usize,
    steps_done: usize,
    batches: Batches,
    /// Whether the loss runs as one fused kernel on WebGPU (`core::kernels::fused_xent`).
    kernels: bool,
}

impl<M: Classifier> ClassifierTrainer<M> {
    /// Starts training `model`, which must live on `device` (an autodiff device).
    pub fn new(
        model: M,
        config: TrainConfig,
        train_len: usize,
        device: &Device,
    ) -> LabResult<Self> {
        config.validate()?;
        if train_len == 0 {
            return Err(LabError::EmptyDataset);
        }
        Ok(Self {
            model: Some(model),
            optim: Adam::new(adam_settings(&config)),
            rng: SplitMix64::new(config.seed ^ 0x5EED),
            config,
            device: device.clone(),
            loss_fn: CrossEntropyLossConfig::new().init(device),
            order: (0..train_len).collect(),
            cursor: 0,
            epochs_done: 0,
            pending: None,
            pending_samples: 0,
            steps_done: 0,
            batches: Batches::new(false),
            kernels: true,
        })
    }

    /// The same trainer with burn's operations only (batches built on the host, burn's loss):
    /// the reference the WebGPU kernels are tested against.
    pub fn without_kernels(mut self) -> Self {
        self.batches = Batches::new(true);
        self.kernels = false;
        self.optim.disable_kernels();
        self
    }

    /// The model as trained so far.
    pub fn model(&self) -> &M {
        self.model.as_ref().expect("model is only taken inside step")
    }

    /// Gives the trained model back.
    pub fn into_model(self) -> M {
        self.model.expect("model is only taken inside step")
    }

    /// The run's settings.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// Full epochs completed.
    pub fn epochs_done(&self) -> usize {
        self.epochs_done
    }

    /// True once every configured epoch has run.
    pub fn finished(&self) -> bool {
        self.epochs_done >= self.config.epochs
    }

    /// Batches in one epoch (the last one may be short).
    pub fn batches_per_epoch(&self) -> usize {
        self.order.len().div_ceil(self.config.batch_size)
    }

    /// The learning rate of the next step, following the schedule.
    pub fn current_lr(&self) -> f64 {
        match self.config.schedule {
            LrSchedule::Constant => self.config.lr,
            LrSchedule::Cosine => {
                let total = (self.config.epochs * self.batches_per_epoch()).max(1) as f64;
                let t = (self.steps_done as f64 / total).min(1.0);
                self.config.lr * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
            }
        }
    }

    /// One Adam step on the next batch; metrics stay on the device until the chunk is read.
    pub fn step(&mut self, data: &Dataset) -> LabResult<()> {
        if data.len() != self.order.len() {
            return Err(LabError::InvalidConfig(format!(
                "the training set changed size ({} → {} items) during the run",
                self.order.len(),
                data.len()
            )));
        }
        if self.cursor == 0 {
            self.rng.shuffle(&mut self.order);
            self.batches.reorder();
        }
        let end = (self.cursor + self.config.batch_size).min(self.order.len());
        let n = end - self.cursor;
        let (x, y) = self.batches.batch(
            data,
            &self.order,
            (self.cursor, end),
            (PIXEL_SCALE, 0.0),
            &self.device,
        );

        let model = self.model.take().expect("model present between steps");
        let acc =
            self.pending.get_or_insert_with(|| Tensor::zeros([2], &self.device.clone().inner()));
        // A stack of dense layers: forward and backward passes by our kernels, no autodiff.
        let dense = match model.dense_layers() {
            Some(layers) if self.kernels => fused_dense_grads(&layers, &x.clone().inner(), &y, acc),
            _ => None,
        };
        if let Some(grads) = dense {
            self.finish_step(model, grads, n, end);
            return Ok(());
        }
        let logits = model.logits(x);
        let fused = if self.kernels { fused_xent(&logits.clone().inner(), &y, acc) } else { None };
        let grads = match fused {
            // ∂/∂logits of sum(logits · ∇) is ∇: the kernel's gradient enters autodiff there.
            Some(dlogits) => (logits * dlogits).sum().backward(),
            None => {
                let loss = self.loss_fn.forward(logits.clone(), y.clone());
                let correct = logits.detach().inner().argmax(1).squeeze_dim::<1>(1).equal(y);
                let sums = Tensor::cat(
                    vec![loss.clone().detach().inner() * n as f32, correct.int().sum().float()],
                    0,
                );
                *acc = acc.clone() + sums;
                loss.backward()
            }
        };
        let grads = GradientsParams::from_grads(grads, &model);
        self.finish_step(model, grads, n, end);
        Ok(())
    }

    /// The optimiser's step and the bookkeeping after a batch of `n` items ending at `end`.
    fn finish_step(&mut self, model: M, grads: GradientsParams, n: usize, end: usize) {
        self.model = Some(self.optim.step(self.current_lr(), model, grads));
        self.steps_done += 1;
        self.pending_samples += n;
        self.cursor = end;
        if self.cursor >= self.order.len() {
            self.cursor = 0;
            self.epochs_done += 1;
        }
    }

    /// Runs up to `max_batches` steps (never past the end of an epoch), then reads the chunk's
    /// loss and accuracy with one async readback. Stops with [`LabError::NonFinite`] on NaN, ±∞
    /// or a loss above [`DIVERGED_LOSS`].
    pub async fn train_chunk(
        &mut self,
        data: &Dataset,
        max_batches: usize,
    ) -> LabResult<ChunkReport> {
        if self.finished() {
            return Err(LabError::InvalidConfig(
                "the run has already finished all its epochs".into(),
            ));
        }
        let epoch = self.epochs_done + 1;
        for _ in 0..max_batches.max(1) {
            self.step(data)?;
            if self.cursor == 0 {
                break;
            }
        }
        let epoch_finished = self.cursor == 0;
        let batch_in_epoch = if epoch_finished {
            self.batches_per_epoch()
        } else {
            self.cursor.div_ceil(self.config.batch_size)
        };
        let sums = self.pending.take().expect("at least one step ran");
        let samples = std::mem::take(&mut self.pending_samples);
        // One readback for the chunk (each is a round trip to the GPU): the correct count is
        // exact as a float (< 2^24).
        let sums = read_values(sums).await?;
        let [loss_sum, correct] = sums[..] else {
            return Err(LabError::device(format!("read {} values, expected 2", sums.len())));
        };
        let correct = correct as i64;
        let loss = loss_sum as f64 / samples as f64;
        if !loss.is_finite() || loss > DIVERGED_LOSS {
            return Err(LabError::NonFinite { what: "training loss", value: loss as f32, epoch });
        }
        Ok(ChunkReport {
            epoch,
            batch_in_epoch,
            batches_per_epoch: self.batches_per_epoch(),
            epoch_finished,
            loss,
            accuracy: correct as f64 / samples as f64,
            samples,
        })
    }
}

impl<M: Classifier> ClassifierTrainer<M> {
    /// A checkpoint at this epoch boundary (refused mid-epoch: a checkpoint is an epoch's end),
    /// Adam's moments included.
    pub async fn checkpoint(&self) -> LabResult<Checkpoint> {
        if self.cursor != 0 || self.pending.is_some() {
            return Err(LabError::InvalidConfig(
                "a checkpoint is taken at the end of an epoch".into(),
            ));
        }
        let model = ModuleState::capture(self.model(), &self.optim).await?;
        Ok(Checkpoint {
            loop_state: LoopState {
                rng: self.rng.state(),
                epochs_done: self.epochs_done,
                steps_done: self.steps_done,
                order: self.order.iter().map(|&i| i as u32).collect(),
            },
            modules: vec![("model".into(), model)],
        })
    }

    /// Continues a run from `checkpoint`: `template` gives the model's structure (its values are
    /// replaced), `config` must be the run's (the learning rate may differ: lowering it is how
    /// a diverged run goes on).
    pub fn restore(
        template: M,
        config: TrainConfig,
        checkpoint: &Checkpoint,
        train_len: usize,
        device: &Device,
    ) -> LabResult<Self> {
        let mut t = Self::new(template, config, train_len, device)?;
        let ls = &checkpoint.loop_state;
        if ls.order.len() != train_len || ls.order.iter().any(|&i| i as usize >= train_len) {
            return Err(LabError::InvalidConfig(format!(
                "the checkpoint was taken on {} training images, this run has {train_len}",
                ls.order.len()
            )));
        }
        let (model, optim) =
            checkpoint.module("model")?.restore(t.model(), adam_settings(&t.config), device)?;
        t.model = Some(model);
        t.optim = optim;
        t.rng = SplitMix64::new(ls.rng);
        t.order = ls.order.iter().map(|&i| i as usize).collect();
        t.epochs_done = ls.epochs_done;
        t.steps_done = ls.steps_done;
        t.batches.reorder();
        Ok(t)
    }

    /// Trains one whole epoch, then evaluates on `test`: one row of the exercise's table.
    pub async fn train_epoch(
        &mut self,
        train: &Dataset,
        test: &Dataset,
    ) -> LabResult<crate::lab::classifier::metrics::EpochMetrics> {
        let chunk = self.train_chunk(train, usize::MAX).await?;
        let eval = evaluate(self.model(), test, EVAL_BATCH, &self.device).await?;
        if !eval.loss.is_finite() {
            return Err(LabError::NonFinite {
                what: "test loss",
                value: eval.loss as f32,
                epoch: chunk.epoch,
            });
        }
        Ok(crate::lab::classifier::metrics::EpochMetrics {
            epoch: chunk.epoch,
            train_loss: chunk.loss,
            train_acc: chunk.accuracy,
            test_loss: eval.loss,
            test_acc: eval.accuracy,
        })
    }
}

#[cfg(test)]
mod tests;
