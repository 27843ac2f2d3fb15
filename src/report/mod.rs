//! Reports people read: one self-contained HTML file per recording, with its
//! plots inline, and the plots as SVG or PNG files when asked
//! ([`PlotFiles`]).
//!
//! Overview:
//! - [`plots`] draws the figures with `plotters` (bundled font, no system
//!   fonts): per train the stacked ("waterfall") and superimposed responses
//!   with onset, peak, phase-end and baseline markers; the amplitude and area
//!   trends as % of each train's first response; the post-exercise comparison.
//! - [`html`] lays out the report: header (file name, SHA-256 of the input,
//!   tool version; no date, so the same input gives the same bytes), the
//!   pattern and its findings, study facts, session figures, the plots, one
//!   table per train, the quality flags in words, the criteria used with
//!   their sources, and the "Patterns, not diagnoses" footer. The plots are
//!   inline SVG and the stylesheet is inline, so the file needs nothing else.
//! - [`words`] holds the plain-language wording.
//! - [`svg`] is the compact SVG backend the plots are drawn with (a report
//!   stays within a few hundred kilobytes).
//! - [`index`] lays out a batch's `index.html`: every recording with its
//!   pattern and key figures, linking its report.
//!
//! [`build`] makes a [`Report`] in memory; [`write()`] puts it on disk
//! atomically (each file written to a temporary and renamed).

pub mod html;
pub mod index;
pub mod pdf;
pub mod plots;
pub mod svg;
pub mod words;

use crate::analysis::{Analysis, TrainTraces};
use crate::error::{Error, Result};
use crate::export::atomic::write_atomic_replacing as write_atomic;
use crate::export::outdir::OutDir;
use crate::settings::criteria::Criteria;
use plots::{Plot, RenderError};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Everything a report shows.
#[derive(Debug, Clone, Copy)]
pub struct ReportInput<'a> {
    /// The analysis.
    pub analysis: &'a Analysis,
    /// The response waveforms, from [`analyze_with_traces`](crate::analysis::analyze_with_traces).
    pub traces: &'a [TrainTraces],
    /// The criteria the analysis used (listed in the report).
    pub criteria: &'a Criteria,
    /// The input's file name as shown (no directory: folders often carry names).
    pub file_name: &'a str,
    /// SHA-256 of the input file, lowercase hex.
    pub sha256: &'a str,
    /// The paper the printed report is laid out for.
    pub paper: Paper,
    /// Which plot files are written beside the HTML (PNG is drawn only
    /// when asked for).
    pub plot_files: PlotFiles,
}

/// The plot files written beside a report's HTML, which inlines every
/// plot as SVG whatever this says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlotFiles {
    /// None: the HTML is the whole report.
    #[default]
    None,
    /// `<plot>.svg` files.
    Svg,
    /// `<plot>.png` files (drawn at twice the SVG's size).
    Png,
    /// Both.
    Both,
}

impl PlotFiles {
    /// Whether SVG files are written.
    pub fn svg(self) -> bool {
        matches!(self, PlotFiles::Svg | PlotFiles::Both)
    }

    /// Whether PNG files are drawn and written.
    pub fn png(self) -> bool {
        matches!(self, PlotFiles::Png | PlotFiles::Both)
    }

    /// Parse `none`, `svg`, `png` or `both` (any case).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Some(PlotFiles::None),
            "svg" => Some(PlotFiles::Svg),
            "png" => Some(PlotFiles::Png),
            "both" => Some(PlotFiles::Both),
            _ => None,
        }
    }
}

/// The paper a report is printed on: its first page is laid out to hold
/// the summary on either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Paper {
    /// ISO A4, 210 × 297 mm.
    #[default]
    A4,
    /// US Letter, 8.5 × 11 in.
    Letter,
}

impl Paper {
    /// The CSS `@page` size.
    pub fn css(self) -> &'static str {
        match self {
            Paper::A4 => "A4",
            Paper::Letter => "letter",
        }
    }

    /// Parse `a4` or `letter` (any case).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "a4" => Some(Paper::A4),
            "letter" => Some(Paper::Letter),
            _ => None,
        }
    }
}

/// A rendered report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The HTML document.
    pub html: String,
    /// The plots, also inlined in the HTML.
    pub plots: Vec<Plot>,
    /// Which of them [`write()`] puts in files.
    pub files: PlotFiles,
}

