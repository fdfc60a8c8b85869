//! LeakyReLU, and LeakyReLU followed by dropout, as one pass each way on the Flex CPU backend.
//!
//! burn composes LeakyReLU from three recorded operations and dropout from a Bernoulli tensor
//! drawn one value at a time from the device's generator, a product and a scaling: in the CNN
//! GAN's step on two cores the dropout masks alone took an eighth of the time and the
//! selects another tenth (`docs/bench/cpu-conv.md`). Here the forward pass writes
//! `y = x·g` with `g = (x < 0 ? slope : 1) · (kept ? 1/keep : 0)` and keeps `g`; the backward
//! pass is `dx = dy·g`. Without dropout (`keep` = 1) both equal burn's bit for bit.
//!
//! The masks come from a counter-based hash (SplitMix64's finaliser of seed + index), so any
//! thread computes any chunk and the result does not depend on the threads; the seed is drawn
//! from the device's generator, which the GAN trainer reseeds at every epoch's start, so a run
//! resumed at an epoch boundary draws the same masks.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, TensorMetadata, backend_extension};
use burn::tensor::{Distribution, Tensor};

use super::flex::{tensor, values};
use super::launches::{Kernel, count};

/// `x < 0 ? x·slope : x`, then each value kept with probability `keep` and scaled by `1/keep`
/// (`keep` = 1: no dropout). The seed for the masks is drawn from `x`'s device.
pub(super) fn leaky_dropout<const D: usize>(x: Tensor<D>, slope: f32, keep: f32) -> Tensor<D> {
    let seed = if keep < 1.0 {
        let draw: Vec<f32> = Tensor::<1>::random([2], Distribution::Default, &x.device())
            .into_data()
            .try_into_vec_as()
            .unwrap_or_default();
        draw.iter().fold(0u64, |s, v| (s << 32) | u64::from(v.to_bits()))
    } else {
        0
    };
    Tensor::from_dispatch(<Dispatch as CpuLeakyOps>::cpu_leaky(
        x.into_dispatch(),
        slope,
        keep,
        seed,
    ))
}

/// The operation, routed by burn to Flex or to its autodiff wrapper.
#[backend_extension(Flex, Autodiff)]
pub trait CpuLeakyOps: Backend {
    /// See [`leaky_dropout`].
    fn cpu_leaky(x: FloatTensor<Self>, slope: f32, keep: f32, seed: u64) -> FloatTensor<Self>;
}

