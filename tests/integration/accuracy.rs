//! Measurement accuracy on synthetic recordings with known answers: amplitudes
//! within 3 % and decrements within 1.5 points across 5–50 kHz, noise up to
//! 25 µV rms, mains hum, baseline wander and clipped artifacts.

use crate::util::{errors, run_synth};
use rns_analyzer::config::AnalysisConfig;
use rns_analyzer::synth::{
    incrementing_gains, u_shaped_gains, ArtifactSpec, CmapShape, HumSpec, SynthSpec, TrainSpec,
    WanderSpec,
};

#[derive(Clone, Copy, Debug)]
enum Condition {
    Clean,
    Noise25,
    Hum50,
    Hum60,
    Wander,
    ClippedArtifact,
    Everything,
}

fn spec(rate: f64, cond: Condition, seed: u64) -> SynthSpec {
    let trains = vec![
        TrainSpec::from_gains(1.0, 3.0, &u_shaped_gains(10, 25.0)),
        TrainSpec::from_gains(6.0, 3.0, &[1.0; 6]),
        TrainSpec::from_gains(10.0, 50.0, &incrementing_gains(40, 120.0)),
    ];
    let mut s = SynthSpec::simple(rate, trains);
    s.seed = seed;
    s.cmap = CmapShape {
        amplitude_mv: 4.0,
        ..CmapShape::default()
    };
    s.noise_uv_rms = 5.0;
    let hum = |f: f64| HumSpec {
        freq_hz: f,
        amplitude_uv: 100.0,
        harmonic3_ratio: 0.2,
    };
    match cond {
        Condition::Clean => {}
        Condition::Noise25 => s.noise_uv_rms = 25.0,
        Condition::Hum50 => s.hum = Some(hum(50.0)),
        Condition::Hum60 => s.hum = Some(hum(60.03)),
        Condition::Wander => {
            s.wander = Some(WanderSpec {
                amplitude_uv: 500.0,
                freq_hz: 0.3,
            })
        }
        Condition::ClippedArtifact => {
            s.artifact = ArtifactSpec {
                amplitude_mv: 30.0,
                ..ArtifactSpec::default()
            };
            s.clip_mv = Some(12.0);
        }
        Condition::Everything => {
            s.noise_uv_rms = 25.0;
            s.hum = Some(hum(50.0));
            s.wander = Some(WanderSpec {
                amplitude_uv: 500.0,
                freq_hz: 0.3,
            });
            s.artifact = ArtifactSpec {
                amplitude_mv: 30.0,
                ..ArtifactSpec::default()
            };
            s.clip_mv = Some(12.0);
        }
    }
    s
}

#[test]
fn amplitude_and_decrement_accuracy_across_rates_and_conditions() {
    let cfg = AnalysisConfig::default();
    let mut report = Vec::new();
    let mut worst = (0.0f64, 0.0f64, 0.0f64);
    for rate in [5_000.0, 10_000.0, 20_000.0, 50_000.0] {
        for cond in [
            Condition::Clean,
            Condition::Noise25,
            Condition::Hum50,
            Condition::Hum60,
            Condition::Wander,
            Condition::ClippedArtifact,
            Condition::Everything,
        ] {
            let (out, a) = run_synth(&spec(rate, cond, 7), &cfg);
            let (amp, area, dec) = errors(&out, &a);
            report.push(format!(
                "{rate:>6} {cond:?}: amp {amp:.2} % area {area:.2} % dec {dec:.2} pt"
            ));
            worst = (worst.0.max(amp), worst.1.max(area), worst.2.max(dec));
        }
    }
    let text = report.join("\n");
    assert!(worst.0 <= 3.0, "amplitude error > 3 %:\n{text}");
    assert!(worst.2 <= 1.5, "decrement error > 1.5 points:\n{text}");
    eprintln!("{text}");
}
