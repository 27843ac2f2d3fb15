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
//! an error. Text that looks like UTF-16 (a UTF-16 byte-order mark, or a 0
//! in every other byte) is refused as such, and so is a header line holding
//! a NUL byte.
//!
//! # Limits
//!
//! Checked before anything is buffered: a line (a record, with any line
//! breaks inside quotes) of more than [`MAX_LINE_BYTES`] (1 MiB), a cell of
//! more than [`MAX_CELL_BYTES`] (1 KiB), more than [`MAX_CHANNELS`] columns
//! (with a header or without), a table that does not start within the first
//! [`MAX_HEAD_BYTES`] (4 MiB), more than [`MAX_SAMPLES_PER_CHANNEL`] rows.
//! Each is an error naming the line, or the row and column. A message quotes
//! what the file holds (a cell, a column name) as a short escaped
//! [`excerpt`].
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
//! # Trigger or stimulus intensity
//!
//! A column named for a trigger line (`trigger`, `trig`, `marker`, `sync`) is
//! a [`ChannelKind::Trigger`] whatever its values. A column named for the
//! stimulus (`stim…`, `stimulus_V`, `intensity`, `current_mA`:
//! [`ColumnSpec::stimulus_named`]) is the trigger only when its values look
//! like one ([`looks_like_trigger`]: pulses or steps between few levels,
//! resting at one, with a rising edge); otherwise it is the stimulus
//! intensity, a [`ChannelKind::Intensity`] channel with its own unit (`V`,
//! `mA`, `%`), never the EMG and never the trigger unless named with
//! `--trigger-channel`, with an `intensity_column` note.
//!
//! # Header block and headerless tables
//!
//! The table's header is the last line before the first line that holds only
//! numbers (within the first [`LOOKAHEAD_LINES`] lines); the lines above it
//! (blank lines and `#` comments aside) are a **header block** when each is a
//! `key,value` line: its own delimiter (`,`, `;`, tab, else `:` or `=`), a
//! first cell that is no number, at most as many cells as the header less
//! one (or two), an even number of quotes. The block is kept as
//! [`Recording::metadata`]; a sample rate it declares (`Sampling rate`,
//! `fs`, `sample interval` with its unit, …) stands in when the table has no
//! time column and no rate is given (the options win over it, a time column
//! over both), a voltage unit it declares (`Units,uV`) for the value columns
//! that name none, each only when every declaration agrees. A `header_block`
//! note says which lines were set aside and what was used. A file of only
//! `key,value` lines is an error.
//!
//! When the first line holds only numbers, the table has **no header**: the
//! first column is the time (`time`, unit from its step) when there are
//! several columns and it rises strictly and regularly over the first 64
//! rows; the other columns are values in mV (or the header block's unit),
//! labelled `col<k>` by their 1-based column number. A `layout_guessed` note
//! says so.
//!
//! # Layouts and auto-detection
//!
//! A **long table** has one row per sample and a column numbering the sweep
//! (`recording_index`, `sweep`, `sweep_index`, `trial`, `epoch`, …) beside a
//! time column (after the stimulus) and a value column not named like a
//! sweep, and optionally a column numbering the channel (`channel_index`,
//! `channel`, `ch`, …) and a stimulus column (MonStim's `recording_index,
//! channel_index, stimulus_V, time_point, amplitude_mV`). It is read unless
//! the layout is forced to continuous, into what a sweeps file of the same
//! data gives ([`SourceFormat::CsvSweeps`]): per channel (by number,
//! labelled `ch<number>`, or one per value column when there is no channel
//! column) the sweeps end to end, one segment per sweep, the stimulus at time
//! 0 of each, and the stimulus column's value per sweep in
//! [`Recording::intensities`]. The rows of a sweep come together, sweeps in
//! ascending order; every sweep and channel repeats the first sweep's time
//! points (within 1 % of a step plus half the printed resolution); each
//! breach is an error naming the row.
//!
//! Otherwise [`CsvLayout::Auto`] chooses **sweeps** when the file has a time
//! column and either
//! - (a) every other column is named like a sweep: `sweep…`, `trace…`,
//!   `resp…`/`response…`, or `r`, `s`, `#`, `cmap` or `stim` followed by
//!   digits, or digits alone (case-insensitive; spaces, `_` and `-` ignored;
//!   a unit suffix allowed). Because `stim` names a trigger column, a set of
//!   `stim<N>` columns counts as sweeps only when there are at least two
//!   non-time columns; or
//! - (b) there is no trigger column, at least two value columns, and the
//!   time column spans less than [`SWEEP_SPAN_S`] (0.1 s: one response), or
//!   less than [`SWEEP_SPAN_MAX_S`] (1 s) starting before 0 (pre-stimulus
//!   samples). A `layout_guessed` note says which, and so does one for a file
//!   under 1 s read as continuous (a 0.45 s six-muscle export from 0 s).
//!
//! Otherwise the file is **continuous**.
//!
//! Continuous: one [`ChannelKind::Signal`] channel per value column and one
//! [`ChannelKind::Trigger`] (or [`ChannelKind::Intensity`]) per trigger
//! column, indexed in file order without the time column; one segment
//! starting at `start_s = 0.0` (the file's first time value is not kept:
//! recording time starts at the first row).
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
//! the single channel 0, `sweeps`; a long table its channels `ch<number>`.
//! The default EMG channel is the first value column. Unwanted channels keep
//! their metadata with empty samples and their cells are not checked. An
//! index beyond the file's channels is [`Error::NoSuchChannel`]. While the
//! layout is still undecided (rule b), and in a long table, every value
//! column is decoded and the unwanted ones are dropped afterwards.

