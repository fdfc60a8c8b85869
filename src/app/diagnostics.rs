//! The Diagnostics view's facts: the backend the workers train on, why, the WebGPU adapter, how
//! much of the browser's storage the saved runs and cached files take, and a quick benchmark of
//! both backends on this device, run in a worker. (The smoke test sits under it.)

use yew::prelude::*;

use crate::app::backend::BackendKind;
use crate::app::context::use_lab;
use crate::app::io::store;
use crate::app::run::job::use_worker_job;
use crate::app::worker::diagnose::{BENCH_TIMED_STEPS, BENCH_WARMUP_STEPS};
use crate::app::worker::protocol::{FromWorker, ToWorker};

/// What the benchmark measured, per backend.
#[derive(Debug, Clone, PartialEq, Default)]
struct Bench {
    running: bool,
    cpu: Option<Result<f64, String>>,
    webgpu: Option<Result<f64, String>>,
}

/// What a worker's reply does to the benchmark shown.
fn apply(bench: &Bench, reply: Result<FromWorker, String>) -> Option<Bench> {
    let mut next = bench.clone();
    match reply {
        Ok(FromWorker::Bench { backend: BackendKind::Cpu, ms }) => next.cpu = Some(ms),
        Ok(FromWorker::Bench { backend: BackendKind::WebGpu, ms }) => next.webgpu = Some(ms),
        Ok(FromWorker::BenchDone) | Ok(FromWorker::Stopped) => next.running = false,
        Ok(FromWorker::Failed(e))
        | Ok(FromWorker::Crashed(e))
        | Ok(FromWorker::DeviceLost(e))
        | Ok(FromWorker::DeviceLostIdle(e))
        | Err(e) => {
            next.running = false;
            for slot in [&mut next.cpu, &mut next.webgpu] {
                slot.get_or_insert_with(|| Err(e.clone()));
            }
        }
        Ok(_) => return None,
    }
    Some(next)
}

/// Times the MLP's training step on the CPU and on WebGPU, one after the other, in a worker
/// (where training runs, and where the WebGPU stack is).
#[component]
pub fn BackendBench() -> Html {
    let lab = use_lab();
    let job = use_worker_job(apply, |b: &Bench| !b.running);
    let bench = job.state.clone();
    let has_gpu = lab.backend.as_ref().is_some_and(|b| b.adapter.is_some());
    let on_run = Callback::from(move |_| {
        job.start(Bench { running: true, ..Bench::default() }, ToWorker::Bench { has_gpu })
    });
    let say = |r: &Option<Result<f64, String>>| match r {
        None if bench.running => "measuring…".to_string(),
        None => "—".to_string(),
        Some(Ok(ms)) => format!("{ms:.1} ms per step"),
        Some(Err(e)) => e.clone(),
    };
    let verdict = match (&bench.cpu, &bench.webgpu) {
        (Some(Ok(c)), Some(Ok(g))) => {
            let (faster, ratio) = if g < c { ("WebGPU", c / g) } else { ("the CPU", g / c) };
            format!("{faster} is {ratio:.1}× faster here for this model")
        }
        _ => String::new(),
    };
    let num = |r: &Option<Result<f64, String>>| match r {
        Some(Ok(ms)) => format!("{ms:.2}"),
        _ => String::new(),
    };
    html! {
        <div class="card">
            <h3>{"Both backends on this device"}</h3>
            <p class="hint">{format!(
                "{BENCH_TIMED_STEPS} Adam steps of the 784-100-50-10 MLP at batch 128 on each, after {BENCH_WARMUP_STEPS} warm-up steps, in a worker."
            )}</p>
            <button data-testid="diagnostics-bench-run" onclick={on_run}
                    disabled={bench.running || lab.backend.is_none()}>{"Measure both"}</button>
            <dl class="facts" data-testid="diagnostics-bench" data-cpu-ms={num(&bench.cpu)}
                data-webgpu-ms={num(&bench.webgpu)} data-running={bench.running.to_string()}>
                <dt>{"CPU (Flex)"}</dt><dd>{say(&bench.cpu)}</dd>
                <dt>{"WebGPU"}</dt><dd>{say(&bench.webgpu)}</dd>
            </dl>
            if !verdict.is_empty() { <p data-testid="diagnostics-bench-verdict">{verdict}</p> }
        </div>
    }
}

/// Bytes in words ("12.3 MB").
fn bytes(b: f64) -> String {
    if b >= 1e9 {
        format!("{:.2} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.0} kB", b / 1e3)
    }
}

/// Backend, adapter and storage, as a definition list.
#[component]
pub fn DeviceFacts() -> Html {
    let lab = use_lab();
    let usage = use_state(|| None::<Option<(f64, f64)>>);
    let refresh = {
        let usage = usage.clone();
        Callback::from(move |_: ()| {
            let usage = usage.clone();
            wasm_bindgen_futures::spawn_local(async move { usage.set(Some(store::usage().await)) });
        })
    };
    {
        let refresh = refresh.clone();
        use_effect_with((), move |_| refresh.emit(()));
    }
    let (backend, reason) = match &lab.backend {
        Some(b) => (b.kind.title().to_string(), b.reason.clone()),
        None => ("starting…".to_string(), String::new()),
    };
    let adapter = match lab.backend.as_ref().and_then(|b| b.adapter.as_ref()) {
        Some(a) if a.software => format!("{} (software: the GPU emulated on the CPU)", a.name),
        Some(a) => a.name.clone(),
        None if lab.backend.is_some() => "none: this browser has no WebGPU".to_string(),
        None => "…".to_string(),
    };
    let storage = match *usage {
        None => "measuring…".to_string(),
        Some(None) => "this browser does not say".to_string(),
        Some(Some((used, quota))) => format!("{} used of {} allowed", bytes(used), bytes(quota)),
    };
    html! {
        <dl class="facts" data-testid="diagnostics-facts">
            <dt>{"Training backend (the workers)"}</dt>
            <dd data-testid="diagnostics-backend">{backend}{" "}<span class="hint">{reason}</span></dd>
            <dt>{"The page's own work"}</dt>
            <dd>{"CPU (Flex): the slider, the drawing pad and the previews; the page's module carries no WebGPU"}</dd>
            <dt>{"WebGPU adapter"}</dt>
            <dd data-testid="diagnostics-adapter">{adapter}</dd>
            <dt>{"Storage (saved runs, cached files)"}</dt>
            <dd data-testid="diagnostics-storage">
                {storage}{" "}
                <button onclick={refresh.reform(|_| ())}>{"Measure again"}</button>
            </dd>
        </dl>
    }
}
