//! The whole page: header, banner, sections, footer.

use std::rc::Rc;

use yew::prelude::*;

use crate::app::backend::{self, ActiveBackend};
use crate::app::context::{LabContext, UserSet};
use crate::app::data_panel::{DatasetCard, UserFiles};
use crate::app::exercise1::compress_panel::CompressPanel;
use crate::app::exercise1::train_panel::TrainPanel;
use crate::app::exercise2::gan_panel::GanPanel;
use crate::app::gpu_watch;
use crate::app::io::datasets::{DataState, load_split};
use crate::app::io::share::ShareLink;
use crate::app::run::resume::ResumeRequest;
use crate::app::runs::report_panel::ReportPanel;
use crate::app::runs::runs_panel::RunsPanel;
use crate::app::smoke::SmokeTrain;
use crate::app::widgets::banner::Banner;
use crate::lab::core::safetensors::NamedTensor;
use crate::lab::data::{DatasetKind, Split};

/// The whole page.
#[component]
pub fn App() -> Html {
    let backend = use_state(|| None::<ActiveBackend>);
    let mnist = use_state(|| DataState::Loading(0.0));
    let trained = use_state(|| None::<Rc<Vec<NamedTensor>>>);
    let trained_from = use_state(|| None::<AttrValue>);
    let user_set = use_state(|| None::<Rc<UserSet>>);
    // One callback for the page's life, so the context does not change on every render.
    let set_user_set = {
        let user_set = user_set.clone();
        use_callback((), move |s: Option<Rc<UserSet>>, _| user_set.set(s))
    };
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
    let resume_for =
        |panel: &str| resume.as_ref().filter(|(p, _)| *p == panel).map(|(_, r)| r.clone());

    {
        let backend = backend.clone();
        let mnist = mnist.clone();
        use_effect_with((), move |_| {
            // Before the page makes its device: a lost one moves the page to the CPU, with the
            // reason in the banner (the models reload there; the workers have their own devices).
            {
                let backend = backend.clone();
                gpu_watch::watch_gpu_devices(move |why| {
                    backend::mark_gpu_lost(why);
                    let backend = backend.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        backend.set(Some(backend::choose(None).await));
                    });
                });
            }
            wasm_bindgen_futures::spawn_local(async move {
                backend.set(Some(backend::choose(backend::requested_backend()).await));
            });
            // The first screen needs MNIST's test set only (the slider's accuracy, the pad's
            // models' scores): 1.6 MB instead of both sets' 42 MB. Training files load where a
            // job needs them, the data panel shows small previews.
            wasm_bindgen_futures::spawn_local(async move {
                let progress = {
                    let mnist = mnist.clone();
                    move |f: f64| mnist.set(DataState::Loading(f))
                };
                mnist.set(match load_split(DatasetKind::Mnist, Split::Test, progress).await {
                    Ok(test) => DataState::Ready(Rc::new(test)),
                    Err(e) => DataState::Failed(e),
                });
            });
        });
    }

    let on_switch = {
        let backend = backend.clone();
        Callback::from(move |kind: backend::BackendKind| {
            let backend = backend.clone();
            wasm_bindgen_futures::spawn_local(async move {
                backend.set(Some(backend::choose(Some(kind)).await));
            });
        })
    };

    let context = LabContext {
        backend: (*backend).clone(),
        mnist: (*mnist).clone(),
        user_set: (*user_set).clone(),
        set_user_set: set_user_set.clone(),
    };
    html! {
        <ContextProvider<LabContext> context={context}>
            <header>
                <h1>{"MNIST Lab"}</h1>
                <p class="tagline">{"Compress a classifier with SVD and train GANs — in your browser, on your GPU."}</p>
            </header>
            <Banner on_switch={on_switch} />
            <nav class="sections">
                <a href="#runs">{"Your runs"}</a>
                <a href="#data">{"Data"}</a>
                <a href="#exercise1">{"Exercise 1 — SVD compression"}</a>
                <a href="#exercise2">{"Exercise 2 — GANs"}</a>
                <ShareLink />
            </nav>
            <main>
                <section class="panel" id="runs">
                    <h2>{"Your runs"}</h2>
                    <RunsPanel on_open={on_open} />
                    <ReportPanel />
                </section>
                <section class="panel" id="data">
                    <h2>{"Data"}</h2>
                    <div class="cards">
                        <DatasetCard kind={DatasetKind::Mnist} />
                        <DatasetCard kind={DatasetKind::FashionMnist} />
                        <UserFiles />
                    </div>
                </section>
                <section class="panel" id="exercise1">
                    <h2>{"Exercise 1 — SVD compression"}</h2>
                    <TrainPanel
                                on_trained={{
                                    let (trained, from) = (trained.clone(), trained_from.clone());
                                    Callback::from(move |t| { from.set(None); trained.set(Some(t)) })
                                }}
                                resume={resume_for("train")} />
                    <CompressPanel trained={(*trained).clone()}
                                   resume_refine={resume_for("refine")} trained_from={(*trained_from).clone()}
                                   on_import={{
                                       let (trained, from) = (trained.clone(), trained_from.clone());
                                       Callback::from(move |(name, t): (String, Rc<Vec<NamedTensor>>)| {
                                           from.set(Some(format!("imported from {name}").into()));
                                           trained.set(Some(t));
                                       })
                                   }} />
                </section>
                <section class="panel" id="exercise2">
                    <h2>{"Exercise 2 — GANs"}</h2>
                    <GanPanel resume={resume_for("gan")} />
                </section>
                <section class="panel">
                    <h2>{"Is training real here? A smoke test"}</h2>
                    <SmokeTrain />
                </section>
            </main>
            <footer>
                {"MNIST © Yann LeCun and Corinna Cortes, CC BY-SA 3.0 · Fashion-MNIST © Zalando SE, MIT"}
            </footer>
        </ContextProvider<LabContext>>
    }
}
