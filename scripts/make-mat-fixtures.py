#!/usr/bin/env python3
"""Write the MATLAB MAT-file fixtures in tests/fixtures/mat/ with writers
independent of the project, and a <file>.meta.json beside each from an
independent reader.

Usage (from the repository root):

    pip install scipy hdf5storage h5py   # scipy 1.17.1, hdf5storage 0.2.2,
                                         # h5py 3.16.0, numpy 2.x were used
    python3 scripts/make-mat-fixtures.py

The signals come from committed fixtures, so no cargo run is needed: the
synthetic session (10 kHz, 13 s, 1 uV steps) is read from the EDF fixtures'
WAV twin, tests/fixtures/edf/session.wav (written by the project's
`export_session` example), and its stimulus times from
tests/fixtures/edf/session_stim.edf.meta.json. The MAT twins hold exactly
the WAV's integer samples (as int16 in uV), so both must analyse alike.

Writers:
- scipy.io.savemat writes every level 5 file (v5 compressed = MATLAB v7,
  v5 uncompressed = MATLAB v6).
- hdf5storage.savemat (matlab_compatible) writes the v7.3 files: HDF5 with
  MATLAB's 512-byte user block ("MATLAB 7.3 MAT-file ..."), the
  MATLAB_class attributes and MATLAB's transposed dimension order.

Readers for the meta files: scipy.io.loadmat for level 5, h5py for v7.3
(shapes are given in MATLAB's order, rows x columns).

Fixtures:
- spike2.mat        v5 compressed, as Spike2's "export as MATLAB" writes it:
                    struct session_Ch1 (title 'EMG ADM', units 'uV',
                    interval 1e-4, start, length, scale, offset, values as an
                    int16 column) and an event channel struct session_Ch2
                    (title 'Stim', times: the 17 stimulus times).
- sweeps.mat        v5 uncompressed: data (250 samples x 6 sweeps, mV,
                    double) cut around the baseline train's stimuli, t (250,
                    -5 ms ... 19.9 ms) so the stimulus is at sample 50; no
                    units (read as mV with a unit_assumed note).
                    sweeps.mat.rns.toml gives rate_hz = 3.
- sweeps_rows.mat   v5 compressed: the same sweeps as 6 x 250 (sweeps x
                    samples) with fs and no time vector; its sidecar says
                    layout = "sweeps" and [mat] pre_stimulus_ms = 5.
- channels.mat      v5 compressed: data (8000 x 3 single): 'EMG ADM',
                    'EMG APB' (half the ADM signal), 'Trig' (5 V pulses at
                    the stimuli); labels as a cell of strings; fs; units 'mV'.
- unnamed.mat       v5: foo, bar (1 x 100) and fs: the names do not say
                    which is the signal (the reader asks for [mat] signal).
- nested_v73.mat    v7.3: struct rec with x1 (int16, the session's first
                    1 s in uV), fs, units 'uV' and st (the first two stimulus
                    times, seconds); names settle nothing,
                    nested_v73.mat.rns.toml maps signal = "rec.x1",
                    stimuli = "rec.st".
- labchart.mat      v5 compressed, LabChart's "export as MATLAB" layout:
                    data (one single row: every channel of every block),
                    datastart/dataend/samplerate/unittextmap (3 channels x
                    2 blocks), titles, unittext, blocktimes (date numbers),
                    tickrate, firstsampleoffset, com/comtext. Channels 'EMG
                    ADM' (mV, 10 kHz), 'Stim' (V, 10 kHz, 5 V pulses at the
                    stimuli), 'Force' (N, 1 kHz). Block 1 is 0-2.6 s of the
                    session (the rest train), block 2 8.6-11 s (the first
                    train after exercise), 8.6 s after block 1 by its block
                    time.
                    Comments 'baseline' (block 1) and 'post exercise'
                    (block 2, 0.3 s in). Its meta reads the layout with NumPy
                    from scipy.io.loadmat's arrays (channel samples per block,
                    block start times, comment times).
- labchart_unplaced.mat  the same layout without blocktimes (blocks laid
                    end to end): 0.3-1.3 s and 8.8-9.8 s.
- hostile_*.mat     corrupted copies or hand-packed elements; their meta
                    gives the expected error.

The creation date in each header's descriptive text is replaced by a fixed
text, so that running the script again rewrites the same level 5 bytes.
"""

