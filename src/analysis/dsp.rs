//! Signal primitives: robust statistics, the noise and extremes pass,
//! smoothing, extremum refinement and small linear solves.
//!
//! Nothing here allocates in proportion to the recording except where noted:
//! the analysis reads the signal through windows, so an hour-long file is never
//! copied.
//!
//!
//! The mains-hum model is in [`hum`](crate::analysis::hum); the per-thread caches in
//! [`scratch`].

use super::scratch;
use rayon::prelude::*;

/// Median of a slice (may reorder it). `NaN`-free input assumed; empty → 0.
pub fn median_in_place(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mid = v.len() / 2;
    if v.len() >= LARGE_SELECT {
        return if v.len() % 2 == 1 {
            select_large(v, mid).0
        } else {
            let (lower, m) = select_large(v, mid - 1);
            (lower + m) / 2.0
        };
    }
    let (_, m, _) = v.select_nth_unstable_by(mid, |a, b| a.total_cmp(b));
    let m = *m;
    if v.len() % 2 == 1 {
        m
    } else {
        let lower = max_of(&v[..mid]);
        (lower + m) / 2.0
    }
}

/// From this length on, [`median_in_place`] selects by histogram.
const LARGE_SELECT: usize = 1 << 16;

/// The largest value (−∞ when empty), in 8 independent lanes so that the
/// compiler vectorises it (the maximum does not depend on the order).
fn max_of(v: &[f64]) -> f64 {
    fold_lanes(v, f64::NEG_INFINITY, f64::max)
}

/// The smallest value (+∞ when empty), as [`max_of`].
fn min_of(v: &[f64]) -> f64 {
    fold_lanes(v, f64::INFINITY, f64::min)
}

fn fold_lanes(v: &[f64], init: f64, f: fn(f64, f64) -> f64) -> f64 {
    let mut lanes = [init; 8];
    let mut chunks = v.chunks_exact(8);
    for c in &mut chunks {
        for j in 0..8 {
            lanes[j] = f(lanes[j], c[j]);
        }
    }
    lanes
        .iter()
        .chain(chunks.remainder())
        .copied()
        .fold(init, f)
}

