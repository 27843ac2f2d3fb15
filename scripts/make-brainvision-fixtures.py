#!/usr/bin/env python3
"""Write the BrainVision test fixtures in tests/fixtures/brainvision/ with a
writer independent of the project (pybv), a <name>.vhdr.meta.json beside
each header from an independent reader (MNE-Python), the BrainVision cases
of the malformed corpus (tests/malformed/brainvision_*.vhdr) and the seed
inputs of the `brainvision` fuzz target (tests/fuzz_regressions/brainvision/).

Usage (from the repository root):

    pip install pybv mne                 # pybv 0.8.1, mne 1.13.2 were used
    python3 scripts/make-brainvision-fixtures.py

The script first runs `cargo run --release --example export_session -- DIR`,
which writes the project's synthetic session signal (raw little-endian f32 in
mV, with its stimulus times as JSON). The seeds are fixed, so the fixtures
are reproducible. The session's WAV twin is the EDF fixtures' one
(tests/fixtures/edf/session.wav, same signal, 1 µV steps): it is not copied.

Writers:
- pybv's write_brainvision writes the session (INT_16, multiplexed), the
  float file (IEEE_FLOAT_32, multiplexed) and the base of the ANSI file.
- pybv writes neither INT_32 nor VECTORIZED, so `vectorized.vhdr` is
  written by `write_vectorized` below: pybv's own header for the same
  channels with BinaryFormat=INT_32, DataOrientation=VECTORIZED and a
  DataPoints line, and the samples packed here channel after channel as
  little-endian int32 (a direct reading of the Core Data Format 1.0 spec).
- `ansi.vhdr` is pybv's header re-encoded as Windows-1252 with
  Codepage=ANSI (as BrainVision Recorder writes it), its µ a single 0xB5.
- The hostile headers are edits of the float file's header (they share its
  data and marker files, or name missing ones).

Reader for the meta files: mne.io.read_raw_brainvision (channel names,
sfreq, sample count, units as written, the first 32 values of each channel
in the file's unit, annotations with MNE's "Type/Description" texts, onsets
and durations in seconds); MNE reads INT_32 and VECTORIZED files too.

Fixtures (in all < 300 KB):
- session.vhdr     INT_16, 10 kHz, 13 s, 1 µV resolution, "EMG ADM": the
                   session of the EDF fixtures, Comment markers baseline,
                   exercise (5 s long), post exercise, post exercise 3 s,
                   and one Stimulus "S  1" marker per stimulus.
- float32.vhdr     IEEE_FLOAT_32, 5 kHz, 0.16 s: "EMG Abductor µ" (µV, a
                   sine), "Trig" (V, pulses), "Force" (N, not a voltage);
                   Stimulus, Response and Comment markers, one with a comma
                   (written "\\1" by this script: pybv leaves it bare).
- vectorized.vhdr  INT_32, VECTORIZED, 4 kHz, 0.125 s, two channels in mV and
                   µV with their own resolutions.
- ansi.vhdr        Codepage=ANSI, a Windows-1252 µ in a unit and a label.
- hostile_*.vhdr   broken headers; their meta gives the expected error.
"""

import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import mne
import numpy as np
import pybv

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "brainvision")
MALFORMED = os.path.join(ROOT, "tests", "malformed")
FUZZ = os.path.join(ROOT, "tests", "fuzz_regressions", "brainvision")
DATE = "20240102100000000000"


def meta_mne(vhdr):
    raw = mne.io.read_raw_brainvision(vhdr, preload=True, verbose="error")
    units = raw._orig_units
    data = raw.get_data()
    channels, heads = [], []
    for i, name in enumerate(raw.ch_names):
        unit = units[name]
        # MNE gives voltages in V and other units as stored: back to the file's unit.
        scale = {"V": 1.0, "mV": 1e3, "µV": 1e6, "uV": 1e6, "nV": 1e9}.get(unit, 1.0)
        channels.append({"label": name, "unit": unit, "samples": int(raw.n_times)})
        heads.append([float(v) * scale for v in data[i, :32]])
    annotations = [
        {"onset_s": float(a["onset"]), "duration_s": float(a["duration"]), "text": a["description"]}
        for a in raw.annotations
    ]
    return {
        "read_by": f"mne {mne.__version__} read_raw_brainvision",
        "sample_rate_hz": float(raw.info["sfreq"]),
        "channels": channels,
        "annotations": annotations,
        "samples_head": heads,
    }


