//! A classifier's training gradients on WebGPU for a stack of dense layers, without autodiff.
//!
//! Burn's autodiff runs each layer's product through burn's matmul (slow on this build, see
//! `matmul.rs`) and its bias, ReLU and their backward passes as separate dispatches. A stack of
//! dense layers with ReLUs has a short, known backward pass, so [`fused_dense_grads`] computes it
//! directly: per layer one product with its bias and ReLU forward; the fused softmax
//! cross-entropy; per layer one product for the weight's gradient that also sums the bias's
//! (`matmul::weight_grads`) and one product with the ReLU mask for the gradient flowing down. For
//! the 784-100-50-10 MLP that is 9 dispatches where burn's forward and backward passes took about
//! 30. The gradients
//! are those autodiff computes (the same products summed in the same order, the same mask), and
//! they go to the same optimiser step; `tests/browser.rs` checks training with them against
//! burn's operations.

use burn::nn::Linear;
use burn::optim::GradientsParams;
use burn::tensor::{Int, Tensor};

/// One layer of a stack, and whether a ReLU follows it.
#[derive(Clone, Copy)]
pub struct DenseLayer<'a> {
    pub linear: &'a Linear,
    pub relu: bool,
}

/// The gradients of the batch's mean softmax cross-entropy with respect to every weight and bias
/// of `layers` (applied in order to the images `x`, `[B, inputs]`, no autodiff), keyed by their
/// parameter ids as autodiff keys them; the batch's summed loss and correct count are added into
/// `acc` as [`super::fused_xent`] does. `None` where no kernel applies (not WebGPU, another dtype,
/// shapes that do not chain): nothing is launched then, and the caller runs burn's autodiff.
pub fn fused_dense_grads(
    layers: &[DenseLayer],
    x: &Tensor<2>,
    labels: &Tensor<1, Int>,
    acc: &Tensor<1>,
) -> Option<GradientsParams> {
    #[cfg(cube_kernels)]
    {
        cube::grads(layers, x, labels, acc)
    }
    #[cfg(not(cube_kernels))]
    {
        let _ = (layers, x, labels, acc);
        None
    }
}

/// The logits of `layers` applied to `x` (no autodiff) by the same products as
/// [`fused_dense_grads`]'s forward pass: an evaluation's forward pass. `None` where no kernel
/// applies; the caller then runs the model's own forward pass.
pub fn fused_dense_logits(layers: &[DenseLayer], x: &Tensor<2>) -> Option<Tensor<2>> {
    #[cfg(cube_kernels)]
    {
        let (x, weights, biases) = cube::operands(layers, x)?;
        Some(super::cube::wrap(cube::forward(layers, x, &weights, &biases).pop()?))
    }
    #[cfg(not(cube_kernels))]
    {
        let _ = (layers, x);
        None
    }
}

#[cfg(cube_kernels)]
mod cube {
    use burn::optim::GradientsParams;
    use burn::tensor::{Int, Tensor};
    use burn_cubecl::tensor::CubeTensor;

    use super::super::cube::{f32_of, i32_of, is_cube, wrap};
    use super::super::fused_xent;
    use super::super::matmul::{Epilogue, Operand, matmul, weight_grads};
    use super::DenseLayer;

    pub(super) fn grads(
        layers: &[DenseLayer],
        x: &Tensor<2>,
        labels: &Tensor<1, Int>,
        acc: &Tensor<1>,
    ) -> Option<GradientsParams> {
        let rows = x.dims()[0];
        if !is_cube(&x.device()) {
            return None;
        }
        // The backward pass masks with the ReLUs between layers only, and registers a gradient
        // for every parameter (autodiff skips frozen ones): other stacks go to autodiff.
        let frozen = |l: &DenseLayer| {
            !l.linear.weight.val().is_require_grad()
                || l.linear.bias.as_ref().is_some_and(|b| !b.val().is_require_grad())
        };
        if layers.last().is_none_or(|l| l.relu) || layers.iter().any(frozen) {
            return None;
        }
        if rows == 0 || labels.dims()[0] != rows || acc.dims()[0] != 2 {
            return None;
        }
        // Every operand is checked before the first launch, so a `None` leaves nothing half done.
        i32_of(labels)?;
        f32_of(acc)?;
        let (x, weights, biases) = operands(layers, x)?;
        let mut inputs = forward(layers, x, &weights, &biases);
        let logits = inputs.pop().expect("one output per layer");
        let mut delta = f32_of(&fused_xent(&wrap(logits), labels, acc)?)?;

        // Backward: `delta` is the loss's gradient with respect to layer i's output.
        let mut grads = GradientsParams::new();
        for i in (0..layers.len()).rev() {
            let bias = layers[i].linear.bias.as_ref();
            let (dw, db) = weight_grads(&inputs[i], &delta, bias.is_some());
            grads.register::<2>(layers[i].linear.weight.id, wrap(dw));
            if let (Some(b), Some(db)) = (bias, db) {
                grads.register::<1>(b.id, wrap(db));
            }
            if i > 0 {
                let epilogue = if layers[i - 1].relu {
                    Epilogue::ReluMask(&inputs[i])
                } else {
                    Epilogue::Plain
                };
                delta = matmul(Operand::of(&delta), Operand::transposed(&weights[i]), epilogue);
            }
        }
        Some(grads)
    }

    type Operands = (CubeTensor, Vec<CubeTensor>, Vec<Option<CubeTensor>>);

    /// The input, weights and biases as WebGPU tensors, if they are ones and their shapes chain.
    pub(super) fn operands(layers: &[DenseLayer], x: &Tensor<2>) -> Option<Operands> {
        let [rows, mut width] = x.dims();
        if layers.is_empty() || rows == 0 {
            return None;
        }
        let x = f32_of(x)?;
        let mut weights = Vec::with_capacity(layers.len());
        let mut biases = Vec::with_capacity(layers.len());
        for layer in layers {
            let w = layer.linear.weight.val().inner();
            let [inputs, outputs] = w.dims();
            // A layer without inputs is declined: `matmul::weight_grads` needs a row of xᵀ.
            if inputs == 0 || inputs != width || outputs == 0 {
                return None;
            }
            width = outputs;
            weights.push(f32_of(&w)?);
            biases.push(match &layer.linear.bias {
                Some(b) => {
                    let b = b.val().inner();
                    if b.dims()[0] != outputs {
                        return None;
                    }
                    Some(f32_of(&b)?)
                }
                None => None,
            });
        }
        Some((x, weights, biases))
    }

    /// Every layer's input (after the previous layer's ReLU, if any), then the logits.
    pub(super) fn forward(
        layers: &[DenseLayer],
        x: CubeTensor,
        weights: &[CubeTensor],
        biases: &[Option<CubeTensor>],
    ) -> Vec<CubeTensor> {
        let mut inputs = vec![x];
        for (i, layer) in layers.iter().enumerate() {
            let epilogue = Epilogue::Bias(biases[i].as_ref(), layer.relu);
            let out = matmul(Operand::of(&inputs[i]), Operand::of(&weights[i]), epilogue);
            inputs.push(out);
        }
        inputs
    }
}
