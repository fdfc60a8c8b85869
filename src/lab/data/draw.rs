//! Turning a hand drawing into an MNIST-like 28×28 image, the way MNIST itself was made:
//! crop to the ink's bounding box, scale to fit 20×20 keeping the aspect ratio (anti-aliased by
//! area averaging), then place it in 28×28 so that its centre of mass sits at the centre.

use crate::lab::data::{IMAGE_PIXELS, IMAGE_SIDE};

/// Side of the box the digit is scaled into (MNIST: 20).
pub const FIT: usize = 20;

/// Ink below this (0..1) does not count for the bounding box.
const INK_THRESHOLD: f32 = 0.05;

/// A grey-scale drawing: `width × height` ink values in [0, 1], row-major (1 = ink).
#[derive(Debug, Clone, PartialEq)]
pub struct Drawing {
    /// Pixels per row.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// Ink per pixel.
    pub ink: Vec<f32>,
}

impl Drawing {
    /// A blank canvas.
    pub fn blank(width: usize, height: usize) -> Self {
        Self { width, height, ink: vec![0.0; width * height] }
    }

    /// Reads a canvas' RGBA bytes: ink is the alpha of dark strokes on a transparent or white
    /// background (`alpha × (1 − luminance)`).
    pub fn from_rgba(width: usize, height: usize, rgba: &[u8]) -> Option<Self> {
        if rgba.len() != width * height * 4 {
            return None;
        }
        let ink = rgba
            .chunks_exact(4)
            .map(|p| {
                let lum = (0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32) / 255.0;
                (p[3] as f32 / 255.0) * (1.0 - lum)
            })
            .collect();
        Some(Self { width, height, ink })
    }

    fn at(&self, x: usize, y: usize) -> f32 {
        self.ink[y * self.width + x]
    }

    /// The inclusive bounding box `(x0, y0, x1, y1)` of the ink, or `None` for a blank drawing.
    pub fn bounding_box(&self) -> Option<(usize, usize, usize, usize)> {
        let mut b: Option<(usize, usize, usize, usize)> = None;
        for y in 0..self.height {
            for x in 0..self.width {
                if self.at(x, y) > INK_THRESHOLD {
                    b = Some(match b {
                        None => (x, y, x, y),
                        Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x), y1.max(y)),
                    });
                }
            }
        }
        b
    }
}

/// Area-averaging resample of a crop to `out_w × out_h` (anti-aliased downscaling).
fn resample(
    d: &Drawing,
    (x0, y0, w, h): (usize, usize, usize, usize),
    out_w: usize,
    out_h: usize,
) -> Vec<f32> {
    let sx = w as f32 / out_w as f32;
    let sy = h as f32 / out_h as f32;
    let mut out = vec![0.0; out_w * out_h];
    for oy in 0..out_h {
        let (fy0, fy1) = (oy as f32 * sy, (oy + 1) as f32 * sy);
        for ox in 0..out_w {
            let (fx0, fx1) = (ox as f32 * sx, (ox + 1) as f32 * sx);
            let (mut sum, mut area) = (0.0, 0.0);
            for iy in fy0.floor() as usize..(fy1.ceil() as usize).min(h) {
                let cy = (fy1.min(iy as f32 + 1.0) - fy0.max(iy as f32)).max(0.0);
                for ix in fx0.floor() as usize..(fx1.ceil() as usize).min(w) {
                    let cx = (fx1.min(ix as f32 + 1.0) - fx0.max(ix as f32)).max(0.0);
                    sum += d.at(x0 + ix, y0 + iy) * cx * cy;
                    area += cx * cy;
                }
            }
            out[oy * out_w + ox] = if area > 0.0 { sum / area } else { 0.0 };
        }
    }
    out
}

