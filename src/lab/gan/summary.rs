//! Summaries of G and D: each layer with its output shape and trainable parameters (what a
//! student reports), checked against the networks' real parameter counts by the tests.

use crate::lab::core::summary::{LayerRow, Summary};
use crate::lab::gan::models::{
    CNN_CHANNELS, CNN_GRID, CNN_KERNEL, DENSE_D_WIDTHS, DENSE_G_WIDTHS, GanArch, LATENT_DIM,
};

fn row(name: &str, kind: &str, shape: String, params: usize) -> LayerRow {
    LayerRow { name: name.into(), kind: kind.into(), shape, params }
}

/// The generator's summary.
pub fn generator_summary(arch: GanArch) -> Summary {
    let mut rows = Vec::new();
    match arch {
        GanArch::Dense => {
            let w = DENSE_G_WIDTHS;
            for i in 0..w.len() - 1 {
                let (m, n) = (w[i], w[i + 1]);
                let last = i == w.len() - 2;
                rows.push(row(
                    &format!("dense_{}", i + 1),
                    if last { "Dense + tanh" } else { "Dense" },
                    format!("{m} → {n}"),
                    m * n + n,
                ));
                if !last {
                    rows.push(row(
                        &format!("batch_norm_{}", i + 1),
                        "BatchNorm + LeakyReLU(0.2)",
                        format!("{n}"),
                        2 * n,
                    ));
                }
            }
            rows.push(row("reshape", "Reshape", "784 → 28×28×1".into(), 0));
        }
        GanArch::Cnn => {
            let [_, c1, c2] = CNN_CHANNELS;
            let (g, k) = (CNN_GRID, CNN_KERNEL);
            rows.push(row(
                "dense",
                "Dense, no bias",
                format!("{LATENT_DIM} → {}", c2 * g * g),
                LATENT_DIM * c2 * g * g,
            ));
            rows.push(row("reshape", "Reshape", format!("{} → {g}×{g}×{c2}", c2 * g * g), 0));
            rows.push(row(
                "batch_norm_1",
                "BatchNorm + LeakyReLU(0.2)",
                format!("{g}×{g}×{c2}"),
                2 * c2,
            ));
            rows.push(row(
                "conv_t_1",
                "ConvTranspose2d 5×5 stride 2, no bias",
                format!("{g}×{g}×{c2} → {0}×{0}×{c1}", 2 * g),
                c2 * c1 * k * k,
            ));
            rows.push(row(
                "batch_norm_2",
                "BatchNorm + LeakyReLU(0.2)",
                format!("{0}×{0}×{c1}", 2 * g),
                2 * c1,
            ));
            rows.push(row(
                "conv_t_2",
                "ConvTranspose2d 5×5 stride 2 + tanh",
                format!("{0}×{0}×{c1} → {1}×{1}×1", 2 * g, 4 * g),
                c1 * k * k + 1,
            ));
        }
    }
    Summary { title: format!("{} generator G", title(arch)), rows }
}

/// The discriminator's summary.
pub fn discriminator_summary(arch: GanArch) -> Summary {
    let mut rows = Vec::new();
    match arch {
        GanArch::Dense => {
            rows.push(row("flatten", "Flatten", "28×28×1 → 784".into(), 0));
            let w = DENSE_D_WIDTHS;
            for i in 0..w.len() - 1 {
                let (m, n) = (w[i], w[i + 1]);
                let last = i == w.len() - 2;
                let kind =
                    if last { "Dense + sigmoid" } else { "Dense + LeakyReLU(0.2) + Dropout(0.3)" };
                rows.push(row(&format!("dense_{}", i + 1), kind, format!("{m} → {n}"), m * n + n));
            }
        }
        GanArch::Cnn => {
            let [c0, c1, c2] = CNN_CHANNELS;
            let (g, k) = (CNN_GRID, CNN_KERNEL);
            rows.push(row(
                "conv_1",
                "Conv2d 5×5 stride 2 + LeakyReLU(0.2) + Dropout(0.3)",
                format!("28×28×{c0} → 14×14×{c1}"),
                c0 * c1 * k * k + c1,
            ));
            rows.push(row(
                "conv_2",
                "Conv2d 5×5 stride 2 + LeakyReLU(0.2) + Dropout(0.3)",
                format!("14×14×{c1} → {g}×{g}×{c2}"),
                c1 * c2 * k * k + c2,
            ));
            rows.push(row("flatten", "Flatten", format!("{g}×{g}×{c2} → {}", c2 * g * g), 0));
            rows.push(row(
                "dense",
                "Dense + sigmoid",
                format!("{} → 1", c2 * g * g),
                c2 * g * g + 1,
            ));
        }
    }
    Summary { title: format!("{} discriminator D", title(arch)), rows }
}

fn title(arch: GanArch) -> &'static str {
    match arch {
        GanArch::Dense => "Dense",
        GanArch::Cnn => "DCGAN-style",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::core::params::{non_trainable_params, trainable_params};
    use crate::lab::gan::models::{Discriminator, Generator};
    use burn::tensor::Device;

    #[test]
    fn summaries_match_the_networks_parameter_counts() {
        let device = Device::flex();
        for arch in [GanArch::Dense, GanArch::Cnn] {
            let g = Generator::new(arch, &device);
            let d = Discriminator::new(arch, &device);
            assert_eq!(generator_summary(arch).total(), trainable_params(&g), "{arch:?} G");
            assert_eq!(discriminator_summary(arch).total(), trainable_params(&d), "{arch:?} D");
            assert_eq!(non_trainable_params(&d), 0, "D has no batch norm");
            assert!(non_trainable_params(&g) > 0, "G's batch norms keep running statistics");
        }
        // Dense G and D are in the same ballpark, as the exercise asks.
        let (g, d) = (
            generator_summary(GanArch::Dense).total(),
            discriminator_summary(GanArch::Dense).total(),
        );
        assert_eq!((g, d), (581_520, 533_505));
    }
}
