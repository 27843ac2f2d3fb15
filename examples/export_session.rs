//! Exports synthetic RNS signals for the EDF fixture script
//! (`scripts/make-edf-fixtures.py`), which builds EDF+, EDF+D and BDF files
//! from them with an independent writer (pyedflib, or its own packer).
//!
//! Run as `cargo run --release --example export_session -- OUT_DIR`. For each
//! signal `NAME` it writes into `OUT_DIR`:
//! - `NAME.f32`: the samples in millivolts, raw little-endian `f32`;
//! - `NAME.json`: sample rate, sample count, stimulus times, trains, the
//!   exercise period, and the truth (noiseless amplitude of each response);
//! - `NAME.wav` (session only): the same samples as a 16-bit WAV with
//!   `full_scale_mv = 32.768`, so one WAV step is 1 µV — the grid of the EDF,
//!   whose digital unit is 1 µV. The EDF and this WAV twin thus hold the same
//!   physical samples within one digital step. (A float WAV would be exact
//!   but twice as large, beyond the fixtures' size budget.)
//!
//! Signals (seeds fixed, so the output is byte-for-byte reproducible):
//! - `session` (10 kHz, 13 s): baseline train 3 Hz × 6 at 0.5 s with a 25 %
//!   U-shaped decrement, a 5 s contraction at 3–8 s, post-exercise trains at
//!   9.0 s (repair) and 11.3 s.
//! - `short4096` (4096 Hz, 3 s): one 3 Hz × 6 train at 0.5 s, for the BDF.
//! - `gapped` (5 kHz, 7.5 s): three 3 Hz × 3 trains at 0.4, 3.5 and 6.3 s,
//!   from which the script cuts an EDF+D with gaps between them.

use rns_analyzer::export::wav::{encode_wav, WavSampleFormat};
use rns_analyzer::sim::synth::{
    generate, u_shaped_gains, CmapShape, HumSpec, SynthOutput, SynthSpec, TrainSpec, VoluntarySpec,
    WanderSpec,
};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

type Res = Result<(), Box<dyn std::error::Error>>;

/// WAV full scale of the session twin: 32 768 steps of 1 µV.
const TWIN_FULL_SCALE_MV: f64 = 32.768;

fn main() -> Res {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "target/edf-session".into()),
    );
    std::fs::create_dir_all(&dir)?;
    session(&dir)?;
    short4096(&dir)?;
    gapped(&dir)?;
    Ok(())
}

fn spec(rate: f64, duration_s: f64, trains: Vec<TrainSpec>, seed: u64) -> SynthSpec {
    SynthSpec {
        sample_rate_hz: rate,
        duration_s,
        cmap: CmapShape {
            amplitude_mv: 9.0,
            ..CmapShape::default()
        },
        trains,
        noise_uv_rms: 10.0,
        hum: Some(HumSpec {
            amplitude_uv: 30.0,
            ..HumSpec::default()
        }),
        wander: Some(WanderSpec {
            amplitude_uv: 150.0,
            freq_hz: 0.2,
        }),
        seed,
        ..SynthSpec::default()
    }
}

fn session(dir: &Path) -> Res {
    let post: Vec<f64> = u_shaped_gains(6, 12.0).iter().map(|g| g * 1.1).collect();
    let mut s = spec(
        10_000.0,
        13.0,
        vec![
            TrainSpec::from_gains(0.5, 3.0, &u_shaped_gains(6, 25.0)),
            TrainSpec::from_gains(9.0, 3.0, &post),
            TrainSpec::from_gains(11.3, 3.0, &u_shaped_gains(5, 22.0)),
        ],
        44,
    );
    s.voluntary = vec![VoluntarySpec {
        start_s: 3.0,
        end_s: 8.0,
        rms_mv: 1.0,
    }];
    let out = generate(&s);
    let wav = encode_wav(
        &[&out.samples],
        10_000,
        TWIN_FULL_SCALE_MV,
        WavSampleFormat::Int16,
    )?;
    std::fs::write(dir.join("session.wav"), wav)?;
    write(
        dir,
        "session",
        &s,
        &out,
        json!({ "start_s": 3.0, "end_s": 8.0 }),
    )
}

fn short4096(dir: &Path) -> Res {
    let s = spec(
        4096.0,
        3.0,
        vec![TrainSpec::from_gains(0.5, 3.0, &u_shaped_gains(6, 20.0))],
        45,
    );
    let out = generate(&s);
    write(dir, "short4096", &s, &out, Value::Null)
}

fn gapped(dir: &Path) -> Res {
    let s = spec(
        5_000.0,
        7.5,
        vec![
            TrainSpec::from_gains(0.4, 3.0, &[1.0, 0.9, 0.86]),
            TrainSpec::from_gains(3.5, 3.0, &[1.0, 0.92, 0.88]),
            TrainSpec::from_gains(6.3, 3.0, &[1.0, 0.9, 0.85]),
        ],
        46,
    );
    let out = generate(&s);
    write(dir, "gapped", &s, &out, Value::Null)
}

fn write(dir: &Path, name: &str, s: &SynthSpec, out: &SynthOutput, exercise: Value) -> Res {
    let mut raw = Vec::with_capacity(out.samples.len() * 4);
    for v in &out.samples {
        raw.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(dir.join(format!("{name}.f32")), raw)?;
    let trains: Vec<Value> = s
        .trains
        .iter()
        .map(|t| json!({ "start_s": t.start_s, "rate_hz": t.rate_hz, "responses": t.responses.len() }))
        .collect();
    let meta = json!({
        "name": name,
        "sample_rate_hz": out.sample_rate_hz,
        "samples": out.samples.len(),
        "max_abs_mv": out.samples.iter().fold(0.0f32, |m, v| m.max(v.abs())),
        "stimuli_s": out.truth.stimuli_s,
        "trains": trains,
        "exercise": exercise,
        "amplitudes_mv": out.truth.responses.iter().map(|r| r.amplitude_mv).collect::<Vec<_>>(),
        "twin_full_scale_mv": TWIN_FULL_SCALE_MV,
    });
    let mut text = serde_json::to_string_pretty(&meta)?;
    text.push('\n');
    std::fs::write(dir.join(format!("{name}.json")), text)?;
    println!("wrote {}", dir.join(name).display());
    Ok(())
}
