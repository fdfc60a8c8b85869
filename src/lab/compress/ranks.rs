//! Rank rules (k = int(n/f), the rank limits, parameter counts) and the rank slider's fast
//! evaluator.

use serde::{Deserialize, Serialize};

use crate::lab::core::error::{LabError, LabResult};

/// Refuses rank 0 and ranks above min(m, n).
pub fn check_rank(k: usize, m: usize, n: usize) -> LabResult<()> {
    if k == 0 || k > m.min(n) {
        return Err(LabError::InvalidConfig(format!(
            "rank must be between 1 and min({m}, {n}) = {}, got {k}",
            m.min(n)
        )));
    }
    Ok(())
}

/// The exercise's rank for compression factor `f`: k = int(n / f), at least 1.
pub fn rank_for_factor(n: usize, factor: f64) -> LabResult<usize> {
    if !factor.is_finite() || factor < 1.0 {
        return Err(LabError::InvalidConfig(format!(
            "the compression factor must be a number ≥ 1, got {factor}"
        )));
    }
    Ok(((n as f64 / factor).floor() as usize).max(1))
}

/// Parameters of a rank-k pair replacing an `m×n` layer with bias: mk + kn + n.
pub fn factorized_params(m: usize, n: usize, k: usize) -> usize {
    m * k + k * n + n
}

/// The rank below which a factorisation saves parameters: k < mn / (m + n).
pub fn break_even_rank(m: usize, n: usize) -> f64 {
    (m * n) as f64 / (m + n) as f64
}

/// Trainable parameters of a factorized MLP with these layer shapes and ranks.
pub fn params_for(shapes: &[(usize, usize)], ranks: &[usize]) -> usize {
    shapes
        .iter()
        .zip(ranks)
        .map(|(&(m, n), &k)| crate::lab::compress::ranks::factorized_params(m, n, k))
        .sum()
}

/// A point of the accuracy-vs-parameters curve (no refinement).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankPoint {
    /// Compression factor.
    pub factor: f64,
    /// Ranks at that factor.
    pub ranks: Vec<usize>,
    /// Parameters.
    pub params: usize,
    /// Test accuracy right after the SVD.
    pub test_acc: f64,
}
