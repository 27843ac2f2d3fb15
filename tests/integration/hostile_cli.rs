//! Hostile use of the command line (issue 15): thread counts that would
//! hang, outputs that would replace an input or land outside the output
//! folder, cells a spreadsheet would evaluate, sizes no CMAP has, config
//! files that cannot be opened.

use crate::util::{rns, sample};
use rns_analyzer::analysis::analyze;
use rns_analyzer::settings::config::AnalysisConfig;
use rns_analyzer::sim::synth::{generate, SynthSpec, TrainSpec};
use rns_analyzer::vocab::{FlagCode, Pattern, Severity};
use std::path::Path;
use std::time::Duration;

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn copy_sample(name: &str, to: &Path) {
    std::fs::copy(sample(name), to).unwrap();
}

#[test]
fn huge_thread_counts_are_lowered_and_finish() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    copy_sample("normal_adm.wav", &input.join("a.wav"));
    let out = rns()
        .args(["batch"])
        .arg(&input)
        .arg("--out")
        .arg(dir.path().join("out"))
        .args(["--jobs", "100000"])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("--jobs 100000 is more workers than help; using"));
    let out = rns()
        .args(["analyze"])
        .arg(sample("normal_adm.wav"))
        .env("RAYON_NUM_THREADS", "100000")
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("RAYON_NUM_THREADS=100000"));
}

#[test]
fn an_output_that_is_an_input_is_refused_and_the_input_kept() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("x.wav");
    copy_sample("normal_adm.wav", &rec);
    let before = std::fs::read(&rec).unwrap();
    // The recording itself, spelled another way.
    let same = dir.path().join(".").join("x.wav");
    let out = rns()
        .arg("analyze")
        .arg(&rec)
        .args(["--format", "csv", "-o"])
        .arg(&same)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("is the recording"),
        "{}",
        stderr_of(&out)
    );
    // Its sidecar, and a criteria file.
    let side = dir.path().join("x.wav.rns.toml");
    std::fs::write(&side, "muscle = \"ADM\"\n").unwrap();
    let crit = dir.path().join("lab.toml");
    std::fs::write(&crit, "[decrement]\nabnormal_pct = 8.0\n").unwrap();
    for target in [&side, &crit] {
        let out = rns()
            .arg("analyze")
            .arg(&rec)
            .arg("--criteria")
            .arg(&crit)
            .arg("-o")
            .arg(target)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    }
    assert_eq!(std::fs::read(&rec).unwrap(), before);
    assert_eq!(
        std::fs::read_to_string(&side).unwrap(),
        "muscle = \"ADM\"\n"
    );
    // `rns report --force` of a WAV named rec.json into its own folder.
    let json_named = dir.path().join("rec.json");
    copy_sample("normal_adm.wav", &json_named);
    let out = rns()
        .arg("report")
        .arg(&json_named)
        .arg("--out")
        .arg(dir.path())
        .arg("--force")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert_eq!(std::fs::read(&json_named).unwrap(), before);
    // A criteria file where batch writes its summary.
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    copy_sample("normal_adm.wav", &input.join("a.wav"));
    let bout = dir.path().join("bout");
    std::fs::create_dir(&bout).unwrap();
    let planted = bout.join("summary.csv");
    std::fs::write(&planted, "[decrement]\nabnormal_pct = 8.0\n").unwrap();
    let out = rns()
        .arg("batch")
        .arg(&input)
        .arg("--out")
        .arg(&bout)
        .arg("--force")
        .arg("--criteria")
        .arg(&planted)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(std::fs::read_to_string(&planted)
        .unwrap()
        .starts_with("[decrement]"));
}

#[test]
fn report_names_stay_inside_the_output_folder() {
    let dir = tempfile::tempdir().unwrap();
    let names = ["...wav", "..wav", ".wav", "a\u{1b}[31m.wav"];
    let mut files = Vec::new();
    for n in names {
        let p = dir.path().join(n);
        copy_sample("normal_adm.wav", &p);
        files.push(p);
    }
    let long = dir.path().join(format!("{}.wav", "r".repeat(250)));
    copy_sample("normal_adm.wav", &long);
    files.push(long);
    let outer = dir.path().join("outer");
    let out_dir = outer.join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let out = rns()
        .arg("report")
        .args(&files)
        .arg("--out")
        .arg(&out_dir)
        .arg("--force")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    // Nothing beside the output folder; every output a plain name in it.
    let beside: Vec<_> = std::fs::read_dir(&outer).unwrap().collect();
    assert_eq!(beside.len(), 1);
    for e in std::fs::read_dir(&out_dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.starts_with('.'), "{name}");
        assert!(!name.contains('\u{1b}'), "{name}");
        assert!(name.len() <= 255, "{name}");
    }
}

