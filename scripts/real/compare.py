#!/usr/bin/env python3
"""Compare an rns binary with the real-recordings corpus (tests/real/). A report tool.

    python3 scripts/real/compare.py PATH/TO/rns [tests/real] > report.md

Runs ``rns analyze --format json`` on every corpus CSV (its sidecar is picked up
as usual) and prints a Markdown report: per file the expected and the reported
pattern, the quality codes, the decrement/increment against the exact figures
of the constructed trains, and rns amplitude vs the independent reference
(``<file>.reference.json``, scripts/real/reference.py) per response: median and
largest |relative difference|. Responses are matched to sweeps in order (sweep
n = n-th response over all trains). Sweeps the reference flags
``no_clear_m_wave`` are left out of the amplitude figures.

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
        if not Path(str(csv) + ".reference.json").exists():
            continue  # not a corpus recording (e.g. an original-layout copy)
        ref = json.loads(Path(str(csv) + ".reference.json").read_text())
        exp = json.loads(Path(str(csv) + ".expected.json").read_text())
        out, err = run_rns(rns, csv)
        name = f"{csv.parent.name}/{csv.name}"
        if out is None:
            rows.append(f"| {name} | {exp.get('pattern')} | error: {err} | | | | |")
            continue
        resp = [r for tr in out["trains"] for r in tr["responses"]]
        pattern = out["classification"]["pattern"]
        codes = sorted({q["code"] for q in out["quality"] if q["severity"] == "warning"})
        # decrement / increment of constructed trains
        figs = ""
        if exp.get("kind") == "constructed" and out["trains"]:
            t0, e0 = out["trains"][0], exp["trains"][0]
            if "decrement_pct" in e0:
                figs = f"decr. {fmt(t0.get('decrement_pct'))} (exp. {e0['decrement_pct']:g}), area {fmt(t0.get('area_decrement_pct'))}"
            else:
                figs = f"incr. {fmt(t0.get('increment_pct'))} (exp. {e0['increment_pct']:g}), area {fmt(t0.get('area_increment_pct'))}"
            if len(out["trains"]) != 1:
                figs += f"; {len(out['trains'])} trains"
        elif exp.get("kind") == "plateau" and out["trains"]:
            t0, e0 = out["trains"][0], exp["trains"][0]
            figs = f"decr. {fmt(t0.get('decrement_pct'))} (ref. {fmt(e0.get('reference_decrement_pct'))})"
        # amplitudes
        diffs, outside, clean = [], 0, []
        win = ref["params"]["m_window"]
        for n, s in enumerate(ref["sweeps"]):
            if s["amplitude_mv"] is None or "no_clear_m_wave" in s["flags"]:
                continue
            r = resp[n] if n < len(resp) else None
            if r is None or r.get("amplitude_mv") is None:
                diffs.append(None)
                continue
            diffs.append(pct(r["amplitude_mv"], s["amplitude_mv"]))
            if set(s["flags"]) <= {"initial_positive_deflection"}:
                clean.append(diffs[-1])
            pl = r.get("peak_latency_ms")
            if pl is not None and not (win[0] - 1.0 <= pl <= ref["params"]["phase_end_max"]):
                outside += 1
        got = [d for d in diffs if d is not None]
        med = statistics.median([abs(d) for d in got]) if got else None
        mx = max(got, key=abs) if got else None
        sgn = statistics.median(got) if got else None
        exp_pat = exp.get("pattern") or "(none: recruitment)"
        ok = "" if exp.get("pattern") is None else (" ✓" if pattern == exp["pattern"] else " ✗")
        if exp.get("pattern") is not None:
            hits.append(pattern == exp["pattern"])
        rows.append(f"| {name} | {exp_pat} | {pattern}{ok} | {len(resp)}/{len(ref['sweeps'])} | {figs} | "
                    f"{', '.join(codes) or '–'} |")
        cmed = statistics.median([abs(d) for d in clean]) if clean else None
        cmx = max(clean, key=abs) if clean else None
        amp_rows.append(f"| {name} | {ref['sample_rate_hz'] / 1000:g} kHz | {len(got)}"
                        f"{f' (+{diffs.count(None)} missing)' if None in diffs else ''} | {fmt(med)} | {fmt(mx)} | "
                        f"{fmt(sgn)} | {outside} | {len(clean)} | {fmt(cmed)} | {fmt(cmx)} |")
        if exp.get("kind") == "recruitment":
            g = groups.setdefault(f"{ref['sample_rate_hz'] / 1000:g} kHz ({csv.parent.name})", ([], []))
            g[0].extend(got)
            g[1].extend(clean)
    print(f"# Real-recordings corpus: {ver}\n")
    print(f"Generated by `python3 scripts/real/compare.py {rns} {root}` (see tests/real/README.md).\n")
    print(f"**Intended pattern reached on {sum(hits)} of {len(hits)} trains** (plateau and constructed).\n")
    print("## Patterns\n")
    print("Warnings = quality codes of severity `warning` (they set a train aside). ✓/✗: the intended pattern.\n")
    print("| file | intended | rns | responses/sweeps | decrement / increment % | warnings |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))
    print("\n## Amplitude vs reference\n")
    print("Relative difference (rns − reference) / reference, %, over the sweeps with a clear M-wave. "
          "`outside` = responses whose rns peak latency lies outside the reference's M-wave span "
          "(e.g. an H-reflex or late wave taken for the M-wave). The last three columns keep only the "
          "unambiguous sweeps: no reference flag but `initial_positive_deflection` (no bifid or merged phase, "
          "no late wave larger than the M-wave).\n")
    print("| file | rate | n | median abs % | largest % | median signed % | outside | n unambig. | median abs % | largest % |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(amp_rows))
    print("\n## Real M-waves by rate (recruitment series: every recorded sweep)\n")
    print("| rate | n clear | median abs % | largest abs % | n unambiguous | median abs % | largest abs % |")
    print("|---|---|---|---|---|---|---|")
    for g, (d, c) in groups.items():
        a = (f"{len(d)} | {fmt(statistics.median([abs(x) for x in d]))} | {fmt(max(abs(x) for x in d))}"
             if d else "0 | – | –")
        b = (f"{len(c)} | {fmt(statistics.median([abs(x) for x in c]))} | {fmt(max(abs(x) for x in c))}"
             if c else "0 | – | –")
        print(f"| {g} | {a} | {b} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
