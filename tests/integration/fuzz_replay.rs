//! Replays the inputs the fuzzers found (`tests/fuzz_regressions/<target>/`)
//! and the malformed corpus through the fuzz targets' own code
//! (`fuzz/src/lib.rs`, included here as a module): no panic, no failed check,
//! and each input within a time bound. Fuzzing itself is not part of the
//! tests; see `fuzz/README.md`.

#[path = "../../fuzz/src/lib.rs"]
mod harness;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Longest one input may take (the analysis of a fuzz input takes
/// milliseconds; this catches a hang, not a slow machine).
const TIME_BOUND: Duration = Duration::from_secs(20);

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// The files of `dir` whose name passes `keep`, sorted.
fn files(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .filter(|p| keep(&p.file_name().unwrap().to_string_lossy()))
        .collect();
    v.sort();
    v
}

/// Run `target` on each file, naming the file when it panics or runs long.
fn replay(paths: &[PathBuf], target: fn(&[u8])) {
    for p in paths {
        let bytes = std::fs::read(p).unwrap();
        let start = Instant::now();
        if let Err(e) = std::panic::catch_unwind(|| target(&bytes)) {
            let why = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("{}: {why}", p.display());
        }
        let took = start.elapsed();
        assert!(took < TIME_BOUND, "{}: took {took:?}", p.display());
    }
}

/// The regression inputs of one target (the folder may hold only a
/// `.gitkeep`).
fn regressions(target: &str) -> Vec<PathBuf> {
    files(&root().join("tests/fuzz_regressions").join(target), |n| {
        !n.starts_with('.')
    })
}

#[test]
fn wav_regressions() {
    replay(&regressions("wav"), harness::wav);
}

#[test]
fn csv_regressions() {
    replay(&regressions("csv"), harness::csv);
}

#[test]
fn edf_regressions() {
    replay(&regressions("edf"), harness::edf);
}

#[test]
fn analyze_regressions() {
    replay(&regressions("analyze"), harness::analyze);
}

#[test]
fn malformed_corpus_through_the_reader_targets() {
    let dir = root().join("tests/malformed");
    let ext = |e: &'static str| move |n: &str| n.ends_with(e);
    replay(&files(&dir, ext(".wav")), harness::wav);
    replay(&files(&dir, ext(".csv")), harness::csv);
    replay(&files(&dir, ext(".edf")), harness::edf);
    let fixtures = root().join("tests/fixtures/edf");
    replay(
        &files(&fixtures, |n| n.ends_with(".edf") || n.ends_with(".bdf")),
        harness::edf,
    );
}
