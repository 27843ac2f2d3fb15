//! Train roles from annotations (EDF+ TALs).
//!
//! Overview: [`classify`] reads one annotation text as a role mark;
//! [`RoleMarks::from_annotations`] collects the marks and the exercise
//! periods of a recording; [`RoleMarks::role_of`] gives a train's role and
//! its delay after exercise. The analysis applies them below the protocol
//! sidecar and above the rate, voluntary-activity and order rules
//! (`role_source = "annotation"`).
//!
//! # Texts
//!
//! Compared ignoring case, with `-` and `_` read as spaces; stimulus
//! annotations ([`is_stimulus_text`]) are never role marks. In this order:
//! - **post-exercise**: contains `post exercise`, `postexercise`,
//!   `after exercise`, `post contraction`, `after contraction` or `post mvc`,
//!   or the word `post` with a time (`post 1 min`, `post 30 s`). A time in the
//!   text (`post exercise 1 min`) is the stated delay after exercise;
//! - **baseline**: contains `pre exercise`, `before exercise`, or the word
//!   `baseline` or `rest`;
//! - **hfs**: the word `hfs` or `tetanic`, or `high frequency`, `high rate`;
//! - **exercise**: the word `exercise`, `contraction` or `mvc`. With a
//!   duration, the exercise runs from the onset for that long. A text with
//!   `end`, `stop`, `ended`, `stopped`, `finish` or `finished` marks the end
//!   (and closes an open start). Otherwise the onset is the start, and the
//!   exercise ends at the next annotation (stimuli aside) or the next train,
//!   whichever comes first.
//!
//! # Roles
//!
//! A train takes the role of the latest mark at or before its first stimulus
//! (with [`MARK_SLACK_S`] of slack, for a key pressed just after the train
//! began) — an exercise counting at its end, as post-exercise. A train before
//! every mark, in a recording with an exercise, is a baseline. Baseline and
//! post-exercise marks do not turn a train at the high rate (`hfs` by rate)
//! into a low-rate one; an `hfs` mark does set `hfs`. The delay of a
//! post-exercise train is its start minus the end of the latest exercise
//! before it, or, without one, what its mark states (`post 1 min` placed at
//! onset *o* puts the exercise end at *o* − 60 s).

use crate::recording::is_stimulus_text;
use crate::recording::Annotation;
use crate::vocab::TrainRole;

/// How long after a train's first stimulus a mark still applies to it, s.
pub const MARK_SLACK_S: f64 = 0.5;

/// What one annotation text says about roles.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mark {
    /// Trains after it are baselines.
    Baseline,
    /// Trains after it are post-exercise; the delay, if the text states one.
    PostExercise {
        /// Seconds after the exercise the text says it is.
        stated_delay_s: Option<f64>,
    },
    /// Trains after it are high-rate.
    Hfs,
    /// An exercise: its start, or (`end`) its end.
    Exercise {
        /// Whether the text marks the end of the exercise.
        end: bool,
    },
}

/// Read an annotation text as a role mark (see the module doc).
pub fn classify(text: &str) -> Option<Mark> {
    if is_stimulus_text(text) {
        return None;
    }
    let t: String = text
        .to_lowercase()
        .chars()
        .map(|c| if c == '-' || c == '_' { ' ' } else { c })
        .collect();
    let words: Vec<&str> = t.split_whitespace().collect();
    let t = words.join(" ");
    let has = |w: &str| words.contains(&w);
    let stated = stated_delay_s(&words);
    let post_phrases = [
        "post exercise",
        "postexercise",
        "after exercise",
        "post contraction",
        "after contraction",
        "post mvc",
    ];
    if post_phrases.iter().any(|p| t.contains(p)) || (has("post") && stated.is_some()) {
        return Some(Mark::PostExercise {
            stated_delay_s: stated,
        });
    }
    if t.contains("pre exercise") || t.contains("before exercise") || has("baseline") || has("rest")
    {
        return Some(Mark::Baseline);
    }
    if has("hfs") || has("tetanic") || t.contains("high frequency") || t.contains("high rate") {
        return Some(Mark::Hfs);
    }
    if has("exercise") || has("contraction") || has("mvc") {
        let end = ["end", "stop", "ended", "stopped", "finish", "finished"]
            .iter()
            .any(|w| has(w));
        return Some(Mark::Exercise { end });
    }
    None
}

