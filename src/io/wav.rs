//! WAV (RIFF WAVE) reader and writer.
//!
//! Overview: [`read_wav`] turns the bytes of a WAV file into a [`Recording`]
//! with every channel in millivolts; [`encode_wav`] does the reverse for the
//! synthetic generator and tests. `hound` parses the header and decodes the
//! samples.
//!
//! Accepted input: 8/16/24/32-bit integer PCM (24-bit also in a 4-byte
//! container) and 32-bit IEEE float, 1 to [`MAX_WAV_CHANNELS`] channels, a
//! sample rate within [`SampleRate::MIN_HZ`]..=[`SampleRate::MAX_HZ`].
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
//! with no complete frame is always an error. The recovery is silent in the
//! [`Recording`] (it has no warning field), so the analysis simply sees a
//! shorter recording.

use crate::error::{Error, Result};
use crate::io::{ReadOptions, MAX_SAMPLES_PER_CHANNEL};
use crate::recording::{Channel, ChannelKind, Recording, SourceFormat};
use crate::units::SampleRate;
use std::io::Cursor;
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
    let full_scale = opts.full_scale_mv;
    if !(full_scale.is_finite() && full_scale > 0.0) {
        return Err(Error::Usage(format!(
            "full scale must be a positive number of millivolts, got {full_scale}"
        )));
    }

    // First pass over the header only: hound leaves the cursor at the first
    // byte of the data chunk, which tells us how many data bytes the file
    // really holds (hound itself trusts the declared length).
    let mut cursor = Cursor::new(bytes);
    let (spec, declared_samples) = {
        let reader = hound::WavReader::new(&mut cursor).map_err(|e| hound_error(path, e))?;
        (reader.spec(), reader.len())
    };
    let data_start = usize::try_from(cursor.position()).unwrap_or(usize::MAX);

    let n_channels = spec.channels;
    if n_channels > MAX_WAV_CHANNELS {
        return Err(Error::Limit {
            path: path.to_path_buf(),
            what: "number of WAV channels".into(),
            value: u64::from(n_channels),
            limit: u64::from(MAX_WAV_CHANNELS),
        });
    }
    // hound already rejects zero channels; keep the guard so the divisions
    // below can never be by zero whatever hound does.
    if n_channels == 0 {
        return Err(Error::malformed(path, "WAV header declares zero channels"));
    }
    let labels: Vec<String> = (0..n_channels).map(|i| format!("ch{i}")).collect();
    let label_refs: Vec<&str> = labels.iter().map(String::as_str).collect();
    // The default EMG channel of a WAV is channel 0.
    let (filter, _) = opts.channels.resolve(path, &label_refs, 0)?;
    let rate = SampleRate::new(f64::from(spec.sample_rate)).ok_or_else(|| {
        Error::malformed(
            path,
            format!(
                "sample rate {} Hz is outside the accepted range {}–{} Hz",
                spec.sample_rate,
                SampleRate::MIN_HZ,
                SampleRate::MAX_HZ
            ),
        )
    })?;

    let kind = SampleKind::from_spec(path, spec)?;

    let declared_frames = u64::from(declared_samples) / u64::from(n_channels);
    if declared_frames == 0 {
        return Err(Error::malformed(path, "WAV data chunk holds no samples"));
    }
    // The data chunk length sits in the 4 bytes just before the data; hound
    // guarantees it is a whole number of frames, so bytes per frame follow.
    let declared_bytes = data_start
        .checked_sub(4)
        .and_then(|i| bytes.get(i..data_start))
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_le_bytes)
        .ok_or_else(|| Error::malformed(path, "cannot locate the WAV data chunk length"))?;
    let bytes_per_frame = u64::from(declared_bytes) / declared_frames;
    let container_bytes = bytes_per_frame / u64::from(n_channels);
    if !kind.container_ok(container_bytes) {
        return Err(Error::UnsupportedFormat {
            path: path.to_path_buf(),
            reason: format!(
                "{}-bit samples stored in {container_bytes}-byte containers",
                spec.bits_per_sample
            ),
        });
    }

    let held_bytes = (bytes.len() - data_start.min(bytes.len())) as u64;
    let frames = if held_bytes >= u64::from(declared_bytes) {
        declared_frames
    } else if held_bytes % bytes_per_frame == 0 && held_bytes > 0 {
        // Documented recovery: the file stops cleanly on a frame boundary.
        held_bytes / bytes_per_frame
    } else {
        return Err(Error::malformed(
            path,
            format!(
                "truncated data chunk: declared {declared_bytes} bytes, file holds {held_bytes} \
                 (not a whole number of {bytes_per_frame}-byte frames)"
            ),
        ));
    };
    if frames > MAX_SAMPLES_PER_CHANNEL {
        return Err(Error::Limit {
            path: path.to_path_buf(),
            what: "samples per channel".into(),
            value: frames,
            limit: MAX_SAMPLES_PER_CHANNEL,
        });
    }
    // Both bounds above keep this within usize on any platform we build for.
    let frames = usize::try_from(frames).map_err(|_| Error::Limit {
        path: path.to_path_buf(),
        what: "samples per channel".into(),
        value: frames,
        limit: MAX_SAMPLES_PER_CHANNEL,
    })?;

    let nch = usize::from(n_channels);
    let wanted: Vec<bool> = (0..nch).map(|c| filter.wants(c)).collect();
    let mut data: Vec<Vec<f32>> = wanted
        .iter()
        .map(|&w| {
            if w {
                Vec::with_capacity(frames)
            } else {
                Vec::new()
            }
        })
        .collect();

    // Second pass: a fresh reader positioned at the data; `take` stops at the
    // frames the file really holds, so hound never reads past the end.
    let mut reader = hound::WavReader::new(Cursor::new(bytes)).map_err(|e| hound_error(path, e))?;
    let total = frames * nch;
    match kind {
        SampleKind::Int { bits } => {
            // Divide in f64 so 32-bit samples keep their precision before the
            // final rounding to f32.
            let gain = full_scale / f64::from(1u32 << (bits - 1));
            deinterleave(
                path,
                reader.samples::<i32>().take(total),
                &wanted,
                &mut data,
                |s| (f64::from(s) * gain) as f32,
            )?;
        }
        SampleKind::Float => {
            deinterleave(
                path,
                reader.samples::<f32>().take(total),
                &wanted,
                &mut data,
                |s| (f64::from(s) * full_scale) as f32,
            )?;
        }
    }

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

    Ok(Recording {
        path: path.to_path_buf(),
        format: SourceFormat::Wav,
        sample_rate: rate,
        channels,
        segments: Recording::continuous_segments(frames),
        stimuli: None,
        annotations: Vec::new(),
    })
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

    /// Whether hound can decode this encoding from containers of `bytes` bytes
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

