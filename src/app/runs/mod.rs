//! The saved runs (resume, reopen, delete) and the report export.

pub mod changes;
pub mod report_exercise1;
pub mod report_panel;
pub mod runs_panel;
