//! The drawing pad: a 280×280 canvas for mouse, touch and pen, pre-processed like MNIST, with
//! the 28×28 image the models see.

use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData, PointerEvent};
use yew::prelude::*;

use crate::lab::data::draw::{Drawing, to_mnist};
use crate::lab::data::{IMAGE_PIXELS, IMAGE_SIDE};

/// Side of the drawing canvas in pixels.
pub const PAD: u32 = 280;

/// Where the pad reports the pre-processed image (`None` when cleared or blank).
#[derive(Properties, Debug, Clone, PartialEq)]
pub struct DrawPadProps {
    /// Called after every stroke segment with the 784 values the models see.
    pub on_image: Callback<Option<Vec<f32>>>,
}

/// The canvas's 2D context, asked for with `willReadFrequently` (the first request fixes it): the
/// pad is read back after every stroke, and a CPU-backed canvas skips a GPU readback there.
fn context(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"willReadFrequently".into(), &true.into()).ok()?;
    canvas.get_context_with_context_options("2d", &options).ok().flatten()?.dyn_into().ok()
}

/// Paints a 28×28 image (1 = ink) as black on white.
pub fn paint_28(canvas: &HtmlCanvasElement, image: &[f32]) {
    let Some(ctx) = context(canvas) else { return };
    let mut rgba = Vec::with_capacity(IMAGE_PIXELS * 4);
    for &v in image {
        let g = (255.0 * (1.0 - v.clamp(0.0, 1.0))) as u8;
        rgba.extend_from_slice(&[g, g, g, 255]);
    }
    if let Ok(img) = ImageData::new_with_u8_clamped_array_and_sh(
        Clamped(&rgba),
        IMAGE_SIDE as u32,
        IMAGE_SIDE as u32,
    ) {
        let _ = ctx.put_image_data(&img, 0.0, 0.0);
    }
}

thread_local! {
    static LAST_EMIT_MS: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) };
}

/// When the pad last started reading its pixels (`performance.now()`): the start of the
/// draw → prediction latency the page shows and the benchmark reads.
pub fn last_emit_ms() -> f64 {
    LAST_EMIT_MS.with(|c| c.get())
}

/// The pad, its clear button and the 28×28 preview.
#[component]
pub fn DrawPad(props: &DrawPadProps) -> Html {
    let canvas = use_node_ref();
    let preview = use_node_ref();
    let last = use_mut_ref(|| None::<(f64, f64)>);

    let emit = {
        let canvas = canvas.clone();
        let preview = preview.clone();
        let on_image = props.on_image.clone();
        move || {
            LAST_EMIT_MS.with(|c| c.set(crate::app::env::now_ms()));
            let Some(c) = canvas.cast::<HtmlCanvasElement>() else { return };
            let Some(ctx) = context(&c) else { return };
            let Ok(data) = ctx.get_image_data(0.0, 0.0, PAD as f64, PAD as f64) else { return };
            let image = Drawing::from_rgba(PAD as usize, PAD as usize, &data.data())
                .and_then(|d| to_mnist(&d));
            if let Some(p) = preview.cast::<HtmlCanvasElement>() {
                paint_28(&p, image.as_deref().unwrap_or(&[0.0; IMAGE_PIXELS]));
            }
            on_image.emit(image);
        }
    };
    let point = |e: &PointerEvent, c: &HtmlCanvasElement| {
        let r = c.get_bounding_client_rect();
        let sx = PAD as f64 / r.width().max(1.0);
        let sy = PAD as f64 / r.height().max(1.0);
        ((e.client_x() as f64 - r.left()) * sx, (e.client_y() as f64 - r.top()) * sy)
    };
    let stroke = {
        let canvas = canvas.clone();
        let last = last.clone();
        move |e: &PointerEvent| {
            let Some(c) = canvas.cast::<HtmlCanvasElement>() else { return };
            let Some(ctx) = context(&c) else { return };
            let p = point(e, &c);
            let from = last.borrow().unwrap_or(p);
            ctx.set_line_width(18.0);
            ctx.set_line_cap("round");
            ctx.set_line_join("round");
            ctx.set_stroke_style_str("#000");
            ctx.begin_path();
            ctx.move_to(from.0, from.1);
            ctx.line_to(p.0, p.1);
            ctx.stroke();
            *last.borrow_mut() = Some(p);
        }
    };
    let on_down = {
        let stroke = stroke.clone();
        let last = last.clone();
        let canvas = canvas.clone();
        Callback::from(move |e: PointerEvent| {
            e.prevent_default();
            if let Some(c) = canvas.cast::<HtmlCanvasElement>() {
                let _ = c.set_pointer_capture(e.pointer_id());
            }
            *last.borrow_mut() = None;
            stroke(&e);
        })
    };
    let on_move = {
        let stroke = stroke.clone();
        let last = last.clone();
        let emit = emit.clone();
        Callback::from(move |e: PointerEvent| {
            if last.borrow().is_some() && e.buttons() != 0 {
                e.prevent_default();
                stroke(&e);
                emit();
            }
        })
    };
    let on_up = {
        let last = last.clone();
        let emit = emit.clone();
        Callback::from(move |_: PointerEvent| {
            if last.borrow_mut().take().is_some() {
                emit();
            }
        })
    };
    let on_clear = {
        let canvas = canvas.clone();
        let emit = emit.clone();
        Callback::from(move |_| {
            if let Some(c) = canvas.cast::<HtmlCanvasElement>()
                && let Some(ctx) = context(&c)
            {
                ctx.clear_rect(0.0, 0.0, PAD as f64, PAD as f64);
            }
            emit();
        })
    };
    html! {
        <div class="draw">
            <canvas ref={canvas} data-testid="draw-pad" class="pad" width={PAD.to_string()} height={PAD.to_string()}
                    onpointerdown={on_down} onpointermove={on_move} onpointerup={on_up.clone()} onpointerleave={on_up}></canvas>
            <div class="draw-side">
                <canvas ref={preview} class="preview" width="28" height="28" title="what the models see"></canvas>
                <span class="hint">{"28×28 input"}</span>
                <button data-testid="draw-clear" onclick={on_clear}>{"Clear"}</button>
            </div>
        </div>
    }
}
