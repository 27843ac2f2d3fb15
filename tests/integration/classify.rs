//! Scenario tests of the classification (`src/analysis/classify.rs`): the
//! pattern and the findings behind it for normal, MG-like, LEMS-like,
//! pseudofacilitation and indeterminate recordings, and the roles and timing
//! found when exercise shows as voluntary EMG between trains.

use crate::util::{check_cases, run_synth};
use rns_analyzer::analysis::Analysis;
use rns_analyzer::settings::config::AnalysisConfig;
use rns_analyzer::sim::synth::{
    incrementing_gains, progressive_gains, u_shaped_gains, CmapShape, Response, SynthOutput,
    SynthSpec, TrainSpec, VoluntarySpec,
};
use rns_analyzer::vocab::{FindingCode, FlagCode, Pattern, RoleSource, Shape, TrainRole};

fn adm() -> AnalysisConfig {
    AnalysisConfig {
        muscle: Some("ADM".into()),
        ..AnalysisConfig::default()
    }
}

fn cmap(amplitude_mv: f64) -> CmapShape {
    CmapShape {
        amplitude_mv,
        ..CmapShape::default()
    }
}

fn has_finding(a: &Analysis, code: &str) -> bool {
    a.classification
        .findings
        .iter()
        .any(|f| f.code.name() == code)
}

/// Each of `codes` is among the classification's findings.
#[track_caller]
fn assert_findings(a: &Analysis, codes: &[&str]) {
    for code in codes {
        assert!(has_finding(a, code), "no {code}: {}", summary(a));
    }
}

/// Voluntary EMG (the exercise) of `rms_mv` from `start_s` to `end_s`.
fn voluntary(start_s: f64, end_s: f64, rms_mv: f64) -> Vec<VoluntarySpec> {
    vec![VoluntarySpec {
        start_s,
        end_s,
        rms_mv,
    }]
}

/// Pattern, findings, flags and the per-train figures, for failure messages.
fn summary(a: &Analysis) -> String {
    let trains: Vec<String> = a
        .trains
        .iter()
        .map(|t| {
            format!(
                "  train {} {} ({}) {:?} Hz delay {:?}: n={} dec {:?} area dec {:?} inc {:?} area inc {:?} shape {:?} amps {:?}",
                t.index,
                t.role,
                t.role_source,
                t.rate_hz,
                t.delay_after_exercise_s,
                t.responses.len(),
                t.decrement_pct,
                t.area_decrement_pct,
                t.increment_pct,
                t.area_increment_pct,
                t.shape,
                t.responses
                    .iter()
                    .take(12)
                    .map(|r| r.amplitude_mv)
                    .collect::<Vec<_>>()
            )
        })
        .collect();
    format!(
        "pattern {}\nfindings {:?}\nflags {:?}\npost-exercise inc {:?} / area {:?}\nsession {:?}\n{}",
        a.classification.pattern,
        a.classification
            .findings
            .iter()
            .map(|f| format!("{}: {}", f.code, f.message))
            .collect::<Vec<_>>(),
        a.quality
            .iter()
            .map(|q| format!("{}@{:?} {}", q.code, q.train, q.message))
            .collect::<Vec<_>>(),
        a.post_exercise_increment_pct,
        a.post_exercise_area_increment_pct,
        a.session,
        trains.join("\n")
    )
}

/// Every response's stimulus time within 0.5 ms of the truth, and as many
/// trains as the truth has.
#[track_caller]
fn assert_timing_matches_truth(out: &SynthOutput, a: &Analysis) {
    let truth_trains = out.truth.responses.iter().map(|r| r.train).max().unwrap() + 1;
    assert_eq!(a.trains.len(), truth_trains, "{}", summary(a));
    for (k, t) in a.trains.iter().enumerate() {
        let truth = out.truth.train(k);
        assert_eq!(t.responses.len(), truth.len(), "train {}", k + 1);
        for (r, tr) in t.responses.iter().zip(&truth) {
            let s = r.stimulus_s.expect("continuous recording has times");
            assert!(
                (s - tr.stimulus_s).abs() <= 0.0005,
                "train {} response {}: stimulus at {s} s, truth {} s",
                k + 1,
                r.index,
                tr.stimulus_s
            );
        }
    }
}

