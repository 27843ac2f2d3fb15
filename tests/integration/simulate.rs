//! The simulator validates the analyzer: recordings of known physiology must
//! give the intended pattern, and measured amplitudes must match the
//! simulator's noiseless truth. Also the `rns simulate` command itself.

use crate::util::rns;
use rns_analyzer::analysis::{analyze, Analysis};
use rns_analyzer::recording::Recording;
use rns_analyzer::settings::config::AnalysisConfig;
use rns_analyzer::sim::{self, Muscle, Preset, Protocol, ProtocolKind, SimOutput, SimSpec};
use rns_analyzer::units::SampleRate;
use rns_analyzer::vocab::{RoleSource, TrainRole};
use serde_json::Value;

fn run(preset: Preset, kind: ProtocolKind, seed: u64) -> (SimOutput, Analysis) {
    let spec = SimSpec {
        junction: preset.junction(),
        muscle: Muscle::parse("ADM").unwrap(),
        protocol: Protocol::standard(kind, 10, 50.0, 1.0),
        recording: sim::Recording::default(),
        seed,
    };
    let out = sim::simulate(&spec);
    let rec = Recording::single_channel(
        format!("{}-{}.sim", preset.name(), kind.name()),
        SampleRate::new(out.sample_rate_hz).unwrap(),
        out.samples.clone(),
    );
    let cfg = AnalysisConfig {
        muscle: Some("ADM".into()),
        ..AnalysisConfig::default()
    };
    let a = analyze(&rec, &cfg).unwrap_or_else(|e| panic!("{e}"));
    (out, a)
}

fn describe(a: &Analysis) -> String {
    let mut s = format!("pattern {}\n", a.classification.pattern);
    for f in &a.classification.findings {
        s.push_str(&format!("  - {}\n", f.message));
    }
    for q in &a.quality {
        s.push_str(&format!("  [{}] {}: {}\n", q.severity, q.code, q.message));
    }
    s
}

#[test]
fn simulated_physiology_gives_the_intended_pattern() {
    for (preset, kind, want) in [
        (Preset::Normal, ProtocolKind::Session, "normal"),
        (Preset::MgMild, ProtocolKind::Exhaustion, "mg_like"),
        (Preset::MgSevere, ProtocolKind::Baseline, "mg_like"),
        (Preset::Lems, ProtocolKind::BriefExercise, "lems_like"),
        (Preset::Lems, ProtocolKind::Hfs, "lems_like"),
    ] {
        let (_, a) = run(preset, kind, 11);
        assert_eq!(
            a.classification.pattern.name(),
            want,
            "{} {}:\n{}",
            preset.name(),
            kind.name(),
            describe(&a)
        );
    }
    // Botulism-like: small CMAP, moderate facilitation: never normal or MG-like.
    let (_, a) = run(Preset::BotulismLike, ProtocolKind::Hfs, 11);
    assert!(
        !matches!(a.classification.pattern.name(), "normal" | "mg_like"),
        "{}",
        describe(&a)
    );
}

#[test]
fn mg_exhaustion_protocol_shows_repair_and_exhaustion_in_the_analysis() {
    let (_, a) = run(Preset::MgMild, ProtocolKind::Exhaustion, 3);
    assert_eq!(a.session.repair, Some(true), "{}", describe(&a));
    assert_eq!(a.session.exhaustion, Some(true), "{}", describe(&a));
    assert_eq!(a.trains.len(), 6);
    for t in &a.trains[1..] {
        assert_eq!(t.role, TrainRole::PostExercise);
        assert_eq!(t.role_source, RoleSource::VoluntaryActivity);
    }
}

#[test]
fn measured_amplitudes_match_the_simulated_truth() {
    for (preset, kind) in [
        (Preset::MgMild, ProtocolKind::Baseline),
        (Preset::Lems, ProtocolKind::Hfs),
    ] {
        let (out, a) = run(preset, kind, 5);
        let measured: Vec<f64> = a
            .trains
            .iter()
            .flat_map(|t| t.responses.iter().map(|r| r.amplitude_mv))
            .collect();
        assert_eq!(measured.len(), out.truth.responses.len());
        for (m, t) in measured.iter().zip(&out.truth.responses) {
            // The simulated CMAP is a sum of dispersed unit potentials, not the
            // generator's template: allow 3 % (or 50 µV for tiny responses).
            let err = (m - t.amplitude_mv).abs();
            assert!(
                err <= (0.03 * t.amplitude_mv).max(0.05),
                "{} {}: measured {m} vs truth {}",
                preset.name(),
                kind.name(),
                t.amplitude_mv
            );
        }
    }
}

