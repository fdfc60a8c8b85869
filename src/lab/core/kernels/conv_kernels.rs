//! The CNN GAN's convolutions on WebGPU as register-blocked products read straight from the
//! images (no im2col buffer): each thread computes 8 positions × 8 output channels (× 1 where a
//! layer has fewer than 8), as `matmul.rs` does for dense layers.
//!
//! Why our own: burn 0.22.1 built without autotune runs its `Direct` convolution, one output
//! value per thread, and its data and weight gradients likewise. Timed alone on SwiftShader
//! (2026-12-06, batch 256 for D, 128 for G), D's second layer took 6.7 s forward and 17 s
//! backward there, 1.6 and 4.2 s here; G's first transpose 4.3 and 6.0 s there, 0.9 and 2.1 s
//! here. A first version that tested every tap's bounds inside the loop over channels ran at
//! half that speed, the transposed one at a fifth; here each tap's pixel is found once per
//! position and the loop over input channels only loads and adds.
//!
//! Two kernels cover a convolution and its transpose, forward and backward, because each is
//! the other's data gradient:
//! - [`conv_down`]: `out[b,o,y,x] = Σ_{i,ky,kx} in[b,i,y·s−p+ky, x·s−p+kx] · w[o,i,ky,kx]`, a
//!   Conv2d's forward pass and a ConvTranspose2d's data gradient;
//! - [`conv_up`]: `out[b,o,y,x] = Σ in[b,i,(y+p−ky)/s, (x+p−kx)/s] · w[i,o,ky,kx]` over the taps
//!   where the division is exact, a ConvTranspose2d's forward pass and a Conv2d's data gradient.
//!   A thread's 8 positions share `y mod s` and `x mod s`, so they share their valid taps: the
//!   loop visits only those (a quarter of the 5×5 at stride 2).
//!
//! The weight gradients are `conv_grads.rs`'s. Sums run in another order than burn's, so
//! results agree to rounding (1e-5 of the largest value in `tests/browser/conv.rs`), not bit for
//! bit. On SwiftShader each of these kernels takes 15–40 s to compile the first time a page uses
//! it (LLVM on the CPU); on a GPU's driver that is milliseconds.

use burn::tensor::DType;
use burn_cubecl::cubecl::{self, prelude::*};
use burn_cubecl::tensor::CubeTensor;

use super::cube::empty;
use super::launches::{Kernel, count};
use super::matmul::outer_product_add;

/// Output rows and columns (positions and channels) of one thread's block.
pub(super) const TILE: usize = 8;
/// Threads per workgroup along each of the block's dimensions.
pub(super) const GROUP: u32 = 8;

pub(super) use super::conv_geometry::Geometry;

/// One tap's products over every input channel, the loop both kernels spend their time in:
/// `acc[i,j] += x[off[i] + ci·plane] · w[w_at[j] + ci·w_step + tap]` for `ci < ci_n`, with
/// `x` read as 0 where `inside[i]` is 0 (a padded tap: `off[i]` is then a pixel of the image,
/// read and discarded).
#[cube]
#[allow(clippy::too_many_arguments)]
fn tap_products(
    x: &[f32],
    w: &[f32],
    off: &Array<usize>,
    inside: &Array<u32>,
    w_at: &Array<usize>,
    acc: &mut Array<f32>,
    ci_n: usize,
    plane: usize,
    w_step: usize,
    tap: usize,
    #[comptime] tc: usize,
) {
    let mut av = Array::<f32>::new(TILE);
    let mut bv = Array::<f32>::new(tc);
    for ci in 0..ci_n {
        let (xo, wk) = (ci * plane, ci * w_step + tap);
        #[unroll]
        for i in 0..TILE {
            av[i] = select(inside[i] == 1u32, x[off[i] + xo], 0.0f32);
        }
        #[unroll]
        for j in 0..tc {
            bv[j] = w[w_at[j] + wk];
        }
        outer_product_add(acc, &av, &bv, TILE, tc);
    }
}

