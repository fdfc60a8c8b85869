//! Fuzz tests for every decoder that takes a user's bytes (#17): IDX files (raw and gzip),
//! safetensors weights of the dense model and of a factorized one, checkpoints, and "my
//! digits". Each starts from a valid file and applies 1–4 random mutations (bit flips, random
//! bytes, truncation, insertion, deletion, extreme length fields — half of them in the header,
//! where the decisions are), 100 000 cases per decoder, seeded so a failure names its case.
//! The property: no panic, and a typed error or a result that is consistent with itself.
//! (Run records are wasm-only types; their fuzz test is in tests/browser.rs.)
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeMap;
use std::io::Write;

use burn::tensor::Device;
use futures_lite::future::block_on;
use mnist_lab::lab::classifier::mlp::Mlp;
use mnist_lab::lab::classifier::weights::{mlp_from_tensors, mlp_tensors};
use mnist_lab::lab::compress::factorized::MlpSpectrum;
use mnist_lab::lab::compress::weights::{factorized_from_tensors, factorized_tensors};
use mnist_lab::lab::core::checkpoint::{Checkpoint, LoopState, ModuleState};
use mnist_lab::lab::core::mutate::mutate;
use mnist_lab::lab::core::params::load_module_tensors;
use mnist_lab::lab::core::rng::SplitMix64;
use mnist_lab::lab::core::safetensors::{decode_safetensors, encode_safetensors};
use mnist_lab::lab::data::{Dataset, IMAGE_PIXELS, idx, my_digits};

const CASES: u64 = 100_000;
/// Small widths keep each case cheap; the decoders' checks do not depend on the size.
const WIDTHS: [usize; 3] = [6, 4, 3];

/// Runs `check` on `CASES` mutations of `base`; a panic names the case that caused it. `check`
/// says whether the bytes decoded; both outcomes must occur (over 0.5 % each), or the mutations are not
/// reaching past the first check (or not changing anything).
fn fuzz(name: &str, base: &[u8], check: impl Fn(&[u8]) -> bool) {
    let mut decoded = 0;
    for case in 0..CASES {
        let mut rng = SplitMix64::new(case ^ 0x5eed);
        let bytes = mutate(base, &mut rng);
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&bytes)));
        match ok {
            Ok(true) => decoded += 1,
            Ok(false) => {}
            Err(_) => panic!("{name}: case {case} panicked ({} bytes)", bytes.len()),
        }
    }
    eprintln!("{name}: {decoded} of {CASES} mutated files decoded, the rest refused");
    assert!(decoded > CASES / 200 && decoded < CASES * 99 / 100, "{name}: {decoded} decoded");
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn three_images() -> Dataset {
    let pixels = (0..3 * IMAGE_PIXELS).map(|i| (i % 251) as u8).collect();
    Dataset::new(idx::Images { count: 3, pixels }, vec![1, 7, 9]).unwrap()
}

#[test]
fn idx_files_never_panic() {
    let set = three_images();
    let (images, labels) = (idx::encode_images(&set.images), idx::encode_labels(&set.labels));
    let check = |b: &[u8]| {
        let mut any = false;
        if let Ok(i) = idx::parse_images(b) {
            assert_eq!(i.pixels.len(), i.count * IMAGE_PIXELS);
            any = true;
        }
        if let Ok(l) = idx::parse_labels(b) {
            assert!(l.iter().all(|&c| c < 10));
            any = true;
        }
        if let Ok(d) = Dataset::from_idx(b, &labels) {
            assert_eq!(d.len(), d.images.count);
        }
        any
    };
    fuzz("raw image file", &images, check);
    fuzz("raw label file", &labels, check);
    fuzz("gzip image file", &gzip(&images), check);
    fuzz("gzip label file", &gzip(&labels), check);
}

#[test]
fn weight_files_never_panic() {
    let device = Device::flex();
    let mlp = Mlp::new(&WIDTHS, &device);
    let dense = encode_safetensors(&block_on(mlp_tensors(&mlp)).unwrap(), &BTreeMap::new());
    let spectrum = block_on(MlpSpectrum::of(&mlp)).unwrap();
    let factorized = spectrum.build(&[2, 1], &device).unwrap();
    let factor_file =
        encode_safetensors(&block_on(factorized_tensors(&factorized)).unwrap(), &BTreeMap::new());
    let check = |b: &[u8]| {
        let Ok((tensors, _)) = decode_safetensors(b) else { return false };
        for t in &tensors {
            assert_eq!(t.data.len(), t.shape.iter().product::<usize>(), "{}", t.name);
        }
        let dense = mlp_from_tensors(&tensors, &WIDTHS, &device).is_ok();
        match factorized_from_tensors(&tensors, &WIDTHS, &device) {
            Ok(m) => {
                assert!(m.ranks().iter().zip([4, 3]).all(|(&k, max)| k >= 1 && k <= max));
                true
            }
            Err(_) => dense,
        }
    };
    fuzz("dense weights", &dense, check);
    fuzz("factor file", &factor_file, check);
}

#[test]
fn checkpoints_never_panic() {
    let device = Device::flex();
    let mlp = Mlp::new(&WIDTHS, &device);
    let tensors = block_on(mlp_tensors(&mlp)).unwrap();
    let ck = Checkpoint {
        loop_state: LoopState { rng: 7, epochs_done: 1, steps_done: 3, order: vec![2, 0, 1] },
        modules: vec![("model".into(), ModuleState { tensors: tensors.clone(), moments: tensors })],
    };
    let bytes = ck.to_bytes();
    assert_eq!(
        Checkpoint::from_bytes(&bytes).unwrap().loop_state,
        ck.loop_state,
        "the base file reads"
    );
    fuzz("checkpoint", &bytes, |b| {
        let Ok(ck) = Checkpoint::from_bytes(b) else { return false };
        match ck.module("model") {
            Ok(m) => load_module_tensors(&mlp, &m.tensors).is_ok(),
            Err(_) => false,
        }
    });
}

#[test]
fn stored_digit_sets_never_panic() {
    let image = vec![0.5f32; IMAGE_PIXELS];
    let set = my_digits::add(&my_digits::add(&my_digits::empty(), &image, 3).unwrap(), &image, 8)
        .unwrap();
    let text = my_digits::encode(&set);
    fuzz("my digits", text.as_bytes(), |b| {
        let Ok(d) = my_digits::decode(&String::from_utf8_lossy(b)) else { return false };
        assert_eq!(d.images.pixels.len(), d.len() * IMAGE_PIXELS);
        assert!(d.labels.iter().all(|&c| c < 10));
        true
    });
}
