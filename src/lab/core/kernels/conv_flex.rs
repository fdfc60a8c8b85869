//! The CNN GAN's Conv2d and ConvTranspose2d inside burn's autodiff graph on the Flex CPU
//! backend, computed as wide GEMMs by `conv_cpu.rs`: a custom autodiff operation (burn's
//! `backend_extension`) whose backward pass computes only the gradients autodiff asks for — a
//! Conv2d's data gradient is its transpose's forward pass and the reverse, and both share one
//! weight gradient at the true kernel size.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, backend_extension};
use burn::tensor::Tensor;

use super::conv_cpu::{Mat, Sides, channel_sums, down, up, weight_grad};
use super::conv_geometry::{Geometry, Operands, side};
use super::flex::{tensor, values};
use super::launches::{Kernel, count};

/// The layer through [`CpuConvOps`]; `pad_out` and `up` as in `conv.rs`.
pub(super) fn conv(ops: Operands, geo: Geometry, pad_out: usize, up: bool) -> Tensor<4> {
    let Operands { x, w, b, has_bias } = ops;
    let (s, p) = (geo.stride, geo.pad);
    Tensor::from_dispatch(<Dispatch as CpuConvOps>::cpu_conv(x, w, b, s, p, pad_out, has_bias, up))
}

/// The operation, routed by burn to Flex or to its autodiff wrapper.
#[backend_extension(Flex, Autodiff)]
pub trait CpuConvOps: Backend {
    /// A Conv2d (`up` false: `x` `[B, Ci, H, W]`, `w` `[Co, Ci, k, k]`) or a ConvTranspose2d
    /// (`up`: `w` `[Ci, Co, k, k]`), plus `b` `[Co]` when `bias`.
    #[allow(clippy::too_many_arguments)]
    fn cpu_conv(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        b: FloatTensor<Self>,
        stride: usize,
        pad: usize,
        pad_out: usize,
        bias: bool,
        up: bool,
    ) -> FloatTensor<Self>;
}

/// A weight `[w0, w1, k, k]` as the row-major matrix `[w0, w1·k·k]`: a Conv2d's `[Co, Ci·k·k]`,
/// a ConvTranspose2d's `[Ci, Co·k·k]`.
fn weight_matrix(w: &[f32], [w0, w1, k0, k1]: [usize; 4]) -> Mat<'_> {
    Mat::row_major(w, w0, w1 * k0 * k1)
}

fn dims(t: &FlexTensor) -> [usize; 4] {
    let s = burn::backend::TensorMetadata::shape(t);
    [s[0], s[1], s[2], s[3]]
}

/// What one operation needs besides its tensors.
#[derive(Debug, Clone, Copy)]
struct Conv {
    geo: Geometry,
    pad_out: usize,
    up: bool,
}

impl Conv {
    /// The sides for input `x` `[B, C, H, W]`: a Conv2d's input is its big side, a transpose's
    /// its small one (`conv.rs`'s `applies` checked that the output is not empty).
    fn sides(self, x: [usize; 4]) -> Sides {
        let [b, _, h, w] = x;
        let out = [h, w].map(|n| side(n, self.geo, self.pad_out, self.up).unwrap_or(0));
        let (big, small) = if self.up { (out, [h, w]) } else { ([h, w], out) };
        Sides { batch: b, big, small, geo: self.geo }
    }

    fn forward(self, x: &FlexTensor, w: &FlexTensor, b: Option<&FlexTensor>) -> FlexTensor {
        count(Kernel::CpuConv);
        let (xd, wd) = (dims(x), dims(w));
        let [w0, w1, ..] = wd;
        let sides = self.sides(xd);
        let (xv, wv) = (values(x), values(w));
        let bv = b.map(values);
        let bias = bv.as_deref();
        if self.up {
            let y = up(&xv, w0, weight_matrix(&wv, wd).t(), bias, sides);
            tensor(y, [xd[0], w1, sides.big[0], sides.big[1]])
        } else {
            let y = down(&xv, w1, weight_matrix(&wv, wd), bias, sides);
            tensor(y, [xd[0], w0, sides.small[0], sides.small[1]])
        }
    }
}

impl CpuConvOps for Flex {
    fn cpu_conv(
        x: FlexTensor,
        w: FlexTensor,
        b: FlexTensor,
        stride: usize,
        pad: usize,
        pad_out: usize,
        bias: bool,
        up: bool,
    ) -> FlexTensor {
        let geo = Geometry { kernel: dims(&w)[2], stride, pad };
        Conv { geo, pad_out, up }.forward(&x, &w, bias.then_some(&b))
    }
}

/// The backward pass. A Conv2d: dx = up(dy, wᵀ), dw = weight_grad(x, dy). A ConvTranspose2d:
/// dx = down(dy, w), dw = weight_grad(dy, x). db = dy's channel sums. Each only when asked for.
#[derive(Debug)]
struct ConvBackward(Conv);

impl Backward<Flex, 3> for ConvBackward {
    /// x and w as the forward pass read them.
    type State = (FlexTensor, FlexTensor);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_w, node_b] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        let (x, w) = ops.state;
        let conv = self.0;
        let (xd, wd, yd) = (dims(&x), dims(&w), dims(&dy));
        let sides = conv.sides(xd);
        let dyv = values(&dy);
        if let Some(node) = node_x {
            count(Kernel::CpuConv);
            let wv = values(&w);
            let dx = if conv.up {
                down(&dyv, wd[1], weight_matrix(&wv, wd), None, sides)
            } else {
                up(&dyv, wd[0], weight_matrix(&wv, wd).t(), None, sides)
            };
            grads.register::<Flex>(node.id, tensor(dx, xd));
        }
        if let Some(node) = node_w {
            count(Kernel::CpuConv);
            let xv = values(&x);
            let dw = if conv.up {
                weight_grad(&dyv, yd[1], &xv, xd[1], sides)
            } else {
                weight_grad(&xv, xd[1], &dyv, yd[1], sides)
            };
            grads.register::<Flex>(node.id, tensor(dw, wd));
        }
        if let Some(node) = node_b {
            let sums = channel_sums(&dyv, yd[1], yd[2] * yd[3]);
            let n = sums.len();
            grads.register::<Flex>(node.id, tensor(sums, [n]));
        }
    }
}

impl<C: CheckpointStrategy> CpuConvOps for Autodiff<Flex, C> {
    fn cpu_conv(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        b: FloatTensor<Self>,
        stride: usize,
        pad: usize,
        pad_out: usize,
        bias: bool,
        up: bool,
    ) -> FloatTensor<Self> {
        let geo = Geometry { kernel: dims(w.primitive())[2], stride, pad };
        let conv = Conv { geo, pad_out, up };
        let nodes = [x.node(), w.node(), b.node()];
        match ConvBackward(conv).prepare::<C>(nodes).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (x, w) = (x.into_primitive(), w.into_primitive());
                let y = conv.forward(&x, &w, bias.then(|| b.into_primitive()).as_ref());
                prep.finish((x, w), y)
            }
            OpsKind::UnTracked(prep) => {
                let (x, w) = (x.into_primitive(), w.into_primitive());
                prep.finish(conv.forward(&x, &w, bias.then(|| b.into_primitive()).as_ref()))
            }
        }
    }
}
