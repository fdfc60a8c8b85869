//! The training worker: owns burn and its device (WebGPU works in dedicated workers), loads
//! MNIST itself, runs the loop and streams typed progress to the page.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::app::backend::{self, BackendKind};
use crate::app::data_panel::load_bundled;
use burn::module::Module;
use burn::tensor::Device;

use crate::app::protocol::{FromWorker, RefineRow, RunRecord, RunSpec, SnapshotRecord, ToWorker, decode, encode};
use crate::app::store;
use crate::lab::checkpoint::Checkpoint;
use crate::lab::error::LabError;
use crate::app::fetch::fetch_bytes;
use crate::lab::data::{Dataset, DatasetKind, TrainTest};
use crate::lab::gan::grid::to_byte;
use crate::lab::gan::quality::{CLASSIFIER_WIDTHS, QualityJudge};
use crate::lab::gan::trainer::{generate, grid_noise, interpolate};
use crate::lab::gan::{GanArch, GanTrainer, Generator};
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
    /// Test hook: the next chunk counts as diverged.
    diverge: bool,
    /// Why the run was stopped from outside the page (the GPU device was lost).
    lost: Option<String>,
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
    // A lost device stops the run that uses it; `false` when no run is going (nothing to pause).
    let stopper = {
        let control = control.clone();
        move |why: String| {
            let mut c = control.borrow_mut();
            c.stop = true;
            c.lost = Some(why);
            c.running
        }
    };
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
            ToWorker::LoseDevice => lose_device(),
            ToWorker::Diverge => control.borrow_mut().diverge = true,
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
                        ToWorker::Gan { config, backend, subset } => {
                            gan(new_record(RunSpec::Gan { config, subset }, backend), None, &control, &shared).await
                        }
                        ToWorker::Train { config, backend, subset } => {
                            classifier(new_record(RunSpec::Classifier { config, subset }, backend), None, None, &control).await
                        }
                        ToWorker::Refine { base, ranks, factor, config, backend, subset } => {
                            let record = new_record(RunSpec::Refine { ranks, factor, before: f64::NAN, config, subset }, backend);
                            classifier(record, None, Some(base), &control).await
                        }
                        ToWorker::ResumeRun { id, backend, lr, lr_d } => reopen(&id, backend, lr, lr_d, &control, &shared).await,
                        _ => Ok(None),
                    };
                    // A lost GPU usually shows first as a failed readback, and its `lost` promise
                    // settles a moment later: give it that moment, so the page hears "device lost"
                    // (pause, continue on the CPU) rather than a bare failure.
                    let outcome = match outcome {
                        Err(e) if GPU_DEVICE.with(|d| d.borrow().is_some()) => {
                            for _ in 0..40 {
                                if control.borrow().lost.is_some() {
                                    break;
                                }
                                gloo_timers::future::TimeoutFuture::new(50).await;
                            }
                            let lost = control.borrow().lost.clone();
                            match lost {
                                Some(why) => Ok(Some(FromWorker::DeviceLost(why))),
                                None => Err(e),
                            }
                        }
                        other => other,
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
    watch_gpu_devices(stopper);
    // A panic leaves the wasm instance unusable: tell the page, which can reopen the run's last
    // checkpoint in a fresh worker.
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        send(FromWorker::Crashed(info.to_string()));
    }));
    send(FromWorker::Ready);
}

thread_local! {
    static GPU_DEVICE: RefCell<Option<JsValue>> = const { RefCell::new(None) };
}

