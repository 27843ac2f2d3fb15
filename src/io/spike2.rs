//! CED Spike2 data files: 32-bit `.smr` and 64-bit `.smrx`.
//!
//! The container is parsed by the `openreadout-ephys` crate (a clean-room
//! reader after Neo's `Spike2RawIO`); this module checks the file before the
//! crate walks it, picks the channels and builds the [`Recording`]:
//!
//! - Waveform channels (Adc, RealWave) are the channels, in file order, named
//!   by their titles (`ch<N>` for an untitled channel N). Their values come
//!   out of the crate in the channel's unit (Adc: `int16 × scale / 6553.6 +
//!   offset`) and are converted to millivolts from that unit; a signal whose
//!   unit is no voltage is read as millivolts with a `unit_assumed` note.
//! - The EMG channel (named, else the first waveform channel that is no
//!   trigger) sets the recording's rate. Another waveform channel at another
//!   rate is listed with its own rate, never decoded; one at the same rate is
//!   decoded when its samples lie at the same times as the EMG's.
//! - Gaps: Spike2 may pause sampling; each gap-free run of the EMG channel is
//!   one [`Segment`] starting at its own time.
//! - Event channels (rising/falling/level events, markers, text marks) are
//!   not sampled, so they are no channels of the recording. The marker
//!   channel is the one the trigger-channel setting names (by title), else
//!   the first event channel whose title names a trigger
//!   ([`is_trigger_label`]: `Stim`, `Trig`, `Marker`, `Keyboard`, `TTL`…);
//!   its times become the [`KnownStimuli`](crate::recording::KnownStimuli)
//!   (origin `events`, timing known). For a level channel only the rising
//!   edges count. Without such a channel the stimuli are found from the
//!   signal's artifacts, as for any continuous file.
//!
//! Limits, checked before the crate allocates anything for them: files above
//! [`MAX_SPIKE2_BYTES`], more than [`MAX_CHANNELS`](crate::io::MAX_CHANNELS)
//! channel slots, block chains (`.smr`) or index trees (`.smrx`) that loop or
//! share blocks (each block is then inside the file once, which bounds the
//! blocks by the file's size), and more than
//! [`MAX_SAMPLES_PER_CHANNEL`](crate::io::MAX_SAMPLES_PER_CHANNEL) samples or
//! events per channel.

use crate::error::{Error, Result};
use crate::io::assemble::{self, is_trigger_label, millivolts_per_unit};
use crate::io::{ChannelFilter, ReadOptions};
use crate::recording::{ChannelKind, ChannelSel, ReadNote, Recording, Segment, SourceFormat};
use crate::vocab::FlagCode;
use openreadout_core::reader::Dataset;
use openreadout_ephys::spike2::dataset::{Spike2Dataset, MAX_SMR_READ, MAX_SMR_TABLE_READ};
use openreadout_ephys::spike2::file::{segments, ChannelKind as SonKind, SmrChannel, SmrFile};
use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// The largest Spike2 file read (16 GiB): far above a day of EMG at 20 kHz,
/// and a bound on the blocks a damaged file can declare.
pub const MAX_SPIKE2_BYTES: u64 = 1 << 34;

/// Read a Spike2 `.smr` or `.smrx` file (see the module documentation).
///
/// Errors: a damaged or unsupported file is [`Error::Malformed`] (exit 3)
/// naming the file; declared sizes beyond the limits are [`Error::Limit`].
pub fn read_spike2_file(path: &Path, opts: &ReadOptions) -> Result<Recording> {
    precheck(path)?;
    let mut ds =
        Spike2Dataset::open(path).map_err(|e| assemble::openreadout_error(path, e, "Spike2"))?;
    let file = ds.smr().clone();
    build(path, opts, &mut ds, &file)
}

/// Check the file's size, channel count and block structure before the crate
/// walks it: the crate bounds each chain's length but not a chain that loops
/// through many blocks, nor channels that share one index tree, either of
/// which would make it read for hours and hold gigabytes.
fn precheck(path: &Path) -> Result<()> {
    let mut f = crate::io::open_input(path)?;
    let io = |e: std::io::Error| Error::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let len = f.metadata().map_err(io)?.len();
    if len > MAX_SPIKE2_BYTES {
        return Err(Error::Limit {
            path: path.to_path_buf(),
            what: "bytes in a Spike2 file".into(),
            value: len,
            limit: MAX_SPIKE2_BYTES,
        });
    }
    let mut r = Reader { f: &mut f, len };
    let head = r.at(0, 64).map_err(io)?;
    if head.starts_with(b"S64") {
        precheck_smrx(path, &mut r)
    } else {
        precheck_smr(path, &mut r)
    }
}

