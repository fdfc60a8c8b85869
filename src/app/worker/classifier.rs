//! The classifier jobs of exercise 1: training an MLP and refining a factorized (compressed)
//! one, both through the same epoch loop (`drive`).

use std::cell::RefCell;
use std::rc::Rc;

use burn::module::Module;
use burn::tensor::Device;

use crate::app::backend;
use crate::app::backend::BackendKind;
use crate::app::worker::control::{Control, dataset, hold, send};
use crate::app::worker::measure::{ClassifierSteps, Picked, pick};
use crate::app::worker::meter::StepMeter;
use crate::app::worker::persist::{
    TrainClock, diverge_if_asked, halt, note_stop, persist, persist_epoch,
};
use crate::app::worker::protocol::{FromWorker, RefineRow, RunRecord, RunSpec};
use crate::app::worker::user_data::{UserTrainSet, training_set};
use crate::lab::classifier::eval::{EVAL_BATCH, evaluate};
use crate::lab::classifier::metrics::EpochMetrics;
use crate::lab::classifier::mlp::{Classifier, MLP_WIDTHS, Mlp};
use crate::lab::classifier::train::{ClassifierTrainer, TrainConfig};
use crate::lab::classifier::weights::{mlp_from_tensors, mlp_tensors};
use crate::lab::compress::factorized::MlpSpectrum;
use crate::lab::compress::weights::factorized_tensors;
use crate::lab::core::checkpoint::Checkpoint;
use crate::lab::core::error::LabError;
use crate::lab::core::safetensors::NamedTensor;
use crate::lab::data::{Dataset, DatasetKind, TrainTest};

/// How a run's loop ended.
enum Outcome {
    Finished,
    Stopped,
    Halted(String),
}

impl Outcome {
    /// The reply for a run that did not finish (`None`: the job's end says "stopped").
    fn reply(self, id: String) -> Option<FromWorker> {
        match self {
            Outcome::Halted(message) => Some(FromWorker::Halted { message, id }),
            Outcome::Finished | Outcome::Stopped => None,
        }
    }
}

/// A classifier run's trainer: restored from its checkpoint, or new.
fn trainer_for<M: Classifier>(
    template: M,
    config: TrainConfig,
    checkpoint: &Option<Checkpoint>,
    train_len: usize,
    device: &Device,
) -> Result<ClassifierTrainer<M>, String> {
    match checkpoint {
        Some(ck) => ClassifierTrainer::restore(template, config, ck, train_len, device),
        None => ClassifierTrainer::new(template, config, train_len, device),
    }
    .map_err(|e| e.to_string())
}

/// The backend and the seeded autodiff device of a job.
async fn setup(config: &TrainConfig, kind: BackendKind) -> (BackendKind, Device) {
    let (kind, device) = backend::device_for(kind).await;
    let device = device.autodiff();
    device.seed(config.seed);
    (kind, device)
}

/// Times a few steps of the job on both backends (see `measure`). A refinement is timed on a
/// factorized model of a random base at the same ranks: the same shapes, so the same cost.
async fn measured(spec: &RunSpec, config: &TrainConfig, train: &Dataset) -> Picked {
    match spec {
        RunSpec::Refine { ranks, .. } => {
            pick(async |d: &Device| {
                let spectrum =
                    MlpSpectrum::of(&Mlp::new(&MLP_WIDTHS, d)).await.map_err(|e| e.to_string())?;
                let model = spectrum.build(ranks, d).map_err(|e| e.to_string())?;
                ClassifierSteps::new(model, config, train, d)
            })
            .await
        }
        _ => {
            pick(async |d: &Device| {
                ClassifierSteps::new(Mlp::new(&MLP_WIDTHS, d), config, train, d)
            })
            .await
        }
    }
}

/// What a classifier job runs with, whatever the model: where, on what, and how it was steered.
struct Job<'a> {
    kind: BackendKind,
    /// How the backend was picked, when it was measured.
    chosen: Option<Picked>,
    /// The training images (a subset, when asked).
    train: Dataset,
    /// The whole data set: its test half is what every epoch is evaluated on.
    data: Rc<TrainTest>,
    device: Device,
    control: &'a Rc<RefCell<Control>>,
}