/// Wraps `GPUAdapter.prototype.requestDevice` (with a `Proxy`: no `eval`, so a strict CSP
/// holds) to keep the device wgpu gets and to listen to its `lost` promise: a driver reset,
/// a removed GPU or the test hook then pauses the run with a message instead of hanging it.
fn watch_gpu_devices(stop: impl Fn(String) -> bool + 'static) {
    let proto = Reflect::get(&js_sys::global(), &"GPUAdapter".into()).and_then(|c| Reflect::get(&c, &"prototype".into()));
    let Ok(proto) = proto else { return };
    let Ok(original) = Reflect::get(&proto, &"requestDevice".into()) else { return };
    let Ok(original_fn) = original.clone().dyn_into::<Function>() else { return };
    let stop = Rc::new(stop);
    let trap = Closure::<dyn FnMut(JsValue, JsValue, Array) -> JsValue>::new(move |_target: JsValue, this: JsValue, args: Array| {
        let promise: Promise = match Reflect::apply(&original_fn, &this, &args).and_then(|p| p.dyn_into::<Promise>().map_err(JsValue::from)) {
            Ok(p) => p,
            Err(e) => return Promise::reject(&e).into(),
        };
        let stop = stop.clone();
        let on_device = Closure::<dyn FnMut(JsValue)>::new(move |device: JsValue| {
            GPU_DEVICE.with(|d| *d.borrow_mut() = Some(device.clone()));
            let stop = stop.clone();
            let on_lost = Closure::<dyn FnMut(JsValue)>::new(move |info: JsValue| {
                let field = |k: &str| Reflect::get(&info, &k.into()).ok().and_then(|v| v.as_string()).unwrap_or_default();
                let why = format!("the GPU device was lost ({}{}{})", field("reason"), if field("message").is_empty() { "" } else { ": " }, field("message"));
                if stop(why.clone()) {
                    send(FromWorker::DeviceLost(why));
                }
            });
            if let Ok(lost) = Reflect::get(&device, &"lost".into()).and_then(|l| l.dyn_into::<Promise>().map_err(JsValue::from)) {
                let _ = lost.then(&on_lost);
            }
            on_lost.forget();
        });
        let _ = promise.then(&on_device);
        on_device.forget();
        promise.into()
    });
    let handler = js_sys::Object::new();
    let _ = Reflect::set(&handler, &"apply".into(), trap.as_ref());
    trap.forget();
    let proxy = js_sys::Proxy::new(&original, &handler);
    let _ = Reflect::set(&proto, &"requestDevice".into(), &proxy);
}

/// The test hook: destroys the WebGPU device as a driver reset would (its `lost` fires).
fn lose_device() {
    let Some(device) = GPU_DEVICE.with(|d| d.borrow().clone()) else {
        return send(FromWorker::Failed("there is no WebGPU device to lose: this run is on the CPU".into()));
    };
    if let Ok(destroy) = Reflect::get(&device, &"destroy".into()).and_then(|f| f.dyn_into::<Function>().map_err(JsValue::from)) {
        let _ = destroy.call0(&device);
    }
}

/// A new run's record: its id is its kind and start time.
fn new_record(spec: RunSpec, backend: BackendKind) -> RunRecord {
    let now = js_sys::Date::now();
    RunRecord {
        id: format!("{}-{}", spec.panel(), now as u64),
        spec,
        backend,
        created_ms: now,
        updated_ms: now,
        epochs_done: 0,
        finished: false,
        history: Vec::new(),
        gan_history: Vec::new(),
        snapshots: Vec::new(),
        note: None,
        confusion: None,
        judge: None,
    }
}

/// Saves the record (and checkpoint) and tells the page; a failed save is a warning, not a stop.
async fn persist(record: &mut RunRecord, checkpoint: Option<Vec<u8>>) -> bool {
    record.updated_ms = js_sys::Date::now();
    match store::save(record, checkpoint.as_deref()).await {
        Ok(()) => {
            send(FromWorker::RunSaved { id: record.id.clone(), epoch: record.epochs_done });
            true
        }
        Err(e) => {
            send(FromWorker::SaveFailed(format!("the checkpoint of epoch {} was not saved: {e}", record.epochs_done)));
            false
        }
    }
}

/// Saves the checkpoint of `epoch`. The record says `epoch` (and `finished`) only once the save
/// succeeded: a later save without a checkpoint (a stop, a halt) must not claim epochs that a
/// resume would not give back. Nothing is saved once the GPU device is lost (its numbers are
/// not to be trusted).
async fn persist_epoch(record: &mut RunRecord, control: &Rc<RefCell<Control>>, epoch: usize, finished: bool, checkpoint: Checkpoint) {
    if control.borrow().lost.is_some() {
        return;
    }
    let (prev_epochs, prev_finished) = (record.epochs_done, record.finished);
    (record.epochs_done, record.finished) = (epoch, finished);
    if !persist(record, Some(checkpoint.to_bytes())).await {
        (record.epochs_done, record.finished) = (prev_epochs, prev_finished);
    }
}

