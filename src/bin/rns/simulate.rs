//! `rns simulate`: its flags (clap), handed to the library's
//! [`sim::command`](rns_analyzer::sim::command), and the sweep's plot drawn
//! with the report's plots.

use clap::{Args, ValueEnum};
use rns_analyzer::error::{Error, Result};
use rns_analyzer::export::atomic::write_atomic;
use rns_analyzer::report::plots::{sweep, SweepPoint};
use rns_analyzer::settings::criteria::Criteria;
use rns_analyzer::sim::command::{self, SimFormat, SimulateArgs};
use std::path::PathBuf;

/// Output format of a simulated recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// 32-bit float WAV, values in millivolts.
    Wav,
    /// 16-bit integer WAV; full scale from `--full-scale-mv`.
    Wav16,
    /// Continuous CSV (`time_s,emg_mV`).
    Csv,
    /// EDF+ with annotations: a `stim` per stimulus, `exercise` with its
    /// duration, and `baseline` / `post exercise` / `hfs` at each train.
    Edf,
}

/// The flags of `rns simulate`; [`SimulateCli::into_args`] hands them to the
/// library.
#[derive(Debug, Clone, Args)]
pub struct SimulateCli {
    /// Junction preset: normal, mg-mild, mg-severe, lems, botulism-like.
    #[arg(long, default_value = "normal")]
    pub preset: String,
    /// Protocol: baseline, brief-exercise, exhaustion, hfs, session.
    #[arg(long, default_value = "session")]
    pub protocol: String,
    /// Output recording (required unless --sweep).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Output format (default: from the --out extension, .csv, .edf or
    /// else WAV).
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Seed of every random draw (same seed, same bytes).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Muscle: ADM, APB, FDI, trapezius (normal CMAP size and latency).
    #[arg(long, default_value = "ADM")]
    pub muscle: String,
    /// Stimuli per low-rate (3 Hz) train.
    #[arg(long, default_value_t = 10)]
    pub stimuli: usize,
    /// Rate of the high-rate train, Hz (20–50).
    #[arg(long, default_value_t = 50.0)]
    pub hfs_rate: f64,
    /// Duration of the high-rate train, s.
    #[arg(long, default_value_t = 1.0)]
    pub hfs_duration: f64,
    /// Fraction of working acetylcholine receptors (overrides the preset).
    #[arg(long)]
    pub achr: Option<f64>,
    /// Fraction of presynaptic calcium entry (overrides the preset).
    #[arg(long)]
    pub release: Option<f64>,
    /// Fraction of release blocked, botulinum-like (overrides the preset).
    #[arg(long)]
    pub block: Option<f64>,
    /// Muscle temperature, °C.
    #[arg(long)]
    pub temperature: Option<f64>,
    /// Cholinesterase inhibitor effect, 0–1.
    #[arg(long)]
    pub inhibitor: Option<f64>,
    /// 3,4-diaminopyridine effect, 0–1.
    #[arg(long)]
    pub dap: Option<f64>,
    /// Sample rate, Hz.
    #[arg(long, default_value_t = 10_000.0)]
    pub sample_rate: f64,
    /// White noise, µV rms.
    #[arg(long, default_value_t = 10.0)]
    pub noise_uv: f64,
    /// Mains hum amplitude, µV (0 = none).
    #[arg(long, default_value_t = 20.0)]
    pub hum_uv: f64,
    /// Mains frequency, Hz.
    #[arg(long, default_value_t = 50.0)]
    pub mains_hz: f64,
    /// Baseline wander amplitude, µV.
    #[arg(long, default_value_t = 100.0)]
    pub wander_uv: f64,
    /// Voluntary EMG during exercise, mV rms (0 = silent).
    #[arg(long, default_value_t = 1.0)]
    pub voluntary_mv: f64,
    /// Stimulus artifact amplitude, mV.
    #[arg(long, default_value_t = 8.0)]
    pub artifact_mv: f64,
    /// Amplifier rails, ±mV (clipping).
    #[arg(long)]
    pub clip_mv: Option<f64>,
    /// Full scale of a 16-bit WAV, mV.
    #[arg(long, default_value_t = 50.0)]
    pub full_scale_mv: f64,
    /// Sweep one parameter: NAME=START:STOP:STEP with NAME one of achr,
    /// release, block, temperature, inhibitor, dap. Prints a table.
    #[arg(long, value_name = "NAME=A:B:STEP")]
    pub sweep: Option<String>,
    /// With --sweep: also draw the curve, as SVG (`.svg`) or PNG (`.png`).
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
}

impl From<FormatArg> for SimFormat {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Wav => SimFormat::Wav,
            FormatArg::Wav16 => SimFormat::Wav16,
            FormatArg::Csv => SimFormat::Csv,
            FormatArg::Edf => SimFormat::Edf,
        }
    }
}

impl SimulateCli {
    /// The flags as the library's arguments.
    pub fn into_args(self) -> SimulateArgs {
        let format = self
            .format
            .map(SimFormat::from)
            .or_else(|| self.out.as_deref().and_then(SimFormat::from_extension))
            .unwrap_or(SimFormat::Wav);
        SimulateArgs {
            preset: self.preset,
            protocol: self.protocol,
            out: self.out,
            format,
            seed: self.seed,
            muscle: self.muscle,
            stimuli: self.stimuli,
            hfs_rate: self.hfs_rate,
            hfs_duration: self.hfs_duration,
            achr: self.achr,
            release: self.release,
            block: self.block,
            temperature: self.temperature,
            inhibitor: self.inhibitor,
            dap: self.dap,
            sample_rate: self.sample_rate,
            noise_uv: self.noise_uv,
            hum_uv: self.hum_uv,
            mains_hz: self.mains_hz,
            wander_uv: self.wander_uv,
            voluntary_mv: self.voluntary_mv,
            artifact_mv: self.artifact_mv,
            clip_mv: self.clip_mv,
            full_scale_mv: self.full_scale_mv,
            sweep: self.sweep,
            plot: self.plot,
        }
    }
}

/// Run `rns simulate`: the text to print on standard output. A sweep's
/// curve is drawn (SVG or PNG) and written atomically when `--plot` asks.
pub fn run(cli: SimulateCli) -> Result<String> {
    let outcome = command::run(&cli.into_args())?;
    let mut text = outcome.text;
    if let Some(p) = outcome.plot {
        let points: Vec<SweepPoint> = p
            .rows
            .iter()
            .map(|r| SweepPoint {
                value: r.value,
                decrement_pct: r.decrement_pct,
                post_exercise_increment_pct: r.post_exercise_increment_pct,
                hfs_increment_pct: r.hfs_increment_pct,
            })
            .collect();
        let fig = sweep(&p.parameter, &points, &Criteria::default(), p.png)
            .map_err(|e| Error::Usage(e.to_string()))?;
        let bytes = match fig.png {
            Some(png) => png,
            None => fig.svg.into_bytes(),
        };
        write_atomic(&p.path, &bytes)?;
        text.push_str(&format!("# plot written to {}\n", p.path.display()));
    }
    Ok(text)
}
