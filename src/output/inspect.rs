//! `rns inspect`: what a recording holds and what the analyzer would use.
//!
//! Overview: [`inspect`] turns a [`Recording`]'s metadata and a
//! [`ChannelPlan`] into an [`Inspection`]; [`render_json`],
//! [`render_json_many`] and [`render_text`] print it. Pure: no file access,
//! and no samples are looked at, so the same metadata gives the same bytes.
//!
//! JSON per file (fields are only ever added):
//!
//! ```json
//! { "path": "rec.edf", "format": "edf_plus",
//!   "sample_rate_hz": 10000.0, "duration_s": 13.0,
//!   "channels": [ { "index": 0, "label": "EMG ADM", "unit": "uV",
//!                   "sample_rate_hz": 10000.0, "samples": 130000,
//!                   "kind": "signal", "duration_s": 13.0 } ],
//!   "annotations": [ { "onset_s": 3.0, "duration_s": 5.0, "text": "exercise" } ],
//!   "segments": [ { "start_s": 0.0, "duration_s": 13.0 } ],
//!   "analyzer_would_use": { "channel": 0, "channel_label": "EMG ADM",
//!                           "trigger_channel": null, "stimulus_source": "artifact_slope",
//!                           "known_stimuli": null },
//!   "not_analysable": null, "notes": [], "metadata": [], "stimulus_intensity": null }
//! ```
//!
//! `sample_rate_hz` and `duration_s` at the top are the recording's (the EMG
//! channel's); each channel gives its own, its `kind` (`signal`, `trigger`,
//! `intensity`), whether the analyzer can take it as the EMG (`usable`) and
//! why (`why`). `known_stimuli` counts the stimulus times the file itself
//! gives (sweeps, stimulus annotations), `null` when none. `not_analysable`
//! is the reason a file that could be read cannot be analysed (every signal
//! too slow), `null` otherwise. `notes` are the reader's notes (a file cut
//! short, a layout guessed), `metadata` the `key,value` lines of a CSV header
//! block, `stimulus_intensity` the stimulus intensity the file gives (per
//! sweep, or an intensity column). Times are rounded to 7 decimals (100 ns,
//! EDF+'s finest), durations to 6.

use crate::analysis::result::{round, round_significant};
use crate::analysis::ChannelPlan;
use crate::error::Error;
use crate::recording::{ChannelKind, MetadataEntry, ReadNote, Recording, Storage};
use crate::study::Study;
use crate::units::{SampleRate, Shown};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;

/// Everything `rns inspect` reports about one file.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Inspection {
    /// Input path as given.
    pub path: String,
    /// `wav`, `csv_continuous`, `csv_sweeps`, `edf`, `edf_plus`, `bdf`, `bdf_plus`.
    pub format: String,
    /// The recording's sample rate (the EMG channel's), Hz.
    pub sample_rate_hz: f64,
    /// The recording's length (samples of the EMG channel / rate), s.
    pub duration_s: f64,
    /// Every channel, in index order (EDF annotation signals are not channels).
    pub channels: Vec<ChannelInfo>,
    /// Every annotation, by onset.
    pub annotations: Vec<AnnotationInfo>,
    /// Contiguous parts of the recording.
    pub segments: Vec<SegmentInfo>,
    /// What `rns analyze` would use with the same flags and sidecar.
    pub analyzer_would_use: WouldUse,
    /// Why `rns analyze` refuses this file although it could be read (every
    /// signal sampled below the accepted rate); `null` when it can analyse it.
    pub not_analysable: Option<String>,
    /// The reader's notes: what it recovered from (`warning`) or decided by a
    /// rule (`info`), each with its quality-flag code.
    pub notes: Vec<ReadNote>,
    /// The `key,value` lines of a CSV header block, in file order.
    pub metadata: Vec<MetadataEntry>,
    /// The stimulus intensity the file gives; `null` when none.
    pub stimulus_intensity: Option<IntensityInfo>,
    /// How a WAV stores its samples and the full scale they were read with
    /// (see [`Storage`]); `null` for formats with physical units.
    pub storage: Option<Storage>,
    /// The study and the patient as the flags, the sidecar and the file's
    /// header give them (EDF/EDF+ patient, recording and start date).
    pub study: Study,
}

