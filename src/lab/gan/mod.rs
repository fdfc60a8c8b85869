//! Exercise 2: GANs on Fashion-MNIST — dense and DCGAN-style networks, the classic training loop
//! (real and fake concatenated and permuted for the D step, then a G step through a frozen D),
//! per-layer health numbers, a classifier-based quality score, and the write-up.

pub mod config;
pub mod grid;
pub mod loss;
pub mod models;
pub mod plots;
pub mod progress;
pub mod quality;
pub mod report;
pub mod sampling;
pub mod summary;
pub mod trainer;

pub use config::GanConfig;
pub use models::{Discriminator, GanArch, Generator, LATENT_DIM};
pub use progress::{GanChunk, GanEpoch};
pub use trainer::GanTrainer;
