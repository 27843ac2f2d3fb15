//! The one in-memory form every reader produces.
//!
//! A [`Recording`] holds channels of samples at one sample rate, already in
//! millivolts for signal channels, split into contiguous [`Segment`]s (one for a
//! continuous file; one per sweep for epoched exports; one per run of records
//! for discontinuous EDF+D). Stimulus times that the file itself knows (sweeps,
//! annotations) travel in [`KnownStimuli`]; a trigger channel is a channel of
//! kind [`ChannelKind::Trigger`]. What a reader recovered from (a file cut
//! short, a layout guessed) travels in [`ReadNote`]s, which the analysis
//! reports as quality flags of the note's severity. A file that can be read but
//! not analysed (every EDF signal sampled below the accepted rate) is still a
//! [`Recording`], for `rns inspect`; [`Recording::not_analysable`] says why the
//! analysis refuses it.

use crate::error::{excerpt_str, Error, Result};
use crate::study::Study;
use crate::units::{SampleRate, Seconds};
use crate::vocab::{FlagCode, SampleEncoding, Severity};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// The container format a recording was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceFormat {
    /// RIFF WAVE.
    Wav,
    /// Delimited text, one sample per row.
    CsvContinuous,
    /// Delimited text, one column per response (time 0 = stimulus).
    CsvSweeps,
    /// European Data Format (16-bit).
    Edf,
    /// EDF+ (continuous or discontinuous).
    EdfPlus,
    /// BioSemi 24-bit EDF variant.
    Bdf,
    /// BDF+ (24-bit EDF+, continuous or discontinuous).
    BdfPlus,
    /// MATLAB level 5 MAT-file (v5, v6, v7).
    MatV5,
    /// MATLAB v7.3 MAT-file (HDF5 with a MATLAB user block).
    MatV73,
    /// CED Spike2 32-bit data file (`.smr`).
    Smr,
    /// CED Spike2 64-bit data file (`.smrx`).
    Smrx,
    /// CED Signal data file (CFS, `.cfs`).
    Cfs,
    /// BrainVision Core Data Format (`.vhdr` + `.eeg` + `.vmrk`).
    BrainVision,
    /// Axon Binary Format version 1 (`.abf`).
    Abf1,
    /// Axon Binary Format version 2 (`.abf`).
    Abf2,
    /// ADInstruments LabChart binary file (`.adicht`).
    Adicht,
    /// The INI-like text export of Natus/Medelec Synergy EMG machines.
    SynergyText,
    /// A text table of sweeps with header lines (an EMG machine's ASCII export).
    AsciiSweeps,
    /// Generated in memory (simulator, tests).
    Synthetic,
}

