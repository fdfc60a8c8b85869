//! The compression lab: the shipped pretrained base model, a compression-factor slider and
//! per-layer rank sliders that rebuild the factorized model by SVD and re-evaluate it on the full
//! test set, and the drawing pad with both models' predictions side by side.

use std::rc::Rc;

use burn::module::Module;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::app::backend::page_device;
use crate::app::context::use_lab;
use crate::app::env::now_ms;
use crate::app::exercise1::base_model::{EvaluatorCell, Loaded, evaluator_for, load_base};
use crate::app::exercise1::draw_pad::DrawPad;
use crate::app::exercise1::pad_models::{
    PadModel, model_select, pair_from_link, prediction_view, probabilities, share_pair,
};
use crate::app::exercise1::plots_view::{SpectrumPlot, SweepPlot};
use crate::app::exercise1::refine_panel::RefinePanel;
use crate::app::exercise1::refined::{RefinedModel, RefinedModels};
use crate::app::exercise1::user_eval::{UserEval, eval_models};
use crate::app::exercise1::weights_io::WeightsIo;
use crate::app::io::datasets::DataState;
use crate::app::widgets::tables::summary_table;
use crate::lab::classifier::eval::{EVAL_BATCH, evaluate};
use crate::lab::classifier::mlp::Mlp;
use crate::lab::classifier::summary::mlp_summary;
use crate::lab::compress::ranks::{RankPoint, RankRule, SWEEP_FACTORS, join_ranks, params_for};
use crate::lab::compress::summary::factorized_summary_for;
use crate::lab::core::safetensors::NamedTensor;
use crate::lab::core::same::Same;
use crate::lab::core::summary::group;
use crate::lab::data::Dataset;

/// What the panel needs.
#[derive(Properties, Debug, Clone, PartialEq)]
pub struct CompressPanelProps {
    /// Weights trained in this page, which replace the pretrained model when present.
    #[prop_or_default]
    pub trained: Option<Rc<Vec<NamedTensor>>>,
    /// A stored refinement run to reopen.
    #[prop_or_default]
    pub resume_refine: Option<crate::app::run::resume::ResumeRequest>,
    /// Where `trained` came from, when it was not trained here (an imported file).
    #[prop_or_default]
    pub trained_from: Option<AttrValue>,
    /// Receives imported weights (file name, tensors).
    pub on_import: Callback<(String, Rc<Vec<NamedTensor>>)>,
    /// The guide asks for the assignment's refinement at a factor (a new number each time).
    #[prop_or_default]
    pub assignment_refine: Option<(f64, u32)>,
}

/// The factorized model at the current ranks and how it scores.
#[derive(Clone)]
struct Current {
    ranks: Vec<usize>,
    /// The same function as the two-layer factorisation at `ranks`, as dense weights U'Vᵀ on the
    /// CPU: what predicts the drawing (the slider's evaluation has its own evaluator).
    dense: Rc<Mlp>,
    accuracy: Option<f64>,
    ms: f64,
}

impl PartialEq for Current {
    fn eq(&self, other: &Self) -> bool {
        self.ranks == other.ranks && self.accuracy == other.accuracy
    }
}

