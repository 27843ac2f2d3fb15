//! Building blocks shared by the readers of lab and vendor formats.
//!
//! WAV, CSV and EDF readers grew their own assembly code; the readers of
//! MATLAB, Spike2, Signal, BrainVision, ABF, LabChart and vendor text files
//! decode their container and hand the channels to these helpers, so every
//! one of them checks rates and sizes the same way, lays sweeps out the same
//! way (one segment per sweep, the stimulus at time 0 of each) and turns its
//! markers into stimuli by one rule.

use crate::error::{Error, Result};
use crate::io::{MAX_CHANNELS, MAX_SAMPLES_PER_CHANNEL};
use crate::recording::{
    is_stimulus_text, Annotation, Channel, ChannelKind, KnownStimuli, ReadNote, Recording, Segment,
    SourceFormat, StimulusOrigin,
};
use crate::units::SampleRate;
use std::path::Path;

/// Millivolts per unit of a voltage unit as files write it (`V`, `mV`,
/// `uV`/`µV`/`μV`, `nV`, any case; `"mv"` and `"MV"` alike, since no file
/// stores EMG in megavolts); `None` for anything else (`A`, `pA`, `""`).
pub fn millivolts_per_unit(unit: &str) -> Option<f64> {
    // Kept in `recording` so that the recording's default-EMG rule can use it.
    crate::recording::millivolts_per_unit(unit)
}

/// Whether a channel label names a trigger, stimulus or marker line
/// (`Trig`, `Stim`, `Marker`, `Status`, `Keyboard`, `TTL`, `Digital`), as
/// the EDF reader decides for its signals.
pub fn is_trigger_label(label: &str) -> bool {
    let l = label.to_lowercase();
    [
        "trig", "stim", "marker", "status", "keyboard", "ttl", "digital",
    ]
    .iter()
    .any(|w| l.contains(w))
}

/// A file's sample rate in hertz as a [`SampleRate`], or why not: a rate
/// that is not finite and positive is [`Error::Malformed`]; one outside the
/// accepted range names the range (`what` says whose rate: `"channel 0
/// (\"EMG\")"`).
pub fn sample_rate(path: &Path, hz: f64, what: &str) -> Result<SampleRate> {
    if !(hz.is_finite() && hz > 0.0) {
        return Err(Error::malformed(
            path,
            format!("{what} has no usable sample rate ({hz} Hz)"),
        ));
    }
    SampleRate::new(hz).ok_or_else(|| {
        Error::malformed(
            path,
            format!(
                "{what} is sampled at {hz} Hz, outside the accepted range {}–{} Hz",
                SampleRate::MIN_HZ,
                SampleRate::MAX_HZ
            ),
        )
    })
}

/// Refuse a declared sample count above [`MAX_SAMPLES_PER_CHANNEL`] before
/// anything is allocated for it.
pub fn check_samples(path: &Path, what: &str, n: u64) -> Result<()> {
    if n > MAX_SAMPLES_PER_CHANNEL {
        return Err(Error::Limit {
            path: path.to_path_buf(),
            what: what.into(),
            value: n,
            limit: MAX_SAMPLES_PER_CHANNEL,
        });
    }
    Ok(())
}

/// Refuse a declared channel count above [`MAX_CHANNELS`].
pub fn check_channels(path: &Path, n: u64) -> Result<()> {
    if n > MAX_CHANNELS {
        return Err(Error::Limit {
            path: path.to_path_buf(),
            what: "channels".into(),
            value: n,
            limit: MAX_CHANNELS,
        });
    }
    Ok(())
}

/// `k` sweeps of `l` samples laid end to end, the stimulus at sample `i0`
/// of each (the pre-stimulus samples before it): one segment per sweep,
/// each starting when the previous ends (stored sweeps do not say how far
/// apart they were recorded unless `starts_s` gives each sweep's start in
/// seconds), and the stimuli with [`StimulusOrigin::Sweeps`].
///
/// Errors: `k × l` above [`MAX_SAMPLES_PER_CHANNEL`] is [`Error::Limit`].
pub fn sweeps(
    path: &Path,
    k: usize,
    l: usize,
    i0: usize,
    rate: SampleRate,
    starts_s: Option<&[f64]>,
) -> Result<(Vec<Segment>, KnownStimuli)> {
    check_samples(
        path,
        "samples in the concatenated sweeps",
        l as u64 * k as u64,
    )?;
    let dur = l as f64 / rate.hz();
    let segments = (0..k)
        .map(|s| Segment {
            start: s * l,
            len: l,
            start_s: starts_s
                .and_then(|t| t.get(s).copied())
                .unwrap_or(s as f64 * dur),
        })
        .collect();
    let stimuli = KnownStimuli {
        samples: (0..k).map(|s| s * l + i0).collect(),
        origin: StimulusOrigin::Sweeps,
        // Only when every sweep's start is known is the real timing known.
        timing_known: starts_s.is_some_and(|t| t.len() >= k),
    };
    Ok((segments, stimuli))
}