/// Every train after the first is post-exercise, found from the voluntary
/// activity that ends at `ex_end` s, with its delay after the exercise within
/// 0.3 s of the truth.
#[track_caller]
fn assert_post_exercise_from_voluntary_activity(s: &SynthSpec, a: &Analysis, ex_end: f64) {
    for (k, t) in a.trains.iter().enumerate().skip(1) {
        assert_eq!(t.role, TrainRole::PostExercise, "{}", summary(a));
        assert_eq!(t.role_source, RoleSource::VoluntaryActivity);
        let truth = s.trains[k].start_s - ex_end;
        let d = t.delay_after_exercise_s.unwrap();
        assert!(
            (d - truth).abs() <= 0.3,
            "train {}: delay {d}, truth {truth}",
            k + 1
        );
    }
}

#[test]
fn normal_flat_train_and_small_post_exercise_increment() {
    // Normal ADM (10 mV), a flat 3 Hz train, 10 s of voluntary EMG, and a
    // post-exercise train 10 % larger (normal facilitation).
    let trains = vec![
        TrainSpec::from_gains(1.0, 3.0, &[1.0; 10]),
        TrainSpec::from_gains(17.0, 3.0, &[1.1; 10]),
    ];
    let mut s = SynthSpec::simple(10_000.0, trains);
    s.cmap = cmap(10.0);
    s.voluntary = voluntary(5.0, 15.0, 1.0);
    let (out, a) = run_synth(&s, &adm());
    assert_timing_matches_truth(&out, &a);
    assert_eq!(a.classification.pattern, Pattern::Normal, "{}", summary(&a));
    assert_findings(
        &a,
        &[
            "normal_baseline_cmap",
            "normal_decrement",
            "normal_increment",
        ],
    );
    let inc = a.post_exercise_increment_pct.unwrap();
    assert!((inc - 10.0).abs() < 2.0, "{}", summary(&a));
}

/// Analyse one rest train (3 Hz from 1 s, at 20 kHz) of CMAP `cmap_mv`; check
/// its pattern and that each of `findings` is among the classification's.
#[track_caller]
fn rest_train(gains: &[f64], cmap_mv: f64, pattern: &str, findings: &[&str]) -> Analysis {
    let mut s = SynthSpec::simple(20_000.0, vec![TrainSpec::from_gains(1.0, 3.0, gains)]);
    s.cmap = cmap(cmap_mv);
    let (_, a) = run_synth(&s, &adm());
    assert_eq!(a.classification.pattern.name(), pattern, "{}", summary(&a));
    assert_findings(&a, findings);
    a
}

#[test]
fn mg_like_u_shaped_decrement() {
    let gains = u_shaped_gains(10, 25.0);
    let a = rest_train(&gains, 10.0, "mg_like", &["abnormal_decrement"]);
    assert_eq!(a.trains[0].shape, Some(Shape::UShaped));
    let d = a.trains[0].decrement_pct.unwrap();
    assert!((d - 25.0).abs() < 1.5, "decrement {d}");
}

#[test]
fn irregular_zig_zag_is_indeterminate() {
    let gains: Vec<f64> = (0..10)
        .map(|j| if j % 2 == 0 { 1.0 } else { 0.85 })
        .collect();
    let findings = ["technically_unreliable_train", "no_reliable_decrement"];
    rest_train(&gains, 10.0, "indeterminate", &findings);
}

#[test]
fn progressive_decrement_is_indeterminate() {
    let gains = progressive_gains(10, 25.0);
    let findings = ["progressive_decrement", "abnormal_decrement"];
    let a = rest_train(&gains, 10.0, "indeterminate", &findings);
    assert_eq!(a.trains[0].shape, Some(Shape::Progressive));
}

#[test]
fn low_cmap_with_decrement_and_no_exercise_is_indeterminate() {
    let gains = u_shaped_gains(10, 25.0);
    let findings = [
        "facilitation_not_tested",
        "low_baseline_cmap",
        "abnormal_decrement",
    ];
    rest_train(&gains, 3.0, "indeterminate", &findings);
}

