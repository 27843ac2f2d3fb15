//! The bundled samples: each is analysed by the `rns` binary and checked against
//! its `<file>.expected.json` (pattern, roles, stimulus source, quality codes)
//! and `<file>.truth.json`-derived figures (amplitudes within 3 %, areas within
//! 5 %, decrements within 1.5 points, increments within 5 points).

use crate::util::rns;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
}

fn sample_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(samples_dir())
        .expect("samples/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "wav" || e == "csv"))
        .collect();
    v.sort();
    v
}

fn analyze_json(path: &Path) -> Value {
    let out = rns()
        .args(["analyze", "--format", "json"])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: exit {:?}\n{}",
        path.display(),
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

fn f(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn check_sample(path: &Path) -> Vec<String> {
    let exp_path = PathBuf::from(format!("{}.expected.json", path.display()));
    let exp: Value = serde_json::from_str(&std::fs::read_to_string(&exp_path).unwrap()).unwrap();
    let got = analyze_json(path);
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let tol = &exp["tolerance"];
    let mut problems = Vec::new();
    let mut check = |ok: bool, what: String| {
        if !ok {
            problems.push(format!("{name}: {what}"));
        }
    };
    check(
        got["classification"]["pattern"] == exp["pattern"],
        format!(
            "pattern {} != {}",
            got["classification"]["pattern"], exp["pattern"]
        ),
    );
    check(
        got["source"]["stimulus_source"] == exp["stimulus_source"],
        format!("stimulus source {}", got["source"]["stimulus_source"]),
    );
    let gt = got["trains"].as_array().unwrap();
    let et = exp["trains"].as_array().unwrap();
    check(
        gt.len() == et.len(),
        format!("{} trains, expected {}", gt.len(), et.len()),
    );
    for (k, (g, e)) in gt.iter().zip(et).enumerate() {
        check(
            g["role"] == e["role"],
            format!("train {} role {} != {}", k + 1, g["role"], e["role"]),
        );
        let gr = g["responses"].as_array().unwrap();
        let ea = e["amplitudes_mv"].as_array().unwrap();
        let ear = e["areas_mv_ms"].as_array().unwrap();
        check(
            gr.len() == ea.len(),
            format!(
                "train {} has {} responses, expected {}",
                k + 1,
                gr.len(),
                ea.len()
            ),
        );
        for (j, r) in gr.iter().enumerate().take(ea.len()) {
            let (a, ta) = (f(&r["amplitude_mv"]).unwrap(), f(&ea[j]).unwrap());
            let err = (a - ta).abs() / ta * 100.0;
            // Tiny simulated responses (a few fibres) get an absolute floor.
            let floor = f(&tol["amplitude_floor_mv"]).unwrap_or(0.0);
            check(
                err <= f(&tol["amplitude_pct"]).unwrap() || (a - ta).abs() <= floor,
                format!(
                    "train {} resp {} amplitude {a} vs {ta} ({err:.2} %)",
                    k + 1,
                    j + 1
                ),
            );
            let (ar, tar) = (f(&r["area_mv_ms"]).unwrap(), f(&ear[j]).unwrap());
            let err = (ar - tar).abs() / tar * 100.0;
            let floor = floor * 4.0; // mV·ms: the floor over a ~4 ms phase
            check(
                err <= f(&tol["area_pct"]).unwrap() || (ar - tar).abs() <= floor,
                format!(
                    "train {} resp {} area {ar} vs {tar} ({err:.2} %)",
                    k + 1,
                    j + 1
                ),
            );
        }
        if let (Some(d), Some(td)) = (f(&g["decrement_pct"]), f(&e["decrement_pct"])) {
            check(
                (d - td).abs() <= f(&tol["decrement_points"]).unwrap(),
                format!("train {} decrement {d} vs {td}", k + 1),
            );
        }
        if let (Some(i), Some(ti)) = (f(&g["increment_pct"]), f(&e["max_increment_pct"])) {
            check(
                (i - ti).abs() <= f(&tol["increment_points"]).unwrap(),
                format!("train {} increment {i} vs {ti}", k + 1),
            );
        }
    }
    let codes: Vec<&str> = got["quality"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|q| q["code"].as_str())
        .collect();
    for c in exp["quality_codes"].as_array().unwrap() {
        check(
            codes.contains(&c.as_str().unwrap()),
            format!("missing quality code {c} (have {codes:?})"),
        );
    }
    let warnings: Vec<&str> = got["quality"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| q["severity"] == "warning")
        .filter_map(|q| q["code"].as_str())
        .collect();
    // Simulated small CMAPs are built from a changing subset of fibres, so
    // their latency and amplitude vary physiologically: such samples list the
    // warnings that may fire.
    let allowed: Vec<&str> = exp["allowed_warnings"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    let unexpected: Vec<&&str> = warnings.iter().filter(|w| !allowed.contains(w)).collect();
    check(
        unexpected.is_empty(),
        format!("unexpected warnings {unexpected:?}"),
    );
    for (k, v) in exp["session"].as_object().unwrap() {
        check(
            &got["session"][k] == v,
            format!("session.{k} {} != {v}", got["session"][k]),
        );
    }
    problems
}

#[test]
fn every_sample_matches_its_expected_result() {
    let files = sample_files();
    assert!(files.len() >= 8, "samples missing: {files:?}");
    let problems: Vec<String> = files.iter().flat_map(|p| check_sample(p)).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn samples_cover_every_pattern_and_format() {
    let files = sample_files();
    let mut patterns = std::collections::BTreeSet::new();
    let mut exts = std::collections::BTreeSet::new();
    for p in &files {
        let exp: Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{}.expected.json", p.display())).unwrap(),
        )
        .unwrap();
        patterns.insert(exp["pattern"].as_str().unwrap().to_string());
        exts.insert(p.extension().unwrap().to_string_lossy().to_string());
    }
    for p in ["normal", "mg_like", "lems_like"] {
        assert!(patterns.contains(p), "no sample with pattern {p}");
    }
    assert!(exts.contains("wav") && exts.contains("csv"));
}
