//! wasm-side tests in a real browser (headless Chromium, WebGPU via SwiftShader):
//! WebGPU initialisation, a forward pass, async readbacks, and one Adam step on each backend.
//! Run by `make test-wasm` through wasm-bindgen-test-runner and chromedriver (see webdriver.json).
#![cfg(target_arch = "wasm32")]

use burn::tensor::{Device, Tensor, TensorData};
use mnist_lab::app::backend::{is_software_name, probe_adapter, webgpu_device};
use mnist_lab::lab::classifier::eval::evaluate;
use mnist_lab::lab::classifier::mlp::{MLP_WIDTHS, Mlp};
use mnist_lab::lab::classifier::train::{ClassifierTrainer, LrSchedule, TrainConfig};
use mnist_lab::lab::data::{Dataset, IMAGE_PIXELS, Images, idx};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

// The crate root's own folder is tests/, so the submodules name their path.
#[path = "browser/conv.rs"]
mod conv;

fn toy(n: usize) -> Dataset {
    let pixels = (0..n * IMAGE_PIXELS).map(|i| ((i / IMAGE_PIXELS) * 25 + i % 7) as u8).collect();
    Dataset::new(Images { count: n, pixels }, (0..n).map(|i| (i % 10) as u8).collect()).unwrap()
}

/// A tensor's values, read back asynchronously (the only read WebGPU allows).
async fn floats<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data_async().await.unwrap().try_into_vec_as::<f32>().unwrap()
}

/// Two GAN chunks of one epoch, trained two ways from the same seeds: the same epoch and batches,
/// and losses and D's mean outputs within `tol` (relative, or absolute below 1).
fn same_gan_chunk(
    a: &mnist_lab::lab::gan::progress::GanChunk,
    b: &mnist_lab::lab::gan::progress::GanChunk,
    tol: f64,
) {
    assert_eq!((a.epoch, a.batches), (b.epoch, b.batches));
    for (x, y) in [(a.d_loss, b.d_loss), (a.g_loss, b.g_loss), (a.d_real, b.d_real)]
        .into_iter()
        .chain([(a.d_fake, b.d_fake)])
    {
        assert!((x - y).abs() <= tol * y.abs().max(1.0), "{a:?} vs {b:?}");
    }
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
    // The test browser's only adapter is SwiftShader, a CPU emulation: it must be recognised.
    assert!(is_software_name(&adapter.name), "not SwiftShader? {}", adapter.name);
    assert!(adapter.software, "a software adapter reported as hardware: {}", adapter.name);
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

/// Adam on WebGPU runs one fused kernel per parameter (`lab::core::kernels`) instead of 13 burn
/// operations; after 50 seeded steps with weight decay its weights, moments and loss are those of
/// burn's operations on the same device (and the kernel did run: its launch counter moved).
#[wasm_bindgen_test]
async fn webgpu_fused_adam_matches_burns_operations() {
    use burn::optim::GradientsParams;
    use mnist_lab::lab::core::adam::{Adam, AdamSettings};
    use mnist_lab::lab::core::kernels::fused_adam_launches;
    use mnist_lab::lab::core::params::module_tensors;

    let device = webgpu_device().await.expect("WebGPU initialises").autodiff();
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
    let (mut a, mut b) = (model.clone(), model);
    let before = fused_adam_launches();
    for _ in 0..50 {
        let ga = GradientsParams::from_grads(loss(&a).backward(), &a);
        a = fused.step(1e-2, a, ga);
        let gb = GradientsParams::from_grads(loss(&b).backward(), &b);
        b = reference.step(1e-2, b, gb);
    }
    assert_eq!(fused_adam_launches() - before, 50 * 4, "one launch per parameter per step");
    let (la, lb) = (floats(loss(&a)).await[0], floats(loss(&b)).await[0]);
    assert!((la - lb).abs() <= 1e-4 * lb.abs().max(1.0), "loss {la} vs {lb}");
    let (ta, tb) = (module_tensors(&a).await.unwrap(), module_tensors(&b).await.unwrap());
    let (sa, sb) = (fused.save(&a).await.unwrap(), reference.save(&b).await.unwrap());
    assert_eq!(sa.len(), sb.len());
    for (p, q) in ta.iter().chain(&sa).zip(tb.iter().chain(&sb)) {
        assert_eq!((&p.name, &p.shape), (&q.name, &q.shape));
        for (x, y) in p.data.iter().zip(&q.data) {
            assert!((x - y).abs() <= 1e-5 * y.abs().max(1.0), "{}: {x} vs {y}", p.name);
        }
    }
}

/// The fused loss kernel's gradient is burn's autodiff gradient of its cross-entropy, and what it
/// adds into the accumulator is the batch's summed loss and correct count (150 rows: more than
/// the kernel's 64 threads, so the strided rows and the partial sums are exercised).
#[wasm_bindgen_test]
async fn webgpu_fused_loss_matches_burns_cross_entropy() {
    use burn::nn::loss::CrossEntropyLossConfig;
    use burn::tensor::Int;
    use mnist_lab::lab::core::kernels::{Kernel, fused_xent, launches};

    let device = webgpu_device().await.expect("WebGPU initialises");
    let rows = 150;
    let values: Vec<f32> =
        (0..rows * 10).map(|i| ((i * 7919) % 1000) as f32 / 97.0 - 5.0).collect();
    let labels: Vec<i64> = (0..rows).map(|r| ((r * 7) % 10) as i64).collect();
    let logits = Tensor::<2>::from_data(TensorData::new(values, [rows, 10]), &device);
    let y = Tensor::<1, Int>::from_data(TensorData::new(labels, [rows]), &device);
    let acc = Tensor::<1>::zeros([2], &device);
    let before = launches(Kernel::Xent);
    let grad = fused_xent(&logits, &y, &acc).expect("the kernel applies on WebGPU");
    fused_xent(&logits, &y, &acc).expect("and again");
    assert_eq!(launches(Kernel::Xent) - before, 2);

    let ad = device.clone().autodiff();
    let tracked = Tensor::<2>::from_inner(logits.clone()).require_grad();
    let loss =
        CrossEntropyLossConfig::new().init(&ad).forward(tracked.clone(), y.clone().autodiff());
    let want = tracked.grad(&loss.backward()).unwrap();
    let (got, want) = (floats(grad).await, floats(want).await);
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() <= 1e-5, "gradient {g} vs {w}");
    }
    let loss = loss.inner().into_data_async().await.unwrap().try_into_vec_as::<f32>().unwrap()[0];
    let correct = logits.argmax(1).squeeze_dim::<1>(1).equal(y).int().sum();
    let correct = correct.into_data_async().await.unwrap().try_into_vec_as::<i64>().unwrap()[0];
    let sums = acc.into_data_async().await.unwrap().try_into_vec_as::<f32>().unwrap();
    let want_loss = 2.0 * loss * rows as f32;
    assert!((sums[0] - want_loss).abs() <= 1e-4 * want_loss, "loss sum {} vs {want_loss}", sums[0]);
    assert_eq!(sums[1], 2.0 * correct as f32, "correct count");
}

