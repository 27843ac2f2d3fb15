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
//! Layers, lowest first (a module names only lower layers; the integration
//! test `layers` keeps it so):
//! - [`units`], [`vocab`] (the domain's words as enums), [`parallel`],
//!   [`study`] (the study's and the patient's identity); then
//!   [`error`].
//! - [`recording`]: the in-memory recording every reader produces.
//! - [`io`]: readers (WAV, CSV, EDF/EDF+/BDF) chosen by magic bytes or extension.
//! - [`export`]: writers (WAV, CSV, EDF+) and atomic output; [`settings`]:
//!   the sidecar, the criteria profile and the validated configuration.
//! - [`analysis`]: the pure computation (slices of samples + rate → numbers);
//!   [`sim`]: the physiological simulator and the synthetic generator.
//! - [`output`]: JSON, CSV, text and inspect renderings of an analysis;
//!   [`pipeline`]: one file from path to analysis (sidecar, settings, read,
//!   analyse), as every command and the Python package run it.
//! - [`report`]: self-contained HTML reports with plots (SVG, PNG).
//! - [`batch`]: a whole folder analysed in parallel, with summary tables;
//!   [`combine`]: a study of several files (per muscle, one summary).
//!
//! The `rns` binary (`src/bin/rns/`) parses the command line (clap) and
//! calls these; the library itself has no command-line dependency.

#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod analysis;
pub mod batch;
pub mod combine;
pub mod error;
pub mod export;
pub mod io;
pub mod output;
pub mod parallel;
pub mod pipeline;
pub mod recording;
pub mod report;
pub mod settings;
pub mod sim;
pub mod study;
pub mod units;
pub mod vocab;

#[cfg(test)]
mod test_rng;

pub use error::{Error, Result};

/// The version of this crate, as `rns --version` and every JSON's `tool.version` give it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
