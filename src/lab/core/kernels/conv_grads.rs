//! Convolutions' weight and bias gradients on WebGPU: `dw[o,i,ky,kx] = Σ_{b,y,x} g[b,o,y,x] ·
//! x[b,i,y·s−p+ky, x·s−p+kx]`. For a Conv2d `g` is its output's gradient and `x` its input; for a
//! ConvTranspose2d, `g` is its input and `x` its output's gradient (the transpose's weight
//! `[Ci, Co, k, k]` is then `[g's channels, x's channels, k, k]`).
//!
//! The weight gradient is a product whose sum runs over the batch and the image: rows are g's
//! channels, columns (x's channel, tap), 8 × 8 per thread. Where x's channels are a multiple of
//! 8 the columns go tap by tap, so that a thread's 8 columns share their tap: the rows and
//! columns of g that tap reaches inside x form a rectangle, found once, and the loops run inside
//! it with no bounds test. Where few threads cover the weights (64·25 for D's first layer) the
//! batch is split into chunks whose partial sums `sum_rows` then adds: a GPU would otherwise run
//! a few dozen long threads.

use burn::tensor::DType;
use burn_cubecl::cubecl::{self, prelude::*};
use burn_cubecl::tensor::CubeTensor;

use super::conv_kernels::{GROUP, Geometry, TILE, dims};
use super::cube::empty;
use super::launches::{Kernel, count};
use super::matmul::{outer_product_add, sum_rows};

#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
fn conv_weight_grad_kernel(
    g: &[f32],
    x: &[f32],
    out: &mut [f32],
    cg_n: usize,
    ho: usize,
    wo: usize,
    cx_n: usize,
    h: usize,
    wd: usize,
    batch: usize,
    per_chunk: usize,
    ksize: usize,
    stride: usize,
    pad: usize,
    #[comptime] tap_major: bool,
) {
    // Rows: g's channels; columns: (x's channel, tap), or with `tap_major` (x's channels a
    // multiple of 8) (tap, x's channel), so that a thread's 8 columns share their tap; z: a
    // chunk of the batch.
    let c0 = ABSOLUTE_POS_X as usize * TILE;
    let r0 = ABSOLUTE_POS_Y as usize * TILE;
    let chunk = ABSOLUTE_POS_Z as usize;
    let taps = ksize * ksize;
    let cols = cx_n * taps;
    if r0 < cg_n && c0 < cols {
        let (plane_in, plane_out) = (h * wd, ho * wo);
        let mut acc = Array::<f32>::new(TILE * TILE);
        #[unroll]
        for i in 0..TILE * TILE {
            acc[i] = 0.0f32;
        }
        let mut g_at = Array::<usize>::new(TILE);
        #[unroll]
        for i in 0..TILE {
            g_at[i] = cubecl::frontend::min(r0 + i, cg_n - 1) * plane_out;
        }
        let mut x_at = Array::<usize>::new(TILE);
        let mut av = Array::<f32>::new(TILE);
        let mut bv = Array::<f32>::new(TILE);
        let b_end = cubecl::frontend::min((chunk + 1) * per_chunk, batch);
        if tap_major {
            // One tap for the block: the rows and columns of g it reaches are a rectangle,
            // found once, and the loops run inside it with no test.
            let tap = c0 / cx_n;
            let (ky, kx) = (tap / ksize, tap % ksize);
            #[unroll]
            for j in 0..TILE {
                x_at[j] = (c0 % cx_n + j) * plane_in;
            }
            let mut oy_lo = 0usize;
            if ky < pad {
                oy_lo = (pad - ky).div_ceil(stride);
            }
            let mut oy_hi = 0usize;
            if h + pad > ky {
                oy_hi = cubecl::frontend::min(ho, (h + pad - ky).div_ceil(stride));
            }
            let mut ox_lo = 0usize;
            if kx < pad {
                ox_lo = (pad - kx).div_ceil(stride);
            }
            let mut ox_hi = 0usize;
            if wd + pad > kx {
                ox_hi = cubecl::frontend::min(wo, (wd + pad - kx).div_ceil(stride));
            }
            for b in chunk * per_chunk..b_end {
                let (gb, xb) = (b * cg_n * plane_out, b * cx_n * plane_in);
                for oy in oy_lo..oy_hi {
                    let (gy, xy) = (gb + oy * wo, xb + (oy * stride + ky - pad) * wd);
                    for ox in ox_lo..ox_hi {
                        let (go, xo) = (gy + ox, xy + ox * stride + kx - pad);
                        #[unroll]
                        for i in 0..TILE {
                            av[i] = g[g_at[i] + go];
                            bv[i] = x[x_at[i] + xo];
                        }
                        outer_product_add(&mut acc, &av, &bv, TILE, TILE);
                    }
                }
            }
        } else {
            let mut kys = Array::<usize>::new(TILE);
            let mut kxs = Array::<usize>::new(TILE);
            #[unroll]
            for i in 0..TILE {
                let col = cubecl::frontend::min(c0 + i, cols - 1);
                let t = col % taps;
                x_at[i] = (col / taps) * plane_in;
                kys[i] = t / ksize;
                kxs[i] = t % ksize;
            }
            for b in chunk * per_chunk..b_end {
                let (gb, xb) = (b * cg_n * plane_out, b * cx_n * plane_in);
                for oy in 0..ho {
                    for ox in 0..wo {
                        let (po, sy, sx) = (oy * wo + ox, oy * stride, ox * stride);
                        #[unroll]
                        for i in 0..TILE {
                            av[i] = g[gb + g_at[i] + po];
                            let (iy, ix) = (sy + kys[i], sx + kxs[i]);
                            let mut v = 0.0f32;
                            if iy >= pad && iy < h + pad && ix >= pad && ix < wd + pad {
                                v = x[xb + x_at[i] + (iy - pad) * wd + ix - pad];
                            }
                            bv[i] = v;
                        }
                        outer_product_add(&mut acc, &av, &bv, TILE, TILE);
                    }
                }
            }
        }
        #[unroll]
        for i in 0..TILE {
            #[unroll]
            for j in 0..TILE {
                let (row, col) = (r0 + i, c0 + j);
                if row < cg_n && col < cols {
                    // Column → (x's channel, tap) in the weights' layout.
                    let mut at = col;
                    if tap_major {
                        at = (col % cx_n) * taps + col / cx_n;
                    }
                    out[(chunk * cg_n + row) * cols + at] = acc[i * TILE + j];
                }
            }
        }
    }
}

