//! BrainVision Core Data Format 1.0 (`.vhdr` + `.eeg` + `.vmrk`).
//!
//! Overview: a recording is three files. The header (`.vhdr`, INI-like text)
//! names the data file and the marker file, the sample format, the channel
//! count, the sampling interval and, per channel, `Ch<n>=<Name>,<Ref>,
//! <Resolution>,<Unit>`. The data file holds the samples, little-endian,
//! `INT_16`, `INT_32` or `IEEE_FLOAT_32`, either `MULTIPLEXED` (sample by
//! sample, every channel's value in turn) or `VECTORIZED` (channel by
//! channel). The marker file (`.vmrk`) lists `Mk<n>=<Type>,<Description>,
//! <Position>,<Size>,<Channel>[,<Date>]`, positions counting data points
//! from 1. [`read_brainvision_file`] is given the header; the other two are
//! read through it.
//!
//! # Decisions
//!
//! - **Companion files.** `DataFile` and `MarkerFile` are taken relative to
//!   the header's folder. An absolute path, a drive (`C:`) or a `..`
//!   component is refused: a header must not make the analyzer read files
//!   outside its folder (a recording copied from elsewhere, a header from
//!   someone else). Both `/` and `\` separate folders. Every file is opened
//!   with [`open_input`]'s rules (regular files only).
//!   A marker file the header names but that cannot be read is an error, as
//!   is a missing data file: the set of files is incomplete.
//! - **Text.** `Codepage=UTF-8` (or none) is read as UTF-8, falling back to
//!   Windows-1252 when the bytes are not UTF-8; `ANSI` is Windows-1252, as
//!   BrainVision Recorder writes it and MNE reads it. Commas in names are
//!   written `\1`. Only the sections before `[Comment]` are parsed (the
//!   comment is free text).
//! - **Values.** value = stored number × resolution (an empty resolution is
//!   1), in the channel's unit (µV when none is given, as the specification
//!   says), converted to millivolts for voltage units; a channel in another
//!   unit keeps its values as they are, as the EDF reader does. Channels
//!   whose label names a trigger ([`assemble::is_trigger_label`]) are triggers.
//!   A non-finite value (a float file's NaN) is refused.
//! - **Markers.** Each becomes an [`Annotation`] at its position (time of
//!   data point `Position − 1`), with a duration when `Size` > 1. Its text is
//!   the description, or the type when the description is empty: MNE's
//!   `Stimulus/S  1` would hide the words the analysis reads (the role rules
//!   split on spaces, so `Comment/baseline` would be no baseline mark, and
//!   [`is_stimulus_text`](crate::recording::is_stimulus_text) reads `S  1`
//!   but not `Stimulus/S  1`). Stimuli are the annotations whose text marks a
//!   stimulus ([`assemble::stimuli_from_annotations`]): a `Stimulus` marker
//!   with the usual `S  1`…`S255` codes, one without a description, a comment
//!   `stim`. The `New Segment` marker at position 1 only carries the
//!   recording's date and is not kept, as MNE drops it.
//! - **Segments.** Every further `New Segment` marker starts a new segment
//!   (the recorder was paused). Its start is its date minus the first
//!   segment's date when both carry one and that does not overlap the
//!   previous segment; otherwise it follows the previous segment directly.
//! - **Limits and truncation.** The header may hold [`MAX_HEADER_BYTES`],
//!   the marker file [`MAX_MARKER_BYTES`] and [`MAX_MARKERS`] markers; the
//!   channel count and the samples per channel the data file's size implies
//!   are checked before anything is allocated. A multiplexed data file that
//!   ends inside a sample is read to its last whole sample (a
//!   `truncated_file` warning), as is one shorter than `DataPoints`; a
//!   vectorized one cannot be (the cut loses the end of every channel but
//!   the last) and is refused.
//! - **Not read**: ASCII data, big-endian data, frequency-domain data; each
//!   is refused as an unsupported format.

use crate::error::{excerpt_str, Error, Result};
use crate::io::{assemble, open_input, ReadOptions};
use crate::recording::{Annotation, ChannelKind, ReadNote, Recording, Segment, SourceFormat};
use crate::units::{SampleRate, Shown};
use crate::vocab::FlagCode;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

/// The most bytes a header file may hold (real ones hold a few kilobytes,
/// a long `[Comment]` included).
pub const MAX_HEADER_BYTES: u64 = 1 << 20;
/// The most bytes a marker file may hold.
pub const MAX_MARKER_BYTES: u64 = 16 << 20;
/// The most markers a marker file may list.
pub const MAX_MARKERS: usize = 100_000;

/// Bytes of the data file read at once.
const CHUNK_BYTES: usize = 1 << 16;

/// How a sample is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryFormat {
    /// `INT_16`: 16-bit signed integers.
    Int16,
    /// `INT_32`: 32-bit signed integers.
    Int32,
    /// `IEEE_FLOAT_32`: 32-bit floats.
    Float32,
}

impl BinaryFormat {
    /// Bytes per stored sample.
    pub fn bytes(self) -> usize {
        match self {
            BinaryFormat::Int16 => 2,
            BinaryFormat::Int32 | BinaryFormat::Float32 => 4,
        }
    }

    /// The stored number at the start of `b` (little-endian).
    fn value(self, b: &[u8]) -> f64 {
        match self {
            BinaryFormat::Int16 => f64::from(i16::from_le_bytes([b[0], b[1]])),
            BinaryFormat::Int32 => f64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            BinaryFormat::Float32 => f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        }
    }
}

/// How the samples are laid out in the data file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Orientation {
    /// `MULTIPLEXED`: data point by data point, the channels in turn.
    Multiplexed,
    /// `VECTORIZED`: channel by channel, all of a channel's points in turn.
    Vectorized,
}

/// One channel as the header declares it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelInfo {
    /// The name (`\1` decoded to a comma); `Ch<n>` when empty.
    pub label: String,
    /// The unit, `µV` when the header gives none.
    pub unit: String,
    /// Unit per stored number.
    pub resolution: f64,
}

/// What a header declares.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// `DataFile`, as written.
    pub data_file: String,
    /// `MarkerFile`, as written, when given.
    pub marker_file: Option<String>,
    /// `BinaryFormat`.
    pub format: BinaryFormat,
    /// `DataOrientation`.
    pub orientation: Orientation,
    /// `SamplingInterval`, µs.
    pub interval_us: f64,
    /// `DataPoints`, when given.
    pub data_points: Option<u64>,
    /// The channels, in order.
    pub channels: Vec<ChannelInfo>,
}

