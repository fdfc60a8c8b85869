//! Listening to the run store: a hook that calls back once on mount and whenever the page
//! announces a change ([`store::RUNS_CHANGED`]), so lists refresh without polling.

use yew::prelude::*;

use crate::app::io::store;
use crate::app::window_event::use_window_event;

/// Calls `refresh` now and after every change of the stored runs, until unmounted.
#[hook]
pub fn use_store_changes(refresh: Callback<()>) {
    {
        let refresh = refresh.clone();
        use_effect_with((), move |_| refresh.emit(()));
    }
    use_window_event(store::RUNS_CHANGED, refresh);
}
