//! Shared helpers for the integration tests.

use assert_cmd::Command;
use rns_analyzer::analysis::{analyze, Analysis};
use rns_analyzer::settings::config::AnalysisConfig;
use rns_analyzer::sim::synth::{generate, SynthOutput, SynthSpec};
use std::fmt::Display;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// The `rns` binary under test.
pub fn rns() -> Command {
    Command::cargo_bin("rns").unwrap()
}

/// A bundled sample, by file name.
pub fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(name)
}

/// Generate a synthetic recording and analyse it with `cfg`.
pub fn run_synth(spec: &SynthSpec, cfg: &AnalysisConfig) -> (SynthOutput, Analysis) {
    let out = generate(spec);
    let rec = out.to_recording().expect("valid synthetic recording");
    let a = analyze(&rec, cfg).unwrap_or_else(|e| panic!("analysis failed: {e}"));
    (out, a)
}

/// Run `check` on every case of a table, then fail once if any case failed,
/// naming each failed case with its panic message: a table-driven test thus
/// reports every failing case by name, not only the first.
#[track_caller]
pub fn check_cases<N: Display, C>(cases: impl IntoIterator<Item = (N, C)>, check: impl Fn(C)) {
    let mut failures = Vec::new();
    for (name, case) in cases {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| check(case))) {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            failures.push(format!("{name}: {message}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Read a recording the way the CLI does: its sidecar (`<file>.rns.toml`)
/// applies when there is one, with the default criteria.
pub fn load_with_sidecar(
    path: &Path,
) -> (
    rns_analyzer::recording::Recording,
    rns_analyzer::settings::config::Settings,
) {
    use rns_analyzer::settings::config::{Overrides, Settings};
    use rns_analyzer::settings::criteria::Criteria;
    use rns_analyzer::settings::protocol::Protocol;
    let side = Protocol::sidecar_path(path);
    let protocol = side.is_file().then(|| Protocol::load(&side).unwrap());
    let settings = Settings::merge(
        &Overrides::default(),
        protocol.as_ref(),
        Criteria::default(),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let rec = rns_analyzer::io::read_recording(path, &settings.read)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (rec, settings)
}

/// A folder of fixtures, `tests/fixtures/<sub>`.
pub fn fixtures(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(sub)
}

/// The `<file>.meta.json` an independent reader wrote beside a fixture.
pub fn meta_of(file: &Path) -> serde_json::Value {
    let mut name = file.as_os_str().to_owned();
    name.push(".meta.json");
    let text = std::fs::read_to_string(&name)
        .unwrap_or_else(|e| panic!("{}: {e}", Path::new(&name).display()));
    serde_json::from_str(&text).unwrap()
}

/// Run `rns` with `args` on `file` and parse its JSON output; panics with
/// its stderr when it fails.
pub fn rns_json(args: &[&str], file: &Path) -> serde_json::Value {
    let out = rns().args(args).arg(file).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?} {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A JSON number, or a panic naming the value.
pub fn num(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// Every `hostile_*.<ext>` fixture in `dir`: `rns analyze` and `rns inspect`
/// exit 3, write nothing on stdout and one line on stderr that names the
/// file and holds what its meta expects (`expected`); how many there were.
pub fn check_hostile_fixtures(
    dir: &Path,
    ext: &str,
    expected: impl Fn(&serde_json::Value) -> String,
) -> usize {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("hostile_") && n.ends_with(&format!(".{ext}")))
        .collect();
    names.sort();
    for name in &names {
        let file = dir.join(name);
        let want = expected(&meta_of(&file));
        for cmd in ["analyze", "inspect"] {
            let out = rns().arg(cmd).arg(&file).output().unwrap();
            assert_eq!(out.status.code(), Some(3), "{cmd} {name}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(err.trim_end().lines().count(), 1, "{cmd} {name}: {err}");
            assert!(err.contains(&want), "{cmd} {name}: {err}");
            assert!(err.contains(name.as_str()), "{cmd} {name}: {err}");
            assert!(out.stdout.is_empty(), "{cmd} {name}");
        }
    }
    names.len()
}