/// Spread interleaved samples over the wanted channels, converting each with
/// `convert` and rejecting non-finite results (a NaN would poison every
/// later filter and measurement).
fn deinterleave<S, I, F>(
    path: &Path,
    samples: I,
    wanted: &[bool],
    data: &mut [Vec<f32>],
    convert: F,
) -> Result<()>
where
    I: Iterator<Item = hound::Result<S>>,
    F: Fn(S) -> f32,
{
    let nch = wanted.len();
    let mut ch = 0usize;
    let mut frame = 0usize;
    for sample in samples {
        let sample = sample.map_err(|e| hound_error(path, e))?;
        if wanted[ch] {
            let v = convert(sample);
            if !v.is_finite() {
                return Err(Error::malformed(
                    path,
                    format!("non-finite sample ({v}) at sample {frame} of channel {ch}"),
                ));
            }
            data[ch].push(v);
        }
        ch += 1;
        if ch == nch {
            ch = 0;
            frame += 1;
        }
    }
    Ok(())
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

/// Sample encodings [`encode_wav`] can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WavSampleFormat {
    /// 16-bit integer PCM.
    Int16,
    /// 24-bit integer PCM (3-byte containers).
    Int24,
    /// 32-bit integer PCM.
    Int32,
    /// 32-bit IEEE float.
    Float32,
}

