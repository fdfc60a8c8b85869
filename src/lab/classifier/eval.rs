//! Evaluation of a classifier on a data set: loss, accuracy and the confusion matrix.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::lab::classifier::metrics::ConfusionMatrix;
use crate::lab::classifier::mlp::{Classifier, PIXEL_SCALE};
use crate::lab::core::error::{LabError, LabResult, check_count};
use crate::lab::core::kernels::fused_dense_logits;
use crate::lab::core::readback::read_f32;
use crate::lab::data::Dataset;

/// Batch size for evaluation: large, since there is no backward pass.
pub const EVAL_BATCH: usize = 1000;

/// Test-set loss, accuracy and confusion matrix of a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Mean cross-entropy.
    pub loss: f64,
    /// Fraction classified correctly, in [0, 1].
    pub accuracy: f64,
    /// Truth × prediction counts.
    pub confusion: ConfusionMatrix,
    /// The predicted class of every item, in order (for "show me the misclassified ones").
    pub predictions: Vec<u8>,
}

/// Evaluates `model` on all of `data` in inference mode, with a single readback at the end.
pub async fn evaluate<M: Classifier>(
    model: &M,
    data: &Dataset,
    batch_size: usize,
    device: &Device,
) -> LabResult<Evaluation> {
    if data.is_empty() {
        return Err(LabError::EmptyDataset);
    }
    check_count("batch size", batch_size, 1, 100_000)?;
    let model = model.valid();
    let device = device.clone().without_autodiff();
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let mut loss_sum: Option<Tensor<1>> = None;
    let mut preds = Vec::new();
    let indices: Vec<usize> = (0..data.len()).collect();
    // A stack of dense layers on WebGPU: our products (burn's matmul is slow in this build).
    let layers = model.dense_layers();
    for batch in indices.chunks(batch_size) {
        let x = data.images_tensor(batch, PIXEL_SCALE, 0.0, &device);
        let y = data.labels_tensor(batch, &device);
        let fused = layers.as_deref().and_then(|layers| fused_dense_logits(layers, &x));
        let logits = fused.unwrap_or_else(|| model.logits(x));
        let l = loss_fn.forward(logits.clone(), y) * batch.len() as f32;
        loss_sum = Some(match loss_sum {
            Some(s) => s + l,
            None => l,
        });
        preds.push(logits.argmax(1).squeeze_dim::<1>(1));
    }
    let loss = read_f32(loss_sum.expect("non-empty")).await? as f64 / data.len() as f64;
    let preds = Tensor::cat(preds, 0).into_data_async().await.map_err(LabError::device)?;
    let predictions: Vec<u8> = preds
        .try_into_vec_as::<i64>()
        .map_err(|e| LabError::device(format!("{e:?}")))?
        .into_iter()
        .map(|p| p as u8)
        .collect();
    let confusion = ConfusionMatrix::from_predictions(&data.labels, &predictions);
    Ok(Evaluation { loss, accuracy: confusion.accuracy(), confusion, predictions })
}
