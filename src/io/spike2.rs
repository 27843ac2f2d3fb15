//! CED Spike2 data files (`.smr`, `.smrx`).
//!
//! (Being written: this reader refuses every file until it lands.)

use crate::error::{Error, Result};
use crate::io::ReadOptions;
use crate::recording::Recording;
use std::path::Path;

/// Read a Spike2 file.
pub fn read_spike2_file(path: &Path, _opts: &ReadOptions) -> Result<Recording> {
    Err(Error::UnsupportedFormat {
        path: path.to_path_buf(),
        reason: "Spike2 files are not read yet".into(),
    })
}
