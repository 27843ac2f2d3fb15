"""Shared writers for the real-recordings corpus (tests/real/). Python 3.11 + NumPy.

Used by convert_rcf.py and convert_monstim.py. Everything written here is
deterministic: fixed float formats, sorted keys, "\\n" line ends, so the same
input gives the same bytes.
"""
import json
from pathlib import Path

import numpy as np

# The constructed trains (exact figures by construction; README of tests/real).
# MG-like: U-shaped 25 % decrement at 3 Hz (4th response 25 % below the 1st,
# largest fall 1->2, nadir at 4-5, partial recovery).
MG_FACTORS = [1.00, 0.85, 0.78, 0.75, 0.75, 0.76, 0.78, 0.80, 0.81, 0.82]
FLAT_FACTORS = [1.0] * 10
# LEMS-like: 50 Hz, 25 responses ramping linearly from 1.0 to 2.0 (+100 %).
HFS_FACTORS = [round(1.0 + i / 24, 6) for i in range(25)]


def write_sweeps_csv(path, t_ms, sweeps, t_fmt):
    """CSV sweeps layout of rns: time_ms, sweep1..N; values in mV as %.6f."""
    sweeps = np.asarray(sweeps, dtype=float)
    n = sweeps.shape[1]
    lines = ["time_ms," + ",".join(f"sweep{i + 1}" for i in range(n))]
    for i, t in enumerate(t_ms):
        lines.append((t_fmt % t) + "," + ",".join("%.6f" % v for v in sweeps[i]))
    text = "\n".join(lines).replace("-0.000000", "0.000000") + "\n"
    Path(path).write_text(text)


def write_json(path, obj):
    Path(path).write_text(json.dumps(obj, indent=1, sort_keys=True) + "\n")


def write_sidecar(path, comment, **keys):
    """<file>.rns.toml with only keys that README "Protocol sidecar" documents."""
    allowed = {"muscle", "nerve", "rate_hz", "layout"}
    assert set(keys) <= allowed, set(keys) - allowed
    lines = [f"# {c}" for c in comment]
    for k, v in keys.items():
        lines.append(f"{k} = {json.dumps(v) if isinstance(v, str) else repr(float(v))}")
    Path(path).write_text("\n".join(lines) + "\n")


def constructed(x, factors):
    """Copies of one real sweep multiplied by exact factors (whole sweep, baseline included).

    The whole sweep is scaled, so every amplitude, area and baseline offset of
    copy n is exactly factors[n] times that of the original: any measurement that
    scales with the signal gives the decrement (1 - f4/f1) x 100 exactly.
    """
    return np.stack([np.asarray(x, dtype=float) * f for f in factors], axis=1)


def reference_amplitudes(ref_measure, params, t, w):
    """Run the reference on each column; None where there is no clear M-wave."""
    out = []
    for j in range(w.shape[1]):
        m = ref_measure(t, w[:, j], params)
        ok = m["amplitude_mv"] is not None and "no_clear_m_wave" not in m["flags"]
        out.append(m["amplitude_mv"] if ok else None)
    return out


def plateau(amps, intensities, tol=0.05):
    """The plateau: the sweeps at the top of the recruitment curve.

    Rule: starting from the highest stimulus intensity and going down, keep the
    sweeps whose reference amplitude stays within +-tol of the median amplitude of
    the sweeps at the two highest intensities; stop at the first sweep outside.
    Returns the kept column indices in recording order.
    """
    order = sorted(range(len(amps)), key=lambda j: (intensities[j], j))
    top = [amps[j] for j in order if intensities[j] >= sorted(set(intensities))[-2] and amps[j] is not None]
    ref = float(np.median(top))
    kept = []
    for j in reversed(order):
        a = amps[j]
        if a is None or abs(a - ref) > tol * ref:
            break
        kept.append(j)
    return sorted(kept), ref


PATTERN_REASON = {
    "mg_like": "decrement 25 % (> 10 %: abnormal), U-shaped: largest fall 1->2, nadir at 4-5, partial "
               "recovery (late/early ratio 18.5/25 = 0.74 < 1.02); increment data none; the muscle has no "
               "normal range in rns, so no low-CMAP finding (primer 4: MG-like)",
    "normal": "decrement < 5 %, no increment data, no low-CMAP finding (primer 4: normal)",
    "lems_like": "50 Hz train of 25: largest vs first +100 % in amplitude AND area (>= 60 %, classic >= 100 %); "
                 "area rises with amplitude, so not pseudofacilitation (primer 4: LEMS-like)",
}


