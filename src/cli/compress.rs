//! `mnist-lab compress`: exercise 1, headless — train, factorise at each factor, refine, and
//! write the report.

use std::collections::BTreeMap;
use std::time::Instant;

use burn::module::Module;
use burn::tensor::Device;
use futures_lite::future::block_on;

use crate::cli::args::{CompressArgs, RankRuleArg, ScheduleArg};
use crate::cli::common::{Progress, command_line, epoch_line, write, write_bundle};
use crate::cli::evaluate::user_set;
use crate::lab::classifier::eval::{EVAL_BATCH, evaluate};
use crate::lab::classifier::mlp::{MLP_WIDTHS, Mlp};
use crate::lab::classifier::summary::mlp_summary;
use crate::lab::classifier::train::{ClassifierTrainer, LrSchedule, TrainConfig};
use crate::lab::classifier::weights::mlp_tensors;
use crate::lab::compress::factorized::MlpSpectrum;
use crate::lab::compress::ranks::{self, RankPoint, RankRule, params_for};
use crate::lab::compress::report::{
    BaseHistory, BaseRun, CompressedRun, CompressionMetrics, ReportContext, compression_report,
};
use crate::lab::compress::summary::factorized_summary;
use crate::lab::compress::weights::{factorized_metadata, factorized_tensors};
use crate::lab::core::error::{LabError, LabResult};
use crate::lab::core::safetensors::encode_safetensors;
use crate::lab::data::{DatasetKind, load_dir};

/// Factors swept for the accuracy-vs-parameters curve (no refinement).
pub(crate) const SWEEP: [f64; 12] =
    [1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 32.0, 100.0];