use crate::error::{excerpt, excerpt_str, Error, Result};
use crate::io::{ChannelFilter, ReadOptions, MAX_CHANNELS, MAX_SAMPLES_PER_CHANNEL};
use crate::recording::{
    Channel, ChannelKind, KnownStimuli, MetadataEntry, ReadNote, Recording, Segment, SourceFormat,
    StimulusIntensities, StimulusOrigin,
};
use crate::units::{SampleRate, Shown};
use crate::vocab::CsvLayout;
use crate::vocab::FlagCode;
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

    /// The voltage unit a spelling names (`V`, `mV`, `uV`/`µV`/`μV`, `nV`,
    /// case-insensitive, words too); `None` for anything else, a time unit
    /// included.
    pub fn voltage(s: &str) -> Option<ColumnUnit> {
        unit_token(s).filter(|u| u.is_voltage())
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
    /// A [`ColumnKind::Trigger`] named like the stimulus rather than like a
    /// trigger line (`stim`, `stimulus_V`, `intensity`, `current_mA`): its
    /// values decide whether it is the trigger (pulses or steps) or the
    /// stimulus intensity (see [`looks_like_trigger`]).
    pub stimulus_named: bool,
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
/// A time column has stem `time`, `t`, `latency`, `timestamp`, `elapsed` or
/// `time_point` (or no stem at all, as in `ms`); a trigger column's name
/// contains `trigger`, `trig`, `stim`, `marker` or `sync`, or is an intensity
/// (`intensity`, `current`, …); anything else is a value. A trigger column
/// named for the stimulus (`stim…`, an intensity) rather than for a trigger
/// line (`trigger`, `trig`, `marker`, `sync`) is
/// [`ColumnSpec::stimulus_named`].
pub fn parse_column_name(name: &str) -> ColumnSpec {
    let trimmed = name.trim();
    let (stem, unit) = split_unit(trimmed);
    let key = squash(stem);
    let time_stem = matches!(
        key.as_str(),
        "time" | "t" | "latency" | "timestamp" | "elapsed" | "times" | "timepoint"
    ) || (key.is_empty() && unit.is_some());
    if time_stem && unit.is_none_or(ColumnUnit::is_time) {
        return ColumnSpec {
            kind: ColumnKind::Time,
            unit,
            stem: stem.to_string(),
            stimulus_named: false,
        };
    }
    let lower = trimmed.to_lowercase();
    let trigger_word = ["trigger", "trig", "marker", "sync"]
        .iter()
        .any(|w| lower.contains(w));
    let stimulus_word = lower.contains("stim") || is_intensity_name(trimmed);
    let kind = if trigger_word || stimulus_word {
        ColumnKind::Trigger
    } else {
        ColumnKind::Value
    };
    let stimulus_named = stimulus_word && !trigger_word;
    match unit {
        Some(u) if u.is_voltage() => ColumnSpec {
            kind,
            unit,
            stem: stem.to_string(),
            stimulus_named,
        },
        // A time unit on a non-time name is part of the name, not a unit.
        _ => ColumnSpec {
            kind,
            unit: None,
            stem: trimmed.to_string(),
            stimulus_named,
        },
    }
}

/// Whether a name says stimulus intensity: its stem (without a unit such as
/// `mA`, `V`, `%`) squashed is, starts or ends with `intensity`, or is or
/// starts with `current` (`current_mA`, `Intensity (%)`, `stim_intensity`).
fn is_intensity_name(name: &str) -> bool {
    let (stem, _) = intensity_unit(name);
    let key = squash(stem);
    key.starts_with("intensity") || key.ends_with("intensity") || key.starts_with("current")
}

/// The stem and the unit of an intensity column's name, as written: a
/// bracketed suffix or a last `_`/space token that is a voltage, a current
/// (`A`, `mA`, `uA`/`µA`) or `%` (`("stimulus", "V")` for `stimulus_V`).
/// `""` when the name gives none.
pub fn intensity_unit(name: &str) -> (&str, &str) {
    const SEPS: &[char] = &['_', '-', ' ', '\t'];
    let is_unit = |t: &str| {
        let n: String = t
            .trim()
            .chars()
            .map(|c| match c {
                '\u{00B5}' | '\u{03BC}' => 'u',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        matches!(
            n.as_str(),
            "v" | "mv" | "uv" | "a" | "ma" | "ua" | "%" | "volt" | "volts" | "amp" | "amps"
        )
    };
    let name = name.trim();
    for (open, close) in [('(', ')'), ('[', ']')] {
        if let Some(inner_end) = name.strip_suffix(close) {
            if let Some(pos) = inner_end.rfind(open) {
                let tok = inner_end[pos + open.len_utf8()..].trim();
                if is_unit(tok) {
                    return (inner_end[..pos].trim_end_matches(SEPS).trim(), tok);
                }
            }
        }
    }
    if let Some(pos) = name.rfind(SEPS) {
        let tok = &name[pos + 1..];
        if is_unit(tok) {
            return (name[..pos].trim_end_matches(SEPS).trim(), tok);
        }
    }
    (name, "")
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

impl Column {
    /// The name as messages quote it (see [`excerpt`]).
    fn quoted(&self) -> String {
        excerpt_str(&self.name)
    }
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
    let head = read_head(path, &mut &bytes[..], |e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let body = &bytes[head.offset..];
    let window = &head.bytes[head.offset..];
    read_body(
        path,
        Body::Bytes(body),
        first_line(window),
        &head.loc,
        window,
        body,
        opts,
    )
}

/// Bytes read ahead of the table by [`read_csv_file`] (at least), so that a
/// header block above the table and the first rows can be looked at.
pub const LOOKAHEAD_BYTES: usize = 1 << 18;

/// The longest line the CSV reader accepts, bytes (1 MiB): a record, with
/// any line breaks inside quotes, and the blank lines before it. The
/// longest line a file can hold and still be read is far shorter: 256
/// columns ([`MAX_CHANNELS`]) and an empty last one of at most
/// [`MAX_CELL_BYTES`] each, with their delimiters, is 264 KiB. A longer line
/// is refused before more of it is read, so a file of one endless line
/// costs no more memory than this.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The longest cell the CSV reader accepts, bytes (1 KiB): a number needs at
/// most ~30 bytes and a column name a few dozen; the longest exact decimal
/// expansion of a 64-bit float (767 significant digits, sign and exponent)
/// still fits. A longer cell is refused, naming its row and column; column
/// names become channel labels, which every output repeats.
pub const MAX_CELL_BYTES: usize = 1024;

/// Read a delimited-text recording from a file, streaming it: only the
/// first [`LOOKAHEAD_BYTES`] (and the whole header line) are read ahead, then
/// the rows are parsed through the csv reader's buffer, so the text is never
/// held whole in memory (an error message that needs a line number counts
/// the lines again through the open file). Same result and errors as
/// [`read_csv`] on the file's bytes, plus [`Error::Io`] when the file cannot
/// be opened or read or is not a regular file (see
/// [`open_input`](crate::io::open_input)).
pub fn read_csv_file(path: &Path, opts: &ReadOptions) -> Result<Recording> {
    let io = |e: std::io::Error| Error::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let file = crate::io::open_input(path)?;
    let len = file.metadata().map_err(io)?.len();
    let head = read_head(path, &mut &file, io)?;
    (&file)
        .seek(SeekFrom::Start(head.offset as u64))
        .map_err(io)?;
    let window = &head.bytes[head.offset..];
    let body = Body::File {
        file: &file,
        offset: head.offset as u64,
        len,
    };
    read_body(
        path,
        body,
        first_line(window),
        &head.loc,
        window,
        &file,
        opts,
    )
}

/// The text before and at the start of the table, as [`read_head`] finds it.
struct Head {
    /// The first bytes of the file: at least [`LOOKAHEAD_BYTES`] (or all of
    /// it), and on to the end of the table's first line.
    bytes: Vec<u8>,
    /// Where the table starts in them (after any byte-order mark).
    offset: usize,
    loc: Located,
}

/// The most bytes [`read_csv_file`] reads ahead to find the table's first
/// line (4 MiB): what comes before it (blank lines, `#` comments, a header
/// block) takes a few kilobytes in real exports.
pub const MAX_HEAD_BYTES: usize = 4 << 20;

/// Read the start of a file from `r` until the table's first line is
/// complete (or the file ends), and find the table in it. Refused on the
/// way: text that looks like UTF-16, and a line longer than
/// [`MAX_LINE_BYTES`] (before any more of it is read).
fn read_head<R: Read>(
    path: &Path,
    r: &mut R,
    io: impl Fn(std::io::Error) -> Error,
) -> Result<Head> {
    let mut head: Vec<u8> = Vec::new();
    loop {
        if head.len() >= MAX_HEAD_BYTES {
            return Err(Error::malformed(
                path,
                format!(
                    "no table starts within the first {MAX_HEAD_BYTES} bytes of the file (only \
                     blank lines, # comments and key,value lines before)"
                ),
            ));
        }
        // Grow by at least LOOKAHEAD_BYTES, at most MAX_LINE_BYTES at a time.
        let want = head.len() + head.len().clamp(LOOKAHEAD_BYTES, MAX_LINE_BYTES);
        let got = r
            .take((want - head.len()) as u64)
            .read_to_end(&mut head)
            .map_err(&io)?;
        let at_end = head.len() < want || got == 0;
        if let Some(why) = utf16(&head) {
            return Err(Error::malformed(
                path,
                format!("the file is not UTF-8 text: it looks like {why}; save it as UTF-8"),
            ));
        }
        check_line_lengths(path, &head)?;
        let bom = if head.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        let text = &head[bom..];
        let loc = locate(text, at_end);
        let body = &text[loc.offset..];
        if !(at_end || body.contains(&b'\n')) {
            continue;
        }
        if body.is_empty() {
            return Err(no_header(path));
        }
        let offset = bom + loc.offset;
        return Ok(Head {
            bytes: head,
            offset,
            loc,
        });
    }
}

/// The encoding of a text that looks like UTF-16 (a UTF-16 byte-order mark,
/// or NUL bytes in every other place of its first 4 KiB, as ASCII text in
/// UTF-16 has), if it does.
fn utf16(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"\xFF\xFE") {
        return Some("UTF-16 (little-endian, with a byte-order mark)");
    }
    if head.starts_with(b"\xFE\xFF") {
        return Some("UTF-16 (big-endian, with a byte-order mark)");
    }
    let n = head.len().min(4096) & !1;
    let pairs = n / 2;
    if pairs < 2 {
        return None;
    }
    let zeros = |parity: usize| {
        head[..n]
            .iter()
            .skip(parity)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    let (even, odd) = (zeros(0), zeros(1));
    if 4 * odd >= pairs && 8 * even < odd {
        Some("UTF-16 (little-endian: every other byte is 0)")
    } else if 4 * even >= pairs && 8 * odd < even {
        Some("UTF-16 (big-endian: every other byte is 0)")
    } else {
        None
    }
}

/// Refuse a line of `text` (the start of a file) longer than
/// [`MAX_LINE_BYTES`]: a whole one, or the last one, which may go on.
fn check_line_lengths(path: &Path, text: &[u8]) -> Result<()> {
    let mut start = 0usize;
    let mut line = 1u64;
    loop {
        let end = text[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|p| start + p);
        let stop = end.unwrap_or(text.len());
        if stop - start > MAX_LINE_BYTES {
            return Err(long_line(path, line, &text[start..], 0));
        }
        match end {
            Some(e) => {
                start = e + 1;
                line += 1;
            }
            None => return Ok(()),
        }
    }
}

/// The error of a line longer than [`MAX_LINE_BYTES`], at file line `line`,
/// whose text starts with `start`, after `blank` blank lines (which the
/// limit counts with it).
fn long_line(path: &Path, line: u64, start: &[u8], blank: u64) -> Error {
    let blank = if blank > 0 {
        format!(", with the {blank} blank lines before it")
    } else {
        String::new()
    };
    Error::malformed(
        path,
        format!(
            "line {line} is longer than {MAX_LINE_BYTES} bytes{blank}, the longest the CSV \
             reader accepts (it starts {})",
            excerpt(start)
        ),
    )
}

fn no_header(path: &Path) -> Error {
    Error::malformed(path, "no header line (the file is empty or only comments)")
}

/// Non-blank, non-comment lines looked at for a header block.
pub const LOOKAHEAD_LINES: usize = 2000;

/// Where the table starts in the text (after a byte-order mark), and what
/// lies above it.
#[derive(Debug, Default)]
struct Located {
    /// Byte offset of the table's first line: its header, or its first data
    /// row when it has no header.
    offset: usize,
    /// Lines before it (blank lines, comments, the header block).
    skipped_lines: u64,
    /// The header block's `key,value` lines.
    block: Vec<MetadataEntry>,
    /// File lines of the header block (first, last), when there is one.
    block_lines: Option<(u64, u64)>,
    /// The first line holds numbers only: the table has no header.
    headerless: bool,
    /// The whole text is key,value lines (two or more, no line of numbers):
    /// a header block without its table.
    only_block: bool,
}

/// Find the table (see the module doc, "Header block and headerless
/// tables"). `text` is the file's text or its first part; `at_end` says
/// whether it is all of it (a last line without a line end is then whole).
fn locate(text: &[u8], at_end: bool) -> Located {
    let (body, skipped) = skip_preamble(text);
    let plain = Located {
        offset: text.len() - body.len(),
        skipped_lines: skipped,
        ..Located::default()
    };
    // (offset in text, file line number, line) of the lines that are
    // neither blank nor comments, as far as the text goes.
    let mut lines: Vec<(usize, u64, &[u8])> = Vec::new();
    let mut pos = plain.offset;
    let mut lineno = skipped + 1;
    while pos < text.len() && lines.len() < LOOKAHEAD_LINES {
        let nl = text[pos..].iter().position(|&b| b == b'\n');
        if nl.is_none() && !at_end {
            break;
        }
        let end = nl.map_or(text.len(), |e| pos + e);
        let line = &text[pos..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let t = line.trim_ascii();
        if !(t.is_empty() || t.starts_with(b"#")) {
            lines.push((pos, lineno, line));
        }
        pos = end + 1;
        lineno += 1;
    }
    let Some(&(_, _, first)) = lines.first() else {
        return plain;
    };
    if numeric_line(first) {
        return Located {
            headerless: true,
            ..plain
        };
    }
    // The header is the last line before the first line of numbers; the
    // lines above it are the header block.
    let Some(k) = lines.iter().position(|l| numeric_line(l.2)) else {
        let only_block = at_end
            && pos >= text.len()
            && lines.len() >= 2
            && lines.iter().all(|l| block_entry(l.2, 2).is_some());
        return Located {
            only_block,
            ..plain
        };
    };
    if k < 2 {
        return plain;
    }
    let (h_off, h_line, header) = lines[k - 1];
    let d = detect_delimiter(header);
    let header_cells = split_cells(header, d).filter(|c| !c.is_empty()).count();
    if split_cells(header, d).next().is_some_and(numeric_cell(d)) {
        return plain;
    }
    let mut block = Vec::with_capacity(k - 1);
    for &(_, _, l) in &lines[..k - 1] {
        match block_entry(l, header_cells.max(3) - 1) {
            Some(e) => block.push(e),
            None => return plain,
        }
    }
    Located {
        offset: h_off,
        skipped_lines: h_line - 1,
        block,
        block_lines: Some((lines[0].1, lines[k - 2].1)),
        headerless: false,
        only_block: false,
    }
}

/// The cells of one line split at `d`, trimmed and without surrounding
/// quotes (only for looking at a line; the table itself is parsed by the csv
/// reader).
fn split_cells(line: &[u8], d: u8) -> impl Iterator<Item = &[u8]> {
    line.split(move |&b| b == d).map(|c| {
        let c = c.trim_ascii();
        c.strip_prefix(b"\"")
            .and_then(|c| c.strip_suffix(b"\""))
            .unwrap_or(c)
            .trim_ascii()
    })
}

/// Whether a cell reads as a number under delimiter `d`.
fn numeric_cell(d: u8) -> impl Fn(&[u8]) -> bool {
    move |c: &[u8]| parse_cell(c, d != b',').is_ok()
}

/// Whether every cell of a line is a number (a last empty cell, left by a
/// trailing delimiter, allowed).
fn numeric_line(line: &[u8]) -> bool {
    let d = detect_delimiter(line);
    let cells: Vec<&[u8]> = split_cells(line, d).collect();
    let n = match cells.split_last() {
        Some((last, rest)) if last.is_empty() && !rest.is_empty() => rest.len(),
        _ => cells.len(),
    };
    n > 0 && cells[..n].iter().all(|c| numeric_cell(d)(c))
}

/// One header-block line as a `key,value` entry: the delimiter is the line's
/// own (`,`, `;`, tab; else `:` or `=`), the key its first cell, which must
/// not be a number, the value the other cells. `None` when the line is not
/// such a line (a number first, more than `max_cells` cells, an odd number of
/// quotes).
fn block_entry(line: &[u8], max_cells: usize) -> Option<MetadataEntry> {
    if line.iter().filter(|&&b| b == b'"').count() % 2 == 1 {
        return None;
    }
    let d = if line.iter().any(|b| matches!(b, b',' | b';' | b'\t')) {
        detect_delimiter(line)
    } else if line.contains(&b':') {
        b':'
    } else {
        b'='
    };
    let mut cells: Vec<&[u8]> = split_cells(line, d).collect();
    while cells.len() > 1 && cells.last().is_some_and(|c| c.is_empty()) {
        cells.pop();
    }
    let key = *cells.first()?;
    if key.is_empty() || numeric_cell(d)(key) || cells.len() > max_cells {
        return None;
    }
    let text = |c: &[u8]| String::from_utf8_lossy(c).trim().to_string();
    let sep = if d == b'\t' {
        "\t".to_string()
    } else {
        (d as char).to_string()
    };
    Some(MetadataEntry {
        key: text(key),
        value: cells[1..]
            .iter()
            .map(|c| text(c))
            .collect::<Vec<_>>()
            .join(&sep),
    })
}

/// What a header block declares that the reader may use.
#[derive(Debug, Default)]
struct Declared {
    /// Every sample rate declared (Hz), with the key that declared it.
    rates: Vec<(f64, String)>,
    /// Every voltage unit declared, with its key.
    units: Vec<(ColumnUnit, String)>,
}

impl Declared {
    /// Read the entries: a key naming a sample rate (`sample rate`,
    /// `sampling frequency`, `fs`, `srate`; Hz or kHz in the key or the
    /// value, Hz by default), a sampling interval (`sample interval`,
    /// `sampling period`, `dt`; its unit, s, ms or µs, in the key or the value,
    /// required) or a voltage unit (`unit`, `units`, `y unit`, `amplitude
    /// unit`, …).
    fn from(block: &[MetadataEntry]) -> Declared {
        let mut d = Declared::default();
        for e in block {
            let (kstem, kunit) = split_key_unit(&e.key);
            let key = squash(kstem);
            let (num, vunit) = number_and_unit(&e.value);
            let unit = vunit.or(kunit).map(|u| u.to_ascii_lowercase());
            let sampling = key.contains("sampl");
            if (sampling && (key.contains("rate") || key.contains("freq")))
                || matches!(key.as_str(), "fs" | "srate")
            {
                let hz = num.and_then(|v| match unit.as_deref() {
                    None | Some("hz") => Some(v),
                    Some("khz") => Some(v * 1e3),
                    _ => None,
                });
                if let Some(hz) = hz.filter(|h| h.is_finite() && *h > 0.0) {
                    d.rates.push((hz, e.key.clone()));
                }
            } else if (sampling && (key.contains("interval") || key.contains("period")))
                || key == "dt"
            {
                let per = unit
                    .as_deref()
                    .and_then(unit_token)
                    .and_then(ColumnUnit::seconds_per_unit);
                if let (Some(v), Some(per)) = (num, per) {
                    let hz = 1.0 / (v * per);
                    if hz.is_finite() && hz > 0.0 {
                        d.rates.push((hz, e.key.clone()));
                    }
                }
            } else if key.ends_with("unit") || key.ends_with("units") {
                if let Some(u) = unit_token(&e.value).filter(|u| u.is_voltage()) {
                    d.units.push((u, e.key.clone()));
                }
            }
        }
        d
    }

    /// The sample rate, when every declaration agrees (within 1 ppm).
    fn rate(&self) -> Option<f64> {
        let (first, _) = *self.rates.first()?;
        self.rates
            .iter()
            .all(|(r, _)| (r - first).abs() <= 1e-6 * first)
            .then_some(first)
    }

    /// The voltage unit, when every declaration agrees.
    fn unit(&self) -> Option<ColumnUnit> {
        let (first, _) = *self.units.first()?;
        self.units.iter().all(|(u, _)| *u == first).then_some(first)
    }
}

/// A key without a bracketed or trailing unit, and that unit (`("Sampling
/// rate", Some("kHz"))` for `Sampling rate (kHz)`).
fn split_key_unit(key: &str) -> (&str, Option<&str>) {
    let k = key.trim();
    for (open, close) in [('(', ')'), ('[', ']')] {
        if let Some(inner) = k.strip_suffix(close) {
            if let Some(pos) = inner.rfind(open) {
                return (inner[..pos].trim(), Some(inner[pos + 1..].trim()));
            }
        }
    }
    (k, None)
}

/// A value's leading number and the unit after it (`10 kHz`, `0.1ms`,
/// `20000`).
fn number_and_unit(value: &str) -> (Option<f64>, Option<&str>) {
    let v = value.trim();
    let end = v
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
        .unwrap_or(v.len());
    // `e` may start a unit, not an exponent (`5e` is no number): back off.
    let mut end = end;
    while end > 0 && v[..end].parse::<f64>().is_err() {
        end -= 1;
    }
    let num = v[..end].parse::<f64>().ok();
    let rest = v[end..]
        .trim()
        .trim_start_matches(['(', '['])
        .trim_end_matches([')', ']']);
    (num, (!rest.is_empty()).then_some(rest))
}

/// The rest of [`read_csv`] and [`read_csv_file`], from the table's first
/// line (`header_line`, whose text also starts `source`) on; `window` is the
/// text read ahead from there (the first rows).
///
/// The stages: the header line, the columns, a long table (read apart), the
/// wide table's channels and plan, its rows, its time column, its layout,
/// then the recording with the header block's notes.
fn read_body<R: Read>(
    path: &Path,
    body: Body<'_>,
    header_line: &[u8],
    loc: &Located,
    window: &[u8],
    source: R,
    opts: &ReadOptions,
) -> Result<Recording> {
    check_table_start(path, header_line, loc)?;
    let delim = detect_delimiter(header_line);
    let ctx = Ctx {
        path,
        body,
        delim,
        skipped_lines: loc.skipped_lines,
        decimal_comma: delim != b',',
        headerless: loc.headerless,
    };
    let declared = Declared::from(&loc.block);
    let mut notes = Vec::new();

    let mut rdr = reader_builder(delim, loc.headerless).from_reader(LineGuard::new(source));
    let columns = read_columns(
        &ctx, &mut rdr, loc, window, &declared, opts.unit, &mut notes,
    )?;
    let time_col = time_column(path, &columns)?;

    // A long table: one row per sample, the sweep (and channel) numbered in
    // columns of their own.
    if opts.layout != CsvLayout::Continuous {
        if let Some(long) = long_columns(path, &columns, time_col)? {
            let rec = read_long(&ctx, &mut rdr, &columns, &long, opts)?;
            drop(rdr);
            return Ok(with_block(rec, loc, &declared, notes, false));
        }
    }

    let wide = Wide::plan(path, &columns, time_col, opts)?;
    let sinks = wide.sinks(&columns);
    let table = read_rows(&ctx, &mut rdr, &columns, &sinks, wide.chans.len())?;
    drop(rdr);

    let timing = match time_col {
        Some(t) => Some(timing(&ctx, &columns[t], &table)?),
        None => None,
    };
    let layout = wide.layout(path, &columns, &table, timing.as_ref(), &mut notes)?;
    let rec = match layout {
        Plan::Sweeps => build_sweeps(
            &ctx,
            &wide.filter,
            &columns,
            time_col,
            &wide.chans,
            table,
            timing,
        )?,
        _ => {
            let rate = match timing {
                Some(t) => Some(t.rate),
                None => opts
                    .sample_rate
                    .or_else(|| declared.rate().and_then(SampleRate::new)),
            };
            build_continuous(path, rate, &declared, &wide.filter, &wide.chans, table)?
        }
    };
    let timed = time_col.is_some() || opts.sample_rate.is_some();
    Ok(with_block(rec, loc, &declared, notes, timed))
}

/// Refuse a table whose header line is not UTF-8 or holds NUL bytes, and a
/// file of only a header block.
fn check_table_start(path: &Path, header_line: &[u8], loc: &Located) -> Result<()> {
    if header_line.contains(&0) {
        return Err(Error::malformed(
            path,
            format!(
                "the header line holds NUL bytes, which no text export writes (a binary file, \
                 or text that is not UTF-8: save it as UTF-8): {}",
                excerpt(header_line)
            ),
        ));
    }
    if std::str::from_utf8(header_line).is_err() {
        return Err(Error::malformed(
            path,
            "the header line is not valid UTF-8 (save the file as UTF-8)",
        ));
    }
    if loc.only_block {
        return Err(Error::malformed(
            path,
            "no table: the file holds only key,value lines (a header block without data rows); \
             export the recording's samples with it",
        ));
    }
    Ok(())
}

/// The table's columns: from its header, or guessed from its first rows
/// when it has none (with the `layout_guessed` note in `notes`).
fn read_columns<R: Read>(
    ctx: &Ctx<'_>,
    rdr: &mut ::csv::Reader<LineGuard<R>>,
    loc: &Located,
    window: &[u8],
    declared: &Declared,
    unit: Option<ColumnUnit>,
    notes: &mut Vec<ReadNote>,
) -> Result<Vec<Column>> {
    let headers = rdr.byte_headers().map_err(|e| ctx.csv_error(e))?.clone();
    let at = rdr.position().byte();
    rdr.get_mut().record_ends_at(at);
    let mut columns = if loc.headerless {
        check_column_count(ctx.path, headers.len())?;
        for (i, cell) in headers.iter().enumerate() {
            check_cell_length(ctx.path, cell, || {
                format!("row {}, column {}", ctx.skipped_lines + 1, i + 1)
            })?;
        }
        let (columns, note) = headerless_columns(&headers, window, ctx.delim);
        notes.push(note);
        columns
    } else {
        parse_header(ctx.path, &headers)?
    };
    // A unit given by a flag or the sidecar, else the one the header block
    // declares, stands for the value columns that name none.
    if let Some(u) = unit.or(declared.unit()) {
        for c in columns.iter_mut() {
            if c.spec.kind == ColumnKind::Value && c.spec.unit.is_none() {
                c.spec.unit = Some(u);
            }
        }
    }
    if let Some(note) = unit_assumed(&columns) {
        notes.push(note);
    }
    Ok(columns)
}

/// `unit_assumed` (info): value columns whose unit nothing names were read
/// as millivolts. Microvolts read so make a CMAP a thousand times too large
/// (`scale_suspect` catches the implausible ones); the note says how to set
/// the unit.
fn unit_assumed(columns: &[Column]) -> Option<ReadNote> {
    let bare: Vec<&Column> = columns
        .iter()
        .filter(|c| c.spec.kind == ColumnKind::Value && c.spec.unit.is_none())
        .collect();
    let first = bare.first()?;
    let which = match bare.len() {
        1 => format!("column {}", first.quoted()),
        n => format!("{n} value columns"),
    };
    Some(ReadNote::info(
        FlagCode::UnitAssumed,
        format!(
            "{which} read as mV: no unit is named (in the column name, a header block, --unit or the sidecar's unit)"
        ),
    ))
}

/// The time column, if any; more than one is an error.
fn time_column(path: &Path, columns: &[Column]) -> Result<Option<usize>> {
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
                "more than one time column ({} and {})",
                columns[time_cols[0]].quoted(),
                columns[time_cols[1]].quoted()
            ),
        ));
    }
    Ok(time_cols.first().copied())
}

/// The recording with the header block kept as its metadata, and its notes
/// in order: the header block's, the reader's (`notes`), the builder's.
fn with_block(
    mut rec: Recording,
    loc: &Located,
    declared: &Declared,
    mut notes: Vec<ReadNote>,
    timed: bool,
) -> Recording {
    let mut all = block_notes(loc, declared, &rec, timed);
    all.append(&mut notes);
    all.append(&mut rec.notes);
    rec.notes = all;
    rec.metadata = loc.block.clone();
    rec
}

/// A wide table (not a long one): its channels, the layout as far as the
/// header tells, and the channels wanted.
struct Wide<'c> {
    time_col: Option<usize>,
    /// The non-time columns, in file order: channel index = position here.
    chan_cols: Vec<usize>,
    /// Their columns.
    chans: Vec<&'c Column>,
    plan: Plan,
    filter: ChannelFilter,
}

impl<'c> Wide<'c> {
    /// Find the channels, plan the layout and resolve the options' channels.
    fn plan(
        path: &Path,
        columns: &'c [Column],
        time_col: Option<usize>,
        opts: &ReadOptions,
    ) -> Result<Wide<'c>> {
        let chan_cols: Vec<usize> = (0..columns.len())
            .filter(|&i| Some(i) != time_col && !columns[i].name.is_empty())
            .collect();
        if chan_cols.is_empty() {
            return Err(Error::malformed(
                path,
                "no signal columns besides the time column",
            ));
        }
        let chans: Vec<&Column> = chan_cols.iter().map(|&i| &columns[i]).collect();

        let plan = initial_plan(path, opts.layout, time_col.is_some(), &chans)?;
        let n_channels_out = if plan == Plan::Sweeps {
            1
        } else {
            chan_cols.len()
        };
        // Selectors name continuous channels by column name; a sweeps file has
        // the single channel "sweeps". The default EMG channel is the first
        // value column.
        let labels: Vec<&str> = if plan == Plan::Sweeps {
            vec!["sweeps"]
        } else {
            chans.iter().map(|c| c.name.as_str()).collect()
        };
        let default_emg = if plan == Plan::Sweeps {
            0
        } else {
            chans
                .iter()
                .position(|c| c.spec.kind == ColumnKind::Value)
                .unwrap_or(0)
        };
        let (filter, _) = opts.channels.resolve(path, &labels, default_emg)?;
        check_filter(path, &filter, n_channels_out)?;
        Ok(Wide {
            time_col,
            chan_cols,
            chans,
            plan,
            filter,
        })
    }

    /// Which cells to decode and how to scale them, column by column.
    fn sinks(&self, columns: &[Column]) -> Vec<Sink> {
        let mut sinks = vec![Sink::Skip; columns.len()];
        if let Some(t) = self.time_col {
            sinks[t] = Sink::Time;
        }
        if let Some(last) = columns.last() {
            if last.name.is_empty() {
                sinks[columns.len() - 1] = Sink::MustBeEmpty;
            }
        }
        for (ch, (&col, c)) in self.chan_cols.iter().zip(&self.chans).enumerate() {
            let decode = match self.plan {
                // Trigger columns are always decoded: the analysis finds stimuli
                // in them by name, whatever channel the EMG is.
                Plan::Continuous => self.filter.wants(ch) || c.spec.kind == ColumnKind::Trigger,
                Plan::Sweeps => self.filter.wants(0),
                Plan::Undecided => true,
            };
            // Triggers keep raw values, except as sweeps (`stim1`, `stim2`, …).
            let factor = if c.spec.kind == ColumnKind::Trigger && self.plan != Plan::Sweeps {
                1.0
            } else {
                c.spec.millivolts_per_unit()
            };
            if decode {
                sinks[col] = Sink::Data { ch, factor };
            }
        }
        sinks
    }

    /// The layout, once the rows are read: an undecided plan by the time
    /// column's span (rule b, its note in `notes`).
    fn layout(
        &self,
        path: &Path,
        columns: &[Column],
        table: &Table,
        timing: Option<&Timing>,
        notes: &mut Vec<ReadNote>,
    ) -> Result<Plan> {
        match self.plan {
            Plan::Continuous => Ok(Plan::Continuous),
            Plan::Sweeps => Ok(Plan::Sweeps),
            Plan::Undecided => match (self.time_col, timing) {
                (Some(tc), Some(tm)) => {
                    // Rule (b): a short time span means responses, not a recording.
                    let per = time_unit(&columns[tc], tm.step_raw)
                        .seconds_per_unit()
                        .unwrap_or(1.0);
                    let first = table.steps.first.unwrap_or(table.steps.last) * per;
                    let span_s = table.steps.last * per - first;
                    let (layout, note) = span_rule(span_s, first, self.chan_cols.len());
                    notes.extend(note);
                    if layout == Plan::Sweeps {
                        check_filter(path, &self.filter, 1)?;
                    }
                    Ok(layout)
                }
                _ => Ok(Plan::Continuous),
            },
        }
    }
}