/// Draw the plots and lay out the HTML.
pub fn build(input: &ReportInput<'_>) -> std::result::Result<Report, RenderError> {
    let a = input.analysis;
    let png = input.plot_files.png();
    let mut made: Vec<Option<std::result::Result<Plot, RenderError>>> = Vec::new();
    for t in &a.trains {
        if let Some(tr) = input.traces.iter().find(|x| x.index == t.index) {
            made.push(plots::waterfall_mini(t, tr, png));
            made.push(plots::waterfall(t, tr, png));
            made.push(plots::superimposed(t, tr, png));
        }
    }
    made.push(plots::trends(a, input.criteria, png));
    made.push(plots::post_exercise(a, input.criteria, png));
    made.push(plots::rest_vs_post_exercise(a, input.traces, png));
    let plots: Vec<Plot> = made
        .into_iter()
        .flatten()
        .collect::<std::result::Result<_, _>>()?;
    let html = html::render(input, &plots);
    Ok(Report {
        html,
        plots,
        files: input.plot_files,
    })
}

/// Write `report` as `dir/<stem>.html`, with its plot files, when it has
/// any ([`Report::files`]), in `dir/<stem>/` (`<plot>.svg`, `<plot>.png`).
/// Every file is written atomically; the HTML comes last. Returns the
/// paths written, in that order.
pub fn write(report: &Report, dir: &Path, stem: &str) -> Result<Vec<PathBuf>> {
    let mut written = Vec::with_capacity(2 * report.plots.len() + 1);
    if report.files == PlotFiles::None {
        // A batch's report folders mirror the input's, made on demand.
        std::fs::create_dir_all(dir).map_err(|e| Error::Write {
            path: dir.to_path_buf(),
            source: e,
        })?;
    } else {
        write_plots(report, dir, stem, &mut written)?;
    }
    let html = dir.join(format!("{stem}.html"));
    write_atomic(&html, report.html.as_bytes())?;
    written.push(html);
    Ok(written)
}

/// The plot files of [`write()`].
fn write_plots(report: &Report, dir: &Path, stem: &str, written: &mut Vec<PathBuf>) -> Result<()> {
    let plot_dir = dir.join(stem);
    // A plot folder planted as a link would lead the plots elsewhere.
    OutDir::check_folder_inside(dir, &plot_dir)?;
    std::fs::create_dir_all(&plot_dir).map_err(|e| Error::Write {
        path: plot_dir.clone(),
        source: e,
    })?;
    for p in &report.plots {
        if report.files.svg() {
            let svg = plot_dir.join(format!("{}.svg", p.name));
            write_atomic(&svg, p.svg.as_bytes())?;
            written.push(svg);
        }
        if let (true, Some(bytes)) = (report.files.png(), &p.png) {
            let png = plot_dir.join(format!("{}.png", p.name));
            write_atomic(&png, bytes)?;
            written.push(png);
        }
    }
    Ok(())
}

/// A report that could not be made: drawing failed, or a file could not be
/// read (the input, for its checksum) or written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A plot could not be drawn.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// Reading the input or writing an output failed.
    #[error(transparent)]
    Io(#[from] Error),
}

impl ReportError {
    /// The `rns` exit code: 1 for drawing and writing, the error's own
    /// code for an input that cannot be read.
    pub fn exit_code(&self) -> i32 {
        match self {
            ReportError::Render(_) => 1,
            ReportError::Io(e) => e.exit_code(),
        }
    }
}

/// How a report is laid out and which files it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportOptions {
    /// The paper the printed report is laid out for.
    pub paper: Paper,
    /// The plot files written beside the HTML.
    pub plots: PlotFiles,
}

/// The recording a report is of.
#[derive(Debug, Clone, Copy)]
pub struct ReportFile<'a> {
    /// The input file (the report shows only its name).
    pub path: &'a Path,
    /// Its SHA-256, when the caller has it; else the file is read for it.
    pub sha256: Option<&'a str>,
}

/// Make the report of one recording and write it as `dir/<stem>.html` with
/// its plot files in `dir/<stem>/` (see [`write()`]).
pub fn write_for_file(
    input: ReportFile<'_>,
    analysis: &Analysis,
    traces: &[TrainTraces],
    criteria: &Criteria,
    dir: &Path,
    stem: &str,
    opts: ReportOptions,
) -> std::result::Result<Vec<PathBuf>, ReportError> {
    let path = input.path;
    let sha = match input.sha256 {
        Some(s) => s.to_string(),
        None => sha256_file(path)?,
    };
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let report = build(&ReportInput {
        analysis,
        traces,
        criteria,
        file_name: &name,
        sha256: &sha,
        paper: opts.paper,
        plot_files: opts.plots,
    })?;
    Ok(write(&report, dir, stem)?)
}

/// Make sure `dir` can take the outputs, and hold it for the run: see
/// [`OutDir::prepare`] (created when missing; a non-empty one only with
/// `force`; locked against a second `rns`; stale temporaries removed).
pub fn prepare_out_dir(dir: &Path, force: bool) -> Result<OutDir> {
    OutDir::prepare(dir, force)
}

/// Longest output name [`safe_name`] keeps, in bytes: room for a `-N`
/// suffix and `.html` within the 255 bytes a file name may have.
pub const MAX_NAME_BYTES: usize = 200;

