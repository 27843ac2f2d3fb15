//! Pipeline step 2: what the signal is like around its stimuli. The mains
//! hum (fitted outside response windows), the clipping rails, and, when
//! neither the protocol nor annotations give the exercise, the activity map
//! that finds it from voluntary EMG. The three are independent and run side
//! by side.

use crate::analysis::dsp::{self, NoiseAndExtremes};
use crate::analysis::hum::{self, HumModel, Mask};
use crate::analysis::trains::ActivityMap;
use crate::units::{Ms, SampleRate};
use rayon::prelude::*;

/// The signal's facts the measurement and the roles need.
pub struct SignalFacts {
    /// The hum model, when hum was found.
    pub hum: Option<HumModel>,
    /// The clipping rails (low, high), when the signal sits on them.
    pub rails: Option<(f64, f64)>,
    /// The voluntary-activity map, when asked for.
    pub map: Option<ActivityMap>,
}

/// Gather the facts of `x` around `stims` (sample indices). `want_map`: build
/// the activity map (the exercise must be found from the EMG).
pub fn gather(
    x: &[f32],
    rate: SampleRate,
    segments: &[(usize, usize)],
    stims: &[usize],
    noise: &NoiseAndExtremes,
    want_map: bool,
) -> SignalFacts {
    // Hum is fitted outside the response windows: 2 ms before each stimulus
    // to 45 ms after it.
    let mask = Mask::new(
        stims
            .iter()
            .map(|&s| {
                (
                    s.saturating_sub(rate.samples_in(Ms(2.0))),
                    (s + rate.samples_in(Ms(45.0))).min(x.len()),
                )
            })
            .collect(),
    );
    // Beside the hum fit (whose transform planning runs on one thread): the
    // clipping rails (the extremes, if the signal sits on them for ≥ 3
    // samples) and the activity map.
    let (hum, (rails, map)) = rayon::join(
        || hum::fit_hum(x, rate, segments, &mask),
        || {
            rayon::join(
                || find_rails(x, noise.lo, noise.hi, &noise.pieces),
                || want_map.then(|| ActivityMap::new(x, rate, noise.noise_sd)),
            )
        },
    );
    SignalFacts { hum, rails, map }
}

/// The clipping rails of a signal whose extremes are `lo` and `hi`
/// ([`dsp::extremes`]): `(lo, hi)` when the signal stays on one of them for
/// at least 3 consecutive samples.
fn find_rails(x: &[f32], lo: f32, hi: f32, pieces: &[(f32, f32)]) -> Option<(f64, f64)> {
    if hi.is_nan() || lo.is_nan() || hi <= lo {
        return None;
    }
    // Pieces overlap by two samples, so every run of three lies whole in one,
    // the one where it starts; only pieces holding an extreme (`pieces`: the
    // extremes of each, from the noise pass) can start one.
    const PIECE: usize = dsp::EXTREMES_PIECE;
    let starts: Vec<usize> = (0..x.len())
        .step_by(PIECE)
        .zip(pieces)
        .filter(|&(_, &(l, h))| l == lo || h == hi)
        .map(|(a, _)| a)
        .collect();
    let railed = starts.par_iter().any(|&a| {
        let piece = &x[a..(a + PIECE + 2).min(x.len())];
        let mut run_lo = 0;
        let mut run_hi = 0;
        for c in piece.chunks(64) {
            // Most chunks hold neither extreme: a vectorised check, then the runs restart.
            if !c.iter().fold(false, |f, &v| f | (v == lo) | (v == hi)) {
                run_lo = 0;
                run_hi = 0;
                continue;
            }
            for &v in c {
                run_lo = if v == lo { run_lo + 1 } else { 0 };
                run_hi = if v == hi { run_hi + 1 } else { 0 };
                if run_lo >= 3 || run_hi >= 3 {
                    return true;
                }
            }
        }
        false
    });
    railed.then_some((lo as f64, hi as f64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::stimulus;

    /// The rails by definition: a run of ≥ 3 samples on either extreme.
    fn rails_brute_force(x: &[f32]) -> Option<(f64, f64)> {
        let (lo, hi) = dsp::extremes(x);
        let on = |v: f32| x.windows(3).any(|w| w.iter().all(|&s| s == v));
        (on(lo) || on(hi)).then_some((lo as f64, hi as f64))
    }

    /// `find_rails` searches only the pieces whose extremes (from the noise
    /// pass) reach the signal's; runs that straddle a piece boundary, sit at
    /// the very end, or are one sample short must come out as by definition.
    #[test]
    fn rails_are_found_in_the_pieces_that_hold_the_extremes() {
        const P: usize = dsp::EXTREMES_PIECE;
        let n = 2 * P + P / 2;
        let mut rng = crate::test_rng::XorShift::new(11);
        let base: Vec<f32> = (0..n).map(|_| (rng.next_f64() - 0.5) as f32).collect();
        // (start of a run on the top rail, its length), runs on the bottom one.
        type Runs<'a> = &'a [(usize, usize)];
        let cases: &[(Runs<'_>, Runs<'_>)] = &[
            (&[], &[]),
            (&[(P - 1, 3)], &[]),
            (&[(P - 2, 3)], &[]),
            (&[(2 * P - 1, 2)], &[(10, 2)]),
            (&[(5, 2), (P + 7, 2)], &[(2 * P - 2, 4)]),
            (&[], &[(n - 3, 3)]),
            (&[], &[(n - 2, 2)]),
            (&[(P / 2, 1)], &[(P + P / 2, 3)]),
        ];
        for (k, &(tops, bottoms)) in cases.iter().enumerate() {
            let mut x = base.clone();
            for &(a, len) in tops {
                x[a..a + len].fill(1.0);
            }
            for &(a, len) in bottoms {
                x[a..a + len].fill(-1.0);
            }
            let ne = dsp::noise_and_piece_extremes(&x, stimulus::NOISE_POINTS);
            assert_eq!(ne.pieces.len(), n.div_ceil(P));
            let got = find_rails(&x, ne.lo, ne.hi, &ne.pieces);
            assert_eq!(got, rails_brute_force(&x), "case {k}");
        }
    }
}
