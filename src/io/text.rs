//! Vendor text exports: the Synergy text export and ASCII sweeps.
//!
//! Overview: [`sniff`] tells the two apart from a plain CSV by their first
//! bytes; [`read_text_file`] decodes the text (UTF-16 with or without a
//! byte-order mark, UTF-8, else Windows-1252), then reads it as one of:
//!
//! # Synergy text export
//!
//! The text export of Natus/Medelec/Oxford Synergy EMG machines is INI-like:
//! section lines (`[1 - Patient Details]`, or `3 - Trace Data` alone on a
//! line) and `Key=Value` lines. A data key names what it holds, its unit and,
//! in angle brackets, its sample count: `Sweep  Data(mV)<960>=…`,
//! `Averaged Data(uV)<1920>=…`, `LongTrace Data(mV)<96000>=…`; the samples
//! follow the `=`, separated by commas (or, where the export used a decimal
//! comma, by semicolons, tabs, blanks or line breaks), and may continue on
//! the lines after it. The settings of a section apply to the data in it, and
//! settings seen before carry on until another value is given:
//! `Sampling Frequency(kHz)`, `Subsampled(kHz)`, `Sweep Duration(ms)`,
//! `Channel Number`, a pre-stimulus time (`Pre-Trigger(ms)`, `Trigger
//! Delay(ms)`, `Pre-Stimulus(ms)`).
//!
//! - The rate: `[text] rate_hz` or `--sample-rate`, else the stored rate: the
//!   `Subsampled(kHz)` rate when the data were stored subsampled (its sample
//!   count over its `Sweep Duration(ms)` says so, within 2 %), else
//!   `Sampling Frequency(kHz)`.
//! - The responses: every `Sweep`/`Trace` data key is one response (sweep);
//!   when there are none, every `Averaged`/`Store` data key is one; a
//!   `LongTrace` is a continuous recording (stimuli then found in the signal).
//! - The channels: by `Channel Number` (`ch<N>`), each holding its sweeps in
//!   file order; channels must have the same sweeps to make one recording, or
//!   one is chosen with `--channel`.
//! - The stimulus: at the pre-stimulus time of each sweep, else at its first
//!   sample, with the info flag `stimulus_at_sweep_start`.
//! - Every other `Key=Value` is kept as metadata; `Patient ID`, `Gender`/`Sex`,
//!   `Visit Date`/`Test Date` and `Master Anatomy`/`Muscle` fill the study.
//!
//! # ASCII sweeps
//!
//! The text tables EMG machines and acquisition programs write: free header
//! lines, then rows of numbers separated by blanks or tabs (a decimal comma
//! is read as a decimal point). The header lines are read for what they
//! declare (`Sampling rate: 20 kHz`, `Sample interval = 50 us`, `Units: uV`,
//! `Pre-trigger: 5 ms`); the last header line with one name per column, if
//! any, labels the columns, and a first column named as time (`Time (ms)`)
//! or rising strictly and regularly over the rows is the time after the
//! stimulus. Each other column is one sweep (`[text] sweeps_in = "rows"`:
//! each row is one); the sidecar's `[text]` table gives what the header does
//! not (`rate_hz`, `unit`, `pre_stimulus_ms`, `header_lines`).
//!
//! # Limits
//!
//! A text export is read whole: at most [`MAX_TEXT_BYTES`]; its values are
//! bounded by [`MAX_SAMPLES_PER_CHANNEL`](crate::io::MAX_SAMPLES_PER_CHANNEL)
//! per channel and [`MAX_CHANNELS`](crate::io::MAX_CHANNELS) channels or
//! columns; a declared count that the values do not match is an error
//! naming the line.

use crate::error::{excerpt_str, Error, Result};
use crate::io::{assemble, csv::ColumnUnit, open_input, ReadOptions};
use crate::recording::{ChannelKind, MetadataEntry, ReadNote, Recording, SourceFormat};
use crate::study::{IsoDate, Sex};
use crate::units::{SampleRate, Shown};
use crate::vocab::FlagCode;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::Path;

/// The most bytes a text export may hold (a long Synergy export of a
/// 20-kHz minute holds about 10 MB).
pub const MAX_TEXT_BYTES: u64 = 512 << 20;

/// The most metadata lines kept from one export.
const MAX_METADATA: usize = 2000;

/// How rows of an ASCII sweeps table hold the sweeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SweepsIn {
    /// Each column is a sweep (rows are time points): the default.
    #[default]
    Columns,
    /// Each row is a sweep.
    Rows,
}

/// What the sidecar's `[text]` table says of a text export.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextHints {
    /// The sample rate of the stored values, Hz (wins over the export's).
    pub rate_hz: Option<f64>,
    /// The voltage unit of values whose key or header names none.
    pub unit: Option<String>,
    /// Milliseconds of each sweep before the stimulus (wins over the
    /// export's).
    pub pre_stimulus_ms: Option<f64>,
    /// ASCII sweeps: how many lines above the numbers are header lines
    /// (default: every line before the first line of numbers).
    pub header_lines: Option<usize>,
    /// ASCII sweeps: whether columns or rows are the sweeps.
    pub sweeps_in: Option<SweepsIn>,
}

