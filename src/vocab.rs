//! The domain's words as types: train roles and how they were decided, quality
//! flag codes and severities, finding codes, patterns, shapes, polarity, the
//! stimulus source and the CSV layout.
//!
//! Every word has one stable snake_case name, used in the JSON contract, the
//! CSV tables and the sidecar; [`name`](FlagCode::name) gives it,
//! [`from_name`](FlagCode::from_name) reads it back, and serde writes it. Code
//! that decides on a word matches on the enum, so a new variant is a compile
//! error wherever it must be handled (the report's wording, the
//! classification's reliability rules) instead of a silent fall-through.
//!
//! This module is the bottom layer with [`units`](crate::units) and
//! [`error`](crate::error): readers, settings, analysis and renderers all
//! speak it.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Defines a fieldless enum whose variants each have one stable name: the
/// enum, `ALL`, `name()`, `from_name()`, `Display` and `Serialize` (as the
/// name).
macro_rules! words {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable name used in outputs and inputs.
            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The variant with this stable name.
            pub fn from_name(s: &str) -> Option<Self> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }
    };
}

words! {
    /// The role of a stimulus train in a session.
    pub enum TrainRole {
        /// Low-rate train at rest, before any exercise.
        Baseline = "baseline",
        /// Train recorded after a voluntary contraction.
        PostExercise = "post_exercise",
        /// High-frequency stimulation (≥ 10 Hz).
        Hfs = "hfs",
    }
}

impl<'de> Deserialize<'de> for TrainRole {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        TrainRole::from_name(&s).ok_or_else(|| {
            serde::de::Error::unknown_variant(&s, &["baseline", "post_exercise", "hfs"])
        })
    }
}

words! {
    /// How a train's role was decided, strongest first.
    pub enum RoleSource {
        /// The protocol sidecar said so.
        Protocol = "protocol",
        /// An EDF+ annotation marks it.
        Annotation = "annotation",
        /// Its rate is high (≥ 10 Hz): `hfs`.
        Rate = "rate",
        /// Voluntary activity (exercise) was seen before it, or not.
        VoluntaryActivity = "voluntary_activity",
        /// Guessed from the order of trains and the pauses between them.
        OrderAndGaps = "order_and_gaps",
    }
}

words! {
    /// Where the exercise period came from.
    pub enum ExerciseSource {
        /// The protocol sidecar's `[exercise]`.
        Protocol = "protocol",
        /// An EDF+ annotation.
        Annotation = "annotation",
        /// Voluntary EMG found between trains.
        VoluntaryActivity = "voluntary_activity",
    }
}

impl ExerciseSource {
    /// The role source of a train placed by this exercise.
    pub fn role_source(self) -> RoleSource {
        match self {
            ExerciseSource::Protocol => RoleSource::Protocol,
            ExerciseSource::Annotation => RoleSource::Annotation,
            ExerciseSource::VoluntaryActivity => RoleSource::VoluntaryActivity,
        }
    }
}

words! {
    /// How much a quality flag matters.
    pub enum Severity {
        /// It makes the numbers less trustworthy.
        Warning = "warning",
        /// Worth knowing; the numbers stand.
        Info = "info",
    }
}

