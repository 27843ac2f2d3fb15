//! CED Signal data files (CFS, the CED Filing System, `.cfs`).
//!
//! Overview: a CFS file opens with a 178-byte general header (`CEDFILE"`,
//! the channel, file-variable and data-section counts, the header sizes and
//! the offset of the pointer table), then one 48-byte description per
//! channel (name, y and x units, data type, data kind, the spacing between
//! a channel's points), the variable descriptions and the file variables'
//! values. Each data section (a Signal *frame*: one sweep) has a header — the
//! offset and size of its data, 16 flag bits, per channel its first byte,
//! point count, y scale and offset, x increment and offset — followed by its
//! own variables' values. The pointer table at the end lists the sections'
//! headers. Integers are little-endian; strings are length-prefixed.
//!
//! # Reading
//!
//! - **Values**: stored number × y scale + y offset, in the channel's y units,
//!   converted to millivolts for voltage units; other units are kept as they
//!   are. Types `INT1`, `WRD1`, `INT2`, `WRD2`, `INT4`, `RL4`, `RL8`; points
//!   are `spacing` bytes apart, so interleaved and contiguous channels read
//!   alike. Only equally spaced channels hold a waveform; matrix and
//!   subsidiary channels are listed without samples.
//! - **Sweeps**: every frame is one sweep ([`assemble::sweeps`]): the
//!   recording's rate is 1 / x increment of the EMG channel (x units `s` or
//!   `ms`), and the stimulus is the point at x = 0 (the x offset is the
//!   first point's time; Signal records pre-trigger points at negative
//!   times). Every frame must give the EMG channel the same points, x
//!   increment and x offset. Frames are laid end to end: the file does not
//!   say how far apart they were recorded.
//! - **Frame states and variables**: each frame's variables (Signal's frame
//!   state among them) and its flags, when any is set, go into
//!   [`Recording::metadata`] as `frame <k> <description> [units]` = value
//!   (`k` counting from 1), the file variables as `file <description>
//!   [units]`, so `rns inspect` lists them; at most [`MAX_METADATA`].
//! - **Limits**: at most [`MAX_CHANNELS`](crate::io::MAX_CHANNELS) channels
//!   and 2³⁰ points per channel across the frames, checked before anything
//!   is allocated; every frame's data must lie inside the file. A cut file
//!   loses its pointer table (it is at the end) and is refused.
//! - [`describe_cfs_file`] reads a file whose rate is below the accepted
//!   range (a 100 Hz example) for `rns inspect`, with
//!   [`Recording::not_analysable`] saying why.

use crate::error::{excerpt_str, Error, Result};
use crate::io::assemble::{self, ReadAt};
use crate::io::{open_input_len, ReadOptions};
use crate::recording::{ChannelKind, MetadataEntry, Recording, SourceFormat};
use crate::units::{SampleRate, Shown};
use std::path::Path;

/// The most metadata entries (file and frame variables) kept.
pub const MAX_METADATA: usize = 10_000;

const GENERAL: usize = 178;
const CHANNEL: usize = 48;
const VARIABLE: usize = 36;
const DS_GENERAL: usize = 30;
const DS_CHANNEL: usize = 24;

/// A channel as the file header describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelDesc {
    /// Name.
    pub name: String,
    /// Units of the values.
    pub y_units: String,
    /// Units of the x axis (`s` for a waveform in time).
    pub x_units: String,
    /// Data type code (0 `INT1` … 7 `LSTR`).
    pub data_type: u8,
    /// Data kind (0 equally spaced, 1 matrix, 2 subsidiary).
    pub kind: u8,
    /// Bytes from one point to the next.
    pub spacing: usize,
}

/// A variable description (file or data-section variable).
#[derive(Debug, Clone, PartialEq)]
struct VarDesc {
    name: String,
    vtype: u16,
    units: String,
    offset: usize,
}

/// One data section's channel header.
#[derive(Debug, Clone, Copy, PartialEq)]
struct DsChannel {
    first_byte: u64,
    points: u64,
    y_scale: f64,
    y_offset: f64,
    x_increment: f64,
    x_offset: f64,
}

/// One data section (frame).
#[derive(Debug, Clone, PartialEq)]
struct Section {
    data_offset: u64,
    data_size: u64,
    flags: u16,
    channels: Vec<DsChannel>,
    vars: Vec<(String, String)>,
}

