//! Latent vectors, the fixed sample noise, the real/fake batch permutation, and sampling a
//! generator.

use burn::module::Module;
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};

use crate::lab::core::error::{LabError, LabResult};
use crate::lab::core::readback::read_values;
use crate::lab::core::rng::SplitMix64;
use crate::lab::gan::models::{Generator, LATENT_DIM};

/// A number of fixed-noise samples: the 8×8 grid.
pub const GRID_SAMPLES: usize = 64;

/// Seeds derived from the run's seed, so each random stream is independent.
pub const FIXED_NOISE_SALT: u64 = 0xF1_7ED;

/// The 64 latent vectors of a sample grid for `seed` (a run's fixed noise uses its own seed):
/// the page recomputes them to pick the two ends of a latent walk.
pub fn grid_noise(seed: u64) -> Vec<f32> {
    SplitMix64::new(seed ^ FIXED_NOISE_SALT).normals(GRID_SAMPLES * LATENT_DIM)
}

/// Latent vectors `[n, 100]` from the CPU generator (identical on every backend).
pub fn latent(rng: &mut SplitMix64, n: usize, device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(rng.normals(n * LATENT_DIM), [n, LATENT_DIM]), device)
}

/// The D step's batch: `real ‖ fake` reordered by `perm` (a permutation of `0..2B`; item `i` of
/// the result is input image `perm[i]`), with targets (`real_label` for real images,
/// `x` plus Gaussian instance noise of deviation `sigma` (none at 0), from the device's generator.
pub fn with_noise(x: Tensor<4>, sigma: f64, device: &Device) -> Tensor<4> {
    if sigma > 0.0 {
        let noise = Tensor::random(x.dims(), Distribution::Normal(0.0, sigma), device);
        x + noise
    } else {
        x
    }
}

/// `fake_label` for fakes) and a 0/1 "is real" mask, both `[2B, 1]`.
pub fn shuffle_batch(
    real: Tensor<4>,
    fake: Tensor<4>,
    perm: &[usize],
    real_label: f32,
    fake_label: f32,
) -> (Tensor<4>, Tensor<2>, Tensor<2>) {
    let b = real.dims()[0];
    let device = real.device();
    let both = Tensor::cat(vec![real, fake], 0);
    let idx: Vec<i64> = perm.iter().map(|&p| p as i64).collect();
    let images =
        both.select(0, Tensor::<1, Int>::from_data(TensorData::new(idx, [perm.len()]), &device));
    let is_real: Vec<f32> = perm.iter().map(|&p| if p < b { 1.0 } else { 0.0 }).collect();
    let targets: Vec<f32> =
        is_real.iter().map(|&r| if r > 0.5 { real_label } else { fake_label }).collect();
    let n = perm.len();
    (
        images,
        Tensor::from_data(TensorData::new(targets, [n, 1]), &device),
        Tensor::from_data(TensorData::new(is_real, [n, 1]), &device),
    )
}

/// Images from latent vectors (`n × 100`, row-major) with `g` in inference mode (batch norm uses
/// its running statistics), as `n × 784` values in [-1, 1].
pub async fn generate(g: &Generator, noise: &[f32], device: &Device) -> LabResult<Vec<f32>> {
    if noise.is_empty() || !noise.len().is_multiple_of(LATENT_DIM) {
        return Err(LabError::InvalidConfig(format!(
            "latent vectors must be a multiple of {LATENT_DIM} values, got {}",
            noise.len()
        )));
    }
    let n = noise.len() / LATENT_DIM;
    let device = device.clone().without_autodiff();
    let z = Tensor::from_data(TensorData::new(noise.to_vec(), [n, LATENT_DIM]), &device);
    let images = g.valid().forward(z);
    read_values(images).await
}

/// Points along the straight line between two latent vectors (both ends included): the
/// latent walk.
pub fn interpolate(a: &[f32], b: &[f32], steps: usize) -> Vec<f32> {
    let steps = steps.max(2);
    let mut out = Vec::with_capacity(steps * a.len());
    for s in 0..steps {
        let t = s as f32 / (steps - 1) as f32;
        out.extend(a.iter().zip(b).map(|(&x, &y)| x + (y - x) * t));
    }
    out
}
