//! Run records and checkpoints in IndexedDB: creating, saving and annotating a run's record.
//! Shared by both jobs, so it sits below them and calls none of them.

use std::cell::RefCell;
use std::rc::Rc;

use crate::app::backend::BackendKind;
use crate::app::io::store;
use crate::app::worker::control::{Control, send};
use crate::app::worker::protocol::{FromWorker, RunRecord, RunSpec};
use crate::app::worker::record::RUN_SCHEMA;
use crate::lab::core::checkpoint::Checkpoint;
use crate::lab::core::error::LabError;

/// A new run's record: its id is its kind and start time.
pub(crate) fn new_record(spec: RunSpec, backend: BackendKind) -> RunRecord {
    let now = js_sys::Date::now();
    RunRecord {
        schema: RUN_SCHEMA,
        id: format!("{}-{}", spec.panel(), now as u64),
        spec,
        backend,
        created_ms: now,
        updated_ms: now,
        epochs_done: 0,
        finished: false,
        history: Vec::new(),
        gan_history: Vec::new(),
        snapshots: Vec::new(),
        note: None,
        confusion: None,
        judge: None,
        ms_per_step: None,
        train_ms: Some(0.0),
    }
}

/// Adds a run's training time to its record as it goes: the loops call [`TrainClock::bank`]
/// before each save and at the end of each chunk, and restart it after a pause.
pub(crate) struct TrainClock(f64);

impl TrainClock {
    /// Starts timing now.
    pub(crate) fn start() -> Self {
        TrainClock(crate::app::env::now_ms())
    }

    /// Adds the time since the last call (or the start) to the record's training time; an
    /// older record's unknown total stays unknown rather than counting only this session.
    pub(crate) fn bank(&mut self, record: &mut RunRecord) {
        let now = crate::app::env::now_ms();
        if let Some(t) = &mut record.train_ms {
            *t += (now - self.0).max(0.0);
        }
        self.0 = now;
    }
}

/// Saves the record (and checkpoint) and tells the page; a failed save is a warning, not a stop.
pub(crate) async fn persist(record: &mut RunRecord, checkpoint: Option<Vec<u8>>) -> bool {
    record.updated_ms = js_sys::Date::now();
    match store::save(record, checkpoint.as_deref()).await {
        Ok(()) => {
            send(FromWorker::RunSaved { id: record.id.clone(), epoch: record.epochs_done });
            true
        }
        Err(e) => {
            send(FromWorker::SaveFailed(format!(
                "the checkpoint of epoch {} was not saved: {e}",
                record.epochs_done
            )));
            false
        }
    }
}

/// Saves the checkpoint of `epoch`. The record says `epoch` (and `finished`) only once the save
/// succeeded: a later save without a checkpoint (a stop, a halt) must not claim epochs that a
/// resume would not give back. Nothing is saved once the GPU device is lost (its numbers are
/// not to be trusted).
pub(crate) async fn persist_epoch(
    record: &mut RunRecord,
    control: &Rc<RefCell<Control>>,
    epoch: usize,
    finished: bool,
    checkpoint: Checkpoint,
) {
    if control.borrow().lost.is_some() {
        return;
    }
    let (prev_epochs, prev_finished) = (record.epochs_done, record.finished);
    (record.epochs_done, record.finished) = (epoch, finished);
    if !persist(record, Some(checkpoint.to_bytes())).await {
        (record.epochs_done, record.finished) = (prev_epochs, prev_finished);
    }
}

/// A chunk's result, or — when the test hook asked for it — the NaN error a too-high learning
/// rate would give, so the automatic pause can be tested.
pub(crate) fn diverge_if_asked<T>(
    control: &Rc<RefCell<Control>>,
    result: crate::lab::core::error::LabResult<T>,
    what: &'static str,
    epoch: impl Fn(&T) -> usize,
) -> crate::lab::core::error::LabResult<T> {
    if std::mem::take(&mut control.borrow_mut().diverge) {
        result.and_then(|r| Err(LabError::NonFinite { what, value: f32::NAN, epoch: epoch(&r) }))
    } else {
        result
    }
}

/// Marks a run as diverged (kept at its last checkpoint); the message for the page.
pub(crate) async fn halt(record: &mut RunRecord, e: LabError) -> String {
    let msg = format!(
        "{e}. Paused at the last good checkpoint (epoch {}): lower the learning rate and resume.",
        record.epochs_done
    );
    record.note = Some(msg.clone());
    persist(record, None).await;
    msg
}

/// Notes why a run stopped (asked to, or its GPU device was lost) and saves the record.
pub(crate) async fn note_stop(record: &mut RunRecord, control: &Rc<RefCell<Control>>) {
    record.note = Some(control.borrow().lost.clone().unwrap_or_else(|| "stopped".into()));
    persist(record, None).await;
}
