//! wasm-side tests in a real browser (headless Chromium, with whatever WebGPU adapter it has:
//! SwiftShader here): WebGPU initialisation, a forward pass, async readbacks, one Adam step on
//! each backend, and our kernels against burn's operations (`tests/kernels/`).
//! Run by `make test-wasm` through wasm-bindgen-test-runner and chromedriver (see webdriver.json).
#![cfg(target_arch = "wasm32")]

use burn::tensor::{Device, Tensor, TensorData};
use mnist_lab::app::backend::{is_software_name, probe_adapter, webgpu_device};
use mnist_lab::lab::classifier::eval::evaluate;
use mnist_lab::lab::classifier::mlp::{MLP_WIDTHS, Mlp};
use mnist_lab::lab::classifier::train::{ClassifierTrainer, LrSchedule, TrainConfig};
use mnist_lab::lab::data::idx;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

// The crate root's own folder is tests/, so the submodule names its path.
#[path = "kernels/mod.rs"]
#[macro_use]
mod kernels;

use kernels::toy;

/// The CPU convolutions on Flex against burn's, as natively (`tests/conv_cpu.rs`), in wasm.
#[path = "conv_cpu.rs"]
mod conv_cpu;

/// The kernel cases (`tests/kernels/`) on this browser's WebGPU adapter; `tests/vulkan.rs` runs
/// the same cases on native Vulkan.
mod webgpu {
    use mnist_lab::app::backend::webgpu_device;
    use wasm_bindgen_test::*;

    macro_rules! on_webgpu {
        ($($module:ident :: $case:ident),* $(,)?) => {$(
            #[wasm_bindgen_test]
            async fn $case() {
                let device = webgpu_device().await.expect("WebGPU initialises");
                super::kernels::$module::$case(device).await
            }
        )*};
    }

    kernel_cases!(on_webgpu);
}

/// One Adam step then an evaluation, every read async: the path the page uses.
async fn train_and_read(device: &Device) -> (f64, f64) {
    let ad = device.clone().autodiff();
    ad.seed(1);
    let data = toy(40);
    let cfg = TrainConfig {
        epochs: 1,
        batch_size: 20,
        lr: 1e-3,
        seed: 1,
        schedule: LrSchedule::Constant,
        weight_decay: 0.0,
    };
    let mut trainer =
        ClassifierTrainer::new(Mlp::new(&MLP_WIDTHS, &ad), cfg, data.len(), &ad).unwrap();
    let report = trainer.train_chunk(&data, 2).await.unwrap();
    assert!(report.epoch_finished);
    let eval = evaluate(trainer.model(), &data, 16, &ad).await.unwrap();
    assert_eq!(eval.confusion.total(), 40);
    (report.loss, eval.loss)
}

#[wasm_bindgen_test]
async fn webgpu_initialises_once_runs_a_forward_pass_and_reads_back() {
    let adapter = probe_adapter().await.expect("the test browser exposes a WebGPU adapter");
    assert!(!adapter.name.is_empty());
    // Whatever the adapter (SwiftShader here, a GPU elsewhere), it is named and a known
    // emulator's name is reported as software, so the page does not train on it by default.
    eprintln!("WebGPU adapter: {} (software: {})", adapter.name, adapter.software);
    if is_software_name(&adapter.name) {
        assert!(adapter.software, "a software adapter reported as hardware: {}", adapter.name);
    }
    let device = webgpu_device().await.expect("WebGPU initialises");
    // A second request reuses the first device instead of failing.
    let again = webgpu_device().await.expect("the shared WebGPU device");
    let x = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0], [2, 2]), &device);
    let y = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 0.0, 0.0, 1.0], [2, 2]), &again);
    let product = x.matmul(y).into_data_async().await.unwrap().try_into_vec_as::<f32>().unwrap();
    assert_eq!(product, vec![1.0, 2.0, 3.0, 4.0]);
    let logits = Mlp::new(&MLP_WIDTHS, &device).forward(Tensor::ones([3, 784], &device));
    let v = logits.into_data_async().await.unwrap().try_into_vec_as::<f32>().unwrap();
    assert_eq!(v.len(), 30);
    assert!(v.iter().all(|x| x.is_finite()));
}

