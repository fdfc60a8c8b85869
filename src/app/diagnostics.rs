//! The Diagnostics view's facts: the backend computing, why, the WebGPU adapter, how much of
//! the browser's storage the saved runs and cached files take, and a quick benchmark of both
//! backends on this device. (The smoke test sits under it.)

use std::rc::Rc;

use burn::tensor::Device;
use yew::prelude::*;

use crate::app::backend::webgpu_device;
use crate::app::context::use_lab;
use crate::app::env::now_ms;
use crate::app::io::datasets::DataState;
use crate::app::io::store;
use crate::lab::classifier::mlp::{MLP_WIDTHS, Mlp};
use crate::lab::classifier::train::{ClassifierTrainer, TrainConfig};
use crate::lab::data::Dataset;

/// Steps left out of the timing (kernel compilation, first allocations), then steps timed.
const WARMUP_STEPS: usize = 3;
const TIMED_STEPS: usize = 10;

/// Milliseconds per Adam step of the MLP (batch 128) on `device`, after the warm-up: the same
/// step every training job runs, on MNIST's test images (already loaded; nothing downloads).
async fn ms_per_step(device: Device, data: &Dataset) -> Result<f64, String> {
    let device = device.autodiff();
    let config = TrainConfig { epochs: 1000, ..TrainConfig::default() };
    let model = Mlp::new(&MLP_WIDTHS, &device);
    let mut trainer =
        ClassifierTrainer::new(model, config, data.len(), &device).map_err(|e| e.to_string())?;
    let mut start = 0.0;
    for step in 0..WARMUP_STEPS + TIMED_STEPS {
        if step == WARMUP_STEPS {
            start = now_ms();
        }
        // Each chunk reads its loss back, so the time includes the device finishing the step.
        trainer.train_chunk(data, 1).await.map_err(|e| e.to_string())?;
    }
    Ok((now_ms() - start) / TIMED_STEPS as f64)
}

/// What the benchmark measured, per backend.
#[derive(Debug, Clone, PartialEq, Default)]
struct Bench {
    running: bool,
    cpu: Option<Result<f64, String>>,
    webgpu: Option<Result<f64, String>>,
}

/// Times the MLP's training step on the CPU and on WebGPU, one after the other.
#[component]
pub fn BackendBench() -> Html {
    let lab = use_lab();
    let bench = use_state(Bench::default);
    let test = match &lab.mnist {
        DataState::Ready(d) => Some(d.clone()),
        _ => None,
    };
    let has_gpu = lab.backend.as_ref().is_some_and(|b| b.adapter.is_some());
    let on_run = {
        let (bench, test) = (bench.clone(), test.clone());
        Callback::from(move |_| {
            let (bench, test) = (bench.clone(), test.clone());
            let Some(test): Option<Rc<Dataset>> = test else { return };
            wasm_bindgen_futures::spawn_local(async move {
                let mut b = Bench { running: true, ..Bench::default() };
                bench.set(b.clone());
                b.cpu = Some(ms_per_step(Device::flex(), &test).await);
                bench.set(b.clone());
                b.webgpu = Some(if let Some(why) = crate::app::backend::page_gpu_lost() {
                    Err(format!("{why}: the page's WebGPU device is gone until a reload"))
                } else if has_gpu {
                    match webgpu_device().await {
                        Ok(d) => ms_per_step(d, &test).await,
                        Err(e) => Err(format!("no WebGPU device: {e}")),
                    }
                } else {
                    Err("this browser has no WebGPU".into())
                });
                b.running = false;
                bench.set(b);
            });
        })
    };
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
                "{TIMED_STEPS} Adam steps of the 784-100-50-10 MLP at batch 128 on each, after {WARMUP_STEPS} warm-up steps."
            )}</p>
            <button data-testid="diagnostics-bench-run" onclick={on_run}
                    disabled={bench.running || test.is_none() || lab.backend.is_none()}>{"Measure both"}</button>
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
            <dt>{"Backend"}</dt>
            <dd data-testid="diagnostics-backend">{backend}{" "}<span class="hint">{reason}</span></dd>
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
