//! Vendor text exports: the Synergy text export and ASCII sweeps.
//!
//! (Being written: this reader refuses every file until it lands.)

use crate::error::{Error, Result};
use crate::io::ReadOptions;
use crate::recording::Recording;
use std::path::Path;

/// What the sidecar's `[text]` table says of a text export.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextHints {}

/// Which vendor text export a file's first bytes are, if any.
pub fn sniff(_head: &[u8]) -> Option<()> {
    None
}

/// Read a vendor text file.
pub fn read_text_file(path: &Path, _opts: &ReadOptions) -> Result<Recording> {
    Err(Error::UnsupportedFormat {
        path: path.to_path_buf(),
        reason: "vendor text files are not read yet".into(),
    })
}
