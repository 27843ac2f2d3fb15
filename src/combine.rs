//! A study of several files: `rns study`.
//!
//! Overview: many EMG machines export one file per train, or one per
//! muscle. A [`Manifest`] (a TOML file, or a folder read as one) names the
//! files with their muscle, side, start time and train roles; [`groups`]
//! gathers them per muscle and side; [`merge`] joins the files of one muscle
//! into one [`Recording`] whose segments keep each file's time, so the
//! analysis sees one session (rest, exercise, post-exercise trains); and
//! [`StudySummary`] holds the pattern of each muscle and the study's
//! summary of them, rendered as `study.json` and `study.html`. The pattern
//! is decided per muscle, never across muscles.
//!
//! ```toml
//! [study]                          # shared by every muscle
//! patient_id = "MRN-0042"
//! study_date = 2026-12-03
//!
//! [[recordings]]
//! file = "adm_rest.wav"            # relative to the manifest
//! muscle = "ADM"
//! side = "right"
//! time_s = 0                       # start of the file in the session, s
//! trains = [{ role = "baseline" }]
//!
//! [[recordings]]
//! file = "adm_post.wav"
//! muscle = "ADM"
//! side = "right"
//! time_s = 70
//! trains = [{ role = "post_exercise", delay_after_exercise_s = 2 }]
//! ```

use crate::analysis::Analysis;
use crate::error::{Error, Result};
use crate::recording::{KnownStimuli, Recording, Segment, SourceFormat};
use crate::settings::protocol::TrainSpec;
use crate::study::{Side, Study};
use crate::units::Shown;
use crate::vocab::{Pattern, Severity};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The most files a study manifest may name.
pub const MAX_FILES: usize = 500;

/// Gap put between two files of one muscle whose start times are not
/// given, s: longer than the pause (8 s) after which a train is taken for a
/// new one, so each file stays its own train.
pub const DEFAULT_GAP_S: f64 = 10.0;

/// A study manifest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The study and the patient, shared by every muscle.
    pub study: Option<Study>,
    /// The files, in any order.
    #[serde(default)]
    pub recordings: Vec<Entry>,
}

/// One file of a study.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The file, relative to the manifest's folder.
    pub file: PathBuf,
    /// Muscle recorded (else the file's sidecar's).
    pub muscle: Option<String>,
    /// Nerve stimulated.
    pub nerve: Option<String>,
    /// Side examined.
    pub side: Option<Side>,
    /// Start of the file within the session, s (files of one muscle are
    /// placed in this order; without it, in manifest order, 10 s apart).
    pub time_s: Option<f64>,
    /// Skin temperature, °C.
    pub temperature_c: Option<f64>,
    /// The role of each train in this file, in order.
    #[serde(default)]
    pub trains: Vec<TrainSpec>,
}

impl Manifest {
    /// Parse a manifest; `path` names it in messages. File paths are made
    /// relative to its folder; they must stay inside it.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self> {
        let bad = |reason: String| Error::Config {
            path: path.to_path_buf(),
            kind: "study manifest",
            reason,
        };
        let mut m: Manifest =
            toml::from_str(text).map_err(|e| bad(crate::settings::toml_error(text, &e)))?;
        if m.recordings.is_empty() {
            return Err(bad(
                "names no recording ([[recordings]] with file = …)".into()
            ));
        }
        if m.recordings.len() > MAX_FILES {
            return Err(bad(format!(
                "names {} recordings, more than the {MAX_FILES} a study takes",
                m.recordings.len()
            )));
        }
        if let Some(s) = &m.study {
            s.validate().map_err(|e| bad(format!("[study] {e}")))?;
            if s.muscle.is_some() || s.nerve.is_some() || s.side.is_some() {
                return Err(bad(
                    "[study] names a muscle, nerve or side; in a study manifest they belong to each [[recordings]] entry".into(),
                ));
            }
        }
        let base = path.parent().unwrap_or(Path::new("."));
        for (i, e) in m.recordings.iter_mut().enumerate() {
            if e.file.is_absolute()
                || e.file
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
            {
                return Err(bad(format!(
                    "recordings[{i}].file {:?} must be a path inside the manifest's folder",
                    crate::error::excerpt_str(&e.file.display().to_string())
                )));
            }
            if let Some(t) = e.time_s {
                if !(t.is_finite() && t >= 0.0) {
                    return Err(bad(format!(
                        "recordings[{i}].time_s must be ≥ 0, got {}",
                        Shown(t)
                    )));
                }
            }
            e.file = base.join(&e.file);
        }
        Ok(m)
    }

    /// Read and parse a manifest file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = crate::io::read_settings_text(path).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            kind: "study manifest",
            reason: format!("cannot read: {e}"),
        })?;
        Self::from_toml(&text, path)
    }
}

