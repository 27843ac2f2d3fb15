//! Decodes recordings to f32 millivolts exactly as `rns analyze` reads them,
//! and nothing more: the baseline of the "analysis ≤ 1.5 × decoding" ratio in
//! `scripts/bench.sh` (see BENCHMARKS.md).
//!
//! ```text
//! cargo run --release --example decode_only -- FILE...
//! cargo run --release --example decode_only -- --hound FILE.wav...
//! ```
//!
//! For each file: its sidecar (`<file>.rns.toml`) is merged with the defaults
//! as `rns analyze` merges it, the recording is read with
//! [`read_recording`](rns_analyzer::io::read_recording) (the same channels
//! decoded), and one line gives the samples decoded and the last one.
//!
//! `--hound` decodes a WAV the straightforward way instead, with hound's
//! per-sample iterator (as `rns` did before issue #6), every channel scaled
//! to millivolts: an informative second baseline (BENCHMARKS.md).

use rns_analyzer::io::read_recording;
use rns_analyzer::settings::config::{Overrides, Settings};
use rns_analyzer::settings::criteria::Criteria;
use rns_analyzer::settings::protocol::Protocol;
use std::path::{Path, PathBuf};

/// Every channel of a WAV as f32 millivolts, through hound's iterator.
fn decode_with_hound(path: &Path, full_scale_mv: f64) -> Result<Vec<Vec<f32>>, hound::Error> {
    let mut r = hound::WavReader::open(path)?;
    let spec = r.spec();
    let nch = usize::from(spec.channels);
    let mut out: Vec<Vec<f32>> = (0..nch)
        .map(|_| Vec::with_capacity(r.duration() as usize))
        .collect();
    match spec.sample_format {
        hound::SampleFormat::Float => {
            for (i, s) in r.samples::<f32>().enumerate() {
                out[i % nch].push((f64::from(s?) * full_scale_mv) as f32);
            }
        }
        hound::SampleFormat::Int => {
            let scale = full_scale_mv / f64::from(1u32 << (spec.bits_per_sample - 1));
            for (i, s) in r.samples::<i32>().enumerate() {
                out[i % nch].push((f64::from(s?) * scale) as f32);
            }
        }
    }
    Ok(out)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut hound = false;
    for arg in std::env::args_os().skip(1) {
        if arg == "--hound" {
            hound = true;
            continue;
        }
        let path = PathBuf::from(arg);
        let mut side = path.clone().into_os_string();
        side.push(".rns.toml");
        let side = PathBuf::from(side);
        let protocol = if side.exists() {
            Some(Protocol::load(&side)?)
        } else {
            None
        };
        let settings = Settings::merge(
            &Overrides::default(),
            protocol.as_ref(),
            Criteria::default(),
        )?;
        let channels = if hound {
            decode_with_hound(&path, settings.read.full_scale_mv)?
        } else {
            read_recording(&path, &settings.read)?
                .channels
                .into_iter()
                .map(|c| c.samples)
                .collect()
        };
        let n: usize = channels.iter().map(Vec::len).sum();
        let last = channels.iter().find_map(|c| c.last());
        println!("{}: {n} samples, last {last:?}", path.display());
    }
    Ok(())
}
