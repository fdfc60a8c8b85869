//! Convolutions on the CPU as wide matrix products: a tile of several images is one GEMM, with
//! im2col (gather) before it or col2im (scatter-add) after it, and weight gradients accumulate
//! over the tiles at the true kernel size. Natively the tiles run on rayon's threads; in the
//! browser one after another.
//!
//! Why our own: burn-flex 0.22.1 runs one narrow GEMM per image (n = 49 outputs for D's second
//! layer) and burn's default backward passes (a weight gradient as a dilated convolution whose
//! 6×6 result is sliced to 5×5). `docs/bench/cpu-conv.md` has the measurements.
//!
//! Names follow the convolution's two sides: the **big** images (a Conv2d's input, a
//! ConvTranspose2d's output) and the **small** ones. A tap `(ky, kx)` of small position
//! `(oy, ox)` reads big position `(oy·s − p + ky, ox·s − p + kx)`; taps outside the big image
//! read 0 (a Conv2d's padding) or are dropped (a transpose's output cropping).

use super::conv_geometry::Geometry;

/// Columns to aim for in one tile's product (images × small positions). Fixed, not a function of
/// the thread count, so that sums run in the same order on any machine.
const TILE_COLUMNS: usize = 1024;

/// One convolution's sides, batch and geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Sides {
    pub batch: usize,
    /// Height and width of the big images.
    pub big: [usize; 2],
    /// Height and width of the small images.
    pub small: [usize; 2],
    pub geo: Geometry,
}

impl Sides {
    fn big_area(&self) -> usize {
        self.big[0] * self.big[1]
    }

    fn small_area(&self) -> usize {
        self.small[0] * self.small[1]
    }

    fn taps(&self) -> usize {
        self.geo.kernel * self.geo.kernel
    }

    /// Images per tile: about [`TILE_COLUMNS`] columns, in a multiple of 4 tiles of equal size
    /// where the batch allows, so that 2 or 4 threads share them evenly.
    fn tile(&self) -> usize {
        let batch = self.batch.max(1);
        let tiles = (batch * self.small_area()).div_ceil(TILE_COLUMNS).next_multiple_of(4);
        batch.div_ceil(tiles.min(batch))
    }
}

/// A matrix read through strides (in elements), checked against its slice when made.
#[derive(Debug, Clone, Copy)]
pub(super) struct Mat<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a> Mat<'a> {
    /// `data` as a row-major `rows × cols` matrix.
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        assert_eq!(data.len(), rows * cols, "a {rows}×{cols} matrix needs {} values", rows * cols);
        Self { data, rows, cols, row_stride: cols, col_stride: 1 }
    }

    /// The transpose (no copy).
    pub fn t(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }
}

/// `dst` (row-major `a.rows × b.cols`) = a·b, or += a·b when `add`.
fn product(dst: &mut [f32], a: Mat, b: Mat, add: bool) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    // Release builds check these too: gemm reads through raw pointers.
    assert_eq!(b.rows, k, "inner dimensions differ");
    assert_eq!(dst.len(), m * n, "the product's buffer");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !add {
            dst.fill(0.0);
        }
        return;
    }
    for x in [a, b] {
        let last = (x.rows - 1) * x.row_stride + (x.cols - 1) * x.col_stride;
        assert!(last < x.data.len(), "a strided operand reads past its values");
    }
    // SAFETY: dst holds m·n values written row-major; the asserts above bound every read of
    // a and b inside their slices.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            add,
            a.data.as_ptr(),
            a.col_stride as isize,
            a.row_stride as isize,
            b.data.as_ptr(),
            b.col_stride as isize,
            b.row_stride as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// The small positions `o` along one axis whose tap `tap` lands inside a big side of `big`:
/// `0 ≤ o·s − p + tap < big`, as a range clamped to `0..small`.
fn valid(tap: usize, big: usize, small: usize, geo: Geometry) -> std::ops::Range<usize> {
    let (s, p) = (geo.stride, geo.pad);
    let lo = p.saturating_sub(tap).div_ceil(s);
    let hi = (big + p).saturating_sub(tap).div_ceil(s).min(small);
    lo.min(hi)..hi
}

