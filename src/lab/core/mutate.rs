//! A byte mutator for the fuzz tests of every decoder that takes user bytes (tests/fuzz.rs
//! natively, tests/browser.rs for the wasm-only run records): it lives in the library so both
//! test crates share one definition. Written by hand: a coverage-guided fuzzer (cargo-fuzz)
//! needs nightly and does not run in `make test`'s time budget.

use crate::lab::core::rng::SplitMix64;

/// One mutation of `base`, chosen by `rng`.
pub fn mutate(base: &[u8], rng: &mut SplitMix64) -> Vec<u8> {
    let mut b = base.to_vec();
    for _ in 0..1 + rng.below(4) {
        // Half the mutations land in the first 64 bytes, where headers and lengths are.
        let at = |rng: &mut SplitMix64, len: usize| {
            if len == 0 {
                0
            } else if rng.below(2) == 0 {
                rng.below(len.min(64))
            } else {
                rng.below(len)
            }
        };
        match rng.below(6) {
            0 if !b.is_empty() => {
                let i = at(rng, b.len());
                b[i] ^= 1 << rng.below(8);
            }
            1 if !b.is_empty() => {
                let i = at(rng, b.len());
                b[i] = rng.next_u64() as u8;
            }
            2 => {
                let n = rng.below(b.len() + 1);
                b.truncate(n);
            }
            3 => {
                let i = at(rng, b.len() + 1).min(b.len());
                for _ in 0..1 + rng.below(8) {
                    b.insert(i, rng.next_u64() as u8);
                }
            }
            4 if b.len() > 1 => {
                let i = at(rng, b.len());
                let j = (i + 1 + rng.below(16)).min(b.len());
                b.drain(i..j);
            }
            _ if b.len() >= 8 => {
                // An extreme length or count: 0, all ones, or a huge power of two.
                let i = at(rng, b.len() - 7);
                let v: u64 = [0, u64::MAX, 1 << 40, u32::MAX as u64][rng.below(4)];
                let bytes = v.to_le_bytes();
                let n = if rng.below(2) == 0 { 4 } else { 8 };
                b[i..i + n].copy_from_slice(&bytes[..n]);
            }
            _ => {}
        }
    }
    b
}
