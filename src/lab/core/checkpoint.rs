//! Checkpoints: everything a run needs to go on from the end of an epoch — weights, Adam's
//! state, the shuffle RNG and order, counters. One byte string, so the page can put it in
//! IndexedDB (beside the run's record: settings, metrics history); at most one epoch is lost
//! after a reload or a crash.
//!
//! Layout: `MNLABCK1`, a little-endian u32 header length, the JSON header, then a safetensors
//! blob with every tensor: `{network}/{tensor}` for weights, `{network}#adam/{tensor}.m|v|t` for
//! Adam's moments.

use std::collections::BTreeMap;

use burn::module::Module;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::lab::core::adam::{Adam, AdamSettings};
use crate::lab::core::error::{LabError, LabResult};
use crate::lab::core::params::{load_module_tensors, module_tensors};
use crate::lab::core::safetensors::{NamedTensor, decode_safetensors, encode_safetensors};

const MAGIC: &[u8; 8] = b"MNLABCK1";

/// Where a training loop stands at an epoch boundary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoopState {
    /// The shuffle RNG's state.
    pub rng: u64,
    /// Full epochs done.
    pub epochs_done: usize,
    /// Optimiser steps done (the cosine schedule needs it).
    pub steps_done: usize,
    /// The training order after the last shuffle (the next shuffle starts from it).
    pub order: Vec<u32>,
}

/// One network and its optimiser.
#[derive(Debug, Clone, PartialEq)]
pub struct ModuleState {
    /// Every float tensor, running statistics included.
    pub tensors: Vec<NamedTensor>,
    /// Adam's moments and step counts, by tensor name.
    pub moments: Vec<NamedTensor>,
}

impl ModuleState {
    /// Captures a module and its optimiser's state (async readbacks: any backend).
    pub async fn capture<M: Module>(module: &M, optim: &Adam) -> LabResult<Self> {
        Ok(Self { tensors: module_tensors(module).await?, moments: optim.save(module).await? })
    }

    /// `template` with the saved values, and an optimiser with `settings` and the saved moments.
    pub fn restore<M: Module>(
        &self,
        template: &M,
        settings: AdamSettings,
        device: &Device,
    ) -> LabResult<(M, Adam)> {
        let module = load_module_tensors(template, &self.tensors)?;
        let mut optim = Adam::new(settings);
        optim.load(&module, &self.moments, device)?;
        Ok((module, optim))
    }
}

/// A whole checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// The loop's counters and shuffle.
    pub loop_state: LoopState,
    /// The networks by role (`model`, or `g` and `d`).
    pub modules: Vec<(String, ModuleState)>,
}

#[derive(Serialize, Deserialize)]
struct Header {
    loop_state: LoopState,
    modules: Vec<String>,
}

fn damaged(what: impl std::fmt::Display) -> LabError {
    LabError::InvalidConfig(format!("the checkpoint is damaged: {what}"))
}

impl Checkpoint {
    /// The network called `name`.
    pub fn module(&self, name: &str) -> LabResult<&ModuleState> {
        self.modules
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, m)| m)
            .ok_or_else(|| damaged(format!("it has no `{name}` network")))
    }

    /// The checkpoint as one byte string.
    pub fn to_bytes(&self) -> Vec<u8> {
        let header = Header {
            loop_state: self.loop_state.clone(),
            modules: self.modules.iter().map(|(name, _)| name.clone()).collect(),
        };
        let header = serde_json::to_vec(&header).expect("the header serialises");
        let tensors: Vec<NamedTensor> = self
            .modules
            .iter()
            .flat_map(|(name, m)| {
                let weights = m
                    .tensors
                    .iter()
                    .map(move |t| NamedTensor { name: format!("{name}/{}", t.name), ..t.clone() });
                weights.chain(m.moments.iter().map(move |t| NamedTensor {
                    name: format!("{name}#adam/{}", t.name),
                    ..t.clone()
                }))
            })
            .collect();
        let tensors = encode_safetensors(&tensors, &BTreeMap::new());
        let mut out = Vec::with_capacity(16 + header.len() + tensors.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(&(tensors.len() as u64).to_le_bytes());
        out.extend_from_slice(&tensors);
        out
    }

    /// Reads [`Checkpoint::to_bytes`]'s output; a truncated or foreign file is a typed error.
    pub fn from_bytes(bytes: &[u8]) -> LabResult<Self> {
        let mut at = 0usize;
        let mut take = |n: usize| -> LabResult<&[u8]> {
            let end = at
                .checked_add(n)
                .filter(|&e| e <= bytes.len())
                .ok_or_else(|| damaged("it is truncated"))?;
            let s = &bytes[at..end];
            at = end;
            Ok(s)
        };
        if take(8)? != MAGIC {
            return Err(damaged("it is not an MNIST Lab checkpoint"));
        }
        let header_len = u32::from_le_bytes(take(4)?.try_into().expect("4 bytes")) as usize;
        let header: Header = serde_json::from_slice(take(header_len)?).map_err(damaged)?;
        let st_len = u64::from_le_bytes(take(8)?.try_into().expect("8 bytes"));
        let st_len = usize::try_from(st_len).map_err(|_| damaged("a length is too large"))?;
        let (tensors, _) = decode_safetensors(take(st_len)?).map_err(damaged)?;
        let under = |prefix: String| -> Vec<NamedTensor> {
            tensors
                .iter()
                .filter_map(|t| {
                    t.name
                        .strip_prefix(&prefix)
                        .map(|n| NamedTensor { name: n.to_string(), ..t.clone() })
                })
                .collect()
        };
        let modules = header
            .modules
            .into_iter()
            .map(|name| {
                let state = ModuleState {
                    tensors: under(format!("{name}/")),
                    moments: under(format!("{name}#adam/")),
                };
                (name, state)
            })
            .collect();
        if at != bytes.len() {
            return Err(damaged("it has trailing bytes"));
        }
        Ok(Self { loop_state: header.loop_state, modules })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_and_damage_is_a_typed_error() {
        let ck = Checkpoint {
            loop_state: LoopState { rng: 7, epochs_done: 2, steps_done: 40, order: vec![2, 0, 1] },
            modules: vec![(
                "model".into(),
                ModuleState {
                    tensors: vec![NamedTensor {
                        name: "layers.0.weight".into(),
                        shape: vec![2, 2],
                        data: vec![1.0, 2.0, 3.0, 4.0],
                    }],
                    moments: vec![NamedTensor {
                        name: "layers.0.weight.t".into(),
                        shape: vec![1],
                        data: vec![3.0],
                    }],
                },
            )],
        };
        let bytes = ck.to_bytes();
        assert_eq!(Checkpoint::from_bytes(&bytes).unwrap(), ck);
        for bad in [&bytes[..bytes.len() - 1], &bytes[..10], b"not a checkpoint at all".as_slice()]
        {
            assert!(
                matches!(Checkpoint::from_bytes(bad), Err(LabError::InvalidConfig(m)) if m.contains("damaged"))
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Checkpoint::from_bytes(&longer).is_err());
    }
}
