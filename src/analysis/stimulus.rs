//! Stimulus detection.
//!
//! **From the artifact** (no trigger): the stimulus artifact is found by its
//! *steepest slope*, not its amplitude — a supramaximal CMAP can be larger than
//! the artifact, but it rises over ~4–5 ms while the artifact rises in a fraction
//! of a millisecond (primer §5.8). The method:
//!
//! 1. The robust SD of the first difference (`σ_d`) measures the noise; mains hum
//!    and baseline wander have small slopes and do not matter.
//! 2. Every excursion of |difference| above 10 σ_d starts a cluster that lasts
//!    until 8 ms after its steepest sample; the cluster's steepest sample is a
//!    candidate. The 8 ms absorb the CMAP's own rising edge after an artifact.
//! 3. Candidate slopes are split into two classes at the widest ratio gap in
//!    their sorted order (at least 2×); the upper class are stimuli, provided it
//!    stands ≥ 20 σ_d above the noise. Voluntary EMG during exercise gives many
//!    candidates with a continuum of slopes far below the artifacts, so it falls
//!    in the lower class. When no gap exists, all candidates are stimuli only if
//!    their slopes are alike (within 3×) and ≥ 30 σ_d: a set of artifacts is
//!    uniform, EMG bursts are not.
//! 4. The stimulus time is the artifact's onset: the first sample, going back
//!    from the steepest one, whose slope is still ≥ 20 % of the peak slope.
//!
//! Clipped artifacts keep steep edges (the jump to the rail), so they are found
//! the same way.
//!
//! **From a trigger channel**: rising edges through the midpoint between the
//! channel's extremes, with hysteresis.

use crate::analysis::dsp::diff_noise_sd;
use crate::units::{Ms, SampleRate};

/// A stimulus found in the signal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stimulus {
    /// Sample index of the stimulus (artifact onset or trigger edge).
    pub sample: usize,
    /// Peak |slope| of the artifact, mV per sample (0 for trigger/known stimuli).
    pub slope: f64,
}

/// Result of artifact-based detection, with the figures behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// Stimuli found, ascending.
    pub stimuli: Vec<Stimulus>,
    /// Robust SD of the first difference (noise slope), mV per sample.
    pub noise_slope_sd: f64,
    /// Number of candidate excursions examined.
    pub candidates: usize,
    /// Slope threshold that separated stimuli from the rest, mV per sample.
    pub threshold: f64,
}

/// Minimum spacing of two stimuli (200 Hz): closer candidates are one artifact.
const MIN_SPACING: Ms = Ms(5.0);
/// Cluster length after the steepest sample, absorbing the CMAP's edge.
const CLUSTER: Ms = Ms(8.0);
/// Largest number of candidates kept (the steepest), to bound work on noise.
const MAX_CANDIDATES: usize = 200_000;

/// Detect stimuli from artifacts in `x` (mV), within contiguous `segments` `[a, b)`.
pub fn detect_from_artifacts(
    x: &[f32],
    rate: SampleRate,
    segments: &[(usize, usize)],
) -> Detection {
    let sd = diff_noise_sd(x, 400_000);
    // Floor: a perfectly flat stretch (synthetic or digitally silent) has σ_d = 0.
    let peak_abs = x.iter().fold(0.0f64, |m, v| m.max((*v as f64).abs()));
    let sd = sd.max(peak_abs * 1e-7).max(1e-12);
    let low = 10.0 * sd;
    let cluster = rate.samples_in(CLUSTER).max(2);
    let mut cands: Vec<Stimulus> = Vec::new();
    for &(a, b) in segments {
        if b <= a + 1 {
            continue;
        }
        let d = |i: usize| (x[i + 1] as f64 - x[i] as f64).abs();
        let mut i = a;
        while i + 1 < b {
            if d(i) <= low {
                i += 1;
                continue;
            }
            let mut peak = i;
            let mut peak_v = d(i);
            let mut j = i + 1;
            while j + 1 < b && j < peak + cluster {
                let v = d(j);
                if v > peak_v {
                    peak = j;
                    peak_v = v;
                }
                j += 1;
            }
            cands.push(Stimulus {
                sample: peak,
                slope: peak_v,
            });
            i = j;
        }
    }
    let n_cands = cands.len();
    if cands.len() > MAX_CANDIDATES {
        cands.sort_by(|p, q| q.slope.total_cmp(&p.slope));
        cands.truncate(MAX_CANDIDATES);
        cands.sort_by_key(|c| c.sample);
    }
    let threshold = split_threshold(&cands, sd);
    let mut stimuli: Vec<Stimulus> = match threshold {
        Some(t) => cands.iter().copied().filter(|c| c.slope >= t).collect(),
        None => vec![],
    };
    // Merge stimuli closer than the minimum spacing, keeping the steeper.
    let spacing = rate.samples_in(MIN_SPACING).max(1);
    let mut merged: Vec<Stimulus> = Vec::with_capacity(stimuli.len());
    for s in stimuli.drain(..) {
        match merged.last_mut() {
            Some(last) if s.sample < last.sample + spacing => {
                if s.slope > last.slope {
                    *last = s;
                }
            }
            _ => merged.push(s),
        }
    }
    // Move each stimulus back to its artifact onset.
    let back = rate.samples_in(Ms(0.5)).max(1);
    for s in &mut merged {
        let seg_start = segments
            .iter()
            .find(|(a, b)| *a <= s.sample && s.sample < *b)
            .map_or(0, |(a, _)| *a);
        let mut k = s.sample;
        let lim = s.sample.saturating_sub(back).max(seg_start);
        while k > lim && (x[k] as f64 - x[k - 1] as f64).abs() >= 0.2 * s.slope {
            k -= 1;
        }
        s.sample = k;
    }
    Detection {
        stimuli: merged,
        noise_slope_sd: sd,
        candidates: n_cands,
        threshold: threshold.unwrap_or(f64::INFINITY),
    }
}

