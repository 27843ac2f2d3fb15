//! The analysis result: the JSON output contract (`schema_version` 1).
//!
//! Field names are a public contract: extend, never rename. Fields that do not
//! apply are `null`. Numbers are rounded once, here, so that the same input gives
//! the same bytes: millivolts to 4 decimals (0.1 µV), percentages to 2, times to
//! 3 decimals of a millisecond and 6 of a second.

use crate::recording::{SourceFormat, Storage};
use crate::study::Study;
use crate::vocab::{
    ExerciseSource, FindingCode, FlagCode, Pattern, Polarity, PolaritySource, RoleSource, Severity,
    Shape, StimulusSource, TrainRole,
};
use serde::Serialize;

/// Version of the JSON contract. Bump only for a breaking change.
pub const SCHEMA_VERSION: u32 = 1;

/// Round to `d` decimals (and turn `-0` into `0`).
pub fn round(x: f64, d: i32) -> f64 {
    let p = 10f64.powi(d);
    let r = (x * p).round() / p;
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

/// Round `x` to `digits` significant digits, for figures the file gives in
/// any unit and scale (a stimulus of 2e-5 A or 250 V); `None` when `x` is
/// not finite (`digits` ≥ 1).
pub fn round_significant(x: f64, digits: usize) -> Option<f64> {
    if !x.is_finite() {
        return None;
    }
    let r: f64 = format!("{x:.*e}", digits.saturating_sub(1)).parse().ok()?;
    Some(if r == 0.0 { 0.0 } else { r })
}

/// Round an optional value.
pub fn round_opt(x: Option<f64>, d: i32) -> Option<f64> {
    x.filter(|v| v.is_finite()).map(|v| round(v, d))
}

/// The tool that produced a result.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Tool {
    /// `rns-analyzer`.
    pub name: &'static str,
    /// Crate version.
    pub version: &'static str,
}

/// Where the signal came from and how it was read.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Source {
    /// Input path as given.
    pub path: String,
    /// `wav`, `csv_continuous`, `csv_sweeps`, ...
    pub format: SourceFormat,
    /// Samples per second.
    pub sample_rate_hz: f64,
    /// EMG channel index.
    pub channel: usize,
    /// `negative` (main phase electrically negative, the standard) or
    /// `positive` (inverted file: the main phase was measured as positive).
    pub polarity: Polarity,
    /// How the polarity was decided: `auto` or `user`.
    pub polarity_source: PolaritySource,
    /// Label of the EMG channel.
    pub channel_label: String,
    /// Recording duration, s.
    pub duration_s: f64,
    /// `artifact_slope`, `trigger_channel`, `sweeps` or `annotations`.
    pub stimulus_source: StimulusSource,
    /// Mains hum found and removed, Hz (`null` when none).
    pub mains_hz: Option<f64>,
    /// RMS of the removed hum, µV.
    pub mains_rms_uv: Option<f64>,
    /// Where the per-response `stimulus_intensity` comes from, when the file
    /// gives one (per sweep, or an intensity column); `null` when none.
    pub stimulus_intensity: Option<IntensitySource>,
    /// How a WAV stores its samples and the full scale applied
    /// (`bits_per_sample`, `sample_format`, `full_scale_mv`,
    /// `full_scale_given`); `null` for formats with physical units.
    pub storage: Option<Storage>,
}

/// Where the stimulus intensities of the responses come from.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IntensitySource {
    /// The column's name as written (`"stimulus_V"`).
    pub label: String,
    /// Its unit as written (`"V"`, `"mA"`; `""` when the file names none).
    pub unit: String,
}

/// One measured response.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ResponseOut {
    /// Position in the train, from 1.
    pub index: usize,
    /// Stimulus time, s from the start of the recording (`null` for sweeps of unknown rate).
    pub stimulus_s: Option<f64>,
    /// Stimulus to onset, ms.
    pub latency_ms: f64,
    /// Baseline to negative peak, mV.
    pub amplitude_mv: f64,
    /// Negative peak to following positive peak, mV.
    pub peak_to_peak_mv: f64,
    /// Negative-phase area, mV·ms.
    pub area_mv_ms: f64,
    /// Negative-phase duration (onset to baseline crossing), ms.
    pub duration_ms: f64,
    /// Stimulus to negative peak, ms.
    pub peak_latency_ms: f64,
    /// Baseline level in the file's polarity, mV.
    pub baseline_mv: f64,
    /// Size of the positive deflection before the negative phase, mV (0 when
    /// the response starts negative).
    pub initial_positive_mv: f64,
    /// Amplitude as % of the train's first response.
    pub amplitude_rel_pct: Option<f64>,
    /// Area as % of the train's first response.
    pub area_rel_pct: Option<f64>,
    /// The stimulus intensity the file gives for this response's stimulus,
    /// in the unit of `source.stimulus_intensity` (`null` when none).
    pub stimulus_intensity: Option<f64>,
}

