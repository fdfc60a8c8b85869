//! Training the exercise-1 classifier from scratch in the page: settings with validation,
//! start / pause / resume / stop, progress bars, live per-epoch charts and the confusion matrix.
//!
//! The training itself runs in a dedicated Web Worker (`worker.rs`) that owns burn and its
//! device; this component only sends commands and renders the typed progress it streams back.

use std::cell::RefCell;
use std::rc::Rc;

use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::app::backend::ActiveBackend;
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

/// What the panel needs and reports.
#[derive(Properties, Debug, Clone, PartialEq)]
pub struct TrainPanelProps {
    /// Backend to train on.
    pub backend: Option<ActiveBackend>,
    /// MNIST.
    pub mnist: DataState,
    /// Receives the trained weights when a run finishes (they replace the pretrained model).
    pub on_trained: Callback<Rc<Vec<NamedTensor>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Idle,
    Running,
    Paused,
    Done,
    Stopped,
    Failed,
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
    let epochs = use_state(|| "10".to_string());
    let batch = use_state(|| "128".to_string());
    let lr = use_state(|| "0.001".to_string());
    let seed = use_state(|| "42".to_string());
    let error = use_state(|| None::<String>);
    let status = use_state(|| Status::Idle);
    let progress = use_state(Progress::default);
    let history = use_state(Vec::<EpochMetrics>::new);
    let confusion = use_state(|| None::<(ConfusionMatrix, Rc<Vec<u8>>, Rc<Dataset>)>);
    let subset = url_param("train_subset").and_then(|s| s.parse::<usize>().ok());

    // The worker is created on the first start and kept: its WebGPU device can be made only once.
    let worker = use_mut_ref(|| None::<WorkerClient>);

    let on_start = {
        let (epochs, batch, lr, seed) = (epochs.clone(), batch.clone(), lr.clone(), seed.clone());
        let (error, status, progress, history, confusion) = (error.clone(), status.clone(), progress.clone(), history.clone(), confusion.clone());
        let backend = props.backend.clone();
        let mnist = props.mnist.clone();
        let on_trained = props.on_trained.clone();
        let worker = worker.clone();
        Callback::from(move |_| {
            let config = match parse_config(&epochs, &batch, &lr, &seed) {
                Ok(c) => c,
                Err(e) => {
                    error.set(Some(e));
                    return;
                }
            };
            let (Some(backend), DataState::Ready(data)) = (backend.clone(), mnist.clone()) else {
                error.set(Some("wait until the backend and MNIST have loaded".into()));
                return;
            };
            if worker.borrow().is_none() {
                match WorkerClient::start() {
                    Ok(w) => *worker.borrow_mut() = Some(w),
                    Err(e) => {
                        error.set(Some(e));
                        return;
                    }
                }
            }
            let client = worker.borrow().clone().expect("started above");
            // Every reply of this run lands here; the UI thread only renders it.
            let done = Rc::new(RefCell::new(Vec::<EpochMetrics>::new()));
            let test = Rc::new(data.test.clone());
            let epochs_total = config.epochs;
            {
                let (error, status, progress, history, confusion) = (error.clone(), status.clone(), progress.clone(), history.clone(), confusion.clone());
                let on_trained = on_trained.clone();
                let mut p = Progress { epochs: epochs_total, ..Default::default() };
                client.on_reply(move |msg| match msg {
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
                    Ok(FromWorker::Paused) => status.set(Status::Paused),
                    Ok(FromWorker::Resumed) => status.set(Status::Running),
                    Ok(FromWorker::Stopped) => status.set(Status::Stopped),
                    Ok(FromWorker::Done { tensors }) => {
                        status.set(Status::Done);
                        on_trained.emit(Rc::new(tensors));
                    }
                    Ok(FromWorker::Failed(msg)) | Err(msg) => {
                        error.set(Some(msg));
                        status.set(Status::Failed);
                    }
                    Ok(_) => {}
                });
            }
            error.set(None);
            history.set(Vec::new());
            confusion.set(None);
            progress.set(Progress { epochs: epochs_total, ..Default::default() });
            status.set(Status::Running);
            client.post(ToWorker::Train { config, backend: backend.kind, subset });
        })
    };
    let on_pause = {
        let worker = worker.clone();
        let status = status.clone();
        Callback::from(move |_| {
            if let Some(w) = &*worker.borrow() {
                w.post(if *status == Status::Paused { ToWorker::Resume } else { ToWorker::Pause });
            }
        })
    };
    let on_stop = {
        let worker = worker.clone();
        Callback::from(move |_| {
            if let Some(w) = &*worker.borrow() {
                w.post(ToWorker::Stop);
            }
        })
    };

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
    };
    let field = |label: &str, testid: &str, state: &UseStateHandle<String>| {
        let s = state.clone();
        html! {
            <label>{label}
                <input data-testid={testid.to_string()} value={(**state).clone()} disabled={running}
                       oninput={Callback::from(move |e: InputEvent| s.set(input_value(e)))} />
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
                {field("epochs", "train-epochs", &epochs)}
                {field("batch size", "train-batch", &batch)}
                {field("learning rate", "train-lr", &lr)}
                {field("seed", "train-seed", &seed)}
            </div>
            <div class="buttons">
                <button data-testid="train-start" onclick={on_start} disabled={running}>{"Start"}</button>
                <button data-testid="train-pause" onclick={on_pause} disabled={!running}>
                    { if *status == Status::Paused { "Resume" } else { "Pause" } }
                </button>
                <button data-testid="train-stop" onclick={on_stop} disabled={!running}>{"Stop"}</button>
            </div>
            if let Some(e) = &*error { <p class="error" role="alert" data-testid="train-error">{e}</p> }
            <div class="progress-rows">
                <label>{"epoch"}<progress data-testid="epoch-progress" max="1" value={epoch_frac.to_string()}></progress></label>
                <label>{"run"}<progress data-testid="run-progress" max="1" value={run_frac.min(1.0).to_string()}></progress></label>
            </div>
            <p data-testid="train-status" data-status={format!("{:?}", *status).to_lowercase()} data-epochs-done={history.len().to_string()}
               data-batch={p.batch.to_string()} data-ms-per-batch={format!("{:.1}", p.ms_per_batch)}>{status_text}</p>
            <div data-testid="metrics-chart" class="charts" data-points={history.len().to_string()}>
                <LineChart series={vec![Series { label: "train loss".into(), points: pts(|e| e.train_loss) },
                                        Series { label: "test loss".into(), points: pts(|e| e.test_loss) }]}
                           title="loss per epoch" x_label="epoch" size={(420, 240)} />
                <LineChart series={vec![Series { label: "train accuracy".into(), points: pts(|e| e.train_acc) },
                                        Series { label: "test accuracy".into(), points: pts(|e| e.test_acc) }]}
                           title="accuracy per epoch" x_label="epoch" size={(420, 240)} />
            </div>
            if let Some((m, preds, test)) = &*confusion {
                <ConfusionHeatmap matrix={*m} predictions={preds.clone()} test={test.clone()} />
            }
        </div>
    }
}

