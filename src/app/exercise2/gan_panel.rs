//! The GAN studio (exercise 2 in the page): dense or CNN, the exercise's settings with
//! validation, start / pause / resume / stop with progress bars, the live 8×8 sample canvas, a
//! gallery of snapshots, loss and D-output charts, per-layer health, and a latent walk.
//!
//! Training runs in its own Web Worker (the same design as exercise 1), with the shared run
//! lifecycle (`app/run/`); this component sends commands and renders what the worker streams.

use std::rc::Rc;

use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::app::backend::BackendKind;
use crate::app::context::use_lab;
use crate::app::env;
use crate::app::env::url_param;
use crate::app::exercise2::gan_form::{Fields, parse};
use crate::app::exercise2::gan_views::{Gallery, Health, SampleGrid, Snapshot};
use crate::app::io::share;
use crate::app::run::controls::{RunControls, RunIds};
use crate::app::run::hook::{Reply, use_run};
use crate::app::run::resume::{ResumeRequest, use_resume};
use crate::app::widgets::chart::{LineChart, Series};
use crate::app::widgets::tables::summary_table;
use crate::app::window_event::use_window_event;
use crate::app::worker::protocol::{FromWorker, RunSpec, ToWorker};
use crate::lab::gan::quality::Quality;
use crate::lab::gan::sampling::grid_noise;
use crate::lab::gan::summary::{discriminator_summary, generator_summary};
use crate::lab::gan::{GanArch, GanConfig, GanEpoch, LATENT_DIM};

/// Props: which stored run to reopen.
#[derive(Properties, Debug, Clone, PartialEq)]
pub struct GanPanelProps {
    /// A stored GAN run to reopen.
    #[prop_or_default]
    pub resume: Option<ResumeRequest>,
    /// The guide asks for the assignment's run of an architecture (a new number each time).
    #[prop_or_default]
    pub assignment: Option<(GanArch, u32)>,
}

const IDS: RunIds = RunIds {
    start: Some("gan-start"),
    pause: "gan-pause",
    stop: "gan-stop",
    lose_device: "gan-lose-device",
    diverge: "gan-diverge",
    continue_row: "gan-continue",
    continue_cpu: "gan-continue-cpu",
    continue_webgpu: "gan-continue-webgpu",
    error: "gan-error",
    warning: "gan-warning",
    epoch_progress: "gan-epoch-progress",
    run_progress: "gan-run-progress",
    status: "gan-status",
};

/// What a run streams back beyond its lifecycle, kept outside yew's state so the worker's
/// handler appends without copying the per-batch series.
#[derive(Default)]
struct GanView {
    d_loss: f64,
    g_loss: f64,
    /// Smoothed per-batch losses: (global batch, D, G).
    smooth: Vec<(f64, f64, f64)>,
    history: Rc<Vec<GanEpoch>>,
    canvas: Option<(usize, Rc<Vec<u8>>)>,
    canvas_updates: usize,
    snapshots: Vec<Snapshot>,
    quality: Vec<Quality>,
    walk: Option<Rc<Vec<u8>>>,
}

impl GanView {
    fn apply(&mut self, msg: &Result<FromWorker, String>) {
        match msg {
            Ok(FromWorker::RunRestored(record)) => {
                self.history = Rc::new(record.gan_history.clone());
                self.snapshots = record
                    .snapshots
                    .iter()
                    .map(|s| Snapshot {
                        epoch: s.epoch,
                        images: Rc::new(s.images.clone()),
                        quality: s.quality,
                    })
                    .collect();
                self.quality = record.snapshots.iter().filter_map(|s| s.quality).collect();
            }
            Ok(FromWorker::GanProgress { chunk: c, .. }) => {
                (self.d_loss, self.g_loss) = (c.d_loss, c.g_loss);
                let x = ((c.epoch - 1) * c.batches_per_epoch + c.batch_in_epoch) as f64;
                let (d, g) = match self.smooth.last() {
                    Some(&(_, d, g)) => (0.9 * d + 0.1 * c.d_loss, 0.9 * g + 0.1 * c.g_loss),
                    None => (c.d_loss, c.g_loss),
                };
                self.smooth.push((x, d, g));
                if let Some(e) = &c.finished_epoch {
                    Rc::make_mut(&mut self.history).push(e.clone());
                }
            }
            Ok(FromWorker::GanSamples { epoch, images }) => {
                self.canvas = Some((*epoch, Rc::new(images.clone())));
                self.canvas_updates += 1;
            }
            Ok(FromWorker::GanSnapshot { epoch, images, quality }) => {
                if let Some(q) = quality {
                    self.quality.push(*q);
                }
                self.snapshots.push(Snapshot {
                    epoch: *epoch,
                    images: Rc::new(images.clone()),
                    quality: *quality,
                });
            }
            Ok(FromWorker::Walk(images)) => self.walk = Some(Rc::new(images.clone())),
            _ => {}
        }
    }

