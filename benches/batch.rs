//! Batch benchmark: `rns batch` (the library's [`batch::run`]) over a small
//! generated corpus, with one worker thread and with two. The corpus is 10
//! simulated recordings (every preset, a baseline and a brief-exercise
//! protocol, 16-bit WAV at 20 kHz) in a temporary folder.
//!
//! Run with `cargo bench --bench batch`. `scripts/bench.sh` measures the
//! speed-up end to end on a larger corpus.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rns_analyzer::analysis;
use rns_analyzer::batch::{self, BatchOptions};
use rns_analyzer::io::read_recording;
use rns_analyzer::settings::config::{Overrides, Settings};
use rns_analyzer::settings::criteria::Criteria;
use rns_analyzer::settings::protocol::Protocol;
use rns_analyzer::sim::command::{run, SimFormat, SimulateArgs};
use std::path::Path;
use std::time::Duration;

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let corpus = dir.path().join("corpus");
    std::fs::create_dir_all(&corpus).expect("mkdir");
    let mut bytes = 0u64;
    for preset in ["normal", "mg-mild", "mg-severe", "lems", "botulism-like"] {
        for protocol in ["baseline", "brief-exercise"] {
            let out = corpus.join(format!("{preset}_{protocol}.wav"));
            let args = SimulateArgs {
                preset: preset.into(),
                protocol: protocol.into(),
                format: SimFormat::Wav16,
                sample_rate: 20_000.0,
                out: Some(out.clone()),
                ..SimulateArgs::default()
            };
            run(&args).expect("simulate");
            bytes += std::fs::metadata(&out).expect("written").len();
        }
    }
    let criteria = Criteria::default();
    // What `rns batch` does per file: sidecar, merge, read, analyse.
    let analyse = |path: &Path, _traces: bool| {
        let side = path.with_file_name(format!(
            "{}.rns.toml",
            path.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        ));
        let protocol = Protocol::load(&side).ok();
        let settings = Settings::merge(&Overrides::default(), protocol.as_ref(), criteria.clone())?;
        let rec = read_recording(path, &settings.read)?;
        analysis::analyze(&rec, &settings.analysis).map(|a| (a, Vec::new()))
    };

    let mut g = c.benchmark_group("batch");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4));
    g.throughput(Throughput::Bytes(bytes));
    for jobs in [1usize, 2] {
        g.bench_function(format!("corpus10_jobs{jobs}"), |b| {
            b.iter(|| {
                let opts = BatchOptions {
                    dir: corpus.clone(),
                    out: dir.path().join(format!("out{jobs}")),
                    force: true,
                    jobs,
                    report: false,
                    plots: Default::default(),
                    tables: Default::default(),
                    progress: false,
                    shard: None,
                };
                let s = batch::run(&opts, &criteria, &analyse).expect("batch");
                assert_eq!(s.exit_code, 0);
            })
        });
    }
    g.finish();
}

criterion_group!(batch_group, benches);
criterion_main!(batch_group);
