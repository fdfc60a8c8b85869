//! Hand-written WebGPU kernels for the hot chains that burn (built without fusion) runs as one
//! dispatch per operation.
//!
//! - [`fused_adam`]: a parameter's whole Adam update in one kernel (13 burn operations).
//! - [`fused_xent`]: softmax cross-entropy's gradient, the batch's loss and its correct count in
//!   one kernel, which replaces log-softmax, the loss's backward pass and the accuracy count
//!   (about 25 dispatches) and accumulates both metrics on the device until the chunk's one read.
//! - [`fused_bce`]: the same for a GAN's binary cross-entropy on logits, with D's mean outputs on
//!   real and fake images.
//! - [`DeviceImages`]: a training set uploaded once per job, batches gathered from it on the
//!   device: no upload per step.
//!
//! Each declines (`None`) where it does not apply (the Flex CPU backend, native builds, another
//! dtype): the caller then runs burn's operations, which are the reference the kernels are tested
//! against (`tests/browser.rs`). Each has a launch counter so that a test can tell a kernel ran
//! rather than its fallback (both give the same numbers).

mod adam;
mod bce;
#[cfg(all(target_arch = "wasm32", feature = "webgpu"))]
mod cube;
mod gather;
mod launches;
mod xent;

pub use adam::{AdamStep, fused_adam};
pub use bce::fused_bce;
pub use gather::DeviceImages;
pub use launches::{Kernel, fused_adam_launches, launches};
pub use xent::fused_xent;