import json
import os
import struct
import zlib

import h5py
import hdf5storage
import numpy as np
import scipy
import scipy.io
import scipy.io.wavfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "mat")
EDF = os.path.join(ROOT, "tests", "fixtures", "edf")

FS = 10000


def session():
    rate, x = scipy.io.wavfile.read(os.path.join(EDF, "session.wav"))
    assert rate == FS and x.dtype == np.int16
    with open(os.path.join(EDF, "session_stim.edf.meta.json")) as f:
        stimuli = json.load(f)["expect"]["stimuli_s"]
    return x, stimuli


# ---------------------------------------------------------------------------
# Independent readers -> meta


def describe_v5(path):
    """Every variable scipy.io.loadmat sees: class, MATLAB shape, struct
    fields with theirs, the first samples of numeric arrays."""
    m = scipy.io.loadmat(path, squeeze_me=False, mat_dtype=False)
    out = {}
    for name, v in m.items():
        if name.startswith("__"):
            continue
        out[name] = describe_np(v)
    return out


def describe_np(v):
    if v.dtype.names:  # struct
        return {
            "class": "struct",
            "shape": list(v.shape),
            "fields": {f: describe_np(v[f][0, 0]) for f in v.dtype.names},
        }
    if v.dtype.kind == "U":
        return {"class": "char", "text": str(v[0]) if v.size else ""}
    if v.dtype == object:  # cell
        return {
            "class": "cell",
            "shape": list(v.shape),
            "items": [str(c[0]) for c in v.ravel(order="F")],
        }
    flat = v.ravel(order="F")
    return {
        "class": str(v.dtype),
        "shape": list(v.shape),
        "head": [float(a) for a in flat[:16]],
        "sum": float(np.sum(flat.astype(np.float64))),
    }


def describe_v73(path):
    """The same as describe_v5, from h5py (MATLAB shape = reversed HDF5 one)."""
    with open(path, "rb") as f:
        head = f.read(128)
    out = {}
    with h5py.File(path, "r") as h:
        for name in h:
            if name.startswith("#"):
                continue
            out[name] = describe_h5(h[name])
    return out, head[:116].rstrip(b" \0").decode("ascii")


def describe_h5(obj):
    cls = obj.attrs.get("MATLAB_class", b"").decode()
    if isinstance(obj, h5py.Group):
        return {
            "class": cls,
            "fields": {k: describe_h5(obj[k]) for k in obj},
        }
    data = obj[()]
    shape = list(reversed(data.shape))
    if cls == "char":
        return {"class": "char", "text": "".join(chr(c) for c in data.ravel())}
    flat = np.asarray(data).ravel()  # C order of the HDF5 = MATLAB column-major
    return {
        "class": cls,
        "shape": shape,
        "head": [float(a) for a in flat[:16]],
        "sum": float(np.sum(flat.astype(np.float64))),
    }


HEADER_TEXT = b"MATLAB 5.0 MAT-file Platform: posix, written by scipy.io.savemat"


def fix_header(name, text=HEADER_TEXT):
    """Replace the writer's creation date in the 116-byte descriptive text by
    a fixed one, so that running the script again rewrites the same bytes."""
    path = os.path.join(OUT, name)
    with open(path, "r+b") as f:
        f.seek(0)
        f.write(text.ljust(116, b" "))


