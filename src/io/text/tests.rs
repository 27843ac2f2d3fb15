//! Tests of the vendor text readers.

use super::*;
use crate::io::ChannelFilter;
use crate::recording::{ChannelSel, StimulusOrigin};
use std::path::PathBuf;

fn p() -> PathBuf {
    PathBuf::from("t.txt")
}

fn utf16le(s: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    for u in s.encode_utf16() {
        out.extend_from_slice(&u.to_le_bytes());
    }
    out
}

/// A Synergy export of `k` sweeps of 4 samples at 20 kHz (subsampled from
/// 48 kHz), two channels, English number format.
fn synergy_en(k: usize) -> String {
    let mut s = String::from(
        "[1 - Patient Details]\r\nPatient ID=MRN-7\r\nGender=Female\r\nVisit Date=30/07/2020 3:24 PM\r\n\
         [2 - Test]\r\nMaster Anatomy=R ABD DIG MINIMI\r\nSampling Frequency(kHz)=48\r\n\
         Subsampled(kHz)=20\r\nSweep Duration(ms)=0.2\r\n",
    );
    for ch in 1..=2 {
        for i in 0..k {
            s.push_str(&format!(
                "[{} - Trace Data]\r\nChannel Number={ch}\r\nSweep  Data(mV)<4>={},{}.5,-1,0\r\n",
                3 + i,
                i + ch,
                i
            ));
        }
    }
    s
}

#[test]
fn synergy_english_export() {
    let bytes = synergy_en(3).into_bytes();
    assert_eq!(sniff(&bytes), Some(TextKind::Synergy));
    let rec = read_text(&p(), &bytes, &ReadOptions::default()).unwrap();
    assert_eq!(rec.format, SourceFormat::SynergyText);
    assert_eq!(rec.sample_rate.hz(), 20_000.0);
    assert_eq!(rec.channels.len(), 2);
    assert_eq!(rec.channels[0].label, "ch1");
    assert_eq!(
        rec.channels[0].samples,
        vec![1.0, 0.5, -1.0, 0.0, 2.0, 1.5, -1.0, 0.0, 3.0, 2.5, -1.0, 0.0]
    );
    assert_eq!(rec.channels[1].samples[0], 2.0);
    let st = rec.stimuli.as_ref().unwrap();
    assert_eq!(st.samples, vec![0, 4, 8]);
    assert_eq!(st.origin, StimulusOrigin::Sweeps);
    assert_eq!(rec.segments.len(), 3);
    assert!(rec
        .notes
        .iter()
        .any(|n| n.code == FlagCode::StimulusAtSweepStart));
    assert!(!rec.notes.iter().any(|n| n.code == FlagCode::UnitAssumed));
    assert_eq!(rec.study.patient_id.as_deref(), Some("MRN-7"));
    assert_eq!(rec.study.muscle.as_deref(), Some("R ABD DIG MINIMI"));
    assert_eq!(
        rec.study.study_date.map(|d| d.to_string()).as_deref(),
        Some("2020-07-30")
    );
    assert!(rec.metadata.iter().any(|m| m.key == "Gender"));
}

#[test]
fn synergy_utf16_decimal_comma_continued_lines() {
    let s = "[1 - Patient Details]\nPatient ID=42\n[2 - Trace Data]\nSampling Frequency(kHz)=10\n\
             Pre-Trigger(ms)=0,2\nSweep  Data(uV)<6>=1000,5;-2000,25\n0,5 ;1,0\n2,0\n3\n";
    let bytes = utf16le(s);
    assert_eq!(sniff(&bytes), Some(TextKind::Synergy));
    let rec = read_text(&p(), &bytes, &ReadOptions::default()).unwrap();
    assert_eq!(rec.sample_rate.hz(), 10_000.0);
    let x = &rec.channels[0].samples;
    assert_eq!(x.len(), 6);
    assert!(
        (x[0] - 1.0005).abs() < 1e-6 && (x[1] + 2.00025).abs() < 1e-6,
        "{x:?}"
    );
    assert!((x[5] - 0.003).abs() < 1e-9);
    assert_eq!(rec.channels[0].unit, "uV");
    // 0.2 ms at 10 kHz: the stimulus at sample 2.
    assert_eq!(rec.stimuli.unwrap().samples, vec![2]);
}

#[test]
fn synergy_channel_choice_and_sidecar() {
    let bytes = synergy_en(2).into_bytes();
    let opts = ReadOptions {
        channels: ChannelFilter::Select {
            emg: Some(ChannelSel::Label("ch2".into())),
            others: vec![],
        },
        text: TextHints {
            rate_hz: Some(5000.0),
            pre_stimulus_ms: Some(0.2),
            ..TextHints::default()
        },
        ..ReadOptions::default()
    };
    let rec = read_text(&p(), &bytes, &opts).unwrap();
    assert!(!rec.channels[0].is_loaded());
    assert!(rec.channels[1].is_loaded());
    assert_eq!(rec.sample_rate.hz(), 5000.0);
    assert_eq!(rec.stimuli.unwrap().samples, vec![1, 5]);
}

