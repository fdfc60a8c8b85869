//! Exercise 2 in the page: the GAN studio.

pub mod gan_form;
pub mod gan_panel;
pub mod gan_views;
