//! `rns report`: the files it writes, well-formed self-contained HTML with one
//! table per train, determinism, the output-folder rules, the response traces
//! behind the plots, and a rendering check in headless Chromium.

use crate::util::{rns, sample};
use quick_xml::events::Event;
use quick_xml::reader::Reader;
use rns_analyzer::analysis::{analyze, analyze_with_traces};
use rns_analyzer::settings::config::Settings;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn sha256_hex(bytes: &[u8]) -> String {
    rns_analyzer::report::sha256_bytes(bytes)
}

/// Every file under `dir`, relative path → bytes.
pub fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// Parse the document as XML: every element closed in order, attributes and
/// text well-formed, nothing left open at the end. Returns the element count.
pub fn assert_well_formed(doc: &str) -> usize {
    let mut r = Reader::from_str(doc);
    r.config_mut().check_end_names = true;
    let mut stack: Vec<String> = Vec::new();
    let mut elements = 0;
    loop {
        match r.read_event() {
            Ok(Event::Start(e)) => {
                for a in e.attributes() {
                    let a = a.unwrap_or_else(|err| panic!("bad attribute: {err}"));
                    a.unescape_value().expect("attribute value unescapes");
                }
                stack.push(String::from_utf8_lossy(e.name().as_ref()).into_owned());
                elements += 1;
            }
            Ok(Event::Empty(e)) => {
                for a in e.attributes() {
                    let a = a.unwrap_or_else(|err| panic!("bad attribute: {err}"));
                    a.unescape_value().expect("attribute value unescapes");
                }
                elements += 1;
            }
            Ok(Event::End(e)) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                assert_eq!(
                    stack.pop().as_deref(),
                    Some(name.as_str()),
                    "mismatched </{name}>"
                );
            }
            Ok(Event::Text(t)) => {
                t.unescape().unwrap_or_else(|err| {
                    panic!("bad text near byte {}: {err}", r.buffer_position())
                });
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("not well-formed at byte {}: {e}", r.buffer_position()),
        }
    }
    assert!(stack.is_empty(), "unclosed elements: {stack:?}");
    elements
}

