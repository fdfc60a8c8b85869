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
use crate::app::fetch::fetch_bytes;
use crate::lab::data::{Dataset, DatasetKind, TrainTest};
use crate::lab::gan::grid::to_byte;
use crate::lab::gan::quality::{CLASSIFIER_WIDTHS, QualityJudge};
use crate::lab::gan::trainer::{generate, grid_noise, interpolate};
use crate::lab::gan::{GanArch, GanConfig, GanTrainer, Generator};
use crate::lab::params::load_module_tensors;
use crate::lab::weights::decode_safetensors;
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

/// The latest generator (updated after every chunk), so "new noise" and the latent walk work
/// during and after a run.
#[derive(Default)]
struct GanShared {
    g: Option<(Generator, Device)>,
    noise_seed: u64,
    epoch: usize,
}

type Shared = Rc<RefCell<GanShared>>;

thread_local! {
    static DATA: RefCell<Vec<(DatasetKind, Rc<TrainTest>)>> = const { RefCell::new(Vec::new()) };
}

/// A bundled data set, downloaded and parsed once per worker (each job used to spend about a
/// second fetching it from the HTTP cache and parsing it again).
async fn dataset(kind: DatasetKind) -> Result<Rc<TrainTest>, String> {
    if let Some(d) = DATA.with(|c| c.borrow().iter().find(|(k, _)| *k == kind).map(|(_, d)| d.clone())) {
        return Ok(d);
    }
    let d = Rc::new(load_bundled(kind, |_| {}).await?);
    DATA.with(|c| c.borrow_mut().push((kind, d.clone())));
    Ok(d)
}

/// Where the page's pretrained generators live (relative to the page).
pub fn pretrained_generator_url(arch: GanArch) -> String {
    format!("models/gan-{}-generator.safetensors", arch.slug())
}

/// Generates from the shared generator and sends the images as bytes.
async fn images_from(shared: &Shared, noise: Vec<f32>) -> Result<Vec<u8>, String> {
    let Some((g, device)) = shared.borrow().g.clone() else {
        return Err("no generator yet: start a run first".into());
    };
    Ok(bytes(generate(&g, &noise, &device).await.map_err(|e| e.to_string())?))
}

/// Redraws the canvas from the current noise.
async fn send_canvas(shared: &Shared) -> Result<(), String> {
    let seed = shared.borrow().noise_seed;
    let images = images_from(shared, grid_noise(seed)).await?;
    let epoch = shared.borrow().epoch;
    send(FromWorker::GanSamples { epoch, images });
    Ok(())
}

