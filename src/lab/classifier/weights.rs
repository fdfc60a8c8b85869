//! The MLP's weights as named tensors, and back (with every shape and value checked).

use burn::tensor::Device;

use crate::lab::classifier::mlp::Mlp;
use crate::lab::core::error::LabResult;
use crate::lab::core::linear::{Matrix, linear_from, linear_tensors};
use crate::lab::core::safetensors::{NamedTensor, WeightsError};

/// The MLP's parameters as named tensors (`layers.{i}.weight`, `layers.{i}.bias`).
pub async fn mlp_tensors(mlp: &Mlp) -> LabResult<Vec<NamedTensor>> {
    let mut out = Vec::new();
    for (i, layer) in mlp.layers.iter().enumerate() {
        out.extend(linear_tensors(&format!("layers.{i}"), layer).await?);
    }
    Ok(out)
}

/// Rebuilds an MLP of the expected widths from named tensors, refusing any mismatch.
pub fn mlp_from_tensors(
    tensors: &[NamedTensor],
    widths: &[usize],
    device: &Device,
) -> Result<Mlp, WeightsError> {
    let get = |name: &str| tensors.iter().find(|t| t.name == name);
    let mut layers = Vec::new();
    for (i, w) in widths.windows(2).enumerate() {
        let (m, n) = (w[0], w[1]);
        let weight = get(&format!("layers.{i}.weight"))
            .ok_or_else(|| WeightsError::Shape(format!("layers.{i}.weight is missing")))?;
        if weight.shape != [m, n] {
            return Err(WeightsError::Shape(format!(
                "layers.{i}.weight is {:?}, expected [{m}, {n}]",
                weight.shape
            )));
        }
        let bias = get(&format!("layers.{i}.bias"))
            .ok_or_else(|| WeightsError::Shape(format!("layers.{i}.bias is missing")))?;
        if bias.shape != [n] {
            return Err(WeightsError::Shape(format!(
                "layers.{i}.bias is {:?}, expected [{n}]",
                bias.shape
            )));
        }
        if weight.data.iter().chain(&bias.data).any(|x| !x.is_finite()) {
            return Err(WeightsError::Shape(format!("layer {i} holds NaN or infinite values")));
        }
        let matrix = Matrix { rows: m, cols: n, data: weight.data.clone() };
        layers.push(linear_from(&matrix, Some(&bias.data), device));
    }
    let expected = 2 * (widths.len() - 1);
    if tensors.len() != expected {
        return Err(WeightsError::Shape(format!(
            "expected {expected} tensors, the file has {}",
            tensors.len()
        )));
    }
    Ok(Mlp::from_layers(layers))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::classifier::mlp::MLP_WIDTHS;
    use crate::lab::core::safetensors::{decode_safetensors, encode_safetensors};
    use burn::tensor::Tensor;
    use futures_lite::future::block_on;
    use std::collections::BTreeMap;

    #[test]
    fn mlp_round_trips_bit_identically_through_safetensors() {
        let device = Device::flex();
        let mlp = Mlp::new(&MLP_WIDTHS, &device);
        let tensors = block_on(mlp_tensors(&mlp)).unwrap();
        let meta = BTreeMap::from([("seed".to_string(), "42".to_string())]);
        let bytes = encode_safetensors(&tensors, &meta);
        let (back, meta_back) = decode_safetensors(&bytes).unwrap();
        assert_eq!(meta_back, meta);
        let restored = mlp_from_tensors(&back, &MLP_WIDTHS, &device).unwrap();
        let x = Tensor::<2>::ones([2, 784], &device);
        let a = mlp.forward(x.clone()).into_data().try_into_vec_as::<f32>().unwrap();
        let b = restored.forward(x).into_data().try_into_vec_as::<f32>().unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn corrupt_and_mismatched_files_are_refused() {
        let device = Device::flex();
        assert!(matches!(decode_safetensors(b"abc"), Err(WeightsError::Format(_))));
        assert!(matches!(decode_safetensors(&[255; 16]), Err(WeightsError::Format(_))));
        let t =
            NamedTensor { name: "layers.0.weight".into(), shape: vec![3, 2], data: vec![0.0; 6] };
        let mut bytes = encode_safetensors(std::slice::from_ref(&t), &BTreeMap::new());
        bytes.truncate(bytes.len() - 4);
        assert!(matches!(decode_safetensors(&bytes), Err(WeightsError::Format(_))));
        let (tensors, _) = decode_safetensors(&encode_safetensors(&[t], &BTreeMap::new())).unwrap();
        let err = mlp_from_tensors(&tensors, &MLP_WIDTHS, &device).unwrap_err();
        assert!(err.to_string().contains("expected [784, 100]"), "{err}");
    }
}
