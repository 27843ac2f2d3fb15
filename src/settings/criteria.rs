//! The criteria profile: every threshold the interpretation uses.
//!
//! Defaults come from the domain primer (`shared/domain/rns-primer.md`); each
//! carries its source tag. Figures the primer marks as lab-dependent, and the
//! project's own technical tolerances (marked "project default"), can be
//! overridden by a TOML file given with `--criteria FILE.toml`, whose tables and
//! keys mirror this struct:
//!
//! ```toml
//! [decrement]
//! abnormal_pct = 8.0
//! [normal_ranges.ADM]
//! mean_mv = 11.6
//! sd_mv = 2.1
//! ```

use crate::error::{Error, Result};
use crate::units::Shown;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Thresholds for low-rate decrement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DecrementCriteria {
    /// Decrement above this (1st vs 4th/5th) is abnormal. \[A1\]\[N1\]\[N4\]
    pub abnormal_pct: f64,
    /// Decrement from this up to `abnormal_pct` is equivocal. \[FC1\]
    pub equivocal_pct: f64,
    /// A train whose late decrement exceeds this multiple of its early
    /// decrement is progressive rather than U-shaped. \[S14\]
    pub late_early_ratio: f64,
}

impl Default for DecrementCriteria {
    fn default() -> Self {
        DecrementCriteria {
            abnormal_pct: 10.0,     // [A1][N1][N4]
            equivocal_pct: 5.0,     // [FC1]
            late_early_ratio: 1.02, // [S14]
        }
    }
}

/// Thresholds for increment (post-exercise or high-rate facilitation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IncrementCriteria {
    /// Increment at or above this is LEMS-level (97 % sensitivity, 99 % specificity vs MG). \[O5\]\[L20\]
    pub lems_pct: f64,
    /// Classic LEMS increment (specificity 100 %). \[O5\]\[L20\]
    pub classic_lems_pct: f64,
    /// Post-exercise increment below this is normal. \[N3\]
    pub normal_max_pct: f64,
    /// Brief-exercise triage: at or below this the test is negative. \[PEF11\]
    pub triage_negative_pct: f64,
}

impl Default for IncrementCriteria {
    fn default() -> Self {
        IncrementCriteria {
            lems_pct: 60.0,            // [O5][L20]
            classic_lems_pct: 100.0,   // [O5][L20]
            normal_max_pct: 40.0,      // [N3]
            triage_negative_pct: 24.0, // [PEF11]
        }
    }
}

/// Tolerances of the technical quality checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QualityCriteria {
    /// Amplitude and area decrement that differ by more than this many
    /// points suggest a technical cause ("several points"). \[BC\]; project default 5.
    pub area_amplitude_disagreement_points: f64,
    /// A step between successive responses smaller than this (% of the level
    /// it starts from)
    /// is treated as noise when counting direction reversals. Project default.
    pub reversal_step_pct: f64,
    /// Number of direction reversals above which a train is irregular
    /// (a U-shape has one). \[N1\]; project default 2.
    pub max_reversals: usize,
    /// Baseline level variation across a train above this % of the first
    /// response's amplitude flags baseline instability (movement, electrode
    /// shift \[N2\]\[MK\]). Each response has its own baseline, so slow wander
    /// alone does not bias the numbers. Project default.
    pub baseline_variation_pct: f64,
    /// Baseline under the response onset differing from the pre-stimulus
    /// level by more than this % of the amplitude (drift or artifact tail
    /// under the onset, primer §5.5) flags baseline instability. Project default.
    pub baseline_drift_pct: f64,
    /// First responses of comparable trains that differ by more than this %
    /// suggest submaximal or varying stimulation. \[MOR\]; project default.
    pub first_response_variation_pct: f64,
    /// Onset latency spread within a train above this suggests submaximal
    /// stimulation or electrode movement. \[N2\]\[MK\]; project default.
    pub latency_spread_ms: f64,
    /// Amplitude increment at or above this with area flat is pseudofacilitation. \[N3\]\[PAD\]; project default.
    pub pseudofacilitation_amplitude_pct: f64,
    /// "Area flat": area increment at or below this %. \[PAD\]; project default.
    pub pseudofacilitation_area_pct: f64,
    /// Lowest skin temperature for a valid study, °C. \[N1\]\[N2\]\[MK\]
    pub min_temperature_c: f64,
    /// A post-exercise train later than this after a brief contraction misses
    /// facilitation (peak ~12 s, gone by ~50 s; > 60 s misses it). \[PEF11\]
    pub max_facilitation_delay_s: f64,
    /// Response amplitude below this many times the noise level is "absent". Project default.
    pub min_snr: f64,
    /// A train whose largest response is above this, mV, is no CMAP at the
    /// scale read (an integer WAV's full scale, values in µV or V read as mV):
    /// `scale_suspect`. Project default: the normal human CMAPs of primer §2
    /// are 8–12 mV (SD 2–4) \[BU\]\[CZ\]\[TR\], so 50 mV is ten SDs above
    /// any; raise it for preparations with larger responses.
    pub max_cmap_mv: f64,
    /// A train whose largest response is below this, mV, is no CMAP at the
    /// scale read either (20 µV: below a clinical amplifier's noise floor).
    /// Project default.
    pub min_cmap_mv: f64,
    /// For a rodent study (`[study] species = "mouse"` or `"rat"`), the
    /// largest response a CMAP can have, mV. Project default: intramuscular
    /// and subdermal needles over a rodent's small muscles record M-waves of
    /// tens of millivolts (rat gastrocnemius), so the human limit would flag
    /// real responses; 100 mV is still far below a wrong scale's thousands.
    pub rodent_max_cmap_mv: f64,
}

