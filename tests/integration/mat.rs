//! MATLAB MAT-file input (level 5 and v7.3), against files written by
//! independent writers.
//!
//! The fixtures in `tests/fixtures/mat/` come from `scripts/make-mat-fixtures.py`:
//! scipy.io.savemat wrote the level 5 files (compressed and not),
//! hdf5storage (over h5py) the v7.3 one; each has a `<file>.meta.json` from
//! an independent reader (scipy.io.loadmat, h5py) listing the variables with
//! their MATLAB shapes, first values and sums, and what the reader must make
//! of the file (`expect`). `spike2.mat` holds the synthetic session of
//! `tests/fixtures/edf/session.wav` as Spike2's "export as MATLAB" writes
//! it, and must analyse as that WAV does; the sweeps are cut from it.

use crate::util::{check_hostile_fixtures, fixtures, meta_of, num, rns, rns_json};
use rns_analyzer::io::mat::{read_mat, read_mat_file, MatHints};
use rns_analyzer::io::{read_recording, ChannelFilter, ReadOptions};
use rns_analyzer::recording::{ChannelKind, Recording, StimulusOrigin};
use rns_analyzer::vocab::CsvLayout;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    fixtures("mat")
}

fn fixture(name: &str) -> PathBuf {
    dir().join(name)
}

fn meta(name: &str) -> Value {
    meta_of(&fixture(name))
}

fn f(v: &Value) -> f64 {
    num(v)
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(f).collect()
}

/// Run `rns` and parse its JSON output; panics with stderr on failure.
fn json(args: &[&str], file: &Path) -> Value {
    rns_json(args, file)
}

fn analyze(file: &Path) -> Value {
    json(&["analyze", "--format", "json"], file)
}

/// The fixtures that are recordings: those whose meta expects channels.
fn readable_fixtures() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".mat") && meta(n)["expect"]["channels"].is_array())
        .collect();
    v.sort();
    v
}

/// The read options a fixture's sidecar (`<file>.rns.toml`) gives the
/// reader: its `[mat]` table and `layout`; every channel decoded.
fn sidecar_options(name: &str) -> ReadOptions {
    let mut opts = ReadOptions::default();
    let Ok(text) = std::fs::read_to_string(fixture(&format!("{name}.rns.toml"))) else {
        return opts;
    };
    let t: toml::Table = toml::from_str(&text).unwrap();
    if let Some(m) = t.get("mat") {
        opts.mat = m.clone().try_into::<MatHints>().unwrap();
    }
    if let Some(l) = t.get("layout").and_then(|l| l.as_str()) {
        opts.layout = CsvLayout::from_name(l).unwrap();
    }
    opts.channels = ChannelFilter::All;
    opts
}

