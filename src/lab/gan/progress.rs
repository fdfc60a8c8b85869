//! What a GAN run reports: per chunk of batches (losses, D's outputs) and per epoch (means,
//! per-layer norms), for the page's live charts and the report.

use serde::{Deserialize, Serialize};

use crate::lab::core::params::LayerNorm;

/// What one chunk of batches measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GanChunk {
    /// The epoch these batches belong to (1-based).
    pub epoch: usize,
    /// Batches done in that epoch so far.
    pub batch_in_epoch: usize,
    /// Batches in an epoch.
    pub batches_per_epoch: usize,
    /// Mean D loss over the chunk's batches.
    #[serde(with = "crate::lab::core::finite::kept")]
    pub d_loss: f64,
    /// Mean G loss over the chunk's batches.
    #[serde(with = "crate::lab::core::finite::kept")]
    pub g_loss: f64,
    /// Mean D(x) on real images in the D steps.
    #[serde(with = "crate::lab::core::finite::kept")]
    pub d_real: f64,
    /// Mean D(G(z)) on fake images in the D steps.
    #[serde(with = "crate::lab::core::finite::kept")]
    pub d_fake: f64,
    /// Batches in this chunk.
    pub batches: usize,
    /// Set when the chunk finished an epoch.
    pub finished_epoch: Option<GanEpoch>,
}

/// One epoch's numbers, as the exercise asks for them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GanEpoch {
    /// 1-based.
    pub epoch: usize,
    /// Mean D loss over the epoch's batches.
    #[serde(with = "crate::lab::core::finite::kept")]
    pub d_loss: f64,
    /// Mean G loss.
    #[serde(with = "crate::lab::core::finite::kept")]
    pub g_loss: f64,
    /// Mean D(real).
    #[serde(with = "crate::lab::core::finite::kept")]
    pub d_real: f64,
    /// Mean D(fake) in the D steps.
    #[serde(with = "crate::lab::core::finite::kept")]
    pub d_fake: f64,
    /// Per-layer norms of G (mean over the epoch's samples).
    pub g_norms: Vec<LayerNorm>,
    /// Per-layer norms of D.
    pub d_norms: Vec<LayerNorm>,
}
