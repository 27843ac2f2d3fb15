//! Batch analysis of a folder, for research.
//!
//! Overview: [`find_inputs`] walks a folder recursively and picks every file
//! with a supported extension ([`is_supported_path`]), skipping hidden
//! entries and the output folder, in a fixed (sorted) order. [`run`] analyses
//! them in parallel on a `rayon` pool of `jobs` threads, writes one JSON (by a
//! writer thread, so that the workers do not wait for the disk; with reports,
//! by the worker, before the report) and, when asked, one HTML report per
//! recording as each finishes, then writes two tables in input order:
//!
//! - `summary.csv`: one row per recording: status, exit code and error, the
//!   pattern and key figures, and the quality-flag codes ([`SUMMARY_HEADER`]);
//! - `responses.csv`: one row per response, the columns of
//!   `rns analyze --format csv` ([`crate::output::csv::HEADER`]);
//! - `trains.csv`: one row per train ([`TRAINS_HEADER`]), `flags.csv`
//!   one row per quality flag ([`FLAGS_HEADER`]), `findings.csv` one row
//!   per finding ([`FINDINGS_HEADER`]).
//!
//! A file that fails is a row with its error and never stops the others. Every
//! output is written atomically and depends only on the inputs, so the output
//! folder is byte-for-byte the same whatever the number of threads. Inputs are
//! only read.

pub mod shard;
mod tables;

pub use tables::{
    batch_response_columns, columns_of, findings_csv, findings_table, flags_csv, flags_table,
    response_table, responses_table, summary_csv, summary_table, trains_csv, trains_table,
    FINDINGS_HEADER, FLAGS_HEADER, RESPONSE_SHA256, SUMMARY_COLUMNS, TRAINS_HEADER,
};

use crate::analysis::{Analysis, TrainTraces};
use crate::error::{Error, Result};
use crate::export::atomic::write_atomic_group;
use crate::export::atomic::write_atomic_replacing as write_atomic;
use crate::export::outdir::OutDir;
use crate::io::is_supported_path;
use crate::output;
use crate::output::table::Table;
use crate::report;
use crate::settings::criteria::Criteria;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Mutex;

/// Column names of `summary.csv`, in order.
pub const SUMMARY_HEADER: &[&str] = &[
    "path",
    "status",
    "exit_code",
    "error",
    "sha256",
    "format",
    "pattern",
    "trains",
    "responses",
    "baseline_cmap_mv",
    "baseline_decrement_pct",
    "post_exercise_increment_pct",
    "post_exercise_area_increment_pct",
    "max_hfs_increment_pct",
    "repair",
    "exhaustion",
    "warnings",
    "notes",
    "patient_id",
    "study_date",
    "muscle",
    "nerve",
    "temperature_c",
    "sample_rate_hz",
    "duration_s",
    "stimulus_source",
    "tool_version",
    "immediate_post_exercise_decrement_pct",
    "late_post_exercise_decrement_pct",
    "baseline_area_decrement_pct",
    "baseline_shape",
    "low_cmap",
    "findings",
    "criteria_sha256",
];

/// The tables a batch writes, in this order.
pub const TABLES: [&str; 5] = [
    "summary.csv",
    "responses.csv",
    "trains.csv",
    "flags.csv",
    "findings.csv",
];

/// The same tables as Parquet (`--tables parquet|both`).
pub const PARQUET_TABLES: [&str; 5] = [
    "summary.parquet",
    "responses.parquet",
    "trains.parquet",
    "flags.parquet",
    "findings.parquet",
];

/// The formats a batch writes its tables in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TableFormats {
    /// CSV files (`summary.csv`, …).
    #[default]
    Csv,
    /// Parquet files (`summary.parquet`, …).
    Parquet,
    /// Both.
    Both,
}

impl TableFormats {
    /// Whether the CSV files are written.
    pub fn csv(self) -> bool {
        matches!(self, TableFormats::Csv | TableFormats::Both)
    }

    /// Whether the Parquet files are written.
    pub fn parquet(self) -> bool {
        matches!(self, TableFormats::Parquet | TableFormats::Both)
    }

