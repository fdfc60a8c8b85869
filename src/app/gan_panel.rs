//! The GAN studio (exercise 2 in the page): dense or CNN, the exercise's settings with
//! validation, start / pause / resume / stop with progress bars, the live 8×8 sample canvas, a
//! gallery of snapshots, loss and D-output charts, per-layer health, and a latent walk.
//!
//! Training runs in its own Web Worker (the same design as exercise 1); this component sends
//! commands and renders what the worker streams back.

use std::rc::Rc;

use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::app::backend::{ActiveBackend, BackendKind};
use crate::app::protocol::RunSpec;
use crate::app::store;
use crate::app::train_panel::ResumeRequest;
use crate::app::chart::{LineChart, Series};
use crate::app::gan_views::{Gallery, Health, SampleGrid, Snapshot};
use crate::app::protocol::{FromWorker, ToWorker};
use crate::app::tables::summary_table;
use crate::app::url_param;
use crate::app::worker_client::WorkerClient;
use crate::lab::gan::quality::Quality;
use crate::lab::gan::summary::{discriminator_summary, generator_summary};
use crate::lab::gan::trainer::grid_noise;
use crate::lab::gan::{GanArch, GanConfig, GanEpoch, LATENT_DIM};

/// Props: where to train.
#[derive(Properties, Debug, Clone, PartialEq)]
pub struct GanPanelProps {
    /// The active backend.
    pub backend: Option<ActiveBackend>,
    /// A stored GAN run to reopen.
    #[prop_or_default]
    pub resume: Option<ResumeRequest>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Status {
    #[default]
    Idle,
    Starting,
    Running,
    Paused,
    Done,
    Stopped,
    Failed,
    /// The GPU was lost or the worker crashed: the run waits at its last checkpoint.
    Interrupted,
    /// Training diverged: the run waits at its last checkpoint.
    Halted,
}

/// Everything a run streams back, kept outside yew's state so the worker's handler can append.
#[derive(Default)]
struct GanView {
    status: Status,
    error: Option<String>,
    backend: String,
    epoch: usize,
    batch: usize,
    batches: usize,
    d_loss: f64,
    g_loss: f64,
    ms_per_batch: f64,
    /// Smoothed per-batch losses: (global batch, D, G).
    smooth: Vec<(f64, f64, f64)>,
    history: Rc<Vec<GanEpoch>>,
    canvas: Option<(usize, Rc<Vec<u8>>)>,
    canvas_updates: usize,
    snapshots: Vec<Snapshot>,
    quality: Vec<Quality>,
    walk: Option<Rc<Vec<u8>>>,
    run_id: Option<String>,
    warning: Option<String>,
}

impl GanView {
    fn apply(&mut self, msg: Result<FromWorker, String>) {
        match msg {
            Ok(FromWorker::RunRestored(record)) => {
                self.run_id = Some(record.id.clone());
                self.history = Rc::new(record.gan_history.clone());
                self.epoch = record.epochs_done;
                self.snapshots = record.snapshots.iter().map(|s| Snapshot { epoch: s.epoch, images: Rc::new(s.images.clone()), quality: s.quality.clone() }).collect();
                self.quality = record.snapshots.iter().filter_map(|s| s.quality.clone()).collect();
                self.status = Status::Starting;
            }
            Ok(FromWorker::RunSaved { id, .. }) => {
                self.run_id = Some(id);
                store::announce_change();
            }
            Ok(FromWorker::SaveFailed(msg)) => self.warning = Some(msg),
            Ok(FromWorker::Halted { message, .. }) => {
                self.error = Some(message);
                self.status = Status::Halted;
                store::announce_change();
            }
            Ok(FromWorker::DeviceLost(msg)) | Ok(FromWorker::Crashed(msg)) => {
                self.error = Some(format!(
                    "{msg}. Training is paused and its history kept; continue from the last checkpoint (epoch {}) below.",
                    self.history.len()
                ));
                self.status = Status::Interrupted;
            }
            Ok(FromWorker::GanStarted { backend, batches_per_epoch }) => {
                self.backend = backend;
                self.batches = batches_per_epoch;
                self.status = Status::Running;
            }
            Ok(FromWorker::GanProgress { chunk: c, ms_per_batch }) => {
                self.ms_per_batch = ms_per_batch;
                (self.epoch, self.batch, self.batches) = (c.epoch, c.batch_in_epoch, c.batches_per_epoch);
                (self.d_loss, self.g_loss) = (c.d_loss, c.g_loss);
                let x = ((c.epoch - 1) * c.batches_per_epoch + c.batch_in_epoch) as f64;
                let (d, g) = match self.smooth.last() {
                    Some(&(_, d, g)) => (0.9 * d + 0.1 * c.d_loss, 0.9 * g + 0.1 * c.g_loss),
                    None => (c.d_loss, c.g_loss),
                };
                self.smooth.push((x, d, g));
                if let Some(e) = c.finished_epoch {
                    Rc::make_mut(&mut self.history).push(e);
                }
            }
            Ok(FromWorker::GanSamples { epoch, images }) => {
                self.canvas = Some((epoch, Rc::new(images)));
                self.canvas_updates += 1;
            }
            Ok(FromWorker::GanSnapshot { epoch, images, quality }) => {
                if let Some(q) = quality {
                    self.quality.push(q);
                }
                self.snapshots.push(Snapshot { epoch, images: Rc::new(images), quality });
            }
            Ok(FromWorker::Walk(images)) => self.walk = Some(Rc::new(images)),
            Ok(FromWorker::Paused) => self.status = Status::Paused,
            Ok(FromWorker::Resumed) => self.status = Status::Running,
            Ok(FromWorker::Stopped) => self.status = Status::Stopped,
            Ok(FromWorker::GanDone) => self.status = Status::Done,
            Ok(FromWorker::Failed(e)) | Err(e) => {
                if matches!(self.status, Status::Starting | Status::Running | Status::Paused) {
                    self.status = Status::Failed;
                }
                self.error = Some(e);
            }
            Ok(_) => {}
        }
    }