/// The columns `[C·k·k, T·hs·ws]` (row-major) of `t` big images `src` `[T, C, H, W]`: row
/// `(c, ky, kx)`, column `(t, oy, ox)` holds `src[t, c, oy·s − p + ky, ox·s − p + kx]`, or 0 in
/// the padding.
fn im2col(src: &[f32], c: usize, sides: &Sides, t: usize, cols: &mut [f32]) {
    let ([h, w], [hs, ws], geo) = (sides.big, sides.small, sides.geo);
    let (k, s) = (geo.kernel, geo.stride);
    let n = t * hs * ws;
    for (row, out) in cols.chunks_exact_mut(n).take(c * k * k).enumerate() {
        let (ci, ky, kx) = (row / (k * k), row / k % k, row % k);
        let xs = valid(kx, w, ws, geo);
        let ys = valid(ky, h, hs, geo);
        for (ti, image) in out.chunks_exact_mut(hs * ws).enumerate() {
            let plane = &src[(ti * c + ci) * h * w..][..h * w];
            for (oy, line_out) in image.chunks_exact_mut(ws).enumerate() {
                if !ys.contains(&oy) {
                    line_out.fill(0.0);
                    continue;
                }
                let line = &plane[(oy * s + ky - geo.pad) * w..][..w];
                line_out[..xs.start].fill(0.0);
                line_out[xs.end..].fill(0.0);
                if !xs.is_empty() {
                    let taps = line[xs.start * s + kx - geo.pad..].iter().step_by(s);
                    for (o, &v) in line_out[xs.clone()].iter_mut().zip(taps) {
                        *o = v;
                    }
                }
            }
        }
    }
}

/// The reverse of [`im2col`]: adds each column value to the big pixel its tap reads, into `dst`
/// `[T, C, H, W]` (taps outside the image are dropped).
fn col2im(cols: &[f32], c: usize, sides: &Sides, t: usize, dst: &mut [f32]) {
    let ([h, w], [hs, ws], geo) = (sides.big, sides.small, sides.geo);
    let (k, s) = (geo.kernel, geo.stride);
    let n = t * hs * ws;
    for (row, col) in cols.chunks_exact(n).take(c * k * k).enumerate() {
        let (ci, ky, kx) = (row / (k * k), row / k % k, row % k);
        let xs = valid(kx, w, ws, geo);
        let ys = valid(ky, h, hs, geo);
        for (ti, image) in col.chunks_exact(hs * ws).enumerate() {
            let plane = &mut dst[(ti * c + ci) * h * w..][..h * w];
            for oy in ys.clone() {
                let line = &mut plane[(oy * s + ky - geo.pad) * w..][..w];
                let line_in = &image[oy * ws..][..ws];
                if !xs.is_empty() {
                    let taps = line[xs.start * s + kx - geo.pad..].iter_mut().step_by(s);
                    for (t, &v) in taps.zip(&line_in[xs.clone()]) {
                        *t += v;
                    }
                }
            }
        }
    }
}

/// `[T, C, P]` → `[C, T·P]`.
fn to_channel_major(src: &[f32], t: usize, c: usize, p: usize, dst: &mut [f32]) {
    for ci in 0..c {
        for ti in 0..t {
            dst[(ci * t + ti) * p..][..p].copy_from_slice(&src[(ti * c + ci) * p..][..p]);
        }
    }
}

/// `[C, T·P]` → `[T, C, P]`, plus `bias[c]`.
fn from_channel_major(
    src: &[f32],
    t: usize,
    c: usize,
    p: usize,
    bias: Option<&[f32]>,
    dst: &mut [f32],
) {
    for ci in 0..c {
        let add = bias.map_or(0.0, |b| b[ci]);
        for ti in 0..t {
            let (from, to) = (&src[(ci * t + ti) * p..][..p], &mut dst[(ti * c + ci) * p..][..p]);
            for (d, &v) in to.iter_mut().zip(from) {
                *d = v + add;
            }
        }
    }
}