#[test]
fn mg_like_session_with_repair_and_exhaustion() {
    // Baseline 25 % U-shaped decrement; 30 s of voluntary contraction; right
    // after it the decrement is smaller (repair, 12 %), and at 1 and 2 min it
    // is larger (exhaustion, 35 %).
    let ex_end = 36.0;
    let trains = vec![
        TrainSpec::from_gains(1.0, 3.0, &u_shaped_gains(10, 25.0)),
        TrainSpec::from_gains(ex_end + 2.0, 3.0, &u_shaped_gains(10, 12.0)),
        TrainSpec::from_gains(ex_end + 60.0, 3.0, &u_shaped_gains(10, 35.0)),
        TrainSpec::from_gains(ex_end + 120.0, 3.0, &u_shaped_gains(10, 33.0)),
    ];
    let mut s = SynthSpec::simple(10_000.0, trains);
    s.cmap = cmap(10.0);
    s.noise_uv_rms = 10.0;
    s.voluntary = voluntary(6.0, ex_end, 1.0);
    let (out, a) = run_synth(&s, &adm());
    assert_timing_matches_truth(&out, &a);
    assert_eq!(a.classification.pattern, Pattern::MgLike, "{}", summary(&a));
    assert_eq!(a.session.repair, Some(true), "{}", summary(&a));
    assert_eq!(a.session.exhaustion, Some(true), "{}", summary(&a));
    assert_findings(&a, &["repair", "exhaustion"]);
    assert_eq!(
        a.session.exercise_source.map(|e| e.name()),
        Some("voluntary_activity")
    );
    // Roles and delays from the voluntary activity.
    assert_eq!(a.trains[0].role, TrainRole::Baseline);
    assert_post_exercise_from_voluntary_activity(&s, &a, ex_end);
}

#[test]
fn lems_like_brief_exercise() {
    // Low ADM CMAP (3 mV) with a 3 Hz decrement; 10 s of voluntary
    // contraction; the first response after it is 150 % larger in amplitude and area.
    let ex_end = 15.0;
    let post: Vec<f64> = u_shaped_gains(6, 15.0).iter().map(|g| g * 2.5).collect();
    let trains = vec![
        TrainSpec::from_gains(1.0, 3.0, &u_shaped_gains(10, 20.0)),
        TrainSpec::from_gains(ex_end + 2.0, 3.0, &post),
    ];
    let mut s = SynthSpec::simple(10_000.0, trains);
    s.cmap = cmap(3.0);
    s.voluntary = voluntary(5.0, ex_end, 0.5);
    let (out, a) = run_synth(&s, &adm());
    assert_timing_matches_truth(&out, &a);
    assert_eq!(
        a.classification.pattern,
        Pattern::LemsLike,
        "{}",
        summary(&a)
    );
    assert_findings(&a, &["low_baseline_cmap", "lems_level_increment"]);
    let inc = a.post_exercise_increment_pct.unwrap();
    let area_inc = a.post_exercise_area_increment_pct.unwrap();
    assert!((inc - 150.0).abs() < 7.5, "{}", summary(&a));
    assert!((area_inc - 150.0).abs() < 7.5, "{}", summary(&a));
    assert_post_exercise_from_voluntary_activity(&s, &a, ex_end);
}

#[test]
fn lems_like_high_rate_increment() {
    // Low ADM CMAP (3 mV): a 3 Hz train, then 50 Hz for 1 s rising 150 %.
    let trains = vec![
        TrainSpec::from_gains(1.0, 3.0, &u_shaped_gains(10, 15.0)),
        TrainSpec::from_gains(6.0, 50.0, &incrementing_gains(50, 150.0)),
    ];
    let mut s = SynthSpec::simple(20_000.0, trains);
    s.cmap = cmap(3.0);
    let (out, a) = run_synth(&s, &adm());
    assert_timing_matches_truth(&out, &a);
    assert_eq!(a.trains[1].role, TrainRole::Hfs);
    assert_eq!(a.trains[1].role_source, RoleSource::Rate);
    assert_eq!(
        a.classification.pattern,
        Pattern::LemsLike,
        "{}",
        summary(&a)
    );
    let f = a
        .classification
        .findings
        .iter()
        .find(|f| f.code == FindingCode::LemsLevelIncrement)
        .unwrap_or_else(|| panic!("{}", summary(&a)));
    assert_eq!(f.train, Some(2));
    assert!((f.value.unwrap() - 150.0).abs() < 7.5, "{}", summary(&a));
}

