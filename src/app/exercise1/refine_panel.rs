//! Refinement of the factorized model in the training worker, with live charts, and the 2× / 4× /
//! 8× presets that fill a comparison table (ranks, parameters, ratio, accuracy before and after).
//! Its run lifecycle is the shared one (`app/run/`): pause, stop, continue on the CPU or a new
//! WebGPU device, save warnings.

use std::rc::Rc;

use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::app::backend::BackendKind;
use crate::app::context::use_lab;
use crate::app::env::url_param;
use crate::app::exercise1::refined::{RefinedModel, Scores};
use crate::app::guide::steps::REFINE_EPOCHS;
use crate::app::run::controls::{RunControls, RunIds};
use crate::app::run::data_choice::{TrainingSetPicker, job_data};
use crate::app::run::hook::{Reply, use_run};
use crate::app::run::resume::{ResumeRequest, use_resume};
use crate::app::widgets::chart::{LineChart, Series};
use crate::app::worker::protocol::{FromWorker, RefineRow, ToWorker};
use crate::lab::classifier::metrics::EpochMetrics;
use crate::lab::classifier::train::TrainConfig;
use crate::lab::compress::ranks::{RankRule, params_for, rank_for_factor};
use crate::lab::compress::recipe::refine_config;
use crate::lab::core::safetensors::NamedTensor;
use crate::lab::core::summary::group;

/// What refinement starts from.
#[derive(Properties, Clone)]
pub struct RefinePanelProps {
    /// The base model's weights.
    pub base: Rc<Vec<NamedTensor>>,
    /// `(m, n)` per layer.
    pub shapes: Vec<(usize, usize)>,
    /// The ranks on the sliders now.
    pub ranks: Vec<usize>,
    /// The factor on the slider now.
    pub factor: f64,
    /// Moves the page's slider to a preset factor.
    pub on_preset: Callback<f64>,
    /// The ranks of a factor under the page's rank rule (no side effect).
    pub rule_ranks: Callback<f64, Vec<usize>>,
    /// The page's rank rule.
    pub rule: RankRule,
    /// A stored refinement run to reopen.
    pub resume: Option<ResumeRequest>,
    /// Receives each finished refinement's model.
    pub on_refined: Callback<Rc<RefinedModel>>,
    /// Where the base model came from, in words (recorded with the run).
    pub base_described: AttrValue,
    /// The guide asks for the assignment's refinement at a factor (a new number each time).
    pub assignment: Option<(f64, u32)>,
}

impl PartialEq for RefinePanelProps {
    fn eq(&self, o: &Self) -> bool {
        Rc::ptr_eq(&self.base, &o.base)
            && self.ranks == o.ranks
            && self.factor == o.factor
            && self.shapes == o.shapes
            && self.on_preset == o.on_preset
            && self.rule_ranks == o.rule_ranks
            && self.rule == o.rule
            && self.resume == o.resume
            && self.on_refined == o.on_refined
            && self.base_described == o.base_described
            && self.assignment == o.assignment
    }
}

const IDS: RunIds = RunIds {
    start: None,
    pause: "refine-pause",
    stop: "refine-stop",
    lose_device: "refine-lose-device",
    diverge: "refine-diverge",
    continue_row: "refine-continue",
    continue_cpu: "refine-continue-cpu",
    continue_webgpu: "refine-continue-webgpu",
    error: "refine-error",
    warning: "refine-warning",
    epoch_progress: "refine-epoch-progress",
    run_progress: "refine-run-progress",
    status: "refine-status",
};

/// The refinement's chart and the comparison table.
#[derive(Default, PartialEq)]
struct View {
    history: Vec<EpochMetrics>,
    rows: Vec<RefineRow>,
}

enum ViewAction {
    /// A new refinement (a reopened one gets its history back restored).
    Begin,
    Reply(Reply),
}

impl Reducible for View {
    type Action = ViewAction;

    fn reduce(self: Rc<Self>, action: ViewAction) -> Rc<Self> {
        let mut v = View { history: self.history.clone(), rows: self.rows.clone() };
        match action {
            ViewAction::Begin => v.history.clear(),
            ViewAction::Reply(msg) => match &*msg {
                Ok(FromWorker::RunRestored(record)) => v.history = record.history.clone(),
                Ok(FromWorker::Epoch { metrics, .. }) => v.history.push(metrics.clone()),
                Ok(FromWorker::Refined(row)) => {
                    v.rows.retain(|r| r.ranks != row.ranks);
                    v.rows.push(row.clone());
                    v.rows.sort_by(|a, b| a.factor.total_cmp(&b.factor));
                }
                _ => return self,
            },
        }
        Rc::new(v)
    }
}

