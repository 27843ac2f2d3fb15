//! EDF, EDF+ and BDF(+) reader.
//!
//! Overview: [`read_edf`] turns the bytes of a European Data Format file
//! (16-bit EDF and EDF+, BioSemi's 24-bit BDF and BDF+) into a [`Recording`]:
//! the signals at the EMG channel's sample rate in millivolts, the
//! discontinuous parts as [`Segment`]s, every annotation, and the stimulus
//! times that annotations give. [`parse_header`] and [`parse_tals`] are the
//! two halves of the format, public so tests and tools can use them alone.
//! The reader is written here because the available crates reject plain EDF
//! or EDF+D.
//!
//! [`read_edf_file`] reads a file from disk the same way, one data record at a
//! time through a buffer, passing over the signals it does not decode: memory
//! holds the decoded channels (4 bytes per sample), not the file. Both
//! functions run one decoder over a source of bytes (the slice, or the
//! buffered file), so they give the same recording, notes and errors.
//!
//! # Header
//!
//! A 256-byte fixed header (version `0       ` for EDF, `0xFF BIOSEMI` for
//! BDF; the 44-byte reserved field says `EDF+C`/`EDF+D`, `BDF+C`/`BDF+D` for
//! the "plus" variants) is followed by 256 bytes per signal, field by field
//! (all labels, then all transducers, …). Numbers are ASCII fields, trimmed of
//! blanks. Text fields should be ASCII; UTF-8 is accepted (a sequence cut by
//! the field's end is dropped), and anything else is read as Latin-1.
//!
//! Checks, each a one-line [`Error::Malformed`] or [`Error::Limit`] before any
//! large allocation:
//! - at most [`MAX_EDF_SIGNALS`] signals, at least one;
//! - the header-size field equals 256 × (signals + 1), and the file holds it;
//! - digital and physical minimum and maximum differ (checked for every signal
//!   that is decoded, naming it); samples per record ≥ 1; record duration > 0;
//! - the declared samples per channel (records × samples per record) stay
//!   within [`MAX_SAMPLES_PER_CHANNEL`], computed without overflow, so an
//!   absurd record count is refused even when the file is small.
//!
//! Recovery: a record count of −1 (a recorder that never closed the file) is
//! taken from the file size; a declared count beyond the records the file
//! holds is cut to the whole records present (a partial last record is
//! dropped). Both a cut count and a dropped partial record leave a
//! `truncated_file` [`ReadNote`] in the [`Recording`], which the analysis
//! reports as a warning. A file without one whole record is an error.
//!
//! # Samples
//!
//! Digital values (16-bit little-endian for EDF, 24-bit for BDF) become
//! physical ones by the header's line:
//! `phys = (dig − dmin) × (pmax − pmin) / (dmax − dmin) + pmin`.
//! The physical dimension sets the unit: `uV`/`µV` × 0.001, `mV` × 1, `V` ×
//! 1000, `nV` × 10⁻⁶ (case-insensitive), so signals come out in millivolts.
//! Any other dimension (`%`, empty) keeps the physical values as they are;
//! the channel's [`Channel::unit`] is always the dimension as written. A
//! value beyond what a 32-bit float holds (an absurd physical range such as
//! ±1e300) is an error naming the channel and the sample.
//!
//! A signal whose label contains `trig`, `stim`, `marker` or `status`
//! (case-insensitive) is a [`ChannelKind::Trigger`] with raw physical values.
//! In a BDF, the `Status` channel keeps only the low 16 bits of its digital
//! value: those are BioSemi's trigger inputs, the high byte carries system
//! flags (CMS in range, battery) that would hide the edges.
//!
//! # Channels and rates
//!
//! Annotation signals (`EDF Annotations`, `BDF Annotations`) are not
//! channels; the channels are the other signals, indexed from 0 in file order.
//! The default EMG channel is the first that is not a trigger. Signals may each
//! have their own rate, but a [`Recording`] has one: it is the EMG channel's
//! (the one named by a [`ChannelFilter::Select`], else the first wanted
//! signal). Only signals at that rate are decoded (those the filter wants, plus
//! every trigger); the others keep their metadata, with their own rate in
//! [`Channel::sample_rate_hz`] and no samples.
//!
//! # Time, segments and annotations
//!
//! In EDF+ and BDF+ each data record starts with a time-keeping annotation
//! (`+start␔␔␀`): the record's start in seconds after the file's start time,
//! with any sub-second part. Both EDF+C and EDF+D records are placed by it.
//! Consecutive records whose starts are contiguous (within half a sample) form
//! one [`Segment`]; a gap starts a new one. A record that starts before the
//! previous one ends is an error, as is an EDF+D without annotation signal.
//! Plain EDF/BDF records are back to back. All times — segment starts,
//! annotation onsets — are seconds from the first data record's start (the
//! header's start time plus the first record's time-keeping offset, usually
//! its sub-second part): the first sample is at time 0, as in every other
//! format and as EDFlib and edfio count annotation onsets.
//!
//! Every time-stamped annotation list (TAL: `±onset[␕duration]␔text␔…␀`) of
//! every annotation signal is read ([`parse_tals`]); each non-blank text is an
//! [`Annotation`] (UTF-8, trimmed), sorted by onset. The empty texts of the
//! time-keeping annotations are not.
//!
//! Stimulus annotations — a text that is, ignoring case, `stim`, `stimulus`,
//! `trigger` or `trig` (optionally followed by a number), or `S` with or
//! without a number (`S1`, `S  1`) — give
//! [`Recording::stimuli`] ([`StimulusOrigin::Annotations`], timing known): each
//! onset maps to the nearest sample of the segment that holds it; onsets in a
//! gap or outside the data are skipped. See [`is_stimulus_text`].

use crate::error::{excerpt, excerpt_str, Error, Result};
use crate::io::{ChannelFilter, ReadOptions, MAX_SAMPLES_PER_CHANNEL};
use crate::recording::{
    is_stimulus_text, Annotation, Channel, ChannelKind, KnownStimuli, ReadNote, Recording, Segment,
    SourceFormat, StimulusOrigin,
};
use crate::units::{SampleRate, Shown};
use crate::vocab::FlagCode;
use std::io::{BufReader, Read, Seek};
use std::path::Path;

/// The largest number of signals a header may declare (EDF files rarely have
/// more than a few dozen; a larger count is far more likely a corrupt header).
pub const MAX_EDF_SIGNALS: u64 = 512;

/// Most EDF+ annotations kept from a file (and TALs in one data record):
/// each costs a few hundred bytes, and a hostile file could hold millions
/// in a few megabytes. An RNS study has one per stimulus at most.
pub const MAX_ANNOTATIONS: usize = 100_000;

/// Most segments (runs of data records without a gap) of an EDF+D: each
/// costs 24 bytes, so a file of one-sample records would otherwise take six
/// times its samples' memory in segments alone.
pub const MAX_SEGMENTS: usize = 250_000;

/// Size of the fixed header and of each signal's header, bytes.
const BLOCK: usize = 256;

/// The two sample encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// EDF / EDF+: 16-bit little-endian two's complement.
    Edf,
    /// BDF / BDF+: 24-bit little-endian two's complement.
    Bdf,
}

impl Variant {
    /// Bytes per stored sample.
    pub fn bytes_per_sample(self) -> usize {
        match self {
            Variant::Edf => 2,
            Variant::Bdf => 3,
        }
    }
}

/// One signal's header.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalHeader {
    /// Label, trimmed (`"EMG ADM"`, `"EDF Annotations"`).
    pub label: String,
    /// Transducer type, trimmed.
    pub transducer: String,
    /// Physical dimension as written, trimmed (`"uV"`, `"mV"`, `""`).
    pub dimension: String,
    /// Physical minimum.
    pub physical_min: f64,
    /// Physical maximum.
    pub physical_max: f64,
    /// Digital minimum.
    pub digital_min: i64,
    /// Digital maximum.
    pub digital_max: i64,
    /// Prefiltering, trimmed.
    pub prefilter: String,
    /// Samples in each data record.
    pub samples_per_record: usize,
    /// Whether this is an annotation signal (`EDF Annotations`).
    pub is_annotations: bool,
}

impl SignalHeader {
    /// Gain and offset that turn a digital value into a physical one
    /// (`phys = dig × gain + offset`), or why they cannot.
    fn line(&self) -> std::result::Result<(f64, f64), String> {
        if self.digital_max == self.digital_min {
            return Err(format!(
                "digital minimum and maximum are both {}",
                self.digital_min
            ));
        }
        if self.physical_max == self.physical_min {
            return Err(format!(
                "physical minimum and maximum are both {}",
                self.physical_min
            ));
        }
        let gain =
            (self.physical_max - self.physical_min) / (self.digital_max - self.digital_min) as f64;
        let offset = self.physical_min - self.digital_min as f64 * gain;
        if gain.is_finite() && offset.is_finite() {
            Ok((gain, offset))
        } else {
            Err("physical range too large".into())
        }
    }
}

/// The parsed and checked header.
#[derive(Debug, Clone, PartialEq)]
pub struct EdfHeader {
    /// Sample encoding.
    pub variant: Variant,
    /// EDF+ / BDF+ (reserved field `EDF+C`, `EDF+D`, `BDF+C`, `BDF+D`).
    pub plus: bool,
    /// EDF+D / BDF+D (discontinuous).
    pub discontinuous: bool,
    /// Local patient identification as written (EDF+: `code sex birthdate name`).
    pub patient: String,
    /// Local recording identification as written (EDF+: `Startdate dd-MMM-yyyy …`).
    pub recording: String,
    /// Start date as written (`dd.mm.yy`).
    pub start_date: String,
    /// Start time as written (`hh.mm.ss`).
    pub start_time: String,
    /// Header size, bytes (256 × (signals + 1)).
    pub header_bytes: usize,
    /// Number of data records as declared (−1: unknown).
    pub declared_records: i64,
    /// Duration of a data record, s.
    pub record_duration_s: f64,
    /// The signals, in file order (annotation signals included).
    pub signals: Vec<SignalHeader>,
}

impl EdfHeader {
    /// The [`SourceFormat`] this header stands for.
    pub fn format(&self) -> SourceFormat {
        match (self.variant, self.plus) {
            (Variant::Edf, false) => SourceFormat::Edf,
            (Variant::Edf, true) => SourceFormat::EdfPlus,
            (Variant::Bdf, false) => SourceFormat::Bdf,
            (Variant::Bdf, true) => SourceFormat::BdfPlus,
        }
    }

    /// Bytes of one data record (all signals), or `None` on overflow.
    pub fn record_bytes(&self) -> Option<u64> {
        let bps = self.variant.bytes_per_sample() as u64;
        self.signals.iter().try_fold(0u64, |acc, s| {
            (s.samples_per_record as u64)
                .checked_mul(bps)
                .and_then(|b| acc.checked_add(b))
        })
    }
}

/// A header field's bytes as text: UTF-8 when valid (an incomplete sequence
/// at the end, cut by the field's width, is dropped), Latin-1 otherwise;
/// trimmed of blanks and NULs.
fn field_text(b: &[u8]) -> String {
    let s = match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        Err(e) if e.error_len().is_none() => {
            String::from_utf8_lossy(&b[..e.valid_up_to()]).into_owned()
        }
        Err(_) => b.iter().map(|&c| char::from(c)).collect(),
    };
    s.trim_matches(|c: char| c.is_whitespace() || c == '\0')
        .to_string()
}

