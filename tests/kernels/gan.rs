//! The GAN's kernels: a dense layer and LeakyReLU as autodiff operations, the fused BCE loss,
//! and the dense GAN's whole step.

use burn::tensor::{Device, Tensor, TensorData};

use super::{close, close_to, floats, same_gan_chunk, same_training, toy};

/// A dense layer and LeakyReLU as our autodiff operations give burn's `Linear` and `LeakyRelu`
/// values and gradients, for the weights, the bias and an input that itself comes from a tracked
/// layer (as D's input does in the G step); frozen weights get no gradient, and the plain forward pass
/// (no autodiff) is the same too. Sizes cross the kernels' 8×8 blocks.
pub async fn linear_kernel_is_burns_linear_under_autodiff(device: Device) {
    use burn::module::Module;
    use burn::nn::{LeakyReluConfig, LinearConfig};
    use burn::tensor::activation::sigmoid;
    use mnist_lab::lab::core::kernels::{Kernel, launches, layer_kernels, leaky_relu, linear};

    let device = device.autodiff();
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
    close(&floats(y).await, &floats(want_y).await, "output");
    for (i, (g, w)) in grads.into_iter().zip(want).enumerate() {
        close(&floats(g).await, &floats(w).await, &format!("gradient {i}"));
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
    let want: Vec<f32> =
        (0..13 * 19).map(|i| if i % 19 < 11 { row_sums[i % 19] } else { 0.0 }).collect();
    close(&dx, &want, "dx through a frozen layer");

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
    close(&db, &[13.0; 3], "each output summed over the 13 rows");
    let mut weight_only = second.clone();
    weight_only.bias = weight_only.bias.map(|b| b.set_require_grad(false));
    let (before, col_sums) = (launches(Kernel::Matmul), launches(Kernel::ColSums));
    let grads = linear(&weight_only, x.clone().slice([0..13, 0..11])).sum().backward();
    assert_eq!(launches(Kernel::Matmul) - before, 3, "forward, dx and dW");
    assert_eq!(launches(Kernel::ColSums), col_sums);
    assert!(weight_only.bias.as_ref().unwrap().val().grad(&grads).is_none());
    let dw = floats(weight_only.weight.val().grad(&grads).unwrap().flatten::<1>(0, 1)).await;
    let h_sums = floats(h.inner().sum_dim(0).flatten::<1>(0, 1)).await;
    let want: Vec<f32> = (0..11 * 3).map(|i| h_sums[i / 3]).collect();
    close(&dw, &want, "dW: each input summed over the rows");

    // No autodiff: the plain backend's forward pass.
    let plain = first.valid();
    let xi = x.clone().inner();
    let before = launches(Kernel::Matmul);
    let ours = floats(linear(&plain, xi.clone())).await;
    assert_eq!(launches(Kernel::Matmul) - before, 1, "the plain forward pass is ours too");
    let burns = floats(plain.forward(xi)).await;
    close(&ours, &burns, "plain forward");
}

/// The fused GAN loss kernel's gradient is burn's autodiff gradient of the stable BCE, and what
/// it adds is the mean loss (into the slot asked) and D's summed outputs on real and fake rows.
pub async fn fused_gan_loss_matches_burns(device: Device) {
    use burn::tensor::activation::sigmoid;
    use mnist_lab::lab::core::kernels::{Kernel, fused_bce, launches};
    use mnist_lab::lab::gan::loss::bce_with_logits;

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
    let grad = fused_bce(&logits, &targets, Some(&real), &acc, 0).expect("applies on the GPU");
    fused_bce(&logits, &targets, None, &acc, 1).expect("G's slot");
    assert_eq!(launches(Kernel::Bce) - before, 2);

    let tracked = Tensor::<2>::from_inner(logits.clone()).require_grad();
    let loss = bce_with_logits(tracked.clone(), targets.clone().autodiff());
    let want = tracked.grad(&loss.backward()).unwrap();
    close(&floats(grad).await, &floats(want).await, "gradient");
    let loss = loss.inner().into_data_async().await.unwrap().try_into_vec_as::<f32>().unwrap()[0];
    let p = floats(sigmoid(logits)).await;
    let is_real = floats(real).await;
    let d_real: f32 = p.iter().zip(&is_real).map(|(p, r)| p * r).sum();
    let d_fake: f32 = p.iter().zip(&is_real).map(|(p, r)| p * (1.0 - r)).sum();
    let sums = acc.into_data_async().await.unwrap().try_into_vec_as::<f32>().unwrap();
    close_to(sums[0], loss, "D's loss slot");
    close_to(sums[1], loss, "G's loss slot");
    close_to(sums[2], d_real, "D(real) sum");
    close_to(sums[3], d_fake, "D(fake) sum");
}

/// The dense GAN's step with its GPU kernels (real images gathered on the device, dense layers
/// as our autodiff operation, both fused losses, fused Adam) and with burn's operations only,
/// epoch by epoch from the same seeds: losses and D's outputs agree (`STEPS_RTOL`) for three
/// epochs (12 steps), the generator's weights moved alike (`same_training`), and the kernels ran
/// (one gather, 29 products, 17 LeakyReLUs and two losses per step).
pub async fn gan_kernels_train_like_burns_operations(device: Device) {
    use mnist_lab::lab::core::kernels::{Kernel, launches};
    use mnist_lab::lab::core::params::module_tensors;
    use mnist_lab::lab::gan::config::GanConfig;
    use mnist_lab::lab::gan::models::GanArch;
    use mnist_lab::lab::gan::trainer::GanTrainer;

    let device = device.autodiff();
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
    let t0 =
        module_tensors(GanTrainer::new(config.clone(), data.len(), &device).unwrap().generator())
            .await
            .unwrap();
    let mut a = GanTrainer::new(config.clone(), data.len(), &device).unwrap();
    let mut ra = Vec::new();
    for _ in 0..3 {
        ra.push(a.train_chunk(&data, 100).await.unwrap());
    }
    let mut b = GanTrainer::new(config, data.len(), &device).unwrap().without_kernels();
    for ra in ra {
        same_gan_chunk(&ra, &b.train_chunk(&data, 100).await.unwrap());
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
    same_training(&t0, &ta, &tb);
}
