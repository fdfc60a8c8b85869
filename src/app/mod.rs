//! The yew front end: one panel per file, no training logic in components beyond driving the
//! engine's steppable loops.

pub mod backend;
pub mod banner;
pub mod chart;
pub mod compress_panel;
pub mod confusion;
pub mod data_panel;
pub mod draw_pad;
pub mod fetch;
pub mod gan_panel;
pub mod gan_views;
pub mod plots_view;
pub mod protocol;
pub mod refine_panel;
pub mod report_panel;
pub mod runs_panel;
pub mod share;
pub mod smoke;
pub mod store;
pub mod tables;
pub mod train_panel;
pub mod worker;
pub mod weights_io;
pub mod worker_client;

use std::rc::Rc;

use yew::prelude::*;

use backend::{ActiveBackend, BackendKind};
use banner::Banner;
use compress_panel::CompressPanel;
use data_panel::{DataState, DatasetCard, UserFiles, load_bundled};
use smoke::SmokeTrain;
use runs_panel::RunsPanel;
use train_panel::{ResumeRequest, TrainPanel};

use crate::lab::data::DatasetKind;

/// Runs the module's static constructors, once.
///
/// wasm-ld links a binary with `main` as a "command" and, unless the module calls
/// `__wasm_call_ctors` itself, wraps *every* export in a call to it. burn's cubecl registers its
/// IR with `inventory` constructors, so every JS→wasm call (each event handler, each future
/// wake-up, each worker message) re-ran all of them: the DevTools profiler showed
/// `__wasm_call_ctors` and `inventory::Registry::submit` as the top of the page's main thread,
/// with 200–600 ms tasks while a worker trained. Referencing the symbol here turns the wrappers
/// off; calling it first thing runs the constructors exactly once.
pub fn run_static_constructors() {
    use std::sync::atomic::{AtomicBool, Ordering};
    unsafe extern "C" {
        fn __wasm_call_ctors();
    }
    static DONE: AtomicBool = AtomicBool::new(false);
    if !DONE.swap(true, Ordering::SeqCst) {
        // SAFETY: synthesized by wasm-ld; runs the `.init_array` constructors, and the flag
        // makes sure that happens once.
        unsafe { __wasm_call_ctors() }
    }
}

/// True in a Web Worker: the page's module also runs the training worker (see `src/main.rs`).
pub fn in_worker() -> bool {
    use wasm_bindgen::JsCast;
    js_sys::global().dyn_into::<web_sys::Window>().is_err()
}

/// A query-string parameter of the page's URL (`?backend=cpu` → `Some("cpu")`).
pub fn url_param(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search).ok()?.get(name)
}

