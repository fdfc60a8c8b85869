//! The training worker: owns burn and its device (WebGPU works in dedicated workers), loads
//! MNIST itself, runs the loop and streams typed progress to the page.
//!
//! This file is the entry point and the routing: the jobs live in `classifier` and `gan`, the
//! run records in `persist`, and what they all share (pause/stop, `send`) in `control`.

mod classifier;
pub mod client;
mod control;
pub mod diagnose;
mod gan;
mod measure;
pub mod meter;
mod persist;
pub mod protocol;
pub mod record;
pub mod user_data;

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::MessageEvent;

use crate::app::backend::BackendKind;
use crate::app::gpu_watch;
use crate::app::io::store;
use crate::app::worker::classifier::classifier;
use crate::app::worker::control::{Control, scope, send};
use crate::app::worker::gan::{GanShared, Shared, gan, images_from, pretrained, send_canvas};
use crate::app::worker::persist::new_record;
use crate::app::worker::protocol::{BaseRef, FromWorker, RunSpec, ToWorker, decode};
use crate::app::worker::user_data::{DataRef, UserTrainSet};
use crate::lab::core::checkpoint::Checkpoint;
use crate::lab::core::safetensors::fingerprint;
use crate::lab::gan::sampling::interpolate;

/// Entry point of the worker binary: listen for commands.
pub fn start() {
    crate::app::env::run_static_constructors();
    console_error_panic_hook::set_once();
    let control = Rc::new(RefCell::new(Control::default()));
    // A lost device stops the run that uses it; `false` when no run is going (nothing to pause).
    let stopper = {
        let control = control.clone();
        move |why: String| {
            let mut c = control.borrow_mut();
            c.stop = true;
            c.lost = Some(why);
            c.running
        }
    };
    let shared: Shared = Rc::new(RefCell::new(GanShared::default()));
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        let msg: ToWorker = match decode(&e.data()) {
            Ok(m) => m,
            Err(err) => return send(FromWorker::Failed(format!("the worker received {err}"))),
        };
        match msg {
            ToWorker::Pause => {
                control.borrow_mut().paused = true;
                send(FromWorker::Paused);
            }
            ToWorker::Resume => {
                control.borrow_mut().paused = false;
                send(FromWorker::Resumed);
            }
            ToWorker::Stop => control.borrow_mut().stop = true,
            ToWorker::LoseDevice => {
                if !gpu_watch::lose_device() {
                    send(FromWorker::Failed(
                        "there is no WebGPU device to lose: this run is on the CPU".into(),
                    ));
                }
            }
            ToWorker::Diverge => control.borrow_mut().diverge = true,
            ToWorker::Pretrained { arch, noise_seed } => {
                if control.borrow().running {
                    return; // the canvas is the run's: the shipped generator must not replace it
                }
                shared.borrow_mut().g = None; // an idle page switching architecture
                let shared = shared.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    if let Err(e) = pretrained(arch, noise_seed, &shared).await {
                        send(FromWorker::Failed(format!(
                            "could not load the pretrained generator: {e}"
                        )));
                    }
                });
            }
            ToWorker::Noise { seed } => {
                shared.borrow_mut().noise_seed = seed;
                if shared.borrow().g.is_none() {
                    return; // nothing to draw yet: the next run's canvas uses this seed
                }
                let shared = shared.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    if let Err(e) = send_canvas(&shared).await {
                        send(FromWorker::Failed(e));
                    }
                });
            }
            ToWorker::Walk { a, b, steps } => {
                let shared = shared.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    if a.len() != crate::lab::gan::LATENT_DIM
                        || b.len() != a.len()
                        || !(2..=32).contains(&steps)
                    {
                        return send(FromWorker::Failed(
                            "a latent walk needs two 100-d vectors and 2–32 steps".into(),
                        ));
                    }
                    match images_from(&shared, interpolate(&a, &b, steps)).await {
                        Ok(images) => send(FromWorker::Walk(images)),
                        Err(e) => send(FromWorker::Failed(e)),
                    }
                });
            }
            job => {
                if control.borrow().running {
                    return send(FromWorker::Failed(
                        "a run is already going: stop it first".into(),
                    ));
                }
                *control.borrow_mut() = Control { running: true, ..Control::default() };
                let control = control.clone();
                let shared = shared.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    let outcome = match job {
                        ToWorker::Gan { config, backend, subset, measure } => {
                            gan(
                                new_record(RunSpec::Gan { config, subset }, backend),
                                None,
                                measure,
                                &control,
                                &shared,
                            )
                            .await
                        }
                        ToWorker::Train { config, backend, subset, measure, data } => {
                            match user_data::decode(data) {
                                Ok(user) => {
                                    let data = user.as_ref().map(|(n, d)| DataRef::of(n, d));
                                    let spec = RunSpec::Classifier { config, subset, data };
                                    let record = new_record(spec, backend);
                                    classifier(record, None, None, user, measure, &control).await
                                }
                                Err(e) => Err(e),
                            }
                        }
                        ToWorker::Refine {
                            base,
                            ranks,
                            factor,
                            config,
                            backend,
                            subset,
                            measure,
                            base_described,
                            rule,
                            data,
                        } => {
                            let user = match user_data::decode(data) {
                                Ok(u) => u,
                                Err(e) => return send(FromWorker::Failed(e)),
                            };
                            let base_ref = BaseRef {
                                fingerprint: fingerprint(&base),
                                described: base_described,
                            };
                            let record = new_record(
                                RunSpec::Refine {
                                    ranks,
                                    factor,
                                    before: f64::NAN,
                                    config,
                                    subset,
                                    base: Some(base_ref),
                                    rule,
                                    data: user.as_ref().map(|(n, d)| DataRef::of(n, d)),
                                },
                                backend,
                            );
                            classifier(record, None, Some(base), user, measure, &control).await
                        }
                        ToWorker::ResumeRun { id, backend, lr, lr_d, data } => {
                            match user_data::decode(data) {
                                Ok(user) => {
                                    let rates = (lr, lr_d);
                                    reopen(&id, backend, rates, user, &control, &shared).await
                                }
                                Err(e) => Err(e),
                            }
                        }
                        ToWorker::Smoke { steps, backend } => {
                            diagnose::smoke(steps, backend, &control).await
                        }
                        ToWorker::Bench { has_gpu } => diagnose::bench(has_gpu, &control).await,
                        _ => Ok(None),
                    };
                    // A lost GPU usually shows first as a failed readback, and its `lost` promise
                    // settles a moment later: give it that moment, so the page hears "device lost"
                    // (pause, continue on the CPU) rather than a bare failure.
                    let outcome = match outcome {
                        Err(e) if gpu_watch::has_device() => {
                            for _ in 0..40 {
                                if control.borrow().lost.is_some() {
                                    break;
                                }
                                gloo_timers::future::TimeoutFuture::new(50).await;
                            }
                            let lost = control.borrow().lost.clone();
                            match lost {
                                Some(why) => Ok(Some(FromWorker::DeviceLost(why))),
                                None => Err(e),
                            }
                        }
                        other => other,
                    };
                    control.borrow_mut().running = false;
                    send(match outcome {
                        Ok(Some(done)) => done,
                        Ok(None) => FromWorker::Stopped,
                        Err(e) => FromWorker::Failed(e),
                    });
                });
            }
        }
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    // While idle nobody would notice a lost device until the next run failed on it: say so now,
    // and the page replaces this worker.
    gpu_watch::watch_gpu_devices(move |why| {
        send(if stopper(why.clone()) {
            FromWorker::DeviceLost(why)
        } else {
            FromWorker::DeviceLostIdle(why)
        })
    });
    // A panic leaves the wasm instance unusable: tell the page, which can reopen the run's last
    // checkpoint in a fresh worker.
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        send(FromWorker::Crashed(info.to_string()));
    }));
    send(FromWorker::Ready);
}