/// The sample of each time (seconds from the start of the recording) that
/// falls inside a segment, ascending and without repeats.
pub fn samples_at_times(times_s: &[f64], segments: &[Segment], rate_hz: f64) -> Vec<usize> {
    let mut out: Vec<usize> = times_s
        .iter()
        .filter(|t| t.is_finite())
        .filter_map(|&t| {
            let p = segments.partition_point(|s| s.start_s <= t);
            segments[p.saturating_sub(1)..(p + 1).min(segments.len())]
                .iter()
                .find_map(|s| {
                    let pos = ((t - s.start_s) * rate_hz).round();
                    (pos >= 0.0 && pos < s.len as f64).then(|| s.start + pos as usize)
                })
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Stimuli at the times of a file's own event or marker channel
/// ([`StimulusOrigin::Events`], timing known); `None` when none falls inside
/// the samples.
pub fn stimuli_at_times(
    times_s: &[f64],
    segments: &[Segment],
    rate_hz: f64,
) -> Option<KnownStimuli> {
    let samples = samples_at_times(times_s, segments, rate_hz);
    (!samples.is_empty()).then_some(KnownStimuli {
        samples,
        origin: StimulusOrigin::Events,
        timing_known: true,
    })
}

/// Stimuli at the annotations whose text marks a stimulus
/// ([`is_stimulus_text`]: `Stimulus`, `S  1`, `Trig`…), with
/// [`StimulusOrigin::Annotations`]; `None` when there is none.
pub fn stimuli_from_annotations(
    annotations: &[Annotation],
    segments: &[Segment],
    rate_hz: f64,
) -> Option<KnownStimuli> {
    let times: Vec<f64> = annotations
        .iter()
        .filter(|a| is_stimulus_text(&a.text))
        .map(|a| a.onset_s)
        .collect();
    let samples = samples_at_times(&times, segments, rate_hz);
    (!samples.is_empty()).then_some(KnownStimuli {
        samples,
        origin: StimulusOrigin::Annotations,
        timing_known: true,
    })
}

/// A channel decoded at the recording's rate: `samples` in millivolts for a
/// signal (raw values for a trigger), `unit` as the file writes it.
pub fn channel(
    index: usize,
    label: impl Into<String>,
    unit: impl Into<String>,
    kind: ChannelKind,
    samples: Vec<f32>,
) -> Channel {
    Channel {
        index,
        label: label.into(),
        unit: unit.into(),
        kind,
        len: samples.len(),
        sample_rate_hz: None,
        samples,
    }
}

/// A channel listed but not decoded: `len` samples at its own `rate_hz`
/// (`None`: the recording's rate, left out by the channel filter).
pub fn listed_channel(
    index: usize,
    label: impl Into<String>,
    unit: impl Into<String>,
    kind: ChannelKind,
    len: usize,
    rate_hz: Option<f64>,
) -> Channel {
    Channel {
        index,
        label: label.into(),
        unit: unit.into(),
        kind,
        len,
        sample_rate_hz: rate_hz,
        samples: Vec::new(),
    }
}

/// A recording of `channels` at `rate` over `segments`, nothing else set:
/// the reader fills in what its file gives (stimuli, annotations, notes).
pub fn recording(
    path: &Path,
    format: SourceFormat,
    rate: SampleRate,
    channels: Vec<Channel>,
    segments: Vec<Segment>,
) -> Recording {
    Recording {
        path: path.to_path_buf(),
        format,
        sample_rate: rate,
        channels,
        segments,
        stimuli: None,
        annotations: Vec::new(),
        notes: Vec::new(),
        intensities: None,
        metadata: Vec::new(),
        not_analysable: None,
        storage: None,
        study: Default::default(),
    }
}

/// The `unit_assumed` note for an EMG channel whose unit is no voltage
/// (none, or `mmHg`): its values are analysed as millivolts as they stand.
pub fn unit_note(label: &str, unit: &str) -> Option<ReadNote> {
    if millivolts_per_unit(unit).is_some() {
        return None;
    }
    let what = match unit.trim() {
        "" => "names no unit".to_string(),
        u => format!("is in \"{u}\", no voltage"),
    };
    Some(ReadNote::info(
        crate::vocab::FlagCode::UnitAssumed,
        format!("channel \"{label}\" {what}: its values are read as mV as they stand"),
    ))
}

/// Random-access reads of a file or of its bytes, for the readers that
/// follow offsets through a file (CFS, LabChart): the file on disk, or the
/// bytes a fuzz target hands in.
pub trait ReadAt {
    /// Fill `buf` from `offset`; a read past the end is an error naming
    /// `path`.
    fn read_at(&mut self, path: &Path, offset: u64, buf: &mut [u8]) -> Result<()>;
}

impl ReadAt for std::fs::File {
    fn read_at(&mut self, path: &Path, offset: u64, buf: &mut [u8]) -> Result<()> {
        use std::io::{Read, Seek, SeekFrom};
        self.seek(SeekFrom::Start(offset))
            .and_then(|_| self.read_exact(buf))
            .map_err(|e| Error::Io {
                path: path.to_path_buf(),
                source: e,
            })
    }
}

impl ReadAt for &[u8] {
    fn read_at(&mut self, path: &Path, offset: u64, buf: &mut [u8]) -> Result<()> {
        let from = usize::try_from(offset).unwrap_or(usize::MAX);
        let part = from
            .checked_add(buf.len())
            .and_then(|to| self.get(from..to))
            .ok_or_else(|| Error::malformed(path, "file ends early"))?;
        buf.copy_from_slice(part);
        Ok(())
    }
}

/// An error of the openreadout crates (the Spike2 and ABF readers) as ours:
/// an I/O failure stays one; anything else is a malformed `format` file.
pub fn openreadout_error(path: &Path, e: openreadout_core::Error, format: &str) -> Error {
    match e {
        openreadout_core::Error::Io { source, .. } => Error::Io {
            path: path.to_path_buf(),
            source,
        },
        openreadout_core::Error::Corrupt { detail, .. } => Error::malformed(path, detail),
        openreadout_core::Error::Unsupported { feature, .. } => {
            Error::malformed(path, format!("unsupported {format} file: {feature}"))
        }
        other => Error::malformed(path, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn p() -> PathBuf {
        PathBuf::from("t.x")
    }

    #[test]
    fn voltage_units_as_files_write_them() {
        assert_eq!(millivolts_per_unit("µV"), Some(1e-3));
        assert_eq!(millivolts_per_unit("μV"), Some(1e-3));
        assert_eq!(millivolts_per_unit(" uv "), Some(1e-3));
        assert_eq!(millivolts_per_unit("V"), Some(1e3));
        assert_eq!(millivolts_per_unit("mV"), Some(1.0));
        assert_eq!(millivolts_per_unit("nV"), Some(1e-6));
        assert_eq!(millivolts_per_unit("pA"), None);
        assert_eq!(millivolts_per_unit(""), None);
    }

    #[test]
    fn sweeps_put_the_stimulus_at_time_zero_of_each() {
        let rate = SampleRate::new(10_000.0).unwrap();
        let (segs, st) = sweeps(&p(), 3, 100, 20, rate, None).unwrap();
        assert_eq!(st.samples, vec![20, 120, 220]);
        assert_eq!(st.origin, StimulusOrigin::Sweeps);
        assert!(!st.timing_known);
        assert_eq!(segs[2].start, 200);
        assert!((segs[2].start_s - 0.02).abs() < 1e-12);
        let (segs, st) = sweeps(&p(), 2, 100, 0, rate, Some(&[0.0, 0.5])).unwrap();
        assert!(st.timing_known);
        assert_eq!(segs[1].start_s, 0.5);
        let e = sweeps(&p(), 1 << 20, 1 << 20, 0, rate, None).unwrap_err();
        assert!(matches!(e, Error::Limit { .. }), "{e}");
    }

    #[test]
    fn times_become_samples_inside_segments_only() {
        let segs = vec![
            Segment {
                start: 0,
                len: 100,
                start_s: 0.0,
            },
            Segment {
                start: 100,
                len: 100,
                start_s: 5.0,
            },
        ];
        let s = samples_at_times(&[0.0015, 5.001, 3.0, f64::NAN, 5.001, -1.0], &segs, 1000.0);
        assert_eq!(s, vec![2, 101]);
        assert!(stimuli_at_times(&[9.0], &segs, 1000.0).is_none());
        let a = |t: f64, text: &str| Annotation {
            onset_s: t,
            duration_s: None,
            text: text.into(),
        };
        let st = stimuli_from_annotations(&[a(0.01, "S  1"), a(0.02, "Comment")], &segs, 1000.0)
            .unwrap();
        assert_eq!(st.samples, vec![10]);
        assert_eq!(st.origin, StimulusOrigin::Annotations);
    }

    #[test]
    fn rates_and_sizes_are_checked() {
        assert!(sample_rate(&p(), 20_000.0, "channel 0").is_ok());
        let e = sample_rate(&p(), 100.0, "channel 0")
            .unwrap_err()
            .to_string();
        assert!(e.contains("outside the accepted range"), "{e}");
        let e = sample_rate(&p(), f64::NAN, "channel 0")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no usable sample rate"), "{e}");
        assert!(check_channels(&p(), 257).is_err());
        assert!(check_samples(&p(), "x", MAX_SAMPLES_PER_CHANNEL + 1).is_err());
    }

    #[test]
    fn trigger_labels() {
        assert!(is_trigger_label("Stim"));
        assert!(is_trigger_label("TTL in"));
        assert!(!is_trigger_label("EMG ADM"));
    }
}
