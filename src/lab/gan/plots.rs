//! Exercise 2's figures as SVG: D and G losses per epoch and per-layer gradient norms.

use plotters::prelude::*;

use crate::lab::core::chart::epoch_panels_svg;

/// A GAN's per-epoch numbers as plain series (the engine's `GanEpoch` reduced to what is drawn).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GanPoint {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean D loss.
    pub d_loss: f64,
    /// Mean G loss.
    pub g_loss: f64,
    /// Mean D(real).
    pub d_real: f64,
    /// Mean D(fake).
    pub d_fake: f64,
}

/// D loss vs G loss (left) and mean D(real) / D(fake) (right), per epoch.
pub fn gan_losses_svg(title: &str, points: &[GanPoint]) -> String {
    let line =
        |f: fn(&GanPoint) -> f64| points.iter().map(|p| (p.epoch as f64, f(p))).collect::<Vec<_>>();
    epoch_panels_svg(
        title,
        vec![
            (
                "binary cross-entropy",
                vec![("D loss", line(|p| p.d_loss)), ("G loss", line(|p| p.g_loss))],
            ),
            ("D's output", vec![("D(real)", line(|p| p.d_real)), ("D(fake)", line(|p| p.d_fake))]),
        ],
    )
}

/// One network's layers, each with its `(epoch, norm)` line.
pub type NormPanel<'a> = (&'a str, Vec<(String, Vec<(usize, f64)>)>);

/// Per-layer gradient norms over epochs (log scale), one panel per network: a layer whose line
/// falls by orders of magnitude is one whose gradient vanishes.
pub fn grad_norms_svg(panels_data: &[NormPanel]) -> String {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (450 * panels_data.len().max(1) as u32, 340))
            .into_drawing_area();
        let _ = root.fill(&WHITE);
        let root = root
            .titled("per-layer gradient norm ‖∇‖₂ (mean over sampled steps)", ("sans-serif", 16))
            .unwrap_or(root);
        let panels = root.split_evenly((1, panels_data.len().max(1)));
        for (panel, (name, layers)) in panels.iter().zip(panels_data) {
            let all: Vec<f64> = layers
                .iter()
                .flat_map(|(_, s)| s.iter().map(|p| p.1))
                .filter(|v| *v > 0.0 && v.is_finite())
                .collect();
            let hi = all.iter().copied().fold(1e-9, f64::max) * 2.0;
            let lo = all.iter().copied().fold(hi, f64::min) / 2.0;
            let n = layers.iter().flat_map(|(_, s)| s.iter().map(|p| p.0)).max().unwrap_or(1).max(2)
                as f64;
            let Ok(mut chart) = ChartBuilder::on(panel)
                .caption(*name, ("sans-serif", 14))
                .margin(8)
                .x_label_area_size(30)
                .y_label_area_size(55)
                .build_cartesian_2d(1f64..n, (lo..hi).log_scale())
            else {
                continue;
            };
            let _ = chart
                .configure_mesh()
                .x_desc("epoch")
                .x_label_formatter(&|v| format!("{v:.0}"))
                .y_label_formatter(&|v| format!("{v:.0e}"))
                .draw();
            for (i, (layer, series)) in layers.iter().enumerate() {
                let color = Palette99::pick(i).to_rgba();
                let pts: Vec<(f64, f64)> =
                    series.iter().filter(|p| p.1 > 0.0).map(|&(e, v)| (e as f64, v)).collect();
                if let Ok(s) = chart.draw_series(LineSeries::new(pts, color.stroke_width(2))) {
                    s.label(layer.clone()).legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                    });
                }
            }
            let _ = chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .label_font(("sans-serif", 10))
                .draw();
        }
        let _ = root.present();
    }
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::classifier::metrics::EpochMetrics;
    use crate::lab::compress::plots::{curves_svg, spectrum_svg, sweep_svg};
    use crate::lab::compress::ranks::RankPoint;

    #[test]
    fn figures_are_svg_with_their_data() {
        let e = |i: usize| EpochMetrics {
            epoch: i,
            train_loss: 1.0 / i as f64,
            train_acc: 0.9,
            test_loss: 1.2 / i as f64,
            test_acc: 0.88,
        };
        let svg = curves_svg("base", &[e(1), e(2), e(3)]);
        assert!(
            svg.starts_with("<svg") && svg.contains("polyline"),
            "{}",
            &svg[..200.min(svg.len())]
        );
        let spec = spectrum_svg(&[vec![3.0, 2.0, 1.0], vec![1.0, 0.5]], &[(2.0, vec![1, 1])]);
        assert!(spec.contains("<circle") && spec.contains("2×: k = 1 keeps 64.3 % of the energy"));
        assert!(spec.contains("energy kept, %") && !spec.contains("dead units"));
        // Dead units are counted in words, not plotted down to 1e-13 on the log axis.
        let dead = spectrum_svg(&[vec![3.0, 2.0, 1e-13, 0.0]], &[(2.0, vec![2])]);
        assert!(dead.contains("2 ≈ 0 (dead units), not plotted"), "{dead}");
        assert_eq!(dead.matches("<circle").count(), 2, "only the live values are points");
        assert!(!dead.contains("e-13"), "the log axis stays short");
        let pts = vec![RankPoint {
            factor: 2.0,
            ranks: vec![1],
            params: 100,
            test_acc: 0.9,
            rule: Default::default(),
        }];
        assert!(sweep_svg(&pts, (200, 0.95)).contains("base model"));
        let g = |e: usize| GanPoint {
            epoch: e,
            d_loss: 0.6,
            g_loss: 0.9 + e as f64 * 0.1,
            d_real: 0.7,
            d_fake: 0.3,
        };
        let gan = gan_losses_svg("dense GAN", &[g(1), g(2)]);
        assert!(gan.contains("polyline") && gan.contains("G loss") && gan.contains("D(fake)"));
        let norms = grad_norms_svg(&[("G", vec![("layers.0".into(), vec![(1, 0.5), (2, 0.05)])])]);
        assert!(norms.contains("polyline") && norms.contains("layers.0"));
    }
}
