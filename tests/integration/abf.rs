//! Axon ABF1 and ABF2 input, against pyABF's reading of the same files.
//!
//! The fixtures in `tests/fixtures/abf/` come from `scripts/make-abf-fixtures.py`:
//! pyABF's `writeABF1` wrote the ABF1 files (the session, made gap-free, and
//! a file of sweeps); the ABF2 file is a real pCLAMP 11 recording from pyABF's
//! repository (MIT, `LICENSE` beside it). Each `<file>.meta.json` holds what
//! pyABF reads. The gap-free session has a WAV twin (the EDF fixtures'
//! `session.wav`): both must give the same analysis.

use crate::util::{check_hostile_fixtures, fixtures, meta_of, num, rns_json};
use rns_analyzer::io::{read_recording, ReadOptions};
use rns_analyzer::recording::{SourceFormat, StimulusOrigin};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    fixtures("abf").join(name)
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

const FILES: [&str; 3] = [
    "session_gapfree.abf",
    "sweeps_abf1.abf",
    "2018_12_09_pCLAMP11_0001.abf",
];

#[test]
fn header_sweeps_and_samples_agree_with_pyabf() {
    for name in FILES {
        let m = meta(name);
        let rec = read_recording(&fixture(name), &ReadOptions::default()).unwrap();
        let want_format = match m["expect"]["format"].as_str().unwrap() {
            "abf1" => SourceFormat::Abf1,
            _ => SourceFormat::Abf2,
        };
        assert_eq!(rec.format, want_format, "{name}");
        assert_eq!(rec.sample_rate.hz(), f(&m["sample_rate_hz"]), "{name}");
        let chans = m["channels"].as_array().unwrap();
        assert_eq!(rec.channels.len(), chans.len(), "{name}");
        let (k, l) = (
            m["sweep_count"].as_u64().unwrap() as usize,
            m["sweep_samples"].as_u64().unwrap() as usize,
        );
        let gap_free = m["operation_mode"] == 3;
        assert_eq!(rec.len(), k * l, "{name}");
        assert_eq!(rec.segments.len(), if gap_free { 1 } else { k }, "{name}");
        for (i, c) in chans.iter().enumerate() {
            let label = c["label"].as_str().unwrap().trim_matches(['\0', ' ']);
            let label = if label.is_empty() {
                format!("ch{i}")
            } else {
                label.to_string()
            };
            let ours = &rec.channels[i];
            assert_eq!(ours.label, label, "{name}");
            assert_eq!(ours.unit, c["unit"].as_str().unwrap(), "{name}");
            for (s, head) in c["samples_head"].as_array().unwrap().iter().enumerate() {
                for (j, v) in head.as_array().unwrap().iter().enumerate() {
                    let got = f64::from(ours.samples[s * l + j]);
                    let want = f(v);
                    assert!(
                        (got - want).abs() <= 1e-6 * want.abs().max(1.0),
                        "{name} ch {i} sweep {s} sample {j}: {got} vs {want}"
                    );
                }
            }
        }
        if gap_free {
            continue;
        }
        // Sweeps: the stimulus of each at the step onset or the holding end.
        let st = rec.stimuli.as_ref().unwrap();
        assert_eq!(st.origin, StimulusOrigin::Sweeps);
        let i0 = m["expect"]["stimulus_in_sweep"].as_u64().unwrap() as usize;
        let want: Vec<usize> = (0..k).map(|s| s * l + i0).collect();
        assert_eq!(st.samples, want, "{name}");
        for (s, seg) in rec.segments.iter().enumerate() {
            assert_eq!((seg.start, seg.len), (s * l, l), "{name}");
        }
    }
    // pyABF's epoch table puts the step to -100 mV where the reader does.
    let m = meta("2018_12_09_pCLAMP11_0001.abf");
    let step = m["epochs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["level"] == -100.0)
        .unwrap();
    assert_eq!(step["p1"], 531);
    assert_eq!(meta("sweeps_abf1.abf")["holding_samples"], 20);
}

#[test]
fn a_current_channel_is_read_as_it_is_and_said_so() {
    let rec = read_recording(
        &fixture("2018_12_09_pCLAMP11_0001.abf"),
        &ReadOptions::default(),
    )
    .unwrap();
    assert!(rec
        .notes
        .iter()
        .any(|n| n.code.name() == "unit_assumed" && n.message.contains("\"A\"")));
}

#[test]
fn gap_free_session_gives_the_same_analysis_as_its_wav_twin() {
    let twin = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/edf/session.wav");
    let wav = json(&["analyze", "--format", "json"], &twin);
    let abf = json(
        &["analyze", "--format", "json"],
        &fixture("session_gapfree.abf"),
    );
    assert_eq!(abf["classification"]["pattern"], "mg_like");
    assert_eq!(
        abf["classification"]["pattern"],
        wav["classification"]["pattern"]
    );
    let trains = |a: &Value| a["trains"].as_array().unwrap().clone();
    assert_eq!(trains(&abf).len(), trains(&wav).len());
    let want: Vec<f64> = meta("session_gapfree.abf")["expect"]["stimuli_s"]
        .as_array()
        .unwrap()
        .iter()
        .map(f)
        .collect();
    let mut got = Vec::new();
    for (k, (ta, tw)) in trains(&abf).iter().zip(trains(&wav)).enumerate() {
        assert_eq!(ta["role"], tw["role"], "train {k}");
        let (ra, rw) = (
            ta["responses"].as_array().unwrap(),
            tw["responses"].as_array().unwrap(),
        );
        assert_eq!(ra.len(), rw.len(), "train {k}");
        for (a, b) in ra.iter().zip(rw) {
            got.push(f(&a["stimulus_s"]));
            let (x, y) = (f(&a["amplitude_mv"]), f(&b["amplitude_mv"]));
            assert!(((x - y) / y).abs() <= 0.005, "train {k}: {x} vs {y}");
        }
        for key in ["decrement_pct", "area_decrement_pct"] {
            if let (Some(x), Some(y)) = (ta[key].as_f64(), tw[key].as_f64()) {
                assert!((x - y).abs() <= 0.3, "train {k} {key}: {x} vs {y}");
            }
        }
    }
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() < 1e-3, "{g} vs {w}");
    }
}

#[test]
fn inspect_describes_sweeps() {
    let i = json(
        &["inspect", "--format", "json"],
        &fixture("sweeps_abf1.abf"),
    );
    assert_eq!(i["analyzer_would_use"]["stimulus_source"], "sweeps");
    assert_eq!(i["analyzer_would_use"]["known_stimuli"], 8);
}

#[test]
fn hostile_files_give_one_line_and_exit_3() {
    let seen = check_hostile_fixtures(&fixtures("abf"), "abf", |m| {
        m["expect_message"].as_str().unwrap().to_string()
    });
    assert_eq!(seen, 4);
}
