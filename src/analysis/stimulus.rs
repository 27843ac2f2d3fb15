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
//! 3. Each candidate's *prominence* is its slope over the median |difference|
//!    of its surroundings (10–60 ms on either side). An artifact towers over
//!    the quiet baseline or the CMAPs around it (prominence ≫ 10); the steepest
//!    moments of voluntary EMG during exercise do not stand out from the EMG
//!    around them (prominence of a few). Candidates with prominence ≥ 10 and a
//!    slope ≥ 20 σ_d are kept.
//! 4. Stimuli are the kept candidates whose slope is at least a fifth of the
//!    90th percentile of the kept slopes. The sampled slope of one artifact
//!    varies up to ~3× with its sub-sample phase at low sample rates, while a
//!    CMAP edge that escaped its cluster is far below. Two guards follow: a
//!    candidate within the measured response of a stimulus more than twice
//!    as steep (after the response's largest excursion, until the signal
//!    has stayed back at its pre-artifact level, within a tenth of that
//!    excursion, for 1 ms; at most 15 ms)
//!    is that response's own edge, and one less than 40 ms (the response
//!    window) after it that is no link of a regular chain (no candidate as
//!    far after it, or as far before the steeper one) is a later wave of
//!    that response (an F-wave, H-reflex or MEP; the next stimulus of a
//!    high-rate train is such a link); and a candidate amid activity (median
//!    surrounding slope > 6 σ_d: voluntary EMG), or at its start or end (one
//!    side active: the transient that ends a contraction), counts only if
//!    another artifact of similar slope lies within a train's interval
//!    (1.1 s), since stimuli come in trains or stand alone in quiet signal;
//!    a candidate at an edge of activity must also look like the
//!    recording's quiet artifacts: as steep (within 3×), its excursion no
//!    more than twice as wide.
//! 5. The stimulus time is the artifact's onset: the first moment (linear
//!    interpolation between samples) the signal departs from its pre-artifact
//!    level (median of 1.5–0.5 ms before the steepest sample) by a quarter of
//!    the artifact's largest excursion.
//!
//! Clipped artifacts keep steep edges (the jump to the rail), so they are found
//! the same way.
//!
//! **From a trigger channel**: rising edges through the midpoint between the
//! channel's extremes, with hysteresis.

use crate::analysis::channels::ChannelPlan;
use crate::analysis::dsp::{segment_holding, NoiseAndExtremes};
use crate::error::{Error, Result};
use crate::recording::Recording;
use crate::units::{Ms, SampleRate};
use crate::vocab::StimulusSource;

/// A stimulus found in the signal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stimulus {
    /// Sample index of the stimulus (artifact onset or trigger edge).
    pub sample: usize,
    /// Peak |slope| of the artifact, mV per sample (0 for trigger/known stimuli).
    pub slope: f64,
    /// Sub-sample refinement of the stimulus time, in samples after `sample`
    /// (the half-height crossing of the artifact's first edge).
    pub frac: f64,
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
    // One pass for the noise slope and the extremes, as the pipeline makes.
    let (sd, lo, hi) = crate::analysis::dsp::noise_and_extremes(x, NOISE_POINTS);
    let peak_abs = if x.is_empty() {
        0.0
    } else {
        crate::analysis::dsp::peak_abs(lo, hi)
    };
    detect_with_noise(x, rate, segments, sd, peak_abs)
}

/// Differences [`diff_noise_sd`](crate::analysis::dsp::diff_noise_sd) draws on to measure the noise slope.
pub const NOISE_POINTS: usize = 400_000;

