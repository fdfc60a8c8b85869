//! Binary cross-entropy, computed from D's logit rather than from its sigmoid output.
//!
//! `-[y·log σ(x) + (1−y)·log(1−σ(x))]` equals `max(x, 0) − x·y + log(1 + e^{−|x|})`, which never
//! takes the log of 0 when D becomes confident — the usual way a GAN's loss turns into NaN. Unlike
//! burn's `BinaryCrossEntropyLoss` it takes float targets, so soft labels (0.9 / 0.1) need nothing
//! special.

use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::{Gradients, Tensor};

use crate::lab::core::kernels::fused_bce;

/// Mean binary cross-entropy of logits `[B, 1]` against targets in [0, 1] `[B, 1]`.
pub fn bce_with_logits(logits: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    let stable = relu(logits.clone()) - logits.clone() * targets + logits.abs().neg().exp().log1p();
    stable.mean()
}

/// Where a step's numbers add up until the chunk's one readback: `[d_loss, g_loss, d_real,
/// d_fake]`, the two mean losses and D's summed outputs on real and on fake images.
pub fn step_sums(device: &burn::tensor::Device) -> Tensor<1> {
    Tensor::zeros([4], &device.clone().inner())
}

/// The loss's gradient with respect to the logits, `(σ(x) − y) / B`, and the step's numbers
/// added into `sums` (`slot` 0 for D's loss, 1 for G's; D's outputs on real and fake images given
/// `is_real`). One fused kernel on WebGPU (`kernels`), burn's operations otherwise.
///
/// Both paths compute the same gradient from the same formula, which autodiff of
/// [`bce_with_logits`] equals up to rounding: a GAN's Adam steps amplify a rounding difference
/// of the gradient (0.04 % apart in the losses after 8 steps, measured), so the fallback uses
/// the kernel's formula rather than autodiff and the two paths train alike step after step.
fn logit_grad(
    logits: Tensor<2>,
    targets: Tensor<2>,
    is_real: Option<Tensor<2>>,
    sums: &mut Tensor<1>,
    slot: usize,
    kernels: bool,
) -> Tensor<2> {
    if kernels && let Some(grad) = fused_bce(&logits, &targets, is_real.as_ref(), sums, slot) {
        return grad;
    }
    let rows = logits.dims()[0];
    let loss = bce_with_logits(logits.clone(), targets.clone());
    let probs = sigmoid(logits);
    let zero = Tensor::zeros([1], &loss.device());
    let mut row = vec![zero.clone(), zero.clone(), zero.clone(), zero];
    row[slot] = loss;
    if let Some(real) = is_real {
        let d_real = (probs.clone() * real).sum();
        row[3] = probs.clone().sum() - d_real.clone();
        row[2] = d_real;
    }
    *sums = sums.clone() + Tensor::cat(row, 0);
    (probs - targets).mul_scalar(1.0 / rows as f32)
}

/// D's step: the gradients of its loss on `logits` against `targets`, with the loss and D's
/// outputs on the real (`is_real` = 1) and fake images added into `sums` (see [`step_sums`]).
pub fn d_step_grads(
    logits: Tensor<2>,
    targets: Tensor<2>,
    is_real: Tensor<2>,
    sums: &mut Tensor<1>,
    kernels: bool,
) -> Gradients {
    let inner = logits.clone().inner();
    let grad = logit_grad(inner, targets.inner(), Some(is_real.inner()), sums, 0, kernels);
    // ∂/∂logits of sum(logits · ∇) is ∇: the gradient enters autodiff there.
    (logits * grad).sum().backward()
}

/// G's step: the gradients of its loss on D's `logits` for its images (target 1), the loss added
/// into `sums[1]`.
pub fn g_step_grads(logits: Tensor<2>, sums: &mut Tensor<1>, kernels: bool) -> Gradients {
    let inner = logits.clone().inner();
    let ones = Tensor::<2>::ones(inner.dims(), &inner.device());
    (logits * logit_grad(inner, ones, None, sums, 1, kernels)).sum().backward()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    fn t(v: &[f32], device: &Device) -> Tensor<2> {
        Tensor::from_data(TensorData::new(v.to_vec(), [v.len(), 1]), device)
    }

    #[test]
    fn matches_the_textbook_formula_and_stays_finite() {
        let device = Device::flex();
        let xs = [-3.0f32, -0.5, 0.0, 0.7, 4.0];
        let ys = [0.0f32, 1.0, 0.9, 0.1, 1.0];
        let got = bce_with_logits(t(&xs, &device), t(&ys, &device)).into_scalar::<f32>();
        let want: f32 = xs
            .iter()
            .zip(ys)
            .map(|(&x, y)| {
                let p = 1.0 / (1.0 + (-x).exp());
                -(y * p.ln() + (1.0 - y) * (1.0 - p).ln())
            })
            .sum::<f32>()
            / xs.len() as f32;
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
        // A confident, wrong D: the naive formula gives log(0) = -inf; this stays finite (≈ 200).
        let big = bce_with_logits(t(&[200.0], &device), t(&[0.0], &device)).into_scalar::<f32>();
        assert!(big.is_finite() && (big - 200.0).abs() < 1e-3, "{big}");
    }
}
