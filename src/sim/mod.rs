//! A mechanistic simulator of neuromuscular transmission (primer §1 and §6).
//!
//! Each muscle fibre has its own end plate. For every nerve impulse:
//!
//! 1. **Release.** The readily releasable pool (RRP, `n` as a fraction of `N0`
//!    quanta) releases a binomial number of quanta with probability
//!    `p = p_max · c⁴ / (c⁴ + K⁴)`: release rises steeply (4th power) with the
//!    calcium signal `c = v · (1 + R)`, where `v` is the fraction of working
//!    voltage-gated calcium channels (LEMS lowers it; 3,4-diaminopyridine
//!    lengthens the terminal's depolarisation and raises it) and `R` the
//!    residual calcium of earlier impulses. `R` is a quarter of the facilitation
//!    kernel `0.8·e^(−t/50 ms) + 0.12·e^(−t/300 ms) + 0.025·e^(−t/3 s)` \[MAG73\]
//!    (plus a small post-tetanic component, τ = 40 s, that long trains and
//!    voluntary contraction build up): Magleby measured facilitation of release
//!    at low release, the foot of the Hill curve, where a calcium rise of R/4
//!    raises release by R. Near saturation (a normal junction) more calcium
//!    changes little; at the foot of the curve (LEMS) it multiplies release.
//! 2. **Depletion and mobilisation.** Released quanta (p ≈ 0.25 at rest) leave
//!    the RRP; it refills from a reserve store with τ = 1.6 s, so a 3 Hz train
//!    depresses to a plateau by the 5th–6th impulse while facilitation builds
//!    slowly (the U-shape of a marginal junction). Fast residual calcium speeds
//!    the refill during high-rate trains and post-tetanic calcium after
//!    exercise (repair). The reserve is drained by mobilisation and restored
//!    slowly (τ = 300 s): a 30–60 s contraction leaves it low for minutes,
//!    which is the post-exercise exhaustion of a marginal junction.
//! 3. **End-plate potential.** `EPP = m · q` with quantal size `q` proportional
//!    to the working acetylcholine receptors (MG lowers it), raised by a
//!    cholinesterase inhibitor and by cooling (slower hydrolysis). Cooling also
//!    lowers release per impulse, so a train depletes less.
//! 4. **Firing.** The fibre fires, all or none, when the EPP reaches its
//!    threshold. Thresholds are set by a log-normal distribution of safety
//!    factors (EPP at rest of a normal junction over threshold; median 3.5),
//!    calibrated so that losing ~30 % of the AChR starts to cost fibres at the
//!    nadir of a 3 Hz train (seed text; primer §6).
//!
//! Fibres belong to motor units; a unit's potential is the template of
//! [`crate::sim::synth`] scaled by the fraction of its fibres that fired, placed at
//! the unit's latency. Latencies are dispersed (conduction velocities differ);
//! at high stimulation rates the dispersion narrows, which raises the CMAP
//! amplitude without changing its area (pseudofacilitation). The CMAP is the
//! sum of the units' potentials; its scale is set so that a normal muscle with
//! every fibre firing has the muscle's normal amplitude (primer §2 table).
//!
//! Stimulus artifacts, noise, hum, wander, voluntary EMG during exercise and
//! amplifier clipping are drawn by [`synth::generate`]. The truth of
//! each response is taken from the noiseless CMAP computed on a fine (100 kHz)
//! grid: baseline-to-negative-peak amplitude, negative-phase area, and the
//! fraction of fibres that fired.
//!
//! Everything random (fibre properties, quantal release, noise) comes from
//! ChaCha streams of one seed: the same seed gives the same bytes.

use crate::vocab::TrainRole;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution, StandardNormal};
use serde::Serialize;
use synth::{
    template_support_ms, template_value, ArtifactSpec, CmapShape, HumSpec, SynthSpec, TrainSpec,
    VoluntarySpec, WanderSpec,
};

pub mod command;
pub mod protocol;
pub mod synth;

pub use protocol::{Protocol, ProtocolKind, Stage};

