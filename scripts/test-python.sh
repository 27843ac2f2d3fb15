#!/usr/bin/env bash
# Build the Python package's abi3 wheel (maturin), install it, and run its
# tests (pytest): the package against the `rns` binary, and a folder on a
# Dask LocalCluster of 2 workers against `rns batch`.
#
#   scripts/test-python.sh            # uses target/debug/rns (built if missing)
#   RNS_BIN=path/to/rns scripts/test-python.sh
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-python3}
"$py" -m pip install -q --disable-pip-version-check "maturin>=1.5,<2" "numpy>=1.21" "pandas>=1.5" \
    "pytest>=7" "dask[distributed]>=2023.1"
if [ -z "${RNS_BIN:-}" ]; then
    [ -x target/debug/rns ] || cargo build --bin rns
    export RNS_BIN="$PWD/target/debug/rns"
fi
rm -rf python/target/wheels
"$py" -m maturin build --release -q -m python/Cargo.toml -o python/target/wheels
"$py" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps python/target/wheels/rns_analyzer-*.whl
"$py" -m pytest -q python/tests -p no:cacheprovider
