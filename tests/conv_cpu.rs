//! The CPU convolutions (`kernels/conv_cpu.rs` through `conv_flex.rs`) against burn's Conv2d and
//! ConvTranspose2d on Flex: values and every gradient, and the CNN GAN's step both ways.
//!
//! One test function per process-wide launch counter reading: the counters are global, so this
//! binary holds nothing else that convolves while they are read. The same test runs in the
//! browser (`tests/browser.rs` includes this file): the page's CPU worker runs these operations
//! in wasm, single-threaded, with SIMD128.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{LeakyReluConfig, PaddingConfig2d};
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor, TensorData};
use mnist_lab::lab::core::kernels::{
    Kernel, conv_transpose2d, conv2d, launches, layer_kernels, leaky_relu,
};

/// The tolerance: the GEMMs sum over up to Ci·k·k products per value in another order than
/// burn's (and the weight gradient over the batch in tiles), so values agree to rounding, not
/// bit for bit: 1e-5 of the largest magnitude, as the WebGPU kernels' tests ask.
const TOLERANCE: f32 = 1e-5;

fn floats<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec_as::<f32>().unwrap()
}

fn close(a: Vec<f32>, b: Vec<f32>, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let scale = b.iter().fold(0f32, |m, v| m.max(v.abs()));
    assert!(scale > 0.0, "{what}: nothing to compare");
    for (i, (p, q)) in a.iter().zip(&b).enumerate() {
        assert!((p - q).abs() <= TOLERANCE * scale, "{what}[{i}]: {p} vs {q} (scale {scale})");
    }
}

fn conv(cin: usize, cout: usize, k: usize, s: usize, p: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([cin, cout], [k, k])
        .with_stride([s, s])
        .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
        .init(device)
}

fn up(
    cin: usize,
    cout: usize,
    k: usize,
    pad_out: usize,
    bias: bool,
    device: &Device,
) -> ConvTranspose2d {
    ConvTranspose2dConfig::new([cin, cout], [k, k])
        .with_stride([2, 2])
        .with_padding([k / 2, k / 2])
        .with_padding_out([pad_out, pad_out])
        .with_bias(bias)
        .init(device)
}

fn input(dims: [usize; 4], device: &Device) -> Tensor<4> {
    let n = dims.iter().product::<usize>();
    let values: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
    Tensor::from_data(TensorData::new(values, dims), device)
}

/// A chain of the GAN's geometries (5×5 stride 2 both ways, with and without bias, a non-square
/// image), a 3×3 transpose without output padding and a 3×3 stride-1 convolution; channel counts
/// that are no multiple of anything; batches of 3 and of 1; the last layer's 27×35 outputs
/// make one image a tile, so batch 3 runs three tiles. Values and every gradient equal burn's to [`TOLERANCE`];
/// a frozen layer computes only the input's gradient; the plain backend's forward pass is ours
/// too; a convolution ours does not take (dilation) runs burn's.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn cpu_convolutions_are_burns_under_autodiff() {
    let device = Device::flex().autodiff();
    device.seed(5);
    let (a, b) = (conv(3, 11, 5, 2, 2, &device), up(11, 5, 5, 1, false, &device));
    let (c, d) = (up(5, 7, 3, 0, true, &device), conv(7, 4, 3, 1, 1, &device));
    let act = LeakyReluConfig::new().with_negative_slope(0.2).init();
    for batch in [3, 1] {
        let x = input([batch, 3, 14, 17], &device).require_grad();
        let run = |off: bool| {
            layer_kernels(off, || {
                let h = leaky_relu(&act, conv2d(&a, x.clone()));
                let y = conv2d(&d, conv_transpose2d(&c, conv_transpose2d(&b, h)));
                assert_eq!(y.dims(), [batch, 4, 27, 35]);
                let grads = sigmoid(y.clone()).powi_scalar(2).sum().backward();
                let g = |t: Tensor<4>| t.grad(&grads).unwrap().flatten::<1>(0, 3);
                let bias = |t: Tensor<1>| t.grad(&grads).unwrap();
                let grads = vec![
                    g(x.clone()),
                    g(a.weight.val()),
                    bias(a.bias.as_ref().unwrap().val()),
                    g(b.weight.val()),
                    g(c.weight.val()),
                    bias(c.bias.as_ref().unwrap().val()),
                    g(d.weight.val()),
                    bias(d.bias.as_ref().unwrap().val()),
                ];
                (y.inner().flatten::<1>(0, 3), grads)
            })
        };
        let before = launches(Kernel::CpuConv);
        let (y, grads) = run(false);
        // Forward 4; backward a data and a weight gradient each (x asked for its gradient).
        assert_eq!(launches(Kernel::CpuConv) - before, 4 + 8, "batch {batch}");
        let mid = launches(Kernel::CpuConv);
        let (want_y, want) = run(true);
        assert_eq!(launches(Kernel::CpuConv), mid, "off: burn's operations");
        close(floats(y), floats(want_y), &format!("output, batch {batch}"));
        for (i, (g, w)) in grads.into_iter().zip(want).enumerate() {
            close(floats(g), floats(w), &format!("gradient {i}, batch {batch}"));
        }
    }

    // A frozen convolution (as D's in the G step): the input's gradient only.
    let frozen = conv(3, 11, 5, 2, 2, &device).no_grad();
    let x = input([2, 3, 9, 9], &device).require_grad();
    let grad_of_x = |off: bool| {
        layer_kernels(off, || {
            let grads = conv2d(&frozen, x.clone()).powi_scalar(2).sum().backward();
            assert!(frozen.weight.val().grad(&grads).is_none(), "a frozen weight has no gradient");
            x.grad(&grads).unwrap().flatten::<1>(0, 3)
        })
    };
    let before = launches(Kernel::CpuConv);
    let ours = grad_of_x(false);
    assert_eq!(launches(Kernel::CpuConv) - before, 2, "forward and the data gradient only");
    close(floats(ours), floats(grad_of_x(true)), "frozen layer's input gradient");

    // The plain backend (no autodiff): ours forward.
    let plain = Device::flex();
    let layer = conv(3, 11, 5, 2, 2, &plain);
    let x = input([2, 3, 9, 9], &plain);
    let before = launches(Kernel::CpuConv);
    let y = conv2d(&layer, x.clone());
    assert_eq!(launches(Kernel::CpuConv) - before, 1);
    close(floats(y), floats(layer.forward(x.clone())), "plain forward");

    // Dilation is burn's.
    let dilated = Conv2dConfig::new([3, 4], [3, 3]).with_dilation([2, 2]).init(&plain);
    let before = launches(Kernel::CpuConv);
    let y = conv2d(&dilated, x.clone());
    assert_eq!(launches(Kernel::CpuConv), before, "declined: no CPU kernel ran");
    close(floats(y), floats(dilated.forward(x)), "declined geometry");
}
