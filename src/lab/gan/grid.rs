//! Sample grids: generated images tiled into one grayscale picture (the 8×8 canvas, the report's
//! PNGs), and a minimal PNG encoder (8-bit grayscale, zlib via flate2). The `png` crate would
//! turn on miniz_oxide's `simd` feature, which cascades through `backtrace` into a rebuild of the
//! whole burn/cubecl stack; a grayscale PNG is 40 lines on the zlib we already use.

use crate::lab::core::bundle::crc32;
use crate::lab::core::error::{LabError, LabResult};
use crate::lab::data::{IMAGE_PIXELS, IMAGE_SIDE};

/// A grayscale picture, row-major, one byte per pixel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gray {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `width × height` bytes, 0 = black.
    pub pixels: Vec<u8>,
}

/// Maps a generator value in [-1, 1] to a byte.
pub fn to_byte(v: f32) -> u8 {
    (((v + 1.0) * 127.5).round()).clamp(0.0, 255.0) as u8
}

/// Tiles `n × 784` images in [-1, 1] into `cols` columns with `pad` dark pixels between them,
/// each pixel drawn as a `scale × scale` block (nearest neighbour: crisp, not blurred).
pub fn tile(images: &[f32], cols: usize, pad: usize, scale: usize) -> LabResult<Gray> {
    let n = images.len() / IMAGE_PIXELS;
    if n == 0 || images.len() != n * IMAGE_PIXELS || cols == 0 || scale == 0 {
        return Err(LabError::InvalidConfig(format!(
            "cannot tile {} values in {cols} columns",
            images.len()
        )));
    }
    let rows = n.div_ceil(cols);
    let cell = IMAGE_SIDE * scale + pad;
    let (width, height) = (cols * cell + pad, rows * cell + pad);
    let mut pixels = vec![40u8; width * height];
    for (k, img) in images.chunks(IMAGE_PIXELS).enumerate() {
        let (x0, y0) = ((k % cols) * cell + pad, (k / cols) * cell + pad);
        for (p, &v) in img.iter().enumerate() {
            let (r, c) = (p / IMAGE_SIDE, p % IMAGE_SIDE);
            let b = to_byte(v);
            for dy in 0..scale {
                let row = (y0 + r * scale + dy) * width;
                pixels[row + x0 + c * scale..row + x0 + (c + 1) * scale].fill(b);
            }
        }
    }
    Ok(Gray { width, height, pixels })
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// Encodes a grayscale picture as PNG (8-bit, no filter, zlib-compressed).
pub fn png(image: &Gray) -> LabResult<Vec<u8>> {
    use std::io::Write;
    if image.pixels.len() != image.width * image.height || image.width == 0 || image.height == 0 {
        return Err(LabError::InvalidConfig(format!(
            "a {}×{} picture needs {} pixels, got {}",
            image.width,
            image.height,
            image.width * image.height,
            image.pixels.len()
        )));
    }
    let mut raw = Vec::with_capacity((image.width + 1) * image.height);
    for row in image.pixels.chunks(image.width) {
        raw.push(0); // filter: none
        raw.extend_from_slice(row);
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&raw)
        .and_then(|_| z.flush())
        .map_err(|e| LabError::InvalidConfig(format!("PNG: {e}")))?;
    let idat = z.finish().map_err(|e| LabError::InvalidConfig(format!("PNG: {e}")))?;
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&(image.width as u32).to_be_bytes());
    ihdr.extend_from_slice(&(image.height as u32).to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit, grayscale, deflate, no filter, no interlace
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &idat);
    chunk(&mut out, b"IEND", &[]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_images_in_place_and_encodes_a_png_that_decodes_back() {
        // Image k is uniformly -1 + k/2 (k = 0..4): black, dark grey, …, white.
        let images: Vec<f32> =
            (0..5).flat_map(|k| std::iter::repeat_n(-1.0 + k as f32 * 0.5, IMAGE_PIXELS)).collect();
        let g = tile(&images, 2, 1, 2).unwrap();
        let cell = 28 * 2 + 1;
        assert_eq!((g.width, g.height), (2 * cell + 1, 3 * cell + 1));
        for k in 0..5 {
            let (x, y) = ((k % 2) * cell + 1 + 10, (k / 2) * cell + 1 + 10);
            assert_eq!(g.pixels[y * g.width + x], to_byte(-1.0 + k as f32 * 0.5), "image {k}");
        }
        assert_eq!(g.pixels[0], 40, "padding");
        let bytes = png(&g).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926, "the standard CRC-32 check value");
        // Walk the chunks: every CRC holds, and IDAT inflates back to the filtered rows.
        let (mut at, mut idat, mut kinds) = (8, Vec::new(), Vec::new());
        while at < bytes.len() {
            let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
            let kind = &bytes[at + 4..at + 8];
            let crc = u32::from_be_bytes(bytes[at + 8 + len..at + 12 + len].try_into().unwrap());
            assert_eq!(crc, crc32(&bytes[at + 4..at + 8 + len]));
            if kind == b"IHDR" {
                assert_eq!(
                    u32::from_be_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize,
                    g.width
                );
                assert_eq!(
                    u32::from_be_bytes(bytes[at + 12..at + 16].try_into().unwrap()) as usize,
                    g.height
                );
            }
            if kind == b"IDAT" {
                idat.extend_from_slice(&bytes[at + 8..at + 8 + len]);
            }
            kinds.push(String::from_utf8_lossy(kind).to_string());
            at += 12 + len;
        }
        assert_eq!(kinds, ["IHDR", "IDAT", "IEND"]);
        let mut raw = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::ZlibDecoder::new(&idat[..]), &mut raw)
            .unwrap();
        let rows: Vec<u8> = raw
            .chunks(g.width + 1)
            .flat_map(|r| {
                assert_eq!(r[0], 0);
                r[1..].to_vec()
            })
            .collect();
        assert_eq!(rows, g.pixels);
        assert!(png(&Gray { width: 2, height: 2, pixels: vec![0; 3] }).is_err());
        assert!(tile(&[0.0; 10], 2, 1, 1).is_err());
    }
}
