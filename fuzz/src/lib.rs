//! The code each fuzz target runs, shared with the regression replay test.
//!
//! Overview: thirteen entry points, one per fuzz target. [`wav`], [`csv`] and
//! [`edf`] hand the input bytes to a reader as a file's content,
//! [`brainvision`] as a header, marker and data file ([`unpack_brainvision`]),
//! [`text`] as a vendor text export, [`mat`] as a MAT-file;
//! [`spike2`], [`abf`], [`cfs`] and [`adicht`] (at the end) write them to a file, as those
//! readers open files; [`analyze`]
//! decodes them into a finite signal of bounded length, a sample rate in the
//! accepted range, stimuli, segments and a protocol, and runs the analysis.
//! [`csv_lines`] expands runs in the bytes (see [`expand`]) into a text with
//! lines and cells of megabytes and reads it from memory and from a file,
//! which must agree; [`csv_long`] builds a long (tidy) table from the bytes
//! (see [`long_table`]) and reads it. Whatever comes out is checked (see
//! below); a failed check panics, which the fuzzer reports as a crash.
//!
//! `tests/integration/fuzz_replay.rs` includes this file as a module and feeds
//! it every input under `tests/fuzz_regressions/<target>/`, so a committed
//! crash input is replayed by an ordinary `cargo test` through exactly the code
//! path that found it.
//!
//! Checks, beyond "no panic":
//! - an error is one line, names the file when it is about the file, and maps
//!   to exit code 2, 3 or 4;
//! - a recording that was read holds only finite samples, decoded channels of
//!   their declared length, ordered segments within the samples, stimuli
//!   within the samples and finite annotation times;
//! - an analysis has finite numbers, one of the four patterns, JSON that parses
//!   back with the same number of trains, and text and CSV renderings.
//!
//! This file may use only `rns_analyzer`, `serde_json` and `std`: the
//! integration tests compile it with the main crate's dependencies.

use rns_analyzer::analysis::{analyze_with_traces, plan_channels, Analysis};
use rns_analyzer::error::Error;
use rns_analyzer::io::{csv::read_csv, csv::read_csv_file, edf::read_edf, wav::read_wav};
use rns_analyzer::io::{ReadOptions, MAX_SAMPLES_PER_CHANNEL};
use rns_analyzer::output;
use rns_analyzer::recording::ChannelSel;
use rns_analyzer::recording::{
    Channel, ChannelKind, KnownStimuli, Recording, Segment, SourceFormat, StimulusOrigin,
};
use rns_analyzer::settings::config::{AnalysisConfig, Overrides, Settings};
use rns_analyzer::settings::criteria::Criteria;
use rns_analyzer::settings::protocol::{ExerciseSpec, TrainSpec};
use rns_analyzer::units::{Hz, SampleRate};
use rns_analyzer::vocab::{PolarityChoice, TrainRole};
use std::path::Path;

/// Longest signal the [`analyze`] target builds, samples (≈ 2.6 s at 100 kHz);
/// the fuzzer's input length bounds it further.
pub const MAX_FUZZ_SAMPLES: usize = 1 << 18;

/// Largest recording the reader targets go on to analyse, samples per
/// channel. Fuzz inputs are far smaller; the bound keeps a replayed
/// regression file from turning into a long test.
const MAX_ANALYSED: usize = 1 << 22;

/// Fuzz target `wav`: the bytes as a WAV file.
pub fn wav(data: &[u8]) {
    reader(data, "fuzz.wav", read_wav);
}

/// Fuzz target `csv`: the bytes as a CSV file.
pub fn csv(data: &[u8]) {
    reader(data, "fuzz.csv", read_csv);
}

/// Fuzz target `edf`: the bytes as an EDF/BDF file.
pub fn edf(data: &[u8]) {
    reader(data, "fuzz.edf", read_edf);
}

