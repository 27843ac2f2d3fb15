//! EDF, EDF+ and BDF input, against files written by independent writers.
//!
//! The fixtures in `tests/fixtures/edf/` come from `scripts/make-edf-fixtures.py`:
//! pyedflib (EDFlib) wrote the EDF+C session, the plain EDF with two rates, the
//! BDF and the UTF-8 file; the script's own packer wrote the EDF+D. Each has a
//! `<file>.meta.json` from an independent reader (pyedflib, or edfio for the
//! EDF+D that EDFlib refuses), which `rns inspect` must agree with. The session
//! has a WAV twin holding the same samples; both must give the same analysis.

use crate::util::{check_hostile_fixtures, fixtures, meta_of, num, rns, rns_json};
use rns_analyzer::io::edf::{read_edf, read_edf_file};
use rns_analyzer::io::{read_recording, ChannelFilter, ReadOptions};
use rns_analyzer::recording::ChannelSel;
use rns_analyzer::vocab::FlagCode;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    fixtures("edf")
}

fn fixture(name: &str) -> PathBuf {
    dir().join(name)
}

fn meta(name: &str) -> Value {
    meta_of(&fixture(name))
}

/// Run `rns` and parse its JSON output; panics with stderr on failure.
fn json(args: &[&str], file: &Path) -> Value {
    rns_json(args, file)
}

fn inspect(file: &Path) -> Value {
    json(&["inspect", "--format", "json"], file)
}

fn analyze(file: &Path) -> Value {
    json(&["analyze", "--format", "json"], file)
}

/// The fixtures that are recordings (not the hostile ones), by name.
fn readable_fixtures() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| (n.ends_with(".edf") || n.ends_with(".bdf")) && !n.starts_with("hostile_"))
        .collect();
    v.sort();
    v
}

fn f(v: &Value) -> f64 {
    num(v)
}

/// Annotations as sortable (onset in µs, text, duration in µs) triples.
fn annotation_set(v: &Value) -> Vec<(i64, String, Option<i64>)> {
    let mut out: Vec<(i64, String, Option<i64>)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                (f(&a["onset_s"]) * 1e6).round() as i64,
                a["text"].as_str().unwrap().trim().to_string(),
                a["duration_s"].as_f64().map(|d| (d * 1e6).round() as i64),
            )
        })
        .collect();
    out.sort();
    out
}

/// A JSON array of numbers.
fn numbers(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(f).collect()
}

/// Analyse `file` (JSON) with a protocol sidecar holding `toml`, given by `--protocol`.
fn analyze_with_sidecar(toml: &str, file: &Path) -> Value {
    let tmp = tempfile::tempdir().unwrap();
    let side = tmp.path().join("p.rns.toml");
    std::fs::write(&side, toml).unwrap();
    let protocol = side.to_str().unwrap();
    json(
        &["analyze", "--format", "json", "--protocol", protocol],
        file,
    )
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

/// The stimulus times of analysis `a` of fixture `name`: as many as its
/// `expect.stimuli_s`, each within `tol` s of it.
#[track_caller]
fn assert_stimuli_as_expected(name: &str, a: &Value, tol: f64) -> Vec<f64> {
    let want = numbers(&meta(name)["expect"]["stimuli_s"]);
    let got = stimulus_times(a);
    assert_eq!(got.len(), want.len(), "{name}: {got:?}");
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() <= tol, "{name}: {g} vs {w}");
    }
    got
}

