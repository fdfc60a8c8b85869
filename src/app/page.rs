//! The whole page: header, banner, the view tabs, the views (`views`), footer.

use std::rc::Rc;

use yew::prelude::*;

use crate::app::backend::{self, ActiveBackend};
use crate::app::context::{LabContext, UserSet};
use crate::app::data_panel::{DatasetCard, UserFiles};
use crate::app::diagnostics::{BackendBench, DeviceFacts};
use crate::app::exercise1::compress_panel::CompressPanel;
use crate::app::exercise1::train_panel::TrainPanel;
use crate::app::exercise2::gan_panel::GanPanel;
use crate::app::guide::steps::Step;
use crate::app::guide::{Guide, GuideAction};
use crate::app::io::datasets::{DataState, load_split};
use crate::app::io::share::ShareLink;
use crate::app::run::resume::ResumeRequest;
use crate::app::runs::report_panel::ReportPanel;
use crate::app::runs::runs_panel::RunsPanel;
use crate::app::smoke::SmokeTrain;
use crate::app::views::{self, View, ViewSection, ViewTabs};
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
            views::go(if panel == "gan" { View::Exercise2 } else { View::Exercise1 });
            resume.set(Some((panel, ResumeRequest { id, nonce: *nonce.borrow() })));
        })
    };
    let view = views::use_view();
    // The guide's "next step": a request for one panel, numbered so each click is new.
    let assignment = use_state(|| None::<(Step, u32)>);
    let on_guide = {
        let (assignment, on_open) = (assignment.clone(), on_open.clone());
        let counter = use_mut_ref(|| 0u32);
        Callback::from(move |action: GuideAction| match action {
            GuideAction::Start(step) => {
                *counter.borrow_mut() += 1;
                assignment.set(Some((step, *counter.borrow())));
            }
            GuideAction::Resume(id, panel) => on_open.emit((id, panel)),
            GuideAction::Report => views::go(View::Runs),
        })
    };
    let assigned_train = (*assignment).and_then(|(s, n)| (s == Step::Train).then_some(n));
    let assigned_refine = (*assignment).and_then(|(s, n)| match s {
        Step::Refine(f) => Some((f, n)),
        _ => None,
    });
    let assigned_gan = (*assignment).and_then(|(s, n)| match s {
        Step::Gan(a) => Some((a, n)),
        _ => None,
    });
    let resume_for =
        |panel: &str| resume.as_ref().filter(|(p, _)| *p == panel).map(|(_, r)| r.clone());

    {
        let backend = backend.clone();
        let mnist = mnist.clone();
        use_effect_with((), move |_| {
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
                    Err(e) => {
                        // The first screen has settled on an error (see `announce_interactive`).
                        crate::app::env::announce_interactive();
                        DataState::Failed(e)
                    }
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
            <nav class="sections" aria-label="views">
                <ViewTabs current={view} />
                <ShareLink />
            </nav>
            <main>
                <ViewSection view={View::Overview} current={view}>
                    <p>{"Two exercises of a deep-learning course, run in this page: nothing is sent anywhere, \
                        and every run is saved in this browser."}</p>
                    <div class="cards">
                        <a class="card exercise-card" href={View::Exercise1.hash()}>
                            <h3>{"Exercise 1 — SVD compression"}</h3>
                            <p>{"Train a 784-100-50-10 classifier on MNIST, replace each weight matrix by a rank-k \
                                SVD product, refine it, and compare 2×, 4× and 8× compression. Draw a digit to \
                                see both models' predictions."}</p>
                        </a>
                        <a class="card exercise-card" href={View::Exercise2.hash()}>
                            <h3>{"Exercise 2 — GANs"}</h3>
                            <p>{"Train a dense GAN and a DCGAN-style convolutional GAN on Fashion-MNIST, with \
                                samples drawn epoch by epoch."}</p>
                        </a>
                    </div>
                    <h3 id="data">{"Data"}</h3>
                    <div class="cards">
                        <DatasetCard kind={DatasetKind::Mnist} />
                        <DatasetCard kind={DatasetKind::FashionMnist} />
                        <UserFiles />
                    </div>
                </ViewSection>
                <ViewSection view={View::Exercise1} current={view}>
                    <Guide steps={Step::exercise1()} subset_param="train_subset" on_action={on_guide.clone()} />
                    <TrainPanel assignment={assigned_train}
                                on_trained={{
                                    let (trained, from) = (trained.clone(), trained_from.clone());
                                    Callback::from(move |t| { from.set(None); trained.set(Some(t)) })
                                }}
                                resume={resume_for("train")} />
                    <CompressPanel trained={(*trained).clone()} assignment_refine={assigned_refine}
                                   resume_refine={resume_for("refine")} trained_from={(*trained_from).clone()}
                                   on_import={{
                                       let (trained, from) = (trained.clone(), trained_from.clone());
                                       Callback::from(move |(name, t): (String, Rc<Vec<NamedTensor>>)| {
                                           from.set(Some(format!("imported from {name}").into()));
                                           trained.set(Some(t));
                                       })
                                   }} />
                </ViewSection>
                <ViewSection view={View::Exercise2} current={view}>
                    <Guide steps={Step::exercise2()} subset_param="gan_subset" on_action={on_guide} />
                    <GanPanel resume={resume_for("gan")} assignment={assigned_gan} />
                </ViewSection>
                <ViewSection view={View::Runs} current={view}>
                    <RunsPanel on_open={on_open} />
                    <ReportPanel />
                </ViewSection>
                <ViewSection view={View::Diagnostics} current={view}>
                    <DeviceFacts />
                    <BackendBench />
                    <h3>{"Is training real here? A smoke test"}</h3>
                    <SmokeTrain />
                </ViewSection>
            </main>
            <footer>
                {"MNIST © Yann LeCun and Corinna Cortes, CC BY-SA 3.0 · Fashion-MNIST © Zalando SE, MIT"}
            </footer>
        </ContextProvider<LabContext>>
    }
}