impl WavSampleFormat {
    fn bits(self) -> u16 {
        match self {
            WavSampleFormat::Int16 => 16,
            WavSampleFormat::Int24 => 24,
            WavSampleFormat::Int32 | WavSampleFormat::Float32 => 32,
        }
    }
}

/// Encode channels of millivolt values as the bytes of a WAV file.
///
/// Each value is divided by `full_scale_mv`; integer formats clamp the result
/// to ±1 full scale and round to the nearest step, float stores it as is.
/// Errors ([`Error::Usage`]): no channel, more than [`MAX_WAV_CHANNELS`],
/// unequal lengths, a non-finite value, a rate of 0 or a non-positive full
/// scale, or a file beyond the 4 GiB a RIFF size field can describe.
pub fn encode_wav(
    channels: &[&[f32]],
    rate_hz: u32,
    full_scale_mv: f64,
    fmt: WavSampleFormat,
) -> Result<Vec<u8>> {
    let nch = channels.len();
    if nch == 0 || nch > usize::from(MAX_WAV_CHANNELS) {
        return Err(Error::Usage(format!(
            "a WAV needs 1 to {MAX_WAV_CHANNELS} channels, got {nch}"
        )));
    }
    let frames = channels[0].len();
    if let Some((i, c)) = channels.iter().enumerate().find(|(_, c)| c.len() != frames) {
        return Err(Error::Usage(format!(
            "WAV channels must have equal length: channel 0 has {frames} samples, channel {i} has {}",
            c.len()
        )));
    }
    if rate_hz == 0 {
        return Err(Error::Usage("WAV sample rate must be positive".into()));
    }
    if !(full_scale_mv.is_finite() && full_scale_mv > 0.0) {
        return Err(Error::Usage(format!(
            "full scale must be a positive number of millivolts, got {full_scale_mv}"
        )));
    }
    let bytes_per_sample = u64::from(fmt.bits() / 8);
    let data_bytes = frames as u64 * nch as u64 * bytes_per_sample;
    // hound keeps these in u32 (and would overflow silently or panic).
    let byte_rate = u64::from(rate_hz) * nch as u64 * bytes_per_sample;
    if data_bytes > u64::from(u32::MAX) - 128 || byte_rate > u64::from(u32::MAX) {
        return Err(Error::Usage(
            "WAV too large (data or byte rate beyond the 32-bit RIFF fields)".into(),
        ));
    }

    let spec = hound::WavSpec {
        channels: nch as u16,
        sample_rate: rate_hz,
        bits_per_sample: fmt.bits(),
        sample_format: match fmt {
            WavSampleFormat::Float32 => hound::SampleFormat::Float,
            _ => hound::SampleFormat::Int,
        },
    };
    let mut buf = Cursor::new(Vec::with_capacity(data_bytes as usize + 128));
    let to_usage = |e: hound::Error| Error::Usage(format!("cannot encode WAV: {e}"));
    {
        let mut writer = hound::WavWriter::new(&mut buf, spec).map_err(to_usage)?;
        let inv_fs = 1.0 / full_scale_mv;
        // Largest positive code; +1.0 full scale maps here (one step short).
        let max_code = f64::from((1u32 << (fmt.bits() - 1)) - 1);
        let scale = max_code + 1.0;
        for frame in 0..frames {
            for (ch, c) in channels.iter().enumerate() {
                let v = c[frame];
                if !v.is_finite() {
                    return Err(Error::Usage(format!(
                        "cannot encode non-finite value {v} at sample {frame} of channel {ch}"
                    )));
                }
                let x = f64::from(v) * inv_fs;
                match fmt {
                    WavSampleFormat::Float32 => writer.write_sample(x as f32),
                    _ => {
                        let code = (x.clamp(-1.0, 1.0) * scale).round().min(max_code);
                        writer.write_sample(code as i32)
                    }
                }
                .map_err(to_usage)?;
            }
        }
        writer.finalize().map_err(to_usage)?;
    }
    Ok(buf.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::{ChannelFilter, ChannelSel};
    use std::path::PathBuf;

    fn p() -> PathBuf {
        PathBuf::from("test.wav")
    }

    fn opts(fs: f64) -> ReadOptions {
        ReadOptions {
            full_scale_mv: fs,
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
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
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
}
