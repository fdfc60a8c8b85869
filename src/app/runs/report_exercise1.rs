//! Exercise 1's part of the page report: built on the base model the user picks (the shipped
//! pretrained model, whose CLI training history ships beside it, or a classifier run saved in
//! this browser), with the finished refinements of that very model and the accuracy-vs-
//! parameters sweep over both rank rules, as the CLI's report has them.

use burn::module::Module;

use crate::app::exercise1::base_model::PRETRAINED_URL;
use crate::app::io::fetch::fetch_bytes;
use crate::app::io::store;
use crate::app::worker::protocol::{RunRecord, RunSpec};
use crate::lab::classifier::metrics::ConfusionMatrix;
use crate::lab::classifier::mlp::{MLP_WIDTHS, Mlp};
use crate::lab::classifier::summary::mlp_summary;
use crate::lab::classifier::weights::mlp_from_tensors;
use crate::lab::compress::evaluator::RankEvaluator;
use crate::lab::compress::factorized::MlpSpectrum;
use crate::lab::compress::ranks::{RankPoint, RankRule, SWEEP_FACTORS, params_for};
use crate::lab::compress::report::{
    BaseHistory, BaseRun, CompressedRun, CompressionMetrics, ReportContext, compression_report,
};
use crate::lab::compress::summary::factorized_summary_for;
use crate::lab::core::bundle::Bundle;
use crate::lab::core::checkpoint::Checkpoint;
use crate::lab::core::safetensors::{NamedTensor, decode_safetensors, fingerprint};
use crate::lab::data::Dataset;

/// The shipped model's training history (the CLI's `weights/base-history.json` of the run that
/// made it).
pub const PRETRAINED_HISTORY_URL: &str = "models/mlp-784-100-50-10.history.json";

/// The picker's value for the shipped model (a run's value is its id).
pub const SHIPPED: &str = "shipped";

/// The newest run that matches and has at least one epoch; finished runs first.
pub fn newest(runs: &[RunRecord], want: impl Fn(&RunSpec) -> bool) -> Option<&RunRecord> {
    let mut c: Vec<&RunRecord> =
        runs.iter().filter(|r| want(&r.spec) && r.epochs_done > 0).collect();
    c.sort_by(|a, b| b.finished.cmp(&a.finished).then(b.updated_ms.total_cmp(&a.updated_ms)));
    c.first().copied()
}

/// The bases a report can be built on, `(value, label)`: the shipped model, then each saved
/// classifier run, newest first.
pub fn base_options(runs: &[RunRecord]) -> Vec<(String, String)> {
    let mut classifier: Vec<&RunRecord> = runs
        .iter()
        .filter(|r| matches!(r.spec, RunSpec::Classifier { .. }) && r.epochs_done > 0)
        .collect();
    classifier.sort_by(|a, b| b.updated_ms.total_cmp(&a.updated_ms));
    let mut options = vec![(
        SHIPPED.to_string(),
        "the shipped pretrained model (its 100 epochs in the CLI)".to_string(),
    )];
    for r in classifier {
        let acc = r.history.last().map(|e| format!(", {:.2}%", e.test_acc * 100.0));
        options.push((
            r.id.clone(),
            format!(
                "classifier run {} ({} of {} epochs{})",
                r.id,
                r.epochs_done,
                r.spec.epochs(),
                acc.unwrap_or_default()
            ),
        ));
    }
    options
}

/// The default base: the newest classifier run if there is one, else the shipped model.
pub fn default_base(runs: &[RunRecord]) -> String {
    newest(runs, |s| matches!(s, RunSpec::Classifier { .. }))
        .map(|r| r.id.clone())
        .unwrap_or_else(|| SHIPPED.into())
}

/// The finished refinements whose base model has fingerprint `base`, and a sentence for each
/// one left out because it refined another model (`described`: the chosen base, in words).
fn refinements_of<'a>(
    runs: &'a [RunRecord],
    base: &str,
    described: &str,
) -> (Vec<&'a RunRecord>, Vec<String>) {
    let (mut kept, mut left_out) = (Vec::new(), Vec::new());
    for r in runs.iter().filter(|r| r.finished) {
        let RunSpec::Refine { factor, ranks, base: refined, .. } = &r.spec else { continue };
        match refined {
            Some(b) if b.fingerprint == base => kept.push(r),
            Some(b) => left_out.push(format!(
                "the {factor}× refinement (ranks {ranks:?}) of {} is left out: this report is \
                 built on {described}, another model",
                b.described
            )),
            None => left_out.push(format!(
                "the {factor}× refinement (ranks {ranks:?}) is left out: it was saved before \
                 runs recorded their base model"
            )),
        }
    }
    (kept, left_out)
}

/// The chosen base: its tensors, training record, hyper-parameters, and how the report names it.
struct Base {
    tensors: Vec<NamedTensor>,
    run: BaseRun,
    config: crate::lab::classifier::train::TrainConfig,
    seconds: f64,
    backend: String,
    described: String,
}

