//! "Smoke train": a few hundred Adam steps of the 784-100-50-10 MLP on MNIST on the training
//! backend, with the loss plotted live — the proof that training really runs in this browser.
//! The steps run in a worker of their own (the page's module has no WebGPU, and the UI thread
//! never trains); this component shows what it streams.

use yew::prelude::*;

use crate::app::context::use_lab;
use crate::app::env::url_param;
use crate::app::run::job::use_worker_job;
use crate::app::widgets::chart::{LineChart, Series};
use crate::app::worker::protocol::{FromWorker, ToWorker};

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

/// What a worker's reply does to the run shown; `None` when it is not the smoke train's.
fn apply(run: &Run, reply: Result<FromWorker, String>) -> Option<Run> {
    let mut next = run.clone();
    match reply {
        Ok(FromWorker::SmokeStep { backend, step, loss, ms_per_step }) => {
            next.backend = backend.title().into();
            next.losses.push((step as f64, loss));
            next.ms_per_step = ms_per_step;
        }
        Ok(FromWorker::SmokeDone) => {
            next.running = false;
            next.done = true;
        }
        Ok(FromWorker::Stopped) => next.running = false,
        Ok(FromWorker::Failed(e)) | Ok(FromWorker::Crashed(e)) | Err(e) => {
            next.running = false;
            next.error = Some(e);
        }
        Ok(FromWorker::DeviceLost(e)) | Ok(FromWorker::DeviceLostIdle(e)) => {
            next.running = false;
            next.error =
                Some(format!("{e}: start the smoke train again (on the CPU, or after a reload)"));
        }
        Ok(_) => return None,
    }
    Some(next)
}

/// The smoke-train button, its live loss chart and its status line.
#[component]
pub fn SmokeTrain() -> Html {
    let lab = use_lab();
    let job = use_worker_job(apply, |r: &Run| !r.running);
    let run = job.state.clone();
    let steps =
        url_param("smoke_steps").and_then(|s| s.parse().ok()).unwrap_or(300usize).clamp(1, 5000);

    let on_start = {
        let job = job.clone();
        let backend = lab.backend.clone();
        Callback::from(move |_| {
            let Some(backend) = backend.clone() else {
                let error = Some("wait until the backend has started".into());
                return job.state.set(Run { error, ..Default::default() });
            };
            let state = Run {
                steps,
                running: true,
                backend: backend.kind.title().into(),
                ..Default::default()
            };
            job.start(state, ToWorker::Smoke { steps, backend: backend.kind });
        })
    };
    // Stop ends the worker at once (it may still be downloading the training set).
    let on_stop = Callback::from(move |_| job.stop());

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
        _ if run.running => "starting: loading the worker and MNIST's training images…".into(),
        _ => format!("not run yet ({steps} steps of batch 128)"),
    };
    let ready = lab.backend.is_some();
    html! {
        <div class="card">
            <h3>{"Smoke train: is training real here?"}</h3>
            <p class="hint">{"Adam on the 784-100-50-10 MLP, MNIST batches of 128, on the training backend, in a worker."}</p>
            <button data-testid="smoke-train" onclick={on_start} disabled={run.running || !ready}>{"Smoke train"}</button>
            <button onclick={on_stop} disabled={!run.running}>{"Stop"}</button>
            <p data-testid="smoke-loss"
               data-first={first.map(|f| f.to_string()).unwrap_or_default()}
               data-last={last.map(|f| f.to_string()).unwrap_or_default()}
               data-steps={run.losses.len().to_string()}
               data-done={run.done.to_string()}>{status}</p>
            if let Some(e) = &run.error { <p class="error" role="alert" data-testid="smoke-error">{e}</p> }
            <LineChart series={vec![Series { label: "training loss".into(), points: run.losses.clone() }]}
                       title="smoke-train loss per step" x_label="Adam step" testid="smoke-chart" />
        </div>
    }
}
