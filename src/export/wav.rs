//! WAV writer: channels of millivolt values as 8-, 16-, 24- or 32-bit PCM or
//! 32-bit float (the encodings the reader takes), through hound.

use crate::error::{Error, Result};
use crate::io::wav::MAX_WAV_CHANNELS;
use crate::units::Shown;
use std::io::Cursor;

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
            "full scale must be a positive number of millivolts, got {}",
            Shown(full_scale_mv)
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