def describe(name, written_by, expect=None):
    meta = {"written_by": written_by, **meta_mne(os.path.join(OUT, name))}
    if expect is not None:
        meta["expect"] = expect
    write_meta(name, meta)


def write_meta(name, meta):
    with open(os.path.join(OUT, name + ".meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1, ensure_ascii=False)
        f.write("\n")


def load_export(tmp, name):
    with open(os.path.join(tmp, name + ".json"), encoding="utf-8") as f:
        info = json.load(f)
    x = np.fromfile(os.path.join(tmp, name + ".f32"), dtype="<f4").astype(np.float64)
    assert len(x) == info["samples"]
    return info, x


def session(tmp):
    info, x_mv = load_export(tmp, "session")
    rate = info["sample_rate_hz"]
    s = lambda t: int(round(t * rate))  # noqa: E731
    events = [
        dict(onset=s(0.2), description="baseline", type="Comment"),
        dict(onset=s(3.0), duration=s(5.0), description="exercise", type="Comment"),
        dict(onset=s(8.8), description="post exercise", type="Comment"),
        dict(onset=s(11.1), description="post exercise 3 s", type="Comment"),
    ]
    events += [dict(onset=s(t), description=1, type="Stimulus") for t in info["stimuli_s"]]
    events.sort(key=lambda e: e["onset"])
    pybv.write_brainvision(
        data=(x_mv * 1e-3)[np.newaxis, :], sfreq=rate, ch_names=["EMG ADM"],
        fname_base="session", folder_out=OUT, overwrite=True, events=events,
        resolution=1.0, unit="µV", fmt="binary_int16", meas_date=DATE,
    )
    expect = {
        "format": "brainvision",
        "stimuli_s": [s(t) / rate for t in info["stimuli_s"]],
        "roles": ["baseline", "post_exercise", "post_exercise"],
        "wav_twin": "../edf/session.wav",
        "twin_full_scale_mv": info["twin_full_scale_mv"],
    }
    describe("session.vhdr", f"pybv {pybv.__version__} write_brainvision (binary_int16)", expect)


def float32():
    rate = 5000
    t = np.arange(800) / rate
    emg_uv = 800.0 * np.sin(2 * np.pi * 37.0 * t)
    trig_v = np.zeros_like(t)
    stims = [100, 400, 700]
    for i in stims:
        trig_v[i:i + 5] = 5.0
    force_n = 20.0 + 5.0 * t
    events = [
        dict(onset=i, description=1, type="Stimulus") for i in stims
    ] + [
        dict(onset=300, description=2, type="Response"),
        dict(onset=500, duration=150, description="rest, then exercise", type="Comment"),
    ]
    events.sort(key=lambda e: e["onset"])
    pybv.write_brainvision(
        data=np.vstack([emg_uv * 1e-6, trig_v, force_n]), sfreq=rate,
        ch_names=["EMG Abductor µ", "Trig", "Force"], fname_base="float32",
        folder_out=OUT, overwrite=True, events=events, resolution=[0.1, 1.0, 1.0],
        unit=["µV", "V", "N"], fmt="binary_float32", meas_date=DATE,
    )
    # pybv 0.8.1 writes the comma as it is, which breaks the marker's fields
    # (MNE then fails on it): encode it as the specification says, "\1".
    vmrk_path = os.path.join(OUT, "float32.vmrk")
    with open(vmrk_path, encoding="utf-8") as f:
        vmrk = f.read()
    assert "rest, then exercise" in vmrk
    with open(vmrk_path, "w", encoding="utf-8") as f:
        f.write(vmrk.replace("rest, then exercise", "rest\\1 then exercise"))
    expect = {"format": "brainvision", "stimuli_s": [i / rate for i in stims]}
    describe("float32.vhdr", f"pybv {pybv.__version__} write_brainvision (binary_float32)", expect)


def write_vectorized():
    rate = 4000
    n = 500
    t = np.arange(n) / rate
    a_mv = 2.0 * np.sin(2 * np.pi * 50.0 * t)
    b_uv = 300.0 * np.cos(2 * np.pi * 20.0 * t)
    res = [0.0005, 0.05]  # mV and µV per stored number
    with tempfile.TemporaryDirectory() as tmp:
        pybv.write_brainvision(
            data=np.vstack([a_mv * 1e-3, b_uv * 1e-6]), sfreq=rate, ch_names=["EMG FDI", "EMG APB"],
            fname_base="vectorized", folder_out=tmp, overwrite=True,
            events=[dict(onset=250, description=3, type="Stimulus")],
            resolution=res, unit=["mV", "µV"], fmt="binary_int16",
        )
        with open(os.path.join(tmp, "vectorized.vhdr"), encoding="utf-8") as f:
            hdr = f.read()
        shutil.copyfile(os.path.join(tmp, "vectorized.vmrk"), os.path.join(OUT, "vectorized.vmrk"))
    for old, new in [
        ("BinaryFormat=INT_16", "BinaryFormat=INT_32"),
        ("DataOrientation=MULTIPLEXED", "DataOrientation=VECTORIZED"),
        ("NumberOfChannels=2", f"NumberOfChannels=2\nDataPoints={n}"),
        ("; Data orientation: MULTIPLEXED=ch1,pt1, ch2,pt1 ...",
         "; Data orientation: VECTORIZED=ch1,pt1, ch1,pt2 ... (re-packed by make-brainvision-fixtures.py)"),
    ]:
        assert old in hdr, old
        hdr = hdr.replace(old, new)
    with open(os.path.join(OUT, "vectorized.vhdr"), "w", encoding="utf-8") as f:
        f.write(hdr)
    packed = b"".join(
        np.round(x / r).astype("<i4").tobytes() for x, r in [(a_mv, res[0]), (b_uv, res[1])]
    )
    with open(os.path.join(OUT, "vectorized.eeg"), "wb") as f:
        f.write(packed)
    describe(
        "vectorized.vhdr",
        "pybv header re-written to INT_32 VECTORIZED, samples packed by make-brainvision-fixtures.py",
        {"format": "brainvision", "stimuli_s": [250 / rate]},
    )


def ansi():
    rate = 2000
    t = np.arange(400) / rate
    pybv.write_brainvision(
        data=(100.0 * np.sin(2 * np.pi * 10.0 * t) * 1e-6)[np.newaxis, :], sfreq=rate,
        ch_names=["EMG µ"], fname_base="ansi", folder_out=OUT, overwrite=True,
        resolution=0.5, unit="µV", fmt="binary_int16",
    )
    path = os.path.join(OUT, "ansi.vhdr")
    with open(path, encoding="utf-8") as f:
        hdr = f.read()
    hdr = hdr.replace("Codepage=UTF-8", "Codepage=ANSI")
    with open(path, "wb") as f:
        f.write(hdr.encode("cp1252"))
    # Without markers: a marker file is optional.
    describe("ansi.vhdr", "pybv write_brainvision (binary_int16), header re-encoded as Windows-1252",
             {"format": "brainvision"})


def hostile():
    with open(os.path.join(OUT, "float32.vhdr"), encoding="utf-8") as f:
        good = f.read()
    cases = [
        ("hostile_channels.vhdr", [("NumberOfChannels=3", "NumberOfChannels=100000")],
         "NumberOfChannels set to 100000", "channels (100000) exceeds the limit of 256"),
        ("hostile_outside.vhdr", [("DataFile=float32.eeg", "DataFile=../edf/two_rates.edf")],
         "DataFile names a file in the folder above",
         "DataFile=\"../edf/two_rates.edf\" is refused: the header may only name a file in its own folder"),
        ("hostile_missing.vhdr", [("DataFile=float32.eeg", "DataFile=gone.eeg")],
         "DataFile names a file that does not exist",
         "data file \"gone.eeg\" (DataFile in the header) cannot be read"),
        ("hostile_format.vhdr", [("BinaryFormat=IEEE_FLOAT_32", "BinaryFormat=IEEE_FLOAT_64")],
         "BinaryFormat set to IEEE_FLOAT_64",
         "BinaryFormat=\"IEEE_FLOAT_64\" is not read"),
        ("hostile_interval.vhdr", [("SamplingInterval=200.0", "SamplingInterval=-1")],
         "SamplingInterval set to -1",
         "SamplingInterval=\"-1\" is not a positive number of microseconds"),
        ("hostile_vectorized.vhdr", [("DataOrientation=MULTIPLEXED", "DataOrientation=VECTORIZED"),
                                     ("NumberOfChannels=3", "NumberOfChannels=3\nDataPoints=801")],
         "declared VECTORIZED with one data point more than the data file holds",
         "needs 9612 bytes, the file holds 9600"),
        ("hostile_marker.vhdr", [("MarkerFile=float32.vmrk", "MarkerFile=hostile_marker.vmrk")],
         "its marker file has a marker whose position is not a number",
         "marker Mk2: position \"1O1\" is not a whole number"),
    ]
    with open(os.path.join(OUT, "float32.vmrk"), encoding="utf-8") as f:
        vmrk = f.read()
    assert "Mk2=Stimulus,S  1,101," in vmrk
    with open(os.path.join(OUT, "hostile_marker.vmrk"), "w", encoding="utf-8") as f:
        f.write(vmrk.replace("Mk2=Stimulus,S  1,101,", "Mk2=Stimulus,S  1,1O1,"))
    for name, edits, corruption, message in cases:
        text = good
        for old, new in edits:
            assert old in text, (name, old)
            text = text.replace(old, new)
        with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
            f.write(text)
        write_meta(name, {"derived_from": "float32.vhdr", "corruption": corruption,
                          "expected_error": message, "exit_code": 3})
    return good


def malformed(good):
    """Self-contained broken headers for tests/malformed (they fail before
    any data file is opened, or name one that is absent)."""
    cases = {
        "brainvision_channels_100000.vhdr": [("NumberOfChannels=3", "NumberOfChannels=100000")],
        "brainvision_data_outside_folder.vhdr": [("DataFile=float32.eeg", "DataFile=../fixtures/edf/two_rates.edf")],
        "brainvision_missing_data_file.vhdr": [("DataFile=float32.eeg", "DataFile=brainvision_missing.eeg")],
        "brainvision_ascii_data.vhdr": [("DataFormat=BINARY", "DataFormat=ASCII")],
        "brainvision_no_channel_infos.vhdr": [("Ch2=Trig", "Cx2=Trig")],
    }
    for name, edits in cases.items():
        text = good
        for old, new in edits:
            assert old in text, (name, old)
            text = text.replace(old, new)
        with open(os.path.join(MALFORMED, name), "w", encoding="utf-8") as f:
            f.write(text)


def pack(header, markers, data):
    """The `brainvision` fuzz target's input: u16 header length, u16 marker
    length (0xFFFF: no marker file), header, markers, data."""
    m = b"" if markers is None else markers
    return struct.pack("<HH", len(header), 0xFFFF if markers is None else len(m)) + header + m + data


def fuzz_seeds():
    os.makedirs(FUZZ, exist_ok=True)
    rd = lambda n: open(os.path.join(OUT, n), "rb").read()  # noqa: E731
    seeds = {
        "float32_head": pack(rd("float32.vhdr"), rd("float32.vmrk"), rd("float32.eeg")[:1200]),
        "vectorized": pack(rd("vectorized.vhdr"), rd("vectorized.vmrk"), rd("vectorized.eeg")),
        "ansi": pack(rd("ansi.vhdr"), None, rd("ansi.eeg")),
        "hostile_marker": pack(rd("hostile_marker.vhdr"), rd("hostile_marker.vmrk"), rd("float32.eeg")[:240]),
    }
    for name, data in seeds.items():
        with open(os.path.join(FUZZ, name), "wb") as f:
            f.write(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["cargo", "run", "--quiet", "--release", "--example", "export_session", "--", tmp],
            cwd=ROOT, check=True,
        )
        session(tmp)
    float32()
    write_vectorized()
    ansi()
    good = hostile()
    malformed(good)
    fuzz_seeds()
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"total {total} bytes in {OUT}")
    if total >= 300_000:
        sys.exit("fixtures exceed the size budget (300 KB in all)")


if __name__ == "__main__":
    main()