/// Bounded reads at offsets of the file being checked.
struct Reader<'a> {
    f: &'a mut std::fs::File,
    len: u64,
}

impl Reader<'_> {
    /// Up to `n` bytes at `at` (fewer at the end of the file).
    fn at(&mut self, at: u64, n: u64) -> std::io::Result<Vec<u8>> {
        let n = n.min(self.len.saturating_sub(at));
        let mut buf = Vec::with_capacity(n as usize);
        self.f.seek(SeekFrom::Start(at))?;
        (&mut *self.f).take(n).read_to_end(&mut buf)?;
        Ok(buf)
    }
}

fn le_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn le_i32(b: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn le_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// `.smr`: at most [`MAX_CHANNELS`](crate::io::MAX_CHANNELS) channel headers, and every channel's
/// block chain visits blocks no other chain (and no earlier link) visits.
fn precheck_smr(path: &Path, r: &mut Reader<'_>) -> Result<()> {
    let io = |e: std::io::Error| Error::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let head = r.at(0, 512).map_err(io)?;
    if head.len() < 512 {
        return Err(Error::malformed(
            path,
            format!(
                "Spike2 file is {} bytes, shorter than its 512-byte header",
                head.len()
            ),
        ));
    }
    let system_id = le_u16(&head, 0).unwrap_or(0);
    let nch = le_u16(&head, 30).map_or(0, |v| v as i16);
    if nch < 0 {
        return Err(Error::malformed(
            path,
            format!("Spike2 header declares {nch} channels"),
        ));
    }
    assemble::check_channels(path, nch as u64)?;
    let table = r.at(512, 140 * nch as u64).map_err(io)?;
    // Version 9 files count blocks in 512-byte units, older ones in bytes.
    let unit: i64 = if system_id == 9 { 512 } else { 1 };
    let mut seen: HashSet<i64> = HashSet::new();
    for i in 0..nch as usize {
        let o = 140 * i;
        let Some(kind) = table.get(o + 122) else {
            break; // the crate reports the table cut short
        };
        if *kind == 0 {
            continue;
        }
        let mut pos = i64::from(le_i32(&table, o + 6).unwrap_or(-1));
        while pos != -1 {
            let Some(at) = pos.checked_mul(unit).filter(|&a| a >= 0) else {
                break; // not an offset: the crate reports it
            };
            if at as u64 + 20 > r.len {
                break; // past the end: the crate reports the truncation
            }
            if !seen.insert(at) {
                return Err(Error::malformed(
                    path,
                    format!(
                        "Spike2 channel {}: its block chain loops or runs into another \
                         channel's blocks (block at byte {at})",
                        i + 1
                    ),
                ));
            }
            let h = r.at(at as u64, 20).map_err(io)?;
            pos = i64::from(le_i32(&h, 4).unwrap_or(-1));
        }
    }
    Ok(())
}

/// `.smrx`: at most [`MAX_CHANNELS`](crate::io::MAX_CHANNELS) channel records, and no index or data
/// block is reached twice (within a channel's tree or across channels).
fn precheck_smrx(path: &Path, r: &mut Reader<'_>) -> Result<()> {
    let io = |e: std::io::Error| Error::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let head = r.at(0, 1 << 16).map_err(io)?;
    if head.len() < 1032 {
        return Err(Error::malformed(
            path,
            format!(
                "Spike2 file is {} bytes, shorter than the .smrx header",
                head.len()
            ),
        ));
    }
    let nch = le_u32(&head, 56).unwrap_or(0);
    assemble::check_channels(path, u64::from(nch))?;
    // Extra header blocks (many channels or long strings) are left to the
    // crate; the channel table is checked when it lies in the first block.
    let table = u64::from(le_u32(&head, 44).unwrap_or(0));
    let rec = u64::from(le_u32(&head, 60).unwrap_or(0));
    let mut seen: HashSet<u64> = HashSet::new();
    for i in 0..u64::from(nch) {
        let at = table.saturating_add(rec.saturating_mul(i));
        let Some(rec_at) = usize::try_from(at).ok().filter(|&a| a + 0x48 <= head.len()) else {
            break;
        };
        if head.get(rec_at + 0x2e).is_none_or(|&k| k == 0) {
            continue;
        }
        let root = le_u64(&head, rec_at).unwrap_or(0);
        let live = le_u64(&head, rec_at + 0x10).unwrap_or(0);
        let generation = le_u16(&head, rec_at + 0x2c).unwrap_or(0);
        if root == 0 || live == 0 {
            continue;
        }
        let mut walk = SmrxWalk {
            path,
            chan: i as u16,
            generation,
            live,
            data: 0,
        };
        walk.index(r, &mut seen, root, 1)?;
    }
    Ok(())
}

/// One channel's index tree, walked as the crate walks it.
struct SmrxWalk<'a> {
    path: &'a Path,
    chan: u16,
    generation: u16,
    live: u64,
    data: u64,
}

