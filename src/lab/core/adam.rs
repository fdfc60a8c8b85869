//! Adam with its state in the open, so a checkpoint can save and restore it on every backend.
//!
//! burn's own optimiser keeps its moments private and saves them only through a record that
//! reads synchronously (which WebGPU forbids) and loads them onto `Device::default()` (an
//! uninitialised WebGPU device in a browser worker: a panic). This is the same algorithm as
//! burn's `Adam` (bias-corrected moments, ε scaled like burn's, L2 weight decay added to the
//! gradient), with the moments kept per parameter and read back with one async readback.

use std::collections::{BTreeMap, HashMap};

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};

use crate::lab::core::error::{LabError, LabResult};
use crate::lab::core::kernels::{AdamStep, fused_adam};
use crate::lab::core::params::param_ids;
use crate::lab::core::readback::read_values;
use crate::lab::core::safetensors::NamedTensor;

/// Adam's hyper-parameters (the learning rate is given per step).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamSettings {
    /// Decay of the first moment.
    pub beta1: f32,
    /// Decay of the second moment.
    pub beta2: f32,
    /// Keeps the division finite.
    pub epsilon: f32,
    /// L2 penalty added to the gradient (0 = none).
    pub weight_decay: f32,
}

impl Default for AdamSettings {
    /// burn's `AdamConfig` defaults.
    fn default() -> Self {
        Self { beta1: 0.9, beta2: 0.999, epsilon: 1e-5, weight_decay: 0.0 }
    }
}

#[derive(Clone)]
struct Moments {
    m: Tensor<1>,
    v: Tensor<1>,
    time: i32,
}

/// Adam over a whole module, one state per parameter.
#[derive(Clone)]
pub struct Adam {
    settings: AdamSettings,
    state: HashMap<ParamId, Moments>,
    /// Whether a parameter on WebGPU is updated by one fused kernel (`core::kernels`) instead of
    /// 13 burn operations; off only to compare the two.
    kernels: bool,
}

struct Stepper<'a> {
    adam: &'a mut Adam,
    grads: GradientsParams,
    lr: f64,
}

impl ModuleMapper for Stepper<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(grad) = self.grads.remove::<D>(id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let s = self.adam.settings;
        let require_grad = tensor.is_require_grad();
        let w = tensor.inner();
        let prev = self.adam.state.remove(&id);
        let time = prev.as_ref().map_or(1, |mo| mo.time + 1);
        let bc2 = (1.0 - s.beta2.powi(time)).sqrt();
        let factor = bc2 / (1.0 - s.beta1.powi(time));
        let fused = if self.adam.kernels {
            let step = AdamStep {
                beta1: s.beta1,
                beta2: s.beta2,
                decay: s.weight_decay,
                factor,
                lr: self.lr as f32,
                epsilon: s.epsilon * bc2,
            };
            fused_adam(&w, &grad, prev.as_ref().map(|mo| (&mo.m, &mo.v)), step)
        } else {
            None
        };
        let w = match fused {
            Some((w, m, v)) => {
                self.adam.state.insert(id, Moments { m, v, time });
                w
            }
            None => {
                let shape = w.dims();
                let g = if s.weight_decay > 0.0 {
                    w.clone().mul_scalar(s.weight_decay).add(grad)
                } else {
                    grad
                };
                let g: Tensor<1> = g.flatten(0, D - 1);
                let mo = match prev {
                    Some(mo) => Moments {
                        m: mo.m.mul_scalar(s.beta1).add(g.clone().mul_scalar(1.0 - s.beta1)),
                        v: mo.v.mul_scalar(s.beta2).add(g.square().mul_scalar(1.0 - s.beta2)),
                        time,
                    },
                    None => Moments {
                        m: g.clone().mul_scalar(1.0 - s.beta1),
                        v: g.square().mul_scalar(1.0 - s.beta2),
                        time,
                    },
                };
                let update =
                    mo.m.clone()
                        .mul_scalar(factor)
                        .div(mo.v.clone().sqrt().add_scalar(s.epsilon * bc2));
                let w = w - update.reshape(shape).mul_scalar(self.lr);
                self.adam.state.insert(id, mo);
                w
            }
        };
        let w = Tensor::from_inner(w);
        Param::from_mapped_value(id, if require_grad { w.require_grad() } else { w }, mapper)
    }
}

impl Adam {
    /// A fresh optimiser (no moments yet).
    pub fn new(settings: AdamSettings) -> Self {
        Self { settings, state: HashMap::new(), kernels: true }
    }

    /// Every update from now on done by burn's operations, never by a fused kernel: the
    /// reference the kernel is checked against, and the "before" of the benchmark.
    pub fn disable_kernels(&mut self) {
        self.kernels = false;
    }

    /// One step: every parameter with a gradient moves.
    pub fn step<M: Module>(&mut self, lr: f64, module: M, grads: GradientsParams) -> M {
        module.map(&mut Stepper { adam: self, grads, lr })
    }

