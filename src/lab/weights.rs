//! Moving weights between tensors and bytes: async readbacks of layers, and the safetensors
//! format (a standard one other tools read) with strict validation on the way in.
//!
//! `Module::into_record` reads synchronously and panics on WebGPU, so every read here is async.

use std::collections::BTreeMap;

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor, TensorData};

use crate::lab::error::{LabError, LabResult};
use crate::lab::mlp::Mlp;
use crate::lab::svd::Matrix;

/// Reads a float tensor's values without blocking.
pub async fn read_values<const D: usize>(t: Tensor<D>) -> LabResult<Vec<f32>> {
    let data = t.into_data_async().await.map_err(LabError::device)?;
    data.try_into_vec_as::<f32>().map_err(|e| LabError::device(format!("{e:?}")))
}

/// A dense layer's weight (`inputs × outputs`) and bias, on the CPU.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseWeights {
    /// `[inputs, outputs]`, as burn's `Linear` stores it.
    pub weight: Matrix,
    /// One per output, if the layer has a bias.
    pub bias: Option<Vec<f32>>,
}

/// Reads a `Linear` layer's parameters (async: safe on WebGPU).
pub async fn read_linear(layer: &Linear) -> LabResult<DenseWeights> {
    let [rows, cols] = layer.weight.dims();
    let weight = Matrix::new(rows, cols, read_values(layer.weight.val()).await?)?;
    let bias = match &layer.bias {
        Some(b) => Some(read_values(b.val()).await?),
        None => None,
    };
    Ok(DenseWeights { weight, bias })
}

/// Builds a `Linear` layer holding exactly these values.
pub fn linear_from(weight: &Matrix, bias: Option<&[f32]>, device: &Device) -> Linear {
    let w = Tensor::from_data(TensorData::new(weight.data.clone(), [weight.rows, weight.cols]), device);
    let b = bias.map(|b| Param::from_tensor(Tensor::from_data(TensorData::new(b.to_vec(), [b.len()]), device)));
    Linear { weight: Param::from_tensor(w), bias: b }
}

/// One named float tensor, as stored in a weights file.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NamedTensor {
    /// e.g. `layers.0.weight`.
    pub name: String,
    /// Dimensions.
    pub shape: Vec<usize>,
    /// Row-major values.
    pub data: Vec<f32>,
}

/// Why a weights file was refused; the current model is kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeightsError {
    /// Not safetensors at all, or truncated.
    #[error("not a valid safetensors file: {0}")]
    Format(String),
    /// Valid file, but not weights for this model.
    #[error("these weights do not fit the model: {0}")]
    Shape(String),
}

impl From<WeightsError> for LabError {
    fn from(e: WeightsError) -> Self {
        LabError::InvalidConfig(e.to_string())
    }
}

/// Encodes tensors as safetensors (F32, little-endian) with string metadata.
pub fn encode_safetensors(tensors: &[NamedTensor], metadata: &BTreeMap<String, String>) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    if !metadata.is_empty() {
        header.insert("__metadata__".into(), serde_json::to_value(metadata).expect("strings serialise"));
    }
    let mut offset = 0usize;
    for t in tensors {
        let len = t.data.len() * 4;
        header.insert(
            t.name.clone(),
            serde_json::json!({"dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + len]}),
        );
        offset += len;
    }
    let mut json = serde_json::to_vec(&header).expect("json");
    while !json.len().is_multiple_of(8) {
        json.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + json.len() + offset);
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&json);
    for t in tensors {
        for v in &t.data {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out
}

/// Decodes a safetensors file of F32 tensors, checking every offset and shape.
pub fn decode_safetensors(bytes: &[u8]) -> Result<(Vec<NamedTensor>, BTreeMap<String, String>), WeightsError> {
    let fmt = |m: &str| WeightsError::Format(m.to_string());
    if bytes.len() < 8 {
        return Err(fmt("the file is shorter than its 8-byte header length"));
    }
    let header_len = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
    if header_len > (bytes.len() - 8) as u64 || header_len > 1 << 24 {
        return Err(fmt("the header length points past the end of the file"));
    }
    let header_end = 8 + header_len as usize;
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes[8..header_end]).map_err(|e| WeightsError::Format(format!("bad JSON header: {e}")))?;
    let payload = &bytes[header_end..];
    let mut metadata = BTreeMap::new();
    let mut tensors = Vec::new();
    for (name, info) in header {
        if name == "__metadata__" {
            metadata = serde_json::from_value(info).map_err(|_| fmt("metadata must map strings to strings"))?;
            continue;
        }
        if info["dtype"] != "F32" {
            return Err(WeightsError::Format(format!("{name}: only F32 tensors are supported, found {}", info["dtype"])));
        }
        let shape: Vec<usize> = serde_json::from_value(info["shape"].clone()).map_err(|_| WeightsError::Format(format!("{name}: bad shape")))?;
        let offsets: [usize; 2] =
            serde_json::from_value(info["data_offsets"].clone()).map_err(|_| WeightsError::Format(format!("{name}: bad data_offsets")))?;
        let count = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or_else(|| fmt("shape overflows"))?;
        if offsets[0] > offsets[1] || offsets[1] > payload.len() || Some(offsets[1] - offsets[0]) != count.checked_mul(4) {
            return Err(WeightsError::Format(format!("{name}: data_offsets {offsets:?} do not match shape {shape:?} and file size")));
        }
        let data = payload[offsets[0]..offsets[1]].chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))).collect();
        tensors.push(NamedTensor { name, shape, data });
    }
    Ok((tensors, metadata))
}