/// A batch gathered on the device from the uploaded set is the one the host builds: the same
/// images in the same order, scaled alike, with their labels.
#[wasm_bindgen_test]
async fn webgpu_gathered_batches_are_the_hosts() {
    use mnist_lab::lab::core::kernels::{DeviceImages, Kernel, launches};

    let device = webgpu_device().await.expect("WebGPU initialises");
    let n = 50;
    let pixels: Vec<u8> = (0..n * IMAGE_PIXELS).map(|i| ((i * 31 + i / 7) % 256) as u8).collect();
    let data =
        Dataset::new(Images { count: n, pixels }, (0..n).map(|i| (i * 3 % 10) as u8).collect())
            .unwrap();
    let set = DeviceImages::upload(&data.images.pixels, &data.labels, IMAGE_PIXELS, &device)
        .expect("uploads on WebGPU");
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
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() <= 1e-6, "pixel {g} vs {w}");
    }
    let i = |t: Tensor<1, burn::tensor::Int>| async move {
        t.into_data_async().await.unwrap().try_into_vec_as::<i64>().unwrap()
    };
    assert_eq!(i(y).await, i(want_y).await);
}

/// The classifier's step with its WebGPU kernels (batches gathered on the device, the layers'
/// products and the loss by our kernels instead of autodiff, fused Adam) and with burn's
/// operations only: after 50 seeded steps the losses agree to 1e-4
/// and the weights to 1e-5, and the kernels did run (one gather and one loss per step).
#[wasm_bindgen_test]
async fn webgpu_kernels_train_like_burns_operations() {
    use mnist_lab::lab::core::kernels::{Kernel, launches};
    use mnist_lab::lab::core::params::module_tensors;

    let device = webgpu_device().await.expect("WebGPU initialises").autodiff();
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
    let mut a = ClassifierTrainer::new(model.clone(), cfg.clone(), data.len(), &device).unwrap();
    let mut b = ClassifierTrainer::new(model, cfg, data.len(), &device).unwrap().without_kernels();
    let (xent, gather) = (launches(Kernel::Xent), launches(Kernel::Gather));
    let (matmul, col_sums) = (launches(Kernel::Matmul), launches(Kernel::ColSums));
    for _ in 0..10 {
        let (ra, rb) =
            (a.train_chunk(&data, 5).await.unwrap(), b.train_chunk(&data, 5).await.unwrap());
        assert_eq!((ra.epoch, ra.samples), (rb.epoch, rb.samples));
        assert!((ra.loss - rb.loss).abs() <= 1e-4 * rb.loss.max(1.0), "{ra:?} vs {rb:?}");
        assert!((ra.accuracy - rb.accuracy).abs() <= 1.0 / ra.samples as f64, "{ra:?} vs {rb:?}");
    }
    assert_eq!(launches(Kernel::Xent) - xent, 50, "one fused loss per step");
    assert_eq!(launches(Kernel::Gather) - gather, 50, "one gathered batch per step");
    // Two layers: two products forward, two weight gradients, one gradient through the ReLU.
    assert_eq!(launches(Kernel::Matmul) - matmul, 50 * 5, "our products, not autodiff's");
    assert_eq!(launches(Kernel::ColSums), col_sums, "the bias gradients come with the weights'");
    let (ta, tb) =
        (module_tensors(a.model()).await.unwrap(), module_tensors(b.model()).await.unwrap());
    for (p, q) in ta.iter().zip(&tb) {
        for (x, y) in p.data.iter().zip(&q.data) {
            assert!((x - y).abs() <= 1e-5 * y.abs().max(1.0), "{}: {x} vs {y}", p.name);
        }
    }

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
    assert!((eval.loss - loss).abs() <= 1e-5 * loss.max(1.0), "{} vs {loss}", eval.loss);
    let top = logits.argmax(1).into_data_async().await.unwrap().try_into_vec_as::<i64>().unwrap();
    let top: Vec<u8> = top.into_iter().map(|p| p as u8).collect();
    assert_eq!(eval.predictions, top);
}

