//! Softmax cross-entropy's gradient and the batch's metrics in one kernel.
//!
//! Burn's `CrossEntropyLoss` on logits is log-softmax (max, subtract, exp, sum, log, subtract), a
//! gather and a mean: about ten dispatches forward and more backward, and the accuracy count
//! (argmax, compare, cast, sum) and the chunk's running sums add seven more per step. Its
//! gradient with respect to the logits is known in closed form, `(softmax − onehot) / B`, so
//! [`fused_xent`] computes that gradient, the batch's summed loss and its correct count in one
//! pass; the trainer feeds the gradient to autodiff through `sum(logits · ∇)` (whose gradient
//! with respect to the logits is ∇) and the metrics stay on the device until the chunk's read.

#[cfg(cube_kernels)]
use super::launches::{Kernel, count};
use burn::tensor::{Int, Tensor};

/// `(softmax(logits) − onehot(labels)) / B` for logits `[B, C]` and labels `[B]` (no autodiff on
/// either), with the batch's summed cross-entropy and its count of correct argmaxes added into
/// `acc[0]` and `acc[1]` on the device (`acc` is a `[2]` float tensor the caller owns and reads
/// once per chunk). `None` where no kernel applies (not WebGPU, another dtype, `acc` not `[2]`):
/// the caller then runs burn's loss, and `acc` is untouched.
pub fn fused_xent(
    logits: &Tensor<2>,
    labels: &Tensor<1, Int>,
    acc: &Tensor<1>,
) -> Option<Tensor<2>> {
    #[cfg(cube_kernels)]
    {
        let out = cube::xent(logits, labels, acc);
        if out.is_some() {
            count(Kernel::Xent);
        }
        out
    }
    #[cfg(not(cube_kernels))]
    {
        let _ = (logits, labels, acc);
        None
    }
}

#[cfg(cube_kernels)]
mod cube {
    use burn::tensor::{DType, Int, Tensor};
    use burn_cubecl::cubecl::{self, prelude::*};

    use super::super::cube::{empty, f32_of, i32_of, wrap};

    /// Threads in the kernel's one workgroup: each takes every `THREADS`-th row, then thread 0
    /// adds up their partial sums. One workgroup keeps the metrics' reduction in the same
    /// dispatch; a batch is a few hundred rows of ten classes, far too little to fill more.
    const THREADS: usize = 64;

    #[cube(launch_unchecked)]
    fn xent_kernel(
        logits: &[f32],
        labels: &[i32],
        grad: &mut [f32],
        acc: &mut [f32],
        rows: usize,
        cols: usize,
        inv_rows: f32,
    ) {
        let t = UNIT_POS_X as usize;
        let mut losses = Shared::<[f32]>::new_slice(THREADS);
        let mut hits = Shared::<[f32]>::new_slice(THREADS);
        let mut loss = 0.0f32;
        let mut correct = 0.0f32;
        let mut r = t;
        while r < rows {
            let base = r * cols;
            let mut top = logits[base];
            let mut best = 0usize;
            for j in 1..cols {
                let x = logits[base + j];
                if x > top {
                    top = x;
                    best = j;
                }
            }
            let mut total = 0.0f32;
            for j in 0..cols {
                total += f32::exp(logits[base + j] - top);
            }
            let label = usize::cast_from(labels[r]);
            if label < cols {
                loss += top + f32::ln(total) - logits[base + label];
                if best == label {
                    correct += 1.0f32;
                }
            }
            let scale = inv_rows / total;
            for j in 0..cols {
                let p = f32::exp(logits[base + j] - top) * scale;
                if j == label {
                    grad[base + j] = p - inv_rows;
                } else {
                    grad[base + j] = p;
                }
            }
            r += THREADS;
        }
        losses[t] = loss;
        hits[t] = correct;
        sync_cube();
        if t == 0 {
            let mut l = 0.0f32;
            let mut c = 0.0f32;
            for i in 0..THREADS {
                l += losses[i];
                c += hits[i];
            }
            acc[0] += l;
            acc[1] += c;
        }
    }

    pub(super) fn xent(
        logits: &Tensor<2>,
        labels: &Tensor<1, Int>,
        acc: &Tensor<1>,
    ) -> Option<Tensor<2>> {
        let [rows, cols] = logits.dims();
        if rows == 0 || cols == 0 || labels.dims()[0] != rows || acc.dims()[0] != 2 {
            return None;
        }
        let (x, y, acc) = (f32_of(logits)?, i32_of(labels)?, f32_of(acc)?);
        let grad = empty(&x, [rows, cols], DType::F32);
        let client = x.client.clone();
        // SAFETY: `x` and `grad` hold rows × cols f32 in rows, `y` holds `rows` i32 and `acc` two
        // f32 (checked or allocated above, all contiguous); the kernel's indices stay below those
        // sizes (a label ≥ cols only skips its row's loss).
        unsafe {
            xent_kernel::launch_unchecked(
                &client,
                CubeCount::Static(1, 1, 1),
                CubeDim::new_1d(THREADS as u32),
                x.into_buffer_arg(),
                y.into_buffer_arg(),
                grad.clone().into_buffer_arg(),
                acc.into_buffer_arg(),
                rows,
                cols,
                1.0 / rows as f32,
            );
        }
        Some(wrap(grad))
    }
}