def build_source(outdir, stem, t_ms, t_fmt, W, intensities, unit, src_columns, params, measure,
                 sidecar_common, hfs_cut_ms, note):
    """Write every corpus file of one source recording. Returns a summary dict."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    t_ms = np.asarray(t_ms)
    files = []
    # 1. the whole recruitment series, as recorded
    f = outdir / f"{stem}_recruitment.csv"
    write_sweeps_csv(f, t_ms, W, t_fmt)
    write_sidecar(str(f) + ".rns.toml", [f"Recruitment series as recorded ({note}): intensities rise sweep by sweep.",
                                          "Not an RNS train: no rate; for amplitude accuracy only."], **sidecar_common)
    cols = [dict(column=f"sweep{j + 1}", source_sweep=src_columns[j], **{f"stimulus_{unit}": intensities[j]})
            for j in range(W.shape[1])]
    write_json(str(f) + ".origin.json", {"columns": cols})
    write_json(str(f) + ".expected.json",
               {"file": f.name, "kind": "recruitment", "pattern": None,
                "note": "a recruitment series (rising intensity), not a train: no pattern is expected; "
                        "use the M-wave amplitudes against the reference (sweeps without the flag no_clear_m_wave)",
                "tolerance": {"amplitude_median_pct": 2.0, "amplitude_worst_pct": 4.0}})
    files.append(f)
    # 2. plateau train
    amps = reference_amplitudes(measure, params, t_ms, W)
    kept, ref = plateau(amps, intensities)
    train = kept[-10:]
    f = outdir / f"{stem}_plateau_3hz.csv"
    write_sweeps_csv(f, t_ms, W[:, train], t_fmt)
    write_sidecar(str(f) + ".rns.toml", [f"Real supramaximal responses ({note}), recorded sweeps {[src_columns[j] for j in train]}.",
                                          "Grouped as a 3 Hz train (nominal rate: the sweeps carry no timing)."],
                  rate_hz=3.0, **sidecar_common)
    write_json(str(f) + ".origin.json", {"columns": [cols[j] | {"column": f"sweep{n + 1}"} for n, j in enumerate(train)]})
    a = [amps[j] for j in train]
    stats = {"plateau_sweeps_in_series": [src_columns[j] for j in kept], "plateau_median_mv": round(ref, 5),
             "train_amplitude_range_mv": [round(min(a), 5), round(max(a), 5)],
             "train_spread_pct": round((max(a) - min(a)) / float(np.median(a)) * 100, 3)}
    exp = {"file": f.name, "kind": "plateau", "pattern": "normal",
           "pattern_reason": "real responses from the top of the recruitment curve, where the M-wave has stopped growing (intensities still rise slightly from sweep to sweep: origin.json); " + PATTERN_REASON["normal"],
           "trains": [{"responses": len(train), "rate_hz": 3.0, "role": "baseline",
                       "reference_decrement_pct": round((a[0] - a[3]) / a[0] * 100, 3) if len(a) >= 4 else None,
                       "reference_decrement_5th_pct": round((a[0] - a[4]) / a[0] * 100, 3) if len(a) >= 5 else None}],
           "plateau": stats,
           "tolerance": {"amplitude_median_pct": 2.0, "amplitude_worst_pct": 4.0}}
    write_json(str(f) + ".expected.json", exp)
    files.append(f)
    # 3. constructed trains from the median plateau sweep of the train
    base = sorted(train, key=lambda j: (amps[j], j))[(len(train) - 1) // 2]
    info = {"source_sweep": src_columns[base], f"stimulus_{unit}": intensities[base],
            "reference_amplitude_mv": amps[base]}
    for g, e in train_files(outdir, stem, t_ms, t_fmt, W[:, base], info, sidecar_common, hfs_cut_ms, note):
        e["pattern_reason"] = PATTERN_REASON[e["pattern"]]
        e["reference_amplitudes_mv"] = [round(amps[base] * x, 5) for x in e["factors"]]
        write_json(str(g) + ".expected.json", e)
        files.append(g)
    return {"files": files, "plateau": stats, "train": [src_columns[j] for j in train],
            "base": src_columns[base], "amps": amps}


def train_files(outdir, stem, t_ms, t_fmt, base, base_info, sidecar_common, hfs_len_ms, note):
    """Write the three constructed trains from one base sweep; returns a summary list."""
    made = []
    specs = [
        ("mg_3hz", MG_FACTORS, 3.0, "mg_like", None),
        ("flat_3hz", FLAT_FACTORS, 3.0, "normal", None),
        ("lems_50hz", HFS_FACTORS, 50.0, "lems_like", hfs_len_ms),
    ]
    for name, factors, rate, pattern, cut in specs:
        keep = np.ones(len(t_ms), bool) if cut is None else (np.asarray(t_ms) < cut - 1e-9)
        tt = np.asarray(t_ms)[keep]
        w = constructed(np.asarray(base)[keep], factors)
        f = Path(outdir) / f"{stem}_{name}.csv"
        write_sweeps_csv(f, tt, w, t_fmt)
        write_sidecar(str(f) + ".rns.toml",
                      [f"Constructed train: one real sweep x exact factors ({note}).",
                       f"Stimulation rate {rate:g} Hz (nominal: sweeps carry no timing)."],
                      rate_hz=rate, **sidecar_common)
        cols = [dict(column=f"sweep{i + 1}", factor=fac, **base_info) for i, fac in enumerate(factors)]
        write_json(str(f) + ".origin.json", {"constructed_from": base_info, "columns": cols,
                                             "truncated_to_ms": cut})
        a1 = factors[0]
        exp = {"file": f.name, "pattern": pattern, "kind": "constructed", "factors": factors,
               "trains": [{"responses": len(factors), "rate_hz": rate,
                           "role": "hfs" if rate >= 10 else "baseline"}],
               "tolerance": {"decrement_points": 0.5, "increment_points": 0.5,
                             "amplitude_median_pct": 2.0, "amplitude_worst_pct": 4.0}}
        tr = exp["trains"][0]
        if rate < 10:
            tr["decrement_pct"] = round((a1 - factors[3]) / a1 * 100, 6)
            tr["decrement_5th_pct"] = round((a1 - factors[4]) / a1 * 100, 6)
            tr["area_decrement_pct"] = tr["decrement_pct"]
            tr["max_decrement_pct"] = round((a1 - min(factors[1:5])) / a1 * 100, 6)
        else:
            tr["increment_pct"] = round((max(factors) - a1) / a1 * 100, 6)
            tr["area_increment_pct"] = tr["increment_pct"]
            tr["last_increment_pct"] = round((factors[-1] - a1) / a1 * 100, 6)
        made.append((f, exp))
    return made