#[test]
fn pseudofacilitation_alone_is_not_lems_like() {
    // Normal ADM; at 50 Hz the amplitude rises 70 % while the responses
    // narrow in proportion (area flat).
    let responses: Vec<Response> = incrementing_gains(50, 70.0)
        .into_iter()
        .map(|gain| Response {
            gain,
            width: 1.0 / gain,
        })
        .collect();
    let trains = vec![
        TrainSpec::from_gains(1.0, 3.0, &[1.0; 10]),
        TrainSpec {
            start_s: 6.0,
            rate_hz: 50.0,
            responses,
        },
    ];
    let mut s = SynthSpec::simple(20_000.0, trains);
    s.cmap = cmap(10.0);
    let (_, a) = run_synth(&s, &adm());
    assert_ne!(
        a.classification.pattern,
        Pattern::LemsLike,
        "{}",
        summary(&a)
    );
    assert_eq!(a.classification.pattern, Pattern::Normal, "{}", summary(&a));
    assert!(has_finding(&a, "pseudofacilitation"), "{}", summary(&a));
    assert!(!has_finding(&a, "lems_level_increment"));
    let inc = a.trains[1].increment_pct.unwrap();
    let area_inc = a.trains[1].area_increment_pct.unwrap();
    assert!((inc - 70.0).abs() < 5.0, "{}", summary(&a));
    assert!(area_inc.abs() < 10.0, "{}", summary(&a));
    assert!(a
        .quality
        .iter()
        .any(|q| q.code == FlagCode::Pseudofacilitation && q.train == Some(2)));
}

#[test]
fn post_exercise_pseudofacilitation_is_not_lems_like() {
    // Normal ADM; after 10 s of voluntary contraction the amplitude is 70 %
    // larger but the response is proportionally narrower (area flat).
    let ex_end = 15.0;
    let post = vec![
        Response {
            gain: 1.7,
            width: 1.0 / 1.7,
        };
        6
    ];
    let trains = vec![
        TrainSpec::from_gains(1.0, 3.0, &[1.0; 6]),
        TrainSpec {
            start_s: ex_end + 2.0,
            rate_hz: 3.0,
            responses: post,
        },
    ];
    let mut s = SynthSpec::simple(10_000.0, trains);
    s.cmap = cmap(10.0);
    s.voluntary = voluntary(5.0, ex_end, 1.0);
    let (_, a) = run_synth(&s, &adm());
    assert_eq!(a.trains[1].role, TrainRole::PostExercise, "{}", summary(&a));
    assert_ne!(
        a.classification.pattern,
        Pattern::LemsLike,
        "{}",
        summary(&a)
    );
    assert!(has_finding(&a, "pseudofacilitation"), "{}", summary(&a));
    assert!((a.post_exercise_increment_pct.unwrap() - 70.0).abs() < 5.0);
    assert!(a.post_exercise_area_increment_pct.unwrap().abs() < 10.0);
    assert!(a
        .quality
        .iter()
        .any(|q| q.code == FlagCode::Pseudofacilitation && q.train == Some(2)));
}

#[test]
fn roles_from_voluntary_activity_between_trains() {
    let cases = [
        (5_000.0, 2.0),
        (5_000.0, 1.0),
        (10_000.0, 2.0),
        (20_000.0, 5.0),
        (50_000.0, 0.5),
    ];
    check_cases(
        cases.map(|(fs, rms_mv)| (format!("{fs} Hz, voluntary {rms_mv} mV rms"), (fs, rms_mv))),
        |(fs, rms_mv)| roles_from_voluntary_activity(fs, rms_mv),
    );
}

