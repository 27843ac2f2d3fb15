//! Measurement of one CMAP.
//!
//! Input is a window of samples that starts a little before the stimulus (or
//! at it, for sweeps that start at the stimulus) and ends before the next
//! stimulus (or the end of the segment), already *oriented* so that the main
//! (negative) phase points up, with mains hum removed. Every span the method
//! uses scales with the response's own width, so a 0.8 ms rodent M-wave is
//! measured as faithfully as a 6 ms human CMAP. The method, in order:
//!
//! 1. **Artifact end.** The artifact is the run of steep samples (|slope| ≥ 30 %
//!    of the artifact's peak slope, or at a clipping rail) starting at the
//!    stimulus; it ends at the first pause of 0.3 ms. A run of identical
//!    samples from the stimulus (a blanked artifact, as amplifiers export it)
//!    ends there too, with the step that follows it. Measurement starts 0.15 ms
//!    after it, and never before `min_blank`. If it would start after
//!    `max_blank`, the artifact overlaps the response.
//! 2. **Pre-stimulus level**: 20 %-trimmed mean of the `pre_stimulus` span
//!    before the stimulus, when the window has one (sweeps that start at the
//!    stimulus have none).
//! 3. **Negative peak**, on the signal smoothed over 0.3 ms, or a third of
//!    the phase's half-height width when that is less: in the M-wave's span
//!    (the recording's M-wave latency and width, from
//!    [`measure`](super::measure), or the user's `--window-ms`) the most
//!    prominent local maximum, so an H-reflex or F-wave later in the window,
//!    or a wiggle on its flank, is never taken for the M-wave; without a
//!    span the maximum after the artifact (if it sits at the very start, a
//!    decaying artifact tail, the search restarts after the tail's first
//!    trough). A broad peak is then located on a smoothing of a third of
//!    its width (at most 1 ms; a light smoothing settles on the noise crests
//!    of a flat top), and a raw sample within half the smoothing that stands
//!    3 × the noise above the smoothed peak takes it (the deeper trough of a
//!    bifid phase, which smoothing would blur). A deeper trough of the same
//!    phase past a notch (its own trough, the notch 3 × the smoothed noise
//!    below the peak) takes the peak when the notch stays above half the
//!    deeper trough's height: one bifid wave, measured at its deeper trough.
//!    A deeper valley parts two waves; the first is the M-wave, and the
//!    second, if larger, is a late wave (`larger_late_wave`).
//! 4. **Onset**: going back from the peak, the first point where the smoothed
//!    signal is within `max(3 × noise SD, 2 % of the amplitude)` of the
//!    baseline (linear interpolation between samples). When the negative phase
//!    is preceded by an **initial positive deflection** (deeper than
//!    `max(5 × noise, 5 % of the amplitude)` below the baseline in oriented
//!    units: the active electrode off the motor point), the onset is where
//!    that deflection leaves the baseline, and its size is kept.
//! 5. **Baseline**: 20 %-trimmed mean of the isoelectric samples between the
//!    artifact end and the onset (less 0.2 ms, or a fifth of the rise if
//!    shorter), at most the last 1.5 ms of that span, where an artifact tail
//!    has decayed (primer §3), when that span holds at least 3 samples (and
//!    0.25 ms when there is a pre-stimulus level to fall back on), else the
//!    pre-stimulus level. When both exist, the pre-stimulus
//!    span is quiet (no earlier response reaches into it) and they agree
//!    within the noise, they are pooled (weighted by their sample counts).
//!    Steps 4–5 are repeated once with it. When the pre-stimulus level finds
//!    no such span (the level can step at the stimulus: amplifier recovery,
//!    a DC offset), the level just after the artifact is tried, and kept when
//!    the span it finds is flat (its line moves by at most max(5 × noise,
//!    5 % of the amplitude); a decaying artifact tail moves by tens of noise
//!    SDs) or, finding none, when the first 0.3 ms after the artifact are
//!    flat within 5 × noise.
//! 6. **Amplitude** = peak − baseline, the peak refined by a least-squares
//!    parabola through the unsmoothed samples over ±35 % of the half-height
//!    width, narrowed to ±20 % while the fit misses the samples by more than
//!    twice the noise (at least ±1 sample, at most ±1.5 ms): as wide as
//!    averages the noise, as narrow as a sharp, asymmetric rodent peak
//!    needs. **Negative phase**: from the onset (after
//!    an initial positive deflection, from the baseline crossing that ends
//!    it) to the first crossing of the baseline after the peak; **duration**
//!    is its length; **area** = trapezoidal integral of (signal − baseline)
//!    over it, mV·ms; **peak-to-peak** = peak − the following opposite
//!    extremum (parabola-refined) before the window end.
//!
//! The noise SD is the pre-stimulus span's, or, without one, that of the
//! isoelectric span after the artifact (from its sample differences, so a
//! slow drift does not count as noise).

use crate::analysis::dsp::{
    fit_parabola, median, moving_average, refine_extremum, robust_sd, trimmed_mean,
};
use crate::settings::config::MeasureSettings;
use crate::units::{Ms, SampleRate};

