//! The exercise's generators and discriminators, dense and convolutional.
//!
//! Generators map `z` `[B, 100]` to images `[B, 1, 28, 28]` in [-1, 1] (tanh), matching the
//! pre-processing of the real images. Discriminators map images to one logit `[B, 1]`; `forward`
//! applies the sigmoid, while the loss works on the logit for numerical stability (see
//! [`crate::lab::gan::loss`]).
//!
//! Discriminators use LeakyReLU and dropout but no batch norm: then "freezing D" for the G step
//! only means "do not step its parameters" — there are no running statistics to keep still.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Dropout, DropoutConfig, LeakyRelu, LeakyReluConfig, Linear,
    LinearConfig, PaddingConfig2d,
};
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::lab::core::kernels::{conv_transpose2d, conv2d, leaky_dropout, leaky_relu, linear};

/// Length of the latent vector z.
pub const LATENT_DIM: usize = 100;
/// Side of an image.
pub const SIDE: usize = 28;

/// Which pair of networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GanArch {
    /// Fully connected G and D.
    #[default]
    Dense,
    /// DCGAN-style: Conv2d / ConvTranspose2d, 5×5, stride 2, through 7×7×128.
    Cnn,
}

impl GanArch {
    /// The CLI and URL spelling.
    pub fn slug(self) -> &'static str {
        match self {
            GanArch::Dense => "dense",
            GanArch::Cnn => "cnn",
        }
    }

    /// Parses `dense` / `cnn`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "dense" => Some(GanArch::Dense),
            "cnn" => Some(GanArch::Cnn),
            _ => None,
        }
    }
}

/// Hidden widths of the dense generator (z → … → 784).
pub const DENSE_G_WIDTHS: [usize; 5] = [LATENT_DIM, 128, 256, 512, SIDE * SIDE];
/// Hidden widths of the dense discriminator (784 → … → 1).
pub const DENSE_D_WIDTHS: [usize; 4] = [SIDE * SIDE, 512, 256, 1];
/// LeakyReLU slope used throughout (the DCGAN paper's 0.2).
pub const LEAKY_SLOPE: f64 = 0.2;
/// Dropout in the discriminators: slows D down so G keeps getting gradient.
pub const D_DROPOUT: f64 = 0.3;

fn leaky() -> LeakyRelu {
    LeakyReluConfig::new().with_negative_slope(LEAKY_SLOPE).init()
}

/// Dense generator: Linear → BatchNorm → LeakyReLU per hidden layer, then Linear → tanh.
#[derive(Module, Debug)]
pub struct DenseGenerator {
    /// Dense layers, z side first.
    pub layers: Vec<Linear>,
    /// One batch norm per hidden layer.
    pub norms: Vec<BatchNorm>,
    act: LeakyRelu,
}

impl DenseGenerator {
    /// Freshly initialised.
    pub fn new(device: &Device) -> Self {
        let layers: Vec<Linear> =
            DENSE_G_WIDTHS.windows(2).map(|w| LinearConfig::new(w[0], w[1]).init(device)).collect();
        let norms = DENSE_G_WIDTHS[1..DENSE_G_WIDTHS.len() - 1]
            .iter()
            .map(|&n| BatchNormConfig::new(n).init(device))
            .collect();
        Self { layers, norms, act: leaky() }
    }

    /// Images `[B, 1, 28, 28]` in [-1, 1].
    pub fn forward(&self, z: Tensor<2>) -> Tensor<4> {
        let mut x = z;
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            x = linear(layer, x);
            if i < last {
                x = leaky_relu(&self.act, self.norms[i].forward(x));
            }
        }
        let b = x.dims()[0];
        x.tanh().reshape([b, 1, SIDE, SIDE])
    }
}

/// Dense discriminator: flatten, Linear → LeakyReLU → Dropout per hidden layer, Linear → 1 logit.
#[derive(Module, Debug)]
pub struct DenseDiscriminator {
    /// Dense layers, image side first.
    pub layers: Vec<Linear>,
    act: LeakyRelu,
    dropout: Dropout,
}

impl DenseDiscriminator {
    /// Freshly initialised.
    pub fn new(device: &Device) -> Self {
        let layers =
            DENSE_D_WIDTHS.windows(2).map(|w| LinearConfig::new(w[0], w[1]).init(device)).collect();
        Self { layers, act: leaky(), dropout: DropoutConfig::new(D_DROPOUT).init() }
    }

    /// One logit per image, `[B, 1]`.
    pub fn logits(&self, images: Tensor<4>) -> Tensor<2> {
        let b = images.dims()[0];
        let mut x: Tensor<2> = images.reshape([b, SIDE * SIDE]);
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            x = linear(layer, x);
            if i < last {
                x = leaky_dropout(&self.act, &self.dropout, x);
            }
        }
        x
    }
}

