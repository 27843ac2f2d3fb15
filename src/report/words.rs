//! The report's fixed wording: patterns, quality flags and criteria in plain
//! language, with the primer's source tags.

pub use crate::output::words::{
    count, delay_words, findings_by_importance, limb_was_cool, role_source_words, role_words,
    shape_words, stimulus_source_words, train_label,
};
use crate::settings::criteria::Criteria;
use crate::vocab::{ExerciseSource, FlagCode, Pattern, Severity};

/// Display name of a pattern.
pub fn pattern_name(p: Pattern) -> &'static str {
    match p {
        Pattern::Normal => "Normal",
        Pattern::MgLike => "MG-like",
        Pattern::LemsLike => "LEMS-like",
        Pattern::Indeterminate => "Indeterminate",
    }
}

/// One sentence on what a pattern means (a pattern, never a diagnosis).
pub fn pattern_gloss(p: Pattern) -> &'static str {
    match p {
        Pattern::Normal => "No abnormal decrement and no abnormal increment by the criteria used.",
        Pattern::MgLike => {
            "Post-synaptic pattern, as seen in myasthenia gravis: abnormal decrement at low \
             rate without LEMS-level facilitation."
        }
        Pattern::LemsLike => {
            "Pre-synaptic pattern, as seen in Lambert–Eaton myasthenic syndrome: LEMS-level \
             facilitation in both amplitude and area."
        }
        Pattern::Indeterminate => {
            "The findings fit no single pattern, or too little could be measured reliably; \
             the findings below give the reason."
        }
    }
}

/// Where the exercise period came from, in words.
pub fn exercise_source_words(s: ExerciseSource) -> &'static str {
    match s {
        ExerciseSource::Protocol => "from the protocol sidecar",
        ExerciseSource::Annotation => "annotation",
        ExerciseSource::VoluntaryActivity => "detected from voluntary activity",
    }
}

/// A flag's severity as the report labels it.
pub fn severity_words(s: Severity) -> &'static str {
    match s {
        Severity::Warning => "Warning",
        Severity::Info => "Note",
    }
}

