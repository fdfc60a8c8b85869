//! Refined models in the page: each refinement's final weights come back from the worker and are
//! kept here, on the CPU, so the drawing pad can compare them with the base and the slider's SVD
//! model; each can be exported as safetensors (factor tensors named per layer, ranks in the
//! metadata) and a file can be imported back, checked like the base import (shapes that chain,
//! ranks within min(m, n), finite values, a whole file) before anything changes.

use std::rc::Rc;

use web_sys::{HtmlInputElement, Url};
use yew::prelude::*;

use crate::app::exercise1::base_model::predict_device;
use crate::app::exercise1::weights_io::{blob_url, file_bytes};
use crate::lab::classifier::mlp::MLP_WIDTHS;
use crate::lab::compress::factorized::FactorizedMlp;
use crate::lab::compress::ranks::params_for;
use crate::lab::compress::weights::{factorized_from_tensors, factorized_metadata};
use crate::lab::core::safetensors::{NamedTensor, decode_safetensors, encode_safetensors};
use crate::lab::core::summary::group;

/// A refined (or imported) factorized model.
pub struct RefinedModel {
    /// How the pad's model pickers name it, e.g. "refined 2× (50, 25, 5)".
    pub label: String,
    /// Rank per layer.
    pub ranks: Vec<usize>,
    /// Test accuracy after refinement, when this page refined it.
    pub accuracy: Option<f64>,
    /// The model on the CPU, where the drawing's predictions run.
    pub cpu: FactorizedMlp,
    /// A `blob:` URL of its safetensors file (revoked when the model is dropped).
    pub export_url: Option<String>,
}

impl Drop for RefinedModel {
    fn drop(&mut self) {
        if let Some(u) = &self.export_url {
            let _ = Url::revoke_object_url(u);
        }
    }
}

/// The same model object (they are never edited, only added): a cheap equality for props.
impl PartialEq for RefinedModel {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl std::fmt::Debug for RefinedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RefinedModel({})", self.label)
    }
}

fn ranks_text(ranks: &[usize]) -> String {
    ranks.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(", ")
}

impl RefinedModel {
    /// Checks and builds the model from its tensors; `what` begins its label ("refined 2×").
    pub fn new(what: &str, tensors: &[NamedTensor], accuracy: Option<f64>) -> Result<Self, String> {
        let cpu = factorized_from_tensors(tensors, &MLP_WIDTHS, &predict_device())
            .map_err(|e| e.to_string())?;
        let ranks = cpu.ranks();
        let bytes = encode_safetensors(tensors, &factorized_metadata(&ranks));
        Ok(Self {
            label: format!("{what} ({})", ranks_text(&ranks)),
            export_url: blob_url(&bytes, "application/octet-stream"),
            ranks,
            accuracy,
            cpu,
        })
    }

    /// The export's file name.
    pub fn file_name(&self) -> String {
        format!(
            "mnist-lab-factorized-{}.safetensors",
            self.ranks.iter().map(|k| k.to_string()).collect::<Vec<_>>().join("-")
        )
    }
}

/// What the list shows and where an import goes.
#[derive(Properties, Clone, PartialEq)]
pub struct RefinedModelsProps {
    /// The models kept so far (oldest first).
    pub models: Rc<Vec<Rc<RefinedModel>>>,
    /// `(m, n)` per layer, for the parameter counts.
    pub shapes: Vec<(usize, usize)>,
    /// Receives an imported model.
    pub on_import: Callback<Rc<RefinedModel>>,
}

/// The refined models: ranks, parameters, accuracy, an export link each, and an import picker.
#[component]
pub fn RefinedModels(props: &RefinedModelsProps) -> Html {
    let error = use_state(|| None::<String>);
    let on_pick = {
        let (error, on_import) = (error.clone(), props.on_import.clone());
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
            input.set_value("");
            let (error, on_import) = (error.clone(), on_import.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let name = file.name();
                let parsed = file_bytes(&file).await.and_then(|bytes| {
                    let (tensors, _) = decode_safetensors(&bytes)
                        .map_err(|e| format!("not a weights file MNIST Lab can read: {e}"))?;
                    RefinedModel::new(&format!("imported {name}"), &tensors, None)
                });
                match parsed {
                    Ok(m) => {
                        error.set(None);
                        on_import.emit(Rc::new(m));
                    }
                    Err(e) => {
                        error.set(Some(format!("{name}: {e}. The models stay as they were.")))
                    }
                }
            });
        })
    };
    html! {
        <div class="refined-models" data-testid="refined-models" data-count={props.models.len().to_string()}>
            <h4>{"Refined models"}</h4>
            if props.models.is_empty() {
                <p class="hint">{"None yet: refine (or pick a preset) and the refined model appears here, ready to draw with and export."}</p>
            } else {
                <table class="compare">
                    <tr><th>{"model"}</th><th>{"parameters"}</th><th>{"test accuracy"}</th><th></th></tr>
                    { for props.models.iter().map(|m| html! {
                        <tr>
                            <td>{&m.label}</td>
                            <td>{group(params_for(&props.shapes, &m.ranks))}</td>
                            <td>{m.accuracy.map(|a| format!("{:.2}%", a * 100.0)).unwrap_or_else(|| "–".into())}</td>
                            <td>{ match &m.export_url {
                                Some(u) => html! { <a class="button" data-testid="export-refined" href={u.clone()} download={m.file_name()}>{"Export (.safetensors)"}</a> },
                                None => html! {},
                            } }</td>
                        </tr>
                    }) }
                </table>
            }
            <label class="button">{"Import a factorized model…"}
                <input type="file" accept=".safetensors,application/octet-stream" data-testid="import-refined" onchange={on_pick} />
            </label>
            if let Some(e) = &*error { <p class="error" role="alert" data-testid="import-refined-error">{e}</p> }
        </div>
    }
}
