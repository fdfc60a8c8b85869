//! The exercise-1 write-up: metrics as JSON (the CLI's `metrics.json`) and the Markdown report.
//! The same structures will back the browser's report export.

use serde::{Deserialize, Serialize};

use crate::lab::classifier::metrics::{ConfusionMatrix, EpochMetrics};
use crate::lab::classifier::train::{LrSchedule, TrainConfig};
use crate::lab::compress::plots;
use crate::lab::compress::ranks::{RankPoint, RankRule, join_ranks};
use crate::lab::compress::recipe::REFINE_LR;
use crate::lab::core::bundle::Bundle;
use crate::lab::core::summary::{Summary, group};
use crate::lab::data::DatasetKind;

/// The trained base model's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaseRun {
    /// Trainable parameters (84,060).
    pub params: usize,
    /// Per-epoch metrics.
    pub epochs: Vec<EpochMetrics>,
    /// Test-set confusion matrix of the final model.
    pub confusion: ConfusionMatrix,
}

/// A base model's training record, shipped beside its weights (the CLI writes it next to
/// `base.safetensors`), so a report built on that model later, in the page, has its history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaseHistory {
    /// Its training hyper-parameters.
    pub config: TrainConfig,
    /// Parameters, per-epoch metrics, final confusion matrix.
    pub base: BaseRun,
    /// Wall-clock seconds of its training.
    pub seconds: f64,
    /// The backend that trained it.
    pub backend: String,
    /// The command that made it.
    pub command: String,
}

/// One compression factor's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompressedRun {
    /// f in k = int(n / f).
    pub factor: f64,
    /// Rank of each layer.
    pub ranks: Vec<usize>,
    /// Trainable parameters of the factorized model.
    pub params: usize,
    /// Test accuracy straight after the SVD, before any refinement.
    pub test_acc_before_refine: f64,
    /// Per-epoch metrics of the refinement.
    pub epochs: Vec<EpochMetrics>,
    /// Test-set confusion matrix after refinement.
    pub confusion: ConfusionMatrix,
    /// How the ranks were chosen.
    #[serde(default)]
    pub rule: RankRule,
}

impl CompressedRun {
    /// "2×", or "2× budget" for the budget rule's ranks.
    pub fn label(&self) -> String {
        self.rule.factor_label(self.factor)
    }

    /// Its refinement curves' file name.
    fn curves_file(&self) -> String {
        format!("refine-{}-curves.svg", self.rule.file_stem(self.factor))
    }
}

/// Everything the compression exercise reports; serialises to `metrics.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompressionMetrics {
    /// The base model.
    pub base: BaseRun,
    /// One entry per factor, in the order run.
    pub compressed: Vec<CompressedRun>,
}

/// What the report needs beyond the metrics.
#[derive(Debug, Clone)]
pub struct ReportContext {
    /// Hyper-parameters of base training (refinement uses the same lr and batch size).
    pub config: TrainConfig,
    /// Refinement epochs.
    pub refine_epochs: usize,
    /// The refinement's optimiser settings when they differ from the base's.
    pub refine: Option<TrainConfig>,
    /// Summaries: base first, then one per factor.
    pub summaries: Vec<Summary>,
    /// Singular values of each layer, largest first.
    pub spectra: Vec<Vec<f64>>,
    /// `(m, n)` per layer.
    pub shapes: Vec<(usize, usize)>,
    /// The accuracy-vs-parameters sweep.
    pub sweep: Vec<RankPoint>,
    /// Wall-clock seconds of the whole run.
    pub seconds: f64,
    /// The backend that ran it.
    pub backend: String,
    /// Who produced the report: "MNIST Lab's CLI", "MNIST Lab in the browser".
    pub producer: String,
    /// Where the base model came from, when it was not trained by this run.
    pub base_source: Option<String>,
    /// Plot file names (relative to the report) with captions.
    pub plots: Vec<(String, String)>,
}

pub fn pct(x: f64) -> String {
    format!("{:.2} %", x * 100.0)
}

pub fn epoch_table(epochs: &[EpochMetrics]) -> String {
    let mut s = String::from(
        "| epoch | train loss | train acc | test loss | test acc |\n|---:|---:|---:|---:|---:|\n",
    );
    for e in epochs {
        s += &format!(
            "| {} | {:.4} | {} | {:.4} | {} |\n",
            e.epoch,
            e.train_loss,
            pct(e.train_acc),
            e.test_loss,
            pct(e.test_acc)
        );
    }
    s
}

