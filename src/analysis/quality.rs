//! Technical quality checks (primer §5). Each flag has a stable code, a plain
//! message with the figures behind it, the train it concerns, and a severity:
//! `warning` when it makes the numbers less trustworthy, `info` otherwise.
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
//! | `implausible_response` | "responses" that are no CMAP: over in < 1 ms, onset latency scattered by > 2 ms within a train, or a post-exercise first response whose latency is > 2 ms from the baseline's |
//! | `incomplete_response` | the negative phase had not returned to baseline before the next stimulus |
//! | `low_temperature` | skin below 32 °C \[N1\]\[N2\]\[MK\] |
//! | `exercise_timing` | first post-exercise train too late to catch facilitation \[PEF11\] |
//! | `unmeasurable_response` | a response window too short to measure |
//! | `rate_unknown` | epoched sweeps without a stimulation rate |
//! | `roles_inferred` | roles guessed from order and gaps |
//! | `protocol_mismatch` | the sidecar lists a different number of trains |
//! | `mains_hum_removed` | hum found and removed |
//! | `truncated_file` | the reader recovered a file cut short (see [`ReadNote`]) |

use crate::analysis::result::{round, QualityFlag, SessionOut, TrainOut};
use crate::analysis::{metrics, Context};
use crate::recording::ReadNote;
use crate::vocab::{FlagCode, Severity, TrainRole};

/// Shortest negative phase a CMAP can have, ms (they last several).
const MIN_CMAP_DURATION_MS: f64 = 1.0;
/// Largest onset-latency difference between responses of one nerve and
/// muscle, ms: a real train varies by tenths of a millisecond (see
/// `latency_spread_ms`), so several times more is not one muscle's response.
pub const MAX_LATENCY_DIFFERENCE_MS: f64 = 2.0;
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

/// One `warning` flag per reader note: the recording was read, but not all
/// of it (a file cut short), so the last train may be incomplete.
pub fn read_notes(notes: &[ReadNote]) -> Vec<QualityFlag> {
    notes
        .iter()
        .map(|n| flag(n.code, n.message.clone(), None, true))
        .collect()
}