#[wasm_bindgen_test]
async fn webgpu_trains_a_step_with_async_readbacks() {
    let device = webgpu_device().await.expect("WebGPU initialises");
    let (train_loss, eval_loss) = train_and_read(&device).await;
    assert!(train_loss.is_finite() && eval_loss.is_finite() && train_loss > 0.0);
}

#[wasm_bindgen_test]
async fn flex_trains_a_step_in_wasm() {
    let (train_loss, eval_loss) = train_and_read(&Device::flex()).await;
    assert!(train_loss.is_finite() && eval_loss.is_finite() && train_loss > 0.0);
}

#[wasm_bindgen_test]
fn idx_reader_refuses_garbage_in_wasm() {
    assert!(idx::parse_images(b"not an idx file").is_err());
    assert!(idx::parse_labels(&[]).is_err());
}

/// The run lifecycle every job panel shares: one reducer, so a transition wrong here would be
/// wrong in the classifier, the refinement and the GAN panels alike.
mod lifecycle {
    use std::rc::Rc;

    use mnist_lab::app::run::lifecycle::{Lifecycle, RunAction, RunStatus};
    use mnist_lab::app::worker::meter::StepMeter;
    use mnist_lab::app::worker::protocol::{FromWorker, GpuCounts, RefineRow, StepCost};
    use mnist_lab::lab::classifier::metrics::{ConfusionMatrix, EpochMetrics};
    use wasm_bindgen_test::*;
    use yew::Reducible;

    fn step(s: Rc<Lifecycle>, msg: FromWorker) -> Rc<Lifecycle> {
        s.reduce(RunAction::Reply(Rc::new(Ok(msg))))
    }

    fn epoch(n: usize) -> FromWorker {
        let metrics = EpochMetrics {
            epoch: n,
            train_loss: 0.5,
            train_acc: 0.9,
            test_loss: 0.6,
            test_acc: 0.88,
        };
        FromWorker::Epoch {
            metrics,
            confusion: Box::new(ConfusionMatrix([[0; 10]; 10])),
            predictions: vec![],
        }
    }

    #[wasm_bindgen_test]
    fn a_run_goes_through_its_states_and_keeps_its_history_on_a_lost_device() {
        let s = Rc::new(Lifecycle::new("Training")).reduce(RunAction::Begin { epochs: 3 });
        assert_eq!((s.status, s.epochs), (RunStatus::Starting, 3));
        assert!(s.status.going());
        let why = "measured WebGPU 3.1 ms/step vs CPU 4.8 ms/step → WebGPU";
        let s = step(
            s,
            FromWorker::Started {
                backend: "WebGPU".into(),
                batches_per_epoch: 10,
                chosen: Some(why.into()),
            },
        );
        assert_eq!((s.status, s.backend.as_str(), s.batches), (RunStatus::Running, "WebGPU", 10));
        assert_eq!(s.chosen.as_deref(), Some(why), "the page can say how the backend was picked");
        let restarted = s.clone().reduce(RunAction::Begin { epochs: 3 });
        assert_eq!(restarted.chosen, None, "a new run forgets the last run's choice");
        let cost = StepCost {
            steady_ms: Some(4.0),
            steady_steps: 10,
            gpu: Some(GpuCounts { dispatches: 135.0, ..Default::default() }),
            ..Default::default()
        };
        let s = step(
            s,
            FromWorker::Progress { epoch: 2, batch: 5, loss: 0.3, ms_per_batch: 4.0, cost },
        );
        assert_eq!(s.cost, cost, "the page shows what a step cost");
        assert_eq!(s.epoch_fraction(), 0.5);
        assert!((s.run_fraction() - 1.5 / 3.0).abs() < 1e-12);
        let s = step(s, epoch(1));
        assert_eq!(s.epochs_done, 1);
        let s = step(s, FromWorker::Paused);
        assert_eq!(s.status, RunStatus::Paused);
        assert!(s.status.going() && !s.status.waiting());
        let s = step(s, FromWorker::Resumed);
        let s = step(s, FromWorker::RunSaved { id: "run-1".into(), epoch: 1 });
        let s = step(s, FromWorker::SaveFailed("the disk is full".into()));
        assert_eq!(s.status, RunStatus::Running, "a failed save warns, the run goes on");
        assert_eq!(s.warning.as_deref(), Some("the disk is full"));
        assert_eq!(s.error, None);
        let s = step(s, FromWorker::DeviceLost("the GPU device was lost".into()));
        assert_eq!(s.status, RunStatus::Interrupted);
        assert!(s.status.waiting() && !s.status.going());
        let e = s.error.clone().unwrap();
        assert!(
            e.contains("lost") && e.contains("Training is paused") && e.contains("(epoch 1)"),
            "{e}"
        );
        assert_eq!(s.run_id.as_deref(), Some("run-1"), "the run to continue is known");
        let s = s.reduce(RunAction::Begin { epochs: 0 });
        assert_eq!(
            (s.status, s.error.clone(), s.warning.clone()),
            (RunStatus::Starting, None, None)
        );
        assert_eq!(s.noun, "Training");
    }

