//! One synthetic signal, every input layout: WAV (16/24/32-bit integer, 32-bit
//! float, several channels with a trigger channel), continuous CSV (time in s
//! or ms, values in mV or µV, `,` `;` or tab), and epoched sweeps. Each must
//! give the same responses as the signal itself, within the format's precision.

use rns_analyzer::analysis::{analyze, Analysis};
use rns_analyzer::export::csv::{encode_continuous_csv, encode_sweeps_csv};
use rns_analyzer::export::wav::{encode_wav, WavSampleFormat};
use rns_analyzer::io::read_recording;
use rns_analyzer::recording::SourceFormat;
use rns_analyzer::settings::config::{Overrides, Settings};
use rns_analyzer::settings::criteria::Criteria;
use rns_analyzer::settings::protocol::Protocol;
use rns_analyzer::sim::synth::{
    generate, u_shaped_gains, CmapShape, SynthOutput, SynthSpec, TrainSpec,
};
use rns_analyzer::vocab::{FlagCode, StimulusSource};
use std::path::Path;

fn signal() -> SynthOutput {
    let mut s = SynthSpec::simple(
        10_000.0,
        vec![TrainSpec::from_gains(0.5, 3.0, &u_shaped_gains(8, 20.0))],
    );
    s.cmap = CmapShape {
        amplitude_mv: 6.0,
        ..CmapShape::default()
    };
    s.duration_s = 3.4;
    generate(&s)
}

fn run(path: &Path, ov: Overrides, protocol: Option<&Protocol>) -> Analysis {
    let settings = Settings::merge(&ov, protocol, Criteria::default()).unwrap();
    let rec = read_recording(path, &settings.read).unwrap_or_else(|e| panic!("{e}"));
    analyze(&rec, &settings.analysis).unwrap_or_else(|e| panic!("{e}"))
}

fn amplitudes(a: &Analysis) -> Vec<f64> {
    a.trains
        .iter()
        .flat_map(|t| t.responses.iter().map(|r| r.amplitude_mv))
        .collect()
}

fn assert_close(name: &str, got: &[f64], want: &[f64], tol_pct: f64) {
    assert_eq!(got.len(), want.len(), "{name}: response count");
    for (g, w) in got.iter().zip(want) {
        assert!(((g - w) / w * 100.0).abs() <= tol_pct, "{name}: {g} vs {w}");
    }
}

