//! Training the exercise-1 classifier from scratch in the page: settings with validation,
//! start / pause / resume / stop, progress bars, live per-epoch charts and the confusion matrix.
//!
//! The training itself runs in a dedicated Web Worker (`app/worker/`) that owns burn and its
//! device; this component only sends commands and renders the typed progress it streams back.
//! Its run lifecycle is the shared one (`app/run/`).

use std::rc::Rc;

use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::app::backend::BackendKind;
use crate::app::context::use_lab;
use crate::app::env::url_param;
use crate::app::exercise1::confusion::ConfusionHeatmap;
use crate::app::guide::steps::{BATCH, TRAIN_EPOCHS};
use crate::app::io::datasets::DataState;
use crate::app::io::share;
use crate::app::run::controls::{RunControls, RunIds};
use crate::app::run::data_choice::{TrainingSetPicker, job_data};
use crate::app::run::hook::{Reply, use_run};
use crate::app::run::resume::{ResumeRequest, use_resume};
use crate::app::widgets::chart::{LineChart, Series};
use crate::app::worker::protocol::{FromWorker, RunSpec, ToWorker};
use crate::lab::classifier::metrics::{ConfusionMatrix, EpochMetrics};
use crate::lab::classifier::train::{LrSchedule, TrainConfig};
use crate::lab::core::safetensors::NamedTensor;
use crate::lab::data::Dataset;

/// What the panel needs and reports.
#[derive(Properties, Debug, Clone, PartialEq)]
pub struct TrainPanelProps {
    /// Receives the trained weights when a run finishes (they replace the pretrained model).
    pub on_trained: Callback<Rc<Vec<NamedTensor>>>,
    /// A stored classifier run to reopen.
    #[prop_or_default]
    pub resume: Option<ResumeRequest>,
    /// The guide asks for the assignment's run (a new number each time it asks).
    #[prop_or_default]
    pub assignment: Option<u32>,
}

const IDS: RunIds = RunIds {
    start: Some("train-start"),
    pause: "train-pause",
    stop: "train-stop",
    lose_device: "lose-device",
    diverge: "diverge",
    continue_row: "train-continue",
    continue_cpu: "continue-cpu",
    continue_webgpu: "continue-webgpu",
    error: "train-error",
    warning: "train-warning",
    epoch_progress: "epoch-progress",
    run_progress: "run-progress",
    status: "train-status",
};

/// The charts' and tables' data: per-epoch metrics and the latest confusion matrix.
#[derive(Default, PartialEq)]
struct View {
    history: Vec<EpochMetrics>,
    confusion: Option<(ConfusionMatrix, Rc<Vec<u8>>)>,
    /// MNIST's test set as the run started (for the confusion matrix's images).
    test: Option<Rc<Dataset>>,
}

enum ViewAction {
    /// A new run (keeps the history when a stored run is reopened: it comes back restored).
    Begin {
        test: Option<Rc<Dataset>>,
        keep_history: bool,
    },
    Reply(Reply),
}

impl Reducible for View {
    type Action = ViewAction;

    fn reduce(self: Rc<Self>, action: ViewAction) -> Rc<Self> {
        let mut v = View {
            history: self.history.clone(),
            confusion: self.confusion.clone(),
            test: self.test.clone(),
        };
        match action {
            ViewAction::Begin { test, keep_history } => {
                if !keep_history {
                    v.history.clear();
                }
                (v.confusion, v.test) = (None, test);
            }
            ViewAction::Reply(msg) => match &*msg {
                Ok(FromWorker::RunRestored(record)) => v.history = record.history.clone(),
                Ok(FromWorker::Epoch { metrics, confusion, predictions }) => {
                    v.history.push(metrics.clone());
                    v.confusion = Some((**confusion, Rc::new(predictions.clone())));
                }
                _ => return self,
            },
        }
        Rc::new(v)
    }
}

