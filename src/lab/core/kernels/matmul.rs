//! Dense layers' matrix products on WebGPU, each thread computing an 8×8 block of the output,
//! with the layer's bias, ReLU or ReLU mask applied before the block is written, and a weight
//! gradient's product also giving the bias gradient ([`weight_grads`]).
//!
//! Why our own: burn 0.22.1 built without autotune sends every f32 product to cubek's general
//! `SimpleUnit` routine, and on SwiftShader that took 169 ms for the MLP's `[128,784]·[784,100]`
//! and 196 ms for its weight gradient `[784,128]·[128,100]`: three quarters of the MLP step. With
//! 4×4 blocks this kernel took 13 and 20 ms, with 8×8 blocks 6.5 and 6.0 ms (and 21 ms for the
//! dense GAN's `[128,784]·[784,512]`), with bit-identical results: both sum k in order (measured
//! 2026-12-06, one browser session each; 2×2 blocks, 8×4, 4×8, unrolling k by 2 or 4 and other
//! workgroup shapes were slower). Register blocking (a few values of A and of B read per k for
//! many products) is also what jax-js's generated kernels do. A transposed operand is read
//! through its strides, never copied. Untried on a hardware GPU, where a 64×64 block per
//! workgroup leaves small products few workgroups; there the step is bound by dispatches.

use burn::tensor::DType;
use burn_cubecl::cubecl::{self, prelude::*};
use burn_cubecl::tensor::CubeTensor;

use super::cube::empty;
use super::launches::{Kernel, count};

/// Rows and columns of the output block one thread computes.
const TILE: usize = 8;
/// Threads per workgroup along each output dimension.
const GROUP: u32 = 8;

