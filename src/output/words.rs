//! Words the renderings share (the text summary, the report, its plots):
//! roles, sources, shapes and protocol labels in plain language, never the
//! contract's snake_case names.

use crate::analysis::result::TrainOut;
use crate::vocab::{RoleSource, Shape, StimulusSource, TrainRole};

/// A train's role in words.
pub fn role_words(role: TrainRole) -> &'static str {
    match role {
        TrainRole::Baseline => "rest",
        TrainRole::PostExercise => "after exercise",
        TrainRole::Hfs => "high-rate",
    }
}

/// How a train's role was decided, in words ("role from …").
pub fn role_source_words(s: RoleSource) -> &'static str {
    match s {
        RoleSource::Protocol => "the protocol",
        RoleSource::Annotation => "annotation",
        RoleSource::Rate => "the stimulation rate",
        RoleSource::VoluntaryActivity => "voluntary activity (exercise) between trains",
        RoleSource::OrderAndGaps => "the order of trains and the pauses",
    }
}

/// Where the stimuli came from, in words.
pub fn stimulus_source_words(s: StimulusSource) -> &'static str {
    match s {
        StimulusSource::ArtifactSlope => "stimulus artifacts in the EMG",
        StimulusSource::TriggerChannel => "trigger channel",
        StimulusSource::Sweeps => "sweeps (time 0 of each)",
        StimulusSource::Annotations => "annotations in the file",
        StimulusSource::Events => "the file's event channel",
    }
}

/// A decrement's shape in words ([`Shape::words`]).
pub fn shape_words(s: Shape) -> &'static str {
    s.words()
}

/// `n` and `noun`, plural when `n` is not 1: `1 response`, `10 responses`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A delay in words: seconds with one decimal under a minute (`1.5 s`,
/// `12 s`), minutes from one minute up (`1 min`, `2.5 min`).
pub fn delay_words(s: f64) -> String {
    let trim = |x: f64| {
        let t = format!("{x:.1}");
        t.strip_suffix(".0").map_or(t.clone(), str::to_string)
    };
    if s < 59.95 {
        format!("{} s", trim(s.max(0.0)))
    } else {
        format!("{} min", trim(s / 60.0))
    }
}

/// A train's protocol label, as a technician names it: `rest`, `post-ex
/// 1.5 s`, `post-ex 2 min` (`post-ex` when the delay is unknown), `50 Hz`
/// for a high-rate train.
pub fn train_label(t: &TrainOut) -> String {
    match t.role {
        TrainRole::Baseline => "rest".into(),
        TrainRole::PostExercise => t
            .delay_after_exercise_s
            .map_or("post-ex".into(), |d| format!("post-ex {}", delay_words(d))),
        TrainRole::Hfs => t
            .rate_hz
            .map_or("high-rate".into(), |r| format!("{r:.0} Hz")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_delays_read_as_words() {
        assert_eq!(count(1, "response"), "1 response");
        assert_eq!(count(0, "response"), "0 responses");
        assert_eq!(count(10, "train"), "10 trains");
        assert_eq!(delay_words(1.5), "1.5 s");
        assert_eq!(delay_words(0.0), "0 s");
        assert_eq!(delay_words(12.04), "12 s");
        assert_eq!(delay_words(60.0), "1 min");
        assert_eq!(delay_words(90.0), "1.5 min");
        assert_eq!(delay_words(240.0), "4 min");
    }
}

/// The findings as a reader takes them: the one that decided the pattern
/// first (the abnormal decrement of an MG-like study, the LEMS-level
/// increment, the normal decrement, the reason a study is indeterminate),
/// then a cool limb, then the others in the order they were weighed. The
/// JSON keeps that order.
pub fn findings_by_importance(
    c: &crate::analysis::result::Classification,
) -> Vec<&crate::analysis::result::Finding> {
    use crate::vocab::{FindingCode as F, Pattern};
    let decisive: &[F] = match c.pattern {
        Pattern::MgLike => &[F::AbnormalDecrement],
        Pattern::LemsLike => &[F::LemsLevelIncrement],
        Pattern::Normal => &[
            F::NormalDecrement,
            F::EquivocalDecrement,
            F::NormalIncrement,
        ],
        Pattern::Indeterminate => &[
            F::ProgressiveDecrement,
            F::FacilitationNotTested,
            F::NoReliableDecrement,
            F::TechnicallyUnreliableTrain,
            F::TriageInconclusive,
            F::BorderlineIncrement,
            F::EquivocalDecrement,
            F::LowCmapWithoutNmjPattern,
            F::Pseudofacilitation,
            F::AbnormalDecrement,
        ],
    };
    // The deciding finding (the first of the deciding codes present), then
    // a cool limb (it may have masked it), then the other deciding codes,
    // then the rest.
    let present = |code: &F| c.findings.iter().any(|f| f.code == *code);
    let first = decisive.iter().position(present);
    let rank = |code: F| match decisive.iter().position(|&d| d == code) {
        Some(i) if Some(i) == first => 0,
        Some(i) => i + 2,
        None if code == F::LowTemperature => 1,
        None => usize::MAX,
    };
    let mut v: Vec<(usize, usize, &crate::analysis::result::Finding)> = c
        .findings
        .iter()
        .enumerate()
        .map(|(i, f)| (rank(f.code), i, f))
        .collect();
    v.sort_by_key(|&(r, i, _)| (r, i));
    v.into_iter().map(|(_, _, f)| f).collect()
}

/// Whether a cool limb may have masked the result: the verdict then says
/// "warm the limb and repeat".
pub fn limb_was_cool(c: &crate::analysis::result::Classification) -> bool {
    c.findings
        .iter()
        .any(|f| f.code == crate::vocab::FindingCode::LowTemperature)
}

#[cfg(test)]
mod importance_tests {
    use super::*;
    use crate::analysis::result::{Classification, Finding};
    use crate::vocab::{FindingCode, Pattern};

    fn f(code: FindingCode) -> Finding {
        Finding {
            code,
            message: code.name().into(),
            train: None,
            value: None,
            threshold: None,
        }
    }

    #[test]
    fn the_deciding_finding_comes_first_then_a_cool_limb() {
        let c = Classification {
            pattern: Pattern::MgLike,
            findings: vec![
                f(FindingCode::NormalBaselineCmap),
                f(FindingCode::Repair),
                f(FindingCode::LowTemperature),
                f(FindingCode::AbnormalDecrement),
            ],
        };
        let order: Vec<FindingCode> = findings_by_importance(&c).iter().map(|f| f.code).collect();
        assert_eq!(
            order,
            [
                FindingCode::AbnormalDecrement,
                FindingCode::LowTemperature,
                FindingCode::NormalBaselineCmap,
                FindingCode::Repair
            ]
        );
        assert!(limb_was_cool(&c));
    }
}
