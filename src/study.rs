//! The study and the patient: who was examined, when, on which side and
//! muscle, by whom, and what was asked.
//!
//! Overview: a [`Study`] is a set of optional identity fields. They come,
//! field by field, from the command line (`--patient-id`, …), the sidecar's
//! `[study]` table and the recording's own header (EDF/EDF+ patient and
//! recording fields, start date), in that order of precedence
//! ([`Study::or`]). None of them is interpreted: they are carried into every
//! output (the JSON `study` object, the text header, the report's header and
//! running header) so that a printed report can go into a chart. Personal data
//! never becomes part of an output file name.
//!
//! Dates are ISO 8601 calendar dates (`2026-12-03`), checked to exist. The
//! sex and side are words of their own ([`Sex`], [`Side`]).

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// The identity of a study; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Study {
    /// Patient identifier (medical record number, study code).
    pub patient_id: Option<String>,
    /// Patient name, as it is to appear on the report.
    pub patient_name: Option<String>,
    /// Birth date, ISO 8601 (`1961-05-02`).
    pub birth_date: Option<IsoDate>,
    /// Sex as recorded.
    pub sex: Option<Sex>,
    /// Date of the study, ISO 8601.
    pub study_date: Option<IsoDate>,
    /// Start time of the recording, `hh:mm:ss`, when the file gives it.
    pub study_time: Option<String>,
    /// Side examined.
    pub side: Option<Side>,
    /// The species examined: sets the sizes a CMAP can have (`scale_suspect`).
    pub species: Option<Species>,
    /// Muscle recorded (also the sidecar's top-level `muscle`).
    pub muscle: Option<String>,
    /// Nerve stimulated (also the sidecar's top-level `nerve`).
    pub nerve: Option<String>,
    /// Where the nerve was stimulated (`wrist`, `Erb's point`, …).
    pub stimulation_site: Option<String>,
    /// Who recorded the study.
    pub operator: Option<String>,
    /// Referring physician.
    pub referring_physician: Option<String>,
    /// The clinical question the study answers.
    pub clinical_question: Option<String>,
    /// The technician's comments.
    pub comments: Option<String>,
    /// The physician's impression (written by a person; never generated).
    pub impression: Option<String>,
}

/// The longest text a study field holds, in characters: a field is a line
/// on a report, not a document.
pub const MAX_FIELD_CHARS: usize = 2000;

impl Study {
    /// Each field of `self`, or `other`'s where `self` has none.
    pub fn or(self, other: Study) -> Study {
        Study {
            patient_id: self.patient_id.or(other.patient_id),
            patient_name: self.patient_name.or(other.patient_name),
            birth_date: self.birth_date.or(other.birth_date),
            sex: self.sex.or(other.sex),
            study_date: self.study_date.or(other.study_date),
            study_time: self.study_time.or(other.study_time),
            side: self.side.or(other.side),
            species: self.species.or(other.species),
            muscle: self.muscle.or(other.muscle),
            nerve: self.nerve.or(other.nerve),
            stimulation_site: self.stimulation_site.or(other.stimulation_site),
            operator: self.operator.or(other.operator),
            referring_physician: self.referring_physician.or(other.referring_physician),
            clinical_question: self.clinical_question.or(other.clinical_question),
            comments: self.comments.or(other.comments),
            impression: self.impression.or(other.impression),
        }
    }

    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        *self == Study::default()
    }

    /// The text fields with their keys, in report order (dates, sex and
    /// side included as words); only those set.
    pub fn rows(&self) -> Vec<(&'static str, String)> {
        let mut v: Vec<(&'static str, String)> = Vec::new();
        let mut push = |k: &'static str, s: Option<String>| {
            if let Some(s) = s {
                v.push((k, s));
            }
        };
        push("patient_id", self.patient_id.clone());
        push("patient_name", self.patient_name.clone());
        push("birth_date", self.birth_date.map(|d| d.to_string()));
        push("sex", self.sex.map(|s| s.name().to_string()));
        push("study_date", self.study_date.map(|d| d.to_string()));
        push("study_time", self.study_time.clone());
        push("side", self.side.map(|s| s.name().to_string()));
        push("species", self.species.map(|s| s.name().to_string()));
        push("muscle", self.muscle.clone());
        push("nerve", self.nerve.clone());
        push("stimulation_site", self.stimulation_site.clone());
        push("operator", self.operator.clone());
        push("referring_physician", self.referring_physician.clone());
        push("clinical_question", self.clinical_question.clone());
        push("comments", self.comments.clone());
        push("impression", self.impression.clone());
        v
    }

    /// Check the free-text fields: none longer than [`MAX_FIELD_CHARS`],
    /// none empty. The error names the field.
    pub fn validate(&self) -> Result<(), String> {
        for (key, value) in self.rows() {
            if value.trim().is_empty() {
                return Err(format!("{key} is empty (leave it out instead)"));
            }
            let n = value.chars().count();
            if n > MAX_FIELD_CHARS {
                return Err(format!(
                    "{key} is {n} characters long, more than the {MAX_FIELD_CHARS} a report line holds"
                ));
            }
        }
        Ok(())
    }
}

