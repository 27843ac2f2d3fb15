//! The scale guard and the study's identity, end to end: an integer WAV
//! read with the default full scale, a CSV in µV read as mV, `--unit` and
//! the sidecar's `unit`, the `[study]` table and flags, the EDF+ header's
//! patient and recording fields.

use crate::util::rns;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn json_of(args: &[&str], file: &Path) -> Value {
    let out = rns()
        .arg("analyze")
        .args(["--format", "json"])
        .args(args)
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn codes(v: &Value, key: &str) -> Vec<String> {
    let list = if key == "quality" {
        &v["quality"]
    } else {
        &v["classification"]["findings"]
    };
    list.as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// A simulated MG-like 3 Hz train, as a 16-bit WAV whose sidecar is set
/// aside: the file alone does not say its full scale.
fn wav16(dir: &Path) -> PathBuf {
    let wav = dir.join("mg16.wav");
    rns()
        .args([
            "simulate",
            "--preset",
            "mg-severe",
            "--protocol",
            "baseline",
        ])
        .args(["--format", "wav16", "-o"])
        .arg(&wav)
        .assert()
        .success();
    let side = dir.join("mg16.wav.rns.toml");
    let text = std::fs::read_to_string(&side).unwrap();
    assert!(text.contains("full_scale_mv = 50"), "{text}");
    std::fs::remove_file(&side).unwrap();
    std::fs::write(&side, "muscle = \"ADM\"\n").unwrap();
    wav
}

#[test]
fn an_integer_wav_with_the_default_full_scale_is_never_compared_with_a_normal_range() {
    let dir = tempfile::tempdir().unwrap();
    let wav = wav16(dir.path());
    let v = json_of(&[], &wav);
    assert!(codes(&v, "quality").contains(&"full_scale_default".to_string()));
    let f = codes(&v, "findings");
    assert!(
        f.contains(&"baseline_cmap_not_checked".to_string()),
        "{f:?}"
    );
    assert!(!f.contains(&"low_baseline_cmap".to_string()), "{f:?}");
    assert_eq!(v["source"]["storage"]["bits_per_sample"], 16);
    assert_eq!(v["source"]["storage"]["full_scale_given"], false);
    // The decrement is a ratio: still assessed.
    assert_eq!(v["classification"]["pattern"], "mg_like");
    let text = rns().arg("analyze").arg(&wav).output().unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("! warnings: full scale default"), "{text}");
    // inspect says so, with the bit depth, the full scale and the range.
    let i = rns().arg("inspect").arg(&wav).output().unwrap();
    let i = String::from_utf8(i.stdout).unwrap();
    assert!(
        i.contains("16-bit integer samples · full scale ±1 mV (the default"),
        "{i}"
    );
    assert!(i.contains("range (mV)"), "{i}");
    // Given, the CMAP is millivolts and is checked.
    let v = json_of(&["--full-scale-mv", "50"], &wav);
    assert!(!codes(&v, "quality").contains(&"full_scale_default".to_string()));
    let f = codes(&v, "findings");
    assert!(
        f.iter()
            .any(|c| c == "low_baseline_cmap" || c == "normal_baseline_cmap"),
        "{f:?}"
    );
}

/// The same CSV with its values multiplied by 1000 and a unitless header:
/// microvolts that nothing says are microvolts.
fn csv_in_uv(dir: &Path) -> PathBuf {
    let mv = dir.join("n.csv");
    rns()
        .args([
            "simulate",
            "--preset",
            "normal",
            "--protocol",
            "baseline",
            "-o",
        ])
        .arg(&mv)
        .assert()
        .success();
    let text = std::fs::read_to_string(&mv).unwrap();
    let mut out = String::from("time,emg\n");
    for line in text.lines().skip(1) {
        let (t, v) = line.split_once(',').unwrap();
        let v: f64 = v.parse().unwrap();
        out.push_str(&format!("{t},{:.3}\n", v * 1000.0));
    }
    let uv = dir.join("u.csv");
    std::fs::write(&uv, out).unwrap();
    std::fs::write(dir.join("u.csv.rns.toml"), "muscle = \"ADM\"\n").unwrap();
    uv
}

#[test]
fn microvolts_read_as_millivolts_are_set_aside_and_the_unit_can_be_given() {
    let dir = tempfile::tempdir().unwrap();
    let uv = csv_in_uv(dir.path());
    let v = json_of(&[], &uv);
    let q = codes(&v, "quality");
    assert!(q.contains(&"scale_suspect".to_string()), "{q:?}");
    assert!(q.contains(&"unit_assumed".to_string()), "{q:?}");
    let f = codes(&v, "findings");
    assert!(
        f.contains(&"baseline_cmap_not_checked".to_string()),
        "{f:?}"
    );
    assert!(!f.contains(&"normal_baseline_cmap".to_string()), "{f:?}");
    assert_eq!(v["classification"]["pattern"], "indeterminate");
    // --unit and the sidecar's unit read it right.
    let by_flag = json_of(&["--unit", "uV"], &uv);
    assert_eq!(by_flag["classification"]["pattern"], "normal");
    assert!(!codes(&by_flag, "quality").contains(&"scale_suspect".to_string()));
    let a = by_flag["session"]["baseline_cmap_mv"].as_f64().unwrap();
    assert!((5.0..20.0).contains(&a), "{a}");
    std::fs::write(
        dir.path().join("u.csv.rns.toml"),
        "muscle = \"ADM\"\nunit = \"µV\"\n",
    )
    .unwrap();
    let by_sidecar = json_of(&[], &uv);
    assert_eq!(by_sidecar["session"], by_flag["session"]);
    // A unit that is none: a usage error (2), naming the value.
    rns()
        .args(["analyze", "--unit", "ms"])
        .arg(&uv)
        .assert()
        .code(2);
    std::fs::write(dir.path().join("u.csv.rns.toml"), "unit = \"furlong\"\n").unwrap();
    let out = rns().arg("analyze").arg(&uv).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("furlong") && e.contains("u.csv.rns.toml"), "{e}");
}