/// Which vendor text export a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// The Synergy INI-like export.
    Synergy,
    /// A table of sweeps below free header lines, separated by blanks.
    AsciiSweeps,
}

/// Which vendor text export a file's first bytes are, if any: a Synergy
/// export when its first line is a section or a `Key=Value` line and it has
/// a section line, a `…Data(mV)<N>=` key or two Synergy keys (`Patient ID=`,
/// `Sampling Frequency(kHz)=`, …); ASCII sweeps when the first line of
/// numbers holds several separated by blanks only (a CSV would use `,`, `;`
/// or a tab; a comma between digits is a decimal comma). Anything else is left
/// to the CSV reader.
pub fn sniff(head: &[u8]) -> Option<TextKind> {
    let text = decode(head).ok()?;
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    // The last line may be cut by the probe's byte limit.
    let whole = &lines[..lines.len().saturating_sub(1).max(1).min(lines.len())];
    let first = whole.first()?;
    let is_section = |l: &str| section_title(l).is_some();
    let kv = whole.iter().filter(|l| key_value(l).is_some()).count();
    let synergy_keys = whole
        .iter()
        .filter(|l| key_value(l).is_some_and(|(k, _)| is_synergy_key(k)))
        .count();
    let marked = whole
        .iter()
        .any(|l| is_section(l) || key_value(l).is_some_and(|(k, _)| data_key(k).is_some()));
    if (is_section(first) || key_value(first).is_some()) && kv >= 1 && (marked || synergy_keys >= 2)
    {
        return Some(TextKind::Synergy);
    }
    let numeric = whole.iter().position(|l| numbers_line(l).is_some())?;
    blank_separated_row(whole[numeric]).then_some(TextKind::AsciiSweeps)
}

/// Read a vendor text export (see the module doc).
///
/// Errors: [`Error::Io`], [`Error::Limit`] above [`MAX_TEXT_BYTES`] or the
/// sample and channel limits, [`Error::Malformed`] for text that is neither
/// export or breaks its rules (each message names the line).
pub fn read_text_file(path: &Path, opts: &ReadOptions) -> Result<Recording> {
    let file = open_input(path)?;
    let io = |e: std::io::Error| Error::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let len = file.metadata().map_err(io)?.len();
    if len > MAX_TEXT_BYTES {
        return Err(Error::Limit {
            path: path.to_path_buf(),
            what: "bytes in a text export".into(),
            value: len,
            limit: MAX_TEXT_BYTES,
        });
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(MAX_TEXT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    read_text(path, &bytes, opts)
}

/// Read a vendor text export from its bytes; `path` is for messages.
pub fn read_text(path: &Path, bytes: &[u8], opts: &ReadOptions) -> Result<Recording> {
    let text = decode(bytes).map_err(|why| Error::malformed(path, why))?;
    let ext_asc = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("asc"));
    match sniff(bytes) {
        Some(TextKind::Synergy) => read_synergy(path, &text, opts),
        Some(TextKind::AsciiSweeps) => read_ascii_sweeps(path, &text, opts),
        None if ext_asc => read_ascii_sweeps(path, &text, opts),
        None => Err(Error::malformed(
            path,
            "neither a Synergy text export nor a table of sweeps",
        )),
    }
}

/// The text of an export: UTF-16 (little- or big-endian, by its byte-order
/// mark or by the NULs of ASCII text), UTF-8 (a byte-order mark skipped),
/// else Windows-1252 as Synergy's ANSI exports are. A NUL in 8-bit text is
/// an error (a binary file).
fn decode(bytes: &[u8]) -> std::result::Result<String, String> {
    let utf16 = |b: &[u8], le: bool| -> std::result::Result<String, String> {
        // Two bytes per unit: an odd count is a file cut inside a character.
        if !b.len().is_multiple_of(2) {
            return Err(format!(
                "UTF-16 text of an odd number of bytes ({}): cut short?",
                bytes.len()
            ));
        }
        let units = b.chunks_exact(2).map(|c| {
            if le {
                u16::from_le_bytes([c[0], c[1]])
            } else {
                u16::from_be_bytes([c[0], c[1]])
            }
        });
        Ok(char::decode_utf16(units)
            .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect())
    };
    if let Some(b) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(b, true);
    }
    if let Some(b) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(b, false);
    }
    let probe = &bytes[..bytes.len().min(512)];
    let zeros = |odd: usize| {
        probe
            .iter()
            .skip(odd)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    let half = probe.len() / 2;
    if half >= 4 && zeros(1) * 10 >= half * 9 && zeros(0) == 0 {
        return utf16(bytes, true);
    }
    if half >= 4 && zeros(0) * 10 >= half * 9 && zeros(1) == 0 {
        return utf16(bytes, false);
    }
    if bytes.contains(&0) {
        return Err("holds NUL bytes: not a text export".into());
    }
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    Ok(match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        Err(_) => b.iter().map(|&c| windows_1252(c)).collect(),
    })
}

/// A Windows-1252 byte as a character (the 0x80–0x9F block as Windows maps
/// it where it matters for names: `€`, quotes, dashes; Latin-1 otherwise).
fn windows_1252(c: u8) -> char {
    match c {
        0x80 => '€',
        0x91 => '‘',
        0x92 => '’',
        0x93 => '“',
        0x94 => '”',
        0x96 => '–',
        0x97 => '—',
        _ => char::from(c),
    }
}

