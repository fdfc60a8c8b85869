//! The page's views (Overview, Exercise 1, Exercise 2, Runs & report, Diagnostics) as routes in
//! the address's hash (`#/exercise1`). A hash, not a path: it works unchanged from whatever
//! sub-path a static host serves the site from, and needs no server rewrite. The query keeps the
//! settings (ranks, hyper-parameters), so a copied link reopens the same view with them.
//!
//! Every view stays mounted and only the current one is shown: a job running in one view keeps
//! going, with its state, while the user looks at another.

use yew::prelude::*;

use crate::app::window_event::use_window_event;

/// One view of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    /// What the lab is, the two exercises, the data.
    #[default]
    Overview,
    /// SVD compression of the classifier.
    Exercise1,
    /// The GANs.
    Exercise2,
    /// The saved runs and the report.
    Runs,
    /// Backend, adapter, storage, and the smoke test.
    Diagnostics,
}

impl View {
    /// Every view, in the order of the tabs.
    pub const ALL: [View; 5] =
        [View::Overview, View::Exercise1, View::Exercise2, View::Runs, View::Diagnostics];

    /// The view's name in the address (`#/slug`) and in its tab's `data-testid` (`view-slug`).
    pub fn slug(self) -> &'static str {
        match self {
            View::Overview => "overview",
            View::Exercise1 => "exercise1",
            View::Exercise2 => "exercise2",
            View::Runs => "runs",
            View::Diagnostics => "diagnostics",
        }
    }

    /// The tab's label.
    pub fn title(self) -> &'static str {
        match self {
            View::Overview => "Overview",
            View::Exercise1 => "Exercise 1 — SVD compression",
            View::Exercise2 => "Exercise 2 — GANs",
            View::Runs => "Runs & report",
            View::Diagnostics => "Diagnostics",
        }
    }

    /// The view an address's hash names: `#/exercise1`, and the anchors of the one-page layout
    /// that older links carry (`#exercise1`, `#runs`, `#data`). Anything else is the overview.
    pub fn from_hash(hash: &str) -> View {
        let name = hash.trim_start_matches('#').trim_start_matches('/');
        let name = name.split(['/', '?', '&']).next().unwrap_or_default();
        match name {
            "data" => View::Overview,
            _ => View::ALL.into_iter().find(|v| v.slug() == name).unwrap_or_default(),
        }
    }

    /// The hash that opens this view.
    pub fn hash(self) -> String {
        format!("#/{}", self.slug())
    }
}

/// The view the address names now.
pub fn current() -> View {
    let hash = web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default();
    View::from_hash(&hash)
}

/// Shows `view`: sets the hash (a history entry, so Back returns to the previous view).
pub fn go(view: View) {
    if let Some(w) = web_sys::window() {
        let _ = w.location().set_hash(&view.hash());
    }
}

/// The current view, following the address: tab links, Back and Forward, and links typed or
/// pasted all change the hash, and `hashchange` re-renders with the new view.
#[hook]
pub fn use_view() -> View {
    let view = use_state(current);
    {
        let view = view.clone();
        use_window_event("hashchange", Callback::from(move |_| view.set(current())));
    }
    *view
}

/// What the tabs need.
#[derive(Properties, PartialEq)]
pub struct ViewTabsProps {
    /// The view shown.
    pub current: View,
}

/// The row of view tabs: plain links to each view's hash, the current one marked for assistive
/// technology (`aria-current`) and by more than colour (underlined, bold).
#[component]
pub fn ViewTabs(props: &ViewTabsProps) -> Html {
    html! {
        <ul class="views">
            { for View::ALL.into_iter().map(|v| {
                let here = v == props.current;
                html! {
                    <li>
                        <a href={v.hash()} data-testid={format!("view-{}", v.slug())}
                           class={classes!(here.then_some("current"))}
                           aria-current={here.then_some("page")}>
                            { v.title() }
                        </a>
                    </li>
                }
            }) }
        </ul>
    }
}

/// What a view's section needs.
#[derive(Properties, PartialEq)]
pub struct ViewSectionProps {
    /// Which view this is.
    pub view: View,
    /// The view shown.
    pub current: View,
    /// Its content.
    pub children: Html,
}

/// A view's section: mounted always, `hidden` unless it is the current view.
#[component]
pub fn ViewSection(props: &ViewSectionProps) -> Html {
    let v = props.view;
    html! {
        <section class="panel view" id={v.slug()} data-view={v.slug()} hidden={v != props.current}
                 aria-labelledby={format!("{}-title", v.slug())}>
            <h2 id={format!("{}-title", v.slug())}>{ v.title() }</h2>
            { props.children.clone() }
        </section>
    }
}
