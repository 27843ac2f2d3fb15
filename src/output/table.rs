//! One typed table model behind every tabular output.
//!
//! Overview: a [`Table`] is a list of typed [`Column`]s and rows of raw
//! [`Cell`]s. The CSV files (`rns analyze --format csv`, the batch's tables)
//! are rendered from it by [`Table::to_csv`], and typed outputs (Parquet, the
//! Python package's DataFrames) read the same values, so every format holds
//! the same numbers. Cells hold raw values: only the CSV rendering applies
//! the spreadsheet-formula guard ([`super::csv::text_cell`]). Empty text is
//! [`Cell::Null`], so that a CSV cell reads back to the one value it came
//! from ([`Table::from_csv`]).

use super::csv::text_cell;
use crate::analysis::Analysis;

/// The type of a column (a Parquet physical type, a pandas dtype).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// UTF-8 text.
    Text,
    /// A whole number (64-bit).
    Int,
    /// A real number (64-bit float).
    Float,
    /// `true` or `false`.
    Bool,
}

/// One value of a table, raw (text without the CSV formula guard).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Not applicable: an empty CSV cell, a null in typed formats.
    Null,
    /// Text, never empty (empty text is [`Cell::Null`]; see [`Cell::text`]).
    Text(String),
    /// A whole number.
    Int(i64),
    /// A real number, rendered in CSV with `f64::to_string`.
    Float(f64),
    /// A truth value, rendered `true`/`false`.
    Bool(bool),
}

impl Cell {
    /// A text cell; empty text is [`Cell::Null`].
    pub fn text(s: &str) -> Cell {
        if s.is_empty() {
            Cell::Null
        } else {
            Cell::Text(s.to_string())
        }
    }

    /// An optional text cell.
    pub fn opt_text(s: Option<&str>) -> Cell {
        s.map_or(Cell::Null, Cell::text)
    }

    /// A count or index.
    pub fn int(n: usize) -> Cell {
        Cell::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }

    /// An optional count or index.
    pub fn opt_int(n: Option<usize>) -> Cell {
        n.map_or(Cell::Null, Cell::int)
    }

    /// An optional number.
    pub fn float(v: Option<f64>) -> Cell {
        v.map_or(Cell::Null, Cell::Float)
    }

    /// An optional truth value.
    pub fn opt_bool(v: Option<bool>) -> Cell {
        v.map_or(Cell::Null, Cell::Bool)
    }

    /// The cell as CSV text (before the CSV writer's quoting): text through
    /// [`text_cell`], numbers as Rust prints them, Null empty.
    pub fn csv_text(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Text(s) => text_cell(s),
            Cell::Int(n) => n.to_string(),
            Cell::Float(x) => x.to_string(),
            Cell::Bool(b) => b.to_string(),
        }
    }

    /// The cell a CSV field of a column of `kind` holds: the inverse of
    /// [`Cell::csv_text`]. `None` when the field is no value of that kind.
    pub fn from_csv(field: &str, kind: Kind) -> Option<Cell> {
        if field.is_empty() {
            return Some(Cell::Null);
        }
        Some(match kind {
            // The guard added one leading `'`; drop it to get the text back.
            Kind::Text => Cell::Text(field.strip_prefix('\'').unwrap_or(field).to_string()),
            Kind::Int => Cell::Int(field.parse().ok()?),
            Kind::Float => Cell::Float(field.parse().ok()?),
            Kind::Bool => Cell::Bool(field.parse().ok()?),
        })
    }
}

/// A column: its name (the CSV header) and type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Name, as in the CSV header.
    pub name: &'static str,
    /// Type of its cells (every cell is of it, or Null).
    pub kind: Kind,
}

/// Shorthand for the column lists below.
const fn col(name: &'static str, kind: Kind) -> Column {
    Column { name, kind }
}

