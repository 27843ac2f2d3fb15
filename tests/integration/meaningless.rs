//! Signals that are valid but hold no RNS study — silence, noise, mains hum, a
//! flat line at the rail, DC steps, one or two lone stimuli, random spikes, a
//! square wave, a 10 ms file, values of ±1e6 mV — must give "nothing to
//! analyse" (exit 4) or the pattern `indeterminate`, never `normal`,
//! `mg_like` or `lems_like`, at 2, 20 and 100 kHz.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rns_analyzer::analysis::analyze;
use rns_analyzer::error::EXIT_NOTHING;
use rns_analyzer::recording::Recording;
use rns_analyzer::settings::config::AnalysisConfig;
use rns_analyzer::units::SampleRate;
use rns_analyzer::vocab::Pattern;
use std::f64::consts::{PI, TAU};

const RATES: [f64; 3] = [2_000.0, 20_000.0, 100_000.0];

fn recording(name: &str, fs: f64, samples: Vec<f32>) -> Recording {
    Recording::single_channel(
        format!("{name}@{fs}Hz"),
        SampleRate::new(fs).unwrap(),
        samples,
    )
}

fn gaussian(rng: &mut ChaCha8Rng) -> f64 {
    rng.sample::<f64, _>(rand_distr::StandardNormal)
}

/// Add a stimulus artifact (0.2 ms biphasic, 5 mV) at `t` s.
fn add_artifact(x: &mut [f64], fs: f64, t: f64) {
    let s = (t * fs) as usize;
    let w = ((0.0002 * fs) as usize).max(1);
    for k in 0..w {
        x[s + k] += 5.0;
        x[s + w + k] -= 5.0;
    }
}

/// Add a stimulus artifact at `t` s (see [`add_artifact`]) and, 3 ms later,
/// an 8 mV CMAP (negative half-sine of 6 ms).
fn add_stimulus(x: &mut [f64], fs: f64, t: f64) {
    add_artifact(x, fs, t);
    let on = (t * fs) as usize + (0.003 * fs) as usize;
    let len = (0.006 * fs) as usize;
    for k in 0..len {
        x[on + k] -= 8.0 * (PI * k as f64 / len as f64).sin();
    }
}

/// The named test signals at rate `fs` (3 s long unless the name says otherwise).
fn signals(fs: f64) -> Vec<(&'static str, Vec<f64>)> {
    let n = (3.0 * fs) as usize;
    let mut rng = ChaCha8Rng::seed_from_u64(fs as u64);
    let noise = |rng: &mut ChaCha8Rng, sd: f64| -> Vec<f64> {
        (0..n).map(|_| sd * gaussian(rng)).collect()
    };
    // A square wave between ±`amplitude` with `edges` edges a second.
    let square = |edges: f64, amplitude: f64| -> Vec<f64> {
        (0..n)
            .map(|i| {
                if ((i as f64 / fs * edges) as usize).is_multiple_of(2) {
                    amplitude
                } else {
                    -amplitude
                }
            })
            .collect()
    };
    let mut v: Vec<(&'static str, Vec<f64>)> = Vec::new();
    v.push(("silence", vec![0.0; n]));
    v.push(("gaussian noise", noise(&mut rng, 0.05)));
    v.push(("loud gaussian noise", noise(&mut rng, 5.0)));
    // Heavy-tailed noise: large, steep, isolated values at random.
    v.push((
        "heavy-tailed noise",
        (0..n)
            .map(|_| {
                let u = rng.random::<f64>() - 0.5;
                0.01 * u / (0.5 - u.abs()).max(1e-3)
            })
            .collect(),
    ));
    v.push((
        "50 Hz sine",
        (0..n).map(|i| (TAU * 50.0 * i as f64 / fs).sin()).collect(),
    ));
    v.push(("flat line at the rail", vec![1.0; n]));
    // Clipped: noise and hum pushed onto the rails, where it sits for long stretches.
    v.push((
        "clipped noise",
        (0..n)
            .map(|i| {
                (3.0 * (TAU * 50.0 * i as f64 / fs).sin() + 0.1 * gaussian(&mut rng))
                    .clamp(-1.0, 1.0)
            })
            .collect(),
    ));
    // DC steps every 1/3 s: steep, isolated edges at a train's rhythm.
    v.push((
        "DC steps",
        (0..n)
            .map(|i| {
                let k = (i as f64 / fs * 3.0) as usize;
                (k % 4) as f64 * 2.0 + 0.005 * gaussian(&mut rng)
            })
            .collect(),
    ));
    let mut one = noise(&mut rng, 0.005);
    add_stimulus(&mut one, fs, 1.0);
    v.push(("one stimulus with a CMAP", one));
    let mut two = noise(&mut rng, 0.005);
    add_stimulus(&mut two, fs, 1.0);
    add_stimulus(&mut two, fs, 1.0 + 1.0 / 3.0);
    v.push(("two stimuli with CMAPs", two));
    let mut spikes = noise(&mut rng, 0.005);
    for _ in 0..12 {
        let s = rng.random_range(0..n - 2);
        let a = 1.0 + 9.0 * rng.random::<f64>();
        spikes[s] += a;
        spikes[s + 1] -= a;
    }
    v.push(("random spikes", spikes));
    // A 3 Hz square wave: 6 steep edges a second, like a stimulus train.
    v.push(("3 Hz square wave", square(6.0, 1.0)));
    v.push(("30 Hz square wave", square(60.0, 1.0)));
    v.push((
        "10 ms of noise",
        noise(&mut rng, 0.05)[..(0.01 * fs) as usize].to_vec(),
    ));
    // A 3 Hz train of artifacts with nothing after them (no muscle response).
    let mut bare = noise(&mut rng, 0.005);
    for k in 0..9 {
        add_artifact(&mut bare, fs, 0.2 + k as f64 / 3.0);
    }
    v.push(("3 Hz artifacts, no response", bare));
    // A 3 Hz train whose "responses" are noise bursts of random size.
    let mut bursts = noise(&mut rng, 0.005);
    for k in 0..9 {
        let s = ((0.2 + k as f64 / 3.0) * fs) as usize;
        let a = 3.0 * rng.random::<f64>();
        for b in bursts.iter_mut().skip(s).take((0.01 * fs) as usize) {
            *b += a * gaussian(&mut rng);
        }
    }
    v.push(("3 Hz noise bursts", bursts));
    v.push((
        "±1e6 mV noise",
        (0..n)
            .map(|_| 1e6 * (2.0 * rng.random::<f64>() - 1.0))
            .collect(),
    ));
    v.push(("±1e6 mV square wave", square(6.0, 1e6)));
    v
}

#[test]
fn meaningless_signals_give_nothing_or_indeterminate() {
    let mut failures = Vec::new();
    for fs in RATES {
        for (name, x) in signals(fs) {
            let rec = recording(name, fs, x.iter().map(|&v| v as f32).collect());
            match analyze(&rec, &AnalysisConfig::default()) {
                Err(e) if e.exit_code() == EXIT_NOTHING => {}
                Err(e) => failures.push(format!("{name} at {fs} Hz: unexpected error {e}")),
                Ok(a) if a.classification.pattern == Pattern::Indeterminate => {}
                Ok(a) => failures.push(format!(
                    "{name} at {fs} Hz: pattern {} with {} train(s) of {:?} responses; findings {:?}",
                    a.classification.pattern,
                    a.trains.len(),
                    a.trains.iter().map(|t| t.responses.len()).collect::<Vec<_>>(),
                    a.classification
                        .findings
                        .iter()
                        .map(|f| f.code.name())
                        .collect::<Vec<_>>()
                )),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