/// The figures of one response, in oriented units (main phase positive).
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// Baseline level used, mV (oriented).
    pub baseline: f64,
    /// Pre-stimulus level, mV (oriented), when the window has a pre-stimulus
    /// span.
    pub pre_baseline: Option<f64>,
    /// Onset, samples after the stimulus (fractional): the first departure
    /// from the baseline (of the initial positive deflection, when there is
    /// one).
    pub onset: f64,
    /// Start of the negative phase, samples after the stimulus (fractional):
    /// the onset, or the baseline crossing after an initial positive
    /// deflection.
    pub phase_start: f64,
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
    /// Size of the initial positive deflection before the negative phase, mV
    /// (0 when there is none).
    pub initial_positive_mv: f64,
    /// Noise SD, mV (0 when no span could tell it).
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
    /// The largest deflection of the window lies outside the M-wave's span,
    /// and is larger than the M-wave: a late wave (H-reflex, F-wave), at
    /// this many samples after the stimulus.
    pub larger_late_wave: Option<f64>,
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
    /// The M-wave's span, samples after the stimulus `[from, to)`: the peak is
    /// sought there only. `None`: anywhere after the artifact.
    pub span: Option<(usize, usize)>,
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
    let n = y.len();
    if stim + 4 >= n {
        return None;
    }
    let dt_ms = rate.dt_ms();
    let (blank_end, mut artifact_overlap) = artifact_end(y, stim, rate, settings, &ctx);
    if blank_end + 3 >= n {
        return None;
    }
    let pre = pre_span(y, stim, rate, settings);
    let frame = Frame {
        y,
        rate,
        blank_end,
        pre_level: (pre.len() >= 3).then(|| trimmed_mean(pre)),
        pre_len: pre.len(),
        pre_noise: (pre.len() >= 5).then(|| robust_sd(pre)),
        pre_quiet: ctx.pre_quiet,
    };

    let (lo, hi, swallowed) = peak_span(ctx.span, stim, blank_end, n);
    artifact_overlap |= swallowed;
    let early =
        &y[blank_end..(blank_end + rate.samples_in(Ms(0.3)).max(3)).min(lo.max(blank_end + 1))];
    let early_level = median(early);
    let start = frame.pre_level.unwrap_or(early_level);
    let start_noise = frame.pre_noise.unwrap_or(0.0);
    let peak = locate_peak(&frame, (lo, hi), start, start_noise, ctx.span.is_some());
    let settled = settle_baseline(&frame, &peak, start, start_noise, early_level);
    let (base, noise) = (settled.level, settled.noise);
    let (ys, w) = (&peak.ys, peak.w);
    let smooth_noise = noise / (w as f64).sqrt();
    let first = onset_of(ys, peak.idx, base, blank_end, smooth_noise);
    // The deepest trough of the negative phase that holds the peak: the span
    // is bounded by the first trough's width, which the notch of a bifid
    // phase cuts short, so a deeper second trough can lie past it.
    let peak_idx = deepest_in_phase(ys, peak.idx, base, first.phase_start, smooth_noise);
    let shape = if peak_idx == peak.idx {
        first
    } else {
        onset_of(ys, peak_idx, base, blank_end, smooth_noise)
    };

    // Refine the peak by a parabola: as wide as the peak is a parabola (to
    // average the most noise), as narrow as a sharp or asymmetric one needs.
    let half = half_width(ys, peak_idx, base, blank_end, smooth_noise);
    let h = fit_span(y, peak_idx, half, noise, rate);
    let (peak_pos, peak_val) = refine_extremum(y, peak_idx, h, true);

    let amplitude = peak_val - base;

    // Negative phase end: the first crossing of the baseline after the peak.
    let (phase_end, returned) = crossing_after(ys, peak_idx, base);
    let area = integrate(y, base, shape.phase_start, phase_end) * dt_ms;

    let p2p = if returned {
        peak_to_peak(y, ys, phase_end, h, peak_val, base).unwrap_or(amplitude)
    } else {
        amplitude
    };

    // A larger wave after the M-wave's span, once the M-wave has fallen
    // below half its height (a late wave).
    let below_half = (peak_idx..n)
        .find(|&i| ys[i] - base < 0.5 * (ys[peak_idx] - base))
        .unwrap_or(n);
    let larger_late_wave = ctx
        .span
        .and_then(|_| larger_wave_after(ys, hi.max(below_half), peak_idx, base, smooth_noise))
        .map(|i| i as f64 - stim as f64);

    let s = stim as f64;
    Some(Measurement {
        baseline: base,
        pre_baseline: frame.pre_level,
        onset: shape.onset - s,
        phase_start: shape.phase_start - s,
        peak: peak_pos - s,
        phase_end: phase_end - s,
        amplitude_mv: amplitude,
        peak_to_peak_mv: p2p,
        area_mv_ms: area,
        latency_ms: (shape.onset - s) * dt_ms,
        duration_ms: (phase_end - shape.phase_start) * dt_ms,
        initial_positive_mv: shape.initial_positive,
        noise_sd: noise,
        blank_end: blank_end - stim,
        artifact_overlap,
        onset_at_blank: shape.at_blank,
        returned,
        post_artifact_baseline: settled.post_artifact,
        larger_late_wave,
    })
}

/// The span the peak is sought in, `[lo, hi)` samples, and whether the
/// artifact swallowed the M-wave's span `span` (samples after the stimulus
/// `stim`): the whole window after the artifact (`blank_end`..`n`) when
/// there is no span or nothing of it is left after the artifact. An
/// artifact that outlasts the M-wave's span overlaps the response; a span
/// past the window's end (a window cut short by the next stimulus) is no
/// overlap.
fn peak_span(
    span: Option<(usize, usize)>,
    stim: usize,
    blank_end: usize,
    n: usize,
) -> (usize, usize, bool) {
    let Some((a, b)) = span else {
        return (blank_end, n, false);
    };
    let (lo, hi) = ((stim + a).max(blank_end), (stim + b).min(n));
    if hi > lo + 1 {
        (lo, hi, false)
    } else {
        (blank_end, n, stim + a + 1 < n && blank_end + 1 >= hi)
    }
}

/// Peak-to-peak from the negative peak `peak_val` (refined, on the raw `y`)
/// to the opposite extremum after the phase end `phase_end` (located on the
/// smoothed `ys`, refined over ±`h`), never less than the amplitude from
/// `base`; `None` when no sample follows the phase.
fn peak_to_peak(
    y: &[f64],
    ys: &[f64],
    phase_end: f64,
    h: usize,
    peak_val: f64,
    base: f64,
) -> Option<f64> {
    let n = y.len();
    let after = (phase_end.ceil() as usize).min(n - 1);
    (after + 1 < n).then_some(())?;
    let min_i = (after..n)
        .min_by(|&a, &b| ys[a].total_cmp(&ys[b]))
        .unwrap_or(after);
    let (_, min_v) = refine_extremum(y, min_i, h, false);
    Some(peak_val - min_v.min(base))
}