/// Runs a trainer to the end, streaming progress and per-epoch metrics, and saving a checkpoint
/// after every epoch.
async fn drive<M: Classifier>(
    trainer: &mut ClassifierTrainer<M>,
    job: &Job<'_>,
    record: &mut RunRecord,
) -> Result<Outcome, String> {
    let Job { kind, chosen, train, data, device, control } = job;
    let test = &data.test;
    let kind = *kind;
    send(FromWorker::Started {
        backend: kind.title().into(),
        batches_per_epoch: trainer.batches_per_epoch(),
        chosen: chosen.as_ref().map(|p| p.why.clone()),
    });
    // A software GPU takes ~1 s a step: report every 2 batches there, every 10 on the CPU.
    let chunk = if kind == BackendKind::WebGpu { 2 } else { 10 };
    let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0.0f64, 0usize);
    let mut meter = StepMeter::new(kind == BackendKind::WebGpu);
    while !trainer.finished() {
        if !hold(control).await {
            note_stop(record, control).await;
            return Ok(Outcome::Stopped);
        }
        let mut clock = TrainClock::start();
        meter.begin();
        let result = diverge_if_asked(
            control,
            trainer.train_chunk(train, chunk).await,
            "training loss",
            |r| r.epoch,
        );
        let r = match result {
            Ok(r) => r,
            Err(e @ LabError::NonFinite { .. }) => {
                return Ok(Outcome::Halted(halt(record, e).await));
            }
            Err(e) => return Err(e.to_string()),
        };
        let (ms_per_batch, cost) = meter.end(r.samples.div_ceil(trainer.config().batch_size));
        record.ms_per_step = cost.steady_ms.or(Some(ms_per_batch));
        send(FromWorker::Progress {
            epoch: r.epoch,
            batch: r.batch_in_epoch,
            loss: r.loss,
            ms_per_batch,
            cost,
        });
        loss_sum += r.loss * r.samples as f64;
        correct += r.accuracy * r.samples as f64;
        seen += r.samples;
        if r.epoch_finished {
            let eval = evaluate(trainer.model(), test, EVAL_BATCH, device)
                .await
                .map_err(|e| e.to_string())?;
            if !eval.loss.is_finite() {
                return Ok(Outcome::Halted(
                    halt(
                        record,
                        LabError::NonFinite {
                            what: "test loss",
                            value: eval.loss as f32,
                            epoch: r.epoch,
                        },
                    )
                    .await,
                ));
            }
            let metrics = EpochMetrics {
                epoch: r.epoch,
                train_loss: loss_sum / seen as f64,
                train_acc: correct / seen as f64,
                test_loss: eval.loss,
                test_acc: eval.accuracy,
            };
            (loss_sum, correct, seen) = (0.0, 0.0, 0);
            record.history.push(metrics.clone());
            record.confusion = Some(eval.confusion);
            send(FromWorker::Epoch {
                metrics,
                confusion: Box::new(eval.confusion),
                predictions: eval.predictions,
            });
            let checkpoint = trainer.checkpoint().await.map_err(|e| e.to_string())?;
            clock.bank(record);
            persist_epoch(record, control, r.epoch, trainer.finished(), checkpoint).await;
        }
        clock.bank(record);
        // Let pause/stop messages in between chunks.
        gloo_timers::future::TimeoutFuture::new(0).await;
    }
    Ok(Outcome::Finished)
}

/// Trains (or continues, from `checkpoint`) a classifier or a refinement run.
pub(crate) async fn classifier(
    mut record: RunRecord,
    checkpoint: Option<Checkpoint>,
    base: Option<Vec<NamedTensor>>,
    user: Option<UserTrainSet>,
    measure: bool,
    control: &Rc<RefCell<Control>>,
) -> Result<Option<FromWorker>, String> {
    let (config, subset) = match &record.spec {
        RunSpec::Classifier { config, subset, .. } | RunSpec::Refine { config, subset, .. } => {
            (config.clone(), *subset)
        }
        RunSpec::Gan { .. } => return Err("not a classifier run".into()),
    };
    config.validate().map_err(|e| e.to_string())?;
    let data = dataset(DatasetKind::Mnist).await?;
    let train = training_set(&data.train, record.spec.data(), user, subset)?;
    let chosen = if measure {
        let picked = measured(&record.spec, &config, &train).await;
        record.backend = picked.kind;
        Some(picked)
    } else {
        None
    };
    let (kind, device) = setup(&config, record.backend).await;
    record.backend = kind;
    let job = Job { kind, chosen, train, data, device, control };
    let (train, test, device) = (&job.train, &job.data.test, &job.device);
    let fresh = checkpoint.is_none();
    let e = |e: LabError| e.to_string();
    match record.spec.clone() {
        RunSpec::Classifier { .. } => {
            let mut trainer = trainer_for(
                Mlp::new(&MLP_WIDTHS, device),
                config,
                &checkpoint,
                train.len(),
                device,
            )?;
            if fresh {
                persist(&mut record, None).await;
            }
            match drive(&mut trainer, &job, &mut record).await? {
                Outcome::Finished => Ok(Some(FromWorker::Done {
                    tensors: mlp_tensors(trainer.model()).await.map_err(e)?,
                })),
                other => Ok(other.reply(record.id)),
            }
        }
        RunSpec::Refine { ranks, factor, before, rule, .. } => {
            // The factorized model's structure comes from the ranks; a checkpoint fills in the values.
            let base = match (base, &checkpoint) {
                (Some(b), _) => mlp_from_tensors(&b, &MLP_WIDTHS, device).map_err(|e| e.to_string())?,
                (None, Some(_)) => Mlp::new(&MLP_WIDTHS, device),
                (None, None) => return Err("this refinement stopped before its first epoch, and its base model is not stored: start it again".into()),
            };
            let template =
                MlpSpectrum::of(&base).await.map_err(e)?.build(&ranks, device).map_err(e)?;
            let params = template.num_params();
            let mut trainer = trainer_for(template, config, &checkpoint, train.len(), device)?;
            let before = if fresh {
                evaluate(trainer.model(), test, EVAL_BATCH, device).await.map_err(e)?.accuracy
            } else {
                before
            };
            if let RunSpec::Refine { before: b, .. } = &mut record.spec {
                *b = before;
            }
            if fresh {
                persist(&mut record, None).await;
            }
            match drive(&mut trainer, &job, &mut record).await? {
                Outcome::Finished => {
                    let eval =
                        evaluate(trainer.model(), test, EVAL_BATCH, device).await.map_err(e)?;
                    let after = eval.accuracy;
                    send(FromWorker::RefinedWeights {
                        factor,
                        rule,
                        ranks: ranks.clone(),
                        accuracy: after,
                        confusion: Box::new(eval.confusion),
                        predictions: eval.predictions,
                        tensors: factorized_tensors(trainer.model()).await.map_err(e)?,
                    });
                    Ok(Some(FromWorker::Refined(RefineRow {
                        factor,
                        ranks,
                        params,
                        before,
                        after,
                    })))
                }
                other => Ok(other.reply(record.id)),
            }
        }
        RunSpec::Gan { .. } => unreachable!("matched above"),
    }
}
