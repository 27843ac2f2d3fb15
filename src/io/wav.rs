//! WAV (RIFF WAVE) reader and writer.
//!
//! Overview: [`read_wav`] turns the bytes of a WAV file into a [`Recording`]
//! with every channel in millivolts; [`encode_wav`](crate::export::wav::encode_wav) does the reverse for the
//! synthetic generator and tests; [`read_wav_file`] reads a file from disk
//! through a small buffer, so the file is never held whole in memory. `hound`
//! parses and validates the header; the samples are decoded here, a buffer of
//! frames at a time (hound's sample-by-sample iterator is several times
//! slower), as hound would decode them, except for the valid bits of a
//! `WAVE_FORMAT_EXTENSIBLE` container (below).
//!
//! Accepted input: 8/16/24/32-bit integer PCM (24-bit also in a 4-byte
//! container) and 32-bit IEEE float, 1 to [`MAX_WAV_CHANNELS`] channels, a
//! sample rate within [`SampleRate::MIN_HZ`]..=[`SampleRate::MAX_HZ`].
//!
//! Containers: a `WAVE_FORMAT_EXTENSIBLE` integer fmt chunk whose valid bits
//! (`wValidBitsPerSample`) are fewer than its container's (`wBitsPerSample`:
//! 24 valid bits in 32, 20 in 24) holds them at the most significant end of
//! the container, the unused low bits zero, as Microsoft's specification of
//! `WAVEFORMATEXTENSIBLE` says; such a sample is read as a sample of the
//! container's width, so full scale is the container's. A plain PCM header
//! declaring 24 bits in 4-byte blocks, which no specification covers, is
//! read from the low 3 bytes, as hound reads it.
//!
//! Scaling: integer samples are divided by 2^(bits−1) so full scale is ±1.0;
//! float samples are taken as they are; both are then multiplied by
//! [`ReadOptions::full_scale_mv`]. Channels are labelled `ch0`, `ch1`, … with
//! unit `"mV"` and kind [`ChannelKind::Signal`]: which one carries the trigger
//! is decided later by the analysis configuration, not here.
//!
//! Channel filter: only channels the filter wants (after
//! [`ChannelFilter::resolve`](crate::io::ChannelFilter::resolve) against the
//! labels `ch0`, `ch1`, …; the default EMG channel is 0) are decoded and
//! checked for non-finite values; the others keep their metadata and `len`
//! with empty `samples`. Asking for a channel the file lacks is
//! [`Error::NoSuchChannel`].
//!
//! Truncated files: when the data chunk declares more bytes than the file
//! holds (a recorder that stopped writing, a cut-off copy), the whole frames
//! that are present are decoded **if the bytes present form a whole number of
//! frames**; otherwise the file is rejected with
//! `truncated data chunk: declared N bytes, file holds M …`. A data chunk
//! with no complete frame is always an error. The recovery leaves a
//! `truncated_file` [`ReadNote`] in the [`Recording`], which the analysis
//! reports as a warning.
//!
//! Unset size: a data chunk whose size field is `0xFFFFFFFF` ([`SIZE_UNSET`],
//! what a streaming writer leaves, or a recorder that never closed the file)
//! runs to the end of the file; its whole frames are read if the bytes to the
//! end form a whole number of frames (otherwise the file is rejected, naming
//! both), with a `truncated_file` note saying the size was never filled in
//! and the end of the recording may be missing.
//!
//! Chunks: the RIFF chunks before the data chunk are walked here, skipping
//! the pad byte that follows an odd-sized chunk (RIFF aligns chunks to two
//! bytes; hound does not skip it and misreads every chunk after an odd one),
//! and any other chunk (`LIST`, `fact`, `bext`, …) whatever its size. hound
//! then validates the `fmt ` chunk. Two fmt chunks that differ are an error
//! (which one describes the samples cannot be told); an identical copy is
//! skipped. At most [`MAX_CHUNKS`] chunks are looked at; a file laid out
//! otherwise is left to hound, which names what it finds wrong.

use crate::error::{Error, Result};
use crate::io::{ReadOptions, MAX_SAMPLES_PER_CHANNEL};
use crate::recording::{Channel, ChannelKind, ReadNote, Recording, SourceFormat, Storage};
use crate::units::{SampleRate, Shown};
use crate::vocab::{FlagCode, SampleEncoding};
use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::Path;

/// The largest number of channels a WAV may have (EMG amplifiers exporting
/// WAV rarely have more; a larger count is far more likely a corrupt header).
pub const MAX_WAV_CHANNELS: u16 = 8;

/// Read a WAV file from its bytes.
///
/// `path` is used only in error messages and copied into the recording.
/// Errors: [`Error::Malformed`] for a bad header, a truncated data chunk, a
/// non-finite float sample or an out-of-range sample rate;
/// [`Error::UnsupportedFormat`] for a sample encoding other than those listed
/// in the module doc; [`Error::Limit`] for too many channels or samples;
/// [`Error::Usage`] for a non-positive `full_scale_mv`.
pub fn read_wav(path: &Path, bytes: &[u8], opts: &ReadOptions) -> Result<Recording> {
    read_wav_from(path, &mut Cursor::new(bytes), bytes.len() as u64, opts)
}

/// Read a WAV file from disk, streaming its data chunk through a small
/// buffer: the file is never held whole in memory, so the peak is the decoded
/// channels. Same result and errors as [`read_wav`] on the file's bytes, plus
/// [`Error::Io`] when the file cannot be opened or read.
pub fn read_wav_file(path: &Path, opts: &ReadOptions) -> Result<Recording> {
    let io = |e: std::io::Error| Error::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let file = super::open_input(path)?;
    let len = file.metadata().map_err(io)?.len();
    read_wav_from(
        path,
        &mut BufReader::with_capacity(1 << 16, file),
        len,
        opts,
    )
}

/// The reader behind [`read_wav`] and [`read_wav_file`]: `r` is positioned
/// at the start of the file, which is `total_len` bytes long.
///
/// The stages run in the order their errors are reported: the full scale,
/// the header, the channels, the sample rate and encoding, the data chunk's
/// layout, the frames the file holds, then the samples.
fn read_wav_from<R: Read + Seek>(
    path: &Path,
    r: &mut R,
    total_len: u64,
    opts: &ReadOptions,
) -> Result<Recording> {
    let full_scale = check_full_scale(opts.full_scale_mv)?;
    let header = read_header(path, r, total_len)?;
    let spec = header.spec;
    let n_channels = check_channel_count(path, spec.channels)?;
    let labels: Vec<String> = (0..n_channels).map(|i| format!("ch{i}")).collect();
    let label_refs: Vec<&str> = labels.iter().map(String::as_str).collect();
    // The default EMG channel of a WAV is channel 0.
    let (filter, _) = opts.channels.resolve(path, &label_refs, 0)?;
    let rate = sample_rate(path, spec.sample_rate)?;
    let kind = SampleKind::from_spec(path, spec)?;
    let chunk = DataChunk::locate(path, r, &header, kind)?;
    let mut notes = Vec::new();
    let frames = chunk.frames_held(path, total_len, rate, &mut notes)?;

    let nch = usize::from(n_channels);
    let wanted: Vec<bool> = (0..nch).map(|c| filter.wants(c)).collect();
    // `container_bytes` is 1–4 (checked by `DataChunk::locate`), so this cast is exact.
    let layout = FrameLayout {
        channels: nch,
        container: chunk.container_bytes as usize,
    };
    let data = decode_wanted(path, r, frames, layout, kind, full_scale, &wanted)?;
    let storage = kind.storage(full_scale, opts.full_scale_given);
    if let Some(note) = full_scale_default(&storage) {
        notes.push(note);
    }
    let mut rec = build_recording(path, rate, labels, frames, data, notes);
    rec.storage = Some(storage);
    Ok(rec)
}

