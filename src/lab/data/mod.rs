//! Data sets: MNIST digits and Fashion-MNIST clothing, as checked image/label pairs.

pub mod batches;
pub mod draw;
pub mod idx;
pub mod my_digits;

pub use idx::{IMAGE_PIXELS, IMAGE_SIDE, IdxError, Images, NUM_CLASSES};

use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::lab::core::error::LabError;

/// Which of the two bundled data sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DatasetKind {
    /// Handwritten digits (exercise 1).
    Mnist,
    /// Zalando's clothing thumbnails (exercise 2).
    FashionMnist,
}

impl DatasetKind {
    /// Both kinds, in display order.
    pub const ALL: [DatasetKind; 2] = [DatasetKind::Mnist, DatasetKind::FashionMnist];

    /// The folder name under `static/data/` (and in the served `data/`).
    pub fn slug(self) -> &'static str {
        match self {
            DatasetKind::Mnist => "mnist",
            DatasetKind::FashionMnist => "fashion-mnist",
        }
    }

    /// A human name.
    pub fn title(self) -> &'static str {
        match self {
            DatasetKind::Mnist => "MNIST",
            DatasetKind::FashionMnist => "Fashion-MNIST",
        }
    }

    /// The names of the ten classes, so charts and confusion matrices read as words.
    pub fn class_names(self) -> [&'static str; NUM_CLASSES] {
        match self {
            DatasetKind::Mnist => ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
            DatasetKind::FashionMnist => [
                "T-shirt/top",
                "Trouser",
                "Pullover",
                "Dress",
                "Coat",
                "Sandal",
                "Shirt",
                "Sneaker",
                "Bag",
                "Ankle boot",
            ],
        }
    }

    /// Relative path of a bundled file, e.g. `data/mnist/train-images-idx3-ubyte.gz`.
    pub fn file(self, split: Split, part: Part) -> String {
        let part = match part {
            Part::Images => "images-idx3",
            Part::Labels => "labels-idx1",
        };
        format!("data/{}/{}-{}-ubyte.gz", self.slug(), split.prefix(), part)
    }
}

/// Training or test half of a data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Split {
    /// The 60 000 training items.
    Train,
    /// The 10 000 held-out test items.
    Test,
}

impl Split {
    fn prefix(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "t10k",
        }
    }
}

/// The image file or the label file of a split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// `*-images-idx3-ubyte`.
    Images,
    /// `*-labels-idx1-ubyte`.
    Labels,
}

/// Images with one label each: the unit every training loop and metric works on.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// The images.
    pub images: Images,
    /// One class index (0..10) per image.
    pub labels: Vec<u8>,
}

impl Dataset {
    /// Pairs images with labels, refusing files that disagree on the count.
    pub fn new(images: Images, labels: Vec<u8>) -> Result<Self, IdxError> {
        if images.count != labels.len() {
            return Err(IdxError::CountMismatch { images: images.count, labels: labels.len() });
        }
        Ok(Self { images, labels })
    }

    /// Parses an image file and a label file (each raw or gzip).
    pub fn from_idx(images: &[u8], labels: &[u8]) -> Result<Self, IdxError> {
        Self::new(idx::parse_images(images)?, idx::parse_labels(labels)?)
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there is nothing to train or test on.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The first `n` items (all of them if `n` is larger): quick runs and tests.
    pub fn take(&self, n: usize) -> Dataset {
        let n = n.min(self.len());
        Dataset {
            images: Images { count: n, pixels: self.images.pixels[..n * IMAGE_PIXELS].to_vec() },
            labels: self.labels[..n].to_vec(),
        }
    }

    /// A short content hash (FNV-1a, 64 bits, hex) of the labels and pixels: how a run that
    /// trained on a user's files recognises them when it is continued.
    pub fn fingerprint(&self) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for &b in self.labels.iter().chain(&self.images.pixels) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{h:016x}-{}", self.len())
    }

    /// How many items of each class: the histogram on the data panel.
    pub fn class_counts(&self) -> [usize; NUM_CLASSES] {
        class_counts(&self.labels)
    }

    /// Pixels of the items at `indices`, scaled by `scale` and shifted by `shift`
    /// (`[0,1]` for the classifier, `[-1,1]` for the GAN), as a `[n, 784]` tensor.
    pub fn images_tensor(
        &self,
        indices: &[usize],
        scale: f32,
        shift: f32,
        device: &Device,
    ) -> Tensor<2> {
        let mut values = Vec::with_capacity(indices.len() * IMAGE_PIXELS);
        for &i in indices {
            values.extend(self.images.image(i).iter().map(|&p| p as f32 * scale + shift));
        }
        Tensor::from_data(TensorData::new(values, [indices.len(), IMAGE_PIXELS]), device)
    }

