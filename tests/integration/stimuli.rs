//! Stimuli and trains as real recordings without a trigger bring them: late
//! responses steep enough to look like stimuli, the steep transient that
//! ends a voluntary contraction, and a post-exercise "train" that is no
//! muscle response (issue 14). Synthetic recordings built to those traits.

use rns_analyzer::analysis::analyze;
use rns_analyzer::recording::{KnownStimuli, Recording, StimulusOrigin};
use rns_analyzer::settings::config::AnalysisConfig;
use rns_analyzer::sim::synth::{
    generate, ArtifactSpec, CmapShape, SynthOutput, SynthSpec, TrainSpec, VoluntarySpec,
};
use rns_analyzer::vocab::{FindingCode, Pattern, TrainRole};

const FS: f64 = 20_000.0;

/// Add `shape(t_ms)` (mV) to `rec`'s EMG from `at_s` for `len_ms`.
fn add(rec: &mut Recording, at_s: f64, len_ms: f64, shape: impl Fn(f64) -> f64) {
    let x = &mut rec.channels[0].samples;
    let s0 = (at_s * FS) as usize;
    for k in 0..(len_ms / 1000.0 * FS) as usize {
        x[s0 + k] += shape(k as f64 / FS * 1000.0) as f32;
    }
}

/// A steep late wave 30 ms after every stimulus of a 3 Hz × 20 train with a
/// small artifact (an H-reflex, F-wave or MEP steeper than a fifth of the
/// artifact): one train of 20, not 20 two-response "hfs" trains.
#[test]
fn late_responses_are_not_taken_for_stimuli() {
    let mut s = SynthSpec::simple(FS, vec![TrainSpec::from_gains(1.0, 3.0, &[1.0; 20])]);
    s.cmap = CmapShape {
        amplitude_mv: 4.0,
        ..CmapShape::default()
    };
    s.artifact = ArtifactSpec {
        amplitude_mv: 1.5,
        ..ArtifactSpec::default()
    };
    let out = generate(&s);
    let mut rec = out.to_recording().unwrap();
    for &t in &out.truth.stimuli_s {
        add(&mut rec, t + 0.030, 4.0, |u| {
            if u < 0.15 {
                -2.0 * u / 0.15
            } else if u < 1.2 {
                -2.0 + 3.0 * (u - 0.15) / 1.05
            } else {
                1.0 - (u - 1.2) / 2.8
            }
        });
    }
    let a = analyze(&rec, &AnalysisConfig::default()).unwrap();
    assert_eq!(
        a.trains.len(),
        1,
        "{:?}",
        a.trains
            .iter()
            .map(|t| t.responses.len())
            .collect::<Vec<_>>()
    );
    assert_eq!(a.trains[0].responses.len(), 20);
    assert_eq!(a.trains[0].role, TrainRole::Baseline);
    for r in &a.trains[0].responses {
        assert!((r.amplitude_mv - 4.0).abs() < 0.05, "{r:?}");
    }
    assert_eq!(a.classification.pattern, Pattern::Normal);
}

/// A brief-exercise test: a single CMAP at rest (2 mV), a 10 s contraction
/// whose end leaves a steep transient, a single CMAP 1.5 s after (+150 %).
fn brief_exercise() -> (SynthOutput, Recording) {
    let mut s = SynthSpec::simple(
        FS,
        vec![
            TrainSpec::from_gains(1.0, 3.0, &[1.0]),
            TrainSpec::from_gains(13.5, 3.0, &[2.5]),
        ],
    );
    s.duration_s = 15.0;
    s.cmap = CmapShape {
        amplitude_mv: 2.0,
        ..CmapShape::default()
    };
    s.voluntary = vec![VoluntarySpec {
        start_s: 2.0,
        end_s: 12.0,
        rms_mv: 1.0,
    }];
    let out = generate(&s);
    let mut rec = out.to_recording().unwrap();
    add(&mut rec, 12.0, 3.0, |u| {
        if u < 0.1 {
            6.0 * u / 0.1
        } else if u < 1.0 {
            6.0 - 9.0 * (u - 0.1) / 0.9
        } else {
            -3.0 * (1.0 - (u - 1.0) / 2.0)
        }
    });
    (out, rec)
}