/// One marker of the marker file.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    /// `Type` (`Stimulus`, `Response`, `Comment`, `New Segment`, …).
    pub kind: String,
    /// `Description` (`S  1`, a comment's text).
    pub description: String,
    /// `Position`, counting data points from 1.
    pub position: u64,
    /// `Size` in data points (1 when empty).
    pub size: u64,
    /// The date of a `New Segment` marker, seconds since 1970-01-01.
    pub date_s: Option<f64>,
}

/// Read a BrainVision recording from its header file (`.vhdr`).
///
/// Errors: a header, data file or marker file that is malformed, missing,
/// outside the header's folder or beyond the limits (see the module doc)
/// is an error naming the header (exit 3).
pub fn read_brainvision_file(path: &Path, opts: &ReadOptions) -> Result<Recording> {
    let header = read_bounded(path, open_input(path)?, MAX_HEADER_BYTES, "header file")?;
    let h = parse_header(path, &header)?;
    let data_path = companion(path, &h.data_file, "DataFile")?;
    let data = open_companion(path, &data_path, &h.data_file, "DataFile")?;
    let data_len = data
        .metadata()
        .map_err(|e| companion_error(path, &h.data_file, "DataFile", &e))?
        .len();
    let markers = match &h.marker_file {
        Some(name) => {
            let mpath = companion(path, name, "MarkerFile")?;
            let file = open_companion(path, &mpath, name, "MarkerFile")?;
            Some(read_bounded(path, file, MAX_MARKER_BYTES, "marker file")?)
        }
        None => None,
    };
    let mut src = FileSource {
        file: data,
        name: &h.data_file,
    };
    assemble_recording(path, &h, markers.as_deref(), &mut src, data_len, opts)
}

/// Read a BrainVision recording from the three files' bytes (the fuzz
/// target's way in): `header` as the `.vhdr` at `path`, `markers` as the
/// marker file it names (`None`: none), `data` as its data file. The names
/// in the header are checked as [`read_brainvision_file`] checks them, but
/// nothing is opened.
pub fn read_brainvision_parts(
    path: &Path,
    header: &[u8],
    markers: Option<&[u8]>,
    data: &[u8],
    opts: &ReadOptions,
) -> Result<Recording> {
    if header.len() as u64 > MAX_HEADER_BYTES {
        return Err(limit(
            path,
            "header file bytes",
            header.len() as u64,
            MAX_HEADER_BYTES,
        ));
    }
    let h = parse_header(path, header)?;
    companion(path, &h.data_file, "DataFile")?;
    let markers = match (&h.marker_file, markers) {
        (Some(name), Some(m)) => {
            companion(path, name, "MarkerFile")?;
            if m.len() as u64 > MAX_MARKER_BYTES {
                return Err(limit(
                    path,
                    "marker file bytes",
                    m.len() as u64,
                    MAX_MARKER_BYTES,
                ));
            }
            Some(m)
        }
        _ => None,
    };
    let mut src = SliceSource(data);
    assemble_recording(path, &h, markers, &mut src, data.len() as u64, opts)
}

fn limit(path: &Path, what: &str, value: u64, limit: u64) -> Error {
    Error::Limit {
        path: path.to_path_buf(),
        what: what.into(),
        value,
        limit,
    }
}

/// At most `max` bytes of `file`, or a limit error.
fn read_bounded(path: &Path, file: std::fs::File, max: u64, what: &str) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut out)
        .map_err(|e| Error::malformed(path, format!("{what}: cannot read: {e}")))?;
    if out.len() as u64 > max {
        return Err(limit(path, &format!("{what} bytes"), out.len() as u64, max));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Text

/// Windows-1252's characters for bytes 0x80–0x9F (the five it leaves
/// undefined map to the C1 controls, as Latin-1 has them).
const CP1252_HIGH: [char; 32] = [
    '\u{20AC}', '\u{81}', '\u{201A}', '\u{192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{2C6}', '\u{2030}', '\u{160}', '\u{2039}', '\u{152}', '\u{8D}', '\u{17D}', '\u{8F}',
    '\u{90}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{2DC}', '\u{2122}', '\u{161}', '\u{203A}', '\u{153}', '\u{9D}', '\u{17E}', '\u{178}',
];

fn cp1252(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => CP1252_HIGH[usize::from(b - 0x80)],
            _ => char::from(b),
        })
        .collect()
}

/// The text of a header or marker file by its `Codepage` (see the module doc).
fn decode_text(bytes: &[u8]) -> String {
    let bytes = bytes
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(bytes);
    let codepage = bytes.split(|&b| b == b'\n').find_map(|line| {
        let line = line.trim_ascii();
        let (key, value) = line.split_at_checked(9)?;
        key.eq_ignore_ascii_case(b"codepage=")
            .then(|| value.trim_ascii())
    });
    let utf8 = codepage
        .is_none_or(|c| c.eq_ignore_ascii_case(b"utf-8") || c.eq_ignore_ascii_case(b"utf8"));
    match std::str::from_utf8(bytes) {
        Ok(s) if utf8 => s.to_string(),
        _ => cp1252(bytes),
    }
}

/// The sections of an INI-like text before `[Comment]`: each name with its
/// `key=value` lines in order; and the first line.
struct Ini {
    first_line: String,
    sections: Vec<(String, Vec<(String, String)>)>,
}

impl Ini {
    fn parse(text: &str) -> Ini {
        let mut lines = text.lines();
        let first_line = lines.next().unwrap_or("").trim().to_string();
        let mut sections: Vec<(String, Vec<(String, String)>)> = Vec::new();
        for line in lines {
            let line = line.trim();
            if line.is_empty() || line.starts_with(';') {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                if name.trim().eq_ignore_ascii_case("comment") {
                    break;
                }
                sections.push((name.trim().to_string(), Vec::new()));
                continue;
            }
            if let (Some((key, value)), Some(last)) = (line.split_once('='), sections.last_mut()) {
                last.1
                    .push((key.trim().to_string(), value.trim().to_string()));
            }
        }
        Ini {
            first_line,
            sections,
        }
    }

    /// The lines of section `name` (any case; the first such section).
    fn section(&self, name: &str) -> &[(String, String)] {
        self.sections
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map_or(&[], |(_, v)| v.as_slice())
    }

