//! The protocol sidecar: `<recording>.rns.toml` (or `--protocol FILE`).
//!
//! It tells the analyzer what the file cannot: the muscle and nerve, the skin
//! temperature, the full-scale voltage of an integer WAV, which channel is the
//! EMG, the stimulation rate of epoched sweeps, and the role of each train. Every
//! field is optional; command-line flags override the sidecar.
//!
//! ```toml
//! muscle = "ADM"
//! nerve = "ulnar"
//! temperature_c = 33.5
//! full_scale_mv = 20.0
//! channel = 0            # or a label: channel = "EMG ADM"
//! trigger_channel = 1
//! rate_hz = 3.0            # stimulation rate of epoched sweeps
//! window_ms = [1.0, 12.0]  # where the M-wave's peak lies (default: found)
//! medications = ["pyridostigmine 60 mg, last dose 14 h before"]
//! unit = "uV"              # CSV values whose columns name no unit
//!
//! [study]                  # who, when, where: shown on reports, never interpreted
//! patient_id = "MRN-0042"
//! study_date = 2026-12-03
//! side = "right"
//! stimulation_site = "wrist"
//! operator = "A. Technician"
//!
//! [exercise]               # when known: sets delay_after_exercise_s
//! end_s = 42.0
//! duration_s = 10.0
//!
//! [[trains]]
//! role = "baseline"
//! [[trains]]
//! role = "post_exercise"
//! delay_after_exercise_s = 2.0
//! ```

use crate::error::{Error, Result};
use crate::io::csv::ColumnUnit;
use crate::recording::ChannelSel;
use crate::study::Study;
use crate::units::Shown;
use crate::vocab::TrainRole;
use crate::vocab::{CsvLayout, PolarityChoice};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What the sidecar says of one train, in train order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSpec {
    /// The train's role.
    pub role: Option<TrainRole>,
    /// Seconds from the end of the exercise to the first stimulus of the train.
    pub delay_after_exercise_s: Option<f64>,
    /// For epoched sweeps: how many consecutive sweeps make this train.
    pub responses: Option<usize>,
    /// For epoched sweeps: the stimulation rate of this train.
    pub rate_hz: Option<f64>,
}

/// An exercise period, when the protocol records it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExerciseSpec {
    /// Time the contraction ended, seconds from the start of the recording.
    pub end_s: Option<f64>,
    /// How long the contraction lasted.
    pub duration_s: Option<f64>,
}

/// The parsed sidecar.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Protocol {
    /// Muscle recorded (`ADM`, `APB`, `FDI`, `trapezius`, ...).
    pub muscle: Option<String>,
    /// Nerve stimulated.
    pub nerve: Option<String>,
    /// Skin temperature over the muscle, °C.
    pub temperature_c: Option<f64>,
    /// Millivolts that the full scale (±1.0) of an integer or float WAV stands for.
    pub full_scale_mv: Option<f64>,
    /// EMG channel: an index (integer) or a label (string).
    pub channel: Option<ChannelSel>,
    /// Trigger channel: an index (integer) or a label (string).
    pub trigger_channel: Option<ChannelSel>,
    /// Sample rate for a CSV without a time column.
    pub sample_rate_hz: Option<f64>,
    /// CSV layout: `"sweeps"`, `"continuous"` or `"auto"`.
    pub layout: Option<CsvLayout>,
    /// Stimulation rate of epoched sweeps (all trains unless a train says otherwise).
    pub rate_hz: Option<f64>,
    /// Which phase of the CMAP to measure: `"auto"`, `"negative"`, `"positive"`.
    pub polarity: Option<PolarityChoice>,
    /// Where the M-wave's peak is sought, ms after the stimulus:
    /// `[start, end]` (default: from the latency of the recording's responses).
    pub window_ms: Option<[f64; 2]>,
    /// Medications on record (listed in reports; never interpreted).
    #[serde(default)]
    pub medications: Vec<String>,
    /// The voltage unit of CSV values whose columns name none (`"V"`,
    /// `"mV"`, `"uV"`, `"nV"`).
    pub unit: Option<String>,
    /// The study and the patient (see [`Study`]).
    pub study: Option<Study>,
    /// Which variables of a MAT-file hold what (see
    /// [`MatHints`](crate::io::mat::MatHints)).
    pub mat: Option<crate::io::mat::MatHints>,
    /// What a text export's header does not say (see
    /// [`TextHints`](crate::io::text::TextHints)).
    pub text: Option<crate::io::text::TextHints>,
    /// The exercise period, if known.
    pub exercise: Option<ExerciseSpec>,
    /// Train roles, in order.
    #[serde(default)]
    pub trains: Vec<TrainSpec>,
}