/// The files of one muscle (and side), in session order.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The muscle, as named (`None`: not named anywhere).
    pub muscle: Option<String>,
    /// The side, when given.
    pub side: Option<Side>,
    /// The files, ordered by `time_s` (then manifest order).
    pub entries: Vec<Entry>,
}

impl Group {
    /// The group's words: `ADM right`, `ADM`, `muscle not named`.
    pub fn label(&self) -> String {
        let m = self.muscle.as_deref().unwrap_or("muscle not named");
        match self.side {
            Some(s) => format!("{m} {}", s.name()),
            None => m.to_string(),
        }
    }

    /// A file stem for the group's outputs: its label made safe (no
    /// personal data: a muscle and a side).
    pub fn stem(&self) -> String {
        let s: String = self
            .label()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let s = s.trim_matches('-').to_string();
        if s.is_empty() {
            "muscle".into()
        } else {
            s
        }
    }

    /// The train roles of the group, when every file gives its own (else
    /// none: the roles are then inferred from the merged session).
    pub fn trains(&self) -> Vec<TrainSpec> {
        if self.entries.iter().all(|e| !e.trains.is_empty()) {
            self.entries.iter().flat_map(|e| e.trains.clone()).collect()
        } else {
            Vec::new()
        }
    }
}

/// The output stems of `groups`, in order: each group's [`Group::stem`],
/// made unique with `-2`, `-3`, … (case-insensitively, so no two differ only
/// in case), never `study` (the summary's own name).
pub fn unique_stems(groups: &[Group]) -> Vec<String> {
    let mut taken: Vec<String> = vec!["study".into()];
    let mut out = Vec::with_capacity(groups.len());
    for g in groups {
        let base = g.stem();
        let mut stem = base.clone();
        let mut n = 2;
        while taken.iter().any(|t| t.eq_ignore_ascii_case(&stem)) {
            stem = format!("{base}-{n}");
            n += 1;
        }
        taken.push(stem.clone());
        out.push(stem);
    }
    out
}

/// Gather entries per muscle and side (case-insensitive), groups in the
/// order their first file appears; within a group, files by `time_s`.
pub fn groups(entries: &[Entry]) -> Vec<Group> {
    let key = |e: &Entry| {
        (
            e.muscle.as_deref().map(|m| m.trim().to_lowercase()),
            e.side.map(Side::name),
        )
    };
    let mut out: Vec<Group> = Vec::new();
    for e in entries {
        // A file whose muscle nothing names is a study of its own: files of
        // unknown muscles are never joined.
        let joins = e.muscle.as_deref().is_some_and(|m| !m.trim().is_empty());
        match out
            .iter_mut()
            .find(|g| joins && key(&g.entries[0]) == key(e))
        {
            Some(g) => g.entries.push(e.clone()),
            None => out.push(Group {
                muscle: e.muscle.clone(),
                side: e.side,
                entries: vec![e.clone()],
            }),
        }
    }
    for g in &mut out {
        // Files are placed by their start times when every one gives it;
        // otherwise in manifest order (a stable sort keeps it for ties).
        if g.entries.iter().all(|e| e.time_s.is_some()) {
            g.entries
                .sort_by(|a, b| a.time_s.unwrap_or(0.0).total_cmp(&b.time_s.unwrap_or(0.0)));
        }
    }
    out
}

/// A pattern in the study summary's words.
fn pattern_words(p: Pattern) -> &'static str {
    match p {
        Pattern::Normal => "normal",
        Pattern::MgLike => "MG-like",
        Pattern::LemsLike => "LEMS-like",
        Pattern::Indeterminate => "indeterminate",
    }
}

