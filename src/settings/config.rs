//! The validated analysis configuration.
//!
//! Arguments arrive in two stages, as in ripgrep: the command line (clap) and the
//! protocol sidecar are merged here (flags win over the sidecar, the sidecar over
//! defaults), checked, and turned into one [`AnalysisConfig`]. The analysis core
//! takes only this type, with units carried in the types.

use crate::error::{Error, Result};
use crate::io::csv::ColumnUnit;
use crate::io::{ChannelFilter, ReadOptions};
use crate::recording::ChannelSel;
use crate::settings::criteria::Criteria;
use crate::settings::protocol::{ExerciseSpec, Protocol, TrainSpec};
use crate::study::Study;
use crate::units::{Hz, Ms, SampleRate, Shown};
use crate::vocab::{CsvLayout, PolarityChoice};

/// Timing settings of the response measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasureSettings {
    /// Shortest blanking after the stimulus before the response is searched.
    pub min_blank: Ms,
    /// Longest blanking: past it, an artifact still present overlaps the response.
    pub max_blank: Ms,
    /// Longest response window after the stimulus.
    pub max_window: Ms,
    /// Gap kept before the next stimulus (the window ends before it). Primer §2 \[N5\]\[N7\]\[FC2\].
    pub guard_before_next: Ms,
    /// Pre-stimulus span used for the fallback baseline.
    pub pre_stimulus: Ms,
    /// The span after the stimulus in which the M-wave's peak is sought
    /// (`--window-ms`); `None`: the recording's own, from the latency of its
    /// responses.
    pub m_window: Option<(Ms, Ms)>,
}

impl Default for MeasureSettings {
    fn default() -> Self {
        MeasureSettings {
            min_blank: Ms(0.4),
            max_blank: Ms(2.5),
            max_window: Ms(40.0),
            guard_before_next: Ms(0.5),
            pre_stimulus: Ms(3.0),
            m_window: None,
        }
    }
}

/// Values given on the command line (or by a library caller); `None` = not given.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// EMG channel, by index or label.
    pub channel: Option<ChannelSel>,
    /// Trigger channel, by index or label.
    pub trigger_channel: Option<ChannelSel>,
    /// Millivolts for WAV full scale.
    pub full_scale_mv: Option<f64>,
    /// Sample rate for CSV without time.
    pub sample_rate_hz: Option<f64>,
    /// CSV layout.
    pub layout: Option<CsvLayout>,
    /// Stimulation rate of sweeps.
    pub rate_hz: Option<f64>,
    /// Polarity choice.
    pub polarity: Option<PolarityChoice>,
    /// Where the M-wave's peak is sought, ms after the stimulus.
    pub window_ms: Option<(f64, f64)>,
    /// Muscle name.
    pub muscle: Option<String>,
    /// The voltage unit of CSV values whose columns name none (`--unit`).
    pub unit: Option<ColumnUnit>,
    /// The study and the patient, from flags (over the sidecar's `[study]`).
    pub study: Study,
}

/// Everything the analysis core needs, validated.
#[derive(Debug, Clone)]
pub struct AnalysisConfig {
    /// EMG channel, by index or label; `None`: the format's default (channel
    /// 0, or the first signal of an EDF; see
    /// [`Recording::default_emg_channel`](crate::recording::Recording::default_emg_channel)).
    pub channel: Option<ChannelSel>,
    /// Trigger channel, if stimuli come from one (otherwise the first
    /// decoded channel of kind trigger, if any).
    pub trigger_channel: Option<ChannelSel>,
    /// Polarity choice.
    pub polarity: PolarityChoice,
    /// Interpretation thresholds.
    pub criteria: Criteria,
    /// Measurement timing.
    pub measure: MeasureSettings,
    /// Muscle, for the normal-range check.
    pub muscle: Option<String>,
    /// Nerve (reported only).
    pub nerve: Option<String>,
    /// The study and the patient, from flags and the sidecar (the
    /// recording's header fills the fields they leave; see
    /// [`Study::or`]). Its `muscle` and `nerve` are the ones above.
    pub study: Study,
    /// Skin temperature, °C.
    pub temperature_c: Option<f64>,
    /// Medications on record (reported only).
    pub medications: Vec<String>,
    /// Stimulation rate of epoched sweeps, when known.
    pub sweep_rate: Option<Hz>,
    /// Per-train statements of the protocol, in order.
    pub trains: Vec<TrainSpec>,
    /// Exercise period, if the protocol gives it.
    pub exercise: Option<ExerciseSpec>,
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        AnalysisConfig {
            channel: None,
            trigger_channel: None,
            polarity: PolarityChoice::Auto,
            criteria: Criteria::default(),
            measure: MeasureSettings::default(),
            muscle: None,
            nerve: None,
            study: Study::default(),
            temperature_c: None,
            medications: vec![],
            sweep_rate: None,
            trains: vec![],
            exercise: None,
        }
    }
}

