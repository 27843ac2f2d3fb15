//! Pipeline step 6: each train's figures (decrement, increment, shape), the
//! session's (the reference baseline train, its CMAP against the normal
//! range, repair and exhaustion \[N4\], the post-exercise increment), then the
//! quality flags and the classification, rendered as the [`Analysis`]
//! contract.

use crate::analysis::channels::ChannelPlan;
use crate::analysis::context::{Context, MeasuredTrain};
use crate::analysis::metrics::{self, ShapeParams};
use crate::analysis::result::{
    self, round, round_opt, Analysis, ResponseOut, SessionOut, Source, TrainOut,
};
use crate::analysis::{classify, quality};
use crate::recording::{ChannelKind, Recording};
use crate::vocab::{PolaritySource, StimulusSource, TrainRole};

/// The analysis of `rec` from its trains with their roles: every figure,
/// the flags and the pattern.
pub fn render(
    ctx: &Context<'_>,
    rec: &Recording,
    plan: &ChannelPlan,
    stimulus_source: StimulusSource,
    polarity_source: PolaritySource,
    has_rails: bool,
) -> Analysis {
    let cfg = ctx.cfg;
    let trains: Vec<TrainOut> = ctx
        .trains
        .iter()
        .enumerate()
        .map(|(i, t)| render_train(i, t, ctx))
        .collect();
    let session = session_figures(ctx, &trains);
    let mut quality = quality::check(ctx, &trains, has_rails);
    quality.extend(quality::read_notes(&rec.notes));
    let classification = classify::classify(ctx, &trains, &session, &quality);
    let (pei, peai) = post_increments(ctx);
    Analysis {
        schema_version: result::SCHEMA_VERSION,
        tool: result::Tool {
            name: "rns-analyzer",
            version: env!("CARGO_PKG_VERSION"),
        },
        source: Source {
            path: rec.path.display().to_string(),
            format: rec.format,
            sample_rate_hz: ctx.rate.hz(),
            channel: plan.channel,
            polarity: ctx.polarity,
            polarity_source,
            channel_label: rec.channels[plan.channel].label.clone(),
            duration_s: round(rec.duration().0, 6),
            stimulus_source,
            mains_hz: ctx.hum.as_ref().map(|h| round(h.freq_hz, 2)),
            mains_rms_uv: ctx.hum.as_ref().map(|h| round(h.rms_mv * 1000.0, 1)),
            stimulus_intensity: intensity_source(rec),
            storage: rec.storage.clone(),
        },
        protocol: result::ProtocolOut {
            muscle: cfg.muscle.clone(),
            nerve: cfg.nerve.clone(),
            temperature_c: cfg.temperature_c,
            medications: cfg.medications.clone(),
        },
        study: cfg.study.clone().or(rec.study.clone()),
        trains,
        post_exercise_increment_pct: round_opt(pei, 2),
        post_exercise_area_increment_pct: round_opt(peai, 2),
        session,
        classification,
        quality,
    }
}

/// Where the stimulus intensities come from: the per-sweep values, else the
/// first decoded intensity channel (as [`Recording::stimulus_intensity`]
/// reads them).
fn intensity_source(rec: &Recording) -> Option<result::IntensitySource> {
    if let (Some(int), Some(_)) = (&rec.intensities, &rec.stimuli) {
        return Some(result::IntensitySource {
            label: int.label.clone(),
            unit: int.unit.clone(),
        });
    }
    rec.channels
        .iter()
        .find(|c| c.kind == ChannelKind::Intensity && c.is_loaded())
        .map(|c| result::IntensitySource {
            label: c.label.clone(),
            unit: c.unit.clone(),
        })
}

