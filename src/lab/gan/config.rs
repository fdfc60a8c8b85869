//! A GAN run's hyper-parameters and their validation.

use serde::{Deserialize, Serialize};

use crate::lab::core::error::{LabResult, check_count, check_range};
use crate::lab::gan::models::GanArch;

/// Hyper-parameters of a GAN run, with the stabilisers the page exposes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GanConfig {
    /// Dense or convolutional networks.
    pub arch: GanArch,
    /// Passes over the training set.
    pub epochs: usize,
    /// Real images per step (D sees twice as many: real and fake).
    pub batch_size: usize,
    /// Adam learning rate of the generator.
    pub lr_g: f64,
    /// Adam learning rate of the discriminator.
    pub lr_d: f64,
    /// Adam β₁ for both (0.5, as in the DCGAN paper: less momentum in a moving game).
    pub beta1: f64,
    /// Real 0.9 / fake 0.1 targets in the D step, so D cannot become arbitrarily confident.
    pub soft_labels: bool,
    /// Instance noise: σ of Gaussian noise added to every image D sees (0 = off).
    pub noise: f64,
    /// Epochs over which σ falls linearly to 0 (0 = over the whole run).
    pub noise_anneal_epochs: usize,
    /// Seeds the weights, the shuffles, the latent vectors and the fixed sample noise.
    pub seed: u64,
}

impl Default for GanConfig {
    fn default() -> Self {
        Self {
            arch: GanArch::Dense,
            epochs: 100,
            batch_size: 128,
            lr_g: 2e-4,
            lr_d: 2e-4,
            beta1: 0.5,
            soft_labels: false,
            noise: 0.0,
            noise_anneal_epochs: 0,
            seed: 42,
        }
    }
}

impl GanConfig {
    /// Refuses settings that cannot train (NaN rates, a batch too small for batch norm, σ < 0, …).
    pub fn validate(&self) -> LabResult<()> {
        check_count("epochs", self.epochs, 1, 10_000)?;
        // Batch norm in G needs at least two images to have a batch variance.
        check_count("batch size", self.batch_size, 2, 4_096)?;
        check_range("generator learning rate", self.lr_g, 0.0, 1.0, false)?;
        check_range("discriminator learning rate", self.lr_d, 0.0, 1.0, false)?;
        check_range("Adam β₁", self.beta1, 0.0, 0.999, true)?;
        check_range("instance noise σ", self.noise, 0.0, 10.0, true)?;
        check_count("noise anneal epochs", self.noise_anneal_epochs, 0, 10_000)?;
        Ok(())
    }

    /// Instance-noise σ during `epoch` (1-based): linear from `noise` to 0.
    pub fn noise_at(&self, epoch: usize) -> f64 {
        let span =
            if self.noise_anneal_epochs == 0 { self.epochs } else { self.noise_anneal_epochs };
        self.noise * (1.0 - (epoch.saturating_sub(1) as f64 / span.max(1) as f64)).max(0.0)
    }

    /// The stabilisers in use, in words, for the report.
    pub fn stabilisers(&self) -> Vec<String> {
        let mut s = vec![
            format!("Adam β₁ = {}", self.beta1),
            "dropout 0.3 in D".to_string(),
            "batch norm in G".to_string(),
        ];
        if self.lr_g != self.lr_d {
            s.push(format!("separate learning rates (G {}, D {})", self.lr_g, self.lr_d));
        }
        if self.soft_labels {
            s.push("soft labels (real 0.9, fake 0.1) in the D step".into());
        }
        if self.noise > 0.0 {
            let span =
                if self.noise_anneal_epochs == 0 { self.epochs } else { self.noise_anneal_epochs };
            s.push(format!(
                "instance noise σ = {} on D's inputs, falling linearly to 0 over {span} epochs",
                self.noise
            ));
        }
        s
    }
}
