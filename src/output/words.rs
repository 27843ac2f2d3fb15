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
