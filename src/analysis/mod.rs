//! The analysis core: a [`Recording`] and an [`AnalysisConfig`] in, an
//! [`Analysis`] out.
//!
//! Pipeline:
//! 1. **Stimuli** from, in order of preference, the trigger channel (given, or a
//!    CSV column named like a trigger), stimulus times the file knows (sweeps,
//!    annotations), or the artifacts' steep slopes ([`stimulus`]).
//! 2. **Mains hum** found and modelled outside response windows ([`dsp`]).
//! 3. **Polarity**: which way the CMAP's main phase points, by an
//!    amplitude-weighted vote over the responses (or as the user says).
//! 4. **Responses** measured one by one in windows that end before the next
//!    stimulus ([`response`]).
//! 5. **Trains** grouped by interval, **roles** given by the protocol, the rate
//!    (≥ 10 Hz is `hfs`), voluntary activity between trains (exercise), or
//!    order and gaps ([`trains`]).
//! 6. **Metrics** per train and for the session ([`metrics`]), **quality**
//!    flags ([`quality`]), and the **classification** ([`classify`]).
//!
//! The passes over the signal (noise and extremes, the stimulus search, the
//! mains spectrum and fit, the activity map, the responses) are split across
//! the current rayon pool: rayon's global pool, or the one an
//! [`install`](crate::parallel::install) runs them in. Every split is joined
//! back in order, so the analysis gives the same bytes on any number of
//! threads.

pub mod annotations;
pub mod classify;
pub mod dsp;
pub mod metrics;
pub mod quality;
pub mod response;
pub mod result;
pub mod stimulus;
pub mod traces;
pub mod trains;

use crate::error::{Error, Result};
use crate::recording::{ChannelKind, Recording, StimulusOrigin};
use crate::settings::config::AnalysisConfig;
use crate::units::{Ms, SampleRate, Seconds};
pub use crate::vocab::StimulusSource;
use crate::vocab::{
    ExerciseSource, Polarity, PolarityChoice, PolaritySource, RoleSource, TrainRole,
};
use dsp::{HumModel, Mask};
use metrics::ShapeParams;
use rayon::prelude::*;
use response::Measurement;
pub use result::Analysis;
use result::{round, round_opt, ResponseOut, SessionOut, Source, TrainOut};
pub use traces::{ResponseTrace, TrainTraces};

/// A train with its measured responses, before rendering.
#[derive(Debug, Clone)]
pub struct MeasuredTrain {
    /// Stimulus sample indices.
    pub stimuli: Vec<usize>,
    /// Stimulus times, s (None when sweep timing is unknown).
    pub times: Vec<Option<f64>>,
    /// Stimulation rate, Hz.
    pub rate_hz: Option<f64>,
    /// Role.
    pub role: TrainRole,
    /// How the role was decided.
    pub role_source: RoleSource,
    /// Seconds from the end of exercise, when known.
    pub delay_s: Option<f64>,
    /// Measurements (one per measurable response).
    pub measurements: Vec<Measurement>,
    /// Whether each response touched a clipping rail.
    pub clipped: Vec<bool>,
    /// Responses that could not be measured (window too short).
    pub unmeasured: usize,
}

impl MeasuredTrain {
    /// Amplitudes, mV.
    pub fn amplitudes(&self) -> Vec<f64> {
        self.measurements.iter().map(|m| m.amplitude_mv).collect()
    }
    /// Areas, mV·ms.
    pub fn areas(&self) -> Vec<f64> {
        self.measurements.iter().map(|m| m.area_mv_ms).collect()
    }
    /// Whether the train is a low-rate (decrement) train.
    pub fn is_low_rate(&self) -> bool {
        self.role != TrainRole::Hfs
    }
}

