//! Which images a classifier job trains on: MNIST's training set, or the user's own paired IDX
//! files (checked in the data panel, sent with the job, recorded with the run).

use yew::prelude::*;

use crate::app::context::{UserSet, use_lab};
use crate::app::worker::protocol::UserData;

/// What the picker shows and reports.
#[derive(Properties, Clone, PartialEq)]
pub struct TrainingSetProps {
    /// The `<select>`'s test hook.
    pub testid: AttrValue,
    /// True when the user's files are chosen.
    pub mine: bool,
    /// Off while a run goes.
    #[prop_or_default]
    pub disabled: bool,
    /// Gets `true` for the user's files.
    pub on_change: Callback<bool>,
}

/// "train on: MNIST's training images / your files …" (the second only once files are paired).
#[component]
pub fn TrainingSetPicker(props: &TrainingSetProps) -> Html {
    let lab = use_lab();
    let on_change = {
        let cb = props.on_change.clone();
        Callback::from(move |e: Event| {
            let s: web_sys::HtmlSelectElement = e.target_unchecked_into();
            cb.emit(s.value() == "mine");
        })
    };
    html! {
        <label class="inline">{"train on "}
            <select data-testid={props.testid.clone()} onchange={on_change} disabled={props.disabled}>
                <option value="mnist" selected={!props.mine}>{"MNIST's training images"}</option>
                if let Some(s) = &lab.user_set {
                    <option value="mine" selected={props.mine}>{format!("your files {} ({} images)", s.name, s.data.len())}</option>
                }
            </select>
        </label>
    }
}

/// The job's images: `None` for MNIST's, the user's set when chosen (an error when it is chosen
/// but no longer loaded).
pub fn job_data(mine: bool, user: Option<&UserSet>) -> Result<Option<UserData>, String> {
    match (mine, user) {
        (false, _) => Ok(None),
        (true, Some(s)) => Ok(Some(UserData::of(s))),
        (true, None) => Err("load an image file and a label file under Data first".into()),
    }
}