/// Residual-calcium kernel \[MAG73\]: weights and time constants (s), plus the
/// post-tetanic component.
const KERNEL: [(f64, f64); 4] = [(0.8, 0.050), (0.12, 0.300), (0.025, 3.0), (0.0015, 40.0)];
/// Largest release probability.
const P_MAX: f64 = 0.9;
/// Resting release probability of a normal junction; it sets the Hill
/// half-activation `K⁴ = p_max / p_rest − 1`.
const P_REST: f64 = 0.25;
/// Quanta in a full readily releasable pool (normal quantal content ≈ 50).
const N0: f64 = 250.0;
/// RRP refill time constant at rest, s.
const REFILL_TAU: f64 = 1.6;
/// Refill acceleration by fast residual calcium (keeps a 50 Hz train going).
const REFILL_FAST_GAIN: f64 = 4.0;
/// Refill acceleration by post-tetanic calcium (post-exercise repair).
const REFILL_PTP_GAIN: f64 = 10.0;
/// Reserve store: depletion per RRP fraction mobilised, and recovery time constant (s).
const RESERVE_COST: f64 = 0.006;
const RESERVE_TAU: f64 = 300.0;
/// Safety factor distribution (log-normal): median and log-SD.
const SF_MEDIAN: f64 = 3.5;
const SF_LOG_SD: f64 = 0.25;
/// Calcium-sensitivity shift of release per unit of botulinum block (K⁴ × (1 + s·b)).
const BOTULINUM_SHIFT: f64 = 8.0;
/// Motor units and their fibres.
const MOTOR_UNITS: usize = 120;
/// Voluntary firing rate of motor units during a maximal contraction, Hz.
const VOLUNTARY_RATE: f64 = 25.0;

/// The state of the junction: what disease and drugs do to it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Junction {
    /// Fraction of working acetylcholine receptors (1 normal; MG lowers it).
    pub achr_fraction: f64,
    /// Fraction of working presynaptic calcium channels / calcium entry
    /// (1 normal; LEMS lowers it).
    pub release_fraction: f64,
    /// Botulinum-like block, 0 (none) to 1: release needs more calcium
    /// (K⁴ × (1 + 8·b)) and half as many quanta are releasable at b = 1.
    pub release_block: f64,
    /// Muscle temperature, °C (33 reference).
    pub temperature_c: f64,
    /// Cholinesterase inhibitor effect, 0 (none) to 1 (full dose).
    pub ache_inhibitor: f64,
    /// 3,4-diaminopyridine effect, 0 (none) to 1 (full dose).
    pub dap: f64,
}

impl Default for Junction {
    fn default() -> Self {
        Junction {
            achr_fraction: 1.0,
            release_fraction: 1.0,
            release_block: 0.0,
            temperature_c: 33.0,
            ache_inhibitor: 0.0,
            dap: 0.0,
        }
    }
}

/// Named junction states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// A healthy junction.
    Normal,
    /// Myasthenia gravis, mild (AChR 50 %).
    MgMild,
    /// Myasthenia gravis, severe (AChR 38 %).
    MgSevere,
    /// Lambert-Eaton (calcium entry 65 %).
    Lems,
    /// Botulinum-like presynaptic block (0.28): small CMAP, moderate facilitation.
    BotulismLike,
}

impl Preset {
    /// All presets, for listings.
    pub const ALL: [Preset; 5] = [
        Preset::Normal,
        Preset::MgMild,
        Preset::MgSevere,
        Preset::Lems,
        Preset::BotulismLike,
    ];

    /// Parse a preset name (`normal`, `mg-mild`, `mg-severe`, `lems`, `botulism-like`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "normal" => Some(Preset::Normal),
            "mg-mild" => Some(Preset::MgMild),
            "mg-severe" => Some(Preset::MgSevere),
            "lems" => Some(Preset::Lems),
            "botulism-like" | "botulism" => Some(Preset::BotulismLike),
            _ => None,
        }
    }

    /// The preset's name.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Normal => "normal",
            Preset::MgMild => "mg-mild",
            Preset::MgSevere => "mg-severe",
            Preset::Lems => "lems",
            Preset::BotulismLike => "botulism-like",
        }
    }

    /// The junction of this preset.
    pub fn junction(self) -> Junction {
        let j = Junction::default();
        match self {
            Preset::Normal => j,
            Preset::MgMild => Junction {
                achr_fraction: 0.5,
                ..j
            },
            Preset::MgSevere => Junction {
                achr_fraction: 0.38,
                ..j
            },
            Preset::Lems => Junction {
                release_fraction: 0.65,
                ..j
            },
            Preset::BotulismLike => Junction {
                release_block: 0.28,
                ..j
            },
        }
    }

    /// The pattern the preset is meant to produce (for the truth file).
    pub fn intended_pattern(self) -> &'static str {
        match self {
            Preset::Normal => "normal",
            Preset::MgMild | Preset::MgSevere => "mg_like",
            Preset::Lems => "lems_like",
            Preset::BotulismLike => "botulism_like",
        }
    }
}

