//! Synthetic RNS recordings with known answers.
//!
//! [`generate`] draws a continuous single-channel recording (millivolts) from a
//! [`SynthSpec`]: trains of stimuli, each followed by a compound muscle action
//! potential (CMAP) of *prescribed* size and width, a biphasic stimulus
//! artifact with an exponential tail, white noise, mains hum, baseline wander,
//! bursts of voluntary EMG, a DC offset, optional polarity inversion and
//! amplifier clipping. Beside the samples it returns the [`Truth`]: stimulus times and,
//! per response, the amplitude, negative-phase area, peak-to-peak amplitude,
//! latency and duration of the noiseless template, so that tests can check the
//! analyzer's measurements against exact numbers.
//!
//! This is not a physiological simulator: response sizes come from the spec
//! (see [`u_shaped_gains`], [`progressive_gains`], [`incrementing_gains`] for
//! the usual shapes of a train).
//!
//! # The CMAP template
//!
//! With `A` = amplitude, `R` = rise, `N` = negative duration, `p` = positive
//! ratio, `P` = positive duration and `τ` = time from onset (ms):
//!
//! | interval | value |
//! |---|---|
//! | `0 ≤ τ < R` | `−A·(1 − cos(π τ/R))/2` (raised-cosine fall, zero slope at onset and peak) |
//! | `R ≤ τ < N` | `−A·cos(π/2 · (τ−R)/(N−R))` (quarter cosine back to the baseline) |
//! | `N ≤ τ < N+T` | `p·A·sin(π/2 · (τ−N)/T)` (quarter sine up to the positive peak) |
//! | `N+T ≤ τ < N+P` | `p·A·(1 + cos(π (τ−N−T)/(P−T)))/2` (raised-cosine return) |
//!
//! where `T = p·(N−R)` is the time from the baseline crossing to the positive
//! peak; that choice makes the slopes on both sides of the crossing equal, so
//! the template is C1 everywhere (`T` is capped at `P/2` for odd shapes, which
//! only then leaves a kink at the crossing). The landmarks are therefore exact:
//! `−A` at `τ = R`, zero at `τ = N`, `+p·A` at `τ = N+T`, zero from `N+P` on.
//! The negative-phase area is `A·(R/2 + 2(N−R)/π)`.
//!
//! A response with gain `g` and width `w` is `g·c(τ/w)`, so its amplitude is
//! `g·A`, its duration `w·N` and its area `g·w·area`.
//!
//! # Randomness
//!
//! Every random component (noise, hum phase, wander phase, latency jitter,
//! each voluntary burst) draws from its own ChaCha8 stream of the one seed, so
//! the same seed gives the same samples on every platform, and switching one
//! component on or off does not change the others.

use crate::recording::Recording;
use crate::units::SampleRate;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use std::f64::consts::PI;

/// The noiseless CMAP template, in mV, with an electrically negative main
/// phase followed by a positive after-phase.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CmapShape {
    /// Baseline to negative peak, reported positive (mV).
    pub amplitude_mv: f64,
    /// Stimulus to onset (ms).
    pub latency_ms: f64,
    /// Onset to negative peak (ms).
    pub rise_ms: f64,
    /// Onset to the baseline crossing after the negative peak (ms).
    pub negative_duration_ms: f64,
    /// Positive (after-)phase peak divided by the negative peak.
    pub positive_ratio: f64,
    /// Duration of the positive phase, from the baseline crossing (ms).
    pub positive_duration_ms: f64,
}

impl Default for CmapShape {
    /// An abductor digiti minimi–like CMAP (primer §2: ADM 9.6–11.6 mV, latency 3.0 ms).
    fn default() -> Self {
        Self {
            amplitude_mv: 10.0,
            latency_ms: 3.0,
            rise_ms: 3.5,
            negative_duration_ms: 6.5,
            positive_ratio: 0.45,
            positive_duration_ms: 9.0,
        }
    }
}

/// How one response departs from the template.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Response {
    /// Amplitude factor (the response is `gain ×` the template).
    pub gain: f64,
    /// Time-axis factor (rise and durations × `width`; latency unchanged).
    /// Below 1 means better synchrony: pseudofacilitation is gain 1.4 with
    /// width 1/1.4, which keeps the area.
    pub width: f64,
}

impl Default for Response {
    fn default() -> Self {
        Self {
            gain: 1.0,
            width: 1.0,
        }
    }
}

/// A train of stimuli at a fixed rate, one response per stimulus.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainSpec {
    /// Time of the first stimulus, from the start of the recording (s).
    pub start_s: f64,
    /// Stimulation rate (Hz): stimulus `j` is at `start_s + j / rate_hz`.
    pub rate_hz: f64,
    /// One response per stimulus, in order.
    pub responses: Vec<Response>,
}

impl TrainSpec {
    /// A train whose responses have the given gains and width 1.
    pub fn from_gains(start_s: f64, rate_hz: f64, gains: &[f64]) -> Self {
        Self {
            start_s,
            rate_hz,
            responses: gains
                .iter()
                .map(|&gain| Response { gain, width: 1.0 })
                .collect(),
        }
    }

    /// Time of stimulus `j` (s).
    pub fn stimulus_s(&self, j: usize) -> f64 {
        // The first stimulus is at `start_s` whatever the rate (0 / 0 is NaN).
        if j == 0 {
            self.start_s
        } else {
            self.start_s + j as f64 / self.rate_hz
        }
    }
}

/// The stimulus artifact: a biphasic pulse followed by an exponential tail.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArtifactSpec {
    /// Height of each phase of the pulse (mV).
    pub amplitude_mv: f64,
    /// Width of each phase (ms); the pulse lasts twice this.
    pub width_ms: f64,
    /// Start value of the exponential tail after the pulse (mV, signed).
    pub tail_mv: f64,
    /// Time constant of the tail (ms).
    pub tail_tau_ms: f64,
    /// Whether the first phase is positive.
    pub positive_first: bool,
}

impl Default for ArtifactSpec {
    fn default() -> Self {
        Self {
            amplitude_mv: 8.0,
            width_ms: 0.2,
            tail_mv: 0.3,
            tail_tau_ms: 0.3,
            positive_first: true,
        }
    }
}

/// Mains interference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HumSpec {
    /// Fundamental (Hz): 50 or 60, possibly slightly off (50.03).
    pub freq_hz: f64,
    /// Amplitude of the fundamental (µV, peak).
    pub amplitude_uv: f64,
    /// Amplitude of the third harmonic relative to the fundamental.
    pub harmonic3_ratio: f64,
}

impl Default for HumSpec {
    fn default() -> Self {
        Self {
            freq_hz: 50.0,
            amplitude_uv: 50.0,
            harmonic3_ratio: 0.2,
        }
    }
}

/// Slow baseline wander (electrode, breathing, movement).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WanderSpec {
    /// Peak of the wander (µV), approximately: it is the sum of two sinusoids
    /// of half this amplitude each.
    pub amplitude_uv: f64,
    /// Main frequency (Hz), typically 0.1–0.5.
    pub freq_hz: f64,
}

