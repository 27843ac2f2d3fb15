#!/usr/bin/env python3
"""Reference RNS measurements in plain NumPy/SciPy, for the speed comparison
in BENCHMARKS.md (run by scripts/compare_python.sh and scripts/bench.sh).

It is what a careful analyst would write in an afternoon, kept idiomatic and
vectorised where NumPy makes that natural:

- read the WAV with ``scipy.io.wavfile`` (integer samples scaled by
  ``full_scale_mv`` from the ``<file>.rns.toml`` sidecar, as ``rns`` does);
- stimuli: peaks of the absolute first difference with
  ``scipy.signal.find_peaks`` (height: 20 × the robust SD of the difference
  and 30 % of the steepest slope; distance: 5 ms), timed at the artifact's
  onset (first sample in the 1.5 ms before the steepest one that departs from
  the pre-artifact level by a quarter of the excursion);
- per response, in a window from 3 ms before the stimulus to 40 ms after it
  (ending 0.5 ms before the next stimulus): baseline = median of the
  pre-stimulus samples, negative peak after a 1.5 ms blanking, amplitude,
  peak-to-peak (to the following positive peak), onset (back from the peak
  to 2 % of the amplitude), end of the negative phase (first return to the
  baseline), area of the negative phase (trapezoid) and latency;
- trains: stimuli grouped by interval (at most 1.1 s, within ±25 % of the
  train's first interval); per train the rate, the 4th-response decrement
  and, at ≥ 10 Hz, the increment (largest response over the first).

It does less than ``rns analyze`` (no mains-hum model, no polarity vote, no
adaptive blanking, no quality checks, no roles or classification), so the
comparison favours it.

Usage::

    reference_numpy.py FILE_OR_DIR... [--json OUT]   # measure, write JSON
    reference_numpy.py --agree RNS_JSON FILE...      # compare with rns analyze --format json
"""

import argparse
import json
import os
import sys
import tomllib

import numpy as np
from scipy.io import wavfile
from scipy.signal import find_peaks


def full_scale_mv(path):
    """``full_scale_mv`` from the file's sidecar, 1.0 when none."""
    side = path + ".rns.toml"
    if os.path.exists(side):
        with open(side, "rb") as f:
            return float(tomllib.load(f).get("full_scale_mv", 1.0))
    return 1.0


def read_wav(path):
    """Sample rate and channel 0 in millivolts (float64)."""
    fs, data = wavfile.read(path)
    x = data[:, 0] if data.ndim > 1 else data
    scale = full_scale_mv(path)
    if x.dtype == np.uint8:
        x = (x.astype(np.float64) - 128.0) / 128.0
    elif np.issubdtype(x.dtype, np.integer):
        x = x.astype(np.float64) / float(2 ** (8 * x.dtype.itemsize - 1))
    else:
        x = x.astype(np.float64)
    return float(fs), x * scale


def detect_stimuli(x, fs):
    """Artifact onsets (fractional sample indices)."""
    ad = np.abs(np.diff(x))
    sd = np.median(ad) / 0.6745
    height = max(20.0 * sd, 0.3 * ad.max())
    peaks, _ = find_peaks(ad, height=height, distance=max(1, int(0.005 * fs)))
    onsets = []
    pre_a, pre_b = int(round(0.0015 * fs)), max(1, int(round(0.0005 * fs)))
    for p in peaks:
        a, b = max(0, p - pre_a), max(0, p - pre_b)
        level = np.median(x[a:b]) if b > a else x[b]
        seg = np.abs(x[b : p + 2] - level)
        above = np.nonzero(seg >= 0.25 * seg.max())[0]
        onsets.append(b + (above[0] if len(above) else p - b))
    return np.asarray(onsets, dtype=np.int64)


def measure(x, fs, s, nxt):
    """One response to the stimulus at sample ``s`` (next stimulus ``nxt``)."""
    dt_ms = 1000.0 / fs
    pre = x[max(0, s - int(0.003 * fs)) : max(0, s - int(0.0001 * fs))]
    end = min(len(x), s + int(0.040 * fs))
    if nxt is not None:
        end = min(end, nxt - int(0.0005 * fs))
    start = s + int(0.0015 * fs)
    if len(pre) < 3 or end - start < 4:
        return None
    base = np.median(pre)
    y = base - x[start:end]  # negative main phase points up
    ip = int(np.argmax(y))
    amp = float(y[ip])
    if amp <= 0:
        return None
    before = np.nonzero(y[: ip + 1] <= 0.02 * amp)[0]
    onset = int(before[-1]) if len(before) else 0
    after = np.nonzero(y[ip:] <= 0.0)[0]
    stop = ip + int(after[0]) if len(after) else len(y) - 1
    area = float(np.trapezoid(y[onset : stop + 1], dx=dt_ms))
    p2p = amp - float(min(y[stop:].min(), 0.0))
    return {
        "stimulus_s": s / fs,
        "latency_ms": (start + onset - s) * dt_ms,
        "amplitude_mv": amp,
        "peak_to_peak_mv": p2p,
        "area_mv_ms": area,
    }