impl Protocol {
    /// Parse a sidecar from TOML text; `path` is used in messages.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self> {
        let p: Protocol = toml::from_str(text).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            kind: "protocol sidecar",
            reason: super::toml_error(text, &e),
        })?;
        p.validate(path)?;
        Ok(p)
    }

    /// Read and parse a sidecar file.
    pub fn load(path: &Path) -> Result<Self> {
        // A settings file that cannot be read is a usage error (exit 2), not
        // an unreadable recording.
        let text = crate::io::read_settings_text(path).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            kind: "protocol sidecar",
            reason: format!("cannot read: {e}"),
        })?;
        Self::from_toml(&text, path)
    }

    /// The sidecar of `recording`, when it has one ([`Self::sidecar_path`]).
    /// A sidecar that is a symbolic link to a file outside the recording's
    /// folder is refused (a usage error): a link planted beside a recording
    /// must not make the analysis read, and quote, a file elsewhere; such a
    /// file can still be given with `--protocol`.
    pub fn load_sidecar_of(recording: &Path) -> Result<Option<Self>> {
        let side = Self::sidecar_path(recording);
        match std::fs::metadata(&side) {
            // None there (or a link to nothing).
            Err(_) => return Ok(None),
            // A FIFO or a device named as the sidecar: refused, as
            // `--protocol` refuses it, never waited on nor passed over.
            Ok(m) if !m.is_file() => return Self::load(&side).map(Some),
            Ok(_) => {}
        }
        let is_link = std::fs::symlink_metadata(&side).is_ok_and(|m| m.file_type().is_symlink());
        if is_link {
            let folder = |p: &Path| {
                p.canonicalize()
                    .ok()
                    .and_then(|c| c.parent().map(Path::to_path_buf))
            };
            let here = recording
                .parent()
                .map(|d| {
                    if d.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        d
                    }
                })
                .and_then(|d| d.canonicalize().ok());
            // The recording's folder, or the folder of the file a linked
            // recording stands for (a folder of links beside the data).
            let target = folder(recording);
            let there = folder(&side);
            if there.is_none() || (there != here && there != target) {
                return Err(Error::Config {
                    path: side,
                    kind: "protocol sidecar",
                    reason: "is a symbolic link to a file outside the recording's folder; it was not read (give that file with --protocol to use it)".into(),
                });
            }
        }
        Self::load(&side).map(Some)
    }

    /// The sidecar path that goes with a recording: `<file>.rns.toml`.
    pub fn sidecar_path(recording: &Path) -> PathBuf {
        let mut s = recording.as_os_str().to_owned();
        s.push(".rns.toml");
        PathBuf::from(s)
    }

    fn validate(&self, path: &Path) -> Result<()> {
        let bad = |reason: String| Error::Config {
            path: path.to_path_buf(),
            kind: "protocol sidecar",
            reason,
        };
        let positive = |name: &str, v: Option<f64>| -> Result<()> {
            match v {
                Some(x) if !(x.is_finite() && x > 0.0) => Err(bad(format!(
                    "{name} must be a positive number, got {}",
                    Shown(x)
                ))),
                _ => Ok(()),
            }
        };
        positive("full_scale_mv", self.full_scale_mv)?;
        if let Some(u) = &self.unit {
            if ColumnUnit::voltage(u).is_none() {
                return Err(bad(format!(
                    "unit must be a voltage unit (V, mV, uV, nV), got {:?}",
                    crate::error::excerpt_str(u)
                )));
            }
        }
        if let Some(study) = &self.study {
            study.validate().map_err(|e| bad(format!("[study] {e}")))?;
            for (key, top, inner) in [
                ("muscle", &self.muscle, &study.muscle),
                ("nerve", &self.nerve, &study.nerve),
            ] {
                if let (Some(a), Some(b)) = (top, inner) {
                    if a != b {
                        return Err(bad(format!(
                            "{key} is given twice and differently: {:?} at the top, {:?} in [study]",
                            crate::error::excerpt_str(a),
                            crate::error::excerpt_str(b)
                        )));
                    }
                }
            }
        }
        positive("sample_rate_hz", self.sample_rate_hz)?;
        positive("rate_hz", self.rate_hz)?;
        if let Some(t) = self.temperature_c {
            if !(t.is_finite() && (10.0..=45.0).contains(&t)) {
                return Err(bad(format!(
                    "temperature_c must be between 10 and 45 °C, got {}",
                    Shown(t)
                )));
            }
        }
        if let Some([a, b]) = self.window_ms {
            // The same range `Settings::merge` checks for the merged value.
            let max = crate::settings::config::MeasureSettings::default()
                .max_window
                .0;
            if !(a.is_finite() && b.is_finite() && a >= 0.0 && a < b && b <= max) {
                return Err(bad(format!(
                    "window_ms must be [start, end] with 0 ≤ start < end ≤ {max} ms, got [{}, {}]",
                    Shown(a),
                    Shown(b)
                )));
            }
        }
        for (i, t) in self.trains.iter().enumerate() {
            positive(&format!("trains[{i}].rate_hz"), t.rate_hz)?;
            if let Some(d) = t.delay_after_exercise_s {
                if !(d.is_finite() && d >= 0.0) {
                    return Err(bad(format!(
                        "trains[{i}].delay_after_exercise_s must be ≥ 0, got {}",
                        Shown(d)
                    )));
                }
            }
            if t.responses == Some(0) {
                return Err(bad(format!("trains[{i}].responses must be ≥ 1")));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_full_sidecar() {
        let text = r#"
            muscle = "ADM"
            temperature_c = 33.0
            full_scale_mv = 20.0
            rate_hz = 3.0
            [exercise]
            end_s = 40.0
            [[trains]]
            role = "baseline"
            responses = 10
            [[trains]]
            role = "post_exercise"
            delay_after_exercise_s = 2.0
        "#;
        let p = Protocol::from_toml(text, Path::new("a.rns.toml")).unwrap();
        assert_eq!(p.muscle.as_deref(), Some("ADM"));
        assert_eq!(p.trains.len(), 2);
        assert_eq!(p.trains[1].role, Some(TrainRole::PostExercise));
        assert_eq!(p.exercise.unwrap().end_s, Some(40.0));
    }

    #[test]
    fn rejects_unknown_fields_and_bad_values() {
        let e = Protocol::from_toml("muscel = \"ADM\"", Path::new("a.toml")).unwrap_err();
        assert!(e.to_string().contains("a.toml"), "{e}");
        let e = Protocol::from_toml("full_scale_mv = -1.0", Path::new("a.toml")).unwrap_err();
        assert!(e.to_string().contains("full_scale_mv"), "{e}");
        let e =
            Protocol::from_toml("[[trains]]\nrole = \"warmup\"", Path::new("a.toml")).unwrap_err();
        assert!(!e.to_string().contains('\n'));
    }

    #[test]
    fn window_ms_is_a_range_within_the_response_window() {
        let p = Protocol::from_toml("window_ms = [1.0, 12.5]", Path::new("a.toml")).unwrap();
        assert_eq!(p.window_ms, Some([1.0, 12.5]));
        for bad in [
            "[12.0, 1.0]",
            "[-1.0, 5.0]",
            "[1.0, 50.0]",
            "[3.0]",
            "\"2:15\"",
        ] {
            let e = Protocol::from_toml(&format!("window_ms = {bad}"), Path::new("a.toml"))
                .unwrap_err();
            let msg = e.to_string();
            assert!(
                msg.contains("a.toml") && msg.contains("window_ms"),
                "{bad}: {msg}"
            );
        }
    }

    #[test]
    fn channel_is_an_index_or_a_label() {
        let p = Protocol::from_toml(
            "channel = \"EMG ADM\"\ntrigger_channel = 2",
            Path::new("a.toml"),
        )
        .unwrap();
        assert_eq!(p.channel, Some(ChannelSel::Label("EMG ADM".into())));
        assert_eq!(p.trigger_channel, Some(ChannelSel::Index(2)));
        let p = Protocol::from_toml("channel = \"3\"", Path::new("a.toml")).unwrap();
        assert_eq!(p.channel, Some(ChannelSel::Index(3)));
        let e = Protocol::from_toml("channel = -1", Path::new("a.toml")).unwrap_err();
        assert!(e.to_string().contains("≥ 0"), "{e}");
        let e = Protocol::from_toml("channel = 1.5", Path::new("a.toml")).unwrap_err();
        assert!(e.to_string().contains("channel index"), "{e}");
    }

    #[test]
    fn sidecar_path_appends_suffix() {
        assert_eq!(
            Protocol::sidecar_path(Path::new("d/rec.wav")),
            PathBuf::from("d/rec.wav.rns.toml")
        );
    }
}
