//! Pipeline step 5b: each train's role (`baseline`, `post_exercise`, `hfs`),
//! how it was decided, and its delay after exercise. The rules, strongest
//! first, each a function below:
//!
//! 1. **Protocol**: the sidecar's `[[trains]]`, in order (a different count
//!    is a `protocol_mismatch`).
//! 2. **Rate**: ≥ `hfs_min_rate_hz` (10 Hz) is `hfs` \[N5\]\[N7\].
//! 3. **Annotations** (EDF+): below the protocol, above the rate for `hfs`
//!    marks (baseline and post-exercise marks leave a high-rate train `hfs`).
//! 4. **Exercise**: from the protocol, else the annotations; trains after
//!    its end are post-exercise. Without either, the voluntary EMG between
//!    trains is the exercise: trains after the latest contraction before them
//!    are post-exercise.
//! 5. **Order and gaps**, when no exercise was found: the first low-rate
//!    train is the baseline; a later one after a pause of ≥ 8 s (room for a
//!    10 s contraction) is post-exercise, and the roles are flagged as
//!    inferred.

use crate::analysis::annotations::RoleMarks;
use crate::analysis::context::Context;
use crate::analysis::measure::Window;
use crate::analysis::trains::{Activity, ActivityMap};
use crate::recording::Recording;
use crate::units::{Ms, Seconds};
use crate::vocab::{ExerciseSource, RoleSource, TrainRole};

/// An exercise period: start and end, s, and where it came from.
pub type Exercise = (f64, f64, ExerciseSource);

/// What the role rules read besides the trains.
pub struct RoleInputs<'a> {
    /// The EMG samples.
    pub x: &'a [f32],
    /// Their noise figure (SD of the sample differences).
    pub noise_slope_sd: f64,
    /// The activity map, when it was built beside the hum fit.
    pub map: Option<ActivityMap>,
    /// The response windows (no voluntary activity is sought inside them).
    pub windows: &'a [Window],
    /// The stimuli, sample indices.
    pub stims: &'a [usize],
    /// The recording (annotations, sample times).
    pub rec: &'a Recording,
    /// Whether stimulus times are known (not sweeps of unknown timing).
    pub timing_known: bool,
}

/// Decide each train's role and delay after exercise, and the exercise.
pub fn assign(ctx: &mut Context<'_>, inputs: RoleInputs<'_>) {
    protocol_roles(ctx);
    rate_roles(ctx);
    let marks = annotation_roles(ctx, inputs.rec, inputs.timing_known);
    let exercise = declared_exercise(ctx, &marks);
    ctx.exercise = match exercise {
        Some(e) => {
            declared_exercise_roles(ctx, e);
            Some(e)
        }
        None if inputs.timing_known => voluntary_activity_roles(ctx, inputs),
        None => None,
    };
    if ctx.exercise.is_none() {
        order_and_gaps_roles(ctx);
    }
}

/// Rule 1: the sidecar's roles and delays, in train order.
fn protocol_roles(ctx: &mut Context<'_>) {
    let specs = &ctx.cfg.trains;
    if specs.is_empty() {
        return;
    }
    if specs.len() != ctx.trains.len() {
        ctx.protocol_mismatch = Some((specs.len(), ctx.trains.len()));
    }
    for (t, spec) in ctx.trains.iter_mut().zip(specs) {
        if let Some(r) = spec.role {
            t.role = r;
            t.role_source = RoleSource::Protocol;
        }
        t.delay_s = spec.delay_after_exercise_s;
    }
}

/// Rule 2: a train at ≥ `hfs_min_rate_hz` is `hfs`, unless the protocol
/// said otherwise.
fn rate_roles(ctx: &mut Context<'_>) {
    let hfs_min = ctx.cfg.criteria.hfs_min_rate_hz;
    for t in ctx.trains.iter_mut() {
        if t.role_source != RoleSource::Protocol && t.rate_hz.is_some_and(|r| r >= hfs_min) {
            t.role = TrainRole::Hfs;
            t.role_source = RoleSource::Rate;
        }
    }
}

/// Rule 3: roles from EDF+ annotations; returns the marks (they may also
/// give the exercise).
fn annotation_roles(ctx: &mut Context<'_>, rec: &Recording, timing_known: bool) -> RoleMarks {
    let marks = if timing_known {
        let starts: Vec<f64> = ctx.trains.iter().filter_map(|t| t.times[0]).collect();
        RoleMarks::from_annotations(&rec.annotations, &starts)
    } else {
        RoleMarks::default()
    };
    let protocol_exercise = ctx.cfg.exercise.as_ref().is_some_and(|e| e.end_s.is_some());
    for t in ctx.trains.iter_mut() {
        let Some(start) = t.times[0] else { continue };
        if t.role_source == RoleSource::Protocol {
            continue;
        }
        if let Some((role, delay)) = marks.role_of(start, t.role_source == RoleSource::Rate) {
            t.role = role;
            t.role_source = RoleSource::Annotation;
            // A protocol exercise sets the delays below.
            if t.delay_s.is_none() && !protocol_exercise {
                t.delay_s = delay;
            }
        }
    }
    marks
}