#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
fn conv_down_kernel(
    x: &[f32],
    w: &[f32],
    bias: &[f32],
    out: &mut [f32],
    ci_n: usize,
    h: usize,
    wd: usize,
    co_n: usize,
    ho: usize,
    wo: usize,
    positions: usize,
    ksize: usize,
    stride: usize,
    pad: usize,
    #[comptime] has_bias: bool,
    #[comptime] tc: usize,
) {
    let p0 = ABSOLUTE_POS_X as usize * TILE;
    let c0 = ABSOLUTE_POS_Y as usize * tc;
    if p0 < positions && c0 < co_n {
        let (plane_in, plane_out, taps) = (h * wd, ho * wo, ksize * ksize);
        let mut acc = Array::<f32>::new(TILE * tc);
        #[unroll]
        for i in 0..TILE * tc {
            acc[i] = 0.0f32;
        }
        // Per position: the image's offset and the window's corner before padding; per channel
        // the weights' row. Past the edge, the last position or channel is read (never written).
        let mut x_at = Array::<usize>::new(TILE);
        let mut ys = Array::<usize>::new(TILE);
        let mut xs = Array::<usize>::new(TILE);
        #[unroll]
        for i in 0..TILE {
            let p = cubecl::frontend::min(p0 + i, positions - 1);
            let r = p % plane_out;
            x_at[i] = (p / plane_out) * ci_n * plane_in;
            ys[i] = (r / wo) * stride;
            xs[i] = (r % wo) * stride;
        }
        let mut w_at = Array::<usize>::new(tc);
        #[unroll]
        for j in 0..tc {
            w_at[j] = cubecl::frontend::min(c0 + j, co_n - 1) * ci_n * taps;
        }
        // Per tap, each position's pixel (or, in the padding, a pixel that is read and
        // discarded) is found once; the loop over input channels then only loads and adds.
        let mut off = Array::<usize>::new(TILE);
        let mut inside = Array::<u32>::new(TILE);
        for ky in 0..ksize {
            for kx in 0..ksize {
                #[unroll]
                for i in 0..TILE {
                    let (iy, ix) = (ys[i] + ky, xs[i] + kx);
                    let mut o = x_at[i];
                    let mut f = 0u32;
                    if iy >= pad && iy < h + pad && ix >= pad && ix < wd + pad {
                        o += (iy - pad) * wd + ix - pad;
                        f = 1u32;
                    }
                    off[i] = o;
                    inside[i] = f;
                }
                let tap = ky * ksize + kx;
                tap_products(x, w, &off, &inside, &w_at, &mut acc, ci_n, plane_in, taps, tap, tc);
            }
        }
        #[unroll]
        for i in 0..TILE {
            let p = p0 + i;
            #[unroll]
            for j in 0..tc {
                let c = c0 + j;
                if p < positions && c < co_n {
                    let mut v = acc[i * tc + j];
                    if has_bias {
                        v += bias[c];
                    }
                    out[((p / plane_out) * co_n + c) * plane_out + p % plane_out] = v;
                }
            }
        }
    }
}

