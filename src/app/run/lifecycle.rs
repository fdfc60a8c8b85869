//! The states of a worker job and how the worker's replies move it between them — one reducer
//! for the classifier, the refinement and the GAN, so that pausing, stopping, a lost device, a
//! crash, a divergence and a failed save read the same in every panel.

use std::rc::Rc;

use yew::Reducible;

use crate::app::run::clock::{RunClock, duration};
use crate::app::worker::protocol::{FromWorker, StepCost};

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RunStatus {
    /// Nothing started yet.
    #[default]
    Idle,
    /// Posted to the worker, which is loading data or a checkpoint.
    Starting,
    /// Training.
    Running,
    /// Paused by the user.
    Paused,
    /// Finished every epoch.
    Done,
    /// Stopped by the user.
    Stopped,
    /// Failed; the message says why.
    Failed,
    /// The GPU was lost or the worker crashed: the run waits at its last checkpoint.
    Interrupted,
    /// Training diverged (NaN/Inf): the run waits at its last checkpoint.
    Halted,
}

impl RunStatus {
    /// The `data-status` the page shows (and the tests read).
    pub fn slug(self) -> &'static str {
        match self {
            RunStatus::Idle => "idle",
            RunStatus::Starting => "starting",
            RunStatus::Running => "running",
            RunStatus::Paused => "paused",
            RunStatus::Done => "done",
            RunStatus::Stopped => "stopped",
            RunStatus::Failed => "failed",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Halted => "halted",
        }
    }

    /// A run is going: the settings are locked and another start is refused.
    pub fn going(self) -> bool {
        matches!(self, RunStatus::Starting | RunStatus::Running | RunStatus::Paused)
    }

    /// The run waits at its last checkpoint to be continued (on the CPU or a new GPU device).
    pub fn waiting(self) -> bool {
        matches!(self, RunStatus::Interrupted | RunStatus::Halted)
    }
}

/// What every job shows: its state, messages, and progress.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Lifecycle {
    /// What the job is called in messages ("Training", "Refinement").
    pub noun: &'static str,
    /// Where the job stands.
    pub status: RunStatus,
    /// Why it failed or waits (validation, lost device, divergence, …).
    pub error: Option<String>,
    /// Something the user should know that does not stop the run (a failed save).
    pub warning: Option<String>,
    /// The run's id in the store, once saved or reopened.
    pub run_id: Option<String>,
    /// The backend the worker reported.
    pub backend: String,
    /// How the worker picked it, when it measured both.
    pub chosen: Option<String>,
    /// Epochs of the run.
    pub epochs: usize,
    /// Epochs finished (restored ones included).
    pub epochs_done: usize,
    /// The current epoch (1-based while training).
    pub epoch: usize,
    /// Batches done in the current epoch.
    pub batch: usize,
    /// Batches per epoch.
    pub batches: usize,
    /// The last loss the worker reported (classifier jobs).
    pub loss: f64,
    /// Milliseconds per training step, as the worker measured them.
    pub ms_per_batch: f64,
    /// What a step costs: warm-up and steady-state time, and its WebGPU work.
    pub cost: StepCost,
    /// While paused: polls the worker's loop has spent at the pause gate (`None`: not there).
    pub held_polls: Option<u32>,
    /// Time spent running, for the elapsed time and the estimate of the time left.
    pub clock: RunClock,
}

/// What moves a job's state.
#[derive(Debug, Clone)]
pub enum RunAction {
    /// A job was posted to the worker: a new run, or a stored one reopened.
    Begin {
        /// Epochs of the run (0 when reopened: the restored record says).
        epochs: usize,
    },
    /// A reply from the worker (or a failure to hear from it).
    Reply(Rc<Result<FromWorker, String>>),
    /// A message from the panel itself (a setting refused, a reopen refused).
    Error(String),
}

