//! Atomic file replacement for outputs.
//!
//! Overview: [`write_atomic`] writes the bytes to a temporary file in the
//! target's directory, flushes them to disk and renames the temporary file
//! over the target. A reader of the target therefore sees either the old
//! content or the complete new content, never a half-written report, even if
//! the process is killed mid-write. The temporary file lives in the same
//! directory because a rename is only atomic within one file system.
//!
//! [`write_atomic_group`] keeps the same promise for many files at a cost of
//! one flush for all of them: each is written to its temporary name, then
//! the file system is flushed once (Linux `syncfs`; elsewhere, or should it
//! fail, one `fsync` per file), then each is renamed into place and each
//! folder synced once. A batch of small files otherwise waits on one `fsync`
//! per file.

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
    let Staged { tmp, path: _, file } = stage(path, bytes)?;
    let result = file.sync_all().and_then(|()| fs::rename(&tmp, path));
    if let Err(e) = result {
        // Best effort: the original error is the one worth reporting.
        let _ = fs::remove_file(&tmp);
        return Err(write_err(path, e));
    }
    sync_dir(&parent_dir(path));
    Ok(())
}

/// Make renames in `dir` durable. Not every platform can open or sync a
/// directory, and the data is already in place, so failure is ignored.
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
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

/// A file written under its temporary name, waiting to be made durable and
/// renamed into place by [`write_atomic_group`].
struct Staged {
    tmp: PathBuf,
    path: PathBuf,
    file: File,
}

/// Write each `(path, bytes)` atomically, as [`write_atomic_replacing`]
/// does, but flush them to disk together; one result per item, in order.
///
/// No target is renamed before every staged file is on disk, so a crash
/// leaves each target old or complete; a failed item's temporary file is
/// removed and the others go on.
pub fn write_atomic_group(items: &[(PathBuf, Vec<u8>)]) -> Vec<Result<()>> {
    let mut results: Vec<Result<()>> = Vec::with_capacity(items.len());
    let mut staged: Vec<(usize, Staged)> = Vec::with_capacity(items.len());
    for (path, bytes) in items {
        match stage(path, bytes) {
            Ok(s) => {
                staged.push((results.len(), s));
                results.push(Ok(()));
            }
            Err(e) => results.push(Err(e)),
        }
    }
    if !sync_together(&staged) {
        for (i, s) in &staged {
            if let Err(e) = s.file.sync_all() {
                results[*i] = Err(write_err(&s.path, e));
            }
        }
    }
    let mut dirs: Vec<PathBuf> = Vec::new();
    for (i, s) in staged {
        let Staged { tmp, path, file } = s;
        drop(file);
        if results[i].is_err() {
            let _ = fs::remove_file(&tmp);
            continue;
        }
        if let Err(e) = fs::rename(&tmp, &path) {
            let _ = fs::remove_file(&tmp);
            results[i] = Err(write_err(&path, e));
            continue;
        }
        let dir = parent_dir(&path);
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    for d in dirs {
        sync_dir(&d);
    }
    results
}

fn write_err(path: &Path, source: io::Error) -> Error {
    Error::Write {
        path: path.to_path_buf(),
        source,
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `bytes` written to a fresh temporary file beside `path`, not yet synced.
fn stage(path: &Path, bytes: &[u8]) -> Result<Staged> {
    let name = path.file_name().ok_or_else(|| {
        write_err(
            path,
            io::Error::new(io::ErrorKind::InvalidInput, "output path has no file name"),
        )
    })?;
    let (tmp, mut file) =
        create_temp(&parent_dir(path), &name.to_string_lossy()).map_err(|e| write_err(path, e))?;
    if let Err(e) = file.write_all(bytes) {
        let _ = fs::remove_file(&tmp);
        return Err(write_err(path, e));
    }
    Ok(Staged {
        tmp,
        path: path.to_path_buf(),
        file,
    })
}

/// Flush the file systems holding `staged` with one `syncfs` each; false
/// when that could not be done (the caller then syncs file by file).
#[cfg(target_os = "linux")]
fn sync_together(staged: &[(usize, Staged)]) -> bool {
    use std::os::unix::fs::MetadataExt;
    let mut devices: Vec<u64> = Vec::new();
    for (_, s) in staged {
        let Ok(meta) = s.file.metadata() else {
            return false;
        };
        if devices.contains(&meta.dev()) {
            continue;
        }
        // syncfs reports write-back errors of the file system (Linux 5.8+).
        if rustix::fs::syncfs(&s.file).is_err() {
            return false;
        }
        devices.push(meta.dev());
    }
    true
}

#[cfg(not(target_os = "linux"))]
fn sync_together(_staged: &[(usize, Staged)]) -> bool {
    false
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

    #[test]
    fn a_group_is_written_whole_and_a_failed_item_alone_fails() {
        let dir = tempfile::tempdir().unwrap();
        let occupied = dir.path().join("occupied");
        fs::create_dir(&occupied).unwrap();
        fs::write(occupied.join("inner"), b"keep").unwrap();
        let items = vec![
            (dir.path().join("a.json"), b"first".to_vec()),
            (occupied.clone(), b"x".to_vec()),
            (dir.path().join("no/such/dir/b.json"), b"y".to_vec()),
            (dir.path().join("c.json"), b"third".to_vec()),
        ];
        let results = write_atomic_group(&items);
        assert_eq!(results.len(), 4);
        assert!(results[0].is_ok() && results[3].is_ok());
        assert!(matches!(&results[1], Err(Error::Write { path, .. }) if path == &occupied));
        assert!(matches!(&results[2], Err(Error::Write { path, .. }) if path == &items[2].0));
        assert_eq!(fs::read(dir.path().join("a.json")).unwrap(), b"first");
        assert_eq!(fs::read(dir.path().join("c.json")).unwrap(), b"third");
        assert_eq!(fs::read(occupied.join("inner")).unwrap(), b"keep");
        assert!(leftovers(dir.path()).is_empty());
        assert!(write_atomic_group(&[]).is_empty());
    }
}
