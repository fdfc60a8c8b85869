//! The compressed classifier: every dense layer x·W + b replaced by two dense layers,
//! x → x·U' (no bias) → ·Vᵀ + b, with U' = U_k Σ_k and Vᵀ = V_kᵀ from the truncated SVD of W.
//! Weights come from the SVD, never from random initialisation; the bias is copied.

use burn::module::Module;
use burn::nn::{Linear, Relu};
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::lab::data::Dataset;
use crate::lab::train::{PIXEL_SCALE, read_i64};

use crate::lab::error::{LabError, LabResult};
use crate::lab::mlp::Mlp;
use crate::lab::svd::{Svd, check_rank, rank_for_factor};
use crate::lab::train::Classifier;
use crate::lab::weights::{DenseWeights, linear_from, read_linear};

/// One original layer as a pair: `first` is U' (`m×k`, no bias), `second` is Vᵀ (`k×n`, bias).
#[derive(Module, Debug)]
pub struct FactorizedLayer {
    /// x → x·U'.
    pub first: Linear,
    /// → ·Vᵀ + b.
    pub second: Linear,
}

/// The factorized MLP (any rank per layer, full rank included).
#[derive(Module, Debug)]
pub struct FactorizedMlp {
    /// One pair per original dense layer, input side first.
    pub layers: Vec<FactorizedLayer>,
    activation: Relu,
}

impl FactorizedMlp {
    /// Logits for flattened images; ReLU between original layers, not inside a pair.
    pub fn forward(&self, mut x: Tensor<2>) -> Tensor<2> {
        let last = self.layers.len() - 1;
        for (i, pair) in self.layers.iter().enumerate() {
            x = pair.second.forward(pair.first.forward(x));
            if i < last {
                x = self.activation.forward(x);
            }
        }
        x
    }

    /// The rank of each pair.
    pub fn ranks(&self) -> Vec<usize> {
        self.layers.iter().map(|p| p.first.weight.dims()[1]).collect()
    }
}

impl Classifier for FactorizedMlp {
    fn logits(&self, x: Tensor<2>) -> Tensor<2> {
        self.forward(x)
    }
}

/// The SVDs of a trained MLP's layers, computed once and truncated at any ranks: what the rank
/// slider rebuilds from.
#[derive(Debug, Clone)]
pub struct MlpSpectrum {
    /// Per layer: the SVD of W and the layer's bias.
    pub layers: Vec<(Svd, Vec<f32>)>,
}

impl MlpSpectrum {
    /// Reads every layer (async) and decomposes it.
    pub async fn of(mlp: &Mlp) -> LabResult<Self> {
        let mut layers = Vec::new();
        for layer in &mlp.layers {
            let DenseWeights { weight, bias } = read_linear(layer).await?;
            let bias = bias.ok_or_else(|| LabError::InvalidConfig("the base model's layers must have biases".into()))?;
            layers.push((Svd::new(&weight)?, bias));
        }
        Ok(Self { layers })
    }

    /// `(m, n)` of each original layer.
    pub fn shapes(&self) -> Vec<(usize, usize)> {
        self.layers.iter().map(|(s, _)| (s.rows, s.cols)).collect()
    }

    /// The exercise's ranks for a compression factor: k = int(n / f) per layer.
    pub fn ranks_for_factor(&self, factor: f64) -> LabResult<Vec<usize>> {
        self.layers.iter().map(|(s, _)| rank_for_factor(s.cols, factor).map(|k| k.min(s.max_rank()))).collect()
    }

    /// Refuses a rank list that does not have one rank per layer.
    fn check_rank_count(&self, ranks: &[usize]) -> LabResult<()> {
        if ranks.len() != self.layers.len() {
            return Err(LabError::InvalidConfig(format!("need {} ranks (one per layer), got {}", self.layers.len(), ranks.len())));
        }
        Ok(())
    }

    /// Builds the factorized model at these ranks on `device`.
    pub fn build(&self, ranks: &[usize], device: &Device) -> LabResult<FactorizedMlp> {
        self.check_rank_count(ranks)?;
        let mut layers = Vec::new();
        for ((svd, bias), &k) in self.layers.iter().zip(ranks) {
            check_rank(k, svd.rows, svd.cols)?;
            let lr = svd.truncate(k)?;
            layers.push(FactorizedLayer { first: linear_from(&lr.u_sigma, None, device), second: linear_from(&lr.v_t, Some(bias), device) });
        }
        Ok(FactorizedMlp { layers, activation: Relu::new() })
    }
}

