//! Delimited-text (CSV/TSV) reader and writers.
//!
//! Overview: [`read_csv`] turns a delimited text export into a [`Recording`],
//! either *continuous* (one row per sample) or *sweeps* (an EMG machine's
//! epoched export: time after the stimulus, then one column per response).
//! [`encode_continuous_csv`](crate::export::csv::encode_continuous_csv) and [`encode_sweeps_csv`](crate::export::csv::encode_sweeps_csv) write both layouts for
//! the synthetic generator and the sample scripts. [`parse_column_name`] is
//! the column-name grammar, public so other formats can reuse it.
//!
//! # Text
//!
//! A UTF-8 byte-order mark and CRLF line ends are accepted. Leading blank
//! lines and lines starting with `#` are skipped; the first other line is the
//! header, which must be UTF-8. The delimiter is the most frequent of `,`, `;`
//! and tab outside quotes in the header (ties prefer tab, then `;`); a header
//! without any of them is a one-column file, read with `;` as delimiter so
//! decimal commas work. Cells are numbers as Rust's `f64` parser reads them
//! (surrounding ASCII spaces ignored); a decimal comma (`1,25`) is accepted
//! whenever the delimiter is not `,`. Empty cells, NaN, infinities and
//! unparsable text are errors naming the row and column. Row numbers in
//! messages are 1-based **line numbers of the file** (comments included), so
//! they can be found in an editor. A last column with an empty name (a
//! trailing delimiter) is ignored if all its cells are empty. A column name
//! that spans lines (a quoted name with a line break: a quote left open) is
//! an error.
//!
//! # Column names
//!
//! See [`parse_column_name`]: a time column (`time`, `t`, `time_s`,
//! `Time (ms)`, `latency_ms`, `ms`, …), trigger columns (names containing
//! `trigger`, `trig`, `stim`, `marker` or `sync`; raw values, unit `""`), and
//! value columns whose unit (`V`, `mV`, `uV`/`µV`/`μV`, `nV`; default mV) is
//! converted to millivolts.
//!
//! A time column without a unit is read in seconds or milliseconds, whichever
//! puts its step inside the accepted sample-rate range
//! ([`SampleRate::MIN_HZ`]..=[`SampleRate::MAX_HZ`]); the two ranges do not
//! overlap, so the choice is never ambiguous.
//!
//! # Sample rate
//!
//! From the time column: it must be strictly increasing, and every step must
//! be within 1 % of the median step (plus the resolution the times are
//! printed with, so `{:.6}`-second times at 48 kHz pass). The rate is then
//! taken from the whole span, `(rows − 1) / (t_last − t_first)`, which is
//! more precise than one step, and snapped to whole hertz when the printed
//! precision cannot tell the difference. A time column wins over
//! [`ReadOptions::sample_rate`]; without one, that option is required.
//!
//! # Layouts and auto-detection
//!
//! [`CsvLayout::Auto`] chooses **sweeps** when the file has a time column and
//! either
//! - (a) every other column is named like a sweep: `sweep…`, `trace…`,
//!   `resp…`/`response…`, or `r`, `s`, `#`, `cmap` or `stim` followed by
//!   digits, or digits alone (case-insensitive; spaces, `_` and `-` ignored;
//!   a unit suffix allowed). Because `stim` names a trigger column, a set of
//!   `stim<N>` columns counts as sweeps only when there are at least two
//!   non-time columns; or
//! - (b) there is no trigger column, at least two value columns, and the
//!   time column spans less than 1.0 s.
//!
//! Otherwise the file is **continuous**.
//!
//! Continuous: one [`ChannelKind::Signal`] channel per value column and one
//! [`ChannelKind::Trigger`] per trigger column, indexed in file order without
//! the time column; one segment starting at `start_s = 0.0` (the file's first
//! time value is not kept: recording time starts at the first row).
//!
//! Sweeps: the sweeps are concatenated into one signal channel `"sweeps"`:
//! sweep *k* occupies samples `[k·L, (k+1)·L)` (L = rows), one [`Segment`]
//! per sweep with `start_s = k·L/rate` (real timing unknown), and
//! [`KnownStimuli`] at `k·L + i0`, where `i0` is the first row whose time is
//! ≥ 0. All sweep columns must share one unit; trigger columns are not
//! allowed.
//!
//! # Channel filter
//!
//! [`ReadOptions::channels`] selects continuous channels by index (value and
//! trigger columns alike) or by column name (see
//! [`ChannelSel::resolve`](crate::io::ChannelSel::resolve)); a sweeps file has
//! the single channel 0, `sweeps`. The default EMG channel is 0. Unwanted
//! channels keep their metadata with empty samples and their cells are not
//! checked. An index beyond the file's channels is [`Error::NoSuchChannel`].
//! While the layout is still undecided (rule b), every value column is
//! decoded and the unwanted ones are dropped afterwards.

use crate::error::{Error, Result};
use crate::io::{ChannelFilter, ReadOptions, MAX_CHANNELS, MAX_SAMPLES_PER_CHANNEL};
use crate::recording::{
    Channel, ChannelKind, KnownStimuli, Recording, Segment, SourceFormat, StimulusOrigin,
};
use crate::units::{SampleRate, Shown};
use crate::vocab::CsvLayout;
use std::cell::OnceCell;
use std::fs::File;
use std::hash::BuildHasherDefault;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// What a column holds, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Time of each row (the column that gives the sample rate).
    Time,
    /// A stimulus trigger or marker line (raw values).
    Trigger,
    /// A signal (a voltage).
    Value,
}

/// A unit written in a column name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnUnit {
    /// Seconds (`s`, `sec`).
    Seconds,
    /// Milliseconds (`ms`, `msec`).
    Milliseconds,
    /// Microseconds (`us`, `µs`, `μs`).
    Microseconds,
    /// Volts (`V`).
    Volts,
    /// Millivolts (`mV`).
    Millivolts,
    /// Microvolts (`uV`, `µV`, `μV`).
    Microvolts,
    /// Nanovolts (`nV`).
    Nanovolts,
}

impl ColumnUnit {
    /// The normalised spelling (`"s"`, `"ms"`, `"us"`, `"V"`, `"mV"`, `"uV"`, `"nV"`).
    pub fn label(self) -> &'static str {
        match self {
            ColumnUnit::Seconds => "s",
            ColumnUnit::Milliseconds => "ms",
            ColumnUnit::Microseconds => "us",
            ColumnUnit::Volts => "V",
            ColumnUnit::Millivolts => "mV",
            ColumnUnit::Microvolts => "uV",
            ColumnUnit::Nanovolts => "nV",
        }
    }

    /// Seconds per unit, for a time unit.
    pub fn seconds_per_unit(self) -> Option<f64> {
        match self {
            ColumnUnit::Seconds => Some(1.0),
            ColumnUnit::Milliseconds => Some(1e-3),
            ColumnUnit::Microseconds => Some(1e-6),
            _ => None,
        }
    }

    /// Millivolts per unit, for a voltage unit.
    pub fn millivolts_per_unit(self) -> Option<f64> {
        match self {
            ColumnUnit::Volts => Some(1e3),
            ColumnUnit::Millivolts => Some(1.0),
            ColumnUnit::Microvolts => Some(1e-3),
            ColumnUnit::Nanovolts => Some(1e-6),
            _ => None,
        }
    }

    fn is_time(self) -> bool {
        self.seconds_per_unit().is_some()
    }

    fn is_voltage(self) -> bool {
        self.millivolts_per_unit().is_some()
    }
}

/// What a column name says about its column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSpec {
    /// Time, trigger or value.
    pub kind: ColumnKind,
    /// The unit in the name, if any: a time unit for [`ColumnKind::Time`], a
    /// voltage for the others (a unit of the wrong sort is not a unit).
    pub unit: Option<ColumnUnit>,
    /// The name without its unit, trimmed (`"Sweep 1"` for `"Sweep 1 (mV)"`).
    pub stem: String,
}

impl ColumnSpec {
    /// Factor from the column's values to millivolts (1 when no unit: the
    /// default unit is mV).
    pub fn millivolts_per_unit(&self) -> f64 {
        self.unit
            .and_then(ColumnUnit::millivolts_per_unit)
            .unwrap_or(1.0)
    }

    /// The normalised voltage unit, `"mV"` by default.
    pub fn voltage_label(&self) -> &'static str {
        match self.unit {
            Some(u) if u.is_voltage() => u.label(),
            _ => "mV",
        }
    }

    /// Whether the stem reads like a sweep/response name (see the module doc).
    pub fn is_sweep_name(&self) -> bool {
        sweep_name(&self.stem).is_some()
    }
}

/// Classify a column by its name and find its unit.
///
/// Units are recognised as a bracketed suffix (`(ms)`, `[µV]`), after a last
/// `_`, `-` or space (`emg_mV`, `EMG uV`), or as the whole name (`ms`, `s`);
/// case-insensitive, with `µ` (U+00B5) and `μ` (U+03BC) read as `u`.
/// A time column has stem `time`, `t`, `latency`, `timestamp` or `elapsed`
/// (or no stem at all, as in `ms`); a trigger column's name contains
/// `trigger`, `trig`, `stim`, `marker` or `sync`; anything else is a value.
pub fn parse_column_name(name: &str) -> ColumnSpec {
    let trimmed = name.trim();
    let (stem, unit) = split_unit(trimmed);
    let key = squash(stem);
    let time_stem = matches!(
        key.as_str(),
        "time" | "t" | "latency" | "timestamp" | "elapsed" | "times"
    ) || (key.is_empty() && unit.is_some());
    if time_stem && unit.is_none_or(ColumnUnit::is_time) {
        return ColumnSpec {
            kind: ColumnKind::Time,
            unit,
            stem: stem.to_string(),
        };
    }
    let lower = trimmed.to_lowercase();
    let kind = if ["trigger", "trig", "stim", "marker", "sync"]
        .iter()
        .any(|w| lower.contains(w))
    {
        ColumnKind::Trigger
    } else {
        ColumnKind::Value
    };
    match unit {
        Some(u) if u.is_voltage() => ColumnSpec {
            kind,
            unit,
            stem: stem.to_string(),
        },
        // A time unit on a non-time name is part of the name, not a unit.
        _ => ColumnSpec {
            kind,
            unit: None,
            stem: trimmed.to_string(),
        },
    }
}