impl SourceFormat {
    /// The name used in outputs (`"wav"`, `"csv_sweeps"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            SourceFormat::Wav => "wav",
            SourceFormat::CsvContinuous => "csv_continuous",
            SourceFormat::CsvSweeps => "csv_sweeps",
            SourceFormat::Edf => "edf",
            SourceFormat::EdfPlus => "edf_plus",
            SourceFormat::Bdf => "bdf",
            SourceFormat::BdfPlus => "bdf_plus",
            SourceFormat::MatV5 => "mat_v5",
            SourceFormat::MatV73 => "mat_v7_3",
            SourceFormat::Smr => "smr",
            SourceFormat::Smrx => "smrx",
            SourceFormat::Cfs => "cfs",
            SourceFormat::BrainVision => "brainvision",
            SourceFormat::Abf1 => "abf1",
            SourceFormat::Abf2 => "abf2",
            SourceFormat::Adicht => "adicht",
            SourceFormat::SynergyText => "synergy_text",
            SourceFormat::AsciiSweeps => "ascii_sweeps",
            SourceFormat::Synthetic => "synthetic",
        }
    }

    /// Whether this is one of the EDF family (EDF, EDF+, BDF, BDF+).
    pub fn is_edf_family(self) -> bool {
        matches!(
            self,
            SourceFormat::Edf | SourceFormat::EdfPlus | SourceFormat::Bdf | SourceFormat::BdfPlus
        )
    }

    /// The EMG channel used when none is named, from each channel's kind
    /// alone: the first channel of kind [`ChannelKind::Signal`] (annotation
    /// signals are never channels; a CSV's trigger and intensity columns are
    /// passed over), channel 0 when there is none. See
    /// [`SourceFormat::default_emg_channel_at`] for the rule with rates.
    pub fn default_emg_channel(self, kinds: impl IntoIterator<Item = ChannelKind>) -> usize {
        kinds
            .into_iter()
            .position(|k| k == ChannelKind::Signal)
            .unwrap_or(0)
    }

    /// The EMG channel used when none is named, from each channel's kind and
    /// own sample rate in Hz: for the EDF family, the first
    /// [`ChannelKind::Signal`] sampled at an accepted rate
    /// ([`SampleRate::MIN_HZ`]..=[`SampleRate::MAX_HZ`]), so a slow first
    /// signal (a 100 Hz temperature) is passed over; when no signal has an
    /// accepted rate, the first signal. Every other format: as
    /// [`SourceFormat::default_emg_channel`].
    pub fn default_emg_channel_at(
        self,
        channels: impl IntoIterator<Item = (ChannelKind, f64)>,
    ) -> usize {
        let channels: Vec<(ChannelKind, f64)> = channels.into_iter().collect();
        if self.is_edf_family() {
            if let Some(i) = channels
                .iter()
                .position(|&(k, hz)| k == ChannelKind::Signal && SampleRate::new(hz).is_some())
            {
                return i;
            }
        }
        self.default_emg_channel(channels.iter().map(|c| c.0))
    }
}

/// What a channel carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// A physiological signal, in millivolts.
    Signal,
    /// A stimulus trigger or marker line (raw values; rising edges are stimuli).
    Trigger,
    /// The stimulus intensity, held at each stimulus's level (raw values in
    /// [`Channel::unit`], such as a CSV `stimulus_V` column that is no
    /// trigger): never the EMG, never a trigger unless named as one.
    Intensity,
}

impl ChannelKind {
    /// The name used in outputs (`"signal"`, `"trigger"`, `"intensity"`).
    pub fn name(self) -> &'static str {
        match self {
            ChannelKind::Signal => "signal",
            ChannelKind::Trigger => "trigger",
            ChannelKind::Intensity => "intensity",
        }
    }
}

/// One channel of a recording.
#[derive(Debug, Clone)]
pub struct Channel {
    /// Index of the channel in the file (stable even when only some channels are decoded).
    pub index: usize,
    /// Label as written in the file (column name, EDF label) or `"ch<N>"`.
    pub label: String,
    /// Unit of the values as stored in the file (`"mV"`, `"uV"`, `"V"`; `"mV"` for
    /// WAV, whose full scale is converted to millivolts; `""` for trigger lines;
    /// an intensity's own unit, `"V"`, `"mA"`, or `""` when none is named).
    pub unit: String,
    /// Signal or trigger.
    pub kind: ChannelKind,
    /// Number of samples in the file for this channel.
    pub len: usize,
    /// This channel's own sample rate when it differs from the recording's
    /// (EDF signals may each have their own); such a channel is never
    /// decoded. `None`: the recording's rate.
    pub sample_rate_hz: Option<f64>,
    /// The samples: millivolts for [`ChannelKind::Signal`], raw values for
    /// triggers and intensities. Empty when the reader was asked not to decode
    /// this channel.
    pub samples: Vec<f32>,
}

impl Channel {
    /// Whether the samples of this channel were decoded.
    pub fn is_loaded(&self) -> bool {
        self.samples.len() == self.len
    }
}

/// A contiguous run of samples (no gap in time inside it).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Segment {
    /// Index of the first sample of the segment in every channel.
    pub start: usize,
    /// Number of samples in the segment.
    pub len: usize,
    /// Time of the segment's first sample, from the start of the recording.
    pub start_s: f64,
}

impl Segment {
    /// One past the last sample index of the segment.
    pub fn end(&self) -> usize {
        self.start + self.len
    }
}

