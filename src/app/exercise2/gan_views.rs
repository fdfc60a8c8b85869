//! Pieces of the GAN studio that only draw: a grid of generated images on a canvas (crisp,
//! nearest-neighbour scaled by CSS), the snapshot gallery, and the health table.

use std::rc::Rc;

use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};
use yew::prelude::*;

use crate::lab::data::{IMAGE_PIXELS, IMAGE_SIDE};
use crate::lab::gan::GanEpoch;
use crate::lab::gan::quality::Quality;

/// Props of a grid of 28×28 images.
#[derive(Properties, Debug, Clone, PartialEq)]
pub struct SampleGridProps {
    /// `n × 784` bytes, 0 = black.
    pub images: Rc<Vec<u8>>,
    /// Images per row.
    #[prop_or(8)]
    pub cols: usize,
    /// CSS pixels per image pixel (the canvas is scaled without smoothing).
    #[prop_or(2)]
    pub scale: usize,
    /// `data-testid` of the canvas.
    #[prop_or_default]
    pub testid: AttrValue,
    /// Receives the index of a clicked image.
    #[prop_or_default]
    pub on_pick: Option<Callback<usize>>,
    /// Indices drawn with a highlight frame.
    #[prop_or_default]
    pub selected: Vec<usize>,
}

fn draw_grid(canvas: &HtmlCanvasElement, images: &[u8], cols: usize, selected: &[usize]) {
    let n = images.len() / IMAGE_PIXELS;
    let rows = n.div_ceil(cols.max(1));
    let (w, h) = (cols * IMAGE_SIDE, rows.max(1) * IMAGE_SIDE);
    canvas.set_width(w as u32);
    canvas.set_height(h as u32);
    let Some(ctx) = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
    else {
        return;
    };
    let mut rgba = vec![0u8; w * h * 4];
    for (k, img) in images.chunks(IMAGE_PIXELS).enumerate() {
        let (x0, y0) = ((k % cols) * IMAGE_SIDE, (k / cols) * IMAGE_SIDE);
        let hot = selected.contains(&k);
        for (p, &v) in img.iter().enumerate() {
            let (r, c) = (p / IMAGE_SIDE, p % IMAGE_SIDE);
            let edge = r == 0 || c == 0 || r == IMAGE_SIDE - 1 || c == IMAGE_SIDE - 1;
            let px = if hot && edge { [255, 140, 0, 255] } else { [v, v, v, 255] };
            let at = ((y0 + r) * w + x0 + c) * 4;
            rgba[at..at + 4].copy_from_slice(&px);
        }
    }
    if let Ok(img) = ImageData::new_with_u8_clamped_array_and_sh(Clamped(&rgba), w as u32, h as u32)
    {
        let _ = ctx.put_image_data(&img, 0.0, 0.0);
    }
}

/// A grid of generated images on one canvas.
#[component]
pub fn SampleGrid(props: &SampleGridProps) -> Html {
    let canvas = use_node_ref();
    {
        let canvas = canvas.clone();
        let (images, cols, selected) = (props.images.clone(), props.cols, props.selected.clone());
        use_effect_with((images.clone(), cols, selected.clone()), move |_| {
            if let Some(c) = canvas.cast::<HtmlCanvasElement>() {
                draw_grid(&c, &images, cols, &selected);
            }
        });
    }
    let n = props.images.len() / IMAGE_PIXELS;
    let rows = n.div_ceil(props.cols.max(1)).max(1);
    let style = format!(
        "width:{}px;height:{}px",
        props.cols * IMAGE_SIDE * props.scale,
        rows * IMAGE_SIDE * props.scale
    );
    let onclick = props.on_pick.clone().map(|pick| {
        let cols = props.cols;
        Callback::from(move |e: MouseEvent| {
            let Some(target) = e.target_dyn_into::<HtmlCanvasElement>() else { return };
            let (cw, ch) =
                (target.client_width().max(1) as f64, target.client_height().max(1) as f64);
            let col = ((e.offset_x() as f64 / cw) * cols as f64).floor() as usize;
            let row = ((e.offset_y() as f64 / ch) * rows as f64).floor() as usize;
            let k = row * cols + col.min(cols - 1);
            if k < n {
                pick.emit(k);
            }
        })
    });
    html! { <canvas ref={canvas} class="pixelated" style={style} data-testid={props.testid.clone()} data-images={n.to_string()} {onclick} /> }
}

/// One gallery entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Epoch just finished.
    pub epoch: usize,
    /// `64 × 784` bytes.
    pub images: Rc<Vec<u8>>,
    /// Quality numbers, if measured.
    pub quality: Option<Quality>,
}

/// Props of the gallery.
#[derive(Properties, Debug, Clone, PartialEq)]
pub struct GalleryProps {
    /// Snapshots, oldest first.
    pub snapshots: Vec<Snapshot>,
}