/// The deepest trough of the phase whose peak is `peak` (on `ys`, against
/// `base`): `peak` unless another trough, parted from it by a notch
/// (3 × the smoothed noise deep), stands more than 3 × the smoothed noise
/// higher within the span around it where the signal stays above half the
/// peak's height (after `phase_start`), and the notch between the two stays
/// above half the deeper one's height. The two troughs of a bifid phase are
/// one wave at half height, whose amplitude is the deeper; a deeper valley
/// parts two waves (a later wave merging with a small M-wave), and the first
/// is the M-wave.
fn deepest_in_phase(
    ys: &[f64],
    peak: usize,
    base: f64,
    phase_start: f64,
    smooth_noise: f64,
) -> usize {
    let half = base + 0.5 * (ys[peak] - base);
    let from = (phase_start.ceil().max(0.0) as usize).min(peak);
    let a = (from..peak)
        .rev()
        .find(|&i| ys[i] < half)
        .map_or(from, |i| i + 1);
    let b = (peak..ys.len()).find(|&i| ys[i] < half).unwrap_or(ys.len());
    let Some(deepest) = (a..b).max_by(|&i, &j| ys[i].total_cmp(&ys[j])) else {
        return peak;
    };
    let (l, r) = (peak.min(deepest), peak.max(deepest));
    let notch = ys[l..=r].iter().fold(f64::INFINITY, |m, &v| m.min(v));
    let one_wave = notch - base >= 0.5 * (ys[deepest] - base);
    // A trough of its own: a notch (3 × the noise) below the peak parts them;
    // without one the peak was a raw crest on the same hump.
    let own_trough = ys[peak] - notch > 3.0 * smooth_noise;
    if one_wave && own_trough && ys[deepest] - ys[peak] > 3.0 * smooth_noise {
        deepest
    } else {
        peak
    }
}

/// The largest point of `ys` from `from` on when it is larger than the
/// M-wave's peak (at `peak`) and stands 5 × the smoothed noise above `base`.
fn larger_wave_after(
    ys: &[f64],
    from: usize,
    peak: usize,
    base: f64,
    smooth_noise: f64,
) -> Option<usize> {
    let (i, v) = (from..ys.len())
        .map(|i| (i, ys[i]))
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    (v > ys[peak] && v - base > 5.0 * smooth_noise).then_some(i)
}

/// What the stages of [`measure`] share about one window.
struct Frame<'y> {
    /// The oriented window.
    y: &'y [f64],
    rate: SampleRate,
    /// Where measurement starts (step 1).
    blank_end: usize,
    /// The pre-stimulus level, when the window has a pre-stimulus span.
    pre_level: Option<f64>,
    /// Samples in the pre-stimulus span.
    pre_len: usize,
    /// The pre-stimulus span's noise SD, when it has enough samples.
    pre_noise: Option<f64>,
    /// The pre-stimulus span may be pooled into the baseline.
    pre_quiet: bool,
}

/// The negative peak as step 3 locates it: its index, on the window
/// smoothed over `w` samples (`ys`).
struct Peak {
    ys: Vec<f64>,
    w: usize,
    idx: usize,
}

/// Step 3: locate the negative peak in `[lo, hi)` against the level `base`
/// with noise SD `noise`; `in_span`: the span is the M-wave's, so the most
/// prominent peak in it is taken rather than the largest.
fn locate_peak(f: &Frame, (lo, hi): (usize, usize), base: f64, noise: f64, in_span: bool) -> Peak {
    let (y, rate, blank_end) = (f.y, f.rate, f.blank_end);
    let w0 = rate.samples_in(Ms(0.3)).max(1);
    let mut ys = smoothed(y, blank_end, w0);
    let mut w = w0;
    let pick = |ys: &[f64]| {
        if in_span {
            most_prominent(ys, lo, hi, blank_end).unwrap_or_else(|| find_peak(ys, lo, hi))
        } else {
            find_peak(ys, lo, hi)
        }
    };
    let mut idx = pick(&ys);
    // Narrow responses: smooth over a third of the half-height width at most.
    let half = half_width(&ys, idx, base, blank_end, noise / (w0 as f64).sqrt());
    if (half / 3.0) < w as f64 && w > 1 {
        w = ((half / 3.0).floor() as usize).max(1);
        ys = smoothed(y, blank_end, w);
        idx = pick(&ys);
    }
    // Broad responses: locate the peak on a smoothing of a third of the width
    // (at most 1 ms): the top of a broad CMAP is flat enough that a light
    // smoothing settles on noise crests.
    let w_loc = ((half / 3.0).floor() as usize).min(rate.samples_in(Ms(1.0)));
    if w_loc > w {
        let yl = smoothed(y, blank_end, w_loc);
        let near = (idx.saturating_sub(w_loc).max(lo)..(idx + w_loc + 1).min(hi))
            .max_by(|&i, &j| yl[i].total_cmp(&yl[j]));
        idx = near.unwrap_or(idx);
    }
    // Smoothing finds the peak among the noise, but between the two troughs
    // of a bifid phase it can settle on neither: when a raw sample within its
    // reach stands clearly (3 × the noise) above the smoothed peak, the peak
    // is there.
    let reach = w / 2;
    if let Some(raw) = (idx.saturating_sub(reach).max(lo)..(idx + reach + 1).min(hi))
        .max_by(|&i, &j| y[i].total_cmp(&y[j]))
    {
        if y[raw] - ys[idx] > 3.0 * noise && noise > 0.0 {
            idx = raw;
        }
    }
    Peak { ys, w, idx }
}