/// Where stimulus times known to the file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StimulusOrigin {
    /// Epoched sweeps: the stimulus is at time 0 of each sweep.
    Sweeps,
    /// Annotations in the file (EDF+ TALs, BrainVision markers).
    Annotations,
    /// An event or marker channel of the file (a Spike2 event channel, a
    /// MATLAB stimulus-time variable, ABF tags).
    Events,
}

/// Stimulus times the file itself gives (no detection needed).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KnownStimuli {
    /// Sample index of each stimulus, ascending.
    pub samples: Vec<usize>,
    /// Where they came from.
    pub origin: StimulusOrigin,
    /// Whether the real time between stimuli is known. For sweeps it is not:
    /// sweeps are stored back to back, so the rate must come from the protocol.
    pub timing_known: bool,
}

/// An annotation (EDF+ TAL, or a marker from another format).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Annotation {
    /// Onset from the start of the recording.
    pub onset_s: f64,
    /// Duration, when given.
    pub duration_s: Option<f64>,
    /// The text.
    pub text: String,
}

/// The stimulus intensity of each stimulus the file gives, as an epoched export
/// states it per sweep (a MonStim `stimulus_V` column, constant within each
/// sweep).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StimulusIntensities {
    /// Where it came from: the column name (`"stimulus_V"`).
    pub label: String,
    /// Its unit as written (`"V"`, `"mA"`; `""` when the file names none).
    pub unit: String,
    /// One value per entry of [`KnownStimuli::samples`], in the same order.
    pub values: Vec<f64>,
}

/// One `key,value` line of a header block above a table (instrument or
/// export metadata), as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetadataEntry {
    /// The key, trimmed.
    pub key: String,
    /// The value, trimmed (several cells joined by the file's delimiter).
    pub value: String,
}

/// Something a reader recovered from or decided instead of refusing the file:
/// a truncated file read to its last whole frame or record (a `warning`), or
/// a layout or channel the reader chose by a rule (an `info` that says which
/// rule decided). The analysis turns each note into a quality flag with the
/// same code, message and severity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadNote {
    /// Stable code, used as the quality flag's code (`truncated_file`,
    /// `layout_guessed`, …).
    pub code: FlagCode,
    /// One-line statement of what was wrong or decided, and what was read.
    pub message: String,
    /// `warning` when the numbers may suffer (a file cut short), `info` when
    /// the note only says how the file was read.
    pub severity: Severity,
}

impl ReadNote {
    /// A note of severity `warning`.
    pub fn warning(code: FlagCode, message: impl Into<String>) -> Self {
        ReadNote {
            code,
            message: message.into(),
            severity: Severity::Warning,
        }
    }

    /// A note of severity `info`.
    pub fn info(code: FlagCode, message: impl Into<String>) -> Self {
        ReadNote {
            code,
            message: message.into(),
            severity: Severity::Info,
        }
    }
}

/// A decoded recording: the single type every reader produces.
#[derive(Debug, Clone)]
pub struct Recording {
    /// The file it came from (for messages and outputs).
    pub path: PathBuf,
    /// The container format.
    pub format: SourceFormat,
    /// Sample rate shared by every decoded channel (and every channel whose
    /// [`Channel::sample_rate_hz`] is `None`).
    pub sample_rate: SampleRate,
    /// The channels, in file order.
    pub channels: Vec<Channel>,
    /// Contiguous segments covering the samples, ascending and non-overlapping.
    pub segments: Vec<Segment>,
    /// Stimulus times the file gives, if any.
    pub stimuli: Option<KnownStimuli>,
    /// Annotations, if any.
    pub annotations: Vec<Annotation>,
    /// What the reader recovered from or decided, if anything (see [`ReadNote`]).
    pub notes: Vec<ReadNote>,
    /// The stimulus intensity per known stimulus, when the file gives one
    /// (see [`StimulusIntensities`]); a continuous file's intensity column is
    /// a channel of kind [`ChannelKind::Intensity`] instead. See
    /// [`Recording::stimulus_intensity`].
    pub intensities: Option<StimulusIntensities>,
    /// The `key,value` lines of a header block above a CSV table, in file
    /// order (empty for other files).
    pub metadata: Vec<MetadataEntry>,
    /// Why this recording cannot be analysed although it could be read, as a
    /// one-line message (`channel 0 ("Temp") is sampled at 100 Hz …, outside
    /// the accepted range 2000–1000000 Hz`); `None` for every recording the
    /// analysis can take. Such a recording is read only to be described
    /// (`rns inspect`): its `sample_rate` is the named or first signal's own
    /// rate, below [`SampleRate::MIN_HZ`]. See [`Recording::check_analysable`].
    pub not_analysable: Option<String>,
    /// How the file stores its samples, when that sets their scale (a
    /// WAV's integer or float samples and the full scale applied); `None`
    /// for formats that state physical units (CSV, EDF).
    pub storage: Option<Storage>,
    /// What the file's header says of the study and the patient (EDF/EDF+);
    /// empty for other formats.
    pub study: Study,
}

