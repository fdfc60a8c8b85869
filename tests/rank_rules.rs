//! The two rank rules on the shipped pretrained model and the real MNIST test set: the budget
//! rule spends no more parameters than the seed's k = int(n/f) at 2×, 4× and 8×, and at 8×
//! (where the seed leaves the 50×10 output layer at rank 1) its SVD model is at least as
//! accurate.
#![cfg(not(target_arch = "wasm32"))]

use burn::tensor::Device;
use futures_lite::future::block_on;
use mnist_lab::lab::classifier::mlp::MLP_WIDTHS;
use mnist_lab::lab::classifier::weights::mlp_from_tensors;
use mnist_lab::lab::compress::evaluator::RankEvaluator;
use mnist_lab::lab::compress::factorized::MlpSpectrum;
use mnist_lab::lab::compress::ranks::{RankRule, params_for};
use mnist_lab::lab::core::safetensors::decode_safetensors;
use mnist_lab::lab::data::{DatasetKind, load_dir};

#[test]
fn the_budget_rule_fits_the_seed_budget_and_beats_it_at_8x() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("static");
    let bytes = std::fs::read(root.join("models/mlp-784-100-50-10.safetensors")).unwrap();
    let device = Device::flex();
    let (tensors, _) = decode_safetensors(&bytes).unwrap();
    let mlp = mlp_from_tensors(&tensors, &MLP_WIDTHS, &device).unwrap();
    let spectrum = block_on(MlpSpectrum::of(&mlp)).unwrap();
    let test = load_dir(&root, DatasetKind::Mnist).expect("make data fetches MNIST").test;
    let eval = RankEvaluator::new(&spectrum, &test, &device).unwrap();
    let shapes = spectrum.shapes();
    for f in [2.0, 4.0, 8.0] {
        let seed = spectrum.ranks_for(RankRule::Seed, f).unwrap();
        let budget = spectrum.ranks_for(RankRule::Budget, f).unwrap();
        let (ps, pb) = (params_for(&shapes, &seed), params_for(&shapes, &budget));
        let (acc_s, acc_b) = (
            block_on(eval.accuracy(&spectrum, &seed)).unwrap(),
            block_on(eval.accuracy(&spectrum, &budget)).unwrap(),
        );
        println!(
            "{f}×: seed {seed:?} {ps} params {acc_s:.4} · budget {budget:?} {pb} params {acc_b:.4}"
        );
        assert!(pb <= ps, "{f}×: the budget rule spends {pb} > {ps}");
        if f == 8.0 {
            assert!(acc_b >= acc_s, "8×: budget {acc_b} < seed {acc_s}");
        }
    }
}

/// The seed's one rule for the refinement: it starts from the SVD factors, not from random
/// weights. On the shipped base at 4× under the seed rule, the refinement trainer's model before
/// its first step holds U'Σ and Vᵀ (and the copied biases) bit for bit, and its test accuracy is
/// the rank slider's at those ranks: the same 10 000 predictions (the slider projects the test
/// set once and sums in another order, so the logits may differ in their last bits; no image
/// near a tie changes its class on this model).
#[test]
fn the_refinement_starts_from_the_svd_factors() {
    use mnist_lab::lab::classifier::eval::{EVAL_BATCH, evaluate};
    use mnist_lab::lab::classifier::train::{ClassifierTrainer, TrainConfig};
    use mnist_lab::lab::compress::weights::factorized_tensors;

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("static");
    let bytes = std::fs::read(root.join("models/mlp-784-100-50-10.safetensors")).unwrap();
    let device = Device::flex().autodiff();
    let (tensors, _) = decode_safetensors(&bytes).unwrap();
    let mlp = mlp_from_tensors(&tensors, &MLP_WIDTHS, &device).unwrap();
    let spectrum = block_on(MlpSpectrum::of(&mlp)).unwrap();
    let data = load_dir(&root, DatasetKind::Mnist).expect("make data fetches MNIST");
    let ranks = spectrum.ranks_for(RankRule::Seed, 4.0).unwrap();
    assert_eq!(ranks, [25, 12, 2], "k = int(n/4) for n = 100, 50, 10");
    let svd = spectrum.build(&ranks, &device).unwrap();
    let config = TrainConfig { epochs: 1, ..TrainConfig::default() };
    let trainer = ClassifierTrainer::new(svd.clone(), config, data.train.len(), &device).unwrap();
    let bits = |m| {
        block_on(factorized_tensors(m))
            .unwrap()
            .into_iter()
            .map(|t| (t.name, t.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>()))
            .collect::<Vec<_>>()
    };
    let (start, factors) = (bits(trainer.model()), bits(&svd));
    assert_eq!(start.len(), 3 * 2 + 3, "U'Σ and Vᵀ per layer, and its bias");
    assert!(start == factors, "the refinement's first weights are not the SVD factors");
    let before = block_on(evaluate(trainer.model(), &data.test, EVAL_BATCH, &device)).unwrap();
    let slider = RankEvaluator::new(&spectrum, &data.test, &device).unwrap();
    let at_ranks = block_on(slider.accuracy(&spectrum, &ranks)).unwrap();
    assert_eq!(before.accuracy, at_ranks, "before refinement vs the slider at {ranks:?}");
}
