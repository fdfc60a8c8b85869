//! Share links: the page keeps its settings (ranks, hyper-parameters, the section in view) in
//! its own URL as they change, so the address, or the copied link, reopens the same view.

use wasm_bindgen::JsValue;
use yew::prelude::*;

/// Sets (or with `None` removes) a query parameter without reloading or adding history entries.
pub fn set_param(name: &str, value: Option<&str>) {
    let Some(w) = web_sys::window() else { return };
    let loc = w.location();
    let Ok(params) = web_sys::UrlSearchParams::new_with_str(&loc.search().unwrap_or_default())
    else {
        return;
    };
    match value {
        Some(v) => params.set(name, v),
        None => params.delete(name),
    }
    let query: String = params.to_string().into();
    let url = format!(
        "{}{}{}",
        loc.pathname().unwrap_or_default(),
        if query.is_empty() { String::new() } else { format!("?{query}") },
        loc.hash().unwrap_or_default()
    );
    if let Ok(h) = w.history() {
        let _ = h.replace_state_with_url(&JsValue::NULL, "", Some(&url));
    }
}

/// The current address: the link to share.
pub fn current_link() -> String {
    web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default()
}

/// Copies `text` to the clipboard when the browser allows it; `false` when it does not.
async fn copy_text(text: &str) -> bool {
    use js_sys::{Function, Promise, Reflect};
    use wasm_bindgen::JsCast;
    let Some(nav) = web_sys::window().map(|w| JsValue::from(w.navigator())) else { return false };
    let Ok(clip) = Reflect::get(&nav, &"clipboard".into()) else { return false };
    if clip.is_undefined() || clip.is_null() {
        return false;
    }
    let Ok(write) = Reflect::get(&clip, &"writeText".into()).and_then(|f| f.dyn_into::<Function>())
    else {
        return false;
    };
    let Ok(promise) = write.call1(&clip, &text.into()).and_then(|p| p.dyn_into::<Promise>()) else {
        return false;
    };
    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
}

/// A read-only field with the link to this view and a copy button.
#[component]
pub fn ShareLink() -> Html {
    let link = use_state(current_link);
    let copied = use_state(|| false);
    let on_copy = {
        let (link, copied) = (link.clone(), copied.clone());
        Callback::from(move |_| {
            let now = current_link();
            link.set(now.clone());
            // navigator.clipboard exists only in secure contexts (https, localhost); elsewhere the
            // field still shows the link to copy by hand.
            let copied = copied.clone();
            wasm_bindgen_futures::spawn_local(async move {
                copied.set(copy_text(&now).await);
            });
        })
    };
    html! {
        <div class="share">
            <button data-testid="share-copy" onclick={on_copy}>{ if *copied { "Link copied" } else { "Copy a link to this view" } }</button>
            <input readonly=true data-testid="share-link" value={(*link).clone()} aria-label="link to this view" />
        </div>
    }
}