/// `full_scale_default` (warning): an integer WAV read with the default full
/// scale. Its samples are fractions of full scale; without the millivolts
/// full scale stands for, every amplitude is in those units, and a normal
/// range or a CMAP's plausible size cannot be checked.
fn full_scale_default(s: &Storage) -> Option<ReadNote> {
    (s.sample_format == SampleEncoding::Integer && !s.full_scale_given).then(|| {
        ReadNote::warning(
            FlagCode::FullScaleDefault,
            format!(
                "{}-bit integer WAV read with the default full scale (±{} mV): amplitudes are in units of full scale, not millivolts; give --full-scale-mv or full_scale_mv in the sidecar",
                s.bits_per_sample,
                Shown(s.full_scale_mv)
            ),
        )
    })
}

/// The full scale option, refused unless a positive number of millivolts.
fn check_full_scale(full_scale: f64) -> Result<f64> {
    if !(full_scale.is_finite() && full_scale > 0.0) {
        return Err(Error::Usage(format!(
            "full scale must be a positive number of millivolts, got {}",
            Shown(full_scale)
        )));
    }
    Ok(full_scale)
}

/// What the header declares, as hound validated it.
struct Header {
    spec: hound::WavSpec,
    /// Samples of all channels together that the data chunk declares.
    declared_samples: u32,
    /// Offset of the data chunk's first byte.
    data_start: u64,
    /// The data chunk's length as validated, when the chunks were walked
    /// here (for an unset size, the whole frames to the end of the file).
    data_len: Option<u32>,
    /// The data chunk's size field is [`SIZE_UNSET`].
    size_unset: bool,
}

/// The data chunk size a writer leaves when it streams and never comes back
/// to fill it in (or a recorder that never closed the file): the data then
/// run to the end of the file.
pub const SIZE_UNSET: u32 = u32::MAX;

/// Parse and validate the header with hound, leaving `r` at the first byte
/// of the data chunk: that offset tells how many data bytes the file really
/// holds (hound itself trusts the declared length). The samples are decoded
/// here later, a buffer at a time: hound's sample-by-sample iterator is
/// several times slower.
fn read_header<R: Read + Seek>(path: &Path, r: &mut R, total_len: u64) -> Result<Header> {
    let (spec, declared_samples, data_len, size_unset) = match walk_chunks(path, r, total_len)? {
        // hound reads the fmt chunk from a canonical header (so no chunk
        // before the data can trip it up); the reader goes to the data.
        Some(c) => {
            let reader = hound::WavReader::new(Cursor::new(c.canonical_header()))
                .map_err(|e| hound_error(path, e))?;
            r.seek(SeekFrom::Start(c.data_start))
                .map_err(|e| cut_short(path, &e))?;
            let mut spec = reader.spec();
            if let Some(bits) = c.left_justified_container_bits() {
                spec.bits_per_sample = bits;
            }
            (spec, reader.len(), Some(c.data_len), c.size_unset)
        }
        None => {
            r.seek(SeekFrom::Start(0))
                .map_err(|e| cut_short(path, &e))?;
            let reader = hound::WavReader::new(&mut *r).map_err(|e| hound_error(path, e))?;
            (reader.spec(), reader.len(), None, false)
        }
    };
    let data_start = r.stream_position().map_err(|e| cut_short(path, &e))?;
    Ok(Header {
        spec,
        declared_samples,
        data_start,
        data_len,
        size_unset,
    })
}

/// The channel count, refused above [`MAX_WAV_CHANNELS`] or at zero.
fn check_channel_count(path: &Path, n_channels: u16) -> Result<u16> {
    if n_channels > MAX_WAV_CHANNELS {
        return Err(Error::Limit {
            path: path.to_path_buf(),
            what: "number of WAV channels".into(),
            value: u64::from(n_channels),
            limit: u64::from(MAX_WAV_CHANNELS),
        });
    }
    // hound already rejects zero channels; keep the guard so the divisions
    // in `DataChunk::locate` can never be by zero whatever hound does.
    if n_channels == 0 {
        return Err(Error::malformed(path, "WAV header declares zero channels"));
    }
    Ok(n_channels)
}

/// The header's sample rate, refused outside the accepted range.
fn sample_rate(path: &Path, hz: u32) -> Result<SampleRate> {
    SampleRate::new(f64::from(hz)).ok_or_else(|| {
        Error::malformed(
            path,
            format!(
                "sample rate {hz} Hz is outside the accepted range {}–{} Hz",
                SampleRate::MIN_HZ,
                SampleRate::MAX_HZ
            ),
        )
    })
}

/// The data chunk as declared: its length and how its frames are laid out.
struct DataChunk {
    /// Offset of the chunk's first byte.
    start: u64,
    /// Its size field is [`SIZE_UNSET`]: the data run to the end of the file.
    size_unset: bool,
    /// Its declared length, bytes.
    declared_bytes: u32,
    /// Its declared length, frames (at least 1).
    declared_frames: u64,
    bytes_per_frame: u64,
    /// Bytes per sample container (1–4, as `kind` needs).
    container_bytes: u64,
}

impl DataChunk {
    /// Read the declared length and derive the frame layout, checking that
    /// the chunk declares a sample and that `kind` fits its containers.
    /// `r` is left at the first data byte.
    fn locate<R: Read + Seek>(
        path: &Path,
        r: &mut R,
        header: &Header,
        kind: SampleKind,
    ) -> Result<DataChunk> {
        let n_channels = u64::from(header.spec.channels);
        let data_start = header.data_start;
        let declared_frames = u64::from(header.declared_samples) / n_channels;
        if declared_frames == 0 {
            return Err(Error::malformed(path, "WAV data chunk holds no samples"));
        }
        // The data chunk length sits in the 4 bytes just before the data (or
        // came from the chunk walk); hound guarantees it is a whole number of
        // frames, so bytes per frame follow.
        let declared_bytes = header
            .data_len
            .or_else(|| {
                data_start.checked_sub(4).and_then(|at| {
                    let mut len = [0u8; 4];
                    // Seek back to the data afterwards: a buffered reader then reads
                    // the data straight into the decode buffer (no second copy).
                    r.seek(SeekFrom::Start(at))
                        .and_then(|_| r.read_exact(&mut len))
                        .and_then(|()| r.seek(SeekFrom::Start(data_start)))
                        .ok()
                        .map(|_| u32::from_le_bytes(len))
                })
            })
            .ok_or_else(|| Error::malformed(path, "cannot locate the WAV data chunk length"))?;
        let bytes_per_frame = u64::from(declared_bytes) / declared_frames;
        let container_bytes = bytes_per_frame / n_channels;
        if !kind.container_ok(container_bytes) {
            return Err(Error::UnsupportedFormat {
                path: path.to_path_buf(),
                reason: format!(
                    "{}-bit samples stored in {container_bytes}-byte containers",
                    header.spec.bits_per_sample
                ),
            });
        }
        Ok(DataChunk {
            start: data_start,
            size_unset: header.size_unset,
            declared_bytes,
            declared_frames,
            bytes_per_frame,
            container_bytes,
        })
    }

