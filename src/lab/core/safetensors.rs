//! Moving weights between tensors and bytes: async readbacks of layers, and the safetensors
//! format (a standard one other tools read) with strict validation on the way in.
//!
//! `Module::into_record` reads synchronously and panics on WebGPU, so every read here is async.

use std::collections::BTreeMap;

use crate::lab::core::error::LabError;

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

/// A short content fingerprint of a set of tensors (names, shapes and every value's bits;
/// order-independent): how a refinement run remembers which base model it refined, so the report
/// pairs them even after the page has moved on to another base. FNV-1a, 64 bits: an identity
/// check between the models of one browser, not a defence against forgery (no hashing crate is
/// needed for that).
pub fn fingerprint(tensors: &[NamedTensor]) -> String {
    let mut sorted: Vec<&NamedTensor> = tensors.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for t in sorted {
        eat(t.name.as_bytes());
        eat(&[0]);
        for &d in &t.shape {
            eat(&(d as u64).to_le_bytes());
        }
        for v in &t.data {
            eat(&v.to_bits().to_le_bytes());
        }
    }
    format!("{h:016x}")
}

/// Encodes tensors as safetensors (F32, little-endian) with string metadata.
pub fn encode_safetensors(tensors: &[NamedTensor], metadata: &BTreeMap<String, String>) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    if !metadata.is_empty() {
        header.insert(
            "__metadata__".into(),
            serde_json::to_value(metadata).expect("strings serialise"),
        );
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
pub fn decode_safetensors(
    bytes: &[u8],
) -> Result<(Vec<NamedTensor>, BTreeMap<String, String>), WeightsError> {
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
        serde_json::from_slice(&bytes[8..header_end])
            .map_err(|e| WeightsError::Format(format!("bad JSON header: {e}")))?;
    let payload = &bytes[header_end..];
    let mut metadata = BTreeMap::new();
    let mut tensors = Vec::new();
    for (name, info) in header {
        if name == "__metadata__" {
            metadata = serde_json::from_value(info)
                .map_err(|_| fmt("metadata must map strings to strings"))?;
            continue;
        }
        if info["dtype"] != "F32" {
            return Err(WeightsError::Format(format!(
                "{name}: only F32 tensors are supported, found {}",
                info["dtype"]
            )));
        }
        let shape: Vec<usize> = serde_json::from_value(info["shape"].clone())
            .map_err(|_| WeightsError::Format(format!("{name}: bad shape")))?;
        let offsets: [usize; 2] = serde_json::from_value(info["data_offsets"].clone())
            .map_err(|_| WeightsError::Format(format!("{name}: bad data_offsets")))?;
        let count = shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .ok_or_else(|| fmt("shape overflows"))?;
        if offsets[0] > offsets[1]
            || offsets[1] > payload.len()
            || Some(offsets[1] - offsets[0]) != count.checked_mul(4)
        {
            return Err(WeightsError::Format(format!(
                "{name}: data_offsets {offsets:?} do not match shape {shape:?} and file size"
            )));
        }
        let data = payload[offsets[0]..offsets[1]]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        tensors.push(NamedTensor { name, shape, data });
    }
    Ok((tensors, metadata))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_ignore_order_and_see_every_bit() {
        let t = |name: &str, data: Vec<f32>| NamedTensor {
            name: name.into(),
            shape: vec![data.len()],
            data,
        };
        let a = vec![t("a", vec![1.0, 2.0]), t("b", vec![3.0])];
        let swapped = vec![a[1].clone(), a[0].clone()];
        assert_eq!(fingerprint(&a), fingerprint(&swapped));
        assert_eq!(fingerprint(&a).len(), 16);
        let mut nudged = a.clone();
        nudged[0].data[1] = f32::from_bits(2.0f32.to_bits() + 1);
        assert_ne!(fingerprint(&a), fingerprint(&nudged));
        let renamed = vec![t("c", vec![1.0, 2.0]), t("b", vec![3.0])];
        assert_ne!(fingerprint(&a), fingerprint(&renamed));
        let reshaped = vec![NamedTensor { shape: vec![2, 1], ..a[0].clone() }, a[1].clone()];
        assert_ne!(fingerprint(&a), fingerprint(&reshaped));
    }
}
