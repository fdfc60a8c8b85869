//! A GAN loss's gradient and the step's metrics in one kernel.
//!
//! The stable binary cross-entropy on logits (`max(x, 0) − x·y + log(1 + e^{−|x|})`, then the
//! mean) is nine burn operations forward and about a dozen backward, twice a GAN step, and D's
//! mean outputs on real and fake images (sigmoid, mask, sums, the step's running sums) seven more.
//! Its gradient with respect to the logits is `(σ(x) − y) / B`, so [`fused_bce`] writes that
//! gradient and adds the mean loss (and, for D's step, the summed probabilities on real and fake
//! images) into a `[4]` accumulator `[d_loss, g_loss, d_real, d_fake]` in one dispatch; the
//! trainer feeds the gradient to autodiff through `sum(logits · ∇)`.

#[cfg(cube_kernels)]
use super::launches::{Kernel, count};
use burn::tensor::Tensor;

/// `(σ(logits) − targets) / B` for logits and targets `[B, 1]` (no autodiff), with the mean
/// loss added into `acc[slot]` and, given `is_real` (`[B, 1]`, 1 for a real image), the summed
/// σ of real images into `acc[2]` and of fakes into `acc[3]`. `None` where no kernel applies
/// (not WebGPU, other shapes, `acc` not `[4]`, `slot` > 1): the caller runs burn's loss and
/// `acc` is untouched.
pub fn fused_bce(
    logits: &Tensor<2>,
    targets: &Tensor<2>,
    is_real: Option<&Tensor<2>>,
    acc: &Tensor<1>,
    slot: usize,
) -> Option<Tensor<2>> {
    let [rows, cols] = logits.dims();
    if rows == 0
        || cols != 1
        || targets.dims() != [rows, 1]
        || is_real.is_some_and(|r| r.dims() != [rows, 1])
        || acc.dims() != [4]
        || slot > 1
    {
        return None;
    }
    #[cfg(cube_kernels)]
    {
        let out = cube::bce(logits, targets, is_real, acc, slot);
        if out.is_some() {
            count(Kernel::Bce);
        }
        out
    }
    #[cfg(not(cube_kernels))]
    {
        None
    }
}

#[cfg(cube_kernels)]
mod cube {
    use burn::tensor::{DType, Tensor};
    use burn_cubecl::cubecl::{self, prelude::*};

    use super::super::cube::{empty, f32_of, wrap};

    /// Threads in the one workgroup (see `xent.rs`): a GAN batch is at most a few hundred logits.
    const THREADS: usize = 64;

    #[cube(launch_unchecked)]
    #[allow(clippy::too_many_arguments)]
    fn bce_kernel(
        logits: &[f32],
        targets: &[f32],
        is_real: &[f32],
        grad: &mut [f32],
        acc: &mut [f32],
        rows: usize,
        slot: usize,
        probs: u32,
        inv_rows: f32,
    ) {
        let t = UNIT_POS_X as usize;
        let mut losses = Shared::<[f32]>::new_slice(THREADS);
        let mut reals = Shared::<[f32]>::new_slice(THREADS);
        let mut fakes = Shared::<[f32]>::new_slice(THREADS);
        let mut loss = 0.0f32;
        let mut real = 0.0f32;
        let mut fake = 0.0f32;
        let mut r = t;
        while r < rows {
            let x = logits[r];
            let y = targets[r];
            // burn's sigmoid, `exp(−ln(e^{−x} + 1))`, operation for operation: the fallback
            // (`gan::loss`) computes the same gradient with it, so both round alike.
            let p = f32::exp(-f32::ln(f32::exp(-x) + 1.0f32));
            loss += f32::max(x, 0.0f32) - x * y + f32::ln(1.0f32 + f32::exp(-f32::abs(x)));
            grad[r] = (p - y) * inv_rows;
            if probs == 1u32 {
                let w = is_real[r];
                real += p * w;
                fake += p * (1.0f32 - w);
            }
            r += THREADS;
        }
        losses[t] = loss;
        reals[t] = real;
        fakes[t] = fake;
        sync_cube();
        if t == 0 {
            let mut l = 0.0f32;
            let mut a = 0.0f32;
            let mut b = 0.0f32;
            for i in 0..THREADS {
                l += losses[i];
                a += reals[i];
                b += fakes[i];
            }
            acc[slot] += l * inv_rows;
            if probs == 1u32 {
                acc[2] += a;
                acc[3] += b;
            }
        }
    }

    pub(super) fn bce(
        logits: &Tensor<2>,
        targets: &Tensor<2>,
        is_real: Option<&Tensor<2>>,
        acc: &Tensor<1>,
        slot: usize,
    ) -> Option<Tensor<2>> {
        let rows = logits.dims()[0];
        let (x, y, acc) = (f32_of(logits)?, f32_of(targets)?, f32_of(acc)?);
        let (w, probs) = match is_real {
            Some(w) => (f32_of(w)?, 1u32),
            None => (y.clone(), 0u32),
        };
        let grad = empty(&x, [rows, 1], DType::F32);
        let client = x.client.clone();
        // SAFETY: `x`, `y`, `w` and `grad` hold `rows` f32 and `acc` four (checked by the caller
        // or allocated above, all contiguous); `slot` ≤ 1; the kernel reads and writes no other
        // index.
        unsafe {
            bce_kernel::launch_unchecked(
                &client,
                CubeCount::Static(1, 1, 1),
                CubeDim::new_1d(THREADS as u32),
                x.into_buffer_arg(),
                y.into_buffer_arg(),
                w.into_buffer_arg(),
                grad.clone().into_buffer_arg(),
                acc.into_buffer_arg(),
                rows,
                slot,
                probs,
                1.0 / rows as f32,
            );
        }
        Some(wrap(grad))
    }
}
