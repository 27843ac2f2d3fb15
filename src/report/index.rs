//! A batch's `index.html`: one row per recording with its pattern and key
//! figures, linking its report.
//!
//! Overview: [`render`] lays the page out from the batch's `summary.csv`
//! table (so `rns merge` rebuilds the same page from the merged table): a
//! count of recordings by outcome and by pattern, then one row per
//! recording in path order, its name linking `reports/<path>.html`. A file
//! that failed shows its error instead of figures and has no link. The
//! page is self-contained (inline stylesheet, no script), relative links
//! only, and holds no date, so the same batch gives the same bytes.

use super::html::{esc, stylesheet};
use super::plots::trim_num;
use super::words::pattern_name;
use crate::output::table::{Cell, Table};
use crate::vocab::Pattern;
use std::fmt::Write as _;

/// What became of one recording, from the summary's `status` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexStatus {
    /// Analysed and reported.
    Ok,
    /// Analysis or writing failed.
    Error,
    /// Not a recording (a note beside the recordings).
    Skipped,
}

impl IndexStatus {
    fn parse(s: &str) -> IndexStatus {
        match s {
            "ok" => IndexStatus::Ok,
            "skipped" => IndexStatus::Skipped,
            _ => IndexStatus::Error,
        }
    }

    fn words(self) -> &'static str {
        match self {
            IndexStatus::Ok => "reported",
            IndexStatus::Error => "failed",
            IndexStatus::Skipped => "skipped",
        }
    }
}

/// One row of the index.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexRow {
    /// Path relative to the analysed folder, `/`-separated.
    pub path: String,
    /// What became of it.
    pub status: IndexStatus,
    /// Why it failed or was skipped.
    pub error: Option<String>,
    /// The pattern, when analysed.
    pub pattern: Option<Pattern>,
    /// The muscle recorded, when known.
    pub muscle: Option<String>,
    /// Trains analysed.
    pub trains: Option<i64>,
    /// Baseline CMAP amplitude, mV.
    pub baseline_cmap_mv: Option<f64>,
    /// Whether the baseline CMAP is below the muscle's lower limit.
    pub low_cmap: Option<bool>,
    /// Decrement of the reference train at rest, %.
    pub baseline_decrement_pct: Option<f64>,
    /// Largest post-exercise increment, %.
    pub post_exercise_increment_pct: Option<f64>,
    /// Largest high-rate increment, %.
    pub max_hfs_increment_pct: Option<f64>,
    /// How many warnings the quality checks raised.
    pub warnings: usize,
}

/// The index rows of a `summary.csv` table, in its order. Columns are found
/// by name, so a table with more columns reads the same.
pub fn rows(summary: &Table) -> Vec<IndexRow> {
    let col = |name: &str| summary.columns.iter().position(|c| c.name == name);
    let (path, status, error, pattern, muscle, trains) = (
        col("path"),
        col("status"),
        col("error"),
        col("pattern"),
        col("muscle"),
        col("trains"),
    );
    let (cmap, low, dec, inc, hfs, warnings) = (
        col("baseline_cmap_mv"),
        col("low_cmap"),
        col("baseline_decrement_pct"),
        col("post_exercise_increment_pct"),
        col("max_hfs_increment_pct"),
        col("warnings"),
    );
    summary
        .rows
        .iter()
        .map(|r| {
            let get = |c: Option<usize>| c.and_then(|c| r.get(c)).unwrap_or(&Cell::Null);
            IndexRow {
                path: text(get(path)).unwrap_or_default(),
                status: IndexStatus::parse(&text(get(status)).unwrap_or_default()),
                error: text(get(error)),
                pattern: text(get(pattern)).and_then(|p| Pattern::from_name(&p)),
                muscle: text(get(muscle)),
                trains: match get(trains) {
                    Cell::Int(n) => Some(*n),
                    _ => None,
                },
                baseline_cmap_mv: float(get(cmap)),
                low_cmap: match get(low) {
                    Cell::Bool(b) => Some(*b),
                    _ => None,
                },
                baseline_decrement_pct: float(get(dec)),
                post_exercise_increment_pct: float(get(inc)),
                max_hfs_increment_pct: float(get(hfs)),
                warnings: text(get(warnings)).map_or(0, |w| w.split(';').count()),
            }
        })
        .collect()
}

