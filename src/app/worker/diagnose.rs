//! The Diagnostics view's two jobs: the smoke train and the timing of both backends. They train,
//! so they run in a worker like every other job: the page's module has no WebGPU (#18), and a
//! step on the UI thread would freeze the page.

use std::cell::RefCell;
use std::rc::Rc;

use burn::tensor::Device;

use crate::app::backend::{self, BackendKind};
use crate::app::env::now_ms;
use crate::app::worker::control::{Control, dataset, hold, send};
use crate::app::worker::protocol::FromWorker;
use crate::lab::classifier::mlp::{MLP_WIDTHS, Mlp};
use crate::lab::classifier::train::{ClassifierTrainer, TrainConfig};
use crate::lab::data::{Dataset, DatasetKind};

/// Steps left out of the timing (kernel compilation, first allocations), then steps timed.
pub const BENCH_WARMUP_STEPS: usize = 3;
pub const BENCH_TIMED_STEPS: usize = 10;

/// `steps` Adam steps of the MLP on MNIST's training images on `kind`, one loss per step sent
/// to the page (`SmokeStep`), until done or stopped.
pub(crate) async fn smoke(
    steps: usize,
    kind: BackendKind,
    control: &Rc<RefCell<Control>>,
) -> Result<Option<FromWorker>, String> {
    let data = dataset(DatasetKind::Mnist).await?;
    let (kind, device) = backend::device_for(kind).await;
    let device = device.autodiff();
    device.seed(TrainConfig::smoke().seed);
    let model = Mlp::new(&MLP_WIDTHS, &device);
    let mut trainer =
        ClassifierTrainer::new(model, TrainConfig::smoke(), data.train.len(), &device)
            .map_err(|e| e.to_string())?;
    let start = now_ms();
    for step in 1..=steps {
        if !hold(control).await {
            return Ok(None);
        }
        // Each chunk reads its loss back, so the time includes the device finishing the step.
        let r = trainer.train_chunk(&data.train, 1).await.map_err(|e| e.to_string())?;
        let ms_per_step = (now_ms() - start) / step as f64;
        send(FromWorker::SmokeStep { backend: kind, step, loss: r.loss, ms_per_step });
    }
    Ok(Some(FromWorker::SmokeDone))
}

/// Milliseconds per Adam step of the MLP (batch 128) on `device`, after the warm-up: the same
/// step every training job runs, on MNIST's test images (small, and cached by the page's visit).
async fn ms_per_step(device: Device, data: &Dataset) -> Result<f64, String> {
    let device = device.autodiff();
    let config = TrainConfig { epochs: 1000, ..TrainConfig::default() };
    let model = Mlp::new(&MLP_WIDTHS, &device);
    let mut trainer =
        ClassifierTrainer::new(model, config, data.len(), &device).map_err(|e| e.to_string())?;
    let mut start = 0.0;
    for step in 0..BENCH_WARMUP_STEPS + BENCH_TIMED_STEPS {
        if step == BENCH_WARMUP_STEPS {
            start = now_ms();
        }
        trainer.train_chunk(data, 1).await.map_err(|e| e.to_string())?;
    }
    Ok((now_ms() - start) / BENCH_TIMED_STEPS as f64)
}

/// Times the MLP's step on the CPU, then on WebGPU, sending each result (`Bench`) as it comes.
pub(crate) async fn bench(
    has_gpu: bool,
    control: &Rc<RefCell<Control>>,
) -> Result<Option<FromWorker>, String> {
    let test = crate::app::io::datasets::load_split(
        DatasetKind::Mnist,
        crate::lab::data::Split::Test,
        |_| {},
    )
    .await?;
    let ms = ms_per_step(Device::flex(), &test).await;
    send(FromWorker::Bench { backend: BackendKind::Cpu, ms });
    if !hold(control).await {
        return Ok(None);
    }
    let ms = if has_gpu {
        match backend::webgpu_device().await {
            Ok(d) => ms_per_step(d, &test).await,
            Err(e) => Err(format!("no WebGPU device: {e}")),
        }
    } else {
        Err("this browser has no WebGPU".into())
    };
    send(FromWorker::Bench { backend: BackendKind::WebGpu, ms });
    Ok(Some(FromWorker::BenchDone))
}