#[test]
fn text_cells_a_spreadsheet_would_evaluate_are_neutralised() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let evil = "=HYPERLINK(\"http-x\",\"y\").wav";
    copy_sample("normal_adm.wav", &input.join(evil));
    let out = rns()
        .arg("analyze")
        .arg(evil)
        .args(["--format", "csv"])
        .current_dir(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let csv = String::from_utf8(out.stdout).unwrap();
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    for r in rows.records() {
        let path = r.unwrap()[0].to_string();
        assert_eq!(path, format!("'{evil}"));
    }
    let bout = dir.path().join("bout");
    let out = rns()
        .arg("batch")
        .arg(&input)
        .arg("--out")
        .arg(&bout)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    for table in ["summary.csv", "responses.csv"] {
        let text = std::fs::read_to_string(bout.join(table)).unwrap();
        let mut rows = csv::Reader::from_reader(text.as_bytes());
        let first = rows.records().next().unwrap().unwrap();
        assert_eq!(&first[0], format!("'{evil}"), "{table}");
    }
}

#[test]
fn cmaps_of_sizes_no_cmap_has_get_no_pattern() {
    let spec = SynthSpec::simple(
        20_000.0,
        vec![TrainSpec::from_gains(
            1.0,
            3.0,
            &[1.0, 0.85, 0.78, 0.75, 0.75, 0.76, 0.78, 0.8, 0.82, 0.85],
        )],
    );
    let out = generate(&spec);
    let rec = out.to_recording().unwrap();
    let a = analyze(&rec, &AnalysisConfig::default()).unwrap();
    assert_eq!(a.classification.pattern, Pattern::MgLike);
    // 10 mV read as 100 V, 1 kV, 1 µV and 1 nV.
    for factor in [1e4, 1e5, 1e-4, 1e-7] {
        let mut r = rec.clone();
        for v in &mut r.channels[0].samples {
            *v = (f64::from(*v) * factor) as f32;
        }
        let a = analyze(&r, &AnalysisConfig::default()).unwrap();
        assert_eq!(
            a.classification.pattern,
            Pattern::Indeterminate,
            "× {factor}"
        );
        let flag = a.quality.iter().find(|f| f.code == FlagCode::ScaleSuspect);
        assert_eq!(
            flag.map(|f| f.severity),
            Some(Severity::Warning),
            "× {factor}"
        );
    }
}

#[test]
fn config_files_that_cannot_be_opened_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    for flag in ["--protocol", "--criteria"] {
        let out = rns()
            .arg("analyze")
            .arg(sample("normal_adm.wav"))
            .arg(flag)
            .arg(&missing)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag}: {}", stderr_of(&out));
        let err = stderr_of(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("missing.toml"), "{err}");
    }
}

/// A batch folder with one recording, and where its outputs go.
fn batch_dirs() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    copy_sample("normal_adm.wav", &input.join("a.wav"));
    copy_sample("mg_session.wav", &input.join("b.wav"));
    let out = dir.path().join("out");
    (dir, input, out)
}

fn batch(input: &Path, out: &Path) -> std::process::Output {
    rns()
        .arg("batch")
        .arg(input)
        .arg("--out")
        .arg(out)
        .arg("--force")
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap()
}

#[test]
fn a_forced_batch_removes_the_temporaries_an_interrupted_one_left() {
    let (_d, input, out) = batch_dirs();
    std::fs::create_dir_all(out.join("json")).unwrap();
    let stale = out.join("json/.a.wav.json.99999999.3.tmp");
    std::fs::write(&stale, "{ half").unwrap();
    let theirs = out.join("json/notes.tmp");
    std::fs::write(&theirs, "mine").unwrap();
    let o = batch(&input, &out);
    assert_eq!(o.status.code(), Some(0), "{}", stderr_of(&o));
    assert!(!stale.exists());
    assert!(theirs.exists());
}

#[cfg(unix)]
#[test]
fn a_link_planted_in_the_output_folder_is_not_followed() {
    let (d, input, out) = batch_dirs();
    let elsewhere = d.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join("json")).unwrap();
    let o = batch(&input, &out);
    assert_eq!(o.status.code(), Some(2), "{}", stderr_of(&o));
    assert!(stderr_of(&o).contains("symbolic link"), "{}", stderr_of(&o));
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    // A report's plot folder planted the same way.
    let rout = d.path().join("rout");
    std::fs::create_dir_all(&rout).unwrap();
    std::os::unix::fs::symlink(&elsewhere, rout.join("a")).unwrap();
    let report = |plots: &str| {
        rns()
            .arg("report")
            .arg(input.join("a.wav"))
            .arg("--out")
            .arg(&rout)
            .args(["--force", "--plots", plots])
            .output()
            .unwrap()
    };
    let o = report("svg");
    assert_ne!(o.status.code(), Some(0), "{}", stderr_of(&o));
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    // Without plot files the folder is not used at all.
    let o = report("none");
    assert_eq!(o.status.code(), Some(0), "{}", stderr_of(&o));
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
}