/// Read a CED Signal (CFS) file.
///
/// Errors: a malformed header or data section, a frame whose data lies
/// beyond the file, frames that disagree on the EMG channel's layout, a rate
/// outside the accepted range; all exit 3.
pub fn read_cfs_file(path: &Path, opts: &ReadOptions) -> Result<Recording> {
    let (mut file, len) = open_input_len(path)?;
    read_from(path, &mut file, len, opts, false)
}

/// [`read_cfs_file`] for `rns inspect`: a file whose EMG channel is sampled
/// outside the accepted range is read at that rate, with
/// [`Recording::not_analysable`] saying why.
pub fn describe_cfs_file(path: &Path, opts: &ReadOptions) -> Result<Recording> {
    let (mut file, len) = open_input_len(path)?;
    read_from(path, &mut file, len, opts, true)
}

/// Read a CFS file from its bytes (the fuzz target's way in).
pub fn read_cfs(path: &Path, bytes: &[u8], opts: &ReadOptions) -> Result<Recording> {
    let mut src = bytes;
    read_from(path, &mut src, bytes.len() as u64, opts, false)
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}

fn i16_at(b: &[u8], i: usize) -> i16 {
    i16::from_le_bytes([b[i], b[i + 1]])
}

fn i32_at(b: &[u8], i: usize) -> i32 {
    i32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

fn f32_at(b: &[u8], i: usize) -> f64 {
    f64::from(f32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]))
}

/// The f32 at `i` as the f64 of its shortest decimal form.
fn f32_decimal(b: &[u8], i: usize) -> f64 {
    let v = f32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    v.to_string().parse().unwrap_or(f64::from(v))
}

/// A length-prefixed string in a `width`-byte field (Windows-1252 read as
/// Latin-1), trailing blanks and NULs trimmed.
fn pstr(b: &[u8], at: usize, width: usize) -> String {
    let n = usize::from(b[at]).min(width - 1);
    b[at + 1..at + 1 + n]
        .iter()
        .map(|&c| char::from(c))
        .collect::<String>()
        .trim_end_matches([' ', '\0'])
        .to_string()
}

/// Bytes of one value of data type `t`; `None` for `LSTR` and unknown types.
fn type_size(t: u8) -> Option<usize> {
    match t {
        0 | 1 => Some(1),
        2 | 3 => Some(2),
        4 | 5 => Some(4),
        6 => Some(8),
        _ => None,
    }
}

/// The stored number of type `t` at the start of `b`.
fn value(t: u8, b: &[u8]) -> f64 {
    match t {
        0 => f64::from(b[0] as i8),
        1 => f64::from(b[0]),
        2 => f64::from(i16_at(b, 0)),
        3 => f64::from(u16_at(b, 0)),
        4 => f64::from(i32_at(b, 0)),
        5 => f32_at(b, 0),
        _ => f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
    }
}

/// A non-negative count or offset field, or the error naming it.
fn count(path: &Path, v: i64, what: &str) -> Result<u64> {
    u64::try_from(v).map_err(|_| Error::malformed(path, format!("{what} is negative ({v})")))
}

/// The variables described by `descs` in the value area `area`.
fn variables(descs: &[VarDesc], area: &[u8]) -> Vec<(String, String)> {
    descs
        .iter()
        .map(|d| {
            let at = d.offset;
            let shown = match (d.vtype, type_size(d.vtype as u8)) {
                (7, _) => area.get(at..).map(|b| {
                    let n =
                        usize::from(b.first().copied().unwrap_or(0)).min(b.len().saturating_sub(1));
                    // An offset at the area's end leaves no length byte.
                    b.get(1..1 + n)
                        .unwrap_or_default()
                        .iter()
                        .map(|&c| char::from(c))
                        .collect::<String>()
                }),
                (t, Some(sz)) if t < 7 => area
                    .get(at..at + sz)
                    .map(|b| Shown(value(t as u8, b)).to_string()),
                _ => None,
            };
            let key = if d.units.is_empty() {
                d.name.clone()
            } else {
                format!("{} [{}]", d.name, d.units)
            };
            (key, shown.unwrap_or_else(|| "?".into()))
        })
        .collect()
}