#[test]
fn simulate_command_writes_recording_truth_and_sidecar_deterministically() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, extra: &[&str]| {
        let out = dir.path().join(name);
        rns()
            .args([
                "simulate",
                "--preset",
                "mg-mild",
                "--protocol",
                "baseline",
                "--seed",
                "9",
                "--out",
            ])
            .arg(&out)
            .args(extra)
            .assert()
            .success();
        out
    };
    let a = run("a.wav", &[]);
    let b = run("b.wav", &[]);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let truth: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("a.wav.truth.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(truth["preset"], "mg-mild");
    assert_eq!(truth["intended_pattern"], "mg_like");
    assert_eq!(truth["responses"].as_array().unwrap().len(), 10);
    for k in ["stimulus_s", "amplitude_mv", "area_mv_ms", "fibres_fired"] {
        assert!(truth["responses"][0].get(k).is_some(), "{k}");
    }
    assert!(dir.path().join("a.wav.rns.toml").exists());
    // The analyzer reads what the simulator writes, sidecar included.
    let out = rns()
        .args(["analyze", "--format", "json"])
        .arg(&a)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["classification"]["pattern"], "mg_like");
    assert_eq!(v["protocol"]["muscle"], "ADM");
    // CSV and 16-bit WAV formats.
    let c = run("c.csv", &["--format", "csv"]);
    assert!(std::fs::read_to_string(&c)
        .unwrap()
        .starts_with("time_s,emg_mV"));
    run("d.wav", &["--format", "wav16"]);
    // EDF+: stimuli and roles come from its annotations, and the pattern holds.
    let e = run("e.edf", &["--format", "edf"]);
    let out = rns()
        .args(["analyze", "--format", "json"])
        .arg(&e)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["source"]["stimulus_source"], "annotations");
    assert_eq!(v["trains"][0]["role_source"], "annotation");
    assert_eq!(v["classification"]["pattern"], "mg_like");
}

#[test]
fn sweep_prints_the_teaching_curve() {
    let out = rns()
        .args(["simulate", "--sweep", "achr=1.0:0.4:0.2"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Vec<f64>> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.contains("CMAP"))
        .map(|l| l.split_whitespace().map(|x| x.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 4, "{text}");
    // With --plot the curve is drawn too (SVG here).
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("curve.svg");
    rns()
        .args(["simulate", "--sweep", "release=1.0:0.6:0.2", "--plot"])
        .arg(&svg)
        .assert()
        .success();
    let doc = std::fs::read_to_string(&svg).unwrap();
    assert!(doc.contains("<svg") && doc.contains("release"));
    // Decrement grows as receptors are lost.
    assert!(
        rows[3][2] > rows[1][2] && rows[1][2] >= rows[0][2] - 1.0,
        "{text}"
    );
}

#[test]
fn simulate_rejects_bad_arguments_with_usage_errors() {
    for args in [
        vec!["simulate", "--preset", "ms", "--out", "x.wav"],
        vec!["simulate", "--protocol", "jog", "--out", "x.wav"],
        vec!["simulate", "--achr=-1", "--out", "x.wav"],
        vec!["simulate", "--sweep", "achr=1:0.5"],
        vec!["simulate"],
        vec!["simulate", "--mains-hz", "0", "--out", "x.wav"],
        vec!["simulate", "--clip-mv=-1", "--out", "x.wav"],
        // A recording named for another format than it would be.
        vec!["simulate", "--format", "wav", "--out", "x.csv"],
        vec!["simulate", "--format", "csv", "--out", "x.wav"],
        vec!["simulate", "--out", "x.dat"],
    ] {
        let out = rns().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr)
                .trim_end()
                .lines()
                .count(),
            1
        );
    }
}

/// `--out x.csv` (or `.edf`) without `--format` writes that format.
#[test]
fn simulate_takes_the_format_from_the_file_name() {
    let dir = tempfile::tempdir().unwrap();
    for (name, format) in [
        ("x.csv", "csv_continuous"),
        ("x.edf", "edf_plus"),
        ("x.wav", "wav"),
    ] {
        let out = dir.path().join(name);
        rns()
            .args(["simulate", "--protocol", "baseline", "--out"])
            .arg(&out)
            .assert()
            .success();
        let o = rns()
            .args(["analyze", "--format", "json"])
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{name}");
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["source"]["format"], format, "{name}");
    }
}
