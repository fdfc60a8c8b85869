//! Binary cross-entropy, computed from D's logit rather than from its sigmoid output.
//!
//! `-[y·log σ(x) + (1−y)·log(1−σ(x))]` equals `max(x, 0) − x·y + log(1 + e^{−|x|})`, which never
//! takes the log of 0 when D becomes confident — the usual way a GAN's loss turns into NaN. Unlike
//! burn's `BinaryCrossEntropyLoss` it takes float targets, so soft labels (0.9 / 0.1) need nothing
//! special.

use burn::tensor::Tensor;
use burn::tensor::activation::relu;

/// Mean binary cross-entropy of logits `[B, 1]` against targets in [0, 1] `[B, 1]`.
pub fn bce_with_logits(logits: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    let stable = relu(logits.clone()) - logits.clone() * targets + logits.abs().neg().exp().log1p();
    stable.mean()
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
