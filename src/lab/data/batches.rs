//! Where a trainer's batches come from: gathered on the device from a copy of the training set
//! uploaded once per job (WebGPU, [`DeviceImages`]), or built on the host and uploaded per step
//! (the CPU backends, where "uploading" is a copy in memory and nothing is gained).

use burn::tensor::{Device, Int, Tensor};

use crate::lab::core::kernels::{DeviceImages, ItemOrder};
use crate::lab::data::{Dataset, IMAGE_PIXELS};

/// A trainer's batch source for one job.
#[derive(Debug, Default)]
pub struct Batches {
    /// Off: always build batches on the host (the reference the device path is tested against).
    host_only: bool,
    /// The set on the device, keyed by which `Dataset` it copies; `None` inside when the device
    /// declined (not WebGPU), so that a declined upload is not retried every step.
    set: Option<(usize, Option<DeviceImages>)>,
    /// This epoch's order on the device, uploaded at the epoch's first batch.
    order: Option<ItemOrder>,
}

impl Batches {
    /// A source that gathers on the device where it can (`host_only` = false).
    pub fn new(host_only: bool) -> Self {
        Self { host_only, ..Self::default() }
    }

    /// Forgets the uploaded order: call after the host's order changed (a shuffle, a restore).
    pub fn reorder(&mut self) {
        self.order = None;
    }

    /// The items `order[start..end]` of `data` as `[n, 784]` floats `pixel · scale + shift` and
    /// their labels, on `device`.
    pub fn batch(
        &mut self,
        data: &Dataset,
        order: &[usize],
        range: (usize, usize),
        (scale, shift): (f32, f32),
        device: &Device,
    ) -> (Tensor<2>, Tensor<1, Int>) {
        if let Some(out) = self.on_device(data, order, range, (scale, shift), device) {
            return out;
        }
        let items = &order[range.0..range.1];
        (data.images_tensor(items, scale, shift, device), data.labels_tensor(items, device))
    }

    /// [`Batches::batch`]'s images alone, for a trainer with no use for labels (a GAN's real
    /// images): the host path then builds no label tensor.
    pub fn images(
        &mut self,
        data: &Dataset,
        order: &[usize],
        range: (usize, usize),
        (scale, shift): (f32, f32),
        device: &Device,
    ) -> Tensor<2> {
        match self.on_device(data, order, range, (scale, shift), device) {
            Some((x, _)) => x,
            None => data.images_tensor(&order[range.0..range.1], scale, shift, device),
        }
    }

    fn on_device(
        &mut self,
        data: &Dataset,
        order: &[usize],
        (start, end): (usize, usize),
        (scale, shift): (f32, f32),
        device: &Device,
    ) -> Option<(Tensor<2>, Tensor<1, Int>)> {
        if self.host_only {
            return None;
        }
        // The pixels' address names the set: a job trains on one `Dataset` it holds throughout.
        let key = data.images.pixels.as_ptr() as usize ^ data.len().rotate_left(48);
        if self.set.as_ref().is_none_or(|(k, _)| *k != key) {
            let set = DeviceImages::upload(&data.images.pixels, &data.labels, IMAGE_PIXELS, device);
            self.set = Some((key, set));
            self.order = None;
        }
        let set = self.set.as_ref()?.1.as_ref()?;
        if self.order.is_none() {
            self.order = Some(set.order(order)?);
        }
        let (x, y) = set.gather(self.order.as_ref()?, start, end - start, scale, shift)?;
        // On the caller's device as the host's batch would be (an autodiff device's tensors
        // draw their dropout and noise from the same generator as everything else).
        Some((if device.is_autodiff() { x.autodiff() } else { x }, y))
    }
}
