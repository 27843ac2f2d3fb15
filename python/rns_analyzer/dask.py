"""A folder analysed on a Dask cluster, gathered into ``rns batch``'s tables.

Each recording is one task: :func:`rns_analyzer.analyze_file`, unchanged,
on whichever worker takes it (the Rust core releases the interpreter, so a
worker's threads analyse files in parallel). The results come back as
DataFrames and are joined in path order, so the tables are those ``rns
batch FOLDER`` writes (``responses.csv``, ``trains.csv``, ``flags.csv``,
``findings.csv``), whatever the number of workers::

    from dask.distributed import Client, LocalCluster
    from rns_analyzer.dask import analyze_folder

    with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster) as client:
        out = analyze_folder("recordings/", client, full_scale_mv=20)
    out.tables["responses"].groupby("path").amplitude_mv.max()

Needs ``dask[distributed]`` (``pip install 'rns-analyzer[dask]'``).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import pandas as pd

from . import Result, RnsError, analyze_file, find_inputs, tables_of

__all__ = ["FolderResult", "analyze_folder", "analyze_one"]


@dataclass
class FolderResult:
    """What became of a folder: the tables and the failures."""

    #: ``{name: DataFrame}`` for every name in :data:`rns_analyzer.TABLES`,
    #: rows in path order; ``responses`` ends with the file's ``sha256``,
    #: as ``rns batch``'s ``responses.csv`` does.
    tables: Dict[str, pd.DataFrame]
    #: The pattern of each analysed recording, by relative path.
    patterns: Dict[str, str] = field(default_factory=dict)
    #: ``(relative path, message, exit code)`` of each recording that failed.
    errors: List[Tuple[str, str, int]] = field(default_factory=list)


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def analyze_one(folder: str, rel: str, settings: Dict[str, Any]) -> Tuple[str, Optional[Result], Any]:
    """One task: the recording ``folder/rel`` analysed, its tables labelled
    with ``rel``. A failure is returned, not raised, so that one bad file
    never stops the others: ``(rel, None, (message, exit code))``."""
    path = os.path.join(folder, rel)
    try:
        r = analyze_file(path, label=rel, **settings)
        r.responses["sha256"] = pd.array([_sha256(path)] * len(r.responses), dtype="string")
        return rel, r, None
    except RnsError as e:
        return rel, None, (e.message, e.exit_code)


def analyze_folder(folder: "os.PathLike[str] | str", client: Any = None, **settings: Any) -> FolderResult:
    """Analyse every recording ``rns batch`` would read under ``folder`` on
    the Dask ``client`` (``None``: in this process, one file after another)
    and gather the tables in path order."""
    folder = os.fspath(folder)
    files = find_inputs(folder)
    if client is None:
        done = [analyze_one(folder, rel, settings) for rel in files]
    else:
        futures = client.map(analyze_one, [folder] * len(files), files, [settings] * len(files), pure=False)
        done = client.gather(futures)
    done = sorted(done, key=lambda d: d[0])
    out = FolderResult(tables={})
    results = []
    for rel, r, err in done:
        if r is None:
            message, code = err
            out.errors.append((rel, message, code))
        else:
            results.append(r)
            out.patterns[rel] = r.pattern
    out.tables = tables_of(results)
    return out