/// The words a field's key stands for on a report (`patient_id` → "Patient ID").
pub fn field_label(key: &str) -> &'static str {
    match key {
        "patient_id" => "Patient ID",
        "patient_name" => "Name",
        "birth_date" => "Born",
        "sex" => "Sex",
        "study_date" => "Study date",
        "study_time" => "Time",
        "side" => "Side",
        "species" => "Species",
        "muscle" => "Muscle",
        "nerve" => "Nerve",
        "stimulation_site" => "Stimulation site",
        "operator" => "Operator",
        "referring_physician" => "Referring physician",
        "clinical_question" => "Clinical question",
        "comments" => "Technician's comments",
        "impression" => "Physician's impression",
        _ => "",
    }
}

/// A calendar date that exists (`2026-02-29` does not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct IsoDate {
    /// Year, 1800–9999.
    pub year: u16,
    /// Month, 1–12.
    pub month: u8,
    /// Day of the month, from 1.
    pub day: u8,
}

impl IsoDate {
    /// A date from its parts, if it exists (years 1800–9999).
    pub fn new(year: u16, month: u8, day: u8) -> Option<Self> {
        let leap =
            (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        ((1800..=9999).contains(&year) && (1..=days).contains(&day)).then_some(IsoDate {
            year,
            month,
            day,
        })
    }

    /// Parse `YYYY-MM-DD`; the error says what is expected.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a date: write it as YYYY-MM-DD, e.g. 2026-12-03");
        let b = s.trim().as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(bad());
        }
        let num = |r: std::ops::Range<usize>| -> Result<u16, String> {
            let t = &s.trim()[r];
            if t.bytes().all(|c| c.is_ascii_digit()) {
                t.parse().map_err(|_| bad())
            } else {
                Err(bad())
            }
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        IsoDate::new(y, m as u8, d as u8).ok_or_else(|| format!("{s:?} is not a date that exists"))
    }

    /// An EDF start date, `dd.mm.yy`: years 85–99 are 1985–1999, 00–84
    /// 2000–2084 (the EDF specification's clipping date).
    pub fn from_edf(s: &str) -> Option<Self> {
        let parts: Vec<&str> = s.trim().split('.').collect();
        let [d, m, y] = parts.as_slice() else {
            return None;
        };
        let n = |t: &str| {
            (t.len() == 2 && t.bytes().all(|c| c.is_ascii_digit()))
                .then(|| t.parse::<u16>().ok())
                .flatten()
        };
        let (d, m, y) = (n(d)?, n(m)?, n(y)?);
        let year = if y >= 85 { 1900 + y } else { 2000 + y };
        IsoDate::new(year, m as u8, d as u8)
    }

    /// An EDF+ date, `02-MAY-1951`.
    pub fn from_edf_plus(s: &str) -> Option<Self> {
        let parts: Vec<&str> = s.trim().split('-').collect();
        let [d, m, y] = parts.as_slice() else {
            return None;
        };
        const MONTHS: [&str; 12] = [
            "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
        ];
        let month = MONTHS.iter().position(|x| x.eq_ignore_ascii_case(m))? as u8 + 1;
        if y.len() != 4 || d.len() != 2 {
            return None;
        }
        IsoDate::new(y.parse().ok()?, month, d.parse().ok()?)
    }
}

