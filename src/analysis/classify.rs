//! Classification of the pattern (primer §4): `normal`, `mg_like`, `lems_like`
//! or `indeterminate`, with the findings that led to it. It names patterns,
//! never diagnoses.
//!
//! Rules, in order (each is a function below):
//! 1. **Effective increment** of a source (post-exercise first response vs
//!    rest; or an `hfs` train's largest vs first) is the *smaller* of its
//!    amplitude and area increments: a rise in amplitude without a rise in area
//!    is pseudofacilitation, never facilitation \[N3\]\[PAD\]. Sources flagged as
//!    technically unreliable do not count: for a post-exercise comparison, the
//!    flags that corrupt a first response
//!    ([`FlagCode::corrupts_first_response`]); for a high-rate train, any
//!    reliability flag ([`FlagCode::makes_train_unreliable`]: a zig-zag
//!    inflates its largest response), and fewer than 5 responses
//!    (`best_increment`).
//! 2. Effective increment ≥ `lems_pct` (60 %) \[O5\]\[L20\] → **lems_like**
//!    (`lems_rule`).
//! 3. Otherwise the decrement decides. It is the largest 4th/5th-response
//!    decrement among low-rate trains that carry no technical warning (rest
//!    or after exercise, \[A1\]). No such train → **indeterminate**
//!    (`reliable_decrement`).
//! 4. Decrement > `abnormal_pct` (10 %) \[A1\]\[N1\]\[N4\]. The shape is judged on
//!    the rest train when it is itself abnormal (the criterion \[S14\] concerns
//!    it), else on the train with the largest decrement. U-shaped → **mg_like**,
//!    unless the baseline CMAP is low and facilitation was not tested (a
//!    pre-synaptic disorder is not excluded) → indeterminate. Progressive
//!    (late > 102 % of early \[S14\]) → indeterminate: LEMS, MuSK-MG, ALS or
//!    fatigue can do this (`abnormal_decrement_rule`).
//! 5. Decrement ≤ 10 %: an increment between `normal_max_pct` (40 %) and 60 %
//!    → indeterminate; a low baseline CMAP → indeterminate; else **normal**
//!    (a 5–10 % decrement is reported as equivocal \[FC1\])
//!    (`low_decrement_rule`).
//!
//! A post-exercise increment between the brief-exercise triage limits
//! (`triage_negative_pct` 24 % and 60 % \[PEF11\]) adds a `triage_inconclusive`
//! finding: the triage neither clears nor confirms a pre-synaptic pattern.

use crate::analysis::context::Context;
use crate::analysis::quality;
use crate::analysis::result::{round, Classification, Finding, QualityFlag, SessionOut, TrainOut};
use crate::analysis::session::{
    first_comparable_post, post_increments, post_trains, reference_baseline,
};
use crate::settings::criteria::Criteria;
use crate::vocab::{FindingCode, FlagCode, Pattern, Severity, Shape, TrainRole};

fn finding(
    code: FindingCode,
    message: String,
    train: Option<usize>,
    value: Option<f64>,
    threshold: Option<f64>,
) -> Finding {
    Finding {
        code,
        message,
        train,
        value: value.map(|v| round(v, 2)),
        threshold,
    }
}

/// Each train's warning codes, in flag order, gathered once: a search of
/// every flag per train is quadratic when noise makes thousands of trains.
/// Notes (`info`) never set a train aside.
struct TrainFlags(Vec<Vec<FlagCode>>);

impl TrainFlags {
    fn new(flags: &[QualityFlag]) -> Self {
        let mut codes: Vec<Vec<FlagCode>> = Vec::new();
        for q in flags {
            if let (Some(t), Severity::Warning) =
                (q.train.and_then(|t| t.checked_sub(1)), q.severity)
            {
                if codes.len() <= t {
                    codes.resize(t + 1, Vec::new());
                }
                codes[t].push(q.code);
            }
        }
        TrainFlags(codes)
    }

    fn of(&self, train: usize) -> &[FlagCode] {
        self.0.get(train).map_or(&[][..], Vec::as_slice)
    }

    /// The flags that make train `train` (0-based) unusable for the pattern.
    fn unreliable(&self, train: usize) -> Vec<FlagCode> {
        self.of(train)
            .iter()
            .copied()
            .filter(|c| c.makes_train_unreliable())
            .collect()
    }

