//! The GAN training loop, driven a few batches at a time (the page must get control back between
//! batches; the CLI drives the same code with `block_on`).
//!
//! Per batch of B real images:
//! 1. **D step** — B latent vectors z ~ N(0, I₁₀₀), fake = G(z) (detached: no gradient reaches
//!    G); the 2B images real ‖ fake are permuted (whole images, labels moving with them), labelled
//!    real 1 / fake 0 (or 0.9 / 0.1 with soft labels), optionally blurred by instance noise, and D
//!    takes one Adam step on their binary cross-entropy.
//! 2. **G step** — B fresh z pass through G and a **frozen** D (its parameters stop requiring
//!    gradients, so no gradient is even computed for them) with target 1; only G takes an Adam
//!    step.
//!
//! Losses and D's outputs stay on the device until a chunk ends: one readback per chunk.

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};

use crate::lab::core::adam::{Adam, AdamSettings};
use crate::lab::core::checkpoint::{Checkpoint, LoopState, ModuleState};
use crate::lab::core::error::{LabError, LabResult};
use crate::lab::core::kernels::layer_kernels;
use crate::lab::core::params::{LayerNorm, layer_sq_norms};
use crate::lab::core::readback::read_values;
use crate::lab::core::rng::SplitMix64;
use crate::lab::data::Dataset;
use crate::lab::data::batches::Batches;
use crate::lab::gan::config::GanConfig;
use crate::lab::gan::loss::{d_step_grads, g_step_grads, step_sums};
use crate::lab::gan::models::{Discriminator, Generator, SIDE};
use crate::lab::gan::progress::GanChunk;
use crate::lab::gan::progress::GanEpoch;
use crate::lab::gan::sampling::{generate, grid_noise, latent, shuffle_batch, with_noise};

/// Steps between two samples of the per-layer norms (plus the epoch's last step).
pub const NORM_EVERY: usize = 50;

/// Sums accumulated on the device between readbacks.
#[derive(Clone, Default)]
struct Pending {
    sums: Option<Tensor<1>>, // [d_loss, g_loss, d_real_sum, d_fake_sum]
    batches: usize,
    images: usize,
}

/// Per-epoch accumulators on the CPU, and norm samples on the device.
#[derive(Clone, Default)]
struct EpochAcc {
    d_loss: f64,
    g_loss: f64,
    d_real: f64,
    d_fake: f64,
    batches: usize,
    images: usize,
    g_norms: Option<(Vec<String>, Tensor<2>)>,
    d_norms: Option<(Vec<String>, Tensor<2>)>,
    norm_samples: usize,
}

/// Everything that moves during training: cloned after each good chunk, restored on NaN.
#[derive(Clone)]
struct State {
    g: Generator,
    d: Discriminator,
    optim_g: Adam,
    optim_d: Adam,
    rng: SplitMix64,
    order: Vec<usize>,
    cursor: usize,
    epochs_done: usize,
    steps_done: usize,
    acc: EpochAcc,
}

impl State {
    /// A copy that shares nothing mutable: batch norm's running statistics live behind a shared
    /// lock, so a plain clone would see later updates (NaN included). `valid()` syncs and copies
    /// them; `train()` makes the copy trainable again with the same parameter ids.
    fn snapshot(&self) -> State {
        State { g: self.g.valid().train(), d: self.d.valid().train(), ..self.clone() }
    }
}

/// Drives the exercise's GAN loop on one device (an autodiff device).
pub struct GanTrainer {
    state: State,
    last_good: Option<State>,
    pending: Pending,
    config: GanConfig,
    device: Device,
    fixed_noise: Vec<f32>,
    history: Vec<GanEpoch>,
    batches: Batches,
    /// Whether the losses run as fused kernels on WebGPU (`core::kernels::fused_bce`).
    kernels: bool,
    /// The order in which the last D step saw real ‖ fake (indices below B are real).
    d_order: Vec<usize>,
}