/// The stimulus intensity a file gives.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IntensityInfo {
    /// The column it comes from.
    pub label: String,
    /// Its unit as written (`""` when none).
    pub unit: String,
    /// One value per sweep (per known stimulus), when the file states it per
    /// sweep; `null` when it is a column of the recording (`channel`).
    pub per_sweep: Option<Vec<f64>>,
    /// The intensity channel's index, when it is one; `null` for per-sweep values.
    pub channel: Option<usize>,
}

/// One channel.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ChannelInfo {
    /// Index, from 0 (what `--channel N` takes).
    pub index: usize,
    /// Label as in the file (what `--channel LABEL` matches).
    pub label: String,
    /// Unit as stored in the file (`uV`, `mV`, …; `""` when none).
    pub unit: String,
    /// This channel's sample rate, Hz.
    pub sample_rate_hz: f64,
    /// Samples in the file.
    pub samples: usize,
    /// `signal` or `trigger`.
    pub kind: String,
    /// `samples / sample_rate_hz`, s.
    pub duration_s: f64,
    /// Whether the analyzer can take this channel as the EMG (by default or
    /// with `--channel`).
    pub usable: bool,
    /// Why it can or cannot (`"the EMG channel"`, `"sampled at 100 Hz, below
    /// 2000 Hz"`, `"a trigger line: its rising edges are the stimuli"`, …).
    pub why: String,
    /// The lowest and highest value of a decoded signal channel, mV, as the
    /// analysis reads it (after the full scale or unit); `null` for a
    /// channel not decoded and for triggers.
    pub range_mv: Option<[f64; 2]>,
}

/// A decoded signal channel's lowest and highest finite value, mV (4
/// significant digits).
fn range_mv(c: &crate::recording::Channel) -> Option<[f64; 2]> {
    if c.kind != ChannelKind::Signal || !c.is_loaded() {
        return None;
    }
    let (lo, hi) = c
        .samples
        .iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    let sig = |v: f32| round_significant(f64::from(v), 4);
    Some([sig(lo)?, sig(hi)?])
}

/// Whether channel `i` can be the EMG, and why (see [`ChannelInfo::why`]).
fn usability(rec: &Recording, plan: &ChannelPlan, i: usize) -> (bool, String) {
    let c = &rec.channels[i];
    let hz = rec.channel_rate_hz(i);
    match c.kind {
        ChannelKind::Trigger => {
            let used = plan.trigger_channel == Some(i);
            return (
                false,
                if used {
                    "the trigger line: its rising edges are the stimuli".to_string()
                } else {
                    format!(
                        "a trigger line, not an EMG signal (--trigger-channel {i} takes its \
                         rising edges as the stimuli)"
                    )
                },
            );
        }
        ChannelKind::Intensity => {
            return (
                false,
                "the stimulus intensity, not an EMG signal (its values are no trigger pulses)"
                    .to_string(),
            )
        }
        ChannelKind::Signal => {}
    }
    if hz < SampleRate::MIN_HZ {
        return (
            false,
            format!(
                "sampled at {} Hz, below {} Hz",
                Shown(hz),
                SampleRate::MIN_HZ
            ),
        );
    }
    if hz > SampleRate::MAX_HZ {
        return (
            false,
            format!(
                "sampled at {} Hz, above {} Hz",
                Shown(hz),
                SampleRate::MAX_HZ
            ),
        );
    }
    if c.len == 0 {
        return (false, "holds no samples".to_string());
    }
    if i == plan.channel && rec.not_analysable.is_none() {
        return (true, "the EMG channel".to_string());
    }
    if c.sample_rate_hz.is_some() {
        return (
            true,
            format!(
                "an EMG signal at {} Hz, not the recording's {} Hz: --channel {i} analyses it",
                Shown(hz),
                Shown(rec.sample_rate.hz())
            ),
        );
    }
    (true, format!("an EMG signal: --channel {i} analyses it"))
}

