//! The output folder of `rns report` and `rns batch`, held for one run.
//!
//! Overview: [`OutDir::prepare`] creates the folder (or accepts an existing
//! one: empty, or any with `force`), locks it so that a second `rns` started
//! at the same time into the same folder is refused instead of mixing its
//! files in, and, with `force`, removes the temporary files an interrupted
//! run left ([`write_atomic`](super::atomic::write_atomic) names them
//! `.<file>.<pid>.<n>.tmp`; with the lock held, no other run is writing
//! them). [`OutDir::check_inside`] refuses an output whose way down from the
//! folder goes through a symbolic link, which could lead it outside.

use crate::error::{Error, Result};
use std::fs::File;
use std::path::{Component, Path};

/// An output folder, locked for the life of this value.
#[derive(Debug)]
pub struct OutDir {
    /// The folder opened and locked (an advisory lock, released when the
    /// process ends, however it ends).
    _lock: Option<File>,
}

fn write_error(path: &Path, source: std::io::Error) -> Error {
    Error::Write {
        path: path.to_path_buf(),
        source,
    }
}

impl OutDir {
    /// Make sure `dir` can take the outputs: create it when missing; an
    /// existing non-empty directory is refused unless `force` (then files
    /// are replaced one by one, atomically, and other files are left
    /// alone). A path that exists but is not a directory is refused, and so
    /// is a folder another `rns` holds. Refusals are usage errors.
    pub fn prepare(dir: &Path, force: bool) -> Result<Self> {
        if dir.exists() {
            if !dir.is_dir() {
                return Err(Error::Usage(format!(
                    "{}: output path exists and is not a directory",
                    dir.display()
                )));
            }
            let mut entries = std::fs::read_dir(dir).map_err(|e| write_error(dir, e))?;
            if !force && entries.next().is_some() {
                return Err(Error::Usage(format!(
                    "{}: output directory exists and is not empty; use --force to replace its files",
                    dir.display()
                )));
            }
        } else {
            std::fs::create_dir_all(dir).map_err(|e| write_error(dir, e))?;
        }
        let lock = lock(dir)?;
        if force {
            remove_stale_temporaries(dir, false);
        }
        Ok(OutDir { _lock: lock })
    }

    /// Refuse `path` (inside `dir`) when a folder on its way down from
    /// `dir` is a symbolic link (planted to lead the outputs elsewhere) or
    /// the way leaves `dir` (`..`). A usage error naming the link.
    pub fn check_inside(dir: &Path, path: &Path) -> Result<()> {
        let Ok(rel) = path.strip_prefix(dir) else {
            return Err(Error::Usage(format!(
                "{}: output path is not inside the output folder {}",
                path.display(),
                dir.display()
            )));
        };
        let mut at = dir.to_path_buf();
        let parts: Vec<Component<'_>> = rel.components().collect();
        for (k, c) in parts.iter().enumerate() {
            let Component::Normal(name) = c else {
                return Err(Error::Usage(format!(
                    "{}: output path leaves the output folder {}",
                    path.display(),
                    dir.display()
                )));
            };
            at.push(name);
            // The last component is the file itself: the rename that writes
            // it replaces a link there instead of following it.
            if k + 1 < parts.len()
                && std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink())
            {
                return Err(Error::Usage(format!(
                    "{}: is a symbolic link inside the output folder; outputs are written only into real folders there (remove it)",
                    at.display()
                )));
            }
        }
        Ok(())
    }

    /// [`Self::check_inside`] for a folder to write into (`folder` itself
    /// included: it must be no link either).
    pub fn check_folder_inside(dir: &Path, folder: &Path) -> Result<()> {
        Self::check_inside(dir, &folder.join("file"))
    }

    /// Remove the temporary files an interrupted run left under `sub`
    /// (a folder inside the output folder; with `recursive`, its whole tree,
    /// never through symbolic links). Best effort: a file that cannot be
    /// removed stays.
    pub fn clean(&self, sub: &Path, recursive: bool) {
        remove_stale_temporaries(sub, recursive);
    }
}

