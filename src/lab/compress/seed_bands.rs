//! Exercise 1 over several seeds as a figure (#36): test accuracy epoch by epoch, the mean as a
//! line and mean ± one standard deviation as a band, for the base model and each refinement.

use plotters::prelude::*;

use crate::lab::compress::ranks::RankRule;
use crate::lab::compress::seeds::{SeedSummary, Spread};
use crate::lab::core::chart::{PALETTE, bounds};

/// One line of a band figure: its label and `(epoch, spread)` points.
type Band = (String, Vec<(f64, Spread)>);

/// Test accuracy epoch by epoch over several runs (#36): each line is the mean, its shaded band
/// mean ± one standard deviation. Panels: the base model, then the refinements of each rank rule
/// (epoch 0 is straight after the SVD).
pub fn seed_bands_svg(s: &SeedSummary) -> String {
    let base: Band = (
        "base".into(),
        s.base_epochs.iter().enumerate().map(|(e, v)| ((e + 1) as f64, *v)).collect(),
    );
    let mut panels: Vec<(&str, Vec<Band>)> = vec![("base model", vec![base])];
    for (rule, caption) in
        [(RankRule::Seed, "refined, k = int(n/f)"), (RankRule::Budget, "refined, budget rule")]
    {
        let bands: Vec<Band> = s
            .compressed
            .iter()
            .filter(|c| c.rule == rule)
            .map(|c| {
                let pts = std::iter::once((0.0, c.before))
                    .chain(c.epochs.iter().enumerate().map(|(e, v)| ((e + 1) as f64, *v)));
                (c.rule.factor_label(c.factor), pts.collect())
            })
            .collect();
        if !bands.is_empty() {
            panels.push((caption, bands));
        }
    }
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (320 * panels.len() as u32, 340)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let title = format!("test accuracy (%), mean ± sd over {} runs", s.seeds.len());
        let root = root.titled(&title, ("sans-serif", 16)).unwrap_or(root);
        for (area, (caption, bands)) in root.split_evenly((1, panels.len())).iter().zip(panels) {
            let pts = || bands.iter().flat_map(|(_, p)| p.iter());
            let x0 = pts().map(|p| p.0).fold(f64::MAX, f64::min);
            let x1 = pts().map(|p| p.0).fold(x0 + 1.0, f64::max);
            let (y0, y1) =
                bounds(pts().flat_map(|(_, v)| [v.mean - v.sd, v.mean + v.sd].map(|a| a * 100.0)));
            let Ok(mut chart) = ChartBuilder::on(area)
                .caption(caption, ("sans-serif", 14))
                .margin(10)
                .x_label_area_size(32)
                .y_label_area_size(45)
                .build_cartesian_2d(x0..x1, y0..y1)
            else {
                continue;
            };
            let _ = chart
                .configure_mesh()
                .x_desc("epoch")
                .x_label_formatter(&|v| format!("{v:.0}"))
                .draw();
            for (i, (label, p)) in bands.into_iter().enumerate() {
                let color = PALETTE[i % PALETTE.len()];
                let upper = p.iter().map(|(x, v)| (*x, (v.mean + v.sd) * 100.0));
                let lower = p.iter().rev().map(|(x, v)| (*x, (v.mean - v.sd) * 100.0));
                let band = Polygon::new(upper.chain(lower).collect::<Vec<_>>(), color.mix(0.2));
                let _ = chart.draw_series([band]);
                let mean = p.iter().map(|(x, v)| (*x, v.mean * 100.0));
                if let Ok(s) = chart.draw_series(LineSeries::new(mean, color.stroke_width(2))) {
                    s.label(label).legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                    });
                }
            }
            let _ = chart
                .configure_series_labels()
                .position(SeriesLabelPosition::LowerRight)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw();
        }
        let _ = root.present();
    }
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::compress::seeds::CompressedSpread;

    #[test]
    fn each_mean_line_has_its_band_in_its_rules_panel() {
        let sp = |mean, sd| Spread { mean, sd, n: 5 };
        let refined = |rule, factor| CompressedSpread {
            rule,
            factor,
            ranks: vec![vec![50, 25, 5]; 5],
            before: sp(0.5, 0.1),
            epochs: vec![sp(0.90, 0.02), sp(0.95, 0.01)],
        };
        let s = SeedSummary {
            seeds: vec![42, 43, 44, 45, 46],
            base_epochs: vec![sp(0.93, 0.003), sp(0.98, 0.001)],
            compressed: vec![
                refined(RankRule::Seed, 2.0),
                refined(RankRule::Seed, 4.0),
                refined(RankRule::Budget, 2.0),
            ],
            median_seed: 44,
        };
        let svg = seed_bands_svg(&s);
        assert_eq!(svg.matches("<polygon").count(), 4, "a band per line: base, 2×, 4×, 2× budget");
        for text in ["mean ± sd over 5 runs", "refined, k = int(n/f)", "refined, budget rule"] {
            assert!(svg.contains(text), "{text} missing");
        }
        assert!(svg.contains("2× budget") && svg.contains("4×"), "legend labels");
        let no_budget = SeedSummary { compressed: s.compressed[..2].to_vec(), ..s };
        let svg = seed_bands_svg(&no_budget);
        assert!(!svg.contains("budget rule"), "no empty panel for a rule that was not run");
        assert_eq!(svg.matches("<polygon").count(), 3);
    }
}