/// [`detect_from_artifacts`] when the caller already knows the noise slope
/// (`diff_sd`, [`diff_noise_sd`](crate::analysis::dsp::diff_noise_sd) of `x` over [`NOISE_POINTS`] differences)
/// and the largest |sample| (`peak_abs`): each costs a pass over the signal.
pub fn detect_with_noise(
    x: &[f32],
    rate: SampleRate,
    segments: &[(usize, usize)],
    diff_sd: f64,
    peak_abs: f64,
) -> Detection {
    // Floor: a perfectly flat stretch (synthetic or digitally silent) has σ_d = 0.
    let sd = diff_sd.max(peak_abs * 1e-7).max(1e-12);
    let low = 10.0 * sd;
    let cluster = rate.samples_in(CLUSTER).max(2);
    let mut cands: Vec<Stimulus> = Vec::new();
    for &(a, b) in segments {
        if b <= a + 1 {
            continue;
        }
        cands.extend(
            scan_segment(x, a, b, low, cluster)
                .into_iter()
                .map(|c| Stimulus {
                    sample: c.peak,
                    slope: c.slope,
                    frac: 0.0,
                }),
        );
    }
    let n_cands = cands.len();
    if cands.len() > MAX_CANDIDATES {
        cands.sort_by(|p, q| q.slope.total_cmp(&p.slope));
        cands.truncate(MAX_CANDIDATES);
        cands.sort_by_key(|c| c.sample);
    }
    let mut bgs = Vec::new();
    let threshold = select_threshold(x, rate, segments, &mut cands, &mut bgs, sd);
    let kept: Vec<(Stimulus, f64)> = match threshold {
        Some(t) => cands
            .iter()
            .copied()
            .zip(bgs.iter().copied())
            .filter(|(c, _)| c.slope >= t)
            .collect(),
        None => vec![],
    };
    let kept2 = drop_response_waves(&kept, x, rate, segments, sd);
    let stimuli = keep_in_context(&kept2, x, rate, segments, sd);
    let mut merged = merge_close(stimuli, rate);
    // Time each stimulus at the artifact's onset.
    for s in &mut merged {
        let (seg_a, seg_b) = segment_holding(segments, s.sample).unwrap_or((0, x.len()));
        let t = onset_time(x, rate, (seg_a, seg_b), s.sample);
        s.sample = t.floor() as usize;
        s.frac = t - t.floor();
    }
    Detection {
        stimuli: merged,
        noise_slope_sd: sd,
        candidates: n_cands,
        threshold: threshold.unwrap_or(f64::INFINITY),
    }
}

/// The candidates (with their backgrounds) that are stimuli in their
/// context. Stimuli come in trains or stand in quiet signal: a candidate amid
/// activity (voluntary EMG: its background above 6 σ_d) counts only in a
/// train (another artifact of similar slope within a train's interval); one
/// at the start or end of activity (one side of it active: the steep
/// transient that ends a contraction) must also look like the recording's
/// quiet artifacts.
fn keep_in_context(
    kept2: &[(Stimulus, f64)],
    x: &[f32],
    rate: SampleRate,
    segments: &[(usize, usize)],
    sd: f64,
) -> Vec<Stimulus> {
    let near = rate.samples_in_s(crate::units::Seconds(crate::analysis::trains::MAX_ISI_S));
    let sides: Vec<(f64, f64)> = kept2
        .iter()
        .map(|(c, _)| {
            let seg = segment_holding(segments, c.sample).unwrap_or((0, x.len()));
            side_backgrounds(x, rate, seg, c.sample)
        })
        .collect();
    // One side active against the other and against the quiet background
    // at the candidates (the median of their quieter sides: the
    // recording-wide noise figure is inflated when much of it is voluntary
    // EMG, and a side of digital silence is no activity on the other).
    let floor =
        crate::analysis::dsp::median(&sides.iter().map(|&(l, r)| l.min(r)).collect::<Vec<_>>());
    let edge: Vec<bool> = sides
        .iter()
        .map(|&(l, r)| {
            let (lo, hi) = (l.min(r), l.max(r));
            hi > ACTIVE_BACKGROUND * lo.max(1e-12) && hi > ACTIVE_BACKGROUND * floor
        })
        .collect();
    // The recording's artifacts, as the quiet candidates show them: slope
    // and the width of the excursion.
    let shapes: Vec<Shape> = kept2
        .iter()
        .map(|(c, _)| {
            let seg = segment_holding(segments, c.sample).unwrap_or((0, x.len()));
            artifact_shape(x, rate, seg, c.sample)
        })
        .collect();
    let quiet: Vec<usize> = (0..kept2.len())
        .filter(|&i| !edge[i] && kept2[i].1 <= ACTIVE_BACKGROUND * sd)
        .collect();
    let typical = (!quiet.is_empty()).then(|| {
        let of = |f: &dyn Fn(usize) -> f64| {
            crate::analysis::dsp::median(&quiet.iter().map(|&i| f(i)).collect::<Vec<_>>())
        };
        (of(&|i| kept2[i].0.slope), of(&|i| shapes[i].width))
    });
    // Looking like them: as steep (within 3×: the sampled slope of one
    // artifact varies that much with its sub-sample phase) and no more than
    // twice as wide.
    let like_artifacts = |i: usize| {
        typical.is_none_or(|(slope, width)| {
            let c = &kept2[i].0;
            c.slope * 3.0 >= slope && c.slope <= 3.0 * slope && shapes[i].width <= 2.0 * width + 1.0
        })
    };
    // Whether another candidate of similar slope lies within a train's
    // interval. `kept2` ascends by sample: look only within `near` of the
    // candidate (a scan of all would be quadratic on long noise).
    let in_train = |i: usize| {
        let c = &kept2[i].0;
        let from = kept2.partition_point(|(o, _)| o.sample + near < c.sample);
        kept2[from..]
            .iter()
            .enumerate()
            .take_while(|(_, (o, _))| o.sample <= c.sample + near)
            .any(|(k, (o, _))| {
                from + k != i && o.slope <= 3.0 * c.slope && c.slope <= 3.0 * o.slope
            })
    };
    (0..kept2.len())
        .filter(|&i| {
            let active = kept2[i].1 > ACTIVE_BACKGROUND * sd;
            match (active, edge[i]) {
                // In quiet signal: a train's, or a single stimulus.
                (false, false) => true,
                // Amid activity: in a train.
                (true, false) => in_train(i),
                // At the start or end of activity: in a train, and like the
                // recording's quiet artifacts.
                (_, true) => in_train(i) && like_artifacts(i),
            }
        })
        .map(|i| kept2[i].0)
        .collect()
}

