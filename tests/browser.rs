//! wasm-side tests in a real browser (headless Chromium, WebGPU via SwiftShader):
//! WebGPU initialisation, a forward pass, async readbacks, and one Adam step on each backend.
//! Run by `make test-wasm` through wasm-bindgen-test-runner and chromedriver (see webdriver.json).
#![cfg(target_arch = "wasm32")]

use burn::tensor::{Device, Tensor, TensorData};
use mnist_lab::app::backend::{is_software_name, probe_adapter, webgpu_device};
use mnist_lab::lab::data::{Dataset, IMAGE_PIXELS, Images, idx};
use mnist_lab::lab::classifier::mlp::{MLP_WIDTHS, Mlp};
use mnist_lab::lab::classifier::eval::evaluate;
use mnist_lab::lab::classifier::train::{ClassifierTrainer, LrSchedule, TrainConfig};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn toy(n: usize) -> Dataset {
    let pixels = (0..n * IMAGE_PIXELS).map(|i| ((i / IMAGE_PIXELS) * 25 + i % 7) as u8).collect();
    Dataset::new(Images { count: n, pixels }, (0..n).map(|i| (i % 10) as u8).collect()).unwrap()
}

/// One Adam step then an evaluation, every read async: the path the page uses.
async fn train_and_read(device: &Device) -> (f64, f64) {
    let ad = device.clone().autodiff();
    ad.seed(1);
    let data = toy(40);
    let cfg = TrainConfig { epochs: 1, batch_size: 20, lr: 1e-3, seed: 1, schedule: LrSchedule::Constant, weight_decay: 0.0 };
    let mut trainer = ClassifierTrainer::new(Mlp::new(&MLP_WIDTHS, &ad), cfg, data.len(), &ad).unwrap();
    let report = trainer.train_chunk(&data, 2).await.unwrap();
    assert!(report.epoch_finished);
    let eval = evaluate(trainer.model(), &data, 16, &ad).await.unwrap();
    assert_eq!(eval.confusion.total(), 40);
    (report.loss, eval.loss)
}

#[wasm_bindgen_test]
async fn webgpu_initialises_once_runs_a_forward_pass_and_reads_back() {
    let adapter = probe_adapter().await.expect("the test browser exposes a WebGPU adapter");
    assert!(!adapter.name.is_empty());
    assert_eq!(adapter.software, adapter.software || is_software_name(&adapter.name));
    let device = webgpu_device().await.expect("WebGPU initialises");
    // A second request reuses the first device instead of failing.
    let again = webgpu_device().await.expect("the shared WebGPU device");
    let x = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0], [2, 2]), &device);
    let y = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 0.0, 0.0, 1.0], [2, 2]), &again);
    let product = x.matmul(y).into_data_async().await.unwrap().try_into_vec_as::<f32>().unwrap();
    assert_eq!(product, vec![1.0, 2.0, 3.0, 4.0]);
    let logits = Mlp::new(&MLP_WIDTHS, &device).forward(Tensor::ones([3, 784], &device));
    let v = logits.into_data_async().await.unwrap().try_into_vec_as::<f32>().unwrap();
    assert_eq!(v.len(), 30);
    assert!(v.iter().all(|x| x.is_finite()));
}

#[wasm_bindgen_test]
async fn webgpu_trains_a_step_with_async_readbacks() {
    let device = webgpu_device().await.expect("WebGPU initialises");
    let (train_loss, eval_loss) = train_and_read(&device).await;
    assert!(train_loss.is_finite() && eval_loss.is_finite() && train_loss > 0.0);
}

#[wasm_bindgen_test]
async fn flex_trains_a_step_in_wasm() {
    let (train_loss, eval_loss) = train_and_read(&Device::flex()).await;
    assert!(train_loss.is_finite() && eval_loss.is_finite() && train_loss > 0.0);
}

#[wasm_bindgen_test]
fn idx_reader_refuses_garbage_in_wasm() {
    assert!(idx::parse_images(b"not an idx file").is_err());
    assert!(idx::parse_labels(&[]).is_err());
}