/// How a WAV stores its samples and the full scale they were read with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Storage {
    /// Bits per sample (8, 16, 24, 32).
    pub bits_per_sample: u16,
    /// `integer` or `float`.
    pub sample_format: SampleEncoding,
    /// Millivolts that full scale (±1.0) stood for.
    pub full_scale_mv: f64,
    /// Whether a flag or the sidecar gave the full scale; `false`: the
    /// default (±1 mV) was used, so an integer file's amplitudes are in
    /// units of full scale, not millivolts.
    pub full_scale_given: bool,
}

impl Recording {
    /// A recording of one continuous EMG channel, as the simulator and tests
    /// build it in memory: format [`SourceFormat::Synthetic`], one
    /// [`ChannelKind::Signal`] channel (index 0, label `"emg"`, unit `"mV"`, at
    /// the recording's rate) holding `samples` in millivolts, one segment from
    /// time 0 covering them all, and no known stimuli, annotations or notes.
    ///
    /// A caller that needs more (another format, sweeps with known stimuli,
    /// a trigger channel) sets those fields on the result.
    pub fn single_channel(
        path: impl Into<PathBuf>,
        sample_rate: SampleRate,
        samples: Vec<f32>,
    ) -> Recording {
        let len = samples.len();
        Recording {
            path: path.into(),
            format: SourceFormat::Synthetic,
            sample_rate,
            channels: vec![Channel {
                index: 0,
                label: "emg".into(),
                unit: "mV".into(),
                kind: ChannelKind::Signal,
                len,
                sample_rate_hz: None,
                samples,
            }],
            segments: Recording::continuous_segments(len),
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

    /// `Ok` when the analysis can take this recording; otherwise the reader's
    /// reason ([`Recording::not_analysable`]) as [`Error::Malformed`] (exit 3),
    /// the message the reader gave before it described such files.
    pub fn check_analysable(&self) -> Result<()> {
        match &self.not_analysable {
            None => Ok(()),
            Some(why) => Err(Error::malformed(&self.path, why.clone())),
        }
    }

    /// The stimulus intensity of the stimulus at sample `stimulus`, with its
    /// unit, when the file gives one: the per-sweep value of the sweep
    /// (segment) that holds the sample when [`Recording::intensities`] is set,
    /// else the value of the first decoded [`ChannelKind::Intensity`] channel
    /// at that sample. `None` when the file has no intensity.
    pub fn stimulus_intensity(&self, stimulus: usize) -> Option<(f64, &str)> {
        if let (Some(int), Some(known)) = (&self.intensities, &self.stimuli) {
            // The known stimulus of the segment holding `stimulus` (sweeps:
            // one per segment), else the last known stimulus at or before it.
            let k = match self.segment_of(stimulus) {
                Some(seg) => {
                    let p = known.samples.partition_point(|&s| s < seg.start);
                    known.samples.get(p).filter(|&&s| s < seg.end()).map(|_| p)
                }
                None => None,
            }
            .or_else(|| {
                known
                    .samples
                    .partition_point(|&s| s <= stimulus)
                    .checked_sub(1)
            })?;
            return int.values.get(k).map(|&v| (v, int.unit.as_str()));
        }
        let ch = self
            .channels
            .iter()
            .find(|c| c.kind == ChannelKind::Intensity && c.is_loaded())?;
        ch.samples
            .get(stimulus)
            .map(|&v| (f64::from(v), ch.unit.as_str()))
    }

    /// Number of samples per channel (of the channels at the recording's rate).
    pub fn len(&self) -> usize {
        self.channels
            .iter()
            .find(|c| c.sample_rate_hz.is_none())
            .map_or(0, |c| c.len)
    }

    /// The EMG channel used when none is named (see
    /// [`SourceFormat::default_emg_channel_at`]): the first signal, for the
    /// EDF family the first signal at an accepted rate, for ABF files the
    /// first channel in a voltage unit (an ABF current channel, `pA`, is
    /// listed as a signal but never the EMG unless named).
    pub fn default_emg_channel(&self) -> usize {
        if matches!(self.format, SourceFormat::Abf1 | SourceFormat::Abf2) {
            if let Some(i) = self.channels.iter().position(|c| {
                c.kind == ChannelKind::Signal && millivolts_per_unit(&c.unit).is_some()
            }) {
                return i;
            }
        }
        self.format.default_emg_channel_at(
            self.channels
                .iter()
                .enumerate()
                .map(|(i, c)| (c.kind, self.channel_rate_hz(i))),
        )
    }

    /// The sample rate of channel `i` in Hz (its own, or the recording's).
    pub fn channel_rate_hz(&self, i: usize) -> f64 {
        self.channels
            .get(i)
            .and_then(|c| c.sample_rate_hz)
            .unwrap_or(self.sample_rate.hz())
    }

    /// Whether the recording holds no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Total duration (sum of the segments).
    pub fn duration(&self) -> Seconds {
        self.sample_rate.to_seconds(self.len() as f64)
    }

    /// Indices (into `channels`) of the signal channels.
    pub fn signal_channels(&self) -> impl Iterator<Item = usize> + '_ {
        self.channels
            .iter()
            .enumerate()
            .filter(|(_, c)| c.kind == ChannelKind::Signal)
            .map(|(i, _)| i)
    }

    /// The time of a sample, in seconds from the start of the recording,
    /// honouring segment start times (gaps in discontinuous files).
    pub fn time_of(&self, sample: f64) -> f64 {
        let idx = if sample < 0.0 { 0 } else { sample as usize };
        let seg = self.segment_of(idx);
        match seg {
            Some(s) => s.start_s + self.sample_rate.to_seconds(sample - s.start as f64).0,
            None => self.sample_rate.to_seconds(sample).0,
        }
    }

    /// The segment that contains sample `idx`, if any.
    pub fn segment_of(&self, idx: usize) -> Option<&Segment> {
        let pos = self.segments.partition_point(|s| s.end() <= idx);
        self.segments.get(pos).filter(|s| s.start <= idx)
    }

    /// A single continuous segment covering `len` samples.
    pub fn continuous_segments(len: usize) -> Vec<Segment> {
        vec![Segment {
            start: 0,
            len,
            start_s: 0.0,
        }]
    }
}

/// A channel as the user names it: by index or by label.
///
/// On the command line and in the sidecar, a value made only of ASCII digits
/// is an index; anything else is a label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelSel {
    /// Position among the file's channels, counting from 0.
    Index(usize),
    /// A label (`"EMG ADM"`), matched as [`ChannelSel::resolve`] describes.
    Label(String),
}