fn run_report(files: &[PathBuf], out: &Path, extra: &[&str]) -> std::process::Output {
    rns()
        .arg("report")
        .args(files)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn report_writes_html_plots_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let input = sample("mg_session.wav");
    let before = std::fs::read(&input).unwrap();
    let o = run_report(std::slice::from_ref(&input), &out, &["--plots", "both"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read(&input).unwrap(), before, "input modified");

    // JSON: the same as `rns analyze --format json`.
    let json: Value =
        serde_json::from_slice(&std::fs::read(out.join("mg_session.json")).unwrap()).unwrap();
    let analyzed = rns()
        .args(["analyze", "--format", "json"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(
        json,
        serde_json::from_slice::<Value>(&analyzed.stdout).unwrap()
    );
    let trains = json["trains"].as_array().unwrap();
    assert_eq!(trains.len(), 3);

    // Plots as SVG and PNG.
    let mut names = vec![
        "trends".to_string(),
        "post_exercise".to_string(),
        "rest_vs_post_exercise".to_string(),
    ];
    for i in 1..=3 {
        names.push(format!("train{i}_mini"));
        names.push(format!("train{i}_waterfall"));
        names.push(format!("train{i}_superimposed"));
    }
    for n in &names {
        let svg = std::fs::read_to_string(out.join("mg_session").join(format!("{n}.svg"))).unwrap();
        assert!(svg.starts_with("<svg"), "{n}.svg");
        assert_well_formed(&svg);
        let png = std::fs::read(out.join("mg_session").join(format!("{n}.png"))).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let reader = decoder.read_info().expect("PNG decodes");
        let min = if n.ends_with("_mini") { 700 } else { 1000 };
        assert!(reader.info().width >= min, "{n}.png is drawn at 2×");
    }

    // HTML: well-formed, self-contained, one table per train with every response.
    let html = std::fs::read_to_string(out.join("mg_session.html")).unwrap();
    assert!(assert_well_formed(&html) > 100);
    assert!(html.contains(&sha256_hex(&before)), "input checksum shown");
    assert!(
        html.contains(env!("CARGO_PKG_VERSION")),
        "tool version shown"
    );
    assert!(html.contains("Patterns, not diagnoses"));
    assert!(html.contains("MG-like"));
    for bad in ["src=", "href=", "url(", "@import", "<script", "<link"] {
        assert!(!html.contains(bad), "external resource or script: {bad}");
    }
    for t in trains {
        let i = t["index"].as_u64().unwrap();
        let start = html
            .find(&format!("id=\"responses-train-{i}\""))
            .unwrap_or_else(|| panic!("table of train {i}"));
        let table = &html[start..start + html[start..].find("</table>").unwrap()];
        let rows = table.matches("<tr>").count() - 1;
        assert_eq!(
            rows,
            t["responses"].as_array().unwrap().len(),
            "rows of train {i}"
        );
        let first_amp = t["responses"][0]["amplitude_mv"].as_f64().unwrap();
        assert!(
            table.contains(&format!("{first_amp:.3}")),
            "amplitude in table {i}"
        );
        assert!(html.contains(&format!("id=\"fig-train{i}_waterfall\"")));
        assert!(html.contains(&format!("id=\"fig-train{i}_superimposed\"")));
    }
    // Quality flags in words, criteria with sources.
    assert!(html.contains("Mains hum was found and subtracted"));
    assert!(html.contains("[A1][N1][N4]"));
    // The plots are inline.
    assert_eq!(html.matches("<svg").count(), names.len());
}

/// By default a report is its HTML (plots inline) and its JSON, no plot
/// files, and at most 300 KB even for a long session: twenty responses at
/// rest and after exercise, and 500 at 50 Hz. `--plots` adds the files.
#[test]
fn default_report_is_one_small_file_and_plots_come_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let long = dir.path().join("long.wav");
    let sim = rns()
        .args(["simulate", "--protocol", "session", "--preset", "lems"])
        .args([
            "--stimuli",
            "20",
            "--hfs-rate",
            "50",
            "--hfs-duration",
            "10",
            "--out",
        ])
        .arg(&long)
        .output()
        .unwrap();
    assert!(
        sim.status.success(),
        "{}",
        String::from_utf8_lossy(&sim.stderr)
    );
    let out = dir.path().join("out");
    let files = [long, sample("mg_session.wav"), sample("hfs_lems.wav")];
    let o = run_report(&files, &out, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t = tree(&out);
    assert_eq!(
        t.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "hfs_lems.html",
            "hfs_lems.json",
            "long.html",
            "long.json",
            "mg_session.html",
            "mg_session.json"
        ]
    );
    for (name, bytes) in &t {
        if name.ends_with(".html") {
            assert!(bytes.len() <= 300 * 1024, "{name}: {} bytes", bytes.len());
            let html = std::str::from_utf8(bytes).unwrap();
            assert_well_formed(html);
            assert!(html.matches("<svg").count() >= 6, "{name}: plots inline");
        }
    }
    let long_json: Value = serde_json::from_slice(&t["long.json"]).unwrap();
    let hfs = long_json["trains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tr| tr["responses"].as_array().unwrap().len())
        .max()
        .unwrap();
    assert!(
        hfs >= 490,
        "the long session has its 10 s high-rate train: {hfs}"
    );
    for (which, svg, png) in [("svg", true, false), ("png", false, true)] {
        let o2 = dir.path().join(which);
        let o = run_report(&files[1..2], &o2, &["--plots", which]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let t = tree(&o2);
        assert_eq!(t.contains_key("mg_session/trends.svg"), svg, "{which}");
        assert_eq!(t.contains_key("mg_session/trends.png"), png, "{which}");
        // The HTML does not depend on which files are written.
        assert_eq!(
            t["mg_session.html"],
            tree(&out)["mg_session.html"],
            "{which}"
        );
    }
    let bad = run_report(&files[1..2], &dir.path().join("bad"), &["--plots", "jpeg"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("none, svg, png or both"));
}

#[test]
fn report_is_byte_for_byte_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let files = [sample("hfs_lems.wav"), sample("lems_brief_exercise.csv")];
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    assert!(run_report(&files, &a, &["--plots", "both"])
        .status
        .success());
    assert!(run_report(&files, &b, &["--plots", "both"])
        .status
        .success());
    let (ta, tb) = (tree(&a), tree(&b));
    assert!(ta.contains_key("hfs_lems.html"));
    // Single-response trains: no trend, but the post-exercise comparison.
    assert!(ta.contains_key("lems_brief_exercise/post_exercise.png"));
    assert!(!ta.contains_key("lems_brief_exercise/trends.png"));
    assert_eq!(ta.keys().collect::<Vec<_>>(), tb.keys().collect::<Vec<_>>());
    for (k, v) in &ta {
        assert!(v == &tb[k], "{k} differs between runs");
    }
}

#[test]
fn existing_output_folder_needs_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("normal_trigger.html"), b"old").unwrap();
    let files = [sample("normal_trigger.csv")];
    let o = run_report(&files, &out, &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("--force"), "{err}");
    assert_eq!(
        std::fs::read(out.join("normal_trigger.html")).unwrap(),
        b"old"
    );

    let o = run_report(&files, &out, &["--force"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(out.join("normal_trigger.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    // An existing empty folder is fine without --force.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert!(run_report(&files, &empty, &[]).status.success());
}

#[test]
fn a_broken_file_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.wav");
    std::fs::write(&broken, b"RIFF\x10\x00\x00\x00WAVEjunk").unwrap();
    let out = dir.path().join("out");
    let o = run_report(&[broken, sample("normal_trigger.csv")], &out, &[]);
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("broken.wav"), "{err}");
    assert!(out.join("normal_trigger.html").is_file());
    assert!(!out.join("broken.html").exists());
}

/// Read and analyse a sample the way the CLI does (its sidecar applies).
fn load(name: &str) -> (rns_analyzer::recording::Recording, Settings) {
    crate::util::load_with_sidecar(&sample(name))
}

#[test]
fn traces_match_the_analysis() {
    for name in [
        "mg_session.wav",
        "hfs_pseudofacilitation.wav",
        "mg_sweeps.csv",
    ] {
        let (rec, settings) = load(name);
        let plain = analyze(&rec, &settings.analysis).unwrap();
        let (with, traces) = analyze_with_traces(&rec, &settings.analysis).unwrap();
        assert_eq!(plain, with, "{name}: same analysis either way");
        assert_eq!(traces.len(), with.trains.len(), "{name}");
        for (t, tr) in with.trains.iter().zip(&traces) {
            assert_eq!(t.index, tr.index);
            assert_eq!(
                t.responses.len(),
                tr.responses.len(),
                "{name} train {}",
                t.index
            );
            for (r, x) in t.responses.iter().zip(&tr.responses) {
                assert!(!x.points.is_empty() && x.points.len() <= 1000);
                assert!(x.points.windows(2).all(|w| w[0].0 < w[1].0), "time order");
                // Markers are where the figures say.
                assert!((x.onset_ms - r.latency_ms).abs() < 1e-3, "{name}: onset");
                assert!((x.peak_ms - r.peak_latency_ms).abs() < 1e-3, "{name}: peak");
                assert!((x.peak_mv - x.baseline_mv - r.amplitude_mv).abs() < 1e-3);
                assert!(
                    (x.phase_end_ms - x.onset_ms - r.duration_ms).abs() < 2e-3,
                    "{name}: duration"
                );
                // The main phase is drawn up: the peak is above the baseline.
                assert!(x.peak_mv > x.baseline_mv);
                let at_peak = x
                    .points
                    .iter()
                    .min_by(|a, b| (a.0 - x.peak_ms).abs().total_cmp(&(b.0 - x.peak_ms).abs()))
                    .unwrap();
                assert!(
                    at_peak.1 - x.baseline_mv > 0.8 * r.amplitude_mv,
                    "{name}: waveform"
                );
            }
        }
    }
}

/// The chromium binary, if one is installed: the one `rns report --pdf`
/// would use.
fn chromium() -> Option<PathBuf> {
    rns_analyzer::report::pdf::browser()
}

/// Render the report in headless Chromium and check the page is not blank:
/// enough non-white pixels, and dark ones (text).
#[test]
fn report_renders_in_headless_chromium() {
    let Some(chrome) = chromium() else {
        // Straight to the stderr handle: the harness captures only print macros,
        // so the line shows in every `cargo test` run.
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: chromium not found (install Debian's `chromium`; .ci/run does)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = run_report(&[sample("mg_session.wav")], &out, &[]);
    assert!(o.status.success());
    let html = out.join("mg_session.html").canonicalize().unwrap();
    let shot = dir.path().join("shot.png");
    let profile = dir.path().join("profile");
    let mut child = std::process::Command::new(&chrome)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1200,1600")
        .arg(format!("file://{}", html.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let bytes = std::fs::read(&shot).expect("chromium wrote a screenshot");
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    assert!(channels >= 3, "colour screenshot");
    let px = &buf[..info.buffer_size()];
    let n = px.len() / channels;
    let (mut non_white, mut dark) = (0usize, 0usize);
    for p in px.chunks(channels) {
        let (r, g, b) = (u32::from(p[0]), u32::from(p[1]), u32::from(p[2]));
        if r < 245 || g < 245 || b < 245 {
            non_white += 1;
        }
        if r + g + b < 3 * 90 {
            dark += 1;
        }
    }
    let non_white_pct = non_white as f64 / n as f64 * 100.0;
    let dark_pct = dark as f64 / n as f64 * 100.0;
    assert!(
        non_white_pct > 2.0,
        "page looks blank: {non_white_pct:.2} % non-white"
    );
    assert!(dark_pct > 0.2, "no text-like dark pixels: {dark_pct:.3} %");
}

/// The contract's snake_case names (roles, sources, shapes, flag and
/// finding codes) that a reader-facing sentence must not show.
fn raw_names() -> Vec<&'static str> {
    use rns_analyzer::vocab::*;
    let mut v: Vec<&'static str> = Vec::new();
    v.extend(TrainRole::ALL.iter().map(|x| x.name()));
    v.extend(RoleSource::ALL.iter().map(|x| x.name()));
    v.extend(Shape::ALL.iter().map(|x| x.name()));
    v.extend(StimulusSource::ALL.iter().map(|x| x.name()));
    v.extend(ExerciseSource::ALL.iter().map(|x| x.name()));
    v.extend(Pattern::ALL.iter().map(|x| x.name()));
    v.extend(FlagCode::ALL.iter().map(|x| x.name()));
    v.extend(FindingCode::ALL.iter().map(|x| x.name()));
    v.retain(|n| n.contains('_'));
    v
}

/// No finding (the JSON messages the text summary and the report show) says
/// "n/a" or a raw enum name; the text summary's trains read in words.
#[test]
fn findings_and_train_labels_read_as_words() {
    let names = raw_names();
    let check = |what: &str, text: &str| {
        assert!(!text.contains("n/a"), "{what}: n/a in {text}");
        for n in &names {
            assert!(!text.contains(n), "{what}: {n} in {text}");
        }
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let mut seen = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if !rns_analyzer::io::is_supported_path(&p) {
            continue;
        }
        let (rec, s) = crate::util::load_with_sidecar(&p);
        let a = analyze(&rec, &s.analysis).unwrap();
        for f in &a.classification.findings {
            check(&p.display().to_string(), &f.message);
        }
        let text = rns_analyzer::output::text::render(&a);
        for line in text
            .lines()
            .filter(|l| l.trim_start().starts_with("Train "))
        {
            check(&p.display().to_string(), line);
        }
        seen += 1;
    }
    assert!(seen >= 8, "{seen} samples");
}

/// A recording of ten 3 Hz trains (rest, then nine after exercise) written
/// as a float WAV with a sidecar that gives the roles and delays.
fn ten_trains(dir: &Path) -> PathBuf {
    use rns_analyzer::export::wav::{encode_wav, WavSampleFormat};
    use rns_analyzer::sim::synth::{generate, SynthSpec, TrainSpec};
    let gains = [1.0, 0.85, 0.78, 0.74, 0.73, 0.74, 0.75, 0.76, 0.77, 0.78];
    let trains: Vec<TrainSpec> = (0..10)
        .map(|i| TrainSpec::from_gains(1.0 + 6.0 * i as f64, 3.0, &gains))
        .collect();
    let spec = SynthSpec {
        sample_rate_hz: 10_000.0,
        duration_s: 62.0,
        trains,
        ..SynthSpec::default()
    };
    let out = generate(&spec);
    let bytes = encode_wav(&[&out.samples], 10_000, 1.0, WavSampleFormat::Float32).unwrap();
    let wav = dir.join("ten.wav");
    std::fs::write(&wav, bytes).unwrap();
    let mut side = String::from("muscle = \"ADM\"\n[[trains]]\nrole = \"baseline\"\n");
    for i in 1..10 {
        side.push_str(&format!(
            "[[trains]]\nrole = \"post_exercise\"\ndelay_after_exercise_s = {}\n",
            if i == 1 { 0 } else { 30 * (i - 1) }
        ));
    }
    std::fs::write(dir.join("ten.wav.rns.toml"), side).unwrap();
    wav
}

/// The `<text>` elements of an SVG: x, y, anchor, font size, text.
fn svg_texts(svg: &str) -> Vec<(f64, f64, String, f64, String)> {
    let mut v = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find("<text ") {
        rest = &rest[i..];
        let end = rest.find("</text>").unwrap();
        let el = &rest[..end];
        let attr = |name: &str| {
            let key = format!(" {name}=\"");
            el.find(&key).map(|p| {
                let s = &el[p + key.len()..];
                s[..s.find('"').unwrap()].to_string()
            })
        };
        let num = |name: &str| attr(name).and_then(|s| s.parse::<f64>().ok());
        let text = el[el.find('>').unwrap() + 1..].trim().to_string();
        if let (Some(x), Some(y), Some(fs)) = (num("x"), num("y"), num("font-size")) {
            let anchor = attr("text-anchor").unwrap_or_else(|| "start".into());
            // Rotated axis titles are not laid out along the x axis.
            if attr("transform").is_none() {
                v.push((x, y, anchor, fs, text));
            }
        }
        rest = &rest[end..];
    }
    v
}

/// Ten trains: every legend entry is there, and no label of the trend or
/// bar figures runs off the figure or into another label, in the SVG; the
/// PNG is the same layout, one pixel per SVG unit.
#[test]
fn legends_and_labels_hold_for_ten_trains() {
    let dir = tempfile::tempdir().unwrap();
    let wav = ten_trains(dir.path());
    let out = dir.path().join("out");
    let o = run_report(&[wav], &out, &["--plots", "both"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("ten.json")).unwrap()).unwrap();
    assert_eq!(json["trains"].as_array().unwrap().len(), 10);
    for name in ["trends", "post_exercise"] {
        let svg = std::fs::read_to_string(out.join("ten").join(format!("{name}.svg"))).unwrap();
        // Text is placed in the viewBox's units (the figure drawn at 2×).
        let width: f64 = {
            let p = svg.find("viewBox=\"0 0 ").unwrap() + 13;
            let v = &svg[p..p + svg[p..].find('"').unwrap()];
            v.split(' ').next().unwrap().parse().unwrap()
        };
        let texts = svg_texts(&svg);
        for i in 1..=10 {
            assert!(
                texts
                    .iter()
                    .any(|t| t.4.starts_with(&format!("train {i} ·"))
                        || t.4.starts_with(&format!("T{i} "))),
                "{name}: no legend entry for train {i}"
            );
        }
        // Boxes from a generous width estimate (0.62 em a character).
        let boxes: Vec<(f64, f64, f64, f64, &str)> = texts
            .iter()
            .map(|(x, y, anchor, fs, t)| {
                let w = 0.62 * fs * t.chars().count() as f64;
                let x0 = match anchor.as_str() {
                    "middle" => x - w / 2.0,
                    "end" => x - w,
                    _ => *x,
                };
                (x0, x0 + w, *y, *fs, t.as_str())
            })
            .collect();
        for (a, b) in boxes
            .iter()
            .enumerate()
            .flat_map(|(i, a)| boxes[i + 1..].iter().map(move |b| (a, b)))
        {
            let same_line = (a.2 - b.2).abs() < 0.8 * a.3.min(b.3);
            let overlap = a.0 < b.1 - 1.0 && b.0 < a.1 - 1.0;
            assert!(
                !(same_line && overlap),
                "{name}: {:?} and {:?} collide",
                a.4,
                b.4
            );
        }
        for b in &boxes {
            assert!(
                b.0 >= -1.0 && b.1 <= width + 1.0,
                "{name}: {:?} leaves the figure",
                b.4
            );
        }
        let png = std::fs::read(out.join("ten").join(format!("{name}.png"))).unwrap();
        let info = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .unwrap();
        // The PNG is the SVG's drawing (both at 2×), pixel for unit.
        assert_eq!(f64::from(info.info().width), width, "{name}");
    }
}

/// A tool of poppler-utils (`pdfinfo`, `pdftotext`, `pdftoppm`), if installed.
fn poppler(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn skipped(why: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
}

/// `rns report --pdf`: printed on A4 and Letter without a network, four
/// pages at most for mg_session, the first page holding the header, the
/// verdict, the summary table and a small waterfall per train, page numbers
/// on every page, and nothing cut at the margins (every word inside the
/// page, the rasterised first page white at its edges).
#[test]
fn report_prints_to_pdf_and_the_first_page_holds_the_summary() {
    let (Some(_), Some(info), Some(text), Some(ppm)) = (
        chromium(),
        poppler("pdfinfo"),
        poppler("pdftotext"),
        poppler("pdftoppm"),
    ) else {
        skipped("chromium or poppler-utils not found (.ci/run installs both)");
        return;
    };
    let run = |cmd: &Path, args: &[&str]| {
        let o = std::process::Command::new(cmd).args(args).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    for paper in ["a4", "letter"] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let o = run_report(
            &[sample("mg_session.wav")],
            &out,
            &[
                "--pdf",
                "--paper",
                paper,
                "--patient-id",
                "MRN-7",
                "--study-date",
                "2026-12-03",
            ],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let pdf = out.join("mg_session.pdf");
        let pdf_s = pdf.to_str().unwrap();
        // Nothing but the outputs is left in the folder.
        let names: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
        let meta = run(&info, &[pdf_s]);
        let pages: usize = meta
            .lines()
            .find_map(|l| l.strip_prefix("Pages:"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!((1..=4).contains(&pages), "{paper}: {pages} pages");
        let size = if paper == "a4" { "(A4)" } else { "(letter)" };
        assert!(meta.contains(size), "{paper}: {meta}");
        let first = run(&text, &["-f", "1", "-l", "1", "-layout", pdf_s, "-"]);
        for needle in [
            "Repetitive nerve stimulation",
            "MRN-7",
            "2026-12-03",
            "MG-like",
            "Key findings",
            "decrement 28.2 % at rest",
            "decr. 4th",
            "post-ex 1 min",
            "Train 3",
            "page 1 of",
        ] {
            assert!(
                first.contains(needle),
                "{paper}: page 1 lacks {needle:?}:\n{first}"
            );
        }
        // The deciding finding is the first one listed.
        let k = first.find("Key findings").unwrap();
        let after = &first[k..];
        assert!(
            after.find("decrement 28.2 % at rest").unwrap() < after.find("baseline CMAP").unwrap(),
            "{paper}: headline first"
        );
        for p in 1..=pages {
            let t = run(
                &text,
                &["-f", &p.to_string(), "-l", &p.to_string(), pdf_s, "-"],
            );
            assert!(
                t.contains(&format!("page {p} of {pages}")),
                "{paper}: page {p}"
            );
            assert!(
                t.contains("patient MRN-7"),
                "{paper}: running header on page {p}"
            );
        }
        // Every word inside the page, 5 pt from its edges.
        let bbox = run(&text, &["-bbox", pdf_s, "-"]);
        let page_w: f64 = {
            let p = bbox.find("<page width=\"").unwrap() + 13;
            bbox[p..p + bbox[p..].find('"').unwrap()].parse().unwrap()
        };
        for line in bbox.lines().filter(|l| l.contains("<word ")) {
            let num = |key: &str| -> f64 {
                let p = line.find(key).unwrap() + key.len();
                line[p..p + line[p..].find('"').unwrap()].parse().unwrap()
            };
            assert!(
                num("xMin=\"") >= 5.0 && num("xMax=\"") <= page_w - 5.0,
                "{paper}: a word is cut at the margin: {line}"
            );
        }
        // The first page rasterised: white edges (nothing drawn into the
        // margins), ink inside.
        let stem = dir.path().join("p1");
        run(
            &ppm,
            &[
                "-f",
                "1",
                "-l",
                "1",
                "-r",
                "40",
                "-png",
                pdf_s,
                stem.to_str().unwrap(),
            ],
        );
        let png_path = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "png"))
            .unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(std::fs::read(png_path).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let fi = reader.next_frame(&mut buf).unwrap();
        let ch = fi.color_type.samples();
        let (w, h) = (fi.width as usize, fi.height as usize);
        let dark = |x: usize, y: usize| {
            let p = &buf[(y * w + x) * ch..(y * w + x) * ch + 3];
            u32::from(p[0]) + u32::from(p[1]) + u32::from(p[2]) < 3 * 200
        };
        let edge = w / 40; // 2.5 % of the width: inside the 10 mm margin
        for y in 0..h {
            for x in (0..edge).chain(w - edge..w) {
                assert!(!dark(x, y), "{paper}: ink at the page edge ({x}, {y})");
            }
        }
        let inked = (0..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .filter(|&(x, y)| dark(x, y))
            .count();
        assert!(inked > w * h / 100, "{paper}: first page nearly blank");
    }
}

#[test]
fn pdf_without_a_browser_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = rns()
        .env("PATH", dir.path())
        .env_remove("RNS_CHROMIUM")
        .args(["report", "--pdf", "-o"])
        .arg(dir.path().join("out"))
        .arg(sample("normal_adm.wav"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("--pdf needs Chromium"), "{e}");
    assert!(!dir.path().join("out").exists(), "nothing written");
}

/// A cool limb: the verdict, in the report and the text, says to warm the
/// limb and repeat, and the cool-limb finding follows the deciding one.
#[test]
fn a_cool_limb_verdict_says_warm_and_repeat() {
    let dir = tempfile::tempdir().unwrap();
    let side = dir.path().join("cool.toml");
    let text = std::fs::read_to_string(sample("normal_adm.wav.rns.toml")).unwrap();
    let text: String = text
        .lines()
        .filter(|l| !l.starts_with("temperature_c"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&side, format!("temperature_c = 31.0\n{text}")).unwrap();
    let out = dir.path().join("out");
    let o = run_report(
        &[sample("normal_adm.wav")],
        &out,
        &["--protocol", side.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(out.join("normal_adm.html")).unwrap();
    assert!(html.contains("Warm the limb and repeat the study"), "html");
    let t = rns()
        .args(["analyze", "--protocol"])
        .arg(&side)
        .arg(sample("normal_adm.wav"))
        .output()
        .unwrap();
    let t = String::from_utf8(t.stdout).unwrap();
    assert!(t.contains("warm the limb and repeat"), "{t}");
    let lines: Vec<&str> = t.lines().filter(|l| l.starts_with("    - ")).collect();
    assert!(lines[1].contains("cool"), "{lines:?}");
}