impl Default for WanderSpec {
    fn default() -> Self {
        Self {
            amplitude_uv: 200.0,
            freq_hz: 0.3,
        }
    }
}

/// A burst of voluntary EMG (e.g. the contraction of an exercise test).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VoluntarySpec {
    /// Start of the burst (s).
    pub start_s: f64,
    /// End of the burst (s).
    pub end_s: f64,
    /// RMS of the burst between its ramps (mV).
    pub rms_mv: f64,
}

/// Everything [`generate`] needs.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthSpec {
    /// Samples per second.
    pub sample_rate_hz: f64,
    /// Length of the recording (s); the sample count is `round(duration × rate)`.
    pub duration_s: f64,
    /// The template every response scales.
    pub cmap: CmapShape,
    /// Trains of stimuli (may overlap; responses add).
    pub trains: Vec<TrainSpec>,
    /// The artifact drawn at every stimulus.
    pub artifact: ArtifactSpec,
    /// White Gaussian noise (µV rms).
    pub noise_uv_rms: f64,
    /// Mains hum, if any.
    pub hum: Option<HumSpec>,
    /// Baseline wander, if any.
    pub wander: Option<WanderSpec>,
    /// Bursts of voluntary EMG.
    pub voluntary: Vec<VoluntarySpec>,
    /// Amplifier rails: the final signal is clamped to ±`clip_mv`.
    pub clip_mv: Option<f64>,
    /// Offset added to the stored signal (mV), after any inversion.
    pub dc_offset_mv: f64,
    /// Store the signal negated (main CMAP phase positive).
    pub invert: bool,
    /// Seed of every random component.
    pub seed: u64,
    /// Standard deviation of a per-response random latency offset (ms).
    pub latency_jitter_ms: f64,
}

impl Default for SynthSpec {
    /// 20 kHz, 1 s, no trains, default CMAP and artifact, 5 µV noise, nothing else, seed 1.
    fn default() -> Self {
        Self {
            sample_rate_hz: 20_000.0,
            duration_s: 1.0,
            cmap: CmapShape::default(),
            trains: Vec::new(),
            artifact: ArtifactSpec::default(),
            noise_uv_rms: 5.0,
            hum: None,
            wander: None,
            voluntary: Vec::new(),
            clip_mv: None,
            dc_offset_mv: 0.0,
            invert: false,
            seed: 1,
            latency_jitter_ms: 0.0,
        }
    }
}

impl SynthSpec {
    /// A spec with sensible defaults (see [`SynthSpec::default`]) whose
    /// duration runs to 1 s after the last stimulus.
    pub fn simple(sample_rate_hz: f64, trains: Vec<TrainSpec>) -> Self {
        let last = trains
            .iter()
            .filter(|t| !t.responses.is_empty())
            .map(|t| t.stimulus_s(t.responses.len() - 1))
            .filter(|t| t.is_finite())
            .fold(0.0_f64, f64::max);
        Self {
            sample_rate_hz,
            duration_s: last + 1.0,
            trains,
            ..Self::default()
        }
    }
}

/// The exact answer for one response, from the noiseless, unclipped template.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TruthResponse {
    /// Index of the train in [`SynthSpec::trains`].
    pub train: usize,
    /// Index of the response in its train (0 = first).
    pub index: usize,
    /// Stimulus time (s).
    pub stimulus_s: f64,
    /// Baseline to negative peak (mV, positive): gain × template amplitude.
    pub amplitude_mv: f64,
    /// Area of the negative phase (mV·ms, positive): gain × width × template area.
    pub area_mv_ms: f64,
    /// Negative peak to positive peak (mV): gain × amplitude × (1 + positive ratio).
    pub peak_to_peak_mv: f64,
    /// Stimulus to onset (ms), jitter included.
    pub latency_ms: f64,
    /// Onset to the baseline crossing (ms): width × negative duration.
    pub duration_ms: f64,
    /// The gain the response was drawn with.
    pub gain: f64,
    /// The width the response was drawn with.
    pub width: f64,
}

/// The known answers of a synthetic recording.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Truth {
    /// Every drawn stimulus (s), ascending.
    pub stimuli_s: Vec<f64>,
    /// Every drawn response, by ascending stimulus time (train order for ties).
    pub responses: Vec<TruthResponse>,
}

impl Truth {
    /// The drawn responses of one train, in order.
    pub fn train(&self, train: usize) -> Vec<&TruthResponse> {
        let mut v: Vec<&TruthResponse> =
            self.responses.iter().filter(|r| r.train == train).collect();
        v.sort_by_key(|r| r.index);
        v
    }

    /// Amplitudes (mV) of one train, in order.
    pub fn amplitudes(&self, train: usize) -> Vec<f64> {
        self.train(train).iter().map(|r| r.amplitude_mv).collect()
    }

    /// Negative-phase areas (mV·ms) of one train, in order.
    pub fn areas(&self, train: usize) -> Vec<f64> {
        self.train(train).iter().map(|r| r.area_mv_ms).collect()
    }

    /// Amplitude decrement of response `n` (1-based, as in "4th response"):
    /// `(A1 − An) / A1 × 100`; `None` if either response was not drawn or A1 is 0.
    pub fn amplitude_decrement_pct(&self, train: usize, n: usize) -> Option<f64> {
        self.decrement(train, n, |r| r.amplitude_mv)
    }

    /// Area decrement of response `n` (1-based), as [`Truth::amplitude_decrement_pct`].
    pub fn area_decrement_pct(&self, train: usize, n: usize) -> Option<f64> {
        self.decrement(train, n, |r| r.area_mv_ms)
    }

    fn decrement(&self, train: usize, n: usize, f: impl Fn(&TruthResponse) -> f64) -> Option<f64> {
        let get = |index: usize| {
            self.responses
                .iter()
                .find(|r| r.train == train && r.index == index)
                .map(&f)
        };
        let first = get(0)?;
        let nth = get(n.checked_sub(1)?)?;
        (first != 0.0).then(|| (first - nth) / first * 100.0)
    }
}

/// A generated recording and its answers.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthOutput {
    /// Samples per second.
    pub sample_rate_hz: f64,
    /// The signal (mV).
    pub samples: Vec<f32>,
    /// The known answers.
    pub truth: Truth,
}

impl SynthOutput {
    /// The samples as a one-channel continuous [`Recording`] (no known
    /// stimuli: the analyzer must find them). `None` if the sample rate is
    /// outside what [`SampleRate::new`] accepts.
    pub fn to_recording(&self) -> Option<Recording> {
        let sample_rate = SampleRate::new(self.sample_rate_hz)?;
        Some(Recording::single_channel(
            "synthetic",
            sample_rate,
            self.samples.clone(),
        ))
    }
}

// ---------------------------------------------------------------------------
// Gains of the usual train shapes.

