//! Stimulation protocols of the simulator (primer §2): trains, exercise
//! periods, and the event schedule they expand to.
//!
//! | protocol | what it does |
//! |---|---|
//! | `baseline` | one 3 Hz train at rest \[N1\]\[FC1\]\[K14\] |
//! | `brief-exercise` | rest train, 10 s maximal contraction, train 2 s after it \[N3\]\[PEF11\] |
//! | `exhaustion` | rest train, 30 s contraction, trains 2 s, 1, 2, 3 and 4 min after \[N6\]\[K14\] |
//! | `hfs` | rest train of 5, then a high-rate train (20–50 Hz, 1 s) \[N5\]\[N7\]\[FC2\] |
//! | `session` | rest train, 10 s contraction, post-exercise train, 60 s rest, high-rate train |

use super::{Event, Schedule};
use crate::vocab::TrainRole;

/// The named protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolKind {
    /// One rest train.
    Baseline,
    /// Brief exercise (LEMS).
    BriefExercise,
    /// Post-exercise exhaustion (MG).
    Exhaustion,
    /// High-rate stimulation.
    Hfs,
    /// Everything: brief exercise and a high-rate train.
    Session,
}

impl ProtocolKind {
    /// All protocols.
    pub const ALL: [ProtocolKind; 5] = [
        ProtocolKind::Baseline,
        ProtocolKind::BriefExercise,
        ProtocolKind::Exhaustion,
        ProtocolKind::Hfs,
        ProtocolKind::Session,
    ];

    /// Parse a protocol name.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "baseline" | "rest" => Some(ProtocolKind::Baseline),
            "brief-exercise" | "exercise" => Some(ProtocolKind::BriefExercise),
            "exhaustion" => Some(ProtocolKind::Exhaustion),
            "hfs" | "high-rate" => Some(ProtocolKind::Hfs),
            "session" | "full" => Some(ProtocolKind::Session),
            _ => None,
        }
    }

    /// The protocol's name.
    pub fn name(self) -> &'static str {
        match self {
            ProtocolKind::Baseline => "baseline",
            ProtocolKind::BriefExercise => "brief-exercise",
            ProtocolKind::Exhaustion => "exhaustion",
            ProtocolKind::Hfs => "hfs",
            ProtocolKind::Session => "session",
        }
    }
}

/// One train of a protocol.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    /// First stimulus, s.
    pub start_s: f64,
    /// Stimulation rate, Hz.
    pub rate_hz: f64,
    /// Number of stimuli.
    pub count: usize,
    /// Role: `baseline`, `post_exercise` or `hfs`.
    pub role: TrainRole,
}

impl Stage {
    /// Time of the last stimulus, s.
    pub fn end_s(&self) -> f64 {
        self.start_s + (self.count.saturating_sub(1)) as f64 / self.rate_hz
    }
}

/// A protocol: its trains and exercise periods.
#[derive(Debug, Clone, PartialEq)]
pub struct Protocol {
    /// Name (for the truth file).
    pub name: String,
    /// Trains in time order.
    pub stages: Vec<Stage>,
    /// Exercise periods (start, end), s.
    pub exercise: Vec<(f64, f64)>,
}

/// Seconds between a contraction's end and the next train ("immediately").
const AFTER_EXERCISE_S: f64 = 2.0;

impl Protocol {
    /// A standard protocol with `n` stimuli per low-rate train (≥ 1) and the
    /// given high-rate train rate (Hz) and duration (s).
    pub fn standard(kind: ProtocolKind, n: usize, hfs_rate: f64, hfs_duration_s: f64) -> Self {
        let n = n.max(1);
        let rest = |start: f64, role: TrainRole| Stage {
            start_s: start,
            rate_hz: 3.0,
            count: n,
            role,
        };
        let first = rest(1.0, TrainRole::Baseline);
        let mut stages = vec![first.clone()];
        let mut exercise = vec![];
        let hfs_count = ((hfs_rate * hfs_duration_s).round() as usize).max(2);
        match kind {
            ProtocolKind::Baseline => {}
            ProtocolKind::BriefExercise | ProtocolKind::Session => {
                let a = first.end_s() + 2.0;
                exercise.push((a, a + 10.0));
                let post = rest(a + 10.0 + AFTER_EXERCISE_S, TrainRole::PostExercise);
                let post_end = post.end_s();
                stages.push(post);
                if kind == ProtocolKind::Session {
                    // Tests < 50 s apart contaminate each other [PEF11].
                    stages.push(Stage {
                        start_s: post_end + 60.0,
                        rate_hz: hfs_rate,
                        count: hfs_count,
                        role: TrainRole::Hfs,
                    });
                }
            }
            ProtocolKind::Exhaustion => {
                let a = first.end_s() + 2.0;
                let end = a + 30.0;
                exercise.push((a, end));
                for delay in [AFTER_EXERCISE_S, 60.0, 120.0, 180.0, 240.0] {
                    stages.push(rest(end + delay, TrainRole::PostExercise));
                }
            }
            ProtocolKind::Hfs => {
                stages[0].count = 5.min(n).max(1);
                let start = stages[0].end_s() + 3.0;
                stages.push(Stage {
                    start_s: start,
                    rate_hz: hfs_rate,
                    count: hfs_count,
                    role: TrainRole::Hfs,
                });
            }
        }
        Protocol {
            name: kind.name().to_string(),
            stages,
            exercise,
        }
    }

    /// The trains.
    pub fn trains(&self) -> &[Stage] {
        &self.stages
    }

    /// Expand to events in time order, with voluntary impulses at 25 Hz
    /// during exercise, and the recording's duration (1 s after the last event).
    pub fn schedule(&self) -> Schedule {
        let mut events: Vec<Event> = Vec::new();
        for (k, st) in self.stages.iter().enumerate() {
            for i in 0..st.count {
                events.push(Event::Stimulus {
                    t: st.start_s + i as f64 / st.rate_hz,
                    train: k,
                    index: i,
                });
            }
        }
        for &(a, b) in &self.exercise {
            let n = ((b - a) * super::VOLUNTARY_RATE).floor() as usize;
            for i in 0..n {
                events.push(Event::Voluntary {
                    t: a + i as f64 / super::VOLUNTARY_RATE,
                });
            }
        }
        let time = |e: &Event| match *e {
            Event::Stimulus { t, .. } | Event::Voluntary { t } => t,
        };
        events.sort_by(|x, y| time(x).total_cmp(&time(y)));
        let last = events.last().map_or(0.0, time);
        Schedule {
            events,
            exercise: self.exercise.clone(),
            duration_s: last + 1.0,
        }
    }
}