impl SmrxWalk<'_> {
    fn repeated(&self, at: u64) -> Error {
        Error::malformed(
            self.path,
            format!(
                "Spike2 channel {}: its index reaches the block at byte {at} twice \
                 (a loop, or a block of another channel)",
                u32::from(self.chan) + 1
            ),
        )
    }

    fn index(
        &mut self,
        r: &mut Reader<'_>,
        seen: &mut HashSet<u64>,
        at: u64,
        depth: u32,
    ) -> Result<()> {
        // Past six levels, or past the end, the crate stops and reports it.
        if depth > 6 || at.saturating_add(4096) > r.len {
            return Ok(());
        }
        if !seen.insert(at) {
            return Err(self.repeated(at));
        }
        let b = r.at(at, 4096).map_err(|e| Error::Io {
            path: self.path.to_path_buf(),
            source: e,
        })?;
        let level = (le_u64(&b, 0).unwrap_or(0) >> 8) & 0xF;
        let n = u64::from(le_u32(&b, 12).unwrap_or(0)).min(255);
        for k in 0..n as usize {
            if self.data >= self.live {
                return Ok(());
            }
            let child = le_u64(&b, 16 + 16 * k + 8).unwrap_or(0);
            if level > 1 {
                self.index(r, seen, child, depth + 1)?;
            } else {
                self.data_block(r, seen, child)?;
            }
        }
        Ok(())
    }

    fn data_block(&mut self, r: &mut Reader<'_>, seen: &mut HashSet<u64>, at: u64) -> Result<()> {
        if at.saturating_add(16) > r.len {
            return Ok(());
        }
        let h = r.at(at, 16).map_err(|e| Error::Io {
            path: self.path.to_path_buf(),
            source: e,
        })?;
        // A block of a deleted channel in this slot: the crate skips it.
        if le_u16(&h, 8) != Some(self.chan) || le_u16(&h, 10) != Some(self.generation) {
            return Ok(());
        }
        if !seen.insert(at) {
            return Err(self.repeated(at));
        }
        self.data += 1;
        Ok(())
    }
}

/// A waveform channel of the file: its place, rate and gap-free runs.
struct Wave {
    /// Index into the file's channels.
    file_index: usize,
    /// Index among the crate's traces (waveform channels with samples).
    trace: u32,
    label: String,
    rate_hz: f64,
    /// Gap-free runs: (start tick, samples).
    runs: Vec<(i64, u64)>,
}

fn label_of(c: &SmrChannel) -> String {
    let t = c.title.trim();
    if t.is_empty() {
        format!("ch{}", c.number)
    } else {
        t.to_string()
    }
}