#[cube(launch_unchecked)]
fn channel_sums_kernel(g: &[f32], out: &mut [f32], batch: usize, channels: usize, plane: usize) {
    let c = ABSOLUTE_POS;
    if c < channels {
        let mut s = 0.0f32;
        for b in 0..batch {
            let at = (b * channels + c) * plane;
            for p in 0..plane {
                s += g[at + p];
            }
        }
        out[c] = s;
    }
}

/// The weight gradient `[Cg, Cx, k, k]` of a convolution from `g` `[B, Cg, ho, wo]` to `x`
/// `[B, Cx, H, W]` (see the module's doc for which is which in a transpose).
pub(super) fn conv_weight_grad(g: &CubeTensor, x: &CubeTensor, geo: Geometry) -> CubeTensor {
    let ([b, cg, ho, wo], [_, cx, h, wd]) = (dims(g), dims(x));
    let cols = cx * geo.kernel * geo.kernel;
    let span = TILE * GROUP as usize;
    let (count_x, count_y) = (cols.div_ceil(span), cg.div_ceil(span));
    // Enough threads for a GPU to spread over (about 1 024); chunks never empty.
    let threads = count_x * count_y * (GROUP * GROUP) as usize;
    let chunks = 1024usize.div_ceil(threads).clamp(1, b);
    let per_chunk = b.div_ceil(chunks);
    let chunks = b.div_ceil(per_chunk);
    let shape = [cg, cx, geo.kernel, geo.kernel];
    let out = if chunks == 1 {
        empty(g, shape, DType::F32)
    } else {
        empty(g, [chunks, cg * cols], DType::F32)
    };
    // SAFETY: reads of `g` at batch < B (b < min(end, B)), channel < Cg (clamped) and position
    // < ho·wo; of `x` at channel < Cx (clamped), inside the image (checked); `out` holds
    // chunks·Cg·cols values and is written at chunk < chunks, row < Cg, column < cols.
    unsafe {
        conv_weight_grad_kernel::launch_unchecked(
            &out.client,
            CubeCount::Static(count_x as u32, count_y as u32, chunks as u32),
            CubeDim::new_2d(GROUP, GROUP),
            g.clone().into_buffer_arg(),
            x.clone().into_buffer_arg(),
            out.clone().into_buffer_arg(),
            cg,
            ho,
            wo,
            cx,
            h,
            wd,
            b,
            per_chunk,
            geo.kernel,
            geo.stride,
            geo.pad,
            cx % TILE == 0,
        );
    }
    count(Kernel::Conv);
    if chunks == 1 { out } else { sum_rows(&out, shape) }
}

/// Each channel's sum over the batch and the image of `g` `[B, C, H, W]`: a bias's gradient.
pub(super) fn channel_sums(g: &CubeTensor) -> CubeTensor {
    let [b, c, h, w] = dims(g);
    let out = empty(g, [c], DType::F32);
    // SAFETY: `g` holds B·C·H·W f32 in rows; thread `c` reads its channel's planes and writes
    // `out[c]` only when c < C.
    unsafe {
        channel_sums_kernel::launch_unchecked(
            &out.client,
            CubeCount::Static((c as u32).div_ceil(64), 1, 1),
            CubeDim::new_1d(64),
            g.clone().into_buffer_arg(),
            out.clone().into_buffer_arg(),
            b,
            c,
            h * w,
        );
    }
    count(Kernel::ChannelSums);
    out
}