/// Render one train with its metrics.
pub(crate) fn render_train(i: usize, t: &MeasuredTrain, ctx: &Context<'_>) -> TrainOut {
    let sign = ctx.polarity.sign();
    let amps = t.amplitudes();
    let areas = t.areas();
    let dt = ctx.rate.dt_ms();
    let first_amp = amps.first().copied();
    let first_area = areas.first().copied();
    let responses: Vec<ResponseOut> = t
        .measurements
        .iter()
        .enumerate()
        .map(|(j, m)| ResponseOut {
            index: j + 1,
            stimulus_s: t
                .positions
                .get(j)
                .and_then(|&k| t.times.get(k).copied().flatten())
                .map(|v| round(v, 6)),
            latency_ms: round(m.latency_ms, 3),
            amplitude_mv: round(m.amplitude_mv, 4),
            peak_to_peak_mv: round(m.peak_to_peak_mv, 4),
            area_mv_ms: round(m.area_mv_ms, 4),
            duration_ms: round(m.duration_ms, 3),
            peak_latency_ms: round(m.peak * dt, 3),
            baseline_mv: round(sign * m.baseline, 4),
            initial_positive_mv: round(m.initial_positive_mv, 4),
            amplitude_rel_pct: round_opt(
                first_amp
                    .and_then(|f| metrics::pct_change(f, m.amplitude_mv))
                    .map(|c| c + 100.0),
                2,
            ),
            area_rel_pct: round_opt(
                first_area
                    .and_then(|f| metrics::pct_change(f, m.area_mv_ms))
                    .map(|c| c + 100.0),
                2,
            ),
            stimulus_intensity: t
                .positions
                .get(j)
                .and_then(|&k| t.intensities.get(k).copied().flatten())
                // The file's own precision: an f32 channel holds ~7 digits.
                .and_then(|v| result::round_significant(v, 7)),
        })
        .collect();
    let low = t.is_low_rate();
    let hfs = t.role == TrainRole::Hfs;
    let crit = &ctx.cfg.criteria;
    let params = ShapeParams {
        flat_pct: crit.decrement.equivocal_pct,
        late_early_ratio: crit.decrement.late_early_ratio,
        reversal_step_pct: crit.quality.reversal_step_pct,
        max_reversals: crit.quality.max_reversals,
    };
    TrainOut {
        index: i + 1,
        role: t.role,
        role_source: t.role_source,
        rate_hz: round_opt(t.rate_hz, 3),
        start_s: round_opt(t.times.first().copied().flatten(), 6),
        delay_after_exercise_s: round_opt(t.delay_s, 3),
        responses,
        decrement_pct: round_opt(low.then(|| metrics::decrement(&amps, 4)).flatten(), 2),
        decrement_5th_pct: round_opt(low.then(|| metrics::decrement(&amps, 5)).flatten(), 2),
        max_decrement_pct: round_opt(low.then(|| metrics::max_decrement(&amps)).flatten(), 2),
        area_decrement_pct: round_opt(low.then(|| metrics::decrement(&areas, 4)).flatten(), 2),
        area_decrement_5th_pct: round_opt(low.then(|| metrics::decrement(&areas, 5)).flatten(), 2),
        increment_pct: round_opt(hfs.then(|| metrics::increment_max(&amps)).flatten(), 2),
        area_increment_pct: round_opt(hfs.then(|| metrics::increment_max(&areas)).flatten(), 2),
        last_increment_pct: round_opt(hfs.then(|| metrics::increment_last(&amps)).flatten(), 2),
        last_area_increment_pct: round_opt(
            hfs.then(|| metrics::increment_last(&areas)).flatten(),
            2,
        ),
        shape: metrics::shape(&amps, &params),
        late_early_ratio: round_opt(low.then(|| metrics::late_early_ratio(&amps)).flatten(), 3),
    }
}

/// Largest onset-latency difference between responses of one nerve and
/// muscle, ms: a real train varies by tenths of a millisecond (see
/// `latency_spread_ms`), so several times more is not one muscle's response.
pub const MAX_LATENCY_DIFFERENCE_MS: f64 = 2.0;

/// Whether post-exercise train `p` can be compared with the reference
/// baseline: it has a measured response whose onset latency lies within
/// [`MAX_LATENCY_DIFFERENCE_MS`] of the baseline's first response's (else it
/// is not the same muscle response: a transient at the end of the
/// contraction taken for a stimulus, a late wave).
pub fn comparable(ctx: &Context<'_>, p: usize) -> bool {
    comparable_with(ctx, p, reference_baseline(&ctx.trains))
}

/// [`comparable`] against the reference baseline train `base`, found once
/// by the caller: a search per train is quadratic when noise makes
/// thousands of trains.
pub fn comparable_with(ctx: &Context<'_>, p: usize, base: Option<usize>) -> bool {
    let Some(first) = ctx.trains[p].measurements.first() else {
        return false;
    };
    base.is_none_or(|b| {
        (first.latency_ms - ctx.trains[b].measurements[0].latency_ms).abs()
            <= MAX_LATENCY_DIFFERENCE_MS
    })
}