/// The title of a section line: `[1 - Patient Details]`, or `N - Title`
/// alone on a line.
fn section_title(line: &str) -> Option<&str> {
    let l = line.trim();
    if let Some(inner) = l.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        return Some(inner.trim());
    }
    let (num, rest) = l.split_once(" - ")?;
    (!num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()) && !rest.contains('=')).then_some(l)
}

/// A `Key=Value` line's key and value, trimmed; `None` for other lines.
fn key_value(line: &str) -> Option<(&str, &str)> {
    let (k, v) = line.split_once('=')?;
    let k = k.trim();
    (!k.is_empty() && k.chars().any(char::is_alphabetic)).then_some((k, v.trim()))
}

/// A key squashed for matching: lowercase letters and digits only, the unit
/// in parentheses and the count in angle brackets dropped.
fn squash_key(key: &str) -> String {
    let stem = key.split(['(', '<']).next().unwrap_or(key);
    stem.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Whether a key is one of the Synergy settings or patient keys.
fn is_synergy_key(key: &str) -> bool {
    matches!(
        squash_key(key).as_str(),
        "patientid"
            | "visitdate"
            | "masteranatomy"
            | "samplingfrequency"
            | "subsampled"
            | "sweepduration"
            | "traceduration"
            | "channelnumber"
            | "amplifierrange"
    )
}

/// What a data key holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DataKind {
    /// One response (`Sweep Data`, `Trace Data`).
    Sweep,
    /// An average or a stored response (`Averaged Data`, `Store Data`).
    Averaged,
    /// A continuous trace (`LongTrace Data`).
    LongTrace,
}

/// A data key's kind, unit (as written, `""` when none) and declared count.
fn data_key(key: &str) -> Option<(DataKind, String, Option<u64>)> {
    let kind = match squash_key(key).as_str() {
        "sweepdata" | "tracedata" => DataKind::Sweep,
        "averageddata" | "averagedata" | "storedata" => DataKind::Averaged,
        "longtracedata" => DataKind::LongTrace,
        _ => return None,
    };
    let between = |open: char, close: char| {
        let a = key.find(open)?;
        let b = key[a + 1..].find(close)? + a + 1;
        Some(key[a + 1..b].trim().to_string())
    };
    let unit = between('(', ')').unwrap_or_default();
    let count = between('<', '>').and_then(|c| c.parse().ok());
    Some((kind, unit, count))
}

/// The numbers of a line made only of numbers (and separators), or `None`.
/// Separators are `;`, tabs and blanks, with commas as decimal commas;
/// a line with none of those is split at commas.
fn numbers_line(line: &str) -> Option<Vec<f64>> {
    let l = line.trim();
    if l.is_empty() {
        return None;
    }
    parse_numbers(l).filter(|v| !v.is_empty())
}

/// Parse a run of numbers (see [`numbers_line`]); `None` when a token is no
/// finite number.
fn parse_numbers(text: &str) -> Option<Vec<f64>> {
    parse_numbers_as(text, None).map(|(v, _)| v)
}

/// [`parse_numbers`] in a known number format: `Some(true)` decimal commas,
/// `Some(false)` commas as separators, `None` decided by the text itself
/// ([`decimal_commas`]). Returns the numbers and the format when the text
/// settles it (a line of one value such as `2,0` does not).
fn parse_numbers_as(text: &str, mode: Option<bool>) -> Option<(Vec<f64>, Option<bool>)> {
    const BLANKS: [char; 5] = [';', '\t', ' ', '\n', '\r'];
    const ALL: [char; 6] = [',', ';', '\t', ' ', '\n', '\r'];
    let t = text.trim().trim_end_matches([',', ';']);
    let settled = if decimal_commas(t) {
        Some(true)
    } else if t.contains('.') || t.contains(", ") || t.contains([';', '\t', ' ']) {
        Some(false)
    } else {
        None
    };
    let decimal_comma = mode.or(settled).unwrap_or(false);
    let seps: &[char] = if decimal_comma { &BLANKS } else { &ALL };
    let v = t
        .split(seps)
        .filter(|s| !s.is_empty())
        .map(|s| {
            let s = if decimal_comma {
                s.replace(',', ".")
            } else {
                s.to_string()
            };
            s.parse::<f64>().ok().filter(|v| v.is_finite())
        })
        .collect::<Option<Vec<f64>>>()?;
    Some((v, mode.or(settled)))
}

/// Whether the commas of a run of numbers are decimal commas: there is
/// another separator (`;`, a tab, a blank, a line break), no decimal point
/// anywhere, and every comma stands between two digits (`0,25 0,5`).
fn decimal_commas(t: &str) -> bool {
    let b = t.as_bytes();
    t.contains([';', '\t', ' ', '\n', '\r'])
        && !t.contains('.')
        && t.contains(',')
        && b.iter().enumerate().all(|(i, &c)| {
            c != b','
                || (i > 0
                    && i + 1 < b.len()
                    && b[i - 1].is_ascii_digit()
                    && b[i + 1].is_ascii_digit())
        })
}

