//! Refinement of the factorized model in the training worker, with live charts, and the 2× / 4× /
//! 8× presets that fill a comparison table (ranks, parameters, ratio, accuracy before and after).

use std::cell::RefCell;
use std::rc::Rc;

use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::app::backend::BackendKind;
use crate::app::chart::{LineChart, Series};
use crate::app::protocol::{FromWorker, RefineRow, ToWorker};
use crate::app::store;
use crate::app::train_panel::ResumeRequest;
use crate::app::url_param;
use crate::app::worker_client::WorkerClient;
use crate::lab::factorized::params_for;
use crate::lab::report::EpochMetrics;
use crate::lab::summary::group;
use crate::lab::svd::rank_for_factor;
use crate::lab::train::{LrSchedule, TrainConfig};
use crate::lab::weights::NamedTensor;

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
    /// Backend the worker should use.
    pub backend: BackendKind,
    /// Moves the page's slider to a preset factor.
    pub on_preset: Callback<f64>,
    /// A stored refinement run to reopen.
    pub resume: Option<ResumeRequest>,
}

impl PartialEq for RefinePanelProps {
    fn eq(&self, o: &Self) -> bool {
        Rc::ptr_eq(&self.base, &o.base)
            && self.ranks == o.ranks
            && self.factor == o.factor
            && self.backend == o.backend
            && self.shapes == o.shapes
            && self.on_preset == o.on_preset
            && self.resume == o.resume
    }
}

