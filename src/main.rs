//! The `mnist-lab` binary: the web page's module in the browser, the CLI natively.
//!
//! In the browser this module is the page only, built without WebGPU; the training workers load
//! their own module (`src/worker.rs`, with the WebGPU stack), fetched when a worker starts.

#[cfg(target_arch = "wasm32")]
fn main() {
    mnist_lab::app::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    std::process::exit(mnist_lab::cli::main(std::env::args().skip(1).collect()));
}
