//! Writes the long recordings `scripts/bench.sh` times: the 5-minute 20 kHz
//! benchmark session ([`synth::benchmark_session`]) as a 16-bit WAV, a
//! 32-bit float WAV and a continuous CSV, and a 1-hour recording (the session
//! twelve times over, 72 million samples) as 16-bit and float WAV.
//!
//! ```text
//! cargo run --release --example bench_session -- DIR
//! ```
//!
//! Files: `session_5min.wav` (16-bit, full scale 50 mV in its sidecar),
//! `session_5min.f32.wav`, `session_5min.csv` (`time_s,emg_mV`),
//! `session_1h.wav`, `session_1h.f32.wav`, and `session_5min_8ch.edf` /
//! `session_1h_8ch.edf`: plain EDF with eight 16-bit signals in 1-second
//! records, the session in the first and shifted copies of it in the others
//! (a multi-channel export of which `rns analyze` decodes one). The hour is
//! written by repeating the session's data under a header that declares
//! twelve times its length, so it costs no more than the session to generate.

use rns_analyzer::export::csv::encode_continuous_csv;
use rns_analyzer::export::wav::{encode_wav, WavSampleFormat};
use rns_analyzer::sim::synth;
use std::io::Write;
use std::path::{Path, PathBuf};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const REPEATS: u32 = 12;
const FULL_SCALE_MV: f64 = 50.0;

fn main() -> Res<()> {
    let dir = PathBuf::from(std::env::args().nth(1).ok_or("usage: bench_session DIR")?);
    std::fs::create_dir_all(&dir)?;
    let s = synth::generate(&synth::benchmark_session());
    let rate = s.sample_rate_hz as u32;
    let wav16 = encode_wav(&[&s.samples], rate, FULL_SCALE_MV, WavSampleFormat::Int16)?;
    let wavf = encode_wav(&[&s.samples], rate, 1.0, WavSampleFormat::Float32)?;
    std::fs::write(dir.join("session_5min.wav"), &wav16)?;
    std::fs::write(dir.join("session_5min.f32.wav"), &wavf)?;
    std::fs::write(
        dir.join("session_5min.csv"),
        encode_continuous_csv(true, s.sample_rate_hz, &[("emg_mV", &s.samples)]),
    )?;
    repeat(&wav16, &dir.join("session_1h.wav"))?;
    write_edf(&s.samples, rate, 1, &dir.join("session_5min_8ch.edf"))?;
    write_edf(&s.samples, rate, REPEATS, &dir.join("session_1h_8ch.edf"))?;
    repeat(&wavf, &dir.join("session_1h.f32.wav"))?;
    for name in ["session_5min.wav", "session_1h.wav"] {
        std::fs::write(
            dir.join(format!("{name}.rns.toml")),
            format!("full_scale_mv = {FULL_SCALE_MV}\n"),
        )?;
    }
    println!(
        "wrote the 5-minute session ({} samples) and the 1-hour recording ({} samples) to {}",
        s.samples.len(),
        s.samples.len() as u64 * u64::from(REPEATS),
        dir.display()
    );
    Ok(())
}

/// Signals in the EDF files.
const EDF_SIGNALS: usize = 8;

/// Write `samples` (mV, 16-bit over ±[`FULL_SCALE_MV`]) as a plain EDF of
/// [`EDF_SIGNALS`] signals in 1-second records, `repeats` times over.
/// Signal 0 is `samples`, signal k the same shifted by k × 1000 samples.
fn write_edf(samples: &[f32], rate: u32, repeats: u32, out: &Path) -> Res<()> {
    let per = rate as usize;
    let records = samples.len().div_ceil(per);
    let field = |s: &str, w: usize| format!("{s:<w$}");
    let mut h = String::new();
    h += &field("0", 8);
    h += &field("X X X X", 80);
    h += &field("Startdate 01-JAN-2026 X X X", 80);
    h += "01.01.2600.00.00";
    h += &field(&(256 * (EDF_SIGNALS + 1)).to_string(), 8);
    h += &field("", 44);
    h += &field(&(records as u64 * u64::from(repeats)).to_string(), 8);
    h += &field("1", 8);
    h += &field(&EDF_SIGNALS.to_string(), 4);
    let each = |v: &dyn Fn(usize) -> String, w: usize| -> String {
        (0..EDF_SIGNALS).map(|k| field(&v(k), w)).collect()
    };
    h += &each(&|k| format!("EMG {k}"), 16);
    h += &each(&|_| "AgAgCl electrode".into(), 80);
    h += &each(&|_| "mV".into(), 8);
    h += &each(&|_| format!("{}", -FULL_SCALE_MV), 8);
    h += &each(&|_| format!("{FULL_SCALE_MV}"), 8);
    h += &each(&|_| "-32768".into(), 8);
    h += &each(&|_| "32767".into(), 8);
    h += &each(&|_| "".into(), 80);
    h += &each(&|_| per.to_string(), 8);
    h += &each(&|_| "".into(), 32);
    let digital = |v: f32| -> [u8; 2] {
        let d = (f64::from(v) / FULL_SCALE_MV * 32767.5 - 0.5).round();
        (d.clamp(-32768.0, 32767.0) as i16).to_le_bytes()
    };
    let mut data = Vec::with_capacity(records * per * EDF_SIGNALS * 2);
    for r in 0..records {
        for k in 0..EDF_SIGNALS {
            for i in r * per..(r + 1) * per {
                let v = samples.get((i + k * 1000) % samples.len()).copied();
                data.extend_from_slice(&digital(if i < samples.len() {
                    v.unwrap_or(0.0)
                } else {
                    0.0
                }));
            }
        }
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(out)?);
    f.write_all(h.as_bytes())?;
    for _ in 0..repeats {
        f.write_all(&data)?;
    }
    f.flush()?;
    Ok(())
}

/// Write `wav` with its data chunk repeated [`REPEATS`] times.
fn repeat(wav: &[u8], out: &Path) -> Res<()> {
    let at = wav
        .windows(4)
        .position(|w| w == b"data")
        .ok_or("no data chunk")?;
    let data = &wav[at + 8..];
    let len = u32::try_from(data.len() as u64 * u64::from(REPEATS))?;
    let mut header = wav[..at + 8].to_vec();
    let riff = u32::try_from(header.len() as u64 - 8 + u64::from(len))?;
    header[4..8].copy_from_slice(&riff.to_le_bytes());
    header[at + 4..at + 8].copy_from_slice(&len.to_le_bytes());
    let mut f = std::io::BufWriter::new(std::fs::File::create(out)?);
    f.write_all(&header)?;
    for _ in 0..REPEATS {
        f.write_all(data)?;
    }
    f.flush()?;
    Ok(())
}
