//! The training Web Worker's entry point (built by trunk as `worker.js` + `worker_bg.wasm`).

#[cfg(target_arch = "wasm32")]
fn main() {
    mnist_lab::app::worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the `worker` binary runs only in the browser, as MNIST Lab's training Web Worker");
    std::process::exit(2);
}
