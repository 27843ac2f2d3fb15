//! `rns simulate` as a library call: its arguments (plain values; the
//! binary parses them with clap), the recording and its companions written
//! atomically, and parameter sweeps. Drawing a sweep's curve is left to the
//! caller (the binary uses the report's plots), so the simulator depends on
//! no renderer.
//!
//! ```text
//! rns simulate --preset mg-mild --protocol exhaustion --out rec.wav [--format wav|wav16|csv|edf] [--seed N]
//! rns simulate --preset lems --sweep release=1.0:0.5:0.05
//! ```
//!
//! A recording is written with its truth (`<out>.truth.json`) and a protocol
//! sidecar (`<out>.rns.toml`: muscle, temperature, and the full scale of an
//! integer WAV), atomically. A sweep prints, for each value of one junction
//! parameter, the first CMAP, the 3 Hz decrement, the post-exercise and the
//! high-rate increments of the noiseless truth (a `session` protocol).

use super::{simulate, Junction, Muscle, Preset, Protocol, ProtocolKind, Recording, SimSpec};
use crate::error::{Error, Result};
use crate::export::atomic::write_atomic;
use crate::export::csv::encode_continuous_csv;
use crate::export::edf::encode_edf_plus;
use crate::export::wav::{encode_wav, WavSampleFormat};
use crate::recording::Annotation;
use crate::units::Shown;
use crate::vocab::TrainRole;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Output format of a simulated recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimFormat {
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

impl SimFormat {
    /// The format a file name's extension asks for: `.csv` CSV, `.edf`
    /// EDF+, `.wav`/`.wave` WAV (32-bit float); `None` for any other.
    pub fn from_extension(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(SimFormat::Csv),
            "edf" => Some(SimFormat::Edf),
            "wav" | "wave" => Some(SimFormat::Wav),
            _ => None,
        }
    }

    /// The extensions a file of this format may have.
    fn extensions(self) -> &'static [&'static str] {
        match self {
            SimFormat::Wav | SimFormat::Wav16 => &["wav", "wave"],
            SimFormat::Csv => &["csv"],
            SimFormat::Edf => &["edf"],
        }
    }
}

/// Arguments of `rns simulate`.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulateArgs {
    /// Junction preset: normal, mg-mild, mg-severe, lems, botulism-like.
    pub preset: String,
    /// Protocol: baseline, brief-exercise, exhaustion, hfs, session.
    pub protocol: String,
    /// Output recording (required unless --sweep).
    pub out: Option<PathBuf>,
    /// Output format.
    pub format: SimFormat,
    /// Seed of every random draw (same seed, same bytes).
    pub seed: u64,
    /// Muscle: ADM, APB, FDI, trapezius (normal CMAP size and latency).
    pub muscle: String,
    /// Stimuli per low-rate (3 Hz) train.
    pub stimuli: usize,
    /// Rate of the high-rate train, Hz (20–50).
    pub hfs_rate: f64,
    /// Duration of the high-rate train, s.
    pub hfs_duration: f64,
    /// Fraction of working acetylcholine receptors (overrides the preset).
    pub achr: Option<f64>,
    /// Fraction of presynaptic calcium entry (overrides the preset).
    pub release: Option<f64>,
    /// Fraction of release blocked, botulinum-like (overrides the preset).
    pub block: Option<f64>,
    /// Muscle temperature, °C.
    pub temperature: Option<f64>,
    /// Cholinesterase inhibitor effect, 0–1.
    pub inhibitor: Option<f64>,
    /// 3,4-diaminopyridine effect, 0–1.
    pub dap: Option<f64>,
    /// Sample rate, Hz.
    pub sample_rate: f64,
    /// White noise, µV rms.
    pub noise_uv: f64,
    /// Mains hum amplitude, µV (0 = none).
    pub hum_uv: f64,
    /// Mains frequency, Hz.
    pub mains_hz: f64,
    /// Baseline wander amplitude, µV.
    pub wander_uv: f64,
    /// Voluntary EMG during exercise, mV rms (0 = silent).
    pub voluntary_mv: f64,
    /// Stimulus artifact amplitude, mV.
    pub artifact_mv: f64,
    /// Amplifier rails, ±mV (clipping).
    pub clip_mv: Option<f64>,
    /// Full scale of a 16-bit WAV, mV.
    pub full_scale_mv: f64,
    /// Sweep one parameter: NAME=START:STOP:STEP with NAME one of achr,
    /// release, block, temperature, inhibitor, dap. Prints a table.
    pub sweep: Option<String>,
    /// With --sweep: also draw the curve, as SVG (`.svg`) or PNG (`.png`).
    pub plot: Option<PathBuf>,
}

