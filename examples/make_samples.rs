//! Regenerates `samples/`: small synthetic RNS recordings with known answers,
//! from the template generator (`synth`: exact prescribed amplitudes) and from
//! the physiological simulator (`sim`: `sim_*` files, what `rns simulate`
//! writes, with the pattern the junction is meant to produce).
//!
//! Run through `scripts/make-samples.sh` (or `cargo run --release --example
//! make_samples -- samples`). Every recording is written with its protocol
//! sidecar (`<file>.rns.toml`), its truth (`<file>.truth.json`: stimulus times
//! and each response's noiseless amplitude and area) and the expected analysis
//! (`<file>.expected.json`: pattern, train roles, decrements and increments
//! computed from the truth, and quality codes that must appear). The sample test
//! (`tests/integration/samples.rs`) checks the analyzer against the last two.
//! Seeds are fixed, so the files are byte-for-byte reproducible.

use rns_analyzer::export::atomic::write_atomic;
use rns_analyzer::export::csv::{encode_continuous_csv, encode_sweeps_csv};
use rns_analyzer::export::wav::{encode_wav, WavSampleFormat};
use rns_analyzer::sim::synth::{
    generate, incrementing_gains, progressive_gains, u_shaped_gains, CmapShape, HumSpec, Response,
    SynthOutput, SynthSpec, TrainSpec, VoluntarySpec, WanderSpec,
};
use rns_analyzer::sim::{self, Muscle, Preset, Protocol, ProtocolKind, SimSpec};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

type Res = Result<(), Box<dyn std::error::Error>>;

struct Expect {
    pattern: &'static str,
    roles: Vec<&'static str>,
    flags: Vec<&'static str>,
    session: Value,
    stimulus_source: &'static str,
}

fn main() -> Res {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "samples".into()));
    std::fs::create_dir_all(&dir)?;
    normal_adm(&dir)?;
    mg_session(&dir)?;
    lems_session(&dir)?;
    hfs_lems(&dir)?;
    hfs_pseudofacilitation(&dir)?;
    mg_sweeps_csv(&dir)?;
    normal_trigger_csv(&dir)?;
    lems_brief_exercise_sweeps(&dir)?;
    simulated(
        &dir,
        Preset::MgSevere,
        ProtocolKind::Baseline,
        "sim_mg_severe_baseline.wav",
        10_000.0,
    )?;
    simulated(
        &dir,
        Preset::Lems,
        ProtocolKind::Hfs,
        "sim_lems_hfs.wav",
        10_000.0,
    )?;
    simulated(
        &dir,
        Preset::Normal,
        ProtocolKind::BriefExercise,
        "sim_normal_brief_exercise.wav",
        5_000.0,
    )?;
    Ok(())
}

