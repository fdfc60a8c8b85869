//! Watching the WebGPU device a page or worker gets: `GPUAdapter.prototype.requestDevice` is
//! wrapped (with a `Proxy`: no `eval`, so a strict CSP holds) to keep the device wgpu receives
//! and to listen to its `lost` promise. A driver reset, a removed GPU or the test hook then
//! becomes a sentence for the caller instead of a hang or a run of failures on a dead device.
//! The worker pauses its run (or, idle, ends itself). Only workers make WebGPU devices: the
//! page's module has no WebGPU (#18).

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};

thread_local! {
    static GPU_DEVICE: RefCell<Option<JsValue>> = const { RefCell::new(None) };
}

/// True once a WebGPU device was created here.
pub fn has_device() -> bool {
    GPU_DEVICE.with(|d| d.borrow().is_some())
}

/// Calls `on_lost` with a sentence ("the GPU device was lost (destroyed: …)") when a device
/// created from now on is lost. Call it once, before the first device is made.
pub fn watch_gpu_devices(on_lost: impl Fn(String) + 'static) {
    let proto = Reflect::get(&js_sys::global(), &"GPUAdapter".into())
        .and_then(|c| Reflect::get(&c, &"prototype".into()));
    let Ok(proto) = proto else { return };
    let Ok(original) = Reflect::get(&proto, &"requestDevice".into()) else { return };
    let Ok(original_fn) = original.clone().dyn_into::<Function>() else { return };
    let on_lost = Rc::new(on_lost);
    let trap = Closure::<dyn FnMut(JsValue, JsValue, Array) -> JsValue>::new(
        move |_target: JsValue, this: JsValue, args: Array| {
            let promise: Promise = match Reflect::apply(&original_fn, &this, &args)
                .and_then(|p| p.dyn_into::<Promise>())
            {
                Ok(p) => p,
                Err(e) => return Promise::reject(&e).into(),
            };
            let on_lost = on_lost.clone();
            let on_device = Closure::<dyn FnMut(JsValue)>::new(move |device: JsValue| {
                GPU_DEVICE.with(|d| *d.borrow_mut() = Some(device.clone()));
                let on_lost = on_lost.clone();
                let lost = Closure::<dyn FnMut(JsValue)>::new(move |info: JsValue| {
                    let field = |k: &str| {
                        Reflect::get(&info, &k.into())
                            .ok()
                            .and_then(|v| v.as_string())
                            .unwrap_or_default()
                    };
                    on_lost(format!(
                        "the GPU device was lost ({}{}{})",
                        field("reason"),
                        if field("message").is_empty() { "" } else { ": " },
                        field("message")
                    ));
                });
                if let Ok(p) =
                    Reflect::get(&device, &"lost".into()).and_then(|l| l.dyn_into::<Promise>())
                {
                    let _ = p.then(&lost);
                }
                lost.forget();
            });
            let _ = promise.then(&on_device);
            on_device.forget();
            promise.into()
        },
    );
    let handler = js_sys::Object::new();
    let _ = Reflect::set(&handler, &"apply".into(), trap.as_ref());
    trap.forget();
    let proxy = js_sys::Proxy::new(&original, &handler);
    let _ = Reflect::set(&proto, &"requestDevice".into(), &proxy);
}

/// The test hook: destroys the device as a driver reset would (its `lost` fires); `false` when
/// there is none.
pub fn lose_device() -> bool {
    let Some(device) = GPU_DEVICE.with(|d| d.borrow().clone()) else { return false };
    if let Ok(destroy) =
        Reflect::get(&device, &"destroy".into()).and_then(|f| f.dyn_into::<Function>())
    {
        let _ = destroy.call0(&device);
    }
    true
}