impl fmt::Display for IsoDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for IsoDate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IsoDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // TOML dates (`study_date = 2026-12-03`, unquoted) arrive as a
        // datetime whose text is the same date.
        let v = toml::Value::deserialize(d)?;
        let text = match &v {
            toml::Value::String(s) => s.clone(),
            toml::Value::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => dt.to_string(),
            _ => return Err(de::Error::custom("a date is written YYYY-MM-DD")),
        };
        IsoDate::parse(&text).map_err(de::Error::custom)
    }
}

macro_rules! spelled {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vm:meta])* $v:ident = $text:literal [$($alias:literal),*], )+ }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $( $(#[$vm])* $v, )+ }

        impl $name {
            /// The word used in outputs.
            pub fn name(self) -> &'static str {
                match self { $($name::$v => $text,)+ }
            }

            /// The variant a spelling names (case-insensitive; its
            /// abbreviations too).
            pub fn parse(s: &str) -> Option<Self> {
                let l = s.trim().to_ascii_lowercase();
                $( if l == $text $(|| l == $alias)* { return Some($name::$v); } )+
                None
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $name::parse(&s).ok_or_else(|| {
                    de::Error::custom(format!(
                        "{s:?} is not one of: {}",
                        [$($text),+].join(", ")
                    ))
                })
            }
        }
    };
}

spelled! {
    /// Sex as recorded (EDF+ writes `F`, `M` or `X`).
    pub enum Sex {
        /// Female.
        Female = "female" ["f"],
        /// Male.
        Male = "male" ["m"],
        /// Not recorded, or neither.
        Unspecified = "unspecified" ["x", "u", "unknown", "other"],
    }
}

spelled! {
    /// The side examined.
    pub enum Side {
        /// Left.
        Left = "left" ["l"],
        /// Right.
        Right = "right" ["r"],
        /// Both sides (a study of several muscles).
        Both = "both" ["bilateral", "b"],
    }
}

spelled! {
    /// The species examined.
    pub enum Species {
        /// Human (the default when none is given).
        Human = "human" [],
        /// Mouse.
        Mouse = "mouse" [],
        /// Rat.
        Rat = "rat" [],
    }
}

impl Species {
    /// Whether the limits of rodent preparations apply.
    pub fn is_rodent(self) -> bool {
        matches!(self, Species::Mouse | Species::Rat)
    }
}

/// The study fields an EDF/EDF+ header gives: the start date and time, and
/// for EDF+ the patient field (`code sex birthdate name`, `X` for unknown,
/// `_` for spaces) and the recording field's technician. A plain EDF's
/// patient field is free text, kept as the patient ID.
pub fn from_edf_header(
    patient: &str,
    recording: &str,
    start_date: &str,
    start_time: &str,
    plus: bool,
) -> Study {
    let text = |s: &str| {
        let s = s.replace('_', " ");
        let s = s.trim();
        (!s.is_empty() && s != "X").then(|| s.to_string())
    };
    let mut study = Study {
        study_date: IsoDate::from_edf(start_date),
        study_time: edf_time(start_time),
        ..Study::default()
    };
    if !plus {
        study.patient_id = text(patient).filter(|s| s != "X X X X");
        return study;
    }
    let p: Vec<&str> = patient.split_whitespace().collect();
    study.patient_id = p.first().and_then(|s| text(s));
    study.sex = p.get(1).and_then(|s| match *s {
        "F" => Some(Sex::Female),
        "M" => Some(Sex::Male),
        _ => None,
    });
    study.birth_date = p.get(2).and_then(|s| IsoDate::from_edf_plus(s));
    study.patient_name = p.get(3).and_then(|s| text(s));
    // `Startdate 02-MAR-2002 admincode technician equipment`.
    let r: Vec<&str> = recording.split_whitespace().collect();
    if r.first() == Some(&"Startdate") {
        if let Some(d) = r.get(1).and_then(|s| IsoDate::from_edf_plus(s)) {
            study.study_date = Some(d);
        }
        study.operator = r.get(3).and_then(|s| text(s));
    }
    study
}