impl Default for SimulateArgs {
    /// The defaults of `rns simulate`'s flags.
    fn default() -> Self {
        SimulateArgs {
            preset: "normal".into(),
            protocol: "session".into(),
            out: None,
            format: SimFormat::Wav,
            seed: 1,
            muscle: "ADM".into(),
            stimuli: 10,
            hfs_rate: 50.0,
            hfs_duration: 1.0,
            achr: None,
            release: None,
            block: None,
            temperature: None,
            inhibitor: None,
            dap: None,
            sample_rate: 10_000.0,
            noise_uv: 10.0,
            hum_uv: 20.0,
            mains_hz: 50.0,
            wander_uv: 100.0,
            voluntary_mv: 1.0,
            artifact_mv: 8.0,
            clip_mv: None,
            full_scale_mv: 50.0,
            sweep: None,
            plot: None,
        }
    }
}

fn usage(msg: impl Into<String>) -> Error {
    Error::Usage(msg.into())
}

fn fraction(name: &str, v: Option<f64>) -> Result<Option<f64>> {
    match v {
        Some(x) if !(x.is_finite() && (0.0..=1.5).contains(&x)) => Err(usage(format!(
            "--{name} must be between 0 and 1.5, got {}",
            Shown(x)
        ))),
        other => Ok(other),
    }
}

impl SimulateArgs {
    /// The validated simulation spec (without any sweep applied).
    pub fn spec(&self) -> Result<(SimSpec, Preset)> {
        let preset = Preset::parse(&self.preset).ok_or_else(|| {
            usage(format!(
                "unknown preset {:?} (normal, mg-mild, mg-severe, lems, botulism-like)",
                self.preset
            ))
        })?;
        let kind = ProtocolKind::parse(&self.protocol).ok_or_else(|| {
            usage(format!(
                "unknown protocol {:?} (baseline, brief-exercise, exhaustion, hfs, session)",
                self.protocol
            ))
        })?;
        let muscle = Muscle::parse(&self.muscle).ok_or_else(|| {
            usage(format!(
                "unknown muscle {:?} (ADM, APB, FDI, trapezius)",
                self.muscle
            ))
        })?;
        if !(self.sample_rate.is_finite() && (2_000.0..=100_000.0).contains(&self.sample_rate)) {
            return Err(usage(format!(
                "--sample-rate must be between 2000 and 100000 Hz, got {}",
                Shown(self.sample_rate)
            )));
        }
        if !(self.hfs_rate.is_finite() && (10.0..=100.0).contains(&self.hfs_rate)) {
            return Err(usage(format!(
                "--hfs-rate must be between 10 and 100 Hz, got {}",
                Shown(self.hfs_rate)
            )));
        }
        if !(self.hfs_duration.is_finite() && (0.1..=10.0).contains(&self.hfs_duration)) {
            return Err(usage(format!(
                "--hfs-duration must be between 0.1 and 10 s, got {}",
                Shown(self.hfs_duration)
            )));
        }
        if self.stimuli == 0 || self.stimuli > 200 {
            return Err(usage(format!(
                "--stimuli must be between 1 and 200, got {}",
                self.stimuli
            )));
        }
        for (name, v) in [
            ("noise-uv", self.noise_uv),
            ("hum-uv", self.hum_uv),
            ("wander-uv", self.wander_uv),
            ("voluntary-mv", self.voluntary_mv),
            ("artifact-mv", self.artifact_mv),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(usage(format!("--{name} must be ≥ 0, got {}", Shown(v))));
            }
        }
        if !(self.mains_hz.is_finite() && (40.0..=70.0).contains(&self.mains_hz)) {
            return Err(usage(format!(
                "--mains-hz must be between 40 and 70 Hz (mains is 50 or 60), got {}",
                Shown(self.mains_hz)
            )));
        }
        if let Some(c) = self.clip_mv {
            if !(c.is_finite() && c > 0.0) {
                return Err(usage(format!(
                    "--clip-mv must be a positive number, got {}",
                    Shown(c)
                )));
            }
        }
        let mut j = preset.junction();
        if let Some(v) = fraction("achr", self.achr)? {
            j.achr_fraction = v;
        }
        if let Some(v) = fraction("release", self.release)? {
            j.release_fraction = v;
        }
        if let Some(v) = fraction("block", self.block)? {
            j.release_block = v.min(1.0);
        }
        if let Some(v) = fraction("inhibitor", self.inhibitor)? {
            j.ache_inhibitor = v;
        }
        if let Some(v) = fraction("dap", self.dap)? {
            j.dap = v;
        }
        if let Some(t) = self.temperature {
            if !(t.is_finite() && (20.0..=40.0).contains(&t)) {
                return Err(usage(format!(
                    "--temperature must be between 20 and 40 °C, got {}",
                    Shown(t)
                )));
            }
            j.temperature_c = t;
        }
        let spec = SimSpec {
            junction: j,
            muscle,
            protocol: Protocol::standard(kind, self.stimuli, self.hfs_rate, self.hfs_duration),
            recording: Recording {
                sample_rate_hz: self.sample_rate,
                noise_uv: self.noise_uv,
                hum_uv: self.hum_uv,
                mains_hz: self.mains_hz,
                wander_uv: self.wander_uv,
                voluntary_mv: self.voluntary_mv,
                artifact_mv: self.artifact_mv,
                clip_mv: self.clip_mv,
            },
            seed: self.seed,
        };
        Ok((spec, preset))
    }
}