impl ChannelSel {
    /// Parse a flag value: digits are an index, other text a label. An empty
    /// (or all-blank) value is an error message.
    pub fn parse(s: &str) -> std::result::Result<Self, String> {
        let t = s.trim();
        if t.is_empty() {
            return Err("a channel must be an index or a label, got an empty value".into());
        }
        if t.bytes().all(|b| b.is_ascii_digit()) {
            return t
                .parse::<usize>()
                .map(ChannelSel::Index)
                .map_err(|_| format!("channel index {t} is too large"));
        }
        Ok(ChannelSel::Label(t.to_string()))
    }

    /// Find the channel among `labels` (the file's channel labels, in index
    /// order).
    ///
    /// An index must be below `labels.len()`. A label is compared without
    /// regard to case and surrounding blanks: an exact match wins; otherwise
    /// the one label that starts with it; otherwise the one label that
    /// contains it. Several equally good matches are a usage error naming
    /// them; no match is [`Error::NoSuchChannel`].
    pub fn resolve(&self, path: &Path, labels: &[&str]) -> Result<usize> {
        let missing = || Error::NoSuchChannel {
            path: path.to_path_buf(),
            channel: self.to_string(),
            available: labels.len(),
        };
        match self {
            ChannelSel::Index(i) if *i < labels.len() => Ok(*i),
            ChannelSel::Index(_) => Err(missing()),
            ChannelSel::Label(want) => {
                let want = want.trim().to_lowercase();
                let norm: Vec<String> = labels.iter().map(|l| l.trim().to_lowercase()).collect();
                let rules: [&dyn Fn(&str) -> bool; 3] =
                    [&|l| l == want, &|l| l.starts_with(&want), &|l| {
                        l.contains(&want)
                    }];
                for rule in rules {
                    let hits: Vec<usize> = (0..norm.len()).filter(|&i| rule(&norm[i])).collect();
                    match hits.as_slice() {
                        [] => continue,
                        [one] => return Ok(*one),
                        many => {
                            // Name a few candidates; a file can have hundreds of channels.
                            let names: Vec<String> = many
                                .iter()
                                .take(5)
                                .map(|&i| format!("{i} {}", excerpt_str(labels[i].trim())))
                                .collect();
                            let more = if many.len() > 5 { ", …" } else { "" };
                            return Err(Error::Usage(format!(
                                "{}: channel {self} matches {} channels ({}{more}); give the index or the full label",
                                path.display(),
                                many.len(),
                                names.join(", ")
                            )));
                        }
                    }
                }
                Err(missing())
            }
        }
    }
}

