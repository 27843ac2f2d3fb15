"""A short tour of the rns_analyzer Python package.

Run from the repository's root after installing the package
(docs/user-guide.md#python-package):

    python3 examples/python/tutorial.py

It analyses a bundled sample, looks at its tables and traces, simulates a
recording with a weaker junction and compares the decrements. Patterns,
not diagnoses.
"""

import pathlib
import tempfile

import numpy as np

import rns_analyzer as rns

SAMPLES = pathlib.Path(__file__).resolve().parents[2] / "samples"

# 1. One recording: the JSON contract of `rns analyze --format json`, as a dict.
a = rns.analyze(SAMPLES / "mg_session.wav")
print("pattern:", a["classification"]["pattern"])
for f in a["classification"]["findings"]:
    print("  finding:", f["code"], f.get("value"), "vs", f.get("threshold"))

# 2. The same analysis as tables: one row per response / train, typed columns.
r = rns.analyze_file(SAMPLES / "mg_session.wav", traces=True)
print(r.trains[["train", "role", "rate_hz", "decrement_pct", "shape"]])
print(r.responses.groupby("train")["amplitude_mv"].agg(["first", "min", "count"]))
print("warnings:", list(r.flags.loc[r.flags.severity == "warning", "code"]))

# 3. The waveforms of the first train: responses x points, main phase up.
t = r.traces[0]
peak = np.nanmax(t["mv"], axis=1)
print(f"train {t['train']}: {t['mv'].shape[0]} responses, peak {peak.min():.2f}-{peak.max():.2f} mV")

# 4. Settings are the CLI's flags: here the muscle for the normal range.
s = rns.analyze(SAMPLES / "normal_adm.wav", muscle="APB")["session"]
print(f"baseline CMAP {s['baseline_cmap_mv']} mV; APB lower limit {s.get('baseline_cmap_lower_limit_mv')} mV")

# 5. Simulate junctions with fewer working receptors and measure each one.
with tempfile.TemporaryDirectory() as d:
    for achr in (1.0, 0.6, 0.4):
        out = pathlib.Path(d) / f"achr_{achr}.wav"
        sim = rns.simulate(preset="normal", protocol="baseline", achr=achr, seed=1, out=out)
        got = rns.trains(out)
        print(f"AChR {achr:.1f}: true decrement {sim.truth['trains'][0]['decrement_pct']:.1f} %, "
              f"measured {got['decrement_pct'].iloc[0]:.1f} %")

# 6. Errors carry the CLI's message and exit code.
try:
    rns.analyze(SAMPLES / "no-such-file.wav")
except rns.InputError as e:
    print(f"error (exit code {e.exit_code}): {e}")
