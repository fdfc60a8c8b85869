//! One number for "are the samples any good": a small Fashion-MNIST classifier, trained once
//! with the same engine, judges generated images the way Inception judges ImageNet samples.
//!
//! - **Fréchet distance** (FID-style) between the classifier's last hidden features of real test
//!   images and of generated ones: ‖μ₁−μ₂‖² + tr(Σ₁ + Σ₂ − 2(Σ₁^½ Σ₂ Σ₁^½)^½). Lower is better; it
//!   sees both quality and diversity.
//! - **Inception-style score**: exp(E_x KL(p(y|x) ‖ p(y))). Between 1 (every image looks alike or
//!   nothing is recognisable) and 10 (each image is confidently one class, and all classes appear).
//!
//! Numbers from this classifier are comparable with each other, not with published FIDs.

use burn::module::Module;
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};
use nalgebra::{DMatrix, DVector, SymmetricEigen};
use serde::{Deserialize, Serialize};

use crate::lab::classifier::eval::{EVAL_BATCH, evaluate};
use crate::lab::classifier::mlp::{Mlp, PIXEL_SCALE};
use crate::lab::classifier::train::{ClassifierTrainer, LrSchedule, TrainConfig};
use crate::lab::core::error::{LabError, LabResult};
use crate::lab::core::readback::read_values;
use crate::lab::core::rng::SplitMix64;
use crate::lab::data::{Dataset, IMAGE_PIXELS, NUM_CLASSES};
use crate::lab::gan::models::Generator;
use crate::lab::gan::sampling::generate;

/// Images per side for the page's quality numbers (the CLI uses 2000; the page keeps it quick).
pub const JUDGE_SAMPLES: usize = 500;

/// The judge's widths: its 64-unit last hidden layer gives the features.
pub const CLASSIFIER_WIDTHS: [usize; 4] = [784, 256, 64, 10];
/// Salt of the quality numbers' latent vectors.
const QUALITY_NOISE_SALT: u64 = 0x9A11;

/// Images per side of the comparison (real and generated).
pub const QUALITY_SAMPLES: usize = 2000;

/// The quality numbers at one epoch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Quality {
    /// Epoch (1-based) the generator had finished.
    pub epoch: usize,
    /// Fréchet distance to the real test images' features (lower is better).
    #[serde(with = "crate::lab::core::finite::kept")]
    pub fid: f64,
    /// Inception-style score in [1, 10] (higher is better).
    #[serde(with = "crate::lab::core::finite::kept")]
    pub score: f64,
}

/// Mean and covariance of a set of feature vectors.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureStats {
    /// Mean feature vector.
    pub mean: DVector<f64>,
    /// Covariance (unbiased).
    pub cov: DMatrix<f64>,
}

impl FeatureStats {
    /// From `n × dim` row-major features (`n ≥ 2`).
    pub fn of(features: &[f32], dim: usize) -> LabResult<Self> {
        let n = features.len() / dim.max(1);
        if dim == 0 || n < 2 || features.len() != n * dim {
            return Err(LabError::InvalidConfig(format!(
                "need at least 2 feature vectors of length {dim}, got {} values",
                features.len()
            )));
        }
        let x = DMatrix::from_row_slice(
            n,
            dim,
            &features.iter().map(|&v| v as f64).collect::<Vec<_>>(),
        );
        let mean = x.row_mean().transpose();
        let centred = DMatrix::from_fn(n, dim, |i, j| x[(i, j)] - mean[j]);
        let cov = centred.transpose() * &centred / (n - 1) as f64;
        Ok(Self { mean, cov })
    }
}

/// Square root of a symmetric positive semi-definite matrix (negative round-off clamped to 0).
fn sqrt_psd(m: &DMatrix<f64>) -> DMatrix<f64> {
    let sym = (m + m.transpose()) * 0.5;
    let eig = SymmetricEigen::new(sym);
    let roots = eig.eigenvalues.map(|l| l.max(0.0).sqrt());
    &eig.eigenvectors * DMatrix::from_diagonal(&roots) * eig.eigenvectors.transpose()
}