/// What a product does to its block before writing it.
pub(super) enum Epilogue<'a> {
    /// `A·B` as is.
    Plain,
    /// `A·B + bias` (a row vector), then ReLU when asked: a dense layer's forward pass.
    Bias(Option<&'a CubeTensor>, bool),
    /// `(A·B) ⊙ [h > 0]`: the gradient through a ReLU whose output was `h` (same shape as the
    /// product), as burn's ReLU backward masks it.
    ReluMask(&'a CubeTensor),
}

/// `acc[i·cols + j] += av[i]·bv[j]`: one k step of a register block, the inner loop of every
/// product here and in the convolution kernels (expanded inline, fully unrolled).
#[cube]
pub(super) fn outer_product_add(
    acc: &mut Array<f32>,
    av: &Array<f32>,
    bv: &Array<f32>,
    #[comptime] rows: usize,
    #[comptime] cols: usize,
) {
    #[unroll]
    for i in 0..rows {
        #[unroll]
        for j in 0..cols {
            acc[i * cols + j] += av[i] * bv[j];
        }
    }
}

#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
fn matmul_kernel(
    a: &[f32],
    b: &[f32],
    extra: &[f32],
    c: &mut [f32],
    sums: ComptimeOption<&mut [f32]>,
    m: usize,
    k: usize,
    n: usize,
    ars: usize,
    acs: usize,
    brs: usize,
    bcs: usize,
    #[comptime] bias: bool,
    #[comptime] relu: bool,
    #[comptime] mask: bool,
) {
    // A's element (r, kk) is at r·ars + kk·acs, B's (kk, c) at kk·brs + c·bcs. With `sums`, A
    // has a row m of ones under its last, whose products (B's column sums) go to `sums`.
    let col0 = ABSOLUTE_POS_X as usize * TILE;
    let row0 = ABSOLUTE_POS_Y as usize * TILE;
    let mut rows = m;
    if sums.is_some() {
        rows = m + 1;
    }
    if row0 < rows && col0 < n {
        let mut acc = Array::<f32>::new(TILE * TILE);
        #[unroll]
        for i in 0..TILE * TILE {
            acc[i] = 0.0f32;
        }
        // Rows and columns past the edge read the last one (no bounds test in the loop over k);
        // their products are never written, but for the ones row's (below).
        let mut a_at = Array::<usize>::new(TILE);
        let mut b_at = Array::<usize>::new(TILE);
        #[unroll]
        for i in 0..TILE {
            a_at[i] = cubecl::frontend::min(row0 + i, m - 1) * ars;
            b_at[i] = cubecl::frontend::min(col0 + i, n - 1) * bcs;
        }
        let mut av = Array::<f32>::new(TILE);
        let mut bv = Array::<f32>::new(TILE);
        for kk in 0..k {
            let (ao, bo) = (kk * acs, kk * brs);
            #[unroll]
            for i in 0..TILE {
                av[i] = a[a_at[i] + ao];
                bv[i] = b[b_at[i] + bo];
            }
            // Only the last block of rows holds the ones row (on SwiftShader, whose SIMD groups
            // are 4 neighbouring threads of one row of blocks, every lane branches alike); 1·x is
            // x, so the sums are col_sums's.
            if sums.is_some() && row0 + TILE > m {
                #[unroll]
                for i in 0..TILE {
                    if row0 + i == m {
                        av[i] = 1.0f32;
                    }
                }
            }
            outer_product_add(&mut acc, &av, &bv, TILE, TILE);
        }
        #[unroll]
        for i in 0..TILE {
            #[unroll]
            for j in 0..TILE {
                let (row, col) = (row0 + i, col0 + j);
                if row < m && col < n {
                    let mut v = acc[i * TILE + j];
                    if bias {
                        v += extra[col];
                    }
                    // As burn's ReLU: zero where ≤ 0 (a NaN stays NaN, as it does there).
                    if relu && v <= 0.0f32 {
                        v = 0.0f32;
                    }
                    if mask && extra[row * n + col] <= 0.0f32 {
                        v = 0.0f32;
                    }
                    c[row * n + col] = v;
                }
            }
        }
        // The outer `if` is decided when the kernel is compiled, the inner one when it runs.
        #[allow(clippy::collapsible_if)]
        #[comptime]
        if let ComptimeOption::Some(sums) = sums {
            if row0 + TILE > m {
                let i = m - row0;
                #[unroll]
                for j in 0..TILE {
                    if col0 + j < n {
                        sums[col0 + j] = acc[i * TILE + j];
                    }
                }
            }
        }
    }
}

/// An operand: a row-major `[rows, cols]` tensor, used as is or transposed.
pub(super) struct Operand<'a> {
    pub t: &'a CubeTensor,
    pub transposed: bool,
}

impl<'a> Operand<'a> {
    pub fn of(t: &'a CubeTensor) -> Self {
        Self { t, transposed: false }
    }

    pub fn transposed(t: &'a CubeTensor) -> Self {
        Self { t, transposed: true }
    }

    /// (rows, cols, row stride, column stride) of the operand as used.
    fn layout(&self) -> (usize, usize, usize, usize) {
        let (r, c) = (self.t.meta.shape()[0], self.t.meta.shape()[1]);
        if self.transposed { (c, r, 1, c) } else { (r, c, c, 1) }
    }
}

/// `A·B` with `epilogue` applied, a new row-major `[m, n]` tensor. The operands are 2-D,
/// contiguous f32 tensors whose inner dimensions agree (the caller's contract: checked by
/// `kernels::dense` before any launch).
pub(super) fn matmul(a: Operand, b: Operand, epilogue: Epilogue) -> CubeTensor {
    launch(a, b, epilogue, false).0
}

/// A dense layer's weight and bias gradients from one launch: `xᵀ·dy` (`[inputs, outputs]`) and,
/// when `bias`, dy's column sums (`[outputs]`), summed in the order [`col_sums`] sums them. The
/// sums are the products of a row of ones under xᵀ: one dispatch where there were two. x has at
/// least one column (the callers decline layers without inputs), else that row would read
/// before x's first.
pub(super) fn weight_grads(
    x: &CubeTensor,
    dy: &CubeTensor,
    bias: bool,
) -> (CubeTensor, Option<CubeTensor>) {
    launch(Operand::transposed(x), Operand::of(dy), Epilogue::Plain, bias)
}

