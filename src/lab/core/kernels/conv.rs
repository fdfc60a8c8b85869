//! The CNN GAN's Conv2d and ConvTranspose2d inside burn's autodiff graph: on WebGPU by our
//! convolution kernels (`conv_kernels.rs`), on the Flex CPU backend as wide GEMMs
//! (`conv_flex.rs`, `conv_cpu.rs`).
//!
//! As for the dense layers (`linear.rs`), each is a custom autodiff operation (burn's
//! `backend_extension`): forward, one pass with the bias added; backward, one pass for each
//! of the input's and the weight's gradients that autodiff asks for, and one sum per channel for
//! the bias's. A Conv2d's input gradient is a transposed convolution of its output's gradient and
//! the reverse, so the two operations share their kernels.

use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::tensor::{DType, Tensor};

use super::conv_geometry::{Geometry, Operands, side};

/// A square kernel, one stride and one padding on every side, no groups or dilation: the only
/// convolutions the kernels take (all the CNN GAN has).
fn square(
    kernel: [usize; 2],
    stride: [usize; 2],
    dilation: [usize; 2],
    groups: usize,
    pad: Option<usize>,
) -> Option<Geometry> {
    let pad = pad?;
    (kernel[0] == kernel[1]
        && stride[0] == stride[1]
        && dilation == [1, 1]
        && groups == 1
        && stride[0] >= 1
        // The transposed kernel's valid taps start below the stride.
        && kernel[0] >= stride[0])
        .then_some(Geometry { kernel: kernel[0], stride: stride[0], pad })
}

/// Whether a convolution can run on our kernels at all: f32, a non-empty batch, image and
/// channels (a padded tap reads the channel's first pixel on WebGPU and discards it), the
/// weight's input channels those of `x`, a bias (if any) per output channel, a non-empty output.
/// Returns the output's sides.
fn fits(
    x: &Tensor<4>,
    w: &Tensor<4>,
    bias: Option<&Tensor<1>>,
    geo: Geometry,
    pad_out: usize,
    up: bool,
) -> Option<[usize; 2]> {
    let ([b, c, h, wd], [w0, w1, k0, k1]) = (x.dims(), w.dims());
    let (cin, cout) = if up { (w0, w1) } else { (w1, w0) };
    let out = [side(h, geo, pad_out, up)?, side(wd, geo, pad_out, up)?];
    ([x.dtype(), w.dtype()] == [DType::F32; 2]
        && bias.is_none_or(|t| t.dtype() == DType::F32 && t.dims() == [cout])
        && b > 0
        && c > 0
        && h > 0
        && wd > 0
        && c == cin
        && cout > 0
        && [k0, k1] == [geo.kernel; 2])
        .then_some(out)
}

/// The layer on our kernels where they take it, else `None`.
fn on_kernels(
    x: &Tensor<4>,
    w: Tensor<4>,
    bias: Option<Tensor<1>>,
    geo: Geometry,
    pad_out: usize,
    up: bool,
) -> Option<Tensor<4>> {
    if !super::switch::layer_kernels_on() {
        return None;
    }
    let out = fits(x, &w, bias.as_ref(), geo, pad_out, up)?;
    #[cfg(cube_kernels)]
    if super::cube::is_cube(&x.device()) {
        return cube::applies(x, out)
            .then(|| cube::conv(Operands::new(x.clone(), w, bias), geo, pad_out, up));
    }
    let _ = out;
    super::flex::is_flex(&x.device())
        .then(|| super::conv_flex::conv(Operands::new(x.clone(), w, bias), geo, pad_out, up))
}

/// `layer.forward(x)` for images `x` `[B, C, H, W]`: by our kernels on WebGPU and on Flex (f32,
/// a square kernel no narrower than its stride, the same padding on every side, kernels on:
/// see [`super::layer_kernels`]), by burn's operations elsewhere. Both give the same values and
/// gradients to rounding (`tests/browser/conv.rs`, `tests/conv_cpu.rs`).
pub fn conv2d(layer: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    let pad = match layer.padding {
        PaddingConfig2d::Valid => Some(0),
        PaddingConfig2d::Explicit(t, l, b, r) if [l, b, r] == [t; 3] => Some(t),
        _ => None,
    };
    let bias = layer.bias.as_ref().map(|b| b.val());
    square(layer.kernel_size, layer.stride, layer.dilation, layer.groups, pad)
        .and_then(|geo| on_kernels(&x, layer.weight.val(), bias, geo, 0, false))
        .unwrap_or_else(|| layer.forward(x))
}

