//! MNIST Lab: an SVD-compression lab for an MNIST classifier and a GAN studio on Fashion-MNIST.
//!
//! `lab` is the engine (UI-free, native and wasm); `app` is the yew front end (wasm only).

pub mod lab;

#[cfg(target_arch = "wasm32")]
pub mod app;

#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
