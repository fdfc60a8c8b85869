//! The compressed classifier: every dense layer x·W + b replaced by two dense layers,
//! x → x·U' (no bias) → ·Vᵀ + b, with U' = U_k Σ_k and Vᵀ = V_kᵀ from the truncated SVD of W.
//! Weights come from the SVD, never from random initialisation; the bias is copied.

use burn::module::Module;
use burn::nn::{Linear, Relu};
use burn::tensor::{Device, Tensor};

use crate::lab::classifier::mlp::{Classifier, Mlp};
use crate::lab::compress::ranks::{
    RankRule, budget_ranks, check_rank, params_for, rank_for_factor,
};
use crate::lab::compress::svd::Svd;
use crate::lab::core::error::{LabError, LabResult};
use crate::lab::core::kernels::DenseLayer;
use crate::lab::core::linear::{DenseWeights, linear_from, read_linear};

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

    /// A factorized MLP from its layer pairs (ReLU between pairs).
    pub fn from_layers(layers: Vec<FactorizedLayer>) -> Self {
        Self { layers, activation: Relu::new() }
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

    /// U' then Vᵀ for each pair, ReLU after a pair's Vᵀ except the last (as [`Self::forward`]).
    fn dense_layers(&self) -> Option<Vec<DenseLayer<'_>>> {
        let last = self.layers.len().checked_sub(1)?;
        let mut out = Vec::with_capacity(2 * self.layers.len());
        for (i, pair) in self.layers.iter().enumerate() {
            out.push(DenseLayer { linear: &pair.first, relu: false });
            out.push(DenseLayer { linear: &pair.second, relu: i < last });
        }
        Some(out)
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
            let bias = bias.ok_or_else(|| {
                LabError::InvalidConfig("the base model's layers must have biases".into())
            })?;
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
        self.layers
            .iter()
            .map(|(s, _)| rank_for_factor(s.cols, factor).map(|k| k.min(s.max_rank())))
            .collect()
    }

    /// Ranks for a compression factor under a rule: the seed's k = int(n/f), or the same
    /// parameter budget spread by retained energy ([`budget_ranks`]).
    pub fn ranks_for(&self, rule: RankRule, factor: f64) -> LabResult<Vec<usize>> {
        let seed = self.ranks_for_factor(factor)?;
        Ok(match rule {
            RankRule::Seed => seed,
            RankRule::Budget => {
                let budget = params_for(&self.shapes(), &seed);
                let layers: Vec<(usize, usize, &[f64])> = self
                    .layers
                    .iter()
                    .map(|(s, _)| (s.rows, s.cols, s.singular_values.as_slice()))
                    .collect();
                budget_ranks(&layers, budget)
            }
        })
    }

    /// Refuses a rank list that does not have one rank per layer.
    pub(crate) fn check_rank_count(&self, ranks: &[usize]) -> LabResult<()> {
        if ranks.len() != self.layers.len() {
            return Err(LabError::InvalidConfig(format!(
                "need {} ranks (one per layer), got {}",
                self.layers.len(),
                ranks.len()
            )));
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
            layers.push(FactorizedLayer {
                first: linear_from(&lr.u_sigma, None, device),
                second: linear_from(&lr.v_t, Some(bias), device),
            });
        }
        Ok(FactorizedMlp::from_layers(layers))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::classifier::mlp::MLP_WIDTHS;
    use crate::lab::compress::evaluator::RankEvaluator;
    use crate::lab::compress::ranks::params_for;
    use crate::lab::data::Dataset;
    use futures_lite::future::block_on;

    #[test]
    fn the_rank_evaluator_agrees_with_a_full_evaluation() {
        use crate::lab::classifier::eval::{EVAL_BATCH, evaluate};
        use crate::lab::core::rng::SplitMix64;
        use crate::lab::data::{IMAGE_PIXELS, Images};
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
        for ranks in
            [vec![100, 50, 10], vec![50, 25, 5], vec![12, 6, 1], vec![1, 1, 1], vec![7, 50, 3]]
        {
            let slow = block_on(evaluate(
                &spectrum.dense_equivalent(&ranks, &device).unwrap(),
                &test,
                EVAL_BATCH,
                &device,
            ))
            .unwrap()
            .accuracy;
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
        let x =
            Tensor::<2>::random([16, 784], burn::tensor::Distribution::Uniform(0.0, 1.0), &device);
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
        let x =
            Tensor::<2>::random([8, 784], burn::tensor::Distribution::Uniform(0.0, 1.0), &device);
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