async fn shipped_base() -> Result<Base, String> {
    let bytes = fetch_bytes(PRETRAINED_URL, |_, _| {}).await?;
    let tensors = decode_safetensors(&bytes).map_err(|e| e.to_string())?.0;
    let text = fetch_bytes(PRETRAINED_HISTORY_URL, |_, _| {}).await?;
    let h: BaseHistory = serde_json::from_slice(&text)
        .map_err(|e| format!("the shipped model's history is unreadable: {e}"))?;
    Ok(Base {
        tensors,
        run: h.base,
        config: h.config,
        seconds: h.seconds,
        backend: format!("{} (the base model, in the CLI)", h.backend),
        described: format!(
            "the shipped pretrained model, trained by `{}` on the {} backend in {:.0} s",
            h.command, h.backend, h.seconds
        ),
    })
}

async fn run_base(runs: &[RunRecord], id: &str) -> Result<Base, String> {
    let run = runs
        .iter()
        .find(|r| r.id == id)
        .ok_or_else(|| format!("the classifier run {id} is no longer stored"))?;
    let RunSpec::Classifier { config, .. } = &run.spec else {
        return Err(format!("the run {id} is not a classifier run"));
    };
    let (_, bytes) = store::load(id).await?;
    let ck = Checkpoint::from_bytes(&bytes.ok_or("the classifier run has no checkpoint")?)
        .map_err(|e| e.to_string())?;
    let tensors = ck.module("model").map_err(|e| e.to_string())?.tensors.clone();
    Ok(Base {
        run: BaseRun {
            params: 0,
            epochs: run.history.clone(),
            confusion: run.confusion.unwrap_or(ConfusionMatrix([[0; 10]; 10])),
        },
        config: config.clone(),
        seconds: (run.updated_ms - run.created_ms) / 1000.0,
        backend: format!("{} (in the browser)", run.backend.title()),
        described: format!("the classifier run {id}, trained in this browser"),
        tensors,
    })
}

/// Accuracy after SVD (no refinement) at each sweep factor, under both rank rules.
async fn sweep(spectrum: &MlpSpectrum, test: &Dataset) -> Result<Vec<RankPoint>, String> {
    let device = burn::tensor::Device::flex();
    let evaluator = RankEvaluator::new(spectrum, test, &device).map_err(|e| e.to_string())?;
    let mut points = Vec::new();
    for rule in [RankRule::Seed, RankRule::Budget] {
        for factor in SWEEP_FACTORS {
            let ranks = spectrum.ranks_for(rule, factor).map_err(|e| e.to_string())?;
            let test_acc = evaluator.accuracy(spectrum, &ranks).await.map_err(|e| e.to_string())?;
            let params = params_for(&spectrum.shapes(), &ranks);
            points.push(RankPoint { factor, ranks, params, test_acc, rule });
        }
    }
    Ok(points)
}

/// Exercise 1 on the base `choice` ([`SHIPPED`] or a run id), its finished refinements and the
/// sweep (when MNIST's `test` set is loaded); `notes` says what was left out and why.
pub async fn exercise1(
    runs: &[RunRecord],
    choice: &str,
    test: Option<&Dataset>,
    notes: &mut Vec<String>,
) -> Result<Bundle, String> {
    let base =
        if choice == SHIPPED { shipped_base().await? } else { run_base(runs, choice).await? };
    let device = burn::tensor::Device::flex();
    let mlp: Mlp =
        mlp_from_tensors(&base.tensors, &MLP_WIDTHS, &device).map_err(|e| e.to_string())?;
    let spectrum = MlpSpectrum::of(&mlp).await.map_err(|e| e.to_string())?;
    let shapes = spectrum.shapes();
    let (mut refinements, left_out) =
        refinements_of(runs, &fingerprint(&base.tensors), &base.described);
    notes.extend(left_out);
    refinements.sort_by(|a, b| match (&a.spec, &b.spec) {
        (RunSpec::Refine { factor: x, .. }, RunSpec::Refine { factor: y, .. }) => x.total_cmp(y),
        _ => std::cmp::Ordering::Equal,
    });
    let mut summaries = vec![mlp_summary(&mlp)];
    let mut compressed = Vec::new();
    let (mut refine_epochs, mut refine) = (0, None);
    for r in refinements {
        if let RunSpec::Refine { ranks, factor, before, config, rule, .. } = &r.spec {
            summaries.push(factorized_summary_for(&shapes, ranks));
            refine_epochs = config.epochs;
            // The settings the refinements ran with (the page's recipe, which is not the base's).
            refine = Some(config.clone());
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
    let sweep = match test {
        Some(t) => sweep(&spectrum, t).await?,
        None => {
            notes.push(
                "the accuracy-vs-parameters sweep is left out: MNIST's test set has not loaded yet"
                    .into(),
            );
            Vec::new()
        }
    };
    let metrics =
        CompressionMetrics { base: BaseRun { params: mlp.num_params(), ..base.run }, compressed };
    let ctx = ReportContext {
        config: base.config,
        refine_epochs,
        refine,
        summaries,
        spectra: spectrum.layers.iter().map(|(s, _)| s.singular_values.clone()).collect(),
        shapes,
        sweep,
        seconds: base.seconds,
        backend: base.backend,
        producer: "MNIST Lab in the browser".into(),
        base_source: Some(base.described),
        plots: Vec::new(),
    };
    Ok(compression_report(&metrics, ctx))
}
