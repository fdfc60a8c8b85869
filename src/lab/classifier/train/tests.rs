//! Tests of `train.rs` (a file of their own, so that neither file passes 500 lines).

use super::*;
use crate::lab::classifier::mlp::MLP_WIDTHS;
use crate::lab::classifier::mlp::Mlp;
use crate::lab::data::{IMAGE_PIXELS, Images};
use futures_lite::future::block_on;

/// A learnable toy set: class c lights up the c-th band of rows, plus noise.
fn bands(n: usize, seed: u64) -> Dataset {
    let mut rng = SplitMix64::new(seed);
    let mut pixels = Vec::with_capacity(n * IMAGE_PIXELS);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let c = (i % 10) as u8;
        labels.push(c);
        for p in 0..IMAGE_PIXELS {
            let row = p / 28;
            let on = row / 3 == c as usize;
            let noise = (rng.next_u64() % 60) as u8;
            pixels.push(if on { 195 + noise } else { noise });
        }
    }
    Dataset::new(Images { count: n, pixels }, labels).unwrap()
}

/// No hook: a learning rate the settings allow (10, the maximum) with no decay really blows
/// the weights up, and the loop stops with the typed error at the first exploded loss.
#[test]
fn a_learning_rate_that_truly_diverges_stops_with_a_typed_error() {
    let device = Device::flex().autodiff();
    device.seed(3);
    let data = bands(1280, 9);
    let config = TrainConfig {
        lr: 10.0,
        epochs: 50,
        schedule: LrSchedule::Constant,
        weight_decay: 0.0,
        ..Default::default()
    };
    config.validate().unwrap();
    let mut t = ClassifierTrainer::new(Mlp::new(&MLP_WIDTHS, &device), config, data.len(), &device)
        .unwrap();
    let mut chunks = 0;
    let err = loop {
        match block_on(t.train_chunk(&data, 1)) {
            Ok(r) => assert!(r.loss <= DIVERGED_LOSS),
            Err(e) => break e,
        }
        chunks += 1;
        assert!(chunks < 50, "lr 10 never diverged");
    };
    match err {
        LabError::NonFinite { what: "training loss", value, epoch: 1 } => {
            assert!(value > DIVERGED_LOSS as f32, "{value}")
        }
        other => panic!("expected divergence, got {other:?}"),
    }
}

#[test]
fn bad_settings_are_typed_errors() {
    for (cfg, needle) in [
        (TrainConfig { lr: f64::NAN, ..Default::default() }, "learning rate"),
        (TrainConfig { lr: 0.0, ..Default::default() }, "learning rate"),
        (TrainConfig { batch_size: 0, ..Default::default() }, "batch size"),
        (TrainConfig { epochs: 0, ..Default::default() }, "epochs"),
        (TrainConfig { weight_decay: -1.0, ..Default::default() }, "weight decay"),
    ] {
        match cfg.validate() {
            Err(LabError::InvalidConfig(msg)) => assert!(msg.contains(needle), "{msg}"),
            other => panic!("expected an InvalidConfig error, got {other:?}"),
        }
    }
    let device = Device::flex().autodiff();
    let model = Mlp::new(&MLP_WIDTHS, &device);
    assert!(matches!(
        ClassifierTrainer::new(model, TrainConfig::default(), 0, &device),
        Err(LabError::EmptyDataset)
    ));
    let empty = bands(1, 0).take(0);
    assert!(matches!(
        block_on(evaluate(&Mlp::new(&MLP_WIDTHS, &device), &empty, 10, &device)),
        Err(LabError::EmptyDataset)
    ));
}

