//! Choosing the compute backend in the browser: WebGPU when it is a real GPU, the Flex CPU
//! backend otherwise.
//!
//! A software WebGPU adapter (SwiftShader, llvmpipe) emulates the GPU on the CPU and is far
//! slower than Flex (measured here: ~836 ms vs ~10–36 ms per Adam step of a small MLP), so the
//! default picks Flex there and says why. `?backend=webgpu|cpu` overrides the choice, and the
//! banner lets the user switch. The WebGPU device can be initialised only once per page, so it is
//! created once and shared.

use std::cell::RefCell;

use burn::tensor::Device;
use burn::tensor::wgpu::WgpuBackend;
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
    /// The backend computing now.
    pub kind: BackendKind,
    /// The device to create tensors on (without autodiff).
    pub device: Device,
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

thread_local! {
    static WEBGPU: RefCell<Option<Result<Device, String>>> = const { RefCell::new(None) };
}

/// The one WebGPU device of this page, created on first use.
pub async fn webgpu_device() -> Result<Device, String> {
    // cubecl's shader IR is registered by static constructors; any binary (the page, the worker,
    // the wasm tests) must have run them before the first WebGPU device exists.
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

thread_local! {
    /// Why the page's own WebGPU device was lost, once it was: burn makes one WebGPU device per
    /// page, so the page stays on the CPU until it is reloaded.
    static PAGE_GPU_LOST: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Records that the page's WebGPU device was lost ([`choose`] then picks the CPU).
pub fn mark_gpu_lost(why: String) {
    PAGE_GPU_LOST.with(|l| *l.borrow_mut() = Some(why));
}

/// Why the page's WebGPU device was lost, if it was.
pub fn page_gpu_lost() -> Option<String> {
    PAGE_GPU_LOST.with(|l| l.borrow().clone())
}

/// Picks and initialises the backend: the request if given, else WebGPU on a hardware adapter
/// and Flex on a software one or when WebGPU is missing or fails.
pub async fn choose(request: Option<BackendKind>) -> ActiveBackend {
    let adapter = probe_adapter().await;
    let cpu = |reason: String, adapter: Option<AdapterDesc>| ActiveBackend {
        kind: BackendKind::Cpu,
        device: Device::flex(),
        adapter,
        reason,
        automatic: request.is_none(),
    };
    if let Some(why) = PAGE_GPU_LOST.with(|l| l.borrow().clone()) {
        return cpu(
            format!(
                "{why}: the page computes on the CPU now (reload the page to use WebGPU again)"
            ),
            adapter,
        );
    }
    let want_gpu = match (request, &adapter) {
        (Some(BackendKind::Cpu), _) => return cpu("chosen with ?backend=cpu".into(), adapter),
        (Some(BackendKind::WebGpu), _) => true,
        (None, None) => return cpu("this browser has no WebGPU adapter".into(), None),
        (None, Some(a)) if a.software => {
            return cpu(
                "the WebGPU adapter is a software emulation, slower than the CPU backend; switch to WebGPU to try it anyway"
                    .into(),
                adapter,
            );
        }
        (None, Some(_)) => false,
    };
    match webgpu_device().await {
        Ok(device) => ActiveBackend {
            kind: BackendKind::WebGpu,
            device,
            reason: if want_gpu {
                "chosen with ?backend=webgpu or the switch".into()
            } else {
                "a hardware WebGPU adapter is available; each training job times a few steps on \
                 both backends and runs on the faster"
                    .into()
            },
            adapter,
            automatic: !want_gpu,
        },
        Err(e) => cpu(format!("WebGPU failed to start ({e}); using the CPU backend"), adapter),
    }
}
