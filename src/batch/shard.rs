//! Sharding a batch over several jobs (an HPC job array), and merging them.
//!
//! Overview: `rns batch DIR --shard K/N` analyses only shard K of N of the
//! folder's inputs ([`assign`]: largest file first, each to the shard with
//! the fewest bytes so far, ties to the lowest index, so that every shard
//! computes the same split and the shards take about as long). Each shard
//! writes its normal outputs and a manifest, `shard.json` ([`Manifest`]).
//! [`merge`] checks the manifests of all N shards (same run, every shard
//! once, disjoint files), then writes the tables with their rows in path
//! order, the same bytes one `rns batch` over the whole folder writes, and
//! copies the `json/` and `reports/` trees.

use super::{TableFormats, PARQUET_TABLES, TABLES};
use crate::error::{Error, Result};
use crate::export::atomic::{write_atomic_group, write_atomic_replacing as write_atomic};
use crate::export::outdir::OutDir;
use crate::output::table::Table;
use crate::report;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The manifest's file name in a shard's output folder.
pub const MANIFEST: &str = "shard.json";

/// One shard of N: `k` from 1 to `n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, from 1.
    pub k: usize,
    /// How many shards.
    pub n: usize,
}

impl Shard {
    /// `K/N` with 1 <= K <= N; a usage error otherwise.
    pub fn parse(s: &str) -> Result<Shard> {
        let bad = || Error::Usage(format!("--shard {s:?}: expected K/N with 1 <= K <= N"));
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let k: usize = k.trim().parse().map_err(|_| bad())?;
        let n: usize = n.trim().parse().map_err(|_| bad())?;
        if k == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard { k, n })
    }
}

/// The shard (from 0) of each of `sizes` (bytes, in input order) among
/// `n`: files taken largest first (ties in input order), each given to the
/// shard with the fewest bytes so far (ties to the lowest index).
pub fn assign(sizes: &[u64], n: usize) -> Vec<usize> {
    let n = n.max(1);
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by(|&a, &b| sizes[b].cmp(&sizes[a]).then(a.cmp(&b)));
    let mut load = vec![0u64; n];
    let mut out = vec![0; sizes.len()];
    for i in order {
        // `load` is never empty (n >= 1).
        let s = (0..n).min_by_key(|&s| (load[s], s)).unwrap_or(0);
        load[s] = load[s].saturating_add(sizes[i]);
        out[i] = s;
    }
    out
}

/// A hash of the whole input list (paths and sizes), the same for every
/// shard of one run.
pub fn inputs_sha256(inputs: &[(String, u64)]) -> String {
    let mut h = Sha256::new();
    for (rel, len) in inputs {
        h.update(rel.as_bytes());
        h.update(format!("\t{len}\n").as_bytes());
    }
    format!("{:x}", h.finalize())
}

/// What a shard did: `shard.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// This shard, from 1.
    pub shard: usize,
    /// How many shards.
    pub shards: usize,
    /// The folder analysed, as given.
    pub input_dir: String,
    /// How many inputs the whole folder has (every shard's).
    pub total_files: usize,
    /// [`inputs_sha256`] of the whole folder's inputs.
    pub inputs_sha256: String,
    /// This shard's inputs (paths relative to the folder), in path order.
    pub files: Vec<String>,
    /// SHA-256 of the criteria profile used.
    pub criteria_sha256: String,
    /// The tool's version.
    pub tool_version: String,
    /// The `--tables` setting (`csv`, `parquet`, `both`).
    pub tables: String,
    /// Whether the shard wrote reports (`--report`): then `rns merge`
    /// writes the merged `index.html`. Absent in manifests of 0.1 runs
    /// before reports were merged: false.
    #[serde(default)]
    pub report: bool,
}

impl Manifest {
    /// Write it into `out` (atomically).
    pub fn write(&self, out: &Path) -> Result<()> {
        let path = out.join(MANIFEST);
        let text = serde_json::to_string_pretty(self).map_err(|e| Error::Write {
            path: path.clone(),
            source: std::io::Error::other(e),
        })?;
        write_atomic(&path, format!("{text}\n").as_bytes())
    }