#[test]
fn every_layout_gives_the_same_responses() {
    let out = signal();
    let truth: Vec<f64> = out.truth.responses.iter().map(|r| r.amplitude_mv).collect();
    let dir = tempfile::tempdir().unwrap();
    let reference = {
        let rec = out.to_recording().unwrap();
        amplitudes(&analyze(&rec, &Default::default()).unwrap())
    };
    assert_close("in memory", &reference, &truth, 1.0);

    // WAV, every sample format; full scale 20 mV.
    for (fmt, tol) in [
        (WavSampleFormat::Int16, 0.5),
        (WavSampleFormat::Int24, 0.2),
        (WavSampleFormat::Int32, 0.2),
        (WavSampleFormat::Float32, 0.2),
    ] {
        let p = dir.path().join(format!("{fmt:?}.wav"));
        let fs = if fmt == WavSampleFormat::Float32 {
            1.0
        } else {
            20.0
        };
        std::fs::write(&p, encode_wav(&[&out.samples], 10_000, fs, fmt).unwrap()).unwrap();
        let a = run(
            &p,
            Overrides {
                full_scale_mv: Some(fs),
                ..Default::default()
            },
            None,
        );
        assert_eq!(a.source.format, SourceFormat::Wav);
        assert_close(&format!("{fmt:?}"), &amplitudes(&a), &reference, tol);
    }

    // WAV with three channels: EMG on channel 2, trigger on channel 0.
    let mut trig = vec![0.0f32; out.samples.len()];
    for t in &out.truth.stimuli_s {
        let i = (t * 10_000.0).ceil() as usize;
        for v in trig.iter_mut().skip(i).take(10) {
            *v = 0.8;
        }
    }
    let other = vec![0.01f32; out.samples.len()];
    let p = dir.path().join("multi.wav");
    std::fs::write(
        &p,
        encode_wav(
            &[&trig, &other, &out.samples],
            10_000,
            20.0,
            WavSampleFormat::Int24,
        )
        .unwrap(),
    )
    .unwrap();
    let a = run(
        &p,
        Overrides {
            full_scale_mv: Some(20.0),
            channel: Some(2.into()),
            trigger_channel: Some(0.into()),
            ..Default::default()
        },
        None,
    );
    assert_eq!(a.source.stimulus_source, StimulusSource::TriggerChannel);
    assert_eq!(a.source.channel, 2);
    assert_close("multichannel + trigger", &amplitudes(&a), &reference, 1.0);

    // Continuous CSV: time in s, values in mV.
    let csv = encode_continuous_csv(true, 10_000.0, &[("emg_mV", &out.samples)]);
    let p = dir.path().join("cont.csv");
    std::fs::write(&p, &csv).unwrap();
    let a = run(&p, Overrides::default(), None);
    assert_eq!(a.source.format, SourceFormat::CsvContinuous);
    assert_close("csv s/mV", &amplitudes(&a), &reference, 0.2);

    // Same, rewritten: time in ms, values in µV, `;` delimiter with decimal commas.
    let text = String::from_utf8(csv).unwrap();
    let mut alt = String::from("Time (ms);EMG [µV]\n");
    for line in text.lines().skip(1) {
        let mut it = line.split(',');
        let t: f64 = it.next().unwrap().parse().unwrap();
        let v: f64 = it.next().unwrap().parse().unwrap();
        alt.push_str(&format!("{:.4};{:.3}\n", t * 1000.0, v * 1000.0).replace('.', ","));
    }
    let p = dir.path().join("alt.csv");
    std::fs::write(&p, alt).unwrap();
    let a = run(&p, Overrides::default(), None);
    assert_close("csv ms/µV ;", &amplitudes(&a), &reference, 0.2);

    // No time column: tab-separated, rate from the flag.
    let tsv: String = std::iter::once("EMG (mV)\n".to_string())
        .chain(out.samples.iter().map(|v| format!("{v:.6}\n")))
        .collect();
    let p = dir.path().join("norate.tsv");
    std::fs::write(&p, tsv).unwrap();
    let a = run(
        &p,
        Overrides {
            sample_rate_hz: Some(10_000.0),
            ..Default::default()
        },
        None,
    );
    assert_close("tsv without time", &amplitudes(&a), &reference, 0.2);

    // Epoched sweeps, with the rate from the protocol.
    let sweeps: Vec<Vec<f32>> = out
        .truth
        .stimuli_s
        .iter()
        .map(|t| {
            let s = (t * 10_000.0).ceil() as usize;
            out.samples[s - 40..s + 300].to_vec()
        })
        .collect();
    let refs: Vec<&[f32]> = sweeps.iter().map(|v| v.as_slice()).collect();
    let p = dir.path().join("sweeps.csv");
    std::fs::write(&p, encode_sweeps_csv(10_000.0, 40, &refs)).unwrap();
    let proto = Protocol {
        rate_hz: Some(3.0),
        ..Default::default()
    };
    let a = run(&p, Overrides::default(), Some(&proto));
    assert_eq!(a.source.format, SourceFormat::CsvSweeps);
    assert_eq!(a.source.stimulus_source, StimulusSource::Sweeps);
    assert_eq!(a.trains.len(), 1);
    assert_eq!(a.trains[0].rate_hz, Some(3.0));
    assert_close("sweeps", &amplitudes(&a), &reference, 1.0);
    let d_ref = analyze(&out.to_recording().unwrap(), &Default::default())
        .unwrap()
        .trains[0]
        .decrement_pct
        .unwrap();
    assert!((a.trains[0].decrement_pct.unwrap() - d_ref).abs() < 0.5);

    // Sweeps without a rate: analysed, timing null, flagged.
    let a = run(&p, Overrides::default(), None);
    assert!(a.trains[0].rate_hz.is_none());
    assert!(a.trains[0].responses[0].stimulus_s.is_none());
    assert!(a.quality.iter().any(|q| q.code == FlagCode::RateUnknown));
}

/// The recording and the responses of `path` (rate 3 Hz for sweeps).
fn read_and_run(path: &Path) -> (rns_analyzer::recording::Recording, Vec<f64>) {
    let proto = Protocol {
        rate_hz: Some(3.0),
        ..Default::default()
    };
    let settings =
        Settings::merge(&Overrides::default(), Some(&proto), Criteria::default()).unwrap();
    let rec = read_recording(path, &settings.read).unwrap_or_else(|e| panic!("{e}"));
    let a = analyze(&rec, &settings.analysis).unwrap_or_else(|e| panic!("{e}"));
    (rec, amplitudes(&a))
}