    /// The setting's name: `csv`, `parquet` or `both`.
    pub fn name(self) -> &'static str {
        match self {
            TableFormats::Csv => "csv",
            TableFormats::Parquet => "parquet",
            TableFormats::Both => "both",
        }
    }

    /// The summary file a run in these formats writes (`summary.csv`
    /// when CSV is among them).
    pub fn summary_file(self) -> &'static str {
        if self.csv() {
            TABLES[0]
        } else {
            PARQUET_TABLES[0]
        }
    }

    /// Parse a [`name`](Self::name) (any case).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Some(TableFormats::Csv),
            "parquet" => Some(TableFormats::Parquet),
            "both" => Some(TableFormats::Both),
            _ => None,
        }
    }
}

/// What a batch run is asked to do.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchOptions {
    /// Folder to walk.
    pub dir: PathBuf,
    /// Output folder; created when missing (see [`report::prepare_out_dir`]).
    pub out: PathBuf,
    /// Replace files in an existing, non-empty output folder.
    pub force: bool,
    /// Worker threads (at least 1).
    pub jobs: usize,
    /// Also write an HTML report per recording under `reports/`, and
    /// `index.html` linking them.
    pub report: bool,
    /// The plot files written beside each report.
    pub plots: report::PlotFiles,
    /// The formats of the tables (a shard always writes CSV, which
    /// `rns merge` reads, and leaves the Parquet files to the merge).
    pub tables: TableFormats,
    /// Show a progress bar on standard error.
    pub progress: bool,
    /// Analyse only this shard of the inputs, and write `shard.json`
    /// (see [`shard`]).
    pub shard: Option<shard::Shard>,
}

/// A failure for one file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileError {
    /// One-line message (the error's text, without the path it starts with).
    pub message: String,
    /// The exit code this failure maps to.
    pub exit_code: i32,
}

/// What became of one input.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Path relative to the walked folder, `/`-separated.
    pub rel: String,
    /// Path as read (the folder joined with `rel`).
    pub path: PathBuf,
    /// SHA-256 of the file, when it could be read.
    pub sha256: Option<String>,
    /// The analysis, when it succeeded.
    pub analysis: Option<Analysis>,
    /// The failure, if any: of the analysis, or of writing its outputs.
    pub error: Option<FileError>,
    /// Why the file was not analysed when it is no recording (a `.txt`
    /// note beside the recordings): then it is neither analysed nor failed.
    pub skipped: Option<String>,
}

impl Outcome {
    /// The exit code of this file: 0 when it succeeded.
    pub fn exit_code(&self) -> i32 {
        self.error.as_ref().map_or(0, |e| e.exit_code)
    }
}

/// The result of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchSummary {
    /// One outcome per input, in input order.
    pub outcomes: Vec<Outcome>,
    /// The tables (`summary.csv`, `responses.csv`) that could not be
    /// written, with why (the message names the table).
    pub table_errors: Vec<FileError>,
    /// The highest exit code of any file or table (0 when all succeeded).
    pub exit_code: i32,
}

/// The analysis a batch runs on each file: given the path and whether traces
/// are wanted (for reports), the analysis and the traces (empty when not
/// wanted). The caller binds the settings (flags, sidecars).
pub type AnalyseFn<'a> = dyn Fn(&Path, bool) -> Result<(Analysis, Vec<TrainTraces>)> + Sync + 'a;