/// What a quality flag means for the reader, by code.
pub fn quality_meaning(code: FlagCode) -> &'static str {
    use FlagCode::*;
    match code {
        IrregularAmplitudes => {
            "Amplitudes zig-zag instead of declining smoothly: movement or electrode artifact is \
             likely [N1]. The train is not used for the pattern."
        }
        AmplitudeAreaDisagreement => {
            "Amplitude and area decrement differ by several points, which suggests a technical \
             cause [BC]. The train is not used for the pattern."
        }
        BaselineInstability => {
            "The baseline moved during the train (movement, electrode shift, drift or an \
             artifact tail under the onset). The train is not used for the pattern."
        }
        ArtifactOverlap => {
            "The stimulus artifact had not settled when the response began; onset and amplitude \
             are unreliable. The train is not used for the pattern."
        }
        ClippedSignal => {
            "Responses reached the amplifier's limits, so amplitudes are underestimated. The \
             train is not used for the pattern."
        }
        TooFewResponses => {
            "Too few responses for the standard decrement (1st vs 4th or 5th response)."
        }
        PossibleSubmaximal => {
            "Onset latency or first-response amplitude varies: stimulation may have been \
             submaximal, or the electrode moved [MOR]."
        }
        Pseudofacilitation => {
            "Amplitude rose while the area stayed flat: better synchrony of the fibres, not true \
             facilitation [N3][PAD]."
        }
        ResponseAbsent => "A response is lost in the noise. The train is not used for the pattern.",
        IncompleteResponse => {
            "The negative phase had not returned to the baseline before the window ended; area \
             and duration are truncated."
        }
        LowTemperature => {
            "Skin temperature below the minimum: cooling improves transmission and can hide a \
             decrement [N1][N2][MK]."
        }
        ExerciseTiming => {
            "The first train after exercise came late; facilitation may already have faded \
             [PEF11]."
        }
        UnmeasurableResponse => {
            "A response window was too short to measure (next stimulus or end of recording too \
             close). The train is not used for the pattern."
        }
        RateUnknown => {
            "Sweeps without a stimulation rate: trains cannot be classed as high-rate and carry \
             no times."
        }
        RolesInferred => {
            "No exercise was seen or declared; the after-exercise train was inferred from a \
             pause of 8 s or more."
        }
        ProtocolMismatch => {
            "The protocol sidecar lists a different number of trains than were found; check the \
             train roles."
        }
        MainsHumRemoved => "Mains hum was found and subtracted before measuring.",
        ImplausibleResponse => {
            "What was measured does not behave like a muscle response (too brief, or its \
             latency jumps by more than a CMAP's does): noise, spikes or a different wave. \
             The train is not used for the pattern."
        }
        InitialPositiveDeflection => {
            "The negative phase is preceded by a positive deflection: the active electrode is \
             probably off the motor point. Baseline and onset are taken before the deflection; \
             moving the electrode to where the response starts negative gives the standard \
             measurement."
        }
        LateWave => {
            "A later wave (an H-reflex or F-wave) is larger than the M-wave. Only the M-wave \
             is measured; at supramaximal stimulation it dominates, so check the stimulus \
             intensity. When most responses show it, what was measured may be an early bump \
             before the real response, and the train is not interpreted."
        }
        ScaleSuspect => {
            "The responses are of a size no CMAP has (over 50 mV or under 20 µV by default): the \
             values were probably read at the wrong scale, e.g. an integer WAV's full scale or \
             microvolts read as millivolts. The train is not interpreted; fix the scale and \
             analyse again."
        }
        FullScaleDefault => {
            "An integer WAV stores fractions of its full scale; nothing said how many \
             millivolts full scale stands for, so the default (1 mV) was used and every \
             amplitude is in units of full scale. Decrements and increments are ratios and \
             hold; the CMAP's size is not checked against a normal range. Give \
             --full-scale-mv (or full_scale_mv in the sidecar) and analyse again."
        }
        UnitAssumed => {
            "The file names no unit for its values, so they were read as millivolts. If they \
             are microvolts, every amplitude is a thousand times too large; give --unit (or \
             unit in the sidecar)."
        }
        StimulusAtSweepStart => {
            "The export does not say how much of each sweep precedes the stimulus, so the \
             stimulus was taken at each sweep's first sample. If the sweeps hold a pre-stimulus \
             baseline, latencies are too long by that much; give pre_stimulus_ms in the \
             sidecar's [text] table."
        }
        TruncatedFile => {
            "The file ends early: it was read up to its last whole sample, so the last train \
             may be incomplete."
        }
        LayoutGuessed => {
            "The file's layout (sweeps or one continuous recording, a long table, a matrix \
             without header) was decided by a rule; if it was read wrongly, give --layout."
        }
        IntensityColumn => {
            "A column named like a stimulus holds the stimulus intensity, not trigger pulses, \
             so it was not used to find the stimuli."
        }
        EmgChannelChosen => {
            "The EMG channel is not the file's first signal: the signals before it are sampled \
             too slowly (or too fast) to analyse."
        }
        HeaderBlock => {
            "Lines of key and value above the table were kept as the file's metadata, not read \
             as data; a sample rate or unit they declare is used only when the table gives none."
        }
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
        row(
            "Quality",
            "Scale suspect: largest response outside",
            format!("{}–{} mV", num(cq.min_cmap_mv), num(cq.max_cmap_mv)),
            src(
                cq.min_cmap_mv == dq.min_cmap_mv && cq.max_cmap_mv == dq.max_cmap_mv,
                "project default",
            ),
        ),
        row(
            "Quality",
            "Scale suspect, mouse or rat: largest response above",
            format!("{} mV", num(cq.rodent_max_cmap_mv)),
            src(
                cq.rodent_max_cmap_mv == dq.rodent_max_cmap_mv,
                "project default",
            ),
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
        for &p in Pattern::ALL {
            assert!(!pattern_gloss(p).is_empty());
            assert!(!pattern_name(p).is_empty());
        }
    }

    #[test]
    fn every_flag_has_a_meaning() {
        for &c in FlagCode::ALL {
            assert!(quality_meaning(c).len() > 40, "{c}");
        }
    }
}