fn same_recording(
    name: &str,
    a: &rns_analyzer::recording::Recording,
    b: &rns_analyzer::recording::Recording,
) {
    assert_eq!(a.format, b.format, "{name}");
    assert_eq!(a.sample_rate.hz(), b.sample_rate.hz(), "{name}");
    let emg = |r: &rns_analyzer::recording::Recording| {
        r.channels[r.default_emg_channel()].samples.clone()
    };
    assert_eq!(emg(a), emg(b), "{name}: samples");
    assert_eq!(a.segments, b.segments, "{name}: segments");
    assert_eq!(a.stimuli, b.stimuli, "{name}: stimuli");
}

/// The layouts real rigs export (a long table, a matrix without header, a
/// header block of `key,value` lines) read into the same recording as the
/// plain layout of the same data, and give the same responses.
#[test]
fn long_headerless_and_header_block_layouts_match_the_plain_ones() {
    let out = signal();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let lines_after_header =
        |t: &str| -> String { t.lines().skip(1).map(|l| format!("{l}\n")).collect() };

    // Continuous.
    let plain = String::from_utf8(encode_continuous_csv(
        true,
        10_000.0,
        &[("emg_mV", &out.samples)],
    ))
    .unwrap();
    let (rec, amps) = read_and_run(&write("plain.csv", &plain));
    assert!(!amps.is_empty());
    let block = "Instrument,Test rig 2\nSubject,anon\nDate,2024-05-01\n";
    let no_time: String = plain
        .lines()
        .skip(1)
        .map(|l| format!("{}\n", l.split(',').nth(1).unwrap()))
        .collect();
    for (name, text) in [
        ("headerless.csv", lines_after_header(&plain)),
        ("block.csv", format!("{block}{plain}")),
        (
            "block_rate.csv",
            format!("{block}Sampling rate,10 kHz\nemg_mV\n{no_time}"),
        ),
    ] {
        let (r, a) = read_and_run(&write(name, &text));
        same_recording(name, &rec, &r);
        assert_eq!(a, amps, "{name}: responses");
        assert!(
            !r.notes.is_empty(),
            "{name}: a note says which rule decided"
        );
    }

    // Sweeps: plain, long (MonStim's columns), long below a header block,
    // and a matrix without header.
    let sweeps: Vec<Vec<f32>> = out
        .truth
        .stimuli_s
        .iter()
        .map(|t| {
            let s = (t * 10_000.0).ceil() as usize;
            out.samples[s - 40..s + 300].to_vec()
        })
        .collect();
    let refs: Vec<&[f32]> = sweeps.iter().map(|v| v.as_slice()).collect();
    let plain = String::from_utf8(encode_sweeps_csv(10_000.0, 40, &refs)).unwrap();
    let (rec, amps) = read_and_run(&write("sweeps.csv", &plain));
    assert_eq!(rec.format, SourceFormat::CsvSweeps);
    let rows: Vec<Vec<&str>> = plain
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let mut long =
        String::from("recording_index,channel_index,stimulus_V,time_point,amplitude_mV\n");
    for k in 0..sweeps.len() {
        for r in &rows {
            long.push_str(&format!(
                "{k},0,{},{},{}\n",
                0.5 + 0.01 * k as f64,
                r[0],
                r[k + 1]
            ));
        }
    }
    for (name, text) in [
        ("long.csv", long.clone()),
        (
            "long_block.csv",
            format!("MonStim export,1\nSession,RNS test\n\n{long}"),
        ),
        ("sweeps_headerless.csv", lines_after_header(&plain)),
    ] {
        let (r, a) = read_and_run(&write(name, &text));
        same_recording(name, &rec, &r);
        assert_eq!(a, amps, "{name}: responses");
    }
    let (r, _) = read_and_run(&write("long.csv", &long));
    let int = r.intensities.expect("per-sweep intensity");
    assert_eq!(int.values.len(), sweeps.len());
    assert!((int.values[3] - 0.53).abs() < 1e-12);
}

