//! What every panel reads and nobody owns but the page: the active backend, MNIST's test set
//! and the user's paired files, shared through a yew context instead of props passed down
//! through every component.

use std::rc::Rc;

use yew::prelude::*;

use crate::app::backend::ActiveBackend;
use crate::app::io::datasets::DataState;
use crate::lab::data::Dataset;

/// The user's own labelled set (an IDX image file paired with a label file in the data panel),
/// which the exercise panels evaluate on.
#[derive(Debug)]
pub struct UserSet {
    /// The two files' names.
    pub name: String,
    /// The images and labels, checked like the bundled files.
    pub data: Rc<Dataset>,
}

/// The same pairing (both sides hold their set, so the pointers cannot be reused meanwhile).
impl PartialEq for UserSet {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && Rc::ptr_eq(&self.data, &other.data)
    }
}

/// The page's shared state.
#[derive(Debug, Clone, PartialEq)]
pub struct LabContext {
    /// The backend in use (`None` while it starts).
    pub backend: Option<ActiveBackend>,
    /// MNIST's test set (the page's evaluations; training sets load where a job needs them).
    pub mnist: DataState,
    /// The user's newest paired IDX files, if any.
    pub user_set: Option<Rc<UserSet>>,
    /// Replaces `user_set` (the data panel's pairing).
    pub set_user_set: Callback<Option<Rc<UserSet>>>,
}

impl Default for LabContext {
    fn default() -> Self {
        LabContext {
            backend: None,
            mnist: DataState::Loading(0.0),
            user_set: None,
            set_user_set: Callback::noop(),
        }
    }
}

/// The shared state (its defaults outside a provider, as in a component test).
#[hook]
pub fn use_lab() -> LabContext {
    use_context::<LabContext>().unwrap_or_default()
}
