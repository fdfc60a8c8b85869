//! The Diagnostics view's facts: the backend computing, why, the WebGPU adapter, and how much of
//! the browser's storage the saved runs and cached files take. (The smoke test sits under it.)

use yew::prelude::*;

use crate::app::context::use_lab;
use crate::app::io::store;

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
