//! Vendor text exports (Synergy, ASCII sweeps) against what their writer wrote.
//!
//! The fixtures in `tests/fixtures/text/` come from `scripts/make-text-fixtures.py`,
//! which writes the sweeps of `samples/mg_sweeps.csv` as a UTF-16 decimal-comma
//! Synergy export, an ANSI Synergy export and an ASCII sweeps table, and a
//! `<file>.meta.json` beside each with NumPy's figures (rate, pre-stimulus
//! samples, sweeps, samples). Each must read to those figures and analyse to the
//! responses of the CSV it came from.

use crate::util::{fixtures, meta_of, rns, rns_json};
use rns_analyzer::io::{read_recording, ReadOptions};
use serde_json::Value;
use std::path::{Path, PathBuf};

const FIXTURES: [&str; 3] = [
    "mg_synergy_utf16.txt",
    "mg_synergy_ansi.txt",
    "mg_sweeps.asc",
];

fn fixture(name: &str) -> PathBuf {
    fixtures("text").join(name)
}

fn meta(name: &str) -> Value {
    meta_of(&fixture(name))
}

fn json(args: &[&str], file: &Path) -> Value {
    rns_json(args, file)
}

#[test]
fn text_exports_read_to_what_was_written() {
    for name in FIXTURES {
        let m = meta(name);
        let rec = read_recording(&fixture(name), &ReadOptions::default()).unwrap();
        assert_eq!(
            rec.sample_rate.hz(),
            m["sample_rate_hz"].as_f64().unwrap(),
            "{name}"
        );
        let (k, l) = (
            m["sweeps"].as_u64().unwrap() as usize,
            m["sweep_len"].as_u64().unwrap() as usize,
        );
        assert_eq!(rec.segments.len(), k, "{name}");
        assert!(rec.segments.iter().all(|s| s.len == l), "{name}");
        let i0 = m["pre_stimulus_samples"].as_u64().unwrap() as usize;
        let want: Vec<usize> = (0..k).map(|s| s * l + i0).collect();
        assert_eq!(rec.stimuli.as_ref().unwrap().samples, want, "{name}");
        let x = &rec.channels[0].samples;
        let y = m["samples_mv"].as_array().unwrap();
        assert_eq!(x.len(), y.len(), "{name}");
        for (i, (a, b)) in x.iter().zip(y).enumerate() {
            let b = b.as_f64().unwrap();
            assert!(
                (f64::from(*a) - b).abs() <= 1e-6 + 1e-6 * b.abs(),
                "{name} sample {i}: {a} vs {b}"
            );
        }
        let insp = json(&["inspect", "--format", "json"], &fixture(name));
        let want = if name.ends_with(".asc") {
            "ascii_sweeps"
        } else {
            "synergy_text"
        };
        assert_eq!(insp["format"], want, "{name}");
    }
}

#[test]
fn text_exports_analyse_as_the_csv_they_came_from() {
    let csv_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/mg_sweeps.csv");
    let csv = json(&["analyze", "--format", "json"], &csv_path);
    for name in FIXTURES {
        let a = json(&["analyze", "--format", "json"], &fixture(name));
        assert_eq!(
            a["classification"]["pattern"], csv["classification"]["pattern"],
            "{name}"
        );
        let (ta, tc) = (
            a["trains"].as_array().unwrap(),
            csv["trains"].as_array().unwrap(),
        );
        assert_eq!(ta.len(), tc.len(), "{name}");
        for (x, y) in ta.iter().zip(tc) {
            let (ra, rc) = (
                x["responses"].as_array().unwrap(),
                y["responses"].as_array().unwrap(),
            );
            assert_eq!(ra.len(), rc.len(), "{name}");
            for (p, q) in ra.iter().zip(rc) {
                assert_eq!(p["amplitude_mv"], q["amplitude_mv"], "{name}");
                assert_eq!(p["area_mvms"], q["area_mvms"], "{name}");
            }
            assert_eq!(x["decrement_pct"], y["decrement_pct"], "{name}");
        }
    }
}

#[test]
fn synergy_study_fields_reach_the_json() {
    let a = json(
        &["analyze", "--format", "json"],
        &fixture("mg_synergy_ansi.txt"),
    );
    assert_eq!(a["study"]["patient_id"], "SYN-0001");
    assert_eq!(a["study"]["study_date"], "2026-12-03");
    assert_eq!(a["source"]["format"], "synergy_text");
}

#[test]
fn a_cut_synergy_export_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(fixture("mg_synergy_ansi.txt")).unwrap();
    let cut = dir.path().join("cut.txt");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let out = rns().arg("analyze").arg(&cut).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cut.txt") && err.contains("declares 400 samples but holds"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}