/// The dense stack's kernels give autodiff's gradients for every parameter of a factorized MLP
/// (layers without bias, without ReLU between a pair, widths and a batch that are not multiples
/// of the kernels' 8×8 blocks), and add the batch's loss and correct count as burn computes them.
#[wasm_bindgen_test]
async fn webgpu_dense_kernels_give_autodiffs_gradients() {
    use burn::module::Module;
    use burn::nn::loss::CrossEntropyLossConfig;
    use burn::nn::{Linear, LinearConfig};
    use burn::optim::GradientsParams;
    use burn::tensor::Int;
    use mnist_lab::lab::classifier::mlp::Classifier;
    use mnist_lab::lab::compress::factorized::{FactorizedLayer, FactorizedMlp};
    use mnist_lab::lab::core::kernels::{Kernel, fused_dense_grads, launches};

    let device = webgpu_device().await.expect("WebGPU initialises").autodiff();
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
    let mut ours = fused_dense_grads(&layers, &x.clone().inner(), &y, &acc).expect("on WebGPU");
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
        let (g, w): (Vec<f32>, Vec<f32>) = (floats(g).await, floats(w).await);
        assert_eq!(g.len(), w.len());
        assert!(w.iter().any(|v| *v != 0.0), "a gradient that tests nothing");
        for (a, b) in g.iter().zip(&w) {
            assert!((a - b).abs() <= 1e-6 * b.abs().max(1.0), "gradient {a} vs {b}");
        }
    }
    let sums = acc.into_data_async().await.unwrap().try_into_vec_as::<f32>().unwrap();
    let loss = floats(loss.inner()).await[0] * rows as f32;
    assert!((sums[0] - loss).abs() <= 1e-5 * loss.abs().max(1.0), "{sums:?} vs {loss}");
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