/// Join the EMG channels of several files of one muscle into one
/// single-channel recording: each file is a segment starting at its
/// `time_s` (or 10 s after the previous one), the stimuli each file knows
/// shifted with it. `parts` are (recording, EMG channel, start time).
///
/// # Errors
/// [`Error::Usage`] when the rates differ, when some files know their
/// stimuli and others do not, when a file overlaps the one before, or when
/// a file relies on a trigger channel (which a merge does not carry).
pub fn merge(label: &str, parts: &[(Recording, usize, Option<f64>)]) -> Result<Recording> {
    let (first, _, _) = parts
        .first()
        .ok_or_else(|| Error::Usage(format!("{label}: no file to analyse")))?;
    let rate = first.sample_rate;
    let known = parts.iter().filter(|p| p.0.stimuli.is_some()).count();
    if known != 0 && known != parts.len() {
        return Err(Error::Usage(format!(
            "{label}: some files give their stimulus times and others do not; such files cannot be analysed as one session"
        )));
    }
    let mut samples: Vec<f32> = Vec::new();
    let mut segments = Vec::new();
    let mut stimuli = Vec::new();
    let mut timing_known = true;
    let mut origin = None;
    // Where the previous file ended, s (`None` before the first).
    let mut prev_end: Option<f64> = None;
    for (rec, ch, time) in parts {
        if rec.sample_rate != rate {
            return Err(Error::Usage(format!(
                "{label}: {} is sampled at {} Hz, {} at {} Hz; the files of one muscle must share a rate",
                rec.path.display(),
                rec.sample_rate.hz(),
                first.path.display(),
                rate.hz()
            )));
        }
        let Some(c) = rec.channels.get(*ch).filter(|c| c.is_loaded()) else {
            return Err(Error::Usage(format!(
                "{label}: {} has no decoded channel {ch}",
                rec.path.display()
            )));
        };
        let start_s = match (time, prev_end) {
            (Some(t), Some(end)) if *t < end - 1e-9 => {
                return Err(Error::Usage(format!(
                    "{label}: {} starts at {} s, before the file before it ends ({} s)",
                    rec.path.display(),
                    Shown(*t),
                    Shown(end)
                )));
            }
            (Some(t), _) => *t,
            (None, Some(end)) => end + DEFAULT_GAP_S,
            (None, None) => 0.0,
        };
        let offset = samples.len();
        if let Some(k) = &rec.stimuli {
            stimuli.extend(k.samples.iter().map(|s| s + offset));
            timing_known &= k.timing_known;
            origin = Some(k.origin);
        }
        for seg in &rec.segments {
            segments.push(Segment {
                start: offset + seg.start,
                len: seg.len,
                start_s: start_s + seg.start_s,
            });
        }
        samples.extend_from_slice(&c.samples);
        let dur = rate.to_seconds(c.samples.len() as f64).0;
        let seg_end = rec
            .segments
            .last()
            .map_or(dur, |s| s.start_s + rate.to_seconds(s.len as f64).0);
        prev_end = Some(start_s + seg_end.max(dur));
    }
    let mut rec = Recording::single_channel(PathBuf::from(label), rate, samples);
    rec.format = if parts.len() == 1 {
        first.format
    } else {
        SourceFormat::Synthetic
    };
    rec.segments = segments;
    rec.stimuli = origin.map(|origin| KnownStimuli {
        samples: stimuli,
        origin,
        timing_known,
    });
    rec.notes = parts.iter().flat_map(|p| p.0.notes.clone()).collect();
    rec.storage = first.storage.clone();
    rec.study = first.study.clone();
    Ok(rec)
}

/// One muscle's result in a study.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MuscleResult {
    /// `ADM right`.
    pub label: String,
    /// The stem of its report and JSON (`ADM-right`).
    pub stem: String,
    /// Its files, in session order.
    pub files: Vec<String>,
    /// The pattern, decided for this muscle alone.
    pub pattern: Option<Pattern>,
    /// Rest decrement (4th/5th, larger), %.
    pub rest_decrement_pct: Option<f64>,
    /// Post-exercise increment, amplitude, %.
    pub post_exercise_increment_pct: Option<f64>,
    /// Largest high-rate increment, %.
    pub hfs_increment_pct: Option<f64>,
    /// Baseline CMAP, mV.
    pub baseline_cmap_mv: Option<f64>,
    /// Whether the baseline CMAP is in millivolts that can be compared
    /// with a normal range (`false` under `full_scale_default` or
    /// `scale_suspect`: `baseline_cmap_not_checked`).
    pub baseline_cmap_checked: bool,
    /// Number of warnings.
    pub warnings: usize,
    /// The deciding finding's words.
    pub headline: Option<String>,
    /// Why it could not be analysed (one line), when it could not.
    pub error: Option<String>,
}