/// A recording of the physiological simulator (`rns simulate`), with its
/// expected results from the simulator's truth.
fn simulated(dir: &Path, preset: Preset, kind: ProtocolKind, file: &str, rate: f64) -> Res {
    let spec = SimSpec {
        junction: preset.junction(),
        muscle: Muscle::parse("ADM").ok_or("muscle")?,
        protocol: Protocol::standard(kind, 10, 50.0, 1.0),
        recording: sim::Recording {
            sample_rate_hz: rate,
            ..sim::Recording::default()
        },
        seed: 2026,
    };
    let out = sim::simulate(&spec);
    let full_scale = 40.0;
    let wav = encode_wav(
        &[&out.samples],
        rate as u32,
        full_scale,
        WavSampleFormat::Int16,
    )?;
    let side = format!(
        "# Simulated: rns simulate --preset {} --protocol {} --seed 2026 --sample-rate {rate} --format wav16 --full-scale-mv {full_scale}\nmuscle = \"ADM\"\ntemperature_c = 33.0\nfull_scale_mv = {full_scale}\n",
        preset.name(),
        kind.name()
    );
    let mut truth = out.truth.clone();
    truth.preset = Some(preset.name().to_string());
    truth.intended_pattern = Some(preset.intended_pattern().to_string());
    let trains: Vec<Value> = truth
        .trains
        .iter()
        .map(|t| {
            let rs: Vec<&sim::SimResponse> = truth
                .responses
                .iter()
                .filter(|r| r.train == t.index)
                .collect();
            let amps: Vec<f64> = rs.iter().map(|r| r.amplitude_mv).collect();
            let areas: Vec<f64> = rs.iter().map(|r| r.area_mv_ms).collect();
            let inc = (amps.len() >= 2).then(|| {
                let m = amps[1..].iter().copied().fold(f64::MIN, f64::max);
                round((m - amps[0]) / amps[0] * 100.0, 2)
            });
            json!({
                "role": t.role, "responses": amps.len(),
                "amplitudes_mv": amps, "areas_mv_ms": areas,
                "decrement_pct": t.decrement_pct,
                "max_increment_pct": inc,
            })
        })
        .collect();
    let expected = json!({
        "file": file,
        "pattern": preset.intended_pattern(),
        "stimulus_source": "artifact_slope",
        "trains": trains,
        "quality_codes": [],
        "allowed_warnings": if preset == Preset::Normal { vec![] } else { vec!["possible_submaximal", "irregular_amplitudes"] },
        "session": {},
        // A simulated CMAP is a sum of dispersed unit potentials and small
        // responses are a few fibres: 3 % or 50 µV, whichever is larger.
        "tolerance": { "amplitude_pct": 3.0, "amplitude_floor_mv": 0.05, "area_pct": 6.0, "decrement_points": 1.5, "increment_points": 8.0 },
    });
    write_atomic(&dir.join(file), &wav)?;
    write_atomic(&dir.join(format!("{file}.rns.toml")), side.as_bytes())?;
    let mut t = serde_json::to_string_pretty(&truth)?;
    t.push('\n');
    write_atomic(&dir.join(format!("{file}.truth.json")), t.as_bytes())?;
    write_json(&dir.join(format!("{file}.expected.json")), &expected)?;
    println!("wrote {}", dir.join(file).display());
    Ok(())
}

fn base_spec(rate: f64, trains: Vec<TrainSpec>, amplitude_mv: f64, seed: u64) -> SynthSpec {
    let mut s = SynthSpec::simple(rate, trains);
    s.cmap = CmapShape {
        amplitude_mv,
        ..CmapShape::default()
    };
    s.noise_uv_rms = 10.0;
    s.hum = Some(HumSpec {
        amplitude_uv: 30.0,
        ..HumSpec::default()
    });
    s.wander = Some(WanderSpec {
        amplitude_uv: 150.0,
        freq_hz: 0.2,
    });
    s.seed = seed;
    s
}

fn truth_json(out: &SynthOutput) -> Value {
    let responses: Vec<Value> = out
        .truth
        .responses
        .iter()
        .map(|r| {
            json!({
                "train": r.train + 1, "index": r.index + 1,
                "stimulus_s": round(r.stimulus_s, 6),
                "amplitude_mv": round(r.amplitude_mv, 4),
                "area_mv_ms": round(r.area_mv_ms, 4),
                "peak_to_peak_mv": round(r.peak_to_peak_mv, 4),
                "latency_ms": round(r.latency_ms, 4),
                "duration_ms": round(r.duration_ms, 4),
            })
        })
        .collect();
    json!({
        "sample_rate_hz": out.sample_rate_hz,
        "stimuli_s": out.truth.stimuli_s.iter().map(|t| round(*t, 6)).collect::<Vec<_>>(),
        "responses": responses,
    })
}

fn round(x: f64, d: i32) -> f64 {
    let p = 10f64.powi(d);
    (x * p).round() / p
}

fn expected_json(out: &SynthOutput, e: &Expect, file: &str) -> Value {
    let ntrains = out
        .truth
        .responses
        .iter()
        .map(|r| r.train)
        .max()
        .map_or(0, |m| m + 1);
    let trains: Vec<Value> = (0..ntrains)
        .map(|k| {
            let a = out.truth.amplitudes(k);
            let ar = out.truth.areas(k);
            let inc = |v: &[f64]| {
                (v.len() >= 2).then(|| {
                    let m = v[1..].iter().copied().fold(f64::MIN, f64::max);
                    round((m - v[0]) / v[0] * 100.0, 2)
                })
            };
            json!({
                "role": e.roles.get(k).copied().unwrap_or("baseline"),
                "responses": a.len(),
                "amplitudes_mv": a.iter().map(|v| round(*v, 4)).collect::<Vec<_>>(),
                "areas_mv_ms": ar.iter().map(|v| round(*v, 4)).collect::<Vec<_>>(),
                "decrement_pct": out.truth.amplitude_decrement_pct(k, 4).map(|v| round(v, 2)),
                "area_decrement_pct": out.truth.area_decrement_pct(k, 4).map(|v| round(v, 2)),
                "max_increment_pct": inc(&a),
                "max_area_increment_pct": inc(&ar),
            })
        })
        .collect();
    json!({
        "file": file,
        "pattern": e.pattern,
        "stimulus_source": e.stimulus_source,
        "trains": trains,
        "quality_codes": e.flags,
        "session": e.session,
        "tolerance": { "amplitude_pct": 3.0, "area_pct": 5.0, "decrement_points": 1.5, "increment_points": 5.0 },
    })
}

