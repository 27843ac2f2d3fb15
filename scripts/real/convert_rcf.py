#!/usr/bin/env python3
"""Convert the RecruitmentCurveFitting example waveforms into tests/real/rcf/.

Source: PyPI wheel recruitmentcurvefitting==1.2.8 (CC0 1.0, Jeremy Hill),
file RecruitmentCurveFitting/example-waveforms.csv: 41 human soleus M-/H-wave
sweeps (tibial nerve stimulation). Row 0 = stimulus intensities (mA), column 0
= time 0-60 ms at 3.2 kHz; each sweep starts at the stimulus and its first 7
samples (0-1.875 ms) are blanked to exactly 0. Values taken as mV.

Get the file (needs only pip and unzip):

    pip download recruitmentcurvefitting==1.2.8 --no-deps -d /tmp/rcf
    unzip -o /tmp/rcf/recruitmentcurvefitting-1.2.8-py2.py3-none-any.whl \
        RecruitmentCurveFitting/example-waveforms.csv -d /tmp/rcf

Then (Python 3.11 + NumPy only):

    python3 scripts/real/convert_rcf.py /tmp/rcf/RecruitmentCurveFitting/example-waveforms.csv
    python3 scripts/real/reference.py tests/real/rcf

Writes (deterministically: time %.4f ms, values %.6f mV) into tests/real/rcf/:
rcf_recruitment.csv (all 41 sweeps, unchanged but for the layout),
rcf_plateau_3hz.csv (the plateau sweeps, rule in corpus.plateau), and the
constructed trains rcf_mg_3hz.csv, rcf_flat_3hz.csv, rcf_lems_50hz.csv (the
median plateau sweep times exact factors; the 50 Hz copies are cut to the 20 ms
inter-stimulus interval), each with .rns.toml, .origin.json, .expected.json.
"""
import hashlib
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402
import reference  # noqa: E402



def main(src, out="tests/real/rcf"):
    raw = Path(src).read_bytes()
    print(f"{src}: sha256 {hashlib.sha256(raw).hexdigest()}")
    a = np.array([[float(v) for v in l.split(",")] for l in raw.decode().splitlines() if l.strip()])
    intensities = [float(v) for v in a[0, 1:]]
    t_file = a[1:, 0]
    w = a[1:, 1:]
    fs = 3200.0
    t = np.arange(len(t_file)) * 1000.0 / fs
    assert np.max(np.abs(t - t_file)) < 1e-9, "time column is not 0..60 ms at 3.2 kHz"
    assert w.shape == (193, 41), w.shape
    summary = corpus.build_source(
        out, "rcf", t, "%.4f", w, intensities, "mA", list(range(1, w.shape[1] + 1)),
        reference.SOURCES["rcf"], reference.measure,
        {"muscle": "soleus", "nerve": "tibial"}, hfs_cut_ms=20.0,
        note="human soleus, RecruitmentCurveFitting 1.2.8")
    for f in summary["files"]:
        print("wrote", f)
    print("plateau:", summary["plateau"], "train sweeps:", summary["train"], "base sweep:", summary["base"])


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
