#!/usr/bin/env python3
"""Independent reference measurement of the real M-waves in tests/real/.

Python 3.11 + NumPy only. Written from the textbook definitions (primer §3),
not from rns's code. It reads the corpus CSVs (``time_ms,sweep1,...``, mV,
time 0 = stimulus) and writes ``<file>.reference.json`` next to each.

    python3 scripts/real/reference.py tests/real            # every corpus CSV
    python3 scripts/real/reference.py tests/real/rcf/x.csv  # one file

A corpus CSV is one with a ``<file>.origin.json`` next to it (written by the
converters). Other CSVs (e.g. the original long-layout copies
``monstim/ex2_long_first5.csv``) are skipped, and a stray
``<file>.reference.json`` of such a CSV under a folder given on the command
line is deleted.

Per sweep (all times in ms after the stimulus, all levels in mV):

1. Isoelectric span. It starts after the stimulus artifact: for a sweep whose
   first samples are exactly 0 (blanked, as in the RCF data) 0.5 ms after the
   first non-zero sample, otherwise at the source's fixed ``iso_start``. It
   ends 0.1 ms before the onset (step 5); the first pass ends it at the
   source's ``init_end``, which lies before the earliest M-wave of that
   source. Baseline = median of the span.
2. Noise, estimated once per sweep (it does not change from pass to pass, so
   it cannot feed back into the onset) from the quiet samples: the
   pre-stimulus samples, if the sweep has them, and the fixed span
   ``[iso_start, init_end]``, each taken as its own segment (so a DC step at
   the stimulus is not counted as noise). ``noise_mv`` = the largest of
   (a) 1.4826 x MAD of the samples about their segment's median (slow
   wander), (b) 1.4826 x MAD of the sample-to-sample differences / sqrt(2)
   (broadband noise), (c) a floor of 5 uV (``NOISE_FLOOR_MV``; at 30 kHz the
   oversampled trace gives (b) < 1 uV, and few samples can under-estimate
   (a); the pre-stimulus level wanders by 1-17 uV in these files).
3. The M-wave trough is looked for only in the source's M window (physiology:
   soleus M-wave trough 8-16 ms, mouse M-wave trough 1.0-2.3 ms): the deepest
   *interior* local minimum there (not on the window's first or last sample,
   and its parabola-refined time inside the window) lying more than
   5 x noise below the baseline. Its negative phase is the contiguous run of
   samples below the baseline around it; its ends are the linearly
   interpolated baseline crossings. The amplitude is measured at that
   minimum (the deepest trough of the phase inside the window: a bifid phase
   is measured at its deeper trough, never at the notch; a later wave that
   merges with the phase beyond the window is not taken), refined by a
   parabola through that sample and its two neighbours:
   ``amplitude_mv = baseline - trough`` (positive for a negative-down M-wave).
   If the phase goes on falling below that trough after it (so its deepest
   part lies at or past the window's end) and rises by less than 10 % of the
   amplitude in between, the "trough" is only a shoulder on a later wave:
   ``trough_not_distinct`` (counts as ``no_clear_m_wave``).
4. Initial positive deflection: a run of samples above the baseline that
   ends where the negative phase starts and rises more than
   max(5 x noise, 5 % of the amplitude) above it.
5. Onset = first departure from the baseline: walking back from the peak of
   the deflection that starts the response (the initial positive deflection
   if there is one, else the negative trough), the point where the signal
   enters the band baseline +- 2 x noise, interpolated.
   Steps 1 and 3-5 are iterated, each pass with the isoelectric span ending
   0.1 ms before the previous pass's onset, until the onset moves by no more
   than one sample interval and the trough stays on the same sample
   (at most ``MAX_PASSES`` = 5 passes). Everything reported (baseline, onset,
   initial deflection, trough, phase, area) comes from that final pass. If
   it does not settle, or a later pass loses the trough an earlier one had
   found, the sweep is flagged ``not_converged``.
6. ``area_mv_ms`` = trapezoidal integral of (baseline - signal) over the
   negative phase, positive; ``duration_ms`` = its length. The phase runs from
   the onset (after an initial positive deflection: from the downward baseline
   crossing that follows it) to the first return to the baseline.
7. Late wave (RCF: H-reflex window 28-45 ms; mouse: 2.3-4.5 ms): the depth
   of the deepest sample below the baseline there, reported, never used for
   the M-wave.
8. Baseline sensitivity: the amplitude recomputed with the baseline taken
   from the first half and from the second half of the final isoelectric
   span; ``baseline_sensitivity_pct`` = the larger change, % of the
   amplitude.

Flags: ``no_clear_m_wave`` (no candidate, e.g. ``trough_at_window_edge``: the
window's lowest sample is its first or last one, more than 5 x noise below the
baseline, and there is no interior trough, i.e. the phase is still falling at
the window's edge and its trough lies outside; amplitude < 10 x noise; fewer than
3 samples between the artifact end and 0.1 ms before the onset, i.e. the
deflection cannot be told from the artifact tail; ``baseline_not_isoelectric``;
``dc_step_only``; ``trough_not_distinct``), ``initial_positive_deflection``,
``positive_phase_dominant`` (the initial positive deflection is at least as
large as the negative amplitude: baseline-to-negative-peak does not describe
the response), ``bifid_trough`` (two troughs in the negative phase, the
shallower >= 30 % of the amplitude, with a notch rising >= 10 % of the
amplitude between them), ``late_wave_larger`` (the late wave is deeper than
the M-wave), ``phase_beyond_window`` (the negative phase goes on past
``phase_end_max``, i.e. it merges with a later wave; area and duration are then
null), ``baseline_not_isoelectric`` (the straight line fitted to the
isoelectric span changes by more than 10 % of the amplitude across it: the
"baseline" is an artifact tail), ``dc_step_only`` (the trough is not
10 x noise below the pre-stimulus level: the deflection may be no more than
the return from a DC step at the stimulus), ``not_converged`` (step 5),
``below_0.1_mv`` (amplitude < 0.1 mV).

Score (``score``), the tier a sweep is scored in (tests/real/README.md):

- ``excluded``: no amplitude, ``no_clear_m_wave``, ``not_converged``,
  ``positive_phase_dominant`` or ``below_0.1_mv``: not an M-wave, or its
  amplitude is undefined or too small to score; not scored.
- ``loose``: a clear M-wave whose amplitude depends on a convention:
  ``bifid_trough``, ``phase_beyond_window`` (merged with a later wave), or
  ``baseline_sensitivity_pct`` > 2 (``SENSITIVITY_PCT``). Reported, not gated.
- ``strict``: every other sweep (clear, converged, trough interior to the
  window, >= 0.1 mV, single trough, phase inside the window, baseline-stable).
  Gated by the acceptance test.
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

NOISE_FLOOR_MV = 0.005
MAX_PASSES = 5
CLEAR_SNR = 10.0  # amplitude >= 10 x noise
MIN_SCORED_MV = 0.1
SENSITIVITY_PCT = 2.0
NO_CLEAR = ("baseline_not_isoelectric", "dc_step_only", "trough_not_distinct")


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


def robust_sd(v):
    """1.4826 x median absolute deviation about the median (0 for no samples)."""
    v = np.asarray(v, dtype=float)
    return 1.4826 * float(np.median(np.abs(v - np.median(v)))) if v.size else 0.0


def noise_of(x, segments):
    """Noise of the quiet segments (index arrays): the larger of the level and difference estimates, floored."""
    segs = [s for s in segments if s.size >= 2]
    level = robust_sd(np.concatenate([x[s] - np.median(x[s]) for s in segs])) if segs else 0.0
    diff = robust_sd(np.concatenate([np.diff(x[s]) for s in segs])) / np.sqrt(2) if segs else 0.0
    return max(level, diff, NOISE_FLOOR_MV)


def one_pass(t, x, p, span_end, ctx):
    """One pass of steps 1 and 3-5 with the isoelectric span ending at span_end."""
    dt, iso_start, i_iso, noise = ctx["dt"], ctx["iso_start"], ctx["i_iso"], ctx["noise"]
    span = np.flatnonzero((t >= iso_start - 1e-9) & (t <= span_end + 1e-9))
    short = span.size < 3
    if short:
        span = np.flatnonzero((t >= iso_start - 1e-9) & (t <= iso_start + 2.5 * dt))
    b = float(np.median(x[span]))
    st = {"b": b, "span": span, "short_span": short, "k": None}
    # deepest interior local minimum of the M window, > 5 noise below the baseline,
    # its parabola-refined time inside the window
    w0, w1 = p["m_window"]
    win = np.flatnonzero((t >= w0 - 1e-9) & (t <= w1 + 1e-9))
    best = None
    for i in win[1:-1]:
        if i <= i_iso or i >= len(x) - 1:
            continue
        if not (x[i] <= x[i - 1] and x[i] <= x[i + 1] and x[i] < b - 5 * noise):
            continue
        y0, y1, y2 = x[i - 1], x[i], x[i + 1]
        den = y0 - 2 * y1 + y2
        d = 0.5 * (y0 - y2) / den if den > 0 else 0.0
        t_tr = float(t[i] + d * dt)
        if not (w0 <= t_tr <= w1):
            continue
        if best is None or x[i] < x[best[0]]:
            best = (int(i), float(y1 - 0.25 * (y0 - y2) * d), t_tr)
    if best is None:
        return st
    k, trough, t_trough = best
    amp = b - trough
    lo = k
    while lo > i_iso and x[lo - 1] < b:
        lo -= 1
    hi = k
    while hi < len(x) - 1 and x[hi + 1] < b:
        hi += 1
    # does the phase fall below the trough again after it, and how far does it rise first?
    j = k + 1
    while j <= hi and x[j] >= x[k]:
        j += 1
    rise = float(np.max(x[k:j]) - x[k]) if j <= hi else None
    t_neg0 = crossing(t, x, b, lo - 1, lo) if lo > i_iso else float(t[lo])
    t_neg1 = crossing(t, x, b, hi, hi + 1) if hi < len(x) - 1 else float(t[hi])
    # initial positive deflection: run above the baseline just before the phase
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
    st.update(k=k, lo=lo, hi=hi, trough=trough, t_trough=t_trough, amp=amp, t_neg0=t_neg0, t_neg1=t_neg1,
              hump=hump if has_hump else 0.0, onset=onset, drift=drift, rise_after=rise)
    return st


def measure(t, x, p):
    """Measure one sweep. Returns a dict (see module docstring)."""
    dt = float(np.median(np.diff(t)))
    nz = np.flatnonzero(x != 0.0)
    blanked = t[0] >= -1e-9 and nz.size and nz[0] > 0 and np.all(x[: nz[0]] == 0.0)
    iso_start = float(t[nz[0]] + 0.5) if blanked else p["iso_start"]
    pre = np.flatnonzero(t < -1e-9)
    quiet = np.flatnonzero((t >= iso_start - 1e-9) & (t <= p["init_end"] + 1e-9))
    noise = noise_of(x, [pre, quiet])
    ctx = {"dt": dt, "iso_start": iso_start, "i_iso": int(np.searchsorted(t, iso_start - 1e-9)), "noise": noise}
    prestim = float(np.median(x[pre])) if pre.size else None
    out = {"iso_start_ms": round(iso_start, 4), "flags": []}
    out["prestim_mv"] = round(prestim, 5) if prestim is not None else None

    # steps 1, 3-5 to a fixed point of the onset
    span_end, prev, converged, onsets = p["init_end"], None, False, []
    for npass in range(1, MAX_PASSES + 1):
        r = one_pass(t, x, p, span_end, ctx)
        if r["k"] is None:
            break
        onsets.append(round(r["onset"], 4))
        if prev is not None and abs(r["onset"] - prev["onset"]) <= dt + 1e-9 and r["k"] == prev["k"]:
            converged = True
            break
        prev, span_end = r, r["onset"] - 0.1
    out["passes"] = npass
    span = r["span"]
    out["iso_span_ms"] = [round(float(t[span[0]]), 4), round(float(t[span[-1]]), 4)]
    if r["k"] is None:
        out.update(amplitude_mv=None, baseline_mv=round(r["b"], 5), noise_mv=round(noise, 5))
        win = np.flatnonzero((t >= p["m_window"][0] - 1e-9) & (t <= p["m_window"][1] + 1e-9))
        j = win[int(np.argmin(x[win]))]
        if j in (win[0], win[-1]) and x[j] < r["b"] - 5 * noise:
            out["flags"].append("trough_at_window_edge")
        out["flags"].append("no_clear_m_wave")
        if onsets:  # an earlier pass had a trough that this one lost
            out["flags"].append("not_converged")
            out["onset_passes_ms"] = onsets
        out["score"] = "excluded"
        return out
    if not converged:
        out["onset_passes_ms"] = onsets

    # negative phase for area and duration (primer 3): from the onset (or, after an
    # initial positive deflection, from the downward baseline crossing) to the
    # first return to the baseline
    t0 = r["t_neg0"] if r["hump"] > 0 else max(r["onset"], r["t_neg0"])
    inside = (t > t0) & (t < r["t_neg1"])
    tt = np.concatenate([[t0], t[inside], [r["t_neg1"]]])
    yy = r["b"] - np.concatenate([[np.interp(t0, t, x)], x[inside], [r["b"]]])
    area = float(np.sum((yy[1:] + yy[:-1]) * np.diff(tt)) / 2)
    merged = r["t_neg1"] > p["phase_end_max"]  # phase runs on into a later wave: no area
    # baseline sensitivity: first and second half of the isoelectric span
    h = max(span.size // 2, 1)
    alts = [float(np.median(x[s])) - r["trough"] for s in (span[:h], span[h:]) if s.size]
    sens = max(abs(a - r["amp"]) for a in alts) / r["amp"] * 100 if r["amp"] > 0 else None
    out.update(
        amplitude_mv=round(r["amp"], 5),
        baseline_mv=round(r["b"], 5),
        trough_mv=round(r["trough"], 5),
        trough_latency_ms=round(r["t_trough"], 4),
        onset_latency_ms=round(r["onset"], 4),
        negative_phase_ms=[round(t0, 4), round(r["t_neg1"], 4)],
        duration_ms=None if merged else round(r["t_neg1"] - t0, 4),
        area_mv_ms=None if merged else round(area, 5),
        noise_mv=round(noise, 5),
        baseline_drift_mv=round(r["drift"], 5),
        baseline_sensitivity_pct=None if sens is None else round(sens, 3),
        initial_positive_mv=round(r["hump"], 5),
    )
    flags = out["flags"]
    if r["hump"] > 0:
        flags.append("initial_positive_deflection")
        if r["hump"] >= r["amp"]:
            flags.append("positive_phase_dominant")
    # bifid: two local minima in the phase with a notch between them
    ph = x[r["lo"] : r["hi"] + 1]
    mins = [i for i in range(1, len(ph) - 1) if ph[i] <= ph[i - 1] and ph[i] <= ph[i + 1]]
    deep = [i for i in mins if r["b"] - ph[i] >= 0.3 * r["amp"]]
    for a_i in range(len(deep)):
        for b_i in range(a_i + 1, len(deep)):
            i, j = deep[a_i], deep[b_i]
            notch = np.max(ph[i : j + 1])
            if notch - max(ph[i], ph[j]) >= 0.1 * r["amp"] and "bifid_trough" not in flags:
                flags.append("bifid_trough")
                out["bifid_troughs_ms"] = [round(float(t[r["lo"] + i]), 4), round(float(t[r["lo"] + j]), 4)]
    if merged:
        flags.append("phase_beyond_window")
    if r["rise_after"] is not None and r["rise_after"] < 0.1 * r["amp"]:
        flags.append("trough_not_distinct")
    if r["drift"] > 0.1 * r["amp"]:
        flags.append("baseline_not_isoelectric")
    if prestim is not None and prestim - r["trough"] < CLEAR_SNR * noise:
        flags.append("dc_step_only")
    lw = (t >= p["late_window"][0]) & (t <= p["late_window"][1])
    if lw.any():
        j = np.flatnonzero(lw)[int(np.argmin(x[lw]))]
        late = float(r["b"] - x[j])
        out[p["late_name"] + "_mv"] = round(max(late, 0.0), 5)
        out[p["late_name"] + "_latency_ms"] = round(float(t[j]), 4)
        if late > r["amp"]:
            flags.append("late_wave_larger")
    if not converged:
        flags.append("not_converged")
    if r["amp"] < MIN_SCORED_MV:
        flags.append("below_0.1_mv")
    if r["amp"] < CLEAR_SNR * noise or r["short_span"] or any(f in flags for f in NO_CLEAR):
        flags.append("no_clear_m_wave")
    out["score"] = score(flags, sens)
    return out


def score(flags, sens):
    """Scoring tier of a measured sweep (module docstring)."""
    if any(f in flags for f in ("no_clear_m_wave", "not_converged", "positive_phase_dominant", "below_0.1_mv")):
        return "excluded"
    if "bifid_trough" in flags or "phase_beyond_window" in flags or sens is None or sens > SENSITIVITY_PCT:
        return "loose"
    return "strict"


def source_of(path):
    for part in Path(path).resolve().parts[::-1]:
        if part in SOURCES:
            return part
    raise SystemExit(f"{path}: not under a known source folder ({', '.join(SOURCES)})")


def reference_file(path):
    src = source_of(path)
    p = SOURCES[src]
    t, names, w = read_sweeps(path)
    cols = json.loads(Path(str(path) + ".origin.json").read_text())["columns"]
    sweeps = []
    for n, name in enumerate(names):
        m = {"sweep": n + 1, "column": name}
        m.update({k: v for k, v in cols[n].items() if k != "column"})
        m.update(measure(t, w[:, n], p))
        sweeps.append(m)
    fs = (len(t) - 1) * 1000.0 / float(t[-1] - t[0])
    tiers = {k: sum(s["score"] == k for s in sweeps) for k in ("strict", "loose", "excluded")}
    return {
        "file": Path(path).name,
        "source": src,
        "method": "scripts/real/reference.py (module docstring); independent of rns",
        "sample_rate_hz": round(fs, 3),
        "polarity": "negative-down: the M-wave's main phase is negative in the file; amplitude = baseline - trough",
        "params": dict(p, noise_floor_mv=NOISE_FLOOR_MV, max_passes=MAX_PASSES, clear_snr=CLEAR_SNR,
                       min_scored_mv=MIN_SCORED_MV, sensitivity_pct=SENSITIVITY_PCT),
        "scores": tiers,
        "sweeps": sweeps,
    }


def is_corpus(csv):
    return Path(str(csv) + ".origin.json").is_file()


def main(args):
    files = []
    for a in args or ["tests/real"]:
        pa = Path(a)
        if pa.is_dir():
            for f in sorted(pa.rglob("*.csv")):
                if is_corpus(f):
                    files.append(f)
                    continue
                stray = Path(str(f) + ".reference.json")
                if stray.exists():
                    stray.unlink()
                    print(f"{stray}: removed (not a corpus file: no {f.name}.origin.json)")
        elif is_corpus(pa):
            files.append(pa)
        else:
            raise SystemExit(f"{pa}: not a corpus CSV (no {pa.name}.origin.json next to it)")
    for f in files:
        ref = reference_file(f)
        out = Path(str(f) + ".reference.json")
        out.write_text(json.dumps(ref, indent=1) + "\n")
        amps = [s["amplitude_mv"] for s in ref["sweeps"] if s["score"] != "excluded"]
        rng = f"{min(amps):.3f}-{max(amps):.3f} mV" if amps else "none"
        sc = ref["scores"]
        print(f"{out}: {len(ref['sweeps'])} sweeps, strict {sc['strict']}, loose {sc['loose']}, "
              f"excluded {sc['excluded']}; scored {rng}")


if __name__ == "__main__":
    main(sys.argv[1:])