/// A dense layer and LeakyReLU as our autodiff operations give burn's `Linear` and `LeakyRelu`
/// values and gradients, for the weights, the bias and an input that itself comes from a tracked
/// layer (as D's input does in the G step); frozen weights get no gradient, and the plain forward pass
/// (no autodiff) is the same too. Sizes cross the kernels' 8×8 blocks.
#[wasm_bindgen_test]
async fn webgpu_linear_kernel_is_burns_linear_under_autodiff() {
    use burn::module::Module;
    use burn::nn::{LeakyReluConfig, LinearConfig};
    use burn::tensor::activation::sigmoid;
    use mnist_lab::lab::core::kernels::{Kernel, launches, layer_kernels, leaky_relu, linear};

    let device = webgpu_device().await.expect("WebGPU initialises").autodiff();
    device.seed(4);
    let (first, second) =
        (LinearConfig::new(19, 11).init(&device), LinearConfig::new(11, 3).init(&device));
    let act = LeakyReluConfig::new().with_negative_slope(0.2).init();
    let x = Tensor::<2>::from_data(
        TensorData::new(
            (0..13 * 19).map(|i| (i as f32 * 0.29).cos()).collect::<Vec<_>>(),
            [13, 19],
        ),
        &device,
    )
    .require_grad();
    let run = |off: bool| {
        layer_kernels(off, || {
            let y = linear(&second, leaky_relu(&act, linear(&first, x.clone())));
            let loss = sigmoid(y.clone()).powi_scalar(2).sum();
            let grads = loss.backward();
            let g = |t: Tensor<2>| t.grad(&grads).unwrap().flatten::<1>(0, 1);
            let bias = |l: &burn::nn::Linear| l.bias.as_ref().unwrap().val().grad(&grads).unwrap();
            (
                y.inner().flatten::<1>(0, 1),
                vec![
                    g(x.clone()),
                    g(first.weight.val()),
                    bias(&first),
                    g(second.weight.val()),
                    bias(&second),
                ],
            )
        })
    };
    let (before, leaky) = (launches(Kernel::Matmul), launches(Kernel::Leaky));
    let col_sums = launches(Kernel::ColSums);
    let (y, grads) = run(false);
    // Forward two products; backward dW (with db) for both, dx for the second layer and for x.
    assert_eq!(launches(Kernel::Matmul) - before, 2 + 4);
    assert_eq!(launches(Kernel::ColSums), col_sums, "the bias gradients come with the weights'");
    assert_eq!(launches(Kernel::Leaky) - leaky, 2, "LeakyReLU forward and backward");
    let mid = (launches(Kernel::Matmul), launches(Kernel::Leaky));
    let (want_y, want) = run(true);
    assert_eq!((launches(Kernel::Matmul), launches(Kernel::Leaky)), mid, "off: burn's operations");
    let close = |a: Vec<f32>, b: Vec<f32>, what: &str| {
        assert_eq!(a.len(), b.len());
        assert!(b.iter().any(|v| *v != 0.0), "{what}: nothing to compare");
        for (p, q) in a.iter().zip(&b) {
            assert!((p - q).abs() <= 1e-6 * q.abs().max(1.0), "{what}: {p} vs {q}");
        }
    };
    close(floats(y).await, floats(want_y).await, "output");
    for (i, (g, w)) in grads.into_iter().zip(want).enumerate() {
        close(floats(g).await, floats(w).await, &format!("gradient {i}"));
    }

    // A frozen layer (as D in the G step): the input's gradient only.
    let frozen = second.clone().no_grad();
    let h = x.clone().slice([0..13, 0..11]);
    let before = launches(Kernel::Matmul);
    let col_sums = launches(Kernel::ColSums);
    let grads = linear(&frozen, h.clone()).sum().backward();
    assert_eq!(launches(Kernel::Matmul) - before, 2, "forward and dx only");
    assert_eq!(launches(Kernel::ColSums), col_sums, "no bias gradient");
    let dx = floats(x.grad(&grads).unwrap().flatten::<1>(0, 1)).await;
    let row_sums = floats(second.weight.val().inner().sum_dim(1).flatten::<1>(0, 1)).await;
    for r in 0..13 {
        for c in 0..19 {
            let want = if c < 11 { row_sums[c] } else { 0.0 };
            assert!((dx[r * 19 + c] - want).abs() <= 1e-6, "dx[{r},{c}]");
        }
    }

    // Half frozen: a trainable bias alone gets its own column sums; a trainable weight alone gets
    // its product without them (each on a fresh slice of x: a backward pass consumes its graph).
    let mut bias_only = second.clone();
    bias_only.weight = bias_only.weight.set_require_grad(false);
    let (before, col_sums) = (launches(Kernel::Matmul), launches(Kernel::ColSums));
    let grads = linear(&bias_only, x.clone().slice([0..13, 0..11])).sum().backward();
    assert_eq!(launches(Kernel::Matmul) - before, 2, "forward and dx");
    assert_eq!(launches(Kernel::ColSums) - col_sums, 1, "the bias's gradient on its own");
    assert!(bias_only.weight.val().grad(&grads).is_none());
    let db = floats(bias_only.bias.as_ref().unwrap().val().grad(&grads).unwrap()).await;
    assert_eq!(db, vec![13.0; 3], "each output summed over the 13 rows");
    let mut weight_only = second.clone();
    weight_only.bias = weight_only.bias.map(|b| b.set_require_grad(false));
    let (before, col_sums) = (launches(Kernel::Matmul), launches(Kernel::ColSums));
    let grads = linear(&weight_only, x.clone().slice([0..13, 0..11])).sum().backward();
    assert_eq!(launches(Kernel::Matmul) - before, 3, "forward, dx and dW");
    assert_eq!(launches(Kernel::ColSums), col_sums);
    assert!(weight_only.bias.as_ref().unwrap().val().grad(&grads).is_none());
    let dw = floats(weight_only.weight.val().grad(&grads).unwrap().flatten::<1>(0, 1)).await;
    let h_sums = floats(h.inner().sum_dim(0).flatten::<1>(0, 1)).await;
    for i in 0..11 {
        for o in 0..3 {
            let (got, want) = (dw[i * 3 + o], h_sums[i]);
            assert!(
                (got - want).abs() <= 1e-5 * want.abs().max(1.0),
                "dW[{i},{o}] {got} vs {want}"
            );
        }
    }

    // No autodiff: the plain backend's forward pass.
    let plain = first.valid();
    let xi = x.clone().inner();
    let before = launches(Kernel::Matmul);
    let ours = floats(linear(&plain, xi.clone())).await;
    assert_eq!(launches(Kernel::Matmul) - before, 1, "the plain forward pass is ours too");
    let burns = floats(plain.forward(xi)).await;
    close(ours, burns, "plain forward");
}

