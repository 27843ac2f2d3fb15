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