    /// The value of `key` (any case) in section `name`, first one wins.
    fn get(&self, name: &str, key: &str) -> Option<&str> {
        self.section(name)
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

/// A field as written, with BrainVision's `\1` turned back into a comma.
fn unescape(field: &str) -> String {
    field.replace("\\1", ",")
}

// ---------------------------------------------------------------------------
// Header

/// Parse a header file's bytes (see the module doc).
///
/// Errors: a first line that is no BrainVision header's, a missing or
/// unreadable `DataFile`, `NumberOfChannels`, `SamplingInterval` or
/// `Ch<n>` entry, a channel count above the limit; ASCII, big-endian or
/// frequency-domain data as [`Error::UnsupportedFormat`].
pub fn parse_header(path: &Path, bytes: &[u8]) -> Result<Header> {
    let ini = Ini::parse(&decode_text(bytes));
    let first = &ini.first_line;
    if !((first.starts_with("Brain Vision") || first.starts_with("BrainVision"))
        && first.contains("Header File"))
    {
        return Err(Error::malformed(
            path,
            format!(
                "not a BrainVision header: the first line is {}, not \"Brain Vision Data \
                 Exchange Header File Version 1.0\"",
                excerpt_str(first)
            ),
        ));
    }
    const COMMON: &str = "Common Infos";
    let unsupported = |reason: String| Error::UnsupportedFormat {
        path: path.to_path_buf(),
        reason,
    };
    let required = |key: &str| {
        ini.get(COMMON, key)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                Error::malformed(path, format!("the header's [Common Infos] has no {key}"))
            })
    };
    let data_file = required("DataFile")?.to_string();
    let marker_file = ini
        .get(COMMON, "MarkerFile")
        .filter(|v| !v.is_empty())
        .map(str::to_string);
    match ini.get(COMMON, "DataFormat").unwrap_or("BINARY") {
        f if f.eq_ignore_ascii_case("BINARY") => {}
        f if f.eq_ignore_ascii_case("ASCII") => {
            return Err(unsupported(
                "DataFormat=ASCII (samples as text) is not read; export the recording as BINARY"
                    .into(),
            ))
        }
        f => {
            return Err(Error::malformed(
                path,
                format!("DataFormat={} is neither BINARY nor ASCII", excerpt_str(f)),
            ))
        }
    }
    if let Some(t) = ini.get(COMMON, "DataType") {
        if !t.eq_ignore_ascii_case("TIMEDOMAIN") {
            return Err(unsupported(format!(
                "DataType={} is not read: only TIMEDOMAIN data holds a signal",
                excerpt_str(t)
            )));
        }
    }
    let orientation = match ini.get(COMMON, "DataOrientation").unwrap_or("MULTIPLEXED") {
        o if o.eq_ignore_ascii_case("MULTIPLEXED") => Orientation::Multiplexed,
        o if o.eq_ignore_ascii_case("VECTORIZED") => Orientation::Vectorized,
        o => {
            return Err(Error::malformed(
                path,
                format!(
                    "DataOrientation={} is neither MULTIPLEXED nor VECTORIZED",
                    excerpt_str(o)
                ),
            ))
        }
    };
    let n_text = required("NumberOfChannels")?;
    let n: u64 = n_text.parse().map_err(|_| {
        Error::malformed(
            path,
            format!(
                "NumberOfChannels={} is not a whole number",
                excerpt_str(n_text)
            ),
        )
    })?;
    assemble::check_channels(path, n)?;
    if n == 0 {
        return Err(Error::malformed(
            path,
            "NumberOfChannels=0: no channel to read",
        ));
    }
    let si_text = required("SamplingInterval")?;
    let interval_us = si_text
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0)
        .ok_or_else(|| {
            Error::malformed(
                path,
                format!(
                    "SamplingInterval={} is not a positive number of microseconds",
                    excerpt_str(si_text)
                ),
            )
        })?;
    let data_points = match ini.get(COMMON, "DataPoints").filter(|v| !v.is_empty()) {
        Some(t) => Some(t.parse::<u64>().map_err(|_| {
            Error::malformed(
                path,
                format!("DataPoints={} is not a whole number", excerpt_str(t)),
            )
        })?),
        None => None,
    };
    const BINARY: &str = "Binary Infos";
    let format = match ini.get(BINARY, "BinaryFormat") {
        Some(f) if f.eq_ignore_ascii_case("INT_16") => BinaryFormat::Int16,
        Some(f) if f.eq_ignore_ascii_case("INT_32") => BinaryFormat::Int32,
        Some(f) if f.eq_ignore_ascii_case("IEEE_FLOAT_32") => BinaryFormat::Float32,
        Some(f) => {
            return Err(unsupported(format!(
                "BinaryFormat={} is not read (INT_16, INT_32 and IEEE_FLOAT_32 are)",
                excerpt_str(f)
            )))
        }
        None => {
            return Err(Error::malformed(
                path,
                "the header's [Binary Infos] has no BinaryFormat",
            ))
        }
    };
    if ini
        .get(BINARY, "UseBigEndianOrder")
        .is_some_and(|v| v.eq_ignore_ascii_case("YES"))
    {
        return Err(unsupported(
            "UseBigEndianOrder=YES: big-endian data is not read".into(),
        ));
    }
    let channels = (1..=n)
        .map(|i| channel_info(path, &ini, i))
        .collect::<Result<Vec<_>>>()?;
    Ok(Header {
        data_file,
        marker_file,
        format,
        orientation,
        interval_us,
        data_points,
        channels,
    })
}

/// Channel `i` (from 1) of `[Channel Infos]`.
fn channel_info(path: &Path, ini: &Ini, i: u64) -> Result<ChannelInfo> {
    let key = format!("Ch{i}");
    let entry = ini.get("Channel Infos", &key).ok_or_else(|| {
        Error::malformed(
            path,
            format!("the header declares NumberOfChannels of at least {i} but [Channel Infos] has no {key}"),
        )
    })?;
    let fields: Vec<&str> = entry.split(',').collect();
    let field = |k: usize| fields.get(k).map_or("", |f| f.trim());
    let label = match unescape(field(0)) {
        l if l.trim().is_empty() => key.clone(),
        l => l,
    };
    let res_text = field(2);
    let resolution = if res_text.is_empty() {
        1.0
    } else {
        res_text
            .parse::<f64>()
            .ok()
            .filter(|r| r.is_finite())
            .ok_or_else(|| {
                Error::malformed(
                    path,
                    format!(
                        "{key} ({}): resolution {} is not a number",
                        excerpt_str(&label),
                        excerpt_str(res_text)
                    ),
                )
            })?
    };
    let unit = match field(3) {
        "" => "µV".to_string(),
        u => unescape(u),
    };
    Ok(ChannelInfo {
        label,
        unit,
        resolution,
    })
}