/// A muscle: its normal CMAP amplitude and distal latency (primer §2 table).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Muscle {
    /// Name used in the sidecar and the normal-range table.
    pub name: String,
    /// Normal CMAP amplitude (baseline to negative peak), mV.
    pub cmap_mv: f64,
    /// Distal motor latency, ms.
    pub latency_ms: f64,
}

impl Muscle {
    /// A muscle by name: ADM 11.6 mV / 3.0 ms \[BU\], APB 10.0 mV \[CZ\], FDI
    /// 12.0 mV \[CZ\], trapezius 8.0 mV / 2.2 ms \[TR\]. Latencies without a
    /// source in the primer (APB, FDI) are typical values, 3.5 ms.
    pub fn parse(name: &str) -> Option<Self> {
        let (n, a, l) = match name.to_ascii_lowercase().as_str() {
            "adm" => ("ADM", 11.6, 3.0),
            "apb" => ("APB", 10.0, 3.5),
            "fdi" => ("FDI", 12.0, 3.5),
            "trapezius" => ("trapezius", 8.0, 2.2),
            _ => return None,
        };
        Some(Muscle {
            name: n.to_string(),
            cmap_mv: a,
            latency_ms: l,
        })
    }
}

/// Recording settings of a simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    /// Sample rate, Hz.
    pub sample_rate_hz: f64,
    /// White noise, µV rms.
    pub noise_uv: f64,
    /// Mains hum amplitude, µV (0 = none).
    pub hum_uv: f64,
    /// Mains frequency, Hz.
    pub mains_hz: f64,
    /// Baseline wander amplitude, µV (0 = none).
    pub wander_uv: f64,
    /// Voluntary EMG during exercise, mV rms (0 = silent exercise).
    pub voluntary_mv: f64,
    /// Stimulus artifact amplitude, mV.
    pub artifact_mv: f64,
    /// Amplifier rails, ±mV (None = no clipping).
    pub clip_mv: Option<f64>,
}

impl Default for Recording {
    fn default() -> Self {
        Recording {
            sample_rate_hz: 10_000.0,
            noise_uv: 10.0,
            hum_uv: 20.0,
            mains_hz: 50.0,
            wander_uv: 100.0,
            voluntary_mv: 1.0,
            artifact_mv: 8.0,
            clip_mv: None,
        }
    }
}

/// Everything a simulation needs.
#[derive(Debug, Clone)]
pub struct SimSpec {
    /// The junction.
    pub junction: Junction,
    /// The muscle.
    pub muscle: Muscle,
    /// The stimulation protocol.
    pub protocol: Protocol,
    /// Recording settings.
    pub recording: Recording,
    /// Seed of every random draw.
    pub seed: u64,
}

/// Truth of one response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimResponse {
    /// Train (1-based).
    pub train: usize,
    /// Response in its train (1-based).
    pub index: usize,
    /// Stimulus time, s.
    pub stimulus_s: f64,
    /// Noiseless CMAP, baseline to negative peak, mV.
    pub amplitude_mv: f64,
    /// Noiseless negative-phase area, mV·ms.
    pub area_mv_ms: f64,
    /// Fraction of muscle fibres that fired.
    pub fibres_fired: f64,
    /// Mean end-plate potential over threshold (safety margin) of all fibres.
    pub mean_epp_ratio: f64,
}

/// Truth of one train.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimTrain {
    /// Train (1-based).
    pub index: usize,
    /// Role in the protocol (`baseline`, `post_exercise`, `hfs`).
    pub role: TrainRole,
    /// Stimulation rate, Hz.
    pub rate_hz: f64,
    /// First stimulus, s.
    pub start_s: f64,
    /// Seconds after the end of exercise, when after one.
    pub delay_after_exercise_s: Option<f64>,
    /// Decrement 1st vs 4th of the noiseless CMAP, %.
    pub decrement_pct: Option<f64>,
    /// Largest response vs first, %.
    pub increment_pct: Option<f64>,
}