/// Path of `p` relative to `base`, `/`-separated.
fn rel_string(p: &Path) -> String {
    p.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// A directory entry that could not be read becomes an outcome of its own.
pub struct WalkProblem {
    /// Path relative to the walked folder.
    pub rel: PathBuf,
    /// What went wrong.
    pub error: Error,
}

/// Every file with a supported extension under `dir`, recursively, as paths
/// relative to `dir` in sorted order; hidden entries (names starting with `.`)
/// and the folder `exclude` (the output folder) are skipped. Entries that
/// cannot be read are returned as problems. A `dir` that cannot be read at
/// all is an error.
pub fn find_inputs(dir: &Path, exclude: Option<&Path>) -> Result<(Vec<PathBuf>, Vec<WalkProblem>)> {
    let meta = std::fs::metadata(dir).map_err(|e| Error::Io {
        path: dir.to_path_buf(),
        source: e,
    })?;
    if !meta.is_dir() {
        return Err(Error::Usage(format!("{}: not a directory", dir.display())));
    }
    let exclude = exclude.and_then(|p| p.canonicalize().ok());
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            if e.depth() == 0 {
                return true;
            }
            if e.file_name().to_string_lossy().starts_with('.') {
                return false;
            }
            // Never read our own outputs back in.
            !(e.file_type().is_dir()
                && exclude
                    .as_ref()
                    .is_some_and(|x| e.path().canonicalize().ok().as_ref() == Some(x)))
        });
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for entry in walker {
        match entry {
            Ok(e) => {
                if e.file_type().is_file() && is_supported_path(e.path()) {
                    if let Ok(rel) = e.path().strip_prefix(dir) {
                        files.push(rel.to_path_buf());
                    }
                }
            }
            Err(err) => {
                let path = err
                    .path()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| dir.to_path_buf());
                let rel = path
                    .strip_prefix(dir)
                    .map(Path::to_path_buf)
                    .unwrap_or(path.clone());
                let source = err
                    .into_io_error()
                    .unwrap_or_else(|| std::io::Error::other("filesystem loop (symbolic link)"));
                problems.push(WalkProblem {
                    rel,
                    error: Error::Io { path, source },
                });
            }
        }
    }
    files.sort();
    problems.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok((files, problems))
}

/// The message of an error without the leading `<path>: ` (the path is in its own column).
fn message_without_path(e: &dyn std::fmt::Display, path: &Path) -> String {
    let m = e.to_string();
    let prefix = format!("{}: ", path.display());
    m.strip_prefix(&prefix).map_or(m.clone(), str::to_string)
}

fn file_error(e: &Error, path: &Path) -> FileError {
    FileError {
        message: message_without_path(e, path),
        exit_code: e.exit_code(),
    }
}

/// Analyse one file and write its outputs.
fn process(
    rel: &Path,
    opts: &BatchOptions,
    criteria: &Criteria,
    analyse: &AnalyseFn<'_>,
    json: &JsonWriter,
) -> Outcome {
    let path = opts.dir.join(rel);
    let rel_s = rel_string(rel);
    let mut out = Outcome {
        rel: rel_s.clone(),
        path: path.clone(),
        sha256: None,
        analysis: None,
        error: None,
        skipped: None,
    };
    match report::sha256_file(&path) {
        Ok(s) => out.sha256 = Some(s),
        Err(e) => {
            out.error = Some(file_error(&e, &path));
            return out;
        }
    }
    if let Some(why) = not_a_recording(&path) {
        out.skipped = Some(why);
        return out;
    }
    let (analysis, traces) = match analyse(&path, opts.report) {
        Ok(x) => x,
        Err(e) => {
            out.error = Some(file_error(&e, &path));
            return out;
        }
    };
    let json_path = opts.out.join("json").join(format!("{rel_s}.json"));
    let inside = OutDir::check_inside(&opts.out, &json_path).and_then(|()| {
        if opts.report {
            OutDir::check_folder_inside(&opts.out, &opts.out.join("reports").join(rel))
        } else {
            Ok(())
        }
    });
    if let Err(e) = inside {
        out.error = Some(write_error(&e));
    } else if let Err(e) = json.write(&rel_s, json_path, output::json::render_one(&analysis)) {
        out.error = Some(write_error(&e));
    } else if opts.report {
        let report_path = opts.out.join("reports").join(rel);
        let dir = report_path
            .parent()
            .map_or(opts.out.join("reports"), Path::to_path_buf);
        let stem = rel
            .file_name()
            .map_or_else(|| rel_s.clone(), |n| n.to_string_lossy().into_owned());
        if let Err(e) = report::write_for_file(
            report::ReportFile {
                path: &path,
                sha256: out.sha256.as_deref(),
            },
            &analysis,
            &traces,
            criteria,
            &dir,
            &stem,
            report::ReportOptions {
                paper: report::Paper::A4,
                plots: opts.plots,
            },
        ) {
            out.error = Some(FileError {
                message: message_without_path(&e, &path),
                exit_code: e.exit_code(),
            });
        }
    }
    out.analysis = Some(analysis);
    out
}