#[test]
fn inspect_agrees_with_the_independent_readers() {
    let names = readable_fixtures();
    assert!(names.len() >= 6, "{names:?}");
    for name in names {
        let m = meta(&name);
        let v = inspect(&fixture(&name));
        assert_eq!(v["format"], m["expect"]["format"], "{name}");
        let got = v["channels"].as_array().unwrap();
        let want = m["channels"].as_array().unwrap();
        assert_eq!(got.len(), want.len(), "{name}: channel count");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            // EDFlib cannot read UTF-8 labels: the script patched them in after reading.
            let label = m["label_patches"][i.to_string()]
                .as_str()
                .unwrap_or_else(|| w["label"].as_str().unwrap());
            assert_eq!(g["index"], i, "{name}");
            assert_eq!(g["label"], label, "{name}: label {i}");
            assert_eq!(
                f(&g["sample_rate_hz"]),
                f(&w["sample_rate_hz"]),
                "{name}: rate {i}"
            );
            assert_eq!(g["samples"], w["samples"], "{name}: samples {i}");
            assert_eq!(g["unit"], w["physical_dimension"], "{name}: unit {i}");
        }
        assert_eq!(
            annotation_set(&v["annotations"]),
            annotation_set(&m["annotations"]),
            "{name}: annotations"
        );
    }
}

#[test]
fn decoded_samples_agree_with_the_independent_reader() {
    // The first 32 physical values of each decoded channel, as pyedflib/edfio read them.
    for name in readable_fixtures() {
        let m = meta(&name);
        let rec = read_recording(&fixture(&name), &ReadOptions::default()).unwrap();
        for (i, head) in m["samples_head"].as_array().unwrap().iter().enumerate() {
            let ch = &rec.channels[i];
            if !ch.is_loaded() || name == "status.bdf" && ch.label == "Status" {
                // Another rate, or BioSemi's status word (kept as its low 16 bits).
                continue;
            }
            let to_mv = match ch.unit.as_str() {
                "uV" => 1e-3,
                _ => 1.0,
            };
            let w = &m["channels"][i];
            let step = (f(&w["physical_max"]) - f(&w["physical_min"]))
                / (f(&w["digital_max"]) - f(&w["digital_min"]));
            for (j, want) in head.as_array().unwrap().iter().enumerate() {
                let want = f(want) * to_mv;
                let got = f64::from(ch.samples[j]);
                assert!(
                    (got - want).abs() <= 1e-3 * step * to_mv + 1e-6 * want.abs(),
                    "{name} channel {i} sample {j}: {got} vs {want}"
                );
            }
        }
    }
}

#[test]
fn physical_values_round_trip_within_one_digital_step() {
    // two_rates.edf: pyedflib wrote 1000 sin(2π·37 t) + 200 sin(2π·3 t) µV at 5 kHz.
    let m = meta("two_rates.edf");
    let step_mv = f(&m["expect"]["digital_step"]["EMG APB"]) * 1e-3;
    let rec = read_recording(&fixture("two_rates.edf"), &ReadOptions::default()).unwrap();
    let x = &rec.channels[0].samples;
    assert_eq!(x.len(), 10_000);
    let mut worst: f64 = 0.0;
    for (i, &v) in x.iter().enumerate() {
        let t = i as f64 / 5000.0;
        let want = (1000.0 * (2.0 * std::f64::consts::PI * 37.0 * t).sin()
            + 200.0 * (2.0 * std::f64::consts::PI * 3.0 * t).sin())
            * 1e-3;
        worst = worst.max((f64::from(v) - want).abs());
    }
    // f32 adds ~1e-7 mV at 1.2 mV.
    assert!(
        worst <= step_mv + 2e-7,
        "worst {worst} mV, step {step_mv} mV"
    );
    // The 500 Hz force channel keeps its metadata but is not decoded.
    let force = &rec.channels[1];
    assert_eq!((force.len, force.sample_rate_hz), (1000, Some(500.0)));
    assert!(force.samples.is_empty());
}

#[test]
fn wav_twin_holds_the_same_samples_within_one_step() {
    let edf = read_recording(&fixture("session.edf"), &ReadOptions::default()).unwrap();
    let wav = read_recording(
        &fixture("session.wav"),
        &ReadOptions {
            full_scale_mv: f(&meta("session.edf")["expect"]["twin_full_scale_mv"]),
            ..ReadOptions::default()
        },
    )
    .unwrap();
    let (a, b) = (&edf.channels[0].samples, &wav.channels[0].samples);
    assert_eq!(a.len(), b.len());
    assert_eq!(edf.sample_rate.hz(), wav.sample_rate.hz());
    // Both grids are 1 µV; pyedflib truncates where the WAV encoder rounds.
    let worst = a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from((x - y).abs()))
        .fold(0.0, f64::max);
    assert!(worst <= 1e-3 + 1e-6, "largest difference {worst} mV");
}

