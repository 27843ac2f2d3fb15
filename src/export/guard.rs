//! The inputs an output must never replace.
//!
//! Overview: an [`InputGuard`] holds the files a command reads (the
//! recordings, their protocol sidecars, `--protocol`, `--criteria`), by
//! identity: the device and inode of each on Unix, the canonical path
//! elsewhere. Before an output is written, [`InputGuard::check`] refuses a
//! path that is one of them, whatever way it is spelled (`./x.csv`, a
//! symbolic or hard link to it), so `rns analyze x.csv -o x.csv` cannot
//! replace the recording. A path that does not exist yet is no input.

use crate::error::{Error, Result};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What makes two paths the same file.
#[cfg(unix)]
type FileId = (u64, u64);
#[cfg(not(unix))]
type FileId = PathBuf;

#[cfg(unix)]
fn file_id(path: &Path) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(path: &Path) -> Option<FileId> {
    path.canonicalize().ok()
}

/// The files a command reads, which its outputs must not replace.
#[derive(Debug, Default)]
pub struct InputGuard {
    inputs: HashMap<FileId, (PathBuf, &'static str)>,
}

impl InputGuard {
    /// An empty guard.
    pub fn new() -> Self {
        Self::default()
    }

    /// Guard `path` (read as `what`: "recording", "protocol sidecar",
    /// "criteria profile"), if it exists.
    pub fn add(&mut self, path: &Path, what: &'static str) {
        if let Some(id) = file_id(path) {
            self.inputs
                .entry(id)
                .or_insert_with(|| (path.to_path_buf(), what));
        }
    }

    /// Refuse (a usage error, exit 2) to write `output` when it is one of
    /// the guarded inputs.
    pub fn check(&self, output: &Path) -> Result<()> {
        if self.inputs.is_empty() {
            return Ok(());
        }
        match file_id(output).and_then(|id| self.inputs.get(&id)) {
            Some((input, what)) => Err(Error::Usage(format!(
                "{}: this output is the {what} {}; writing it would destroy the input, so choose another output path",
                output.display(),
                input.display()
            ))),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_input_is_refused_however_it_is_named() {
        let dir = std::env::temp_dir().join(format!("rns-guard-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let rec = dir.join("x.csv");
        std::fs::write(&rec, "t,v\n").unwrap();
        let mut g = InputGuard::new();
        g.add(&rec, "recording");
        g.add(&dir.join("missing.rns.toml"), "protocol sidecar");
        let e = g.check(&dir.join(".").join("x.csv")).unwrap_err();
        assert_eq!(e.exit_code(), crate::error::EXIT_USAGE);
        assert!(e.to_string().contains("recording"), "{e}");
        #[cfg(unix)]
        {
            let link = dir.join("link.csv");
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(&rec, &link).unwrap();
            assert!(g.check(&link).is_err());
        }
        assert!(g.check(&dir.join("new.csv")).is_ok());
        assert!(g.check(&dir.join("missing.rns.toml")).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
