#!/usr/bin/env bash
# One command for the performance figures of BENCHMARKS.md: builds the release
# binary, generates the inputs, measures the ratios the performance targets
# name, and prints them with PASS/FAIL.
#
#   scripts/bench.sh
#
# Environment (all optional):
#   BENCH_DIR    keep the generated inputs and raw results here (default: a
#                temporary folder, removed at the end)
#   BENCH_SEEDS  seeds of the batch corpus (default 2: 50 recordings, ~150 MB)
#   BENCH_RUNS   timed runs per measurement (default 10; Python: 3)
#
# Needs about 2 GB of disk for the generated inputs (a 1.15 GB EDF among them).
# Needs cargo, python3 and, for the figures, hyperfine and GNU time (Debian:
# `apt-get install hyperfine time`; installed here when missing and running as
# root). Python's numpy and scipy are installed with pip when missing.
# Measure on a quiet machine: the script prints the load average first and
# warns when it is high. Not run by CI (benchmarks are not tests).
set -euo pipefail
cd "$(dirname "$0")/.."

seeds=${BENCH_SEEDS:-2}
runs=${BENCH_RUNS:-10}
slow_runs=3

need() {
    command -v "$1" >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing $2 (apt-get)" >&2
        (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1 ||
            (apt-get update -qq >/dev/null 2>&1 &&
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1)) || true
    fi
    command -v "$1" >/dev/null 2>&1 || { echo "bench.sh needs $1 (Debian package $2)" >&2; exit 1; }
}
need hyperfine hyperfine
[ -x /usr/bin/time ] || need /usr/bin/time time

if [ -n "${BENCH_DIR:-}" ]; then
    dir=$BENCH_DIR
    mkdir -p "$dir"
else
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
fi

echo "== build" >&2
cargo build --release --quiet --bin rns --example bench_corpus --example bench_session --example decode_only
rns=$PWD/target/release/rns
decode=$PWD/target/release/examples/decode_only

echo "== machine" >&2
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
mem=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "cpu: $cpu; cores: $(nproc); memory: $mem; $(rustc --version)" >&2
echo "load average: $load" >&2
if awk -v l="${load%% *}" 'BEGIN { exit !(l > 0.5) }'; then
    echo "WARNING: the machine is busy (load ${load%% *}); figures will be noisy, re-run when quiet" >&2
fi

