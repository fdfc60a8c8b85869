//! The exercise-1 classifier: a dense 784 → 100 → 50 → 10 network with biases and ReLU.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig, Relu};
use burn::tensor::{Device, Tensor};

use crate::lab::core::kernels::DenseLayer;

/// Layer widths of the exercise's network, input first.
pub const MLP_WIDTHS: [usize; 4] = [784, 100, 50, 10];

/// A stack of dense layers with ReLU between them (none after the last: it outputs logits).
#[derive(Module, Debug)]
pub struct Mlp {
    /// The dense layers, input side first. Each weight is `[inputs, outputs]`, as burn stores it.
    pub layers: Vec<Linear>,
    activation: Relu,
}

impl Mlp {
    /// A freshly initialised network with the given widths (e.g. [`MLP_WIDTHS`]).
    pub fn new(widths: &[usize], device: &Device) -> Self {
        let layers =
            widths.windows(2).map(|w| LinearConfig::new(w[0], w[1]).init(device)).collect();
        Self { layers, activation: Relu::new() }
    }

    /// Builds the network from given layers (used when loading or factorising weights).
    pub fn from_layers(layers: Vec<Linear>) -> Self {
        Self { layers, activation: Relu::new() }
    }

    /// Logits `[batch, 10]` for flattened images `[batch, 784]`.
    pub fn forward(&self, mut x: Tensor<2>) -> Tensor<2> {
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x);
            if i < last {
                x = self.activation.forward(x);
            }
        }
        x
    }

    /// The last hidden layer's activations and the logits: the features a classifier-based
    /// quality score (Fréchet distance) compares.
    pub fn forward_features(&self, mut x: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let last = self.layers.len() - 1;
        for layer in &self.layers[..last] {
            x = self.activation.forward(layer.forward(x));
        }
        (x.clone(), self.layers[last].forward(x))
    }

    /// Layer widths, input first.
    pub fn widths(&self) -> Vec<usize> {
        let mut w = vec![self.layers[0].weight.dims()[0]];
        w.extend(self.layers.iter().map(|l| l.weight.dims()[1]));
        w
    }
}

/// A model that maps flattened images `[batch, 784]` to class logits `[batch, 10]`.
pub trait Classifier: Module + Clone {
    /// Class logits (no softmax).
    fn logits(&self, x: Tensor<2>) -> Tensor<2>;

    /// The model as a stack of dense layers, each with whether a ReLU follows it, where it is
    /// one: the trainer then computes its gradients with our WebGPU kernels
    /// (`core::kernels::fused_dense_grads`) instead of burn's autodiff. `None`: autodiff only.
    fn dense_layers(&self) -> Option<Vec<DenseLayer<'_>>> {
        None
    }
}

impl Classifier for Mlp {
    fn logits(&self, x: Tensor<2>) -> Tensor<2> {
        self.forward(x)
    }

    fn dense_layers(&self) -> Option<Vec<DenseLayer<'_>>> {
        let last = self.layers.len().checked_sub(1)?;
        Some(
            self.layers
                .iter()
                .enumerate()
                .map(|(i, linear)| DenseLayer { linear, relu: i < last })
                .collect(),
        )
    }
}

/// Pixels are scaled to [0, 1] (divided by 255) and not standardised: the report says so.
pub const PIXEL_SCALE: f32 = 1.0 / 255.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_parameter_count() {
        let device = Device::flex();
        let mlp = Mlp::new(&MLP_WIDTHS, &device);
        assert_eq!(mlp.num_params(), 784 * 100 + 100 + 100 * 50 + 50 + 50 * 10 + 10);
        assert_eq!(mlp.num_params(), 84_060);
        assert_eq!(mlp.widths(), MLP_WIDTHS.to_vec());
        let y = mlp.forward(Tensor::zeros([3, 784], &device));
        assert_eq!(y.dims(), [3, 10]);
    }
}