words! {
    /// A technical quality flag's stable code (primer §5). The user guide's
    /// table and [`analysis::quality`](crate::analysis::quality) describe
    /// the trace each looks for.
    pub enum FlagCode {
        /// Zig-zag amplitudes \[N1\].
        IrregularAmplitudes = "irregular_amplitudes",
        /// Amplitude and area decrement differ by several points \[BC\].
        AmplitudeAreaDisagreement = "amplitude_area_disagreement",
        /// The baseline wanders across a train, or drifts under the onset.
        BaselineInstability = "baseline_instability",
        /// The stimulus artifact had not settled when the response began.
        ArtifactOverlap = "artifact_overlap",
        /// A response touches the amplifier's rails.
        ClippedSignal = "clipped_signal",
        /// Too few responses for a decrement or an increment.
        TooFewResponses = "too_few_responses",
        /// Rest trains' first responses differ, or latency wanders \[MOR\].
        PossibleSubmaximal = "possible_submaximal",
        /// Amplitude up, area flat \[N3\]\[PAD\].
        Pseudofacilitation = "pseudofacilitation",
        /// A response within the noise.
        ResponseAbsent = "response_absent",
        /// "Responses" that are no CMAP.
        ImplausibleResponse = "implausible_response",
        /// The negative phase had not returned to baseline in the window.
        IncompleteResponse = "incomplete_response",
        /// Skin below the minimum temperature \[N1\]\[N2\]\[MK\].
        LowTemperature = "low_temperature",
        /// First post-exercise train too late for facilitation \[PEF11\].
        ExerciseTiming = "exercise_timing",
        /// A response window too short to measure.
        UnmeasurableResponse = "unmeasurable_response",
        /// Epoched sweeps without a stimulation rate.
        RateUnknown = "rate_unknown",
        /// Roles guessed from order and gaps.
        RolesInferred = "roles_inferred",
        /// The sidecar lists a different number of trains.
        ProtocolMismatch = "protocol_mismatch",
        /// Mains hum found and removed.
        MainsHumRemoved = "mains_hum_removed",
        /// The reader recovered a file cut short.
        TruncatedFile = "truncated_file",
        /// The reader chose the file's layout by a rule (CSV sweeps or
        /// continuous by the time span, a long table, a headerless matrix);
        /// the message names the rule and the `--layout` that overrides it.
        LayoutGuessed = "layout_guessed",
        /// A CSV column named like a stimulus (`stimulus_V`, `intensity`) does
        /// not look like a trigger (pulses or steps) and was read as the
        /// stimulus intensity, not as the trigger.
        IntensityColumn = "intensity_column",
        /// The default EMG channel is not the file's first signal: the signals
        /// before it are sampled outside the accepted range (EDF/BDF).
        EmgChannelChosen = "emg_channel_chosen",
        /// A block of `key,value` lines above a CSV table was set aside as
        /// metadata; the message says what it declared and what was used.
        HeaderBlock = "header_block",
        /// An initial positive deflection precedes the negative phase.
        InitialPositiveDeflection = "initial_positive_deflection",
        /// A later wave (H-reflex, F-wave) is larger than the M-wave.
        LateWave = "late_wave",
        /// The responses are of a size no CMAP has: the scale is wrong.
        ScaleSuspect = "scale_suspect",
        /// An integer WAV was read with the default full scale (±1 mV): no
        /// flag or sidecar gave it, so amplitudes are in units of full scale.
        FullScaleDefault = "full_scale_default",
        /// A CSV's values were read as millivolts because neither the column
        /// names, a header block, `--unit` nor the sidecar named their unit.
        UnitAssumed = "unit_assumed",
        /// A text export's sweeps were read with the stimulus at their first
        /// sample: neither the export nor the sidecar gives a pre-stimulus
        /// time (`[text] pre_stimulus_ms`).
        StimulusAtSweepStart = "stimulus_at_sweep_start",
    }
}

impl FlagCode {
    /// Whether the flag corrupts a train's first response, and so any
    /// increment computed from it (the post-exercise comparison).
    pub fn corrupts_first_response(self) -> bool {
        use FlagCode::*;
        match self {
            ArtifactOverlap | ClippedSignal | ResponseAbsent | ImplausibleResponse
            | BaselineInstability | UnmeasurableResponse | LateWave | ScaleSuspect => true,
            IrregularAmplitudes
            | AmplitudeAreaDisagreement
            | TooFewResponses
            | PossibleSubmaximal
            | Pseudofacilitation
            | IncompleteResponse
            | LowTemperature
            | ExerciseTiming
            | RateUnknown
            | RolesInferred
            | ProtocolMismatch
            | MainsHumRemoved
            | TruncatedFile
            | LayoutGuessed
            | IntensityColumn
            | EmgChannelChosen
            | HeaderBlock
            | InitialPositiveDeflection
            | FullScaleDefault
            | UnitAssumed
            | StimulusAtSweepStart => false,
        }
    }

    /// Whether the flag makes a train's numbers untrustworthy for
    /// interpretation: those that corrupt a first response, plus the two
    /// that describe a train's profile (a zig-zag, amplitude and area that
    /// disagree).
    pub fn makes_train_unreliable(self) -> bool {
        self.corrupts_first_response()
            || matches!(
                self,
                FlagCode::IrregularAmplitudes | FlagCode::AmplitudeAreaDisagreement
            )
    }
}

words! {
    /// How a WAV encodes its samples.
    pub enum SampleEncoding {
        /// Integer PCM: fractions of full scale.
        Integer = "integer",
        /// IEEE float: values taken as they are.
        Float = "float",
    }
}