/// The baseline as step 5 settles it.
#[derive(Debug, Clone, Copy)]
struct Settled {
    level: f64,
    /// The level came from the isoelectric span after the artifact.
    post_artifact: bool,
    noise: f64,
    /// The signal had left the level where measurement starts.
    at_blank: bool,
    /// How far the isoelectric span's line moves across it, mV.
    trend: f64,
}

/// Step 5: the baseline, from the pre-stimulus level (`start`, noise SD
/// `noise`); failing that (the level can step at the stimulus: amplifier
/// recovery, a DC offset), from the level just after the artifact
/// (`early_level`).
fn settle_baseline(f: &Frame, peak: &Peak, start: f64, noise: f64, early_level: f64) -> Settled {
    let from_start = settle_from(f, peak, start, noise);
    if from_start.post_artifact || f.pre_level.is_none() {
        return from_start;
    }
    let after = settle_from(f, peak, early_level, noise);
    // The level after the artifact when it finds the isoelectric span the
    // pre-stimulus level could not: one whose line moves by at most
    // max(5 × noise, 5 % of the response) (a decaying artifact tail moves by
    // tens of noise SDs, and leaves no such span). Without such a span (the
    // response starts right after the artifact), the first samples after the
    // artifact must be flat within 5 × noise.
    let amp = (peak.ys[peak.idx] - after.level).abs();
    let early_end = (f.blank_end + f.rate.samples_in(Ms(0.3)).max(3)).min(peak.idx);
    let flat = if after.post_artifact {
        after.trend.abs() <= (5.0 * after.noise).max(0.05 * amp)
    } else {
        !after.at_blank
            && early_end > f.blank_end + 2
            && trend_across(&f.y[f.blank_end..early_end]).abs() <= 5.0 * after.noise
    };
    if flat {
        after
    } else {
        from_start
    }
}

/// The baseline settled from the level `start` in two rounds (onset, then
/// the isoelectric span before it); a start whose span before the onset is
/// too short (or that finds no onset) keeps its own level.
fn settle_from(f: &Frame, peak: &Peak, start: f64, mut noise: f64) -> Settled {
    let mut out = Settled {
        level: start,
        post_artifact: false,
        noise,
        at_blank: false,
        trend: 0.0,
    };
    for _ in 0..2 {
        let smooth_noise = noise / (peak.w as f64).sqrt();
        let shape = onset_of(&peak.ys, peak.idx, out.level, f.blank_end, smooth_noise);
        out.at_blank = shape.at_blank;
        let pre = f.pre_level.map(|l| (l, f.pre_len));
        match isoelectric(
            f.y,
            f.blank_end,
            &shape,
            peak.idx,
            f.rate,
            pre,
            f.pre_noise,
            f.pre_quiet,
        ) {
            Some(iso) => {
                out.level = iso.level;
                out.post_artifact = true;
                out.trend = iso.trend;
                if f.pre_noise.is_none() {
                    noise = iso.noise.unwrap_or(noise);
                }
            }
            None => {
                out.level = start;
                out.post_artifact = false;
                out.trend = 0.0;
            }
        }
    }
    out.noise = noise;
    out
}

/// The half-span of the parabola that refines the peak at `peak` of
/// half-height width `half` (samples): ±35 % of the width, the widest at
/// which a parabola still follows a CMAP's rounded peak, narrowed in steps
/// to ±20 % while the fit misses the samples by more than twice the noise
/// (a sharp or asymmetric peak, as rodent M-waves have). At least ±1
/// sample, at most ±1.5 ms; without a noise figure, the narrowest.
fn fit_span(y: &[f64], peak: usize, half: f64, noise: f64, rate: SampleRate) -> usize {
    let cap = rate.samples_in(Ms(1.5)).max(1);
    let at = |f: f64| ((f * half).round() as usize).clamp(1, cap);
    let (wide, narrow) = (at(0.35), at(0.2));
    if noise <= 0.0 {
        return narrow;
    }
    (narrow..=wide)
        .rev()
        .find(|&h| fit_parabola(y, peak, h).is_some_and(|(_, rms)| rms <= 2.0 * noise))
        .unwrap_or(narrow)
}

/// `y` smoothed over `w` samples from `from` on (the artifact before it
/// must not leak in); the samples before `from` as they are.
fn smoothed(y: &[f64], from: usize, w: usize) -> Vec<f64> {
    let mut out = y[..from].to_vec();
    out.extend(moving_average(&y[from..], w));
    out
}

/// The earliest substantial response component of a window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Component {
    /// Its peak, samples after the stimulus.
    pub peak: f64,
    /// Its half-height width (bounded by the valleys beside it), samples.
    pub width: f64,
    /// The window's largest deflection above the baseline, mV.
    pub top: f64,
}

/// The earliest substantial response component of a window, found
/// as [`measure`] finds its peak but without a span. Substantial: a local
/// maximum of the smoothed signal at least a quarter of the window's largest
/// deflection and 5 × the smoothed signal's noise (the pre-stimulus SD over
/// √ the smoothing length) above the baseline. The pipeline takes the
/// recording's M-wave span from these ([`measure`](super::measure)): the
/// M-wave is the first response after the stimulus, an H-reflex or F-wave
/// comes later.
pub fn first_component(
    y: &[f64],
    stim: usize,
    rate: SampleRate,
    settings: &MeasureSettings,
    ctx: WindowContext,
) -> Option<Component> {
    let n = y.len();
    if stim + 4 >= n {
        return None;
    }
    let (blank_end, _) = artifact_end(y, stim, rate, settings, &ctx);
    if blank_end + 3 >= n {
        return None;
    }
    let pre = pre_span(y, stim, rate, settings);
    let early_end = (blank_end + rate.samples_in(Ms(0.3)).max(3)).min(n);
    let base = if pre.len() >= 3 {
        trimmed_mean(pre)
    } else {
        median(&y[blank_end..early_end])
    };
    let noise = if pre.len() >= 5 { robust_sd(pre) } else { 0.0 };
    let w = rate.samples_in(Ms(0.3)).max(1);
    let ys = smoothed(y, blank_end, w);
    let top = ys[blank_end..]
        .iter()
        .fold(f64::NEG_INFINITY, |m, &v| m.max(v))
        - base;
    let floor = (0.25 * top).max(5.0 * noise / (w as f64).sqrt());
    let i = (blank_end + 1..n - 1)
        .find(|&i| ys[i] - base >= floor && ys[i] > ys[i - 1] && ys[i] >= ys[i + 1])?;
    Some(Component {
        peak: (i - stim) as f64,
        width: half_width(&ys, i, base, blank_end, noise / (w as f64).sqrt()),
        top,
    })
}

