//! The classifier's kernels: fused Adam, the fused softmax loss, batches gathered on the device,
//! the dense stack's products, and the classifier's whole step.

use burn::tensor::{Device, Tensor, TensorData};
use mnist_lab::lab::classifier::eval::evaluate;
use mnist_lab::lab::classifier::mlp::Mlp;
use mnist_lab::lab::classifier::train::{ClassifierTrainer, LrSchedule, TrainConfig};
use mnist_lab::lab::data::{Dataset, IMAGE_PIXELS, Images};

use super::{close, close_loss, close_to, floats, same_training, toy};

/// Adam on the GPU runs one fused kernel per parameter (`lab::core::kernels`) instead of 13 burn
/// operations; after 50 seeded steps with weight decay its weights, moments and loss are those of
/// burn's operations on the same device (and the kernel did run: its launch counter moved).
pub async fn fused_adam_matches_burns_operations(device: Device) {
    use burn::optim::GradientsParams;
    use mnist_lab::lab::core::adam::{Adam, AdamSettings};
    use mnist_lab::lab::core::kernels::{Kernel, launches};
    use mnist_lab::lab::core::params::module_tensors;
    use mnist_lab::lab::core::safetensors::NamedTensor;

    let device = device.autodiff();
    device.seed(5);
    let model = Mlp::new(&[12, 9, 4], &device);
    let x = Tensor::<2>::from_data(
        TensorData::new((0..96).map(|i| (i as f32 * 0.37).sin()).collect::<Vec<_>>(), [8, 12]),
        &device,
    );
    let settings = AdamSettings { weight_decay: 1e-2, ..AdamSettings::default() };
    let mut fused = Adam::new(settings);
    let mut reference = Adam::new(settings);
    reference.disable_kernels();
    let loss = |m: &Mlp| m.forward(x.clone()).powi_scalar(2).mean();
    let t0 = module_tensors(&model).await.unwrap();
    let (mut a, mut b) = (model.clone(), model);
    let before = launches(Kernel::Adam);
    for _ in 0..50 {
        let ga = GradientsParams::from_grads(loss(&a).backward(), &a);
        a = fused.step(1e-2, a, ga);
        let gb = GradientsParams::from_grads(loss(&b).backward(), &b);
        b = reference.step(1e-2, b, gb);
    }
    assert_eq!(launches(Kernel::Adam) - before, 50 * 4, "one launch per parameter per step");
    let (la, lb) = (floats(loss(&a)).await[0], floats(loss(&b)).await[0]);
    close_loss(la as f64, lb as f64, "loss after 50 steps");
    let (ta, tb) = (module_tensors(&a).await.unwrap(), module_tensors(&b).await.unwrap());
    same_training(&t0, &ta, &tb);
    // The moments started at zero: how far they moved is their size.
    let (sa, sb) = (fused.save(&a).await.unwrap(), reference.save(&b).await.unwrap());
    let zeros: Vec<_> =
        sb.iter().map(|t| NamedTensor { data: vec![0.0; t.data.len()], ..t.clone() }).collect();
    same_training(&zeros, &sa, &sb);
}