/// An ASCII number field, trimmed; `what` names it in the error.
fn number_text<'a>(path: &Path, b: &'a [u8], what: &str) -> Result<&'a str> {
    let s = std::str::from_utf8(b)
        .ok()
        .map(|s| s.trim_matches(|c: char| c == ' ' || c == '\0'))
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            Error::malformed(
                path,
                format!("header field {what} is not a number: {}", excerpt(b)),
            )
        })?;
    Ok(s)
}

fn int_field(path: &Path, b: &[u8], what: &str) -> Result<i64> {
    let s = number_text(path, b, what)?;
    s.parse::<i64>().map_err(|_| {
        Error::malformed(
            path,
            format!("header field {what} is not an integer: {}", excerpt_str(s)),
        )
    })
}

fn float_field(path: &Path, b: &[u8], what: &str) -> Result<f64> {
    let s = number_text(path, b, what)?;
    // Rust also parses "inf" and "NaN"; a header never means those.
    s.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| {
            Error::malformed(
                path,
                format!("header field {what} is not a number: {}", excerpt_str(s)),
            )
        })
}

/// Parse and check the header (see the module doc for the rules).
///
/// `bytes` is the whole file; only the header is read, but its declared size
/// is checked against the file length.
pub fn parse_header(path: &Path, bytes: &[u8]) -> Result<EdfHeader> {
    read_header(path, &mut InMemory(bytes), bytes.len() as u64)
}

/// [`parse_header`] reading from `src`, positioned at the start of a
/// `file_len`-byte file: the fixed header, then (once its fields are checked)
/// the signal headers, at most 128 KiB. `src` is left at the first data record.
fn read_header<S: Source>(path: &Path, src: &mut S, file_len: u64) -> Result<EdfHeader> {
    if file_len < BLOCK as u64 {
        return Err(Error::malformed(
            path,
            format!(
                "file too short for an EDF header ({file_len} bytes, the fixed header alone is 256)"
            ),
        ));
    }
    let mut fixed = [0u8; BLOCK];
    fixed.copy_from_slice(src.take(BLOCK).map_err(|e| io_error(path, e))?);
    let bytes = &fixed;
    let variant = variant_of(path, bytes)?;
    let ns = signal_count(path, bytes)?;
    let expected = header_size(path, bytes, ns, file_len)?;
    let reserved = field_text(&bytes[192..236]);
    let plus = reserved.starts_with("EDF+") || reserved.starts_with("BDF+");
    let discontinuous = plus && reserved[4..].starts_with('D');
    let declared_records = int_field(path, &bytes[236..244], "\"number of data records\"")?;
    let record_duration_s = float_field(path, &bytes[244..252], "\"duration of a data record\"")?;

    let sig = src.take(expected - BLOCK).map_err(|e| io_error(path, e))?;
    let signals = signal_headers(path, sig, ns)?;
    // float_field already refused NaN and infinities.
    if record_duration_s <= 0.0 {
        return Err(Error::malformed(
            path,
            format!(
                "data record duration must be positive, got {} s",
                Shown(record_duration_s)
            ),
        ));
    }
    Ok(EdfHeader {
        variant,
        plus,
        discontinuous,
        patient: field_text(&bytes[8..88]),
        recording: field_text(&bytes[88..168]),
        start_date: field_text(&bytes[168..176]),
        start_time: field_text(&bytes[176..184]),
        header_bytes: expected,
        declared_records,
        record_duration_s,
        signals,
    })
}

/// The sample encoding the version field of the fixed header names.
fn variant_of(path: &Path, fixed: &[u8; BLOCK]) -> Result<Variant> {
    if &fixed[0..8] == b"0       " {
        Ok(Variant::Edf)
    } else if fixed[0] == 0xFF && &fixed[1..8] == b"BIOSEMI" {
        Ok(Variant::Bdf)
    } else {
        Err(Error::malformed(
            path,
            format!(
                "not an EDF or BDF header (version field {})",
                excerpt(&fixed[0..8])
            ),
        ))
    }
}

/// The number of signals the fixed header declares: at least 1, at most
/// [`MAX_EDF_SIGNALS`].
fn signal_count(path: &Path, fixed: &[u8; BLOCK]) -> Result<usize> {
    let ns = int_field(path, &fixed[252..256], "\"number of signals\"")?;
    if ns < 1 {
        return Err(Error::malformed(
            path,
            format!("header declares {ns} signals (at least 1 needed)"),
        ));
    }
    let ns_u = ns as u64;
    if ns_u > MAX_EDF_SIGNALS {
        return Err(Error::Limit {
            path: path.to_path_buf(),
            what: "number of signals".into(),
            value: ns_u,
            limit: MAX_EDF_SIGNALS,
        });
    }
    Ok(ns_u as usize)
}

/// The header's size for `ns` signals, checked against its header-bytes
/// field and against the `file_len` bytes of the file.
fn header_size(path: &Path, fixed: &[u8; BLOCK], ns: usize, file_len: u64) -> Result<usize> {
    let expected = BLOCK * (ns + 1);
    let declared_hb = int_field(path, &fixed[184..192], "\"header bytes\"")?;
    if declared_hb != expected as i64 {
        return Err(Error::malformed(
            path,
            format!(
                "header length field says {declared_hb} bytes, but {ns} signal(s) need 256 × ({ns} + 1) = {expected}"
            ),
        ));
    }
    if file_len < expected as u64 {
        return Err(Error::malformed(
            path,
            format!(
                "header cut short: {ns} signal(s) need {expected} header bytes, the file holds {file_len}"
            ),
        ));
    }
    Ok(expected)
}

/// The `ns` signal headers from their bytes `sig`, each field checked in
/// signal order.
fn signal_headers(path: &Path, sig: &[u8], ns: usize) -> Result<Vec<SignalHeader>> {
    // Per-signal fields are stored field by field: ns labels, then ns
    // transducers, and so on. `field(offset, width, i)` gives signal i's slice.
    let field = |start: usize, width: usize, i: usize| -> &[u8] {
        let o = start * ns + i * width;
        &sig[o..o + width]
    };
    let mut signals = Vec::with_capacity(ns);
    for i in 0..ns {
        let label = field_text(field(0, 16, i));
        let name = |what: &str| format!("{what} of signal {i} ({})", excerpt_str(&label));
        let spr = int_field(path, field(216, 8, i), &name("samples per record"))?;
        if spr < 1 {
            return Err(Error::malformed(
                path,
                format!(
                    "{} is {spr} (at least 1 needed)",
                    name("samples per record")
                ),
            ));
        }
        let is_annotations = label == "EDF Annotations" || label == "BDF Annotations";
        signals.push(SignalHeader {
            transducer: field_text(field(16, 80, i)),
            dimension: field_text(field(96, 8, i)),
            physical_min: float_field(path, field(104, 8, i), &name("physical minimum"))?,
            physical_max: float_field(path, field(112, 8, i), &name("physical maximum"))?,
            digital_min: int_field(path, field(120, 8, i), &name("digital minimum"))?,
            digital_max: int_field(path, field(128, 8, i), &name("digital maximum"))?,
            prefilter: field_text(field(136, 80, i)),
            samples_per_record: usize::try_from(spr).unwrap_or(usize::MAX),
            is_annotations,
            label,
        });
    }
    Ok(signals)
}

/// How many whole data records to read (see the module doc: −1 and
/// truncation recovery, limits).
fn records_to_read(path: &Path, h: &EdfHeader, file_len: u64) -> Result<usize> {
    let record_bytes = h.record_bytes().ok_or_else(|| Error::Limit {
        path: path.to_path_buf(),
        what: "bytes per data record".into(),
        value: u64::MAX,
        limit: file_len,
    })?;
    // read_header checked that the file holds the header.
    let data_bytes = file_len - h.header_bytes as u64;
    let present = data_bytes / record_bytes;
    let max_spr = h
        .signals
        .iter()
        .filter(|s| !s.is_annotations)
        .map(|s| s.samples_per_record as u64)
        .max()
        .unwrap_or(0);
    let check_limit = |records: u64, declared: bool| -> Result<()> {
        let per_channel = records.saturating_mul(max_spr);
        if per_channel > MAX_SAMPLES_PER_CHANNEL {
            return Err(Error::Limit {
                path: path.to_path_buf(),
                what: format!(
                    "data records{} ({records}) × samples per record ({max_spr}) = samples per channel",
                    if declared { " declared" } else { "" }
                ),
                value: per_channel,
                limit: MAX_SAMPLES_PER_CHANNEL,
            });
        }
        Ok(())
    };
    let n = match h.declared_records {
        -1 => present,
        d if d < 0 => {
            return Err(Error::malformed(
                path,
                format!("header declares {d} data records"),
            ))
        }
        0 => return Err(Error::malformed(path, "header declares no data records")),
        d => {
            let d = d as u64;
            // An absurd count is refused before it can be mistaken for a
            // cut-off file.
            check_limit(d, true)?;
            d.min(present)
        }
    };
    if n == 0 {
        let declared = match h.declared_records {
            -1 => "an unknown number of".to_string(),
            d => d.to_string(),
        };
        return Err(Error::malformed(
            path,
            format!(
                "truncated data: header declares {declared} data record(s) of {record_bytes} bytes, \
                 the file holds {data_bytes} data bytes (not one whole record)"
            ),
        ));
    }
    check_limit(n, false)?;
    usize::try_from(n).map_err(|_| Error::Limit {
        path: path.to_path_buf(),
        what: "data records".into(),
        value: n,
        limit: usize::MAX as u64,
    })
}

/// One time-stamped annotation list (TAL).
#[derive(Debug, Clone, PartialEq)]
pub struct Tal {
    /// Onset, s from the file's start time (may be negative).
    pub onset_s: f64,
    /// Duration, s, when given.
    pub duration_s: Option<f64>,
    /// The annotation texts (UTF-8, lossily decoded, as written); the
    /// time-keeping annotation has one empty text.
    pub texts: Vec<String>,
}

/// `[+-]digits[.digits]` (`signed`) or `digits[.digits]`, as EDF+ writes times.
fn parse_time(b: &[u8], signed: bool) -> Option<f64> {
    let body = if signed {
        match b.first() {
            Some(b'+') | Some(b'-') => &b[1..],
            _ => return None,
        }
    } else {
        b
    };
    let mut parts = body.splitn(2, |&c| c == b'.');
    let int = parts.next()?;
    let frac = parts.next().unwrap_or(b"");
    if int.is_empty() || !int.iter().chain(frac).all(u8::is_ascii_digit) {
        return None;
    }
    // Hundreds of digits parse to infinity, which no time is.
    std::str::from_utf8(b)
        .ok()?
        .parse::<f64>()
        .ok()
        .filter(|t| t.is_finite())
}

