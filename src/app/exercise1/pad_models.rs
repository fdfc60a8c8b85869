//! What the drawing pad predicts with: the models it can compare (base, the sliders' SVD model,
//! each refined or imported model), their pickers, and one model's prediction as a digit and a
//! bar per class.

use std::rc::Rc;

use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};
use yew::prelude::*;

use crate::app::env::url_param;
use crate::app::exercise1::refined::RefinedModel;
use crate::app::io::share;
use crate::lab::classifier::mlp::Classifier;
use crate::lab::compress::ranks::join_ranks;

/// A model the drawing pad can predict with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PadModel {
    /// The base model.
    Base,
    /// The SVD model at the sliders' ranks (not refined).
    Svd,
    /// The n-th refined (or imported) model.
    Refined(usize),
}

impl PadModel {
    /// The `<option>` value.
    fn key(self) -> String {
        match self {
            PadModel::Base => "base".into(),
            PadModel::Svd => "svd".into(),
            PadModel::Refined(i) => format!("refined-{i}"),
        }
    }

    pub(crate) fn parse(key: &str) -> Option<Self> {
        match key {
            "base" => Some(PadModel::Base),
            "svd" => Some(PadModel::Svd),
            k => k.strip_prefix("refined-")?.parse().ok().map(PadModel::Refined),
        }
    }

    /// How the picker and the prediction's heading name it.
    pub(crate) fn label(self, ranks: &[usize], refined: &[Rc<RefinedModel>]) -> String {
        let list = join_ranks(ranks, ", ");
        match self {
            PadModel::Base => "base model".into(),
            PadModel::Svd => format!("SVD at the sliders' ranks ({list}), not refined"),
            PadModel::Refined(i) => {
                refined.get(i).map(|m| m.label.clone()).unwrap_or_else(|| "–".into())
            }
        }
    }
}

/// The pair a share link names (`pad=base,svd`), where a fresh page has those models (a refined
/// model lives only in the page that refined or imported it); the default pair otherwise.
pub(crate) fn pair_from_link() -> (PadModel, PadModel) {
    let fresh = |m: Option<PadModel>, default| {
        m.filter(|m| !matches!(m, PadModel::Refined(_))).unwrap_or(default)
    };
    let param = url_param("pad").unwrap_or_default();
    let mut keys = param.split(',').map(PadModel::parse);
    (fresh(keys.next().flatten(), PadModel::Base), fresh(keys.next().flatten(), PadModel::Svd))
}

/// Keeps the picked pair in the page's address, for share links.
pub(crate) fn share_pair((a, b): (PadModel, PadModel)) {
    share::set_param("pad", Some(&format!("{},{}", a.key(), b.key())));
}

/// A `<select>` of every model the pad can use.
pub(crate) fn model_select(
    testid: &'static str,
    chosen: PadModel,
    ranks: &[usize],
    refined: &[Rc<RefinedModel>],
    onchange: Callback<Event>,
) -> Html {
    let options = [PadModel::Base, PadModel::Svd]
        .into_iter()
        .chain((0..refined.len()).map(PadModel::Refined))
        .map(|m| {
            html! { <option value={m.key()} selected={m == chosen}>{m.label(ranks, refined)}</option> }
        });
    html! { <select data-testid={testid} {onchange}>{ for options }</select> }
}

/// Class probabilities of one image.
pub(crate) async fn probabilities<M: Classifier>(
    model: &M,
    image: &[f32],
    device: &Device,
) -> Result<Vec<f32>, String> {
    let x = Tensor::<2>::from_data(TensorData::new(image.to_vec(), [1, image.len()]), device);
    let p = softmax(model.logits(x), 1);
    let data = p.into_data_async().await.map_err(|e| e.to_string())?;
    data.try_into_vec_as::<f32>().map_err(|e| format!("{e:?}"))
}

pub(crate) fn argmax(p: &[f32]) -> usize {
    p.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i).unwrap_or(0)
}

/// One model's prediction: the digit and a bar per class.
pub(crate) fn prediction_view(testid: &'static str, title: &str, probs: &Option<Vec<f32>>) -> Html {
    let Some(p) = probs else {
        return html! { <div class="prediction"><h4>{title}</h4><div data-testid={testid} class="digit">{"–"}</div></div> };
    };
    let best = argmax(p);
    html! {
        <div class="prediction">
            <h4>{title}</h4>
            <div data-testid={testid} class="digit" data-probs={p.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(",")}>{best.to_string()}</div>
            <div class="bars">
                { for p.iter().enumerate().map(|(i, &v)| html! {
                    <div class={classes!("bar-row", (i == best).then_some("best"))}>
                        <span>{i}</span>
                        <div class="bar"><div style={format!("width:{:.1}%", v * 100.0)}></div></div>
                        <span class="pct">{format!("{:.1}%", v * 100.0)}</span>
                    </div>
                }) }
            </div>
        </div>
    }
}