/// Stimuli closer than the minimum spacing merged, the steeper kept.
fn merge_close(stimuli: Vec<Stimulus>, rate: SampleRate) -> Vec<Stimulus> {
    let spacing = rate.samples_in(MIN_SPACING).max(1);
    let mut merged: Vec<Stimulus> = Vec::with_capacity(stimuli.len());
    for s in stimuli {
        match merged.last_mut() {
            Some(last) if s.sample < last.sample + spacing => {
                if s.slope > last.slope {
                    *last = s;
                }
            }
            _ => merged.push(s),
        }
    }
    merged
}

/// The candidates (ascending by sample) without the waves of responses: a
/// response's own steep edge that escaped its cluster follows a much
/// steeper artifact within its measured response ([`response_end`], at most
/// 15 ms); a later wave of the response (an
/// F-wave, H-reflex or MEP) follows it within the response's window (40 ms)
/// but, unlike the next stimulus of a high-rate train (whose sampled slope
/// can be a third of the last's at low sample rates), is no link of a
/// regular chain: no candidate lies as far after it, or as far before the
/// steeper one, as it lies after the steeper one. (Two late waves at equal
/// spacing after one stimulus, at `L` and `2L`, make such a chain and are
/// kept; real late waves are not that regular.)
fn drop_response_waves(
    kept: &[(Stimulus, f64)],
    x: &[f32],
    rate: SampleRate,
    segments: &[(usize, usize)],
    sd: f64,
) -> Vec<(Stimulus, f64)> {
    let own_edge = rate.samples_in(OWN_EDGE);
    let inside_response = |i: usize| {
        stronger_before(kept, i, own_edge).is_some_and(|j| {
            let p = kept[j].0.sample;
            let seg = segment_holding(segments, p).unwrap_or((0, x.len()));
            let c = kept[i].0.sample;
            c < response_end(x, rate, seg, p, c, sd)
        })
    };
    let edges_gone: Vec<(Stimulus, f64)> = (0..kept.len())
        .filter(|&i| !inside_response(i))
        .map(|i| kept[i])
        .collect();
    let reach = rate.samples_in(RESPONSE_REACH);
    let tol = rate.samples_in(CHAIN_TOLERANCE).max(2);
    let any_near = |s: i64| {
        let from = edges_gone.partition_point(|(o, _)| (o.sample as i64) < s - tol as i64);
        edges_gone
            .get(from)
            .is_some_and(|(o, _)| o.sample as i64 <= s + tol as i64)
    };
    (0..edges_gone.len())
        .filter(|&i| match stronger_before(&edges_gone, i, reach) {
            None => true,
            Some(j) => {
                let (c, p) = (edges_gone[i].0.sample as i64, edges_gone[j].0.sample as i64);
                any_near(c + (c - p)) || any_near(p - (c - p))
            }
        })
        .map(|i| edges_gone[i])
        .collect()
}

/// The latest candidate before `cands[i]` (ascending by sample), less than
/// `within` samples before it, more than twice as steep.
fn stronger_before(cands: &[(Stimulus, f64)], i: usize, within: usize) -> Option<usize> {
    let c = &cands[i].0;
    (0..i)
        .rev()
        .take_while(|&j| c.sample - cands[j].0.sample < within)
        .find(|&j| cands[j].0.slope > 2.0 * c.slope)
}