// ---------------------------------------------------------------------------
// Markers

/// Parse a marker file's bytes: its `[Marker Infos]` entries in file order.
///
/// Errors: a first line that is no BrainVision marker file's, a marker
/// without a whole-number position ≥ 1 or size, more than [`MAX_MARKERS`].
pub fn parse_markers(path: &Path, bytes: &[u8]) -> Result<Vec<Marker>> {
    let ini = Ini::parse(&decode_text(bytes));
    let first = &ini.first_line;
    if !((first.starts_with("Brain Vision") || first.starts_with("BrainVision"))
        && first.contains("Marker File"))
    {
        return Err(Error::malformed(
            path,
            format!(
                "the marker file is not a BrainVision marker file: its first line is {}",
                excerpt_str(first)
            ),
        ));
    }
    let entries = ini.section("Marker Infos");
    let entries: Vec<&(String, String)> = entries
        .iter()
        .filter(|(k, _)| {
            k.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("mk"))
                && k.len() > 2
                && k[2..].bytes().all(|b| b.is_ascii_digit())
        })
        .collect();
    if entries.len() > MAX_MARKERS {
        return Err(limit(
            path,
            "markers",
            entries.len() as u64,
            MAX_MARKERS as u64,
        ));
    }
    entries
        .into_iter()
        .map(|(key, value)| {
            let fields: Vec<&str> = value.split(',').collect();
            let field = |k: usize| fields.get(k).map_or("", |f| f.trim());
            let number = |k: usize, what: &str, default: Option<u64>| -> Result<u64> {
                let t = field(k);
                match (t.parse::<u64>(), default) {
                    (Ok(v), _) => Ok(v),
                    (Err(_), Some(d)) if t.is_empty() => Ok(d),
                    _ => Err(Error::malformed(
                        path,
                        format!(
                            "marker {key}: {what} {} is not a whole number",
                            excerpt_str(t)
                        ),
                    )),
                }
            };
            let position = number(2, "position", None)?;
            if position == 0 {
                return Err(Error::malformed(
                    path,
                    format!("marker {key}: position 0 (positions count data points from 1)"),
                ));
            }
            Ok(Marker {
                kind: unescape(field(0)),
                description: unescape(fields.get(1).copied().unwrap_or("")),
                position,
                size: number(3, "size", Some(1))?,
                date_s: parse_date(field(5)),
            })
        })
        .collect()
}

/// A `YYYYMMDDhhmmssuuuuuu` date as seconds since 1970-01-01; `None` when
/// it is not one (empty, all zeros, out of range).
fn parse_date(t: &str) -> Option<f64> {
    if t.len() != 20 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |a: usize, b: usize| t[a..b].parse::<i64>().ok();
    let (y, mo, d) = (n(0, 4)?, n(4, 6)?, n(6, 8)?);
    let (h, mi, s, us) = (n(8, 10)?, n(10, 12)?, n(12, 14)?, n(14, 20)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 + s) as f64 + us as f64 * 1e-6)
}

fn is_new_segment(m: &Marker) -> bool {
    m.kind.trim().eq_ignore_ascii_case("new segment")
}

/// The segments of `n` data points at `rate_hz` that the `New Segment`
/// markers make (see the module doc).
fn segments_of(markers: &[Marker], n: usize, rate_hz: f64) -> Vec<Segment> {
    let date0 = markers
        .iter()
        .find(|m| is_new_segment(m) && m.position == 1)
        .and_then(|m| m.date_s);
    let mut starts: Vec<(usize, Option<f64>)> = markers
        .iter()
        .filter(|m| is_new_segment(m) && m.position > 1 && m.position - 1 < n as u64)
        .map(|m| ((m.position - 1) as usize, m.date_s))
        .collect();
    starts.sort_by_key(|s| s.0);
    starts.dedup_by_key(|s| s.0);
    let mut segments: Vec<Segment> = Vec::with_capacity(starts.len() + 1);
    let mut begin = (0usize, 0.0f64);
    for (idx, date) in starts.into_iter().chain(std::iter::once((n, None))) {
        segments.push(Segment {
            start: begin.0,
            len: idx - begin.0,
            start_s: begin.1,
        });
        let end_s = begin.1 + (idx - begin.0) as f64 / rate_hz;
        let dated = match (date0, date) {
            (Some(a), Some(b)) if b - a >= end_s => b - a,
            _ => end_s,
        };
        begin = (idx, dated);
    }
    segments
}

/// The time of data point `idx` (from 0) in the segments' timeline; a point
/// beyond the last segment continues it.
fn time_of(idx: u64, segments: &[Segment], rate_hz: f64) -> f64 {
    let p = segments.partition_point(|s| s.start as u64 <= idx);
    match segments.get(p.saturating_sub(1)) {
        Some(s) => s.start_s + (idx - s.start as u64) as f64 / rate_hz,
        None => idx as f64 / rate_hz,
    }
}

/// The markers as annotations (see the module doc), by onset.
fn annotations_of(markers: &[Marker], segments: &[Segment], rate_hz: f64) -> Vec<Annotation> {
    let mut out: Vec<Annotation> = markers
        .iter()
        .filter(|m| !(is_new_segment(m) && m.position == 1))
        .filter_map(|m| {
            let text = if m.description.trim().is_empty() {
                m.kind.trim().to_string()
            } else {
                m.description.clone()
            };
            (!text.is_empty()).then(|| Annotation {
                onset_s: time_of(m.position - 1, segments, rate_hz),
                duration_s: (m.size > 1).then(|| m.size as f64 / rate_hz),
                text,
            })
        })
        .collect();
    out.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));
    out
}

// ---------------------------------------------------------------------------
// Companion files

