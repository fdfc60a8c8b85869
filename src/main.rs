//! The `mnist-lab` binary: the web app's entry point in the browser, the CLI natively.
//!
//! In the browser one module serves both the page and its training worker: `worker-boot.js`
//! imports this same module in the worker and calls [`worker_entry`]. The browser downloads and
//! caches it once, instead of a second, nearly identical binary for the worker.

#[cfg(target_arch = "wasm32")]
fn main() {
    // wasm-bindgen runs `main` wherever the module is instantiated; in the worker there is no
    // page to mount, and `worker_entry` starts it instead.
    if mnist_lab::app::env::in_worker() {
        return;
    }
    mnist_lab::app::start();
}

/// Starts the training worker (called by `worker-boot.js` once the module is instantiated).
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn worker_entry() {
    mnist_lab::app::worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    std::process::exit(mnist_lab::cli::main(std::env::args().skip(1).collect()));
}