    /// A new run: keep the canvas (it shows the last generator until the new one draws).
    fn reset_run(&mut self) {
        *self = GanView { canvas: self.canvas.take(), canvas_updates: self.canvas_updates, status: Status::Starting, ..Default::default() };
    }
}

/// The text fields of the settings.
#[derive(Debug, Clone, PartialEq)]
struct Fields {
    epochs: String,
    batch: String,
    lr_g: String,
    lr_d: String,
    beta1: String,
    noise: String,
    seed: String,
}

impl Default for Fields {
    fn default() -> Self {
        Self {
            epochs: "20".into(),
            batch: "64".into(),
            lr_g: "0.0002".into(),
            lr_d: "0.0002".into(),
            beta1: "0.5".into(),
            noise: "0".into(),
            seed: "42".into(),
        }
    }
}

impl Fields {
    /// The defaults, with any setting a share link carries (`gan_epochs=…`, …).
    fn from_url() -> Self {
        let d = Fields::default();
        let p = |name: &str, default: String| url_param(name).unwrap_or(default);
        Fields {
            epochs: p("gan_epochs", d.epochs),
            batch: p("gan_batch", d.batch),
            lr_g: p("gan_lr_g", d.lr_g),
            lr_d: p("gan_lr_d", d.lr_d),
            beta1: p("gan_beta1", d.beta1),
            noise: p("gan_noise", d.noise),
            seed: p("gan_seed", d.seed),
        }
    }
}

/// Reads the settings into a validated config, or says what is wrong.
fn parse(arch: GanArch, f: &Fields, soft_labels: bool) -> Result<GanConfig, String> {
    let num = |name: &str, v: &str| -> Result<f64, String> { v.trim().parse::<f64>().map_err(|_| format!("{name}: `{v}` is not a number")) };
    let whole = |name: &str, v: &str| -> Result<usize, String> { v.trim().parse::<usize>().map_err(|_| format!("{name}: `{v}` is not a whole number ≥ 0")) };
    let config = GanConfig {
        arch,
        epochs: whole("epochs", &f.epochs)?,
        batch_size: whole("batch size", &f.batch)?,
        lr_g: num("generator learning rate", &f.lr_g)?,
        lr_d: num("discriminator learning rate", &f.lr_d)?,
        beta1: num("Adam β₁", &f.beta1)?,
        soft_labels,
        noise: num("instance noise σ", &f.noise)?,
        noise_anneal_epochs: 0,
        seed: f.seed.trim().parse().map_err(|_| format!("seed: `{}` is not a whole number", f.seed))?,
    };
    config.validate().map_err(|e| e.to_string())?;
    Ok(config)
}

/// The GAN studio.
#[component]
pub fn GanPanel(props: &GanPanelProps) -> Html {
    let arch = use_state(|| url_param("gan_arch").and_then(|a| GanArch::parse(&a)).unwrap_or_default());
    let fields = use_state(Fields::from_url);
    let soft = use_state(|| url_param("gan_soft").as_deref() == Some("true"));
    let noise_seed = use_state(|| 42u64);
    let picked = use_state(Vec::<usize>::new);
    let view = use_mut_ref(GanView::default);
    let redraw = use_force_update();
    let subset = url_param("gan_subset").and_then(|s| s.parse::<usize>().ok());

    // One worker for the panel, started at once so the pretrained generator (if shipped) shows;
    // replaced by a fresh one after a lost device or a crash.
    let worker = use_mut_ref(|| None::<WorkerClient>);
    let start_worker = {
        let (worker, view, redraw, arch, fields, soft) = (worker.clone(), view.clone(), redraw.clone(), arch.clone(), fields.clone(), soft.clone());
        Callback::from(move |_: ()| {
            match WorkerClient::ensure(&worker, true) {
                Ok(w) => {
                    let (view, redraw, arch, fields, soft) = (view.clone(), redraw.clone(), arch.clone(), fields.clone(), soft.clone());
                    w.on_reply(move |msg| {
                        // A reopened run puts its settings back in the form.
                        if let Ok(FromWorker::RunRestored(r)) = &msg
                            && let RunSpec::Gan { config: c, .. } = &r.spec
                        {
                            arch.set(c.arch);
                            soft.set(c.soft_labels);
                            fields.set(Fields {
                                epochs: c.epochs.to_string(),
                                batch: c.batch_size.to_string(),
                                lr_g: c.lr_g.to_string(),
                                lr_d: c.lr_d.to_string(),
                                beta1: c.beta1.to_string(),
                                noise: c.noise.to_string(),
                                seed: c.seed.to_string(),
                            });
                        }
                        view.borrow_mut().apply(msg);
                        redraw.force_update();
                    });
                }
                Err(e) => {
                    view.borrow_mut().error = Some(e);
                    redraw.force_update();
                }
            }
        })
    };
    {
        let (start_worker, worker) = (start_worker.clone(), worker.clone());
        let first_arch = *arch;
        use_effect_with((), move |_| {
            start_worker.emit(());
            if let Some(w) = &*worker.borrow() {
                w.post(ToWorker::Pretrained { arch: first_arch, noise_seed: 42 });
            }
        });
    }
    // Reopens a stored run (the current one after an interruption, or one from the run list) in
    // a fresh worker.
    let reopen = {
        let (start_worker, worker, view, redraw, fields) = (start_worker.clone(), worker.clone(), view.clone(), redraw.clone(), fields.clone());
        Callback::from(move |(id, backend, with_lr): (String, BackendKind, bool)| {
            if matches!(view.borrow().status, Status::Starting | Status::Running | Status::Paused) {
                view.borrow_mut().error = Some("a GAN run is going: stop it before reopening another (it keeps its checkpoints)".into());
                redraw.force_update();
                return;
            }
            // The form's rates only when continuing (lowered after a divergence); a run reopened
            // from the list keeps its own.
            let (lr, lr_d) = if with_lr { (fields.lr_g.trim().parse::<f64>().ok(), fields.lr_d.trim().parse::<f64>().ok()) } else { (None, None) };
            view.borrow_mut().reset_run();
            start_worker.emit(());
            if let Some(w) = &*worker.borrow() {
                w.post(ToWorker::ResumeRun { id, backend, lr, lr_d });
            }
            redraw.force_update();
        })
    };
    {
        let reopen = reopen.clone();
        let backend = props.backend.clone();
        use_effect_with(props.resume.clone(), move |req| {
            if let Some(req) = req
                && req.claim()
            {
                reopen.emit((req.id.clone(), backend.map(|b| b.kind).unwrap_or(BackendKind::Cpu), false));
            }
        });
    }
    let post = {
        let worker = worker.clone();
        move |msg: ToWorker| {
            if let Some(w) = &*worker.borrow() {
                w.post(msg);
            }
        }
    };

    let v = view.borrow();
    let running = matches!(v.status, Status::Starting | Status::Running | Status::Paused);
    let continue_on = |kind: BackendKind| {
        let (reopen, id, view, redraw) = (reopen.clone(), v.run_id.clone(), view.clone(), redraw.clone());
        Callback::from(move |_| match &id {
            Some(id) => reopen.emit((id.clone(), kind, true)),
            None => {
                view.borrow_mut().error = Some("this run has no saved checkpoint: start it again".into());
                redraw.force_update();
            }
        })
    };
    let test_hooks = url_param("test_hooks").is_some();

    let on_start = {
        let (arch, fields, soft, view, redraw, noise_seed, picked) = (arch.clone(), fields.clone(), soft.clone(), view.clone(), redraw.clone(), noise_seed.clone(), picked.clone());
        let backend = props.backend.clone();
        let post = post.clone();
        let (worker, start_worker) = (worker.clone(), start_worker.clone());
        Callback::from(move |_| {
            if !worker.borrow().as_ref().is_some_and(WorkerClient::is_alive) {
                start_worker.emit(()); // the last one ended with a lost device or a crash
            }
            let config = match parse(*arch, &fields, *soft) {
                Ok(c) => c,
                Err(e) => {
                    view.borrow_mut().error = Some(e);
                    redraw.force_update();
                    return;
                }
            };
            let Some(backend) = backend.clone() else {
                view.borrow_mut().error = Some("wait until the backend is ready".into());
                redraw.force_update();
                return;
            };
            view.borrow_mut().reset_run();
            noise_seed.set(config.seed);
            picked.set(Vec::new());
            redraw.force_update();
            post(ToWorker::Noise { seed: config.seed });
            post(ToWorker::Gan { config, backend: backend.kind, subset });
        })
    };
    let on_pause = {
        let post = post.clone();
        let paused = v.status == Status::Paused;
        Callback::from(move |_| post(if paused { ToWorker::Resume } else { ToWorker::Pause }))
    };
    let on_stop = {
        let post = post.clone();
        Callback::from(move |_| post(ToWorker::Stop))
    };
    let on_arch = {
        let (arch, post) = (arch.clone(), post.clone());
        let (noise_seed, view, picked) = (noise_seed.clone(), view.clone(), picked.clone());
        Callback::from(move |e: Event| {
            let a = GanArch::parse(&e.target_unchecked_into::<HtmlSelectElement>().value()).unwrap_or_default();
            crate::app::share::set_param("gan_arch", Some(a.slug()));
            arch.set(a);
            {
                let mut v = view.borrow_mut();
                (v.canvas, v.walk) = (None, None);
            }
            picked.set(Vec::new());
            post(ToWorker::Pretrained { arch: a, noise_seed: *noise_seed });
        })
    };
    let on_new_noise = {
        let (noise_seed, post, picked) = (noise_seed.clone(), post.clone(), picked.clone());
        Callback::from(move |_| {
            let seed = (*noise_seed).wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407) >> 1;
            noise_seed.set(seed);
            picked.set(Vec::new());
            post(ToWorker::Noise { seed });
        })
    };
    let on_pick = {
        let picked = picked.clone();
        Callback::from(move |k: usize| {
            let mut p = (*picked).clone();
            if p.len() == 2 {
                p.clear();
            }
            if !p.contains(&k) {
                p.push(k);
            }
            picked.set(p);
        })
    };
    let on_walk = {
        let (picked, noise_seed, post) = (picked.clone(), noise_seed.clone(), post.clone());
        Callback::from(move |_| {
            if let [i, j] = picked[..] {
                let noise = grid_noise(*noise_seed);
                let vec = |k: usize| noise[k * LATENT_DIM..(k + 1) * LATENT_DIM].to_vec();
                post(ToWorker::Walk { a: vec(i), b: vec(j), steps: 10 });
            }
        })
    };