/// Fuzz target `csv_lines`: the bytes, their runs expanded ([`expand`]),
/// as a CSV file read from memory and from disk. Both must give the same
/// recording or the same error; what is read is checked and inspected (not
/// analysed: the `csv` target does that).
pub fn csv_lines(data: &[u8]) {
    let text = expand(data);
    let path = temp_path("csv_lines.csv");
    if std::fs::write(&path, &text).is_err() {
        return;
    }
    for ov in overrides() {
        let Ok(settings) = Settings::merge(&ov, None, Criteria::default()) else {
            panic!("the harness's overrides are valid");
        };
        let from_memory = read_csv(&path, &text, &settings.read);
        let from_file = read_csv_file(&path, &settings.read);
        match (&from_memory, &from_file) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a.len(), b.len(), "samples from memory and from the file");
                assert_eq!(a.channels.len(), b.channels.len(), "channels");
                assert_eq!(a.notes, b.notes, "notes");
                check_recording(a);
                if let Ok(plan) = plan_channels(a, &settings.analysis) {
                    let i = output::inspect::inspect(a, &plan);
                    parse_json(&output::inspect::render_json(&i));
                }
            }
            (Err(a), Err(b)) => {
                assert_eq!(
                    a.to_string(),
                    b.to_string(),
                    "errors from memory and from the file"
                );
                check_error(a, &path);
                // A message quotes at most a short excerpt of the text.
                let msg = a.to_string();
                assert!(msg.len() < 2_000, "a {}-byte message", msg.len());
            }
            _ => panic!(
                "memory and file disagree: {:?} / {:?}",
                from_memory.as_ref().err().map(ToString::to_string),
                from_file.as_ref().err().map(ToString::to_string)
            ),
        }
    }
    let _ = std::fs::remove_file(&path);
}

/// The most bytes [`expand`] makes: past the CSV reader's read-ahead limit
/// (4 MiB) and its line limit (1 MiB).
pub const MAX_EXPANDED: usize = 6 << 20;

/// The text [`csv_lines`] reads: the bytes as they are, except that `0xFF r
/// n f₁…fₙ` (n ≤ 16) stands for the fragment f₁…fₙ repeated 16·(r+1)² times
/// (up to a million times), so that a small input makes lines and cells of
/// megabytes; at most [`MAX_EXPANDED`] bytes.
pub fn expand(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < data.len() && out.len() < MAX_EXPANDED {
        let n = data.get(i + 2).map_or(0, |&n| usize::from(n % 17));
        if data[i] == 0xFF && i + 3 + n <= data.len() && n > 0 {
            let r = usize::from(data[i + 1]) + 1;
            let frag = &data[i + 3..i + 3 + n];
            for _ in 0..16 * r * r {
                if out.len() >= MAX_EXPANDED {
                    break;
                }
                out.extend_from_slice(frag);
            }
            i += 3 + n;
        } else {
            out.push(data[i]);
            i += 1;
        }
    }
    out.truncate(MAX_EXPANDED);
    out
}

/// A file name of this call's own in the temporary folder (the replay test
/// runs targets on several threads).
fn temp_path(name: &str) -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("rns-fuzz-{}-{n}-{name}", std::process::id()))
}

/// Fuzz target `csv_long`: a long (tidy) table built from the bytes (see
/// [`long_table`]), read as a CSV file and analysed as the `csv` target does.
pub fn csv_long(data: &[u8]) {
    let text = long_table(data);
    reader(&text, "fuzz.csv", read_csv);
}

