//! Training the exercise-1 classifier from scratch in the page: settings with validation,
//! start / pause / resume / stop, progress bars, live per-epoch charts and the confusion matrix.
//!
//! The training itself runs in a dedicated Web Worker (`worker.rs`) that owns burn and its
//! device; this component only sends commands and renders the typed progress it streams back.

use std::cell::RefCell;
use std::rc::Rc;

use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::app::backend::{ActiveBackend, BackendKind};
use crate::app::protocol::RunSpec;
use crate::app::store;
use crate::app::chart::{LineChart, Series};
use crate::app::confusion::ConfusionHeatmap;
use crate::app::data_panel::DataState;
use crate::app::protocol::{FromWorker, ToWorker};
use crate::app::worker_client::WorkerClient;
use crate::app::url_param;
use crate::lab::data::Dataset;
use crate::lab::metrics::ConfusionMatrix;
use crate::lab::report::EpochMetrics;
use crate::lab::train::{LrSchedule, TrainConfig};
use crate::lab::weights::NamedTensor;

/// A request from the run list to reopen a stored run in this panel (the nonce makes a second
/// click on the same run count).
#[derive(Debug, Clone, PartialEq)]
pub struct ResumeRequest {
    /// The run's id in the store.
    pub id: String,
    /// Changes on every click.
    pub nonce: u32,
}