/// Everything the later stages (quality, classification, rendering) need.
pub struct Context<'a> {
    /// Configuration.
    pub cfg: &'a AnalysisConfig,
    /// Sample rate.
    pub rate: SampleRate,
    /// Trains.
    pub trains: Vec<MeasuredTrain>,
    /// Exercise period (start, end), s, and its source.
    pub exercise: Option<(f64, f64, ExerciseSource)>,
    /// Hum model, when hum was found.
    pub hum: Option<HumModel>,
    /// Whether roles came from order and gaps alone.
    pub roles_guessed: bool,
    /// Sweeps without a known rate.
    pub rate_unknown: bool,
    /// Number of protocol train entries that did not match a found train.
    pub protocol_mismatch: Option<(usize, usize)>,
}

/// Which channels the analysis uses and where its stimuli will come from,
/// decided from the recording's metadata alone (`rns inspect` reports it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelPlan {
    /// Index of the EMG channel.
    pub channel: usize,
    /// Index of the trigger channel, when stimuli come from one.
    pub trigger_channel: Option<usize>,
    /// Where the stimuli will come from.
    pub stimulus_source: StimulusSource,
}

/// Resolve the EMG and trigger channels of `cfg` against `rec` and decide the
/// stimulus source: a trigger channel (named, or the first decoded channel of
/// kind trigger), else stimulus times the file knows (sweeps, annotations),
/// else the artifacts.
///
/// Errors (all exit 2): a channel that does not exist or an ambiguous label,
/// an EMG channel that is a trigger, the same channel for both, or a channel
/// that was not decoded (for EDF: sampled at another rate than the EMG).
pub fn plan_channels(rec: &Recording, cfg: &AnalysisConfig) -> Result<ChannelPlan> {
    let path = &rec.path;
    let labels: Vec<&str> = rec.channels.iter().map(|c| c.label.as_str()).collect();
    let channel = match &cfg.channel {
        Some(sel) => sel.resolve(path, &labels)?,
        None => rec.default_emg_channel(),
    };
    let not_decoded = |what: &str, i: usize| {
        let c = &rec.channels[i];
        let why = match c.sample_rate_hz {
            Some(hz) => format!(
                "it is sampled at {hz} Hz, not at the recording's {} Hz",
                rec.sample_rate.hz()
            ),
            None => "it was not decoded".to_string(),
        };
        Error::Usage(format!(
            "{}: {what} {i} ({:?}) cannot be used: {why}",
            path.display(),
            c.label
        ))
    };
    let ch = rec
        .channels
        .get(channel)
        .ok_or_else(|| Error::NoSuchChannel {
            path: path.clone(),
            channel: channel.to_string(),
            available: rec.channels.len(),
        })?;
    if ch.kind != ChannelKind::Signal {
        return Err(Error::Usage(format!(
            "{}: channel {} ({}) is a trigger channel, not an EMG signal",
            path.display(),
            channel,
            ch.label
        )));
    }
    if !ch.is_loaded() {
        return Err(not_decoded("channel", channel));
    }
    let trigger_channel = match &cfg.trigger_channel {
        Some(sel) => {
            let t = sel.resolve(path, &labels)?;
            if t == channel {
                return Err(Error::Usage(format!(
                    "{}: the trigger channel ({sel}) cannot be the EMG channel",
                    path.display()
                )));
            }
            if !rec.channels[t].is_loaded() {
                return Err(not_decoded("trigger channel", t));
            }
            Some(t)
        }
        None => rec
            .channels
            .iter()
            .position(|c| c.kind == ChannelKind::Trigger && c.is_loaded() && c.len > 0),
    };
    let stimulus_source = match (&trigger_channel, &rec.stimuli) {
        (Some(_), _) => StimulusSource::TriggerChannel,
        (None, Some(k)) => match k.origin {
            StimulusOrigin::Sweeps => StimulusSource::Sweeps,
            StimulusOrigin::Annotations => StimulusSource::Annotations,
        },
        (None, None) => StimulusSource::ArtifactSlope,
    };
    Ok(ChannelPlan {
        channel,
        trigger_channel,
        stimulus_source,
    })
}