    /// Read the manifest of the shard folder `dir`; a usage error naming
    /// the file when it is missing or not a manifest.
    pub fn read(dir: &Path) -> Result<Manifest> {
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Error::Usage(format!(
                "{}: no shard manifest ({e}); is this a folder `rns batch --shard` wrote?",
                path.display()
            ))
        })?;
        serde_json::from_str(&text)
            .map_err(|e| Error::Usage(format!("{}: not a shard manifest: {e}", path.display())))
    }
}

/// Check that `manifests` (with their folders) are the N shards of one run,
/// each once, with disjoint files covering the whole folder.
pub fn check(manifests: &[(PathBuf, Manifest)]) -> Result<()> {
    let Some((first_dir, first)) = manifests.first() else {
        return Err(Error::Usage("merge: no shard folder given".into()));
    };
    let refuse = |dir: &Path, why: String| {
        Err(Error::Usage(format!(
            "{}: {why}",
            dir.join(MANIFEST).display()
        )))
    };
    let mut seen: Vec<Option<&Path>> = vec![None; first.shards.max(1)];
    let mut files = std::collections::BTreeSet::new();
    for (dir, m) in manifests {
        let same = [
            (
                "number of shards",
                m.shards.to_string(),
                first.shards.to_string(),
            ),
            ("input folder", m.input_dir.clone(), first.input_dir.clone()),
            (
                "inputs",
                m.inputs_sha256.clone(),
                first.inputs_sha256.clone(),
            ),
            (
                "criteria",
                m.criteria_sha256.clone(),
                first.criteria_sha256.clone(),
            ),
            (
                "tool version",
                m.tool_version.clone(),
                first.tool_version.clone(),
            ),
            ("--report", m.report.to_string(), first.report.to_string()),
            ("--tables", m.tables.clone(), first.tables.clone()),
        ];
        for (what, a, b) in same {
            if a != b {
                return refuse(
                    dir,
                    format!("{what} {a:?} differs from {b:?} of {}", first_dir.display()),
                );
            }
        }
        if m.shard == 0 || m.shard > m.shards {
            return refuse(
                dir,
                format!("shard {} of {} is out of range", m.shard, m.shards),
            );
        }
        if let Some(other) = seen[m.shard - 1] {
            return refuse(
                dir,
                format!(
                    "shard {} is given twice (also {})",
                    m.shard,
                    other.display()
                ),
            );
        }
        seen[m.shard - 1] = Some(dir);
        for f in &m.files {
            if !files.insert(f.as_str()) {
                return refuse(dir, format!("{f:?} is in two shards"));
            }
        }
    }
    if let Some(k) = seen.iter().position(Option::is_none) {
        return refuse(
            first_dir,
            format!("shard {} of {} is missing", k + 1, first.shards),
        );
    }
    if files.len() != first.total_files {
        return refuse(
            first_dir,
            format!(
                "the shards hold {} file(s), the folder {}",
                files.len(),
                first.total_files
            ),
        );
    }
    Ok(())
}

/// The rows of one CSV table, grouped by file (the `path` cell, the guard
/// undone), each group's exact bytes; and the header line.
fn groups(path: &Path, text: &str) -> Result<(String, Vec<(String, String)>)> {
    let bad =
        |e: String| Error::Usage(format!("{}: not a table of rns batch: {e}", path.display()));
    let mut r = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut starts: Vec<(usize, String)> = Vec::new();
    let mut rec = ::csv::StringRecord::new();
    loop {
        let at = usize::try_from(r.position().byte()).unwrap_or(usize::MAX);
        match r.read_record(&mut rec) {
            Ok(true) => {
                let cell = rec.get(0).unwrap_or_default();
                starts.push((at, cell.strip_prefix('\'').unwrap_or(cell).to_string()));
            }
            Ok(false) => break,
            Err(e) => return Err(bad(e.to_string())),
        }
    }
    let mut bounds: Vec<usize> = starts.iter().map(|s| s.0).collect();
    bounds.push(text.len());
    let slice = |i: usize| text.get(bounds[i]..bounds[i + 1]).unwrap_or_default();
    let header = if starts.is_empty() {
        return Err(bad("it is empty".into()));
    } else {
        slice(0).to_string()
    };
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, (_, rel)) in starts.iter().enumerate().skip(1) {
        match out.last_mut() {
            Some((last, rows)) if last == rel => rows.push_str(slice(i)),
            _ => out.push((rel.clone(), slice(i).to_string())),
        }
    }
    Ok((header, out))
}