#[test]
fn the_transient_that_ends_a_contraction_is_no_stimulus() {
    let (_, rec) = brief_exercise();
    let a = analyze(&rec, &AnalysisConfig::default()).unwrap();
    let starts: Vec<Option<f64>> = a.trains.iter().map(|t| t.start_s).collect();
    assert_eq!(a.trains.len(), 2, "{starts:?}");
    assert_eq!(a.trains[1].role, TrainRole::PostExercise);
    assert_eq!(a.classification.pattern, Pattern::LemsLike);
    let inc = a.post_exercise_increment_pct.unwrap();
    assert!((inc - 150.0).abs() < 3.0, "increment {inc}");
}

/// Even when the transient is given as a stimulus (here: a marker in the
/// file), its "train" is not the same muscle response: it is set aside, and
/// the first comparable post-exercise train supplies the increment.
#[test]
fn a_post_exercise_train_that_is_no_muscle_response_is_set_aside() {
    let (out, mut rec) = brief_exercise();
    let mut samples: Vec<usize> = out
        .truth
        .stimuli_s
        .iter()
        .map(|t| (t * FS) as usize)
        .collect();
    samples.insert(1, (12.0 * FS) as usize);
    rec.stimuli = Some(KnownStimuli {
        samples,
        origin: StimulusOrigin::Annotations,
        timing_known: true,
    });
    let a = analyze(&rec, &AnalysisConfig::default()).unwrap();
    assert_eq!(a.trains.len(), 3);
    assert_eq!(a.trains[1].role, TrainRole::PostExercise);
    assert!(a
        .classification
        .findings
        .iter()
        .any(|f| f.code == FindingCode::PostExerciseSetAside && f.train == Some(2)));
    assert_eq!(a.classification.pattern, Pattern::LemsLike);
    let inc = a.post_exercise_increment_pct.unwrap();
    assert!((inc - 150.0).abs() < 3.0, "increment {inc}");
}

/// A late wave larger than the M-wave (an H-reflex at submaximal
/// intensity): the M-wave is measured and `late_wave` says so; the user's
/// `--window-ms` (`m_window`) measures what lies where it says instead.
#[test]
fn a_larger_late_wave_is_reported_not_measured_unless_the_window_says_so() {
    use rns_analyzer::units::Ms;
    use rns_analyzer::vocab::FlagCode;
    let mut s = SynthSpec::simple(FS, vec![TrainSpec::from_gains(1.0, 3.0, &[1.0; 8])]);
    s.cmap = CmapShape {
        amplitude_mv: 3.0,
        ..CmapShape::default()
    };
    let out = generate(&s);
    let mut rec = out.to_recording().unwrap();
    for &t in &out.truth.stimuli_s {
        // A smooth 6 mV wave, main phase negative, peaking 25 ms after.
        add(&mut rec, t + 0.022, 6.0, |u| {
            -6.0 * (0.5 - 0.5 * (2.0 * std::f64::consts::PI * u / 6.0).cos())
        });
    }
    let a = analyze(&rec, &AnalysisConfig::default()).unwrap();
    assert_eq!(a.trains.len(), 1);
    for r in &a.trains[0].responses {
        assert!((r.amplitude_mv - 3.0).abs() < 0.05, "{r:?}");
        assert!(r.peak_latency_ms < 15.0, "{r:?}");
    }
    assert!(a.quality.iter().any(|f| f.code == FlagCode::LateWave));
    let mut cfg = AnalysisConfig::default();
    cfg.measure.m_window = Some((Ms(18.0), Ms(35.0)));
    let a = analyze(&rec, &cfg).unwrap();
    for r in &a.trains[0].responses {
        assert!((r.peak_latency_ms - 25.0).abs() < 0.5, "{r:?}");
        assert!(r.amplitude_mv > 5.5, "{r:?}");
    }
}