impl Default for QualityCriteria {
    fn default() -> Self {
        QualityCriteria {
            area_amplitude_disagreement_points: 5.0, // [BC]
            reversal_step_pct: 2.0,
            max_reversals: 2, // [N1]
            baseline_variation_pct: 50.0,
            baseline_drift_pct: 5.0,
            first_response_variation_pct: 15.0, // [MOR]
            latency_spread_ms: 0.3,
            pseudofacilitation_amplitude_pct: 20.0, // [N3][PAD]
            pseudofacilitation_area_pct: 10.0,      // [PAD]
            min_temperature_c: 32.0,                // [N1][N2][MK]
            max_facilitation_delay_s: 60.0,         // [PEF11]
            min_snr: 5.0,
            max_cmap_mv: 50.0,
            min_cmap_mv: 0.02,
            rodent_max_cmap_mv: 100.0,
        }
    }
}

/// Repair and exhaustion after exercise (MG). \[N4\]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExerciseCriteria {
    /// Repair: decrement right after exercise smaller than the baseline
    /// decrement by at least this many points. \[N4\]; project default.
    pub repair_points: f64,
    /// Exhaustion: decrement at 1–4 min larger than baseline by at least this many points. \[N4\]; project default.
    pub exhaustion_points: f64,
    /// Trains up to this delay after exercise count as "immediately after". \[N6\]\[K14\]
    pub immediate_max_s: f64,
    /// Exhaustion window start (1 min). \[N6\]\[K14\]
    pub exhaustion_min_s: f64,
    /// Exhaustion window end (4 min, with a margin). \[N6\]\[K14\]
    pub exhaustion_max_s: f64,
}

impl Default for ExerciseCriteria {
    fn default() -> Self {
        ExerciseCriteria {
            repair_points: 3.0,
            exhaustion_points: 3.0,
            immediate_max_s: 30.0,
            exhaustion_min_s: 45.0,
            exhaustion_max_s: 300.0,
        }
    }
}

/// Normal distal CMAP amplitude of one muscle (baseline to negative peak).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NormalRange {
    /// Mean amplitude, mV.
    pub mean_mv: f64,
    /// Standard deviation, mV.
    pub sd_mv: f64,
    /// Where the figures come from.
    #[serde(default)]
    pub source: String,
}

impl NormalRange {
    /// Lower normal limit: mean − 2 SD. \[M98\]\[CJ\]
    pub fn lower_limit_mv(&self) -> f64 {
        (self.mean_mv - 2.0 * self.sd_mv).max(0.0)
    }
}

/// The whole criteria profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Criteria {
    /// Low-rate decrement thresholds.
    pub decrement: DecrementCriteria,
    /// Increment thresholds.
    pub increment: IncrementCriteria,
    /// Technical quality tolerances.
    pub quality: QualityCriteria,
    /// Repair and exhaustion.
    pub exercise: ExerciseCriteria,
    /// Trains at or above this rate are high-frequency stimulation. Primer §2 (20–50 Hz) \[N5\]\[N7\].
    pub hfs_min_rate_hz: f64,
    /// Normal CMAP amplitudes by muscle (keys compared case-insensitively).
    pub normal_ranges: BTreeMap<String, NormalRange>,
}