    /// Whether train `train`'s first response is corrupted (zig-zag and
    /// amplitude/area disagreement describe a train's profile; an increment
    /// compares first responses, which only these flags corrupt).
    fn first_unreliable(&self, train: usize) -> bool {
        self.of(train).iter().any(|c| c.corrupts_first_response())
    }
}

/// Where an increment came from.
#[derive(Debug, Clone, Copy, PartialEq)]
enum IncrementSource {
    /// First response after exercise vs the reference rest train's.
    PostExercise,
    /// A high-rate train's largest response vs its first, at this rate (Hz).
    HighRate(f64),
}

impl IncrementSource {
    fn words(self) -> String {
        match self {
            IncrementSource::PostExercise => "post-exercise".into(),
            IncrementSource::HighRate(hz) => format!("high-rate ({hz:.0} Hz)"),
        }
    }
}

/// An increment that counts: its source, train (0-based), amplitude and area
/// increments, %.
#[derive(Debug, Clone, Copy)]
struct Increment {
    source: IncrementSource,
    train: Option<usize>,
    amplitude: f64,
    area: f64,
}

impl Increment {
    /// The smaller of the amplitude and area increments (rule 1).
    fn effective(&self) -> f64 {
        self.amplitude.min(self.area)
    }
}

/// Classify a recording.
pub fn classify(
    ctx: &Context<'_>,
    out: &[TrainOut],
    session: &SessionOut,
    flags: &[QualityFlag],
) -> Classification {
    let c = &ctx.cfg.criteria;
    let tf = TrainFlags::new(flags);
    let mut f: Vec<Finding> = Vec::new();
    let low_cmap = baseline_cmap(ctx, session, scale_doubt(flags), &mut f);
    f.extend(set_aside_post_trains(ctx));
    let best = best_increment(ctx, out, &tf);
    if let Some(b) = &best {
        f.push(increment_finding(b, c));
        if let Some(t) = triage_inconclusive(b, c) {
            f.push(t);
        }
    }
    let eff_inc = best.as_ref().map(Increment::effective);
    let decrement = reliable_decrement(ctx, out, &tf);
    for (i, codes) in &decrement.skipped {
        // In words: the codes are the contract's, the message a reader's.
        let names: Vec<String> = codes.iter().map(|c| c.name().replace('_', " ")).collect();
        f.push(finding(
            FindingCode::TechnicallyUnreliableTrain,
            format!(
                "train {} not used for interpretation: {}",
                i + 1,
                names.join(", ")
            ),
            Some(i + 1),
            None,
            None,
        ));
    }
    session_findings(session, &mut f);
    if flags
        .iter()
        .any(|q| q.train.is_none() && q.code == FlagCode::LowTemperature)
    {
        f.push(finding(
            FindingCode::LowTemperature,
            "the limb was cool: a decrement may be masked".into(),
            None,
            ctx.cfg.temperature_c,
            Some(c.quality.min_temperature_c),
        ));
    }
    let pattern =
        lems_rule(eff_inc, decrement.worst, c, &mut f).unwrap_or_else(|| match decrement.worst {
            None => no_decrement_rule(!decrement.skipped.is_empty(), &mut f),
            Some((wi, dec)) if dec > c.decrement.abnormal_pct => {
                abnormal_decrement_rule(ctx, out, &tf, (wi, dec), low_cmap, eff_inc, &mut f)
            }
            Some((wi, dec)) => low_decrement_rule((wi, dec), low_cmap, eff_inc, c, &mut f),
        });
    Classification {
        pattern,
        findings: f,
    }
}