#[test]
fn synergy_errors_name_the_line() {
    let read = |s: &str| {
        read_text(&p(), s.as_bytes(), &ReadOptions::default())
            .unwrap_err()
            .to_string()
    };
    let e = read("[1 - A]\nPatient ID=1\nSampling Frequency(kHz)=20\nSweep  Data(mV)<5>=1,2,3\n");
    assert!(
        e.contains("line 4") && e.contains("declares 5 samples but holds 3"),
        "{e}"
    );
    let e = read("[1 - A]\nPatient ID=1\nSweep  Data(mV)<2>=1,2\n");
    assert!(e.contains("no Sampling Frequency(kHz)"), "{e}");
    let e = read("[1 - A]\nPatient ID=1\nSampling Frequency(kHz)=20\nSweep  Data(mV)<2>=1,x\n");
    assert!(e.contains("line 4") && e.contains("no number"), "{e}");
    let e = read("[1 - A]\nPatient ID=1\nVisit Date=1\n");
    assert!(e.contains("no data key"), "{e}");
    let e = read("[1 - A]\nSampling Frequency(kHz)=0.1\nSweep  Data(mV)<2>=1,2\n");
    assert!(e.contains("outside the accepted range"), "{e}");
    let e = read("[1 - A]\nSampling Frequency(kHz)=20\nSweep  Data(mV)<99999999999>=1,2\n");
    assert!(e.contains("limit"), "{e}");
    let e = read(
        "[1 - A]\nSampling Frequency(kHz)=20\nSweep  Data(mV)<2>=1,2\n[2 - B]\nSweep  Data(mV)<3>=1,2,3\n",
    );
    assert!(e.contains("line 5") && e.contains("one length"), "{e}");
}

#[test]
fn a_long_trace_is_continuous() {
    let s = "[1 - A]\nPatient ID=1\nSampling Frequency(kHz)=20\nLongTrace Data(mV)<4>=1,2,3,4\n";
    let rec = read_text(&p(), s.as_bytes(), &ReadOptions::default()).unwrap();
    assert!(rec.stimuli.is_none());
    assert_eq!(rec.segments.len(), 1);
    assert_eq!(rec.len(), 4);
}

#[test]
fn ascii_sweeps_with_a_time_column() {
    let mut s = String::from("Nicolet export\nPatient: X\nTime(ms)  R1  R2\n");
    for i in 0..10 {
        let t = (i as f64 - 2.0) * 0.05;
        s.push_str(&format!("{t:.2}  {i}  {}\n", -i));
    }
    assert_eq!(sniff(s.as_bytes()), Some(TextKind::AsciiSweeps));
    let rec = read_text(&p(), s.as_bytes(), &ReadOptions::default()).unwrap();
    assert_eq!(rec.format, SourceFormat::AsciiSweeps);
    assert_eq!(rec.sample_rate.hz(), 20_000.0);
    assert_eq!(rec.stimuli.as_ref().unwrap().samples, vec![2, 12]);
    assert_eq!(rec.channels[0].samples[11], -1.0);
    assert!(!rec
        .notes
        .iter()
        .any(|n| n.code == FlagCode::StimulusAtSweepStart));
    assert!(rec.notes.iter().any(|n| n.code == FlagCode::UnitAssumed));
}

#[test]
fn ascii_sweeps_with_header_declarations_and_decimal_commas() {
    let s = "Sampling rate: 10 kHz\nUnits: uV\nPre-trigger: 0,3 ms\n1,5 2,5\n3,5 4,5\n5 6\n7 8\n";
    assert_eq!(sniff(s.as_bytes()), Some(TextKind::AsciiSweeps));
    let rec = read_text(&p(), s.as_bytes(), &ReadOptions::default()).unwrap();
    assert_eq!(rec.sample_rate.hz(), 10_000.0);
    assert_eq!(rec.stimuli.as_ref().unwrap().samples, vec![3, 7]);
    let x = &rec.channels[0].samples;
    assert!(
        (x[0] - 0.0015).abs() < 1e-9 && (x[4] - 0.0025).abs() < 1e-9,
        "{x:?}"
    );
    // Rows as sweeps.
    let opts = ReadOptions {
        text: TextHints {
            sweeps_in: Some(SweepsIn::Rows),
            pre_stimulus_ms: Some(0.0),
            ..TextHints::default()
        },
        ..ReadOptions::default()
    };
    let rec = read_text(&p(), s.as_bytes(), &opts).unwrap();
    assert_eq!(rec.stimuli.as_ref().unwrap().samples, vec![0, 2, 4, 6]);
    assert!((rec.channels[0].samples[1] - 0.0025).abs() < 1e-9);
}

