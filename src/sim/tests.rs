//! Calibration: the emergent behaviours the primer asks of the model
//! (issue "simulator": normal < 5 % decrement and < 40 % post-exercise rise;
//! ~30 % AChR loss starts to decrement; MG U-shaped with repair and exhaustion;
//! LEMS small first CMAP and ≥ 100 % increment at 50 Hz and after 10 s
//! exercise; cooling and the inhibitor reduce the MG decrement).

use super::*;
use crate::analysis::metrics::{self, ShapeParams};
use crate::vocab::Shape;

fn truth(junction: Junction, kind: ProtocolKind) -> SimTruth {
    let spec = SimSpec {
        junction,
        muscle: Muscle::parse("ADM").unwrap(),
        protocol: Protocol::standard(kind, 10, 50.0, 1.0),
        recording: Recording {
            sample_rate_hz: 5_000.0,
            ..Recording::default()
        },
        seed: 7,
    };
    simulate(&spec).truth
}

fn amps(t: &SimTruth, train: usize) -> Vec<f64> {
    t.responses
        .iter()
        .filter(|r| r.train == train)
        .map(|r| r.amplitude_mv)
        .collect()
}

fn areas(t: &SimTruth, train: usize) -> Vec<f64> {
    t.responses
        .iter()
        .filter(|r| r.train == train)
        .map(|r| r.area_mv_ms)
        .collect()
}

fn dec(v: &[f64]) -> f64 {
    metrics::decrement(v, 4).unwrap()
}

fn pct(a: f64, b: f64) -> f64 {
    (b - a) / a * 100.0
}

const SHAPE: ShapeParams = ShapeParams {
    flat_pct: 5.0,
    late_early_ratio: 1.02,
    reversal_step_pct: 2.0,
    max_reversals: 2,
};

fn junction(f: impl FnOnce(&mut Junction)) -> Junction {
    let mut j = Junction::default();
    f(&mut j);
    j
}

#[test]
fn normal_junction_has_no_decrement_and_little_post_exercise_rise() {
    let t = truth(Preset::Normal.junction(), ProtocolKind::Session);
    let rest = amps(&t, 1);
    assert!(dec(&rest).abs() < 5.0, "{rest:?}");
    assert!((rest[0] - 11.6).abs() < 0.3, "normal ADM CMAP {}", rest[0]);
    let post = amps(&t, 2);
    assert!(pct(rest[0], post[0]) < 40.0);
    // High rate: amplitude up by better synchrony, area flat (pseudofacilitation).
    let (hfs, hfs_area) = (amps(&t, 3), areas(&t, 3));
    let amp_inc = metrics::increment_max(&hfs).unwrap();
    let area_inc = metrics::increment_max(&hfs_area).unwrap();
    assert!(amp_inc > 8.0 && amp_inc < 40.0, "amplitude {amp_inc}");
    assert!(area_inc < 5.0, "area {area_inc}");
}

#[test]
fn thirty_percent_achr_loss_is_where_decrement_starts() {
    let d = |a: f64| {
        dec(&amps(
            &truth(junction(|j| j.achr_fraction = a), ProtocolKind::Baseline),
            1,
        ))
    };
    let (d85, d70, d60) = (d(0.85), d(0.7), d(0.6));
    assert!(d85 < 1.0, "AChR 85 %: {d85}");
    assert!(d70 > d85 && d70 < 5.0, "AChR 70 %: {d70}");
    assert!(d60 > 3.0, "AChR 60 %: {d60}");
}

#[test]
fn mg_presets_show_u_shaped_decrement_repair_and_exhaustion() {
    for (p, lo, hi) in [(Preset::MgMild, 10.0, 25.0), (Preset::MgSevere, 25.0, 60.0)] {
        let t = truth(p.junction(), ProtocolKind::Exhaustion);
        let rest = amps(&t, 1);
        let d0 = dec(&rest);
        assert!(d0 > lo && d0 < hi, "{}: rest decrement {d0}", p.name());
        let shape = metrics::shape(&rest, &SHAPE).unwrap();
        assert_eq!(shape, Shape::UShaped, "{}: {rest:?}", p.name());
        // Repair right after the contraction, exhaustion at 1–4 min.
        let immediate = dec(&amps(&t, 2));
        let late = (3..=6).map(|k| dec(&amps(&t, k))).fold(f64::MIN, f64::max);
        assert!(
            immediate < d0 - 5.0,
            "{}: repair {immediate} vs {d0}",
            p.name()
        );
        assert!(late > d0 + 5.0, "{}: exhaustion {late} vs {d0}", p.name());
    }
}