/// Whether a line is a row of an ASCII sweeps table: at least two numbers
/// separated by blanks only (a CSV would use `,`, `;` or a tab), any comma a
/// decimal comma.
fn blank_separated_row(line: &str) -> bool {
    let l = line.trim();
    !l.contains([';', '\t'])
        && l.split_whitespace().count() >= 2
        && (!l.contains(',') || decimal_commas(l))
        && numbers_line(l).is_some()
}

/// A number that a setting's value holds, a decimal comma read as a point.
fn setting_number(value: &str) -> Option<f64> {
    let v = value.trim().replace(',', ".");
    let num: String = v
        .chars()
        .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))
        .collect();
    num.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// One data key's values with the settings in force for it.
#[derive(Debug, Clone)]
struct Block {
    kind: DataKind,
    /// Whether its values use decimal commas, once the text settles it.
    decimal: Option<bool>,
    unit: String,
    values: Vec<f32>,
    line: usize,
    channel: u32,
    sampling_khz: Option<f64>,
    subsampled_khz: Option<f64>,
    sweep_ms: Option<f64>,
    pre_ms: Option<f64>,
}

/// The settings in force: a section's, else the last seen before it.
#[derive(Debug, Clone, Default)]
struct Settings {
    channel: Option<u32>,
    sampling_khz: Option<f64>,
    subsampled_khz: Option<f64>,
    sweep_ms: Option<f64>,
    pre_ms: Option<f64>,
}

impl Settings {
    /// Take a setting line; `false` when the key is no setting.
    fn take(&mut self, key: &str, value: &str) -> bool {
        let n = setting_number(value);
        match squash_key(key).as_str() {
            "channelnumber" | "channel" => self.channel = n.map(|x| x as u32),
            "samplingfrequency" | "samplingrate" => self.sampling_khz = n,
            "subsampled" => self.subsampled_khz = n,
            "sweepduration" => self.sweep_ms = n,
            "pretrigger" | "pretriggerdelay" | "prestimulus" => self.pre_ms = n,
            "triggerdelay" | "delay" => self.pre_ms = n.map(|d| d.abs()),
            _ => return false,
        }
        true
    }

    /// Give a block the settings of its section, after the section ended.
    fn apply(&self, b: &mut Block) {
        b.channel = self.channel.unwrap_or(1);
        b.sampling_khz = self.sampling_khz;
        b.subsampled_khz = self.subsampled_khz;
        b.sweep_ms = self.sweep_ms;
        b.pre_ms = self.pre_ms;
    }
}

/// What a Synergy export holds, parsed.
struct Parsed {
    blocks: Vec<Block>,
    metadata: Vec<MetadataEntry>,
}

/// Parse the lines of a Synergy export into data blocks and metadata.
fn parse_synergy(path: &Path, text: &str) -> Result<Parsed> {
    let mut blocks: Vec<Block> = Vec::new();
    let mut metadata = Vec::new();
    let mut settings = Settings::default();
    // Blocks of the current section, given its settings when it ends.
    let mut open_from = 0usize;
    let mut current: Option<usize> = None;
    let mut total: u64 = 0;
    // Decimal commas or not, once any values settle it.
    let mut file_decimal: Option<bool> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let lineno = i + 1;
        if line.is_empty() {
            continue;
        }
        if let Some(b) = current {
            if key_value(line).is_none() && section_title(line).is_none() {
                let parsed = parse_numbers_as(line, blocks[b].decimal.or(file_decimal));
                let v = parsed.map(|(v, mode)| {
                    blocks[b].decimal = mode;
                    file_decimal = file_decimal.or(mode);
                    v
                });
                let v = v.filter(|v| !v.is_empty()).ok_or_else(|| {
                    Error::malformed(
                        path,
                        format!(
                            "line {lineno}: {} is neither a number nor a Key=Value line",
                            excerpt_str(line)
                        ),
                    )
                })?;
                total += v.len() as u64;
                assemble::check_samples(path, "samples in a text export", total)?;
                blocks[b].values.extend(v.iter().map(|&x| x as f32));
                continue;
            }
            current = None;
        }
        if section_title(line).is_some() {
            for b in &mut blocks[open_from..] {
                settings.apply(b);
            }
            open_from = blocks.len();
            continue;
        }
        let Some((key, value)) = key_value(line) else {
            return Err(Error::malformed(
                path,
                format!(
                    "line {lineno}: {} is not a Key=Value line",
                    excerpt_str(line)
                ),
            ));
        };
        if let Some((kind, unit, count)) = data_key(key) {
            if let Some(n) = count {
                assemble::check_samples(path, "samples declared by a data key", n)?;
            }
            let (v, decimal) = if value.is_empty() {
                (Vec::new(), None)
            } else {
                parse_numbers_as(value, file_decimal).ok_or_else(|| {
                    Error::malformed(
                        path,
                        format!(
                            "line {lineno}: {} holds a value that is no number",
                            excerpt_str(key)
                        ),
                    )
                })?
            };
            // One export writes its numbers one way: a key whose values
            // settle it (`0,5;1,5` or `0.5,1.5`) settles the keys after it.
            file_decimal = file_decimal.or(decimal);
            total += v.len() as u64;
            assemble::check_samples(path, "samples in a text export", total)?;
            blocks.push(Block {
                kind,
                decimal,
                unit,
                values: v.iter().map(|&x| x as f32).collect(),
                line: lineno,
                channel: 1,
                sampling_khz: None,
                subsampled_khz: None,
                sweep_ms: None,
                pre_ms: None,
            });
            current = Some(blocks.len() - 1);
            continue;
        }
        if !settings.take(key, value) && metadata.len() < MAX_METADATA {
            metadata.push(MetadataEntry {
                key: key.to_string(),
                value: value.to_string(),
            });
        }
    }
    for b in &mut blocks[open_from..] {
        settings.apply(b);
    }
    check_counts(path, text, &blocks)?;
    Ok(Parsed { blocks, metadata })
}