/// The fused loss kernel's gradient is burn's autodiff gradient of its cross-entropy, and what it
/// adds into the accumulator is the batch's summed loss and correct count (150 rows: more than
/// the kernel's 64 threads, so the strided rows and the partial sums are exercised).
pub async fn fused_loss_matches_burns_cross_entropy(device: Device) {
    use burn::nn::loss::CrossEntropyLossConfig;
    use burn::tensor::Int;
    use mnist_lab::lab::core::kernels::{Kernel, fused_xent, launches};

    let rows = 150;
    let values: Vec<f32> =
        (0..rows * 10).map(|i| ((i * 7919) % 1000) as f32 / 97.0 - 5.0).collect();
    let labels: Vec<i64> = (0..rows).map(|r| ((r * 7) % 10) as i64).collect();
    let logits = Tensor::<2>::from_data(TensorData::new(values, [rows, 10]), &device);
    let y = Tensor::<1, Int>::from_data(TensorData::new(labels, [rows]), &device);
    let acc = Tensor::<1>::zeros([2], &device);
    let before = launches(Kernel::Xent);
    let grad = fused_xent(&logits, &y, &acc).expect("the kernel applies on the GPU");
    fused_xent(&logits, &y, &acc).expect("and again");
    assert_eq!(launches(Kernel::Xent) - before, 2);

    let ad = device.clone().autodiff();
    let tracked = Tensor::<2>::from_inner(logits.clone()).require_grad();
    let loss =
        CrossEntropyLossConfig::new().init(&ad).forward(tracked.clone(), y.clone().autodiff());
    let want = tracked.grad(&loss.backward()).unwrap();
    close(&floats(grad).await, &floats(want).await, "gradient");
    let loss = loss.inner().into_data_async().await.unwrap().try_into_vec_as::<f32>().unwrap()[0];
    let correct = logits.argmax(1).squeeze_dim::<1>(1).equal(y).int().sum();
    let correct = correct.into_data_async().await.unwrap().try_into_vec_as::<i64>().unwrap()[0];
    let sums = acc.into_data_async().await.unwrap().try_into_vec_as::<f32>().unwrap();
    let want_loss = 2.0 * loss * rows as f32;
    close_to(sums[0], want_loss, "loss sum");
    assert_eq!(sums[1], 2.0 * correct as f32, "correct count");
}

/// A batch gathered on the device from the uploaded set is the one the host builds: the same
/// images in the same order, scaled alike, with their labels.
pub async fn gathered_batches_are_the_hosts(device: Device) {
    use mnist_lab::lab::core::kernels::{DeviceImages, Kernel, launches};

    let n = 50;
    let pixels: Vec<u8> = (0..n * IMAGE_PIXELS).map(|i| ((i * 31 + i / 7) % 256) as u8).collect();
    let data =
        Dataset::new(Images { count: n, pixels }, (0..n).map(|i| (i * 3 % 10) as u8).collect())
            .unwrap();
    let set = DeviceImages::upload(&data.images.pixels, &data.labels, IMAGE_PIXELS, &device)
        .expect("uploads on the GPU");
    assert_eq!(set.len(), n);
    let order: Vec<usize> = (0..n).map(|i| (i * 17 + 3) % n).collect();
    assert!(set.order(&[0, n]).is_none(), "an item the set does not hold is refused");
    let on_device = set.order(&order).unwrap();
    let before = launches(Kernel::Gather);
    let (x, y) = set.gather(&on_device, 5, 17, 2.0 / 255.0, -1.0).expect("gathers");
    assert_eq!(launches(Kernel::Gather) - before, 1);
    assert!(set.gather(&on_device, 40, 11, 1.0, 0.0).is_none(), "past the order's end");
    // An order made by a larger set never reaches the kernel of a smaller one (it would read
    // past the pixels): the order carries its set's bound.
    let small = DeviceImages::upload(
        &data.images.pixels[..10 * IMAGE_PIXELS],
        &data.labels[..10],
        IMAGE_PIXELS,
        &device,
    )
    .unwrap();
    assert!(small.gather(&on_device, 0, 10, 1.0, 0.0).is_none(), "another set's order");
    assert!(small.gather(&small.order(&[9, 0]).unwrap(), 0, 2, 1.0, 0.0).is_some());
    let want_x = data.images_tensor(&order[5..22], 2.0 / 255.0, -1.0, &device);
    let want_y = data.labels_tensor(&order[5..22], &device);
    let f = |t: Tensor<2>| async move {
        t.into_data_async().await.unwrap().try_into_vec_as::<f32>().unwrap()
    };
    let (got, want) = (f(x).await, f(want_x).await);
    assert_eq!(got.len(), 17 * IMAGE_PIXELS);
    close(&got, &want, "pixels");
    let i = |t: Tensor<1, burn::tensor::Int>| async move {
        t.into_data_async().await.unwrap().try_into_vec_as::<i64>().unwrap()
    };
    assert_eq!(i(y).await, i(want_y).await);
}