fn launch(
    a: Operand,
    b: Operand,
    epilogue: Epilogue,
    with_sums: bool,
) -> (CubeTensor, Option<CubeTensor>) {
    let (m, k, ars, acs) = a.layout();
    let (k2, n, brs, bcs) = b.layout();
    // Checked in every build: the kernels read through these shapes unchecked.
    assert_eq!(k, k2, "a product's inner dimensions differ");
    assert!(m > 0 || !with_sums, "the ones row needs a row of A to clamp to");
    let out = empty(a.t, [m, n], DType::F32);
    let sums = with_sums.then(|| empty(a.t, [n], DType::F32));
    let client = out.client.clone();
    let (extra, bias, relu, mask) = match epilogue {
        Epilogue::Plain => (a.t, false, false, false),
        Epilogue::Bias(b, relu) => (b.unwrap_or(a.t), b.is_some(), relu, false),
        Epilogue::ReluMask(h) => (h, false, false, true),
    };
    let span = (TILE as u32) * GROUP;
    let count_x = (n as u32).div_ceil(span);
    let count_y = (m as u32 + u32::from(with_sums)).div_ceil(span);
    // SAFETY: A holds m×k (or k×m) f32 and B k×n (or n×k), read at strides within those sizes
    // (indices clamped to the last row and column); `extra` is read only when `bias` (n values)
    // or `mask` (m×n values); `c` is written at row < m, col < n only, `sums` (n values) at
    // col < n only.
    unsafe {
        matmul_kernel::launch_unchecked(
            &client,
            CubeCount::Static(count_x, count_y, 1),
            CubeDim::new_2d(GROUP, GROUP),
            a.t.clone().into_buffer_arg(),
            b.t.clone().into_buffer_arg(),
            extra.clone().into_buffer_arg(),
            out.clone().into_buffer_arg(),
            sums.clone().map(|s| s.into_buffer_arg()).into(),
            m,
            k,
            n,
            ars,
            acs,
            brs,
            bcs,
            bias,
            relu,
            mask,
        );
    }
    count(Kernel::Matmul);
    (out, sums)
}

#[cube(launch_unchecked)]
fn col_sums_kernel(a: &[f32], out: &mut [f32], rows: usize, cols: usize) {
    let col = ABSOLUTE_POS;
    if col < cols {
        let mut s = 0.0f32;
        for r in 0..rows {
            s += a[r * cols + col];
        }
        out[col] = s;
    }
}

/// Each column's sum of a row-major `[rows, cols]` tensor: a bias's gradient.
pub(super) fn col_sums(a: &CubeTensor) -> CubeTensor {
    sum_rows(a, [a.meta.shape()[1]])
}

/// The same sums as a new tensor of `shape` (which holds `cols` values): the chunked weight
/// gradients of `conv_grads.rs` come out `[chunks, weights]` and go on as the weights' shape.
pub(super) fn sum_rows(a: &CubeTensor, shape: impl Into<burn::tensor::Shape>) -> CubeTensor {
    let (rows, cols) = (a.meta.shape()[0], a.meta.shape()[1]);
    let out = empty(a, shape, DType::F32);
    assert_eq!(out.meta.shape().num_elements(), cols, "sum_rows: one output per column");
    let client = out.client.clone();
    let cube_dim = CubeDim::new_1d(64);
    // SAFETY: `a` holds rows × cols f32 in rows and `out` cols f32; thread `col` reads column
    // `col` and writes `out[col]` only when col < cols.
    unsafe {
        col_sums_kernel::launch_unchecked(
            &client,
            CubeCount::Static((cols as u32).div_ceil(64), 1, 1),
            cube_dim,
            a.clone().into_buffer_arg(),
            out.clone().into_buffer_arg(),
            rows,
            cols,
        );
    }
    count(Kernel::ColSums);
    out
}