/// Each data key that declares a count must hold that many values.
fn check_counts(path: &Path, text: &str, blocks: &[Block]) -> Result<()> {
    let lines: Vec<&str> = text.lines().collect();
    for b in blocks {
        let key = lines
            .get(b.line - 1)
            .and_then(|l| key_value(l))
            .map_or("", |(k, _)| k);
        if let Some((_, _, Some(n))) = data_key(key) {
            if b.values.len() as u64 != n {
                return Err(Error::malformed(
                    path,
                    format!(
                        "line {}: {} declares {n} samples but holds {}",
                        b.line,
                        excerpt_str(key),
                        b.values.len()
                    ),
                ));
            }
        }
        if b.values.is_empty() {
            return Err(Error::malformed(
                path,
                format!("line {}: {} holds no samples", b.line, excerpt_str(key)),
            ));
        }
    }
    Ok(())
}

/// The rate a block was stored at, Hz (see the module doc), or why not.
fn block_rate(path: &Path, b: &Block, opts: &ReadOptions) -> Result<f64> {
    if let Some(hz) = opts.text.rate_hz.or(opts.sample_rate.map(|r| r.hz())) {
        return Ok(hz);
    }
    let n = b.values.len() as f64;
    let fits = |khz: f64| {
        b.sweep_ms
            .is_some_and(|ms| (n / khz - ms).abs() <= 0.02 * ms)
    };
    let khz = match (b.subsampled_khz, b.sampling_khz) {
        (Some(s), _) if fits(s) => Some(s),
        (_, Some(f)) if fits(f) => Some(f),
        // Two rates that differ, and nothing to tell which the values are
        // at: a guess would scale every time by their ratio.
        (Some(s), Some(f)) if s != f => {
            let why = match b.sweep_ms {
                Some(ms) => format!(
                    "{n} values over Sweep Duration {} ms fit neither",
                    Shown(ms)
                ),
                None => "no Sweep Duration(ms) says which".to_string(),
            };
            return Err(Error::malformed(
                path,
                format!(
                    "line {}: Subsampled {} kHz or Sampling Frequency {} kHz: {why}; give rate_hz in the sidecar's [text] table",
                    b.line,
                    Shown(s),
                    Shown(f)
                ),
            ));
        }
        (Some(s), _) => Some(s),
        (_, Some(f)) => Some(f),
        (None, None) => None,
    };
    khz.map(|k| k * 1000.0).ok_or_else(|| {
        Error::malformed(
            path,
            format!(
                "line {}: no Sampling Frequency(kHz) for this data; give rate_hz in the \
                 sidecar's [text] table or --sample-rate",
                b.line
            ),
        )
    })
}

/// The voltage unit of a block's values and whether it was assumed.
fn block_unit(path: &Path, unit: &str, opts: &ReadOptions) -> Result<(f64, String, bool)> {
    if let Some(f) = assemble::millivolts_per_unit(unit) {
        return Ok((f, unit.to_string(), false));
    }
    if !unit.is_empty() {
        return Err(Error::malformed(
            path,
            format!(
                "data in {} are no voltage (V, mV, uV, nV)",
                excerpt_str(unit)
            ),
        ));
    }
    let given = opts
        .unit
        .map(|u| u.label().to_string())
        .or(opts.text.unit.clone());
    match given {
        Some(u) => {
            let f = assemble::millivolts_per_unit(&u).unwrap_or(1.0);
            Ok((f, u, false))
        }
        None => Ok((1.0, "mV".into(), true)),
    }
}

/// The study the export's patient keys fill.
fn synergy_study(metadata: &[MetadataEntry]) -> crate::study::Study {
    let mut s = crate::study::Study::default();
    for m in metadata {
        let v = m.value.trim();
        if v.is_empty() {
            continue;
        }
        match squash_key(&m.key).as_str() {
            "patientid" => s.patient_id = Some(v.to_string()),
            "gender" | "sex" => s.sex = Sex::parse(v),
            "visitdate" | "testdate" | "studydate" => {
                s.study_date = s.study_date.or_else(|| parse_date(v));
            }
            "masteranatomy" | "muscle" => s.muscle = Some(v.to_string()),
            _ => {}
        }
    }
    s
}

/// A date as exports write it: ISO `2020-07-30`, or `30/07/2020` /
/// `30.07.2020` (day first) with anything after it (a time) ignored.
fn parse_date(v: &str) -> Option<IsoDate> {
    let d = v.split_whitespace().next()?;
    if let Ok(date) = IsoDate::parse(d) {
        return Some(date);
    }
    let parts: Vec<&str> = d.split(['/', '.', '-']).collect();
    if let [a, b, c] = parts[..] {
        let (day, month, year) = (a.parse().ok()?, b.parse().ok()?, c.parse().ok()?);
        return IsoDate::new(year, month, day);
    }
    None
}

