//! Dense layers on the CPU side: a row-major matrix, and a `Linear` layer's weights read back
//! (async: safe on WebGPU), rebuilt from values, or named for a weights file.

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::lab::core::error::{LabError, LabResult};
use crate::lab::core::readback::read_values;
use crate::lab::core::safetensors::NamedTensor;

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
    let w =
        Tensor::from_data(TensorData::new(weight.data.clone(), [weight.rows, weight.cols]), device);
    let b = bias.map(|b| {
        Param::from_tensor(Tensor::from_data(TensorData::new(b.to_vec(), [b.len()]), device))
    });
    Linear { weight: Param::from_tensor(w), bias: b }
}

/// A layer's parameters as named tensors `{prefix}.weight` and `{prefix}.bias`.
pub async fn linear_tensors(prefix: &str, layer: &Linear) -> LabResult<Vec<NamedTensor>> {
    let w = read_linear(layer).await?;
    let mut out = vec![NamedTensor {
        name: format!("{prefix}.weight"),
        shape: vec![w.weight.rows, w.weight.cols],
        data: w.weight.data,
    }];
    if let Some(b) = w.bias {
        out.push(NamedTensor { name: format!("{prefix}.bias"), shape: vec![b.len()], data: b });
    }
    Ok(out)
}

/// A dense row-major matrix of f32: how weights travel between tensors and the SVD.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Matrix {
    /// Number of rows (`m`, the layer's inputs for burn's `Linear`).
    pub rows: usize,
    /// Number of columns (`n`, the layer's outputs).
    pub cols: usize,
    /// `rows × cols` values, row after row.
    pub data: Vec<f32>,
}

impl Matrix {
    /// Wraps row-major data, checking its length.
    pub fn new(rows: usize, cols: usize, data: Vec<f32>) -> LabResult<Self> {
        if data.len() != rows * cols {
            return Err(LabError::InvalidConfig(format!(
                "a {rows}×{cols} matrix needs {} values, got {}",
                rows * cols,
                data.len()
            )));
        }
        Ok(Self { rows, cols, data })
    }

    /// Element (i, j).
    pub fn at(&self, i: usize, j: usize) -> f32 {
        self.data[i * self.cols + j]
    }

    /// Frobenius norm of `self - other` (same shapes).
    pub fn frobenius_distance(&self, other: &Matrix) -> f64 {
        self.data.iter().zip(&other.data).map(|(a, b)| ((a - b) as f64).powi(2)).sum::<f64>().sqrt()
    }

    /// `self · other`.
    pub fn matmul(&self, other: &Matrix) -> Matrix {
        let mut out = vec![0f32; self.rows * other.cols];
        for i in 0..self.rows {
            for k in 0..self.cols {
                let a = self.at(i, k);
                for j in 0..other.cols {
                    out[i * other.cols + j] += a * other.at(k, j);
                }
            }
        }
        Matrix { rows: self.rows, cols: other.cols, data: out }
    }
}
