//! Train formulas (primer §3). Every function takes the per-response values of
//! one train (amplitudes or areas, first response first) and returns `None` when
//! the train is too short or the first value is not positive.
//!
//! - decrement of response n: `(A1 − An) / A1 × 100` \[A1\]\[N4\]\[BIO\]
//! - increment: `(A_post − A_pre) / A_pre × 100` \[N3\]\[N6\]
//! - shape: flat, U-shaped, progressive (late decrement > 102 % of the early
//!   decrement \[S14\]), irregular (zig-zag \[N1\]), or incrementing.

use crate::vocab::Shape;

/// `(x − reference) / reference × 100`, if the reference is positive.
pub fn pct_change(reference: f64, x: f64) -> Option<f64> {
    (reference > 0.0 && reference.is_finite() && x.is_finite())
        .then(|| (x - reference) / reference * 100.0)
}

/// Decrement of the `n`-th response (1-based) relative to the first.
pub fn decrement(v: &[f64], n: usize) -> Option<f64> {
    if n < 2 || v.len() < n {
        return None;
    }
    pct_change(v[0], v[n - 1]).map(|c| -c)
}

/// Largest decrement among responses 2–5 (the lowest of them vs the first).
pub fn max_decrement(v: &[f64]) -> Option<f64> {
    if v.len() < 2 {
        return None;
    }
    let lowest = v[1..v.len().min(5)]
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min);
    pct_change(v[0], lowest).map(|c| -c)
}

/// Increment of the largest response vs the first.
pub fn increment_max(v: &[f64]) -> Option<f64> {
    if v.len() < 2 {
        return None;
    }
    let largest = v[1..].iter().copied().fold(f64::NEG_INFINITY, f64::max);
    pct_change(v[0], largest)
}

/// Increment of the last response vs the first.
pub fn increment_last(v: &[f64]) -> Option<f64> {
    if v.len() < 2 {
        return None;
    }
    pct_change(v[0], v[v.len() - 1])
}

/// Number of direction reversals in the sequence, ignoring steps smaller than
/// `min_step_pct` of the level they start from (so a high-rate train whose
/// responses grow threefold is judged at its own size, not its first
/// response's). A U-shape has one; a zig-zag many.
pub fn reversals(v: &[f64], min_step_pct: f64) -> usize {
    if v.len() < 3 || v[0] <= 0.0 {
        return 0;
    }
    let mut last_sign = 0i8;
    let mut count = 0;
    // Steps are measured from the last significant turning level, so a slow
    // drift made of many small steps still counts as one direction.
    let mut anchor = v[0];
    for &x in &v[1..] {
        let step = x - anchor;
        if step.abs() < anchor.abs() * min_step_pct / 100.0 {
            continue;
        }
        let sign = if step > 0.0 { 1 } else { -1 };
        if last_sign != 0 && sign != last_sign {
            count += 1;
        }
        last_sign = sign;
        anchor = x;
    }
    count
}

/// Late/early decrement ratio \[S14\]: the decrement at the end of the train
/// (mean of the last two responses when the train has ≥ 8) over the largest
/// decrement among responses 2–5. Defined for trains of ≥ 6 responses whose
/// early decrement is positive.
pub fn late_early_ratio(v: &[f64]) -> Option<f64> {
    let n = v.len();
    if n < 6 {
        return None;
    }
    let early = max_decrement(v)?;
    if early <= 0.0 {
        return None;
    }
    let late = if n >= 8 {
        (decrement(v, n)? + decrement(v, n - 1)?) / 2.0
    } else {
        decrement(v, n)?
    };
    Some(late / early)
}

/// Thresholds the shape needs.
#[derive(Debug, Clone, Copy)]
pub struct ShapeParams {
    /// Below this decrement (and increment) a train is flat, %.
    pub flat_pct: f64,
    /// Late/early ratio above which the decline is progressive \[S14\].
    pub late_early_ratio: f64,
    /// Step ignored when counting reversals, % of the level it starts from.
    pub reversal_step_pct: f64,
    /// More reversals than this is irregular.
    pub max_reversals: usize,
}