/// Parse the TALs of one annotation signal's bytes in one data record.
///
/// Grammar (EDF+ §2.2.2): `±onset[0x15 duration]0x14[text 0x14]…0x00`,
/// repeated, then NUL padding. Texts end at 0x14 (a text ended by NUL also
/// ends its TAL, and a TAL cut by the end of the bytes is accepted: writers
/// that fill the signal exactly omit the last NUL). Errors name the byte
/// offset.
pub fn parse_tals(block: &[u8]) -> std::result::Result<Vec<Tal>, String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < block.len() {
        if block[i] == 0 {
            i += 1;
            continue;
        }
        let start = i;
        let end = block[i..]
            .iter()
            .position(|&b| b == 0x14 || b == 0x15 || b == 0)
            .map(|p| i + p)
            .filter(|&e| block[e] != 0)
            .ok_or_else(|| {
                format!("annotation at byte {start} has an onset but no 0x14 after it")
            })?;
        let onset_s = parse_time(&block[i..end], true).ok_or_else(|| {
            format!(
                "annotation at byte {start} has a malformed onset {} (expected +seconds or -seconds)",
                excerpt(&block[i..end])
            )
        })?;
        i = end;
        let mut duration_s = None;
        if block[i] == 0x15 {
            let ds = i + 1;
            let de = block[ds..]
                .iter()
                .position(|&b| b == 0x14 || b == 0)
                .map(|p| ds + p)
                .filter(|&e| block[e] == 0x14)
                .ok_or_else(|| {
                    format!("annotation at byte {start} has a duration but no 0x14 after it")
                })?;
            duration_s = Some(parse_time(&block[ds..de], false).ok_or_else(|| {
                format!(
                    "annotation at byte {start} has a malformed duration {}",
                    excerpt(&block[ds..de])
                )
            })?);
            i = de;
        }
        // block[i] is the 0x14 that ends the time stamp.
        i += 1;
        let mut texts = Vec::new();
        while i < block.len() {
            if block[i] == 0 {
                i += 1;
                break;
            }
            let te = block[i..]
                .iter()
                .position(|&b| b == 0x14 || b == 0)
                .map_or(block.len(), |p| i + p);
            texts.push(String::from_utf8_lossy(&block[i..te]).into_owned());
            if te < block.len() && block[te] == 0 {
                i = te + 1;
                break;
            }
            i = te + 1;
        }
        if out.len() >= MAX_ANNOTATIONS {
            return Err(format!(
                "more than {MAX_ANNOTATIONS} annotations in one data record (limit)"
            ));
        }
        out.push(Tal {
            onset_s,
            duration_s,
            texts,
        });
    }
    Ok(out)
}

/// The unit factor to millivolts of a physical dimension, if it is a voltage.
fn millivolts_per_unit(dimension: &str) -> Option<f64> {
    match dimension.to_lowercase().as_str() {
        "uv" | "µv" | "μv" => Some(1e-3),
        "mv" => Some(1.0),
        "v" => Some(1e3),
        "nv" => Some(1e-6),
        _ => None,
    }
}

/// Whether a signal label names a trigger or marker line.
fn is_trigger_label(label: &str) -> bool {
    let l = label.to_lowercase();
    ["trig", "stim", "marker", "status"]
        .iter()
        .any(|w| l.contains(w))
}

/// A sample rate from samples per record and record duration, snapped to a
/// whole hertz when the division is off only by rounding (0.1-s records).
fn rate_of(spr: usize, duration_s: f64) -> f64 {
    let r = spr as f64 / duration_s;
    let whole = r.round();
    if (r - whole).abs() <= 1e-9 * r {
        whole
    } else {
        r
    }
}

/// Read an EDF, EDF+, BDF or BDF+ file from its bytes (see the module doc).
///
/// `path` is used only in error messages and copied into the recording.
/// Errors: [`Error::Malformed`] for a bad header, truncated data, malformed
/// annotations, out-of-order records, or an EMG sample rate outside
/// [`SampleRate::MIN_HZ`]..=[`SampleRate::MAX_HZ`]; [`Error::Limit`] for too
/// many signals or samples; [`Error::NoSuchChannel`] / [`Error::Usage`] for a
/// channel selector that matches none / several.
///
/// [`read_edf_file`] reads a file the same way without holding it in memory.
pub fn read_edf(path: &Path, bytes: &[u8], opts: &ReadOptions) -> Result<Recording> {
    read_edf_from(path, &mut InMemory(bytes), bytes.len() as u64, opts, false)
}

/// [`read_edf`] to describe a file (`rns inspect`): a file whose EMG
/// channel is sampled below the accepted rate (every signal of it, when
/// none is named) is read all the same, at that channel's own rate, with
/// [`Recording::not_analysable`] saying why the analysis refuses it. Every
/// other file gives what [`read_edf`] gives.
pub fn describe_edf(path: &Path, bytes: &[u8], opts: &ReadOptions) -> Result<Recording> {
    read_edf_from(path, &mut InMemory(bytes), bytes.len() as u64, opts, true)
}

/// Read an EDF, EDF+, BDF or BDF+ file from disk, a data record at a time.
///
/// The result and every error and note are those of [`read_edf`] on the
/// file's bytes (one decoder serves both), plus [`Error::Io`] when the file
/// cannot be opened or read. Only the header, the annotation signals of one
/// record and at most 192 KiB of samples are held besides the decoded
/// channels: the signals that are not decoded are skipped, so memory is 4
/// bytes per decoded sample whatever the number of signals in the file.
pub fn read_edf_file(path: &Path, opts: &ReadOptions) -> Result<Recording> {
    read_edf_file_as(path, opts, false)
}

/// [`describe_edf`] from disk, a data record at a time (see [`read_edf_file`]).
pub fn describe_edf_file(path: &Path, opts: &ReadOptions) -> Result<Recording> {
    read_edf_file_as(path, opts, true)
}

fn read_edf_file_as(path: &Path, opts: &ReadOptions, describe: bool) -> Result<Recording> {
    let file = super::open_input(path)?;
    let len = file.metadata().map_err(|e| io_error(path, e))?.len();
    let mut src = Streamed {
        reader: BufReader::with_capacity(1 << 16, file),
        buf: Vec::new(),
        skip: 0,
    };
    read_edf_from(path, &mut src, len, opts, describe)
}

/// The most bytes of one signal's samples the reader takes at once (a
/// multiple of 2 and 3, so of both sample sizes).
const CHUNK_BYTES: usize = 3 << 16;

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

/// Where the decoder takes a file's bytes from, front to back.
trait Source {
    /// The next `n` bytes.
    fn take(&mut self, n: usize) -> std::io::Result<&[u8]>;
    /// Pass over the next `n` bytes.
    fn skip(&mut self, n: usize) -> std::io::Result<()>;
}

/// A file's bytes in memory ([`read_edf`]).
struct InMemory<'a>(&'a [u8]);

impl Source for InMemory<'_> {
    fn take(&mut self, n: usize) -> std::io::Result<&[u8]> {
        if n > self.0.len() {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn skip(&mut self, n: usize) -> std::io::Result<()> {
        self.take(n).map(|_| ())
    }
}

/// A file read through a buffer ([`read_edf_file`]). Skips are gathered and
/// made as one relative seek before the next read.
struct Streamed<R> {
    reader: BufReader<R>,
    /// The bytes last taken (grown to the largest request, never shrunk).
    buf: Vec<u8>,
    /// Bytes to skip before the next read.
    skip: u64,
}

impl<R: Read + Seek> Source for Streamed<R> {
    fn take(&mut self, n: usize) -> std::io::Result<&[u8]> {
        if self.skip > 0 {
            let by = i64::try_from(self.skip).map_err(std::io::Error::other)?;
            self.reader.seek_relative(by)?;
            self.skip = 0;
        }
        if self.buf.len() < n {
            self.buf.resize(n, 0);
        }
        self.reader.read_exact(&mut self.buf[..n])?;
        Ok(&self.buf[..n])
    }

    fn skip(&mut self, n: usize) -> std::io::Result<()> {
        self.skip += n as u64;
        Ok(())
    }
}

/// How a decoded signal's digital values become samples.
#[derive(Clone, Copy)]
struct Scale {
    gain: f64,
    offset: f64,
    /// A BDF `Status` channel: the low 16 bits of the digital value.
    status: bool,
}

impl Scale {
    /// The scaling of signal `si` (channel `ci`), as the module doc says, or
    /// the error that it cannot be scaled.
    fn of(path: &Path, h: &EdfHeader, si: usize, ci: usize, kind: ChannelKind) -> Result<Scale> {
        let s = &h.signals[si];
        if h.variant == Variant::Bdf && s.label.eq_ignore_ascii_case("status") {
            return Ok(Scale {
                gain: 1.0,
                offset: 0.0,
                status: true,
            });
        }
        let (g, o) = s.line().map_err(|e| {
            Error::malformed(
                path,
                format!(
                    "channel {ci} ({}): {e}, so its values cannot be scaled",
                    excerpt_str(&s.label)
                ),
            )
        })?;
        let unit = match kind {
            ChannelKind::Signal => millivolts_per_unit(&s.dimension).unwrap_or(1.0),
            ChannelKind::Trigger | ChannelKind::Intensity => 1.0,
        };
        Ok(Scale {
            gain: g * unit,
            offset: o * unit,
            status: false,
        })
    }

    /// Append the samples of `b` (whole digital values) to `out`.
    fn decode(self, variant: Variant, b: &[u8], out: &mut Vec<f32>) {
        let Scale {
            gain,
            offset,
            status,
        } = self;
        match variant {
            Variant::Edf => out.extend(b.chunks_exact(2).map(|c| {
                let d = i16::from_le_bytes([c[0], c[1]]);
                (f64::from(d) * gain + offset) as f32
            })),
            Variant::Bdf => out.extend(b.chunks_exact(3).map(|c| {
                let sign = if c[2] & 0x80 != 0 { 0xFF } else { 0 };
                let d = i32::from_le_bytes([c[0], c[1], c[2], sign]);
                if status {
                    (d & 0xFFFF) as f32
                } else {
                    (f64::from(d) * gain + offset) as f32
                }
            })),
        }
    }
}

/// What the decoder does with a signal's block in each record.
#[derive(Clone, Copy)]
enum Role {
    /// The `k`-th annotation signal: its TALs are parsed.
    Annotations(usize),
    /// Channel `ci` is decoded with this scaling.
    Decode(usize, Scale),
    /// Passed over.
    Skip,
}

/// The decoder behind [`read_edf`] and [`read_edf_file`]: `src` is positioned
/// at the start of a `file_len`-byte file.
///
/// The records are read once, in order. Errors come out as if the whole file
/// were checked in stages: the header and the choice of channels, then the
/// annotations of every record (first failing record and signal), then the
/// record order, then each decoded channel in order (scaling, then its first
/// non-finite sample).
fn read_edf_from<S: Source>(
    path: &Path,
    src: &mut S,
    file_len: u64,
    opts: &ReadOptions,
    describe: bool,
) -> Result<Recording> {
    let h = read_header(path, src, file_len)?;
    let n_records = records_to_read(path, &h, file_len)?;
    // Validated by records_to_read (it would have failed on overflow).
    let record_bytes = h.record_bytes().unwrap_or(0);
    let mut notes: Vec<ReadNote> = truncation_note(&h, n_records, record_bytes, file_len)
        .into_iter()
        .collect();
    let signals = SignalSets::of(path, &h)?;
    let mut choice = Choice::make(path, &h, &signals.data, opts, describe)?;
    notes.extend(choice.note.take());
    let mut decoder = Decoder::plan(path, &h, &signals, &choice, n_records);
    let mut timeline = Timeline::new(&h, &choice);
    // The records, in order: annotations and record starts, segments as the
    // starts come, samples.
    let mut annotations = Vec::new();
    for r in 0..n_records {
        let start = decoder.read_record(path, &h, src, r, &mut annotations)?;
        let start = record_start(path, &h, &signals, r, start)?;
        timeline.place(path, r, start)?;
    }
    let (t0, segments) = timeline.finish()?;
    for a in &mut annotations {
        a.onset_s -= t0;
    }
    annotations.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));
    let channels = decoder.into_channels(path, &h, &signals.data, &choice, n_records)?;

    let rate = choice.rate;
    let stimuli = stimulus_samples(&annotations, &segments, rate.hz());
    Ok(Recording {
        path: path.to_path_buf(),
        format: h.format(),
        sample_rate: rate,
        channels,
        segments,
        stimuli: (!stimuli.is_empty()).then_some(KnownStimuli {
            samples: stimuli,
            origin: StimulusOrigin::Annotations,
            timing_known: true,
        }),
        annotations,
        notes,
        intensities: None,
        metadata: Vec::new(),
        not_analysable: choice.not_analysable,
        storage: None,
        study: crate::study::from_edf_header(
            &h.patient,
            &h.recording,
            &h.start_date,
            &h.start_time,
            h.plus,
        ),
    })
}

