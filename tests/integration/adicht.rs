//! LabChart `.adicht` input, against files written by an independent writer.
//!
//! The fixtures in `tests/fixtures/adicht/` come from
//! `scripts/make-adicht-fixtures.py`: adichtion 1.0.0's synthetic writer
//! wrote them (no openly licensed real file exists), and each has a
//! `<file>.meta.json` from adichtion's reader, which `rns inspect` and the
//! decoded samples must agree with. The session holds the EDF fixtures'
//! session signal, whose WAV twin (`tests/fixtures/edf/session.wav`) must
//! give the same analysis.

use crate::util::{check_hostile_fixtures, fixtures, meta_of, num, rns, rns_json};
use rns_analyzer::io::{read_recording, ChannelFilter, ReadOptions};
use rns_analyzer::recording::{ChannelKind, StimulusOrigin};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    fixtures("adicht")
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

fn readable() -> Vec<&'static str> {
    vec![
        "session.adicht",
        "multi.adicht",
        "v26.adicht",
        "slow.adicht",
        "small.adicht",
    ]
}

/// The unit the analyzer reports for adichtion's value unit: adichtion
/// calls the values of a float32 (calculated) channel without a conversion
/// "V" (its scale is the source channel's volts per count); the file gives
/// such a channel no unit, and the analyzer reports none.
fn analyzer_unit<'a>(dtype: &str, unit: &'a str) -> &'a str {
    if dtype == "float32" && unit == "V" {
        ""
    } else {
        unit
    }
}

/// The factor from adichtion's values to the analyzer's (mV for a voltage
/// signal) in the analyzer's unit.
fn to_analyzer(kind: ChannelKind, unit: &str) -> f64 {
    match (kind, unit) {
        (ChannelKind::Signal, "V") => 1e3,
        (ChannelKind::Signal, "µV") => 1e-3,
        _ => 1.0,
    }
}

