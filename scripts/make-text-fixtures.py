#!/usr/bin/env python3
"""Write the vendor text fixtures in tests/fixtures/text/ from samples/mg_sweeps.csv.

Usage (from the repository root): python3 scripts/make-text-fixtures.py   (NumPy only)

No independent writer of the Synergy text export is to be had, and no openly
licensed real export was found; the files below follow the layout that
public parsers of real Synergy exports read (UTF-16 or ANSI `Key=Value` lines,
numbered sections, `Sweep  Data(mV)<N>=` keys with comma-separated values or,
in a decimal-comma locale, values split by semicolons over several lines,
`Sampling Frequency(kHz)`, `Pre-Trigger(ms)`). Each fixture gets a
`<file>.meta.json` written here with NumPy from the values as written (rate,
pre-stimulus samples, sweep count and length, and the samples), which the
test compares with `rns inspect` and the analysis of `samples/mg_sweeps.csv`.

- mg_synergy_utf16.txt: UTF-16LE with BOM, decimal commas, 8 values a line.
- mg_synergy_ansi.txt: ANSI (Windows-1252), one comma-separated line a sweep.
- mg_sweeps.asc: ASCII sweeps, free header lines, blank-separated columns,
  no time column (the rate and pre-trigger from the header).
"""
import json
import pathlib
import numpy as np

root = pathlib.Path(__file__).resolve().parent.parent
src = root / "samples" / "mg_sweeps.csv"
out = root / "tests" / "fixtures" / "text"
out.mkdir(parents=True, exist_ok=True)

table = np.loadtxt(src, delimiter=",", skiprows=1)
t_ms, sweeps = table[:, 0], table[:, 1:].T  # sweeps × samples
step_ms = (t_ms[-1] - t_ms[0]) / (len(t_ms) - 1)
rate_hz = round(1000.0 / step_ms)
pre_ms = -t_ms[0]
pre_samples = int(round(pre_ms * rate_hz / 1000))
sidecar = (root / "samples" / "mg_sweeps.csv.rns.toml").read_text()


def header(lines):
    lines += [
        "[1 - Patient Details]",
        "Patient ID=SYN-0001",
        "Gender=Female",
        "Visit Date=03/12/2026 10:15 AM",
        "[2 - Test Details]",
        "Test=Repetitive Stimulation",
        "Master Anatomy=R ABD POLL BREVIS",
        "Sampling Frequency(kHz)=%g" % (rate_hz / 1000),
        "Sweep Duration(ms)=%g" % (len(t_ms) * step_ms),
        "Pre-Trigger(ms)=%g" % pre_ms,
    ]


def synergy(decimal_comma):
    lines = []
    header(lines)
    if decimal_comma:
        lines = [l.replace(".", ",") if "=" in l and l.split("=")[0].endswith(")") else l for l in lines]
    for i, s in enumerate(sweeps):
        lines.append("[%d - Trace Data]" % (3 + i))
        lines.append("Channel Number=1")
        vals = ["%.6f" % v for v in s]
        key = "Sweep  Data(mV)<%d>=" % len(vals)
        if decimal_comma:
            vals = [v.replace(".", ",") for v in vals]
            rows = [";".join(vals[k:k + 8]) for k in range(0, len(vals), 8)]
            lines.append(key + rows[0])
            lines.extend(rows[1:])
        else:
            lines.append(key + ",".join(vals))
    return "\r\n".join(lines) + "\r\n"


def ascii_sweeps():
    lines = [
        "EMG machine ASCII export",
        "Sampling rate: %g kHz" % (rate_hz / 1000),
        "Units: mV",
        "Pre-trigger: %g ms" % pre_ms,
        "Sweeps: %d" % len(sweeps),
    ]
    for k in range(sweeps.shape[1]):
        lines.append("  ".join("%.6f" % v for v in sweeps[:, k]))
    return "\n".join(lines) + "\n"


def meta(name):
    return {
        "writer": "scripts/make-text-fixtures.py (NumPy %s)" % np.__version__,
        "source": "samples/mg_sweeps.csv",
        "sample_rate_hz": rate_hz,
        "pre_stimulus_samples": pre_samples,
        "sweeps": int(sweeps.shape[0]),
        "sweep_len": int(sweeps.shape[1]),
        "samples_mv": [float("%.6f" % v) for v in sweeps.ravel()],
    }


files = {
    "mg_synergy_utf16.txt": synergy(True).encode("utf-16"),
    "mg_synergy_ansi.txt": synergy(False).encode("cp1252"),
    "mg_sweeps.asc": ascii_sweeps().encode("ascii"),
}
for name, data in files.items():
    (out / name).write_bytes(data)
    (out / (name + ".rns.toml")).write_text(sidecar)
    (out / (name + ".meta.json")).write_text(json.dumps(meta(name)) + "\n")
    print(name, len(data), "bytes")

# Hostile variants for the malformed corpus (tests/malformed/text_*), each a
# small edit of a fixture above; tests/malformed/expected.toml says what each
# must give.
malformed = root / "tests" / "malformed"
ansi = files["mg_synergy_ansi.txt"].decode("cp1252")
asc = files["mg_sweeps.asc"].decode("ascii")
utf16 = files["mg_synergy_utf16.txt"]
hostile = {
    "text_synergy_no_rate.txt": "\n".join(
        l for l in ansi.split("\n") if not l.startswith("Sampling Frequency")
    ).encode("cp1252"),
    "text_synergy_declared_count.txt": ansi.replace(
        "Sweep  Data(mV)<400>=", "Sweep  Data(mV)<4000000000>=", 1
    ).encode("cp1252"),
    "text_synergy_text_value.txt": ansi.replace(",3.999357,", ",abc,", 1).encode("cp1252"),
    "text_synergy_rate_1e9.txt": ansi.replace(
        "Sampling Frequency(kHz)=10", "Sampling Frequency(kHz)=1000000000", 1
    ).encode("cp1252"),
    "text_synergy_utf16_odd.txt": utf16[: len(utf16) // 2 * 2 - 1],
    "text_sweeps_ragged.asc": asc.replace("\n", "  0.5\n", 7).encode("ascii"),
    "text_sweeps_header_only.asc": ("\n".join(asc.split("\n")[:5]) + "\n").encode("ascii"),
}
for name, data in hostile.items():
    (malformed / name).write_bytes(data)
    print(name, len(data), "bytes")
