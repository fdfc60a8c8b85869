//! A square convolution's geometry and its output side, shared by the WebGPU and CPU kernels.

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