/// Classify the shape of a train of ≥ 4 responses.
pub fn shape(v: &[f64], p: &ShapeParams) -> Option<Shape> {
    let n = v.len();
    if n < 4 || v[0] <= 0.0 {
        return None;
    }
    if reversals(v, p.reversal_step_pct) > p.max_reversals {
        return Some(Shape::Irregular);
    }
    let worst = (2..=n)
        .filter_map(|k| decrement(v, k))
        .fold(f64::NEG_INFINITY, f64::max);
    let best_rise = increment_max(v).unwrap_or(0.0);
    if worst < p.flat_pct {
        return Some(if best_rise >= p.flat_pct {
            Shape::Incrementing
        } else {
            Shape::Flat
        });
    }
    if let Some(r) = late_early_ratio(v) {
        return Some(if r > p.late_early_ratio {
            Shape::Progressive
        } else {
            Shape::UShaped
        });
    }
    // Short trains (4–5 responses): U-shaped when the first step is the
    // largest fall and the fall decelerates; otherwise progressive.
    let steps: Vec<f64> = v.windows(2).map(|w| w[0] - w[1]).collect();
    let first_largest = steps.iter().skip(1).all(|&s| s <= steps[0]);
    let last_small = steps[steps.len() - 1] < steps[0] * 0.5;
    Some(if first_largest && last_small {
        Shape::UShaped
    } else {
        Shape::Progressive
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    const P: ShapeParams = ShapeParams {
        flat_pct: 5.0,
        late_early_ratio: 1.02,
        reversal_step_pct: 2.0,
        max_reversals: 2,
    };

    #[test]
    fn decrement_by_hand() {
        let a = [10.0, 8.5, 7.8, 7.5, 7.6, 7.9];
        assert_relative_eq!(decrement(&a, 4).unwrap(), 25.0);
        assert_relative_eq!(decrement(&a, 5).unwrap(), 24.0);
        assert_relative_eq!(max_decrement(&a).unwrap(), 25.0);
        assert_eq!(decrement(&a[..3], 4), None);
        assert_eq!(decrement(&[0.0, 1.0, 1.0, 1.0], 4), None);
    }

    #[test]
    fn increment_by_hand() {
        let a = [2.0, 3.0, 5.0, 4.5];
        assert_relative_eq!(increment_max(&a).unwrap(), 150.0);
        assert_relative_eq!(increment_last(&a).unwrap(), 125.0);
        assert_relative_eq!(pct_change(4.0, 5.0).unwrap(), 25.0);
        assert_eq!(pct_change(0.0, 5.0), None);
    }

    #[test]
    fn late_early_by_hand() {
        // early: lowest of 2–5 = 7.0 → 30 %; late: mean of 9th, 10th (6.0, 6.0) → 40 %.
        let a = [10.0, 9.0, 8.0, 7.5, 7.0, 6.8, 6.5, 6.2, 6.0, 6.0];
        assert_relative_eq!(late_early_ratio(&a).unwrap(), 40.0 / 30.0);
        assert_eq!(shape(&a, &P), Some(Shape::Progressive));
    }

    #[test]
    fn shapes() {
        let mg = [10.0, 8.8, 8.2, 7.9, 7.8, 7.9, 8.0, 8.1, 8.2, 8.2];
        assert_eq!(shape(&mg, &P), Some(Shape::UShaped));
        let flat = [10.0, 9.9, 10.0, 9.8, 9.9, 9.9];
        assert_eq!(shape(&flat, &P), Some(Shape::Flat));
        let zig = [10.0, 8.0, 10.0, 8.0, 10.0, 8.0];
        assert_eq!(shape(&zig, &P), Some(Shape::Irregular));
        let inc = [2.0, 2.4, 2.9, 3.5, 4.0];
        assert_eq!(shape(&inc, &P), Some(Shape::Incrementing));
        let short_mg = [10.0, 8.5, 7.9, 7.7, 7.6];
        assert_eq!(shape(&short_mg, &P), Some(Shape::UShaped));
        let short_prog = [10.0, 9.5, 9.0, 8.5, 8.0];
        assert_eq!(shape(&short_prog, &P), Some(Shape::Progressive));
        assert_eq!(shape(&[10.0, 9.0, 8.0], &P), None);
    }

    #[test]
    fn reversal_counting_ignores_small_steps() {
        assert_eq!(reversals(&[10.0, 9.0, 8.0, 8.1, 8.05, 8.5, 9.0], 2.0), 1);
        assert_eq!(reversals(&[10.0, 9.0, 10.0, 9.0, 10.0], 2.0), 3);
        // Slow drift of small steps is one direction.
        assert_eq!(reversals(&[10.0, 9.9, 9.8, 9.7, 9.6, 9.5, 9.4], 2.0), 0);
        // A high-rate train tripling in size: its 0.5 % wobbles are no zig-zag.
        assert_eq!(
            reversals(&[3.2, 9.4, 11.2, 11.6, 11.7, 11.64, 11.72, 11.66], 2.0),
            0
        );
        assert_eq!(
            reversals(&[3.2, 9.4, 11.2, 11.6, 10.9, 11.7, 10.9, 11.7], 2.0),
            4
        );
    }
}
