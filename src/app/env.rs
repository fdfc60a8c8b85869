//! Where the code runs and what the page's address asks for: shared by the page and the
//! workers (one wasm module serves both).

/// Runs the module's static constructors, once.
///
/// wasm-ld links a binary with `main` as a "command" and, unless the module calls
/// `__wasm_call_ctors` itself, wraps *every* export in a call to it. burn's cubecl registers its
/// IR with `inventory` constructors, so every JS→wasm call (each event handler, each future
/// wake-up, each worker message) re-ran all of them: the DevTools profiler showed
/// `__wasm_call_ctors` and `inventory::Registry::submit` as the top of the page's main thread,
/// with 200–600 ms tasks while a worker trained. Referencing the symbol here turns the wrappers
/// off; calling it first thing runs the constructors exactly once.
pub fn run_static_constructors() {
    use std::sync::atomic::{AtomicBool, Ordering};
    unsafe extern "C" {
        fn __wasm_call_ctors();
    }
    static DONE: AtomicBool = AtomicBool::new(false);
    if !DONE.swap(true, Ordering::SeqCst) {
        // SAFETY: synthesized by wasm-ld; runs the `.init_array` constructors, and the flag
        // makes sure that happens once.
        unsafe { __wasm_call_ctors() }
    }
}

/// A query-string parameter of the page's URL (`?backend=cpu` → `Some("cpu")`).
pub fn url_param(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search).ok()?.get(name)
}

/// Milliseconds from `performance.now()`, for timings shown to the user. Works in the page and
/// in a worker (which has no `window`, but has `performance`).
pub fn now_ms() -> f64 {
    use wasm_bindgen::JsCast;
    js_sys::Reflect::get(&js_sys::global(), &"performance".into())
        .ok()
        .and_then(|p| p.dyn_into::<web_sys::Performance>().ok())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

/// The window event fired once, when the first screen works (the slider has scored the
/// compressed model on the test set) or has settled on an error it shows: what waits for it (the GAN panel's worker and its
/// module, the offline copy's service worker in `init.js`) then starts without competing with
/// the first screen's downloads (#18).
pub const INTERACTIVE_EVENT: &str = "mnist-lab-interactive";

thread_local! {
    static INTERACTIVE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Says once that the first screen works (see [`INTERACTIVE_EVENT`]).
pub fn announce_interactive() {
    if INTERACTIVE.with(|i| i.replace(true)) {
        return;
    }
    if let Some(w) = web_sys::window() {
        // A performance mark too, so that `make bench` reads the moment itself (#18 item 4).
        if let Some(p) = w.performance() {
            let _ = p.mark(INTERACTIVE_EVENT);
        }
        if let Ok(e) = web_sys::Event::new(INTERACTIVE_EVENT) {
            let _ = w.dispatch_event(&e);
        }
    }
}

/// Whether [`announce_interactive`] has run.
pub fn is_interactive() -> bool {
    INTERACTIVE.with(|i| i.get())
}
