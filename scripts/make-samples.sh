#!/usr/bin/env bash
# Regenerate samples/ (recordings, sidecars, truth and expected results) from
# the synthetic generator. Seeds are fixed: the output is byte-for-byte stable.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet --release --example make_samples -- samples