words! {
    /// A finding behind the classification: its stable code.
    pub enum FindingCode {
        /// Baseline CMAP below the muscle's lower normal limit \[M98\]\[CJ\].
        LowBaselineCmap = "low_baseline_cmap",
        /// Baseline CMAP at or above the lower normal limit.
        NormalBaselineCmap = "normal_baseline_cmap",
        /// Baseline CMAP not checked: no normal range for the muscle given.
        BaselineCmapNotChecked = "baseline_cmap_not_checked",
        /// Increment at the LEMS level \[O5\]\[L20\].
        LemsLevelIncrement = "lems_level_increment",
        /// Amplitude up without area: not facilitation \[N3\]\[PAD\].
        Pseudofacilitation = "pseudofacilitation",
        /// Increment above normal, below the LEMS level.
        BorderlineIncrement = "borderline_increment",
        /// Increment within normal limits \[N3\].
        NormalIncrement = "normal_increment",
        /// Post-exercise increment between the triage limits \[PEF11\].
        TriageInconclusive = "triage_inconclusive",
        /// A train set aside for its quality flags.
        TechnicallyUnreliableTrain = "technically_unreliable_train",
        /// A post-exercise train not comparable with the baseline, set aside.
        PostExerciseSetAside = "post_exercise_set_aside",
        /// Decrement smaller right after exercise \[N4\].
        Repair = "repair",
        /// Decrement larger 1–4 min after exercise \[N4\].
        Exhaustion = "exhaustion",
        /// Cool limb: a decrement may be masked.
        LowTemperature = "low_temperature",
        /// Decrement above the abnormal limit \[A1\]\[N1\]\[N4\].
        AbnormalDecrement = "abnormal_decrement",
        /// No low-rate train could be used.
        NoReliableDecrement = "no_reliable_decrement",
        /// The decrement keeps growing to the end of the train \[S14\].
        ProgressiveDecrement = "progressive_decrement",
        /// Low CMAP with decrement but no facilitation data.
        FacilitationNotTested = "facilitation_not_tested",
        /// Decrement in the equivocal band \[FC1\].
        EquivocalDecrement = "equivocal_decrement",
        /// Decrement within normal limits.
        NormalDecrement = "normal_decrement",
        /// Low CMAP without a junction pattern.
        LowCmapWithoutNmjPattern = "low_cmap_without_nmj_pattern",
    }
}

words! {
    /// The pattern a recording shows (primer §4): a pattern, never a
    /// diagnosis.
    pub enum Pattern {
        /// No abnormal decrement or increment.
        Normal = "normal",
        /// Post-synaptic (myasthenia-gravis-like).
        MgLike = "mg_like",
        /// Pre-synaptic (Lambert-Eaton-like).
        LemsLike = "lems_like",
        /// No single pattern, or too little measured reliably.
        Indeterminate = "indeterminate",
    }
}

words! {
    /// The shape of a train's amplitude profile.
    pub enum Shape {
        /// No decrement or increment beyond the equivocal level.
        Flat = "flat",
        /// Largest fall early (nadir at 4–5), level or partial recovery after (MG).
        UShaped = "u_shaped",
        /// Decline continuing to the end of the train.
        Progressive = "progressive",
        /// Zig-zag: several direction reversals (movement, electrode artifact).
        Irregular = "irregular",
        /// Amplitudes rise through the train (facilitation or pseudofacilitation).
        Incrementing = "incrementing",
    }
}

impl Shape {
    /// The shape in plain words, as messages and renderings print it
    /// (`U-shaped`, never `u_shaped`).
    pub fn words(self) -> &'static str {
        match self {
            Shape::UShaped => "U-shaped",
            Shape::Progressive => "progressive",
            Shape::Flat => "flat",
            Shape::Irregular => "irregular",
            Shape::Incrementing => "incrementing",
        }
    }
}

words! {
    /// How the stimuli were found.
    pub enum StimulusSource {
        /// Steep artifact slopes in the EMG.
        ArtifactSlope = "artifact_slope",
        /// Rising edges of a trigger channel.
        TriggerChannel = "trigger_channel",
        /// Time 0 of epoched sweeps.
        Sweeps = "sweeps",
        /// Annotations in the file.
        Annotations = "annotations",
        /// An event or marker channel of the file.
        Events = "events",
    }
}

words! {
    /// Which way the CMAP's main (negative) phase points in the file, as
    /// measured.
    pub enum Polarity {
        /// Electrically negative: the standard.
        Negative = "negative",
        /// Stored as positive values: an inverted file.
        Positive = "positive",
    }
}

impl Polarity {
    /// The factor that turns the file's samples into oriented ones (main
    /// phase positive): −1 for `negative`, +1 for `positive`.
    pub fn sign(self) -> f64 {
        match self {
            Polarity::Negative => -1.0,
            Polarity::Positive => 1.0,
        }
    }
}

words! {
    /// Who decided the polarity.
    pub enum PolaritySource {
        /// The analysis, by vote over the responses.
        Auto = "auto",
        /// The user (`--polarity` or the sidecar).
        User = "user",
    }
}

words! {
    /// Which phase of the CMAP is measured: the user's choice.
    #[derive(Default)]
    pub enum PolarityChoice {
        /// Decide from the responses (the first large phase is the negative peak).
        #[default]
        Auto = "auto",
        /// Standard: the main (negative) phase is electrically negative in the file.
        Negative = "negative",
        /// Inverted file: the main phase is stored as positive values.
        Positive = "positive",
    }
}

