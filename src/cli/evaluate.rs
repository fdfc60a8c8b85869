//! `mnist-lab evaluate`: a saved model (the dense base, or a factorized model from `compress` or
//! the page's export) on the user's own IDX files — the CLI side of the page's "your own
//! digits" evaluation, with the same checks on the files.

use futures_lite::future::block_on;

use std::path::Path;

use crate::cli::args::EvaluateArgs;
use crate::lab::classifier::eval::{EVAL_BATCH, Evaluation, evaluate};
use crate::lab::classifier::mlp::MLP_WIDTHS;
use crate::lab::classifier::weights::mlp_from_tensors;
use crate::lab::compress::report::confusion_table;
use crate::lab::compress::weights::factorized_from_tensors;
use crate::lab::core::error::{LabError, LabResult};
use crate::lab::core::safetensors::decode_safetensors;
use crate::lab::data::{Dataset, DatasetKind};

fn read(path: &Path) -> LabResult<Vec<u8>> {
    std::fs::read(path)
        .map_err(|e| LabError::InvalidConfig(format!("cannot read {}: {e}", path.display())))
}

/// The labelled set of `--images` and `--labels` (raw or gzip IDX), checked as the page checks it.
pub(crate) fn user_set(images: &Path, labels: &Path) -> LabResult<Dataset> {
    Dataset::from_idx(&read(images)?, &read(labels)?)
        .map_err(|e| LabError::Data(format!("{} / {}: {e}", images.display(), labels.display())))
}

/// Evaluates `--weights` on `--images` / `--labels`; prints the accuracy and confusion matrix.
pub(crate) fn evaluate_files(args: &EvaluateArgs) -> LabResult<()> {
    let set = user_set(&args.images, &args.labels)?;
    let weights = args.weights.display().to_string();
    if set.is_empty() {
        return Err(LabError::EmptyDataset);
    }
    let (tensors, _) = decode_safetensors(&read(&args.weights)?)
        .map_err(|e| LabError::Data(format!("{weights}: not a weights file: {e}")))?;
    let opened = crate::cli::device::open(args.device.device)?;
    let device = opened.device;
    let bad = |e: &dyn std::fmt::Display| LabError::Data(format!("{weights}: {e}"));
    // A dense model names its layers `layers.{i}.weight`; a factorized one `layers.{i}.first…`.
    let dense = tensors.iter().any(|t| t.name == "layers.0.weight");
    let e: Evaluation = if dense {
        let m = mlp_from_tensors(&tensors, &MLP_WIDTHS, &device).map_err(|e| bad(&e))?;
        block_on(evaluate(&m, &set, EVAL_BATCH, &device))?
    } else {
        let m = factorized_from_tensors(&tensors, &MLP_WIDTHS, &device).map_err(|e| bad(&e))?;
        block_on(evaluate(&m, &set, EVAL_BATCH, &device))?
    };
    let correct: u32 = (0..10).map(|c| e.confusion.0[c][c]).sum();
    println!(
        "{weights} ({} model) on {} images, {}: accuracy {:.2}% ({correct} of {})\n",
        if dense { "dense" } else { "factorized" },
        set.len(),
        opened.name,
        e.accuracy * 100.0,
        set.len()
    );
    println!("{}", confusion_table(&e.confusion, DatasetKind::Mnist));
    Ok(())
}
