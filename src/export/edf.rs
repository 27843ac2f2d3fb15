//! EDF+ writer: one signal plus the `EDF Annotations` signal (EDF+C).
//!
//! Used by `rns simulate --format edf`. Records last one second; the signal's
//! samples are 16-bit with a symmetric physical range of the signal's largest
//! magnitude (rounded up to 0.1 mV), so one digital step is at most
//! range/32767. The last record is padded with zeros. Each record's
//! annotation block starts with its time-keeping TAL (`+t\x14\x14\0`),
//! followed by the annotations whose onset falls within it. The header's start
//! date and time are fixed (`01.01.26 00.00.00`): a simulated recording has no
//! real date, and fixed bytes keep the output reproducible.

use crate::error::{Error, Result};
use crate::recording::Annotation;

/// Encode `samples` (mV) at `rate_hz` (a whole number of samples per second)
/// with `annotations` as an EDF+C file.
pub fn encode_edf_plus(
    samples: &[f32],
    rate_hz: f64,
    label: &str,
    annotations: &[Annotation],
) -> Result<Vec<u8>> {
    let spr = rate_hz.round();
    if !(spr >= 1.0 && (spr - rate_hz).abs() < 1e-9 && spr <= 1_000_000.0) {
        return Err(Error::Usage(format!(
            "EDF needs a whole number of samples per second, got {} Hz",
            crate::units::Shown(rate_hz)
        )));
    }
    let spr = spr as usize;
    let records = samples.len().div_ceil(spr).max(1);
    let peak = samples.iter().fold(0.0f64, |m, &v| m.max((v as f64).abs()));
    let range = ((peak * 10.0).ceil() / 10.0).max(0.1);

    // Annotation blocks per record, then the common size (bytes, even).
    let mut blocks: Vec<Vec<u8>> = (0..records)
        .map(|r| format!("+{r}\x14\x14\0").into_bytes())
        .collect();
    for a in annotations {
        if !(a.onset_s.is_finite() && a.onset_s >= 0.0) {
            continue;
        }
        let r = ((a.onset_s.floor()) as usize).min(records - 1);
        let mut tal = format!("+{}", fmt_time(a.onset_s));
        if let Some(d) = a.duration_s.filter(|d| d.is_finite() && *d >= 0.0) {
            tal.push('\x15');
            tal.push_str(&fmt_time(d));
        }
        tal.push('\x14');
        // TAL separators cannot appear inside a text.
        tal.extend(
            a.text
                .chars()
                .filter(|c| !matches!(c, '\x14' | '\x15' | '\0')),
        );
        tal.push_str("\x14\0");
        blocks[r].extend_from_slice(tal.as_bytes());
    }
    let ann_bytes = blocks.iter().map(Vec::len).max().unwrap_or(0).max(32);
    let ann_spr = ann_bytes.div_ceil(2);

    let mut out = Vec::with_capacity(768 + records * (spr + ann_spr) * 2);
    let field = |out: &mut Vec<u8>, s: &str, w: usize| {
        let mut b: Vec<u8> = s
            .bytes()
            .filter(|c| (0x20..0x7f).contains(c))
            .take(w)
            .collect();
        b.resize(w, b' ');
        out.extend_from_slice(&b);
    };
    field(&mut out, "0", 8);
    field(&mut out, "X X X X", 80);
    field(&mut out, "Startdate X X X rns-simulate", 80);
    field(&mut out, "01.01.26", 8);
    field(&mut out, "00.00.00", 8);
    field(&mut out, &(256 * 3).to_string(), 8);
    field(&mut out, "EDF+C", 44);
    field(&mut out, &records.to_string(), 8);
    field(&mut out, "1", 8);
    field(&mut out, "2", 4);
    let two = |out: &mut Vec<u8>, a: &str, b: &str, w: usize| {
        field(out, a, w);
        field(out, b, w);
    };
    two(&mut out, label, "EDF Annotations", 16);
    two(&mut out, "AgAgCl surface electrodes", "", 80);
    two(&mut out, "mV", "", 8);
    two(&mut out, &fmt_num(-range), "-1", 8);
    two(&mut out, &fmt_num(range), "1", 8);
    two(&mut out, "-32767", "-32768", 8);
    two(&mut out, "32767", "32767", 8);
    two(&mut out, "", "", 80);
    two(&mut out, &spr.to_string(), &ann_spr.to_string(), 8);
    two(&mut out, "", "", 32);

    let scale = 32767.0 / range;
    for (r, block) in blocks.iter().enumerate() {
        for i in 0..spr {
            let v = samples.get(r * spr + i).copied().unwrap_or(0.0) as f64;
            let d = (v * scale).round().clamp(-32767.0, 32767.0) as i16;
            out.extend_from_slice(&d.to_le_bytes());
        }
        let mut b = block.clone();
        b.resize(ann_spr * 2, 0);
        out.extend_from_slice(&b);
    }
    Ok(out)
}

/// A time in seconds for a TAL: up to 6 decimals, trailing zeros dropped.
fn fmt_time(t: f64) -> String {
    let s = format!("{t:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() {
        "0".into()
    } else {
        s.to_string()
    }
}

/// A header number within 8 characters.
fn fmt_num(x: f64) -> String {
    let s = format!("{x:.1}");
    s.chars().take(8).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::edf::read_edf;
    use crate::io::ReadOptions;
    use std::path::Path;

    #[test]
    fn round_trip_through_our_reader() {
        let rate = 2_000.0;
        let x: Vec<f32> = (0..5_100)
            .map(|i| (5.0 * (i as f64 / 37.0).sin()) as f32)
            .collect();
        let ann = vec![
            Annotation {
                onset_s: 0.5,
                duration_s: None,
                text: "stim".into(),
            },
            Annotation {
                onset_s: 1.25,
                duration_s: Some(10.0),
                text: "exercise".into(),
            },
        ];
        let bytes = encode_edf_plus(&x, rate, "EMG ADM", &ann).unwrap();
        let rec = read_edf(Path::new("t.edf"), &bytes, &ReadOptions::default()).unwrap();
        assert_eq!(rec.sample_rate.hz(), rate);
        let emg = &rec.channels[0];
        assert_eq!(emg.label, "EMG ADM");
        // Three whole records (padded).
        assert_eq!(emg.samples.len(), 6_000);
        let step = 5.0 / 32767.0;
        for (a, b) in x.iter().zip(&emg.samples) {
            assert!((a - b).abs() as f64 <= step + 1e-6);
        }
        let texts: Vec<&str> = rec.annotations.iter().map(|a| a.text.as_str()).collect();
        assert_eq!(texts, vec!["stim", "exercise"]);
        assert_eq!(rec.annotations[1].duration_s, Some(10.0));
        assert!((rec.annotations[0].onset_s - 0.5).abs() < 1e-9);
        assert!(rec.stimuli.is_some());
    }

    #[test]
    fn rejects_fractional_rates() {
        assert!(encode_edf_plus(&[0.0; 10], 2_500.5, "EMG", &[]).is_err());
    }
}
