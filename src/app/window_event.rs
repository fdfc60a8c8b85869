//! A hook that listens to one event on `window` for a component's life: the page's view follows
//! `hashchange`, the run lists follow the store's change event.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use yew::prelude::*;

/// Calls `on_event` at every `event` on `window`, until unmounted.
#[hook]
pub fn use_window_event(event: &'static str, on_event: Callback<()>) {
    use_effect_with((), move |_| {
        let listener = Closure::<dyn FnMut()>::new(move || on_event.emit(()));
        if let Some(w) = web_sys::window() {
            let _ = w.add_event_listener_with_callback(event, listener.as_ref().unchecked_ref());
        }
        move || {
            if let Some(w) = web_sys::window() {
                let _ =
                    w.remove_event_listener_with_callback(event, listener.as_ref().unchecked_ref());
            }
        }
    });
}
