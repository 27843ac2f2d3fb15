//! The mains-hum model.
//!
//! Hum is found with a Welch spectrum (`realfft`) of stretches
//! that hold no stimulus or response, as a narrow line at 50 or 60 Hz standing
//! well above its neighbours. It is then modelled block by block (0.4 s blocks,
//! half-overlapping) as a least-squares fit of the fundamental and its 2nd and
//! 3rd harmonics plus a constant and a slope, using only the samples outside
//! response windows; blocks with too few such samples (inside a high-rate train)
//! take coefficients interpolated from their neighbours. The model is evaluated
//! only where a window is measured and subtracted there.

//!
//! The fit's normal equations come from sums over the quiet points
//! (`Moments`): blocks of two half-overlapping hops share each hop's sums,
//! the sums that do not involve the signal are taken in closed form, and the
//! rest is summed in blocks of phasors. The tests check each of these against
//! a naive least-squares fit on the same points.

use super::dsp::{median_in_place, solve_augmented};
use super::scratch::{self, FrameBuffers};
use crate::units::SampleRate;
use rayon::prelude::*;
use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};
use std::sync::Arc;

/// A set of sample ranges excluded from hum estimation (stimuli and responses),
/// sorted and merged.
#[derive(Debug, Clone, Default)]
pub struct Mask {
    ranges: Vec<(usize, usize)>,
}

impl Mask {
    /// Build from possibly overlapping ranges `[a, b)`.
    pub fn new(mut ranges: Vec<(usize, usize)>) -> Self {
        ranges.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
        for (a, b) in ranges {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        Mask { ranges: merged }
    }

    /// Whether sample `i` is masked.
    pub fn contains(&self, i: usize) -> bool {
        let p = self.ranges.partition_point(|r| r.1 <= i);
        self.ranges.get(p).is_some_and(|r| r.0 <= i)
    }

    /// The unmasked runs `[a', b')` inside `[a, b)`, in order.
    pub fn gaps(&self, a: usize, b: usize) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut at = a;
        let first = self.ranges.partition_point(|r| r.1 <= a);
        for &(ra, rb) in &self.ranges[first..] {
            if ra >= b {
                break;
            }
            if ra > at {
                out.push((at, ra));
            }
            at = at.max(rb);
        }
        if at < b {
            out.push((at, b));
        }
        out
    }

    /// Whether each sample of `[a, b)` is masked, into `out` (cleared first).
    pub fn flags(&self, a: usize, b: usize, out: &mut Vec<bool>) {
        out.clear();
        out.resize(b.saturating_sub(a), false);
        let first = self.ranges.partition_point(|r| r.1 <= a);
        for &(ra, rb) in &self.ranges[first..] {
            if ra >= b {
                break;
            }
            out[ra.max(a) - a..rb.min(b) - a].fill(true);
        }
    }

    /// Number of masked samples in `[a, b)`.
    pub fn count_in(&self, a: usize, b: usize) -> usize {
        self.ranges
            .iter()
            .map(|&(ra, rb)| rb.min(b).saturating_sub(ra.max(a)))
            .sum()
    }
}

/// Harmonics modelled: the fundamental, 2nd and 3rd.
const HARMONICS: usize = 3;
/// Unknowns per block: cos and sin per harmonic, constant, slope.
const UNKNOWNS: usize = 2 * HARMONICS + 2;

/// A fitted mains-hum model (see the module doc).
#[derive(Debug, Clone)]
pub struct HumModel {
    /// Mains frequency found, Hz.
    pub freq_hz: f64,
    /// RMS amplitude of the fitted hum (fundamental and harmonics), mV.
    pub rms_mv: f64,
    rate: f64,
    hop: usize,
    /// Block centres (sample index) and their cos/sin coefficients.
    centres: Vec<usize>,
    coeffs: Vec<[f64; 2 * HARMONICS]>,
}

impl HumModel {
    /// A model of constant hum at `freq_hz` with this RMS (tests of what
    /// reports hum).
    #[cfg(test)]
    pub(crate) fn for_test(freq_hz: f64, rms_mv: f64) -> Self {
        HumModel {
            freq_hz,
            rms_mv,
            rate: 10_000.0,
            hop: 1,
            centres: vec![0],
            coeffs: vec![[rms_mv * std::f64::consts::SQRT_2, 0.0, 0.0, 0.0, 0.0, 0.0]],
        }
    }

    /// The hum at sample `i`.
    pub fn value_at(&self, i: usize) -> f64 {
        let c = self.coeffs_at(i);
        let t = i as f64 / self.rate;
        let mut v = 0.0;
        for k in 0..HARMONICS {
            let ph = ((k + 1) as f64 * self.freq_hz * t).fract() * std::f64::consts::TAU;
            v += c[2 * k] * ph.cos() + c[2 * k + 1] * ph.sin();
        }
        v
    }

    /// The hum at samples `a..b`, appended to `out`: [`HumModel::value_at`]
    /// of each sample, with each harmonic's phase computed exactly at `a` and
    /// then advanced one sample at a time by a complex rotation (a window of
    /// a few thousand samples drifts by ~1e-13, far below any rounding of
    /// the outputs, for a fraction of the cost of a sine and cosine per sample).
    pub fn values_into(&self, a: usize, b: usize, out: &mut Vec<f64>) {
        if b <= a {
            return;
        }
        let t = a as f64 / self.rate;
        let mut z = [(0.0, 0.0); HARMONICS];
        let mut w = [(0.0, 0.0); HARMONICS];
        for k in 0..HARMONICS {
            let h = (k + 1) as f64 * self.freq_hz;
            let (s, c) = ((h * t).fract() * std::f64::consts::TAU).sin_cos();
            z[k] = (c, s);
            let (s, c) = ((h / self.rate).fract() * std::f64::consts::TAU).sin_cos();
            w[k] = (c, s);
        }
        out.reserve(b - a);
        for i in a..b {
            let c = self.coeffs_at(i);
            let mut v = 0.0;
            for k in 0..HARMONICS {
                let (zc, zs) = z[k];
                v += c[2 * k] * zc + c[2 * k + 1] * zs;
                z[k] = (zc * w[k].0 - zs * w[k].1, zc * w[k].1 + zs * w[k].0);
            }
            out.push(v);
        }
    }