/// Split a trimmed name into (stem, unit) when it ends in a unit.
fn split_unit(name: &str) -> (&str, Option<ColumnUnit>) {
    const SEPS: &[char] = &['_', '-', ' ', '\t'];
    if let Some(u) = unit_token(name) {
        return ("", Some(u));
    }
    for (open, close) in [('(', ')'), ('[', ']')] {
        if let Some(inner_end) = name.strip_suffix(close) {
            if let Some(pos) = inner_end.rfind(open) {
                if let Some(u) = unit_token(&inner_end[pos + open.len_utf8()..]) {
                    return (inner_end[..pos].trim_end_matches(SEPS).trim(), Some(u));
                }
            }
        }
    }
    if let Some(pos) = name.rfind(SEPS) {
        // The separators are ASCII, so pos + 1 is a char boundary.
        if let Some(u) = unit_token(&name[pos + 1..]) {
            return (name[..pos].trim_end_matches(SEPS).trim(), Some(u));
        }
    }
    (name, None)
}

/// A unit spelled as `tok`, if any.
fn unit_token(tok: &str) -> Option<ColumnUnit> {
    let norm: String = tok
        .trim()
        .chars()
        .map(|c| match c {
            '\u{00B5}' | '\u{03BC}' => 'u',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    Some(match norm.as_str() {
        "s" | "sec" | "secs" | "second" | "seconds" => ColumnUnit::Seconds,
        "ms" | "msec" | "msecs" | "millisecond" | "milliseconds" => ColumnUnit::Milliseconds,
        "us" | "usec" | "usecs" | "microsecond" | "microseconds" => ColumnUnit::Microseconds,
        "v" | "volt" | "volts" => ColumnUnit::Volts,
        "mv" | "millivolt" | "millivolts" => ColumnUnit::Millivolts,
        "uv" | "microvolt" | "microvolts" => ColumnUnit::Microvolts,
        "nv" | "nanovolt" | "nanovolts" => ColumnUnit::Nanovolts,
        _ => return None,
    })
}

/// Lower-case a name and drop spaces, `_`, `-` and `.`, so `Sweep_01`,
/// `sweep 01` and `SWEEP-01` compare equal.
fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '.' | '\t'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// How a stem reads as a sweep name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SweepName {
    /// `sweep3`, `r3`, `#3`, `3`, …
    Plain,
    /// `stim3`: a sweep only among several such columns (alone it is a trigger).
    Stim,
}

fn sweep_name(stem: &str) -> Option<SweepName> {
    let key = squash(stem);
    let digits =
        |s: Option<&str>| s.is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
    if ["sweep", "trace", "resp"]
        .iter()
        .any(|p| key.starts_with(p))
    {
        return Some(SweepName::Plain);
    }
    if ["r", "s", "#", "cmap", ""]
        .iter()
        .any(|p| digits(key.strip_prefix(p)))
    {
        return Some(SweepName::Plain);
    }
    if digits(key.strip_prefix("stim")) {
        return Some(SweepName::Stim);
    }
    None
}

/// One column of the header.
#[derive(Debug)]
struct Column {
    name: String,
    spec: ColumnSpec,
}

/// Layout as known before the rows are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    Continuous,
    Sweeps,
    /// Auto rule (b) may apply: decided from the time span.
    Undecided,
}

/// Where a cell goes.
#[derive(Debug, Clone, Copy)]
enum Sink {
    /// The time column (raw values, unit resolved later).
    Time,
    /// A decoded channel: slot in `Table::data`, factor to the stored unit.
    Data { ch: usize, factor: f64 },
    /// A channel not decoded.
    Skip,
    /// The unnamed trailing column: must be empty.
    MustBeEmpty,
}

/// The decoded rows.
struct Table {
    rows: usize,
    /// The time column's steps (not its values: a continuous recording's
    /// times would take twice the memory of its samples).
    steps: Steps,
    /// Finest resolution the time cells are printed with (raw units).
    time_res: f64,
    /// Per channel (non-time column), the decoded values if decoded.
    data: Vec<Option<Vec<f32>>>,
}

/// What the time column says about sampling.
struct Timing {
    rate: SampleRate,
    /// Median step, raw units.
    step_raw: f64,
}

/// Read a delimited-text recording from its bytes (see the module doc).
///
/// `path` is used only in error messages and copied into the recording.
pub fn read_csv(path: &Path, bytes: &[u8], opts: &ReadOptions) -> Result<Recording> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let (body, skipped_lines) = skip_preamble(text);
    if body.is_empty() {
        return Err(no_header(path));
    }
    let header_line = first_line(body);
    read_body(
        path,
        Body::Bytes(body),
        header_line,
        skipped_lines,
        body,
        opts,
    )
}

/// Read a delimited-text recording from a file, streaming it: only the
/// lines up to the header are read ahead, then the rows are parsed through
/// the csv reader's buffer, so the text is never held whole in memory (it
/// is read again only when an error message needs a line number). Same
/// result and errors as [`read_csv`] on the file's bytes, plus [`Error::Io`]
/// when the file cannot be opened or read.
pub fn read_csv_file(path: &Path, opts: &ReadOptions) -> Result<Recording> {
    let io = |e: std::io::Error| Error::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let mut file = File::open(path).map_err(io)?;
    // Read ahead until the header line is complete (or the file ends).
    let mut head: Vec<u8> = Vec::new();
    loop {
        let want = (2 * head.len()).max(1 << 16);
        let got = (&mut file)
            .take((want - head.len()) as u64)
            .read_to_end(&mut head)
            .map_err(io)?;
        let at_end = head.len() < want || got == 0;
        let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&head);
        let (body, skipped_lines) = skip_preamble(text);
        if !(at_end || body.contains(&b'\n')) {
            continue;
        }
        if body.is_empty() {
            return Err(no_header(path));
        }
        let offset = head.len() - body.len();
        let header_line = first_line(body).to_vec();
        file.seek(SeekFrom::Start(offset as u64)).map_err(io)?;
        let lazy = Body::File {
            path,
            offset,
            text: OnceCell::new(),
        };
        return read_body(path, lazy, &header_line, skipped_lines, file, opts);
    }
}

fn no_header(path: &Path) -> Error {
    Error::malformed(path, "no header line (the file is empty or only comments)")
}

/// The rest of [`read_csv`] and [`read_csv_file`], from the header line
/// (`header_line`, whose text also starts `source`) on.
fn read_body<R: Read>(
    path: &Path,
    body: Body<'_>,
    header_line: &[u8],
    skipped_lines: u64,
    source: R,
    opts: &ReadOptions,
) -> Result<Recording> {
    if std::str::from_utf8(header_line).is_err() {
        return Err(Error::malformed(
            path,
            "the header line is not valid UTF-8 (save the file as UTF-8)",
        ));
    }
    let delim = detect_delimiter(header_line);
    let ctx = Ctx {
        path,
        body,
        delim,
        skipped_lines,
        decimal_comma: delim != b',',
    };

    let mut rdr = reader_builder(delim).from_reader(source);
    let headers = rdr.byte_headers().map_err(|e| ctx.csv_error(e))?.clone();
    let columns = parse_header(path, &headers)?;

    let time_cols: Vec<usize> = columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.spec.kind == ColumnKind::Time)
        .map(|(i, _)| i)
        .collect();
    if time_cols.len() > 1 {
        return Err(Error::malformed(
            path,
            format!(
                "more than one time column (\"{}\" and \"{}\")",
                columns[time_cols[0]].name, columns[time_cols[1]].name
            ),
        ));
    }
    let time_col = time_cols.first().copied();
    // Non-time columns, in file order: channel index = position here.
    let chan_cols: Vec<usize> = (0..columns.len())
        .filter(|&i| Some(i) != time_col && !columns[i].name.is_empty())
        .collect();
    if chan_cols.is_empty() {
        return Err(Error::malformed(
            path,
            "no signal columns besides the time column",
        ));
    }
    let chan_specs: Vec<&Column> = chan_cols.iter().map(|&i| &columns[i]).collect();

    let plan = initial_plan(path, opts.layout, time_col.is_some(), &chan_specs)?;
    let n_channels_out = if plan == Plan::Sweeps {
        1
    } else {
        chan_cols.len()
    };
    // Selectors name continuous channels by column name; a sweeps file has
    // the single channel "sweeps". The default EMG channel is 0.
    let labels: Vec<&str> = if plan == Plan::Sweeps {
        vec!["sweeps"]
    } else {
        chan_specs.iter().map(|c| c.name.as_str()).collect()
    };
    let (filter, _) = opts.channels.resolve(path, &labels, 0)?;
    check_filter(path, &filter, n_channels_out)?;

    // Decide which cells to decode and how to scale them.
    let mut sinks = vec![Sink::Skip; columns.len()];
    if let Some(t) = time_col {
        sinks[t] = Sink::Time;
    }
    if let Some(last) = columns.last() {
        if last.name.is_empty() {
            sinks[columns.len() - 1] = Sink::MustBeEmpty;
        }
    }
    for (ch, (&col, c)) in chan_cols.iter().zip(&chan_specs).enumerate() {
        let decode = match plan {
            // Trigger columns are always decoded: the analysis finds stimuli
            // in them by name, whatever channel the EMG is.
            Plan::Continuous => filter.wants(ch) || c.spec.kind == ColumnKind::Trigger,
            Plan::Sweeps => filter.wants(0),
            Plan::Undecided => true,
        };
        // Triggers keep raw values, except as sweeps (`stim1`, `stim2`, …).
        let factor = if c.spec.kind == ColumnKind::Trigger && plan != Plan::Sweeps {
            1.0
        } else {
            c.spec.millivolts_per_unit()
        };
        if decode {
            sinks[col] = Sink::Data { ch, factor };
        }
    }

    let table = read_rows(&ctx, &mut rdr, &columns, &sinks, chan_cols.len())?;
    drop(rdr);

    let timing = match time_col {
        Some(t) => Some(timing(&ctx, &columns[t], &table)?),
        None => None,
    };

    let layout = match plan {
        Plan::Continuous => Plan::Continuous,
        Plan::Sweeps => Plan::Sweeps,
        Plan::Undecided => {
            // Rule (b): a short time span means responses, not a recording.
            let span_s = match (time_col, &timing) {
                (Some(t), Some(tm)) => {
                    let per = time_unit(&columns[t], tm.step_raw)
                        .seconds_per_unit()
                        .unwrap_or(1.0);
                    (table.steps.last - table.steps.first.unwrap_or(table.steps.last)) * per
                }
                _ => f64::INFINITY,
            };
            if span_s < 1.0 {
                check_filter(path, &filter, 1)?;
                Plan::Sweeps
            } else {
                Plan::Continuous
            }
        }
    };

    match layout {
        Plan::Sweeps => build_sweeps(
            &ctx,
            &filter,
            &columns,
            time_col,
            &chan_specs,
            table,
            timing,
        ),
        _ => build_continuous(path, opts, &filter, &chan_specs, table, timing),
    }
}