fn read_from<S: ReadAt>(
    path: &Path,
    src: &mut S,
    file_len: u64,
    opts: &ReadOptions,
    describe: bool,
) -> Result<Recording> {
    if file_len < GENERAL as u64 {
        return Err(Error::malformed(
            path,
            format!("{file_len} bytes: shorter than the 178-byte CFS general header"),
        ));
    }
    let mut g = [0u8; GENERAL];
    src.read_at(path, 0, &mut g)?;
    if &g[..8] != b"CEDFILE\"" {
        return Err(Error::malformed(
            path,
            "not a CFS file: it does not start with CEDFILE\"",
        ));
    }
    let nch = count(path, i16_at(&g, 42).into(), "channel count")?;
    assemble::check_channels(path, nch)?;
    if nch == 0 {
        return Err(Error::malformed(path, "the file declares no channel"));
    }
    let nfv = count(path, i16_at(&g, 44).into(), "file variable count")? as usize;
    let ndsv = count(path, i16_at(&g, 46).into(), "data section variable count")? as usize;
    let header_size = count(path, i16_at(&g, 48).into(), "file header size")? as usize;
    let ds_header_size = count(path, i16_at(&g, 50).into(), "data section header size")? as usize;
    let nds = usize::from(u16_at(&g, 56));
    let table = count(path, i32_at(&g, 134).into(), "pointer table offset")?;
    let nch = nch as usize;
    let need = GENERAL + nch * CHANNEL + (nfv + ndsv + 2) * VARIABLE;
    if header_size < need || header_size as u64 > file_len {
        return Err(Error::malformed(
            path,
            format!(
                "file header size {header_size} bytes does not fit {nch} channel(s) and \
                 {} variable description(s) ({need} bytes) within the {file_len}-byte file",
                nfv + ndsv + 2
            ),
        ));
    }
    let ds_need = DS_GENERAL + nch * DS_CHANNEL;
    if ds_header_size < ds_need {
        return Err(Error::malformed(
            path,
            format!(
                "data section header size {ds_header_size} bytes is less than {nch} channel(s) \
                 need ({ds_need} bytes)"
            ),
        ));
    }
    if nds == 0 {
        return Err(Error::malformed(
            path,
            "the file holds no data section (frame)",
        ));
    }
    let mut h = vec![0u8; header_size];
    src.read_at(path, 0, &mut h)?;
    let channels: Vec<ChannelDesc> = (0..nch)
        .map(|c| {
            let at = GENERAL + c * CHANNEL;
            ChannelDesc {
                name: match pstr(&h, at, 22) {
                    n if n.trim().is_empty() => format!("ch{c}"),
                    n => n,
                },
                y_units: pstr(&h, at + 22, 10),
                x_units: pstr(&h, at + 32, 10),
                data_type: h[at + 42],
                kind: h[at + 43],
                spacing: usize::from(u16_at(&h, at + 44)),
            }
        })
        .collect();
    let vdesc = |i: usize| {
        let at = GENERAL + nch * CHANNEL + i * VARIABLE;
        VarDesc {
            name: pstr(&h, at, 22),
            vtype: u16_at(&h, at + 22),
            units: pstr(&h, at + 24, 10),
            offset: usize::from(u16_at(&h, at + 34)),
        }
    };
    let file_vars: Vec<VarDesc> = (0..nfv).map(vdesc).collect();
    let ds_vars: Vec<VarDesc> = (nfv + 1..nfv + 1 + ndsv).map(vdesc).collect();
    let fv_area = &h[need..];
    // The pointer table: one offset per data section.
    let table_end = table.saturating_add(4 * nds as u64);
    if table_end > file_len {
        return Err(Error::malformed(
            path,
            format!(
                "pointer table of {nds} data section(s) at byte {table} lies beyond the \
                 {file_len}-byte file (cut short?)"
            ),
        ));
    }
    let mut t = vec![0u8; 4 * nds];
    src.read_at(path, table, &mut t)?;
    let mut sections = Vec::with_capacity(nds);
    let mut dsh = vec![0u8; ds_header_size];
    for k in 0..nds {
        let at = count(path, i32_at(&t, 4 * k).into(), "data section offset")?;
        if at.saturating_add(ds_header_size as u64) > file_len {
            return Err(Error::malformed(
                path,
                format!(
                    "frame {}: its header at byte {at} lies beyond the file",
                    k + 1
                ),
            ));
        }
        src.read_at(path, at, &mut dsh)?;
        let data_offset = count(path, i32_at(&dsh, 4).into(), "data offset")?;
        let data_size = count(path, i32_at(&dsh, 8).into(), "data size")?;
        if data_offset.saturating_add(data_size) > file_len {
            return Err(Error::malformed(
                path,
                format!(
                    "frame {}: its {data_size} data bytes at byte {data_offset} lie beyond the \
                     {file_len}-byte file",
                    k + 1
                ),
            ));
        }
        let chans = (0..nch)
            .map(|c| {
                let b = DS_GENERAL + c * DS_CHANNEL;
                Ok(DsChannel {
                    first_byte: count(path, i32_at(&dsh, b).into(), "channel data offset")?,
                    points: count(path, i32_at(&dsh, b + 4).into(), "point count")?,
                    y_scale: f32_at(&dsh, b + 8),
                    y_offset: f32_at(&dsh, b + 12),
                    // As the f32's shortest decimal: 0.0001 s, not
                    // 0.000099999997 s, so the rate comes out as 10 kHz.
                    x_increment: f32_decimal(&dsh, b + 16),
                    x_offset: f32_decimal(&dsh, b + 20),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        sections.push(Section {
            data_offset,
            data_size,
            flags: u16_at(&dsh, 12),
            channels: chans,
            vars: variables(&ds_vars, &dsh[ds_need..]),
        });
    }
    // Frames hold their own data: together no more than the file. (Frames
    // pointing at the same bytes would multiply what is decoded.)
    let declared = sections
        .iter()
        .map(|s| s.data_size)
        .fold(0u64, u64::saturating_add);
    if declared > file_len {
        return Err(Error::malformed(
            path,
            format!(
                "the frames declare {declared} data bytes together, more than the {file_len}-byte file holds (frames sharing data?)"
            ),
        ));
    }
    assemble_recording(
        path, src, &channels, &sections, &file_vars, fv_area, opts, describe,
    )
}

/// The recording's rate, in Hz, from an x increment in `x_units`.
fn rate_hz(x_increment: f64, x_units: &str) -> Option<f64> {
    let per_s = match x_units.trim() {
        "s" | "S" | "" => 1.0,
        "ms" => 1e-3,
        "us" | "µs" => 1e-6,
        _ => return None,
    };
    Some(1.0 / (x_increment * per_s))
}

#[allow(clippy::too_many_arguments)]
fn assemble_recording<S: ReadAt>(
    path: &Path,
    src: &mut S,
    channels: &[ChannelDesc],
    sections: &[Section],
    file_vars: &[VarDesc],
    fv_area: &[u8],
    opts: &ReadOptions,
    describe: bool,
) -> Result<Recording> {
    let labels: Vec<&str> = channels.iter().map(|c| c.name.as_str()).collect();
    let waveform = |c: &ChannelDesc| c.kind == 0 && type_size(c.data_type).is_some();
    let kinds: Vec<ChannelKind> = channels
        .iter()
        .map(|c| {
            if assemble::is_trigger_label(&c.name) {
                ChannelKind::Trigger
            } else {
                ChannelKind::Signal
            }
        })
        .collect();
    // The first waveform signal, else the first waveform.
    let default_emg = (0..channels.len())
        .find(|&i| waveform(&channels[i]) && kinds[i] == ChannelKind::Signal)
        .or_else(|| (0..channels.len()).find(|&i| waveform(&channels[i])))
        .unwrap_or(0);
    let (filter, emg) = opts.channels.resolve(path, &labels, default_emg)?;
    let e = emg.unwrap_or(default_emg);
    let ec = &channels[e];
    let what = format!("channel {e} ({})", excerpt_str(&ec.name));
    if !waveform(ec) {
        return Err(Error::malformed(
            path,
            format!(
                "{what} holds no waveform (data kind {}, type {}): only equally spaced \
                 numeric channels can be analysed",
                ec.kind, ec.data_type
            ),
        ));
    }
    let first = sections[0].channels[e];
    for (k, s) in sections.iter().enumerate() {
        let c = s.channels[e];
        if (c.points, c.x_increment, c.x_offset)
            != (first.points, first.x_increment, first.x_offset)
        {
            return Err(Error::malformed(
                path,
                format!(
                    "{what}: frame {} has {} points every {} from {}, frame 1 {} every {} from {}; \
                     frames of different layouts are not read",
                    k + 1,
                    c.points,
                    Shown(c.x_increment),
                    Shown(c.x_offset),
                    first.points,
                    Shown(first.x_increment),
                    Shown(first.x_offset)
                ),
            ));
        }
    }
    let hz = rate_hz(first.x_increment, &ec.x_units).ok_or_else(|| {
        Error::malformed(
            path,
            format!(
                "{what}: x units {} are not a time (s or ms)",
                excerpt_str(&ec.x_units)
            ),
        )
    })?;
    let (rate, not_analysable) = match assemble::sample_rate(path, hz, &what) {
        Ok(r) => (r, None),
        Err(err) => match SampleRate::new_unchecked_range(hz).filter(|_| describe) {
            Some(r) if hz.is_finite() && hz > 0.0 => {
                let why = format!(
                    "{what} is sampled at {} Hz, outside the accepted range {}–{} Hz",
                    Shown(hz),
                    SampleRate::MIN_HZ,
                    SampleRate::MAX_HZ
                );
                (r, Some(why))
            }
            _ => return Err(err),
        },
    };
    let l = usize::try_from(first.points).unwrap_or(usize::MAX);
    let k = sections.len();
    assemble::check_samples(
        path,
        "points per channel across the frames",
        first.points.saturating_mul(k as u64),
    )?;
    // A channel is decoded when it is a waveform laid out as the EMG channel
    // in every frame and wanted (the filter, a trigger, the EMG channel).
    let same_layout = |i: usize| {
        waveform(&channels[i])
            && sections.iter().all(|s| {
                let c = s.channels[i];
                c.points == first.points && c.x_increment == first.x_increment
            })
    };
    // Each channel's points take their own bytes of a frame: what is to be
    // decoded must fit in the frame's data (channels sharing bytes would
    // multiply the samples decoded from a small file).
    let decodes = |i: usize| {
        (filter.wants(i) || kinds[i] == ChannelKind::Trigger || i == e) && same_layout(i)
    };
    for (k, s) in sections.iter().enumerate() {
        let bytes = (0..channels.len())
            .filter(|&i| decodes(i))
            .map(|i| {
                let sz = type_size(channels[i].data_type).unwrap_or(1) as u64;
                s.channels[i].points.saturating_mul(sz)
            })
            .fold(0u64, u64::saturating_add);
        if bytes > s.data_size {
            return Err(Error::malformed(
                path,
                format!(
                    "frame {}: the channels to read hold {bytes} bytes of points, more than the frame's {} data bytes (channels sharing data?)",
                    k + 1,
                    s.data_size
                ),
            ));
        }
    }
    let mut out = Vec::with_capacity(channels.len());
    for (i, c) in channels.iter().enumerate() {
        let wanted = filter.wants(i) || kinds[i] == ChannelKind::Trigger || i == e;
        let total = sections
            .iter()
            .map(|s| s.channels[i].points as usize)
            .fold(0usize, usize::saturating_add);
        if !(wanted && same_layout(i)) {
            let own = rate_hz(sections[0].channels[i].x_increment, &c.x_units)
                .filter(|r| r.is_finite() && *r > 0.0 && *r != rate.hz());
            out.push(assemble::listed_channel(
                i,
                c.name.clone(),
                c.y_units.clone(),
                kinds[i],
                total,
                own,
            ));
            continue;
        }
        let unit = match kinds[i] {
            ChannelKind::Signal => assemble::millivolts_per_unit(&c.y_units).unwrap_or(1.0),
            _ => 1.0,
        };
        let samples = decode_channel(path, src, c, i, sections, l, unit)?;
        out.push(assemble::channel(
            i,
            c.name.clone(),
            c.y_units.clone(),
            kinds[i],
            samples,
        ));
    }
    let dx = first.x_increment;
    let i0 = (-first.x_offset / dx).round();
    // The stimulus is the point at x = 0: a frame that starts after it
    // (a positive x offset) or ends before it cannot time the responses.
    if !(i0.is_finite() && i0 > -0.5 && i0 < l as f64) {
        return Err(Error::malformed(
            path,
            format!(
                "the frames' first point is at x = {} with {l} points every {}: the stimulus (x = 0) lies outside each frame",
                Shown(first.x_offset),
                Shown(dx)
            ),
        ));
    }
    let i0 = i0.max(0.0) as usize;
    let (segments, stimuli) = assemble::sweeps(path, k, l, i0, rate, None)?;
    let mut rec = assemble::recording(path, SourceFormat::Cfs, rate, out, segments);
    rec.stimuli = Some(stimuli);
    rec.not_analysable = not_analysable;
    let mut meta: Vec<MetadataEntry> = variables(file_vars, fv_area)
        .into_iter()
        .map(|(key, value)| MetadataEntry {
            key: format!("file {key}"),
            value,
        })
        .collect();
    'frames: for (k, s) in sections.iter().enumerate() {
        let flags = (s.flags != 0).then(|| ("flags".to_string(), format!("{:#06x}", s.flags)));
        for (key, value) in s.vars.iter().cloned().chain(flags) {
            if meta.len() >= MAX_METADATA {
                break 'frames;
            }
            meta.push(MetadataEntry {
                key: format!("frame {} {key}", k + 1),
                value,
            });
        }
    }
    rec.metadata = meta;
    rec.notes
        .extend(assemble::unit_note(&channels[e].name, &channels[e].y_units));
    Ok(rec)
}

/// Channel `i`'s points in every frame, scaled (× `unit` to the output unit).
fn decode_channel<S: ReadAt>(
    path: &Path,
    src: &mut S,
    c: &ChannelDesc,
    i: usize,
    sections: &[Section],
    l: usize,
    unit: f64,
) -> Result<Vec<f32>> {
    let sz = type_size(c.data_type).unwrap_or(1);
    let spacing = c.spacing.max(sz);
    let mut out = super::buffers::take(l.saturating_mul(sections.len()));
    let mut buf = Vec::new();
    for (k, s) in sections.iter().enumerate() {
        let d = s.channels[i];
        if l == 0 {
            continue;
        }
        let span = (l as u64 - 1)
            .saturating_mul(spacing as u64)
            .saturating_add(sz as u64);
        if d.first_byte.saturating_add(span) > s.data_size {
            return Err(Error::malformed(
                path,
                format!(
                    "frame {}, channel {i} ({}): {l} points of {sz} bytes every {spacing} bytes \
                     from byte {} overrun the frame's {} data bytes",
                    k + 1,
                    excerpt_str(&c.name),
                    d.first_byte,
                    s.data_size
                ),
            ));
        }
        buf.resize(span as usize, 0);
        src.read_at(path, s.data_offset + d.first_byte, &mut buf)?;
        let (g, o) = (d.y_scale * unit, d.y_offset * unit);
        let from = out.len();
        out.extend((0..l).map(|p| (value(c.data_type, &buf[p * spacing..]) * g + o) as f32));
        if let Some(j) = out[from..].iter().position(|v| !v.is_finite()) {
            return Err(Error::malformed(
                path,
                format!(
                    "frame {}, channel {i} ({}): point {j} scales to {} (y scale {}, offset {}), \
                     not a finite value",
                    k + 1,
                    excerpt_str(&c.name),
                    out[from + j],
                    Shown(d.y_scale),
                    Shown(d.y_offset)
                ),
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::StimulusOrigin;
    use std::path::PathBuf;

    /// A CFS file by the layout of the module doc: `chans` (name, y units,
    /// type, spacing) interleaved in each frame of `frames` (per frame, the
    /// stored bytes and `points`), one file variable and one frame variable.
    fn build(
        chans: &[(&str, &str, u8)],
        points: usize,
        frames: &[Vec<u8>],
        dx: f32,
        x0: f32,
    ) -> Vec<u8> {
        let nch = chans.len();
        let pstr = |s: &str, w: usize| {
            // Latin-1, as CED writes its strings.
            let b: Vec<u8> = s.chars().map(|c| c as u8).collect();
            let mut v = vec![0u8; w];
            v[0] = b.len() as u8;
            v[1..1 + b.len()].copy_from_slice(&b);
            v
        };
        let spacing: usize = chans.iter().map(|c| type_size(c.2).unwrap()).sum();
        let mut h = Vec::new();
        h.extend_from_slice(b"CEDFILE\"");
        h.extend(pstr("T.CFS", 14));
        h.extend(0i32.to_le_bytes()); // file size, patched below
        h.extend_from_slice(b"12:00:0001/01/24");
        let header_size = GENERAL + nch * CHANNEL + 4 * VARIABLE + 2;
        let ds_size = DS_GENERAL + nch * DS_CHANNEL + 2;
        for v in [nch as i16, 1, 1, header_size as i16, ds_size as i16] {
            h.extend(v.to_le_bytes());
        }
        h.extend(0i32.to_le_bytes()); // last DS
        h.extend((frames.len() as u16).to_le_bytes());
        h.extend(1u16.to_le_bytes());
        h.extend(pstr("comment", 74));
        h.extend(0i32.to_le_bytes()); // table, patched
        h.extend([0u8; 40]);
        assert_eq!(h.len(), GENERAL);
        for c in chans {
            h.extend(pstr(c.0, 22));
            h.extend(pstr(c.1, 10));
            h.extend(pstr("s", 10));
            h.extend([c.2, 0]);
            h.extend((spacing as i16).to_le_bytes());
            h.extend(0i16.to_le_bytes());
        }
        for (name, t, off) in [
            ("Gain", 2u16, 0i16),
            ("", 0, 2),
            ("State", 2, 0),
            ("", 0, 2),
        ] {
            h.extend(pstr(name, 22));
            h.extend(t.to_le_bytes());
            h.extend(pstr("", 10));
            h.extend(off.to_le_bytes());
        }
        h.extend(7i16.to_le_bytes());
        assert_eq!(h.len(), header_size);
        let mut offsets = Vec::new();
        for (k, data) in frames.iter().enumerate() {
            let data_at = h.len();
            h.extend(data);
            offsets.push(h.len() as i32);
            h.extend(0i32.to_le_bytes());
            h.extend((data_at as i32).to_le_bytes());
            h.extend((data.len() as i32).to_le_bytes());
            h.extend((k as u16).to_le_bytes());
            h.extend([0u8; 16]);
            let mut first = 0;
            for c in chans {
                h.extend((first as i32).to_le_bytes());
                h.extend((points as i32).to_le_bytes());
                for f in [0.5f32, 1.0, dx, x0] {
                    h.extend(f.to_le_bytes());
                }
                first += type_size(c.2).unwrap();
            }
            h.extend((k as i16 + 1).to_le_bytes());
        }
        let table = h.len();
        for o in offsets {
            h.extend(o.to_le_bytes());
        }
        let n = h.len() as i32;
        h[22..26].copy_from_slice(&n.to_le_bytes());
        h[134..138].copy_from_slice(&(table as i32).to_le_bytes());
        h
    }

    fn frame_i16(pairs: &[(i16, i16)]) -> Vec<u8> {
        pairs
            .iter()
            .flat_map(|(a, b)| a.to_le_bytes().into_iter().chain(b.to_le_bytes()))
            .collect()
    }

    fn p() -> PathBuf {
        PathBuf::from("t.cfs")
    }

    fn read(b: &[u8]) -> Result<Recording> {
        read_cfs(&p(), b, &ReadOptions::default())
    }

    #[test]
    fn frames_become_sweeps_with_the_stimulus_at_x_zero() {
        let f1 = frame_i16(&[(2, 0), (4, 10), (6, 0), (8, 0)]);
        let f2 = frame_i16(&[(-2, 0), (-4, 10), (-6, 0), (-8, 0)]);
        let b = build(
            &[("EMG", "mV", 2), ("Stim", "V", 2)],
            4,
            &[f1, f2],
            1e-4,
            -1e-4,
        );
        let rec = read(&b).unwrap();
        assert_eq!(rec.format, SourceFormat::Cfs);
        assert!((rec.sample_rate.hz() - 10_000.0).abs() < 1e-3);
        // stored × 0.5 + 1.0, in mV.
        assert_eq!(
            rec.channels[0].samples,
            vec![2.0, 3.0, 4.0, 5.0, 0.0, -1.0, -2.0, -3.0]
        );
        assert_eq!(rec.channels[1].kind, ChannelKind::Trigger);
        assert_eq!(rec.channels[1].samples[1], 6.0);
        let st = rec.stimuli.unwrap();
        assert_eq!(st.samples, vec![1, 5]);
        assert_eq!(st.origin, StimulusOrigin::Sweeps);
        assert_eq!(rec.segments.len(), 2);
        let m: Vec<(&str, &str)> = rec
            .metadata
            .iter()
            .map(|m| (m.key.as_str(), m.value.as_str()))
            .collect();
        assert_eq!(
            m,
            vec![
                ("file Gain", "7"),
                ("frame 1 State", "1"),
                ("frame 2 State", "2"),
                ("frame 2 flags", "0x0001")
            ]
        );
    }

    #[test]
    fn microvolts_floats_and_slow_rates() {
        let f: Vec<u8> = [1.0f32, -3.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let b = build(&[("EMG", "µV", 5)], 2, &[f], 1e-4, 0.0);
        let rec = read(&b).unwrap();
        // µV from the file's bytes: 0.5 × stored + 1 µV, in mV.
        assert_eq!(rec.channels[0].samples, vec![0.0015, -0.0005]);
        let f = frame_i16(&[(1, 1)]);
        let b = build(&[("EMG", "mV", 2), ("B", "mV", 2)], 1, &[f], 0.01, 0.0);
        let e = read(&b).unwrap_err().to_string();
        assert!(e.contains("outside the accepted range"), "{e}");
    }

    #[test]
    fn hostile_headers_are_refused() {
        let f = frame_i16(&[(1, 1), (2, 2)]);
        let good = build(&[("EMG", "mV", 2), ("B", "mV", 2)], 2, &[f], 1e-4, 0.0);
        assert!(read(&good).is_ok());
        let e = read(&good[..100]).unwrap_err().to_string();
        assert!(e.contains("shorter than the 178-byte"), "{e}");
        let mut b = good.clone();
        b[0] = b'X';
        assert!(read(&b).unwrap_err().to_string().contains("not a CFS file"));
        let mut b = good.clone();
        b[42..44].copy_from_slice(&300i16.to_le_bytes());
        assert!(matches!(read(&b).unwrap_err(), Error::Limit { .. }));
        let e = read(&good[..good.len() - 2]).unwrap_err().to_string();
        assert!(e.contains("pointer table"), "{e}");
        // A point count beyond the frame's data.
        let mut b = good.clone();
        let table = i32_at(&b, 134) as usize;
        let ds = i32_at(&b, table) as usize;
        b[ds + DS_GENERAL + 4..ds + DS_GENERAL + 8].copy_from_slice(&1_000_000i32.to_le_bytes());
        b[ds + DS_GENERAL + 28..ds + DS_GENERAL + 32].copy_from_slice(&1_000_000i32.to_le_bytes());
        let e = read(&b).unwrap_err().to_string();
        assert!(e.contains("more than the frame's 8 data bytes"), "{e}");
        let mut b = good.clone();
        b[ds + DS_GENERAL + 4..ds + DS_GENERAL + 8].copy_from_slice(&i32::MAX.to_le_bytes());
        let e = read(&b).unwrap_err().to_string();
        assert!(e.contains("exceeds the limit of 1073741824"), "{e}");
    }

    #[test]
    fn mutated_files_never_panic() {
        let f = frame_i16(&[(1, 1), (2, 2), (3, 3)]);
        let good = build(
            &[("EMG", "mV", 2), ("Trig", "V", 2)],
            3,
            &[f.clone(), f],
            1e-4,
            -1e-4,
        );
        let mut seed = 11u64;
        for _ in 0..5000 {
            let mut b = good.clone();
            for _ in 0..3 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let i = (seed >> 20) as usize % b.len();
                b[i] = (seed >> 40) as u8;
            }
            if let Err(e) = read(&b) {
                assert!(!e.to_string().contains('\n'));
            }
        }
    }

    #[test]
    fn frames_that_start_after_the_stimulus_are_refused() {
        let f1 = frame_i16(&[(2, 0), (4, 10), (6, 0), (8, 0)]);
        // x offset +0.2 ms: the frame begins after x = 0.
        let b = build(
            &[("EMG", "mV", 2), ("Stim", "V", 2)],
            4,
            std::slice::from_ref(&f1),
            1e-4,
            2e-4,
        );
        let e = read(&b).unwrap_err().to_string();
        assert!(
            e.contains("the stimulus (x = 0) lies outside each frame"),
            "{e}"
        );
        // x offset −1 ms with 4 points of 0.1 ms: it ends before x = 0.
        let b = build(&[("EMG", "mV", 2), ("Stim", "V", 2)], 4, &[f1], 1e-4, -1e-3);
        let e = read(&b).unwrap_err().to_string();
        assert!(e.contains("lies outside each frame"), "{e}");
    }

    #[test]
    fn frames_sharing_their_data_are_refused() {
        let f1 = frame_i16(&[(2, 0), (4, 10), (6, 0), (8, 0)]);
        let frames = vec![f1; 10];
        let mut b = build(
            &[("EMG", "mV", 2), ("Stim", "V", 2)],
            4,
            &frames,
            1e-4,
            -1e-4,
        );
        // Point every frame's data at the first frame's, declared as running
        // to the end of the file: each lies in the file, together they
        // declare ten times what it holds.
        let table = i32_at(&b, 134) as usize;
        let n = b.len() as i32;
        let at1 = i32_at(&b, i32_at(&b, table) as usize + 4);
        for k in 0..10 {
            let ds = i32_at(&b, table + 4 * k) as usize;
            b[ds + 4..ds + 8].copy_from_slice(&at1.to_le_bytes());
            b[ds + 8..ds + 12].copy_from_slice(&(n - at1).to_le_bytes());
        }
        let e = read(&b).unwrap_err().to_string();
        assert!(e.contains("frames sharing data?"), "{e}");
    }

    #[test]
    fn a_text_variable_at_the_end_of_its_area_reads_as_empty() {
        let d = VarDesc {
            name: "Note".into(),
            vtype: 7,
            units: String::new(),
            offset: 2,
        };
        assert_eq!(
            variables(&[d], &[0, 0]),
            vec![("Note".to_string(), String::new())]
        );
    }
}
