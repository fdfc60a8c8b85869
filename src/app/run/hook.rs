//! `use_run`: the hook that owns a job panel's worker and its lifecycle. A panel gives it the
//! job to post and a listener for what only it shows (charts, samples); the hook starts or
//! replaces the worker, routes every reply to the lifecycle first, refuses a reopen while a
//! run is going, and continues an interrupted run on the backend the user picks.

use std::cell::RefCell;
use std::rc::Rc;

use yew::prelude::*;

use crate::app::backend::BackendKind;
use crate::app::context::{UserSet, use_lab};
use crate::app::io::store;
use crate::app::run::lifecycle::{Lifecycle, RunAction, RunStatus};
use crate::app::worker::client::WorkerClient;
use crate::app::worker::protocol::{FromWorker, ToWorker, UserData};

/// A reply as panels receive it.
pub type Reply = Rc<Result<FromWorker, String>>;

/// A job panel's handle on its run: clones share the worker and the state.
#[derive(Clone)]
pub struct RunHandle {
    /// The lifecycle as of this render.
    pub state: UseReducerHandle<Lifecycle>,
    worker: Rc<RefCell<Option<WorkerClient>>>,
    listener: Rc<RefCell<Callback<Reply>>>,
    /// "a run", "a refinement", "a GAN run": what is refused while it goes.
    what: &'static str,
    /// The user's paired files as of the newest render: a reopened run that trained on them
    /// needs them again.
    user_set: Rc<RefCell<Option<Rc<UserSet>>>>,
}

impl PartialEq for RunHandle {
    fn eq(&self, other: &Self) -> bool {
        self.state == other.state && Rc::ptr_eq(&self.worker, &other.worker)
    }
}

/// The run of one panel. `noun` words its messages ("Training is paused…"), `what` its
/// refusals ("a refinement is going…"); `listener` gets every reply after the lifecycle has.
#[hook]
pub fn use_run(noun: &'static str, what: &'static str, listener: Callback<Reply>) -> RunHandle {
    let state = use_reducer(|| Lifecycle::new(noun));
    // The worker is created on the first job and kept: its WebGPU device can be made only once.
    // After a lost device or a crash it is replaced by a fresh one.
    let worker = use_mut_ref(|| None::<WorkerClient>);
    let slot = use_mut_ref(|| listener.clone());
    // The newest listener, so it sees this render's props.
    *slot.borrow_mut() = listener;
    let user_set = use_mut_ref(|| None::<Rc<UserSet>>);
    *user_set.borrow_mut() = use_lab().user_set;
    {
        // A panel that unmounts (the refinement panel, when the base model reloads) ends its
        // worker and any run in it; the run keeps its checkpoints.
        let worker = worker.clone();
        use_effect_with((), move |_| {
            move || {
                if let Some(w) = worker.borrow_mut().take() {
                    w.terminate();
                }
            }
        });
    }
    RunHandle { state, worker, listener: slot, what, user_set }
}

impl RunHandle {
    /// Where the job stands.
    pub fn status(&self) -> RunStatus {
        self.state.status
    }

    /// "alive", "ended" (terminated: after a lost device or a crash nothing more is heard from
    /// it) or "none" yet: the status line shows it, so a test can wait for it.
    pub fn worker_state(&self) -> &'static str {
        match &*self.worker.borrow() {
            None => "none",
            Some(w) if w.is_alive() => "alive",
            Some(_) => "ended",
        }
    }

    /// The live worker, or a new one (when `fresh`, or when the last one ended) whose replies go
    /// to this run.
    pub fn client(&self, fresh: bool) -> Result<WorkerClient, String> {
        if let Some(w) = self.worker.borrow().as_ref().filter(|w| !fresh && w.is_alive()) {
            return Ok(w.clone());
        }
        if let Some(old) = self.worker.borrow_mut().take() {
            old.terminate();
        }
        let client = WorkerClient::start()?;
        let (dispatcher, listener) = (self.state.dispatcher(), self.listener.clone());
        client.on_reply(move |msg| {
            if matches!(msg, Ok(FromWorker::RunSaved { .. }) | Ok(FromWorker::Halted { .. })) {
                store::announce_change();
            }
            let msg = Rc::new(msg);
            dispatcher.dispatch(RunAction::Reply(msg.clone()));
            let listener = listener.borrow().clone();
            listener.emit(msg);
        });
        *self.worker.borrow_mut() = Some(client.clone());
        Ok(client)
    }

    /// Posts a job (in a fresh worker when `fresh`): the last run's messages and progress go.
    pub fn start(&self, job: ToWorker, epochs: usize, fresh: bool) {
        match self.client(fresh) {
            Ok(w) => {
                self.state.dispatch(RunAction::Begin { epochs });
                w.post(job);
            }
            Err(e) => self.fail(e),
        }
    }

    /// Reopens a stored run from its last checkpoint in a fresh worker, with new learning rates
    /// if given; refused while a run is going.
    pub fn reopen(&self, id: String, backend: BackendKind, lr: Option<f64>, lr_d: Option<f64>) {
        if self.status().going() {
            // Asked to reopen the run already going (the guide's "resume", the run list): it
            // is on screen; paused, it resumes.
            if self.state.run_id.as_deref() == Some(id.as_str()) {
                if self.status() == RunStatus::Paused {
                    self.post(ToWorker::Resume);
                }
                return;
            }
            return self.fail(format!(
                "{} is going: stop it before reopening another (it keeps its checkpoints)",
                self.what
            ));
        }
        let data = self.user_set.borrow().as_deref().map(UserData::of);
        self.start(ToWorker::ResumeRun { id, backend, lr, lr_d, data }, 0, true);
    }

    /// Continues this (interrupted or diverged) run on `backend`.
    pub fn continue_on(&self, backend: BackendKind, lr: Option<f64>, lr_d: Option<f64>) {
        match self.state.run_id.clone() {
            Some(id) => self.reopen(id, backend, lr, lr_d),
            None => self.fail("this run has no saved checkpoint: start it again".into()),
        }
    }

    /// Sends a command to the worker (none yet: nothing to tell).
    pub fn post(&self, msg: ToWorker) {
        if let Some(w) = &*self.worker.borrow() {
            w.post(msg);
        }
    }

    /// Shows a message of the panel's own (a refused setting).
    pub fn fail(&self, msg: String) {
        self.state.dispatch(RunAction::Error(msg));
    }
}