impl MuscleResult {
    /// The result of a muscle's analysis, written under `stem`.
    pub fn of(group: &Group, stem: &str, a: &Analysis) -> Self {
        MuscleResult {
            label: group.label(),
            stem: stem.to_string(),
            files: files_of(group),
            pattern: Some(a.classification.pattern),
            rest_decrement_pct: a.session.baseline_decrement_pct,
            post_exercise_increment_pct: a.post_exercise_increment_pct,
            hfs_increment_pct: a.max_hfs_increment_pct(),
            baseline_cmap_mv: a.session.baseline_cmap_mv,
            baseline_cmap_checked: !a
                .classification
                .findings
                .iter()
                .any(|f| f.code == crate::vocab::FindingCode::BaselineCmapNotChecked),
            warnings: a
                .quality
                .iter()
                .filter(|q| q.severity == Severity::Warning)
                .count(),
            headline: crate::output::words::findings_by_importance(&a.classification)
                .first()
                .map(|f| f.message.clone()),
            error: None,
        }
    }

    /// A muscle that could not be analysed.
    pub fn failed(group: &Group, stem: &str, why: String) -> Self {
        MuscleResult {
            label: group.label(),
            stem: stem.to_string(),
            files: files_of(group),
            pattern: None,
            rest_decrement_pct: None,
            post_exercise_increment_pct: None,
            hfs_increment_pct: None,
            baseline_cmap_mv: None,
            baseline_cmap_checked: false,
            warnings: 0,
            headline: None,
            error: Some(why),
        }
    }
}

fn files_of(group: &Group) -> Vec<String> {
    group
        .entries
        .iter()
        .map(|e| {
            e.file.file_name().map_or_else(
                || e.file.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            )
        })
        .collect()
}

/// The study: its identity, each muscle's result and the summary.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StudySummary {
    /// Contract version of `study.json`.
    pub schema_version: u32,
    /// The study and the patient.
    pub study: Study,
    /// One entry per muscle, in manifest order.
    pub muscles: Vec<MuscleResult>,
    /// The study's summary in words ("MG-like in 2 of 3 muscles: ADM right,
    /// trapezius right; normal in APB right").
    pub summary: String,
}

impl StudySummary {
    /// Summarise the muscles' patterns: each pattern with the muscles that
    /// show it, abnormal patterns first; a pattern per muscle, never one
    /// merged across them.
    pub fn new(study: Study, muscles: Vec<MuscleResult>) -> Self {
        let n = muscles.len();
        let mut parts = Vec::new();
        for p in [
            Pattern::MgLike,
            Pattern::LemsLike,
            Pattern::Indeterminate,
            Pattern::Normal,
        ] {
            let which: Vec<&str> = muscles
                .iter()
                .filter(|m| m.pattern == Some(p))
                .map(|m| m.label.as_str())
                .collect();
            if !which.is_empty() {
                parts.push(format!(
                    "{} in {} of {n}: {}",
                    pattern_words(p),
                    which.len(),
                    which.join(", ")
                ));
            }
        }
        let failed: Vec<&str> = muscles
            .iter()
            .filter(|m| m.pattern.is_none())
            .map(|m| m.label.as_str())
            .collect();
        if !failed.is_empty() {
            parts.push(format!("not analysed: {}", failed.join(", ")));
        }
        StudySummary {
            schema_version: 1,
            study,
            summary: parts.join("; "),
            muscles,
        }
    }

    /// `study.json`: pretty-printed, the same bytes for the same study.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into());
        s.push('\n');
        s
    }
}

