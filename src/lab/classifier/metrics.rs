//! Classification metrics: accuracy and the 10×10 confusion matrix.

use serde::{Deserialize, Serialize};

use crate::lab::data::NUM_CLASSES;

/// Counts of (true class, predicted class): rows are the truth, columns the prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ConfusionMatrix(pub [[u32; NUM_CLASSES]; NUM_CLASSES]);

impl ConfusionMatrix {
    /// Tallies predictions against labels (pairs beyond the shorter slice are ignored).
    pub fn from_predictions(labels: &[u8], predictions: &[u8]) -> Self {
        let mut m = [[0u32; NUM_CLASSES]; NUM_CLASSES];
        for (&t, &p) in labels.iter().zip(predictions) {
            if (t as usize) < NUM_CLASSES && (p as usize) < NUM_CLASSES {
                m[t as usize][p as usize] += 1;
            }
        }
        Self(m)
    }

    /// How many items were counted.
    pub fn total(&self) -> u32 {
        self.0.iter().flatten().sum()
    }

    /// Items on the diagonal over all items (0 when empty).
    pub fn accuracy(&self) -> f64 {
        let correct: u32 = (0..NUM_CLASSES).map(|i| self.0[i][i]).sum();
        let total = self.total();
        if total == 0 { 0.0 } else { correct as f64 / total as f64 }
    }

    /// Items of each true class: each row's sum.
    pub fn row_sums(&self) -> [u32; NUM_CLASSES] {
        self.0.map(|row| row.iter().sum())
    }

    /// Each row divided by its sum: the fraction of each class predicted as each class.
    pub fn row_normalised(&self) -> [[f64; NUM_CLASSES]; NUM_CLASSES] {
        let sums = self.row_sums();
        let mut out = [[0.0; NUM_CLASSES]; NUM_CLASSES];
        for (i, row) in self.0.iter().enumerate() {
            for (j, &c) in row.iter().enumerate() {
                out[i][j] = if sums[i] == 0 { 0.0 } else { c as f64 / sums[i] as f64 };
            }
        }
        out
    }
}

/// One epoch's numbers, as the exercise asks for them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// 1-based.
    pub epoch: usize,
    /// Mean training loss over the epoch (as the weights moved).
    #[serde(with = "crate::lab::core::finite::kept")]
    pub train_loss: f64,
    /// Training accuracy over the epoch, in [0, 1].
    #[serde(with = "crate::lab::core::finite::kept")]
    pub train_acc: f64,
    /// Test-set loss after the epoch.
    #[serde(with = "crate::lab::core::finite::kept")]
    pub test_loss: f64,
    /// Test-set accuracy after the epoch, in [0, 1].
    #[serde(with = "crate::lab::core::finite::kept")]
    pub test_acc: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_accuracy_and_rows() {
        let labels = [0, 0, 1, 2, 2, 2];
        let preds = [0, 1, 1, 2, 2, 0];
        let m = ConfusionMatrix::from_predictions(&labels, &preds);
        assert_eq!(m.total(), 6);
        assert_eq!(m.0[0], [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(m.row_sums()[2], 3);
        assert!((m.accuracy() - 4.0 / 6.0).abs() < 1e-12);
        assert!((m.row_normalised()[2][0] - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(ConfusionMatrix::default().accuracy(), 0.0);
    }
}
