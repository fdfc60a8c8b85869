//! The exercise-2 write-up: `metrics.json` and the Markdown report, shared by the CLI and (later)
//! the page's report export.

use serde::{Deserialize, Serialize};

use crate::lab::core::bundle::Bundle;
use crate::lab::core::params::LayerNorm;
use crate::lab::core::summary::{Summary, group};
use crate::lab::gan::config::GanConfig;
use crate::lab::gan::models::GanArch;
use crate::lab::gan::plots::{self, GanPoint};
use crate::lab::gan::progress::GanEpoch;
use crate::lab::gan::quality::Quality;

/// The exercise-2 report with its figures: losses and D's outputs, per-layer gradient norms,
/// and the fixed-noise grids (`(epoch, PNG bytes)`). `ctx.grids` and `ctx.plots` are filled
/// in here.
pub fn gan_report(
    metrics: &GanMetrics,
    mut ctx: GanReportContext,
    grids: Vec<(usize, Vec<u8>)>,
) -> Bundle {
    let points: Vec<GanPoint> = metrics
        .epochs
        .iter()
        .map(|e| GanPoint {
            epoch: e.epoch,
            d_loss: e.d_loss,
            g_loss: e.g_loss,
            d_real: e.d_real,
            d_fake: e.d_fake,
        })
        .collect();
    let series = |pick: fn(&NormRow) -> &Vec<LayerNorm>| {
        let names: Vec<String> = metrics
            .norms
            .first()
            .map(|r| pick(r).iter().map(|l| l.layer.clone()).collect())
            .unwrap_or_default();
        names
            .into_iter()
            .map(|n| {
                let pts = metrics
                    .norms
                    .iter()
                    .filter_map(|r| {
                        pick(r).iter().find(|l| l.layer == n).map(|l| (r.epoch, l.grad))
                    })
                    .collect();
                (n, pts)
            })
            .collect::<Vec<_>>()
    };
    let mut files = vec![
        (
            "losses.svg".to_string(),
            plots::gan_losses_svg(
                &format!("{} GAN on Fashion-MNIST", metrics.arch.slug()),
                &points,
            )
            .into_bytes(),
        ),
        (
            "grad-norms.svg".to_string(),
            plots::grad_norms_svg(&[
                ("generator G", series(|r| &r.g)),
                ("discriminator D", series(|r| &r.d)),
            ])
            .into_bytes(),
        ),
    ];
    ctx.plots = vec![
        (
            "losses.svg".into(),
            "D and G loss, and D's mean output on real and fake images, per epoch".into(),
        ),
        ("grad-norms.svg".into(), "per-layer gradient norms of G and D".into()),
    ];
    ctx.grids = Vec::new();
    for (epoch, png) in grids {
        let file = format!("samples-epoch-{epoch:03}.png");
        ctx.grids.push((epoch, file.clone()));
        files.push((file, png));
    }
    Bundle { name: "exercise2".into(), markdown: render_markdown(metrics, &ctx), files }
}

/// One epoch's row in `metrics.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRow {
    /// 1-based.
    pub epoch: usize,
    /// Mean D loss.
    pub d_loss: f64,
    /// Mean G loss.
    pub g_loss: f64,
    /// Mean D(real).
    pub d_real: f64,
    /// Mean D(fake).
    pub d_fake: f64,
}

/// Per-layer norms at one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NormRow {
    /// 1-based.
    pub epoch: usize,
    /// Generator layers.
    pub g: Vec<LayerNorm>,
    /// Discriminator layers.
    pub d: Vec<LayerNorm>,
}

/// Everything the GAN exercise reports; serialises to `metrics.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GanMetrics {
    /// `dense` or `cnn`.
    pub arch: GanArch,
    /// Trainable parameters of G.
    pub g_params: usize,
    /// Trainable parameters of D.
    pub d_params: usize,
    /// Per-epoch losses and D outputs.
    pub epochs: Vec<EpochRow>,
    /// Quality numbers every 10th epoch (and the last).
    pub quality: Vec<Quality>,
    /// Per-layer weight and gradient norms per epoch.
    pub norms: Vec<NormRow>,
}

impl GanMetrics {
    /// Collects a run's history.
    pub fn new(
        arch: GanArch,
        g_params: usize,
        d_params: usize,
        history: &[GanEpoch],
        quality: Vec<Quality>,
    ) -> Self {
        Self {
            arch,
            g_params,
            d_params,
            epochs: history
                .iter()
                .map(|e| EpochRow {
                    epoch: e.epoch,
                    d_loss: e.d_loss,
                    g_loss: e.g_loss,
                    d_real: e.d_real,
                    d_fake: e.d_fake,
                })
                .collect(),
            quality,
            norms: history
                .iter()
                .map(|e| NormRow { epoch: e.epoch, g: e.g_norms.clone(), d: e.d_norms.clone() })
                .collect(),
        }
    }
}