/// A typed table: columns, and rows of as many cells.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// The columns, in order.
    pub columns: Vec<Column>,
    /// The rows, each a cell per column.
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// An empty table with these columns.
    pub fn new(columns: &[Column]) -> Table {
        Table {
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    /// The column names, in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.columns.iter().map(|c| c.name).collect()
    }

    /// The header line alone.
    pub fn header_csv(&self) -> String {
        write_csv(Some(&self.names()), &[])
    }

    /// Header and rows as CSV text.
    pub fn to_csv(&self) -> String {
        write_csv(Some(&self.names()), &self.rows)
    }

    /// The rows alone as CSV text (a batch joins rows rendered per file).
    pub fn rows_csv(&self) -> String {
        write_csv(None, &self.rows)
    }

    /// Append a column holding `cell` in every row.
    pub fn push_column(&mut self, column: Column, cell: &Cell) {
        self.columns.push(column);
        for r in &mut self.rows {
            r.push(cell.clone());
        }
    }

    /// Append the rows of `other` (a table of the same columns).
    pub fn extend(&mut self, other: Table) {
        self.rows.extend(other.rows);
    }

    /// The table a CSV text of these columns holds (header first): the
    /// inverse of [`Table::to_csv`]. `Err` names what does not fit.
    pub fn from_csv(columns: &[Column], text: &str) -> Result<Table, String> {
        let mut r = ::csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(text.as_bytes());
        let header = r.headers().map_err(|e| e.to_string())?;
        let names: Vec<&str> = columns.iter().map(|c| c.name).collect();
        if header.iter().collect::<Vec<_>>() != names {
            return Err("its header is not the expected columns".into());
        }
        let mut t = Table::new(columns);
        for (i, rec) in r.records().enumerate() {
            let rec = rec.map_err(|e| e.to_string())?;
            let row = columns
                .iter()
                .zip(rec.iter())
                .map(|(c, f)| Cell::from_csv(f, c.kind))
                .collect::<Option<Vec<Cell>>>()
                .filter(|row| row.len() == columns.len())
                .ok_or_else(|| format!("row {} does not fit the columns' types", i + 1))?;
            t.rows.push(row);
        }
        Ok(t)
    }
}

