//! Grouping stimuli into trains, and finding voluntary activity (exercise)
//! between them.
//!
//! **Trains.** Stimuli are taken in time order. A stimulus joins the current
//! train when its interval from the previous one is at most [`MAX_ISI_S`] and, once
//! the train has an interval, within ±25 % of it; otherwise it starts a new train.
//! So a 3 Hz train, a 50 Hz train and single stimuli seconds apart come out as
//! separate trains of any length from 1 up.
//!
//! **Exercise.** Between trains the signal is cut into 50 ms blocks and the RMS
//! of its difference over 1 ms measured (high-pass by nature, so hum and wander
//! count little; over a fixed time rather than one sample, so that voluntary
//! EMG, 20–450 Hz, keeps its weight against broadband noise at any sample
//! rate). A block is active above 4 × the quiet level (the 25th
//! percentile of all such blocks in the recording, so up to three quarters of a
//! recording may be exercise) and above 4 × the noise slope. Active runs closer
//! than 0.5 s merge; a run of at least 2 s is an exercise period.

use crate::analysis::context::MeasuredTrain;
use crate::analysis::response::Measurement;
use crate::analysis::traces::{ResponseTrace, TrainTraces};
use crate::settings::config::AnalysisConfig;
use crate::units::{Ms, SampleRate, Seconds};
use crate::vocab::{RoleSource, TrainRole};
use rayon::prelude::*;
use std::ops::Range;

/// Longest interval inside a train (slower than ~0.9 Hz is not a train).
pub const MAX_ISI_S: f64 = 1.1;
/// Relative tolerance of the interval inside a train.
const ISI_TOLERANCE: f64 = 0.25;

/// Group stimulus times (s, ascending) into trains; returns index ranges.
pub fn group_by_interval(times: &[f64]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    if times.is_empty() {
        return out;
    }
    let mut start = 0;
    let mut isi: Option<f64> = None;
    for i in 1..times.len() {
        let gap = times[i] - times[i - 1];
        let joins = gap <= MAX_ISI_S
            && match isi {
                None => true,
                Some(t) => (gap - t).abs() <= ISI_TOLERANCE * t,
            };
        if joins {
            if isi.is_none() {
                isi = Some(gap);
            }
        } else {
            out.push(start..i);
            start = i;
            isi = None;
        }
    }
    out.push(start..times.len());
    out
}

/// Stimulation rate of a train from its stimulus times (median interval).
pub fn rate_of(times: &[f64]) -> Option<f64> {
    if times.len() < 2 {
        return None;
    }
    let mut isi: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    let m = crate::analysis::dsp::median_in_place(&mut isi);
    (m > 0.0).then(|| 1.0 / m)
}

/// A period of voluntary activity, as sample indices `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Activity {
    /// First active sample.
    pub start: usize,
    /// One past the last active sample.
    pub end: usize,
}

/// Slope-RMS activity of a signal in 50 ms blocks.
pub struct ActivityMap {
    block: usize,
    rms: Vec<f64>,
    quiet: f64,
    noise_floor: f64,
}

impl ActivityMap {
    /// Measure every block of `x`; `noise_slope_sd` is the robust SD of the
    /// first difference (mV per sample; for white noise it is also the SD of
    /// the 1 ms difference).
    pub fn new(x: &[f32], rate: SampleRate, noise_slope_sd: f64) -> Self {
        let block = rate.samples_in(Ms(50.0)).max(8);
        // A one-sample difference would weigh EMG by 1/rate against white
        // noise: at 50 kHz a 1 mV rms contraction went unseen.
        let lag = rate.samples_in(Ms(1.0)).clamp(1, block / 2);
        // Blocks are independent: measured on all threads, collected in order.
        let rms: Vec<f64> = x
            .par_chunks(block)
            .map(|c| {
                if c.len() <= lag {
                    return 0.0;
                }
                let s = lagged_square_sum(c, lag);
                (s / (c.len() - lag) as f64).sqrt()
            })
            .collect();
        let mut sorted = rms.clone();
        sorted.sort_by(|a, b| a.total_cmp(b));
        let quiet = sorted.get(sorted.len() / 4).copied().unwrap_or(0.0);
        ActivityMap {
            block,
            rms,
            quiet,
            noise_floor: noise_slope_sd,
        }
    }