impl MlpSpectrum {
    /// The same function as [`build`](Self::build)`(ranks)`, as a plain MLP whose weights are the
    /// products U'Vᵀ (m×n). Its tensor shapes never change with the ranks, so a GPU backend reuses
    /// its compiled kernels while the rank slider moves (a software WebGPU adapter otherwise spends
    /// seconds compiling shaders for every new rank). Counting, summaries, refinement and export
    /// use the real two-layer factorisation.
    pub fn dense_equivalent(&self, ranks: &[usize], device: &Device) -> LabResult<Mlp> {
        self.check_rank_count(ranks)?;
        let mut layers = Vec::new();
        for ((svd, bias), &k) in self.layers.iter().zip(ranks) {
            let lr = svd.truncate(k)?;
            layers.push(linear_from(&lr.u_sigma.matmul(&lr.v_t), Some(bias), device));
        }
        Ok(Mlp::from_layers(layers))
    }
}

/// Test-set accuracy of the factorized model at any ranks, cheaply: what the rank slider calls on
/// every move.
///
/// The first layer dominates the cost (10 000 × 784 × 100 multiply-adds, 90 % of the work). Its
/// truncated product X·U_kΣ_k·V_kᵀ equals (X·UΣ)·M_k·Vᵀ, where M_k keeps the first k of the
/// r singular directions. So the test images are projected once on UΣ (n × r, when the base model
/// loads), and each rank change costs n·r·n₁ for the first layer instead of n·784·n₁ — 5× less
/// work in total. Masking (rather than slicing to k columns) keeps every tensor shape fixed, so a
/// GPU reuses its compiled kernels as the ranks change.
pub struct RankEvaluator {
    projected: Tensor<2>,
    labels: Tensor<1, Int>,
    count: usize,
    device: Device,
}

impl RankEvaluator {
    /// Projects `test` on the first layer's singular directions (one big matmul, done once).
    pub fn new(spectrum: &MlpSpectrum, test: &Dataset, device: &Device) -> LabResult<Self> {
        if test.is_empty() {
            return Err(LabError::EmptyDataset);
        }
        let (svd, _) = spectrum.layers.first().ok_or_else(|| LabError::InvalidConfig("the model has no layers".into()))?;
        let full = svd.truncate(svd.max_rank())?;
        let device = device.clone().without_autodiff();
        let us = Tensor::<2>::from_data(TensorData::new(full.u_sigma.data, [full.u_sigma.rows, full.u_sigma.cols]), &device);
        let indices: Vec<usize> = (0..test.len()).collect();
        let x = test.images_tensor(&indices, PIXEL_SCALE, 0.0, &device);
        Ok(Self { projected: x.matmul(us), labels: test.labels_tensor(&indices, &device), count: test.len(), device })
    }

    /// Accuracy in [0, 1] of the factorized model at `ranks` (one readback).
    pub async fn accuracy(&self, spectrum: &MlpSpectrum, ranks: &[usize]) -> LabResult<f64> {
        spectrum.check_rank_count(ranks)?;
        let d = &self.device;
        let mut x = self.projected.clone();
        let last = ranks.len() - 1;
        for (i, ((svd, bias), &k)) in spectrum.layers.iter().zip(ranks).enumerate() {
            check_rank(k, svd.rows, svd.cols)?;
            let weight = if i == 0 {
                // M_k·Vᵀ: Vᵀ with the rows past k zeroed (r × n).
                let mut vt = svd.truncate(svd.max_rank())?.v_t;
                vt.data[k * vt.cols..].fill(0.0);
                vt
            } else {
                let lr = svd.truncate(k)?;
                lr.u_sigma.matmul(&lr.v_t)
            };
            let w = Tensor::<2>::from_data(TensorData::new(weight.data, [weight.rows, weight.cols]), d);
            let b = Tensor::<1>::from_data(TensorData::new(bias.clone(), [bias.len()]), d);
            x = x.matmul(w) + b.unsqueeze();
            if i < last {
                x = burn::tensor::activation::relu(x);
            }
        }
        let correct = x.argmax(1).squeeze_dim::<1>(1).equal(self.labels.clone()).int().sum();
        Ok(read_i64(correct).await? as f64 / self.count as f64)
    }
}

