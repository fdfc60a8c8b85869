//! The backend of a job picked by measurement. On a hardware WebGPU adapter the page does not
//! know whether the GPU beats the CPU for *this* job (a small MLP step on an integrated GPU may
//! not; a CNN GAN step surely does), so the worker trains a few throwaway steps of the job on
//! both, after a warm-up that compiles the kernels, and runs it on the faster. The real run then
//! starts from its own seed, as if nothing had been timed. Software adapters keep the page's
//! default (the CPU) unless the page asks (`?measure_backend=1`), which is also how the tests
//! exercise this on SwiftShader.

use burn::tensor::Device;

use crate::app::backend::{self, BackendKind};
use crate::app::env::now_ms;
use crate::lab::classifier::mlp::Classifier;
use crate::lab::classifier::train::{ClassifierTrainer, TrainConfig};
use crate::lab::core::adapter::faster_backend;
use crate::lab::data::Dataset;
use crate::lab::gan::{GanConfig, GanTrainer};

/// Steps run before timing: the first ones compile the job's kernels.
const WARMUP_STEPS: usize = 2;
/// Steps timed on each backend.
const TIMED_STEPS: usize = 3;
/// Epochs given to the throwaway trainers, so that a small training subset cannot end them
/// before the timed steps are done.
const THROWAWAY_EPOCHS: usize = 100;

/// The backend a job runs on and why, in words for the status line.
#[derive(Debug, Clone)]
pub(crate) struct Picked {
    pub kind: BackendKind,
    pub why: String,
}

/// A job's training steps, as the timer sees them.
pub(crate) trait Steps {
    /// Runs up to `n` steps; how many ran.
    async fn steps(&mut self, n: usize) -> Result<usize, String>;
}

/// A classifier job (training or refinement): the job's model and data, a throwaway trainer.
pub(crate) struct ClassifierSteps<'a, M: Classifier> {
    trainer: ClassifierTrainer<M>,
    data: &'a Dataset,
}

impl<'a, M: Classifier> ClassifierSteps<'a, M> {
    pub fn new(
        model: M,
        config: &TrainConfig,
        data: &'a Dataset,
        device: &Device,
    ) -> Result<Self, String> {
        let config = TrainConfig { epochs: THROWAWAY_EPOCHS, ..config.clone() };
        let trainer =
            ClassifierTrainer::new(model, config, data.len(), device).map_err(|e| e.to_string())?;
        Ok(Self { trainer, data })
    }
}

impl<M: Classifier> Steps for ClassifierSteps<'_, M> {
    async fn steps(&mut self, n: usize) -> Result<usize, String> {
        let r = self.trainer.train_chunk(self.data, n).await.map_err(|e| e.to_string())?;
        Ok(r.samples.div_ceil(self.trainer.config().batch_size))
    }
}

/// A GAN job: a throwaway trainer of the same architecture and batch size.
pub(crate) struct GanSteps<'a> {
    trainer: GanTrainer,
    data: &'a Dataset,
}

impl<'a> GanSteps<'a> {
    pub fn new(config: &GanConfig, data: &'a Dataset, device: &Device) -> Result<Self, String> {
        let config = GanConfig { epochs: THROWAWAY_EPOCHS, ..config.clone() };
        let trainer = GanTrainer::new(config, data.len(), device).map_err(|e| e.to_string())?;
        Ok(Self { trainer, data })
    }
}

impl Steps for GanSteps<'_> {
    async fn steps(&mut self, n: usize) -> Result<usize, String> {
        let c = self.trainer.train_chunk(self.data, n).await.map_err(|e| e.to_string())?;
        Ok(c.batches)
    }
}

/// Milliseconds per step after the warm-up (every chunk ends with a readback, so the GPU's
/// work is inside the time).
async fn ms_per_step(job: &mut impl Steps) -> Result<f64, String> {
    let mut run = async |want: usize| -> Result<usize, String> {
        let mut done = 0;
        while done < want {
            match job.steps(want - done).await? {
                0 => return Err("no step ran".into()),
                k => done += k,
            }
        }
        Ok(done)
    };
    run(WARMUP_STEPS).await?;
    let start = now_ms();
    let done = run(TIMED_STEPS).await?;
    Ok((now_ms() - start) / done as f64)
}

/// Times the job built by `build` on the CPU and on WebGPU and picks the faster.
pub(crate) async fn pick<S: Steps>(build: impl AsyncFn(&Device) -> Result<S, String>) -> Picked {
    let cpu = Device::flex().autodiff();
    let cpu_ms = match build(&cpu).await {
        Ok(mut job) => ms_per_step(&mut job).await,
        Err(e) => Err(e),
    };
    let gpu_ms = match backend::webgpu_device().await {
        Ok(device) => match build(&device.autodiff()).await {
            Ok(mut job) => ms_per_step(&mut job).await,
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    let cpu_ms = match cpu_ms {
        Ok(ms) => ms,
        // The CPU path failing on a job is not a backend question: the run itself will say why.
        Err(e) => {
            return Picked { kind: BackendKind::Cpu, why: format!("not measured ({e})") };
        }
    };
    let choice = faster_backend(gpu_ms, cpu_ms);
    Picked {
        kind: if choice.webgpu { BackendKind::WebGpu } else { BackendKind::Cpu },
        why: choice.why,
    }
}