fn write_json(path: &Path, v: &Value) -> Res {
    let mut s = serde_json::to_string_pretty(v)?;
    s.push('\n');
    write_atomic(path, s.as_bytes())?;
    Ok(())
}

fn write_all(
    dir: &Path,
    file: &str,
    data: &[u8],
    sidecar: &str,
    out: &SynthOutput,
    e: &Expect,
) -> Res {
    write_atomic(&dir.join(file), data)?;
    write_atomic(&dir.join(format!("{file}.rns.toml")), sidecar.as_bytes())?;
    write_json(&dir.join(format!("{file}.truth.json")), &truth_json(out))?;
    write_json(
        &dir.join(format!("{file}.expected.json")),
        &expected_json(out, e, file),
    )?;
    println!("wrote {}", dir.join(file).display());
    Ok(())
}

/// Normal ADM session: rest train, 10 s contraction, post-exercise train.
fn normal_adm(dir: &Path) -> Res {
    let rest = [1.0, 0.99, 0.985, 0.98, 0.982, 0.985, 0.99, 0.99, 0.995, 1.0];
    let post: Vec<f64> = rest.iter().map(|g| g * 1.08).collect();
    let mut s = base_spec(
        10_000.0,
        vec![
            TrainSpec::from_gains(1.0, 3.0, &rest),
            TrainSpec::from_gains(17.0, 3.0, &post),
        ],
        10.5,
        11,
    );
    s.voluntary = vec![VoluntarySpec {
        start_s: 6.0,
        end_s: 16.0,
        rms_mv: 1.0,
    }];
    let out = generate(&s);
    let wav = encode_wav(&[&out.samples], 10_000, 20.0, WavSampleFormat::Int16)?;
    let side = "# Normal ADM study: rest train, 10 s maximal contraction, train 1 s after.\nmuscle = \"ADM\"\nnerve = \"ulnar\"\ntemperature_c = 33.5\nfull_scale_mv = 20.0\n";
    let e = Expect {
        pattern: "normal",
        roles: vec!["baseline", "post_exercise"],
        flags: vec!["mains_hum_removed"],
        session: json!({ "exercise_source": "voluntary_activity" }),
        stimulus_source: "artifact_slope",
    };
    write_all(dir, "normal_adm.wav", &wav, side, &out, &e)
}

/// MG-like exhaustion protocol: U-shaped decrement, repair right after a 30 s
/// contraction, exhaustion at 1 min.
fn mg_session(dir: &Path) -> Res {
    let post: Vec<f64> = u_shaped_gains(10, 12.0).iter().map(|g| g * 1.1).collect();
    let mut s = base_spec(
        5_000.0,
        vec![
            TrainSpec::from_gains(1.0, 3.0, &u_shaped_gains(10, 28.0)),
            TrainSpec::from_gains(37.0, 3.0, &post),
            TrainSpec::from_gains(96.0, 3.0, &u_shaped_gains(10, 38.0)),
        ],
        9.0,
        22,
    );
    s.voluntary = vec![VoluntarySpec {
        start_s: 6.0,
        end_s: 36.0,
        rms_mv: 1.2,
    }];
    let out = generate(&s);
    let wav = encode_wav(&[&out.samples], 5_000, 20.0, WavSampleFormat::Int16)?;
    let side = "# MG-like exhaustion protocol (synthetic): rest train, 30 s contraction,\n# trains right after and 1 min after.\nmuscle = \"ADM\"\nnerve = \"ulnar\"\ntemperature_c = 34.0\nfull_scale_mv = 20.0\n";
    let e = Expect {
        pattern: "mg_like",
        roles: vec!["baseline", "post_exercise", "post_exercise"],
        flags: vec![],
        session: json!({ "repair": true, "exhaustion": true, "exercise_source": "voluntary_activity" }),
        stimulus_source: "artifact_slope",
    };
    write_all(dir, "mg_session.wav", &wav, side, &out, &e)
}

