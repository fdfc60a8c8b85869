//! Exercise 1 over several seeds (#36): one seed's result swings (at 8× the output layer is rank
//! 1), so a report that compares recipes gives each number as mean ± standard deviation over
//! runs, each run's own final numbers, and the confusion matrices of the median run.

use serde::{Deserialize, Serialize};

use crate::lab::compress::ranks::{RankRule, join_ranks};
use crate::lab::compress::report::{CompressionMetrics, confusion_table, pct};
use crate::lab::core::error::{LabError, LabResult};
use crate::lab::data::DatasetKind;

/// The spread's figure (`seed_bands::seed_bands_svg`), beside seeds.md.
pub const SEED_BANDS_FILE: &str = "seeds-curves.svg";

/// Mean and sample standard deviation (n − 1; 0 for one value) of `n` values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub mean: f64,
    pub sd: f64,
    pub n: usize,
}

impl Spread {
    /// The spread of `values`; `None` when there are none.
    pub fn of(values: &[f64]) -> Option<Spread> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let var = if n > 1 {
            values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64
        } else {
            0.0
        };
        Some(Spread { mean, sd: var.sqrt(), n })
    }

    /// An accuracy as "97.78 ± 0.12 %".
    pub fn pct(&self) -> String {
        format!("{:.2} ± {:.2} %", self.mean * 100.0, self.sd * 100.0)
    }
}

/// One run of the whole exercise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedRun {
    pub seed: u64,
    pub metrics: CompressionMetrics,
}

/// One compression (a rank rule at a factor) over the runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompressedSpread {
    pub rule: RankRule,
    pub factor: f64,
    /// Each run's ranks (the budget rule's depend on the base model's spectrum).
    pub ranks: Vec<Vec<usize>>,
    /// Test accuracy straight after the SVD.
    pub before: Spread,
    /// Test accuracy after each refinement epoch.
    pub epochs: Vec<Spread>,
}

impl CompressedSpread {
    /// After the last refinement epoch (or straight after the SVD without refinement).
    pub fn after(&self) -> Spread {
        self.epochs.last().copied().unwrap_or(self.before)
    }
}

/// The exercise over its runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedSummary {
    pub seeds: Vec<u64>,
    /// The base model's test accuracy after each epoch.
    pub base_epochs: Vec<Spread>,
    pub compressed: Vec<CompressedSpread>,
    /// The run whose base model's final accuracy is the median (the lower of the two middle
    /// ones for an even count): its confusion matrices stand for the runs.
    pub median_seed: u64,
}

/// Test accuracies epoch by epoch, as spreads over runs that all have the same epochs.
fn per_epoch(curves: &[Vec<f64>], what: &str) -> LabResult<Vec<Spread>> {
    let len = curves.first().map_or(0, Vec::len);
    if curves.iter().any(|c| c.len() != len) {
        return Err(LabError::InvalidConfig(format!(
            "the runs' {what} have different epoch counts"
        )));
    }
    Ok((0..len)
        .filter_map(|e| Spread::of(&curves.iter().map(|c| c[e]).collect::<Vec<_>>()))
        .collect())
}

/// Summarises runs of the same exercise (the same compressions in the same order, the same
/// epochs); runs that differ are an error, not a silently shorter table.
pub fn summarize(runs: &[SeedRun]) -> LabResult<SeedSummary> {
    let first = runs.first().ok_or(LabError::InvalidConfig("no runs to summarise".into()))?;
    let acc = |e: &[crate::lab::classifier::metrics::EpochMetrics]| -> Vec<f64> {
        e.iter().map(|m| m.test_acc).collect()
    };
    let base: Vec<Vec<f64>> = runs.iter().map(|r| acc(&r.metrics.base.epochs)).collect();
    let mut compressed = Vec::new();
    for (i, c) in first.metrics.compressed.iter().enumerate() {
        let same: Vec<_> = runs
            .iter()
            .map(|r| {
                r.metrics.compressed.get(i).filter(|o| o.rule == c.rule && o.factor == c.factor)
            })
            .collect::<Option<_>>()
            .ok_or_else(|| {
                LabError::InvalidConfig(format!("the runs do not all compress {}", c.label()))
            })?;
        let before: Vec<f64> = same.iter().map(|o| o.test_acc_before_refine).collect();
        let curves: Vec<Vec<f64>> = same.iter().map(|o| acc(&o.epochs)).collect();
        compressed.push(CompressedSpread {
            rule: c.rule,
            factor: c.factor,
            ranks: same.iter().map(|o| o.ranks.clone()).collect(),
            before: Spread::of(&before).expect("at least one run"),
            epochs: per_epoch(&curves, &format!("{} refinements", c.label()))?,
        });
    }
    if runs.iter().any(|r| r.metrics.compressed.len() != compressed.len()) {
        return Err(LabError::InvalidConfig("the runs compress at different factors".into()));
    }
    let last = |r: &SeedRun| r.metrics.base.epochs.last().map_or(0.0, |e| e.test_acc);
    let mut order: Vec<&SeedRun> = runs.iter().collect();
    order.sort_by(|a, b| last(a).total_cmp(&last(b)).then(a.seed.cmp(&b.seed)));
    Ok(SeedSummary {
        seeds: runs.iter().map(|r| r.seed).collect(),
        base_epochs: per_epoch(&base, "base models")?,
        compressed,
        median_seed: order[(order.len() - 1) / 2].seed,
    })
}