#[test]
fn session_edf_gives_the_same_analysis_as_its_wav_twin() {
    // The WAV's sidecar (session.wav.rns.toml) gives its full scale.
    let wav = analyze(&fixture("session.wav"));
    let m = meta("session.edf");
    for name in ["session.edf", "session_stim.edf"] {
        let edf = analyze(&fixture(name));
        assert_eq!(
            edf["classification"]["pattern"], wav["classification"]["pattern"],
            "{name}"
        );
        assert_eq!(edf["classification"]["pattern"], "mg_like");
        assert_eq!(trains(&edf).len(), trains(&wav).len(), "{name}");
        for (k, (te, tw)) in trains(&edf).iter().zip(trains(&wav)).enumerate() {
            assert_eq!(te["role"], tw["role"], "{name} train {k}");
            assert_eq!(te["role"], m["expect"]["roles"][k], "{name} train {k}");
            // Roles come from the annotations in the EDF, from the contraction in the WAV.
            assert_eq!(te["role_source"], "annotation", "{name} train {k}");
            assert_eq!(tw["role_source"], "voluntary_activity");
            let (re, rw) = (
                te["responses"].as_array().unwrap(),
                tw["responses"].as_array().unwrap(),
            );
            assert_eq!(re.len(), rw.len(), "{name} train {k}");
            for (a, b) in re.iter().zip(rw) {
                let (x, y) = (f(&a["amplitude_mv"]), f(&b["amplitude_mv"]));
                assert!(((x - y) / y).abs() <= 0.005, "{name} train {k}: {x} vs {y}");
            }
            for key in ["decrement_pct", "decrement_5th_pct", "area_decrement_pct"] {
                if let (Some(x), Some(y)) = (te[key].as_f64(), tw[key].as_f64()) {
                    assert!((x - y).abs() <= 0.3, "{name} train {k} {key}: {x} vs {y}");
                }
            }
        }
        let s = &edf["session"];
        assert_eq!(s["exercise_source"], "annotation");
        assert_eq!(
            (f(&s["exercise_start_s"]), f(&s["exercise_end_s"])),
            (3.0, 8.0)
        );
        assert_eq!(s["repair"], wav["session"]["repair"]);
        assert_eq!(trains(&edf)[1]["delay_after_exercise_s"], 1.0);
    }
}

#[test]
fn stimuli_come_from_stimulus_annotations() {
    let a = analyze(&fixture("session_stim.edf"));
    assert_eq!(a["source"]["stimulus_source"], "annotations");
    // Half a sample at 10 kHz, plus EDFlib's 0.1 ms resolution of onsets.
    let got = assert_stimuli_as_expected("session_stim.edf", &a, 0.5e-4 + 1e-4);
    let i = inspect(&fixture("session_stim.edf"));
    assert_eq!(i["analyzer_would_use"]["stimulus_source"], "annotations");
    assert_eq!(i["analyzer_would_use"]["known_stimuli"], got.len());
    // Without stimulus annotations, the artifacts give them.
    let i = inspect(&fixture("session.edf"));
    assert_eq!(i["analyzer_would_use"]["stimulus_source"], "artifact_slope");
}

