//! The GAN job of exercise 2, plus what the GAN studio asks of the worker between runs: the
//! pretrained generator, the canvas (new noise, latent walk) and the quality judge.

use std::cell::RefCell;
use std::rc::Rc;

use burn::tensor::Device;

use crate::app::backend;
use crate::app::backend::BackendKind;
use crate::app::io::fetch::fetch_bytes;
use crate::app::worker::control::{Control, dataset, hold, send, train_images};
use crate::app::worker::measure::{GanSteps, pick};
use crate::app::worker::meter::StepMeter;
use crate::app::worker::persist::{
    TrainClock, diverge_if_asked, halt, note_stop, persist, persist_epoch,
};
use crate::app::worker::protocol::{FromWorker, RunRecord, RunSpec, SnapshotRecord};
use crate::lab::classifier::eval::{EVAL_BATCH, evaluate};
use crate::lab::classifier::weights::mlp_from_tensors;
use crate::lab::core::checkpoint::Checkpoint;
use crate::lab::core::error::LabError;
use crate::lab::core::params::load_module_tensors;
use crate::lab::core::safetensors::decode_safetensors;
use crate::lab::data::{Dataset, DatasetKind};
use crate::lab::gan::grid::to_byte;
use crate::lab::gan::quality::{CLASSIFIER_WIDTHS, JUDGE_SAMPLES, QualityJudge};
use crate::lab::gan::sampling::{generate, grid_noise};
use crate::lab::gan::{GanArch, GanTrainer, Generator};

/// The latest generator (updated after every chunk), so "new noise" and the latent walk work
/// during and after a run.
#[derive(Default)]
pub(crate) struct GanShared {
    pub(crate) g: Option<(Generator, Device)>,
    pub(crate) noise_seed: u64,
    pub(crate) epoch: usize,
}

pub(crate) type Shared = Rc<RefCell<GanShared>>;

/// Where the page's pretrained generators live (relative to the page).
pub fn pretrained_generator_url(arch: GanArch) -> String {
    format!("models/gan-{}-generator.safetensors", arch.slug())
}

/// Generates from the shared generator and sends the images as bytes.
pub(crate) async fn images_from(shared: &Shared, noise: Vec<f32>) -> Result<Vec<u8>, String> {
    let Some((g, device)) = shared.borrow().g.clone() else {
        return Err("no generator yet: start a run first".into());
    };
    Ok(bytes(generate(&g, &noise, &device).await.map_err(|e| e.to_string())?))
}

/// Redraws the canvas from the current noise.
pub(crate) async fn send_canvas(shared: &Shared) -> Result<(), String> {
    let seed = shared.borrow().noise_seed;
    let images = images_from(shared, grid_noise(seed)).await?;
    let epoch = shared.borrow().epoch;
    send(FromWorker::GanSamples { epoch, images });
    Ok(())
}

/// Loads the shipped generator of `arch` on the CPU and shows it; silent when none is shipped.
pub(crate) async fn pretrained(
    arch: GanArch,
    noise_seed: u64,
    shared: &Shared,
) -> Result<(), String> {
    let url = pretrained_generator_url(arch);
    let bytes = match fetch_bytes(&url, |_, _| {}).await {
        Ok(b) => b,
        Err(e) if e.contains("HTTP 404") => return Ok(()),
        Err(e) => return Err(e),
    };
    let device = Device::flex();
    let (tensors, _) = decode_safetensors(&bytes).map_err(|e| format!("{url}: {e}"))?;
    let g = load_module_tensors(&Generator::new(arch, &device), &tensors)
        .map_err(|e| format!("{url}: {e}"))?;
    {
        let mut sh = shared.borrow_mut();
        if sh.g.is_some() {
            return Ok(()); // a run started meanwhile: its generator wins
        }
        sh.g = Some((g, device));
        sh.noise_seed = noise_seed;
        sh.epoch = 0;
    }
    send_canvas(shared).await
}

/// Loads the shipped quality judge and measures the real test images (best effort: without it
/// the run goes on, without quality numbers).
async fn load_judge(test: &Dataset, device: &Device) -> Result<(QualityJudge, f64), String> {
    let url = "models/fashion-judge-784-256-64-10.safetensors";
    let bytes = fetch_bytes(url, |_, _| {}).await?;
    let (tensors, _) = decode_safetensors(&bytes).map_err(|e| e.to_string())?;
    let inner = device.clone().without_autodiff();
    let classifier =
        mlp_from_tensors(&tensors, &CLASSIFIER_WIDTHS, &inner).map_err(|e| e.to_string())?;
    let accuracy =
        evaluate(&classifier, test, EVAL_BATCH, &inner).await.map_err(|e| e.to_string())?.accuracy;
    let judge = QualityJudge::new(classifier, test, JUDGE_SAMPLES, &inner)
        .await
        .map_err(|e| e.to_string())?;
    Ok((judge, accuracy))
}