    fn coeffs_at(&self, i: usize) -> [f64; 2 * HARMONICS] {
        let n = self.centres.len();
        if n == 1 || i <= self.centres[0] {
            return self.coeffs[0];
        }
        if i >= self.centres[n - 1] {
            return self.coeffs[n - 1];
        }
        let k = ((i - self.centres[0]) / self.hop).min(n - 2);
        let (c0, c1) = (self.centres[k], self.centres[k + 1]);
        let w = (i - c0) as f64 / (c1 - c0).max(1) as f64;
        let mut out = [0.0; 2 * HARMONICS];
        for (j, o) in out.iter_mut().enumerate() {
            *o = self.coeffs[k][j] * (1.0 - w) + self.coeffs[k + 1][j] * w;
        }
        out
    }
}

/// Look for mains hum at 50 or 60 Hz and, if found, fit a [`HumModel`].
///
/// `segments` are contiguous `[start, end)` runs (hum is only sought in runs
/// long enough for a ≥ 2.5 s spectrum frame); `mask` holds the response windows to ignore.
pub fn fit_hum(
    x: &[f32],
    rate: SampleRate,
    segments: &[(usize, usize)],
    mask: &Mask,
) -> Option<HumModel> {
    let f0 = detect_mains(x, rate, segments, mask)?;
    fit_hum_at(x, rate, segments, mask, f0)
}

/// Most points of one mains-spectrum transform (see [`detect_mains`]).
const MAX_SPECTRUM_POINTS: usize = 1 << 16;

/// Memory the spectrum frames' work buffers may take at once.
const FRAME_BUDGET_BYTES: usize = 8 << 20;

/// The forward plan and Hann window for `nfft` points, from this thread's
/// cache ([`scratch::spectrum_tools`]).
fn spectrum_tools(nfft: usize) -> (Arc<dyn RealToComplex<f64>>, Arc<Vec<f64>>) {
    scratch::spectrum_tools(nfft, || {
        // Planning and the window are independent: side by side.
        rayon::join(
            || RealFftPlanner::<f64>::new().plan_fft_forward(nfft),
            || -> Arc<Vec<f64>> {
                Arc::new(
                    (0..nfft)
                        .into_par_iter()
                        .map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / nfft as f64).cos())
                        .collect(),
                )
            },
        )
    })
}

/// One spectrum frame's transform input: the points' values (`value(i)`)
/// less the mean of the unmasked ones, Hann-windowed, masked points zero.
/// Generic over `value` so that each kind of point (a sample, a mean of
/// samples) gets its own loop, without a branch per point.
fn fill_frame(input: &mut [f64], masked: &[bool], window: &[f64], value: impl Fn(usize) -> f64) {
    let mut mean = 0.0;
    let mut cnt = 0usize;
    for (i, &m) in masked.iter().enumerate() {
        if !m {
            mean += value(i);
            cnt += 1;
        }
    }
    mean /= cnt.max(1) as f64;
    for (i, ((o, &m), &w)) in input.iter_mut().zip(masked).zip(window).enumerate() {
        *o = if m { 0.0 } else { (value(i) - mean) * w };
    }
}

/// Welch-spectrum detection of a mains line; returns the refined frequency.
fn detect_mains(
    x: &[f32],
    rate: SampleRate,
    segments: &[(usize, usize)],
    mask: &Mask,
) -> Option<f64> {
    let plan = FramePlan::new(rate, segments)?;
    let starts = plan.starts(segments, mask);
    let frames_power = band_powers(x, mask, &plan, &starts);
    if frames_power.is_empty() {
        return None;
    }
    let power = lower_quartile(&frames_power, plan.band);
    mains_line(&power, plan.bin_hz)
}

/// The Welch frames of [`detect_mains`]: their length, transform size and
/// the 30–80 Hz band of bins kept.
struct FramePlan {
    /// Samples per frame (a power of two, ≥ 2.5 s).
    span: usize,
    /// Points per transform.
    nfft: usize,
    /// Samples averaged into one point (`span / nfft`).
    dec: usize,
    /// Hz per bin.
    bin_hz: f64,
    /// The bins kept, `[lo, hi]`.
    band: (usize, usize),
}

impl FramePlan {
    /// The frames for `segments` at `rate`; `None` when no segment holds one.
    fn new(rate: SampleRate, segments: &[(usize, usize)]) -> Option<Self> {
        let fs = rate.hz();
        // Frames of ≥ 2.5 s: ~0.2–0.4 Hz resolution, enough to separate mains
        // from 3 Hz stimulation lines.
        let mut span = 1usize;
        while (span as f64) < fs * 2.5 {
            span <<= 1;
        }
        // Above ~26 kHz a frame is transformed from the means of `dec`
        // consecutive samples (a power of two), so that a transform never has
        // more than 2^16 points: only 30–80 Hz matters, the means keep it (their
        // first null is at fs / dec ≥ 26 kHz), and the work buffers stay about
        // 1.6 MB at any rate (105 MB at 1 MHz otherwise).
        let nfft = span.min(MAX_SPECTRUM_POINTS);
        segments.iter().any(|(a, b)| b - a >= span).then_some(())?;
        let bin_hz = fs / span as f64;
        let bin = |f: f64| (f / bin_hz).round() as usize;
        // Only the 30–80 Hz band is needed; keep it per frame so that the
        // median across frames ignores frames full of voluntary EMG.
        Some(FramePlan {
            span,
            nfft,
            dec: span / nfft,
            bin_hz,
            band: (bin(30.0), bin(80.0).min(nfft / 2)),
        })
    }

    /// Up to 12 frame starts spread over the segments that hold a frame,
    /// each frame less than half masked.
    fn starts(&self, segments: &[(usize, usize)], mask: &Mask) -> Vec<usize> {
        let span = self.span;
        let usable: Vec<(usize, usize)> = segments
            .iter()
            .copied()
            .filter(|(a, b)| b - a >= span)
            .collect();
        let total_frames: usize = usable.iter().map(|(a, b)| (b - a) / span).sum();
        let step = (total_frames / 12).max(1);
        let mut starts: Vec<usize> = Vec::with_capacity(12);
        let mut k = 0usize;
        for &(a, b) in &usable {
            let mut start = a;
            while start + span <= b {
                if k.is_multiple_of(step)
                    && starts.len() < 12
                    && mask.count_in(start, start + span) < span / 2
                {
                    starts.push(start);
                }
                k += 1;
                start += span;
            }
        }
        starts
    }
}