    #[wasm_bindgen_test]
    fn failures_divergence_and_the_end_of_a_run() {
        let idle = Rc::new(Lifecycle::new("Refinement"));
        let s = step(idle.clone(), FromWorker::Failed("no pretrained generator".into()));
        assert_eq!(s.status, RunStatus::Idle, "a failure outside a run starts nothing");
        assert_eq!(s.error.as_deref(), Some("no pretrained generator"));
        let going = idle.reduce(RunAction::Begin { epochs: 2 });
        let failed = going.clone().reduce(RunAction::Reply(Rc::new(Err("worker died".into()))));
        assert_eq!(failed.status, RunStatus::Failed);
        let halted =
            step(going.clone(), FromWorker::Halted { message: "diverged".into(), id: "r".into() });
        assert_eq!((halted.status, halted.error.as_deref()), (RunStatus::Halted, Some("diverged")));
        assert!(halted.status.waiting());
        let row = RefineRow {
            factor: 8.0,
            ranks: vec![12, 6, 1],
            params: 11_728,
            before: 0.5,
            after: 0.9,
        };
        assert_eq!(step(going.clone(), FromWorker::Refined(row)).status, RunStatus::Done);
        assert_eq!(step(going.clone(), FromWorker::GanDone).status, RunStatus::Done);
        assert_eq!(step(going, FromWorker::Stopped).status, RunStatus::Stopped);
        let refused = failed.reduce(RunAction::Error("a refinement is going".into()));
        assert_eq!(refused.error.as_deref(), Some("a refinement is going"));
        assert_eq!(RunStatus::Interrupted.slug(), "interrupted");
    }

    #[wasm_bindgen_test]
    fn the_meter_keeps_warm_up_apart_from_the_steady_state() {
        let counts = |dispatches: f64, pipelines: f64| GpuCounts {
            dispatches,
            pipelines,
            ..Default::default()
        };
        let mut m = StepMeter::new(true);
        // The first chunk is warm-up whatever it counted; a chunk that compiled pipelines too.
        let c = m.record(2000.0, 2, Some(counts(140.0, 30.0)), 60.0);
        assert_eq!((c.warmup_ms, c.steady_ms, c.warmup_steps), (Some(1000.0), None, 2));
        assert_eq!(c.gpu.unwrap().dispatches, 140.0, "warm-up counts until a steady chunk");
        let c = m.record(1000.0, 2, Some(counts(135.0, 0.0)), 60.0);
        assert_eq!((c.steady_ms, c.steady_steps), (Some(500.0), 2));
        let c = m.record(3000.0, 2, Some(counts(150.0, 4.0)), 68.0);
        assert_eq!(c.warmup_ms, Some(1250.0), "(2000 + 3000) / 4 steps");
        assert_eq!(c.steady_ms, Some(500.0), "a compiling chunk stays out of the steady state");
        assert_eq!(c.gpu.unwrap().dispatches, 135.0, "the steady chunk's work is what is shown");
        assert_eq!(c.pipelines, 68.0);
        let c = m.record(600.0, 2, Some(counts(135.0, 0.0)), 68.0);
        assert_eq!(c.steady_ms, Some(400.0), "(1000 + 600) / 4 steps");
        let mut cpu = StepMeter::new(false);
        assert_eq!(cpu.record(10.0, 1, None, 0.0).gpu, None, "no WebGPU work on the CPU");
    }