/// The path of a companion file named `name` by `key` in the header at
/// `header`: relative to the header's folder, never outside it.
fn companion(header: &Path, name: &str, key: &str) -> Result<PathBuf> {
    let refuse = |why: &str| {
        Error::malformed(
            header,
            format!("{key}={} is refused: {why}", excerpt_str(name)),
        )
    };
    let normalised = name.replace('\\', "/");
    let rel = Path::new(&normalised);
    if normalised.starts_with('/') || normalised.get(1..2) == Some(":") {
        return Err(refuse(
            "the header may only name a file in its own folder (an absolute path)",
        ));
    }
    let mut out = header.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut parts = 0;
    for c in rel.components() {
        match c {
            Component::Normal(p) => {
                out.push(p);
                parts += 1;
            }
            Component::CurDir => {}
            Component::ParentDir => {
                return Err(refuse(
                    "the header may only name a file in its own folder (`..` leaves it)",
                ))
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(refuse(
                    "the header may only name a file in its own folder (an absolute path)",
                ))
            }
        }
    }
    if parts == 0 {
        return Err(refuse("it names no file"));
    }
    Ok(out)
}

fn companion_error(header: &Path, name: &str, key: &str, e: &dyn std::fmt::Display) -> Error {
    let what = if key == "DataFile" { "data" } else { "marker" };
    Error::malformed(
        header,
        format!(
            "{what} file {} ({key} in the header) cannot be read: {e}",
            excerpt_str(name)
        ),
    )
}

/// Open a companion file as every input is opened, naming the header in
/// the error.
fn open_companion(header: &Path, p: &Path, name: &str, key: &str) -> Result<std::fs::File> {
    crate::io::open_regular(p).map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::NotFound {
            " (was it renamed? the header must name it)"
        } else {
            ""
        };
        companion_error(header, name, key, &format!("{e}{hint}"))
    })
}

/// The data file, read at offsets.
trait Source {
    fn read_at(&mut self, path: &Path, offset: u64, buf: &mut [u8]) -> Result<()>;
}

struct FileSource<'a> {
    file: std::fs::File,
    /// `DataFile` as the header writes it, for messages.
    name: &'a str,
}

impl Source for FileSource<'_> {
    fn read_at(&mut self, header: &Path, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.file
            .seek(SeekFrom::Start(offset))
            .and_then(|_| self.file.read_exact(buf))
            .map_err(|e| companion_error(header, self.name, "DataFile", &e))
    }
}

struct SliceSource<'a>(&'a [u8]);