/// Read a Synergy export (see the module doc).
fn read_synergy(path: &Path, text: &str, opts: &ReadOptions) -> Result<Recording> {
    let parsed = parse_synergy(path, text)?;
    let sweeps: Vec<&Block> = {
        let of = |k: DataKind| parsed.blocks.iter().filter(move |b| b.kind == k);
        let s: Vec<&Block> = of(DataKind::Sweep).collect();
        if !s.is_empty() {
            s
        } else if of(DataKind::Averaged).next().is_some() {
            of(DataKind::Averaged).collect()
        } else {
            of(DataKind::LongTrace).collect()
        }
    };
    let Some(first) = sweeps.first() else {
        return Err(Error::malformed(
            path,
            "no data key (Sweep Data, Averaged Data, LongTrace Data) in this Synergy export",
        ));
    };
    let continuous = first.kind == DataKind::LongTrace;
    let mut numbers: Vec<u32> = sweeps.iter().map(|b| b.channel).collect();
    numbers.sort_unstable();
    numbers.dedup();
    assemble::check_channels(path, numbers.len() as u64)?;
    let labels: Vec<String> = numbers.iter().map(|n| format!("ch{n}")).collect();
    let label_refs: Vec<&str> = labels.iter().map(String::as_str).collect();
    let (filter, emg) = opts.channels.resolve(path, &label_refs, 0)?;
    let emg = emg.unwrap_or(0);
    let of_channel = |i: usize| -> Vec<&Block> {
        sweeps
            .iter()
            .copied()
            .filter(|b| b.channel == numbers[i])
            .collect()
    };
    let reference = of_channel(emg);
    let rate_hz = block_rate(path, reference[0], opts)?;
    let rate = assemble::sample_rate(path, rate_hz, &format!("channel {}", labels[emg]))?;
    let shape = |bs: &[&Block]| -> Vec<usize> { bs.iter().map(|b| b.values.len()).collect() };
    let l = reference[0].values.len();
    if !continuous {
        if let Some(b) = reference.iter().find(|b| b.values.len() != l) {
            return Err(Error::malformed(
                path,
                format!(
                    "line {}: a sweep of {} samples among sweeps of {l}: the sweeps of one \
                     channel must have one length",
                    b.line,
                    b.values.len()
                ),
            ));
        }
    }
    let mut notes = Vec::new();
    let mut channels = Vec::new();
    let mut unit_assumed = false;
    for (i, label) in labels.iter().enumerate() {
        let bs = of_channel(i);
        let same = shape(&bs) == shape(&reference);
        if !(filter.wants(i) && same) {
            if i == emg || same {
                // Only channels of the EMG's shape can be listed at its rate.
                channels.push(assemble::listed_channel(
                    i,
                    label.clone(),
                    bs[0].unit.clone(),
                    ChannelKind::Signal,
                    shape(&bs).iter().sum(),
                    None,
                ));
            }
            continue;
        }
        let (f, unit, assumed) = block_unit(path, &bs[0].unit, opts)?;
        unit_assumed |= assumed;
        let samples: Vec<f32> = bs
            .iter()
            .flat_map(|b| b.values.iter().map(move |&v| (f64::from(v) * f) as f32))
            .collect();
        channels.push(assemble::channel(
            i,
            label.clone(),
            unit,
            ChannelKind::Signal,
            samples,
        ));
    }
    if unit_assumed {
        notes.push(ReadNote::info(
            FlagCode::UnitAssumed,
            "values read as mV: the data keys name no unit (nor --unit or the sidecar's [text] unit)",
        ));
    }
    let (segments, stimuli) = if continuous {
        let n: usize = reference.iter().map(|b| b.values.len()).sum();
        (crate::recording::Recording::continuous_segments(n), None)
    } else {
        let pre_ms = opts.text.pre_stimulus_ms.or(reference[0].pre_ms);
        let i0 = pre_stimulus_samples(path, pre_ms, rate, l, &mut notes)?;
        let (s, k) = assemble::sweeps(path, reference.len(), l, i0, rate, None)?;
        (s, Some(k))
    };
    let mut rec = assemble::recording(path, SourceFormat::SynergyText, rate, channels, segments);
    rec.stimuli = stimuli;
    rec.notes = notes;
    rec.study = synergy_study(&parsed.metadata);
    rec.metadata = parsed.metadata;
    Ok(rec)
}

/// The stimulus's sample in each sweep of `l` samples: the pre-stimulus time
/// when one is known, else 0 with a `stimulus_at_sweep_start` note.
fn pre_stimulus_samples(
    path: &Path,
    pre_ms: Option<f64>,
    rate: SampleRate,
    l: usize,
    notes: &mut Vec<ReadNote>,
) -> Result<usize> {
    match pre_ms {
        Some(ms) if ms.is_finite() && ms >= 0.0 => {
            let i0 = (ms * 1e-3 * rate.hz()).round() as usize;
            if i0 >= l {
                return Err(Error::malformed(
                    path,
                    format!("a pre-stimulus time of {ms} ms is longer than the sweeps"),
                ));
            }
            Ok(i0)
        }
        Some(ms) => Err(Error::malformed(
            path,
            format!("a pre-stimulus time of {ms} ms is no time"),
        )),
        None => {
            notes.push(ReadNote::info(
                FlagCode::StimulusAtSweepStart,
                "stimulus taken at the first sample of each sweep: the export gives no \
                 pre-stimulus time ([text] pre_stimulus_ms sets it)",
            ));
            Ok(0)
        }
    }
}