#[test]
fn the_study_comes_from_flags_over_the_sidecar_and_reaches_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let uv = csv_in_uv(dir.path());
    std::fs::write(
        dir.path().join("u.csv.rns.toml"),
        "unit = \"uV\"\n[study]\npatient_id = \"MRN-1\"\nstudy_date = 2026-12-03\n\
         side = \"R\"\nmuscle = \"ADM\"\noperator = \"From sidecar\"\n",
    )
    .unwrap();
    let v = json_of(&["--operator", "From flag", "--sex", "F"], &uv);
    let s = &v["study"];
    assert_eq!(s["patient_id"], "MRN-1");
    assert_eq!(s["study_date"], "2026-12-03");
    assert_eq!(s["side"], "right");
    assert_eq!(s["sex"], "female");
    assert_eq!(s["operator"], "From flag");
    assert_eq!(s["muscle"], "ADM");
    assert_eq!(v["protocol"]["muscle"], "ADM");
    let text = rns().arg("analyze").arg(&uv).output().unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("Patient ID: MRN-1"), "{text}");
    // The report header holds it; no output file is named after it.
    let out = dir.path().join("out");
    rns()
        .args(["report", "-o"])
        .arg(&out)
        .arg(&uv)
        .assert()
        .success();
    let html = std::fs::read_to_string(out.join("u.html")).unwrap();
    assert!(html.contains("MRN-1") && html.contains("2026-12-03"));
    for e in walk(&out) {
        assert!(!e.contains("MRN"), "{e}");
    }
    // A date that does not exist, an unknown key, a muscle given twice.
    for (side, needle) in [
        ("[study]\nstudy_date = 2026-02-30\n", "2026-02-30"),
        ("[study]\npatient = \"x\"\n", "patient"),
        ("muscle = \"APB\"\n[study]\nmuscle = \"ADM\"\n", "muscle"),
    ] {
        std::fs::write(dir.path().join("u.csv.rns.toml"), side).unwrap();
        let out = rns().arg("analyze").arg(&uv).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{side}");
        let e = String::from_utf8_lossy(&out.stderr);
        assert!(e.contains(needle), "{side}: {e}");
    }
}

fn walk(d: &Path) -> Vec<String> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(d).unwrap() {
        let p = e.unwrap().path();
        v.push(p.file_name().unwrap().to_string_lossy().into_owned());
        if p.is_dir() {
            v.extend(walk(&p));
        }
    }
    v
}

