//! The `rns` command-line tool.
//!
//! `rns analyze FILE...` reads each recording, merges the command-line flags
//! with the file's protocol sidecar (`<file>.rns.toml`, or `--protocol`) and the
//! criteria profile (`--criteria`), analyses it and prints a summary, JSON or
//! CSV. Exit codes: 0 success, 1 internal error, 2 usage, 3 unreadable input,
//! 4 nothing to analyse; with several files, the highest code of any file.

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};
use rns_analyzer::analysis::{self, Analysis};
use rns_analyzer::config::{Overrides, Settings};
use rns_analyzer::criteria::Criteria;
use rns_analyzer::error::{Error, EXIT_USAGE};
use rns_analyzer::io::{atomic::write_atomic, read_recording};
use rns_analyzer::output;
use rns_analyzer::protocol::Protocol;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "rns",
    version,
    about = "Analyse repetitive nerve stimulation (RNS) recordings"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Measure every response, compute decrement and increment, flag technical
    /// problems and report the pattern (normal, MG-like, LEMS-like, indeterminate).
    Analyze(AnalyzeArgs),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Human-readable summary.
    Text,
    /// The JSON contract (one object per file, an array for several).
    Json,
    /// One row per response.
    Csv,
}

#[derive(Args, Debug)]
struct AnalyzeArgs {
    /// Recordings to analyse (WAV, CSV).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write the output to this file (atomically) instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// EMG channel index (default 0).
    #[arg(long, value_name = "N")]
    channel: Option<usize>,
    /// Channel whose rising edges are the stimuli.
    #[arg(long, value_name = "N")]
    trigger_channel: Option<usize>,
    /// Millivolts that WAV full scale (±1.0) stands for (default 1.0).
    #[arg(long, value_name = "MV", allow_negative_numbers = true)]
    full_scale_mv: Option<f64>,
    /// Sample rate of a CSV without a time column, Hz.
    #[arg(long, value_name = "HZ", allow_negative_numbers = true)]
    sample_rate: Option<f64>,
    /// CSV layout: auto, sweeps or continuous.
    #[arg(long, value_name = "LAYOUT")]
    layout: Option<String>,
    /// Stimulation rate of epoched sweeps, Hz.
    #[arg(long, value_name = "HZ", allow_negative_numbers = true)]
    rate: Option<f64>,
    /// Which way the CMAP's main phase points: auto, negative, positive.
    #[arg(long, value_name = "P")]
    polarity: Option<String>,
    /// Muscle recorded (for the normal CMAP range), e.g. ADM, APB, FDI, trapezius.
    #[arg(long, value_name = "NAME")]
    muscle: Option<String>,
    /// Protocol sidecar to use for every file (default: <file>.rns.toml when present).
    #[arg(long, value_name = "FILE")]
    protocol: Option<PathBuf>,
    /// Criteria profile (TOML) overriding the default thresholds.
    #[arg(long, value_name = "FILE")]
    criteria: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // Help and version go to stdout with success; real errors are usage errors.
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code as u8);
        }
    };
    match cli.command {
        Command::Analyze(args) => match run_analyze(&args) {
            Ok(code) => ExitCode::from(code as u8),
            Err(e) => {
                eprintln!("rns: {e:#}");
                ExitCode::from(1)
            }
        },
    }
}

/// Analyse one file: read its sidecar, merge, read, analyse.
fn analyze_file(path: &Path, args: &AnalyzeArgs, criteria: &Criteria) -> Result<Analysis, Error> {
    let protocol = match &args.protocol {
        Some(p) => Some(Protocol::load(p)?),
        None => {
            let side = Protocol::sidecar_path(path);
            if side.is_file() {
                Some(Protocol::load(&side)?)
            } else {
                None
            }
        }
    };
    let ov = Overrides {
        channel: args.channel,
        trigger_channel: args.trigger_channel,
        full_scale_mv: args.full_scale_mv,
        sample_rate_hz: args.sample_rate,
        layout: args.layout.clone(),
        rate_hz: args.rate,
        polarity: args.polarity.clone(),
        muscle: args.muscle.clone(),
    };
    let settings = Settings::merge(&ov, protocol.as_ref(), criteria.clone())?;
    let rec = read_recording(path, &settings.read)?;
    analysis::analyze(&rec, &settings.analysis)
}

fn run_analyze(args: &AnalyzeArgs) -> anyhow::Result<i32> {
    let criteria = match &args.criteria {
        Some(p) => match Criteria::load(p) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("rns: {e}");
                return Ok(e.exit_code());
            }
        },
        None => Criteria::default(),
    };
    let mut results: Vec<(PathBuf, Result<Analysis, Error>)> = Vec::new();
    for f in &args.files {
        let r = analyze_file(f, args, &criteria);
        if let Err(e) = &r {
            eprintln!("rns: {e}");
        }
        results.push((f.clone(), r));
    }
    let worst = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().err().map(Error::exit_code))
        .max()
        .unwrap_or(0);
    let ok: Vec<&Analysis> = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .collect();
    let text = match args.format {
        Format::Json => {
            if args.files.len() == 1 {
                match ok.first() {
                    Some(a) => output::json::render_one(a),
                    None => return Ok(worst),
                }
            } else {
                let entries: Vec<output::json::Entry<'_>> = results
                    .iter()
                    .map(|(p, r)| match r {
                        Ok(a) => output::json::Entry::Ok(a),
                        Err(e) => output::json::Entry::Err(output::json::ErrorEntry {
                            schema_version: analysis::result::SCHEMA_VERSION,
                            source: output::json::ErrorSource {
                                path: p.display().to_string(),
                            },
                            error: output::json::ErrorBody {
                                message: e.to_string(),
                                exit_code: e.exit_code(),
                            },
                        }),
                    })
                    .collect();
                output::json::render_many(&entries)
            }
        }
        Format::Csv => {
            if ok.is_empty() {
                return Ok(worst);
            }
            output::csv::render(&ok)
        }
        Format::Text => {
            if ok.is_empty() {
                return Ok(worst);
            }
            ok.iter()
                .map(|a| output::text::render(a))
                .collect::<Vec<_>>()
                .join("\n")
        }
    };
    match &args.output {
        Some(p) => {
            if let Err(e) = write_atomic(p, text.as_bytes()) {
                eprintln!("rns: {e}");
                return Ok(worst.max(1));
            }
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|_| out.flush())
                .context("writing to standard output")?;
        }
    }
    Ok(worst)
}
