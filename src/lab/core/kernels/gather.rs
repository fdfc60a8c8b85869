//! A training set kept on the device for a whole job, batches gathered from it there.
//!
//! Building each batch on the host uploads `B × 784` floats per step (401 kB at B = 128) and its
//! labels: two uploads and a round of host work per step. [`DeviceImages`] uploads the set's
//! pixels once as bytes (packed four to a 32-bit word: 47 MB for MNIST's 60 000 images) with its
//! labels, the epoch's shuffled order once per epoch, and a step's batch is then one kernel that
//! reads the order, unpacks the bytes, scales them and writes the labels alongside.

#[cfg(cube_kernels)]
use super::launches::{Kernel, count};
use burn::tensor::{Device, Int, Tensor};

/// A data set's pixels and labels on a WebGPU device.
#[derive(Debug, Clone)]
// Only the WebGPU build's kernel reads the pixels; elsewhere no value is ever built.
#[cfg_attr(not(cube_kernels), allow(dead_code))]
pub struct DeviceImages {
    /// Bytes packed little-endian into i32 words (burn's int type on WebGPU).
    pixels: Tensor<1, Int>,
    labels: Tensor<1, Int>,
    count: usize,
    per_image: usize,
}

/// An order of items on the device, made by [`DeviceImages::order`]: every index is below the
/// item count of the set that made it (`bound`), which [`DeviceImages::gather`] compares with
/// its own, so an order from a larger set can never make the kernel read past the pixels.
#[derive(Debug, Clone)]
pub struct ItemOrder {
    indices: Tensor<1, Int>,
    bound: usize,
}

impl DeviceImages {
    /// Uploads `count = labels.len()` images of `per_image` bytes each. `None` where the kernels
    /// do not run (not WebGPU, or a device that would not store i32) or the sizes disagree: the
    /// caller then builds batches on the host as before.
    pub fn upload(pixels: &[u8], labels: &[u8], per_image: usize, device: &Device) -> Option<Self> {
        #[cfg(cube_kernels)]
        {
            cube::upload(pixels, labels, per_image, device)
        }
        #[cfg(not(cube_kernels))]
        {
            let _ = (pixels, labels, per_image, device);
            None
        }
    }

    /// Items held.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when no item is held.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// An epoch's order of items, uploaded once and read by every [`gather`](Self::gather) of
    /// that epoch; `None` if it names an item this set does not hold.
    pub fn order(&self, order: &[usize]) -> Option<ItemOrder> {
        if order.iter().any(|&i| i >= self.count) {
            return None;
        }
        let values: Vec<i32> = order.iter().map(|&i| i as i32).collect();
        let data = burn::tensor::TensorData::new(values, [order.len()]);
        let indices = Tensor::from_data(data, &self.labels.device());
        Some(ItemOrder { indices, bound: self.count })
    }

    /// The images `order[start..start + n]` as `[n, per_image]` floats `byte · scale + shift`,
    /// and their labels; `None` where the kernel does not apply (the range is out of `order`,
    /// `order` was made by a larger set, or it is not an i32 tensor on this device).
    pub fn gather(
        &self,
        order: &ItemOrder,
        start: usize,
        n: usize,
        scale: f32,
        shift: f32,
    ) -> Option<(Tensor<2>, Tensor<1, Int>)> {
        // Checked in every build: the kernel reads pixels at the order's indices unchecked.
        if n == 0 || start + n > order.indices.dims()[0] || order.bound > self.count {
            return None;
        }
        #[cfg(cube_kernels)]
        {
            let out = cube::gather(self, &order.indices, start, n, scale, shift);
            if out.is_some() {
                count(Kernel::Gather);
            }
            out
        }
        #[cfg(not(cube_kernels))]
        {
            let _ = (scale, shift);
            None
        }
    }
}

#[cfg(cube_kernels)]
mod cube {
    use burn::tensor::{DType, Device, Int, Tensor, TensorData};
    use burn_cubecl::cubecl::{self, prelude::*};

    use super::super::cube::{elementwise_launch, empty, i32_of, is_cube, wrap, wrap_int};
    use super::DeviceImages;

    /// Each thread takes the output pixels a whole launch apart (see [`elementwise_launch`]); the
    /// one that takes a row's first pixel also copies its label.
    #[cube(launch_unchecked)]
    #[allow(clippy::too_many_arguments)]
    fn gather_kernel(
        pixels: &[i32],
        labels: &[i32],
        order: &[i32],
        x: &mut [f32],
        y: &mut [i32],
        start: usize,
        total: usize,
        per_image: usize,
        scale: f32,
        shift: f32,
    ) {
        let stride = CUBE_COUNT * CUBE_DIM as usize;
        let mut i = ABSOLUTE_POS;
        while i < total {
            let r = i / per_image;
            let p = i % per_image;
            let item = usize::cast_from(order[start + r]);
            let byte = item * per_image + p;
            let word = u32::cast_from(pixels[byte / 4]);
            let value = (word >> (u32::cast_from(byte % 4) * 8u32)) & 255u32;
            x[i] = f32::cast_from(value) * scale + shift;
            if p == 0 {
                y[r] = labels[item];
            }
            i += stride;
        }
    }

    fn ints(values: Vec<i32>, device: &Device) -> Tensor<1, Int> {
        let n = values.len();
        Tensor::from_data(TensorData::new(values, [n]), device)
    }

    pub(super) fn upload(
        pixels: &[u8],
        labels: &[u8],
        per_image: usize,
        device: &Device,
    ) -> Option<DeviceImages> {
        let count = labels.len();
        if !is_cube(device) || per_image == 0 || pixels.len() != count * per_image {
            return None;
        }
        let words = pixels
            .chunks(4)
            .map(|c| {
                let mut w = [0u8; 4];
                w[..c.len()].copy_from_slice(c);
                i32::from_le_bytes(w)
            })
            .collect();
        let device = device.clone().inner();
        let images = DeviceImages {
            pixels: ints(words, &device),
            labels: ints(labels.iter().map(|&l| l as i32).collect(), &device),
            count,
            per_image,
        };
        // Burn stores ints as i32 on WebGPU; were it another type the kernel could not read them.
        (i32_of(&images.pixels).is_some() && i32_of(&images.labels).is_some()).then_some(images)
    }

    pub(super) fn gather(
        set: &DeviceImages,
        order: &Tensor<1, Int>,
        start: usize,
        n: usize,
        scale: f32,
        shift: f32,
    ) -> Option<(Tensor<2>, Tensor<1, Int>)> {
        let (pixels, labels, order) = (i32_of(&set.pixels)?, i32_of(&set.labels)?, i32_of(order)?);
        let total = n * set.per_image;
        let x = empty(&pixels, [n, set.per_image], DType::F32);
        let y = empty(&pixels, [n], DType::I32);
        let client = pixels.client.clone();
        let (cube_count, cube_dim) = elementwise_launch(total);
        // SAFETY: `x` holds `total` f32 and `y` `n` i32 (allocated above); `order` holds at least
        // `start + n` entries, each below the count of the set that made it, which is at most
        // `set.count` (both checked by the caller), so every pixel and label read is in bounds.
        unsafe {
            gather_kernel::launch_unchecked(
                &client,
                cube_count,
                cube_dim,
                pixels.into_buffer_arg(),
                labels.into_buffer_arg(),
                order.into_buffer_arg(),
                x.clone().into_buffer_arg(),
                y.clone().into_buffer_arg(),
                start,
                total,
                set.per_image,
                scale,
                shift,
            );
        }
        Some((wrap(x), wrap_int(y)))
    }
}
