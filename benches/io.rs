//! Reader benchmarks on the 5-minute 20 kHz session written to a temporary
//! folder: WAV decoding (16-bit and 32-bit float), CSV decoding (with its
//! throughput in bytes per second), and analysing a WAV file against only
//! decoding it (the ratio `scripts/bench.sh` checks end to end).
//!
//! Run with `cargo bench --bench io`.

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rns_analyzer::analysis;
use rns_analyzer::export::csv::encode_continuous_csv;
use rns_analyzer::export::wav::{encode_wav, WavSampleFormat};
use rns_analyzer::io::csv::read_csv;
use rns_analyzer::io::wav::read_wav;
use rns_analyzer::io::{read_recording, ReadOptions};
use rns_analyzer::settings::config::AnalysisConfig;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

fn benches(c: &mut Criterion) {
    let session = common::session();
    let x = &session.samples;
    let dir = tempfile::tempdir().expect("temp dir");
    let opts = ReadOptions {
        full_scale_mv: 50.0,
        ..ReadOptions::default()
    };
    let cfg = AnalysisConfig::default();

    let mut g = c.benchmark_group("wav");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for (name, fmt) in [
        ("int16", WavSampleFormat::Int16),
        ("float32", WavSampleFormat::Float32),
    ] {
        let fs = if fmt == WavSampleFormat::Float32 {
            1.0
        } else {
            50.0
        };
        let bytes = encode_wav(&[x], common::RATE_HZ as u32, fs, fmt).expect("encode");
        let path = dir.path().join(format!("session_{name}.wav"));
        std::fs::write(&path, &bytes).expect("write");
        let o = ReadOptions {
            full_scale_mv: fs,
            ..ReadOptions::default()
        };
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(format!("decode_{name}_from_memory"), |b| {
            b.iter(|| read_wav(Path::new("s.wav"), black_box(&bytes), &o).expect("decode"))
        });
        g.bench_function(format!("decode_{name}_from_file"), |b| {
            b.iter(|| read_recording(black_box(&path), &o).expect("decode"))
        });
    }
    g.finish();

    // Whole analysis of the 16-bit file vs only decoding it.
    let path16 = dir.path().join("session_int16.wav");
    let mut g = c.benchmark_group("analyze_vs_decode");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    g.bench_function("decode_only_wav16_5min_20k", |b| {
        b.iter(|| read_recording(black_box(&path16), &opts).expect("decode"))
    });
    g.bench_function("analyze_file_wav16_5min_20k", |b| {
        b.iter(|| {
            let rec = read_recording(black_box(&path16), &opts).expect("decode");
            analysis::analyze(&rec, &cfg).expect("analysis")
        })
    });
    g.finish();

    // CSV: the first minute of the session (`time_s,emg_mV`, as exports write it).
    let minute = &x[..(60.0 * common::RATE_HZ) as usize];
    let csv = encode_continuous_csv(true, common::RATE_HZ, &[("emg_mV", minute)]);
    let csv_path = dir.path().join("minute.csv");
    std::fs::write(&csv_path, &csv).expect("write");
    let copts = ReadOptions::default();
    let mut g = c.benchmark_group("csv");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4));
    g.throughput(Throughput::Bytes(csv.len() as u64));
    g.bench_function("decode_1min_20k_from_memory", |b| {
        b.iter(|| read_csv(Path::new("s.csv"), black_box(&csv), &copts).expect("decode"))
    });
    g.bench_function("decode_1min_20k_from_file", |b| {
        b.iter(|| read_recording(black_box(&csv_path), &copts).expect("decode"))
    });
    g.finish();
}

criterion_group!(io, benches);
criterion_main!(io);