/// The merged, validated inputs of one file: how to read it and how to analyse it.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Reader options.
    pub read: ReadOptions,
    /// Analysis configuration.
    pub analysis: AnalysisConfig,
}

/// The M-wave window, validated: 0 ≤ start < end ≤ the longest response
/// window (40 ms), both finite.
fn window(w: Option<(f64, f64)>) -> Result<Option<(Ms, Ms)>> {
    let Some((a, b)) = w else {
        return Ok(None);
    };
    let max = MeasureSettings::default().max_window.0;
    if !(a.is_finite() && b.is_finite() && a >= 0.0 && a < b && b <= max) {
        return Err(Error::Usage(format!(
            "--window-ms must be START:END with 0 ≤ START < END ≤ {max} ms, got {}:{}",
            Shown(a),
            Shown(b)
        )));
    }
    Ok(Some((Ms(a), Ms(b))))
}

/// Parse `START:END` (ms) for `--window-ms`; the error is the flag's usage
/// message. The range is checked when the settings are merged.
pub fn parse_window_ms(s: &str) -> Result<(f64, f64)> {
    let bad = || {
        Error::Usage(format!(
            "--window-ms must be START:END in ms (e.g. 2:15), got {s:?}"
        ))
    };
    let (a, b) = s.split_once(':').ok_or_else(bad)?;
    let num = |t: &str| t.trim().parse::<f64>().map_err(|_| bad());
    Ok((num(a)?, num(b)?))
}

impl CsvLayout {
    /// Parse the value of `--layout`; the error is the flag's usage message.
    pub fn from_flag(s: &str) -> Result<Self> {
        CsvLayout::from_name(s).ok_or_else(|| {
            Error::Usage(format!(
                "--layout must be sweeps, continuous or auto, got {s:?}"
            ))
        })
    }
}

impl PolarityChoice {
    /// Parse the value of `--polarity`; the error is the flag's usage message.
    pub fn from_flag(s: &str) -> Result<Self> {
        PolarityChoice::parse(s).ok_or_else(|| {
            Error::Usage(format!(
                "--polarity must be auto, negative or positive, got {s:?}"
            ))
        })
    }
}

/// The slowest stimulation rate of epoched sweeps, Hz: one sweep per
/// 100 s. Below it the times of the sweeps overflow (`--rate 1e-320`).
pub const MIN_SWEEP_RATE_HZ: f64 = 0.01;

