//! The saved runs (resume, reopen, delete) and the report export.

pub mod report_panel;
pub mod runs_panel;
