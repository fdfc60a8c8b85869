//! The bundled data sets: downloaded with progress and checked, once per page or worker.

use std::rc::Rc;

use crate::app::io::fetch::fetch_bytes;
use crate::lab::data::{Dataset, DatasetKind, TrainTest};

/// Loading state of one bundled data set.
#[derive(Debug, Clone, PartialEq)]
pub enum DataState {
    /// Downloading: fraction done in [0, 1].
    Loading(f64),
    /// Parsed and checked.
    Ready(Rc<TrainTest>),
    /// Could not be loaded; the message says why.
    Failed(String),
}

/// Downloads and parses a bundled set, reporting progress in [0, 1].
pub async fn load_bundled(
    kind: DatasetKind,
    progress: impl Fn(f64) + Clone,
) -> Result<TrainTest, String> {
    use crate::lab::data::{Part, Split};
    // Rough share of each file in the download, so the bar moves evenly.
    let plan = [
        (Split::Test, Part::Labels, 0.00, 0.01),
        (Split::Test, Part::Images, 0.01, 0.14),
        (Split::Train, Part::Labels, 0.15, 0.01),
        (Split::Train, Part::Images, 0.16, 0.84),
    ];
    let mut files = Vec::new();
    for (split, part, start, share) in plan {
        let p = progress.clone();
        let url = kind.file(split, part);
        let bytes = fetch_bytes(&url, move |got, total| {
            if total > 0 {
                p(start + share * (got as f64 / total as f64).min(1.0));
            }
        })
        .await?;
        files.push(bytes);
        // Let the page paint the bar between files.
        gloo_timers::future::TimeoutFuture::new(0).await;
    }
    let what = |s: &str| format!("{} {s}", kind.title());
    let test = Dataset::from_idx(&files[1], &files[0])
        .map_err(|e| format!("{}: {e}", what("test set")))?;
    let train = Dataset::from_idx(&files[3], &files[2])
        .map_err(|e| format!("{}: {e}", what("training set")))?;
    progress(1.0);
    Ok(TrainTest { train, test })
}