/// The largest |first difference| `|x[k + 1] − x[k]|` for `k` in
/// `[from, to)` (`to < x.len()`, `from < to`) and the first `k` where it occurs.
#[inline(always)]
fn steepest(x: &[f32], from: usize, to: usize) -> (f64, usize) {
    let d = |k: usize| (x[k + 1] as f64 - x[k] as f64).abs();
    let (a, b) = (&x[from..to], &x[from + 1..=to]);
    // Eight independent lanes: the maximum does not depend on the order,
    // and the compiler vectorises it.
    let mut lanes = [f64::NEG_INFINITY; 8];
    let (mut ca, mut cb) = (a.chunks_exact(8), b.chunks_exact(8));
    for (p, q) in (&mut ca).zip(&mut cb) {
        for l in 0..8 {
            lanes[l] = lanes[l].max((q[l] as f64 - p[l] as f64).abs());
        }
    }
    let mut m = lanes.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
    for (&p, &q) in ca.remainder().iter().zip(cb.remainder()) {
        m = m.max((q as f64 - p as f64).abs());
    }
    let at = (from..to).find(|&k| d(k) == m).unwrap_or(from);
    (m, at)
}

/// One cluster of the candidate scan: its first steep difference, its end
/// (where the scan resumes) and its steepest sample.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cluster {
    start: usize,
    end: usize,
    peak: usize,
    slope: f64,
}

/// Samples per piece of a segment scanned on its own thread.
const SCAN_PIECE: usize = 1 << 18;

/// The clusters of segment `[a, b)` (step 2 of the module doc), exactly as
/// one scan from `a` finds them, on all threads for a long segment.
fn scan_segment(x: &[f32], a: usize, b: usize, low: f64, cluster: usize) -> Vec<Cluster> {
    scan_in_pieces(x, a, b, low, cluster, SCAN_PIECE)
}

/// [`scan_segment`] with pieces of `piece` samples. Each piece is scanned
/// from its own start, and the pieces are then joined in order. From any
/// position, the scan goes to the first steep difference at or after it
/// and the cluster there depends on nothing before, so where the true scan
/// enters a piece at a point its own scan passed as quiet, the piece's
/// clusters from there on are the true ones. Only when the true scan
/// enters in the middle of one of the piece's clusters (a cluster that
/// straddled the boundary) is the piece scanned again from there.
fn scan_in_pieces(
    x: &[f32],
    a: usize,
    b: usize,
    low: f64,
    cluster: usize,
    piece: usize,
) -> Vec<Cluster> {
    if b - a <= 2 * piece {
        return scan(x, a, b, b, low, cluster, usize::MAX).0;
    }
    use rayon::prelude::*;
    let starts: Vec<usize> = (a..b).step_by(piece).collect();
    let pieces: Vec<(Vec<Cluster>, usize)> = starts
        .par_iter()
        .map(|&c| scan(x, c, (c + piece).min(b), b, low, cluster, usize::MAX))
        .collect();
    let mut out = Vec::new();
    let mut pos = a;
    for (&c, (found, end)) in starts.iter().zip(pieces) {
        let stop = (c + piece).min(b);
        // Where the true scan stands at `pos`, a point the piece's own scan
        // passed as quiet, the piece's clusters from there on are the true
        // ones; otherwise scan on from `pos` one cluster at a time.
        loop {
            let idx = found.partition_point(|k| k.start < pos);
            if idx == 0 || found[idx - 1].end <= pos {
                out.extend_from_slice(&found[idx..]);
                pos = pos.max(end);
                break;
            }
            if pos >= stop {
                break;
            }
            let (one, next) = scan(x, pos, stop, b, low, cluster, 1);
            out.extend(one);
            pos = next;
        }
    }
    out
}

