//! Inputs shared by the benchmarks, generated at bench time (nothing large is
//! committed): the 5-minute 20 kHz session of [`synth::benchmark_session`].

use rns_analyzer::sim::synth::{self, SynthOutput};

/// Sample rate of the benchmark session, Hz.
pub const RATE_HZ: f64 = 20_000.0;

/// The 5-minute 20 kHz benchmark session.
pub fn session() -> SynthOutput {
    synth::generate(&synth::benchmark_session())
}