/// The text from the header line on.
enum Body<'a> {
    /// In memory.
    Bytes(&'a [u8]),
    /// In a file, from byte `offset` on: read whole only when an error
    /// message needs a line number.
    File {
        path: &'a Path,
        offset: usize,
        text: OnceCell<Vec<u8>>,
    },
}

impl Body<'_> {
    /// Length of the text from the header line on, if known.
    fn total_bytes(&self) -> Option<u64> {
        match self {
            Body::Bytes(b) => Some(b.len() as u64),
            Body::File { path, offset, .. } => std::fs::metadata(path)
                .ok()
                .map(|m| m.len().saturating_sub(*offset as u64)),
        }
    }

    /// The text (empty if the file can no longer be read).
    fn bytes(&self) -> &[u8] {
        match self {
            Body::Bytes(b) => b,
            Body::File { path, offset, text } => text
                .get_or_init(|| std::fs::read(path).unwrap_or_default())
                .get(*offset..)
                .unwrap_or_default(),
        }
    }
}

/// The csv reader settings for delimiter `delim` (a large buffer: reading a
/// file through it needs no second buffer).
fn reader_builder(delim: u8) -> ::csv::ReaderBuilder {
    let mut b = ::csv::ReaderBuilder::new();
    b.delimiter(delim)
        .has_headers(true)
        .flexible(false)
        .buffer_capacity(1 << 16);
    b
}

/// Shared reading context (for messages and re-scans).
struct Ctx<'a> {
    path: &'a Path,
    /// The text from the header line on.
    body: Body<'a>,
    delim: u8,
    /// Lines before the header (comments, blank lines).
    skipped_lines: u64,
    decimal_comma: bool,
}

impl Ctx<'_> {
    fn reader(&self) -> ::csv::Reader<&[u8]> {
        reader_builder(self.delim).from_reader(self.body.bytes())
    }

    /// The 1-based file line of the record at `pos`. The csv crate puts a
    /// record's position before the line ends and blank lines that precede
    /// it (with CRLF, before the `\n`), so skip those and count the line
    /// ends before the record itself. Linear in the file size: called only
    /// to report an error.
    fn line(&self, pos: Option<&::csv::Position>) -> u64 {
        let Some(pos) = pos else { return 0 };
        let body = self.body.bytes();
        let mut start = usize::try_from(pos.byte()).map_or(body.len(), |b| b.min(body.len()));
        while matches!(body.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        let newlines = body[..start].iter().filter(|&&b| b == b'\n').count() as u64;
        self.skipped_lines + newlines + 1
    }

    fn csv_error(&self, e: ::csv::Error) -> Error {
        match e.kind() {
            ::csv::ErrorKind::UnequalLengths {
                pos,
                expected_len,
                len,
            } => {
                let row = self.line(pos.as_ref());
                Error::malformed(
                    self.path,
                    format!("row {row}: {len} field(s), but the header has {expected_len}"),
                )
            }
            _ => Error::malformed(self.path, format!("cannot read as CSV: {e}")),
        }
    }

    /// File line of data row `idx` (0-based), found by re-reading: only
    /// needed on the error path, so no line table is kept for every row.
    fn line_of_row(&self, idx: usize) -> u64 {
        let mut rdr = self.reader();
        let mut rec = ::csv::ByteRecord::new();
        let mut i = 0usize;
        while let Ok(true) = rdr.read_byte_record(&mut rec) {
            if i == idx {
                return self.line(rec.position());
            }
            i += 1;
        }
        0
    }
}

/// Skip blank lines and `#` comments before the header.
fn skip_preamble(text: &[u8]) -> (&[u8], u64) {
    let mut rest = text;
    let mut skipped = 0u64;
    loop {
        let line = first_line(rest);
        let t = line.trim_ascii();
        if rest.is_empty() || !(t.is_empty() || t.starts_with(b"#")) {
            return (rest, skipped);
        }
        skipped += 1;
        rest = match rest.iter().position(|&b| b == b'\n') {
            Some(nl) => &rest[nl + 1..],
            None => &[],
        };
    }
}

/// The first line, without its terminator.
fn first_line(text: &[u8]) -> &[u8] {
    let end = text.iter().position(|&b| b == b'\n').unwrap_or(text.len());
    let line = &text[..end];
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The most frequent of tab, `;` and `,` outside quotes (ties in that order);
/// `;` when none occurs, so a one-column file may use decimal commas.
fn detect_delimiter(header: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let cands = [b'\t', b';', b','];
    let mut quoted = false;
    for &b in header {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            if let Some(k) = cands.iter().position(|&c| c == b) {
                counts[k] += 1;
            }
        }
    }
    let mut best = 1; // `;`
    let mut best_n = 0;
    for (k, &n) in counts.iter().enumerate() {
        if n > best_n {
            best = k;
            best_n = n;
        }
    }
    cands[best]
}

fn parse_header(path: &Path, headers: &::csv::ByteRecord) -> Result<Vec<Column>> {
    let n = headers.len() as u64;
    if n > MAX_CHANNELS {
        return Err(Error::Limit {
            path: path.to_path_buf(),
            what: "number of CSV columns".into(),
            value: n,
            limit: MAX_CHANNELS,
        });
    }
    let mut columns = Vec::with_capacity(headers.len());
    for (i, raw) in headers.iter().enumerate() {
        let name = std::str::from_utf8(raw)
            .map_err(|_| {
                Error::malformed(
                    path,
                    "the header line is not valid UTF-8 (save the file as UTF-8)",
                )
            })?
            .trim()
            .to_string();
        if name.is_empty() && (i + 1 < headers.len() || headers.len() == 1) {
            return Err(Error::malformed(
                path,
                format!("column {} has no name", i + 1),
            ));
        }
        // A quoted name may span lines; in a header that is a quote left
        // open, and the name would break every one-line message quoting it.
        if name.contains(['\n', '\r']) {
            return Err(Error::malformed(
                path,
                format!(
                    "column {} of the header spans several lines (a quote left open?)",
                    i + 1
                ),
            ));
        }
        let spec = parse_column_name(&name);
        columns.push(Column { name, spec });
    }
    Ok(columns)
}

/// The layout as far as the header can tell (and the checks a forced layout needs).
fn initial_plan(path: &Path, layout: CsvLayout, has_time: bool, chans: &[&Column]) -> Result<Plan> {
    let names: Vec<Option<SweepName>> = chans.iter().map(|c| sweep_name(&c.spec.stem)).collect();
    match layout {
        CsvLayout::Continuous => Ok(Plan::Continuous),
        CsvLayout::Sweeps => {
            if !has_time {
                return Err(Error::malformed(
                    path,
                    "a sweeps file needs a time column (time after the stimulus) first",
                ));
            }
            check_sweep_columns(path, chans)?;
            Ok(Plan::Sweeps)
        }
        CsvLayout::Auto => {
            if !has_time {
                return Ok(Plan::Continuous);
            }
            let all_sweepy = names.iter().all(Option::is_some);
            let has_stim = names.contains(&Some(SweepName::Stim));
            if all_sweepy && (!has_stim || chans.len() >= 2) {
                return Ok(Plan::Sweeps);
            }
            let any_trigger = chans.iter().any(|c| c.spec.kind == ColumnKind::Trigger);
            if !any_trigger && chans.len() >= 2 {
                Ok(Plan::Undecided)
            } else {
                Ok(Plan::Continuous)
            }
        }
    }
}

/// Sweeps allow no trigger columns (`stim<N>` sweep names excepted).
fn check_sweep_columns(path: &Path, chans: &[&Column]) -> Result<()> {
    for c in chans {
        if c.spec.kind == ColumnKind::Trigger && sweep_name(&c.spec.stem).is_none() {
            return Err(Error::malformed(
                path,
                format!(
                    "column \"{}\" is a trigger column, which a sweeps file cannot have",
                    c.name
                ),
            ));
        }
    }
    Ok(())
}

fn check_filter(path: &Path, filter: &ChannelFilter, available: usize) -> Result<()> {
    if let ChannelFilter::Only(v) = filter {
        if let Some(&bad) = v.iter().find(|&&i| i >= available) {
            return Err(Error::NoSuchChannel {
                path: path.to_path_buf(),
                channel: bad.to_string(),
                available,
            });
        }
    }
    Ok(())
}

/// Rows read before the channels' buffers are sized for the whole file.
const PRESIZE_AFTER_ROWS: usize = 1024;

/// Give every decoded channel room for the rows the file probably holds,
/// from the bytes the first rows took (`read` of `total`), with 3 % to
/// spare (a buffer of this thread's last recording when one is large
/// enough): growing by doubling would leave up to half of each buffer
/// unused and, while it grows, hold the old and the new buffer at once.
fn presize(table: &mut Table, read: u64, total: Option<u64>) {
    let Some(total) = total else { return };
    if read == 0 || total <= read {
        return;
    }
    let per_row = read as f64 / table.rows as f64;
    let expected = (total as f64 / per_row * 1.03) as usize;
    let expected = expected.min(MAX_SAMPLES_PER_CHANNEL as usize);
    for d in table.data.iter_mut().flatten() {
        let mut sized = super::buffers::take(expected);
        sized.extend_from_slice(d);
        *d = sized;
    }
}