    /// Labels of the items at `indices` as an Int tensor, for the cross-entropy loss.
    pub fn labels_tensor(&self, indices: &[usize], device: &Device) -> Tensor<1, Int> {
        let values: Vec<i64> = indices.iter().map(|&i| self.labels[i] as i64).collect();
        Tensor::from_data(TensorData::new(values, [indices.len()]), device)
    }
}

/// How many labels of each class (labels ≥ 10 are ignored; the reader refuses them anyway).
pub fn class_counts(labels: &[u8]) -> [usize; NUM_CLASSES] {
    let mut counts = [0; NUM_CLASSES];
    for &l in labels {
        if let Some(c) = counts.get_mut(l as usize) {
            *c += 1;
        }
    }
    counts
}

/// A data set's training and test halves.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainTest {
    /// Training items.
    pub train: Dataset,
    /// Held-out test items.
    pub test: Dataset,
}

/// Reads a bundled data set from a folder laid out like `static/` (native CLI and tests).
#[cfg(not(target_arch = "wasm32"))]
pub fn load_dir(root: &std::path::Path, kind: DatasetKind) -> Result<TrainTest, LoadError> {
    let read = |split, part| {
        let path = root.join(kind.file(split, part));
        std::fs::read(&path)
            .map_err(|e| LoadError::Io { path: path.display().to_string(), message: e.to_string() })
    };
    let split = |s| -> Result<Dataset, LoadError> {
        Dataset::from_idx(&read(s, Part::Images)?, &read(s, Part::Labels)?)
            .map_err(|e| LoadError::Idx { what: format!("{} {:?}", kind.title(), s), error: e })
    };
    Ok(TrainTest { train: split(Split::Train)?, test: split(Split::Test)? })
}

/// Why a bundled data set could not be loaded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LoadError {
    /// A file could not be read or fetched.
    #[error("could not read {path}: {message} (run `make data` to fetch the data sets)")]
    Io { path: String, message: String },
    /// A file was read but is not valid.
    #[error("{what}: {error}")]
    Idx { what: String, error: IdxError },
}

impl From<IdxError> for LabError {
    fn from(e: IdxError) -> Self {
        LabError::Data(format!("bad data file: {e}"))
    }
}

impl From<LoadError> for LabError {
    fn from(e: LoadError) -> Self {
        LabError::Data(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny(labels: &[u8]) -> Dataset {
        let images = Images {
            count: labels.len(),
            pixels: labels
                .iter()
                .flat_map(|&l| std::iter::repeat_n(l * 20, IMAGE_PIXELS))
                .collect(),
        };
        Dataset::new(images, labels.to_vec()).unwrap()
    }

    #[test]
    fn counts_and_subsets() {
        let d = tiny(&[1, 1, 3, 9]);
        assert_eq!(d.class_counts(), [0, 2, 0, 1, 0, 0, 0, 0, 0, 1]);
        assert_eq!(d.take(2).labels, vec![1, 1]);
        assert_eq!(d.take(99).len(), 4);
    }

    #[test]
    fn a_fingerprint_changes_with_any_label_or_pixel() {
        let d = tiny(&[1, 2]);
        assert_eq!(d.fingerprint(), tiny(&[1, 2]).fingerprint());
        assert_ne!(d.fingerprint(), tiny(&[2, 1]).fingerprint(), "labels");
        let mut e = d.clone();
        e.images.pixels[700] ^= 1;
        assert_ne!(d.fingerprint(), e.fingerprint(), "one pixel");
        assert!(d.fingerprint().ends_with("-2"), "{}", d.fingerprint());
    }

    #[test]
    fn disagreeing_files_are_refused() {
        let d = tiny(&[1, 2]);
        let err = Dataset::new(d.images.clone(), vec![1]).unwrap_err();
        assert_eq!(err, IdxError::CountMismatch { images: 2, labels: 1 });
    }

    #[test]
    fn tensors_are_scaled() {
        let device = Device::flex();
        let d = tiny(&[0, 5]);
        let x = d.images_tensor(&[1], 1.0 / 255.0, 0.0, &device);
        assert_eq!(x.dims(), [1, 784]);
        let v = x.into_data().try_into_vec_as::<f32>().unwrap();
        assert!((v[0] - 100.0 / 255.0).abs() < 1e-6);
        let y = d.labels_tensor(&[1, 0], &device).into_data().try_into_vec_as::<i64>().unwrap();
        assert_eq!(y, vec![5, 0]);
    }

    #[test]
    fn bundled_file_names() {
        assert_eq!(
            DatasetKind::Mnist.file(Split::Test, Part::Labels),
            "data/mnist/t10k-labels-idx1-ubyte.gz"
        );
        assert_eq!(
            DatasetKind::FashionMnist.file(Split::Train, Part::Images),
            "data/fashion-mnist/train-images-idx3-ubyte.gz"
        );
    }
}
