//! The convolution kernels (`kernels/conv.rs`) against burn's Conv2d and ConvTranspose2d, one
//! operation at a time and in the CNN GAN's training step.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{LeakyReluConfig, PaddingConfig2d};
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor, TensorData};
use mnist_lab::lab::core::kernels::{
    Kernel, conv_transpose2d, conv2d, launches, layer_kernels, leaky_relu,
};

use super::{close, floats, same_gan_chunk, same_training, toy};

fn conv(cin: usize, cout: usize, k: usize, s: usize, p: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([cin, cout], [k, k])
        .with_stride([s, s])
        .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
        .init(device)
}

fn up(cin: usize, cout: usize, bias: bool, device: &Device) -> ConvTranspose2d {
    ConvTranspose2dConfig::new([cin, cout], [5, 5])
        .with_stride([2, 2])
        .with_padding([2, 2])
        .with_padding_out([1, 1])
        .with_bias(bias)
        .init(device)
}

/// A chain of the GAN's geometries (5×5 stride 2 both ways, with and without bias, an image
/// that is not square) and a 3×3 stride-1 convolution, at sizes that cross the 8×8 blocks and
/// with channel counts that take each path (fewer than 8 output channels, 8 or more, weight
/// gradients whose input channels are a multiple of 8 or not): the
/// values and every gradient of our kernels equal burn's under autodiff, at a batch of 3 (weight
/// gradients summed in chunks) and of 1 (in one pass). A frozen layer
/// computes the input's gradient only; the plain backend's forward pass is ours too; a
/// convolution the kernels do not take (kernel narrower than its stride) runs burn's.
pub async fn conv_kernels_are_burns_convolutions_under_autodiff(device: Device) {
    let device = device.autodiff();
    device.seed(5);
    let (a, b, c) =
        (conv(3, 11, 5, 2, 2, &device), up(11, 5, false, &device), up(5, 8, true, &device));
    let d = conv(8, 4, 3, 1, 1, &device);
    let act = LeakyReluConfig::new().with_negative_slope(0.2).init();
    for batch in [3, 1] {
        let n = batch * 3 * 14 * 13;
        let x = Tensor::<4>::from_data(
            TensorData::new(
                (0..n).map(|i| (i as f32 * 0.37).sin()).collect::<Vec<_>>(),
                [batch, 3, 14, 13],
            ),
            &device,
        )
        .require_grad();
        let run = |off: bool| {
            layer_kernels(off, || {
                let h = leaky_relu(&act, conv2d(&a, x.clone()));
                let y = conv2d(&d, conv_transpose2d(&c, conv_transpose2d(&b, h)));
                assert_eq!(y.dims(), [batch, 4, 28, 28]);
                let grads = sigmoid(y.clone()).powi_scalar(2).sum().backward();
                let g = |t: Tensor<4>| t.grad(&grads).unwrap().flatten::<1>(0, 3);
                let bias = |t: Tensor<1>| t.grad(&grads).unwrap();
                (
                    y.inner().flatten::<1>(0, 3),
                    vec![
                        g(x.clone()),
                        g(a.weight.val()),
                        bias(a.bias.as_ref().unwrap().val()),
                        g(b.weight.val()),
                        g(c.weight.val()),
                        bias(c.bias.as_ref().unwrap().val()),
                        g(d.weight.val()),
                        bias(d.bias.as_ref().unwrap().val()),
                    ],
                )
            })
        };
        let (conv_before, sums_before) = (launches(Kernel::Conv), launches(Kernel::ChannelSums));
        let chunk_sums = launches(Kernel::ColSums);
        let (y, grads) = run(false);
        // Forward 4; backward dx and dw for each (x asked for its gradient), db for 3.
        assert_eq!(launches(Kernel::Conv) - conv_before, 4 + 8, "batch {batch}");
        assert_eq!(launches(Kernel::ChannelSums) - sums_before, 3, "batch {batch}");
        // These weights are few for a GPU: at batch 3 each weight gradient is summed over 3
        // chunks of one image, then the chunks are added; at batch 1 there is one chunk.
        let chunked = if batch == 3 { 4 } else { 0 };
        assert_eq!(launches(Kernel::ColSums) - chunk_sums, chunked, "batch {batch}");
        let mid = launches(Kernel::Conv);
        let (want_y, want) = run(true);
        assert_eq!(launches(Kernel::Conv), mid, "off: burn's operations");
        close(&floats(y).await, &floats(want_y).await, &format!("output, batch {batch}"));
        for (i, (g, w)) in grads.into_iter().zip(want).enumerate() {
            close(&floats(g).await, &floats(w).await, &format!("gradient {i}, batch {batch}"));
        }
    }

    // A frozen convolution (as D's in the G step): the input's gradient only.
    let x = Tensor::<4>::from_data(
        TensorData::new(
            (0..2 * 3 * 9 * 9).map(|i| (i as f32 * 0.11).cos()).collect::<Vec<_>>(),
            [2, 3, 9, 9],
        ),
        &device,
    )
    .require_grad();
    let frozen = a.clone().no_grad();
    let run = |off: bool| {
        layer_kernels(off, || {
            let grads = sigmoid(conv2d(&frozen, x.clone())).sum().backward();
            x.grad(&grads).unwrap().flatten::<1>(0, 3)
        })
    };
    let (conv_before, sums_before) = (launches(Kernel::Conv), launches(Kernel::ChannelSums));
    let dx = run(false);
    assert_eq!(launches(Kernel::Conv) - conv_before, 2, "forward and dx only");
    assert_eq!(launches(Kernel::ChannelSums), sums_before, "no bias gradient");
    close(&floats(dx).await, &floats(run(true)).await, "frozen dx");

    // No autodiff: the plain backend's forward pass, both ways.
    let (plain_a, plain_b) = (a.valid(), b.valid());
    let xi = x.clone().inner();
    let before = launches(Kernel::Conv);
    let ours = conv_transpose2d(&plain_b, conv2d(&plain_a, xi.clone()));
    assert_eq!(launches(Kernel::Conv) - before, 2, "the plain forward pass is ours too");
    let burns = plain_b.forward(plain_a.forward(xi.clone()));
    close(&floats(ours).await, &floats(burns).await, "plain forward");

    // A kernel narrower than its stride: declined before any launch, burn's result.
    let narrow = conv(3, 4, 1, 2, 0, &device).valid();
    let before = launches(Kernel::Conv);
    let ours = floats(conv2d(&narrow, xi.clone())).await;
    assert_eq!(launches(Kernel::Conv), before, "declined");
    assert_eq!(ours, floats(narrow.forward(xi)).await);
}