/// Step 1: where measurement starts (the artifact's end plus 0.15 ms), and
/// whether the artifact was still present at `max_blank`.
fn artifact_end(
    y: &[f64],
    stim: usize,
    rate: SampleRate,
    settings: &MeasureSettings,
    ctx: &WindowContext,
) -> (usize, bool) {
    let n = y.len();
    let at_rail = |v: f64| ctx.rails.is_some_and(|(lo, hi)| v <= lo || v >= hi);
    let d = |i: usize| (y[i + 1] - y[i]).abs();
    let probe_end = (stim + rate.samples_in(Ms(0.6)).max(2)).min(n - 1);
    let art_peak = (stim..probe_end).map(d).fold(0.0, f64::max);
    let steep = (0.3 * art_peak).max(ctx.steep_floor);
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
    // A blanked artifact: identical samples from the stimulus on, then the
    // step back to the signal (which belongs to the blanking, not the
    // signal). Not when the samples before the stimulus hold the same value:
    // that is a silent (noiseless) signal, not a blanking.
    let flat = y[stim..max_blank]
        .iter()
        .take_while(|&&v| v == y[stim])
        .count();
    let silent_before = stim >= 3 && y[stim - 3..stim].iter().all(|&v| v == y[stim]);
    if flat >= 3 && !silent_before {
        last_steep = last_steep.max(stim + flat + 1);
    }
    let settle = rate.samples_in(Ms(0.15));
    let blank_end = (last_steep + settle).max(stim + rate.samples_in(settings.min_blank).max(1));
    (blank_end.min(max_blank), blank_end > max_blank)
}

/// Step 2: the pre-stimulus span (ending 0.1 ms before the stimulus), empty
/// when the window starts at the stimulus.
fn pre_span<'y>(
    y: &'y [f64],
    stim: usize,
    rate: SampleRate,
    settings: &MeasureSettings,
) -> &'y [f64] {
    let pre_len = rate.samples_in(settings.pre_stimulus).max(3);
    let a = stim.saturating_sub(pre_len);
    let b = stim.saturating_sub(rate.samples_in(Ms(0.1)));
    if b > a + 2 {
        &y[a..b]
    } else {
        &[]
    }
}

/// Where the response starts, on the smoothed signal.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Shape {
    /// First departure from the baseline (fractional index).
    onset: f64,
    /// Start of the negative phase (the onset, or the baseline crossing
    /// after an initial positive deflection).
    phase_start: f64,
    /// Depth of the initial positive deflection below the baseline
    /// (oriented), mV; 0 when none.
    initial_positive: f64,
    /// The signal had left the baseline already where measurement starts.
    at_blank: bool,
}

/// Step 4: the onset of the response whose peak is at `peak`, against
/// `base`, with the initial positive deflection if there is one.
fn onset_of(ys: &[f64], peak: usize, base: f64, blank_end: usize, smooth_noise: f64) -> Shape {
    let amp = (ys[peak] - base).abs();
    let delta = (3.0 * smooth_noise).max(0.02 * amp);
    // Back from the peak to the band around the baseline.
    let Some(k) = (blank_end + 1..=peak)
        .rev()
        .find(|&k| ys[k - 1] - base <= delta)
    else {
        return Shape {
            onset: blank_end as f64,
            phase_start: blank_end as f64,
            initial_positive: 0.0,
            at_blank: true,
        };
    };
    let onset_at = |k: usize, level: f64| -> f64 {
        // Interpolate between k − 1 (inside the band) and k (outside).
        let (a, b) = ((ys[k - 1] - level).abs(), (ys[k] - level).abs());
        let frac = if a + b > 0.0 {
            (a / (a + b)).clamp(0.0, 1.0)
        } else {
            0.0
        };
        k as f64 - 1.0 + frac
    };
    let phase_onset = onset_at(k, base + delta);
    // An initial positive deflection: the signal below the band just before
    // (after at most a few samples of crossing inside the band).
    let dip_limit = (5.0 * smooth_noise).max(0.05 * amp);
    let mut j = k - 1;
    let cross_max = ((peak - k) / 4).max(2);
    while j > blank_end && j + cross_max > k - 1 && (ys[j] - base).abs() <= delta {
        j -= 1;
    }
    let dip_end = j;
    let mut deepest = 0.0f64;
    while j > blank_end && ys[j] - base < -delta {
        deepest = deepest.max(base - ys[j]);
        j -= 1;
    }
    if deepest > dip_limit && j < dip_end {
        // The phase starts where the signal crosses the baseline upwards.
        let c = (j + 1..k)
            .find(|&i| ys[i] - base < 0.0 && ys[i + 1] - base >= 0.0)
            .map_or(phase_onset, |i| {
                let (a, b) = (ys[i] - base, ys[i + 1] - base);
                i as f64 + (-a / (b - a)).clamp(0.0, 1.0)
            });
        let at_blank = j <= blank_end;
        let onset = if at_blank {
            blank_end as f64
        } else {
            onset_at(j + 1, base - delta)
        };
        return Shape {
            onset,
            phase_start: c,
            initial_positive: deepest,
            at_blank,
        };
    }
    Shape {
        onset: phase_onset,
        phase_start: phase_onset,
        initial_positive: 0.0,
        at_blank: false,
    }
}