/// The classifier's step with its GPU kernels (batches gathered on the device, the layers'
/// products and the loss by our kernels instead of autodiff, fused Adam) and with burn's
/// operations only: after 50 seeded steps the losses agree (`STEPS_RTOL`), the accuracies within
/// two images (an argmax tie may fall either way), the weights moved alike (`same_training`), and
/// the kernels did run (one gather and one loss per step).
pub async fn kernels_train_like_burns_operations(device: Device) {
    use mnist_lab::lab::core::kernels::{Kernel, launches};
    use mnist_lab::lab::core::params::module_tensors;

    let device = device.autodiff();
    device.seed(11);
    let data = toy(200);
    let cfg = TrainConfig {
        epochs: 20,
        batch_size: 40,
        lr: 2e-3,
        seed: 3,
        schedule: LrSchedule::Cosine,
        weight_decay: 1e-4,
    };
    let model = Mlp::new(&[784, 32, 10], &device);
    let t0 = module_tensors(&model).await.unwrap();
    let mut a = ClassifierTrainer::new(model.clone(), cfg.clone(), data.len(), &device).unwrap();
    let mut b = ClassifierTrainer::new(model, cfg, data.len(), &device).unwrap().without_kernels();
    let (xent, gather) = (launches(Kernel::Xent), launches(Kernel::Gather));
    let (matmul, col_sums) = (launches(Kernel::Matmul), launches(Kernel::ColSums));
    for _ in 0..10 {
        let (ra, rb) =
            (a.train_chunk(&data, 5).await.unwrap(), b.train_chunk(&data, 5).await.unwrap());
        assert_eq!((ra.epoch, ra.samples), (rb.epoch, rb.samples));
        close_loss(ra.loss, rb.loss, &format!("{ra:?} vs {rb:?}"));
        assert!((ra.accuracy - rb.accuracy).abs() <= 2.0 / ra.samples as f64, "{ra:?} vs {rb:?}");
    }
    assert_eq!(launches(Kernel::Xent) - xent, 50, "one fused loss per step");
    assert_eq!(launches(Kernel::Gather) - gather, 50, "one gathered batch per step");
    // Two layers: two products forward, two weight gradients, one gradient through the ReLU.
    assert_eq!(launches(Kernel::Matmul) - matmul, 50 * 5, "our products, not autodiff's");
    assert_eq!(launches(Kernel::ColSums), col_sums, "the bias gradients come with the weights'");
    let (ta, tb) =
        (module_tensors(a.model()).await.unwrap(), module_tensors(b.model()).await.unwrap());
    same_training(&t0, &ta, &tb);

    // The evaluation's forward pass is our products too (two per batch of 64: four batches), and
    // gives burn's forward pass's loss and predictions.
    let before = launches(Kernel::Matmul);
    let eval = evaluate(a.model(), &data, 64, &device).await.unwrap();
    assert_eq!(launches(Kernel::Matmul) - before, 2 * 4);
    let inner = device.clone().inner();
    let all: Vec<usize> = (0..data.len()).collect();
    let logits = burn::module::Module::valid(a.model()).forward(data.images_tensor(
        &all,
        mnist_lab::lab::classifier::mlp::PIXEL_SCALE,
        0.0,
        &inner,
    ));
    let loss = burn::nn::loss::CrossEntropyLossConfig::new()
        .init(&inner)
        .forward(logits.clone(), data.labels_tensor(&all, &inner));
    let loss = floats(loss).await[0] as f64;
    close_to(eval.loss as f32, loss as f32, "evaluation loss");
    let top = logits.argmax(1).into_data_async().await.unwrap().try_into_vec_as::<i64>().unwrap();
    let top: Vec<u8> = top.into_iter().map(|p| p as u8).collect();
    assert_eq!(eval.predictions, top);
}

