//! BrainVision Core Data Format (`.vhdr`, `.vmrk`, `.eeg`).
//!
//! (Being written: this reader refuses every file until it lands.)

use crate::error::{Error, Result};
use crate::io::ReadOptions;
use crate::recording::Recording;
use std::path::Path;

/// Read a BrainVision file.
pub fn read_brainvision_file(path: &Path, _opts: &ReadOptions) -> Result<Recording> {
    Err(Error::UnsupportedFormat {
        path: path.to_path_buf(),
        reason: "BrainVision files are not read yet".into(),
    })
}
