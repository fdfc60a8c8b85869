//! A job's elapsed time and time left: wall-clock time while it runs (pauses excluded), and the
//! steps it took, so the estimate includes what a step's own timing leaves out (evaluation,
//! checkpoints, the page's and the worker's messages).

/// Steps the run's own pace needs before it is trusted over the worker's per-step measure.
pub const PACE_STEPS: usize = 20;

/// The running time and the steps done in it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RunClock {
    /// When the current running stretch began (ms, `performance.now()`), and the run's steps
    /// done then; `None` while not running.
    since: Option<(f64, usize)>,
    /// Time and steps of the finished running stretches.
    banked_ms: f64,
    banked_steps: usize,
    /// Training time of a reopened run's earlier sessions, from its record: part of the elapsed
    /// time, not of the pace (its steps ran on another page, perhaps another backend).
    prior_ms: f64,
    /// A reopened run whose record predates the stored training time: its total is unknown.
    untimed: bool,
}

impl RunClock {
    /// The clock of a reopened run: `prior_ms` of training in earlier sessions (`None`: the
    /// record does not say).
    pub fn restored(prior_ms: Option<f64>) -> Self {
        let prior = prior_ms.filter(|ms| ms.is_finite() && *ms >= 0.0);
        RunClock { prior_ms: prior.unwrap_or(0.0), untimed: prior.is_none(), ..Default::default() }
    }

    /// The total time is known: a run started here, or one whose record stored its time.
    pub fn timed(&self) -> bool {
        !self.untimed
    }

    /// Moves the clock to `now`: a running stretch starts when the job starts running and ends
    /// when it stops running (paused, stopped, done, failed). `steps` is the run's steps done.
    pub fn tick(&mut self, now: f64, running: bool, steps: usize) {
        match (self.since, running) {
            (None, true) => self.since = Some((now, steps)),
            (Some((t0, s0)), false) => {
                self.banked_ms += (now - t0).max(0.0);
                self.banked_steps += steps.saturating_sub(s0);
                self.since = None;
            }
            _ => {}
        }
    }

    /// Milliseconds spent running, up to `now`, earlier sessions included.
    pub fn elapsed_ms(&self, now: f64) -> f64 {
        self.prior_ms + self.session_ms(now)
    }

    /// Milliseconds spent running in this page, up to `now`.
    fn session_ms(&self, now: f64) -> f64 {
        self.banked_ms + self.since.map_or(0.0, |(t0, _)| (now - t0).max(0.0))
    }

    /// Milliseconds left for `left` more steps at the pace measured so far (`steps` done now).
    /// Until [`PACE_STEPS`] steps are timed the pace still carries the start (data loading,
    /// kernel compilation) and would overstate what is left many times: the worker's own
    /// `ms_per_step` stands in then, when it has one.
    pub fn left_ms(&self, now: f64, steps: usize, left: usize, ms_per_step: f64) -> Option<f64> {
        let timed = self.banked_steps + self.since.map_or(0, |(_, s0)| steps.saturating_sub(s0));
        let elapsed = self.session_ms(now);
        let pace = (timed > 0 && elapsed > 0.0).then(|| elapsed / timed as f64);
        match pace {
            Some(p) if timed >= PACE_STEPS || ms_per_step <= 0.0 => Some(p * left as f64),
            _ if ms_per_step > 0.0 => Some(ms_per_step * left as f64),
            _ => None,
        }
    }
}

/// A duration in words a progress bar can carry: "< 1 s", "42 s", "3 min 05 s", "1 h 02 min".
pub fn duration(ms: f64) -> String {
    if ms < 500.0 {
        return "< 1 s".into();
    }
    let s = (ms / 1000.0).round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
    }
}