/// Scan `x` from `from` for clusters that start before `stop` (they may run
/// on up to `b`, the end of the segment), at most `limit` of them; returns
/// them and the position the scan stopped at (≥ `stop`, `b − 1`, or the end
/// of the `limit`-th cluster).
// AVX2 where the CPU has it (chosen at run time): the same comparisons and
// maxima, twice as many per instruction.
#[multiversion::multiversion(targets("x86_64+avx2"))]
fn scan(
    x: &[f32],
    from: usize,
    stop: usize,
    b: usize,
    low: f64,
    cluster: usize,
    limit: usize,
) -> (Vec<Cluster>, usize) {
    let d = |i: usize| (x[i + 1] as f64 - x[i] as f64).abs();
    let mut out = Vec::new();
    let mut i = from;
    while i + 1 < b && i < stop && out.len() < limit {
        // Most of a recording is quiet: step over 64 quiet differences
        // at once (a branch-free check the compiler vectorises).
        if i + QUIET_STEP < b && all_quiet(&x[i..=i + QUIET_STEP], low) {
            i += QUIET_STEP;
            continue;
        }
        if d(i) <= low {
            i += 1;
            continue;
        }
        let start = i;
        let mut peak = i;
        let mut peak_v = d(i);
        let mut j = i + 1;
        // The cluster runs to 8 ms after its steepest sample so far. Rather
        // than a sample at a time (a coin-toss branch amid voluntary EMG),
        // take the steepest of the rest of the current span at once: if it
        // beats the peak, it is where a sample-by-sample scan would have
        // moved the peak last within that span (first occurrence, as with
        // a strict `>`), and the span grows from there.
        loop {
            let end = (peak + cluster).min(b - 1);
            if j >= end {
                break;
            }
            let (v, at) = steepest(x, j, end);
            if v > peak_v {
                peak = at;
                peak_v = v;
                j = at + 1;
            } else {
                j = end;
                break;
            }
        }
        out.push(Cluster {
            start,
            end: j,
            peak,
            slope: peak_v,
        });
        i = j;
    }
    (out, i)
}

/// Differences checked at once by [`all_quiet`].
const QUIET_STEP: usize = 64;

/// Whether every |first difference| of `w` is at most `low` (a NaN is not).
#[inline(always)]
fn all_quiet(w: &[f32], low: f64) -> bool {
    w.iter()
        .zip(&w[1..])
        .fold(true, |q, (&p, &n)| q & ((n as f64 - p as f64).abs() <= low))
}

/// Onset of the artifact whose steepest step is at `p`, as a fractional sample index.
fn onset_time(x: &[f32], rate: SampleRate, seg: (usize, usize), p: usize) -> f64 {
    let pre_a = p.saturating_sub(rate.samples_in(Ms(1.5))).max(seg.0);
    let pre_b = p.saturating_sub(rate.samples_in(Ms(0.5)).max(1)).max(seg.0);
    let mut pre: Vec<f64> = x[pre_a..pre_b].iter().map(|&v| v as f64).collect();
    let level = if pre.is_empty() {
        x[pre_b] as f64
    } else {
        crate::analysis::dsp::median_in_place(&mut pre)
    };
    let end = (p + 2).min(seg.1);
    let ext = x[pre_b..end]
        .iter()
        .map(|&v| (v as f64 - level).abs())
        .fold(0.0, f64::max);
    if ext <= 0.0 {
        return p as f64;
    }
    let thr = 0.25 * ext;
    for j in pre_b..end {
        let dj = (x[j] as f64 - level).abs();
        if dj >= thr {
            if j == pre_b {
                return j as f64;
            }
            let dp = (x[j - 1] as f64 - level).abs();
            let f = if dj > dp { (thr - dp) / (dj - dp) } else { 1.0 };
            return (j - 1) as f64 + f.clamp(0.0, 1.0);
        }
    }
    p as f64
}

/// Surroundings examined for a candidate's prominence.
const NEAR: Ms = Ms(10.0);
const FAR: Ms = Ms(60.0);
/// Prominence a stimulus artifact must have over its surroundings.
const MIN_PROMINENCE: f64 = 10.0;
/// Surroundings whose median slope exceeds this many noise SDs are active
/// (voluntary EMG, or a high-rate train's CMAPs).
const ACTIVE_BACKGROUND: f64 = 6.0;
/// A candidate within the measured response of a much steeper stimulus
/// ([`response_end`]), and at most this soon after it, is that response's
/// edge.
const OWN_EDGE: Ms = Ms(15.0);
/// How long the signal stays back at its level before the stimulus for a
/// response to have ended: longer than the zero crossing between a CMAP's
/// phases, shorter than a rodent M-wave's silence before the next stimulus
/// of a fast train.
const QUIET_AFTER_RESPONSE: Ms = Ms(1.0);
/// A candidate this soon after a much steeper stimulus that does not look
/// like the leading artifacts is a later wave of that stimulus's response:
/// the default longest response window of the measurement
/// (`MeasureSettings::max_window`, 40 ms). Fixed, not the user's setting:
/// stimuli are found before the measurement settings apply.
const RESPONSE_REACH: Ms = Ms(40.0);
/// How far (at least; and two samples) the links of a high-rate train may
/// stray from a regular chain.
const CHAIN_TOLERANCE: Ms = Ms(0.5);

