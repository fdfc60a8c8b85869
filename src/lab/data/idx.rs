//! The IDX file format of MNIST and Fashion-MNIST, read defensively.
//!
//! Users can upload their own files, so every header field is checked against the bytes that are
//! really there *before* anything is allocated from it, and every failure is a typed [`IdxError`]
//! whose message says what was wrong in words a student understands.

use std::borrow::Cow;
use std::io::Read;

/// The largest decompressed file accepted: 70 000 images of 28×28 with room to spare. A header
/// cannot make us allocate more than this, and a gzip bomb stops here.
pub const MAX_DECOMPRESSED_BYTES: usize = 128 * 1024 * 1024;
/// The most items one file may declare (MNIST has 60 000 in its largest file).
pub const MAX_ITEMS: usize = 1_000_000;
/// MNIST-style images are 28×28; the models here take nothing else.
pub const IMAGE_SIDE: usize = 28;
/// Pixels in one image.
pub const IMAGE_PIXELS: usize = IMAGE_SIDE * IMAGE_SIDE;
/// Both data sets have ten classes; a label outside 0..10 means a wrong or corrupt file.
pub const NUM_CLASSES: usize = 10;

/// Why an IDX file was refused. Each message is meant to be shown to a user as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdxError {
    /// Nothing to read.
    #[error("the file is empty")]
    Empty,
    /// Shorter than the header it claims to have.
    #[error(
        "the file is too short to be an IDX file ({len} bytes; the header alone needs {needed})"
    )]
    TooShort { len: usize, needed: usize },
    /// Gzip data that does not decompress.
    #[error("the file looks gzip-compressed but does not decompress: {0}")]
    Gzip(String),
    /// Decompresses to more than [`MAX_DECOMPRESSED_BYTES`].
    #[error(
        "the file decompresses to more than {max} bytes, which is too large for an MNIST-style data set"
    )]
    TooLarge { max: usize },
    /// The first two bytes of an IDX file are always zero.
    #[error("not an IDX file: it should start with two zero bytes, found {found:02x?}")]
    BadMagic { found: [u8; 2] },
    /// Only unsigned bytes (type 0x08) are used by MNIST-style sets.
    #[error("unsupported IDX element type 0x{code:02x}: only unsigned bytes (0x08) are supported")]
    UnsupportedType { code: u8 },
    /// An image file has 3 dimensions, a label file 1.
    #[error("expected {expected} file with {expected_rank} dimension(s), found {found}")]
    WrongRank { expected: &'static str, expected_rank: u8, found: u8 },
    /// Images must be 28×28.
    #[error("images are {rows}×{cols} pixels; MNIST Lab needs 28×28")]
    WrongImageSize { rows: usize, cols: usize },
    /// More items than [`MAX_ITEMS`].
    #[error("the header declares {count} items, more than the {max} accepted")]
    TooManyItems { count: usize, max: usize },
    /// The header declares zero items.
    #[error("the file holds no items")]
    NoItems,
    /// The data after the header is not as long as the header says.
    #[error(
        "the header declares {count} items ({expected} bytes of data) but the file has {found} bytes of data"
    )]
    LengthMismatch { count: usize, expected: usize, found: usize },
    /// The image and label files disagree.
    #[error("the image file has {images} images but the label file has {labels} labels")]
    CountMismatch { images: usize, labels: usize },
    /// A label that is not a class index.
    #[error("label {value} at position {index} is not a class between 0 and 9")]
    LabelOutOfRange { index: usize, value: u8 },
}

/// A set of 28×28 grey-scale images, one byte a pixel, row-major, image after image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Images {
    /// How many images `pixels` holds.
    pub count: usize,
    /// `count × 784` bytes, 0 = background, 255 = ink.
    pub pixels: Vec<u8>,
}

impl Images {
    /// The 784 pixels of image `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        &self.pixels[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS]
    }
}

