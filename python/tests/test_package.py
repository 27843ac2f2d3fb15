"""The Python package gives the numbers of the `rns` command line."""

import io
import json

import numpy as np
import pandas as pd
import pytest

import rns_analyzer as rns_py

RECORDINGS = ["mg_session.wav", "lems_session.wav", "normal_trigger.csv", "mg_sweeps.csv"]


@pytest.mark.parametrize("name", RECORDINGS)
def test_analyze_is_the_cli_json(rns, samples, name):
    cli = json.loads(rns("analyze", samples / name, "--format", "json").stdout)
    assert rns_py.analyze(samples / name) == cli


def test_settings_are_the_flags(rns, samples):
    f = samples / "mg_session.wav"
    cli = json.loads(rns("analyze", f, "--format", "json", "--muscle", "APB", "--window-ms", "2:15",
                         "--patient-id", "P-1").stdout)
    assert rns_py.analyze(f, muscle="APB", window_ms=(2, 15), patient_id="P-1") == cli
    assert rns_py.analyze(f, muscle="APB", window_ms="2:15", patient_id="P-1") == cli
    # The window changes something, or the test above proves nothing.
    assert rns_py.analyze(f) != cli


@pytest.mark.parametrize("name", RECORDINGS)
def test_responses_are_the_cli_csv(rns, samples, name):
    f = samples / name
    cli = pd.read_csv(io.StringIO(rns("analyze", f, "--format", "csv").stdout),
                      keep_default_na=False, na_values=[""])
    df = rns_py.responses(f)
    assert list(df.columns) == list(cli.columns)
    assert len(df) == len(cli) > 0
    for col in df.columns:
        mine = df[col].astype(object).where(df[col].notna(), None).tolist()
        theirs = cli[col].astype(object).where(cli[col].notna(), None).tolist()
        if df[col].dtype == "float64":
            # Both are the same f64 printed and read back: exact.
            assert np.array_equal(df[col].to_numpy(), cli[col].to_numpy(dtype=float), equal_nan=True), col
        else:
            assert [None if v is None else str(v) for v in mine] == \
                   [None if v is None else str(v) for v in theirs], col


def test_dtypes_are_typed_and_nullable(samples):
    r = rns_py.analyze_file(samples / "mg_session.wav")
    assert r.responses["amplitude_mv"].dtype == "float64"
    assert r.responses["train"].dtype == "Int64"
    assert r.responses["path"].dtype == "string"
    assert r.trains["shape"].dtype == "string"
    assert r.pattern == "mg_like"
    assert len(r.trains) == len(r.analysis["trains"])
    assert r.trains["decrement_pct"].iloc[0] == r.analysis["trains"][0]["decrement_pct"]
    # Flags and findings are tidy tables: one code per row, nothing to split.
    assert not r.findings.empty
    assert all(";" not in c for c in r.findings["code"])


def test_traces_are_arrays_per_train(samples):
    r = rns_py.analyze_file(samples / "mg_session.wav", traces=True)
    assert len(r.traces) == len(r.analysis["trains"])
    for t, train in zip(r.traces, r.analysis["trains"]):
        n = len(train["responses"])
        assert t["train"] == train["index"]
        assert t["mv"].shape == t["time_ms"].shape
        assert t["mv"].shape[0] == n and t["mv"].shape[1] > 50
        assert t["peak_ms"].shape == (n,)
        # The marker is the measurement: peak level - baseline = amplitude.
        amp = np.array([resp["amplitude_mv"] for resp in train["responses"]])
        assert np.allclose(t["peak_mv"] - t["baseline_mv"], amp, atol=2e-3)
        # Time runs forward, from before the stimulus's artifact end.
        row = t["time_ms"][0][~np.isnan(t["time_ms"][0])]
        assert np.all(np.diff(row) > 0)


def test_errors_carry_the_cli_message_and_code(rns, samples, tmp_path):
    missing = tmp_path / "missing.wav"
    cli = rns("analyze", missing, check=False)
    with pytest.raises(rns_py.InputError) as e:
        rns_py.analyze(missing)
    assert e.value.exit_code == cli.returncode == 3
    assert cli.stderr.strip() == f"rns: {e.value.message}"
    assert isinstance(e.value, OSError) and isinstance(e.value, rns_py.RnsError)

    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    with pytest.raises(rns_py.InputError) as e:
        rns_py.analyze(bad)
    assert str(bad) in str(e.value)

    with pytest.raises(rns_py.UsageError) as e:
        rns_py.analyze(samples / "mg_session.wav", no_such_setting=1)
    assert e.value.exit_code == 2 and "no_such_setting" in str(e.value)
    with pytest.raises(rns_py.UsageError, match="full_scale_mv must be a number"):
        rns_py.analyze(samples / "mg_session.wav", full_scale_mv="loud")
    cli = rns("analyze", samples / "mg_session.wav", "--window-ms", "15:2", check=False)
    with pytest.raises(rns_py.UsageError) as e:
        rns_py.analyze(samples / "mg_session.wav", window_ms=(15, 2))
    assert cli.returncode == 2 and cli.stderr.strip() == f"rns: {e.value.message}"


def test_errors_pickle_with_their_code():
    import pickle
    e = pickle.loads(pickle.dumps(rns_py.InputError("x.wav: broken", 3)))
    assert (type(e), e.message, e.exit_code) == (rns_py.InputError, "x.wav: broken", 3)


def test_simulate_is_seeded_and_analysable(tmp_path):
    a = rns_py.simulate(preset="mg-mild", protocol="baseline", seed=3)
    b = rns_py.simulate(preset="mg-mild", protocol="baseline", seed=3)
    c = rns_py.simulate(preset="mg-mild", protocol="baseline", seed=4)
    assert a.samples_mv.dtype == np.float32 and a.samples_mv.ndim == 1
    assert np.array_equal(a.samples_mv, b.samples_mv)
    assert not np.array_equal(a.samples_mv, c.samples_mv)
    assert a.truth["trains"][0]["decrement_pct"] > 10
    assert a.samples_mv.size > a.sample_rate_hz * a.truth["stimuli_s"][-1]
    out = tmp_path / "rec.wav"
    w = rns_py.simulate(preset="mg-mild", protocol="session", seed=3, out=out)
    assert out.exists() and w.written
    # The sidecar written beside it is read, as by the CLI.
    got = rns_py.analyze(out)
    assert got["classification"]["pattern"] == "mg_like"
    with pytest.raises(rns_py.UsageError):
        rns_py.simulate(preset="no-such-preset")


def test_simulate_matches_the_cli_file(rns, tmp_path):
    cli = tmp_path / "cli.wav"
    rns("simulate", "--preset", "lems", "--protocol", "hfs", "--seed", "7", "--out", cli)
    py = tmp_path / "py.wav"
    rns_py.simulate(preset="lems", protocol="hfs", seed=7, out=py)
    assert cli.read_bytes() == py.read_bytes()


def test_find_inputs_is_the_batch_walk(samples):
    files = rns_py.find_inputs(samples)
    assert files == sorted(files)
    assert "mg_session.wav" in files
    assert not any(f.endswith(".json") or f.endswith(".toml") for f in files)