/// What the report needs beyond the metrics.
#[derive(Debug, Clone)]
pub struct GanReportContext {
    /// The run's settings.
    pub config: GanConfig,
    /// Training images used.
    pub train_images: usize,
    /// G then D summaries.
    pub summaries: [Summary; 2],
    /// `(epoch, file)` of each sample grid, oldest first.
    pub grids: Vec<(usize, String)>,
    /// The loss plot and the gradient-norm plot files.
    pub plots: Vec<(String, String)>,
    /// The judge's test accuracy on Fashion-MNIST.
    pub classifier_accuracy: f64,
    /// The inception-style score of real test images.
    pub real_score: f64,
    /// Images per side in the quality comparison.
    pub quality_samples: usize,
    /// Wall-clock seconds of training.
    pub seconds: f64,
    /// The backend that ran it.
    pub backend: String,
    /// Why the run stopped early, if it did (divergence, Ctrl-C).
    pub stopped_early: Option<String>,
}

/// Layers whose last gradient norm is under 1e-3 of their largest one (a vanishing gradient).
pub fn vanishing_layers(norms: &[NormRow]) -> Vec<String> {
    let mut out = Vec::new();
    let (Some(first), Some(last)) = (norms.first(), norms.last()) else { return out };
    for (net, pick) in
        [("G", (|r: &NormRow| &r.g) as fn(&NormRow) -> &Vec<LayerNorm>), ("D", |r: &NormRow| &r.d)]
    {
        for layer in pick(first) {
            let peak = norms
                .iter()
                .flat_map(|r| pick(r).iter().filter(|l| l.layer == layer.layer).map(|l| l.grad))
                .fold(0.0, f64::max);
            let now =
                pick(last).iter().find(|l| l.layer == layer.layer).map(|l| l.grad).unwrap_or(0.0);
            if peak > 0.0 && now < peak * 1e-3 {
                out.push(format!("{net} {}", layer.layer));
            }
        }
    }
    out
}

