//! What every job of the worker shares: the pause/stop `Control` and its gate, the reply
//! channel and the cached data sets. Its own file so the job files and `mod.rs` import it one way.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use web_sys::DedicatedWorkerGlobalScope;

use crate::app::io::datasets::load_bundled;
use crate::app::worker::protocol::{FromWorker, encode};
use crate::lab::data::{Dataset, DatasetKind, TrainTest};

#[derive(Default)]
pub(crate) struct Control {
    pub(crate) paused: bool,
    pub(crate) stop: bool,
    pub(crate) running: bool,
    /// Test hook: the next chunk counts as diverged.
    pub(crate) diverge: bool,
    /// Why the run was stopped from outside the page (the GPU device was lost).
    pub(crate) lost: Option<String>,
}

pub(crate) fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

thread_local! {
    static DATA: RefCell<Vec<(DatasetKind, Rc<TrainTest>)>> = const { RefCell::new(Vec::new()) };
}

/// A bundled data set, downloaded and parsed once per worker (each job used to spend about a
/// second fetching it from the HTTP cache and parsing it again).
pub(crate) async fn dataset(kind: DatasetKind) -> Result<Rc<TrainTest>, String> {
    if let Some(d) =
        DATA.with(|c| c.borrow().iter().find(|(k, _)| *k == kind).map(|(_, d)| d.clone()))
    {
        return Ok(d);
    }
    let d = Rc::new(load_bundled(kind, |_| {}).await?);
    DATA.with(|c| c.borrow_mut().push((kind, d.clone())));
    Ok(d)
}

/// A job's training images: the first `subset`, when the page asks for a subset (tests, quick
/// looks), or all of them.
pub(crate) fn train_images(data: &TrainTest, subset: Option<usize>) -> Dataset {
    match subset {
        Some(n) => data.train.take(n),
        None => data.train.clone(),
    }
}

pub(crate) fn send(msg: FromWorker) {
    let _ = scope().post_message(&encode(&msg));
}

/// Waits while the run is paused; `false` once it is asked to stop.
pub(crate) async fn hold(control: &Rc<RefCell<Control>>) -> bool {
    let mut polls = 0u32;
    loop {
        if control.borrow().stop {
            return false;
        }
        if !control.borrow().paused {
            return true;
        }
        if polls.is_multiple_of(10) {
            send(FromWorker::Held { polls });
        }
        polls += 1;
        gloo_timers::future::TimeoutFuture::new(50).await;
    }
}