/// Rule 4's declared exercise: the protocol's, else the last annotated one.
fn declared_exercise(ctx: &Context<'_>, marks: &RoleMarks) -> Option<Exercise> {
    ctx.cfg
        .exercise
        .as_ref()
        .and_then(|e| {
            e.end_s.map(|end| {
                (
                    end - e.duration_s.unwrap_or(0.0),
                    end,
                    ExerciseSource::Protocol,
                )
            })
        })
        .or_else(|| {
            marks
                .last_exercise()
                .map(|(a, b)| (a, b, ExerciseSource::Annotation))
        })
}

/// Rule 4 with a declared exercise: trains starting after its end are
/// post-exercise, those before are baseline. A protocol exercise decides
/// over annotation roles; an annotated one only places the trains no
/// annotation placed. `hfs` trains keep their role.
fn declared_exercise_roles(ctx: &mut Context<'_>, (_, end, src): Exercise) {
    for t in ctx.trains.iter_mut() {
        let Some(start) = t.times[0] else { continue };
        let decided = t.role_source == RoleSource::Protocol
            || (src == ExerciseSource::Annotation && t.role_source == RoleSource::Annotation);
        if !decided && t.role != TrainRole::Hfs {
            t.role = if start >= end {
                TrainRole::PostExercise
            } else {
                TrainRole::Baseline
            };
            t.role_source = src.role_source();
        }
        if start >= end && t.delay_s.is_none() {
            t.delay_s = Some(start - end);
        }
    }
}

/// Rule 4 from the EMG: the longest voluntary activity (≥ 2 s) in every gap
/// before a train, the one before the first train included. When any is
/// found, the last is the exercise; each train takes its delay from the
/// latest contraction before it, and trains the protocol and annotations
/// left free become post-exercise after one, baseline before any.
fn voluntary_activity_roles(ctx: &mut Context<'_>, inputs: RoleInputs<'_>) -> Option<Exercise> {
    let RoleInputs {
        x,
        noise_slope_sd,
        map,
        windows,
        stims,
        rec,
        ..
    } = inputs;
    let rate = ctx.rate;
    let map = map.unwrap_or_else(|| ActivityMap::new(x, rate, noise_slope_sd));
    let excluded: Vec<(usize, usize)> = windows.iter().map(|&(a, b, _)| (a, b)).collect();
    let mut prev_end = 0usize;
    let mut found: Vec<Activity> = Vec::new();
    for t in &ctx.trains {
        let first = t.stimuli[0];
        let to = first.saturating_sub(rate.samples_in(Ms(10.0)));
        if to > prev_end {
            if let Some(act) = map.longest_activity(prev_end, to, &excluded, rate, Seconds(2.0)) {
                found.push(act);
            }
        }
        let last = *t.stimuli.last().unwrap_or(&first);
        prev_end = windows
            .get(stims.partition_point(|&s| s < last))
            .map_or(last, |w| w.1);
    }
    let act = *found.last()?;
    for t in ctx.trains.iter_mut() {
        let start = t.times[0].unwrap_or(0.0);
        let latest = found
            .iter()
            .filter(|a| a.end <= t.stimuli[0])
            .map(|a| rec.time_of(a.end as f64))
            .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
        // Roles from the protocol or annotations stand.
        let free = !matches!(t.role_source, RoleSource::Protocol | RoleSource::Annotation);
        if let Some(end) = latest {
            if t.delay_s.is_none() {
                t.delay_s = Some(start - end);
            }
            if free && t.role != TrainRole::Hfs {
                t.role = TrainRole::PostExercise;
                t.role_source = RoleSource::VoluntaryActivity;
            }
        } else if free && t.role != TrainRole::Hfs {
            t.role = TrainRole::Baseline;
            t.role_source = RoleSource::VoluntaryActivity;
        }
    }
    Some((
        rec.time_of(act.start as f64),
        rec.time_of(act.end as f64),
        ExerciseSource::VoluntaryActivity,
    ))
}