impl Default for Criteria {
    fn default() -> Self {
        let mut normal_ranges = BTreeMap::new();
        let mut add = |k: &str, mean: f64, sd: f64, src: &str| {
            normal_ranges.insert(
                k.to_string(),
                NormalRange {
                    mean_mv: mean,
                    sd_mv: sd,
                    source: src.to_string(),
                },
            );
        };
        add("ADM", 11.6, 2.1, "[BU]");
        add("APB", 10.0, 3.0, "[CZ]");
        add("FDI", 12.0, 4.0, "[CZ]");
        add("trapezius", 8.0, 2.2, "[TR]");
        Criteria {
            decrement: DecrementCriteria::default(),
            increment: IncrementCriteria::default(),
            quality: QualityCriteria::default(),
            exercise: ExerciseCriteria::default(),
            hfs_min_rate_hz: 10.0,
            normal_ranges,
        }
    }
}

impl Criteria {
    /// SHA-256 (lowercase hex) of the profile as JSON, its fields in their
    /// fixed order: two runs with the same figure used the same criteria,
    /// whether they came from the defaults or a file.
    pub fn sha256(&self) -> String {
        use sha2::{Digest, Sha256};
        use std::fmt::Write as _;
        let json = serde_json::to_string(self).unwrap_or_default();
        Sha256::digest(json.as_bytes())
            .iter()
            .fold(String::with_capacity(64), |mut s, b| {
                let _ = write!(s, "{b:02x}");
                s
            })
    }

