//! LeakyReLU inside burn's autodiff graph as one kernel forward and one backward.
//!
//! burn composes LeakyReLU from three operations (a comparison, a scaled copy, a select), and
//! autodiff differentiates the select and the scaling separately and adds the two gradients:
//! about eight dispatches per layer and step where [`leaky_relu`] takes two. The GANs apply it
//! after every hidden layer, in both steps. It computes what burn's operations do, bit for bit:
//! `x < 0 ? x·slope : x` forward, `x < 0 ? dy·slope : dy` backward.

use burn::nn::{Dropout, LeakyRelu};
use burn::tensor::Tensor;

/// `act.forward(x)`: by our kernels on WebGPU and on Flex (f32, kernels on: see
/// [`super::layer_kernels`]), by burn's operations elsewhere.
pub fn leaky_relu<const D: usize>(act: &LeakyRelu, x: Tensor<D>) -> Tensor<D> {
    #[cfg(cube_kernels)]
    if applies(act, &x) && super::cube::is_cube(&x.device()) {
        return cube::leaky_relu(x, act.negative_slope as f32);
    }
    if applies(act, &x) && super::flex::is_flex(&x.device()) {
        return super::leaky_cpu::leaky_dropout(x, act.negative_slope as f32, 1.0);
    }
    act.forward(x)
}

/// `dropout.forward(act.forward(x))`: on Flex one pass each way (see `leaky_cpu.rs`), elsewhere
/// as [`leaky_relu`] then burn's dropout. Dropout acts, as burn's does, only in training mode on
/// an autodiff device.
pub fn leaky_dropout<const D: usize>(
    act: &LeakyRelu,
    dropout: &Dropout,
    x: Tensor<D>,
) -> Tensor<D> {
    let active = dropout.training.is_enabled() && x.device().is_autodiff() && dropout.prob > 0.0;
    if active && applies(act, &x) && super::flex::is_flex(&x.device()) {
        let keep = (1.0 - dropout.prob) as f32;
        return super::leaky_cpu::leaky_dropout(x, act.negative_slope as f32, keep);
    }
    dropout.forward(leaky_relu(act, x))
}

/// Whether our kernels take this activation: f32, a positive slope, kernels on.
fn applies<const D: usize>(act: &LeakyRelu, x: &Tensor<D>) -> bool {
    super::switch::layer_kernels_on()
        && x.dtype() == burn::tensor::DType::F32
        && act.negative_slope > 0.0
}

#[cfg(cube_kernels)]
mod cube {
    use burn::backend::autodiff::checkpoint::base::Checkpointer;
    use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
    use burn::backend::autodiff::grads::Gradients;
    use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
    use burn::backend::tensor::FloatTensor;
    use burn::backend::{Autodiff, Backend, Cube, Dispatch, backend_extension};
    use burn::tensor::{DType, Tensor};
    use burn_cubecl::cubecl::{self, prelude::*};
    use burn_cubecl::kernel::into_contiguous;
    use burn_cubecl::tensor::CubeTensor;

    use super::super::cube::{elementwise_launch, empty};
    use super::super::launches::{Kernel, count};

    pub(super) fn leaky_relu<const D: usize>(x: Tensor<D>, slope: f32) -> Tensor<D> {
        Tensor::from_dispatch(<Dispatch as LeakyOps>::leaky(x.into_dispatch(), slope))
    }

    /// The operation, routed by burn to the plain WebGPU backend or to its autodiff wrapper.
    #[backend_extension(Cube, Autodiff)]
    pub trait LeakyOps: Backend {
        /// `x < 0 ? x·slope : x`, elementwise.
        fn leaky(x: FloatTensor<Self>, slope: f32) -> FloatTensor<Self>;
    }

    /// `out = x < 0 ? v·slope : v` with `v = x` forward or `v = dy` backward; each thread takes
    /// the elements a whole launch apart (see [`elementwise_launch`]).
    #[cube(launch_unchecked)]
    fn leaky_kernel(x: &[f32], v: &[f32], out: &mut [f32], n: usize, slope: f32) {
        let stride = CUBE_COUNT * CUBE_DIM as usize;
        let mut i = ABSOLUTE_POS;
        while i < n {
            let vi = v[i];
            if x[i] < 0.0f32 {
                out[i] = vi * slope;
            } else {
                out[i] = vi;
            }
            i += stride;
        }
    }

    /// `leaky_kernel` over `x` (and `v`, the same shape), both row-major.
    fn launch(x: &CubeTensor, v: &CubeTensor, slope: f32) -> CubeTensor {
        let n = x.meta.shape().num_elements();
        let out = empty(x, x.meta.shape().clone(), DType::F32);
        let client = out.client.clone();
        let (cube_count, cube_dim) = elementwise_launch(n);
        // SAFETY: `x`, `v` and `out` each hold `n` f32 in rows; index `i` is used only while i < n.
        unsafe {
            leaky_kernel::launch_unchecked(
                &client,
                cube_count,
                cube_dim,
                x.clone().into_buffer_arg(),
                v.clone().into_buffer_arg(),
                out.clone().into_buffer_arg(),
                n,
                slope,
            );
        }
        count(Kernel::Leaky);
        out
    }

    impl LeakyOps for Cube {
        fn leaky(x: CubeTensor, slope: f32) -> CubeTensor {
            let x = into_contiguous(x);
            launch(&x, &x, slope)
        }
    }

    #[derive(Debug)]
    struct LeakyBackward;

    impl Backward<Cube, 1> for LeakyBackward {
        /// The input (row-major) and the slope.
        type State = (CubeTensor, f32);

        fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
            let [node] = ops.parents;
            let dy = into_contiguous(grads.consume::<Cube>(&ops.node));
            let (x, slope) = ops.state;
            if let Some(node) = node {
                grads.register::<Cube>(node.id, launch(&x, &dy, slope));
            }
        }
    }

    impl<C: CheckpointStrategy> LeakyOps for Autodiff<Cube, C> {
        fn leaky(x: FloatTensor<Self>, slope: f32) -> FloatTensor<Self> {
            match LeakyBackward.prepare::<C>([x.node()]).compute_bound().stateful() {
                OpsKind::Tracked(prep) => {
                    let x = into_contiguous(x.into_primitive());
                    let y = launch(&x, &x, slope);
                    prep.finish((x, slope), y)
                }
                OpsKind::UnTracked(prep) => {
                    prep.finish(<Cube as LeakyOps>::leaky(x.into_primitive(), slope))
                }
            }
        }
    }
}
