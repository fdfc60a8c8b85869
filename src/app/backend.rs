//! Choosing the training backend in the browser: WebGPU when it is a real GPU, the Flex CPU
//! backend otherwise.
//!
//! The page itself always computes on Flex (the slider's evaluations, the drawing pad, the
//! summaries): its module is built without the WebGPU stack, which only the training workers'
//! module carries (#18). What is chosen here is where the workers train. A software WebGPU
//! adapter (SwiftShader, llvmpipe) emulates the GPU on the CPU and is far slower than Flex
//! (measured here: ~836 ms vs ~10–36 ms per Adam step of a small MLP), so the default picks Flex
//! there and says why. `?backend=webgpu|cpu` overrides the choice, and the banner lets the user
//! switch. A worker's WebGPU device can be initialised only once, so it is created once and shared.

use burn::tensor::Device;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Which backend computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum BackendKind {
    /// The GPU through WebGPU.
    WebGpu,
    /// burn's pure-Rust Flex backend on the CPU (wasm SIMD).
    Cpu,
}

impl BackendKind {
    /// The value used in `?backend=` and in `data-backend`.
    pub fn slug(self) -> &'static str {
        match self {
            BackendKind::WebGpu => "webgpu",
            BackendKind::Cpu => "cpu",
        }
    }

    /// How the banner names it.
    pub fn title(self) -> &'static str {
        match self {
            BackendKind::WebGpu => "WebGPU",
            BackendKind::Cpu => "CPU (Flex)",
        }
    }
}

/// What the browser says about its WebGPU adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdapterDesc {
    /// Vendor, architecture and description joined, e.g. "google swiftshader".
    pub name: String,
    /// True for CPU-emulated adapters.
    pub software: bool,
}

/// The backend in use and what the banner should say about it.
#[derive(Debug, Clone)]
pub struct ActiveBackend {
    /// The backend the training workers compute on.
    pub kind: BackendKind,
    /// The WebGPU adapter, when the browser has one.
    pub adapter: Option<AdapterDesc>,
    /// Why this backend was chosen, in a sentence.
    pub reason: String,
    /// Chosen without the user's say (no `?backend=`, no switch).
    pub automatic: bool,
}

impl ActiveBackend {
    /// Whether each training job should time itself on both backends and run on the faster
    /// (`worker::measure`): on a hardware adapter when the user has not chosen, or whenever
    /// `?measure_backend=1` asks (the tests, on a software adapter).
    pub fn measure_jobs(&self) -> bool {
        let asked = crate::app::env::url_param("measure_backend").as_deref() == Some("1");
        self.adapter.as_ref().is_some_and(|a| asked || (self.automatic && !a.software))
    }
}

impl PartialEq for ActiveBackend {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.adapter == other.adapter && self.reason == other.reason
    }
}

#[cfg(feature = "webgpu")]
thread_local! {
    static WEBGPU: std::cell::RefCell<Option<Result<Device, String>>> = const { std::cell::RefCell::new(None) };
}

/// The one WebGPU device of this module (a training worker's), created on first use.
#[cfg(feature = "webgpu")]
pub async fn webgpu_device() -> Result<Device, String> {
    use burn::tensor::wgpu::WgpuBackend;
    // cubecl's shader IR is registered by static constructors; any binary (the worker, the wasm
    // tests) must have run them before the first WebGPU device exists.
    crate::app::env::run_static_constructors();
    if let Some(done) = WEBGPU.with(|w| w.borrow().clone()) {
        return done;
    }
    let result = Device::wgpu_options()
        .graphics_api(WgpuBackend::WebGpu)
        .init_async()
        .await
        .map_err(|e| e.to_string());
    // Another task may have finished first; keep the first result (a second init fails).
    WEBGPU.with(|w| w.borrow_mut().get_or_insert(result).clone())
}

/// The page's module has no WebGPU backend: only the workers' module is built with it.
#[cfg(not(feature = "webgpu"))]
pub async fn webgpu_device() -> Result<Device, String> {
    Err("this module is built without WebGPU (only the training workers' module has it)".into())
}