/// Sweeps by the time span (rule b) only below this span, or below
/// [`SWEEP_SPAN_MAX_S`] when the time starts before 0.
pub const SWEEP_SPAN_S: f64 = 0.1;
/// No sweeps by the time span (rule b) from this span on.
pub const SWEEP_SPAN_MAX_S: f64 = 1.0;

/// Rule (b) of the module doc: sweeps or continuous from the time column's
/// span and first time (s), for `n` value columns and no trigger; the note
/// when the rule decided.
fn span_rule(span_s: f64, first_s: f64, n: usize) -> (Plan, Option<ReadNote>) {
    let ms = |s: f64| format!("{} ms", Shown((s * 1e3 * 1e3).round() / 1e3));
    if span_s < SWEEP_SPAN_S || (span_s < SWEEP_SPAN_MAX_S && first_s < 0.0) {
        let why = if span_s < SWEEP_SPAN_S {
            format!("spans {} (under {})", ms(span_s), ms(SWEEP_SPAN_S))
        } else {
            format!(
                "starts at {} (before the stimulus at 0) and spans {} (under {} s)",
                ms(first_s),
                ms(span_s),
                SWEEP_SPAN_MAX_S
            )
        };
        let note = ReadNote::info(
            FlagCode::LayoutGuessed,
            format!(
                "read as {n} sweeps (one response per column): no trigger column, and the time \
                 column {why}; give --layout continuous if the columns are channels of one \
                 recording"
            ),
        );
        (Plan::Sweeps, Some(note))
    } else if span_s < SWEEP_SPAN_MAX_S {
        let note = ReadNote::info(
            FlagCode::LayoutGuessed,
            format!(
                "read as one continuous recording of {n} channels: the time column spans {} \
                 from {}, longer than one response ({} or more) and with no time before 0; \
                 give --layout sweeps if each column is one response",
                ms(span_s),
                ms(first_s),
                ms(SWEEP_SPAN_S)
            ),
        );
        (Plan::Continuous, Some(note))
    } else {
        (Plan::Continuous, None)
    }
}

/// The `header_block` note: which lines were set aside, and what their
/// declarations did (`timed`: the table has its own rate, from a time column
/// or the options).
fn block_notes(loc: &Located, declared: &Declared, rec: &Recording, timed: bool) -> Vec<ReadNote> {
    let Some((a, b)) = loc.block_lines else {
        return Vec::new();
    };
    let mut parts = vec![format!(
        "lines {a}–{b} above the table are a header block of {} key,value line(s), kept as \
         metadata",
        loc.block.len()
    )];
    let list = |v: Vec<String>| v.join(", ");
    match declared.rate() {
        Some(hz) if !timed && rec.sample_rate.hz() == hz => parts.push(format!(
            "the table has no time column, so its declared sample rate ({} Hz, {}) is used",
            Shown(hz),
            excerpt_str(&declared.rates[0].1)
        )),
        Some(hz) if (rec.sample_rate.hz() - hz).abs() > 1e-6 * hz => parts.push(format!(
            "it declares {} Hz ({}), the table gives {} Hz, which is used",
            Shown(hz),
            excerpt_str(&declared.rates[0].1),
            Shown(rec.sample_rate.hz())
        )),
        Some(_) => {}
        None if declared.rates.len() > 1 => parts.push(format!(
            "it declares different sample rates ({}), so none is used",
            list(
                declared
                    .rates
                    .iter()
                    .map(|(r, k)| format!("{} Hz {}", Shown(*r), excerpt_str(k)))
                    .collect()
            )
        )),
        None => {}
    }
    match declared.unit() {
        Some(u) => parts.push(format!(
            "its unit {} ({}) stands for the value columns that name none",
            u.label(),
            excerpt_str(&declared.units[0].1)
        )),
        None if declared.units.len() > 1 => parts.push(format!(
            "it declares different units ({}), so none is used",
            list(
                declared
                    .units
                    .iter()
                    .map(|(u, k)| format!("{} {}", u.label(), excerpt_str(k)))
                    .collect()
            )
        )),
        None => {}
    }
    vec![ReadNote::info(FlagCode::HeaderBlock, parts.join("; "))]
}

/// The columns of a table without header: `time` for the first column when
/// it rises strictly and regularly over the first rows (and others follow),
/// else `col1`; the others `col<k>`, k its 1-based column number (values in
/// mV unless a header block says otherwise). With the `layout_guessed` note.
fn headerless_columns(
    first: &::csv::ByteRecord,
    window: &[u8],
    delim: u8,
) -> (Vec<Column>, ReadNote) {
    let n = first.len();
    let decimal_comma = delim != b',';
    let mut t: Vec<f64> = Vec::new();
    let mut rdr = reader_builder(delim, true)
        .has_headers(false)
        .flexible(true)
        .from_reader(window);
    let mut rec = ::csv::ByteRecord::new();
    while t.len() < 64 {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {}
            _ => break,
        }
        match rec.get(0).map(|c| parse_cell(c, decimal_comma)) {
            Some(Ok(v)) => t.push(v),
            _ => break,
        }
    }
    // A last, incomplete row of the window may be cut: leave it out.
    if t.len() > 2 {
        t.pop();
    }
    let is_time = n >= 2 && t.len() >= 2 && rises_regularly(&t);
    let columns: Vec<Column> = (0..n)
        .map(|i| {
            let name = if i == 0 && is_time {
                "time".to_string()
            } else {
                format!("col{}", i + 1)
            };
            let spec = if i == 0 && is_time {
                parse_column_name("time")
            } else {
                ColumnSpec {
                    kind: ColumnKind::Value,
                    unit: None,
                    stem: name.clone(),
                    stimulus_named: false,
                }
            };
            Column { name, spec }
        })
        .collect();
    let what = if is_time {
        format!(
            "column 1 rises regularly, so it is the time (s or ms, whichever its step makes an \
             accepted rate); columns 2–{n} are values in mV, labelled col2–col{n}"
        )
    } else {
        "column 1 does not rise regularly, so there is no time column (the rate comes from \
         --sample-rate); the columns are values in mV, labelled col1…"
            .to_string()
    };
    let note = ReadNote::info(
        FlagCode::LayoutGuessed,
        format!(
            "no header line (the first line holds numbers only): {what}; add a header line \
             naming the columns (e.g. time_ms,emg_mV) to read it otherwise"
        ),
    );
    (columns, note)
}

/// Whether times rise strictly with steps within 1 % of the median step
/// (plus a hair for printed precision).
fn rises_regularly(t: &[f64]) -> bool {
    let mut steps: Vec<f64> = t.windows(2).map(|w| w[1] - w[0]).collect();
    if steps.iter().any(|&s| s.is_nan() || s <= 0.0) {
        return false;
    }
    let mid = steps.len() / 2;
    let median = *steps.select_nth_unstable_by(mid, f64::total_cmp).1;
    let scale = t.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    steps
        .iter()
        .all(|&s| (s - median).abs() <= 0.01 * median + 1e-9 * scale)
}

/// The columns of a long table (see the module doc, "Long tables").
#[derive(Debug)]
struct LongCols {
    /// The sweep number.
    sweep: usize,
    /// The channel number, if any.
    channel: Option<usize>,
    /// The time after the stimulus.
    time: usize,
    /// The stimulus intensity of each sweep, if any.
    intensity: Option<usize>,
    /// The values: one when `channel` is given, else one channel each.
    values: Vec<usize>,
    /// An unnamed last column (a trailing delimiter), which must be empty.
    empty: Option<usize>,
}

/// Whether a squashed name numbers sweeps in a long table.
fn is_sweep_index_name(key: &str) -> bool {
    let stems = [
        "recording",
        "sweep",
        "trial",
        "epoch",
        "trace",
        "repetition",
    ];
    let tails = ["", "index", "idx", "number", "no", "nr", "num", "id"];
    stems.iter().any(|s| {
        key.strip_prefix(s)
            .is_some_and(|t| tails.contains(&t) && !(t.is_empty() && *s == "trace"))
    })
}