/// Channels after the CNN generator's dense layer (and before the CNN discriminator's flatten).
pub const CNN_CHANNELS: [usize; 3] = [1, 64, 128];
/// The 7×7 grid between the dense layer and the convolutions.
pub const CNN_GRID: usize = 7;
/// Kernel of every convolution.
pub const CNN_KERNEL: usize = 5;

/// DCGAN-style generator: dense 100 → 6272, reshape 7×7×128, BatchNorm, LeakyReLU;
/// ConvTranspose2d 5×5 stride 2 → 14×14×64, BatchNorm, LeakyReLU; ConvTranspose2d 5×5 stride 2
/// → 28×28×1, tanh.
#[derive(Module, Debug)]
pub struct CnnGenerator {
    /// z → 6272 (no bias: the batch norm after it has one).
    pub dense: Linear,
    /// Over the 128 channels of the 7×7 grid.
    pub norm0: BatchNorm,
    /// 7×7×128 → 14×14×64 (no bias, batch norm follows).
    pub up1: ConvTranspose2d,
    /// Over the 64 channels.
    pub norm1: BatchNorm,
    /// 14×14×64 → 28×28×1.
    pub up2: ConvTranspose2d,
    act: LeakyRelu,
}

/// A 5×5 stride-2 transposed convolution that doubles the side: with padding 2 and output
/// padding 1, out = (in − 1)·2 + 5 + 1 − 4 = 2·in.
fn up(cin: usize, cout: usize, bias: bool, device: &Device) -> ConvTranspose2d {
    ConvTranspose2dConfig::new([cin, cout], [CNN_KERNEL, CNN_KERNEL])
        .with_stride([2, 2])
        .with_padding([2, 2])
        .with_padding_out([1, 1])
        .with_bias(bias)
        .init(device)
}

/// A 5×5 stride-2 convolution that halves the side (padding 2, "same" in Keras terms).
fn down(cin: usize, cout: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([cin, cout], [CNN_KERNEL, CNN_KERNEL])
        .with_stride([2, 2])
        .with_padding(PaddingConfig2d::Explicit(2, 2, 2, 2))
        .init(device)
}

impl CnnGenerator {
    /// Freshly initialised.
    pub fn new(device: &Device) -> Self {
        let [_, c1, c2] = CNN_CHANNELS;
        Self {
            dense: LinearConfig::new(LATENT_DIM, c2 * CNN_GRID * CNN_GRID)
                .with_bias(false)
                .init(device),
            norm0: BatchNormConfig::new(c2).init(device),
            up1: up(c2, c1, false, device),
            norm1: BatchNormConfig::new(c1).init(device),
            up2: up(c1, 1, true, device),
            act: leaky(),
        }
    }

    /// Images `[B, 1, 28, 28]` in [-1, 1].
    pub fn forward(&self, z: Tensor<2>) -> Tensor<4> {
        let b = z.dims()[0];
        let x: Tensor<4> = linear(&self.dense, z).reshape([b, CNN_CHANNELS[2], CNN_GRID, CNN_GRID]);
        let x = leaky_relu(&self.act, self.norm0.forward(x));
        let x = leaky_relu(&self.act, self.norm1.forward(conv_transpose2d(&self.up1, x)));
        conv_transpose2d(&self.up2, x).tanh()
    }
}

/// DCGAN-style discriminator: Conv2d 5×5 stride 2 → 14×14×64, LeakyReLU, dropout; Conv2d 5×5
/// stride 2 → 7×7×128, LeakyReLU, dropout; flatten 6272 → 1 logit.
#[derive(Module, Debug)]
pub struct CnnDiscriminator {
    /// 28×28×1 → 14×14×64.
    pub conv1: Conv2d,
    /// 14×14×64 → 7×7×128.
    pub conv2: Conv2d,
    /// 6272 → 1.
    pub out: Linear,
    act: LeakyRelu,
    dropout: Dropout,
}

impl CnnDiscriminator {
    /// Freshly initialised.
    pub fn new(device: &Device) -> Self {
        let [c0, c1, c2] = CNN_CHANNELS;
        Self {
            conv1: down(c0, c1, device),
            conv2: down(c1, c2, device),
            out: LinearConfig::new(c2 * CNN_GRID * CNN_GRID, 1).init(device),
            act: leaky(),
            dropout: DropoutConfig::new(D_DROPOUT).init(),
        }
    }

    /// Feature maps after each convolution (for the shape tests) and the logit.
    pub fn trace(&self, images: Tensor<4>) -> (Tensor<4>, Tensor<4>, Tensor<2>) {
        let h1 = leaky_dropout(&self.act, &self.dropout, conv2d(&self.conv1, images));
        let h2 = leaky_dropout(&self.act, &self.dropout, conv2d(&self.conv2, h1.clone()));
        let b = h2.dims()[0];
        let logit =
            linear(&self.out, h2.clone().reshape([b, CNN_CHANNELS[2] * CNN_GRID * CNN_GRID]));
        (h1, h2, logit)
    }

