//! `mnist-lab compress`: exercise 1, headless — train, factorise at each factor, refine, and
//! write the report.

use std::collections::BTreeMap;
use std::time::Instant;

use burn::module::Module;
use burn::tensor::Device;
use futures_lite::future::block_on;

use crate::cli::args::{CompressArgs, RankRuleArg, ScheduleArg};
use crate::cli::common::{Progress, command_line, epoch_line, write, write_bundle};
use crate::cli::device::open;
use crate::cli::evaluate::user_set;
use crate::cli::resume::{
    CompressRun, devices_text, load_compress, new_compress_run, note_device, save_state,
};
use crate::lab::classifier::eval::{EVAL_BATCH, evaluate};
use crate::lab::classifier::mlp::{MLP_WIDTHS, Mlp};
use crate::lab::classifier::summary::mlp_summary;
use crate::lab::classifier::train::{ClassifierTrainer, LrSchedule, TrainConfig};
use crate::lab::classifier::weights::{mlp_from_tensors, mlp_tensors};
use crate::lab::compress::factorized::MlpSpectrum;
use crate::lab::compress::ranks::{self, RankPoint, RankRule, params_for};
use crate::lab::compress::recipe::refine_config;
use crate::lab::compress::report::{
    BaseHistory, BaseRun, CompressedRun, CompressionMetrics, ReportContext, compression_report,
};
use crate::lab::compress::summary::factorized_summary;
use crate::lab::compress::weights::{factorized_metadata, factorized_tensors};
use crate::lab::core::checkpoint::Checkpoint;
use crate::lab::core::error::{LabError, LabResult};
use crate::lab::core::safetensors::{decode_safetensors, encode_safetensors};
use crate::lab::data::{DatasetKind, load_dir};

/// Factors swept for the accuracy-vs-parameters curve (no refinement).
pub(crate) const SWEEP: [f64; 12] =
    [1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 32.0, 100.0];