    /// The frames to decode from a `total_len`-byte file: all that are
    /// declared, or the whole frames present when the file is cut on a
    /// frame boundary (the documented recovery, with its note in `notes`);
    /// any other truncation and a count beyond the limit are errors.
    fn frames_held(
        &self,
        path: &Path,
        total_len: u64,
        rate: SampleRate,
        notes: &mut Vec<ReadNote>,
    ) -> Result<usize> {
        let (declared_bytes, bytes_per_frame) = (self.declared_bytes, self.bytes_per_frame);
        let held_bytes = total_len.saturating_sub(self.start);
        let frames = if self.size_unset {
            // The data run to the end of the file, in whole frames.
            if !held_bytes.is_multiple_of(bytes_per_frame) || held_bytes == 0 {
                return Err(Error::malformed(
                    path,
                    format!(
                        "the data chunk's size is 0xFFFFFFFF (never filled in), and the \
                         {held_bytes} bytes to the end of the file are not a whole number of \
                         {bytes_per_frame}-byte frames"
                    ),
                ));
            }
            let frames = held_bytes / bytes_per_frame;
            notes.push(unset_size_note(held_bytes, frames, rate));
            frames
        } else if held_bytes >= u64::from(declared_bytes) {
            self.declared_frames
        } else if held_bytes.is_multiple_of(bytes_per_frame) && held_bytes > 0 {
            // Documented recovery: the file stops cleanly on a frame boundary.
            let frames = held_bytes / bytes_per_frame;
            notes.push(truncation_note(declared_bytes, held_bytes, frames, rate));
            frames
        } else if held_bytes < bytes_per_frame {
            return Err(Error::malformed(
                path,
                format!(
                    "truncated data chunk: declared {declared_bytes} bytes, file holds {held_bytes} \
                     (not one whole {bytes_per_frame}-byte frame)"
                ),
            ));
        } else {
            return Err(Error::malformed(
                path,
                format!(
                    "truncated data chunk: declared {declared_bytes} bytes, file holds {held_bytes} \
                     (not a whole number of {bytes_per_frame}-byte frames)"
                ),
            ));
        };
        let limit = || Error::Limit {
            path: path.to_path_buf(),
            what: "samples per channel".into(),
            value: frames,
            limit: MAX_SAMPLES_PER_CHANNEL,
        };
        if frames > MAX_SAMPLES_PER_CHANNEL {
            return Err(limit());
        }
        // Both bounds above keep this within usize on any platform we build for.
        usize::try_from(frames).map_err(|_| limit())
    }
}

/// The `truncated_file` note of a file cut cleanly after `frames` whole frames.
fn truncation_note(
    declared_bytes: u32,
    held_bytes: u64,
    frames: u64,
    rate: SampleRate,
) -> ReadNote {
    // Rounded so the message reads "0.7 s", not "0.7000000000000001 s".
    let seconds = (frames as f64 / rate.hz() * 1e6).round() / 1e6;
    ReadNote::warning(
        FlagCode::TruncatedFile,
        format!(
            "truncated file: the data chunk declares {declared_bytes} bytes, the file holds \
             {held_bytes}; read the {frames} whole frames present ({seconds} s), the rest \
             of the recording is missing"
        ),
    )
}

/// The `truncated_file` note of a data chunk whose size was never filled in,
/// read to the end of the file (`frames` whole frames in `held_bytes`).
fn unset_size_note(held_bytes: u64, frames: u64, rate: SampleRate) -> ReadNote {
    let seconds = (frames as f64 / rate.hz() * 1e6).round() / 1e6;
    ReadNote::warning(
        FlagCode::TruncatedFile,
        format!(
            "the data chunk's size is 0xFFFFFFFF (never filled in: a streaming writer, or a \
             recorder that did not close the file); read the {frames} whole frames to the end \
             of the file ({held_bytes} bytes, {seconds} s); the end of the recording may be \
             missing"
        ),
    )
}

/// Decode `frames` frames into the `wanted` channels (room for all of them
/// taken up front); the other channels stay empty.
fn decode_wanted<R: Read>(
    path: &Path,
    r: &mut R,
    frames: usize,
    layout: FrameLayout,
    kind: SampleKind,
    full_scale: f64,
    wanted: &[bool],
) -> Result<Vec<Vec<f32>>> {
    let mut data: Vec<Vec<f32>> = wanted
        .iter()
        .map(|&w| {
            if w {
                super::buffers::take(frames)
            } else {
                Vec::new()
            }
        })
        .collect();
    decode_frames(path, r, frames, layout, kind, full_scale, wanted, &mut data)?;
    Ok(data)
}

/// The recording: one continuous segment, a millivolt signal channel per
/// label (undecoded channels keep their length with no samples).
fn build_recording(
    path: &Path,
    rate: SampleRate,
    labels: Vec<String>,
    frames: usize,
    data: Vec<Vec<f32>>,
    notes: Vec<ReadNote>,
) -> Recording {
    let channels = data
        .into_iter()
        .zip(labels)
        .enumerate()
        .map(|(index, (samples, label))| Channel {
            index,
            label,
            unit: "mV".into(),
            kind: ChannelKind::Signal,
            len: frames,
            sample_rate_hz: None,
            samples,
        })
        .collect();
    Recording {
        path: path.to_path_buf(),
        format: SourceFormat::Wav,
        sample_rate: rate,
        channels,
        segments: Recording::continuous_segments(frames),
        stimuli: None,
        annotations: Vec::new(),
        notes,
        intensities: None,
        metadata: Vec::new(),
        not_analysable: None,
        storage: None,
        study: Default::default(),
    }
}

/// The most RIFF chunks `walk_chunks` looks at before the data chunk: real
/// files have a handful (`fmt `, `fact`, `LIST`, `bext`, …).
pub const MAX_CHUNKS: usize = 1024;

/// Where the chunks the reader needs sit in the file.
struct Chunks {
    /// The `fmt ` chunk's body (at most 1 KiB; real ones have 16–40 bytes).
    fmt: Vec<u8>,
    /// Offset of the data chunk's first byte.
    data_start: u64,
    /// The data chunk's length, bytes, as hound is to validate it: as
    /// declared, or for an unset size the whole frames to the end of the file.
    data_len: u32,
    /// The data chunk's size field is [`SIZE_UNSET`].
    size_unset: bool,
}

impl Chunks {
    /// A minimal WAV header, `RIFF…WAVE`, the fmt chunk and the data chunk's
    /// header, for hound to validate. hound does not check the RIFF size.
    fn canonical_header(&self) -> Vec<u8> {
        let mut h = Vec::with_capacity(self.fmt.len() + 28);
        h.extend_from_slice(b"RIFF");
        h.extend_from_slice(&u32::MAX.to_le_bytes());
        h.extend_from_slice(b"WAVEfmt ");
        // At most 1 KiB (see `walk_chunks`), so the cast is exact.
        h.extend_from_slice(&(self.fmt.len() as u32).to_le_bytes());
        h.extend_from_slice(&self.fmt);
        h.extend_from_slice(b"data");
        h.extend_from_slice(&self.data_len.to_le_bytes());
        h
    }

