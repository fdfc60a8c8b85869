//! The bundled data sets: downloaded with progress and checked, once per page or worker.

use std::rc::Rc;

use crate::app::io::fetch::fetch_bytes;
use crate::lab::core::hex;
use crate::lab::data::{
    Dataset, DatasetKind, IMAGE_PIXELS, Images, NUM_CLASSES, Part, Split, TrainTest,
};

/// Loading state of the page's copy of MNIST: its 10 000 test images (the training files load
/// only where a job needs them: in the workers, and for the smoke test).
#[derive(Debug, Clone, PartialEq)]
pub enum DataState {
    /// Downloading: fraction done in [0, 1].
    Loading(f64),
    /// Parsed and checked.
    Ready(Rc<Dataset>),
    /// Could not be loaded; the message says why.
    Failed(String),
}

/// What the data panel shows before any big download: each split's class counts and the first
/// 12 training images (`make data` writes it beside the files, ~20 kB).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct Preview {
    /// Training images per class.
    pub train_counts: [usize; NUM_CLASSES],
    /// Test images per class.
    pub test_counts: [usize; NUM_CLASSES],
    /// 12 images, 784 pixels each as hex.
    pub thumbnails: Vec<String>,
}

impl Preview {
    /// The thumbnails as a (label-less) data set, checked like any image file.
    pub fn images(&self) -> Result<Dataset, String> {
        let mut pixels = Vec::with_capacity(self.thumbnails.len() * IMAGE_PIXELS);
        for t in &self.thumbnails {
            match hex::decode(t) {
                Some(p) if p.len() == IMAGE_PIXELS => pixels.extend(p),
                _ => return Err(format!("a preview image that is not {IMAGE_PIXELS} hex bytes")),
            }
        }
        let count = self.thumbnails.len();
        Dataset::new(Images { count, pixels }, vec![0; count]).map_err(|e| e.to_string())
    }
}

/// The preview of `kind` (see [`Preview`]).
pub async fn load_preview(kind: DatasetKind) -> Result<Preview, String> {
    let url = format!("data/{}/preview.json", kind.slug());
    let bytes = fetch_bytes(&url, |_, _| {}).await?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{url} is not a data preview: {e}"))
}

/// Downloads and parses one split of a bundled set, reporting progress in [0, 1].
pub async fn load_split(
    kind: DatasetKind,
    split: Split,
    progress: impl Fn(f64) + Clone,
) -> Result<Dataset, String> {
    // Rough share of each file in the download, so the bar moves evenly.
    let mut files = Vec::new();
    for (part, start, share) in [(Part::Labels, 0.0, 0.02), (Part::Images, 0.02, 0.98)] {
        let p = progress.clone();
        let bytes = fetch_bytes(&kind.file(split, part), move |got, total| {
            if total > 0 {
                p(start + share * (got as f64 / total as f64).min(1.0));
            }
        })
        .await?;
        files.push(bytes);
        // Let the page paint the bar between files.
        gloo_timers::future::TimeoutFuture::new(0).await;
    }
    let what = match split {
        Split::Train => "training set",
        Split::Test => "test set",
    };
    let set = Dataset::from_idx(&files[1], &files[0])
        .map_err(|e| format!("{} {what}: {e}", kind.title()))?;
    progress(1.0);
    Ok(set)
}

/// Downloads and parses a bundled set (both splits), reporting progress in [0, 1].
pub async fn load_bundled(
    kind: DatasetKind,
    progress: impl Fn(f64) + Clone,
) -> Result<TrainTest, String> {
    let p = progress.clone();
    let test = load_split(kind, Split::Test, move |f| p(0.15 * f)).await?;
    let p = progress.clone();
    let train = load_split(kind, Split::Train, move |f| p(0.15 + 0.85 * f)).await?;
    Ok(TrainTest { train, test })
}