    /// The moments of `module`'s parameters, named `{tensor}.m`, `{tensor}.v` and `{tensor}.t`
    /// (the step count), read with one readback.
    pub async fn save<M: Module>(&self, module: &M) -> LabResult<Vec<NamedTensor>> {
        let mut names = Vec::new();
        let mut flats = Vec::new();
        for (name, id) in param_ids(module) {
            if let Some(mo) = self.state.get(&ParamId::from(id)) {
                names.push((name, mo.m.dims()[0], mo.time));
                flats.push(mo.m.clone());
                flats.push(mo.v.clone());
            }
        }
        if flats.is_empty() {
            return Ok(Vec::new());
        }
        let all = read_values(Tensor::cat(flats, 0)).await?;
        let mut out = Vec::with_capacity(3 * names.len());
        let mut at = 0;
        for (name, n, time) in names {
            out.push(NamedTensor {
                name: format!("{name}.m"),
                shape: vec![n],
                data: all[at..at + n].to_vec(),
            });
            out.push(NamedTensor {
                name: format!("{name}.v"),
                shape: vec![n],
                data: all[at + n..at + 2 * n].to_vec(),
            });
            out.push(NamedTensor {
                name: format!("{name}.t"),
                shape: vec![1],
                data: vec![time as f32],
            });
            at += 2 * n;
        }
        Ok(out)
    }

    /// Puts saved moments back for `module`'s parameters (matched by tensor name, so the
    /// parameter ids may differ from the saved run's).
    pub fn load<M: Module>(
        &mut self,
        module: &M,
        saved: &[NamedTensor],
        device: &Device,
    ) -> LabResult<()> {
        let by_name: BTreeMap<&str, &NamedTensor> =
            saved.iter().map(|t| (t.name.as_str(), t)).collect();
        let device = device.clone().without_autodiff();
        let sizes: BTreeMap<String, usize> = crate::lab::core::params::param_sizes(module);
        let mut state = HashMap::new();
        for (name, id) in param_ids(module) {
            let (m, v, t) = (
                by_name.get(format!("{name}.m").as_str()),
                by_name.get(format!("{name}.v").as_str()),
                by_name.get(format!("{name}.t").as_str()),
            );
            let (Some(m), Some(v), Some(t)) = (m, v, t) else { continue };
            let n = sizes.get(&name).copied().unwrap_or(0);
            let time = t.data.first().copied().unwrap_or(0.0);
            if m.data.len() != n
                || v.data.len() != n
                || !(time >= 1.0 && time.fract() == 0.0)
                || m.data.iter().chain(&v.data).any(|x| !x.is_finite())
            {
                return Err(LabError::InvalidConfig(format!(
                    "the saved optimiser state of {name} does not fit the model"
                )));
            }
            let tensor = |d: &NamedTensor| {
                Tensor::<1>::from_data(TensorData::new(d.data.clone(), [n]), &device)
            };
            state.insert(
                ParamId::from(id),
                Moments { m: tensor(m), v: tensor(v), time: time as i32 },
            );
        }
        self.state = state;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::classifier::mlp::Mlp;
    use burn::optim::{AdamConfig, decay::WeightDecayConfig};
    use futures_lite::future::block_on;

    /// The same steps as burn's Adam (weight decay included), to float rounding.
    #[test]
    fn matches_burns_adam() {
        let device = Device::flex().autodiff();
        device.seed(3);
        let model = Mlp::new(&[6, 5, 3], &device);
        let x = Tensor::<2>::from_data(
            TensorData::new((0..24).map(|i| (i as f32 * 0.37).sin()).collect::<Vec<_>>(), [4, 6]),
            &device,
        );
        let mut ours = Adam::new(AdamSettings { weight_decay: 1e-2, ..AdamSettings::default() });
        let mut theirs =
            AdamConfig::new().with_weight_decay(Some(WeightDecayConfig { penalty: 1e-2 })).init();
        let (mut a, mut b) = (model.clone(), model);
        for _ in 0..5 {
            let ga = GradientsParams::from_grads(
                a.forward(x.clone()).powi_scalar(2).sum().backward(),
                &a,
            );
            a = ours.step(1e-2, a, ga);
            let gb = GradientsParams::from_grads(
                b.forward(x.clone()).powi_scalar(2).sum().backward(),
                &b,
            );
            b = theirs.step(1e-2, b, gb);
        }
        let (ta, tb) = (
            block_on(crate::lab::core::params::module_tensors(&a)).unwrap(),
            block_on(crate::lab::core::params::module_tensors(&b)).unwrap(),
        );
        for (p, q) in ta.iter().zip(&tb) {
            for (x, y) in p.data.iter().zip(&q.data) {
                assert!((x - y).abs() < 1e-5, "{}: {x} vs {y}", p.name);
            }
        }
        // Saved and loaded into a fresh optimiser, the next step is identical.
        let saved = block_on(ours.save(&a)).unwrap();
        assert_eq!(saved.len(), 3 * 4, "m, v and t for two weights and two biases");
        let mut loaded = Adam::new(ours.settings);
        loaded.load(&a, &saved, &device).unwrap();
        let g = |m: &Mlp| {
            GradientsParams::from_grads(m.forward(x.clone()).powi_scalar(2).sum().backward(), m)
        };
        let next_a = ours.step(1e-2, a.clone(), g(&a));
        let next_b = loaded.step(1e-2, a.clone(), g(&a));
        assert_eq!(
            block_on(crate::lab::core::params::module_tensors(&next_a)).unwrap(),
            block_on(crate::lab::core::params::module_tensors(&next_b)).unwrap()
        );
        let mut bad = saved.clone();
        bad[0].data.pop();
        assert!(Adam::new(AdamSettings::default()).load(&a, &bad, &device).is_err());
    }
}