/// A chunk's result, or — when the test hook asked for it — the NaN error a too-high learning
/// rate would give, so the automatic pause can be tested.
fn diverge_if_asked<T>(control: &Rc<RefCell<Control>>, result: crate::lab::error::LabResult<T>, what: &'static str, epoch: impl Fn(&T) -> usize) -> crate::lab::error::LabResult<T> {
    if std::mem::take(&mut control.borrow_mut().diverge) {
        result.and_then(|r| Err(LabError::NonFinite { what, value: f32::NAN, epoch: epoch(&r) }))
    } else {
        result
    }
}

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

/// Marks a run as diverged (kept at its last checkpoint); the message for the page.
async fn halt(record: &mut RunRecord, e: LabError) -> String {
    let msg = format!(
        "{e}. Paused at the last good checkpoint (epoch {}): lower the learning rate and resume.",
        record.epochs_done
    );
    record.note = Some(msg.clone());
    persist(record, None).await;
    msg
}

/// Notes why a run stopped (asked to, or its GPU device was lost) and saves the record.
async fn note_stop(record: &mut RunRecord, control: &Rc<RefCell<Control>>) {
    record.note = Some(control.borrow().lost.clone().unwrap_or_else(|| "stopped".into()));
    persist(record, None).await;
}

/// A classifier run's trainer: restored from its checkpoint, or new.
fn trainer_for<M: Classifier>(template: M, config: TrainConfig, checkpoint: &Option<Checkpoint>, train_len: usize, device: &Device) -> Result<ClassifierTrainer<M>, String> {
    match checkpoint {
        Some(ck) => ClassifierTrainer::restore(template, config, ck, train_len, device),
        None => ClassifierTrainer::new(template, config, train_len, device),
    }
    .map_err(|e| e.to_string())
}

