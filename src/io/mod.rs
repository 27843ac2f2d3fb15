//! Readers: every supported file becomes a [`Recording`].
//!
//! The reader is chosen by magic bytes first (`RIFF…WAVE`, EDF's `0       `
//! header, BDF's `0xFF BIOSEMI`, `MATLAB 5.0 MAT-file`, Spike2's `(C) CED
//! 87` and `S64`, Signal's `CEDFILE"`, BrainVision's header line, `ABF `
//! and `ABF2`, the Synergy export's sections) and by extension otherwise, as
//! Symphonia's probe does, so a misnamed file is still read correctly. Readers never
//! modify their input, and open it with [`open_input`]: only a regular file
//! (or a link to one) is read; a FIFO, a device, a socket or a folder is
//! refused at once (a FIFO is never waited on, `/dev/zero` never read).
//!
//! Units: signal channels come out in millivolts. WAV integer samples are
//! scaled to ±1.0 full scale and float samples taken as they are, then
//! multiplied by [`ReadOptions::full_scale_mv`]. CSV values are converted from
//! the unit in their column name (`emg_mV`, `EMG (uV)`, `[µV]`, default mV).
//! EDF/BDF values are scaled from digital to physical by the signal header and
//! converted from its physical dimension (`uV`, `mV`, `V`).
//!
//! Channels are named by a [`ChannelSel`]: an index counting from 0, or a
//! label matched against the file's channel labels (see
//! [`ChannelSel::resolve`](crate::recording::ChannelSel::resolve)). Readers resolve the selectors of a
//! [`ChannelFilter::Select`] once they know the labels.

pub mod abf;
pub mod adicht;
pub mod assemble;
pub mod brainvision;
pub mod buffers;
pub mod cfs;
pub mod csv;
pub mod edf;
pub mod mat;
pub mod spike2;
pub mod text;
pub mod wav;

use crate::error::{Error, Result};
use crate::recording::{ChannelSel, Recording};
use crate::units::SampleRate;
use crate::vocab::CsvLayout;
use std::fs::File;
use std::path::Path;

/// The largest number of samples per channel a reader will decode
/// (about 14 hours at 20 kHz); a larger declared size is an [`Error::Limit`].
pub const MAX_SAMPLES_PER_CHANNEL: u64 = 1 << 30;
/// The largest number of channels a reader accepts.
pub const MAX_CHANNELS: u64 = 256;

/// Which channels to decode.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ChannelFilter {
    /// Decode every channel.
    #[default]
    All,
    /// Decode only these channel indices (others keep their metadata with
    /// empty samples), to bound memory on long multi-channel files.
    Only(Vec<usize>),
    /// Decode the EMG channel the analysis will use (`emg`, or the format's
    /// default EMG channel when `None`) and the `others` named (a trigger
    /// channel). Readers turn this into [`ChannelFilter::Only`] with
    /// [`ChannelFilter::resolve`] once they know the channel labels.
    Select {
        /// The EMG channel, when named.
        emg: Option<ChannelSel>,
        /// Further channels to decode.
        others: Vec<ChannelSel>,
    },
}

impl ChannelFilter {
    /// Whether channel `i` is to be decoded. A [`ChannelFilter::Select`] that
    /// was not resolved wants every channel.
    pub fn wants(&self, i: usize) -> bool {
        match self {
            ChannelFilter::All | ChannelFilter::Select { .. } => true,
            ChannelFilter::Only(v) => v.contains(&i),
        }
    }

