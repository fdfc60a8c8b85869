//! What the Flex CPU operations (`conv_flex.rs`, `leaky_cpu.rs`) share: whether a device is
//! Flex, and a Flex tensor's values in and out.

use std::borrow::Cow;

use burn::backend::DispatchDevice;
use burn::backend::flex::FlexTensor;
use burn::tensor::{Device, Shape, TensorData};

/// Whether `device` is the Flex CPU backend (with or without autodiff).
pub(super) fn is_flex(device: &Device) -> bool {
    matches!(device.clone().inner().as_dispatch(), DispatchDevice::Flex(_))
}

/// A tensor's f32 values, row-major (a copy only where it is not already contiguous).
pub(super) fn values(t: &FlexTensor) -> Cow<'_, [f32]> {
    match t.as_slice::<f32>() {
        Some(v) => v.into(),
        None => t.to_contiguous().as_slice::<f32>().map(<[f32]>::to_vec).unwrap_or_default().into(),
    }
}

/// A tensor of `values` in `shape`.
pub(super) fn tensor(values: Vec<f32>, shape: impl Into<Shape>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}
