//! Core analysis benchmarks on an in-memory 5-minute 20 kHz session:
//! stimulus detection, the measurement of one response window, the mains-hum
//! fit and the whole `analyze` (on all threads, as `rns analyze` runs it, and
//! on one, as each `rns batch` worker does).
//!
//! Run with `cargo bench --bench core`. Figures are per call; the whole
//! analysis also reports its throughput in samples per second.

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rns_analyzer::analysis::{self, hum, response, stimulus};
use rns_analyzer::settings::config::{AnalysisConfig, MeasureSettings};
use rns_analyzer::units::{Ms, SampleRate};
use std::hint::black_box;
use std::time::Duration;

fn benches(c: &mut Criterion) {
    let session = common::session();
    let rec = session.to_recording().expect("valid rate");
    let x = &rec.channels[0].samples;
    let n = x.len();
    let rate = SampleRate::new(common::RATE_HZ).expect("valid rate");
    let segments = [(0usize, n)];
    let cfg = AnalysisConfig::default();

    let mut g = c.benchmark_group("core");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    g.throughput(Throughput::Elements(n as u64));

    g.bench_function("stimulus_detection_5min_20k", |b| {
        b.iter(|| stimulus::detect_from_artifacts(black_box(x), rate, &segments))
    });

    let det = stimulus::detect_from_artifacts(x, rate, &segments);
    let stims: Vec<usize> = det.stimuli.iter().map(|s| s.sample).collect();
    let mask = hum::Mask::new(
        stims
            .iter()
            .map(|&s| {
                (
                    s.saturating_sub(rate.samples_in(Ms(2.0))),
                    (s + rate.samples_in(Ms(45.0))).min(n),
                )
            })
            .collect(),
    );
    g.bench_function("hum_fit_5min_20k", |b| {
        b.iter(|| hum::fit_hum(black_box(x), rate, &segments, &mask))
    });

    g.bench_function("analyze_5min_20k", |b| {
        b.iter(|| analysis::analyze(black_box(&rec), &cfg).expect("analysis"))
    });
    // The same on one thread: what each of `rns batch`'s workers spends.
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a one-thread pool");
    g.bench_function("analyze_5min_20k_one_thread", |b| {
        b.iter(|| one.install(|| analysis::analyze(black_box(&rec), &cfg).expect("analysis")))
    });
    g.finish();

    // One response window: 3 ms before the stimulus to 40 ms after, oriented
    // (main phase up), as the pipeline hands it to `response::measure`.
    let s = stims[0];
    let pre = rate.samples_in(Ms(3.0)) + 2;
    let win: Vec<f64> = x[s - pre..s + rate.samples_in(Ms(40.0))]
        .iter()
        .map(|&v| -f64::from(v))
        .collect();
    let ctx = response::WindowContext {
        rails: None,
        steep_floor: 20.0 * det.noise_slope_sd,
        pre_quiet: true,
        span: None,
    };
    let settings = MeasureSettings::default();
    let mut g = c.benchmark_group("response");
    g.sample_size(50)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    g.bench_function("measure_one_window_20k", |b| {
        b.iter(|| response::measure(black_box(&win), pre, rate, &settings, ctx).expect("measured"))
    });
    g.finish();
}

criterion_group!(core, benches);
criterion_main!(core);