const LOOP_SALT: u64 = 0x6A_17;

/// Epochs are whole batches, so the training set must hold at least one.
fn check_fits(config: &GanConfig, train_len: usize) -> LabResult<()> {
    if train_len < config.batch_size {
        return Err(LabError::InvalidConfig(format!(
            "batch size {} is larger than the training set ({train_len} images)",
            config.batch_size
        )));
    }
    Ok(())
}

pub fn adam_settings(config: &GanConfig) -> AdamSettings {
    AdamSettings { beta1: config.beta1 as f32, ..AdamSettings::default() }
}

fn adam(config: &GanConfig) -> Adam {
    Adam::new(adam_settings(config))
}

/// Layer names and their squared parameter and gradient norms (`layer_sq_norms`).
type Norms = (Vec<String>, Tensor<2>);

fn add_norms(a: Option<Norms>, b: Norms) -> Option<Norms> {
    Some(match a {
        Some((names, t)) => (names, t + b.1),
        None => b,
    })
}

impl GanTrainer {
    /// A new run: fresh networks (initialised from `config.seed`) on `device`, which must be an
    /// autodiff device, over a training set of `train_len` images.
    pub fn new(config: GanConfig, train_len: usize, device: &Device) -> LabResult<Self> {
        config.validate()?;
        if train_len == 0 {
            return Err(LabError::EmptyDataset);
        }
        check_fits(&config, train_len)?;
        device.seed(config.seed);
        let g = Generator::new(config.arch, device);
        let d = Discriminator::new(config.arch, device);
        Self::resume(config, g, d, train_len, device)
    }

    /// Continues from given networks (e.g. loaded weights) with fresh optimisers.
    pub fn resume(
        config: GanConfig,
        g: Generator,
        d: Discriminator,
        train_len: usize,
        device: &Device,
    ) -> LabResult<Self> {
        config.validate()?;
        check_fits(&config, train_len)?;
        let fixed_noise = grid_noise(config.seed);
        let state = State {
            g,
            d,
            optim_g: adam(&config),
            optim_d: adam(&config),
            rng: SplitMix64::new(config.seed ^ LOOP_SALT),
            order: (0..train_len).collect(),
            cursor: 0,
            epochs_done: 0,
            steps_done: 0,
            acc: EpochAcc::default(),
        };
        Ok(Self {
            last_good: None,
            state,
            pending: Pending::default(),
            config,
            device: device.clone(),
            fixed_noise,
            history: Vec::new(),
            batches: Batches::new(false),
            kernels: true,
            d_order: Vec::new(),
        })
    }

    /// The same trainer with burn's operations only (batches built on the host, burn's losses,
    /// burn's Adam): the reference the WebGPU kernels are tested against.
    pub fn without_kernels(mut self) -> Self {
        self.batches = Batches::new(true);
        self.kernels = false;
        self.state.optim_g.disable_kernels();
        self.state.optim_d.disable_kernels();
        self
    }

    /// A checkpoint at this epoch boundary (refused mid-epoch), both Adams' moments included.
    /// The per-epoch history is the caller's to keep (beside the checkpoint) and to give back to
    /// [`GanTrainer::restore`].
    pub async fn checkpoint(&self) -> LabResult<Checkpoint> {
        let s = &self.state;
        if s.cursor != 0 || self.pending.batches > 0 {
            return Err(LabError::InvalidConfig(
                "a checkpoint is taken at the end of an epoch".into(),
            ));
        }
        let g = ModuleState::capture(&s.g, &s.optim_g).await?;
        let d = ModuleState::capture(&s.d, &s.optim_d).await?;
        Ok(Checkpoint {
            loop_state: LoopState {
                rng: s.rng.state(),
                epochs_done: s.epochs_done,
                steps_done: s.steps_done,
                order: s.order.iter().map(|&i| i as u32).collect(),
            },
            modules: vec![("g".into(), g), ("d".into(), d)],
        })
    }