#[test]
fn lems_has_small_cmap_and_large_increments() {
    let t = truth(Preset::Lems.junction(), ProtocolKind::Session);
    let rest = amps(&t, 1);
    assert!(rest[0] < 0.5 * 11.6, "first CMAP {}", rest[0]);
    let post = pct(rest[0], amps(&t, 2)[0]);
    assert!(post >= 100.0, "post-exercise {post}");
    let hfs = amps(&t, 3);
    let hfs_area = areas(&t, 3);
    assert!(metrics::increment_max(&hfs).unwrap() >= 100.0);
    assert!(
        metrics::increment_max(&hfs_area).unwrap() >= 100.0,
        "area too"
    );
}

#[test]
fn botulism_like_has_small_cmap_and_moderate_increment() {
    let t = truth(Preset::BotulismLike.junction(), ProtocolKind::Hfs);
    let rest = amps(&t, 1);
    assert!(rest[0] < 0.8 * 11.6, "first CMAP {}", rest[0]);
    let inc = metrics::increment_max(&amps(&t, 2)).unwrap();
    assert!((20.0..=120.0).contains(&inc), "increment {inc}");
}

#[test]
fn cooling_and_cholinesterase_inhibitor_reduce_mg_decrement() {
    let base = Preset::MgMild.junction();
    let d = |j: Junction| dec(&amps(&truth(j, ProtocolKind::Baseline), 1));
    let d0 = d(base);
    let cool = d(Junction {
        temperature_c: 28.0,
        ..base
    });
    let warm = d(Junction {
        temperature_c: 36.0,
        ..base
    });
    let inhib = d(Junction {
        ache_inhibitor: 1.0,
        ..base
    });
    assert!(cool < d0 - 3.0, "cooling {cool} vs {d0}");
    assert!(warm > d0, "warmth worsens: {warm} vs {d0}");
    assert!(inhib < d0 - 5.0, "inhibitor {inhib} vs {d0}");
}

#[test]
fn dap_raises_the_lems_cmap() {
    let base = Preset::Lems.junction();
    let a = |j: Junction| amps(&truth(j, ProtocolKind::Baseline), 1)[0];
    assert!(a(Junction { dap: 1.0, ..base }) > 1.5 * a(base));
}

#[test]
fn same_seed_same_bytes_other_seed_other_noise() {
    let spec = |seed| SimSpec {
        junction: Preset::MgMild.junction(),
        muscle: Muscle::parse("APB").unwrap(),
        protocol: Protocol::standard(ProtocolKind::Baseline, 6, 50.0, 1.0),
        recording: Recording::default(),
        seed,
    };
    let (a, b, c) = (simulate(&spec(3)), simulate(&spec(3)), simulate(&spec(4)));
    assert_eq!(a.samples, b.samples);
    assert_eq!(a.truth, b.truth);
    assert_ne!(a.samples, c.samples);
}

#[test]
fn protocols_have_the_documented_timing() {
    let p = Protocol::standard(ProtocolKind::Exhaustion, 10, 50.0, 1.0);
    let end = p.exercise[0].1;
    assert_eq!(p.exercise[0].1 - p.exercise[0].0, 30.0);
    let delays: Vec<f64> = p.stages[1..].iter().map(|s| s.start_s - end).collect();
    assert_eq!(delays, vec![2.0, 60.0, 120.0, 180.0, 240.0]);
    let h = Protocol::standard(ProtocolKind::Hfs, 10, 30.0, 2.0);
    assert_eq!(h.stages[1].count, 60);
    assert_eq!(h.stages[1].role, TrainRole::Hfs);
    let sched = h.schedule();
    assert!(sched
        .events
        .windows(2)
        .all(|w| matches!((w[0], w[1]), (Event::Stimulus { t: a, .. }, Event::Stimulus { t: b, .. }) if a < b)));
}
