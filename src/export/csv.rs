//! CSV writers: a continuous recording (`time_s,<names…>`) or epoched sweeps
//! (`time_ms,sweep1,…`), in the layouts the CSV reader takes.

use std::fmt::Write as _;

/// Decimals that print a time with a resolution of 1/1000 of a sample step
/// (`unit_per_s` = 1 for seconds, 1000 for ms), at least 6 and at most 12.
fn time_decimals(rate_hz: f64, unit_per_s: f64) -> usize {
    let d = (rate_hz / unit_per_s * 1000.0).log10().ceil();
    if d.is_finite() {
        d.clamp(6.0, 12.0) as usize
    } else {
        6
    }
}

/// Quote a header name if it holds a delimiter, quote or line break.
fn push_name(out: &mut String, name: &str) {
    if name.contains([',', ';', '\t', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&name.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(name);
    }
}

/// Encode a continuous recording as CSV: header `time_s,<names…>` (or only
/// the names when `time_col` is false), one row per sample.
///
/// Times are printed with enough decimals to resolve 1/1000 of a sample step
/// at `rate_hz`, values (mV) with 6 decimals (1 nV). Columns should have equal
/// length; rows beyond a shorter column get an empty cell there, which
/// [`read_csv`](crate::io::csv::read_csv) rejects, so a mismatch cannot go unnoticed.
pub fn encode_continuous_csv(time_col: bool, rate_hz: f64, columns: &[(&str, &[f32])]) -> Vec<u8> {
    let rows = columns.iter().map(|(_, c)| c.len()).max().unwrap_or(0);
    let tdec = time_decimals(rate_hz, 1.0);
    let mut out = String::with_capacity(rows * (columns.len() * 11 + 14) + 64);
    let mut names: Vec<&str> = Vec::with_capacity(columns.len() + 1);
    if time_col {
        names.push("time_s");
    }
    names.extend(columns.iter().map(|(n, _)| *n));
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_name(&mut out, n);
    }
    out.push('\n');
    for r in 0..rows {
        let mut first = true;
        if time_col {
            // Writing to a String cannot fail.
            let _ = write!(out, "{:.*}", tdec, r as f64 / rate_hz);
            first = false;
        }
        for (_, c) in columns {
            if !first {
                out.push(',');
            }
            first = false;
            if let Some(v) = c.get(r) {
                let _ = write!(out, "{v:.6}");
            }
        }
        out.push('\n');
    }
    out.into_bytes()
}

/// Encode sweeps as an epoched CSV: header `time_ms,sweep1,sweep2,…`, times
/// from `-pre_stimulus_samples / rate` (in ms) in steps of one sample, so the
/// stimulus is the row at time 0. Values (mV) have 6 decimals. Sweeps should
/// have equal length; missing cells of shorter sweeps are left empty (and
/// then rejected by [`read_csv`](crate::io::csv::read_csv)).
pub fn encode_sweeps_csv(rate_hz: f64, pre_stimulus_samples: usize, sweeps: &[&[f32]]) -> Vec<u8> {
    let rows = sweeps.iter().map(|s| s.len()).max().unwrap_or(0);
    let tdec = time_decimals(rate_hz, 1000.0);
    let mut out = String::with_capacity(rows * (sweeps.len() * 11 + 14) + 64);
    out.push_str("time_ms");
    for k in 0..sweeps.len() {
        let _ = write!(out, ",sweep{}", k + 1);
    }
    out.push('\n');
    for r in 0..rows {
        let t_ms = (r as f64 - pre_stimulus_samples as f64) * 1000.0 / rate_hz;
        // Writing to a String cannot fail.
        let _ = write!(out, "{t_ms:.*}", tdec);
        for s in sweeps {
            out.push(',');
            if let Some(v) = s.get(r) {
                let _ = write!(out, "{v:.6}");
            }
        }
        out.push('\n');
    }
    out.into_bytes()
}
