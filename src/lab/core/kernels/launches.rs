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
}

impl Kernel {
    /// Every kernel.
    pub const ALL: [Kernel; 4] = [Kernel::Adam, Kernel::Xent, Kernel::Bce, Kernel::Gather];
}

static LAUNCHES: [AtomicUsize; 4] =
    [AtomicUsize::new(0), AtomicUsize::new(0), AtomicUsize::new(0), AtomicUsize::new(0)];

/// How many times this process has launched `kernel`.
pub fn launches(kernel: Kernel) -> usize {
    LAUNCHES[kernel as usize].load(Ordering::Relaxed)
}

/// How many fused Adam updates this process has launched.
pub fn fused_adam_launches() -> usize {
    launches(Kernel::Adam)
}

#[cfg_attr(not(all(target_arch = "wasm32", feature = "webgpu")), allow(dead_code))]
pub(super) fn count(kernel: Kernel) {
    LAUNCHES[kernel as usize].fetch_add(1, Ordering::Relaxed);
}
