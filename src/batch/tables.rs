//! The batch's per-train and per-flag tables.
//!
//! Overview: `trains.csv` has one row per train of every analysed file, its
//! figures in columns; `flags.csv` one row per quality flag (code, severity,
//! train, message); `findings.csv` one row per finding behind the pattern
//! (code, train, value, threshold, message). Both are tidy tables a statistician loads as they are:
//! no cell holds a list to split. Rows follow the outcomes' order (sorted by
//! path), then train order, so the tables are the same byte for byte
//! whatever the number of threads.

use super::Outcome;
use crate::analysis::Analysis;
use crate::output;
use crate::output::csv::opt;

/// Column names of `trains.csv`, in order.
pub const TRAINS_HEADER: &[&str] = &[
    "path",
    "train",
    "role",
    "role_source",
    "rate_hz",
    "start_s",
    "delay_after_exercise_s",
    "responses",
    "first_amplitude_mv",
    "decrement_pct",
    "decrement_5th_pct",
    "max_decrement_pct",
    "area_decrement_pct",
    "area_decrement_5th_pct",
    "increment_pct",
    "area_increment_pct",
    "last_increment_pct",
    "last_area_increment_pct",
    "shape",
    "late_early_ratio",
    "warnings",
];

/// Column names of `flags.csv`, in order.
pub const FLAGS_HEADER: &[&str] = &["path", "train", "code", "severity", "message"];

/// Column names of `findings.csv`, in order.
pub const FINDINGS_HEADER: &[&str] = &["path", "train", "code", "value", "threshold", "message"];

