//! Tests of `trainer.rs` (a file of their own, so that neither file passes 500 lines).

use super::*;
use crate::lab::core::params::module_tensors;
use crate::lab::data::{IMAGE_PIXELS, Images};
use crate::lab::gan::models::GanArch;
use crate::lab::gan::sampling::GRID_SAMPLES;
use crate::lab::gan::sampling::interpolate;
use burn::module::Module;
use burn::tensor::TensorData;
use futures_lite::future::block_on;

/// A tiny "clothing" set: a bright rectangle whose size depends on the class.
fn shapes(n: usize) -> Dataset {
    let mut pixels = Vec::with_capacity(n * IMAGE_PIXELS);
    let mut labels = Vec::new();
    for i in 0..n {
        let c = i % 10;
        labels.push(c as u8);
        for p in 0..IMAGE_PIXELS {
            let (r, col) = (p / 28, p % 28);
            let half = 4 + c;
            let on = r.abs_diff(14) < half && col.abs_diff(14) < half;
            pixels.push(if on { 220 } else { 10 });
        }
    }
    Dataset::new(Images { count: n, pixels }, labels).unwrap()
}

fn cfg(arch: GanArch, batch: usize) -> GanConfig {
    GanConfig {
        arch,
        epochs: 3,
        batch_size: batch,
        lr_g: 1e-3,
        lr_d: 1e-3,
        seed: 5,
        ..GanConfig::default()
    }
}

fn values<M: Module>(m: &M) -> Vec<(String, Vec<u32>)> {
    block_on(module_tensors(m))
        .unwrap()
        .into_iter()
        .map(|t| (t.name, t.data.iter().map(|x| x.to_bits()).collect()))
        .collect()
}

fn trainable(v: Vec<(String, Vec<u32>)>) -> Vec<(String, Vec<u32>)> {
    v.into_iter()
        .filter(|(n, _)| !n.ends_with("running_mean") && !n.ends_with("running_var"))
        .collect()
}

#[test]
fn bad_settings_are_typed_errors() {
    let device = Device::flex().autodiff();
    for (c, needle) in [
        (GanConfig { lr_g: f64::NAN, ..GanConfig::default() }, "generator learning rate"),
        (GanConfig { lr_d: -1.0, ..GanConfig::default() }, "discriminator learning rate"),
        (GanConfig { batch_size: 0, ..GanConfig::default() }, "batch size"),
        (GanConfig { batch_size: 1, ..GanConfig::default() }, "batch size"),
        (GanConfig { noise: -0.1, ..GanConfig::default() }, "noise"),
        (GanConfig { noise: f64::INFINITY, ..GanConfig::default() }, "noise"),
        (GanConfig { beta1: 1.0, ..GanConfig::default() }, "β₁"),
        (GanConfig { epochs: 0, ..GanConfig::default() }, "epochs"),
    ] {
        match GanTrainer::new(c, 1000, &device) {
            Err(LabError::InvalidConfig(msg)) => assert!(msg.contains(needle), "{msg}"),
            Err(e) => panic!("expected InvalidConfig about {needle}, got {e:?}"),
            Ok(_) => panic!("expected InvalidConfig about {needle}, got a trainer"),
        }
    }
    assert!(matches!(
        GanTrainer::new(GanConfig::default(), 0, &device),
        Err(LabError::EmptyDataset)
    ));
    assert!(matches!(
        GanTrainer::new(GanConfig::default(), 100, &device),
        Err(LabError::InvalidConfig(_))
    ));
    assert!(matches!(
        block_on(generate(&Generator::new(GanArch::Dense, &device), &[0.0; 99], &device)),
        Err(LabError::InvalidConfig(_))
    ));
}

#[test]
fn the_permutation_moves_whole_images_with_their_labels() {
    let device = Device::flex();
    let b = 5;
    // Image i is filled with the tag i: reals 0..5, fakes 5..10.
    let tagged = |from: usize| {
        let v: Vec<f32> =
            (from..from + b).flat_map(|i| std::iter::repeat_n(i as f32, IMAGE_PIXELS)).collect();
        Tensor::<4>::from_data(TensorData::new(v, [b, 1, 28, 28]), &device)
    };
    let mut perm: Vec<usize> = (0..2 * b).collect();
    SplitMix64::new(9).shuffle(&mut perm);
    assert_ne!(perm, (0..2 * b).collect::<Vec<_>>());
    let (x, y, real) = shuffle_batch(tagged(0), tagged(b), &perm, 0.9, 0.1);
    let x = x.into_data().try_into_vec_as::<f32>().unwrap();
    let y = y.into_data().try_into_vec_as::<f32>().unwrap();
    let real = real.into_data().try_into_vec_as::<f32>().unwrap();
    for (i, &p) in perm.iter().enumerate() {
        let img = &x[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS];
        assert!(img.iter().all(|&v| v == p as f32), "image {i} is not intact input image {p}");
        let is_real = p < b;
        assert_eq!(real[i], if is_real { 1.0 } else { 0.0 });
        assert_eq!(y[i], if is_real { 0.9 } else { 0.1 });
    }
}