    /// The longest run of activity (≥ `min_len`) inside `[from, to)`, skipping
    /// blocks that overlap `excluded` ranges (response windows).
    pub fn longest_activity(
        &self,
        from: usize,
        to: usize,
        excluded: &[(usize, usize)],
        rate: SampleRate,
        min_len: Seconds,
    ) -> Option<Activity> {
        let thr = (4.0 * self.quiet).max(4.0 * self.noise_floor);
        if thr.is_nan() || thr <= 0.0 {
            return None;
        }
        let merge_gap = rate.samples_in(Ms(500.0));
        let first = from.div_ceil(self.block);
        let last = to / self.block;
        let mut best: Option<Activity> = None;
        let mut cur: Option<Activity> = None;
        for b in first..last.min(self.rms.len()) {
            let (a, e) = (b * self.block, (b + 1) * self.block);
            if excluded.iter().any(|&(xa, xb)| xa < e && a < xb) {
                continue;
            }
            if self.rms[b] <= thr {
                continue;
            }
            cur = match cur {
                Some(c) if a <= c.end + merge_gap => Some(Activity {
                    start: c.start,
                    end: e,
                }),
                Some(c) => {
                    if best.is_none_or(|bb| c.end - c.start > bb.end - bb.start) {
                        best = Some(c);
                    }
                    Some(Activity { start: a, end: e })
                }
                None => Some(Activity { start: a, end: e }),
            };
        }
        if let Some(c) = cur {
            if best.is_none_or(|bb| c.end - c.start > bb.end - bb.start) {
                best = Some(c);
            }
        }
        best.filter(|b| (b.end - b.start) >= rate.samples_in_s(min_len))
    }
}

/// `Σ (c[i + lag] − c[i])²` over the block, summed in 8 lanes so that the
/// compiler can vectorise it (the order of the additions only moves the last
/// bits of a figure that is compared with a threshold 4 × larger than quiet).
#[multiversion::multiversion(targets("x86_64+avx2"))]
fn lagged_square_sum(c: &[f32], lag: usize) -> f64 {
    let (a, b) = (&c[..c.len() - lag], &c[lag..]);
    let mut acc = [0.0f64; 8];
    let (mut ca, mut cb) = (a.chunks_exact(8), b.chunks_exact(8));
    for (pa, pb) in (&mut ca).zip(&mut cb) {
        for j in 0..8 {
            let d = f64::from(pb[j]) - f64::from(pa[j]);
            acc[j] += d * d;
        }
    }
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(&p, &q)| {
            let d = f64::from(q) - f64::from(p);
            d * d
        })
        .sum();
    acc.iter().sum::<f64>() + tail
}

/// Group stimuli into trains: by interval when timing is known, else by the
/// protocol's per-train response counts (sweeps), else one train.
pub fn group_stimuli(
    times: &[f64],
    timing_known: bool,
    cfg: &AnalysisConfig,
    n: usize,
) -> Vec<std::ops::Range<usize>> {
    if timing_known {
        return group_by_interval(times);
    }
    let counts: Vec<usize> = cfg.trains.iter().filter_map(|t| t.responses).collect();
    if counts.is_empty() || counts.len() != cfg.trains.len() {
        return std::iter::once(0..n).collect();
    }
    let mut out = Vec::new();
    let mut start = 0;
    for c in counts {
        if start >= n {
            break;
        }
        // A sidecar may state any count (hand-edited files): saturate, never wrap.
        let end = start.saturating_add(c).min(n);
        out.push(start..end);
        start = end;
    }
    if start < n {
        out.push(start..n);
    }
    out
}

