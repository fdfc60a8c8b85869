//! A factorized MLP's weights as named tensors, and back (every shape, rank and value checked):
//! how a refined model leaves the worker, is exported and is imported again.

use std::collections::BTreeMap;

use burn::tensor::Device;

use crate::lab::compress::factorized::{FactorizedLayer, FactorizedMlp};
use crate::lab::compress::ranks::join_ranks;
use crate::lab::core::error::LabResult;
use crate::lab::core::linear::{Matrix, linear_from, linear_tensors};
use crate::lab::core::safetensors::{NamedTensor, WeightsError};

/// A factorized MLP's parameters (`layers.{i}.first.weight`, `layers.{i}.second.{weight,bias}`).
pub async fn factorized_tensors(model: &FactorizedMlp) -> LabResult<Vec<NamedTensor>> {
    let mut out = Vec::new();
    for (i, pair) in model.layers.iter().enumerate() {
        out.extend(linear_tensors(&format!("layers.{i}.first"), &pair.first).await?);
        out.extend(linear_tensors(&format!("layers.{i}.second"), &pair.second).await?);
    }
    Ok(out)
}

/// The safetensors metadata of a factorized model's file: its ranks ("50,25,5") and format.
pub fn factorized_metadata(ranks: &[usize]) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("format".to_string(), "mnist-lab factorized mlp".to_string()),
        ("ranks".to_string(), join_ranks(ranks, ",")),
    ])
}

/// Rebuilds a factorized MLP of the original `widths` (784-100-50-10) from named tensors,
/// refusing a missing or extra tensor, a shape that does not chain, a rank above min(m, n) and
/// any non-finite value. The ranks are read from the shapes.
pub fn factorized_from_tensors(
    tensors: &[NamedTensor],
    widths: &[usize],
    device: &Device,
) -> Result<FactorizedMlp, WeightsError> {
    let get = |name: &str| {
        tensors
            .iter()
            .find(|t| t.name == name)
            .ok_or_else(|| WeightsError::Shape(format!("{name} is missing")))
    };
    let mut layers = Vec::new();
    for (i, w) in widths.windows(2).enumerate() {
        let (m, n) = (w[0], w[1]);
        let first = get(&format!("layers.{i}.first.weight"))?;
        let k = match first.shape[..] {
            [rows, k] if rows == m && k >= 1 && k <= m.min(n) => k,
            [rows, k] if rows == m => {
                return Err(WeightsError::Shape(format!(
                    "layer {} has rank {k}; a {m}×{n} layer allows 1 to {}",
                    i + 1,
                    m.min(n)
                )));
            }
            _ => {
                return Err(WeightsError::Shape(format!(
                    "layers.{i}.first.weight is {:?}, expected [{m}, rank]",
                    first.shape
                )));
            }
        };
        let second = get(&format!("layers.{i}.second.weight"))?;
        if second.shape != [k, n] {
            return Err(WeightsError::Shape(format!(
                "layers.{i}.second.weight is {:?}, expected [{k}, {n}]",
                second.shape
            )));
        }
        let bias = get(&format!("layers.{i}.second.bias"))?;
        if bias.shape != [n] {
            return Err(WeightsError::Shape(format!(
                "layers.{i}.second.bias is {:?}, expected [{n}]",
                bias.shape
            )));
        }
        if first.data.iter().chain(&second.data).chain(&bias.data).any(|x| !x.is_finite()) {
            return Err(WeightsError::Shape(format!(
                "layer {} holds NaN or infinite values",
                i + 1
            )));
        }
        layers.push(FactorizedLayer {
            first: linear_from(
                &Matrix { rows: m, cols: k, data: first.data.clone() },
                None,
                device,
            ),
            second: linear_from(
                &Matrix { rows: k, cols: n, data: second.data.clone() },
                Some(&bias.data),
                device,
            ),
        });
    }
    let expected = 3 * (widths.len() - 1);
    if tensors.len() != expected {
        return Err(WeightsError::Shape(format!(
            "expected {expected} tensors (three per layer), the file has {}",
            tensors.len()
        )));
    }
    Ok(FactorizedMlp::from_layers(layers))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::classifier::mlp::{MLP_WIDTHS, Mlp};
    use crate::lab::compress::factorized::MlpSpectrum;
    use crate::lab::core::safetensors::{decode_safetensors, encode_safetensors};
    use burn::tensor::Tensor;
    use futures_lite::future::block_on;

    fn refined_like() -> (FactorizedMlp, Vec<NamedTensor>) {
        let device = Device::flex();
        device.seed(7);
        let spectrum = block_on(MlpSpectrum::of(&Mlp::new(&MLP_WIDTHS, &device))).unwrap();
        let model = spectrum.build(&[50, 25, 5], &device).unwrap();
        let tensors = block_on(factorized_tensors(&model)).unwrap();
        (model, tensors)
    }

    #[test]
    fn a_factorized_model_round_trips_bit_identically_with_its_ranks() {
        let device = Device::flex();
        let (model, tensors) = refined_like();
        let bytes = encode_safetensors(&tensors, &factorized_metadata(&model.ranks()));
        let (back, meta) = decode_safetensors(&bytes).unwrap();
        assert_eq!(meta.get("ranks").map(String::as_str), Some("50,25,5"));
        let restored = factorized_from_tensors(&back, &MLP_WIDTHS, &device).unwrap();
        assert_eq!(restored.ranks(), vec![50, 25, 5]);
        let x = Tensor::<2>::from_data(
            burn::tensor::TensorData::new(
                (0..784).map(|i| (i % 13) as f32 / 13.0).collect(),
                [1, 784],
            ),
            &device,
        );
        let a = model.forward(x.clone()).into_data().try_into_vec_as::<f32>().unwrap();
        let b = restored.forward(x).into_data().try_into_vec_as::<f32>().unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn mis_shaped_over_ranked_non_finite_and_incomplete_files_are_refused() {
        let device = Device::flex();
        let (_, good) = refined_like();
        let refuse = |tensors: &[NamedTensor], needle: &str| {
            let err = factorized_from_tensors(tensors, &MLP_WIDTHS, &device).unwrap_err();
            assert!(err.to_string().contains(needle), "{err} (wanted {needle:?})");
        };
        // Layer 3 is 50×10: rank 11 is more than it has.
        let mut over = good.clone();
        let i = over.iter().position(|t| t.name == "layers.2.first.weight").unwrap();
        over[i] =
            NamedTensor { name: over[i].name.clone(), shape: vec![50, 11], data: vec![0.0; 550] };
        refuse(&over, "allows 1 to 10");
        // A second factor that does not chain with the first.
        let mut chain = good.clone();
        let i = chain.iter().position(|t| t.name == "layers.0.second.weight").unwrap();
        chain[i] = NamedTensor {
            name: chain[i].name.clone(),
            shape: vec![49, 100],
            data: vec![0.0; 4900],
        };
        refuse(&chain, "expected [50, 100]");
        let mut nan = good.clone();
        nan[0].data[3] = f32::NAN;
        refuse(&nan, "NaN or infinite");
        refuse(&good[1..], "is missing");
        let mut extra = good.clone();
        extra.push(NamedTensor { name: "spare".into(), shape: vec![1], data: vec![0.0] });
        refuse(&extra, "three per layer");
        // The base model's own file is not a factorized one.
        let base =
            block_on(crate::lab::classifier::weights::mlp_tensors(&Mlp::new(&MLP_WIDTHS, &device)))
                .unwrap();
        refuse(&base, "layers.0.first.weight is missing");
    }
}