/// The signals of a file by what they hold, each in file order.
struct SignalSets {
    /// The signals that are channels (not annotations).
    data: Vec<usize>,
    /// The annotation signals.
    annot: Vec<usize>,
}

impl SignalSets {
    /// Sort the signals, refusing a file without a channel and an EDF+D
    /// without annotations (its record times would be unknown).
    fn of(path: &Path, h: &EdfHeader) -> Result<SignalSets> {
        let data: Vec<usize> = (0..h.signals.len())
            .filter(|&i| !h.signals[i].is_annotations)
            .collect();
        let annot: Vec<usize> = (0..h.signals.len())
            .filter(|&i| h.signals[i].is_annotations)
            .collect();
        if data.is_empty() {
            return Err(Error::malformed(
                path,
                "no signal besides annotations: nothing to analyse",
            ));
        }
        if h.discontinuous && annot.is_empty() {
            return Err(Error::malformed(
                path,
                "EDF+D file without an \"EDF Annotations\" signal: the record times are unknown",
            ));
        }
        Ok(SignalSets { data, annot })
    }
}

/// The channels chosen (see the module doc, "Channels and rates"): the EMG
/// channel, whose rate is the recording's, and the filter over all channels.
struct Choice {
    /// Each channel's kind, from its label.
    kinds: Vec<ChannelKind>,
    filter: ChannelFilter,
    /// The channel whose rate the recording takes: the EMG channel.
    rate_channel: usize,
    /// Its samples per record: only signals with as many are decoded.
    spr: usize,
    rate: SampleRate,
    /// Why the analysis refuses the recording (a slow EMG channel, described
    /// for `rns inspect`).
    not_analysable: Option<String>,
    /// The `emg_channel_chosen` note, when slow signals were passed over.
    note: Option<ReadNote>,
}

impl Choice {
    /// Resolve the options' channels against the labels of the `data`
    /// signals and take the EMG channel's rate (refused outside the accepted
    /// range, unless the file is described).
    fn make(
        path: &Path,
        h: &EdfHeader,
        data: &[usize],
        opts: &ReadOptions,
        describe: bool,
    ) -> Result<Choice> {
        let labels: Vec<&str> = data.iter().map(|&i| h.signals[i].label.as_str()).collect();
        let kinds: Vec<ChannelKind> = labels
            .iter()
            .map(|l| {
                if is_trigger_label(l) {
                    ChannelKind::Trigger
                } else {
                    ChannelKind::Signal
                }
            })
            .collect();
        let format = h.format();
        let own_rates: Vec<f64> = data
            .iter()
            .map(|&i| rate_of(h.signals[i].samples_per_record, h.record_duration_s))
            .collect();
        // The first signal at an accepted rate (a slow first signal, a 100 Hz
        // temperature, is passed over), else the first signal.
        let default_emg =
            format.default_emg_channel_at(kinds.iter().copied().zip(own_rates.iter().copied()));
        let (filter, emg) = opts.channels.resolve(path, &labels, default_emg)?;
        let rate_channel = emg
            .or(match &filter {
                ChannelFilter::Only(v) => v.first().copied(),
                _ => None,
            })
            .unwrap_or(default_emg);
        let emg_sig = &h.signals[data[rate_channel]];
        let (rate, not_analysable) = emg_rate(
            path,
            h,
            emg_sig,
            rate_channel,
            own_rates[rate_channel],
            describe,
        )?;
        let first_signal = format.default_emg_channel(kinds.iter().copied());
        let named = matches!(&opts.channels, ChannelFilter::Select { emg: Some(_), .. });
        let note = (!named && rate_channel == default_emg && default_emg != first_signal)
            .then(|| passed_over_note(&labels, &kinds, &own_rates, default_emg));
        Ok(Choice {
            kinds,
            filter,
            rate_channel,
            spr: emg_sig.samples_per_record,
            rate,
            not_analysable,
            note,
        })
    }
}

/// The recording's rate from its EMG channel `ci` (signal `emg_sig`, at
/// `rate_hz`), and why the analysis refuses it: a file described for
/// `rns inspect` is read at a slow EMG channel's own rate, with the reason.
fn emg_rate(
    path: &Path,
    h: &EdfHeader,
    emg_sig: &SignalHeader,
    ci: usize,
    rate_hz: f64,
    describe: bool,
) -> Result<(SampleRate, Option<String>)> {
    let out_of_range = || {
        format!(
            "channel {ci} ({}) is sampled at {} Hz ({} samples per {} s record), \
             outside the accepted range {}–{} Hz",
            excerpt_str(&emg_sig.label),
            Shown(rate_hz),
            emg_sig.samples_per_record,
            Shown(h.record_duration_s),
            SampleRate::MIN_HZ,
            SampleRate::MAX_HZ
        )
    };
    match SampleRate::new(rate_hz) {
        Some(r) => Ok((r, None)),
        None => match SampleRate::new_unchecked_range(rate_hz).filter(|_| describe) {
            Some(r) => Ok((r, Some(out_of_range()))),
            None => Err(Error::malformed(path, out_of_range())),
        },
    }
}

/// What the records fill, per signal and per channel.
struct Decoder {
    /// What to do with each signal's block in a record.
    roles: Vec<Role>,
    /// Per channel: its scaling when decoded (a channel that cannot be
    /// scaled is reported after every record is read).
    scales: Vec<Option<Result<Scale>>>,
    /// Per channel: its samples.
    samples: Vec<Vec<f32>>,
    /// Per channel: the first sample that scaled beyond an f32, with its value.
    non_finite: Vec<Option<(usize, f32)>>,
    /// Most bytes of one block taken at once: whole samples.
    chunk: usize,
}

impl Decoder {
    /// The roles and buffers: the channels decoded are those at the EMG
    /// channel's rate that the filter wants, every trigger, the EMG channel.
    fn plan(
        path: &Path,
        h: &EdfHeader,
        signals: &SignalSets,
        choice: &Choice,
        n_records: usize,
    ) -> Decoder {
        let mut roles = vec![Role::Skip; h.signals.len()];
        for (k, &a) in signals.annot.iter().enumerate() {
            roles[a] = Role::Annotations(k);
        }
        let n = signals.data.len();
        let mut scales: Vec<Option<Result<Scale>>> = Vec::with_capacity(n);
        let mut samples: Vec<Vec<f32>> = Vec::with_capacity(n);
        for (ci, &si) in signals.data.iter().enumerate() {
            let s = &h.signals[si];
            let kind = choice.kinds[ci];
            let decode = s.samples_per_record == choice.spr
                && (choice.filter.wants(ci)
                    || kind == ChannelKind::Trigger
                    || ci == choice.rate_channel);
            let scale = decode.then(|| Scale::of(path, h, si, ci, kind));
            samples.push(match &scale {
                Some(Ok(sc)) => {
                    roles[si] = Role::Decode(ci, *sc);
                    super::buffers::take(n_records * choice.spr)
                }
                _ => Vec::new(),
            });
            scales.push(scale);
        }
        let bps = h.variant.bytes_per_sample();
        Decoder {
            roles,
            scales,
            samples,
            non_finite: vec![None; n],
            chunk: CHUNK_BYTES / bps * bps,
        }
    }

    /// Read data record `r`, every signal's block by its role, the
    /// annotations into `annotations`; the record's start from its
    /// time-keeping annotation, when it has one.
    fn read_record<S: Source>(
        &mut self,
        path: &Path,
        h: &EdfHeader,
        src: &mut S,
        r: usize,
        annotations: &mut Vec<Annotation>,
    ) -> Result<Option<f64>> {
        let bps = h.variant.bytes_per_sample();
        let mut start = None;
        for (si, s) in h.signals.iter().enumerate() {
            let block_len = s.samples_per_record * bps;
            match self.roles[si] {
                Role::Annotations(k) => {
                    let block = src.take(block_len).map_err(|e| io_error(path, e))?;
                    let tals = parse_tals(block).map_err(|e| {
                        Error::malformed(
                            path,
                            format!(
                                "data record {r}, signal {si} ({}): {e}",
                                excerpt_str(&s.label)
                            ),
                        )
                    })?;
                    if let Some(t) = keep_annotations(path, h, k, &tals, annotations)? {
                        start = Some(t);
                    }
                }
                Role::Decode(ci, scale) => self.decode_block(path, h, src, ci, scale, block_len)?,
                Role::Skip => src.skip(block_len).map_err(|e| io_error(path, e))?,
            }
        }
        Ok(start)
    }

    /// Decode channel `ci`'s `block_len`-byte block of a record, a chunk at
    /// a time, noting its first non-finite sample.
    fn decode_block<S: Source>(
        &mut self,
        path: &Path,
        h: &EdfHeader,
        src: &mut S,
        ci: usize,
        scale: Scale,
        block_len: usize,
    ) -> Result<()> {
        let out = &mut self.samples[ci];
        let mut left = block_len;
        while left > 0 {
            let n = left.min(self.chunk);
            let b = src.take(n).map_err(|e| io_error(path, e))?;
            let from = out.len();
            scale.decode(h.variant, b, out);
            // An absurd physical range scales ordinary digital values beyond f32.
            if self.non_finite[ci].is_none() {
                self.non_finite[ci] = out[from..]
                    .iter()
                    .position(|v| !v.is_finite())
                    .map(|i| (from + i, out[from + i]));
            }
            left -= n;
        }
        Ok(())
    }

    /// The channels, in file order: each decoded one checked (its scaling,
    /// then its first non-finite sample), the others with no samples.
    fn into_channels(
        self,
        path: &Path,
        h: &EdfHeader,
        data: &[usize],
        choice: &Choice,
        n_records: usize,
    ) -> Result<Vec<Channel>> {
        let mut channels = Vec::with_capacity(data.len());
        let decoded = self
            .scales
            .into_iter()
            .zip(self.samples)
            .zip(self.non_finite);
        for ((ci, &si), ((scale, samples), non_finite)) in data.iter().enumerate().zip(decoded) {
            let s = &h.signals[si];
            let same_rate = s.samples_per_record == choice.spr;
            let samples = match scale {
                Some(scale) => {
                    scale?;
                    if let Some((i, v)) = non_finite {
                        return Err(Error::malformed(
                            path,
                            format!(
                                "channel {ci} ({}): sample {i} scales to {v} (physical range {} to {}, \
                                 unit {}), beyond what the analyzer holds",
                                excerpt_str(&s.label),
                                Shown(s.physical_min),
                                Shown(s.physical_max),
                                excerpt_str(&s.dimension)
                            ),
                        ));
                    }
                    samples
                }
                None => Vec::new(),
            };
            channels.push(Channel {
                index: ci,
                label: s.label.clone(),
                unit: s.dimension.clone(),
                kind: choice.kinds[ci],
                len: n_records * s.samples_per_record,
                sample_rate_hz: (!same_rate)
                    .then(|| rate_of(s.samples_per_record, h.record_duration_s)),
                samples,
            });
        }
        Ok(channels)
    }
}

