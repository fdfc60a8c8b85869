//! The seed's assignment as steps: which stored runs complete each one, how far a started one
//! got, and how long what is left will take on this device (the milliseconds per step the
//! worker measured in the newest run of the same kind × the steps left). Pure functions of the
//! stored records, so the checklist is the same after a reload, and testable without a page.

use crate::app::worker::protocol::{RunRecord, RunSpec};
use crate::lab::compress::ranks::RankRule;
use crate::lab::gan::{GanArch, GanConfig};

/// The seed's classifier: 100 epochs at batch 128.
pub const TRAIN_EPOCHS: usize = 100;
/// The seed's refinement: 10 epochs per factor.
pub const REFINE_EPOCHS: usize = 10;
/// The seed's batch size, for the classifier and its refinements.
pub const BATCH: usize = 128;
/// The seed's compression factors.
pub const FACTORS: [f64; 3] = [2.0, 4.0, 8.0];
/// Training images in MNIST and Fashion-MNIST.
const TRAIN_IMAGES: usize = 60_000;

/// One step of the assignment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step {
    /// Exercise 1: train the 784-100-50-10 classifier.
    Train,
    /// Exercise 1: refine the rank-k factorization at a factor.
    Refine(f64),
    /// Exercise 2: train a GAN.
    Gan(GanArch),
}

/// Where a step stands, from the stored runs.
#[derive(Debug, Clone, PartialEq)]
pub enum StepState {
    /// A run with the assignment's settings finished (its id).
    Done(String),
    /// One started and saved `done` of `of` epochs (its id: the next step resumes it).
    Partial { id: String, done: usize, of: usize },
    /// None yet.
    Todo,
}

impl StepState {
    /// `data-status` of the step: `done`, `partial` or `todo`.
    pub fn slug(&self) -> &'static str {
        match self {
            StepState::Done(_) => "done",
            StepState::Partial { .. } => "partial",
            StepState::Todo => "todo",
        }
    }
}

impl Step {
    /// Exercise 1's steps, in order.
    pub fn exercise1() -> Vec<Step> {
        std::iter::once(Step::Train).chain(FACTORS.map(Step::Refine)).collect()
    }

    /// Exercise 2's steps, in order.
    pub fn exercise2() -> Vec<Step> {
        vec![Step::Gan(GanArch::Dense), Step::Gan(GanArch::Cnn)]
    }

    /// What the step is, in words.
    pub fn title(self) -> String {
        match self {
            Step::Train => "Train the classifier".into(),
            Step::Refine(f) => format!("Compress {f}× by SVD (k = int(n/{f})) and refine"),
            Step::Gan(GanArch::Dense) => "Train the dense GAN".into(),
            Step::Gan(GanArch::Cnn) => "Train the CNN GAN (DCGAN-style)".into(),
        }
    }

    /// A stable name for tests and links (`train`, `refine-2`, `gan-dense`).
    pub fn slug(self) -> String {
        match self {
            Step::Train => "train".into(),
            Step::Refine(f) => format!("refine-{f}"),
            Step::Gan(a) => format!("gan-{}", a.slug()),
        }
    }

    /// Epochs the assignment asks for.
    pub fn epochs(self) -> usize {
        match self {
            Step::Train => TRAIN_EPOCHS,
            Step::Refine(_) => REFINE_EPOCHS,
            Step::Gan(_) => GanConfig::default().epochs,
        }
    }