fn bytes(images: Vec<f32>) -> Vec<u8> {
    images.into_iter().map(to_byte).collect()
}

pub(crate) async fn gan(
    mut record: RunRecord,
    checkpoint: Option<Checkpoint>,
    measure: bool,
    control: &Rc<RefCell<Control>>,
    shared: &Shared,
) -> Result<Option<FromWorker>, String> {
    let RunSpec::Gan { config, subset } = record.spec.clone() else {
        return Err("not a GAN run".into());
    };
    config.validate().map_err(|e| e.to_string())?;
    let data = dataset(DatasetKind::FashionMnist).await?;
    let train = train_images(&data, subset);
    let chosen = if measure {
        let picked = pick(async |d: &Device| GanSteps::new(&config, &train, d)).await;
        record.backend = picked.kind;
        Some(picked.why)
    } else {
        None
    };
    let (kind, device) = backend::device_for(record.backend).await;
    record.backend = kind;
    let device = device.autodiff();
    let mut trainer = match &checkpoint {
        Some(ck) => GanTrainer::restore(
            config.clone(),
            ck,
            record.gan_history.clone(),
            train.len(),
            &device,
        ),
        None => GanTrainer::new(config.clone(), train.len(), &device),
    }
    .map_err(|e| e.to_string())?;
    if checkpoint.is_none() {
        persist(&mut record, None).await;
    }
    let judge = match load_judge(&data.test, &device).await {
        Ok((j, accuracy)) => {
            record.judge = Some((accuracy, j.real_score));
            Some(j)
        }
        Err(e) => {
            web_sys::console::warn_1(&format!("no quality numbers this run: {e}").into());
            None
        }
    };
    {
        let mut sh = shared.borrow_mut();
        sh.g = Some((trainer.generator().clone(), device.clone()));
        sh.epoch = trainer.epochs_done();
    }
    send(FromWorker::GanStarted {
        backend: kind.title().into(),
        batches_per_epoch: trainer.batches_per_epoch(),
        chosen,
    });
    send_canvas(shared).await?;
    // A software GPU takes seconds a step: one batch per chunk there; a few on the CPU.
    let chunk = if kind == BackendKind::WebGpu { 1 } else { 4 };
    let mut last_canvas = crate::app::env::now_ms();
    let mut meter = StepMeter::new(kind == BackendKind::WebGpu);
    while !trainer.finished() {
        if !hold(control).await {
            note_stop(&mut record, control).await;
            return Ok(None);
        }
        let mut clock = TrainClock::start();
        meter.begin();
        let result = diverge_if_asked(
            control,
            trainer.train_chunk(&train, chunk).await,
            "generator loss",
            |c| c.epoch,
        );
        let c = match result {
            Ok(c) => c,
            Err(e @ LabError::NonFinite { .. }) => {
                return Ok(Some(FromWorker::Halted {
                    message: halt(&mut record, e).await,
                    id: record.id,
                }));
            }
            Err(e) => return Err(e.to_string()),
        };
        let (ms_per_batch, cost) = meter.end(c.batches);
        record.ms_per_step = cost.steady_ms.or(Some(ms_per_batch));
        {
            let mut sh = shared.borrow_mut();
            sh.g = Some((trainer.generator().clone(), device.clone()));
            sh.epoch = c.epoch;
        }
        let finished = c.finished_epoch.clone();
        send(FromWorker::GanProgress { chunk: Box::new(c), ms_per_batch, cost });
        // The canvas a few times a second at most: each redraw is a forward pass and a readback.
        if crate::app::env::now_ms() - last_canvas > 250.0 || finished.is_some() {
            send_canvas(shared).await?;
            last_canvas = crate::app::env::now_ms();
        }
        if let Some(e) = finished {
            if trainer.is_snapshot_epoch(e.epoch) {
                let images = bytes(
                    trainer.generate(trainer.fixed_noise()).await.map_err(|e| e.to_string())?,
                );
                let quality = match &judge {
                    Some(j) => Some(
                        j.judge_generator(trainer.generator(), config.seed, e.epoch)
                            .await
                            .map_err(|e| e.to_string())?,
                    ),
                    None => None,
                };
                record.snapshots.push(SnapshotRecord {
                    epoch: e.epoch,
                    images: images.clone(),
                    quality,
                });
                send(FromWorker::GanSnapshot { epoch: e.epoch, images, quality });
            }
            record.gan_history.push(e.clone());
            let checkpoint = trainer.checkpoint().await.map_err(|e| e.to_string())?;
            clock.bank(&mut record);
            persist_epoch(&mut record, control, e.epoch, trainer.finished(), checkpoint).await;
        }
        clock.bank(&mut record);
        gloo_timers::future::TimeoutFuture::new(0).await;
    }
    Ok(Some(FromWorker::GanDone))
}