    let field = |label: &str, testid: &str, get: fn(&Fields) -> &String, set: fn(&mut Fields, String)| {
        let f = fields.clone();
        let param = testid.replace('-', "_");
        html! {
            <label>{label}
                <input data-testid={testid.to_string()} value={get(&fields).clone()} disabled={running}
                       oninput={Callback::from(move |e: InputEvent| {
                           let mut n = (*f).clone();
                           let v = e.target_unchecked_into::<HtmlInputElement>().value();
                           crate::app::share::set_param(&param, Some(&v));
                           set(&mut n, v);
                           f.set(n);
                       })} />
            </label>
        }
    };
    let epochs_total = fields.epochs.trim().parse::<usize>().unwrap_or(0);
    let epoch_frac = if v.batches > 0 { v.batch as f64 / v.batches as f64 } else { 0.0 };
    let run_frac = if epochs_total > 0 { ((v.epoch.max(1) - 1) as f64 + epoch_frac) / epochs_total as f64 } else { 0.0 };
    let status_text = match v.status {
        Status::Idle => "ready".to_string(),
        Status::Starting => "starting: loading Fashion-MNIST and the quality judge…".to_string(),
        Status::Running => format!(
            "training on {}: epoch {}, batch {}/{} · D loss {:.4} · G loss {:.4} · {:.0} ms per step",
            v.backend, v.epoch, v.batch, v.batches, v.d_loss, v.g_loss, v.ms_per_batch
        ),
        Status::Paused => format!("paused at epoch {}, batch {}/{}", v.epoch, v.batch, v.batches),
        Status::Done => format!("done: {} epochs", v.history.len()),
        Status::Stopped => format!("stopped after {} full epoch(s)", v.history.len()),
        Status::Failed => "failed".to_string(),
        Status::Interrupted => format!("interrupted after {} full epoch(s): waiting to continue", v.history.len()),
        Status::Halted => format!("diverged: paused at the last good checkpoint (epoch {})", v.history.len()),
    };
    let per_epoch = |f: fn(&GanEpoch) -> f64| v.history.iter().map(|e| (e.epoch as f64, f(e))).collect::<Vec<_>>();
    let (g_sum, d_sum) = (generator_summary(*arch), discriminator_summary(*arch));
    html! {
        <div class="card wide gan">
            <h3>{"GAN studio — Fashion-MNIST"}</h3>
            <p class="hint">{format!(
                "Per batch: D steps on real ‖ fake (permuted), then G steps through a frozen D. Adam for both, binary cross-entropy{}.",
                subset.map(|n| format!("; first {n} training images")).unwrap_or_default()
            )}</p>
            <div class="controls">
                <label>{"architecture"}
                    <select data-testid="gan-arch" onchange={on_arch} disabled={running}>
                        <option value="dense" selected={*arch == GanArch::Dense}>{"dense"}</option>
                        <option value="cnn" selected={*arch == GanArch::Cnn}>{"CNN (DCGAN-style)"}</option>
                    </select>
                </label>
                {field("epochs", "gan-epochs", |f| &f.epochs, |f, v| f.epochs = v)}
                {field("batch size", "gan-batch", |f| &f.batch, |f, v| f.batch = v)}
                {field("G learning rate", "gan-lr-g", |f| &f.lr_g, |f, v| f.lr_g = v)}
                {field("D learning rate", "gan-lr-d", |f| &f.lr_d, |f, v| f.lr_d = v)}
                {field("Adam β₁", "gan-beta1", |f| &f.beta1, |f, v| f.beta1 = v)}
                {field("instance noise σ", "gan-noise", |f| &f.noise, |f, v| f.noise = v)}
                {field("seed", "gan-seed", |f| &f.seed, |f, v| f.seed = v)}
                <label class="check">
                    <input type="checkbox" data-testid="gan-soft" checked={*soft} disabled={running}
                           onchange={{ let soft = soft.clone(); Callback::from(move |_| {
                               crate::app::share::set_param("gan_soft", Some(if *soft { "false" } else { "true" }));
                               soft.set(!*soft)
                           }) }} />
                    {"soft labels (0.9 / 0.1)"}
                </label>
            </div>
            <div class="buttons">
                <button data-testid="gan-start" onclick={on_start} disabled={running}>{"Start"}</button>
                <button data-testid="gan-pause" onclick={on_pause} disabled={!matches!(v.status, Status::Running | Status::Paused)}>
                    { if v.status == Status::Paused { "Resume" } else { "Pause" } }
                </button>
                <button data-testid="gan-stop" onclick={on_stop} disabled={!running}>{"Stop"}</button>
                if test_hooks {
                    <button data-testid="gan-lose-device" onclick={{ let post = post.clone(); Callback::from(move |_| post(ToWorker::LoseDevice)) }}
                            disabled={!running}>{"Test: lose the GPU device"}</button>
                }
            </div>
            if matches!(v.status, Status::Interrupted | Status::Halted) {
                <div class="buttons">
                    <button data-testid="gan-continue-cpu" onclick={continue_on(BackendKind::Cpu)}>{"Continue on the CPU"}</button>
                    <button data-testid="gan-continue-webgpu" onclick={continue_on(BackendKind::WebGpu)}>{"Continue on WebGPU (a new device)"}</button>
                </div>
            }
            if let Some(e) = &v.error { <p class="error" role="alert" data-testid="gan-error">{e}</p> }
            if let Some(w) = &v.warning { <p class="warning" role="status" data-testid="gan-warning">{w}</p> }
            <div class="progress-rows">
                <label>{"epoch"}<progress data-testid="gan-epoch-progress" max="1" value={epoch_frac.to_string()}></progress></label>
                <label>{"run"}<progress data-testid="gan-run-progress" max="1" value={run_frac.min(1.0).to_string()}></progress></label>
            </div>
            <p data-testid="gan-status" data-run-id={v.run_id.clone().unwrap_or_default()} data-status={format!("{:?}", v.status).to_lowercase()} data-epochs-done={v.history.len().to_string()}
               data-d-loss={v.d_loss.to_string()} data-ms-per-batch={format!("{:.1}", v.ms_per_batch)} data-g-loss={v.g_loss.to_string()} data-batch={v.batch.to_string()}>{status_text}</p>
            <div class="gan-main">
                <div>
                    <h4>{"Samples (fixed noise)"}</h4>
                    { match &v.canvas {
                        Some((epoch, images)) => html! {
                            <div data-canvas-epoch={epoch.to_string()} data-canvas-updates={v.canvas_updates.to_string()}>
                                <SampleGrid images={images.clone()} scale={2} testid="gan-canvas" on_pick={on_pick} selected={(*picked).clone()} />
                                <p class="hint">{ if *epoch == 0 { "pretrained / untrained generator".to_string() } else { format!("epoch {epoch}") } }</p>
                            </div>
                        },
                        None => html! { <p class="hint" data-testid="gan-canvas-empty">{"Start a run: samples appear here every few batches."}</p> },
                    } }
                    <div class="buttons">
                        <button data-testid="gan-new-noise" onclick={on_new_noise} disabled={v.canvas.is_none()}>{"New noise"}</button>
                        <button data-testid="gan-walk-go" onclick={on_walk} disabled={picked.len() != 2}>
                            { format!("Latent walk ({}/2 picked)", picked.len()) }
                        </button>
                    </div>
                    <p class="hint">{"Click two samples, then walk the straight line between their noise vectors."}</p>
                    if let Some(w) = &v.walk {
                        <SampleGrid images={w.clone()} cols={10} scale={2} testid="gan-walk" />
                    }
                </div>
                <div data-testid="gan-loss-chart" class="charts" data-points={v.history.len().to_string()} data-batches={v.smooth.len().to_string()}>
                    <LineChart series={vec![Series { label: "D loss".into(), points: per_epoch(|e| e.d_loss) },
                                            Series { label: "G loss".into(), points: per_epoch(|e| e.g_loss) }]}
                               title="loss per epoch" x_label="epoch" size={(380, 220)} />
                    <LineChart series={vec![Series { label: "D loss (smoothed)".into(), points: v.smooth.iter().map(|p| (p.0, p.1)).collect() },
                                            Series { label: "G loss (smoothed)".into(), points: v.smooth.iter().map(|p| (p.0, p.2)).collect() }]}
                               title="loss per batch" x_label="batch" size={(380, 220)} />
                    <LineChart series={vec![Series { label: "D(real)".into(), points: per_epoch(|e| e.d_real) },
                                            Series { label: "D(fake)".into(), points: per_epoch(|e| e.d_fake) }]}
                               title="D's mean output" x_label="epoch" size={(380, 220)} />
                </div>
            </div>
            <h4>{"Gallery"}</h4>
            <Gallery snapshots={v.snapshots.clone()} />
            <h4>{"Health"}</h4>
            <Health history={v.history.clone()} quality={v.quality.clone()} />
            <h4>{"Models"}</h4>
            <div class="summaries" data-testid="gan-summaries" data-arch={arch.slug()}>
                <div data-testid="gan-summary-g">{summary_table(&g_sum)}</div>
                <div data-testid="gan-summary-d">{summary_table(&d_sum)}</div>
            </div>
        </div>
    }
}