/// The truth of a simulated recording.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimTruth {
    /// The junction simulated.
    pub junction: Junction,
    /// Preset name, when one was used.
    pub preset: Option<String>,
    /// The pattern the junction is meant to show.
    pub intended_pattern: Option<String>,
    /// The muscle.
    pub muscle: Muscle,
    /// Protocol name.
    pub protocol: String,
    /// Seed.
    pub seed: u64,
    /// Sample rate, Hz.
    pub sample_rate_hz: f64,
    /// Exercise periods (start, end), s.
    pub exercise_s: Vec<(f64, f64)>,
    /// Stimulus times, s.
    pub stimuli_s: Vec<f64>,
    /// Trains.
    pub trains: Vec<SimTrain>,
    /// Responses.
    pub responses: Vec<SimResponse>,
}

/// A simulated recording: samples (mV) and truth.
#[derive(Debug, Clone)]
pub struct SimOutput {
    /// Samples, mV.
    pub samples: Vec<f32>,
    /// Sample rate, Hz.
    pub sample_rate_hz: f64,
    /// Truth.
    pub truth: SimTruth,
}

/// One fibre's end plate.
#[derive(Debug, Clone)]
struct EndPlate {
    /// Motor unit index.
    unit: usize,
    /// Threshold, in quanta of a normal junction.
    threshold: f64,
    /// Quanta in a full RRP for this junction (N0 with jitter, less any block).
    pool: f64,
    /// RRP fraction.
    n: f64,
    /// Reserve fraction.
    reserve: f64,
    /// Residual calcium components.
    ca: [f64; 4],
    /// Time of the last update, s.
    t: f64,
}

impl EndPlate {
    /// Residual calcium now.
    fn residual(&self) -> f64 {
        self.ca.iter().zip(KERNEL).map(|(c, (w, _))| c * w).sum()
    }

    /// Advance to time `t`: calcium decays, the RRP refills from the reserve
    /// (faster while residual calcium is high: the refill exponent integrates
    /// the decaying calcium over the interval), the reserve recovers.
    fn advance(&mut self, t: f64) {
        let dt = t - self.t;
        if dt <= 0.0 {
            return;
        }
        let integral = |i: usize| {
            let (w, tau) = KERNEL[i];
            self.ca[i] * w * tau * (1.0 - (-dt / tau).exp())
        };
        let boost = REFILL_FAST_GAIN * (integral(0) + integral(1)) + REFILL_PTP_GAIN * integral(3);
        let exponent = self.reserve * (dt + boost) / REFILL_TAU;
        let before = self.n;
        self.n += (1.0 - self.n) * (1.0 - (-exponent).exp());
        let moved = (self.n - before).max(0.0);
        self.reserve = (self.reserve - RESERVE_COST * moved).max(0.0);
        self.reserve += (1.0 - self.reserve) * (1.0 - (-dt / RESERVE_TAU).exp());
        for (c, (_, tau)) in self.ca.iter_mut().zip(KERNEL) {
            *c *= (-dt / tau).exp();
        }
        self.t = t;
    }

    /// An impulse at the current time: returns quanta released (expected
    /// value when `rng` is None, binomial otherwise).
    fn impulse(&mut self, j: &Junction, rng: Option<&mut ChaCha8Rng>) -> f64 {
        let cooling = 33.0 - j.temperature_c;
        // Magleby's kernel is facilitation of release measured at low release
        // (the foot of the Hill curve, where F ≈ 1 + 4·ΔCa/Ca): calcium rises by R/4.
        let c = j.release_fraction * (1.0 + 0.4 * j.dap) * (1.0 + self.residual() / 4.0);
        let c4 = c.powi(4);
        // Cooling lowers release per impulse (slower channel kinetics).
        // Botulinum toxin cleaves SNAP-25: release needs more calcium (a
        // right-shift of the calcium dependence), so facilitation can still
        // recruit it, as in LEMS but weaker.
        let k4 = (P_MAX / P_REST - 1.0) * (1.0 + BOTULINUM_SHIFT * j.release_block);
        let p = (P_MAX * c4 / (c4 + k4) * (1.0 - 0.02 * cooling)).clamp(0.0, 1.0);
        let available = (self.pool * self.n).max(0.0);
        let m = match rng {
            Some(rng) => {
                let trials = available.round() as u64;
                Binomial::new(trials, p).map_or(available * p, |b| b.sample(rng) as f64)
            }
            None => available * p,
        };
        if self.pool > 0.0 {
            self.n = (self.n - m / self.pool).max(0.0);
        }
        for c in self.ca.iter_mut() {
            *c += 1.0;
        }
        m
    }
}

