//! Classification of the pattern (primer §4): `normal`, `mg_like`, `lems_like`
//! or `indeterminate`, with the findings that led to it. It names patterns,
//! never diagnoses.
//!
//! Rules, in order:
//! 1. **Effective increment** of a source (post-exercise first response vs
//!    rest; or an `hfs` train's largest vs first) is the *smaller* of its
//!    amplitude and area increments: a rise in amplitude without a rise in area
//!    is pseudofacilitation, never facilitation \[N3\]\[PAD\]. Sources flagged as
//!    technically unreliable do not count: for a post-exercise comparison, the
//!    flags that corrupt a first response (artifact overlap, clipping, absent
//!    or implausible response, baseline instability, unmeasurable); for a
//!    high-rate train, any reliability flag (a zig-zag inflates its largest
//!    response), and fewer than 5 responses.
//! 2. Effective increment ≥ `lems_pct` (60 %) \[O5\]\[L20\] → **lems_like**.
//! 3. Otherwise the decrement decides. It is the largest 4th/5th-response
//!    decrement among low-rate trains that carry no technical warning (rest
//!    or after exercise, \[A1\]). No such train → **indeterminate**.
//! 4. Decrement > `abnormal_pct` (10 %) \[A1\]\[N1\]\[N4\]. The shape is judged on
//!    the rest train when it is itself abnormal (the criterion \[S14\] concerns
//!    it), else on the train with the largest decrement. U-shaped → **mg_like**,
//!    unless the baseline CMAP is low and facilitation was not tested (a
//!    pre-synaptic disorder is not excluded) → indeterminate. Progressive
//!    (late > 102 % of early \[S14\]) → indeterminate: LEMS, MuSK-MG, ALS or
//!    fatigue can do this.
//! 5. Decrement ≤ 10 %: an increment between `normal_max_pct` (40 %) and 60 %
//!    → indeterminate; a low baseline CMAP → indeterminate; else **normal**
//!    (a 5–10 % decrement is reported as equivocal \[FC1\]).
//!
//! A post-exercise increment between the brief-exercise triage limits
//! (`triage_negative_pct` 24 % and 60 % \[PEF11\]) adds a `triage_inconclusive`
//! finding: the triage neither clears nor confirms a pre-synaptic pattern.

use crate::analysis::result::{round, Classification, Finding, QualityFlag, SessionOut, TrainOut};
use crate::analysis::{
    quality, reference_baseline, train_area_decrement, train_decrement, Context,
};
use crate::protocol::TrainRole;

/// Quality codes that corrupt a train's first response, and so any
/// increment computed from it.
const FIRST_RESPONSE_UNRELIABLE: &[&str] = &[
    "artifact_overlap",
    "clipped_signal",
    "response_absent",
    "implausible_response",
    "baseline_instability",
    "unmeasurable_response",
];

/// Quality codes that make a train's numbers untrustworthy for interpretation.
const UNRELIABLE: &[&str] = &[
    "irregular_amplitudes",
    "amplitude_area_disagreement",
    "artifact_overlap",
    "clipped_signal",
    "response_absent",
    "implausible_response",
    "baseline_instability",
    "unmeasurable_response",
];