/// What `rns simulate` did: the text to print on standard output, and the
/// sweep curve the caller should draw when `--plot` asked for one.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The report of what was written, or the sweep's table.
    pub text: String,
    /// The sweep's curve to draw, with where to write it.
    pub plot: Option<SweepPlot>,
}

/// A sweep curve to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepPlot {
    /// The parameter swept.
    pub parameter: String,
    /// Its rows.
    pub rows: Vec<SweepRow>,
    /// Where to write the figure.
    pub path: PathBuf,
    /// PNG (`.png`) rather than SVG (`.svg`).
    pub png: bool,
}

/// Run `rns simulate`: write the recording and its companions, or compute a
/// sweep.
pub fn run(args: &SimulateArgs) -> Result<Outcome> {
    let (spec, preset) = args.spec()?;
    if let Some(sweep) = &args.sweep {
        return run_sweep(&spec, sweep, args.plot.as_deref());
    }
    if args.plot.is_some() {
        return Err(usage("--plot goes with --sweep"));
    }
    let out = args
        .out
        .as_ref()
        .ok_or_else(|| usage("--out FILE is required (or --sweep)"))?;
    // A recording named for another format would be misread (a WAV in
    // x.csv is refused by every CSV reader).
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let allowed = args.format.extensions();
    if !allowed.contains(&ext.as_str()) {
        return Err(usage(format!(
            "{}: the recording would be {}, but the name ends in {:?}; name it .{} or choose --format",
            out.display(),
            match args.format {
                SimFormat::Wav | SimFormat::Wav16 => "a WAV",
                SimFormat::Csv => "a CSV",
                SimFormat::Edf => "an EDF+",
            },
            if ext.is_empty() { "no extension".to_string() } else { format!(".{ext}") },
            allowed[0]
        )));
    }
    let text = write_recording(&spec, preset, args, out)?;
    Ok(Outcome { text, plot: None })
}