/// Value (mV) of the template `shape` at `tau_ms` after onset (0 outside its
/// support). The physiological simulator builds motor-unit potentials from it.
pub fn template_value(shape: &CmapShape, tau_ms: f64) -> f64 {
    Template::new(shape).value(tau_ms)
}

/// Onset-to-end duration (ms) of the template `shape`.
pub fn template_support_ms(shape: &CmapShape) -> f64 {
    Template::new(shape).support()
}

/// Gains of an MG-like (U-shaped) train: largest drop from response 1 to 2,
/// nadir of exactly `1 − decrement/100` at responses 4 and 5 (so the 4th, the
/// 5th and the lowest of 2–5 all give the same decrement), then a partial
/// recovery that regains a third of the drop by response 10 and at most half
/// of it later.
pub fn u_shaped_gains(n: usize, decrement_pct: f64) -> Vec<f64> {
    let drop = finite_or(decrement_pct, 0.0) / 100.0;
    (0..n)
        .map(|j| {
            // Fraction of the full drop reached at response j.
            let reached = match j {
                0 => 0.0,
                1 => 0.6,
                2 => 0.85,
                3 | 4 => 1.0,
                _ => {
                    let x = (j - 4) as f64 / 5.0;
                    let recovered = if x <= 1.0 {
                        x.powf(1.5) / 3.0
                    } else {
                        1.0 / 3.0 + (1.0 - (-(x - 1.0)).exp()) / 6.0
                    };
                    1.0 - recovered
                }
            };
            (1.0 - drop * reached).max(0.0)
        })
        .collect()
}

/// Gains of a train that declines linearly to `1 − final_decrement/100` at the
/// last response (LEMS, MuSK, ALS or fatigue; primer §3).
pub fn progressive_gains(n: usize, final_decrement_pct: f64) -> Vec<f64> {
    let drop = finite_or(final_decrement_pct, 0.0) / 100.0;
    let last = n.saturating_sub(1).max(1) as f64;
    (0..n)
        .map(|j| (1.0 - drop * j as f64 / last).max(0.0))
        .collect()
}