/// The power of each frame's band bins (`plan.band`), in frame order.
fn band_powers(x: &[f32], mask: &Mask, plan: &FramePlan, starts: &[usize]) -> Vec<Vec<f64>> {
    let FramePlan {
        nfft, dec, band, ..
    } = *plan;
    let (fft, window) = spectrum_tools(nfft);
    // The frames' transforms are independent: in groups on all threads, in
    // order. The groups are as many as the work buffers a memory budget
    // allows at once (about 25 bytes per point: one set at 20 kHz is 1.6 MB,
    // at 1 MHz 105 MB), so that many cores do not multiply the memory.
    let per_set = 25 * nfft;
    let at_once = (FRAME_BUDGET_BYTES / per_set).clamp(1, rayon::current_num_threads().max(1));
    let groups: Vec<&[usize]> = starts
        .chunks(starts.len().div_ceil(at_once).max(1))
        .collect();
    let one_frame = |b: &mut FrameBuffers, start: usize| -> Option<Vec<f64>> {
        let FrameBuffers {
            input,
            spectrum,
            scratch,
            masked,
        } = b;
        input.resize(nfft, 0.0);
        spectrum.resize(nfft / 2 + 1, Complex::default());
        scratch.resize(fft.get_scratch_len(), Complex::default());
        // A point is a sample, or the mean of `dec` samples (masked when
        // any of them is).
        if dec > 1 {
            masked.clear();
            masked.extend(
                (0..nfft).map(|i| mask.count_in(start + i * dec, start + (i + 1) * dec) > 0),
            );
            fill_frame(input, masked, &window, |i| {
                let block = &x[start + i * dec..start + (i + 1) * dec];
                block.iter().map(|&v| f64::from(v)).sum::<f64>() / dec as f64
            });
        } else {
            mask.flags(start, start + nfft, masked);
            let seg = &x[start..start + nfft];
            fill_frame(input, masked, &window, |i| f64::from(seg[i]));
        }
        fft.process_with_scratch(input, spectrum, scratch)
            .ok()
            .map(|()| {
                spectrum[band.0..=band.1]
                    .iter()
                    .map(|c| c.norm_sqr())
                    .collect()
            })
    };
    groups
        .par_iter()
        .map(|group| {
            let mut b = FrameBuffers::take();
            let out: Vec<Option<Vec<f64>>> = group.iter().map(|&s| one_frame(&mut b, s)).collect();
            b.give_back(at_once);
            out
        })
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .flatten()
        .collect()
}

/// `power[i]`, for each bin `i` of `band` (absolute index; 0 outside it, and
/// one bin past it): the lower quartile over frames. Mains hum is in every
/// frame, voluntary EMG only in some, so the quartile stays on quiet frames
/// while up to three quarters are contaminated.
fn lower_quartile(frames_power: &[Vec<f64>], (band_lo, band_hi): (usize, usize)) -> Vec<f64> {
    let mut power = vec![0.0f64; band_hi + 2];
    let mut col = Vec::with_capacity(frames_power.len());
    for i in band_lo..=band_hi {
        col.clear();
        col.extend(frames_power.iter().map(|f| f[i - band_lo]));
        col.sort_by(|a, b| a.total_cmp(b));
        power[i] = col[(col.len() - 1) / 4];
    }
    power
}

/// The mains line in `power` (bins of `bin_hz`): the 50 or 60 Hz peak that
/// stands 20× (13 dB) above the floor, the higher of the two, at a sub-bin
/// frequency (a parabola through the log powers).
fn mains_line(power: &[f64], bin_hz: f64) -> Option<f64> {
    let bin = |f: f64| (f / bin_hz).round() as usize;
    // Noise floor: median power in 35–75 Hz away from the two candidate lines.
    let mut floor: Vec<f64> = (bin(35.0)..=bin(75.0).min(power.len() - 1))
        .filter(|&i| {
            let f = i as f64 * bin_hz;
            (f - 50.0).abs() > 2.0 && (f - 60.0).abs() > 2.0
        })
        .map(|i| power[i])
        .collect();
    let floor = median_in_place(&mut floor);
    let mut best: Option<(f64, f64)> = None;
    for f in [50.0, 60.0] {
        let lo = bin(f - 0.8);
        let hi = bin(f + 0.8).min(power.len() - 2);
        let Some(pk) = (lo..=hi).max_by(|&i, &j| power[i].total_cmp(&power[j])) else {
            continue;
        };
        let ratio = power[pk] / floor.max(1e-300);
        // A line 20× (13 dB) above the floor is unmistakable hum.
        if ratio >= 20.0 && best.is_none_or(|(_, r)| ratio > r) {
            // Parabolic interpolation on log power for sub-bin frequency.
            let (l, c, r) = (
                power[pk - 1].max(1e-300).ln(),
                power[pk].max(1e-300).ln(),
                power[pk + 1].max(1e-300).ln(),
            );
            let den = l - 2.0 * c + r;
            let off = if den.abs() > 1e-12 {
                0.5 * (l - r) / den
            } else {
                0.0
            };
            best = Some(((pk as f64 + off.clamp(-0.5, 0.5)) * bin_hz, ratio));
        }
    }
    best.map(|(f, _)| f)
}

