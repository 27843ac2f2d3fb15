//! CSV rendering: one row per response, for spreadsheets. Several files go into
//! one table (the `path` column tells them apart), with one header.

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
];

fn opt(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| x.to_string())
}

/// Render the response rows of several analyses under one header.
pub fn render(analyses: &[&Analysis]) -> String {
    let mut w = ::csv::WriterBuilder::new().from_writer(Vec::new());
    // Writing to a Vec cannot fail; errors would only come from I/O.
    let _ = w.write_record(HEADER);
    for a in analyses {
        for t in &a.trains {
            for r in &t.responses {
                let row = [
                    a.source.path.clone(),
                    t.index.to_string(),
                    t.role.clone(),
                    t.role_source.clone(),
                    opt(t.rate_hz),
                    opt(t.delay_after_exercise_s),
                    r.index.to_string(),
                    opt(r.stimulus_s),
                    r.latency_ms.to_string(),
                    r.amplitude_mv.to_string(),
                    r.peak_to_peak_mv.to_string(),
                    r.area_mv_ms.to_string(),
                    r.duration_ms.to_string(),
                    opt(r.amplitude_rel_pct),
                    opt(r.area_rel_pct),
                    a.source.polarity.clone(),
                    a.classification.pattern.clone(),
                ];
                let _ = w.write_record(&row);
            }
        }
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}
