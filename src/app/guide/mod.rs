//! The assignment as a guide at the top of each exercise's view: the seed's steps as a
//! checklist with each step's status (from the runs saved in this browser), the time it will
//! take on this device, and one button that runs the next step with the assignment's settings
//! (or resumes the started one); when every step is done it leads to the report.

pub mod steps;

use yew::prelude::*;

use crate::app::env::url_param;
use crate::app::io::store;
use crate::app::run::clock::duration;
use crate::app::runs::changes::use_store_changes;
use crate::app::worker::protocol::RunRecord;
use steps::{Step, StepState, next_step};

thread_local! {
    static TAKEN: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// True the first time a request's number is seen (the page numbers them in order): a panel
/// mounted again later (a new base model remounts the refinement) must not start it twice.
pub fn take(request: u32) -> bool {
    TAKEN.with(|t| {
        let fresh = request > t.get();
        if fresh {
            t.set(request);
        }
        fresh
    })
}

/// What the guide's button asks of the page.
#[derive(Debug, Clone, PartialEq)]
pub enum GuideAction {
    /// Start the step in its panel with the assignment's settings.
    Start(Step),
    /// Resume a started run of the step: `(id, panel)`, as the run list opens runs.
    Resume(String, &'static str),
    /// Every step is done: show the report.
    Report,
}

/// What the guide shows.
#[derive(Properties, PartialEq)]
pub struct GuideProps {
    /// The exercise's steps, in order.
    pub steps: Vec<Step>,
    /// The page parameter that trains on a subset for these steps (`train_subset`, `gan_subset`).
    pub subset_param: &'static str,
    /// Runs the next step.
    pub on_action: Callback<GuideAction>,
}

/// The checklist and its button.
#[component]
pub fn Guide(props: &GuideProps) -> Html {
    let records = use_state(Vec::<RunRecord>::new);
    let error = use_state(|| None::<String>);
    {
        let (records, error) = (records.clone(), error.clone());
        use_store_changes(Callback::from(move |_: ()| {
            let (records, error) = (records.clone(), error.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match store::list().await {
                    Ok(r) => {
                        records.set(r);
                        error.set(None);
                    }
                    Err(e) => error.set(Some(format!("the saved runs could not be read: {e}"))),
                }
            });
        }));
    }
    let subset = url_param(props.subset_param).and_then(|s| s.parse::<usize>().ok());
    let next = next_step(&props.steps, &records, subset);
    let on_next = {
        let (next, on_action) = (next.clone(), props.on_action.clone());
        Callback::from(move |_| {
            on_action.emit(match &next {
                Some((step, StepState::Partial { id, .. })) => {
                    GuideAction::Resume(id.clone(), step.panel())
                }
                Some((step, _)) => GuideAction::Start(*step),
                None => GuideAction::Report,
            })
        })
    };
    let label = match &next {
        Some((step, StepState::Partial { .. })) => format!("Resume: {}", step.title()),
        Some((step, _)) => format!("Run the next step: {}", step.title()),
        None => "All steps done: export the report".to_string(),
    };
    html! {
        <div class="card wide guide" data-testid="guide">
            <h3>{"The assignment, step by step"}</h3>
            if let Some(n) = subset {
                <p class="hint">{format!("This page trains on the first {n} images ({}={n}): the steps count runs on that subset.", props.subset_param)}</p>
            }
            <ol class="guide-steps">
                { for props.steps.iter().map(|&step| {
                    let state = step.state(&records, subset);
                    let (mark, status) = match &state {
                        StepState::Done(_) => ("✓", "done".to_string()),
                        StepState::Partial { done, of, .. } => ("◐", format!("started: {done} of {of} epochs saved")),
                        StepState::Todo => ("○", "to do".to_string()),
                    };
                    let time = match step.time_left_ms(&records, subset) {
                        _ if matches!(state, StepState::Done(_)) => String::new(),
                        Some(ms) => format!(" · about {} on this device", duration(ms)),
                        None => " · time: measured when a run of this kind has trained".to_string(),
                    };
                    html! {
                        <li data-testid="guide-step" data-step={step.slug()} data-status={state.slug()}>
                            <span class="mark" aria-hidden="true">{mark}</span>
                            <strong>{step.title()}</strong>{format!(" — {}", step.settings())}
                            <span class="hint">{format!(" · {status}{time}")}</span>
                        </li>
                    }
                }) }
            </ol>
            <button data-testid="guide-next" onclick={on_next}>{label}</button>
            if let Some(e) = &*error { <p class="error" role="alert">{e}</p> }
        </div>
    }
}