    /// One logit per image, `[B, 1]`.
    pub fn logits(&self, images: Tensor<4>) -> Tensor<2> {
        self.trace(images).2
    }
}

/// A generator of either architecture (a burn module enum, so optimisers and visitors see one
/// type).
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)] // one per run, never moved in a loop; burn's derive takes no Box
pub enum Generator {
    /// [`DenseGenerator`].
    Dense(DenseGenerator),
    /// [`CnnGenerator`].
    Cnn(CnnGenerator),
}

impl Generator {
    /// A freshly initialised generator (uses the device's RNG: seed it first).
    pub fn new(arch: GanArch, device: &Device) -> Self {
        match arch {
            GanArch::Dense => Generator::Dense(DenseGenerator::new(device)),
            GanArch::Cnn => Generator::Cnn(CnnGenerator::new(device)),
        }
    }

    /// Which architecture this is.
    pub fn arch(&self) -> GanArch {
        match self {
            Generator::Dense(_) => GanArch::Dense,
            Generator::Cnn(_) => GanArch::Cnn,
        }
    }

    /// Images `[B, 1, 28, 28]` in [-1, 1] from latent vectors `[B, 100]`.
    pub fn forward(&self, z: Tensor<2>) -> Tensor<4> {
        match self {
            Generator::Dense(g) => g.forward(z),
            Generator::Cnn(g) => g.forward(z),
        }
    }
}

/// A discriminator of either architecture.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)] // one per run, never moved in a loop; burn's derive takes no Box
pub enum Discriminator {
    /// [`DenseDiscriminator`].
    Dense(DenseDiscriminator),
    /// [`CnnDiscriminator`].
    Cnn(CnnDiscriminator),
}

impl Discriminator {
    /// A freshly initialised discriminator (uses the device's RNG).
    pub fn new(arch: GanArch, device: &Device) -> Self {
        match arch {
            GanArch::Dense => Discriminator::Dense(DenseDiscriminator::new(device)),
            GanArch::Cnn => Discriminator::Cnn(CnnDiscriminator::new(device)),
        }
    }

    /// One logit per image `[B, 1]`: what the loss takes.
    pub fn logits(&self, images: Tensor<4>) -> Tensor<2> {
        match self {
            Discriminator::Dense(d) => d.logits(images),
            Discriminator::Cnn(d) => d.logits(images),
        }
    }

    /// D(x): the probability that each image is real, `[B, 1]` in (0, 1).
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        sigmoid(self.logits(images))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    fn in_range(t: Tensor<4>, lo: f32, hi: f32, closed: bool) -> bool {
        t.into_data()
            .try_into_vec_as::<f32>()
            .unwrap()
            .iter()
            .all(|&v| if closed { (lo..=hi).contains(&v) } else { v > lo && v < hi })
    }

    #[test]
    fn generators_and_discriminators_have_the_exercise_shapes() {
        let device = Device::flex();
        for arch in [GanArch::Dense, GanArch::Cnn] {
            let g = Generator::new(arch, &device).valid();
            let d = Discriminator::new(arch, &device).valid();
            let z = Tensor::random([6, LATENT_DIM], Distribution::Normal(0.0, 1.0), &device);
            let images = g.forward(z);
            assert_eq!(images.dims(), [6, 1, 28, 28], "{arch:?}");
            assert!(in_range(images.clone(), -1.0, 1.0, true), "{arch:?}: tanh output in [-1, 1]");
            let p = d.forward(images);
            assert_eq!(p.dims(), [6, 1], "{arch:?}");
            assert!(in_range(p.reshape([6, 1, 1, 1]), 0.0, 1.0, false), "{arch:?}: D(x) in (0, 1)");
        }
    }

    #[test]
    fn the_cnn_layers_go_28_14_7_and_back() {
        let device = Device::flex();
        let d = CnnDiscriminator::new(&device);
        let (h1, h2, logit) = d.trace(Tensor::zeros([2, 1, 28, 28], &device));
        assert_eq!(h1.dims(), [2, 64, 14, 14]);
        assert_eq!(h2.dims(), [2, 128, 7, 7]);
        assert_eq!(logit.dims(), [2, 1]);
        let g = CnnGenerator::new(&device);
        let x = Tensor::<4>::zeros([2, 128, 7, 7], &device);
        let up1 = g.up1.forward(x);
        assert_eq!(up1.dims(), [2, 64, 14, 14]);
        assert_eq!(g.up2.forward(up1).dims(), [2, 1, 28, 28]);
        assert_eq!(g.dense.weight.dims(), [100, 6272]);
    }
}