/// `layer.forward(x)` for a ConvTranspose2d, on the same terms as [`conv2d`].
pub fn conv_transpose2d(layer: &ConvTranspose2d, x: Tensor<4>) -> Tensor<4> {
    let bias = layer.bias.as_ref().map(|b| b.val());
    let pad = layer.padding[0];
    (layer.padding[1] == pad && layer.padding_out[0] == layer.padding_out[1])
        .then(|| square(layer.kernel_size, layer.stride, layer.dilation, layer.groups, Some(pad)))
        .flatten()
        .and_then(|geo| on_kernels(&x, layer.weight.val(), bias, geo, layer.padding_out[0], true))
        .unwrap_or_else(|| layer.forward(x))
}

#[cfg(cube_kernels)]
mod cube {
    use burn::backend::autodiff::checkpoint::base::Checkpointer;
    use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
    use burn::backend::autodiff::grads::Gradients;
    use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
    use burn::backend::tensor::FloatTensor;
    use burn::backend::{Autodiff, Backend, Cube, Dispatch, backend_extension};
    use burn::tensor::Tensor;
    use burn_cubecl::kernel::into_contiguous;
    use burn_cubecl::tensor::CubeTensor;

    use super::super::conv_geometry::{Geometry, Operands, side};
    use super::super::conv_grads::{channel_sums, conv_weight_grad};
    use super::super::conv_kernels::{conv_down, conv_up};

    /// Positions a launch may cover along one workgroup dimension: WebGPU allows 65 535
    /// workgroups per dimension, and each covers 64 positions.
    const MAX_POSITIONS: usize = 65_535 * 64;

    /// Whether one launch covers the convolution's positions, forward and in the data
    /// gradient (`out`: the output's sides).
    pub(super) fn applies(x: &Tensor<4>, [ho, wo]: [usize; 2]) -> bool {
        let [b, _, h, wd] = x.dims();
        b.saturating_mul((h * wd).max(ho * wo)) <= MAX_POSITIONS
    }

    /// The layer through [`ConvOps`].
    pub(super) fn conv(ops: Operands, geo: Geometry, pad_out: usize, up: bool) -> Tensor<4> {
        let Operands { x, w, b, has_bias } = ops;
        let (s, p) = (geo.stride, geo.pad);
        Tensor::from_dispatch(if up {
            <Dispatch as ConvOps>::conv_up(x, w, b, s, p, pad_out, has_bias)
        } else {
            <Dispatch as ConvOps>::conv_down(x, w, b, s, p, has_bias)
        })
    }

    /// The operations, routed by burn to the plain WebGPU backend or to its autodiff wrapper.
    #[backend_extension(Cube, Autodiff)]
    pub trait ConvOps: Backend {
        /// A Conv2d: `x` `[B, Ci, H, W]`, `w` `[Co, Ci, k, k]`, `b` `[Co]` (read when `bias`).
        fn conv_down(
            x: FloatTensor<Self>,
            w: FloatTensor<Self>,
            b: FloatTensor<Self>,
            stride: usize,
            pad: usize,
            bias: bool,
        ) -> FloatTensor<Self>;

        /// A ConvTranspose2d: `x` `[B, Ci, H, W]`, `w` `[Ci, Co, k, k]`, `b` `[Co]`.
        fn conv_up(
            x: FloatTensor<Self>,
            w: FloatTensor<Self>,
            b: FloatTensor<Self>,
            stride: usize,
            pad: usize,
            pad_out: usize,
            bias: bool,
        ) -> FloatTensor<Self>;
    }

    /// The forward pass on row-major tensors (`pad_out` for a transpose only).
    fn forward(
        x: &CubeTensor,
        w: &CubeTensor,
        b: Option<CubeTensor>,
        geo: Geometry,
        pad_out: usize,
        up: bool,
    ) -> CubeTensor {
        let b = b.map(into_contiguous);
        let s = x.meta.shape();
        // `applies` checked the sides before the operation was built.
        let out = [s[2], s[3]].map(|n| side(n, geo, pad_out, up).unwrap_or(0));
        if up { conv_up(x, w, b.as_ref(), geo, out) } else { conv_down(x, w, b.as_ref(), geo, out) }
    }

    fn geometry(w: &CubeTensor, stride: usize, pad: usize) -> Geometry {
        Geometry { kernel: w.meta.shape()[2], stride, pad }
    }