/// Run every check.
pub fn check(
    ctx: &Context<'_>,
    out: &[TrainOut],
    session: &SessionOut,
    has_rails: bool,
) -> Vec<QualityFlag> {
    let q = &ctx.cfg.criteria.quality;
    let mut flags = Vec::new();
    for (i, (t, o)) in ctx.trains.iter().zip(out).enumerate() {
        let n = i + 1;
        let amps = t.amplitudes();
        if t.unmeasured > 0 {
            flags.push(flag(
                FlagCode::UnmeasurableResponse,
                format!(
                    "{} response(s) could not be measured (window too short before the next stimulus or the end of the recording)",
                    t.unmeasured
                ),
                Some(n),
                true,
            ));
        }
        if amps.is_empty() {
            continue;
        }
        let revs = metrics::reversals(&amps, q.reversal_step_pct);
        if amps.len() >= 4 && revs > q.max_reversals {
            flags.push(flag(
                FlagCode::IrregularAmplitudes,
                format!(
                    "amplitudes change direction {revs} times (a U-shape changes once): movement or electrode artifact suspected"
                ),
                Some(n),
                true,
            ));
        }
        if t.is_low_rate() {
            if let (Some(a), Some(b)) = (o.decrement(), o.area_decrement()) {
                let diff = (a - b).abs();
                if diff > q.area_amplitude_disagreement_points {
                    flags.push(flag(
                FlagCode::AmplitudeAreaDisagreement,
                        format!(
                            "amplitude decrement {a:.1} % and area decrement {b:.1} % differ by {diff:.1} points (> {:.1}): technical cause likely",
                            q.area_amplitude_disagreement_points
                        ),
                        Some(n),
                        true,
                    ));
                }
            }
            if (2..4).contains(&amps.len()) {
                flags.push(flag(
                    FlagCode::TooFewResponses,
                    format!("only {} responses: decrement needs at least 4", amps.len()),
                    Some(n),
                    false,
                ));
            }
        } else if amps.len() < MIN_HFS_RESPONSES {
            flags.push(flag(
                FlagCode::TooFewResponses,
                format!(
                    "only {} responses at a high rate: an increment needs at least {MIN_HFS_RESPONSES}",
                    amps.len()
                ),
                Some(n),
                false,
            ));
        }
        // Baseline: drift under the onset (low-rate trains: at high rates the
        // pre-stimulus span is the previous response's tail), and the spread of
        // levels across the train.
        let a1 = amps[0].abs().max(1e-12);
        let levels: Vec<f64> = t.measurements.iter().map(|m| m.baseline).collect();
        let (lo, hi) = levels
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
                (l.min(v), h.max(v))
            });
        let spread_pct = (hi - lo) / a1 * 100.0;
        let slow = t.rate_hz.is_none_or(|r| r < 10.0);
        let drifting = t
            .measurements
            .iter()
            .filter(|m| m.post_artifact_baseline && m.amplitude_mv > 0.0)
            .map(|m| (m.baseline - m.pre_baseline).abs() / m.amplitude_mv * 100.0)
            .filter(|&d| d > q.baseline_drift_pct)
            .count();
        if levels.len() >= 2 && spread_pct > q.baseline_variation_pct {
            flags.push(flag(
                FlagCode::BaselineInstability,
                format!(
                    "baseline level varies by {:.3} mV across the train ({spread_pct:.0} % of the first response): movement or electrode shift suspected",
                    hi - lo
                ),
                Some(n),
                true,
            ));
        } else if slow && drifting > 0 {
            flags.push(flag(
                FlagCode::BaselineInstability,
                format!(
                    "in {drifting} of {} responses the baseline under the onset differs from the pre-stimulus level by more than {:.0} % of the amplitude (drift or artifact tail)",
                    amps.len(),
                    q.baseline_drift_pct
                ),
                Some(n),
                true,
            ));
        }
        let overlap = t
            .measurements
            .iter()
            .filter(|m| m.artifact_overlap || m.onset_at_blank)
            .count();
        if overlap > 0 {
            flags.push(flag(
                FlagCode::ArtifactOverlap,
                format!(
                    "in {overlap} of {} responses the stimulus artifact had not settled when the response began: onset, baseline and area are uncertain",
                    amps.len()
                ),
                Some(n),
                true,
            ));
        }
        let clipped = t.clipped.iter().filter(|&&c| c).count();
        if has_rails && clipped > 0 {
            flags.push(flag(
                FlagCode::ClippedSignal,
                format!(
                    "{clipped} of {} responses reach the amplifier's limit: amplitudes are underestimated; lower the gain",
                    amps.len()
                ),
                Some(n),
                true,
            ));
        }
        let absent = t
            .measurements
            .iter()
            .filter(|m| m.noise_sd > 0.0 && m.amplitude_mv < q.min_snr * m.noise_sd)
            .count();
        if absent > 0 {
            flags.push(flag(
                FlagCode::ResponseAbsent,
                format!(
                    "{absent} of {} responses are within {:.0}× the baseline noise",
                    amps.len(),
                    q.min_snr
                ),
                Some(n),
                true,
            ));
        }
        // A CMAP's negative phase lasts several milliseconds. What is over
        // sooner is noise or a spike the window caught (heavy-tailed noise,
        // random spikes grouped into a "train" by chance), and numbers
        // computed from it mean nothing.
        let brief = t
            .measurements
            .iter()
            .filter(|m| m.duration_ms < MIN_CMAP_DURATION_MS)
            .count();
        let (lat_lo, lat_hi) = t
            .measurements
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), m| {
                (l.min(m.latency_ms), h.max(m.latency_ms))
            });
        if brief > 0 {
            flags.push(flag(
                FlagCode::ImplausibleResponse,
                format!(
                    "{brief} of {} responses last less than {MIN_CMAP_DURATION_MS} ms (a CMAP's negative phase lasts several): noise or spikes, not muscle responses",
                    amps.len()
                ),
                Some(n),
                true,
            ));
        } else if lat_hi - lat_lo > MAX_LATENCY_DIFFERENCE_MS {
            flags.push(flag(
                FlagCode::ImplausibleResponse,
                format!(
                    "onset latency ranges over {:.2}–{:.2} ms within the train (one muscle's response varies by tenths of a millisecond): noise or spikes, not muscle responses",
                    lat_lo, lat_hi
                ),
                Some(n),
                true,
            ));
        }
        let open = t.measurements.iter().filter(|m| !m.returned).count();
        if open > 0 {
            flags.push(flag(
                FlagCode::IncompleteResponse,
                format!(
                    "in {open} of {} responses the negative phase had not returned to baseline before the window ended: area and duration are truncated",
                    amps.len()
                ),
                Some(n),
                t.is_low_rate(),
            ));
        }
        // Latency spread: submaximal stimulation or movement.
        if amps.len() >= 3 {
            let lat: Vec<f64> = t.measurements.iter().map(|m| m.latency_ms).collect();
            let (l, h) = lat
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                    (a.min(v), b.max(v))
                });
            if h - l > q.latency_spread_ms && t.is_low_rate() {
                flags.push(flag(
                FlagCode::PossibleSubmaximal,
                    format!(
                        "onset latency varies by {:.2} ms within the train (> {:.2}): submaximal or shifting stimulation, or electrode movement",
                        h - l,
                        q.latency_spread_ms
                    ),
                    Some(n),
                    true,
                ));
            }
        }
        if t.role == TrainRole::Hfs {
            if let (Some(ai), Some(ar)) = (o.increment_pct, o.area_increment_pct) {
                if ai >= q.pseudofacilitation_amplitude_pct && ar <= q.pseudofacilitation_area_pct {
                    flags.push(flag(
                FlagCode::Pseudofacilitation,
                        format!(
                            "amplitude rose {ai:.1} % but area only {ar:.1} %: better synchrony (pseudofacilitation), not facilitation"
                        ),
                        Some(n),
                        false,
                    ));
                }
            }
        }
    }
    // The post-exercise comparison needs the same response before and after:
    // first responses whose onset latencies differ grossly are not.
    let first_post = ctx
        .trains
        .iter()
        .position(|t| t.role == TrainRole::PostExercise && !t.measurements.is_empty());
    if let (Some(b), Some(p)) = (crate::analysis::reference_baseline(&ctx.trains), first_post) {
        let (lb, lp) = (
            ctx.trains[b].measurements[0].latency_ms,
            ctx.trains[p].measurements[0].latency_ms,
        );
        if (lp - lb).abs() > MAX_LATENCY_DIFFERENCE_MS {
            flags.push(flag(
                FlagCode::ImplausibleResponse,
                format!(
                    "the first response's onset latency ({lp:.2} ms) differs from the baseline's ({lb:.2} ms, train {}) by more than {MAX_LATENCY_DIFFERENCE_MS} ms: not the same muscle response, so no post-exercise comparison",
                    b + 1
                ),
                Some(p + 1),
                true,
            ));
        }
    }
    // Post-exercise pseudofacilitation.
    if let Some(post) = ctx
        .trains
        .iter()
        .position(|t| t.role == TrainRole::PostExercise)
    {
        if let (Some(ai), Some(ar)) = post_increments(ctx) {
            if ai >= q.pseudofacilitation_amplitude_pct && ar <= q.pseudofacilitation_area_pct {
                flags.push(flag(
                FlagCode::Pseudofacilitation,
                    format!(
                        "after exercise amplitude rose {ai:.1} % but area only {ar:.1} %: pseudofacilitation, not facilitation"
                    ),
                    Some(post + 1),
                    false,
                ));
            }
        }
        if let Some(d) = ctx.trains[post].delay_s {
            if d > q.max_facilitation_delay_s {
                flags.push(flag(
                FlagCode::ExerciseTiming,
                    format!(
                        "first post-exercise train {d:.0} s after exercise (> {:.0} s): post-exercise facilitation may be missed",
                        q.max_facilitation_delay_s
                    ),
                    Some(post + 1),
                    false,
                ));
            }
        }
    }
    // First responses of rest trains that should match.
    let rest: Vec<(usize, f64)> = ctx
        .trains
        .iter()
        .enumerate()
        .filter(|(_, t)| t.role == TrainRole::Baseline)
        .filter_map(|(i, t)| t.measurements.first().map(|m| (i, m.amplitude_mv)))
        .collect();
    if rest.len() >= 2 {
        let (lo, hi) = rest
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &(_, v)| {
                (l.min(v), h.max(v))
            });
        let var = (hi - lo) / hi.max(1e-12) * 100.0;
        if var > q.first_response_variation_pct {
            flags.push(flag(
                FlagCode::PossibleSubmaximal,
                format!(
                    "first responses of the rest trains differ by {var:.1} % ({lo:.2}–{hi:.2} mV): check that stimulation is supramaximal and stable"
                ),
                None,
                true,
            ));
        }
    }
    if ctx.trains.iter().all(|t| t.measurements.len() < 4)
        && !ctx.trains.iter().any(|t| t.role == TrainRole::Hfs)
        && !flags.iter().any(|f| f.code == FlagCode::TooFewResponses)
    {
        flags.push(flag(
            FlagCode::TooFewResponses,
            "no train has the 4 responses a decrement needs".into(),
            None,
            false,
        ));
    }
    if let Some(t) = ctx.cfg.temperature_c {
        if t < q.min_temperature_c {
            flags.push(flag(
                FlagCode::LowTemperature,
                format!(
                    "skin temperature {t:.1} °C is below {:.0} °C: cooling masks decrement",
                    q.min_temperature_c
                ),
                None,
                true,
            ));
        }
    }
    if ctx.rate_unknown {
        flags.push(flag(
                FlagCode::RateUnknown,
            "sweeps carry no timing and no stimulation rate was given (--rate or rate_hz in the sidecar): trains are not classed as high-rate".into(),
            None,
            false,
        ));
    }
    if ctx.roles_guessed {
        flags.push(flag(
                FlagCode::RolesInferred,
            "no exercise was seen or declared: trains after a pause of ≥ 8 s are taken as post-exercise; confirm with a protocol sidecar".into(),
            None,
            false,
        ));
    }
    if let Some((declared, found)) = ctx.protocol_mismatch {
        flags.push(flag(
                FlagCode::ProtocolMismatch,
            format!("the protocol lists {declared} train(s) but {found} were found: roles were applied in order"),
            None,
            true,
        ));
    }
    if let Some(h) = &ctx.hum {
        flags.push(flag(
            FlagCode::MainsHumRemoved,
            format!(
                "{:.2} Hz mains hum of {:.1} µV rms found and removed",
                h.freq_hz,
                round(h.rms_mv * 1000.0, 1)
            ),
            None,
            false,
        ));
    }
    let _ = session;
    flags
}

/// Amplitude and area increment of the first post-exercise response vs the reference baseline.
pub fn post_increments(ctx: &Context<'_>) -> (Option<f64>, Option<f64>) {
    let Some(b) = crate::analysis::reference_baseline(&ctx.trains) else {
        return (None, None);
    };
    let Some(p) = ctx
        .trains
        .iter()
        .find(|t| t.role == TrainRole::PostExercise && !t.measurements.is_empty())
    else {
        return (None, None);
    };
    let (bm, pm) = (&ctx.trains[b].measurements[0], &p.measurements[0]);
    // Rounded as in the output, so messages and fields show the same figure.
    (
        crate::analysis::result::round_opt(
            metrics::pct_change(bm.amplitude_mv, pm.amplitude_mv),
            2,
        ),
        crate::analysis::result::round_opt(metrics::pct_change(bm.area_mv_ms, pm.area_mv_ms), 2),
    )
}
