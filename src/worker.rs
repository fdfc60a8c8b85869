//! The `mnist-lab-worker` binary: the training workers' module in the browser (#18).
//!
//! The page's module (`src/main.rs`) is built without the `webgpu` feature, so a visitor does not
//! download burn's WebGPU stack (cubecl's kernel compiler is most of it) to use the page. This
//! module has it, and only workers load it: `static/worker-boot.js` imports it in each worker
//! and calls [`worker_entry`]; every worker loads the same file, so the browser downloads it once.

#[cfg(target_arch = "wasm32")]
fn main() {
    // wasm-bindgen runs `main` when the module is instantiated; `worker_entry` starts the worker.
}

/// Starts the training worker (called by `worker-boot.js` once the module is instantiated).
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn worker_entry() {
    mnist_lab::app::worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("mnist-lab-worker is the browser's training-worker module; natively, run mnist-lab");
    std::process::exit(2);
}
