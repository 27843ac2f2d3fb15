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
