//! Measurement of one CMAP.
//!
//! Input is a window of samples that starts a little before the stimulus and
//! ends before the next stimulus (or the end of the segment), already *oriented*
//! so that the main (negative) phase points up, with mains hum removed. The
//! method, in order:
//!
//! 1. **Artifact end.** The artifact is the run of steep samples (|slope| ≥ 30 %
//!    of the artifact's peak slope, or at a clipping rail) starting at the
//!    stimulus; it ends at the first pause of 0.3 ms. Measurement starts 0.15 ms
//!    after it, and never before `min_blank`. If it would start after
//!    `max_blank`, the artifact overlaps the response.
//! 2. **Pre-stimulus baseline**: 20 %-trimmed mean of the `pre_stimulus` span before the
//!    stimulus (fallback).
//! 3. **Negative peak**: maximum of the signal smoothed over 0.3 ms, searched
//!    from the artifact end to the window end; if the maximum sits at the very
//!    start (a decaying artifact tail), the search restarts after the tail's
//!    first trough. The peak value is refined by a least-squares parabola
//!    fitted to the unsmoothed samples over ±35 % of the rise time (0.5–1.5 ms), which removes most of the noise bias of
//!    taking a maximum.
//! 4. **Onset**: going back from the peak, the first point where the smoothed
//!    signal is within `max(3 × noise SD, 2 % of the amplitude)` of the baseline
//!    (linear interpolation between samples).
//! 5. **Baseline**: 20 %-trimmed mean of the samples between the artifact end and 0.2 ms
//!    before the onset, at most the last 1.5 ms of that span, where an
//!    artifact tail has decayed (isoelectric, after the artifact, primer §3), when that
//!    span holds at least 3 samples and 0.25 ms, else the pre-stimulus baseline.
//!    When both exist, the pre-stimulus span is quiet (no earlier response
//!    reaches into it) and they agree within the noise, they are pooled
//!    (weighted by their sample counts). Steps 3–4 are repeated once with it.
//! 6. **Amplitude** = peak − baseline; **negative phase end** = first crossing of
//!    the baseline after the peak; **duration** = onset to that crossing;
//!    **area** = trapezoidal integral of (signal − baseline) from onset to the
//!    crossing, mV·ms; **peak-to-peak** = peak − the following opposite extremum
//!    (parabola-refined) before the window end.

use crate::analysis::dsp::{moving_average, refine_extremum, robust_sd, trimmed_mean};
use crate::settings::config::MeasureSettings;
use crate::units::{Ms, SampleRate};

/// The figures of one response, in oriented units (main phase positive).
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// Baseline level used, mV (oriented).
    pub baseline: f64,
    /// Pre-stimulus baseline, mV (oriented).
    pub pre_baseline: f64,
    /// Onset, samples after the stimulus (fractional).
    pub onset: f64,
    /// Negative peak position, samples after the stimulus (fractional).
    pub peak: f64,
    /// End of the negative phase, samples after the stimulus (fractional).
    pub phase_end: f64,
    /// Baseline to negative peak, mV.
    pub amplitude_mv: f64,
    /// Negative peak to the following opposite peak, mV.
    pub peak_to_peak_mv: f64,
    /// Area of the negative phase, mV·ms.
    pub area_mv_ms: f64,
    /// Onset latency, ms.
    pub latency_ms: f64,
    /// Negative-phase duration, ms.
    pub duration_ms: f64,
    /// Noise SD of the pre-stimulus span, mV.
    pub noise_sd: f64,
    /// Where measurement started, samples after the stimulus.
    pub blank_end: usize,
    /// The artifact was still present at `max_blank`.
    pub artifact_overlap: bool,
    /// The signal had already left the baseline when measurement started.
    pub onset_at_blank: bool,
    /// The negative phase returned to baseline before the window end.
    pub returned: bool,
    /// The pre-onset (post-artifact) baseline was used rather than the pre-stimulus one.
    pub post_artifact_baseline: bool,
}

/// What the measurement needs to know about the signal around a window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowContext {
    /// Clipping levels in oriented units, if the signal clips.
    pub rails: Option<(f64, f64)>,
    /// A slope (mV/sample) that counts as steep regardless of the artifact
    /// (20 × the noise slope SD).
    pub steep_floor: f64,
    /// The pre-stimulus span is quiet (no earlier response reaches into it),
    /// so it may be pooled into the baseline. False inside high-rate trains,
    /// where it holds the previous response's tail.
    pub pre_quiet: bool,
}

