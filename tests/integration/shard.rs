//! `rns batch --shard K/N` and `rns merge`: the merged folder is, byte for
//! byte, the one batch over the whole folder; a wrong set of shards is
//! refused with exit code 2 and nothing written.

use crate::util::{rns, sample};
use std::path::Path;

/// A folder of three recordings, a broken WAV and a `.txt` note.
fn folder(root: &Path) -> std::path::PathBuf {
    let d = root.join("in");
    std::fs::create_dir_all(d.join("sub")).unwrap();
    for f in ["mg_session.wav", "mg_sweeps.csv", "normal_adm.wav"] {
        std::fs::copy(sample(f), d.join(f)).unwrap();
    }
    std::fs::copy(sample("normal_adm.wav"), d.join("sub/=odd, name.wav")).unwrap();
    std::fs::write(d.join("broken.wav"), b"garbage").unwrap();
    std::fs::write(d.join("note.txt"), b"a note\n").unwrap();
    d
}

fn batch(dir: &Path, out: &Path, extra: &[&str]) -> i32 {
    let o = rns()
        .arg("batch")
        .arg(dir)
        .arg("--out")
        .arg(out)
        .args(["--jobs", "1"])
        .args(extra)
        .output()
        .unwrap();
    o.status.code().unwrap()
}

fn merge(shards: &[std::path::PathBuf], out: &Path) -> (i32, String) {
    let o = rns()
        .arg("merge")
        .args(shards)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    (
        o.status.code().unwrap(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
            (rel, std::fs::read(e.path()).unwrap())
        })
        .collect();
    v.sort();
    v
}

#[test]
fn shards_merged_are_the_whole_batch_byte_for_byte() {
    let t = tempfile::tempdir().unwrap();
    let input = folder(t.path());
    let whole = t.path().join("whole");
    assert_eq!(batch(&input, &whole, &[]), 3);
    let expected = tree(&whole);
    assert!(expected
        .iter()
        .any(|(p, _)| p == "json/sub/=odd, name.wav.json"));
    for n in 1..=3 {
        let mut dirs = Vec::new();
        for k in (1..=n).rev() {
            let d = t.path().join(format!("s{n}-{k}"));
            let code = batch(&input, &d, &["--shard", &format!("{k}/{n}")]);
            assert!(code == 0 || code == 3, "{code}");
            let m: serde_json::Value =
                serde_json::from_slice(&std::fs::read(d.join("shard.json")).unwrap()).unwrap();
            assert_eq!(m["shard"], k);
            assert_eq!(m["total_files"], 6);
            dirs.push(d);
        }
        let out = t.path().join(format!("merged{n}"));
        let (code, err) = merge(&dirs, &out);
        assert_eq!(code, 3, "the whole batch's exit code: {err}");
        assert_eq!(tree(&out), expected, "N = {n}");
    }
}

/// With reports: the merged folder holds every shard's reports and the
/// index.html the whole batch writes, byte for byte.
#[test]
fn merged_reports_and_index_are_the_whole_batch() {
    let t = tempfile::tempdir().unwrap();
    let input = folder(t.path());
    let whole = t.path().join("whole");
    assert_eq!(batch(&input, &whole, &["--report"]), 3);
    let expected = tree(&whole);
    assert!(expected.iter().any(|(p, _)| p == "index.html"));
    assert!(expected.iter().any(|(p, _)| p.starts_with("reports/")));
    let dirs: Vec<_> = (1..=2)
        .map(|k| {
            let d = t.path().join(format!("r{k}"));
            let code = batch(&input, &d, &["--report", "--shard", &format!("{k}/2")]);
            assert!(code == 0 || code == 3, "{code}");
            d
        })
        .collect();
    let out = t.path().join("merged");
    let (code, err) = merge(&dirs, &out);
    assert_eq!(code, 3, "{err}");
    assert_eq!(tree(&out), expected);
    // Parquet tables: shards write CSV, the merge writes what was asked.
    let whole_pq = t.path().join("whole_pq");
    assert_eq!(batch(&input, &whole_pq, &["--tables", "parquet"]), 3);
    let pq_dirs: Vec<_> = (1..=2)
        .map(|k| {
            let d = t.path().join(format!("p{k}"));
            batch(
                &input,
                &d,
                &["--tables", "parquet", "--shard", &format!("{k}/2")],
            );
            assert!(d.join("summary.csv").is_file());
            assert!(!d.join("summary.parquet").exists());
            d
        })
        .collect();
    let out_pq = t.path().join("merged_pq");
    let (code, err) = merge(&pq_dirs, &out_pq);
    assert_eq!(code, 3, "{err}");
    assert_eq!(tree(&out_pq), tree(&whole_pq));
    // A shard with reports and one without are not one run.
    let plain = t.path().join("plain2");
    batch(&input, &plain, &["--shard", "2/2"]);
    let (code, err) = merge(&[dirs[0].clone(), plain], &t.path().join("mixed"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--report"), "{err}");
}

#[test]
fn wrong_sets_of_shards_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let input = folder(t.path());
    let s = |name: &str| t.path().join(name);
    batch(&input, &s("a1"), &["--shard", "1/2"]);
    batch(&input, &s("a2"), &["--shard", "2/2"]);
    let strict = s("strict.toml");
    std::fs::write(&strict, "[decrement]\nabnormal_pct = 8.0\n").unwrap();
    let strict = strict.to_str().unwrap();
    batch(&input, &s("c2"), &["--shard", "2/2", "--criteria", strict]);
    for (shards, why) in [
        (vec![s("a1")], "shard 2 of 2 is missing"),
        (vec![s("a1"), s("a2"), s("a2")], "given twice"),
        (vec![s("a1"), s("c2")], "criteria"),
        (vec![s("a1"), s("in")], "no shard manifest"),
    ] {
        let out = s("out");
        let (code, err) = merge(&shards, &out);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(why), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(!out.exists());
    }
}