    /// The panel that runs it (as the run list names panels).
    pub fn panel(self) -> &'static str {
        match self {
            Step::Train => "train",
            Step::Refine(_) => "refine",
            Step::Gan(_) => "gan",
        }
    }

    /// The assignment's settings, in words.
    pub fn settings(self) -> String {
        let g = GanConfig::default();
        match self {
            Step::Train => format!("{TRAIN_EPOCHS} epochs, batch {BATCH}, Adam lr 0.001"),
            Step::Refine(_) => format!("{REFINE_EPOCHS} epochs, batch {BATCH}"),
            Step::Gan(_) => format!(
                "{} epochs, batch {}, Adam lr {} (β₁ {}), samples at epochs 1, 10, 20, …",
                g.epochs, g.batch_size, g.lr_g, g.beta1
            ),
        }
    }

    /// Training steps of the whole step on `subset` images (all of them when `None`). The
    /// classifier keeps a last partial batch; the GAN drops it.
    pub fn steps(self, subset: Option<usize>) -> usize {
        let n = subset.unwrap_or(TRAIN_IMAGES).min(TRAIN_IMAGES);
        match self {
            Step::Train | Step::Refine(_) => self.epochs() * n.div_ceil(BATCH),
            Step::Gan(_) => self.epochs() * (n / GanConfig::default().batch_size).max(1),
        }
    }

    /// True when a stored run is this step with the assignment's settings, on MNIST or
    /// Fashion-MNIST (`subset` images when the page says so).
    pub fn matches(self, r: &RunRecord, subset: Option<usize>) -> bool {
        match (&r.spec, self) {
            (RunSpec::Classifier { config, subset: s, data: None }, Step::Train) => {
                config.epochs == TRAIN_EPOCHS && config.batch_size == BATCH && *s == subset
            }
            (
                RunSpec::Refine { factor, config, subset: s, data: None, rule, .. },
                Step::Refine(f),
            ) => {
                *factor == f
                    && config.epochs == REFINE_EPOCHS
                    && *rule == Some(RankRule::Seed)
                    && *s == subset
            }
            (RunSpec::Gan { config, subset: s }, Step::Gan(arch)) => {
                let d = GanConfig::default();
                config.arch == arch
                    && config.epochs == d.epochs
                    && config.batch_size == d.batch_size
                    && *s == subset
            }
            _ => false,
        }
    }

    /// Where the step stands: done when a matching run finished, partial when one started
    /// (the newest), to do otherwise.
    pub fn state(self, records: &[RunRecord], subset: Option<usize>) -> StepState {
        let mut matching: Vec<&RunRecord> =
            records.iter().filter(|r| self.matches(r, subset)).collect();
        matching.sort_by(|a, b| b.updated_ms.total_cmp(&a.updated_ms));
        if let Some(r) = matching.iter().find(|r| r.finished) {
            return StepState::Done(r.id.clone());
        }
        match matching.first() {
            Some(r) => {
                StepState::Partial { id: r.id.clone(), done: r.epochs_done, of: r.spec.epochs() }
            }
            None => StepState::Todo,
        }
    }

    /// Milliseconds per step of this kind of job on this device: from the newest stored run of
    /// the same kind (a GAN: the same architecture) that measured it.
    pub fn ms_per_step(self, records: &[RunRecord]) -> Option<f64> {
        let same_kind = |r: &&RunRecord| match (&r.spec, self) {
            (RunSpec::Classifier { .. }, Step::Train) => true,
            (RunSpec::Refine { .. }, Step::Refine(_)) => true,
            (RunSpec::Gan { config, .. }, Step::Gan(a)) => config.arch == a,
            _ => false,
        };
        records
            .iter()
            .filter(same_kind)
            .filter(|r| r.ms_per_step.is_some_and(|m| m.is_finite() && m > 0.0))
            .max_by(|a, b| a.updated_ms.total_cmp(&b.updated_ms))
            .and_then(|r| r.ms_per_step)
    }

    /// Milliseconds the step still needs on this device, when a run of its kind was measured.
    pub fn time_left_ms(self, records: &[RunRecord], subset: Option<usize>) -> Option<f64> {
        let left = match self.state(records, subset) {
            StepState::Done(_) => return Some(0.0),
            StepState::Partial { done, of, .. } if of > 0 => {
                self.steps(subset) as f64 * (of.saturating_sub(done)) as f64 / of as f64
            }
            _ => self.steps(subset) as f64,
        };
        Some(self.ms_per_step(records)? * left)
    }
}

/// The first step not done, and what its button does.
pub fn next_step(
    steps: &[Step],
    records: &[RunRecord],
    subset: Option<usize>,
) -> Option<(Step, StepState)> {
    steps
        .iter()
        .map(|&s| (s, s.state(records, subset)))
        .find(|(_, st)| !matches!(st, StepState::Done(_)))
}