/// The device a worker's job computes on: WebGPU when asked and it starts, else Flex. Returns
/// the backend actually used with it.
pub async fn device_for(kind: BackendKind) -> (BackendKind, Device) {
    if kind == BackendKind::WebGpu {
        match webgpu_device().await {
            Ok(device) => return (BackendKind::WebGpu, device),
            Err(e) => web_sys::console::warn_1(
                &format!("MNIST Lab: WebGPU failed to start ({e}); training on the CPU").into(),
            ),
        }
    }
    (BackendKind::Cpu, Device::flex())
}

fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Asks `navigator.gpu` for an adapter and describes it; `None` when WebGPU is missing.
pub async fn probe_adapter() -> Option<AdapterDesc> {
    let global = js_sys::global();
    let gpu = get(&get(&global, "navigator"), "gpu");
    if gpu.is_undefined() || gpu.is_null() {
        return None;
    }
    let request: Function = get(&gpu, "requestAdapter").dyn_into().ok()?;
    let promise: Promise = request.call0(&gpu).ok()?.dyn_into().ok()?;
    let adapter = JsFuture::from(promise).await.ok()?;
    if adapter.is_null() || adapter.is_undefined() {
        return None;
    }
    let info = get(&adapter, "info");
    let field = |k: &str| get(&info, k).as_string().unwrap_or_default();
    let parts: Vec<String> = ["vendor", "architecture", "device", "description"]
        .iter()
        .map(|k| field(k))
        .filter(|s| !s.is_empty())
        .collect();
    let name = if parts.is_empty() { "unnamed adapter".to_string() } else { parts.join(" ") };
    let fallback = get(&info, "isFallbackAdapter").as_bool().unwrap_or(false)
        || get(&adapter, "isFallbackAdapter").as_bool().unwrap_or(false);
    Some(AdapterDesc { software: fallback || is_software_name(&name), name })
}

pub use crate::lab::core::adapter::is_software_adapter as is_software_name;

/// The `?backend=` parameter: `Some(kind)` to force one, `None` for automatic.
pub fn requested_backend() -> Option<BackendKind> {
    match crate::app::env::url_param("backend").as_deref() {
        Some("webgpu") | Some("gpu") => Some(BackendKind::WebGpu),
        Some("cpu") | Some("flex") => Some(BackendKind::Cpu),
        _ => None,
    }
}

/// The page's own device: Flex, whatever the workers train on. The page's module carries no
/// WebGPU (#18), and its work is small: one 28×28 drawing is too little for a GPU (on WebGPU each
/// prediction paid a dispatch and readback round trip, 15 ms on SwiftShader against 1.5 ms on the
/// CPU, and queued behind the slider's 10k-image evaluations).
pub fn page_device() -> Device {
    Device::flex()
}

/// Picks the workers' backend: the request if given, else WebGPU on a hardware adapter and
/// Flex on a software one or when WebGPU is missing. The page's own device is Flex either way.
/// A worker whose WebGPU device then fails to start trains on the CPU (`device_for`).
pub async fn choose(request: Option<BackendKind>) -> ActiveBackend {
    let adapter = probe_adapter().await;
    let pick = |kind: BackendKind, reason: &str| ActiveBackend {
        kind,
        adapter: adapter.clone(),
        reason: reason.into(),
        automatic: request.is_none(),
    };
    match (request, &adapter) {
        (Some(BackendKind::Cpu), _) => pick(BackendKind::Cpu, "chosen with ?backend=cpu"),
        (Some(BackendKind::WebGpu), None) => pick(
            BackendKind::Cpu,
            "WebGPU was asked for, but this browser has no WebGPU adapter: training on the CPU",
        ),
        (Some(BackendKind::WebGpu), Some(_)) => {
            pick(BackendKind::WebGpu, "chosen with ?backend=webgpu or the switch")
        }
        (None, None) => pick(BackendKind::Cpu, "this browser has no WebGPU adapter"),
        (None, Some(a)) if a.software => pick(
            BackendKind::Cpu,
            "the WebGPU adapter is a software emulation, slower than the CPU backend; switch to WebGPU to try it anyway",
        ),
        (None, Some(_)) => pick(
            BackendKind::WebGpu,
            "a hardware WebGPU adapter is available; each training job times a few steps on \
             both backends and runs on the faster",
        ),
    }
}