/// The baseline CMAP against the muscle's normal range \[M98\]\[CJ\]: a
/// finding, and whether it is low (`None` without a range or a CMAP, or
/// when the amplitudes are in units of an unknown full scale).
fn baseline_cmap(
    ctx: &Context<'_>,
    session: &SessionOut,
    doubt: Option<&str>,
    f: &mut Vec<Finding>,
) -> Option<bool> {
    let a = session.baseline_cmap_mv?;
    if let Some(why) = doubt {
        f.push(finding(
            FindingCode::BaselineCmapNotChecked,
            format!("baseline CMAP {a:.3} was not checked against a normal range: {why}"),
            reference_baseline(&ctx.trains).map(|b| b + 1),
            Some(a),
            None,
        ));
        return None;
    }
    let Some(lim) = session.baseline_cmap_lower_limit_mv else {
        // A muscle was named, but the criteria know no range for it: say
        // so, rather than let silence read as "normal size".
        if let Some(m) = ctx.cfg.muscle.as_deref() {
            let known: Vec<&str> = ctx
                .cfg
                .criteria
                .normal_ranges
                .keys()
                .map(String::as_str)
                .collect();
            f.push(finding(
                FindingCode::BaselineCmapNotChecked,
                format!(
                    "baseline CMAP {a:.2} mV was not checked against a normal range: none is known for the muscle {} (known: {}; a criteria profile can add one under [normal_ranges])",
                    crate::error::excerpt_str(m),
                    known.join(", ")
                ),
                reference_baseline(&ctx.trains).map(|b| b + 1),
                Some(a),
                None,
            ));
        }
        return None;
    };
    let low = a < lim;
    f.push(finding(
        if low {
            FindingCode::LowBaselineCmap
        } else {
            FindingCode::NormalBaselineCmap
        },
        format!(
            "baseline CMAP {a:.2} mV is {} the lower normal limit {lim:.2} mV for {}",
            if low { "below" } else { "at or above" },
            session
                .normal_range_muscle
                .as_deref()
                .unwrap_or("the muscle")
        ),
        reference_baseline(&ctx.trains).map(|b| b + 1),
        Some(a),
        Some(lim),
    ));
    Some(low)
}

/// Why the amplitudes' scale is in doubt, if it is: an integer WAV read with
/// the default full scale, or a train of implausible size (`scale_suspect`).
/// A CMAP in doubtful units is never compared with a normal range.
fn scale_doubt(flags: &[QualityFlag]) -> Option<&'static str> {
    if flags.iter().any(|q| q.code == FlagCode::ScaleSuspect) {
        Some("the responses are of a size no CMAP has, so the scale is probably wrong (scale suspect)")
    } else if flags.iter().any(|q| q.code == FlagCode::FullScaleDefault) {
        Some("it is in units of full scale: the integer WAV's full scale was not given (--full-scale-mv)")
    } else {
        None
    }
}

/// Post-exercise trains that cannot be compared with the baseline (their
/// first response is not the same muscle response: a transient at the end
/// of the contraction taken for a stimulus, a late wave): each is said, and
/// none supplies an increment, repair or exhaustion.
fn set_aside_post_trains(ctx: &Context<'_>) -> Vec<Finding> {
    post_trains(ctx, false)
        .into_iter()
        .map(|p| {
            let why = if ctx.trains[p].measurements.is_empty() {
                "no response could be measured"
            } else {
                "its first response's latency is not the baseline's (not the same muscle response)"
            };
            finding(
                FindingCode::PostExerciseSetAside,
                format!("post-exercise train {} set aside: {why}", p + 1),
                Some(p + 1),
                None,
                None,
            )
        })
        .collect()
}

/// Rule 1: the reliable increment sources, and the one with the largest
/// effective increment (the last of equals).
fn best_increment(ctx: &Context<'_>, out: &[TrainOut], tf: &TrainFlags) -> Option<Increment> {
    let mut sources: Vec<Increment> = Vec::new();
    let post_idx = first_comparable_post(ctx);
    if let (Some(p), (Some(a), Some(ar))) = (post_idx, post_increments(ctx)) {
        let base = reference_baseline(&ctx.trains);
        let bad = tf.first_unreliable(p) || base.is_some_and(|b| tf.first_unreliable(b));
        if !bad {
            sources.push(Increment {
                source: IncrementSource::PostExercise,
                train: Some(p),
                amplitude: a,
                area: ar,
            });
        }
    }
    for (i, t) in ctx.trains.iter().enumerate() {
        // A high-rate increment is the largest response of the train: a
        // zig-zag inflates it, so every reliability flag counts here.
        // A handful of responses at a high rate is no high-rate study (and
        // is what random spikes grouped by chance look like).
        if t.role == TrainRole::Hfs
            && t.measurements.len() >= quality::MIN_HFS_RESPONSES
            && tf.unreliable(i).is_empty()
        {
            if let (Some(a), Some(ar)) = (out[i].increment_pct, out[i].area_increment_pct) {
                sources.push(Increment {
                    source: IncrementSource::HighRate(t.rate_hz.unwrap_or(0.0)),
                    train: Some(i),
                    amplitude: a,
                    area: ar,
                });
            }
        }
    }
    sources
        .into_iter()
        .max_by(|x, y| x.effective().total_cmp(&y.effective()))
}