thread_local! {
    static HANDLED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

impl ResumeRequest {
    /// True the first time any panel asks about this click: a panel that is re-mounted (the
    /// refinement panel, when the base model reloads) must not reopen the run a second time.
    pub fn claim(&self) -> bool {
        HANDLED.with(|h| {
            let fresh = self.nonce > h.get();
            if fresh {
                h.set(self.nonce);
            }
            fresh
        })
    }
}

/// What the panel needs and reports.
#[derive(Properties, Debug, Clone, PartialEq)]
pub struct TrainPanelProps {
    /// Backend to train on.
    pub backend: Option<ActiveBackend>,
    /// MNIST.
    pub mnist: DataState,
    /// Receives the trained weights when a run finishes (they replace the pretrained model).
    pub on_trained: Callback<Rc<Vec<NamedTensor>>>,
    /// A stored classifier run to reopen.
    #[prop_or_default]
    pub resume: Option<ResumeRequest>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Idle,
    Running,
    Paused,
    Done,
    Stopped,
    Failed,
    /// The GPU was lost or the worker crashed: the run waits at its last checkpoint.
    Interrupted,
    /// Training diverged (NaN/Inf): the run waits at its last checkpoint.
    Halted,
}

#[derive(Debug, Clone, PartialEq, Default)]
struct Progress {
    epoch: usize,
    epochs: usize,
    batch: usize,
    batches: usize,
    last_loss: f64,
    ms_per_batch: f64,
}

/// Parses the four settings into a validated config, or says what is wrong.
fn parse_config(epochs: &str, batch: &str, lr: &str, seed: &str) -> Result<TrainConfig, String> {
    let num = |name: &str, v: &str| -> Result<f64, String> { v.trim().parse::<f64>().map_err(|_| format!("{name}: `{v}` is not a number")) };
    let whole = |name: &str, v: &str| -> Result<usize, String> {
        v.trim().parse::<usize>().map_err(|_| format!("{name}: `{v}` is not a whole number ≥ 0"))
    };
    let config = TrainConfig {
        epochs: whole("epochs", epochs)?,
        batch_size: whole("batch size", batch)?,
        lr: num("learning rate", lr)?,
        seed: seed.trim().parse().map_err(|_| format!("seed: `{seed}` is not a whole number"))?,
        schedule: LrSchedule::Cosine,
        weight_decay: 1e-4,
    };
    config.validate().map_err(|e| e.to_string())?;
    Ok(config)
}

fn input_value(e: InputEvent) -> String {
    e.target_unchecked_into::<HtmlInputElement>().value()
}

/// The training panel.
#[component]
pub fn TrainPanel(props: &TrainPanelProps) -> Html {
    let epochs = use_state(|| url_param("epochs").unwrap_or_else(|| "10".to_string()));
    let batch = use_state(|| url_param("batch").unwrap_or_else(|| "128".to_string()));
    let lr = use_state(|| url_param("lr").unwrap_or_else(|| "0.001".to_string()));
    let seed = use_state(|| url_param("seed").unwrap_or_else(|| "42".to_string()));
    let error = use_state(|| None::<String>);
    let warning = use_state(|| None::<String>);
    let status = use_state(|| Status::Idle);
    let progress = use_state(Progress::default);
    let history = use_state(Vec::<EpochMetrics>::new);
    let confusion = use_state(|| None::<(ConfusionMatrix, Rc<Vec<u8>>, Rc<Dataset>)>);
    let run_id = use_state(|| None::<String>);
    let subset = url_param("train_subset").and_then(|s| s.parse::<usize>().ok());

    // The worker is created on the first start and kept: its WebGPU device can be made only once.
    // After a lost device or a crash it is replaced by a fresh one.
    let worker = use_mut_ref(|| None::<WorkerClient>);

    // Starts a job (a new run or a reopened one) in the worker, routing its replies to the panel.
    let launch = {
        let (error, warning, status, progress, history, confusion, run_id) =
            (error.clone(), warning.clone(), status.clone(), progress.clone(), history.clone(), confusion.clone(), run_id.clone());
        let (epochs, batch, lr, seed) = (epochs.clone(), batch.clone(), lr.clone(), seed.clone());
        let mnist = props.mnist.clone();
        let on_trained = props.on_trained.clone();
        let worker = worker.clone();
        Callback::from(move |(job, fresh_worker, epochs_total): (ToWorker, bool, usize)| {
            let DataState::Ready(data) = mnist.clone() else {
                error.set(Some("wait until MNIST has loaded".into()));
                return;
            };
            let client = match WorkerClient::ensure(&worker, fresh_worker) {
                Ok(w) => w,
                Err(e) => return error.set(Some(e)),
            };
            // Every reply of this run lands here; the UI thread only renders it.
            let done = Rc::new(RefCell::new(Vec::<EpochMetrics>::new()));
            let test = Rc::new(data.test.clone());
            {
                let (error, warning, status, progress, history, confusion, run_id) =
                    (error.clone(), warning.clone(), status.clone(), progress.clone(), history.clone(), confusion.clone(), run_id.clone());
                let (epochs, batch, lr, seed) = (epochs.clone(), batch.clone(), lr.clone(), seed.clone());
                let on_trained = on_trained.clone();
                let mut p = Progress { epochs: epochs_total, ..Default::default() };
                client.on_reply(move |msg| match msg {
                    Ok(FromWorker::RunRestored(record)) => {
                        if let RunSpec::Classifier { config, .. } = &record.spec {
                            epochs.set(config.epochs.to_string());
                            batch.set(config.batch_size.to_string());
                            lr.set(config.lr.to_string());
                            seed.set(config.seed.to_string());
                        }
                        p = Progress { epochs: record.spec.epochs(), epoch: record.epochs_done, ..Default::default() };
                        progress.set(p.clone());
                        *done.borrow_mut() = record.history.clone();
                        history.set(record.history.clone());
                        run_id.set(Some(record.id.clone()));
                    }
                    Ok(FromWorker::Started { batches_per_epoch, .. }) => {
                        p.batches = batches_per_epoch;
                        progress.set(p.clone());
                    }
                    Ok(FromWorker::Progress { epoch, batch, loss, ms_per_batch }) => {
                        (p.epoch, p.batch, p.last_loss, p.ms_per_batch) = (epoch, batch, loss, ms_per_batch);
                        progress.set(p.clone());
                    }
                    Ok(FromWorker::Epoch { metrics, confusion: m, predictions }) => {
                        done.borrow_mut().push(metrics);
                        history.set(done.borrow().clone());
                        confusion.set(Some((*m, Rc::new(predictions), test.clone())));
                    }
                    Ok(FromWorker::RunSaved { id, .. }) => {
                        run_id.set(Some(id));
                        store::announce_change();
                    }
                    Ok(FromWorker::SaveFailed(msg)) => warning.set(Some(msg)),
                    Ok(FromWorker::Paused) => status.set(Status::Paused),
                    Ok(FromWorker::Resumed) => status.set(Status::Running),
                    Ok(FromWorker::Stopped) => status.set(Status::Stopped),
                    Ok(FromWorker::Done { tensors }) => {
                        status.set(Status::Done);
                        on_trained.emit(Rc::new(tensors));
                    }
                    Ok(FromWorker::Halted { message, .. }) => {
                        error.set(Some(message));
                        status.set(Status::Halted);
                        store::announce_change();
                    }
                    // The worker has ended (see `WorkerClient::dispatch`): the next start or
                    // continue gets a fresh one.
                    Ok(FromWorker::DeviceLost(msg)) | Ok(FromWorker::Crashed(msg)) => {
                        error.set(Some(format!(
                            "{msg}. Training is paused and its history kept; continue from the last checkpoint (epoch {}) below.",
                            done.borrow().len()
                        )));
                        status.set(Status::Interrupted);
                    }
                    Ok(FromWorker::Failed(msg)) | Err(msg) => {
                        error.set(Some(msg));
                        status.set(Status::Failed);
                    }
                    Ok(_) => {}
                });
            }
            error.set(None);
            warning.set(None);
            // A reopened run (in a fresh worker) gets its history with `RunRestored`.
            if !fresh_worker {
                history.set(Vec::new());
                run_id.set(None);
            }
            confusion.set(None);
            progress.set(Progress { epochs: epochs_total, ..Default::default() });
            status.set(Status::Running);
            client.post(job);
        })
    };

    let on_start = {
        let (epochs, batch, lr, seed) = (epochs.clone(), batch.clone(), lr.clone(), seed.clone());
        let error = error.clone();
        let backend = props.backend.clone();
        let launch = launch.clone();
        Callback::from(move |_| {
            let config = match parse_config(&epochs, &batch, &lr, &seed) {
                Ok(c) => c,
                Err(e) => return error.set(Some(e)),
            };
            let Some(backend) = backend.clone() else {
                return error.set(Some("wait until the backend has loaded".into()));
            };
            let total = config.epochs;
            launch.emit((ToWorker::Train { config, backend: backend.kind, subset }, false, total));
        })
    };
    // Reopens the current (or a listed) run from its last checkpoint, in a fresh worker.
    let reopen = {
        let (launch, lr, error, status) = (launch.clone(), lr.clone(), error.clone(), status.clone());
        // `with_lr`: continue with the form's learning rate (after a divergence the user lowers
        // it); a run reopened from the list keeps its own.
        Callback::from(move |(id, backend, with_lr): (String, BackendKind, bool)| {
            if matches!(*status, Status::Running | Status::Paused) {
                return error.set(Some("a run is going: stop it before reopening another (it keeps its checkpoints)".into()));
            }
            let lr = match (with_lr, lr.trim().parse::<f64>()) {
                (false, _) => None,
                (true, Ok(v)) => Some(v),
                (true, Err(_)) => return error.set(Some(format!("learning rate: `{}` is not a number", *lr))),
            };
            launch.emit((ToWorker::ResumeRun { id, backend, lr, lr_d: None }, true, 0));
        })
    };
    {
        let reopen = reopen.clone();
        let backend = props.backend.clone();
        let ready = matches!(props.mnist, DataState::Ready(_));
        use_effect_with((props.resume.clone(), ready), move |(req, ready)| {
            if let (Some(req), true) = (req, ready)
                && req.claim()
            {
                reopen.emit((req.id.clone(), backend.map(|b| b.kind).unwrap_or(BackendKind::Cpu), false));
            }
        });
    }
    let continue_on = |kind: BackendKind| {
        let (reopen, run_id, error) = (reopen.clone(), run_id.clone(), error.clone());
        Callback::from(move |_| match &*run_id {
            Some(id) => reopen.emit((id.clone(), kind, true)),
            None => error.set(Some("this run has no saved checkpoint: start it again".into())),
        })
    };
    // A button's command to the running worker (none yet: nothing to tell).
    let post = |msg: fn(Status) -> ToWorker| {
        let (worker, status) = (worker.clone(), status.clone());
        Callback::from(move |_| {
            if let Some(w) = &*worker.borrow() {
                w.post(msg(*status));
            }
        })
    };
    let on_pause = post(|s| if s == Status::Paused { ToWorker::Resume } else { ToWorker::Pause });
    let on_stop = post(|_| ToWorker::Stop);
    let on_lose_device = post(|_| ToWorker::LoseDevice);
    let on_diverge = post(|_| ToWorker::Diverge);
    let test_hooks = url_param("test_hooks").is_some();

    let running = matches!(*status, Status::Running | Status::Paused);
    let p = &*progress;
    let epoch_frac = if p.batches > 0 { p.batch as f64 / p.batches as f64 } else { 0.0 };
    let run_frac = if p.epochs > 0 { ((p.epoch.max(1) - 1) as f64 + epoch_frac) / p.epochs as f64 } else { 0.0 };
    let pts = |f: fn(&EpochMetrics) -> f64| history.iter().map(|e| (e.epoch as f64, f(e))).collect::<Vec<_>>();
    let status_text = match *status {
        Status::Idle => "ready".to_string(),
        Status::Running => format!(
            "training: epoch {}/{}, batch {}/{}, loss {:.4} · {:.0} ms per step",
            p.epoch, p.epochs, p.batch, p.batches, p.last_loss, p.ms_per_batch
        ),
        Status::Paused => format!("paused at epoch {}/{}, batch {}/{}", p.epoch, p.epochs, p.batch, p.batches),
        Status::Done => format!("done: {} epochs; the trained model now drives the rank slider and the drawing pad", history.len()),
        Status::Stopped => format!("stopped after {} full epoch(s)", history.len()),
        Status::Failed => "failed".to_string(),
        Status::Interrupted => format!("interrupted after {} full epoch(s): waiting to continue", history.len()),
        Status::Halted => format!("diverged: paused at the last good checkpoint (epoch {})", history.len()),
    };
    let waiting = matches!(*status, Status::Interrupted | Status::Halted);
    let field = |label: &str, testid: &str, param: &'static str, state: &UseStateHandle<String>| {
        let s = state.clone();
        html! {
            <label>{label}
                <input data-testid={testid.to_string()} value={(**state).clone()} disabled={running}
                       oninput={Callback::from(move |e: InputEvent| {
                           let v = input_value(e);
                           crate::app::share::set_param(param, Some(&v));
                           s.set(v)
                       })} />
            </label>
        }
    };
    html! {
        <div class="card wide">
            <h3>{"Train the classifier from scratch"}</h3>
            <p class="hint">{format!(
                "784-100-50-10 MLP, Adam with cosine decay and weight decay 1e-4, on the active backend{}.",
                subset.map(|n| format!(", first {n} training images")).unwrap_or_default()
            )}</p>
            <div class="controls">
                {field("epochs", "train-epochs", "epochs", &epochs)}
                {field("batch size", "train-batch", "batch", &batch)}
                {field("learning rate", "train-lr", "lr", &lr)}
                {field("seed", "train-seed", "seed", &seed)}
            </div>
            <div class="buttons">
                <button data-testid="train-start" onclick={on_start} disabled={running}>{"Start"}</button>
                <button data-testid="train-pause" onclick={on_pause} disabled={!running}>
                    { if *status == Status::Paused { "Resume" } else { "Pause" } }
                </button>
                <button data-testid="train-stop" onclick={on_stop} disabled={!running}>{"Stop"}</button>
                if test_hooks {
                    <button data-testid="lose-device" onclick={on_lose_device} disabled={!running}>{"Test: lose the GPU device"}</button>
                    <button data-testid="diverge" onclick={on_diverge} disabled={!running}>{"Test: diverge (NaN)"}</button>
                }
            </div>
            if waiting {
                <div class="buttons" data-testid="train-continue">
                    <button data-testid="continue-cpu" onclick={continue_on(BackendKind::Cpu)}>{"Continue on the CPU"}</button>
                    <button data-testid="continue-webgpu" onclick={continue_on(BackendKind::WebGpu)}>{"Continue on WebGPU (a new device)"}</button>
                </div>
            }
            if let Some(w) = &*warning { <p class="warning" role="status" data-testid="train-warning">{w}</p> }
            if let Some(e) = &*error { <p class="error" role="alert" data-testid="train-error">{e}</p> }
            <div class="progress-rows">
                <label>{"epoch"}<progress data-testid="epoch-progress" max="1" value={epoch_frac.to_string()}></progress></label>
                <label>{"run"}<progress data-testid="run-progress" max="1" value={run_frac.min(1.0).to_string()}></progress></label>
            </div>
            <p data-testid="train-status" data-status={format!("{:?}", *status).to_lowercase()} data-epochs-done={history.len().to_string()}
               data-batch={p.batch.to_string()} data-run-id={(*run_id).clone().unwrap_or_default()} data-ms-per-batch={format!("{:.1}", p.ms_per_batch)}>{status_text}</p>
            <div data-testid="metrics-chart" class="charts" data-points={history.len().to_string()}>
                <LineChart series={vec![Series { label: "train loss".into(), points: pts(|e| e.train_loss) },
                                        Series { label: "test loss".into(), points: pts(|e| e.test_loss) }]}
                           title="loss per epoch" x_label="epoch" size={(420, 240)} />
                <LineChart series={vec![Series { label: "train accuracy".into(), points: pts(|e| e.train_acc) },
                                        Series { label: "test accuracy".into(), points: pts(|e| e.test_acc) }]}
                           title="accuracy per epoch" x_label="epoch" size={(420, 240)} />
            </div>
            if !history.is_empty() {
                <table class="epochs" data-testid="epoch-table" data-rows={history.len().to_string()}>
                    <tr><th>{"epoch"}</th><th>{"train loss"}</th><th>{"train acc."}</th><th>{"test loss"}</th><th>{"test acc."}</th></tr>
                    { for history.iter().map(|e| html! {
                        <tr data-epoch={e.epoch.to_string()} data-train-loss={e.train_loss.to_string()} data-test-acc={e.test_acc.to_string()}>
                            <td>{e.epoch}</td><td>{format!("{:.4}", e.train_loss)}</td><td>{format!("{:.2}%", e.train_acc * 100.0)}</td>
                            <td>{format!("{:.4}", e.test_loss)}</td><td>{format!("{:.2}%", e.test_acc * 100.0)}</td>
                        </tr>
                    }) }
                </table>
            }
            if let Some((m, preds, test)) = &*confusion {
                <ConfusionHeatmap matrix={*m} predictions={preds.clone()} test={test.clone()} />
            }
        </div>
    }
}