    /// Parse a criteria TOML: keys given override the defaults, the rest stay.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self> {
        let bad = |reason: String| Error::Config {
            path: path.to_path_buf(),
            kind: "criteria profile",
            reason,
        };
        // Normal ranges given in the file are added to the default table
        // (and override same-named muscles), not a replacement of it.
        let mut c = Criteria::default();
        let parsed: Criteria =
            toml::from_str(text).map_err(|e| bad(super::toml_error(text, &e)))?;
        let defaults_ranges = std::mem::take(&mut c.normal_ranges);
        c = parsed;
        let mut ranges = defaults_ranges;
        for (k, v) in std::mem::take(&mut c.normal_ranges) {
            ranges.retain(|old, _| !old.eq_ignore_ascii_case(&k));
            ranges.insert(k, v);
        }
        c.normal_ranges = ranges;
        c.validate().map_err(bad)?;
        Ok(c)
    }

    /// Read a criteria file.
    pub fn load(path: &Path) -> Result<Self> {
        // A settings file that cannot be read is a usage error (exit 2), not
        // an unreadable recording.
        let text = crate::io::read_settings_text(path).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            kind: "criteria profile",
            reason: format!("cannot read: {e}"),
        })?;
        Self::from_toml(&text, path)
    }

    /// The normal range for a muscle name, matched case-insensitively and on
    /// common long names ("abductor digiti minimi" → ADM).
    pub fn normal_range(&self, muscle: &str) -> Option<(&str, &NormalRange)> {
        let m = muscle.trim();
        let alias = match m.to_ascii_lowercase().as_str() {
            "abductor digiti minimi" | "adm" => "ADM",
            "abductor pollicis brevis" | "apb" => "APB",
            "first dorsal interosseous" | "fdi" => "FDI",
            "upper trapezius" | "trapezius" => "trapezius",
            _ => m,
        };
        self.normal_ranges
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(alias))
            .map(|(k, v)| (k.as_str(), v))
    }

    fn validate(&self) -> std::result::Result<(), String> {
        let pos = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(format!(
                    "{name} must be a positive number, got {}",
                    Shown(v)
                ))
            }
        };
        let d = &self.decrement;
        pos("decrement.abnormal_pct", d.abnormal_pct)?;
        pos("decrement.equivocal_pct", d.equivocal_pct)?;
        pos("decrement.late_early_ratio", d.late_early_ratio)?;
        if d.equivocal_pct > d.abnormal_pct {
            return Err("decrement.equivocal_pct must not exceed decrement.abnormal_pct".into());
        }
        let i = &self.increment;
        pos("increment.lems_pct", i.lems_pct)?;
        pos("increment.classic_lems_pct", i.classic_lems_pct)?;
        pos("increment.normal_max_pct", i.normal_max_pct)?;
        pos("increment.triage_negative_pct", i.triage_negative_pct)?;
        if i.normal_max_pct > i.lems_pct {
            return Err("increment.normal_max_pct must not exceed increment.lems_pct".into());
        }
        let q = &self.quality;
        pos(
            "quality.area_amplitude_disagreement_points",
            q.area_amplitude_disagreement_points,
        )?;
        pos("quality.reversal_step_pct", q.reversal_step_pct)?;
        if q.max_reversals == 0 {
            return Err(
                "quality.max_reversals must be at least 1 (a U-shape reverses once)".into(),
            );
        }
        pos("quality.baseline_variation_pct", q.baseline_variation_pct)?;
        pos("quality.baseline_drift_pct", q.baseline_drift_pct)?;
        pos(
            "quality.first_response_variation_pct",
            q.first_response_variation_pct,
        )?;
        pos("quality.latency_spread_ms", q.latency_spread_ms)?;
        pos(
            "quality.pseudofacilitation_amplitude_pct",
            q.pseudofacilitation_amplitude_pct,
        )?;
        pos(
            "quality.pseudofacilitation_area_pct",
            q.pseudofacilitation_area_pct,
        )?;
        pos("quality.min_temperature_c", q.min_temperature_c)?;
        pos(
            "quality.max_facilitation_delay_s",
            q.max_facilitation_delay_s,
        )?;
        pos("quality.min_snr", q.min_snr)?;
        pos("quality.max_cmap_mv", q.max_cmap_mv)?;
        pos("quality.min_cmap_mv", q.min_cmap_mv)?;
        pos("quality.rodent_max_cmap_mv", q.rodent_max_cmap_mv)?;
        if q.min_cmap_mv >= q.rodent_max_cmap_mv {
            return Err("quality.min_cmap_mv must be below quality.rodent_max_cmap_mv".into());
        }
        if q.min_cmap_mv >= q.max_cmap_mv {
            return Err("quality.min_cmap_mv must be below quality.max_cmap_mv".into());
        }
        let e = &self.exercise;
        pos("exercise.repair_points", e.repair_points)?;
        pos("exercise.exhaustion_points", e.exhaustion_points)?;
        pos("exercise.immediate_max_s", e.immediate_max_s)?;
        pos("exercise.exhaustion_min_s", e.exhaustion_min_s)?;
        pos("exercise.exhaustion_max_s", e.exhaustion_max_s)?;
        pos("hfs_min_rate_hz", self.hfs_min_rate_hz)?;
        for (k, r) in &self.normal_ranges {
            pos(&format!("normal_ranges.{k}.mean_mv"), r.mean_mv)?;
            if !(r.sd_mv.is_finite() && r.sd_mv >= 0.0) {
                return Err(format!("normal_ranges.{k}.sd_mv must be ≥ 0"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn defaults_follow_the_primer() {
        let c = Criteria::default();
        assert_eq!(c.decrement.abnormal_pct, 10.0);
        assert_eq!(c.increment.lems_pct, 60.0);
        assert_eq!(c.increment.normal_max_pct, 40.0);
        let (_, adm) = c.normal_range("abductor digiti minimi").unwrap();
        assert_relative_eq!(adm.lower_limit_mv(), 7.4, epsilon = 1e-9);
        assert!(c.normal_range("soleus").is_none());
    }

    #[test]
    fn overrides_keep_other_defaults() {
        let text =
            "[decrement]\nabnormal_pct = 8.0\n[normal_ranges.adm]\nmean_mv = 10.0\nsd_mv = 1.0\n";
        let c = Criteria::from_toml(text, Path::new("c.toml")).unwrap();
        assert_eq!(c.decrement.abnormal_pct, 8.0);
        assert_eq!(c.decrement.equivocal_pct, 5.0);
        assert_eq!(c.increment.lems_pct, 60.0);
        let (_, adm) = c.normal_range("ADM").unwrap();
        assert_eq!(adm.mean_mv, 10.0);
        assert!(c.normal_range("APB").is_some());
    }

    #[test]
    fn rejects_inconsistent_profiles() {
        let e = Criteria::from_toml("[decrement]\nequivocal_pct = 12.0\n", Path::new("c.toml"))
            .unwrap_err();
        assert!(e.to_string().contains("c.toml"));
        assert!(Criteria::from_toml("[decrement]\nabnormal = 1\n", Path::new("c.toml")).is_err());
        assert!(Criteria::from_toml("hfs_min_rate_hz = -1\n", Path::new("c.toml")).is_err());
    }

    #[test]
    fn the_profile_hash_follows_every_figure() {
        let a = Criteria::default();
        assert_eq!(a.sha256(), Criteria::default().sha256());
        assert_eq!(a.sha256().len(), 64);
        let mut b = a.clone();
        b.decrement.abnormal_pct += 0.5;
        assert_ne!(a.sha256(), b.sha256());
        let mut c = a.clone();
        c.hfs_min_rate_hz = 25.0;
        assert_ne!(a.sha256(), c.sha256());
    }
}
