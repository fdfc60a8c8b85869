//! Your own digits: the models of exercise 1 (base, the sliders' SVD model, every refined one)
//! evaluated on the user's paired IDX files or on "my digits" — drawings from the pad, labelled
//! and kept in this browser — with accuracy, counts and a confusion matrix.

use std::rc::Rc;

use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::app::backend::page_device;
use crate::app::context::use_lab;
use crate::app::data_panel::Thumbnails;
use crate::app::exercise1::confusion::ConfusionHeatmap;
use crate::app::exercise1::pad_models::PadModel;
use crate::app::exercise1::refined::{RefinedModel, Scores};
use crate::lab::classifier::eval::{EVAL_BATCH, evaluate};
use crate::lab::classifier::mlp::Mlp;
use crate::lab::data::{Dataset, my_digits};

/// Where "my digits" live in the browser.
const STORAGE_KEY: &str = "mnist-lab-my-digits";

/// A model to evaluate, on the CPU (where the pad's models already are).
#[derive(Clone)]
pub enum EvalModel {
    /// A dense MLP: the base, or the SVD model as U'Vᵀ.
    Dense(Rc<Mlp>),
    /// A refined or imported factorized model.
    Factorized(Rc<RefinedModel>),
}

/// The same model object (props and effect dependencies hold it, so its address is not reused).
impl PartialEq for EvalModel {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (EvalModel::Dense(a), EvalModel::Dense(b)) => Rc::ptr_eq(a, b),
            (EvalModel::Factorized(a), EvalModel::Factorized(b)) => Rc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// The pad's models under the pad's names: the base, the SVD model at `svd`'s ranks (once
/// built), every refined model.
pub fn eval_models(
    base: &Rc<Mlp>,
    svd: Option<(&[usize], &Rc<Mlp>)>,
    refined: &[Rc<RefinedModel>],
) -> Rc<Vec<(String, EvalModel)>> {
    let ranks = svd.map(|(r, _)| r.to_vec()).unwrap_or_default();
    let mut models = vec![(PadModel::Base.label(&ranks, refined), EvalModel::Dense(base.clone()))];
    if let Some((_, dense)) = svd {
        models.push((PadModel::Svd.label(&ranks, refined), EvalModel::Dense(dense.clone())));
    }
    for (i, r) in refined.iter().enumerate() {
        models
            .push((PadModel::Refined(i).label(&ranks, refined), EvalModel::Factorized(r.clone())));
    }
    Rc::new(models)
}

/// What the panel evaluates.
#[derive(Properties, Clone, PartialEq)]
pub struct UserEvalProps {
    /// The models, each with the name the pad's pickers use.
    pub models: Rc<Vec<(String, EvalModel)>>,
    /// The pad's current pre-processed drawing (784 values in [0, 1]), to add to "my digits".
    pub image: Option<Vec<f32>>,
}

/// Which set is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Files,
    Digits,
}

fn load_digits() -> Result<Dataset, String> {
    let storage = web_sys::window().and_then(|w| w.local_storage().ok().flatten());
    match storage.and_then(|s| s.get_item(STORAGE_KEY).ok().flatten()) {
        None => Ok(my_digits::empty()),
        Some(text) => my_digits::decode(&text).map_err(|e| {
            format!(
                "your saved digits could not be read ({e}); they stay stored until you clear them"
            )
        }),
    }
}

fn save_digits(set: &Dataset) -> Result<(), String> {
    let storage = web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .ok_or("this browser keeps no local storage: the digits last until the page closes")?;
    storage.set_item(STORAGE_KEY, &my_digits::encode(set)).map_err(|_| {
        "the browser refused to store the digits (storage full?): they last until the page closes"
            .to_string()
    })
}