/// How much of a `.txt` file [`not_a_recording`] reads: as far as a CSV
/// table may start (`io::csv`'s header-block limit).
const NOTE_SNIFF_BYTES: u64 = 4 << 20;

/// Why a `.txt` file in the folder is no recording (a note, a log): its
/// first 4 MiB hold no line of numbers only, as every table of samples
/// has (one column, quoted or not). `.csv` and `.tsv` files are tables by name and are always
/// read (a broken one is an error).
fn not_a_recording(path: &Path) -> Option<String> {
    let txt = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("txt"));
    if !txt {
        return None;
    }
    let mut head = Vec::new();
    let f = crate::io::open_input(path).ok()?;
    std::io::Read::read_to_end(&mut std::io::Read::take(f, NOTE_SNIFF_BYTES), &mut head).ok()?;
    let text = String::from_utf8_lossy(&head);
    // A line of numbers only (one column is a table too; quotes allowed).
    let numbers_line = text.lines().any(|l| {
        let fields: Vec<&str> = l
            .split(|c: char| c == ',' || c == ';' || c == '\t' || c.is_whitespace())
            .map(|f| f.trim().trim_matches('"'))
            .filter(|f| !f.is_empty())
            .collect();
        !fields.is_empty() && fields.iter().all(|f| f.parse::<f64>().is_ok())
    });
    (!numbers_line).then(|| {
        "skipped: a .txt file with no line of numbers in its first 4 MiB (a note, not a recording)"
            .to_string()
    })
}

/// An outcome's error for a failed write.
fn write_error(e: &Error) -> FileError {
    FileError {
        message: e.to_string(),
        exit_code: e.exit_code(),
    }
}

/// `path`'s folder, then `path` itself, written atomically.
fn write_json(path: &Path, text: &str) -> Result<()> {
    path.parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .map_err(|e| Error::Write {
            path: path.to_path_buf(),
            source: e,
        })?;
    write_atomic(path, text.as_bytes())
}

/// Where the workers' JSON files go: written on the spot, or handed to a
/// writer thread. A write is atomic only once it is on disk (`fsync`), and
/// a worker waiting for the disk is a core standing idle; two workers'
/// `fsync`s even queue behind each other. The writer thread takes that wait,
/// flushing the files queued meanwhile together (one flush for a group, not
/// one per file), and reports the writes that failed when it is done.
enum JsonWriter {
    /// Write in the calling thread (with reports, or when no writer thread
    /// could be started).
    Here,
    /// Queue `(rel, path, text)` for the writer thread.
    Queued(SyncSender<(String, PathBuf, String)>),
}

impl JsonWriter {
    /// Write `text` to `path` for the file `rel`. An error here is the
    /// write's own (written on the spot) or a writer that is gone.
    fn write(&self, rel: &str, path: PathBuf, text: String) -> Result<()> {
        match self {
            JsonWriter::Here => write_json(&path, &text),
            JsonWriter::Queued(tx) => {
                tx.send((rel.to_string(), path.clone(), text))
                    .map_err(|_| Error::Write {
                        path,
                        source: std::io::Error::other("the writer thread has stopped"),
                    })
            }
        }
    }
}

/// The most files the writer thread flushes to disk together.
const WRITE_GROUP: usize = 128;

/// The writer thread's loop: the files queued so far (at most
/// [`WRITE_GROUP`]) written together, made durable with one flush and
/// renamed into place (see [`write_atomic_group`]), then the next ones; the
/// failures, by `rel`.
fn write_queued(rx: Receiver<(String, PathBuf, String)>) -> Vec<(String, Error)> {
    let mut failed = Vec::new();
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < WRITE_GROUP {
            match rx.try_recv() {
                Ok(item) => group.push(item),
                Err(_) => break,
            }
        }
        let mut rels = Vec::with_capacity(group.len());
        let mut items = Vec::with_capacity(group.len());
        for (rel, path, text) in group {
            let made = path.parent().map_or(Ok(()), std::fs::create_dir_all);
            match made {
                Ok(()) => {
                    rels.push(rel);
                    items.push((path, text.into_bytes()));
                }
                Err(e) => failed.push((rel, Error::Write { path, source: e })),
            }
        }
        for (rel, r) in rels.into_iter().zip(write_atomic_group(&items)) {
            if let Err(e) = r {
                failed.push((rel, e));
            }
        }
    }
    failed
}