/// SplitMix64's output for counter `i` of stream `seed`.
fn mix(seed: u64, i: u64) -> u64 {
    let mut z = seed.wrapping_add(i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Values per chunk of work: each chunk starts at a multiple of it, so its masks are the same
/// whichever thread computes it.
const CHUNK: usize = 1 << 14;

/// `y = x·g` and `g` (when `keep_g`) for the values of `x`.
fn forward(x: &[f32], slope: f32, keep: f32, seed: u64, keep_g: bool) -> (Vec<f32>, Vec<f32>) {
    let mut y = vec![0.0; x.len()];
    let mut g = if keep_g { vec![0.0; x.len()] } else { Vec::new() };
    // Kept when the hash's top 24 bits fall below keep·2²⁴; two masks per hash.
    let threshold = (keep as f64 * (1u64 << 24) as f64) as u32;
    let scale = 1.0 / keep;
    let run = |c: usize, y: &mut [f32], g: &mut [f32]| {
        let xs = &x[c * CHUNK..][..y.len()];
        if keep >= 1.0 {
            for (yi, &xi) in y.iter_mut().zip(xs) {
                *yi = if xi < 0.0 { xi * slope } else { xi };
            }
            for (gi, &xi) in g.iter_mut().zip(xs) {
                *gi = if xi < 0.0 { slope } else { 1.0 };
            }
            return;
        }
        // Two values per hash: CHUNK is even, so pair p of chunk c is pair c·CHUNK/2 + p.
        let first_pair = (c * CHUNK / 2) as u64;
        for (p, (ys, xs)) in y.chunks_mut(2).zip(xs.chunks(2)).enumerate() {
            let h = mix(seed, first_pair + p as u64);
            for (half, (yi, &xi)) in ys.iter_mut().zip(xs).enumerate() {
                // Selects by index, not by branch: both conditions are coin flips.
                let bits = (h >> (32 * half)) as u32 >> 8;
                let gi = [1.0, slope][usize::from(xi < 0.0)]
                    * [0.0, scale][usize::from(bits < threshold)];
                *yi = xi * gi;
                if let Some(gj) = g.get_mut(2 * p + half) {
                    *gj = gi;
                }
            }
        }
    };
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        if keep_g {
            y.par_chunks_mut(CHUNK)
                .zip(g.par_chunks_mut(CHUNK))
                .enumerate()
                .for_each(|(c, (y, g))| run(c, y, g));
        } else {
            y.par_chunks_mut(CHUNK).enumerate().for_each(|(c, y)| run(c, y, &mut []));
        }
    }
    #[cfg(target_arch = "wasm32")]
    {
        let mut g_chunks = g.chunks_mut(CHUNK);
        for (c, y) in y.chunks_mut(CHUNK).enumerate() {
            run(c, y, g_chunks.next().unwrap_or_default());
        }
    }
    (y, g)
}

fn like(t: &FlexTensor, values: Vec<f32>) -> FlexTensor {
    tensor(values, t.shape())
}

impl CpuLeakyOps for Flex {
    fn cpu_leaky(x: FlexTensor, slope: f32, keep: f32, seed: u64) -> FlexTensor {
        count(Kernel::Leaky);
        let (y, _) = forward(&values(&x), slope, keep, seed, false);
        like(&x, y)
    }
}

#[derive(Debug)]
struct LeakyBackward;

impl Backward<Flex, 1> for LeakyBackward {
    /// `g`, the gradient's factor per value.
    type State = FlexTensor;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        let Some(node) = node else { return };
        count(Kernel::Leaky);
        let g = ops.state;
        let dx: Vec<f32> = values(&dy).iter().zip(values(&g).iter()).map(|(d, g)| d * g).collect();
        grads.register::<Flex>(node.id, like(&dy, dx));
    }
}

impl<C: CheckpointStrategy> CpuLeakyOps for Autodiff<Flex, C> {
    fn cpu_leaky(x: FloatTensor<Self>, slope: f32, keep: f32, seed: u64) -> FloatTensor<Self> {
        match LeakyBackward.prepare::<C>([x.node()]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                count(Kernel::Leaky);
                let x = x.into_primitive();
                let (y, g) = forward(&values(&x), slope, keep, seed, true);
                let (y, g) = (like(&x, y), like(&x, g));
                prep.finish(g, y)
            }
            OpsKind::UnTracked(prep) => {
                let y = <Flex as CpuLeakyOps>::cpu_leaky(x.into_primitive(), slope, keep, seed);
                prep.finish(y)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_their_share_and_do_not_depend_on_the_chunking() {
        let x = vec![1.0f32; 3 * CHUNK + 17];
        let (y, g) = forward(&x, 0.2, 0.7, 42, true);
        let kept = y.iter().filter(|&&v| v != 0.0).count() as f64 / y.len() as f64;
        assert!((kept - 0.7).abs() < 0.01, "kept {kept}");
        assert!(y.iter().all(|&v| v == 0.0 || v == 1.0 / 0.7), "kept values are scaled by 1/keep");
        assert_eq!(y, g, "for x = 1, y = g");
        // The same values computed alone, as another thread would: the same masks.
        let (tail, _) = forward(&x[..CHUNK + 5], 0.2, 0.7, 42, false);
        assert_eq!(tail, y[..CHUNK + 5]);
        let (other, _) = forward(&x, 0.2, 0.7, 43, false);
        assert_ne!(other, y, "another seed, other masks");
    }

    #[test]
    fn without_dropout_it_is_leaky_relu() {
        let x = [-2.0f32, -0.0, 0.0, 3.5, -1e-30, f32::NAN];
        let (y, g) = forward(&x, 0.2, 1.0, 0, true);
        assert_eq!(y[..5], [-2.0 * 0.2, -0.0, 0.0, 3.5, -1e-30 * 0.2]);
        assert!(y[5].is_nan(), "NaN stays NaN");
        assert_eq!(g[..5], [0.2, 1.0, 1.0, 1.0, 0.2]);
    }
}
