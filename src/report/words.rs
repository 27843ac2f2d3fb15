//! The report's fixed wording: patterns, quality flags and criteria in plain
//! language, with the primer's source tags.

use crate::criteria::Criteria;

/// Display name of a pattern code.
pub fn pattern_name(code: &str) -> &'static str {
    match code {
        "normal" => "Normal",
        "mg_like" => "MG-like",
        "lems_like" => "LEMS-like",
        "indeterminate" => "Indeterminate",
        _ => "Unknown",
    }
}

/// One sentence on what a pattern means (a pattern, never a diagnosis).
pub fn pattern_gloss(code: &str) -> &'static str {
    match code {
        "normal" => "No abnormal decrement and no abnormal increment by the criteria used.",
        "mg_like" => {
            "Post-synaptic pattern, as seen in myasthenia gravis: abnormal decrement at low \
             rate without LEMS-level facilitation."
        }
        "lems_like" => {
            "Pre-synaptic pattern, as seen in Lambert–Eaton myasthenic syndrome: LEMS-level \
             facilitation in both amplitude and area."
        }
        "indeterminate" => {
            "The findings fit no single pattern, or too little could be measured reliably; \
             the findings below give the reason."
        }
        _ => "",
    }
}

/// What a quality flag means for the reader, by code.
pub fn quality_meaning(code: &str) -> &'static str {
    match code {
        "irregular_amplitudes" => {
            "Amplitudes zig-zag instead of declining smoothly: movement or electrode artifact is \
             likely [N1]. The train is not used for the pattern."
        }
        "amplitude_area_disagreement" => {
            "Amplitude and area decrement differ by several points, which suggests a technical \
             cause [BC]. The train is not used for the pattern."
        }
        "baseline_instability" => {
            "The baseline moved during the train (movement, electrode shift, drift or an \
             artifact tail under the onset). The train is not used for the pattern."
        }
        "artifact_overlap" => {
            "The stimulus artifact had not settled when the response began; onset and amplitude \
             are unreliable. The train is not used for the pattern."
        }
        "clipped_signal" => {
            "Responses reached the amplifier's limits, so amplitudes are underestimated. The \
             train is not used for the pattern."
        }
        "too_few_responses" => {
            "Too few responses for the standard decrement (1st vs 4th or 5th response)."
        }
        "possible_submaximal" => {
            "Onset latency or first-response amplitude varies: stimulation may have been \
             submaximal, or the electrode moved [MOR]."
        }
        "pseudofacilitation" => {
            "Amplitude rose while the area stayed flat: better synchrony of the fibres, not true \
             facilitation [N3][PAD]."
        }
        "response_absent" => {
            "A response is lost in the noise. The train is not used for the pattern."
        }
        "incomplete_response" => {
            "The negative phase had not returned to the baseline before the window ended; area \
             and duration are truncated."
        }
        "low_temperature" => {
            "Skin temperature below the minimum: cooling improves transmission and can hide a \
             decrement [N1][N2][MK]."
        }
        "exercise_timing" => {
            "The first train after exercise came late; facilitation may already have faded \
             [PEF11]."
        }
        "unmeasurable_response" => {
            "A response window was too short to measure (next stimulus or end of recording too \
             close). The train is not used for the pattern."
        }
        "rate_unknown" => {
            "Sweeps without a stimulation rate: trains cannot be classed as high-rate and carry \
             no times."
        }
        "roles_inferred" => {
            "No exercise was seen or declared; the after-exercise train was inferred from a \
             pause of 8 s or more."
        }
        "protocol_mismatch" => {
            "The protocol sidecar lists a different number of trains than were found; check the \
             train roles."
        }
        "mains_hum_removed" => "Mains hum was found and subtracted before measuring.",
        _ => "",
    }
}

/// One row of the criteria table.
#[derive(Debug, Clone, PartialEq)]
pub struct CriterionRow {
    /// Group heading (`Decrement`, `Increment`, ...).
    pub group: &'static str,
    /// What the criterion decides.
    pub what: &'static str,
    /// The value in force, with its unit.
    pub value: String,
    /// Source tag of the default, or `lab profile` when the value differs from it.
    pub source: &'static str,
}

fn num(v: f64) -> String {
    super::plots::trim_num(v, 2)
}