fn build(
    path: &Path,
    opts: &ReadOptions,
    ds: &mut Spike2Dataset,
    file: &SmrFile,
) -> Result<Recording> {
    let format = if file.son64.is_some() {
        SourceFormat::Smrx
    } else {
        SourceFormat::Smr
    };
    assemble::check_channels(path, file.channels.len() as u64)?;
    // The crate's traces: waveform channels with samples and an interval.
    let mut waves: Vec<Wave> = Vec::new();
    for (i, c) in file.channels.iter().enumerate() {
        if !c.kind.is_waveform() {
            continue;
        }
        let runs = segments(c);
        let Some(ticks) = c.interval_ticks.filter(|_| !runs.is_empty()) else {
            continue;
        };
        let total: u64 = runs.iter().map(|r| r.2).sum();
        assemble::check_samples(path, &format!("samples of channel {}", c.number), total)?;
        waves.push(Wave {
            file_index: i,
            trace: waves.len() as u32,
            label: label_of(c),
            rate_hz: whole_if_near(1.0 / (ticks as f64 * file.tick_s)),
            runs: runs
                .iter()
                .map(|&(b, _, n)| (c.blocks[b].start, n))
                .collect(),
        });
    }
    let events: Vec<&SmrChannel> = file
        .channels
        .iter()
        .filter(|c| c.kind.is_events())
        .collect();
    if waves.is_empty() {
        return Err(Error::malformed(
            path,
            "Spike2 file has no waveform channel with samples (no EMG to read)",
        ));
    }
    let labels: Vec<&str> = waves.iter().map(|w| w.label.as_str()).collect();
    let event_labels: Vec<String> = events.iter().map(|c| label_of(c)).collect();
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
    let default_emg = format.default_emg_channel(kinds.iter().copied());
    // A named trigger may be an event channel: resolve it there, and keep
    // only the waveform channels in the filter.
    let (filter, emg, marker_sel) = split_filter(path, &opts.channels, &labels, &event_labels)?;
    let (filter, named_emg) = filter.resolve(path, &labels, default_emg)?;
    let emg = emg.or(named_emg).unwrap_or(default_emg);
    let emg_wave = &waves[emg];
    let rate = assemble::sample_rate(
        path,
        emg_wave.rate_hz,
        &format!("channel {emg} ({:?})", emg_wave.label),
    )?;
    let tick_s = file.tick_s;
    let segments: Vec<Segment> = {
        let mut start = 0usize;
        emg_wave
            .runs
            .iter()
            .map(|&(t, n)| {
                let s = Segment {
                    start,
                    len: n as usize,
                    start_s: t as f64 * tick_s,
                };
                start += n as usize;
                s
            })
            .collect()
    };
    let mut notes = Vec::new();
    let mut channels = Vec::with_capacity(waves.len());
    for (k, w) in waves.iter().enumerate() {
        let c = &file.channels[w.file_index];
        let total: u64 = w.runs.iter().map(|r| r.1).sum();
        let same_rate = (w.rate_hz - emg_wave.rate_hz).abs() <= 1e-9 * emg_wave.rate_hz;
        let unit = c.unit.trim().to_string();
        if !same_rate {
            channels.push(assemble::listed_channel(
                k,
                &w.label,
                unit,
                kinds[k],
                total as usize,
                Some(w.rate_hz),
            ));
            continue;
        }
        // Samples at other times than the EMG's cannot share its segments.
        if w.runs != emg_wave.runs {
            notes.push(ReadNote::info(
                FlagCode::LayoutGuessed,
                format!(
                    "channel {k} ({:?}) is sampled at the EMG's rate but over other stretches \
                     of time; it is listed, not decoded",
                    w.label
                ),
            ));
            channels.push(assemble::listed_channel(
                k,
                &w.label,
                unit,
                kinds[k],
                total as usize,
                Some(w.rate_hz),
            ));
            continue;
        }
        if !filter.wants(k) {
            channels.push(assemble::listed_channel(
                k,
                &w.label,
                unit,
                kinds[k],
                total as usize,
                None,
            ));
            continue;
        }
        let factor = match (kinds[k], millivolts_per_unit(&unit)) {
            (ChannelKind::Signal, Some(f)) => f,
            (ChannelKind::Signal, None) => {
                if k == emg {
                    notes.push(ReadNote::info(
                        FlagCode::UnitAssumed,
                        format!(
                            "channel {k} ({:?}) states no voltage unit ({unit:?}); its values \
                             were read as millivolts",
                            w.label
                        ),
                    ));
                }
                1.0
            }
            _ => 1.0,
        };
        let samples = read_samples(path, ds, w, factor)?;
        channels.push(assemble::channel(k, &w.label, unit, kinds[k], samples));
    }
    let mut rec = assemble::recording(path, format, rate, channels, segments);
    if let Some(e) = file
        .findings
        .iter()
        .find(|x| x.severity == openreadout_core::model::Severity::Error)
    {
        rec.notes.push(ReadNote::warning(
            FlagCode::TruncatedFile,
            format!(
                "the Spike2 file is damaged ({}); what could be read was read",
                e.message
            ),
        ));
    }
    rec.notes.extend(notes);
    let marker = match marker_sel {
        Some(i) => Some(i),
        None => event_labels.iter().position(|l| is_trigger_label(l)),
    };
    if let Some(m) = marker {
        let c = events[m];
        let times = event_times(path, ds, file, c)?;
        if let Some(st) = assemble::stimuli_at_times(&times, &rec.segments, rate.hz()) {
            rec.notes.push(ReadNote::info(
                FlagCode::LayoutGuessed,
                format!(
                    "stimuli: the {} times of event channel {} ({:?}) inside the samples",
                    st.samples.len(),
                    c.number,
                    event_labels[m]
                ),
            ));
            rec.stimuli = Some(st);
        }
    }
    Ok(rec)
}

