//! Line and bar charts drawn with plotters on a `<canvas>`.

use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use yew::prelude::*;

/// One named line.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// (x, y) points in order of x.
    pub points: Vec<(f64, f64)>,
}

/// A line chart's data and captions.
#[derive(Properties, Debug, Clone, PartialEq)]
pub struct LineChartProps {
    /// The lines.
    pub series: Vec<Series>,
    /// Caption above the plot.
    pub title: AttrValue,
    /// X-axis description.
    pub x_label: AttrValue,
    /// `data-testid` of the canvas.
    #[prop_or_default]
    pub testid: AttrValue,
    /// Canvas size in CSS pixels.
    #[prop_or((520, 260))]
    pub size: (u32, u32),
    /// What the chart says before it has a point.
    #[prop_or(AttrValue::Static("No data yet: the chart fills in as the run trains."))]
    pub empty: AttrValue,
}

const COLORS: [RGBColor; 4] =
    [RGBColor(31, 119, 180), RGBColor(255, 127, 14), RGBColor(44, 160, 44), RGBColor(214, 39, 40)];

fn draw_lines(canvas: web_sys::HtmlCanvasElement, p: &LineChartProps) -> Option<()> {
    let backend = CanvasBackend::with_canvas_object(canvas)?;
    let root = backend.into_drawing_area();
    root.fill(&WHITE).ok()?;
    let all = p.series.iter().flat_map(|s| s.points.iter()).filter(|(_, y)| y.is_finite());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in all {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x0 > x1 {
        // Nothing to plot yet: the title and a line saying so, not an empty 0–1 grid whose
        // axes mean nothing.
        let (w, h) = root.dim_in_pixel();
        let centred = |size| {
            TextStyle::from(("sans-serif", size).into_font()).pos(
                plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Center,
                    plotters::style::text_anchor::VPos::Center,
                ),
            )
        };
        root.draw_text(p.title.as_str(), &centred(15), (w as i32 / 2, 16)).ok()?;
        let grey = centred(13).color(&RGBColor(110, 116, 130));
        root.draw_text(p.empty.as_str(), &grey, (w as i32 / 2, h as i32 / 2)).ok()?;
        return root.present().ok();
    }
    if x1 - x0 < 1e-9 {
        x1 = x0 + 1.0;
    }
    let pad = ((y1 - y0) * 0.05).max(1e-3);
    let mut chart = ChartBuilder::on(&root)
        .caption(p.title.as_str(), ("sans-serif", 15))
        .margin(8)
        .x_label_area_size(30)
        .y_label_area_size(48)
        .build_cartesian_2d(x0..x1, (y0 - pad)..(y1 + pad))
        .ok()?;
    chart
        .configure_mesh()
        .x_desc(p.x_label.as_str())
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .ok()?;
    // The legend is HTML under the canvas (`Legend`): inside the plot it covered points.
    for (i, s) in p.series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        chart
            .draw_series(LineSeries::new(
                s.points.iter().copied().filter(|(_, y)| y.is_finite()),
                color.stroke_width(2),
            ))
            .ok()?;
    }
    root.present().ok()
}

/// A plotters line chart that redraws whenever its data changes.
#[component]
pub fn LineChart(props: &LineChartProps) -> Html {
    let canvas = use_node_ref();
    {
        let canvas = canvas.clone();
        use_effect_with(props.clone(), move |p| {
            if let Some(c) = canvas.cast::<web_sys::HtmlCanvasElement>() {
                draw_lines(c, p);
            }
        });
    }
    let label = props.series.iter().map(|s| s.label.as_str()).collect::<Vec<_>>().join(", ");
    html! {
        <figure class="chart-figure">
            <canvas ref={canvas} data-testid={props.testid.clone()} width={props.size.0.to_string()}
                    height={props.size.1.to_string()} class="chart" role="img"
                    aria-label={format!("{}: {label}", props.title)}></canvas>
            if props.series.len() > 1 && props.series.iter().any(|s| !s.points.is_empty()) {
                <figcaption class="legend">
                    { for props.series.iter().enumerate().map(|(i, s)| {
                        let RGBColor(r, g, b) = COLORS[i % COLORS.len()];
                        html! {
                            <span class="legend-item">
                                <span class="swatch" style={format!("background: rgb({r}, {g}, {b})")}></span>
                                { s.label.clone() }
                            </span>
                        }
                    }) }
                </figcaption>
            }
        </figure>
    }
}

/// A bar chart's data.
#[derive(Properties, Debug, Clone, PartialEq)]
pub struct BarChartProps {
    /// Bar heights, one per class.
    pub values: Vec<u32>,
    /// Caption.
    pub title: AttrValue,
}

fn draw_bars(canvas: web_sys::HtmlCanvasElement, p: &BarChartProps) -> Option<()> {
    let root = CanvasBackend::with_canvas_object(canvas)?.into_drawing_area();
    root.fill(&WHITE).ok()?;
    let max = p.values.iter().copied().max().unwrap_or(1).max(1);
    let n = p.values.len() as u32;
    let mut chart = ChartBuilder::on(&root)
        .caption(p.title.as_str(), ("sans-serif", 13))
        .margin(6)
        .x_label_area_size(20)
        .y_label_area_size(44)
        .build_cartesian_2d((0u32..n).into_segmented(), 0u32..max + max / 10)
        .ok()?;
    chart.configure_mesh().disable_x_mesh().light_line_style(WHITE.mix(0.0)).draw().ok()?;
    chart
        .draw_series(
            Histogram::vertical(&chart)
                .style(COLORS[0].filled())
                .margin(3)
                .data(p.values.iter().enumerate().map(|(i, &v)| (i as u32, v))),
        )
        .ok()?;
    root.present().ok()
}

/// A plotters bar chart (the class histogram).
#[component]
pub fn BarChart(props: &BarChartProps) -> Html {
    let canvas = use_node_ref();
    {
        let canvas = canvas.clone();
        use_effect_with(props.clone(), move |p| {
            if let Some(c) = canvas.cast::<web_sys::HtmlCanvasElement>() {
                draw_bars(c, p);
            }
        });
    }
    html! { <canvas ref={canvas} width="300" height="150" class="chart small"></canvas> }
}