/// A refinement to start: factor, ranks, their rule, and epochs set by the guide (`None`: the
/// form's).
type Start = (f64, Vec<usize>, Option<RankRule>, Option<usize>);

/// Refine button, presets, live refinement chart and the comparison table.
#[component]
pub fn RefinePanel(props: &RefinePanelProps) -> Html {
    let lab = use_lab();
    // Refine on the user's paired files instead of MNIST's training images.
    let mine = use_state(|| false);
    let backend = lab.backend.as_ref().map(|b| b.kind).unwrap_or(BackendKind::Cpu);
    let measure = lab.backend.as_ref().is_some_and(|b| b.measure_jobs());
    let epochs = use_state(|| "10".to_string());
    let view = use_reducer(View::default);
    let run = {
        let view = view.dispatcher();
        let on_refined = props.on_refined.clone();
        use_run(
            "Refinement",
            "a refinement",
            Callback::from(move |msg: Reply| {
                if let Ok(FromWorker::RefinedWeights {
                    factor,
                    rule,
                    accuracy,
                    confusion,
                    predictions,
                    tensors,
                    ..
                }) = &*msg
                {
                    let what = match rule {
                        Some(r) => format!("refined {}", r.factor_label(*factor)),
                        None => "refined custom".to_string(),
                    };
                    let scores = Scores {
                        accuracy: *accuracy,
                        confusion: **confusion,
                        predictions: Rc::new(predictions.clone()),
                    };
                    match RefinedModel::new(&what, tensors, Some(scores)) {
                        Ok(m) => on_refined.emit(Rc::new(m)),
                        Err(e) => web_sys::console::warn_1(
                            &format!("the refined model did not come back whole: {e}").into(),
                        ),
                    }
                }
                view.dispatch(ViewAction::Reply(msg))
            }),
        )
    };
    let subset = url_param("train_subset").and_then(|s| s.parse::<usize>().ok());
    let base_params: usize = props.shapes.iter().map(|&(m, n)| m * n + n).sum();

    let start = {
        let (run, view, epochs) = (run.clone(), view.dispatcher(), epochs.clone());
        let base = props.base.clone();
        let base_described = props.base_described.clone();
        let (mine, user_set) = (*mine, lab.user_set.clone());
        // `assigned`: the guide's epochs on MNIST, instead of the form's.
        Callback::from(move |(factor, ranks, rule, assigned): Start| {
            if run.status().going() {
                return;
            }
            let data = match job_data(mine && assigned.is_none(), user_set.as_deref()) {
                Ok(u) => u,
                Err(e) => return run.fail(e),
            };
            let parsed = assigned.map_or_else(|| epochs.trim().parse::<usize>(), Ok);
            let config = match parsed {
                Ok(e) => refine_config(&TrainConfig::default(), e),
                Err(_) => {
                    return run
                        .fail(format!("refinement epochs: `{}` is not a whole number", *epochs));
                }
            };
            if let Err(e) = config.validate() {
                return run.fail(e.to_string());
            }
            view.dispatch(ViewAction::Begin);
            let total = config.epochs;
            run.start(
                ToWorker::Refine {
                    base: (*base).clone(),
                    ranks,
                    factor,
                    config,
                    backend,
                    subset,
                    measure,
                    base_described: base_described.to_string(),
                    rule,
                    data,
                },
                total,
                false,
            );
        })
    };
    let on_refine = {
        let start = start.clone();
        let (factor, ranks) = (props.factor, props.ranks.clone());
        // The sliders' ranks follow the rule unless a layer's slider was moved by hand.
        let rule = (props.rule_ranks.emit(factor) == ranks).then_some(props.rule);
        Callback::from(move |_| start.emit((factor, ranks.clone(), rule, None)))
    };
    {
        // The guide's "next step": the seed's ranks k = int(n/f) at the factor, its 10 epochs.
        let (start, epochs, on_preset) = (start.clone(), epochs.clone(), props.on_preset.clone());
        let shapes = props.shapes.clone();
        let (run, rule) = (run.clone(), props.rule);
        use_effect_with(props.assignment, move |asked| {
            let Some((f, request)) = *asked else { return };
            if run.status().going() {
                return run.fail("a refinement is going: stop it (or let it finish) first".into());
            }
            if rule != RankRule::Seed {
                // The sliders follow the page's rule: refining the seed's ranks under another
                // rule would show ranks other than the ones training.
                return run.fail(
                    "the assignment's ranks are k = int(n/f): choose that rule under \"ranks\" first"
                        .into(),
                );
            }
            if crate::app::guide::take(request) {
                let ranks: Result<Vec<usize>, _> = shapes
                    .iter()
                    .map(|&(m, n)| rank_for_factor(n, f).map(|k| k.min(m.min(n))))
                    .collect();
                match ranks {
                    Ok(ranks) => {
                        epochs.set(REFINE_EPOCHS.to_string());
                        on_preset.emit(f);
                        start.emit((f, ranks, Some(RankRule::Seed), Some(REFINE_EPOCHS)));
                    }
                    Err(e) => run.fail(e.to_string()),
                }
            }
        });
    }
    {
        let run = run.clone();
        let reopen = Callback::from(move |(id, kind)| run.reopen(id, kind, None, None));
        use_resume(props.resume.clone(), true, reopen);
    }
    let on_continue = {
        let run = run.clone();
        Callback::from(move |kind: BackendKind| run.continue_on(kind, None, None))
    };
    let preset = |f: f64| {
        let start = start.clone();
        let (on_preset, rule_ranks, rule) =
            (props.on_preset.clone(), props.rule_ranks.clone(), props.rule);
        Callback::from(move |_| {
            let ranks = rule_ranks.emit(f);
            on_preset.emit(f);
            start.emit((f, ranks, Some(rule), None));
        })
    };
    let s = &*run.state;
    let going = s.status.going();
    let pts = |f: fn(&EpochMetrics) -> f64| {
        view.history.iter().map(|e| (e.epoch as f64, f(e))).collect::<Vec<_>>()
    };
    let status_text = s.describe(
        format!(
            "epoch {}/{}, batch {}/{} · {:.0} ms per step",
            s.epoch, s.epochs, s.batch, s.batches, s.ms_per_batch
        ),
        format!("done: {} epochs", s.epochs_done),
    );
    let e = epochs.clone();
    html! {
        <div class="refine">
            <h4>{"Refine the factorized model"}</h4>
            <RunControls run={run.clone()} ids={IDS} on_continue={on_continue} status_text={format!("refinement: {status_text}")}>
                <label class="inline">{"epochs "}
                    <input data-testid="refine-epochs" value={(*epochs).clone()} disabled={going}
                           oninput={Callback::from(move |ev: InputEvent| e.set(ev.target_unchecked_into::<HtmlInputElement>().value()))} />
                </label>
                <TrainingSetPicker testid="refine-data" mine={*mine} disabled={going}
                                   on_change={{ let mine = mine.clone(); Callback::from(move |m| mine.set(m)) }} />
                <button data-testid="refine" onclick={on_refine} disabled={going}>{format!("Refine ranks {:?}", props.ranks)}</button>
                <button data-testid="preset-2" onclick={preset(2.0)} disabled={going}>{"2× preset"}</button>
                <button data-testid="preset-4" onclick={preset(4.0)} disabled={going}>{"4× preset"}</button>
                <button data-testid="preset-8" onclick={preset(8.0)} disabled={going}>{"8× preset"}</button>
            </RunControls>
            if !view.history.is_empty() {
                <LineChart series={vec![Series { label: "test accuracy".into(), points: pts(|e| e.test_acc) },
                                        Series { label: "train accuracy".into(), points: pts(|e| e.train_acc) }]}
                           title="refinement accuracy per epoch" x_label="epoch" size={(420, 220)} testid="refine-chart" />
            }
            <table class="compare" data-testid="compare-table" data-rows={view.rows.len().to_string()}>
                <tr><th>{"factor"}</th><th>{"ranks"}</th><th>{"parameters"}</th><th>{"ratio"}</th><th>{"acc. after SVD"}</th><th>{"acc. after refinement"}</th></tr>
                { for view.rows.iter().map(|r| html! {
                    <tr data-factor={r.factor.to_string()} data-before={r.before.to_string()} data-after={r.after.to_string()}>
                        <td>{format!("{}×", r.factor)}</td>
                        <td>{format!("{:?}", r.ranks)}</td>
                        <td>{group(r.params)}</td>
                        <td>{format!("{:.2}×", base_params as f64 / params_for(&props.shapes, &r.ranks).max(1) as f64)}</td>
                        <td>{format!("{:.2}%", r.before * 100.0)}</td>
                        <td>{format!("{:.2}%", r.after * 100.0)}</td>
                    </tr>
                }) }
            </table>
        </div>
    }
}
