//! A user's own labelled set as a job's training set: sent to the worker with the job (and again
//! when a run that trained on it is continued), and recorded with the run by name, size and
//! content hash, so a continued run refuses any other set.

use serde::{Deserialize, Serialize};

use crate::app::context::UserSet;
use crate::lab::core::hex;
use crate::lab::data::{Dataset, IMAGE_PIXELS, Images, NUM_CLASSES};

/// The images and labels, in a message (pixels as hex text: messages are JSON, where a byte
/// array would take up to four characters a byte).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserData {
    /// The files' names.
    pub name: String,
    /// `count × 784` pixels, two hex digits each.
    pub pixels: String,
    /// One class per image.
    pub labels: Vec<u8>,
}

/// What a run trained on when it was not MNIST's training set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataRef {
    /// The files' names.
    pub name: String,
    /// Images.
    pub count: usize,
    /// [`Dataset::fingerprint`] of the set.
    pub fingerprint: String,
}

impl UserData {
    /// The message form of the page's paired set.
    pub fn of(set: &UserSet) -> Self {
        let pixels = hex::encode(&set.data.images.pixels);
        Self { name: set.name.clone(), pixels, labels: set.data.labels.clone() }
    }

    /// The set again, checked as a data file is (sizes that agree, labels 0–9).
    pub fn dataset(&self) -> Result<Dataset, String> {
        let bad = |why: String| format!("your files {} arrived damaged: {why}", self.name);
        let digits = self.pixels.len();
        if digits != self.labels.len() * IMAGE_PIXELS * 2 {
            return Err(bad(format!("{digits} hex digits for {} images", self.labels.len())));
        }
        let pixels = hex::decode(&self.pixels)
            .ok_or_else(|| bad("a pixel that is not a hex byte".into()))?;
        if let Some((i, l)) =
            self.labels.iter().enumerate().find(|(_, l)| **l as usize >= NUM_CLASSES)
        {
            return Err(bad(format!("label {l} at position {i} is not a class between 0 and 9")));
        }
        Dataset::new(Images { count: self.labels.len(), pixels }, self.labels.clone())
            .map_err(|e| bad(e.to_string()))
    }
}

impl DataRef {
    /// The record of `set`, named `name`.
    pub fn of(name: &str, set: &Dataset) -> Self {
        Self { name: name.into(), count: set.len(), fingerprint: set.fingerprint() }
    }

    /// "your files a + b (200 images)".
    pub fn described(&self) -> String {
        format!("your files {} ({} images)", self.name, self.count)
    }
}

/// The user's set as the worker holds it: its files' names and the checked images.
pub type UserTrainSet = (String, Dataset);

/// Decodes a message's set (`None` stays `None`).
pub fn decode(user: Option<UserData>) -> Result<Option<UserTrainSet>, String> {
    user.map(|u| u.dataset().map(|d| (u.name, d))).transpose()
}

/// A run's training images: MNIST's (`data` is `None`) or the user's set it recorded, which must
/// be the one sent (`user`); the first `subset` of either when asked.
pub fn training_set(
    mnist: &Dataset,
    data: Option<&DataRef>,
    user: Option<UserTrainSet>,
    subset: Option<usize>,
) -> Result<Dataset, String> {
    let set = match (data, user) {
        (None, _) => mnist.clone(),
        (Some(r), Some((name, set))) => {
            if set.fingerprint() != r.fingerprint {
                return Err(format!(
                    "this run trained on {}, and the files loaded now are other ones ({name}, {} images): load the run's files under Data and open it again",
                    r.described(),
                    set.len()
                ));
            }
            set
        }
        (Some(r), None) => {
            return Err(format!(
                "this run trained on {}: load them under Data and open it again",
                r.described()
            ));
        }
    };
    if set.is_empty() {
        return Err("the training set is empty".into());
    }
    Ok(match subset {
        Some(n) => set.take(n),
        None => set,
    })
}
