//! Decodes recordings to f32 millivolts exactly as `rns analyze` reads them,
//! and nothing more: the baseline of the "analysis ≤ 1.5 × decoding" ratio in
//! `scripts/bench.sh` (see BENCHMARKS.md).
//!
//! ```text
//! cargo run --release --example decode_only -- FILE...
//! ```
//!
//! For each file: its sidecar (`<file>.rns.toml`) is merged with the defaults
//! as `rns analyze` merges it, the recording is read with
//! [`read_recording`](rns_analyzer::io::read_recording) (the same channels
//! decoded), and one line gives the samples decoded and the last one.

use rns_analyzer::config::{Overrides, Settings};
use rns_analyzer::criteria::Criteria;
use rns_analyzer::io::read_recording;
use rns_analyzer::protocol::Protocol;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for arg in std::env::args_os().skip(1) {
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
        let rec = read_recording(&path, &settings.read)?;
        let n: usize = rec.channels.iter().map(|c| c.samples.len()).sum();
        let last = rec.channels.iter().find_map(|c| c.samples.last());
        println!("{}: {n} samples, last {last:?}", path.display());
    }
    Ok(())
}
