//! Response waveforms for plotting, next to the numbers of an [`Analysis`](super::Analysis).
//!
//! The [`Analysis`](super::Analysis) holds only figures. A report also needs the
//! signal each figure was read from, so
//! [`analyze_with_traces`](super::analyze_with_traces) runs the same pipeline
//! and keeps, for every measured response, the window the measurement saw:
//! oriented so that the main (negative) phase points **up** (the way EMG
//! displays draw it), with mains hum removed, and time counted from the
//! (sub-sample) stimulus. The measurement's markers (artifact end, onset,
//! negative peak, end of the negative phase, baseline) come with it, in the
//! same units, so a plot shows exactly what was measured.
//!
//! Windows are decimated to at most [`MAX_POINTS`] points by keeping the
//! minimum and maximum of each bucket, which preserves peaks and the stimulus
//! artifact that plain subsampling would cut.

use super::response::Measurement;

/// The largest number of points kept per response window.
pub const MAX_POINTS: usize = 1000;

/// One measured response: its waveform and markers.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseTrace {
    /// `(time after the stimulus in ms, signal in mV)` in time order. The
    /// signal is oriented (main phase up) and hum-free; at most [`MAX_POINTS`].
    pub points: Vec<(f64, f64)>,
    /// Where measurement started after the artifact, ms after the stimulus.
    pub blank_end_ms: f64,
    /// Onset (first departure from the baseline), ms after the stimulus.
    pub onset_ms: f64,
    /// Negative peak, ms after the stimulus.
    pub peak_ms: f64,
    /// Negative peak level, mV (oriented: baseline + amplitude).
    pub peak_mv: f64,
    /// End of the negative phase (return to the baseline), ms after the stimulus.
    pub phase_end_ms: f64,
    /// Baseline level, mV (oriented).
    pub baseline_mv: f64,
}

impl ResponseTrace {
    /// Build the trace of one window. `y` is the oriented window, `stim` the
    /// index of the stimulus sample in it, `frac` the sub-sample part of the
    /// stimulus time (samples), `dt_ms` the sample interval and `m` the
    /// measurement with times already relative to the sub-sample stimulus.
    pub fn new(y: &[f64], stim: usize, frac: f64, dt_ms: f64, m: &Measurement) -> Self {
        let t = |i: usize| (i as f64 - stim as f64 - frac) * dt_ms;
        ResponseTrace {
            points: decimate(y, MAX_POINTS)
                .into_iter()
                .map(|i| (t(i), y[i]))
                .collect(),
            blank_end_ms: (m.blank_end as f64 - frac) * dt_ms,
            onset_ms: m.onset * dt_ms,
            peak_ms: m.peak * dt_ms,
            peak_mv: m.baseline + m.amplitude_mv,
            phase_end_ms: m.phase_end * dt_ms,
            baseline_mv: m.baseline,
        }
    }
}

/// The waveforms of one train, in the order of its measured responses (the
/// order of `TrainOut::responses`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrainTraces {
    /// Train position in the recording, from 1 (as `TrainOut::index`).
    pub index: usize,
    /// One trace per measured response.
    pub responses: Vec<ResponseTrace>,
}

/// Indices of the samples to keep so that at most `max` remain: all of them
/// when they fit, else the minimum and the maximum of each of `max / 2`
/// equal buckets, in time order.
pub fn decimate(y: &[f64], max: usize) -> Vec<usize> {
    let n = y.len();
    if n <= max || max < 2 {
        return (0..n).collect();
    }
    let buckets = max / 2;
    let mut out = Vec::with_capacity(2 * buckets);
    for b in 0..buckets {
        let from = b * n / buckets;
        let to = ((b + 1) * n / buckets).max(from + 1).min(n);
        let (mut lo, mut hi) = (from, from);
        for i in from..to {
            if y[i] < y[lo] {
                lo = i;
            }
            if y[i] > y[hi] {
                hi = i;
            }
        }
        if lo == hi {
            out.push(lo);
        } else {
            out.push(lo.min(hi));
            out.push(lo.max(hi));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_windows_are_kept_whole() {
        let y: Vec<f64> = (0..10).map(|i| i as f64).collect();
        assert_eq!(decimate(&y, 1000), (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn decimation_bounds_the_size_and_keeps_the_extremes() {
        let mut y: Vec<f64> = (0..5000).map(|i| (i as f64 * 0.01).sin()).collect();
        y[1234] = 50.0;
        y[4321] = -50.0;
        let idx = decimate(&y, 1000);
        assert!(idx.len() <= 1000);
        assert!(idx.windows(2).all(|w| w[0] < w[1]));
        assert!(idx.contains(&1234));
        assert!(idx.contains(&4321));
    }
}
