//! Hand-written WebGPU kernels for the hot elementwise chains that burn (built without fusion)
//! runs as one dispatch per operation.
//!
//! Adam's update of one parameter is 13 burn operations (two moment updates, the bias-corrected
//! step, the weight update): 13 compute dispatches per parameter per step, over half of the MLP
//! step's dispatches. [`fused_adam`] does it in one kernel that reads the weight, its gradient and
//! both moments once and writes the three new tensors. Elsewhere (the Flex CPU backend, native
//! builds) it declines and the caller keeps burn's operations, which are the reference the kernel
//! is tested against (`tests/browser.rs`).

use std::sync::atomic::{AtomicUsize, Ordering};

use burn::tensor::Tensor;

static FUSED_ADAM_LAUNCHES: AtomicUsize = AtomicUsize::new(0);

/// How many fused Adam updates this process has launched, so that a test can tell the kernel ran
/// rather than the fallback (both give the same numbers).
pub fn fused_adam_launches() -> usize {
    FUSED_ADAM_LAUNCHES.load(Ordering::Relaxed)
}

/// The per-step constants of one Adam update, folded on the host so that the kernel is a few
/// fused multiply-adds: `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`, `w ← w − step·m / (√v + ε)`,
/// where `g` is the gradient plus `decay·w`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamStep {
    pub beta1: f32,
    pub beta2: f32,
    /// L2 weight decay added to the gradient (0 = none).
    pub decay: f32,
    /// Learning rate times the bias correction `√(1−β₂ᵗ) / (1−β₁ᵗ)`.
    pub step: f32,
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
    #[cfg(all(target_arch = "wasm32", feature = "webgpu"))]
    {
        let out = cube::adam(w, g, moments, step);
        if out.is_some() {
            FUSED_ADAM_LAUNCHES.fetch_add(1, Ordering::Relaxed);
        }
        out
    }
    #[cfg(not(all(target_arch = "wasm32", feature = "webgpu")))]
    {
        // Native builds and the page's module have only the Flex backend: nothing to fuse.
        let _ = (w, g, moments, step);
        None
    }
}

#[cfg(all(target_arch = "wasm32", feature = "webgpu"))]
mod cube {
    use burn::backend::{
        BackendTensor, DispatchAutodiffContext, DispatchTensor, DispatchTensorKind,
    };
    use burn::tensor::{DType, Shape, Tensor};
    // The `#[cube]` macro names `cubecl::…` paths.
    use burn_cubecl::cubecl::{self, calculate_cube_count_elemwise, prelude::*};
    use burn_cubecl::kernel::into_contiguous;
    use burn_cubecl::ops::numeric::empty_device_contiguous_dtype;
    use burn_cubecl::tensor::CubeTensor;

    use super::AdamStep;

    /// One thread per element; every input is read once, every output written once.
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
        step: f32,
        epsilon: f32,
    ) {
        let i = ABSOLUTE_POS;
        if i < n {
            let wi = w[i];
            let grad = g[i] + decay * wi;
            let mi = beta1 * m[i] + (1.0 - beta1) * grad;
            let vi = beta2 * v[i] + (1.0 - beta2) * grad * grad;
            m_out[i] = mi;
            v_out[i] = vi;
            w_out[i] = wi - step * mi / (Sqrt::sqrt(vi) + epsilon);
        }
    }

    /// The WebGPU tensor under a burn tensor (a reference-counted handle: no copy), laid out in
    /// rows; `None` on another backend or dtype.
    fn cube_f32<const D: usize>(t: &Tensor<D>) -> Option<CubeTensor> {
        match t.clone().into_dispatch().kind {
            DispatchTensorKind::Cube(BackendTensor::Float(c)) if c.dtype == DType::F32 => {
                Some(into_contiguous(c))
            }
            _ => None,
        }
    }

    fn wrap<const D: usize>(c: CubeTensor) -> Tensor<D> {
        Tensor::from_dispatch(DispatchTensor {
            kind: DispatchTensorKind::Cube(BackendTensor::Float(c)),
            autodiff: DispatchAutodiffContext::Disabled,
        })
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
        let (w_c, g) = (cube_f32(w)?, cube_f32(g)?);
        let (m, v) = match moments {
            Some((m, v)) if m.dims()[0] == n && v.dims()[0] == n => (cube_f32(m)?, cube_f32(v)?),
            Some(_) => return None,
            None => {
                let zeros = Tensor::<1>::zeros([n], &w.device());
                (cube_f32(&zeros)?, cube_f32(&zeros)?)
            }
        };
        let w = w_c;
        let (client, device) = (w.client.clone(), w.device.clone());
        let out = |shape: Shape| {
            empty_device_contiguous_dtype(client.clone(), device.clone(), shape, DType::F32)
        };
        let (w_out, m_out, v_out) =
            (out(w.meta.shape().clone()), out(Shape::new([n])), out(Shape::new([n])));
        let cube_dim = CubeDim::new(&client, n);
        let cube_count = calculate_cube_count_elemwise(&client, n, cube_dim);
        // SAFETY: every buffer holds `n` f32 in rows (made contiguous above or allocated so), and
        // the kernel touches index `i` only when `i < n`.
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
                s.step,
                s.epsilon,
            );
        }
        Some((wrap(w_out), wrap(m_out), wrap(v_out)))
    }
}
