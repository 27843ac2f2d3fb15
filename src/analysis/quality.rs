//! Technical quality checks (primer §5). Each flag has a stable code, a plain
//! message with the figures behind it, the train it concerns, and a severity:
//! `warning` when it makes the numbers less trustworthy, `info` otherwise.
//!
//! Each rule is one function below, documented with its row of the user
//! guide's table and tested beside it. [`check`] runs the train rules
//! ([`TRAIN_RULES`]) on every train in order, then the session rules
//! ([`SESSION_RULES`], one flag per train they concern), then the recording
//! rules ([`RECORDING_RULES`]).
//!
//! | code | trace it looks for |
//! |---|---|
//! | `irregular_amplitudes` | zig-zag amplitudes, more reversals than a U-shape \[N1\] |
//! | `amplitude_area_disagreement` | amplitude and area decrement differ by several points \[BC\] |
//! | `baseline_instability` | the baseline level wanders across a train, or drifts under the onset |
//! | `artifact_overlap` | the artifact has not settled when the response starts |
//! | `clipped_signal` | the response touches the amplifier's rails |
//! | `too_few_responses` | a low-rate train with 2–3 responses, a high-rate train with fewer than 5, or no train of ≥ 4 |
//! | `possible_submaximal` | first responses of rest trains differ, or latency wanders \[MOR\] |
//! | `pseudofacilitation` | amplitude up, area flat \[N3\]\[PAD\] |
//! | `response_absent` | response within the noise |
//! | `implausible_response` | "responses" that are no CMAP: over in < 0.5 ms (or two sample steps, if longer), onset latency scattered by > 2 ms within a train, or a post-exercise first response whose latency is > 2 ms from the baseline's |
//! | `incomplete_response` | the negative phase had not returned to baseline before the next stimulus |
//! | `low_temperature` | skin below 32 °C \[N1\]\[N2\]\[MK\] |
//! | `exercise_timing` | first post-exercise train too late to catch facilitation \[PEF11\] |
//! | `unmeasurable_response` | a response window too short to measure |
//! | `rate_unknown` | epoched sweeps without a stimulation rate |
//! | `roles_inferred` | roles guessed from order and gaps |
//! | `protocol_mismatch` | the sidecar lists a different number of trains |
//! | `mains_hum_removed` | hum found and removed |
//! | `initial_positive_deflection` | a positive deflection before the negative phase (electrode off the motor point) |
//! | `late_wave` | a later wave larger than the M-wave; a warning in more than half of a train's responses |
//! | `truncated_file` | the reader recovered a file cut short (see [`ReadNote`]) |

use crate::analysis::context::{Context, MeasuredTrain};
use crate::analysis::metrics;
use crate::analysis::result::{round, QualityFlag, TrainOut};
use crate::analysis::session::{
    first_comparable_post, post_increments, post_trains, reference_baseline,
    MAX_LATENCY_DIFFERENCE_MS,
};
use crate::recording::ReadNote;
use crate::settings::criteria::QualityCriteria;
use crate::vocab::{FlagCode, Severity, TrainRole};

/// Shortest negative phase a CMAP can have, ms: human CMAPs last several,
/// rodent M-waves 0.7–1.0 (the real corpus: 0.76–1.0), while noise spikes
/// last a sample or three (≤ 0.3 ms at 10 kHz). The limit is the larger of
/// this and two sample steps.
const MIN_CMAP_DURATION_MS: f64 = 0.5;
/// Fewest responses of a high-rate train whose increment is interpreted
/// (real ones have tens: 20–50 Hz for 1–10 s).
pub const MIN_HFS_RESPONSES: usize = 5;

fn flag(code: FlagCode, message: String, train: Option<usize>, warning: bool) -> QualityFlag {
    QualityFlag {
        code,
        message,
        train,
        severity: if warning {
            Severity::Warning
        } else {
            Severity::Info
        },
    }
}

/// One flag per reader note, with its severity: a `warning` when the
/// recording was read but not all of it (a file cut short: the last train
/// may be incomplete), a note when the reader only says how it read the file
/// (the layout it guessed, the channel it chose).
pub fn read_notes(notes: &[ReadNote]) -> Vec<QualityFlag> {
    notes
        .iter()
        .map(|n| QualityFlag {
            code: n.code,
            message: n.message.clone(),
            train: None,
            severity: n.severity,
        })
        .collect()
}

/// What a train rule looks at: one train with at least one measured
/// response, its rendered figures and the recording's facts.
pub struct TrainCheck<'a> {
    /// The quality tolerances.
    pub q: &'a QualityCriteria,
    /// The train.
    pub t: &'a MeasuredTrain,
    /// Its rendered figures.
    pub o: &'a TrainOut,
    /// Its number, from 1.
    pub n: usize,
    /// Its amplitudes, mV.
    pub amps: Vec<f64>,
    /// The signal sits on clipping rails somewhere.
    pub has_rails: bool,
    /// The sample step, ms.
    pub dt_ms: f64,
    /// The abnormal decrement, % (criteria).
    pub abnormal_pct: f64,
    /// The largest response a CMAP can have, mV: the criteria's human or
    /// rodent limit, by the study's species.
    pub max_cmap_mv: f64,
}

impl TrainCheck<'_> {
    fn flag(&self, code: FlagCode, message: String, warning: bool) -> Option<QualityFlag> {
        Some(flag(code, message, Some(self.n), warning))
    }

    /// Responses that satisfy `p`.
    fn count(&self, p: impl Fn(&crate::analysis::response::Measurement) -> bool) -> usize {
        self.t.measurements.iter().filter(|m| p(m)).count()
    }
}

