//! Readers: every supported file becomes a [`Recording`].
//!
//! The reader is chosen by magic bytes first (`RIFF…WAVE`, EDF's `0       `
//! header) and by extension otherwise, as Symphonia's probe does, so a
//! misnamed file is still read correctly. Readers never modify their input.
//!
//! Units: signal channels come out in millivolts. WAV integer samples are
//! scaled to ±1.0 full scale and float samples taken as they are, then
//! multiplied by [`ReadOptions::full_scale_mv`]. CSV values are converted from
//! the unit in their column name (`emg_mV`, `EMG (uV)`, `[µV]`, default mV).

pub mod atomic;
pub mod csv;
pub mod wav;

use crate::error::{Error, Result};
use crate::recording::Recording;
use crate::units::SampleRate;
use std::path::Path;

/// The largest number of samples per channel a reader will decode
/// (about 14 hours at 20 kHz); a larger declared size is an [`Error::Limit`].
pub const MAX_SAMPLES_PER_CHANNEL: u64 = 1 << 30;
/// The largest number of channels a reader accepts.
pub const MAX_CHANNELS: u64 = 256;

/// How a CSV lays out its samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CsvLayout {
    /// Decide from the header and the time column.
    #[default]
    Auto,
    /// One row per sample.
    Continuous,
    /// First column time after stimulus, then one column per response.
    Sweeps,
}

/// Which channels to decode.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ChannelFilter {
    /// Decode every channel.
    #[default]
    All,
    /// Decode only these channel indices (others keep their metadata with
    /// empty samples), to bound memory on long multi-channel files.
    Only(Vec<usize>),
}

impl ChannelFilter {
    /// Whether channel `i` is to be decoded.
    pub fn wants(&self, i: usize) -> bool {
        match self {
            ChannelFilter::All => true,
            ChannelFilter::Only(v) => v.contains(&i),
        }
    }
}

/// Options a reader needs from the user or the protocol sidecar.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadOptions {
    /// Millivolts that full scale (±1.0) of a WAV stands for.
    pub full_scale_mv: f64,
    /// Sample rate for a CSV without a time column.
    pub sample_rate: Option<SampleRate>,
    /// CSV layout override.
    pub layout: CsvLayout,
    /// Channels to decode.
    pub channels: ChannelFilter,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            full_scale_mv: 1.0,
            sample_rate: None,
            layout: CsvLayout::Auto,
            channels: ChannelFilter::All,
        }
    }
}

/// The formats a file may be, as the probe sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probed {
    /// RIFF WAVE.
    Wav,
    /// Delimited text.
    Csv,
    /// EDF / EDF+ / BDF.
    Edf,
}

/// Decide the format from the first bytes, falling back to the extension.
pub fn probe(path: &Path, head: &[u8]) -> Result<Probed> {
    if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WAVE" {
        return Ok(Probed::Wav);
    }
    if head.len() >= 8
        && (&head[0..8] == b"0       " || (head[0] == 0xFF && &head[1..8] == b"BIOSEMI"))
    {
        return Ok(Probed::Edf);
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("wav" | "wave") => Ok(Probed::Wav),
        Some("csv" | "tsv" | "txt") => Ok(Probed::Csv),
        Some("edf" | "bdf") => Ok(Probed::Edf),
        _ => Err(Error::UnsupportedFormat {
            path: path.to_path_buf(),
            reason: "not a WAV, CSV or EDF file (unknown extension and no known signature)".into(),
        }),
    }
}

/// Read a recording from a file, choosing the reader by content and extension.
pub fn read_recording(path: &Path, opts: &ReadOptions) -> Result<Recording> {
    let bytes = std::fs::read(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    if bytes.is_empty() {
        return Err(Error::malformed(path, "file is empty"));
    }
    match probe(path, &bytes[..bytes.len().min(16)])? {
        Probed::Wav => wav::read_wav(path, &bytes, opts),
        Probed::Csv => csv::read_csv(path, &bytes, opts),
        Probed::Edf => Err(Error::UnsupportedFormat {
            path: path.to_path_buf(),
            reason: "EDF/BDF input is not supported yet".into(),
        }),
    }
}
