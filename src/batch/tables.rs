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
use crate::output::table::{
    self, Cell, Column, Kind, Table, FINDING_COLUMNS, FLAG_COLUMNS, TRAIN_COLUMNS,
};
use crate::vocab::Severity;
use Kind::{Bool, Float, Int, Text};

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

/// Columns of `summary.csv`, in order: the names of [`super::SUMMARY_HEADER`].
pub const SUMMARY_COLUMNS: &[Column] = &[
    col("path", Text),
    col("status", Text),
    col("exit_code", Int),
    col("error", Text),
    col("sha256", Text),
    col("format", Text),
    col("pattern", Text),
    col("trains", Int),
    col("responses", Int),
    col("baseline_cmap_mv", Float),
    col("baseline_decrement_pct", Float),
    col("post_exercise_increment_pct", Float),
    col("post_exercise_area_increment_pct", Float),
    col("max_hfs_increment_pct", Float),
    col("repair", Bool),
    col("exhaustion", Bool),
    col("warnings", Text),
    col("notes", Text),
    col("patient_id", Text),
    col("study_date", Text),
    col("muscle", Text),
    col("nerve", Text),
    col("temperature_c", Float),
    col("sample_rate_hz", Float),
    col("duration_s", Float),
    col("stimulus_source", Text),
    col("tool_version", Text),
    col("immediate_post_exercise_decrement_pct", Float),
    col("late_post_exercise_decrement_pct", Float),
    col("baseline_area_decrement_pct", Float),
    col("baseline_shape", Text),
    col("low_cmap", Bool),
    col("findings", Int),
    col("criteria_sha256", Text),
];

/// The column `responses.csv` of a batch appends to the response table:
/// the file's SHA-256, as in `summary.csv`.
pub const RESPONSE_SHA256: Column = col("sha256", Text);

/// Columns of the batch's `responses.csv`: those of
/// `rns analyze --format csv`, then `sha256`.
pub fn batch_response_columns() -> Vec<Column> {
    let mut c = table::RESPONSE_COLUMNS.to_vec();
    c.push(RESPONSE_SHA256);
    c
}

const fn col(name: &'static str, kind: Kind) -> Column {
    Column { name, kind }
}

/// One outcome's rows of the batch's `responses.csv` (none for a failure),
/// its path the relative one, its hash in the last column.
pub fn response_table(o: &Outcome) -> Table {
    let mut t = match &o.analysis {
        Some(a) => table::responses(a, &o.rel),
        None => Table::new(table::RESPONSE_COLUMNS),
    };
    t.push_column(RESPONSE_SHA256, &Cell::opt_text(o.sha256.as_deref()));
    t
}

/// The rows `each` makes of every analysed outcome, under `columns`.
fn gather(
    columns: &[Column],
    outcomes: &[Outcome],
    each: impl Fn(&Analysis, &str) -> Table,
) -> Table {
    let mut t = Table::new(columns);
    for o in outcomes {
        if let Some(a) = &o.analysis {
            t.extend(each(a, &o.rel));
        }
    }
    t
}

/// `responses.csv` as a table: every analysed file's responses.
pub fn responses_table(outcomes: &[Outcome]) -> Table {
    let mut t = Table::new(&batch_response_columns());
    for o in outcomes {
        t.extend(response_table(o));
    }
    t
}

/// `trains.csv` as a table: every train of every analysed file.
pub fn trains_table(outcomes: &[Outcome]) -> Table {
    gather(TRAIN_COLUMNS, outcomes, table::trains)
}

/// `flags.csv` as a table: every quality flag of every analysed file.
pub fn flags_table(outcomes: &[Outcome]) -> Table {
    gather(FLAG_COLUMNS, outcomes, table::flags)
}

/// `findings.csv` as a table: every finding of every analysed file.
pub fn findings_table(outcomes: &[Outcome]) -> Table {
    gather(FINDING_COLUMNS, outcomes, table::findings)
}

/// The columns of the batch table named `name` (`summary`, `responses`,
/// `trains`, `flags`, `findings`, with or without an extension).
pub fn columns_of(name: &str) -> Option<Vec<Column>> {
    let stem = name.split('.').next().unwrap_or(name);
    Some(match stem {
        "summary" => SUMMARY_COLUMNS.to_vec(),
        "responses" => batch_response_columns(),
        "trains" => TRAIN_COLUMNS.to_vec(),
        "flags" => FLAG_COLUMNS.to_vec(),
        "findings" => FINDING_COLUMNS.to_vec(),
        _ => return None,
    })
}

/// `trains.csv`: every train of every analysed file (failed files have none).
pub fn trains_csv(outcomes: &[Outcome]) -> String {
    trains_table(outcomes).to_csv()
}