/// The steps of a time column, kept as the distinct step values with their
/// counts and first positions: enough for the median step and for the
/// first step that strays from it, in a few kilobytes for any regularly
/// sampled file. A file with very many distinct steps (jittered times)
/// keeps the rest of its steps one by one, as all were kept before.
#[derive(Default)]
struct Steps {
    first: Option<f64>,
    last: f64,
    /// Steps so far.
    n: usize,
    /// The most common distinct steps, searched first: (value, count, first index).
    few: Vec<(f64, usize, usize)>,
    /// Index in `few` of the last step found there.
    last_hit: usize,
    /// Further distinct steps, by bit pattern.
    many: std::collections::HashMap<u64, (usize, usize), BuildHasherDefault<StepHasher>>,
    /// Steps after `many` filled up, in order, from index `rest_from`.
    rest: Vec<f64>,
    rest_from: usize,
    /// The first row whose time is ≥ 0, and (row, time) of the last few
    /// rows before it (the stimulus of a sweeps file is the first row at
    /// time ≥ −slack, a small fraction of a step: see [`Steps::first_at_or_after`]).
    first_nonneg: Option<usize>,
    last_negative: std::collections::VecDeque<(usize, f64)>,
}

/// Rows before the first time ≥ 0 kept by [`Steps`].
const NEGATIVE_KEPT: usize = 8;

/// Distinct steps searched linearly in [`Steps`].
const FEW_STEPS: usize = 64;

/// A multiplicative hash of a step's bit pattern (the keys are the bits of
/// floats, not chosen by an adversary who could gain from collisions: at
/// worst a hostile file is slow to read, within the row limit).
#[derive(Default)]
struct StepHasher(u64);

impl std::hash::Hasher for StepHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0 ^ v)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(29);
    }
}
/// Distinct steps kept by value in [`Steps`] before they are kept one by one.
const MANY_STEPS: usize = 1 << 16;

impl Steps {
    fn push(&mut self, t: f64) {
        let row = if self.first.is_some() { self.n + 1 } else { 0 };
        if self.first_nonneg.is_none() {
            if t >= 0.0 {
                self.first_nonneg = Some(row);
            } else {
                if self.last_negative.len() == NEGATIVE_KEPT {
                    self.last_negative.pop_front();
                }
                self.last_negative.push_back((row, t));
            }
        }
        let Some(_) = self.first else {
            self.first = Some(t);
            self.last = t;
            return;
        };
        let step = t - self.last;
        self.last = t;
        let i = self.n;
        self.n += 1;
        if !self.rest.is_empty() || self.many.len() >= MANY_STEPS {
            if self.rest.is_empty() {
                self.rest_from = i;
            }
            self.rest.push(step);
            return;
        }
        let bits = step.to_bits();
        // Steps come in runs and short cycles: the last one found first.
        if let Some(e) = self.few.get_mut(self.last_hit) {
            if e.0.to_bits() == bits {
                e.1 += 1;
                return;
            }
        }
        if let Some(k) = self.few.iter().position(|e| e.0.to_bits() == bits) {
            self.few[k].1 += 1;
            self.last_hit = k;
            return;
        }
        if self.few.len() < FEW_STEPS {
            self.last_hit = self.few.len();
            self.few.push((step, 1, i));
            return;
        }
        self.many.entry(bits).or_insert((0, i)).0 += 1;
    }

    /// Every distinct step with its count and first index (the steps kept
    /// one by one count once each).
    fn distinct(&self) -> impl Iterator<Item = (f64, usize, usize)> + '_ {
        self.few
            .iter()
            .copied()
            .chain(
                self.many
                    .iter()
                    .map(|(&b, &(c, i))| (f64::from_bits(b), c, i)),
            )
            .chain(
                self.rest
                    .iter()
                    .enumerate()
                    .map(|(k, &v)| (v, 1, self.rest_from + k)),
            )
    }

    /// The `k`-th smallest step (from 0, `total_cmp` order).
    fn select(&self, k: usize) -> f64 {
        // The distinct steps kept by value (at most a few tens of thousands)
        // with their counts, and a sorted copy of the steps kept one by one
        // (8 bytes per row, as the whole column's steps took before): the
        // k-th of their union by walking both in order.
        let mut kept: Vec<(f64, usize)> = self
            .few
            .iter()
            .map(|&(v, c, _)| (v, c))
            .chain(self.many.iter().map(|(&b, &(c, _))| (f64::from_bits(b), c)))
            .collect();
        kept.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let mut rest = self.rest.clone();
        rest.sort_unstable_by(f64::total_cmp);
        let (mut i, mut j, mut below) = (0, 0, 0);
        let mut last = 0.0;
        while i < kept.len() || j < rest.len() {
            let take_kept =
                j >= rest.len() || (i < kept.len() && kept[i].0.total_cmp(&rest[j]).is_le());
            let (v, c) = if take_kept {
                i += 1;
                kept[i - 1]
            } else {
                j += 1;
                (rest[j - 1], 1)
            };
            below += c;
            last = v;
            if below > k {
                return v;
            }
        }
        last
    }

    /// The first row whose time is ≥ `from`, for `from` ≤ 0 and no more
    /// than a step below it. Times rise by about a step per row, so only the
    /// last rows before the first time ≥ 0 can qualify.
    fn first_at_or_after(&self, from: f64) -> Option<usize> {
        self.last_negative
            .iter()
            .find(|&&(_, t)| t >= from)
            .map(|&(row, _)| row)
            .or(self.first_nonneg)
    }

    /// The first step (index and value) for which `strays` holds.
    fn first_straying(&self, strays: impl Fn(f64) -> bool) -> Option<(usize, f64)> {
        self.distinct()
            .filter(|&(v, _, _)| strays(v))
            .map(|(v, _, i)| (i, v))
            .min_by_key(|&(i, _)| i)
    }
}

fn read_rows<R: Read>(
    ctx: &Ctx<'_>,
    rdr: &mut ::csv::Reader<R>,
    columns: &[Column],
    sinks: &[Sink],
    n_channels: usize,
) -> Result<Table> {
    let mut table = Table {
        rows: 0,
        steps: Steps::default(),
        time_res: f64::INFINITY,
        data: vec![None; n_channels],
    };
    for s in sinks {
        if let Sink::Data { ch, .. } = *s {
            table.data[ch] = Some(Vec::new());
        }
    }
    let mut rec = ::csv::ByteRecord::new();
    let mut prev_t: Option<f64> = None;
    // Finest resolution exponent of the time cells the fast path parsed
    // (10^k is monotonic in k, so the power is taken once at the end).
    let mut finest = i32::MAX;
    while rdr
        .read_byte_record(&mut rec)
        .map_err(|e| ctx.csv_error(e))?
    {
        // Computed only when a message needs it (it scans the file).
        let line = || ctx.line(rec.position());
        if table.rows as u64 >= MAX_SAMPLES_PER_CHANNEL {
            return Err(Error::Limit {
                path: ctx.path.to_path_buf(),
                what: "CSV data rows".into(),
                value: table.rows as u64 + 1,
                limit: MAX_SAMPLES_PER_CHANNEL,
            });
        }
        for (col, (sink, field)) in sinks.iter().zip(rec.iter()).enumerate() {
            let cell_err = |what: String| {
                Error::malformed(
                    ctx.path,
                    format!("row {}, column \"{}\": {what}", line(), columns[col].name),
                )
            };
            match *sink {
                Sink::Skip => {}
                Sink::MustBeEmpty => {
                    if !field.trim_ascii().is_empty() {
                        return Err(Error::malformed(
                            ctx.path,
                            format!("row {}: a value in the unnamed column {}", line(), col + 1),
                        ));
                    }
                }
                Sink::Time => {
                    let (t, res) = match fast_decimal(field.trim_ascii(), ctx.decimal_comma) {
                        Some((v, k)) => (v, Some(k)),
                        None => (
                            parse_cell(field, ctx.decimal_comma).map_err(cell_err)?,
                            None,
                        ),
                    };
                    if let Some(p) = prev_t {
                        if t <= p {
                            return Err(Error::malformed(
                                ctx.path,
                                format!(
                                    "row {}: time column \"{}\" is not strictly increasing \
                                     ({t} after {p})",
                                    line(),
                                    columns[col].name
                                ),
                            ));
                        }
                    }
                    prev_t = Some(t);
                    match res {
                        Some(k) => finest = finest.min(k),
                        None => table.time_res = table.time_res.min(cell_resolution(field)),
                    }
                    table.steps.push(t);
                }
                Sink::Data { ch, factor } => {
                    let v = parse_cell(field, ctx.decimal_comma).map_err(cell_err)?;
                    let v = (v * factor) as f32;
                    if !v.is_finite() {
                        return Err(cell_err("value out of range".into()));
                    }
                    if let Some(d) = table.data[ch].as_mut() {
                        d.push(v);
                    }
                }
            }
        }
        table.rows += 1;
        if table.rows == PRESIZE_AFTER_ROWS {
            presize(&mut table, rdr.position().byte(), ctx.body.total_bytes());
        }
    }
    if table.rows == 0 {
        return Err(Error::malformed(ctx.path, "no data rows"));
    }
    if finest != i32::MAX {
        table.time_res = table.time_res.min(10f64.powi(finest));
    }
    Ok(table)
}

