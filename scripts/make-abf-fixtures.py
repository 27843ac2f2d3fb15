#!/usr/bin/env python3
"""Write the ABF test fixtures in tests/fixtures/abf/ and a <file>.meta.json
beside each from an independent reader (pyABF).

Usage (from the repository root):

    pip install numpy pyabf      # numpy 2.4.6, pyabf 2.3.8 were used
    python3 scripts/make-abf-fixtures.py [PYABF_DATA_DIR]

The script first runs `cargo run --example export_session -- DIR` for the
project's synthetic session (raw little-endian f32 in mV).

Writers:
- pyabf.abfWriter.writeABF1 writes the ABF1 files. It writes episodic files
  only; for `session_gapfree.abf` the script then sets the header's
  nOperationMode (byte 8) to 3, gap-free, and pyABF reads it back as such.
  - session_gapfree.abf: the 13-s, 10 kHz session as one gap-free channel in
    mV (writeABF1's scaling: 3276.8 steps per mV, truncated): the twin of
    tests/fixtures/edf/session.wav.
  - sweeps_abf1.abf: 8 sweeps of 1280 samples at 10 kHz in mV, each a
    CMAP-like wave 5 ms after the end of the pre-sweep holding period; no
    epoch table (writeABF1 leaves it blank).
- 2018_12_09_pCLAMP11_0001.abf: a real ABF2 from pyABF's repository
  (github.com/swharden/pyABF, data/abfs/, MIT licence, see LICENSE here):
  pCLAMP 11, 10 episodic sweeps of 2000 samples at 10 kHz, one current
  channel ("IN 0", A), command steps -70 → -100 mV at sample 531. Give the
  folder holding it as PYABF_DATA_DIR to copy it again.

- hostile_*.abf: corrupted copies of sweeps_abf1.abf (header cut, data
  cut, 2^31 sweeps, 2^31 samples declared); their meta says what must be said.

Reader for every meta file: pyabf.ABF (header fields, sweep starts, the
epoch table's onsets, and the first samples of each sweep of each channel).
"""

import json
import pathlib
import shutil
import struct
import subprocess
import sys

import numpy as np
import pyabf
import pyabf.abfWriter

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "abf"
REAL = "2018_12_09_pCLAMP11_0001.abf"


def meta(path, extra):
    abf = pyabf.ABF(str(path))
    channels = []
    for c in range(abf.channelCount):
        heads = []
        for s in range(abf.sweepCount):
            abf.setSweep(s, channel=c)
            heads.append([float(v) for v in abf.sweepY[:32]])
        channels.append({"label": abf.adcNames[c], "unit": abf.adcUnits[c], "samples_head": heads})
    abf.setSweep(0)
    epochs = abf.sweepEpochs
    m = {
        "file": path.name,
        "read_by": f"pyabf {pyabf.__version__}",
        "version": abf.abfVersionString,
        "operation_mode": int(abf._protocolSection.nOperationMode if abf.abfVersion["major"] == 2 else abf._headerV1.nOperationMode),
        "sample_rate_hz": float(abf.sampleRate),
        "sweep_count": int(abf.sweepCount),
        "sweep_samples": int(abf.sweepPointCount),
        "sweep_starts_s": [float(t) for t in abf.sweepTimesSec],
        "holding_samples": int(abf.sweepPointCount // 64),
        "epochs": [{"type": t, "p1": int(p1), "level": float(l) if np.isfinite(l) else None}
                   for t, p1, l in zip(epochs.types, epochs.p1s, epochs.levels)],
        "channels": channels,
    }
    m.update(extra)
    (path.parent / (path.name + ".meta.json")).write_text(json.dumps(m, indent=1) + "\n")


def main():
    tmp = ROOT / "target" / "abf-session"
    subprocess.run(["cargo", "run", "--example", "export_session", "--", str(tmp)], cwd=ROOT, check=True)
    OUT.mkdir(parents=True, exist_ok=True)
    s = json.loads((tmp / "session.json").read_text())
    x = np.fromfile(tmp / "session.f32", dtype="<f4").astype(np.float64)

    p = OUT / "session_gapfree.abf"
    pyabf.abfWriter.writeABF1(x.reshape(1, -1), str(p), s["sample_rate_hz"], units="mV")
    b = bytearray(p.read_bytes())
    struct.pack_into("<h", b, 8, 3)  # nOperationMode: gap-free
    p.write_bytes(bytes(b))
    meta(p, {"written_by": "pyabf.abfWriter.writeABF1, mode set to 3 (gap-free)",
             "expect": {"format": "abf1", "stimuli_s": s["stimuli_s"],
                        "twin": "tests/fixtures/edf/session.wav"}})

    # Sweeps: a biphasic wave 5 ms after the holding period of each sweep.
    rate, n = 10000.0, 1280
    t = np.arange(n) / rate
    onset = (n // 64) / rate
    sweeps = []
    for k in range(8):
        u = t - onset - 0.005
        wave = np.where(u > 0, -8.0 * (1 - 0.02 * k) * np.sin(2 * np.pi * u / 0.006) * np.exp(-u / 0.004), 0.0)
        sweeps.append(wave + 0.01 * np.sin(2 * np.pi * 50 * t))
    p = OUT / "sweeps_abf1.abf"
    pyabf.abfWriter.writeABF1(np.array(sweeps), str(p), rate, units="mV")
    meta(p, {"written_by": "pyabf.abfWriter.writeABF1",
             "expect": {"format": "abf1", "stimulus_in_sweep": n // 64}})

    if len(sys.argv) > 1:
        shutil.copy(pathlib.Path(sys.argv[1]) / REAL, OUT / REAL)
    meta(OUT / REAL, {"written_by": "pCLAMP 11 (from pyABF's data/abfs, MIT)",
                      "expect": {"format": "abf2", "stimulus_in_sweep": 531}})
    hostile()
    print("wrote", sorted(q.name for q in OUT.iterdir()))


def hostile():
    """Corrupted copies of sweeps_abf1.abf: each must give exit 3 and one line."""
    base = (OUT / "sweeps_abf1.abf").read_bytes()
    cases = {
        "hostile_header_cut.abf": (base[:1500], "inside the 2048-byte header"),
        "hostile_data_cut.abf": (base[:12000], "truncated"),
    }
    # The counts need no data behind them: the header alone is enough.
    b = bytearray(base[:4096])
    struct.pack_into("<i", b, 16, 2**31 - 1)  # lActualEpisodes
    cases["hostile_sweeps.abf"] = (bytes(b), "exceeds the limit")
    b = bytearray(base[:4096])
    struct.pack_into("<i", b, 10, 2**31 - 1)  # lActualAcqLength
    cases["hostile_samples.abf"] = (bytes(b), "exceeds the limit")
    for name, (data, expect) in cases.items():
        (OUT / name).write_bytes(data)
        (OUT / (name + ".meta.json")).write_text(json.dumps(
            {"file": name, "derived_from": "sweeps_abf1.abf", "expect_message": expect}, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