fn progress_bar(n: usize, show: bool) -> ProgressBar {
    let target = if show {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let pb = ProgressBar::with_draw_target(Some(n as u64), target);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} recordings {wide_msg}",
    ) {
        pb.set_style(style);
    }
    pb
}

/// Analyse every supported file under `opts.dir` and write the outputs into
/// `opts.out`: `json/<path>.json`, with
/// `opts.report` `reports/<path>.html` and `reports/<path>/` (plots), then
/// `summary.csv`, `responses.csv`, `trains.csv`, `flags.csv` and `findings.csv`. `<path>` is the file's path relative to
/// `opts.dir`, extension included.
///
/// Errors are only those that stop the whole run, before any output: `opts.dir`
/// cannot be read (exit 3) or is the output folder, the output folder exists
/// and is not empty without `opts.force`, another run holds it, or a link
/// stands for its `json/` or `reports/` (usage errors, exit 2). A file's
/// failure is in its outcome; a table that cannot be written is in
/// [`BatchSummary::table_errors`] (exit 1).
pub fn run(
    opts: &BatchOptions,
    criteria: &Criteria,
    analyse: &AnalyseFn<'_>,
) -> Result<BatchSummary> {
    // Walk first: a bad input folder must not leave an output folder behind.
    let (files, problems) = find_inputs(&opts.dir, Some(&opts.out))?;
    let (files, problems, manifest) = match opts.shard {
        Some(sh) => shard_of(opts, sh, criteria, files, problems),
        None => (files, problems, None),
    };
    if let (Ok(a), Ok(b)) = (opts.dir.canonicalize(), opts.out.canonicalize()) {
        if a == b {
            return Err(Error::Usage(format!(
                "{}: the output folder must not be the input folder",
                opts.out.display()
            )));
        }
    }
    // Held (locked) until the tables are written.
    let held = report::prepare_out_dir(&opts.out, opts.force)?;
    for sub in ["json", "reports"] {
        let d = opts.out.join(sub);
        OutDir::check_folder_inside(&opts.out, &d)?;
        if opts.force {
            held.clean(&d, true);
        }
    }
    if opts.force && !opts.report {
        // An earlier run's index would describe other tables.
        let _ = std::fs::remove_file(opts.out.join(INDEX));
    }
    let pb = progress_bar(files.len(), opts.progress);
    // Largest files first, so that the last ones to finish are small and the
    // threads end together (the outcomes are put back in input order below).
    let mut by_size: Vec<(u64, &PathBuf)> = files
        .iter()
        .map(|rel| {
            let len = std::fs::metadata(opts.dir.join(rel)).map_or(0, |m| m.len());
            (len, rel)
        })
        .collect();
    by_size.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    // Each of the `jobs` workers takes the next file off the size-ordered
    // list (largest first, so that the last files to finish are small and
    // the workers end together); a split of the list into fixed halves, as
    // `par_iter` makes, can leave one worker idle while the other analyses
    // the long recordings. Outcomes go back into input order below.
    let jobs = opts.jobs.max(1);
    // Shards always write CSV (`rns merge` reads it).
    let writes_csv = opts.tables.csv() || opts.shard.is_some();
    let (mut done, failed_writes) = std::thread::scope(|scope| {
        // With reports, each JSON is written before its report, in the
        // worker, as a report is only written once its JSON is on disk.
        // Room for a group of files while the previous one is flushed.
        let (tx, rx) = sync_channel(WRITE_GROUP);
        let writer = (!opts.report).then(|| {
            std::thread::Builder::new()
                .name("rns-batch-writer".into())
                .spawn_scoped(scope, move || write_queued(rx))
        });
        let json = match writer {
            Some(Ok(_)) => JsonWriter::Queued(tx),
            _ => JsonWriter::Here,
        };
        let next = AtomicUsize::new(0);
        // A worker also renders the file's rows of responses.csv, so that
        // only joining them is left for the end, on one thread.
        let take = || -> Vec<(Outcome, String)> {
            let mut mine = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(_, rel)) = by_size.get(i) else {
                    return mine;
                };
                let o = process(rel, opts, criteria, analyse, &json);
                // A file name must not reach the terminal raw.
                pb.set_message(crate::error::terminal_safe(&o.rel).into_owned());
                pb.inc(1);
                let rows = if writes_csv {
                    response_rows(&o)
                } else {
                    String::new()
                };
                mine.push((o, rows));
            }
        };
        let work = || -> Vec<(Outcome, String)> {
            let done = Mutex::new(Vec::with_capacity(by_size.len()));
            rayon::scope(|s| {
                for _ in 0..jobs {
                    s.spawn(|_| {
                        let mine = take();
                        // The lock is only held to append (a worker's panic
                        // would leave the scope anyway), so poisoning cannot
                        // lose outcomes.
                        done.lock().unwrap_or_else(|e| e.into_inner()).extend(mine);
                    });
                }
            });
            done.into_inner().unwrap_or_else(|e| e.into_inner())
        };
        // When threads cannot be started, the pool is the calling thread
        // alone (see `parallel`); the outputs are the same either way.
        let done = crate::parallel::install(Some(jobs), work);
        // Closing the queue ends the writer's loop.
        drop(json);
        // `None`: the writer stopped without saying which writes failed.
        let failed = match writer {
            Some(Ok(w)) => w.join().ok(),
            _ => Some(Vec::new()),
        };
        (done, failed)
    });
    pb.finish_and_clear();
    // A failed write is the file's error.
    // When the writer stopped without saying, every JSON it was given is
    // in doubt (one left by an earlier run may stand in its place).
    let failed_writes_unknown = failed_writes.is_none();
    let failed: HashMap<String, Error> = failed_writes.unwrap_or_default().into_iter().collect();
    for (o, _) in &mut done {
        if let Some(e) = failed.get(&o.rel) {
            o.error = Some(write_error(e));
        } else if failed_writes_unknown && o.analysis.is_some() && o.error.is_none() {
            let json_path = opts.out.join("json").join(format!("{}.json", o.rel));
            o.error = Some(FileError {
                message: format!(
                    "{}: the JSON may not have been written (the writer thread stopped)",
                    json_path.display()
                ),
                exit_code: 1,
            });
        }
    }
    for p in problems {
        let path = opts.dir.join(&p.rel);
        let o = Outcome {
            rel: rel_string(&p.rel),
            path: path.clone(),
            sha256: None,
            analysis: None,
            error: Some(file_error(&p.error, &path)),
            skipped: None,
        };
        done.push((o, String::new()));
    }
    done.sort_by(|a, b| a.0.rel.cmp(&b.0.rel));
    let (outcomes, rows): (Vec<Outcome>, Vec<String>) = done.into_iter().unzip();
    // Both tables are tried, and a failure is kept beside the outcomes
    // (whose own write failures a full disk also causes), not in their place.
    let summary = summary_table(&outcomes, &criteria.sha256());
    let mut table_errors = Vec::new();
    if writes_csv {
        let texts = [
            summary.to_csv(),
            join_responses(&rows),
            trains_csv(&outcomes),
            flags_csv(&outcomes),
            findings_csv(&outcomes),
        ];
        for (text, name) in texts.iter().zip(TABLES) {
            if let Err(e) = write_atomic(&opts.out.join(name), text.as_bytes()) {
                table_errors.push(write_error(&e));
            }
        }
    }
    if opts.tables.parquet() && opts.shard.is_none() {
        let tables = [
            summary.clone(),
            responses_table(&outcomes),
            trains_table(&outcomes),
            flags_table(&outcomes),
            findings_table(&outcomes),
        ];
        for (t, name) in tables.iter().zip(PARQUET_TABLES) {
            if let Err(e) = write_parquet(&opts.out.join(name), t) {
                table_errors.push(write_error(&e));
            }
        }
    }
    if opts.report {
        if let Err(e) = write_index(&opts.out, &opts.dir, &summary) {
            table_errors.push(write_error(&e));
        }
    }
    if let Some(m) = manifest {
        if let Err(e) = m.write(&opts.out) {
            table_errors.push(write_error(&e));
        }
    }
    let exit_code = outcomes
        .iter()
        .map(Outcome::exit_code)
        .chain(table_errors.iter().map(|e| e.exit_code))
        .max()
        .unwrap_or(0);
    Ok(BatchSummary {
        outcomes,
        table_errors,
        exit_code,
    })
}