/// The compression lab panel.
#[component]
pub fn CompressPanel(props: &CompressPanelProps) -> Html {
    let lab = use_lab();
    let loaded = use_state(|| None::<Result<Loaded, String>>);
    let current = use_state(|| None::<Current>);
    let factor = use_state(|| {
        crate::app::env::url_param("factor")
            .and_then(|f| f.parse::<f64>().ok())
            .filter(|f| (1.0..=16.0).contains(f))
            .unwrap_or(2.0)
    });
    // How a factor becomes ranks: the seed's k = int(n/f), or the same budget spread by energy.
    let rule = use_state(|| {
        crate::app::env::url_param("rank_rule")
            .and_then(|r| RankRule::parse(&r).ok())
            .unwrap_or_default()
    });
    // Ranks from a share link, used for the first build only.
    let linked_ranks = use_mut_ref(|| {
        crate::app::env::url_param("ranks").map(|r| {
            r.split(',').filter_map(|k| k.trim().parse::<usize>().ok()).collect::<Vec<_>>()
        })
    });
    let image = use_state(|| None::<Vec<f32>>);
    let probs = use_state(|| (None::<Vec<f32>>, None::<Vec<f32>>, 0.0f64));
    // The pad emission the shown latency belongs to: switching models is not a new drawing.
    let timed_emit = use_mut_ref(|| 0.0f64);
    // The refined models kept so far, and which two models the drawing pad compares.
    let refined = use_state(|| Rc::new(Vec::<Rc<RefinedModel>>::new()));
    let pair = use_state(pair_from_link);
    let generation = use_mut_ref(|| 0u64);
    let evaluator: EvaluatorCell = use_mut_ref(|| None);
    let sweep = use_state(Vec::<RankPoint>::new);
    // MNIST's test set, once loaded.
    let test: Option<Rc<Dataset>> = match &lab.mnist {
        DataState::Ready(t) => Some(t.clone()),
        _ => None,
    };

    // Load the base model on the page's device (Flex, whatever the workers use: it needs neither
    // the backend's probe nor a reload when the training backend changes).
    // Which base model: the shipped one, or the n-th model trained in this page.
    let source = props.trained.as_ref().map(Same::from);
    {
        let loaded = loaded.clone();
        let current = current.clone();
        let trained = props.trained.clone();
        use_effect_with(source.clone(), move |_| {
            // A new base model: drop the old one's factorizations.
            current.set(None);
            loaded.set(None);
            wasm_bindgen_futures::spawn_local(
                async move { loaded.set(Some(load_base(trained).await)) },
            );
        });
    }

    // Rebuild: SVD factors at `ranks`, then a full test-set evaluation. Newer requests win.
    let rebuild = {
        let loaded = loaded.clone();
        let current = current.clone();
        let generation = generation.clone();
        let test = test.clone();
        let evaluator = evaluator.clone();
        Callback::from(move |ranks: Vec<usize>| {
            let Some(Ok(l)) = (*loaded).clone() else { return };
            crate::app::io::share::set_param("ranks", Some(&join_ranks(&ranks, ",")));
            let current = current.clone();
            let test = test.clone();
            let evaluator = evaluator.clone();
            *generation.borrow_mut() += 1;
            let mine = *generation.borrow();
            let generation = generation.clone();
            wasm_bindgen_futures::spawn_local(async move {
                // Debounce: let a dragging slider settle before the work starts.
                gloo_timers::future::TimeoutFuture::new(120).await;
                if *generation.borrow() != mine {
                    return;
                }
                let start = now_ms();
                let Ok(dense) = l.spectrum.dense_equivalent(&ranks, &page_device()) else {
                    return;
                };
                let accuracy = match test.as_ref().and_then(|t| evaluator_for(&evaluator, &l, t)) {
                    Some(e) => e.accuracy(&l.spectrum, &ranks).await.ok(),
                    None => None,
                };
                if *generation.borrow() == mine {
                    // With the test set there, an evaluation that failed settles it too.
                    if accuracy.is_some() || test.is_some() {
                        crate::app::env::announce_interactive();
                    }
                    current.set(Some(Current {
                        ranks,
                        dense: Rc::new(dense),
                        accuracy,
                        ms: now_ms() - start,
                    }));
                }
            });
        })
    };

    // Which base model is loaded, by identity: a new one (trained, imported, reloaded on another
    // backend) must rebuild even when it loads so fast that the page never renders the gap.
    let loaded_id = match &*loaded {
        Some(Ok(l)) => Some(Same::from(&l.base)),
        _ => None,
    };

    // First build once the base model is there, and base accuracy once MNIST is.
    {
        let rebuild = rebuild.clone();
        let factor = *factor;
        let rule = *rule;
        let linked_ranks = linked_ranks.clone();
        let loaded_state = loaded.clone();
        let test = test.clone();
        let ready = (loaded_id.clone(), test.is_some());
        use_effect_with(ready, move |_| {
            if let Some(Ok(l)) = (*loaded_state).clone() {
                let shapes = l.spectrum.shapes();
                let linked = linked_ranks.borrow_mut().take().filter(|r| {
                    r.len() == shapes.len()
                        && r.iter().zip(&shapes).all(|(&k, &(m, n))| k >= 1 && k <= m.min(n))
                });
                if let Some(r) = linked.or_else(|| l.spectrum.ranks_for(rule, factor).ok()) {
                    rebuild.emit(r);
                }
                if let (Some(t), None) = (test, l.base_acc) {
                    wasm_bindgen_futures::spawn_local(async move {
                        if let Ok(e) =
                            evaluate(l.base.as_ref(), &t, EVAL_BATCH, &page_device()).await
                        {
                            loaded_state.set(Some(Ok(Loaded { base_acc: Some(e.accuracy), ..l })));
                        }
                    });
                }
            }
        });
    }

    // The accuracy-vs-parameters curve over many factors, computed in the background.
    {
        let sweep = sweep.clone();
        let l = (*loaded).clone();
        let test = test.clone();
        let evaluator = evaluator.clone();
        let ready = (loaded_id.clone(), test.is_some());
        use_effect_with(ready, move |_| {
            sweep.set(Vec::new());
            if let (Some(Ok(l)), Some(t)) = (l, test) {
                wasm_bindgen_futures::spawn_local(async move {
                    let Some(e) = evaluator_for(&evaluator, &l, &t) else { return };
                    let mut points = Vec::new();
                    for rule in [RankRule::Seed, RankRule::Budget] {
                        for f in SWEEP_FACTORS {
                            // Background work: it waits while the user draws, so that the pad's
                            // predictions never queue behind a 10k-image evaluation.
                            while now_ms() - crate::app::exercise1::draw_pad::last_emit_ms()
                                < 1500.0
                            {
                                gloo_timers::future::TimeoutFuture::new(250).await;
                            }
                            let Ok(ranks) = l.spectrum.ranks_for(rule, f) else { continue };
                            if let Ok(acc) = e.accuracy(&l.spectrum, &ranks).await {
                                points.push(RankPoint {
                                    factor: f,
                                    params: params_for(&l.spectrum.shapes(), &ranks),
                                    ranks,
                                    test_acc: acc,
                                    rule,
                                });
                                sweep.set(points.clone());
                            }
                            gloo_timers::future::TimeoutFuture::new(0).await;
                        }
                    }
                });
            }
        });
    }

    // Predictions for the drawing with the two chosen models.
    {
        let probs = probs.clone();
        let timed_emit = timed_emit.clone();
        let l = (*loaded).clone();
        let c = (*current).clone();
        let models = (*refined).clone();
        let chosen = *pair;
        use_effect_with(
            (
                (*image).clone(),
                c.as_ref().map(|c| c.ranks.clone()),
                l.as_ref().map(|l| l.is_ok()),
                chosen,
                models.len(),
            ),
            move |(img, _, _, _, _)| {
                let img = img.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    let (Some(img), Some(Ok(l))) = (img, l) else {
                        probs.set((None, None, 0.0));
                        return;
                    };
                    let device = page_device();
                    let predict = async |m: PadModel| match m {
                        PadModel::Base => probabilities(l.base.as_ref(), &img, &device).await.ok(),
                        PadModel::Svd => match &c {
                            Some(c) => probabilities(c.dense.as_ref(), &img, &device).await.ok(),
                            None => None,
                        },
                        PadModel::Refined(i) => match models.get(i) {
                            Some(r) => probabilities(&r.cpu, &img, &device).await.ok(),
                            None => None,
                        },
                    };
                    let (a, b) = (predict(chosen.0).await, predict(chosen.1).await);
                    // From reading the pad's pixels (pre-processing included) to both predictions.
                    let emit = crate::app::exercise1::draw_pad::last_emit_ms();
                    let latency = if *timed_emit.borrow() == emit {
                        probs.2
                    } else {
                        *timed_emit.borrow_mut() = emit;
                        now_ms() - emit
                    };
                    probs.set((a, b, latency));
                });
            },
        );
    }

    // A finished (or imported) refinement joins the list and becomes the pad's second model.
    let on_refined = {
        let (refined, pair) = (refined.clone(), pair.clone());
        Callback::from(move |m: Rc<RefinedModel>| {
            let mut models = (**refined).clone();
            models.push(m);
            pair.set((PadModel::Base, PadModel::Refined(models.len() - 1)));
            refined.set(Rc::new(models));
        })
    };
    let on_pick = |second: bool| {
        let pair = pair.clone();
        Callback::from(move |e: Event| {
            let select: web_sys::HtmlSelectElement = e.target_unchecked_into();
            let Some(m) = PadModel::parse(&select.value()) else { return };
            let (a, b) = *pair;
            let picked = if second { (a, m) } else { (m, b) };
            share_pair(picked);
            pair.set(picked);
        })
    };

    // Moves the page to a factor: the slider, the share link, and the ranks under the rule (the
    // factor slider and the refinement presets both go through here).
    let on_preset = {
        let factor = factor.clone();
        let loaded = loaded.clone();
        let rebuild = rebuild.clone();
        let rule = *rule;
        Callback::from(move |f: f64| {
            factor.set(f);
            crate::app::io::share::set_param("factor", Some(&f.to_string()));
            if let Some(Ok(l)) = &*loaded
                && let Ok(r) = l.spectrum.ranks_for(rule, f)
            {
                rebuild.emit(r);
            }
        })
    };
    let on_factor = {
        let on_preset = on_preset.clone();
        Callback::from(move |e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            on_preset.emit(input.value().parse().unwrap_or(1.0));
        })
    };
    let on_layer = |layer: usize| {
        let current = current.clone();
        let rebuild = rebuild.clone();
        Callback::from(move |e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            if let (Some(c), Ok(k)) = (&*current, input.value().parse::<usize>()) {
                let mut ranks = c.ranks.clone();
                ranks[layer] = k;
                rebuild.emit(ranks);
            }
        })
    };
    // The ranks of a factor under the current rule (the refinement presets use it).
    let rule_ranks = {
        let (loaded, rule) = (loaded.clone(), *rule);
        Callback::from(move |f: f64| match &*loaded {
            Some(Ok(l)) => l.spectrum.ranks_for(rule, f).unwrap_or_default(),
            _ => Vec::new(),
        })
    };
    let on_rule = {
        let (rule, factor, loaded, rebuild) =
            (rule.clone(), factor.clone(), loaded.clone(), rebuild.clone());
        Callback::from(move |e: Event| {
            let select: web_sys::HtmlSelectElement = e.target_unchecked_into();
            let Ok(r) = RankRule::parse(&select.value()) else { return };
            rule.set(r);
            crate::app::io::share::set_param("rank_rule", Some(r.slug()));
            if let Some(Ok(l)) = &*loaded
                && let Ok(ranks) = l.spectrum.ranks_for(r, *factor)
            {
                rebuild.emit(ranks);
            }
        })
    };
    let on_image = {
        let image = image.clone();
        Callback::from(move |img: Option<Vec<f32>>| image.set(img))
    };

    // What the refinement panel records as its base, for the report.
    let base_described: AttrValue = match (&props.trained, &props.trained_from) {
        (Some(_), Some(from)) => format!("the model {from}").into(),
        (Some(_), None) => "the model you trained in this page".into(),
        _ => "the shipped pretrained model".into(),
    };
    let body = match &*loaded {
        None => html! { <p>{"loading the pretrained model…"}</p> },
        Some(Err(e)) => {
            html! { <p class="error" role="alert">{format!("could not load the pretrained model: {e}")}</p> }
        }
        Some(Ok(l)) => {
            let shapes = l.spectrum.shapes();
            let base_params = l.base.num_params();
            let (params, acc_text, ranks, ms) = match &*current {
                Some(c) => (
                    params_for(&shapes, &c.ranks),
                    c.accuracy
                        .map(|a| format!("{:.2}%", a * 100.0))
                        .unwrap_or_else(|| "waiting for MNIST…".into()),
                    c.ranks.clone(),
                    c.ms,
                ),
                None => (0, "…".into(), vec![0; shapes.len()], 0.0),
            };
            html! {
                <>
                <div class="sliders">
                    <label>{"ranks "}
                        <select data-testid="rank-rule" onchange={on_rule}>
                            <option value="seed" selected={*rule == RankRule::Seed}>{"k = int(n/f) per layer (the exercise's rule)"}</option>
                            <option value="budget" selected={*rule == RankRule::Budget}>{"the same parameter budget, ranks by retained energy"}</option>
                        </select>
                    </label>
                    <label>{format!("compression factor {:.2}×", *factor)}
                        <input type="range" min="1" max="16" step="0.25" value={factor.to_string()} data-testid="rank-factor" oninput={on_factor} />
                    </label>
                    { for shapes.iter().enumerate().map(|(i, &(m, n))| html! {
                        <label>{format!("layer {} ({m}×{n}) rank {}", i + 1, ranks[i])}
                            <input type="range" min="1" max={m.min(n).to_string()} value={ranks[i].to_string()}
                                   data-testid={format!("rank-layer-{}", i + 1)} oninput={on_layer(i)} />
                        </label>
                    }) }
                </div>
                <table class="compare">
                    <tr><th></th><th>{"parameters"}</th><th>{"ratio"}</th><th>{"test accuracy"}</th></tr>
                    <tr><td>{"base"}</td><td>{group(base_params)}</td><td>{"1.00×"}</td>
                        <td>{l.base_acc.map(|a| format!("{:.2}%", a * 100.0)).unwrap_or_else(|| "…".into())}</td></tr>
                    <tr><td>{format!("ranks {ranks:?}")}</td>
                        <td data-testid="factorized-params" data-params={params.to_string()}>{group(params)}</td>
                        <td>{format!("{:.2}×", base_params as f64 / params.max(1) as f64)}</td>
                        <td data-testid="factorized-accuracy">{acc_text}</td></tr>
                </table>
                <p class="hint" data-testid="rebuild-time" data-ms={format!("{ms:.0}")}>{format!("rebuilt by SVD and evaluated on the 10 000 test images in {ms:.0} ms")}</p>
                <div class="draw-pick">
                    <label>{"compare "}{model_select("draw-model-a", pair.0, &ranks, &refined, on_pick(false))}</label>
                    <label>{" with "}{model_select("draw-model-b", pair.1, &ranks, &refined, on_pick(true))}</label>
                </div>
                <div class="draw-row">
                    <DrawPad on_image={on_image} />
                    {prediction_view("prediction-base", &pair.0.label(&ranks, &refined), &probs.0)}
                    {prediction_view("prediction-compressed", &pair.1.label(&ranks, &refined), &probs.1)}
                </div>
                <RefinedModels models={(*refined).clone()} shapes={shapes.clone()} test={test.clone()} on_import={on_refined.clone()} />
                <UserEval image={(*image).clone()}
                          models={eval_models(&l.base, current.as_ref().map(|c| (&c.ranks[..], &c.dense)), &refined)} />
                if probs.0.is_some() {
                    <p class="hint" data-testid="draw-latency" data-ms={format!("{:.1}", probs.2)}>
                        {format!("draw → both predictions in {:.1} ms (on the CPU, whatever the backend: one image is too little work for a GPU)", probs.2)}</p>
                }
                <div class="summaries" data-testid="model-summary">
                    {summary_table(&mlp_summary(&l.base))}
                    { match &*current { Some(c) => summary_table(&factorized_summary_for(&shapes, &c.ranks)), None => html! {} } }
                </div>
                <div class="plots">
                    <SpectrumPlot spectra={l.spectrum.layers.iter().map(|(s, _)| s.singular_values.clone()).collect::<Vec<_>>()}
                                  factor={*factor} ranks={ranks.clone()} />
                    if !sweep.is_empty() {
                        <SweepPlot points={(*sweep).clone()} base={(base_params, l.base_acc.unwrap_or(0.0))} />
                    }
                </div>
                <RefinePanel resume={props.resume_refine.clone()} base={l.tensors.clone()} shapes={shapes.clone()} ranks={ranks.clone()} factor={*factor}
                             on_preset={on_preset} on_refined={on_refined} base_described={base_described.clone()}
                             rule_ranks={rule_ranks} rule={*rule} assignment={props.assignment_refine} />
                </>
            }
        }
    };
    html! {
        <div class="card wide">
            <h3>{"Compress: rank slider and drawing pad"}</h3>
            <p class="hint" data-testid="base-source">{ if let (Some(_), Some(from)) = (&props.trained, &props.trained_from) {
                format!("The model {from}, factorised as W ≈ U'Vᵀ at rank k = int(n/f) per layer.")
            } else if props.trained.is_some() {
                "The model you trained in this page, factorised as W ≈ U'Vᵀ at rank k = int(n/f) per layer.".to_string()
            } else {
                "The shipped pretrained base model (784-100-50-10), factorised as W ≈ U'Vᵀ at rank k = int(n/f) per layer.".to_string()
            } }</p>
            <WeightsIo tensors={match &*loaded { Some(Ok(l)) => Some(l.tensors.clone()), _ => None }} on_import={props.on_import.clone()} />
            {body}
        </div>
    }
}