/// The post-exercise trains that can be compared with the reference
/// baseline ([`comparable`]), in order: they alone supply the
/// post-exercise increment, repair and exhaustion.
pub fn comparable_post_trains(ctx: &Context<'_>) -> Vec<usize> {
    post_trains(ctx, true)
}

/// The post-exercise trains that are (`comparable`) or are not comparable
/// with the reference baseline, in order.
pub fn post_trains(ctx: &Context<'_>, comparable: bool) -> Vec<usize> {
    let base = reference_baseline(&ctx.trains);
    (0..ctx.trains.len())
        .filter(|&i| {
            ctx.trains[i].role == TrainRole::PostExercise
                && comparable_with(ctx, i, base) == comparable
        })
        .collect()
}

/// The first post-exercise train that can be compared with the baseline.
pub fn first_comparable_post(ctx: &Context<'_>) -> Option<usize> {
    comparable_post_trains(ctx).first().copied()
}

/// The reference baseline train ([`result::reference_baseline`]).
pub fn reference_baseline(trains: &[MeasuredTrain]) -> Option<usize> {
    result::reference_baseline(trains, |t| (t.role, !t.measurements.is_empty()))
}

/// The session's figures: the reference baseline CMAP against the muscle's
/// normal range \[M98\]\[CJ\], the decrements right after and 1–4 min after
/// exercise, repair and exhaustion \[N4\].
fn session_figures(ctx: &Context<'_>, out: &[TrainOut]) -> SessionOut {
    let crit = &ctx.cfg.criteria;
    let base = reference_baseline(&ctx.trains);
    let baseline_cmap =
        base.and_then(|b| ctx.trains[b].measurements.first().map(|m| m.amplitude_mv));
    let range = ctx.cfg.muscle.as_deref().and_then(|m| crit.normal_range(m));
    let base_dec = base.and_then(|b| out[b].decrement());
    let post: Vec<(usize, f64)> = comparable_post_trains(ctx)
        .into_iter()
        .filter_map(|i| ctx.trains[i].delay_s.map(|d| (i, d)))
        .collect();
    let immediate = post
        .iter()
        .find(|(_, d)| *d <= crit.exercise.immediate_max_s)
        .and_then(|(i, _)| out[*i].decrement());
    let late = post
        .iter()
        .filter(|(_, d)| {
            *d >= crit.exercise.exhaustion_min_s && *d <= crit.exercise.exhaustion_max_s
        })
        .filter_map(|(i, _)| out[*i].decrement())
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    let repair = match (base_dec, immediate) {
        (Some(b), Some(i)) => {
            Some(b - i >= crit.exercise.repair_points && b > crit.decrement.equivocal_pct)
        }
        _ => None,
    };
    let exhaustion = match (base_dec, late) {
        (Some(b), Some(l)) => {
            Some(l - b >= crit.exercise.exhaustion_points && l > crit.decrement.equivocal_pct)
        }
        _ => None,
    };
    SessionOut {
        exercise_start_s: round_opt(ctx.exercise.map(|e| e.0), 3),
        exercise_end_s: round_opt(ctx.exercise.map(|e| e.1), 3),
        exercise_source: ctx.exercise.map(|e| e.2),
        baseline_cmap_mv: round_opt(baseline_cmap, 4),
        baseline_cmap_lower_limit_mv: round_opt(range.map(|(_, r)| r.lower_limit_mv()), 3),
        normal_range_muscle: range.map(|(k, _)| k.to_string()),
        baseline_decrement_pct: round_opt(base_dec, 2),
        immediate_post_exercise_decrement_pct: round_opt(immediate, 2),
        late_post_exercise_decrement_pct: round_opt(late, 2),
        repair,
        exhaustion,
    }
}

/// Amplitude and area increment of the first post-exercise response vs the reference baseline.
pub fn post_increments(ctx: &Context<'_>) -> (Option<f64>, Option<f64>) {
    let Some(b) = reference_baseline(&ctx.trains) else {
        return (None, None);
    };
    let Some(p) = first_comparable_post(ctx).map(|p| &ctx.trains[p]) else {
        return (None, None);
    };
    let (bm, pm) = (&ctx.trains[b].measurements[0], &p.measurements[0]);
    // Rounded as in the output, so messages and fields show the same figure.
    (
        round_opt(metrics::pct_change(bm.amplitude_mv, pm.amplitude_mv), 2),
        round_opt(metrics::pct_change(bm.area_mv_ms, pm.area_mv_ms), 2),
    )
}
