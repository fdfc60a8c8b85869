//! Where the time of one MLP training step goes, phase by phase, for `devtools bench`.
//!
//! Flex computes eagerly, so a phase's wall time is its own cost: building the batch tensors,
//! the forward pass and loss, the backward pass, Adam's update, and reading the loss back. This
//! is the engine the browser's CPU backend runs (there single-threaded, in wasm), so the shares
//! say what dominates a step; a lazy GPU backend would need a readback per phase to say the same.

use std::time::Instant;

use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::GradientsParams;
use burn::tensor::Device;
use futures_lite::future::block_on;
use serde_json::{Value, json};

use mnist_lab::lab::classifier::mlp::{Classifier, MLP_WIDTHS, Mlp, PIXEL_SCALE};
use mnist_lab::lab::core::adam::{Adam, AdamSettings};
use mnist_lab::lab::core::error::LabResult;
use mnist_lab::lab::core::readback::read_f32;
use mnist_lab::lab::data::Dataset;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Median milliseconds per phase over `steps` Adam steps at `batch` (after 5 warm-up steps).
pub fn mlp_step_breakdown(
    train: &Dataset,
    batch: usize,
    steps: usize,
    device: &Device,
) -> LabResult<Value> {
    let mut model = Mlp::new(&MLP_WIDTHS, device);
    let mut adam = Adam::new(AdamSettings::default());
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let mut phases: [Vec<f64>; 5] = Default::default();
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1000.0;
    for step in 0..steps + 5 {
        let start = (step * batch) % train.len().saturating_sub(batch).max(1);
        let indices: Vec<usize> = (start..start + batch).map(|i| i % train.len()).collect();
        let t = Instant::now();
        let x = train.images_tensor(&indices, PIXEL_SCALE, 0.0, device);
        let y = train.labels_tensor(&indices, device);
        let data_ms = ms(t);
        let t = Instant::now();
        let loss = loss_fn.forward(model.logits(x), y);
        let forward_ms = ms(t);
        let t = Instant::now();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let backward_ms = ms(t);
        let t = Instant::now();
        model = adam.step(1e-3, model, grads);
        let adam_ms = ms(t);
        let t = Instant::now();
        block_on(read_f32(loss.detach()))?;
        let readback_ms = ms(t);
        if step >= 5 {
            for (p, v) in
                phases.iter_mut().zip([data_ms, forward_ms, backward_ms, adam_ms, readback_ms])
            {
                p.push(v);
            }
        }
    }
    let [data, forward, backward, adam, readback] = phases.map(median);
    Ok(json!({
        "batch_size": batch,
        "steps": steps,
        "data_ms": data,
        "forward_ms": forward,
        "backward_ms": backward,
        "adam_ms": adam,
        "readback_ms": readback,
        "total_ms": data + forward + backward + adam + readback,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mnist_lab::lab::data::{IMAGE_PIXELS, Images};

    #[test]
    fn every_phase_is_timed_and_the_total_is_their_sum() {
        let labels: Vec<u8> = (0..64).map(|i| (i % 10) as u8).collect();
        let images = Images {
            count: labels.len(),
            pixels: (0..labels.len() * IMAGE_PIXELS).map(|i| (i % 251) as u8).collect(),
        };
        let train = Dataset::new(images, labels).unwrap();
        let row = mlp_step_breakdown(&train, 16, 3, &Device::flex().autodiff()).unwrap();
        assert_eq!(row["batch_size"], 16);
        let phases = ["data_ms", "forward_ms", "backward_ms", "adam_ms", "readback_ms"];
        let sum: f64 = phases.iter().map(|k| row[*k].as_f64().unwrap()).sum();
        for k in phases {
            let v = row[k].as_f64().unwrap();
            // Each phase runs and is timed: one left out of the timing would stay at 0.
            assert!(v.is_finite() && v > 0.0, "{k} = {v}");
        }
        assert!((row["total_ms"].as_f64().unwrap() - sum).abs() < 1e-9, "{row}");
    }
}