/// One stimulus train.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TrainOut {
    /// Position in the recording, from 1.
    pub index: usize,
    /// `baseline`, `post_exercise` or `hfs`.
    pub role: TrainRole,
    /// How the role was decided: `protocol`, `annotation`, `rate`,
    /// `voluntary_activity`, `order_and_gaps`.
    pub role_source: RoleSource,
    /// Stimulation rate, Hz (`null` for a single stimulus or unknown sweep timing).
    pub rate_hz: Option<f64>,
    /// First stimulus, s (`null` when sweep timing is unknown).
    pub start_s: Option<f64>,
    /// Seconds from the end of exercise to the first stimulus, when known.
    pub delay_after_exercise_s: Option<f64>,
    /// The responses.
    pub responses: Vec<ResponseOut>,
    /// Amplitude decrement 1st vs 4th, %.
    pub decrement_pct: Option<f64>,
    /// Amplitude decrement 1st vs 5th, %.
    pub decrement_5th_pct: Option<f64>,
    /// Largest amplitude decrement among responses 2–5, %.
    pub max_decrement_pct: Option<f64>,
    /// Area decrement 1st vs 4th, %.
    pub area_decrement_pct: Option<f64>,
    /// Area decrement 1st vs 5th, %.
    pub area_decrement_5th_pct: Option<f64>,
    /// `hfs` only: largest response vs first, amplitude, %.
    pub increment_pct: Option<f64>,
    /// `hfs` only: largest area vs first, %.
    pub area_increment_pct: Option<f64>,
    /// `hfs` only: last response vs first, amplitude, %.
    pub last_increment_pct: Option<f64>,
    /// `hfs` only: last area vs first, %.
    pub last_area_increment_pct: Option<f64>,
    /// `flat`, `u_shaped`, `progressive`, `irregular`, `incrementing` (≥ 4 responses).
    pub shape: Option<Shape>,
    /// Late/early decrement ratio \[S14\] (≥ 6 responses with an early decrement).
    pub late_early_ratio: Option<f64>,
}

impl TrainOut {
    /// The train's decrement: the larger of the 4th- and 5th-response
    /// amplitude decrements (primer §3: n = 4, some labs n = 5) \[A1\]\[N4\].
    pub fn decrement(&self) -> Option<f64> {
        larger(self.decrement_pct, self.decrement_5th_pct)
    }

    /// Area counterpart of [`decrement`](Self::decrement).
    pub fn area_decrement(&self) -> Option<f64> {
        larger(self.area_decrement_pct, self.area_decrement_5th_pct)
    }
}

/// The reference baseline train among `trains`: the last baseline train
/// with responses before the first post-exercise train, or else the first
/// baseline train with responses. `role_of` gives each train's role and
/// whether it has measured responses. The session's baseline CMAP,
/// decrement and post-exercise comparison all refer to it.
pub fn reference_baseline<T>(
    trains: &[T],
    role_of: impl Fn(&T) -> (TrainRole, bool),
) -> Option<usize> {
    let usable = |t: &T| role_of(t) == (TrainRole::Baseline, true);
    let first_post = trains
        .iter()
        .position(|t| role_of(t).0 == TrainRole::PostExercise)
        .unwrap_or(trains.len());
    trains[..first_post]
        .iter()
        .rposition(usable)
        .or_else(|| trains.iter().position(usable))
}

impl Analysis {
    /// The reference baseline train ([`reference_baseline`]).
    pub fn reference_train(&self) -> Option<&TrainOut> {
        reference_baseline(&self.trains, |t| (t.role, !t.responses.is_empty()))
            .map(|i| &self.trains[i])
    }

    /// Train `t`'s first response as % of the reference rest train's first
    /// (amplitude, area); each `None` without both responses or with a
    /// reference of zero size.
    pub fn first_vs_reference_pct(&self, t: &TrainOut) -> (Option<f64>, Option<f64>) {
        let (Some(r), Some(x)) = (
            self.reference_train().and_then(|r| r.responses.first()),
            t.responses.first(),
        ) else {
            return (None, None);
        };
        let pct = |v: f64, of: f64| (of > 0.0).then(|| v / of * 100.0);
        (
            pct(x.amplitude_mv, r.amplitude_mv),
            pct(x.area_mv_ms, r.area_mv_ms),
        )
    }

