//! The engine: data, models, training, metrics. UI-free; the same code runs natively (CLI,
//! tests) and in the browser.

pub mod data;
pub mod error;
pub mod metrics;
pub mod mlp;
pub mod rng;
pub mod train;
