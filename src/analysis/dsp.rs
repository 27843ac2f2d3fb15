//! Signal primitives: robust statistics, smoothing, extremum refinement, and
//! the mains-hum model.
//!
//! Nothing here allocates in proportion to the recording except where noted:
//! the analysis reads the signal through windows, so an hour-long file is never
//! copied.
//!
//! **Mains hum.** Hum is found with a Welch spectrum (`realfft`) of stretches
//! that hold no stimulus or response, as a narrow line at 50 or 60 Hz standing
//! well above its neighbours. It is then modelled block by block (0.4 s blocks,
//! half-overlapping) as a least-squares fit of the fundamental and its 2nd and
//! 3rd harmonics plus a constant and a slope, using only the samples outside
//! response windows; blocks with too few such samples (inside a high-rate train)
//! take coefficients interpolated from their neighbours. The model is evaluated
//! only where a window is measured and subtracted there.

use crate::units::SampleRate;
use realfft::RealFftPlanner;

/// Median of a slice (reorders it). `NaN`-free input assumed; empty → 0.
pub fn median_in_place(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, |a, b| a.total_cmp(b));
    let m = *m;
    if v.len() % 2 == 1 {
        m
    } else {
        let lower = v[..mid].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lower + m) / 2.0
    }
}

/// Median of a slice without reordering it.
pub fn median(v: &[f64]) -> f64 {
    let mut c = v.to_vec();
    median_in_place(&mut c)
}

/// Mean of the central 60 % of the values (20 % trimmed from each end): as
/// robust to a stray spike as the median, but close to the mean's efficiency
/// on Gaussian noise (the median's is 64 %). Empty → 0.
pub fn trimmed_mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut c = v.to_vec();
    c.sort_by(|a, b| a.total_cmp(b));
    let cut = c.len() / 5;
    let kept = &c[cut..c.len() - cut];
    kept.iter().sum::<f64>() / kept.len() as f64
}

/// Robust standard deviation: 1.4826 × median absolute deviation.
pub fn robust_sd(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    let m = median(v);
    let mut dev: Vec<f64> = v.iter().map(|x| (x - m).abs()).collect();
    1.4826 * median_in_place(&mut dev)
}

/// Robust standard deviation of the first difference of a signal, from at most
/// `max_points` differences spread evenly over it. For white noise of SD σ the
/// difference has SD σ√2; stimulus artifacts and CMAPs occupy a small share of
/// a recording, so the median ignores them.
pub fn diff_noise_sd(x: &[f32], max_points: usize) -> f64 {
    if x.len() < 3 {
        return 0.0;
    }
    let n = x.len() - 1;
    let stride = (n / max_points.max(1)).max(1);
    let mut d: Vec<f64> = (0..n)
        .step_by(stride)
        .map(|i| (x[i + 1] as f64 - x[i] as f64).abs())
        .collect();
    // Median of |d| for a zero-mean normal is 0.6745 σ.
    median_in_place(&mut d) / 0.674_49
}

/// Centred moving average of odd width `w` (≥ 1); edges use the available samples.
pub fn moving_average(y: &[f64], w: usize) -> Vec<f64> {
    let w = if w % 2 == 0 { w + 1 } else { w.max(1) };
    let h = w / 2;
    let n = y.len();
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0.0);
    let mut acc = 0.0;
    for v in y {
        acc += v;
        prefix.push(acc);
    }
    (0..n)
        .map(|i| {
            let a = i.saturating_sub(h);
            let b = (i + h + 1).min(n);
            (prefix[b] - prefix[a]) / (b - a) as f64
        })
        .collect()
}

/// Refine an extremum near `idx` by a least-squares parabola over `idx ± h`.
/// Returns (position, value); falls back to the sample itself when the fit is
/// not curved the right way or the vertex leaves the fitted span.
pub fn refine_extremum(y: &[f64], idx: usize, h: usize, maximum: bool) -> (f64, f64) {
    let n = y.len();
    if n == 0 {
        return (0.0, 0.0);
    }
    let idx = idx.min(n - 1);
    let a = idx.saturating_sub(h);
    let b = (idx + h).min(n - 1);
    if b - a < 2 {
        return (idx as f64, y[idx]);
    }
    // Fit y = c0 + c1 u + c2 u² with u centred on idx (well conditioned).
    let (mut s0, mut s1, mut s2, mut s3, mut s4) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut t0, mut t1, mut t2) = (0.0, 0.0, 0.0);
    for (i, &v) in y.iter().enumerate().take(b + 1).skip(a) {
        let u = i as f64 - idx as f64;
        let u2 = u * u;
        s0 += 1.0;
        s1 += u;
        s2 += u2;
        s3 += u2 * u;
        s4 += u2 * u2;
        t0 += v;
        t1 += v * u;
        t2 += v * u2;
    }
    let m = [[s0, s1, s2], [s1, s2, s3], [s2, s3, s4]];
    let Some(c) = solve3(m, [t0, t1, t2]) else {
        return (idx as f64, y[idx]);
    };
    let curved = if maximum { c[2] < 0.0 } else { c[2] > 0.0 };
    if !curved {
        return (idx as f64, y[idx]);
    }
    let u = -c[1] / (2.0 * c[2]);
    if !(u.is_finite() && u >= (a as f64 - idx as f64) && u <= (b as f64 - idx as f64)) {
        return (idx as f64, y[idx]);
    }
    (idx as f64 + u, c[0] + c[1] * u + c[2] * u * u)
}

