#!/usr/bin/env bash
# Times `rns analyze` against the NumPy/SciPy reference (scripts/reference_numpy.py)
# on the same WAV files, one process each, one core each, and checks that the
# two agree on a few files. See BENCHMARKS.md.
#
#   scripts/compare_python.sh CORPUS_DIR [RUNS]
#
# CORPUS_DIR holds the recordings (e.g. from `cargo run --release --example
# bench_corpus -- DIR`); RUNS (default 3) is the number of timed runs of each
# side, of which the fastest counts. Two references are timed: the default one,
# which makes the same measurements as `rns analyze` (stimulus detection, hum
# model, polarity vote, adaptive blanking, per-response figures, trains,
# exercise, decrements and increments; no quality flags or classification),
# and `--subset`, the earlier, simpler one (no hum model, polarity vote or
# adaptive blanking). Installs numpy and scipy with pip when they are missing.
# Prints `python_s` (full reference), `python_subset_s`, `rns_s`, `speedup`
# (full reference over rns) and `speedup_subset` lines last; scripts/bench.sh
# reads `python_s` and `rns_s`.
set -euo pipefail
cd "$(dirname "$0")/.."

corpus=${1:?usage: scripts/compare_python.sh CORPUS_DIR [RUNS]}
runs=${2:-3}
rns=target/release/rns
[ -x "$rns" ] || cargo build --release --quiet --bin rns

if ! python3 -c 'import numpy, scipy' 2>/dev/null; then
    echo "installing numpy and scipy (pip)" >&2
    python3 -m pip install --quiet numpy scipy >&2
fi

mapfile -t files < <(find "$corpus" -name '*.wav' | sort)
[ "${#files[@]}" -gt 0 ] || { echo "no WAV file under $corpus" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Wall-clock seconds of the fastest of $runs runs of a command, pinned to one
# core (taskset) so that neither side can use a second one.
fastest() {
    local best="" t0 t1
    for _ in $(seq "$runs"); do
        t0=$(date +%s.%N)
        taskset -c 0 "$@" >/dev/null 2>&1
        t1=$(date +%s.%N)
        best=$(awk -v a="$t0" -v b="$t1" -v m="$best" 'BEGIN { s = b - a; if (m == "" || s < m) m = s; printf "%.3f", m }')
    done
    echo "$best"
}

echo "corpus: ${#files[@]} WAV files, $(du -ch "${files[@]}" | tail -1 | cut -f1)" >&2
# Warm the page cache so that both sides read from memory.
cat "${files[@]}" >/dev/null

echo "agreement (rns analyze vs the full reference, matched by stimulus time):" >&2
sample=("${files[@]:0:3}" "${files[@]: -3}")
"$rns" analyze "${sample[@]}" --format json -o "$tmp/agree.json" || true
python3 scripts/reference_numpy.py --agree "$tmp/agree.json" "${sample[@]}" >&2
echo "agreement of the subset reference:" >&2
python3 scripts/reference_numpy.py --agree "$tmp/agree.json" "${sample[@]}" --subset | tail -1 >&2

py=$(fastest python3 scripts/reference_numpy.py "${files[@]}" --json "$tmp/py.json")
pysub=$(fastest python3 scripts/reference_numpy.py --subset "${files[@]}" --json "$tmp/py_subset.json")
rs=$(fastest "$rns" analyze "${files[@]}" --format json -o "$tmp/rns.json")
ratio() { awk -v p="$1" -v r="$2" 'BEGIN { printf "%.1f", p / r }'; }
echo "python_s $py"
echo "python_subset_s $pysub"
echo "rns_s $rs"
echo "speedup $(ratio "$py" "$rs")"
echo "speedup_subset $(ratio "$pysub" "$rs")"