/// Rule 5: without any exercise, the first low-rate train is the baseline
/// and a later one after a pause of ≥ 8 s is post-exercise (inferred).
fn order_and_gaps_roles(ctx: &mut Context<'_>) {
    let mut seen_baseline = false;
    let mut prev_end: Option<f64> = None;
    for t in ctx.trains.iter_mut() {
        let start = t.times[0];
        let end = t.times.last().copied().flatten();
        if t.role_source == RoleSource::OrderAndGaps {
            let gap = match (prev_end, start) {
                (Some(p), Some(s)) => s - p,
                _ => 0.0,
            };
            if seen_baseline && gap >= 8.0 {
                t.role = TrainRole::PostExercise;
                ctx.roles_guessed = true;
            } else {
                // The first, or another rest train soon after: a baseline.
                t.role = TrainRole::Baseline;
            }
        }
        if t.role == TrainRole::Baseline {
            seen_baseline = true;
        }
        prev_end = end.or(prev_end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::context::testing::{context, train};
    use crate::settings::config::AnalysisConfig;
    use crate::settings::protocol::{ExerciseSpec, TrainSpec};

    /// Trains at these start times (s), 3 Hz × 5 each (50 Hz for `hfs`).
    fn trains_at(starts: &[(f64, TrainRole)]) -> Vec<crate::analysis::context::MeasuredTrain> {
        starts
            .iter()
            .map(|&(s, role)| {
                let rate = if role == TrainRole::Hfs { 50.0 } else { 3.0 };
                let mut t = train(TrainRole::Baseline, &[8.0; 5]);
                t.rate_hz = Some(rate);
                t.times = (0..5).map(|k| Some(s + k as f64 / rate)).collect();
                t
            })
            .collect()
    }

    fn roles(ctx: &Context<'_>) -> Vec<(TrainRole, RoleSource)> {
        ctx.trains.iter().map(|t| (t.role, t.role_source)).collect()
    }

    #[test]
    fn protocol_then_rate() {
        let cfg = AnalysisConfig {
            trains: vec![
                TrainSpec {
                    role: Some(TrainRole::Baseline),
                    ..TrainSpec::default()
                },
                TrainSpec::default(),
                TrainSpec::default(),
            ],
            ..AnalysisConfig::default()
        };
        let trains = trains_at(&[(1.0, TrainRole::Baseline), (10.0, TrainRole::Hfs)]);
        let mut ctx = context(&cfg, trains);
        protocol_roles(&mut ctx);
        rate_roles(&mut ctx);
        assert_eq!(
            roles(&ctx),
            [
                (TrainRole::Baseline, RoleSource::Protocol),
                (TrainRole::Hfs, RoleSource::Rate)
            ]
        );
        assert_eq!(ctx.protocol_mismatch, Some((3, 2)));
    }

    #[test]
    fn a_declared_exercise_places_trains_and_their_delays() {
        let cfg = AnalysisConfig {
            exercise: Some(ExerciseSpec {
                end_s: Some(20.0),
                duration_s: Some(10.0),
            }),
            ..AnalysisConfig::default()
        };
        let trains = trains_at(&[
            (1.0, TrainRole::Baseline),
            (22.0, TrainRole::Baseline),
            (40.0, TrainRole::Hfs),
        ]);
        let mut ctx = context(&cfg, trains);
        rate_roles(&mut ctx);
        let e = declared_exercise(&ctx, &RoleMarks::default()).unwrap();
        assert_eq!(e, (10.0, 20.0, ExerciseSource::Protocol));
        declared_exercise_roles(&mut ctx, e);
        assert_eq!(
            roles(&ctx),
            [
                (TrainRole::Baseline, RoleSource::Protocol),
                (TrainRole::PostExercise, RoleSource::Protocol),
                (TrainRole::Hfs, RoleSource::Rate)
            ]
        );
        assert_eq!(ctx.trains[1].delay_s, Some(2.0));
        assert_eq!(ctx.trains[0].delay_s, None);
    }

    #[test]
    fn order_and_gaps_needs_a_pause_of_eight_seconds() {
        let cfg = AnalysisConfig::default();
        let trains = trains_at(&[
            (1.0, TrainRole::Baseline),
            (4.0, TrainRole::Baseline),
            (20.0, TrainRole::Baseline),
        ]);
        let mut ctx = context(&cfg, trains);
        order_and_gaps_roles(&mut ctx);
        let r: Vec<TrainRole> = ctx.trains.iter().map(|t| t.role).collect();
        assert_eq!(
            r,
            [
                TrainRole::Baseline,
                TrainRole::Baseline,
                TrainRole::PostExercise
            ]
        );
        assert!(ctx.roles_guessed);
    }
}