/// Split a channel filter into the waveform part and the event channel a
/// named trigger is (by its title; an index always counts waveform
/// channels). Returns the waveform filter, the EMG index when named, and the
/// event channel when the trigger named one.
fn split_filter(
    path: &Path,
    filter: &ChannelFilter,
    labels: &[&str],
    event_labels: &[String],
) -> Result<(ChannelFilter, Option<usize>, Option<usize>)> {
    let ChannelFilter::Select { emg, others } = filter else {
        return Ok((filter.clone(), None, None));
    };
    let mut kept = Vec::new();
    let mut marker = None;
    for sel in others {
        match sel.resolve(path, labels) {
            Ok(_) => kept.push(sel.clone()),
            Err(Error::NoSuchChannel { .. }) if matches!(sel, ChannelSel::Label(_)) => {
                let ev: Vec<&str> = event_labels.iter().map(String::as_str).collect();
                match sel.resolve(path, &ev) {
                    Ok(i) => marker = Some(i),
                    Err(Error::NoSuchChannel { .. }) => {
                        return Err(Error::NoSuchChannel {
                            path: path.to_path_buf(),
                            channel: sel.to_string(),
                            available: labels.len() + ev.len(),
                        })
                    }
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        }
    }
    let emg_index = match emg {
        Some(sel) => Some(sel.resolve(path, labels)?),
        None => None,
    };
    Ok((
        ChannelFilter::Select {
            emg: emg.clone(),
            others: kept,
        },
        emg_index,
        marker,
    ))
}

/// A waveform channel's samples over all its runs, times `factor`.
fn read_samples(path: &Path, ds: &mut Spike2Dataset, w: &Wave, factor: f64) -> Result<Vec<f32>> {
    let total: u64 = w.runs.iter().map(|r| r.1).sum();
    let mut out = Vec::with_capacity(total as usize);
    for (sweep, &(_, n)) in w.runs.iter().enumerate() {
        let mut first = 0u64;
        while first < n {
            let t = ds
                .read_trace(w.trace, sweep as u32, first, (n - first).min(MAX_SMR_READ))
                .map_err(|e| assemble::openreadout_error(path, e, "Spike2"))?;
            let col = t.channels.into_iter().next().unwrap_or_default();
            if col.is_empty() {
                return Err(Error::malformed(
                    path,
                    format!("Spike2 channel {:?}: samples missing", w.label),
                ));
            }
            first += col.len() as u64;
            out.extend(col.iter().map(|&v| (v * factor) as f32));
        }
    }
    Ok(out)
}

/// The times (seconds) of an event channel's items; for a level channel,
/// its rising edges only.
fn event_times(
    path: &Path,
    ds: &mut Spike2Dataset,
    file: &SmrFile,
    c: &SmrChannel,
) -> Result<Vec<f64>> {
    let number = f64::from(c.number);
    let total: u64 = file
        .channels
        .iter()
        .filter(|x| x.kind.is_events())
        .map(SmrChannel::item_count)
        .sum();
    assemble::check_samples(path, "event times", c.item_count())?;
    let mut times = Vec::with_capacity(c.item_count() as usize);
    let mut first = 0u64;
    while first < total {
        let t = ds
            .read_table(0, first, (total - first).min(MAX_SMR_TABLE_READ))
            .map_err(|e| assemble::openreadout_error(path, e, "Spike2"))?;
        let (Some(time), Some(chan)) = (t.columns.first(), t.columns.get(2)) else {
            break;
        };
        if time.is_empty() {
            break;
        }
        first += time.len() as u64;
        times.extend(
            time.iter()
                .zip(chan)
                .filter(|(_, &ch)| ch == number)
                .map(|(&s, _)| s),
        );
    }
    if c.kind == SonKind::EventBoth {
        // Edges alternate; the first rises when the line starts low.
        let skip = usize::from(c.initially_low == Some(false));
        times = times.into_iter().skip(skip).step_by(2).collect();
    }
    Ok(times)
}

/// A rate within floating-point error of a whole number of hertz, as that
/// number: 1 / (5 × 1 µs) is 200000.00000000003 in binary.
fn whole_if_near(hz: f64) -> f64 {
    let whole = hz.round();
    if (hz - whole).abs() <= 1e-9 * hz {
        whole
    } else {
        hz
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal `.smr` (version 6): `nch` channel headers, the chains given
    /// as (channel, first block offset), each block header linking to `next`.
    fn smr_with_chain(nch: u16, blocks: &[(u64, i32)], first: i32) -> Vec<u8> {
        let mut b = vec![0u8; 512 + 140 * nch as usize];
        b[0..2].copy_from_slice(&6u16.to_le_bytes());
        b[2..12].copy_from_slice(b"(C) CED 87");
        b[20..22].copy_from_slice(&1i16.to_le_bytes());
        b[30..32].copy_from_slice(&nch.to_le_bytes());
        b[44..52].copy_from_slice(&1e-6f64.to_le_bytes());
        let o = 512;
        b[o + 122] = 3; // rising events
        b[o + 6..o + 10].copy_from_slice(&first.to_le_bytes());
        b[o + 10..o + 14].copy_from_slice(&first.to_le_bytes());
        let end = blocks
            .iter()
            .map(|&(at, _)| at as usize + 20)
            .max()
            .unwrap_or(0);
        if b.len() < end {
            b.resize(end, 0);
        }
        for &(at, next) in blocks {
            let at = at as usize;
            b[at..at + 4].copy_from_slice(&(-1i32).to_le_bytes());
            b[at + 4..at + 8].copy_from_slice(&next.to_le_bytes());
        }
        b
    }

    #[test]
    fn a_looping_block_chain_is_refused_before_the_crate_walks_it() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("loop.smr");
        // Two blocks linking to each other: the crate would follow the loop
        // for four million links.
        std::fs::write(&f, smr_with_chain(1, &[(700, 800), (800, 700)], 700)).unwrap();
        let e = read_spike2_file(&f, &ReadOptions::default()).unwrap_err();
        assert!(e.to_string().contains("block chain loops"), "{e}");
        assert_eq!(e.exit_code(), 3);
    }

    #[test]
    fn too_many_channels_and_short_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("many.smr");
        let mut b = smr_with_chain(1, &[], -1);
        b[30..32].copy_from_slice(&1000u16.to_le_bytes());
        std::fs::write(&f, &b).unwrap();
        let e = read_spike2_file(&f, &ReadOptions::default()).unwrap_err();
        assert!(matches!(e, Error::Limit { .. }), "{e}");
        std::fs::write(&f, &b[..100]).unwrap();
        let e = read_spike2_file(&f, &ReadOptions::default()).unwrap_err();
        assert!(
            e.to_string().contains("shorter than its 512-byte header"),
            "{e}"
        );
        let g = dir.path().join("short.smrx");
        std::fs::write(&g, b"S64\0\0\0").unwrap();
        let e = read_spike2_file(&g, &ReadOptions::default()).unwrap_err();
        assert!(
            e.to_string().contains("shorter than the .smrx header"),
            "{e}"
        );
    }

    #[test]
    fn a_file_of_events_only_has_no_emg() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("events.smr");
        std::fs::write(&f, smr_with_chain(1, &[(700, -1)], 700)).unwrap();
        let e = read_spike2_file(&f, &ReadOptions::default()).unwrap_err();
        assert!(e.to_string().contains("no waveform channel"), "{e}");
    }

    #[test]
    fn a_named_trigger_may_be_an_event_channel() {
        let p = Path::new("x.smr");
        let filter = ChannelFilter::Select {
            emg: None,
            others: vec![ChannelSel::Label("stim".into())],
        };
        let (f, emg, marker) = split_filter(
            p,
            &filter,
            &["EMG", "Force"],
            &["Keyboard".into(), "Stim".into()],
        )
        .unwrap();
        assert_eq!(marker, Some(1));
        assert_eq!(emg, None);
        assert_eq!(
            f,
            ChannelFilter::Select {
                emg: None,
                others: vec![]
            }
        );
        let filter = ChannelFilter::Select {
            emg: None,
            others: vec![ChannelSel::Label("nothing".into())],
        };
        let e = split_filter(p, &filter, &["EMG"], &["Stim".into()]).unwrap_err();
        assert!(matches!(e, Error::NoSuchChannel { .. }), "{e}");
    }
}