/// One table merged from the shards' copies: their header (the same in
/// all), then every file's rows in path order.
pub fn merge_table(name: &str, shard_dirs: &[PathBuf]) -> Result<String> {
    let mut header: Option<String> = None;
    let mut all: Vec<(String, String)> = Vec::new();
    for dir in shard_dirs {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).map_err(|e| Error::Io {
            path: path.clone(),
            source: e,
        })?;
        let (h, g) = groups(&path, &text)?;
        match &header {
            Some(first) if *first != h => {
                return Err(Error::Usage(format!(
                    "{}: its columns differ from the other shards'",
                    path.display()
                )))
            }
            _ => header = Some(h),
        }
        all.extend(g);
    }
    // As the batch sorts its outcomes: by path.
    all.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = header.unwrap_or_default();
    for (_, rows) in all {
        out.push_str(&rows);
    }
    Ok(out)
}

/// What to merge: the shards' folders and the output folder.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeOptions {
    /// The shards' output folders (any order).
    pub shards: Vec<PathBuf>,
    /// Output folder.
    pub out: PathBuf,
    /// Replace files in an existing, non-empty output folder.
    pub force: bool,
}

/// What a merge did.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeSummary {
    /// The manifest of shard 1 (the run's settings).
    pub manifest: Manifest,
    /// Files copied from the shards' `json/` and `reports/`.
    pub copied: usize,
    /// The exit code one batch over the whole folder would have had: the
    /// highest of `summary.csv`'s `exit_code` column.
    pub exit_code: i32,
}

/// Merge the shards into `opts.out` (see the module overview). Errors: a
/// refused set of shards, or an output folder that cannot take the outputs
/// (usage errors, exit 2); a shard's file that cannot be read (exit 3); a
/// write that fails (exit 1).
pub fn merge(opts: &MergeOptions) -> Result<MergeSummary> {
    let mut manifests = Vec::new();
    for dir in &opts.shards {
        manifests.push((dir.clone(), Manifest::read(dir)?));
    }
    check(&manifests)?;
    let out_canon = opts.out.canonicalize().ok();
    for dir in &opts.shards {
        if out_canon.is_some() && dir.canonicalize().ok() == out_canon {
            return Err(Error::Usage(format!(
                "{}: the output folder must not be a shard's folder",
                opts.out.display()
            )));
        }
    }
    // Every table merged before anything is written.
    let mut tables = Vec::new();
    for name in TABLES {
        tables.push((name, merge_table(name, &opts.shards)?));
    }
    let exit_code = summary_exit_code(&tables[0].1);
    let held = report::prepare_out_dir(&opts.out, opts.force)?;
    let mut copied = 0;
    for sub in ["json", "reports"] {
        let d = opts.out.join(sub);
        OutDir::check_folder_inside(&opts.out, &d)?;
        if opts.force {
            held.clean(&d, true);
        }
        for dir in &opts.shards {
            copied += copy_tree(&dir.join(sub), &d, &opts.out)?;
        }
    }
    let formats = TableFormats::parse(&manifests[0].1.tables).unwrap_or_default();
    // The merged CSV read back as typed tables, for Parquet and the index.
    let typed = |name: &str, text: &str| {
        let columns = super::columns_of(name).unwrap_or_default();
        Table::from_csv(&columns, text).map_err(|why| {
            Error::Usage(format!(
                "merge: the merged {name} cannot be read back: {why}"
            ))
        })
    };
    for ((name, text), pq) in tables.iter().zip(PARQUET_TABLES) {
        if formats.csv() {
            write_atomic(&opts.out.join(name), text.as_bytes())?;
        }
        if formats.parquet() {
            super::write_parquet(&opts.out.join(pq), &typed(name, text)?)?;
        }
    }
    if manifests.iter().any(|(_, m)| m.report) {
        let summary = typed(TABLES[0], &tables[0].1)?;
        super::write_index(&opts.out, Path::new(&manifests[0].1.input_dir), &summary)?;
    }
    let mut shard1 = manifests
        .into_iter()
        .map(|(_, m)| m)
        .find(|m| m.shard == 1)
        .ok_or_else(|| Error::Usage("merge: shard 1 is missing".into()))?;
    shard1.files.clear();
    Ok(MergeSummary {
        manifest: shard1,
        copied,
        exit_code,
    })
}

