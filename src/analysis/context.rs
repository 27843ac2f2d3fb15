//! What the stages after measurement share: each train with its measured
//! responses ([`MeasuredTrain`]) and the recording's facts ([`Context`]).
//! Roles, the session figures, the quality flags and the classification
//! read them; only the role rules change them.

use crate::analysis::hum::HumModel;
use crate::analysis::response::Measurement;
use crate::settings::config::AnalysisConfig;
use crate::units::SampleRate;
use crate::vocab::{ExerciseSource, Polarity, RoleSource, TrainRole};

/// A train with its measured responses, before rendering.
#[derive(Debug, Clone)]
pub struct MeasuredTrain {
    /// Stimulus sample indices.
    pub stimuli: Vec<usize>,
    /// Stimulus times, s (None when sweep timing is unknown).
    pub times: Vec<Option<f64>>,
    /// Stimulation rate, Hz.
    pub rate_hz: Option<f64>,
    /// Role.
    pub role: TrainRole,
    /// How the role was decided.
    pub role_source: RoleSource,
    /// Seconds from the end of exercise, when known.
    pub delay_s: Option<f64>,
    /// Measurements (one per measurable response).
    pub measurements: Vec<Measurement>,
    /// The stimulus intensity per stimulus, when the file gives one.
    pub intensities: Vec<Option<f64>>,
    /// For each measurement, its stimulus's position in `stimuli` (a response
    /// that could not be measured leaves a gap).
    pub positions: Vec<usize>,
    /// Whether each response touched a clipping rail.
    pub clipped: Vec<bool>,
    /// Responses that could not be measured (window too short).
    pub unmeasured: usize,
}

impl MeasuredTrain {
    /// Amplitudes, mV.
    pub fn amplitudes(&self) -> Vec<f64> {
        self.measurements.iter().map(|m| m.amplitude_mv).collect()
    }
    /// Areas, mV·ms.
    pub fn areas(&self) -> Vec<f64> {
        self.measurements.iter().map(|m| m.area_mv_ms).collect()
    }
    /// Whether the train is a low-rate (decrement) train.
    pub fn is_low_rate(&self) -> bool {
        self.role != TrainRole::Hfs
    }
}

/// Everything the later stages (quality, classification, rendering) need.
pub struct Context<'a> {
    /// Configuration.
    pub cfg: &'a AnalysisConfig,
    /// Sample rate.
    pub rate: SampleRate,
    /// Which way the main phase points in the file.
    pub polarity: Polarity,
    /// Trains.
    pub trains: Vec<MeasuredTrain>,
    /// Exercise period (start, end), s, and its source.
    pub exercise: Option<(f64, f64, ExerciseSource)>,
    /// Hum model, when hum was found.
    pub hum: Option<HumModel>,
    /// Whether roles came from order and gaps alone.
    pub roles_guessed: bool,
    /// Sweeps without a known rate.
    pub rate_unknown: bool,
    /// Number of protocol train entries that did not match a found train.
    pub protocol_mismatch: Option<(usize, usize)>,
}

/// Trains, measurements and contexts for unit tests of the later stages.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// A clean CMAP of amplitude `a` mV: onset at 3 ms, 6 ms negative phase,
    /// area 2.5 × `a`, low noise, returned to baseline.
    pub fn measurement(a: f64) -> Measurement {
        Measurement {
            baseline: 0.0,
            pre_baseline: Some(0.0),
            onset: 30.0,
            phase_start: 30.0,
            peak: 60.0,
            phase_end: 90.0,
            amplitude_mv: a,
            peak_to_peak_mv: 1.4 * a,
            area_mv_ms: 2.5 * a,
            latency_ms: 3.0,
            duration_ms: 6.0,
            noise_sd: 0.01,
            blank_end: 5,
            artifact_overlap: false,
            onset_at_blank: false,
            returned: true,
            post_artifact_baseline: false,
            initial_positive_mv: 0.0,
            larger_late_wave: None,
        }
    }

    /// A train of `role` with these amplitudes, at 3 Hz (50 Hz for `hfs`).
    pub fn train(role: TrainRole, amps: &[f64]) -> MeasuredTrain {
        let rate = if role == TrainRole::Hfs { 50.0 } else { 3.0 };
        MeasuredTrain {
            stimuli: (0..amps.len())
                .map(|k| k * 10_000 / rate as usize)
                .collect(),
            times: (0..amps.len()).map(|k| Some(k as f64 / rate)).collect(),
            rate_hz: Some(rate),
            role,
            role_source: RoleSource::OrderAndGaps,
            delay_s: None,
            measurements: amps.iter().map(|&a| measurement(a)).collect(),
            positions: (0..amps.len()).collect(),
            intensities: vec![None; amps.len()],
            clipped: vec![false; amps.len()],
            unmeasured: 0,
        }
    }

    /// A context of these trains at 10 kHz, negative polarity, nothing else
    /// known.
    pub fn context(cfg: &AnalysisConfig, trains: Vec<MeasuredTrain>) -> Context<'_> {
        Context {
            cfg,
            rate: SampleRate::new(10_000.0).expect("valid rate"),
            polarity: Polarity::Negative,
            trains,
            exercise: None,
            hum: None,
            roles_guessed: false,
            rate_unknown: false,
            protocol_mismatch: None,
        }
    }
}