/// The panel: "my digits" (add the drawing with its label, clear), the set picker, a table of
/// accuracies and the chosen model's confusion matrix.
#[component]
pub fn UserEval(props: &UserEvalProps) -> Html {
    let lab = use_lab();
    let loaded = use_memo((), |_| load_digits());
    let digits = use_state(|| Rc::new((*loaded).clone().unwrap_or_else(|_| my_digits::empty())));
    let error = use_state(|| (*loaded).clone().err());
    let label = use_state(|| 0u8);
    let picked = use_state(|| None::<Source>);
    let shown = use_state(|| 0usize);
    let results = use_state(|| None::<(Rc<Dataset>, Vec<Scores>)>);
    let generation = use_mut_ref(|| 0u64);

    // Files when there are some (unless the user picked), else my digits.
    let source =
        picked.unwrap_or(if lab.user_set.is_some() { Source::Files } else { Source::Digits });
    let set: Option<Rc<Dataset>> = match source {
        Source::Files => lab.user_set.as_ref().map(|s| s.data.clone()),
        Source::Digits => (!digits.is_empty()).then(|| (*digits).clone()),
    };

    // Every model on the chosen set; a newer set or model list wins over a running evaluation.
    {
        let results = results.clone();
        let generation = generation.clone();
        use_effect_with((set.clone().map(PtrSet), props.models.clone()), move |(set, models)| {
            *generation.borrow_mut() += 1;
            let mine = *generation.borrow();
            results.set(None);
            if let Some(PtrSet(set)) = set.clone() {
                let models = models.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    let device = page_device();
                    let mut scores = Vec::new();
                    for (_, m) in models.iter() {
                        let e = match m {
                            EvalModel::Dense(mlp) => {
                                evaluate(mlp.as_ref(), &set, EVAL_BATCH, &device).await
                            }
                            EvalModel::Factorized(r) => {
                                evaluate(&r.cpu, &set, EVAL_BATCH, &device).await
                            }
                        };
                        match e {
                            Ok(e) => scores.push(Scores::from(e)),
                            Err(_) => return,
                        }
                        if *generation.borrow() != mine {
                            return;
                        }
                    }
                    results.set(Some((set, scores)));
                });
            }
        });
    }

    let on_add = {
        let (digits, error, image, label) =
            (digits.clone(), error.clone(), props.image.clone(), *label);
        Callback::from(move |_| {
            let Some(img) = &image else { return };
            match my_digits::add(&digits, img, label) {
                Ok(set) => {
                    error.set(save_digits(&set).err());
                    digits.set(Rc::new(set));
                }
                Err(e) => error.set(Some(format!("not added: {e}"))),
            }
        })
    };
    let on_remove_last = {
        let (digits, error) = (digits.clone(), error.clone());
        Callback::from(move |_| {
            let set = my_digits::remove(&digits, digits.len().saturating_sub(1));
            error.set(save_digits(&set).err());
            digits.set(Rc::new(set));
        })
    };
    let on_clear = {
        let (digits, error) = (digits.clone(), error.clone());
        Callback::from(move |_| {
            let set = my_digits::empty();
            error.set(save_digits(&set).err());
            digits.set(Rc::new(set));
        })
    };
    let on_label = {
        let label = label.clone();
        Callback::from(move |e: Event| {
            let s: HtmlSelectElement = e.target_unchecked_into();
            label.set(s.value().parse().unwrap_or(0));
        })
    };
    let on_source = {
        let picked = picked.clone();
        Callback::from(move |e: Event| {
            let s: HtmlSelectElement = e.target_unchecked_into();
            picked.set(Some(if s.value() == "files" { Source::Files } else { Source::Digits }));
        })
    };

    let count = set.as_ref().map(|s| s.len()).unwrap_or(0);
    let table = match (&*results, &set) {
        (Some((evaluated, scores)), Some(set)) if Rc::ptr_eq(evaluated, set) => html! {
            <table class="compare">
                <tr><th>{"model"}</th><th>{"accuracy"}</th><th>{"correct"}</th><th></th></tr>
                { for props.models.iter().zip(scores).enumerate().map(|(i, ((name, _), s))| {
                    let correct = (0..10).map(|c| s.confusion.0[c][c] as usize).sum::<usize>();
                    let shown = shown.clone();
                    html! {
                        <tr data-accuracy={s.accuracy.to_string()}>
                            <td>{name}</td>
                            <td>{format!("{:.2}%", s.accuracy * 100.0)}</td>
                            <td>{format!("{correct} of {count}")}</td>
                            <td><button onclick={Callback::from(move |_| shown.set(i))}>{"confusion matrix"}</button></td>
                        </tr>
                    }
                }) }
            </table>
        },
        (_, Some(_)) => html! { <p>{"evaluating…"}</p> },
        (_, None) => html! {
            <p class="hint">{ match source {
                Source::Files => "Load an image file and a label file under Data to evaluate on them.",
                Source::Digits => "No digits yet: draw one above, pick its label and add it.",
            } }</p>
        },
    };
    let heatmap = match (&*results, &set) {
        (Some((evaluated, scores)), Some(set)) if Rc::ptr_eq(evaluated, set) => {
            let i = (*shown).min(scores.len().saturating_sub(1));
            match (scores.get(i), props.models.get(i)) {
                (Some(s), Some((name, _))) => html! {
                    <div data-testid="user-eval-confusion" data-model={name.clone()}>
                        <p class="hint">{format!("Confusion matrix of {name} on these {count} images")}</p>
                        <ConfusionHeatmap matrix={s.confusion} predictions={s.predictions.clone()} test={set.clone()} testid="user-eval-confusion" />
                    </div>
                },
                _ => html! {},
            }
        }
        _ => html! {},
    };
    let files_label = match &lab.user_set {
        Some(s) => format!("your IDX files: {} ({} images)", s.name, s.data.len()),
        None => "your IDX files (none loaded)".into(),
    };
    html! {
        <div class="user-eval">
            <h4>{"Your own digits"}</h4>
            <div class="my-digits" data-testid="my-digits" data-count={digits.len().to_string()}>
                <label>{"label of the drawing "}
                    <select data-testid="my-digit-label" onchange={on_label}>
                        { for (0..10u8).map(|d| html! { <option value={d.to_string()} selected={d == *label}>{d}</option> }) }
                    </select>
                </label>
                <button data-testid="my-digit-add" onclick={on_add} disabled={props.image.is_none()}>{"Add the drawing to my digits"}</button>
                <button onclick={on_remove_last} disabled={digits.is_empty()}>{"Remove the last"}</button>
                <button data-testid="my-digits-clear" onclick={on_clear}>{"Clear my digits"}</button>
                <span>{format!(" {} digit(s) kept in this browser ", digits.len())}</span>
                if !digits.is_empty() {
                    <Thumbnails data={(*digits).clone()} count={digits.len().min(24)} />
                }
            </div>
            if let Some(e) = &*error { <p class="error" role="alert" data-testid="my-digits-error">{e}</p> }
            <label>{"evaluate on "}
                <select data-testid="user-eval-set" onchange={on_source}>
                    <option value="files" selected={source == Source::Files}>{files_label}</option>
                    <option value="digits" selected={source == Source::Digits}>{format!("my digits ({})", digits.len())}</option>
                </select>
            </label>
            <div data-testid="user-eval" data-count={count.to_string()} data-source={if source == Source::Files { "files" } else { "digits" }}>
                {table}
            </div>
            {heatmap}
        </div>
    }
}

/// A set compared by identity, for an effect's dependencies.
#[derive(Clone)]
struct PtrSet(Rc<Dataset>);

impl PartialEq for PtrSet {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}