/// Whether a squashed name numbers channels in a long table.
fn is_channel_index_name(key: &str) -> bool {
    let stems = ["channel", "chan", "ch"];
    let tails = ["", "index", "idx", "number", "no", "nr", "num", "id"];
    stems
        .iter()
        .any(|s| key.strip_prefix(s).is_some_and(|t| tails.contains(&t)))
}

/// The columns of a long table, when the header has one: a column that
/// numbers the sweeps (`recording_index`, `sweep`, `sweep_no`, `trial`,
/// `epoch`, …) beside a value column that is not named like a sweep. The
/// missing or extra columns such a table cannot do without or with are
/// errors naming them.
fn long_columns(
    path: &Path,
    columns: &[Column],
    time_col: Option<usize>,
) -> Result<Option<LongCols>> {
    let key = |c: &Column| squash(&c.name);
    let Some(sweep) = columns
        .iter()
        .position(|c| c.spec.kind == ColumnKind::Value && is_sweep_index_name(&key(c)))
    else {
        return Ok(None);
    };
    let channel = columns
        .iter()
        .position(|c| c.spec.kind == ColumnKind::Value && is_channel_index_name(&key(c)));
    let empty = columns
        .iter()
        .rposition(|c| c.name.is_empty())
        .filter(|&i| i + 1 == columns.len());
    let rest: Vec<usize> = (0..columns.len())
        .filter(|&i| Some(i) != time_col && i != sweep && Some(i) != channel && Some(i) != empty)
        .collect();
    let values: Vec<usize> = rest
        .iter()
        .copied()
        .filter(|&i| columns[i].spec.kind == ColumnKind::Value)
        .collect();
    // A wide sweeps file whose columns are all named like sweeps (`sweep`,
    // `sweep2`) is no long table.
    if values.iter().all(|&i| columns[i].spec.is_sweep_name()) && !values.is_empty() {
        return Ok(None);
    }
    let sweep_name = columns[sweep].quoted();
    let Some(time) = time_col else {
        return Err(Error::malformed(
            path,
            format!(
                "long table (column {sweep_name} numbers the sweeps) without a time column: \
                 name the time after the stimulus time_ms (or time_point), or give --layout \
                 continuous to read the rows as one recording"
            ),
        ));
    };
    if values.is_empty() {
        return Err(Error::malformed(
            path,
            format!(
                "long table (column {sweep_name} numbers the sweeps) without a value column: \
                 the EMG needs a column of its own (e.g. amplitude_mV)"
            ),
        ));
    }
    if let Some(&t) = rest
        .iter()
        .find(|&&i| columns[i].spec.kind == ColumnKind::Trigger && !columns[i].spec.stimulus_named)
    {
        return Err(Error::malformed(
            path,
            format!(
                "column {} is a trigger column, which a long table (sweeps, the stimulus at \
                 time 0) cannot have",
                columns[t].quoted()
            ),
        ));
    }
    if let (Some(c), true) = (channel, values.len() > 1) {
        let names: Vec<String> = values.iter().map(|&i| columns[i].quoted()).collect();
        return Err(Error::malformed(
            path,
            format!(
                "long table with a channel column ({}) needs one value column, found {} ({})",
                columns[c].quoted(),
                values.len(),
                names.join(", ")
            ),
        ));
    }
    let intensity = rest
        .iter()
        .copied()
        .find(|&i| columns[i].spec.kind == ColumnKind::Trigger);
    Ok(Some(LongCols {
        sweep,
        channel,
        time,
        intensity,
        values,
        empty,
    }))
}

/// A cell that numbers a sweep or a channel: a whole number.
fn index_cell(v: f64) -> Option<i64> {
    (v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15).then_some(v as i64)
}

/// Read a long table (see the module doc): the sweeps of each channel joined
/// end to end, as a sweeps file of the same data would give them.
fn read_long<R: Read>(
    ctx: &Ctx<'_>,
    rdr: &mut ::csv::Reader<LineGuard<R>>,
    columns: &[Column],
    long: &LongCols,
    opts: &ReadOptions,
) -> Result<Recording> {
    let mut reader = LongReader::new(ctx, columns, long);
    let mut rec = ::csv::ByteRecord::new();
    while ctx.next_record(rdr, &mut rec)? {
        reader.row(&rec)?;
    }
    reader.finish()?;
    reader.into_recording(opts)
}

/// The `Error::Limit` of a table with more data rows than a channel may
/// hold, checked before row `rows + 1` is read.
fn check_row_limit(path: &Path, rows: u64) -> Result<()> {
    if rows >= MAX_SAMPLES_PER_CHANNEL {
        return Err(Error::Limit {
            path: path.to_path_buf(),
            what: "CSV data rows".into(),
            value: rows + 1,
            limit: MAX_SAMPLES_PER_CHANNEL,
        });
    }
    Ok(())
}

/// A cell of the unnamed trailing column (0-based `col`) must be empty;
/// `line` gives the row's file line for the message.
fn check_unnamed_cell(path: &Path, field: &[u8], col: usize, line: impl Fn() -> u64) -> Result<()> {
    if !field.trim_ascii().is_empty() {
        return Err(Error::malformed(
            path,
            format!("row {}: a value in the unnamed column {}", line(), col + 1),
        ));
    }
    Ok(())
}

/// The error for a cell of column `name` on file line `line`.
fn cell_error(path: &Path, line: u64, name: &str, what: &str) -> Error {
    Error::malformed(
        path,
        format!("row {line}, column {}: {what}", excerpt_str(name)),
    )
}

/// The error for a cell longer than [`MAX_CELL_BYTES`] (see
/// [`check_cell_length`]).
fn long_cell(path: &Path, line: u64, name: &str, cell: &[u8]) -> Error {
    match check_cell_length(path, cell, || {
        format!("row {line}, column {}", excerpt_str(name))
    }) {
        Err(e) => e,
        Ok(()) => cell_error(path, line, name, "cell too long"),
    }
}

/// A long table's rows, read one at a time: the sweeps so far, each
/// channel's samples, and the first sweep's time points that every sweep
/// and channel must repeat.
struct LongReader<'a> {
    ctx: &'a Ctx<'a>,
    columns: &'a [Column],
    long: &'a LongCols,
    /// No channel column: each value column is a channel.
    multi_value: bool,
    /// Channel slots in order of appearance: a channel number, or a value column.
    ids: Vec<i64>,
    /// Per slot, its samples.
    data: Vec<Vec<f32>>,
    /// Per slot, its rows in the current sweep.
    pos: Vec<usize>,
    /// The first sweep's times (of its first channel), which every sweep repeats.
    ref_times: Vec<f64>,
    /// The data row (0-based) of the last of them.
    last_ref_row: usize,
    steps: Steps,
    /// Finest resolution the first sweep's times are printed with.
    time_res: f64,
    /// The tolerance later sweeps' times must meet, once the first sweep is
    /// complete (infinite before: see [`LongReader::time_tolerance`]).
    tol: f64,
    /// The sweep numbers, in order.
    sweeps: Vec<i64>,
    /// The stimulus intensity of each sweep (its first row's).
    intens: Vec<f64>,
    /// The intensity changes within a sweep.
    intens_varies: bool,
    rows: u64,
}

impl<'a> LongReader<'a> {
    /// A reader before the first row: one slot per value column when there
    /// is no channel column, else none until the channels appear.
    fn new(ctx: &'a Ctx<'a>, columns: &'a [Column], long: &'a LongCols) -> LongReader<'a> {
        let multi_value = long.channel.is_none();
        let ids: Vec<i64> = if multi_value {
            (0..long.values.len() as i64).collect()
        } else {
            Vec::new()
        };
        LongReader {
            ctx,
            columns,
            long,
            multi_value,
            data: vec![Vec::new(); ids.len()],
            pos: vec![0; ids.len()],
            ids,
            ref_times: Vec::new(),
            last_ref_row: 0,
            steps: Steps::default(),
            time_res: f64::INFINITY,
            tol: f64::INFINITY,
            sweeps: Vec::new(),
            intens: Vec::new(),
            intens_varies: false,
            rows: 0,
        }
    }

    /// Column `i`'s name, for messages.
    fn name(&self, i: usize) -> &'a str {
        self.columns[i].name.as_str()
    }

    /// The file line of `rec` (it scans the file: only for messages).
    fn line(&self, rec: &::csv::ByteRecord) -> u64 {
        self.ctx.line(rec.position())
    }

    /// Cell `i` of `rec` as a number.
    fn cell(&self, rec: &::csv::ByteRecord, i: usize) -> Result<f64> {
        parse_cell(rec.get(i).unwrap_or_default(), self.ctx.decimal_comma)
            .map_err(|what| cell_error(self.ctx.path, self.line(rec), self.name(i), &what))
    }

    /// Cell `i` of `rec`, which numbers the sweeps or the channels, as a
    /// whole number.
    fn index(&self, rec: &::csv::ByteRecord, i: usize) -> Result<i64> {
        let v = self.cell(rec, i)?;
        index_cell(v).ok_or_else(|| {
            Error::malformed(
                self.ctx.path,
                format!(
                    "row {}, column {}: {v} is not a whole number (long table: it numbers \
                     the {}); give --layout continuous if the file is not a long table",
                    self.line(rec),
                    self.columns[i].quoted(),
                    if i == self.long.sweep {
                        "sweeps"
                    } else {
                        "channels"
                    }
                ),
            )
        })
    }

    /// Value cell `i` of `rec`, in millivolts.
    fn value(&self, rec: &::csv::ByteRecord, i: usize) -> Result<f32> {
        let v = (self.cell(rec, i)? * self.columns[i].spec.millivolts_per_unit()) as f32;
        if !v.is_finite() {
            return Err(cell_error(
                self.ctx.path,
                self.line(rec),
                self.name(i),
                "value out of range",
            ));
        }
        Ok(v)
    }

    /// Read one row: its sweep, its intensity, its channel, its time, its
    /// values, each checked in that order.
    fn row(&mut self, rec: &::csv::ByteRecord) -> Result<()> {
        let long = self.long;
        check_row_limit(self.ctx.path, self.rows)?;
        self.rows += 1;
        if let Some((i, cell)) = rec
            .iter()
            .enumerate()
            .find(|(_, c)| c.len() > MAX_CELL_BYTES)
        {
            return Err(long_cell(self.ctx.path, self.line(rec), self.name(i), cell));
        }
        if let Some(e) = long.empty {
            check_unnamed_cell(self.ctx.path, rec.get(e).unwrap_or_default(), e, || {
                self.line(rec)
            })?;
        }
        let sweep = self.index(rec, long.sweep)?;
        let t = self.cell(rec, long.time)?;
        self.enter_sweep(rec, sweep)?;
        if let Some(i) = long.intensity {
            self.intensity(rec, i)?;
        }
        let slot = self.slot(rec)?;
        self.check_time(rec, slot, sweep, t)?;
        self.push_values(rec, slot)
    }

    /// Row `rec` is of sweep `sweep`: the current one, or the next (the
    /// current one is then complete); going back is an error.
    fn enter_sweep(&mut self, rec: &::csv::ByteRecord, sweep: i64) -> Result<()> {
        match self.sweeps.last().copied() {
            Some(cur) if sweep == cur => {}
            Some(cur) if sweep < cur => {
                return Err(Error::malformed(
                    self.ctx.path,
                    format!(
                        "row {}: column {} goes back from {cur} to {sweep}; a long table lists \
                         the rows of each sweep together, in ascending order",
                        self.line(rec),
                        self.columns[self.long.sweep].quoted()
                    ),
                ))
            }
            prev => {
                if let Some(cur) = prev {
                    if self.sweeps.len() == 1 {
                        ref_done(&self.steps, self.time_res, &mut self.tol);
                    }
                    self.finish_sweep(cur)?;
                }
                self.sweeps.push(sweep);
            }
        }
        Ok(())
    }

    /// Intensity cell `i`: the sweep's first row sets its intensity, a
    /// later row that differs marks the column as varying within sweeps.
    fn intensity(&mut self, rec: &::csv::ByteRecord, i: usize) -> Result<()> {
        if self.sweeps.len() > self.intens.len() {
            let v = self.cell(rec, i)?;
            self.intens.push(v);
        } else if self.intens.last().copied() != Some(self.cell(rec, i)?) {
            self.intens_varies = true;
        }
        Ok(())
    }

    /// The channel slot row `rec` fills (`None`: every value column's). The
    /// first sweep introduces the channels; later sweeps must repeat them.
    fn slot(&mut self, rec: &::csv::ByteRecord) -> Result<Option<usize>> {
        let Some(ci) = self.long.channel else {
            return Ok(None);
        };
        let id = self.index(rec, ci)?;
        if let Some(s) = self.ids.iter().position(|&x| x == id) {
            return Ok(Some(s));
        }
        if self.sweeps.len() != 1 {
            return Err(Error::malformed(
                self.ctx.path,
                format!(
                    "row {}: channel {id} (column {}) is not in the first sweep; every sweep \
                     must have the same channels",
                    self.line(rec),
                    self.columns[ci].quoted()
                ),
            ));
        }
        if self.ids.len() as u64 >= MAX_CHANNELS {
            return Err(Error::Limit {
                path: self.ctx.path.to_path_buf(),
                what: "channels of the long table".into(),
                value: self.ids.len() as u64 + 1,
                limit: MAX_CHANNELS,
            });
        }
        self.ids.push(id);
        self.data.push(Vec::new());
        self.pos.push(0);
        Ok(Some(self.ids.len() - 1))
    }

    /// Time `t` of row `rec` (sweep `sweep`, channel `slot`): the first
    /// sweep's first channel sets the time points, every other run must
    /// repeat them.
    fn check_time(
        &mut self,
        rec: &::csv::ByteRecord,
        slot: Option<usize>,
        sweep: i64,
        t: f64,
    ) -> Result<()> {
        let p = slot.map_or(self.pos[0], |s| self.pos[s]);
        let first_sweep = self.sweeps.len() == 1;
        if first_sweep && slot.is_none_or(|s| s == 0) && p == self.ref_times.len() {
            return self.define_time(rec, sweep, t);
        }
        let want = self.ref_times.get(p).copied();
        if want.is_some_and(|w| (t - w).abs() <= self.time_tolerance()) {
            return Ok(());
        }
        let first = match want {
            Some(w) => format!("the first sweep has {w} at this place"),
            None => format!("the first sweep has {} time point(s)", self.ref_times.len()),
        };
        Err(Error::malformed(
            self.ctx.path,
            format!(
                "row {}: time {t} in sweep {sweep} (column {}) does not match the first sweep \
                 ({first}); every sweep must have the same time points (give --layout \
                 continuous if the file is one recording)",
                self.line(rec),
                self.columns[self.long.sweep].quoted()
            ),
        ))
    }

    /// A time point of the first sweep: it must rise strictly.
    fn define_time(&mut self, rec: &::csv::ByteRecord, sweep: i64, t: f64) -> Result<()> {
        let time = self.long.time;
        if let Some(&prev) = self.ref_times.last() {
            if t <= prev {
                let within = format!(
                    " within sweep {sweep} (column {})",
                    self.columns[self.long.sweep].quoted()
                );
                let now = (self.line(rec), t, rec.get(time).unwrap_or_default());
                return Err(not_increasing(
                    self.ctx,
                    &self.columns[time],
                    time,
                    now,
                    (self.last_ref_row, prev),
                    &within,
                ));
            }
        }
        self.last_ref_row = (self.rows - 1) as usize;
        self.time_res = self
            .time_res
            .min(cell_resolution(rec.get(time).unwrap_or_default()));
        self.ref_times.push(t);
        self.steps.push(t);
        Ok(())
    }

    /// How far a time may be from the first sweep's: the tolerance set when
    /// the first sweep completed, or within the first sweep, from its steps
    /// so far.
    fn time_tolerance(&self) -> f64 {
        if self.tol.is_finite() {
            return self.tol;
        }
        let n = self.ref_times.len();
        let step = if n >= 2 {
            (self.ref_times[n - 1] - self.ref_times[0]) / (n - 1) as f64
        } else {
            f64::INFINITY
        };
        0.01 * step + 0.5 * self.time_res
    }

    /// The values of row `rec`: into `slot`, or one per value column.
    fn push_values(&mut self, rec: &::csv::ByteRecord, slot: Option<usize>) -> Result<()> {
        let long = self.long;
        match slot {
            Some(s) => {
                let v = self.value(rec, long.values[0])?;
                self.data[s].push(v);
                self.pos[s] += 1;
            }
            None => {
                for (s, &vi) in long.values.iter().enumerate() {
                    let v = self.value(rec, vi)?;
                    self.data[s].push(v);
                    self.pos[s] += 1;
                }
            }
        }
        Ok(())
    }

    /// Sweep `sweep` is complete: every channel has the first sweep's rows.
    fn finish_sweep(&mut self, sweep: i64) -> Result<()> {
        let l = self.ref_times.len();
        for slot in 0..self.pos.len() {
            let p = self.pos[slot];
            if p != l {
                let ch = if self.multi_value {
                    format!("column {}", self.columns[self.long.values[slot]].quoted())
                } else {
                    format!(
                        "channel {} (column {})",
                        self.ids[slot],
                        self.columns[self.long.channel.unwrap_or(0)].quoted()
                    )
                };
                return Err(Error::malformed(
                    self.ctx.path,
                    format!(
                        "long table: sweep {sweep} (column {}) has {p} row(s) for {ch}, the first \
                         sweep has {l}; every sweep must have the same time points (give --layout \
                         continuous if the file is one recording)",
                        self.columns[self.long.sweep].quoted(),
                    ),
                ));
            }
            self.pos[slot] = 0;
        }
        Ok(())
    }

    /// After the last row: a table without rows is an error, and the last
    /// sweep must be complete.
    fn finish(&mut self) -> Result<()> {
        let Some(&last) = self.sweeps.last() else {
            return Err(Error::malformed(self.ctx.path, "no data rows"));
        };
        if self.sweeps.len() == 1 {
            ref_done(&self.steps, self.time_res, &mut self.tol);
        }
        self.finish_sweep(last)
    }

    /// The recording, once every row is read: the sample rate from the
    /// first sweep's times, the stimulus at time 0 of each sweep, the
    /// channels the options want.
    fn into_recording(mut self, opts: &ReadOptions) -> Result<Recording> {
        let path = self.ctx.path;
        let (l, k) = (self.ref_times.len(), self.sweeps.len());
        check_concatenated(path, l, k)?;
        let table = Table {
            rows: l,
            steps: std::mem::take(&mut self.steps),
            time_res: self.time_res,
            data: Vec::new(),
        };
        let time = &self.columns[self.long.time];
        let timing = timing(self.ctx, time, &table)?;
        let i0 = stimulus_row(path, &table.steps, &timing, time)?;
        let channels = self.channels(opts, l * k)?;
        let mut notes = vec![self.layout_note(k, l, channels.len())];
        let intensities = self.intensities(&mut notes);
        Ok(Recording {
            path: path.to_path_buf(),
            format: SourceFormat::CsvSweeps,
            sample_rate: timing.rate,
            channels,
            segments: sweep_segments(k, l, timing.rate),
            stimuli: Some(sweep_stimuli(k, l, i0)),
            annotations: Vec::new(),
            notes,
            intensities,
            metadata: Vec::new(),
            not_analysable: None,
            storage: None,
            study: Default::default(),
        })
    }

    /// The channels of `len` samples each, by number (or in column order),
    /// labelled `ch<number>` or by their column; those the options do not
    /// want keep no samples.
    fn channels(&mut self, opts: &ReadOptions, len: usize) -> Result<Vec<Channel>> {
        let path = self.ctx.path;
        let (long, multi_value) = (self.long, self.multi_value);
        let mut order: Vec<usize> = (0..self.ids.len()).collect();
        if !multi_value {
            order.sort_by_key(|&s| self.ids[s]);
        }
        let labels: Vec<String> = order
            .iter()
            .map(|&s| {
                if multi_value {
                    self.name(long.values[s]).to_string()
                } else {
                    format!("ch{}", self.ids[s])
                }
            })
            .collect();
        let label_refs: Vec<&str> = labels.iter().map(String::as_str).collect();
        let (filter, _) = opts.channels.resolve(path, &label_refs, 0)?;
        check_filter(path, &filter, labels.len())?;
        let mut data: Vec<Option<Vec<f32>>> = std::mem::take(&mut self.data)
            .into_iter()
            .map(Some)
            .collect();
        let channels = order
            .iter()
            .enumerate()
            .map(|(index, &s)| {
                let col = if multi_value {
                    long.values[s]
                } else {
                    long.values[0]
                };
                Channel {
                    index,
                    label: labels[index].clone(),
                    unit: self.columns[col].spec.voltage_label().to_string(),
                    kind: ChannelKind::Signal,
                    len,
                    sample_rate_hz: None,
                    samples: if filter.wants(index) {
                        data[s].take().unwrap_or_default()
                    } else {
                        Vec::new()
                    },
                }
            })
            .collect();
        Ok(channels)
    }

    /// The `layout_guessed` note of `k` sweeps of `l` samples in `n_channels`.
    fn layout_note(&self, k: usize, l: usize, n_channels: usize) -> ReadNote {
        ReadNote::info(
            FlagCode::LayoutGuessed,
            format!(
                "read as a long table (one row per sample): column {} numbers the sweeps{}; \
                 {k} sweep(s) of {l} samples, {n_channels} channel(s), the stimulus at time 0; \
                 give --layout continuous to read the rows as one recording",
                self.columns[self.long.sweep].quoted(),
                self.long
                    .channel
                    .map(|c| format!(" and {} the channels", self.columns[c].quoted()))
                    .unwrap_or_default(),
            ),
        )
    }

    /// Each sweep's stimulus intensity, unless the column changes within
    /// sweeps (an `intensity_column` note in `notes` then says so).
    fn intensities(&mut self, notes: &mut Vec<ReadNote>) -> Option<StimulusIntensities> {
        let i = self.long.intensity?;
        if !self.intens_varies {
            return Some(StimulusIntensities {
                label: self.name(i).to_string(),
                unit: intensity_unit(self.name(i)).1.to_string(),
                values: std::mem::take(&mut self.intens),
            });
        }
        notes.push(ReadNote::info(
            FlagCode::IntensityColumn,
            format!(
                "column {} changes within sweeps, so it is not kept as each sweep's \
                 stimulus intensity",
                self.columns[i].quoted()
            ),
        ));
        None
    }
}

