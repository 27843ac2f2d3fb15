#!/usr/bin/env python3
"""Convert the MonStim-Plotter example data into tests/real/monstim/.

Source: GitHub AEWorthy/MonStim-Plotter (BSD-2-Clause, (c) 2025 Andrew Worthy),
commit 2b78f934d9c392ba42445c57f8975624e0a30c47, files "Example Data 2.csv"
(80 mouse M-wave sweeps, 10 kHz) and "Example Data 3.csv" (84 sweeps, 30 kHz).
Long layout: recording_index, channel_index, stimulus_V, time_point (ms, 0 =
stimulus, -1 ms to ~7 ms), amplitude_mV. A block of ``key,value`` lines above
the table, if present, is skipped (the table starts at the line that begins
with ``recording_index``).

Get the files (a git client and network access to GitHub):

    git clone https://github.com/AEWorthy/MonStim-Plotter /tmp/monstim
    git -C /tmp/monstim checkout 2b78f934d9c392ba42445c57f8975624e0a30c47

(or, from a bare mirror: ``git --git-dir=REPO show "2b78f93:Example Data 2.csv" > ex2.csv``). Then
(Python 3.11 + NumPy only):

    python3 scripts/real/convert_monstim.py "/tmp/monstim/Example Data 2.csv" ex2
    python3 scripts/real/convert_monstim.py "/tmp/monstim/Example Data 3.csv" ex3
    python3 scripts/real/reference.py tests/real/monstim

Writes (deterministically: time %.6f ms rebuilt from the sample index,
values %.6f mV) into tests/real/monstim/: <stem>_recruitment.csv (every sweep,
in recording order), <stem>_plateau_3hz.csv, and the constructed trains
<stem>_mg_3hz.csv, <stem>_flat_3hz.csv, <stem>_lems_50hz.csv (the median
plateau sweep times exact factors; sweeps are 8 ms, shorter than the 20 ms
interval of 50 Hz, so nothing is cut), each with .rns.toml, .origin.json,
.expected.json.
"""
import hashlib
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402
import reference  # noqa: E402


def read_long(path):
    """Return (time_ms, sweeps[samples, recordings], stimulus_V, recording indices)."""
    raw = Path(path).read_bytes()
    print(f"{path}: sha256 {hashlib.sha256(raw).hexdigest()}")
    lines = raw.decode("utf-8-sig").splitlines()
    head = next(i for i, l in enumerate(lines) if l.strip().lower().startswith("recording_index"))
    names = [c.strip() for c in lines[head].split(",")]
    assert names == ["recording_index", "channel_index", "stimulus_V", "time_point", "amplitude_mV"], names
    d = np.array([[float(v) for v in l.split(",")] for l in lines[head + 1 :] if l.strip()])
    assert np.unique(d[:, 1]).size == 1, "more than one channel"
    recs = np.unique(d[:, 0]).astype(int)
    t = d[d[:, 0] == recs[0], 3]
    sweeps, stim = [], []
    for r in recs:
        rows = d[d[:, 0] == r]
        assert np.allclose(rows[:, 3], t), f"recording {r}: other time points"
        assert np.unique(rows[:, 2]).size == 1
        sweeps.append(rows[:, 4])
        stim.append(float(rows[0, 2]))
    return t, np.stack(sweeps, axis=1), stim, [int(r) for r in recs]


def main(src, stem, out="tests/real/monstim"):
    t_file, w, stim, recs = read_long(src)
    dt = float(np.median(np.diff(t_file)))
    fs = round(1000.0 / dt)
    n_pre = int(np.sum(t_file < -1e-9))
    t = (np.arange(len(t_file)) - n_pre) * 1000.0 / fs
    assert np.max(np.abs(t - t_file)) < 1e-6, "irregular time points"
    print(f"{stem}: {w.shape[1]} sweeps, {fs} Hz, {len(t)} samples from {t[0]:.3f} ms")
    summary = corpus.build_source(
        out, stem, t, "%.6f", w, stim, "V", recs,
        reference.SOURCES["monstim"], reference.measure,
        {}, hfs_cut_ms=None, note=f"mouse, MonStim-Plotter {Path(src).name}, {fs / 1000:g} kHz")
    for f in summary["files"]:
        print("wrote", f)
    print("plateau:", summary["plateau"], "train recordings:", summary["train"], "base recording:", summary["base"])


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
