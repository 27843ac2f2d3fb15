//! Axon Binary Format (ABF1, ABF2).
//!
//! (Being written: this reader refuses every file until it lands.)

use crate::error::{Error, Result};
use crate::io::ReadOptions;
use crate::recording::Recording;
use std::path::Path;

/// Read a ABF file.
pub fn read_abf_file(path: &Path, _opts: &ReadOptions) -> Result<Recording> {
    Err(Error::UnsupportedFormat {
        path: path.to_path_buf(),
        reason: "ABF files are not read yet".into(),
    })
}