/// Lock `dir` (an advisory lock on the folder itself, so no lock file is
/// left in it): `None` when the platform cannot lock a folder; a usage
/// error when another process holds it.
fn lock(dir: &Path) -> Result<Option<File>> {
    let Ok(f) = File::open(dir) else {
        return Ok(None);
    };
    match f.try_lock() {
        Ok(()) => Ok(Some(f)),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Usage(format!(
            "{}: another rns is writing into this output folder; wait for it to finish or choose another folder",
            dir.display()
        ))),
        Err(std::fs::TryLockError::Error(_)) => Ok(None),
    }
}

/// Whether `name` is a temporary file of [`write_atomic`](super::atomic::write_atomic):
/// `.<file>.<pid>.<n>.tmp`.
pub fn is_own_temporary(name: &str) -> bool {
    let Some(body) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) else {
        return false;
    };
    let mut parts = body.rsplitn(3, '.');
    let digits =
        |s: Option<&str>| s.is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
    digits(parts.next()) && digits(parts.next()) && parts.next().is_some_and(|f| !f.is_empty())
}

/// The process id in a temporary's name `.<file>.<pid>.<n>.tmp`.
fn temporary_pid(name: &str) -> Option<u32> {
    name.strip_suffix(".tmp")?.rsplit('.').nth(1)?.parse().ok()
}

/// Whether the process that named a temporary may still be writing it:
/// this one, or one alive (on Linux, `/proc/<pid>`; elsewhere every other
/// process counts as gone). Another `rns analyze -o` into the folder takes
/// no lock, so its temporary is left alone.
fn writer_alive(pid: u32) -> bool {
    pid == std::process::id() || Path::new("/proc").join(pid.to_string()).exists()
}

fn remove_stale_temporaries(dir: &Path, recursive: bool) {
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .max_depth(if recursive { usize::MAX } else { 1 });
    for e in walker.into_iter().filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy();
        if e.file_type().is_file()
            && is_own_temporary(&name)
            && !temporary_pid(&name).is_some_and(writer_alive)
        {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_temporaries_are_told_from_other_files() {
        assert!(is_own_temporary(".a.wav.json.4242.7.tmp"));
        assert!(is_own_temporary(".summary.csv.1.0.tmp"));
        assert!(!is_own_temporary(".a.wav.json.x.7.tmp"));
        assert!(!is_own_temporary("a.1.2.tmp"));
        assert!(!is_own_temporary(".1.2.tmp"));
        assert!(!is_own_temporary(".notes.tmp"));
        assert!(!is_own_temporary(".a.1.2.tmpx"));
        assert_eq!(temporary_pid(".a.wav.json.4242.7.tmp"), Some(4242));
        assert!(writer_alive(std::process::id()));
    }

    #[test]
    fn a_held_folder_is_refused_and_stale_temporaries_go() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        let first = OutDir::prepare(&out, false).unwrap();
        std::fs::write(out.join(".x.json.99999999.2.tmp"), "partial").unwrap();
        std::fs::write(out.join("keep.tmp"), "theirs").unwrap();
        let e = OutDir::prepare(&out, true).unwrap_err();
        assert_eq!(e.exit_code(), crate::error::EXIT_USAGE);
        assert!(e.to_string().contains("another rns"), "{e}");
        drop(first);
        let _again = OutDir::prepare(&out, true).unwrap();
        assert!(!out.join(".x.json.99999999.2.tmp").exists());
        assert!(out.join("keep.tmp").exists());
    }

    #[cfg(unix)]
    #[test]
    fn outputs_never_go_through_a_link() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        let elsewhere = d.path().join("elsewhere");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::create_dir_all(&elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, out.join("json")).unwrap();
        assert!(OutDir::check_inside(&out, &out.join("json/a.wav.json")).is_err());
        assert!(OutDir::check_inside(&out, &out.join("real/a.wav.json")).is_ok());
        assert!(OutDir::check_inside(&out, &out.join("a.json")).is_ok());
        assert!(OutDir::check_inside(&out, &out.join("../a.json")).is_err());
        assert!(OutDir::check_inside(&out, &d.path().join("a.json")).is_err());
        assert!(OutDir::check_folder_inside(&out, &out.join("json")).is_err());
        assert!(OutDir::check_folder_inside(&out, &out.join("real")).is_ok());
    }
}