/// One annotation.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AnnotationInfo {
    /// Onset, s from the start of the recording.
    pub onset_s: f64,
    /// Duration, s; `null` when not given.
    pub duration_s: Option<f64>,
    /// The text.
    pub text: String,
}

/// One contiguous segment.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SegmentInfo {
    /// Time of the segment's first sample, s.
    pub start_s: f64,
    /// Length, s.
    pub duration_s: f64,
}

/// The analyzer's choices.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WouldUse {
    /// EMG channel index.
    pub channel: usize,
    /// Its label.
    pub channel_label: String,
    /// Trigger channel index, when stimuli come from one.
    pub trigger_channel: Option<usize>,
    /// `trigger_channel`, `annotations`, `sweeps` or `artifact_slope`.
    pub stimulus_source: String,
    /// Stimulus times the file gives (sweeps, stimulus annotations); `null`
    /// when none.
    pub known_stimuli: Option<usize>,
}

/// Describe a recording (metadata only) and the plan the analyzer would follow.
pub fn inspect(rec: &Recording, plan: &ChannelPlan) -> Inspection {
    let channels = rec
        .channels
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let hz = rec.channel_rate_hz(i);
            ChannelInfo {
                index: c.index,
                label: c.label.clone(),
                unit: c.unit.clone(),
                sample_rate_hz: hz,
                samples: c.len,
                kind: c.kind.name().to_string(),
                duration_s: round(c.len as f64 / hz, 6),
                usable: usability(rec, plan, i).0,
                why: usability(rec, plan, i).1,
                range_mv: range_mv(c),
            }
        })
        .collect();
    let annotations = rec
        .annotations
        .iter()
        .map(|a| AnnotationInfo {
            onset_s: round(a.onset_s, 7),
            duration_s: a.duration_s.map(|d| round(d, 7)),
            text: a.text.clone(),
        })
        .collect();
    let segments = rec
        .segments
        .iter()
        .map(|s| SegmentInfo {
            start_s: round(s.start_s, 7),
            duration_s: round(rec.sample_rate.to_seconds(s.len as f64).0, 6),
        })
        .collect();
    Inspection {
        path: rec.path.display().to_string(),
        format: rec.format.name().to_string(),
        sample_rate_hz: rec.sample_rate.hz(),
        duration_s: round(rec.duration().0, 6),
        channels,
        annotations,
        segments,
        analyzer_would_use: WouldUse {
            channel: plan.channel,
            channel_label: rec
                .channels
                .get(plan.channel)
                .map(|c| c.label.clone())
                .unwrap_or_default(),
            trigger_channel: plan.trigger_channel,
            stimulus_source: plan.stimulus_source.name().to_string(),
            known_stimuli: rec.stimuli.as_ref().map(|k| k.samples.len()),
        },
        not_analysable: rec.not_analysable.clone(),
        storage: rec.storage.clone(),
        study: rec.study.clone(),
        notes: rec.notes.clone(),
        metadata: rec.metadata.clone(),
        stimulus_intensity: match &rec.intensities {
            Some(int) => Some(IntensityInfo {
                label: int.label.clone(),
                unit: int.unit.clone(),
                per_sweep: Some(int.values.clone()),
                channel: None,
            }),
            None => rec
                .channels
                .iter()
                .position(|c| c.kind == ChannelKind::Intensity)
                .map(|i| IntensityInfo {
                    label: rec.channels[i].label.clone(),
                    unit: rec.channels[i].unit.clone(),
                    per_sweep: None,
                    channel: Some(i),
                }),
        },
    }
}

/// One entry of a multi-file JSON array: an inspection, or the error for a file.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Entry<'a> {
    /// A file that was read.
    Ok(&'a Inspection),
    /// A file that could not be read: `{ "path", "error": { "message", "exit_code" } }`.
    Err {
        /// Input path as given.
        path: String,
        /// What went wrong.
        error: crate::output::json::ErrorBody,
    },
}