fn solve3(m: [[f64; 3]; 3], r: [f64; 3]) -> Option<[f64; 3]> {
    let mut a = [
        [m[0][0], m[0][1], m[0][2], r[0]],
        [m[1][0], m[1][1], m[1][2], r[1]],
        [m[2][0], m[2][1], m[2][2], r[2]],
    ];
    solve_augmented(&mut a)?;
    Some([a[0][3], a[1][3], a[2][3]])
}

/// Gauss-Jordan elimination with partial pivoting on an augmented matrix
/// (`N` rows, `N + 1` columns); the solution is left in the last column.
fn solve_augmented<const M: usize>(a: &mut [[f64; M]]) -> Option<()> {
    let n = a.len();
    for col in 0..n {
        let piv = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        let scale = a.iter().map(|r| r[col].abs()).fold(0.0, f64::max);
        if a[piv][col].abs() <= 1e-12 * scale.max(1e-300) {
            return None;
        }
        a.swap(col, piv);
        let p = a[col][col];
        for v in a[col][col..].iter_mut() {
            *v /= p;
        }
        let pivot_row = a[col];
        for (row, r) in a.iter_mut().enumerate() {
            if row != col {
                let f = r[col];
                if f != 0.0 {
                    for (v, pv) in r[col..].iter_mut().zip(&pivot_row[col..]) {
                        *v -= f * pv;
                    }
                }
            }
        }
    }
    Some(())
}

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

