#!/usr/bin/env python3
"""Reference RNS measurements in plain NumPy/SciPy, for the speed comparison
in BENCHMARKS.md (run by scripts/compare_python.sh and scripts/bench.sh).

By default it makes the same measurements as ``rns analyze`` on a WAV file
(the method of ``src/analysis``, README "Analysis method"), written the way a
careful analyst would in NumPy/SciPy: vectorised where NumPy makes that
natural, a Python loop over clusters, spectrum frames, hum blocks, stimuli and
trains where that is the natural unit, never one over samples.

- **Input**: ``scipy.io.wavfile``, channel 0, integer samples scaled by
  ``full_scale_mv`` from the ``<file>.rns.toml`` sidecar (float64 here,
  float32 in ``rns``).
- **Stimuli** (artifact slope): robust SD of the first difference (σ_d, from
  ≤ 400 000 evenly spread differences); clusters of |difference| > 10 σ_d
  running to 8 ms after their steepest sample; candidates ≥ 20 σ_d with a
  prominence ≥ 10 over the median |difference| 10–60 ms either side (one
  gathered 2-D ``np.median`` for all candidates away from the ends); slope ≥
  1/5 of the kept 90th percentile; a response's own edge (< 15 ms after a
  stimulus > 2× as steep) and lone candidates amid activity (background
  > 6 σ_d, no similar slope within 1.1 s) dropped; merged within 5 ms; timed
  at the sub-sample onset (25 % of the excursion from the median level 1.5–0.5
  ms before, interpolated).
- **Mains hum**: masked response windows (−2 … +45 ms); spectra
  (``np.fft.rfft``, periodic Hann, masked samples zeroed) of up to 12
  ≥ 2.5 s frames, lower quartile over frames, a line at 50 or 60 Hz ≥ 20 ×
  the 35–75 Hz median floor, parabolic refinement on log power. Model: 0.4 s
  blocks overlapping by half, least squares of 3 harmonics + constant +
  slope on the unmasked samples of each block, decimated by the same stride
  as ``rns`` (normal equations of 32 blocks at a time by batched matrix
  products and ``np.linalg.solve``; each block's design matrix is one
  template rotated by the block's starting phase); blocks with too few
  samples interpolated (``np.interp``); coefficients interpolated linearly
  between block centres and the model subtracted in the response windows;
  level = median over blocks.
- **Polarity**: amplitude-weighted vote over the first 60 responses (phase
  order when both phases are substantial, decaying artifact tail skipped).
- **Responses** (windows −3 ms … 40 ms, ending 0.5 ms before the next
  stimulus): adaptive blanking (end of the steep artifact run + 0.15 ms,
  0.4–2.5 ms, clipping rails count as steep), pre-stimulus 20 %-trimmed mean
  and robust noise SD, peak located on a 1 ms moving average (decaying tail
  skipped) and refined by a least-squares parabola (``np.polyfit``) over
  ±1 ms, onset at max(3 × smoothed noise, 2 % of amplitude) on a 0.3 ms
  moving average, post-artifact pre-onset baseline (pooled with the
  pre-stimulus one when they agree), final parabola over 35 % of the rise
  time (0.5–1.5 ms), negative-phase end, fractional trapezoid area,
  peak-to-peak to the parabola-refined opposite extremum, latency from the
  sub-sample stimulus time.
- **Trains**: by interval (≤ 1.1 s, ±25 % of the train's first); rate =
  1 / median interval; ≥ 10 Hz is high-rate. **Exercise**: slope RMS (1 ms
  lag) per 50 ms block, active above 4 × the 25th percentile and 4 σ_d,
  outside response windows, runs merged across < 0.5 s, ≥ 2 s, searched in
  the gaps before each train; roles baseline / post-exercise from it (else
  from order and gaps, ≥ 8 s pause), delays after exercise.
- **Metrics**: per low-rate train the 4th- and 5th-response decrement, the
  largest (lowest of 2–5) and the area decrements; per high-rate train the
  largest and last increment (amplitude and area); the post-exercise
  increment (first post-exercise vs reference baseline response).

Skipped, as cheap or not needed on the benchmark's WAV files: quality flags
(including clipped responses), shape and late/early ratio, session repair /
exhaustion, classification; trigger channels, sweeps, annotations, EDF/CSV
inputs and discontinuous segments; roles or exercise given by a protocol
sidecar.

``--subset`` runs the earlier, simpler reference instead (as in the first
benchmarks): ``find_peaks`` on |difference| (20 × robust SD and 30 % of the
steepest, 5 ms apart), median pre-stimulus baseline, fixed 1.5 ms blanking,
raw negative peak, 2 % onset, trapezoid area, 4th-response decrement and
high-rate increment; no hum model, polarity vote or adaptive blanking.

Usage::

    reference_numpy.py FILE_OR_DIR... [--json OUT] [--subset]   # measure, write JSON
    reference_numpy.py --agree RNS_JSON FILE... [--subset]      # compare with rns analyze --format json
"""

import argparse
import json
import math
import os
import sys
import tomllib
from types import SimpleNamespace

import numpy as np
from scipy.io import wavfile


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


# --------------------------------------------------------------------------
# The subset reference (--subset): the first, simpler benchmark partner.
# --------------------------------------------------------------------------


def subset_detect_stimuli(x, fs):
    """Artifact onsets (sample indices)."""
    from scipy.signal import find_peaks  # only this mode needs it (the import costs ~0.7 s)

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


def subset_measure(x, fs, s, nxt):
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


def subset_group_trains(times):
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