    /// #20: the elapsed time counts running stretches only, and the time left follows the pace
    /// the run has kept (its own clock), not the first guess.
    #[wasm_bindgen_test]
    fn the_run_clock_excludes_pauses_and_estimates_from_the_measured_pace() {
        use mnist_lab::app::run::clock::{RunClock, duration};
        let mut c = RunClock::default();
        assert_eq!(c.left_ms(0.0, 0, 100, 0.0), None, "nothing measured, no guess");
        assert_eq!(c.left_ms(0.0, 0, 100, 20.0), Some(2000.0), "the worker's ms per step first");
        c.tick(1000.0, true, 0);
        assert_eq!(c.elapsed_ms(3000.0), 2000.0);
        // 5 steps in 2 s (the start included): too few to trust, the worker's 20 ms a step.
        assert_eq!(c.left_ms(3000.0, 5, 95, 20.0), Some(1900.0));
        assert_eq!(c.left_ms(3000.0, 5, 95, 0.0), Some(38_000.0), "no other measure");
        // 25 steps in 5 s: 200 ms a step, 75 left.
        assert_eq!(c.left_ms(6000.0, 25, 75, 20.0), Some(15_000.0));
        c.tick(6000.0, false, 25); // paused for a minute
        assert_eq!(c.elapsed_ms(66_000.0), 5000.0, "a pause does not count");
        c.tick(66_000.0, true, 25);
        assert_eq!(c.elapsed_ms(67_000.0), 6000.0);
        // 40 steps in 6 s of running: 150 ms a step.
        assert_eq!(c.left_ms(67_000.0, 40, 60, 20.0), Some(9000.0));
        assert_eq!(duration(60.0), "< 1 s");
        assert_eq!(duration(42_400.0), "42 s");
        assert_eq!(duration(185_000.0), "3 min 05 s");
        assert_eq!(duration(3_720_000.0), "1 h 02 min");
    }

    #[wasm_bindgen_test]
    fn a_run_says_its_elapsed_time_and_time_left() {
        let mut s = Lifecycle::new("Training");
        assert_eq!(s.eta_text(0.0), None, "nothing before a run starts");
        s.status = RunStatus::Running;
        (s.epochs, s.epochs_done, s.epoch, s.batch, s.batches) = (10, 2, 3, 0, 100);
        assert_eq!(s.steps_done(), 200, "restored epochs count");
        assert_eq!(s.steps_left(), 800);
        s.tick(0.0);
        s.batch = 50;
        let text = s.eta_text(10_000.0).unwrap();
        assert_eq!(text, "10 s elapsed · about 2 min 30 s left", "50 steps in 10 s, 750 left");
        s.status = RunStatus::Paused;
        s.tick(10_000.0);
        let text = s.eta_text(500_000.0).unwrap();
        assert_eq!(text, "10 s elapsed · about 2 min 30 s more to finish");
        s.status = RunStatus::Done;
        assert_eq!(s.eta_text(500_000.0).unwrap(), "took 10 s");
    }

    /// #34: a finished run opened again after a reload shows its whole run done and the time
    /// its record says it took, not 90 % and this page's few milliseconds.
    #[wasm_bindgen_test]
    fn a_reopened_run_shows_its_progress_and_its_recorded_time() {
        let reopen = |train_ms: Option<f64>| {
            let mut record =
                super::guide::record("r", super::guide::train(10, None), 10, true, None, 0.0);
            record.train_ms = train_ms;
            let s = Rc::new(Lifecycle::new("Training")).reduce(RunAction::Begin { epochs: 0 });
            let s = step(s, FromWorker::RunRestored(Box::new(record)));
            assert_eq!(s.run_fraction(), 1.0, "ten of ten epochs restored");
            let started =
                FromWorker::Started { backend: "CPU".into(), batches_per_epoch: 469, chosen: None };
            let s = step(s, started);
            assert_eq!(s.run_fraction(), 1.0, "still all of it once the worker says its batches");
            step(s, FromWorker::Done { tensors: vec![] })
        };
        let s = reopen(Some(12_000.0));
        assert_eq!(s.status, RunStatus::Done);
        let now = mnist_lab::app::env::now_ms();
        assert!(s.clock.elapsed_ms(now) >= 12_000.0, "{}", s.clock.elapsed_ms(now));
        assert_eq!(s.eta_text(now).unwrap(), "took 12 s");
        // A record from before the training time was stored: the total is not known.
        assert_eq!(reopen(None).eta_text(now).unwrap(), "finished");
    }
}