/// A real MonStim long export (the first sweeps of `Example Data 2.csv` and
/// `3.csv`, tests/real/monstim/) gives the samples of its conversion to the
/// sweeps layout in the corpus, sweep for sweep, with each sweep's intensity.
#[test]
fn monstim_long_exports_match_their_converted_sweeps() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/real/monstim");
    for (long, wide, n) in [
        ("ex2_long_first5.csv", "ex2_recruitment.csv", 5),
        ("ex3_long_first3.csv", "ex3_recruitment.csv", 3),
    ] {
        let opts = Default::default();
        let l = read_recording(&dir.join(long), &opts).unwrap();
        let w = read_recording(&dir.join(wide), &opts).unwrap();
        assert_eq!(l.format, SourceFormat::CsvSweeps, "{long}");
        assert_eq!(l.sample_rate.hz(), w.sample_rate.hz(), "{long}");
        assert_eq!(l.segments[..], w.segments[..n], "{long}");
        let (ls, ws) = (l.stimuli.as_ref().unwrap(), w.stimuli.as_ref().unwrap());
        assert_eq!(ls.samples[..], ws.samples[..n], "{long}");
        let len = l.channels[0].len;
        assert_eq!(len, w.segments[n - 1].end(), "{long}");
        // The conversion printed the values with 6 decimals.
        for (i, (a, b)) in l.channels[0]
            .samples
            .iter()
            .zip(&w.channels[0].samples[..len])
            .enumerate()
        {
            assert!((a - b).abs() <= 5.1e-7, "{long}: sample {i}: {a} vs {b}");
        }
        let origin: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("{wide}.origin.json"))).unwrap(),
        )
        .unwrap();
        let int = l.intensities.as_ref().unwrap();
        assert_eq!(int.label, "stimulus_V");
        for (k, v) in int.values.iter().enumerate() {
            let want = origin["columns"][k]["stimulus_V"].as_f64().unwrap();
            assert!((v - want).abs() < 1e-9, "{long}: sweep {k}: {v} vs {want}");
        }
    }
}

/// The stimulus intensity a file gives reaches each response: per sweep
/// (a MonStim long export: the sweep's `stimulus_V`), in the JSON and as the
/// last columns of the CSV table.
#[test]
fn each_response_carries_its_sweeps_stimulus_intensity() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/real/monstim");
    let path = dir.join("ex2_long_first5.csv");
    let rec = read_recording(&path, &Default::default()).unwrap();
    let want = rec.intensities.clone().unwrap().values;
    let a = analyze(&rec, &Default::default()).unwrap();
    let src = a
        .source
        .stimulus_intensity
        .as_ref()
        .expect("intensity source");
    assert_eq!((src.label.as_str(), src.unit.as_str()), ("stimulus_V", "V"));
    let got: Vec<f64> = a
        .trains
        .iter()
        .flat_map(|t| &t.responses)
        .map(|r| r.stimulus_intensity.expect("intensity"))
        .collect();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() < 1e-6, "{got:?} vs {want:?}");
    }
    let table = rns_analyzer::output::csv::render(&[&a]);
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert!(header.windows(3).any(|w| w
        == [
            "initial_positive_mv",
            "stimulus_intensity",
            "stimulus_intensity_unit"
        ]));
    let at = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let first: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(first[at("stimulus_intensity_unit")], "V");
    assert!((first[at("stimulus_intensity")].parse::<f64>().unwrap() - want[0]).abs() < 1e-6);
}

/// A continuous recording's intensity column gives each response the
/// column's value at its stimulus; without one, the field is `null`.
#[test]
fn an_intensity_column_gives_the_value_at_each_stimulus() {
    use rns_analyzer::recording::{Channel, ChannelKind};
    let out = signal();
    let mut rec = out.to_recording().unwrap();
    let plain = analyze(&rec, &Default::default()).unwrap();
    assert!(plain.source.stimulus_intensity.is_none());
    assert!(plain.trains[0].responses[0].stimulus_intensity.is_none());
    let len = rec.channels[0].len;
    let fs = rec.sample_rate.hz();
    // The intensity steps up by 1 mA every second.
    rec.channels.push(Channel {
        index: 1,
        label: "stim_mA".into(),
        unit: "mA".into(),
        kind: ChannelKind::Intensity,
        len,
        sample_rate_hz: None,
        samples: (0..len)
            .map(|i| 10.0 + (i as f64 / fs).floor() as f32)
            .collect(),
    });
    let a = analyze(&rec, &Default::default()).unwrap();
    assert_eq!(a.source.stimulus_intensity.as_ref().unwrap().unit, "mA");
    for r in a.trains.iter().flat_map(|t| &t.responses) {
        let t = r.stimulus_s.unwrap();
        assert_eq!(r.stimulus_intensity, Some(10.0 + t.floor()), "at {t} s");
    }
    assert_eq!(amplitudes(&a), amplitudes(&plain));
}
