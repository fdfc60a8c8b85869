//! The base model the compression panel factorises: the shipped pretrained MLP (or one trained
//! or imported in the page) on the page's device (Flex: the page's module has no WebGPU), its
//! spectrum, and the rank slider's evaluator made once per base model and test set.

use std::rc::Rc;

use burn::tensor::Device;

use crate::app::backend::page_device;
use crate::app::io::fetch::fetch_bytes;
use crate::lab::classifier::mlp::{MLP_WIDTHS, Mlp};
use crate::lab::classifier::weights::mlp_from_tensors;
use crate::lab::compress::evaluator::RankEvaluator;
use crate::lab::compress::factorized::MlpSpectrum;
use crate::lab::core::safetensors::{NamedTensor, decode_safetensors};
use crate::lab::core::same::Same;
use crate::lab::data::Dataset;

/// Where the page finds the shipped base model.
pub const PRETRAINED_URL: &str = "models/mlp-784-100-50-10.safetensors";

/// The base model and its SVDs on the current device.
#[derive(Clone)]
pub(crate) struct Loaded {
    pub(crate) tensors: Rc<Vec<NamedTensor>>,
    pub(crate) base: Rc<Mlp>,
    pub(crate) spectrum: Rc<MlpSpectrum>,
    pub(crate) base_acc: Option<f64>,
}

impl PartialEq for Loaded {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.base, &other.base)
    }
}

/// The base model (the shipped one when `trained` is `None`). A failure settles the first screen
/// on the error it shows: what waits for it (the GAN preview, the offline copy) starts anyway.
pub(crate) async fn load_base(trained: Option<Rc<Vec<NamedTensor>>>) -> Result<Loaded, String> {
    let loaded = load(&page_device(), trained).await;
    if loaded.is_err() {
        crate::app::env::announce_interactive();
    }
    loaded
}

async fn load(device: &Device, trained: Option<Rc<Vec<NamedTensor>>>) -> Result<Loaded, String> {
    let tensors = match trained {
        Some(t) => (*t).clone(),
        None => {
            let bytes = fetch_bytes(PRETRAINED_URL, |_, _| {}).await?;
            decode_safetensors(&bytes).map_err(|e| e.to_string())?.0
        }
    };
    let base = mlp_from_tensors(&tensors, &MLP_WIDTHS, device).map_err(|e| e.to_string())?;
    let spectrum = MlpSpectrum::of(&base).await.map_err(|e| e.to_string())?;
    Ok(Loaded {
        tensors: Rc::new(tensors),
        base: Rc::new(base),
        spectrum: Rc::new(spectrum),
        base_acc: None,
    })
}

/// The slider's fast evaluator for this base model and test set, made once and reused.
pub(crate) type EvaluatorCell =
    Rc<std::cell::RefCell<Option<((Same<Mlp>, Same<Dataset>), Rc<RankEvaluator>)>>>;

pub(crate) fn evaluator_for(
    cell: &EvaluatorCell,
    l: &Loaded,
    test: &Rc<Dataset>,
) -> Option<Rc<RankEvaluator>> {
    let key = (Same::from(&l.base), Same::from(test));
    if let Some((k, e)) = &*cell.borrow()
        && *k == key
    {
        return Some(e.clone());
    }
    let e = Rc::new(RankEvaluator::new(&l.spectrum, test, &page_device()).ok()?);
    *cell.borrow_mut() = Some((key, e.clone()));
    Some(e)
}
