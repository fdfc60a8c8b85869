//! Widgets shared by the panels: the backend banner, charts and tables.

pub mod banner;
pub mod chart;
pub mod tables;
