//! The page's side of a training worker: starts it, queues commands until the worker says it
//! is ready (earlier messages would be lost), and routes typed replies and load errors.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{ErrorEvent, MessageEvent, Worker};

use crate::app::io::fetch::js_error;
use crate::app::worker::protocol::{FromWorker, ToWorker, decode, encode};

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
    /// Starts a training worker: `worker-boot.js` as a module worker, running the workers' wasm
    /// module (downloaded once, on the first worker), entered through `worker_entry` in
    /// `src/worker.rs`.
    pub fn start() -> Result<Self, String> {
        let worker = spawn_worker()
            .map_err(|e| format!("could not start the training worker: {}", js_error(e)))?;
        let client = WorkerClient(Rc::new(RefCell::new(Inner {
            worker,
            ready: false,
            outbox: Vec::new(),
            handler: None,
            terminated: false,
        })));
        let on_message = {
            let c = client.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
                match decode::<FromWorker>(&e.data()) {
                    Ok(FromWorker::Ready) => {
                        let mut inner = c.0.borrow_mut();
                        inner.ready = true;
                        for m in std::mem::take(&mut inner.outbox) {
                            let _ = inner.worker.post_message(&encode(&m));
                        }
                    }
                    msg => c.dispatch(msg.map_err(|e| format!("the worker sent {e}"))),
                }
            })
        };
        let on_error = {
            let c = client.clone();
            Closure::<dyn FnMut(ErrorEvent)>::new(move |e: ErrorEvent| {
                // Before `Ready` the worker's module did not load (offline, or an old deploy's
                // file gone): it will never listen, so it ends here and the next job starts a
                // fresh one instead of queueing behind it forever.
                let loaded = c.0.borrow().ready;
                c.dispatch(Err(format!("the training worker failed: {}", e.message())));
                if !loaded {
                    c.terminate();
                }
            })
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

    /// The worker in `slot` while it is alive (and `fresh` is false), else a new one put there.
    pub fn ensure(
        slot: &RefCell<Option<WorkerClient>>,
        fresh: bool,
    ) -> Result<WorkerClient, String> {
        if let Some(w) = slot.borrow().as_ref().filter(|w| !fresh && w.is_alive()) {
            return Ok(w.clone());
        }
        if let Some(old) = slot.borrow_mut().take() {
            old.terminate();
        }
        let w = WorkerClient::start()?;
        *slot.borrow_mut() = Some(w.clone());
        Ok(w)
    }

    /// False once the worker has ended: terminated, or unusable after a lost device or a crash.
    pub fn is_alive(&self) -> bool {
        !self.0.borrow().terminated
    }

    fn dispatch(&self, msg: Result<FromWorker, String>) {
        // Take the handler out while it runs, so it may post or replace itself.
        if self.0.borrow().terminated {
            return;
        }
        // A lost GPU device or a panic leaves the worker unusable: the page hears that, and then
        // nothing more from it (its stopping loop's last words would only confuse the panel).
        let fatal = matches!(
            msg,
            Ok(FromWorker::DeviceLost(_))
                | Ok(FromWorker::DeviceLostIdle(_))
                | Ok(FromWorker::Crashed(_))
        );
        let handler = self.0.borrow_mut().handler.take();
        if let Some(mut h) = handler {
            h(msg);
            let mut inner = self.0.borrow_mut();
            if inner.handler.is_none() && !inner.terminated {
                inner.handler = Some(h);
            }
        }
        if fatal {
            self.terminate();
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

/// The workers' module's glue URL and its wasm's (#18): a module of its own, with the WebGPU
/// stack that the page's module leaves out. `scripts/hash-worker.py` names it
/// `mnist-lab-worker-<hash>` and writes that stem into the page's
/// `<meta name="mnist-lab-worker">`; wasm-bindgen names the pair `<stem>.js` and `<stem>_bg.wasm`.
fn module_urls() -> Result<(String, String), JsValue> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from_str("workers are started from the page"))?;
    let stem = document
        .query_selector("meta[name=mnist-lab-worker]")?
        .and_then(|m| m.get_attribute("content"))
        .ok_or_else(|| {
            JsValue::from_str("the page does not name the workers' module (a build without scripts/hash-worker.py)")
        })?;
    let base = document.base_uri()?.unwrap_or_default();
    let absolute = |rel: String| web_sys::Url::new_with_base(&rel, &base).map(|u| u.href());
    Ok((absolute(format!("{stem}.js"))?, absolute(format!("{stem}_bg.wasm"))?))
}

fn spawn_worker() -> Result<Worker, JsValue> {
    let (js, wasm) = module_urls()?;
    let url = format!(
        "./worker-boot.js?js={}&wasm={}",
        js_sys::encode_uri_component(&js),
        js_sys::encode_uri_component(&wasm)
    );
    let options = web_sys::WorkerOptions::new();
    options.set_type(web_sys::WorkerType::Module);
    Worker::new_with_options(&url, &options)
}
