//! Units carried in the types, so that milliseconds, seconds, hertz and sample
//! counts cannot be mixed by accident.
//!
//! Conversions between time and samples go through [`SampleRate`], which is the
//! only place that knows how many samples a millisecond holds.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A duration or time point in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ms(pub f64);

/// A duration or time point in seconds.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Seconds(pub f64);

/// A frequency in hertz.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Hz(pub f64);

impl Ms {
    /// The same duration in seconds.
    pub fn to_seconds(self) -> Seconds {
        Seconds(self.0 / 1000.0)
    }
}

impl Seconds {
    /// The same duration in milliseconds.
    pub fn to_ms(self) -> Ms {
        Ms(self.0 * 1000.0)
    }
}

impl Hz {
    /// The period of one cycle.
    pub fn period(self) -> Seconds {
        Seconds(1.0 / self.0)
    }
}

/// A number as messages show it: as Rust writes it for ordinary magnitudes
/// (`0.25`, `20000`), in exponent form for huge and tiny ones (`1e300`,
/// `2.5e-12`), so that a hostile value in a file or a flag keeps its error
/// message one short line (`{}` spells out all 301 digits of `1e300`).
#[derive(Debug, Clone, Copy)]
pub struct Shown(pub f64);

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        if !v.is_finite() || v == 0.0 || (1e-6..1e15).contains(&v.abs()) {
            write!(f, "{v}")
        } else {
            write!(f, "{v:e}")
        }
    }
}

impl fmt::Display for Ms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ms", Shown(self.0))
    }
}

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} s", Shown(self.0))
    }
}

impl fmt::Display for Hz {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} Hz", Shown(self.0))
    }
}

/// The sampling rate of a signal: the bridge between time and sample indices.
///
/// Always finite and strictly positive; build it with [`SampleRate::new`].
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct SampleRate(f64);

impl SampleRate {
    /// The lowest rate the analyzer accepts: below it a CMAP (a few ms) is a
    /// handful of samples and the stimulus artifact cannot be told apart.
    pub const MIN_HZ: f64 = 2_000.0;
    /// The highest rate the analyzer accepts (beyond any EMG amplifier).
    pub const MAX_HZ: f64 = 1_000_000.0;

    /// A sample rate, if `hz` is finite and within [`Self::MIN_HZ`, `Self::MAX_HZ`].
    pub fn new(hz: f64) -> Option<Self> {
        (hz.is_finite() && (Self::MIN_HZ..=Self::MAX_HZ).contains(&hz)).then_some(Self(hz))
    }

    /// A sample rate without the lower clinical bound (still finite and > 0);
    /// used by readers that must describe a file before it is judged.
    pub fn new_unchecked_range(hz: f64) -> Option<Self> {
        (hz.is_finite() && hz > 0.0 && hz <= Self::MAX_HZ).then_some(Self(hz))
    }

    /// Samples per second.
    pub fn hz(self) -> f64 {
        self.0
    }

    /// Seconds between two samples.
    pub fn dt(self) -> Seconds {
        Seconds(1.0 / self.0)
    }

    /// Milliseconds between two samples.
    pub fn dt_ms(self) -> f64 {
        1000.0 / self.0
    }

    /// Number of whole samples in a duration (rounded to nearest, never negative).
    pub fn samples_in(self, d: Ms) -> usize {
        let n = (d.0 * self.0 / 1000.0).round();
        if n.is_finite() && n > 0.0 {
            n as usize
        } else {
            0
        }
    }

    /// Number of whole samples in a duration in seconds.
    pub fn samples_in_s(self, d: Seconds) -> usize {
        self.samples_in(d.to_ms())
    }

    /// The time of a (possibly fractional) sample offset, in milliseconds.
    pub fn to_ms(self, samples: f64) -> Ms {
        Ms(samples * 1000.0 / self.0)
    }

    /// The time of a (possibly fractional) sample offset, in seconds.
    pub fn to_seconds(self, samples: f64) -> Seconds {
        Seconds(samples / self.0)
    }
}

impl fmt::Display for SampleRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} Hz", Shown(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_messages_stay_short() {
        let cases = [
            (0.25, "0.25"),
            (20_000.0, "20000"),
            (-3.5, "-3.5"),
            (0.0, "0"),
            (1e-6, "0.000001"),
            (1e300, "1e300"),
            (-1e300, "-1e300"),
            (2.5e-12, "2.5e-12"),
            (1e15, "1e15"),
            (f64::INFINITY, "inf"),
            (f64::NAN, "NaN"),
        ];
        for (v, want) in cases {
            assert_eq!(Shown(v).to_string(), want, "{v:?}");
        }
        assert_eq!(Hz(1e300).to_string(), "1e300 Hz");
    }

    #[test]
    fn conversions_round_trip() {
        let r = SampleRate::new(20_000.0).unwrap();
        assert_eq!(r.samples_in(Ms(1.0)), 20);
        assert_eq!(r.samples_in_s(Seconds(0.5)), 10_000);
        assert!((r.to_ms(20.0).0 - 1.0).abs() < 1e-12);
        assert!((r.to_seconds(10_000.0).0 - 0.5).abs() < 1e-12);
        assert_eq!(r.samples_in(Ms(-3.0)), 0);
    }

    #[test]
    fn rejects_out_of_range_rates() {
        assert!(SampleRate::new(1_999.0).is_none());
        assert!(SampleRate::new(f64::NAN).is_none());
        assert!(SampleRate::new(f64::INFINITY).is_none());
        assert!(SampleRate::new(0.0).is_none());
        assert!(SampleRate::new_unchecked_range(500.0).is_some());
    }
}
