//! Walking any module's tensors by name: trainable-parameter counts, per-layer weight and
//! gradient norms, and saving / loading every tensor (running statistics included) as
//! [`NamedTensor`]s — with one readback for the whole model, since readbacks are what cost on
//! WebGPU.

use std::collections::BTreeMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Tensor, TensorData};

use crate::lab::core::error::LabResult;
use crate::lab::core::readback::read_values;
use crate::lab::core::safetensors::{NamedTensor, WeightsError};

/// True for a batch norm's running mean / variance: state the layer keeps, not a trained weight.
fn is_running_state(path: &[String]) -> bool {
    matches!(path.last().map(String::as_str), Some("running_mean" | "running_var"))
}

/// Path components that name a layer (enum variant names are dropped: `Dense.layers.0` → `layers.0`).
fn layer_of(path: &[String]) -> String {
    let parts: Vec<&str> = path[..path.len().saturating_sub(1)]
        .iter()
        .map(String::as_str)
        .filter(|p| !matches!(*p, "Dense" | "Cnn"))
        .collect();
    if parts.is_empty() { "(root)".to_string() } else { parts.join(".") }
}

fn tensor_name(path: &[String]) -> String {
    let parts: Vec<&str> =
        path.iter().map(String::as_str).filter(|p| !matches!(*p, "Dense" | "Cnn")).collect();
    parts.join(".")
}

/// One float tensor of a module, flattened, with its name.
struct Entry {
    path: Vec<String>,
    shape: Vec<usize>,
    flat: Tensor<1>,
    grad: Option<Tensor<1>>,
}

struct Collector<'a> {
    path: Vec<String>,
    entries: Vec<Entry>,
    grads: Option<&'a GradientsParams>,
}

impl ModuleVisitor for Collector<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val();
        let shape = t.dims().to_vec();
        let flat: Tensor<1> = t.flatten(0, D - 1);
        let grad = self.grads.and_then(|g| g.get::<D>(param.id)).map(|g| g.flatten::<1>(0, D - 1));
        self.entries.push(Entry { path: self.path.clone(), shape, flat, grad });
    }
}

fn collect<M: Module>(module: &M, grads: Option<&GradientsParams>) -> Vec<Entry> {
    let mut c = Collector { path: Vec::new(), entries: Vec::new(), grads };
    module.visit(&mut c);
    c.entries
}

/// Trainable parameters (weights, biases, batch-norm scale and shift; not running statistics).
pub fn trainable_params<M: Module>(module: &M) -> usize {
    collect(module, None)
        .iter()
        .filter(|e| !is_running_state(&e.path))
        .map(|e| e.shape.iter().product::<usize>())
        .sum()
}

/// Non-trainable state (batch-norm running statistics), which Keras-style summaries list apart.
pub fn non_trainable_params<M: Module>(module: &M) -> usize {
    collect(module, None)
        .iter()
        .filter(|e| is_running_state(&e.path))
        .map(|e| e.shape.iter().product::<usize>())
        .sum()
}

/// A layer's L2 norms: of all its trainable values, and of their gradients.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LayerNorm {
    /// e.g. `layers.0`, `conv1`.
    pub layer: String,
    /// ‖weights‖₂ over the layer's trainable tensors.
    #[serde(with = "crate::lab::core::finite::kept")]
    pub weight: f64,
    /// ‖∇‖₂ over the same tensors (0 when no gradient was given).
    #[serde(with = "crate::lab::core::finite::kept")]
    pub grad: f64,
}

/// Per-layer norms as device tensors `[layers, 2]` (weight², grad² sums) plus the layer names, so
/// a caller can batch the readback with others.
pub fn layer_sq_norms<M: Module>(
    module: &M,
    grads: Option<&GradientsParams>,
) -> (Vec<String>, Tensor<2>) {
    let mut names: Vec<String> = Vec::new();
    let mut rows: Vec<(Tensor<1>, Option<Tensor<1>>)> = Vec::new();
    for e in collect(module, grads).into_iter().filter(|e| !is_running_state(&e.path)) {
        let layer = layer_of(&e.path);
        let w2 = e.flat.powi_scalar(2).sum();
        let g2 = e.grad.map(|g| g.powi_scalar(2).sum());
        match names.iter().position(|n| *n == layer) {
            Some(i) => {
                let (w, g) = rows[i].clone();
                let g = match (g, g2) {
                    (Some(a), Some(b)) => Some(a + b),
                    (a, b) => a.or(b),
                };
                rows[i] = (w + w2, g);
            }
            None => {
                names.push(layer);
                rows.push((w2, g2));
            }
        }
    }
    let tensors: Vec<Tensor<2>> = rows
        .into_iter()
        .map(|(w, g)| {
            let g = g.unwrap_or_else(|| w.zeros_like());
            Tensor::cat(vec![w, g], 0).reshape([1, 2])
        })
        .collect();
    (names, Tensor::cat(tensors, 0))
}

/// Per-layer weight and gradient norms, read with one readback.
pub async fn layer_norms<M: Module>(
    module: &M,
    grads: Option<&GradientsParams>,
) -> LabResult<Vec<LayerNorm>> {
    let (names, sq) = layer_sq_norms(module, grads);
    let values = read_values(sq).await?;
    Ok(names
        .into_iter()
        .enumerate()
        .map(|(i, layer)| LayerNorm {
            layer,
            weight: (values[2 * i] as f64).sqrt(),
            grad: (values[2 * i + 1] as f64).sqrt(),
        })
        .collect())
}