/// Runs `f(tile, out)` for each tile's share of `out` (`per_image` values an image), with a
/// scratch buffer each worker keeps across its tiles: on rayon's threads natively, in order in
/// the browser.
fn each_tile(
    out: &mut [f32],
    per_image: usize,
    tile: usize,
    f: impl Fn(&mut Vec<f32>, usize, &mut [f32]) + Sync + Send,
) {
    if per_image == 0 {
        return;
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        out.par_chunks_mut(per_image * tile)
            .enumerate()
            .for_each_init(Vec::new, |scratch, (i, chunk)| f(scratch, i, chunk));
    }
    #[cfg(target_arch = "wasm32")]
    {
        let mut scratch = Vec::new();
        for (i, chunk) in out.chunks_mut(per_image * tile).enumerate() {
            f(&mut scratch, i, chunk);
        }
    }
}

/// A buffer of `n` values from `scratch` (contents unspecified).
fn buffer(scratch: &mut Vec<f32>, n: usize) -> &mut [f32] {
    if scratch.len() < n {
        scratch.resize(n, 0.0);
    }
    &mut scratch[..n]
}

/// A Conv2d's pass from big to small: `x` `[N, Ci, H, W]`, `w` as `[Co, Ci·k·k]` → `[N, Co,
/// hs, ws]`, plus `bias[co]`. Also a ConvTranspose2d's data gradient.
pub(super) fn down(x: &[f32], ci: usize, w: Mat, bias: Option<&[f32]>, sides: Sides) -> Vec<f32> {
    let (co, kk, t) = (w.rows, sides.taps(), sides.tile());
    let (big, small) = (sides.big_area(), sides.small_area());
    assert_eq!(w.cols, ci * kk, "the weight's columns");
    assert_eq!(x.len(), sides.batch * ci * big, "the input's size");
    assert!(bias.is_none_or(|b| b.len() == co), "one bias per output channel");
    let mut out = vec![0.0; sides.batch * co * small];
    each_tile(&mut out, co * small, t, |scratch, i, y| {
        let n_img = y.len() / (co * small);
        let n = n_img * small;
        let (cols, y_cm) = buffer(scratch, (ci * kk + co) * n).split_at_mut(ci * kk * n);
        im2col(&x[i * t * ci * big..][..n_img * ci * big], ci, &sides, n_img, cols);
        product(y_cm, w, Mat::row_major(cols, ci * kk, n), false);
        from_channel_major(y_cm, n_img, co, small, bias, y);
    });
    out
}

/// A ConvTranspose2d's pass from small to big: `x` `[N, Ci, hs, ws]`, `w` as `[Co·k·k, Ci]` →
/// `[N, Co, H, W]`, plus `bias[co]`. Also a Conv2d's data gradient.
pub(super) fn up(x: &[f32], ci: usize, w: Mat, bias: Option<&[f32]>, sides: Sides) -> Vec<f32> {
    let (kk, t) = (sides.taps(), sides.tile());
    let co = w.rows / kk;
    let (big, small) = (sides.big_area(), sides.small_area());
    assert_eq!(w.rows, co * kk, "the weight's rows");
    assert_eq!(w.cols, ci, "the weight's columns");
    assert_eq!(x.len(), sides.batch * ci * small, "the input's size");
    assert!(bias.is_none_or(|b| b.len() == co), "one bias per output channel");
    let mut out = vec![0.0; sides.batch * co * big];
    each_tile(&mut out, co * big, t, |scratch, i, y| {
        let n_img = y.len() / (co * big);
        let n = n_img * small;
        let (x_cm, cols) = buffer(scratch, (ci + co * kk) * n).split_at_mut(ci * n);
        to_channel_major(&x[i * t * ci * small..][..n_img * ci * small], n_img, ci, small, x_cm);
        product(cols, w, Mat::row_major(x_cm, ci, n), false);
        for (c, plane) in y.chunks_exact_mut(big).enumerate() {
            plane.fill(bias.map_or(0.0, |b| b[c % co]));
        }
        col2im(cols, co, &sides, n_img, y);
    });
    out
}

