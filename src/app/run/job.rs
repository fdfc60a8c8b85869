//! `use_worker_job`: a one-off job in a worker of its own (the smoke train, the backends'
//! timing). What the Diagnostics view's two jobs share: the worker is started on demand, every
//! reply goes through the component's `apply` to the state shown, and the worker ends when the
//! job finishes, is stopped, or the component unmounts (it holds a device and its data).

use std::cell::RefCell;
use std::rc::Rc;

use yew::prelude::*;

use crate::app::worker::client::WorkerClient;
use crate::app::worker::protocol::{FromWorker, ToWorker};

/// What a reply does to the state (`None`: not this job's); the job has finished when `done`.
pub type Apply<S> = fn(&S, Result<FromWorker, String>) -> Option<S>;

/// A one-off worker job and the state it shows.
pub struct WorkerJob<S: 'static> {
    /// The state shown (re-renders the component).
    pub state: UseStateHandle<S>,
    /// The latest state, for replies that arrive between renders.
    latest: Rc<RefCell<S>>,
    worker: Rc<RefCell<Option<WorkerClient>>>,
    apply: Apply<S>,
    done: fn(&S) -> bool,
}

impl<S> Clone for WorkerJob<S> {
    fn clone(&self) -> Self {
        Self {
            state: self.state.clone(),
            latest: self.latest.clone(),
            worker: self.worker.clone(),
            apply: self.apply,
            done: self.done,
        }
    }
}

impl<S: Clone + 'static> WorkerJob<S> {
    fn set(&self, s: S) {
        *self.latest.borrow_mut() = s.clone();
        self.state.set(s);
    }

    fn end_worker(&self) {
        if let Some(w) = self.worker.borrow_mut().take() {
            w.terminate()
        }
    }

    /// Shows `initial` and posts `job` to the job's worker (started if needed).
    pub fn start(&self, initial: S, job: ToWorker) {
        let client = match WorkerClient::ensure(&self.worker, false) {
            Ok(c) => c,
            Err(e) => return self.set((self.apply)(&initial, Err(e)).unwrap_or(initial)),
        };
        self.set(initial);
        let me = self.clone();
        client.on_reply(move |reply| {
            let next = (me.apply)(&me.latest.borrow(), reply);
            if let Some(next) = next {
                let done = (me.done)(&next);
                me.set(next);
                if done {
                    me.end_worker();
                }
            }
        });
        client.post(job);
    }

    /// Ends the worker at once (it may still be downloading its data) and shows the job as
    /// stopped.
    pub fn stop(&self) {
        self.end_worker();
        let stopped = (self.apply)(&self.latest.borrow(), Ok(FromWorker::Stopped));
        if let Some(s) = stopped {
            self.set(s);
        }
    }
}

/// A one-off worker job whose state starts at `S::default()`.
#[hook]
pub fn use_worker_job<S: Clone + PartialEq + Default + 'static>(
    apply: Apply<S>,
    done: fn(&S) -> bool,
) -> WorkerJob<S> {
    let state = use_state(S::default);
    let latest = use_mut_ref(S::default);
    let worker = use_mut_ref(|| None::<WorkerClient>);
    {
        let worker = worker.clone();
        use_effect_with((), move |_| {
            move || {
                if let Some(w) = worker.borrow_mut().take() {
                    w.terminate()
                }
            }
        });
    }
    WorkerJob { state, latest, worker, apply, done }
}
