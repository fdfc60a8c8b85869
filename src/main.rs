//! The `mnist-lab` binary: the web app's entry point in the browser, the CLI natively.

#[cfg(target_arch = "wasm32")]
fn main() {
    mnist_lab::app::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    std::process::exit(mnist_lab::cli::main(std::env::args().skip(1).collect()));
}