/// Renders the full write-up as Markdown.
pub fn render_markdown(m: &GanMetrics, ctx: &GanReportContext) -> String {
    let c = &ctx.config;
    let arch = match m.arch {
        GanArch::Dense => "dense",
        GanArch::Cnn => "DCGAN-style convolutional",
    };
    let mut s = format!("# Exercise 2 — a {arch} GAN on Fashion-MNIST\n\n");
    s += &format!(
        "Produced by MNIST Lab's CLI on the {} backend: {} epochs in {:.0} s on {} training images. Every number below was measured in this run.\n\n",
        ctx.backend,
        m.epochs.len(),
        ctx.seconds,
        ctx.train_images
    );
    if let Some(why) = &ctx.stopped_early {
        s += &format!("**The run stopped early:** {why}\n\n");
    }
    s += "## Pre-processing\n\nEach 28×28 Fashion-MNIST image is scaled from [0, 255] to **[-1, 1]** (x / 127.5 − 1), \
          the range of the generator's tanh output, so real and generated images live on the same scale. \
          Labels are not used. Batches are drawn from a seeded shuffle each epoch.\n\n";
    s += "## The networks\n\n";
    for sum in &ctx.summaries {
        s += &sum.to_markdown();
        s += "\n";
    }
    s += &format!(
        "G has {} trainable parameters, D {} (ratio {:.2}). G's batch norms also keep running statistics (not trained).\n\n",
        group(m.g_params),
        group(m.d_params),
        m.g_params as f64 / m.d_params.max(1) as f64
    );
    s += &format!(
        "## Training loop\n\nLoss: binary cross-entropy (computed from D's logit, which is the same function as BCE on the sigmoid \
         output without its log(0) failure). Optimiser: Adam for D and for the combined G→D, β₁ = {}, β₂ = 0.999, \
         learning rates G {} and D {}, batch size {}, seed {}.\n\n\
         Per batch of B real images: sample B vectors z ~ N(0, I₁₀₀) and generate B fakes; concatenate real and fake \
         (2B images) and permute the image indices (whole images move with their labels); labels real {} / fake {}; \
         one Adam step on D. Then sample B fresh z, pass them through G and the **frozen** D (D's parameters stop \
         requiring gradients, so only G is stepped) with target 1.\n\n",
        c.beta1,
        c.lr_g,
        c.lr_d,
        c.batch_size,
        c.seed,
        if c.soft_labels { "0.9" } else { "1" },
        if c.soft_labels { "0.1" } else { "0" }
    );
    s += "Stabilisers used: ";
    s += &c.stabilisers().join("; ");
    s += ".\n\n";
    s += "## Losses per epoch\n\n";
    for (file, caption) in &ctx.plots {
        if file.contains("loss") {
            s += &format!("![{caption}]({file})\n\n");
        }
    }
    s += "| epoch | D loss | G loss | D(real) | D(fake) |\n|---:|---:|---:|---:|---:|\n";
    for e in &m.epochs {
        s += &format!(
            "| {} | {:.4} | {:.4} | {:.3} | {:.3} |\n",
            e.epoch, e.d_loss, e.g_loss, e.d_real, e.d_fake
        );
    }
    s += "\n## Samples from a fixed noise batch\n\nThe same 64 latent vectors at each snapshot (G in inference mode), so the grids show one \
          generator learning rather than different draws.\n\n";
    for (epoch, file) in &ctx.grids {
        s += &format!("### Epoch {epoch}\n\n![samples at epoch {epoch}]({file})\n\n");
    }
    s += &format!(
        "## Quality\n\nA {}-parameter dense classifier (784-256-64-10), trained with the same engine on Fashion-MNIST, \
         reaches {:.2} % test accuracy. Its 64-unit last hidden layer gives the features for a Fréchet distance \
         between {} real test images and {} generated ones (lower is better), and its class probabilities give an \
         inception-style score exp(E KL(p(y|x) ‖ p(y))) (1 to 10, higher is better). Real test images score **{:.2}**.\n\n",
        group(784 * 256 + 256 + 256 * 64 + 64 + 64 * 10 + 10),
        ctx.classifier_accuracy * 100.0,
        ctx.quality_samples,
        ctx.quality_samples,
        ctx.real_score
    );
    s += "| epoch | Fréchet distance | score |\n|---:|---:|---:|\n";
    for q in &m.quality {
        s += &format!("| {} | {:.2} | {:.2} |\n", q.epoch, q.fid, q.score);
    }
    s += "\n## Health: per-layer norms\n\n";
    for (file, caption) in &ctx.plots {
        if file.contains("norm") {
            s += &format!("![{caption}]({file})\n\n");
        }
    }
    if let (Some(first), Some(last)) = (m.norms.first(), m.norms.last()) {
        s += &format!(
            "| network | layer | ‖W‖ epoch {} | ‖W‖ epoch {} | ‖∇‖ epoch {} | ‖∇‖ epoch {} |\n|---|---|---:|---:|---:|---:|\n",
            first.epoch, last.epoch, first.epoch, last.epoch
        );
        for (net, a, b) in [("G", &first.g, &last.g), ("D", &first.d, &last.d)] {
            for (x, y) in a.iter().zip(b) {
                s += &format!(
                    "| {net} | {} | {:.3} | {:.3} | {:.2e} | {:.2e} |\n",
                    x.layer, x.weight, y.weight, x.grad, y.grad
                );
            }
        }
        let vanished = vanishing_layers(&m.norms);
        s += &if vanished.is_empty() {
            "\nNo layer's gradient fell below 1/1000 of its peak: no vanishing gradients in this run.\n".to_string()
        } else {
            format!(
                "\n**Vanishing gradients** (last norm under 1/1000 of the peak): {}.\n",
                vanished.join(", ")
            )
        };
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(layer: &str, grad: f64) -> LayerNorm {
        LayerNorm { layer: layer.into(), weight: 1.0, grad }
    }

    #[test]
    fn metrics_json_has_the_documented_shape_and_vanishing_layers_are_flagged() {
        let e = |i: usize, g: f64| GanEpoch {
            epoch: i,
            d_loss: 0.6,
            g_loss: 0.8,
            d_real: 0.7,
            d_fake: 0.3,
            g_norms: vec![norm("layers.0", g)],
            d_norms: vec![norm("layers.0", 0.5)],
        };
        let m = GanMetrics::new(
            GanArch::Dense,
            10,
            20,
            &[e(1, 1.0), e(2, 1e-5)],
            vec![Quality { epoch: 2, fid: 3.5, score: 4.2 }],
        );
        let v: serde_json::Value = serde_json::to_value(&m).unwrap();
        assert_eq!(v["arch"], "dense");
        assert_eq!(v["g_params"], 10);
        assert_eq!(v["epochs"][1]["epoch"], 2);
        for k in ["d_loss", "g_loss", "d_real", "d_fake"] {
            assert!(v["epochs"][0][k].is_number(), "{k}");
        }
        assert_eq!(v["quality"][0]["fid"], 3.5);
        assert_eq!(v["quality"][0]["score"], 4.2);
        assert_eq!(vanishing_layers(&m.norms), vec!["G layers.0".to_string()]);
    }
}