/// Step 5: the isoelectric level before the response, the noise SD of its
/// span (from the differences) when it is long enough, and its trend; `None` when the
/// span between the artifact and the onset is too short (the caller keeps
/// the level it started from).
#[allow(clippy::too_many_arguments)]
fn isoelectric(
    y: &[f64],
    blank_end: usize,
    shape: &Shape,
    peak: usize,
    rate: SampleRate,
    pre: Option<(f64, usize)>,
    pre_noise: Option<f64>,
    pre_quiet: bool,
) -> Option<Iso> {
    if shape.at_blank {
        return None;
    }
    let rise = (peak as f64 - shape.onset).max(0.0);
    let gap = (rate.samples_in(Ms(0.2)) as f64).min(0.2 * rise).max(1.0);
    let gap_end = (shape.onset - gap).floor();
    // At least 3 samples (rodent M-waves leave well under a millisecond
    // between the artifact and the onset), or 0.25 ms when the pre-stimulus
    // level is there to fall back on.
    let min_span = if pre.is_some() {
        rate.samples_in(Ms(0.25)).max(3)
    } else {
        3
    };
    if gap_end < (blank_end + min_span) as f64 {
        return None;
    }
    // The last 1.5 ms before the onset: the artifact's tail has decayed there.
    let to = gap_end as usize;
    let from = blank_end.max(to.saturating_sub(rate.samples_in(Ms(1.5))));
    let span = &y[from..to];
    let level = trimmed_mean(span);
    let iso_noise = (span.len() >= 5).then(|| {
        let d: Vec<f64> = span.windows(2).map(|w| w[1] - w[0]).collect();
        robust_sd(&d) / std::f64::consts::SQRT_2
    });
    let trend = trend_across(span);
    // Pool with the pre-stimulus level when the two agree within the
    // noise: more samples, less noise in every amplitude.
    if let (Some((pl, np)), true) = (pre, pre_quiet) {
        let noise = pre_noise.unwrap_or(0.0);
        let tol = 3.0 * noise * (1.0 / span.len() as f64 + 1.0 / np.max(1) as f64).sqrt() * 1.25;
        if (level - pl).abs() <= tol {
            let (np, nq) = (np as f64, span.len() as f64);
            return Some(Iso {
                level: (pl * np + level * nq) / (np + nq),
                noise: iso_noise,
                trend,
            });
        }
    }
    Some(Iso {
        level,
        noise: iso_noise,
        trend,
    })
}

/// An isoelectric span's figures.
struct Iso {
    /// Its level (pooled with the pre-stimulus one when they agree).
    level: f64,
    /// Its noise SD, from the differences (≥ 5 samples).
    noise: Option<f64>,
    /// How much its least-squares line changes across it.
    trend: f64,
}

/// The change of the least-squares line through `v` from its first sample
/// to its last (0 for fewer than 2).
fn trend_across(v: &[f64]) -> f64 {
    let n = v.len() as f64;
    if v.len() < 2 {
        return 0.0;
    }
    let mx = (n - 1.0) / 2.0;
    let my = v.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, &y) in v.iter().enumerate() {
        let dx = i as f64 - mx;
        sxy += dx * (y - my);
        sxx += dx * dx;
    }
    sxy / sxx * (n - 1.0)
}

/// The half-height width of the peak at `peak` above `base`, in samples,
/// on the smoothed signal (at least 1): between the crossings of half its
/// height, or the valleys that separate it from its neighbours (a bifid
/// trough, a merged later wave), whichever is nearer. A valley counts when
/// the signal rises out of it by more than `max(3 × smooth_noise, 10 % of
/// the height)`: noise wiggles on a broad peak do not.
fn half_width(ys: &[f64], peak: usize, base: f64, from: usize, smooth_noise: f64) -> f64 {
    let height = ys[peak] - base;
    let half = base + height / 2.0;
    let rise = (3.0 * smooth_noise).max(0.1 * height);
    let reach = |step: &dyn Fn(usize) -> Option<usize>| -> usize {
        let (mut i, mut low_i, mut low) = (peak, peak, ys[peak]);
        while let Some(j) = step(i) {
            if ys[j] < half || ys[j] > low + rise {
                break;
            }
            i = j;
            if ys[j] < low {
                (low, low_i) = (ys[j], j);
            }
        }
        // Stopped at a valley: the width ends at its bottom.
        if step(i).is_some_and(|j| ys[j] >= half) {
            low_i
        } else {
            i
        }
    };
    let l = reach(&|i| (i > from).then(|| i - 1));
    let r = reach(&|i| (i + 1 < ys.len()).then_some(i + 1));
    ((r - l) as f64).max(1.0)
}

/// The first crossing of `base` after `peak` (fractional), and whether there
/// was one before the window end.
fn crossing_after(ys: &[f64], peak: usize, base: f64) -> (f64, bool) {
    let n = ys.len();
    for k in peak..n - 1 {
        if ys[k + 1] - base <= 0.0 {
            let (a, b) = (ys[k] - base, ys[k + 1] - base);
            let frac = if a > b {
                (a / (a - b)).clamp(0.0, 1.0)
            } else {
                0.0
            };
            return (k as f64 + frac, true);
        }
    }
    ((n - 1) as f64, false)
}