/// Quantal size relative to normal: AChR, inhibitor, temperature.
fn quantal_size(j: &Junction) -> f64 {
    let cooling = 33.0 - j.temperature_c;
    // Cooling slows acetylcholinesterase: each quantum acts longer (~5 %/°C).
    (j.achr_fraction * (1.0 + 0.5 * j.ache_inhibitor) * (1.0 + 0.05 * cooling)).max(0.0)
}

/// A motor unit: its share of fibres, latency offset and potential size.
#[derive(Debug, Clone)]
struct Unit {
    fibres: usize,
    latency_offset_ms: f64,
}

/// The muscle model: fibres, units, and the CMAP scale.
struct Model {
    plates: Vec<EndPlate>,
    units: Vec<Unit>,
    muap: CmapShape,
    scale: f64,
    base_latency_ms: f64,
}

/// Latency dispersion narrows by up to this fraction at high rates.
const MAX_SYNCHRONY_GAIN: f64 = 0.3;

impl Model {
    fn new(spec: &SimSpec) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(spec.seed ^ 0x5EED_F1B5);
        let j = &spec.junction;
        let mut units = Vec::with_capacity(MOTOR_UNITS);
        let mut plates = Vec::new();
        for u in 0..MOTOR_UNITS {
            // Unit sizes are skewed: many small, few large (log-normal).
            let z: f64 = rng.sample(StandardNormal);
            let fibres = ((25.0 * (0.5 * z).exp()).round() as usize).clamp(5, 120);
            let offset: f64 = rng.sample::<f64, _>(StandardNormal) * 0.9;
            units.push(Unit {
                fibres,
                latency_offset_ms: offset,
            });
            for _ in 0..fibres {
                let zs: f64 = rng.sample(StandardNormal);
                let sf = SF_MEDIAN * (SF_LOG_SD * zs).exp();
                let zp: f64 = rng.sample(StandardNormal);
                let pool = N0 * (1.0 + 0.1 * zp).max(0.3) * (1.0 - 0.5 * j.release_block).max(0.0);
                plates.push(EndPlate {
                    unit: u,
                    threshold: P_REST * N0 / sf,
                    pool,
                    n: 1.0,
                    reserve: 1.0,
                    ca: [0.0; 4],
                    t: 0.0,
                });
            }
        }
        // A motor-unit potential: shorter than a CMAP; the CMAP's breadth comes
        // from the dispersion of unit latencies.
        let muap = CmapShape {
            amplitude_mv: 1.0,
            latency_ms: 0.0,
            rise_ms: 1.2,
            negative_duration_ms: 3.2,
            positive_ratio: 0.5,
            positive_duration_ms: 6.0,
        };
        let mut model = Model {
            plates,
            units,
            muap,
            scale: 1.0,
            base_latency_ms: spec.muscle.latency_ms,
        };
        // Scale: every fibre firing, no synchrony gain → the muscle's normal amplitude.
        let full: Vec<f64> = model.units.iter().map(|_| 1.0).collect();
        let (amp, _) = model.truth_of(&full, 0.0);
        model.scale = if amp > 0.0 {
            spec.muscle.cmap_mv / amp
        } else {
            1.0
        };
        model
    }

    /// Latency of unit `u` (ms after the stimulus) at synchrony `s` (0–1).
    fn unit_latency(&self, u: usize, s: f64) -> f64 {
        // Offsets are N(0, 0.9 ms): the earliest units (≈ −2.7 ms) start at the
        // muscle's distal latency; the spread around the mean narrows with synchrony.
        let spread = 1.0 - MAX_SYNCHRONY_GAIN * s;
        self.base_latency_ms + 2.7 + self.units[u].latency_offset_ms * spread
    }

    /// Unit `u`'s potential (mV, before scaling) at `t_ms` after the stimulus.
    fn unit_value(&self, u: usize, frac: f64, s: f64, t_ms: f64) -> f64 {
        let tau = t_ms - self.unit_latency(u, s);
        frac * self.units[u].fibres as f64 * template_value(&self.muap, tau)
    }

    /// Noiseless CMAP value (mV) at `t_ms` after the stimulus.
    fn cmap_at(&self, fracs: &[f64], s: f64, t_ms: f64) -> f64 {
        self.scale
            * fracs
                .iter()
                .enumerate()
                .filter(|(_, f)| **f > 0.0)
                .map(|(u, f)| self.unit_value(u, *f, s, t_ms))
                .sum::<f64>()
    }

    /// Amplitude (baseline to negative peak) and negative-phase area of the
    /// noiseless CMAP, on a 100 kHz grid.
    fn truth_of(&self, fracs: &[f64], s: f64) -> (f64, f64) {
        let dt = 0.01;
        let end = self.base_latency_ms + 12.0 + template_support_ms(&self.muap);
        let n = (end / dt) as usize;
        let v: Vec<f64> = (0..n)
            .map(|i| self.cmap_at(fracs, s, i as f64 * dt))
            .collect();
        let Some((ip, &vp)) = v.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1)) else {
            return (0.0, 0.0);
        };
        if vp >= 0.0 {
            return (0.0, 0.0);
        }
        // Negative phase: from where it leaves zero to where it returns.
        let mut a = ip;
        while a > 0 && v[a - 1] < 0.0 {
            a -= 1;
        }
        let mut b = ip;
        while b + 1 < n && v[b + 1] < 0.0 {
            b += 1;
        }
        let area: f64 = v[a..=b].iter().map(|x| -x * dt).sum();
        (-vp, area)
    }
}