#[test]
fn ascii_sweeps_errors() {
    let read = |s: &str| {
        read_text(&p(), s.as_bytes(), &ReadOptions::default())
            .unwrap_err()
            .to_string()
    };
    let e = read("Header\n1 2\n3 4\n");
    assert!(e.contains("no sample rate"), "{e}");
    let e = read("fs: 20000\n1 2\n3\n");
    assert!(
        e.contains("line 3") && e.contains("1 values in a table of 2 columns"),
        "{e}"
    );
    let e = read("fs: 20000\n1 2\n3 x\n");
    assert!(
        e.contains("line 3") && e.contains("not a row of numbers"),
        "{e}"
    );
}

#[test]
fn plain_csv_is_left_to_the_csv_reader() {
    assert_eq!(sniff(b"time_s,emg\n0,0.1\n0.001,0.2\n"), None);
    assert_eq!(sniff(b"time_s\temg\n0\t0.1\n"), None);
    assert_eq!(sniff(b"0, 0.1, 0.2\n1, 0.3, 0.4\n"), None);
    assert_eq!(sniff(b"# comment\nfs=20000\ntime,emg\n0,1\n"), None);
    assert_eq!(sniff(b"emg\n0.1\n0.2\n"), None);
}

#[test]
fn decoding() {
    assert_eq!(decode(&utf16le("A=1")).unwrap(), "A=1");
    let be: Vec<u8> = "Key=1\nK=2"
        .encode_utf16()
        .flat_map(|u| u.to_be_bytes())
        .collect();
    assert_eq!(decode(&be).unwrap(), "Key=1\nK=2");
    let le: Vec<u8> = "Key=1\nK=2"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    assert_eq!(decode(&le).unwrap(), "Key=1\nK=2");
    assert_eq!(decode(b"\xEF\xBB\xBFK=\xC3\xA9").unwrap(), "K=é");
    assert_eq!(decode(b"K=\xE9\x96").unwrap(), "K=é–");
    assert!(decode(b"ab\0cd").is_err());
    // A UTF-16 file cut inside a character, with or without its BOM.
    let mut cut = utf16le("Key=1\nK=2");
    cut.pop();
    assert!(decode(&cut).unwrap_err().contains("odd number of bytes"));
    let cut: Vec<u8> = [0xFF, 0xFE, b'K', 0, b'='].to_vec();
    assert!(decode(&cut).unwrap_err().contains("cut short"));
}

#[test]
fn numbers() {
    assert_eq!(parse_numbers("1.5, -2,3").unwrap(), vec![1.5, -2.0, 3.0]);
    assert_eq!(parse_numbers("1,5;-2,25").unwrap(), vec![1.5, -2.25]);
    assert_eq!(parse_numbers("1,5 2").unwrap(), vec![1.5, 2.0]);
    assert!(parse_numbers("1,nan").is_none());
    assert!(parse_numbers("inf").is_none());
}

#[test]
fn ascii_sweeps_review_cases() {
    let read = |s: &str| read_text(&p(), s.as_bytes(), &ReadOptions::default());
    // A declaration with as many words as columns names no columns.
    let rec = read("Sample interval = 50 us\n0 1 2 3 4\n5 6 7 8 9\n").unwrap();
    assert_eq!(rec.sample_rate.hz(), 20_000.0);
    assert_eq!(rec.segments.len(), 5);
    // A time column in seconds, named so: read in seconds.
    let s = "Time(s) A\n-0.0001 1\n0 2\n0.0001 3\n0.0002 4\n";
    let rec = read(s).unwrap();
    assert_eq!(rec.sample_rate.hz(), 10_000.0);
    assert_eq!(rec.stimuli.as_ref().unwrap().samples, vec![1]);
    // A pre-trigger in samples.
    let rec = read("fs: 20000\nPre-trigger: 2 samples\n1 2\n3 4\n5 6\n").unwrap();
    assert_eq!(rec.stimuli.as_ref().unwrap().samples, vec![2, 5]);
}

#[test]
fn synergy_rates_that_cannot_be_told_apart_are_refused() {
    let s = "[2 - Test]\r\nSampling Frequency(kHz)=48\r\nSubsampled(kHz)=20\r\n\
             [3 - Trace Data]\r\nSweep  Data(mV)<4>=1,2.5,-1,0\r\n";
    let e = read_text(&p(), s.as_bytes(), &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("no Sweep Duration(ms) says which"), "{e}");
    // A later key's decimal commas settle by the first key's.
    let s = "[2 - Test]\r\nSampling Frequency(kHz)=10\r\n[3 - Trace Data]\r\n\
             Sweep  Data(mV)<2>=0,5;1,5\r\nSweep  Data(mV)<2>=\r\n-0,125\r\n0,25\r\n";
    let rec = read_text(&p(), s.as_bytes(), &ReadOptions::default()).unwrap();
    assert_eq!(rec.channels[0].samples, vec![0.5, 1.5, -0.125, 0.25]);
}