/// The trains of `groups` (ranges of stimulus indices) with their times,
/// rates, measurements (`measured`, one per stimulus) and the stimulus
/// intensity the file gives at each stimulus sample (`intensity`). Roles
/// start as `baseline` from order and gaps; [`roles`](super::roles) decides
/// them.
#[allow(clippy::too_many_arguments)]
pub fn build(
    groups: &[Range<usize>],
    stims: &[usize],
    times: &[f64],
    measured: &[Option<(Measurement, bool)>],
    timing_known: bool,
    cfg: &AnalysisConfig,
    intensity: &dyn Fn(usize) -> Option<f64>,
) -> Vec<MeasuredTrain> {
    groups
        .iter()
        .enumerate()
        .map(|(gi, g)| {
            let spec = cfg.trains.get(gi);
            let rate_hz = if timing_known {
                rate_of(&times[g.clone()])
            } else {
                spec.and_then(|t| t.rate_hz).or(cfg.sweep_rate.map(|h| h.0))
            };
            let tt: Vec<Option<f64>> = if timing_known {
                times[g.clone()].iter().map(|&t| Some(t)).collect()
            } else {
                // Sweeps: times only when the rate is known; trains back to back.
                (0..g.len())
                    .map(|j| rate_hz.map(|r| (g.start + j) as f64 / r))
                    .collect()
            };
            let mut ms = Vec::new();
            let mut clipped = Vec::new();
            let mut positions = Vec::new();
            let mut unmeasured = 0;
            for (k, m) in measured[g.clone()].iter().enumerate() {
                match m {
                    Some((m, c)) => {
                        ms.push(m.clone());
                        positions.push(k);
                        clipped.push(*c);
                    }
                    None => unmeasured += 1,
                }
            }
            MeasuredTrain {
                stimuli: stims[g.clone()].to_vec(),
                times: tt,
                rate_hz,
                role: TrainRole::Baseline,
                role_source: RoleSource::OrderAndGaps,
                delay_s: None,
                measurements: ms,
                positions,
                intensities: stims[g.clone()].iter().map(|&s| intensity(s)).collect(),
                clipped,
                unmeasured,
            }
        })
        .collect()
}

/// Each train's traces (`traces`: one per stimulus, `None` where nothing was
/// measured): they follow the measured responses of each train, as
/// `TrainOut::responses` does.
pub fn traces(groups: &[Range<usize>], traces: &[Option<ResponseTrace>]) -> Vec<TrainTraces> {
    groups
        .iter()
        .enumerate()
        .map(|(gi, g)| TrainTraces {
            index: gi + 1,
            responses: traces[g.clone()].iter().flatten().cloned().collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_trains_by_interval() {
        let mut t: Vec<f64> = (0..10).map(|k| k as f64 / 3.0).collect(); // 3 Hz
        t.push(20.0); // single
        t.extend((0..50).map(|k| 40.0 + k as f64 / 50.0)); // 50 Hz
        t.push(60.0);
        t.push(60.3333); // two at 3 Hz
        let g = group_by_interval(&t);
        assert_eq!(g, vec![0..10, 10..11, 11..61, 61..63]);
        assert!((rate_of(&t[11..61]).unwrap() - 50.0).abs() < 1e-6);
        assert_eq!(rate_of(&t[10..11]), None);
    }

    #[test]
    fn separates_back_to_back_trains_of_different_rates() {
        let mut t: Vec<f64> = (0..5).map(|k| k as f64 / 3.0).collect();
        let last = t[4];
        t.extend((1..20).map(|k| last + 0.5 + k as f64 / 20.0));
        let g = group_by_interval(&t);
        assert_eq!(g[0], 0..5);
        assert_eq!(g.len(), 2);
    }

    #[test]
    fn finds_exercise_burst() {
        let rate = SampleRate::new(5_000.0).unwrap();
        let n = 5_000 * 30;
        let mut s = 7u64;
        let x: Vec<f32> = (0..n)
            .map(|i| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                let u = (s % 2001) as f64 / 1000.0 - 1.0;
                let active = (10 * 5_000..20 * 5_000).contains(&i);
                (u * if active { 0.5 } else { 0.01 }) as f32
            })
            .collect();
        let map = ActivityMap::new(&x, rate, 0.01);
        let a = map.longest_activity(0, n, &[], rate, Seconds(2.0)).unwrap();
        assert!((a.start as i64 - 50_000).abs() <= 250, "{a:?}");
        assert!((a.end as i64 - 100_000).abs() <= 250, "{a:?}");
        assert!(map
            .longest_activity(0, 45_000, &[], rate, Seconds(2.0))
            .is_none());
    }
}