    /// Resolve against the file's channel `labels`: an index filter (or
    /// [`ChannelFilter::All`]), and the EMG channel when the filter names one
    /// (a `Select`; `default_emg` stands in for an unnamed EMG channel).
    ///
    /// Errors: an index beyond the channels or a label that matches none is
    /// [`Error::NoSuchChannel`]; an ambiguous label is [`Error::Usage`].
    pub fn resolve(
        &self,
        path: &Path,
        labels: &[&str],
        default_emg: usize,
    ) -> Result<(ChannelFilter, Option<usize>)> {
        match self {
            ChannelFilter::All => Ok((ChannelFilter::All, None)),
            ChannelFilter::Only(v) => {
                if let Some(&bad) = v.iter().find(|&&i| i >= labels.len()) {
                    return Err(Error::NoSuchChannel {
                        path: path.to_path_buf(),
                        channel: bad.to_string(),
                        available: labels.len(),
                    });
                }
                Ok((self.clone(), None))
            }
            ChannelFilter::Select { emg, others } => {
                let e = match emg {
                    Some(sel) => sel.resolve(path, labels)?,
                    None => default_emg,
                };
                let mut idx = vec![e];
                for sel in others {
                    idx.push(sel.resolve(path, labels)?);
                }
                Ok((ChannelFilter::Only(idx), Some(e)))
            }
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
    /// Whether `full_scale_mv` was given (a flag or the sidecar) rather
    /// than the default: an integer WAV read with the default says so
    /// (`full_scale_default`).
    pub full_scale_given: bool,
    /// The voltage unit of CSV value columns whose names carry none
    /// (`--unit`, the sidecar's `unit`); it stands above a header block's
    /// declaration. `None`: the header block's, else mV.
    pub unit: Option<csv::ColumnUnit>,
    /// What the sidecar's `[mat]` table says of a MAT-file's variables.
    pub mat: mat::MatHints,
    /// What the sidecar's `[text]` table says of a text export.
    pub text: text::TextHints,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            full_scale_mv: 1.0,
            sample_rate: None,
            layout: CsvLayout::Auto,
            channels: ChannelFilter::All,
            full_scale_given: false,
            unit: None,
            mat: mat::MatHints::default(),
            text: text::TextHints::default(),
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
    /// MATLAB MAT-file, level 5 or v7.3.
    Mat,
    /// CED Spike2 `.smr` or `.smrx`.
    Spike2,
    /// CED Signal (CFS).
    Cfs,
    /// BrainVision header (`.vhdr`).
    BrainVision,
    /// Axon Binary Format 1 or 2.
    Abf,
    /// ADInstruments LabChart `.adicht`.
    Adicht,
    /// A vendor text export (Synergy, ASCII sweeps) that is no plain CSV.
    VendorText,
}

/// How many bytes of a file the probe looks at.
pub const PROBE_BYTES: usize = 512;

/// Decide the format from the first bytes (up to [`PROBE_BYTES`]), falling
/// back to the extension.
pub fn probe(path: &Path, head: &[u8]) -> Result<Probed> {
    if let Some(p) = probe_magic(head) {
        return Ok(p);
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("wav" | "wave") => Ok(Probed::Wav),
        Some("csv" | "tsv" | "txt" | "asc") if text::sniff(head).is_some() => {
            Ok(Probed::VendorText)
        }
        Some("csv" | "tsv" | "txt") => Ok(Probed::Csv),
        Some("edf" | "bdf") => Ok(Probed::Edf),
        Some("mat") => Ok(Probed::Mat),
        Some("smr" | "smrx") => Ok(Probed::Spike2),
        Some("cfs") => Ok(Probed::Cfs),
        Some("vhdr") => Ok(Probed::BrainVision),
        Some("abf") => Ok(Probed::Abf),
        Some("adicht") => Ok(Probed::Adicht),
        Some("asc") => Ok(Probed::VendorText),
        Some(e @ ("eeg" | "vmrk")) => Err(Error::UnsupportedFormat {
            path: path.to_path_buf(),
            reason: format!(
                "a BrainVision .{e} file is read through its header: give the .vhdr file"
            ),
        }),
        _ => Err(Error::UnsupportedFormat {
            path: path.to_path_buf(),
            reason: "not a recording this tool reads (unknown extension and no known \
                     signature; see SUPPORTED_EXTENSIONS in the user guide)"
                .into(),
        }),
    }
}

/// The format a file's first bytes declare, if they declare one.
fn probe_magic(head: &[u8]) -> Option<Probed> {
    let starts = |m: &[u8]| head.starts_with(m);
    if head.len() >= 12 && starts(b"RIFF") && &head[8..12] == b"WAVE" {
        return Some(Probed::Wav);
    }
    if starts(b"0       ") || (head.len() >= 8 && head[0] == 0xFF && &head[1..8] == b"BIOSEMI") {
        return Some(Probed::Edf);
    }
    if starts(b"MATLAB 5.0 MAT-file") || starts(b"MATLAB 7.3 MAT-file") {
        return Some(Probed::Mat);
    }
    if head.get(2..12) == Some(b"(C) CED 87".as_slice()) || starts(b"S64") {
        return Some(Probed::Spike2);
    }
    if starts(b"CEDFILE\"") {
        return Some(Probed::Cfs);
    }
    if starts(b"ABF ") || starts(b"ABF2") {
        return Some(Probed::Abf);
    }
    let text = head
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(head);
    // "Brain Vision Data Exchange Header File Version 1.0", and the V-Amp
    // and Core variants of the line (as MNE accepts them).
    let first_line = text.split(|&b| b == b'\n').next().unwrap_or(text);
    if (text.starts_with(b"Brain Vision ") || text.starts_with(b"BrainVision "))
        && first_line.windows(11).any(|w| w == b"Header File")
    {
        return Some(Probed::BrainVision);
    }
    if adicht::sniff(head) {
        return Some(Probed::Adicht);
    }
    None
}

/// File extensions the readers accept (lowercase), as [`probe`] knows them.
/// A BrainVision recording is named by its `.vhdr` header (its `.eeg` and
/// `.vmrk` are read through it).
pub const SUPPORTED_EXTENSIONS: &[&str] = &[
    "wav", "wave", "csv", "tsv", "txt", "asc", "edf", "bdf", "mat", "smr", "smrx", "cfs", "vhdr",
    "abf", "adicht",
];

/// Whether a path has a supported extension (case-insensitive). A folder walk
/// (`rns batch`) picks files by this; [`probe`] still decides the format of
/// each by its content.
pub fn is_supported_path(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        SUPPORTED_EXTENSIONS
            .iter()
            .any(|s| e.eq_ignore_ascii_case(s))
    })
}