impl Source for SliceSource<'_> {
    fn read_at(&mut self, header: &Path, offset: u64, buf: &mut [u8]) -> Result<()> {
        let from = usize::try_from(offset).unwrap_or(usize::MAX);
        let part = from
            .checked_add(buf.len())
            .and_then(|to| self.0.get(from..to))
            .ok_or_else(|| Error::malformed(header, "data file ends early"))?;
        buf.copy_from_slice(part);
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Assembly

/// The data points to read and the truncation note, from the data file's
/// length (see the module doc).
fn data_points(path: &Path, h: &Header, data_len: u64) -> Result<(usize, Option<ReadNote>)> {
    let bps = h.format.bytes() as u64;
    let frame = bps * h.channels.len() as u64;
    let whole = data_len / frame;
    let rest = data_len % frame;
    let (n, note) = match h.orientation {
        Orientation::Multiplexed => {
            let declared = h.data_points.unwrap_or(whole);
            let n = whole.min(declared);
            let note = if declared > whole {
                Some(format!(
                    "truncated file: the header declares {declared} data points, the data file \
                     holds {whole} whole one(s); read those, the rest of the recording is missing"
                ))
            } else if rest > 0 && h.data_points.is_none() {
                Some(format!(
                    "truncated file: the data file ends {rest} bytes into data point {whole} \
                     ({frame} bytes each); read the {whole} whole one(s)"
                ))
            } else {
                None
            };
            (n, note)
        }
        Orientation::Vectorized => {
            let n = match h.data_points {
                Some(d) => d,
                None if rest == 0 => whole,
                None => {
                    return Err(Error::malformed(
                        path,
                        format!(
                            "vectorized data file of {data_len} bytes is not a whole number of \
                             {bps}-byte samples for each of {} channels (truncated? a vectorized \
                             file cut short cannot be read)",
                            h.channels.len()
                        ),
                    ))
                }
            };
            assemble::check_samples(path, "data points per channel", n)?;
            if n.saturating_mul(frame) > data_len {
                return Err(Error::malformed(
                    path,
                    format!(
                        "truncated data file: DataPoints={n} × {} channels × {bps} bytes needs \
                         {} bytes, the file holds {data_len} (a vectorized file cut short \
                         cannot be read)",
                        h.channels.len(),
                        n.saturating_mul(frame)
                    ),
                ));
            }
            (n, None)
        }
    };
    assemble::check_samples(path, "data points per channel", n)?;
    if n == 0 {
        return Err(Error::malformed(
            path,
            format!("the data file ({data_len} bytes) holds no whole data point"),
        ));
    }
    Ok((
        n as usize,
        note.map(|m| ReadNote::warning(FlagCode::TruncatedFile, m)),
    ))
}

/// Decode the channels in `decode` (index, gain to the output unit) of the
/// `n`-point data file.
fn decode_samples<S: Source>(
    path: &Path,
    h: &Header,
    src: &mut S,
    n: usize,
    decode: &[(usize, f64)],
) -> Result<Vec<Vec<f32>>> {
    let bps = h.format.bytes();
    let nch = h.channels.len();
    let mut out: Vec<Vec<f32>> = decode.iter().map(|_| super::buffers::take(n)).collect();
    if decode.is_empty() {
        return Ok(out);
    }
    match h.orientation {
        Orientation::Multiplexed => {
            let frame = bps * nch;
            let per_chunk = (CHUNK_BYTES / frame).max(1);
            let mut buf = vec![0u8; per_chunk * frame];
            let mut done = 0usize;
            while done < n {
                let k = per_chunk.min(n - done);
                let b = &mut buf[..k * frame];
                src.read_at(path, (done * frame) as u64, b)?;
                for f in b.chunks_exact(frame) {
                    for (o, &(ci, gain)) in out.iter_mut().zip(decode) {
                        o.push((h.format.value(&f[ci * bps..]) * gain) as f32);
                    }
                }
                done += k;
            }
        }
        Orientation::Vectorized => {
            let per_chunk = CHUNK_BYTES / bps;
            let mut buf = vec![0u8; per_chunk * bps];
            for (o, &(ci, gain)) in out.iter_mut().zip(decode) {
                let base = (ci * n * bps) as u64;
                let mut done = 0usize;
                while done < n {
                    let k = per_chunk.min(n - done);
                    let b = &mut buf[..k * bps];
                    src.read_at(path, base + (done * bps) as u64, b)?;
                    o.extend(
                        b.chunks_exact(bps)
                            .map(|s| (h.format.value(s) * gain) as f32),
                    );
                    done += k;
                }
            }
        }
    }
    for (o, &(ci, _)) in out.iter().zip(decode) {
        if let Some(i) = o.iter().position(|v| !v.is_finite()) {
            let c = &h.channels[ci];
            return Err(Error::malformed(
                path,
                format!(
                    "channel {ci} ({}): data point {i} is {} (resolution {} {}), not a finite value",
                    excerpt_str(&c.label),
                    o[i],
                    Shown(c.resolution),
                    excerpt_str(&c.unit)
                ),
            ));
        }
    }
    Ok(out)
}

fn assemble_recording<S: Source>(
    path: &Path,
    h: &Header,
    markers: Option<&[u8]>,
    src: &mut S,
    data_len: u64,
    opts: &ReadOptions,
) -> Result<Recording> {
    let hz = 1e6 / h.interval_us;
    let rate: SampleRate = assemble::sample_rate(
        path,
        hz,
        &format!(
            "the recording (SamplingInterval={} µs)",
            Shown(h.interval_us)
        ),
    )?;
    let (n, note) = data_points(path, h, data_len)?;
    let markers = match markers {
        Some(m) => parse_markers(path, m)?,
        None => Vec::new(),
    };
    let labels: Vec<&str> = h.channels.iter().map(|c| c.label.as_str()).collect();
    let kinds: Vec<ChannelKind> = labels
        .iter()
        .map(|l| {
            if assemble::is_trigger_label(l) {
                ChannelKind::Trigger
            } else {
                ChannelKind::Signal
            }
        })
        .collect();
    let default_emg = SourceFormat::BrainVision.default_emg_channel(kinds.iter().copied());
    let (filter, emg) = opts.channels.resolve(path, &labels, default_emg)?;
    let wanted: Vec<bool> = (0..h.channels.len())
        .map(|i| filter.wants(i) || kinds[i] == ChannelKind::Trigger || emg == Some(i))
        .collect();
    let decode: Vec<(usize, f64)> = h
        .channels
        .iter()
        .enumerate()
        .filter(|(i, _)| wanted[*i])
        .map(|(i, c)| {
            let unit = match kinds[i] {
                ChannelKind::Signal => assemble::millivolts_per_unit(&c.unit).unwrap_or(1.0),
                _ => 1.0,
            };
            (i, c.resolution * unit)
        })
        .collect();
    let mut decoded = decode_samples(path, h, src, n, &decode)?.into_iter();
    let channels = h
        .channels
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if wanted[i] {
                let samples = decoded.next().unwrap_or_default();
                assemble::channel(i, c.label.clone(), c.unit.clone(), kinds[i], samples)
            } else {
                assemble::listed_channel(i, c.label.clone(), c.unit.clone(), kinds[i], n, None)
            }
        })
        .collect();
    let segments = segments_of(&markers, n, rate.hz());
    let annotations = annotations_of(&markers, &segments, rate.hz());
    let mut rec = assemble::recording(path, SourceFormat::BrainVision, rate, channels, segments);
    rec.stimuli = assemble::stimuli_from_annotations(&annotations, &rec.segments, rate.hz());
    rec.annotations = annotations;
    rec.notes.extend(note);
    let e = emg.unwrap_or(default_emg);
    if let Some(c) = rec
        .channels
        .get(e)
        .filter(|c| c.kind == ChannelKind::Signal)
    {
        rec.notes.extend(assemble::unit_note(&c.label, &c.unit));
    }
    Ok(rec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::ChannelFilter;
    use crate::recording::{ChannelSel, StimulusOrigin};

    fn header(extra_common: &str, binary: &str, channels: &[&str]) -> Vec<u8> {
        let mut s = String::from(
            "Brain Vision Data Exchange Header File Version 1.0\r\n; comment\r\n\r\n\
             [Common Infos]\r\nCodepage=UTF-8\r\nDataFile=x.eeg\r\nMarkerFile=x.vmrk\r\n\
             DataFormat=BINARY\r\n",
        );
        s.push_str(extra_common);
        s.push_str(&format!(
            "NumberOfChannels={}\r\nSamplingInterval=100\r\n\r\n[Binary Infos]\r\nBinaryFormat={binary}\r\n\r\n[Channel Infos]\r\n",
            channels.len()
        ));
        for (i, c) in channels.iter().enumerate() {
            s.push_str(&format!("Ch{}={c}\r\n", i + 1));
        }
        s.push_str("\r\n[Comment]\r\n[Channel Infos]\r\nCh1=Not,,1,V\r\n");
        s.into_bytes()
    }

    fn markers(lines: &[&str]) -> Vec<u8> {
        let mut s = String::from(
            "Brain Vision Data Exchange Marker File, Version 1.0\n\n[Common Infos]\nCodepage=UTF-8\nDataFile=x.eeg\n\n[Marker Infos]\n",
        );
        for (i, l) in lines.iter().enumerate() {
            s.push_str(&format!("Mk{}={l}\n", i + 1));
        }
        s.into_bytes()
    }

    fn i16s(v: &[i16]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    fn p() -> PathBuf {
        PathBuf::from("dir/x.vhdr")
    }

    fn read(h: &[u8], m: Option<&[u8]>, d: &[u8]) -> Result<Recording> {
        read_brainvision_parts(&p(), h, m, d, &ReadOptions::default())
    }

    fn err(h: &[u8], m: Option<&[u8]>, d: &[u8]) -> String {
        read(h, m, d).unwrap_err().to_string()
    }

    #[test]
    fn multiplexed_int16_with_resolution_units_and_markers() {
        let h = header(
            "",
            "INT_16",
            &["EMG\\1ADM,,0.5,µV", "Stim,,1,V", "Force,,2,N"],
        );
        // 4 data points × 3 channels.
        let d = i16s(&[10, 0, 1, -20, 1, 2, 30, 0, 3, -40, 0, 4]);
        let m = markers(&[
            "New Segment,,1,1,0,20240102100000000000",
            "Stimulus,S  1,2,1,0",
            "Comment,baseline,1,1,0",
            "Response,R  1,3,1,0",
            "Comment,exercise,3,2,0",
        ]);
        let rec = read(&h, Some(&m), &d).unwrap();
        assert_eq!(rec.format, SourceFormat::BrainVision);
        assert_eq!(rec.sample_rate.hz(), 10_000.0);
        assert_eq!(rec.channels[0].label, "EMG,ADM");
        assert_eq!(rec.channels[0].unit, "µV");
        assert_eq!(rec.channels[0].samples, vec![0.005, -0.01, 0.015, -0.02]);
        assert_eq!(rec.channels[1].kind, ChannelKind::Trigger);
        assert_eq!(rec.channels[1].samples, vec![0.0, 1.0, 0.0, 0.0]);
        // Not a voltage: as stored × resolution.
        assert_eq!(rec.channels[2].samples, vec![2.0, 4.0, 6.0, 8.0]);
        let texts: Vec<&str> = rec.annotations.iter().map(|a| a.text.as_str()).collect();
        assert_eq!(texts, vec!["baseline", "S  1", "R  1", "exercise"]);
        assert_eq!(rec.annotations[1].onset_s, 1e-4);
        assert_eq!(rec.annotations[3].duration_s, Some(2e-4));
        assert_eq!(rec.annotations[1].duration_s, None);
        let st = rec.stimuli.unwrap();
        assert_eq!(st.samples, vec![1]);
        assert_eq!(st.origin, StimulusOrigin::Annotations);
        assert_eq!(rec.segments.len(), 1);
        assert!(rec.notes.is_empty());
    }

    #[test]
    fn vectorized_int32_and_float32() {
        let h = header(
            "DataOrientation=VECTORIZED\r\n",
            "INT_32",
            &["A,,0.001,mV", "B,,1"],
        );
        let d: Vec<u8> = [1i32, 2, 3, -1, -2, -3]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let rec = read(&h, None, &d).unwrap();
        assert_eq!(rec.channels[0].samples, vec![0.001, 0.002, 0.003]);
        // No unit: µV.
        assert_eq!(rec.channels[1].unit, "µV");
        assert_eq!(rec.channels[1].samples, vec![-0.001, -0.002, -0.003]);
        let h = header("", "IEEE_FLOAT_32", &["A,,,mV"]);
        let d: Vec<u8> = [1.5f32, -2.25]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        assert_eq!(
            read(&h, None, &d).unwrap().channels[0].samples,
            vec![1.5, -2.25]
        );
        let d: Vec<u8> = [1.5f32, f32::NAN]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let e = err(&h, None, &d);
        assert!(e.contains("channel 0 (\"A\"): data point 1 is NaN"), "{e}");
    }

    #[test]
    fn new_segments_split_the_timeline() {
        let h = header("", "INT_16", &["A,,1,µV"]);
        let d = i16s(&[0; 10]);
        let m = markers(&[
            "New Segment,,1,1,0,20240102100000000000",
            "Stimulus,S  1,3,1,0",
            // Dated 10 s after the first segment's start.
            "New Segment,,5,1,0,20240102100010000000",
            "Stimulus,S  1,6,1,0",
            // Undated: follows on directly.
            "New Segment,,8,1,0",
            "Stimulus,,9,1,0",
        ]);
        let rec = read(&h, Some(&m), &d).unwrap();
        let segs: Vec<(usize, usize, f64)> = rec
            .segments
            .iter()
            .map(|s| (s.start, s.len, s.start_s))
            .collect();
        assert_eq!(segs, vec![(0, 4, 0.0), (4, 3, 10.0), (7, 3, 10.0003)]);
        let st = rec.stimuli.unwrap();
        assert_eq!(st.samples, vec![2, 5, 8]);
        let onsets: Vec<f64> = rec.annotations.iter().map(|a| a.onset_s).collect();
        assert_eq!(onsets[0], 2e-4);
        assert!((onsets[2] - 10.0001).abs() < 1e-9, "{onsets:?}");
        assert!(rec.annotations.iter().any(|a| a.text == "New Segment"));
        assert!(rec.annotations.iter().any(|a| a.text == "Stimulus"));
    }

    #[test]
    fn dates_are_parsed() {
        assert_eq!(parse_date("19700101000000000000"), Some(0.0));
        assert_eq!(parse_date("20240102100000500000"), Some(1_704_189_600.5));
        assert_eq!(parse_date("00000000000000000000"), None);
        assert_eq!(parse_date("2024"), None);
    }

    #[test]
    fn truncation_and_data_points() {
        let h = header("", "INT_16", &["A,,1,µV", "B,,1,µV"]);
        let rec = read(&h, None, &i16s(&[1, 2, 3, 4, 5])).unwrap();
        assert_eq!(rec.len(), 2);
        assert_eq!(rec.notes[0].code, FlagCode::TruncatedFile);
        assert!(rec.notes[0]
            .message
            .contains("ends 2 bytes into data point 2"));
        let h = header("DataPoints=5\r\n", "INT_16", &["A,,1,µV", "B,,1,µV"]);
        let rec = read(&h, None, &i16s(&[1, 2, 3, 4])).unwrap();
        assert_eq!(rec.len(), 2);
        assert!(rec.notes[0].message.contains("declares 5 data points"));
        let h = header("DataOrientation=VECTORIZED\r\n", "INT_16", &["A", "B"]);
        let e = err(&h, None, &i16s(&[1, 2, 3]));
        assert!(
            e.contains("a vectorized file cut short cannot be read"),
            "{e}"
        );
        let h = header(
            "DataOrientation=VECTORIZED\r\nDataPoints=3\r\n",
            "INT_16",
            &["A", "B"],
        );
        let e = err(&h, None, &i16s(&[1, 2, 3, 4]));
        assert!(e.contains("needs 12 bytes, the file holds 8"), "{e}");
        let e = err(&header("", "INT_16", &["A"]), None, &[1]);
        assert!(e.contains("holds no whole data point"), "{e}");
    }

    #[test]
    fn limits_and_malformed_headers() {
        let mut h = String::from_utf8(header("", "INT_16", &["A"])).unwrap();
        h = h.replace("NumberOfChannels=1", "NumberOfChannels=100000");
        let e = read(h.as_bytes(), None, &[0; 4]).unwrap_err();
        assert!(matches!(e, Error::Limit { .. }), "{e}");
        let h2 = String::from_utf8(header("", "INT_16", &["A"]))
            .unwrap()
            .replace("NumberOfChannels=1", "NumberOfChannels=3");
        let e = err(h2.as_bytes(), None, &[0; 12]);
        assert!(e.contains("[Channel Infos] has no Ch2"), "{e}");
        let e = err(b"Hello\n", None, &[]);
        assert!(e.contains("not a BrainVision header"), "{e}");
        let e = read(&header("", "INT_64", &["A"]), None, &[0; 8]).unwrap_err();
        assert!(matches!(e, Error::UnsupportedFormat { .. }), "{e}");
        let h3 = String::from_utf8(header("", "INT_16", &["A"]))
            .unwrap()
            .replace("SamplingInterval=100", "SamplingInterval=0");
        let e = err(h3.as_bytes(), None, &[0; 8]);
        assert!(
            e.contains("SamplingInterval=\"0\" is not a positive"),
            "{e}"
        );
        let h4 = String::from_utf8(header("", "INT_16", &["A"]))
            .unwrap()
            .replace("SamplingInterval=100", "SamplingInterval=10000");
        let e = err(h4.as_bytes(), None, &[0; 8]);
        assert!(e.contains("outside the accepted range"), "{e}");
        let e = read(&header("", "INT_16", &["A,,x,µV"]), None, &[0; 2]).unwrap_err();
        assert!(
            e.to_string().contains("resolution \"x\" is not a number"),
            "{e}"
        );
        let h5 = String::from_utf8(header("", "INT_16", &["A"]))
            .unwrap()
            .replace("DataFormat=BINARY", "DataFormat=ASCII");
        let e = read(h5.as_bytes(), None, &[0; 2]).unwrap_err();
        assert!(matches!(e, Error::UnsupportedFormat { .. }), "{e}");
        let m = markers(&["Stimulus,S  1,x,1,0"]);
        let e = err(&header("", "INT_16", &["A"]), Some(&m), &[0; 2]);
        assert!(
            e.contains("marker Mk1: position \"x\" is not a whole number"),
            "{e}"
        );
        let m = markers(&["Stimulus,S  1,0,1,0"]);
        let e = err(&header("", "INT_16", &["A"]), Some(&m), &[0; 2]);
        assert!(e.contains("position 0"), "{e}");
    }

    #[test]
    fn companion_files_stay_in_the_header_folder() {
        let h = Path::new("/data/rec/x.vhdr");
        assert_eq!(
            companion(h, "x.eeg", "DataFile").unwrap(),
            PathBuf::from("/data/rec/x.eeg")
        );
        assert_eq!(
            companion(h, "raw\\x.eeg", "DataFile").unwrap(),
            PathBuf::from("/data/rec/raw/x.eeg")
        );
        for bad in [
            "../x.eeg",
            "/etc/passwd",
            "C:\\x.eeg",
            "a/../../x",
            "\\\\server\\x",
            ".",
        ] {
            let e = companion(h, bad, "DataFile").unwrap_err().to_string();
            assert!(e.starts_with("/data/rec/x.vhdr: DataFile="), "{bad}: {e}");
        }
        assert_eq!(
            companion(Path::new("x.vhdr"), "x.eeg", "DataFile").unwrap(),
            PathBuf::from("x.eeg")
        );
    }

    #[test]
    fn ansi_codepage_and_fallback() {
        let mut h = header("", "INT_16", &["EMG,,1,XV"]);
        let s = String::from_utf8(h.clone())
            .unwrap()
            .replace("UTF-8", "ANSI");
        h = s.into_bytes();
        let at = h.windows(2).position(|w| w == b"XV").unwrap();
        h[at] = 0xB5; // µ in Windows-1252
        let rec = read(&h, None, &[0; 2]).unwrap();
        assert_eq!(rec.channels[0].unit, "µV");
        assert_eq!(cp1252(&[0x80, 0x41, 0xE9]), "€Aé");
    }

    #[test]
    fn channel_filter_decodes_the_emg_and_triggers() {
        let h = header("", "INT_16", &["Fp1", "EMG", "Trig"]);
        let d = i16s(&[1, 2, 3, 4, 5, 6]);
        let opts = ReadOptions {
            channels: ChannelFilter::Select {
                emg: Some(ChannelSel::Label("EMG".into())),
                others: vec![],
            },
            ..ReadOptions::default()
        };
        let rec = read_brainvision_parts(&p(), &h, None, &d, &opts).unwrap();
        assert!(!rec.channels[0].is_loaded());
        assert_eq!(rec.channels[0].len, 2);
        assert_eq!(rec.channels[1].samples, vec![0.002, 0.005]);
        assert_eq!(rec.channels[2].samples, vec![3.0, 6.0]);
    }

    #[test]
    fn chunks_larger_than_one_read() {
        let n = CHUNK_BYTES; // two channels of i16: 4 chunks
        let h = header("", "INT_16", &["A", "B"]);
        let v: Vec<i16> = (0..2 * n).map(|i| (i % 1000) as i16).collect();
        let rec = read(&h, None, &i16s(&v)).unwrap();
        assert_eq!(rec.len(), n);
        assert_eq!(
            rec.channels[1].samples[n - 1],
            ((2 * n - 1) % 1000) as f32 * 1e-3
        );
        let hv = header("DataOrientation=VECTORIZED\r\n", "INT_16", &["A", "B"]);
        let rec = read(&hv, None, &i16s(&v)).unwrap();
        assert_eq!(rec.channels[1].samples[0], (n % 1000) as f32 * 1e-3);
    }

    #[test]
    fn mutated_headers_never_panic() {
        let h = header("", "INT_16", &["A,,1,µV", "Trig"]);
        let m = markers(&[
            "New Segment,,1,1,0,20240102100000000000",
            "Stimulus,S  1,2,1,0",
        ]);
        let d = i16s(&[1, 2, 3, 4, 5, 6]);
        let mut seed = 7u64;
        for _ in 0..3000 {
            let (mut h2, mut m2) = (h.clone(), m.clone());
            for _ in 0..3 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let target = if seed >> 63 == 0 { &mut h2 } else { &mut m2 };
                let i = (seed >> 20) as usize % target.len();
                target[i] = (seed >> 40) as u8;
            }
            match read(&h2, Some(&m2), &d) {
                Ok(r) => assert!(r.len() <= 3),
                Err(e) => assert!(!e.to_string().contains('\n')),
            }
        }
    }
}