    /// Continues a run from `checkpoint` with its per-epoch `history`.
    pub fn restore(
        config: GanConfig,
        checkpoint: &Checkpoint,
        history: Vec<GanEpoch>,
        train_len: usize,
        device: &Device,
    ) -> LabResult<Self> {
        let ls = &checkpoint.loop_state;
        if ls.order.len() != train_len || ls.order.iter().any(|&i| i as usize >= train_len) {
            return Err(LabError::InvalidConfig(format!(
                "the checkpoint was taken on {} training images, this run has {train_len}",
                ls.order.len()
            )));
        }
        let (g, optim_g) = checkpoint.module("g")?.restore(
            &Generator::new(config.arch, device),
            adam_settings(&config),
            device,
        )?;
        let (d, optim_d) = checkpoint.module("d")?.restore(
            &Discriminator::new(config.arch, device),
            adam_settings(&config),
            device,
        )?;
        let mut t = Self::resume(config, g, d, train_len, device)?;
        let s = &mut t.state;
        (s.optim_g, s.optim_d) = (optim_g, optim_d);
        s.rng = SplitMix64::new(ls.rng);
        s.order = ls.order.iter().map(|&i| i as usize).collect();
        s.epochs_done = ls.epochs_done;
        s.steps_done = ls.steps_done;
        t.history = history;
        t.batches.reorder();
        Ok(t)
    }

    /// The generator as trained so far.
    pub fn generator(&self) -> &Generator {
        &self.state.g
    }

    /// The discriminator as trained so far.
    pub fn discriminator(&self) -> &Discriminator {
        &self.state.d
    }

    /// The run's settings.
    pub fn config(&self) -> &GanConfig {
        &self.config
    }

    /// Completed epochs' numbers, oldest first.
    pub fn history(&self) -> &[GanEpoch] {
        &self.history
    }

    /// Full epochs completed.
    pub fn epochs_done(&self) -> usize {
        self.state.epochs_done
    }

    /// True once every configured epoch has run.
    pub fn finished(&self) -> bool {
        self.state.epochs_done >= self.config.epochs
    }

    /// Steps per epoch: whole batches only (batch norm needs full batches; the ≤ B−1 images left
    /// over change with every shuffle, so none is skipped for good).
    pub fn batches_per_epoch(&self) -> usize {
        self.state.order.len() / self.config.batch_size
    }

    /// True when the epoch just finished gets a fixed-noise snapshot: the exercise's epochs 1,
    /// 10, 20, …, and the last one.
    pub fn is_snapshot_epoch(&self, epoch: usize) -> bool {
        epoch == 1 || epoch.is_multiple_of(10) || epoch >= self.config.epochs
    }

    /// The latent vectors of the fixed sample grid (64 × 100, row-major).
    pub fn fixed_noise(&self) -> &[f32] {
        &self.fixed_noise
    }

    /// One D step and one G step on the next batch. Metrics stay on the device.
    pub fn step(&mut self, data: &Dataset) -> LabResult<()> {
        // A trainer built without kernels runs its dense layers on burn's operations too.
        layer_kernels(!self.kernels, || self.step_on(data))
    }