impl PolarityChoice {
    /// Parse `auto`, `negative` (`neg`) or `positive` (`pos`, `inverted`),
    /// ignoring case.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Some(Self::Auto),
            "negative" | "neg" => Some(Self::Negative),
            "positive" | "pos" | "inverted" => Some(Self::Positive),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for PolarityChoice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        PolarityChoice::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "polarity must be \"auto\", \"negative\" or \"positive\", got {s:?}"
            ))
        })
    }
}

words! {
    /// How a CSV lays out its samples.
    #[derive(Default)]
    pub enum CsvLayout {
        /// Decide from the header and the time column.
        #[default]
        Auto = "auto",
        /// One row per sample.
        Continuous = "continuous",
        /// First column time after stimulus, then one column per response.
        Sweeps = "sweeps",
    }
}

impl<'de> Deserialize<'de> for CsvLayout {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        CsvLayout::from_name(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "layout must be \"sweeps\", \"continuous\" or \"auto\", got {s:?}"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_serialise_as_themselves() {
        fn check<T: Copy + PartialEq + fmt::Debug + Serialize>(
            all: &[T],
            name: fn(T) -> &'static str,
            from: fn(&str) -> Option<T>,
        ) {
            let mut seen = std::collections::HashSet::new();
            for &v in all {
                assert_eq!(from(name(v)), Some(v));
                assert!(seen.insert(name(v)), "duplicate name {}", name(v));
                let json = serde_json::to_string(&v).unwrap();
                assert_eq!(json, format!("\"{}\"", name(v)));
                assert!(name(v)
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit()));
            }
        }
        check(TrainRole::ALL, TrainRole::name, TrainRole::from_name);
        check(RoleSource::ALL, RoleSource::name, RoleSource::from_name);
        check(
            ExerciseSource::ALL,
            ExerciseSource::name,
            ExerciseSource::from_name,
        );
        check(Severity::ALL, Severity::name, Severity::from_name);
        check(FlagCode::ALL, FlagCode::name, FlagCode::from_name);
        check(FindingCode::ALL, FindingCode::name, FindingCode::from_name);
        check(Pattern::ALL, Pattern::name, Pattern::from_name);
        check(Shape::ALL, Shape::name, Shape::from_name);
        check(
            StimulusSource::ALL,
            StimulusSource::name,
            StimulusSource::from_name,
        );
        check(Polarity::ALL, Polarity::name, Polarity::from_name);
        check(
            PolaritySource::ALL,
            PolaritySource::name,
            PolaritySource::from_name,
        );
        check(
            PolarityChoice::ALL,
            PolarityChoice::name,
            PolarityChoice::from_name,
        );
        check(CsvLayout::ALL, CsvLayout::name, CsvLayout::from_name);
    }

    #[test]
    fn unreliable_flags_are_the_documented_sets() {
        let first: Vec<&str> = FlagCode::ALL
            .iter()
            .filter(|c| c.corrupts_first_response())
            .map(|c| c.name())
            .collect();
        assert_eq!(
            first,
            [
                "baseline_instability",
                "artifact_overlap",
                "clipped_signal",
                "response_absent",
                "implausible_response",
                "unmeasurable_response",
                "late_wave",
                "scale_suspect"
            ]
        );
        let train: Vec<&str> = FlagCode::ALL
            .iter()
            .filter(|c| c.makes_train_unreliable())
            .map(|c| c.name())
            .collect();
        assert_eq!(
            train,
            [
                "irregular_amplitudes",
                "amplitude_area_disagreement",
                "baseline_instability",
                "artifact_overlap",
                "clipped_signal",
                "response_absent",
                "implausible_response",
                "unmeasurable_response",
                "late_wave",
                "scale_suspect"
            ]
        );
    }

    #[test]
    fn sidecar_words_parse_with_their_messages() {
        #[derive(Deserialize)]
        struct T {
            layout: Option<CsvLayout>,
            polarity: Option<PolarityChoice>,
            role: Option<TrainRole>,
        }
        let t: T =
            toml::from_str("layout = \"sweeps\"\npolarity = \"Inverted\"\nrole = \"hfs\"").unwrap();
        assert_eq!(t.layout, Some(CsvLayout::Sweeps));
        assert_eq!(t.polarity, Some(PolarityChoice::Positive));
        assert_eq!(t.role, Some(TrainRole::Hfs));
        let e = toml::from_str::<T>("layout = \"rows\"").err().unwrap();
        assert!(e.to_string().contains("layout must be"), "{e}");
        let e = toml::from_str::<T>("polarity = \"up\"").err().unwrap();
        assert!(e.to_string().contains("polarity must be"), "{e}");
    }
}
