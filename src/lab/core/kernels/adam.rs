//! Adam's update of one parameter is 13 burn operations (two moment updates, the bias-corrected
//! step, the weight update): 13 compute dispatches per parameter per step. [`fused_adam`] does it
//! in one kernel that reads the weight, its gradient and both moments once and writes the three
//! new tensors.

#[cfg(cube_kernels)]
use super::launches::{Kernel, count};
use burn::tensor::Tensor;

/// The per-step constants of one Adam update: `m ← β₁m + (1−β₁)g`, `v ← β₂v + g²(1−β₂)`,
/// `w ← w − (m·factor / (√v + ε))·lr`, where `g` is the gradient plus `decay·w`. The kernel
/// rounds operation for operation as the fallback's burn operations do (`core::adam`): a GAN's
/// training amplifies a last-bit difference in an update (0.02 % apart in the losses after 8
/// steps, measured, when `lr·factor` was folded into one constant).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamStep {
    pub beta1: f32,
    pub beta2: f32,
    /// L2 weight decay added to the gradient (0 = none).
    pub decay: f32,
    /// The bias correction `√(1−β₂ᵗ) / (1−β₁ᵗ)`.
    pub factor: f32,
    /// The learning rate.
    pub lr: f32,
    /// ε scaled by `√(1−β₂ᵗ)`, as burn's Adam does.
    pub epsilon: f32,
}

/// The updated weight, first moment and second moment, or `None` where no kernel applies (not a
/// WebGPU f32 tensor, or mismatched sizes): the caller then runs the same update with burn's
/// operations. The moments are flat (`w`'s element count); `None` before the first step (zeros).
pub fn fused_adam<const D: usize>(
    w: &Tensor<D>,
    g: &Tensor<D>,
    moments: Option<(&Tensor<1>, &Tensor<1>)>,
    step: AdamStep,
) -> Option<(Tensor<D>, Tensor<1>, Tensor<1>)> {
    #[cfg(cube_kernels)]
    {
        let out = cube::adam(w, g, moments, step);
        if out.is_some() {
            count(Kernel::Adam);
        }
        out
    }
    #[cfg(not(cube_kernels))]
    {
        // Native builds and the page's module have only the Flex backend: nothing to fuse.
        let _ = (w, g, moments, step);
        None
    }
}

#[cfg(cube_kernels)]
mod cube {
    use burn::tensor::{DType, Shape, Tensor};
    // The `#[cube]` macro names `cubecl::…` paths.
    use burn_cubecl::cubecl::{self, prelude::*};

    use super::super::cube::{elementwise_launch, empty, f32_of, wrap};
    use super::AdamStep;

    /// Every input is read once, every output written once; each thread updates the elements
    /// a whole launch apart (see [`elementwise_launch`]).
    #[cube(launch_unchecked)]
    #[allow(clippy::too_many_arguments)]
    fn adam_update(
        w: &[f32],
        g: &[f32],
        m: &[f32],
        v: &[f32],
        w_out: &mut [f32],
        m_out: &mut [f32],
        v_out: &mut [f32],
        n: usize,
        beta1: f32,
        beta2: f32,
        decay: f32,
        factor: f32,
        lr: f32,
        epsilon: f32,
    ) {
        let stride = CUBE_COUNT * CUBE_DIM as usize;
        let mut i = ABSOLUTE_POS;
        while i < n {
            let wi = w[i];
            let grad = wi * decay + g[i];
            let mi = m[i] * beta1 + grad * (1.0 - beta1);
            let vi = v[i] * beta2 + (grad * grad) * (1.0 - beta2);
            m_out[i] = mi;
            v_out[i] = vi;
            w_out[i] = wi - ((mi * factor) / (Sqrt::sqrt(vi) + epsilon)) * lr;
            i += stride;
        }
    }

    pub(super) fn adam<const D: usize>(
        w: &Tensor<D>,
        g: &Tensor<D>,
        moments: Option<(&Tensor<1>, &Tensor<1>)>,
        s: AdamStep,
    ) -> Option<(Tensor<D>, Tensor<1>, Tensor<1>)> {
        let n = w.shape().num_elements();
        if n == 0 || g.shape().num_elements() != n {
            return None;
        }
        let (w_c, g) = (f32_of(w)?, f32_of(g)?);
        let (m, v) = match moments {
            Some((m, v)) if m.dims()[0] == n && v.dims()[0] == n => (f32_of(m)?, f32_of(v)?),
            Some(_) => return None,
            None => {
                let zeros = Tensor::<1>::zeros([n], &w.device());
                (f32_of(&zeros)?, f32_of(&zeros)?)
            }
        };
        let w = w_c;
        let client = w.client.clone();
        let out = |shape: Shape| empty(&w, shape, DType::F32);
        let (w_out, m_out, v_out) =
            (out(w.meta.shape().clone()), out(Shape::new([n])), out(Shape::new([n])));
        let (cube_count, cube_dim) = elementwise_launch(n);
        // SAFETY: every buffer holds `n` f32 in rows (made contiguous above or allocated so), and
        // the kernel touches index `i` only while `i < n`.
        unsafe {
            adam_update::launch_unchecked(
                &client,
                cube_count,
                cube_dim,
                w.into_buffer_arg(),
                g.into_buffer_arg(),
                m.into_buffer_arg(),
                v.into_buffer_arg(),
                w_out.clone().into_buffer_arg(),
                m_out.clone().into_buffer_arg(),
                v_out.clone().into_buffer_arg(),
                n,
                s.beta1,
                s.beta2,
                s.decay,
                s.factor,
                s.lr,
                s.epsilon,
            );
        }
        Some((wrap(w_out), wrap(m_out), wrap(v_out)))
    }
}
