//! Axon Binary Format: ABF1 (`ABF `) and ABF2 (`ABF2`) files of pCLAMP.
//!
//! The header and samples are decoded by the `openreadout-abf` crate (a
//! clean-room reader after pyABF's documentation; it reads both versions,
//! scales every channel by its own gain chain, and exposes the epoch table).
//! This module bounds the header's counts before the crate lays sweeps out,
//! then builds the [`Recording`]:
//!
//! - Channels: the input (ADC) channels, named and with units as the file
//!   gives them. A voltage channel (`V`, `mV`, `µV`) is a signal in
//!   millivolts; a current channel (`pA`, `nA`, `A`…) or one of another unit
//!   is listed, never decoded and never taken as the EMG unless named (then
//!   its values are read as they are, with a `unit_assumed` note).
//! - Episodic files (mode 5, and the fixed-length event and oscilloscope modes
//!   2 and 4) are sweeps ([`assemble::sweeps`]): one segment per sweep, at the
//!   sweep's start time when the header gives the start-to-start interval or
//!   the synch array (so the stimulation rate is known), back to back
//!   otherwise. The stimulus of each sweep: for mode 5 with an enabled
//!   command waveform, the onset of its first step or pulse-train epoch that
//!   changes the level; otherwise the end of the pre-sweep holding period
//!   that the format puts before the epochs of every sweep, 1/64 of the sweep
//!   (as pyABF and the Axon documentation count it). Times inside a sweep
//!   count from its first sample, as pyABF's `sweepX` does.
//! - Gap-free files (mode 3) and variable-length event files (mode 1) are
//!   continuous (mode 1: one segment per sweep at its start time); stimuli
//!   come from the signal's artifacts, or from tags (comments) whose text
//!   names a stimulus.

use crate::error::{Error, Result};
use crate::io::assemble::{self, millivolts_per_unit};
use crate::io::ReadOptions;
use crate::recording::{Annotation, ChannelKind, ReadNote, Recording, Segment, SourceFormat};
use crate::vocab::FlagCode;
use openreadout_abf::{AbfDataset, AcquisitionMode, EpochKind, Generation, OutputChannel};
use openreadout_core::reader::Dataset;
use std::io::Read;
use std::path::Path;

/// The largest ABF file read (16 GiB).
pub const MAX_ABF_BYTES: u64 = 1 << 34;

/// Samples of one sweep read per call of the crate at most.
const READ_CHUNK: u64 = 1 << 24;

/// Read an ABF1 or ABF2 file (see the module documentation).
///
/// Errors: a damaged file is [`Error::Malformed`] (exit 3) naming the file;
/// declared sizes beyond the limits are [`Error::Limit`].
pub fn read_abf_file(path: &Path, opts: &ReadOptions) -> Result<Recording> {
    precheck(path)?;
    let mut ds = AbfDataset::open(path).map_err(|e| assemble::openreadout_error(path, e, "ABF"))?;
    build(path, opts, &mut ds)
}

/// Bound the header's sweep count by the file's size before the crate lays
/// out a record per sweep: every sweep holds at least one 2-byte sample, so
/// a count above half the file's bytes is damage (the crate would otherwise
/// allocate gigabytes for a count of 2^31).
fn precheck(path: &Path) -> Result<()> {
    let f = crate::io::open_input(path)?;
    let io = |e: std::io::Error| Error::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let len = f.metadata().map_err(io)?.len();
    if len > MAX_ABF_BYTES {
        return Err(Error::Limit {
            path: path.to_path_buf(),
            what: "bytes in an ABF file".into(),
            value: len,
            limit: MAX_ABF_BYTES,
        });
    }
    let mut head = Vec::with_capacity(20);
    f.take(20).read_to_end(&mut head).map_err(io)?;
    let at = match head.get(..4) {
        Some(b"ABF2") => 12,
        Some(b"ABF ") => 16,
        _ => return Ok(()), // the crate names the missing signature
    };
    let Some(b) = head.get(at..at + 4) else {
        return Err(Error::malformed(
            path,
            format!("ABF file is {} bytes, shorter than its header", head.len()),
        ));
    };
    let episodes = u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    // ABF1 stores a signed count: a negative one is read as none by the crate.
    let episodes = if at == 16 && episodes > i32::MAX as u64 {
        0
    } else {
        episodes
    };
    if episodes > len / 2 {
        return Err(Error::Limit {
            path: path.to_path_buf(),
            what: "sweeps declared by the ABF header".into(),
            value: episodes,
            limit: len / 2,
        });
    }
    Ok(())
}

