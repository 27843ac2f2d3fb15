//! The malformed corpus (`tests/malformed/`): every broken file gives its
//! documented exit code and a one-line message that names the file and says
//! what is wrong, prints nothing on standard output and writes no output file;
//! the oddly built but valid ones are read. `rns inspect` never panics on any
//! of them. The expectations are in `tests/malformed/expected.toml`.

use crate::util::rns;
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/malformed")
}

/// One entry of `expected.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    file: String,
    /// What is wrong with the file (documentation only).
    #[allow(dead_code)]
    what: String,
    exit: i32,
    message: Option<String>,
    flag: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    case: Vec<Case>,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(corpus().join("expected.toml")).unwrap();
    toml::from_str::<Expected>(&text).unwrap().case
}

/// Run `rns analyze` on `path` with a JSON output file and check the outcome
/// against `exit`, `message` and `flag`.
fn check_analyze(path: &Path, exit: i32, message: Option<&str>, flag: Option<&str>) {
    let tmp = tempfile::tempdir().unwrap();
    let out_file = tmp.path().join("out.json");
    let out = rns()
        .arg("analyze")
        .arg(path)
        .args(["--format", "json", "-o"])
        .arg(&out_file)
        .output()
        .unwrap();
    let name = path.display().to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(exit), "{name}: {stderr}");
    assert!(out.stdout.is_empty(), "{name}: output went to stdout");
    if exit == 0 {
        let v: Value = serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
        assert!(v["classification"]["pattern"].is_string(), "{name}");
        if let Some(code) = flag {
            let flags = v["quality"].as_array().unwrap();
            let f = flags
                .iter()
                .find(|q| q["code"] == code)
                .unwrap_or_else(|| panic!("{name}: no {code} flag in {flags:#?}"));
            assert_eq!(f["severity"], "warning", "{name}");
        }
        return;
    }
    assert!(!out_file.exists(), "{name}: an output file was written");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{name}: {stderr}");
    assert!(
        stderr.starts_with(&format!("rns: {name}: ")),
        "{name}: the message does not name the file: {stderr}"
    );
    if let Some(m) = message {
        assert!(stderr.contains(m), "{name}: expected {m:?} in {stderr}");
    }
}

/// `rns inspect` exits 0, 2 or 3 (never a panic's 101) with one line per error.
fn check_inspect(path: &Path) {
    for format in ["text", "json"] {
        let out = rns()
            .arg("inspect")
            .arg(path)
            .args(["--format", format])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let code = out.status.code();
        assert!(
            matches!(code, Some(0 | 2 | 3)),
            "inspect {}: exit {code:?}: {stderr}",
            path.display()
        );
        assert!(stderr.trim_end().lines().count() <= 1, "{stderr}");
    }
}

#[test]
fn every_malformed_file_gives_its_documented_outcome() {
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    for c in &cases {
        assert!(
            c.exit == 0 || c.message.is_some(),
            "{}: a failure needs its message",
            c.file
        );
        let path = corpus().join(&c.file);
        assert!(path.is_file(), "{} is missing", path.display());
        check_analyze(&path, c.exit, c.message.as_deref(), c.flag.as_deref());
        check_inspect(&path);
    }
}

#[test]
fn every_file_of_the_corpus_has_an_expectation() {
    let listed: Vec<String> = cases().into_iter().map(|c| c.file).collect();
    for e in std::fs::read_dir(corpus()).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        if name == "expected.toml" {
            continue;
        }
        assert!(
            listed.contains(&name),
            "{name} has no entry in expected.toml"
        );
    }
}

#[test]
fn a_directory_given_as_a_file_is_unreadable() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("recording.wav");
    std::fs::create_dir(&dir).unwrap();
    check_analyze(&dir, 3, Some("cannot read file"), None);
    check_inspect(&dir);
}