#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
fn conv_up_kernel(
    x: &[f32],
    w: &[f32],
    bias: &[f32],
    out: &mut [f32],
    ci_n: usize,
    h: usize,
    wd: usize,
    co_n: usize,
    ho: usize,
    wo: usize,
    batch: usize,
    qh: usize,
    qw: usize,
    ksize: usize,
    stride: usize,
    pad: usize,
    #[comptime] has_bias: bool,
    #[comptime] tc: usize,
) {
    // Positions y = qy·s + ry, x = qx·s + rx of one class (ry, rx) per z; per class, b·qh·qw.
    let q0 = ABSOLUTE_POS_X as usize * TILE;
    let c0 = ABSOLUTE_POS_Y as usize * tc;
    let class = ABSOLUTE_POS_Z as usize;
    let per_class = batch * qh * qw;
    if q0 < per_class && c0 < co_n {
        let (ry, rx) = (class / stride, class % stride);
        let (plane_in, plane_out, taps) = (h * wd, ho * wo, ksize * ksize);
        // The valid taps are ky = ky0 + t·s (t < ty_n); for them (y + p − ky) / s is
        // qy + (ry + p) / s − t: no division in the loop.
        let (ky0, kx0) = ((ry + pad) % stride, (rx + pad) % stride);
        let ty_n = (ksize - ky0).div_ceil(stride);
        let tx_n = (ksize - kx0).div_ceil(stride);
        let mut acc = Array::<f32>::new(TILE * tc);
        #[unroll]
        for i in 0..TILE * tc {
            acc[i] = 0.0f32;
        }
        let mut x_at = Array::<usize>::new(TILE);
        let mut ys = Array::<usize>::new(TILE);
        let mut xs = Array::<usize>::new(TILE);
        #[unroll]
        for i in 0..TILE {
            let q = cubecl::frontend::min(q0 + i, per_class - 1);
            let r = q % (qh * qw);
            x_at[i] = (q / (qh * qw)) * ci_n * plane_in;
            ys[i] = r / qw + (ry + pad) / stride;
            xs[i] = r % qw + (rx + pad) / stride;
        }
        let mut w_at = Array::<usize>::new(tc);
        #[unroll]
        for j in 0..tc {
            w_at[j] = cubecl::frontend::min(c0 + j, co_n - 1) * taps;
        }
        let mut off = Array::<usize>::new(TILE);
        let mut inside = Array::<u32>::new(TILE);
        for ty in 0..ty_n {
            for tx in 0..tx_n {
                #[unroll]
                for i in 0..TILE {
                    let mut o = x_at[i];
                    let mut f = 0u32;
                    if ys[i] >= ty && ys[i] < h + ty && xs[i] >= tx && xs[i] < wd + tx {
                        o += (ys[i] - ty) * wd + xs[i] - tx;
                        f = 1u32;
                    }
                    off[i] = o;
                    inside[i] = f;
                }
                let tap = (ky0 + ty * stride) * ksize + kx0 + tx * stride;
                let w_step = co_n * taps;
                tap_products(x, w, &off, &inside, &w_at, &mut acc, ci_n, plane_in, w_step, tap, tc);
            }
        }
        #[unroll]
        for i in 0..TILE {
            let q = q0 + i;
            let r = q % (qh * qw);
            let (y, xx) = ((r / qw) * stride + ry, (r % qw) * stride + rx);
            #[unroll]
            for j in 0..tc {
                let c = c0 + j;
                if q < per_class && y < ho && xx < wo && c < co_n {
                    let mut v = acc[i * tc + j];
                    if has_bias {
                        v += bias[c];
                    }
                    out[((q / (qh * qw)) * co_n + c) * plane_out + y * wo + xx] = v;
                }
            }
        }
    }
}

/// Output channels per thread and the workgroup's shape: 8 channels × 8 positions per thread
/// on 8×8 threads, or, for fewer than 8 channels (the generator's last layer has one), 1 × 8
/// on 64 threads along the positions, so that no thread computes channels that do not exist.
fn channel_tile(channels: usize) -> (usize, CubeDim) {
    if channels >= TILE {
        (TILE, CubeDim::new_2d(GROUP, GROUP))
    } else {
        (1, CubeDim::new_2d(GROUP * GROUP, 1))
    }
}

/// `[B, C, H, W]` of a 4-D tensor.
pub(super) fn dims(t: &CubeTensor) -> [usize; 4] {
    let s = t.meta.shape();
    [s[0], s[1], s[2], s[3]]
}

