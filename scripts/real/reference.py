#!/usr/bin/env python3
"""Independent reference measurement of the real M-waves in tests/real/.

Python 3.11 + NumPy only. Written from the textbook definitions (primer §3),
not from rns's code. It reads the corpus CSVs (``time_ms,sweep1,...``, mV,
time 0 = stimulus) and writes ``<file>.reference.json`` next to each.

    python3 scripts/real/reference.py tests/real            # every corpus CSV
    python3 scripts/real/reference.py tests/real/rcf/x.csv  # one file

Per sweep (all times in ms after the stimulus, all levels in mV):

1. Isoelectric span. It starts after the stimulus artifact: for a sweep whose
   first samples are exactly 0 (blanked, as in the RCF data) 0.5 ms after the
   first non-zero sample, otherwise at the source's fixed ``iso_start``.
   It ends before the response. A first baseline is the median of
   ``[iso_start, init_end]`` (``init_end`` lies before the earliest M-wave of
   that source); the final one is the median of ``[iso_start, onset - 0.1]``.
   Pre-stimulus samples are not used (they are reported as ``prestim_mv``).
   Noise = 1.4826 x MAD of the span around the baseline (floor 1 uV).
2. The M-wave trough is looked for only in the source's M window (physiology:
   soleus M-wave trough 8-16 ms, mouse M-wave trough 1.0-2.3 ms): the deepest
   *local* minimum there that lies more than 5 x noise below the baseline.
3. Its negative phase is the contiguous run of samples below the baseline
   around that minimum; its ends are the linearly interpolated baseline
   crossings. The amplitude is measured at that minimum, i.e. the deepest
   trough of the phase inside the M window (a bifid phase is measured at its
   deeper trough, never at the notch; a later wave that merges with the phase
   beyond the window is not taken), refined by a parabola through that sample
   and its two neighbours: ``amplitude_mv = baseline - trough`` (positive for a
   negative-down M-wave).
4. Initial positive deflection: a run of samples above the baseline that
   ends where the negative phase starts and rises more than
   max(5 x noise, 5 % of the amplitude) above it.
5. Onset = first departure from the baseline: walking back from the peak of
   the deflection that starts the response (the initial positive deflection
   if there is one, else the negative trough), the point where the signal
   enters the band baseline +- 2 x noise, interpolated. Steps 1-5 are run
   twice (the second time with the baseline from the span that ends 0.1 ms
   before the onset).
6. ``area_mv_ms`` = trapezoidal integral of (baseline - signal) over the
   negative phase, positive; ``duration_ms`` = its length. The phase runs from
   the onset (after an initial positive deflection: from the downward baseline
   crossing that follows it) to the first return to the baseline.
7. Late wave (RCF: H-reflex window 28-45 ms; mouse: 2.3-4.5 ms): the depth
   of the deepest sample below the baseline there, reported, never used for
   the M-wave.

Flags: ``no_clear_m_wave`` (no candidate, amplitude < 10 x noise, or the
deflection starts at the artifact end, i.e. cannot be told from the artifact
tail), ``initial_positive_deflection``, ``bifid_trough`` (two troughs in the
negative phase, the shallower >= 30 % of the amplitude, with a notch rising
>= 10 % of the amplitude between them), ``late_wave_larger`` (the late wave is
deeper than the M-wave), ``phase_beyond_window`` (the negative phase goes on
past ``phase_end_max``, i.e. it merges with a later wave; area and duration
are then null), ``baseline_not_isoelectric`` (the straight line fitted to the
isoelectric span changes by more than 10 % of the amplitude across it: the
"baseline" is an artifact tail; also counts as ``no_clear_m_wave``).
"""
import json
import sys
from pathlib import Path

import numpy as np

# Per-source settings, chosen from physiology and from looking at the data
# (tests/real/*/ORIGIN.md explains each figure).
SOURCES = {
    "rcf": {  # human soleus (tibial nerve), 3.2 kHz, sweeps start at the stimulus, 0-2.19 ms blanked
        "iso_start": 2.5,  # used only if a sweep is not blanked
        "init_end": 5.0,
        "m_window": (8.0, 16.0),
        "phase_end_max": 16.0,
        "late_window": (28.0, 45.0),
        "late_name": "h_reflex",
    },
    "monstim": {  # mouse, 10 or 30 kHz, 1 ms pre-stimulus, small artifact 0-0.3 ms
        "iso_start": 0.4,
        "init_end": 0.75,
        "m_window": (1.0, 2.3),
        "phase_end_max": 2.6,
        "late_window": (2.3, 4.5),
        "late_name": "late_component",
    },
}


def read_sweeps(path):
    """Return (time_ms, names, matrix[samples, sweeps]) of a CSV sweeps file."""
    lines = [l for l in Path(path).read_text().splitlines() if l.strip() and not l.startswith("#")]
    names = lines[0].split(",")[1:]
    data = np.array([[float(v) for v in l.split(",")] for l in lines[1:]])
    return data[:, 0], names, data[:, 1:]