impl Settings {
    /// Merge flags over the protocol sidecar over defaults, and validate.
    pub fn merge(ov: &Overrides, protocol: Option<&Protocol>, criteria: Criteria) -> Result<Self> {
        let p = protocol.cloned().unwrap_or_default();
        let full_scale_given = ov.full_scale_mv.or(p.full_scale_mv);
        let full_scale_mv = full_scale_given.unwrap_or(1.0);
        if !(full_scale_mv.is_finite() && full_scale_mv > 0.0) {
            return Err(Error::Usage(format!(
                "--full-scale-mv must be a positive number, got {}",
                Shown(full_scale_mv)
            )));
        }
        let sample_rate = match ov.sample_rate_hz.or(p.sample_rate_hz) {
            None => None,
            Some(hz) => Some(SampleRate::new(hz).ok_or_else(|| {
                Error::Usage(format!(
                    "--sample-rate must be between {} and {} Hz, got {}",
                    SampleRate::MIN_HZ,
                    SampleRate::MAX_HZ,
                    Shown(hz)
                ))
            })?),
        };
        let layout = ov.layout.or(p.layout).unwrap_or_default();
        let polarity = ov.polarity.or(p.polarity).unwrap_or_default();
        let sweep_rate = match ov.rate_hz.or(p.rate_hz) {
            None => None,
            Some(r) if r.is_finite() && (MIN_SWEEP_RATE_HZ..=1000.0).contains(&r) => Some(Hz(r)),
            Some(r) => {
                return Err(Error::Usage(format!(
                    "--rate must be between {MIN_SWEEP_RATE_HZ} and 1000 Hz, got {}",
                    Shown(r)
                )))
            }
        };
        let channel = ov.channel.clone().or(p.channel.clone());
        let trigger_channel = ov.trigger_channel.clone().or(p.trigger_channel.clone());
        // Selectors that differ may still name one channel; the analysis
        // checks again once the labels are known.
        if let (Some(t), Some(c)) = (&trigger_channel, &channel) {
            if t == c {
                return Err(Error::Usage(format!(
                    "the trigger channel ({t}) cannot be the EMG channel"
                )));
            }
        }
        let read = ReadOptions {
            full_scale_mv,
            sample_rate,
            layout,
            // Readers decode only what is analysed (memory bound on long
            // files), plus the channels they know to be triggers.
            channels: ChannelFilter::Select {
                emg: channel.clone(),
                others: trigger_channel.iter().cloned().collect(),
            },
            full_scale_given: full_scale_given.is_some(),
            // The sidecar's unit was checked when it was read.
            unit: ov.unit.or(p.unit.as_deref().and_then(ColumnUnit::voltage)),
            mat: p.mat.clone().unwrap_or_default(),
            text: p.text.clone().unwrap_or_default(),
        };
        ov.study
            .validate()
            .map_err(|e| Error::Usage(format!("--{}", e.replacen('_', "-", 2))))?;
        let sidecar_study = p.study.clone().unwrap_or_default();
        let study = ov.study.clone().or(sidecar_study);
        let muscle = ov.muscle.clone().or(study.muscle.clone()).or(p.muscle);
        let nerve = study.nerve.clone().or(p.nerve);
        let study = Study {
            muscle: muscle.clone(),
            nerve: nerve.clone(),
            ..study
        };
        let measure = MeasureSettings {
            m_window: window(ov.window_ms.or(p.window_ms.map(|[a, b]| (a, b))))?,
            ..MeasureSettings::default()
        };
        let analysis = AnalysisConfig {
            channel,
            trigger_channel,
            polarity,
            criteria,
            measure,
            muscle,
            nerve,
            study,
            temperature_c: p.temperature_c,
            medications: p.medications,
            sweep_rate,
            trains: p.trains,
            exercise: p.exercise,
        };
        Ok(Settings { read, analysis })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_sidecar() {
        let p = Protocol {
            channel: Some(2.into()),
            full_scale_mv: Some(10.0),
            muscle: Some("APB".into()),
            ..Default::default()
        };
        let ov = Overrides {
            channel: Some("EMG ADM".into()),
            ..Default::default()
        };
        let s = Settings::merge(&ov, Some(&p), Criteria::default()).unwrap();
        assert_eq!(
            s.analysis.channel,
            Some(ChannelSel::Label("EMG ADM".into()))
        );
        assert_eq!(
            s.read.channels,
            ChannelFilter::Select {
                emg: Some(ChannelSel::Label("EMG ADM".into())),
                others: vec![]
            }
        );
        assert_eq!(s.read.full_scale_mv, 10.0);
        assert_eq!(s.analysis.muscle.as_deref(), Some("APB"));
    }

    #[test]
    fn rejects_bad_values() {
        let bad = |ov: Overrides| Settings::merge(&ov, None, Criteria::default()).is_err();
        assert!(bad(Overrides {
            full_scale_mv: Some(0.0),
            ..Default::default()
        }));
        assert!(bad(Overrides {
            sample_rate_hz: Some(100.0),
            ..Default::default()
        }));
        assert!(PolarityChoice::from_flag("up").is_err());
        assert_eq!(
            PolarityChoice::from_flag("NEG").unwrap(),
            PolarityChoice::Negative
        );
        assert!(CsvLayout::from_flag("rows").is_err());
        // A rate whose sweep interval overflows, or none.
        for r in [1e-320, 0.001, 0.0, -3.0, 1001.0, f64::NAN] {
            assert!(
                bad(Overrides {
                    rate_hz: Some(r),
                    ..Default::default()
                }),
                "{r}"
            );
        }
        assert!(!bad(Overrides {
            rate_hz: Some(MIN_SWEEP_RATE_HZ),
            ..Default::default()
        }));
        assert!(bad(Overrides {
            channel: Some(1.into()),
            trigger_channel: Some(1.into()),
            ..Default::default()
        }));
    }

    #[test]
    fn window_ms_from_flag_over_sidecar_and_checked() {
        assert_eq!(parse_window_ms("2:15").unwrap(), (2.0, 15.0));
        assert_eq!(parse_window_ms(" 0.5 : 3 ").unwrap(), (0.5, 3.0));
        for bad in ["2-15", "2:", ":15", "a:b", ""] {
            assert!(parse_window_ms(bad).is_err(), "{bad:?}");
        }
        let p = Protocol {
            window_ms: Some([1.0, 12.0]),
            ..Default::default()
        };
        let merged = |ov: &Overrides| Settings::merge(ov, Some(&p), Criteria::default());
        let from_sidecar = merged(&Overrides::default()).unwrap();
        assert_eq!(
            from_sidecar.analysis.measure.m_window,
            Some((Ms(1.0), Ms(12.0)))
        );
        let ov = Overrides {
            window_ms: Some((2.0, 15.0)),
            ..Default::default()
        };
        assert_eq!(
            merged(&ov).unwrap().analysis.measure.m_window,
            Some((Ms(2.0), Ms(15.0)))
        );
        assert_eq!(
            Settings::merge(&Overrides::default(), None, Criteria::default())
                .unwrap()
                .analysis
                .measure
                .m_window,
            None
        );
        for (a, b) in [
            (5.0, 5.0),
            (10.0, 2.0),
            (-1.0, 5.0),
            (1.0, 41.0),
            (f64::NAN, 5.0),
        ] {
            let ov = Overrides {
                window_ms: Some((a, b)),
                ..Default::default()
            };
            assert!(matches!(merged(&ov), Err(Error::Usage(_))), "{a}:{b}");
        }
    }
}
