//! CED Signal data files (CFS).
//!
//! (Being written: this reader refuses every file until it lands.)

use crate::error::{Error, Result};
use crate::io::ReadOptions;
use crate::recording::Recording;
use std::path::Path;

/// Read a CED Signal (CFS) file.
pub fn read_cfs_file(path: &Path, _opts: &ReadOptions) -> Result<Recording> {
    Err(Error::UnsupportedFormat {
        path: path.to_path_buf(),
        reason: "CED Signal (CFS) files are not read yet".into(),
    })
}
