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

/// A minimal 64-bit `.smrx`, laid out as openreadout-ephys 0.4.0 builds one
/// for its own tests (src/spike2/tests.rs, MIT OR Apache-2.0): channel 1
/// "wave" (Adc, mV, 5 ticks of 1 µs: 200 kHz, scale 6553.6 and offset 0.5)
/// with two runs, [1, 2, 3] at tick 0 and [4, 5] at tick 100 (a pause),
/// behind a stale block of an older generation; channel 2 "Stim", events
/// at ticks 7 and 250. No independent writer of `.smrx` runs here (CED's
/// SON64 library is Windows and macOS only) and no openly licensed real
/// file was found: this proves the wiring of the `.smrx` path, not the
/// crate's reading of real files.
fn mini_smrx() -> Vec<u8> {
    let mut b = vec![0u8; 0x40000];
    let put = |b: &mut Vec<u8>, at: usize, v: &[u8]| b[at..at + v.len()].copy_from_slice(v);
    let put32 =
        |b: &mut Vec<u8>, at: usize, v: u32| b[at..at + 4].copy_from_slice(&v.to_le_bytes());
    let put64 =
        |b: &mut Vec<u8>, at: usize, v: u64| b[at..at + 8].copy_from_slice(&v.to_le_bytes());
    put(&mut b, 0, b"S64pl\0\x01\x01");
    put(&mut b, 16, b"S2091349");
    put(&mut b, 24, &[0, 5, 32, 8, 9, 10, 0xe8, 0x07]);
    put(&mut b, 32, &1e-6f64.to_le_bytes());
    let (table, rec) = (2048usize, 272usize);
    let strings = table + 2 * rec;
    for (k, v) in [
        (44, table),
        (48, table),
        (52, strings),
        (56, 2),
        (60, rec),
        (64, 3),
    ] {
        put32(&mut b, k, v as u32);
    }
    // The string table: 1 "wave", 2 "mV", 3 "note", 4 "Stim".
    let mut st: Vec<u8> = [0u32, 4].iter().flat_map(|v| v.to_le_bytes()).collect();
    for name in ["wave", "mV", "note", "Stim"] {
        st.extend(1u32.to_le_bytes());
        let mut padded = name.as_bytes().to_vec();
        padded.resize(name.len() / 4 * 4 + 4, 0);
        st.extend(padded);
    }
    put(&mut b, strings, &st);
    // Channel 1 (Adc).
    let c1 = table;
    put64(&mut b, c1, 0x10000);
    put64(&mut b, c1 + 0x10, 1);
    put32(&mut b, c1 + 0x20, 2);
    put(&mut b, c1 + 0x2c, &[1, 0, 1]);
    put(&mut b, c1 + 0x30, &2i32.to_le_bytes());
    put32(&mut b, c1 + 0x34, 1);
    put32(&mut b, c1 + 0x38, 2);
    put64(&mut b, c1 + 0x40, 5);
    put(&mut b, c1 + 0x48, &2e5f64.to_le_bytes());
    put(&mut b, c1 + 0x50, &6553.6f64.to_le_bytes());
    put(&mut b, c1 + 0x58, &0.5f64.to_le_bytes());
    // Channel 2 (events).
    let c2 = table + rec;
    put64(&mut b, c2, 0x11000);
    put64(&mut b, c2 + 0x10, 1);
    put32(&mut b, c2 + 0x20, 8);
    b[c2 + 0x2e] = 3;
    put32(&mut b, c2 + 0x34, 4);
    // Index of channel 1: the stale block, then the live one.
    let i1 = 0x10000;
    for (at, v) in [(0, 0x100), (16, 0), (24, 0x30000), (32, 0), (40, 0x20000)] {
        put64(&mut b, i1 + at, v);
    }
    put32(&mut b, i1 + 12, 2);
    // Index of channel 2.
    let i2 = 0x11000;
    put64(&mut b, i2, 0x100);
    put(&mut b, i2 + 8, &1u16.to_le_bytes());
    put32(&mut b, i2 + 12, 1);
    put64(&mut b, i2 + 16, 7);
    put64(&mut b, i2 + 24, 0x31000);
    // The live Adc block: runs (0, [1, 2, 3]) and (100, [4, 5]).
    let live = 0x20000;
    put64(&mut b, live, 0x10001);
    put(&mut b, live + 10, &1u16.to_le_bytes());
    put32(&mut b, live + 12, 2);
    let mut pos = live + 16;
    for (start, vals) in [(0u64, vec![1i16, 2, 3]), (100, vec![4, 5])] {
        put64(&mut b, pos, start);
        put64(&mut b, pos + 8, vals.len() as u64);
        pos += 16;
        for v in vals {
            put(&mut b, pos, &v.to_le_bytes());
            pos += 2;
        }
    }
    // A stale block of generation 0 (must be skipped).
    let stale = 0x30000;
    put64(&mut b, stale, 0x10000);
    put32(&mut b, stale + 12, 1);
    put64(&mut b, stale + 24, 1);
    put(&mut b, stale + 32, &999i16.to_le_bytes());
    // The event block of channel 2.
    let events = 0x31000;
    put64(&mut b, events, 0x11000);
    put(&mut b, events + 8, &1u16.to_le_bytes());
    put32(&mut b, events + 12, 2);
    put64(&mut b, events + 16, 7);
    put64(&mut b, events + 24, 250);
    b.truncate(0x32000);
    put64(&mut b, 1000, 0x32000);
    put64(&mut b, 1016, 250);
    b
}

#[test]
fn a_minimal_smrx_is_read_through_the_smrx_path() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("mini.smrx");
    std::fs::write(&file, mini_smrx()).unwrap();
    let rec = read_recording(&file, &all()).unwrap();
    assert_eq!(rec.format, SourceFormat::Smrx);
    assert_eq!(rec.sample_rate.hz(), 200_000.0);
    assert_eq!(rec.channels.len(), 1);
    assert_eq!(
        (
            rec.channels[0].label.as_str(),
            rec.channels[0].unit.as_str()
        ),
        ("wave", "mV")
    );
    // stored × 6553.6 / 6553.6 + 0.5, in mV; the stale block's 999 skipped.
    assert_eq!(rec.channels[0].samples, vec![1.5, 2.5, 3.5, 4.5, 5.5]);
    // Sampling paused between the runs: two segments, the second at tick 100.
    let seg: Vec<(usize, usize)> = rec.segments.iter().map(|s| (s.start, s.len)).collect();
    assert_eq!(seg, vec![(0, 3), (3, 2)]);
    assert!((rec.segments[1].start_s - 100e-6).abs() < 1e-12);
    // "Stim" names a trigger: its events are the stimuli, at their samples
    // (7 µs: sample 1 of 5 µs; 250 µs lies past the second run's data).
    let st = rec
        .stimuli
        .as_ref()
        .expect("stimuli from the event channel");
    assert_eq!(st.origin, StimulusOrigin::Events);
    assert_eq!(st.samples, vec![1]);
    let v = json(&["inspect", "--format", "json"], &file);
    assert_eq!(v["format"], "smrx");
}