/// Outputs that cannot be written (here: `json` is a file, `summary.csv` a
/// folder, as a full disk fails them): every failure is said, per file and
/// per table.
#[test]
fn every_failed_write_is_reported() {
    let (_d, input, out) = batch_dirs();
    std::fs::create_dir_all(out.join("summary.csv")).unwrap();
    std::fs::write(out.join("summary.csv/x"), "").unwrap();
    std::fs::write(out.join("json"), "not a folder").unwrap();
    let o = batch(&input, &out);
    let err = stderr_of(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    for name in ["a.wav", "b.wav", "summary.csv"] {
        assert!(err.contains(name), "{name}: {err}");
    }
    assert!(String::from_utf8_lossy(&o.stdout).contains("not written"));
}

#[cfg(unix)]
#[test]
fn a_sidecar_linked_to_a_file_elsewhere_is_not_read_or_quoted() {
    let (d, input, out) = batch_dirs();
    let secret = d.path().join("secret.txt");
    std::fs::write(&secret, "password = hunter2-top-secret\n").unwrap();
    std::os::unix::fs::symlink(&secret, input.join("a.wav.rns.toml")).unwrap();
    let o = rns()
        .arg("analyze")
        .arg(input.join("a.wav"))
        .output()
        .unwrap();
    let err = stderr_of(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("symbolic link") && !err.contains("hunter2"),
        "{err}"
    );
    let o = batch(&input, &out);
    assert_ne!(o.status.code(), Some(0));
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert!(!summary.contains("hunter2"), "{summary}");
    // Given on purpose, a file that is no TOML is quoted only in part.
    let long = d.path().join("long.txt");
    std::fs::write(&long, format!("{}\n", "k".repeat(500))).unwrap();
    let o = rns()
        .arg("analyze")
        .arg(input.join("b.wav"))
        .arg("--protocol")
        .arg(&long)
        .output()
        .unwrap();
    let err = stderr_of(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!err.contains(&"k".repeat(100)) && err.len() < 400, "{err}");
}

#[test]
fn control_characters_never_reach_the_terminal_raw() {
    let dir = tempfile::tempdir().unwrap();
    let evil = dir.path().join("a\u{1b}]0;owned\u{7}\u{1b}[2J.wav");
    copy_sample("normal_adm.wav", &evil);
    for format in ["text", "json"] {
        let o = rns()
            .arg("analyze")
            .arg(&evil)
            .args(["--format", format])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr_of(&o));
        assert!(!o.stdout.contains(&0x1b), "{format}");
    }
    let o = rns().arg("inspect").arg(&evil).output().unwrap();
    assert!(!o.stdout.contains(&0x1b) && !o.stderr.contains(&0x1b));
    // An error naming the file.
    let missing = dir.path().join("gone\u{1b}[31m.wav");
    let o = rns().arg("analyze").arg(&missing).output().unwrap();
    assert_eq!(o.status.code(), Some(3));
    assert!(!o.stderr.contains(&0x1b), "{}", stderr_of(&o));
    assert!(stderr_of(&o).contains("\\u{1b}"), "{}", stderr_of(&o));
}

/// A file swapped for a FIFO after a batch's folder walk: the batch hashes
/// each file before reading it, and that must not wait on the FIFO either.
#[cfg(unix)]
#[test]
fn hashing_a_fifo_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("swapped.wav");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.map(|s| s.success()).unwrap_or(false) {
        println!("SKIPPED: mkfifo not available");
        return;
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(rns_analyzer::report::sha256_file(&fifo).map_err(|e| e.to_string()));
    });
    let got = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("hashing a FIFO must not block");
    assert!(got.unwrap_err().contains("is a FIFO"));
}

/// A `.txt` note beside the recordings is skipped with a note, not an
/// error row; a `.txt` table of numbers is read as a recording.
#[test]
fn notes_in_a_batch_folder_are_skipped_not_failed() {
    let (_d, input, out) = batch_dirs();
    std::fs::write(
        input.join("notes.txt"),
        "Patient cooperative.\nRight ADM, ulnar nerve at the wrist.\n",
    )
    .unwrap();
    let o = batch(&input, &out);
    let err = stderr_of(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("notes.txt") && err.contains("note"), "{err}");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.starts_with("2 recording(s): 2 analysed, 0 failed, 1 other file(s) skipped"),
        "{stdout}"
    );
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let row = summary
        .lines()
        .find(|l| l.starts_with("notes.txt"))
        .unwrap();
    assert!(row.starts_with("notes.txt,skipped,0,"), "{row}");
    // Only notes: nothing to analyse.
    let only = tempfile::tempdir().unwrap();
    std::fs::write(only.path().join("readme.txt"), "nothing here\n").unwrap();
    let o = batch(only.path(), &only.path().join("out"));
    assert_eq!(o.status.code(), Some(4), "{}", stderr_of(&o));
}