/// A long table, one row per sample, from fuzz bytes. Layout (each field
/// reads as 0 when the bytes run out): `flags u8` (bit 0 a channel column,
/// bit 1 a stimulus intensity column, bit 2 a trailing delimiter, bit 3 CRLF,
/// bit 4 `;` with decimal commas, bit 5 quoted names, bit 6 a header block,
/// bit 7 the intensity changes within sweeps), `names u8` (which spelling of
/// each column), `sweeps u8` (1–8), `rows u8` (1–64), `channels u8` (1–4,
/// or value columns 1–3 without a channel column), `step u8` (the time
/// step), then one byte per cell: the value, except that 240–255 break the
/// row (skip, repeat, another sweep number, another time, a fractional or
/// negative index, an empty, text or NaN cell, a cell too many or too few, a
/// time going back, a new channel, a huge value, a blank line, a comment).
pub fn long_table(data: &[u8]) -> Vec<u8> {
    let mut c = Cursor { data };
    let flags = c.u8();
    let names = c.u8();
    let n_sweeps = usize::from(c.u8() % 8) + 1;
    let n_rows = usize::from(c.u8() % 64) + 1;
    let n_chan = usize::from(c.u8() % 4) + 1;
    let step = 0.05 * f64::from(c.u8() % 8 + 1);
    let has_channel = flags & 1 != 0;
    let has_intensity = flags & 2 != 0;
    let (delim, comma) = if flags & 0x10 != 0 {
        (';', true)
    } else {
        (',', false)
    };
    let eol = if flags & 8 != 0 { "\r\n" } else { "\n" };
    let pick = |list: &[&'static str], shift: u32| list[usize::from(names >> shift) % list.len()];
    let sweep = pick(
        &["recording_index", "sweep", "trial", "epoch", "sweep_no"],
        0,
    );
    let channel = pick(&["channel_index", "channel", "ch"], 3);
    let time = pick(&["time_point", "time_ms", "latency_ms", "t"], 5);
    let values = if has_channel { 1 } else { n_chan.min(3) };
    let mut head: Vec<String> = vec![sweep.into()];
    if has_channel {
        head.push(channel.into());
    }
    if has_intensity {
        head.push(["stimulus_V", "intensity", "current_mA"][n_rows % 3].into());
    }
    head.push(time.into());
    for v in 0..values {
        head.push(["amplitude_mV", "emg_uV", "EMG"][v].into());
    }
    if flags & 0x20 != 0 {
        head = head.into_iter().map(|h| format!("\"{h}\"")).collect();
    }
    let d = delim.to_string();
    let mut text = String::new();
    if flags & 0x40 != 0 {
        text.push_str(&format!("Subject{d}M1{eol}Sampling rate{d}20000 Hz{eol}"));
    }
    text.push_str(&head.join(&d));
    if flags & 4 != 0 {
        text.push_str(&d);
    }
    text.push_str(eol);
    let num = |v: f64| {
        let s = format!("{v}");
        if comma {
            s.replace('.', ",")
        } else {
            s
        }
    };
    let chans = if has_channel { n_chan } else { 1 };
    'rows: for k in 0..n_sweeps {
        for ch in 0..chans {
            for i in 0..n_rows {
                let b = c.u8();
                let mut sweep_cell = num(k as f64);
                let mut chan_cell = num((ch + 1) as f64);
                let mut t = (i as f64 - (n_rows / 4) as f64) * step;
                let mut value = num((f64::from(b) - 120.0) / 10.0);
                let mut extra = false;
                let mut missing = false;
                match b {
                    240 => continue,
                    241 => sweep_cell = num(((k + 1) % n_sweeps) as f64),
                    242 => t += step * 0.3,
                    243 => sweep_cell = num(k as f64 + 0.5),
                    244 => sweep_cell = num(-(k as f64) - 1.0),
                    245 => value = String::new(),
                    246 => value = "n/a".into(),
                    247 => value = "NaN".into(),
                    248 => extra = true,
                    249 => missing = true,
                    250 => t -= 2.0 * step,
                    251 => chan_cell = num((ch + 9) as f64),
                    252 => value = "1e300".into(),
                    253 => text.push_str(eol),
                    254 => text.push_str(&format!("# note{eol}")),
                    255 => break 'rows,
                    _ => {}
                }
                let mut row = vec![sweep_cell];
                if has_channel {
                    row.push(chan_cell);
                }
                if has_intensity {
                    let level = if flags & 0x80 != 0 { k * n_rows + i } else { k };
                    row.push(num(0.5 + 0.1 * level as f64));
                }
                // Printed as an export prints times: a fixed number of decimals.
                let t = format!("{t:.3}");
                row.push(if comma { t.replace('.', ",") } else { t });
                for _ in 0..values {
                    row.push(value.clone());
                }
                if missing {
                    row.pop();
                }
                if extra {
                    row.push("0".into());
                }
                text.push_str(&row.join(&d));
                if flags & 4 != 0 {
                    text.push_str(&d);
                }
                text.push_str(eol);
            }
        }
    }
    text.into_bytes()
}