/// The weight gradient shared by both: `Σ small_cm · im2col(big)ᵀ` over the batch, `[Cs,
/// Cb·k·k]` for big images `[N, Cb, H, W]` and small ones `[N, Cs, hs, ws]`. Each tile's product
/// is its own, and they are added in tile order: the result does not depend on the threads.
pub(super) fn weight_grad(
    big: &[f32],
    cb: usize,
    small: &[f32],
    cs: usize,
    sides: Sides,
) -> Vec<f32> {
    let (kk, t) = (sides.taps(), sides.tile());
    let (big_area, small_area) = (sides.big_area(), sides.small_area());
    assert_eq!(big.len(), sides.batch * cb * big_area, "the big images' size");
    assert_eq!(small.len(), sides.batch * cs * small_area, "the small images' size");
    let size = cs * cb * kk;
    let tiles = sides.batch.div_ceil(t);
    // One slot per tile, shaped like `each_tile`'s output so the same helper runs them.
    let mut partial = vec![0.0; tiles * size];
    let per_tile = |scratch: &mut Vec<f32>, i: usize, dw: &mut [f32]| {
        let n_img = t.min(sides.batch - i * t);
        let n = n_img * small_area;
        let (cols, s_cm) = buffer(scratch, (cb * kk + cs) * n).split_at_mut(cb * kk * n);
        im2col(&big[i * t * cb * big_area..][..n_img * cb * big_area], cb, &sides, n_img, cols);
        to_channel_major(
            &small[i * t * cs * small_area..][..n_img * cs * small_area],
            n_img,
            cs,
            small_area,
            s_cm,
        );
        product(dw, Mat::row_major(s_cm, cs, n), Mat::row_major(cols, cb * kk, n).t(), false);
    };
    each_tile(&mut partial, size, 1, per_tile);
    let mut chunks = partial.chunks_exact(size.max(1));
    let mut dw = chunks.next().map(<[f32]>::to_vec).unwrap_or_else(|| vec![0.0; size]);
    for chunk in chunks {
        for (d, &v) in dw.iter_mut().zip(chunk) {
            *d += v;
        }
    }
    dw
}