/// LEMS-like brief-exercise session: small CMAP with decrement, 10 s
/// contraction, first response after it +160 %.
fn lems_session(dir: &Path) -> Res {
    let post: Vec<f64> = progressive_gains(10, 18.0)
        .iter()
        .map(|g| g * 2.6)
        .collect();
    let mut s = base_spec(
        10_000.0,
        vec![
            TrainSpec::from_gains(1.0, 3.0, &u_shaped_gains(10, 20.0)),
            TrainSpec::from_gains(16.0, 3.0, &post),
        ],
        2.5,
        33,
    );
    s.voluntary = vec![VoluntarySpec {
        start_s: 5.0,
        end_s: 15.0,
        rms_mv: 0.8,
    }];
    let out = generate(&s);
    let wav = encode_wav(&[&out.samples], 10_000, 10.0, WavSampleFormat::Int24)?;
    let side = "# LEMS-like brief exercise test (synthetic): rest train, 10 s contraction,\n# train 1 s after.\nmuscle = \"ADM\"\nnerve = \"ulnar\"\ntemperature_c = 33.0\nfull_scale_mv = 10.0\n";
    let e = Expect {
        pattern: "lems_like",
        roles: vec!["baseline", "post_exercise"],
        flags: vec![],
        session: json!({ "exercise_source": "voluntary_activity" }),
        stimulus_source: "artifact_slope",
    };
    write_all(dir, "lems_session.wav", &wav, side, &out, &e)
}

/// High-rate (50 Hz) train in a LEMS-like junction: +180 % increment.
fn hfs_lems(dir: &Path) -> Res {
    let s = base_spec(
        20_000.0,
        vec![
            TrainSpec::from_gains(0.5, 3.0, &progressive_gains(5, 12.0)),
            TrainSpec::from_gains(4.0, 50.0, &incrementing_gains(50, 180.0)),
        ],
        2.0,
        44,
    );
    let out = generate(&s);
    let wav = encode_wav(&[&out.samples], 20_000, 1.0, WavSampleFormat::Float32)?;
    let side = "# LEMS-like high-rate test (synthetic): 3 Hz train of 5, then 50 Hz for 1 s.\n# Float WAV: values are millivolts (full_scale_mv = 1).\nmuscle = \"ADM\"\ntemperature_c = 33.0\n\n[[trains]]\nrole = \"baseline\"\n[[trains]]\nrole = \"hfs\"\n";
    let e = Expect {
        pattern: "lems_like",
        roles: vec!["baseline", "hfs"],
        flags: vec![],
        session: json!({}),
        stimulus_source: "artifact_slope",
    };
    write_all(dir, "hfs_lems.wav", &wav, side, &out, &e)
}

/// Normal high-rate train with pseudofacilitation: amplitude +45 % from better
/// synchrony, area flat. Must not be called LEMS-like.
fn hfs_pseudofacilitation(dir: &Path) -> Res {
    let n = 50;
    let responses: Vec<Response> = (0..n)
        .map(|j| {
            let g = 1.0 + 0.45 * (1.0 - (-(j as f64) / 12.0).exp());
            Response {
                gain: g,
                width: 1.0 / g,
            }
        })
        .collect();
    let s = base_spec(
        20_000.0,
        vec![
            TrainSpec::from_gains(0.5, 3.0, &[1.0, 0.995, 0.99, 0.99, 0.995]),
            TrainSpec {
                start_s: 4.0,
                rate_hz: 50.0,
                responses,
            },
        ],
        10.0,
        55,
    );
    let out = generate(&s);
    let wav = encode_wav(&[&out.samples], 20_000, 25.0, WavSampleFormat::Int16)?;
    let side = "# Normal ADM, 3 Hz then 50 Hz: pseudofacilitation (amplitude up, area flat).\nmuscle = \"ADM\"\ntemperature_c = 34.0\nfull_scale_mv = 25.0\n";
    let e = Expect {
        pattern: "normal",
        roles: vec!["baseline", "hfs"],
        flags: vec!["pseudofacilitation"],
        session: json!({}),
        stimulus_source: "artifact_slope",
    };
    write_all(dir, "hfs_pseudofacilitation.wav", &wav, side, &out, &e)
}