/// CSV text of an optional header and rows, quoted as the `csv` crate does.
fn write_csv(header: Option<&[&str]>, rows: &[Vec<Cell>]) -> String {
    let mut w = ::csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    if let Some(h) = header {
        let _ = w.write_record(h);
    }
    for row in rows {
        let _ = w.write_record(row.iter().map(Cell::csv_text));
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

use Kind::{Float, Int, Text};

/// Columns of the response table (`rns analyze --format csv`), in order:
/// the names of [`super::csv::HEADER`].
pub const RESPONSE_COLUMNS: &[Column] = &[
    col("path", Text),
    col("train", Int),
    col("role", Text),
    col("role_source", Text),
    col("rate_hz", Float),
    col("delay_after_exercise_s", Float),
    col("response", Int),
    col("stimulus_s", Float),
    col("latency_ms", Float),
    col("amplitude_mv", Float),
    col("peak_to_peak_mv", Float),
    col("area_mv_ms", Float),
    col("duration_ms", Float),
    col("amplitude_rel_pct", Float),
    col("area_rel_pct", Float),
    col("polarity", Text),
    col("pattern", Text),
    col("initial_positive_mv", Float),
    col("stimulus_intensity", Float),
    col("stimulus_intensity_unit", Text),
    col("patient_id", Text),
    col("study_date", Text),
    col("peak_latency_ms", Float),
    col("baseline_mv", Float),
];

/// Columns of `trains.csv`, in order.
pub const TRAIN_COLUMNS: &[Column] = &[
    col("path", Text),
    col("train", Int),
    col("role", Text),
    col("role_source", Text),
    col("rate_hz", Float),
    col("start_s", Float),
    col("delay_after_exercise_s", Float),
    col("responses", Int),
    col("first_amplitude_mv", Float),
    col("decrement_pct", Float),
    col("decrement_5th_pct", Float),
    col("max_decrement_pct", Float),
    col("area_decrement_pct", Float),
    col("area_decrement_5th_pct", Float),
    col("increment_pct", Float),
    col("area_increment_pct", Float),
    col("last_increment_pct", Float),
    col("last_area_increment_pct", Float),
    col("shape", Text),
    col("late_early_ratio", Float),
    col("warnings", Int),
];

/// Columns of `flags.csv`, in order.
pub const FLAG_COLUMNS: &[Column] = &[
    col("path", Text),
    col("train", Int),
    col("code", Text),
    col("severity", Text),
    col("message", Text),
];

/// Columns of `findings.csv`, in order.
pub const FINDING_COLUMNS: &[Column] = &[
    col("path", Text),
    col("train", Int),
    col("code", Text),
    col("value", Float),
    col("threshold", Float),
    col("message", Text),
];

/// The response rows of one analysis, `path` in the first column: the rows
/// of `rns analyze --format csv`.
pub fn responses(a: &Analysis, path: &str) -> Table {
    let mut t = Table::new(RESPONSE_COLUMNS);
    for tr in &a.trains {
        for r in &tr.responses {
            t.rows.push(vec![
                Cell::text(path),
                Cell::int(tr.index),
                Cell::text(tr.role.name()),
                Cell::text(tr.role_source.name()),
                Cell::float(tr.rate_hz),
                Cell::float(tr.delay_after_exercise_s),
                Cell::int(r.index),
                Cell::float(r.stimulus_s),
                Cell::Float(r.latency_ms),
                Cell::Float(r.amplitude_mv),
                Cell::Float(r.peak_to_peak_mv),
                Cell::Float(r.area_mv_ms),
                Cell::Float(r.duration_ms),
                Cell::float(r.amplitude_rel_pct),
                Cell::float(r.area_rel_pct),
                Cell::text(a.source.polarity.name()),
                Cell::text(a.classification.pattern.name()),
                Cell::Float(r.initial_positive_mv),
                Cell::float(r.stimulus_intensity),
                Cell::opt_text(
                    a.source
                        .stimulus_intensity
                        .as_ref()
                        .filter(|_| r.stimulus_intensity.is_some())
                        .map(|s| s.unit.as_str()),
                ),
                Cell::opt_text(a.study.patient_id.as_deref()),
                a.study
                    .study_date
                    .map_or(Cell::Null, |d| Cell::text(&d.to_string())),
                Cell::Float(r.peak_latency_ms),
                Cell::Float(r.baseline_mv),
            ]);
        }
    }
    t
}

/// One row per train of one analysis.
pub fn trains(a: &Analysis, path: &str) -> Table {
    let mut t = Table::new(TRAIN_COLUMNS);
    for tr in &a.trains {
        let warnings = a
            .quality
            .iter()
            .filter(|q| q.train == Some(tr.index) && q.severity == crate::vocab::Severity::Warning)
            .count();
        t.rows.push(vec![
            Cell::text(path),
            Cell::int(tr.index),
            Cell::text(tr.role.name()),
            Cell::text(tr.role_source.name()),
            Cell::float(tr.rate_hz),
            Cell::float(tr.start_s),
            Cell::float(tr.delay_after_exercise_s),
            Cell::int(tr.responses.len()),
            Cell::float(tr.responses.first().map(|r| r.amplitude_mv)),
            Cell::float(tr.decrement_pct),
            Cell::float(tr.decrement_5th_pct),
            Cell::float(tr.max_decrement_pct),
            Cell::float(tr.area_decrement_pct),
            Cell::float(tr.area_decrement_5th_pct),
            Cell::float(tr.increment_pct),
            Cell::float(tr.area_increment_pct),
            Cell::float(tr.last_increment_pct),
            Cell::float(tr.last_area_increment_pct),
            Cell::opt_text(tr.shape.map(|s| s.name())),
            Cell::float(tr.late_early_ratio),
            Cell::int(warnings),
        ]);
    }
    t
}

/// One row per quality flag of one analysis; the train Null for a flag of
/// the whole recording.
pub fn flags(a: &Analysis, path: &str) -> Table {
    let mut t = Table::new(FLAG_COLUMNS);
    for q in &a.quality {
        t.rows.push(vec![
            Cell::text(path),
            Cell::opt_int(q.train),
            Cell::text(q.code.name()),
            Cell::text(q.severity.name()),
            Cell::text(&q.message),
        ]);
    }
    t
}

/// One row per finding behind the pattern of one analysis, in the order
/// they were weighed.
pub fn findings(a: &Analysis, path: &str) -> Table {
    let mut t = Table::new(FINDING_COLUMNS);
    for f in &a.classification.findings {
        t.rows.push(vec![
            Cell::text(path),
            Cell::opt_int(f.train),
            Cell::text(f.code.name()),
            Cell::float(f.value),
            Cell::float(f.threshold),
            Cell::text(&f.message),
        ]);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_render_and_read_back() {
        let cols = [
            col("a", Text),
            col("b", Int),
            col("c", Float),
            col("d", Kind::Bool),
        ];
        let mut t = Table::new(&cols);
        t.rows.push(vec![
            Cell::text("=x, \"y\""),
            Cell::Int(-3),
            Cell::Float(0.1 + 0.2),
            Cell::Bool(true),
        ]);
        t.rows.push(vec![
            Cell::text(""),
            Cell::Null,
            Cell::Float(2.0),
            Cell::Null,
        ]);
        let csv = t.to_csv();
        assert_eq!(
            csv,
            "a,b,c,d\n\"'=x, \"\"y\"\"\",-3,0.30000000000000004,true\n,,2,\n"
        );
        assert_eq!(t.rows_csv(), csv.strip_prefix("a,b,c,d\n").unwrap());
        assert_eq!(Table::from_csv(&cols, &csv).unwrap(), t);
        assert!(Table::from_csv(&cols, "a,b,c,d\nx,1.5,1,true\n").is_err());
        assert!(Table::from_csv(&cols[..2], &csv).is_err());
    }

    #[test]
    fn response_columns_are_the_csv_header() {
        let names: Vec<&str> = RESPONSE_COLUMNS.iter().map(|c| c.name).collect();
        assert_eq!(names, super::super::csv::HEADER);
    }
}
