"""A folder on a Dask LocalCluster of 2 workers gives `rns batch`'s tables."""

import io

import numpy as np
import pandas as pd
import pytest

distributed = pytest.importorskip("distributed", reason="dask[distributed] is not installed")

from rns_analyzer.dask import analyze_folder  # noqa: E402


def _read(path):
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def _same(df, csv, name):
    assert list(df.columns) == list(csv.columns), name
    assert len(df) == len(csv), name
    for col in df.columns:
        if str(df[col].dtype) in ("Int64", "boolean"):
            pd.testing.assert_series_equal(df[col], csv[col].astype(df[col].dtype), check_names=False)
        elif df[col].dtype == "float64":
            assert np.array_equal(df[col].to_numpy(), csv[col].to_numpy(dtype=float), equal_nan=True), (name, col)
        else:
            a = [None if pd.isna(v) else str(v) for v in df[col].astype(object)]
            b = [None if pd.isna(v) else str(v) for v in csv[col].astype(object)]
            assert a == b, (name, col)


def test_local_cluster_gives_the_batch_tables(rns, samples, tmp_path):
    out = tmp_path / "batch"
    rns("batch", samples, "--out", out, "--jobs", "2")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        got = analyze_folder(samples, client)
        assert len(client.scheduler_info()["workers"]) == 2
    assert not got.errors
    summary = _read(out / "summary.csv")
    assert got.patterns == dict(zip(summary["path"], summary["pattern"]))
    for name in ("responses", "trains", "flags", "findings"):
        _same(got.tables[name], _read(out / f"{name}.csv"), name)
    assert len(got.tables["responses"]) > 100


def test_without_a_client_the_same(samples):
    a = analyze_folder(samples)
    assert len(a.tables["trains"]) > 10 and not a.errors
