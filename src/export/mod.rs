//! Writers: recordings as WAV, CSV and EDF+ bytes (the simulator's outputs,
//! the samples and the test fixtures), the atomic file write every output
//! goes through, the guard that keeps outputs off the inputs, and the
//! output folder held for a run.
//!
//! They sit beside the readers of [`io`](crate::io), one layer up: a writer
//! may use a reader's limits, never the other way round.

pub mod atomic;
pub mod csv;
pub mod edf;
pub mod guard;
pub mod outdir;
pub mod wav;