/// Snapshots at epochs 1, 10, 20, …; click one to enlarge it.
#[component]
pub fn Gallery(props: &GalleryProps) -> Html {
    let enlarged = use_state(|| None::<usize>);
    let big = (*enlarged).and_then(|i| props.snapshots.get(i).map(|s| (i, s.clone())));
    html! {
        <div data-testid="gan-gallery" class="gallery" data-snapshots={props.snapshots.len().to_string()}>
            if props.snapshots.is_empty() {
                <p class="hint">{"Snapshots from the run's fixed noise appear here at epochs 1, 10, 20, …"}</p>
            }
            { for props.snapshots.iter().enumerate().map(|(i, s)| {
                let enlarged = enlarged.clone();
                html! {
                    <figure class="snapshot" onclick={Callback::from(move |_| enlarged.set(Some(i)))} title="click to enlarge">
                        <SampleGrid images={s.images.clone()} scale={1} />
                        <figcaption>{format!("epoch {}", s.epoch)}{
                            s.quality.map(|q| format!(" · FD {:.1} · score {:.2}", q.fid, q.score)).unwrap_or_default()
                        }</figcaption>
                    </figure>
                }
            }) }
            if let Some((_, s)) = big {
                <div class="enlarged" data-testid="gan-enlarged" onclick={{ let e = enlarged.clone(); Callback::from(move |_| e.set(None)) }}>
                    <SampleGrid images={s.images.clone()} scale={4} />
                    <p>{format!("epoch {} — click to close", s.epoch)}</p>
                </div>
            }
        </div>
    }
}

/// Props of the health panel.
#[derive(Properties, Debug, Clone, PartialEq)]
pub struct HealthProps {
    /// Finished epochs, oldest first.
    pub history: Rc<Vec<GanEpoch>>,
    /// Quality per snapshot.
    pub quality: Vec<Quality>,
}

/// A layer's gradient has vanished when it falls under 1/1000 of its peak in this run.
pub fn vanished(history: &[GanEpoch], g: bool, layer: &str) -> bool {
    let pick = |e: &GanEpoch| if g { e.g_norms.clone() } else { e.d_norms.clone() };
    let grads: Vec<f64> = history
        .iter()
        .filter_map(|e| pick(e).into_iter().find(|n| n.layer == layer).map(|n| n.grad))
        .collect();
    let peak = grads.iter().copied().fold(0.0, f64::max);
    matches!(grads.last(), Some(&last) if peak > 0.0 && last < peak * 1e-3)
}

/// Per-layer weight and gradient norms of G and D at the latest epoch, vanishing ones flagged,
/// and the quality score per snapshot.
#[component]
pub fn Health(props: &HealthProps) -> Html {
    let Some(last) = props.history.last() else {
        return html! { <div data-testid="gan-health" class="health"><p class="hint">{"Per-layer norms appear after the first epoch."}</p></div> };
    };
    let first = &props.history[0];
    let rows = |net: &'static str, g: bool| {
        let (now, then) =
            if g { (&last.g_norms, &first.g_norms) } else { (&last.d_norms, &first.d_norms) };
        now.iter()
            .map(|n| {
                let start =
                    then.iter().find(|t| t.layer == n.layer).map(|t| t.grad).unwrap_or(n.grad);
                let bad = vanished(&props.history, g, &n.layer);
                html! {
                    <tr class={classes!(bad.then_some("vanishing"))}>
                        <td>{net}</td><td>{&n.layer}</td><td>{format!("{:.3}", n.weight)}</td>
                        <td>{format!("{:.2e}", n.grad)}</td><td>{format!("{:.2e}", start)}</td>
                        <td>{ if bad { "vanishing ⚠" } else { "ok" } }</td>
                    </tr>
                }
            })
            .collect::<Html>()
    };
    html! {
        <div data-testid="gan-health" class="health" data-epoch={last.epoch.to_string()}>
            <table class="compare">
                <caption>{format!("per-layer norms, epoch {} (gradients: mean over sampled steps)", last.epoch)}</caption>
                <tr><th>{"net"}</th><th>{"layer"}</th><th>{"‖W‖"}</th><th>{"‖∇‖ now"}</th><th>{format!("‖∇‖ epoch {}", first.epoch)}</th><th>{"gradient"}</th></tr>
                { rows("G", true) }
                { rows("D", false) }
            </table>
            if !props.quality.is_empty() {
                <table class="compare">
                    <caption>{"quality per snapshot (Fréchet distance: lower is better; score 1–10: higher is better)"}</caption>
                    <tr><th>{"epoch"}</th><th>{"Fréchet distance"}</th><th>{"score"}</th></tr>
                    { for props.quality.iter().map(|q| html! { <tr><td>{q.epoch}</td><td>{format!("{:.2}", q.fid)}</td><td>{format!("{:.2}", q.score)}</td></tr> }) }
                </table>
            }
        </div>
    }
}
