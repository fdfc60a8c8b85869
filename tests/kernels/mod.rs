//! Our GPU kernels against burn's operations on the same device, written once and run on two
//! driver stacks: WebGPU in headless Chromium (`tests/browser.rs`, SwiftShader here) and native
//! Vulkan through wgpu (`tests/vulkan.rs`, Mesa's lavapipe here, or a real GPU). Each case takes
//! the plain (non-autodiff) device and reads every value back asynchronously, the only read
//! WebGPU allows.
//!
//! Tolerances hold on any adapter, not only on the emulator the kernels were written on. A GPU
//! compiler may contract a·b + c into one FMA and sum a reduction in another order (tree instead
//! of serial); each changes the last bits of a result. For our reductions (at most 784 terms of
//! similar size) that is at most about n·ε ≈ 784 × 6e-8 ≈ 5e-5 of the terms' magnitude, so:
//! - one operation: within [`OP_RTOL`] = 1e-4 of the reference tensor's largest magnitude (an
//!   entry near zero by cancellation is judged against the tensor's size, not its own); a wrong
//!   index, a missing term or a transposed operand is off by 1e-2 or more;
//! - several training steps: losses within [`STEPS_RTOL`], and each weight tensor within 2 % of
//!   how far it moved from the start ([`same_training`]): Adam divides a gradient by its running
//!   size, so where a gradient is near zero a last-bit difference moves a weight by up to the
//!   learning rate, while a wrong gradient moves whole tensors elsewhere.
#![allow(dead_code)] // each test binary runs the cases through its own device

pub mod classifier;
pub mod conv;
pub mod gan;

/// Every case, once: `kernel_cases!(run)` expands `run!(module::case, …)`, where each test binary's
/// `run` wraps a case in a test on its own device (`tests/browser.rs`, `tests/vulkan.rs`).
macro_rules! kernel_cases {
    ($run:ident) => {
        $run!(
            classifier::fused_adam_matches_burns_operations,
            classifier::fused_loss_matches_burns_cross_entropy,
            classifier::gathered_batches_are_the_hosts,
            classifier::kernels_train_like_burns_operations,
            classifier::dense_kernels_give_autodiffs_gradients,
            gan::linear_kernel_is_burns_linear_under_autodiff,
            gan::fused_gan_loss_matches_burns,
            gan::gan_kernels_train_like_burns_operations,
            conv::conv_kernels_are_burns_convolutions_under_autodiff,
            conv::cnn_gan_kernels_train_like_burns_operations,
        );
    };
}

use burn::tensor::Tensor;
use mnist_lab::lab::core::safetensors::NamedTensor;
use mnist_lab::lab::data::{Dataset, IMAGE_PIXELS, Images};
use mnist_lab::lab::gan::progress::GanChunk;

/// One operation against burn's (see the module's notes).
pub const OP_RTOL: f32 = 1e-4;
/// Losses after a few seeded training steps, relative (absolute below 1).
pub const STEPS_RTOL: f64 = 1e-3;
/// Each weight tensor's distance from the reference's, as a share of how far it moved.
pub const MOVED_SHARE: f32 = 0.02;

/// A toy data set of `n` images whose pixels and labels are known.
pub fn toy(n: usize) -> Dataset {
    let pixels = (0..n * IMAGE_PIXELS).map(|i| ((i / IMAGE_PIXELS) * 25 + i % 7) as u8).collect();
    Dataset::new(Images { count: n, pixels }, (0..n).map(|i| (i % 10) as u8).collect()).unwrap()
}

/// A tensor's values, read back asynchronously.
pub async fn floats<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data_async().await.unwrap().try_into_vec_as::<f32>().unwrap()
}

/// `got` equals `want` within [`OP_RTOL`] of `want`'s largest magnitude, and `want` is not all
/// zeros (a comparison of zeros tests nothing).
pub fn close(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    let scale = want.iter().fold(0f32, |m, v| m.max(v.abs()));
    assert!(scale > 0.0, "{what}: nothing to compare");
    for (i, (p, q)) in got.iter().zip(want).enumerate() {
        assert!((p - q).abs() <= OP_RTOL * scale, "{what}[{i}]: {p} vs {q} (scale {scale})");
    }
}

/// One number against burn's, within [`OP_RTOL`] (relative, absolute below 1).
pub fn close_to(got: f32, want: f32, what: &str) {
    assert!((got - want).abs() <= OP_RTOL * want.abs().max(1.0), "{what}: {got} vs {want}");
}

/// A loss after training steps, within [`STEPS_RTOL`] (relative, absolute below 1).
pub fn close_loss(got: f64, want: f64, what: &str) {
    assert!((got - want).abs() <= STEPS_RTOL * want.abs().max(1.0), "{what}: {got} vs {want}");
}

/// Two models trained from the same `start`: each tensor moved, and the two ended within
/// [`MOVED_SHARE`] of the distance it moved (see the module's notes), plus [`OP_RTOL`] of its
/// size: a tensor that training barely moves — a bias before a batch norm, whose gradient is zero
/// up to rounding (lavapipe: moved 6e-7, 9e-7 apart) — is judged as one operation would be.
pub fn same_training(start: &[NamedTensor], a: &[NamedTensor], b: &[NamedTensor]) {
    assert_eq!(a.len(), b.len());
    let norm = |v: &mut dyn Iterator<Item = f32>| v.map(|x| x * x).sum::<f32>().sqrt();
    for ((p, q), s) in a.iter().zip(b).zip(start) {
        assert_eq!((&p.name, &p.shape), (&q.name, &q.shape));
        let moved = norm(&mut q.data.iter().zip(&s.data).map(|(y, z)| y - z));
        let apart = norm(&mut p.data.iter().zip(&q.data).map(|(x, y)| x - y));
        let size = norm(&mut s.data.iter().copied());
        assert!(moved > 0.0, "{}: trained", p.name);
        assert!(
            apart <= MOVED_SHARE * moved + OP_RTOL * size,
            "{}: {apart} apart after moving {moved} (size {size})",
            p.name
        );
    }
}

/// Two GAN chunks of one epoch, trained two ways from the same seeds: the same epoch and
/// batches, and losses and D's mean outputs within [`STEPS_RTOL`].
pub fn same_gan_chunk(a: &GanChunk, b: &GanChunk) {
    assert_eq!((a.epoch, a.batches), (b.epoch, b.batches));
    for (x, y) in [(a.d_loss, b.d_loss), (a.g_loss, b.g_loss), (a.d_real, b.d_real)]
        .into_iter()
        .chain([(a.d_fake, b.d_fake)])
    {
        close_loss(x, y, &format!("{a:?} vs {b:?}"));
    }
}
