//! The analysis core: a [`Recording`] and an [`AnalysisConfig`] in, an
//! [`Analysis`] out.
//!
//! The pipeline ([`analyze`]), one module per stage:
//! 0. **Channels**: which is the EMG, which the trigger, where the stimuli
//!    come from ([`channels`]).
//! 1. **Stimuli** from, in order of preference, the trigger channel (given, or a
//!    CSV column named like a trigger), stimulus times the file knows (sweeps,
//!    annotations), or the artifacts' steep slopes ([`stimulus`]).
//! 2. **Signal facts**: mains hum found and modelled outside response
//!    windows ([`hum`]), clipping rails, voluntary activity ([`facts`]).
//! 3. **Polarity**: which way the CMAP's main phase points, by an
//!    amplitude-weighted vote over the responses (or as the user says), and
//! 4. **Responses** measured one by one in windows that end before the next
//!    stimulus ([`measure`], [`response`]).
//! 5. **Trains** grouped by interval ([`trains`]), **roles** given by the
//!    protocol, the rate (≥ 10 Hz is `hfs`), annotations, the exercise, or
//!    order and gaps ([`roles`]).
//! 6. **Figures** per train and for the session ([`metrics`], [`session`]),
//!    **quality** flags ([`quality`]), and the **classification**
//!    ([`classify`]), rendered as the [`Analysis`] contract ([`result`]).
//!
//! The stages after measurement share a [`context::Context`]. Reusable
//! memory (per-thread caches, a buffer pool) is in [`scratch`] alone.
//!
//! The passes over the signal (noise and extremes, the stimulus search, the
//! mains spectrum and fit, the activity map, the responses) are split across
//! the current rayon pool: rayon's global pool, or the one an
//! [`install`](crate::parallel::install) runs them in. Every split is joined
//! back in order, so the analysis gives the same bytes on any number of
//! threads.

pub mod annotations;
pub mod channels;
pub mod classify;
pub mod context;
pub mod dsp;
pub mod facts;
pub mod hum;
pub mod measure;
pub mod metrics;
pub mod quality;
pub mod response;
pub mod result;
pub mod roles;
pub mod scratch;
pub mod session;
pub mod stimulus;
pub mod traces;
pub mod trains;

use crate::error::{Error, Result};
use crate::recording::Recording;
use crate::settings::config::AnalysisConfig;
use crate::units::Ms;
pub use channels::{plan_channels, ChannelPlan};
use context::Context;
use measure::Measurer;
pub use result::Analysis;
use roles::RoleInputs;
pub use traces::{ResponseTrace, TrainTraces};

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

/// The pipeline; with `collect`, the response traces too.
fn analyze_impl(
    rec: &Recording,
    cfg: &AnalysisConfig,
    collect: bool,
) -> Result<(Analysis, Vec<TrainTraces>)> {
    // 0. Channels (a recording read only to be described is refused here).
    rec.check_analysable()?;
    let plan = plan_channels(rec, cfg)?;
    let x: &[f32] = &rec.channels[plan.channel].samples;
    let rate = rec.sample_rate;
    if x.len() < rate.samples_in(Ms(20.0)) {
        return Err(Error::NothingToAnalyse {
            path: rec.path.clone(),
            reason: "the recording is shorter than 20 ms".into(),
        });
    }
    let segments: Vec<(usize, usize)> = rec.segments.iter().map(|s| (s.start, s.end())).collect();

    // 1. Stimuli, after one pass for the noise and the extremes.
    let noise = dsp::noise_and_piece_extremes(x, stimulus::NOISE_POINTS);
    let stims = stimulus::find(rec, &plan, x, &segments, &noise)?;

    // 2. Hum, rails and, when nothing else can give the exercise, the
    // activity map that finds it from voluntary EMG.
    let want_map = stims.timing_known
        && cfg.exercise.as_ref().is_none_or(|e| e.end_s.is_none())
        && rec.annotations.is_empty();
    let facts = facts::gather(x, rate, &segments, &stims.samples, &noise, want_map);

    // 3–4. Windows, polarity, measurement.
    let measurer = Measurer::new(
        x,
        &stims.samples,
        &stims.fracs,
        &segments,
        rate,
        cfg,
        facts.hum.as_ref(),
        facts.rails,
        noise.noise_sd,
    );
    let (polarity, polarity_source) = measurer.polarity();
    let (measured, window_traces): (Vec<_>, Vec<_>) =
        measurer.measure_all(polarity, collect).into_iter().unzip();
    let windows = measurer.into_windows();

    // 5. Trains and their roles.
    let times: Vec<f64> = stims
        .samples
        .iter()
        .zip(&stims.fracs)
        .map(|(&s, &f)| rec.time_of(s as f64 + f))
        .collect();
    let groups = trains::group_stimuli(&times, stims.timing_known, cfg, stims.samples.len());
    let train_traces = if collect {
        trains::traces(&groups, &window_traces)
    } else {
        Vec::new()
    };
    let mut ctx = Context {
        cfg,
        rate,
        polarity,
        trains: trains::build(
            &groups,
            &stims.samples,
            &times,
            &measured,
            stims.timing_known,
            cfg,
            &|s| rec.stimulus_intensity(s).map(|(v, _)| v),
        ),
        exercise: None,
        hum: facts.hum,
        roles_guessed: false,
        rate_unknown: !stims.timing_known
            && cfg.sweep_rate.is_none()
            && cfg.trains.iter().all(|t| t.rate_hz.is_none()),
        protocol_mismatch: None,
    };
    roles::assign(
        &mut ctx,
        RoleInputs {
            x,
            noise_slope_sd: noise.noise_sd,
            map: facts.map,
            windows: &windows,
            stims: &stims.samples,
            rec,
            timing_known: stims.timing_known,
        },
    );

    // 6. Figures, quality, classification.
    let analysis = session::render(
        &ctx,
        rec,
        &plan,
        stims.source,
        polarity_source,
        facts.rails.is_some(),
    );
    Ok((analysis, train_traces))
}
