//! Fetching files with a progress callback, so large data sets show a moving progress bar.

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStreamDefaultReader, Response};

use crate::lab::core::download::DownloadBounds;
use crate::lab::data::idx::MAX_DECOMPRESSED_BYTES;

/// Renders a JS exception as a sentence.
pub fn js_error(e: JsValue) -> String {
    e.as_string()
        .or_else(|| Reflect::get(&e, &"message".into()).ok().and_then(|m| m.as_string()))
        .unwrap_or_else(|| format!("{e:?}"))
}

/// The most any download may bring: the IDX reader's cap (a data file, gzip or raw, is never
/// larger than what it decompresses to), far above every model file.
pub const MAX_DOWNLOAD_BYTES: u64 = MAX_DECOMPRESSED_BYTES as u64;

/// GETs `url` and returns its bytes, calling `progress(received, total)` as chunks arrive
/// (`total` is 0 when the server does not say). Bounded by [`MAX_DOWNLOAD_BYTES`]: an announced
/// length above it is refused before anything is read, a body that outgrows it is cancelled, and
/// a body shorter than its announced length is an error.
pub async fn fetch_bytes(url: &str, mut progress: impl FnMut(u64, u64)) -> Result<Vec<u8>, String> {
    // Works in the page and in a Web Worker (which has no `window`).
    let promise = match web_sys::window() {
        Some(w) => w.fetch_with_str(url),
        None => js_sys::global().unchecked_into::<web_sys::WorkerGlobalScope>().fetch_with_str(url),
    };
    let resp: Response = JsFuture::from(promise)
        .await
        .map_err(|e| format!("could not fetch {url}: {}", js_error(e)))?
        .dyn_into()
        .map_err(|_| "fetch did not return a response".to_string())?;
    if !resp.ok() {
        return Err(format!(
            "could not fetch {url}: HTTP {} {}",
            resp.status(),
            resp.status_text()
        ));
    }
    let header = |name: &str| resp.headers().get(name).ok().flatten();
    let announced = header("content-length").and_then(|v| v.trim().parse::<u64>().ok());
    // A content-encoded body arrives decoded, longer than its header: its length is not a check.
    let encoded =
        header("content-encoding").is_some_and(|e| !e.trim().eq_ignore_ascii_case("identity"));
    let bounds = DownloadBounds::new(announced.filter(|_| !encoded), MAX_DOWNLOAD_BYTES)
        .map_err(|e| format!("{url}: {e}"))?;
    let total = announced.unwrap_or(0);
    let body = resp.body().ok_or_else(|| format!("{url} has no body"))?;
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut bytes = Vec::with_capacity(bounds.capacity());
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|e| format!("reading {url}: {}", js_error(e)))?;
        if Reflect::get(&chunk, &"done".into()).ok().and_then(|d| d.as_bool()).unwrap_or(true) {
            break;
        }
        let value: Uint8Array =
            Reflect::get(&chunk, &"value".into()).map_err(js_error)?.unchecked_into();
        let start = bytes.len();
        if let Err(e) = bounds.check(start as u64 + u64::from(value.length())) {
            let _ = reader.cancel();
            return Err(format!("{url}: {e}"));
        }
        bytes.resize(start + value.length() as usize, 0);
        value.copy_to(&mut bytes[start..]);
        progress(bytes.len() as u64, total);
    }
    bounds.finish(bytes.len() as u64).map_err(|e| format!("{url}: {e}"))?;
    Ok(bytes)
}

/// Reads a user-picked or dropped file.
pub async fn read_file(file: &web_sys::File) -> Result<Vec<u8>, String> {
    let buf = JsFuture::from(file.array_buffer()).await.map_err(js_error)?;
    Ok(Uint8Array::new(&buf).to_vec())
}