type ReadFn = fn(&Path, &[u8], &ReadOptions) -> rns_analyzer::error::Result<Recording>;

/// Read `data` with two sets of options, as the CLI would build them, check
/// the outcome, and analyse what was read.
fn reader(data: &[u8], name: &str, read: ReadFn) {
    let path = Path::new(name);
    for ov in overrides() {
        let Ok(settings) = Settings::merge(&ov, None, Criteria::default()) else {
            panic!("the harness's overrides are valid");
        };
        match read(path, data, &settings.read) {
            Ok(rec) => {
                check_recording(&rec);
                // `rns inspect` on the same recording.
                if let Ok(plan) = plan_channels(&rec, &settings.analysis) {
                    let i = output::inspect::inspect(&rec, &plan);
                    let json = output::inspect::render_json(&i);
                    parse_json(&json);
                    let _ = output::inspect::render_text(&i);
                }
                if rec.len() <= MAX_ANALYSED {
                    run_analysis(&rec, &settings.analysis);
                }
            }
            Err(e) => check_error(&e, path),
        }
    }
}

/// The option sets the reader targets try: the CLI's defaults (with a sample
/// rate for a CSV without a time column), and a trigger on channel 1 with the
/// other CSV layout settings.
fn overrides() -> [Overrides; 2] {
    [
        Overrides {
            sample_rate_hz: Some(10_000.0),
            ..Overrides::default()
        },
        Overrides {
            channel: Some(ChannelSel::Index(0)),
            trigger_channel: Some(ChannelSel::Index(1)),
            full_scale_mv: Some(20.0),
            sample_rate_hz: Some(50_000.0),
            rate_hz: Some(3.0),
            polarity: Some(PolarityChoice::Positive),
            window_ms: Some((1.0, 20.0)),
            ..Overrides::default()
        },
    ]
}

/// Fuzz target `analyze`: a recording decoded from the bytes (see
/// [`recording_from_bytes`]) through the whole analysis.
pub fn analyze(data: &[u8]) {
    let (rec, cfg) = recording_from_bytes(data);
    check_recording(&rec);
    run_analysis(&rec, &cfg);
}

/// A little-endian reader that yields zeros once the bytes run out, so every
/// input decodes to something.
struct Cursor<'a> {
    data: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }
}

/// Values a hand-edited sidecar can hold where the protocol check lets them
/// through (it validates train fields but not the exercise times).
const ODD_TIMES: [Option<f64>; 8] = [
    None,
    Some(0.0),
    Some(5.0),
    Some(30.0),
    Some(-1.0),
    Some(1e300),
    Some(f64::NAN),
    Some(f64::INFINITY),
];