/// What the best increment is: LEMS-level \[O5\]\[L20\], pseudofacilitation
/// \[N3\]\[PAD\], borderline, or normal \[N3\].
fn increment_finding(b: &Increment, c: &Criteria) -> Finding {
    let (name, train) = (b.source.words(), b.train.map(|t| t + 1));
    let (a, ar, eff) = (b.amplitude, b.area, b.effective());
    let inc = &c.increment;
    if eff >= inc.lems_pct {
        let classic = eff >= inc.classic_lems_pct;
        finding(
            FindingCode::LemsLevelIncrement,
            format!(
                "{name} increment {a:.1} % in amplitude and {ar:.1} % in area (≥ {:.0} %{})",
                inc.lems_pct,
                if classic {
                    ", at the classic ≥ 100 % level"
                } else {
                    ""
                }
            ),
            train,
            Some(eff),
            Some(inc.lems_pct),
        )
    } else if a >= inc.normal_max_pct && ar < inc.normal_max_pct {
        finding(
            FindingCode::Pseudofacilitation,
            format!("{name} amplitude rose {a:.1} % but area only {ar:.1} %: pseudofacilitation, not facilitation"),
            train,
            Some(a),
            Some(inc.normal_max_pct),
        )
    } else if eff >= inc.normal_max_pct {
        finding(
            FindingCode::BorderlineIncrement,
            format!(
                "{name} increment {eff:.1} % is above normal (< {:.0} %) but below the LEMS level ({:.0} %)",
                inc.normal_max_pct, inc.lems_pct
            ),
            train,
            Some(eff),
            Some(inc.normal_max_pct),
        )
    } else {
        finding(
            FindingCode::NormalIncrement,
            format!(
                "{name} increment {eff:.1} % (amplitude {a:.1} %, area {ar:.1} %) is below {:.0} %",
                inc.normal_max_pct
            ),
            train,
            Some(eff),
            Some(inc.normal_max_pct),
        )
    }
}

/// Brief-exercise triage \[PEF11\]: ≤ 24 % negative, ≥ 60 % positive, in
/// between a full RNS study decides.
fn triage_inconclusive(b: &Increment, c: &Criteria) -> Option<Finding> {
    let eff = b.effective();
    let inc = &c.increment;
    (b.source == IncrementSource::PostExercise
        && eff > inc.triage_negative_pct
        && eff < inc.lems_pct)
        .then(|| {
            finding(
                FindingCode::TriageInconclusive,
                format!(
                    "post-exercise increment {eff:.1} % lies between the brief-exercise triage limits ({:.0}–{:.0} %): a full RNS study with high-rate stimulation decides",
                    inc.triage_negative_pct, inc.lems_pct
                ),
                b.train.map(|t| t + 1),
                Some(eff),
                Some(inc.triage_negative_pct),
            )
        })
}

/// Rule 3's inputs: the largest decrement of a reliable low-rate train
/// (train, %), and the trains set aside with their flags.
struct Decrement {
    worst: Option<(usize, f64)>,
    skipped: Vec<(usize, Vec<FlagCode>)>,
}

/// Rule 3: the largest 4th/5th decrement among low-rate trains without a
/// technical warning \[A1\].
fn reliable_decrement(ctx: &Context<'_>, out: &[TrainOut], tf: &TrainFlags) -> Decrement {
    let mut worst: Option<(usize, f64)> = None;
    let mut skipped = Vec::new();
    for (i, t) in ctx.trains.iter().enumerate() {
        if !t.is_low_rate() {
            continue;
        }
        let Some(d) = out[i].decrement() else {
            continue;
        };
        let bad = tf.unreliable(i);
        if !bad.is_empty() {
            skipped.push((i, bad));
            continue;
        }
        if worst.is_none_or(|(_, w)| d > w) {
            worst = Some((i, d));
        }
    }
    Decrement { worst, skipped }
}

