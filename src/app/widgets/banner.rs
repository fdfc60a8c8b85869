//! The banner: which backend the training workers compute on, which WebGPU adapter the browser has, why, and a switch.

use yew::prelude::*;

use crate::app::backend::BackendKind;
use crate::app::context::use_lab;

/// What the banner shows and how it switches.
#[derive(Properties, Debug, Clone, PartialEq)]
pub struct BannerProps {
    /// Asks for the other backend.
    pub on_switch: Callback<BackendKind>,
}

/// The backend banner.
#[component]
pub fn Banner(props: &BannerProps) -> Html {
    let lab = use_lab();
    let Some(b) = &lab.backend else {
        return html! { <div class="banner" data-testid="backend-banner" data-backend="">{"Starting the compute backend…"}</div> };
    };
    let adapter = match &b.adapter {
        Some(a) => {
            format!("WebGPU adapter: {}{}", a.name, if a.software { " (software)" } else { "" })
        }
        None => "WebGPU adapter: none".to_string(),
    };
    let other = match b.kind {
        BackendKind::WebGpu => BackendKind::Cpu,
        BackendKind::Cpu => BackendKind::WebGpu,
    };
    let on_click = {
        let cb = props.on_switch.clone();
        Callback::from(move |_| cb.emit(other))
    };
    html! {
        <div class={classes!("banner", b.kind.slug())} data-testid="backend-banner" data-backend={b.kind.slug()}
             data-adapter={b.adapter.as_ref().map(|a| a.name.clone()).unwrap_or_default()}>
            <strong>{format!("Backend: {}", b.kind.title())}</strong>{" for training (the page itself computes on the CPU)"}
            {" · "}<span>{adapter}</span>
            {" · "}<span class="reason">{&b.reason}</span>
            <button data-testid="backend-switch" onclick={on_click}>{format!("Switch to {}", other.title())}</button>
        </div>
    }
}
