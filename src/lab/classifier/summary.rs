//! The MLP's summary table.

use crate::lab::classifier::mlp::Mlp;
use crate::lab::core::summary::{LayerRow, Summary};

pub fn act(i: usize, last: usize) -> &'static str {
    if i < last { " + ReLU" } else { " (logits)" }
}

/// Summary of the dense MLP.
pub fn mlp_summary(mlp: &Mlp) -> Summary {
    let last = mlp.layers.len() - 1;
    let rows = mlp
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let [m, n] = l.weight.dims();
            let bias = if l.bias.is_some() { n } else { 0 };
            LayerRow {
                name: format!("dense_{}", i + 1),
                kind: format!("Dense{}", act(i, last)),
                shape: format!("{m} → {n}"),
                params: m * n + bias,
            }
        })
        .collect();
    Summary { title: "Dense MLP 784-100-50-10".into(), rows }
}