/// Write `table` as the Parquet file `path` (atomically).
pub fn write_parquet(path: &Path, table: &Table) -> Result<()> {
    let bytes = output::parquet::to_parquet(table).map_err(|e| Error::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    })?;
    write_atomic(path, &bytes)
}

/// The page listing every recording of a batch with reports.
pub const INDEX: &str = "index.html";

/// Write `out/index.html` from the batch's summary table (see
/// [`report::index`]), titled with the analysed folder's name.
pub fn write_index(out: &Path, dir: &Path, summary: &crate::output::table::Table) -> Result<()> {
    // "." has no name; the folder it stands for has.
    let named = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let title = named.file_name().map_or_else(
        || dir.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let page = report::index::render(&title, &report::index::rows(summary));
    write_atomic(&out.join(INDEX), page.as_bytes())
}

/// The inputs of shard `sh` (the walk's problems go to shard 1), and its
/// manifest.
fn shard_of(
    opts: &BatchOptions,
    sh: shard::Shard,
    criteria: &Criteria,
    files: Vec<PathBuf>,
    problems: Vec<WalkProblem>,
) -> (Vec<PathBuf>, Vec<WalkProblem>, Option<shard::Manifest>) {
    let sized: Vec<(String, u64)> = files
        .iter()
        .map(|rel| {
            let len = std::fs::metadata(opts.dir.join(rel)).map_or(0, |m| m.len());
            (rel_string(rel), len)
        })
        .collect();
    let mut all: Vec<(String, u64)> = sized.clone();
    all.extend(problems.iter().map(|p| (rel_string(&p.rel), 0)));
    all.sort();
    let sizes: Vec<u64> = sized.iter().map(|s| s.1).collect();
    let which = shard::assign(&sizes, sh.n);
    let mine: Vec<PathBuf> = files
        .into_iter()
        .zip(&which)
        .filter(|(_, &w)| w + 1 == sh.k)
        .map(|(f, _)| f)
        .collect();
    let problems = if sh.k == 1 { problems } else { Vec::new() };
    let mut listed: Vec<String> = mine.iter().map(|p| rel_string(p)).collect();
    listed.extend(problems.iter().map(|p| rel_string(&p.rel)));
    listed.sort();
    let manifest = shard::Manifest {
        shard: sh.k,
        shards: sh.n,
        input_dir: opts.dir.display().to_string(),
        total_files: all.len(),
        inputs_sha256: shard::inputs_sha256(&all),
        files: listed,
        criteria_sha256: criteria.sha256(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        tables: opts.tables.name().to_string(),
        report: opts.report,
    };
    (mine, problems, Some(manifest))
}

/// `responses.csv`: the response rows of every analysed file, with the path
/// relative to the walked folder, then the file's hash.
pub fn responses_csv(outcomes: &[Outcome]) -> String {
    let rows: Vec<String> = outcomes.iter().map(response_rows).collect();
    join_responses(&rows)
}

/// One outcome's rows of `responses.csv` (none for a failure).
fn response_rows(o: &Outcome) -> String {
    response_table(o).rows_csv()
}

/// `responses.csv` from each outcome's rows, in order.
fn join_responses(rows: &[String]) -> String {
    let mut out = Table::new(&batch_response_columns()).header_csv();
    out.reserve(rows.iter().map(String::len).sum());
    for r in rows {
        out.push_str(r);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// responses.csv is joined from rows each worker rendered on its own;
    /// it must be the one table `output::csv::render` makes of the analyses
    /// (paths relative, failures without rows, quoting intact), each row
    /// with the file's hash appended.
    #[test]
    fn joined_response_rows_are_the_one_table() {
        use crate::sim::synth::{generate, SynthSpec, TrainSpec};
        let spec = SynthSpec::simple(
            10_000.0,
            vec![TrainSpec::from_gains(0.5, 3.0, &[1.0, 0.9, 0.8])],
        );
        let rec = generate(&spec).to_recording().unwrap();
        let a = crate::analysis::analyze(&rec, &crate::settings::config::AnalysisConfig::default())
            .unwrap();
        assert!(a.trains.iter().map(|t| t.responses.len()).sum::<usize>() >= 3);
        let ok = |rel: &str| Outcome {
            rel: rel.into(),
            path: PathBuf::from("d").join(rel),
            sha256: Some(format!("{:064}", rel.len())),
            analysis: Some(a.clone()),
            error: None,
            skipped: None,
        };
        let failed = Outcome {
            analysis: None,
            error: Some(FileError {
                message: "broken".into(),
                exit_code: 3,
            }),
            ..ok("c.wav")
        };
        let outcomes = [ok("a.wav"), failed, ok("b, \"quoted\".wav")];
        let relabelled: Vec<Analysis> = outcomes
            .iter()
            .filter_map(|o| {
                let mut a = o.analysis.clone()?;
                a.source.path = o.rel.clone();
                Some(a)
            })
            .collect();
        let refs: Vec<&Analysis> = relabelled.iter().collect();
        let table = output::csv::render(&refs);
        let with_hash: String = table
            .lines()
            .map(|l| {
                let sha = if l.starts_with("path,") {
                    "sha256".to_string()
                } else if l.starts_with("a.wav") {
                    format!("{:064}", 5)
                } else {
                    format!("{:064}", "b, \"quoted\".wav".len())
                };
                format!("{l},{sha}\n")
            })
            .collect();
        assert_eq!(responses_csv(&outcomes), with_hash);
        assert_eq!(responses_table(&outcomes).to_csv(), with_hash);
        assert!(table.contains("\"b, \"\"quoted\"\".wav\""), "{table}");
    }

    #[test]
    fn walk_picks_supported_files_sorted_and_skips_hidden_and_output() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        std::fs::create_dir_all(root.join("b/sub")).unwrap();
        std::fs::create_dir_all(root.join(".hidden")).unwrap();
        std::fs::create_dir_all(root.join("out")).unwrap();
        for f in [
            "z.wav",
            "a.CSV",
            "b/sub/x.edf",
            "b/notes.md",
            "b/x.wav.rns.toml",
            ".hidden/h.wav",
            ".dot.wav",
            "out/summary.csv",
        ] {
            std::fs::write(root.join(f), b"x").unwrap();
        }
        let (files, problems) = find_inputs(root, Some(&root.join("out"))).unwrap();
        assert!(problems.is_empty());
        let got: Vec<String> = files.iter().map(|p| rel_string(p)).collect();
        assert_eq!(got, vec!["a.CSV", "b/sub/x.edf", "z.wav"]);
    }

    #[test]
    fn missing_folder_is_an_io_error() {
        let e = find_inputs(Path::new("/no/such/folder"), None)
            .err()
            .unwrap();
        assert_eq!(e.exit_code(), 3);
    }

    #[test]
    fn error_rows_carry_the_message_and_code() {
        let o = Outcome {
            rel: "x.wav".into(),
            path: PathBuf::from("d/x.wav"),
            sha256: None,
            analysis: None,
            error: Some(FileError {
                message: "malformed, \"quoted\"".into(),
                exit_code: 3,
            }),
            skipped: None,
        };
        let csv = summary_csv(&[o], &Criteria::default().sha256());
        let mut lines = csv.lines();
        assert_eq!(lines.next().unwrap(), SUMMARY_HEADER.join(","));
        assert!(lines
            .next()
            .unwrap()
            .starts_with("x.wav,error,3,\"malformed, \"\"quoted\"\"\","));
    }
}