/// Simulate and write the recording, its truth and its sidecar.
fn write_recording(
    spec: &SimSpec,
    preset: Preset,
    args: &SimulateArgs,
    out: &Path,
) -> Result<String> {
    let sim = simulate(spec);
    let mut truth = sim.truth.clone();
    truth.preset = Some(preset.name().to_string());
    truth.intended_pattern = Some(preset.intended_pattern().to_string());
    let rate = spec.recording.sample_rate_hz;
    let (bytes, full_scale) = match args.format {
        SimFormat::Wav => (
            encode_wav(
                &[&sim.samples],
                rate.round() as u32,
                1.0,
                WavSampleFormat::Float32,
            )?,
            1.0,
        ),
        SimFormat::Wav16 => {
            if !(args.full_scale_mv.is_finite() && args.full_scale_mv > 0.0) {
                return Err(usage("--full-scale-mv must be positive"));
            }
            (
                encode_wav(
                    &[&sim.samples],
                    rate.round() as u32,
                    args.full_scale_mv,
                    WavSampleFormat::Int16,
                )?,
                args.full_scale_mv,
            )
        }
        SimFormat::Csv => (
            encode_continuous_csv(true, rate, &[("emg_mV", &sim.samples)]),
            1.0,
        ),
        SimFormat::Edf => (
            encode_edf_plus(&sim.samples, rate, "EMG", &annotations(spec, &truth))?,
            1.0,
        ),
    };
    let mut side = format!(
        "# Simulated by rns simulate: preset {}, protocol {}, seed {}.\nmuscle = \"{}\"\ntemperature_c = {:.1}\n",
        preset.name(),
        spec.protocol.name,
        spec.seed,
        spec.muscle.name,
        spec.junction.temperature_c.clamp(10.0, 45.0)
    );
    if matches!(args.format, SimFormat::Wav | SimFormat::Wav16) {
        let _ = writeln!(side, "full_scale_mv = {full_scale}");
    }
    let mut truth_json = serde_json::to_string_pretty(&truth)
        .map_err(|e| Error::Usage(format!("cannot serialise the truth: {e}")))?;
    truth_json.push('\n');
    write_atomic(out, &bytes)?;
    write_atomic(&suffixed(out, ".truth.json"), truth_json.as_bytes())?;
    write_atomic(&suffixed(out, ".rns.toml"), side.as_bytes())?;
    Ok(format!(
        "wrote {} ({} s at {} Hz, {} stimuli) with {} and {}\n",
        out.display(),
        (sim.samples.len() as f64 / rate).round(),
        rate,
        truth.stimuli_s.len(),
        suffixed(out, ".truth.json").display(),
        suffixed(out, ".rns.toml").display()
    ))
}

/// The annotations an EDF+ recording of the simulation carries.
fn annotations(spec: &SimSpec, truth: &super::SimTruth) -> Vec<Annotation> {
    let mut out = Vec::new();
    for &(a, b) in &truth.exercise_s {
        out.push(Annotation {
            onset_s: a,
            duration_s: Some(b - a),
            text: "exercise".into(),
        });
    }
    for st in spec.protocol.trains() {
        let text = match st.role {
            TrainRole::PostExercise => "post exercise",
            TrainRole::Hfs => "hfs",
            TrainRole::Baseline => "baseline",
        };
        out.push(Annotation {
            onset_s: st.start_s,
            duration_s: None,
            text: text.into(),
        });
    }
    for &t in &truth.stimuli_s {
        out.push(Annotation {
            onset_s: t,
            duration_s: None,
            text: "stim".into(),
        });
    }
    out.sort_by(|x, y| x.onset_s.total_cmp(&y.onset_s));
    out
}

fn suffixed(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// One row of a sweep.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SweepRow {
    /// Parameter value.
    pub value: f64,
    /// First CMAP of the rest train, mV.
    pub first_cmap_mv: f64,
    /// 3 Hz decrement, 1st vs 4th, %.
    pub decrement_pct: f64,
    /// Post-exercise increment (first response after vs before), %.
    pub post_exercise_increment_pct: f64,
    /// High-rate increment (largest vs first), %.
    pub hfs_increment_pct: f64,
}

