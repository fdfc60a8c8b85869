//! The compression panel's two SVG plots as components with their own props, so that a
//! re-render of the panel (every stroke on the draw pad, every prediction) leaves them alone.
//! plotters sizes each label in the browser by adding a `<span>` to the page and reading its
//! `offsetHeight`, a forced layout per label: profiled, redrawing these plots was most of the
//! draw → prediction latency.

use yew::prelude::*;

use crate::lab::compress::plots::{spectrum_svg, sweep_svg};
use crate::lab::compress::ranks::RankPoint;

/// Inline SVG made by plotters (our own markup, not user input).
fn svg(markup: String) -> Html {
    Html::from_html_unchecked(AttrValue::from(markup))
}

/// What the spectrum plot shows.
#[derive(Properties, Debug, Clone, PartialEq)]
pub struct SpectrumPlotProps {
    /// Singular values of each layer, largest first.
    pub spectra: Vec<Vec<f64>>,
    /// The factor whose ranks are marked.
    pub factor: f64,
    /// The ranks marked on each layer's spectrum.
    pub ranks: Vec<usize>,
}

/// Each layer's singular values with the kept rank marked.
#[component]
pub fn SpectrumPlot(p: &SpectrumPlotProps) -> Html {
    html! {
        <div class="svg" data-testid="spectrum-plot">{svg(spectrum_svg(&p.spectra, &[(p.factor, p.ranks.clone())]))}</div>
    }
}

/// What the accuracy-vs-parameters plot shows.
#[derive(Properties, Debug, Clone, PartialEq)]
pub struct SweepPlotProps {
    /// One point per factor of the sweep.
    pub points: Vec<RankPoint>,
    /// The dense model's parameters and test accuracy, the reference point.
    pub base: (usize, f64),
}

/// Test accuracy against parameter count over the factor sweep.
#[component]
pub fn SweepPlot(p: &SweepPlotProps) -> Html {
    html! {
        <div class="svg" data-testid="sweep-plot" data-points={p.points.len().to_string()}>
            {svg(sweep_svg(&p.points, p.base))}
        </div>
    }
}