fn read(name: &str) -> Recording {
    read_mat_file(&fixture(name), &sidecar_options(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
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
fn inspect_agrees_with_the_independent_readers() {
    let names = readable_fixtures();
    assert!(names.len() >= 5, "{names:?}");
    for name in &names {
        let m = meta(name);
        let want = &m["expect"];
        let i = json(&["inspect", "--format", "json"], &fixture(name));
        assert_eq!(i["format"], want["format"], "{name}");
        assert_eq!(
            f(&i["sample_rate_hz"]),
            f(&want["sample_rate_hz"]),
            "{name}"
        );
        let (got, exp) = (
            i["channels"].as_array().unwrap(),
            want["channels"].as_array().unwrap(),
        );
        assert_eq!(got.len(), exp.len(), "{name}");
        for (g, e) in got.iter().zip(exp) {
            assert_eq!(g["label"], e["label"], "{name}");
            assert_eq!(g["unit"], e["unit"], "{name}");
            assert_eq!(g["samples"], e["samples"], "{name}");
        }
        if let Some(k) = want["sweeps"].as_u64() {
            assert_eq!(i["segments"].as_array().unwrap().len() as u64, k, "{name}");
            assert_eq!(
                i["analyzer_would_use"]["stimulus_source"], "sweeps",
                "{name}"
            );
        }
    }
    // The v7.3 header says what wrote it.
    let m = meta("nested_v73.mat");
    assert!(m["header"]
        .as_str()
        .unwrap()
        .starts_with("MATLAB 7.3 MAT-file"));
}

/// Where each fixture's signal is in its meta, the millivolts per stored
/// unit, and whether its samples run down the rows (MATLAB's dimension 1).
fn signal_in_meta(name: &str) -> (&'static [&'static str], f64, bool) {
    match name {
        "spike2.mat" => (&["session_Ch1", "values"], 1e-3, true),
        "channels.mat" => (&["data"], 1.0, true),
        "sweeps.mat" => (&["data"], 1.0, true),
        "sweeps_rows.mat" => (&["data"], 1.0, false),
        "nested_v73.mat" => (&["rec", "x1"], 1e-3, true),
        other => panic!("no signal named for {other}"),
    }
}

#[test]
fn decoded_samples_agree_with_the_independent_reader() {
    for name in readable_fixtures() {
        let m = meta(&name);
        let (path, mv, down_rows) = signal_in_meta(&name);
        let mut var = &m["variables"][path[0]];
        for p in &path[1..] {
            var = &var["fields"][*p];
        }
        let rec = read(&name);
        let shape = numbers(&var["shape"]);
        let (rows, cols) = (shape[0] as usize, shape[1] as usize);
        let per = if down_rows { rows } else { cols };
        let sweeps = rec.segments.len() > 1;
        // Element e of the MATLAB array (column-major) in the recording.
        let sample = |e: usize| {
            let (r, c) = (e % rows, e / rows);
            let (which, at) = if down_rows { (c, r) } else { (r, c) };
            let v = if sweeps {
                rec.channels[0].samples[which * per + at]
            } else {
                rec.channels[which].samples[at]
            };
            f64::from(v)
        };
        for (e, want) in numbers(&var["head"]).iter().enumerate() {
            let got = sample(e);
            assert!(
                (got - want * mv).abs() <= 1e-6 * (1.0 + want.abs() * mv),
                "{name} element {e}: {got} vs {}",
                want * mv
            );
        }
        // Trigger channels are raw; the others were scaled to mV.
        let sum: f64 = rec
            .channels
            .iter()
            .map(|c| {
                let s: f64 = c.samples.iter().map(|&v| f64::from(v)).sum();
                if c.kind == ChannelKind::Trigger {
                    s * mv
                } else {
                    s
                }
            })
            .sum();
        let want = f(&var["sum"]) * mv;
        assert!(
            (sum - want).abs() <= 1e-4 * (1.0 + want.abs()),
            "{name}: sum {sum} vs {want}"
        );
        assert_eq!(
            rec.len(),
            rows * cols / if sweeps { 1 } else { rec.channels.len() }
        );
    }
}

#[test]
fn reading_the_bytes_matches_reading_the_file() {
    for name in readable_fixtures() {
        let opts = sidecar_options(&name);
        let p = fixture(&name);
        let a = read_mat_file(&p, &opts).unwrap();
        let b = read_mat(&p, &std::fs::read(&p).unwrap(), &opts).unwrap();
        assert_eq!(a.channels.len(), b.channels.len(), "{name}");
        for (x, y) in a.channels.iter().zip(&b.channels) {
            assert_eq!(
                (&x.label, &x.unit, x.kind),
                (&y.label, &y.unit, y.kind),
                "{name}"
            );
            assert_eq!(x.samples, y.samples, "{name}");
        }
        assert_eq!(a.stimuli, b.stimuli, "{name}");
        assert_eq!(a.segments, b.segments, "{name}");
        assert_eq!(a.notes, b.notes, "{name}");
    }
}

#[test]
fn marker_times_become_the_stimuli() {
    // Spike2's event channel (title "Stim") and the v7.3 file's `rec.st`
    // (named by its sidecar) are events; channels.mat has a trigger line.
    for (name, source) in [
        ("spike2.mat", "events"),
        ("nested_v73.mat", "events"),
        ("channels.mat", "trigger_channel"),
    ] {
        let a = analyze(&fixture(name));
        assert_eq!(a["source"]["stimulus_source"], source, "{name}");
        let want = numbers(&meta(name)["expect"]["stimuli_s"]);
        let got = stimulus_times(&a);
        assert_eq!(got.len(), want.len(), "{name}: {got:?}");
        for (g, w) in got.iter().zip(&want) {
            // Half a sample at 10 kHz, and the JSON's 0.1 ms rounding.
            assert!((g - w).abs() <= 0.5e-4 + 1e-4, "{name}: {g} vs {w}");
        }
    }
    let rec = read("spike2.mat");
    let st = rec.stimuli.unwrap();
    assert_eq!(st.origin, StimulusOrigin::Events);
    let want = numbers(&meta("spike2.mat")["expect"]["stimuli_s"]);
    let at: Vec<usize> = want.iter().map(|t| (t * 1e4).round() as usize).collect();
    assert_eq!(st.samples, at);
}

#[test]
fn spike2_export_holds_the_wav_twins_samples() {
    let mat = read("spike2.mat");
    let wav = read_recording(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/edf/session.wav"),
        &ReadOptions {
            full_scale_mv: 32.768,
            ..ReadOptions::default()
        },
    )
    .unwrap();
    assert_eq!(mat.sample_rate.hz(), wav.sample_rate.hz());
    let (a, b) = (&mat.channels[0].samples, &wav.channels[0].samples);
    assert_eq!(a.len(), b.len());
    let worst = a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from((x - y).abs()))
        .fold(0.0, f64::max);
    assert!(worst <= 1e-6, "largest difference {worst} mV");
}

#[test]
fn spike2_export_gives_the_same_analysis_as_its_wav_twin() {
    // The WAV's sidecar (session.wav.rns.toml) gives its full scale.
    let wav =
        analyze(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/edf/session.wav"));
    let mat = analyze(&fixture("spike2.mat"));
    assert_eq!(
        mat["classification"]["pattern"],
        wav["classification"]["pattern"]
    );
    assert_eq!(mat["classification"]["pattern"], "mg_like");
    assert_eq!(trains(&mat).len(), trains(&wav).len());
    assert_eq!(trains(&mat).len(), 3);
    for (k, (tm, tw)) in trains(&mat).iter().zip(trains(&wav)).enumerate() {
        assert_eq!(tm["role"], tw["role"], "train {k}");
        let (rm, rw) = (
            tm["responses"].as_array().unwrap(),
            tw["responses"].as_array().unwrap(),
        );
        assert_eq!(rm.len(), rw.len(), "train {k}");
        for (a, b) in rm.iter().zip(rw) {
            let (x, y) = (f(&a["amplitude_mv"]), f(&b["amplitude_mv"]));
            assert!(((x - y) / y).abs() <= 0.005, "train {k}: {x} vs {y}");
        }
        for key in ["decrement_pct", "decrement_5th_pct", "area_decrement_pct"] {
            if let (Some(x), Some(y)) = (tm[key].as_f64(), tw[key].as_f64()) {
                assert!((x - y).abs() <= 0.3, "train {k} {key}: {x} vs {y}");
            }
        }
    }
    assert_eq!(mat["session"]["repair"], wav["session"]["repair"]);
}

#[test]
fn sweeps_analyse_as_the_wav_twins_baseline_train() {
    let wav =
        analyze(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/edf/session.wav"));
    let base = &trains(&wav)[0];
    // Columns with a time vector from -5 ms; rows with the sidecar's
    // layout and pre_stimulus_ms: the same sweeps, the same analysis.
    let a = analyze(&fixture("sweeps.mat"));
    let b = analyze(&fixture("sweeps_rows.mat"));
    assert_eq!(a["trains"], b["trains"]);
    assert_eq!(a["source"]["stimulus_source"], "sweeps");
    let t = &trains(&a)[0];
    assert_eq!(trains(&a).len(), 1);
    let (rs, rw) = (
        t["responses"].as_array().unwrap(),
        base["responses"].as_array().unwrap(),
    );
    assert_eq!(rs.len(), 6);
    for (x, y) in rs.iter().zip(rw) {
        let (x, y) = (f(&x["amplitude_mv"]), f(&y["amplitude_mv"]));
        // Sweeps of 25 ms measure the baseline over less signal.
        assert!(((x - y) / y).abs() <= 0.01, "{x} vs {y}");
    }
    let (x, y) = (f(&t["decrement_pct"]), f(&base["decrement_pct"]));
    assert!((x - y).abs() <= 0.5, "decrement {x} vs {y}");
    let rec = read("sweeps.mat");
    let st = rec.stimuli.unwrap();
    assert_eq!(st.origin, StimulusOrigin::Sweeps);
    assert_eq!(st.samples, vec![50, 300, 550, 800, 1050, 1300]);
}

#[test]
fn unsettled_names_ask_for_the_sidecar() {
    let name = "unnamed.mat";
    let want = meta(name)["expect"]["error"].as_str().unwrap().to_string();
    let out = rns().arg("analyze").arg(fixture(name)).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains(&want), "{err}");
    // The sidecar settles it.
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join(name);
    std::fs::copy(fixture(name), &file).unwrap();
    std::fs::write(
        tmp.path().join(format!("{name}.rns.toml")),
        "[mat]\nsignal = \"foo\"\n",
    )
    .unwrap();
    let i = json(&["inspect", "--format", "json"], &file);
    assert_eq!(i["channels"][0]["label"], "foo");
    assert_eq!(i["channels"][0]["samples"], 100);
    assert_eq!(f(&i["sample_rate_hz"]), 10_000.0);
}

#[test]
fn hostile_files_exit_3_with_one_line() {
    let seen = check_hostile_fixtures(&dir(), "mat", |m| {
        m["expect"]["error"].as_str().unwrap().to_string()
    });
    assert_eq!(seen, 8);
}

#[test]
fn every_cut_of_a_fixture_is_an_error_or_a_recording() {
    // Cut the level 5 and v7.3 files at many places: never a panic.
    for name in ["sweeps_rows.mat", "nested_v73.mat", "channels.mat"] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let opts = sidecar_options(name);
        let step = (bytes.len() / 97).max(1);
        for cut in (0..bytes.len()).step_by(step) {
            let _ = read_mat(Path::new(name), &bytes[..cut], &opts);
        }
    }
}

/// LabChart's MATLAB export, against the layout read with NumPy from
/// scipy.io.loadmat's arrays (`labchart_meta` in the fixture script).
#[test]
fn labchart_exports_agree_with_the_independent_reading() {
    for name in ["labchart.mat", "labchart_unplaced.mat"] {
        let m = meta(name);
        let rec = read(name);
        let want = m["channels"].as_array().unwrap();
        assert_eq!(rec.channels.len(), want.len(), "{name}");
        assert_eq!(
            rec.sample_rate.hz(),
            f(&want[0]["sample_rate_hz"]),
            "{name}"
        );
        for (c, w) in rec.channels.iter().zip(want) {
            assert_eq!(c.label, w["label"].as_str().unwrap(), "{name}");
            assert_eq!(c.unit, w["unit"].as_str().unwrap(), "{name}");
            assert_eq!(
                c.len as u64,
                w["samples"].as_u64().unwrap(),
                "{name} {}",
                c.label
            );
            if !c.is_loaded() {
                // Force, at 1 kHz: listed with its own rate.
                assert_eq!(c.sample_rate_hz, Some(f(&w["sample_rate_hz"])), "{name}");
                continue;
            }
            let b1 = w["block_samples"][0].as_u64().unwrap() as usize;
            for (key, at) in [("head", 0), ("block2_head", b1)] {
                for (j, v) in numbers(&w[key]).iter().enumerate() {
                    let got = f64::from(c.samples[at + j]);
                    assert!(
                        (got - v).abs() <= 1e-6,
                        "{name} {} {key}[{j}]: {got} vs {v}",
                        c.label
                    );
                }
            }
            let sum: f64 = c.samples.iter().map(|&x| f64::from(x)).sum();
            let want_sum = f(&w["sum"]);
            assert!(
                (sum - want_sum).abs() <= 1e-3 * want_sum.abs().max(1.0),
                "{name}: {sum} vs {want_sum}"
            );
        }
        assert_eq!(rec.channels[1].kind, ChannelKind::Trigger, "{name}");
        // Blocks: placed by their block times, or end to end without them.
        let starts: Vec<f64> = rec.segments.iter().map(|s| s.start_s).collect();
        let want: Vec<f64> = match m["block_start_s"].as_array() {
            Some(v) => v.iter().map(f).collect(),
            None => vec![0.0, f(&want[0]["block_samples"][0]) / rec.sample_rate.hz()],
        };
        assert_eq!(starts.len(), want.len(), "{name}");
        for (g, w) in starts.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-4, "{name}: block at {g} s vs {w} s");
        }
        let got: Vec<(String, f64)> = rec
            .annotations
            .iter()
            .map(|a| (a.text.clone(), a.onset_s))
            .collect();
        let want: Vec<(String, f64)> = m["comments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["text"].as_str().unwrap().to_string(), f(&c["onset_s"])))
            .collect();
        assert_eq!(got.len(), want.len(), "{name}");
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.0, w.0, "{name}");
            assert!((g.1 - w.1).abs() <= 1e-4, "{name}: {g:?} vs {w:?}");
        }
    }
    let i = json(
        &["inspect", "--format", "json"],
        &fixture("labchart_unplaced.mat"),
    );
    let notes = i["notes"].to_string();
    assert!(notes.contains("blocks laid end to end"), "{notes}");
}