fn roles_from_voluntary_activity(fs: f64, rms_mv: f64) {
    // Rest train, 10 s of voluntary EMG, then trains at 3 s, 30 s and 60 s.
    let ex_end = 14.0;
    let trains = vec![
        TrainSpec::from_gains(1.0, 3.0, &[1.0; 6]),
        TrainSpec::from_gains(ex_end + 3.0, 3.0, &[1.05; 6]),
        TrainSpec::from_gains(ex_end + 30.0, 3.0, &[1.0; 6]),
        TrainSpec::from_gains(ex_end + 60.0, 3.0, &[1.0; 6]),
    ];
    let mut s = SynthSpec::simple(fs, trains);
    s.noise_uv_rms = 15.0;
    s.voluntary = voluntary(4.0, ex_end, rms_mv);
    let (out, a) = run_synth(&s, &adm());
    // No stimulus is found inside the voluntary EMG.
    assert_timing_matches_truth(&out, &a);
    let ctx = summary(&a);
    assert_eq!(a.trains[0].role, TrainRole::Baseline, "{ctx}");
    assert_eq!(
        a.trains[0].role_source,
        RoleSource::VoluntaryActivity,
        "{ctx}"
    );
    assert_eq!(a.trains[0].delay_after_exercise_s, None);
    assert_post_exercise_from_voluntary_activity(&s, &a, ex_end);
    let start = a.session.exercise_start_s.unwrap();
    let end = a.session.exercise_end_s.unwrap();
    assert!((start - 4.0).abs() <= 0.3, "exercise start {start}");
    assert!((end - ex_end).abs() <= 0.3, "exercise end {end}");
    assert!(!a.quality.iter().any(|q| q.code == FlagCode::RolesInferred));
}

#[test]
fn no_exercise_is_seen_in_quiet_interference() {
    // No voluntary EMG, but strong wander and hum: the trains after a pause
    // are post-exercise only by order and gaps (and flagged as such).
    use rns_analyzer::sim::synth::{HumSpec, WanderSpec};
    check_cases(
        [5_000.0, 50_000.0].map(|fs| (format!("{fs} Hz"), fs)),
        |fs| {
            let trains = vec![
                TrainSpec::from_gains(1.0, 3.0, &[1.0; 6]),
                TrainSpec::from_gains(12.0, 3.0, &[1.0; 6]),
            ];
            let mut s = SynthSpec::simple(fs, trains);
            s.cmap = cmap(4.0);
            s.noise_uv_rms = 25.0;
            s.wander = Some(WanderSpec {
                amplitude_uv: 3000.0,
                freq_hz: 1.5,
            });
            s.hum = Some(HumSpec {
                freq_hz: 50.0,
                amplitude_uv: 200.0,
                harmonic3_ratio: 0.3,
            });
            let (_, a) = run_synth(&s, &adm());
            assert_eq!(a.session.exercise_source, None, "{}", summary(&a));
            assert_eq!(a.trains[1].role_source, RoleSource::OrderAndGaps);
            assert!(a.quality.iter().any(|q| q.code == FlagCode::RolesInferred));
        },
    );
}

/// A muscle the criteria know no normal range for: the baseline CMAP is
/// said not to have been checked, instead of nothing being said.
#[test]
fn an_unknown_muscle_says_the_cmap_was_not_checked() {
    let s = SynthSpec::simple(20_000.0, vec![TrainSpec::from_gains(1.0, 3.0, &[1.0; 8])]);
    let cfg = AnalysisConfig {
        muscle: Some("tibialis anterior".into()),
        ..AnalysisConfig::default()
    };
    let (_, a) = run_synth(&s, &cfg);
    assert_findings(&a, &["baseline_cmap_not_checked"]);
    assert!(!has_finding(&a, "normal_baseline_cmap"));
    let f = a
        .classification
        .findings
        .iter()
        .find(|f| f.code == FindingCode::BaselineCmapNotChecked)
        .unwrap();
    assert!(f.message.contains("tibialis anterior") && f.message.contains("ADM"));
    // Without a muscle, nothing is claimed either way.
    let (_, a) = run_synth(&s, &AnalysisConfig::default());
    assert!(!has_finding(&a, "baseline_cmap_not_checked"));
    assert_eq!(a.classification.pattern, Pattern::Normal);
}
