//! Sample grids: generated images tiled into one grayscale picture (the 8×8 canvas, the report's
//! PNGs), and PNG encoding through the `png` crate.

use crate::lab::data::{IMAGE_PIXELS, IMAGE_SIDE};
use crate::lab::error::{LabError, LabResult};

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
        return Err(LabError::InvalidConfig(format!("cannot tile {} values in {cols} columns", images.len())));
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

/// Encodes a grayscale picture as PNG.
pub fn png(image: &Gray) -> LabResult<Vec<u8>> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, image.width as u32, image.height as u32);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(|e| LabError::InvalidConfig(format!("PNG: {e}")))?;
    writer.write_image_data(&image.pixels).map_err(|e| LabError::InvalidConfig(format!("PNG: {e}")))?;
    writer.finish().map_err(|e| LabError::InvalidConfig(format!("PNG: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_images_in_place_and_encodes_a_png_that_decodes_back() {
        // Image k is uniformly -1 + k/2 (k = 0..4): black, dark grey, …, white.
        let images: Vec<f32> = (0..5).flat_map(|k| std::iter::repeat_n(-1.0 + k as f32 * 0.5, IMAGE_PIXELS)).collect();
        let g = tile(&images, 2, 1, 2).unwrap();
        let cell = 28 * 2 + 1;
        assert_eq!((g.width, g.height), (2 * cell + 1, 3 * cell + 1));
        for k in 0..5 {
            let (x, y) = ((k % 2) * cell + 1 + 10, (k / 2) * cell + 1 + 10);
            assert_eq!(g.pixels[y * g.width + x], to_byte(-1.0 + k as f32 * 0.5), "image {k}");
        }
        assert_eq!(g.pixels[0], 40, "padding");
        let bytes = png(&g).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width as usize, info.height as usize), (g.width, g.height));
        assert_eq!(&buf[..info.buffer_size()], &g.pixels[..]);
        assert!(tile(&[0.0; 10], 2, 1, 1).is_err());
    }
}
