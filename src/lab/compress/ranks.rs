//! Rank rules (k = int(n/f), the rank limits, parameter counts) and the rank slider's fast
//! evaluator.

use serde::{Deserialize, Serialize};

use crate::lab::core::error::{LabError, LabResult};

/// Factors of the page's accuracy-vs-parameters curve (the slider's range and a few beyond).
pub const SWEEP_FACTORS: [f64; 10] = [1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 50.0];

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

/// Ranks as text, as labels, file names, metadata and share links write them:
/// `join_ranks(&[50, 25, 5], ", ")` is "50, 25, 5".
pub fn join_ranks(ranks: &[usize], sep: &str) -> String {
    ranks.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(sep)
}

/// How ranks are chosen for a compression factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum RankRule {
    /// The exercise's k = int(n/f) per layer.
    #[default]
    Seed,
    /// The same parameter count as the seed rule at that factor, spread over the layers to keep
    /// the most spectral energy ([`budget_ranks`]).
    Budget,
}

impl RankRule {
    /// How reports and legends name a factor under this rule: "2×", "2× budget".
    pub fn factor_label(self, factor: f64) -> String {
        match self {
            RankRule::Seed => format!("{factor}×"),
            RankRule::Budget => format!("{factor}× budget"),
        }
    }

    /// How file names tell a factor's runs apart: "2x", "2x-budget".
    pub fn file_stem(self, factor: f64) -> String {
        match self {
            RankRule::Seed => format!("{factor}x"),
            RankRule::Budget => format!("{factor}x-budget"),
        }
    }

    /// `seed` / `budget`, as the CLI flag and the page's select write it.
    pub fn slug(self) -> &'static str {
        match self {
            RankRule::Seed => "seed",
            RankRule::Budget => "budget",
        }
    }

    /// The rule named by a slug.
    pub fn parse(s: &str) -> LabResult<Self> {
        match s {
            "seed" => Ok(RankRule::Seed),
            "budget" => Ok(RankRule::Budget),
            other => Err(LabError::InvalidConfig(format!(
                "the rank rule is seed or budget, got {other:?}"
            ))),
        }
    }
}

/// Per-layer ranks within `budget` parameters (the factorized layers' weights and biases, as
/// [`params_for`] counts them) that keep the most spectral energy, each layer's energy counted
/// as a fraction of its own total (layers differ in scale, and a layer with little energy kept
/// starves every layer after it). Greedy: from rank 1 everywhere, repeatedly raise the rank
/// whose next singular value adds the most retained fraction per parameter it costs (m + n),
/// while the budget allows. Gains shrink with the rank (σ is sorted), so the greedy order is
/// the one a fractional knapsack would take. `layers` holds `(m, n, singular values)`.
pub fn budget_ranks(layers: &[(usize, usize, &[f64])], budget: usize) -> Vec<usize> {
    let mut ranks = vec![1; layers.len()];
    let shapes: Vec<(usize, usize)> = layers.iter().map(|&(m, n, _)| (m, n)).collect();
    let mut used = params_for(&shapes, &ranks);
    let totals: Vec<f64> = layers
        .iter()
        .map(|(_, _, s)| s.iter().map(|v| v * v).sum::<f64>().max(f64::MIN_POSITIVE))
        .collect();
    loop {
        let best = layers
            .iter()
            .enumerate()
            .filter(|&(l, &(m, n, s))| ranks[l] < m.min(n).min(s.len()) && used + m + n <= budget)
            .map(|(l, &(m, n, s))| (l, s[ranks[l]].powi(2) / totals[l] / (m + n) as f64))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match best {
            Some((l, gain)) if gain > 0.0 => {
                ranks[l] += 1;
                used += shapes[l].0 + shapes[l].1;
            }
            _ => return ranks,
        }
    }
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
    /// How the ranks were chosen.
    #[serde(default)]
    pub rule: RankRule,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_ranks_stay_within_the_budget_and_follow_the_energy() {
        // Layer 0: energy spread over many values; layer 1: almost all in its first value.
        let flat: Vec<f64> = vec![1.0; 20];
        let steep: Vec<f64> = (0..10).map(|i| if i == 0 { 10.0 } else { 0.01 }).collect();
        let layers = [(30, 20, &flat[..]), (20, 10, &steep[..])];
        let shapes = [(30, 20), (20, 10)];
        let budget = params_for(&shapes, &[5, 5]);
        let ranks = budget_ranks(&layers, budget);
        assert!(params_for(&shapes, &ranks) <= budget, "{ranks:?}");
        assert_eq!(ranks[1], 1, "the steep layer keeps its energy at rank 1: {ranks:?}");
        assert!(ranks[0] > 5, "the budget goes to the flat layer: {ranks:?}");
        // Nothing fits beyond rank 1: rank 1 everywhere; ranks never pass min(m, n).
        assert_eq!(budget_ranks(&layers, 0), vec![1, 1]);
        assert_eq!(budget_ranks(&layers, usize::MAX), vec![20, 10], "up to min(m, n)");
        // A dead direction (σ = 0) is worth nothing, whatever the budget.
        let dead: Vec<f64> = (0..10).map(|i| if i < 3 { 1.0 } else { 0.0 }).collect();
        assert_eq!(budget_ranks(&[(20, 10, &dead[..])], usize::MAX), vec![3]);
        assert_eq!(RankRule::parse("budget").unwrap(), RankRule::Budget);
        assert!(RankRule::parse("best").is_err());
    }
}
