//! Properties of the analysis (proptest; few cases, each runs whole analyses).
//!
//! 1. Percentages (decrements, increments, relative amplitudes) do not depend
//!    on the recording's gain, DC offset or polarity; amplitudes scale with the
//!    gain; the reported polarity follows a flip of the samples.
//! 2. Any finite signal at any accepted sample rate (2 kHz–1 MHz) gives `Ok`
//!    or `Err`, never a panic, and an `Ok` result serialises to JSON that
//!    parses back.

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rns_analyzer::analysis::{analyze, Analysis};
use rns_analyzer::recording::Recording;
use rns_analyzer::settings::config::AnalysisConfig;
use rns_analyzer::sim::synth::{
    generate, incrementing_gains, u_shaped_gains, CmapShape, HumSpec, SynthSpec, TrainSpec,
    WanderSpec,
};
use rns_analyzer::units::SampleRate;
use rns_analyzer::vocab::PolarityChoice;

/// A session whose every percentage is defined: a 3 Hz baseline train, a
/// post-exercise train after a 9 s pause (role from order and gaps) and a
/// 50 Hz train.
#[derive(Debug, Clone)]
struct Session {
    sample_rate_hz: f64,
    amplitude_mv: f64,
    decrement_pct: f64,
    post_increment_pct: f64,
    hfs_increment_pct: f64,
    noise_uv: f64,
    /// Mains hum amplitude (µV; 0 = none) at 50 or 60 Hz.
    hum: (f64, f64),
    /// Baseline wander amplitude (µV; 0 = none).
    wander_uv: f64,
    seed: u64,
}

impl Session {
    fn spec(&self) -> SynthSpec {
        let post: Vec<f64> = u_shaped_gains(6, self.decrement_pct / 2.0)
            .iter()
            .map(|g| g * (1.0 + self.post_increment_pct / 100.0))
            .collect();
        let trains = vec![
            TrainSpec::from_gains(0.5, 3.0, &u_shaped_gains(10, self.decrement_pct)),
            TrainSpec::from_gains(12.5, 3.0, &post),
            TrainSpec::from_gains(15.5, 50.0, &incrementing_gains(30, self.hfs_increment_pct)),
        ];
        let mut s = SynthSpec::simple(self.sample_rate_hz, trains);
        s.cmap = CmapShape {
            amplitude_mv: self.amplitude_mv,
            ..CmapShape::default()
        };
        s.noise_uv_rms = self.noise_uv;
        if self.hum.1 > 0.0 {
            s.hum = Some(HumSpec {
                freq_hz: self.hum.0,
                amplitude_uv: self.hum.1,
                harmonic3_ratio: 0.2,
            });
        }
        if self.wander_uv > 0.0 {
            s.wander = Some(WanderSpec {
                amplitude_uv: self.wander_uv,
                freq_hz: 0.3,
            });
        }
        s.seed = self.seed;
        s
    }
}

fn session() -> impl Strategy<Value = Session> {
    (
        prop_oneof![Just(10_000.0), Just(20_000.0), Just(44_100.0)],
        1.0..15.0f64,
        0.0..40.0f64,
        -10.0..150.0f64,
        0.0..200.0f64,
        2.0..25.0f64,
        (
            prop_oneof![Just(50.0), Just(60.0)],
            prop_oneof![Just(0.0), 10.0..150.0f64],
        ),
        prop_oneof![Just(0.0), 50.0..500.0f64],
        any::<u64>(),
    )
        .prop_map(
            |(
                sample_rate_hz,
                amplitude_mv,
                decrement_pct,
                post_increment_pct,
                hfs_increment_pct,
                noise_uv,
                hum,
                wander_uv,
                seed,
            )| Session {
                sample_rate_hz,
                amplitude_mv,
                decrement_pct,
                post_increment_pct,
                hfs_increment_pct,
                noise_uv,
                hum,
                wander_uv,
                seed,
            },
        )
}

fn run(rec: &Recording) -> Analysis {
    analyze(rec, &AnalysisConfig::default()).unwrap_or_else(|e| panic!("analysis failed: {e}"))
}

fn transformed(rec: &Recording, f: impl Fn(f32) -> f32) -> Recording {
    let mut r = rec.clone();
    for v in r.channels[0].samples.iter_mut() {
        *v = f(*v);
    }
    r
}

/// Every percentage of an analysis, labelled, in a fixed order.
fn percentages(a: &Analysis) -> Vec<(String, Option<f64>)> {
    let mut v = vec![
        (
            "post_exercise_increment_pct".to_string(),
            a.post_exercise_increment_pct,
        ),
        (
            "post_exercise_area_increment_pct".to_string(),
            a.post_exercise_area_increment_pct,
        ),
    ];
    for t in &a.trains {
        let k = t.index;
        v.push((format!("train {k} decrement_pct"), t.decrement_pct));
        v.push((format!("train {k} max_decrement_pct"), t.max_decrement_pct));
        v.push((
            format!("train {k} area_decrement_pct"),
            t.area_decrement_pct,
        ));
        v.push((format!("train {k} increment_pct"), t.increment_pct));
        v.push((
            format!("train {k} area_increment_pct"),
            t.area_increment_pct,
        ));
        for r in &t.responses {
            v.push((
                format!("train {k} response {} amplitude_rel_pct", r.index),
                r.amplitude_rel_pct,
            ));
        }
    }
    v
}

