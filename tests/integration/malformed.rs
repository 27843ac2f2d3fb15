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

/// `rns analyze` and `rns inspect` on `path` end quickly (a FIFO must not
/// block them) with exit 3 and one line naming the file and `message`.
#[cfg(unix)]
fn refused_quickly(path: &Path, message: &str) {
    use std::time::Duration;
    let name = path.display().to_string();
    for args in [
        &["analyze"][..],
        &["inspect"],
        &["inspect", "--format", "json"],
    ] {
        let out = rns()
            .args(args)
            .arg(path)
            .timeout(Duration::from_secs(20))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?} {name}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?} {name}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with(&format!("rns: {name}: cannot read file: "))
                && stderr.contains(message),
            "{args:?}: expected {message:?} in {stderr}"
        );
    }
}

#[cfg(unix)]
#[test]
fn fifos_devices_and_sockets_are_refused_without_blocking() {
    use std::os::unix::fs::symlink;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // A FIFO with no writer: opening it for reading would block forever.
    let fifo = dir.join("rec.csv");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if made.map(|s| s.success()).unwrap_or(false) {
        refused_quickly(&fifo, "is a FIFO (named pipe), not a regular file");
        // The library call a batch makes after its folder walk: no hang either.
        let (tx, rx) = std::sync::mpsc::channel();
        let f = fifo.clone();
        std::thread::spawn(move || {
            let r = rns_analyzer::io::read_recording(&f, &Default::default());
            let _ = tx.send(r.map(|_| ()).map_err(|e| e.to_string()));
        });
        let got = rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("reading a FIFO must not block");
        assert!(got.unwrap_err().contains("is a FIFO (named pipe)"));
        // A FIFO given as the protocol sidecar: a usage error, not a hang.
        let side = dir.join("side.rns.toml");
        assert!(std::process::Command::new("mkfifo")
            .arg(&side)
            .status()
            .unwrap()
            .success());
        let out = rns()
            .arg("analyze")
            .arg(corpus().join("wav_list_chunk.wav"))
            .arg("--protocol")
            .arg(&side)
            .timeout(std::time::Duration::from_secs(20))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("invalid protocol sidecar: cannot read: is a FIFO (named pipe)"),
            "{stderr}"
        );
    } else {
        println!("SKIPPED: mkfifo not available");
    }
    // /dev/zero behind a symlink named like a CSV (it would never end), and
    // /dev/null as it is.
    let zero = dir.join("zero.csv");
    symlink("/dev/zero", &zero).unwrap();
    refused_quickly(&zero, "is a character device, not a regular file");
    let null = dir.join("null.wav");
    symlink("/dev/null", &null).unwrap();
    refused_quickly(&null, "is a character device, not a regular file");
    refused_quickly(Path::new("/dev/zero"), "is a character device");
    // A socket.
    let sock = dir.join("rec.edf");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    refused_quickly(&sock, "is a socket, not a regular file");
    // A directory.
    let folder = dir.join("folder.wav");
    std::fs::create_dir(&folder).unwrap();
    refused_quickly(&folder, "is a directory, not a regular file");
    // A symlink to a regular file is read as the file.
    let link = dir.join("link.csv");
    symlink(corpus().join("csv_bom_crlf.csv"), &link).unwrap();
    let out = rns().arg("inspect").arg(&link).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
