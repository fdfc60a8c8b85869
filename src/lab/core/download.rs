//! Bounds on a download, checked as it arrives: a server's `Content-Length` is a claim, not a
//! fact. A URL that announces 3 GB must be refused before anything is allocated for it (the page
//! once reserved that much from the header and froze), a body that outgrows the cap is cut off,
//! and a body that ends before its announced length is an error, not a shorter file.

/// Why a download was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DownloadError {
    /// The server announced more than the cap.
    #[error("the server announces {} for this file, more than the {} this page accepts", size(*.announced), size(*.max))]
    AnnouncedTooLarge { announced: u64, max: u64 },
    /// More bytes arrived than the cap allows.
    #[error("more than {} arrived for this file, the most this page accepts", size(*.max))]
    TooLarge { max: u64 },
    /// The body ended before the length the server announced.
    #[error("the download ended after {} of the {} the server announced", size(*.received), size(*.announced))]
    Truncated { received: u64, announced: u64 },
}

/// Bytes as a person reads them.
fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} kB", b as f64 / 1024.0),
        b => format!("{b} bytes"),
    }
}

/// The checks of one download, chunk by chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DownloadBounds {
    max: u64,
    /// The length the body must have (`None`: not announced, or a content-encoded body, whose
    /// decoded length differs from the header by design).
    announced: Option<u64>,
}

impl DownloadBounds {
    /// Refuses at once a download announced above `max` bytes.
    pub fn new(announced: Option<u64>, max: u64) -> Result<Self, DownloadError> {
        match announced {
            Some(a) if a > max => Err(DownloadError::AnnouncedTooLarge { announced: a, max }),
            _ => Ok(Self { max, announced }),
        }
    }

    /// What to reserve up front: the announced length, which is within the cap.
    pub fn capacity(&self) -> usize {
        self.announced.unwrap_or(0) as usize
    }

    /// After each chunk: `received` bytes so far must stay within the cap.
    pub fn check(&self, received: u64) -> Result<(), DownloadError> {
        if received > self.max {
            return Err(DownloadError::TooLarge { max: self.max });
        }
        Ok(())
    }

    /// At the end of the body: all of the announced length must have arrived.
    pub fn finish(&self, received: u64) -> Result<(), DownloadError> {
        self.check(received)?;
        match self.announced {
            Some(a) if received < a => Err(DownloadError::Truncated { received, announced: a }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announced_received_and_truncated_bodies_are_bounded() {
        let mb = 1 << 20;
        let err = DownloadBounds::new(Some(3_000_000_000), 128 * mb).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the server announces 2.8 GB for this file, more than the 128.0 MB this page accepts"
        );
        // Without a header, the cap applies to what arrives.
        let open = DownloadBounds::new(None, 100).unwrap();
        assert_eq!(open.capacity(), 0);
        assert!(open.check(100).is_ok());
        assert_eq!(open.check(101), Err(DownloadError::TooLarge { max: 100 }));
        assert!(open.finish(7).is_ok(), "no announced length: any length within the cap");
        // An announced length is reserved and must arrive whole.
        let exact = DownloadBounds::new(Some(1000), 4096).unwrap();
        assert_eq!(exact.capacity(), 1000);
        assert!(exact.finish(1000).is_ok());
        assert_eq!(
            exact.finish(100).unwrap_err().to_string(),
            "the download ended after 100 bytes of the 1000 bytes the server announced"
        );
        assert!(DownloadBounds::new(Some(4096), 4096).is_ok(), "the cap itself is allowed");
    }
}