echo "== inputs (in $dir)" >&2
"$PWD/target/release/examples/bench_session" "$dir/s" >&2
"$PWD/target/release/examples/bench_corpus" "$dir/corpus" --seeds "$seeds" >&2
cat "$dir"/s/* "$dir"/corpus/* >/dev/null # warm the page cache (about 2 GB)

# Median wall-clock seconds of command $2 in hyperfine's JSON $1.
median() {
    python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))["results"]; print(r[int(sys.argv[2])]["median"])' "$1" "$2"
}
# Decoded size in bytes of the channels `rns analyze` decodes (the EMG channel).
decoded_bytes() {
    "$rns" inspect "$1" --format json |
        python3 -c 'import json, sys; print(4 * json.load(sys.stdin)["channels"][0]["samples"])'
}

echo "== analyze vs decode-only (5-minute 20 kHz session)" >&2
hyperfine -N -w 3 -r "$runs" --export-json "$dir/analyze.json" \
    "$decode $dir/s/session_5min.wav" \
    "$rns analyze $dir/s/session_5min.wav --format json -o /dev/null" \
    "$decode $dir/s/session_5min.f32.wav" \
    "$rns analyze $dir/s/session_5min.f32.wav --format json -o /dev/null" \
    "$decode --hound $dir/s/session_5min.wav" >&2
dec16=$(median "$dir/analyze.json" 0)
ana16=$(median "$dir/analyze.json" 1)
decf=$(median "$dir/analyze.json" 2)
anaf=$(median "$dir/analyze.json" 3)
dech=$(median "$dir/analyze.json" 4)

echo "== CSV ingest (the session as time_s,emg_mV)" >&2
hyperfine -N -w 1 -r "$runs" --export-json "$dir/csv.json" "taskset -c 0 $decode $dir/s/session_5min.csv" >&2
csv_s=$(median "$dir/csv.json" 0)
csv_bytes=$(stat -c %s "$dir/s/session_5min.csv")

echo "== batch, --jobs 1 vs --jobs 2 ($(find "$dir/corpus" -name '*.wav' | wc -l) recordings)" >&2
# The batch's ceiling on this machine: the corpus split into two halves of
# equal bytes (hard links, recordings with their sidecars), each analysed by
# its own `--jobs 1` process, both at once: perfect division of the work,
# nothing shared but the machine.
python3 - "$dir" <<'PY'
import os, shutil, sys
d = sys.argv[1]
src = os.path.join(d, "corpus")
wavs = sorted((os.path.getsize(os.path.join(src, f)), f) for f in os.listdir(src) if f.endswith(".wav"))
halves, load = ([], []), [0, 0]
for size, f in reversed(wavs):
    k = 0 if load[0] <= load[1] else 1
    halves[k].append(f)
    load[k] += size
for k, files in enumerate(halves):
    out = os.path.join(d, f"half{k + 1}")
    shutil.rmtree(out, ignore_errors=True)  # a kept BENCH_DIR may hold another split
    os.makedirs(out)
    for f in files:
        for name in (f, f + ".rns.toml"):
            if os.path.exists(os.path.join(src, name)):
                os.link(os.path.join(src, name), os.path.join(out, name))
PY
hyperfine -N -w 1 -r "$runs" --export-json "$dir/batch.json" \
    "$rns batch $dir/corpus --out $dir/out1 --force --jobs 1" \
    "$rns batch $dir/corpus --out $dir/out2 --force --jobs 2" \
    "bash -c '$rns batch $dir/half1 --out $dir/outh1 --force --jobs 1 & p=\$!; $rns batch $dir/half2 --out $dir/outh2 --force --jobs 1; s=\$?; wait \$p && exit \$s'" >&2
b1=$(median "$dir/batch.json" 0)
b2=$(median "$dir/batch.json" 1)
bh=$(median "$dir/batch.json" 2)
cmp -s "$dir/out1/summary.csv" "$dir/out2/summary.csv" || echo "WARNING: --jobs 1 and --jobs 2 summaries differ" >&2

# Batch overhead: a folder of small files (the samples, 12 times over),
# `rns batch --jobs 1` against `rns analyze` of the same files in one
# process on one thread. What batch adds (sidecars, hashing, the JSON files
# made durable, the tables) should stay small.
echo "== batch overhead: small files, batch --jobs 1 vs analyze of the same files" >&2
rm -rf "$dir/small" && mkdir -p "$dir/small"
i=0
for k in $(seq 1 12); do
    for f in samples/*.wav; do
        i=$((i + 1))
        n=$(printf 'r%03d' "$i")
        cp "$f" "$dir/small/$n.wav"
        if [ -f "$f.rns.toml" ]; then cp "$f.rns.toml" "$dir/small/$n.wav.rns.toml"; fi
    done
done
hyperfine -N -w 1 -r "$runs" --export-json "$dir/overhead.json" \
    "$rns batch $dir/small --out $dir/out_small --force --jobs 1" \
    "bash -c 'RAYON_NUM_THREADS=1 $rns analyze --format json $dir/small/*.wav > /dev/null'" >&2
bo=$(median "$dir/overhead.json" 0)
ba=$(median "$dir/overhead.json" 1)
nsmall=$i

# Report cost: the same corpus with and without --report (one HTML file per
# recording, plots inline, no plot files: the default), and the reports' sizes.
echo "== report cost: batch --report vs batch, --jobs 1" >&2
hyperfine -N -w 1 -r "$runs" --export-json "$dir/report.json" \
    "$rns batch $dir/corpus --out $dir/out_nrep --force --jobs 1" \
    "$rns batch $dir/corpus --out $dir/out_rep --force --jobs 1 --report" >&2
rn=$(median "$dir/report.json" 0)
rr=$(median "$dir/report.json" 1)
rep_max=$(find "$dir/out_rep/reports" -name '*.html' -printf '%s\n' | sort -n | tail -1)
rep_mean=$(find "$dir/out_rep/reports" -name '*.html' -printf '%s\n' | awk '{ s += $1; n++ } END { print s / n }')
rep_n=$(find "$dir/out_rep/reports" -name '*.html' | wc -l)
rep_files=$(find "$dir/out_rep" -type f | wc -l)
rep_bytes=$(du -sb "$dir/out_rep" | cut -f1)

# The Python package: rns_analyzer.analyze over the corpus, one process on
# one core (as `rns batch --jobs 1` works), calls per second.
echo "== Python package: rns_analyzer.analyze on the corpus" >&2
python3 -m pip install -q --disable-pip-version-check "maturin>=1.5,<2" "numpy>=1.21" "pandas>=1.5" >&2
rm -rf "$dir/wheels"
python3 -m maturin build --release -q -m python/Cargo.toml -o "$dir/wheels" >&2
python3 -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$dir"/wheels/rns_analyzer-*.whl >&2
py_calls=$(RAYON_NUM_THREADS=1 taskset -c 0 python3 - "$dir/corpus" "$slow_runs" <<'PY'
import glob, os, sys, time
import rns_analyzer
files = sorted(glob.glob(os.path.join(sys.argv[1], "*.wav")))
for f in files[:3]:
    rns_analyzer.analyze(f)
best = float("inf")
for _ in range(int(sys.argv[2])):
    t = time.perf_counter()
    for f in files:
        rns_analyzer.analyze(f)
    best = min(best, time.perf_counter() - t)
print(len(files) / best, len(files))
PY
)
py_rate=${py_calls% *}
py_n=${py_calls#* }

# Control: how much of a second core the machine gives right now. Two
# independent one-thread analyses at once take as long as one on two free
# cores, and twice as long on one; batch cannot scale beyond this figure.
echo "== control: two independent one-thread analyses at once vs one" >&2
one="env RAYON_NUM_THREADS=1 $rns analyze $dir/s/session_1h.wav --format json -o /dev/null"
hyperfine -N -w 1 -r "$slow_runs" --export-json "$dir/control.json" \
    "$one" "bash -c '$one & $one; wait'" >&2
c1=$(median "$dir/control.json" 0)
c2=$(median "$dir/control.json" 1)

echo "== peak memory of rns analyze" >&2
rss() { # kB of maximum resident set size
    /usr/bin/time -f '%M' -o "$dir/rss" "$rns" analyze "$1" --format json -o /dev/null
    cat "$dir/rss"
}
rss5=$(rss "$dir/s/session_5min.wav")
rss5csv=$(rss "$dir/s/session_5min.csv")
rss5edf=$(rss "$dir/s/session_5min_8ch.edf")
rss1hedf=$(rss "$dir/s/session_1h_8ch.edf")
rss1h=$(rss "$dir/s/session_1h.wav")
rss1hf=$(rss "$dir/s/session_1h.f32.wav")
d5=$(decoded_bytes "$dir/s/session_5min.wav")
d1h=$(decoded_bytes "$dir/s/session_1h.wav")

echo "== NumPy/SciPy reference (same corpus)" >&2
scripts/compare_python.sh "$dir/corpus" "$slow_runs" >"$dir/python.txt"
py_s=$(awk '$1 == "python_s" { print $2 }' "$dir/python.txt")
rs_s=$(awk '$1 == "rns_s" { print $2 }' "$dir/python.txt")
pysub_s=$(awk '$1 == "python_subset_s" { print $2 }' "$dir/python.txt")

# Table: what, measured, target, PASS/FAIL (awk does the arithmetic).
awk -v dec16="$dec16" -v ana16="$ana16" -v decf="$decf" -v anaf="$anaf" -v dech="$dech" -v bh="$bh" \
    -v csv_s="$csv_s" -v csv_bytes="$csv_bytes" -v b1="$b1" -v b2="$b2" \
    -v rss5="$rss5" -v rss5csv="$rss5csv" -v rss5edf="$rss5edf" -v rss1hedf="$rss1hedf" -v rss1h="$rss1h" -v rss1hf="$rss1hf" -v d5="$d5" -v d1h="$d1h" \
    -v py="$py_s" -v pysub="$pysub_s" -v rs="$rs_s" -v c1="$c1" -v c2="$c2" \
    -v bo="$bo" -v ba="$ba" -v nsmall="$nsmall" \
    -v rn="$rn" -v rr="$rr" -v rep_max="$rep_max" -v rep_mean="$rep_mean" -v rep_n="$rep_n" \
    -v rep_files="$rep_files" -v rep_bytes="$rep_bytes" -v py_rate="$py_rate" -v py_n="$py_n" '
function verdict(ok) { return ok < 0 ? "info" : ok ? "PASS" : "FAIL" }
function row(what, measured, target, ok) {
    printf "| %s | %s | %s | %s |\n", what, measured, target, verdict(ok)
}
function mb(x) { return x / 1e6 }
BEGIN {
    print "| measurement | measured | target | |"
    print "|---|---|---|---|"
    r = ana16 / dec16
    row("analyze / decode-only, 5-min 20 kHz 16-bit WAV", sprintf("%.1f ms / %.1f ms = %.2f×", ana16 * 1000, dec16 * 1000, r), "(no longer a target)", -1)
    r = anaf / decf
    row("analyze / decode-only, same as 32-bit float WAV", sprintf("%.1f ms / %.1f ms = %.2f×", anaf * 1000, decf * 1000, r), "", -1)
    r = ana16 / dech
    row("analyze / decoding with the hound per-sample iterator, 16-bit WAV", sprintf("%.1f ms / %.1f ms = %.2f×", ana16 * 1000, dech * 1000, r), "", -1)
    t = mb(csv_bytes) / csv_s
    row("CSV ingest, one core", sprintf("%.0f MB in %.0f ms = %.0f MB/s", mb(csv_bytes), csv_s * 1000, t), "≥ 200 MB/s", t >= 200)
    r = b1 / b2
    row("batch --jobs 1 / --jobs 2", sprintf("%.2f s / %.2f s = %.2f×", b1, b2, r), "≥ 1.8×", r >= 1.8)
    r = b1 / bh
    row("ceiling: batch --jobs 1 / two --jobs 1 batches of half the corpus at once", sprintf("%.2f s / %.2f s = %.2f×", b1, bh, r), "", -1)
    r = bo / ba
    row(sprintf("batch --jobs 1 / analyze of the same %d small files, one thread", nsmall), sprintf("%.2f s / %.2f s = %.2f×", bo, ba, r), "≤ 1.3×", r <= 1.3)
    r = rr / rn
    row(sprintf("batch --report / batch, --jobs 1, %d recordings", rep_n), sprintf("%.2f s / %.2f s = %.2f×", rr, rn, r), "≤ 2×", r <= 2)
    row("largest report (HTML, plots inline; mean)", sprintf("%.0f KB (mean %.0f KB)", rep_max / 1024, rep_mean / 1024), "≤ 300 KB", rep_max <= 300 * 1024)
    row("batch --report output", sprintf("%d files, %.1f MB", rep_files, rep_bytes / 1e6), "", -1)
    row("Python rns_analyzer.analyze, corpus, one core", sprintf("%.0f calls/s (%.1f ms a file; batch --jobs 1 %.1f ms)", py_rate, 1000 / py_rate, 1000 * b1 / py_n), "", -1)
    r = 2 * c1 / c2
    row("control: 2 one-thread analyses at once vs 1 (free cores)", sprintf("%.2f s / %.2f s → %.2f cores", c2, c1, r), "(2.0 on a quiet machine)", -1)
    r = py / rs
    row("NumPy/SciPy reference / rns analyze, one core", sprintf("%.2f s / %.2f s = %.1f×", py, rs, r), "≥ 8× (floor)", r >= 8)
    r = pysub / rs
    row("same, the earlier subset reference (`--subset`)", sprintf("%.2f s / %.2f s = %.1f×", pysub, rs, r), "", -1)
    lim = 1.5 * mb(d5) + 20
    row("peak RSS, analyze 5-min 16-bit WAV", sprintf("%.1f MB (decoded %.1f MB)", rss5 * 1.024 / 1000, mb(d5)), sprintf("≤ %.1f MB", lim), rss5 * 1.024 / 1000 <= lim)
    row("peak RSS, analyze 5-min CSV (time_s,emg_mV)", sprintf("%.1f MB (decoded %.1f MB)", rss5csv * 1.024 / 1000, mb(d5)), sprintf("≤ %.1f MB", lim), rss5csv * 1.024 / 1000 <= lim)
    row("peak RSS, analyze 5-min 8-signal EDF (one decoded)", sprintf("%.1f MB (decoded %.1f MB)", rss5edf * 1.024 / 1000, mb(d5)), sprintf("≤ %.1f MB", lim), rss5edf * 1.024 / 1000 <= lim)
    lim = 1.5 * mb(d1h) + 20
    row("peak RSS, analyze 1-hour 16-bit WAV", sprintf("%.1f MB (decoded %.1f MB)", rss1h * 1.024 / 1000, mb(d1h)), sprintf("≤ %.1f MB", lim), rss1h * 1.024 / 1000 <= lim)
    row("peak RSS, analyze 1-hour 8-signal EDF (1.15 GB, one decoded)", sprintf("%.1f MB (decoded %.1f MB)", rss1hedf * 1.024 / 1000, mb(d1h)), sprintf("≤ %.1f MB", lim), rss1hedf * 1.024 / 1000 <= lim)
    row("peak RSS, analyze 1-hour float WAV", sprintf("%.1f MB (decoded %.1f MB)", rss1hf * 1.024 / 1000, mb(d1h)), sprintf("≤ %.1f MB", lim), rss1hf * 1.024 / 1000 <= lim)
}' | tee "$dir/results.md"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