/// Cut epochs `[stimulus − pre, stimulus + post)` out of a synthetic recording.
fn sweeps_of(out: &SynthOutput, pre: usize, post: usize) -> Vec<Vec<f32>> {
    out.truth
        .stimuli_s
        .iter()
        .map(|t| {
            let s = (t * out.sample_rate_hz).ceil() as usize;
            out.samples[s - pre..s + post].to_vec()
        })
        .collect()
}

/// An EMG machine's epoched export of an MG-like APB train (sweeps, no timing).
fn mg_sweeps_csv(dir: &Path) -> Res {
    let mut s = base_spec(
        10_000.0,
        vec![TrainSpec::from_gains(0.5, 3.0, &u_shaped_gains(10, 22.0))],
        8.0,
        66,
    );
    s.hum = None;
    s.wander = None;
    let out = generate(&s);
    let sw = sweeps_of(&out, 50, 350);
    let refs: Vec<&[f32]> = sw.iter().map(|v| v.as_slice()).collect();
    let csv = encode_sweeps_csv(10_000.0, 50, &refs);
    let side = "# Epoched export of a 3 Hz train (one column per response).\nmuscle = \"APB\"\nnerve = \"median\"\ntemperature_c = 33.0\nrate_hz = 3.0\n";
    let e = Expect {
        pattern: "mg_like",
        roles: vec!["baseline"],
        flags: vec![],
        session: json!({}),
        stimulus_source: "sweeps",
    };
    write_all(dir, "mg_sweeps.csv", &csv, side, &out, &e)
}

/// Continuous CSV with a trigger column: a normal 3 Hz train.
fn normal_trigger_csv(dir: &Path) -> Res {
    let mut s = base_spec(
        5_000.0,
        vec![TrainSpec::from_gains(
            0.4,
            3.0,
            &[1.0, 0.99, 0.985, 0.985, 0.99, 0.99],
        )],
        9.5,
        77,
    );
    s.duration_s = 2.4;
    let out = generate(&s);
    let mut trig = vec![0.0f32; out.samples.len()];
    for t in &out.truth.stimuli_s {
        let i = (t * out.sample_rate_hz).ceil() as usize;
        for v in trig.iter_mut().skip(i).take(5) {
            *v = 5.0;
        }
    }
    let csv = encode_continuous_csv(
        true,
        5_000.0,
        &[("emg_mV", &out.samples), ("trigger", &trig)],
    );
    let side =
        "# Continuous export with a trigger column.\nmuscle = \"ADM\"\ntemperature_c = 32.5\n";
    let e = Expect {
        pattern: "normal",
        roles: vec!["baseline"],
        flags: vec![],
        session: json!({}),
        stimulus_source: "trigger_channel",
    };
    write_all(dir, "normal_trigger.csv", &csv, side, &out, &e)
}

/// Brief-exercise test as two single sweeps, roles from the sidecar.
fn lems_brief_exercise_sweeps(dir: &Path) -> Res {
    let mut s = base_spec(
        10_000.0,
        vec![
            TrainSpec::from_gains(0.5, 3.0, &[1.0]),
            TrainSpec::from_gains(12.0, 3.0, &[2.3]),
        ],
        2.2,
        88,
    );
    s.hum = None;
    s.wander = None;
    s.duration_s = 12.6;
    let out = generate(&s);
    let sw = sweeps_of(&out, 50, 350);
    let refs: Vec<&[f32]> = sw.iter().map(|v| v.as_slice()).collect();
    let csv = encode_sweeps_csv(10_000.0, 50, &refs);
    let side = "# Brief exercise test: single CMAP at rest, 10 s contraction, single CMAP.\nmuscle = \"ADM\"\ntemperature_c = 33.0\n\n[[trains]]\nrole = \"baseline\"\nresponses = 1\n\n[[trains]]\nrole = \"post_exercise\"\nresponses = 1\ndelay_after_exercise_s = 1.5\n";
    let e = Expect {
        pattern: "lems_like",
        roles: vec!["baseline", "post_exercise"],
        flags: vec!["too_few_responses"],
        session: json!({}),
        stimulus_source: "sweeps",
    };
    write_all(dir, "lems_brief_exercise.csv", &csv, side, &out, &e)
}