/// The most prominent local maximum of `ys` strictly inside `[from, to)` (a
/// sample above its left neighbour and not below its right one), its
/// prominence measured over `[floor, len)`: its height above the higher of
/// the lowest points between it and higher ground on either side. In the
/// M-wave's span this is the M-wave's peak (of a bifid phase, the deeper
/// trough), never a wiggle on the flank of a later wave that rises past the
/// span's end.
fn most_prominent(ys: &[f64], from: usize, to: usize, floor: usize) -> Option<usize> {
    let n = ys.len();
    let prominence = |i: usize| {
        let side = |range: &mut dyn Iterator<Item = usize>| {
            let mut low = ys[i];
            for j in range {
                if ys[j] > ys[i] {
                    break;
                }
                low = low.min(ys[j]);
            }
            low
        };
        let left = side(&mut (floor..i).rev());
        let right = side(&mut (i + 1..n));
        ys[i] - left.max(right)
    };
    (from.max(floor + 1).max(1)..to.min(n.saturating_sub(1)))
        .filter(|&i| ys[i] > ys[i - 1] && ys[i] >= ys[i + 1])
        .map(|i| (i, prominence(i)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
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
        span: None,
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

    /// A raised-cosine lobe of `height` from `start` to `start + dur` (ms),
    /// added to `y` (oriented), at `fs`, time 0 at sample `zero`.
    fn lobe(y: &mut [f64], fs: f64, zero: usize, start: f64, dur: f64, height: f64) {
        for (i, v) in y.iter_mut().enumerate() {
            let t = (i as f64 - zero as f64) / fs * 1000.0 - start;
            if (0.0..dur).contains(&t) {
                *v += height * (1.0 - (std::f64::consts::TAU * t / dur).cos()) / 2.0;
            }
        }
    }

    fn rate(fs: f64) -> SampleRate {
        SampleRate::new(fs).unwrap()
    }

    #[test]
    fn a_rodent_m_wave_keeps_its_amplitude_at_every_rate() {
        // A 0.8 ms negative phase (mouse M-wave) at 1.2 ms: spans that do not
        // scale with the response flatten it (−10 % at 10 kHz, −33 % at 30).
        for fs in [10_000.0, 30_000.0, 50_000.0] {
            let pre = (0.001 * fs) as usize;
            let mut y = vec![0.0; pre + (0.01 * fs) as usize];
            lobe(&mut y, fs, pre, 1.2, 0.8, 4.5);
            lobe(&mut y, fs, pre, 2.0, 1.2, -2.0);
            let m = measure(&y, pre, rate(fs), &MeasureSettings::default(), CTX).unwrap();
            assert_relative_eq!(m.amplitude_mv, 4.5, max_relative = 0.01);
            assert!(
                (m.duration_ms - 0.8).abs() < 0.15,
                "{} at {fs}",
                m.duration_ms
            );
            assert_eq!(m.initial_positive_mv, 0.0);
        }
    }

    #[test]
    fn an_initial_positive_deflection_is_measured_from_before_it() {
        // Oriented: a 1.5 mV dip (positive in the file) before an 8 mV
        // negative phase. The baseline is the level before the dip, the onset
        // where the dip starts, the negative phase starts after it.
        let fs = 10_000.0;
        let pre = 10;
        let mut y = vec![0.25; pre + 110];
        lobe(&mut y, fs, pre, 0.9, 0.4, -1.5);
        lobe(&mut y, fs, pre, 1.3, 1.0, 8.0);
        let m = measure(&y, pre, rate(fs), &MeasureSettings::default(), CTX).unwrap();
        assert_relative_eq!(m.baseline, 0.25, epsilon = 1e-9);
        assert_relative_eq!(m.amplitude_mv, 8.0, max_relative = 0.01);
        assert!((m.latency_ms - 0.9).abs() < 0.1, "onset {}", m.latency_ms);
        assert!(
            (m.initial_positive_mv - 1.5).abs() < 0.2,
            "{}",
            m.initial_positive_mv
        );
        assert!((m.phase_start * 0.1 - 1.3).abs() < 0.1, "{}", m.phase_start);
        assert!((m.duration_ms - 1.0).abs() < 0.15, "{}", m.duration_ms);
    }

    #[test]
    fn a_sweep_that_starts_at_a_blanked_stimulus_takes_its_baseline_after_it() {
        // No pre-stimulus samples; the first 1.9 ms are blanked to 0, then a
        // small step, a flat level of 0.1 mV and a 2 mV response at 6 ms.
        let fs = 3_200.0;
        let n = (0.06 * fs) as usize;
        let mut y = vec![0.1; n];
        y[..7].fill(0.0);
        y[7] = -0.03;
        lobe(&mut y, fs, 0, 6.0, 5.0, 2.0);
        let m = measure(&y, 0, rate(fs), &MeasureSettings::default(), CTX).unwrap();
        assert!(m.blank_end >= 8, "blanking ends at {}", m.blank_end);
        assert_relative_eq!(m.baseline, 0.1, epsilon = 1e-9);
        assert_relative_eq!(m.amplitude_mv, 2.0, max_relative = 0.01);
        assert_eq!(m.pre_baseline, None);
        assert!(!m.onset_at_blank && m.post_artifact_baseline);
    }

    #[test]
    fn a_span_the_artifact_swallows_is_an_artifact_overlap() {
        // Stimulus at 100, window to 400, span 20..60 after the stimulus.
        let span = Some((20, 60));
        assert_eq!(peak_span(span, 100, 110, 400), (120, 160, false));
        assert_eq!(peak_span(span, 100, 130, 400), (130, 160, false));
        // The artifact ends at the span's end or after it: the whole window
        // is searched and the overlap said.
        assert_eq!(peak_span(span, 100, 159, 400), (159, 400, true));
        assert_eq!(peak_span(span, 100, 200, 400), (200, 400, true));
        // A window that ends before the span is no overlap.
        assert_eq!(peak_span(span, 100, 110, 115), (110, 115, false));
        assert_eq!(peak_span(None, 100, 110, 400), (110, 400, false));
    }

    #[test]
    fn the_span_keeps_a_later_larger_wave_out() {
        // A 2 mV M-wave at 3–9 ms and a 5 mV H-reflex at 28–36 ms: without a
        // span the larger wave is taken; with the M-wave's span it is not,
        // and it is reported.
        let fs = 10_000.0;
        let pre = 50;
        let mut y = vec![0.0; pre + 400];
        lobe(&mut y, fs, pre, 3.0, 6.0, 2.0);
        lobe(&mut y, fs, pre, 28.0, 8.0, 5.0);
        let s = MeasureSettings::default();
        let free = measure(&y, pre, rate(fs), &s, CTX).unwrap();
        assert!(free.amplitude_mv > 4.9);
        let c = first_component(&y, pre, rate(fs), &s, CTX).unwrap();
        assert!(
            (c.peak - 60.0).abs() <= 1.0,
            "first component at {}",
            c.peak
        );
        let span = WindowContext {
            span: Some((
                (c.peak - 1.5 * c.width) as usize,
                (c.peak + c.width) as usize,
            )),
            ..CTX
        };
        let m = measure(&y, pre, rate(fs), &s, span).unwrap();
        assert_relative_eq!(m.amplitude_mv, 2.0, max_relative = 0.01);
        assert!(m
            .larger_late_wave
            .is_some_and(|at| (at - 320.0).abs() < 5.0));
    }

    #[test]
    fn a_bifid_phase_is_measured_at_its_deeper_trough() {
        // Two troughs (3 and 4 mV) 0.5 ms apart with a notch (2.1 mV) between,
        // one wave at half height: the amplitude is the deeper, never the notch.
        let fs = 10_000.0;
        let pre = 10;
        let mut y = vec![0.0; pre + 100];
        lobe(&mut y, fs, pre, 1.0, 0.8, 3.0);
        lobe(&mut y, fs, pre, 1.5, 0.8, 4.0);
        // The span the pipeline builds from the first component: the first
        // trough's width, cut short by the notch, bounds it before the
        // second trough.
        let settings = MeasureSettings::default();
        let c = first_component(&y, pre, rate(fs), &settings, CTX).unwrap();
        let span = crate::analysis::measure::span_around(c.peak, c.width);
        assert!(
            span.1 < 20,
            "the span {span:?} already holds the deeper trough"
        );
        for span in [Some(span), Some((5, 40)), None] {
            let ctx = WindowContext { span, ..CTX };
            let m = measure(&y, pre, rate(fs), &settings, ctx).unwrap();
            assert!(
                m.amplitude_mv > 3.9 && m.amplitude_mv < 4.3,
                "{span:?}: {}",
                m.amplitude_mv
            );
            assert!((m.peak - 20.0).abs() <= 1.5, "{span:?}: peak at {}", m.peak);
            assert_eq!(m.larger_late_wave, None, "{span:?}");
        }
    }

    #[test]
    fn a_larger_wave_past_a_deep_valley_is_a_late_wave() {
        // A 1.5 mV M-wave, then a 4 mV wave whose valley with it nearly
        // reaches the baseline: two waves; the first is measured, the second
        // said to be larger.
        let fs = 10_000.0;
        let pre = 10;
        let mut y = vec![0.0; pre + 100];
        lobe(&mut y, fs, pre, 1.0, 0.8, 1.5);
        lobe(&mut y, fs, pre, 1.7, 1.0, 4.0);
        let settings = MeasureSettings::default();
        let c = first_component(&y, pre, rate(fs), &settings, CTX).unwrap();
        let span = Some(crate::analysis::measure::span_around(c.peak, c.width));
        let m = measure(&y, pre, rate(fs), &settings, WindowContext { span, ..CTX }).unwrap();
        assert!((m.amplitude_mv - 1.5).abs() < 0.1, "{}", m.amplitude_mv);
        assert!((m.peak - 14.0).abs() <= 1.5, "peak at {}", m.peak);
        let late = m.larger_late_wave.expect("the larger wave is said");
        assert!((late - 22.0).abs() <= 1.5, "late wave at {late}");
    }

    #[test]
    fn a_decaying_artifact_tail_is_not_taken_for_the_baseline() {
        // A 3 mV tail (τ 3 ms) in the response's direction still decaying at
        // its onset: no isoelectric span after the artifact, so the response
        // is said to start at the artifact, on the pre-stimulus level.
        let fs = 20_000.0;
        let pre = 100;
        let mut y = vec![0.0; pre + 800];
        for (i, v) in y.iter_mut().enumerate().skip(pre) {
            *v += 3.0 * (-((i - pre) as f64 / fs * 1000.0) / 3.0).exp();
        }
        y[pre] = 8.0;
        lobe(&mut y, fs, pre, 3.0, 6.5, 8.0);
        let m = measure(&y, pre, rate(fs), &MeasureSettings::default(), CTX).unwrap();
        assert!(m.onset_at_blank || m.artifact_overlap, "{m:?}");
        assert_relative_eq!(m.baseline, 0.0, epsilon = 1e-9);
    }

    #[test]
    fn the_fit_narrows_on_a_sharp_peak_and_stays_wide_on_a_round_one() {
        let fs = 10_000.0;
        let r = rate(fs);
        let mut round = vec![0.0; 200];
        lobe(&mut round, fs, 0, 2.0, 6.5, 4.0);
        let peak = 20 + 32;
        assert_eq!(fit_span(&round, peak, 32.0, 0.01, r), 11);
        // A sharp, asymmetric peak: a steep fall after the trough.
        let mut sharp = vec![0.0; 60];
        for (i, v) in sharp.iter_mut().enumerate().take(30).skip(10) {
            *v = (i - 10) as f64 * 0.1;
        }
        sharp[30] = 2.1;
        sharp[31] = 0.5;
        assert_eq!(fit_span(&sharp, 30, 10.0, 0.01, r), 2);
        // Without a noise figure, the narrowest.
        assert_eq!(fit_span(&round, peak, 32.0, 0.0, r), 6);
    }
}