/// Repair and exhaustion, as in post-synaptic disorders \[N4\].
fn session_findings(session: &SessionOut, f: &mut Vec<Finding>) {
    if let Some(true) = session.repair {
        f.push(finding(
            FindingCode::Repair,
            "decrement is smaller right after exercise (repair), as in post-synaptic disorders"
                .into(),
            None,
            session.immediate_post_exercise_decrement_pct,
            session.baseline_decrement_pct,
        ));
    }
    if let Some(true) = session.exhaustion {
        f.push(finding(
            FindingCode::Exhaustion,
            "decrement is larger 1–4 min after exercise (exhaustion), as in post-synaptic disorders".into(),
            None,
            session.late_post_exercise_decrement_pct,
            session.baseline_decrement_pct,
        ));
    }
}

/// Rule 2: a LEMS-level effective increment makes the pattern `lems_like`;
/// an abnormal decrement beside it is reported (common in LEMS \[CJ\]\[N5\]).
fn lems_rule(
    eff_inc: Option<f64>,
    worst: Option<(usize, f64)>,
    c: &Criteria,
    f: &mut Vec<Finding>,
) -> Option<Pattern> {
    if eff_inc? < c.increment.lems_pct {
        return None;
    }
    if let Some((i, d)) = worst.filter(|&(_, d)| d > c.decrement.abnormal_pct) {
        f.push(finding(
            FindingCode::AbnormalDecrement,
            format!("decrement {d:.1} % at low rate (common in LEMS as well)"),
            Some(i + 1),
            Some(d),
            Some(c.decrement.abnormal_pct),
        ));
    }
    Some(Pattern::LemsLike)
}

/// Rule 3, no usable train: `indeterminate`.
fn no_decrement_rule(any_skipped: bool, f: &mut Vec<Finding>) -> Pattern {
    f.push(finding(
        FindingCode::NoReliableDecrement,
        if any_skipped {
            "every low-rate train carries a technical warning: decrement not assessed".into()
        } else {
            "no low-rate train with at least 4 responses: decrement not assessed".into()
        },
        None,
        None,
        None,
    ));
    Pattern::Indeterminate
}

/// Rule 4: an abnormal decrement \[A1\]\[N1\]\[N4\], judged by its shape.
fn abnormal_decrement_rule(
    ctx: &Context<'_>,
    out: &[TrainOut],
    tf: &TrainFlags,
    (wi, dec): (usize, f64),
    low_cmap: Option<bool>,
    eff_inc: Option<f64>,
    f: &mut Vec<Finding>,
) -> Pattern {
    let c = &ctx.cfg.criteria;
    // The shape criterion [S14] concerns the rest train: judge it there when
    // that train is itself abnormal and reliable (an exhaustion train after
    // exercise may decline differently).
    let shape_train = reference_baseline(&ctx.trains)
        .filter(|&b| {
            tf.unreliable(b).is_empty()
                && out[b]
                    .decrement()
                    .is_some_and(|d| d > c.decrement.abnormal_pct)
        })
        .unwrap_or(wi);
    let shape = out[shape_train].shape;
    f.push(abnormal_decrement_finding(
        out,
        (wi, dec),
        shape_train,
        c.decrement.abnormal_pct,
    ));
    if shape == Some(Shape::Progressive) {
        let ratio = out[shape_train].late_early_ratio;
        f.push(finding(
            FindingCode::ProgressiveDecrement,
            format!(
                "the decrement keeps growing to the end of the train ({}): seen in LEMS, MuSK-MG, ALS or fatigue, not typical of AChR-MG",
                ratio.map_or_else(
                    || "later responses fall further than the early ones".to_string(),
                    |r| format!("late/early ratio {r:.2} > {:.2}", c.decrement.late_early_ratio)
                )
            ),
            Some(shape_train + 1),
            ratio,
            Some(c.decrement.late_early_ratio),
        ));
        return Pattern::Indeterminate;
    }
    if low_cmap == Some(true) && eff_inc.is_none() {
        f.push(finding(
            FindingCode::FacilitationNotTested,
            "low CMAP with decrement and no exercise or high-rate data: a pre-synaptic pattern is not excluded; a brief-exercise test would decide".into(),
            None,
            None,
            None,
        ));
        return Pattern::Indeterminate;
    }
    Pattern::MgLike
}