/// Milliseconds from `performance.now()`, for timings shown to the user. Works in the page and
/// in a worker (which has no `window`, but has `performance`).
pub fn now_ms() -> f64 {
    use wasm_bindgen::JsCast;
    js_sys::Reflect::get(&js_sys::global(), &"performance".into())
        .ok()
        .and_then(|p| p.dyn_into::<web_sys::Performance>().ok())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

/// The whole page.
#[component]
pub fn App() -> Html {
    let backend = use_state(|| None::<ActiveBackend>);
    let mnist = use_state(|| DataState::Loading(0.0));
    let fashion = use_state(|| DataState::Loading(0.0));
    let trained = use_state(|| None::<Rc<Vec<crate::lab::weights::NamedTensor>>>);
    let trained_from = use_state(|| None::<AttrValue>);
    // A run picked in the run list, routed to the panel that shows its kind.
    let resume = use_state(|| None::<(&'static str, ResumeRequest)>);
    let nonce = use_mut_ref(|| 0u32);
    let on_open = {
        let resume = resume.clone();
        Callback::from(move |(id, panel): (String, &'static str)| {
            *nonce.borrow_mut() += 1;
            resume.set(Some((panel, ResumeRequest { id, nonce: *nonce.borrow() })));
        })
    };
    let resume_for = |panel: &str| resume.as_ref().filter(|(p, _)| *p == panel).map(|(_, r)| r.clone());

    {
        let backend = backend.clone();
        let mnist = mnist.clone();
        let fashion = fashion.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                backend.set(Some(backend::choose(backend::requested_backend()).await));
            });
            for (kind, state) in [(DatasetKind::Mnist, mnist), (DatasetKind::FashionMnist, fashion)] {
                wasm_bindgen_futures::spawn_local(async move {
                    let progress = {
                        let state = state.clone();
                        move |f: f64| state.set(DataState::Loading(f))
                    };
                    state.set(match load_bundled(kind, progress).await {
                        Ok(tt) => DataState::Ready(Rc::new(tt)),
                        Err(e) => DataState::Failed(e),
                    });
                });
            }
        });
    }

    let on_switch = {
        let backend = backend.clone();
        Callback::from(move |kind: BackendKind| {
            let backend = backend.clone();
            wasm_bindgen_futures::spawn_local(async move {
                backend.set(Some(backend::choose(Some(kind)).await));
            });
        })
    };

    html! {
        <>
            <header>
                <h1>{"MNIST Lab"}</h1>
                <p class="tagline">{"Compress a classifier with SVD and train GANs — in your browser, on your GPU."}</p>
            </header>
            <Banner backend={(*backend).clone()} on_switch={on_switch} />
            <nav class="sections">
                <a href="#runs">{"Your runs"}</a>
                <a href="#data">{"Data"}</a>
                <a href="#exercise1">{"Exercise 1 — SVD compression"}</a>
                <a href="#exercise2">{"Exercise 2 — GANs"}</a>
                <share::ShareLink />
            </nav>
            <main>
                <section class="panel" id="runs">
                    <h2>{"Your runs"}</h2>
                    <RunsPanel on_open={on_open} />
                    <report_panel::ReportPanel />
                </section>
                <section class="panel" id="data">
                    <h2>{"Data"}</h2>
                    <div class="cards">
                        <DatasetCard kind={DatasetKind::Mnist} state={(*mnist).clone()} />
                        <DatasetCard kind={DatasetKind::FashionMnist} state={(*fashion).clone()} />
                        <UserFiles />
                    </div>
                </section>
                <section class="panel" id="exercise1">
                    <h2>{"Exercise 1 — SVD compression"}</h2>
                    <TrainPanel backend={(*backend).clone()} mnist={(*mnist).clone()}
                                on_trained={{
                                    let (trained, from) = (trained.clone(), trained_from.clone());
                                    Callback::from(move |t| { from.set(None); trained.set(Some(t)) })
                                }}
                                resume={resume_for("train")} />
                    <CompressPanel backend={(*backend).clone()} mnist={(*mnist).clone()} trained={(*trained).clone()}
                                   resume_refine={resume_for("refine")} trained_from={(*trained_from).clone()}
                                   on_import={{
                                       let (trained, from) = (trained.clone(), trained_from.clone());
                                       Callback::from(move |(name, t): (String, Rc<Vec<crate::lab::weights::NamedTensor>>)| {
                                           from.set(Some(format!("imported from {name}").into()));
                                           trained.set(Some(t));
                                       })
                                   }} />
                </section>
                <section class="panel" id="exercise2">
                    <h2>{"Exercise 2 — GANs"}</h2>
                    <gan_panel::GanPanel backend={(*backend).clone()} resume={resume_for("gan")} />
                </section>
                <section class="panel">
                    <h2>{"Is training real here? A smoke test"}</h2>
                    <SmokeTrain backend={(*backend).clone()} mnist={(*mnist).clone()} />
                </section>
            </main>
            <footer>
                {"MNIST © Yann LeCun and Corinna Cortes, CC BY-SA 3.0 · Fashion-MNIST © Zalando SE, MIT"}
            </footer>
        </>
    }
}

/// Mounts the app on the page.
pub fn start() {
    run_static_constructors();
    console_error_panic_hook::set_once();
    yew::Renderer::<App>::new().render();
}