/// `hh.mm.ss` as `hh:mm:ss`, when it is a time of day.
fn edf_time(s: &str) -> Option<String> {
    let parts: Vec<u8> = s
        .trim()
        .split('.')
        .map(|t| (t.len() == 2).then(|| t.parse::<u8>().ok()).flatten())
        .collect::<Option<Vec<u8>>>()?;
    match parts.as_slice() {
        [h, m, sec] if *h < 24 && *m < 60 && *sec < 60 => Some(format!("{h:02}:{m:02}:{sec:02}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_checked_to_exist() {
        assert_eq!(
            IsoDate::parse("2026-12-03").unwrap().to_string(),
            "2026-12-03"
        );
        assert!(IsoDate::parse("2024-02-29").is_ok());
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-1-3",
            "03.12.2026",
            "",
            "2026-12-3x",
        ] {
            assert!(IsoDate::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(IsoDate::from_edf("03.12.26"), IsoDate::new(2026, 12, 3));
        assert_eq!(IsoDate::from_edf("01.01.85"), IsoDate::new(1985, 1, 1));
        assert_eq!(IsoDate::from_edf("31.02.26"), None);
        assert_eq!(
            IsoDate::from_edf_plus("02-MAY-1951"),
            IsoDate::new(1951, 5, 2)
        );
        assert_eq!(IsoDate::from_edf_plus("02-XXX-1951"), None);
    }

    #[test]
    fn edf_plus_fields_are_read_and_plain_edf_kept_as_text() {
        let s = from_edf_header(
            "MCH-0234567 F 02-MAY-1951 Haagse_Harry",
            "Startdate 02-MAR-2002 EMG561 BK/JOP Sony",
            "02.03.02",
            "10.05.30",
            true,
        );
        assert_eq!(s.patient_id.as_deref(), Some("MCH-0234567"));
        assert_eq!(s.sex, Some(Sex::Female));
        assert_eq!(s.birth_date, IsoDate::new(1951, 5, 2));
        assert_eq!(s.patient_name.as_deref(), Some("Haagse Harry"));
        assert_eq!(s.study_date, IsoDate::new(2002, 3, 2));
        assert_eq!(s.study_time.as_deref(), Some("10:05:30"));
        assert_eq!(s.operator.as_deref(), Some("BK/JOP"));
        let unknown = from_edf_header("X X X X", "Startdate X X X X", "01.01.24", "00.00.00", true);
        assert_eq!(unknown.patient_id, None);
        assert_eq!(unknown.patient_name, None);
        assert_eq!(unknown.sex, None);
        let plain = from_edf_header("anon 42", "", "01.01.24", "25.00.00", false);
        assert_eq!(plain.patient_id.as_deref(), Some("anon 42"));
        assert_eq!(plain.study_time, None);
    }

    #[test]
    fn fields_merge_in_order_and_are_checked() {
        let flags = Study {
            patient_id: Some("A".into()),
            ..Study::default()
        };
        let sidecar = Study {
            patient_id: Some("B".into()),
            side: Some(Side::Left),
            ..Study::default()
        };
        let m = flags.or(sidecar);
        assert_eq!(m.patient_id.as_deref(), Some("A"));
        assert_eq!(m.side, Some(Side::Left));
        assert_eq!(Sex::parse("F"), Some(Sex::Female));
        assert_eq!(Side::parse("Bilateral"), Some(Side::Both));
        let long = Study {
            comments: Some("x".repeat(MAX_FIELD_CHARS + 1)),
            ..Study::default()
        };
        assert!(long.validate().unwrap_err().contains("comments"));
        let empty = Study {
            operator: Some(" ".into()),
            ..Study::default()
        };
        assert!(empty.validate().unwrap_err().contains("operator"));
        let t: Study =
            toml::from_str("study_date = 2026-12-03\nbirth_date = \"1961-05-02\"\nsex = \"M\"")
                .unwrap();
        assert_eq!(t.study_date, IsoDate::new(2026, 12, 3));
        assert_eq!(t.birth_date, IsoDate::new(1961, 5, 2));
        assert!(toml::from_str::<Study>("study_date = 2026-02-30").is_err());
        assert!(toml::from_str::<Study>("sex = \"q\"").is_err());
        assert!(toml::from_str::<Study>("patient = \"q\"").is_err());
    }
}