/// What an artifact looks like: the width (samples) of its excursion from
/// the level before it, at half its largest departure within 2 ms. (The
/// direction of its steepest step is no feature: at low sample rates it
/// flips with the sub-sample phase of a biphasic pulse.)
#[derive(Debug, Clone, Copy)]
struct Shape {
    width: f64,
}

/// The level before the artifact whose steepest step starts at `c`: the
/// median of 1.5–0.5 ms before it (within `seg`), or `x[c]` when that span
/// is empty; and where the span ends.
fn pre_artifact_level(x: &[f32], rate: SampleRate, seg: (usize, usize), c: usize) -> (f64, usize) {
    let pre_a = c.saturating_sub(rate.samples_in(Ms(1.5))).max(seg.0);
    let pre_b = c.saturating_sub(rate.samples_in(Ms(0.5)).max(1)).max(seg.0);
    let level = if pre_b > pre_a {
        let mut pre: Vec<f64> = x[pre_a..pre_b].iter().map(|&v| v as f64).collect();
        crate::analysis::dsp::median_in_place(&mut pre)
    } else {
        x[c] as f64
    };
    (level, pre_b)
}

/// Where the response to the stimulus whose steepest step starts at `p`
/// ends, measured on the signal before `until`: after the response's
/// largest excursion from the pre-artifact level (past the first 0.5 ms,
/// the artifact's), the first sample from which the signal stays within a
/// tenth of that excursion, and 10 σ_d (`sd`), for
/// [`QUIET_AFTER_RESPONSE`]; `until` when it has not ended by then. At most
/// [`OWN_EDGE`] after `p`: a level that drifts never lets a response
/// swallow a high-rate train's next stimulus.
fn response_end(
    x: &[f32],
    rate: SampleRate,
    seg: (usize, usize),
    p: usize,
    until: usize,
    sd: f64,
) -> usize {
    let (level, _) = pre_artifact_level(x, rate, seg, p);
    let reach = (p + rate.samples_in(OWN_EDGE)).min(seg.1).min(until);
    let from = (p + rate.samples_in(Ms(0.5)).max(1)).min(reach);
    let dev = |i: usize| (x[i] as f64 - level).abs();
    let Some(top) = (from..reach).max_by(|&a, &b| dev(a).total_cmp(&dev(b))) else {
        return reach;
    };
    let tol = (0.1 * dev(top)).max(10.0 * sd);
    let quiet = rate.samples_in(QUIET_AFTER_RESPONSE).max(3);
    let mut run = 0;
    for i in top..reach {
        run = if dev(i) <= tol { run + 1 } else { 0 };
        if run >= quiet {
            return i + 1 - run;
        }
    }
    reach
}

/// The [`Shape`] of the candidate whose steepest step starts at `c`.
fn artifact_shape(x: &[f32], rate: SampleRate, seg: (usize, usize), c: usize) -> Shape {
    let (level, pre_b) = pre_artifact_level(x, rate, seg, c);
    let to = (c + rate.samples_in(Ms(2.0)).max(2)).min(seg.1);
    let dev = |i: usize| (x[i] as f64 - level).abs();
    let top = (pre_b..to).map(dev).fold(0.0, f64::max);
    let width = (pre_b..to).filter(|&i| dev(i) >= 0.5 * top).count() as f64;
    Shape { width }
}

/// The medians of the |first differences| on either side of sample `c`
/// (`NEAR`–`FAR` before, and after): a candidate is at the start or end of
/// activity when one side is active.
fn side_backgrounds(x: &[f32], rate: SampleRate, seg: (usize, usize), c: usize) -> (f64, f64) {
    let near = rate.samples_in(NEAR);
    let far = rate.samples_in(FAR);
    let side = |a: usize, b: usize| {
        if b <= a {
            return 0.0;
        }
        let stride = ((b - a) / 200).max(1);
        let mut v: Vec<f64> = (a..b)
            .step_by(stride)
            .map(|i| (x[i + 1] as f64 - x[i] as f64).abs())
            .collect();
        crate::analysis::dsp::median_in_place(&mut v)
    };
    let end = seg.1.saturating_sub(1);
    (
        side(
            c.saturating_sub(far).max(seg.0),
            c.saturating_sub(near).max(seg.0),
        ),
        side((c + near).min(end), (c + far).min(end)),
    )
}