/// The dense stack's kernels give autodiff's gradients for every parameter of a factorized MLP
/// (layers without bias, without ReLU between a pair, widths and a batch that are not multiples
/// of the kernels' 8×8 blocks), and add the batch's loss and correct count as burn computes them.
pub async fn dense_kernels_give_autodiffs_gradients(device: Device) {
    use burn::module::Module;
    use burn::nn::loss::CrossEntropyLossConfig;
    use burn::nn::{Linear, LinearConfig};
    use burn::optim::GradientsParams;
    use burn::tensor::Int;
    use mnist_lab::lab::classifier::mlp::Classifier;
    use mnist_lab::lab::compress::factorized::{FactorizedLayer, FactorizedMlp};
    use mnist_lab::lab::core::kernels::{Kernel, fused_dense_grads, launches};

    let device = device.autodiff();
    device.seed(21);
    let dense = |i: usize, o: usize, bias: bool| -> Linear {
        LinearConfig::new(i, o).with_bias(bias).init(&device)
    };
    // 70 rows and 130 columns: products that span two workgroups (64×64 outputs each).
    let model = FactorizedMlp::from_layers(vec![
        FactorizedLayer { first: dense(13, 3, false), second: dense(3, 130, true) },
        FactorizedLayer { first: dense(130, 5, false), second: dense(5, 6, true) },
    ]);
    let rows = 70;
    let x = Tensor::<2>::from_data(
        TensorData::new(
            (0..rows * 13).map(|i| (i as f32 * 0.61).sin()).collect::<Vec<_>>(),
            [rows, 13],
        ),
        &device,
    );
    let labels: Vec<i32> = (0..rows as i32).map(|i| (i * 5) % 6).collect();
    let int = |d: &Device| Tensor::<1, Int>::from_data(TensorData::new(labels.clone(), [rows]), d);
    let y = int(&device.clone().inner());

    let acc = Tensor::<1>::zeros([2], &device.clone().inner());
    let layers = model.dense_layers().expect("a stack of dense layers");
    let before = launches(Kernel::Matmul);
    let mut ours = fused_dense_grads(&layers, &x.clone().inner(), &y, &acc).expect("on the GPU");
    // Four layers: four products forward, four weight gradients, three gradients flowing down.
    assert_eq!(launches(Kernel::Matmul) - before, 11);
    // Stacks the hand-written backward pass does not cover go to autodiff, launching nothing: a
    // ReLU after the logits, frozen parameters.
    let mut relu_last = layers.clone();
    relu_last.last_mut().unwrap().relu = true;
    let frozen = model.clone().no_grad();
    let before = launches(Kernel::Matmul);
    assert!(fused_dense_grads(&relu_last, &x.clone().inner(), &y, &acc).is_none());
    let frozen_layers = frozen.dense_layers().unwrap();
    assert!(fused_dense_grads(&frozen_layers, &x.clone().inner(), &y, &acc).is_none());
    assert_eq!(launches(Kernel::Matmul), before);

    let logits = model.logits(x);
    let loss = CrossEntropyLossConfig::new().init(&device).forward(logits.clone(), int(&device));
    let mut want = GradientsParams::from_grads(loss.backward(), &model);
    let mut ids = Vec::new();
    for pair in &model.layers {
        for l in [&pair.first, &pair.second] {
            ids.push((l.weight.id, true));
            if let Some(b) = &l.bias {
                ids.push((b.id, false));
            }
        }
    }
    assert_eq!(ours.len(), ids.len(), "one gradient per parameter");
    for (id, matrix) in ids {
        let (g, w) = if matrix {
            (
                ours.remove::<2>(id).unwrap().flatten(0, 1),
                want.remove::<2>(id).unwrap().flatten(0, 1),
            )
        } else {
            (ours.remove::<1>(id).unwrap(), want.remove::<1>(id).unwrap())
        };
        close(&floats(g).await, &floats(w).await, "gradient");
    }
    let sums = acc.into_data_async().await.unwrap().try_into_vec_as::<f32>().unwrap();
    let loss = floats(loss.inner()).await[0] * rows as f32;
    close_to(sums[0], loss, "loss sum");
    let p = floats(logits.inner()).await;
    let correct = (0..rows)
        .filter(|&r| {
            let row = &p[r * 6..r * 6 + 6];
            let top = (0..6).fold(0, |t, j| if row[j] > row[t] { j } else { t });
            top as i32 == labels[r]
        })
        .count();
    assert_eq!(sums[1], correct as f32);
}