fn text(c: &Cell) -> Option<String> {
    match c {
        Cell::Text(s) => Some(s.clone()),
        _ => None,
    }
}

fn float(c: &Cell) -> Option<f64> {
    match c {
        Cell::Float(v) => Some(*v),
        Cell::Int(n) => Some(*n as f64),
        _ => None,
    }
}

/// The link to a recording's report from the output folder: each path
/// segment percent-encoded (every byte but unreserved characters), so that
/// names with spaces, `#`, `?` or `%` link right.
pub fn href_of(path: &str) -> String {
    let mut h = String::from("reports/");
    for (i, seg) in path.split('/').enumerate() {
        if i > 0 {
            h.push('/');
        }
        for b in seg.bytes() {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                h.push(char::from(b));
            } else {
                let _ = write!(h, "%{b:02X}");
            }
        }
    }
    h.push_str(".html");
    h
}

const INDEX_CSS: &str = "
.index td.num{text-align:right;font-variant-numeric:tabular-nums}
.index tr.failed td{color:#8a1c1c}
.index td.err{white-space:normal;max-width:40em}
.counts{margin:.4em 0 1em}
";

/// A number with `d` decimals, or a dash.
fn fig(v: Option<f64>, d: usize) -> String {
    v.map_or_else(|| "—".into(), |v| trim_num(v, d))
}

/// The whole `index.html` of a batch titled `title` (the analysed folder).
pub fn render(title: &str, rows: &[IndexRow]) -> String {
    let mut h = String::with_capacity(1024 + 400 * rows.len());
    let title = format!("RNS batch — {title}");
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n\
         <meta charset=\"utf-8\"/>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n\
         <meta name=\"generator\" content=\"{tool} {version}\"/>\n<title>{t}</title>\n<style>{css}{INDEX_CSS}</style>\n\
         </head>\n<body>\n<main>\n<h1>{t}</h1>\n",
        tool = env!("CARGO_PKG_NAME"),
        version = crate::VERSION,
        t = esc(&title),
        css = stylesheet(),
    );
    counts(&mut h, rows);
    table(&mut h, rows);
    h.push_str(
        "<footer><p>Patterns, not diagnoses: each report gives the findings and the criteria \
         behind them; interpretation belongs to the clinician.</p></footer>\n</main>\n</body>\n</html>\n",
    );
    h
}

/// The line counting recordings by outcome and by pattern.
fn counts(h: &mut String, rows: &[IndexRow]) {
    let n = |s: IndexStatus| rows.iter().filter(|r| r.status == s).count();
    let mut parts = vec![format!(
        "{} recording(s): {} reported",
        rows.len(),
        n(IndexStatus::Ok)
    )];
    if n(IndexStatus::Error) > 0 {
        parts.push(format!("{} failed", n(IndexStatus::Error)));
    }
    if n(IndexStatus::Skipped) > 0 {
        parts.push(format!("{} skipped", n(IndexStatus::Skipped)));
    }
    let patterns: Vec<String> = Pattern::ALL
        .iter()
        .filter_map(|&p| {
            let k = rows.iter().filter(|r| r.pattern == Some(p)).count();
            (k > 0).then(|| format!("{} {k}", pattern_name(p)))
        })
        .collect();
    let _ = write!(h, "<p class=\"counts\">{}", esc(&parts.join(", ")));
    if !patterns.is_empty() {
        let _ = write!(h, ". Patterns: {}", esc(&patterns.join(", ")));
    }
    h.push_str(".</p>\n");
}

