//! The engine: data, models, training, SVD compression, metrics, summaries. UI-free; the same
//! code runs natively (CLI, tests) and in the browser.

pub mod adam;
pub mod adapter;
pub mod checkpoint;
pub mod data;
pub mod draw;
pub mod error;
pub mod export;
pub mod factorized;
pub mod gan;
pub mod metrics;
pub mod mlp;
pub mod params;
pub mod plots;
pub mod report;
pub mod rng;
pub mod summary;
pub mod svd;
pub mod train;
pub mod weights;
