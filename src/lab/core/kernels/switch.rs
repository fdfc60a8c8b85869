//! Whether the layers inside autodiff graphs ([`super::linear`], [`super::leaky_relu`],
//! [`super::conv2d`], [`super::conv_transpose2d`]) run on our kernels.
//!
//! A flag through every model's forward pass would reach sampling, summaries and the CNN's
//! layers just to serve one purpose: a trainer built `without_kernels` (the reference the kernels
//! are tested and benchmarked against) runs its steps with the layer kernels off. So the trainer
//! turns them off around its own step, for that step only, and they are on everywhere else.

use std::cell::Cell;

thread_local! {
    static OFF: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with the layer kernels off when `off` (as they were otherwise), then restores the
/// previous setting, also if `f` panics.
pub fn layer_kernels<T>(off: bool, f: impl FnOnce() -> T) -> T {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            OFF.with(|o| o.set(self.0));
        }
    }
    let _restore = Restore(OFF.with(|o| o.replace(off || o.get())));
    f()
}

/// Whether those layers may use their kernels now.
#[cfg_attr(not(cube_kernels), allow(dead_code))]
pub(super) fn layer_kernels_on() -> bool {
    !OFF.with(Cell::get)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_holds_inside_only_and_nests() {
        assert!(layer_kernels_on());
        layer_kernels(true, || {
            assert!(!layer_kernels_on());
            // An inner "on" does not override an outer "off".
            layer_kernels(false, || assert!(!layer_kernels_on()));
            assert!(!layer_kernels_on());
        });
        assert!(layer_kernels_on());
        layer_kernels(false, || assert!(layer_kernels_on()));
        let caught = std::panic::catch_unwind(|| layer_kernels(true, || panic!("inside")));
        assert!(caught.is_err());
        assert!(layer_kernels_on(), "restored after a panic");
    }
}
