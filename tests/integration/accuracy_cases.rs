//! The synthetic accuracy cases: the recordings the accuracy tests bound
//! (`accuracy.rs`) and the user guide's table prints
//! (`examples/accuracy.rs`, which includes this file), and how far an
//! analysis is from their truth. One definition, so the table and the test
//! always measure the same cases.

use rns_analyzer::analysis::Analysis;
use rns_analyzer::sim::synth::{
    incrementing_gains, u_shaped_gains, ArtifactSpec, CmapShape, HumSpec, SynthOutput, SynthSpec,
    TrainSpec, WanderSpec,
};

/// A recording condition of the accuracy table.
#[derive(Clone, Copy, Debug)]
pub enum Condition {
    Clean,
    Noise25,
    Hum50,
    Hum60,
    Wander,
    ClippedArtifact,
    Everything,
}

impl Condition {
    /// Every condition, in the table's column order.
    pub const ALL: [Condition; 7] = [
        Condition::Clean,
        Condition::Noise25,
        Condition::Hum50,
        Condition::Hum60,
        Condition::Wander,
        Condition::ClippedArtifact,
        Condition::Everything,
    ];

    /// The condition's column heading in the user guide's table.
    pub fn label(self) -> &'static str {
        match self {
            Condition::Clean => "clean (5 µV)",
            Condition::Noise25 => "25 µV noise",
            Condition::Hum50 => "hum 50 Hz",
            Condition::Hum60 => "hum 60 Hz",
            Condition::Wander => "wander",
            Condition::ClippedArtifact => "clipped artifacts",
            Condition::Everything => "all together",
        }
    }
}

/// The condition table's recording: three trains of a 4 mV CMAP (a
/// U-shaped 25 % decrement, a flat train, a 50 Hz train with +120 %).
pub fn spec(rate: f64, cond: Condition, seed: u64) -> SynthSpec {
    let trains = vec![
        TrainSpec::from_gains(1.0, 3.0, &u_shaped_gains(10, 25.0)),
        TrainSpec::from_gains(6.0, 3.0, &[1.0; 6]),
        TrainSpec::from_gains(10.0, 50.0, &incrementing_gains(40, 120.0)),
    ];
    let mut s = SynthSpec::simple(rate, trains);
    s.seed = seed;
    s.cmap = CmapShape {
        amplitude_mv: 4.0,
        ..CmapShape::default()
    };
    s.noise_uv_rms = 5.0;
    let hum = |f: f64| HumSpec {
        freq_hz: f,
        amplitude_uv: 100.0,
        harmonic3_ratio: 0.2,
    };
    match cond {
        Condition::Clean => {}
        Condition::Noise25 => s.noise_uv_rms = 25.0,
        Condition::Hum50 => s.hum = Some(hum(50.0)),
        Condition::Hum60 => s.hum = Some(hum(60.03)),
        Condition::Wander => {
            s.wander = Some(WanderSpec {
                amplitude_uv: 500.0,
                freq_hz: 0.3,
            })
        }
        Condition::ClippedArtifact => {
            s.artifact = ArtifactSpec {
                amplitude_mv: 30.0,
                ..ArtifactSpec::default()
            };
            s.clip_mv = Some(12.0);
        }
        Condition::Everything => {
            s.noise_uv_rms = 25.0;
            s.hum = Some(hum(50.0));
            s.wander = Some(WanderSpec {
                amplitude_uv: 500.0,
                freq_hz: 0.3,
            });
            s.artifact = ArtifactSpec {
                amplitude_mv: 30.0,
                ..ArtifactSpec::default()
            };
            s.clip_mv = Some(12.0);
        }
    }
    s
}

/// A small CMAP under 25 µV of noise, hum and wander, with a 200-stimulus
/// 50 Hz train.
pub fn small_cmap_case(rate: f64, amplitude_mv: f64, seed: u64) -> SynthSpec {
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
    s.hum = Some(HumSpec {
        freq_hz: 50.0,
        amplitude_uv: 50.0,
        harmonic3_ratio: 0.2,
    });
    s.wander = Some(WanderSpec {
        amplitude_uv: 300.0,
        freq_hz: 0.25,
    });
    s
}

/// Largest relative amplitude error (%) and decrement error (points) against the truth.
pub fn errors(out: &SynthOutput, a: &Analysis) -> (f64, f64, f64) {
    let truth_trains = out
        .truth
        .responses
        .iter()
        .map(|r| r.train)
        .max()
        .map_or(0, |m| m + 1);
    assert_eq!(
        a.trains.len(),
        truth_trains,
        "train count: {:#?}",
        a.trains
            .iter()
            .map(|t| t.responses.len())
            .collect::<Vec<_>>()
    );
    let mut amp_err: f64 = 0.0;
    let mut area_err: f64 = 0.0;
    let mut dec_err: f64 = 0.0;
    for (k, t) in a.trains.iter().enumerate() {
        let ta = out.truth.amplitudes(k);
        let tr = out.truth.areas(k);
        assert_eq!(t.responses.len(), ta.len(), "responses in train {k}");
        for (r, (&amp, &area)) in t.responses.iter().zip(ta.iter().zip(&tr)) {
            amp_err = amp_err.max(((r.amplitude_mv - amp) / amp * 100.0).abs());
            area_err = area_err.max(((r.area_mv_ms - area) / area * 100.0).abs());
        }
        if ta.len() >= 4 {
            let td = out.truth.amplitude_decrement_pct(k, 4).unwrap();
            let md = (t.responses[0].amplitude_mv - t.responses[3].amplitude_mv)
                / t.responses[0].amplitude_mv
                * 100.0;
            dec_err = dec_err.max((md - td).abs());
        }
    }
    (amp_err, area_err, dec_err)
}