    fn step_on(&mut self, data: &Dataset) -> LabResult<()> {
        if data.len() != self.state.order.len() {
            return Err(LabError::InvalidConfig(format!(
                "the training set changed size ({} → {} items) during the run",
                self.state.order.len(),
                data.len()
            )));
        }
        let b = self.config.batch_size;
        if self.state.cursor == 0 {
            let s = &mut self.state;
            s.rng.shuffle(&mut s.order);
            self.batches.reorder();
            // D's dropout and the instance noise draw from the device's generator, whose state
            // a checkpoint cannot read: reseeding it from the seed and the epoch at each epoch's
            // start makes a run restored at an epoch boundary continue bit for bit.
            self.device
                .seed(self.config.seed ^ LOOP_SALT.rotate_left(17) ^ (s.epochs_done as u64 + 1));
        }
        let sigma = self.config.noise_at(self.state.epochs_done + 1);
        let range = (self.state.cursor, self.state.cursor + b);
        let real =
            self.batches.images(data, &self.state.order, range, (2.0 / 255.0, -1.0), &self.device);
        let real: Tensor<4> = real.reshape([b, 1, SIDE, SIDE]);
        let measure_norms = (self.state.steps_done + 1).is_multiple_of(NORM_EVERY)
            || self.state.cursor + 2 * b > self.state.order.len();
        let d_norms = self.d_step(real, sigma, measure_norms);
        let g_norms = self.g_step(sigma, measure_norms);
        self.pending.batches += 1;
        self.pending.images += b;
        if let (Some(gn), Some(dn)) = (g_norms, d_norms) {
            let acc = &mut self.state.acc;
            acc.g_norms = add_norms(acc.g_norms.take(), (gn.0, gn.1.sqrt()));
            acc.d_norms = add_norms(acc.d_norms.take(), (dn.0, dn.1.sqrt()));
            acc.norm_samples += 1;
        }
        self.state.steps_done += 1;
        self.state.cursor += b;
        if self.state.cursor + b > self.state.order.len() {
            self.state.cursor = 0;
            self.state.epochs_done += 1;
        }
        Ok(())
    }

    /// 1. The D step on real ‖ fake, permuted; D's layer norms when `measure`.
    fn d_step(&mut self, real: Tensor<4>, sigma: f64, measure: bool) -> Option<Norms> {
        let b = self.config.batch_size;
        let (real_label, fake_label) =
            if self.config.soft_labels { (0.9, 0.1) } else { (1.0, 0.0) };
        let sums = self.pending.sums.get_or_insert_with(|| step_sums(&self.device));
        let z = latent(&mut self.state.rng, b, &self.device);
        let fake = self.state.g.forward(z).detach();
        self.d_order = (0..2 * b).collect();
        self.state.rng.shuffle(&mut self.d_order);
        let (x, targets, is_real) =
            shuffle_batch(real, fake, &self.d_order, real_label, fake_label);
        let x = with_noise(x, sigma, &self.device);
        let d = self.state.d.clone();
        let grads = d_step_grads(d.logits(x), targets, is_real, sums, self.kernels);
        let d_grads = GradientsParams::from_grads(grads, &d);
        let norms = measure.then(|| layer_sq_norms(&d, Some(&d_grads)));
        self.state.d = self.state.optim_d.step(self.config.lr_d, d, d_grads);
        norms
    }

    /// 2. The G step through a frozen D; G's layer norms when `measure`.
    fn g_step(&mut self, sigma: f64, measure: bool) -> Option<Norms> {
        let sums = self.pending.sums.get_or_insert_with(|| step_sums(&self.device));
        let z = latent(&mut self.state.rng, self.config.batch_size, &self.device);
        let frozen = self.state.d.clone().no_grad();
        let g = self.state.g.clone();
        let images = with_noise(g.forward(z), sigma, &self.device);
        let grads = g_step_grads(frozen.logits(images), sums, self.kernels);
        let g_grads = GradientsParams::from_grads(grads, &g);
        let norms = measure.then(|| layer_sq_norms(&g, Some(&g_grads)));
        self.state.g = self.state.optim_g.step(self.config.lr_g, g, g_grads);
        norms
    }