/// Read a recording from a file, choosing the reader by content and extension.
///
/// Every format is streamed from the file ([`wav::read_wav_file`],
/// [`csv::read_csv_file`], [`edf::read_edf_file`]), so the file is never held
/// whole in memory.
pub fn read_recording(path: &Path, opts: &ReadOptions) -> Result<Recording> {
    read_as(path, opts, false)
}

/// Read a recording to describe it (`rns inspect`): as [`read_recording`],
/// except that an EDF/BDF whose EMG channel (every signal, when none is
/// named) is sampled below the accepted rate is read all the same, at that
/// channel's own rate, with [`Recording::not_analysable`] saying why the
/// analysis refuses it (see [`edf::describe_edf_file`]). Such a recording is
/// for listing only: hand the analysis what [`read_recording`] reads, or call
/// [`Recording::check_analysable`] first.
pub fn describe_recording(path: &Path, opts: &ReadOptions) -> Result<Recording> {
    read_as(path, opts, true)
}

/// Open an input file for reading: every reader opens its file here.
///
/// Only a regular file (or a symbolic link to one) is read. On Unix the file
/// is opened with `O_NONBLOCK` (and `O_NOCTTY`), so that opening a FIFO never
/// waits for a writer, and the opened handle's own metadata (`fstat`, not the
/// path's, so a file swapped after the check cannot slip through) must say
/// it is a regular file. On a regular file `O_NONBLOCK` changes nothing.
///
/// Errors: [`Error::Io`] (exit 3) with the operating system's reason, or
/// `is a FIFO (named pipe)`, `is a character device`, `is a block device`,
/// `is a socket`, `is a directory` (then `, not a regular file`): a device
/// such as `/dev/zero` would never end, a FIFO could block forever.
pub fn open_input(path: &Path) -> Result<File> {
    open_regular(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })
}

/// [`open_input`], and the file's length in bytes (for the readers that
/// check offsets and counts against it before they read).
pub fn open_input_len(path: &Path) -> Result<(File, u64)> {
    let file = open_input(path)?;
    let len = file
        .metadata()
        .map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e,
        })?
        .len();
    Ok((file, len))
}