def crossing(t, x, b, i, j):
    """Time where x crosses level b between samples i and j (linear)."""
    if x[j] == x[i]:
        return float(t[i])
    return float(t[i] + (b - x[i]) * (t[j] - t[i]) / (x[j] - x[i]))


def measure(t, x, p):
    """Measure one sweep. Returns a dict (see module docstring)."""
    dt = float(np.median(np.diff(t)))
    nz = np.flatnonzero(x != 0.0)
    blanked = t[0] >= -1e-9 and nz.size and nz[0] > 0 and np.all(x[: nz[0]] == 0.0)
    iso_start = float(t[nz[0]] + 0.5) if blanked else p["iso_start"]
    out = {"iso_start_ms": round(iso_start, 4), "flags": []}
    pre = x[t < 0]
    out["prestim_mv"] = round(float(np.median(pre)), 5) if pre.size else None

    win = (t >= p["m_window"][0]) & (t <= p["m_window"][1])
    i_iso = int(np.searchsorted(t, iso_start - 1e-9))  # phases never reach back past the artifact end
    span_end = p["init_end"]
    res = None
    for _ in range(2):
        span = (t >= iso_start) & (t <= span_end)
        if span.sum() < 3:
            span = (t >= iso_start) & (t <= iso_start + 3 * dt)
        b = float(np.median(x[span]))
        noise = max(1.4826 * float(np.median(np.abs(x[span] - b))), 1e-3)
        # deepest interior local minimum in the M window, > 5 noise below baseline
        idx = np.flatnonzero(win)
        idx = idx[(idx > i_iso) & (idx < len(x) - 1)]
        cand = [i for i in idx if x[i] <= x[i - 1] and x[i] <= x[i + 1] and x[i] < b - 5 * noise]
        if not cand:
            res = None
            break
        k = min(cand, key=lambda i: x[i])
        lo = k
        while lo > i_iso and x[lo - 1] < b:
            lo -= 1
        hi = k
        while hi < len(x) - 1 and x[hi + 1] < b:
            hi += 1
        # k is the deepest local minimum of the window, hence of the phase inside the window
        if 0 < k < len(x) - 1:
            y0, y1, y2 = x[k - 1], x[k], x[k + 1]
            den = y0 - 2 * y1 + y2
            d = 0.5 * (y0 - y2) / den if den > 0 else 0.0
            trough = float(y1 - 0.25 * (y0 - y2) * d)
            t_trough = float(t[k] + d * dt)
        else:
            trough, t_trough = float(x[k]), float(t[k])
        amp = b - trough
        t_neg0 = crossing(t, x, b, lo - 1, lo) if lo > i_iso else float(t[lo])
        t_neg1 = crossing(t, x, b, hi, hi + 1) if hi < len(x) - 1 else float(t[hi])
        # initial positive deflection: run above baseline just before the phase
        pk = lo - 1
        pos = pk
        while pos > i_iso and x[pos - 1] > b:
            pos -= 1
        hump = float(np.max(x[pos : pk + 1]) - b) if pk >= pos and pk >= i_iso else 0.0
        has_hump = pk >= i_iso and x[pk] > b and hump > max(5 * noise, 0.05 * amp)
        # onset: where the signal last leaves the +-2 noise band before the deflection
        band = 2 * noise
        if has_hump:
            i = pos + int(np.argmax(x[pos : pk + 1]))
            while i > i_iso and x[i - 1] > b + band:
                i -= 1
            level = b + band
        else:
            i = k
            while i > i_iso and x[i - 1] < b - band:
                i -= 1
            level = b - band
        onset = crossing(t, x, level, i - 1, i) if i > i_iso else float(t[i])
        # change of the fitted straight line across the isoelectric span
        drift = float(abs(np.polyfit(t[span], x[span], 1)[0]) * (t[span][-1] - t[span][0]))
        res = dict(drift=drift, b=b, noise=noise, lo=lo, hi=hi, trough=trough, t_trough=t_trough, amp=amp,
                   t_neg0=t_neg0, t_neg1=t_neg1, hump=hump if has_hump else 0.0, onset=onset)
        span_end = onset - 0.1

    if res is None:
        out.update(amplitude_mv=None, baseline_mv=round(b, 5), noise_mv=round(noise, 5))
        out["flags"].append("no_clear_m_wave")
        return out

    r = res
    # negative phase for area and duration (primer 3): from the onset (or, after an
    # initial positive deflection, from the downward baseline crossing) to the
    # first return to the baseline
    t0 = r["t_neg0"] if r["hump"] > 0 else max(r["onset"], r["t_neg0"])
    inside = (t > t0) & (t < r["t_neg1"])
    tt = np.concatenate([[t0], t[inside], [r["t_neg1"]]])
    yy = r["b"] - np.concatenate([[np.interp(t0, t, x)], x[inside], [r["b"]]])
    area = float(np.sum((yy[1:] + yy[:-1]) * np.diff(tt)) / 2)
    merged = r["t_neg1"] > p["phase_end_max"]  # phase runs on into a later wave: no area
    out.update(
        amplitude_mv=round(r["amp"], 5),
        baseline_mv=round(r["b"], 5),
        trough_mv=round(r["trough"], 5),
        trough_latency_ms=round(r["t_trough"], 4),
        onset_latency_ms=round(r["onset"], 4),
        negative_phase_ms=[round(t0, 4), round(r["t_neg1"], 4)],
        duration_ms=None if merged else round(r["t_neg1"] - t0, 4),
        area_mv_ms=None if merged else round(area, 5),
        noise_mv=round(r["noise"], 5),
        baseline_drift_mv=round(r["drift"], 5),
        initial_positive_mv=round(r["hump"], 5),
    )
    if r["hump"] > 0:
        out["flags"].append("initial_positive_deflection")
    # bifid: two local minima in the phase with a notch between them
    seg = slice(r["lo"], r["hi"] + 1)
    ph = x[seg]
    mins = [i for i in range(1, len(ph) - 1) if ph[i] <= ph[i - 1] and ph[i] <= ph[i + 1]]
    deep = [i for i in mins if r["b"] - ph[i] >= 0.3 * r["amp"]]
    for a_i in range(len(deep)):
        for b_i in range(a_i + 1, len(deep)):
            i, j = deep[a_i], deep[b_i]
            notch = np.max(ph[i : j + 1])
            if notch - max(ph[i], ph[j]) >= 0.1 * r["amp"]:
                if "bifid_trough" not in out["flags"]:
                    out["flags"].append("bifid_trough")
                    out["bifid_troughs_ms"] = [round(float(t[r["lo"] + i]), 4), round(float(t[r["lo"] + j]), 4)]
    if merged:
        out["flags"].append("phase_beyond_window")
    if r["drift"] > 0.1 * r["amp"]:
        out["flags"].append("baseline_not_isoelectric")
    lw = (t >= p["late_window"][0]) & (t <= p["late_window"][1])
    if lw.any():
        j = np.flatnonzero(lw)[int(np.argmin(x[lw]))]
        late = float(r["b"] - x[j])
        out[p["late_name"] + "_mv"] = round(max(late, 0.0), 5)
        out[p["late_name"] + "_latency_ms"] = round(float(t[j]), 4)
        if late > r["amp"]:
            out["flags"].append("late_wave_larger")
    if r["amp"] < 10 * r["noise"] or r["onset"] <= iso_start + dt or r["drift"] > 0.1 * r["amp"]:
        out["flags"].append("no_clear_m_wave")
    return out