/// Parse `NAME=START:STOP:STEP` into the parameter and its values.
pub fn parse_sweep(s: &str) -> Result<(String, Vec<f64>)> {
    let bad = || {
        usage(format!(
            "--sweep must look like achr=1.0:0.4:0.1, got {s:?}"
        ))
    };
    let (name, range) = s.split_once('=').ok_or_else(bad)?;
    let parts: Vec<f64> = range
        .split(':')
        .map(|p| p.trim().parse::<f64>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| bad())?;
    let [a, b, step] = parts[..] else {
        return Err(bad());
    };
    if !(a.is_finite() && b.is_finite() && step.is_finite() && step > 0.0) {
        return Err(bad());
    }
    let n = ((a - b).abs() / step + 1e-9).floor() as usize + 1;
    if n > 200 {
        return Err(usage(format!("--sweep gives {n} values; at most 200")));
    }
    let dir = if b < a { -1.0 } else { 1.0 };
    let values = (0..n).map(|i| a + dir * step * i as f64).collect();
    let name = name.trim().to_ascii_lowercase();
    if !matches!(
        name.as_str(),
        "achr" | "release" | "block" | "temperature" | "inhibitor" | "dap"
    ) {
        return Err(usage(format!(
            "--sweep parameter {name:?} is not one of achr, release, block, temperature, inhibitor, dap"
        )));
    }
    Ok((name, values))
}

/// Apply a sweep value to a junction.
fn set_param(j: &mut Junction, name: &str, v: f64) {
    match name {
        "achr" => j.achr_fraction = v,
        "release" => j.release_fraction = v,
        "block" => j.release_block = v.clamp(0.0, 1.0),
        "temperature" => j.temperature_c = v,
        "inhibitor" => j.ache_inhibitor = v,
        "dap" => j.dap = v,
        _ => {}
    }
}

/// The rows of a sweep (noiseless truth of a `session` protocol).
pub fn sweep_rows(spec: &SimSpec, name: &str, values: &[f64]) -> Vec<SweepRow> {
    let session = Protocol::standard(ProtocolKind::Session, 10, 50.0, 1.0);
    values
        .iter()
        .map(|&v| {
            let mut s = spec.clone();
            s.protocol = session.clone();
            // Truth does not depend on the recording's noise; keep it cheap.
            s.recording.sample_rate_hz = 5_000.0;
            set_param(&mut s.junction, name, v);
            let t = simulate(&s).truth;
            let amps = |k: usize| -> Vec<f64> {
                t.responses
                    .iter()
                    .filter(|r| r.train == k)
                    .map(|r| r.amplitude_mv)
                    .collect()
            };
            let (rest, post, hfs) = (amps(1), amps(2), amps(3));
            let pct = |a: f64, b: f64| if a > 0.0 { (b - a) / a * 100.0 } else { 0.0 };
            SweepRow {
                value: v,
                first_cmap_mv: rest.first().copied().unwrap_or(0.0),
                decrement_pct: if rest.len() >= 4 {
                    -pct(rest[0], rest[3])
                } else {
                    0.0
                },
                post_exercise_increment_pct: match (rest.first(), post.first()) {
                    (Some(&a), Some(&b)) => pct(a, b),
                    _ => 0.0,
                },
                hfs_increment_pct: match hfs.first() {
                    Some(&a) => pct(a, hfs.iter().copied().fold(a, f64::max)),
                    None => 0.0,
                },
            }
        })
        .collect()
}

fn run_sweep(spec: &SimSpec, sweep: &str, plot: Option<&Path>) -> Result<Outcome> {
    let (name, values) = parse_sweep(sweep)?;
    let ext = plot.map(|p| {
        p.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default()
    });
    if ext.as_deref().is_some_and(|e| e != "svg" && e != "png") {
        return Err(usage("--plot must end in .svg or .png"));
    }
    let rows = sweep_rows(spec, &name, &values);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# {} sweep, muscle {}, seed {} (noiseless truth, session protocol)",
        name, spec.muscle.name, spec.seed
    );
    let _ = writeln!(
        s,
        "{:>10}  {:>12}  {:>14}  {:>16}  {:>14}",
        name, "first CMAP mV", "3 Hz decr. %", "post-ex. incr. %", "50 Hz incr. %"
    );
    for r in &rows {
        let _ = writeln!(
            s,
            "{:>10.3}  {:>12.2}  {:>14.1}  {:>16.1}  {:>14.1}",
            r.value,
            r.first_cmap_mv,
            r.decrement_pct,
            r.post_exercise_increment_pct,
            r.hfs_increment_pct
        );
    }
    let plot = plot.map(|path| SweepPlot {
        parameter: name.clone(),
        rows,
        path: path.to_path_buf(),
        png: ext.as_deref() == Some("png"),
    });
    Ok(Outcome { text: s, plot })
}
