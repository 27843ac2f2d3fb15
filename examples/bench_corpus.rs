//! Writes a benchmark corpus: simulated RNS recordings (`rns simulate`) of
//! every junction preset under every protocol, with their sidecars and truth.
//!
//! ```text
//! cargo run --release --example bench_corpus -- DIR [--seeds N] [--rate HZ] [--formats wav16,wav,csv]
//! ```
//!
//! For each seed `1..=N` (default 2), preset (`normal`, `mg-mild`,
//! `mg-severe`, `lems`, `botulism-like`), protocol (`baseline`,
//! `brief-exercise`, `hfs`, `session`, `exhaustion`) and format (default
//! `wav16`), one recording `DIR/<preset>_<protocol>_s<seed>.<ext>` at `--rate`
//! Hz (default 20 000). The protocols run from 5 s (`baseline`) to 280 s
//! (`exhaustion`), so the corpus mixes short and long sessions the way a
//! research batch does. Recordings are generated in parallel (rayon) and are
//! reproducible (fixed seeds). `scripts/bench.sh` uses it.

use clap::Parser;
use rayon::prelude::*;
use rns_analyzer::sim::command::{run, SimFormat, SimulateArgs};
use std::path::PathBuf;

/// Command line of the example.
#[derive(Parser)]
struct Cli {
    /// Output folder (created when missing).
    dir: PathBuf,
    /// Seeds per preset and protocol.
    #[arg(long, default_value_t = 2)]
    seeds: u64,
    /// Sample rate, Hz.
    #[arg(long, default_value_t = 20_000.0)]
    rate: f64,
    /// Comma-separated formats: wav16 (16-bit), wav (32-bit float), csv.
    #[arg(long, default_value = "wav16")]
    formats: String,
}

const PRESETS: &[&str] = &["normal", "mg-mild", "mg-severe", "lems", "botulism-like"];
const PROTOCOLS: &[&str] = &["baseline", "brief-exercise", "hfs", "session", "exhaustion"];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cli = Cli::parse();
    std::fs::create_dir_all(&cli.dir)?;
    let mut jobs: Vec<SimulateArgs> = Vec::new();
    for seed in 1..=cli.seeds {
        for preset in PRESETS {
            for protocol in PROTOCOLS {
                for format in cli.formats.split(',').map(str::trim) {
                    let (format, ext) = match format {
                        "csv" => (SimFormat::Csv, "csv"),
                        "wav" => (SimFormat::Wav, "f32.wav"),
                        "wav16" => (SimFormat::Wav16, "wav"),
                        other => return Err(format!("unknown format {other:?}").into()),
                    };
                    let out = cli.dir.join(format!("{preset}_{protocol}_s{seed}.{ext}"));
                    jobs.push(SimulateArgs {
                        preset: preset.to_string(),
                        protocol: protocol.to_string(),
                        format,
                        seed,
                        sample_rate: cli.rate,
                        out: Some(out),
                        ..SimulateArgs::default()
                    });
                }
            }
        }
    }
    jobs.par_iter()
        .try_for_each(|args| run(args).map(|_| ()).map_err(|e| e.to_string()))?;
    println!("wrote {} recordings to {}", jobs.len(), cli.dir.display());
    Ok(())
}