def write_meta(name, meta):
    with open(os.path.join(OUT, name + ".meta.json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
        f.write("\n")


def v5(name, expect, **kw):
    fix_header(name)
    meta = {
        "read_by": f"scipy {scipy.__version__} scipy.io.loadmat",
        "variables": describe_v5(os.path.join(OUT, name)),
        "expect": expect,
    }
    write_meta(name, meta)


def v73(name, expect):
    variables, header = describe_v73(os.path.join(OUT, name))
    meta = {
        "read_by": f"h5py {h5py.__version__}",
        "header": header,
        "variables": variables,
        "expect": expect,
    }
    write_meta(name, meta)


# ---------------------------------------------------------------------------
# Fixtures


def cut_sweeps(x, stimuli, pre=50, n=250):
    """Sweeps of n samples around the first train's six stimuli, in mV."""
    starts = [int(round(s * FS)) - pre for s in stimuli[:6]]
    return np.stack([x[s : s + n].astype(np.float64) * 1e-3 for s in starts], axis=1)


def main():
    os.makedirs(OUT, exist_ok=True)
    x, stimuli = session()

    # Spike2's export: one struct per channel, named <file>_Ch<n>.
    ch1 = {
        "title": "EMG ADM",
        "comment": "No comment",
        "interval": 1.0 / FS,
        "scale": 1.0,
        "offset": 0.0,
        "units": "uV",
        "start": 0.0,
        "length": float(len(x)),
        "values": x.reshape(-1, 1),
    }
    ch2 = {
        "title": "Stim",
        "comment": "No comment",
        "resolution": 1e-6,
        "length": float(len(stimuli)),
        "times": np.array(stimuli).reshape(-1, 1),
    }
    scipy.io.savemat(
        os.path.join(OUT, "spike2.mat"),
        {"session_Ch1": ch1, "session_Ch2": ch2},
        do_compression=True,
        oned_as="column",
    )
    v5(
        "spike2.mat",
        {
            "format": "mat_v5",
            "channels": [{"label": "EMG ADM", "unit": "uV", "samples": len(x)}],
            "sample_rate_hz": FS,
            "stimuli_s": stimuli,
            "twin": "session.wav",
        },
    )

    sw = cut_sweeps(x, stimuli)
    t = (np.arange(sw.shape[0]) - 50) / FS
    scipy.io.savemat(
        os.path.join(OUT, "sweeps.mat"),
        {"data": sw, "t": t.reshape(1, -1)},
        do_compression=False,
    )
    v5(
        "sweeps.mat",
        {
            "format": "mat_v5",
            "channels": [{"label": "data", "unit": "", "samples": sw.size}],
            "sample_rate_hz": FS,
            "sweeps": 6,
            "sweep_samples": 250,
            "pre_stimulus_samples": 50,
        },
    )
    with open(os.path.join(OUT, "sweeps.mat.rns.toml"), "w") as f:
        f.write("# Sweeps carry no timing: the stimulation rate of the train.\nrate_hz = 3.0\n")

    scipy.io.savemat(
        os.path.join(OUT, "sweeps_rows.mat"),
        {"data": sw.T.copy(), "fs": float(FS)},
        do_compression=True,
    )
    v5(
        "sweeps_rows.mat",
        {
            "format": "mat_v5",
            "channels": [{"label": "data", "unit": "", "samples": sw.size}],
            "sample_rate_hz": FS,
            "sweeps": 6,
            "sweep_samples": 250,
            "pre_stimulus_samples": 50,
        },
    )
    with open(os.path.join(OUT, "sweeps_rows.mat.rns.toml"), "w") as f:
        f.write(
            "# 6 sweeps x 350 samples without a time vector.\n"
            'rate_hz = 3.0\nlayout = "sweeps"\n\n[mat]\ntime_dim = 2\npre_stimulus_ms = 5.0\n'
        )

    n = 8000
    emg = x[:n].astype(np.float32) * np.float32(1e-3)
    trig = np.zeros(n, dtype=np.float32)
    for s in stimuli:
        i = int(round(s * FS))
        if i < n:
            trig[i : i + 10] = 5.0
    data = np.stack([emg, emg * np.float32(0.5), trig], axis=1)
    labels = np.empty((1, 3), dtype=object)
    labels[0, :] = ["EMG ADM", "EMG APB", "Trig"]
    scipy.io.savemat(
        os.path.join(OUT, "channels.mat"),
        {"data": data, "labels": labels, "fs": float(FS), "units": "mV"},
        do_compression=True,
    )
    v5(
        "channels.mat",
        {
            "format": "mat_v5",
            "channels": [
                {"label": "EMG ADM", "unit": "mV", "samples": n},
                {"label": "EMG APB", "unit": "mV", "samples": n},
                {"label": "Trig", "unit": "mV", "samples": n},
            ],
            "sample_rate_hz": FS,
            "stimuli_s": [s for s in stimuli if s * FS < n],
        },
    )

    rng = np.random.default_rng(7)
    scipy.io.savemat(
        os.path.join(OUT, "unnamed.mat"),
        {
            "foo": rng.normal(0, 0.01, (1, 100)),
            "bar": rng.normal(0, 0.01, (1, 100)),
            "fs": float(FS),
        },
    )
    v5(
        "unnamed.mat",
        {
            "format": "mat_v5",
            "error": "no variable is named as the signal: set [mat] signal = \"…\" in the "
            "sidecar; numeric variables: bar (1×100 double), foo (1×100 double), fs (1×1 double)",
        },
    )

    m = int(1.0 * FS)
    rec = {
        "x1": x[:m].reshape(-1, 1),
        "fs": float(FS),
        "units": "uV",
        "st": np.array(stimuli[:2]).reshape(1, -1),
    }
    # hdf5storage 0.2.2 (with numpy 2) fails on an existing file: start afresh.
    if os.path.exists(os.path.join(OUT, "nested_v73.mat")):
        os.remove(os.path.join(OUT, "nested_v73.mat"))
    hdf5storage.savemat(
        os.path.join(OUT, "nested_v73.mat"),
        {"rec": rec},
        format="7.3",
        matlab_compatible=True,
        store_python_metadata=False,
    )
    fix_header(
        "nested_v73.mat",
        b"MATLAB 7.3 MAT-file, Platform: hdf5storage 0.2.2, HDF5 schema 1.00 .",
    )
    v73(
        "nested_v73.mat",
        {
            "format": "mat_v7_3",
            "channels": [{"label": "rec.x1", "unit": "uV", "samples": m}],
            "sample_rate_hz": FS,
            "stimuli_s": stimuli[:2],
        },
    )
    with open(os.path.join(OUT, "nested_v73.mat.rns.toml"), "w") as f:
        f.write('[mat]\nsignal = "rec.x1"\nstimuli = "rec.st"\n')

    labchart(x, stimuli)
    hostile(x)
    fuzz_seeds()


# ---------------------------------------------------------------------------
# LabChart's MATLAB export


def char_matrix(rows):
    """A MATLAB char matrix: the rows padded with blanks to one width."""
    w = max(len(r) for r in rows)
    return np.array([r.ljust(w) for r in rows])


def labchart(x, stimuli):
    for name, blocks, placed in [
        ("labchart.mat", [(0.0, 2.6), (8.6, 11.0)], True),
        ("labchart_unplaced.mat", [(0.3, 1.3), (8.8, 9.8)], False),
    ]:
        variables = labchart_variables(x, stimuli, blocks, placed)
        scipy.io.savemat(os.path.join(OUT, name), variables, do_compression=True)
        fix_header(name)
        write_meta(name, labchart_meta(name))


def labchart_variables(x, stimuli, blocks, placed):
    emg_mv = x.astype(np.float32) * np.float32(1e-3)
    stim = np.zeros(len(x), np.float32)
    for t in stimuli:
        i = int(round(t * FS))
        stim[i : i + 2] = 5.0
    force = (np.arange(len(x) // 10, dtype=np.float32) % 100) * np.float32(0.01)
    chans = [("EMG ADM", "mV", FS), ("Stim", "V", FS), ("Force", "N", 1000)]
    data, start, end = [], np.zeros((3, 2)), np.zeros((3, 2))
    n = 0
    for b, (t0, t1) in enumerate(blocks):
        for c, (sig, rate) in enumerate([(emg_mv, FS), (stim, FS), (force, 1000)]):
            part = sig[int(round(t0 * rate)) : int(round(t1 * rate))]
            start[c, b], end[c, b] = n + 1, n + len(part)
            n += len(part)
            data.append(part)
    day0 = 739954.0 + 10.25 / 24  # 2026-12-03 10:15, a MATLAB date number
    base = {
        "data": np.concatenate(data).reshape(1, -1),
        "datastart": start,
        "dataend": end,
        "samplerate": np.array([[FS, FS], [FS, FS], [1000.0, 1000.0]]),
        "titles": char_matrix([c[0] for c in chans]),
        "unittext": char_matrix([c[1] for c in chans]),
        "unittextmap": np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]),
        "tickrate": np.array([[FS, FS]], dtype=float),
        "firstsampleoffset": np.zeros((3, 2)),
        "rangemin": np.array([[-10.0, -10.0], [-10.0, -10.0], [-5.0, -5.0]]),
        "rangemax": np.array([[10.0, 10.0], [10.0, 10.0], [5.0, 5.0]]),
        # channel (-1: all), block, tick position, type, comtext index
        "com": np.array([[-1, 1, 0, 1, 1], [-1, 2, 3000, 1, 2]], dtype=float),
        "comtext": char_matrix(["baseline", "post exercise"]),
    }
    if placed:
        t = [day0 + (t0 - blocks[0][0]) / 86400 for t0, _ in blocks]
        base["blocktimes"] = np.array([t])
    return base


def labchart_meta(name):
    """The export read back with scipy.io.loadmat and the layout's rules in
    NumPy: each channel's samples per block, the block start times, the
    comments' times."""
    m = scipy.io.loadmat(os.path.join(OUT, name))
    data = m["data"].ravel()
    titles = [t.strip() for t in m["titles"]]
    units = [u.strip() for u in m["unittext"]]
    rate = m["samplerate"]
    starts = m["datastart"].astype(int) - 1
    ends = m["dataend"].astype(int)
    nb = starts.shape[1]
    if "blocktimes" in m:
        bt = m["blocktimes"].ravel()
        block_s = [float((bt[b] - bt[0]) * 86400) for b in range(nb)]
    else:
        block_s = None
    channels = []
    for c, title in enumerate(titles):
        parts = [data[starts[c, b] : ends[c, b]] for b in range(nb)]
        channels.append(
            {
                "label": title,
                "unit": units[int(m["unittextmap"][c, 0]) - 1],
                "sample_rate_hz": float(rate[c, 0]),
                "samples": int(sum(len(p) for p in parts)),
                "block_samples": [len(p) for p in parts],
                "head": [float(v) for v in parts[0][:16]],
                "block2_head": [float(v) for v in parts[1][:16]],
                "sum": float(np.sum([np.sum(p, dtype=np.float64) for p in parts])),
            }
        )
    tick = m["tickrate"].ravel()
    comtext = [t.strip() for t in m["comtext"]]
    emg_block_s = block_s or [0.0, channels[0]["block_samples"][0] / float(rate[0, 0])]
    comments = [
        {
            "text": comtext[int(r[4]) - 1],
            "onset_s": emg_block_s[int(r[1]) - 1] + float(r[2]) / float(tick[int(r[1]) - 1]),
        }
        for r in m["com"]
    ]
    return {
        "read_by": f"scipy {scipy.__version__} scipy.io.loadmat + NumPy {np.__version__}",
        "layout": "LabChart MATLAB export",
        "block_start_s": block_s,
        "channels": channels,
        "comments": comments,
        "expect": {"format": "mat_v5", "twin": "session.wav"},
    }


# ---------------------------------------------------------------------------
# Hostile files


def tag(dtype, payload):
    pad = (-len(payload)) % 8
    return struct.pack("<II", dtype, len(payload)) + payload + b"\0" * pad


def header(text=b"MATLAB 5.0 MAT-file, hostile fixture"):
    return text.ljust(116, b" ") + b"\0" * 8 + struct.pack("<H", 0x0100) + b"IM"


def matrix(name, dims, cls=6, data=b"", data_type=9, declared=None):
    flags = tag(6, struct.pack("<II", cls, 0))
    dim = tag(5, b"".join(struct.pack("<i", d) for d in dims))
    nm = tag(1, name)
    if declared is None:
        body = tag(data_type, data)
    else:
        body = struct.pack("<II", data_type, declared) + data
    payload = flags + dim + nm + body
    return struct.pack("<II", 14, len(payload)) + payload


def hostile(x):
    cases = {}

    def write(name, data, error):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        cases[name] = error
        write_meta(name, {"read_by": "hand-packed", "expect": {"error": error}})

    with open(os.path.join(OUT, "spike2.mat"), "rb") as f:
        spike2 = f.read()
    write("hostile_truncated.mat", spike2[:4000], "truncated file: the variable at byte 128")
    # The same cut, its tag patched to end with the file: the inflater runs dry.
    cut = bytearray(spike2[:4000])
    cut[132:136] = struct.pack("<I", len(cut) - 136)
    write("hostile_inflate_cut.mat", bytes(cut), "compressed variable session_Ch1")
    # A 2^31-1 x 2^31-1 double whose data is 16 bytes.
    write(
        "hostile_dims.mat",
        header() + matrix(b"emg", [0x7FFFFFFF, 0x7FFFFFFF], data=b"\0" * 16),
        "elements of one array (variable emg)",
    )
    # A data element that declares 1 GB in a 200-byte file.
    write(
        "hostile_declared.mat",
        header() + matrix(b"emg", [1, 1 << 27], data=b"\0" * 16, declared=1 << 30),
        "declares 1073741824 bytes where its array holds 16",
    )
    # 4 MB of zeros compressed to 4 KB, declared as a 4-element array.
    bomb = matrix(b"emg", [1, 4], data=b"\0" * (4 << 20))
    z = zlib.compress(bomb, 9)
    write(
        "hostile_bomb.mat",
        header() + struct.pack("<II", 15, len(z)) + z,
        "holds 4194304 bytes of 8-byte values (expected 32)",
    )
    # The signal is text, not numbers.
    txt = "not a signal".encode("utf-16-le")
    write(
        "hostile_char_signal.mat",
        header() + matrix(b"emg", [1, 12], cls=4, data=txt, data_type=4),
        "variable emg is text (a char array), not numbers",
    )
    # The v7.3 file cut short.
    with open(os.path.join(OUT, "nested_v73.mat"), "rb") as f:
        v73 = f.read()
    write("hostile_v73_truncated.mat", v73[:3000], "HDF5: ")
    # A v7.3 header over garbage.
    write("hostile_v73_garbage.mat", v73[:512] + b"\x89HDF\r\n\x1a\n" + b"\xff" * 600, "HDF5: ")


def fuzz_seeds():
    """Seed inputs for the `mat` fuzz target, replayed by cargo test
    (tests/integration/fuzz_replay.rs): cuts of the fixtures and
    hand-packed nestings the fixtures do not have."""
    seeds = os.path.join(ROOT, "tests", "fuzz_regressions", "mat")
    os.makedirs(seeds, exist_ok=True)

    def put(name, data):
        with open(os.path.join(seeds, name), "wb") as f:
            f.write(data)

    for name, n in [("sweeps_rows.mat", 2000), ("nested_v73.mat", 4096)]:
        with open(os.path.join(OUT, name), "rb") as f:
            put(name.replace(".mat", "_head.mat"), f.read(n))

    def struct_el(name, field, inner, width=32):
        # A 1 x 1 struct with one field holding `inner` (an miMATRIX element).
        flags = tag(6, struct.pack("<II", 2, 0))
        dim = tag(5, struct.pack("<ii", 1, 1))
        nm = tag(1, name)
        fl = struct.pack("<HH", 5, 4) + struct.pack("<i", width)
        names = tag(1, field.ljust(width, b"\0"))
        payload = flags + dim + nm + fl + names + inner
        return struct.pack("<II", 14, len(payload)) + payload

    # Structs nested 40 deep around an emg vector (beyond the depth limit).
    inner = matrix(b"", [1, 4], data=struct.pack("<4d", 1, 2, 3, 4))
    for _ in range(40):
        inner = struct_el(b"", b"emg", inner)
    put("deep_structs.mat", header() + inner)
    # A cell that declares 2^31-1 items and holds none.
    flags = tag(6, struct.pack("<II", 1, 0))
    payload = flags + tag(5, struct.pack("<ii", 1, 0x7FFFFFFF)) + tag(1, b"emg")
    put("huge_cell.mat", header() + struct.pack("<II", 14, len(payload)) + payload)
    # A struct whose field names are 0 bytes wide.
    put("zero_width_fields.mat", header() + struct_el(b"rec", b"", inner[:0], width=0))
    # A big-endian file (MI) with a signal and fs.
    be = header()[:124] + struct.pack(">H", 0x0100) + b"MI"
    def be_matrix(name, dims, values):
        flags = struct.pack(">II", 6, 8) + struct.pack(">II", 6, 0)
        dim = struct.pack(">II", 5, 4 * len(dims)) + b"".join(struct.pack(">i", d) for d in dims)
        dim += b"\0" * ((-len(dim)) % 8)
        nm = struct.pack(">II", 1, len(name)) + name + b"\0" * ((-len(name)) % 8)
        data = struct.pack(">II", 9, 8 * len(values)) + b"".join(struct.pack(">d", v) for v in values)
        payload = flags + dim + nm + data
        return struct.pack(">II", 14, len(payload)) + payload
    sig = [((i * 37) % 200 - 100) / 1000.0 for i in range(400)]
    put("big_endian.mat", be + be_matrix(b"emg", [1, 400], sig) + be_matrix(b"fs", [1, 1], [10000.0]))


if __name__ == "__main__":
    main()
