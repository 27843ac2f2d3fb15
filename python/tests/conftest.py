"""Shared fixtures: the `rns` binary the package is checked against, and the samples."""

import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"


def _rns_binary() -> pathlib.Path:
    """`RNS_BIN`, else the repository's release or debug build."""
    env = os.environ.get("RNS_BIN")
    if env:
        return pathlib.Path(env)
    for profile in ("release", "debug"):
        p = ROOT / "target" / profile / "rns"
        if p.exists():
            return p
    found = shutil.which("rns")
    if found:
        return pathlib.Path(found)
    raise RuntimeError("no rns binary: build it (cargo build) or set RNS_BIN")


@pytest.fixture(scope="session")
def rns():
    """Run `rns ARGS...`; returns the CompletedProcess (text)."""
    binary = _rns_binary()

    def run(*args, check=True):
        p = subprocess.run([str(binary), *map(str, args)], capture_output=True, text=True)
        if check and p.returncode != 0:
            raise AssertionError(f"rns {' '.join(map(str, args))} exited {p.returncode}: {p.stderr}")
        return p

    return run


@pytest.fixture(scope="session")
def samples():
    return SAMPLES