/// The sample (from the sweep's first) at which the stimulus of sweep
/// `sweep` of `n` samples falls, and whether the epoch table gave it:
/// the first step or pulse-train epoch of the first enabled output that
/// changes the output's level, else the end of the holding period (`n/64`).
fn stimulus_in_sweep(outputs: &[OutputChannel], sweep: u32, n: u64) -> (u64, bool) {
    let holding = n / 64;
    let Some(o) = outputs
        .iter()
        .find(|o| o.waveform_enabled && !o.epochs.is_empty())
    else {
        return (holding, false);
    };
    let s = i64::from(sweep);
    let mut pos = holding;
    let mut level = f64::from(o.holding_level);
    for e in &o.epochs {
        let dur = i64::from(e.duration) + i64::from(e.duration_step) * s;
        let lev = f64::from(e.level) + f64::from(e.level_step) * s as f64;
        let stepping = matches!(e.kind, EpochKind::Step | EpochKind::PulseTrain);
        if stepping && dur > 0 && (lev - level).abs() > 1e-9 {
            return if pos < n {
                (pos, true)
            } else {
                (holding, false)
            };
        }
        if !matches!(e.kind, EpochKind::Off) {
            level = lev;
        }
        pos = pos.saturating_add(u64::try_from(dur.max(0)).unwrap_or(0));
    }
    (holding, false)
}

