#!/usr/bin/python3
"""Write the CED Signal (CFS) test fixtures in tests/fixtures/cfs/ and a
<file>.meta.json beside each from an independent reader, BioSig.

Usage (from the repository root; Debian's python3, which has BioSig):

    apt-get install python3-biosig python3-numpy   # biosig 2.5.0 (Debian 12) was used
    /usr/bin/python3 scripts/make-cfs-fixtures.py

No writer of CFS files is packaged for Python or Debian (CED's own CFS library
is distributed by CED only), so:
- `simplew.cfs` is a real file written by CED's CFS library (its example
  program: "Demonstration of C version", 2 interleaved INT2 channels, 3 data
  sections of 256 points at 100 Hz), taken unchanged from
  github.com/m0ose01/pythonCFS, tests/test_data/test_file.cfs (commit
  d1243ab, MIT License, (c) 2024 Séamus O'Sullivan). It grounds the layout.
- `session_sweeps.cfs` is written by `pack_cfs` below, a direct packing of
  the CFS file structure of CED's CFS manual (general header, channel and
  variable descriptions, file variables, data sections with their headers
  and variables, pointer table), laid out as `simplew.cfs` is. It holds the
  project's synthetic session (`cargo run --release --example
  export_session`): one 40 ms frame per stimulus, 5 ms of it before the
  stimulus (x offset -0.005 s), 10 kHz, "EMG ADM" in mV with 1 µV steps, an
  "Aux" channel holding a 5 V pulse at each stimulus (not named as a trigger:
  the analysis would take a trigger channel's edges, with their timing, over
  the sweeps), a frame variable "State" (the train, 1-3) and a file variable.

BioSig (python3-biosig's header() and data()) reads every fixture for the
meta: channel labels, units, rates, sample counts, the sweep count, the
segment boundaries it reports as events, and the first 32 values of each
channel. The hostile files are corrupted copies of session_sweeps.cfs.
"""

import json
import os
import struct
import subprocess
import sys
import tempfile

import biosig
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "cfs")
MALFORMED = os.path.join(ROOT, "tests", "malformed")
FUZZ = os.path.join(ROOT, "tests", "fuzz_regressions", "cfs")
REAL = os.path.join(OUT, "simplew.cfs")  # committed as it is; never rewritten

GENERAL, CHANNEL, VARIABLE, DS_GENERAL, DS_CHANNEL = 178, 48, 36, 30, 24
INT2 = 2


def pstr(s, width):
    b = s.encode("latin-1")
    assert len(b) < width, s
    return bytes([len(b)]) + b + b"\0" * (width - 1 - len(b))