/// Keep the non-blank texts of the TALs of annotation signal `k` (at most
/// [`MAX_ANNOTATIONS`] in all); the record's start when this is the
/// time-keeping TAL of an EDF+ (the first of the first annotation signal,
/// whose first text is empty).
fn keep_annotations(
    path: &Path,
    h: &EdfHeader,
    k: usize,
    tals: &[Tal],
    annotations: &mut Vec<Annotation>,
) -> Result<Option<f64>> {
    let mut start = None;
    for (t, tal) in tals.iter().enumerate() {
        if k == 0 && t == 0 && h.plus {
            // The time-keeping TAL: its first text is empty.
            if tal.texts.first().is_some_and(|x| x.is_empty()) {
                start = Some(tal.onset_s);
            }
        }
        for text in &tal.texts {
            let text = text.trim();
            if !text.is_empty() {
                if annotations.len() >= MAX_ANNOTATIONS {
                    return Err(Error::Limit {
                        path: path.to_path_buf(),
                        what: "EDF+ annotations".into(),
                        value: annotations.len() as u64 + 1,
                        limit: MAX_ANNOTATIONS as u64,
                    });
                }
                annotations.push(Annotation {
                    onset_s: tal.onset_s,
                    duration_s: tal.duration_s,
                    text: text.to_string(),
                });
            }
        }
    }
    Ok(start)
}

/// Record `r`'s start, s: from its time-keeping annotation in an EDF+ (an
/// error when missing), else back to back.
fn record_start(
    path: &Path,
    h: &EdfHeader,
    signals: &SignalSets,
    r: usize,
    start: Option<f64>,
) -> Result<f64> {
    match start {
        Some(s) => Ok(s),
        None if h.plus && !signals.annot.is_empty() => Err(Error::malformed(
            path,
            format!("data record {r} has no time-keeping annotation (+start␔␔) first"),
        )),
        None => Ok(r as f64 * h.record_duration_s),
    }
}

/// The record starts turned into segments (see the module doc, "Time,
/// segments and annotations").
struct Timeline {
    record_duration_s: f64,
    /// Samples per record at the recording's rate.
    spr: usize,
    /// Half a sample, s: the slack for contiguous records.
    half: f64,
    /// The first record's start, time 0 (see the module doc).
    t0: f64,
    /// The last record's start from `t0`.
    prev_start: f64,
    segments: Vec<Segment>,
    /// Records out of order are reported once every record's annotations
    /// are known to be well-formed.
    order_error: Option<Error>,
}

impl Timeline {
    /// Before the first record, at the EMG channel's samples per record and rate.
    fn new(h: &EdfHeader, choice: &Choice) -> Timeline {
        Timeline {
            record_duration_s: h.record_duration_s,
            spr: choice.spr,
            half: 0.5 / choice.rate.hz(),
            t0: 0.0,
            prev_start: 0.0,
            segments: Vec::new(),
            order_error: None,
        }
    }

    /// Place record `r`, starting at `start` s: consecutive records within
    /// half a sample extend the last segment, a gap starts a new one.
    fn place(&mut self, path: &Path, r: usize, start: f64) -> Result<()> {
        if r == 0 {
            self.t0 = start;
        }
        let s = start - self.t0;
        let (spr, half) = (self.spr, self.half);
        if self.order_error.is_none() {
            let prev_end = self.prev_start + self.record_duration_s;
            if r > 0 && s < prev_end - half {
                self.order_error = Some(Error::malformed(
                    path,
                    format!(
                        "data record {r} starts at {} s, before the previous record ends ({} s)",
                        Shown(s),
                        Shown(prev_end)
                    ),
                ));
            } else if let Some(last) = self
                .segments
                .last_mut()
                .filter(|_| r > 0 && s <= prev_end + half)
            {
                last.len += spr;
            } else {
                if self.segments.len() >= MAX_SEGMENTS {
                    return Err(Error::Limit {
                        path: path.to_path_buf(),
                        what: "EDF+D segments (runs of records without a gap)".into(),
                        value: self.segments.len() as u64 + 1,
                        limit: MAX_SEGMENTS as u64,
                    });
                }
                self.segments.push(Segment {
                    start: r * spr,
                    len: spr,
                    start_s: s,
                });
            }
        }
        self.prev_start = s;
        Ok(())
    }

    /// Time 0 and the segments, or the first record out of order.
    fn finish(self) -> Result<(f64, Vec<Segment>)> {
        match self.order_error {
            Some(e) => Err(e),
            None => Ok((self.t0, self.segments)),
        }
    }
}

/// The `emg_channel_chosen` note: the default EMG channel `chosen` is not the
/// first signal, because the signals before it are sampled outside the
/// accepted range.
fn passed_over_note(
    labels: &[&str],
    kinds: &[ChannelKind],
    rates: &[f64],
    chosen: usize,
) -> ReadNote {
    let skipped: Vec<String> = (0..chosen)
        .filter(|&i| kinds[i] == ChannelKind::Signal)
        .map(|i| format!("{i} ({}, {} Hz)", excerpt_str(labels[i]), Shown(rates[i])))
        .collect();
    let shown = skipped.len().min(4);
    let more = if skipped.len() > shown { ", …" } else { "" };
    ReadNote::info(
        FlagCode::EmgChannelChosen,
        format!(
            "EMG channel {chosen} ({}, {} Hz) is the first signal sampled at an accepted rate \
             ({}–{} Hz); signal(s) {}{more} before it are not; give --channel to choose another",
            excerpt_str(labels[chosen]),
            Shown(rates[chosen]),
            SampleRate::MIN_HZ,
            SampleRate::MAX_HZ,
            skipped[..shown].join(", ")
        ),
    )
}

/// The `truncated_file` note when the file ends before the records its
/// header declares, or inside a record (see the module doc's recovery).
fn truncation_note(
    h: &EdfHeader,
    n_records: usize,
    record_bytes: u64,
    file_len: u64,
) -> Option<ReadNote> {
    let data_bytes = file_len.saturating_sub(h.header_bytes as u64);
    let partial = data_bytes.saturating_sub((n_records as u64).saturating_mul(record_bytes));
    // Rounded so 3 records of 0.1 s read "0.3 s".
    let duration = (n_records as f64 * h.record_duration_s * 1e6).round() / 1e6;
    let message = match h.declared_records {
        d if d > 0 && (d as u64) > n_records as u64 => format!(
            "truncated file: the header declares {d} data records, the file holds {n_records} \
             whole record(s){}; read those ({duration} s), the rest of the recording is missing",
            if partial > 0 {
                format!(" and {partial} bytes of the next")
            } else {
                String::new()
            }
        ),
        -1 if partial > 0 && partial < record_bytes => format!(
            "truncated file: the file ends {partial} bytes into data record {n_records} \
             ({record_bytes} bytes each); read the {n_records} whole record(s) ({duration} s)"
        ),
        _ => return None,
    };
    Some(ReadNote::warning(FlagCode::TruncatedFile, message))
}

