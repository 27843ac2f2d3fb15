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
fn csv_lines_regressions() {
    replay(&regressions("csv_lines"), harness::csv_lines);
}

#[test]
fn csv_long_regressions() {
    replay(&regressions("csv_long"), harness::csv_long);
}

/// `0xFF r n fragment`: the fragment repeated 16·(r+1)² times by the
/// `csv_lines` target.
fn run(r: u8, fragment: &[u8]) -> Vec<u8> {
    let mut v = vec![0xFF, r, fragment.len() as u8];
    v.extend_from_slice(fragment);
    v
}

#[test]
fn csv_lines_on_long_lines_and_cells() {
    let rows: Vec<u8> = (0..50)
        .flat_map(|i| format!("{:.4},0.5\n", f64::from(i) / 1e4).into_bytes())
        .collect();
    let cases: Vec<Vec<u8>> = vec![
        // A header line of 6 MiB (the expansion's cap).
        [
            &b"time_s,emg_"[..],
            &run(255, b"aaaaaaaaaaaaaaaa"),
            b"\n",
            &rows,
        ]
        .concat(),
        // A 1 MiB cell in a row, and one just under the line limit.
        [
            &b"time_s,emg_mV\n"[..],
            &rows,
            b"0.0050,",
            &run(63, b"1234567890123456"),
            b"\n",
        ]
        .concat(),
        [
            &b"time_s,emg_mV\n"[..],
            &rows,
            b"0.0050,",
            &run(50, b"1"),
            b"\n",
        ]
        .concat(),
        // A quoted cell of short lines, past the line limit.
        [
            &b"time_s,emg_mV\n"[..],
            &rows,
            b"0.0050,\"",
            &run(100, b"12345\n"),
            b"\"\n",
        ]
        .concat(),
        // 5 MiB of comments before the header; blank lines between rows.
        [&run(150, b"# comment\n")[..], b"time_s,emg_mV\n", &rows].concat(),
        [
            &b"time_s,emg_mV\n"[..],
            &rows,
            &run(255, b"\n\n\n\n"),
            &rows,
        ]
        .concat(),
        // A run of delimiters (a million empty cells).
        [&b"time_s,emg_mV\n"[..], &run(255, b",,,,")].concat(),
    ];
    for (k, case) in cases.iter().enumerate() {
        let start = Instant::now();
        harness::csv_lines(case);
        let took = start.elapsed();
        assert!(took < TIME_BOUND, "case {k}: took {took:?}");
    }
    // The corpus and the long-table generator's seeds of every layout flag.
    let dir = root().join("tests/malformed");
    replay(&files(&dir, |n| n.ends_with(".csv")), harness::csv_lines);
    for flags in 0..=255u8 {
        let names = flags.wrapping_mul(37);
        harness::csv_long(&[flags, names, 3, 20, 2, 3, 10, 20, 30, 140, 200]);
        // With each way of breaking a row, at the fourth row.
        for breaker in 240..=255u8 {
            harness::csv_long(&[flags, names, 3, 20, 2, 3, 10, 20, 30, breaker]);
        }
    }
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

#[test]
fn spike2_regressions() {
    replay(&regressions("spike2"), harness::spike2);
    let fixtures = root().join("tests/fixtures/spike2");
    replay(&files(&fixtures, |n| n.ends_with(".smr")), harness::spike2);
}

#[test]
fn abf_regressions() {
    replay(&regressions("abf"), harness::abf);
    let fixtures = root().join("tests/fixtures/abf");
    replay(&files(&fixtures, |n| n.ends_with(".abf")), harness::abf);
}

#[test]
fn brainvision_regressions_and_fixtures() {
    replay(&regressions("brainvision"), harness::brainvision);
    // Every header of the fixtures and the corpus with its own marker and
    // data files (when they exist), packed as the target takes them.
    let read = |p: &Path| std::fs::read(p).ok();
    for d in ["tests/fixtures/brainvision", "tests/malformed"] {
        for vhdr in files(&root().join(d), |n| n.ends_with(".vhdr")) {
            let header = std::fs::read(&vhdr).unwrap();
            let markers = read(&vhdr.with_extension("vmrk"));
            let eeg = read(&vhdr.with_extension("eeg")).unwrap_or_default();
            let packed = harness::pack_brainvision(&header, markers.as_deref(), &eeg);
            let start = Instant::now();
            harness::brainvision(&packed);
            assert!(start.elapsed() < TIME_BOUND, "{}", vhdr.display());
            // Cut short inside the data.
            harness::brainvision(&packed[..packed.len() - eeg.len() / 3]);
        }
    }
}

#[test]
fn cfs_regressions() {
    replay(&regressions("cfs"), harness::cfs);
    let fixtures = root().join("tests/fixtures/cfs");
    replay(&files(&fixtures, |n| n.ends_with(".cfs")), harness::cfs);
}

#[test]
fn text_regressions() {
    replay(&regressions("text"), harness::text);
    let fixtures = root().join("tests/fixtures/text");
    let exports = |n: &str| n.ends_with(".txt") || n.ends_with(".asc");
    replay(&files(&fixtures, exports), harness::text);
    replay(
        &files(&root().join("tests/malformed"), |n| n.starts_with("text_")),
        harness::text,
    );
}

#[test]
fn mat_regressions() {
    replay(&regressions("mat"), harness::mat);
    let fixtures = root().join("tests/fixtures/mat");
    replay(&files(&fixtures, |n| n.ends_with(".mat")), harness::mat);
}

#[test]
fn adicht_regressions() {
    replay(&regressions("adicht"), harness::adicht);
    let fixtures = root().join("tests/fixtures/adicht");
    replay(
        &files(&fixtures, |n| n.ends_with(".adicht")),
        harness::adicht,
    );
}