/// [`open_input`] with the I/O error as it is, for callers that report it
/// their own way (the settings files).
pub fn open_regular(path: &Path) -> std::io::Result<File> {
    let file = open_nonblocking(path).map_err(|e| {
        // A socket cannot be opened at all (ENXIO): say what it is.
        match std::fs::metadata(path) {
            Ok(m) if !m.is_file() => not_regular(&m.file_type()),
            _ => e,
        }
    })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(not_regular(&meta.file_type()));
    }
    Ok(file)
}

/// The most bytes a settings file (protocol sidecar, criteria profile) may
/// hold: real ones hold a few kilobytes.
pub const MAX_SETTINGS_BYTES: u64 = 1 << 20;

/// The text of a settings file, opened as [`open_regular`] opens inputs (so
/// a FIFO or a device given as a sidecar is refused, not waited on) and at
/// most [`MAX_SETTINGS_BYTES`] long.
pub fn read_settings_text(path: &Path) -> std::io::Result<String> {
    let file = open_regular(path)?;
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut std::io::Read::take(file, MAX_SETTINGS_BYTES + 1),
        &mut text,
    )?;
    if text.len() as u64 > MAX_SETTINGS_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {MAX_SETTINGS_BYTES} bytes, the most a settings file may hold"),
        ));
    }
    Ok(text)
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

/// What a file that is not a regular one is, as an I/O error.
fn not_regular(t: &std::fs::FileType) -> std::io::Error {
    let what = if t.is_dir() {
        "a directory"
    } else {
        special_kind(t)
    };
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("is {what}, not a regular file"),
    )
}

#[cfg(unix)]
fn special_kind(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "a special file"
}

fn read_as(path: &Path, opts: &ReadOptions, describe: bool) -> Result<Recording> {
    let io = |e: std::io::Error| Error::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let mut head = Vec::with_capacity(PROBE_BYTES);
    let file = open_input(path)?;
    std::io::Read::read_to_end(
        &mut std::io::Read::take(file, PROBE_BYTES as u64),
        &mut head,
    )
    .map_err(io)?;
    if head.is_empty() {
        return Err(Error::malformed(path, "file is empty"));
    }
    match probe(path, &head)? {
        Probed::Wav => wav::read_wav_file(path, opts),
        Probed::Csv => csv::read_csv_file(path, opts),
        Probed::Edf if describe => edf::describe_edf_file(path, opts),
        Probed::Edf => edf::read_edf_file(path, opts),
        Probed::Mat => mat::read_mat_file(path, opts),
        Probed::Spike2 => spike2::read_spike2_file(path, opts),
        Probed::Cfs if describe => cfs::describe_cfs_file(path, opts),
        Probed::Cfs => cfs::read_cfs_file(path, opts),
        Probed::BrainVision => brainvision::read_brainvision_file(path, opts),
        Probed::Abf => abf::read_abf_file(path, opts),
        Probed::Adicht if describe => adicht::describe_adicht_file(path, opts),
        Probed::Adicht => adicht::read_adicht_file(path, opts),
        Probed::VendorText => text::read_text_file(path, opts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_are_opened() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.csv");
        std::fs::write(&file, b"time_s,emg\n").unwrap();
        assert!(open_input(&file).is_ok());
        let e = open_input(dir.path()).unwrap_err().to_string();
        assert!(
            e.ends_with("cannot read file: is a directory, not a regular file"),
            "{e}"
        );
        let e = open_input(&dir.path().join("missing.csv")).unwrap_err();
        assert!(matches!(e, Error::Io { .. }), "{e}");
        #[cfg(unix)]
        {
            let e = open_input(Path::new("/dev/null")).unwrap_err().to_string();
            assert!(
                e.ends_with("is a character device, not a regular file"),
                "{e}"
            );
        }
    }

    #[test]
    fn a_settings_file_is_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("x.rns.toml");
        std::fs::write(&f, "muscle = \"ADM\"\n").unwrap();
        assert_eq!(read_settings_text(&f).unwrap(), "muscle = \"ADM\"\n");
        std::fs::write(&f, vec![b'#'; MAX_SETTINGS_BYTES as usize + 1]).unwrap();
        let e = read_settings_text(&f).unwrap_err().to_string();
        assert!(e.contains("larger than 1048576 bytes"), "{e}");
        assert!(read_settings_text(dir.path()).is_err());
    }
}
