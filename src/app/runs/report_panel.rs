//! The report export: everything the exercises ask for, from the runs saved in this browser,
//! through the engine's report code (the same as the CLI's) — one self-contained HTML file, or
//! a zip of the Markdown and its figures.

use std::rc::Rc;

use yew::prelude::*;

use crate::app::context::use_lab;
use crate::app::exercise1::weights_io::blob_url;
use crate::app::io::datasets::DataState;
use crate::app::io::store;
use crate::app::runs::changes::use_store_changes;
use crate::app::runs::report_exercise1::{base_options, default_base, exercise1, newest};
use crate::app::worker::protocol::{RunRecord, RunSpec};
use crate::lab::core::bundle::{Bundle, html_document, zip_bundles};
use crate::lab::gan::grid::{png, tile};
use crate::lab::gan::quality::JUDGE_SAMPLES;
use crate::lab::gan::report::{GanMetrics, GanReportContext, gan_report};
use crate::lab::gan::summary::{discriminator_summary, generator_summary};

/// Training images of a run (the subset, or all 60 000).
fn images(subset: Option<usize>) -> usize {
    subset.unwrap_or(60_000).min(60_000)
}

/// Exercise 2 from the newest GAN run.
fn exercise2(runs: &[RunRecord]) -> Result<Option<Bundle>, String> {
    let Some(run) = newest(runs, |s| matches!(s, RunSpec::Gan { .. })) else { return Ok(None) };
    let RunSpec::Gan { config, subset } = &run.spec else { return Ok(None) };
    let (g, d) = (generator_summary(config.arch), discriminator_summary(config.arch));
    let quality = run.snapshots.iter().filter_map(|s| s.quality).collect();
    let metrics = GanMetrics::new(config.arch, g.total(), d.total(), &run.gan_history, quality);
    let mut grids = Vec::new();
    for s in &run.snapshots {
        let values: Vec<f32> = s.images.iter().map(|&b| b as f32 / 255.0 * 2.0 - 1.0).collect();
        grids.push((
            s.epoch,
            png(&tile(&values, 8, 2, 2).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?,
        ));
    }
    let (accuracy, real_score) = run.judge.unwrap_or((f64::NAN, f64::NAN));
    let ctx = GanReportContext {
        config: config.clone(),
        train_images: images(*subset),
        summaries: [g, d],
        grids: Vec::new(),
        plots: Vec::new(),
        classifier_accuracy: accuracy,
        real_score,
        quality_samples: JUDGE_SAMPLES,
        seconds: (run.updated_ms - run.created_ms) / 1000.0,
        backend: format!("{} (in the browser)", run.backend.title()),
        stopped_early: if run.finished {
            None
        } else {
            Some(format!("the run stopped after {} of {} epochs", run.epochs_done, config.epochs))
        },
    };
    Ok(Some(gan_report(&metrics, ctx, grids)))
}

/// What a built report offers.
#[derive(Clone, PartialEq)]
struct Built {
    html: String,
    zip: String,
    parts: Vec<String>,
}

/// Build-and-download for the report.
#[component]
pub fn ReportPanel() -> Html {
    let built = use_state(|| None::<Built>);
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let notes = use_state(Vec::<String>::new);
    // The stored runs, for the base picker (refreshed whenever the store changes).
    let runs = use_state(|| Rc::new(Vec::<RunRecord>::new()));
    // The base the user picked (`None`: the default, the newest classifier run or the shipped model).
    let picked = use_state(|| None::<String>);
    {
        let runs = runs.clone();
        use_store_changes(Callback::from(move |_| {
            let runs = runs.clone();
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(r) = store::list().await {
                    runs.set(Rc::new(r));
                }
            });
        }));
    }
    let options = base_options(&runs);
    let choice = (*picked)
        .clone()
        .filter(|p| options.iter().any(|(v, _)| v == p))
        .unwrap_or_else(|| default_base(&runs));
    let test = match use_lab().mnist {
        DataState::Ready(tt) => Some(tt),
        _ => None,
    };
    let on_base = {
        let picked = picked.clone();
        Callback::from(move |e: Event| {
            let s: web_sys::HtmlSelectElement = e.target_unchecked_into();
            picked.set(Some(s.value()));
        })
    };
    let on_build = {
        let (built, error, busy, notes) =
            (built.clone(), error.clone(), busy.clone(), notes.clone());
        let choice = choice.clone();
        Callback::from(move |_| {
            let (built, error, busy, notes) =
                (built.clone(), error.clone(), busy.clone(), notes.clone());
            let (choice, test) = (choice.clone(), test.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let result = async {
                    let runs = store::list().await?;
                    let mut said = Vec::new();
                    let exercise1 = exercise1(&runs, &choice, test.as_deref(), &mut said).await;
                    notes.set(said);
                    let mut bundles = vec![exercise1?];
                    if let Some(b) = exercise2(&runs)? {
                        bundles.push(b);
                    }
                    let parts = bundles.iter().map(|b| b.name.clone()).collect();
                    let html = html_document("MNIST Lab report", &bundles);
                    let html = blob_url(html.as_bytes(), "text/html")
                        .ok_or("the browser could not hold the report")?;
                    let zip = blob_url(&zip_bundles(&bundles), "application/zip")
                        .ok_or("the browser could not hold the report")?;
                    Ok(Built { html, zip, parts })
                }
                .await;
                match result {
                    Ok(b) => {
                        if let Some(old) = &*built {
                            let _ = web_sys::Url::revoke_object_url(&old.html);
                            let _ = web_sys::Url::revoke_object_url(&old.zip);
                        }
                        error.set(None);
                        built.set(Some(b));
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };
    html! {
        <div class="card wide">
            <h3>{"Report"}</h3>
            <p class="hint">{"Summaries, per-epoch tables, curves, confusion matrices, the compression comparison with the accuracy-vs-parameters sweep, and the GAN sample grids: exercise 1 on the base model you pick and the finished refinements of that model, exercise 2 from the newest GAN run saved in this browser."}</p>
            <label>{"exercise 1 on "}
                <select data-testid="report-base" onchange={on_base}>
                    { for options.iter().map(|(v, label)| html! { <option value={v.clone()} selected={*v == choice}>{label}</option> }) }
                </select>
            </label>
            <div class="buttons">
                <button data-testid="export-report" onclick={on_build} disabled={*busy}>{ if *busy { "Building…" } else { "Build the report" } }</button>
                if let Some(b) = &*built {
                    <a class="button" data-testid="report-html" data-parts={b.parts.join(",")} href={b.html.clone()} download="mnist-lab-report.html">{"Download HTML"}</a>
                    <a class="button" data-testid="report-zip" href={b.zip.clone()} download="mnist-lab-report.zip">{"Download Markdown + figures (.zip)"}</a>
                }
            </div>
            if let Some(e) = &*error { <p class="error" role="alert" data-testid="report-error">{e}</p> }
            if !notes.is_empty() {
                <ul class="hint" data-testid="report-notes">{ for notes.iter().map(|n| html! { <li>{n}</li> }) }</ul>
            }
        </div>
    }
}