impl Lifecycle {
    /// A fresh job's state.
    pub fn new(noun: &'static str) -> Self {
        Lifecycle { noun, ..Default::default() }
    }

    /// Fraction of the current epoch done, in [0, 1].
    pub fn epoch_fraction(&self) -> f64 {
        if self.batches > 0 { (self.batch as f64 / self.batches as f64).min(1.0) } else { 0.0 }
    }

    /// Fraction of the run done, in [0, 1].
    pub fn run_fraction(&self) -> f64 {
        if self.epochs == 0 {
            return 0.0;
        }
        // A reopened run starts at its last saved epoch, before the worker says how many batches
        // an epoch has: the epochs it restored count in full.
        let within = (self.epoch.max(1) - 1) as f64 + self.epoch_fraction();
        (within.max(self.epochs_done as f64) / self.epochs as f64).min(1.0)
    }

    /// Training steps of the run done (epochs restored from a checkpoint count in full).
    pub fn steps_done(&self) -> usize {
        let within = (self.epoch.max(1) - 1) * self.batches + self.batch.min(self.batches);
        within.max(self.epochs_done * self.batches)
    }

    /// Training steps of the run still to do.
    pub fn steps_left(&self) -> usize {
        (self.epochs * self.batches).saturating_sub(self.steps_done())
    }

    /// Moves the run's clock to `now` (ms): call after each change of state.
    pub fn tick(&mut self, now: f64) {
        let (running, steps) = (self.status == RunStatus::Running, self.steps_done());
        self.clock.tick(now, running, steps);
    }

    /// Elapsed time and time left, in words, at `now`; `None` before a run starts.
    pub fn eta_text(&self, now: f64) -> Option<String> {
        let elapsed = duration(self.clock.elapsed_ms(now));
        let left = || {
            self.clock
                .left_ms(now, self.steps_done(), self.steps_left(), self.ms_per_batch)
                .map(duration)
        };
        let ran = self.clock.elapsed_ms(now) > 0.0;
        Some(match self.status {
            RunStatus::Idle => return None,
            RunStatus::Starting => "starting…".to_string(),
            RunStatus::Running => match left() {
                Some(l) => format!("{elapsed} elapsed · about {l} left"),
                None => format!("{elapsed} elapsed · time left: measuring…"),
            },
            RunStatus::Done if ran && self.clock.timed() => format!("took {elapsed}"),
            RunStatus::Done => "finished".to_string(),
            _ => match (ran, left()) {
                (true, Some(l)) => format!("{elapsed} elapsed · about {l} more to finish"),
                (true, None) => format!("{elapsed} elapsed"),
                (false, Some(l)) => format!("about {l} to finish"),
                (false, None) => "not timed yet".to_string(),
            },
        })
    }

    /// The status line for every state but `Running` and `Done`, which the panel words itself.
    pub fn describe(&self, running: String, done: String) -> String {
        let n = self.epochs_done;
        match self.status {
            RunStatus::Idle => "ready".to_string(),
            RunStatus::Starting => "starting: loading the data…".to_string(),
            RunStatus::Running => running,
            RunStatus::Paused => {
                let of = if self.epochs > 0 { format!("/{}", self.epochs) } else { String::new() };
                format!("paused at epoch {}{of}, batch {}/{}", self.epoch, self.batch, self.batches)
            }
            RunStatus::Done => done,
            RunStatus::Stopped => format!("stopped after {n} full epoch(s)"),
            RunStatus::Failed => "failed".to_string(),
            RunStatus::Interrupted => {
                format!("interrupted after {n} full epoch(s): waiting to continue")
            }
            RunStatus::Halted => {
                format!("diverged: paused at the last good checkpoint (epoch {n})")
            }
        }
    }

