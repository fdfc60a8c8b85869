//! Training the exercise-1 classifier from scratch in the page: settings with validation,
//! start / pause / resume / stop, progress bars, live per-epoch charts and the confusion matrix.
//!
//! The loop hands control back to the browser after every chunk of batches, so the page keeps
//! painting while it trains. (Moving it into a Web Worker is the next step; see the README.)

use std::cell::RefCell;
use std::rc::Rc;

use burn::module::Module;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::app::backend::{ActiveBackend, BackendKind};
use crate::app::chart::{LineChart, Series};
use crate::app::confusion::ConfusionHeatmap;
use crate::app::data_panel::DataState;
use crate::app::url_param;
use crate::lab::data::{Dataset, TrainTest};
use crate::lab::metrics::ConfusionMatrix;
use crate::lab::mlp::{MLP_WIDTHS, Mlp};
use crate::lab::report::EpochMetrics;
use crate::lab::train::{ClassifierTrainer, EVAL_BATCH, LrSchedule, TrainConfig, evaluate};
use crate::lab::weights::{NamedTensor, mlp_tensors};

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

/// Flags the buttons set and the loop reads between chunks.
#[derive(Default)]
struct Control {
    paused: bool,
    stop: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
struct Progress {
    epoch: usize,
    epochs: usize,
    batch: usize,
    batches: usize,
    last_loss: f64,
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
    let control = use_mut_ref(Control::default);
    let subset = url_param("train_subset").and_then(|s| s.parse::<usize>().ok());

    let on_start = {
        let (epochs, batch, lr, seed) = (epochs.clone(), batch.clone(), lr.clone(), seed.clone());
        let (error, status, progress, history, confusion) = (error.clone(), status.clone(), progress.clone(), history.clone(), confusion.clone());
        let control = control.clone();
        let backend = props.backend.clone();
        let mnist = props.mnist.clone();
        let on_trained = props.on_trained.clone();
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
            error.set(None);
            *control.borrow_mut() = Control::default();
            history.set(Vec::new());
            confusion.set(None);
            status.set(Status::Running);
            let (error, status, progress, history, confusion) = (error.clone(), status.clone(), progress.clone(), history.clone(), confusion.clone());
            let control = control.clone();
            let on_trained = on_trained.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let result = run(config, backend, data, subset, control, &progress, &history, &confusion, &status).await;
                match result {
                    Ok(Some(tensors)) => on_trained.emit(Rc::new(tensors)),
                    Ok(None) => {}
                    Err(e) => {
                        error.set(Some(e));
                        status.set(Status::Failed);
                    }
                }
            });
        })
    };
    let on_pause = {
        let control = control.clone();
        let status = status.clone();
        Callback::from(move |_| {
            let mut c = control.borrow_mut();
            c.paused = !c.paused;
            status.set(if c.paused { Status::Paused } else { Status::Running });
        })
    };
    let on_stop = {
        let control = control.clone();
        Callback::from(move |_| control.borrow_mut().stop = true)
    };

    let running = matches!(*status, Status::Running | Status::Paused);
    let p = &*progress;
    let epoch_frac = if p.batches > 0 { p.batch as f64 / p.batches as f64 } else { 0.0 };
    let run_frac = if p.epochs > 0 { ((p.epoch.max(1) - 1) as f64 + epoch_frac) / p.epochs as f64 } else { 0.0 };
    let pts = |f: fn(&EpochMetrics) -> f64| history.iter().map(|e| (e.epoch as f64, f(e))).collect::<Vec<_>>();
    let status_text = match *status {
        Status::Idle => "ready".to_string(),
        Status::Running => format!("training: epoch {}/{}, batch {}/{}, loss {:.4}", p.epoch, p.epochs, p.batch, p.batches, p.last_loss),
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
               data-batch={p.batch.to_string()}>{status_text}</p>
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

/// The loop: chunks of batches, a yield to the browser after each, an evaluation per epoch.
/// Returns the trained weights when every epoch ran.
#[allow(clippy::too_many_arguments)]
async fn run(
    config: TrainConfig,
    backend: ActiveBackend,
    data: Rc<TrainTest>,
    subset: Option<usize>,
    control: Rc<RefCell<Control>>,
    progress: &UseStateHandle<Progress>,
    history: &UseStateHandle<Vec<EpochMetrics>>,
    confusion: &UseStateHandle<Option<(ConfusionMatrix, Rc<Vec<u8>>, Rc<Dataset>)>>,
    status: &UseStateHandle<Status>,
) -> Result<Option<Vec<NamedTensor>>, String> {
    let train = match subset {
        Some(n) => Rc::new(data.train.take(n)),
        None => Rc::new(data.train.clone()),
    };
    let test = Rc::new(data.test.clone());
    let device = backend.device.clone().autodiff();
    device.seed(config.seed);
    let epochs = config.epochs;
    let mut trainer = ClassifierTrainer::new(Mlp::new(&MLP_WIDTHS, &device), config, train.len(), &device).map_err(|e| e.to_string())?;
    // A software GPU takes ~1 s a step: read back after every batch there, every 10 on the CPU.
    let chunk = if backend.kind == BackendKind::WebGpu { 2 } else { 10 };
    let mut done = Vec::new();
    let mut state = Progress { epochs, batches: trainer.batches_per_epoch(), ..Default::default() };
    // The epoch's training loss and accuracy, summed over its chunks.
    let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0.0f64, 0usize);
    while !trainer.finished() {
        if control.borrow().stop {
            status.set(Status::Stopped);
            return Ok(None);
        }
        if control.borrow().paused {
            gloo_timers::future::TimeoutFuture::new(100).await;
            continue;
        }
        let r = trainer.train_chunk(&train, chunk).await.map_err(|e| e.to_string())?;
        state = Progress { epoch: r.epoch, batch: r.batch_in_epoch, last_loss: r.loss, ..state };
        progress.set(state.clone());
        loss_sum += r.loss * r.samples as f64;
        correct += r.accuracy * r.samples as f64;
        seen += r.samples;
        if r.epoch_finished {
            let eval = evaluate(trainer.model(), &test, EVAL_BATCH, &device).await.map_err(|e| e.to_string())?;
            let (train_loss, train_acc) = (loss_sum / seen as f64, correct / seen as f64);
            (loss_sum, correct, seen) = (0.0, 0.0, 0);
            done.push(EpochMetrics { epoch: r.epoch, train_loss, train_acc, test_loss: eval.loss, test_acc: eval.accuracy });
            history.set(done.clone());
            confusion.set(Some((eval.confusion, Rc::new(eval.predictions), test.clone())));
        }
        gloo_timers::future::TimeoutFuture::new(0).await;
    }
    status.set(Status::Done);
    let tensors = mlp_tensors(&trainer.model().valid()).await.map_err(|e| e.to_string())?;
    Ok(Some(tensors))
}
