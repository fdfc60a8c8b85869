//! The report export: everything the exercises ask for, from the runs saved in this browser,
//! through the engine's report code (the same as the CLI's) — one self-contained HTML file, or
//! a zip of the Markdown and its figures.

use burn::module::Module;
use yew::prelude::*;

use crate::app::exercise1::weights_io::blob_url;
use crate::app::io::store;
use crate::app::worker::protocol::{RunRecord, RunSpec};
use crate::lab::classifier::metrics::ConfusionMatrix;
use crate::lab::classifier::mlp::{MLP_WIDTHS, Mlp};
use crate::lab::classifier::summary::mlp_summary;
use crate::lab::classifier::weights::mlp_from_tensors;
use crate::lab::compress::factorized::MlpSpectrum;
use crate::lab::compress::ranks::params_for;
use crate::lab::compress::report::{
    BaseRun, CompressedRun, CompressionMetrics, ReportContext, compression_report,
};
use crate::lab::compress::summary::factorized_summary_for;
use crate::lab::core::bundle::{Bundle, html_document, zip_bundles};
use crate::lab::core::checkpoint::Checkpoint;
use crate::lab::core::safetensors::fingerprint;
use crate::lab::gan::grid::{png, tile};
use crate::lab::gan::quality::JUDGE_SAMPLES;
use crate::lab::gan::report::{GanMetrics, GanReportContext, gan_report};
use crate::lab::gan::summary::{discriminator_summary, generator_summary};

/// Training images of a run (the subset, or all 60 000).
fn images(subset: Option<usize>) -> usize {
    subset.unwrap_or(60_000).min(60_000)
}

/// The newest run that matches and has at least one epoch; finished runs first.
fn newest(runs: &[RunRecord], want: impl Fn(&RunSpec) -> bool) -> Option<&RunRecord> {
    let mut c: Vec<&RunRecord> =
        runs.iter().filter(|r| want(&r.spec) && r.epochs_done > 0).collect();
    c.sort_by(|a, b| b.finished.cmp(&a.finished).then(b.updated_ms.total_cmp(&a.updated_ms)));
    c.first().copied()
}

/// The finished refinements whose base model is `base` (by fingerprint; `None`: no classifier
/// run, so none), and a sentence for each one left out because it refined another model.
fn refinements_of<'a>(
    runs: &'a [RunRecord],
    base: Option<&str>,
) -> (Vec<&'a RunRecord>, Vec<String>) {
    let (mut kept, mut left_out) = (Vec::new(), Vec::new());
    for r in runs.iter().filter(|r| r.finished) {
        let RunSpec::Refine { factor, ranks, base: refined, .. } = &r.spec else { continue };
        match (refined, base) {
            (Some(b), Some(f)) if b.fingerprint == f => kept.push(r),
            (Some(b), _) => left_out.push(format!(
                "the {factor}× refinement (ranks {ranks:?}) of {} is left out: exercise 1 is \
                 built on your newest classifier run, another model",
                b.described
            )),
            (None, _) => left_out.push(format!(
                "the {factor}× refinement (ranks {ranks:?}) is left out: it was saved before \
                 runs recorded their base model"
            )),
        }
    }
    (kept, left_out)
}

/// Exercise 1 from the newest classifier run and the finished refinements of its model; the
/// sentences say which refinements were left out and why.
async fn exercise1(runs: &[RunRecord], notes: &mut Vec<String>) -> Result<Option<Bundle>, String> {
    let Some(base) = newest(runs, |s| matches!(s, RunSpec::Classifier { .. })) else {
        notes.extend(refinements_of(runs, None).1);
        return Ok(None);
    };
    let RunSpec::Classifier { config, .. } = &base.spec else { return Ok(None) };
    let (_, bytes) = store::load(&base.id).await?;
    let ck = Checkpoint::from_bytes(&bytes.ok_or("the classifier run has no checkpoint")?)
        .map_err(|e| e.to_string())?;
    let device = burn::tensor::Device::flex();
    let tensors = &ck.module("model").map_err(|e| e.to_string())?.tensors;
    let mlp: Mlp = mlp_from_tensors(tensors, &MLP_WIDTHS, &device).map_err(|e| e.to_string())?;
    let spectrum = MlpSpectrum::of(&mlp).await.map_err(|e| e.to_string())?;
    let shapes = spectrum.shapes();
    let (mut refinements, left_out) = refinements_of(runs, Some(&fingerprint(tensors)));
    notes.extend(left_out);
    refinements.sort_by(|a, b| match (&a.spec, &b.spec) {
        (RunSpec::Refine { factor: x, .. }, RunSpec::Refine { factor: y, .. }) => x.total_cmp(y),
        _ => std::cmp::Ordering::Equal,
    });
    let mut summaries = vec![mlp_summary(&mlp)];
    let mut compressed = Vec::new();
    let mut refine_epochs = 0;
    for r in refinements {
        if let RunSpec::Refine { ranks, factor, before, config, rule, .. } = &r.spec {
            summaries.push(factorized_summary_for(&shapes, ranks));
            refine_epochs = config.epochs;
            compressed.push(CompressedRun {
                factor: *factor,
                ranks: ranks.clone(),
                params: params_for(&shapes, ranks),
                test_acc_before_refine: *before,
                epochs: r.history.clone(),
                confusion: r.confusion.unwrap_or(ConfusionMatrix([[0; 10]; 10])),
                rule: rule.unwrap_or_default(),
            });
        }
    }
    let metrics = CompressionMetrics {
        base: BaseRun {
            params: mlp.num_params(),
            epochs: base.history.clone(),
            confusion: base.confusion.unwrap_or(ConfusionMatrix([[0; 10]; 10])),
        },
        compressed,
    };
    let ctx = ReportContext {
        config: config.clone(),
        refine_epochs,
        summaries,
        spectra: spectrum.layers.iter().map(|(s, _)| s.singular_values.clone()).collect(),
        shapes,
        sweep: Vec::new(),
        seconds: (base.updated_ms - base.created_ms) / 1000.0,
        backend: format!("{} (in the browser)", base.backend.title()),
        plots: Vec::new(),
    };
    Ok(Some(compression_report(&metrics, ctx)))
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
    let on_build = {
        let (built, error, busy, notes) =
            (built.clone(), error.clone(), busy.clone(), notes.clone());
        Callback::from(move |_| {
            let (built, error, busy, notes) =
                (built.clone(), error.clone(), busy.clone(), notes.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let result = async {
                    let runs = store::list().await?;
                    let mut bundles = Vec::new();
                    let mut said = Vec::new();
                    let exercise1 = exercise1(&runs, &mut said).await;
                    notes.set(said);
                    if let Some(b) = exercise1? {
                        bundles.push(b);
                    }
                    if let Some(b) = exercise2(&runs)? {
                        bundles.push(b);
                    }
                    if bundles.is_empty() {
                        return Err("nothing to report yet: train the classifier or a GAN for at least one epoch".to_string());
                    }
                    let parts = bundles.iter().map(|b| b.name.clone()).collect();
                    let html = html_document("MNIST Lab report", &bundles);
                    let html = blob_url(html.as_bytes(), "text/html").ok_or("the browser could not hold the report")?;
                    let zip = blob_url(&zip_bundles(&bundles), "application/zip").ok_or("the browser could not hold the report")?;
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
            <p class="hint">{"Summaries, per-epoch tables, curves, confusion matrices, the compression comparison and the GAN sample grids, from the runs saved in this browser (the newest classifier run, the finished refinements of its model, the newest GAN run)."}</p>
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
