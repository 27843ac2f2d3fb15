//! CED Signal (CFS) input, against an independent reader.
//!
//! `tests/fixtures/cfs/` holds a real file written by CED's CFS library
//! (`simplew.cfs`, MIT-licensed, see `LICENSE-pythonCFS.txt`) and the
//! project's session packed frame by frame by `scripts/make-cfs-fixtures.py`.
//! Each has a `<file>.meta.json` from BioSig's reader, which `rns inspect`
//! and the decoded samples must agree with. The session's frames hold the
//! EDF fixtures' session signal around each stimulus, so their analysis must
//! match the WAV twin's (`tests/fixtures/edf/session.wav`).

use crate::util::{check_hostile_fixtures, fixtures, meta_of, num, rns, rns_json};
use rns_analyzer::io::{describe_recording, ReadOptions};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    fixtures("cfs")
}

fn fixture(name: &str) -> PathBuf {
    dir().join(name)
}

fn meta(name: &str) -> Value {
    meta_of(&fixture(name))
}

fn json(args: &[&str], file: &Path) -> Value {
    rns_json(args, file)
}

fn f(v: &Value) -> f64 {
    num(v)
}

fn trains(a: &Value) -> &Vec<Value> {
    a["trains"].as_array().unwrap()
}

const READABLE: [&str; 2] = ["session_sweeps.cfs", "simplew.cfs"];

#[test]
fn inspect_agrees_with_biosig() {
    for name in READABLE {
        let m = meta(name);
        let v = json(&["inspect", "--format", "json"], &fixture(name));
        assert_eq!(v["format"], "cfs", "{name}");
        let got = v["channels"].as_array().unwrap();
        let want = m["channels"].as_array().unwrap();
        assert_eq!(got.len(), want.len(), "{name}: channel count");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert_eq!(g["label"], w["label"], "{name}: label {i}");
            assert_eq!(g["unit"], w["unit"], "{name}: unit {i}");
            assert_eq!(g["samples"], m["samples"], "{name}: samples {i}");
            // BioSig keeps the rate as the reciprocal of a float32 step.
            let (gr, wr) = (f(&g["sample_rate_hz"]), f(&w["sample_rate_hz"]));
            assert!(
                (gr - wr).abs() <= 1e-6 * wr,
                "{name}: rate {i} {gr} vs {wr}"
            );
        }
        // One segment per frame; BioSig reports the boundaries after the first.
        let segments = v["segments"].as_array().unwrap();
        assert_eq!(
            segments.len() as u64,
            m["sweeps"].as_u64().unwrap(),
            "{name}"
        );
        let starts: Vec<f64> = segments.iter().skip(1).map(|s| f(&s["start_s"])).collect();
        let want: Vec<f64> = m["segment_starts_s"]
            .as_array()
            .unwrap()
            .iter()
            .map(f)
            .collect();
        assert_eq!(starts.len(), want.len(), "{name}");
        for (g, w) in starts.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-6, "{name}: segment start {g} vs {w}");
        }
    }
}

#[test]
fn decoded_samples_agree_with_biosig() {
    for name in READABLE {
        let m = meta(name);
        // As `rns inspect` reads: the real file is sampled at 100 Hz.
        let rec = describe_recording(&fixture(name), &ReadOptions::default()).unwrap();
        let units = m["channels"].as_array().unwrap();
        let mut compared = 0;
        for (i, head) in m["samples_head"].as_array().unwrap().iter().enumerate() {
            let ch = &rec.channels[i];
            if !ch.is_loaded() {
                // Only the EMG (and a named trigger) is decoded.
                continue;
            }
            // BioSig's values in the file's unit; the analyzer's in mV for voltages.
            let to_mv = match units[i]["unit"].as_str().unwrap() {
                "V" => 1e3,
                "µV" | "uV" => 1e-3,
                _ => 1.0,
            };
            for (j, want) in head.as_array().unwrap().iter().enumerate() {
                let want = f(want) * to_mv;
                let got = f64::from(ch.samples[j]);
                assert!(
                    (got - want).abs() <= 1e-5 * want.abs().max(1e-3),
                    "{name} channel {i} sample {j}: {got} vs {want}"
                );
                compared += 1;
            }
        }
        assert!(compared >= 32, "{name}: {compared} samples compared");
    }
}

#[test]
fn the_real_file_keeps_its_comment_and_is_refused_for_its_rate() {
    let m = meta("simplew.cfs");
    let v = json(&["inspect", "--format", "json"], &fixture("simplew.cfs"));
    assert_eq!(v["segments"].as_array().unwrap().len(), 3);
    let text = String::from_utf8_lossy(
        &rns()
            .arg("inspect")
            .arg(fixture("simplew.cfs"))
            .output()
            .unwrap()
            .stdout,
    )
    .to_string();
    assert!(text.contains("SIMPLEW"), "{text}");
    assert_eq!(m["expect"]["points"], 256);
    // 100 Hz: read and listed, but no EMG the analysis can use.
    let out = rns()
        .arg("analyze")
        .arg(fixture("simplew.cfs"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("sampled at 100 Hz"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

#[test]
fn the_session_frames_give_the_wav_twins_analysis() {
    let m = meta("session_sweeps.cfs");
    let wav = json(
        &["analyze", "--format", "json"],
        &fixture(m["expect"]["wav_twin"].as_str().unwrap()),
    );
    let cfs = json(
        &["analyze", "--format", "json"],
        &fixture("session_sweeps.cfs"),
    );
    assert_eq!(cfs["source"]["stimulus_source"], "sweeps");
    assert_eq!(cfs["classification"]["pattern"], "mg_like");
    assert_eq!(
        cfs["classification"]["pattern"],
        wav["classification"]["pattern"]
    );
    assert_eq!(trains(&cfs).len(), trains(&wav).len());
    let pre = m["expect"]["pre_trigger_points"].as_u64().unwrap();
    assert_eq!(pre, 50);
    for (k, (tc, tw)) in trains(&cfs).iter().zip(trains(&wav)).enumerate() {
        assert_eq!(tc["role"], tw["role"], "train {k}");
        let (rc, rw) = (
            tc["responses"].as_array().unwrap(),
            tw["responses"].as_array().unwrap(),
        );
        assert_eq!(rc.len(), rw.len(), "train {k}");
        for (a, b) in rc.iter().zip(rw) {
            // The frame's time 0 is the stimulus; in the WAV the artifact
            // onset is found, a sample or so apart: amplitudes agree to 1 %.
            let (x, y) = (f(&a["amplitude_mv"]), f(&b["amplitude_mv"]));
            assert!(((x - y) / y).abs() <= 0.01, "train {k}: {x} vs {y}");
        }
        for key in ["decrement_pct", "area_decrement_pct"] {
            if let (Some(x), Some(y)) = (tc[key].as_f64(), tw[key].as_f64()) {
                assert!((x - y).abs() <= 0.5, "train {k} {key}: {x} vs {y}");
            }
        }
    }
}

#[test]
fn hostile_files_exit_3_with_one_line() {
    let seen = check_hostile_fixtures(&dir(), "cfs", |m| {
        m["expected_error"].as_str().unwrap().to_string()
    });
    assert_eq!(seen, 4);
}
