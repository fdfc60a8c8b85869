//! The run list: every run the workers saved in this browser, to continue (from its last
//! epoch's checkpoint), reopen or delete — so a reload, a crash or a lost GPU costs at most one
//! epoch.

use yew::prelude::*;

use crate::app::io::store;
use crate::app::run::clock::duration;
use crate::app::runs::changes::use_store_changes;
use crate::app::worker::protocol::RunRecord;

/// What the list reports.
#[derive(Properties, Clone, PartialEq)]
pub struct RunsPanelProps {
    /// Reopen a run: `(id, panel)` where panel is `train`, `refine` or `gan`.
    pub on_open: Callback<(String, &'static str)>,
}

fn when(ms: f64) -> String {
    let d = js_sys::Date::new(&ms.into());
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes()
    )
}

fn mb(bytes: f64) -> String {
    format!("{:.1} MB", bytes / 1e6)
}

/// The list of stored runs.
#[component]
pub fn RunsPanel(props: &RunsPanelProps) -> Html {
    let runs = use_state(Vec::<RunRecord>::new);
    let unreadable = use_state(Vec::<store::Unreadable>::new);
    let error = use_state(|| None::<String>);
    let usage = use_state(|| None::<(f64, f64)>);
    let refresh = {
        let (runs, unreadable, error, usage) =
            (runs.clone(), unreadable.clone(), error.clone(), usage.clone());
        Callback::from(move |_: ()| {
            let (runs, unreadable, error, usage) =
                (runs.clone(), unreadable.clone(), error.clone(), usage.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match store::list_all().await {
                    Ok((r, u)) => {
                        runs.set(r);
                        unreadable.set(u);
                        error.set(None);
                    }
                    Err(e) => error.set(Some(e)),
                }
                usage.set(store::usage().await);
            });
        })
    };
    use_store_changes(refresh.clone());
    let delete = |id: String| {
        let (refresh, error) = (refresh.clone(), error.clone());
        Callback::from(move |_| {
            let (id, refresh, error) = (id.clone(), refresh.clone(), error.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match store::delete(&id).await {
                    Ok(()) => refresh.emit(()),
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let open = |r: &RunRecord| {
        let on_open = props.on_open.clone();
        let (id, panel) = (r.id.clone(), r.spec.panel());
        Callback::from(move |_| on_open.emit((id.clone(), panel)))
    };
    let unfinished = runs.iter().filter(|r| !r.finished).count();
    html! {
        <div class="card wide" data-testid="run-list" data-count={runs.len().to_string()} data-unfinished={unfinished.to_string()}>
            <h3>{"Saved runs"}</h3>
            <p class="hint">{
                "Every run is saved in this browser at the end of each epoch (weights, optimiser state, metrics, settings). \
                 After a reload, a crash or a lost GPU, continue it from its last epoch."
            }</p>
            if let Some(e) = &*error { <p class="error" role="alert" data-testid="run-list-error">{e}</p> }
            if let Some((used, quota)) = *usage {
                <p class="hint" data-testid="storage-usage">{format!("browser storage: {} used of {}", mb(used), mb(quota))}</p>
            }
            if !unreadable.is_empty() {
                <table class="runs" data-testid="run-unreadable" data-count={unreadable.len().to_string()}>
                    { for unreadable.iter().map(|u| html! {
                        <tr data-run-id={u.id.clone()}>
                            <td>{&u.id}</td>
                            <td class="error">{format!("unreadable ({})", u.reason)}</td>
                            <td class="buttons"><button data-testid="run-delete" onclick={delete(u.id.clone())}>{"Delete"}</button></td>
                        </tr>
                    }) }
                </table>
            }
            if runs.is_empty() && unreadable.is_empty() {
                <p class="hint">{"No saved runs yet."}</p>
            } else if runs.is_empty() {
            } else {
                <table class="runs">
                    <tr><th>{"run"}</th><th>{"progress"}</th><th>{"backend"}</th><th>{"saved"}</th><th></th></tr>
                    { for runs.iter().map(|r| html! {
                        <tr data-run-id={r.id.clone()} data-finished={r.finished.to_string()} data-epochs-done={r.epochs_done.to_string()}
                            data-train-ms={r.train_ms.map(|ms| format!("{ms:.0}"))}>
                            <td>{r.spec.title()}</td>
                            <td>{
                                if r.finished { format!("finished, {} epochs{}", r.epochs_done, r.train_ms.map(|ms| format!(" in {}", duration(ms))).unwrap_or_default()) }
                                else { format!("epoch {} of {}{}", r.epochs_done, r.spec.epochs(), r.note.as_ref().map(|n| format!(" — {n}")).unwrap_or_default()) }
                            }</td>
                            <td>{r.backend.title()}</td>
                            <td>{when(r.updated_ms)}</td>
                            <td class="buttons">
                                <button data-testid="run-resume" onclick={open(r)}>{ if r.finished { "Open" } else { "Resume" } }</button>
                                <button data-testid="run-delete" onclick={delete(r.id.clone())}>{"Delete"}</button>
                            </td>
                        </tr>
                    }) }
                </table>
            }
        </div>
    }
}
