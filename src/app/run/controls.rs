//! A job's controls and what it says: start / pause / resume / stop, the test hooks, the
//! continue-on-CPU / continue-on-a-new-WebGPU-device choice, the error and warning, the epoch
//! and run progress bars, and the status line — the same in every job panel, under each
//! panel's own `data-testid`s.

use yew::prelude::*;
use yew::virtual_dom::VTag;

use crate::app::backend::BackendKind;
use crate::app::env::url_param;
use crate::app::run::hook::RunHandle;
use crate::app::run::lifecycle::{Lifecycle, RunStatus};
use crate::app::worker::protocol::ToWorker;

/// The `data-testid`s of one panel's controls (stable: the tests drive the page by them).
#[derive(Debug, Clone, PartialEq)]
pub struct RunIds {
    /// The start button (none where the panel has its own, as the refinement's presets).
    pub start: Option<&'static str>,
    /// Pause / resume.
    pub pause: &'static str,
    /// Stop.
    pub stop: &'static str,
    /// Test hook: lose the GPU device.
    pub lose_device: &'static str,
    /// Test hook: make the next chunk diverge (NaN).
    pub diverge: &'static str,
    /// The row of continue buttons.
    pub continue_row: &'static str,
    /// Continue on the CPU.
    pub continue_cpu: &'static str,
    /// Continue on WebGPU, with a new device.
    pub continue_webgpu: &'static str,
    /// The error message.
    pub error: &'static str,
    /// The warning message.
    pub warning: &'static str,
    /// The current epoch's progress bar.
    pub epoch_progress: &'static str,
    /// The whole run's progress bar.
    pub run_progress: &'static str,
    /// The status line (with `data-status`, `data-epochs-done`, `data-batch`, …).
    pub status: &'static str,
}