/// Trainable parameters of a factorized MLP with these layer shapes and ranks.
pub fn params_for(shapes: &[(usize, usize)], ranks: &[usize]) -> usize {
    shapes.iter().zip(ranks).map(|(&(m, n), &k)| crate::lab::svd::factorized_params(m, n, k)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::mlp::MLP_WIDTHS;
    use futures_lite::future::block_on;

    #[test]
    fn the_rank_evaluator_agrees_with_a_full_evaluation() {
        use crate::lab::data::{IMAGE_PIXELS, Images};
        use crate::lab::rng::SplitMix64;
        use crate::lab::train::{EVAL_BATCH, evaluate};
        let device = Device::flex();
        device.seed(3);
        let mlp = Mlp::new(&MLP_WIDTHS, &device);
        let spectrum = block_on(MlpSpectrum::of(&mlp)).unwrap();
        let mut rng = SplitMix64::new(4);
        let n = 700;
        let pixels: Vec<u8> = (0..n * IMAGE_PIXELS).map(|_| (rng.next_u64() % 256) as u8).collect();
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        let test = Dataset::new(Images { count: n, pixels }, labels).unwrap();
        let fast = RankEvaluator::new(&spectrum, &test, &device).unwrap();
        for ranks in [vec![100, 50, 10], vec![50, 25, 5], vec![12, 6, 1], vec![1, 1, 1], vec![7, 50, 3]] {
            let slow = block_on(evaluate(&spectrum.dense_equivalent(&ranks, &device).unwrap(), &test, EVAL_BATCH, &device)).unwrap().accuracy;
            let quick = block_on(fast.accuracy(&spectrum, &ranks)).unwrap();
            // Float sums in another order may flip an exact tie, nothing more.
            assert!((quick - slow).abs() <= 2.0 / n as f64, "ranks {ranks:?}: {quick} vs {slow}");
        }
        assert!(block_on(fast.accuracy(&spectrum, &[0, 1, 1])).is_err());
        assert!(block_on(fast.accuracy(&spectrum, &[1, 1])).is_err());
    }

    fn values(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_into_vec_as::<f32>().unwrap()
    }

    #[test]
    fn full_rank_reproduces_the_base_logits() {
        let device = Device::flex();
        device.seed(5);
        let mlp = Mlp::new(&MLP_WIDTHS, &device);
        let spectrum = block_on(MlpSpectrum::of(&mlp)).unwrap();
        let full = spectrum.build(&[100, 50, 10], &device).unwrap();
        let x = Tensor::<2>::random([16, 784], burn::tensor::Distribution::Uniform(0.0, 1.0), &device);
        let a = values(mlp.forward(x.clone()));
        let b = values(full.forward(x));
        let max = a.iter().zip(&b).map(|(p, q)| (p - q).abs()).fold(0f32, f32::max);
        assert!(max <= 1e-4, "max abs logit difference {max}");
    }

    #[test]
    fn the_dense_equivalent_computes_the_same_logits_at_low_rank() {
        let device = Device::flex();
        device.seed(9);
        let mlp = Mlp::new(&MLP_WIDTHS, &device);
        let spectrum = block_on(MlpSpectrum::of(&mlp)).unwrap();
        let x = Tensor::<2>::random([8, 784], burn::tensor::Distribution::Uniform(0.0, 1.0), &device);
        for ranks in [[12, 6, 1], [50, 25, 5]] {
            let a = values(spectrum.build(&ranks, &device).unwrap().forward(x.clone()));
            let b = values(spectrum.dense_equivalent(&ranks, &device).unwrap().forward(x.clone()));
            let max = a.iter().zip(&b).map(|(p, q)| (p - q).abs()).fold(0f32, f32::max);
            assert!(max <= 1e-4, "ranks {ranks:?}: max abs logit difference {max}");
        }
        assert!(spectrum.dense_equivalent(&[0, 1, 1], &device).is_err());
    }

    #[test]
    fn parameter_counts_match_the_formulas() {
        let device = Device::flex();
        let spectrum = block_on(MlpSpectrum::of(&Mlp::new(&MLP_WIDTHS, &device))).unwrap();
        for (factor, ranks) in [(2.0, [50, 25, 5]), (4.0, [25, 12, 2]), (8.0, [12, 6, 1])] {
            assert_eq!(spectrum.ranks_for_factor(factor).unwrap(), ranks.to_vec());
            let model = spectrum.build(&ranks, &device).unwrap();
            let expected: usize = [(784, 100), (100, 50), (50, 10)]
                .iter()
                .zip(ranks)
                .map(|(&(m, n), k)| m * k + k * n + n)
                .sum();
            assert_eq!(model.num_params(), expected);
            assert_eq!(params_for(&spectrum.shapes(), &ranks), expected);
            assert_eq!(model.ranks(), ranks.to_vec());
        }
    }

    #[test]
    fn bad_ranks_are_typed_errors() {
        let device = Device::flex();
        let spectrum = block_on(MlpSpectrum::of(&Mlp::new(&MLP_WIDTHS, &device))).unwrap();
        assert!(matches!(spectrum.build(&[0, 25, 5], &device), Err(LabError::InvalidConfig(_))));
        assert!(matches!(spectrum.build(&[101, 25, 5], &device), Err(LabError::InvalidConfig(_))));
        assert!(matches!(spectrum.build(&[50, 25], &device), Err(LabError::InvalidConfig(_))));
        assert!(matches!(spectrum.ranks_for_factor(0.0), Err(LabError::InvalidConfig(_))));
    }
}