/// Sums per channel of `x` `[N, C, P]`: a bias's gradient.
pub(super) fn channel_sums(x: &[f32], c: usize, p: usize) -> Vec<f32> {
    let mut sums = vec![0.0; c];
    for image in x.chunks_exact((c * p).max(1)) {
        for (s, plane) in sums.iter_mut().zip(image.chunks_exact(p.max(1))) {
            *s += plane.iter().sum::<f32>();
        }
    }
    sums
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, one multiply-add at a time: `y[n, o, oy, ox] = Σ x[n, i, iy, ix] · w[o,
    /// i, ky, kx]` over the taps inside the big image.
    fn naive_down(x: &[f32], ci: usize, w: &[f32], co: usize, s: Sides) -> Vec<f32> {
        let ([h, wd], [hs, ws], g) = (s.big, s.small, s.geo);
        let k = g.kernel;
        let mut y = vec![0.0; s.batch * co * hs * ws];
        for n in 0..s.batch {
            for o in 0..co {
                for oy in 0..hs {
                    for ox in 0..ws {
                        let mut acc = 0.0;
                        for i in 0..ci {
                            for ky in 0..k {
                                for kx in 0..k {
                                    let iy = (oy * g.stride + ky) as isize - g.pad as isize;
                                    let ix = (ox * g.stride + kx) as isize - g.pad as isize;
                                    if (0..h as isize).contains(&iy)
                                        && (0..wd as isize).contains(&ix)
                                    {
                                        acc += x
                                            [((n * ci + i) * h + iy as usize) * wd + ix as usize]
                                            * w[((o * ci + i) * k + ky) * k + kx];
                                    }
                                }
                            }
                        }
                        y[((n * co + o) * hs + oy) * ws + ox] = acc;
                    }
                }
            }
        }
        y
    }

    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| ((i as u32).wrapping_mul(2_654_435_761) ^ seed) as f32 / u32::MAX as f32 - 0.5)
            .collect()
    }

    fn dot(a: &[f32], b: &[f32]) -> f64 {
        a.iter().zip(b).map(|(&x, &y)| x as f64 * y as f64).sum()
    }

    fn close(a: &[f32], b: &[f32]) {
        let scale = b.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-6);
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= 1e-5 * scale, "value {i}: {x} against {y}");
        }
        assert_eq!(a.len(), b.len());
    }

    /// Odd sides, channels that are no tile's multiple, a batch that leaves a short last tile.
    fn shapes() -> Vec<(Sides, usize, usize)> {
        let g = |kernel, stride, pad| Geometry { kernel, stride, pad };
        vec![
            (Sides { batch: 3, big: [9, 7], small: [5, 4], geo: g(5, 2, 2) }, 3, 5),
            (Sides { batch: 1, big: [4, 6], small: [4, 6], geo: g(3, 1, 1) }, 2, 1),
            (Sides { batch: 3, big: [41, 50], small: [21, 25], geo: g(3, 2, 1) }, 1, 4),
        ]
    }

    #[test]
    fn down_is_the_definition() {
        for (s, ci, co) in shapes() {
            let x = values(s.batch * ci * s.big_area(), 1);
            let w = values(co * ci * s.taps(), 2);
            let bias = values(co, 3);
            let y = down(&x, ci, Mat::row_major(&w, co, ci * s.taps()), Some(&bias), s);
            let mut want = naive_down(&x, ci, &w, co, s);
            for (i, v) in want.iter_mut().enumerate() {
                *v += bias[i / s.small_area() % co];
            }
            close(&y, &want);
        }
    }

    /// `up` and `weight_grad` are the adjoints of `down`: ⟨down(x), g⟩ = ⟨x, up(g)⟩ = ⟨w, dw⟩.
    #[test]
    fn up_and_the_weight_gradient_are_the_adjoints() {
        for (s, ci, co) in shapes() {
            let x = values(s.batch * ci * s.big_area(), 4);
            let w = values(co * ci * s.taps(), 5);
            let g = values(s.batch * co * s.small_area(), 6);
            let wm = Mat::row_major(&w, co, ci * s.taps());
            let y = down(&x, ci, wm, None, s);
            let dx = up(&g, co, wm.t(), None, s);
            let dw = weight_grad(&x, ci, &g, co, s);
            let (lhs, rx, rw) = (dot(&y, &g), dot(&x, &dx), dot(&w, &dw));
            let tol = 1e-4 * lhs.abs().max(1.0);
            assert!((lhs - rx).abs() < tol, "{s:?}: ⟨down x, g⟩ {lhs} against ⟨x, up g⟩ {rx}");
            assert!((lhs - rw).abs() < tol, "{s:?}: ⟨down x, g⟩ {lhs} against ⟨w, dw⟩ {rw}");
        }
    }

    #[test]
    fn up_adds_its_bias_and_channel_sums_sum() {
        let (s, ci, co) = shapes()[0];
        let g = values(s.batch * co * s.small_area(), 7);
        let w = values(co * ci * s.taps(), 8);
        let bias = values(ci, 9);
        let wm = Mat::row_major(&w, co, ci * s.taps()).t();
        let with = up(&g, co, wm, Some(&bias), s);
        let without = up(&g, co, wm, None, s);
        for (i, (a, b)) in with.iter().zip(&without).enumerate() {
            assert!((a - b - bias[i / s.big_area() % ci]).abs() < 1e-6);
        }
        let sums = channel_sums(&with, ci, s.big_area());
        for (c, &sum) in sums.iter().enumerate() {
            let want: f32 = (0..s.batch)
                .flat_map(|n| with[(n * ci + c) * s.big_area()..][..s.big_area()].iter())
                .sum();
            assert!((sum - want).abs() < 1e-4, "channel {c}");
        }
    }

    #[test]
    fn a_strided_operand_that_reads_past_its_values_is_refused() {
        let data = [1.0; 6];
        let mut a = Mat::row_major(&data, 2, 3);
        a.rows = 3;
        let caught = std::panic::catch_unwind(|| {
            let mut dst = [0.0; 9];
            product(&mut dst, a, Mat::row_major(&[1.0; 9], 3, 3), false)
        });
        assert!(caught.is_err());
    }
}
