//! The page's I/O: downloads with progress, the bundled data sets, IndexedDB storage of runs,
//! and share links in the address.

pub mod datasets;
pub mod fetch;
pub mod share;
pub mod store;