#[test]
fn edf_plus_d_gaps_and_sub_second_starts_are_honoured() {
    let m = meta("gaps.edf");
    let i = inspect(&fixture("gaps.edf"));
    let spans = |v: &Value| -> Vec<(f64, f64)> {
        let span = |s: &Value| (f(&s["start_s"]), f(&s["duration_s"]));
        v.as_array().unwrap().iter().map(span).collect()
    };
    let (segs, want) = (spans(&i["segments"]), spans(&m["expect"]["segments"]));
    assert_eq!(segs.len(), want.len());
    for (g, w) in segs.iter().zip(&want) {
        assert!(
            (g.0 - w.0).abs() < 1e-9 && (g.1 - w.1).abs() < 1e-9,
            "{g:?} vs {w:?}"
        );
    }
    let a = analyze(&fixture("gaps.edf"));
    assert_eq!(a["source"]["stimulus_source"], "annotations");
    assert_eq!(trains(&a).len(), 3);
    // Every annotated stimulus across the gaps, at its annotated time (within
    // half a sample at 5 kHz); the one annotated in a gap is not used.
    let got = assert_stimuli_as_expected("gaps.edf", &a, 1e-4 + 1e-9);
    let gap = f(&m["expect"]["stimulus_in_gap_s"]);
    assert!(got.iter().all(|g| (g - gap).abs() > 0.1));
}

#[test]
fn bdf_status_channel_is_the_trigger() {
    let i = inspect(&fixture("status.bdf"));
    assert_eq!(i["format"], "bdf");
    assert_eq!(i["channels"][1]["kind"], "trigger");
    assert_eq!(i["analyzer_would_use"]["trigger_channel"], 1);
    assert_eq!(
        i["analyzer_would_use"]["stimulus_source"],
        "trigger_channel"
    );
    let a = analyze(&fixture("status.bdf"));
    assert_eq!(a["source"]["stimulus_source"], "trigger_channel");
    assert_eq!(a["source"]["channel_label"], "EXG1");
    assert_stimuli_as_expected("status.bdf", &a, 1.0 / 4096.0);
}

#[test]
fn channel_by_label() {
    let session = fixture("session.edf");
    for sel in ["EMG ADM", "emg adm", "ADM", "0"] {
        let a = json(&["analyze", "--format", "json", "--channel", sel], &session);
        assert_eq!(a["source"]["channel"], 0, "{sel}");
        assert_eq!(a["source"]["channel_label"], "EMG ADM", "{sel}");
    }
    let out = rns()
        .args(["analyze", "--channel", "EMG APB"])
        .arg(&session)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("channel \"EMG APB\" does not exist (the file has 1 channel(s))"),
        "{err}"
    );
    let out = rns()
        .args(["inspect", "--channel", "EMG APB"])
        .arg(&session)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // UTF-8 label, by part of it.
    let i = json(
        &["inspect", "--format", "json", "--channel", "abductor µ"],
        &fixture("utf8.edf"),
    );
    assert_eq!(i["analyzer_would_use"]["channel_label"], "EMG Abductor µ");
    // The sidecar takes a label too.
    let a = analyze_with_sidecar("channel = \"EMG ADM\"\n", &session);
    assert_eq!(a["source"]["channel_label"], "EMG ADM");
}

#[test]
fn sidecar_roles_win_over_annotations() {
    let a = analyze_with_sidecar(
        "[[trains]]\nrole = \"baseline\"\n[[trains]]\nrole = \"baseline\"\n",
        &fixture("session.edf"),
    );
    let t = trains(&a);
    assert_eq!(
        (&t[0]["role_source"], &t[1]["role_source"]),
        (&"protocol".into(), &"protocol".into())
    );
    assert_eq!(t[1]["role"], "baseline");
    // The third train, which the sidecar does not name, keeps its annotation role.
    assert_eq!(
        (&t[2]["role"], &t[2]["role_source"]),
        (&"post_exercise".into(), &"annotation".into())
    );
}

#[test]
fn hostile_files_exit_3_with_one_line() {
    let seen = check_hostile_fixtures(&dir(), "edf", |m| {
        m["expected_error"].as_str().unwrap().to_string()
    });
    assert_eq!(seen, 6);
}