/// The Fréchet distance between two Gaussians fitted to features.
pub fn frechet_distance(a: &FeatureStats, b: &FeatureStats) -> f64 {
    let diff = &a.mean - &b.mean;
    let root_a = sqrt_psd(&a.cov);
    let middle = &root_a * &b.cov * &root_a;
    let middle = (&middle + middle.transpose()) * 0.5;
    let tr_cross: f64 =
        SymmetricEigen::new(middle).eigenvalues.iter().map(|l| l.max(0.0).sqrt()).sum();
    (diff.dot(&diff) + a.cov.trace() + b.cov.trace() - 2.0 * tr_cross).max(0.0)
}

/// exp(mean KL(p(y|x) ‖ p(y))) over `n × classes` row-major probabilities.
pub fn inception_score(probs: &[f32], classes: usize) -> f64 {
    let n = probs.len() / classes.max(1);
    if n == 0 {
        return f64::NAN;
    }
    let mut marginal = vec![0.0f64; classes];
    for row in probs.chunks(classes) {
        for (m, &p) in marginal.iter_mut().zip(row) {
            *m += p as f64 / n as f64;
        }
    }
    let eps = 1e-12;
    let kl: f64 = probs
        .chunks(classes)
        .map(|row| {
            row.iter()
                .zip(&marginal)
                .map(|(&p, &m)| {
                    if p > 0.0 { p as f64 * ((p as f64 + eps).ln() - (m + eps).ln()) } else { 0.0 }
                })
                .sum::<f64>()
        })
        .sum::<f64>()
        / n as f64;
    kl.exp()
}

/// The classifier's features and class probabilities for `n × 784` images in [0, 1], computed in
/// batches and read back once each.
pub async fn features(
    classifier: &Mlp,
    images01: &[f32],
    device: &Device,
) -> LabResult<(Vec<f32>, Vec<f32>)> {
    let n = images01.len() / IMAGE_PIXELS;
    if n == 0 || images01.len() != n * IMAGE_PIXELS {
        return Err(LabError::InvalidConfig(format!(
            "expected whole 28×28 images, got {} values",
            images01.len()
        )));
    }
    let device = device.clone().without_autodiff();
    let model = classifier.valid();
    let mut feats = Vec::new();
    let mut probs = Vec::new();
    for chunk in images01.chunks(EVAL_BATCH * IMAGE_PIXELS) {
        let b = chunk.len() / IMAGE_PIXELS;
        let x = Tensor::from_data(TensorData::new(chunk.to_vec(), [b, IMAGE_PIXELS]), &device);
        let (f, logits) = model.forward_features(x);
        feats.push(f);
        probs.push(softmax(logits, 1));
    }
    Ok((read_values(Tensor::cat(feats, 0)).await?, read_values(Tensor::cat(probs, 0)).await?))
}

/// Trains the judge on Fashion-MNIST with the exercise-1 trainer; returns it and its test accuracy.
pub async fn train_classifier(
    train: &Dataset,
    test: &Dataset,
    epochs: usize,
    seed: u64,
    device: &Device,
) -> LabResult<(Mlp, f64)> {
    let config = TrainConfig {
        epochs,
        batch_size: 128,
        lr: 1e-3,
        seed,
        schedule: LrSchedule::Cosine,
        weight_decay: 1e-4,
    };
    device.seed(seed);
    let mut t =
        ClassifierTrainer::new(Mlp::new(&CLASSIFIER_WIDTHS, device), config, train.len(), device)?;
    while !t.finished() {
        t.train_chunk(train, usize::MAX).await?;
    }
    let model = t.into_model();
    let acc = evaluate(&model, test, EVAL_BATCH, device).await?.accuracy;
    Ok((model, acc))
}

/// A trained classifier plus the real test images' statistics, ready to judge generators.
pub struct QualityJudge {
    classifier: Mlp,
    real: FeatureStats,
    dim: usize,
    /// The inception-style score of the real test images: the ceiling generated ones aim for.
    pub real_score: f64,
    samples: usize,
    device: Device,
}