def source_of(path):
    for part in Path(path).resolve().parts[::-1]:
        if part in SOURCES:
            return part
    raise SystemExit(f"{path}: not under a known source folder ({', '.join(SOURCES)})")


def reference_file(path):
    src = source_of(path)
    p = SOURCES[src]
    t, names, w = read_sweeps(path)
    origin = Path(str(path) + ".origin.json")
    cols = json.loads(origin.read_text())["columns"] if origin.exists() else None
    sweeps = []
    for n, name in enumerate(names):
        m = {"sweep": n + 1, "column": name}
        if cols:
            m.update({k: v for k, v in cols[n].items() if k != "column"})
        m.update(measure(t, w[:, n], p))
        sweeps.append(m)
    fs = (len(t) - 1) * 1000.0 / float(t[-1] - t[0])
    return {
        "file": Path(path).name,
        "source": src,
        "method": "scripts/real/reference.py (module docstring); independent of rns",
        "sample_rate_hz": round(fs, 3),
        "polarity": "negative-down: the M-wave's main phase is negative in the file; amplitude = baseline - trough",
        "params": {k: v for k, v in p.items()},
        "sweeps": sweeps,
    }


def main(args):
    files = []
    for a in args or ["tests/real"]:
        pa = Path(a)
        files += sorted(pa.rglob("*.csv")) if pa.is_dir() else [pa]
    for f in files:
        ref = reference_file(f)
        out = Path(str(f) + ".reference.json")
        out.write_text(json.dumps(ref, indent=1) + "\n")
        amps = [s["amplitude_mv"] for s in ref["sweeps"] if s["amplitude_mv"] is not None and "no_clear_m_wave" not in s["flags"]]
        rng = f"{min(amps):.3f}-{max(amps):.3f} mV" if amps else "none"
        print(f"{out}: {len(ref['sweeps'])} sweeps, clear M-waves {len(amps)}, {rng}")


if __name__ == "__main__":
    main(sys.argv[1:])