/// Every float tensor of the module (running statistics included), named by its path, read with a
/// single readback (safe on WebGPU).
pub async fn module_tensors<M: Module>(module: &M) -> LabResult<Vec<NamedTensor>> {
    // `valid()` folds pending batch-norm updates into the running statistics first.
    let entries = collect(&module.valid(), None);
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let sizes: Vec<usize> = entries.iter().map(|e| e.shape.iter().product()).collect();
    let all = read_values(Tensor::cat(entries.iter().map(|e| e.flat.clone()).collect(), 0)).await?;
    let mut out = Vec::with_capacity(entries.len());
    let mut offset = 0;
    for (e, n) in entries.into_iter().zip(sizes) {
        out.push(NamedTensor {
            name: tensor_name(&e.path),
            shape: e.shape,
            data: all[offset..offset + n].to_vec(),
        });
        offset += n;
    }
    Ok(out)
}

struct Loader<'a> {
    path: Vec<String>,
    tensors: &'a [NamedTensor],
    used: usize,
    error: Option<WeightsError>,
}

impl ModuleMapper for Loader<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        if self.error.is_some() {
            return param;
        }
        let name = tensor_name(&self.path);
        let Some(found) = self.tensors.iter().find(|t| t.name == name) else {
            self.error = Some(WeightsError::Shape(format!("{name} is missing")));
            return param;
        };
        let current = param.val();
        let shape = current.dims().to_vec();
        if found.shape != shape || found.data.len() != shape.iter().product::<usize>() {
            self.error = Some(WeightsError::Shape(format!(
                "{name} is {:?}, expected {shape:?}",
                found.shape
            )));
            return param;
        }
        if found.data.iter().any(|x| !x.is_finite()) {
            self.error = Some(WeightsError::Shape(format!("{name} holds NaN or infinite values")));
            return param;
        }
        self.used += 1;
        let device = current.device();
        let require_grad = current.is_require_grad();
        let data = TensorData::new(found.data.clone(), found.shape.clone());
        param.map(move |_| {
            let t = Tensor::<D>::from_data(data, &device);
            if require_grad { t.require_grad() } else { t }
        })
    }
}

struct IdCollector {
    path: Vec<String>,
    ids: BTreeMap<String, u64>,
    sizes: BTreeMap<String, usize>,
}

impl ModuleVisitor for IdCollector {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.ids.insert(tensor_name(&self.path), param.id.val());
        self.sizes.insert(tensor_name(&self.path), param.shape().num_elements());
    }
}

fn id_collector<M: Module>(module: &M) -> IdCollector {
    let mut c = IdCollector { path: Vec::new(), ids: BTreeMap::new(), sizes: BTreeMap::new() };
    module.visit(&mut c);
    c
}

/// Each tensor's parameter id, by the name [`module_tensors`] gives it: an optimiser keys its
/// state by id, a checkpoint by name.
pub fn param_ids<M: Module>(module: &M) -> BTreeMap<String, u64> {
    id_collector(module).ids
}

/// Each tensor's element count, by name.
pub fn param_sizes<M: Module>(module: &M) -> BTreeMap<String, usize> {
    id_collector(module).sizes
}

/// The module with every tensor replaced by the named values. Refuses (and leaves the caller's
/// module untouched) on a missing, extra, mis-shaped or non-finite tensor.
pub fn load_module_tensors<M: Module>(
    module: &M,
    tensors: &[NamedTensor],
) -> Result<M, WeightsError> {
    let mut loader = Loader { path: Vec::new(), tensors, used: 0, error: None };
    let loaded = module.clone().map(&mut loader);
    if let Some(e) = loader.error {
        return Err(e);
    }
    if loader.used != tensors.len() {
        return Err(WeightsError::Shape(format!(
            "the file has {} tensors, the model {}",
            tensors.len(),
            loader.used
        )));
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::core::safetensors::{decode_safetensors, encode_safetensors};
    use crate::lab::gan::{Discriminator, GanArch, Generator};
    use burn::tensor::Device;
    use futures_lite::future::block_on;

    #[test]
    fn generator_weights_round_trip_bit_identically_and_bad_files_are_refused() {
        let device = Device::flex();
        for arch in [GanArch::Dense, GanArch::Cnn] {
            let g = Generator::new(arch, &device);
            let tensors = block_on(module_tensors(&g)).unwrap();
            assert!(
                tensors.iter().any(|t| t.name.ends_with("running_var")),
                "running statistics are saved too"
            );
            let bytes = encode_safetensors(&tensors, &BTreeMap::new());
            let fresh = Generator::new(arch, &device);
            assert_ne!(block_on(module_tensors(&fresh)).unwrap(), tensors);
            let loaded =
                load_module_tensors(&fresh, &decode_safetensors(&bytes).unwrap().0).unwrap();
            assert_eq!(block_on(module_tensors(&loaded)).unwrap(), tensors);

            // The other architecture's file, one tensor too few, a wrong shape, a NaN: refused.
            let other = block_on(module_tensors(&Generator::new(
                if arch == GanArch::Dense { GanArch::Cnn } else { GanArch::Dense },
                &device,
            )))
            .unwrap();
            assert!(load_module_tensors(&fresh, &other).is_err());
            assert!(load_module_tensors(&fresh, &tensors[1..]).is_err());
            let mut wrong = tensors.clone();
            wrong[0].shape.reverse();
            assert!(matches!(load_module_tensors(&fresh, &wrong), Err(WeightsError::Shape(_))));
            let mut nan = tensors.clone();
            nan[0].data[0] = f32::NAN;
            assert!(load_module_tensors(&fresh, &nan).is_err());
        }
        assert!(trainable_params(&Discriminator::new(GanArch::Cnn, &device)) > 0);
    }
}
