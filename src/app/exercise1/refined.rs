//! Refined models in the page: each refinement's final weights come back from the worker and are
//! kept here, on the CPU, so the drawing pad can compare them with the base and the slider's SVD
//! model; each can be exported as safetensors (factor tensors named per layer, ranks in the
//! metadata) and a file can be imported back, checked like the base import (shapes that chain,
//! ranks within min(m, n), finite values, a whole file) before anything changes.

use std::rc::Rc;

use web_sys::{HtmlInputElement, Url};
use yew::prelude::*;

use crate::app::backend::page_device;
use crate::app::exercise1::confusion::ConfusionHeatmap;
use crate::app::exercise1::weights_io::{blob_url, file_bytes};
use crate::lab::classifier::eval::{EVAL_BATCH, Evaluation, evaluate};
use crate::lab::classifier::metrics::ConfusionMatrix;
use crate::lab::classifier::mlp::MLP_WIDTHS;
use crate::lab::compress::factorized::FactorizedMlp;
use crate::lab::compress::ranks::{join_ranks, params_for};
use crate::lab::compress::weights::{factorized_from_tensors, factorized_metadata};
use crate::lab::core::safetensors::{NamedTensor, decode_safetensors, encode_safetensors};
use crate::lab::core::summary::group;
use crate::lab::data::Dataset;

/// A model's test-set numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Scores {
    /// Fraction correct.
    pub accuracy: f64,
    /// Truth × prediction counts.
    pub confusion: ConfusionMatrix,
    /// The predicted class of each test image.
    pub predictions: Rc<Vec<u8>>,
}

impl From<Evaluation> for Scores {
    fn from(e: Evaluation) -> Self {
        Self { accuracy: e.accuracy, confusion: e.confusion, predictions: Rc::new(e.predictions) }
    }
}

/// A refined (or imported) factorized model.
pub struct RefinedModel {
    /// How the pad's model pickers name it, e.g. "refined 2× (50, 25, 5)".
    pub label: String,
    /// Rank per layer.
    pub ranks: Vec<usize>,
    /// How it does on the test set (from the worker after a refinement, from the page for an
    /// import; `None` while MNIST's test set is not loaded).
    pub scores: Option<Scores>,
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

impl RefinedModel {
    /// Checks and builds the model from its tensors; `what` begins its label ("refined 2×").
    pub fn new(
        what: &str,
        tensors: &[NamedTensor],
        scores: Option<Scores>,
    ) -> Result<Self, String> {
        let cpu = factorized_from_tensors(tensors, &MLP_WIDTHS, &page_device())
            .map_err(|e| e.to_string())?;
        let ranks = cpu.ranks();
        let bytes = encode_safetensors(tensors, &factorized_metadata(&ranks));
        Ok(Self {
            label: format!("{what} ({})", join_ranks(&ranks, ", ")),
            export_url: blob_url(&bytes, "application/octet-stream"),
            ranks,
            scores,
            cpu,
        })
    }

    /// The export's file name.
    pub fn file_name(&self) -> String {
        format!("mnist-lab-factorized-{}.safetensors", join_ranks(&self.ranks, "-"))
    }
}

/// What the list shows and where an import goes.
#[derive(Properties, Clone, PartialEq)]
pub struct RefinedModelsProps {
    /// The models kept so far (oldest first).
    pub models: Rc<Vec<Rc<RefinedModel>>>,
    /// `(m, n)` per layer, for the parameter counts.
    pub shapes: Vec<(usize, usize)>,
    /// MNIST's test set, to score an imported model (`None` while it loads).
    pub test: Option<Rc<Dataset>>,
    /// Receives an imported model.
    pub on_import: Callback<Rc<RefinedModel>>,
}

/// The refined models: ranks, parameters, accuracy, an export link each, and an import picker.
#[component]
pub fn RefinedModels(props: &RefinedModelsProps) -> Html {
    let error = use_state(|| None::<String>);
    // Whose confusion matrix is shown (default: the newest model).
    let shown = use_state(|| None::<usize>);
    let on_pick = {
        let (error, on_import, test) = (error.clone(), props.on_import.clone(), props.test.clone());
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
            input.set_value("");
            let (error, on_import, test) = (error.clone(), on_import.clone(), test.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let name = file.name();
                let parsed = file_bytes(&file).await.and_then(|bytes| {
                    let (tensors, _) = decode_safetensors(&bytes)
                        .map_err(|e| format!("not a weights file MNIST Lab can read: {e}"))?;
                    RefinedModel::new(&format!("imported {name}"), &tensors, None)
                });
                match parsed {
                    Ok(mut m) => {
                        error.set(None);
                        if let Some(t) = &test {
                            // A small model on the CPU: about as long as the base's own score.
                            match evaluate(&m.cpu, t, EVAL_BATCH, &page_device()).await {
                                Ok(e) => m.scores = Some(e.into()),
                                Err(e) => error.set(Some(format!(
                                    "{name} is imported, but scoring it failed: {e}"
                                ))),
                            }
                        }
                        on_import.emit(Rc::new(m));
                    }
                    Err(e) => {
                        error.set(Some(format!("{name}: {e}. The models stay as they were.")))
                    }
                }
            });
        })
    };
    let heatmap_of = shown
        .and_then(|i| props.models.get(i))
        .or_else(|| props.models.last())
        .and_then(|m| m.scores.as_ref().map(|s| (m, s)));
    html! {
        <div class="refined-models" data-testid="refined-models" data-count={props.models.len().to_string()}>
            <h4>{"Refined models"}</h4>
            if props.models.is_empty() {
                <p class="hint">{"None yet: refine (or pick a preset) and the refined model appears here, ready to draw with and export."}</p>
            } else {
                <table class="compare">
                    <tr><th>{"model"}</th><th>{"parameters"}</th><th>{"test accuracy"}</th><th></th><th></th></tr>
                    { for props.models.iter().enumerate().map(|(i, m)| html! {
                        <tr data-accuracy={m.scores.as_ref().map(|s| s.accuracy.to_string()).unwrap_or_default()}>
                            <td>{&m.label}</td>
                            <td>{group(params_for(&props.shapes, &m.ranks))}</td>
                            <td>{m.scores.as_ref().map(|s| format!("{:.2}%", s.accuracy * 100.0)).unwrap_or_else(|| "–".into())}</td>
                            <td>{ match &m.export_url {
                                Some(u) => html! { <a class="button" data-testid="export-refined" href={u.clone()} download={m.file_name()}>{"Export (.safetensors)"}</a> },
                                None => html! {},
                            } }</td>
                            <td>if m.scores.is_some() {
                                <button data-testid="show-refined-confusion" onclick={{
                                    let shown = shown.clone();
                                    Callback::from(move |_| shown.set(Some(i)))
                                }}>{"confusion matrix"}</button>
                            }</td>
                        </tr>
                    }) }
                </table>
            }
            <label class="button">{"Import a factorized model…"}
                <input type="file" accept=".safetensors,application/octet-stream" data-testid="import-refined" onchange={on_pick} />
            </label>
            if let Some(e) = &*error { <p class="error" role="alert" data-testid="import-refined-error">{e}</p> }
            { match (heatmap_of, &props.test) {
                (Some((m, s)), Some(test)) => html! {
                    <div data-testid="refined-confusion" data-model={m.label.clone()}>
                        <p class="hint">{format!("Confusion matrix of {}", m.label)}</p>
                        <ConfusionHeatmap matrix={s.confusion} predictions={s.predictions.clone()} test={test.clone()} testid="refined-confusion" />
                    </div>
                },
                _ => html! {},
            } }
        </div>
    }
}