/// The confusion matrix as a Markdown table (rows: true class, columns: predicted).
pub fn confusion_table(m: &ConfusionMatrix, kind: DatasetKind) -> String {
    let names = kind.class_names();
    let mut s = String::from("| true \\ predicted |");
    for n in names {
        s += &format!(" {n} |");
    }
    s += "\n|---|";
    s += &"---:|".repeat(names.len());
    s += "\n";
    for (i, row) in m.0.iter().enumerate() {
        s += &format!("| **{}** |", names[i]);
        for (j, c) in row.iter().enumerate() {
            s += &if i == j { format!(" **{c}** |") } else { format!(" {c} |") };
        }
        s += "\n";
    }
    s
}

/// Renders the full write-up as Markdown.
pub fn render_markdown(m: &CompressionMetrics, ctx: &ReportContext) -> String {
    let base_acc = m.base.epochs.last().map(|e| e.test_acc).unwrap_or(0.0);
    let mut s = String::new();
    s += "# Exercise 1 — low-rank SVD compression of an MNIST classifier\n\n";
    s += &format!(
        "Produced by {} on the {} backend in {:.0} s. Every number below comes from this one run (seed {}); \
         one seed's result can swing by points at the higher factors (at 8× the last layer keeps rank 1), so \
         compare recipes over several seeds (`mnist-lab compress --seeds 5` gives mean ± sd).\n\n",
        ctx.producer, ctx.backend, ctx.seconds, ctx.config.seed
    );
    if let Some(source) = &ctx.base_source {
        s += &format!("**Base model:** {source}.\n\n");
    }
    s += "## Pre-processing\n\nEach 28×28 image is flattened to 784 values and scaled to [0, 1] by dividing by 255. \
          No standardisation (mean/std) is applied: with ReLU layers and Adam, [0, 1] inputs train well, and the \
          compressed models must see exactly the same inputs as the base model. Training batches are shuffled \
          with a seeded generator each epoch; the 10 000 test images are never used for training.\n\n";
    s += &format!(
        "## Training setup\n\nAdam (β₁ 0.9, β₂ 0.999), learning rate {} with a {} schedule{}, batch size {}, seed {}, {} epochs \
         for the base model and {} epochs of refinement for each compressed model ({}, a fresh Adam state), L2 weight \
         decay {}. Loss: cross-entropy on the logits.\n\n",
        ctx.config.lr,
        match ctx.config.schedule {
            LrSchedule::Cosine => "cosine",
            LrSchedule::Constant => "constant",
        },
        match ctx.config.schedule {
            LrSchedule::Cosine =>
                " (decaying to 0 over the run, so the last epochs settle the weights)",
            LrSchedule::Constant => "",
        },
        ctx.config.batch_size,
        ctx.config.seed,
        ctx.config.epochs,
        ctx.refine_epochs,
        match &ctx.refine {
            None => "same optimiser settings and schedule over the refinement".to_string(),
            Some(r) => format!(
                "its own settings: learning rate {} with a {} schedule over the refinement, weight decay {}",
                r.lr,
                match r.schedule {
                    LrSchedule::Cosine => "cosine",
                    LrSchedule::Constant => "constant",
                },
                r.weight_decay
            ),
        },
        if ctx.config.weight_decay > 0.0 {
            ctx.config.weight_decay.to_string()
        } else {
            "none".into()
        }
    );
    s += "## The base model\n\n";
    if let Some(base) = ctx.summaries.first() {
        s += &base.to_markdown();
    }
    s += &format!(
        "\nFinal test accuracy: **{}** (test loss {:.4}).\n\n",
        pct(base_acc),
        m.base.epochs.last().map(|e| e.test_loss).unwrap_or(0.0)
    );
    for (file, caption) in &ctx.plots {
        if file.contains("base") {
            s += &format!("![{caption}]({file})\n\n");
        }
    }
    s += "### Per-epoch metrics\n\n";
    s += &epoch_table(&m.base.epochs);
    s += "\n### Confusion matrix (test set)\n\n";
    s += &confusion_table(&m.base.confusion, DatasetKind::Mnist);

    s += "\n## SVD compression\n\n";
    s += "Each weight matrix W (m×n, inputs × outputs as burn's `Linear` stores it) is decomposed as W = UΣVᵀ \
          and truncated to rank k: W ≈ UₖΣₖVₖᵀ, written as two factors U' = UₖΣₖ (m×k) and Vₖᵀ (k×n). Each dense \
          layer x·W + b becomes two dense layers: x → x·U' (no bias) → ·Vₖᵀ + b, with the original bias copied \
          unchanged (it is not part of W, and copying it keeps the full-rank model identical to the base). The \
          factors' weights are set from the SVD, never randomly initialised. ReLU stays between the original \
          layers, not inside a pair. For a compression factor f the rank is k = int(n/f) per layer.\n\n";
    s += "A rank-k pair has mk + kn weights against mn for W, so **it saves parameters only when k < mn/(m+n)**. \
          For these layers the break-even ranks are: ";
    let be: Vec<String> = ctx
        .shapes
        .iter()
        .map(|&(mm, n)| format!("{mm}×{n}: k < {:.1}", (mm * n) as f64 / (mm + n) as f64))
        .collect();
    s += &be.join(", ");
    s += ". Ranks at or above that cost parameters instead of saving them, which is why the last layer (50×10) \
          barely shrinks at 2× and the real compression ratio is below the nominal factor.\n\n";
    for (file, caption) in &ctx.plots {
        if file.contains("spectrum") || file.contains("sweep") {
            s += &format!("![{caption}]({file})\n\n");
        }
    }
    s += "### Comparison\n\n| factor | ranks | parameters | real ratio | test acc after SVD | test acc after refinement | vs base |\n|---:|---|---:|---:|---:|---:|---:|\n";
    s += &format!(
        "| 1× (base) | full | {} | 1.00× | {} | — | — |\n",
        group(m.base.params),
        pct(base_acc)
    );
    for c in &m.compressed {
        let after = c.epochs.last().map(|e| e.test_acc).unwrap_or(c.test_acc_before_refine);
        s += &format!(
            "| {} | ({}) | {} | {:.2}× | {} | {} | {:+.2} pt |\n",
            c.label(),
            join_ranks(&c.ranks, ", "),
            group(c.params),
            m.base.params as f64 / c.params as f64,
            pct(c.test_acc_before_refine),
            pct(after),
            (after - base_acc) * 100.0
        );
    }
    s += "\n";
    if m.compressed.iter().any(|c| c.rule == RankRule::Budget) {
        s += "**Two rank rules.** \"N×\" rows use the exercise's k = int(n/f) per layer. \"N× budget\" rows \
              spend the same parameter count (or a few less) differently: from rank 1 everywhere, the rank \
              that adds the most retained spectral energy per parameter is raised, again and again, while \
              the budget allows — each layer's energy counted as a fraction of its own, since a layer that \
              keeps little (the 50×10 output layer at rank 1) starves every layer after it. Both rules get \
              the same refinement.\n\n";
    }
    for (i, c) in m.compressed.iter().enumerate() {
        s += &format!("### {} compression\n\n", c.label());
        if let Some(sum) = ctx.summaries.get(i + 1) {
            s += &sum.to_markdown();
        }
        s += &format!(
            "\nTest accuracy right after the SVD, before refinement: **{}**.\n\n",
            pct(c.test_acc_before_refine)
        );
        for (file, caption) in &ctx.plots {
            if *file == c.curves_file() {
                s += &format!("![{caption}]({file})\n\n");
            }
        }
        s += "#### Refinement, per epoch\n\n";
        s += &epoch_table(&c.epochs);
        s += "\n#### Confusion matrix after refinement (test set)\n\n";
        s += &confusion_table(&c.confusion, DatasetKind::Mnist);
        s += "\n";
    }
    s += "## Accuracy against parameters over ranks (no refinement)\n\n| factor | ranks | parameters | test acc |\n|---:|---|---:|---:|\n";
    for p in &ctx.sweep {
        s += &format!(
            "| {} | ({}) | {} | {} |\n",
            p.rule.factor_label(p.factor),
            join_ranks(&p.ranks, ", "),
            group(p.params),
            pct(p.test_acc)
        );
    }
    s += "\n## Design decisions\n\n\
          - **Biases are copied**, not factorised: the SVD approximates W only, and the bias goes on the second layer \
          of each pair so the full-rank factorisation reproduces the base model's logits exactly (checked by a test \
          to 1e-4).\n\
          - **U' = UₖΣₖ** absorbs the singular values into the first factor, so Vₖᵀ keeps orthonormal rows; either \
          split gives the same product.\n\
          - **Refinement** fine-tunes all factors (and copied biases) with a fresh Adam state; it starts from the \
          SVD weights, never from a random initialisation.\n";
    s += &format!(
        "- **The refinement's recipe** (unless set otherwise): learning rate {REFINE_LR}, decayed to 0 by a cosine, no \
         weight decay — chosen over five seeds per recipe at 2×, 4× and 8× (`docs/exercise1/refine-recipes.md`). A \
         factorized model starts far from a minimum (at 8× the last layer keeps rank 1), so a higher rate than the \
         base model's recovers it, and the decay settles it; weight decay made no measurable difference.\n"
    );
    s += "- The SVD runs on the CPU (nalgebra, f64) after async reads of the weights, so the same code runs on WebGPU \
          in the browser, where synchronous reads are not allowed.\n";
    s
}