/// `name` made safe as one file name inside the output folder: every
/// character that is a path separator, a control character or not allowed
/// in Windows names (`\ / : * ? " < > |`) becomes `_`; leading dots become
/// `_` (so `.`, `..` and `...` never name a folder outside, and no output is
/// hidden); cut to [`MAX_NAME_BYTES`]; `recording` when nothing is left.
pub fn safe_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len().min(MAX_NAME_BYTES));
    let mut leading = true;
    for c in name.chars() {
        let bad =
            c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|');
        let c = if bad || (leading && c == '.') { '_' } else { c };
        leading &= c == '_';
        if out.len() + c.len_utf8() > MAX_NAME_BYTES {
            break;
        }
        out.push(c);
    }
    if out.trim().is_empty() {
        "recording".into()
    } else {
        out
    }
}

/// Output names for the given inputs, one each, in order: the file stem
/// (`rec.wav` → `rec`); when two inputs share a stem, their file names
/// (`rec.wav`, `rec.csv`); when those clash too, a `-2`, `-3`… suffix. Each
/// is a [`safe_name`], so it stays inside the output folder.
pub fn unique_stems(paths: &[PathBuf]) -> Vec<String> {
    let stem = |p: &PathBuf| {
        p.file_stem().map_or_else(
            || "recording".to_string(),
            |s| safe_name(&s.to_string_lossy()),
        )
    };
    let name = |p: &PathBuf| {
        p.file_name().map_or_else(
            || "recording".to_string(),
            |s| safe_name(&s.to_string_lossy()),
        )
    };
    let stems: Vec<String> = paths.iter().map(stem).collect();
    let first: Vec<String> = paths
        .iter()
        .zip(&stems)
        .map(|(p, s)| {
            if stems.iter().filter(|x| *x == s).count() > 1 {
                name(p)
            } else {
                s.clone()
            }
        })
        .collect();
    // A `-N` suffix until the name is free: `x.wav-2` may itself be the
    // stem of another input.
    let mut taken: std::collections::BTreeSet<String> = Default::default();
    first
        .into_iter()
        .map(|s| {
            let mut name = s.clone();
            let mut n = 1;
            while !taken.insert(name.clone()) {
                n += 1;
                name = format!("{s}-{n}");
            }
            name
        })
        .collect()
}

/// SHA-256 of a file's bytes, lowercase hex. The file is only read.
pub fn sha256_file(path: &Path) -> Result<String> {
    // As the readers open it: a FIFO or device is refused, never waited on
    // (a batch hashes each file before reading it).
    let mut f = crate::io::open_input(path)?;
    let mut hasher = Sha256::new();
    // Large reads: `io::copy`'s 8 KiB buffer made hashing a batch of
    // recordings cost a system call per 8 KiB.
    let mut buf = vec![0u8; 1 << 18];
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => hasher.update(&buf[..k]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(Error::Io {
                    path: path.to_path_buf(),
                    source: e,
                })
            }
        }
    }
    Ok(hex(&hasher.finalize()))
}

/// SHA-256 of bytes, lowercase hex.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_are_unique_and_stable() {
        let p = |s: &str| PathBuf::from(s);
        let got = unique_stems(&[p("a/rec.wav"), p("b/rec.csv"), p("c/rec.wav"), p("x.wav")]);
        assert_eq!(got, vec!["rec.wav", "rec.csv", "rec.wav-2", "x"]);
        // A suffixed name that is another input's stem.
        let got = unique_stems(&[p("d1/x.wav"), p("d2/x.wav"), p("x.wav-2.wav")]);
        assert_eq!(got, vec!["x.wav", "x.wav-2", "x.wav-2-2"]);
    }

    #[test]
    fn names_stay_inside_the_output_folder() {
        let p = |s: &str| PathBuf::from(s);
        let got = unique_stems(&[p("...wav"), p("..wav"), p("d/.wav"), p(".hidden.csv")]);
        assert_eq!(got, vec!["__", "_", "_wav", "_hidden"]);
        for s in &got {
            assert!(!s.contains('/') && s != "." && s != "..", "{s}");
        }
        assert_eq!(safe_name("a\u{1b}[31m:b|c"), "a_[31m_b_c");
        assert_eq!(safe_name("..."), "___");
        assert_eq!(safe_name(""), "recording");
        let long = "é".repeat(300);
        let cut = safe_name(&long);
        assert!(cut.len() <= MAX_NAME_BYTES && cut.chars().all(|c| c == 'é'));
        assert_eq!(safe_name("rec 1 (ADM)"), "rec 1 (ADM)");
    }

    #[test]
    fn sha256_of_known_bytes() {
        assert_eq!(
            sha256_bytes(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
