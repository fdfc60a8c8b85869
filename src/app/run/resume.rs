//! Reopening a stored run: the run list asks, and the panel of the run's kind answers once.

use yew::prelude::*;

use crate::app::backend::BackendKind;
use crate::app::context::use_lab;

/// A request from the run list to reopen a stored run in this panel (the nonce makes a second
/// click on the same run count).
#[derive(Debug, Clone, PartialEq)]
pub struct ResumeRequest {
    /// The run's id in the store.
    pub id: String,
    /// Changes on every click.
    pub nonce: u32,
}

thread_local! {
    static HANDLED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

impl ResumeRequest {
    /// True the first time any panel asks about this click: a panel that is re-mounted (the
    /// refinement panel, when the base model reloads) must not reopen the run a second time.
    pub fn claim(&self) -> bool {
        HANDLED.with(|h| {
            let fresh = self.nonce > h.get();
            if fresh {
                h.set(self.nonce);
            }
            fresh
        })
    }
}

/// Reopens the requested run once, as soon as the panel is `ready` (its data set loaded), on
/// the active backend: `reopen` gets the run's id and that backend.
#[hook]
pub fn use_resume(
    request: Option<ResumeRequest>,
    ready: bool,
    reopen: Callback<(String, BackendKind)>,
) {
    let backend = use_lab().backend.map(|b| b.kind).unwrap_or(BackendKind::Cpu);
    use_effect_with((request, ready), move |(req, ready)| {
        if let (Some(req), true) = (req, ready)
            && req.claim()
        {
            reopen.emit((req.id.clone(), backend));
        }
    });
}