/// A consistent early bump before the CMAP, half its size (a volume-
/// conducted neighbour, a stimulus artifact's shoulder): if it is what the
/// recording's span settles on, the larger CMAP after it is a `late_wave`
/// in every response, which sets the train aside; the train is never read
/// as normal from the bump's flat amplitudes.
#[test]
fn a_consistent_early_bump_is_not_read_silently() {
    use rns_analyzer::vocab::{FlagCode, Severity};
    let mut s = SynthSpec::simple(
        FS,
        vec![TrainSpec::from_gains(
            1.0,
            3.0,
            &[1.0, 0.9, 0.8, 0.75, 0.75, 0.76, 0.78, 0.8, 0.82, 0.85],
        )],
    );
    s.cmap = CmapShape {
        amplitude_mv: 6.0,
        latency_ms: 4.0,
        ..CmapShape::default()
    };
    let out = generate(&s);
    let mut rec = out.to_recording().unwrap();
    for &t in &out.truth.stimuli_s {
        // A 3 mV negative bump peaking 1.6 ms after the stimulus, 1.2 ms long.
        add(&mut rec, t + 0.001, 1.2, |u| {
            -3.0 * (0.5 - 0.5 * (2.0 * std::f64::consts::PI * u / 1.2).cos())
        });
    }
    let a = analyze(&rec, &AnalysisConfig::default()).unwrap();
    assert_eq!(a.trains.len(), 1);
    let peaks: Vec<f64> = a.trains[0]
        .responses
        .iter()
        .map(|r| r.peak_latency_ms)
        .collect();
    let bump = peaks.iter().filter(|&&p| p < 3.0).count();
    // Today the span settles on the bump in every response (peaks at
    // 1.6 ms); a method that finds the CMAP instead must read its decrement.
    if bump == 0 {
        // The CMAP was measured: its 25 % decrement is what is read.
        assert_eq!(a.classification.pattern, Pattern::MgLike, "{peaks:?}");
    } else {
        let flag = a.quality.iter().find(|f| f.code == FlagCode::LateWave);
        assert_eq!(
            flag.map(|f| f.severity),
            Some(Severity::Warning),
            "{peaks:?}"
        );
        assert_ne!(a.classification.pattern, Pattern::Normal, "{peaks:?}");
    }
}

/// A 100 Hz train of short rodent M-waves whose artifacts alternate in
/// size (every other one about three times steeper, as a sub-sample phase
/// at a low sample rate can make them): the next stimulus
/// comes 10 ms after a much steeper one, but long after that response has
/// ended, so it is no edge of it. Every stimulus is found.
#[test]
fn a_fast_train_of_short_responses_keeps_its_weaker_artifacts() {
    let gains = [1.0; 20];
    let mut s = SynthSpec::simple(FS, vec![TrainSpec::from_gains(1.0, 100.0, &gains)]);
    s.cmap = CmapShape {
        amplitude_mv: 4.0,
        latency_ms: 1.2,
        rise_ms: 0.35,
        negative_duration_ms: 0.8,
        positive_ratio: 0.4,
        positive_duration_ms: 1.0,
    };
    s.artifact = ArtifactSpec {
        amplitude_mv: 1.0,
        width_ms: 0.1,
        tail_mv: 0.0,
        ..ArtifactSpec::default()
    };
    let out = generate(&s);
    let mut rec = out.to_recording().unwrap();
    for &t in out.truth.stimuli_s.iter().step_by(2) {
        // A biphasic pulse, 0.1 ms a phase, on top of the artifact.
        add(&mut rec, t, 0.2, |u| if u < 0.1 { 1.2 } else { -1.2 });
    }
    let a = analyze(&rec, &AnalysisConfig::default()).unwrap();
    let found: usize = a.trains.iter().map(|t| t.responses.len()).sum();
    assert_eq!(
        (a.trains.len(), found),
        (1, 20),
        "{:?}",
        a.trains
            .iter()
            .map(|t| (t.start_s, t.responses.len()))
            .collect::<Vec<_>>()
    );
    for r in &a.trains[0].responses {
        assert!((r.amplitude_mv - 4.0).abs() < 0.2, "{r:?}");
    }
}