#[test]
fn inspect_reads_every_format_and_several_files() {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let out = rns()
        .args(["inspect", "--format", "json"])
        .arg(samples.join("normal_trigger.csv"))
        .arg(samples.join("mg_sweeps.csv"))
        .arg(samples.join("mg_session.wav"))
        .arg(fixture("hostile_ns.edf"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let v = v.as_array().unwrap();
    assert_eq!(v.len(), 4);
    assert_eq!(v[0]["format"], "csv_continuous");
    assert_eq!(v[0]["channels"][1]["kind"], "trigger");
    assert_eq!(v[0]["analyzer_would_use"]["trigger_channel"], 1);
    assert_eq!(
        v[0]["analyzer_would_use"]["stimulus_source"],
        "trigger_channel"
    );
    assert_eq!(v[1]["format"], "csv_sweeps");
    assert_eq!(v[1]["analyzer_would_use"]["stimulus_source"], "sweeps");
    assert_eq!(v[1]["analyzer_would_use"]["known_stimuli"], 10);
    assert_eq!(v[2]["format"], "wav");
    assert_eq!(v[2]["channels"][0]["label"], "ch0");
    assert_eq!(v[2]["channels"][0]["sample_rate_hz"], 5000.0);
    assert_eq!(v[2]["channels"][0]["samples"], 500_000);
    assert_eq!(v[2]["annotations"], Value::Array(vec![]));
    assert_eq!(
        v[2]["analyzer_would_use"]["stimulus_source"],
        "artifact_slope"
    );
    assert_eq!(v[3]["error"]["exit_code"], 3);
    assert!(v[3]["path"].as_str().unwrap().ends_with("hostile_ns.edf"));
    // Text output names the channels and annotations.
    let out = rns()
        .arg("inspect")
        .arg(fixture("utf8.edf"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for want in [
        "edf_plus",
        "EMG Abductor µ",
        "Übung",
        "Ruhe – Pause",
        "analyzer would use",
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
}

/// Every EDF and BDF the tests hold: the fixtures, hostile ones included, and
/// the EDF files of the malformed corpus.
fn every_edf_file() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut v: Vec<PathBuf> = ["tests/fixtures/edf", "tests/malformed"]
        .iter()
        .flat_map(|d| std::fs::read_dir(root.join(d)).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("edf") || e.eq_ignore_ascii_case("bdf"))
        })
        .collect();
    v.sort();
    v
}

/// The results of the streamed reader, the reader of the bytes and (for a
/// non-empty file) `read_recording`, as `Debug` text: every field of the
/// recording, each float in its shortest exact form, or the error.
fn three_readings(path: &Path, opts: &ReadOptions) -> [String; 3] {
    let bytes = std::fs::read(path).unwrap();
    let dispatched = if bytes.is_empty() {
        format!("{:?}", read_edf(path, &bytes, opts))
    } else {
        format!("{:?}", read_recording(path, opts))
    };
    [
        format!("{:?}", read_edf_file(path, opts)),
        format!("{:?}", read_edf(path, &bytes, opts)),
        dispatched,
    ]
}

#[test]
fn streamed_reading_matches_reading_the_bytes() {
    let files = every_edf_file();
    assert!(files.len() >= 16, "{files:?}");
    let select = |emg: Option<ChannelSel>, others: Vec<ChannelSel>| ReadOptions {
        channels: ChannelFilter::Select { emg, others },
        ..ReadOptions::default()
    };
    let options = [
        ReadOptions::default(),
        select(None, vec![]),
        select(Some(1.into()), vec![]),
        select(Some("emg".into()), vec![]),
        select(None, vec![2.into()]),
        ReadOptions {
            channels: ChannelFilter::Only(vec![1]),
            ..ReadOptions::default()
        },
    ];
    let tmp = tempfile::tempdir().unwrap();
    let mut compared = 0;
    let mut read_ok = 0;
    let mut recovered = 0;
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        for opts in &options {
            let [streamed, whole, dispatched] = three_readings(file, opts);
            assert_eq!(streamed, whole, "{name} {opts:?}");
            assert_eq!(dispatched, whole, "{name} {opts:?}");
            compared += 1;
            read_ok += usize::from(whole.starts_with("Ok("));
        }
        // The file cut short anywhere: in the header, between and inside
        // records (the truncated_file recovery), and just before its end.
        let bytes = std::fs::read(file).unwrap();
        let n = bytes.len();
        let mut cuts: Vec<usize> = vec![0, 1, 8, 255, 256, 257, 511, 512, 513, 767, 768, 769];
        cuts.extend((1..40).map(|k| n * k / 40));
        cuts.extend([
            n.saturating_sub(3),
            n.saturating_sub(2),
            n.saturating_sub(1),
        ]);
        cuts.retain(|&c| c < n);
        let cut_path = tmp.path().join(&name);
        for cut in cuts {
            std::fs::write(&cut_path, &bytes[..cut]).unwrap();
            let [streamed, whole, dispatched] = three_readings(&cut_path, &options[0]);
            assert_eq!(streamed, whole, "{name} cut at {cut}");
            assert_eq!(dispatched, whole, "{name} cut at {cut}");
            compared += 1;
            recovered += usize::from(whole.contains("code: TruncatedFile"));
        }
    }
    // Recordings were read (not only refused), and cut ones recovered.
    assert!(read_ok >= 20, "{read_ok} of {compared} read");
    assert!(recovered >= 100, "{recovered} of {compared} recovered");
}

#[test]
fn cut_fixtures_are_read_with_the_truncation_warning_by_both_readers() {
    let tmp = tempfile::tempdir().unwrap();
    for name in ["gaps.edf", "session.edf", "status.bdf"] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        // Half a record beyond the first few: the partial one is dropped.
        let path = tmp.path().join(name);
        std::fs::write(&path, &bytes[..bytes.len() * 2 / 3]).unwrap();
        let streamed = read_edf_file(&path, &ReadOptions::default()).unwrap();
        let whole = read_edf(
            &path,
            &std::fs::read(&path).unwrap(),
            &ReadOptions::default(),
        )
        .unwrap();
        assert_eq!(format!("{streamed:?}"), format!("{whole:?}"), "{name}");
        assert_eq!(streamed.notes.len(), 1, "{name}");
        assert_eq!(streamed.notes[0].code, FlagCode::TruncatedFile);
        assert!(
            streamed.notes[0]
                .message
                .contains("truncated file: the header declares"),
            "{name}: {}",
            streamed.notes[0].message
        );
    }
}

