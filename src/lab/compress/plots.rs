//! Exercise 1's figures as SVG: training curves, singular-value spectra with the rank cuts, and
//! accuracy against parameters.

use plotters::prelude::*;

use crate::lab::classifier::metrics::EpochMetrics;
use crate::lab::compress::ranks::{RankPoint, RankRule};
use crate::lab::core::chart::{BLUE, GREEN, PALETTE, RED, bounds, epoch_panels_svg};

/// Loss (left) and accuracy (right) per epoch, train and test.
pub fn curves_svg(title: &str, epochs: &[EpochMetrics]) -> String {
    let line = |f: fn(&EpochMetrics) -> f64| {
        epochs.iter().map(|e| (e.epoch as f64, f(e))).collect::<Vec<_>>()
    };
    epoch_panels_svg(
        title,
        vec![
            ("loss", vec![("train", line(|e| e.train_loss)), ("test", line(|e| e.test_loss))]),
            ("accuracy", vec![("train", line(|e| e.train_acc)), ("test", line(|e| e.test_acc))]),
        ],
    )
}

/// Singular values below this fraction of a layer's largest are "≈ 0": units the training left
/// dead (all-zero rows or columns). On a log axis they would stretch it to 1e-13 and squash
/// the values that matter, so they are counted in words instead of plotted.
const NEAR_ZERO: f64 = 1e-6;

/// The cumulative-energy line's colour: apart from the cuts' palette colours.
const ENERGY: RGBColor = RGBColor(120, 120, 120);

/// Fraction of a layer's energy (Σσ²) the first `k` singular values keep.
pub fn retained_energy(sv: &[f64], k: usize) -> f64 {
    let total: f64 = sv.iter().map(|s| s * s).sum();
    if total <= 0.0 {
        return 0.0;
    }
    sv.iter().take(k).map(|s| s * s).sum::<f64>() / total
}

/// Each layer's singular values (log scale, left axis) and the cumulative energy they retain
/// (right axis, 0–100 %), with a vertical line at each factor's rank. What each cut keeps, and
/// how many values are ≈ 0, are written above the plot, not over the points.
pub fn spectrum_svg(spectra: &[Vec<f64>], cuts: &[(f64, Vec<usize>)]) -> String {
    let mut svg = String::new();
    {
        let header = 22 + 18 * (cuts.len() as u32 + 1);
        let root =
            SVGBackend::with_string(&mut svg, (320 * spectra.len().max(1) as u32, 300 + header))
                .into_drawing_area();
        let _ = root.fill(&WHITE);
        let root = root
            .titled("singular values per layer and the energy they keep, with the rank cut k = int(n/f)", ("sans-serif", 15))
            .unwrap_or(root);
        let panels = root.split_evenly((1, spectra.len().max(1)));
        for (layer, (panel, sv)) in panels.iter().zip(spectra).enumerate() {
            let (top, plot) = panel.split_vertically(header);
            let max = sv.iter().copied().fold(0.0, f64::max);
            let shown: Vec<(usize, f64)> =
                sv.iter().copied().enumerate().filter(|(_, s)| *s > max * NEAR_ZERO).collect();
            let dead = sv.len() - shown.len();
            // The words above the plot: the layer, each cut's rank and energy, the dead units.
            let mut lines =
                vec![(format!("layer {}: {} singular values", layer + 1, sv.len()), BLACK)];
            for (c, (factor, ranks)) in cuts.iter().enumerate() {
                if let Some(&k) = ranks.get(layer) {
                    let kept = 100.0 * retained_energy(sv, k);
                    lines.push((
                        format!("{factor}×: k = {k} keeps {kept:.1} % of the energy"),
                        PALETTE[(c + 1) % PALETTE.len()],
                    ));
                }
            }
            if dead > 0 {
                lines.push((format!("{dead} ≈ 0 (dead units), not plotted"), RED));
            }
            for (i, (text, color)) in lines.iter().enumerate() {
                let _ = top.draw_text(
                    text,
                    &("sans-serif", 13).into_font().color(color),
                    (10, 4 + 18 * i as i32),
                );
            }
            let hi = shown.iter().map(|p| p.1).fold(1e-6, f64::max) * 1.5;
            let lo = shown.iter().map(|p| p.1).fold(hi, f64::min) / 1.5;
            let x_max = sv.len() as f64 + 1.0;
            let Ok(chart) = ChartBuilder::on(&plot)
                .margin(8)
                .x_label_area_size(30)
                .y_label_area_size(50)
                .right_y_label_area_size(44)
                .build_cartesian_2d(0f64..x_max, (lo..hi).log_scale())
            else {
                continue;
            };
            let mut chart = chart.set_secondary_coord(0f64..x_max, 0f64..100.0);
            let _ = chart
                .configure_mesh()
                .x_desc("index i")
                .y_desc("singular value")
                .x_label_formatter(&|v| format!("{v:.0}"))
                .y_label_formatter(&|v| format!("{v:.0e}"))
                .draw();
            let _ = chart
                .configure_secondary_axes()
                .y_desc("energy kept, % (grey line)")
                .y_label_formatter(&|v| format!("{v:.0}"))
                .draw();
            let _ = chart.draw_series(
                shown.iter().map(|&(i, s)| Circle::new(((i + 1) as f64, s), 2, BLUE.filled())),
            );
            let cumulative = (0..=sv.len()).map(|k| (k as f64, 100.0 * retained_energy(sv, k)));
            let _ =
                chart.draw_secondary_series(LineSeries::new(cumulative, ENERGY.stroke_width(2)));
            for (c, (_, ranks)) in cuts.iter().enumerate() {
                let Some(&k) = ranks.get(layer) else { continue };
                let color = PALETTE[(c + 1) % PALETTE.len()];
                let _ = chart.draw_series(LineSeries::new(
                    [(k as f64 + 0.5, lo), (k as f64 + 0.5, hi)],
                    color.stroke_width(2),
                ));
            }
        }
        let _ = root.present();
    }
    svg
}