fn build(path: &Path, opts: &ReadOptions, ds: &mut AbfDataset) -> Result<Recording> {
    let h = ds.header().clone();
    let format = match h.generation {
        Generation::Abf1 => SourceFormat::Abf1,
        _ => SourceFormat::Abf2,
    };
    assemble::check_channels(path, h.channels.len() as u64)?;
    if h.channels.is_empty() {
        return Err(Error::malformed(path, "ABF file declares no input channel"));
    }
    if let Some(e) = h
        .findings
        .iter()
        .find(|x| x.severity == openreadout_core::model::Severity::Error)
    {
        return Err(Error::malformed(path, e.message.clone()));
    }
    let rate = assemble::sample_rate(path, h.sample_rate_hz, "the ABF file")?;
    let labels: Vec<String> = h
        .channels
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let n = c.name.trim();
            if n.is_empty() {
                format!("ch{i}")
            } else {
                n.to_string()
            }
        })
        .collect();
    let voltage: Vec<Option<f64>> = h
        .channels
        .iter()
        .map(|c| millivolts_per_unit(&c.unit))
        .collect();
    let default_emg = voltage.iter().position(Option::is_some).unwrap_or(0);
    let label_refs: Vec<&str> = labels.iter().map(String::as_str).collect();
    let (filter, named_emg) = opts.channels.resolve(path, &label_refs, default_emg)?;
    let emg = named_emg.unwrap_or(default_emg);
    let total: u64 = h.sweeps.iter().map(|s| s.sample_count).sum();
    assemble::check_samples(path, "samples per channel", total)?;
    let mut notes = Vec::new();
    let mut samples: Vec<Vec<f32>> = vec![Vec::new(); h.channels.len()];
    let decode: Vec<bool> = (0..h.channels.len())
        .map(|i| filter.wants(i) && (voltage[i].is_some() || i == emg))
        .collect();
    if voltage[emg].is_none() {
        notes.push(ReadNote::info(
            FlagCode::UnitAssumed,
            format!(
                "channel {emg} ({:?}) records {:?}, not a voltage; its values were read \
                 as they are, as millivolts",
                labels[emg], h.channels[emg].unit
            ),
        ));
    }
    if decode.iter().any(|&d| d) {
        for (k, v) in samples.iter_mut().enumerate() {
            if decode[k] {
                v.reserve_exact(total as usize);
            }
        }
        for (s, sw) in h.sweeps.iter().enumerate() {
            let mut first = 0u64;
            while first < sw.sample_count {
                let t = ds
                    .read_trace(
                        0,
                        s as u32,
                        first,
                        (sw.sample_count - first).min(READ_CHUNK),
                    )
                    .map_err(|e| assemble::openreadout_error(path, e, "ABF"))?;
                let got = t.channels.first().map_or(0, Vec::len) as u64;
                if got == 0 {
                    return Err(Error::malformed(
                        path,
                        format!("sweep {s}: samples missing"),
                    ));
                }
                for (k, col) in t.channels.iter().enumerate() {
                    if decode.get(k) == Some(&true) {
                        let factor = voltage[k].unwrap_or(1.0);
                        samples[k].extend(col.iter().map(|&x| (x * factor) as f32));
                    }
                }
                first += got;
            }
        }
    }
    let channels = h
        .channels
        .iter()
        .enumerate()
        .zip(samples)
        .map(|((k, c), v)| {
            let unit = c.unit.trim().to_string();
            if decode[k] {
                assemble::channel(k, &labels[k], unit, ChannelKind::Signal, v)
            } else {
                assemble::listed_channel(
                    k,
                    &labels[k],
                    unit,
                    ChannelKind::Signal,
                    total as usize,
                    None,
                )
            }
        })
        .collect();
    let episodic = matches!(
        h.mode,
        AcquisitionMode::Episodic
            | AcquisitionMode::EventFixedLength
            | AcquisitionMode::HighSpeedOscilloscope
    ) && !h.variable_length()
        && !h.sweeps.is_empty();
    let timed = h.sweep_interval_s.is_some_and(|v| v > 0.0) || h.synch.len() == h.sweeps.len();
    let starts: Vec<f64> = h
        .sweeps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            s.start_s
                .unwrap_or(i as f64 * s.sample_count as f64 / rate.hz())
        })
        .collect();
    let mut stimuli = None;
    let segments: Vec<Segment> = if episodic {
        let l = h.sweeps[0].sample_count as usize;
        let (i0, from_epochs) = stimulus_in_sweep(&h.outputs, 0, l as u64);
        let (segs, mut st) = assemble::sweeps(
            path,
            h.sweeps.len(),
            l,
            i0 as usize,
            rate,
            timed.then_some(starts.as_slice()),
        )?;
        if h.mode == AcquisitionMode::Episodic {
            // Epoch durations may step from sweep to sweep.
            for (k, s) in st.samples.iter_mut().enumerate() {
                let (i, _) = stimulus_in_sweep(&h.outputs, k as u32, l as u64);
                *s = k * l + i as usize;
            }
        }
        notes.push(ReadNote::info(
            FlagCode::LayoutGuessed,
            if from_epochs && h.mode == AcquisitionMode::Episodic {
                format!(
                    "{} sweeps; the stimulus of each is the onset of the command's first step \
                     ({:.4} s into sweep 1)",
                    h.sweeps.len(),
                    i0 as f64 / rate.hz()
                )
            } else {
                format!(
                    "{} sweeps; no command step in the protocol, so the stimulus of each is \
                     taken at the end of the pre-sweep holding period (1/64 of the sweep, \
                     {:.4} s)",
                    h.sweeps.len(),
                    i0 as f64 / rate.hz()
                )
            },
        ));
        stimuli = Some(st);
        segs
    } else if h.mode == AcquisitionMode::EventVariableLength && h.sweeps.len() > 1 {
        let mut start = 0usize;
        h.sweeps
            .iter()
            .zip(&starts)
            .map(|(s, &t)| {
                let seg = Segment {
                    start,
                    len: s.sample_count as usize,
                    start_s: t,
                };
                start += s.sample_count as usize;
                seg
            })
            .collect()
    } else {
        Recording::continuous_segments(total as usize)
    };
    let mut rec = assemble::recording(path, format, rate, channels, segments);
    rec.annotations = h
        .tags
        .iter()
        .map(|t| Annotation {
            onset_s: t.time_s,
            duration_s: None,
            text: t.comment.trim().to_string(),
        })
        .collect();
    rec.stimuli = stimuli
        .or_else(|| assemble::stimuli_from_annotations(&rec.annotations, &rec.segments, rate.hz()));
    rec.notes = notes;
    Ok(rec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use openreadout_abf::Epoch;

    fn output(epochs: Vec<(EpochKind, f32, i32)>, holding: f32) -> OutputChannel {
        OutputChannel {
            index: 0,
            name: "Cmd 0".into(),
            unit: "mV".into(),
            holding_level: holding,
            waveform_enabled: true,
            waveform_source_code: 1,
            stimulus_file: None,
            epochs: epochs
                .into_iter()
                .enumerate()
                .map(|(i, (kind, level, duration))| Epoch {
                    index: i as u32,
                    kind,
                    kind_code: 1,
                    level,
                    level_step: 0.0,
                    duration,
                    duration_step: 0,
                    pulse_period: None,
                    pulse_width: None,
                })
                .collect(),
            inter_episode_last: false,
            conditioning: false,
        }
    }

    #[test]
    fn the_stimulus_is_the_first_step_that_changes_the_level() {
        // pCLAMP's -70 mV holding, a 500-sample step at -70, then -100.
        let o = output(
            vec![
                (EpochKind::Step, -70.0, 500),
                (EpochKind::Step, -100.0, 500),
            ],
            -70.0,
        );
        assert_eq!(stimulus_in_sweep(&[o], 0, 2000), (31 + 500, true));
        // A ramp first: no step onset, the holding period's end.
        let o = output(vec![(EpochKind::Ramp, 10.0, 500)], 0.0);
        assert_eq!(stimulus_in_sweep(&[o], 0, 6400), (100, false));
        assert_eq!(stimulus_in_sweep(&[], 0, 6400), (100, false));
    }

    #[test]
    fn absurd_sweep_counts_are_refused_before_the_crate() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("x.abf");
        let mut b = vec![0u8; 2048];
        b[..4].copy_from_slice(b"ABF ");
        b[16..20].copy_from_slice(&i32::MAX.to_le_bytes());
        std::fs::write(&f, &b).unwrap();
        let e = read_abf_file(&f, &ReadOptions::default()).unwrap_err();
        assert!(matches!(e, Error::Limit { .. }), "{e}");
        std::fs::write(&f, b"ABF2\0\0").unwrap();
        let e = read_abf_file(&f, &ReadOptions::default()).unwrap_err();
        assert_eq!(e.exit_code(), 3, "{e}");
    }
}