/// A key whose unsigned order is `f64::total_cmp`'s order.
fn order_key(v: f64) -> u64 {
    let b = v.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

/// Bits of [`order_key`] that pick a bucket in [`select_large`].
const BUCKET_BITS: u32 = 16;

/// The `k`-th and the `(k + 1)`-th smallest values (from 0, in `total_cmp`
/// order; the second is the first when `k` is the last) of a large slice: a
/// histogram of the keys' top 16 bits finds the buckets that hold them, and
/// a selection among those buckets' values (a few percent of them)
/// finishes. Exactly the values a full selection gives, several times
/// faster; the bucket's values are gathered on all threads, in order.
fn select_large(v: &[f64], k: usize) -> (f64, f64) {
    let bucket_of = |x: f64| (order_key(x) >> (64 - BUCKET_BITS)) as usize;
    let part = v
        .len()
        .div_ceil(rayon::current_num_threads().max(1))
        .max(1 << 15);
    // The histogram buffer is kept per thread (256 KiB that a batch would
    // otherwise fault in again for every recording).
    let mut hist = scratch::take_histogram();
    hist.clear();
    hist.resize(1 << BUCKET_BITS, 0u32);
    for &x in v {
        hist[bucket_of(x)] += 1;
    }
    // The buckets of the k-th and (k + 1)-th values: usually the same one.
    let k1 = (k + 1).min(v.len() - 1);
    let mut below = 0usize;
    let mut first = None;
    let mut below_first = 0usize;
    let mut last = hist.len() - 1;
    for (i, &c) in hist.iter().enumerate() {
        if first.is_none() && below + c as usize > k {
            first = Some(i);
            below_first = below;
        }
        if below + c as usize > k1 {
            last = i;
            break;
        }
        below += c as usize;
    }
    let first = first.unwrap_or(last);
    scratch::put_histogram(hist);
    let (lo_key, hi_key) = (first as u64, last as u64);
    let inside: Vec<Vec<f64>> = v
        .par_chunks(part)
        .map(|c| {
            let mut keep = Vec::new();
            for &x in c {
                // One unsigned comparison tests both bounds.
                let b = order_key(x) >> (64 - BUCKET_BITS);
                if b.wrapping_sub(lo_key) <= hi_key - lo_key {
                    keep.push(x);
                }
            }
            keep
        })
        .collect();
    let mut inside = inside.concat();
    let at = (k - below_first).min(inside.len().saturating_sub(1));
    let (_, kth, rest) = inside.select_nth_unstable_by(at, |a, b| a.total_cmp(b));
    let kth = *kth;
    let next = if k1 == k { kth } else { min_of(rest) };
    (kth, next)
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

/// The smallest and largest sample of `x` (`(+∞, −∞)` when empty; NaNs are
/// ignored, as `f32::min`/`max` ignore them). Computed in 16 independent
/// lanes so that the compiler vectorises it; the result does not depend on
/// the order.
pub fn extremes(x: &[f32]) -> (f32, f32) {
    let mut lo = [f32::INFINITY; 16];
    let mut hi = [f32::NEG_INFINITY; 16];
    let mut chunks = x.chunks_exact(16);
    for c in &mut chunks {
        for j in 0..16 {
            lo[j] = lo[j].min(c[j]);
            hi[j] = hi[j].max(c[j]);
        }
    }
    let fold = |init: (f32, f32), v: &[f32]| v.iter().fold(init, |(l, h), &s| (l.min(s), h.max(s)));
    let (l, _) = fold((f32::INFINITY, f32::NEG_INFINITY), &lo);
    let (_, h) = fold((f32::INFINITY, f32::NEG_INFINITY), &hi);
    fold((l, h), chunks.remainder())
}

/// The largest |sample| of a non-empty signal whose [`extremes`] are `lo`
/// and `hi`.
pub fn peak_abs(lo: f32, hi: f32) -> f64 {
    0.0f64.max(f64::from(lo).abs()).max(f64::from(hi).abs())
}

/// [`diff_noise_sd`] and [`extremes`] of `x` in one pass over it (piece by
/// piece, on all threads, so each piece is read from memory once): the same
/// three figures, for the price of one of them. The pieces' differences are
/// joined in order and the extremes do not depend on the order, so the
/// figures do not depend on the number of threads.
pub fn noise_and_extremes(x: &[f32], max_points: usize) -> (f64, f32, f32) {
    let r = noise_and_piece_extremes(x, max_points);
    (r.noise_sd, r.lo, r.hi)
}

/// Samples per piece of [`noise_and_piece_extremes`].
pub const EXTREMES_PIECE: usize = 1 << 18;

/// The figures of [`noise_and_extremes`], with the extremes of each piece.
#[derive(Debug, Clone, PartialEq)]
pub struct NoiseAndExtremes {
    /// [`diff_noise_sd`] of the signal.
    pub noise_sd: f64,
    /// The smallest sample (∞ when there is none).
    pub lo: f32,
    /// The largest sample (−∞ when there is none).
    pub hi: f32,
    /// `(lo, hi)` of each piece of [`EXTREMES_PIECE`] samples, in order: a
    /// later search for the extremes needs only the pieces that hold them.
    pub pieces: Vec<(f32, f32)>,
}

/// [`noise_and_extremes`], keeping the extremes of each piece.
pub fn noise_and_piece_extremes(x: &[f32], max_points: usize) -> NoiseAndExtremes {
    const PIECE: usize = EXTREMES_PIECE;
    let whole = |pieces: Vec<(f32, f32)>, noise_sd: f64| {
        let (lo, hi) = pieces
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(l1, h1), &(l2, h2)| {
                (l1.min(l2), h1.max(h2))
            });
        NoiseAndExtremes {
            noise_sd,
            lo,
            hi,
            pieces,
        }
    };
    if x.len() < 3 {
        return whole(vec![extremes(x)], 0.0);
    }
    let n = x.len() - 1;
    let stride = (n / max_points.max(1)).max(1);
    // The differences `|x[i + 1] − x[i]|` of the grid `i ≡ 0 (mod stride)`,
    // `i < n`, go to `d[i / stride]`; each piece fills the part of `d` whose
    // differences start in it.
    // This thread's buffer from the last recording, if any: a fresh one
    // per recording costs page faults (a few MB) in a batch.
    let mut d = scratch::take_noise_diffs();
    d.clear();
    d.resize(n.div_ceil(stride), 0.0);
    let mut parts: Vec<&mut [f64]> = Vec::with_capacity(x.len().div_ceil(PIECE));
    let mut rest: &mut [f64] = &mut d;
    for p in 0..x.len().div_ceil(PIECE) {
        let to = ((p + 1) * PIECE).min(n).div_ceil(stride);
        let from = (p * PIECE).div_ceil(stride);
        let (part, tail) = rest.split_at_mut(to.saturating_sub(from).min(rest.len()));
        parts.push(part);
        rest = tail;
    }
    let pieces: Vec<(f32, f32)> = x
        .par_chunks(PIECE)
        .zip(parts)
        .enumerate()
        .map(|(p, (chunk, part))| {
            // The extremes first: their streaming read brings the piece into
            // cache, where the strided differences then find it (the other
            // way round, the strided loop waited on memory: 1.6 ms → 0.4).
            let ex = extremes(chunk);
            let from = (p * PIECE).div_ceil(stride) * stride;
            for (k, o) in part.iter_mut().enumerate() {
                let i = from + k * stride;
                *o = (x[i + 1] as f64 - x[i] as f64).abs();
            }
            ex
        })
        .collect();
    let sd = median_in_place(&mut d) / 0.674_49;
    scratch::put_noise_diffs(d);
    whole(pieces, sd)
}

/// Centred moving average of odd width `w` (≥ 1); edges use the available samples.
pub fn moving_average(y: &[f64], w: usize) -> Vec<f64> {
    let w = if w.is_multiple_of(2) { w + 1 } else { w.max(1) };
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

/// The least-squares parabola `c0 + c1 u + c2 u²` (u = i − idx) through
/// `y[idx − h ..= idx + h]` (clipped to `y`), with the RMS of its residuals;
/// `None` when fewer than 3 points or the system is singular.
pub fn fit_parabola(y: &[f64], idx: usize, h: usize) -> Option<([f64; 3], f64)> {
    let n = y.len();
    if n == 0 {
        return None;
    }
    let idx = idx.min(n - 1);
    let a = idx.saturating_sub(h);
    let b = (idx + h).min(n - 1);
    if b - a < 2 {
        return None;
    }
    // Centred on idx: well conditioned.
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
    let c = solve3(m, [t0, t1, t2])?;
    let ss: f64 = (a..=b)
        .map(|i| {
            let u = i as f64 - idx as f64;
            let r = y[i] - (c[0] + c[1] * u + c[2] * u * u);
            r * r
        })
        .sum();
    Some((c, (ss / s0).sqrt()))
}

/// Refine an extremum near `idx` by a least-squares parabola over `idx ± h`.
/// Returns (position, value); falls back to the sample itself when the fit is
/// not curved the right way or the vertex leaves the fitted span.
pub fn refine_extremum(y: &[f64], idx: usize, h: usize, maximum: bool) -> (f64, f64) {
    vertex(y, idx, h, maximum).unwrap_or_else(|| {
        let i = idx.min(y.len().saturating_sub(1));
        y.get(i).map_or((0.0, 0.0), |&v| (i as f64, v))
    })
}

/// The vertex of [`fit_parabola`] when it is curved the `maximum` way and
/// lies within the fitted span.
pub fn vertex(y: &[f64], idx: usize, h: usize, maximum: bool) -> Option<(f64, f64)> {
    let idx = idx.min(y.len().checked_sub(1)?);
    let (c, _) = fit_parabola(y, idx, h)?;
    let curved = if maximum { c[2] < 0.0 } else { c[2] > 0.0 };
    if !curved {
        return None;
    }
    let u = -c[1] / (2.0 * c[2]);
    let (lo, hi) = (
        idx.saturating_sub(h) as f64 - idx as f64,
        (idx + h).min(y.len() - 1) as f64 - idx as f64,
    );
    (u.is_finite() && u >= lo && u <= hi).then(|| (idx as f64 + u, c[0] + c[1] * u + c[2] * u * u))
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
pub(crate) fn solve_augmented<const M: usize>(a: &mut [[f64; M]]) -> Option<()> {
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

/// The segment `[a, b)` of `segments` (ascending and disjoint) that holds
/// sample `s`, found by bisection: an EDF+D may have a segment per data
/// record, and a scan per stimulus would be quadratic.
pub fn segment_holding(segments: &[(usize, usize)], s: usize) -> Option<(usize, usize)> {
    segments
        .get(segments.partition_point(|&(_, b)| b <= s))
        .copied()
        .filter(|&(a, _)| a <= s)
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
    fn large_median_matches_a_full_selection() {
        let mut rng = crate::test_rng::XorShift::new(5u64);
        for n in [LARGE_SELECT, LARGE_SELECT + 1, 3 * LARGE_SELECT + 7] {
            let v: Vec<f64> = (0..n)
                .map(|_| {
                    let state = rng.next_u64();
                    // Signed values over many octaves, with ties.
                    ((state % 20_001) as f64 - 10_000.0) * 1e-3 * (1 + state % 7) as f64
                })
                .collect();
            let mut sorted = v.clone();
            sorted.sort_by(|a, b| a.total_cmp(b));
            let want = if n % 2 == 1 {
                sorted[n / 2]
            } else {
                (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
            };
            assert_eq!(median_in_place(&mut v.clone()), want);
            assert_eq!(max_of(&v), sorted[n - 1]);
        }
    }

    #[test]
    fn fused_noise_and_extremes_match_the_separate_passes() {
        let mut rng = crate::test_rng::XorShift::new(11u64);
        for n in [0usize, 2, 3, 1000, 50_000, 123_457] {
            let x: Vec<f32> = (0..n)
                .map(|i| {
                    let state = rng.next_u64();
                    ((state % 2001) as f32 / 1000.0 - 1.0) + (i as f32 * 1e-4).sin()
                })
                .collect();
            for pts in [1usize, 7, 400, 1_000_000] {
                let (sd, lo, hi) = noise_and_extremes(&x, pts);
                assert_eq!(sd, diff_noise_sd(&x, pts), "{n} {pts}");
                assert_eq!((lo, hi), extremes(&x));
            }
        }
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
}
