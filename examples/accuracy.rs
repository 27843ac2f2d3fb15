//! The synthetic accuracy table of the user guide ("Accuracy"): the worst
//! amplitude error (%) and 4th-response decrement error (points) against the
//! generator's noiseless truth, per sample rate and condition, and the small
//! CMAP cases over seeds 1–3. The same cases as `tests/integration/accuracy.rs`
//! (which bounds them); this prints them all.
//!
//! ```text
//! cargo run --release --example accuracy
//! ```
//!
//! To look into one case, `ACC_CASE=RATE,CONDITION` (a condition's index in
//! the table, from 0) or `ACC_CASE=RATE,MV,SEED` (a small CMAP case) prints
//! each response off its truth by more than `ACC_MIN` % (default 1.5).

use rns_analyzer::analysis::{analyze, Analysis};
use rns_analyzer::settings::config::AnalysisConfig;
use rns_analyzer::sim::synth::{
    generate, incrementing_gains, u_shaped_gains, ArtifactSpec, CmapShape, HumSpec, SynthOutput,
    SynthSpec, TrainSpec, WanderSpec,
};

/// Worst amplitude (%), area (%) and 4th-response decrement (points) errors.
fn errors(out: &SynthOutput, a: &Analysis) -> (f64, f64, f64) {
    let mut worst = (0.0f64, 0.0f64, 0.0f64);
    for (k, t) in a.trains.iter().enumerate() {
        let (ta, tr) = (out.truth.amplitudes(k), out.truth.areas(k));
        for (r, (&amp, &area)) in t.responses.iter().zip(ta.iter().zip(&tr)) {
            worst.0 = worst.0.max(((r.amplitude_mv - amp) / amp * 100.0).abs());
            worst.1 = worst.1.max(((r.area_mv_ms - area) / area * 100.0).abs());
        }
        if ta.len() >= 4 && t.responses.len() >= 4 {
            let td = out.truth.amplitude_decrement_pct(k, 4).unwrap_or(0.0);
            let r = &t.responses;
            let md = (r[0].amplitude_mv - r[3].amplitude_mv) / r[0].amplitude_mv * 100.0;
            worst.2 = worst.2.max((md - td).abs());
        }
    }
    worst
}

fn run(spec: &SynthSpec) -> (f64, f64, f64) {
    let out = generate(spec);
    let rec = out.to_recording().expect("valid synthetic recording");
    match analyze(&rec, &AnalysisConfig::default()) {
        Ok(a) => errors(&out, &a),
        Err(e) => {
            eprintln!("analysis failed: {e}");
            (f64::NAN, f64::NAN, f64::NAN)
        }
    }
}

fn hum(f: f64, uv: f64) -> HumSpec {
    HumSpec {
        freq_hz: f,
        amplitude_uv: uv,
        harmonic3_ratio: 0.2,
    }
}

/// The condition table's recording: three trains of a 4 mV CMAP.
fn condition(rate: f64, cond: &str) -> SynthSpec {
    let trains = vec![
        TrainSpec::from_gains(1.0, 3.0, &u_shaped_gains(10, 25.0)),
        TrainSpec::from_gains(6.0, 3.0, &[1.0; 6]),
        TrainSpec::from_gains(10.0, 50.0, &incrementing_gains(40, 120.0)),
    ];
    let mut s = SynthSpec::simple(rate, trains);
    s.seed = 7;
    s.cmap = CmapShape {
        amplitude_mv: 4.0,
        ..CmapShape::default()
    };
    s.noise_uv_rms = 5.0;
    let clipped = |s: &mut SynthSpec| {
        s.artifact = ArtifactSpec {
            amplitude_mv: 30.0,
            ..ArtifactSpec::default()
        };
        s.clip_mv = Some(12.0);
    };
    let wander = WanderSpec {
        amplitude_uv: 500.0,
        freq_hz: 0.3,
    };
    match cond {
        "25 µV noise" => s.noise_uv_rms = 25.0,
        "hum 50 Hz" => s.hum = Some(hum(50.0, 100.0)),
        "hum 60 Hz" => s.hum = Some(hum(60.03, 100.0)),
        "wander" => s.wander = Some(wander),
        "clipped artifacts" => clipped(&mut s),
        "all together" => {
            s.noise_uv_rms = 25.0;
            s.hum = Some(hum(50.0, 100.0));
            s.wander = Some(wander);
            clipped(&mut s);
        }
        _ => {}
    }
    s
}