/// #20: the views' routes, from the hashes links carry (older one-page anchors included).
#[wasm_bindgen_test]
fn views_route_from_the_address_hash() {
    use mnist_lab::app::views::View;
    for v in View::ALL {
        assert_eq!(View::from_hash(&v.hash()), v, "{v:?} round-trips");
    }
    assert_eq!(View::from_hash("#/exercise2"), View::Exercise2);
    assert_eq!(View::from_hash("#exercise1"), View::Exercise1, "the old anchors");
    assert_eq!(View::from_hash("#runs"), View::Runs);
    assert_eq!(View::from_hash("#data"), View::Overview);
    assert_eq!(View::from_hash("#/diagnostics/extra"), View::Diagnostics);
    assert_eq!(View::from_hash(""), View::Overview);
    assert_eq!(View::from_hash("#/nowhere"), View::Overview);
}

/// #20: the guide's steps from the stored runs: which complete a step (the assignment's
/// settings, the page's subset), how far a started one got, and the time left from the newest
/// measured run of the same kind.
mod guide {
    use mnist_lab::app::backend::BackendKind;
    use mnist_lab::app::guide::steps::{Step, StepState, next_step};
    use mnist_lab::app::worker::protocol::{RunRecord, RunSpec};
    use mnist_lab::lab::classifier::train::{LrSchedule, TrainConfig};
    use mnist_lab::lab::compress::ranks::RankRule;
    use mnist_lab::lab::gan::{GanArch, GanConfig};
    use wasm_bindgen_test::*;

    pub(super) fn record(
        id: &str,
        spec: RunSpec,
        epochs_done: usize,
        finished: bool,
        ms: Option<f64>,
        at: f64,
    ) -> RunRecord {
        RunRecord {
            schema: 2,
            id: id.into(),
            spec,
            backend: BackendKind::Cpu,
            created_ms: 0.0,
            updated_ms: at,
            epochs_done,
            finished,
            history: vec![],
            gan_history: vec![],
            snapshots: vec![],
            note: None,
            confusion: None,
            judge: None,
            ms_per_step: ms,
            train_ms: None,
        }
    }

    pub(super) fn train(epochs: usize, subset: Option<usize>) -> RunSpec {
        let config = TrainConfig {
            epochs,
            batch_size: 128,
            lr: 1e-3,
            seed: 42,
            schedule: LrSchedule::Cosine,
            weight_decay: 1e-4,
        };
        RunSpec::Classifier { config, subset, data: None }
    }

    fn refine(factor: f64, epochs: usize, rule: RankRule) -> RunSpec {
        RunSpec::Refine {
            ranks: vec![1, 1, 1],
            factor,
            before: 0.5,
            config: TrainConfig { epochs, ..TrainConfig::default() },
            subset: None,
            base: None,
            rule: Some(rule),
            data: None,
        }
    }

