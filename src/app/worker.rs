//! The training worker: owns burn and its device (WebGPU works in dedicated workers), loads
//! MNIST itself, runs the loop and streams typed progress to the page.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::app::backend::{self, BackendKind};
use crate::app::data_panel::load_bundled;
use burn::module::Module;
use burn::tensor::Device;

use crate::app::protocol::{FromWorker, RefineRow, ToWorker, decode, encode};
use crate::lab::data::{Dataset, DatasetKind};
use crate::lab::factorized::MlpSpectrum;
use crate::lab::mlp::{MLP_WIDTHS, Mlp};
use crate::lab::report::EpochMetrics;
use crate::lab::train::{Classifier, ClassifierTrainer, EVAL_BATCH, TrainConfig, evaluate};
use crate::lab::weights::{NamedTensor, mlp_from_tensors, mlp_tensors};

#[derive(Default)]
struct Control {
    paused: bool,
    stop: bool,
    running: bool,
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn send(msg: FromWorker) {
    let _ = scope().post_message(&encode(&msg));
}

/// Entry point of the worker binary: listen for commands.
pub fn start() {
    console_error_panic_hook::set_once();
    let control = Rc::new(RefCell::new(Control::default()));
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        let msg: ToWorker = match decode(&e.data()) {
            Ok(m) => m,
            Err(err) => return send(FromWorker::Failed(format!("the worker received {err}"))),
        };
        match msg {
            ToWorker::Pause => {
                control.borrow_mut().paused = true;
                send(FromWorker::Paused);
            }
            ToWorker::Resume => {
                control.borrow_mut().paused = false;
                send(FromWorker::Resumed);
            }
            ToWorker::Stop => control.borrow_mut().stop = true,
            job => {
                if control.borrow().running {
                    return send(FromWorker::Failed("a run is already going: stop it first".into()));
                }
                *control.borrow_mut() = Control { running: true, ..Control::default() };
                let control = control.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    let outcome = match job {
                        ToWorker::Train { config, backend, subset } => train(config, backend, subset, &control).await,
                        ToWorker::Refine { base, ranks, factor, config, backend, subset } => {
                            refine(base, ranks, factor, config, backend, subset, &control).await
                        }
                        _ => Ok(None),
                    };
                    control.borrow_mut().running = false;
                    send(match outcome {
                        Ok(Some(done)) => done,
                        Ok(None) => FromWorker::Stopped,
                        Err(e) => FromWorker::Failed(e),
                    });
                });
            }
        }
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    send(FromWorker::Ready);
}

/// The backend, MNIST (optionally a training subset) and the autodiff device of a job.
async fn setup(config: &TrainConfig, kind: BackendKind, subset: Option<usize>) -> Result<(BackendKind, Device, Dataset, Dataset), String> {
    config.validate().map_err(|e| e.to_string())?;
    let active = backend::choose(Some(kind)).await;
    let data = load_bundled(DatasetKind::Mnist, |_| {}).await?;
    let train = match subset {
        Some(n) => data.train.take(n),
        None => data.train,
    };
    let device = active.device.clone().autodiff();
    device.seed(config.seed);
    Ok((active.kind, device, train, data.test))
}

/// Runs a trainer to the end, streaming progress and per-epoch metrics; `false` if stopped.
async fn drive<M: Classifier>(
    trainer: &mut ClassifierTrainer<M>,
    kind: BackendKind,
    train: &Dataset,
    test: &Dataset,
    device: &Device,
    control: &Rc<RefCell<Control>>,
) -> Result<bool, String> {
    send(FromWorker::Started { backend: kind.title().into(), batches_per_epoch: trainer.batches_per_epoch() });
    // A software GPU takes ~1 s a step: report every 2 batches there, every 10 on the CPU.
    let chunk = if kind == BackendKind::WebGpu { 2 } else { 10 };
    let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0.0f64, 0usize);
    while !trainer.finished() {
        if control.borrow().stop {
            return Ok(false);
        }
        if control.borrow().paused {
            gloo_timers::future::TimeoutFuture::new(50).await;
            continue;
        }
        let r = trainer.train_chunk(train, chunk).await.map_err(|e| e.to_string())?;
        send(FromWorker::Progress { epoch: r.epoch, batch: r.batch_in_epoch, loss: r.loss });
        loss_sum += r.loss * r.samples as f64;
        correct += r.accuracy * r.samples as f64;
        seen += r.samples;
        if r.epoch_finished {
            let eval = evaluate(trainer.model(), test, EVAL_BATCH, device).await.map_err(|e| e.to_string())?;
            let metrics = EpochMetrics {
                epoch: r.epoch,
                train_loss: loss_sum / seen as f64,
                train_acc: correct / seen as f64,
                test_loss: eval.loss,
                test_acc: eval.accuracy,
            };
            (loss_sum, correct, seen) = (0.0, 0.0, 0);
            send(FromWorker::Epoch { metrics, confusion: Box::new(eval.confusion), predictions: eval.predictions });
        }
        // Let pause/stop messages in between chunks.
        gloo_timers::future::TimeoutFuture::new(0).await;
    }
    Ok(true)
}

async fn train(config: TrainConfig, kind: BackendKind, subset: Option<usize>, control: &Rc<RefCell<Control>>) -> Result<Option<FromWorker>, String> {
    let (kind, device, train, test) = setup(&config, kind, subset).await?;
    let mut trainer = ClassifierTrainer::new(Mlp::new(&MLP_WIDTHS, &device), config, train.len(), &device).map_err(|e| e.to_string())?;
    if !drive(&mut trainer, kind, &train, &test, &device, control).await? {
        return Ok(None);
    }
    let tensors = mlp_tensors(trainer.model()).await.map_err(|e| e.to_string())?;
    Ok(Some(FromWorker::Done { tensors }))
}

async fn refine(
    base: Vec<NamedTensor>,
    ranks: Vec<usize>,
    factor: f64,
    config: TrainConfig,
    kind: BackendKind,
    subset: Option<usize>,
    control: &Rc<RefCell<Control>>,
) -> Result<Option<FromWorker>, String> {
    let (kind, device, train, test) = setup(&config, kind, subset).await?;
    let base = mlp_from_tensors(&base, &MLP_WIDTHS, &device).map_err(|e| e.to_string())?;
    let spectrum = MlpSpectrum::of(&base).await.map_err(|e| e.to_string())?;
    let model = spectrum.build(&ranks, &device).map_err(|e| e.to_string())?;
    let params = model.num_params();
    let before = evaluate(&model, &test, EVAL_BATCH, &device).await.map_err(|e| e.to_string())?.accuracy;
    let mut trainer = ClassifierTrainer::new(model, config, train.len(), &device).map_err(|e| e.to_string())?;
    if !drive(&mut trainer, kind, &train, &test, &device, control).await? {
        return Ok(None);
    }
    let after = evaluate(trainer.model(), &test, EVAL_BATCH, &device).await.map_err(|e| e.to_string())?.accuracy;
    Ok(Some(FromWorker::Refined(RefineRow { factor, ranks, params, before, after })))
}