/// Exercise 1, headless: train, compress at each factor, refine, report.
pub(crate) fn compress(args: &CompressArgs) -> LabResult<()> {
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
    let refine_epochs = args.refine_epochs;
    let refine = TrainConfig { epochs: refine_epochs, ..config.clone() };
    if refine_epochs > 0 {
        refine.validate()?;
    }
    let factors = args.factors.clone();
    for &f in &factors {
        ranks::rank_for_factor(1, f)?;
    }
    // Which rank rule(s) to compress and refine with: the seed's k = int(n/f), the same
    // parameter budget spread by energy, or both side by side.
    let rules: Vec<RankRule> = match args.rank_rule {
        RankRuleArg::Seed => vec![RankRule::Seed],
        RankRuleArg::Budget => vec![RankRule::Budget],
        RankRuleArg::Both => vec![RankRule::Seed, RankRule::Budget],
    };
    let runs: Vec<(RankRule, f64)> =
        rules.iter().flat_map(|&r| factors.iter().map(move |&f| (r, f))).collect();
    let out = args.out.clone();
    std::fs::create_dir_all(out.join("weights"))
        .map_err(|e| LabError::InvalidConfig(format!("cannot create {}: {e}", out.display())))?;

    let mut data = load_dir(&args.data.dir, DatasetKind::Mnist)?;
    // The user's own training files instead of MNIST's (the test set stays MNIST's; clap makes
    // the two flags go together).
    if let (Some(images), Some(labels)) = (&args.train_images, &args.train_labels) {
        data.train = user_set(images, labels)?;
    }
    if let Some(n) = args.train_subset {
        data.train = data.train.take(n);
    }
    if data.train.is_empty() {
        return Err(LabError::EmptyDataset);
    }
    let started = Instant::now();
    let device = Device::flex().autodiff();
    device.seed(config.seed);
    let mut progress = Progress::new(config.epochs + runs.len() * refine_epochs);

    // 1. The base model.
    eprintln!("training the base model: {} epochs on {} images", config.epochs, data.train.len());
    let mut trainer = ClassifierTrainer::new(
        Mlp::new(&MLP_WIDTHS, &device),
        config.clone(),
        data.train.len(),
        &device,
    )?;
    let mut base_epochs = Vec::new();
    while !trainer.finished() {
        let e = block_on(trainer.train_epoch(&data.train, &data.test))?;
        progress.tick(&format!("base {}", epoch_line(&e)));
        base_epochs.push(e);
    }
    let base = trainer.into_model();
    let base_eval = block_on(evaluate(&base, &data.test, EVAL_BATCH, &device))?;
    let base_tensors = block_on(mlp_tensors(&base))?;
    let meta = BTreeMap::from([
        ("model".to_string(), "mnist-lab dense MLP 784-100-50-10".to_string()),
        ("command".to_string(), command_line()),
        ("seed".to_string(), config.seed.to_string()),
        ("epochs".to_string(), config.epochs.to_string()),
        ("test_accuracy".to_string(), format!("{:.4}", base_eval.accuracy)),
    ]);
    write(&out.join("weights/base.safetensors"), encode_safetensors(&base_tensors, &meta))?;
    // Its history beside it: the page's report on this model (when it ships) shows its training.
    let history = BaseHistory {
        config: config.clone(),
        base: BaseRun {
            params: base.num_params(),
            epochs: base_epochs.clone(),
            confusion: base_eval.confusion,
        },
        seconds: started.elapsed().as_secs_f64(),
        backend: "Flex CPU".into(),
        command: meta["command"].clone(),
    };
    write(
        &out.join("weights/base-history.json"),
        serde_json::to_string_pretty(&history).expect("a history serialises"),
    )?;

    // 2. SVD of every layer, the sweep over ranks, and each factor with refinement.
    let spectrum = block_on(MlpSpectrum::of(&base))?;
    let shapes = spectrum.shapes();
    let mut sweep = Vec::new();
    for &rule in &rules {
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
    let mut compressed = Vec::new();
    for &(rule, f) in &runs {
        let ranks = spectrum.ranks_for(rule, f)?;
        let model = spectrum.build(&ranks, &device)?;
        summaries.push(factorized_summary(&model));
        let before = block_on(evaluate(&model, &data.test, EVAL_BATCH, &device))?;
        let label = rule.factor_label(f);
        eprintln!(
            "{label}: ranks {ranks:?}, {} parameters, test accuracy after SVD {:.2}%",
            model.num_params(),
            before.accuracy * 100.0
        );
        let params = model.num_params();
        let (model, epochs) = if refine_epochs > 0 {
            let mut t = ClassifierTrainer::new(model, refine.clone(), data.train.len(), &device)?;
            let mut epochs = Vec::new();
            while !t.finished() {
                let e = block_on(t.train_epoch(&data.train, &data.test))?;
                progress.tick(&format!("{label} refine {}", epoch_line(&e)));
                epochs.push(e);
            }
            (t.into_model(), epochs)
        } else {
            (model, Vec::new())
        };
        let after = block_on(evaluate(&model, &data.test, EVAL_BATCH, &device))?;
        let tensors = block_on(factorized_tensors(&model))?;
        let file = format!("weights/compressed-{}.safetensors", rule.file_stem(f));
        write(&out.join(file), encode_safetensors(&tensors, &factorized_metadata(&ranks)))?;
        compressed.push(CompressedRun {
            factor: f,
            ranks,
            params,
            test_acc_before_refine: before.accuracy,
            epochs,
            confusion: after.confusion,
            rule,
        });
    }

    // 3. Figures, metrics.json and the report (the same bundle the page exports).
    let spectra: Vec<Vec<f64>> =
        spectrum.layers.iter().map(|(s, _)| s.singular_values.clone()).collect();

    let metrics = CompressionMetrics {
        base: BaseRun {
            params: base.num_params(),
            epochs: base_epochs,
            confusion: base_eval.confusion,
        },
        compressed,
    };
    write(
        &out.join("metrics.json"),
        serde_json::to_string_pretty(&metrics).expect("metrics serialise"),
    )?;
    let ctx = ReportContext {
        config,
        refine_epochs,
        summaries,
        spectra,
        shapes,
        sweep,
        seconds: started.elapsed().as_secs_f64(),
        backend: "Flex CPU".into(),
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