/// The pyedflib test recordings (`tests/fixtures/pyedflib/`, cut short; see
/// their ORIGIN.md), by path.
fn pyedflib_files() -> Vec<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pyedflib");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "edf" || e == "bdf"))
        .collect();
    v.sort();
    v
}

fn pyedflib_meta(p: &Path) -> Value {
    let text = std::fs::read_to_string(format!("{}.meta.json", p.display())).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Every pyedflib test file is described fully: every signal (annotation
/// signals aside) with its label, rate and whether it can be the EMG and why,
/// as the header (read by the fixture script, not by rns) says; six of the
/// seven have no signal at 2 kHz or more and are still listed.
#[test]
fn every_pyedflib_file_is_described_with_every_channel() {
    let files = pyedflib_files();
    assert_eq!(files.len(), 7);
    let mut analysable = 0;
    for p in &files {
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let m = pyedflib_meta(p);
        let rec = rns_analyzer::io::describe_recording(p, &ReadOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let signals: Vec<&Value> = m["signals"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["annotations"] == false)
            .collect();
        assert_eq!(rec.channels.len(), signals.len(), "{name}");
        let plan = rns_analyzer::analysis::plan_channels(&rec, &Default::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let i = rns_analyzer::output::inspect::inspect(&rec, &plan);
        let v: Value =
            serde_json::from_str(&rns_analyzer::output::inspect::render_json(&i)).unwrap();
        let any_fast = signals.iter().any(|s| f(&s["sample_rate_hz"]) >= 2000.0);
        for (c, s) in v["channels"].as_array().unwrap().iter().zip(&signals) {
            assert_eq!(c["label"], s["label"], "{name}");
            assert_eq!(c["unit"], s["dimension"], "{name}");
            assert!(
                (f(&c["sample_rate_hz"]) - f(&s["sample_rate_hz"])).abs() < 1e-6,
                "{name}"
            );
            assert_eq!(
                c["samples"].as_u64().unwrap(),
                s["samples_per_record"].as_u64().unwrap() * m["records"].as_u64().unwrap(),
                "{name}"
            );
            let fast = f(&s["sample_rate_hz"]) >= 2000.0;
            assert_eq!(c["usable"], fast, "{name}: {c}");
            if !fast {
                let want = format!("sampled at {} Hz, below 2000 Hz", s["sample_rate_hz"]);
                let want = want.replace(".0 Hz", " Hz");
                assert_eq!(c["why"], want.as_str(), "{name}");
            }
        }
        if any_fast {
            analysable += 1;
            assert!(v["not_analysable"].is_null(), "{name}");
            assert_eq!(v["channels"][0]["why"], "the EMG channel", "{name}");
        } else {
            let why = v["not_analysable"].as_str().unwrap();
            assert!(
                why.contains("outside the accepted range 2000–1000000 Hz"),
                "{name}: {why}"
            );
            assert!(rec.check_analysable().is_err());
        }
        // The text listing names every channel too.
        let text = rns_analyzer::output::inspect::render_text(&i);
        for s in &signals {
            assert!(
                text.contains(s["label"].as_str().unwrap()),
                "{name}: {text}"
            );
        }
    }
    assert_eq!(analysable, 1);
}

/// `rns analyze` on the pyedflib files: one line naming the file and the
/// rate for the six without a fast signal (exit 3, as before), a result or
/// "nothing to analyse" for the one at 2 kHz (test signals, no stimuli);
/// never a panic. `rns inspect` lists the 2 kHz one (exit 0).
#[test]
fn pyedflib_files_analyse_or_say_why_in_one_line() {
    for p in pyedflib_files() {
        let name = p.display().to_string();
        let out = rns()
            .args(["analyze", "--format", "json"])
            .arg(&p)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let fast = pyedflib_meta(&p)["signals"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["annotations"] == false && f(&s["sample_rate_hz"]) >= 2000.0);
        if fast {
            assert!(matches!(out.status.code(), Some(0 | 4)), "{name}: {stderr}");
            let i = inspect(&p);
            assert_eq!(i["channels"].as_array().unwrap().len(), 5);
        } else {
            assert_eq!(out.status.code(), Some(3), "{name}: {stderr}");
            assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
            assert!(
                stderr.starts_with(&format!("rns: {name}: channel 0 (")),
                "{stderr}"
            );
            assert!(stderr.contains("outside the accepted range"), "{stderr}");
        }
    }
}

/// Once `rns inspect` reads with `io::describe_recording` (src/bin/rns,
/// `inspect_file`), it lists every pyedflib file with exit 0.
#[test]
fn rns_inspect_lists_every_pyedflib_file_with_exit_0() {
    for p in pyedflib_files() {
        let v = inspect(&p);
        assert!(
            v["channels"].as_array().is_some_and(|c| !c.is_empty()),
            "{}",
            p.display()
        );
    }
}

/// A signal of [`plain_edf`]: label, dimension, samples per 1 s record,
/// physical range ±.
type PlainSignal<'a> = (&'a str, &'a str, usize, f64);

/// A minimal plain EDF: `signals` with the digital values of each record.
fn plain_edf(signals: &[PlainSignal<'_>], records: &[Vec<Vec<i16>>]) -> Vec<u8> {
    let pad = |s: &str, w: usize| format!("{s:<w$}").into_bytes();
    let ns = signals.len();
    let mut h = Vec::new();
    h.extend(pad("0", 8));
    h.extend(pad("X X X X", 80));
    h.extend(pad("Startdate X X X X", 80));
    h.extend(pad("01.01.24", 8));
    h.extend(pad("10.00.00", 8));
    h.extend(pad(&(256 * (ns + 1)).to_string(), 8));
    h.extend(pad("", 44));
    h.extend(pad(&records.len().to_string(), 8));
    h.extend(pad("1", 8));
    h.extend(pad(&ns.to_string(), 4));
    let field = |h: &mut Vec<u8>, w: usize, f: &dyn Fn(&PlainSignal<'_>) -> String| {
        for s in signals {
            h.extend(pad(&f(s), w));
        }
    };
    field(&mut h, 16, &|s| s.0.to_string());
    field(&mut h, 80, &|_| String::new());
    field(&mut h, 8, &|s| s.1.to_string());
    field(&mut h, 8, &|s| format!("{}", -s.3));
    field(&mut h, 8, &|s| format!("{}", s.3));
    field(&mut h, 8, &|_| "-32767".into());
    field(&mut h, 8, &|_| "32767".into());
    field(&mut h, 80, &|_| String::new());
    field(&mut h, 8, &|s| s.2.to_string());
    field(&mut h, 32, &|_| String::new());
    for r in records {
        for block in r {
            h.extend(block.iter().flat_map(|v| v.to_le_bytes()));
        }
    }
    h
}

/// An EDF whose first signal is a 100 Hz temperature and second a 200 Hz
/// sensor analyses without `--channel` (the EMG is the first signal at an
/// accepted rate), as the same EMG alone does; `rns inspect` lists all three
/// channels and says which can be the EMG.
#[test]
fn an_edf_with_slow_first_signals_analyses_without_channel() {
    use rns_analyzer::sim::synth::{generate, u_shaped_gains, SynthSpec, TrainSpec};
    let mut spec = SynthSpec::simple(
        10_000.0,
        vec![TrainSpec::from_gains(0.5, 3.0, &u_shaped_gains(8, 20.0))],
    );
    spec.duration_s = 4.0;
    let out = generate(&spec);
    let rate = out.sample_rate_hz as usize;
    let x = &out.samples;
    let range = 20.0; // mV
    let digital = |v: f32| {
        ((f64::from(v) / range * 32767.0)
            .round()
            .clamp(-32767.0, 32767.0)) as i16
    };
    let n_rec = x.len() / rate;
    let records: Vec<Vec<Vec<i16>>> = (0..n_rec)
        .map(|r| {
            vec![
                vec![3700; 100],
                vec![(r % 7) as i16; 200],
                x[r * rate..(r + 1) * rate]
                    .iter()
                    .map(|&v| digital(v))
                    .collect(),
            ]
        })
        .collect();
    let emg_only: Vec<Vec<Vec<i16>>> = records.iter().map(|r| vec![r[2].clone()]).collect();
    let dir = tempfile::tempdir().unwrap();
    let slow = dir.path().join("slow_first.edf");
    let alone = dir.path().join("emg_only.edf");
    std::fs::write(
        &slow,
        plain_edf(
            &[
                ("Temp", "degC", 100, 50.0),
                ("SpO2 sensor", "%", 200, 100.0),
                ("EMG ADM", "mV", rate, range),
            ],
            &records,
        ),
    )
    .unwrap();
    std::fs::write(
        &alone,
        plain_edf(&[("EMG ADM", "mV", rate, range)], &emg_only),
    )
    .unwrap();
    let a = analyze(&slow);
    let b = analyze(&alone);
    assert_eq!(a["trains"], b["trains"]);
    assert_eq!(a["classification"], b["classification"]);
    assert!(
        a["quality"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q["code"] == FlagCode::EmgChannelChosen.name()),
        "{}",
        a["quality"]
    );
    let i = inspect(&slow);
    let ch = i["channels"].as_array().unwrap();
    assert_eq!(ch.len(), 3);
    assert_eq!(i["analyzer_would_use"]["channel"], 2);
    assert_eq!(ch[0]["usable"], false);
    assert_eq!(ch[0]["why"], "sampled at 100 Hz, below 2000 Hz");
    assert_eq!(ch[1]["why"], "sampled at 200 Hz, below 2000 Hz");
    assert_eq!(ch[2]["usable"], true);
    assert_eq!(ch[2]["why"], "the EMG channel");
    assert_eq!(i["notes"][0]["code"], "emg_channel_chosen");
    assert_eq!(i["notes"][0]["severity"], "info");
    // Naming the slow channel is refused in one line, exit 3, as before.
    let out = rns()
        .args(["analyze", "--channel", "0"])
        .arg(&slow)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("channel 0 (\"Temp\") is sampled at 100 Hz")
    );
}