/// The |first differences| around sample `c`, excluding ±`NEAR`, at most
/// ~200 points per side, into `v`: their median is the candidate's background.
fn surroundings(x: &[f32], rate: SampleRate, seg: (usize, usize), c: usize, v: &mut Vec<f64>) {
    v.clear();
    let near = rate.samples_in(NEAR);
    let far = rate.samples_in(FAR);
    let sides = [
        (
            c.saturating_sub(far).max(seg.0),
            c.saturating_sub(near).max(seg.0),
        ),
        (
            (c + near).min(seg.1.saturating_sub(1)),
            (c + far).min(seg.1.saturating_sub(1)),
        ),
    ];
    for (a, b) in sides {
        if b <= a {
            continue;
        }
        let stride = ((b - a) / 200).max(1);
        v.extend(
            (a..b)
                .step_by(stride)
                .map(|i| (x[i + 1] as f64 - x[i] as f64).abs()),
        );
    }
}

/// The slope at or above which candidates are stimuli, if any are; candidates
/// that are not prominent are removed from `cands`, and the background of each
/// one kept is left in `bgs`.
fn select_threshold(
    x: &[f32],
    rate: SampleRate,
    segments: &[(usize, usize)],
    cands: &mut Vec<Stimulus>,
    bgs: &mut Vec<f64>,
    sd: f64,
) -> Option<f64> {
    use rayon::prelude::*;
    // Each candidate's background is its own: judged on all threads, kept
    // in order.
    let judged: Vec<Option<f64>> = cands
        .par_iter()
        .map_init(
            || Vec::with_capacity(402),
            |around, c| {
                if c.slope < 20.0 * sd {
                    return None;
                }
                let seg = segment_holding(segments, c.sample).unwrap_or((0, x.len()));
                surroundings(x, rate, seg, c.sample, around);
                // Amid voluntary EMG most candidates are not prominent: when a
                // strict majority of the surroundings is steeper than a tenth of
                // the candidate (with a margin over rounding), so is their
                // median, and the candidate is dropped without computing it.
                let tenth = c.slope / MIN_PROMINENCE * (1.0 + 1e-9);
                if around.iter().filter(|&&v| v > tenth).count() > around.len() / 2 {
                    return None;
                }
                let bg = crate::analysis::dsp::median_in_place(around);
                (c.slope >= MIN_PROMINENCE * bg).then_some(bg)
            },
        )
        .collect();
    let mut verdicts = judged.iter();
    cands.retain(|_| verdicts.next().copied().flatten().is_some());
    *bgs = judged.into_iter().flatten().collect();
    if cands.is_empty() {
        return None;
    }
    let mut s: Vec<f64> = cands.iter().map(|c| c.slope).collect();
    s.sort_by(|a, b| a.total_cmp(b));
    let p90 = s[((s.len() - 1) as f64 * 0.9).round() as usize];
    Some(p90 / 5.0)
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

/// The stimuli the pipeline measures.
#[derive(Debug, Clone, PartialEq)]
pub struct Stimuli {
    /// Sample indices, ascending.
    pub samples: Vec<usize>,
    /// Sub-sample refinement of each (artifact detection only; 0 otherwise).
    pub fracs: Vec<f64>,
    /// Where they came from.
    pub source: StimulusSource,
    /// Whether their times are known (not sweeps of unknown timing).
    pub timing_known: bool,
}

/// Pipeline step 1: the stimuli, from the source the channel plan chose: the
/// trigger channel's rising edges, the times the file knows (sweeps,
/// annotations), or the artifacts' steep slopes (with the noise pass's
/// figures). None found is [`Error::NothingToAnalyse`].
pub fn find(
    rec: &Recording,
    plan: &ChannelPlan,
    x: &[f32],
    segments: &[(usize, usize)],
    noise: &NoiseAndExtremes,
) -> Result<Stimuli> {
    let rate = rec.sample_rate;
    let trigger = plan.trigger_channel.map(|t| &rec.channels[t]);
    let known = || -> Vec<usize> {
        rec.stimuli.as_ref().map_or_else(Vec::new, |k| {
            k.samples.iter().copied().filter(|&s| s < x.len()).collect()
        })
    };
    let (samples, mut fracs) = match (plan.stimulus_source, trigger) {
        (StimulusSource::TriggerChannel, Some(tc)) => {
            (detect_from_trigger(&tc.samples, rate), Vec::new())
        }
        (StimulusSource::Sweeps | StimulusSource::Annotations | StimulusSource::Events, _) => {
            (known(), Vec::new())
        }
        (StimulusSource::ArtifactSlope | StimulusSource::TriggerChannel, _) => {
            let peak_abs = crate::analysis::dsp::peak_abs(noise.lo, noise.hi);
            let det = detect_with_noise(x, rate, segments, noise.noise_sd, peak_abs);
            det.stimuli.iter().map(|s| (s.sample, s.frac)).unzip()
        }
    };
    if samples.is_empty() {
        let reason = match plan.stimulus_source {
            StimulusSource::TriggerChannel => "the trigger channel has no rising edge",
            StimulusSource::ArtifactSlope
            | StimulusSource::Sweeps
            | StimulusSource::Annotations
            | StimulusSource::Events => {
                "no stimulus artifact found (no steep, isolated slopes in the signal)"
            }
        };
        return Err(Error::NothingToAnalyse {
            path: rec.path.clone(),
            reason: reason.to_string(),
        });
    }
    fracs.resize(samples.len(), 0.0);
    Ok(Stimuli {
        samples,
        fracs,
        source: plan.stimulus_source,
        timing_known: rec.stimuli.as_ref().is_none_or(|k| k.timing_known) || trigger.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Scanning in pieces finds exactly the clusters of one scan, whatever
        /// the piece size, however clusters straddle the boundaries.
        #[test]
        fn scan_in_pieces_is_the_single_scan(
            seed in 0u64..u64::MAX,
            n in 200usize..6000,
            piece in 7usize..400,
            bursts in 0usize..40,
            cluster in 2usize..90,
        ) {
            let mut rng = crate::test_rng::XorShift::new(seed | 1);
            let mut next = move || rng.next_f64();
            let mut x: Vec<f32> = (0..n).map(|_| (next() - 0.5) as f32 * 0.1).collect();
            for _ in 0..bursts {
                let at = (next() * n as f64) as usize;
                let len = 1 + (next() * 150.0) as usize;
                for v in x.iter_mut().skip(at).take(len) {
                    *v += ((next() - 0.5) * 20.0) as f32;
                }
            }
            let (a, b) = (n / 17, n - n / 23);
            let whole = scan(&x, a, b, b, 0.3, cluster, usize::MAX).0;
            proptest::prop_assert_eq!(scan_in_pieces(&x, a, b, 0.3, cluster, piece), whole);
        }
    }

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
    fn a_response_ends_when_the_signal_is_back_and_quiet() {
        let fs = 20_000.0;
        // A 6 ms CMAP from 3 ms: quiet again from 9 ms (1 ms of quiet
        // confirms it).
        let x = toy(fs, &[0.2], 4.0);
        let p = (0.2 * fs) as usize;
        let end = response_end(&x, rate(fs), (0, x.len()), p, x.len(), 1e-6);
        let ms = (end - p) as f64 / fs * 1000.0;
        assert!((8.5..=9.2).contains(&ms), "{ms} ms");
        // Seen only up to 7 ms, it has not ended.
        let until = p + (0.007 * fs) as usize;
        assert_eq!(
            response_end(&x, rate(fs), (0, x.len()), p, until, 1e-6),
            until
        );
        // A signal that never settles (ringing after the stimulus): at most
        // 15 ms.
        let mut ring = x.clone();
        for (k, v) in ring.iter_mut().enumerate().skip(p) {
            *v += (2.0 * (k as f64 / fs * 2000.0 * std::f64::consts::PI).sin()) as f32;
        }
        let end = response_end(&ring, rate(fs), (0, x.len()), p, x.len(), 1e-6);
        assert_eq!(end - p, rate(fs).samples_in(OWN_EDGE));
    }

    #[test]
    fn finds_artifacts_even_when_cmap_is_larger() {
        let fs = 20_000.0;
        let stims: Vec<f64> = (0..10).map(|k| 0.2 + k as f64 / 3.0).collect();
        let x = toy(fs, &stims, 12.0);
        let det = detect_from_artifacts(&x, rate(fs), &[(0, x.len())]);
        assert_eq!(det.stimuli.len(), 10);
        for (s, t) in det.stimuli.iter().zip(&stims) {
            // The toy steps at sample floor(t·fs): the onset lies within the step.
            let step = (t * fs).floor();
            let at = s.sample as f64 + s.frac;
            assert!(at > step - 1.0 && at <= step, "{at} vs {step}");
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
