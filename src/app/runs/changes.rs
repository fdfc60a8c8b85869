//! Listening to the run store: a hook that calls back once on mount and whenever the page
//! announces a change ([`store::RUNS_CHANGED`]), so lists refresh without polling.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use yew::prelude::*;

use crate::app::io::store;

/// Calls `refresh` now and after every change of the stored runs, until unmounted.
#[hook]
pub fn use_store_changes(refresh: Callback<()>) {
    use_effect_with((), move |_| {
        refresh.emit(());
        let listener = Closure::<dyn FnMut()>::new(move || refresh.emit(()));
        if let Some(w) = web_sys::window() {
            let _ = w.add_event_listener_with_callback(
                store::RUNS_CHANGED,
                listener.as_ref().unchecked_ref(),
            );
        }
        move || {
            if let Some(w) = web_sys::window() {
                let _ = w.remove_event_listener_with_callback(
                    store::RUNS_CHANGED,
                    listener.as_ref().unchecked_ref(),
                );
            }
        }
    });
}
