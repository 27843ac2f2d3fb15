//! The `rns_analyzer._native` extension module: the Rust analysis core for
//! Python.
//!
//! Overview: every function takes a recording's path and the settings as
//! keyword names of the `rns` flags (`full_scale_mv`, `muscle`,
//! `criteria`, …), runs [`rns_analyzer::pipeline::analyze_file`] — the very
//! code `rns analyze` runs — with the interpreter released, and hands back
//! the JSON contract as text, the tables as typed columns and the response
//! traces as NumPy arrays. The pure-Python package (`rns_analyzer`) turns
//! these into dicts and pandas DataFrames and raises its exceptions from
//! the `(exception name, message, exit code)` of a failure.

mod settings;
mod tables;

use numpy::{PyArray1, PyArray2};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use rns_analyzer::analysis::{Analysis, TrainTraces};
use rns_analyzer::error::Error;
use rns_analyzer::output;
use std::path::PathBuf;

/// The Python exception class (in `rns_analyzer._errors`) for an error's
/// exit code, built with the CLI's one-line message and the code.
fn to_py(e: &Error) -> PyErr {
    let code = e.exit_code();
    let class = match code {
        2 => "UsageError",
        3 => "InputError",
        4 => "NothingToAnalyseError",
        _ => "RnsError",
    };
    let message = e.to_string();
    Python::attach(|py| {
        let made = py
            .import("rns_analyzer._errors")
            .and_then(|m| m.getattr(class))
            .and_then(|c| c.call1((message.clone(), code)));
        match made {
            Ok(v) => PyErr::from_value(v),
            Err(_) => PyRuntimeError::new_err(format!("{message} (exit code {code})")),
        }
    })
}

/// Analyse `path` with `settings`, without holding the interpreter.
fn run(
    py: Python<'_>,
    path: PathBuf,
    settings: Option<&Bound<'_, PyDict>>,
    traces: bool,
) -> PyResult<(Analysis, Vec<TrainTraces>)> {
    let s = settings::from_dict(settings).map_err(|e| to_py(&e))?;
    py.detach(|| {
        rns_analyzer::parallel::install(None, || {
            let criteria = match &s.criteria {
                Some(p) => rns_analyzer::settings::criteria::Criteria::load(p)?,
                None => Default::default(),
            };
            rns_analyzer::pipeline::analyze_file(
                &path,
                &s.overrides,
                s.protocol.as_deref(),
                &criteria,
                traces,
            )
        })
    })
    .map_err(|e| to_py(&e))
}

/// One train's response traces as arrays: `time_ms` and `mv`, responses ×
/// points (NaN past a shorter window's end), and each marker per response.
fn train_traces<'py>(py: Python<'py>, t: &TrainTraces) -> PyResult<Bound<'py, PyDict>> {
    let width = t
        .responses
        .iter()
        .map(|r| r.points.len())
        .max()
        .unwrap_or(0);
    let grid = |f: fn(&(f64, f64)) -> f64| -> Vec<Vec<f64>> {
        t.responses
            .iter()
            .map(|r| {
                let mut row: Vec<f64> = r.points.iter().map(f).collect();
                row.resize(width, f64::NAN);
                row
            })
            .collect()
    };
    let d = PyDict::new(py);
    d.set_item("train", t.index)?;
    let arr = |rows: Vec<Vec<f64>>| -> PyResult<Bound<'py, PyArray2<f64>>> {
        if rows.is_empty() {
            return Ok(PyArray2::zeros(py, [0, 0], false));
        }
        PyArray2::from_vec2(py, &rows).map_err(|e| PyRuntimeError::new_err(e.to_string()))
    };
    d.set_item("time_ms", arr(grid(|p| p.0))?)?;
    d.set_item("mv", arr(grid(|p| p.1))?)?;
    let marker = |f: fn(&rns_analyzer::analysis::traces::ResponseTrace) -> f64| {
        PyArray1::from_vec(py, t.responses.iter().map(f).collect())
    };
    d.set_item("blank_end_ms", marker(|r| r.blank_end_ms))?;
    d.set_item("onset_ms", marker(|r| r.onset_ms))?;
    d.set_item("peak_ms", marker(|r| r.peak_ms))?;
    d.set_item("peak_mv", marker(|r| r.peak_mv))?;
    d.set_item("phase_end_ms", marker(|r| r.phase_end_ms))?;
    d.set_item("baseline_mv", marker(|r| r.baseline_mv))?;
    Ok(d)
}