/// Reopens a stored run from its checkpoint: continues it, or shows it if it had finished.
async fn reopen(id: &str, backend: BackendKind, lr: Option<f64>, lr_d: Option<f64>, control: &Rc<RefCell<Control>>, shared: &Shared) -> Result<Option<FromWorker>, String> {
    let (mut record, bytes) = store::load(id).await?;
    let checkpoint = bytes.map(|b| Checkpoint::from_bytes(&b)).transpose().map_err(|e| e.to_string())?;
    match &mut record.spec {
        RunSpec::Classifier { config, .. } | RunSpec::Refine { config, .. } => {
            if let Some(lr) = lr {
                config.lr = lr;
            }
        }
        RunSpec::Gan { config, .. } => {
            if let Some(lr) = lr {
                config.lr_g = lr;
            }
            if let Some(lr) = lr_d {
                config.lr_d = lr;
            }
        }
    }
    // A checkpoint holds whole epochs: anything recorded after it is redone.
    let done = checkpoint.as_ref().map(|c| c.loop_state.epochs_done).unwrap_or(0);
    record.history.truncate(done);
    record.gan_history.truncate(done);
    record.snapshots.retain(|s| s.epoch <= done);
    record.epochs_done = done;
    record.backend = backend;
    record.note = None;
    send(FromWorker::RunRestored(Box::new(record.clone())));
    match record.spec {
        RunSpec::Gan { .. } => gan(record, checkpoint, control, shared).await,
        _ => classifier(record, checkpoint, None, control).await,
    }
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

/// Runs a trainer to the end, streaming progress and per-epoch metrics, and saving a checkpoint
/// after every epoch.
async fn drive<M: Classifier>(
    trainer: &mut ClassifierTrainer<M>,
    kind: BackendKind,
    train: &Dataset,
    test: &Dataset,
    device: &Device,
    control: &Rc<RefCell<Control>>,
    record: &mut RunRecord,
) -> Result<Outcome, String> {
    send(FromWorker::Started { backend: kind.title().into(), batches_per_epoch: trainer.batches_per_epoch() });
    // A software GPU takes ~1 s a step: report every 2 batches there, every 10 on the CPU.
    let chunk = if kind == BackendKind::WebGpu { 2 } else { 10 };
    let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0.0f64, 0usize);
    while !trainer.finished() {
        if !hold(control).await {
            note_stop(record, control).await;
            return Ok(Outcome::Stopped);
        }
        let t0 = crate::app::now_ms();
        let result = diverge_if_asked(control, trainer.train_chunk(train, chunk).await, "training loss", |r| r.epoch);
        let r = match result {
            Ok(r) => r,
            Err(e @ LabError::NonFinite { .. }) => return Ok(Outcome::Halted(halt(record, e).await)),
            Err(e) => return Err(e.to_string()),
        };
        let ms_per_batch = (crate::app::now_ms() - t0) / r.samples.div_ceil(trainer.config().batch_size).max(1) as f64;
        send(FromWorker::Progress { epoch: r.epoch, batch: r.batch_in_epoch, loss: r.loss, ms_per_batch });
        loss_sum += r.loss * r.samples as f64;
        correct += r.accuracy * r.samples as f64;
        seen += r.samples;
        if r.epoch_finished {
            let eval = evaluate(trainer.model(), test, EVAL_BATCH, device).await.map_err(|e| e.to_string())?;
            if !eval.loss.is_finite() {
                return Ok(Outcome::Halted(halt(record, LabError::NonFinite { what: "test loss", value: eval.loss as f32, epoch: r.epoch }).await));
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
            record.confusion = Some(eval.confusion.clone());
            send(FromWorker::Epoch { metrics, confusion: Box::new(eval.confusion), predictions: eval.predictions });
            let checkpoint = trainer.checkpoint().await.map_err(|e| e.to_string())?;
            persist_epoch(record, control, r.epoch, trainer.finished(), checkpoint).await;
        }
        // Let pause/stop messages in between chunks.
        gloo_timers::future::TimeoutFuture::new(0).await;
    }
    Ok(Outcome::Finished)
}

/// Trains (or continues, from `checkpoint`) a classifier or a refinement run.
async fn classifier(
    mut record: RunRecord,
    checkpoint: Option<Checkpoint>,
    base: Option<Vec<NamedTensor>>,
    control: &Rc<RefCell<Control>>,
) -> Result<Option<FromWorker>, String> {
    let (config, subset) = match &record.spec {
        RunSpec::Classifier { config, subset } | RunSpec::Refine { config, subset, .. } => (config.clone(), *subset),
        RunSpec::Gan { .. } => return Err("not a classifier run".into()),
    };
    let (kind, device, train, test) = setup(&config, record.backend, subset).await?;
    record.backend = kind;
    let fresh = checkpoint.is_none();
    let e = |e: LabError| e.to_string();
    match record.spec.clone() {
        RunSpec::Classifier { .. } => {
            let mut trainer = trainer_for(Mlp::new(&MLP_WIDTHS, &device), config, &checkpoint, train.len(), &device)?;
            if fresh {
                persist(&mut record, None).await;
            }
            match drive(&mut trainer, kind, &train, &test, &device, control, &mut record).await? {
                Outcome::Finished => Ok(Some(FromWorker::Done { tensors: mlp_tensors(trainer.model()).await.map_err(e)? })),
                other => Ok(other.reply(record.id)),
            }
        }
        RunSpec::Refine { ranks, factor, before, .. } => {
            // The factorized model's structure comes from the ranks; a checkpoint fills in the values.
            let base = match (base, &checkpoint) {
                (Some(b), _) => mlp_from_tensors(&b, &MLP_WIDTHS, &device).map_err(|e| e.to_string())?,
                (None, Some(_)) => Mlp::new(&MLP_WIDTHS, &device),
                (None, None) => return Err("this refinement stopped before its first epoch, and its base model is not stored: start it again".into()),
            };
            let template = MlpSpectrum::of(&base).await.map_err(e)?.build(&ranks, &device).map_err(e)?;
            let params = template.num_params();
            let mut trainer = trainer_for(template, config, &checkpoint, train.len(), &device)?;
            let before = if fresh { evaluate(trainer.model(), &test, EVAL_BATCH, &device).await.map_err(e)?.accuracy } else { before };
            if let RunSpec::Refine { before: b, .. } = &mut record.spec {
                *b = before;
            }
            if fresh {
                persist(&mut record, None).await;
            }
            match drive(&mut trainer, kind, &train, &test, &device, control, &mut record).await? {
                Outcome::Finished => {
                    let after = evaluate(trainer.model(), &test, EVAL_BATCH, &device).await.map_err(e)?.accuracy;
                    Ok(Some(FromWorker::Refined(RefineRow { factor, ranks, params, before, after })))
                }
                other => Ok(other.reply(record.id)),
            }
        }
        RunSpec::Gan { .. } => unreachable!("matched above"),
    }
}

/// Loads the shipped quality judge and measures the real test images (best effort: without it
/// the run goes on, without quality numbers).
async fn load_judge(test: &Dataset, device: &Device) -> Result<(QualityJudge, f64), String> {
    let url = "models/fashion-judge-784-256-64-10.safetensors";
    let bytes = fetch_bytes(url, |_, _| {}).await?;
    let (tensors, _) = decode_safetensors(&bytes).map_err(|e| e.to_string())?;
    let inner = device.clone().without_autodiff();
    let classifier = mlp_from_tensors(&tensors, &CLASSIFIER_WIDTHS, &inner).map_err(|e| e.to_string())?;
    let accuracy = evaluate(&classifier, test, EVAL_BATCH, &inner).await.map_err(|e| e.to_string())?.accuracy;
    let judge = QualityJudge::new(classifier, test, JUDGE_SAMPLES, &inner).await.map_err(|e| e.to_string())?;
    Ok((judge, accuracy))
}

/// Images per side for the page's quality numbers (the CLI uses 2000; the page keeps it quick).
pub const JUDGE_SAMPLES: usize = 500;

fn bytes(images: Vec<f32>) -> Vec<u8> {
    images.into_iter().map(to_byte).collect()
}

async fn gan(mut record: RunRecord, checkpoint: Option<Checkpoint>, control: &Rc<RefCell<Control>>, shared: &Shared) -> Result<Option<FromWorker>, String> {
    let RunSpec::Gan { config, subset } = record.spec.clone() else {
        return Err("not a GAN run".into());
    };
    config.validate().map_err(|e| e.to_string())?;
    let active = backend::choose(Some(record.backend)).await;
    record.backend = active.kind;
    let data = dataset(DatasetKind::FashionMnist).await?;
    let train = match subset {
        Some(n) => data.train.take(n),
        None => data.train.clone(),
    };
    let device = active.device.clone().autodiff();
    let mut trainer = match &checkpoint {
        Some(ck) => GanTrainer::restore(config.clone(), ck, record.gan_history.clone(), train.len(), &device),
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
    send(FromWorker::GanStarted { backend: active.kind.title().into(), batches_per_epoch: trainer.batches_per_epoch() });
    send_canvas(shared).await?;
    // A software GPU takes seconds a step: one batch per chunk there; a few on the CPU.
    let chunk = if active.kind == BackendKind::WebGpu { 1 } else { 4 };
    let mut last_canvas = crate::app::now_ms();
    while !trainer.finished() {
        if !hold(control).await {
            note_stop(&mut record, control).await;
            return Ok(None);
        }
        let t0 = crate::app::now_ms();
        let result = diverge_if_asked(control, trainer.train_chunk(&train, chunk).await, "generator loss", |c| c.epoch);
        let c = match result {
            Ok(c) => c,
            Err(e @ LabError::NonFinite { .. }) => return Ok(Some(FromWorker::Halted { message: halt(&mut record, e).await, id: record.id })),
            Err(e) => return Err(e.to_string()),
        };
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
        if let Some(e) = finished {
            if trainer.is_snapshot_epoch(e.epoch) {
                let images = bytes(trainer.generate(trainer.fixed_noise()).await.map_err(|e| e.to_string())?);
                let quality = match &judge {
                    Some(j) => Some(j.judge_generator(trainer.generator(), config.seed, e.epoch).await.map_err(|e| e.to_string())?),
                    None => None,
                };
                record.snapshots.push(SnapshotRecord { epoch: e.epoch, images: images.clone(), quality: quality.clone() });
                send(FromWorker::GanSnapshot { epoch: e.epoch, images, quality });
            }
            record.gan_history.push(e.clone());
            let checkpoint = trainer.checkpoint().await.map_err(|e| e.to_string())?;
            persist_epoch(&mut record, control, e.epoch, trainer.finished(), checkpoint).await;
        }
        gloo_timers::future::TimeoutFuture::new(0).await;
    }
    Ok(Some(FromWorker::GanDone))
}
