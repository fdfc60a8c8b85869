//! The data panel: the bundled sets with progress, counts, class histogram and thumbnails, plus
//! the user's own IDX files (picker, drag-and-drop, or a URL). Errors stay inside the panel.

use std::rc::Rc;

use wasm_bindgen::{Clamped, JsCast};
use web_sys::{
    CanvasRenderingContext2d, DragEvent, HtmlCanvasElement, HtmlInputElement, ImageData,
};
use yew::prelude::*;

use crate::app::context::{UserSet, use_lab};
use crate::app::io::datasets::{Preview, load_preview};
use crate::app::io::fetch::{fetch_bytes, read_file};
use crate::app::widgets::chart::BarChart;
use crate::lab::data::{Dataset, DatasetKind, IMAGE_PIXELS, IMAGE_SIDE, class_counts, idx};

/// Draws up to `count` images side by side on a canvas, 28×28 each.
#[derive(Properties, Debug, Clone, PartialEq)]
pub struct ThumbnailsProps {
    /// The data set to show.
    pub data: Rc<Dataset>,
    /// How many images.
    #[prop_or(12)]
    pub count: usize,
}

/// A strip of thumbnails (the first images of a set).
#[component]
pub fn Thumbnails(props: &ThumbnailsProps) -> Html {
    let canvas = use_node_ref();
    let n = props.count.min(props.data.len());
    {
        let canvas = canvas.clone();
        use_effect_with(props.clone(), move |p| {
            if let Some(c) = canvas.cast::<HtmlCanvasElement>() {
                draw_images(&c, &p.data, 0..n);
            }
        });
    }
    html! {
        <canvas ref={canvas} class="thumbs" width={(n * IMAGE_SIDE).to_string()} height={IMAGE_SIDE.to_string()}></canvas>
    }
}

/// Paints images `range` of `data` left to right, white ink on black like the raw data.
pub fn draw_images(canvas: &HtmlCanvasElement, data: &Dataset, range: std::ops::Range<usize>) {
    let Some(ctx) = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
    else {
        return;
    };
    for (slot, i) in range.enumerate() {
        let mut rgba = Vec::with_capacity(IMAGE_PIXELS * 4);
        for &p in data.images.image(i) {
            rgba.extend_from_slice(&[p, p, p, 255]);
        }
        if let Ok(img) = ImageData::new_with_u8_clamped_array_and_sh(
            Clamped(&rgba),
            IMAGE_SIDE as u32,
            IMAGE_SIDE as u32,
        ) {
            let _ = ctx.put_image_data(&img, (slot * IMAGE_SIDE) as f64, 0.0);
        }
    }
}

/// Props of one bundled data set's card.
#[derive(Properties, Debug, Clone, PartialEq)]
pub struct DatasetCardProps {
    /// Which set.
    pub kind: DatasetKind,
}

/// One bundled set from its small preview (counts, histogram, thumbnails): the 60 000-image
/// training files are not downloaded for it.
#[component]
pub fn DatasetCard(props: &DatasetCardProps) -> Html {
    let preview = use_state(|| None::<Result<(Preview, Rc<Dataset>), String>>);
    {
        let (preview, kind) = (preview.clone(), props.kind);
        use_effect_with(kind, move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                let loaded = match load_preview(kind).await {
                    Ok(p) => p.images().map(|i| (p, Rc::new(i))),
                    Err(e) => Err(e),
                };
                preview.set(Some(loaded));
            });
        });
    }
    let body = match &*preview {
        None => html! { <p>{"loading the preview…"}</p> },
        Some(Err(msg)) => html! { <p class="error">{msg}</p> },
        Some(Ok((p, thumbs))) => {
            let (train, test) =
                (p.train_counts.iter().sum::<usize>(), p.test_counts.iter().sum::<usize>());
            html! {
                <div>
                    <p class="counts" data-train={train.to_string()} data-test={test.to_string()}>
                        {format!("{train} train / {test} test")}
                    </p>
                    <BarChart values={p.train_counts.iter().map(|&c| c as u32).collect::<Vec<_>>()} title="training images per class" />
                    <Thumbnails data={thumbs.clone()} />
                    <p class="classes">{props.kind.class_names().join(" · ")}</p>
                    <p class="hint">{"The training files download when a job needs them."}</p>
                </div>
            }
        }
    };
    html! {
        <div class="card" data-testid={format!("dataset-{}", props.kind.slug())}>
            <h3>{props.kind.title()}</h3>
            {body}
        </div>
    }
}

/// What one user file turned out to be.
#[derive(Debug, Clone, PartialEq)]
enum UserFile {
    Images { name: String, data: Rc<Dataset> },
    Labels { name: String, labels: Vec<u8> },
}

/// Parses a user file as images or labels, by the rank byte of its IDX header.
fn parse_user_file(name: &str, bytes: &[u8]) -> Result<UserFile, String> {
    let raw = idx::decompress(bytes).map_err(|e| format!("{name}: {e}"))?;
    let is_labels = raw.len() > 3 && raw[3] == 1;
    if is_labels {
        let labels = idx::parse_labels(&raw).map_err(|e| format!("{name}: {e}"))?;
        Ok(UserFile::Labels { name: name.into(), labels })
    } else {
        let images = idx::parse_images(&raw).map_err(|e| format!("{name}: {e}"))?;
        let labels = vec![0; images.count];
        let data = Dataset::new(images, labels).map_err(|e| e.to_string())?;
        Ok(UserFile::Images { name: name.into(), data: Rc::new(data) })
    }
}