/// The structure is the same and every percentage within 0.5 points.
fn same_percentages(a: &Analysis, b: &Analysis, what: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(a.trains.len(), b.trains.len(), "{}: train count", what);
    for (ta, tb) in a.trains.iter().zip(&b.trains) {
        prop_assert_eq!(
            ta.responses.len(),
            tb.responses.len(),
            "{}: responses of train {}",
            what,
            ta.index
        );
        prop_assert_eq!(&ta.role, &tb.role, "{}: role of train {}", what, ta.index);
    }
    for ((name, x), (_, y)) in percentages(a).into_iter().zip(percentages(b)) {
        match (x, y) {
            (Some(x), Some(y)) => {
                prop_assert!((x - y).abs() <= 0.5, "{}: {} {} vs {}", what, name, x, y)
            }
            (None, None) => {}
            _ => prop_assert!(false, "{}: {} {:?} vs {:?}", what, name, x, y),
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn percentages_ignore_gain_offset_and_polarity(
        s in session(),
        gain in 0.2..5.0f64,
        dc in -50.0..50.0f64,
    ) {
        let out = generate(&s.spec());
        let rec = out.to_recording().unwrap();
        let a = run(&rec);
        // The session itself is analysed as drawn.
        prop_assert_eq!(a.trains.len(), 3);
        prop_assert_eq!(a.trains[1].role.name(), "post_exercise");
        prop_assert_eq!(a.trains[2].role.name(), "hfs");
        prop_assert_eq!(a.source.polarity.name(), "negative");

        let g = transformed(&rec, |v| (f64::from(v) * gain) as f32);
        let ag = run(&g);
        same_percentages(&a, &ag, &format!("gain ×{gain:.3}"))?;
        for (ta, tg) in a.trains.iter().zip(&ag.trains) {
            for (ra, rg) in ta.responses.iter().zip(&tg.responses) {
                let want = ra.amplitude_mv * gain;
                prop_assert!(
                    (rg.amplitude_mv - want).abs() <= 0.01 * want.abs() + 1e-4,
                    "gain ×{:.3}: train {} response {}: {} mV vs {} mV",
                    gain, ta.index, ra.index, rg.amplitude_mv, want
                );
            }
        }

        let o = transformed(&rec, |v| (f64::from(v) + dc) as f32);
        let ao = run(&o);
        same_percentages(&a, &ao, &format!("offset {dc:+.2} mV"))?;

        let f = transformed(&rec, |v| -v);
        let af = run(&f);
        same_percentages(&a, &af, "polarity flip")?;
        prop_assert_eq!(af.source.polarity.name(), "positive");
        for (ta, tf) in a.trains.iter().zip(&af.trains) {
            for (ra, rf) in ta.responses.iter().zip(&tf.responses) {
                prop_assert!(
                    (rf.amplitude_mv - ra.amplitude_mv).abs() <= 0.01 * ra.amplitude_mv.abs() + 1e-4,
                    "flip: train {} response {}", ta.index, ra.index
                );
            }
        }
    }
}

/// What a random test signal is made of.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Zeros,
    Constant,
    /// Values near ±1e6.
    Huge,
    /// Noise, sines, spikes and steps at a random scale.
    Mixture,
    /// Spikes at a regular rate with decaying bumps after them (artifact-like).
    PulseTrain,
    /// A mixture clamped to rails.
    Clipped,
    /// One spike in silence.
    LoneSpike,
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        1 => Just(Kind::Zeros),
        1 => Just(Kind::Constant),
        1 => Just(Kind::Huge),
        3 => Just(Kind::Mixture),
        3 => Just(Kind::PulseTrain),
        1 => Just(Kind::Clipped),
        1 => Just(Kind::LoneSpike),
    ]
}

fn log_uniform(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    (lo.ln() + rng.random::<f64>() * (hi.ln() - lo.ln())).exp()
}

fn gaussian(rng: &mut ChaCha8Rng) -> f64 {
    rng.sample::<f64, _>(rand_distr::StandardNormal)
}