/// `analyze(path, settings, traces, label)`: a dict with `json` (the JSON contract
/// of `rns analyze --format json`, as text), `tables` (typed columns of the
/// response, train, flag and finding tables) and, with `traces`, `traces`
/// (one dict of arrays per train).
/// `label` is the text of the tables' `path` column (default: `path` as
/// given; a batch gives the path relative to its folder).
#[pyfunction]
#[pyo3(signature = (path, settings=None, traces=false, label=None))]
fn analyze<'py>(
    py: Python<'py>,
    path: PathBuf,
    settings: Option<&Bound<'py, PyDict>>,
    traces: bool,
    label: Option<String>,
) -> PyResult<Bound<'py, PyDict>> {
    let (a, tr) = run(py, path.clone(), settings, traces)?;
    let d = PyDict::new(py);
    d.set_item("json", output::json::render_one(&a))?;
    let label = label.unwrap_or_else(|| path.display().to_string());
    d.set_item("tables", tables::of(py, &a, &label)?)?;
    if traces {
        let list = PyList::empty(py);
        for t in &tr {
            list.append(train_traces(py, t)?)?;
        }
        d.set_item("traces", list)?;
    }
    Ok(d)
}

/// `simulate(settings)`: the simulated recording (`samples_mv`, float32),
/// its rate and its truth (JSON text), for the keyword names of `rns
/// simulate`'s flags; with `out`, the recording and its companions are also
/// written, as `rns simulate --out` writes them.
#[pyfunction]
#[pyo3(signature = (settings=None))]
fn simulate<'py>(
    py: Python<'py>,
    settings: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let args = settings::simulate_args(settings).map_err(|e| to_py(&e))?;
    let (sim, text) = py
        .detach(|| -> rns_analyzer::Result<_> {
            let (spec, _) = args.spec()?;
            let sim = rns_analyzer::sim::simulate(&spec);
            let text = match &args.out {
                Some(_) => Some(rns_analyzer::sim::command::run(&args)?.text),
                None => None,
            };
            Ok((sim, text))
        })
        .map_err(|e| to_py(&e))?;
    let d = PyDict::new(py);
    d.set_item("sample_rate_hz", sim.sample_rate_hz)?;
    d.set_item("samples_mv", PyArray1::from_vec(py, sim.samples))?;
    let truth = serde_json::to_string(&sim.truth)
        .map_err(|e| PyRuntimeError::new_err(format!("truth: {e}")))?;
    d.set_item("truth", truth)?;
    d.set_item("written", text)?;
    Ok(d)
}

/// An entry of a folder that could not be read: relative path, message, exit code.
type Problem = (String, String, i32);

/// The recordings `rns batch DIR` would read, as paths relative to `dir`
/// (`/`-separated, sorted), and the entries it could not read, as
/// `(relative path, message, exit code)`.
#[pyfunction]
fn find_inputs(py: Python<'_>, dir: PathBuf) -> PyResult<(Vec<String>, Vec<Problem>)> {
    let (files, problems) = py
        .detach(|| rns_analyzer::batch::find_inputs(&dir, None))
        .map_err(|e| to_py(&e))?;
    let rel = |p: &std::path::Path| {
        p.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    };
    Ok((
        files.iter().map(|p| rel(p)).collect(),
        problems
            .iter()
            .map(|p| (rel(&p.rel), p.error.to_string(), p.error.exit_code()))
            .collect(),
    ))
}

/// The version of the analysis (as `rns --version`).
#[pyfunction]
fn version() -> &'static str {
    rns_analyzer::VERSION
}

/// The module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(analyze, m)?)?;
    m.add_function(wrap_pyfunction!(simulate, m)?)?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    m.add_function(wrap_pyfunction!(find_inputs, m)?)?;
    Ok(())
}
