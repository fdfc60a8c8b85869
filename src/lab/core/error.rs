//! The engine's one error type, so the UI and the CLI can show any failure as a sentence.

/// Everything the engine can refuse or fail at. Nothing in the engine panics on user input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LabError {
    /// A hyper-parameter is out of range (NaN learning rate, zero batch size, …).
    #[error("invalid setting: {0}")]
    InvalidConfig(String),
    /// There is nothing to train or evaluate on.
    #[error("the data set is empty")]
    EmptyDataset,
    /// A data file is malformed, or a data set could not be loaded (the sentence comes from
    /// `data`'s own errors, converted there so that `core` names no data type).
    #[error("{0}")]
    Data(String),
    /// The backend failed (lost GPU, failed readback, …).
    #[error("the compute device failed: {0}")]
    Device(String),
    /// Training produced NaN or infinity; the last good state is kept.
    #[error(
        "training diverged: the {what} became {value} at epoch {epoch}; the last good state is kept — lower the learning rate and resume"
    )]
    NonFinite { what: &'static str, value: f32, epoch: usize },
}

impl LabError {
    /// Wraps a backend failure (a failed readback, a lost device) for the user.
    pub fn device(e: impl std::fmt::Display) -> Self {
        LabError::Device(e.to_string())
    }
}

/// Shorthand for engine results.
pub type LabResult<T> = Result<T, LabError>;

/// Refuses a float setting that is NaN, infinite, or outside `(min, max]`/`[min, max]`.
pub fn check_range(
    name: &str,
    value: f64,
    min: f64,
    max: f64,
    min_inclusive: bool,
) -> LabResult<()> {
    let above_min = if min_inclusive { value >= min } else { value > min };
    if !value.is_finite() || !above_min || value > max {
        let open = if min_inclusive { "[" } else { "(" };
        return Err(LabError::InvalidConfig(format!(
            "{name} must be a number in {open}{min}, {max}], got {value}"
        )));
    }
    Ok(())
}

/// Refuses a count outside `min..=max`.
pub fn check_count(name: &str, value: usize, min: usize, max: usize) -> LabResult<()> {
    if value < min || value > max {
        return Err(LabError::InvalidConfig(format!(
            "{name} must be between {min} and {max}, got {value}"
        )));
    }
    Ok(())
}
