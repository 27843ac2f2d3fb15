//! Measurement accuracy on synthetic recordings with known answers: amplitudes
//! within 3 % and decrements within 1.5 points across 5–50 kHz, noise up to
//! 25 µV rms, mains hum, baseline wander and clipped artifacts.

use crate::accuracy_cases::{errors, small_cmap_case, spec, Condition};
use crate::util::run_synth;
use rns_analyzer::settings::config::AnalysisConfig;
use rns_analyzer::vocab::TrainRole;

#[test]
fn amplitude_and_decrement_accuracy_across_rates_and_conditions() {
    let cfg = AnalysisConfig::default();
    let mut report = Vec::new();
    let mut worst = (0.0f64, 0.0f64, 0.0f64);
    for rate in [5_000.0, 10_000.0, 20_000.0, 50_000.0] {
        for cond in Condition::ALL {
            let (out, a) = run_synth(&spec(rate, cond, 7), &cfg);
            let (amp, area, dec) = errors(&out, &a);
            report.push(format!(
                "{rate:>6} {}: amp {amp:.2} % area {area:.2} % dec {dec:.2} pt",
                cond.label()
            ));
            worst = (worst.0.max(amp), worst.1.max(area), worst.2.max(dec));
        }
    }
    let text = report.join("\n");
    assert!(worst.0 <= 3.0, "amplitude error > 3 %:\n{text}");
    assert!(worst.2 <= 1.5, "decrement error > 1.5 points:\n{text}");
    eprintln!("{text}");
}

/// Worst amplitude (%) and decrement (points) errors over seeds 1–3.
fn worst_over_seeds(rate: f64, amplitude_mv: f64) -> (f64, f64, String) {
    let cfg = AnalysisConfig::default();
    let mut worst = (0.0f64, 0.0f64);
    let mut report = Vec::new();
    for seed in [1, 2, 3] {
        let (out, a) = run_synth(&small_cmap_case(rate, amplitude_mv, seed), &cfg);
        assert_eq!(a.trains[1].responses.len(), 200);
        assert_eq!(a.trains[1].role, TrainRole::Hfs);
        let (amp, _, dec) = errors(&out, &a);
        report.push(format!(
            "{rate:>6} {amplitude_mv} mV seed {seed}: amp {amp:.2} % dec {dec:.2} pt"
        ));
        worst = (worst.0.max(amp), worst.1.max(dec));
    }
    (worst.0, worst.1, report.join("\n"))
}

/// Small CMAPs (LEMS-like, 1.5 mV) at the worst noise (25 µV rms, SNR 60),
/// with hum and wander, and a 200-stimulus 50 Hz train, over several seeds:
/// within 3 % and 1.5 points from 10 kHz up.
#[test]
fn small_cmaps_and_long_trains_stay_within_tolerance() {
    for rate in [10_000.0, 20_000.0, 50_000.0] {
        let (amp, dec, text) = worst_over_seeds(rate, 1.5);
        assert!(amp <= 3.0 && dec <= 1.5, "{text}");
    }
}

/// The limit of the method, stated: at 5 kHz a small CMAP under 25 µV of
/// noise has only ~10 samples across its peak, so single amplitudes scatter by
/// ~0.5–1 % and a decrement (two amplitudes) by ~0.8–1.5 points. Over seeds and
/// 200+ responses the worst stays within 4 % and 3 points for 1.5 mV (SNR 60)
/// and within 3 % and 2 points for 2.5 mV (SNR 100) (README, "Accuracy").
#[test]
fn small_cmaps_at_5_khz_stay_within_the_documented_bound() {
    let (amp, dec, text) = worst_over_seeds(5_000.0, 1.5);
    assert!(amp <= 4.0 && dec <= 3.0, "{text}");
    let (amp, dec, text) = worst_over_seeds(5_000.0, 2.5);
    assert!(amp <= 3.0 && dec <= 2.0, "{text}");
}