#[test]
fn training_learns_and_confusion_rows_sum_to_class_counts() {
    let device = Device::flex().autodiff();
    device.seed(1);
    let train = bands(600, 1);
    let test = bands(200, 2);
    let model = Mlp::new(&MLP_WIDTHS, &device);
    let before = block_on(evaluate(&model, &test, 64, &device)).unwrap();
    let config = TrainConfig {
        epochs: 3,
        batch_size: 32,
        lr: 1e-3,
        seed: 3,
        schedule: LrSchedule::Cosine,
        weight_decay: 0.0,
    };
    let mut trainer = ClassifierTrainer::new(model, config, train.len(), &device).unwrap();
    assert_eq!(trainer.batches_per_epoch(), 19);
    assert_eq!(trainer.current_lr(), 1e-3);
    let mut reports = Vec::new();
    while !trainer.finished() {
        reports.push(block_on(trainer.train_chunk(&train, 7)).unwrap());
    }
    assert!(trainer.current_lr() < 1e-9, "cosine decays to zero by the end");
    // 19 batches an epoch in chunks of ≤ 7 that stop at the epoch's end: 7, 7, 5.
    assert_eq!(reports.len(), 9);
    assert!(reports[2].epoch_finished && reports[2].batch_in_epoch == 19);
    assert!(reports.last().unwrap().loss < reports[0].loss);
    let after = block_on(evaluate(trainer.model(), &test, 64, &device)).unwrap();
    assert!(after.accuracy > 0.9, "accuracy {} (before: {})", after.accuracy, before.accuracy);
    assert!(after.loss < before.loss);
    assert_eq!(after.confusion.row_sums().map(|s| s as usize), test.class_counts());
    assert_eq!(after.predictions.len(), test.len());
}

/// A run checkpointed after epoch 1 and restored into a fresh trainer goes on exactly like
/// the run that never stopped: same losses, bit-identical weights (Adam's moments included).
#[test]
fn a_restored_checkpoint_continues_the_run_bit_identically() {
    use crate::lab::core::params::module_tensors;
    let device = Device::flex().autodiff();
    device.seed(5);
    let train = bands(200, 1);
    let config = TrainConfig {
        epochs: 3,
        batch_size: 32,
        lr: 1e-3,
        seed: 9,
        schedule: LrSchedule::Cosine,
        weight_decay: 1e-4,
    };
    let mut a = ClassifierTrainer::new(
        Mlp::new(&MLP_WIDTHS, &device),
        config.clone(),
        train.len(),
        &device,
    )
    .unwrap();
    block_on(a.train_chunk(&train, 3)).unwrap();
    assert!(block_on(a.checkpoint()).is_err(), "mid-epoch is refused");
    block_on(a.train_chunk(&train, usize::MAX)).unwrap();
    let ck = block_on(a.checkpoint()).unwrap();
    let ck = Checkpoint::from_bytes(&ck.to_bytes()).unwrap();

    let mut b = ClassifierTrainer::restore(
        Mlp::new(&MLP_WIDTHS, &device),
        config.clone(),
        &ck,
        train.len(),
        &device,
    )
    .unwrap();
    assert_eq!(b.epochs_done(), 1);
    assert_eq!(b.current_lr(), a.current_lr());
    let ra = block_on(a.train_chunk(&train, usize::MAX)).unwrap();
    let rb = block_on(b.train_chunk(&train, usize::MAX)).unwrap();
    assert_eq!(ra, rb);
    assert_eq!(
        block_on(module_tensors(a.model())).unwrap(),
        block_on(module_tensors(b.model())).unwrap()
    );

    // Without Adam's moments the run would go on, but not identically (Adam warms up again).
    let mut no_moments = block_on(a.checkpoint()).unwrap();
    no_moments.modules[0].1.moments.clear();
    let mut c = ClassifierTrainer::restore(
        Mlp::new(&MLP_WIDTHS, &device),
        config.clone(),
        &no_moments,
        train.len(),
        &device,
    )
    .unwrap();
    let mut d = ClassifierTrainer::restore(
        Mlp::new(&MLP_WIDTHS, &device),
        config.clone(),
        &block_on(a.checkpoint()).unwrap(),
        train.len(),
        &device,
    )
    .unwrap();
    assert_ne!(
        block_on(c.train_chunk(&train, 2)).unwrap().loss,
        block_on(d.train_chunk(&train, 2)).unwrap().loss
    );

    // A checkpoint of another training set is refused.
    assert!(
        ClassifierTrainer::restore(Mlp::new(&MLP_WIDTHS, &device), config, &ck, 150, &device)
            .is_err()
    );
}
