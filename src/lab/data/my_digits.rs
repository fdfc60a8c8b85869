//! "My digits": drawings a user labels and keeps in the browser, as a small labelled set that is
//! evaluated like any data set. Stored as versioned JSON text (the browser's `localStorage`
//! holds text) with each image's 784 pixels in hex, and read back with every check a data file
//! gets, so a damaged, foreign or newer record is a typed error and never a panic.

use serde::{Deserialize, Serialize};

use crate::lab::core::hex;
use crate::lab::data::{Dataset, IMAGE_PIXELS, Images, NUM_CLASSES};

/// The format this code writes and reads.
pub const MY_DIGITS_VERSION: u32 = 1;
/// At most this many digits (about 1.6 kB each as text: well inside a browser's 5 MB).
pub const MAX_MY_DIGITS: usize = 2000;

/// Why a drawing could not be added, or a stored set could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MyDigitsError {
    /// Not the JSON this module writes.
    #[error("not a saved digit set ({0})")]
    Malformed(String),
    /// Written by a newer page.
    #[error(
        "saved in format {0} by a newer version of the page (this one reads format {MY_DIGITS_VERSION})"
    )]
    Version(u32),
    /// More digits than allowed.
    #[error("the set holds at most {MAX_MY_DIGITS} digits")]
    Full,
    /// A label that is not a class index.
    #[error("digit {index}: label {label} is not a class between 0 and 9")]
    Label { index: usize, label: u8 },
    /// An image of the wrong size or with bad values.
    #[error("digit {index}: {reason}")]
    Pixels { index: usize, reason: String },
}

#[derive(Serialize, Deserialize)]
struct Stored {
    version: u32,
    digits: Vec<StoredDigit>,
}

#[derive(Serialize, Deserialize)]
struct StoredDigit {
    label: u8,
    pixels: String,
}

/// An empty set.
pub fn empty() -> Dataset {
    Dataset { images: Images { count: 0, pixels: Vec::new() }, labels: Vec::new() }
}

/// The set with one more digit: `image` is the pad's pre-processed input (784 values in
/// [0, 1]), kept as bytes 0–255 like MNIST's own pixels.
pub fn add(set: &Dataset, image: &[f32], label: u8) -> Result<Dataset, MyDigitsError> {
    let index = set.len();
    if index >= MAX_MY_DIGITS {
        return Err(MyDigitsError::Full);
    }
    if label as usize >= NUM_CLASSES {
        return Err(MyDigitsError::Label { index, label });
    }
    if image.len() != IMAGE_PIXELS {
        let reason = format!("{} values, not {IMAGE_PIXELS}", image.len());
        return Err(MyDigitsError::Pixels { index, reason });
    }
    if let Some(v) = image.iter().find(|v| !v.is_finite()) {
        return Err(MyDigitsError::Pixels { index, reason: format!("a value of {v}") });
    }
    let mut out = set.clone();
    out.images.pixels.extend(image.iter().map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8));
    out.images.count += 1;
    out.labels.push(label);
    Ok(out)
}

/// The set without digit `index` (unchanged when there is none).
pub fn remove(set: &Dataset, index: usize) -> Dataset {
    if index >= set.len() {
        return set.clone();
    }
    let mut out = set.clone();
    out.images.pixels.drain(index * IMAGE_PIXELS..(index + 1) * IMAGE_PIXELS);
    out.images.count -= 1;
    out.labels.remove(index);
    out
}

/// The stored text of a set.
pub fn encode(set: &Dataset) -> String {
    let digits = (0..set.len())
        .map(|i| StoredDigit { label: set.labels[i], pixels: hex::encode(set.images.image(i)) })
        .collect();
    serde_json::to_string(&Stored { version: MY_DIGITS_VERSION, digits })
        .expect("a digit set serialises")
}

/// Reads a stored set back, with the checks of [`add`].
pub fn decode(text: &str) -> Result<Dataset, MyDigitsError> {
    let stored: Stored =
        serde_json::from_str(text).map_err(|e| MyDigitsError::Malformed(e.to_string()))?;
    if stored.version != MY_DIGITS_VERSION {
        return Err(MyDigitsError::Version(stored.version));
    }
    if stored.digits.len() > MAX_MY_DIGITS {
        return Err(MyDigitsError::Full);
    }
    let mut set = empty();
    for (index, d) in stored.digits.iter().enumerate() {
        if d.label as usize >= NUM_CLASSES {
            return Err(MyDigitsError::Label { index, label: d.label });
        }
        if d.pixels.len() != IMAGE_PIXELS * 2 {
            let reason = format!("{} hex digits, not {}", d.pixels.len(), IMAGE_PIXELS * 2);
            return Err(MyDigitsError::Pixels { index, reason });
        }
        let pixels = hex::decode(&d.pixels).ok_or_else(|| MyDigitsError::Pixels {
            index,
            reason: "its pixels are not hex bytes".into(),
        })?;
        set.images.pixels.extend(pixels);
        set.images.count += 1;
        set.labels.push(d.label);
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stroke(v: f32) -> Vec<f32> {
        (0..IMAGE_PIXELS).map(|i| if i % 29 == 0 { v } else { 0.0 }).collect()
    }

    #[test]
    fn digits_round_trip_through_their_stored_text() {
        let set = add(&add(&empty(), &stroke(1.0), 1).unwrap(), &stroke(0.5), 7).unwrap();
        let back = decode(&encode(&set)).unwrap();
        assert_eq!(back, set);
        assert_eq!(back.labels, vec![1, 7]);
        assert_eq!(back.images.image(1)[0], 128, "0.5 is stored as the byte 128");
        assert_eq!(remove(&back, 0).labels, vec![7]);
        assert_eq!(remove(&back, 0).images.image(0), set.images.image(1));
    }

    #[test]
    fn bad_drawings_and_damaged_records_are_typed_errors() {
        assert!(matches!(add(&empty(), &stroke(1.0), 10), Err(MyDigitsError::Label { .. })));
        assert!(matches!(add(&empty(), &[0.0; 10], 1), Err(MyDigitsError::Pixels { .. })));
        assert!(matches!(add(&empty(), &stroke(f32::NAN), 1), Err(MyDigitsError::Pixels { .. })));
        let text = encode(&add(&empty(), &stroke(1.0), 3).unwrap());
        assert!(matches!(decode("{"), Err(MyDigitsError::Malformed(_))));
        assert_eq!(
            decode(&text.replace("\"version\":1", "\"version\":9")),
            Err(MyDigitsError::Version(9))
        );
        assert!(matches!(
            decode(&text.replace("\"label\":3", "\"label\":12")),
            Err(MyDigitsError::Label { index: 0, label: 12 })
        ));
        assert!(matches!(decode(&text.replacen("ff", "zz", 1)), Err(MyDigitsError::Pixels { .. })));
        assert!(matches!(decode(&text.replacen("ff", "f", 1)), Err(MyDigitsError::Pixels { .. })));
    }

    #[test]
    fn a_full_set_takes_no_more() {
        let mut set = empty();
        set.images.count = MAX_MY_DIGITS;
        set.images.pixels = vec![0; MAX_MY_DIGITS * IMAGE_PIXELS];
        set.labels = vec![0; MAX_MY_DIGITS];
        assert_eq!(add(&set, &stroke(1.0), 1), Err(MyDigitsError::Full));
    }
}