    impl ConvOps for Cube {
        fn conv_down(
            x: CubeTensor,
            w: CubeTensor,
            b: CubeTensor,
            stride: usize,
            pad: usize,
            bias: bool,
        ) -> CubeTensor {
            let (x, w) = (into_contiguous(x), into_contiguous(w));
            let geo = geometry(&w, stride, pad);
            forward(&x, &w, bias.then_some(b), geo, 0, false)
        }

        fn conv_up(
            x: CubeTensor,
            w: CubeTensor,
            b: CubeTensor,
            stride: usize,
            pad: usize,
            pad_out: usize,
            bias: bool,
        ) -> CubeTensor {
            let (x, w) = (into_contiguous(x), into_contiguous(w));
            let geo = geometry(&w, stride, pad);
            forward(&x, &w, bias.then_some(b), geo, pad_out, true)
        }
    }

    /// The backward pass of either. For a Conv2d (`up` false): dx = the transpose of dy with
    /// w, dw from dy and x, db = dy's channel sums. For a ConvTranspose2d: dx = the
    /// convolution of dy with w, dw from x and dy. Each only when asked for.
    #[derive(Debug)]
    struct ConvBackward {
        geo: Geometry,
        up: bool,
    }

    impl Backward<Cube, 3> for ConvBackward {
        /// x and w, as the forward pass read them (row-major).
        type State = (CubeTensor, CubeTensor);

        fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
            let [node_x, node_w, node_b] = ops.parents;
            let dy = into_contiguous(grads.consume::<Cube>(&ops.node));
            let (x, w) = ops.state;
            let (geo, s) = (self.geo, x.meta.shape());
            let x_side = [s[2], s[3]];
            if let Some(node) = node_x {
                let dx = if self.up {
                    conv_down(&dy, &w, None, geo, x_side)
                } else {
                    conv_up(&dy, &w, None, geo, x_side)
                };
                grads.register::<Cube>(node.id, dx);
            }
            if let Some(node) = node_w {
                let dw = if self.up {
                    conv_weight_grad(&x, &dy, geo)
                } else {
                    conv_weight_grad(&dy, &x, geo)
                };
                grads.register::<Cube>(node.id, dw);
            }
            if let Some(node) = node_b {
                grads.register::<Cube>(node.id, channel_sums(&dy));
            }
        }
    }

    /// The autodiff side of both operations.
    #[allow(clippy::too_many_arguments)]
    fn tracked<C: CheckpointStrategy>(
        x: FloatTensor<Autodiff<Cube, C>>,
        w: FloatTensor<Autodiff<Cube, C>>,
        b: FloatTensor<Autodiff<Cube, C>>,
        stride: usize,
        pad: usize,
        pad_out: usize,
        bias: bool,
        up: bool,
    ) -> FloatTensor<Autodiff<Cube, C>> {
        let geo = Geometry { kernel: w.primitive().meta.shape()[2], stride, pad };
        let nodes = [x.node(), w.node(), b.node()];
        match (ConvBackward { geo, up }).prepare::<C>(nodes).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let x = into_contiguous(x.into_primitive());
                let w = into_contiguous(w.into_primitive());
                let y = forward(&x, &w, bias.then(|| b.into_primitive()), geo, pad_out, up);
                prep.finish((x, w), y)
            }
            OpsKind::UnTracked(prep) => {
                let (x, w) =
                    (into_contiguous(x.into_primitive()), into_contiguous(w.into_primitive()));
                prep.finish(forward(&x, &w, bias.then(|| b.into_primitive()), geo, pad_out, up))
            }
        }
    }

    impl<C: CheckpointStrategy> ConvOps for Autodiff<Cube, C> {
        fn conv_down(
            x: FloatTensor<Self>,
            w: FloatTensor<Self>,
            b: FloatTensor<Self>,
            stride: usize,
            pad: usize,
            bias: bool,
        ) -> FloatTensor<Self> {
            tracked::<C>(x, w, b, stride, pad, 0, bias, false)
        }

        fn conv_up(
            x: FloatTensor<Self>,
            w: FloatTensor<Self>,
            b: FloatTensor<Self>,
            stride: usize,
            pad: usize,
            pad_out: usize,
            bias: bool,
        ) -> FloatTensor<Self> {
            tracked::<C>(x, w, b, stride, pad, pad_out, bias, true)
        }
    }
}
