//! CSV rendering: one row per response, for spreadsheets. Several files go into
//! one table (the `path` column tells them apart), with one header. New
//! columns are only ever appended ([`HEADER`]), so a reader by position
//! keeps working.

use crate::analysis::Analysis;

/// Column names of the response table, in order.
pub const HEADER: &[&str] = &[
    "path",
    "train",
    "role",
    "role_source",
    "rate_hz",
    "delay_after_exercise_s",
    "response",
    "stimulus_s",
    "latency_ms",
    "amplitude_mv",
    "peak_to_peak_mv",
    "area_mv_ms",
    "duration_ms",
    "amplitude_rel_pct",
    "area_rel_pct",
    "polarity",
    "pattern",
    "initial_positive_mv",
    "stimulus_intensity",
    "stimulus_intensity_unit",
    "patient_id",
    "study_date",
    "peak_latency_ms",
    "baseline_mv",
];

/// A text cell (a path, a unit, a message) as a spreadsheet may safely
/// open it: one that begins with `=`, `+`, `-`, `@`, a tab or a carriage
/// return (which a spreadsheet evaluates as a formula: `=HYPERLINK(…)`)
/// gets a `'` in front, and so does one that begins with `'`, so that the
/// rule can be undone without doubt: a cell that begins with `'` had one
/// added; drop it to get the text back. Numbers never pass through here.
pub fn text_cell(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\'') => format!("'{s}"),
        _ => s.to_string(),
    }
}

/// An optional number as a CSV cell: empty for `None` (the tables' "not
/// applicable").
pub fn opt(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| x.to_string())
}

/// Render the response rows of several analyses under one header.
pub fn render(analyses: &[&Analysis]) -> String {
    let mut out = header();
    for a in analyses {
        out.push_str(&rows(a, &a.source.path));
    }
    out
}

/// The header line of the response table.
pub fn header() -> String {
    let mut w = ::csv::WriterBuilder::new().from_writer(Vec::new());
    // Writing to a Vec cannot fail; errors would only come from I/O.
    let _ = w.write_record(HEADER);
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// The response rows of one analysis, without a header, with `path` in the
/// first column. Rows of several analyses concatenated after [`header`] are
/// [`render`]'s table: a batch renders each file's rows where it analysed
/// the file, in parallel, and only joins them at the end.
pub fn rows(a: &Analysis, path: &str) -> String {
    super::table::responses(a, path).rows_csv()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_evaluate_are_neutralised_reversibly() {
        for (raw, safe) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1+1", "'+1+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("'quoted", "''quoted"),
            ("recs/a.wav", "recs/a.wav"),
            ("mA", "mA"),
            ("", ""),
        ] {
            assert_eq!(text_cell(raw), safe);
            // Undone: drop the one leading quote the rule added.
            let back = safe.strip_prefix('\'').unwrap_or(safe);
            assert_eq!(back, raw);
        }
    }
}