/// `flags.csv`: every quality flag of every analysed file, the train empty
/// for a flag of the whole recording.
pub fn flags_csv(outcomes: &[Outcome]) -> String {
    flags_table(outcomes).to_csv()
}

/// `findings.csv`: every finding behind each file's pattern, in the order
/// they were weighed, with its figure and the criterion it met or missed.
pub fn findings_csv(outcomes: &[Outcome]) -> String {
    findings_table(outcomes).to_csv()
}

/// A file's quality-flag codes of one severity joined by `;`, the train in
/// brackets (`irregular_amplitudes[2]`).
fn flag_codes(a: &Analysis, sev: Severity) -> String {
    a.quality
        .iter()
        .filter(|q| q.severity == sev)
        .map(|q| match q.train {
            Some(t) => format!("{}[{t}]", q.code),
            None => q.code.name().to_string(),
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// `summary.csv` as a table: one row per outcome ([`SUMMARY_COLUMNS`]).
/// Null for what does not apply; flags as their codes joined by `;`
/// (warnings and notes apart), with the train in brackets.
pub fn summary_table(outcomes: &[Outcome], criteria_sha256: &str) -> Table {
    let mut t = Table::new(SUMMARY_COLUMNS);
    for o in outcomes {
        let status = if o.error.is_some() {
            "error"
        } else if o.skipped.is_some() {
            "skipped"
        } else {
            "ok"
        };
        let error = o
            .error
            .as_ref()
            .map(|e| e.message.as_str())
            .or(o.skipped.as_deref());
        let mut row = vec![
            Cell::text(&o.rel),
            Cell::text(status),
            Cell::Int(i64::from(o.exit_code())),
            Cell::opt_text(error),
            Cell::opt_text(o.sha256.as_deref()),
        ];
        row.extend(summary_analysis(o.analysis.as_ref()));
        row.push(Cell::text(criteria_sha256));
        t.rows.push(row);
    }
    t
}

/// `summary.csv`: [`summary_table`] as CSV.
pub fn summary_csv(outcomes: &[Outcome], criteria_sha256: &str) -> String {
    summary_table(outcomes, criteria_sha256).to_csv()
}

/// The columns of `summary.csv` from `format` to `findings` (Null for a
/// failure).
fn summary_analysis(a: Option<&Analysis>) -> Vec<Cell> {
    let Some(a) = a else {
        return vec![Cell::Null; SUMMARY_COLUMNS.len() - 6];
    };
    let reference = a.reference_train();
    let s = &a.session;
    let low = match (s.baseline_cmap_mv, s.baseline_cmap_lower_limit_mv) {
        (Some(v), Some(limit)) => Some(v < limit),
        _ => None,
    };
    vec![
        Cell::text(a.source.format.name()),
        Cell::text(a.classification.pattern.name()),
        Cell::int(a.trains.len()),
        Cell::int(a.trains.iter().map(|t| t.responses.len()).sum()),
        Cell::float(s.baseline_cmap_mv),
        Cell::float(s.baseline_decrement_pct),
        Cell::float(a.post_exercise_increment_pct),
        Cell::float(a.post_exercise_area_increment_pct),
        Cell::float(a.max_hfs_increment_pct()),
        Cell::opt_bool(s.repair),
        Cell::opt_bool(s.exhaustion),
        Cell::text(&flag_codes(a, Severity::Warning)),
        Cell::text(&flag_codes(a, Severity::Info)),
        Cell::opt_text(a.study.patient_id.as_deref()),
        a.study
            .study_date
            .map_or(Cell::Null, |d| Cell::text(&d.to_string())),
        Cell::opt_text(a.protocol.muscle.as_deref()),
        Cell::opt_text(a.protocol.nerve.as_deref()),
        Cell::float(a.protocol.temperature_c),
        Cell::Float(a.source.sample_rate_hz),
        Cell::Float(a.source.duration_s),
        Cell::text(a.source.stimulus_source.name()),
        Cell::text(a.tool.version),
        Cell::float(s.immediate_post_exercise_decrement_pct),
        Cell::float(s.late_post_exercise_decrement_pct),
        Cell::float(reference.and_then(|t| t.area_decrement_pct)),
        Cell::opt_text(reference.and_then(|t| t.shape).map(|x| x.name())),
        Cell::opt_bool(low),
        Cell::int(a.classification.findings.len()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::analyze;
    use crate::output::csv::opt;
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
    fn typed_columns_are_the_csv_headers() {
        let names = |c: &[Column]| c.iter().map(|c| c.name).collect::<Vec<_>>();
        assert_eq!(names(SUMMARY_COLUMNS), super::super::SUMMARY_HEADER);
        assert_eq!(names(TRAIN_COLUMNS), TRAINS_HEADER);
        assert_eq!(names(FLAG_COLUMNS), FLAGS_HEADER);
        assert_eq!(names(FINDING_COLUMNS), FINDINGS_HEADER);
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