fn finding(
    code: &str,
    message: String,
    train: Option<usize>,
    value: Option<f64>,
    threshold: Option<f64>,
) -> Finding {
    Finding {
        code: code.to_string(),
        message,
        train,
        value: value.map(|v| round(v, 2)),
        threshold,
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
    let mut f: Vec<Finding> = Vec::new();
    // Each train's flag codes, in flag order, gathered once: a search of
    // every flag per train is quadratic when noise makes thousands of trains.
    let mut codes_of: Vec<Vec<&str>> = Vec::new();
    for q in flags {
        if let Some(t) = q.train.and_then(|t| t.checked_sub(1)) {
            if codes_of.len() <= t {
                codes_of.resize(t + 1, Vec::new());
            }
            codes_of[t].push(q.code.as_str());
        }
    }
    let codes = |train: usize| codes_of.get(train).map_or(&[][..], Vec::as_slice);
    let unreliable = |train: usize| -> Vec<&str> {
        codes(train)
            .iter()
            .copied()
            .filter(|c| UNRELIABLE.contains(c))
            .collect()
    };
    // Zig-zag and amplitude/area disagreement describe a train's pattern; an
    // increment compares first responses, which only these flags corrupt.
    let first_unreliable = |train: usize| -> bool {
        codes(train)
            .iter()
            .any(|c| FIRST_RESPONSE_UNRELIABLE.contains(c))
    };
    let recording_wide_warnings: Vec<&str> = flags
        .iter()
        .filter(|q| q.train.is_none() && q.code == "low_temperature")
        .map(|q| q.code.as_str())
        .collect();

    // Baseline CMAP against the muscle's normal range.
    let low_cmap = match (
        session.baseline_cmap_mv,
        session.baseline_cmap_lower_limit_mv,
    ) {
        (Some(a), Some(lim)) => {
            let low = a < lim;
            f.push(finding(
                if low {
                    "low_baseline_cmap"
                } else {
                    "normal_baseline_cmap"
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
        _ => None,
    };

    // 1. Increments.
    let mut sources: Vec<(String, Option<usize>, f64, f64)> = Vec::new();
    let post_idx = ctx
        .trains
        .iter()
        .position(|t| t.role == TrainRole::PostExercise && !t.measurements.is_empty());
    if let (Some(p), (Some(a), Some(ar))) = (post_idx, quality::post_increments(ctx)) {
        let base = reference_baseline(&ctx.trains);
        let bad = first_unreliable(p) || base.is_some_and(first_unreliable);
        if !bad {
            sources.push(("post-exercise".into(), Some(p), a, ar));
        }
    }
    for (i, t) in ctx.trains.iter().enumerate() {
        // A high-rate increment is the largest response of the train: a
        // zig-zag inflates it, so every reliability flag counts here.
        // A handful of responses at a high rate is no high-rate study (and
        // is what random spikes grouped by chance look like).
        if t.role == TrainRole::Hfs
            && t.measurements.len() >= quality::MIN_HFS_RESPONSES
            && unreliable(i).is_empty()
        {
            if let (Some(a), Some(ar)) = (out[i].increment_pct, out[i].area_increment_pct) {
                sources.push((
                    format!("high-rate ({:.0} Hz)", t.rate_hz.unwrap_or(0.0)),
                    Some(i),
                    a,
                    ar,
                ));
            }
        }
    }
    let best = sources
        .iter()
        .map(|(name, tr, a, ar)| (name.clone(), *tr, *a, *ar, a.min(*ar)))
        .max_by(|x, y| x.4.total_cmp(&y.4));
    if let Some((name, tr, a, ar, eff)) = &best {
        let train = tr.map(|t| t + 1);
        if *eff >= c.increment.lems_pct {
            let classic = *eff >= c.increment.classic_lems_pct;
            f.push(finding(
                "lems_level_increment",
                format!(
                    "{name} increment {a:.1} % in amplitude and {ar:.1} % in area (≥ {:.0} %{})",
                    c.increment.lems_pct,
                    if classic {
                        ", at the classic ≥ 100 % level"
                    } else {
                        ""
                    }
                ),
                train,
                Some(*eff),
                Some(c.increment.lems_pct),
            ));
        } else if *a >= c.increment.normal_max_pct && *ar < c.increment.normal_max_pct {
            f.push(finding(
                "pseudofacilitation",
                format!("{name} amplitude rose {a:.1} % but area only {ar:.1} %: pseudofacilitation, not facilitation"),
                train,
                Some(*a),
                Some(c.increment.normal_max_pct),
            ));
        } else if *eff >= c.increment.normal_max_pct {
            f.push(finding(
                "borderline_increment",
                format!(
                    "{name} increment {eff:.1} % is above normal (< {:.0} %) but below the LEMS level ({:.0} %)",
                    c.increment.normal_max_pct, c.increment.lems_pct
                ),
                train,
                Some(*eff),
                Some(c.increment.normal_max_pct),
            ));
        } else {
            f.push(finding(
                "normal_increment",
                format!("{name} increment {eff:.1} % (amplitude {a:.1} %, area {ar:.1} %) is below {:.0} %", c.increment.normal_max_pct),
                train,
                Some(*eff),
                Some(c.increment.normal_max_pct),
            ));
        }
    }
    // Brief-exercise triage [PEF11]: ≤ 24 % negative, ≥ 60 % positive, in
    // between a full RNS study decides.
    if let Some((name, train, _, _, eff)) = &best {
        if name == "post-exercise"
            && *eff > c.increment.triage_negative_pct
            && *eff < c.increment.lems_pct
        {
            f.push(finding(
                "triage_inconclusive",
                format!(
                    "post-exercise increment {eff:.1} % lies between the brief-exercise triage limits ({:.0}–{:.0} %): a full RNS study with high-rate stimulation decides",
                    c.increment.triage_negative_pct, c.increment.lems_pct
                ),
                train.map(|t| t + 1),
                Some(*eff),
                Some(c.increment.triage_negative_pct),
            ));
        }
    }
    let eff_inc = best.as_ref().map(|b| b.4);

    // 3. Decrement from reliable low-rate trains.
    let mut worst: Option<(usize, f64)> = None;
    let mut skipped: Vec<(usize, Vec<&str>)> = Vec::new();
    for (i, t) in ctx.trains.iter().enumerate() {
        if !t.is_low_rate() {
            continue;
        }
        let Some(d) = train_decrement(&out[i]) else {
            continue;
        };
        let bad = unreliable(i);
        if !bad.is_empty() {
            skipped.push((i, bad));
            continue;
        }
        if worst.is_none_or(|(_, w)| d > w) {
            worst = Some((i, d));
        }
    }
    for (i, codes) in &skipped {
        f.push(finding(
            "technically_unreliable_train",
            format!(
                "train {} not used for interpretation: {}",
                i + 1,
                codes.join(", ")
            ),
            Some(i + 1),
            None,
            None,
        ));
    }
    if let Some(true) = session.repair {
        f.push(finding(
            "repair",
            "decrement is smaller right after exercise (repair), as in post-synaptic disorders"
                .into(),
            None,
            session.immediate_post_exercise_decrement_pct,
            session.baseline_decrement_pct,
        ));
    }
    if let Some(true) = session.exhaustion {
        f.push(finding(
            "exhaustion",
            "decrement is larger 1–4 min after exercise (exhaustion), as in post-synaptic disorders".into(),
            None,
            session.late_post_exercise_decrement_pct,
            session.baseline_decrement_pct,
        ));
    }
    for code in &recording_wide_warnings {
        if *code == "low_temperature" {
            f.push(finding(
                "low_temperature",
                "the limb was cool: a decrement may be masked".into(),
                None,
                ctx.cfg.temperature_c,
                Some(c.quality.min_temperature_c),
            ));
        }
    }

    let pattern = |p: &str| p.to_string();
    let done = |pattern: String, f: Vec<Finding>| Classification {
        pattern,
        findings: f,
    };

    if let Some(e) = eff_inc {
        if e >= c.increment.lems_pct {
            if let Some((i, d)) = worst {
                if d > c.decrement.abnormal_pct {
                    f.push(finding(
                        "abnormal_decrement",
                        format!("decrement {d:.1} % at low rate (common in LEMS as well)"),
                        Some(i + 1),
                        Some(d),
                        Some(c.decrement.abnormal_pct),
                    ));
                }
            }
            return done(pattern("lems_like"), f);
        }
    }
    let Some((wi, dec)) = worst else {
        f.push(finding(
            "no_reliable_decrement",
            if skipped.is_empty() {
                "no low-rate train with at least 4 responses: decrement not assessed".into()
            } else {
                "every low-rate train carries a technical warning: decrement not assessed".into()
            },
            None,
            None,
            None,
        ));
        return done(pattern("indeterminate"), f);
    };
    let area_dec = train_area_decrement(&out[wi]);
    // The shape criterion [S14] concerns the rest train: judge it there when
    // that train is itself abnormal and reliable (an exhaustion train after
    // exercise may decline differently).
    let shape_train = reference_baseline(&ctx.trains)
        .filter(|&b| {
            unreliable(b).is_empty()
                && train_decrement(&out[b]).is_some_and(|d| d > c.decrement.abnormal_pct)
        })
        .unwrap_or(wi);
    let shape = out[shape_train].shape.clone().unwrap_or_default();
    if dec > c.decrement.abnormal_pct {
        f.push(finding(
            "abnormal_decrement",
            format!(
                "decrement {dec:.1} % in train {} (area {}) exceeds {:.0} %; {} is {}",
                wi + 1,
                area_dec.map_or("n/a".into(), |a| format!("{a:.1} %")),
                c.decrement.abnormal_pct,
                if shape_train == wi {
                    "the train".to_string()
                } else {
                    format!("the rest train ({})", shape_train + 1)
                },
                shape.replace('_', "-")
            ),
            Some(wi + 1),
            Some(dec),
            Some(c.decrement.abnormal_pct),
        ));
        if shape == "progressive" {
            f.push(finding(
                "progressive_decrement",
                format!(
                    "the decrement keeps growing to the end of the train (late/early ratio {} > {:.2}): seen in LEMS, MuSK-MG, ALS or fatigue, not typical of AChR-MG",
                    out[shape_train].late_early_ratio.map_or("n/a".into(), |r| format!("{r:.2}")),
                    c.decrement.late_early_ratio
                ),
                Some(shape_train + 1),
                out[shape_train].late_early_ratio,
                Some(c.decrement.late_early_ratio),
            ));
            return done(pattern("indeterminate"), f);
        }
        if low_cmap == Some(true) && eff_inc.is_none() {
            f.push(finding(
                "facilitation_not_tested",
                "low CMAP with decrement and no exercise or high-rate data: a pre-synaptic pattern is not excluded; a brief-exercise test would decide".into(),
                None,
                None,
                None,
            ));
            return done(pattern("indeterminate"), f);
        }
        return done(pattern("mg_like"), f);
    }
    if dec >= c.decrement.equivocal_pct {
        f.push(finding(
            "equivocal_decrement",
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
            "normal_decrement",
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
        return done(pattern("indeterminate"), f);
    }
    if low_cmap == Some(true) {
        f.push(finding(
            "low_cmap_without_nmj_pattern",
            if eff_inc.is_none() {
                "low CMAP without decrement; facilitation not tested: a brief-exercise test would decide".into()
            } else {
                "low CMAP without decrement or facilitation: not a neuromuscular-junction pattern".into()
            },
            None,
            None,
            None,
        ));
        return done(pattern("indeterminate"), f);
    }
    done(pattern("normal"), f)
}
