//! The CNN GAN step's arithmetic, counted from its layers, and this machine's own ceiling for
//! it — a large f32 GEMM on the same threads — so the benchmark can say how much of the
//! machine a step uses.

use std::time::Instant;

use mnist_lab::lab::gan::models::{CNN_CHANNELS, CNN_GRID, CNN_KERNEL, LATENT_DIM, SIDE};

/// Floating-point operations (2 per multiply-add) of one CNN GAN training step at batch `b`,
/// counted per layer and pass: every tap of each 5×5 kernel counts, padded ones too, as in the
/// usual convention (and Keras's). The D step runs G forward on `b` latents and D forward and
/// backward (data and weight gradients; no data gradient for the images) on the `2b` real ‖ fake
/// images; the G step runs G forward, D forward and its data gradient (D frozen), and G's data
/// and weight gradients (none for z). Batch norm, activations and the loss are left out: a few
/// operations per value, under 1 % of the total.
pub(crate) fn cnn_step_flops(b: usize) -> f64 {
    let [c0, c1, c2] = CNN_CHANNELS.map(|c| c as f64);
    let taps = (CNN_KERNEL * CNN_KERNEL) as f64;
    let (grid, half) = ((CNN_GRID * CNN_GRID) as f64, (SIDE * SIDE / 4) as f64);
    // Multiply-adds per image of one pass of each layer (output positions × taps × channels).
    let conv1 = half * taps * c0 * c1; // D: 28×28×1 → 14×14×64
    let conv2 = grid * taps * c1 * c2; // D: 14×14×64 → 7×7×128
    let up1 = grid * taps * c2 * c1; // G: 7×7×128 → 14×14×64
    let up2 = half * taps * c1 * c0; // G: 14×14×64 → 28×28×1
    let dense_g = LATENT_DIM as f64 * c2 * grid; // G: 100 → 6272
    let dense_d = c2 * grid; // D: 6272 → 1
    let g_forward = dense_g + up1 + up2;
    let d_step = 2.0 * (2.0 * conv1 + 3.0 * conv2 + 3.0 * dense_d);
    let g_step = g_forward + 2.0 * (up1 + up2) + dense_g + 2.0 * (conv1 + conv2 + dense_d);
    2.0 * b as f64 * (g_forward + d_step + g_step)
}

/// GFLOP/s of a 1536³ f32 product by the gemm crate (the one burn's Flex and our convolutions
/// call) on rayon's threads: the median of 5 after a warm-up.
pub(crate) fn gemm_ceiling_gflops() -> f64 {
    let n = 1536;
    let a: Vec<f32> = (0..n * n).map(|i| (i % 7) as f32 * 0.1).collect();
    let mut c = vec![0.0f32; n * n];
    let mut times = Vec::new();
    for _ in 0..6 {
        let start = Instant::now();
        // SAFETY: a and c hold n·n values each, read and written row-major.
        unsafe {
            gemm::gemm(
                n,
                n,
                n,
                c.as_mut_ptr(),
                1,
                n as isize,
                false,
                a.as_ptr(),
                1,
                n as isize,
                a.as_ptr(),
                1,
                n as isize,
                0.0,
                1.0,
                false,
                false,
                false,
                gemm::Parallelism::Rayon(0),
            );
        }
        times.push(start.elapsed().as_secs_f64());
    }
    let median = crate::median(times[1..].to_vec());
    2.0 * (n * n * n) as f64 / median / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cnn_step_is_about_16_gflop_at_batch_64_and_scales_with_the_batch() {
        // conv2 alone: 49 positions × 25 taps × 64 × 128 = 10 035 200 multiply-adds per image.
        let step = cnn_step_flops(64);
        assert!((step / 1e9 - 16.06).abs() < 0.01, "{step}");
        assert_eq!(cnn_step_flops(128), 2.0 * step);
    }
}