/// Sample indices of the stimulus annotations: each onset to the nearest
/// sample of the segment holding it; onsets in gaps or outside are skipped.
fn stimulus_samples(annotations: &[Annotation], segments: &[Segment], rate_hz: f64) -> Vec<usize> {
    let mut out: Vec<usize> = annotations
        .iter()
        .filter(|a| is_stimulus_text(&a.text))
        .filter_map(|a| {
            // Segments ascend in time and overlap by less than half a sample
            // (read_edf refuses more), so only the last one starting at or
            // before the onset and the next can hold it: found by bisection,
            // since an EDF+D may have a segment per record.
            let p = segments.partition_point(|s| s.start_s <= a.onset_s);
            segments[p.saturating_sub(1)..(p + 1).min(segments.len())]
                .iter()
                .find_map(|s| {
                    let pos = ((a.onset_s - s.start_s) * rate_hz).round();
                    (pos >= 0.0 && pos < s.len as f64).then(|| s.start + pos as usize)
                })
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::ChannelSel;
    use std::path::PathBuf;

    fn p() -> PathBuf {
        PathBuf::from("t.edf")
    }

    /// A signal of a test file.
    #[test]
    fn a_slow_first_signal_is_passed_over_and_an_all_slow_file_is_described() {
        // 10 ms records: Temp at 100 Hz (1 sample), EMG at 4 kHz (40 samples).
        let temp = Sig {
            label: "Temp",
            dim: "degC",
            spr: 1,
            ..emg(1)
        };
        let b = build(
            false,
            "",
            "2",
            "0.01",
            &[temp, emg(40)],
            &[
                vec![i16s(&[370]), i16s(&[7; 40])],
                vec![i16s(&[371]), i16s(&[8; 40])],
            ],
        );
        let rec = read(&b).unwrap();
        assert_eq!(rec.sample_rate.hz(), 4000.0);
        assert_eq!(rec.default_emg_channel(), 1);
        assert_eq!(rec.channels[0].sample_rate_hz, Some(100.0));
        assert!(rec.channels[1].is_loaded() && !rec.channels[0].is_loaded());
        assert!(rec.not_analysable.is_none());
        let note = &rec.notes[0];
        assert_eq!(
            (note.code, note.severity),
            (FlagCode::EmgChannelChosen, crate::vocab::Severity::Info)
        );
        assert!(
            note.message.contains("EMG channel 1 (\"EMG\", 4000 Hz)")
                && note.message.contains("0 (\"Temp\", 100 Hz)"),
            "{}",
            note.message
        );
        // Named, the slow channel is refused as before; described, it is read.
        let named = ReadOptions {
            channels: ChannelFilter::Select {
                emg: Some(0.into()),
                others: vec![],
            },
            ..ReadOptions::default()
        };
        let e = read_edf(&p(), &b, &named).unwrap_err().to_string();
        assert!(
            e.contains("channel 0 (\"Temp\") is sampled at 100 Hz"),
            "{e}"
        );
        let d = describe_edf(&p(), &b, &named).unwrap();
        assert_eq!(d.sample_rate.hz(), 100.0);
        assert_eq!(
            d.not_analysable.as_deref(),
            Some(e.trim_start_matches("t.edf: "))
        );
        assert!(d.check_analysable().is_err());

        // Every signal slow: refused, or described at the first one's rate.
        let slow = build(
            false,
            "",
            "2",
            "1",
            &[
                Sig {
                    label: "Fp1",
                    spr: 128,
                    ..emg(128)
                },
                Sig {
                    label: "Fp2",
                    spr: 256,
                    ..emg(256)
                },
            ],
            &[
                vec![i16s(&[1; 128]), i16s(&[2; 256])],
                vec![i16s(&[1; 128]), i16s(&[2; 256])],
            ],
        );
        let e = read(&slow).unwrap_err();
        assert!(
            e.to_string()
                .contains("channel 0 (\"Fp1\") is sampled at 128 Hz (128 samples per 1 s record)"),
            "{e}"
        );
        let d = describe_edf(&p(), &slow, &ReadOptions::default()).unwrap();
        assert_eq!(d.sample_rate.hz(), 128.0);
        assert_eq!(d.len(), 256);
        assert_eq!(d.channels[1].sample_rate_hz, Some(256.0));
        assert!(d.notes.is_empty());
        assert!(matches!(d.check_analysable(), Err(Error::Malformed { .. })));
        assert!(d
            .not_analysable
            .unwrap()
            .contains("outside the accepted range"));
    }

    #[derive(Clone)]
    struct Sig {
        label: &'static str,
        dim: &'static str,
        pmin: &'static str,
        pmax: &'static str,
        dmin: &'static str,
        dmax: &'static str,
        spr: usize,
    }

    fn emg(spr: usize) -> Sig {
        Sig {
            label: "EMG",
            dim: "uV",
            pmin: "-3276.8",
            pmax: "3276.7",
            dmin: "-32768",
            dmax: "32767",
            spr,
        }
    }

    /// A 24-bit BDF signal of 4 samples per record.
    fn exg1() -> Sig {
        Sig {
            label: "EXG1",
            dim: "uV",
            pmin: "-262144",
            pmax: "262143",
            dmin: "-8388608",
            dmax: "8388607",
            spr: 4,
        }
    }

    fn annot(spr: usize) -> Sig {
        Sig {
            label: "EDF Annotations",
            dim: "",
            pmin: "-1",
            pmax: "1",
            dmin: "-32768",
            dmax: "32767",
            spr,
        }
    }

    fn pad(s: &str, w: usize) -> Vec<u8> {
        let mut b = s.as_bytes().to_vec();
        assert!(b.len() <= w, "{s:?} wider than {w}");
        b.resize(w, b' ');
        b
    }

    /// Header + records; each record holds one byte block per signal.
    fn build(
        bdf: bool,
        reserved: &str,
        n_records: &str,
        dur: &str,
        sigs: &[Sig],
        records: &[Vec<Vec<u8>>],
    ) -> Vec<u8> {
        let ns = sigs.len();
        let mut h = if bdf {
            let mut v = vec![0xFF];
            v.extend_from_slice(b"BIOSEMI");
            v
        } else {
            pad("0", 8)
        };
        h.extend(pad("X X X X", 80));
        h.extend(pad("Startdate X X X X", 80));
        h.extend(pad("01.01.24", 8));
        h.extend(pad("10.00.00", 8));
        h.extend(pad(&(256 * (ns + 1)).to_string(), 8));
        h.extend(pad(reserved, 44));
        h.extend(pad(n_records, 8));
        h.extend(pad(dur, 8));
        h.extend(pad(&ns.to_string(), 4));
        for s in sigs {
            h.extend(pad(s.label, 16));
        }
        for _ in sigs {
            h.extend(pad("", 80));
        }
        for s in sigs {
            h.extend(pad(s.dim, 8));
        }
        for s in sigs {
            h.extend(pad(s.pmin, 8));
        }
        for s in sigs {
            h.extend(pad(s.pmax, 8));
        }
        for s in sigs {
            h.extend(pad(s.dmin, 8));
        }
        for s in sigs {
            h.extend(pad(s.dmax, 8));
        }
        for _ in sigs {
            h.extend(pad("", 80));
        }
        for s in sigs {
            h.extend(pad(&s.spr.to_string(), 8));
        }
        for _ in sigs {
            h.extend(pad("", 32));
        }
        assert_eq!(h.len(), 256 * (ns + 1));
        let bps = if bdf { 3 } else { 2 };
        for r in records {
            for (s, block) in sigs.iter().zip(r) {
                assert_eq!(block.len(), s.spr * bps, "{}", s.label);
                h.extend_from_slice(block);
            }
        }
        h
    }

    fn i16s(v: &[i16]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    fn i24s(v: &[i32]) -> Vec<u8> {
        v.iter()
            .flat_map(|x| x.to_le_bytes()[..3].to_vec())
            .collect()
    }

    /// TAL bytes padded with NULs to `n`.
    fn tals(parts: &[&str], n: usize) -> Vec<u8> {
        let mut b: Vec<u8> = parts.concat().into_bytes();
        assert!(b.len() <= n);
        b.resize(n, 0);
        b
    }

    fn read(bytes: &[u8]) -> Result<Recording> {
        read_edf(&p(), bytes, &ReadOptions::default())
    }

    fn err(bytes: &[u8]) -> String {
        read(bytes).unwrap_err().to_string()
    }

    /// A plain EDF: one EMG signal, `n` records of 4 samples at 4 kHz (1 ms records).
    fn plain(n: usize) -> Vec<u8> {
        let recs: Vec<Vec<Vec<u8>>> = (0..n).map(|r| vec![i16s(&[r as i16, 1, 2, 3])]).collect();
        build(false, "", &n.to_string(), "0.001", &[emg(4)], &recs)
    }

    #[test]
    fn header_fields_are_parsed_and_trimmed() {
        let sigs = [emg(4), annot(6)];
        let rec = vec![i16s(&[0; 4]), tals(&["+0\x14\x14\0"], 12)];
        let b = build(false, "EDF+D", "1", "0.001", &sigs, &[rec]);
        let h = parse_header(&p(), &b).unwrap();
        assert_eq!(h.variant, Variant::Edf);
        assert!(h.plus && h.discontinuous);
        assert_eq!(h.format(), SourceFormat::EdfPlus);
        assert_eq!(h.header_bytes, 768);
        assert_eq!(h.declared_records, 1);
        assert_eq!(h.record_duration_s, 0.001);
        assert_eq!(h.start_date, "01.01.24");
        assert_eq!(h.signals[0].label, "EMG");
        assert_eq!(h.signals[0].dimension, "uV");
        assert_eq!(h.signals[0].physical_min, -3276.8);
        assert_eq!(h.signals[0].digital_max, 32767);
        assert_eq!(h.signals[0].samples_per_record, 4);
        assert!(!h.signals[0].is_annotations && h.signals[1].is_annotations);
        assert_eq!(h.record_bytes(), Some(20));
        let rec = read(&b).unwrap();
        // Annotation signals are not channels.
        assert_eq!(rec.channels.len(), 1);
        assert_eq!(rec.sample_rate.hz(), 4000.0);
    }

    #[test]
    fn digital_to_physical_by_hand() {
        // 12-bit range, ±100 µV: phys = (d + 2048) × 200 / 4095 − 100.
        let s = |dim| Sig {
            label: "EMG",
            dim,
            pmin: "-100",
            pmax: "100",
            dmin: "-2048",
            dmax: "2047",
            spr: 4,
        };
        let digital = [-2048i16, 0, 2047, 1000];
        let by_hand = [-100.0, 0.02442002442002442, 100.0, 48.86446886446886];
        for (dim, to_mv) in [
            ("uV", 1e-3),
            ("µV", 1e-3),
            ("mV", 1.0),
            ("V", 1e3),
            ("%", 1.0),
        ] {
            let b = build(false, "", "1", "0.001", &[s(dim)], &[vec![i16s(&digital)]]);
            let rec = read(&b).unwrap();
            let ch = &rec.channels[0];
            assert_eq!(ch.unit, dim);
            for (got, want) in ch.samples.iter().zip(by_hand) {
                let want = want * to_mv;
                assert!(
                    (f64::from(*got) - want).abs() <= 1e-6 * want.abs().max(1e-3),
                    "{dim}: {got} vs {want}"
                );
            }
        }
        // An inverted physical range is legal and flips the sign.
        let mut inv = s("mV");
        inv.pmin = "100";
        inv.pmax = "-100";
        let b = build(false, "", "1", "0.001", &[inv], &[vec![i16s(&digital)]]);
        assert!((read(&b).unwrap().channels[0].samples[0] - 100.0).abs() < 1e-4);
        // A physical range no 32-bit sample can hold is refused, not read as
        // infinities.
        let mut huge = s("mV");
        huge.pmin = "-1e300";
        huge.pmax = "1e300";
        let b = build(false, "", "1", "0.001", &[huge], &[vec![i16s(&digital)]]);
        let e = err(&b);
        assert!(
            e.contains("channel 0 (\"EMG\"): sample 0 scales to -inf")
                && e.contains("(physical range -1e300 to 1e300, unit \"mV\")"),
            "{e}"
        );
    }

    #[test]
    fn bdf_is_24_bit_and_status_keeps_low_16_bits() {
        let exg = exg1();
        let status = Sig {
            label: "Status",
            dim: "Boolean",
            pmin: "-8388608",
            pmax: "8388607",
            dmin: "-8388608",
            dmax: "8388607",
            spr: 4,
        };
        let rec = vec![
            i24s(&[-8388608, -1, 0, 8388607]),
            i24s(&[
                1 << 20,
                (1 << 20) | 1,
                (1 << 20) | (1 << 16) | 1,
                -8388608 + 3,
            ]),
        ];
        let b = build(true, "24BIT", "1", "0.001", &[exg, status], &[rec]);
        let r = read(&b).unwrap();
        assert_eq!(r.format, SourceFormat::Bdf);
        let x = &r.channels[0].samples;
        // phys = (d + 8388608) × 524287 / 16777215 − 262144 µV, in mV.
        let by_hand = |d: f64| ((d + 8388608.0) * 524287.0 / 16777215.0 - 262144.0) * 1e-3;
        for (got, d) in x.iter().zip([-8388608.0, -1.0, 0.0, 8388607.0]) {
            // f32 keeps ~7 digits of the ±262 mV range.
            assert!((f64::from(*got) - by_hand(d)).abs() < 1e-4, "{got} vs {d}");
        }
        assert_eq!(r.channels[1].kind, ChannelKind::Trigger);
        assert_eq!(r.channels[1].samples, vec![0.0, 1.0, 1.0, 3.0]);
    }

    #[test]
    fn tals_with_texts_durations_and_negative_onsets() {
        let block = b"+0\x14\x14\0+1.5\x152.25\x14exercise\x14\0-0.5\x14a\x14b\x14\0+3\x14\0\0\0";
        let t = parse_tals(block).unwrap();
        assert_eq!(t.len(), 4);
        assert_eq!(t[0].onset_s, 0.0);
        assert_eq!(t[0].texts, vec![""]);
        assert_eq!((t[1].onset_s, t[1].duration_s), (1.5, Some(2.25)));
        assert_eq!(t[1].texts, vec!["exercise"]);
        assert_eq!(t[2].onset_s, -0.5);
        assert_eq!(t[2].texts, vec!["a", "b"]);
        assert!(t[3].texts.is_empty());
        // UTF-8 texts; a TAL that fills the block without its closing NUL.
        let t = parse_tals("+0.25\x14Übung\x14".as_bytes()).unwrap();
        assert_eq!(t[0].texts, vec!["Übung"]);
        // Errors name the problem and the byte.
        let e = parse_tals(b"+0\x14\x14\0x1\x14a\x14\0").unwrap_err();
        assert!(e.contains("byte 5") && e.contains("malformed onset"), "{e}");
        assert!(parse_tals(b"1\x14a\x14\0").is_err(), "onset needs a sign");
        assert!(parse_tals(b"+1.2.3\x14a\x14\0").is_err());
        assert!(parse_tals(b"+1e3\x14a\x14\0").is_err());
        let e = parse_tals(b"+1\x15x\x14a\x14\0").unwrap_err();
        assert!(e.contains("duration"), "{e}");
        assert!(parse_tals(b"+1\x152\0").is_err());
        assert!(parse_tals(b"+1").is_err());
        assert!(parse_tals(b"\0\0\0").unwrap().is_empty());
    }

    #[test]
    fn stimulus_texts() {
        for yes in [
            "stim",
            "Stim",
            " STIMULUS ",
            "stim 3",
            "stim_12",
            "trigger",
            "Trig#2",
            "S",
            "s1",
            "S  1",
            "S12",
        ] {
            assert!(is_stimulus_text(yes), "{yes:?}");
        }
        for no in [
            "stimulator",
            "start",
            "baseline",
            "S1 left",
            "stim_",
            "trigger a",
            "",
            "post exercise",
        ] {
            assert!(!is_stimulus_text(no), "{no:?}");
        }
    }

    #[test]
    fn limits_and_malformed_headers() {
        let good = plain(2);
        let patch = |at: usize, text: &str, w: usize| {
            let mut b = good.clone();
            b[at..at + w].copy_from_slice(&pad(text, w));
            b
        };
        let e = read(&patch(252, "513", 4)).unwrap_err();
        assert!(
            matches!(
                e,
                Error::Limit {
                    value: 513,
                    limit: 512,
                    ..
                }
            ),
            "{e}"
        );
        assert!(err(&patch(252, "0", 4)).contains("0 signals"));
        assert!(err(&patch(252, "abc", 4)).contains("\"number of signals\" is not"));
        // A count within the per-channel limit is a cut-off file: the records
        // present are read. One beyond it is refused.
        assert_eq!(read(&patch(236, "99999999", 8)).unwrap().len(), 8);
        let big = build(
            false,
            "",
            "99999999",
            "0.005",
            &[emg(20)],
            &[vec![i16s(&[0; 20])]],
        );
        let e = read(&big).unwrap_err();
        assert!(matches!(e, Error::Limit { .. }), "{e}");
        assert!(
            e.to_string().contains(
                "data records declared (99999999) × samples per record (20) = samples per channel (1999999980)"
            ),
            "{e}"
        );
        assert!(err(&patch(184, "1000", 8)).contains("header length field says 1000 bytes"));
        assert!(err(&patch(236, "-5", 8)).contains("-5 data records"));
        assert!(err(&patch(236, "0", 8)).contains("no data records"));
        assert!(err(&patch(244, "0", 8)).contains("duration must be positive"));
        assert!(err(&patch(244, "nan", 8)).contains("not a number"));
        // Samples per record (signal 0) at 256 + 216.
        assert!(err(&patch(256 + 216, "0", 8)).contains("samples per record of signal 0"));
        // Digital min = max, at 256 + 128 (dmax of signal 0).
        let e = err(&patch(256 + 128, "-32768", 8));
        assert!(
            e.contains("channel 0 (\"EMG\"): digital minimum and maximum are both -32768"),
            "{e}"
        );
        let e = err(&patch(256 + 112, "-3276.8", 8));
        assert!(e.contains("physical minimum and maximum"), "{e}");
        assert!(err(&good[..100]).contains("too short"));
        assert!(err(&good[..300]).contains("header cut short"));
        assert!(
            err(b"1       not an edf header at all, but long enough? no").contains("too short")
        );
        let mut bad = good.clone();
        bad[0] = b'9';
        assert!(err(&bad).contains("not an EDF or BDF header"));
    }

    #[test]
    fn truncation_recovers_whole_records() {
        let b = plain(3);
        // Half of the last record missing: two records are read.
        let rec = read(&b[..b.len() - 4]).unwrap();
        assert_eq!(rec.len(), 8);
        // 0.1 µV per digital step: record 1 starts with digital 1.
        assert!((rec.channels[0].samples[4] - 1e-4).abs() < 1e-9);
        // The recovery is noted, naming what was declared and what was read.
        assert_eq!(rec.notes.len(), 1);
        assert_eq!(rec.notes[0].code, FlagCode::TruncatedFile);
        let m = &rec.notes[0].message;
        assert!(
            m.contains("declares 3 data records, the file holds 2 whole record(s) and 4 bytes"),
            "{m}"
        );
        assert!(read(&b).unwrap().notes.is_empty());
        // −1: count from the file size, a partial record dropped (and noted).
        let mut unknown = b.clone();
        unknown[236..244].copy_from_slice(&pad("-1", 8));
        let whole = read(&unknown).unwrap();
        assert_eq!(whole.len(), 12);
        assert!(whole.notes.is_empty());
        let cut = read(&unknown[..unknown.len() - 2]).unwrap();
        assert_eq!(cut.len(), 8);
        assert!(
            cut.notes[0]
                .message
                .contains("ends 6 bytes into data record 2"),
            "{:?}",
            cut.notes
        );
        // No whole record: an error naming the sizes.
        let e = err(&b[..256 * 2 + 5]);
        assert!(
            e.contains(
                "truncated data: header declares 3 data record(s) of 8 bytes, the file holds 5"
            ),
            "{e}"
        );
    }

    #[test]
    fn discontinuous_records_make_segments_from_time_zero() {
        // 4 kHz, 1 ms records at 0.25, 0.251 (contiguous), 0.5 (gap), 0.5015 (gap).
        let sigs = [emg(4), annot(20)];
        let starts = ["+0.25", "+0.251", "+0.5", "+0.5015"];
        let extra = [
            "+0.2505\x14stim\x14\0",
            "-0.1\x14before\x14\0",
            "+0.3\x14stim\x14\0+0.5017\x14S1\x14\0",
            "+0.9\x14stim\x14\0",
        ];
        let recs: Vec<Vec<Vec<u8>>> = starts
            .iter()
            .zip(extra)
            .map(|(s, x)| {
                let tk = format!("{s}\x14\x14\0");
                vec![i16s(&[0, 1, 2, 3]), tals(&[&tk, x], 40)]
            })
            .collect();
        let b = build(false, "EDF+D", "4", "0.001", &sigs, &recs);
        let rec = read(&b).unwrap();
        let segs: Vec<(usize, usize, f64)> = rec
            .segments
            .iter()
            .map(|s| (s.start, s.len, (s.start_s * 1e6).round() / 1e6))
            .collect();
        assert_eq!(segs, vec![(0, 8, 0.0), (8, 4, 0.25), (12, 4, 0.2515)]);
        let texts: Vec<(f64, &str)> = rec
            .annotations
            .iter()
            .map(|a| ((a.onset_s * 1e6).round() / 1e6, a.text.as_str()))
            .collect();
        assert_eq!(
            texts,
            vec![
                (-0.35, "before"),
                (0.0005, "stim"),
                (0.05, "stim"),
                (0.2517, "S1"),
                (0.65, "stim")
            ]
        );
        // Stimuli: 0.0005 s → sample 2; 0.05 s falls in the gap; 0.2517 s → 12 + 1 (rounded
        // from 0.8); 0.65 s lies beyond the data.
        let k = rec.stimuli.as_ref().unwrap();
        assert_eq!(k.samples, vec![2, 13]);
        assert_eq!(k.origin, StimulusOrigin::Annotations);
        assert!(k.timing_known);
        assert!((rec.time_of(13.0) - 0.25175).abs() < 1e-9);
    }

    #[test]
    fn record_order_and_time_keeping_are_checked() {
        let sigs = [emg(4), annot(10)];
        let rec = |tk: &str| vec![i16s(&[0; 4]), tals(&[tk], 20)];
        let b = build(
            false,
            "EDF+D",
            "2",
            "0.001",
            &sigs,
            &[rec("+1\x14\x14\0"), rec("+0.5\x14\x14\0")],
        );
        assert!(err(&b).contains("data record 1 starts at -0.5 s, before the previous record ends"));
        let b = build(
            false,
            "EDF+C",
            "1",
            "0.001",
            &sigs,
            &[rec("+1\x14stim\x14\0")],
        );
        assert!(err(&b).contains("no time-keeping annotation"));
        let b = build(
            false,
            "EDF+D",
            "1",
            "0.001",
            &[emg(4)],
            &[vec![i16s(&[0; 4])]],
        );
        assert!(err(&b).contains("EDF+D file without"));
        let b = build(
            false,
            "EDF+C",
            "1",
            "0.001",
            &sigs,
            &[rec("+0\x14\x14\0+x\x14a\x14\0")],
        );
        let e = err(&b);
        assert!(
            e.contains("data record 0, signal 1 (\"EDF Annotations\")"),
            "{e}"
        );
        let b = build(
            false,
            "EDF+C",
            "1",
            "0.001",
            &[annot(10)],
            &[vec![tals(&[], 20)]],
        );
        assert!(err(&b).contains("no signal besides annotations"));
    }

    #[test]
    fn rates_kinds_and_channel_selection() {
        // EMG at 4 kHz, Trig at 2 kHz, EMG 2 at 4 kHz; 1 ms records.
        let trig = Sig {
            label: "Trig",
            dim: "V",
            pmin: "-5",
            pmax: "5",
            dmin: "-32768",
            dmax: "32767",
            spr: 1,
        };
        let mut emg2 = emg(4);
        emg2.label = "EMG ADM";
        let recs = vec![vec![i16s(&[0; 4]), i16s(&[1]), i16s(&[5; 4])]];
        let b = build(
            false,
            "",
            "1",
            "0.001",
            &[emg(4), trig.clone(), emg2],
            &recs,
        );
        let rec = read(&b).unwrap();
        assert_eq!(rec.sample_rate.hz(), 4000.0);
        assert_eq!(rec.channels[1].kind, ChannelKind::Trigger);
        assert_eq!(rec.channels[1].sample_rate_hz, Some(1000.0));
        assert!(rec.channels[1].samples.is_empty());
        assert_eq!(rec.channels[1].len, 1);
        assert_eq!(rec.len(), 4);
        assert_eq!(rec.channel_rate_hz(1), 1000.0);
        // Only the EMG channel named (by label) and triggers at its rate are decoded.
        let sel = |emg: Option<ChannelSel>| ReadOptions {
            channels: ChannelFilter::Select {
                emg,
                others: vec![],
            },
            ..ReadOptions::default()
        };
        let r = read_edf(&p(), &b, &sel(Some("emg adm".into()))).unwrap();
        let loaded: Vec<bool> = r.channels.iter().map(|c| c.is_loaded()).collect();
        assert_eq!(loaded, vec![false, false, true]);
        // The trigger's own rate becomes the recording's when it is named.
        let r = read_edf(&p(), &b, &sel(Some("Trig".into()))).unwrap_err();
        assert!(r.to_string().contains("1000 Hz"), "{r}");
        let e = read_edf(&p(), &b, &sel(Some("ECG".into()))).unwrap_err();
        assert!(
            matches!(e, Error::NoSuchChannel { available: 3, .. }),
            "{e}"
        );
        // A trigger first: the default EMG channel is the first signal.
        let b = build(
            false,
            "",
            "1",
            "0.001",
            &[
                Sig {
                    spr: 4,
                    ..trig.clone()
                },
                emg(4),
            ],
            &[vec![i16s(&[0, 1, 0, 0]), i16s(&[0; 4])]],
        );
        let rec = read_edf(&p(), &b, &sel(None)).unwrap();
        assert_eq!(rec.default_emg_channel(), 1);
        assert!(rec.channels.iter().all(|c| c.is_loaded()));
        // Trigger values stay raw physical values (volts here): one digital step apart.
        let t = &rec.channels[0].samples;
        assert!(
            (f64::from(t[1] - t[0]) - 10.0 / 65535.0).abs() < 1e-6,
            "{t:?}"
        );
    }

    #[test]
    fn text_fields_utf8_or_latin1() {
        assert_eq!(field_text("EMG Abductor µ  ".as_bytes()), "EMG Abductor µ");
        assert_eq!(field_text(b"EMG \xB5V   "), "EMG µV");
        // A UTF-8 sequence cut by the field's end is dropped.
        let cut = &"abcdefghijklmnoµ".as_bytes()[..16];
        assert_eq!(field_text(cut), "abcdefghijklmno");
        assert_eq!(field_text(b"  \0\0"), "");
    }

    /// Assert that [`read_edf_file`] on `bytes` written to `file` gives what
    /// [`read_edf`] gives on the bytes: the same recording (compared through
    /// `Debug`, which prints every field and the shortest exact form of each
    /// float) or the same error.
    #[track_caller]
    fn same_from_file(file: &Path, bytes: &[u8], opts: &ReadOptions) {
        std::fs::write(file, bytes).unwrap();
        let from_bytes = format!("{:?}", read_edf(file, bytes, opts));
        let from_file = format!("{:?}", read_edf_file(file, opts));
        assert_eq!(from_file, from_bytes, "{} bytes", bytes.len());
    }

    /// An EDF+D of 4 records (EMG at 4 kHz, 1 ms records) whose time-keeping
    /// starts are `starts` and whose record 2 holds the TAL `extra`.
    fn discontinuous(starts: [&str; 4], extra: &str) -> Vec<u8> {
        let recs: Vec<Vec<Vec<u8>>> = starts
            .iter()
            .enumerate()
            .map(|(r, s)| {
                let tk = format!("{s}\x14\x14\0");
                let x = if r == 2 { extra } else { "+0.3\x14stim\x14\0" };
                vec![i16s(&[r as i16, 1, -2, 3]), tals(&[&tk, x], 40)]
            })
            .collect();
        build(false, "EDF+D", "4", "0.001", &[emg(4), annot(20)], &recs)
    }

    #[test]
    fn file_reader_matches_bytes_reader() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.edf");
        let all = ReadOptions::default();
        // Every cut of a plain EDF, an EDF+D with gaps and one with −1 records:
        // headers cut short, no whole record, partial records (noted).
        let gaps = discontinuous(["+0.25", "+0.251", "+0.5", "+0.5015"], "");
        let mut unknown = plain(3);
        unknown[236..244].copy_from_slice(&pad("-1", 8));
        for b in [plain(3), gaps.clone(), unknown] {
            for cut in 0..=b.len() {
                same_from_file(&file, &b[..cut], &all);
            }
        }
        // Errors in several stages come out in the same order: a malformed TAL
        // in record 2 before records out of order in record 1.
        let late_tal = discontinuous(["+1", "+0.5", "+2", "+3"], "+x\x14a\x14\0");
        same_from_file(&file, &late_tal, &all);
        assert!(err(&late_tal).contains("data record 2"));
        let order = discontinuous(["+1", "+0.5", "+2", "+3"], "");
        same_from_file(&file, &order, &all);
        assert!(err(&order).contains("data record 1 starts at"));
        // A channel that cannot be scaled (dmin = dmax) after one that scales
        // to infinities, and the other way round: the first channel's error.
        let mut flat = emg(4);
        flat.dmax = "-32768";
        let mut huge = emg(4);
        huge.pmin = "-1e300";
        huge.pmax = "1e300";
        let recs = vec![vec![i16s(&[1; 4]), i16s(&[2; 4])]];
        for sigs in [[huge.clone(), flat.clone()], [flat, huge]] {
            let b = build(false, "", "1", "0.001", &sigs, &recs);
            same_from_file(&file, &b, &all);
        }
        // Channel selections, two rates, a trigger, a BDF Status channel.
        let trig = Sig {
            label: "Trig",
            dim: "V",
            pmin: "-5",
            pmax: "5",
            dmin: "-32768",
            dmax: "32767",
            spr: 4,
        };
        let slow = Sig {
            label: "Slow",
            spr: 2,
            ..emg(2)
        };
        let recs: Vec<Vec<Vec<u8>>> = (0..3)
            .map(|r| {
                vec![
                    i16s(&[r; 4]),
                    i16s(&[0, 9, 0, 0]),
                    i16s(&[7, r]),
                    i16s(&[5; 4]),
                ]
            })
            .collect();
        let mut adm = emg(4);
        adm.label = "EMG ADM";
        let b = build(false, "", "3", "0.001", &[emg(4), trig, slow, adm], &recs);
        let select = |emg: Option<ChannelSel>, others: Vec<ChannelSel>| ReadOptions {
            channels: ChannelFilter::Select { emg, others },
            ..ReadOptions::default()
        };
        for opts in [
            all.clone(),
            select(None, vec![]),
            select(Some("adm".into()), vec![]),
            select(Some(2.into()), vec![]),
            select(Some("Trig".into()), vec![]),
            select(Some("nope".into()), vec![]),
            select(Some(0.into()), vec![3.into()]),
            ReadOptions {
                channels: ChannelFilter::Only(vec![3]),
                ..ReadOptions::default()
            },
        ] {
            same_from_file(&file, &b, &opts);
        }
        let exg = exg1();
        let status = Sig {
            label: "Status",
            dim: "Boolean",
            pmin: "-1",
            pmax: "-1",
            dmin: "0",
            dmax: "0",
            spr: 4,
        };
        let rec = vec![
            i24s(&[-8388608, -1, 0, 8388607]),
            i24s(&[1 << 20, 3, -1, 0]),
        ];
        let b = build(true, "24BIT", "1", "0.001", &[exg, status], &[rec]);
        for cut in 0..=b.len() {
            same_from_file(&file, &b[..cut], &all);
        }
        // Mutated EDF+C files, cut anywhere.
        for (b, cut) in mutations(0x2545_F491_4F6C_DD1D, 1500) {
            same_from_file(&file, &b[..cut], &all);
        }
    }

    #[test]
    fn hostile_counts_of_annotations_and_segments_are_limit_errors() {
        // One record holding more TALs than are kept.
        let mut parts = vec!["+0\x14\x14\0".to_string()];
        parts.extend((0..MAX_ANNOTATIONS).map(|_| "+0.5\x14x\x14\0".to_string()));
        let text: String = parts.concat();
        let spr = text.len().div_ceil(2);
        let rec = vec![i16s(&[1, 2, 3, 4]), tals(&[&text], 2 * spr)];
        let b = build(false, "EDF+C", "1", "0.001", &[emg(4), annot(spr)], &[rec]);
        let e = err(&b);
        assert!(e.contains("annotations") && e.contains("limit"), "{e}");
        // More gaps than segments are kept: one-sample records 0.5 ms apart.
        let n = MAX_SEGMENTS + 1;
        let recs: Vec<Vec<Vec<u8>>> = (0..n)
            .map(|r| {
                let tal = format!("+{}\x14\x14\0", r as f64 * 0.001);
                vec![i16s(&[1]), tals(&[&tal], 32)]
            })
            .collect();
        let b = build(
            false,
            "EDF+D",
            &n.to_string(),
            "0.0005",
            &[emg(1), annot(16)],
            &recs,
        );
        let e = err(&b);
        assert!(e.contains("segments") && e.contains("limit"), "{e}");
    }

    /// Two records of a 4-sample EMG signal and an annotation signal.
    fn small_edf_plus_c() -> Vec<u8> {
        let sigs = [emg(4), annot(10)];
        let recs: Vec<Vec<Vec<u8>>> = ["+0\x14\x14\0+0.0005\x14stim\x14\0", "+0.001\x14\x14\0"]
            .iter()
            .map(|t| vec![i16s(&[1, -2, 3, -4]), tals(&[t], 20)])
            .collect();
        build(false, "EDF+C", "2", "0.001", &sigs, &recs)
    }

    /// `n` copies of [`small_edf_plus_c`] with 1–4 bytes changed (digits,
    /// blanks, TAL separators or anything), each with a cut point in its
    /// second half: deterministic from `seed`.
    fn mutations(seed: u64, n: usize) -> impl Iterator<Item = (Vec<u8>, usize)> {
        let original = small_edf_plus_c();
        let mut rng = crate::test_rng::XorShift::new(seed);
        (0..n).map(move |_| {
            let mut b = original.clone();
            for _ in 0..(rng.next_u64() % 4 + 1) {
                let i = (rng.next_u64() as usize) % b.len();
                b[i] = match rng.next_u64() % 4 {
                    0 => b'0' + (rng.next_u64() % 10) as u8,
                    1 => b' ',
                    2 => 0x14,
                    _ => rng.next_u64() as u8,
                };
            }
            let cut = (rng.next_u64() as usize) % (b.len() + 1);
            let cut = cut.max(b.len() / 2);
            (b, cut)
        })
    }

    #[test]
    fn blocks_larger_than_a_chunk_are_read_in_pieces() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.edf");
        // 150 000 samples per 1-s record: each EDF block spans two chunks,
        // each BDF block three.
        let n = 150_000;
        assert!(n * 3 > 2 * CHUNK_BYTES && n * 2 > CHUNK_BYTES);
        let digital: Vec<i16> = (0..n).map(|i| (i % 30_000) as i16 - 15_000).collect();
        let edf = build(
            false,
            "",
            "2",
            "1",
            &[emg(n), emg(n)],
            &[
                vec![i16s(&digital), i16s(&digital)],
                vec![i16s(&digital), i16s(&digital)],
            ],
        );
        same_from_file(&file, &edf, &ReadOptions::default());
        let rec = read(&edf).unwrap();
        let x = &rec.channels[1].samples;
        assert_eq!(x.len(), 2 * n);
        for i in [
            0,
            1,
            CHUNK_BYTES / 2 - 1,
            CHUNK_BYTES / 2,
            n - 1,
            n,
            2 * n - 1,
        ] {
            let want = f64::from(digital[i % n]) * 0.1e-3;
            assert!((f64::from(x[i]) - want).abs() < 1e-7, "{i}: {}", x[i]);
        }
        let wide: Vec<i32> = (0..n as i32).map(|i| i * 50 - 3_000_000).collect();
        let exg = Sig {
            label: "EXG1",
            dim: "uV",
            pmin: "-262144",
            pmax: "262143",
            dmin: "-8388608",
            dmax: "8388607",
            spr: n,
        };
        let bdf = build(true, "24BIT", "1", "1", &[exg], &[vec![i24s(&wide)]]);
        same_from_file(&file, &bdf, &ReadOptions::default());
        let rec = read(&bdf).unwrap();
        let x = &rec.channels[0].samples;
        for i in [
            0,
            CHUNK_BYTES / 3 - 1,
            CHUNK_BYTES / 3,
            2 * CHUNK_BYTES / 3,
            n - 1,
        ] {
            let d = f64::from(wide[i]);
            let want = ((d + 8388608.0) * 524287.0 / 16777215.0 - 262144.0) * 1e-3;
            assert!((f64::from(x[i]) - want).abs() < 1e-4, "{i}");
        }
        // ±1e39 mV: only digital values beyond about ±11 000 overflow an f32.
        // The first such sample lies in the second chunk of the block.
        let mut big = emg(n);
        big.dim = "mV";
        big.pmin = "-1e39";
        big.pmax = "1e39";
        let mut d = vec![0i16; n];
        let at = CHUNK_BYTES / 2 + 7;
        d[at] = 20_000;
        d[at + 1] = -20_000;
        let b = build(false, "", "1", "1", &[big], &[vec![i16s(&d)]]);
        same_from_file(&file, &b, &ReadOptions::default());
        let e = err(&b);
        assert!(e.contains(&format!("sample {at} scales to inf")), "{e}");
    }

    #[test]
    fn mutated_files_never_panic() {
        assert!(read(&small_edf_plus_c()).is_ok());
        for (b, cut) in mutations(0x9E37_79B9_7F4A_7C15, 4000) {
            let _ = read(&b[..cut]);
            let _ = read(&b);
        }
    }

    #[test]
    fn messages_quote_header_fields_and_annotations_short_and_escaped() {
        // A label with an escape sequence, in a field that is no number.
        let mut sig = emg(4);
        sig.label = "EMG\x1b[2J";
        sig.pmin = "-1\x07x";
        let b = build(
            false,
            "",
            "1",
            "0.001",
            &[sig],
            &[vec![i16s(&[0, 1, 2, 3])]],
        );
        let e = err(&b);
        assert!(
            e.contains(
                "header field physical minimum of signal 0 (\"EMG\\u{1b}[2J\") is not a number: \
                 \"-1\\u{7}x\""
            ),
            "{e}"
        );
        assert!(!e.contains('\x1b') && !e.contains('\x07'));
        // A malformed onset of 300 bytes is cut to 40 characters.
        let long = format!("+{}", "9x".repeat(150));
        let e = parse_tals(format!("{long}\x14\x14\0").as_bytes()).unwrap_err();
        assert!(
            e.contains(&format!(
                "malformed onset \"+{}\"… (expected",
                &"9x".repeat(20)[..39]
            )),
            "{e}"
        );
        assert!(e.len() < 150, "{e}");
    }
}
