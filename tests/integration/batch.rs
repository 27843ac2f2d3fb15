//! `rns batch`: a folder with a broken file, the summary and response tables,
//! identical outputs whatever `--jobs` is, the output-folder rules, and inputs
//! left untouched.

use super::report::{assert_well_formed, tree};
use crate::util::rns;
use std::path::{Path, PathBuf};

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
}

/// A data folder: three samples (with their sidecars and companions), one in a
/// subfolder, a broken WAV, a file of another kind and a hidden file.
fn data_folder(root: &Path) -> PathBuf {
    let data = root.join("data");
    std::fs::create_dir_all(data.join("session 2")).unwrap();
    for (name, to) in [
        ("mg_session.wav", "mg_session.wav"),
        (
            "hfs_pseudofacilitation.wav",
            "session 2/hfs_pseudofacilitation.wav",
        ),
        ("mg_sweeps.csv", "mg_sweeps.csv"),
    ] {
        for suffix in ["", ".rns.toml", ".expected.json", ".truth.json"] {
            let from = samples_dir().join(format!("{name}{suffix}"));
            if from.is_file() {
                std::fs::copy(&from, data.join(format!("{to}{suffix}"))).unwrap();
            }
        }
    }
    std::fs::write(
        data.join("session 2/broken.wav"),
        b"RIFF\x10\x00\x00\x00WAVEjunk",
    )
    .unwrap();
    std::fs::write(data.join("notes.md"), b"# not a recording").unwrap();
    std::fs::write(data.join(".hidden.wav"), b"not read").unwrap();
    data
}