def pack_cfs(name, comment, channels, frames, file_vars, ds_var_names):
    """channels: dicts name, y_units, x_units; every channel INT2,
    interleaved. frames: dicts points, y_scale, y_offset, x_inc, x_off
    (per channel lists), data (points × channels int16 array), vars (INT2
    values) and flags. file_vars: (name, units, INT2 value)."""
    nch = len(channels)
    nfv, ndsv = len(file_vars), len(ds_var_names)
    ndesc = nfv + ndsv + 2
    header_size = GENERAL + nch * CHANNEL + ndesc * VARIABLE + 2 * nfv
    ds_size = DS_GENERAL + nch * DS_CHANNEL + 2 * ndsv
    body = bytearray()
    for c in channels:
        body += pstr(c["name"], 22) + pstr(c["y_units"], 10) + pstr(c["x_units"], 10)
        body += struct.pack("<BBhh", INT2, 0, 2 * nch, 0)
    descs = [(n, INT2, u, 2 * i) for i, (n, u, _) in enumerate(file_vars)]
    descs.append(("", 0, "", 2 * nfv))  # the system description: the area's size
    descs += [(n, INT2, "", 2 * i) for i, n in enumerate(ds_var_names)]
    descs.append(("", 0, "", 2 * ndsv))
    for n, t, u, off in descs:
        body += pstr(n, 22) + struct.pack("<H", t) + pstr(u, 10) + struct.pack("<h", off)
    for _, _, v in file_vars:
        body += struct.pack("<h", v)
    out = bytearray(GENERAL) + body
    assert len(out) == header_size
    offsets, previous = [], 0
    for f in frames:
        data = np.asarray(f["data"], dtype="<i2").tobytes()
        data_at = len(out)
        out += data
        ds_at = len(out)
        out += struct.pack("<iiiH", previous, data_at, len(data), f["flags"]) + b"\0" * 16
        for c in range(nch):
            out += struct.pack("<ii", 2 * c, f["points"])
            out += struct.pack("<ffff", f["y_scale"][c], f["y_offset"][c], f["x_inc"][c], f["x_off"][c])
        for v in f["vars"]:
            out += struct.pack("<h", v)
        assert len(out) - ds_at == ds_size
        offsets.append(ds_at)
        previous = ds_at
    table = len(out)
    for o in offsets:
        out += struct.pack("<i", o)
    g = b'CEDFILE"' + pstr(name, 14) + struct.pack("<i", len(out)) + b"10:00:0002/01/24"
    g += struct.pack("<hhhhhiHH", nch, nfv, ndsv, header_size, ds_size, offsets[-1], len(frames), 1)
    g += pstr(comment, 74) + struct.pack("<i", table) + b"\0" * 40
    assert len(g) == GENERAL
    out[:GENERAL] = g
    return bytes(out)


def meta_biosig(path):
    h = json.loads(biosig.header(path))
    d = biosig.data(path)
    return {
        "read_by": "BioSig (python3-biosig) header() and data()",
        "sweeps": h["NumberOfSweeps"],
        "samples": h["NumberOfSamples"],
        "sample_rate_hz": h["Samplingrate"],
        "channels": [
            {"label": c["Label"], "unit": c["PhysicalUnit"], "sample_rate_hz": c["Samplingrate"],
             "scaling": c["scaling"], "offset": c["offset"]}
            for c in h["CHANNEL"]
        ],
        "segment_starts_s": [e["POS"] for e in h.get("EVENT", []) if e["TYP"] == "0x7ffe"],
        "samples_head": [[float(v) for v in d[:32, i]] for i in range(d.shape[1])],
    }


