#!/usr/bin/env python3
"""Compare an rns binary with the real-recordings corpus (tests/real/). A report tool.

    python3 scripts/real/compare.py PATH/TO/rns [tests/real] > report.md

Runs ``rns analyze --format json`` on every corpus CSV (its sidecar is picked up
as usual) and prints a Markdown report: per file the expected and the reported
pattern, the quality codes, the decrement/increment against the exact figures
of the constructed trains, and rns amplitude vs the independent reference
(``<file>.reference.json``, scripts/real/reference.py) per response: median and
largest |relative difference|, per scoring tier of the reference (``score``:
``strict`` = gated by the acceptance test, ``loose`` = reported, not gated,
``excluded`` = not scored, only counted), per file and, over the recruitment
series, per sampling rate. Responses are matched to sweeps in order (sweep
n = n-th response over all trains). Only corpus CSVs (with ``.origin.json`` and
``.reference.json``) are compared; files and groups are printed in sorted
order, so the same rns output gives the same report.

It always exits 0 (a failing or missing rns is reported in the table); it is
a report, not a test. Python 3.11, standard library only.
"""
import json
import statistics
import subprocess
import sys
from pathlib import Path


def run_rns(rns, csv):
    try:
        p = subprocess.run([rns, "analyze", "--format", "json", str(csv)], capture_output=True, text=True)
    except OSError as e:
        return None, f"cannot run {rns}: {e.strerror}"
    if p.returncode != 0 and not p.stdout.strip():
        return None, f"exit {p.returncode}: {p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ''}"
    try:
        return json.loads(p.stdout), None
    except json.JSONDecodeError as e:
        return None, f"exit {p.returncode}, unreadable JSON ({e})"


def pct(a, b):
    return (a - b) / b * 100.0


def fmt(v, nd=1):
    return "–" if v is None else f"{v:.{nd}f}"


TIERS = ("strict", "loose", "excluded")


def tier(s):
    """Scoring tier of a reference sweep (older reference files without `score`: clear = loose)."""
    if "score" in s:
        return s["score"]
    return "excluded" if s["amplitude_mv"] is None or "no_clear_m_wave" in s["flags"] else "loose"


def stats(diffs):
    """n, missing, median abs, largest (signed, by abs), largest abs, median signed of a list of % (None = missing)."""
    got = [d for d in diffs if d is not None]
    big = max(got, key=lambda d: (abs(d), d)) if got else None
    return {"n": len(got), "missing": len(diffs) - len(got),
            "med": statistics.median([abs(d) for d in got]) if got else None,
            "max": big, "amax": abs(big) if got else None,
            "sgn": statistics.median(got) if got else None}


def cell_n(st):
    return f"{st['n']}" + (f" (+{st['missing']} missing)" if st["missing"] else "")


class RnsError(Exception):
    pass


def compare_file(name, ref, exp, tiers, out):
    """Rows of one corpus file: (pattern row, amplitude row, {tier: [% or None]}, pattern hit or None)."""
    if not isinstance(out, dict):
        raise RnsError("JSON is not an object")
    resp = [r for tr in out.get("trains", []) for r in tr.get("responses", [])]
    pattern = out.get("classification", {}).get("pattern")
    codes = sorted({q["code"] for q in out.get("quality", []) if q.get("severity") == "warning"})
    # decrement / increment of constructed trains
    figs = ""
    if exp.get("kind") == "constructed" and out.get("trains"):
        t0, e0 = out["trains"][0], exp["trains"][0]
        if "decrement_pct" in e0:
            figs = f"decr. {fmt(t0.get('decrement_pct'))} (exp. {e0['decrement_pct']:g}), area {fmt(t0.get('area_decrement_pct'))}"
        else:
            figs = f"incr. {fmt(t0.get('increment_pct'))} (exp. {e0['increment_pct']:g}), area {fmt(t0.get('area_increment_pct'))}"
        if len(out["trains"]) != 1:
            figs += f"; {len(out['trains'])} trains"
    elif exp.get("kind") == "plateau" and out.get("trains"):
        t0, e0 = out["trains"][0], exp["trains"][0]
        figs = f"decr. {fmt(t0.get('decrement_pct'))} (ref. {fmt(e0.get('reference_decrement_pct'))})"
    exp_pat = exp.get("pattern") or "(none: recruitment)"
    hit = None if exp.get("pattern") is None else pattern == exp["pattern"]
    ok = "" if hit is None else (" ✓" if hit else " ✗")
    row = (f"| {name} | {exp_pat} | {pattern}{ok} | {len(resp)}/{len(ref['sweeps'])} | {figs} | "
           f"{', '.join(codes) or '–'} |")
    # amplitudes, per scoring tier (excluded sweeps are not scored)
    win = ref["params"]["m_window"]
    diffs, outside = {}, 0
    for k in ("strict", "loose"):
        diffs[k] = []
        for s in tiers[k]:
            n = s["sweep"] - 1
            r = resp[n] if n < len(resp) else None
            if r is None or r.get("amplitude_mv") is None:
                diffs[k].append(None)
                continue
            diffs[k].append(pct(r["amplitude_mv"], s["amplitude_mv"]))
            pl = r.get("peak_latency_ms")
            if pl is not None and not (win[0] - 1.0 <= pl <= ref["params"]["phase_end_max"]):
                outside += 1
    tol = exp.get("tolerance", {})
    st, lo = stats(diffs["strict"]), stats(diffs["loose"])
    gate = "–"
    if st["n"]:
        good = (st["missing"] == 0 and st["med"] <= tol.get("amplitude_median_pct", 2.0)
                and st["amax"] <= tol.get("amplitude_worst_pct", 4.0))
        gate = "yes" if good else "no"
    amp_row = (f"| {name} | {ref['sample_rate_hz'] / 1000:g} kHz | {cell_n(st)} | {fmt(st['med'])} | "
               f"{fmt(st['max'])} | {fmt(st['sgn'])} | {gate} | {cell_n(lo)} | {fmt(lo['med'])} | "
               f"{fmt(lo['max'])} | {outside} | {len(tiers['excluded'])} |")
    return row, amp_row, diffs, hit


