//! # rns-analyzer
//!
//! Analysis of repetitive nerve stimulation (RNS) recordings. A recording (WAV,
//! CSV, EDF, EDF+ or BDF) is read into one [`recording::Recording`]; the analysis core finds
//! the stimuli, measures the compound muscle action potential (CMAP) after each,
//! groups them into trains, computes decrement and increment, raises quality
//! flags and reports the pattern (`normal`, `mg_like`, `lems_like`,
//! `indeterminate`) with the findings behind it. It reports patterns, never
//! diagnoses.
//!
//! Layout:
//! - [`units`]: time, frequency and sample-rate types.
//! - [`recording`]: the in-memory recording every reader produces.
//! - [`io`]: readers (WAV, CSV, EDF/EDF+/BDF) chosen by magic bytes or extension.
//! - [`protocol`]: the `<file>.rns.toml` sidecar.
//! - [`criteria`]: thresholds of the interpretation, with their sources.
//! - [`config`]: the validated analysis configuration the core takes.
//! - [`analysis`]: the pure computation (slices of samples + rate → numbers).
//! - [`output`]: JSON, CSV and text renderings of an analysis.
//! - [`report`]: self-contained HTML reports with plots (SVG, PNG).
//! - [`batch`]: a whole folder analysed in parallel, with summary tables.
//! - [`synth`]: a synthetic RNS recording generator with known answers.

pub mod analysis;
pub mod batch;
pub mod config;
pub mod criteria;
pub mod error;
pub mod io;
pub mod output;
pub mod parallel;
pub mod protocol;
pub mod recording;
pub mod report;
pub mod sim;
pub mod synth;
pub mod units;
pub mod vocab;

#[cfg(test)]
mod test_rng;

pub use error::{Error, Result};
