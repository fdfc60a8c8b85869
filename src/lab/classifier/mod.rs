//! The MNIST classifier: the 784-100-50-10 MLP, its training loop, evaluation and confusion
//! matrix. Exercise 1 trains and compresses it; exercise 2's quality judge is one too.

pub mod eval;
pub mod metrics;
pub mod mlp;
pub mod summary;
pub mod train;
pub mod weights;
