//! Reading tensors back to the CPU without blocking: on WebGPU every synchronous readback
//! panics, so the engine reads only through these.

use burn::tensor::{Int, Tensor};

use crate::lab::core::error::{LabError, LabResult};

/// Reads a one-element float tensor without blocking (WebGPU forbids sync reads).
pub async fn read_f32(t: Tensor<1>) -> LabResult<f32> {
    let data = t.into_data_async().await.map_err(LabError::device)?;
    let v = data.try_into_vec_as::<f32>().map_err(|e| LabError::device(format!("{e:?}")))?;
    v.first().copied().ok_or_else(|| LabError::device("empty readback"))
}

/// Reads a one-element int tensor without blocking.
pub async fn read_i64(t: Tensor<1, Int>) -> LabResult<i64> {
    let data = t.into_data_async().await.map_err(LabError::device)?;
    let v = data.try_into_vec_as::<i64>().map_err(|e| LabError::device(format!("{e:?}")))?;
    v.first().copied().ok_or_else(|| LabError::device("empty readback"))
}

/// Reads a float tensor's values without blocking.
pub async fn read_values<const D: usize>(t: Tensor<D>) -> LabResult<Vec<f32>> {
    let data = t.into_data_async().await.map_err(LabError::device)?;
    data.try_into_vec_as::<f32>().map_err(|e| LabError::device(format!("{e:?}")))
}