/// Reopens a stored run from its checkpoint: continues it, or shows it if it had finished.
async fn reopen(
    id: &str,
    backend: BackendKind,
    (lr, lr_d): (Option<f64>, Option<f64>),
    user: Option<UserTrainSet>,
    control: &Rc<RefCell<Control>>,
    shared: &Shared,
) -> Result<Option<FromWorker>, String> {
    let (mut record, bytes) = store::load(id).await?;
    let checkpoint =
        bytes.map(|b| Checkpoint::from_bytes(&b)).transpose().map_err(|e| e.to_string())?;
    match &mut record.spec {
        RunSpec::Classifier { config, .. } | RunSpec::Refine { config, .. } => {
            if let Some(lr) = lr {
                config.lr = lr;
            }
        }
        RunSpec::Gan { config, .. } => {
            if let Some(lr) = lr {
                config.lr_g = lr;
            }
            if let Some(lr) = lr_d {
                config.lr_d = lr;
            }
        }
    }
    // A checkpoint holds whole epochs: anything recorded after it is redone.
    let done = checkpoint.as_ref().map(|c| c.loop_state.epochs_done).unwrap_or(0);
    record.history.truncate(done);
    record.gan_history.truncate(done);
    record.snapshots.retain(|s| s.epoch <= done);
    record.epochs_done = done;
    record.backend = backend;
    record.note = None;
    send(FromWorker::RunRestored(Box::new(record.clone())));
    match record.spec {
        RunSpec::Gan { .. } => gan(record, checkpoint, false, control, shared).await,
        _ => classifier(record, checkpoint, None, user, false, control).await,
    }
}