/// A Conv2d's forward pass (or a transpose's data gradient): `x` `[B, Ci, H, W]`, `w`
/// `[Co, Ci, k, k]`, `bias` `[Co]`, to `[B, Co, out_hw]`. All row-major f32 (the caller's
/// contract, checked by `conv.rs` before any launch).
pub(super) fn conv_down(
    x: &CubeTensor,
    w: &CubeTensor,
    bias: Option<&CubeTensor>,
    geo: Geometry,
    [ho, wo]: [usize; 2],
) -> CubeTensor {
    let ([b, ci, h, wd], co) = (dims(x), w.meta.shape()[0]);
    let out = empty(x, [b, co, ho, wo], DType::F32);
    let positions = b * ho * wo;
    let (tc, dim) = channel_tile(co);
    let count_x = (positions as u32).div_ceil(TILE as u32 * dim.x);
    let count_y = (co as u32).div_ceil(tc as u32 * dim.y);
    // SAFETY: every read of `x` is at a batch < B, a channel < Ci and a row and column inside
    // the image (a padded tap reads the channel's first pixel and discards it: H·W ≥ 1, checked
    // by `conv.rs`), of `w` at a channel < Co (clamped) and < Ci·k·k, of
    // `bias` (only when given) at a channel < Co; `out` is written at position < B·ho·wo and
    // channel < Co only.
    unsafe {
        conv_down_kernel::launch_unchecked(
            &out.client,
            CubeCount::Static(count_x, count_y, 1),
            dim,
            x.clone().into_buffer_arg(),
            w.clone().into_buffer_arg(),
            bias.unwrap_or(w).clone().into_buffer_arg(),
            out.clone().into_buffer_arg(),
            ci,
            h,
            wd,
            co,
            ho,
            wo,
            positions,
            geo.kernel,
            geo.stride,
            geo.pad,
            bias.is_some(),
            tc,
        );
    }
    count(Kernel::Conv);
    out
}

/// A ConvTranspose2d's forward pass (or a Conv2d's data gradient): `x` `[B, Ci, H, W]`, `w`
/// `[Ci, Co, k, k]`, `bias` `[Co]`, to `[B, Co, out_hw]`; `k ≥ stride` (checked by `conv.rs`).
pub(super) fn conv_up(
    x: &CubeTensor,
    w: &CubeTensor,
    bias: Option<&CubeTensor>,
    geo: Geometry,
    [ho, wo]: [usize; 2],
) -> CubeTensor {
    let ([b, ci, h, wd], co) = (dims(x), w.meta.shape()[1]);
    let out = empty(x, [b, co, ho, wo], DType::F32);
    let s = geo.stride;
    let (qh, qw) = (ho.div_ceil(s), wo.div_ceil(s));
    let (tc, dim) = channel_tile(co);
    let count_x = ((b * qh * qw) as u32).div_ceil(TILE as u32 * dim.x);
    let count_y = (co as u32).div_ceil(tc as u32 * dim.y);
    // SAFETY: reads of `x` are at a batch < B, a channel < Ci, and a row < H and column < W
    // (a tap outside the image reads the channel's first pixel and discards it: H·W ≥ 1, checked
    // by `conv.rs`); of `w` at input channel < Ci, output channel < Co (clamped)
    // and tap < k·k (ky0 < s ≤ k); `out` is written only at y < ho, x < wo, channel < Co.
    unsafe {
        conv_up_kernel::launch_unchecked(
            &out.client,
            CubeCount::Static(count_x, count_y, (s * s) as u32),
            dim,
            x.clone().into_buffer_arg(),
            w.clone().into_buffer_arg(),
            bias.unwrap_or(w).clone().into_buffer_arg(),
            out.clone().into_buffer_arg(),
            ci,
            h,
            wd,
            co,
            ho,
            wo,
            b,
            qh,
            qw,
            geo.kernel,
            s,
            geo.pad,
            bias.is_some(),
            tc,
        );
    }
    count(Kernel::Conv);
    out
}