    /// A new run: keep the canvas (it shows the last generator until the new one draws).
    fn reset_run(&mut self) {
        *self = GanView {
            canvas: self.canvas.take(),
            canvas_updates: self.canvas_updates,
            ..Default::default()
        };
    }
}

/// The GAN studio.
#[component]
pub fn GanPanel(props: &GanPanelProps) -> Html {
    let lab = use_lab();
    let arch =
        use_state(|| url_param("gan_arch").and_then(|a| GanArch::parse(&a)).unwrap_or_default());
    let fields = use_state(Fields::from_url);
    let soft = use_state(|| url_param("gan_soft").as_deref() == Some("true"));
    let noise_seed = use_state(|| 42u64);
    let picked = use_state(Vec::<usize>::new);
    let view = use_mut_ref(GanView::default);
    let redraw = use_force_update();
    let subset = url_param("gan_subset").and_then(|s| s.parse::<usize>().ok());

    let listener = {
        let (view, redraw, arch, fields, soft) =
            (view.clone(), redraw.clone(), arch.clone(), fields.clone(), soft.clone());
        Callback::from(move |msg: Reply| {
            // A reopened run puts its settings back in the form.
            if let Ok(FromWorker::RunRestored(r)) = &*msg
                && let RunSpec::Gan { config: c, .. } = &r.spec
            {
                arch.set(c.arch);
                soft.set(c.soft_labels);
                fields.set(Fields::of(c));
            }
            view.borrow_mut().apply(&msg);
            redraw.force_update();
        })
    };
    let run = use_run("Training", "a GAN run", listener);
    {
        // One worker for the panel, replaced by a fresh one after a lost device or a crash. It
        // starts once the first screen has settled (`env::announce_interactive`), so that the
        // workers' module (the WebGPU stack, #18) never competes with the first screen; then the
        // pretrained generator (if shipped) shows. A job started earlier starts the worker itself
        // and keeps it: its canvas is the run's, not the shipped generator's.
        let run = run.clone();
        let first_arch = *arch;
        let seed = *noise_seed;
        let going = run.status().going();
        let interactive = use_state(env::is_interactive);
        {
            let interactive = interactive.clone();
            use_window_event(
                env::INTERACTIVE_EVENT,
                Callback::from(move |_| interactive.set(true)),
            );
        }
        let started = use_mut_ref(|| false);
        use_effect_with(*interactive, move |in_| {
            if *in_ && !going && !std::mem::replace(&mut *started.borrow_mut(), true) {
                match run.client(false) {
                    Ok(w) => w.post(ToWorker::Pretrained { arch: first_arch, noise_seed: seed }),
                    Err(e) => run.fail(e),
                }
            }
        });
    }
    // Reopens a stored run (the current one after an interruption, or one from the run list) in
    // a fresh worker. The form's rates only when continuing (lowered after a divergence); a run
    // reopened from the list keeps its own.
    let reopen = {
        let (run, view, redraw, fields) =
            (run.clone(), view.clone(), redraw.clone(), fields.clone());
        Callback::from(move |(id, backend, with_lr): (Option<String>, BackendKind, bool)| {
            let (lr, lr_d) = if with_lr {
                (fields.lr_g.trim().parse::<f64>().ok(), fields.lr_d.trim().parse::<f64>().ok())
            } else {
                (None, None)
            };
            if !run.status().going() {
                view.borrow_mut().reset_run();
                redraw.force_update();
            }
            match id {
                Some(id) => run.reopen(id, backend, lr, lr_d),
                None => run.continue_on(backend, lr, lr_d),
            }
        })
    };
    use_resume(props.resume.clone(), true, reopen.reform(|(id, kind)| (Some(id), kind, false)));
    let on_continue = reopen.reform(|kind: BackendKind| (None, kind, true));
    // The canvas's requests (the shipped generator, new noise) go to the panel's worker, or to a
    // fresh one when it ended (a module that failed to load, a lost device, a crash).
    let post = {
        let run = run.clone();
        move |msg: ToWorker| match run.client(false) {
            Ok(w) => w.post(msg),
            Err(e) => run.fail(e),
        }
    };

    // Starts a run with validated settings.
    let begin = {
        let (view, redraw, noise_seed, picked) =
            (view.clone(), redraw.clone(), noise_seed.clone(), picked.clone());
        let (backend, run) = (lab.backend.clone(), run.clone());
        Callback::from(move |config: GanConfig| {
            // The last worker may have ended with a lost device or a crash.
            if let Err(e) = run.client(false) {
                return run.fail(e);
            }
            let Some(backend) = backend.clone() else {
                return run.fail("wait until the backend is ready".into());
            };
            view.borrow_mut().reset_run();
            noise_seed.set(config.seed);
            picked.set(Vec::new());
            redraw.force_update();
            run.post(ToWorker::Noise { seed: config.seed });
            let total = config.epochs;
            run.start(
                ToWorker::Gan {
                    config,
                    backend: backend.kind,
                    subset,
                    measure: backend.measure_jobs(),
                },
                total,
                false,
            );
        })
    };
    let on_start = {
        let (arch, fields, soft) = (arch.clone(), fields.clone(), soft.clone());
        let (run, begin) = (run.clone(), begin.clone());
        Callback::from(move |_| match parse(*arch, &fields, *soft) {
            Ok(config) => begin.emit(config),
            Err(e) => run.fail(e),
        })
    };
    {
        // The guide's "next step": the seed's settings for the architecture, shown in the form.
        let (arch, fields, soft) = (arch.clone(), fields.clone(), soft.clone());
        let (run, begin) = (run.clone(), begin.clone());
        use_effect_with(props.assignment, move |asked| {
            let Some((a, request)) = *asked else { return };
            if run.status().going() {
                run.fail("a GAN run is going: stop it (or let it finish) first".into());
            } else if crate::app::guide::take(request) {
                let config = GanConfig { arch: a, ..GanConfig::default() };
                arch.set(a);
                soft.set(config.soft_labels);
                fields.set(Fields::of(&config));
                begin.emit(config);
            }
        });
    }
    let v = view.borrow();
    let s = &*run.state;
    let running = s.status.going();
    let on_arch = {
        let (arch, post) = (arch.clone(), post.clone());
        let (noise_seed, view, picked) = (noise_seed.clone(), view.clone(), picked.clone());
        Callback::from(move |e: Event| {
            let a = GanArch::parse(&e.target_unchecked_into::<HtmlSelectElement>().value())
                .unwrap_or_default();
            share::set_param("gan_arch", Some(a.slug()));
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
            let seed =
                (*noise_seed).wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407)
                    >> 1;
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

    let field = |label: &str,
                 testid: &str,
                 get: fn(&Fields) -> &String,
                 set: fn(&mut Fields, String)| {
        let f = fields.clone();
        let param = testid.replace('-', "_");
        html! {
            <label>{label}
                <input data-testid={testid.to_string()} value={get(&fields).clone()} disabled={running}
                       oninput={Callback::from(move |e: InputEvent| {
                           let mut n = (*f).clone();
                           let v = e.target_unchecked_into::<HtmlInputElement>().value();
                           share::set_param(&param, Some(&v));
                           set(&mut n, v);
                           f.set(n);
                       })} />
            </label>
        }
    };
    let status_text = s.describe(
        format!(
            "training on {}: epoch {}, batch {}/{} · D loss {:.4} · G loss {:.4} · {:.0} ms per step",
            s.backend, s.epoch, s.batch, s.batches, v.d_loss, v.g_loss, s.ms_per_batch
        ),
        format!("done: {} epochs", s.epochs_done),
    );
    let per_epoch = |f: fn(&GanEpoch) -> f64| {
        v.history.iter().map(|e| (e.epoch as f64, f(e))).collect::<Vec<_>>()
    };
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
                               share::set_param("gan_soft", Some(if *soft { "false" } else { "true" }));
                               soft.set(!*soft)
                           }) }} />
                    {"soft labels (0.9 / 0.1)"}
                </label>
            </div>
            <RunControls run={run.clone()} ids={IDS} on_start={on_start} on_continue={on_continue}
                         status_text={status_text} status_data={vec![("data-d-loss", v.d_loss.to_string()), ("data-g-loss", v.g_loss.to_string())]} />
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
