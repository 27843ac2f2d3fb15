//! JSON rendering: one object per file, an array when several.

use crate::analysis::Analysis;
use serde::Serialize;

/// One entry of a multi-file JSON array: an analysis, or the error for a file.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Entry<'a> {
    /// A successful analysis.
    Ok(&'a Analysis),
    /// A file that could not be analysed.
    Err(ErrorEntry),
}

/// The JSON form of a failed file.
#[derive(Debug, Serialize)]
pub struct ErrorEntry {
    /// The contract version.
    pub schema_version: u32,
    /// `{ "path": ... }`.
    pub source: ErrorSource,
    /// What went wrong.
    pub error: ErrorBody,
}

/// Source of a failed file.
#[derive(Debug, Serialize)]
pub struct ErrorSource {
    /// Input path.
    pub path: String,
}

/// The error of a failed file.
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    /// The one-line message.
    pub message: String,
    /// The exit code this error maps to.
    pub exit_code: i32,
}

/// Pretty JSON of one analysis, newline-terminated.
pub fn render_one(a: &Analysis) -> String {
    let mut s =
        serde_json::to_string_pretty(a).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

/// Pretty JSON array of entries, newline-terminated.
pub fn render_many(entries: &[Entry<'_>]) -> String {
    let mut s =
        serde_json::to_string_pretty(entries).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}
