//! CED Spike2 `.smr` input, against Neo's reading of the same files.
//!
//! The fixtures in `tests/fixtures/spike2/` come from
//! `scripts/make-spike2-fixtures.py`, which packs the .smr layout (CED's own
//! writer, sonpy, runs on Windows only) and records in `<file>.meta.json`
//! what Neo's `Spike2RawIO` reads from each: labels, units, rates, segment
//! sizes and starts, the first samples, and the event times. The session has
//! a WAV twin (the EDF fixtures' `session.wav`) on the same 1 µV grid: both
//! must give the same analysis.

use crate::util::{check_hostile_fixtures, fixtures, meta_of, num, rns, rns_json};
use rns_analyzer::io::{read_recording, ChannelFilter, ReadOptions};
use rns_analyzer::recording::{ChannelSel, SourceFormat, StimulusOrigin};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    fixtures("spike2").join(name)
}

fn meta(name: &str) -> Value {
    meta_of(&fixture(name))
}

fn f(v: &Value) -> f64 {
    num(v)
}

fn json(args: &[&str], file: &Path) -> Value {
    rns_json(args, file)
}

fn all() -> ReadOptions {
    ReadOptions::default()
}

/// Millivolts per unit as Neo's unit strings say.
fn mv_per(unit: &str) -> f64 {
    match unit {
        "uV" => 1e-3,
        "V" => 1e3,
        _ => 1.0,
    }
}

#[test]
fn channels_rates_segments_and_samples_agree_with_neo() {
    for name in ["session.smr", "two_rates.smr", "gapped.smr"] {
        let m = meta(name);
        let rec = read_recording(&fixture(name), &all()).unwrap();
        assert_eq!(rec.format, SourceFormat::Smr, "{name}");
        let neo = m["channels"].as_array().unwrap();
        assert_eq!(rec.channels.len(), neo.len(), "{name}");
        for c in neo {
            let label = c["label"].as_str().unwrap();
            let ours = rec.channels.iter().find(|x| x.label == label).unwrap();
            assert_eq!(ours.unit, c["unit"].as_str().unwrap(), "{name} {label}");
            let hz = rec.channel_rate_hz(ours.index);
            assert!(
                (hz - f(&c["sample_rate_hz"])).abs() < 1e-6,
                "{name} {label}"
            );
            let segs = c["segments"].as_array().unwrap();
            let total: u64 = segs.iter().map(|s| s["samples"].as_u64().unwrap()).sum();
            assert_eq!(ours.len as u64, total, "{name} {label}");
            if ours.sample_rate_hz.is_some() {
                assert!(
                    ours.samples.is_empty(),
                    "{name} {label}: other rate, not decoded"
                );
                continue;
            }
            assert_eq!(rec.segments.len(), segs.len(), "{name}");
            let per = mv_per(c["unit"].as_str().unwrap());
            for (k, (s, ns)) in rec.segments.iter().zip(segs).enumerate() {
                assert_eq!(
                    s.len as u64,
                    ns["samples"].as_u64().unwrap(),
                    "{name} seg {k}"
                );
                assert!(
                    (s.start_s - f(&ns["t_start_s"])).abs() < 1e-9,
                    "{name} seg {k}"
                );
                for (i, v) in c["samples_head"][k].as_array().unwrap().iter().enumerate() {
                    let want = f(v) * per;
                    let got = f64::from(ours.samples[s.start + i]);
                    assert!(
                        (got - want).abs() <= 1e-6 * want.abs().max(1.0),
                        "{name} {label} seg {k} sample {i}: {got} vs {want}"
                    );
                }
            }
        }
    }
}