/// Exact powers of ten for [`fast_decimal`] (every one up to 10^22 is an f64).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// A plain decimal cell (`-12.345`, `+0.5`, `1.5e-3`; `,` as the decimal
/// mark when `decimal_comma`), already trimmed, parsed to exactly the value
/// `str::parse::<f64>` gives, with the resolution exponent [`cell_resolution`]
/// would find (`10^k`). `None` for anything else (more than 19 significant
/// digits, a large exponent, `inf`, text…), which the general path decides.
///
/// Exactness (Clinger's fast path): a mantissa below 2^53 and a power of ten
/// up to 10^22 are both exact in f64, so one correctly rounded multiplication
/// or division gives the correctly rounded value, as the standard parser does.
fn fast_decimal(t: &[u8], decimal_comma: bool) -> Option<(f64, i32)> {
    let mut i = 0;
    let neg = match t.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    let mut mant = 0u64;
    let mut significant = 0u32;
    let mut any_digit = false;
    let mut point = false;
    let mut decimals = 0i32;
    while let Some(&b) = t.get(i) {
        if b.is_ascii_digit() {
            any_digit = true;
            if mant != 0 || b != b'0' {
                significant += 1;
                if significant > 19 {
                    return None;
                }
                mant = mant * 10 + u64::from(b - b'0');
            }
            decimals += i32::from(point);
        } else if !point && (b == b'.' || (decimal_comma && b == b',')) {
            point = true;
        } else {
            break;
        }
        i += 1;
    }
    if !any_digit {
        return None;
    }
    let mut exp = 0i32;
    if let Some(&b) = t.get(i) {
        if b != b'e' && b != b'E' {
            return None;
        }
        i += 1;
        let neg_exp = match t.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        while let Some(&d) = t.get(i) {
            if !d.is_ascii_digit() || exp > 10_000 {
                break;
            }
            exp = exp * 10 + i32::from(d - b'0');
            i += 1;
        }
        if i == start || i != t.len() {
            return None;
        }
        if neg_exp {
            exp = -exp;
        }
    }
    let e10 = exp - decimals;
    let v = if mant == 0 {
        0.0
    } else if mant >= 1 << 53 || e10.unsigned_abs() as usize >= POW10.len() {
        return None;
    } else if e10 >= 0 {
        mant as f64 * POW10[e10 as usize]
    } else {
        mant as f64 / POW10[e10.unsigned_abs() as usize]
    };
    Some((if neg { -v } else { v }, e10.clamp(-300, 300)))
}

/// Parse one numeric cell; the error says what is wrong with it.
fn parse_cell(field: &[u8], decimal_comma: bool) -> std::result::Result<f64, String> {
    let t = field.trim_ascii();
    if let Some((v, _)) = fast_decimal(t, decimal_comma) {
        return Ok(v);
    }
    if t.is_empty() {
        return Err("empty cell".into());
    }
    let show = || {
        let s = String::from_utf8_lossy(t);
        let s: String = s.chars().take(40).collect();
        format!("cannot read {s:?} as a number")
    };
    let s = std::str::from_utf8(t).map_err(|_| show())?;
    let v: f64 = if decimal_comma && s.contains(',') {
        s.replace(',', ".").parse().map_err(|_| show())?
    } else {
        s.parse().map_err(|_| show())?
    };
    if !v.is_finite() {
        return Err(format!("{s} is not a finite number"));
    }
    Ok(v)
}

/// The step a printed number resolves: `0.00125` → 1e-5, `1.5e-3` → 1e-4.
fn cell_resolution(field: &[u8]) -> f64 {
    let t = field.trim_ascii();
    let (mantissa, exp) = match t.iter().position(|&b| b == b'e' || b == b'E') {
        Some(p) => (
            &t[..p],
            std::str::from_utf8(&t[p + 1..])
                .ok()
                .and_then(|s| s.parse::<i32>().ok())
                .unwrap_or(0),
        ),
        None => (t, 0),
    };
    let decimals = match mantissa.iter().position(|&b| b == b'.' || b == b',') {
        Some(p) => (mantissa.len() - p - 1) as i32,
        None => 0,
    };
    10f64.powi(exp.saturating_sub(decimals).clamp(-300, 300))
}

/// The unit of the time column: as named, or whichever of seconds and
/// milliseconds makes the step an accepted sampling interval.
fn time_unit(col: &Column, step_raw: f64) -> ColumnUnit {
    match col.spec.unit {
        Some(u) => u,
        None if accepted_hz(1.0 / step_raw) => ColumnUnit::Seconds,
        None => ColumnUnit::Milliseconds,
    }
}

/// Whether a rate is within the range [`SampleRate::new`] accepts.
fn accepted_hz(hz: f64) -> bool {
    (SampleRate::MIN_HZ..=SampleRate::MAX_HZ).contains(&hz)
}

/// Check the time column and derive the sample rate (see the module doc).
fn timing(ctx: &Ctx<'_>, col: &Column, table: &Table) -> Result<Timing> {
    let steps = &table.steps;
    let n = steps.n + 1;
    let (Some(t_first), t_last) = (steps.first, steps.last) else {
        return Err(Error::malformed(
            ctx.path,
            "only one data row: the time column cannot give a sample rate",
        ));
    };
    if n < 2 {
        return Err(Error::malformed(
            ctx.path,
            "only one data row: the time column cannot give a sample rate",
        ));
    }
    let median = steps.select(steps.n / 2);

    // Printed precision: each end of a step may be off by half a resolution.
    let res = if table.time_res.is_finite() {
        table.time_res
    } else {
        0.0
    };
    let eps = 4.0 * f64::EPSILON * t_first.abs().max(t_last.abs());
    let tol = 0.01 * median + res + eps;
    if let Some((i, step)) = steps.first_straying(|v| (v - median).abs() > tol) {
        let line = ctx.line_of_row(i + 1);
        return Err(Error::malformed(
            ctx.path,
            format!(
                "irregular sampling at row {line}: step {step} differs from the median step {median} \
                 of column \"{}\" by more than 1%",
                col.name
            ),
        ));
    }

    let unit = time_unit(col, median);
    let per_s = unit.seconds_per_unit().unwrap_or(1.0);
    if col.spec.unit.is_none() && !accepted_hz(1.0 / median) && !accepted_hz(1e3 / median) {
        return Err(Error::malformed(
            ctx.path,
            format!(
                "time column \"{}\" has no unit and its step {median} gives an accepted \
                 sample rate ({}–{} Hz) neither in seconds nor in milliseconds; name the \
                 unit (e.g. time_ms)",
                col.name,
                SampleRate::MIN_HZ,
                SampleRate::MAX_HZ
            ),
        ));
    }
    let span_s = (t_last - t_first) * per_s;
    let mut hz = (n - 1) as f64 / span_s;
    // Snap to whole hertz when the printed times cannot tell the difference.
    let uncertainty = hz * (res * per_s / span_s) + hz * 1e-9;
    if (hz - hz.round()).abs() <= uncertainty {
        hz = hz.round();
    }
    let rate = SampleRate::new(hz).ok_or_else(|| {
        Error::malformed(
            ctx.path,
            format!(
                "sample rate {} Hz (from time column \"{}\", step {} {}) is outside \
                 the accepted range {}–{} Hz",
                Shown(hz),
                col.name,
                Shown(median),
                unit.label(),
                SampleRate::MIN_HZ,
                SampleRate::MAX_HZ
            ),
        )
    })?;
    Ok(Timing {
        rate,
        step_raw: median,
    })
}

fn build_continuous(
    path: &Path,
    opts: &ReadOptions,
    filter: &ChannelFilter,
    chans: &[&Column],
    table: Table,
    timing: Option<Timing>,
) -> Result<Recording> {
    let rate = match timing {
        Some(t) => t.rate,
        None => opts
            .sample_rate
            .ok_or_else(|| Error::malformed(path, "no time column; give --sample-rate"))?,
    };
    let rows = table.rows;
    let channels = chans
        .iter()
        .zip(table.data)
        .enumerate()
        .map(|(index, (c, data))| {
            let trigger = c.spec.kind == ColumnKind::Trigger;
            Channel {
                index,
                label: c.name.clone(),
                unit: if trigger {
                    String::new()
                } else {
                    c.spec.voltage_label().to_string()
                },
                kind: if trigger {
                    ChannelKind::Trigger
                } else {
                    ChannelKind::Signal
                },
                len: rows,
                // Columns decoded only because the layout was undecided are dropped here.
                sample_rate_hz: None,
                samples: data
                    .filter(|_| filter.wants(index) || trigger)
                    .unwrap_or_default(),
            }
        })
        .collect();
    Ok(Recording {
        path: path.to_path_buf(),
        format: SourceFormat::CsvContinuous,
        sample_rate: rate,
        channels,
        segments: Recording::continuous_segments(rows),
        stimuli: None,
        annotations: Vec::new(),
        notes: Vec::new(),
    })
}