/// Decode a recording and a configuration from fuzz bytes.
///
/// Layout (each field reads as 0 when the bytes run out):
/// `flags u8` (bits 0–1 stimulus source: artifacts, trigger channel,
/// annotations, sweeps; bits 2–3 polarity; bit 4 several segments; bit 5 f32
/// samples instead of i16; bit 6 name the trigger channel; bit 7 keep traces),
/// `rate u16` (2 kHz–1 MHz, log scale), `gain u8` (10^±8), `offset i8`,
/// `stimuli u8` (≤ 63) and `spacing u8`, then that many `u16` positions,
/// `segments u8`, `gap u8`, `trains u8` (≤ 7) and four `u8` per train (role,
/// responses, rate, delay), `exercise u8`, `sweep rate u8`, `muscle u8`, and
/// the samples to the end (non-finite f32 become 0).
pub fn recording_from_bytes(data: &[u8]) -> (Recording, AnalysisConfig) {
    let mut c = Cursor { data };
    let flags = c.u8();
    let hz = 2_000.0 * 500f64.powf(f64::from(c.u16()) / 65_535.0);
    let rate = SampleRate::new(hz.clamp(SampleRate::MIN_HZ, SampleRate::MAX_HZ))
        .unwrap_or_else(|| panic!("{hz} Hz is within the accepted range"));
    let gain = 10f64.powf((f64::from(c.u8()) - 128.0) / 16.0);
    let offset = f64::from(c.u8() as i8) * gain * 64.0;
    let n_stim = usize::from(c.u8() % 64);
    let spacing = usize::from(c.u8()) + 1;
    let mut stims: Vec<usize> = (0..n_stim)
        .map(|_| usize::from(c.u16()) * spacing)
        .collect();
    let n_seg = usize::from(c.u8() % 4) + 1;
    let gap_s = f64::from(c.u8()) * 0.05;
    let n_trains = usize::from(c.u8() % 8);
    let trains: Vec<TrainSpec> = (0..n_trains)
        .map(|_| {
            let role = match c.u8() % 4 {
                0 => None,
                1 => Some(TrainRole::Baseline),
                2 => Some(TrainRole::PostExercise),
                _ => Some(TrainRole::Hfs),
            };
            let responses = match c.u8() {
                0 => None,
                255 => Some(usize::MAX),
                n => Some(usize::from(n)),
            };
            let rate_hz = match c.u8() {
                0 => None,
                255 => Some(1e300),
                r => Some(f64::from(r) * 0.25),
            };
            let delay = match c.u8() {
                0 => None,
                255 => Some(1e300),
                d => Some(f64::from(d)),
            };
            TrainSpec {
                role,
                delay_after_exercise_s: delay,
                responses,
                rate_hz,
            }
        })
        .collect();
    let ex = c.u8();
    let exercise = (ex != 0).then(|| ExerciseSpec {
        end_s: ODD_TIMES[usize::from(ex % 8)],
        duration_s: ODD_TIMES[usize::from((ex >> 3) % 8)],
    });
    let sweep_rate = match c.u8() {
        0 => None,
        r => Some(Hz(f64::from(r) * 4.0 / 1.02)),
    };
    let muscle = match c.u8() % 6 {
        0 => None,
        1 => Some("ADM"),
        2 => Some("APB"),
        3 => Some("FDI"),
        4 => Some("trapezius"),
        _ => Some("not a muscle"),
    };

    let raw = c.rest();
    let samples: Vec<f32> = if flags & 0x20 != 0 {
        raw.chunks_exact(4)
            .take(MAX_FUZZ_SAMPLES)
            .map(|b| {
                let v = f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]]));
                finite_f32(v * gain + offset)
            })
            .collect()
    } else {
        raw.chunks_exact(2)
            .take(MAX_FUZZ_SAMPLES)
            .map(|b| finite_f32(f64::from(i16::from_le_bytes([b[0], b[1]])) * gain + offset))
            .collect()
    };
    let len = samples.len();
    stims.retain(|&s| s < len);
    stims.sort_unstable();
    stims.dedup();

    // Segments: contiguous in samples, ascending in time with a gap between.
    let mut segments = Vec::new();
    let seg_len = len / n_seg;
    let mut start_s = 0.0;
    for k in 0..n_seg {
        let start = k * seg_len;
        let end = if k + 1 == n_seg { len } else { start + seg_len };
        if flags & 0x10 == 0 || seg_len == 0 {
            segments = Recording::continuous_segments(len);
            break;
        }
        segments.push(Segment {
            start,
            len: end - start,
            start_s,
        });
        start_s += (end - start) as f64 / rate.hz() + gap_s;
    }

    let mut rec = Recording::single_channel("fuzz.bin", rate, samples);
    rec.segments = segments;
    let mut trigger_channel = None;
    match flags & 3 {
        0 => {}
        1 => {
            // A trigger line with a pulse at each position.
            let width = spacing % 16 + 1;
            let mut t = vec![0.0f32; len];
            for &s in &stims {
                for v in t.iter_mut().skip(s).take(width) {
                    *v = 5.0;
                }
            }
            rec.channels.push(Channel {
                index: 1,
                label: "trigger".into(),
                unit: String::new(),
                kind: ChannelKind::Trigger,
                len,
                sample_rate_hz: None,
                samples: t,
            });
            if flags & 0x40 != 0 {
                trigger_channel = Some(ChannelSel::Index(1));
            }
        }
        2 => {
            rec.stimuli = (!stims.is_empty()).then(|| KnownStimuli {
                samples: stims.clone(),
                origin: StimulusOrigin::Annotations,
                timing_known: true,
            });
        }
        _ => {
            // Sweeps of equal length, the stimulus at the same row of each.
            rec.format = SourceFormat::CsvSweeps;
            let k = n_stim.max(1);
            let l = len / k;
            if l > 0 {
                let i0 = stims.first().map_or(0, |s| s % l);
                rec.segments = (0..k)
                    .map(|s| Segment {
                        start: s * l,
                        len: l,
                        start_s: (s * l) as f64 / rate.hz(),
                    })
                    .collect();
                rec.stimuli = Some(KnownStimuli {
                    samples: (0..k).map(|s| s * l + i0).collect(),
                    origin: StimulusOrigin::Sweeps,
                    timing_known: false,
                });
                for ch in &mut rec.channels {
                    ch.samples.truncate(k * l);
                    ch.len = k * l;
                }
            }
        }
    }
    let cfg = AnalysisConfig {
        trigger_channel,
        polarity: match (flags >> 2) & 3 {
            1 => PolarityChoice::Negative,
            2 => PolarityChoice::Positive,
            _ => PolarityChoice::Auto,
        },
        muscle: muscle.map(str::to_string),
        sweep_rate,
        trains,
        exercise,
        ..AnalysisConfig::default()
    };
    (rec, cfg)
}

