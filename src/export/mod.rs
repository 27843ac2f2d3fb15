//! Writers: recordings as WAV, CSV and EDF+ bytes (the simulator's outputs,
//! the samples and the test fixtures), and the atomic file write every
//! output goes through.
//!
//! They sit beside the readers of [`io`](crate::io), one layer up: a writer
//! may use a reader's limits, never the other way round.

pub mod atomic;
pub mod csv;
pub mod edf;
pub mod wav;
