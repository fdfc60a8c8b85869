//! What every part of the engine builds on and no exercise owns: errors, the seeded RNG, async
//! readbacks, dense layers on the CPU side, safetensors, module parameter visitors, Adam with
//! open state, checkpoint bytes, summary tables, chart helpers and report bundles.

pub mod adam;
pub mod adapter;
pub mod bundle;
pub mod chart;
pub mod checkpoint;
pub mod download;
pub mod error;
pub mod finite;
pub mod hex;
pub mod kernels;
pub mod linear;
pub mod mutate;
pub mod params;
pub mod readback;
pub mod rng;
pub mod safetensors;
pub mod same;
pub mod summary;