/// The 28×28 image (784 values in [0, 1], 1 = ink) a model sees, or `None` for a blank drawing.
pub fn to_mnist(d: &Drawing) -> Option<Vec<f32>> {
    let (x0, y0, x1, y1) = d.bounding_box()?;
    let (w, h) = (x1 - x0 + 1, y1 - y0 + 1);
    let scale = FIT as f32 / w.max(h) as f32;
    let out_w = ((w as f32 * scale).round() as usize).clamp(1, FIT);
    let out_h = ((h as f32 * scale).round() as usize).clamp(1, FIT);
    let small = resample(d, (x0, y0, w, h), out_w, out_h);
    let peak = small.iter().copied().fold(0.0f32, f32::max);
    let small: Vec<f32> =
        if peak > 0.0 { small.iter().map(|v| (v / peak).min(1.0)).collect() } else { small };

    // Centre of mass of the fitted digit, then shift it to the field's centre.
    let (mut mx, mut my, mut mass) = (0.0f32, 0.0f32, 0.0f32);
    for y in 0..out_h {
        for x in 0..out_w {
            let v = small[y * out_w + x];
            mx += v * (x as f32 + 0.5);
            my += v * (y as f32 + 0.5);
            mass += v;
        }
    }
    if mass <= 0.0 {
        return None;
    }
    let centre = IMAGE_SIDE as f32 / 2.0;
    let off_x = (centre - mx / mass).round() as isize;
    let off_y = (centre - my / mass).round() as isize;
    let mut image = vec![0.0f32; IMAGE_PIXELS];
    for y in 0..out_h {
        for x in 0..out_w {
            let (tx, ty) = (x as isize + off_x, y as isize + off_y);
            if (0..IMAGE_SIDE as isize).contains(&tx) && (0..IMAGE_SIDE as isize).contains(&ty) {
                image[ty as usize * IMAGE_SIDE + tx as usize] = small[y * out_w + x];
            }
        }
    }
    Some(image)
}

/// Centre of mass `(x, y)` of a 28×28 image, in pixel units from its top-left corner.
pub fn centre_of_mass(image: &[f32]) -> (f32, f32) {
    let (mut mx, mut my, mut mass) = (0.0, 0.0, 0.0);
    for (i, &v) in image.iter().enumerate() {
        mx += v * ((i % IMAGE_SIDE) as f32 + 0.5);
        my += v * ((i / IMAGE_SIDE) as f32 + 0.5);
        mass += v;
    }
    if mass == 0.0 { (0.0, 0.0) } else { (mx / mass, my / mass) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_rect(w: usize, h: usize, (x0, y0, x1, y1): (usize, usize, usize, usize)) -> Drawing {
        let mut d = Drawing::blank(w, h);
        for y in y0..=y1 {
            for x in x0..=x1 {
                d.ink[y * w + x] = 1.0;
            }
        }
        d
    }

    fn ink_extent(img: &[f32]) -> (usize, usize) {
        let d = Drawing { width: 28, height: 28, ink: img.to_vec() };
        let (x0, y0, x1, y1) = d.bounding_box().unwrap();
        (x1 - x0 + 1, y1 - y0 + 1)
    }

    #[test]
    fn blank_drawings_give_nothing() {
        assert_eq!(to_mnist(&Drawing::blank(280, 280)), None);
    }

    #[test]
    fn bounding_box_finds_the_ink() {
        assert_eq!(
            with_rect(280, 280, (10, 200, 40, 260)).bounding_box(),
            Some((10, 200, 40, 260))
        );
    }

    #[test]
    fn a_square_in_a_corner_fills_20x20_and_is_centred() {
        let img = to_mnist(&with_rect(280, 280, (0, 0, 99, 99))).unwrap();
        assert_eq!(ink_extent(&img), (20, 20));
        let (cx, cy) = centre_of_mass(&img);
        assert!(
            (cx - 14.0).abs() <= 0.5 && (cy - 14.0).abs() <= 0.5,
            "centre of mass ({cx}, {cy})"
        );
        assert!(img.iter().all(|v| (0.0..=1.0).contains(v)));
    }

    #[test]
    fn a_vertical_stroke_keeps_its_aspect_ratio() {
        // 20 wide × 200 tall: scaled by 0.1 to 2 × 20.
        let img = to_mnist(&with_rect(280, 280, (200, 40, 219, 239))).unwrap();
        assert_eq!(ink_extent(&img), (2, 20));
        let (cx, cy) = centre_of_mass(&img);
        assert!((cx - 14.0).abs() <= 0.5 && (cy - 14.0).abs() <= 0.5, "({cx}, {cy})");
    }

    #[test]
    fn downscaling_is_anti_aliased() {
        // A thin line of slope 1/3 crosses the source blocks unevenly: grey levels, not 0/1.
        let mut d = Drawing::blank(280, 280);
        for i in 0..200 {
            d.ink[(40 + i / 3) * 280 + 40 + i] = 1.0;
        }
        let img = to_mnist(&d).unwrap();
        assert!(img.iter().any(|&v| v > 0.0 && v < 1.0), "expected intermediate grey levels");
    }

    #[test]
    fn rgba_reads_dark_strokes_as_ink() {
        let rgba = [0, 0, 0, 255, 255, 255, 255, 255, 0, 0, 0, 0];
        let d = Drawing::from_rgba(3, 1, &rgba).unwrap();
        assert_eq!(d.ink, vec![1.0, 0.0, 0.0]);
        assert!(Drawing::from_rgba(2, 2, &rgba).is_none());
    }
}
