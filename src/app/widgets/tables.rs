//! Tables shared by the panels.

use yew::prelude::*;

use crate::lab::core::summary::{Summary, group};

/// A model summary as an HTML table.
pub fn summary_table(s: &Summary) -> Html {
    html! {
        <table class="compare summary">
            <caption>{&s.title}</caption>
            <tr><th>{"layer"}</th><th>{"type"}</th><th>{"shape"}</th><th>{"parameters"}</th></tr>
            { for s.rows.iter().map(|r| html! { <tr><td>{&r.name}</td><td>{&r.kind}</td><td>{&r.shape}</td><td>{group(r.params)}</td></tr> }) }
            <tr><td><strong>{"total"}</strong></td><td></td><td></td><td><strong data-total={s.total().to_string()}>{group(s.total())}</strong></td></tr>
        </table>
    }
}
