"""rns_analyzer: repetitive nerve stimulation (RNS) analysis from Python.

The numbers are those of the ``rns`` command line: every function runs the
same Rust analysis core (``rns_analyzer.pipeline.analyze_file``) on a
recording's path. Settings are the ``rns`` flags' long names with ``_``
(``full_scale_mv=20``, ``muscle="ADM"``, ``window_ms=(2, 15)``,
``criteria="strict.toml"``); a recording's ``<file>.rns.toml`` sidecar is
read as the CLI reads it.

- :func:`analyze` -- the JSON contract of ``rns analyze --format json`` as a dict;
- :func:`responses`, :func:`trains`, :func:`flags`, :func:`findings` --
  the tables of ``rns batch`` as pandas DataFrames (one row per response,
  train, flag, finding; typed columns, no strings to split);
- :func:`traces` -- the response waveforms as NumPy arrays (responses x points);
- :func:`analyze_file` -- all of these from one analysis;
- :func:`simulate` -- the neuromuscular-junction simulator (samples and truth);
- :func:`find_inputs`, :func:`tables_of` -- a folder as ``rns batch`` sees it,
  and many results gathered into the batch's tables (see ``rns_analyzer.dask``).

Failures raise :class:`RnsError` (or a subclass) with the CLI's message and
exit code. Patterns, not diagnoses: the tool reports a neurophysiological
pattern and the findings behind it; a clinician interprets the study.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Union

import numpy as np
import pandas as pd

from . import _native
from ._errors import InputError, NothingToAnalyseError, RnsError, UsageError

__all__ = [
    "Result",
    "Simulation",
    "RnsError",
    "UsageError",
    "InputError",
    "NothingToAnalyseError",
    "analyze",
    "analyze_file",
    "responses",
    "trains",
    "flags",
    "findings",
    "traces",
    "simulate",
    "find_inputs",
    "tables_of",
    "TABLES",
    "__version__",
]

__version__: str = _native.version()

#: The per-recording tables, in the order ``rns batch`` writes them.
TABLES = ("responses", "trains", "flags", "findings")

PathLike = Union[str, "os.PathLike[str]"]

_DTYPES = {"text": "string", "int": "Int64", "float": "float64", "bool": "boolean"}


def _frame(t: Dict[str, Any]) -> pd.DataFrame:
    """A table of typed columns as a DataFrame: text ``string``, counts
    ``Int64``, figures ``float64`` (NaN where not applicable), truth values
    ``boolean`` -- the nullable dtypes, so an empty cell stays empty."""
    cols = {}
    for name, kind in zip(t["columns"], t["kinds"]):
        values = t["data"][name]
        if kind == "float":
            cols[name] = pd.array([np.nan if v is None else v for v in values], dtype="float64")
        else:
            cols[name] = pd.array(values, dtype=_DTYPES[kind])
    return pd.DataFrame(cols, columns=t["columns"])


@dataclass
class Result:
    """One recording's analysis: the JSON contract, its tables and (when
    asked) the response traces."""

    #: ``rns analyze --format json`` of the recording, as a dict.
    analysis: Dict[str, Any]
    #: One row per response (the columns of ``rns analyze --format csv``).
    responses: pd.DataFrame
    #: One row per train.
    trains: pd.DataFrame
    #: One row per quality flag.
    flags: pd.DataFrame
    #: One row per finding behind the pattern.
    findings: pd.DataFrame
    #: Per train: ``train``, ``time_ms`` and ``mv`` (responses x points,
    #: NaN-padded), and the markers per response (``onset_ms``, ``peak_ms``,
    #: ``peak_mv``, ``phase_end_ms``, ``baseline_mv``, ``blank_end_ms``);
    #: empty unless ``traces=True``.
    traces: List[Dict[str, Any]] = field(default_factory=list)

    @property
    def pattern(self) -> str:
        """The pattern: ``normal``, ``mg_like``, ``lems_like`` or ``indeterminate``."""
        return self.analysis["classification"]["pattern"]


def analyze_file(
    path: PathLike, *, traces: bool = False, label: Optional[str] = None, **settings: Any
) -> Result:
    """Analyse one recording once and return every view of it.

    ``label`` is the text of the tables' ``path`` column (default: ``path``);
    ``traces=True`` also keeps the response waveforms."""
    out = _native.analyze(os.fspath(path), settings, traces, label)
    t = out["tables"]
    return Result(
        analysis=json.loads(out["json"]),
        responses=_frame(t["responses"]),
        trains=_frame(t["trains"]),
        flags=_frame(t["flags"]),
        findings=_frame(t["findings"]),
        traces=list(out.get("traces", [])),
    )


def analyze(path: PathLike, **settings: Any) -> Dict[str, Any]:
    """The JSON contract of ``rns analyze PATH --format json`` as a dict."""
    return json.loads(_native.analyze(os.fspath(path), settings, False, None)["json"])


def _table(path: PathLike, name: str, settings: Dict[str, Any]) -> pd.DataFrame:
    out = _native.analyze(os.fspath(path), settings, False, None)
    return _frame(out["tables"][name])


def responses(path: PathLike, **settings: Any) -> pd.DataFrame:
    """One row per measured response, the columns of ``rns analyze --format csv``."""
    return _table(path, "responses", settings)


def trains(path: PathLike, **settings: Any) -> pd.DataFrame:
    """One row per train, the columns of ``rns batch``'s ``trains.csv``."""
    return _table(path, "trains", settings)