/// Gzip data starts with these two bytes; anything else is read as raw IDX.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Returns the raw IDX bytes, decompressing gzip input (capped at [`MAX_DECOMPRESSED_BYTES`]).
pub fn decompress(bytes: &[u8]) -> Result<Cow<'_, [u8]>, IdxError> {
    if bytes.is_empty() {
        return Err(IdxError::Empty);
    }
    if bytes.len() < 2 || bytes[..2] != GZIP_MAGIC {
        return Ok(Cow::Borrowed(bytes));
    }
    let mut out = Vec::new();
    let limit = MAX_DECOMPRESSED_BYTES as u64 + 1;
    flate2::read::MultiGzDecoder::new(bytes)
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|e| IdxError::Gzip(e.to_string()))?;
    if out.len() > MAX_DECOMPRESSED_BYTES {
        return Err(IdxError::TooLarge { max: MAX_DECOMPRESSED_BYTES });
    }
    if out.is_empty() {
        return Err(IdxError::Empty);
    }
    Ok(Cow::Owned(out))
}

/// The checked header: element type is u8, and the dimensions.
fn header(bytes: &[u8], expected: &'static str, rank: u8) -> Result<(Vec<usize>, usize), IdxError> {
    if bytes.is_empty() {
        return Err(IdxError::Empty);
    }
    if bytes.len() < 4 {
        return Err(IdxError::TooShort { len: bytes.len(), needed: 4 });
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(IdxError::BadMagic { found: [bytes[0], bytes[1]] });
    }
    if bytes[2] != 0x08 {
        return Err(IdxError::UnsupportedType { code: bytes[2] });
    }
    if bytes[3] != rank {
        return Err(IdxError::WrongRank { expected, expected_rank: rank, found: bytes[3] });
    }
    let header_len = 4 + 4 * rank as usize;
    if bytes.len() < header_len {
        return Err(IdxError::TooShort { len: bytes.len(), needed: header_len });
    }
    let dims = (0..rank as usize)
        .map(|d| {
            let at = 4 + 4 * d;
            u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize
        })
        .collect();
    Ok((dims, header_len))
}

/// Checks the item count and that the payload is exactly `count × item_len` bytes.
fn payload(
    bytes: &[u8],
    header_len: usize,
    count: usize,
    item_len: usize,
) -> Result<&[u8], IdxError> {
    if count == 0 {
        return Err(IdxError::NoItems);
    }
    if count > MAX_ITEMS {
        return Err(IdxError::TooManyItems { count, max: MAX_ITEMS });
    }
    let expected = count * item_len; // ≤ 1e6 × 784: no overflow
    let data = &bytes[header_len..];
    if data.len() != expected {
        return Err(IdxError::LengthMismatch { count, expected, found: data.len() });
    }
    Ok(data)
}

/// Parses an image file (raw or gzip): `[count, 28, 28]` unsigned bytes.
pub fn parse_images(file: &[u8]) -> Result<Images, IdxError> {
    let bytes = decompress(file)?;
    let (dims, header_len) = header(&bytes, "an image", 3)?;
    let (count, rows, cols) = (dims[0], dims[1], dims[2]);
    if rows != IMAGE_SIDE || cols != IMAGE_SIDE {
        return Err(IdxError::WrongImageSize { rows, cols });
    }
    let data = payload(&bytes, header_len, count, IMAGE_PIXELS)?;
    Ok(Images { count, pixels: data.to_vec() })
}

/// Parses a label file (raw or gzip): `[count]` unsigned bytes, each a class in 0..10.
pub fn parse_labels(file: &[u8]) -> Result<Vec<u8>, IdxError> {
    let bytes = decompress(file)?;
    let (dims, header_len) = header(&bytes, "a label", 1)?;
    let data = payload(&bytes, header_len, dims[0], 1)?;
    if let Some((index, &value)) =
        data.iter().enumerate().find(|&(_, &v)| v as usize >= NUM_CLASSES)
    {
        return Err(IdxError::LabelOutOfRange { index, value });
    }
    Ok(data.to_vec())
}

/// Encodes images as a raw IDX file: used by tests and to export subsets.
pub fn encode_images(images: &Images) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, 3];
    for d in [images.count, IMAGE_SIDE, IMAGE_SIDE] {
        out.extend_from_slice(&(d as u32).to_be_bytes());
    }
    out.extend_from_slice(&images.pixels);
    out
}