/// Measure one response. `y` is the oriented window, `stim` the index of the
/// stimulus in it.
pub fn measure(
    y: &[f64],
    stim: usize,
    rate: SampleRate,
    settings: &MeasureSettings,
    ctx: WindowContext,
) -> Option<Measurement> {
    let WindowContext {
        rails,
        steep_floor,
        pre_quiet,
    } = ctx;
    let n = y.len();
    if stim + 4 >= n {
        return None;
    }
    let dt_ms = rate.dt_ms();
    let at_rail = |v: f64| rails.is_some_and(|(lo, hi)| v <= lo || v >= hi);

    // 1. Artifact end.
    let d = |i: usize| (y[i + 1] - y[i]).abs();
    let probe_end = (stim + rate.samples_in(Ms(0.6)).max(2)).min(n - 1);
    let art_peak = (stim..probe_end).map(d).fold(0.0, f64::max);
    let steep = (0.3 * art_peak).max(steep_floor);
    let pause = rate.samples_in(Ms(0.3)).max(2);
    let max_blank = (stim + rate.samples_in(settings.max_blank)).min(n - 2);
    let mut last_steep = stim;
    let mut i = stim;
    while i < max_blank && i < (last_steep + pause).max(probe_end) {
        if d(i) >= steep || at_rail(y[i]) || at_rail(y[i + 1]) {
            last_steep = i + 1;
        }
        i += 1;
    }
    let settle = rate.samples_in(Ms(0.15));
    let mut blank_end =
        (last_steep + settle).max(stim + rate.samples_in(settings.min_blank).max(1));
    let artifact_overlap = blank_end > max_blank;
    blank_end = blank_end.min(max_blank);
    if blank_end + 3 >= n {
        return None;
    }

    // 2. Pre-stimulus baseline and noise.
    let pre_len = rate.samples_in(settings.pre_stimulus).max(3);
    let pre_a = stim.saturating_sub(pre_len);
    let pre_b = stim.saturating_sub(rate.samples_in(Ms(0.1)));
    let pre: &[f64] = if pre_b > pre_a + 2 {
        &y[pre_a..pre_b]
    } else {
        &[]
    };
    let pre_baseline = if pre.is_empty() {
        y[blank_end]
    } else {
        trimmed_mean(pre)
    };
    let noise_sd = if pre.len() >= 5 { robust_sd(pre) } else { 0.0 };

    // Smoothed signal for peak picking and crossings (0.3 ms boxcar).
    let w = rate.samples_in(Ms(0.3)).max(1);
    let ys = moving_average(y, w);
    let smooth_noise = noise_sd / (w as f64).sqrt();

    // 3. Peak: located on a 1 ms smoothing (a location chosen on lightly
    // smoothed noise would pick noise crests and bias the fit upwards), then
    // refined on the raw samples.
    // Only samples after the blanking are smoothed: the artifact must not leak in.
    let yl = moving_average(&y[blank_end..], rate.samples_in(Ms(1.0)).max(3));
    let peak_idx = blank_end + find_peak(&yl, 0, n - blank_end);
    // First pass: ±1 ms (a CMAP's negative peak is broad, rise 2–5 ms).
    let h = rate.samples_in(Ms(1.0)).max(3);

    let onset_for = |base: f64, peak_val: f64, peak_i: usize| -> (f64, bool) {
        let delta = (3.0 * smooth_noise).max(0.02 * (peak_val - base).abs());
        let mut k = peak_i;
        while k > blank_end {
            if ys[k - 1] - base <= delta {
                // Interpolate between k-1 (below) and k (above).
                let (a, b) = (ys[k - 1] - base - delta, ys[k] - base - delta);
                let frac = if b > a {
                    (-a / (b - a)).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                return (k as f64 - 1.0 + frac, false);
            }
            k -= 1;
        }
        (blank_end as f64, true)
    };

    let (_, mut peak_val) = refine_extremum(y, peak_idx, h, true);
    let (mut onset, mut onset_at_blank) = onset_for(pre_baseline, peak_val, peak_idx);

    // 5. Post-artifact, pre-onset baseline.
    let gap_end = (onset - rate.samples_in(Ms(0.2)) as f64).floor();
    let min_span = rate.samples_in(Ms(0.25)).max(3);
    let (baseline, post_artifact_baseline) =
        if !onset_at_blank && gap_end > (blank_end + min_span) as f64 {
            // The last 1.5 ms before the onset: the artifact's tail has decayed there.
            let from = blank_end.max((gap_end as usize).saturating_sub(rate.samples_in(Ms(1.5))));
            let post = &y[from..gap_end as usize];
            let post_level = trimmed_mean(post);
            // Pool with the pre-stimulus level when the two agree within the
            // noise: more samples, less noise in every amplitude.
            let tol = 3.0
                * noise_sd
                * (1.0 / post.len() as f64 + 1.0 / pre.len().max(1) as f64).sqrt()
                * 1.25;
            if pre_quiet && !pre.is_empty() && (post_level - pre_baseline).abs() <= tol {
                let (np, nq) = (pre.len() as f64, post.len() as f64);
                ((pre_baseline * np + post_level * nq) / (np + nq), true)
            } else {
                (post_level, true)
            }
        } else {
            (pre_baseline, false)
        };
    // Final fit over 35 % of the rise time (0.5–1.5 ms): as wide as the
    // peak's curvature allows, to average the most noise without flattening it.
    let rise = (peak_idx as f64 - onset).max(0.0) * dt_ms;
    let h = rate.samples_in(Ms((0.35 * rise).clamp(0.5, 1.5))).max(2);
    let (peak_pos, pv) = refine_extremum(y, peak_idx, h, true);
    peak_val = pv;
    if post_artifact_baseline {
        let (o, at) = onset_for(baseline, peak_val, peak_idx);
        onset = o;
        onset_at_blank = at;
    }
    let amplitude = peak_val - baseline;

    // 6. Negative phase end.
    let mut k = peak_idx;
    let mut phase_end = (n - 1) as f64;
    let mut returned = false;
    while k + 1 < n {
        if ys[k + 1] - baseline <= 0.0 {
            let (a, b) = (ys[k] - baseline, ys[k + 1] - baseline);
            let frac = if a > b {
                (a / (a - b)).clamp(0.0, 1.0)
            } else {
                0.0
            };
            phase_end = k as f64 + frac;
            returned = true;
            break;
        }
        k += 1;
    }

    let area = integrate(y, baseline, onset, phase_end) * dt_ms;

    // Peak-to-peak: the opposite extremum after the phase end.
    let after = (phase_end.ceil() as usize).min(n - 1);
    let p2p = if returned && after + 1 < n {
        let min_i = (after..n)
            .min_by(|&a, &b| ys[a].total_cmp(&ys[b]))
            .unwrap_or(after);
        let (_, min_v) = refine_extremum(y, min_i, h, false);
        peak_val - min_v.min(baseline)
    } else {
        amplitude
    };

    Some(Measurement {
        baseline,
        pre_baseline,
        onset: onset - stim as f64,
        peak: peak_pos - stim as f64,
        phase_end: phase_end - stim as f64,
        amplitude_mv: amplitude,
        peak_to_peak_mv: p2p,
        area_mv_ms: area,
        latency_ms: (onset - stim as f64) * dt_ms,
        duration_ms: (phase_end - onset) * dt_ms,
        noise_sd,
        blank_end: blank_end - stim,
        artifact_overlap,
        onset_at_blank,
        returned,
        post_artifact_baseline,
    })
}

/// Index of the main peak of `ys` in `[from, to)`, skipping a decaying tail at the start.
fn find_peak(ys: &[f64], from: usize, to: usize) -> usize {
    let argmax = |a: usize| {
        (a..to)
            .max_by(|&i, &j| ys[i].total_cmp(&ys[j]))
            .unwrap_or(a)
    };
    let p = argmax(from);
    if p > from + 1 {
        return p;
    }
    // Falling from the start: skip to the first trough and search after it.
    let mut k = from;
    while k + 1 < to && ys[k + 1] <= ys[k] {
        k += 1;
    }
    if k + 1 >= to {
        return p;
    }
    argmax(k)
}

/// Trapezoidal integral of (y − base) over a fractional index span, in sample units.
fn integrate(y: &[f64], base: f64, from: f64, to: f64) -> f64 {
    if to <= from || y.is_empty() {
        return 0.0;
    }
    let at = |p: f64| {
        let i = (p.floor() as usize).min(y.len() - 1);
        let j = (i + 1).min(y.len() - 1);
        let f = p - i as f64;
        y[i] * (1.0 - f) + y[j] * f - base
    };
    let first = from.ceil();
    let last = to.floor();
    if first > last {
        return (at(from) + at(to)) / 2.0 * (to - from);
    }
    let mut sum = (at(from) + at(first)) / 2.0 * (first - from);
    let mut p = first;
    while p + 1.0 <= last {
        sum += (at(p) + at(p + 1.0)) / 2.0;
        p += 1.0;
    }
    sum += (at(last) + at(to)) / 2.0 * (to - last);
    sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    const CTX: WindowContext = WindowContext {
        rails: None,
        steep_floor: 1e-6,
        pre_quiet: true,
    };

    /// Oriented window: 5 ms pre-stimulus at 0, spike artifact, then a
    /// raised-cosine negative phase (positive here) of amplitude `a`, from
    /// onset 3 ms, peak at 6.5 ms, back to 0 at 9.5 ms, then a positive phase.
    fn window(fs: f64, a: f64) -> (Vec<f64>, usize) {
        let pre = (0.005 * fs) as usize;
        let n = pre + (0.03 * fs) as usize;
        let mut y = vec![0.0; n];
        y[pre] = 6.0;
        y[pre + 1] = -6.0;
        for (i, v) in y.iter_mut().enumerate().skip(pre + 2) {
            let t = (i - pre) as f64 / fs * 1000.0;
            let tau = t - 3.0;
            if (0.0..6.5).contains(&tau) {
                *v += a * (1.0 - (std::f64::consts::TAU * tau / 6.5).cos()) / 2.0;
            } else if (6.5..15.0).contains(&tau) {
                *v -= 0.4 * a * (1.0 - (std::f64::consts::TAU * (tau - 6.5) / 8.5).cos()) / 2.0;
            }
        }
        (y, pre)
    }

    #[test]
    fn measures_a_clean_cmap() {
        for fs in [5_000.0, 20_000.0, 50_000.0] {
            let (y, stim) = window(fs, 8.0);
            let rate = SampleRate::new(fs).unwrap();
            let m = measure(&y, stim, rate, &MeasureSettings::default(), CTX).unwrap();
            assert_relative_eq!(m.amplitude_mv, 8.0, max_relative = 0.005);
            // Area of a raised cosine over 6.5 ms: a/2 × 6.5.
            assert_relative_eq!(m.area_mv_ms, 8.0 / 2.0 * 6.5, max_relative = 0.01);
            assert_relative_eq!(m.peak_to_peak_mv, 8.0 * 1.4, max_relative = 0.01);
            assert!(
                (m.latency_ms - 3.0).abs() < 0.4,
                "latency {} at {fs}",
                m.latency_ms
            );
            assert!(
                (m.duration_ms - 6.5).abs() < 0.5,
                "duration {}",
                m.duration_ms
            );
            assert!(m.returned && !m.artifact_overlap && !m.onset_at_blank);
        }
    }

    #[test]
    fn measures_relative_to_offset_baseline() {
        let (mut y, stim) = window(20_000.0, 5.0);
        y.iter_mut().for_each(|v| *v += 3.0);
        let rate = SampleRate::new(20_000.0).unwrap();
        let m = measure(&y, stim, rate, &MeasureSettings::default(), CTX).unwrap();
        assert_relative_eq!(m.baseline, 3.0, epsilon = 1e-9);
        assert_relative_eq!(m.amplitude_mv, 5.0, max_relative = 0.005);
    }

    #[test]
    fn integrate_trapezoid() {
        let y = [0.0, 1.0, 2.0, 3.0];
        assert_relative_eq!(integrate(&y, 0.0, 0.0, 3.0), 4.5);
        assert_relative_eq!(integrate(&y, 0.0, 0.5, 1.5), 1.0);
        assert_relative_eq!(integrate(&y, 1.0, 1.0, 3.0), 2.0);
    }
}
