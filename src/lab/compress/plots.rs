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

/// Each layer's singular values (log scale) with a vertical line at each factor's rank.
pub fn spectrum_svg(spectra: &[Vec<f64>], cuts: &[(f64, Vec<usize>)]) -> String {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (300 * spectra.len().max(1) as u32, 320))
            .into_drawing_area();
        let _ = root.fill(&WHITE);
        let root = root
            .titled("singular values per layer, with the rank cut k = int(n/f)", ("sans-serif", 16))
            .unwrap_or(root);
        let panels = root.split_evenly((1, spectra.len().max(1)));
        for (layer, (panel, sv)) in panels.iter().zip(spectra).enumerate() {
            let positive: Vec<f64> = sv.iter().copied().filter(|s| *s > 0.0).collect();
            let hi = positive.iter().copied().fold(1e-6, f64::max) * 1.5;
            let lo = positive.iter().copied().fold(hi, f64::min) / 1.5;
            let Ok(mut chart) = ChartBuilder::on(panel)
                .caption(format!("layer {}", layer + 1), ("sans-serif", 14))
                .margin(8)
                .x_label_area_size(30)
                .y_label_area_size(50)
                .build_cartesian_2d(0f64..(sv.len() as f64 + 1.0), (lo..hi).log_scale())
            else {
                continue;
            };
            let _ = chart
                .configure_mesh()
                .x_desc("index i")
                .y_desc("singular value")
                .x_label_formatter(&|v| format!("{v:.0}"))
                .y_label_formatter(&|v| format!("{v:.0e}"))
                .draw();
            let _ = chart.draw_series(
                sv.iter()
                    .enumerate()
                    .filter(|(_, s)| **s > 0.0)
                    .map(|(i, &s)| Circle::new(((i + 1) as f64, s), 2, BLUE.filled())),
            );
            for (c, (factor, ranks)) in cuts.iter().enumerate() {
                let Some(&k) = ranks.get(layer) else { continue };
                let color = PALETTE[(c + 1) % PALETTE.len()];
                if let Ok(s) = chart.draw_series(LineSeries::new(
                    [(k as f64 + 0.5, lo), (k as f64 + 0.5, hi)],
                    color.stroke_width(2),
                )) {
                    s.label(format!("{factor}×: k={k}")).legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                    });
                }
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
