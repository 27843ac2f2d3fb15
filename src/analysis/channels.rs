//! Pipeline step 0: which channel is the EMG, which (if any) the trigger,
//! and where the stimuli will come from, decided from the recording's
//! metadata alone (`rns inspect` reports it too).

use crate::error::{excerpt_str, Error, Result};
use crate::recording::{ChannelKind, ChannelSel, Recording, StimulusOrigin};
use crate::settings::config::AnalysisConfig;
use crate::vocab::StimulusSource;

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
            "{}: {what} {i} ({}) cannot be used: {why}",
            path.display(),
            excerpt_str(&c.label)
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
    let what = match ch.kind {
        ChannelKind::Signal => None,
        ChannelKind::Trigger => Some("a trigger channel"),
        ChannelKind::Intensity => Some("the stimulus-intensity column"),
    };
    if let Some(what) = what {
        return Err(Error::Usage(format!(
            "{}: channel {} ({}) is {what}, not an EMG signal",
            path.display(),
            channel,
            ch.label
        )));
    }
    if !ch.is_loaded() {
        return Err(not_decoded("channel", channel));
    }
    // A named trigger that is no channel of the recording, when the file's
    // own event times are the stimuli: the reader took it as its event
    // channel (a Spike2 event channel is not sampled, so it is no channel;
    // the reader refused a name that matched none).
    let event_channel = |sel: &ChannelSel| {
        matches!(sel.resolve(path, &labels), Err(Error::NoSuchChannel { .. }))
            && rec
                .stimuli
                .as_ref()
                .is_some_and(|k| k.origin == StimulusOrigin::Events)
    };
    let trigger_channel = match &cfg.trigger_channel {
        Some(sel) if event_channel(sel) => None,
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
            StimulusOrigin::Events => StimulusSource::Events,
        },
        (None, None) => StimulusSource::ArtifactSlope,
    };
    Ok(ChannelPlan {
        channel,
        trigger_channel,
        stimulus_source,
    })
}
