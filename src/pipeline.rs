//! One file from path to analysis: the steps every command and the Python
//! package take, in one place.
//!
//! Overview: [`analyze_file`] loads the protocol sidecar (an explicit one, or
//! `<file>.rns.toml` when present), merges it with the caller's
//! [`Overrides`] and the criteria profile into validated [`Settings`]
//! (flag > sidecar > default), reads the recording and analyses it. The
//! `rns` binary and the `rns_analyzer` Python module both call it, so a
//! number cannot differ between them.

use crate::analysis::{self, Analysis, TrainTraces};
use crate::error::Result;
use crate::io::read_recording;
use crate::settings::config::{Overrides, Settings};
use crate::settings::criteria::Criteria;
use crate::settings::protocol::Protocol;
use std::path::Path;

/// The sidecar of `path`: `explicit` for every file, else `<file>.rns.toml`
/// when it exists.
pub fn load_protocol(path: &Path, explicit: Option<&Path>) -> Result<Option<Protocol>> {
    match explicit {
        Some(p) => Ok(Some(Protocol::load(p)?)),
        None => Protocol::load_sidecar_of(path),
    }
}

/// Read and analyse the recording at `path` with `overrides` (over the
/// sidecar, over the defaults) and `criteria`; with `traces`, also keep the
/// response waveforms (for plots and for NumPy arrays). `protocol` is a
/// sidecar to use instead of `<file>.rns.toml`.
pub fn analyze_file(
    path: &Path,
    overrides: &Overrides,
    protocol: Option<&Path>,
    criteria: &Criteria,
    traces: bool,
) -> Result<(Analysis, Vec<TrainTraces>)> {
    let protocol = load_protocol(path, protocol)?;
    let settings = Settings::merge(overrides, protocol.as_ref(), criteria.clone())?;
    let rec = read_recording(path, &settings.read)?;
    let result = if traces {
        analysis::analyze_with_traces(&rec, &settings.analysis)
    } else {
        analysis::analyze(&rec, &settings.analysis).map(|a| (a, Vec::new()))
    };
    // The next file read on this thread reuses the sample buffers.
    crate::io::buffers::recycle(rec);
    result
}