#[test]
fn inspect_agrees_with_adichtion() {
    for name in readable() {
        let m = meta(name);
        let v = json(&["inspect", "--format", "json"], &fixture(name));
        assert_eq!(v["format"], "adicht", "{name}");
        let records = m["records"].as_array().unwrap();
        let rate = f(&records[0]["tick_rate_hz"]);
        let got = v["channels"].as_array().unwrap();
        let want = m["channels"].as_array().unwrap();
        assert_eq!(got.len(), want.len(), "{name}: channel count");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert_eq!(g["label"], w["label"], "{name}: label {i}");
            let unit = analyzer_unit(
                w["dtype"].as_str().unwrap(),
                records[0]["channels"][i]["unit"].as_str().unwrap(),
            );
            assert_eq!(g["unit"], unit, "{name}: unit {i}");
            let n: u64 = records
                .iter()
                .map(|r| r["channels"][i]["samples"].as_u64().unwrap())
                .sum();
            assert_eq!(g["samples"], n, "{name}: samples {i}");
            assert_eq!(
                f(&g["sample_rate_hz"]),
                f(&records[0]["channels"][i]["sample_rate_hz"]),
                "{name}: rate {i}"
            );
        }
        // Comments: every one, at its record's start plus its tick.
        let rec =
            rns_analyzer::io::describe_recording(&fixture(name), &ReadOptions::default()).unwrap();
        let mut want: Vec<(i64, String)> = Vec::new();
        for (k, r) in records.iter().enumerate() {
            let start = rec.segments[k].start_s;
            for c in r["comments"].as_array().unwrap() {
                let t = start + f(&c["tick"]) / f(&r["tick_rate_hz"]);
                want.push(((t * 1e6).round() as i64, c["text"].as_str().unwrap().into()));
            }
        }
        let got: Vec<(i64, String)> = v["annotations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    (f(&a["onset_s"]) * 1e6).round() as i64,
                    a["text"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        want.sort();
        assert_eq!(got, want, "{name}");
        assert!(rate > 0.0);
    }
}

#[test]
fn decoded_samples_agree_with_adichtion() {
    for name in readable() {
        let m = meta(name);
        let opts = ReadOptions {
            channels: ChannelFilter::All,
            ..ReadOptions::default()
        };
        let rec = rns_analyzer::io::describe_recording(&fixture(name), &opts).unwrap();
        let records = m["records"].as_array().unwrap();
        for (i, ch) in rec.channels.iter().enumerate() {
            assert!(ch.is_loaded(), "{name} {i}");
            let mut from = 0usize;
            for (k, r) in records.iter().enumerate() {
                let w = &r["channels"][i];
                let n = w["samples"].as_u64().unwrap() as usize;
                let dtype = m["channels"][i]["dtype"].as_str().unwrap();
                let unit = analyzer_unit(dtype, w["unit"].as_str().unwrap());
                assert_eq!(ch.unit, unit, "{name} {i}");
                let scale = to_analyzer(ch.kind, unit);
                let got = &ch.samples[from..from + n];
                let close = |g: f32, want: f64, what: &str| {
                    let want = want * scale;
                    let g = f64::from(g);
                    assert!(
                        (g - want).abs() <= 1e-6 * want.abs().max(1e-3),
                        "{name} channel {i} record {k} {what}: {g} vs {want}"
                    );
                };
                for (j, want) in w["head"].as_array().unwrap().iter().enumerate() {
                    close(got[j], f(want), &format!("sample {j}"));
                }
                for (j, want) in w["block_1_head"].as_array().unwrap().iter().enumerate() {
                    close(got[16000 + j], f(want), &format!("sample {}", 16000 + j));
                }
                for (j, want) in w["tail"].as_array().unwrap().iter().enumerate() {
                    close(got[n - 32 + j], f(want), &format!("sample {}", n - 32 + j));
                }
                let lo = got.iter().copied().fold(f32::INFINITY, f32::min);
                let hi = got.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                close(lo, f(&w["min"]), "min");
                close(hi, f(&w["max"]), "max");
                let sum: f64 = got.iter().map(|&x| f64::from(x)).sum();
                let want = f(&w["sum"]) * scale;
                let tol = 1e-6 * got.iter().map(|&x| f64::from(x.abs())).sum::<f64>() + 1e-6;
                assert!(
                    (sum - want).abs() <= tol,
                    "{name} channel {i} record {k} sum: {sum} vs {want}"
                );
                from += n;
            }
            assert_eq!(from, ch.samples.len(), "{name} {i}");
        }
    }
}

#[test]
fn records_are_segments_at_their_start_times() {
    let m = meta("multi.adicht");
    let select = ReadOptions {
        channels: ChannelFilter::Select {
            emg: None,
            others: Vec::new(),
        },
        ..ReadOptions::default()
    };
    let rec = read_recording(&fixture("multi.adicht"), &select).unwrap();
    let starts: Vec<f64> = rec.segments.iter().map(|s| s.start_s).collect();
    let want: Vec<f64> = m["expect"]["segment_starts_s"]
        .as_array()
        .unwrap()
        .iter()
        .map(f)
        .collect();
    assert_eq!(starts, want);
    assert_eq!(rec.segments[1].start, 17000);
    assert_eq!(rec.channels[1].kind, ChannelKind::Trigger);
    // By default only the EMG channel and the trigger are decoded.
    assert!(rec.channels[0].is_loaded() && rec.channels[1].is_loaded());
    assert!(!rec.channels[2].is_loaded());
    assert_eq!(rec.channels[2].len, 21000);
    let i = json(&["inspect", "--format", "json"], &fixture("multi.adicht"));
    assert_eq!(
        i["analyzer_would_use"]["stimulus_source"],
        "trigger_channel"
    );
    // A comment "Stim 2" is a stimulus.
    let rec = read_recording(&fixture("v26.adicht"), &ReadOptions::default()).unwrap();
    let st = rec.stimuli.unwrap();
    assert_eq!(st.origin, StimulusOrigin::Annotations);
    assert_eq!(st.samples, vec![16001]);
}

#[test]
fn the_session_holds_its_wav_twins_samples() {
    let m = meta("session.adicht");
    let a = read_recording(&fixture("session.adicht"), &ReadOptions::default()).unwrap();
    let wav = read_recording(
        &fixture(m["expect"]["wav_twin"].as_str().unwrap()),
        &ReadOptions {
            full_scale_mv: f(&m["expect"]["twin_full_scale_mv"]),
            ..ReadOptions::default()
        },
    )
    .unwrap();
    let (x, y) = (&a.channels[0].samples, &wav.channels[0].samples);
    assert_eq!(x.len(), y.len());
    assert_eq!(a.sample_rate.hz(), wav.sample_rate.hz());
    let worst = x
        .iter()
        .zip(y)
        .map(|(p, q)| f64::from((p - q).abs()))
        .fold(0.0, f64::max);
    // The same int16 numbers on the same 1 µV grid.
    assert!(worst <= 1e-6, "largest difference {worst} mV");
}

#[test]
fn the_session_gives_the_same_analysis_as_its_wav_twin() {
    let m = meta("session.adicht");
    let wav = json(
        &["analyze", "--format", "json"],
        &fixture(m["expect"]["wav_twin"].as_str().unwrap()),
    );
    let ad = json(&["analyze", "--format", "json"], &fixture("session.adicht"));
    let trains = |a: &Value| a["trains"].as_array().unwrap().clone();
    assert_eq!(ad["classification"]["pattern"], "mg_like");
    assert_eq!(
        ad["classification"]["pattern"],
        wav["classification"]["pattern"]
    );
    assert_eq!(ad["source"]["stimulus_source"], "annotations");
    let (ta, tw) = (trains(&ad), trains(&wav));
    assert_eq!(ta.len(), tw.len());
    for (k, (a, w)) in ta.iter().zip(&tw).enumerate() {
        assert_eq!(a["role"], w["role"], "train {k}");
        assert_eq!(a["role"], m["expect"]["roles"][k], "train {k}");
        assert_eq!(a["role_source"], "annotation", "train {k}");
        let (ra, rw) = (
            a["responses"].as_array().unwrap(),
            w["responses"].as_array().unwrap(),
        );
        assert_eq!(ra.len(), rw.len(), "train {k}");
        for (p, q) in ra.iter().zip(rw) {
            let (x, y) = (f(&p["amplitude_mv"]), f(&q["amplitude_mv"]));
            assert!(((x - y) / y).abs() <= 0.005, "train {k}: {x} vs {y}");
        }
        for key in ["decrement_pct", "decrement_5th_pct", "area_decrement_pct"] {
            if let (Some(x), Some(y)) = (a[key].as_f64(), w[key].as_f64()) {
                assert!((x - y).abs() <= 0.3, "train {k} {key}: {x} vs {y}");
            }
        }
    }
    let s = &ad["session"];
    assert_eq!(s["exercise_source"], "annotation");
    let ex: Vec<f64> = m["expect"]["exercise_s"]
        .as_array()
        .unwrap()
        .iter()
        .map(f)
        .collect();
    assert_eq!(vec![f(&s["exercise_start_s"]), f(&s["exercise_end_s"])], ex);
    let want: Vec<f64> = m["expect"]["stimuli_s"]
        .as_array()
        .unwrap()
        .iter()
        .map(f)
        .collect();
    let got: Vec<f64> = ta
        .iter()
        .flat_map(|t| t["responses"].as_array().unwrap().clone())
        .map(|r| f(&r["stimulus_s"]))
        .collect();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() <= 1e-9, "{g} vs {w}");
    }
}

#[test]
fn a_slow_file_is_described_but_not_analysed() {
    let v = json(&["inspect", "--format", "json"], &fixture("slow.adicht"));
    assert_eq!(v["format"], "adicht");
    let out = rns()
        .arg("analyze")
        .arg(fixture("slow.adicht"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("outside the accepted range"), "{err}");
}

#[test]
fn hostile_files_exit_3_with_one_line() {
    let seen = check_hostile_fixtures(&dir(), "adicht", |m| {
        m["expected_error"].as_str().unwrap().to_string()
    });
    assert_eq!(seen, 6);
}

#[test]
fn recognised_by_content_whatever_the_name() {
    let tmp = tempfile::tempdir().unwrap();
    let renamed = tmp.path().join("recording.dat");
    std::fs::copy(fixture("v26.adicht"), &renamed).unwrap();
    let v = json(&["inspect", "--format", "json"], &renamed);
    assert_eq!(v["format"], "adicht");
}