/// Analyse a recording.
pub fn analyze(rec: &Recording, cfg: &AnalysisConfig) -> Result<Analysis> {
    analyze_impl(rec, cfg, false).map(|(a, _)| a)
}

/// Analyse a recording and keep each measured response's waveform (for the
/// report's plots).
pub fn analyze_with_traces(
    rec: &Recording,
    cfg: &AnalysisConfig,
) -> Result<(Analysis, Vec<TrainTraces>)> {
    analyze_impl(rec, cfg, true)
}

fn analyze_impl(
    rec: &Recording,
    cfg: &AnalysisConfig,
    collect: bool,
) -> Result<(Analysis, Vec<TrainTraces>)> {
    let path = &rec.path;
    let nothing = |reason: &str| Error::NothingToAnalyse {
        path: path.clone(),
        reason: reason.to_string(),
    };
    let plan = plan_channels(rec, cfg)?;
    let ch = &rec.channels[plan.channel];
    let x: &[f32] = &ch.samples;
    let rate = rec.sample_rate;
    if x.len() < rate.samples_in(Ms(20.0)) {
        return Err(nothing("the recording is shorter than 20 ms"));
    }
    let segments: Vec<(usize, usize)> = rec.segments.iter().map(|s| (s.start, s.end())).collect();

    // 1. Stimuli.
    let trigger = plan.trigger_channel.map(|t| &rec.channels[t]);
    let noise = dsp::noise_and_piece_extremes(x, stimulus::NOISE_POINTS);
    let (noise_slope_sd, lo, hi) = (noise.noise_sd, noise.lo, noise.hi);
    let mut fracs: Vec<f64> = Vec::new();
    let (stims, source): (Vec<usize>, StimulusSource) = if let Some(tc) = trigger {
        (
            stimulus::detect_from_trigger(&tc.samples, rate),
            StimulusSource::TriggerChannel,
        )
    } else if let Some(k) = &rec.stimuli {
        let src = match k.origin {
            StimulusOrigin::Sweeps => StimulusSource::Sweeps,
            StimulusOrigin::Annotations => StimulusSource::Annotations,
        };
        (
            k.samples.iter().copied().filter(|&s| s < x.len()).collect(),
            src,
        )
    } else {
        let peak_abs = dsp::peak_abs(lo, hi);
        let det = stimulus::detect_with_noise(x, rate, &segments, noise_slope_sd, peak_abs);
        fracs = det.stimuli.iter().map(|s| s.frac).collect();
        (
            det.stimuli.iter().map(|s| s.sample).collect(),
            StimulusSource::ArtifactSlope,
        )
    };
    if stims.is_empty() {
        return Err(nothing(match source {
            StimulusSource::TriggerChannel => "the trigger channel has no rising edge",
            _ => "no stimulus artifact found (no steep, isolated slopes in the signal)",
        }));
    }
    fracs.resize(stims.len(), 0.0);
    let timing_known = rec.stimuli.as_ref().is_none_or(|k| k.timing_known) || trigger.is_some();

    // 2. Hum, fitted outside response windows.
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
    // samples) and, when neither the protocol nor annotations can give the
    // exercise, the activity map that finds it from voluntary EMG.
    let want_map = timing_known
        && cfg.exercise.as_ref().is_none_or(|e| e.end_s.is_none())
        && rec.annotations.is_empty();
    let (hum, (rails, map)) = rayon::join(
        || dsp::fit_hum(x, rate, &segments, &mask),
        || {
            rayon::join(
                || find_rails(x, lo, hi, &noise.pieces),
                || want_map.then(|| trains::ActivityMap::new(x, rate, noise_slope_sd)),
            )
        },
    );

    // 3–4. Windows, polarity, measurement.
    let windows: Vec<(usize, usize, usize)> = stims
        .iter()
        .enumerate()
        .map(|(k, &s)| window_of(s, stims.get(k + 1).copied(), &segments, rate, cfg))
        .collect();
    let steep_floor = 20.0 * noise_slope_sd.max(1e-12);
    let (polarity, polarity_source) = match cfg.polarity {
        PolarityChoice::Negative => (Polarity::Negative, PolaritySource::User),
        PolarityChoice::Positive => (Polarity::Positive, PolaritySource::User),
        PolarityChoice::Auto => (
            vote_polarity(
                x,
                &stims,
                &windows,
                rate,
                cfg,
                hum.as_ref(),
                rails,
                steep_floor,
            ),
            PolaritySource::Auto,
        ),
    };
    let sign = polarity.sign();
    let oriented_rails = rails.map(|(lo, hi)| if sign > 0.0 { (lo, hi) } else { (-hi, -lo) });
    // Each window is measured on its own (in parallel, collected in order).
    type Measured = (Option<(Measurement, bool)>, Option<ResponseTrace>);
    let (measured, window_traces): (Vec<_>, Vec<_>) = stims
        .par_iter()
        .enumerate()
        .map_init(Vec::new, |buf, (k, &s)| -> Measured {
            let (a, b, _) = windows[k];
            fill_window(x, a, b, sign, hum.as_ref(), buf);
            let wctx = response::WindowContext {
                rails: oriented_rails,
                steep_floor,
                pre_quiet: pre_quiet(&stims, k, rate, cfg),
            };
            let m = response::measure(buf, s - a, rate, &cfg.measure, wctx).map(|mut m| {
                // Times are relative to the sub-sample stimulus time.
                let f = fracs[k];
                m.onset -= f;
                m.peak -= f;
                m.phase_end -= f;
                m.latency_ms -= f * rate.dt_ms();
                let clipped = oriented_rails.is_some_and(|(lo, hi)| {
                    let from = (s - a + m.blank_end).min(buf.len());
                    let to = ((s - a) as f64 + f + m.phase_end).ceil().max(0.0) as usize;
                    buf[from..to.min(buf.len()).max(from)]
                        .iter()
                        .any(|&v| v <= lo + 1e-9 * lo.abs() || v >= hi - 1e-9 * hi.abs())
                });
                (m, clipped)
            });
            let trace = if collect {
                m.as_ref()
                    .map(|(m, _)| ResponseTrace::new(buf, s - a, fracs[k], rate.dt_ms(), m))
            } else {
                None
            };
            (m, trace)
        })
        .unzip();

    // 5. Trains.
    let times: Vec<f64> = stims
        .iter()
        .zip(&fracs)
        .map(|(&s, &f)| rec.time_of(s as f64 + f))
        .collect();
    let groups = group_stimuli(&times, timing_known, cfg, stims.len());
    // Traces follow the measured responses of each train, as `TrainOut::responses` does.
    let train_traces: Vec<TrainTraces> = if collect {
        groups
            .iter()
            .enumerate()
            .map(|(gi, g)| TrainTraces {
                index: gi + 1,
                responses: window_traces[g.clone()].iter().flatten().cloned().collect(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut ctx_trains: Vec<MeasuredTrain> = Vec::new();
    for (gi, g) in groups.iter().enumerate() {
        let spec = cfg.trains.get(gi);
        let rate_hz = if timing_known {
            trains::rate_of(&times[g.clone()])
        } else {
            spec.and_then(|t| t.rate_hz).or(cfg.sweep_rate.map(|h| h.0))
        };
        let tt: Vec<Option<f64>> = if timing_known {
            times[g.clone()].iter().map(|&t| Some(t)).collect()
        } else {
            // Sweeps: times only when the rate is known; trains back to back.
            (0..g.len())
                .map(|j| rate_hz.map(|r| (g.start + j) as f64 / r))
                .collect()
        };
        let mut ms = Vec::new();
        let mut clipped = Vec::new();
        let mut unmeasured = 0;
        for m in &measured[g.clone()] {
            match m {
                Some((m, c)) => {
                    ms.push(m.clone());
                    clipped.push(*c);
                }
                None => unmeasured += 1,
            }
        }
        ctx_trains.push(MeasuredTrain {
            stimuli: stims[g.clone()].to_vec(),
            times: tt,
            rate_hz,
            role: TrainRole::Baseline,
            role_source: RoleSource::OrderAndGaps,
            delay_s: None,
            measurements: ms,
            clipped,
            unmeasured,
        });
    }
    let mut ctx = Context {
        cfg,
        rate,
        trains: ctx_trains,
        exercise: None,
        hum,
        roles_guessed: false,
        rate_unknown: !timing_known
            && cfg.sweep_rate.is_none()
            && cfg.trains.iter().all(|t| t.rate_hz.is_none()),
        protocol_mismatch: None,
    };
    assign_roles(
        &mut ctx,
        x,
        noise_slope_sd,
        map,
        &windows,
        &stims,
        rec,
        timing_known,
    );

    // 6. Metrics, quality, classification.
    let trains_out: Vec<TrainOut> = ctx
        .trains
        .iter()
        .enumerate()
        .map(|(i, t)| render_train(i, t, rec, sign, &ctx))
        .collect();
    let session = session_figures(&ctx, &trains_out);
    let mut quality = quality::check(&ctx, &trains_out, &session, rails.is_some());
    quality.extend(quality::read_notes(&rec.notes));
    let classification = classify::classify(&ctx, &trains_out, &session, &quality);
    let (pei, peai) = quality::post_increments(&ctx);

    let analysis = Analysis {
        schema_version: result::SCHEMA_VERSION,
        tool: result::Tool {
            name: "rns-analyzer",
            version: env!("CARGO_PKG_VERSION"),
        },
        source: Source {
            path: path.display().to_string(),
            format: rec.format,
            sample_rate_hz: rate.hz(),
            channel: plan.channel,
            polarity,
            polarity_source,
            channel_label: ch.label.clone(),
            duration_s: round(rec.duration().0, 6),
            stimulus_source: source,
            mains_hz: ctx.hum.as_ref().map(|h| round(h.freq_hz, 2)),
            mains_rms_uv: ctx.hum.as_ref().map(|h| round(h.rms_mv * 1000.0, 1)),
        },
        protocol: result::ProtocolOut {
            muscle: cfg.muscle.clone(),
            nerve: cfg.nerve.clone(),
            temperature_c: cfg.temperature_c,
            medications: cfg.medications.clone(),
        },
        trains: trains_out,
        post_exercise_increment_pct: round_opt(pei, 2),
        post_exercise_area_increment_pct: round_opt(peai, 2),
        session,
        classification,
        quality,
    };
    Ok((analysis, train_traces))
}

/// The segment `[a, b)` of `segments` (ascending and disjoint) that holds
/// sample `s`, found by bisection: an EDF+D may have a segment per data
/// record, and a scan per stimulus would be quadratic.
pub(crate) fn segment_holding(segments: &[(usize, usize)], s: usize) -> Option<(usize, usize)> {
    segments
        .get(segments.partition_point(|&(_, b)| b <= s))
        .copied()
        .filter(|&(a, _)| a <= s)
}

/// The window `[a, b)` around stimulus `s`, and the end of the pre-stimulus part.
fn window_of(
    s: usize,
    next: Option<usize>,
    segments: &[(usize, usize)],
    rate: SampleRate,
    cfg: &AnalysisConfig,
) -> (usize, usize, usize) {
    let (sa, sb) = segment_holding(segments, s).unwrap_or((0, s + 1));
    let a = s
        .saturating_sub(rate.samples_in(cfg.measure.pre_stimulus) + 2)
        .max(sa);
    let mut b = (s + rate.samples_in(cfg.measure.max_window)).min(sb);
    if let Some(nx) = next {
        // Primer §2: the window must end before the next stimulus [N5][N7][FC2].
        b = b.min(nx.saturating_sub(rate.samples_in(cfg.measure.guard_before_next)));
    }
    (a, b.max(s + 1), s)
}

/// Whether the pre-stimulus span of stimulus `k` is free of the previous response.
fn pre_quiet(stims: &[usize], k: usize, rate: SampleRate, cfg: &AnalysisConfig) -> bool {
    k == 0
        || stims[k] - stims[k - 1]
            >= rate.samples_in(cfg.measure.max_window) + rate.samples_in(cfg.measure.pre_stimulus)
}

/// Copy `x[a..b]` oriented and with hum removed into `buf`.
fn fill_window(
    x: &[f32],
    a: usize,
    b: usize,
    sign: f64,
    hum: Option<&HumModel>,
    buf: &mut Vec<f64>,
) {
    buf.clear();
    match hum {
        Some(h) => {
            h.values_into(a, b, buf);
            for (o, &v) in buf.iter_mut().zip(&x[a..b]) {
                *o = sign * (v as f64 - *o);
            }
        }
        None => buf.extend(x[a..b].iter().map(|&v| sign * (v as f64 - 0.0))),
    }
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

/// Amplitude-weighted vote on which way the main phase points: `negative`
/// (standard) or `positive` (an inverted file).
#[allow(clippy::too_many_arguments)]
fn vote_polarity(
    x: &[f32],
    stims: &[usize],
    windows: &[(usize, usize, usize)],
    rate: SampleRate,
    cfg: &AnalysisConfig,
    hum: Option<&HumModel>,
    rails: Option<(f64, f64)>,
    steep_floor: f64,
) -> Polarity {
    let w = rate.samples_in(Ms(0.3)).max(1);
    // Each window's vote is its own (on all threads); they add up in order.
    let n = stims.len().min(60);
    let votes: Vec<f64> = (0..n)
        .into_par_iter()
        .map_init(Vec::new, |buf, k| -> f64 {
            let s = stims[k];
            let (a, b, _) = windows[k];
            fill_window(x, a, b, 1.0, hum, buf);
            let wctx = response::WindowContext {
                rails,
                steep_floor,
                pre_quiet: pre_quiet(stims, k, rate, cfg),
            };
            let Some(m) = response::measure(buf, s - a, rate, &cfg.measure, wctx) else {
                return 0.0;
            };
            let from = s - a + m.blank_end;
            if from + 2 >= buf.len() {
                return 0.0;
            }
            let ys_all = dsp::moving_average(&buf[from..], w);
            // Skip a decaying artifact tail: while the signal keeps moving the same
            // way from the window start towards the baseline, it is not the CMAP.
            let mut skip = 0;
            if ys_all.len() > 2 {
                let dir = (ys_all[1] - ys_all[0]).signum();
                let towards_base = (m.pre_baseline - ys_all[0]).signum() == dir;
                if towards_base {
                    while skip + 1 < ys_all.len()
                        && (ys_all[skip + 1] - ys_all[skip]).signum() == dir
                    {
                        skip += 1;
                    }
                }
            }
            let ys = &ys_all[skip..];
            let (ip, p) = ys
                .iter()
                .enumerate()
                .fold(
                    (0, f64::NEG_INFINITY),
                    |acc, (i, &v)| if v > acc.1 { (i, v) } else { acc },
                );
            let (in_, nv) = ys
                .iter()
                .enumerate()
                .fold(
                    (0, f64::INFINITY),
                    |acc, (i, &v)| if v < acc.1 { (i, v) } else { acc },
                );
            let p = p - m.pre_baseline;
            let nmag = m.pre_baseline - nv;
            // The main phase comes first when both phases are substantial.
            let neg_main = if nmag >= 0.4 * p && p >= 0.4 * nmag {
                in_ < ip
            } else {
                nmag > p
            };
            if neg_main {
                -nmag.max(0.0)
            } else {
                p.max(0.0)
            }
        })
        .collect();
    let vote: f64 = votes.iter().sum();
    if vote > 0.0 {
        Polarity::Positive
    } else {
        Polarity::Negative
    }
}

/// Group stimuli into trains: by interval when timing is known, else by the
/// protocol's per-train response counts (sweeps), else one train.
fn group_stimuli(
    times: &[f64],
    timing_known: bool,
    cfg: &AnalysisConfig,
    n: usize,
) -> Vec<std::ops::Range<usize>> {
    if timing_known {
        return trains::group_by_interval(times);
    }
    let counts: Vec<usize> = cfg.trains.iter().filter_map(|t| t.responses).collect();
    if counts.is_empty() || counts.len() != cfg.trains.len() {
        return std::iter::once(0..n).collect();
    }
    let mut out = Vec::new();
    let mut start = 0;
    for c in counts {
        if start >= n {
            break;
        }
        // A sidecar may state any count (hand-edited files): saturate, never wrap.
        let end = start.saturating_add(c).min(n);
        out.push(start..end);
        start = end;
    }
    if start < n {
        out.push(start..n);
    }
    out
}

/// Decide each train's role and delay after exercise.
#[allow(clippy::too_many_arguments)]
fn assign_roles(
    ctx: &mut Context<'_>,
    x: &[f32],
    noise_slope_sd: f64,
    map: Option<trains::ActivityMap>,
    windows: &[(usize, usize, usize)],
    stims: &[usize],
    rec: &Recording,
    timing_known: bool,
) {
    let cfg = ctx.cfg;
    let hfs_min = cfg.criteria.hfs_min_rate_hz;
    // Protocol first.
    if !cfg.trains.is_empty() {
        if cfg.trains.len() != ctx.trains.len() {
            ctx.protocol_mismatch = Some((cfg.trains.len(), ctx.trains.len()));
        }
        for (t, spec) in ctx.trains.iter_mut().zip(&cfg.trains) {
            if let Some(r) = spec.role {
                t.role = r;
                t.role_source = RoleSource::Protocol;
            }
            t.delay_s = spec.delay_after_exercise_s;
        }
    }
    // Rate.
    for t in ctx.trains.iter_mut() {
        if t.role_source != RoleSource::Protocol && t.rate_hz.is_some_and(|r| r >= hfs_min) {
            t.role = TrainRole::Hfs;
            t.role_source = RoleSource::Rate;
        }
    }
    // Annotations (EDF+): below the protocol, above the rate for `hfs` marks
    // (baseline and post-exercise marks leave a high-rate train `hfs`).
    let marks = if timing_known {
        let starts: Vec<f64> = ctx.trains.iter().filter_map(|t| t.times[0]).collect();
        annotations::RoleMarks::from_annotations(&rec.annotations, &starts)
    } else {
        annotations::RoleMarks::default()
    };
    let protocol_exercise = cfg.exercise.as_ref().is_some_and(|e| e.end_s.is_some());
    if !marks.is_empty() {
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
    }
    // Exercise: from the protocol, else the annotations, else voluntary
    // activity between trains.
    let mut exercise: Option<(f64, f64, ExerciseSource)> = cfg
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
        });
    if exercise.is_none() && timing_known {
        let map = map.unwrap_or_else(|| trains::ActivityMap::new(x, ctx.rate, noise_slope_sd));
        let excluded: Vec<(usize, usize)> = windows.iter().map(|&(a, b, _)| (a, b)).collect();
        // Search every gap, including the one before the first train; keep the last found
        // before each train (trains after it are post-exercise).
        let mut prev_end = 0usize;
        let mut found: Vec<(usize, trains::Activity)> = Vec::new();
        for (i, t) in ctx.trains.iter().enumerate() {
            let first = t.stimuli[0];
            let to = first.saturating_sub(ctx.rate.samples_in(Ms(10.0)));
            if to > prev_end {
                if let Some(act) =
                    map.longest_activity(prev_end, to, &excluded, ctx.rate, Seconds(2.0))
                {
                    found.push((i, act));
                }
            }
            let last = *t.stimuli.last().unwrap_or(&first);
            prev_end = windows
                .get(stims.partition_point(|&s| s < last))
                .map_or(last, |w| w.1);
        }
        if let Some(&(i, act)) = found.last() {
            let _ = i;
            exercise = Some((
                rec.time_of(act.start as f64),
                rec.time_of(act.end as f64),
                ExerciseSource::VoluntaryActivity,
            ));
            // Each train takes its delay from the latest exercise before it.
            for t in ctx.trains.iter_mut() {
                let start = t.times[0].unwrap_or(0.0);
                let latest = found
                    .iter()
                    .filter(|(_, a)| a.end <= t.stimuli[0])
                    .map(|(_, a)| rec.time_of(a.end as f64))
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
        }
    } else if let Some((_, end, src)) = exercise {
        for t in ctx.trains.iter_mut() {
            let Some(start) = t.times[0] else { continue };
            // A protocol exercise decides over annotation roles; an annotated
            // one only places the trains no annotation placed.
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
    ctx.exercise = exercise;
    // Order and gaps: the first low-rate train is the baseline; a later one
    // after a pause of ≥ 8 s (room for a 10 s contraction) is post-exercise.
    if exercise.is_none() {
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
                } else if !seen_baseline {
                    t.role = TrainRole::Baseline;
                } else {
                    // Another rest train soon after: a repeat baseline.
                    t.role = TrainRole::Baseline;
                }
            }
            if t.role == TrainRole::Baseline {
                seen_baseline = true;
            }
            prev_end = end.or(prev_end);
        }
    }
}

/// Render one train with its metrics.
fn render_train(
    i: usize,
    t: &MeasuredTrain,
    rec: &Recording,
    sign: f64,
    ctx: &Context<'_>,
) -> TrainOut {
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
            stimulus_s: t.times.get(j).copied().flatten().map(|v| round(v, 6)),
            latency_ms: round(m.latency_ms, 3),
            amplitude_mv: round(m.amplitude_mv, 4),
            peak_to_peak_mv: round(m.peak_to_peak_mv, 4),
            area_mv_ms: round(m.area_mv_ms, 4),
            duration_ms: round(m.duration_ms, 3),
            peak_latency_ms: round(m.peak * dt, 3),
            baseline_mv: round(sign * m.baseline, 4),
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
        })
        .collect();
    let _ = rec;
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

/// The reference baseline train ([`result::reference_baseline`]).
pub fn reference_baseline(trains: &[MeasuredTrain]) -> Option<usize> {
    result::reference_baseline(trains, |t| (t.role, !t.measurements.is_empty()))
}

fn session_figures(ctx: &Context<'_>, out: &[TrainOut]) -> SessionOut {
    let crit = &ctx.cfg.criteria;
    let base = reference_baseline(&ctx.trains);
    let baseline_cmap =
        base.and_then(|b| ctx.trains[b].measurements.first().map(|m| m.amplitude_mv));
    let range = ctx.cfg.muscle.as_deref().and_then(|m| crit.normal_range(m));
    let base_dec = base.and_then(|b| out[b].decrement());
    let post: Vec<(usize, f64)> = ctx
        .trains
        .iter()
        .enumerate()
        .filter(|(_, t)| t.role == TrainRole::PostExercise)
        .filter_map(|(i, t)| t.delay_s.map(|d| (i, d)))
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

#[cfg(test)]
mod tests {
    use super::*;

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