/// The fused GAN loss kernel's gradient is burn's autodiff gradient of the stable BCE, and what
/// it adds is the mean loss (into the slot asked) and D's summed outputs on real and fake rows.
#[wasm_bindgen_test]
async fn webgpu_fused_gan_loss_matches_burns() {
    use burn::tensor::activation::sigmoid;
    use mnist_lab::lab::core::kernels::{Kernel, fused_bce, launches};
    use mnist_lab::lab::gan::loss::bce_with_logits;

    let device = webgpu_device().await.expect("WebGPU initialises");
    let rows = 150;
    let col = |f: &dyn Fn(usize) -> f32| {
        let v: Vec<f32> = (0..rows).map(f).collect();
        Tensor::<2>::from_data(TensorData::new(v, [rows, 1]), &device)
    };
    // Never exactly 0, where burn's subgradient of |x| and max(x, 0) (both 0) differs from σ(0).
    let logits = col(&|i| ((i * 37) % 101) as f32 / 8.0 - 6.05);
    let real = col(&|i| (i % 3 == 0) as u8 as f32);
    let targets = col(&|i| if i % 3 == 0 { 0.9 } else { 0.1 });
    let acc = Tensor::<1>::zeros([4], &device);
    let before = launches(Kernel::Bce);
    let grad = fused_bce(&logits, &targets, Some(&real), &acc, 0).expect("applies on WebGPU");
    fused_bce(&logits, &targets, None, &acc, 1).expect("G's slot");
    assert_eq!(launches(Kernel::Bce) - before, 2);

    let tracked = Tensor::<2>::from_inner(logits.clone()).require_grad();
    let loss = bce_with_logits(tracked.clone(), targets.clone().autodiff());
    let want = tracked.grad(&loss.backward()).unwrap();
    let (gv, wv) = (floats(grad).await, floats(want).await);
    for (g, w) in gv.iter().zip(&wv) {
        assert!((g - w).abs() <= 1e-6, "gradient {g} vs {w}");
    }
    let loss = loss.inner().into_data_async().await.unwrap().try_into_vec_as::<f32>().unwrap()[0];
    let p = floats(sigmoid(logits)).await;
    let is_real = floats(real).await;
    let d_real: f32 = p.iter().zip(&is_real).map(|(p, r)| p * r).sum();
    let d_fake: f32 = p.iter().zip(&is_real).map(|(p, r)| p * (1.0 - r)).sum();
    let sums = acc.into_data_async().await.unwrap().try_into_vec_as::<f32>().unwrap();
    let close = |a: f32, b: f32| (a - b).abs() <= 1e-4 * b.abs().max(1.0);
    assert!(close(sums[0], loss) && close(sums[1], loss), "losses {sums:?} vs {loss}");
    assert!(close(sums[2], d_real) && close(sums[3], d_fake), "{sums:?} vs {d_real}, {d_fake}");
}