    /// The container size in bits of a `WAVE_FORMAT_EXTENSIBLE` integer PCM
    /// fmt chunk whose valid bits are fewer (24 valid bits in a 32-bit
    /// container). The specification of `WAVEFORMATEXTENSIBLE` puts the
    /// valid bits at the most significant end of the container (left
    /// justified, the unused low bits zero), so such a sample is read as a
    /// sample of the container's width: its full scale is the container's.
    /// hound instead reports the valid bits and would take the low bytes.
    fn left_justified_container_bits(&self) -> Option<u16> {
        let f = &self.fmt;
        let u16_at = |i: usize| u16::from_le_bytes([f[i], f[i + 1]]);
        if f.len() < 40 || u16_at(0) != 0xFFFE || u16_at(24) != 1 {
            return None;
        }
        let (container, valid) = (u16_at(14), u16_at(18));
        (valid > 0 && valid < container && matches!(container, 16 | 24 | 32)).then_some(container)
    }
}

/// What a fmt chunk body says, for a message: channels, rate, bits.
fn describe_fmt(fmt: &[u8]) -> String {
    if fmt.len() < 16 {
        return format!("a {}-byte fmt chunk", fmt.len());
    }
    let u16_at = |i: usize| u16::from_le_bytes([fmt[i], fmt[i + 1]]);
    let rate = u32::from_le_bytes([fmt[4], fmt[5], fmt[6], fmt[7]]);
    format!("{} channel(s) at {rate} Hz, {}-bit", u16_at(2), u16_at(14))
}

/// Walk the RIFF chunks of a `total_len`-byte file to the data chunk,
/// skipping the pad byte after each odd-sized chunk. `Ok(None)` when the
/// file is not `RIFF…WAVE` with a fmt chunk of at most 1 KiB before a data
/// chunk within [`MAX_CHUNKS`] chunks, or cannot be read: hound then parses
/// it as it is and reports the problem. Two fmt chunks that differ are an
/// error: which one describes the data cannot be told, and the wrong one
/// (another rate, another channel count) would give a plausible but wrong
/// signal. An identical copy is harmless.
fn walk_chunks<R: Read + Seek>(path: &Path, r: &mut R, total_len: u64) -> Result<Option<Chunks>> {
    let mut head = [0u8; 12];
    if r.seek(SeekFrom::Start(0)).is_err() || r.read_exact(&mut head).is_err() {
        return Ok(None);
    }
    if &head[0..4] != b"RIFF" || &head[8..12] != b"WAVE" {
        return Ok(None);
    }
    let mut pos = 12u64;
    let mut fmt: Option<(u64, Vec<u8>)> = None;
    for _ in 0..MAX_CHUNKS {
        let mut h = [0u8; 8];
        if r.seek(SeekFrom::Start(pos)).is_err() || r.read_exact(&mut h).is_err() {
            return Ok(None);
        }
        let len = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
        let body = pos + 8;
        match &h[0..4] {
            b"data" => {
                let Some((_, fmt)) = fmt else {
                    return Ok(None);
                };
                return Ok(Some(data_chunk(fmt, body, len, total_len)));
            }
            b"fmt " => {
                if len > 1024 {
                    return Ok(None);
                }
                let mut b = vec![0u8; len as usize];
                if r.read_exact(&mut b).is_err() {
                    return Ok(None);
                }
                match &fmt {
                    Some((at, first)) if *first != b => {
                        return Err(Error::malformed(
                            path,
                            format!(
                                "two fmt chunks that disagree (at bytes {at} and {pos}: {}, then \
                                 {}): which one describes the samples cannot be told",
                                describe_fmt(first),
                                describe_fmt(&b)
                            ),
                        ));
                    }
                    Some(_) => {}
                    None => fmt = Some((pos, b)),
                }
            }
            _ => {}
        }
        pos = body + u64::from(len) + u64::from(len & 1);
        if pos >= total_len {
            return Ok(None);
        }
    }
    Ok(None)
}

/// The chunks once the data chunk is found at `data_start` with size field
/// `len`: an unset size ([`SIZE_UNSET`]) stands for the whole frames (of the
/// fmt chunk's block align) from there to the end of the file, at least one
/// frame so that hound validates the header (the frames the file holds are
/// counted later).
fn data_chunk(fmt: Vec<u8>, data_start: u64, len: u32, total_len: u64) -> Chunks {
    let size_unset = len == SIZE_UNSET;
    let data_len = if size_unset && fmt.len() >= 14 {
        let align = u64::from(u16::from_le_bytes([fmt[12], fmt[13]])).max(1);
        let held = total_len
            .saturating_sub(data_start)
            .min(u64::from(u32::MAX));
        // At most u32::MAX, so the cast is exact.
        ((held / align).max(1) * align).min(u64::from(u32::MAX) / align * align) as u32
    } else {
        len
    };
    Chunks {
        fmt,
        data_start,
        data_len,
        size_unset,
    }
}

/// The sample encodings the reader accepts.
#[derive(Debug, Clone, Copy)]
enum SampleKind {
    /// Integer PCM with this many significant bits (8, 16, 24 or 32).
    Int { bits: u16 },
    /// 32-bit IEEE float.
    Float,
}

impl SampleKind {
    /// What the file stores, with the full scale it was read with.
    fn storage(self, full_scale_mv: f64, full_scale_given: bool) -> Storage {
        let (bits_per_sample, sample_format) = match self {
            SampleKind::Int { bits } => (bits, SampleEncoding::Integer),
            SampleKind::Float => (32, SampleEncoding::Float),
        };
        Storage {
            bits_per_sample,
            sample_format,
            full_scale_mv,
            full_scale_given,
        }
    }

    fn from_spec(path: &Path, spec: hound::WavSpec) -> Result<Self> {
        match (spec.sample_format, spec.bits_per_sample) {
            (hound::SampleFormat::Int, bits @ (8 | 16 | 24 | 32)) => Ok(SampleKind::Int { bits }),
            (hound::SampleFormat::Float, 32) => Ok(SampleKind::Float),
            (fmt, bits) => Err(Error::UnsupportedFormat {
                path: path.to_path_buf(),
                reason: format!(
                    "{bits}-bit {} samples (supported: 8/16/24/32-bit integer, 32-bit float)",
                    match fmt {
                        hound::SampleFormat::Int => "integer",
                        hound::SampleFormat::Float => "float",
                    }
                ),
            }),
        }
    }

    /// Whether this encoding can be decoded from containers of `bytes` bytes
    /// (checked up front so a mismatch is one clear message, not a failure at
    /// the first sample).
    fn container_ok(self, bytes: u64) -> bool {
        match self {
            SampleKind::Int { bits: 8 } => bytes == 1,
            SampleKind::Int { bits: 16 } => bytes == 2,
            SampleKind::Int { bits: 24 } => bytes == 3 || bytes == 4,
            SampleKind::Int { bits: 32 } | SampleKind::Float => bytes == 4,
            SampleKind::Int { .. } => false,
        }
    }
}

/// How interleaved samples sit in the data chunk.
#[derive(Debug, Clone, Copy)]
struct FrameLayout {
    /// Channels per frame.
    channels: usize,
    /// Bytes per sample container (1–4).
    container: usize,
}

/// Bytes read from the data chunk at a time (rounded down to whole frames):
/// small enough to stay in cache, large enough that reading costs little.
const CHUNK_BYTES: usize = 1 << 16;