/// The slope at or above which candidates are stimuli, if any are.
fn split_threshold(cands: &[Stimulus], sd: f64) -> Option<f64> {
    if cands.is_empty() {
        return None;
    }
    let mut s: Vec<f64> = cands.iter().map(|c| c.slope).collect();
    s.sort_by(|a, b| b.total_cmp(a));
    // Widest ratio gap between neighbours in descending order, with the upper
    // class well above the noise.
    let mut best: Option<(usize, f64)> = None;
    for k in 0..s.len() - 1 {
        if s[k] < 20.0 * sd {
            break;
        }
        let ratio = s[k] / s[k + 1].max(1e-300);
        if ratio >= 2.0 && best.is_none_or(|(_, r)| ratio > r) {
            best = Some((k, ratio));
        }
    }
    if let Some((k, _)) = best {
        // Threshold at the geometric middle of the gap.
        return Some((s[k] * s[k + 1]).sqrt());
    }
    let (max, min) = (s[0], s[s.len() - 1]);
    (min >= 30.0 * sd && min >= max / 3.0).then_some(min * 0.999)
}

/// Rising edges of a trigger channel, as sample indices.
pub fn detect_from_trigger(trig: &[f32], rate: SampleRate) -> Vec<usize> {
    if trig.len() < 2 {
        return vec![];
    }
    let (lo, hi) = trig
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v as f64), h.max(v as f64))
        });
    let range = hi - lo;
    if !(range.is_finite() && range > 0.0) {
        return vec![];
    }
    let mid = lo + range / 2.0;
    let rearm = lo + range * 0.4;
    let spacing = rate.samples_in(Ms(2.0)).max(1);
    let mut out: Vec<usize> = Vec::new();
    // A file that starts high has no edge at sample 0.
    let mut armed = (trig[0] as f64) < mid;
    for (i, &v) in trig.iter().enumerate().skip(1) {
        let v = v as f64;
        if armed && v >= mid {
            if out.last().is_none_or(|&l| i >= l + spacing) {
                out.push(i);
            }
            armed = false;
        } else if !armed && v <= rearm {
            armed = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(hz: f64) -> SampleRate {
        SampleRate::new(hz).unwrap()
    }

    /// A flat signal with narrow spikes (artifacts) and broad bumps (CMAPs).
    fn toy(fs: f64, stims: &[f64], cmap_mv: f64) -> Vec<f32> {
        let n = (fs * (stims.last().unwrap() + 0.5)) as usize;
        let mut x = vec![0.0f32; n];
        for &t in stims {
            let s = (t * fs) as usize;
            let w = ((0.0002 * fs) as usize).max(1);
            for k in 0..w {
                x[s + k] += 5.0;
                x[s + w + k] -= 5.0;
            }
            // CMAP: half-sine of 6 ms starting 3 ms later, negative.
            let on = s + (0.003 * fs) as usize;
            let len = (0.006 * fs) as usize;
            for k in 0..len {
                x[on + k] -=
                    (cmap_mv * (std::f64::consts::PI * k as f64 / len as f64).sin()) as f32;
            }
        }
        x
    }

    #[test]
    fn finds_artifacts_even_when_cmap_is_larger() {
        let fs = 20_000.0;
        let stims: Vec<f64> = (0..10).map(|k| 0.2 + k as f64 / 3.0).collect();
        let x = toy(fs, &stims, 12.0);
        let det = detect_from_artifacts(&x, rate(fs), &[(0, x.len())]);
        assert_eq!(det.stimuli.len(), 10);
        for (s, t) in det.stimuli.iter().zip(&stims) {
            assert!(
                (s.sample as f64 - t * fs).abs() <= 1.0,
                "{} vs {}",
                s.sample,
                t * fs
            );
        }
    }

    #[test]
    fn nothing_in_silence_or_sine() {
        let fs = 10_000.0;
        let x = vec![0.0f32; 50_000];
        assert!(detect_from_artifacts(&x, rate(fs), &[(0, x.len())])
            .stimuli
            .is_empty());
        let sine: Vec<f32> = (0..50_000)
            .map(|i| (std::f64::consts::TAU * 50.0 * i as f64 / fs).sin() as f32)
            .collect();
        assert!(detect_from_artifacts(&sine, rate(fs), &[(0, sine.len())])
            .stimuli
            .is_empty());
    }

    #[test]
    fn trigger_edges() {
        let mut t = vec![0.0f32; 1000];
        for s in [100usize, 400, 700] {
            for v in t.iter_mut().skip(s).take(20) {
                *v = 5.0;
            }
        }
        assert_eq!(detect_from_trigger(&t, rate(10_000.0)), vec![100, 400, 700]);
        assert!(detect_from_trigger(&[1.0; 50], rate(10_000.0)).is_empty());
    }
}
