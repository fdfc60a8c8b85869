//! What the WebGPU and CPU convolutions share: a square convolution's geometry, its output
//! side, and the operation's three tensors.

use burn::backend::DispatchTensor;
use burn::tensor::Tensor;

/// A square convolution's kernel side, stride and padding (the same on every side).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Geometry {
    pub kernel: usize,
    pub stride: usize,
    pub pad: usize,
}

/// The output's side for an input side `n`: a convolution's, or a transpose's (`up`), whose
/// `pad_out` extends it. `None` when it would be empty.
pub(super) fn side(n: usize, geo: Geometry, pad_out: usize, up: bool) -> Option<usize> {
    let (n, k, s, p) = (n as i64, geo.kernel as i64, geo.stride as i64, geo.pad as i64);
    let out = if up { (n - 1) * s + k + pad_out as i64 - 2 * p } else { (n + 2 * p - k) / s + 1 };
    let fits = if up { n >= 1 } else { n + 2 * p >= k };
    (fits && out >= 1).then_some(out as usize)
}

/// A convolution's three tensors as burn's dispatch takes them, and whether the third is a
/// bias. Without one, the weight stands in for the third tensor, which is then never read: as
/// a new leaf that requires no gradient (`set_require_grad(false)`), so autodiff neither sees a
/// second use of the weight nor asks for a gradient of it (with burn's `detach` alone it kept
/// `require_grad`, and a bias gradient was computed for nothing: the WebGPU test's bias-sum
/// count caught it).
pub(super) struct Operands {
    pub x: DispatchTensor,
    pub w: DispatchTensor,
    pub b: DispatchTensor,
    pub has_bias: bool,
}

impl Operands {
    pub(super) fn new(x: Tensor<4>, w: Tensor<4>, bias: Option<Tensor<1>>) -> Self {
        let has_bias = bias.is_some();
        let b = match bias {
            Some(b) => b.into_dispatch(),
            None => w.clone().set_require_grad(false).into_dispatch(),
        };
        Self { x: x.into_dispatch(), w: w.into_dispatch(), b, has_bias }
    }
}