/// Decode `frames` interleaved frames from `r` (at the first data byte) into
/// the wanted channels of `data`, scaled to millivolts, as hound reads them:
/// 8-bit unsigned with offset 128, 16/24/32-bit signed little-endian (24-bit
/// in 3 bytes, or sign-extended from the low 3 of 4), 32-bit IEEE float.
/// Integers are divided by 2^(bits−1) in f64, so 32-bit samples keep their
/// precision before the final rounding to f32. A non-finite result is an
/// error naming the first such sample (frame order, then channel order): a
/// NaN would poison every later filter and measurement.
#[allow(clippy::too_many_arguments)]
fn decode_frames<R: Read>(
    path: &Path,
    r: &mut R,
    frames: usize,
    layout: FrameLayout,
    kind: SampleKind,
    full_scale: f64,
    wanted: &[bool],
    data: &mut [Vec<f32>],
) -> Result<()> {
    let bpf = layout.channels * layout.container;
    let per_chunk = (CHUNK_BYTES / bpf).max(1);
    let mut buf = vec![0u8; per_chunk * bpf];
    let mut done = 0usize;
    while done < frames {
        let n = per_chunk.min(frames - done);
        let chunk = &mut buf[..n * bpf];
        r.read_exact(chunk).map_err(|e| cut_short(path, &e))?;
        let mut first_bad: Option<(usize, usize, f32)> = None;
        for (ch, out) in data.iter_mut().enumerate() {
            if !wanted[ch] {
                continue;
            }
            let from = out.len();
            convert(
                chunk,
                bpf,
                ch * layout.container,
                layout.container,
                kind,
                full_scale,
                out,
            );
            if matches!(kind, SampleKind::Float) {
                if let Some(i) = out[from..].iter().position(|v| !v.is_finite()) {
                    // Channels are visited in order, so a tie in frame keeps the lower channel.
                    if first_bad.is_none_or(|(f, _, _)| i < f) {
                        first_bad = Some((i, ch, out[from + i]));
                    }
                }
            }
        }
        if let Some((i, ch, v)) = first_bad {
            return Err(Error::malformed(
                path,
                format!(
                    "non-finite sample ({v}) at sample {} of channel {ch}",
                    done + i
                ),
            ));
        }
        done += n;
    }
    Ok(())
}

/// Append one channel of a buffer of whole frames (`bpf` bytes each, the
/// channel's container at byte `offset`, `container` bytes wide) to `out`.
fn convert(
    chunk: &[u8],
    bpf: usize,
    offset: usize,
    container: usize,
    kind: SampleKind,
    full_scale: f64,
    out: &mut Vec<f32>,
) {
    // One channel: fixed-size frames, which the compiler vectorises.
    if bpf == container {
        return match (kind, container) {
            (SampleKind::Int { bits: 16 }, 2) => {
                let gain = full_scale / 32768.0;
                out.extend(
                    chunk
                        .chunks_exact(2)
                        .map(|f| (f64::from(i16::from_le_bytes([f[0], f[1]])) * gain) as f32),
                );
            }
            (SampleKind::Float, 4) => out.extend(chunk.chunks_exact(4).map(|f| {
                (f64::from(f32::from_le_bytes([f[0], f[1], f[2], f[3]])) * full_scale) as f32
            })),
            _ => convert_frames(chunk, bpf, offset, container, kind, full_scale, out),
        };
    }
    convert_frames(chunk, bpf, offset, container, kind, full_scale, out);
}

/// [`convert`] for any layout.
fn convert_frames(
    chunk: &[u8],
    bpf: usize,
    offset: usize,
    container: usize,
    kind: SampleKind,
    full_scale: f64,
    out: &mut Vec<f32>,
) {
    let frames = chunk.chunks_exact(bpf);
    match kind {
        SampleKind::Int { bits } => {
            let gain = full_scale / f64::from(1u32 << (bits - 1));
            let scale = |s: i32| (f64::from(s) * gain) as f32;
            match (bits, container) {
                (8, _) => out.extend(frames.map(|f| scale(i32::from(f[offset]) - 128))),
                (16, _) => out.extend(
                    frames
                        .map(|f| scale(i32::from(i16::from_le_bytes([f[offset], f[offset + 1]])))),
                ),
                // The low 3 bytes (of 3, or of a 4-byte container) shifted to
                // the top and back: sign extension from bit 23.
                (24, _) => out.extend(frames.map(|f| {
                    scale(i32::from_le_bytes([0, f[offset], f[offset + 1], f[offset + 2]]) >> 8)
                })),
                _ => out.extend(frames.map(|f| {
                    scale(i32::from_le_bytes([
                        f[offset],
                        f[offset + 1],
                        f[offset + 2],
                        f[offset + 3],
                    ]))
                })),
            }
        }
        SampleKind::Float => out.extend(frames.map(|f| {
            let s = f32::from_le_bytes([f[offset], f[offset + 1], f[offset + 2], f[offset + 3]]);
            (f64::from(s) * full_scale) as f32
        })),
    }
}

/// A read that ran out of bytes (or failed) inside the header or the data.
fn cut_short(path: &Path, e: &std::io::Error) -> Error {
    Error::malformed(path, format!("WAV header or data cut short ({e})"))
}

