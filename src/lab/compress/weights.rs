//! A factorized MLP's weights as named tensors.

use crate::lab::core::error::LabResult;
use crate::lab::core::linear::linear_tensors;
use crate::lab::core::safetensors::NamedTensor;

/// A factorized MLP's parameters (`layers.{i}.first.weight`, `layers.{i}.second.{weight,bias}`).
pub async fn factorized_tensors(
    model: &crate::lab::compress::factorized::FactorizedMlp,
) -> LabResult<Vec<NamedTensor>> {
    let mut out = Vec::new();
    for (i, pair) in model.layers.iter().enumerate() {
        out.extend(linear_tensors(&format!("layers.{i}.first"), &pair.first).await?);
        out.extend(linear_tensors(&format!("layers.{i}.second"), &pair.second).await?);
    }
    Ok(out)
}