/// Gains of a train that rises, saturating (time constant a third of the
/// train), to exactly `1 + increment/100` at the last response (LEMS at high
/// rate). A single response has gain 1.
pub fn incrementing_gains(n: usize, increment_pct: f64) -> Vec<f64> {
    let inc = finite_or(increment_pct, 0.0) / 100.0;
    let last = n.saturating_sub(1);
    let norm = 1.0 - (-3.0_f64).exp();
    (0..n)
        .map(|j| {
            if j == 0 {
                1.0
            } else if j == last {
                1.0 + inc
            } else {
                let x = 3.0 * j as f64 / last as f64;
                (1.0 + inc * (1.0 - (-x).exp()) / norm).max(0.0)
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Generation.

// Streams of the seed, one per random component (see the module doc).
const STREAM_NOISE: u64 = 1;
const STREAM_HUM: u64 = 2;
const STREAM_WANDER: u64 = 3;
const STREAM_JITTER: u64 = 4;
const STREAM_VOLUNTARY: u64 = 1 << 32;

/// Voluntary EMG pass band (Hz), and the length of its raised-cosine ramps (s).
const VOLUNTARY_LOW_HZ: f64 = 20.0;
const VOLUNTARY_HIGH_HZ: f64 = 450.0;
const VOLUNTARY_RAMP_S: f64 = 0.05;
/// Filter warm-up discarded before each voluntary burst (s): several time
/// constants of the 20 Hz high-pass, so the burst starts in steady state.
const VOLUNTARY_WARMUP_S: f64 = 0.1;

/// The artifact tail is drawn for this many time constants (e^−12 ≈ 6e-6).
const TAIL_TAUS: f64 = 12.0;

/// Ratio of the second wander frequency to the first (incommensurate, so the
/// sum does not repeat within a recording).
const WANDER_SECOND_RATIO: f64 = 1.37;

fn rng_stream(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

fn finite_or(x: f64, default: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        default
    }
}

fn gaussian(rng: &mut ChaCha8Rng) -> f64 {
    rng.sample::<f64, _>(StandardNormal)
}

fn random_phase(rng: &mut ChaCha8Rng) -> f64 {
    rng.random::<f64>() * 2.0 * PI
}

/// The template with its parameters made safe (finite, positive durations,
/// rise strictly inside the negative phase), so evaluation is NaN-free.
#[derive(Debug, Clone, Copy)]
struct Template {
    amplitude: f64,
    rise: f64,
    negative: f64,
    positive_amplitude: f64,
    /// Baseline crossing to positive peak (ms); 0 when there is no positive phase.
    to_positive_peak: f64,
    positive_duration: f64,
}

impl Template {
    fn new(shape: &CmapShape) -> Self {
        let amplitude = finite_or(shape.amplitude_mv, 0.0);
        let negative = finite_or(shape.negative_duration_ms, 6.5).max(0.01);
        let rise =
            finite_or(shape.rise_ms, negative / 2.0).clamp(1e-3 * negative, 0.999 * negative);
        let ratio = finite_or(shape.positive_ratio, 0.0).max(0.0);
        let positive_duration = finite_or(shape.positive_duration_ms, 0.0).max(0.0);
        let (positive_amplitude, to_positive_peak, positive_duration) =
            if ratio > 0.0 && positive_duration > 0.0 {
                // Equal slopes either side of the crossing (module doc).
                let t = (ratio * (negative - rise)).min(positive_duration / 2.0);
                (ratio * amplitude, t, positive_duration)
            } else {
                (0.0, 0.0, 0.0)
            };
        Self {
            amplitude,
            rise,
            negative,
            positive_amplitude,
            to_positive_peak,
            positive_duration,
        }
    }

    /// Time from onset to the end of the response (ms).
    fn support(&self) -> f64 {
        self.negative + self.positive_duration
    }

    /// Exact area of the negative phase (mV·ms, positive).
    fn negative_area(&self) -> f64 {
        self.amplitude * (self.rise / 2.0 + 2.0 * (self.negative - self.rise) / PI)
    }

    /// Template value (mV) at `tau` ms after onset.
    fn value(&self, tau: f64) -> f64 {
        if !(tau >= 0.0 && tau < self.support()) {
            return 0.0;
        }
        if tau < self.rise {
            -self.amplitude * (1.0 - (PI * tau / self.rise).cos()) / 2.0
        } else if tau < self.negative {
            -self.amplitude * (PI / 2.0 * (tau - self.rise) / (self.negative - self.rise)).cos()
        } else {
            let u = tau - self.negative;
            if u < self.to_positive_peak {
                self.positive_amplitude * (PI / 2.0 * u / self.to_positive_peak).sin()
            } else {
                let fall = self.positive_duration - self.to_positive_peak;
                self.positive_amplitude * (1.0 + (PI * (u - self.to_positive_peak) / fall).cos())
                    / 2.0
            }
        }
    }
}

/// The artifact with safe parameters, evaluated as box averages over sample
/// intervals (through its antiderivative), which renders it at sub-sample
/// precision with edges smoothed over one sample.
#[derive(Debug, Clone, Copy)]
struct Artifact {
    /// Height of the first phase (signed).
    first: f64,
    width: f64,
    tail: f64,
    tau: f64,
}

impl Artifact {
    fn new(spec: &ArtifactSpec) -> Self {
        let amplitude = finite_or(spec.amplitude_mv, 0.0);
        Self {
            first: if spec.positive_first {
                amplitude
            } else {
                -amplitude
            },
            width: finite_or(spec.width_ms, 0.0).max(0.0),
            tail: finite_or(spec.tail_mv, 0.0),
            tau: finite_or(spec.tail_tau_ms, 0.0).max(0.0),
        }
    }

    /// Time from the stimulus to the end of what is drawn (ms).
    fn support(&self) -> f64 {
        2.0 * self.width + TAIL_TAUS * self.tau
    }

    /// ∫ artifact from the stimulus to `u` ms after it (mV·ms).
    fn antiderivative(&self, u: f64) -> f64 {
        let w = self.width;
        if u <= 0.0 {
            0.0
        } else if u <= w {
            self.first * u
        } else if u <= 2.0 * w {
            self.first * (2.0 * w - u)
        } else if self.tau > 0.0 {
            self.tail * self.tau * (1.0 - (-(u - 2.0 * w) / self.tau).exp())
        } else {
            0.0
        }
    }

    /// Mean of the artifact over `[a, b]` ms after the stimulus (`b > a`).
    fn box_mean(&self, a: f64, b: f64) -> f64 {
        (self.antiderivative(b) - self.antiderivative(a)) / (b - a)
    }
}

/// A second-order section (RBJ cookbook), transposed direct form II.
#[derive(Debug, Clone, Copy)]
struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
    z: [f64; 2],
}

impl Biquad {
    fn butterworth(fs: f64, f0: f64, high_pass: bool) -> Self {
        let w0 = 2.0 * PI * f0 / fs;
        let (sin, cos) = w0.sin_cos();
        let alpha = sin / 2.0_f64.sqrt(); // Q = 1/√2
        let a0 = 1.0 + alpha;
        let b = if high_pass {
            [(1.0 + cos) / 2.0, -(1.0 + cos), (1.0 + cos) / 2.0]
        } else {
            [(1.0 - cos) / 2.0, 1.0 - cos, (1.0 - cos) / 2.0]
        };
        Self {
            b: b.map(|x| x / a0),
            a: [-2.0 * cos / a0, (1.0 - alpha) / a0],
            z: [0.0; 2],
        }
    }

    fn step(&mut self, x: f64) -> f64 {
        let y = self.b[0] * x + self.z[0];
        self.z[0] = self.b[1] * x - self.a[0] * y + self.z[1];
        self.z[1] = self.b[2] * x - self.a[1] * y;
        y
    }
}

/// Index range of the samples whose times fall in `[from_s, to_s]`, within `n`.
fn sample_range(fs: f64, from_s: f64, to_s: f64, n: usize) -> std::ops::Range<usize> {
    // `as usize` saturates (negative and NaN → 0), which is the clamp wanted.
    let start = ((from_s * fs).ceil().max(0.0) as usize).min(n);
    let end = (((to_s * fs).floor() + 1.0).max(0.0) as usize).min(n);
    start..end.max(start)
}

/// The benchmark session (`benches/`, `scripts/bench.sh`): 5 minutes at
/// 20 kHz as a technician records it. A rest train, a 30 s contraction
/// (1 mV rms voluntary EMG), a train right after it and trains 1–4 min later
/// (3 Hz × 10, MG-like U-shaped 25 % decrement), then a 50 Hz train for 1 s;
/// 10 µV noise, 30 µV 50 Hz hum, 100 µV baseline wander; seed 7.
pub fn benchmark_session() -> SynthSpec {
    let gains = u_shaped_gains(10, 25.0);
    let mut trains: Vec<TrainSpec> = [2.0, 40.0, 100.0, 160.0, 220.0, 280.0]
        .iter()
        .map(|&t| TrainSpec::from_gains(t, 3.0, &gains))
        .collect();
    trains.push(TrainSpec::from_gains(290.0, 50.0, &[1.0; 50]));
    SynthSpec {
        sample_rate_hz: 20_000.0,
        duration_s: 300.0,
        trains,
        noise_uv_rms: 10.0,
        hum: Some(HumSpec {
            amplitude_uv: 30.0,
            ..HumSpec::default()
        }),
        wander: Some(WanderSpec {
            amplitude_uv: 100.0,
            freq_hz: 0.2,
        }),
        voluntary: vec![VoluntarySpec {
            start_s: 8.0,
            end_s: 38.0,
            rms_mv: 1.0,
        }],
        seed: 7,
        ..SynthSpec::default()
    }
}

/// Generates the recording and its truth. Deterministic in `spec` (the seed
/// included). Stimuli outside `[0, duration)` are neither drawn nor in the
/// truth; a response that runs past the end is cut but kept. A non-finite or
/// non-positive rate gives an empty recording; a non-positive width is taken
/// as 1; a negative jittered latency as 0.
pub fn generate(spec: &SynthSpec) -> SynthOutput {
    let fs = spec.sample_rate_hz;
    let duration = finite_or(spec.duration_s, 0.0).max(0.0);
    let n = if fs.is_finite() && fs > 0.0 {
        (duration * fs).round() as usize
    } else {
        0
    };
    let mut signal = vec![0.0_f64; n];
    let template = Template::new(&spec.cmap);
    let artifact = Artifact::new(&spec.artifact);

    let truth = draw_stimuli(spec, fs, duration, &template, &artifact, &mut signal);
    add_noise(spec, &mut signal);
    add_hum(spec, fs, &mut signal);
    add_wander(spec, fs, &mut signal);
    add_voluntary(spec, fs, &mut signal);

    let sign = if spec.invert { -1.0 } else { 1.0 };
    let dc = finite_or(spec.dc_offset_mv, 0.0);
    let rail = spec
        .clip_mv
        .filter(|c| c.is_finite())
        .map_or(f64::INFINITY, f64::abs);
    let samples = signal
        .iter()
        .map(|&v| (sign * v + dc).max(-rail).min(rail) as f32)
        .collect();

    SynthOutput {
        sample_rate_hz: fs,
        samples,
        truth,
    }
}

/// Draws every artifact and CMAP into `signal` and returns the truth.
fn draw_stimuli(
    spec: &SynthSpec,
    fs: f64,
    duration: f64,
    template: &Template,
    artifact: &Artifact,
    signal: &mut [f64],
) -> Truth {
    let n = signal.len();
    let mut jitter_rng = rng_stream(spec.seed, STREAM_JITTER);
    let jitter_sd = finite_or(spec.latency_jitter_ms, 0.0).abs();
    let base_latency = finite_or(spec.cmap.latency_ms, 0.0).max(0.0);
    let mut truth = Truth::default();

    for (k, train) in spec.trains.iter().enumerate() {
        for (j, response) in train.responses.iter().enumerate() {
            // Drawn for every response, drawn or not, so one response's
            // jitter does not depend on which others fit in the recording.
            let jitter = if jitter_sd > 0.0 {
                jitter_sd * gaussian(&mut jitter_rng)
            } else {
                0.0
            };
            let stimulus = train.stimulus_s(j);
            if !(stimulus.is_finite() && stimulus >= 0.0 && stimulus < duration) {
                continue;
            }
            let gain = finite_or(response.gain, 0.0);
            let width = if response.width.is_finite() && response.width > 0.0 {
                response.width
            } else {
                1.0
            };
            let latency = (base_latency + jitter).max(0.0);

            // Artifact: each sample is the mean over its own interval.
            let dt_ms = 1000.0 / fs;
            let from = stimulus - 0.5 / fs;
            let to = stimulus + artifact.support() / 1000.0 + 0.5 / fs;
            for i in sample_range(fs, from, to, n) {
                let centre_ms = (i as f64 / fs - stimulus) * 1000.0;
                signal[i] += artifact.box_mean(centre_ms - dt_ms / 2.0, centre_ms + dt_ms / 2.0);
            }

            // CMAP: point samples of the smooth template, over its support only.
            let onset = stimulus + latency / 1000.0;
            let end = onset + template.support() * width / 1000.0;
            for i in sample_range(fs, onset, end, n) {
                let tau = (i as f64 / fs - onset) * 1000.0;
                signal[i] += gain * template.value(tau / width);
            }

            truth.stimuli_s.push(stimulus);
            truth.responses.push(TruthResponse {
                train: k,
                index: j,
                stimulus_s: stimulus,
                amplitude_mv: gain * template.amplitude,
                area_mv_ms: gain * width * template.negative_area(),
                peak_to_peak_mv: gain * (template.amplitude + template.positive_amplitude),
                latency_ms: latency,
                duration_ms: width * template.negative,
                gain,
                width,
            });
        }
    }
    truth.stimuli_s.sort_by(f64::total_cmp);
    // Stable: ties keep train order.
    truth
        .responses
        .sort_by(|a, b| a.stimulus_s.total_cmp(&b.stimulus_s));
    truth
}

fn add_noise(spec: &SynthSpec, signal: &mut [f64]) {
    let sd = finite_or(spec.noise_uv_rms, 0.0).abs() / 1000.0;
    if sd == 0.0 {
        return;
    }
    let mut rng = rng_stream(spec.seed, STREAM_NOISE);
    for v in signal.iter_mut() {
        *v += sd * gaussian(&mut rng);
    }
}

fn add_hum(spec: &SynthSpec, fs: f64, signal: &mut [f64]) {
    let Some(hum) = spec.hum else { return };
    let amplitude = finite_or(hum.amplitude_uv, 0.0) / 1000.0;
    let f = finite_or(hum.freq_hz, 0.0);
    let h3 = finite_or(hum.harmonic3_ratio, 0.0);
    if amplitude == 0.0 {
        return;
    }
    let mut rng = rng_stream(spec.seed, STREAM_HUM);
    let (phi1, phi3) = (random_phase(&mut rng), random_phase(&mut rng));
    let w = 2.0 * PI * f / fs;
    for (i, v) in signal.iter_mut().enumerate() {
        let x = w * i as f64;
        *v += amplitude * ((x + phi1).sin() + h3 * (3.0 * x + phi3).sin());
    }
}

fn add_wander(spec: &SynthSpec, fs: f64, signal: &mut [f64]) {
    let Some(wander) = spec.wander else { return };
    let half = finite_or(wander.amplitude_uv, 0.0) / 2000.0;
    let f = finite_or(wander.freq_hz, 0.0);
    if half == 0.0 {
        return;
    }
    let mut rng = rng_stream(spec.seed, STREAM_WANDER);
    let (phi1, phi2) = (random_phase(&mut rng), random_phase(&mut rng));
    let w1 = 2.0 * PI * f / fs;
    let w2 = w1 * WANDER_SECOND_RATIO;
    for (i, v) in signal.iter_mut().enumerate() {
        let i = i as f64;
        *v += half * ((w1 * i + phi1).sin() + (w2 * i + phi2).sin());
    }
}

fn add_voluntary(spec: &SynthSpec, fs: f64, signal: &mut [f64]) {
    let n = signal.len();
    for (b, burst) in spec.voluntary.iter().enumerate() {
        let rms = finite_or(burst.rms_mv, 0.0).abs();
        // Samples at t ∈ [start, end).
        let range = sample_range(fs, burst.start_s, burst.end_s - 0.5 / fs, n);
        if rms == 0.0 || range.is_empty() {
            continue;
        }
        let len = range.len();
        let mut rng = rng_stream(spec.seed, STREAM_VOLUNTARY + b as u64);
        let mut high_pass = Biquad::butterworth(fs, VOLUNTARY_LOW_HZ, true);
        // Keep the low-pass corner below Nyquist at low sample rates.
        let mut low_pass = Biquad::butterworth(fs, VOLUNTARY_HIGH_HZ.min(0.45 * fs), false);
        let warmup = (VOLUNTARY_WARMUP_S * fs).round() as usize;
        let mut burst_signal: Vec<f64> = (0..warmup + len)
            .map(|_| low_pass.step(high_pass.step(gaussian(&mut rng))))
            .skip(warmup)
            .collect();

        // Scale to the exact rms asked for (measured before the ramps).
        let measured = (burst_signal.iter().map(|x| x * x).sum::<f64>() / len as f64).sqrt();
        if !measured.is_finite() || measured <= 0.0 {
            continue;
        }
        let scale = rms / measured;
        let ramp = ((VOLUNTARY_RAMP_S * fs).round() as usize).min(len / 2);
        for (k, x) in burst_signal.iter_mut().enumerate() {
            let from_edge = k.min(len - 1 - k);
            let window = if from_edge < ramp {
                (1.0 - (PI * from_edge as f64 / ramp as f64).cos()) / 2.0
            } else {
                1.0
            };
            *x *= scale * window;
        }
        for (v, x) in signal[range].iter_mut().zip(&burst_signal) {
            *v += x;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::SourceFormat;
    use approx::assert_relative_eq;

    /// A spec without any random or interfering component.
    fn quiet(sample_rate_hz: f64, trains: Vec<TrainSpec>) -> SynthSpec {
        SynthSpec {
            noise_uv_rms: 0.0,
            ..SynthSpec::simple(sample_rate_hz, trains)
        }
    }

    fn index_of(t_s: f64, fs: f64) -> usize {
        (t_s * fs).round() as usize
    }

    #[test]
    fn template_has_its_landmarks_and_is_c1() {
        let shape = CmapShape::default();
        let t = Template::new(&shape);
        assert_relative_eq!(t.value(0.0), 0.0);
        assert_relative_eq!(t.value(shape.rise_ms), -shape.amplitude_mv, epsilon = 1e-12);
        assert_relative_eq!(t.value(shape.negative_duration_ms), 0.0, epsilon = 1e-12);
        let peak_t = shape.negative_duration_ms + t.to_positive_peak;
        assert_relative_eq!(
            t.value(peak_t),
            shape.positive_ratio * shape.amplitude_mv,
            epsilon = 1e-12
        );
        assert_eq!(t.value(t.support() + 1e-9), 0.0);
        assert_eq!(t.value(-1e-9), 0.0);

        // Negative exactly on [0, N), positive after; the extremes are the landmarks.
        let grid: Vec<f64> = (0..=40_000)
            .map(|i| i as f64 * t.support() / 40_000.0)
            .collect();
        for &tau in &grid {
            let v = t.value(tau);
            if tau > 0.0 && tau < shape.negative_duration_ms {
                assert!(
                    v < 0.0 && v >= -shape.amplitude_mv - 1e-12,
                    "tau {tau}: {v}"
                );
            } else {
                assert!(
                    v >= 0.0 && v <= t.positive_amplitude + 1e-12,
                    "tau {tau}: {v}"
                );
            }
        }

        // C1: one-sided slopes agree at every joint.
        let h = 1e-6;
        for joint in [
            shape.rise_ms,
            shape.negative_duration_ms,
            peak_t,
            t.support(),
        ] {
            let left = (t.value(joint - h) - t.value(joint - 2.0 * h)) / h;
            let right = (t.value(joint + 2.0 * h) - t.value(joint + h)) / h;
            assert!(
                (left - right).abs() < 1e-3,
                "joint {joint}: {left} vs {right}"
            );
        }
    }

    #[test]
    fn analytic_area_matches_numeric_integration() {
        let t = Template::new(&CmapShape::default());
        let steps = 100_000;
        let h = t.negative / steps as f64;
        let numeric: f64 = (0..steps).map(|i| -t.value((i as f64 + 0.5) * h) * h).sum();
        assert_relative_eq!(numeric, t.negative_area(), max_relative = 1e-6);
    }

    #[test]
    fn same_seed_same_samples_other_seed_other_noise() {
        let trains = vec![TrainSpec::from_gains(0.5, 3.0, &u_shaped_gains(10, 20.0))];
        let mut spec = SynthSpec::simple(10_000.0, trains);
        spec.noise_uv_rms = 20.0;
        spec.hum = Some(HumSpec::default());
        spec.wander = Some(WanderSpec::default());
        spec.latency_jitter_ms = 0.1;
        spec.voluntary = vec![VoluntarySpec {
            start_s: 0.1,
            end_s: 0.4,
            rms_mv: 0.5,
        }];
        let a = generate(&spec);
        let b = generate(&spec);
        assert_eq!(a, b);
        spec.seed = 2;
        let c = generate(&spec);
        assert_eq!(a.samples.len(), c.samples.len());
        let differing = a
            .samples
            .iter()
            .zip(&c.samples)
            .filter(|(x, y)| x != y)
            .count();
        assert!(differing > a.samples.len() * 9 / 10);
    }

    #[test]
    fn switching_jitter_on_keeps_the_noise() {
        let trains = vec![TrainSpec::from_gains(0.2, 3.0, &[1.0])];
        let mut spec = SynthSpec::simple(10_000.0, trains);
        let a = generate(&spec);
        spec.latency_jitter_ms = 0.2;
        let b = generate(&spec);
        // Before the stimulus only the noise is there, and it is unchanged.
        let before = index_of(0.2, 10_000.0) - 10;
        assert_eq!(a.samples[..before], b.samples[..before]);
        assert_ne!(
            a.truth.responses[0].latency_ms,
            b.truth.responses[0].latency_ms
        );
    }

    #[test]
    fn sample_at_negative_peak_is_minus_gain_times_amplitude() {
        let fs = 50_000.0;
        let response = Response {
            gain: 0.8,
            width: 1.2,
        };
        // Off the sample grid on purpose.
        let train = TrainSpec {
            start_s: 0.123_456_7,
            rate_hz: 3.0,
            responses: vec![response; 3],
        };
        let out = generate(&quiet(fs, vec![train]));
        let shape = CmapShape::default();
        for r in &out.truth.responses {
            let peak_s = r.stimulus_s + (r.latency_ms + shape.rise_ms * r.width) / 1000.0;
            let v = f64::from(out.samples[index_of(peak_s, fs)]);
            assert_relative_eq!(-v, r.amplitude_mv, max_relative = 0.005);
            assert_relative_eq!(r.amplitude_mv, 8.0, max_relative = 1e-12);
            assert_relative_eq!(r.peak_to_peak_mv, 8.0 * 1.45, max_relative = 1e-12);
            assert_relative_eq!(r.duration_ms, 6.5 * 1.2, max_relative = 1e-12);
        }
    }

    #[test]
    fn integrated_negative_phase_matches_truth_area() {
        for fs in [5_000.0, 20_000.0, 50_000.0] {
            let train = TrainSpec {
                start_s: 0.2001,
                rate_hz: 5.0,
                responses: vec![
                    Response::default(),
                    Response {
                        gain: 1.4,
                        width: 1.0 / 1.4,
                    },
                    Response {
                        gain: 0.7,
                        width: 1.3,
                    },
                ],
            };
            let out = generate(&quiet(fs, vec![train]));
            for r in &out.truth.responses {
                let onset = r.stimulus_s + r.latency_ms / 1000.0;
                let end = onset + r.duration_ms / 1000.0;
                let range = sample_range(fs, onset, end, out.samples.len());
                let area: f64 = out.samples[range]
                    .iter()
                    .map(|&v| -f64::from(v) * 1000.0 / fs)
                    .sum();
                assert_relative_eq!(area, r.area_mv_ms, max_relative = 0.01);
            }
            // Pseudofacilitation keeps the area.
            let areas = out.truth.areas(0);
            assert_relative_eq!(areas[1], areas[0], max_relative = 1e-12);
        }
    }

    #[test]
    fn invert_flips_the_sign() {
        let trains = vec![TrainSpec::from_gains(0.3, 3.0, &[1.0, 0.9, 0.8])];
        let mut spec = SynthSpec::simple(20_000.0, trains);
        spec.hum = Some(HumSpec::default());
        let plain = generate(&spec);
        spec.invert = true;
        let inverted = generate(&spec);
        assert_eq!(plain.truth, inverted.truth);
        for (a, b) in plain.samples.iter().zip(&inverted.samples) {
            assert_eq!(*a, -*b);
        }
    }

    #[test]
    fn clip_bounds_the_values() {
        let trains = vec![TrainSpec::from_gains(0.3, 3.0, &[1.0, 1.0])];
        let mut spec = SynthSpec::simple(20_000.0, trains);
        spec.clip_mv = Some(5.0);
        spec.dc_offset_mv = 0.5;
        let out = generate(&spec);
        assert!(out.samples.iter().all(|v| v.abs() <= 5.0));
        assert!(out.samples.contains(&-5.0));
        assert!(out.samples.contains(&5.0));
        // The truth ignores the rails.
        assert_relative_eq!(out.truth.responses[0].amplitude_mv, 10.0);
    }

    #[test]
    fn dc_offset_is_added() {
        let mut spec = quiet(10_000.0, vec![]);
        spec.dc_offset_mv = -1.25;
        spec.invert = true;
        let out = generate(&spec);
        assert!(out.samples.iter().all(|&v| v == -1.25));
    }

    #[test]
    fn u_shaped_gains_shape() {
        let g = u_shaped_gains(10, 20.0);
        assert_eq!(g.len(), 10);
        assert_eq!(g[0], 1.0);
        let (imin, min) = g
            .iter()
            .copied()
            .enumerate()
            .fold(
                (0, f64::INFINITY),
                |acc, (i, v)| if v < acc.1 { (i, v) } else { acc },
            );
        assert!(imin == 3 || imin == 4);
        assert_relative_eq!(min, 0.8, epsilon = 1e-12);
        assert_relative_eq!(g[4], 0.8, epsilon = 1e-12);
        assert!(g[9] > min);
        // Back up by about a third of the drop at the 10th.
        assert_relative_eq!(g[9], 0.8 + 0.2 / 3.0, epsilon = 1e-9);
        // Largest drop is 1 → 2.
        let drops: Vec<f64> = g.windows(2).map(|w| w[0] - w[1]).collect();
        assert!(drops[1..].iter().all(|&d| d < drops[0]));
        // Recovery never overshoots the first response, even for long trains.
        assert!(u_shaped_gains(60, 30.0).iter().skip(1).all(|&v| v < 1.0));
        assert!(u_shaped_gains(0, 20.0).is_empty());
    }

    #[test]
    fn progressive_gains_decline_monotonically() {
        let g = progressive_gains(10, 25.0);
        assert_eq!(g[0], 1.0);
        assert!(g.windows(2).all(|w| w[1] < w[0]));
        assert_relative_eq!(g[9], 0.75, epsilon = 1e-12);
        assert_eq!(progressive_gains(1, 25.0), vec![1.0]);
    }

    #[test]
    fn incrementing_gains_rise_to_the_increment() {
        let g = incrementing_gains(50, 100.0);
        assert_eq!(g[0], 1.0);
        assert_eq!(g[49], 2.0);
        assert!(g.windows(2).all(|w| w[1] > w[0]));
        // Saturating: the first half gains more than the second.
        assert!(g[25] - g[0] > g[49] - g[25]);
        assert_eq!(incrementing_gains(1, 100.0), vec![1.0]);
        assert_eq!(incrementing_gains(2, 60.0), vec![1.0, 1.6]);
    }

    #[test]
    fn artifact_is_gone_two_ms_after_the_stimulus() {
        for fs in [5_000.0, 20_000.0, 50_000.0] {
            let mut spec = quiet(fs, vec![TrainSpec::from_gains(0.100_03, 3.0, &[1.0])]);
            spec.cmap.amplitude_mv = 0.0;
            let out = generate(&spec);
            let stim = out.truth.stimuli_s[0];
            let tail = spec.artifact.tail_mv;
            let after = index_of(stim + 0.002, fs);
            assert!(out.samples[after..]
                .iter()
                .all(|v| f64::from(v.abs()) < 0.01 * tail));
            assert!(out.samples[..index_of(stim, fs) - 1]
                .iter()
                .all(|&v| v == 0.0));
            // The pulse is there, positive first, with its full height at ≥ 10 kHz.
            let window = &out.samples[index_of(stim, fs) - 1..after];
            let max = window.iter().copied().fold(f32::MIN, f32::max);
            let min = window.iter().copied().fold(f32::MAX, f32::min);
            if fs >= 10_000.0 {
                assert_relative_eq!(f64::from(max), 8.0, max_relative = 1e-6);
                assert_relative_eq!(f64::from(min), -8.0, max_relative = 1e-6);
            } else {
                // A 0.2 ms phase is one 5 kHz sample: box averaging spreads it.
                assert!(f64::from(max) > 0.2 * spec.artifact.amplitude_mv);
                assert!(f64::from(min) < -0.2 * spec.artifact.amplitude_mv);
            }
            // Box averaging keeps the integral (the two phases cancel).
            let integral: f64 = out
                .samples
                .iter()
                .map(|&v| f64::from(v) / fs * 1000.0)
                .sum();
            assert_relative_eq!(
                integral,
                tail * spec.artifact.tail_tau_ms,
                max_relative = 1e-4
            );
        }
    }

    #[test]
    fn artifact_timing_has_sub_sample_precision() {
        let fs = 20_000.0;
        let dt = 1.0 / fs;
        for k in 0..10 {
            let stim = 0.1 + k as f64 * dt / 10.0;
            let mut spec = quiet(fs, vec![TrainSpec::from_gains(stim, 3.0, &[1.0])]);
            spec.cmap.amplitude_mv = 0.0;
            let out = generate(&spec);
            // Zero crossing between the phases, by linear interpolation.
            let s = &out.samples;
            let i = (index_of(stim, fs)..s.len())
                .find(|&i| s[i] > 0.0 && s[i + 1] <= 0.0)
                .unwrap();
            let (a, b) = (f64::from(s[i]), f64::from(s[i + 1]));
            let crossing = (i as f64 + a / (a - b)) / fs;
            let expected = stim + spec.artifact.width_ms / 1000.0;
            assert!(
                (crossing - expected).abs() < 0.25 * dt,
                "offset {k}: {crossing} vs {expected}"
            );
        }
    }

    #[test]
    fn sample_count_of_a_long_recording() {
        let mut spec = SynthSpec::simple(20_000.0, vec![]);
        spec.duration_s = 60.0;
        spec.noise_uv_rms = 25.0;
        spec.hum = Some(HumSpec::default());
        let out = generate(&spec);
        assert_eq!(out.samples.len(), 1_200_000);
        assert!(out.truth.stimuli_s.is_empty());
    }

    #[test]
    fn simple_runs_one_second_past_the_last_stimulus() {
        let spec = SynthSpec::simple(
            10_000.0,
            vec![
                TrainSpec::from_gains(0.5, 3.0, &[1.0; 10]),
                TrainSpec::from_gains(5.0, 50.0, &[1.0; 100]),
            ],
        );
        assert_relative_eq!(spec.duration_s, 5.0 + 99.0 / 50.0 + 1.0, epsilon = 1e-12);
        let out = generate(&spec);
        assert_eq!(out.truth.stimuli_s.len(), 110);
        assert_eq!(out.truth.responses.len(), 110);
        assert!(out.truth.stimuli_s.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(
            out.samples.len(),
            (spec.duration_s * 10_000.0).round() as usize
        );
    }

    #[test]
    fn truth_decrements() {
        let spec = SynthSpec::simple(
            10_000.0,
            vec![TrainSpec::from_gains(0.5, 3.0, &u_shaped_gains(10, 20.0))],
        );
        let truth = generate(&spec).truth;
        assert_relative_eq!(
            truth.amplitude_decrement_pct(0, 4).unwrap(),
            20.0,
            epsilon = 1e-9
        );
        assert_relative_eq!(
            truth.area_decrement_pct(0, 5).unwrap(),
            20.0,
            epsilon = 1e-9
        );
        assert_eq!(truth.amplitude_decrement_pct(0, 11), None);
        assert_eq!(truth.amplitude_decrement_pct(0, 0), None);
        assert_eq!(truth.amplitudes(0).len(), 10);
    }

    #[test]
    fn voluntary_burst_has_its_rms_and_ramps() {
        let fs = 10_000.0;
        let mut spec = quiet(fs, vec![]);
        spec.duration_s = 3.0;
        spec.voluntary = vec![VoluntarySpec {
            start_s: 1.0,
            end_s: 2.0,
            rms_mv: 0.4,
        }];
        let out = generate(&spec);
        let s = &out.samples;
        assert!(s[..index_of(1.0, fs)].iter().all(|&v| v == 0.0));
        assert!(s[index_of(2.0, fs)..].iter().all(|&v| v == 0.0));
        let rms = |r: std::ops::Range<usize>| {
            let len = r.len() as f64;
            (s[r].iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / len).sqrt()
        };
        assert_relative_eq!(
            rms(index_of(1.1, fs)..index_of(1.9, fs)),
            0.4,
            max_relative = 0.05
        );
        // The ramps start from nothing.
        assert!(rms(index_of(1.0, fs)..index_of(1.005, fs)) < 0.05);
        // Band-limited: few sign changes compared with white noise (~fs/2 per s).
        let crossings = s
            .windows(2)
            .filter(|w| (w[0] > 0.0) != (w[1] > 0.0) && w[0] != 0.0 && w[1] != 0.0)
            .count();
        assert!(crossings < 2000, "{crossings} zero crossings in 1 s");
    }

    #[test]
    fn hum_and_wander_have_their_size() {
        let fs = 5_000.0;
        let mut spec = quiet(fs, vec![]);
        spec.duration_s = 10.0;
        spec.hum = Some(HumSpec {
            freq_hz: 50.03,
            amplitude_uv: 100.0,
            harmonic3_ratio: 0.5,
        });
        let out = generate(&spec);
        let rms = (out
            .samples
            .iter()
            .map(|&v| f64::from(v).powi(2))
            .sum::<f64>()
            / out.samples.len() as f64)
            .sqrt();
        assert_relative_eq!(
            rms,
            0.1 / 2.0_f64.sqrt() * 1.25_f64.sqrt(),
            max_relative = 0.01
        );

        spec.hum = None;
        spec.duration_s = 60.0;
        spec.wander = Some(WanderSpec {
            amplitude_uv: 300.0,
            freq_hz: 0.2,
        });
        let out = generate(&spec);
        let peak = out.samples.iter().fold(0.0_f32, |m, v| m.max(v.abs()));
        assert!(
            f64::from(peak) <= 0.3 + 1e-6 && f64::from(peak) > 0.2,
            "{peak}"
        );
    }

    #[test]
    fn nothing_panics_and_everything_is_finite_across_rates() {
        for fs in [
            2_000.0, 5_000.0, 7_919.0, 10_000.0, 20_000.0, 44_100.0, 50_000.0, 100_000.0,
        ] {
            let spec = SynthSpec {
                sample_rate_hz: fs,
                duration_s: 2.5,
                trains: vec![
                    TrainSpec::from_gains(0.05, 3.0, &progressive_gains(6, 15.0)),
                    TrainSpec::from_gains(1.0, 50.0, &incrementing_gains(40, 80.0)),
                    // Runs past the end: the late stimuli are dropped.
                    TrainSpec::from_gains(2.42, 20.0, &[1.0; 10]),
                ],
                noise_uv_rms: 25.0,
                hum: Some(HumSpec::default()),
                wander: Some(WanderSpec::default()),
                voluntary: vec![VoluntarySpec {
                    start_s: 0.5,
                    end_s: 0.9,
                    rms_mv: 1.0,
                }],
                clip_mv: Some(9.0),
                dc_offset_mv: 0.2,
                invert: true,
                latency_jitter_ms: 0.2,
                ..SynthSpec::default()
            };
            let out = generate(&spec);
            assert_eq!(out.samples.len(), (2.5 * fs).round() as usize);
            assert!(out.samples.iter().all(|v| v.is_finite() && v.abs() <= 9.0));
            assert_eq!(out.truth.responses.len(), 6 + 40 + 2);
            assert!(out.to_recording().is_some());
        }
    }

    #[test]
    fn degenerate_specs_do_not_panic() {
        let weird = SynthSpec {
            sample_rate_hz: f64::NAN,
            ..SynthSpec::default()
        };
        assert!(generate(&weird).samples.is_empty());
        let weird = SynthSpec {
            duration_s: -1.0,
            trains: vec![TrainSpec::from_gains(0.0, 0.0, &[1.0, 1.0])],
            ..SynthSpec::default()
        };
        assert!(generate(&weird).samples.is_empty());
        let weird = SynthSpec {
            cmap: CmapShape {
                amplitude_mv: f64::NAN,
                latency_ms: -3.0,
                rise_ms: 50.0,
                negative_duration_ms: 0.0,
                positive_ratio: f64::INFINITY,
                positive_duration_ms: -1.0,
            },
            artifact: ArtifactSpec {
                amplitude_mv: 8.0,
                width_ms: 0.0,
                tail_mv: 1.0,
                tail_tau_ms: 0.0,
                positive_first: false,
            },
            trains: vec![TrainSpec {
                start_s: 0.1,
                rate_hz: 0.0,
                responses: vec![
                    Response {
                        gain: f64::NAN,
                        width: -1.0,
                    };
                    3
                ],
            }],
            clip_mv: Some(f64::NAN),
            voluntary: vec![VoluntarySpec {
                start_s: 0.9,
                end_s: 0.1,
                rms_mv: 1.0,
            }],
            ..SynthSpec::default()
        };
        let out = generate(&weird);
        assert!(out.samples.iter().all(|v| v.is_finite()));
        // Only the first stimulus of a zero-rate train has a finite time.
        assert_eq!(out.truth.responses.len(), 1);
    }

    #[test]
    fn to_recording_is_one_signal_channel() {
        let out = generate(&SynthSpec::simple(
            20_000.0,
            vec![TrainSpec::from_gains(0.2, 3.0, &[1.0])],
        ));
        let rec = out.to_recording().unwrap();
        assert_eq!(rec.len(), out.samples.len());
        assert_eq!(rec.signal_channels().count(), 1);
        assert_eq!(rec.format, SourceFormat::Synthetic);
    }
}