/// Map a hound error to the library's error, in one line naming the problem.
fn hound_error(path: &Path, e: hound::Error) -> Error {
    match e {
        hound::Error::FormatError(what) => {
            Error::malformed(path, format!("invalid WAV header: {what}"))
        }
        hound::Error::IoError(io) => {
            // Reading from memory only fails when the bytes run out.
            Error::malformed(path, format!("WAV header or data cut short ({io})"))
        }
        hound::Error::Unsupported => Error::UnsupportedFormat {
            path: path.to_path_buf(),
            reason: "WAV sample encoding not supported (compressed or unusual PCM layout)".into(),
        },
        hound::Error::TooWide | hound::Error::InvalidSampleFormat => Error::UnsupportedFormat {
            path: path.to_path_buf(),
            reason: "WAV sample width or format not supported".into(),
        },
        hound::Error::UnfinishedSample => {
            Error::malformed(path, "WAV data ends in the middle of a frame")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::wav::{encode_wav, WavSampleFormat};
    use crate::io::{ChannelFilter, ChannelSel};
    use std::path::PathBuf;

    fn p() -> PathBuf {
        PathBuf::from("test.wav")
    }

    fn opts(fs: f64) -> ReadOptions {
        ReadOptions {
            full_scale_mv: fs,
            full_scale_given: true,
            ..ReadOptions::default()
        }
    }

    /// A deterministic test signal in mV within ±0.9 full scale.
    fn signal(n: usize, ch: usize, fs: f64) -> Vec<f32> {
        (0..n)
            .map(|i| {
                let t = i as f64 * 0.001;
                ((t * (ch as f64 + 1.0) * 7.0).sin() * 0.9 * fs) as f32
            })
            .collect()
    }

    #[test]
    fn round_trip_every_format_channels_and_rates() {
        let fs = 10.0;
        for fmt in [
            WavSampleFormat::Int16,
            WavSampleFormat::Int24,
            WavSampleFormat::Int32,
            WavSampleFormat::Float32,
        ] {
            let step = match fmt {
                WavSampleFormat::Int16 => fs / 32768.0,
                WavSampleFormat::Int24 => fs / 8_388_608.0,
                // f32 output dominates for 32-bit integer and float.
                WavSampleFormat::Int32 | WavSampleFormat::Float32 => fs * 1e-6,
            };
            for nch in [1usize, 3] {
                for rate in [5_000u32, 48_000] {
                    let sigs: Vec<Vec<f32>> = (0..nch).map(|c| signal(1000, c, fs)).collect();
                    let refs: Vec<&[f32]> = sigs.iter().map(|s| s.as_slice()).collect();
                    let bytes = encode_wav(&refs, rate, fs, fmt).unwrap();
                    let rec = read_wav(&p(), &bytes, &opts(fs)).unwrap();
                    assert_eq!(rec.format, SourceFormat::Wav);
                    assert_eq!(rec.sample_rate.hz(), f64::from(rate));
                    assert_eq!(rec.channels.len(), nch);
                    assert_eq!(rec.segments, Recording::continuous_segments(1000));
                    assert!(rec.stimuli.is_none());
                    for (c, ch) in rec.channels.iter().enumerate() {
                        assert_eq!(ch.label, format!("ch{c}"));
                        assert_eq!(ch.unit, "mV");
                        assert_eq!(ch.kind, ChannelKind::Signal);
                        assert_eq!(ch.len, 1000);
                        for (a, b) in ch.samples.iter().zip(&sigs[c]) {
                            assert!(
                                (f64::from(*a) - f64::from(*b)).abs() <= step,
                                "{fmt:?} {nch}ch {rate}Hz: {a} vs {b}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn int_values_clamp_at_full_scale() {
        let sig = [2.0f32, -2.0, 1.0, -1.0, 0.0];
        let bytes = encode_wav(&[&sig], 10_000, 1.0, WavSampleFormat::Int16).unwrap();
        let rec = read_wav(&p(), &bytes, &opts(1.0)).unwrap();
        let s = &rec.channels[0].samples;
        assert!((s[0] - 32767.0 / 32768.0).abs() < 1e-7);
        assert_eq!(s[1], -1.0);
        assert_eq!(s[4], 0.0);
    }

    #[test]
    fn eight_bit_is_scaled_to_full_scale() {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 8,
            sample_format: hound::SampleFormat::Int,
        };
        let mut buf = Cursor::new(Vec::new());
        {
            let mut w = hound::WavWriter::new(&mut buf, spec).unwrap();
            for v in [-128i32, 0, 64, 127] {
                w.write_sample(v).unwrap();
            }
            w.finalize().unwrap();
        }
        let rec = read_wav(&p(), buf.get_ref(), &opts(2.0)).unwrap();
        assert_eq!(
            rec.channels[0].samples,
            vec![-2.0, 0.0, 1.0, 2.0 * 127.0 / 128.0]
        );
    }

    #[test]
    fn channel_filter_leaves_unwanted_empty() {
        let sigs: Vec<Vec<f32>> = (0..3).map(|c| signal(200, c, 1.0)).collect();
        let refs: Vec<&[f32]> = sigs.iter().map(|s| s.as_slice()).collect();
        let bytes = encode_wav(&refs, 20_000, 1.0, WavSampleFormat::Int16).unwrap();
        let o = ReadOptions {
            channels: ChannelFilter::Only(vec![1]),
            ..ReadOptions::default()
        };
        let rec = read_wav(&p(), &bytes, &o).unwrap();
        assert_eq!(rec.channels.len(), 3);
        assert!(rec.channels[0].samples.is_empty() && !rec.channels[0].is_loaded());
        assert!(rec.channels[2].samples.is_empty());
        assert_eq!(rec.channels[0].len, 200);
        assert!(rec.channels[1].is_loaded());
        assert_eq!(rec.len(), 200);
        let o = ReadOptions {
            channels: ChannelFilter::Only(vec![3]),
            ..ReadOptions::default()
        };
        let err = read_wav(&p(), &bytes, &o).unwrap_err();
        assert!(
            matches!(err, Error::NoSuchChannel { available: 3, .. }),
            "{err}"
        );
    }

    #[test]
    fn select_filter_resolves_labels_and_default() {
        let sigs: Vec<Vec<f32>> = (0..3).map(|c| signal(50, c, 1.0)).collect();
        let refs: Vec<&[f32]> = sigs.iter().map(|s| s.as_slice()).collect();
        let bytes = encode_wav(&refs, 10_000, 1.0, WavSampleFormat::Int16).unwrap();
        let sel = |emg: Option<ChannelSel>, others: Vec<ChannelSel>| ReadOptions {
            channels: ChannelFilter::Select { emg, others },
            ..ReadOptions::default()
        };
        // Default EMG channel 0, trigger by label.
        let rec = read_wav(&p(), &bytes, &sel(None, vec!["CH2".into()])).unwrap();
        let loaded: Vec<bool> = rec.channels.iter().map(|c| c.is_loaded()).collect();
        assert_eq!(loaded, vec![true, false, true]);
        let rec = read_wav(&p(), &bytes, &sel(Some("ch1".into()), vec![])).unwrap();
        let loaded: Vec<bool> = rec.channels.iter().map(|c| c.is_loaded()).collect();
        assert_eq!(loaded, vec![false, true, false]);
        let err = read_wav(&p(), &bytes, &sel(Some("emg".into()), vec![])).unwrap_err();
        assert!(
            matches!(err, Error::NoSuchChannel { available: 3, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("channel \"emg\""), "{err}");
        // "ch" is a prefix of every label.
        let err = read_wav(&p(), &bytes, &sel(Some("ch".into()), vec![])).unwrap_err();
        assert!(matches!(err, Error::Usage(_)), "{err}");
    }

    #[test]
    fn low_rate_rejected_with_range() {
        let sig = signal(100, 0, 1.0);
        let bytes = encode_wav(&[&sig], 1000, 1.0, WavSampleFormat::Int16).unwrap();
        let err = read_wav(&p(), &bytes, &opts(1.0)).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::Malformed { .. }), "{msg}");
        assert!(msg.contains("1000 Hz") && msg.contains("2000"), "{msg}");
    }

    #[test]
    fn garbage_and_empty_give_errors() {
        for bytes in [
            &b""[..],
            b"RIFF",
            b"hello, this is not a wav file at all",
            b"RIFF\x10\x00\x00\x00WAVEfmt \x02\x00\x00\x00",
        ] {
            assert!(read_wav(&p(), bytes, &opts(1.0)).is_err());
        }
    }

    #[test]
    fn truncation_mid_frame_is_an_error_naming_sizes() {
        let sigs: Vec<Vec<f32>> = (0..2).map(|c| signal(100, c, 1.0)).collect();
        let refs: Vec<&[f32]> = sigs.iter().map(|s| s.as_slice()).collect();
        let bytes = encode_wav(&refs, 10_000, 1.0, WavSampleFormat::Int16).unwrap();
        // 2 channels × 2 bytes = 4-byte frames; cut 3 bytes → mid-frame.
        let cut = &bytes[..bytes.len() - 3];
        let msg = read_wav(&p(), cut, &opts(1.0)).unwrap_err().to_string();
        assert!(
            msg.contains("truncated data chunk: declared 400 bytes, file holds 397"),
            "{msg}"
        );
        // Cut inside the 44-byte header, or at the very start of the data: an
        // error, never a panic.
        for n in 0..=44 {
            assert!(read_wav(&p(), &bytes[..n], &opts(1.0)).is_err());
        }
    }

    #[test]
    fn truncation_on_frame_boundary_is_recovered() {
        let sig = signal(100, 0, 1.0);
        let bytes = encode_wav(&[&sig, &sig], 10_000, 1.0, WavSampleFormat::Int16).unwrap();
        let cut = &bytes[..bytes.len() - 4 * 10];
        let rec = read_wav(&p(), cut, &opts(1.0)).unwrap();
        assert_eq!(rec.len(), 90);
        assert_eq!(rec.channels[1].samples.len(), 90);
        assert_eq!(rec.segments[0].len, 90);
        // The recovery is noted; a whole file has no note.
        assert_eq!(rec.notes.len(), 1);
        assert_eq!(rec.notes[0].code, FlagCode::TruncatedFile);
        let m = &rec.notes[0].message;
        assert!(
            m.contains("declares 400 bytes, the file holds 360; read the 90 whole frames present (0.009 s)"),
            "{m}"
        );
        assert!(read_wav(&p(), &bytes, &opts(1.0)).unwrap().notes.is_empty());
        // Not one whole frame: an error that says so.
        let msg = read_wav(&p(), &bytes[..46], &opts(1.0))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("file holds 2 (not one whole 4-byte frame)"),
            "{msg}"
        );
    }

    /// `RIFF…WAVE` from chunks, each followed by its pad byte when odd-sized.
    fn riff(chunks: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
        let mut body = b"WAVE".to_vec();
        for (id, payload) in chunks {
            body.extend_from_slice(*id);
            body.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            body.extend_from_slice(payload);
            if payload.len() % 2 == 1 {
                body.push(0);
            }
        }
        let mut out = b"RIFF".to_vec();
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&body);
        out
    }

    #[test]
    fn chunks_before_the_data_odd_sized_or_not_are_skipped() {
        let sig = signal(100, 0, 1.0);
        let plain = encode_wav(&[&sig], 10_000, 1.0, WavSampleFormat::Int16).unwrap();
        let want = read_wav(&p(), &plain, &opts(1.0)).unwrap().channels[0]
            .samples
            .clone();
        // The fmt chunk body and the data, from the 44-byte canonical file.
        let fmt = &plain[20..36];
        let data = &plain[44..];
        for extra in [
            &[(b"LIST", &b"INFOISFT\x04\0\0\0rns\0"[..])][..],
            &[(b"note", &b"odd"[..])],
            &[(b"fact", &b"\x64\0\0\0\0\0"[..]), (b"x   ", &b"y"[..])],
        ] {
            let mut chunks: Vec<(&[u8; 4], &[u8])> = vec![(b"fmt ", fmt)];
            chunks.extend_from_slice(extra);
            chunks.push((b"data", data));
            let bytes = riff(&chunks);
            let rec = read_wav(&p(), &bytes, &opts(1.0)).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(rec.channels[0].samples, want);
            assert!(rec.notes.is_empty());
        }
        // No fmt chunk before the data: hound's own message.
        let msg = read_wav(&p(), &riff(&[(b"data", data)]), &opts(1.0))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("missing fmt chunk"), "{msg}");
    }

    #[test]
    fn nan_float_sample_is_rejected_with_position() {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 10_000,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut buf = Cursor::new(Vec::new());
        {
            let mut w = hound::WavWriter::new(&mut buf, spec).unwrap();
            for v in [0.0f32, 0.1, 0.2, 0.3, 0.4, f32::NAN] {
                w.write_sample(v).unwrap();
            }
            w.finalize().unwrap();
        }
        let msg = read_wav(&p(), buf.get_ref(), &opts(1.0))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("sample 2 of channel 1"), "{msg}");
        // Not decoding the channel with the NaN lets the others through.
        let o = ReadOptions {
            channels: ChannelFilter::Only(vec![0]),
            ..ReadOptions::default()
        };
        assert!(read_wav(&p(), buf.get_ref(), &o).is_ok());
    }

    #[test]
    fn too_many_channels_is_a_limit() {
        // hound writes 9 channels happily; the reader refuses them.
        let spec = hound::WavSpec {
            channels: 9,
            sample_rate: 10_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut buf = Cursor::new(Vec::new());
        {
            let mut w = hound::WavWriter::new(&mut buf, spec).unwrap();
            for _ in 0..18 {
                w.write_sample(0i16).unwrap();
            }
            w.finalize().unwrap();
        }
        let err = read_wav(&p(), buf.get_ref(), &opts(1.0)).unwrap_err();
        assert!(matches!(err, Error::Limit { value: 9, .. }), "{err}");
    }

    #[test]
    fn encoder_rejects_bad_input() {
        let a = [0.0f32; 10];
        let b = [0.0f32; 9];
        assert!(encode_wav(&[&a, &b], 10_000, 1.0, WavSampleFormat::Int16).is_err());
        assert!(encode_wav(&[], 10_000, 1.0, WavSampleFormat::Int16).is_err());
        assert!(encode_wav(&[&a], 0, 1.0, WavSampleFormat::Int16).is_err());
        assert!(encode_wav(&[&a], 10_000, 0.0, WavSampleFormat::Int16).is_err());
        assert!(encode_wav(&[&[f32::NAN]], 10_000, 1.0, WavSampleFormat::Float32).is_err());
        assert!(read_wav(&p(), b"RIFF", &opts(-1.0)).is_err());
    }

    #[test]
    fn mutated_headers_never_panic() {
        let sig = signal(64, 0, 1.0);
        let mut seeds = Vec::new();
        for fmt in [WavSampleFormat::Int24, WavSampleFormat::Float32] {
            seeds.push(encode_wav(&[&sig, &sig, &sig], 10_000, 1.0, fmt).unwrap());
        }
        seeds.push(encode_wav(&[&sig], 10_000, 1.0, WavSampleFormat::Int16).unwrap());
        // A small xorshift so the test is deterministic without extra crates.
        let mut rng = crate::test_rng::XorShift::new(0x2545_F491_4F6C_DD1Du64);
        let mut next = || rng.next_u64();
        for seed in &seeds {
            for _ in 0..3000 {
                let mut b = seed.clone();
                for _ in 0..(next() % 4 + 1) {
                    let i = (next() % 80) as usize;
                    b[i] = next() as u8;
                }
                let cut = (next() as usize) % (b.len() + 1);
                let _ = read_wav(&p(), &b[..cut.max(b.len() / 2)], &opts(1.0));
                let _ = read_wav(&p(), &b, &opts(1.0));
            }
        }
    }

    /// A 16-byte PCM fmt chunk body.
    fn fmt16(tag: u16, channels: u16, rate: u32, bits: u16) -> Vec<u8> {
        let align = channels * bits / 8;
        let mut f = Vec::new();
        f.extend_from_slice(&tag.to_le_bytes());
        f.extend_from_slice(&channels.to_le_bytes());
        f.extend_from_slice(&rate.to_le_bytes());
        f.extend_from_slice(&(rate * u32::from(align)).to_le_bytes());
        f.extend_from_slice(&align.to_le_bytes());
        f.extend_from_slice(&bits.to_le_bytes());
        f
    }

    /// `RIFF…WAVE`, a fmt chunk and a data chunk whose size field says
    /// `declared`, followed by `data`.
    fn with_data_size(fmt: &[u8], declared: u32, data: &[u8]) -> Vec<u8> {
        let mut out = b"RIFF".to_vec();
        out.extend_from_slice(&u32::MAX.to_le_bytes());
        out.extend_from_slice(b"WAVEfmt ");
        out.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
        out.extend_from_slice(fmt);
        out.extend_from_slice(b"data");
        out.extend_from_slice(&declared.to_le_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn an_unset_data_size_reads_to_the_end_of_the_file() {
        let sig = signal(300, 0, 1.0);
        let plain = encode_wav(&[&sig, &sig], 10_000, 1.0, WavSampleFormat::Int16).unwrap();
        let want = read_wav(&p(), &plain, &opts(1.0)).unwrap();
        let fmt = &plain[20..36];
        let data = &plain[44..];
        let bytes = with_data_size(fmt, SIZE_UNSET, data);
        let rec = read_wav(&p(), &bytes, &opts(1.0)).unwrap();
        assert_eq!(rec.len(), 300);
        assert_eq!(rec.channels[1].samples, want.channels[1].samples);
        assert_eq!(rec.notes.len(), 1);
        assert_eq!(rec.notes[0].code, FlagCode::TruncatedFile);
        let m = &rec.notes[0].message;
        assert!(
            m.contains("the data chunk's size is 0xFFFFFFFF")
                && m.contains(
                    "read the 300 whole frames to the end of the file (1200 bytes, 0.03 s)"
                ),
            "{m}"
        );
        // The file on disk gives the same.
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("s.wav");
        std::fs::write(&f, &bytes).unwrap();
        let from_file = read_wav_file(&f, &opts(1.0)).unwrap();
        assert_eq!(from_file.channels[0].samples, rec.channels[0].samples);
        assert_eq!(from_file.notes, rec.notes);
        // Not whole frames, or no frame at all: refused, saying so.
        let msg = read_wav(&p(), &bytes[..bytes.len() - 1], &opts(1.0))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains(
                "the data chunk's size is 0xFFFFFFFF (never filled in), and the 1199 bytes to \
                 the end of the file are not a whole number of 4-byte frames"
            ),
            "{msg}"
        );
        let msg = read_wav(&p(), &bytes[..44], &opts(1.0))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("the 0 bytes to the end of the file"), "{msg}");
        // Any other declared size past the end keeps its own rules.
        let bytes = with_data_size(fmt, 0xFFFF_FFFC, data);
        let rec = read_wav(&p(), &bytes, &opts(1.0)).unwrap();
        assert!(rec.notes[0].message.contains("declares 4294967292 bytes"));
    }

    #[test]
    fn two_fmt_chunks_that_disagree_are_refused() {
        let sig = signal(100, 0, 1.0);
        let plain = encode_wav(&[&sig], 10_000, 1.0, WavSampleFormat::Int16).unwrap();
        let fmt = &plain[20..36];
        let data = &plain[44..];
        let other = fmt16(1, 1, 20_000, 16);
        let msg = read_wav(
            &p(),
            &riff(&[(b"fmt ", fmt), (b"fmt ", &other), (b"data", data)]),
            &opts(1.0),
        )
        .unwrap_err()
        .to_string();
        assert!(
            msg.contains(
                "two fmt chunks that disagree (at bytes 12 and 36: 1 channel(s) at 10000 Hz, \
                 16-bit, then 1 channel(s) at 20000 Hz, 16-bit): which one describes the samples \
                 cannot be told"
            ),
            "{msg}"
        );
        // The same chunk twice is harmless.
        let rec = read_wav(
            &p(),
            &riff(&[
                (b"fmt ", fmt),
                (b"LIST", b"INFO"),
                (b"fmt ", fmt),
                (b"data", data),
            ]),
            &opts(1.0),
        )
        .unwrap();
        assert_eq!(rec.sample_rate.hz(), 10_000.0);
    }

    /// A WAVE_FORMAT_EXTENSIBLE integer PCM fmt body: `container` bits per
    /// sample, `valid` of them valid.
    fn extensible(channels: u16, rate: u32, container: u16, valid: u16) -> Vec<u8> {
        let mut f = fmt16(0xFFFE, channels, rate, container);
        f.extend_from_slice(&22u16.to_le_bytes());
        f.extend_from_slice(&valid.to_le_bytes());
        f.extend_from_slice(&0u32.to_le_bytes());
        // KSDATAFORMAT_SUBTYPE_PCM.
        f.extend_from_slice(&[
            0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38,
            0x9B, 0x71,
        ]);
        f
    }

    #[test]
    fn extensible_valid_bits_are_the_top_of_their_container() {
        // 24 valid bits, left-justified in 32-bit containers (Microsoft's
        // WAVEFORMATEXTENSIBLE: the unused low bits are zero).
        let v24: [i32; 5] = [0x40_0000, -0x80_0000, 0x7F_FFFF, -1, 0];
        let data: Vec<u8> = v24.iter().flat_map(|v| (v << 8).to_le_bytes()).collect();
        let fmt = extensible(1, 10_000, 32, 24);
        let rec = read_wav(
            &p(),
            &riff(&[(b"fmt ", &fmt), (b"data", &data)]),
            &opts(2.0),
        )
        .unwrap();
        let want: Vec<f32> = v24
            .iter()
            .map(|&v| (f64::from(v) / 8_388_608.0 * 2.0) as f32)
            .collect();
        assert_eq!(rec.channels[0].samples, want);
        // Low bits that are not zero are below one 24-bit step.
        let noisy: Vec<u8> = v24
            .iter()
            .flat_map(|v| ((v << 8) | 0x7F).to_le_bytes())
            .collect();
        let rec = read_wav(
            &p(),
            &riff(&[(b"fmt ", &fmt), (b"data", &noisy)]),
            &opts(1.0),
        )
        .unwrap();
        for (a, &v) in rec.channels[0].samples.iter().zip(&v24) {
            assert!((f64::from(*a) - f64::from(v) / 8_388_608.0).abs() < 1.0 / 8_388_608.0);
        }
        // 20 valid bits in 24-bit containers, two channels.
        let v20: [i32; 4] = [0x4_0000, -0x8_0000, 0x7_FFFF, -3];
        let data: Vec<u8> = v20
            .iter()
            .flat_map(|v| {
                let b = (v << 4).to_le_bytes();
                [b[0], b[1], b[2]]
            })
            .collect();
        let fmt = extensible(2, 10_000, 24, 20);
        let rec = read_wav(
            &p(),
            &riff(&[(b"fmt ", &fmt), (b"data", &data)]),
            &opts(1.0),
        )
        .unwrap();
        let ch1: Vec<f32> = [v20[1], v20[3]]
            .iter()
            .map(|&v| (f64::from(v) / 524_288.0) as f32)
            .collect();
        assert_eq!(rec.channels[1].samples, ch1);
        // A plain PCM header declaring 24 bits in 4-byte blocks (no
        // specification covers it) is read from the low 3 bytes, as hound
        // reads it.
        let mut plain = fmt16(1, 1, 10_000, 24);
        plain[12..14].copy_from_slice(&4u16.to_le_bytes());
        plain[8..12].copy_from_slice(&40_000u32.to_le_bytes());
        let data: Vec<u8> = v24.iter().flat_map(|v| v.to_le_bytes()).collect();
        let rec = read_wav(
            &p(),
            &riff(&[(b"fmt ", &plain), (b"data", &data)]),
            &opts(1.0),
        )
        .unwrap();
        assert_eq!(rec.channels[0].samples[0], 0.5);
        assert_eq!(rec.channels[0].samples[1], -1.0);
    }
}