impl Entry<'_> {
    /// The entry for a file that failed.
    pub fn err(path: &Path, e: &Error) -> Self {
        Entry::Err {
            path: path.display().to_string(),
            error: crate::output::json::ErrorBody {
                message: e.to_string(),
                exit_code: e.exit_code(),
            },
        }
    }
}

/// Pretty JSON of one inspection, newline-terminated.
pub fn render_json(i: &Inspection) -> String {
    let mut s =
        serde_json::to_string_pretty(i).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

/// Pretty JSON array of entries, newline-terminated.
pub fn render_json_many(entries: &[Entry<'_>]) -> String {
    let mut s =
        serde_json::to_string_pretty(entries).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

/// A readable listing of one inspection (for people; its layout may change).
pub fn render_text(i: &Inspection) -> String {
    let mut o = String::new();
    let segs = i.segments.len();
    let _ = writeln!(o, "{}", i.path);
    let _ = writeln!(
        o,
        "  {} · {} Hz · {:.3} s · {} channel(s) · {} segment(s)",
        i.format,
        i.sample_rate_hz,
        i.duration_s,
        i.channels.len(),
        segs
    );
    for (key, value) in i.study.rows() {
        let _ = writeln!(o, "  {}: {value}", crate::study::field_label(key));
    }
    if let Some(st) = &i.storage {
        let _ = writeln!(
            o,
            "  storage: {}-bit {} samples · full scale ±{} mV{}",
            st.bits_per_sample,
            st.sample_format,
            Shown(st.full_scale_mv),
            match (st.full_scale_given, st.sample_format) {
                (true, _) => " (given)",
                (false, crate::vocab::SampleEncoding::Integer) => {
                    " (the default: amplitudes are in units of full scale; give --full-scale-mv)"
                }
                (false, _) => " (the default: float values taken as mV)",
            }
        );
    }
    let _ = writeln!(o, "  channels:");
    let _ = writeln!(
        o,
        "    {:>3}  {:<20} {:<8} {:>10} {:>11} {:>10}  {:<9}  {:<19}  use",
        "#", "label", "unit", "rate (Hz)", "samples", "dur (s)", "kind", "range (mV)"
    );
    for c in &i.channels {
        let range = c
            .range_mv
            .map_or("–".to_string(), |[lo, hi]| format!("{lo} to {hi}"));
        let _ = writeln!(
            o,
            "    {:>3}  {:<20} {:<8} {:>10} {:>11} {:>10.3}  {:<9}  {:<19}  {}",
            c.index,
            c.label,
            c.unit,
            c.sample_rate_hz,
            c.samples,
            c.duration_s,
            c.kind,
            range,
            if c.usable {
                c.why.clone()
            } else {
                format!("not usable: {}", c.why)
            }
        );
    }
    if let Some(int) = &i.stimulus_intensity {
        let unit = if int.unit.is_empty() {
            String::new()
        } else {
            format!(" {}", int.unit)
        };
        match &int.per_sweep {
            Some(v) => {
                let (lo, hi) = v
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| {
                        (l.min(x), h.max(x))
                    });
                let _ = writeln!(
                    o,
                    "  stimulus intensity: column {:?}, {} sweep(s), {lo}–{hi}{unit}",
                    int.label,
                    v.len()
                );
            }
            None => {
                let _ = writeln!(
                    o,
                    "  stimulus intensity: channel {} ({:?}){unit}",
                    int.channel.unwrap_or_default(),
                    int.label
                );
            }
        }
    }
    if !i.metadata.is_empty() {
        let _ = writeln!(o, "  metadata ({}):", i.metadata.len());
        for m in &i.metadata {
            let _ = writeln!(o, "    {}: {}", m.key, m.value);
        }
    }
    if segs > 1 || i.segments.first().is_some_and(|s| s.start_s != 0.0) {
        let list: Vec<String> = i
            .segments
            .iter()
            .map(|s| format!("{:.4}–{:.4} s", s.start_s, s.start_s + s.duration_s))
            .collect();
        let _ = writeln!(o, "  segments: {}", list.join(", "));
    }
    if i.annotations.is_empty() {
        let _ = writeln!(o, "  annotations: none");
    } else {
        let _ = writeln!(o, "  annotations ({}):", i.annotations.len());
        for a in &i.annotations {
            let dur = a.duration_s.map_or(String::new(), |d| format!("{d:.4} s"));
            let _ = writeln!(o, "    {:>12.4} s  {:>10}  {}", a.onset_s, dur, a.text);
        }
    }
    let w = &i.analyzer_would_use;
    let source = match w.stimulus_source.as_str() {
        "trigger_channel" => match w.trigger_channel {
            Some(t) => format!("trigger channel {t}"),
            None => "a trigger channel".to_string(),
        },
        "annotations" => format!(
            "{} stimulus annotation(s)",
            w.known_stimuli.unwrap_or_default()
        ),
        "sweeps" => format!("{} sweep(s)", w.known_stimuli.unwrap_or_default()),
        "events" => format!(
            "{} event(s) of the file's event channel",
            w.known_stimuli.unwrap_or_default()
        ),
        _ => "artifact slope".to_string(),
    };
    for n in &i.notes {
        let _ = writeln!(o, "  {} ({}): {}", n.severity, n.code, n.message);
    }
    match &i.not_analysable {
        Some(why) => {
            let _ = writeln!(o, "  analyzer cannot analyse this file: {why}");
        }
        None => {
            let _ = writeln!(
                o,
                "  analyzer would use: channel {} ({}), stimuli from {source}",
                w.channel, w.channel_label
            );
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::{Annotation, Channel, ChannelKind, Segment, SourceFormat};
    use crate::units::SampleRate;
    use crate::vocab::StimulusSource;
    use crate::vocab::{FlagCode, Severity};
    use std::path::PathBuf;

    fn rec() -> Recording {
        let ch = |index: usize, label: &str, kind, rate: Option<f64>, len: usize| Channel {
            index,
            label: label.into(),
            unit: "uV".into(),
            kind,
            len,
            sample_rate_hz: rate,
            samples: vec![],
        };
        Recording {
            path: PathBuf::from("a.edf"),
            format: SourceFormat::EdfPlus,
            sample_rate: SampleRate::new(5000.0).unwrap(),
            channels: vec![
                ch(0, "EMG ADM", ChannelKind::Signal, None, 10_000),
                ch(1, "Trig", ChannelKind::Trigger, Some(1000.0), 2000),
            ],
            segments: vec![
                Segment {
                    start: 0,
                    len: 5000,
                    start_s: 0.25,
                },
                Segment {
                    start: 5000,
                    len: 5000,
                    start_s: 3.4,
                },
            ],
            stimuli: None,
            annotations: vec![Annotation {
                onset_s: 3.0,
                duration_s: Some(5.0),
                text: "Übung".into(),
            }],
            notes: Vec::new(),
            intensities: None,
            metadata: Vec::new(),
            not_analysable: None,
            storage: None,
            study: Default::default(),
        }
    }

    #[test]
    fn json_has_the_contract_fields() {
        let r = rec();
        let plan = ChannelPlan {
            channel: 0,
            trigger_channel: None,
            stimulus_source: StimulusSource::ArtifactSlope,
        };
        let v: serde_json::Value = serde_json::from_str(&render_json(&inspect(&r, &plan))).unwrap();
        assert_eq!(v["format"], "edf_plus");
        let c = &v["channels"][1];
        assert_eq!(c["index"], 1);
        assert_eq!(c["label"], "Trig");
        assert_eq!(c["unit"], "uV");
        assert_eq!(c["sample_rate_hz"], 1000.0);
        assert_eq!(c["samples"], 2000);
        assert_eq!(c["kind"], "trigger");
        assert_eq!(c["duration_s"], 2.0);
        assert_eq!(v["annotations"][0]["onset_s"], 3.0);
        assert_eq!(v["annotations"][0]["duration_s"], 5.0);
        assert_eq!(v["annotations"][0]["text"], "Übung");
        assert_eq!(v["segments"][1]["start_s"], 3.4);
        assert_eq!(v["segments"][1]["duration_s"], 1.0);
        assert_eq!(v["analyzer_would_use"]["stimulus_source"], "artifact_slope");
        assert_eq!(v["analyzer_would_use"]["channel_label"], "EMG ADM");
        assert!(v["analyzer_would_use"]["trigger_channel"].is_null());
        assert_eq!(v["channels"][0]["usable"], true);
        assert_eq!(v["channels"][0]["why"], "the EMG channel");
        assert_eq!(v["channels"][1]["usable"], false);
        assert!(v["not_analysable"].is_null());
        assert!(v["stimulus_intensity"].is_null());
        assert_eq!(v["notes"], serde_json::json!([]));
        let text = render_text(&inspect(&r, &plan));
        assert!(text.contains("Übung"), "{text}");
        assert!(text.contains("0.2500–1.2500 s"), "{text}");
        assert!(text.contains("stimuli from artifact slope"), "{text}");
    }

    #[test]
    fn channels_say_why_they_can_or_cannot_be_the_emg() {
        let mut r = rec();
        let ch = |index: usize, label: &str, kind, rate: Option<f64>| Channel {
            index,
            label: label.into(),
            unit: "".into(),
            kind,
            len: 100,
            sample_rate_hz: rate,
            samples: vec![],
        };
        r.channels = vec![
            ch(0, "Temp", ChannelKind::Signal, Some(100.0)),
            ch(1, "EMG", ChannelKind::Signal, None),
            ch(2, "EMG 2", ChannelKind::Signal, Some(4000.0)),
            ch(3, "stimulus_V", ChannelKind::Intensity, None),
            ch(4, "Trig", ChannelKind::Trigger, None),
        ];
        r.notes = vec![ReadNote::info(FlagCode::EmgChannelChosen, "chosen")];
        r.metadata = vec![MetadataEntry {
            key: "Subject".into(),
            value: "anon".into(),
        }];
        let plan = ChannelPlan {
            channel: 1,
            trigger_channel: Some(4),
            stimulus_source: StimulusSource::TriggerChannel,
        };
        let i = inspect(&r, &plan);
        let why: Vec<(bool, &str)> = i
            .channels
            .iter()
            .map(|c| (c.usable, c.why.as_str()))
            .collect();
        assert_eq!(
            why,
            [
                (false, "sampled at 100 Hz, below 2000 Hz"),
                (true, "the EMG channel"),
                (
                    true,
                    "an EMG signal at 4000 Hz, not the recording's 5000 Hz: --channel 2 analyses it"
                ),
                (
                    false,
                    "the stimulus intensity, not an EMG signal (its values are no trigger pulses)"
                ),
                (false, "the trigger line: its rising edges are the stimuli"),
            ]
        );
        assert_eq!(i.stimulus_intensity.as_ref().unwrap().channel, Some(3));
        let v: serde_json::Value = serde_json::from_str(&render_json(&i)).unwrap();
        assert_eq!(v["notes"][0]["code"], "emg_channel_chosen");
        assert_eq!(v["notes"][0]["severity"], Severity::Info.name());
        assert_eq!(v["metadata"][0]["key"], "Subject");
        let text = render_text(&i);
        assert!(text.contains("not usable: sampled at 100 Hz"), "{text}");
        assert!(text.contains("info (emg_channel_chosen): chosen"), "{text}");
        assert!(text.contains("Subject: anon"), "{text}");
        // A file that cannot be analysed says so instead of the plan.
        r.not_analysable = Some("channel 0 (\"Temp\") is sampled at 100 Hz".into());
        let text = render_text(&inspect(&r, &plan));
        assert!(
            text.contains("analyzer cannot analyse this file: channel 0"),
            "{text}"
        );
    }

    #[test]
    fn error_entries_name_path_and_code() {
        let e = Error::malformed("b.edf", "broken");
        let s = render_json_many(&[Entry::err(Path::new("b.edf"), &e)]);
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v[0]["path"], "b.edf");
        assert_eq!(v[0]["error"]["exit_code"], 3);
        assert_eq!(v[0]["error"]["message"], "b.edf: broken");
    }
}