/// The table of recordings.
fn table(h: &mut String, rows: &[IndexRow]) {
    h.push_str(
        "<table class=\"index\">\n<thead><tr><th>Recording</th><th>Pattern</th><th>Muscle</th>\
         <th>Trains</th><th>Baseline CMAP (mV)</th><th>Decrement at rest (%)</th>\
         <th>Post-exercise increment (%)</th><th>High-rate increment (%)</th><th>Warnings</th>\
         </tr></thead>\n<tbody>\n",
    );
    for r in rows {
        let name = esc(&r.path);
        if r.status != IndexStatus::Ok {
            let why = r.error.as_deref().unwrap_or("");
            let _ = writeln!(
                h,
                "<tr class=\"failed\"><td>{name}</td><td colspan=\"8\" class=\"err\">{}: {}</td></tr>",
                r.status.words(),
                esc(why)
            );
            continue;
        }
        let cmap = match (r.baseline_cmap_mv, r.low_cmap) {
            (Some(v), Some(true)) => format!("{} (low)", trim_num(v, 2)),
            (v, _) => fig(v, 2),
        };
        let _ = writeln!(
            h,
            "<tr><td><a href=\"{href}\">{name}</a></td><td>{pattern}</td><td>{muscle}</td>\
             <td class=\"num\">{trains}</td><td class=\"num\">{cmap}</td><td class=\"num\">{dec}</td>\
             <td class=\"num\">{inc}</td><td class=\"num\">{hfs}</td><td class=\"num\">{warn}</td></tr>",
            href = esc(&href_of(&r.path)),
            pattern = r.pattern.map_or("—", pattern_name),
            muscle = r.muscle.as_deref().map_or_else(|| "—".into(), esc),
            trains = r.trains.map_or_else(|| "—".into(), |n| n.to_string()),
            cmap = esc(&cmap),
            dec = fig(r.baseline_decrement_pct, 1),
            inc = fig(r.post_exercise_increment_pct, 1),
            hfs = fig(r.max_hfs_increment_pct, 1),
            warn = r.warnings,
        );
    }
    h.push_str("</tbody>\n</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::table::Column;
    use crate::output::table::Kind::{self, Bool, Float, Int, Text};

    const fn c(name: &'static str, kind: Kind) -> Column {
        Column { name, kind }
    }

    fn summary(rows: Vec<Vec<Cell>>) -> Table {
        const COLS: &[Column] = &[
            c("path", Text),
            c("status", Text),
            c("error", Text),
            c("pattern", Text),
            c("trains", Int),
            c("baseline_cmap_mv", Float),
            c("low_cmap", Bool),
            c("baseline_decrement_pct", Float),
            c("warnings", Text),
        ];
        let mut t = Table::new(COLS);
        t.rows = rows;
        t
    }

    #[test]
    fn links_are_relative_and_percent_encoded() {
        assert_eq!(href_of("a/b c.wav"), "reports/a/b%20c.wav.html");
        assert_eq!(href_of("x#1?.csv"), "reports/x%231%3F.csv.html");
        assert_eq!(href_of("é%.wav"), "reports/%C3%A9%25.wav.html");
    }

    #[test]
    fn rows_read_columns_by_name() {
        let t = summary(vec![vec![
            Cell::text("p/a.wav"),
            Cell::text("ok"),
            Cell::Null,
            Cell::text("mg_like"),
            Cell::Int(3),
            Cell::Float(4.25),
            Cell::Bool(true),
            Cell::Float(-18.04),
            Cell::text("possible_submaximal[1];irregular_amplitudes[3]"),
        ]]);
        let r = &rows(&t)[0];
        assert_eq!(r.status, IndexStatus::Ok);
        assert_eq!(r.pattern, Some(Pattern::MgLike));
        assert_eq!(r.trains, Some(3));
        assert_eq!(r.low_cmap, Some(true));
        assert_eq!(r.warnings, 2);
        assert_eq!(r.muscle, None);
        let page = render("folder", &rows(&t));
        assert!(
            page.contains("<a href=\"reports/p/a.wav.html\">p/a.wav</a>"),
            "{page}"
        );
        assert!(page.contains("4.25 (low)"), "{page}");
        assert!(page.contains("MG-like 1"), "{page}");
    }

    #[test]
    fn failures_show_their_error_escaped_and_no_link() {
        let t = summary(vec![vec![
            Cell::text("<b>.wav"),
            Cell::text("error"),
            Cell::text("not a WAV file: \"RIFF\" missing & more"),
            Cell::Null,
            Cell::Null,
            Cell::Null,
            Cell::Null,
            Cell::Null,
            Cell::Null,
        ]]);
        let page = render("f", &rows(&t));
        assert!(!page.contains("<a href"), "{page}");
        assert!(page.contains("&lt;b&gt;.wav"), "{page}");
        assert!(page.contains("failed: not a WAV file: &quot;RIFF&quot; missing &amp; more"));
        assert!(
            page.contains("1 recording(s): 0 reported, 1 failed"),
            "{page}"
        );
    }
}