/// A rule over one train.
pub type TrainRule = fn(&TrainCheck<'_>) -> Option<QualityFlag>;

/// A rule over the trains that needs the whole session: its flags, each
/// naming its train, in train order.
pub type SessionRule = fn(&Context<'_>) -> Vec<QualityFlag>;

/// A rule over the whole recording; it sees the flags raised before it.
pub type RecordingRule = fn(&Context<'_>, &[QualityFlag]) -> Option<QualityFlag>;

/// The train rules, in the order their flags appear.
pub const TRAIN_RULES: &[TrainRule] = &[
    irregular_amplitudes,
    amplitude_area_disagreement,
    too_few_in_train,
    baseline_instability,
    artifact_overlap,
    clipped_signal,
    response_absent,
    implausible_in_train,
    incomplete_response,
    latency_spread,
    hfs_pseudofacilitation,
    initial_positive_deflection,
    late_wave,
    scale_suspect,
];

/// The session rules, in the order their flags appear (after every train
/// rule's).
pub const SESSION_RULES: &[SessionRule] = &[post_exercise_latency];

/// The recording rules, in the order their flags appear (after the session
/// rules').
pub const RECORDING_RULES: &[RecordingRule] = &[
    post_exercise_pseudofacilitation,
    exercise_timing,
    rest_first_responses_differ,
    no_train_of_four,
    low_temperature,
    rate_unknown,
    roles_inferred,
    protocol_mismatch,
    mains_hum_removed,
];

/// Run every check.
pub fn check(ctx: &Context<'_>, out: &[TrainOut], has_rails: bool) -> Vec<QualityFlag> {
    let q = &ctx.cfg.criteria.quality;
    let mut flags = Vec::new();
    for (i, (t, o)) in ctx.trains.iter().zip(out).enumerate() {
        flags.extend(unmeasurable_response(t, i + 1));
        if t.measurements.is_empty() {
            continue;
        }
        let c = TrainCheck {
            q,
            t,
            o,
            n: i + 1,
            amps: t.amplitudes(),
            has_rails,
            dt_ms: ctx.rate.dt_ms(),
            abnormal_pct: ctx.cfg.criteria.decrement.abnormal_pct,
            max_cmap_mv: if ctx.cfg.study.species.is_some_and(|s| s.is_rodent()) {
                q.rodent_max_cmap_mv
            } else {
                q.max_cmap_mv
            },
        };
        flags.extend(TRAIN_RULES.iter().filter_map(|rule| rule(&c)));
    }
    for rule in SESSION_RULES {
        flags.extend(rule(ctx));
    }
    for rule in RECORDING_RULES {
        if let Some(f) = rule(ctx, &flags) {
            flags.push(f);
        }
    }
    flags
}

/// `unmeasurable_response` (warning): a response window too short to
/// measure (the next stimulus or the end of the recording too close).
fn unmeasurable_response(t: &MeasuredTrain, n: usize) -> Option<QualityFlag> {
    (t.unmeasured > 0).then(|| {
        flag(
            FlagCode::UnmeasurableResponse,
            format!(
                "{} response(s) could not be measured (window too short before the next stimulus or the end of the recording)",
                t.unmeasured
            ),
            Some(n),
            true,
        )
    })
}

/// `irregular_amplitudes` (warning): zig-zag amplitudes, more reversals
/// than a U-shape (> `max_reversals`) \[N1\].
fn irregular_amplitudes(c: &TrainCheck<'_>) -> Option<QualityFlag> {
    let revs = metrics::reversals(&c.amps, c.q.reversal_step_pct);
    (c.amps.len() >= 4 && revs > c.q.max_reversals).then_some(())?;
    c.flag(
        FlagCode::IrregularAmplitudes,
        format!(
            "amplitudes change direction {revs} times (a U-shape changes once): movement or electrode artifact suspected"
        ),
        true,
    )
}

/// `amplitude_area_disagreement`: amplitude and area decrement of a
/// low-rate train differ by > 5 points \[BC\]. A warning when either
/// reaches the abnormal decrement (the disagreement is then about whether
/// the train is abnormal); below it, where the reading is normal either
/// way, a note.
fn amplitude_area_disagreement(c: &TrainCheck<'_>) -> Option<QualityFlag> {
    if !c.t.is_low_rate() {
        return None;
    }
    let (a, b) = (c.o.decrement()?, c.o.area_decrement()?);
    let diff = (a - b).abs();
    let limit = c.q.area_amplitude_disagreement_points;
    (diff > limit).then_some(())?;
    let at_stake = a.max(b) > c.abnormal_pct;
    c.flag(
        FlagCode::AmplitudeAreaDisagreement,
        if at_stake {
            format!(
                "amplitude decrement {a:.1} % and area decrement {b:.1} % differ by {diff:.1} points (> {limit:.1}): technical cause likely"
            )
        } else {
            format!(
                "amplitude decrement {a:.1} % and area decrement {b:.1} % differ by {diff:.1} points (> {limit:.1}), both below the abnormal {:.0} %: the response's shape changed within the train",
                c.abnormal_pct
            )
        },
        at_stake,
    )
}

/// `too_few_responses` (info), per train: a low-rate train with only 2–3
/// responses, or an `hfs` train with fewer than 5 (its increment is not
/// interpreted).
fn too_few_in_train(c: &TrainCheck<'_>) -> Option<QualityFlag> {
    let n = c.amps.len();
    if c.t.is_low_rate() {
        (2..4).contains(&n).then_some(())?;
        c.flag(
            FlagCode::TooFewResponses,
            format!("only {n} responses: decrement needs at least 4"),
            false,
        )
    } else {
        (n < MIN_HFS_RESPONSES).then_some(())?;
        c.flag(
            FlagCode::TooFewResponses,
            format!(
                "only {n} responses at a high rate: an increment needs at least {MIN_HFS_RESPONSES}"
            ),
            false,
        )
    }
}

/// `baseline_instability` (warning): the baseline level varies across a
/// train by > 50 % of A1 (movement, electrode shift \[N2\]\[MK\]), or, in
/// trains below 10 Hz (or of unknown rate: at high rates the pre-stimulus
/// span is the previous response's tail), the baseline under the onset
/// differs from the pre-stimulus level by > 5 % of the amplitude (drift or
/// artifact tail, primer §5.5).
fn baseline_instability(c: &TrainCheck<'_>) -> Option<QualityFlag> {
    let q = c.q;
    let a1 = c.amps[0].abs().max(1e-12);
    let levels: Vec<f64> = c.t.measurements.iter().map(|m| m.baseline).collect();
    let (lo, hi) = min_max(levels.iter().copied());
    let spread_pct = (hi - lo) / a1 * 100.0;
    let slow = c.t.rate_hz.is_none_or(|r| r < 10.0);
    // Only against a real pre-stimulus level: sweeps that start at the
    // stimulus have none to drift from.
    let drifting = c.count(|m| {
        m.post_artifact_baseline
            && m.amplitude_mv > 0.0
            && m.pre_baseline.is_some_and(|p| {
                (m.baseline - p).abs() / m.amplitude_mv * 100.0 > q.baseline_drift_pct
            })
    });
    if levels.len() >= 2 && spread_pct > q.baseline_variation_pct {
        c.flag(
            FlagCode::BaselineInstability,
            format!(
                "baseline level varies by {:.3} mV across the train ({spread_pct:.0} % of the first response): movement or electrode shift suspected",
                hi - lo
            ),
            true,
        )
    } else if slow && drifting > 0 {
        c.flag(
            FlagCode::BaselineInstability,
            format!(
                "in {drifting} of {} responses the baseline under the onset differs from the pre-stimulus level by more than {:.0} % of the amplitude (drift or artifact tail)",
                c.amps.len(),
                q.baseline_drift_pct
            ),
            true,
        )
    } else {
        None
    }
}

/// `artifact_overlap` (warning): the stimulus artifact had not settled when
/// the response began.
fn artifact_overlap(c: &TrainCheck<'_>) -> Option<QualityFlag> {
    let overlap = c.count(|m| m.artifact_overlap || m.onset_at_blank);
    (overlap > 0).then_some(())?;
    c.flag(
        FlagCode::ArtifactOverlap,
        format!(
            "in {overlap} of {} responses the stimulus artifact had not settled when the response began: onset, baseline and area are uncertain",
            c.amps.len()
        ),
        true,
    )
}

/// `clipped_signal` (warning): responses touch the amplifier's rails;
/// amplitudes are underestimated.
fn clipped_signal(c: &TrainCheck<'_>) -> Option<QualityFlag> {
    let clipped = c.t.clipped.iter().filter(|&&x| x).count();
    (c.has_rails && clipped > 0).then_some(())?;
    c.flag(
        FlagCode::ClippedSignal,
        format!(
            "{clipped} of {} responses reach the amplifier's limit: amplitudes are underestimated; lower the gain",
            c.amps.len()
        ),
        true,
    )
}

/// `response_absent` (warning): amplitude below `min_snr` (5) × the
/// baseline noise.
fn response_absent(c: &TrainCheck<'_>) -> Option<QualityFlag> {
    let q = c.q;
    let absent = c.count(|m| m.noise_sd > 0.0 && m.amplitude_mv < q.min_snr * m.noise_sd);
    (absent > 0).then_some(())?;
    c.flag(
        FlagCode::ResponseAbsent,
        format!(
            "{absent} of {} responses are within {:.0}× the baseline noise",
            c.amps.len(),
            q.min_snr
        ),
        true,
    )
}

/// `implausible_response` (warning), per train: a negative phase over in
/// < 1 ms, or onset latencies spread over > 2 ms within a train. A CMAP's
/// negative phase lasts several milliseconds; what is over sooner is noise
/// or a spike the window caught (heavy-tailed noise, random spikes grouped
/// into a "train" by chance), and numbers computed from it mean nothing.
fn implausible_in_train(c: &TrainCheck<'_>) -> Option<QualityFlag> {
    let shortest = MIN_CMAP_DURATION_MS.max(2.0 * c.dt_ms);
    let brief = c.count(|m| m.duration_ms < shortest);
    let (lat_lo, lat_hi) = min_max(c.t.measurements.iter().map(|m| m.latency_ms));
    if brief > 0 {
        c.flag(
            FlagCode::ImplausibleResponse,
            format!(
                "{brief} of {} responses last less than {shortest:.2} ms (a CMAP's negative phase lasts 0.7 ms in rodents, several in humans): noise or spikes, not muscle responses",
                c.amps.len()
            ),
            true,
        )
    } else if lat_hi - lat_lo > MAX_LATENCY_DIFFERENCE_MS {
        c.flag(
            FlagCode::ImplausibleResponse,
            format!(
                "onset latency ranges over {lat_lo:.2}–{lat_hi:.2} ms within the train (one muscle's response varies by tenths of a millisecond): noise or spikes, not muscle responses"
            ),
            true,
        )
    } else {
        None
    }
}

/// `incomplete_response` (warning at low rate, info at high rate): the
/// negative phase had not returned to baseline before the window ended.
fn incomplete_response(c: &TrainCheck<'_>) -> Option<QualityFlag> {
    let open = c.count(|m| !m.returned);
    (open > 0).then_some(())?;
    c.flag(
        FlagCode::IncompleteResponse,
        format!(
            "in {open} of {} responses the negative phase had not returned to baseline before the window ended: area and duration are truncated",
            c.amps.len()
        ),
        c.t.is_low_rate(),
    )
}

/// `possible_submaximal` (warning), per train: onset latency varies by more
/// than 0.3 ms within a low-rate train of ≥ 3 responses (submaximal or
/// shifting stimulation, or electrode movement \[MOR\]).
fn latency_spread(c: &TrainCheck<'_>) -> Option<QualityFlag> {
    let q = c.q;
    (c.amps.len() >= 3 && c.t.is_low_rate()).then_some(())?;
    let (l, h) = min_max(c.t.measurements.iter().map(|m| m.latency_ms));
    (h - l > q.latency_spread_ms).then_some(())?;
    c.flag(
        FlagCode::PossibleSubmaximal,
        format!(
            "onset latency varies by {:.2} ms within the train (> {:.2}): submaximal or shifting stimulation, or electrode movement",
            h - l,
            q.latency_spread_ms
        ),
        true,
    )
}

/// `pseudofacilitation` (info), in an `hfs` train: amplitude up ≥ 20 % with
/// area up ≤ 10 % \[N3\]\[PAD\].
fn hfs_pseudofacilitation(c: &TrainCheck<'_>) -> Option<QualityFlag> {
    let q = c.q;
    (c.t.role == TrainRole::Hfs).then_some(())?;
    let (ai, ar) = (c.o.increment_pct?, c.o.area_increment_pct?);
    (ai >= q.pseudofacilitation_amplitude_pct && ar <= q.pseudofacilitation_area_pct)
        .then_some(())?;
    c.flag(
        FlagCode::Pseudofacilitation,
        format!(
            "amplitude rose {ai:.1} % but area only {ar:.1} %: better synchrony (pseudofacilitation), not facilitation"
        ),
        false,
    )
}

/// `initial_positive_deflection` (info): a positive deflection precedes
/// the negative phase (the active electrode off the motor point); baseline
/// and onset are taken before it.
fn initial_positive_deflection(c: &TrainCheck<'_>) -> Option<QualityFlag> {
    let sizes: Vec<(f64, f64)> =
        c.t.measurements
            .iter()
            .filter(|m| m.initial_positive_mv > 0.0 && m.amplitude_mv > 0.0)
            .map(|m| {
                (
                    m.initial_positive_mv,
                    m.initial_positive_mv / m.amplitude_mv * 100.0,
                )
            })
            .collect();
    (!sizes.is_empty()).then_some(())?;
    let mv = crate::analysis::dsp::median(&sizes.iter().map(|s| s.0).collect::<Vec<_>>());
    let pct = crate::analysis::dsp::median(&sizes.iter().map(|s| s.1).collect::<Vec<_>>());
    c.flag(
        FlagCode::InitialPositiveDeflection,
        format!(
            "in {} of {} responses a positive deflection of {mv:.2} mV ({pct:.0} % of the amplitude, median) precedes the negative phase: the active electrode is probably off the motor point; baseline and onset were taken before it",
            sizes.len(),
            c.amps.len()
        ),
        false,
    )
}

/// `late_wave`: in some responses a later wave (an H-reflex or F-wave) is
/// larger than the M-wave measured. A warning when it is so in more than half
/// of the train's responses: then what was measured as the M-wave may be an
/// early bump before the real one, and the train is set aside; a note
/// otherwise (an occasional H-reflex near threshold).
fn late_wave(c: &TrainCheck<'_>) -> Option<QualityFlag> {
    let late: Vec<f64> =
        c.t.measurements
            .iter()
            .filter_map(|m| m.larger_late_wave)
            .map(|s| s * c.dt_ms)
            .collect();
    (!late.is_empty()).then_some(())?;
    let at = crate::analysis::dsp::median(&late);
    let most = 2 * late.len() > c.amps.len();
    let what = if most {
        "an H-reflex or F-wave (which supramaximal stimulation suppresses), or the real response after an early bump taken for the M-wave; the train is not interpreted"
    } else {
        "an H-reflex or F-wave, which supramaximal stimulation suppresses; check the stimulus intensity"
    };
    c.flag(
        FlagCode::LateWave,
        format!(
            "in {} of {} responses a later wave (peak at {at:.1} ms, median) is larger than the M-wave: {what}",
            late.len(),
            c.amps.len()
        ),
        most,
    )
}

/// `scale_suspect` (warning): the train's largest response is beyond the
/// sizes a CMAP has (`min_cmap_mv`–`max_cmap_mv`, 0.02–50 mV): the values
/// were read at the wrong scale, so the train is not interpreted.
fn scale_suspect(c: &TrainCheck<'_>) -> Option<QualityFlag> {
    let largest = c
        .amps
        .iter()
        .copied()
        .filter(|a| a.is_finite())
        .fold(f64::NAN, f64::max);
    let (lo, hi) = (c.q.min_cmap_mv, c.max_cmap_mv);
    let cause = if largest > hi {
        "the scale is probably wrong: an integer WAV's full scale (--full-scale-mv), or values in µV read as mV"
    } else if largest < lo {
        "the scale is probably wrong: values in V read as mV, an EDF's physical range, or an integer WAV's full scale (--full-scale-mv)"
    } else {
        return None;
    };
    c.flag(
        FlagCode::ScaleSuspect,
        format!(
            "the largest response is {} mV, outside the {lo}–{hi} mV a CMAP has: {cause}; the train is not interpreted",
            crate::analysis::result::round_significant(largest, 3).unwrap_or(largest)
        ),
        true,
    )
}

/// `implausible_response` (warning), for the session: each post-exercise
/// train whose first response's onset latency is > 2 ms from the
/// baseline's. The post-exercise comparison needs the same response before
/// and after; such a train never supplies it
/// ([`comparable`](crate::analysis::session::comparable)). (A train with no
/// measured response is set aside too; its own flags say why.)
fn post_exercise_latency(ctx: &Context<'_>) -> Vec<QualityFlag> {
    let Some(b) = reference_baseline(&ctx.trains) else {
        return Vec::new();
    };
    let lb = ctx.trains[b].measurements[0].latency_ms;
    post_trains(ctx, false)
        .into_iter()
        .filter_map(|p| {
            let lp = ctx.trains[p].measurements.first()?.latency_ms;
            Some(flag(
                FlagCode::ImplausibleResponse,
                format!(
                    "the first response's onset latency ({lp:.2} ms) differs from the baseline's ({lb:.2} ms, train {}) by more than {MAX_LATENCY_DIFFERENCE_MS} ms: not the same muscle response, so no post-exercise comparison",
                    b + 1
                ),
                Some(p + 1),
                true,
            ))
        })
        .collect()
}

/// The post-exercise train the comparison uses: the first comparable one,
/// else the first.
fn post_train(ctx: &Context<'_>) -> Option<usize> {
    first_comparable_post(ctx).or_else(|| {
        ctx.trains
            .iter()
            .position(|t| t.role == TrainRole::PostExercise)
    })
}

/// `pseudofacilitation` (info), after exercise: amplitude up ≥ 20 % with
/// area up ≤ 10 % \[N3\]\[PAD\].
fn post_exercise_pseudofacilitation(ctx: &Context<'_>, _: &[QualityFlag]) -> Option<QualityFlag> {
    let q = &ctx.cfg.criteria.quality;
    let post = post_train(ctx)?;
    let (Some(ai), Some(ar)) = post_increments(ctx) else {
        return None;
    };
    (ai >= q.pseudofacilitation_amplitude_pct && ar <= q.pseudofacilitation_area_pct).then(|| {
        flag(
            FlagCode::Pseudofacilitation,
            format!(
                "after exercise amplitude rose {ai:.1} % but area only {ar:.1} %: pseudofacilitation, not facilitation"
            ),
            Some(post + 1),
            false,
        )
    })
}

/// `exercise_timing` (info): the first post-exercise train came > 60 s
/// after exercise, too late to catch facilitation \[PEF11\].
fn exercise_timing(ctx: &Context<'_>, _: &[QualityFlag]) -> Option<QualityFlag> {
    let q = &ctx.cfg.criteria.quality;
    let post = post_train(ctx)?;
    let d = ctx.trains[post].delay_s?;
    (d > q.max_facilitation_delay_s).then(|| {
        flag(
            FlagCode::ExerciseTiming,
            format!(
                "first post-exercise train {d:.0} s after exercise (> {:.0} s): post-exercise facilitation may be missed",
                q.max_facilitation_delay_s
            ),
            Some(post + 1),
            false,
        )
    })
}

/// `possible_submaximal` (warning), for the session: the first responses of
/// the rest trains differ by > 15 % \[MOR\].
fn rest_first_responses_differ(ctx: &Context<'_>, _: &[QualityFlag]) -> Option<QualityFlag> {
    let q = &ctx.cfg.criteria.quality;
    let rest: Vec<f64> = ctx
        .trains
        .iter()
        .filter(|t| t.role == TrainRole::Baseline)
        .filter_map(|t| t.measurements.first().map(|m| m.amplitude_mv))
        .collect();
    (rest.len() >= 2).then_some(())?;
    let (lo, hi) = min_max(rest.iter().copied());
    let var = (hi - lo) / hi.max(1e-12) * 100.0;
    (var > q.first_response_variation_pct).then(|| {
        flag(
            FlagCode::PossibleSubmaximal,
            format!(
                "first responses of the rest trains differ by {var:.1} % ({lo:.2}–{hi:.2} mV): check that stimulation is supramaximal and stable"
            ),
            None,
            true,
        )
    })
}

/// `too_few_responses` (info), for the recording: no train of ≥ 4
/// responses (and no `hfs` train), when no train was flagged already.
fn no_train_of_four(ctx: &Context<'_>, flags: &[QualityFlag]) -> Option<QualityFlag> {
    (ctx.trains.iter().all(|t| t.measurements.len() < 4)
        && !ctx.trains.iter().any(|t| t.role == TrainRole::Hfs)
        && !flags.iter().any(|f| f.code == FlagCode::TooFewResponses))
    .then(|| {
        flag(
            FlagCode::TooFewResponses,
            "no train has the 4 responses a decrement needs".into(),
            None,
            false,
        )
    })
}

/// `low_temperature` (warning): skin below 32 °C; cooling masks decrement
/// \[N1\]\[N2\]\[MK\].
fn low_temperature(ctx: &Context<'_>, _: &[QualityFlag]) -> Option<QualityFlag> {
    let q = &ctx.cfg.criteria.quality;
    let t = ctx.cfg.temperature_c?;
    (t < q.min_temperature_c).then(|| {
        flag(
            FlagCode::LowTemperature,
            format!(
                "skin temperature {t:.1} °C is below {:.0} °C: cooling masks decrement",
                q.min_temperature_c
            ),
            None,
            true,
        )
    })
}

/// `rate_unknown` (info): epoched sweeps without a stimulation rate.
fn rate_unknown(ctx: &Context<'_>, _: &[QualityFlag]) -> Option<QualityFlag> {
    ctx.rate_unknown.then(|| {
        flag(
            FlagCode::RateUnknown,
            "sweeps carry no timing and no stimulation rate was given (--rate or rate_hz in the sidecar): trains are not classed as high-rate".into(),
            None,
            false,
        )
    })
}

/// `roles_inferred` (info): no exercise seen or declared; trains after a
/// pause of ≥ 8 s taken as post-exercise.
fn roles_inferred(ctx: &Context<'_>, _: &[QualityFlag]) -> Option<QualityFlag> {
    ctx.roles_guessed.then(|| {
        flag(
            FlagCode::RolesInferred,
            "no exercise was seen or declared: trains after a pause of ≥ 8 s are taken as post-exercise; confirm with a protocol sidecar".into(),
            None,
            false,
        )
    })
}

/// `protocol_mismatch` (warning): the sidecar lists a different number of
/// trains than were found; roles applied in order.
fn protocol_mismatch(ctx: &Context<'_>, _: &[QualityFlag]) -> Option<QualityFlag> {
    let (declared, found) = ctx.protocol_mismatch?;
    Some(flag(
        FlagCode::ProtocolMismatch,
        format!("the protocol lists {declared} train(s) but {found} were found: roles were applied in order"),
        None,
        true,
    ))
}

/// `mains_hum_removed` (info): hum found and removed (frequency and RMS).
fn mains_hum_removed(ctx: &Context<'_>, _: &[QualityFlag]) -> Option<QualityFlag> {
    let h = ctx.hum.as_ref()?;
    Some(flag(
        FlagCode::MainsHumRemoved,
        format!(
            "{:.2} Hz mains hum of {:.1} µV rms found and removed",
            h.freq_hz,
            round(h.rms_mv * 1000.0, 1)
        ),
        None,
        false,
    ))
}

/// The smallest and largest of `v` (±∞ when empty).
fn min_max(v: impl Iterator<Item = f64>) -> (f64, f64) {
    v.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| {
        (l.min(x), h.max(x))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::context::testing::{context, measurement, train};
    use crate::analysis::session::render_train;
    use crate::settings::config::AnalysisConfig;

    /// The flags of `trains` (with `cfg`), as (code, train) pairs.
    fn codes_with(
        cfg: &AnalysisConfig,
        trains: Vec<MeasuredTrain>,
    ) -> Vec<(FlagCode, Option<usize>)> {
        let ctx = context(cfg, trains);
        let out: Vec<TrainOut> = ctx
            .trains
            .iter()
            .enumerate()
            .map(|(i, t)| render_train(i, t, &ctx))
            .collect();
        check(&ctx, &out, false)
            .into_iter()
            .map(|f| (f.code, f.train))
            .collect()
    }

    fn codes(trains: Vec<MeasuredTrain>) -> Vec<(FlagCode, Option<usize>)> {
        codes_with(&AnalysisConfig::default(), trains)
    }

    fn has(trains: Vec<MeasuredTrain>, code: FlagCode) -> bool {
        codes(trains).iter().any(|&(c, _)| c == code)
    }

    const FLAT: [f64; 6] = [8.0, 8.0, 8.0, 8.0, 8.0, 8.0];

    #[test]
    fn a_clean_train_raises_nothing() {
        assert_eq!(codes(vec![train(TrainRole::Baseline, &FLAT)]), vec![]);
    }

    #[test]
    fn unmeasurable_response_counts_windows_too_short() {
        let mut t = train(TrainRole::Baseline, &FLAT);
        t.unmeasured = 2;
        assert_eq!(
            codes(vec![t]),
            vec![(FlagCode::UnmeasurableResponse, Some(1))]
        );
    }

    #[test]
    fn irregular_amplitudes_needs_more_reversals_than_a_u() {
        let zigzag = [8.0, 7.0, 8.0, 7.0, 8.0, 7.0];
        assert!(has(
            vec![train(TrainRole::Baseline, &zigzag)],
            FlagCode::IrregularAmplitudes
        ));
        let u = [8.0, 7.0, 6.5, 6.4, 6.6, 6.9];
        assert!(!has(
            vec![train(TrainRole::Baseline, &u)],
            FlagCode::IrregularAmplitudes
        ));
    }

    #[test]
    fn amplitude_area_disagreement_compares_the_two_decrements() {
        let mut t = train(TrainRole::Baseline, &[8.0, 7.0, 6.5, 6.0, 6.0, 6.0]);
        // Areas flat while amplitudes fall 25 %.
        t.measurements.iter_mut().for_each(|m| m.area_mv_ms = 20.0);
        assert!(has(vec![t], FlagCode::AmplitudeAreaDisagreement));
        let t = train(TrainRole::Baseline, &[8.0, 7.0, 6.5, 6.0, 6.0, 6.0]);
        assert!(!has(vec![t], FlagCode::AmplitudeAreaDisagreement));
    }

    /// The severity of `code`'s flag on `trains`, if raised.
    fn severity_of(trains: Vec<MeasuredTrain>, code: FlagCode) -> Option<Severity> {
        let cfg = AnalysisConfig::default();
        let ctx = context(&cfg, trains);
        let out: Vec<TrainOut> = ctx
            .trains
            .iter()
            .enumerate()
            .map(|(i, t)| render_train(i, t, &ctx))
            .collect();
        check(&ctx, &out, false)
            .into_iter()
            .find(|f| f.code == code)
            .map(|f| f.severity)
    }

    #[test]
    fn amplitude_area_disagreement_warns_only_when_the_reading_is_at_stake() {
        // Amplitudes fall 25 %, areas 0 %: abnormal by amplitude.
        let mut t = train(TrainRole::Baseline, &[8.0, 7.0, 6.5, 6.0, 6.0, 6.0]);
        t.measurements.iter_mut().for_each(|m| m.area_mv_ms = 20.0);
        assert_eq!(
            severity_of(vec![t], FlagCode::AmplitudeAreaDisagreement),
            Some(Severity::Warning)
        );
        // Amplitudes fall 7.5 %, areas rise 2 %: normal either way.
        let mut t = train(TrainRole::Baseline, &[8.0, 7.6, 7.4, 7.4, 7.4, 7.4]);
        for (k, m) in t.measurements.iter_mut().enumerate() {
            m.area_mv_ms = 20.0 + 0.1 * k.min(3) as f64 + 0.1;
        }
        t.measurements[0].area_mv_ms = 20.0;
        assert_eq!(
            severity_of(vec![t], FlagCode::AmplitudeAreaDisagreement),
            Some(Severity::Info)
        );
    }

    #[test]
    fn initial_positive_deflection_is_a_note() {
        let mut t = train(TrainRole::Baseline, &FLAT);
        t.measurements
            .iter_mut()
            .for_each(|m| m.initial_positive_mv = 0.8);
        assert_eq!(
            severity_of(vec![t], FlagCode::InitialPositiveDeflection),
            Some(Severity::Info)
        );
        assert!(!has(
            vec![train(TrainRole::Baseline, &FLAT)],
            FlagCode::InitialPositiveDeflection
        ));
    }

    #[test]
    fn late_wave_larger_than_the_m_wave_is_a_note_when_occasional() {
        let mut t = train(TrainRole::Baseline, &FLAT);
        t.measurements[3].larger_late_wave = Some(300.0);
        assert_eq!(
            severity_of(vec![t], FlagCode::LateWave),
            Some(Severity::Info)
        );
        assert!(!has(
            vec![train(TrainRole::Baseline, &FLAT)],
            FlagCode::LateWave
        ));
    }

    #[test]
    fn late_wave_in_most_responses_is_a_warning() {
        // Half the responses: still a note; one more: a warning.
        let n = FLAT.len();
        let mut t = train(TrainRole::Baseline, &FLAT);
        for m in t.measurements.iter_mut().take(n / 2) {
            m.larger_late_wave = Some(300.0);
        }
        assert_eq!(
            severity_of(vec![t.clone()], FlagCode::LateWave),
            Some(Severity::Info)
        );
        t.measurements[n / 2].larger_late_wave = Some(300.0);
        assert_eq!(
            severity_of(vec![t], FlagCode::LateWave),
            Some(Severity::Warning)
        );
    }

    #[test]
    fn responses_no_cmap_can_have_are_a_scale_warning() {
        for (size, flagged) in [
            (100_000.0, true),
            (60.0, true),
            (45.0, false),
            (8.0, false),
            (0.025, false),
            (0.001, true),
            (1e-6, true),
        ] {
            let t = train(TrainRole::Baseline, &FLAT.map(|a| a / 8.0 * size));
            let sev = severity_of(vec![t], FlagCode::ScaleSuspect);
            assert_eq!(sev, flagged.then_some(Severity::Warning), "{size} mV");
        }
    }

    #[test]
    fn rodent_m_waves_are_no_implausible_responses() {
        // 0.7 ms negative phases (mouse M-waves at 10 kHz) are CMAPs.
        let mut t = train(TrainRole::Baseline, &FLAT);
        t.measurements.iter_mut().for_each(|m| m.duration_ms = 0.7);
        assert!(!has(vec![t], FlagCode::ImplausibleResponse));
    }

    #[test]
    fn too_few_responses_per_train_and_for_the_recording() {
        assert_eq!(
            codes(vec![train(TrainRole::Baseline, &[8.0, 8.0, 8.0])]),
            vec![(FlagCode::TooFewResponses, Some(1))]
        );
        let hfs = train(TrainRole::Hfs, &[8.0, 9.0, 10.0]);
        assert_eq!(codes(vec![hfs]), vec![(FlagCode::TooFewResponses, Some(1))]);
        // A single response: no train of four, said once for the recording.
        assert_eq!(
            codes(vec![train(TrainRole::Baseline, &[8.0])]),
            vec![(FlagCode::TooFewResponses, None)]
        );
    }

    #[test]
    fn baseline_instability_spread_and_drift() {
        let mut t = train(TrainRole::Baseline, &FLAT);
        t.measurements[3].baseline = 5.0; // 62 % of A1
        assert!(has(vec![t], FlagCode::BaselineInstability));
        let mut t = train(TrainRole::Baseline, &FLAT);
        t.measurements[1].post_artifact_baseline = true;
        t.measurements[1].pre_baseline = Some(0.6); // 7.5 % of the amplitude
        assert!(has(vec![t.clone()], FlagCode::BaselineInstability));
        // At a high rate the pre-stimulus span holds the last response's tail.
        t.role = TrainRole::Hfs;
        t.rate_hz = Some(50.0);
        assert!(!has(vec![t], FlagCode::BaselineInstability));
    }

    #[test]
    fn artifact_overlap_and_clipping_and_absent() {
        let mut t = train(TrainRole::Baseline, &FLAT);
        t.measurements[0].onset_at_blank = true;
        assert!(has(vec![t], FlagCode::ArtifactOverlap));
        let mut t = train(TrainRole::Baseline, &FLAT);
        t.clipped[2] = true;
        let cfg = AnalysisConfig::default();
        let ctx = context(&cfg, vec![t]);
        let out = vec![render_train(0, &ctx.trains[0], &ctx)];
        let with_rails: Vec<FlagCode> = check(&ctx, &out, true).iter().map(|f| f.code).collect();
        assert_eq!(with_rails, vec![FlagCode::ClippedSignal]);
        assert!(check(&ctx, &out, false).is_empty(), "no rails, no clipping");
        let mut t = train(TrainRole::Baseline, &FLAT);
        t.measurements[4].noise_sd = 2.0; // 8 mV < 5 × 2 mV
        assert!(has(vec![t], FlagCode::ResponseAbsent));
    }

    #[test]
    fn implausible_response_brief_or_scattered() {
        let mut t = train(TrainRole::Baseline, &FLAT);
        t.measurements[2].duration_ms = 0.3;
        assert!(has(vec![t], FlagCode::ImplausibleResponse));
        let mut t = train(TrainRole::Baseline, &FLAT);
        t.measurements[2].latency_ms += 2.5;
        let c = codes(vec![t]);
        assert!(
            c.contains(&(FlagCode::ImplausibleResponse, Some(1))),
            "{c:?}"
        );
    }

    #[test]
    fn implausible_response_after_exercise_when_latencies_differ() {
        let base = train(TrainRole::Baseline, &FLAT);
        let mut post = train(TrainRole::PostExercise, &FLAT);
        // Every response 3 ms later: consistent within the train, not with the baseline.
        post.measurements
            .iter_mut()
            .for_each(|m| m.latency_ms += 3.0);
        let c = codes(vec![base, post]);
        assert!(
            c.contains(&(FlagCode::ImplausibleResponse, Some(2))),
            "{c:?}"
        );
    }

    #[test]
    fn incomplete_response_is_a_warning_at_low_rate_only() {
        let mut t = train(TrainRole::Baseline, &FLAT);
        t.measurements[0].returned = false;
        let cfg = AnalysisConfig::default();
        let ctx = context(&cfg, vec![t.clone()]);
        let out = vec![render_train(0, &ctx.trains[0], &ctx)];
        let f = check(&ctx, &out, false);
        assert_eq!(
            (f[0].code, f[0].severity),
            (FlagCode::IncompleteResponse, Severity::Warning)
        );
        t.role = TrainRole::Hfs;
        let ctx = context(&cfg, vec![t]);
        let out = vec![render_train(0, &ctx.trains[0], &ctx)];
        let f = check(&ctx, &out, false);
        assert_eq!(
            (f[0].code, f[0].severity),
            (FlagCode::IncompleteResponse, Severity::Info)
        );
    }

    #[test]
    fn possible_submaximal_latency_spread_and_rest_trains() {
        let mut t = train(TrainRole::Baseline, &FLAT);
        t.measurements[3].latency_ms += 0.5;
        assert!(has(vec![t], FlagCode::PossibleSubmaximal));
        let a = train(TrainRole::Baseline, &FLAT);
        let b = train(TrainRole::Baseline, &[6.0, 6.0, 6.0, 6.0, 6.0, 6.0]);
        assert_eq!(
            codes(vec![a, b]),
            vec![(FlagCode::PossibleSubmaximal, None)]
        );
    }

    #[test]
    fn pseudofacilitation_in_hfs_and_after_exercise() {
        let mut t = train(TrainRole::Hfs, &[8.0, 9.0, 10.0, 10.5, 10.5, 10.5]);
        t.rate_hz = Some(50.0);
        t.measurements.iter_mut().for_each(|m| m.area_mv_ms = 20.0);
        assert!(has(vec![t], FlagCode::Pseudofacilitation));
        let base = train(TrainRole::Baseline, &FLAT);
        let mut post = train(
            TrainRole::PostExercise,
            &[10.0, 10.0, 10.0, 10.0, 10.0, 10.0],
        );
        post.measurements
            .iter_mut()
            .for_each(|m| m.area_mv_ms = 20.0);
        let c = codes(vec![base, post]);
        assert!(
            c.contains(&(FlagCode::Pseudofacilitation, Some(2))),
            "{c:?}"
        );
    }

    #[test]
    fn exercise_timing_after_a_minute() {
        let base = train(TrainRole::Baseline, &FLAT);
        let mut post = train(TrainRole::PostExercise, &FLAT);
        post.delay_s = Some(90.0);
        assert_eq!(
            codes(vec![base.clone(), post.clone()]),
            vec![(FlagCode::ExerciseTiming, Some(2))]
        );
        post.delay_s = Some(30.0);
        assert_eq!(codes(vec![base, post]), vec![]);
    }

    #[test]
    fn recording_facts_become_flags() {
        let cfg = AnalysisConfig {
            temperature_c: Some(30.0),
            ..AnalysisConfig::default()
        };
        let trains = vec![train(TrainRole::Baseline, &FLAT)];
        assert_eq!(
            codes_with(&cfg, trains.clone()),
            vec![(FlagCode::LowTemperature, None)]
        );
        let cfg = AnalysisConfig::default();
        let mut ctx = context(&cfg, trains);
        ctx.rate_unknown = true;
        ctx.roles_guessed = true;
        ctx.protocol_mismatch = Some((3, 1));
        ctx.hum = Some(crate::analysis::hum::HumModel::for_test(50.0, 0.03));
        let out = vec![render_train(0, &ctx.trains[0], &ctx)];
        let f = check(&ctx, &out, false);
        let got: Vec<FlagCode> = f.iter().map(|f| f.code).collect();
        assert_eq!(
            got,
            vec![
                FlagCode::RateUnknown,
                FlagCode::RolesInferred,
                FlagCode::ProtocolMismatch,
                FlagCode::MainsHumRemoved
            ]
        );
        assert_eq!(
            f[3].message,
            "50.00 Hz mains hum of 30.0 µV rms found and removed"
        );
    }

    #[test]
    fn read_notes_keep_their_severity() {
        let f = read_notes(&[
            ReadNote::warning(FlagCode::TruncatedFile, "cut short"),
            ReadNote::info(FlagCode::LayoutGuessed, "sweeps, by the time column"),
        ]);
        assert_eq!(
            (f[0].code, f[0].severity),
            (FlagCode::TruncatedFile, Severity::Warning)
        );
        assert_eq!(
            (f[1].code, f[1].severity),
            (FlagCode::LayoutGuessed, Severity::Info)
        );
    }

    #[test]
    fn every_measurement_helper_is_a_clean_cmap() {
        let m = measurement(8.0);
        assert!(m.returned && !m.artifact_overlap && m.duration_ms > MIN_CMAP_DURATION_MS);
    }
}