/// Refine button, presets, live refinement chart and the comparison table.
#[component]
pub fn RefinePanel(props: &RefinePanelProps) -> Html {
    let epochs = use_state(|| "10".to_string());
    let rows = use_state(Vec::<RefineRow>::new);
    let history = use_state(Vec::<EpochMetrics>::new);
    let status = use_state(|| "idle".to_string());
    let error = use_state(|| None::<String>);
    let worker = use_mut_ref(|| None::<WorkerClient>);
    let run_id = use_state(|| None::<String>);
    {
        // The panel unmounts when the base model reloads: its worker (and any run in it) goes too;
        // the run keeps its checkpoints.
        let worker = worker.clone();
        use_effect_with((), move |_| {
            move || {
                if let Some(w) = worker.borrow_mut().take() {
                    w.terminate();
                }
            }
        });
    }
    let subset = url_param("train_subset").and_then(|s| s.parse::<usize>().ok());
    let base_params: usize = props.shapes.iter().map(|&(m, n)| m * n + n).sum();

    let start = {
        let (rows, history, status, error, worker, epochs, run_id) =
            (rows.clone(), history.clone(), status.clone(), error.clone(), worker.clone(), epochs.clone(), run_id.clone());
        let (base, backend) = (props.base.clone(), props.backend);
        Callback::from(move |(factor, ranks, reopen): (f64, Vec<usize>, Option<(String, BackendKind)>)| {
            if *status == "running" {
                if reopen.is_some() {
                    error.set(Some("a refinement is going: stop it before reopening another (it keeps its checkpoints)".into()));
                }
                return;
            }
            let config = match epochs.trim().parse::<usize>() {
                Ok(e) => TrainConfig { epochs: e, schedule: LrSchedule::Cosine, ..TrainConfig::default() },
                Err(_) => return error.set(Some(format!("refinement epochs: `{}` is not a whole number", *epochs))),
            };
            if let Err(e) = config.validate() {
                return error.set(Some(e.to_string()));
            }
            let client = match WorkerClient::ensure(&worker, reopen.is_some()) {
                Ok(w) => w,
                Err(e) => return error.set(Some(e)),
            };
            let done = Rc::new(RefCell::new(Vec::new()));
            {
                let (rows, history, status, error, run_id) = (rows.clone(), history.clone(), status.clone(), error.clone(), run_id.clone());
                client.on_reply(move |msg| match msg {
                    Ok(FromWorker::RunRestored(record)) => {
                        *done.borrow_mut() = record.history.clone();
                        history.set(record.history.clone());
                        run_id.set(Some(record.id.clone()));
                    }
                    Ok(FromWorker::RunSaved { id, .. }) => {
                        run_id.set(Some(id));
                        store::announce_change();
                    }
                    Ok(FromWorker::SaveFailed(msg)) => error.set(Some(msg)),
                    Ok(FromWorker::Halted { message, .. }) => {
                        error.set(Some(message));
                        status.set("interrupted".into());
                    }
                    // The worker has ended: the next start or continue gets a fresh one.
                    Ok(FromWorker::DeviceLost(msg)) | Ok(FromWorker::Crashed(msg)) => {
                        error.set(Some(format!("{msg}. Refinement is paused; continue from its last checkpoint below.")));
                        status.set("interrupted".into());
                    }
                    Ok(FromWorker::Epoch { metrics, .. }) => {
                        done.borrow_mut().push(metrics);
                        history.set(done.borrow().clone());
                    }
                    Ok(FromWorker::Refined(row)) => {
                        let mut all = (*rows).clone();
                        all.retain(|r| r.ranks != row.ranks);
                        all.push(row);
                        all.sort_by(|a, b| a.factor.total_cmp(&b.factor));
                        rows.set(all);
                        status.set("done".into());
                    }
                    Ok(FromWorker::Stopped) => status.set("stopped".into()),
                    Ok(FromWorker::Failed(e)) | Err(e) => {
                        error.set(Some(e));
                        status.set("failed".into());
                    }
                    Ok(_) => {}
                });
            }
            error.set(None);
            status.set("running".into());
            match reopen {
                Some((id, backend)) => client.post(ToWorker::ResumeRun { id, backend, lr: None, lr_d: None }),
                None => {
                    history.set(Vec::new());
                    client.post(ToWorker::Refine { base: (*base).clone(), ranks, factor, config, backend, subset });
                }
            }
        })
    };
    let on_refine = {
        let start = start.clone();
        let (factor, ranks) = (props.factor, props.ranks.clone());
        Callback::from(move |_| start.emit((factor, ranks.clone(), None)))
    };
    {
        let start = start.clone();
        let backend = props.backend;
        use_effect_with(props.resume.clone(), move |req| {
            if let Some(req) = req
                && req.claim()
            {
                start.emit((0.0, Vec::new(), Some((req.id.clone(), backend))));
            }
        });
    }
    let continue_cpu = {
        let (start, run_id, error) = (start.clone(), run_id.clone(), error.clone());
        Callback::from(move |_| match &*run_id {
            Some(id) => start.emit((0.0, Vec::new(), Some((id.clone(), BackendKind::Cpu)))),
            None => error.set(Some("this refinement has no saved checkpoint: start it again".into())),
        })
    };
    let preset = |f: f64| {
        let start = start.clone();
        let on_preset = props.on_preset.clone();
        let shapes = props.shapes.clone();
        Callback::from(move |_| {
            let ranks: Vec<usize> = shapes.iter().map(|&(m, n)| rank_for_factor(n, f).unwrap_or(1).min(m.min(n))).collect();
            on_preset.emit(f);
            start.emit((f, ranks, None));
        })
    };
    let pts = |f: fn(&EpochMetrics) -> f64| history.iter().map(|e| (e.epoch as f64, f(e))).collect::<Vec<_>>();
    let running = *status == "running";
    let e = epochs.clone();
    html! {
        <div class="refine">
            <h4>{"Refine the factorized model"}</h4>
            <div class="buttons">
                <label class="inline">{"epochs "}
                    <input data-testid="refine-epochs" value={(*epochs).clone()} disabled={running}
                           oninput={Callback::from(move |ev: InputEvent| e.set(ev.target_unchecked_into::<HtmlInputElement>().value()))} />
                </label>
                <button data-testid="refine" onclick={on_refine} disabled={running}>{format!("Refine ranks {:?}", props.ranks)}</button>
                <button data-testid="preset-2" onclick={preset(2.0)} disabled={running}>{"2× preset"}</button>
                <button data-testid="preset-4" onclick={preset(4.0)} disabled={running}>{"4× preset"}</button>
                <button data-testid="preset-8" onclick={preset(8.0)} disabled={running}>{"8× preset"}</button>
            </div>
            if let Some(e) = &*error { <p class="error" role="alert" data-testid="refine-error">{e}</p> }
            if *status == "interrupted" {
                <button data-testid="refine-continue-cpu" onclick={continue_cpu}>{"Continue on the CPU"}</button>
            }
            <p data-testid="refine-status" data-status={(*status).clone()}>{format!(
                "refinement: {}{}", *status,
                if running { format!(" — epoch {} done", history.len()) } else { String::new() }
            )}</p>
            if !history.is_empty() {
                <LineChart series={vec![Series { label: "test accuracy".into(), points: pts(|e| e.test_acc) },
                                        Series { label: "train accuracy".into(), points: pts(|e| e.train_acc) }]}
                           title="refinement accuracy per epoch" x_label="epoch" size={(420, 220)} testid="refine-chart" />
            }
            <table class="compare" data-testid="compare-table" data-rows={rows.len().to_string()}>
                <tr><th>{"factor"}</th><th>{"ranks"}</th><th>{"parameters"}</th><th>{"ratio"}</th><th>{"acc. after SVD"}</th><th>{"acc. after refinement"}</th></tr>
                { for rows.iter().map(|r| html! {
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