/// The trainer's own two phases: the D step leaves G's trainable tensors bit-identical and
/// moves D, having seen real ‖ fake in an order that is a permutation but not the identity;
/// the G step leaves every D tensor bit-identical and moves G.
#[test]
fn each_step_moves_only_its_own_network() {
    for arch in [GanArch::Dense, GanArch::Cnn] {
        let device = Device::flex().autodiff();
        let data = shapes(64);
        let mut t = GanTrainer::new(cfg(arch, 16), data.len(), &device).unwrap();
        // A first step gives both Adams their moments: later steps move what they touch.
        t.step(&data).unwrap();
        let real = data
            .images_tensor(&(0..16).collect::<Vec<_>>(), 2.0 / 255.0, -1.0, &device)
            .reshape([16, 1, 28, 28]);
        let (g0, d0) = (values(t.generator()), values(t.discriminator()));
        assert!(t.d_step(real, 0.0, true).is_some(), "norms when asked for");
        let (g1, d1) = (values(t.generator()), values(t.discriminator()));
        // `assert!(a == b)`, not `assert_eq!`: a failure should not print every weight.
        assert!(trainable(g1.clone()) == trainable(g0), "{arch:?}: the D step changed G");
        assert!(d1 != d0, "{arch:?}: the D step did not move D");
        let mut order = t.d_order.clone();
        let identity: Vec<usize> = (0..32).collect();
        assert_ne!(order, identity, "{arch:?}: D saw real ‖ fake unshuffled");
        order.sort_unstable();
        assert_eq!(order, identity, "{arch:?}: D's order is not a permutation of 2B");
        assert!(t.g_step(0.0, false).is_none(), "no norms unless asked for");
        assert!(values(t.discriminator()) == d1, "{arch:?}: the G step changed D");
        let g2 = trainable(values(t.generator()));
        assert!(g2 != trainable(g1), "{arch:?}: the G step did not move G");
    }
}

#[test]
fn a_few_steps_give_finite_losses_that_move_and_epochs_close() {
    let device = Device::flex().autodiff();
    let data = shapes(96);
    let config = GanConfig { noise: 0.1, soft_labels: true, ..cfg(GanArch::Dense, 16) };
    let mut t = GanTrainer::new(config, data.len(), &device).unwrap();
    assert_eq!(t.batches_per_epoch(), 6);
    let a = block_on(t.train_chunk(&data, 2)).unwrap();
    let b = block_on(t.train_chunk(&data, 2)).unwrap();
    for c in [&a, &b] {
        assert!(c.d_loss.is_finite() && c.g_loss.is_finite(), "{c:?}");
        assert!((0.0..=1.0).contains(&c.d_real) && (0.0..=1.0).contains(&c.d_fake), "{c:?}");
        assert!(c.finished_epoch.is_none());
    }
    assert_ne!((a.d_loss, a.g_loss), (b.d_loss, b.g_loss));
    let c = block_on(t.train_chunk(&data, 100)).unwrap();
    assert_eq!(c.batches, 2, "a chunk never crosses an epoch boundary");
    let e = c.finished_epoch.expect("epoch 1 finished");
    assert_eq!(e.epoch, 1);
    assert_eq!(t.history().len(), 1);
    assert!(e.d_loss.is_finite() && e.g_loss.is_finite());
    let layers: Vec<&str> = e.g_norms.iter().map(|n| n.layer.as_str()).collect();
    assert_eq!(
        layers,
        ["layers.0", "layers.1", "layers.2", "layers.3", "norms.0", "norms.1", "norms.2"]
    );
    assert!(
        e.g_norms
            .iter()
            .chain(&e.d_norms)
            .all(|n| n.weight > 0.0 && n.grad > 0.0 && n.grad.is_finite()),
        "{e:?}"
    );
    let samples = block_on(t.generate(t.fixed_noise())).unwrap();
    assert_eq!(samples.len(), GRID_SAMPLES * IMAGE_PIXELS);
    assert!(samples.iter().all(|v| (-1.0..=1.0).contains(v)));
    let mean = samples.iter().sum::<f32>() / samples.len() as f32;
    let std =
        (samples.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / samples.len() as f32).sqrt();
    eprintln!("samples after one epoch: mean {mean}, std {std}");
    assert!(std > 0.05, "the grid is not one flat grey: std {std}");
    let fresh =
        block_on(generate(&Generator::new(GanArch::Dense, &device), t.fixed_noise(), &device))
            .unwrap();
    let fresh_std = (fresh.iter().map(|v| v * v).sum::<f32>() / fresh.len() as f32).sqrt();
    eprintln!("an untrained generator: rms {fresh_std}");
}