#[test]
fn the_edf_plus_header_gives_the_patient_and_the_start() {
    // The EDF+ specification's own example of the two fields.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/edf/session.edf");
    let mut bytes = std::fs::read(src).unwrap();
    let field = |s: &str, n: usize| format!("{s:<n$}").into_bytes();
    bytes[8..88].copy_from_slice(&field("MCH-0234567 F 02-MAY-1951 Haagse_Harry", 80));
    bytes[88..168].copy_from_slice(&field("Startdate 02-MAR-2002 EMG561 BK/JOP Sony", 80));
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("s.edf");
    std::fs::write(&f, bytes).unwrap();
    let v = json_of(&[], &f);
    let s = &v["study"];
    assert_eq!(s["patient_id"], "MCH-0234567");
    assert_eq!(s["patient_name"], "Haagse Harry");
    assert_eq!(s["sex"], "female");
    assert_eq!(s["birth_date"], "1951-05-02");
    assert_eq!(s["study_date"], "2002-03-02");
    assert_eq!(s["operator"], "BK/JOP");
    // A flag stands above the header.
    let v = json_of(&["--patient-id", "other"], &f);
    assert_eq!(v["study"]["patient_id"], "other");
    assert_eq!(v["study"]["patient_name"], "Haagse Harry");
}

/// `mg_session.wav` cut into one file per train, as machines that export a
/// file per train write it, with a manifest naming them; and a second
/// muscle in a file of its own.
fn split_study(dir: &Path) -> PathBuf {
    use rns_analyzer::export::wav::{encode_wav, WavSampleFormat};
    use rns_analyzer::io::{read_recording, ReadOptions};
    let src = crate::util::sample("mg_session.wav");
    let rec = read_recording(
        &src,
        &ReadOptions {
            full_scale_mv: 20.0,
            full_scale_given: true,
            ..ReadOptions::default()
        },
    )
    .unwrap();
    let fs = rec.sample_rate.hz() as usize;
    let x = &rec.channels[0].samples;
    for (name, a, b) in [("t1", 0, 6), ("t2", 36, 42), ("t3", 95, 100)] {
        let bytes = encode_wav(
            &[&x[a * fs..b * fs]],
            fs as u32,
            1.0,
            WavSampleFormat::Float32,
        )
        .unwrap();
        std::fs::write(dir.join(format!("{name}.wav")), bytes).unwrap();
    }
    std::fs::copy(crate::util::sample("normal_adm.wav"), dir.join("apb.wav")).unwrap();
    std::fs::write(dir.join("apb.wav.rns.toml"), "full_scale_mv = 20.0\n").unwrap();
    let manifest = dir.join("study.toml");
    std::fs::write(
        &manifest,
        "[study]\npatient_id = \"MRN-9\"\nstudy_date = 2026-12-03\n\
         [[recordings]]\nfile = \"t2.wav\"\nmuscle = \"ADM\"\nside = \"right\"\ntime_s = 36\n\
         trains = [{ role = \"post_exercise\", delay_after_exercise_s = 1 }]\n\
         [[recordings]]\nfile = \"apb.wav\"\nmuscle = \"APB\"\nside = \"left\"\n\
         [[recordings]]\nfile = \"t1.wav\"\nmuscle = \"ADM\"\nside = \"right\"\ntime_s = 0\n\
         trains = [{ role = \"baseline\" }]\n\
         [[recordings]]\nfile = \"t3.wav\"\nmuscle = \"ADM\"\nside = \"right\"\ntime_s = 95\n\
         trains = [{ role = \"post_exercise\", delay_after_exercise_s = 60 }]\n",
    )
    .unwrap();
    manifest
}

