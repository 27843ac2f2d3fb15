//! The `rns` binary: formats, exit codes, error messages, output files,
//! determinism and the JSON contract (golden file).

use crate::util::{rns, sample};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// A 16-bit mono WAV of `secs` seconds of silence at 10 kHz.
fn silent_wav(dir: &Path) -> PathBuf {
    let p = dir.join("silence.wav");
    let bytes = rns_analyzer::export::wav::encode_wav(
        &[&vec![0.0f32; 20_000]],
        10_000,
        1.0,
        rns_analyzer::export::wav::WavSampleFormat::Int16,
    )
    .unwrap();
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn help_and_version_succeed() {
    rns().arg("--help").assert().success();
    rns().args(["analyze", "--help"]).assert().success();
    rns().arg("--version").assert().success();
}

#[test]
fn usage_errors_exit_2() {
    let out = rns().output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = rns().args(["analyze"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = rns()
        .args(["analyze", "--format", "xml"])
        .arg(sample("normal_adm.wav"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = rns()
        .args(["analyze", "--full-scale-mv", "-3"])
        .arg(sample("normal_adm.wav"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("full-scale"));
    for bad in ["15:2", "2-15", "0:60"] {
        let out = rns()
            .args(["analyze", "--window-ms", bad])
            .arg(sample("normal_adm.wav"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr_of(&out));
        let err = stderr_of(&out);
        assert!(
            err.contains("--window-ms") && err.lines().count() == 1,
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }
    // A window around the M-wave changes nothing on a clean recording.
    let run = |extra: &[&str]| {
        rns()
            .args(["analyze", "--format", "json"])
            .args(extra)
            .arg(sample("normal_adm.wav"))
            .output()
            .unwrap()
    };
    let (plain, windowed) = (run(&[]), run(&["--window-ms", "2:15"]));
    assert_eq!(windowed.status.code(), Some(0), "{}", stderr_of(&windowed));
    let amps = |o: &std::process::Output| {
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["trains"][0]["responses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["amplitude_mv"].as_f64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(amps(&plain), amps(&windowed));
}

#[test]
fn missing_file_exits_3_with_one_line_naming_it() {
    let out = rns()
        .args(["analyze", "no/such/file.wav"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = stderr_of(&out);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("no/such/file.wav"), "{err}");
    assert!(out.stdout.is_empty());
}

/// Hostile magnitudes, from a flag or from a file's header, are written in
/// exponent form: the message stays one short line.
#[test]
fn huge_numbers_keep_errors_short() {
    let out = rns()
        .args(["analyze", "--sample-rate", "1e300"])
        .arg(sample("mg_sweeps.csv"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let flag_err = stderr_of(&out);
    assert!(flag_err.contains("got 1e300"), "{flag_err}");

    // A CSV whose time column steps by 1e300 s.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("slow.csv");
    std::fs::write(&csv, "time_s,emg_mV\n0,1\n1e300,2\n2e300,3\n").unwrap();
    let out = rns().arg("analyze").arg(&csv).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = stderr_of(&out);
    assert!(
        err.contains("sample rate 1e-300 Hz") && err.contains("step 1e300 s"),
        "{err}"
    );
    for err in [flag_err, err] {
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.len() < 300, "{err}");
    }
}

#[test]
fn garbage_and_unknown_formats_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.wav");
    std::fs::write(&bad, b"RIFF\x10\x00\x00\x00WAVEjunkjunk").unwrap();
    let out = rns().arg("analyze").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("broken.wav"));
    let unk = dir.path().join("notes.docx");
    std::fs::write(&unk, b"PK\x03\x04 not a recording").unwrap();
    let out = rns().arg("analyze").arg(&unk).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr_of(&out).contains("unsupported format"));
}

#[test]
fn silence_is_nothing_to_analyse_exit_4() {
    let dir = tempfile::tempdir().unwrap();
    let p = silent_wav(dir.path());
    let out = rns()
        .args(["analyze", "--format", "json"])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("nothing to analyse"));
    assert!(out.stdout.is_empty(), "no partial JSON");
}

#[test]
fn json_has_every_contract_field() {
    let out = rns()
        .args(["analyze", "--format", "json"])
        .arg(sample("mg_session.wav"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema_version"], 1);
    for k in ["path", "format", "sample_rate_hz", "channel", "polarity"] {
        assert!(v["source"].get(k).is_some(), "source.{k}");
    }
    for k in [
        "post_exercise_increment_pct",
        "post_exercise_area_increment_pct",
        "classification",
        "quality",
        "trains",
    ] {
        assert!(v.get(k).is_some(), "{k}");
    }
    let t = &v["trains"][0];
    for k in [
        "index",
        "role",
        "role_source",
        "rate_hz",
        "start_s",
        "delay_after_exercise_s",
        "responses",
        "decrement_pct",
        "decrement_5th_pct",
        "max_decrement_pct",
        "area_decrement_pct",
        "increment_pct",
        "area_increment_pct",
        "shape",
    ] {
        assert!(t.get(k).is_some(), "trains[].{k}");
    }
    let r = &t["responses"][0];
    for k in [
        "index",
        "stimulus_s",
        "latency_ms",
        "amplitude_mv",
        "peak_to_peak_mv",
        "area_mv_ms",
        "duration_ms",
    ] {
        assert!(r.get(k).is_some(), "responses[].{k}");
    }
    assert!(v["classification"]["pattern"].is_string());
    assert!(v["classification"]["findings"].is_array());
    // Fields that do not apply are null: a low-rate train has no increment.
    assert!(t["increment_pct"].is_null());
}

#[test]
fn several_files_give_an_array_and_the_worst_exit_code() {
    let out = rns()
        .args(["analyze", "--format", "json"])
        .arg(sample("normal_adm.wav"))
        .arg("missing.wav")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 2);
    assert_eq!(arr[0]["classification"]["pattern"], "normal");
    assert_eq!(arr[1]["error"]["exit_code"], 3);
    assert!(arr[1]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("missing.wav"));
}

#[test]
fn csv_has_one_row_per_response() {
    let out = rns()
        .args(["analyze", "--format", "csv"])
        .arg(sample("normal_adm.wav"))
        .arg(sample("mg_sweeps.csv"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    assert_eq!(&headers[0], "path");
    assert!(headers.iter().any(|h| h == "amplitude_mv"));
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 20 + 10);
}

#[test]
fn text_summary_names_the_pattern_and_trains() {
    let out = rns()
        .arg("analyze")
        .arg(sample("mg_session.wav"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("PATTERN: MG-LIKE"), "{text}");
    assert!(text.contains("Train 3"));
    assert!(text.contains("repair yes"));
}

#[test]
fn output_file_is_written_whole_and_only_on_success() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out.json");
    rns()
        .args(["analyze", "--format", "json", "--output"])
        .arg(&dest)
        .arg(sample("hfs_lems.wav"))
        .assert()
        .success();
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&dest).unwrap()).unwrap();
    assert_eq!(v["classification"]["pattern"], "lems_like");
    let dest2 = dir.path().join("none.json");
    let silent = silent_wav(dir.path());
    let out = rns()
        .args(["analyze", "--format", "json", "--output"])
        .arg(&dest2)
        .arg(&silent)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(!dest2.exists(), "no output file on failure");
    // No temporary files left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
}

#[test]
fn inputs_are_not_modified() {
    let p = sample("normal_trigger.csv");
    let before = std::fs::read(&p).unwrap();
    rns()
        .args(["analyze", "--format", "json"])
        .arg(&p)
        .assert()
        .success();
    assert_eq!(before, std::fs::read(&p).unwrap());
}

#[test]
fn same_input_same_bytes() {
    let run = || {
        rns()
            .args(["analyze", "--format", "json"])
            .arg(sample("lems_session.wav"))
            .arg(sample("mg_sweeps.csv"))
            .output()
            .unwrap()
            .stdout
    };
    assert_eq!(run(), run());
}

/// The analysis splits its passes over the signal across threads; the
/// results must not depend on how many there are.
#[test]
fn same_bytes_on_any_number_of_threads() {
    let run = |threads: &str| {
        let out = rns()
            .env("RAYON_NUM_THREADS", threads)
            .args(["analyze", "--format", "json"])
            .arg(sample("mg_session.wav"))
            .arg(sample("lems_brief_exercise.csv"))
            .arg(sample("hfs_lems.wav"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{threads} threads: {}",
            stderr_of(&out)
        );
        out.stdout
    };
    let one = run("1");
    for threads in ["2", "3", "7"] {
        assert!(one == run(threads), "{threads} threads differ from one");
    }
}

#[test]
fn criteria_file_changes_thresholds_and_bad_one_is_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path().join("strict.toml");
    // A lab that calls only decrements above 40 % abnormal.
    std::fs::write(
        &c,
        "[decrement]\nabnormal_pct = 40.0\nequivocal_pct = 30.0\n",
    )
    .unwrap();
    let out = rns()
        .args(["analyze", "--format", "json", "--criteria"])
        .arg(&c)
        .arg(sample("mg_sweeps.csv"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["classification"]["pattern"], "normal");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[decrement]\nabnormal_pct = \"ten\"\n").unwrap();
    let out = rns()
        .args(["analyze", "--criteria"])
        .arg(&bad)
        .arg(sample("mg_sweeps.csv"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("bad.toml"));
    assert_eq!(stderr_of(&out).trim_end().lines().count(), 1);
}

#[test]
fn protocol_flag_overrides_sidecar() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("proto.toml");
    std::fs::write(
        &p,
        "muscle = \"APB\"\nrate_hz = 3.0\ntemperature_c = 30.0\n",
    )
    .unwrap();
    let out = rns()
        .args(["analyze", "--format", "json", "--protocol"])
        .arg(&p)
        .arg(sample("mg_sweeps.csv"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["protocol"]["temperature_c"], 30.0);
    let codes: Vec<&str> = v["quality"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"low_temperature"), "{codes:?}");
    // A broken sidecar is a usage error naming it.
    let bad = dir.path().join("bad.rns.toml");
    std::fs::write(&bad, "muscle = 3\n").unwrap();
    let out = rns()
        .args(["analyze", "--protocol"])
        .arg(&bad)
        .arg(sample("mg_sweeps.csv"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("bad.rns.toml"));
}

#[test]
fn polarity_can_be_forced() {
    let out = rns()
        .args(["analyze", "--format", "json", "--polarity", "negative"])
        .arg(sample("normal_adm.wav"))
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["source"]["polarity"], "negative");
    assert_eq!(v["source"]["polarity_source"], "user");
}

/// The full JSON of one sample is a golden file: any change to the numbers or
/// the contract shows up here. Regenerate with `UPDATE_GOLDEN=1 cargo test`.
#[test]
fn golden_json_of_mg_session() {
    let out = rns()
        .args(["analyze", "--format", "json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("samples/mg_session.wav")
        .output()
        .unwrap();
    assert!(out.status.success());
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/mg_session.json");
    let mut got = String::from_utf8(out.stdout).unwrap();
    // The tool version is not part of what the golden file pins.
    got = got.replace(
        &format!("\"version\": \"{}\"", env!("CARGO_PKG_VERSION")),
        "\"version\": \"VERSION\"",
    );
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::write(&golden, &got).unwrap();
    }
    let want = std::fs::read_to_string(&golden).expect("golden file (UPDATE_GOLDEN=1 to create)");
    assert_eq!(got, want, "JSON differs from tests/golden/mg_session.json");
}

/// Garbage beside a `stimulus_V` column that steps up once per "sweep" (a
/// recruitment's intensity): the column is the stimulus intensity, not the
/// trigger, so its steps are no stimuli and the noise gives nothing to
/// analyse (or an indeterminate result), never a pattern from the
/// intensity's steps. `rns inspect` shows the column as the intensity.
#[test]
fn a_stimulus_intensity_column_is_not_taken_for_the_trigger() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("garbage.csv");
    let mut text = String::from("time_s,emg_mV,stimulus_V\n");
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for i in 0..40_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let noise = (x % 2001) as f64 / 1000.0 - 1.0;
        let intensity = 0.3 + 0.05 * (i / 3_333) as f64;
        text.push_str(&format!(
            "{:.4},{noise:.4},{intensity:.2}\n",
            i as f64 / 10_000.0
        ));
    }
    std::fs::write(&p, text).unwrap();
    let out = rns()
        .args(["analyze", "--format", "json"])
        .arg(&p)
        .output()
        .unwrap();
    match out.status.code() {
        Some(4) => assert!(stderr_of(&out).contains("no stimulus artifact found")),
        Some(0) => {
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_ne!(v["source"]["stimulus_source"], "trigger_channel");
            assert_eq!(v["classification"]["pattern"], "indeterminate");
        }
        c => panic!("exit {c:?}: {}", stderr_of(&out)),
    }
    let out = rns()
        .args(["inspect", "--format", "json"])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["channels"][1]["kind"], "intensity");
    assert_eq!(v["channels"][1]["usable"], false);
    assert_eq!(v["stimulus_intensity"]["label"], "stimulus_V");
    assert_eq!(v["stimulus_intensity"]["channel"], 1);
    assert_eq!(v["analyzer_would_use"]["stimulus_source"], "artifact_slope");
    assert_eq!(v["notes"][0]["code"], "intensity_column");
    // Named with --trigger-channel, its rising edges are the stimuli.
    let out = rns()
        .args([
            "inspect",
            "--format",
            "json",
            "--trigger-channel",
            "stimulus_V",
        ])
        .arg(&p)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["analyzer_would_use"]["trigger_channel"], 1);
}