/// Loads the shipped generator of `arch` on the CPU and shows it; silent when none is shipped.
async fn pretrained(arch: GanArch, noise_seed: u64, shared: &Shared) -> Result<(), String> {
    let url = pretrained_generator_url(arch);
    let bytes = match fetch_bytes(&url, |_, _| {}).await {
        Ok(b) => b,
        Err(e) if e.contains("HTTP 404") => return Ok(()),
        Err(e) => return Err(e),
    };
    let device = Device::flex();
    let (tensors, _) = decode_safetensors(&bytes).map_err(|e| format!("{url}: {e}"))?;
    let g = load_module_tensors(&Generator::new(arch, &device), &tensors).map_err(|e| format!("{url}: {e}"))?;
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

fn send(msg: FromWorker) {
    let _ = scope().post_message(&encode(&msg));
}

/// Entry point of the worker binary: listen for commands.
pub fn start() {
    crate::app::run_static_constructors();
    console_error_panic_hook::set_once();
    let control = Rc::new(RefCell::new(Control::default()));
    let shared: Shared = Rc::new(RefCell::new(GanShared::default()));
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
            ToWorker::Pretrained { arch, noise_seed } => {
                if !control.borrow().running {
                    shared.borrow_mut().g = None; // an idle page switching architecture
                }
                let shared = shared.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    if let Err(e) = pretrained(arch, noise_seed, &shared).await {
                        send(FromWorker::Failed(format!("could not load the pretrained generator: {e}")));
                    }
                });
            }
            ToWorker::Noise { seed } => {
                shared.borrow_mut().noise_seed = seed;
                if shared.borrow().g.is_none() {
                    return; // nothing to draw yet: the next run's canvas uses this seed
                }
                let shared = shared.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    if let Err(e) = send_canvas(&shared).await {
                        send(FromWorker::Failed(e));
                    }
                });
            }
            ToWorker::Walk { a, b, steps } => {
                let shared = shared.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    if a.len() != crate::lab::gan::LATENT_DIM || b.len() != a.len() || !(2..=32).contains(&steps) {
                        return send(FromWorker::Failed("a latent walk needs two 100-d vectors and 2–32 steps".into()));
                    }
                    match images_from(&shared, interpolate(&a, &b, steps)).await {
                        Ok(images) => send(FromWorker::Walk(images)),
                        Err(e) => send(FromWorker::Failed(e)),
                    }
                });
            }
            job => {
                if control.borrow().running {
                    return send(FromWorker::Failed("a run is already going: stop it first".into()));
                }
                *control.borrow_mut() = Control { running: true, ..Control::default() };
                let control = control.clone();
                let shared = shared.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    let outcome = match job {
                        ToWorker::Gan { config, backend, subset } => gan(config, backend, subset, &control, &shared).await,
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

/// Waits while the run is paused; `false` once it is asked to stop.
async fn hold(control: &Rc<RefCell<Control>>) -> bool {
    loop {
        if control.borrow().stop {
            return false;
        }
        if !control.borrow().paused {
            return true;
        }
        gloo_timers::future::TimeoutFuture::new(50).await;
    }
}

/// The backend, MNIST (optionally a training subset) and the autodiff device of a job.
async fn setup(config: &TrainConfig, kind: BackendKind, subset: Option<usize>) -> Result<(BackendKind, Device, Dataset, Dataset), String> {
    config.validate().map_err(|e| e.to_string())?;
    let active = backend::choose(Some(kind)).await;
    let data = dataset(DatasetKind::Mnist).await?;
    let train = match subset {
        Some(n) => data.train.take(n),
        None => data.train.clone(),
    };
    let device = active.device.clone().autodiff();
    device.seed(config.seed);
    Ok((active.kind, device, train, data.test.clone()))
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
        if !hold(control).await {
            return Ok(false);
        }
        let t0 = crate::app::now_ms();
        let r = trainer.train_chunk(train, chunk).await.map_err(|e| e.to_string())?;
        let ms_per_batch = (crate::app::now_ms() - t0) / r.samples.div_ceil(trainer.config().batch_size).max(1) as f64;
        send(FromWorker::Progress { epoch: r.epoch, batch: r.batch_in_epoch, loss: r.loss, ms_per_batch });
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

/// Loads the shipped quality judge and measures the real test images (best effort: without it
/// the run goes on, without quality numbers).
async fn load_judge(test: &Dataset, device: &Device) -> Result<QualityJudge, String> {
    let url = "models/fashion-judge-784-256-64-10.safetensors";
    let bytes = fetch_bytes(url, |_, _| {}).await?;
    let (tensors, _) = decode_safetensors(&bytes).map_err(|e| e.to_string())?;
    let inner = device.clone().without_autodiff();
    let classifier = mlp_from_tensors(&tensors, &CLASSIFIER_WIDTHS, &inner).map_err(|e| e.to_string())?;
    QualityJudge::new(classifier, test, JUDGE_SAMPLES, &inner).await.map_err(|e| e.to_string())
}

/// Images per side for the page's quality numbers (the CLI uses 2000; the page keeps it quick).
const JUDGE_SAMPLES: usize = 500;

fn bytes(images: Vec<f32>) -> Vec<u8> {
    images.into_iter().map(to_byte).collect()
}

async fn gan(config: GanConfig, kind: BackendKind, subset: Option<usize>, control: &Rc<RefCell<Control>>, shared: &Shared) -> Result<Option<FromWorker>, String> {
    config.validate().map_err(|e| e.to_string())?;
    let active = backend::choose(Some(kind)).await;
    let data = dataset(DatasetKind::FashionMnist).await?;
    let train = match subset {
        Some(n) => data.train.take(n),
        None => data.train.clone(),
    };
    let device = active.device.clone().autodiff();
    let mut trainer = GanTrainer::new(config.clone(), train.len(), &device).map_err(|e| e.to_string())?;
    let judge = match load_judge(&data.test, &device).await {
        Ok(j) => Some(j),
        Err(e) => {
            web_sys::console::warn_1(&format!("no quality numbers this run: {e}").into());
            None
        }
    };
    {
        let mut sh = shared.borrow_mut();
        sh.g = Some((trainer.generator().clone(), device.clone()));
        sh.epoch = 0;
    }
    send(FromWorker::GanStarted { backend: active.kind.title().into(), batches_per_epoch: trainer.batches_per_epoch() });
    send_canvas(shared).await?;
    // A software GPU takes seconds a step: one batch per chunk there; a few on the CPU.
    let chunk = if active.kind == BackendKind::WebGpu { 1 } else { 4 };
    let mut last_canvas = crate::app::now_ms();
    while !trainer.finished() {
        if !hold(control).await {
            return Ok(None);
        }
        let t0 = crate::app::now_ms();
        let c = trainer.train_chunk(&train, chunk).await.map_err(|e| e.to_string())?;
        let ms_per_batch = (crate::app::now_ms() - t0) / c.batches.max(1) as f64;
        {
            let mut sh = shared.borrow_mut();
            sh.g = Some((trainer.generator().clone(), device.clone()));
            sh.epoch = c.epoch;
        }
        let finished = c.finished_epoch.clone();
        send(FromWorker::GanProgress { chunk: Box::new(c), ms_per_batch });
        // The canvas a few times a second at most: each redraw is a forward pass and a readback.
        if crate::app::now_ms() - last_canvas > 250.0 || finished.is_some() {
            send_canvas(shared).await?;
            last_canvas = crate::app::now_ms();
        }
        if let Some(e) = finished
            && trainer.is_snapshot_epoch(e.epoch)
        {
            let images = trainer.generate(trainer.fixed_noise()).await.map_err(|e| e.to_string())?;
            let quality = match &judge {
                Some(j) => Some(j.judge_generator(trainer.generator(), config.seed, e.epoch).await.map_err(|e| e.to_string())?),
                None => None,
            };
            send(FromWorker::GanSnapshot { epoch: e.epoch, images: bytes(images), quality });
        }
        gloo_timers::future::TimeoutFuture::new(0).await;
    }
    Ok(Some(FromWorker::GanDone))
}