/// `v` as a finite f32 (0 when it is not).
fn finite_f32(v: f64) -> f32 {
    let f = v as f32;
    if f.is_finite() {
        f
    } else {
        0.0
    }
}

/// Analyse, with the per-response traces the report draws, and check.
fn run_analysis(rec: &Recording, cfg: &AnalysisConfig) {
    match analyze_with_traces(rec, cfg) {
        Ok((a, traces)) => {
            check_analysis(&a);
            assert_eq!(traces.len(), a.trains.len(), "one trace set per train");
        }
        Err(e) => check_error(&e, &rec.path),
    }
}

/// An error message is one line; an error about the file names it.
pub fn check_error(e: &Error, path: &Path) {
    let msg = e.to_string();
    assert!(!msg.contains('\n'), "multi-line message: {msg:?}");
    assert!(
        [2, 3, 4].contains(&e.exit_code()),
        "exit code {} for {msg:?}",
        e.exit_code()
    );
    if !matches!(e, Error::Usage(_)) {
        assert!(
            msg.starts_with(&path.display().to_string()),
            "message does not name the file: {msg:?}"
        );
    }
}

/// What every reader promises about a [`Recording`] it returns.
pub fn check_recording(rec: &Recording) {
    let len = rec.len();
    assert!(len as u64 <= MAX_SAMPLES_PER_CHANNEL, "{len} samples");
    for c in &rec.channels {
        assert!(
            c.samples.is_empty() || c.samples.len() == c.len,
            "channel {} holds {} of {} samples",
            c.index,
            c.samples.len(),
            c.len
        );
        if let Some(i) = c.samples.iter().position(|v| !v.is_finite()) {
            panic!(
                "channel {} sample {i} is {} (readers must refuse non-finite values)",
                c.index, c.samples[i]
            );
        }
        if let Some(hz) = c.sample_rate_hz {
            assert!(hz.is_finite() && hz > 0.0, "channel {} rate {hz}", c.index);
        }
    }
    let mut prev: Option<&Segment> = None;
    for s in &rec.segments {
        assert!(s.start_s.is_finite(), "segment start {} s", s.start_s);
        assert!(s.end() <= len, "segment {s:?} beyond {len} samples");
        if let Some(p) = prev {
            assert!(s.start >= p.end(), "segments overlap: {p:?} {s:?}");
            assert!(s.start_s >= p.start_s, "segments out of order: {p:?} {s:?}");
        }
        prev = Some(s);
    }
    if let Some(k) = &rec.stimuli {
        assert!(
            k.samples.windows(2).all(|w| w[0] < w[1]),
            "stimuli not ascending"
        );
        assert!(
            k.samples.iter().all(|&s| s < len.max(1)),
            "stimulus beyond the samples"
        );
    }
    for a in &rec.annotations {
        assert!(a.onset_s.is_finite(), "annotation onset {}", a.onset_s);
        assert!(
            a.duration_s.is_none_or(f64::is_finite),
            "annotation duration {:?}",
            a.duration_s
        );
    }
}

