//! Weights out and in, as safetensors (a standard format other tools read): export the base
//! model the page is using, import one back. An import is checked against the 784-100-50-10
//! shapes before anything changes, so a wrong or corrupt file gets a message and the current
//! model stays.

use std::collections::BTreeMap;
use std::rc::Rc;

use js_sys::{Array, Uint8Array};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, BlobPropertyBag, HtmlInputElement, Url};
use yew::prelude::*;

use crate::lab::classifier::mlp::MLP_WIDTHS;
use crate::lab::classifier::weights::mlp_from_tensors;
use crate::lab::core::safetensors::{NamedTensor, decode_safetensors, encode_safetensors};
use crate::lab::core::same::Same;

/// File name of an export.
pub const EXPORT_NAME: &str = "mnist-lab-mlp-784-100-50-10.safetensors";

/// A `blob:` URL holding `bytes` (the caller revokes it when it is replaced).
pub fn blob_url(bytes: &[u8], mime: &str) -> Option<String> {
    let parts = Array::of1(&Uint8Array::from(bytes));
    let bag = BlobPropertyBag::new();
    bag.set_type(mime);
    let blob = Blob::new_with_u8_array_sequence_and_options(&parts, &bag).ok()?;
    Url::create_object_url_with_blob(&blob).ok()
}

/// Reads a picked file's bytes.
pub async fn file_bytes(file: &web_sys::File) -> Result<Vec<u8>, String> {
    let buf = JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| format!("could not read {}: {e:?}", file.name()))?;
    Ok(Uint8Array::new(&buf).to_vec())
}

/// Checks that `bytes` is a safetensors file with the classifier's tensors, and returns them.
pub fn parse_classifier(bytes: &[u8]) -> Result<Vec<NamedTensor>, String> {
    let (tensors, _) = decode_safetensors(bytes)
        .map_err(|e| format!("not a weights file MNIST Lab can read: {e}"))?;
    // Building the model on the CPU checks names, shapes and finiteness without touching the GPU.
    mlp_from_tensors(&tensors, &MLP_WIDTHS, &burn::tensor::Device::flex())
        .map_err(|e| format!("these weights do not fit the 784-100-50-10 MLP: {e}"))?;
    Ok(tensors)
}

/// What the bar exports and reports.
#[derive(Properties, Clone, PartialEq)]
pub struct WeightsIoProps {
    /// The base model's tensors now (None while it loads).
    pub tensors: Option<Rc<Vec<NamedTensor>>>,
    /// Receives an imported model (file name, tensors).
    pub on_import: Callback<(String, Rc<Vec<NamedTensor>>)>,
}

/// Export link and import picker for the classifier's weights.
#[component]
pub fn WeightsIo(props: &WeightsIoProps) -> Html {
    let url = use_state(|| None::<String>);
    let error = use_state(|| None::<String>);
    {
        let url = url.clone();
        let key = props.tensors.as_ref().map(Same::from);
        let tensors = props.tensors.clone();
        use_effect_with(key, move |_| {
            let meta = BTreeMap::from([
                ("model".to_string(), "mlp-784-100-50-10".to_string()),
                ("exported-by".to_string(), "MNIST Lab".to_string()),
            ]);
            let made = tensors
                .and_then(|t| blob_url(&encode_safetensors(&t, &meta), "application/octet-stream"));
            url.set(made.clone());
            move || {
                if let Some(u) = made {
                    let _ = Url::revoke_object_url(&u);
                }
            }
        });
    }
    let on_pick = {
        let (error, on_import) = (error.clone(), props.on_import.clone());
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
            input.set_value("");
            let (error, on_import) = (error.clone(), on_import.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let name = file.name();
                match file_bytes(&file).await.and_then(|b| parse_classifier(&b)) {
                    Ok(t) => {
                        error.set(None);
                        on_import.emit((name, Rc::new(t)));
                    }
                    Err(e) => error.set(Some(format!("{name}: {e}. The current model stays."))),
                }
            });
        })
    };
    html! {
        <div class="buttons weights-io">
            { match &*url {
                Some(u) => html! { <a class="button" data-testid="export-weights" href={u.clone()} download={EXPORT_NAME}>{"Export weights (.safetensors)"}</a> },
                None => html! { <span class="hint">{"loading the model…"}</span> },
            } }
            <label class="button">{"Import weights…"}
                <input type="file" accept=".safetensors,application/octet-stream" data-testid="import-weights" onchange={on_pick} />
            </label>
            if let Some(e) = &*error { <p class="error" role="alert" data-testid="weights-error">{e}</p> }
        </div>
    }
}