/// The summary as Markdown: final numbers with their spread, each run's numbers, the curves'
/// spread epoch by epoch, and the median run's confusion matrices.
pub fn seeds_markdown(s: &SeedSummary, runs: &[SeedRun]) -> String {
    let n = s.seeds.len();
    let mut md = format!(
        "# Exercise 1 over {n} seeds\n\nEvery number below is the mean ± sample standard deviation over {n} runs of the whole exercise \
         (seeds {}), each trained from scratch; each run's own report is in `seed-<seed>/`.\n\n",
        s.seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
    );
    md += "## Final test accuracy\n\n| model | ranks | after the SVD | after refinement |\n|---|---|---:|---:|\n";
    if let Some(b) = s.base_epochs.last() {
        md += &format!("| base | full | — | {} |\n", b.pct());
    }
    for c in &s.compressed {
        let mut ranks: Vec<String> =
            c.ranks.iter().map(|r| format!("({})", join_ranks(r, ", "))).collect();
        ranks.dedup();
        md += &format!(
            "| {} | {} | {} | {} |\n",
            c.rule.factor_label(c.factor),
            ranks.join(" / "),
            c.before.pct(),
            c.after().pct()
        );
    }
    md += "\n## Each run\n\n| seed | base |";
    for c in &s.compressed {
        md += &format!(" {} |", c.rule.factor_label(c.factor));
    }
    md += &format!("\n|---:|---:|{}\n", "---:|".repeat(s.compressed.len()));
    for r in runs {
        let base = r.metrics.base.epochs.last().map_or(0.0, |e| e.test_acc);
        md += &format!("| {} | {} |", r.seed, pct(base));
        for c in &r.metrics.compressed {
            let after = c.epochs.last().map_or(c.test_acc_before_refine, |e| e.test_acc);
            md += &format!(" {} |", pct(after));
        }
        md += "\n";
    }
    md += &format!(
        "\n## Test accuracy epoch by epoch\n\n![test accuracy, mean ± sd over the {n} runs]({SEED_BANDS_FILE})\n\n| epoch | base |"
    );
    for c in &s.compressed {
        md += &format!(" {} |", c.rule.factor_label(c.factor));
    }
    md += &format!("\n|---:|---:|{}\n", "---:|".repeat(s.compressed.len()));
    let rows =
        s.base_epochs.len().max(s.compressed.iter().map(|c| c.epochs.len()).max().unwrap_or(0));
    for e in 0..rows {
        let cell = |v: Option<&Spread>| v.map_or("".to_string(), Spread::pct);
        md += &format!("| {} | {} |", e + 1, cell(s.base_epochs.get(e)));
        for c in &s.compressed {
            md += &format!(" {} |", cell(c.epochs.get(e)));
        }
        md += "\n";
    }
    if let Some(median) = runs.iter().find(|r| r.seed == s.median_seed) {
        md += &format!(
            "\n## The median run (seed {}): confusion matrices\n\nThe run whose base model's final accuracy is the median of the {n}.\n\n### Base model\n\n",
            median.seed
        );
        md += &confusion_table(&median.metrics.base.confusion, DatasetKind::Mnist);
        for c in &median.metrics.compressed {
            md += &format!("\n### {} after refinement\n\n", c.label());
            md += &confusion_table(&c.confusion, DatasetKind::Mnist);
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::classifier::metrics::{ConfusionMatrix, EpochMetrics};
    use crate::lab::compress::report::{BaseRun, CompressedRun};

    fn epochs(accs: &[f64]) -> Vec<EpochMetrics> {
        accs.iter()
            .enumerate()
            .map(|(i, &a)| EpochMetrics {
                epoch: i + 1,
                train_loss: 0.1,
                train_acc: a,
                test_loss: 0.2,
                test_acc: a,
            })
            .collect()
    }

    fn run(seed: u64, base: &[f64], before: f64, refine: &[f64]) -> SeedRun {
        let confusion = ConfusionMatrix([[seed as u32; 10]; 10]);
        let compressed = CompressedRun {
            factor: 8.0,
            ranks: vec![12, 6, 1],
            params: 11_728,
            test_acc_before_refine: before,
            epochs: epochs(refine),
            confusion,
            rule: RankRule::Seed,
        };
        SeedRun {
            seed,
            metrics: CompressionMetrics {
                base: BaseRun { params: 84_060, epochs: epochs(base), confusion },
                compressed: vec![compressed],
            },
        }
    }

    #[test]
    fn spreads_of_known_values() {
        let s = Spread::of(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!((s.mean, s.n), (2.5, 4));
        assert!((s.sd - (5.0f64 / 3.0).sqrt()).abs() < 1e-15, "sample sd: {}", s.sd);
        assert_eq!(Spread::of(&[0.7]).unwrap(), Spread { mean: 0.7, sd: 0.0, n: 1 });
        assert_eq!(Spread::of(&[]), None);
        assert_eq!(Spread { mean: 0.9778, sd: 0.0012, n: 5 }.pct(), "97.78 ± 0.12 %");
    }

    #[test]
    fn runs_summarise_epoch_by_epoch_with_the_median_run() {
        let runs = [
            run(42, &[0.90, 0.96], 0.60, &[0.70, 0.72]),
            run(43, &[0.91, 0.98], 0.64, &[0.74, 0.76]),
            run(44, &[0.92, 0.97], 0.68, &[0.72, 0.80]),
        ];
        let s = summarize(&runs).unwrap();
        assert_eq!(s.seeds, [42, 43, 44]);
        assert_eq!(s.base_epochs.len(), 2);
        assert!((s.base_epochs[1].mean - 0.97).abs() < 1e-12);
        assert!((s.base_epochs[1].sd - 0.01).abs() < 1e-12);
        let c = &s.compressed[0];
        assert!((c.before.mean - 0.64).abs() < 1e-12 && (c.before.sd - 0.04).abs() < 1e-12);
        assert!((c.after().mean - 0.76).abs() < 1e-12 && (c.after().sd - 0.04).abs() < 1e-12);
        assert_eq!(s.median_seed, 44, "base finals 0.96, 0.98, 0.97: the median is seed 44's");
        let md = seeds_markdown(&s, &runs);
        assert!(md.contains("| base | full | — | 97.00 ± 1.00 % |"), "{md}");
        assert!(md.contains("| 8× | (12, 6, 1) | 64.00 ± 4.00 % | 76.00 ± 4.00 % |"), "{md}");
        assert!(md.contains("| 43 | 98.00 % | 76.00 % |"), "{md}");
        assert!(md.contains("| 2 | 97.00 ± 1.00 % | 76.00 ± 4.00 % |"), "{md}");
        assert!(md.contains("The median run (seed 44)"), "{md}");
        assert!(md.contains("over the 3 runs](seeds-curves.svg)"), "{md}");
    }

    #[test]
    fn runs_that_differ_are_refused() {
        let a = run(1, &[0.9, 0.95], 0.6, &[0.7]);
        let short = run(2, &[0.9], 0.6, &[0.7]);
        assert!(summarize(&[a.clone(), short]).is_err(), "a base with fewer epochs");
        let mut other = run(3, &[0.9, 0.95], 0.6, &[0.7]);
        other.metrics.compressed[0].factor = 4.0;
        assert!(summarize(&[a.clone(), other]).is_err(), "another factor");
        assert!(summarize(&[]).is_err());
        assert_eq!(summarize(&[a]).unwrap().median_seed, 1);
    }
}
