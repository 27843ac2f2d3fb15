//! Renderings of an [`Analysis`](crate::analysis::Analysis): JSON (the
//! contract), CSV (one row per response) and a human-readable text summary;
//! the typed tables behind every CSV and Parquet table ([`table`]);
//! and of an inspection (`rns inspect`: what a file holds).

pub mod csv;
pub mod inspect;
pub mod json;
pub mod parquet;
pub mod table;
pub mod text;
pub mod words;

pub use crate::error::terminal_safe;
