//! The shipped pretrained model on digits drawn as a user would (thick strokes on a 280×280 pad),
//! after the page's MNIST-style pre-processing: most of 0–9 must be recognised.
#![cfg(not(target_arch = "wasm32"))]

use burn::tensor::{Device, Tensor, TensorData};
use mnist_lab::lab::classifier::mlp::MLP_WIDTHS;
use mnist_lab::lab::classifier::weights::mlp_from_tensors;
use mnist_lab::lab::core::safetensors::decode_safetensors;
use mnist_lab::lab::data::draw::{Drawing, to_mnist};

/// Paints a polyline with a round brush of radius 9 px (the pad's 18 px stroke).
fn stroke(d: &mut Drawing, points: &[(f32, f32)]) {
    for w in points.windows(2) {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        let steps = ((x1 - x0).hypot(y1 - y0) / 2.0).ceil().max(1.0) as usize;
        for s in 0..=steps {
            let t = s as f32 / steps as f32;
            let (cx, cy) = (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t);
            for y in (cy - 9.0).max(0.0) as usize..((cy + 9.0) as usize).min(279) {
                for x in (cx - 9.0).max(0.0) as usize..((cx + 9.0) as usize).min(279) {
                    if (x as f32 - cx).hypot(y as f32 - cy) <= 9.0 {
                        d.ink[y * 280 + x] = 1.0;
                    }
                }
            }
        }
    }
}

fn arc(cx: f32, cy: f32, rx: f32, ry: f32, from_deg: f32, to_deg: f32) -> Vec<(f32, f32)> {
    (0..=40)
        .map(|i| {
            let a = (from_deg + (to_deg - from_deg) * i as f32 / 40.0).to_radians();
            (cx + rx * a.cos(), cy + ry * a.sin())
        })
        .collect()
}

/// A pen stroke: points on the 280×280 pad.
type Stroke = Vec<(f32, f32)>;

/// Each digit as the strokes a person might draw (angles in degrees, y pointing down).
fn digits() -> Vec<(usize, Vec<Stroke>)> {
    vec![
        (0, vec![arc(140.0, 140.0, 60.0, 95.0, 0.0, 360.0)]),
        (1, vec![vec![(150.0, 45.0), (140.0, 235.0)]]),
        (
            2,
            vec![{
                let mut p = arc(140.0, 95.0, 55.0, 50.0, 200.0, 400.0);
                p.extend([(85.0, 235.0), (200.0, 235.0)]);
                p
            }],
        ),
        (
            3,
            vec![
                arc(135.0, 92.0, 55.0, 48.0, 210.0, 450.0),
                arc(135.0, 188.0, 60.0, 48.0, 270.0, 510.0),
            ],
        ),
        (
            4,
            vec![
                vec![(120.0, 45.0), (80.0, 160.0), (200.0, 160.0)],
                vec![(170.0, 90.0), (170.0, 240.0)],
            ],
        ),
        (
            5,
            vec![
                vec![(195.0, 45.0), (100.0, 45.0), (95.0, 130.0)],
                arc(135.0, 175.0, 60.0, 55.0, 220.0, 480.0),
            ],
        ),
        (
            6,
            vec![{
                let mut p = vec![(175.0, 45.0), (120.0, 110.0)];
                p.extend(arc(135.0, 185.0, 55.0, 52.0, 200.0, 560.0));
                p
            }],
        ),
        (7, vec![vec![(80.0, 50.0), (200.0, 50.0), (120.0, 235.0)]]),
        (
            8,
            vec![
                arc(140.0, 92.0, 45.0, 45.0, 0.0, 360.0),
                arc(140.0, 185.0, 55.0, 50.0, 0.0, 360.0),
            ],
        ),
        (9, vec![arc(140.0, 95.0, 50.0, 48.0, 0.0, 360.0), vec![(190.0, 95.0), (180.0, 240.0)]]),
    ]
}

#[test]
fn the_pretrained_model_recognises_most_drawn_digits() {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/static/models/mlp-784-100-50-10.safetensors"
    ))
    .unwrap();
    let (tensors, meta) = decode_safetensors(&bytes).unwrap();
    assert_eq!(meta.get("seed").map(String::as_str), Some("42"));
    let device = Device::flex();
    let model = mlp_from_tensors(&tensors, &MLP_WIDTHS, &device).unwrap();
    let mut right = Vec::new();
    let mut wrong = Vec::new();
    for (digit, strokes) in digits() {
        let mut d = Drawing::blank(280, 280);
        for s in &strokes {
            stroke(&mut d, s);
        }
        let image = to_mnist(&d).expect("ink");
        let x = Tensor::<2>::from_data(TensorData::new(image, [1, 784]), &device);
        let logits = model.forward(x).into_data().try_into_vec_as::<f32>().unwrap();
        let pred = logits.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
        if pred == digit { right.push(digit) } else { wrong.push((digit, pred)) }
    }
    println!("recognised {right:?}; missed (digit, predicted) {wrong:?}");
    assert!(
        right.len() >= 8,
        "most drawn digits should be recognised: right {right:?}, wrong {wrong:?}"
    );
}
