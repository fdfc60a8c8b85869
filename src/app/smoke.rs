//! "Smoke train": a few hundred Adam steps of the 784-100-50-10 MLP on MNIST on the active
//! backend, with the loss plotted live — the proof that training really runs in this browser.

use std::cell::Cell;
use std::rc::Rc;

use yew::prelude::*;

use crate::app::context::use_lab;
use crate::app::env::{now_ms, url_param};
use crate::app::io::datasets::load_split;
use crate::app::widgets::chart::{LineChart, Series};
use crate::lab::classifier::mlp::{MLP_WIDTHS, Mlp};
use crate::lab::classifier::train::{ClassifierTrainer, LrSchedule, TrainConfig};
use crate::lab::data::{Dataset, DatasetKind, Split};

thread_local! {
    static TRAINING: std::cell::RefCell<Option<Rc<Dataset>>> = const { std::cell::RefCell::new(None) };
}

/// MNIST's training set, downloaded on the first smoke train and kept.
async fn training_set() -> Result<Rc<Dataset>, String> {
    if let Some(d) = TRAINING.with(|t| t.borrow().clone()) {
        return Ok(d);
    }
    let d = Rc::new(load_split(DatasetKind::Mnist, Split::Train, |_| {}).await?);
    TRAINING.with(|t| *t.borrow_mut() = Some(d.clone()));
    Ok(d)
}

#[derive(Debug, Clone, PartialEq, Default)]
struct Run {
    losses: Vec<(f64, f64)>,
    steps: usize,
    done: bool,
    running: bool,
    ms_per_step: f64,
    backend: String,
    error: Option<String>,
}

/// The smoke-train button, its live loss chart and its status line.
#[component]
pub fn SmokeTrain() -> Html {
    let lab = use_lab();
    let run = use_state(Run::default);
    let cancel = use_mut_ref(|| Rc::new(Cell::new(false)));
    let steps =
        url_param("smoke_steps").and_then(|s| s.parse().ok()).unwrap_or(300usize).clamp(1, 5000);

    let on_start = {
        let run = run.clone();
        let cancel = cancel.clone();
        let backend = lab.backend.clone();
        Callback::from(move |_| {
            let Some(backend) = backend.clone() else {
                run.set(Run {
                    error: Some("wait until the backend has started".into()),
                    ..Default::default()
                });
                return;
            };
            let flag = Rc::new(Cell::new(false));
            *cancel.borrow_mut() = flag.clone();
            let run = run.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let mut state = Run {
                    steps,
                    running: true,
                    backend: backend.kind.title().into(),
                    ..Default::default()
                };
                run.set(state.clone());
                // MNIST's training images load on the first smoke train (not with the page).
                let data = match training_set().await {
                    Ok(d) => d,
                    Err(e) => {
                        run.set(Run { error: Some(e), ..state });
                        return;
                    }
                };
                let device = backend.device.clone().autodiff();
                device.seed(7);
                let config = TrainConfig {
                    epochs: 1000,
                    batch_size: 128,
                    lr: 1e-3,
                    seed: 7,
                    schedule: LrSchedule::Constant,
                    weight_decay: 0.0,
                };
                let model = Mlp::new(&MLP_WIDTHS, &device);
                let mut trainer = match ClassifierTrainer::new(model, config, data.len(), &device) {
                    Ok(t) => t,
                    Err(e) => {
                        run.set(Run { error: Some(e.to_string()), ..state });
                        return;
                    }
                };
                let start = now_ms();
                for step in 1..=steps {
                    if flag.get() {
                        break;
                    }
                    match trainer.train_chunk(&data, 1).await {
                        Ok(r) => state.losses.push((step as f64, r.loss)),
                        Err(e) => {
                            state.error = Some(e.to_string());
                            break;
                        }
                    }
                    state.ms_per_step = (now_ms() - start) / step as f64;
                    run.set(state.clone());
                    // Give the page a frame between steps so it never freezes.
                    gloo_timers::future::TimeoutFuture::new(0).await;
                }
                state.running = false;
                state.done = state.error.is_none();
                run.set(state);
            });
        })
    };
    let on_stop = {
        let cancel = cancel.clone();
        Callback::from(move |_| cancel.borrow().set(true))
    };

    let first = run.losses.first().map(|p| p.1);
    let last = run.losses.last().map(|p| p.1);
    let status = match (first, last) {
        (Some(f), Some(l)) => format!(
            "{}: step {}/{} · loss {:.4} (first {:.4}) · {:.0} ms/step{}",
            run.backend,
            run.losses.len(),
            run.steps,
            l,
            f,
            run.ms_per_step,
            if run.done { " · done" } else { "" }
        ),
        _ if run.running => "starting: loading MNIST's training images…".into(),
        _ => format!("not run yet ({steps} steps of batch 128)"),
    };
    let ready = lab.backend.is_some();
    html! {
        <div class="card">
            <h3>{"Smoke train: is training real here?"}</h3>
            <p class="hint">{"Adam on the 784-100-50-10 MLP, MNIST batches of 128, on the active backend."}</p>
            <button data-testid="smoke-train" onclick={on_start} disabled={run.running || !ready}>{"Smoke train"}</button>
            <button onclick={on_stop} disabled={!run.running}>{"Stop"}</button>
            <p data-testid="smoke-loss"
               data-first={first.map(|f| f.to_string()).unwrap_or_default()}
               data-last={last.map(|f| f.to_string()).unwrap_or_default()}
               data-steps={run.losses.len().to_string()}
               data-done={run.done.to_string()}>{status}</p>
            if let Some(e) = &run.error { <p class="error" role="alert">{e}</p> }
            <LineChart series={vec![Series { label: "training loss".into(), points: run.losses.clone() }]}
                       title="smoke-train loss per step" x_label="Adam step" testid="smoke-chart" />
        </div>
    }
}
