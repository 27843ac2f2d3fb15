//! The analysis's tables as typed columns for pandas.
//!
//! Overview: each table of [`rns_analyzer::output::table`] (the rows `rns
//! analyze --format csv` and `rns batch` write) becomes a dict with
//! `columns` (names, in the CSV's order), `kinds` (`text`, `int`, `float`,
//! `bool`) and `data` (one list per column, `None` for an empty cell). The
//! Python side gives each kind its pandas dtype. Text is raw: no
//! spreadsheet-formula guard, which only the CSV files need.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use rns_analyzer::analysis::Analysis;
use rns_analyzer::output::table::{self, Cell, Kind, Table};

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Text => "text",
        Kind::Int => "int",
        Kind::Float => "float",
        Kind::Bool => "bool",
    }
}

fn cell<'py>(py: Python<'py>, c: &Cell) -> PyResult<Bound<'py, PyAny>> {
    Ok(match c {
        Cell::Null => py.None().into_bound(py),
        Cell::Text(s) => s.into_pyobject(py)?.into_any(),
        Cell::Int(n) => n.into_pyobject(py)?.into_any(),
        Cell::Float(x) => x.into_pyobject(py)?.into_any(),
        Cell::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
    })
}

/// One table as `{columns, kinds, data}`.
fn columns<'py>(py: Python<'py>, t: &Table) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let names: Vec<&str> = t.columns.iter().map(|c| c.name).collect();
    let kinds: Vec<&str> = t.columns.iter().map(|c| kind_name(c.kind)).collect();
    let data = PyDict::new(py);
    for (i, c) in t.columns.iter().enumerate() {
        let col = PyList::empty(py);
        for row in &t.rows {
            match row.get(i) {
                Some(v) => col.append(cell(py, v)?)?,
                None => col.append(py.None())?,
            }
        }
        data.set_item(c.name, col)?;
    }
    d.set_item("columns", names)?;
    d.set_item("kinds", kinds)?;
    d.set_item("data", data)?;
    Ok(d)
}

/// The `responses`, `trains`, `flags` and `findings` tables of `a`, with
/// `path` in their first column.
pub fn of<'py>(py: Python<'py>, a: &Analysis, path: &str) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("responses", columns(py, &table::responses(a, path))?)?;
    d.set_item("trains", columns(py, &table::trains(a, path))?)?;
    d.set_item("flags", columns(py, &table::flags(a, path))?)?;
    d.set_item("findings", columns(py, &table::findings(a, path))?)?;
    Ok(d)
}