fn parse_json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("output is not JSON ({e}): {s}"))
}

/// What every analysis promises: finite numbers, a known pattern, JSON that
/// parses, and renderings that do not fail.
pub fn check_analysis(a: &Analysis) {
    let finite = |what: &str, v: f64| assert!(v.is_finite(), "{what} is {v}");
    let finite_opt = |what: &str, v: Option<f64>| {
        if let Some(v) = v {
            assert!(v.is_finite(), "{what} is {v}");
        }
    };
    finite("sample_rate_hz", a.source.sample_rate_hz);
    finite("duration_s", a.source.duration_s);
    finite_opt("post_exercise_increment_pct", a.post_exercise_increment_pct);
    for t in &a.trains {
        for (name, v) in [
            ("rate_hz", t.rate_hz),
            ("start_s", t.start_s),
            ("delay_after_exercise_s", t.delay_after_exercise_s),
            ("decrement_pct", t.decrement_pct),
            ("increment_pct", t.increment_pct),
            ("late_early_ratio", t.late_early_ratio),
        ] {
            finite_opt(name, v);
        }
        for r in &t.responses {
            finite_opt("stimulus_s", r.stimulus_s);
            for (name, v) in [
                ("latency_ms", r.latency_ms),
                ("amplitude_mv", r.amplitude_mv),
                ("peak_to_peak_mv", r.peak_to_peak_mv),
                ("area_mv_ms", r.area_mv_ms),
                ("duration_ms", r.duration_ms),
                ("peak_latency_ms", r.peak_latency_ms),
                ("baseline_mv", r.baseline_mv),
            ] {
                finite(name, v);
            }
            finite_opt("amplitude_rel_pct", r.amplitude_rel_pct);
            finite_opt("area_rel_pct", r.area_rel_pct);
        }
    }
    for f in &a.classification.findings {
        finite_opt(f.code.name(), f.value);
        finite_opt(f.code.name(), f.threshold);
        assert!(!f.message.contains('\n'), "finding {:?}", f.message);
    }
    for q in &a.quality {
        assert!(!q.message.contains('\n'), "quality flag {:?}", q.message);
    }
    let json = output::json::render_one(a);
    let back = parse_json(&json);
    assert_eq!(
        back["trains"].as_array().map(Vec::len),
        Some(a.trains.len()),
        "trains in the JSON"
    );
    let _ = output::text::render(a);
    let _ = output::csv::render(&[a]);
}

/// Fuzz target `spike2`: the bytes as a Spike2 file on disk (the reader
/// opens files by path), `.smr` or `.smrx` by its first bytes.
pub fn spike2(data: &[u8]) {
    file_reader(data, "fuzz.smr", rns_analyzer::io::spike2::read_spike2_file);
}

/// Fuzz target `abf`: the bytes as an ABF file on disk.
pub fn abf(data: &[u8]) {
    file_reader(data, "fuzz.abf", rns_analyzer::io::abf::read_abf_file);
}