def analyse_subset(path):
    fs, x = read_wav(path)
    stims = subset_detect_stimuli(x, fs)
    times = stims / fs
    trains = []
    for a, b in subset_group_trains(times):
        resp = []
        for k in range(a, b):
            nxt = int(stims[k + 1]) if k + 1 < len(stims) else None
            m = subset_measure(x, fs, int(stims[k]), nxt)
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


# --------------------------------------------------------------------------
# The full reference: the method of rns analyze.
# --------------------------------------------------------------------------


def nsamp(fs, ms):
    """Whole samples in ``ms`` milliseconds, rounded half away from zero as ``rns`` does."""
    return max(0, int(math.floor(ms * fs / 1000.0 + 0.5)))


def settings(fs):
    """Every duration the method uses, in samples at ``fs``."""
    n = lambda ms: nsamp(fs, ms)  # noqa: E731
    return SimpleNamespace(
        fs=fs,
        dt_ms=1000.0 / fs,
        cluster=max(n(8.0), 2),
        near=n(10.0),
        far=n(60.0),
        own_edge=n(15.0),
        train_isi=n(1100.0),
        spacing=max(n(5.0), 1),
        onset_pre_a=n(1.5),
        onset_pre_b=max(n(0.5), 1),
        mask_before=n(2.0),
        mask_after=n(45.0),
        pre=n(3.0),
        max_window=n(40.0),
        guard=n(0.5),
        probe=max(n(0.6), 2),
        pause=max(n(0.3), 2),
        max_blank=n(2.5),
        min_blank=max(n(0.4), 1),
        settle=n(0.15),
        pre_len=max(n(3.0), 3),
        pre_gap=n(0.1),
        smooth=max(n(0.3), 1),
        smooth_peak=max(n(1.0), 3),
        fit_first=max(n(1.0), 3),
        onset_gap=n(0.2),
        min_span=max(n(0.25), 3),
        post_span=n(1.5),
        min_len=n(20.0),
        before_train=n(10.0),
    )


def moving_average(y, w):
    """Centred moving average of odd width (``w`` made odd); edges use the samples there are."""
    w = w + 1 if w % 2 == 0 else max(w, 1)
    h = w // 2
    n = len(y)
    c = np.concatenate(([0.0], np.cumsum(y)))
    i = np.arange(n)
    a, b = np.maximum(i - h, 0), np.minimum(i + h + 1, n)
    return (c[b] - c[a]) / (b - a)


def trimmed_mean(v):
    """Mean of the central 60 % (20 % trimmed from each end)."""
    s = np.sort(v)
    cut = len(s) // 5
    return float(s[cut : len(s) - cut].mean())


def robust_sd(v):
    return 1.4826 * float(np.median(np.abs(v - np.median(v)))) if len(v) >= 2 else 0.0


def refine_extremum(y, idx, h, maximum):
    """Least-squares parabola over ``idx ± h``: (position, value) of its vertex,
    or the sample itself when the fit is not curved the right way or the
    vertex leaves the span."""
    n = len(y)
    idx = min(idx, n - 1)
    a, b = max(idx - h, 0), min(idx + h, n - 1)
    if b - a < 2:
        return float(idx), float(y[idx])
    c2, c1, c0 = np.polyfit(np.arange(a - idx, b - idx + 1, dtype=np.float64), y[a : b + 1], 2)
    if not (c2 < 0.0 if maximum else c2 > 0.0):
        return float(idx), float(y[idx])
    u = -c1 / (2.0 * c2)
    if not (np.isfinite(u) and a - idx <= u <= b - idx):
        return float(idx), float(y[idx])
    return idx + u, c0 + c1 * u + c2 * u * u


def integrate(y, base, lo, hi):
    """Trapezoidal integral of (y − base) between fractional indices, in samples."""
    if hi <= lo:
        return 0.0
    n = len(y)

    def at(p):
        i = min(int(math.floor(p)), n - 1)
        j = min(i + 1, n - 1)
        f = p - i
        return y[i] * (1.0 - f) + y[j] * f - base

    first, last = math.ceil(lo), math.floor(hi)
    if first > last:
        return (at(lo) + at(hi)) / 2.0 * (hi - lo)
    return (
        (at(lo) + at(first)) / 2.0 * (first - lo)
        + float(np.trapezoid(y[first : last + 1] - base))
        + (at(last) + at(hi)) / 2.0 * (hi - last)
    )


