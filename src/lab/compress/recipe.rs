//! The refinement's default recipe (#36). Measured over five seeds at 2×/4×/8× under the seed
//! rule (docs/exercise1/refine-recipes.md): the factorized model starts far from a minimum (8×:
//! ~14 % straight after the SVD), so a fresh Adam at a rate well above the base model's recovers
//! it, and a cosine decay to 0 settles it; weight decay changed nothing measurable and is left out.

use crate::lab::classifier::train::{LrSchedule, TrainConfig};

/// The refinement's learning rate.
pub const REFINE_LR: f64 = 1e-2;

/// The refinement's settings for `epochs` epochs after a base model trained with `base` (its
/// batch size and seed carry over).
pub fn refine_config(base: &TrainConfig, epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        lr: REFINE_LR,
        schedule: LrSchedule::Cosine,
        weight_decay: 0.0,
        ..base.clone()
    }
}
