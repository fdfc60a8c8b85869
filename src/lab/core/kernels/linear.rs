//! A dense layer `x·W + b` inside burn's autodiff graph, computed by our products on WebGPU.
//!
//! The GANs' dense layers sit between batch norms, LeakyReLUs and dropouts that autodiff must
//! differentiate, so their gradients cannot be written out by hand as the classifier's are
//! (`dense.rs`). Instead [`linear`] is a custom autodiff operation (burn's `backend_extension`):
//! forward, one product with the bias added (burn: a matmul and an add); backward, one product
//! for x's gradient and one for W's that also sums b's (burn: two matmuls, a sum and a reshape),
//! each only when autodiff asks for it. The products are `matmul.rs`'s, an order of magnitude faster
//! than burn's on SwiftShader (21 ms against about 800 for the dense GAN's widest layer).

use burn::nn::Linear;
use burn::tensor::Tensor;

/// `layer.forward(x)` for `x` `[B, inputs]`: by our kernels on WebGPU (f32, with a bias, kernels
/// on: see [`super::layer_kernels`]), by burn's operations elsewhere. Both give the same values
/// and gradients (`tests/browser.rs`).
pub fn linear(layer: &Linear, x: Tensor<2>) -> Tensor<2> {
    #[cfg(cube_kernels)]
    if let Some(bias) = &layer.bias
        && super::switch::layer_kernels_on()
        && super::cube::is_cube(&x.device())
        && cube::applies(&x, &layer.weight.val(), &bias.val())
    {
        return cube::linear(x, layer.weight.val(), bias.val());
    }
    layer.forward(x)
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
    use burn_cubecl::kernel::into_contiguous;
    use burn_cubecl::tensor::CubeTensor;

    use super::super::matmul::{Epilogue, Operand, col_sums, matmul, weight_grads};

    /// Whether the kernels take `x·w + b` (on WebGPU): f32, shapes that chain, no empty batch and
    /// at least one input (`matmul::weight_grads` needs a row of x's transpose).
    pub(super) fn applies(x: &Tensor<2>, w: &Tensor<2>, b: &Tensor<1>) -> bool {
        let ([rows, inputs], [w_rows, outputs]) = (x.dims(), w.dims());
        [x.dtype(), w.dtype(), b.dtype()] == [DType::F32; 3]
            && rows > 0
            && inputs > 0
            && inputs == w_rows
            && outputs > 0
            && b.dims()[0] == outputs
    }

    pub(super) fn linear(x: Tensor<2>, w: Tensor<2>, b: Tensor<1>) -> Tensor<2> {
        Tensor::from_dispatch(<Dispatch as LinearOps>::linear(
            x.into_dispatch(),
            w.into_dispatch(),
            b.into_dispatch(),
        ))
    }

    /// The operation, routed by burn to the plain WebGPU backend or to its autodiff wrapper.
    #[backend_extension(Cube, Autodiff)]
    pub trait LinearOps: Backend {
        /// `x·w + b` for `x` `[B, in]`, `w` `[in, out]`, `b` `[out]`.
        fn linear(
            x: FloatTensor<Self>,
            w: FloatTensor<Self>,
            b: FloatTensor<Self>,
        ) -> FloatTensor<Self>;
    }

    fn forward(x: &CubeTensor, w: &CubeTensor, b: CubeTensor) -> CubeTensor {
        let b = into_contiguous(b);
        matmul(Operand::of(x), Operand::of(w), Epilogue::Bias(Some(&b), false))
    }

    impl LinearOps for Cube {
        fn linear(x: CubeTensor, w: CubeTensor, b: CubeTensor) -> CubeTensor {
            forward(&into_contiguous(x), &into_contiguous(w), b)
        }
    }

    /// The backward pass: dx = dy·Wᵀ, dW = xᵀ·dy, db = Σ_rows dy, each only when asked for.
    #[derive(Debug)]
    struct LinearBackward;

    impl Backward<Cube, 3> for LinearBackward {
        /// x and W, as the forward pass read them (row-major).
        type State = (CubeTensor, CubeTensor);

        fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
            let [node_x, node_w, node_b] = ops.parents;
            let dy = into_contiguous(grads.consume::<Cube>(&ops.node));
            let (x, w) = ops.state;
            if let Some(node) = node_x {
                let dx = matmul(Operand::of(&dy), Operand::transposed(&w), Epilogue::Plain);
                grads.register::<Cube>(node.id, dx);
            }
            match (node_w, node_b) {
                // Both from one launch, the usual case.
                (Some(node_w), Some(node_b)) => {
                    let (dw, db) = weight_grads(&x, &dy, true);
                    grads.register::<Cube>(node_w.id, dw);
                    if let Some(db) = db {
                        grads.register::<Cube>(node_b.id, db);
                    }
                }
                (Some(node), None) => {
                    grads.register::<Cube>(node.id, weight_grads(&x, &dy, false).0);
                }
                (None, Some(node)) => grads.register::<Cube>(node.id, col_sums(&dy)),
                (None, None) => {}
            }
        }
    }

    impl<C: CheckpointStrategy> LinearOps for Autodiff<Cube, C> {
        fn linear(
            x: FloatTensor<Self>,
            w: FloatTensor<Self>,
            b: FloatTensor<Self>,
        ) -> FloatTensor<Self> {
            match LinearBackward
                .prepare::<C>([x.node(), w.node(), b.node()])
                .compute_bound()
                .stateful()
            {
                OpsKind::Tracked(prep) => {
                    let x = into_contiguous(x.into_primitive());
                    let w = into_contiguous(w.into_primitive());
                    let y = forward(&x, &w, b.into_primitive());
                    prep.finish((x, w), y)
                }
                OpsKind::UnTracked(prep) => prep.finish(<Cube as LinearOps>::linear(
                    x.into_primitive(),
                    w.into_primitive(),
                    b.into_primitive(),
                )),
            }
        }
    }
}
