//! Atomic file replacement for outputs.
//!
//! Overview: [`write_atomic`] writes the bytes to a temporary file in the
//! target's directory, flushes them to disk and renames the temporary file
//! over the target. A reader of the target therefore sees either the old
//! content or the complete new content, never a half-written report, even if
//! the process is killed mid-write. The temporary file lives in the same
//! directory because a rename is only atomic within one file system.

use crate::error::{Error, Result};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Distinguishes temporary files of concurrent writes within one process.
static SEQ: AtomicU64 = AtomicU64::new(0);

/// Write `bytes` to `path` atomically (temporary file, fsync, rename).
///
/// The temporary file is named `.<file>.<pid>.<n>.tmp` next to the target and
/// is removed on any failure. Errors are [`Error::Write`] naming the target.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let io_err = |source: io::Error| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    // A device or pipe (`-o /dev/null`, `-o /dev/stdout`) is written in
    // place: renaming a temporary file over it would replace the device.
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        return std::fs::write(path, bytes).map_err(io_err);
    }
    write_by_rename(path, bytes)
}

/// Write `bytes` to `path` atomically, always by renaming a temporary file
/// over it: whatever stands at `path` (a symbolic link, a FIFO, a device
/// node planted there) is replaced, never written through or waited on.
/// For the outputs inside an output folder, whose names `rns` chooses.
pub fn write_atomic_replacing(path: &Path, bytes: &[u8]) -> Result<()> {
    write_by_rename(path, bytes)
}

fn write_by_rename(path: &Path, bytes: &[u8]) -> Result<()> {
    let io_err = |source: io::Error| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let name = path.file_name().ok_or_else(|| {
        io_err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "output path has no file name",
        ))
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };

    let (tmp, file) = create_temp(&dir, &name.to_string_lossy()).map_err(io_err)?;
    let result = write_and_sync(file, bytes).and_then(|()| fs::rename(&tmp, path));
    if let Err(e) = result {
        // Best effort: the original error is the one worth reporting.
        let _ = fs::remove_file(&tmp);
        return Err(io_err(e));
    }
    // Make the rename itself durable. Not every platform can open or sync a
    // directory, and the data is already in place, so failure is ignored.
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Create a fresh temporary file in `dir`, never reusing an existing one
/// (another writer, or a leftover from a crash, may hold that name).
fn create_temp(dir: &Path, name: &str) -> io::Result<(PathBuf, File)> {
    let pid = std::process::id();
    let mut last = None;
    for _ in 0..100 {
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.{pid}.{n}.tmp"));
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("cannot create a temporary file")))
}

fn write_and_sync(mut file: File, bytes: &[u8]) -> io::Result<()> {
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftovers(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect()
    }

    #[test]
    fn writes_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("report.json");
        write_atomic(&target, b"first").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"first");
        write_atomic(&target, b"second, longer").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"second, longer");
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn missing_directory_is_an_io_error_naming_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("no/such/dir/out.csv");
        let err = write_atomic(&target, b"x").unwrap_err();
        match &err {
            Error::Write { path, .. } => assert_eq!(path, &target),
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn failed_rename_removes_the_temporary() {
        let dir = tempfile::tempdir().unwrap();
        // A non-empty directory at the target: rename of a file over it fails.
        let target = dir.path().join("occupied");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("inner"), b"keep").unwrap();
        assert!(write_atomic(&target, b"x").is_err());
        assert!(leftovers(dir.path()).is_empty());
        assert_eq!(fs::read(target.join("inner")).unwrap(), b"keep");
    }

    #[test]
    fn path_without_file_name_is_rejected() {
        assert!(matches!(
            write_atomic(Path::new("/"), b"x"),
            Err(Error::Write { .. })
        ));
    }
}
