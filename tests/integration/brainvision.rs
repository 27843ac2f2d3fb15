//! BrainVision input, against files written by an independent writer.
//!
//! The fixtures in `tests/fixtures/brainvision/` come from
//! `scripts/make-brainvision-fixtures.py`: pybv wrote the INT_16 session, the
//! IEEE_FLOAT_32 file and the base of the ANSI one; the script's own packer
//! wrote the INT_32 VECTORIZED file. Each header has a `<file>.meta.json`
//! from MNE-Python's reader, which `rns inspect` and the decoded samples must
//! agree with. The session holds the EDF fixtures' session signal, whose WAV
//! twin (`tests/fixtures/edf/session.wav`) must give the same analysis.

use crate::util::{check_hostile_fixtures, fixtures, meta_of, num, rns, rns_json};
use rns_analyzer::io::{read_recording, ReadOptions};
use rns_analyzer::recording::ChannelKind;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    fixtures("brainvision")
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

fn inspect(file: &Path) -> Value {
    json(&["inspect", "--format", "json"], file)
}

fn analyze(file: &Path) -> Value {
    json(&["analyze", "--format", "json"], file)
}

fn f(v: &Value) -> f64 {
    num(v)
}

fn readable_fixtures() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".vhdr") && !n.starts_with("hostile_"))
        .collect();
    v.sort();
    v
}

/// MNE's annotation as the analyzer writes it: MNE names a marker
/// `Type/Description`; the analyzer keeps the description (the type when
/// the description is empty), and no duration for a one-point marker.
fn mne_annotation(a: &Value, rate: f64) -> (i64, String, Option<i64>) {
    let text = a["text"].as_str().unwrap();
    let (kind, desc) = text.split_once('/').unwrap();
    let text = if desc.trim().is_empty() { kind } else { desc };
    let d = f(&a["duration_s"]);
    let us = |t: f64| (t * 1e6).round() as i64;
    (
        us(f(&a["onset_s"])),
        text.to_string(),
        (d > 1.0 / rate + 1e-12).then(|| us(d)),
    )
}

fn annotation_set(v: &Value) -> Vec<(i64, String, Option<i64>)> {
    let mut out: Vec<_> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                (f(&a["onset_s"]) * 1e6).round() as i64,
                a["text"].as_str().unwrap().to_string(),
                a["duration_s"].as_f64().map(|d| (d * 1e6).round() as i64),
            )
        })
        .collect();
    out.sort();
    out
}

fn trains(a: &Value) -> &Vec<Value> {
    a["trains"].as_array().unwrap()
}

fn stimulus_times(a: &Value) -> Vec<f64> {
    trains(a)
        .iter()
        .flat_map(|t| t["responses"].as_array().unwrap().iter())
        .map(|r| f(&r["stimulus_s"]))
        .collect()
}

#[test]
fn inspect_agrees_with_mne() {
    let names = readable_fixtures();
    assert_eq!(names.len(), 4, "{names:?}");
    for name in names {
        let m = meta(&name);
        let rate = f(&m["sample_rate_hz"]);
        let v = inspect(&fixture(&name));
        assert_eq!(v["format"], "brainvision", "{name}");
        let got = v["channels"].as_array().unwrap();
        let want = m["channels"].as_array().unwrap();
        assert_eq!(got.len(), want.len(), "{name}: channel count");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert_eq!(g["index"], i, "{name}");
            assert_eq!(g["label"], w["label"], "{name}: label {i}");
            assert_eq!(g["unit"], w["unit"], "{name}: unit {i}");
            assert_eq!(g["samples"], w["samples"], "{name}: samples {i}");
            assert_eq!(f(&g["sample_rate_hz"]), rate, "{name}: rate {i}");
        }
        let mut want: Vec<_> = m["annotations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| mne_annotation(a, rate))
            .collect();
        want.sort();
        assert_eq!(annotation_set(&v["annotations"]), want, "{name}");
    }
}

#[test]
fn decoded_samples_agree_with_mne() {
    for name in readable_fixtures() {
        let m = meta(&name);
        let rec = read_recording(&fixture(&name), &ReadOptions::default()).unwrap();
        for (i, head) in m["samples_head"].as_array().unwrap().iter().enumerate() {
            let ch = &rec.channels[i];
            assert!(ch.is_loaded(), "{name} {i}");
            // MNE's values in the file's unit; the analyzer's in mV for voltages.
            let to_mv = match (ch.kind, ch.unit.as_str()) {
                (ChannelKind::Signal, "µV" | "uV") => 1e-3,
                (ChannelKind::Signal, "V") => 1e3,
                _ => 1.0,
            };
            for (j, want) in head.as_array().unwrap().iter().enumerate() {
                let want = f(want) * to_mv;
                let got = f64::from(ch.samples[j]);
                assert!(
                    (got - want).abs() <= 1e-6 * want.abs().max(1e-3),
                    "{name} channel {i} sample {j}: {got} vs {want}"
                );
            }
        }
    }
}

#[test]
fn the_session_holds_its_wav_twins_samples_within_one_step() {
    let m = meta("session.vhdr");
    let bv = read_recording(&fixture("session.vhdr"), &ReadOptions::default()).unwrap();
    let wav_path = fixture(m["expect"]["wav_twin"].as_str().unwrap());
    let wav = read_recording(
        &wav_path,
        &ReadOptions {
            full_scale_mv: f(&m["expect"]["twin_full_scale_mv"]),
            ..ReadOptions::default()
        },
    )
    .unwrap();
    let (a, b) = (&bv.channels[0].samples, &wav.channels[0].samples);
    assert_eq!(a.len(), b.len());
    assert_eq!(bv.sample_rate.hz(), wav.sample_rate.hz());
    let worst = a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from((x - y).abs()))
        .fold(0.0, f64::max);
    // Both grids are 1 µV; pybv and the WAV encoder may round differently.
    assert!(worst <= 1e-3 + 1e-6, "largest difference {worst} mV");
}

