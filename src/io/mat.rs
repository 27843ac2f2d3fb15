//! MATLAB MAT-files (level 5 and v7.3).
//!
//! (Being written: this reader refuses every file until it lands.)

use crate::error::{Error, Result};
use crate::io::ReadOptions;
use crate::recording::Recording;
use std::path::Path;

/// What the sidecar's `[mat]` table says of a MAT-file's variables.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatHints {}

/// Read a MATLAB file.
pub fn read_mat_file(path: &Path, _opts: &ReadOptions) -> Result<Recording> {
    Err(Error::UnsupportedFormat {
        path: path.to_path_buf(),
        reason: "MATLAB files are not read yet".into(),
    })
}