/// The dense GAN's step with its WebGPU kernels (real images gathered on the device, dense layers
/// as our autodiff operation, both fused losses, fused Adam) and with burn's operations only,
/// epoch by epoch from the same seeds: losses and D's outputs agree to 1e-5 for three epochs (12
/// steps), the generator's weights to 1e-5, and the kernels ran (one gather, 29 products, 17
/// LeakyReLUs and two losses per step). The kernels round as burn's
/// operations do (on SwiftShader the weights come out identical): a GAN amplifies a last-bit
/// difference in a gradient or an update, to 4e-4 in the losses after 8 steps when the fused
/// Adam folded its step size differently.
#[wasm_bindgen_test]
async fn webgpu_gan_kernels_train_like_burns_operations() {
    use mnist_lab::lab::core::kernels::{Kernel, launches};
    use mnist_lab::lab::core::params::module_tensors;
    use mnist_lab::lab::gan::config::GanConfig;
    use mnist_lab::lab::gan::models::GanArch;
    use mnist_lab::lab::gan::trainer::GanTrainer;

    let device = webgpu_device().await.expect("WebGPU initialises").autodiff();
    let data = toy(64);
    let config = GanConfig {
        arch: GanArch::Dense,
        epochs: 3,
        batch_size: 16,
        lr_g: 1e-3,
        lr_d: 1e-3,
        soft_labels: true,
        noise: 0.1,
        seed: 9,
        ..GanConfig::default()
    };
    let (bce, gather) = (launches(Kernel::Bce), launches(Kernel::Gather));
    let (matmul, leaky) = (launches(Kernel::Matmul), launches(Kernel::Leaky));
    // One run after the other: each trainer seeds the device's generator when it starts and at
    // each epoch's start, so both draw the same dropout masks and noise.
    let mut a = GanTrainer::new(config.clone(), data.len(), &device).unwrap();
    let mut ra = Vec::new();
    for _ in 0..3 {
        ra.push(a.train_chunk(&data, 100).await.unwrap());
    }
    let mut b = GanTrainer::new(config, data.len(), &device).unwrap().without_kernels();
    for ra in ra {
        same_gan_chunk(&ra, &b.train_chunk(&data, 100).await.unwrap(), 1e-5);
    }
    assert_eq!(launches(Kernel::Bce) - bce, 24, "two fused losses per step");
    assert_eq!(launches(Kernel::Gather) - gather, 12, "one gathered batch per step");
    // Dense layers as our autodiff operation (none in the run without kernels). D step: G's 4
    // forward products, D's 3 forward, 3 weight gradients and 2 input gradients (the images need
    // none). G step: G's 4 and D's 3 forward, 3 input gradients through frozen D (no weight
    // gradients), G's 4 weight gradients and 3 input gradients (z needs none).
    assert_eq!(launches(Kernel::Matmul) - matmul, 12 * (12 + 17), "our dense layers");
    // LeakyReLU: forward after G's 3 hidden layers and D's 2, in both steps; backward through
    // D's 2 in the D step, and D's 2 and G's 3 in the G step.
    assert_eq!(launches(Kernel::Leaky) - leaky, 12 * (10 + 7), "our LeakyReLUs");
    let (ta, tb) = (
        module_tensors(a.generator()).await.unwrap(),
        module_tensors(b.generator()).await.unwrap(),
    );
    for (p, q) in ta.iter().zip(&tb) {
        for (x, y) in p.data.iter().zip(&q.data) {
            assert!((x - y).abs() <= 1e-5 * y.abs().max(1.0), "{}: {x} vs {y}", p.name);
        }
    }
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

    fn record(
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
        }
    }

    fn train(epochs: usize, subset: Option<usize>) -> RunSpec {
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