/// Refuse `k` sweeps of `l` samples joined end to end beyond the samples a
/// channel may hold.
fn check_concatenated(path: &Path, l: usize, k: usize) -> Result<()> {
    let total = l as u64 * k as u64;
    if total > MAX_SAMPLES_PER_CHANNEL {
        return Err(Error::Limit {
            path: path.to_path_buf(),
            what: "samples in the concatenated sweeps".into(),
            value: total,
            limit: MAX_SAMPLES_PER_CHANNEL,
        });
    }
    Ok(())
}

/// The stimulus row of a sweep: the first row at time ≥ 0 (a hair of slack
/// for rounding of the printed times); a time column `time` that never
/// reaches 0 is an error.
fn stimulus_row(path: &Path, steps: &Steps, timing: &Timing, time: &Column) -> Result<usize> {
    let slack = 0.01 * timing.step_raw;
    steps.first_at_or_after(-slack).ok_or_else(|| {
        Error::malformed(
            path,
            format!(
                "time column {} never reaches 0 (the stimulus)",
                time.quoted()
            ),
        )
    })
}

/// One segment per sweep for `k` sweeps of `l` samples end to end, each
/// starting when the previous ends (the real timing is unknown).
fn sweep_segments(k: usize, l: usize, rate: SampleRate) -> Vec<Segment> {
    let dur = l as f64 / rate.hz();
    (0..k)
        .map(|s| Segment {
            start: s * l,
            len: l,
            start_s: s as f64 * dur,
        })
        .collect()
}

/// The stimuli of `k` sweeps of `l` samples: at row `i0` of each.
fn sweep_stimuli(k: usize, l: usize, i0: usize) -> KnownStimuli {
    KnownStimuli {
        samples: (0..k).map(|s| s * l + i0).collect(),
        origin: StimulusOrigin::Sweeps,
        timing_known: false,
    }
}

/// The first sweep is complete: the tolerance later sweeps' times must
/// meet (1 % of the median step plus half the printed resolution).
fn ref_done(steps: &Steps, time_res: f64, tol: &mut f64) {
    if steps.n == 0 {
        *tol = if time_res.is_finite() { time_res } else { 0.0 };
        return;
    }
    let median = steps.select(steps.n / 2);
    let res = if time_res.is_finite() { time_res } else { 0.0 };
    *tol = 0.01 * median + 0.5 * res;
}

/// The text from the header line on.
enum Body<'a> {
    /// In memory.
    Bytes(&'a [u8]),
    /// In a file of `len` bytes, from byte `offset` on: read again, through
    /// the open file (never by its path, which may since name another file)
    /// and a small buffer, only when an error message needs a line number.
    File {
        file: &'a File,
        offset: u64,
        len: u64,
    },
}

impl<'a> Body<'a> {
    /// Length of the text from the header line on.
    fn total_bytes(&self) -> u64 {
        match self {
            Body::Bytes(b) => b.len() as u64,
            Body::File { offset, len, .. } => len.saturating_sub(*offset),
        }
    }

    /// The text from its byte `at` on (reading it leaves the file's own
    /// position where it is).
    fn from(&self, at: u64) -> Box<dyn Read + 'a> {
        match *self {
            Body::Bytes(b) => {
                let at = usize::try_from(at).map_or(b.len(), |a| a.min(b.len()));
                Box::new(&b[at..])
            }
            Body::File { file, offset, .. } => Box::new(FileAt {
                file,
                pos: offset.saturating_add(at),
            }),
        }
    }
}

/// A file read from a position of its own, by positional reads.
struct FileAt<'a> {
    file: &'a File,
    pos: u64,
}

impl Read for FileAt<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = read_at(self.file, buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], pos: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, pos)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], pos: u64) -> std::io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, pos)
}

#[cfg(not(any(unix, windows)))]
fn read_at(_: &File, _: &mut [u8], _: u64) -> std::io::Result<usize> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// The table's text as the csv reader takes it, refused once the record
/// being read runs past [`MAX_LINE_BYTES`]: the csv reader keeps a whole
/// record in memory, so an endless line must stop here, before it is
/// buffered. After each record the reader's position is handed back
/// ([`LineGuard::record_ends_at`]); the guard then lets through at most
/// [`MAX_LINE_BYTES`] (and the line ends around it) beyond it. The csv
/// reader asks for more only once it has parsed all it was given, so a
/// refusal means a record longer than that.
struct LineGuard<R> {
    inner: R,
    /// Bytes handed to the csv reader so far.
    delivered: u64,
    /// Where the record being read starts (its reader position).
    record_start: u64,
}

/// The I/O error a [`LineGuard`] gives: the record starting at byte `at` of
/// the table's text is too long.
#[derive(Debug)]
struct LineTooLong {
    at: u64,
}

impl std::fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a line longer than {MAX_LINE_BYTES} bytes at byte {}",
            self.at
        )
    }
}

impl std::error::Error for LineTooLong {}

impl<R: Read> LineGuard<R> {
    fn new(inner: R) -> LineGuard<R> {
        LineGuard {
            inner,
            delivered: 0,
            record_start: 0,
        }
    }

    /// The csv reader has read a record; the next starts at `byte`.
    fn record_ends_at(&mut self, byte: u64) {
        self.record_start = byte;
    }
}

impl<R: Read> Read for LineGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // The line end before the record (CRLF) and after it are allowed too.
        let allowed = self.record_start + MAX_LINE_BYTES as u64 + 4;
        let left = allowed.saturating_sub(self.delivered);
        if left == 0 && !buf.is_empty() {
            return Err(std::io::Error::other(LineTooLong {
                at: self.record_start,
            }));
        }
        let n = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let got = self.inner.read(&mut buf[..n])?;
        self.delivered += got as u64;
        Ok(got)
    }
}

/// Where a record starts (see [`Ctx::record_at`]).
struct RecordAt {
    /// Its 1-based file line.
    line: u64,
    /// Its first bytes.
    text: Vec<u8>,
    /// Blank lines just before it.
    blank: u64,
}

/// The csv reader settings for delimiter `delim` (a large buffer: reading a
/// file through it needs no second buffer).
fn reader_builder(delim: u8, headerless: bool) -> ::csv::ReaderBuilder {
    let mut b = ::csv::ReaderBuilder::new();
    b.delimiter(delim)
        .has_headers(!headerless)
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
    /// The table has no header line: its first line is data.
    headerless: bool,
}