/// The user's own files: a picker, a drop zone and a URL box; each file is checked and shown.
#[component]
pub fn UserFiles() -> Html {
    let files = use_state(Vec::<UserFile>::new);
    let pair = use_state(|| None::<Result<Rc<UserSet>, String>>);
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let url = use_node_ref();

    // Adds parsed files (or shows the first error) — shared by picker, drop and URL.
    // The newest image file and the newest label file pair up into a labelled set, which the
    // page shares with the exercise panels (once per change, not per render).
    let add = {
        let (files, error, pair) = (files.clone(), error.clone(), pair.clone());
        let set_user_set = use_lab().set_user_set;
        Callback::from(move |results: Vec<Result<UserFile, String>>| {
            let mut list = (*files).clone();
            let mut first_error = None;
            for r in results {
                match r {
                    Ok(f) => list.push(f),
                    Err(e) => first_error = first_error.or(Some(e)),
                }
            }
            let newest = |images: bool| {
                list.iter().rev().find(|f| matches!(f, UserFile::Images { .. }) == images)
            };
            if let (
                Some(UserFile::Images { name: a, data }),
                Some(UserFile::Labels { name: b, labels }),
            ) = (newest(true), newest(false))
            {
                let paired = Dataset::new(data.images.clone(), labels.clone())
                    .map(|d| Rc::new(UserSet { name: format!("{a} + {b}"), data: Rc::new(d) }))
                    .map_err(|e| format!("{a} and {b} do not pair: {e}"));
                set_user_set.emit(paired.as_ref().ok().cloned());
                pair.set(Some(paired));
            }
            error.set(first_error);
            files.set(list);
        })
    };
    // Takes the files out of the (live) FileList first: clearing the input empties it.
    let read_list = {
        let add = add.clone();
        let busy = busy.clone();
        move |list: web_sys::FileList| {
            let files: Vec<web_sys::File> =
                (0..list.length()).filter_map(|i| list.item(i)).collect();
            let add = add.clone();
            let busy = busy.clone();
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let mut results = Vec::new();
                for f in files {
                    results.push(match read_file(&f).await {
                        Ok(bytes) => parse_user_file(&f.name(), &bytes),
                        Err(e) => Err(format!("{}: {e}", f.name())),
                    });
                }
                busy.set(false);
                add.emit(results);
            });
        }
    };
    let on_pick = {
        let read_list = read_list.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            if let Some(list) = input.files() {
                read_list(list);
            }
            input.set_value("");
        })
    };
    let on_drop = {
        let read_list = read_list.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            if let Some(list) = e.data_transfer().and_then(|d| d.files()) {
                read_list(list);
            }
        })
    };
    let on_drag_over = Callback::from(|e: DragEvent| e.prevent_default());
    let on_url = {
        let add = add.clone();
        let busy = busy.clone();
        let url = url.clone();
        Callback::from(move |_| {
            let Some(input) = url.cast::<HtmlInputElement>() else { return };
            let address = input.value().trim().to_string();
            if address.is_empty() {
                add.emit(vec![Err("type the address of an IDX file first".into())]);
                return;
            }
            let add = add.clone();
            let busy = busy.clone();
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let name = address.rsplit('/').next().unwrap_or(&address).to_string();
                let result = match fetch_bytes(&address, |_, _| {}).await {
                    Ok(bytes) => parse_user_file(&name, &bytes),
                    Err(e) => Err(e),
                };
                busy.set(false);
                add.emit(vec![result]);
            });
        })
    };

    let pairing = match &*pair {
        Some(Ok(set)) => html! {
            <p class="ok" data-testid="user-pair" data-count={set.data.len().to_string()}>
                {format!("paired: {} labelled images ({}), evaluated under Exercise 1 and usable for training", set.data.len(), set.name)}</p>
        },
        Some(Err(e)) => html! { <p class="error">{e}</p> },
        None => html! {},
    };

    html! {
        <div class="card user-files" ondrop={on_drop} ondragover={on_drag_over}>
            <h3>{"Your own IDX files"}</h3>
            <p class="hint">{"Pick or drop *-idx3-ubyte / *-idx1-ubyte files (raw or .gz), or load one from a URL."}</p>
            <input type="file" multiple=true data-testid="data-upload" onchange={on_pick}
                   aria-label="your IDX files (images and labels)" />
            <div class="url-row">
                <input ref={url} type="url" placeholder="https://…/t10k-images-idx3-ubyte.gz" data-testid="data-url"
                       aria-label="the URL of an IDX file" />
                <button onclick={on_url} data-testid="data-url-load" disabled={*busy}>{"Load URL"}</button>
            </div>
            if *busy { <p>{"reading…"}</p> }
            if let Some(e) = &*error { <p class="error" data-testid="data-error" role="alert">{e}</p> }
            <ul data-testid="user-files">
                { for files.iter().map(|f| match f {
                    UserFile::Images { name, data } => html! {
                        <li>{format!("{name}: {} images 28×28 ", data.len())}<Thumbnails data={data.clone()} count={8} /></li>
                    },
                    UserFile::Labels { name, labels } => html! {
                        <li>{format!("{name}: {} labels, per class {:?}", labels.len(), class_counts(labels))}</li>
                    },
                }) }
            </ul>
            {pairing}
        </div>
    }
}