/// Exercise 1, headless: train, compress at each factor, refine, report. Every epoch is saved
/// (DIR/checkpoint/), so `--resume DIR` continues a killed or paused run where it stopped.
pub(crate) fn compress(args: &CompressArgs) -> LabResult<()> {
    if args.pieces.pause_after == Some(0) {
        return Err(LabError::InvalidConfig(
            "--pause-after must be at least 1 for compress (0, a report without training, is gan's)"
                .into(),
        ));
    }
    let (mut run, out, saved) = match &args.pieces.resume {
        Some(dir) => {
            let (run, checkpoint) = load_compress(dir)?;
            eprintln!("resuming {}: {} epochs done (its own settings)", dir.display(), run.steps());
            (run, dir.clone(), Some(checkpoint))
        }
        None => (new_run(args)?, args.out.clone(), None),
    };
    let config = run.config.clone();
    config.validate()?;
    let refine_epochs = run.refine_epochs;
    let refine =
        TrainConfig { epochs: refine_epochs, ..run.refine.clone().unwrap_or(config.clone()) };
    if refine_epochs > 0 {
        refine.validate()?;
    }
    for &f in &run.factors {
        ranks::rank_for_factor(1, f)?;
    }
    let runs: Vec<(RankRule, f64)> =
        run.rules.iter().flat_map(|&r| run.factors.iter().map(move |&f| (r, f))).collect();
    std::fs::create_dir_all(out.join("weights"))
        .map_err(|e| LabError::InvalidConfig(format!("cannot create {}: {e}", out.display())))?;

    let mut data = load_dir(&run.data, DatasetKind::Mnist)?;
    // The user's own training files instead of MNIST's (the test set stays MNIST's).
    if let Some((images, labels)) = &run.train_files {
        data.train = user_set(images, labels)?;
    }
    if let Some(n) = run.train_subset {
        data.train = data.train.take(n);
    }
    if data.train.is_empty() {
        return Err(LabError::EmptyDataset);
    }
    let opened = open(args.device.device)?;
    note_device(&mut run.devices, &opened.name, saved.is_some());
    eprintln!("device: {}", opened.name);
    let started = Instant::now();
    let device = opened.device.autodiff();
    device.seed(config.seed);
    let total = config.epochs + runs.len() * refine_epochs;
    let mut progress = Progress::new(total - run.steps());
    // Saves after an epoch; true when this invocation should stop there (--pause-after).
    let mut epochs_now = 0;
    let mut save = |run: &mut CompressRun, checkpoint: &Checkpoint| -> LabResult<bool> {
        let before = run.seconds;
        run.seconds += started.elapsed().as_secs_f64();
        save_state(&out, run.steps(), run, checkpoint, &Vec::new())?;
        run.seconds = before;
        epochs_now += 1;
        Ok(run.steps() < total && args.pieces.pause_after.is_some_and(|n| epochs_now >= n as usize))
    };
    let paused = |run: &CompressRun| {
        println!(
            "paused after {} of {total} epochs: continue with `mnist-lab compress --resume {}`",
            run.steps(),
            out.display()
        );
        Ok(())
    };

    // 1. The base model.
    let base_done = run.base_epochs.len() >= config.epochs;
    let base: Mlp = if base_done {
        let bytes = std::fs::read(out.join("weights/base.safetensors")).map_err(|e| {
            LabError::InvalidConfig(format!("cannot read the trained base model: {e}"))
        })?;
        mlp_from_tensors(&decode_safetensors(&bytes)?.0, &MLP_WIDTHS, &device)?
    } else {
        eprintln!(
            "training the base model: {} epochs on {} images",
            config.epochs,
            data.train.len()
        );
        let template = Mlp::new(&MLP_WIDTHS, &device);
        let mut trainer = match &saved {
            Some(ck) => {
                ClassifierTrainer::restore(template, config.clone(), ck, data.train.len(), &device)?
            }
            None => ClassifierTrainer::new(template, config.clone(), data.train.len(), &device)?,
        };
        while !trainer.finished() {
            let e = block_on(trainer.train_epoch(&data.train, &data.test))?;
            progress.tick(&format!("base {}", epoch_line(&e)));
            run.base_epochs.push(e);
            if trainer.finished() {
                // The weights before the record that says the base is done.
                write_base(&out, trainer.model(), &run, &data.test, &device)?;
            }
            if save(&mut run, &block_on(trainer.checkpoint())?)? {
                return paused(&run);
            }
        }
        trainer.into_model()
    };
    let base_eval = block_on(evaluate(&base, &data.test, EVAL_BATCH, &device))?;

    // 2. SVD of every layer, the sweep over ranks, and each factor with refinement.
    let spectrum = block_on(MlpSpectrum::of(&base))?;
    let shapes = spectrum.shapes();
    let mut sweep = Vec::new();
    for &rule in &run.rules {
        for f in SWEEP {
            let ranks = spectrum.ranks_for(rule, f)?;
            let model = spectrum.build(&ranks, &device)?;
            let acc = block_on(evaluate(&model, &data.test, EVAL_BATCH, &device))?.accuracy;
            sweep.push(RankPoint {
                factor: f,
                params: params_for(&shapes, &ranks),
                ranks,
                test_acc: acc,
                rule,
            });
        }
    }
    let mut summaries = vec![mlp_summary(&base)];
    for (i, &(rule, f)) in runs.iter().enumerate() {
        let ranks = spectrum.ranks_for(rule, f)?;
        let model = spectrum.build(&ranks, &device)?;
        summaries.push(factorized_summary(&model));
        if i < run.compressed.len() {
            continue; // refined in an earlier piece of the run
        }
        let before = block_on(evaluate(&model, &data.test, EVAL_BATCH, &device))?;
        let label = rule.factor_label(f);
        eprintln!(
            "{label}: ranks {ranks:?}, {} parameters, test accuracy after SVD {:.2}%",
            model.num_params(),
            before.accuracy * 100.0
        );
        let params = model.num_params();
        let model = if refine_epochs > 0 {
            let len = data.train.len();
            let mut t = match (&saved, run.refining.is_empty()) {
                (Some(ck), false) => {
                    ClassifierTrainer::restore(model, refine.clone(), ck, len, &device)?
                }
                _ => ClassifierTrainer::new(model, refine.clone(), len, &device)?,
            };
            while !t.finished() {
                let e = block_on(t.train_epoch(&data.train, &data.test))?;
                progress.tick(&format!("{label} refine {}", epoch_line(&e)));
                run.refining.push(e);
                if !t.finished() && save(&mut run, &block_on(t.checkpoint())?)? {
                    return paused(&run);
                }
            }
            let ck = block_on(t.checkpoint())?;
            (t.into_model(), Some(ck))
        } else {
            (model, None)
        };
        let (model, ck) = model;
        let after = block_on(evaluate(&model, &data.test, EVAL_BATCH, &device))?;
        let tensors = block_on(factorized_tensors(&model))?;
        let file = format!("weights/compressed-{}.safetensors", rule.file_stem(f));
        write(&out.join(file), encode_safetensors(&tensors, &factorized_metadata(&ranks)))?;
        run.compressed.push(CompressedRun {
            factor: f,
            ranks,
            params,
            test_acc_before_refine: before.accuracy,
            epochs: std::mem::take(&mut run.refining),
            confusion: after.confusion,
            rule,
        });
        if let Some(ck) = ck
            && save(&mut run, &ck)?
        {
            return paused(&run);
        }
    }

    // 3. Figures, metrics.json and the report (the same bundle the page exports).
    let spectra: Vec<Vec<f64>> =
        spectrum.layers.iter().map(|(s, _)| s.singular_values.clone()).collect();

    let metrics = CompressionMetrics {
        base: BaseRun {
            params: base.num_params(),
            epochs: run.base_epochs.clone(),
            confusion: base_eval.confusion,
        },
        compressed: run.compressed.clone(),
    };
    write(
        &out.join("metrics.json"),
        serde_json::to_string_pretty(&metrics).expect("metrics serialise"),
    )?;
    let ctx = ReportContext {
        config,
        refine_epochs,
        refine: run.refine.clone(),
        summaries,
        spectra,
        shapes,
        sweep,
        seconds: run.seconds + started.elapsed().as_secs_f64(),
        backend: devices_text(&run.devices),
        producer: "MNIST Lab's CLI".into(),
        base_source: None,
        plots: Vec::new(),
    };
    write_bundle(&out, &compression_report(&metrics, ctx))?;
    println!("base test accuracy {:.2}%", base_eval.accuracy * 100.0);
    for c in &metrics.compressed {
        let after = c.epochs.last().map(|e| e.test_acc).unwrap_or(c.test_acc_before_refine);
        println!(
            "{}: ranks {:?}, {} params, {:.2}% after SVD, {:.2}% after refinement",
            c.label(),
            c.ranks,
            c.params,
            c.test_acc_before_refine * 100.0,
            after * 100.0
        );
    }
    println!("wrote {}", out.join("report.md").display());
    Ok(())
}

