//! ADInstruments LabChart binary files (`.adicht`).
//!
//! (Being written: this reader refuses every file until it lands.)

use crate::error::{Error, Result};
use crate::io::ReadOptions;
use crate::recording::Recording;
use std::path::Path;

/// Whether a file's first bytes are a LabChart binary file's.
pub fn sniff(_head: &[u8]) -> bool {
    false
}

/// Read a LabChart file.
pub fn read_adicht_file(path: &Path, _opts: &ReadOptions) -> Result<Recording> {
    Err(Error::UnsupportedFormat {
        path: path.to_path_buf(),
        reason: "LabChart files are not read yet".into(),
    })
}