/// What the controls show and do.
#[derive(Properties, PartialEq)]
pub struct RunControlsProps {
    /// The run.
    pub run: RunHandle,
    /// The panel's test ids.
    pub ids: RunIds,
    /// Starts a run (with the start button's id).
    #[prop_or_default]
    pub on_start: Callback<MouseEvent>,
    /// Continues an interrupted run on a backend (with the form's settings).
    pub on_continue: Callback<BackendKind>,
    /// The status line.
    pub status_text: AttrValue,
    /// Extra `data-*` attributes of the status line (the GAN's losses).
    #[prop_or_default]
    pub status_data: Vec<(&'static str, String)>,
    /// Shown in the button row before the buttons (the refinement's epochs and presets).
    #[prop_or_default]
    pub children: Html,
}

/// The controls of a job panel.
#[component]
pub fn RunControls(props: &RunControlsProps) -> Html {
    let (run, ids) = (&props.run, &props.ids);
    let s = &*run.state;
    let going = s.status.going();
    let post = |msg: fn(RunStatus) -> ToWorker| {
        let run = run.clone();
        Callback::from(move |_| run.post(msg(run.status())))
    };
    let on_pause =
        post(|s| if s == RunStatus::Paused { ToWorker::Resume } else { ToWorker::Pause });
    let test_hooks = url_param("test_hooks").is_some();
    let continue_on = |kind: BackendKind| props.on_continue.reform(move |_| kind);
    let pausable = matches!(s.status, RunStatus::Running | RunStatus::Paused);
    let now = crate::app::env::now_ms();
    html! {
        <>
            <div class="buttons">
                { props.children.clone() }
                if let Some(id) = ids.start {
                    <button data-testid={id} onclick={props.on_start.clone()} disabled={going}>{"Start"}</button>
                }
                <button data-testid={ids.pause} onclick={on_pause} disabled={!pausable}>
                    { if s.status == RunStatus::Paused { "Resume" } else { "Pause" } }
                </button>
                <button data-testid={ids.stop} onclick={post(|_| ToWorker::Stop)} disabled={!going}>{"Stop"}</button>
                if test_hooks {
                    <button data-testid={ids.lose_device} onclick={post(|_| ToWorker::LoseDevice)}
                            disabled={!going && props.run.worker_state() != "alive"}>{"Test: lose the GPU device"}</button>
                    <button data-testid={ids.diverge} onclick={post(|_| ToWorker::Diverge)}
                            disabled={!going}>{"Test: diverge (NaN)"}</button>
                }
            </div>
            if s.status.waiting() {
                <div class="buttons" data-testid={ids.continue_row}>
                    <button data-testid={ids.continue_cpu} onclick={continue_on(BackendKind::Cpu)}>
                        {"Continue on the CPU"}
                    </button>
                    <button data-testid={ids.continue_webgpu} onclick={continue_on(BackendKind::WebGpu)}>
                        {"Continue on WebGPU (a new device)"}
                    </button>
                </div>
            }
            if let Some(w) = &s.warning { <p class="warning" role="status" data-testid={ids.warning}>{w}</p> }
            if let Some(e) = &s.error { <p class="error" role="alert" data-testid={ids.error}>{e}</p> }
            <div class="progress-rows">
                <label>{"epoch"}
                    <progress data-testid={ids.epoch_progress} max="1" value={s.epoch_fraction().to_string()}></progress>
                </label>
                <label>{"run"}
                    <progress data-testid={ids.run_progress} max="1" value={s.run_fraction().to_string()}></progress>
                </label>
                if let Some(eta) = s.eta_text(now) {
                    <span class="hint eta" data-testid="run-eta" data-panel={ids.status}
                          data-elapsed-ms={format!("{:.0}", s.clock.elapsed_ms(now))}>{eta}</span>
                }
            </div>
            { status_line(props) }
            // Announced when the job's state changes (not on every progress message).
            <span class="sr-only" aria-live="polite">{format!("{}: {}", s.noun, s.status.slug())}</span>
            if let Some(why) = &s.chosen {
                <p class="hint" data-testid={format!("{}-backend-choice", ids.status)}>
                    {format!("Backend for this run: {why}")}
                </p>
            }
            if let Some(text) = cost_line(s) {
                <p class="hint" data-testid={format!("{}-cost", ids.status)}>{text}</p>
            }
        </>
    }
}

/// What a step costs on WebGPU, in words: the work that bounds a small step on a real GPU.
fn cost_line(s: &Lifecycle) -> Option<String> {
    let c = &s.cost;
    let g = c.gpu?;
    let ms = |v: Option<f64>| v.map(|v| format!("{v:.0} ms")).unwrap_or_else(|| "…".into());
    Some(format!(
        "WebGPU work per step: {:.0} dispatches ({:.0} of them our fused kernels), {:.1} submits, \
         {:.1} uploads ({:.1} kB), {:.2} readbacks · {:.0} pipelines compiled · warm-up {} per \
         step, steady {} per step",
        g.dispatches,
        g.kernels,
        g.submits,
        g.uploads,
        g.upload_bytes / 1000.0,
        g.readbacks,
        c.pipelines,
        ms(c.warmup_ms),
        ms(c.steady_ms),
    ))
}

/// The status line, with the panel's extra `data-*` attributes (yew's `html!` cannot spread
/// attributes whose names vary, so the tag is built by hand).
fn status_line(props: &RunControlsProps) -> Html {
    let s = &*props.run.state;
    let mut tag = VTag::new("p");
    tag.add_attribute("data-testid", props.ids.status);
    tag.add_attribute("data-status", s.status.slug());
    // The backend the worker reports computing on (it may differ from the page's, when the job
    // was measured on both).
    tag.add_attribute("data-worker-backend", s.backend.clone());
    tag.add_attribute("data-epochs-done", s.epochs_done.to_string());
    tag.add_attribute("data-batch", s.batch.to_string());
    tag.add_attribute("data-run-id", s.run_id.clone().unwrap_or_default());
    tag.add_attribute("data-ms-per-batch", format!("{:.1}", s.ms_per_batch));
    tag.add_attribute("data-worker", props.run.worker_state());
    // While paused, how long the worker's loop has provably been waiting (tests read it).
    tag.add_attribute("data-held-polls", s.held_polls.map(|p| p.to_string()).unwrap_or_default());
    // What a step costs (the benchmarks read these): steady-state and warm-up milliseconds, and
    // the WebGPU work per step when the job runs there.
    let c = &s.cost;
    let opt = |v: Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_default();
    tag.add_attribute("data-steady-ms", opt(c.steady_ms));
    tag.add_attribute("data-warmup-ms", opt(c.warmup_ms));
    if let Some(g) = &c.gpu {
        tag.add_attribute("data-dispatches", format!("{:.1}", g.dispatches));
        tag.add_attribute("data-submits", format!("{:.1}", g.submits));
        tag.add_attribute("data-uploads", format!("{:.1}", g.uploads));
        tag.add_attribute("data-upload-bytes", format!("{:.0}", g.upload_bytes));
        tag.add_attribute("data-readbacks", format!("{:.2}", g.readbacks));
        tag.add_attribute("data-pipelines", format!("{:.0}", c.pipelines));
        tag.add_attribute("data-kernels", format!("{:.1}", g.kernels));
    }
    for (name, value) in &props.status_data {
        tag.add_attribute(name, value.clone());
    }
    tag.add_child(html! { { props.status_text.clone() } });
    tag.into()
}