#[test]
fn divergence_stops_with_a_message_and_keeps_the_last_good_state() {
    let device = Device::flex().autodiff();
    let data = shapes(64);
    let mut t = GanTrainer::new(cfg(GanArch::Dense, 16), data.len(), &device).unwrap();
    block_on(t.train_chunk(&data, 1)).unwrap();
    let good_g = values(t.generator());
    // Poison the generator: the next chunk's losses become NaN.
    let nan: Vec<_> = block_on(module_tensors(t.generator()))
        .unwrap()
        .into_iter()
        .map(|mut x| {
            x.data.iter_mut().for_each(|v| *v = f32::NAN);
            x
        })
        .collect();
    let poisoned = poison(t.generator(), &nan);
    t.state.g = poisoned;
    match block_on(t.train_chunk(&data, 1)) {
        Err(LabError::NonFinite { what, .. }) => assert!(what.contains("loss")),
        other => panic!("expected NonFinite, got {other:?}"),
    }
    assert_eq!(values(t.generator()), good_g, "the last good generator is back");
    assert!(block_on(t.train_chunk(&data, 1)).is_ok(), "training can go on from there");
}

/// Writes values in bypassing the loader's finiteness check (only a test needs a NaN model).
fn poison(g: &Generator, tensors: &[crate::lab::core::safetensors::NamedTensor]) -> Generator {
    struct P<'a>(&'a [crate::lab::core::safetensors::NamedTensor], usize);
    impl burn::module::ModuleMapper for P<'_> {
        fn map_float<const D: usize>(
            &mut self,
            p: burn::module::Param<Tensor<D>>,
        ) -> burn::module::Param<Tensor<D>> {
            let t = &self.0[self.1];
            self.1 += 1;
            let data = TensorData::new(t.data.clone(), t.shape.clone());
            p.map(|old| {
                let t = Tensor::from_data(data, &old.device());
                if old.is_require_grad() { t.require_grad() } else { t }
            })
        }
    }
    g.clone().map(&mut P(tensors, 0))
}

#[test]
fn a_checkpoint_restores_both_networks_and_the_loop() {
    let device = Device::flex().autodiff();
    let data = shapes(64);
    let mut t = GanTrainer::new(cfg(GanArch::Dense, 16), data.len(), &device).unwrap();
    block_on(t.train_chunk(&data, 1)).unwrap();
    assert!(block_on(t.checkpoint()).is_err(), "mid-epoch is refused");
    block_on(t.train_epoch(&data)).unwrap();
    let ck = Checkpoint::from_bytes(&block_on(t.checkpoint()).unwrap().to_bytes()).unwrap();
    let r = GanTrainer::restore(
        cfg(GanArch::Dense, 16),
        &ck,
        t.history().to_vec(),
        data.len(),
        &device,
    )
    .unwrap();
    assert_eq!(values(r.generator()), values(t.generator()), "G, running statistics included");
    assert_eq!(values(r.discriminator()), values(t.discriminator()));
    assert_eq!(
        (r.epochs_done(), r.history().len(), r.state.rng.clone(), r.state.order.clone()),
        (1, 1, t.state.rng.clone(), t.state.order.clone())
    );
    let mut r = r;
    let e = block_on(r.train_epoch(&data)).unwrap();
    assert_eq!(e.epoch, 2);
    assert!(e.d_loss.is_finite() && e.g_loss.is_finite());
    // That it continues bit for bit is checked in tests/gan.rs, in a process of its own:
    // dropout draws from the device's generator, which tests running in parallel share.
    // The other architecture's networks do not fit.
    assert!(
        GanTrainer::restore(cfg(GanArch::Cnn, 16), &ck, Vec::new(), data.len(), &device).is_err()
    );
}

#[test]
fn interpolation_runs_from_one_vector_to_the_other() {
    let a = vec![0.0; 100];
    let b = vec![1.0; 100];
    let walk = interpolate(&a, &b, 5);
    assert_eq!(walk.len(), 500);
    assert_eq!(&walk[..100], &a[..]);
    assert_eq!(&walk[400..], &b[..]);
    assert!((walk[250] - 0.5).abs() < 1e-6);
}