/// Encodes labels as a raw IDX file.
pub fn encode_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, 1];
    out.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    out.extend_from_slice(labels);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn images(count: usize) -> Images {
        Images { count, pixels: (0..count * IMAGE_PIXELS).map(|i| (i % 251) as u8).collect() }
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn round_trips_raw_and_gzip() {
        let imgs = images(3);
        let raw = encode_images(&imgs);
        assert_eq!(parse_images(&raw).unwrap(), imgs);
        assert_eq!(parse_images(&gzip(&raw)).unwrap(), imgs);
        let labels = vec![5, 0, 4, 1, 9];
        assert_eq!(parse_labels(&encode_labels(&labels)).unwrap(), labels);
        assert_eq!(parse_labels(&gzip(&encode_labels(&labels))).unwrap(), labels);
        assert_eq!(imgs.image(1), &imgs.pixels[784..1568]);
    }

    #[test]
    fn every_error_kind_is_reported() {
        assert_eq!(parse_images(&[]), Err(IdxError::Empty));
        assert_eq!(parse_images(&[0, 0, 8]), Err(IdxError::TooShort { len: 3, needed: 4 }));
        assert_eq!(
            parse_images(&[0, 0, 8, 3, 0, 0]),
            Err(IdxError::TooShort { len: 6, needed: 16 })
        );
        assert_eq!(
            parse_images(b"PK\x03\x04junk"),
            Err(IdxError::BadMagic { found: [b'P', b'K'] })
        );
        assert!(matches!(parse_images(&[0x1f, 0x8b, 1, 2, 3]), Err(IdxError::Gzip(_))));
        assert_eq!(parse_images(&[0, 0, 0x0d, 3]), Err(IdxError::UnsupportedType { code: 0x0d }));
        assert!(matches!(
            parse_images(&encode_labels(&[1])),
            Err(IdxError::WrongRank { found: 1, .. })
        ));
        assert!(matches!(
            parse_labels(&encode_images(&images(1))),
            Err(IdxError::WrongRank { found: 3, .. })
        ));

        let mut wrong_size = encode_images(&images(1));
        wrong_size[8..12].copy_from_slice(&32u32.to_be_bytes());
        assert_eq!(parse_images(&wrong_size), Err(IdxError::WrongImageSize { rows: 32, cols: 28 }));

        let mut huge = encode_images(&images(1));
        huge[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(parse_images(&huge), Err(IdxError::TooManyItems { .. })));

        let mut none = encode_images(&images(1));
        none[4..8].copy_from_slice(&0u32.to_be_bytes());
        assert_eq!(parse_images(&none), Err(IdxError::NoItems));

        let mut truncated = encode_images(&images(2));
        truncated.truncate(truncated.len() - 10);
        assert_eq!(
            parse_images(&truncated),
            Err(IdxError::LengthMismatch { count: 2, expected: 1568, found: 1558 })
        );
        assert_eq!(
            parse_labels(&encode_labels(&[1, 2, 12])),
            Err(IdxError::LabelOutOfRange { index: 2, value: 12 })
        );
    }

    #[test]
    fn a_gzip_bomb_is_capped() {
        let zeros = vec![0u8; MAX_DECOMPRESSED_BYTES + 100];
        assert_eq!(
            decompress(&gzip(&zeros)),
            Err(IdxError::TooLarge { max: MAX_DECOMPRESSED_BYTES })
        );
    }

    #[test]
    fn messages_are_readable() {
        let msg = IdxError::CountMismatch { images: 3, labels: 2 }.to_string();
        assert_eq!(msg, "the image file has 3 images but the label file has 2 labels");
        assert!(IdxError::WrongImageSize { rows: 32, cols: 32 }.to_string().contains("28×28"));
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod fuzz {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]
            /// Arbitrary bytes never panic the reader.
            #[test]
            fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
                let _ = parse_images(&bytes);
                let _ = parse_labels(&bytes);
            }

            /// A valid header followed by arbitrary data never panics, and whatever parses is consistent.
            #[test]
            fn plausible_headers_never_panic(count in 0u32..4, rows in 26u32..30, extra in proptest::collection::vec(any::<u8>(), 0..4000)) {
                let mut bytes = vec![0, 0, 8, 3];
                for d in [count, rows, 28] { bytes.extend_from_slice(&d.to_be_bytes()); }
                bytes.extend_from_slice(&extra);
                if let Ok(imgs) = parse_images(&bytes) {
                    prop_assert_eq!(imgs.pixels.len(), imgs.count * IMAGE_PIXELS);
                }
            }
        }
    }
}