/// A new run's record from the flags.
fn new_run(args: &CompressArgs) -> LabResult<CompressRun> {
    let config = TrainConfig {
        epochs: args.epochs,
        batch_size: args.batch_size,
        lr: args.lr,
        seed: args.seed,
        schedule: match args.schedule {
            ScheduleArg::Cosine => LrSchedule::Cosine,
            ScheduleArg::Constant => LrSchedule::Constant,
        },
        weight_decay: args.weight_decay,
    };
    config.validate()?;
    let schedule = |s: ScheduleArg| match s {
        ScheduleArg::Cosine => LrSchedule::Cosine,
        ScheduleArg::Constant => LrSchedule::Constant,
    };
    // The refinement's recipe (#36): the default one, with any setting the flags give.
    let recipe = refine_config(&config, args.refine_epochs);
    let refine = TrainConfig {
        lr: args.refine_lr.unwrap_or(recipe.lr),
        schedule: args.refine_schedule.map_or(recipe.schedule, schedule),
        weight_decay: args.refine_weight_decay.unwrap_or(recipe.weight_decay),
        ..config.clone()
    };
    refine.validate()?;
    let refine = Some(refine);
    // Which rank rule(s) to compress and refine with: the seed's k = int(n/f), the same
    // parameter budget spread by energy, or both side by side.
    let rules = match args.rank_rule {
        RankRuleArg::Seed => vec![RankRule::Seed],
        RankRuleArg::Budget => vec![RankRule::Budget],
        RankRuleArg::Both => vec![RankRule::Seed, RankRule::Budget],
    };
    // clap makes --train-images and --train-labels go together.
    let files = args.train_images.clone().zip(args.train_labels.clone());
    let mut run = new_compress_run(
        config,
        args.refine_epochs,
        (args.factors.clone(), rules),
        args.train_subset,
        files,
        args.data.dir.clone(),
    );
    run.refine = refine;
    Ok(run)
}

/// Writes the trained base model and its history (the page's report on this model, when it
/// ships, shows its training).
fn write_base(
    out: &std::path::Path,
    base: &Mlp,
    run: &CompressRun,
    test: &crate::lab::data::Dataset,
    device: &Device,
) -> LabResult<()> {
    let eval = block_on(evaluate(base, test, EVAL_BATCH, device))?;
    let meta = BTreeMap::from([
        ("model".to_string(), "mnist-lab dense MLP 784-100-50-10".to_string()),
        ("command".to_string(), command_line()),
        ("seed".to_string(), run.config.seed.to_string()),
        ("epochs".to_string(), run.config.epochs.to_string()),
        ("test_accuracy".to_string(), format!("{:.4}", eval.accuracy)),
    ]);
    let tensors = block_on(mlp_tensors(base))?;
    write(&out.join("weights/base.safetensors"), encode_safetensors(&tensors, &meta))?;
    let history = BaseHistory {
        config: run.config.clone(),
        base: BaseRun {
            params: base.num_params(),
            epochs: run.base_epochs.clone(),
            confusion: eval.confusion,
        },
        seconds: run.seconds,
        backend: devices_text(&run.devices),
        command: meta["command"].clone(),
    };
    write(
        &out.join("weights/base-history.json"),
        serde_json::to_string_pretty(&history).expect("a history serialises"),
    )
}
