//! Exercise 1: SVD compression of the classifier — the factorisation, the factorized MLP, the
//! rank rules and the slider's evaluator, summaries, the write-up and its figures, and the
//! spread of the exercise over several seeds.

pub mod evaluator;
pub mod factorized;
pub mod plots;
pub mod ranks;
pub mod recipe;
pub mod report;
pub mod seed_bands;
pub mod seeds;
pub mod summary;
pub mod svd;
pub mod weights;