/// The abnormal-decrement finding. When the rest train is abnormal itself
/// (`shape_train` is it), the finding cites its decrement first, the
/// figure a reader looks for, and the largest decrement after it;
/// otherwise the largest, with the train's shape.
fn abnormal_decrement_finding(
    out: &[TrainOut],
    (wi, dec): (usize, f64),
    shape_train: usize,
    limit: f64,
) -> Finding {
    let area = |i: usize| out[i].area_decrement().map(|a| format!("area {a:.1} %"));
    let shape = out[shape_train].shape;
    match out[shape_train].decrement() {
        Some(rest) if shape_train != wi => finding(
            FindingCode::AbnormalDecrement,
            format!(
                "decrement {rest:.1} % at rest (train {}{}) exceeds {limit:.0} %{}; largest {dec:.1} % in train {}{}",
                shape_train + 1,
                area(shape_train).map_or(String::new(), |a| format!("; {a}")),
                shape.map_or(String::new(), |sh| format!(" and is {}", sh.words())),
                wi + 1,
                area(wi).map_or(String::new(), |a| format!(" ({a})")),
            ),
            // `train` and `value` stay the largest decrement's, as the
            // contract has them; the message leads with the rest's.
            Some(wi + 1),
            Some(dec),
            Some(limit),
        ),
        _ => finding(
            FindingCode::AbnormalDecrement,
            format!(
                "decrement {dec:.1} % in train {}{} exceeds {limit:.0} %{}",
                wi + 1,
                area(wi).map_or(String::new(), |a| format!(" ({a})")),
                shape.map_or(String::new(), |sh| format!("; the train is {}", sh.words())),
            ),
            Some(wi + 1),
            Some(dec),
            Some(limit),
        ),
    }
}

/// Rule 5: no abnormal decrement. Equivocal (5–10 % \[FC1\]) or normal; a
/// borderline increment or a low CMAP leaves it `indeterminate`.
fn low_decrement_rule(
    (wi, dec): (usize, f64),
    low_cmap: Option<bool>,
    eff_inc: Option<f64>,
    c: &Criteria,
    f: &mut Vec<Finding>,
) -> Pattern {
    if dec >= c.decrement.equivocal_pct {
        f.push(finding(
            FindingCode::EquivocalDecrement,
            format!(
                "decrement {dec:.1} % is equivocal ({:.0}–{:.0} %)",
                c.decrement.equivocal_pct, c.decrement.abnormal_pct
            ),
            Some(wi + 1),
            Some(dec),
            Some(c.decrement.equivocal_pct),
        ));
    } else {
        f.push(finding(
            FindingCode::NormalDecrement,
            format!(
                "decrement {dec:.1} % is below {:.0} %",
                c.decrement.equivocal_pct
            ),
            Some(wi + 1),
            Some(dec),
            Some(c.decrement.equivocal_pct),
        ));
    }
    if eff_inc.is_some_and(|e| e >= c.increment.normal_max_pct) {
        return Pattern::Indeterminate;
    }
    if low_cmap == Some(true) {
        f.push(finding(
            FindingCode::LowCmapWithoutNmjPattern,
            if eff_inc.is_none() {
                "low CMAP without decrement; facilitation not tested: a brief-exercise test would decide".into()
            } else {
                "low CMAP without decrement or facilitation: not a neuromuscular-junction pattern".into()
            },
            None,
            None,
            None,
        ));
        return Pattern::Indeterminate;
    }
    Pattern::Normal
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flag(code: FlagCode) -> QualityFlag {
        QualityFlag {
            code,
            message: String::new(),
            train: Some(1),
            severity: Severity::Warning,
        }
    }

    #[test]
    fn a_doubtful_scale_names_its_cause() {
        assert_eq!(scale_doubt(&[flag(FlagCode::LateWave)]), None);
        let suspect = scale_doubt(&[flag(FlagCode::ScaleSuspect)]).unwrap();
        assert!(suspect.contains("scale suspect"), "{suspect}");
        let default = scale_doubt(&[flag(FlagCode::FullScaleDefault)]).unwrap();
        assert!(default.contains("--full-scale-mv"), "{default}");
    }
}