/// What the header lines of an ASCII sweeps table declare.
#[derive(Debug, Default)]
struct AsciiHeader {
    rate_hz: Option<f64>,
    unit: Option<String>,
    pre_ms: Option<f64>,
    /// A pre-trigger given in samples (`Pre-trigger: 100 samples`).
    pre_samples: Option<f64>,
    labels: Option<Vec<String>>,
}

/// Read the declarations of one header line into `h`.
fn header_line(line: &str, h: &mut AsciiHeader) {
    let (key, value) = match line.split_once([':', '=']) {
        Some((k, v)) => (k.trim(), v.trim()),
        None => return,
    };
    let k = key.to_lowercase();
    let v_num = setting_number(value);
    let unit_word = value
        .trim_start_matches(|c: char| c.is_ascii_digit() || ".,-+eE ".contains(c))
        .trim()
        .to_lowercase();
    let in_key = |w: &str| k.contains(w);
    if (in_key("rate") || in_key("frequency") || k == "fs") && !in_key("stim") {
        let f = if unit_word.starts_with("khz") || in_key("khz") {
            1e3
        } else {
            1.0
        };
        h.rate_hz = v_num.map(|x| x * f).or(h.rate_hz);
    } else if in_key("interval") || in_key("dwell") {
        let f = match unit_word.as_str() {
            u if u.starts_with("us") || u.starts_with("µs") || u.starts_with("μs") => 1e-6,
            u if u.starts_with("ms") => 1e-3,
            _ if in_key("(us)") || in_key("(µs)") => 1e-6,
            _ if in_key("(ms)") => 1e-3,
            _ => 1.0,
        };
        h.rate_hz = v_num
            .filter(|&x| x > 0.0)
            .map(|x| 1.0 / (x * f))
            .or(h.rate_hz);
    } else if k == "unit" || k == "units" || in_key("amplitude unit") {
        if ColumnUnit::voltage(value).is_some() {
            h.unit = Some(value.to_string());
        }
    } else if in_key("pre-trigger")
        || in_key("pretrigger")
        || in_key("pre-stimulus")
        || in_key("prestimulus")
    {
        if unit_word.starts_with("samp")
            || unit_word.starts_with("pts")
            || unit_word.starts_with("point")
        {
            // A count of samples: milliseconds once the rate is known.
            h.pre_samples = v_num;
        } else {
            let f = if unit_word.starts_with('s') { 1e3 } else { 1.0 };
            h.pre_ms = v_num.map(|x| x * f);
        }
    }
}

