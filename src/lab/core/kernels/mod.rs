//! Hand-written GPU kernels (CubeCL: WebGPU in the browser, Vulkan through wgpu natively, as
//! build.rs's `cube_kernels` says) for the hot chains that burn (built without fusion) runs as one dispatch per
//! operation.
//!
//! - [`fused_adam`]: a parameter's whole Adam update in one kernel (13 burn operations).
//! - [`fused_xent`]: softmax cross-entropy's gradient, the batch's loss and its correct count in
//!   one kernel, which replaces log-softmax, the loss's backward pass and the accuracy count
//!   (about 25 dispatches) and accumulates both metrics on the device until the chunk's one read.
//! - [`fused_bce`]: the same for a GAN's binary cross-entropy on logits, with D's mean outputs on
//!   real and fake images.
//! - [`fused_dense_grads`]: a stack of dense layers' forward and backward passes as our own
//!   register-blocked products (with bias, ReLU and ReLU mask folded in), which on SwiftShader run
//!   an order of magnitude faster than burn's matmul in this build.
//! - [`linear`]: a dense layer inside burn's autodiff graph (the GANs') with those products
//!   forward and backward, as a custom autodiff operation; [`leaky_relu`] likewise for the GANs'
//!   LeakyReLU (one kernel each way instead of burn's composed operations).
//! - [`conv2d`], [`conv_transpose2d`]: the CNN GAN's convolutions likewise, as register-blocked
//!   products read straight from the images, forward and backward.
//! - On the Flex CPU backend, the same two convolutions as wide GEMMs over tiles of images
//!   (`conv_cpu.rs`, `conv_flex.rs`).
//! - [`DeviceImages`]: a training set uploaded once per job, batches gathered from it on the
//!   device: no upload per step.
//!
//! Each declines (`None`) where it does not apply (the Flex CPU backend, a build without `webgpu`
//! or `vulkan`, another dtype): the caller then runs burn's operations, which are the reference
//! the kernels are tested against on both driver stacks (`tests/kernels/`). Each has a launch
//! counter so that a test can tell a kernel ran rather than its fallback (both give the same
//! numbers).

mod adam;
mod bce;
mod conv;
mod conv_cpu;
mod conv_flex;
mod conv_geometry;
#[cfg(cube_kernels)]
mod conv_grads;
#[cfg(cube_kernels)]
mod conv_kernels;
#[cfg(cube_kernels)]
mod cube;
mod dense;
mod flex;
mod gather;
mod launches;
mod leaky;
mod leaky_cpu;
mod linear;
#[cfg(cube_kernels)]
mod matmul;
mod switch;
mod xent;

pub use adam::{AdamStep, fused_adam};
pub use bce::fused_bce;
pub use conv::{conv_transpose2d, conv2d};
pub use dense::{DenseLayer, fused_dense_grads, fused_dense_logits};
pub use gather::{DeviceImages, ItemOrder};
pub use launches::{Kernel, launches};
pub use leaky::{leaky_dropout, leaky_relu};
pub use linear::linear;
pub use switch::layer_kernels;
pub use xent::fused_xent;