/// The CNN GAN's step with its convolutions on our kernels and with burn's operations only, from
/// the same seeds: losses and D's outputs agree (`STEPS_RTOL`) over two epochs (4 steps), each of the
/// generator's tensors moved the same way to 2 % of how far it moved, and the kernels ran: 17
/// convolution kernels and 3 bias sums per step.
pub async fn cnn_gan_kernels_train_like_burns_operations(device: Device) {
    use mnist_lab::lab::core::params::module_tensors;
    use mnist_lab::lab::gan::config::GanConfig;
    use mnist_lab::lab::gan::models::GanArch;
    use mnist_lab::lab::gan::trainer::GanTrainer;

    let device = device.autodiff();
    let data = toy(16);
    let config = GanConfig {
        arch: GanArch::Cnn,
        epochs: 2,
        batch_size: 8,
        lr_g: 1e-3,
        lr_d: 1e-3,
        soft_labels: true,
        noise: 0.1,
        seed: 3,
        ..GanConfig::default()
    };
    let start = GanTrainer::new(config.clone(), data.len(), &device).unwrap();
    let t0 = module_tensors(start.generator()).await.unwrap();
    let (conv, sums) = (launches(Kernel::Conv), launches(Kernel::ChannelSums));
    let mut a = GanTrainer::new(config.clone(), data.len(), &device).unwrap();
    let mut ra = Vec::new();
    for _ in 0..2 {
        ra.push(a.train_chunk(&data, 100).await.unwrap());
    }
    // D step: G's 2 and D's 2 forward, D's conv2 dx and dw, conv1 dw (images need no gradient).
    // G step: G's 2 and D's 2 forward, dx through frozen D's 2, G's dx and dw for both.
    assert_eq!(launches(Kernel::Conv) - conv, 4 * (7 + 10), "our convolutions");
    // Bias gradients: D's two convolutions in the D step, G's last one in the G step.
    assert_eq!(launches(Kernel::ChannelSums) - sums, 4 * 3);
    let mid = launches(Kernel::Conv);
    let mut b = GanTrainer::new(config, data.len(), &device).unwrap().without_kernels();
    for ra in ra {
        same_gan_chunk(&ra, &b.train_chunk(&data, 100).await.unwrap());
    }
    assert_eq!(launches(Kernel::Conv), mid, "without kernels: burn's convolutions");
    let (ta, tb) = (
        module_tensors(a.generator()).await.unwrap(),
        module_tensors(b.generator()).await.unwrap(),
    );
    same_training(&t0, &ta, &tb);
}
