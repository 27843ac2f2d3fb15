//! Renderings of an [`Analysis`](crate::analysis::Analysis): JSON (the
//! contract), CSV (one row per response) and a human-readable text summary.

pub mod csv;
pub mod json;
pub mod text;