fn run_batch(data: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    rns()
        .arg("batch")
        .arg(data)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

#[test]
fn batch_lists_the_broken_file_and_analyses_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_folder(dir.path());
    let before = tree(&data);
    let out = dir.path().join("out");
    let o = run_batch(&data, &out, &["--jobs", "2"]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("broken.wav"), "{err}");
    assert_eq!(tree(&data), before, "inputs modified");

    let (header, rows) = read_csv(&out.join("summary.csv"));
    assert_eq!(header, rns_analyzer::batch::SUMMARY_HEADER);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let paths: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "mg_session.wav",
            "mg_sweeps.csv",
            "session 2/broken.wav",
            "session 2/hfs_pseudofacilitation.wav"
        ]
    );
    let by = |p: &str| rows.iter().find(|r| r[0] == p).unwrap();
    let broken = by("session 2/broken.wav");
    assert_eq!(broken[col("status")], "error");
    assert_eq!(broken[col("exit_code")], "3");
    assert!(!broken[col("error")].is_empty());
    assert!(
        !broken[col("error")].contains("session 2/broken.wav"),
        "path is its own column"
    );
    assert_eq!(broken[col("pattern")], "");
    for (p, pattern) in [
        ("mg_session.wav", "mg_like"),
        ("mg_sweeps.csv", "mg_like"),
        ("session 2/hfs_pseudofacilitation.wav", "normal"),
    ] {
        let r = by(p);
        assert_eq!(r[col("status")], "ok", "{p}");
        assert_eq!(r[col("exit_code")], "0");
        assert_eq!(r[col("pattern")], pattern, "{p}");
        assert_eq!(r[col("sha256")].len(), 64);
        // Each JSON is the analysis of that file.
        let json: serde_json::Value = serde_json::from_slice(
            &std::fs::read(out.join("json").join(format!("{p}.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(json["classification"]["pattern"], pattern);
        assert_eq!(
            r[col("trains")],
            json["trains"].as_array().unwrap().len().to_string()
        );
    }
    let mg = by("mg_session.wav");
    assert_eq!(mg[col("repair")], "true");
    assert_eq!(mg[col("exhaustion")], "true");
    assert!(mg[col("notes")].contains("mains_hum_removed"));
    let hfs = by("session 2/hfs_pseudofacilitation.wav");
    assert!(!hfs[col("max_hfs_increment_pct")].is_empty());
    assert!(!out.join("json/session 2/broken.wav.json").exists());

    // responses.csv: the analyze CSV columns, then the file's hash (as in
    // summary.csv), one row per response.
    let (rheader, rrows) = read_csv(&out.join("responses.csv"));
    let n = rns_analyzer::output::csv::HEADER.len();
    assert_eq!(rheader[..n], *rns_analyzer::output::csv::HEADER);
    assert_eq!(rheader[n..], ["sha256"]);
    for r in &rrows {
        assert_eq!(r[n], by(&r[0])[col("sha256")], "{r:?}");
        assert_eq!(r[n].len(), 64);
    }
    let total: usize = [
        "mg_session.wav",
        "mg_sweeps.csv",
        "session 2/hfs_pseudofacilitation.wav",
    ]
    .iter()
    .map(|p| by(p)[col("responses")].parse::<usize>().unwrap())
    .sum();
    assert_eq!(rrows.len(), total);
    assert!(rrows.iter().all(|r| r[0] != "session 2/broken.wav"));
    assert!(rrows
        .iter()
        .any(|r| r[0] == "session 2/hfs_pseudofacilitation.wav"));
    // No report without --report.
    assert!(!out.join("reports").exists());
}

#[test]
fn batch_output_is_identical_whatever_jobs_is() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_folder(dir.path());
    let one = dir.path().join("one");
    let two = dir.path().join("two");
    let o1 = run_batch(&data, &one, &["--jobs", "1", "--report", "--plots", "both"]);
    let o2 = run_batch(&data, &two, &["--jobs", "2", "--report", "--plots", "both"]);
    assert_eq!(o1.status.code(), Some(3));
    assert_eq!(o2.status.code(), Some(3));
    assert_eq!(o1.stdout, o2.stdout.replace_path("two", "one"));
    let (t1, t2) = (tree(&one), tree(&two));
    assert_eq!(t1.keys().collect::<Vec<_>>(), t2.keys().collect::<Vec<_>>());
    for (k, v) in &t1 {
        assert!(v == &t2[k], "{k} differs between --jobs 1 and --jobs 2");
    }
    // Reports for the recordings that were analysed, none for the broken one.
    for p in [
        "mg_session.wav",
        "session 2/hfs_pseudofacilitation.wav",
        "mg_sweeps.csv",
    ] {
        let html = String::from_utf8(t1[&format!("reports/{p}.html")].clone()).unwrap();
        assert_well_formed(&html);
        assert!(t1.contains_key(&format!("reports/{p}/trends.svg")), "{p}");
        assert!(
            t1.contains_key(&format!("reports/{p}/train1_waterfall.png")),
            "{p}"
        );
    }
    assert!(!t1.keys().any(|k| k.contains("broken.wav.html")));
    assert!(
        !t1.keys().any(|k| k.ends_with(".tmp")),
        "temporary files left"
    );
    // The index lists every input; each link leads to its report.
    let index = String::from_utf8(t1["index.html"].clone()).unwrap();
    assert_well_formed(&index);
    let hrefs: Vec<&str> = index
        .split("href=\"")
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .collect();
    assert_eq!(hrefs.len(), 3, "{index}");
    for h in &hrefs {
        let decoded = h.replace("%20", " ");
        assert!(t1.contains_key(&decoded), "{h} leads nowhere");
    }
    assert!(index.contains("session 2/broken.wav"), "{index}");
    assert!(index.contains("failed: "), "{index}");
    assert!(index.contains("MG-like"), "{index}");
    assert!(
        index.contains("4 recording(s): 3 reported, 1 failed"),
        "{index}"
    );
}

/// Without --report there is no index: a re-run with --force removes an
/// earlier run's, which would describe other tables; --plots needs --report.
#[test]
fn index_comes_with_reports_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_folder(dir.path());
    let out = dir.path().join("out");
    run_batch(&data, &out, &["--report"]);
    assert!(out.join("index.html").is_file());
    assert!(
        !out.join("reports/mg_session.wav").exists(),
        "no plot files by default"
    );
    run_batch(&data, &out, &["--force"]);
    assert!(!out.join("index.html").exists());
    let o = run_batch(&data, &dir.path().join("o2"), &["--plots", "svg"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--report"));
}

/// Replace one output-folder name by another in captured output.
trait ReplacePath {
    fn replace_path(&self, from: &str, to: &str) -> Vec<u8>;
}

impl ReplacePath for Vec<u8> {
    fn replace_path(&self, from: &str, to: &str) -> Vec<u8> {
        String::from_utf8_lossy(self)
            .replace(&format!("/{from}/"), &format!("/{to}/"))
            .into_bytes()
    }
}

#[test]
fn batch_refuses_an_existing_output_folder_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::copy(
        samples_dir().join("normal_trigger.csv"),
        data.join("normal_trigger.csv"),
    )
    .unwrap();
    std::fs::copy(
        samples_dir().join("normal_trigger.csv.rns.toml"),
        data.join("normal_trigger.csv.rns.toml"),
    )
    .unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("summary.csv"), b"old").unwrap();
    let o = run_batch(&data, &out, &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("--force"));
    assert_eq!(std::fs::read(out.join("summary.csv")).unwrap(), b"old");

    let o = run_batch(&data, &out, &["--force"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert!(summary.contains("normal_trigger.csv,ok,0,"));

    // The output folder inside the input folder is not read back in.
    let inner = data.join("results");
    let o = run_batch(&data, &inner, &[]);
    assert_eq!(o.status.code(), Some(0));
    let o = run_batch(&data, &inner, &["--force"]);
    assert_eq!(o.status.code(), Some(0));
    let (_, rows) = read_csv(&inner.join("summary.csv"));
    assert_eq!(rows.len(), 1);
}

/// A JSON that cannot be written (a folder is in its place) fails that file
/// alone, with exit code 1 and the path in its row; the others are written.
/// Without reports the JSON files are written by a thread of their own,
/// with reports by the workers, and then the failed file gets no report.
#[test]
fn a_json_that_cannot_be_written_fails_its_file_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_folder(dir.path());
    let cases: [&[&str]; 3] = [
        &["--jobs", "1"],
        &["--jobs", "2"],
        &["--jobs", "2", "--report"],
    ];
    for (k, extra) in cases.into_iter().enumerate() {
        let out = dir.path().join(format!("out{k}"));
        let blocker = out.join("json/mg_sweeps.csv.json");
        std::fs::create_dir_all(blocker.join("in the way")).unwrap();
        let mut args = vec!["--force"];
        args.extend_from_slice(extra);
        let o = run_batch(&data, &out, &args);
        let stderr = String::from_utf8_lossy(&o.stderr);
        // The broken WAV (3) outranks the write failure (1).
        assert_eq!(o.status.code(), Some(3), "{stderr}");
        let (header, rows) = read_csv(&out.join("summary.csv"));
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        let row = rows.iter().find(|r| r[0] == "mg_sweeps.csv").unwrap();
        assert_eq!(row[col("status")], "error");
        assert_eq!(row[col("exit_code")], "1");
        assert!(
            row[col("error")].contains("mg_sweeps.csv.json"),
            "{}",
            row[col("error")]
        );
        assert!(stderr.contains("mg_sweeps.csv.json"), "{stderr}");
        assert!(blocker.join("in the way").is_dir());
        for ok in ["mg_session.wav", "session 2/hfs_pseudofacilitation.wav"] {
            let row = rows.iter().find(|r| r[0] == ok).unwrap();
            assert_eq!(row[col("status")], "ok", "{ok}");
            assert!(out.join(format!("json/{ok}.json")).is_file(), "{ok}");
        }
        let reports = extra.contains(&"--report");
        assert_eq!(out.join("reports/mg_session.wav.html").is_file(), reports);
        assert!(!out.join("reports/mg_sweeps.csv.html").exists());
        // No temporary file is left behind.
        let leftovers: Vec<_> = walk(&out)
            .into_iter()
            .filter(|p| p.to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn batch_of_a_missing_or_empty_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = run_batch(&dir.path().join("nope"), &out, &[]);
    assert_eq!(o.status.code(), Some(3));
    assert!(!out.exists(), "no output folder for a missing input folder");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let o = run_batch(&empty, &out, &[]);
    assert_eq!(o.status.code(), Some(4));
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 1, "header only");
    let o = run_batch(&empty, &dir.path().join("out2"), &["--jobs", "0"]);
    assert_eq!(o.status.code(), Some(2), "--jobs 0 is a usage error");
}

/// `trains.csv`, `flags.csv` and `findings.csv` hold, row for row, the
/// trains, quality flags and findings of each file's JSON, and
/// `summary.csv`'s later columns its figures.
#[test]
fn trains_flags_findings_and_summary_columns_match_the_json() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_folder(dir.path());
    let out = dir.path().join("out");
    let _ = run_batch(&data, &out, &["--jobs", "2"]);
    let (th, trows) = read_csv(&out.join("trains.csv"));
    let (fh, frows) = read_csv(&out.join("flags.csv"));
    assert_eq!(th[..4], ["path", "train", "role", "role_source"]);
    assert_eq!(fh, ["path", "train", "code", "severity", "message"]);
    let col = |h: &[String], name: &str| h.iter().position(|c| c == name).unwrap();
    let (sh, summary) = read_csv(&out.join("summary.csv"));
    let (pi, si) = (col(&sh, "path"), col(&sh, "status"));
    let mut trains_seen = 0;
    let mut flags_seen = 0;
    for s in summary.iter().filter(|r| r[si] == "ok") {
        let path = &s[pi];
        let text = std::fs::read_to_string(out.join("json").join(format!("{path}.json"))).unwrap();
        let a: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mine: Vec<&Vec<String>> = trows.iter().filter(|r| &r[0] == path).collect();
        let trains = a["trains"].as_array().unwrap();
        assert_eq!(mine.len(), trains.len(), "{path}");
        for (row, t) in mine.iter().zip(trains) {
            assert_eq!(row[col(&th, "role")], t["role"].as_str().unwrap(), "{path}");
            assert_eq!(
                row[col(&th, "responses")],
                t["responses"].as_array().unwrap().len().to_string()
            );
            let d = &row[col(&th, "decrement_pct")];
            match t["decrement_pct"].as_f64() {
                Some(x) => assert!((d.parse::<f64>().unwrap() - x).abs() < 1e-9, "{path}"),
                None => assert!(d.is_empty(), "{path}"),
            }
        }
        trains_seen += mine.len();
        let flags: Vec<&Vec<String>> = frows.iter().filter(|r| &r[0] == path).collect();
        let quality = a["quality"].as_array().unwrap();
        assert_eq!(flags.len(), quality.len(), "{path}");
        for (row, q) in flags.iter().zip(quality) {
            assert_eq!(row[2], q["code"].as_str().unwrap(), "{path}");
            assert_eq!(row[3], q["severity"].as_str().unwrap(), "{path}");
        }
        flags_seen += flags.len();
        // summary.csv's protocol, source and session columns.
        let cell = |name: &str| s[col(&sh, name)].as_str();
        let src = &a["source"];
        assert_eq!(
            cell("sample_rate_hz").parse::<f64>().unwrap(),
            src["sample_rate_hz"].as_f64().unwrap()
        );
        assert_eq!(
            cell("duration_s").parse::<f64>().unwrap(),
            src["duration_s"].as_f64().unwrap()
        );
        assert_eq!(
            cell("stimulus_source"),
            src["stimulus_source"].as_str().unwrap()
        );
        assert_eq!(cell("tool_version"), a["tool"]["version"].as_str().unwrap());
        assert_eq!(
            cell("criteria_sha256"),
            rns_analyzer::settings::criteria::Criteria::default().sha256()
        );
        assert_eq!(
            cell("muscle"),
            a["protocol"]["muscle"].as_str().unwrap_or("")
        );
        let n = a["classification"]["findings"].as_array().unwrap().len();
        assert_eq!(cell("findings"), n.to_string());
        // responses.csv's later columns: the JSON's peak latency and baseline.
        let (rh, rrows) = read_csv(&out.join("responses.csv"));
        let responses: Vec<&serde_json::Value> = trains
            .iter()
            .flat_map(|t| t["responses"].as_array().unwrap())
            .collect();
        let mine: Vec<&Vec<String>> = rrows.iter().filter(|r| &r[0] == path).collect();
        assert_eq!(mine.len(), responses.len(), "{path}");
        for (row, r) in mine.iter().zip(&responses) {
            for key in ["peak_latency_ms", "baseline_mv"] {
                let cell: f64 = row[col(&rh, key)].parse().unwrap();
                assert!(
                    (cell - r[key].as_f64().unwrap()).abs() < 1e-9,
                    "{path} {key}"
                );
            }
        }
        let (_, frows) = read_csv(&out.join("findings.csv"));
        assert_eq!(frows.iter().filter(|r| &r[0] == path).count(), n, "{path}");
    }
    assert!(
        trains_seen >= 3 && flags_seen >= 1,
        "{trains_seen} trains, {flags_seen} flags"
    );
}

/// `--tables both`: each Parquet table holds the cells of its CSV twin
/// (read back typed), with the documented column names; `--tables parquet`
/// writes the same Parquet files and no CSV.
#[test]
fn parquet_tables_hold_what_the_csv_tables_hold() {
    use rns_analyzer::batch::{columns_of, PARQUET_TABLES, TABLES};
    use rns_analyzer::output::table::Table;
    let dir = tempfile::tempdir().unwrap();
    let data = data_folder(dir.path());
    let both = dir.path().join("both");
    let o = run_batch(&data, &both, &["--tables", "both", "--report"]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for (csv, pq) in TABLES.iter().zip(PARQUET_TABLES) {
        let text = std::fs::read_to_string(both.join(csv)).unwrap();
        let expected = Table::from_csv(&columns_of(csv).unwrap(), &text).unwrap();
        let file = std::fs::File::open(both.join(pq)).unwrap();
        let cells = rns_analyzer::output::parquet::read_cells(file).unwrap();
        assert!(!cells.is_empty(), "{pq}");
        assert_eq!(cells, expected.rows, "{pq}");
    }
    let only = dir.path().join("only");
    let o = run_batch(&data, &only, &["--tables", "parquet"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stdout).contains("summary.parquet"));
    for (csv, pq) in TABLES.iter().zip(PARQUET_TABLES) {
        assert!(!only.join(csv).exists(), "{csv}");
        assert_eq!(
            std::fs::read(only.join(pq)).unwrap(),
            std::fs::read(both.join(pq)).unwrap(),
            "{pq}"
        );
    }
    let o = run_batch(&data, &dir.path().join("bad"), &["--tables", "xlsx"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("csv, parquet or both"));
}