/// Test accuracy right after the SVD against parameter count, one point per factor.
pub fn sweep_svg(points: &[RankPoint], base: (usize, f64)) -> String {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, 380)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let xs = points.iter().map(|p| p.params as f64).chain([base.0 as f64]);
        let (x0, x1) = bounds(xs);
        let (y0, y1) = bounds(points.iter().map(|p| p.test_acc).chain([base.1]));
        if let Ok(mut chart) = ChartBuilder::on(&root)
            .caption("test accuracy after SVD (no refinement) vs parameters", ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(55)
            .build_cartesian_2d(x0.max(1.0)..x1, y0..y1.min(1.0))
        {
            let _ = chart
                .configure_mesh()
                .x_desc("trainable parameters")
                .y_desc("test accuracy")
                .x_label_formatter(&|v| format!("{v:.0}"))
                .draw();
            // One curve per rank rule: the seed's k = int(n/f), and the budget rule when swept.
            for (rule, colour, name) in [
                (RankRule::Seed, BLUE, "k = int(n/f) (seed rule)"),
                (RankRule::Budget, GREEN, "same budget, ranks by energy"),
            ] {
                let mut sorted: Vec<&RankPoint> =
                    points.iter().filter(|p| p.rule == rule).collect();
                if sorted.is_empty() {
                    continue;
                }
                sorted.sort_by_key(|p| p.params);
                if let Ok(s) = chart.draw_series(LineSeries::new(
                    sorted.iter().map(|p| (p.params as f64, p.test_acc)),
                    colour.stroke_width(2),
                )) {
                    s.label(name).legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(2))
                    });
                }
                let _ = chart.draw_series(
                    sorted
                        .iter()
                        .map(|p| Circle::new((p.params as f64, p.test_acc), 3, colour.filled())),
                );
                let _ = chart.draw_series(sorted.iter().map(|p| {
                    Text::new(
                        format!("{}×", p.factor),
                        (p.params as f64, p.test_acc),
                        ("sans-serif", 11).into_font(),
                    )
                }));
            }
            if let Ok(s) =
                chart.draw_series([Circle::new((base.0 as f64, base.1), 5, RED.filled())])
            {
                s.label("base model").legend(|(x, y)| Circle::new((x + 8, y), 4, RED.filled()));
            }
            let _ = chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw();
        }
        let _ = root.present();
    }
    svg
}