    /// Runs up to `max_batches` steps (never past the end of an epoch) and reads their numbers
    /// with one readback. On NaN or infinity it puts back the state after the last good chunk
    /// and returns [`LabError::NonFinite`].
    pub async fn train_chunk(&mut self, data: &Dataset, max_batches: usize) -> LabResult<GanChunk> {
        if self.finished() {
            return Err(LabError::InvalidConfig(
                "the run has already finished all its epochs".into(),
            ));
        }
        if self.last_good.is_none() {
            self.last_good = Some(self.state.snapshot());
        }
        let epoch = self.state.epochs_done + 1;
        for _ in 0..max_batches.max(1) {
            self.step(data)?;
            if self.state.cursor == 0 {
                break;
            }
        }
        let pending = std::mem::take(&mut self.pending);
        let sums = read_values(pending.sums.expect("at least one step ran")).await?;
        let n = pending.batches as f64;
        let (d_loss, g_loss) = (sums[0] as f64 / n, sums[1] as f64 / n);
        let (d_real, d_fake) =
            (sums[2] as f64 / (pending.images as f64), sums[3] as f64 / (pending.images as f64));
        for (what, v) in [("discriminator loss", d_loss), ("generator loss", g_loss)] {
            if !v.is_finite() {
                self.state = self.last_good.as_ref().expect("set above").snapshot();
                self.batches.reorder();
                return Err(LabError::NonFinite { what, value: v as f32, epoch });
            }
        }
        let acc = &mut self.state.acc;
        acc.d_loss += sums[0] as f64;
        acc.g_loss += sums[1] as f64;
        acc.d_real += sums[2] as f64;
        acc.d_fake += sums[3] as f64;
        acc.batches += pending.batches;
        acc.images += pending.images;
        let epoch_finished = self.state.cursor == 0;
        let finished_epoch =
            if epoch_finished { Some(self.close_epoch(epoch).await?) } else { None };
        self.last_good = Some(self.state.snapshot());
        let batch_in_epoch = if epoch_finished {
            self.batches_per_epoch()
        } else {
            self.state.cursor / self.config.batch_size
        };
        Ok(GanChunk {
            epoch,
            batch_in_epoch,
            batches_per_epoch: self.batches_per_epoch(),
            d_loss,
            g_loss,
            d_real,
            d_fake,
            batches: pending.batches,
            finished_epoch,
        })
    }

    async fn close_epoch(&mut self, epoch: usize) -> LabResult<GanEpoch> {
        let acc = std::mem::take(&mut self.state.acc);
        let samples = acc.norm_samples.max(1) as f64;
        let read = |norms: Option<(Vec<String>, Tensor<2>)>| async move {
            match norms {
                None => Ok::<_, LabError>(Vec::new()),
                Some((names, t)) => {
                    let v = read_values(t).await?;
                    Ok(names
                        .into_iter()
                        .enumerate()
                        .map(|(i, layer)| LayerNorm {
                            layer,
                            weight: v[2 * i] as f64 / samples,
                            grad: v[2 * i + 1] as f64 / samples,
                        })
                        .collect())
                }
            }
        };
        let g_norms = read(acc.g_norms).await?;
        let d_norms = read(acc.d_norms).await?;
        let e = GanEpoch {
            epoch,
            d_loss: acc.d_loss / acc.batches.max(1) as f64,
            g_loss: acc.g_loss / acc.batches.max(1) as f64,
            d_real: acc.d_real / acc.images.max(1) as f64,
            d_fake: acc.d_fake / acc.images.max(1) as f64,
            g_norms,
            d_norms,
        };
        self.history.push(e.clone());
        Ok(e)
    }

    /// Trains one whole epoch: one row of the exercise's table.
    pub async fn train_epoch(&mut self, data: &Dataset) -> LabResult<GanEpoch> {
        loop {
            let chunk = self.train_chunk(data, usize::MAX).await?;
            if let Some(e) = chunk.finished_epoch {
                return Ok(e);
            }
        }
    }

    /// Images from the given latent vectors (`n × 100`, row-major) in inference mode, as
    /// `n × 784` values in [-1, 1].
    pub async fn generate(&self, noise: &[f32]) -> LabResult<Vec<f32>> {
        generate(&self.state.g, noise, &self.device).await
    }
}

#[cfg(test)]
mod tests;
