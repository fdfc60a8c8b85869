//! The engine: data, models, training, SVD compression, GANs, metrics, summaries, reports.
//! UI-free; the same code runs natively (CLI, tests) and in the browser.
//!
//! Imports run one way: `core` (no exercise in it) ← `data` ← `classifier` ← `compress` and
//! `gan`. `scripts/check-layout.py` (run by `make lint`) fails on any import cycle.

pub mod classifier;
pub mod compress;
pub mod core;
pub mod data;
pub mod gan;
