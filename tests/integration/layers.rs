//! The library's layers point one way: a module may name only modules of a
//! lower layer (or itself). Data flows readers → one `Recording` → analysis →
//! outputs, report, batch; the analysis core knows nothing of files, CLI or
//! rendering. This test reads every library source file and fails when a
//! lower layer names a higher one (test modules excepted).

use std::path::{Path, PathBuf};

/// The layers, lowest first. Modules of one layer may not name each other.
const LAYERS: &[&[&str]] = &[
    &["units", "vocab", "parallel", "test_rng", "study"],
    &["error"],
    &["recording"],
    &["io"],
    &["export", "settings"],
    &["analysis", "sim"],
    &["output", "pipeline"],
    &["report"],
    &["batch", "combine"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The top-level module a source file belongs to (`src/analysis/hum.rs` →
/// `analysis`); `None` for the crate root and the binary.
fn module_of(rel: &Path) -> Option<String> {
    let mut parts = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned());
    let first = parts.next()?;
    if first == "lib.rs" || first == "bin" {
        return None;
    }
    Some(first.trim_end_matches(".rs").to_string())
}

/// The code of a file without its comments and its `#[cfg(test)] mod tests`.
fn code_of(text: &str) -> String {
    let mut out = String::new();
    let lines: Vec<&str> = text.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim_start();
        if t == "#[cfg(test)]"
            && lines
                .get(i + 1)
                .is_some_and(|n| n.trim_start().starts_with("mod tests"))
        {
            break;
        }
        if t.starts_with("//") {
            continue;
        }
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// The top-level modules named as `crate::<module>` in `code`.
fn named_modules(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// The violations in one file's text: (module named, why).
fn violations(module: &str, text: &str) -> Vec<String> {
    let Some(own) = layer_of(module) else {
        return vec![format!("module {module} has no layer in LAYERS")];
    };
    named_modules(&code_of(text))
        .into_iter()
        .filter(|m| m != module)
        .filter_map(|m| match layer_of(&m) {
            None => None, // an item of the crate root (`crate::Error`)
            Some(l) if l < own => None,
            Some(_) => Some(format!(
                "names {m} (layer {}, not below its own)",
                layer_of(&m)?
            )),
        })
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn lower_layers_never_name_higher_ones() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut found = Vec::new();
    let mut checked = 0;
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        // Test-only files (`sim/tests.rs`) may use anything.
        if rel.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let Some(module) = module_of(rel) else {
            continue;
        };
        checked += 1;
        let text = std::fs::read_to_string(f).unwrap();
        for v in violations(&module, &text) {
            found.push(format!("{}: {v}", rel.display()));
        }
    }
    assert!(checked > 40, "only {checked} files checked");
    assert!(found.is_empty(), "layer violations:\n{}", found.join("\n"));
}

#[test]
fn the_check_sees_a_planted_violation() {
    let bad = "use crate::units::Ms;\nuse crate::report::plots;\n";
    assert_eq!(violations("analysis", bad).len(), 1);
    // Comments and test modules do not count; the module itself and the
    // crate root's items do not either.
    let fine = "//! see [`crate::report`]\nuse crate::analysis::dsp;\nuse crate::Error;\n\
                #[cfg(test)]\nmod tests {\n    use crate::batch;\n}\n";
    assert!(violations("analysis", fine).is_empty());
    // A sibling in the same layer is not below.
    assert_eq!(violations("sim", "use crate::analysis::metrics;").len(), 1);
    assert_eq!(
        module_of(Path::new("analysis/hum.rs")).as_deref(),
        Some("analysis")
    );
    assert_eq!(module_of(Path::new("bin/rns/main.rs")), None);
}