impl Ctx<'_> {
    fn reader(&self) -> ::csv::Reader<Box<dyn Read + '_>> {
        reader_builder(self.delim, self.headerless).from_reader(self.body.from(0))
    }

    /// The next record of `rdr` into `rec` (`false` after the last), its
    /// end handed to the reader's [`LineGuard`].
    fn next_record<R: Read>(
        &self,
        rdr: &mut ::csv::Reader<LineGuard<R>>,
        rec: &mut ::csv::ByteRecord,
    ) -> Result<bool> {
        let more = rdr.read_byte_record(rec).map_err(|e| self.csv_error(e))?;
        let at = rdr.position().byte();
        rdr.get_mut().record_ends_at(at);
        Ok(more)
    }

    /// The 1-based file line of the record at `pos`.
    fn line(&self, pos: Option<&::csv::Position>) -> u64 {
        pos.map_or(0, |p| self.record_at(p.byte()).line)
    }

    /// The 1-based file line of the record whose reader position is byte
    /// `at` of the text, the start of its text and the blank lines before
    /// it. The csv crate puts a record's position before the line ends and
    /// blank lines that precede it (with CRLF, before the `\n`), so skip
    /// those and count the line ends before the record itself. Linear in the
    /// file size, through a small buffer: called only to report an error.
    fn record_at(&self, at: u64) -> RecordAt {
        let mut rdr = self.body.from(0);
        let mut buf = vec![0u8; 1 << 16];
        let (mut seen, mut newlines, mut ends) = (0u64, 0u64, 0u64);
        let mut start = None;
        // The byte just before `at`, and whether the run of line ends from
        // `at` on begins with the `\n` of the previous record's CRLF.
        let mut last = None;
        let mut crlf_half = false;
        while start.is_none() {
            let n = match rdr.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let chunk = &buf[..n];
            // Bytes of this chunk before `at`; the usize cast is within `n`.
            let before = at.saturating_sub(seen).min(n as u64) as usize;
            newlines += chunk[..before].iter().filter(|&&b| b == b'\n').count() as u64;
            if let Some(&b) = chunk[..before].last() {
                last = Some(b);
            }
            for (i, &b) in chunk.iter().enumerate().skip(before) {
                if seen + i as u64 == at {
                    crlf_half = b == b'\n' && last == Some(b'\r');
                }
                match b {
                    b'\n' => ends += 1,
                    b'\r' => {}
                    _ => {
                        start = Some(seen + i as u64);
                        break;
                    }
                }
            }
            seen += n as u64;
        }
        let mut text = Vec::new();
        if let Some(s) = start {
            let _ = self.body.from(s).take(256).read_to_end(&mut text);
        }
        RecordAt {
            line: self.skipped_lines + newlines + ends + 1,
            text,
            blank: ends - u64::from(crlf_half),
        }
    }

    fn csv_error(&self, e: ::csv::Error) -> Error {
        if let ::csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } = e.kind()
        {
            let row = self.line(pos.as_ref());
            return Error::malformed(
                self.path,
                format!("row {row}: {len} field(s), but the header has {expected_len}"),
            );
        }
        let msg = e.to_string();
        match e.into_kind() {
            ::csv::ErrorKind::Io(io) => {
                if let Some(long) = io.get_ref().and_then(|x| x.downcast_ref::<LineTooLong>()) {
                    let r = self.record_at(long.at);
                    return long_line(self.path, r.line, &r.text, r.blank);
                }
                Error::Io {
                    path: self.path.to_path_buf(),
                    source: io,
                }
            }
            _ => Error::malformed(self.path, format!("cannot read as CSV: {msg}")),
        }
    }

    /// Data row `idx` (0-based) and its file line, found by re-reading: only
    /// needed on the error path, so no line table is kept for every row.
    fn row(&self, idx: usize) -> Option<(u64, ::csv::ByteRecord)> {
        let mut rdr = self.reader();
        let mut rec = ::csv::ByteRecord::new();
        let mut i = 0usize;
        while let Ok(true) = rdr.read_byte_record(&mut rec) {
            if i == idx {
                return Some((self.line(rec.position()), rec));
            }
            i += 1;
        }
        None
    }

    /// File line of data row `idx` (0-based; see [`Ctx::row`]).
    fn line_of_row(&self, idx: usize) -> u64 {
        self.row(idx).map_or(0, |(line, _)| line)
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

/// Refuse a table of more than [`MAX_CHANNELS`] columns.
fn check_column_count(path: &Path, n: usize) -> Result<()> {
    if n as u64 > MAX_CHANNELS {
        return Err(Error::Limit {
            path: path.to_path_buf(),
            what: "number of CSV columns".into(),
            value: n as u64,
            limit: MAX_CHANNELS,
        });
    }
    Ok(())
}

/// Refuse a cell longer than [`MAX_CELL_BYTES`]; `place` names it
/// (`row 5, column "emg"`) for the message.
fn check_cell_length(path: &Path, cell: &[u8], place: impl Fn() -> String) -> Result<()> {
    if cell.len() > MAX_CELL_BYTES {
        return Err(Error::malformed(
            path,
            format!(
                "{}: a cell of {} bytes, longer than the {MAX_CELL_BYTES} the CSV reader \
                 accepts: {}",
                place(),
                cell.len(),
                excerpt(cell)
            ),
        ));
    }
    Ok(())
}

fn parse_header(path: &Path, headers: &::csv::ByteRecord) -> Result<Vec<Column>> {
    check_column_count(path, headers.len())?;
    let mut columns = Vec::with_capacity(headers.len());
    for (i, raw) in headers.iter().enumerate() {
        check_cell_length(path, raw, || format!("column {} of the header", i + 1))?;
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
                    "column {} is a trigger column, which a sweeps file cannot have",
                    c.quoted()
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
fn presize(table: &mut Table, read: u64, total: u64) {
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

/// Read a wide table's data rows into a [`Table`], each cell by its sink
/// (see [`Sink`]); the decoded channels' buffers are sized for the whole
/// file after the first [`PRESIZE_AFTER_ROWS`] rows.
fn read_rows<R: Read>(
    ctx: &Ctx<'_>,
    rdr: &mut ::csv::Reader<LineGuard<R>>,
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
    let mut time = TimeCells::new();
    while ctx.next_record(rdr, &mut rec)? {
        check_row_limit(ctx.path, table.rows as u64)?;
        read_row(ctx, columns, sinks, &rec, &mut time, &mut table)?;
        table.rows += 1;
        if table.rows == PRESIZE_AFTER_ROWS {
            presize(&mut table, rdr.position().byte(), ctx.body.total_bytes());
        }
    }
    if table.rows == 0 {
        return Err(Error::malformed(ctx.path, "no data rows"));
    }
    time.finish(&mut table);
    Ok(table)
}

/// One data row of a wide table into `table`, cell by cell in column order.
fn read_row(
    ctx: &Ctx<'_>,
    columns: &[Column],
    sinks: &[Sink],
    rec: &::csv::ByteRecord,
    time: &mut TimeCells,
    table: &mut Table,
) -> Result<()> {
    // Computed only when a message needs it (it scans the file).
    let line = || ctx.line(rec.position());
    for (col, (sink, field)) in sinks.iter().zip(rec.iter()).enumerate() {
        let cell_err = |what: String| cell_error(ctx.path, line(), &columns[col].name, &what);
        if field.len() > MAX_CELL_BYTES {
            return Err(long_cell(ctx.path, line(), &columns[col].name, field));
        }
        match *sink {
            Sink::Skip => {}
            Sink::MustBeEmpty => check_unnamed_cell(ctx.path, field, col, line)?,
            Sink::Time => {
                let t = time.read(ctx, (table.rows, col), &columns[col], field, line, cell_err)?;
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
    Ok(())
}

/// The time cells of a wide table as they come: the last time, which the
/// next must exceed, and the finest resolution they are printed with.
struct TimeCells {
    prev: Option<f64>,
    /// Finest resolution exponent of the time cells the fast path parsed
    /// (10^k is monotonic in k, so the power is taken once at the end).
    finest: i32,
    /// Finest resolution of the others (raw units).
    res: f64,
}

impl TimeCells {
    /// Before the first row: no time yet, no resolution seen.
    fn new() -> TimeCells {
        TimeCells {
            prev: None,
            finest: i32::MAX,
            res: f64::INFINITY,
        }
    }

    /// Parse time cell `field` of column `col` (the fast path first), which
    /// must be above the previous one; `at` is the data row (0-based) and
    /// the column's index, `line` and `cell_err` make the messages.
    fn read(
        &mut self,
        ctx: &Ctx<'_>,
        at: (usize, usize),
        col: &Column,
        field: &[u8],
        line: impl Fn() -> u64,
        cell_err: impl Fn(String) -> Error,
    ) -> Result<f64> {
        let (t, res) = match fast_decimal(field.trim_ascii(), ctx.decimal_comma) {
            Some((v, k)) => (v, Some(k)),
            None => (
                parse_cell(field, ctx.decimal_comma).map_err(cell_err)?,
                None,
            ),
        };
        if let Some(p) = self.prev {
            if t <= p {
                let (row, ci) = at;
                let prev = (row.saturating_sub(1), p);
                return Err(not_increasing(ctx, col, ci, (line(), t, field), prev, ""));
            }
        }
        self.prev = Some(t);
        match res {
            Some(k) => self.finest = self.finest.min(k),
            None => self.res = self.res.min(cell_resolution(field)),
        }
        Ok(t)
    }

    /// Record the finest resolution in `table`.
    fn finish(self, table: &mut Table) {
        table.time_res = table.time_res.min(self.res);
        if self.finest != i32::MAX {
            table.time_res = table.time_res.min(10f64.powi(self.finest));
        }
    }
}

/// The error of a time that does not rise: `now` is the file line, the
/// time and its cell, `prev` the data row (0-based) and the time before it,
/// in time column `col` (index `ci`); `within` says where (a sweep). Both
/// rows are named; equal times are told apart from decreasing ones, and two
/// cells that differ but read as the same 64-bit number are quoted.
fn not_increasing(
    ctx: &Ctx<'_>,
    col: &Column,
    ci: usize,
    now: (u64, f64, &[u8]),
    prev: (usize, f64),
    within: &str,
) -> Error {
    let (line, t, cell) = now;
    let (prev_row, p) = prev;
    let (prev_line, prev_cell) = match ctx.row(prev_row) {
        Some((l, rec)) => (l, rec.get(ci).map(|c| c.trim_ascii().to_vec())),
        None => (0, None),
    };
    let what = if t < p {
        format!("{t} after {p} on row {prev_line}")
    } else {
        match prev_cell {
            Some(pc) if pc != cell.trim_ascii() => format!(
                "{} and {} on row {prev_line} are the same 64-bit number, {t}",
                excerpt(cell.trim_ascii()),
                excerpt(&pc)
            ),
            _ => format!(
                "{t} again, as on row {prev_line}: are the times printed with too few decimals \
                 for the sample rate?"
            ),
        }
    };
    Error::malformed(
        ctx.path,
        format!(
            "row {line}: time column {} is not strictly increasing{within} ({what})",
            col.quoted()
        ),
    )
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
    let show = || format!("cannot read {} as a number", excerpt(t));
    let s = std::str::from_utf8(t).map_err(|_| show())?;
    let v: f64 = if decimal_comma && s.contains(',') {
        s.replace(',', ".").parse().map_err(|_| show())?
    } else {
        s.parse().map_err(|_| show())?
    };
    if !v.is_finite() {
        return Err(format!("{} is not a finite number", excerpt_str(s)));
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
                 of column {} by more than 1%",
                col.quoted()
            ),
        ));
    }

    let unit = time_unit(col, median);
    let per_s = unit.seconds_per_unit().unwrap_or(1.0);
    if col.spec.unit.is_none() && !accepted_hz(1.0 / median) && !accepted_hz(1e3 / median) {
        return Err(Error::malformed(
            ctx.path,
            format!(
                "time column {} has no unit and its step {median} gives an accepted \
                 sample rate ({}–{} Hz) neither in seconds nor in milliseconds; name the \
                 unit (e.g. time_ms)",
                col.quoted(),
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
                "sample rate {} Hz (from time column {}, step {} {}) is outside \
                 the accepted range {}–{} Hz",
                Shown(hz),
                col.quoted(),
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
    rate: Option<SampleRate>,
    declared: &Declared,
    filter: &ChannelFilter,
    chans: &[&Column],
    table: Table,
) -> Result<Recording> {
    let rate = rate.ok_or_else(|| {
        let why = if declared.rates.len() > 1 {
            " (the header block declares different rates)"
        } else {
            ""
        };
        Error::malformed(path, format!("no time column; give --sample-rate{why}"))
    })?;
    let rows = table.rows;
    let mut notes = Vec::new();
    let mut channels = Vec::with_capacity(chans.len());
    for (index, (c, data)) in chans.iter().zip(table.data).enumerate() {
        let trigger_named = c.spec.kind == ColumnKind::Trigger;
        // A column named for the stimulus is the trigger only when its
        // values look like one; otherwise it is the stimulus intensity.
        let kind = match (&data, trigger_named, c.spec.stimulus_named) {
            (_, false, _) => ChannelKind::Signal,
            (_, true, false) => ChannelKind::Trigger,
            (Some(x), true, true) => match looks_like_trigger(x) {
                Ok(()) => ChannelKind::Trigger,
                Err(why) => {
                    notes.push(ReadNote::info(
                        FlagCode::IntensityColumn,
                        format!(
                            "column {q} is named like the stimulus but {why}, so it is read \
                             as the stimulus intensity, not as the trigger; give \
                             --trigger-channel {q} to take its rising edges as the stimuli",
                            q = c.quoted()
                        ),
                    ));
                    ChannelKind::Intensity
                }
            },
            (None, true, true) => ChannelKind::Trigger,
        };
        let unit = match kind {
            ChannelKind::Signal => c.spec.voltage_label().to_string(),
            ChannelKind::Trigger => String::new(),
            ChannelKind::Intensity => intensity_unit(&c.name).1.to_string(),
        };
        channels.push(Channel {
            index,
            label: c.name.clone(),
            unit,
            kind,
            len: rows,
            sample_rate_hz: None,
            // Columns decoded only because the layout was undecided are dropped here.
            samples: data
                .filter(|_| filter.wants(index) || trigger_named)
                .unwrap_or_default(),
        });
    }
    Ok(Recording {
        path: path.to_path_buf(),
        format: SourceFormat::CsvContinuous,
        sample_rate: rate,
        channels,
        segments: Recording::continuous_segments(rows),
        stimuli: None,
        annotations: Vec::new(),
        notes,
        intensities: None,
        metadata: Vec::new(),
        not_analysable: None,
        storage: None,
        study: Default::default(),
    })
}

/// Whether a column's values look like a trigger line, or why not: pulses
/// or steps, that is (1) not one level only, (2) at most
/// [`TRIGGER_MAX_LEVELS`] distinct values of which one (the rest) holds at
/// least half the rows, or else 99 % of the values within 10 % of the range
/// from its lowest or highest value (two levels with noise), and (3) at least
/// one rising edge, from below 30 % of the range to above 70 %. A constant
/// intensity, a staircase of intensities, a ramp or noise fails (1) or (2).
pub fn looks_like_trigger(x: &[f32]) -> std::result::Result<(), String> {
    let (lo, hi) = x
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    if x.is_empty() || hi.is_nan() || lo.is_nan() || hi <= lo {
        return Err(match x.first() {
            Some(v) => format!("holds one value ({v}) throughout"),
            None => "holds no value".into(),
        });
    }
    let range = f64::from(hi) - f64::from(lo);
    // Distinct values with their counts, while there are few.
    let mut levels: Vec<(u32, usize)> = Vec::new();
    let mut few = true;
    let mut near = 0usize;
    for &v in x {
        if few {
            let n = levels.len();
            match levels.iter_mut().find(|l| l.0 == v.to_bits()) {
                Some(l) => l.1 += 1,
                None if n == TRIGGER_MAX_LEVELS => few = false,
                None => levels.push((v.to_bits(), 1)),
            }
        }
        let d = f64::from(v) - f64::from(lo);
        if d <= 0.1 * range || d >= 0.9 * range {
            near += 1;
        }
    }
    if few {
        // A line of few levels rests at one of them most of the time.
        let rest = levels.iter().map(|l| l.1).max().unwrap_or(0);
        if (rest as f64) < 0.5 * x.len() as f64 {
            return Err(format!(
                "it steps between {} levels without resting at one (the most common holds {:.0} % of the rows)",
                levels.len(),
                100.0 * rest as f64 / x.len() as f64
            ));
        }
    } else if (near as f64) < 0.99 * x.len() as f64 {
        return Err(format!(
            "its values are no pulses or steps (more than {TRIGGER_MAX_LEVELS} levels, and {:.0} % \
             of them away from its lowest and highest values)",
            100.0 * (1.0 - near as f64 / x.len() as f64)
        ));
    }
    let (low, high) = (f64::from(lo) + 0.3 * range, f64::from(lo) + 0.7 * range);
    let mut armed = f64::from(x[0]) < low;
    for &v in x {
        let v = f64::from(v);
        if v < low {
            armed = true;
        } else if v > high && armed {
            return Ok(());
        }
    }
    Err("it never rises from its low to its high level".into())
}

/// The most distinct values a trigger line of few levels may hold (a marker
/// channel's codes).
pub const TRIGGER_MAX_LEVELS: usize = 16;

/// Build a sweeps recording: the sweep columns joined end to end in one
/// channel `sweeps`, one segment per sweep, the stimulus at time 0 of each.
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
                "sweep columns must share one unit: {} is in {unit}, {} in {}",
                chans[0].quoted(),
                other.quoted(),
                other.spec.voltage_label()
            ),
        ));
    }

    let l = table.rows;
    let k = chans.len();
    check_concatenated(path, l, k)?;
    let i0 = stimulus_row(path, &table.steps, &timing, &columns[tc])?;

    let samples = if filter.wants(0) {
        let mut all = Vec::with_capacity(l * k);
        for d in table.data.into_iter().flatten() {
            all.extend_from_slice(&d);
        }
        all
    } else {
        Vec::new()
    };
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
        segments: sweep_segments(k, l, timing.rate),
        stimuli: Some(sweep_stimuli(k, l, i0)),
        annotations: Vec::new(),
        notes: Vec::new(),
        intensities: None,
        metadata: Vec::new(),
        not_analysable: None,
        storage: None,
        study: Default::default(),
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
        // A `stim` column of sine values is the stimulus intensity, still continuous.
        let rec = read(&continuous("time_s,emg,stim", 100, 10_000.0, 1.0, 2)).unwrap();
        assert_eq!(rec.format, SourceFormat::CsvContinuous);
        assert_eq!(rec.channels[1].kind, ChannelKind::Intensity);
        let rec = read(&continuous("time_s,emg,trigger", 100, 10_000.0, 1.0, 2)).unwrap();
        assert_eq!(rec.format, SourceFormat::CsvContinuous);
        assert_eq!(rec.channels[1].kind, ChannelKind::Trigger);
    }

    /// `rows` rows at 10 kHz of `time_s,emg_mV,<name>` with `col(i)` in the last column.
    fn with_column(name: &str, rows: usize, col: impl Fn(usize) -> f64) -> String {
        let mut s = format!("time_s,emg_mV,{name}\n");
        for i in 0..rows {
            let _ = writeln!(
                s,
                "{:.4},{:.4},{}",
                i as f64 * 1e-4,
                (i as f64 * 0.37).sin(),
                col(i)
            );
        }
        s
    }

    #[test]
    fn stimulus_columns_are_triggers_only_when_they_look_like_one() {
        let kind = |name: &str, col: &dyn Fn(usize) -> f64| {
            let rec = read(&with_column(name, 3000, col)).unwrap();
            let notes: Vec<FlagCode> = rec.notes.iter().map(|n| n.code).collect();
            (rec.channels[1].kind, notes, rec)
        };
        // Pulses, clean or recorded with noise, and marker codes: triggers.
        let pulses = |i: usize| if i % 1000 < 5 { 5.0 } else { 0.0 };
        assert_eq!(kind("stimulus_V", &pulses).0, ChannelKind::Trigger);
        let noisy = |i: usize| pulses(i) + 0.01 * ((i * 7919) % 13) as f64 / 13.0;
        assert_eq!(kind("stim", &noisy).0, ChannelKind::Trigger);
        let codes = |i: usize| {
            if i % 1000 < 5 {
                (1 + i / 1000) as f64
            } else {
                0.0
            }
        };
        assert_eq!(kind("Stim code", &codes).0, ChannelKind::Trigger);
        // A constant intensity, a staircase of intensities, noise: intensities.
        let (k, notes, rec) = kind("stimulus_V", &|_| 0.5);
        assert_eq!(k, ChannelKind::Intensity);
        assert_eq!(notes, vec![FlagCode::IntensityColumn]);
        assert_eq!(rec.notes[0].severity, crate::vocab::Severity::Info);
        assert!(
            rec.notes[0].message.contains("holds one value (0.5)"),
            "{}",
            rec.notes[0].message
        );
        assert_eq!(rec.channels[1].unit, "V");
        assert_eq!(rec.stimulus_intensity(1200), Some((0.5, "V")));
        let stairs = |i: usize| 0.3 + 0.05 * (i / 300) as f64;
        assert_eq!(kind("current_mA", &stairs).0, ChannelKind::Intensity);
        assert_eq!(kind("current_mA", &stairs).2.channels[1].unit, "mA");
        let garbage = |i: usize| ((i * 2_654_435_761) % 1000) as f64 / 1000.0;
        assert_eq!(kind("Intensity (%)", &garbage).0, ChannelKind::Intensity);
        // Named as a trigger line: a trigger whatever its values.
        assert_eq!(kind("trigger", &|_| 0.5).0, ChannelKind::Trigger);
        // The default EMG is the first value column, after an intensity column.
        let mut text = String::from("time_s,stimulus_V,emg_mV\n");
        for i in 0..100 {
            let _ = writeln!(text, "{:.4},0.5,{}", i as f64 * 1e-4, i);
        }
        let rec = read(&text).unwrap();
        assert_eq!(rec.default_emg_channel(), 1);
        let opts = ReadOptions {
            channels: ChannelFilter::Select {
                emg: None,
                others: vec![],
            },
            ..ReadOptions::default()
        };
        let rec = read_with(&text, &opts).unwrap();
        assert!(rec.channels[1].is_loaded());
    }

    /// The same 4 sweeps of 30 samples (10 kHz, from −1 ms) as a wide sweeps
    /// text and as a MonStim long table (channel 1, intensity per sweep).
    fn wide_and_long() -> (String, String) {
        let v = |k: usize, i: usize| ((k * 31 + i * 7) % 97) as f64 / 97.0 - 0.5;
        let t = |i: usize| (i as f64 - 10.0) * 0.1;
        let mut wide = String::from("time_ms,sweep1,sweep2,sweep3,sweep4\n");
        for i in 0..30 {
            let _ = write!(wide, "{:.6}", t(i));
            for k in 0..4 {
                let _ = write!(wide, ",{:.6}", v(k, i));
            }
            wide.push('\n');
        }
        let mut long =
            String::from("recording_index,channel_index,stimulus_V,time_point,amplitude_mV\n");
        for k in 0..4 {
            for i in 0..30 {
                let _ = writeln!(
                    long,
                    "{k},1,{},{},{:.6}",
                    0.3 + 0.1 * k as f64,
                    t(i) + 1e-14,
                    v(k, i)
                );
            }
        }
        (wide, long)
    }

    fn same_sweeps(a: &Recording, b: &Recording) {
        assert_eq!(a.sample_rate.hz(), b.sample_rate.hz());
        assert_eq!(a.format, b.format);
        assert_eq!(a.channels[0].samples, b.channels[0].samples);
        assert_eq!(a.segments, b.segments);
        assert_eq!(a.stimuli, b.stimuli);
    }

    #[test]
    fn long_tables_read_as_the_same_sweeps() {
        let (wide, long) = wide_and_long();
        let w = read(&wide).unwrap();
        let l = read(&long).unwrap();
        same_sweeps(&w, &l);
        assert_eq!(l.channels[0].label, "ch1");
        assert_eq!(l.notes[0].code, FlagCode::UnitAssumed);
        assert_eq!(l.notes[1].code, FlagCode::LayoutGuessed);
        let int = l.intensities.as_ref().unwrap();
        assert_eq!((int.label.as_str(), int.unit.as_str()), ("stimulus_V", "V"));
        assert_eq!(int.values.len(), 4);
        assert!((int.values[2] - 0.5).abs() < 1e-12);
        // The sweep holding a sample gives its intensity.
        assert!((l.stimulus_intensity(2 * 30 + 10).unwrap().0 - 0.5).abs() < 1e-12);
        // A header block above it changes nothing but the metadata and a note.
        let blocked = format!("Subject,M12\nExported by,MonStim Analyzer\n\n{long}");
        let b = read(&blocked).unwrap();
        same_sweeps(&w, &b);
        assert_eq!(b.metadata.len(), 2);
        assert_eq!(b.metadata[1].value, "MonStim Analyzer");
        assert_eq!(b.notes[0].code, FlagCode::HeaderBlock);
        assert!(
            b.notes[0].message.contains("lines 1–2"),
            "{}",
            b.notes[0].message
        );
        // From a file, streamed, the same.
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("long.csv");
        std::fs::write(&f, &blocked).unwrap();
        same_sweeps(&w, &read_csv_file(&f, &ReadOptions::default()).unwrap());
        // Forced continuous: the rows are one recording, whose time goes back.
        let opts = ReadOptions {
            layout: CsvLayout::Continuous,
            ..ReadOptions::default()
        };
        let e = read_with(&long, &opts).unwrap_err().to_string();
        assert!(e.contains("not strictly increasing"), "{e}");
    }

    #[test]
    fn long_tables_with_several_channels_in_any_row_order() {
        // Two channels (0 and 2), 3 sweeps of 20 samples; rows interleaved by time.
        let v = |c: usize, k: usize, i: usize| (c * 100 + k * 20 + i) as f64;
        let mut long = String::from("sweep,time_ms,channel,emg_uV\n");
        for k in 0..3 {
            for i in 0..20 {
                for c in [2, 0] {
                    let _ = writeln!(long, "{k},{},{c},{}", i as f64 * 0.1, v(c, k, i));
                }
            }
        }
        let rec = read(&long).unwrap();
        let labels: Vec<&str> = rec.channels.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels, ["ch0", "ch2"]);
        assert_eq!(rec.channels[1].unit, "uV");
        assert_eq!(rec.channels[1].samples[20], (v(2, 1, 0) * 1e-3) as f32);
        assert_eq!(rec.stimuli.as_ref().unwrap().samples, vec![0, 20, 40]);
        // Select by label: only that channel is kept.
        let opts = ReadOptions {
            channels: ChannelFilter::Select {
                emg: Some("ch2".into()),
                others: vec![],
            },
            ..ReadOptions::default()
        };
        let rec = read_with(&long, &opts).unwrap();
        assert!(!rec.channels[0].is_loaded() && rec.channels[1].is_loaded());
        // Wide in channels: no channel column, one channel per value column.
        let mut text = String::from("trial,t_ms,APB,ADM\n");
        for k in 0..2 {
            for i in 0..20 {
                let _ = writeln!(text, "{k},{},{},{}", i as f64 * 0.05, i, -(i as f64));
            }
        }
        let rec = read(&text).unwrap();
        assert_eq!(rec.sample_rate.hz(), 20_000.0);
        assert_eq!(rec.channels.len(), 2);
        assert_eq!(rec.channels[1].label, "ADM");
        assert_eq!(rec.channels[1].samples[21], -1.0);
    }

    #[test]
    fn broken_long_tables_name_the_problem() {
        let (_, long) = wide_and_long();
        // One sweep short.
        let lines: Vec<&str> = long.lines().collect();
        let mut cut: Vec<&str> = lines.clone();
        cut.remove(60);
        let e = err(&(cut.join("\n") + "\n"));
        assert!(
            e.contains(
                "sweep 1 (column \"recording_index\") has 29 row(s) for channel 1 (column \
                 \"channel_index\"), the first sweep has 30"
            ),
            "{e}"
        );
        // Sweeps out of order.
        let e = err(&format!("{long}{}\n", lines[1]));
        assert!(
            e.contains("row 122: column \"recording_index\" goes back from 3 to 0"),
            "{e}"
        );
        // Missing columns.
        let e = err("recording_index,channel_index,amplitude_mV\n0,1,0.5\n0,1,0.6\n");
        assert!(
            e.contains("without a time column") && e.contains("--layout continuous"),
            "{e}"
        );
        let e = err("recording_index,time_ms,stimulus_V\n0,0,0.5\n0,0.1,0.5\n");
        assert!(e.contains("without a value column"), "{e}");
        // A sweep number that is no whole number.
        let e = err("sweep,time_ms,emg\n0,0,1\n0.5,0.1,1\n");
        assert!(
            e.contains("row 3, column \"sweep\": 0.5 is not a whole number"),
            "{e}"
        );
        // A channel the first sweep does not have.
        let e = err("sweep,time_ms,channel,emg\n0,0,0,1\n0,0.1,0,1\n1,0,0,1\n1,0,5,1\n");
        assert!(
            e.contains("channel 5 (column \"channel\") is not in the first sweep"),
            "{e}"
        );
        // Other time points in a later sweep.
        let e = err("sweep,time_ms,emg\n0,0,1\n0,0.1,1\n1,0,1\n1,0.2,1\n");
        assert!(
            e.contains("row 5: time 0.2 in sweep 1 (column \"sweep\") does not match"),
            "{e}"
        );
        // Two value columns beside a channel column.
        let e = err("sweep,channel,time_ms,a,b\n0,0,0,1,2\n");
        assert!(e.contains("needs one value column, found 2"), "{e}");
    }

    #[test]
    fn headerless_matrices_read_as_with_a_header() {
        let with = continuous("time,col2,col3", 3000, 10_000.0, 1.0, 2);
        let without: String = with.lines().skip(1).map(|l| format!("{l}\n")).collect();
        let a = read(&with).unwrap();
        let b = read(&without).unwrap();
        assert_eq!(a.format, b.format);
        assert_eq!(a.sample_rate.hz(), b.sample_rate.hz());
        assert_eq!(a.channels[1].samples, b.channels[1].samples);
        assert_eq!(b.channels[0].label, "col2");
        assert_eq!(b.notes[0].code, FlagCode::LayoutGuessed);
        assert!(
            b.notes[0].message.contains("column 1 rises regularly"),
            "{}",
            b.notes[0].message
        );
        // Errors count the first line as row 1.
        let e = err("0.0,1\n0.0001,2\n0.0002,x\n");
        assert!(e.contains("row 3, column \"col2\""), "{e}");
        // No regular first column: values only, rate from the options.
        let opts = ReadOptions {
            sample_rate: SampleRate::new(5000.0),
            ..ReadOptions::default()
        };
        let rec = read_with("3,1\n1,2\n2,3\n", &opts).unwrap();
        assert_eq!(rec.channels.len(), 2);
        assert_eq!(rec.channels[0].label, "col1");
        assert_eq!(rec.channels[0].samples, vec![3.0, 1.0, 2.0]);
        assert!(err("3,1\n1,2\n2,3\n").contains("no time column; give --sample-rate"));
    }

    #[test]
    fn header_blocks_are_kept_and_their_rate_and_unit_used() {
        let mut table = String::from("emg\n");
        for i in 0..100 {
            let _ = writeln!(table, "{i}");
        }
        let text = format!("Sampling rate (kHz),10\nUnits,uV\nSubject: anon\n{table}");
        let rec = read(&text).unwrap();
        assert_eq!(rec.sample_rate.hz(), 10_000.0);
        assert_eq!(rec.channels[0].unit, "uV");
        assert_eq!(rec.channels[0].samples[50], 0.05);
        assert_eq!(rec.metadata.len(), 3);
        assert_eq!(rec.metadata[2].key, "Subject");
        assert_eq!(rec.metadata[2].value, "anon");
        let m = &rec.notes[0].message;
        assert!(
            m.contains("declared sample rate (10000 Hz") && m.contains("unit uV"),
            "{m}"
        );
        // The options' rate wins over the block's, a time column over both.
        let opts = ReadOptions {
            sample_rate: SampleRate::new(4000.0),
            ..ReadOptions::default()
        };
        assert_eq!(read_with(&text, &opts).unwrap().sample_rate.hz(), 4000.0);
        let timed = format!(
            "fs,20000\n{}",
            continuous("time_s,emg", 200, 10_000.0, 1.0, 1)
        );
        let rec = read(&timed).unwrap();
        assert_eq!(rec.sample_rate.hz(), 10_000.0);
        assert!(
            rec.notes[0].message.contains("the table gives 10000 Hz"),
            "{}",
            rec.notes[0].message
        );
        // Rates that disagree: none used.
        let e = err(&format!("Sample rate,10000\nfs,20000\n{table}"));
        assert!(
            e.contains(
                "no time column; give --sample-rate (the header block declares different rates)"
            ),
            "{e}"
        );
        // A block and no table.
        let e = err("Subject,M12\nDate,2024-01-01\nSampling rate,10000\n");
        assert!(
            e.contains("no table: the file holds only key,value lines"),
            "{e}"
        );
        // Not a block: a units row (as many cells as the header), or a data
        // row with a bad first cell.
        let e = err("time_ms,a,b\nms,mV,mV\n0,1,2\n0.1,1,2\n");
        assert!(e.contains("row 2"), "{e}");
        let e = err("time_s,emg\n0.1,n/a\n0.2,1\n");
        assert!(e.contains("row 2, column \"emg\""), "{e}");
    }

    #[test]
    fn short_files_are_sweeps_only_by_a_documented_rule() {
        // 20 ms: sweeps, with the note.
        let rec = read(&continuous(
            "time_ms,apb_mV,adm_mV",
            400,
            20_000.0,
            1000.0,
            2,
        ))
        .unwrap();
        assert_eq!(rec.format, SourceFormat::CsvSweeps);
        assert_eq!(rec.notes[0].code, FlagCode::LayoutGuessed);
        assert!(
            rec.notes[0].message.contains("under 100 ms"),
            "{}",
            rec.notes[0].message
        );
        // 0.45 s from 0, six muscles: one continuous recording, with the note.
        let text = continuous(
            "time_s,APB_mV,ADM_mV,FDI_mV,BB_mV,TA_mV,SOL_mV",
            4500,
            10_000.0,
            1.0,
            6,
        );
        let rec = read(&text).unwrap();
        assert_eq!(rec.format, SourceFormat::CsvContinuous);
        assert_eq!(rec.channels.len(), 6);
        assert!(
            rec.notes[0].message.contains("--layout sweeps"),
            "{}",
            rec.notes[0].message
        );
        // 0.3 s from −5 ms (pre-stimulus samples): sweeps.
        let mut text = String::from("time_ms,a,b\n");
        for i in 0..3000 {
            let _ = writeln!(text, "{:.3},1,2", i as f64 * 0.1 - 5.0);
        }
        assert_eq!(read(&text).unwrap().format, SourceFormat::CsvSweeps);
        // From 1 s on, continuous without a note.
        let rec = read(&continuous(
            "time_ms,apb_mV,adm_mV",
            15_000,
            10_000.0,
            1000.0,
            2,
        ))
        .unwrap();
        assert!(rec.notes.is_empty());
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
        // A lone stim column of zeros is no trigger (no rising edge).
        assert_eq!(rec.channels[0].kind, ChannelKind::Intensity);
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

    /// `text` read from memory and from a file: the same outcome, whose
    /// message (when it fails) is returned.
    fn both_ways(text: &[u8]) -> std::result::Result<Recording, String> {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("test.csv");
        std::fs::write(&f, text).unwrap();
        let from_memory = read_csv(&f, text, &ReadOptions::default());
        let from_file = read_csv_file(&f, &ReadOptions::default());
        match (from_memory, from_file) {
            (Err(a), Err(b)) => {
                assert_eq!(a.to_string(), b.to_string());
                Err(a.to_string())
            }
            (Ok(a), Ok(b)) => {
                assert_eq!(a.channels.len(), b.channels.len());
                Ok(a)
            }
            (a, b) => panic!("memory {:?} file {:?}", a.err(), b.err()),
        }
    }

    /// Rows of a 10 kHz table of one value column.
    fn rows(from: usize, to: usize) -> String {
        (from..to).fold(String::new(), |mut s, i| {
            let _ = writeln!(s, "{:.4},0.0", i as f64 / 10_000.0);
            s
        })
    }

    #[test]
    fn a_long_header_line_is_refused_before_it_is_buffered() {
        // A 20 MB header line: refused from the first 2 MiB, quickly, in one
        // short line that names the line.
        let mut text = format!("time_s,emg_{}\n", "a".repeat(20_000_000)).into_bytes();
        text.extend_from_slice(rows(0, 100).as_bytes());
        let start = std::time::Instant::now();
        let e = both_ways(&text).unwrap_err();
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
        assert!(
            e.contains("line 1 is longer than 1048576 bytes, the longest the CSV reader accepts"),
            "{e}"
        );
        assert!(e.len() < 200, "{} bytes: {e}", e.len());
        // An endless line (or /dev/zero read as text) costs no more than the
        // limit: the read-ahead stops there.
        let mut endless = std::io::repeat(b'7');
        let io = |e: std::io::Error| Error::Io {
            path: p(),
            source: e,
        };
        let e = read_head(&p(), &mut endless, io).err().unwrap().to_string();
        assert!(e.contains("line 1 is longer than"), "{e}");
        // Comment lines before the header: line numbers count them.
        let mut text = b"# exported\n\n".to_vec();
        text.extend_from_slice(format!("time_s,{}\n", "b".repeat(MAX_LINE_BYTES)).as_bytes());
        let e = both_ways(&text).unwrap_err();
        assert!(e.contains("line 3 is longer than"), "{e}");
        // A preamble that never ends in a table.
        let preamble = "# a comment line of a sensible length\n".repeat(MAX_HEAD_BYTES / 30);
        let e = both_ways(preamble.as_bytes()).unwrap_err();
        assert!(
            e.contains("no table starts within the first 4194304 bytes"),
            "{e}"
        );
    }

    #[test]
    fn a_long_row_or_cell_is_refused_naming_its_row() {
        // A 5 MB cell past the read-ahead: refused by the line guard, with
        // the row's file line and a short excerpt.
        let mut text = format!("time_s,emg_mV\n{}", rows(0, 30_000)).into_bytes();
        text.extend_from_slice(format!("3.0000,{}\n", "1".repeat(5_000_000)).as_bytes());
        text.extend_from_slice(rows(30_001, 30_010).as_bytes());
        let e = both_ways(&text).unwrap_err();
        assert!(
            e.contains("line 30002 is longer than 1048576 bytes") && e.contains("\"3.0000,111"),
            "{e}"
        );
        assert!(e.len() < 200, "{e}");
        // The same within the read-ahead (the first rows).
        let mut text = format!("time_s,emg_mV\n{}", rows(0, 10)).into_bytes();
        text.extend_from_slice(format!("0.0010,{}\n", "1".repeat(5_000_000)).as_bytes());
        let e = both_ways(&text).unwrap_err();
        assert!(e.contains("line 12 is longer than"), "{e}");
        // A quoted cell of short lines that goes on past the limit: the
        // record, not each line, is bounded.
        let mut text = format!("time_s,emg_mV\n{}", rows(0, 30_000)).into_bytes();
        text.extend_from_slice(b"3.0000,\"");
        text.extend(std::iter::repeat_n(b"12345\n", 400_000).flatten());
        text.extend_from_slice(b"\"\n");
        let e = both_ways(&text).unwrap_err();
        assert!(e.contains("line 30002 is longer than"), "{e}");
        // A million blank lines between rows count as one long line.
        let mut text = format!("time_s,emg_mV\n{}", rows(0, 30_000)).into_bytes();
        text.extend(std::iter::repeat_n(b'\n', 1_100_000));
        text.extend_from_slice(rows(30_000, 30_010).as_bytes());
        let e = both_ways(&text).unwrap_err();
        assert!(
            e.contains(
                "line 1130002 is longer than 1048576 bytes, with the 1100000 blank lines before it"
            ) && e.contains("(it starts \"3.0000,0.0\\n3.0001"),
            "{e}"
        );
        // The same with CRLF line ends.
        let crlf = |t: &str| t.replace('\n', "\r\n");
        let mut text = crlf(&format!("time_s,emg_mV\n{}", rows(0, 30_000))).into_bytes();
        text.extend(std::iter::repeat_n(&b"\r\n"[..], 600_000).flatten());
        text.extend_from_slice(crlf(&rows(30_000, 30_010)).as_bytes());
        let e = both_ways(&text).unwrap_err();
        assert!(
            e.contains("line 630002 is longer than 1048576 bytes, with the 600000 blank lines"),
            "{e}"
        );
        // A 2 KB cell: refused as a cell, naming row and column.
        let text = format!("time_s,emg_mV\n{}0.0003,{}\n", rows(0, 3), "9".repeat(2000));
        let e = both_ways(text.as_bytes()).unwrap_err();
        assert!(
            e.contains(
                "row 5, column \"emg_mV\": a cell of 2000 bytes, longer than the 1024 the CSV \
                 reader accepts: \"9999999999999999999999999999999999999999\"…"
            ),
            "{e}"
        );
        // The same in a long table, and in a skipped column.
        let text = format!(
            "sweep,time_ms,emg_mV\n0,0.0,0\n0,0.1,{}\n0,0.2,0\n",
            "9".repeat(1500)
        );
        let e = both_ways(text.as_bytes()).unwrap_err();
        assert!(
            e.contains("row 3, column \"emg_mV\": a cell of 1500 bytes"),
            "{e}"
        );
        // A column name: refused in the header.
        let text = format!("time_s,{}\n{}", "n".repeat(1025), rows(0, 3));
        let e = both_ways(text.as_bytes()).unwrap_err();
        assert!(
            e.contains("column 2 of the header: a cell of 1025 bytes"),
            "{e}"
        );
    }

    #[test]
    fn the_longest_lines_the_limits_allow_are_read() {
        // 256 columns with names of 1000 bytes: a 256 KB header line, read.
        let names: Vec<String> = (0..255)
            .map(|c| format!("emg{c:03}_{}", "x".repeat(994)))
            .collect();
        let mut text = format!("time_s,{}\n", names.join(","));
        // 0.12 s: continuous (a shorter span would be read as sweeps).
        for i in 0..1200 {
            let _ = write!(text, "{:.4}", i as f64 / 10_000.0);
            for _ in 0..255 {
                text.push_str(",0.5");
            }
            text.push('\n');
        }
        assert!(text.lines().next().unwrap().len() > 250_000);
        let rec = both_ways(text.as_bytes()).unwrap();
        assert_eq!(rec.channels.len(), 255);
        // A 1024-byte cell (a number with many digits) is read.
        let long = format!("0.{}", "5".repeat(1022));
        let text = format!("time_s,emg_mV\n{}0.0003,{long}\n", rows(0, 3));
        let rec = both_ways(text.as_bytes()).unwrap();
        assert!((rec.channels[0].samples[3] - 0.555_555_6).abs() < 1e-6);
    }

    #[test]
    fn utf16_and_nul_bytes_are_named_not_quoted() {
        let text = format!("time_s,emg_mV\n{}", rows(0, 20));
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let e = both_ways(&le).unwrap_err();
        assert!(
            e.ends_with(
                "the file is not UTF-8 text: it looks like UTF-16 (little-endian: every other \
                 byte is 0); save it as UTF-8"
            ),
            "{e}"
        );
        assert!(!e.contains('\0'));
        let e = both_ways(&be).unwrap_err();
        assert!(e.contains("looks like UTF-16 (big-endian"), "{e}");
        let mut bom = vec![0xFF, 0xFE];
        bom.extend_from_slice(&le);
        let e = both_ways(&bom).unwrap_err();
        assert!(
            e.contains("UTF-16 (little-endian, with a byte-order mark)"),
            "{e}"
        );
        // A NUL byte in an otherwise plain header.
        let e = both_ways(format!("time_s,emg\0mV\n{}", rows(0, 5)).as_bytes()).unwrap_err();
        assert!(
            e.contains("the header line holds NUL bytes") && e.contains("\\0"),
            "{e}"
        );
        // A column name with control characters is quoted escaped.
        let text = format!("time_s,emg\x1b[31m\n{}0.0005,x\n", rows(0, 5));
        let e = both_ways(text.as_bytes()).unwrap_err();
        assert!(
            e.contains("row 7, column \"emg\\u{1b}[31m\": cannot read \"x\" as a number"),
            "{e}"
        );
        assert!(!e.contains('\x1b'));
        // A long one is cut to 40 characters.
        let text = format!("time_s,emg_{}\n{}0.0005,x\n", "é".repeat(400), rows(0, 5));
        let e = both_ways(text.as_bytes()).unwrap_err();
        assert!(
            e.contains(&format!("column \"emg_{}\"…: cannot read", "é".repeat(36))),
            "{e}"
        );
    }

    #[test]
    fn times_that_do_not_rise_name_both_rows() {
        // Decreasing.
        let e = err("time_s,emg\n0.0001,0\n0.0002,0\n0.0001,0\n");
        assert!(
            e.contains(
                "row 4: time column \"time_s\" is not strictly increasing (0.0001 after 0.0002 \
                 on row 3)"
            ),
            "{e}"
        );
        // Equal: printed with too few decimals for the rate.
        let e = err("# export\ntime_s,emg\n0.0001,0\n0.0001,0\n");
        assert!(
            e.contains(
                "row 4: time column \"time_s\" is not strictly increasing (0.0001 again, as on \
                 row 3: are the times printed with too few decimals for the sample rate?)"
            ),
            "{e}"
        );
        // Different cells, the same 64-bit number: the cells are quoted.
        let e = err("time_s,emg\n1.00000000000000001,0\n1.00000000000000002,0\n");
        assert!(
            e.contains(
                "(\"1.00000000000000002\" and \"1.00000000000000001\" on row 2 are the same \
                 64-bit number, 1)"
            ),
            "{e}"
        );
        // Within the first sweep of a long table.
        let e = err("sweep,time_ms,emg_mV\n0,0.0,0\n0,0.1,0\n0,0.1,0\n");
        assert!(
            e.contains(
                "row 4: time column \"time_ms\" is not strictly increasing within sweep 0 \
                 (column \"sweep\") (0.1 again, as on row 3"
            ),
            "{e}"
        );
        // With a channel column, the previous time of the first channel.
        let e = err("sweep,channel,time_ms,emg_mV\n0,1,0.0,0\n0,1,0.2,0\n0,1,0.1,0\n0,2,0.0,0\n");
        assert!(e.contains("(0.1 after 0.2 on row 3)"), "{e}");
    }

    #[test]
    fn a_headerless_table_has_the_column_limit_too() {
        let row = vec!["0.5"; 300].join(",");
        let text = format!("{row}\n{row}\n");
        let e = err(&text);
        assert!(
            e.contains("number of CSV columns (300) exceeds the limit of 256"),
            "{e}"
        );
    }

    #[test]
    fn the_line_guard_stops_an_endless_record() {
        let mut rdr = reader_builder(b',', true).from_reader(LineGuard::new(std::io::repeat(b'1')));
        let mut rec = ::csv::ByteRecord::new();
        let e = rdr.read_byte_record(&mut rec).unwrap_err();
        match e.kind() {
            ::csv::ErrorKind::Io(io) => {
                let long = io.get_ref().and_then(|x| x.downcast_ref::<LineTooLong>());
                assert_eq!(long.map(|l| l.at), Some(0), "{io}");
            }
            k => panic!("{k:?}"),
        }
        assert!(rdr.get_ref().delivered <= MAX_LINE_BYTES as u64 + 4);
    }
}
