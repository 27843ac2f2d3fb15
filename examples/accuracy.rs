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

// The cases (and the error measure) are the accuracy tests' own.
#[path = "../tests/integration/accuracy_cases.rs"]
mod accuracy_cases;

use accuracy_cases::{errors, small_cmap_case, spec, Condition};
use rns_analyzer::analysis::analyze;
use rns_analyzer::settings::config::AnalysisConfig;
use rns_analyzer::sim::synth::{generate, SynthSpec};

/// The worst errors of one case (`NaN` when the analysis fails).
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

fn main() {
    if let Ok(case) = std::env::var("ACC_CASE") {
        // rate,mV,seed: print each response against its truth.
        let v: Vec<f64> = case.split(',').filter_map(|x| x.parse().ok()).collect();
        let spec = if v.len() == 2 {
            spec(v[0], Condition::ALL[v[1] as usize], 7)
        } else {
            small_cmap_case(v[0], v[1], v[2] as u64)
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
    let conds: Vec<&str> = Condition::ALL.iter().map(|c| c.label()).collect();
    println!("| sample rate | {} |", conds.join(" | "));
    println!("|---|{}", "---|".repeat(conds.len()));
    let mut area_worst = 0.0f64;
    for rate in [5_000.0, 10_000.0, 20_000.0, 50_000.0] {
        let cells: Vec<String> = Condition::ALL
            .iter()
            .map(|&c| {
                let (a, ar, d) = run(&spec(rate, c, 7));
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
                    .map(|seed| run(&small_cmap_case(rate, mv, seed)))
                    .fold((0.0f64, 0.0f64), |w, (a, _, d)| (w.0.max(a), w.1.max(d)));
                format!("{:.1} % / {:.1} pt", w.0, w.1)
            })
            .collect();
        println!("| {} kHz | {} |", rate / 1000.0, cells.join(" | "));
    }
}