/// [`reader`] for readers that take a path: the bytes are written to a
/// temporary file, read with each option set, checked (an error must name
/// that file), and the file removed.
fn file_reader(
    data: &[u8],
    name: &str,
    read: fn(&Path, &ReadOptions) -> rns_analyzer::error::Result<Recording>,
) {
    let path = temp_path(name);
    if std::fs::write(&path, data).is_err() {
        return;
    }
    for ov in overrides() {
        let Ok(settings) = Settings::merge(&ov, None, Criteria::default()) else {
            panic!("the harness's overrides are valid");
        };
        match read(&path, &settings.read) {
            Ok(rec) => {
                check_recording(&rec);
                if let Ok(plan) = plan_channels(&rec, &settings.analysis) {
                    let i = output::inspect::inspect(&rec, &plan);
                    parse_json(&output::inspect::render_json(&i));
                    let _ = output::inspect::render_text(&i);
                }
                if rec.len() <= MAX_ANALYSED {
                    run_analysis(&rec, &settings.analysis);
                }
            }
            Err(e) => check_error(&e, &path),
        }
    }
    let _ = std::fs::remove_file(&path);
}

/// Fuzz target `brainvision`: the bytes as a BrainVision header, marker
/// file and data file (see [`unpack_brainvision`]), read from memory.
pub fn brainvision(data: &[u8]) {
    reader(data, "fuzz.vhdr", read_brainvision_packed);
}

/// Read the `brainvision` target's input as the three files.
fn read_brainvision_packed(
    path: &Path,
    data: &[u8],
    opts: &ReadOptions,
) -> rns_analyzer::error::Result<Recording> {
    let (header, markers, eeg) = unpack_brainvision(data);
    rns_analyzer::io::brainvision::read_brainvision_parts(path, header, markers, eeg, opts)
}

/// The three files in a `brainvision` input: a little-endian `u16` header
/// length, a `u16` marker file length (`0xFFFF`: no marker file), the
/// header, the marker file, then the data file (the rest). Lengths beyond
/// the input are cut to it.
pub fn unpack_brainvision(data: &[u8]) -> (&[u8], Option<&[u8]>, &[u8]) {
    let len = |i: usize| usize::from(u16::from_le_bytes([data[i], data[i + 1]]));
    if data.len() < 4 {
        return (data, None, &[]);
    }
    let (h, m) = (len(0), len(2));
    let rest = &data[4..];
    let (header, rest) = rest.split_at(h.min(rest.len()));
    if m == 0xFFFF {
        return (header, None, rest);
    }
    let (markers, eeg) = rest.split_at(m.min(rest.len()));
    (header, Some(markers), eeg)
}

/// The `brainvision` target's input holding these three files.
pub fn pack_brainvision(header: &[u8], markers: Option<&[u8]>, eeg: &[u8]) -> Vec<u8> {
    let h = u16::try_from(header.len()).unwrap_or(u16::MAX);
    let m = markers.map_or(0xFFFF, |m| u16::try_from(m.len()).unwrap_or(0xFFFE));
    let mut out = Vec::with_capacity(4 + header.len() + eeg.len());
    out.extend_from_slice(&h.to_le_bytes());
    out.extend_from_slice(&m.to_le_bytes());
    out.extend_from_slice(&header[..usize::from(h)]);
    if let Some(mk) = markers {
        out.extend_from_slice(&mk[..usize::from(m).min(mk.len())]);
    }
    out.extend_from_slice(eeg);
    out
}

/// Fuzz target `cfs`: the bytes as a CED Signal (CFS) file.
pub fn cfs(data: &[u8]) {
    file_reader(data, "fuzz.cfs", rns_analyzer::io::cfs::read_cfs_file);
}

/// Fuzz target `text`: the bytes as a vendor text export (Synergy or ASCII
/// sweeps), read from memory.
pub fn text(data: &[u8]) {
    reader(data, "fuzz.txt", rns_analyzer::io::text::read_text);
}

/// Fuzz target `mat`: the bytes as a MATLAB MAT-file (level 5 or v7.3),
/// read from memory as `rns` reads it from disk.
pub fn mat(data: &[u8]) {
    reader(data, "fuzz.mat", rns_analyzer::io::mat::read_mat);
}

/// Fuzz target `adicht`: the bytes as a LabChart `.adicht` file.
pub fn adicht(data: &[u8]) {
    file_reader(
        data,
        "fuzz.adicht",
        rns_analyzer::io::adicht::read_adicht_file,
    );
}