    /// Applies one reply of the worker: the job's state, messages and progress. What a panel
    /// shows beyond that (charts, samples) it takes from the same reply itself.
    pub fn apply(&mut self, msg: &Result<FromWorker, String>) {
        match msg {
            Ok(FromWorker::RunRestored(record)) => {
                self.run_id = Some(record.id.clone());
                self.epochs = record.spec.epochs();
                self.epochs_done = record.epochs_done;
                self.epoch = record.epochs_done;
                self.clock = RunClock::restored(record.train_ms);
            }
            Ok(FromWorker::Started { backend, batches_per_epoch, chosen })
            | Ok(FromWorker::GanStarted { backend, batches_per_epoch, chosen }) => {
                self.backend = backend.clone();
                self.chosen = chosen.clone();
                self.batches = *batches_per_epoch;
                self.status = RunStatus::Running;
            }
            Ok(FromWorker::Progress { epoch, batch, loss, ms_per_batch, cost }) => {
                (self.epoch, self.batch, self.loss, self.ms_per_batch) =
                    (*epoch, *batch, *loss, *ms_per_batch);
                self.cost = *cost;
            }
            Ok(FromWorker::GanProgress { chunk, ms_per_batch, cost }) => {
                self.cost = *cost;
                (self.epoch, self.batch, self.batches) =
                    (chunk.epoch, chunk.batch_in_epoch, chunk.batches_per_epoch);
                self.ms_per_batch = *ms_per_batch;
                if chunk.finished_epoch.is_some() {
                    self.epochs_done += 1;
                }
            }
            Ok(FromWorker::Epoch { .. }) => self.epochs_done += 1,
            Ok(FromWorker::RunSaved { id, .. }) => self.run_id = Some(id.clone()),
            Ok(FromWorker::SaveFailed(msg)) => self.warning = Some(msg.clone()),
            Ok(FromWorker::Paused) => self.status = RunStatus::Paused,
            Ok(FromWorker::Held { polls }) => self.held_polls = Some(*polls),
            Ok(FromWorker::Resumed) => {
                self.status = RunStatus::Running;
                self.held_polls = None;
            }
            Ok(FromWorker::Stopped) => self.status = RunStatus::Stopped,
            Ok(FromWorker::Done { .. }) | Ok(FromWorker::Refined(_)) | Ok(FromWorker::GanDone) => {
                self.status = RunStatus::Done
            }
            Ok(FromWorker::Halted { message, .. }) => {
                self.error = Some(message.clone());
                self.status = RunStatus::Halted;
            }
            // The worker has ended (see `WorkerClient::dispatch`): the next start or continue
            // gets a fresh one.
            Ok(FromWorker::DeviceLost(msg)) | Ok(FromWorker::Crashed(msg)) => {
                self.error = Some(format!(
                    "{msg}. {} is paused and its history kept; continue from the last checkpoint (epoch {}) below.",
                    self.noun, self.epochs_done
                ));
                self.status = RunStatus::Interrupted;
            }
            // Nothing to pause: the page drops the dead worker and says where the next run goes.
            Ok(FromWorker::DeviceLostIdle(msg)) => {
                self.warning = Some(format!(
                    "{msg} while no run was going: the next run starts on a new GPU device (or pick the CPU in the banner)"
                ));
            }
            // A failure outside a run (the GAN worker's canvas, say) leaves the state alone.
            Ok(FromWorker::Failed(e)) | Err(e) => {
                if self.status.going() {
                    self.status = RunStatus::Failed;
                }
                self.error = Some(e.clone());
            }
            Ok(_) => {}
        }
    }
}

impl Reducible for Lifecycle {
    type Action = RunAction;

    fn reduce(self: Rc<Self>, action: RunAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            RunAction::Begin { epochs } => {
                next =
                    Lifecycle { status: RunStatus::Starting, epochs, ..Lifecycle::new(self.noun) };
            }
            RunAction::Reply(msg) => {
                next.apply(&msg);
                next.tick(crate::app::env::now_ms());
            }
            RunAction::Error(e) => next.error = Some(e),
        }
        Rc::new(next)
    }
}