impl fmt::Display for ChannelSel {
    /// An index as a number, a label quoted (`2`, `"EMG ADM"`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChannelSel::Index(i) => write!(f, "{i}"),
            ChannelSel::Label(l) => write!(f, "{l:?}"),
        }
    }
}

impl From<usize> for ChannelSel {
    fn from(i: usize) -> Self {
        ChannelSel::Index(i)
    }
}

impl From<&str> for ChannelSel {
    fn from(s: &str) -> Self {
        ChannelSel::Label(s.to_string())
    }
}

impl Serialize for ChannelSel {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            ChannelSel::Index(i) => s.serialize_u64(*i as u64),
            ChannelSel::Label(l) => s.serialize_str(l),
        }
    }
}

impl<'de> Deserialize<'de> for ChannelSel {
    /// A non-negative integer (index) or a string (label, or digits = index).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = ChannelSel;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a channel index (integer ≥ 0) or a channel label (string)")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<ChannelSel, E> {
                usize::try_from(v)
                    .map(ChannelSel::Index)
                    .map_err(|_| E::custom(format!("channel index {v} is too large")))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<ChannelSel, E> {
                u64::try_from(v)
                    .map_err(|_| E::custom(format!("channel index must be ≥ 0, got {v}")))
                    .and_then(|u| self.visit_u64(u))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<ChannelSel, E> {
                ChannelSel::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// Millivolts per unit of a voltage unit as files write it (`V`, `mV`,
/// `uV`/`µV`/`μV`, `nV`, any case; `"mv"` and `"MV"` alike, since no file
/// stores EMG in megavolts); `None` for anything else (`A`, `pA`, `""`).
/// Readers reach it as [`crate::io::assemble::millivolts_per_unit`].
pub fn millivolts_per_unit(unit: &str) -> Option<f64> {
    let u = unit.trim();
    let lower = u.to_lowercase().replace(['µ', 'μ'], "u");
    match lower.as_str() {
        "v" | "volt" | "volts" => Some(1e3),
        "mv" | "millivolt" | "millivolts" => Some(1.0),
        "uv" | "microvolt" | "microvolts" => Some(1e-3),
        "nv" | "nanovolt" | "nanovolts" => Some(1e-6),
        _ => None,
    }
}

/// Whether an annotation text marks a stimulus: ignoring case and
/// surrounding blanks, `stim`, `stimulus`, `trigger` or `trig`, each
/// optionally followed by blanks, `_`, `-` or `#` and a number, or `S` with
/// or without a number (`S`, `S1`, `S  1`, as BrainVision writes markers).
pub fn is_stimulus_text(text: &str) -> bool {
    let t = text.trim().to_lowercase();
    // After the word: nothing, or separators and then a number.
    let number_tail = |rest: &str| {
        let digits = rest.trim_start_matches([' ', '_', '-', '#']);
        digits.bytes().all(|b| b.is_ascii_digit()) && (rest.is_empty() || !digits.is_empty())
    };
    ["stimulus", "stim", "trigger", "trig", "s"]
        .iter()
        .any(|w| t.strip_prefix(w).is_some_and(number_tail))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec_with_segments(segments: Vec<Segment>, len: usize) -> Recording {
        let mut rec =
            Recording::single_channel("x", SampleRate::new(10_000.0).unwrap(), vec![0.0; len]);
        rec.segments = segments;
        rec
    }

    #[test]
    fn time_honours_segment_starts() {
        let rec = rec_with_segments(
            vec![
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
            ],
            200,
        );
        assert!((rec.time_of(50.0) - 0.005).abs() < 1e-12);
        assert!((rec.time_of(150.0) - 5.005).abs() < 1e-12);
        assert_eq!(rec.segment_of(100).unwrap().start, 100);
        assert!(rec.segment_of(200).is_none());
    }

    #[test]
    fn default_emg_passes_over_slow_edf_signals_and_triggers() {
        use ChannelKind::*;
        let edf = SourceFormat::Edf;
        assert_eq!(
            edf.default_emg_channel_at([(Signal, 100.0), (Trigger, 5000.0), (Signal, 5000.0)]),
            2
        );
        // None at an accepted rate: the first signal.
        assert_eq!(
            edf.default_emg_channel_at([(Trigger, 1.0), (Signal, 200.0)]),
            1
        );
        // Other formats: the first signal whatever its rate.
        let csv = SourceFormat::CsvContinuous;
        assert_eq!(
            csv.default_emg_channel_at([(Intensity, 5000.0), (Signal, 5000.0)]),
            1
        );
        assert_eq!(csv.default_emg_channel([Trigger, Trigger]), 0);
    }

    #[test]
    fn stimulus_intensity_per_sweep_or_from_a_channel() {
        let mut rec = rec_with_segments(
            (0..3)
                .map(|k| Segment {
                    start: k * 10,
                    len: 10,
                    start_s: k as f64 * 0.001,
                })
                .collect(),
            30,
        );
        assert_eq!(rec.stimulus_intensity(5), None);
        rec.stimuli = Some(KnownStimuli {
            samples: vec![2, 12, 22],
            origin: StimulusOrigin::Sweeps,
            timing_known: false,
        });
        rec.intensities = Some(StimulusIntensities {
            label: "stimulus_V".into(),
            unit: "V".into(),
            values: vec![0.3, 0.4, 0.5],
        });
        assert_eq!(rec.stimulus_intensity(12), Some((0.4, "V")));
        // Any sample of a sweep gives that sweep's intensity.
        assert_eq!(rec.stimulus_intensity(29), Some((0.5, "V")));
        rec.intensities = None;
        rec.channels.push(Channel {
            index: 1,
            label: "current_mA".into(),
            unit: "mA".into(),
            kind: ChannelKind::Intensity,
            len: 30,
            sample_rate_hz: None,
            samples: (0..30).map(|i| i as f32).collect(),
        });
        assert_eq!(rec.stimulus_intensity(7), Some((7.0, "mA")));
        assert!(rec.check_analysable().is_ok());
        rec.not_analysable = Some("too slow".into());
        assert_eq!(
            rec.check_analysable().unwrap_err().to_string(),
            "x: too slow"
        );
    }
}