/// A layer's parameters as named tensors `{prefix}.weight` and `{prefix}.bias`.
pub async fn linear_tensors(prefix: &str, layer: &Linear) -> LabResult<Vec<NamedTensor>> {
    let w = read_linear(layer).await?;
    let mut out = vec![NamedTensor { name: format!("{prefix}.weight"), shape: vec![w.weight.rows, w.weight.cols], data: w.weight.data }];
    if let Some(b) = w.bias {
        out.push(NamedTensor { name: format!("{prefix}.bias"), shape: vec![b.len()], data: b });
    }
    Ok(out)
}

/// The MLP's parameters as named tensors (`layers.{i}.weight`, `layers.{i}.bias`).
pub async fn mlp_tensors(mlp: &Mlp) -> LabResult<Vec<NamedTensor>> {
    let mut out = Vec::new();
    for (i, layer) in mlp.layers.iter().enumerate() {
        out.extend(linear_tensors(&format!("layers.{i}"), layer).await?);
    }
    Ok(out)
}

/// A factorized MLP's parameters (`layers.{i}.first.weight`, `layers.{i}.second.{weight,bias}`).
pub async fn factorized_tensors(model: &crate::lab::factorized::FactorizedMlp) -> LabResult<Vec<NamedTensor>> {
    let mut out = Vec::new();
    for (i, pair) in model.layers.iter().enumerate() {
        out.extend(linear_tensors(&format!("layers.{i}.first"), &pair.first).await?);
        out.extend(linear_tensors(&format!("layers.{i}.second"), &pair.second).await?);
    }
    Ok(out)
}

/// Rebuilds an MLP of the expected widths from named tensors, refusing any mismatch.
pub fn mlp_from_tensors(tensors: &[NamedTensor], widths: &[usize], device: &Device) -> Result<Mlp, WeightsError> {
    let get = |name: &str| tensors.iter().find(|t| t.name == name);
    let mut layers = Vec::new();
    for (i, w) in widths.windows(2).enumerate() {
        let (m, n) = (w[0], w[1]);
        let weight = get(&format!("layers.{i}.weight")).ok_or_else(|| WeightsError::Shape(format!("layers.{i}.weight is missing")))?;
        if weight.shape != [m, n] {
            return Err(WeightsError::Shape(format!("layers.{i}.weight is {:?}, expected [{m}, {n}]", weight.shape)));
        }
        let bias = get(&format!("layers.{i}.bias")).ok_or_else(|| WeightsError::Shape(format!("layers.{i}.bias is missing")))?;
        if bias.shape != [n] {
            return Err(WeightsError::Shape(format!("layers.{i}.bias is {:?}, expected [{n}]", bias.shape)));
        }
        if weight.data.iter().chain(&bias.data).any(|x| !x.is_finite()) {
            return Err(WeightsError::Shape(format!("layer {i} holds NaN or infinite values")));
        }
        let matrix = Matrix { rows: m, cols: n, data: weight.data.clone() };
        layers.push(linear_from(&matrix, Some(&bias.data), device));
    }
    let expected = 2 * (widths.len() - 1);
    if tensors.len() != expected {
        return Err(WeightsError::Shape(format!("expected {expected} tensors, the file has {}", tensors.len())));
    }
    Ok(Mlp::from_layers(layers))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::mlp::MLP_WIDTHS;
    use futures_lite::future::block_on;

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
        let t = NamedTensor { name: "layers.0.weight".into(), shape: vec![3, 2], data: vec![0.0; 6] };
        let mut bytes = encode_safetensors(std::slice::from_ref(&t), &BTreeMap::new());
        bytes.truncate(bytes.len() - 4);
        assert!(matches!(decode_safetensors(&bytes), Err(WeightsError::Format(_))));
        let (tensors, _) = decode_safetensors(&encode_safetensors(&[t], &BTreeMap::new())).unwrap();
        let err = mlp_from_tensors(&tensors, &MLP_WIDTHS, &device).unwrap_err();
        assert!(err.to_string().contains("expected [784, 100]"), "{err}");
    }
}