/// Run a simulation.
pub fn simulate(spec: &SimSpec) -> SimOutput {
    let mut model = Model::new(spec);
    let j = spec.junction;
    let q = quantal_size(&j);
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed ^ 0xA11_0C8);
    let schedule = spec.protocol.schedule();
    let mut synchrony = 0.0f64;
    let mut last_stim: Option<f64> = None;
    let mut responses: Vec<SimResponse> = Vec::new();
    let mut per_response_fracs: Vec<(f64, Vec<f64>, f64)> = Vec::new();

    for ev in &schedule.events {
        match *ev {
            Event::Voluntary { t } => {
                for p in model.plates.iter_mut() {
                    p.advance(t);
                    p.impulse(&j, None);
                }
            }
            Event::Stimulus { t, train, index } => {
                // Synchrony follows the recent stimulation rate (≥ 10 Hz trains).
                let dt = last_stim.map_or(f64::INFINITY, |l| t - l);
                let target = if dt.is_finite() {
                    (1.0 / dt / 50.0).min(1.0)
                } else {
                    0.0
                };
                let w = 1.0 - (-dt.min(1e6) / 0.4).exp();
                synchrony += (target - synchrony) * w;
                last_stim = Some(t);
                let mut fired = vec![0usize; model.units.len()];
                let mut margin = 0.0;
                for p in model.plates.iter_mut() {
                    p.advance(t);
                    let m = p.impulse(&j, Some(&mut rng));
                    let epp = m * q;
                    margin += epp / p.threshold;
                    if epp >= p.threshold {
                        fired[p.unit] += 1;
                    }
                }
                let fracs: Vec<f64> = fired
                    .iter()
                    .zip(&model.units)
                    .map(|(&f, u)| f as f64 / u.fibres as f64)
                    .collect();
                let total: usize = model.units.iter().map(|u| u.fibres).sum();
                let (amp, area) = model.truth_of(&fracs, synchrony);
                responses.push(SimResponse {
                    train: train + 1,
                    index: index + 1,
                    stimulus_s: t,
                    amplitude_mv: round(amp, 5),
                    area_mv_ms: round(area, 5),
                    fibres_fired: round(fired.iter().sum::<usize>() as f64 / total as f64, 5),
                    mean_epp_ratio: round(margin / model.plates.len() as f64, 4),
                });
                per_response_fracs.push((t, fracs, synchrony));
            }
        }
    }

    // Background: artifacts, noise, hum, wander, voluntary EMG (no CMAPs).
    let rec = &spec.recording;
    let trains: Vec<TrainSpec> = spec
        .protocol
        .trains()
        .iter()
        .map(|t| TrainSpec {
            start_s: t.start_s,
            rate_hz: t.rate_hz,
            responses: vec![
                synth::Response {
                    gain: 0.0,
                    width: 1.0
                };
                t.count
            ],
        })
        .collect();
    let bg = SynthSpec {
        sample_rate_hz: rec.sample_rate_hz,
        duration_s: schedule.duration_s,
        cmap: CmapShape::default(),
        trains,
        artifact: ArtifactSpec {
            amplitude_mv: rec.artifact_mv,
            ..ArtifactSpec::default()
        },
        noise_uv_rms: rec.noise_uv,
        hum: (rec.hum_uv > 0.0).then_some(HumSpec {
            freq_hz: rec.mains_hz,
            amplitude_uv: rec.hum_uv,
            harmonic3_ratio: 0.2,
        }),
        wander: (rec.wander_uv > 0.0).then_some(WanderSpec {
            amplitude_uv: rec.wander_uv,
            freq_hz: 0.2,
        }),
        voluntary: if rec.voluntary_mv > 0.0 {
            schedule
                .exercise
                .iter()
                .map(|&(a, b)| VoluntarySpec {
                    start_s: a,
                    end_s: b,
                    rms_mv: rec.voluntary_mv,
                })
                .collect()
        } else {
            vec![]
        },
        clip_mv: None,
        dc_offset_mv: 0.0,
        invert: false,
        seed: spec.seed,
        latency_jitter_ms: 0.0,
    };
    let background = synth::generate(&bg);
    let fs = rec.sample_rate_hz;
    let mut samples: Vec<f64> = background.samples.iter().map(|&v| v as f64).collect();
    let window_ms = model.base_latency_ms + 12.0 + template_support_ms(&model.muap);
    for (t, fracs, s) in &per_response_fracs {
        let a = (t * fs).ceil() as usize;
        let b = (((t + window_ms / 1000.0) * fs).ceil() as usize).min(samples.len());
        for (i, v) in samples.iter_mut().enumerate().take(b).skip(a) {
            let t_ms = (i as f64 / fs - t) * 1000.0;
            *v += model.cmap_at(fracs, *s, t_ms);
        }
    }
    let rail = rec.clip_mv.map_or(f64::INFINITY, f64::abs);
    let samples: Vec<f32> = samples
        .iter()
        .map(|v| v.clamp(-rail, rail) as f32)
        .collect();

    // Train summaries from the truth.
    let trains_truth: Vec<SimTrain> = spec
        .protocol
        .trains()
        .iter()
        .enumerate()
        .map(|(k, t)| {
            let amps: Vec<f64> = responses
                .iter()
                .filter(|r| r.train == k + 1)
                .map(|r| r.amplitude_mv)
                .collect();
            let dec =
                (amps.len() >= 4 && amps[0] > 0.0).then(|| (amps[0] - amps[3]) / amps[0] * 100.0);
            let inc = (amps.len() >= 2 && amps[0] > 0.0).then(|| {
                let m = amps[1..].iter().copied().fold(f64::MIN, f64::max);
                (m - amps[0]) / amps[0] * 100.0
            });
            let delay = schedule
                .exercise
                .iter()
                .filter(|(_, e)| *e <= t.start_s)
                .map(|(_, e)| t.start_s - e)
                .fold(None, |m: Option<f64>, d| Some(m.map_or(d, |m| m.min(d))));
            SimTrain {
                index: k + 1,
                role: t.role,
                rate_hz: t.rate_hz,
                start_s: t.start_s,
                delay_after_exercise_s: delay.map(|d| round(d, 3)),
                decrement_pct: dec.map(|d| round(d, 3)),
                increment_pct: inc.map(|d| round(d, 3)),
            }
        })
        .collect();
    SimOutput {
        samples,
        sample_rate_hz: fs,
        truth: SimTruth {
            junction: j,
            preset: None,
            intended_pattern: None,
            muscle: spec.muscle.clone(),
            protocol: spec.protocol.name.clone(),
            seed: spec.seed,
            sample_rate_hz: fs,
            exercise_s: schedule.exercise.clone(),
            stimuli_s: responses.iter().map(|r| r.stimulus_s).collect(),
            trains: trains_truth,
            responses,
        },
    }
}

fn round(x: f64, d: i32) -> f64 {
    let p = 10f64.powi(d);
    (x * p).round() / p
}

/// A scheduled event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Event {
    /// A nerve stimulus (train and index 0-based).
    Stimulus {
        /// Time, s.
        t: f64,
        /// Train (0-based).
        train: usize,
        /// Index in the train (0-based).
        index: usize,
    },
    /// A voluntary impulse during exercise.
    Voluntary {
        /// Time, s.
        t: f64,
    },
}

/// The events of a protocol in time order, the exercise periods and the duration.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Events, ascending in time.
    pub events: Vec<Event>,
    /// Exercise periods (start, end), s.
    pub exercise: Vec<(f64, f64)>,
    /// Total duration, s.
    pub duration_s: f64,
}

#[cfg(test)]
mod tests;