fn mixture(rng: &mut ChaCha8Rng, n: usize, fs: f64) -> Vec<f64> {
    let scale = log_uniform(rng, 1e-6, 1e6);
    let mut x = vec![0.0; n];
    let noise = scale * rng.random::<f64>();
    for v in x.iter_mut() {
        *v = noise * gaussian(rng);
    }
    for _ in 0..rng.random_range(0..4) {
        let f = log_uniform(rng, 0.1, fs / 2.0);
        let a = scale * rng.random::<f64>();
        let ph = rng.random::<f64>() * std::f64::consts::TAU;
        for (i, v) in x.iter_mut().enumerate() {
            *v += a * (std::f64::consts::TAU * f * i as f64 / fs + ph).sin();
        }
    }
    for _ in 0..rng.random_range(0..200) {
        let i = rng.random_range(0..n);
        x[i] += scale * 20.0 * gaussian(rng);
    }
    for _ in 0..rng.random_range(0..6) {
        let i = rng.random_range(0..n);
        let a = scale * 5.0 * gaussian(rng);
        for v in x[i..].iter_mut() {
            *v += a;
        }
    }
    x
}

fn random_signal(kind: Kind, fs: f64, n: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x: Vec<f64> = match kind {
        Kind::Zeros => vec![0.0; n],
        Kind::Constant => vec![(rng.random::<f64>() - 0.5) * 2e6; n],
        Kind::Huge => (0..n)
            .map(|_| {
                let sign = if rng.random::<bool>() { 1.0 } else { -1.0 };
                sign * 1e6 * (1.0 - 1e-3 * rng.random::<f64>())
            })
            .collect(),
        Kind::Mixture => mixture(&mut rng, n, fs),
        Kind::PulseTrain => {
            let mut x: Vec<f64> = (0..n).map(|_| 0.01 * gaussian(&mut rng)).collect();
            let rate = log_uniform(&mut rng, 1.0, 300.0);
            let amp = log_uniform(&mut rng, 1e-3, 1e4);
            let bump = log_uniform(&mut rng, 1e-3, 1e4);
            let tau = log_uniform(&mut rng, 0.5, 20.0) * fs / 1000.0;
            let step = (fs / rate).max(1.0) as usize;
            let mut s = rng.random_range(0..step.min(n));
            while s < n {
                x[s] += amp;
                if s + 1 < n {
                    x[s + 1] -= amp;
                }
                for (k, v) in x[s..].iter_mut().enumerate().take((8.0 * tau) as usize) {
                    let t = k as f64 / tau;
                    *v -= bump * t * (-t).exp();
                }
                s += step;
            }
            x
        }
        Kind::Clipped => {
            let x = mixture(&mut rng, n, fs);
            let peak = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let rail = peak * rng.random::<f64>();
            x.into_iter().map(|v| v.clamp(-rail, rail)).collect()
        }
        Kind::LoneSpike => {
            let mut x = vec![0.0; n];
            let i = rng.random_range(0..n);
            x[i] = log_uniform(&mut rng, 1e-6, 1e6);
            x
        }
    };
    x.into_iter().map(|v| v as f32).collect()
}

fn recording(samples: Vec<f32>, fs: f64) -> Recording {
    Recording::single_channel("random", SampleRate::new(fs).unwrap(), samples)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_finite_signal_gives_a_result_or_an_error(
        fs in 2_000.0..100_000.0f64,
        len_s in 0.05..3.0f64,
        kind in kind(),
        seed in any::<u64>(),
        polarity in prop_oneof![
            Just(PolarityChoice::Auto),
            Just(PolarityChoice::Negative),
            Just(PolarityChoice::Positive)
        ],
    ) {
        let n = (fs * len_s) as usize;
        let samples = random_signal(kind, fs, n, seed);
        prop_assert!(samples.iter().all(|v| v.is_finite()));
        let rec = recording(samples, fs);
        let cfg = AnalysisConfig { polarity, ..AnalysisConfig::default() };
        if let Ok(a) = analyze(&rec, &cfg) {
            let json = serde_json::to_string(&a).expect("serialises");
            let back: serde_json::Value = serde_json::from_str(&json).expect("parses back");
            prop_assert_eq!(back["trains"].as_array().map(|t| t.len()), Some(a.trains.len()));
            prop_assert!(back["classification"]["pattern"].is_string());
        }
    }
}

/// The same at the top of the accepted range (100 kHz–1 MHz), with short
/// signals: the case above stops at 100 kHz to keep its 3 s signals small.
fn check_any_signal(fs: f64, len_s: f64, kind: Kind, seed: u64) -> Result<(), TestCaseError> {
    let n = (fs * len_s) as usize;
    let samples = random_signal(kind, fs, n, seed);
    prop_assert!(samples.iter().all(|v| v.is_finite()));
    let rec = recording(samples, fs);
    if let Ok(a) = analyze(&rec, &AnalysisConfig::default()) {
        let json = serde_json::to_string(&a).expect("serialises");
        let back: serde_json::Value = serde_json::from_str(&json).expect("parses back");
        prop_assert_eq!(
            back["trains"].as_array().map(|t| t.len()),
            Some(a.trains.len())
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn any_finite_signal_at_high_rates_gives_a_result_or_an_error(
        fs in 100_000.0..=1_000_000.0f64,
        len_s in 0.01..0.3f64,
        kind in kind(),
        seed in any::<u64>(),
    ) {
        check_any_signal(fs, len_s, kind, seed)?;
    }
}