/// The exercise-1 report with its figures: the curves of the base run and of each refinement,
/// the singular-value spectra with the rank cuts, and the accuracy-vs-parameters sweep (the
/// last two only when `ctx` has them). `ctx.plots` is filled in here.
pub fn compression_report(metrics: &CompressionMetrics, mut ctx: ReportContext) -> Bundle {
    let mut files = Vec::new();
    let mut plots_list = Vec::new();
    if !metrics.base.epochs.is_empty() {
        files.push((
            "base-curves.svg".to_string(),
            plots::curves_svg("base model", &metrics.base.epochs).into_bytes(),
        ));
        plots_list.push((
            "base-curves.svg".to_string(),
            "base model: loss and accuracy per epoch".to_string(),
        ));
    }
    for c in &metrics.compressed {
        if !c.epochs.is_empty() {
            let file = c.curves_file();
            files.push((
                file.clone(),
                plots::curves_svg(
                    &format!("{} compressed model: refinement", c.label()),
                    &c.epochs,
                )
                .into_bytes(),
            ));
            plots_list
                .push((file, format!("{} refinement: loss and accuracy per epoch", c.label())));
        }
    }
    if !ctx.spectra.is_empty() {
        let cuts: Vec<(f64, Vec<usize>)> =
            metrics.compressed.iter().map(|c| (c.factor, c.ranks.clone())).collect();
        files.push(("spectrum.svg".into(), plots::spectrum_svg(&ctx.spectra, &cuts).into_bytes()));
        plots_list.push((
            "spectrum.svg".into(),
            "singular values of each layer with the rank cuts".into(),
        ));
    }
    if !ctx.sweep.is_empty() {
        let base_acc = metrics.base.epochs.last().map(|e| e.test_acc).unwrap_or(0.0);
        files.push((
            "sweep.svg".into(),
            plots::sweep_svg(&ctx.sweep, (metrics.base.params, base_acc)).into_bytes(),
        ));
        plots_list.push(("sweep.svg".into(), "test accuracy after SVD against parameters".into()));
    }
    ctx.plots = plots_list;
    Bundle { name: "exercise1".into(), markdown: render_markdown(metrics, &ctx), files }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_json_has_the_documented_shape() {
        let e = EpochMetrics {
            epoch: 1,
            train_loss: 0.5,
            train_acc: 0.9,
            test_loss: 0.4,
            test_acc: 0.91,
        };
        let m = CompressionMetrics {
            base: BaseRun {
                params: 84060,
                epochs: vec![e.clone()],
                confusion: ConfusionMatrix::default(),
            },
            compressed: vec![CompressedRun {
                factor: 2.0,
                ranks: vec![50, 25, 5],
                params: 1,
                test_acc_before_refine: 0.8,
                epochs: vec![e],
                confusion: ConfusionMatrix::default(),
                rule: RankRule::Seed,
            }],
        };
        let v: serde_json::Value = serde_json::to_value(&m).unwrap();
        assert_eq!(v["base"]["params"], 84060);
        assert_eq!(v["base"]["epochs"][0]["test_acc"], 0.91);
        assert_eq!(v["base"]["confusion"].as_array().unwrap().len(), 10);
        assert_eq!(v["base"]["confusion"][3].as_array().unwrap().len(), 10);
        assert_eq!(v["compressed"][0]["ranks"], serde_json::json!([50, 25, 5]));
        assert_eq!(v["compressed"][0]["factor"], 2.0);
    }
}