/// `study.html`: the study's combined report, self-contained (inline CSS
/// and SVG, no script): a first page with the study and patient, the
/// summary and a row per muscle (pattern, key figures, deciding finding,
/// link to its full report), then each muscle's first page (`pages`, from
/// [`crate::report::html::first_page`]), each on a page of its own.
pub fn render_html(s: &StudySummary, pages: &[String]) -> String {
    use crate::report::html::esc;
    use std::fmt::Write as _;
    let mut h = String::new();
    let id = s.study.patient_id.as_deref().unwrap_or("");
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>RNS study</title>\n<style>{}\n\
         .summary {{ border: 2px solid #1d3f6e; border-radius: 4px; padding: 8px 12px; margin: 10px 0; font-weight: bold; }}\n\
         .muted {{ color: #5f6368; font-size: 8.5pt; }}\n\
         td.num {{ text-align: right; white-space: nowrap; }}\n\
         .muscle-page {{ break-before: page; page-break-before: always; }}\n\
         @page {{ size: A4; margin: 13mm 10mm 12mm; @bottom-right {{ content: \"page \" counter(page) \" of \" counter(pages); font: 8pt sans-serif; color: #5f6368; }} }}\n\
         </style>\n</head>\n<body>\n<main>\n<h1>Repetitive nerve stimulation — study</h1>\n",
        crate::report::html::stylesheet()
    );
    h.push_str("<table>\n<tbody>\n");
    for (k, v) in s.study.rows() {
        let _ = writeln!(
            h,
            "<tr><th>{}</th><td>{}</td></tr>",
            esc(crate::study::field_label(k)),
            esc(&v)
        );
    }
    if s.study.is_empty() {
        h.push_str("<tr><td class=\"muted\">No patient or study details given.</td></tr>\n");
    }
    h.push_str("</tbody>\n</table>\n");
    let _ = writeln!(
        h,
        "<div class=\"summary\">{}</div>\n<p class=\"muted\">The pattern is decided for each muscle on its own.</p>",
        esc(&s.summary)
    );
    h.push_str(
        "<table>\n<thead><tr><th>muscle</th><th>pattern</th><th>rest decrement</th><th>increment</th>\
         <th>baseline CMAP</th><th>warnings</th><th>deciding finding</th><th>files</th></tr></thead>\n<tbody>\n",
    );
    let pct = |v: Option<f64>| v.map_or("—".to_string(), |x| format!("{x:.1} %"));
    for m in &s.muscles {
        let pattern = match (m.pattern, &m.error) {
            (Some(p), _) => pattern_words(p).to_string(),
            (None, Some(e)) => format!("not analysed: {e}"),
            (None, None) => "—".into(),
        };
        let inc = match (m.post_exercise_increment_pct, m.hfs_increment_pct) {
            (Some(p), Some(h)) => format!("post-ex {p:.1} % · high-rate {h:.1} %"),
            (Some(p), None) => format!("post-ex {p:.1} %"),
            (None, Some(h)) => format!("high-rate {h:.1} %"),
            (None, None) => "—".into(),
        };
        let link = if m.pattern.is_some() {
            format!("<a href=\"{0}.html\">{1}</a>", esc(&m.stem), esc(&m.label))
        } else {
            esc(&m.label)
        };
        let _ = writeln!(
            h,
            "<tr><td>{link}</td><td><b>{}</b></td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"muted\">{}</td></tr>",
            esc(&pattern),
            pct(m.rest_decrement_pct),
            esc(&inc),
            match (m.baseline_cmap_mv, m.baseline_cmap_checked) {
                (Some(v), true) => format!("{v:.2} mV"),
                (Some(_), false) => "not checked (scale in doubt)".into(),
                (None, _) => "—".into(),
            },
            m.warnings,
            esc(m.headline.as_deref().unwrap_or("—")),
            esc(&m.files.join(", ")),
        );
    }
    let _ = writeln!(
        h,
        "</tbody>\n</table>\n<p class=\"muted\">Patterns, not diagnoses: a clinician interprets the study together with the history and examination.{}</p>",
        if id.is_empty() { String::new() } else { format!(" Patient {}.", esc(id)) }
    );
    for page in pages {
        let _ = writeln!(h, "<div class=\"muscle-page\">\n{page}</div>");
    }
    h.push_str("</main>\n</body>\n</html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::SampleRate;

    fn entry(file: &str, muscle: &str, time: Option<f64>) -> Entry {
        Entry {
            file: file.into(),
            muscle: Some(muscle.into()),
            time_s: time,
            ..Entry::default()
        }
    }

    #[test]
    fn files_group_per_muscle_in_time_order() {
        let e = [
            entry("b.wav", "ADM", Some(70.0)),
            entry("c.wav", "APB", None),
            entry("a.wav", "adm", Some(0.0)),
        ];
        let g = groups(&e);
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].entries[0].file, PathBuf::from("a.wav"));
        assert_eq!(g[0].entries[1].file, PathBuf::from("b.wav"));
        assert_eq!(g[1].label(), "APB");
        assert_eq!(g[0].stem(), "ADM");
        // Files of no named muscle stay apart; stems never collide, nor
        // take the summary's name.
        let none = |f: &str| Entry {
            file: f.into(),
            ..Entry::default()
        };
        assert_eq!(groups(&[none("x"), none("y")]).len(), 2);
        let g = groups(&[
            entry("a", "study", None),
            entry("b", "ADM right", None),
            Entry {
                side: Some(Side::Right),
                ..entry("c", "ADM", None)
            },
        ]);
        assert_eq!(unique_stems(&g), ["study-2", "ADM-right", "ADM-right-2"]);
    }

    #[test]
    fn manifests_are_checked() {
        let p = Path::new("/data/study.toml");
        let ok =
            Manifest::from_toml("[[recordings]]\nfile = \"x.wav\"\nmuscle = \"ADM\"\n", p).unwrap();
        assert_eq!(ok.recordings[0].file, PathBuf::from("/data/x.wav"));
        for bad in [
            "",
            "[[recordings]]\nfile = \"../x.wav\"\n",
            "[[recordings]]\nfile = \"/etc/x.wav\"\n",
            "[[recordings]]\nfile = \"x.wav\"\ntime_s = -1\n",
            "[[recordings]]\nfile = \"x.wav\"\ncolour = 1\n",
            "[study]\nmuscle = \"ADM\"\n[[recordings]]\nfile = \"x.wav\"\n",
        ] {
            assert!(Manifest::from_toml(bad, p).is_err(), "{bad}");
        }
    }

    #[test]
    fn merged_files_keep_their_times_and_stimuli() {
        let rate = SampleRate::new(10_000.0).unwrap();
        let mut a = Recording::single_channel("a", rate, vec![0.0; 10_000]);
        a.stimuli = Some(KnownStimuli {
            samples: vec![100],
            origin: crate::recording::StimulusOrigin::Annotations,
            timing_known: true,
        });
        let mut b = Recording::single_channel("b", rate, vec![1.0; 5_000]);
        b.stimuli = Some(KnownStimuli {
            samples: vec![200],
            origin: crate::recording::StimulusOrigin::Annotations,
            timing_known: true,
        });
        let m = merge(
            "ADM",
            &[(a.clone(), 0, Some(0.0)), (b.clone(), 0, Some(60.0))],
        )
        .unwrap();
        assert_eq!(m.len(), 15_000);
        assert_eq!(m.segments[1].start, 10_000);
        assert_eq!(m.segments[1].start_s, 60.0);
        assert_eq!(m.stimuli.unwrap().samples, vec![100, 10_200]);
        // Without times: 10 s after the previous file ends.
        let m = merge("ADM", &[(a.clone(), 0, Some(0.0)), (b.clone(), 0, None)]).unwrap();
        assert_eq!(m.segments[1].start_s, 1.0 + DEFAULT_GAP_S);
        let m = merge("ADM", &[(a.clone(), 0, None), (b.clone(), 0, Some(1.5))]).unwrap();
        assert_eq!(m.segments[1].start_s, 1.5);
        // Overlapping, mixed stimuli, other rates: refused.
        assert!(merge(
            "ADM",
            &[(a.clone(), 0, Some(0.0)), (b.clone(), 0, Some(0.5))]
        )
        .is_err());
        let plain = Recording::single_channel("c", rate, vec![0.0; 10]);
        assert!(merge("ADM", &[(a.clone(), 0, None), (plain, 0, None)]).is_err());
        let other =
            Recording::single_channel("d", SampleRate::new(5_000.0).unwrap(), vec![0.0; 10]);
        assert!(merge("ADM", &[(a, 0, None), (other, 0, None)]).is_err());
    }

    #[test]
    fn the_summary_names_each_pattern_with_its_muscles() {
        let g = |m: &str| Group {
            muscle: Some(m.into()),
            side: Some(Side::Right),
            entries: vec![entry("x", m, None)],
        };
        let mut a = MuscleResult::failed(&g("ADM"), "ADM", String::new());
        a.pattern = Some(Pattern::MgLike);
        a.error = None;
        let mut b = MuscleResult::failed(&g("APB"), "APB", String::new());
        b.pattern = Some(Pattern::Normal);
        b.error = None;
        let c = MuscleResult::failed(&g("FDI"), "FDI", "bad".into());
        let s = StudySummary::new(Study::default(), vec![a, b, c]);
        assert_eq!(
            s.summary,
            "MG-like in 1 of 3: ADM right; normal in 1 of 3: APB right; not analysed: FDI right"
        );
    }
}