def flags(path: PathLike, **settings: Any) -> pd.DataFrame:
    """One row per quality flag, the columns of ``flags.csv``."""
    return _table(path, "flags", settings)


def findings(path: PathLike, **settings: Any) -> pd.DataFrame:
    """One row per finding behind the pattern, the columns of ``findings.csv``."""
    return _table(path, "findings", settings)


def traces(path: PathLike, **settings: Any) -> List[Dict[str, Any]]:
    """The response waveforms per train as NumPy arrays (see :attr:`Result.traces`):
    oriented main phase up, hum removed, time from the stimulus, at most
    1000 points per response."""
    return list(_native.analyze(os.fspath(path), settings, True, None)["traces"])


@dataclass
class Simulation:
    """A simulated recording: samples in mV, the rate, and the truth."""

    samples_mv: np.ndarray
    sample_rate_hz: float
    #: What was simulated: the junction, stimuli, trains and noiseless responses.
    truth: Dict[str, Any]
    #: What ``rns simulate --out`` printed, when ``out=`` wrote files.
    written: Optional[str] = None


def simulate(**settings: Any) -> Simulation:
    """Run the simulator with ``rns simulate``'s flags as keywords
    (``preset="mg-mild"``, ``protocol="session"``, ``seed=1``, ``achr=0.5``, ...).
    With ``out="rec.wav"`` the recording and its truth are also written, as
    the CLI writes them. Same seed, same samples."""
    out = _native.simulate(settings)
    return Simulation(
        samples_mv=out["samples_mv"],
        sample_rate_hz=out["sample_rate_hz"],
        truth=json.loads(out["truth"]),
        written=out["written"],
    )


def find_inputs(folder: PathLike) -> List[str]:
    """The recordings ``rns batch FOLDER`` reads, relative to ``folder``,
    sorted (hidden entries skipped). An entry that cannot be read raises."""
    files, problems = _native.find_inputs(os.fspath(folder))
    if problems:
        rel, message, code = problems[0]
        raise InputError(message, code)
    return list(files)


def tables_of(results: Iterable[Result]) -> Dict[str, pd.DataFrame]:
    """The per-recording tables of many results, concatenated in the order
    given (sort by path for ``rns batch``'s order): ``{name: DataFrame}``
    for every name in :data:`TABLES`."""
    results = list(results)
    out = {}
    for name in TABLES:
        frames = [getattr(r, name) for r in results]
        if frames:
            out[name] = pd.concat(frames, ignore_index=True)
        else:
            out[name] = pd.DataFrame()
    return out