def write_meta(name, meta):
    with open(os.path.join(OUT, name + ".meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1, ensure_ascii=False)
        f.write("\n")


def session(tmp):
    with open(os.path.join(tmp, "session.json"), encoding="utf-8") as f:
        info = json.load(f)
    x_mv = np.fromfile(os.path.join(tmp, "session.f32"), dtype="<f4").astype(np.float64)
    rate = info["sample_rate_hz"]
    pre, n = 50, 400  # 5 ms before the stimulus, 40 ms frames
    frames, starts, train_of = [], [], []
    # Which train each stimulus belongs to: trains are separated by > 0.5 s (the 3 Hz stimuli by 0.33 s).
    k = 0
    stims = info["stimuli_s"]
    for i, t in enumerate(stims):
        if i and t - stims[i - 1] > 0.5:
            k += 1
        train_of.append(k + 1)
    for t, train in zip(stims, train_of):
        i0 = int(round(t * rate))
        emg = np.round(x_mv[i0 - pre:i0 - pre + n] * 1000.0)  # 1 µV steps
        stim = np.zeros(n)
        stim[pre:pre + 2] = 5000  # 5 V in mV steps
        frames.append({
            "points": n, "y_scale": [0.001, 0.001], "y_offset": [0.0, 0.0],
            "x_inc": [1.0 / rate] * 2, "x_off": [-pre / rate] * 2,
            "data": np.column_stack([emg, stim]).astype(np.int16), "vars": [train],
            "flags": 0,
        })
        starts.append(t)
    data = pack_cfs(
        "SESSION.CFS", "rns-analyzer session fixture",
        [{"name": "EMG ADM", "y_units": "mV", "x_units": "s"},
         {"name": "Aux", "y_units": "V", "x_units": "s"}],
        frames, [("Gain", "x", 1000)], ["State"],
    )
    with open(os.path.join(OUT, "session_sweeps.cfs"), "wb") as f:
        f.write(data)
    meta = {"written_by": "pack_cfs (scripts/make-cfs-fixtures.py)", **meta_biosig(os.path.join(OUT, "session_sweeps.cfs"))}
    meta["expect"] = {
        "format": "cfs", "frames": len(frames), "points": n, "pre_trigger_points": pre,
        "stimuli_s": stims, "states": train_of, "wav_twin": "../edf/session.wav",
        "twin_full_scale_mv": info["twin_full_scale_mv"],
    }
    write_meta("session_sweeps.cfs", meta)
    return data


def hostile(good):
    table = struct.unpack_from("<i", good, 134)[0]
    first_ds = struct.unpack_from("<i", good, table)[0]

    def put(b, at, fmt, v):
        b = bytearray(b)
        struct.pack_into(fmt, b, at, v)
        return bytes(b)

    cases = [
        ("hostile_channels.cfs", put(good, 42, "<h", 300), "channel count set to 300",
         "channels (300) exceeds the limit of 256"),
        ("hostile_truncated.cfs", good[:len(good) // 2], "cut in half (the pointer table is lost)",
         "lies beyond the"),
        ("hostile_points.cfs", put(good, first_ds + DS_GENERAL + 4, "<i", 100000),
         "frame 1's EMG point count set to 100000",
         "frame 1 100000 every"),
        ("hostile_header_size.cfs", put(good, 48, "<h", 100), "file header size set to 100 bytes",
         "file header size 100 bytes does not fit"),
    ]
    for name, data, corruption, message in cases:
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        write_meta(name, {"derived_from": "session_sweeps.cfs", "corruption": corruption,
                          "expected_error": message, "exit_code": 3})
    with open(os.path.join(MALFORMED, "cfs_truncated.cfs"), "wb") as f:
        f.write(good[:3000])
    with open(os.path.join(MALFORMED, "cfs_data_beyond_file.cfs"), "wb") as f:
        f.write(put(good, first_ds + 8, "<i", 10_000_000))
    os.makedirs(FUZZ, exist_ok=True)
    with open(os.path.join(FUZZ, "two_frames.cfs"), "wb") as f:
        # The first two frames of the session, as a small seed.
        f.write(small_seed())


def small_seed():
    frames = [{
        "points": 8, "y_scale": [0.001, 0.001], "y_offset": [0.0, 0.0], "x_inc": [1e-4] * 2,
        "x_off": [-2e-4] * 2, "data": np.arange(16).reshape(8, 2) * 100, "vars": [k], "flags": k,
    } for k in (1, 2)]
    return pack_cfs("SEED.CFS", "seed", [{"name": "EMG", "y_units": "mV", "x_units": "s"},
                                         {"name": "Trig", "y_units": "V", "x_units": "s"}],
                    frames, [("Gain", "", 1)], ["State"])


def main():
    os.makedirs(OUT, exist_ok=True)
    write_meta("simplew.cfs", {
        "origin": "github.com/m0ose01/pythonCFS tests/test_data/test_file.cfs (commit d1243ab), "
                  "MIT License, (c) 2024 Séamus O'Sullivan; written by CED's CFS library example program",
        **meta_biosig(os.path.join(OUT, "simplew.cfs")),
        "expect": {"format": "cfs", "frames": 3, "points": 256, "comment": "Demonstration of C version"},
    })
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["cargo", "run", "--quiet", "--release", "--example", "export_session", "--", tmp],
            cwd=ROOT, check=True,
        )
        good = session(tmp)
    hostile(good)
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"total {total} bytes in {OUT}")
    if total >= 300_000:
        sys.exit("fixtures exceed the size budget (300 KB in all)")


if __name__ == "__main__":
    main()
