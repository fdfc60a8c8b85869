//! Launch counters: a test (or the worker's status) can tell that a kernel ran rather than its
//! fallback, which gives the same numbers.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Which kernel a launch counter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    Adam,
    Xent,
    Bce,
    Gather,
    /// A dense layer's product (forward, weight gradient or gradient flowing down).
    Matmul,
    /// Column sums: a convolution's weight gradient summed over its batch chunks, or a dense
    /// layer's bias gradient where its weight is frozen (otherwise the weight gradient's product
    /// computes it).
    ColSums,
    /// LeakyReLU, forward or backward.
    Leaky,
    /// A convolution's product: forward, data gradient (`conv_kernels.rs`) or weight gradient
    /// (`conv_grads.rs`).
    Conv,
    /// A convolution's bias gradient (sums per channel).
    ChannelSums,
    /// A convolution's pass on the CPU (`conv_cpu.rs`): forward, data or weight gradient.
    CpuConv,
}

impl Kernel {
    /// Every kernel.
    pub const ALL: [Kernel; 10] = [
        Kernel::Adam,
        Kernel::Xent,
        Kernel::Bce,
        Kernel::Gather,
        Kernel::Matmul,
        Kernel::ColSums,
        Kernel::Leaky,
        Kernel::Conv,
        Kernel::ChannelSums,
        Kernel::CpuConv,
    ];
}

static LAUNCHES: [AtomicUsize; Kernel::ALL.len()] =
    [const { AtomicUsize::new(0) }; Kernel::ALL.len()];

/// How many times this process has launched `kernel`.
pub fn launches(kernel: Kernel) -> usize {
    LAUNCHES[kernel as usize].load(Ordering::Relaxed)
}

pub(super) fn count(kernel: Kernel) {
    LAUNCHES[kernel as usize].fetch_add(1, Ordering::Relaxed);
}