#[test]
fn the_session_gives_the_same_analysis_as_its_wav_twin() {
    let m = meta("session.vhdr");
    let wav = analyze(&fixture(m["expect"]["wav_twin"].as_str().unwrap()));
    let bv = analyze(&fixture("session.vhdr"));
    assert_eq!(bv["classification"]["pattern"], "mg_like");
    assert_eq!(
        bv["classification"]["pattern"],
        wav["classification"]["pattern"]
    );
    assert_eq!(bv["source"]["stimulus_source"], "annotations");
    assert_eq!(trains(&bv).len(), trains(&wav).len());
    for (k, (tb, tw)) in trains(&bv).iter().zip(trains(&wav)).enumerate() {
        assert_eq!(tb["role"], tw["role"], "train {k}");
        assert_eq!(tb["role"], m["expect"]["roles"][k], "train {k}");
        // From the Comment markers here, from the contraction in the WAV.
        assert_eq!(tb["role_source"], "annotation", "train {k}");
        let (rb, rw) = (
            tb["responses"].as_array().unwrap(),
            tw["responses"].as_array().unwrap(),
        );
        assert_eq!(rb.len(), rw.len(), "train {k}");
        for (a, b) in rb.iter().zip(rw) {
            let (x, y) = (f(&a["amplitude_mv"]), f(&b["amplitude_mv"]));
            assert!(((x - y) / y).abs() <= 0.005, "train {k}: {x} vs {y}");
        }
        for key in ["decrement_pct", "decrement_5th_pct", "area_decrement_pct"] {
            if let (Some(x), Some(y)) = (tb[key].as_f64(), tw[key].as_f64()) {
                assert!((x - y).abs() <= 0.3, "train {k} {key}: {x} vs {y}");
            }
        }
    }
    let s = &bv["session"];
    assert_eq!(s["exercise_source"], "annotation");
    assert_eq!(
        (f(&s["exercise_start_s"]), f(&s["exercise_end_s"])),
        (3.0, 8.0)
    );
    // The stimuli are the Stimulus markers' data points, exactly.
    let want: Vec<f64> = m["expect"]["stimuli_s"]
        .as_array()
        .unwrap()
        .iter()
        .map(f)
        .collect();
    let got = stimulus_times(&bv);
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() <= 1e-9, "{g} vs {w}");
    }
}

#[test]
fn stimulus_markers_are_the_known_stimuli() {
    // float32.vhdr also has a "Trig" channel, which the analysis prefers.
    for (name, source) in [
        ("float32.vhdr", "trigger_channel"),
        ("vectorized.vhdr", "annotations"),
    ] {
        let m = meta(name);
        let i = inspect(&fixture(name));
        assert_eq!(i["analyzer_would_use"]["stimulus_source"], source, "{name}");
        let want = m["expect"]["stimuli_s"].as_array().unwrap().len();
        assert_eq!(i["analyzer_would_use"]["known_stimuli"], want, "{name}");
    }
    let rec = read_recording(&fixture("float32.vhdr"), &ReadOptions::default()).unwrap();
    assert_eq!(rec.stimuli.unwrap().samples, vec![100, 400, 700]);
    assert_eq!(rec.channels[1].kind, ChannelKind::Trigger);
    // Without markers: the artifacts.
    let i = inspect(&fixture("ansi.vhdr"));
    assert_eq!(i["analyzer_would_use"]["stimulus_source"], "artifact_slope");
}

#[test]
fn hostile_headers_exit_3_with_one_line() {
    let seen = check_hostile_fixtures(&dir(), "vhdr", |m| {
        m["expected_error"].as_str().unwrap().to_string()
    });
    assert_eq!(seen, 7);
}

#[test]
fn the_header_is_recognised_by_its_first_line_and_the_others_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for ext in ["vhdr", "vmrk", "eeg"] {
        let from = fixture(&format!("float32.{ext}"));
        std::fs::copy(from, tmp.path().join(format!("float32.{ext}"))).unwrap();
    }
    // A misnamed header is still read as one.
    let renamed = tmp.path().join("header.txt");
    std::fs::copy(tmp.path().join("float32.vhdr"), &renamed).unwrap();
    assert_eq!(inspect(&renamed)["format"], "brainvision");
    for ext in ["eeg", "vmrk"] {
        let out = rns()
            .arg("inspect")
            .arg(tmp.path().join(format!("float32.{ext}")))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("is read through its header"), "{err}");
    }
    // A marker file that went missing: the set is incomplete.
    std::fs::remove_file(tmp.path().join("float32.vmrk")).unwrap();
    let out = rns()
        .arg("analyze")
        .arg(tmp.path().join("float32.vhdr"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("marker file \"float32.vmrk\" (MarkerFile in the header) cannot be read"),
        "{err}"
    );
}

#[test]
fn channel_by_label() {
    let file = fixture("float32.vhdr");
    let a = json(
        &["analyze", "--format", "json", "--channel", "abductor"],
        &file,
    );
    assert_eq!(a["source"]["channel_label"], "EMG Abductor µ");
    let out = rns()
        .args(["inspect", "--channel", "EMG APB"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&rns().arg("inspect").arg(&file).output().unwrap().stdout)
        .to_string();
    for want in [
        "brainvision",
        "EMG Abductor µ",
        "rest, then exercise",
        "S  1",
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
}