def noise_slope_sd(x, max_points=400_000):
    """Robust SD of the first difference from ≤ ``max_points`` evenly spread differences."""
    stride = max(1, (len(x) - 1) // max_points)
    return float(np.median(np.abs(x[1::stride] - x[:-1:stride]))) / 0.67449


def detect_stimuli(x, P, sd, peak_abs):
    """Stimulus onsets from the artifacts' steep slopes: (samples, fractions)."""
    sd = max(sd, peak_abs * 1e-7, 1e-12)
    ad = np.abs(np.diff(x))
    m = len(ad)
    # Clusters: each excursion above 10 σ_d runs to 8 ms after its steepest sample.
    above = np.flatnonzero(ad > 10.0 * sd)
    cands = []
    k = 0
    while k < len(above):
        peak = int(above[k])
        j = peak + 1
        while True:
            end = min(peak + P.cluster, m)
            if j >= end:
                break
            at = j + int(np.argmax(ad[j:end]))
            if ad[at] > ad[peak]:
                peak, j = at, at + 1
            else:
                j = end
                break
        cands.append(peak)
        k = int(np.searchsorted(above, j))
    cands = np.asarray(cands, dtype=np.int64)
    slopes = ad[cands]
    if len(cands) > 200_000:
        top = np.sort(np.argsort(-slopes, kind="stable")[:200_000])
        cands, slopes = cands[top], slopes[top]
    keep = slopes >= 20.0 * sd
    cands, slopes = cands[keep], slopes[keep]
    if len(cands) == 0:
        return np.zeros(0, np.int64), np.zeros(0)
    # Prominence over the median |difference| 10–60 ms either side (~200 points a side).
    bg = np.empty(len(cands))
    stride = max((P.far - P.near) // 200, 1)
    offsets = np.concatenate((np.arange(-P.far, -P.near, stride), np.arange(P.near, P.far, stride)))
    inner = (cands >= P.far) & (cands + P.far <= m)
    bg[inner] = np.median(ad[cands[inner, None] + offsets], axis=1)
    for i in np.flatnonzero(~inner):
        c = int(cands[i])
        pts = []
        for a, b in ((max(c - P.far, 0), max(c - P.near, 0)), (min(c + P.near, m), min(c + P.far, m))):
            if b > a:
                pts.append(ad[a:b:max((b - a) // 200, 1)])
        bg[i] = np.median(np.concatenate(pts)) if pts else 0.0
    prominent = slopes >= 10.0 * bg
    cands, slopes, bg = cands[prominent], slopes[prominent], bg[prominent]
    if len(cands) == 0:
        return np.zeros(0, np.int64), np.zeros(0)
    s = np.sort(slopes)
    thr = s[int(math.floor((len(s) - 1) * 0.9 + 0.5))] / 5.0
    sel = slopes >= thr
    cands, slopes, bg = cands[sel], slopes[sel], bg[sel]
    # A response's own edge: soon after a much steeper stimulus.
    kept = []
    for i in range(len(cands)):
        c, v = cands[i], slopes[i]
        own = False
        for p in reversed(kept):
            if c - cands[p] >= P.own_edge:
                break
            if slopes[p] > 2.0 * v:
                own = True
                break
        if not own:
            kept.append(i)
    cands, slopes, bg = cands[kept], slopes[kept], bg[kept]
    # Amid activity, a candidate needs a similar artifact within a train's interval.
    ok = bg <= 6.0 * sd
    for i in np.flatnonzero(~ok):
        lo = np.searchsorted(cands, cands[i] - P.train_isi, "left")
        hi = np.searchsorted(cands, cands[i] + P.train_isi, "right")
        o = np.r_[lo:i, i + 1 : hi]
        ok[i] = bool(np.any((slopes[o] <= 3.0 * slopes[i]) & (slopes[i] <= 3.0 * slopes[o])))
    cands, slopes = cands[ok], slopes[ok]
    # Merge closer than 5 ms, keeping the steeper.
    merged = []
    for c, v in zip(cands.tolist(), slopes.tolist()):
        if merged and c < merged[-1][0] + P.spacing:
            if v > merged[-1][1]:
                merged[-1] = (c, v)
        else:
            merged.append((c, v))
    # Onset: 25 % of the excursion from the pre-artifact level, interpolated.
    n = len(x)
    onsets = np.empty(len(merged))
    for k, (p, _) in enumerate(merged):
        pre_a, pre_b = max(p - P.onset_pre_a, 0), max(p - P.onset_pre_b, 0)
        level = np.median(x[pre_a:pre_b]) if pre_b > pre_a else x[pre_b]
        dev = np.abs(x[pre_b : min(p + 2, n)] - level)
        ext = dev.max(initial=0.0)
        t = float(p)
        if ext > 0.0:
            hit = np.flatnonzero(dev >= 0.25 * ext)
            if len(hit):
                j = int(hit[0])
                if j == 0:
                    t = float(pre_b)
                else:
                    dj, dp = dev[j], dev[j - 1]
                    f = (0.25 * ext - dp) / (dj - dp) if dj > dp else 1.0
                    t = pre_b + j - 1 + min(max(f, 0.0), 1.0)
        onsets[k] = t
    samples = np.floor(onsets).astype(np.int64)
    return samples, onsets - samples


def detect_mains(x, fs, masked):
    """Mains frequency (Hz) from the lower quartile of up to 12 masked spectra, or None."""
    nfft = 1
    while nfft < fs * 2.5:
        nfft *= 2
    total = len(x) // nfft
    if total == 0:
        return None
    step = max(total // 12, 1)
    frames = x[: total * nfft].reshape(total, nfft)[::step]
    fmask = masked[: total * nfft].reshape(total, nfft)[::step]
    use = np.flatnonzero(fmask.sum(axis=1) < nfft // 2)[:12]
    if len(use) == 0:
        return None
    frames, fmask = frames[use], fmask[use]
    quiet = ~fmask
    mean = (frames * quiet).sum(axis=1) / np.maximum(quiet.sum(axis=1), 1)
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(nfft) / nfft)
    bin_hz = fs / nfft
    b = lambda f: int(math.floor(f / bin_hz + 0.5))  # noqa: E731
    band_lo, band_hi = b(30.0), min(b(80.0), nfft // 2)
    spec = np.fft.rfft(np.where(fmask, 0.0, (frames - mean[:, None]) * window), axis=1)
    band = np.abs(spec[:, band_lo : band_hi + 1]) ** 2
    power = np.zeros(band_hi + 2)
    power[band_lo : band_hi + 1] = np.sort(band, axis=0)[(len(band) - 1) // 4]
    idx = np.arange(b(35.0), min(b(75.0), len(power) - 1) + 1)
    f = idx * bin_hz
    floor = np.median(power[idx[(np.abs(f - 50.0) > 2.0) & (np.abs(f - 60.0) > 2.0)]])
    best = None
    for line in (50.0, 60.0):
        lo, hi = b(line - 0.8), min(b(line + 0.8), len(power) - 2)
        if hi < lo:
            continue
        pk = lo + int(np.argmax(power[lo : hi + 1]))
        ratio = power[pk] / max(floor, 1e-300)
        if ratio >= 20.0 and (best is None or ratio > best[1]):
            l, c, r = np.log(np.maximum(power[pk - 1 : pk + 2], 1e-300))
            den = l - 2.0 * c + r
            off = 0.5 * (l - r) / den if abs(den) > 1e-12 else 0.0
            best = ((pk + min(max(off, -0.5), 0.5)) * bin_hz, ratio)
    return None if best is None else best[0]


def fit_hum(x, fs, masked, chunk=32):
    """Block-wise least-squares hum model, or None when there is no hum.

    Every block's design matrix (cos/sin of 3 harmonics, constant, slope) on
    its decimated points is the same template rotated by the block's starting
    phase, so the blocks are fitted together, ``chunk`` at a time: normal
    equations by batched matrix products (masked points zeroed) and
    ``np.linalg.solve``."""
    f0 = detect_mains(x, fs, masked)
    if f0 is None:
        return None
    n = len(x)
    block = max(int(0.4 * fs), 16)
    hop = block // 2
    if n < block:
        return None
    stride = max(int(fs / (16.0 * f0 * 3)), 1)
    nb = -(-(n - block) // hop) + 1
    starts = np.arange(nb) * hop
    ends = np.minimum(starts + block, n)
    centres = starts + (ends - starts) // 2
    harm = np.arange(1, 4)[:, None]
    k = np.arange(0, block, stride)
    rot = harm * (2.0 * np.pi * np.mod(f0 * k / fs, 1.0))  # (3, points): phase advance
    rot_c, rot_s = np.cos(rot), np.sin(rot)
    coeffs = np.full((nb, 6), np.nan)
    for c in range(0, nb, chunk):
        a, e = starts[c : c + chunk], ends[c : c + chunk]
        idx = a[:, None] + k
        inside = idx < e[:, None]
        idx = np.minimum(idx, n - 1)
        w = inside & ~masked[idx]
        used = w.sum(axis=1)
        ok = (used >= 64) & (used * stride / fs >= np.maximum((e - a) / fs * 0.3, 3.0 / f0))
        if not ok.any():
            continue
        a, e, idx, w = a[ok], e[ok], idx[ok], w[ok]
        ph0 = 2.0 * np.pi * np.mod(f0 * a / fs, 1.0)[:, None, None] * harm
        c0, s0 = np.cos(ph0), np.sin(ph0)
        design = np.empty((len(a), 8, len(k)))  # one row per unknown, one column per point
        design[:, 0:3] = c0 * rot_c - s0 * rot_s  # cos h(φ0 + kδ)
        design[:, 3:6] = s0 * rot_c + c0 * rot_s  # sin h(φ0 + kδ)
        design[:, 6] = 1.0
        design[:, 7] = (idx - (a + e)[:, None] / 2.0) / np.maximum((e - a) / 2.0, 1.0)[:, None]
        design *= w[:, None, :]  # masked points (and those past the end) drop out
        ata = design @ design.transpose(0, 2, 1)
        atb = design @ x[idx][..., None]
        coeffs[c + np.flatnonzero(ok)] = np.linalg.solve(ata, atb)[:, :6, 0]
    good = np.flatnonzero(~np.isnan(coeffs[:, 0]))
    if len(good) == 0:
        return None
    if len(good) < nb:
        every = np.arange(nb)
        coeffs = np.column_stack([np.interp(every, good, coeffs[good, j]) for j in range(6)])
    level = math.sqrt(float(np.median((coeffs**2).sum(axis=1) / 2.0)))
    return SimpleNamespace(freq_hz=f0, rms_mv=level, fs=fs, centres=centres, coeffs=coeffs)


def hum_at(hum, idx):
    """The hum model at sample indices ``idx``."""
    c = np.column_stack([np.interp(idx, hum.centres, hum.coeffs[:, j]) for j in range(6)])
    ph = np.outer(2.0 * np.pi * np.mod(hum.freq_hz * idx / hum.fs, 1.0), np.arange(1, 4))
    return np.einsum("ij,ij->i", c, np.hstack((np.cos(ph), np.sin(ph))))


def find_rails(x, lo, hi):
    """(lo, hi) when the signal sits on an extreme for ≥ 3 consecutive samples."""
    if not hi > lo:
        return None
    for v in (lo, hi):
        e = x == v
        if np.any(e[:-2] & e[1:-1] & e[2:]):
            return (float(lo), float(hi))
    return None


def artifact_end(y, stim, P, rails, steep_floor):
    """Index where measurement starts after the artifact (orientation-free), or None."""
    n = len(y)
    if stim + 4 >= n:
        return None
    probe_end = min(stim + P.probe, n - 1)
    max_blank = min(stim + P.max_blank, n - 2)
    seg = y[stim : max(max_blank, probe_end) + 1]
    d = np.abs(np.diff(seg))
    steep = max(0.3 * d[: probe_end - stim].max(initial=0.0), steep_floor)
    span = max(max_blank - stim, 0)
    flag = d[:span] >= steep
    if rails is not None:
        r = (seg <= rails[0]) | (seg >= rails[1])
        flag |= r[:span] | r[1 : span + 1]
    # The steep run ends at the first pause of 0.3 ms (probed for at least 0.6 ms).
    f = stim + np.flatnonzero(flag)
    prev = np.concatenate(([stim], f[:-1] + 1))
    reach = f < np.maximum(prev + P.pause, probe_end)
    if not reach.all():
        f = f[: int(np.argmin(reach))]
    last_steep = int(f[-1]) + 1 if len(f) else stim
    blank_end = min(max(last_steep + P.settle, stim + P.min_blank), max_blank)
    return None if blank_end + 3 >= n else blank_end


def find_peak(ys):
    """Index of the main peak, skipping a decaying tail at the start."""
    p = int(np.argmax(ys))
    if p > 1:
        return p
    rising = np.flatnonzero(np.diff(ys) > 0.0)
    if len(rising) == 0:
        return p
    k = int(rising[0])
    return k + int(np.argmax(ys[k:]))


def measure(y, stim, blank_end, pre_base, n_pre, noise_sd, pre_quiet, P):
    """One oriented window (main phase up): the response's figures."""
    n = len(y)
    ys = moving_average(y, P.smooth)
    smooth_noise = noise_sd / math.sqrt(P.smooth)
    peak_idx = blank_end + find_peak(moving_average(y[blank_end:], P.smooth_peak))

    def onset_for(base, peak_val):
        delta = max(3.0 * smooth_noise, 0.02 * abs(peak_val - base))
        below = np.flatnonzero(ys[blank_end:peak_idx] - base <= delta)
        if len(below) == 0:
            return float(blank_end), True
        k = blank_end + int(below[-1])
        a, b = ys[k] - base - delta, ys[k + 1] - base - delta
        return k + (min(max(-a / (b - a), 0.0), 1.0) if b > a else 0.0), False

    _, peak_val = refine_extremum(y, peak_idx, P.fit_first, True)
    onset, at_blank = onset_for(pre_base, peak_val)
    # Post-artifact, pre-onset baseline (pooled with the pre-stimulus one when they agree).
    gap_end = math.floor(onset - P.onset_gap)
    baseline, post = pre_base, False
    if not at_blank and gap_end > blank_end + P.min_span:
        span = y[max(blank_end, gap_end - P.post_span) : gap_end]
        level = trimmed_mean(span)
        tol = 3.0 * noise_sd * math.sqrt(1.0 / len(span) + 1.0 / max(n_pre, 1)) * 1.25
        if pre_quiet and n_pre and abs(level - pre_base) <= tol:
            baseline = (pre_base * n_pre + level * len(span)) / (n_pre + len(span))
        else:
            baseline = level
        post = True
    rise = max(peak_idx - onset, 0.0) * P.dt_ms
    h = max(nsamp(P.fs, min(max(0.35 * rise, 0.5), 1.5)), 2)
    peak_pos, peak_val = refine_extremum(y, peak_idx, h, True)
    if post:
        onset, at_blank = onset_for(baseline, peak_val)
    amplitude = peak_val - baseline
    # End of the negative phase: first return to the baseline after the peak.
    back = np.flatnonzero(ys[peak_idx + 1 :] <= baseline)
    returned = len(back) > 0
    if returned:
        k = peak_idx + int(back[0])
        a, b = ys[k] - baseline, ys[k + 1] - baseline
        phase_end = k + (min(max(a / (a - b), 0.0), 1.0) if a > b else 0.0)
    else:
        phase_end = float(n - 1)
    area = integrate(y, baseline, onset, phase_end) * P.dt_ms
    after = min(math.ceil(phase_end), n - 1)
    if returned and after + 1 < n:
        trough = after + int(np.argmin(ys[after:]))
        p2p = peak_val - min(refine_extremum(y, trough, h, False)[1], baseline)
    else:
        p2p = amplitude
    return {
        "onset": onset - stim,
        "peak": peak_pos - stim,
        "phase_end": phase_end - stim,
        "amplitude_mv": amplitude,
        "peak_to_peak_mv": p2p,
        "area_mv_ms": area,
        "baseline": baseline,
    }


def vote_polarity(prep, P):
    """+1 when the main phase is electrically positive (inverted file), else −1."""
    vote = 0.0
    for buf, stim, blank_end, pre_base, *_ in prep[:60]:
        if blank_end is None or blank_end + 2 >= len(buf):
            continue
        ys = moving_average(buf[blank_end:], P.smooth)
        if len(ys) > 2:
            # Skip a decaying artifact tail moving steadily towards the baseline.
            sgn = np.copysign(1.0, np.diff(ys))
            if np.copysign(1.0, pre_base - ys[0]) == sgn[0]:
                turn = np.flatnonzero(sgn != sgn[0])
                ys = ys[int(turn[0]) if len(turn) else len(ys) - 1 :]
        ip, i_n = int(np.argmax(ys)), int(np.argmin(ys))
        p, nmag = ys[ip] - pre_base, pre_base - ys[i_n]
        neg_main = i_n < ip if (nmag >= 0.4 * p and p >= 0.4 * nmag) else nmag > p
        vote += -max(nmag, 0.0) if neg_main else max(p, 0.0)
    return 1.0 if vote > 0.0 else -1.0


def group_by_interval(times):
    """Index ranges of trains: intervals ≤ 1.1 s, within ±25 % of the train's first."""
    groups, start, isi = [], 0, None
    for i, gap in enumerate(np.diff(times).tolist(), start=1):
        if gap <= 1.1 and (isi is None or abs(gap - isi) <= 0.25 * isi):
            isi = gap if isi is None else isi
        else:
            groups.append(range(start, i))
            start, isi = i, None
    groups.append(range(start, len(times)))
    return groups


def activity(x, P, windows):
    """Slope RMS (1 ms lag) of 50 ms blocks, the active threshold's inputs, and
    which blocks overlap a response window."""
    block = max(nsamp(P.fs, 50.0), 8)
    lag = min(max(nsamp(P.fs, 1.0), 1), block // 2)
    nfull = len(x) // block
    blocks = x[: nfull * block].reshape(nfull, block)
    d = blocks[:, lag:] - blocks[:, :-lag]
    rms = np.sqrt(np.einsum("ij,ij->i", d, d) / (block - lag))
    tail = x[nfull * block :]
    if len(tail):
        t = tail[lag:] - tail[:-lag] if len(tail) > lag else np.zeros(0)
        rms = np.append(rms, math.sqrt(float(t @ t) / (len(tail) - lag)) if len(t) else 0.0)
    quiet = float(np.partition(rms, len(rms) // 4)[len(rms) // 4])
    edges = np.zeros(len(rms) + 1, np.int64)
    np.add.at(edges, windows[:, 0] // block, 1)
    np.add.at(edges, (windows[:, 1] - 1) // block + 1, -1)
    covered = np.cumsum(edges[:-1]) > 0
    return SimpleNamespace(block=block, rms=rms, quiet=quiet, covered=covered)


def longest_activity(act, lo, hi, noise_sd, P):
    """The longest active run (≥ 2 s) of whole blocks in samples [lo, hi), or None."""
    thr = max(4.0 * act.quiet, 4.0 * noise_sd)
    if not thr > 0.0:
        return None
    b0, b1 = -(-lo // act.block), min(hi // act.block, len(act.rms))
    if b1 <= b0:
        return None
    on = b0 + np.flatnonzero((act.rms[b0:b1] > thr) & ~act.covered[b0:b1])
    if len(on) == 0:
        return None
    starts, ends = on * act.block, (on + 1) * act.block
    new = np.concatenate(([True], starts[1:] > ends[:-1] + nsamp(P.fs, 500.0)))
    first = np.flatnonzero(new)
    last = np.append(first[1:], len(on)) - 1
    lengths = ends[last] - starts[first]
    best = int(np.argmax(lengths))
    if lengths[best] < nsamp(P.fs, 2000.0):
        return None
    return int(starts[first[best]]), int(ends[last[best]])


def pct_change(ref, v):
    return (v - ref) / ref * 100.0 if ref > 0.0 and np.isfinite(ref) and np.isfinite(v) else None


def train_metrics(amps, areas, hfs):
    """Decrements of a low-rate train or increments of a high-rate one."""
    out = {}
    neg = lambda c: None if c is None else -c  # noqa: E731
    if not hfs:
        for name, v in (("", amps), ("area_", areas)):
            out[f"{name}decrement_pct"] = neg(pct_change(v[0], v[3])) if len(v) >= 4 else None
            out[f"{name}decrement_5th_pct"] = neg(pct_change(v[0], v[4])) if len(v) >= 5 else None
        out["max_decrement_pct"] = neg(pct_change(amps[0], min(amps[1:5]))) if len(amps) >= 2 else None
    else:
        for name, v in (("", amps), ("area_", areas)):
            out[f"{name}increment_pct"] = pct_change(v[0], max(v[1:])) if len(v) >= 2 else None
            out[f"last_{name}increment_pct"] = pct_change(v[0], v[-1]) if len(v) >= 2 else None
    return out


def analyse_full(path):
    fs, x = read_wav(path)
    P = settings(fs)
    n = len(x)
    if n < P.min_len:
        return {"path": path, "error": "the recording is shorter than 20 ms"}
    sd = noise_slope_sd(x)
    lo, hi = float(x.min()), float(x.max())
    stims, fracs = detect_stimuli(x, P, sd, max(abs(lo), abs(hi)))
    if len(stims) == 0:
        return {"path": path, "error": "no stimulus artifact found"}

    # Mains hum, fitted outside the response windows.
    edges = np.zeros(n + 1, np.int64)
    np.add.at(edges, np.maximum(stims - P.mask_before, 0), 1)
    np.add.at(edges, np.minimum(stims + P.mask_after, n), -1)
    hum = fit_hum(x, fs, np.cumsum(edges[:-1]) > 0)
    rails = find_rails(x, lo, hi)

    # Windows, hum removed (not yet oriented), and what does not depend on orientation.
    a = np.maximum(stims - (P.pre + 2), 0)
    b = np.minimum(stims + P.max_window, n)
    b[:-1] = np.minimum(b[:-1], np.maximum(stims[1:] - P.guard, 0))
    b = np.maximum(b, stims + 1)
    idx = np.concatenate([np.arange(p, q) for p, q in zip(a.tolist(), b.tolist())])
    y_all = x[idx] - hum_at(hum, idx) if hum is not None else x[idx]
    bufs = np.split(y_all, np.cumsum(b - a)[:-1])
    steep_floor = 20.0 * max(sd, 1e-12)
    quiet_gap = P.max_window + P.pre
    prep = []
    for k, buf in enumerate(bufs):
        stim = int(stims[k] - a[k])
        be = artifact_end(buf, stim, P, rails, steep_floor)
        pre = buf[max(stim - P.pre_len, 0) : max(stim - P.pre_gap, 0)]
        if len(pre) < 3:
            pre = pre[:0]
        pre_base = trimmed_mean(pre) if len(pre) else (buf[be] if be is not None else 0.0)
        pre_quiet = k == 0 or stims[k] - stims[k - 1] >= quiet_gap
        prep.append((buf, stim, be, pre_base, len(pre), robust_sd(pre) if len(pre) >= 5 else 0.0, pre_quiet))
    sign = vote_polarity(prep, P)

    measured = []
    for k, (buf, stim, be, pre_base, n_pre, noise, pre_quiet) in enumerate(prep):
        if be is None:
            measured.append(None)
            continue
        m = measure(sign * buf, stim, be, sign * pre_base, n_pre, noise, pre_quiet, P)
        f = fracs[k]
        m["latency_ms"] = (m["onset"] - f) * P.dt_ms
        m["duration_ms"] = (m["phase_end"] - m["onset"]) * P.dt_ms
        m["peak_latency_ms"] = (m["peak"] - f) * P.dt_ms
        measured.append(m)

    # Trains, their rates and roles.
    times = (stims + fracs) / fs
    groups = group_by_interval(times)
    trains = []
    for g in groups:
        rate = 1.0 / float(np.median(np.diff(times[g.start : g.stop]))) if len(g) > 1 else None
        trains.append({
            "role": "hfs" if rate is not None and rate >= 10.0 else "baseline",
            "source": "rate" if rate is not None and rate >= 10.0 else "order_and_gaps",
            "rate_hz": rate,
            "start_s": float(times[g.start]),
            "delay_after_exercise_s": None,
            "range": g,
        })
    windows = np.column_stack((a, b))
    act = activity(x, P, windows)
    found, prev_end = [], 0
    for t in trains:
        first = int(stims[t["range"].start])
        to = max(first - P.before_train, 0)
        if to > prev_end:
            run = longest_activity(act, prev_end, to, sd, P)
            if run is not None:
                found.append(run)
        prev_end = int(b[t["range"].stop - 1])
    exercise = None
    if found:
        exercise = (found[-1][0] / fs, found[-1][1] / fs)
        for t in trains:
            before = [e for _, e in found if e <= stims[t["range"].start]]
            if before:
                t["delay_after_exercise_s"] = t["start_s"] - max(before) / fs
            if t["role"] != "hfs":
                t["role"] = "post_exercise" if before else "baseline"
                t["source"] = "voluntary_activity"
    else:
        seen_baseline, last_end = False, None
        for t in trains:
            if t["source"] == "order_and_gaps":
                gap = t["start_s"] - last_end if last_end is not None else 0.0
                t["role"] = "post_exercise" if seen_baseline and gap >= 8.0 else "baseline"
            seen_baseline |= t["role"] == "baseline"
            last_end = float(times[t["range"].stop - 1])

    out_trains = []
    for t in trains:
        g = t.pop("range")
        resp = []
        for k in g:
            m = measured[k]
            if m is None:
                continue
            resp.append({
                "stimulus_s": float(times[k]),
                "latency_ms": m["latency_ms"],
                "amplitude_mv": m["amplitude_mv"],
                "peak_to_peak_mv": m["peak_to_peak_mv"],
                "area_mv_ms": m["area_mv_ms"],
                "duration_ms": m["duration_ms"],
                "peak_latency_ms": m["peak_latency_ms"],
                "baseline_mv": sign * m["baseline"],
            })
        amps = [r["amplitude_mv"] for r in resp]
        areas = [r["area_mv_ms"] for r in resp]
        if resp:
            t.update(train_metrics(amps, areas, t["role"] == "hfs"))
        t["role_source"] = t.pop("source")
        t["responses"] = resp
        out_trains.append(t)

    # Post-exercise increment: first post-exercise response vs the reference baseline's first.
    first_post = next((i for i, t in enumerate(out_trains) if t["role"] == "post_exercise"), len(out_trains))
    base_i = next((i for i in range(first_post - 1, -1, -1)
                   if out_trains[i]["role"] == "baseline" and out_trains[i]["responses"]), None)
    if base_i is None:
        base_i = next((i for i, t in enumerate(out_trains) if t["role"] == "baseline" and t["responses"]), None)
    post = next((t for t in out_trains if t["role"] == "post_exercise" and t["responses"]), None)
    pei = peai = None
    if base_i is not None and post is not None:
        r0, p0 = out_trains[base_i]["responses"][0], post["responses"][0]
        pei = pct_change(r0["amplitude_mv"], p0["amplitude_mv"])
        peai = pct_change(r0["area_mv_ms"], p0["area_mv_ms"])
    return {
        "path": path,
        "sample_rate_hz": fs,
        "stimuli": len(stims),
        "polarity": "negative" if sign < 0 else "positive",
        "mains_hz": hum.freq_hz if hum is not None else None,
        "mains_rms_uv": hum.rms_mv * 1000.0 if hum is not None else None,
        "exercise_start_s": exercise[0] if exercise else None,
        "exercise_end_s": exercise[1] if exercise else None,
        "post_exercise_increment_pct": pei,
        "post_exercise_area_increment_pct": peai,
        "trains": out_trains,
    }


# --------------------------------------------------------------------------
# Driver and agreement check.
# --------------------------------------------------------------------------


def inputs(args):
    for a in args:
        if os.path.isdir(a):
            for root, _, files in os.walk(a):
                for f in sorted(files):
                    if f.lower().endswith(".wav"):
                        yield os.path.join(root, f)
        else:
            yield a


RESPONSE_FIELDS = ("amplitude_mv", "peak_to_peak_mv", "area_mv_ms", "latency_ms")
TRAIN_FIELDS = ("decrement_pct", "max_decrement_pct", "area_decrement_pct", "increment_pct",
                "area_increment_pct")


def agree(rns_json, files, analyse):
    """Compare the reference with rns analyze --format json, matched by stimulus time.

    Per response: relative differences (%) of amplitude, peak-to-peak, area and
    latency; per train: differences of the decrements and increments in
    percentage points; per file: mains frequency (Hz) and hum level (%).
    Returns the largest relative amplitude difference."""
    with open(rns_json) as f:
        rns = json.load(f)
    rns = rns if isinstance(rns, list) else [rns]
    by_path = {os.path.abspath(r["source"]["path"]): r for r in rns if "source" in r}
    rel = {k: [] for k in RESPONSE_FIELDS}
    pts = {k: [] for k in TRAIN_FIELDS + ("post_exercise_increment_pct",)}
    other = {"mains Hz": [], "hum level %": [], "exercise s": []}
    matched = total = polarity_miss = role_miss = 0
    print(f"{'file':40} {'resp':>7} {'med|Δamp|%':>10} {'max|Δamp|%':>10} {'max|Δarea|%':>11} "
          f"{'max|Δdec|pt':>11} {'Δmains Hz':>9} {'Δhum %':>7}")
    for path in files:
        r = by_path.get(os.path.abspath(path))
        if r is None:
            print(f"{os.path.basename(path):40} not in {rns_json}")
            continue
        ours = analyse(path)
        mine = [(t, m) for t in ours.get("trains", []) for m in t["responses"]]
        theirs = [(t, m) for t in r["trains"] for m in t["responses"] if m["stimulus_s"] is not None]
        t_ours = np.array([m["stimulus_s"] for _, m in mine])
        file_amp, file_area, file_dec = [], [], []
        pairs = {}
        for tt, m in theirs:
            total += 1
            if not len(t_ours):
                continue
            j = int(np.argmin(np.abs(t_ours - m["stimulus_s"])))
            if abs(t_ours[j] - m["stimulus_s"]) >= 0.002:
                continue
            matched += 1
            to, mo = mine[j]
            d = {k: abs(mo[k] - m[k]) / abs(m[k]) * 100.0 for k in RESPONSE_FIELDS if k in mo and m.get(k)}
            for k, v in d.items():
                rel[k].append(v)
            file_amp += [d["amplitude_mv"]] if "amplitude_mv" in d else []
            file_area += [d["area_mv_ms"]] if "area_mv_ms" in d else []
            pairs[id(tt)] = (tt, to)
        for tt, to in pairs.values():
            if "role" in to and to["role"] != tt["role"]:
                role_miss += 1
            for k in TRAIN_FIELDS:
                if tt.get(k) is not None and to.get(k) is not None:
                    pts[k].append(abs(to[k] - tt[k]))
                    file_dec.append(pts[k][-1])
        if r.get("post_exercise_increment_pct") is not None and ours.get("post_exercise_increment_pct") is not None:
            pts["post_exercise_increment_pct"].append(
                abs(ours["post_exercise_increment_pct"] - r["post_exercise_increment_pct"]))
        src = r["source"]
        dm = dh = None
        if src.get("mains_hz") is not None and ours.get("mains_hz") is not None:
            dm = ours["mains_hz"] - src["mains_hz"]
            dh = (ours["mains_rms_uv"] - src["mains_rms_uv"]) / src["mains_rms_uv"] * 100.0
            other["mains Hz"].append(abs(dm))
            other["hum level %"].append(abs(dh))
        elif (src.get("mains_hz") is None) != (ours.get("mains_hz", None) is None) and "polarity" in ours:
            print(f"  {os.path.basename(path)}: hum found by one side only")
        ses = r.get("session", {})
        for k in ("exercise_start_s", "exercise_end_s"):
            if ses.get(k) is not None and ours.get(k) is not None:
                other["exercise s"].append(abs(ours[k] - ses[k]))
        if "polarity" in ours and ours["polarity"] != src.get("polarity"):
            polarity_miss += 1
        mx = lambda v: f"{max(v):.2f}" if v else "-"  # noqa: E731
        print(f"{os.path.basename(path):40} {len(file_amp):>3}/{len(theirs):<3} "
              f"{(np.median(file_amp) if file_amp else float('nan')):10.3f} {mx(file_amp):>10} "
              f"{mx(file_area):>11} {mx(file_dec):>11} "
              f"{(f'{dm:+.3f}' if dm is not None else '-'):>9} {(f'{dh:+.2f}' if dh is not None else '-'):>7}")
    print(f"\nmatched {matched}/{total} responses by stimulus time (±2 ms); "
          f"polarity differs in {polarity_miss} file(s), train role in {role_miss} train(s)")
    print(f"{'quantity':34} {'n':>5} {'median':>9} {'max':>9}")
    for k, v in rel.items():
        if v:
            print(f"{k + ' |Δ| %':34} {len(v):>5} {np.median(v):9.3f} {np.max(v):9.3f}")
    for k, v in pts.items():
        if v:
            print(f"{k + ' |Δ| points':34} {len(v):>5} {np.median(v):9.3f} {np.max(v):9.3f}")
    for k, v in other.items():
        if v:
            print(f"{k + ' |Δ|':34} {len(v):>5} {np.median(v):9.3f} {np.max(v):9.3f}")
    return max(rel["amplitude_mv"]) if rel["amplitude_mv"] else float("nan")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("paths", nargs="+")
    p.add_argument("--json", help="write the measurements here (default: standard output)")
    p.add_argument("--agree", metavar="RNS_JSON",
                   help="compare with this rns analyze --format json output")
    p.add_argument("--subset", action="store_true",
                   help="the earlier, simpler reference (no hum model, polarity vote, adaptive blanking)")
    a = p.parse_args()
    analyse = analyse_subset if a.subset else analyse_full
    files = list(inputs(a.paths))
    if a.agree:
        worst = agree(a.agree, files, analyse)
        print(f"largest amplitude difference: {worst:.2f} %")
        return 0
    out = [analyse(f) for f in files]
    text = json.dumps(out, indent=1)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text + "\n")
    print(f"{len(out)} recordings, {sum(r.get('stimuli', 0) for r in out)} stimuli", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
