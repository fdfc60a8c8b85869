//! Report figures as SVG strings, drawn with plotters: training curves, singular-value spectra
//! with the rank cuts, and accuracy against parameters. Pure Rust, so the CLI and the browser's
//! report export share them.

use plotters::prelude::*;

pub const BLUE: RGBColor = RGBColor(31, 119, 180);

pub const ORANGE: RGBColor = RGBColor(255, 127, 14);

pub const GREEN: RGBColor = RGBColor(44, 160, 44);

pub const RED: RGBColor = RGBColor(214, 39, 40);

pub const PALETTE: [RGBColor; 4] = [BLUE, ORANGE, GREEN, RED];

pub fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    if lo > hi {
        (0.0, 1.0)
    } else if hi - lo < 1e-9 {
        (lo - 0.5, hi + 0.5)
    } else {
        let pad = (hi - lo) * 0.05;
        (lo - pad, hi + pad)
    }
}

/// One panel of a per-epoch figure: its caption and its named lines of `(epoch, value)`.
pub type Panel = (&'static str, Vec<(&'static str, Vec<(f64, f64)>)>);

/// Panels side by side, each with its lines against the epoch.
pub fn epoch_panels_svg(title: &str, panels_data: Vec<Panel>) -> String {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 340)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let root = root.titled(title, ("sans-serif", 18)).unwrap_or(root);
        let panels = root.split_evenly((1, panels_data.len().max(1)));
        for (panel, (name, series)) in panels.iter().zip(panels_data) {
            let n = series.iter().flat_map(|(_, pts)| pts.iter().map(|p| p.0)).fold(2.0, f64::max);
            let (lo, hi) = bounds(series.iter().flat_map(|(_, pts)| pts.iter().map(|p| p.1)));
            let Ok(mut chart) = ChartBuilder::on(panel)
                .caption(name, ("sans-serif", 15))
                .margin(10)
                .x_label_area_size(32)
                .y_label_area_size(55)
                .build_cartesian_2d(1f64..n, lo..hi)
            else {
                continue;
            };
            let _ = chart
                .configure_mesh()
                .x_desc("epoch")
                .x_label_formatter(&|v| format!("{v:.0}"))
                .draw();
            for (i, (label, pts)) in series.into_iter().enumerate() {
                let color = PALETTE[i % PALETTE.len()];
                if let Ok(s) = chart.draw_series(LineSeries::new(pts, color.stroke_width(2))) {
                    s.label(label).legend(move |(x, y)| {
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
