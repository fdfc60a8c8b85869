//! Model summaries: each layer, its shape and trainable parameters, and the total — what a
//! student reports, computed from the shapes the model really has.

use serde::{Deserialize, Serialize};

use crate::lab::factorized::FactorizedMlp;
use crate::lab::mlp::Mlp;

/// One row of a summary table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRow {
    /// e.g. `dense_1` or `dense_1a (U')`.
    pub name: String,
    /// Layer kind, e.g. `Dense + ReLU`.
    pub kind: String,
    /// e.g. `784 → 100`.
    pub shape: String,
    /// Trainable parameters (weights + bias).
    pub params: usize,
}

/// A model's summary table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Model name.
    pub title: String,
    /// Rows, input side first.
    pub rows: Vec<LayerRow>,
}

impl Summary {
    /// Sum of the rows' parameters.
    pub fn total(&self) -> usize {
        self.rows.iter().map(|r| r.params).sum()
    }

    /// A Markdown table with a total line.
    pub fn to_markdown(&self) -> String {
        let mut s = format!("**{}**\n\n| layer | type | shape | trainable parameters |\n|---|---|---|---:|\n", self.title);
        for r in &self.rows {
            s += &format!("| {} | {} | {} | {} |\n", r.name, r.kind, r.shape, group(r.params));
        }
        s += &format!("| **total** | | | **{}** |\n", group(self.total()));
        s
    }
}

/// 84060 → "84,060".
pub fn group(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn act(i: usize, last: usize) -> &'static str {
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
            LayerRow { name: format!("dense_{}", i + 1), kind: format!("Dense{}", act(i, last)), shape: format!("{m} → {n}"), params: m * n + bias }
        })
        .collect();
    Summary { title: "Dense MLP 784-100-50-10".into(), rows }
}

/// Summary of a factorized MLP: two rows per original layer.
pub fn factorized_summary(model: &FactorizedMlp) -> Summary {
    let shapes: Vec<(usize, usize)> = model.layers.iter().map(|p| (p.first.weight.dims()[0], p.second.weight.dims()[1])).collect();
    factorized_summary_for(&shapes, &model.ranks())
}

/// The same summary from the layer shapes `(m, n)` and ranks alone (every second layer carries the
/// copied bias), so the page can show it without building the model's tensors.
pub fn factorized_summary_for(shapes: &[(usize, usize)], ranks: &[usize]) -> Summary {
    let last = shapes.len().saturating_sub(1);
    let mut rows = Vec::new();
    for (i, (&(m, n), &k)) in shapes.iter().zip(ranks).enumerate() {
        rows.push(LayerRow { name: format!("dense_{}a", i + 1), kind: "Dense U' = UₖΣₖ, no bias".into(), shape: format!("{m} → {k}"), params: m * k });
        rows.push(LayerRow {
            name: format!("dense_{}b", i + 1),
            kind: format!("Dense Vₖᵀ + copied bias{}", act(i, last)),
            shape: format!("{k} → {n}"),
            params: k * n + n,
        });
    }
    let ranks: Vec<String> = ranks.iter().map(|k| k.to_string()).collect();
    Summary { title: format!("Factorized MLP, ranks ({})", ranks.join(", ")), rows }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::factorized::MlpSpectrum;
    use crate::lab::mlp::MLP_WIDTHS;
    use burn::module::Module;
    use burn::tensor::Device;
    use futures_lite::future::block_on;

    #[test]
    fn totals_match_the_models() {
        let device = Device::flex();
        let mlp = Mlp::new(&MLP_WIDTHS, &device);
        let s = mlp_summary(&mlp);
        assert_eq!(s.total(), 84_060);
        assert_eq!(s.total(), mlp.num_params());
        assert!(s.to_markdown().contains("**84,060**"));
        let f = block_on(MlpSpectrum::of(&mlp)).unwrap().build(&[12, 6, 1], &device).unwrap();
        let fs = factorized_summary(&f);
        assert_eq!(fs.rows.len(), 6);
        assert_eq!(fs.total(), f.num_params());
        assert_eq!(factorized_summary_for(&[(784, 100), (100, 50), (50, 10)], &[12, 6, 1]), fs);
        assert_eq!(group(1234567), "1,234,567");
    }
}