/// Read a table of sweeps below free header lines (see the module doc).
fn read_ascii_sweeps(path: &Path, text: &str, opts: &ReadOptions) -> Result<Recording> {
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty())
        .collect();
    let start = match opts.text.header_lines {
        Some(n) => lines
            .iter()
            .position(|&(no, _)| no > n)
            .unwrap_or(lines.len()),
        None => lines
            .iter()
            .position(|(_, l)| numbers_line(l).is_some())
            .unwrap_or(lines.len()),
    };
    let mut h = AsciiHeader::default();
    for (_, l) in &lines[..start] {
        header_line(l, &mut h);
    }
    let mut rows: Vec<Vec<f64>> = Vec::new();
    let mut total = 0u64;
    // Commas are decimal commas (the module doc) unless a row settles
    // otherwise (`0.5 1.5`); a column of `-0,125` is one value a row.
    let decimal = lines[start..]
        .iter()
        .find_map(|(_, l)| parse_numbers_as(l.trim(), None).and_then(|(_, m)| m))
        .unwrap_or(true);
    for &(no, l) in &lines[start..] {
        let v = parse_numbers_as(l.trim(), Some(decimal))
            .map(|(v, _)| v)
            .filter(|v| !v.is_empty());
        let v = v.ok_or_else(|| {
            Error::malformed(
                path,
                format!("line {no}: {} is not a row of numbers", excerpt_str(l)),
            )
        })?;
        if let Some(first) = rows.first() {
            if v.len() != first.len() {
                return Err(Error::malformed(
                    path,
                    format!(
                        "line {no}: {} values in a table of {} columns",
                        v.len(),
                        first.len()
                    ),
                ));
            }
        } else {
            assemble::check_channels(path, v.len() as u64)?;
        }
        total += v.len() as u64;
        assemble::check_samples(path, "values in a table of sweeps", total)?;
        rows.push(v);
    }
    if rows.is_empty() {
        return Err(Error::malformed(
            path,
            "no rows of numbers below the header",
        ));
    }
    let ncols = rows[0].len();
    // The last header line names the columns, unless it declares something
    // (`Sample interval = 50 us` has as many words as a table may have columns).
    let naming = lines[..start]
        .last()
        .filter(|(_, l)| !l.contains([':', '=']));
    if let Some(&(_, last)) = naming {
        let names: Vec<String> = last
            .split(['\t', ';'])
            .map(str::trim)
            .map(String::from)
            .collect();
        let names = if names.len() == ncols {
            names
        } else {
            last.split_whitespace().map(String::from).collect()
        };
        if names.len() == ncols {
            h.labels = Some(names);
        }
    }
    let by_rows = opts.text.sweeps_in == Some(SweepsIn::Rows);
    let time_col = !by_rows && time_column(&rows, h.labels.as_deref());
    let mut notes = Vec::new();
    // Rate: the options, else a time column, else the header.
    // A time column whose name gives its unit (`Time (s)`) is read in it.
    let time_unit_s = h
        .labels
        .as_ref()
        .and_then(|l| crate::io::csv::parse_column_name(&l[0]).unit)
        .and_then(|u| u.seconds_per_unit());
    let time_rate = if time_col {
        rate_of_times(&rows, time_unit_s)
    } else {
        None
    };
    let rate_hz = opts
        .text
        .rate_hz
        .or(opts.sample_rate.map(|r| r.hz()))
        .or(time_rate.map(|(hz, _)| hz))
        .or(h.rate_hz)
        .ok_or_else(|| {
            Error::malformed(
                path,
                "no sample rate: the header declares none and there is no time column; give \
                 rate_hz in the sidecar's [text] table or --sample-rate",
            )
        })?;
    let rate = assemble::sample_rate(path, rate_hz, "the table")?;
    let sweeps: Vec<Vec<f64>> = if by_rows {
        rows
    } else {
        let first = usize::from(time_col);
        (first..ncols)
            .map(|c| rows.iter().map(|r| r[c]).collect())
            .collect()
    };
    let l = sweeps[0].len();
    let i0 = match time_rate {
        Some((_, i0)) if opts.text.pre_stimulus_ms.is_none() => i0,
        _ => pre_stimulus_samples(
            path,
            opts.text
                .pre_stimulus_ms
                .or(h.pre_ms)
                .or(h.pre_samples.map(|n| n * 1e3 / rate.hz())),
            rate,
            l,
            &mut notes,
        )?,
    };
    let unit_name = h.unit.clone().unwrap_or_default();
    let (f, unit, assumed) = block_unit(path, &unit_name, opts)?;
    if assumed {
        notes.push(ReadNote::info(
            FlagCode::UnitAssumed,
            "values read as mV: the header names no unit (nor --unit or the sidecar's [text] unit)",
        ));
    }
    let samples: Vec<f32> = sweeps
        .iter()
        .flat_map(|s| s.iter().map(move |&v| (v * f) as f32))
        .collect();
    let (segments, stimuli) = assemble::sweeps(path, sweeps.len(), l, i0, rate, None)?;
    let labels = ["emg"];
    opts.channels.resolve(path, &labels, 0)?;
    let ch = assemble::channel(0, "emg", unit, ChannelKind::Signal, samples);
    let mut rec = assemble::recording(path, SourceFormat::AsciiSweeps, rate, vec![ch], segments);
    rec.stimuli = Some(stimuli);
    rec.notes = notes;
    rec.metadata = lines[..start]
        .iter()
        .filter_map(|(_, l)| l.split_once([':', '=']))
        .take(MAX_METADATA)
        .map(|(k, v)| MetadataEntry {
            key: k.trim().to_string(),
            value: v.trim().to_string(),
        })
        .collect();
    Ok(rec)
}

/// Whether the first column is time after the stimulus: named as time
/// (`Time (ms)`, `t`, `ms`), or, unnamed, rising strictly and regularly
/// (every step within 1 % of the first) through zero or from it.
fn time_column(rows: &[Vec<f64>], labels: Option<&[String]>) -> bool {
    if rows[0].len() < 2 || rows.len() < 3 {
        return false;
    }
    if let Some(names) = labels {
        return crate::io::csv::parse_column_name(&names[0]).kind
            == crate::io::csv::ColumnKind::Time;
    }
    let step = rows[1][0] - rows[0][0];
    step > 0.0
        && rows
            .windows(2)
            .all(|w| ((w[1][0] - w[0][0]) - step).abs() <= 0.01 * step)
        && rows[0][0] <= 0.0
}

/// The rate and stimulus row of a time column: its step in `unit_s`
/// seconds when its name gives the unit, else read as milliseconds (the
/// unit EMG tables print) unless that puts the rate outside the accepted
/// range and seconds do not; the stimulus row is the first at time ≥ 0.
fn rate_of_times(rows: &[Vec<f64>], unit_s: Option<f64>) -> Option<(f64, usize)> {
    let n = rows.len();
    let span = rows[n - 1][0] - rows[0][0];
    if span.is_nan() || span <= 0.0 {
        return None;
    }
    let step = span / (n - 1) as f64;
    let ms = 1e3 / step;
    let hz = match unit_s {
        Some(u) => 1.0 / (step * u),
        None if SampleRate::new(ms).is_some() => ms,
        None => 1.0 / step,
    };
    let whole = hz.round();
    let hz = if (hz - whole).abs() <= 1e-6 * hz {
        whole
    } else {
        hz
    };
    let i0 = rows.iter().position(|r| r[0] >= -0.01 * step)?;
    Some((hz, i0))
}

#[cfg(test)]
mod tests;