    #[wasm_bindgen_test]
    fn steps_follow_the_stored_runs() {
        let steps = Step::exercise1();
        assert_eq!(steps.len(), 4, "train, then 2×, 4×, 8×");
        assert_eq!(next_step(&steps, &[], None), Some((Step::Train, StepState::Todo)));
        assert_eq!(Step::Train.time_left_ms(&[], None), None, "nothing measured yet");

        // A 10-epoch run is not the assignment's; a 100-epoch one half done is, and resumes.
        let short = record("train-1", train(10, None), 10, true, Some(2.0), 1.0);
        let half = record("train-2", train(100, None), 50, false, Some(4.0), 2.0);
        let rs = vec![short.clone(), half.clone()];
        let partial = StepState::Partial { id: "train-2".into(), done: 50, of: 100 };
        assert_eq!(Step::Train.state(&rs, None), partial);
        assert_eq!(Step::Train.state(&rs, Some(2000)), StepState::Todo, "another subset");
        // 100 epochs × 469 batches, half left, at the newest measure (4 ms a step).
        assert_eq!(Step::Train.steps(None), 46_900);
        assert_eq!(Step::Train.time_left_ms(&rs, None), Some(4.0 * 23_450.0));

        let done = record("train-3", train(100, None), 100, true, Some(3.0), 3.0);
        let rs = vec![short, half, done];
        assert_eq!(Step::Train.state(&rs, None), StepState::Done("train-3".into()));
        assert_eq!(Step::Train.time_left_ms(&rs, None), Some(0.0));
        assert_eq!(next_step(&steps, &rs, None).map(|n| n.0), Some(Step::Refine(2.0)));
        // Refinements: the seed's rule and 10 epochs; a budget-rule one does not count.
        let mut rs = rs;
        rs.push(record("refine-1", refine(2.0, 10, RankRule::Budget), 10, true, None, 4.0));
        assert_eq!(Step::Refine(2.0).state(&rs, None), StepState::Todo);
        for (i, f) in [2.0, 4.0, 8.0].into_iter().enumerate() {
            rs.push(record(
                &format!("refine-s{i}"),
                refine(f, 10, RankRule::Seed),
                10,
                true,
                Some(1.0),
                5.0,
            ));
        }
        assert_eq!(next_step(&steps, &rs, None), None, "every step done: the report");

        // The GAN: per architecture, the seed's 100 epochs at batch 128; the estimate from the
        // same architecture only.
        let gan = |arch, epochs| RunSpec::Gan {
            config: GanConfig { arch, epochs, ..GanConfig::default() },
            subset: Some(512),
        };
        let rs = vec![record("gan-1", gan(GanArch::Cnn, 100), 1, false, Some(300.0), 1.0)];
        assert_eq!(Step::Gan(GanArch::Dense).time_left_ms(&rs, Some(512)), None);
        assert_eq!(Step::Gan(GanArch::Cnn).steps(Some(512)), 400, "100 epochs × 4 full batches");
        assert_eq!(Step::Gan(GanArch::Cnn).time_left_ms(&rs, Some(512)), Some(300.0 * 396.0));
        assert_eq!(Step::Gan(GanArch::Cnn).state(&rs, Some(512)).slug(), "partial");
        assert_eq!(Step::Gan(GanArch::Cnn).state(&rs, None).slug(), "todo");
    }
}

/// #17: the run store's records, fuzzed like the native decoders (tests/fuzz.rs): 100 000
/// mutations of a valid record, each read back through `decode_record` — never a panic, and a
/// record that reads is of the current format.
#[wasm_bindgen_test]
fn damaged_run_records_are_refused_never_panic() {
    use mnist_lab::app::worker::record::{RUN_SCHEMA, decode_record};
    use mnist_lab::lab::core::mutate::mutate;
    use mnist_lab::lab::core::rng::SplitMix64;
    let base = r#"{"schema":2,"id":"refine-1000","spec":{"Refine":{"ranks":[50,25,5],"factor":2.0,"before":"NaN","config":{"epochs":3,"batch_size":128,"lr":0.001,"seed":1,"schedule":"Cosine","weight_decay":0.0001},"subset":600,"base":{"fingerprint":"00ff","described":"the shipped pretrained model"},"rule":"Budget"}},"backend":"Cpu","created_ms":1000,"updated_ms":2000,"epochs_done":1,"finished":false,"history":[{"epoch":1,"train_loss":0.5,"train_acc":0.9,"test_loss":"Infinity","test_acc":0.8}],"gan_history":[],"snapshots":[],"note":null,"confusion":null,"judge":["NaN",7.5]}"#;
    let record = decode_record(base).expect("the base record reads");
    assert!(matches!(record.history[0].test_loss, v if v == f64::INFINITY));
    let mut decoded = 0;
    for case in 0..100_000u64 {
        let bytes = mutate(base.as_bytes(), &mut SplitMix64::new(case ^ 0x5eed));
        match decode_record(&String::from_utf8_lossy(&bytes)) {
            Ok(r) => {
                assert_eq!(r.schema, RUN_SCHEMA);
                decoded += 1;
            }
            Err(e) => assert!(!e.is_empty(), "case {case}: an empty reason"),
        }
    }
    assert!(decoded > 500 && decoded < 99_000, "{decoded} of 100 000 decoded");
}