/// Parses the four settings into a validated config, or says what is wrong.
fn parse_config(epochs: &str, batch: &str, lr: &str, seed: &str) -> Result<TrainConfig, String> {
    let num = |name: &str, v: &str| -> Result<f64, String> {
        v.trim().parse::<f64>().map_err(|_| format!("{name}: `{v}` is not a number"))
    };
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

/// The training panel.
#[component]
pub fn TrainPanel(props: &TrainPanelProps) -> Html {
    let lab = use_lab();
    // Train on the user's paired files instead of MNIST's training images.
    let mine = use_state(|| false);
    let epochs = use_state(|| url_param("epochs").unwrap_or_else(|| "10".to_string()));
    let batch = use_state(|| url_param("batch").unwrap_or_else(|| "128".to_string()));
    let lr = use_state(|| url_param("lr").unwrap_or_else(|| "0.001".to_string()));
    let seed = use_state(|| url_param("seed").unwrap_or_else(|| "42".to_string()));
    let view = use_reducer(View::default);
    let subset = url_param("train_subset").and_then(|s| s.parse::<usize>().ok());

    let listener = {
        let (epochs, batch, lr, seed) = (epochs.clone(), batch.clone(), lr.clone(), seed.clone());
        let (view, on_trained) = (view.dispatcher(), props.on_trained.clone());
        Callback::from(move |msg: Reply| {
            match &*msg {
                // A reopened run puts its settings back in the form.
                Ok(FromWorker::RunRestored(record)) => {
                    if let RunSpec::Classifier { config, .. } = &record.spec {
                        epochs.set(config.epochs.to_string());
                        batch.set(config.batch_size.to_string());
                        lr.set(config.lr.to_string());
                        seed.set(config.seed.to_string());
                    }
                }
                Ok(FromWorker::Done { tensors }) => on_trained.emit(Rc::new(tensors.clone())),
                _ => {}
            }
            view.dispatch(ViewAction::Reply(msg));
        })
    };
    let run = use_run("Training", "a run", listener);
    let test_set = match &lab.mnist {
        DataState::Ready(data) => Some(data.clone()),
        _ => None,
    };

    // Starts a run with validated settings, on MNIST's training images or the user's set.
    let begin = {
        let (run, view, backend, data) =
            (run.clone(), view.dispatcher(), lab.backend.clone(), test_set.clone());
        let user_set = lab.user_set.clone();
        Callback::from(move |(config, mine): (TrainConfig, bool)| {
            let Some(backend) = backend.clone() else {
                return run.fail("wait until the backend has loaded".into());
            };
            let Some(data) = data.clone() else {
                return run.fail("wait until MNIST has loaded".into());
            };
            let user = match job_data(mine, user_set.as_deref()) {
                Ok(u) => u,
                Err(e) => return run.fail(e),
            };
            view.dispatch(ViewAction::Begin { test: Some(data.clone()), keep_history: false });
            let total = config.epochs;
            run.start(
                ToWorker::Train {
                    config,
                    backend: backend.kind,
                    subset,
                    measure: backend.measure_jobs(),
                    data: user,
                },
                total,
                false,
            );
        })
    };
    let on_start = {
        let (epochs, batch, lr, seed) = (epochs.clone(), batch.clone(), lr.clone(), seed.clone());
        let (run, begin, mine) = (run.clone(), begin.clone(), *mine);
        Callback::from(move |_| match parse_config(&epochs, &batch, &lr, &seed) {
            Ok(config) => begin.emit((config, mine)),
            Err(e) => run.fail(e),
        })
    };
    {
        // The guide's "next step": the assignment's settings, shown in the form, on MNIST.
        let (epochs, batch, lr, seed, mine) =
            (epochs.clone(), batch.clone(), lr.clone(), seed.clone(), mine.clone());
        let (run, begin) = (run.clone(), begin.clone());
        use_effect_with(props.assignment, move |asked| {
            if asked.is_some() && run.status().going() {
                run.fail("a training run is going: stop it (or let it finish) first".into());
            } else if asked.is_some_and(crate::app::guide::take) {
                let config = TrainConfig {
                    epochs: TRAIN_EPOCHS,
                    batch_size: BATCH,
                    ..TrainConfig::default()
                };
                epochs.set(config.epochs.to_string());
                batch.set(config.batch_size.to_string());
                lr.set(config.lr.to_string());
                seed.set(config.seed.to_string());
                mine.set(false);
                begin.emit((config, false));
            }
        });
    }
    // Reopens a run from its last checkpoint, in a fresh worker; `with_lr`: continue with the
    // form's learning rate (after a divergence the user lowers it); a run reopened from the list
    // keeps its own.
    let reopen = {
        let (run, view, lr, data) = (run.clone(), view.dispatcher(), lr.clone(), test_set.clone());
        Callback::from(move |(id, backend, with_lr): (Option<String>, BackendKind, bool)| {
            let lr = match (with_lr, lr.trim().parse::<f64>()) {
                (false, _) => None,
                (true, Ok(v)) => Some(v),
                (true, Err(_)) => {
                    return run.fail(format!("learning rate: `{}` is not a number", *lr));
                }
            };
            if !run.status().going() {
                view.dispatch(ViewAction::Begin { test: data.clone(), keep_history: true });
            }
            match id {
                Some(id) => run.reopen(id, backend, lr, None),
                None => run.continue_on(backend, lr, None),
            }
        })
    };
    use_resume(
        props.resume.clone(),
        test_set.is_some(),
        reopen.reform(|(id, kind)| (Some(id), kind, false)),
    );
    let on_continue = reopen.reform(|kind: BackendKind| (None, kind, true));

    let s = &*run.state;
    let going = s.status.going();
    let pts = |f: fn(&EpochMetrics) -> f64| {
        view.history.iter().map(|e| (e.epoch as f64, f(e))).collect::<Vec<_>>()
    };
    let status_text = s.describe(
        format!(
            "training: epoch {}/{}, batch {}/{}, loss {:.4} · {:.0} ms per step",
            s.epoch, s.epochs, s.batch, s.batches, s.loss, s.ms_per_batch
        ),
        format!(
            "done: {} epochs; the trained model now drives the rank slider and the drawing pad",
            s.epochs_done
        ),
    );
    let field = |label: &str, testid: &str, param: &'static str, state: &UseStateHandle<String>| {
        let st = state.clone();
        html! {
            <label>{label}
                <input data-testid={testid.to_string()} value={(**state).clone()} disabled={going}
                       oninput={Callback::from(move |e: InputEvent| {
                           let v = e.target_unchecked_into::<HtmlInputElement>().value();
                           share::set_param(param, Some(&v));
                           st.set(v)
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
                <TrainingSetPicker testid="train-data" mine={*mine} disabled={run.status().going()}
                                   on_change={{ let mine = mine.clone(); Callback::from(move |m| mine.set(m)) }} />
            </div>
            <RunControls run={run.clone()} ids={IDS} on_start={on_start} on_continue={on_continue}
                         status_text={status_text} />
            <div data-testid="metrics-chart" class="charts" data-points={view.history.len().to_string()}>
                <LineChart series={vec![Series { label: "train loss".into(), points: pts(|e| e.train_loss) },
                                        Series { label: "test loss".into(), points: pts(|e| e.test_loss) }]}
                           title="loss per epoch" x_label="epoch" size={(420, 240)} />
                <LineChart series={vec![Series { label: "train accuracy".into(), points: pts(|e| e.train_acc) },
                                        Series { label: "test accuracy".into(), points: pts(|e| e.test_acc) }]}
                           title="accuracy per epoch" x_label="epoch" size={(420, 240)} />
            </div>
            if !view.history.is_empty() {
                <table class="epochs" data-testid="epoch-table" data-rows={view.history.len().to_string()}>
                    <tr><th>{"epoch"}</th><th>{"train loss"}</th><th>{"train acc."}</th><th>{"test loss"}</th><th>{"test acc."}</th></tr>
                    { for view.history.iter().map(|e| html! {
                        <tr data-epoch={e.epoch.to_string()} data-train-loss={e.train_loss.to_string()} data-test-acc={e.test_acc.to_string()}>
                            <td>{e.epoch}</td><td>{format!("{:.4}", e.train_loss)}</td><td>{format!("{:.2}%", e.train_acc * 100.0)}</td>
                            <td>{format!("{:.4}", e.test_loss)}</td><td>{format!("{:.2}%", e.test_acc * 100.0)}</td>
                        </tr>
                    }) }
                </table>
            }
            if let (Some((m, preds)), Some(test)) = (&view.confusion, &view.test) {
                <ConfusionHeatmap matrix={*m} predictions={preds.clone()} test={test.clone()} />
            }
        </div>
    }
}