fn build_sweeps(
    ctx: &Ctx<'_>,
    filter: &ChannelFilter,
    columns: &[Column],
    time_col: Option<usize>,
    chans: &[&Column],
    table: Table,
    timing: Option<Timing>,
) -> Result<Recording> {
    let path = ctx.path;
    let (Some(tc), Some(timing)) = (time_col, timing) else {
        return Err(Error::malformed(
            path,
            "a sweeps file needs a time column (time after the stimulus) first",
        ));
    };
    check_sweep_columns(path, chans)?;
    let unit = chans[0].spec.voltage_label();
    if let Some(other) = chans.iter().find(|c| c.spec.voltage_label() != unit) {
        return Err(Error::malformed(
            path,
            format!(
                "sweep columns must share one unit: \"{}\" is in {unit}, \"{}\" in {}",
                chans[0].name,
                other.name,
                other.spec.voltage_label()
            ),
        ));
    }

    let l = table.rows;
    let k = chans.len();
    let total = l as u64 * k as u64;
    if total > MAX_SAMPLES_PER_CHANNEL {
        return Err(Error::Limit {
            path: path.to_path_buf(),
            what: "samples in the concatenated sweeps".into(),
            value: total,
            limit: MAX_SAMPLES_PER_CHANNEL,
        });
    }
    // The stimulus is the first row at time ≥ 0 (a hair of slack for
    // rounding of the printed times).
    let slack = 0.01 * timing.step_raw;
    let i0 = table.steps.first_at_or_after(-slack).ok_or_else(|| {
        Error::malformed(
            path,
            format!(
                "time column \"{}\" never reaches 0 (the stimulus)",
                columns[tc].name
            ),
        )
    })?;

    let samples = if filter.wants(0) {
        let mut all = Vec::with_capacity(l * k);
        for d in table.data.into_iter().flatten() {
            all.extend_from_slice(&d);
        }
        all
    } else {
        Vec::new()
    };
    let dur = l as f64 / timing.rate.hz();
    let segments = (0..k)
        .map(|s| Segment {
            start: s * l,
            len: l,
            start_s: s as f64 * dur,
        })
        .collect();
    Ok(Recording {
        path: path.to_path_buf(),
        format: SourceFormat::CsvSweeps,
        sample_rate: timing.rate,
        channels: vec![Channel {
            index: 0,
            label: "sweeps".into(),
            unit: unit.to_string(),
            kind: ChannelKind::Signal,
            len: l * k,
            sample_rate_hz: None,
            samples,
        }],
        segments,
        stimuli: Some(KnownStimuli {
            samples: (0..k).map(|s| s * l + i0).collect(),
            origin: StimulusOrigin::Sweeps,
            timing_known: false,
        }),
        annotations: Vec::new(),
        notes: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::csv::{encode_continuous_csv, encode_sweeps_csv};
    use std::fmt::Write as _;

    /// The step statistics kept while streaming give what the whole time
    /// column would: the median step, the first straying step, the first
    /// row at or after a time near 0, whether the steps are few distinct
    /// values, many, or more than are kept by value.
    #[test]
    fn streamed_steps_match_the_whole_column() {
        let mut rng = crate::test_rng::XorShift::new(0x9e37_79b9_7f4a_7c15u64);
        let mut next = move || rng.next_f64();
        for case in 0..40 {
            let n = [3, 10, 1000, 70_000, 140_000][case % 5];
            let jitter = [0.0, 1e-9, 1e-3, 0.02][case / 5 % 4];
            let t0 = -0.0042 * (case % 3) as f64;
            let step = 1.0 / [5000.0, 20_000.0, 48_000.0][case % 3];
            let mut t = Vec::with_capacity(n);
            let mut steps = Steps::default();
            for i in 0..n {
                let v = t0 + i as f64 * step + jitter * step * next();
                // Keep the series strictly increasing, as the reader demands.
                let v = t.last().map_or(v, |&p: &f64| v.max(p + step * 0.5));
                t.push(v);
                steps.push(v);
            }
            let mut diffs: Vec<f64> = t.windows(2).map(|w| w[1] - w[0]).collect();
            let mid = diffs.len() / 2;
            let median = *diffs.clone().select_nth_unstable_by(mid, f64::total_cmp).1;
            assert_eq!(
                steps.select(steps.n / 2).to_bits(),
                median.to_bits(),
                "case {case}"
            );
            let tol = 0.001 * median;
            let straying = |v: f64| (v - median).abs() > tol;
            let want = diffs
                .iter()
                .position(|&d| straying(d))
                .map(|i| (i, diffs[i]));
            assert_eq!(steps.first_straying(straying), want, "case {case}");
            let slack = 0.01 * median;
            assert_eq!(
                steps.first_at_or_after(-slack),
                t.iter().position(|&v| v >= -slack),
                "case {case}"
            );
            diffs.clear();
        }
    }
    use approx::assert_abs_diff_eq;
    use std::path::PathBuf;

    fn p() -> PathBuf {
        PathBuf::from("test.csv")
    }

    fn read(text: &str) -> Result<Recording> {
        read_csv(&p(), text.as_bytes(), &ReadOptions::default())
    }

    fn read_with(text: &str, opts: &ReadOptions) -> Result<Recording> {
        read_csv(&p(), text.as_bytes(), opts)
    }

    fn err(text: &str) -> String {
        match read(text) {
            Ok(_) => panic!("expected an error for:\n{text}"),
            Err(e) => e.to_string(),
        }
    }

    /// A continuous CSV text with `n` rows at `rate`, time in the given unit.
    fn continuous(header: &str, n: usize, rate: f64, time_scale: f64, cols: usize) -> String {
        let mut s = format!("{header}\n");
        for i in 0..n {
            let _ = write!(s, "{:.9}", i as f64 / rate * time_scale);
            for c in 0..cols {
                let _ = write!(s, ",{:.4}", (i as f64 * 0.01 + c as f64).sin());
            }
            s.push('\n');
        }
        s
    }

    #[test]
    fn column_name_units() {
        use ColumnUnit::*;
        let cases: &[(&str, ColumnKind, Option<ColumnUnit>)] = &[
            ("time", ColumnKind::Time, None),
            ("t", ColumnKind::Time, None),
            ("time_s", ColumnKind::Time, Some(Seconds)),
            ("time_ms", ColumnKind::Time, Some(Milliseconds)),
            ("Time (ms)", ColumnKind::Time, Some(Milliseconds)),
            ("time [s]", ColumnKind::Time, Some(Seconds)),
            ("t_ms", ColumnKind::Time, Some(Milliseconds)),
            ("latency_ms", ColumnKind::Time, Some(Milliseconds)),
            ("ms", ColumnKind::Time, Some(Milliseconds)),
            ("s", ColumnKind::Time, Some(Seconds)),
            ("TIME_SEC", ColumnKind::Time, Some(Seconds)),
            ("time (sec)", ColumnKind::Time, Some(Seconds)),
            ("time_us", ColumnKind::Time, Some(Microseconds)),
            ("Time [µs]", ColumnKind::Time, Some(Microseconds)),
            ("time μs", ColumnKind::Time, Some(Microseconds)),
            ("time ms", ColumnKind::Time, Some(Milliseconds)),
            ("emg_mV", ColumnKind::Value, Some(Millivolts)),
            ("EMG (uV)", ColumnKind::Value, Some(Microvolts)),
            ("EMG [µV]", ColumnKind::Value, Some(Microvolts)),
            ("EMG [μV]", ColumnKind::Value, Some(Microvolts)),
            ("emg_µV", ColumnKind::Value, Some(Microvolts)),
            ("APB uV", ColumnKind::Value, Some(Microvolts)),
            ("emg_V", ColumnKind::Value, Some(Volts)),
            ("emg (V)", ColumnKind::Value, Some(Volts)),
            ("emg_nV", ColumnKind::Value, Some(Nanovolts)),
            ("emg[nV]", ColumnKind::Value, Some(Nanovolts)),
            ("emg", ColumnKind::Value, None),
            ("emg_s", ColumnKind::Value, None),
            ("trigger", ColumnKind::Trigger, None),
            ("Trig", ColumnKind::Trigger, None),
            ("stim", ColumnKind::Trigger, None),
            ("Stimulus marker", ColumnKind::Trigger, None),
            ("sync_in", ColumnKind::Trigger, None),
            ("Marker", ColumnKind::Trigger, None),
        ];
        for (name, kind, unit) in cases {
            let s = parse_column_name(name);
            assert_eq!((s.kind, s.unit), (*kind, *unit), "{name}");
        }
        assert_eq!(parse_column_name("EMG (uV)").stem, "EMG");
        assert_eq!(parse_column_name("emg").voltage_label(), "mV");
        assert_eq!(parse_column_name("x [µV]").voltage_label(), "uV");
        assert_abs_diff_eq!(parse_column_name("x_uV").millivolts_per_unit(), 1e-3);
        assert_abs_diff_eq!(parse_column_name("x_V").millivolts_per_unit(), 1e3);
        assert_abs_diff_eq!(parse_column_name("x_nV").millivolts_per_unit(), 1e-6);
        assert_abs_diff_eq!(parse_column_name("x").millivolts_per_unit(), 1.0);
    }

    #[test]
    fn sweep_names() {
        for n in [
            "sweep1",
            "Sweep 2",
            "SWEEP_03 (mV)",
            "trace4",
            "resp5",
            "Response 6",
            "r7",
            "S8",
            "#9",
            "10",
            "cmap11",
            "CMAP 12 [uV]",
        ] {
            assert_eq!(
                sweep_name(&parse_column_name(n).stem),
                Some(SweepName::Plain),
                "{n}"
            );
        }
        assert_eq!(sweep_name("stim3"), Some(SweepName::Stim));
        for n in ["emg", "stim", "trigger", "r", "cmap", "s1x", "apb"] {
            assert_eq!(sweep_name(n), None, "{n}");
        }
    }

    #[test]
    fn unit_conversion_to_mv() {
        let mut s = String::from("time_ms,a_uV,b_V,c [µV],d (μV),e_nV,f\n");
        for i in 0..10 {
            let _ = writeln!(s, "{},1000,0.001,500,2000,1000000,3", i as f64 * 0.1);
        }
        let rec = read_with(
            &s,
            &ReadOptions {
                layout: CsvLayout::Continuous,
                ..ReadOptions::default()
            },
        )
        .unwrap();
        let first: Vec<f32> = rec.channels.iter().map(|c| c.samples[0]).collect();
        for (a, b) in first.iter().zip([1.0, 1.0, 0.5, 2.0, 1.0, 3.0]) {
            assert_abs_diff_eq!(*a, b, epsilon = 1e-6);
        }
        let units: Vec<&str> = rec.channels.iter().map(|c| c.unit.as_str()).collect();
        assert_eq!(units, ["uV", "V", "uV", "uV", "nV", "mV"]);
    }

    #[test]
    fn continuous_time_s_and_time_ms() {
        for (hdr, scale) in [("time_s,emg_mV", 1.0), ("time_ms,emg_mV", 1000.0)] {
            let rec = read(&continuous(hdr, 500, 20_000.0, scale, 1)).unwrap();
            assert_eq!(rec.format, SourceFormat::CsvContinuous);
            assert_eq!(rec.sample_rate.hz(), 20_000.0);
            assert_eq!(rec.len(), 500);
            assert_eq!(rec.channels.len(), 1);
            assert_eq!(rec.channels[0].label, "emg_mV");
            assert_eq!(rec.channels[0].kind, ChannelKind::Signal);
            assert_eq!(rec.segments, Recording::continuous_segments(500));
            assert!(rec.stimuli.is_none());
        }
        // Unit-less time: seconds or milliseconds from the step.
        let rec = read(&continuous("time,emg", 500, 10_000.0, 1.0, 1)).unwrap();
        assert_eq!(rec.sample_rate.hz(), 10_000.0);
        let rec = read(&continuous("t,emg", 500, 10_000.0, 1000.0, 1)).unwrap();
        assert_eq!(rec.sample_rate.hz(), 10_000.0);
    }

    #[test]
    fn continuous_without_time_column() {
        let text = "emg_mV\n0.1\n0.2\n0.3\n";
        assert!(err(text).contains("no time column; give --sample-rate"));
        let opts = ReadOptions {
            sample_rate: SampleRate::new(5_000.0),
            ..ReadOptions::default()
        };
        let rec = read_with(text, &opts).unwrap();
        assert_eq!(rec.sample_rate.hz(), 5_000.0);
        assert_eq!(rec.channels[0].samples, vec![0.1, 0.2, 0.3]);
    }

    #[test]
    fn low_rate_from_time_column_is_rejected() {
        let msg = err(&continuous("time_s,emg", 50, 1000.0, 1.0, 1));
        assert!(msg.contains("1000 Hz") && msg.contains("outside"), "{msg}");
    }

    #[test]
    fn semicolon_with_decimal_comma() {
        let text = "time_ms;emg_mV;trigger\n0,0;1,25;0\n0,1;-0,5;1\n0,2;2;0\n";
        let opts = ReadOptions {
            layout: CsvLayout::Continuous,
            ..ReadOptions::default()
        };
        let rec = read_with(text, &opts).unwrap();
        assert_eq!(rec.sample_rate.hz(), 10_000.0);
        assert_eq!(rec.channels[0].samples, vec![1.25, -0.5, 2.0]);
        assert_eq!(rec.channels[1].kind, ChannelKind::Trigger);
    }

    #[test]
    fn tab_delimiter_bom_crlf_and_comments() {
        let mut text = String::from("\u{feff}# exported by X\r\n# patient: anon\r\n");
        text.push_str(
            &continuous("time_s\temg_uV\ttrigger", 300, 10_000.0, 1.0, 2)
                .replace(',', "\t")
                .replace('\n', "\r\n"),
        );
        let rec = read(&text).unwrap();
        assert_eq!(rec.channels.len(), 2);
        assert_eq!(rec.channels[0].unit, "uV");
        assert_abs_diff_eq!(
            rec.channels[0].samples[1],
            (0.01f64.sin() * 1e-3) as f32,
            epsilon = 1e-7
        );
        assert_eq!(rec.channels[1].kind, ChannelKind::Trigger);
        assert_eq!(rec.channels[1].unit, "");
        assert_eq!(rec.channels[1].label, "trigger");
        // Trigger values are raw (no unit conversion).
        assert_abs_diff_eq!(
            rec.channels[1].samples[0],
            1f64.sin() as f32,
            epsilon = 1e-4
        );
        // Row numbers count the comment lines: the bad cell is on line 4.
        let mut bad = String::from("# c\r\ntime_s,emg\r\n0.0001,1\r\n0.0002,\r\n");
        bad.push_str("0.0003,1\r\n");
        let msg = err(&bad);
        assert!(msg.contains("row 4, column \"emg\": empty cell"), "{msg}");
    }

    #[test]
    fn trigger_column_makes_continuous_even_if_short() {
        let rec = read(&continuous("time_s,emg,stim", 100, 10_000.0, 1.0, 2)).unwrap();
        assert_eq!(rec.format, SourceFormat::CsvContinuous);
        assert_eq!(rec.channels[1].kind, ChannelKind::Trigger);
    }

    #[test]
    fn sweeps_by_names() {
        let mut text = String::from("Time (ms),Sweep 1,Sweep 2,Sweep 3\n");
        for i in 0..50 {
            let t = (i as f64 - 10.0) * 0.1; // 10 kHz, stimulus at row 10
            let _ = writeln!(text, "{t:.3},{},{},{}", i, 100 + i, 200 + i);
        }
        let rec = read(&text).unwrap();
        assert_eq!(rec.format, SourceFormat::CsvSweeps);
        assert_eq!(rec.sample_rate.hz(), 10_000.0);
        assert_eq!(rec.channels.len(), 1);
        let ch = &rec.channels[0];
        assert_eq!(
            (ch.label.as_str(), ch.unit.as_str(), ch.len),
            ("sweeps", "mV", 150)
        );
        assert_eq!(ch.samples[50], 100.0);
        assert_eq!(ch.samples[149], 249.0);
        let st = rec.stimuli.as_ref().unwrap();
        assert_eq!(st.samples, vec![10, 60, 110]);
        assert_eq!(st.origin, StimulusOrigin::Sweeps);
        assert!(!st.timing_known);
        assert_eq!(rec.segments.len(), 3);
        assert_eq!(rec.segments[2].start, 100);
        assert_abs_diff_eq!(rec.segments[2].start_s, 0.01, epsilon = 1e-12);
    }

    #[test]
    fn stim_columns_are_sweeps_only_when_several() {
        let mut text = String::from("time_ms,stim1,stim2\n");
        let mut single = String::from("time_ms,stim1\n");
        for i in 0..20 {
            let _ = writeln!(text, "{},1,2", i as f64 * 0.1);
            let _ = writeln!(single, "{},0", i as f64 * 0.1);
        }
        assert_eq!(read(&text).unwrap().format, SourceFormat::CsvSweeps);
        let rec = read(&single).unwrap();
        assert_eq!(rec.format, SourceFormat::CsvContinuous);
        assert_eq!(rec.channels[0].kind, ChannelKind::Trigger);
    }

    #[test]
    fn sweeps_by_short_span_and_continuous_by_long_span() {
        let rec = read(&continuous("time_ms,apb,adm", 400, 20_000.0, 1000.0, 2)).unwrap();
        assert_eq!(rec.format, SourceFormat::CsvSweeps);
        assert_eq!(rec.stimuli.unwrap().samples, vec![0, 400]);
        // 1.5 s: a continuous two-channel recording.
        let rec = read(&continuous("time_ms,apb,adm", 15_000, 10_000.0, 1000.0, 2)).unwrap();
        assert_eq!(rec.format, SourceFormat::CsvContinuous);
        assert_eq!(rec.channels.len(), 2);
    }

    #[test]
    fn layout_override() {
        let text = continuous("time_ms,emg", 4000, 20_000.0, 1000.0, 1);
        assert_eq!(read(&text).unwrap().format, SourceFormat::CsvContinuous);
        let opts = ReadOptions {
            layout: CsvLayout::Sweeps,
            ..ReadOptions::default()
        };
        let rec = read_with(&text, &opts).unwrap();
        assert_eq!(rec.format, SourceFormat::CsvSweeps);
        let opts = ReadOptions {
            layout: CsvLayout::Continuous,
            ..ReadOptions::default()
        };
        let rec = read_with(
            &continuous("time_ms,sweep1,sweep2", 100, 20_000.0, 1000.0, 2),
            &opts,
        )
        .unwrap();
        assert_eq!(rec.format, SourceFormat::CsvContinuous);
        // Sweeps need a time column and no trigger column.
        let sweeps = ReadOptions {
            layout: CsvLayout::Sweeps,
            ..ReadOptions::default()
        };
        assert!(read_with("a,b\n1,2\n3,4\n", &sweeps).is_err());
        let msg = read_with(
            &continuous("time_ms,emg,trigger", 100, 20_000.0, 1000.0, 2),
            &sweeps,
        )
        .unwrap_err()
        .to_string();
        assert!(msg.contains("trigger column"), "{msg}");
    }

    #[test]
    fn sweep_units_must_agree() {
        let msg = err("time_ms,sweep1_mV,sweep2_uV\n0,1,2\n0.1,1,2\n");
        assert!(msg.contains("one unit"), "{msg}");
        let rec = read("time_ms,sweep1_uV,sweep2_uV\n0,1000,2000\n0.1,1000,2000\n").unwrap();
        assert_eq!(rec.channels[0].unit, "uV");
        assert_abs_diff_eq!(rec.channels[0].samples[2], 2.0);
    }

    #[test]
    fn ragged_row_names_the_row() {
        let msg = err("time_s,emg\n0.0001,1\n0.0002,1,5\n0.0003,1\n");
        assert!(msg.contains("row 3"), "{msg}");
        // CRLF and blank lines still give file line numbers.
        let msg = err("time_s,emg\r\n0.0001,1\r\n\r\n0.0002,1,5\r\n");
        assert!(msg.contains("row 4:"), "{msg}");
        let msg = err("time_s,emg\n\n0.0001,1\n\n\n0.0002,x\n");
        assert!(msg.contains("row 6, column \"emg\""), "{msg}");
    }

    #[test]
    fn bad_cells_name_row_and_column() {
        let msg = err("time_s,emg_mV\n0.0001,1\n0.0002,\n");
        assert!(
            msg.contains("row 3, column \"emg_mV\": empty cell"),
            "{msg}"
        );
        let msg = err("time_s,emg_mV\n0.0001,1\n0.0002,NaN\n");
        assert!(
            msg.contains("row 3, column \"emg_mV\"") && msg.contains("finite"),
            "{msg}"
        );
        let msg = err("time_s,emg_mV\n0.0001,1\n0.0002,inf\n");
        assert!(msg.contains("finite"), "{msg}");
        let msg = err("time_s,emg_mV\n0.0001,1\n0.0002,1.2.3\n");
        assert!(msg.contains("row 3") && msg.contains("\"1.2.3\""), "{msg}");
    }

    #[test]
    fn time_errors_name_rows() {
        let msg = err("time_s,emg\n0.0001,1\n0.0002,1\n0.0002,1\n");
        assert!(
            msg.contains("row 4") && msg.contains("strictly increasing"),
            "{msg}"
        );
        let mut text = String::from("time_s,emg\n");
        for i in 0..20 {
            let t = if i < 12 {
                i as f64 * 1e-4
            } else {
                i as f64 * 1e-4 + 5e-5
            };
            let _ = writeln!(text, "{t:.6},1");
        }
        let msg = err(&text);
        // Data row 12 is line 14 (header on line 1, first data row on line 2).
        assert!(msg.contains("irregular sampling at row 14"), "{msg}");
    }

    #[test]
    fn header_problems() {
        assert!(err("time_s,emg\n").contains("no data rows"));
        assert!(err("# only a comment\n").contains("no header"));
        assert!(err("").contains("no header"));
        let bytes = b"time_s,emg \xB5V\n0.0001,1\n0.0002,1\n";
        let msg = read_csv(&p(), bytes, &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("UTF-8"), "{msg}");
        let wide: Vec<String> = (0..300).map(|i| format!("c{i}")).collect();
        let text = format!("{}\n{}\n", wide.join(","), vec!["1"; 300].join(","));
        assert!(matches!(read(&text), Err(Error::Limit { value: 300, .. })));
        assert!(err("time_s,,emg\n0.0001,1,1\n").contains("no name"));
        assert!(err("time_s,time_ms\n1,2\n").contains("more than one time column"));
    }

    #[test]
    fn trailing_delimiter_column_is_ignored_when_empty() {
        let rec = read_with(
            "emg,\n1,\n2,\n",
            &ReadOptions {
                sample_rate: SampleRate::new(4000.0),
                ..ReadOptions::default()
            },
        )
        .unwrap();
        assert_eq!(rec.channels.len(), 1);
        assert_eq!(rec.channels[0].samples, vec![1.0, 2.0]);
    }

    #[test]
    fn channel_filter() {
        let text = continuous("time_s,a,b,trigger", 100, 10_000.0, 1.0, 3);
        let opts = ReadOptions {
            channels: ChannelFilter::Only(vec![2]),
            ..ReadOptions::default()
        };
        let rec = read_with(&text, &opts).unwrap();
        assert_eq!(rec.channels.len(), 3);
        assert!(rec.channels[0].samples.is_empty() && rec.channels[1].samples.is_empty());
        assert!(rec.channels[2].is_loaded());
        assert_eq!(rec.channels[0].len, 100);
        let opts = ReadOptions {
            channels: ChannelFilter::Only(vec![7]),
            ..ReadOptions::default()
        };
        assert!(matches!(
            read_with(&text, &opts),
            Err(Error::NoSuchChannel { available: 3, .. })
        ));
        // Undecided layout (no trigger, two channels, long): unwanted dropped after.
        let text = continuous("time_s,a,b", 12_000, 10_000.0, 1.0, 2);
        let opts = ReadOptions {
            channels: ChannelFilter::Only(vec![0]),
            ..ReadOptions::default()
        };
        let rec = read_with(&text, &opts).unwrap();
        assert!(rec.channels[0].is_loaded() && rec.channels[1].samples.is_empty());
    }

    #[test]
    fn continuous_writer_round_trip() {
        let rate = 48_000.0;
        let a: Vec<f32> = (0..3000).map(|i| (i as f32 * 0.01).sin() * 5.0).collect();
        let trig: Vec<f32> = (0..3000)
            .map(|i| if i % 1000 < 5 { 1.0 } else { 0.0 })
            .collect();
        let bytes = encode_continuous_csv(true, rate, &[("emg_mV", &a), ("trigger", &trig)]);
        let rec = read_csv(&p(), &bytes, &ReadOptions::default()).unwrap();
        assert_eq!(rec.sample_rate.hz(), rate);
        assert_eq!(rec.format, SourceFormat::CsvContinuous);
        for (x, y) in rec.channels[0].samples.iter().zip(&a) {
            assert_abs_diff_eq!(*x, *y, epsilon = 1e-6);
        }
        assert_eq!(rec.channels[1].samples, trig);
        // Without a time column the rate comes from the options.
        let bytes = encode_continuous_csv(false, rate, &[("emg uV", &a)]);
        let opts = ReadOptions {
            sample_rate: SampleRate::new(rate),
            ..ReadOptions::default()
        };
        let rec = read_csv(&p(), &bytes, &opts).unwrap();
        assert_abs_diff_eq!(rec.channels[0].samples[7], a[7] * 1e-3, epsilon = 1e-8);
        // Unequal columns leave empty cells that the reader reports.
        let short = &a[..10];
        let bytes = encode_continuous_csv(true, rate, &[("x", &a), ("y", short)]);
        assert!(read_csv(&p(), &bytes, &ReadOptions::default()).is_err());
    }

    #[test]
    fn sweeps_writer_round_trip() {
        for rate in [5_000.0, 20_000.0, 48_000.0] {
            let sweeps: Vec<Vec<f32>> = (0..4)
                .map(|k| {
                    (0..200)
                        .map(|i| (i as f32 * 0.05).sin() * (1.0 - k as f32 * 0.1))
                        .collect()
                })
                .collect();
            let refs: Vec<&[f32]> = sweeps.iter().map(|s| s.as_slice()).collect();
            let bytes = encode_sweeps_csv(rate, 20, &refs);
            let rec = read_csv(&p(), &bytes, &ReadOptions::default()).unwrap();
            assert_eq!(rec.format, SourceFormat::CsvSweeps);
            assert_eq!(rec.sample_rate.hz(), rate);
            assert_eq!(
                rec.stimuli.as_ref().unwrap().samples,
                vec![20, 220, 420, 620]
            );
            let ch = &rec.channels[0];
            assert_eq!(ch.len, 800);
            for (k, s) in sweeps.iter().enumerate() {
                for (i, v) in s.iter().enumerate() {
                    assert_abs_diff_eq!(ch.samples[k * 200 + i], *v, epsilon = 1e-6);
                }
            }
        }
    }

    #[test]
    fn fast_decimals_match_the_standard_parser() {
        let cells = [
            "0",
            "-0",
            "+0.5",
            ".5",
            "5.",
            "-12.345",
            "0.00005000",
            "1.5e-3",
            "1E5",
            "-2.5e+2",
            "123456789012345678",
            "9007199254740993",
            "0.1",
            "0.30000000000000004",
            "1e22",
            "1e23",
            "4.35",
            "-0.077599",
            "1e-22",
            "123.456e-19",
            "000123.4500",
        ];
        for c in cells {
            let want: f64 = c.parse().unwrap();
            match fast_decimal(c.as_bytes(), false) {
                Some((v, k)) => {
                    assert_eq!(v.to_bits(), want.to_bits(), "{c}");
                    assert_eq!(10f64.powi(k), cell_resolution(c.as_bytes()), "{c}");
                }
                None => assert!(
                    [
                        "1e23",
                        "123456789012345678",
                        "9007199254740993",
                        "0.30000000000000004"
                    ]
                    .contains(&c),
                    "{c} should take the fast path"
                ),
            }
        }
        assert_eq!(fast_decimal(b"1,25", true).map(|p| p.0), Some(1.25));
        for bad in [
            "", "-", ".", "1e", "1e5.5", "inf", "NaN", "1,2", "0x10", "1_0", "--1", "1..2",
        ] {
            assert!(fast_decimal(bad.as_bytes(), false).is_none(), "{bad}");
        }
        assert!(fast_decimal(b"1,2,3", true).is_none());
        // 10^k grows with k, so the finest resolution is the power of the smallest k.
        for k in -300..300 {
            assert!(10f64.powi(k) < 10f64.powi(k + 1), "{k}");
        }
    }

    #[test]
    fn file_reader_matches_the_byte_reader() {
        let dir = tempfile::tempdir().unwrap();
        let long_preamble = "# a comment line to push the header far down\n".repeat(3000);
        let texts = [
            continuous("time_s,emg_mV", 500, 10_000.0, 1.0, 1),
            format!("\u{feff}{long_preamble}\r\ntime_ms;emg (uV)\r\n0;1,5\r\n0,1;2\r\n0,2;3\r\n"),
            "time_s,emg_mV\n0.0,1\n0.0001,2\n0.0002\n".to_string(),
            "time_s,emg_mV\n0.0,1\n0.0001,x\n".to_string(),
            "time_s,emg_mV\n0.0,1\n0.0001,2\n0.0003,3\n0.0004,4\n".to_string(),
            format!("{long_preamble}emg_mV"),
            long_preamble.clone(),
            String::new(),
        ];
        let opts = ReadOptions {
            sample_rate: SampleRate::new(10_000.0),
            ..ReadOptions::default()
        };
        for (i, text) in texts.iter().enumerate() {
            let path = dir.path().join(format!("t{i}.csv"));
            std::fs::write(&path, text).unwrap();
            let from_bytes = read_csv(&path, text.as_bytes(), &opts);
            let from_file = read_csv_file(&path, &opts);
            match (from_bytes, from_file) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a.channels[0].samples, b.channels[0].samples, "{i}");
                    assert_eq!(a.sample_rate.hz(), b.sample_rate.hz(), "{i}");
                    assert_eq!(a.format, b.format, "{i}");
                }
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{i}"),
                (a, b) => panic!("{i}: {a:?} vs {b:?}"),
            }
        }
    }

    #[test]
    fn garbage_never_panics() {
        let seeds = [
            continuous("time_s;emg_mV;trigger", 30, 10_000.0, 1.0, 2).replace(',', ";"),
            "time_ms,sweep1,sweep2\n-0.1,1,2\n0,1,2\n0.1,3,4\n".to_string(),
            "\u{feff}# x\n\"a,b\",c\n1,2\n".to_string(),
        ];
        let mut rng = crate::test_rng::XorShift::new(0x9E37_79B9_7F4A_7C15u64);
        let mut next = || rng.next_u64();
        let opts = ReadOptions {
            sample_rate: SampleRate::new(10_000.0),
            ..ReadOptions::default()
        };
        let alphabet = b",;\t\n\r\"#.-e0123456789 aNi\xB5\xEF";
        for seed in &seeds {
            for _ in 0..2000 {
                let mut b = seed.as_bytes().to_vec();
                for _ in 0..(next() % 5 + 1) {
                    let i = (next() as usize) % b.len();
                    b[i] = alphabet[(next() as usize) % alphabet.len()];
                }
                let cut = (next() as usize) % (b.len() + 1);
                let _ = read_csv(&p(), &b[..cut], &opts);
                let _ = read_csv(&p(), &b, &ReadOptions::default());
            }
        }
    }
}