/// The export's two blocks hold the WAV twin's rest train and first train
/// after exercise: the same responses, at the same times, with the roles
/// from the comments.
#[test]
fn labchart_export_gives_the_wav_twins_trains() {
    let wav = analyze(&dir().join("../edf/session.wav"));
    let lab = analyze(&fixture("labchart.mat"));
    assert_eq!(lab["source"]["format"], "mat_v5");
    assert_eq!(lab["source"]["stimulus_source"], "trigger_channel");
    assert_eq!(lab["classification"]["pattern"], "mg_like");
    let (tl, tw) = (trains(&lab), trains(&wav));
    assert_eq!(tl.len(), 2);
    for (k, (a, b)) in tl.iter().zip(tw).enumerate() {
        assert_eq!(a["role"], b["role"], "train {k}");
        assert_eq!(a["role_source"], "annotation", "train {k}");
        let (ra, rb) = (
            a["responses"].as_array().unwrap(),
            b["responses"].as_array().unwrap(),
        );
        assert_eq!(ra.len(), rb.len(), "train {k}");
        for (x, y) in ra.iter().zip(rb) {
            let (sx, sy) = (f(&x["stimulus_s"]), f(&y["stimulus_s"]));
            assert!((sx - sy).abs() <= 2e-4, "train {k}: stimulus {sx} vs {sy}");
            // Trigger edges here, artifact onsets in the WAV: within 1 %.
            let (ax, ay) = (f(&x["amplitude_mv"]), f(&y["amplitude_mv"]));
            assert!(((ax - ay) / ay).abs() <= 0.01, "train {k}: {ax} vs {ay}");
        }
        let (dx, dy) = (f(&a["decrement_pct"]), f(&b["decrement_pct"]));
        assert!((dx - dy).abs() <= 0.5, "train {k}: decrement {dx} vs {dy}");
    }
}