/// A time written in the words: a number followed by a unit, in the same
/// word (`1min`, `30s`) or the next (`1 min`, `30 s`), in seconds.
fn stated_delay_s(words: &[&str]) -> Option<f64> {
    let unit = |u: &str| match u {
        "s" | "sec" | "secs" | "second" | "seconds" => Some(1.0),
        "m" | "min" | "mins" | "minute" | "minutes" => Some(60.0),
        _ => None,
    };
    for (i, w) in words.iter().enumerate() {
        let split = w
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
            .unwrap_or(w.len());
        if split == 0 {
            continue;
        }
        let Ok(n) = w[..split].replace(',', ".").parse::<f64>() else {
            continue;
        };
        let factor = if split < w.len() {
            unit(&w[split..])
        } else {
            words.get(i + 1).and_then(|u| unit(u))
        };
        if let Some(f) = factor {
            return Some(n * f);
        }
    }
    None
}

/// The role marks and exercise periods of a recording.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoleMarks {
    /// Baseline, post-exercise and hfs marks with their onsets, by onset.
    pub marks: Vec<(f64, Mark)>,
    /// Exercise periods (start, end), s, by end.
    pub exercises: Vec<(f64, f64)>,
}

impl RoleMarks {
    /// Collect the marks of `annotations` (sorted by onset); `train_starts`
    /// (ascending) close an exercise that has neither a duration nor an end.
    pub fn from_annotations(annotations: &[Annotation], train_starts: &[f64]) -> Self {
        let mut marks = Vec::new();
        let mut exercises = Vec::new();
        // The end of an open exercise: the next annotation (stimuli aside) or
        // the next train, whichever comes first.
        let default_end = |start: f64| -> Option<f64> {
            let next_note = annotations
                .iter()
                .filter(|a| a.onset_s > start && !is_stimulus_text(&a.text))
                .map(|a| a.onset_s)
                .next();
            let next_train = train_starts.iter().copied().find(|&s| s > start);
            match (next_note, next_train) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        };
        let mut open: Option<f64> = None;
        for a in annotations {
            let Some(mark) = classify(&a.text) else {
                continue;
            };
            match mark {
                Mark::Exercise { end: true } => {
                    let start = open.take().unwrap_or(a.onset_s);
                    exercises.push((start, a.onset_s));
                }
                Mark::Exercise { end: false } => {
                    if let Some(s) = open.take() {
                        exercises.extend(default_end(s).map(|e| (s, e)));
                    }
                    match a.duration_s.filter(|d| *d > 0.0) {
                        Some(d) => exercises.push((a.onset_s, a.onset_s + d)),
                        None => open = Some(a.onset_s),
                    }
                }
                m => marks.push((a.onset_s, m)),
            }
        }
        if let Some(s) = open {
            exercises.extend(default_end(s).map(|e| (s, e)));
        }
        exercises.sort_by(|a, b| a.1.total_cmp(&b.1));
        RoleMarks { marks, exercises }
    }

    /// Whether the annotations say anything about roles.
    pub fn is_empty(&self) -> bool {
        self.marks.is_empty() && self.exercises.is_empty()
    }

    /// The role of a train starting at `start` (s), and its delay after
    /// exercise when known; `None` when no mark applies. `high_rate`: the
    /// train is `hfs` by its rate, which baseline and post-exercise marks do
    /// not change.
    pub fn role_of(&self, start: f64, high_rate: bool) -> Option<(TrainRole, Option<f64>)> {
        // The latest event at or before the train: a mark (with slack) or
        // the end of an exercise.
        let mark = self
            .marks
            .iter()
            .rfind(|(o, _)| *o <= start + MARK_SLACK_S)
            .copied();
        let exercise_end = self
            .exercises
            .iter()
            .map(|e| e.1)
            .filter(|&e| e <= start)
            .fold(None, |m: Option<f64>, e| Some(m.map_or(e, |m| m.max(e))));
        let role = match (mark, exercise_end) {
            (Some((o, m)), Some(e)) if o > e => m,
            (_, Some(_)) => Mark::PostExercise {
                stated_delay_s: None,
            },
            (Some((_, m)), None) => m,
            (None, None) => {
                // Before every mark: a baseline when an exercise follows.
                if self.exercises.iter().any(|e| e.0 >= start) {
                    Mark::Baseline
                } else {
                    return None;
                }
            }
        };
        match role {
            Mark::Hfs => Some((TrainRole::Hfs, None)),
            _ if high_rate => None,
            Mark::Baseline | Mark::Exercise { .. } => Some((TrainRole::Baseline, None)),
            Mark::PostExercise { stated_delay_s } => {
                let delay = exercise_end.map(|e| start - e).or_else(|| {
                    let (onset, _) = mark?;
                    stated_delay_s.map(|d| start - (onset - d))
                });
                Some((TrainRole::PostExercise, delay))
            }
        }
    }