impl QualityJudge {
    /// Measures the first `samples` real test images (all of them if fewer).
    pub async fn new(
        classifier: Mlp,
        real_test: &Dataset,
        samples: usize,
        device: &Device,
    ) -> LabResult<Self> {
        let n = samples.min(real_test.len());
        if n < 2 {
            return Err(LabError::EmptyDataset);
        }
        let images: Vec<f32> = real_test.images.pixels[..n * IMAGE_PIXELS]
            .iter()
            .map(|&p| p as f32 * PIXEL_SCALE)
            .collect();
        let (feats, probs) = features(&classifier, &images, device).await?;
        let dim = feats.len() / n;
        Ok(Self {
            real: FeatureStats::of(&feats, dim)?,
            dim,
            real_score: inception_score(&probs, NUM_CLASSES),
            classifier,
            samples: n,
            device: device.clone(),
        })
    }

    /// Scores images given as `n × 784` values in [-1, 1] (the generator's range).
    pub async fn judge_images(&self, images_pm1: &[f32], epoch: usize) -> LabResult<Quality> {
        let images01: Vec<f32> =
            images_pm1.iter().map(|&v| ((v + 1.0) * 0.5).clamp(0.0, 1.0)).collect();
        let (feats, probs) = features(&self.classifier, &images01, &self.device).await?;
        let stats = FeatureStats::of(&feats, self.dim)?;
        Ok(Quality {
            epoch,
            fid: frechet_distance(&self.real, &stats),
            score: inception_score(&probs, NUM_CLASSES),
        })
    }

    /// Scores as many generated samples as real ones, from latent vectors seeded by the run's
    /// seed (salted, so they are not the canvas's vectors): the CLI and the page draw the same ones.
    pub async fn judge_generator(
        &self,
        g: &Generator,
        run_seed: u64,
        epoch: usize,
    ) -> LabResult<Quality> {
        let noise = SplitMix64::new(run_seed ^ QUALITY_NOISE_SALT)
            .normals(self.samples * crate::lab::gan::LATENT_DIM);
        let images = generate(g, &noise, &self.device).await?;
        self.judge_images(&images, epoch).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gaussian(n: usize, dim: usize, shift: f32, scale: f32, seed: u64) -> Vec<f32> {
        let mut rng = SplitMix64::new(seed);
        (0..n * dim).map(|_| rng.normal() * scale + shift).collect()
    }

    #[test]
    fn frechet_distance_is_zero_for_the_same_set_and_sees_mean_and_spread() {
        let a = FeatureStats::of(&gaussian(4000, 8, 0.0, 1.0, 1), 8).unwrap();
        assert!(frechet_distance(&a, &a) < 1e-6);
        let b = FeatureStats::of(&gaussian(4000, 8, 0.0, 1.0, 2), 8).unwrap();
        assert!(frechet_distance(&a, &b) < 0.1, "two samples of one distribution are close");
        // Shift every coordinate by 1: ‖Δμ‖² = 8.
        let shifted = FeatureStats::of(&gaussian(4000, 8, 1.0, 1.0, 3), 8).unwrap();
        assert!(
            (frechet_distance(&a, &shifted) - 8.0).abs() < 0.5,
            "{}",
            frechet_distance(&a, &shifted)
        );
        // Scale by 2: each of the 8 dimensions adds (2 − 1)² = 1.
        let wide = FeatureStats::of(&gaussian(4000, 8, 0.0, 2.0, 4), 8).unwrap();
        assert!((frechet_distance(&a, &wide) - 8.0).abs() < 0.8, "{}", frechet_distance(&a, &wide));
        assert!(FeatureStats::of(&[1.0; 8], 8).is_err(), "one vector has no covariance");
    }

    #[test]
    fn inception_score_spans_one_to_the_class_count() {
        let confident_all_classes: Vec<f32> = (0..100)
            .flat_map(|i| (0..10).map(move |c| if c == i % 10 { 1.0 } else { 0.0 }))
            .collect();
        assert!((inception_score(&confident_all_classes, 10) - 10.0).abs() < 1e-6);
        let one_class: Vec<f32> =
            (0..100).flat_map(|_| (0..10).map(|c| if c == 3 { 1.0 } else { 0.0 })).collect();
        assert!((inception_score(&one_class, 10) - 1.0).abs() < 1e-6);
        let unsure = vec![0.1f32; 1000];
        assert!((inception_score(&unsure, 10) - 1.0).abs() < 1e-6);
    }
}