/// The highest `exit_code` of a `summary.csv` text (0 when none).
fn summary_exit_code(summary: &str) -> i32 {
    let mut r = ::csv::Reader::from_reader(summary.as_bytes());
    let col = r
        .headers()
        .ok()
        .and_then(|h| h.iter().position(|c| c == "exit_code"));
    let Some(col) = col else { return 0 };
    r.records()
        .filter_map(|rec| rec.ok()?.get(col)?.parse::<i32>().ok())
        .max()
        .unwrap_or(0)
}

/// Copy every file under `from` (when it exists) to the same place under
/// `to` (inside `out`), atomically, a group at a time; how many.
fn copy_tree(from: &Path, to: &Path, out: &Path) -> Result<usize> {
    if !from.is_dir() {
        return Ok(0);
    }
    let mut n = 0;
    let mut group: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    let flush = |group: &mut Vec<(PathBuf, Vec<u8>)>| -> Result<()> {
        for r in write_atomic_group(group) {
            r?;
        }
        group.clear();
        Ok(())
    };
    for entry in walkdir::WalkDir::new(from).sort_by_file_name() {
        let entry = entry.map_err(|e| Error::Io {
            path: from.to_path_buf(),
            source: e
                .into_io_error()
                .unwrap_or_else(|| std::io::Error::other("filesystem loop")),
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(from) else {
            continue;
        };
        let dest = to.join(rel);
        OutDir::check_inside(out, &dest)?;
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::Write {
                path: parent.to_path_buf(),
                source: e,
            })?;
        }
        let bytes = std::fs::read(entry.path()).map_err(|e| Error::Io {
            path: entry.path().to_path_buf(),
            source: e,
        })?;
        group.push((dest, bytes));
        n += 1;
        if group.len() >= 128 {
            flush(&mut group)?;
        }
    }
    flush(&mut group)?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_refuse() {
        assert_eq!(Shard::parse("2/3").unwrap(), Shard { k: 2, n: 3 });
        for bad in ["0/3", "4/3", "3", "a/b", "1/0", ""] {
            assert_eq!(Shard::parse(bad).unwrap_err().exit_code(), 2, "{bad}");
        }
    }

    #[test]
    fn assignment_balances_bytes_largest_first() {
        // 10 -> 0, 8 -> 1, 5 -> 1 (8+5=13), 4 -> 0 (14), 4 -> 1 (17)...
        let sizes = [4, 10, 5, 8, 4];
        assert_eq!(assign(&sizes, 2), vec![0, 0, 1, 1, 1]);
        assert_eq!(assign(&sizes, 1), vec![0; 5]);
        // Ties go to the lowest shard; more shards than files leave some empty.
        assert_eq!(assign(&[1, 1], 3), vec![0, 1]);
    }

    #[test]
    fn rows_group_by_file_with_their_exact_bytes() {
        let text = "path,x\na.wav,1\na.wav,\"2,\n3\"\n'=b.wav,4\n";
        let (h, g) = groups(Path::new("t.csv"), text).unwrap();
        assert_eq!(h, "path,x\n");
        assert_eq!(
            g,
            vec![
                (
                    "a.wav".to_string(),
                    "a.wav,1\na.wav,\"2,\n3\"\n".to_string()
                ),
                ("=b.wav".to_string(), "'=b.wav,4\n".to_string()),
            ]
        );
    }
}
