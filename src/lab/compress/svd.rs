//! Truncated SVD of a weight matrix, on the CPU with nalgebra.
//!
//! burn's own `linalg::svd` reads tensors synchronously, which panics on WebGPU, so weights are
//! read with async readbacks (see `weights`), factorised here in f64, and written back as tensors.

use nalgebra::DMatrix;

use crate::lab::compress::ranks::check_rank;
use crate::lab::core::error::{LabError, LabResult};
use crate::lab::core::linear::Matrix;

/// The full SVD W = U Σ Vᵀ of one weight matrix, singular values in decreasing order.
#[derive(Debug, Clone, PartialEq)]
pub struct Svd {
    /// W's shape.
    pub rows: usize,
    /// W's shape.
    pub cols: usize,
    /// U: `rows × r` with r = min(rows, cols).
    u: DMatrix<f64>,
    /// σ₁ ≥ σ₂ ≥ … ≥ σ_r ≥ 0.
    pub singular_values: Vec<f64>,
    /// Vᵀ: `r × cols`.
    v_t: DMatrix<f64>,
}

/// A rank-k factorisation W ≈ U' Vᵀ with U' = U_k Σ_k (`m×k`) and V_kᵀ (`k×n`).
#[derive(Debug, Clone, PartialEq)]
pub struct LowRank {
    /// U' = U_k Σ_k, `m × k`: the first (bias-free) dense layer.
    pub u_sigma: Matrix,
    /// V_kᵀ, `k × n`: the second dense layer (which gets the original bias).
    pub v_t: Matrix,
}

impl Svd {
    /// Decomposes `w` (any shape with no zero side and finite values).
    pub fn new(w: &Matrix) -> LabResult<Self> {
        if w.rows == 0 || w.cols == 0 {
            return Err(LabError::InvalidConfig("cannot factorise an empty matrix".into()));
        }
        if w.data.iter().any(|x| !x.is_finite()) {
            return Err(LabError::NonFinite { what: "weight matrix", value: f32::NAN, epoch: 0 });
        }
        let m = DMatrix::from_row_iterator(w.rows, w.cols, w.data.iter().map(|&x| x as f64));
        let svd = nalgebra::linalg::SVD::new(m, true, true); // sorted, decreasing
        let (Some(u), Some(v_t)) = (svd.u, svd.v_t) else {
            return Err(LabError::Device("the SVD did not converge".into()));
        };
        Ok(Self {
            rows: w.rows,
            cols: w.cols,
            u,
            singular_values: svd.singular_values.iter().copied().collect(),
            v_t,
        })
    }

    /// The largest rank a factorisation can have: min(m, n).
    pub fn max_rank(&self) -> usize {
        self.singular_values.len()
    }

    /// The rank-k factors. `k` must be in 1..=min(m, n).
    pub fn truncate(&self, k: usize) -> LabResult<LowRank> {
        check_rank(k, self.rows, self.cols)?;
        let mut us = Vec::with_capacity(self.rows * k);
        for i in 0..self.rows {
            for j in 0..k {
                us.push((self.u[(i, j)] * self.singular_values[j]) as f32);
            }
        }
        let mut vt = Vec::with_capacity(k * self.cols);
        for i in 0..k {
            for j in 0..self.cols {
                vt.push(self.v_t[(i, j)] as f32);
            }
        }
        Ok(LowRank {
            u_sigma: Matrix { rows: self.rows, cols: k, data: us },
            v_t: Matrix { rows: k, cols: self.cols, data: vt },
        })
    }

    /// ‖W − W_k‖_F by Eckart–Young: the root of the discarded squared singular values.
    pub fn truncation_error(&self, k: usize) -> f64 {
        self.singular_values.iter().skip(k).map(|s| s * s).sum::<f64>().sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::compress::ranks::break_even_rank;
    use crate::lab::compress::ranks::factorized_params;
    use crate::lab::compress::ranks::rank_for_factor;
    use crate::lab::core::rng::SplitMix64;

    fn random(rows: usize, cols: usize, seed: u64) -> Matrix {
        let mut rng = SplitMix64::new(seed);
        let data =
            (0..rows * cols).map(|_| (rng.next_u64() % 2000) as f32 / 1000.0 - 1.0).collect();
        Matrix::new(rows, cols, data).unwrap()
    }

    #[test]
    fn eckart_young_and_shapes_for_every_layer_shape() {
        for (m, n) in [(784, 100), (100, 50), (50, 10)] {
            let w = random(m, n, (m * n) as u64);
            let svd = Svd::new(&w).unwrap();
            assert_eq!(svd.max_rank(), m.min(n));
            assert!(svd.singular_values.windows(2).all(|p| p[0] >= p[1]), "non-increasing");
            for k in [1, n / 4, n / 2, n] {
                let k = k.max(1);
                let lr = svd.truncate(k).unwrap();
                assert_eq!((lr.u_sigma.rows, lr.u_sigma.cols), (m, k));
                assert_eq!((lr.v_t.rows, lr.v_t.cols), (k, n));
                let err = w.frobenius_distance(&lr.u_sigma.matmul(&lr.v_t));
                let expected = svd.truncation_error(k);
                let scale = expected.max(1e-3 * svd.singular_values[0]);
                assert!(
                    (err - expected).abs() <= 1e-4 * scale.max(1.0),
                    "{m}×{n} k={k}: {err} vs {expected}"
                );
            }
        }
    }

    #[test]
    fn full_rank_reconstructs() {
        let w = random(20, 7, 3);
        let lr = Svd::new(&w).unwrap().truncate(7).unwrap();
        assert!(w.frobenius_distance(&lr.u_sigma.matmul(&lr.v_t)) < 1e-4);
    }

    #[test]
    fn ranks_factors_and_counts() {
        assert_eq!([100, 50, 10].map(|n| rank_for_factor(n, 2.0).unwrap()), [50, 25, 5]);
        assert_eq!([100, 50, 10].map(|n| rank_for_factor(n, 4.0).unwrap()), [25, 12, 2]);
        assert_eq!([100, 50, 10].map(|n| rank_for_factor(n, 8.0).unwrap()), [12, 6, 1]);
        assert_eq!(rank_for_factor(10, 16.0).unwrap(), 1);
        assert_eq!(factorized_params(784, 100, 50), 784 * 50 + 50 * 100 + 100);
        assert!((break_even_rank(50, 10) - 500.0 / 60.0).abs() < 1e-12);
    }

    #[test]
    fn bad_ranks_and_factors_are_typed_errors() {
        let svd = Svd::new(&random(5, 3, 1)).unwrap();
        assert!(matches!(svd.truncate(0), Err(LabError::InvalidConfig(_))));
        assert!(matches!(svd.truncate(4), Err(LabError::InvalidConfig(_))));
        assert!(matches!(rank_for_factor(100, 0.0), Err(LabError::InvalidConfig(_))));
        assert!(matches!(rank_for_factor(100, f64::NAN), Err(LabError::InvalidConfig(_))));
        assert!(matches!(Matrix::new(2, 2, vec![1.0]), Err(LabError::InvalidConfig(_))));
        let nan = Matrix::new(1, 2, vec![1.0, f32::NAN]).unwrap();
        assert!(matches!(Svd::new(&nan), Err(LabError::NonFinite { .. })));
    }
}
