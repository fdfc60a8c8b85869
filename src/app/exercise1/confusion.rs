//! The 10×10 confusion-matrix heatmap: counts or row-normalised, and a click on a cell shows
//! the test images behind it.

use std::rc::Rc;

use web_sys::HtmlCanvasElement;
use yew::prelude::*;

use crate::app::data_panel::draw_images;
use crate::lab::classifier::metrics::ConfusionMatrix;
use crate::lab::data::{Dataset, NUM_CLASSES};

/// The matrix, the predictions behind it and the images they were made on.
#[derive(Properties, Clone)]
pub struct ConfusionProps {
    /// Truth × prediction counts.
    pub matrix: ConfusionMatrix,
    /// Predicted class of each test item, in order.
    pub predictions: Rc<Vec<u8>>,
    /// The test set.
    pub test: Rc<Dataset>,
    /// Prefix of the test hooks: `{prefix}-matrix`, `{prefix}-selection`.
    #[prop_or(AttrValue::Static("confusion"))]
    pub testid: AttrValue,
}

impl PartialEq for ConfusionProps {
    fn eq(&self, other: &Self) -> bool {
        self.matrix == other.matrix
            && Rc::ptr_eq(&self.predictions, &other.predictions)
            && self.testid == other.testid
    }
}

/// Heatmap with a counts / row-normalised switch and a misclassified-image strip.
#[component]
pub fn ConfusionHeatmap(props: &ConfusionProps) -> Html {
    let normalised = use_state(|| false);
    let selected = use_state(|| None::<(usize, usize)>);
    let strip = use_node_ref();
    let norm = props.matrix.row_normalised();
    let max = props.matrix.0.iter().flatten().copied().max().unwrap_or(1).max(1) as f64;

    // Indices of the test items in the selected cell.
    let items: Vec<usize> = match *selected {
        Some((t, p)) => props
            .predictions
            .iter()
            .enumerate()
            .filter(|&(i, &pred)| {
                props.test.labels.get(i) == Some(&(t as u8)) && pred as usize == p
            })
            .map(|(i, _)| i)
            .take(24)
            .collect(),
        None => Vec::new(),
    };
    {
        let strip = strip.clone();
        let test = props.test.clone();
        let items = items.clone();
        use_effect_with(items.clone(), move |_| {
            if let Some(c) = strip.cast::<HtmlCanvasElement>() {
                let subset = Dataset {
                    images: crate::lab::data::Images {
                        count: items.len(),
                        pixels: items.iter().flat_map(|&i| test.images.image(i).to_vec()).collect(),
                    },
                    labels: items.iter().map(|&i| test.labels[i]).collect(),
                };
                draw_images(&c, &subset, 0..items.len());
            }
        });
    }
    let toggle = {
        let normalised = normalised.clone();
        Callback::from(move |_| normalised.set(!*normalised))
    };
    html! {
        <div class="confusion">
            <div class="confusion-head">
                <strong>{"Confusion matrix (test set)"}</strong>
                <button onclick={toggle}>{ if *normalised { "show counts" } else { "show row-normalised" } }</button>
            </div>
            <table data-testid={format!("{}-matrix", props.testid)} class="heatmap">
                <caption class="sr-only">{"rows: the true digit; columns: the predicted digit; each cell's number is its count (or share of the row); the diagonal, outlined, is the correct predictions"}</caption>
                <tr><th scope="col">{"true \\ pred"}</th>{ for (0..NUM_CLASSES).map(|j| html! { <th scope="col">{j}</th> }) }</tr>
                { for (0..NUM_CLASSES).map(|i| html! {
                    <tr>
                        <th scope="row">{i}</th>
                        { for (0..NUM_CLASSES).map(|j| {
                            let count = props.matrix.0[i][j];
                            let shade = if *normalised { norm[i][j] } else { count as f64 / max };
                            let text = if *normalised { format!("{:.2}", norm[i][j]) } else { count.to_string() };
                            let style = format!("background: rgba(47,111,223,{:.3}); color: {}", shade.sqrt(), if shade > 0.35 { "#fff" } else { "#1d2330" });
                            let onclick = {
                                let selected = selected.clone();
                                Callback::from(move |_| selected.set(Some((i, j))))
                            };
                            // A button in each cell: the keyboard reaches it, and its click
                            // bubbles to the cell's handler. The number is the meaning; the
                            // shade repeats it, and the diagonal is outlined, not only coloured.
                            let label = format!("true {i}, predicted {j}: {text}; show these images");
                            html! {
                                <td style={style} class={classes!((i == j).then_some("diagonal"))} data-true={i.to_string()} data-pred={j.to_string()} data-count={count.to_string()} onclick={onclick}>
                                    <button class="cell" aria-label={label}>{text}</button>
                                </td>
                            }
                        }) }
                    </tr>
                }) }
            </table>
            if let Some((t, p)) = *selected {
                <p class="hint" data-testid={format!("{}-selection", props.testid)}>{format!("true {t}, predicted {p}: {} image(s){}", props.matrix.0[t][p], if items.len() < props.matrix.0[t][p] as usize { format!(", first {}", items.len()) } else { String::new() })}</p>
                <canvas ref={strip} class="thumbs" width={(items.len().max(1) * 28).to_string()} height="28"></canvas>
            }
        </div>
    }
}