/// A small CMAP under 25 µV of noise, hum and wander, with a 200-stimulus
/// 50 Hz train.
fn small(rate: f64, amplitude_mv: f64, seed: u64) -> SynthSpec {
    let trains = vec![
        TrainSpec::from_gains(0.6, 3.0, &u_shaped_gains(5, 15.0)),
        TrainSpec::from_gains(3.0, 50.0, &incrementing_gains(200, 150.0)),
    ];
    let mut s = SynthSpec::simple(rate, trains);
    s.seed = seed;
    s.cmap = CmapShape {
        amplitude_mv,
        ..CmapShape::default()
    };
    s.noise_uv_rms = 25.0;
    s.hum = Some(hum(50.0, 50.0));
    s.wander = Some(WanderSpec {
        amplitude_uv: 300.0,
        freq_hz: 0.25,
    });
    s
}

fn main() {
    if let Ok(case) = std::env::var("ACC_CASE") {
        // rate,mV,seed: print each response against its truth.
        let v: Vec<f64> = case.split(',').filter_map(|x| x.parse().ok()).collect();
        let spec = if v.len() == 2 {
            condition(
                v[0],
                [
                    "clean",
                    "25 µV noise",
                    "hum 50 Hz",
                    "hum 60 Hz",
                    "wander",
                    "clipped artifacts",
                    "all together",
                ][v[1] as usize],
            )
        } else {
            small(v[0], v[1], v[2] as u64)
        };
        let out = generate(&spec);
        let rec = out.to_recording().expect("valid");
        let a = analyze(&rec, &AnalysisConfig::default()).expect("analysis");
        for (k, t) in a.trains.iter().enumerate() {
            for (r, amp) in t.responses.iter().zip(out.truth.amplitudes(k)) {
                let e = (r.amplitude_mv - amp) / amp * 100.0;
                if e.abs()
                    > std::env::var("ACC_MIN")
                        .ok()
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(1.5)
                {
                    println!("train {k} resp {} truth {amp:.4} got {:.4} ({e:+.2} %) peak {} lat {} base {}", r.index, r.amplitude_mv, r.peak_latency_ms, r.latency_ms, r.baseline_mv);
                }
            }
        }
        return;
    }
    let conds = [
        "clean (5 µV)",
        "25 µV noise",
        "hum 50 Hz",
        "hum 60 Hz",
        "wander",
        "clipped artifacts",
        "all together",
    ];
    println!("| sample rate | {} |", conds.join(" | "));
    println!("|---|{}", "---|".repeat(conds.len()));
    let mut area_worst = 0.0f64;
    for rate in [5_000.0, 10_000.0, 20_000.0, 50_000.0] {
        let cells: Vec<String> = conds
            .iter()
            .map(|c| {
                let (a, ar, d) = run(&condition(rate, c));
                area_worst = area_worst.max(ar);
                format!("{a:.1} % / {d:.1} pt")
            })
            .collect();
        println!("| {} kHz | {} |", rate / 1000.0, cells.join(" | "));
    }
    println!("\nareas within {area_worst:.1} %\n");
    println!("| sample rate | 1.5 mV (SNR 60) | 2.5 mV (SNR 100) |");
    println!("|---|---|---|");
    for rate in [5_000.0, 10_000.0, 20_000.0, 50_000.0] {
        let cells: Vec<String> = [1.5, 2.5]
            .iter()
            .map(|&mv| {
                let w = (1..=3)
                    .map(|seed| run(&small(rate, mv, seed)))
                    .fold((0.0f64, 0.0f64), |w, (a, _, d)| (w.0.max(a), w.1.max(d)));
                format!("{:.1} % / {:.1} pt", w.0, w.1)
            })
            .collect();
        println!("| {} kHz | {} |", rate / 1000.0, cells.join(" | "));
    }
}