/// The criteria in force, in reading order. A value that differs from the
/// built-in default is attributed to the lab's profile, not to the literature.
pub fn criteria_rows(c: &Criteria) -> Vec<CriterionRow> {
    let d = Criteria::default();
    let src = |same: bool, tag: &'static str| if same { tag } else { "lab profile" };
    let row = |group, what, value: String, source| CriterionRow {
        group,
        what,
        value,
        source,
    };
    let (cd, dd) = (&c.decrement, &d.decrement);
    let (ci, di) = (&c.increment, &d.increment);
    let (cq, dq) = (&c.quality, &d.quality);
    let (ce, de) = (&c.exercise, &d.exercise);
    vec![
        row(
            "Decrement",
            "Abnormal decrement, 1st vs 4th/5th response",
            format!("> {} %", num(cd.abnormal_pct)),
            src(cd.abnormal_pct == dd.abnormal_pct, "[A1][N1][N4]"),
        ),
        row(
            "Decrement",
            "Equivocal decrement, from",
            format!("{} %", num(cd.equivocal_pct)),
            src(cd.equivocal_pct == dd.equivocal_pct, "[FC1]"),
        ),
        row(
            "Decrement",
            "Progressive rather than U-shaped: late/early decrement ratio",
            format!("> {}", num(cd.late_early_ratio)),
            src(cd.late_early_ratio == dd.late_early_ratio, "[S14]"),
        ),
        row(
            "Increment",
            "LEMS-level increment (amplitude and area)",
            format!("≥ {} %", num(ci.lems_pct)),
            src(ci.lems_pct == di.lems_pct, "[O5][L20]"),
        ),
        row(
            "Increment",
            "Classic LEMS increment",
            format!("≥ {} %", num(ci.classic_lems_pct)),
            src(ci.classic_lems_pct == di.classic_lems_pct, "[O5][L20]"),
        ),
        row(
            "Increment",
            "Normal post-exercise increment, below",
            format!("{} %", num(ci.normal_max_pct)),
            src(ci.normal_max_pct == di.normal_max_pct, "[N3]"),
        ),
        row(
            "Increment",
            "High-rate train: stimulation rate from",
            format!("{} Hz", num(c.hfs_min_rate_hz)),
            src(c.hfs_min_rate_hz == d.hfs_min_rate_hz, "[N5][N7]"),
        ),
        row(
            "Exercise",
            "Repair: decrement lower right after exercise by at least",
            format!("{} points", num(ce.repair_points)),
            src(ce.repair_points == de.repair_points, "[N4]"),
        ),
        row(
            "Exercise",
            "Right after exercise: up to",
            format!("{} s", num(ce.immediate_max_s)),
            src(ce.immediate_max_s == de.immediate_max_s, "[N6][K14]"),
        ),
        row(
            "Exercise",
            "Exhaustion: decrement higher by at least",
            format!("{} points", num(ce.exhaustion_points)),
            src(ce.exhaustion_points == de.exhaustion_points, "[N4]"),
        ),
        row(
            "Exercise",
            "Exhaustion window after exercise",
            format!(
                "{}–{} s",
                num(ce.exhaustion_min_s),
                num(ce.exhaustion_max_s)
            ),
            src(
                ce.exhaustion_min_s == de.exhaustion_min_s
                    && ce.exhaustion_max_s == de.exhaustion_max_s,
                "[N6][K14]",
            ),
        ),
        row(
            "Quality",
            "Amplitude and area decrement disagree by more than",
            format!("{} points", num(cq.area_amplitude_disagreement_points)),
            src(
                cq.area_amplitude_disagreement_points == dq.area_amplitude_disagreement_points,
                "[BC]",
            ),
        ),
        row(
            "Quality",
            "Irregular train: direction reversals, more than",
            format!(
                "{} (steps < {} % ignored)",
                cq.max_reversals,
                num(cq.reversal_step_pct)
            ),
            src(
                cq.max_reversals == dq.max_reversals
                    && cq.reversal_step_pct == dq.reversal_step_pct,
                "[N1]",
            ),
        ),
        row(
            "Quality",
            "Baseline instability: spread across a train / drift under the onset",
            format!(
                "{} % of A1 / {} % of amplitude",
                num(cq.baseline_variation_pct),
                num(cq.baseline_drift_pct)
            ),
            src(
                cq.baseline_variation_pct == dq.baseline_variation_pct
                    && cq.baseline_drift_pct == dq.baseline_drift_pct,
                "project default",
            ),
        ),
        row(
            "Quality",
            "Possible submaximal stimulation: first responses differ by / latency spread",
            format!(
                "{} % / {} ms",
                num(cq.first_response_variation_pct),
                num(cq.latency_spread_ms)
            ),
            src(
                cq.first_response_variation_pct == dq.first_response_variation_pct
                    && cq.latency_spread_ms == dq.latency_spread_ms,
                "[MOR][N2][MK]",
            ),
        ),
        row(
            "Quality",
            "Pseudofacilitation: amplitude up at least / area up at most",
            format!(
                "{} % / {} %",
                num(cq.pseudofacilitation_amplitude_pct),
                num(cq.pseudofacilitation_area_pct)
            ),
            src(
                cq.pseudofacilitation_amplitude_pct == dq.pseudofacilitation_amplitude_pct
                    && cq.pseudofacilitation_area_pct == dq.pseudofacilitation_area_pct,
                "[N3][PAD]",
            ),
        ),
        row(
            "Quality",
            "Lowest skin temperature",
            format!("{} °C", num(cq.min_temperature_c)),
            src(cq.min_temperature_c == dq.min_temperature_c, "[N1][N2][MK]"),
        ),
        row(
            "Quality",
            "Latest first train after a brief exercise",
            format!("{} s", num(cq.max_facilitation_delay_s)),
            src(
                cq.max_facilitation_delay_s == dq.max_facilitation_delay_s,
                "[PEF11]",
            ),
        ),
        row(
            "Quality",
            "Response absent below",
            format!("{} × noise", num(cq.min_snr)),
            src(cq.min_snr == dq.min_snr, "project default"),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_values_are_attributed_to_the_lab() {
        let mut c = Criteria::default();
        let rows = criteria_rows(&c);
        assert_eq!(rows[0].source, "[A1][N1][N4]");
        c.decrement.abnormal_pct = 8.0;
        let rows = criteria_rows(&c);
        assert_eq!(rows[0].source, "lab profile");
        assert_eq!(rows[0].value, "> 8 %");
    }

    #[test]
    fn every_pattern_has_words() {
        for p in ["normal", "mg_like", "lems_like", "indeterminate"] {
            assert!(!pattern_gloss(p).is_empty());
            assert_ne!(pattern_name(p), "Unknown");
        }
    }
}