/// Welch-spectrum detection of a mains line; returns the refined frequency.
fn detect_mains(
    x: &[f32],
    rate: SampleRate,
    segments: &[(usize, usize)],
    mask: &Mask,
) -> Option<f64> {
    let fs = rate.hz();
    // ~0.2–0.4 Hz resolution: enough to separate mains from 3 Hz stimulation lines.
    let mut nfft = 1usize;
    while (nfft as f64) < fs * 2.5 {
        nfft <<= 1;
    }
    let usable: Vec<(usize, usize)> = segments
        .iter()
        .copied()
        .filter(|(a, b)| b - a >= nfft)
        .collect();
    if usable.is_empty() {
        return None;
    }
    // Up to 12 frames spread over the usable runs.
    let total_frames: usize = usable.iter().map(|(a, b)| (b - a) / nfft).sum();
    let step = (total_frames / 12).max(1);
    let mut planner = RealFftPlanner::<f64>::new();
    let fft = planner.plan_fft_forward(nfft);
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let bin_hz = fs / nfft as f64;
    let bin = |f: f64| (f / bin_hz).round() as usize;
    // Only the 30–80 Hz band is needed; keep it per frame so that the median
    // across frames ignores frames full of voluntary EMG.
    let (band_lo, band_hi) = (bin(30.0), bin(80.0).min(nfft / 2));
    let mut frames_power: Vec<Vec<f64>> = Vec::new();
    let window: Vec<f64> = (0..nfft)
        .map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / nfft as f64).cos())
        .collect();
    let mut frames = 0usize;
    let mut k = 0usize;
    for &(a, b) in &usable {
        let mut start = a;
        while start + nfft <= b {
            if k % step == 0 && frames < 12 && mask.count_in(start, start + nfft) < nfft / 2 {
                let seg = &x[start..start + nfft];
                let mut mean = 0.0;
                let mut cnt = 0usize;
                for (i, &v) in seg.iter().enumerate() {
                    if !mask.contains(start + i) {
                        mean += v as f64;
                        cnt += 1;
                    }
                }
                mean /= cnt.max(1) as f64;
                for (i, (o, &v)) in input.iter_mut().zip(seg).enumerate() {
                    *o = if mask.contains(start + i) {
                        0.0
                    } else {
                        (v as f64 - mean) * window[i]
                    };
                }
                if fft.process(&mut input, &mut spectrum).is_ok() {
                    frames_power.push(
                        spectrum[band_lo..=band_hi]
                            .iter()
                            .map(|c| c.norm_sqr())
                            .collect(),
                    );
                    frames += 1;
                }
            }
            k += 1;
            start += nfft;
        }
    }
    if frames == 0 {
        return None;
    }
    // `power[i]` is the lower quartile over frames of bin `i` (absolute index):
    // mains hum is in every frame, voluntary EMG only in some, so the quartile
    // stays on quiet frames while up to three quarters are contaminated.
    let mut power = vec![0.0f64; band_hi + 2];
    let mut col = Vec::with_capacity(frames);
    for i in band_lo..=band_hi {
        col.clear();
        col.extend(frames_power.iter().map(|f| f[i - band_lo]));
        col.sort_by(|a, b| a.total_cmp(b));
        power[i] = col[(col.len() - 1) / 4];
    }
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
    let mut centres = Vec::new();
    let mut coeffs: Vec<Option<[f64; 2 * HARMONICS]>> = Vec::new();
    let mut start = 0usize;
    loop {
        let end = (start + block).min(n);
        centres.push(start + (end - start) / 2);
        coeffs.push(fit_block(x, fs, f0, start, end, stride, segments, mask));
        if end == n {
            break;
        }
        start += hop;
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
        let before = good.iter().rev().find(|&&g| g < i).copied();
        let after = good.iter().find(|&&g| g > i).copied();
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

#[allow(clippy::too_many_arguments)]
fn fit_block(
    x: &[f32],
    fs: f64,
    f0: f64,
    start: usize,
    end: usize,
    stride: usize,
    segments: &[(usize, usize)],
    mask: &Mask,
) -> Option<[f64; 2 * HARMONICS]> {
    let mut ata = [[0.0f64; UNKNOWNS + 1]; UNKNOWNS];
    let mut used = 0usize;
    let centre = (start + end) as f64 / 2.0;
    let half = ((end - start) as f64 / 2.0).max(1.0);
    let mut row = [0.0f64; UNKNOWNS];
    let mut i = start;
    while i < end {
        let in_segment = segments.iter().any(|&(a, b)| a <= i && i < b);
        if in_segment && !mask.contains(i) {
            let t = i as f64 / fs;
            for k in 0..HARMONICS {
                let ph = ((k + 1) as f64 * f0 * t).fract() * std::f64::consts::TAU;
                row[2 * k] = ph.cos();
                row[2 * k + 1] = ph.sin();
            }
            row[2 * HARMONICS] = 1.0;
            row[2 * HARMONICS + 1] = (i as f64 - centre) / half;
            let v = x[i] as f64;
            for r in 0..UNKNOWNS {
                for c in r..UNKNOWNS {
                    ata[r][c] += row[r] * row[c];
                }
                ata[r][UNKNOWNS] += row[r] * v;
            }
            used += 1;
        }
        i += stride;
    }
    // Need a fair share of quiet samples spanning several hum cycles.
    let span_s = (end - start) as f64 / fs;
    if used < 64 || (used * stride) as f64 / fs < (span_s * 0.3).max(3.0 / f0) {
        return None;
    }
    // Mirror the upper triangle accumulated above.
    for r in 1..UNKNOWNS {
        let (upper, lower) = ata.split_at_mut(r);
        for (c, row) in upper.iter().enumerate() {
            lower[0][c] = row[r];
        }
    }
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
    use approx::assert_relative_eq;

    #[test]
    fn median_and_robust_sd() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
        // MAD of 1..=5 is 1 → 1.4826.
        assert_relative_eq!(
            robust_sd(&[1.0, 2.0, 3.0, 4.0, 5.0]),
            1.4826,
            epsilon = 1e-12
        );
    }

    #[test]
    fn trimmed_mean_ignores_spikes() {
        assert_relative_eq!(trimmed_mean(&[1.0, 2.0, 3.0, 4.0, 100.0]), 3.0);
        assert_relative_eq!(trimmed_mean(&[2.0, 4.0]), 3.0);
        assert_eq!(trimmed_mean(&[]), 0.0);
    }

    #[test]
    fn moving_average_is_centred() {
        let y = [0.0, 0.0, 3.0, 0.0, 0.0];
        let m = moving_average(&y, 3);
        assert_relative_eq!(m[1], 1.0);
        assert_relative_eq!(m[2], 1.0);
        assert_relative_eq!(m[0], 0.0);
    }

    #[test]
    fn parabola_vertex_is_recovered() {
        let y: Vec<f64> = (0..21)
            .map(|i| {
                let u = i as f64 - 10.3;
                5.0 - 0.02 * u * u
            })
            .collect();
        let (p, v) = refine_extremum(&y, 10, 5, true);
        assert_relative_eq!(p, 10.3, epsilon = 1e-9);
        assert_relative_eq!(v, 5.0, epsilon = 1e-9);
    }

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
        let mut state = 12345u64;
        let x: Vec<f32> = (0..n)
            .map(|i| {
                // xorshift noise, ~10 µV
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
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

    #[test]
    fn no_hum_in_clean_noise() {
        let rate = SampleRate::new(5_000.0).unwrap();
        let mut state = 99u64;
        let x: Vec<f32> = (0..60_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                ((state % 2001) as f64 / 1000.0 - 1.0) as f32 * 0.02
            })
            .collect();
        assert!(fit_hum(&x, rate, &[(0, x.len())], &Mask::default()).is_none());
    }
}
