//! Exercise 1 in the page: train the classifier, compress it by SVD with the rank sliders,
//! refine it, compare 2×/4×/8×, draw digits, import and export weights.

pub mod base_model;
pub mod compress_panel;
pub mod confusion;
pub mod draw_pad;
pub mod pad_models;
pub mod plots_view;
pub mod refine_panel;
pub mod refined;
pub mod train_panel;
pub mod user_eval;
pub mod weights_io;