/// A link to a FIFO planted where a batch writes its table, and a FIFO as
/// a report's JSON: replaced by the atomic rename, never written through or
/// waited on.
#[cfg(unix)]
#[test]
fn an_output_name_planted_as_a_fifo_link_is_replaced_not_waited_on() {
    let (d, input, out) = batch_dirs();
    let fifo = d.path().join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.map(|s| s.success()).unwrap_or(false) {
        println!("SKIPPED: mkfifo not available");
        return;
    }
    std::fs::create_dir_all(&out).unwrap();
    std::os::unix::fs::symlink(&fifo, out.join("summary.csv")).unwrap();
    let o = batch(&input, &out);
    assert_eq!(o.status.code(), Some(0), "{}", stderr_of(&o));
    let meta = std::fs::symlink_metadata(out.join("summary.csv")).unwrap();
    assert!(meta.file_type().is_file());
    let rout = d.path().join("rout");
    std::fs::create_dir_all(&rout).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(rout.join("a.json"))
        .status()
        .unwrap();
    assert!(made.success());
    let o = rns()
        .arg("report")
        .arg(input.join("a.wav"))
        .arg("-o")
        .arg(&rout)
        .arg("--force")
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr_of(&o));
    assert!(std::fs::metadata(rout.join("a.json")).unwrap().is_file());
}

/// A folder of links to recordings and their sidecars elsewhere is read
/// with its sidecars; a FIFO named as a sidecar is refused, not skipped.
#[cfg(unix)]
#[test]
fn linked_sidecars_of_linked_recordings_are_read_and_fifo_ones_refused() {
    let d = tempfile::tempdir().unwrap();
    let real = d.path().join("real");
    let links = d.path().join("links");
    std::fs::create_dir_all(&real).unwrap();
    std::fs::create_dir_all(&links).unwrap();
    copy_sample("normal_adm.wav", &real.join("rec.wav"));
    std::fs::write(real.join("rec.wav.rns.toml"), "muscle = \"APB\"\n").unwrap();
    std::os::unix::fs::symlink(real.join("rec.wav"), links.join("rec.wav")).unwrap();
    std::os::unix::fs::symlink(
        real.join("rec.wav.rns.toml"),
        links.join("rec.wav.rns.toml"),
    )
    .unwrap();
    let o = rns()
        .args(["analyze", "--format", "json"])
        .arg(links.join("rec.wav"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr_of(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["protocol"]["muscle"], "APB");
    let fifo_side = real.join("other.wav.rns.toml");
    copy_sample("normal_adm.wav", &real.join("other.wav"));
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo_side)
        .status();
    if made.map(|s| s.success()).unwrap_or(false) {
        let o = rns()
            .arg("analyze")
            .arg(real.join("other.wav"))
            .timeout(Duration::from_secs(20))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{}", stderr_of(&o));
        assert!(stderr_of(&o).contains("FIFO"), "{}", stderr_of(&o));
    }
}

/// `rns report --force` removes the plot folders' stale temporaries too.
#[test]
fn a_forced_report_removes_stale_plot_temporaries() {
    let (_d, input, out) = batch_dirs();
    std::fs::create_dir_all(out.join("a")).unwrap();
    let stale = out.join("a/.trend.svg.99999999.1.tmp");
    std::fs::write(&stale, "<svg").unwrap();
    let o = rns()
        .arg("report")
        .arg(input.join("a.wav"))
        .arg("-o")
        .arg(&out)
        .arg("--force")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr_of(&o));
    assert!(!stale.exists());
}

/// A one-column `.txt` of samples (its rate in the sidecar) is a recording,
/// not a note.
#[test]
fn a_one_column_txt_recording_is_read_in_a_batch() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let text: String = (0..2000)
        .map(|k| format!("\"{}\"\n", (k as f64 * 0.01).sin()))
        .collect();
    std::fs::write(input.join("col.txt"), text).unwrap();
    std::fs::write(input.join("col.txt.rns.toml"), "sample_rate_hz = 5000.0\n").unwrap();
    let o = batch(&input, &d.path().join("out"));
    let summary = std::fs::read_to_string(d.path().join("out/summary.csv")).unwrap();
    let row = summary.lines().find(|l| l.starts_with("col.txt")).unwrap();
    assert!(!row.contains("skipped"), "{row} {}", stderr_of(&o));
}
