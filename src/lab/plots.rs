//! Report figures as SVG strings, drawn with plotters: training curves, singular-value spectra
//! with the rank cuts, and accuracy against parameters. Pure Rust, so the CLI and the browser's
//! report export share them.

use plotters::prelude::*;

use crate::lab::report::{EpochMetrics, RankPoint};

const BLUE: RGBColor = RGBColor(31, 119, 180);
const ORANGE: RGBColor = RGBColor(255, 127, 14);
const GREEN: RGBColor = RGBColor(44, 160, 44);
const RED: RGBColor = RGBColor(214, 39, 40);
const PALETTE: [RGBColor; 4] = [BLUE, ORANGE, GREEN, RED];

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.filter(|v| v.is_finite()).fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
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
type Panel = (&'static str, Vec<(&'static str, Vec<(f64, f64)>)>);

/// Panels side by side, each with its lines against the epoch.
fn epoch_panels_svg(title: &str, panels_data: Vec<Panel>) -> String {
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
            let _ = chart.configure_mesh().x_desc("epoch").x_label_formatter(&|v| format!("{v:.0}")).draw();
            for (i, (label, pts)) in series.into_iter().enumerate() {
                let color = PALETTE[i % PALETTE.len()];
                if let Ok(s) = chart.draw_series(LineSeries::new(pts, color.stroke_width(2))) {
                    s.label(label).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
                }
            }
            let _ = chart.configure_series_labels().background_style(WHITE.mix(0.85)).border_style(BLACK).draw();
        }
        let _ = root.present();
    }
    svg
}

/// Loss (left) and accuracy (right) per epoch, train and test.
pub fn curves_svg(title: &str, epochs: &[EpochMetrics]) -> String {
    let line = |f: fn(&EpochMetrics) -> f64| epochs.iter().map(|e| (e.epoch as f64, f(e))).collect::<Vec<_>>();
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
        let root = SVGBackend::with_string(&mut svg, (300 * spectra.len().max(1) as u32, 320)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let root = root.titled("singular values per layer, with the rank cut k = int(n/f)", ("sans-serif", 16)).unwrap_or(root);
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
            let _ = chart.draw_series(sv.iter().enumerate().filter(|(_, s)| **s > 0.0).map(|(i, &s)| Circle::new(((i + 1) as f64, s), 2, BLUE.filled())));
            for (c, (factor, ranks)) in cuts.iter().enumerate() {
                let Some(&k) = ranks.get(layer) else { continue };
                let color = PALETTE[(c + 1) % PALETTE.len()];
                if let Ok(s) = chart.draw_series(LineSeries::new([(k as f64 + 0.5, lo), (k as f64 + 0.5, hi)], color.stroke_width(2))) {
                    s.label(format!("{factor}×: k={k}")).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
                }
            }
            let _ = chart.configure_series_labels().background_style(WHITE.mix(0.85)).border_style(BLACK).draw();
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
            let mut sorted = points.to_vec();
            sorted.sort_by_key(|p| p.params);
            let _ = chart.draw_series(LineSeries::new(sorted.iter().map(|p| (p.params as f64, p.test_acc)), BLUE.stroke_width(2)));
            let _ = chart.draw_series(sorted.iter().map(|p| Circle::new((p.params as f64, p.test_acc), 3, BLUE.filled())));
            let _ = chart.draw_series(sorted.iter().map(|p| {
                Text::new(format!("{}×", p.factor), (p.params as f64, p.test_acc), ("sans-serif", 11).into_font())
            }));
            if let Ok(s) = chart.draw_series([Circle::new((base.0 as f64, base.1), 5, RED.filled())]) {
                s.label("base model").legend(|(x, y)| Circle::new((x + 8, y), 4, RED.filled()));
            }
            let _ = chart.configure_series_labels().background_style(WHITE.mix(0.85)).border_style(BLACK).draw();
        }
        let _ = root.present();
    }
    svg
}

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
    let line = |f: fn(&GanPoint) -> f64| points.iter().map(|p| (p.epoch as f64, f(p))).collect::<Vec<_>>();
    epoch_panels_svg(
        title,
        vec![
            ("binary cross-entropy", vec![("D loss", line(|p| p.d_loss)), ("G loss", line(|p| p.g_loss))]),
            ("D's output", vec![("D(real)", line(|p| p.d_real)), ("D(fake)", line(|p| p.d_fake))]),
        ],
    )
}