def main(argv):
    if len(argv) not in (1, 2):
        print(__doc__, file=sys.stderr)
        return 0
    rns = argv[0]
    root = Path(argv[1] if len(argv) == 2 else "tests/real")
    try:
        ver = subprocess.run([rns, "--version"], capture_output=True, text=True).stdout.strip() or rns
    except OSError as e:
        ver = f"{rns} (cannot run: {e.strerror})"
    rows, amp_rows, groups, hits = [], [], {}, []
    for csv in sorted(root.rglob("*.csv")):
        refp = Path(str(csv) + ".reference.json")
        if not (Path(str(csv) + ".origin.json").exists() and refp.exists()):
            continue  # not a corpus recording (e.g. an original-layout copy)
        name = f"{csv.parent.name}/{csv.name}"
        try:
            ref = json.loads(refp.read_text())
            exp = json.loads(Path(str(csv) + ".expected.json").read_text())
            tiers = {k: [s for s in ref["sweeps"] if tier(s) == k] for k in TIERS}
            rate = f"{ref['sample_rate_hz'] / 1000:g} kHz"
        except (OSError, ValueError, KeyError, TypeError) as e:
            rows.append(f"| {name} | – | corpus files unreadable: {e} | | | |")
            continue
        out, err = run_rns(rns, csv)
        try:
            if out is None:
                raise RnsError(err)
            row, amp_row, diffs, hit = compare_file(name, ref, exp, tiers, out)
        except (RnsError, KeyError, TypeError, ValueError, AttributeError, IndexError, ZeroDivisionError) as e:
            rows.append(f"| {name} | {exp.get('pattern')} | error: {e} | | | |")
            amp_rows.append(f"| {name} | {rate} | rns failed | | | | | | | | | {len(tiers['excluded'])} |")
            continue
        rows.append(row)
        amp_rows.append(amp_row)
        if hit is not None:
            hits.append(hit)
        if exp.get("kind") == "recruitment":
            g = groups.setdefault((ref["sample_rate_hz"], f"{rate} ({csv.parent.name})"),
                                  {"strict": [], "loose": [], "excluded": 0})
            g["strict"].extend(diffs["strict"])
            g["loose"].extend(diffs["loose"])
            g["excluded"] += len(tiers["excluded"])
    print(f"# Real-recordings corpus: {ver}\n")
    print(f"Generated by `python3 scripts/real/compare.py {rns} {root}` (see tests/real/README.md).\n")
    print(f"**Intended pattern reached on {sum(hits)} of {len(hits)} trains** (plateau and constructed).\n")
    print("## Patterns\n")
    print("Warnings = quality codes of severity `warning` (they set a train aside). ✓/✗: the intended pattern.\n")
    print("| file | intended | rns | responses/sweeps | decrement / increment % | warnings |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))
    print("\n## Amplitude vs reference, by scoring tier\n")
    print("Relative difference (rns − reference) / reference, %, per reference scoring tier (`score` in "
          "`<file>.reference.json`, tests/real/README.md): **strict** sweeps are gated by the acceptance test "
          "(`gate` = median abs and largest abs within the file's tolerance, no response missing); **loose** "
          "sweeps (bifid or merged phases, baseline-dependent amplitude) are reported, not gated; **excluded** "
          "sweeps (no M-wave, or its amplitude undefined) are not scored, only counted. `n` = scored sweeps "
          "(+ those rns gave no amplitude for). `outside` = scored responses whose rns peak latency lies "
          "outside the reference's M-wave span (e.g. an H-reflex or late wave taken for the M-wave).\n")
    print("| file | rate | strict n | median abs % | largest % | median signed % | gate | loose n | median abs % "
          "| largest % | outside | excluded |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(amp_rows))
    print("\n## Real M-waves by rate and tier (recruitment series: every recorded sweep once)\n")
    print("| rate | strict n | median abs % | largest abs % | loose n | median abs % | largest abs % | excluded |")
    print("|---|---|---|---|---|---|---|---|")
    for g in sorted(groups):
        a, b = stats(groups[g]["strict"]), stats(groups[g]["loose"])
        print(f"| {g[1]} | {cell_n(a)} | {fmt(a['med'])} | {fmt(a['amax'])} | {cell_n(b)} | {fmt(b['med'])} | "
              f"{fmt(b['amax'])} | {groups[g]['excluded']} |")
    return 0


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except Exception as e:  # a report tool: never fail the caller
        print(f"compare.py: {type(e).__name__}: {e}", file=sys.stderr)
    sys.exit(0)