def group_trains(times):
    """Index ranges of trains: intervals ≤ 1.1 s within ±25 % of the first."""
    groups, start, isi = [], 0, None
    for i in range(1, len(times)):
        gap = times[i] - times[i - 1]
        if gap <= 1.1 and (isi is None or abs(gap - isi) <= 0.25 * isi):
            isi = isi if isi is not None else gap
        else:
            groups.append((start, i))
            start, isi = i, None
    if len(times):
        groups.append((start, len(times)))
    return groups


def analyse(path):
    fs, x = read_wav(path)
    stims = detect_stimuli(x, fs)
    times = stims / fs
    trains = []
    for a, b in group_trains(times):
        resp = []
        for k in range(a, b):
            nxt = int(stims[k + 1]) if k + 1 < len(stims) else None
            m = measure(x, fs, int(stims[k]), nxt)
            if m is not None:
                resp.append(m)
        amps = np.array([r["amplitude_mv"] for r in resp])
        rate = 1.0 / float(np.median(np.diff(times[a:b]))) if b - a > 1 else None
        train = {"rate_hz": rate, "responses": resp}
        if len(amps) >= 4 and amps[0] > 0:
            train["decrement_pct"] = float((amps[0] - amps[3]) / amps[0] * 100.0)
        if rate is not None and rate >= 10.0 and len(amps) >= 2 and amps[0] > 0:
            train["increment_pct"] = float((amps.max() - amps[0]) / amps[0] * 100.0)
        trains.append(train)
    return {"path": path, "sample_rate_hz": fs, "stimuli": len(stims), "trains": trains}


def inputs(args):
    for a in args:
        if os.path.isdir(a):
            for root, _, files in os.walk(a):
                for f in sorted(files):
                    if f.lower().endswith(".wav"):
                        yield os.path.join(root, f)
        else:
            yield a


def agree(rns_json, files):
    """Print how the reference's amplitudes compare with rns analyze's."""
    with open(rns_json) as f:
        rns = json.load(f)
    rns = rns if isinstance(rns, list) else [rns]
    by_path = {os.path.abspath(r["source"]["path"]): r for r in rns if "source" in r}
    worst = 0.0
    print(f"{'file':44} {'responses':>9} {'median |Δamp| %':>16} {'max |Δamp| %':>13}")
    for path in files:
        r = by_path.get(os.path.abspath(path))
        if r is None:
            print(f"{os.path.basename(path):44} not in {rns_json}")
            continue
        ours = [m for t in analyse(path)["trains"] for m in t["responses"]]
        theirs = [m for t in r["trains"] for m in t["responses"] if m["stimulus_s"] is not None]
        t_ours = np.array([m["stimulus_s"] for m in ours])
        diffs = []
        for m in theirs:
            j = int(np.argmin(np.abs(t_ours - m["stimulus_s"]))) if len(t_ours) else -1
            if j >= 0 and abs(t_ours[j] - m["stimulus_s"]) < 0.002:
                a, b = ours[j]["amplitude_mv"], m["amplitude_mv"]
                diffs.append(abs(a - b) / b * 100.0)
        d = np.array(diffs) if diffs else np.array([np.nan])
        worst = max(worst, float(np.nanmax(d)))
        print(f"{os.path.basename(path):44} {len(diffs):>5}/{len(theirs):<3} "
              f"{np.nanmedian(d):16.2f} {np.nanmax(d):13.2f}")
    return worst


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("paths", nargs="+")
    p.add_argument("--json", help="write the measurements here (default: standard output)")
    p.add_argument("--agree", metavar="RNS_JSON",
                   help="compare amplitudes with this rns analyze --format json output")
    a = p.parse_args()
    files = list(inputs(a.paths))
    if a.agree:
        worst = agree(a.agree, files)
        print(f"largest amplitude difference: {worst:.2f} %")
        return 0
    out = [analyse(f) for f in files]
    text = json.dumps(out, indent=1)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text + "\n")
    print(f"{len(out)} recordings, {sum(r['stimuli'] for r in out)} stimuli", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
