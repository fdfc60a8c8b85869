//! Between burn tensors and the CubeCL tensors under them (WebGPU builds only).

use burn::backend::{
    BackendTensor, DispatchAutodiffContext, DispatchDevice, DispatchTensor, DispatchTensorKind,
};
use burn::tensor::{DType, Device, Int, Shape, Tensor};
use burn_cubecl::cubecl::prelude::{CubeCount, CubeDim};
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::ops::numeric::empty_device_contiguous_dtype;
use burn_cubecl::tensor::CubeTensor;

/// The WebGPU tensor under a burn float tensor (a reference-counted handle: no copy), laid out
/// in rows; `None` on another backend or dtype, or for a tensor still under autodiff.
pub fn f32_of<const D: usize>(t: &Tensor<D>) -> Option<CubeTensor> {
    match t.clone().into_dispatch().kind {
        DispatchTensorKind::Cube(BackendTensor::Float(c)) if c.dtype == DType::F32 => {
            Some(into_contiguous(c))
        }
        _ => None,
    }
}

/// The same for an Int tensor stored as i32 (burn's int type on WebGPU).
pub fn i32_of<const D: usize>(t: &Tensor<D, Int>) -> Option<CubeTensor> {
    match t.clone().into_dispatch().kind {
        DispatchTensorKind::Cube(BackendTensor::Int(c)) if c.dtype == DType::I32 => {
            Some(into_contiguous(c))
        }
        _ => None,
    }
}

/// A burn tensor (no autodiff) over a CubeCL tensor.
pub fn wrap<const D: usize>(c: CubeTensor) -> Tensor<D> {
    Tensor::from_dispatch(DispatchTensor {
        kind: DispatchTensorKind::Cube(BackendTensor::Float(c)),
        autodiff: DispatchAutodiffContext::Disabled,
    })
}

/// An Int burn tensor over a CubeCL i32 tensor.
pub fn wrap_int<const D: usize>(c: CubeTensor) -> Tensor<D, Int> {
    Tensor::from_dispatch(DispatchTensor {
        kind: DispatchTensorKind::Cube(BackendTensor::Int(c)),
        autodiff: DispatchAutodiffContext::Disabled,
    })
}

/// A new, uninitialised row-major tensor of `dtype` on `like`'s device.
pub fn empty(like: &CubeTensor, shape: impl Into<Shape>, dtype: DType) -> CubeTensor {
    empty_device_contiguous_dtype(like.client.clone(), like.device.clone(), shape.into(), dtype)
}

/// Whether `device` is one the kernels run on (a CubeCL runtime: WebGPU in the browser).
pub fn is_cube(device: &Device) -> bool {
    matches!(device.clone().inner().as_dispatch(), DispatchDevice::Cube(_))
}

/// Threads per workgroup of the elementwise kernels.
const ELEMENTWISE_THREADS: usize = 64;

/// Elements each thread of an elementwise kernel handles, a whole launch apart (a grid-stride
/// loop: `i = ABSOLUTE_POS`, then `i += CUBE_COUNT · CUBE_DIM` while `i < n`).
///
/// Why not one thread per element: on SwiftShader every invocation pays a start-up cost of its
/// own. Adam's update of the MLP's 78 400 first-layer weights took 4.7–7.9 ms with one thread
/// per element, 2.6–3.1 ms with 16 and 2.1–2.7 ms with 64 (one session, alternating,
/// 2026-12-06; `docs/bench/launch-costs.md`). Why not more: on a GPU, 16 per thread still makes
/// thousands of threads at the sizes here (at most a few million elements), and the loop's reads
/// stay coalesced.
const PER_THREAD: usize = 16;

/// The launch of an elementwise kernel over `n` elements written as a grid-stride loop.
pub fn elementwise_launch(n: usize) -> (CubeCount, CubeDim) {
    let groups = n.div_ceil(ELEMENTWISE_THREADS * PER_THREAD).clamp(1, 65_535) as u32;
    (CubeCount::Static(groups, 1, 1), CubeDim::new_1d(ELEMENTWISE_THREADS as u32))
}