#[test]
fn event_channels_give_the_stimuli() {
    for name in ["session.smr", "two_rates.smr", "gapped.smr"] {
        let m = meta(name);
        let rec = read_recording(&fixture(name), &all()).unwrap();
        let st = rec.stimuli.as_ref().unwrap_or_else(|| panic!("{name}"));
        assert_eq!(st.origin, StimulusOrigin::Events);
        assert!(st.timing_known);
        let want: Vec<f64> = m["expect"]["stimuli_s"]
            .as_array()
            .unwrap()
            .iter()
            .map(f)
            .collect();
        assert_eq!(st.samples.len(), want.len(), "{name}");
        // Neo's event times (per segment) hold at least those inside the samples.
        let neo_events = m["events"][0]["times_s"].as_array().unwrap().len();
        assert!(neo_events >= want.len(), "{name}");
        for (&s, w) in st.samples.iter().zip(&want) {
            assert!((rec.time_of(s as f64) - w).abs() <= 0.5 / rec.sample_rate.hz() + 1e-9);
        }
    }
}

#[test]
fn a_named_trigger_may_be_the_event_channel_and_others_are_refused() {
    let named = |sel: &str| ReadOptions {
        channels: ChannelFilter::Select {
            emg: None,
            others: vec![ChannelSel::Label(sel.into())],
        },
        ..ReadOptions::default()
    };
    let rec = read_recording(&fixture("gapped.smr"), &named("Stim")).unwrap();
    assert_eq!(rec.stimuli.unwrap().samples.len(), 9);
    let e = read_recording(&fixture("gapped.smr"), &named("Nope")).unwrap_err();
    assert_eq!(e.exit_code(), 2, "{e}");
    let a = json(
        &["analyze", "--format", "json", "--trigger-channel", "Stim"],
        &fixture("gapped.smr"),
    );
    assert_eq!(a["source"]["stimulus_source"], "events");
}

#[test]
fn session_smr_gives_the_same_analysis_as_its_wav_twin() {
    let twin = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/edf/session.wav");
    let wav = json(&["analyze", "--format", "json"], &twin);
    let smr = json(&["analyze", "--format", "json"], &fixture("session.smr"));
    assert_eq!(smr["source"]["stimulus_source"], "events");
    assert_eq!(smr["classification"]["pattern"], "mg_like");
    assert_eq!(
        smr["classification"]["pattern"],
        wav["classification"]["pattern"]
    );
    let trains = |a: &Value| a["trains"].as_array().unwrap().clone();
    assert_eq!(trains(&smr).len(), trains(&wav).len());
    for (k, (ts, tw)) in trains(&smr).iter().zip(trains(&wav)).enumerate() {
        assert_eq!(ts["role"], tw["role"], "train {k}");
        let (rs, rw) = (
            ts["responses"].as_array().unwrap(),
            tw["responses"].as_array().unwrap(),
        );
        assert_eq!(rs.len(), rw.len(), "train {k}");
        for (a, b) in rs.iter().zip(rw) {
            let (x, y) = (f(&a["amplitude_mv"]), f(&b["amplitude_mv"]));
            assert!(((x - y) / y).abs() <= 0.005, "train {k}: {x} vs {y}");
        }
        for key in ["decrement_pct", "area_decrement_pct"] {
            if let (Some(x), Some(y)) = (ts[key].as_f64(), tw[key].as_f64()) {
                assert!((x - y).abs() <= 0.3, "train {k} {key}: {x} vs {y}");
            }
        }
    }
    assert_eq!(smr["session"]["repair"], wav["session"]["repair"]);
}

#[test]
fn inspect_lists_channels_and_the_event_stimuli() {
    let i = json(&["inspect", "--format", "json"], &fixture("two_rates.smr"));
    assert_eq!(i["analyzer_would_use"]["stimulus_source"], "events");
    assert_eq!(i["analyzer_would_use"]["known_stimuli"], 2);
    let text = rns()
        .arg("inspect")
        .arg(fixture("gapped.smr"))
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("3 segment(s)"), "{text}");
    assert!(
        text.contains("9 event(s) of the file's event channel"),
        "{text}"
    );
}

#[test]
fn hostile_files_give_one_line_and_exit_3() {
    let seen = check_hostile_fixtures(&fixtures("spike2"), "smr", |m| {
        m["expect_message"].as_str().unwrap().to_string()
    });
    assert_eq!(seen, 5);
}
