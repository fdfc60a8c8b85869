//! The yew front end, by exercise: `exercise1/` (train, compress, refine, draw) and `exercise2/`
//! (the GAN studio) hold the panels; `run/` is the run lifecycle every job panel shares;
//! `runs/` the saved runs and the report; `worker/` the training worker, split by job; `io/`
//! fetching, storage and share links; `widgets/` charts and tables. No training logic in
//! components beyond driving the worker.

pub mod backend;
pub mod context;
pub mod data_panel;
pub mod diagnostics;
pub mod env;
pub mod exercise1;
pub mod exercise2;
pub mod gpu_watch;
pub mod guide;
pub mod io;
pub mod page;
pub mod run;
pub mod runs;
pub mod smoke;
pub mod views;
pub mod widgets;
pub mod window_event;
pub mod worker;

/// Mounts the app on the page.
pub fn start() {
    env::run_static_constructors();
    console_error_panic_hook::set_once();
    yew::Renderer::<page::App>::new().render();
}
