//! The factorized MLP's summary table (two dense layers per factorized layer).

use crate::lab::classifier::summary::act;
use crate::lab::compress::factorized::FactorizedMlp;
use crate::lab::core::summary::{LayerRow, Summary};

/// Summary of a factorized MLP: two rows per original layer.
pub fn factorized_summary(model: &FactorizedMlp) -> Summary {
    let shapes: Vec<(usize, usize)> = model
        .layers
        .iter()
        .map(|p| (p.first.weight.dims()[0], p.second.weight.dims()[1]))
        .collect();
    factorized_summary_for(&shapes, &model.ranks())
}

/// The same summary from the layer shapes `(m, n)` and ranks alone (every second layer carries the
/// copied bias), so the page can show it without building the model's tensors.
pub fn factorized_summary_for(shapes: &[(usize, usize)], ranks: &[usize]) -> Summary {
    let last = shapes.len().saturating_sub(1);
    let mut rows = Vec::new();
    for (i, (&(m, n), &k)) in shapes.iter().zip(ranks).enumerate() {
        rows.push(LayerRow {
            name: format!("dense_{}a", i + 1),
            kind: "Dense U' = UₖΣₖ, no bias".into(),
            shape: format!("{m} → {k}"),
            params: m * k,
        });
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
    use crate::lab::classifier::mlp::MLP_WIDTHS;
    use crate::lab::classifier::mlp::Mlp;
    use crate::lab::classifier::summary::mlp_summary;
    use crate::lab::compress::factorized::MlpSpectrum;
    use crate::lab::core::summary::group;
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
