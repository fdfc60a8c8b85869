//! What every panel reads and nobody owns but the page: the active backend and the bundled data
//! sets, shared through a yew context instead of props passed down through every component.

use yew::prelude::*;

use crate::app::backend::ActiveBackend;
use crate::app::io::datasets::DataState;

/// The page's shared state.
#[derive(Debug, Clone, PartialEq)]
pub struct LabContext {
    /// The backend in use (`None` while it starts).
    pub backend: Option<ActiveBackend>,
    /// MNIST.
    pub mnist: DataState,
    /// Fashion-MNIST.
    pub fashion: DataState,
}

impl Default for LabContext {
    fn default() -> Self {
        LabContext {
            backend: None,
            mnist: DataState::Loading(0.0),
            fashion: DataState::Loading(0.0),
        }
    }
}

/// The shared state (its defaults outside a provider, as in a component test).
#[hook]
pub fn use_lab() -> LabContext {
    use_context::<LabContext>().unwrap_or_default()
}
