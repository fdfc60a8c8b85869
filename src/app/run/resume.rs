//! Reopening a stored run: the run list asks, and the panel of the run's kind answers once.

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