    /// The largest amplitude increment of the high-rate trains, %.
    pub fn max_hfs_increment_pct(&self) -> Option<f64> {
        self.trains
            .iter()
            .filter(|t| t.role == TrainRole::Hfs)
            .filter_map(|t| t.increment_pct)
            .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
    }
}

/// The larger of two optional figures, or the one that is there.
fn larger(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Session-level figures (exercise, repair, exhaustion).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SessionOut {
    /// Exercise period found or given: start and end, s.
    pub exercise_start_s: Option<f64>,
    /// End of exercise, s.
    pub exercise_end_s: Option<f64>,
    /// `protocol`, `annotation`, `voluntary_activity`, or `null`.
    pub exercise_source: Option<ExerciseSource>,
    /// First amplitude of the reference (last baseline) train, mV.
    pub baseline_cmap_mv: Option<f64>,
    /// Lower normal limit for the muscle, mV (mean − 2 SD) \[M98\]\[CJ\].
    pub baseline_cmap_lower_limit_mv: Option<f64>,
    /// Muscle whose normal range was used.
    pub normal_range_muscle: Option<String>,
    /// Decrement of the reference baseline train (largest of 4th/5th), %.
    pub baseline_decrement_pct: Option<f64>,
    /// Decrement of the first post-exercise train within the "immediate" window, %.
    pub immediate_post_exercise_decrement_pct: Option<f64>,
    /// Largest decrement among post-exercise trains 1–4 min after exercise, %.
    pub late_post_exercise_decrement_pct: Option<f64>,
    /// Repair: decrement smaller right after exercise \[N4\].
    pub repair: Option<bool>,
    /// Exhaustion: decrement larger at 1–4 min \[N4\].
    pub exhaustion: Option<bool>,
}

/// A finding behind the classification.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Finding {
    /// Stable code (`abnormal_decrement`, `lems_level_increment`, ...).
    pub code: FindingCode,
    /// Plain-language statement.
    pub message: String,
    /// Train it refers to (1-based), if any.
    pub train: Option<usize>,
    /// The measured figure.
    pub value: Option<f64>,
    /// The criterion it was compared with.
    pub threshold: Option<f64>,
}

/// The pattern and the findings that led to it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Classification {
    /// `normal`, `mg_like`, `lems_like` or `indeterminate`.
    pub pattern: Pattern,
    /// Findings, in the order they were weighed.
    pub findings: Vec<Finding>,
}

/// A technical quality flag.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct QualityFlag {
    /// Stable code (`irregular_amplitudes`, `clipped_signal`, ...).
    pub code: FlagCode,
    /// Plain-language statement.
    pub message: String,
    /// Train it refers to (1-based), `null` for the recording.
    pub train: Option<usize>,
    /// `warning` (affects the numbers) or `info`.
    pub severity: Severity,
}

/// The protocol facts the result was computed with.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ProtocolOut {
    /// Muscle.
    pub muscle: Option<String>,
    /// Nerve.
    pub nerve: Option<String>,
    /// Skin temperature, °C.
    pub temperature_c: Option<f64>,
    /// Medications on record (not interpreted).
    pub medications: Vec<String>,
}

/// The whole analysis of one recording.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Analysis {
    /// Contract version.
    pub schema_version: u32,
    /// Producer.
    pub tool: Tool,
    /// Input.
    pub source: Source,
    /// Protocol facts.
    pub protocol: ProtocolOut,
    /// The study and the patient: flags over the sidecar's `[study]` over
    /// the file's header; every field `null` when none gave it.
    pub study: Study,
    /// Trains, in time order.
    pub trains: Vec<TrainOut>,
    /// First response after exercise vs first before, amplitude, %.
    pub post_exercise_increment_pct: Option<f64>,
    /// Same for area, %.
    pub post_exercise_area_increment_pct: Option<f64>,
    /// Session figures.
    pub session: SessionOut,
    /// Pattern and findings.
    pub classification: Classification,
    /// Quality flags.
    pub quality: Vec<QualityFlag>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn significant_rounding_keeps_small_and_large_figures() {
        assert_eq!(round_significant(0.300_000_011_920_928_96, 7), Some(0.3));
        assert_eq!(round_significant(2.345_678_9e-5, 3), Some(2.35e-5));
        assert_eq!(round_significant(123_456.78, 4), Some(123_500.0));
        assert_eq!(round_significant(-0.0, 7), Some(0.0));
        assert_eq!(round_significant(f64::NAN, 7), None);
        assert_eq!(round_significant(f64::INFINITY, 7), None);
        assert_eq!(round(2.345_678_9e-5, 6), 2.3e-5);
    }
}