    /// The exercise reported for the session: the last one (by end).
    pub fn last_exercise(&self) -> Option<(f64, f64)> {
        self.exercises.last().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(onset_s: f64, duration_s: Option<f64>, text: &str) -> Annotation {
        Annotation {
            onset_s,
            duration_s,
            text: text.into(),
        }
    }

    #[test]
    fn texts() {
        let post = |d| Some(Mark::PostExercise { stated_delay_s: d });
        assert_eq!(classify("Baseline"), Some(Mark::Baseline));
        assert_eq!(classify("at rest"), Some(Mark::Baseline));
        assert_eq!(classify("pre-exercise"), Some(Mark::Baseline));
        assert_eq!(classify("restart"), None);
        assert_eq!(classify("post exercise"), post(None));
        assert_eq!(classify("Post-Exercise 1 min"), post(Some(60.0)));
        assert_eq!(classify("post 30 s"), post(Some(30.0)));
        assert_eq!(classify("post 2min"), post(Some(120.0)));
        assert_eq!(classify("after exercise"), post(None));
        assert_eq!(classify("post"), None);
        assert_eq!(classify("exercise"), Some(Mark::Exercise { end: false }));
        assert_eq!(classify("MVC start"), Some(Mark::Exercise { end: false }));
        assert_eq!(
            classify("end of contraction"),
            Some(Mark::Exercise { end: true })
        );
        assert_eq!(
            classify("exercise stop"),
            Some(Mark::Exercise { end: true })
        );
        assert_eq!(classify("HFS 50 Hz"), Some(Mark::Hfs));
        assert_eq!(classify("stim"), None);
        assert_eq!(classify("S1"), None);
        assert_eq!(classify("Übung"), None);
    }

    #[test]
    fn session_with_exercise_duration() {
        let notes = [
            note(0.2, None, "baseline"),
            note(3.0, Some(5.0), "exercise"),
            note(8.8, None, "post exercise"),
            note(11.1, None, "post exercise 3 s"),
        ];
        let m = RoleMarks::from_annotations(&notes, &[0.5, 9.0, 11.3]);
        assert_eq!(m.exercises, vec![(3.0, 8.0)]);
        assert_eq!(m.role_of(0.5, false), Some((TrainRole::Baseline, None)));
        let (r, d) = m.role_of(9.0, false).unwrap();
        assert_eq!(r, TrainRole::PostExercise);
        assert!((d.unwrap() - 1.0).abs() < 1e-9);
        let (_, d) = m.role_of(11.3, false).unwrap();
        assert!((d.unwrap() - 3.3).abs() < 1e-9);
        // A high-rate train keeps its rate role.
        assert_eq!(m.role_of(9.0, true), None);
    }

    #[test]
    fn exercise_without_duration_ends_at_next_note_or_train() {
        let notes = [note(3.0, None, "exercise"), note(7.5, None, "stim")];
        let m = RoleMarks::from_annotations(&notes, &[0.5, 9.0]);
        assert_eq!(m.exercises, vec![(3.0, 9.0)]);
        // The first train comes before the exercise: baseline.
        assert_eq!(m.role_of(0.5, false), Some((TrainRole::Baseline, None)));
        let notes = [
            note(3.0, None, "exercise start"),
            note(8.0, None, "exercise end"),
        ];
        let m = RoleMarks::from_annotations(&notes, &[0.5, 9.0]);
        assert_eq!(m.exercises, vec![(3.0, 8.0)]);
        assert_eq!(m.role_of(9.0, false).unwrap().1, Some(1.0));
        // An end without a start.
        let m = RoleMarks::from_annotations(&[note(8.0, None, "stop contraction")], &[9.0]);
        assert_eq!(m.exercises, vec![(8.0, 8.0)]);
    }

    #[test]
    fn later_marks_override_and_stated_delay_is_used() {
        let notes = [
            note(0.0, None, "rest"),
            note(30.0, None, "post exercise 1 min"),
            note(100.0, None, "HFS"),
        ];
        let m = RoleMarks::from_annotations(&notes, &[1.0, 31.0, 100.2]);
        assert_eq!(m.role_of(1.0, false), Some((TrainRole::Baseline, None)));
        let (r, d) = m.role_of(31.0, false).unwrap();
        assert_eq!(r, TrainRole::PostExercise);
        assert!((d.unwrap() - 61.0).abs() < 1e-9);
        assert_eq!(m.role_of(100.2, false), Some((TrainRole::Hfs, None)));
        assert_eq!(
            RoleMarks::from_annotations(&[], &[1.0]).role_of(1.0, false),
            None
        );
    }
}