fn fit_hum_at(
    x: &[f32],
    rate: SampleRate,
    segments: &[(usize, usize)],
    mask: &Mask,
    f0: f64,
) -> Option<HumModel> {
    let fs = rate.hz();
    let block = ((0.4 * fs) as usize).max(16);
    let hop = block / 2;
    let n = x.len();
    if n < block {
        return None;
    }
    // Decimate the fit: ≥ 16 points per cycle of the highest harmonic suffices.
    let stride = ((fs / (16.0 * f0 * HARMONICS as f64)) as usize).max(1);
    let basis = Basis { fs, f0, stride };
    // Blocks overlap by half. When a block is exactly two hops and the hops
    // hold whole strides, every point of a block belongs to one of two
    // hop-long stretches with the same points, so each stretch is summed once
    // and the blocks add two of them up.
    let shared = block == 2 * hop && hop.is_multiple_of(stride);
    let stretches: Vec<Moments> = if shared {
        (0..n.div_ceil(hop))
            .into_par_iter()
            .map(|j| {
                let a = j * hop;
                basis.moments(x, a, (a + hop).min(n), a, segments, mask)
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut centres = Vec::new();
    let mut coeffs: Vec<Option<[f64; 2 * HARMONICS]>> = Vec::new();
    let mut start = 0usize;
    let mut j = 0usize;
    loop {
        let end = (start + block).min(n);
        centres.push(start + (end - start) / 2);
        let m = if shared {
            let mut m = stretches[j];
            if let Some(next) = stretches.get(j + 1) {
                m.add_shifted(next, hop as f64);
            }
            m
        } else {
            basis.moments(x, start, end, start, segments, mask)
        };
        coeffs.push(solve_block(&m, fs, f0, start, end, stride));
        if end == n {
            break;
        }
        start += hop;
        j += 1;
    }
    let good: Vec<usize> = (0..coeffs.len()).filter(|&i| coeffs[i].is_some()).collect();
    if good.is_empty() {
        return None;
    }
    // Fill blocks without enough quiet samples by linear interpolation in time.
    let mut filled = Vec::with_capacity(coeffs.len());
    for i in 0..coeffs.len() {
        if let Some(c) = coeffs[i] {
            filled.push(c);
            continue;
        }
        // `good` ascends and lacks i: bisect rather than scan (quadratic
        // when many blocks lack a fit).
        let k = good.partition_point(|&g| g < i);
        let before = k.checked_sub(1).map(|k| good[k]);
        let after = good.get(k).copied();
        let c = match (before, after) {
            (Some(b), Some(a)) => {
                let w = (i - b) as f64 / (a - b) as f64;
                let (cb, ca) = (coeffs[b].unwrap_or_default(), coeffs[a].unwrap_or_default());
                let mut o = [0.0; 2 * HARMONICS];
                for j in 0..o.len() {
                    o[j] = cb[j] * (1.0 - w) + ca[j] * w;
                }
                o
            }
            (Some(b), None) => coeffs[b].unwrap_or_default(),
            (None, Some(a)) => coeffs[a].unwrap_or_default(),
            (None, None) => [0.0; 2 * HARMONICS],
        };
        filled.push(c);
    }
    // Median over blocks: blocks inside voluntary EMG give noisy fits (they
    // hold no response, so they are never subtracted) and must not inflate
    // the reported level.
    let mut per_block: Vec<f64> = filled
        .iter()
        .map(|c| c.iter().map(|v| v * v).sum::<f64>() / 2.0)
        .collect();
    let ms = median_in_place(&mut per_block);
    Some(HumModel {
        freq_hz: f0,
        rms_mv: ms.sqrt(),
        rate: fs,
        hop,
        centres,
        coeffs: filled,
    })
}

/// Harmonics whose sums the normal equations need: products of two of the
/// modelled harmonics are harmonics up to twice the highest.
const SUM_HARMONICS: usize = 2 * HARMONICS;

/// Sums over the quiet points of a stretch from which the least-squares
/// normal equations of the hum model follow, for any block made of such
/// stretches. With `φ` the fundamental's phase at a point, `p` the point's
/// index from the stretch's origin and `v` its value:
/// `Σ cos mφ`, `Σ sin mφ` (m = 1…6; products of two modelled harmonics
/// reduce to these), `Σ g p`, `Σ p²`, `Σ g v`, `Σ p v`, where `g` runs over
/// the cos/sin of harmonics 1–3 and the constant 1.
#[derive(Debug, Clone, Copy, Default)]
struct Moments {
    /// `Σ cos mφ` at `[m − 1]`, `Σ sin mφ` at `[SUM_HARMONICS + m − 1]`.
    trig: [f64; 2 * SUM_HARMONICS],
    /// `Σ g p` (cos/sin of harmonics 1–3, then `Σ p` at index 6; 7 is padding).
    gp: [f64; 8],
    /// `Σ g v` (likewise, `Σ v` at index 6).
    gv: [f64; 8],
    /// Number of points.
    n: f64,
    /// `Σ p²`.
    pp: f64,
    /// `Σ p v`.
    pv: f64,
}

impl Moments {
    /// `Σ g` for `g` = cos/sin of harmonics 1–3 and the constant (index 6).
    fn g_sums(&self) -> [f64; 7] {
        let mut out = [0.0; 7];
        for k in 0..HARMONICS {
            out[2 * k] = self.trig[k];
            out[2 * k + 1] = self.trig[SUM_HARMONICS + k];
        }
        out[6] = self.n;
        out
    }

    /// Add the sums of a later stretch whose origin lies `delta` points
    /// after this one's (`p` → `p + delta`).
    fn add_shifted(&mut self, o: &Moments, delta: f64) {
        let g = o.g_sums();
        self.pp += o.pp + 2.0 * delta * o.gp[6] + delta * delta * o.n;
        self.pv += o.pv + delta * o.gv[6];
        for ((a, &b), &gj) in self.gp.iter_mut().zip(&o.gp).zip(&g) {
            *a += b + delta * gj;
        }
        for j in 0..8 {
            self.gv[j] += o.gv[j];
        }
        for j in 0..self.trig.len() {
            self.trig[j] += o.trig[j];
        }
        self.n += o.n;
    }
}

/// The points of the hum fit: every `stride`-th sample, at mains frequency
/// `f0` for sample rate `fs`.
struct Basis {
    fs: f64,
    f0: f64,
    stride: usize,
}

impl Basis {
    /// [`Moments`] of the points `i` in `[a, b)` with `i ≡ origin (mod
    /// stride)` that lie in a segment and outside the mask, with `p = i − origin`.
    ///
    /// The phase advances by one complex multiplication per point (restarted
    /// exactly at every quiet run); the higher harmonics are powers of it.
    fn moments(
        &self,
        x: &[f32],
        a: usize,
        b: usize,
        origin: usize,
        segments: &[(usize, usize)],
        mask: &Mask,
    ) -> Moments {
        let mut m = Moments::default();
        let step =
            ((self.f0 * self.stride as f64 / self.fs).fract() * std::f64::consts::TAU).sin_cos();
        let (ws, wc) = step;
        let steps = PhaseSteps::new(self.f0 * self.stride as f64 / self.fs);
        // Segments ascend and are disjoint: start at the first that ends
        // after `a` and stop at the first that starts at or after `b` (an
        // EDF+D may have a segment per data record).
        let first = segments.partition_point(|&(_, sb)| sb <= a);
        for &(sa, sb) in &segments[first..] {
            if sa >= b {
                break;
            }
            let (lo, hi) = (sa.max(a), sb.min(b));
            if lo >= hi {
                continue;
            }
            for (ra, rb) in mask.gaps(lo, hi) {
                // First point of the run on the stride grid.
                let first = ra + (self.stride - (ra - origin) % self.stride) % self.stride;
                if first >= rb {
                    continue;
                }
                let t = first as f64 / self.fs;
                let phi0 = (self.f0 * t).fract() * std::f64::consts::TAU;
                let (s1, c1) = phi0.sin_cos();
                if let Some(closed) =
                    self.closed_sums(phi0, first - origin, (rb - 1 - first) / self.stride + 1)
                {
                    // Only the sums that involve the signal are left per point.
                    m.add_closed(&closed);
                    self.signal_sums(x, first, rb, origin, (c1, s1), &steps, &mut m);
                    continue;
                }
                self.point_sums(x, first, rb, origin, (c1, s1), (wc, ws), &mut m);
            }
        }
        m
    }

    /// Add every [`Moments`] sum of the points `first, first + stride, …`
    /// below `end` to `m`, point by point: the first point's fundamental
    /// phasor is `z`, and `w` rotates it by one stride (the fallback of
    /// [`Basis::closed_sums`], and the tests' reference for it).
    #[allow(clippy::too_many_arguments)]
    fn point_sums(
        &self,
        x: &[f32],
        first: usize,
        end: usize,
        origin: usize,
        z: (f64, f64),
        w: (f64, f64),
        m: &mut Moments,
    ) {
        let ((mut c1, mut s1), (wc, ws)) = (z, w);
        let mut i = first;
        while i < end {
            // Harmonics 2–6 as powers of the fundamental's phasor.
            let (c2, s2) = (c1 * c1 - s1 * s1, 2.0 * c1 * s1);
            let (c3, s3) = (c2 * c1 - s2 * s1, c2 * s1 + s2 * c1);
            let (c4, s4) = (c2 * c2 - s2 * s2, 2.0 * c2 * s2);
            let (c5, s5) = (c4 * c1 - s4 * s1, c4 * s1 + s4 * c1);
            let (c6, s6) = (c3 * c3 - s3 * s3, 2.0 * c3 * s3);
            let trig = [c1, c2, c3, c4, c5, c6, s1, s2, s3, s4, s5, s6];
            for (acc, v) in m.trig.iter_mut().zip(trig) {
                *acc += v;
            }
            let g = [c1, s1, c2, s2, c3, s3, 1.0, 0.0];
            let p = (i - origin) as f64;
            let v = x[i] as f64;
            for ((gp, gv), gj) in m.gp.iter_mut().zip(m.gv.iter_mut()).zip(g) {
                *gp += gj * p;
                *gv += gj * v;
            }
            m.pp += p * p;
            m.pv += p * v;
            m.n += 1.0;
            (c1, s1) = (c1 * wc - s1 * ws, c1 * ws + s1 * wc);
            i += self.stride;
        }
    }
}

/// Points handled from one phasor in [`Basis::signal_sums`].
const PHASE_BLOCK: usize = 16;

/// The rotations by 0…[`PHASE_BLOCK`] − 1 strides and by a whole block, as
/// (cos, sin).
struct PhaseSteps {
    within: [(f64, f64); PHASE_BLOCK],
    block: (f64, f64),
}

impl PhaseSteps {
    /// Steps for a phase advance of `cycles_per_stride` cycles per point.
    fn new(cycles_per_stride: f64) -> Self {
        let tau = std::f64::consts::TAU;
        let at = |k: usize| {
            let (s, c) = ((cycles_per_stride * k as f64).fract() * tau).sin_cos();
            (c, s)
        };
        let mut within = [(1.0, 0.0); PHASE_BLOCK];
        for (k, w) in within.iter_mut().enumerate() {
            *w = at(k);
        }
        PhaseSteps {
            within,
            block: at(PHASE_BLOCK),
        }
    }
}

impl Basis {
    /// Add `Σ g v` and `Σ p v` of the points `first, first + stride, …`
    /// below `end` to `m`, the first point's fundamental phasor being `z`
    /// ([`signal_sums`]).
    #[allow(clippy::too_many_arguments)]
    fn signal_sums(
        &self,
        x: &[f32],
        first: usize,
        end: usize,
        origin: usize,
        z: (f64, f64),
        steps: &PhaseSteps,
        m: &mut Moments,
    ) {
        let (gv, pv) = signal_sums(x, first, end, origin, self.stride, z, steps);
        for (acc, v) in m.gv.iter_mut().zip(gv) {
            *acc += v;
        }
        m.pv += pv;
    }

    /// The sums of a quiet run that do not involve the signal, in closed form:
    /// the run's `count` points start at phase `phi0` and index `p0` from the
    /// origin, and advance by `stride` samples (phase step `δ`). With
    /// `r = e^{imδ}`, `Σ e^{imφ} = e^{imφ0} (1 − r^N) / (1 − r)` and
    /// `Σ k r^k = r (1 − N r^{N−1} + (N−1) r^N) / (1 − r)²` (k < N), which
    /// give every [`Moments`] sum but `Σ g v` and `Σ p v` without a pass over
    /// the points. `None` when `δ` is too small for the division to be
    /// well conditioned (never at the strides [`fit_hum_at`] uses: `δ` is
    /// about 2π/48); the caller then sums point by point.
    fn closed_sums(&self, phi0: f64, p0: usize, count: usize) -> Option<Moments> {
        let tau = std::f64::consts::TAU;
        let delta = (self.f0 * self.stride as f64 / self.fs).fract() * tau;
        // Every r = e^{imδ} (m = 1…6) must stay clear of 1.
        if !(delta >= 1e-3 && SUM_HARMONICS as f64 * delta <= tau - 1e-3) {
            return None;
        }
        let one = Complex::new(1.0, 0.0);
        let (nf, p0, s) = (count as f64, p0 as f64, self.stride as f64);
        let mut m = Moments::default();
        for h in 1..=SUM_HARMONICS {
            let hf = h as f64;
            let z0 = Complex::from_polar(1.0, (hf * phi0) % tau);
            let r = Complex::from_polar(1.0, (hf * delta) % tau);
            let r_n = Complex::from_polar(1.0, (hf * delta * nf) % tau);
            let sum = z0 * (one - r_n) / (one - r);
            m.trig[h - 1] = sum.re;
            m.trig[SUM_HARMONICS + h - 1] = sum.im;
            if h <= HARMONICS {
                let r_n1 = r_n * r.conj();
                let k_sum = r * (one - r_n1 * nf + r_n * (nf - 1.0)) / ((one - r) * (one - r));
                let t = sum * p0 + z0 * k_sum * s;
                m.gp[2 * (h - 1)] = t.re;
                m.gp[2 * (h - 1) + 1] = t.im;
            }
        }
        m.gp[6] = nf * p0 + s * nf * (nf - 1.0) / 2.0;
        m.pp = nf * p0 * p0
            + p0 * s * nf * (nf - 1.0)
            + s * s * (nf - 1.0) * nf * (2.0 * nf - 1.0) / 6.0;
        m.n = nf;
        Some(m)
    }
}

/// `Σ g v` and `Σ p v` of the points `first, first + stride, …` below
/// `end` (`p` counted from `origin`), the first point's fundamental phasor
/// being `z`.
///
/// Each point's phasor is one multiplication away from its block's first
/// (independent multiplications pipeline, where a rotation per point is one
/// long chain of dependent ones), and even and odd points add into separate
/// sums for the same reason. Compiled for AVX2 as well, chosen at run time
/// (the same operations in the same order, so the same sums).
#[multiversion::multiversion(targets("x86_64+avx2"))]
fn signal_sums(
    x: &[f32],
    first: usize,
    end: usize,
    origin: usize,
    stride: usize,
    z: (f64, f64),
    steps: &PhaseSteps,
) -> ([f64; 8], f64) {
    let (mut zc, mut zs) = z;
    let mut sums = [[0.0f64; 8]; 2];
    let mut pv = [0.0f64; 2];
    let mut i = first;
    while i < end {
        let n = ((end - i).div_ceil(stride)).min(PHASE_BLOCK);
        for (k, &(wc, ws)) in steps.within[..n].iter().enumerate() {
            let (c1, s1) = (zc * wc - zs * ws, zc * ws + zs * wc);
            let (c2, s2) = (c1 * c1 - s1 * s1, 2.0 * c1 * s1);
            let (c3, s3) = (c2 * c1 - s2 * s1, c2 * s1 + s2 * c1);
            let j = i + k * stride;
            let v = x[j] as f64;
            let g = [c1, s1, c2, s2, c3, s3, 1.0, 0.0];
            for (acc, gj) in sums[k & 1].iter_mut().zip(g) {
                *acc += gj * v;
            }
            pv[k & 1] += (j - origin) as f64 * v;
        }
        let (bc, bs) = steps.block;
        (zc, zs) = (zc * bc - zs * bs, zc * bs + zs * bc);
        i += PHASE_BLOCK * stride;
    }
    let mut gv = [0.0; 8];
    for (acc, (a, b)) in gv.iter_mut().zip(sums[0].iter().zip(&sums[1])) {
        *acc = a + b;
    }
    (gv, pv[0] + pv[1])
}

impl Moments {
    /// Add the signal-free sums of [`Basis::closed_sums`].
    fn add_closed(&mut self, o: &Moments) {
        for (a, b) in self.trig.iter_mut().zip(&o.trig) {
            *a += b;
        }
        for (a, b) in self.gp.iter_mut().zip(&o.gp) {
            *a += b;
        }
        self.pp += o.pp;
        self.n += o.n;
    }
}

/// Fit one block `[start, end)` from its [`Moments`] (origin `start`): the
/// cos/sin coefficients of harmonics 1–3, when the block holds enough quiet
/// points spanning several hum cycles.
fn solve_block(
    m: &Moments,
    fs: f64,
    f0: f64,
    start: usize,
    end: usize,
    stride: usize,
) -> Option<[f64; 2 * HARMONICS]> {
    // Need a fair share of quiet samples spanning several hum cycles.
    let used = m.n as usize;
    let span_s = (end - start) as f64 / fs;
    if used < 64 || (used * stride) as f64 / fs < (span_s * 0.3).max(3.0 / f0) {
        return None;
    }
    // Unknowns: cos/sin of harmonics 1–3, a constant, and a slope in
    // u = (i − centre) / half, i.e. (p − d) / half with d the centre's offset.
    let centre = (start + end) as f64 / 2.0;
    let half = ((end - start) as f64 / 2.0).max(1.0);
    let d = centre - start as f64;
    // Σ cos kφ and Σ sin kφ for k = −6…6 (cos even, sin odd, k = 0: n and 0).
    let cs = |k: i64| -> (f64, f64) {
        let a = k.unsigned_abs() as usize;
        if a == 0 {
            (m.n, 0.0)
        } else {
            let (c, s) = (m.trig[a - 1], m.trig[SUM_HARMONICS + a - 1]);
            (c, if k < 0 { -s } else { s })
        }
    };
    let g = m.g_sums();
    let mut ata = [[0.0f64; UNKNOWNS + 1]; UNKNOWNS];
    // Products of harmonics a and b (1-based), from the sum-to-product rules.
    for ha in 1..=HARMONICS as i64 {
        for hb in 1..=HARMONICS as i64 {
            let (cd, sd) = cs(ha - hb);
            let (cp, sp) = cs(ha + hb);
            let (ra, rb) = (2 * (ha - 1) as usize, 2 * (hb - 1) as usize);
            ata[ra][rb] = 0.5 * (cd + cp); // cos a · cos b
            ata[ra + 1][rb + 1] = 0.5 * (cd - cp); // sin a · sin b
            ata[ra][rb + 1] = 0.5 * (sp - sd); // cos a · sin b
            ata[ra + 1][rb] = 0.5 * (sp + sd); // sin a · cos b
        }
    }
    let (kc, ku) = (2 * HARMONICS, 2 * HARMONICS + 1);
    for j in 0..=kc {
        ata[j][kc] = g[j];
        ata[kc][j] = g[j];
        let gu = (m.gp[j] - d * g[j]) / half;
        ata[j][ku] = gu;
        ata[ku][j] = gu;
    }
    ata[ku][ku] = (m.pp - 2.0 * d * m.gp[6] + d * d * m.n) / (half * half);
    for (row, &gv) in ata.iter_mut().zip(&m.gv).take(kc + 1) {
        row[UNKNOWNS] = gv;
    }
    ata[ku][UNKNOWNS] = (m.pv - d * m.gv[6]) / half;
    solve_augmented(&mut ata)?;
    let mut out = [0.0; 2 * HARMONICS];
    for (j, o) in out.iter_mut().enumerate() {
        *o = ata[j][UNKNOWNS];
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_merges_and_counts() {
        let m = Mask::new(vec![(10, 20), (15, 30), (40, 50)]);
        assert!(m.contains(10) && m.contains(29) && !m.contains(30) && m.contains(45));
        assert_eq!(m.count_in(0, 100), 30);
        assert_eq!(m.count_in(25, 45), 10);
    }

    #[test]
    fn hum_is_found_and_modelled() {
        let rate = SampleRate::new(5_000.0).unwrap();
        let n = 5_000 * 12;
        let mut rng = crate::test_rng::XorShift::new(12345u64);
        let x: Vec<f32> = (0..n)
            .map(|i| {
                // xorshift noise, ~10 µV
                let state = rng.next_u64();
                let noise = ((state % 2001) as f64 / 1000.0 - 1.0) * 0.017;
                let t = i as f64 / 5000.0;
                (0.08 * (std::f64::consts::TAU * 50.02 * t + 0.3).sin() + noise + 0.5) as f32
            })
            .collect();
        let mask = Mask::new(vec![(20_000, 25_000)]);
        let hum = fit_hum(&x, rate, &[(0, n)], &mask).expect("hum found");
        assert!((hum.freq_hz - 50.02).abs() < 0.1, "{}", hum.freq_hz);
        // Inside the masked stretch the interpolated model still tracks the hum.
        for i in [21_000usize, 22_500, 24_000, 40_000] {
            let t = i as f64 / 5000.0;
            let truth = 0.08 * (std::f64::consts::TAU * 50.02 * t + 0.3).sin();
            assert!((hum.value_at(i) - truth).abs() < 0.012, "at {i}");
        }
    }

    /// Above ~26 kHz the mains spectrum is taken from means of samples (a
    /// transform of at most 2^16 points): the line is found as precisely.
    #[test]
    fn hum_is_found_at_high_sample_rates() {
        for fs in [100_000.0, 250_000.0] {
            let rate = SampleRate::new(fs).unwrap();
            let n = (fs * 12.0) as usize;
            let mut rng = crate::test_rng::XorShift::new(7);
            let x: Vec<f32> = (0..n)
                .map(|i| {
                    let noise = (rng.next_f64() - 0.5) * 0.03;
                    let t = i as f64 / fs;
                    (0.05 * (std::f64::consts::TAU * 60.03 * t).sin() + noise) as f32
                })
                .collect();
            let mask = Mask::new(vec![(n / 3, n / 3 + (fs * 0.045) as usize)]);
            let hum = fit_hum(&x, rate, &[(0, n)], &mask).expect("hum found");
            assert!(
                (hum.freq_hz - 60.03).abs() < 0.02,
                "{fs} Hz: {}",
                hum.freq_hz
            );
            let rms = 0.05 / std::f64::consts::SQRT_2;
            assert!(
                (hum.rms_mv - rms).abs() < 0.05 * rms,
                "{fs} Hz: {}",
                hum.rms_mv
            );
        }
    }

    #[test]
    fn no_hum_in_clean_noise() {
        let rate = SampleRate::new(5_000.0).unwrap();
        let mut rng = crate::test_rng::XorShift::new(99u64);
        let x: Vec<f32> = (0..60_000)
            .map(|_| {
                let state = rng.next_u64();
                ((state % 2001) as f64 / 1000.0 - 1.0) as f32 * 0.02
            })
            .collect();
        assert!(fit_hum(&x, rate, &[(0, x.len())], &Mask::default()).is_none());
    }

    /// Hum of three harmonics with an offset, a slope and noise.
    fn humming(fs: f64, f0: f64, n: usize, seed: u64) -> Vec<f32> {
        let mut rng = crate::test_rng::XorShift::new(seed);
        (0..n)
            .map(|i| {
                let t = i as f64 / fs;
                let w = std::f64::consts::TAU * f0 * t;
                let noise = (rng.next_f64() - 0.5) * 0.02;
                (0.05 * (w + 0.4).sin()
                    + 0.012 * (2.0 * w + 1.1).cos()
                    + 0.008 * (3.0 * w - 0.7).sin()
                    + 0.3
                    + 0.01 * t
                    + noise) as f32
            })
            .collect()
    }

    /// Response windows every 1/3 s (2 ms before to 45 ms after), and two
    /// segments with a gap between them.
    fn windows_and_segments(fs: f64, n: usize) -> (Mask, Vec<(usize, usize)>) {
        let every = (fs / 3.0) as usize;
        let mask = Mask::new(
            (every / 2..n)
                .step_by(every)
                .map(|s| {
                    (
                        s - (0.002 * fs) as usize,
                        (s + (0.045 * fs) as usize).min(n),
                    )
                })
                .collect(),
        );
        let cut = n * 3 / 5;
        (mask, vec![(0, cut), (cut + (0.1 * fs) as usize, n)])
    }

    /// The least-squares fit of one block by definition: every `stride`-th
    /// sample of `[start, end)` (from `start`) in a segment and outside the
    /// mask; columns cos/sin of harmonics 1–3 at φ = 2π f0 i / fs, a
    /// constant and u = (i − centre) / half; the normal equations built
    /// point by point and solved by elimination. The acceptance rule is
    /// [`solve_block`]'s.
    #[allow(clippy::too_many_arguments)]
    fn naive_block(
        x: &[f32],
        fs: f64,
        f0: f64,
        start: usize,
        end: usize,
        stride: usize,
        segments: &[(usize, usize)],
        mask: &Mask,
    ) -> Option<[f64; 2 * HARMONICS]> {
        let centre = (start + end) as f64 / 2.0;
        let half = ((end - start) as f64 / 2.0).max(1.0);
        let mut ata = [[0.0f64; UNKNOWNS + 1]; UNKNOWNS];
        let mut used = 0usize;
        for i in (start..end).step_by(stride) {
            if mask.contains(i) || !segments.iter().any(|&(a, b)| a <= i && i < b) {
                continue;
            }
            used += 1;
            let phi = std::f64::consts::TAU * f0 * i as f64 / fs;
            let mut row = [0.0; UNKNOWNS];
            for k in 0..HARMONICS {
                row[2 * k] = ((k + 1) as f64 * phi).cos();
                row[2 * k + 1] = ((k + 1) as f64 * phi).sin();
            }
            row[2 * HARMONICS] = 1.0;
            row[2 * HARMONICS + 1] = (i as f64 - centre) / half;
            for a in 0..UNKNOWNS {
                for b in 0..UNKNOWNS {
                    ata[a][b] += row[a] * row[b];
                }
                ata[a][UNKNOWNS] += row[a] * x[i] as f64;
            }
        }
        let span_s = (end - start) as f64 / fs;
        if used < 64 || (used * stride) as f64 / fs < (span_s * 0.3).max(3.0 / f0) {
            return None;
        }
        solve_augmented(&mut ata)?;
        let mut out = [0.0; 2 * HARMONICS];
        for (j, o) in out.iter_mut().enumerate() {
            *o = ata[j][UNKNOWNS];
        }
        Some(out)
    }

    /// The fast fit (shared stretches, closed-form sums, phasor blocks,
    /// normal equations from sums of harmonics) gives each block the
    /// coefficients of the naive least-squares fit, with and without shared
    /// stretches.
    #[test]
    fn block_fits_match_a_naive_least_squares_fit() {
        let mut paths = (0, 0);
        for (fs, f0, secs) in [
            (5_000.0, 50.0, 6.0),
            (10_000.0, 60.0, 5.0),
            (20_000.0, 50.0, 4.0),
            (48_000.0, 60.0, 3.0),
        ] {
            let n = (fs * secs) as usize;
            let x = humming(fs, f0, n, fs as u64);
            let (mask, segments) = windows_and_segments(fs, n);
            let rate = SampleRate::new(fs).unwrap();
            let model = fit_hum_at(&x, rate, &segments, &mask, f0).expect("a model");
            let block = ((0.4 * fs) as usize).max(16);
            let hop = block / 2;
            let stride = ((fs / (16.0 * f0 * HARMONICS as f64)) as usize).max(1);
            if block == 2 * hop && hop.is_multiple_of(stride) {
                paths.0 += 1;
            } else {
                paths.1 += 1;
            }
            let mut compared = 0;
            for (k, got) in model.coeffs.iter().enumerate() {
                let start = k * hop;
                let end = (start + block).min(n);
                let Some(want) = naive_block(&x, fs, f0, start, end, stride, &segments, &mask)
                else {
                    continue;
                };
                for (g, w) in got.iter().zip(&want) {
                    assert!(
                        (g - w).abs() <= 1e-9 + 1e-7 * w.abs(),
                        "{fs} Hz block {k}: {got:?} vs {want:?}"
                    );
                }
                compared += 1;
            }
            assert!(
                compared * 4 >= model.coeffs.len() * 3,
                "{fs} Hz: {compared} blocks"
            );
        }
        assert!(paths.0 > 0 && paths.1 > 0, "both paths: {paths:?}");
    }

    /// The closed-form sums of a run, with the signal's sums added, equal
    /// the sums point by point.
    #[test]
    fn closed_form_sums_equal_point_by_point_sums() {
        let fs = 10_000.0;
        let x = humming(fs, 50.0, 20_000, 3);
        for (stride, first, count, origin) in [(4, 100, 900, 40), (3, 7, 1, 7), (5, 1003, 2_000, 0)]
        {
            let basis = Basis {
                fs,
                f0: 50.0,
                stride,
            };
            let end = first + (count - 1) * stride + 1;
            let phi0 = (50.0 * first as f64 / fs).fract() * std::f64::consts::TAU;
            let (s1, c1) = phi0.sin_cos();
            let (ws, wc) = ((50.0 * stride as f64 / fs).fract() * std::f64::consts::TAU).sin_cos();
            let mut by_point = Moments::default();
            basis.point_sums(&x, first, end, origin, (c1, s1), (wc, ws), &mut by_point);
            let mut fast = Moments::default();
            fast.add_closed(&basis.closed_sums(phi0, first - origin, count).unwrap());
            let steps = PhaseSteps::new(50.0 * stride as f64 / fs);
            basis.signal_sums(&x, first, end, origin, (c1, s1), &steps, &mut fast);
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * (1.0 + b.abs());
            assert!(close(fast.n, by_point.n) && close(fast.pp, by_point.pp));
            assert!(close(fast.pv, by_point.pv));
            for j in 0..fast.trig.len() {
                assert!(close(fast.trig[j], by_point.trig[j]), "trig {j}");
            }
            for j in 0..8 {
                assert!(close(fast.gp[j], by_point.gp[j]), "gp {j}");
                assert!(close(fast.gv[j], by_point.gv[j]), "gv {j}");
            }
        }
    }
}