#[test]
fn a_study_of_one_file_per_train_analyses_as_the_whole_session() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = split_study(dir.path());
    let out = dir.path().join("out");
    let o = rns()
        .args(["study", "-o"])
        .arg(&out)
        .arg(&manifest)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s: Value = serde_json::from_slice(&std::fs::read(out.join("study.json")).unwrap()).unwrap();
    assert_eq!(
        s["summary"],
        "MG-like in 1 of 2: ADM right; normal in 1 of 2: APB left"
    );
    assert_eq!(s["study"]["patient_id"], "MRN-9");
    let adm: Value =
        serde_json::from_slice(&std::fs::read(out.join("ADM-right.json")).unwrap()).unwrap();
    let whole = json_of(&[], &crate::util::sample("mg_session.wav"));
    let figures = |v: &Value| -> Vec<(String, f64, f64)> {
        v["trains"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["role"].as_str().unwrap().to_string(),
                    t["decrement_pct"].as_f64().unwrap(),
                    t["responses"][0]["amplitude_mv"].as_f64().unwrap(),
                )
            })
            .collect()
    };
    // The same trains, decrements and amplitudes as the one-file session.
    assert_eq!(figures(&adm), figures(&whole));
    assert_eq!(adm["classification"]["pattern"], "mg_like");
    assert_eq!(adm["study"]["patient_id"], "MRN-9");
    assert_eq!(adm["study"]["side"], "right");
    let html = std::fs::read_to_string(out.join("study.html")).unwrap();
    assert!(html.contains("href=\"ADM-right.html\"") && html.contains("MRN-9"));
    // The combined report holds each muscle's first page.
    assert_eq!(html.matches("class=\"muscle-page\"").count(), 2);
    assert_eq!(html.matches("Key findings").count(), 2);
    assert!(out.join("APB-left.html").is_file());
    // A folder is a study too (each file's muscle from its sidecar).
    let folder = dir.path().join("folder");
    std::fs::create_dir(&folder).unwrap();
    std::fs::copy(crate::util::sample("normal_adm.wav"), folder.join("a.wav")).unwrap();
    std::fs::copy(
        crate::util::sample("normal_adm.wav.rns.toml"),
        folder.join("a.wav.rns.toml"),
    )
    .unwrap();
    let out2 = dir.path().join("out2");
    rns()
        .args(["study", "-o"])
        .arg(&out2)
        .arg(&folder)
        .assert()
        .success();
    let s: Value =
        serde_json::from_slice(&std::fs::read(out2.join("study.json")).unwrap()).unwrap();
    assert_eq!(s["summary"], "normal in 1 of 1: ADM");
    // Files of one muscle that overlap in time: the muscle is not analysed,
    // the others are, and the exit code says so.
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[recordings]]\nfile = \"t1.wav\"\nmuscle = \"ADM\"\ntime_s = 0\n\
         [[recordings]]\nfile = \"t2.wav\"\nmuscle = \"ADM\"\ntime_s = 3\n\
         [[recordings]]\nfile = \"apb.wav\"\nmuscle = \"APB\"\n",
    )
    .unwrap();
    let o = rns()
        .args(["study", "-o"])
        .arg(dir.path().join("out3"))
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("before the file before it ends"), "{e}");
    let s: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out3").join("study.json")).unwrap())
            .unwrap();
    assert!(
        s["summary"].as_str().unwrap().contains("not analysed: ADM"),
        "{s}"
    );
    // A broken sidecar fails its own muscle only.
    std::fs::write(dir.path().join("apb.wav.rns.toml"), "full_scale_mv = -1\n").unwrap();
    let o = rns()
        .args(["study", "-o"])
        .arg(dir.path().join("out4"))
        .arg(&manifest)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let s: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out4").join("study.json")).unwrap())
            .unwrap();
    assert_eq!(
        s["summary"],
        "MG-like in 1 of 2: ADM right; not analysed: APB left"
    );
    // A bad study flag: one usage error before anything is read.
    let o = rns()
        .args(["study", "--operator", " ", "-o"])
        .arg(dir.path().join("out5"))
        .arg(&manifest)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(!dir.path().join("out5").exists());
}

/// The sizes a CMAP can have depend on the species: a 70 mV response is
/// no human CMAP (scale suspect) but can be a rat's M-wave.
#[test]
fn the_plausible_cmap_size_is_the_species_own() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("big.wav");
    rns()
        .args([
            "simulate",
            "--preset",
            "normal",
            "--protocol",
            "baseline",
            "-o",
        ])
        .arg(&wav)
        .assert()
        .success();
    // The float WAV's values are mV; a full scale of 7 makes a ~10 mV CMAP ~70 mV.
    std::fs::write(dir.path().join("big.wav.rns.toml"), "full_scale_mv = 7.0\n").unwrap();
    let human = json_of(&[], &wav);
    assert!(codes(&human, "quality").contains(&"scale_suspect".to_string()));
    std::fs::write(
        dir.path().join("big.wav.rns.toml"),
        "full_scale_mv = 7.0\n[study]\nspecies = \"rat\"\n",
    )
    .unwrap();
    let rat = json_of(&[], &wav);
    assert!(!codes(&rat, "quality").contains(&"scale_suspect".to_string()));
    assert_eq!(rat["study"]["species"], "rat");
    assert_eq!(rat["classification"]["pattern"], "normal");
}