/// Write `rows` under `header` as CSV text.
fn table(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> String {
    let mut w = ::csv::WriterBuilder::new().from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = w.write_record(header);
    for row in rows {
        let _ = w.write_record(&row);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// The rows of one analysis's trains.
fn train_rows<'a>(path: &'a str, a: &'a Analysis) -> impl Iterator<Item = Vec<String>> + 'a {
    a.trains.iter().map(move |t| {
        let warnings = a
            .quality
            .iter()
            .filter(|q| q.train == Some(t.index) && q.severity == crate::vocab::Severity::Warning)
            .count();
        vec![
            output::csv::text_cell(path),
            t.index.to_string(),
            t.role.name().to_string(),
            t.role_source.name().to_string(),
            opt(t.rate_hz),
            opt(t.start_s),
            opt(t.delay_after_exercise_s),
            t.responses.len().to_string(),
            opt(t.responses.first().map(|r| r.amplitude_mv)),
            opt(t.decrement_pct),
            opt(t.decrement_5th_pct),
            opt(t.max_decrement_pct),
            opt(t.area_decrement_pct),
            opt(t.area_decrement_5th_pct),
            opt(t.increment_pct),
            opt(t.area_increment_pct),
            opt(t.last_increment_pct),
            opt(t.last_area_increment_pct),
            t.shape.map_or(String::new(), |s| s.name().to_string()),
            opt(t.late_early_ratio),
            warnings.to_string(),
        ]
    })
}

/// `trains.csv`: every train of every analysed file (failed files have none).
pub fn trains_csv(outcomes: &[Outcome]) -> String {
    let rows = outcomes
        .iter()
        .filter_map(|o| o.analysis.as_ref().map(|a| (o.rel.as_str(), a)))
        .flat_map(|(rel, a)| train_rows(rel, a));
    table(TRAINS_HEADER, rows)
}

/// `flags.csv`: every quality flag of every analysed file, the train empty
/// for a flag of the whole recording.
pub fn flags_csv(outcomes: &[Outcome]) -> String {
    let rows = outcomes
        .iter()
        .filter_map(|o| o.analysis.as_ref().map(|a| (o.rel.as_str(), a)))
        .flat_map(|(rel, a)| {
            a.quality.iter().map(move |q| {
                vec![
                    output::csv::text_cell(rel),
                    q.train.map_or(String::new(), |t| t.to_string()),
                    q.code.name().to_string(),
                    q.severity.name().to_string(),
                    output::csv::text_cell(&q.message),
                ]
            })
        });
    table(FLAGS_HEADER, rows)
}

/// `findings.csv`: every finding behind each file's pattern, in the order
/// they were weighed, with its figure and the criterion it met or missed.
pub fn findings_csv(outcomes: &[Outcome]) -> String {
    let rows = outcomes
        .iter()
        .filter_map(|o| o.analysis.as_ref().map(|a| (o.rel.as_str(), a)))
        .flat_map(|(rel, a)| {
            a.classification.findings.iter().map(move |f| {
                vec![
                    output::csv::text_cell(rel),
                    f.train.map_or(String::new(), |t| t.to_string()),
                    f.code.name().to_string(),
                    opt(f.value),
                    opt(f.threshold),
                    output::csv::text_cell(&f.message),
                ]
            })
        });
    table(FINDINGS_HEADER, rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::analyze;
    use crate::settings::config::AnalysisConfig;
    use crate::sim::synth::{generate, SynthSpec, TrainSpec};
    use std::path::PathBuf;

    fn outcome(rel: &str) -> Outcome {
        // Two trains: a decrementing one at rest, a short one after.
        let spec = SynthSpec::simple(
            10_000.0,
            vec![
                TrainSpec::from_gains(0.5, 3.0, &[1.0, 0.9, 0.8, 0.75, 0.75]),
                TrainSpec::from_gains(5.0, 3.0, &[1.0, 0.95, 0.9, 0.9, 0.9]),
            ],
        );
        let rec = generate(&spec).to_recording().unwrap();
        let a = analyze(&rec, &AnalysisConfig::default()).unwrap();
        Outcome {
            rel: rel.into(),
            path: PathBuf::from(rel),
            sha256: None,
            analysis: Some(a),
            error: None,
            skipped: None,
        }
    }

    fn parse(text: &str) -> Vec<Vec<String>> {
        ::csv::Reader::from_reader(text.as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect()
    }

    #[test]
    fn one_row_per_train_with_its_figures() {
        let o = outcome("a/b.wav");
        let a = o.analysis.as_ref().unwrap();
        let text = trains_csv(std::slice::from_ref(&o));
        assert!(text.starts_with(&TRAINS_HEADER.join(",")));
        let rows = parse(&text);
        assert!(a.trains.len() >= 2);
        assert_eq!(rows.len(), a.trains.len());
        for (row, t) in rows.iter().zip(&a.trains) {
            assert_eq!(row.len(), TRAINS_HEADER.len());
            assert_eq!(row[0], "a/b.wav");
            assert_eq!(row[1], t.index.to_string());
            assert_eq!(row[2], t.role.name());
            assert_eq!(row[7], t.responses.len().to_string());
            assert_eq!(row[9], opt(t.decrement_pct));
        }
        // A failed file has no trains.
        let mut failed = outcome("c.wav");
        failed.analysis = None;
        assert_eq!(parse(&trains_csv(&[failed])).len(), 0);
    }

    #[test]
    fn one_row_per_flag() {
        let o = outcome("x.wav");
        let a = o.analysis.as_ref().unwrap();
        let rows = parse(&flags_csv(std::slice::from_ref(&o)));
        assert_eq!(rows.len(), a.quality.len());
        for (row, q) in rows.iter().zip(&a.quality) {
            assert_eq!(row[2], q.code.name());
            assert_eq!(row[3], q.severity.name());
            assert_eq!(row[1], q.train.map_or(String::new(), |t| t.to_string()));
        }
    }

    #[test]
    fn one_row_per_finding() {
        let o = outcome("f.wav");
        let a = o.analysis.as_ref().unwrap();
        let rows = parse(&findings_csv(std::slice::from_ref(&o)));
        assert!(!a.classification.findings.is_empty());
        assert_eq!(rows.len(), a.classification.findings.len());
        for (row, f) in rows.iter().zip(&a.classification.findings) {
            assert_eq!(row[2], f.code.name());
            assert_eq!(row[3], opt(f.value));
        }
    }
}
