//! One scenario per quality flag (`src/analysis/quality.rs`): a synthetic
//! recording with the technical fault the flag looks for must raise it (on the
//! right train), and clean recordings must raise no `warning`.

use crate::util::run_synth;
use rns_analyzer::analysis::{analyze, Analysis};
use rns_analyzer::recording::{KnownStimuli, Recording, Segment, SourceFormat, StimulusOrigin};
use rns_analyzer::settings::config::AnalysisConfig;
use rns_analyzer::settings::protocol::{ExerciseSpec, TrainSpec as ProtocolTrain};
use rns_analyzer::sim::synth::{
    generate, u_shaped_gains, ArtifactSpec, CmapShape, HumSpec, Response, SynthSpec, TrainSpec,
    WanderSpec,
};
use rns_analyzer::units::SampleRate;
use rns_analyzer::vocab::{
    FindingCode, Polarity, RoleSource, Severity, Shape, StimulusSource, TrainRole,
};

const FS: f64 = 20_000.0;

/// Every flag as `code@train (severity)`, for failure messages.
fn describe(a: &Analysis) -> String {
    a.quality
        .iter()
        .map(|q| {
            format!(
                "{}@{} ({}): {}",
                q.code,
                q.train.map_or("-".into(), |t| t.to_string()),
                q.severity,
                q.message
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether flag `code` was raised on `train` (1-based; `None` = recording-wide).
fn has(a: &Analysis, code: &str, train: Option<usize>) -> bool {
    a.quality
        .iter()
        .any(|q| q.code.name() == code && q.train == train)
}

fn has_any(a: &Analysis, code: &str) -> bool {
    a.quality.iter().any(|q| q.code.name() == code)
}

fn severity(a: &Analysis, code: &str) -> String {
    a.quality
        .iter()
        .find(|q| q.code.name() == code)
        .map(|q| q.severity.name().to_string())
        .unwrap_or_default()
}

fn warnings(a: &Analysis) -> Vec<String> {
    a.quality
        .iter()
        .filter(|q| q.severity == Severity::Warning)
        .map(|q| format!("{}@{:?}: {}", q.code, q.train, q.message))
        .collect()
}

#[track_caller]
fn assert_flag(a: &Analysis, code: &str, train: Option<usize>) {
    assert!(
        has(a, code, train),
        "expected {code} on train {train:?}; flags:\n{}\ntrains: {:#?}",
        describe(a),
        a.trains
            .iter()
            .map(|t| (
                t.index,
                t.role,
                t.rate_hz,
                t.responses
                    .iter()
                    .map(|r| (r.amplitude_mv, r.area_mv_ms, r.latency_ms, r.baseline_mv))
                    .collect::<Vec<_>>()
            ))
            .collect::<Vec<_>>()
    );
}

/// A 3 Hz train of ten flat responses at 1 s, normal ADM CMAP.
fn clean_spec() -> SynthSpec {
    SynthSpec::simple(FS, vec![TrainSpec::from_gains(1.0, 3.0, &[1.0; 10])])
}

fn one_train(rate_hz: f64, responses: Vec<Response>) -> SynthSpec {
    SynthSpec::simple(
        FS,
        vec![TrainSpec {
            start_s: 1.0,
            rate_hz,
            responses,
        }],
    )
}

#[test]
fn clean_recording_has_no_warning() {
    let (_, a) = run_synth(&clean_spec(), &AnalysisConfig::default());
    assert!(warnings(&a).is_empty(), "{}", describe(&a));
    assert_eq!(a.trains.len(), 1);
}

#[test]
fn clean_recordings_have_no_warning_across_rates_polarity_and_offset() {
    for fs in [7_500.0, 10_000.0, 50_000.0] {
        for (invert, dc) in [(false, 0.0), (true, 0.0), (false, -20.0), (true, 35.0)] {
            let mut s = SynthSpec::simple(
                fs,
                vec![
                    TrainSpec::from_gains(1.0, 3.0, &[1.0; 10]),
                    TrainSpec::from_gains(5.0, 20.0, &[1.0; 30]),
                ],
            );
            s.invert = invert;
            s.dc_offset_mv = dc;
            s.noise_uv_rms = 10.0;
            let (_, a) = run_synth(&s, &AnalysisConfig::default());
            assert_eq!(a.trains.len(), 2, "{fs} Hz: {}", describe(&a));
            assert!(
                warnings(&a).is_empty(),
                "{fs} Hz, invert {invert}, dc {dc}: {}",
                describe(&a)
            );
        }
    }
}

#[test]
fn clean_session_with_realistic_interference_has_no_warning() {
    // Baseline, a repeat baseline, and a 50 Hz train, with 25 µV noise, hum,
    // default wander (200 µV at 0.3 Hz) and a 12 mV rail that clips only the artifact.
    let trains = vec![
        TrainSpec::from_gains(1.0, 3.0, &[1.0; 10]),
        TrainSpec::from_gains(5.0, 3.0, &[1.0; 6]),
        TrainSpec::from_gains(8.0, 50.0, &[1.0; 50]),
    ];
    let mut s = SynthSpec::simple(FS, trains);
    s.noise_uv_rms = 25.0;
    s.hum = Some(HumSpec::default());
    s.wander = Some(WanderSpec::default());
    let (_, a) = run_synth(&s, &AnalysisConfig::default());
    assert_eq!(a.trains.len(), 3, "{}", describe(&a));
    assert!(warnings(&a).is_empty(), "{}", describe(&a));
}

#[test]
fn irregular_amplitudes() {
    let gains: Vec<f64> = (0..10)
        .map(|j| if j % 2 == 0 { 1.0 } else { 0.85 })
        .collect();
    let s = SynthSpec::simple(FS, vec![TrainSpec::from_gains(1.0, 3.0, &gains)]);
    let (_, a) = run_synth(&s, &AnalysisConfig::default());
    assert_flag(&a, "irregular_amplitudes", Some(1));
    assert_eq!(severity(&a, "irregular_amplitudes"), "warning");
    assert_eq!(a.trains[0].shape, Some(Shape::Irregular));
}

#[test]
fn amplitude_area_disagreement() {
    // Amplitude flat while the negative phase narrows (area falls 20 %): the
    // two decrements disagree, which a real NMJ decrement does not do.
    let widths = [1.0, 0.93, 0.87, 0.8, 0.8, 0.8, 0.82, 0.83, 0.84, 0.85];
    let responses = widths
        .iter()
        .map(|&width| Response { gain: 1.0, width })
        .collect();
    let (_, a) = run_synth(&one_train(3.0, responses), &AnalysisConfig::default());
    assert_flag(&a, "amplitude_area_disagreement", Some(1));
    assert_eq!(severity(&a, "amplitude_area_disagreement"), "warning");
}

#[test]
fn baseline_instability_from_electrode_shift() {
    // Electrode shift: between the 5th and 6th responses the baseline moves by
    // 6 mV over 40 ms (too slow to look like a stimulus), and stays there.
    let out = generate(&clean_spec());
    let mut rec = out.to_recording().unwrap();
    let (t0, ramp) = (1.0 + 4.5 / 3.0, 0.04);
    for (i, v) in rec.channels[0].samples.iter_mut().enumerate() {
        let t = i as f64 / FS;
        let u = ((t - t0) / ramp).clamp(0.0, 1.0);
        *v += (6.0 * (1.0 - (std::f64::consts::PI * u).cos()) / 2.0) as f32;
    }
    let a = analyze(&rec, &AnalysisConfig::default()).unwrap();
    assert_eq!(a.trains.len(), 1, "{}", describe(&a));
    assert_eq!(a.trains[0].responses.len(), 10);
    assert_flag(&a, "baseline_instability", Some(1));
    assert_eq!(severity(&a, "baseline_instability"), "warning");
    // Each response keeps its own baseline, so the amplitudes are still right.
    for r in &a.trains[0].responses {
        assert!((r.amplitude_mv - 10.0).abs() < 0.2, "{r:?}");
    }
}

#[test]
fn artifact_overlap_from_long_tail() {
    // A slow artifact tail (3 mV, τ = 3 ms, in the direction of the CMAP's
    // negative phase) still decaying when the response begins.
    let mut s = clean_spec();
    s.artifact = ArtifactSpec {
        tail_mv: -3.0,
        tail_tau_ms: 3.0,
        ..ArtifactSpec::default()
    };
    let (_, a) = run_synth(&s, &AnalysisConfig::default());
    assert_flag(&a, "artifact_overlap", Some(1));
    assert_eq!(severity(&a, "artifact_overlap"), "warning");
}

#[test]
fn artifact_tail_of_opposite_sign_is_flagged_as_drift_under_onset() {
    // The same tail opposite to the negative phase: the signal crosses the
    // baseline before the onset, so the trace it leaves is a post-artifact
    // baseline far from the pre-stimulus level ("drift or artifact tail").
    let mut s = clean_spec();
    s.artifact = ArtifactSpec {
        tail_mv: 3.0,
        tail_tau_ms: 3.0,
        ..ArtifactSpec::default()
    };
    let (_, a) = run_synth(&s, &AnalysisConfig::default());
    assert!(
        has(&a, "artifact_overlap", Some(1)) || has(&a, "baseline_instability", Some(1)),
        "{}",
        describe(&a)
    );
    assert!(!warnings(&a).is_empty());
}

#[test]
fn strong_opposite_tail_does_not_flip_polarity() {
    // A large tail opposite to the CMAP's main phase, decaying into the
    // response: the polarity vote must skip it and still find the negative phase.
    for (tail, tau) in [(6.0, 1.0), (10.0, 2.0), (6.0, 5.0)] {
        let mut s = clean_spec();
        s.artifact = ArtifactSpec {
            tail_mv: tail,
            tail_tau_ms: tau,
            ..ArtifactSpec::default()
        };
        let (_, a) = run_synth(&s, &AnalysisConfig::default());
        assert_eq!(
            a.source.polarity,
            Polarity::Negative,
            "tail {tail} mV τ {tau} ms\n{}",
            describe(&a)
        );
    }
}

#[test]
fn clipped_signal() {
    let mut s = clean_spec();
    s.clip_mv = Some(7.0); // below the 10 mV negative peak
    let (_, a) = run_synth(&s, &AnalysisConfig::default());
    assert_flag(&a, "clipped_signal", Some(1));
    assert_eq!(severity(&a, "clipped_signal"), "warning");
}

#[test]
fn clipped_artifact_alone_is_not_clipped_signal() {
    // Rails at 9 mV: the 12 mV artifact clips, the 8 mV CMAP does not.
    let mut s = clean_spec();
    s.cmap.amplitude_mv = 8.0;
    s.artifact.amplitude_mv = 12.0;
    s.clip_mv = Some(9.0);
    let (_, a) = run_synth(&s, &AnalysisConfig::default());
    assert!(!has_any(&a, "clipped_signal"), "{}", describe(&a));
}

#[test]
fn too_few_responses() {
    let s = SynthSpec::simple(FS, vec![TrainSpec::from_gains(1.0, 3.0, &[1.0; 3])]);
    let (_, a) = run_synth(&s, &AnalysisConfig::default());
    assert_flag(&a, "too_few_responses", Some(1));
    assert_eq!(severity(&a, "too_few_responses"), "info");
}

#[test]
fn too_few_responses_recording_wide_for_single_stimuli() {
    // Single stimuli seconds apart: no train has the 4 responses a decrement needs.
    let trains = vec![
        TrainSpec::from_gains(1.0, 3.0, &[1.0]),
        TrainSpec::from_gains(3.0, 3.0, &[1.0]),
    ];
    let (_, a) = run_synth(&SynthSpec::simple(FS, trains), &AnalysisConfig::default());
    assert_flag(&a, "too_few_responses", None);
}

#[test]
fn possible_submaximal_from_latency_wander() {
    let mut s = clean_spec();
    s.latency_jitter_ms = 0.4;
    let (_, a) = run_synth(&s, &AnalysisConfig::default());
    assert_flag(&a, "possible_submaximal", Some(1));
}

#[test]
fn possible_submaximal_from_unequal_rest_trains() {
    // Two rest trains 4 s apart whose first responses differ by 30 %.
    let trains = vec![
        TrainSpec::from_gains(1.0, 3.0, &[1.0; 6]),
        TrainSpec::from_gains(4.0, 3.0, &[0.7; 6]),
    ];
    let (_, a) = run_synth(&SynthSpec::simple(FS, trains), &AnalysisConfig::default());
    assert_eq!(a.trains.len(), 2);
    assert!(a.trains.iter().all(|t| t.role == TrainRole::Baseline));
    assert_flag(&a, "possible_submaximal", None);
}

/// Responses of a 50 Hz train that rise to `top` with a width of 1/gain
/// (better synchrony, area unchanged).
fn pseudo_responses(n: usize, top: f64) -> Vec<Response> {
    (0..n)
        .map(|j| {
            let gain = 1.0 + (top - 1.0) * (1.0 - (-(j as f64) / 6.0).exp());
            Response {
                gain,
                width: 1.0 / gain,
            }
        })
        .collect()
}

#[test]
fn pseudofacilitation_at_high_rate() {
    let (_, a) = run_synth(
        &one_train(50.0, pseudo_responses(50, 1.5)),
        &AnalysisConfig::default(),
    );
    assert_eq!(a.trains[0].role, TrainRole::Hfs);
    assert_flag(&a, "pseudofacilitation", Some(1));
    assert_eq!(severity(&a, "pseudofacilitation"), "info");
}

#[test]
fn pseudofacilitation_after_exercise() {
    // Roles from the protocol; the post-exercise response is 50 % larger and
    // proportionally narrower (area flat).
    let post = (0..6)
        .map(|_| Response {
            gain: 1.5,
            width: 1.0 / 1.5,
        })
        .collect();
    let trains = vec![
        TrainSpec::from_gains(1.0, 3.0, &[1.0; 6]),
        TrainSpec {
            start_s: 5.0,
            rate_hz: 3.0,
            responses: post,
        },
    ];
    let cfg = AnalysisConfig {
        trains: vec![
            ProtocolTrain {
                role: Some(TrainRole::Baseline),
                ..Default::default()
            },
            ProtocolTrain {
                role: Some(TrainRole::PostExercise),
                delay_after_exercise_s: Some(2.0),
                ..Default::default()
            },
        ],
        ..AnalysisConfig::default()
    };
    let (_, a) = run_synth(&SynthSpec::simple(FS, trains), &cfg);
    assert_flag(&a, "pseudofacilitation", Some(2));
}

#[test]
fn response_absent() {
    // Stimulus artifacts but no CMAP (2 µV against 20 µV of noise).
    let mut s = SynthSpec::simple(FS, vec![TrainSpec::from_gains(1.0, 3.0, &[0.0002; 6])]);
    s.noise_uv_rms = 20.0;
    let (_, a) = run_synth(&s, &AnalysisConfig::default());
    assert_flag(&a, "response_absent", Some(1));
    assert_eq!(severity(&a, "response_absent"), "warning");
}

#[test]
fn incomplete_response_at_high_rate() {
    // A dispersed CMAP whose negative phase (onset 3 ms + 18 ms) outlasts the
    // 20 ms interval of a 50 Hz train.
    let mut s = SynthSpec::simple(FS, vec![TrainSpec::from_gains(1.0, 50.0, &[1.0; 20])]);
    s.cmap.negative_duration_ms = 18.0;
    s.cmap.rise_ms = 6.0;
    let (_, a) = run_synth(&s, &AnalysisConfig::default());
    assert_flag(&a, "incomplete_response", Some(1));
    // Informational at high rate (the window is short by design).
    assert_eq!(severity(&a, "incomplete_response"), "info");
}

#[test]
fn low_temperature() {
    let cfg = AnalysisConfig {
        temperature_c: Some(30.0),
        ..AnalysisConfig::default()
    };
    let (_, a) = run_synth(&clean_spec(), &cfg);
    assert_flag(&a, "low_temperature", None);
    assert!(a
        .classification
        .findings
        .iter()
        .any(|f| f.code == FindingCode::LowTemperature));
    // 32 °C is fine.
    let cfg = AnalysisConfig {
        temperature_c: Some(32.0),
        ..AnalysisConfig::default()
    };
    let (_, a) = run_synth(&clean_spec(), &cfg);
    assert!(!has_any(&a, "low_temperature"));
}

#[test]
fn exercise_timing() {
    // Protocol: a 10 s contraction ending at 5 s; the post-exercise train 90 s later.
    let trains = vec![
        TrainSpec::from_gains(0.5, 3.0, &[1.0; 6]),
        TrainSpec::from_gains(95.0, 3.0, &[1.0; 6]),
    ];
    let mut s = SynthSpec::simple(10_000.0, trains);
    s.duration_s = 98.0;
    let cfg = AnalysisConfig {
        exercise: Some(ExerciseSpec {
            end_s: Some(5.0),
            duration_s: Some(10.0),
        }),
        ..AnalysisConfig::default()
    };
    let (_, a) = run_synth(&s, &cfg);
    assert_eq!(
        a.trains[1].role,
        TrainRole::PostExercise,
        "{:#?}",
        a.trains[1]
    );
    let d = a.trains[1].delay_after_exercise_s.unwrap();
    assert!((d - 90.0).abs() < 0.01, "delay {d}");
    assert_flag(&a, "exercise_timing", Some(2));
    assert_eq!(severity(&a, "exercise_timing"), "info");
}

#[test]
fn exercise_timing_not_raised_when_prompt() {
    let trains = vec![
        TrainSpec::from_gains(0.5, 3.0, &[1.0; 6]),
        TrainSpec::from_gains(7.0, 3.0, &[1.0; 6]),
    ];
    let cfg = AnalysisConfig {
        exercise: Some(ExerciseSpec {
            end_s: Some(5.0),
            duration_s: Some(2.0),
        }),
        ..AnalysisConfig::default()
    };
    let (_, a) = run_synth(&SynthSpec::simple(FS, trains), &cfg);
    assert_eq!(a.trains[1].role, TrainRole::PostExercise);
    assert!(!has_any(&a, "exercise_timing"), "{}", describe(&a));
}

#[test]
fn unmeasurable_response_at_end_of_recording() {
    // The last stimulus 0.3 ms before the end of the recording.
    let mut s = clean_spec();
    s.duration_s = 1.0 + 9.0 / 3.0 + 0.0003;
    let (out, a) = run_synth(&s, &AnalysisConfig::default());
    assert_eq!(out.truth.stimuli_s.len(), 10);
    assert_flag(&a, "unmeasurable_response", Some(1));
}

/// Sweeps cut from a synthetic train: each `pre_ms` before to `post_ms` after
/// its stimulus, stored back to back with stimulus times known only as "time 0".
fn sweeps_recording(spec: &SynthSpec, pre_ms: f64, post_ms: f64) -> Recording {
    let out = generate(spec);
    let fs = out.sample_rate_hz;
    let pre = (pre_ms * fs / 1000.0).round() as usize;
    let len = pre + (post_ms * fs / 1000.0).round() as usize;
    let mut samples = Vec::new();
    let mut segments = Vec::new();
    let mut stimuli = Vec::new();
    for (k, &t) in out.truth.stimuli_s.iter().enumerate() {
        let s = (t * fs).round() as usize;
        samples.extend_from_slice(&out.samples[s - pre..s - pre + len]);
        segments.push(Segment {
            start: k * len,
            len,
            start_s: k as f64 * len as f64 / fs,
        });
        stimuli.push(k * len + pre);
    }
    let mut rec = Recording::single_channel("sweeps", SampleRate::new(fs).unwrap(), samples);
    rec.format = SourceFormat::CsvSweeps;
    rec.segments = segments;
    rec.stimuli = Some(KnownStimuli {
        samples: stimuli,
        origin: StimulusOrigin::Sweeps,
        timing_known: false,
    });
    rec
}

#[test]
fn rate_unknown_for_sweeps_without_rate() {
    let s = SynthSpec::simple(
        FS,
        vec![TrainSpec::from_gains(1.0, 3.0, &u_shaped_gains(10, 20.0))],
    );
    let rec = sweeps_recording(&s, 5.0, 40.0);
    let a = analyze(&rec, &AnalysisConfig::default()).unwrap();
    assert_eq!(a.source.stimulus_source, StimulusSource::Sweeps);
    assert_flag(&a, "rate_unknown", None);
    assert_eq!(a.trains.len(), 1);
    assert!((a.trains[0].decrement_pct.unwrap() - 20.0).abs() < 1.5);
    // With the rate given, the flag goes and times come back.
    let cfg = AnalysisConfig {
        sweep_rate: Some(rns_analyzer::units::Hz(3.0)),
        ..AnalysisConfig::default()
    };
    let a = analyze(&rec, &cfg).unwrap();
    assert!(!has_any(&a, "rate_unknown"), "{}", describe(&a));
    assert_eq!(a.trains[0].rate_hz, Some(3.0));
}

#[test]
fn roles_inferred_from_gaps() {
    // Two rest trains 10 s apart and no exercise seen or declared.
    let trains = vec![
        TrainSpec::from_gains(1.0, 3.0, &[1.0; 6]),
        TrainSpec::from_gains(13.0, 3.0, &[1.0; 6]),
    ];
    let (_, a) = run_synth(
        &SynthSpec::simple(10_000.0, trains),
        &AnalysisConfig::default(),
    );
    assert_eq!(a.trains[1].role, TrainRole::PostExercise);
    assert_eq!(a.trains[1].role_source, RoleSource::OrderAndGaps);
    assert_flag(&a, "roles_inferred", None);
    assert_eq!(severity(&a, "roles_inferred"), "info");
}

#[test]
fn protocol_mismatch() {
    let cfg = AnalysisConfig {
        trains: vec![
            ProtocolTrain {
                role: Some(TrainRole::Baseline),
                ..Default::default()
            },
            ProtocolTrain {
                role: Some(TrainRole::PostExercise),
                ..Default::default()
            },
        ],
        ..AnalysisConfig::default()
    };
    let (_, a) = run_synth(&clean_spec(), &cfg);
    assert_flag(&a, "protocol_mismatch", None);
    assert_eq!(a.trains[0].role, TrainRole::Baseline);
}

#[test]
fn mains_hum_removed() {
    let mut s = clean_spec();
    s.hum = Some(HumSpec {
        freq_hz: 60.0,
        amplitude_uv: 100.0,
        harmonic3_ratio: 0.2,
    });
    let (_, a) = run_synth(&s, &AnalysisConfig::default());
    assert_flag(&a, "mains_hum_removed", None);
    assert_eq!(severity(&a, "mains_hum_removed"), "info");
    assert!((a.source.mains_hz.unwrap() - 60.0).abs() < 0.2);
    // Hum is not a warning.
    assert!(warnings(&a).is_empty(), "{}", describe(&a));
    // No hum, no flag.
    let (_, a) = run_synth(&clean_spec(), &AnalysisConfig::default());
    assert!(!has_any(&a, "mains_hum_removed"));
}

#[test]
fn small_cmap_is_not_flagged() {
    // A low (3 mV) but clean CMAP is a finding, not a technical fault.
    let mut s = clean_spec();
    s.cmap = CmapShape {
        amplitude_mv: 3.0,
        ..CmapShape::default()
    };
    let (_, a) = run_synth(&s, &AnalysisConfig::default());
    assert!(warnings(&a).is_empty(), "{}", describe(&a));
}

/// At 5 kHz a normal 10 mV CMAP's steep return edge (≈1 mV/sample, 8.8 ms
/// after the artifact, outside its 8 ms cluster) can pass the slope threshold
/// when the sampled artifact slopes are low (~4 mV/sample for some sub-sample
/// phases). The own-edge guard of `stimulus` must keep it from being counted
/// as a second stimulus (a regression test: it once was).
#[test]
fn clean_recording_at_5_khz_with_normal_cmap() {
    let mut s = SynthSpec::simple(
        5_000.0,
        vec![
            TrainSpec::from_gains(1.0, 3.0, &[1.0; 10]),
            TrainSpec::from_gains(5.0, 20.0, &[1.0; 30]),
        ],
    );
    s.noise_uv_rms = 10.0;
    let (out, a) = run_synth(&s, &AnalysisConfig::default());
    let found: usize = a.trains.iter().map(|t| t.responses.len()).sum();
    assert_eq!(found, out.truth.stimuli_s.len(), "{}", describe(&a));
    assert_eq!(a.trains.len(), 2);
    assert!(warnings(&a).is_empty(), "{}", describe(&a));
}
