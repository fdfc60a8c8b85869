//! The page's side of a training worker: starts it, queues commands until the worker says it
//! is ready (earlier messages would be lost), and routes typed replies and load errors.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{ErrorEvent, MessageEvent, Worker};

use crate::app::fetch::js_error;
use crate::app::protocol::{FromWorker, ToWorker, decode, encode};

type Handler = Box<dyn FnMut(Result<FromWorker, String>)>;

struct Inner {
    worker: Worker,
    ready: bool,
    outbox: Vec<ToWorker>,
    handler: Option<Handler>,
    terminated: bool,
}

/// A handle on one training worker; clones share it.
#[derive(Clone)]
pub struct WorkerClient(Rc<RefCell<Inner>>);

impl WorkerClient {
    /// Starts `worker_loader.js` (built by trunk from `src/bin/worker.rs`).
    pub fn start() -> Result<Self, String> {
        let worker = Worker::new("./worker_loader.js").map_err(|e| format!("could not start the training worker: {}", js_error(e)))?;
        let client = WorkerClient(Rc::new(RefCell::new(Inner { worker, ready: false, outbox: Vec::new(), handler: None, terminated: false })));
        let on_message = {
            let c = client.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| match decode::<FromWorker>(&e.data()) {
                Ok(FromWorker::Ready) => {
                    let mut inner = c.0.borrow_mut();
                    inner.ready = true;
                    for m in std::mem::take(&mut inner.outbox) {
                        let _ = inner.worker.post_message(&encode(&m));
                    }
                }
                msg => c.dispatch(msg.map_err(|e| format!("the worker sent {e}"))),
            })
        };
        let on_error = {
            let c = client.clone();
            Closure::<dyn FnMut(ErrorEvent)>::new(move |e: ErrorEvent| c.dispatch(Err(format!("the training worker failed: {}", e.message()))))
        };
        {
            let inner = client.0.borrow();
            inner.worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            inner.worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        }
        on_message.forget();
        on_error.forget();
        Ok(client)
    }

    fn dispatch(&self, msg: Result<FromWorker, String>) {
        // Take the handler out while it runs, so it may post or replace itself.
        if self.0.borrow().terminated {
            return;
        }
        let handler = self.0.borrow_mut().handler.take();
        if let Some(mut h) = handler {
            h(msg);
            let mut inner = self.0.borrow_mut();
            if inner.handler.is_none() && !inner.terminated {
                inner.handler = Some(h);
            }
        }
    }

    /// Where replies go from now on (a new run installs its own).
    pub fn on_reply(&self, handler: impl FnMut(Result<FromWorker, String>) + 'static) {
        self.0.borrow_mut().handler = Some(Box::new(handler));
    }

    /// Ends the worker at once (after a lost device or a crash it is unusable; a new one reopens
    /// the run from its checkpoint). Later replies are dropped.
    pub fn terminate(&self) {
        let mut inner = self.0.borrow_mut();
        inner.handler = None;
        inner.terminated = true;
        inner.outbox.clear();
        inner.worker.terminate();
    }

    /// Sends a command now, or once the worker is ready.
    pub fn post(&self, msg: ToWorker) {
        let mut inner = self.0.borrow_mut();
        if inner.ready {
            let _ = inner.worker.post_message(&encode(&msg));
        } else {
            inner.outbox.push(msg);
        }
    }
}