/// Per-layer gradient norms over epochs (log scale), one panel per network: a layer whose line
/// falls by orders of magnitude is one whose gradient vanishes.
pub fn grad_norms_svg(panels_data: &[(&str, Vec<(String, Vec<(usize, f64)>)>)]) -> String {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (450 * panels_data.len().max(1) as u32, 340)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let root = root.titled("per-layer gradient norm ‖∇‖₂ (mean over sampled steps)", ("sans-serif", 16)).unwrap_or(root);
        let panels = root.split_evenly((1, panels_data.len().max(1)));
        for (panel, (name, layers)) in panels.iter().zip(panels_data) {
            let all: Vec<f64> = layers.iter().flat_map(|(_, s)| s.iter().map(|p| p.1)).filter(|v| *v > 0.0 && v.is_finite()).collect();
            let hi = all.iter().copied().fold(1e-9, f64::max) * 2.0;
            let lo = all.iter().copied().fold(hi, f64::min) / 2.0;
            let n = layers.iter().flat_map(|(_, s)| s.iter().map(|p| p.0)).max().unwrap_or(1).max(2) as f64;
            let Ok(mut chart) = ChartBuilder::on(panel)
                .caption(*name, ("sans-serif", 14))
                .margin(8)
                .x_label_area_size(30)
                .y_label_area_size(55)
                .build_cartesian_2d(1f64..n, (lo..hi).log_scale())
            else {
                continue;
            };
            let _ = chart.configure_mesh().x_desc("epoch").x_label_formatter(&|v| format!("{v:.0}")).y_label_formatter(&|v| format!("{v:.0e}")).draw();
            for (i, (layer, series)) in layers.iter().enumerate() {
                let color = Palette99::pick(i).to_rgba();
                let pts: Vec<(f64, f64)> = series.iter().filter(|p| p.1 > 0.0).map(|&(e, v)| (e as f64, v)).collect();
                if let Ok(s) = chart.draw_series(LineSeries::new(pts, color.stroke_width(2))) {
                    s.label(layer.clone()).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
                }
            }
            let _ = chart.configure_series_labels().background_style(WHITE.mix(0.85)).border_style(BLACK).label_font(("sans-serif", 10)).draw();
        }
        let _ = root.present();
    }
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_svg_with_their_data() {
        let e = |i: usize| EpochMetrics { epoch: i, train_loss: 1.0 / i as f64, train_acc: 0.9, test_loss: 1.2 / i as f64, test_acc: 0.88 };
        let svg = curves_svg("base", &[e(1), e(2), e(3)]);
        assert!(svg.starts_with("<svg") && svg.contains("polyline"), "{}", &svg[..200.min(svg.len())]);
        let spec = spectrum_svg(&[vec![3.0, 2.0, 1.0], vec![1.0, 0.5]], &[(2.0, vec![1, 1])]);
        assert!(spec.contains("<circle") && spec.contains("2×: k=1"));
        let pts = vec![RankPoint { factor: 2.0, ranks: vec![1], params: 100, test_acc: 0.9 }];
        assert!(sweep_svg(&pts, (200, 0.95)).contains("base model"));
        let g = |e: usize| GanPoint { epoch: e, d_loss: 0.6, g_loss: 0.9 + e as f64 * 0.1, d_real: 0.7, d_fake: 0.3 };
        let gan = gan_losses_svg("dense GAN", &[g(1), g(2)]);
        assert!(gan.contains("polyline") && gan.contains("G loss") && gan.contains("D(fake)"));
        let norms = grad_norms_svg(&[("G", vec![("layers.0".into(), vec![(1, 0.5), (2, 0.05)])])]);
        assert!(norms.contains("polyline") && norms.contains("layers.0"));
    }
}
