#!/usr/bin/env python3
"""Write the ADInstruments LabChart (.adicht) test fixtures in
tests/fixtures/adicht/, a <file>.meta.json beside each from an independent
reader, the LabChart cases of the malformed corpus (tests/malformed/adicht_*)
and the seed inputs of the `adicht` fuzz target (tests/fuzz_regressions/adicht/).

Usage (from the repository root):

    python3 -m venv /tmp/adivenv
    /tmp/adivenv/bin/pip install adichtion==1.0.0 numpy   # numpy 2.x was used
    /tmp/adivenv/bin/python scripts/make-adicht-fixtures.py

No real .adicht file could be found under an open licence, so every fixture
is a synthetic file written by adichtion 1.0.0 (https://pypi.org/project/adichtion/,
by Emil Ingerslev Walsted, GPL-3.0-or-later), used here as a tool only:
- its synthetic writer `adichtion.synth.write_synthetic` writes the files (the
  v29 and v26 flavours of the format, the "sequential" layout LabChart uses;
  optionally with the streams laid out in fragmented cluster chains);
- its reader `adichtion.AdichtFile` (verified by its author against
  LabChart's own exports of 13 real files) reads them back for the meta:
  format version, channel titles, data types, value units, sample rates,
  samples per record, record start times, comments with their record, tick,
  channel and time, and per record and channel the first 32 values, the
  first 32 of the second block (tick 16000), the last 32, the sum, minimum and
  maximum of all values, in the channel's units.
No adichtion code is copied into this repository; its writer's output (the
files) is the test data.

Fixtures (all < 300 KB together):
- session.adicht  v29, 10 kHz tick rate, one record, one int16 channel "EMG ADM"
                  with a 1 µV step (input range 32 mV: LSB = 0.032 × 1.024 /
                  32768 V) and a units conversion V → µV (slope 1e6): the
                  project's synthetic session (tests/fixtures/edf/session.wav,
                  1 µV steps, full scale 32.768 mV, its WAV twin), with
                  comments "baseline", "exercise", "exercise end", "post
                  exercise", "post exercise 3 s" and a "stim" per stimulus
                  (the stimulus times of tests/fixtures/brainvision/session.vhdr.meta.json).
- multi.adicht    v29 with fragmented cluster chains, 4 kHz, two records (the
                  second 30 s after the first), "EMG APB" (int16, 200 mV range,
                  V), "Stim" (int16 trigger pulses), "Force" (float32 with a
                  units conversion to N and one unpacked block), comments on all
                  channels and on one channel.
- v26.adicht      the v26 flavour (1 KB clusters), 4 kHz, "EMG" int16 in mV
                  (conversion V → mV) and "RMS" float32, a comment.
- slow.adicht     v29 at 1 kHz (LabChart's default rate): read by `inspect`,
                  refused by the analysis.
- small.adicht     v29, 4 kHz, one int16 channel, one block, a "stim" comment:
                  the base of the hostile files.
- hostile_*.adicht corrupted copies of small.adicht; their meta names the error.
"""

import json
import os
import struct
import sys
import wave

import numpy as np

import adichtion
from adichtion.synth import SynthChannel, SynthRecord, write_synthetic

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "adicht")
MALFORMED = os.path.join(ROOT, "tests", "malformed")
FUZZ = os.path.join(ROOT, "tests", "fuzz_regressions", "adicht")
WRITER = f"adichtion {adichtion.__version__} adichtion.synth.write_synthetic"
START = 1_700_000_000.0


def meta_of(path, expect=None):
    f = adichtion.AdichtFile(path)
    records = []
    for r in f.records:
        chans = []
        for i, c in enumerate(f.channels):
            values = np.asarray(r.read(i), dtype=np.float64)
            chans.append({
                "samples": int(r.n_samples(i)),
                "sample_rate_hz": float(r.sample_rate_hz(i)),
                "unit": r.value_label(i),
                "head": [float(v) for v in values[:32]],
                "block_1_head": [float(v) for v in values[16000:16032]],
                "tail": [float(v) for v in values[-32:]],
                "sum": float(values.sum()),
                "min": float(values.min()) if len(values) else None,
                "max": float(values.max()) if len(values) else None,
            })
        records.append({
            "tick_rate_hz": float(r.tick_rate_hz),
            "ticks": int(r.ticks),
            "start_utc_s": r.start_utc.timestamp(),
            "channels": chans,
            "comments": [
                {"tick": int(c.tick), "channel": int(c.channel), "text": c.text,
                 "time_s": c.tick / r.tick_rate_hz}
                for c in r.comments
            ],
        })
    meta = {
        "written_by": WRITER,
        "read_by": f"adichtion {adichtion.__version__} AdichtFile",
        "format_version": int(f.format_version),
        "channels": [{"label": c.title, "dtype": c.dtype} for c in f.channels],
        "records": records,
    }
    if expect is not None:
        meta["expect"] = expect
    f.close()
    return meta


def write_meta(name, meta):
    with open(os.path.join(OUT, name + ".meta.json"), "w", encoding="utf-8") as fh:
        json.dump(meta, fh, indent=1, ensure_ascii=False)
        fh.write("\n")


def describe(name, expect=None):
    write_meta(name, meta_of(os.path.join(OUT, name), expect))


def session():
    with wave.open(os.path.join(ROOT, "tests", "fixtures", "edf", "session.wav")) as w:
        rate = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int64)
    bv = json.load(open(os.path.join(ROOT, "tests", "fixtures", "brainvision",
                                     "session.vhdr.meta.json"), encoding="utf-8"))
    stimuli = bv["expect"]["stimuli_s"]
    s = lambda t: int(round(t * rate))  # noqa: E731
    comments = [(s(0.2), -1, "baseline"), (s(3.0), -1, "exercise"),
                (s(8.0), -1, "exercise end"), (s(8.8), -1, "post exercise"),
                (s(11.1), -1, "post exercise 3 s")]
    comments += [(s(t), -1, "stim") for t in stimuli]
    comments.sort()
    emg = SynthChannel("EMG ADM", "int16", ("µV", 1e6, 0.0), range_volts=0.032)
    r = SynthRecord(len(x), start_utc=START, utc_offset_s=3600.0, comments=comments)
    r.data = {0: x}
    write_synthetic(os.path.join(OUT, "session.adicht"), [emg], [r], tick_rate=rate,
                    cluster_size=1024, version=29)
    describe("session.adicht", {
        "stimuli_s": [s(t) / rate for t in stimuli],
        "roles": ["baseline", "post_exercise", "post_exercise"],
        "exercise_s": [3.0, 8.0],
        "wav_twin": "../edf/session.wav",
        "twin_full_scale_mv": bv["expect"]["twin_full_scale_mv"],
    })


def multi():
    rate = 4000
    chans = [
        SynthChannel("EMG APB", "int16", None, range_volts=0.2),
        SynthChannel("Stim", "int16", None, range_volts=10.0),
        SynthChannel("Force", "float32", ("N", 2.0, 0.5), unpacked_blocks=[(0, 1)]),
    ]
    records = []
    for k, (ticks, comments) in enumerate((
            (17000, [(100, -1, "baseline"), (16010, 0, "APB electrode moved")]),
            (4000, [(2000, -1, "stim"), (3999, 2, "end")]))):
        t = np.arange(ticks) / rate
        emg = np.round(3000 * np.sin(2 * np.pi * 7 * t + k) * np.exp(-t)).astype(np.int64)
        stim = np.zeros(ticks, dtype=np.int64)
        for i in range(400, ticks, 4000):
            stim[i:i + 8] = 16000
        # Steps (they pack small), and a slope in the block stored unpacked.
        force = (12.5 + 0.75 * np.floor(t * 2)).astype(np.float32)
        force[16000:] += (0.001 * np.arange(ticks - 16000)).astype(np.float32)
        r = SynthRecord(ticks, start_utc=START + 30.0 * k, utc_offset_s=0.0, comments=comments)
        r.data = {0: emg, 1: stim, 2: force}
        records.append(r)
    write_synthetic(os.path.join(OUT, "multi.adicht"), chans, records, tick_rate=rate,
                    cluster_size=1024, version=29, fragment=True)
    describe("multi.adicht", {"segment_starts_s": [0.0, 30.0]})


def v26():
    rate = 4000
    chans = [SynthChannel("EMG", "int16", ("mV", 1000.0, 0.0), range_volts=2.0),
             SynthChannel("RMS", "float32", None, lsb=6.25e-5)]
    ticks = 18000
    t = np.arange(ticks) / rate
    emg = np.round(2000 * np.sin(2 * np.pi * 50 * t) * (t % 1.0 < 0.3)).astype(np.int64)
    rms = (100 * np.round(np.abs(np.sin(2 * np.pi * 0.5 * t)), 1)).astype(np.float32)
    r = SynthRecord(ticks, start_utc=START, utc_offset_s=0.0, comments=[(16001, -1, "Stim 2")])
    r.data = {0: emg, 1: rms}
    write_synthetic(os.path.join(OUT, "v26.adicht"), chans, [r], tick_rate=rate,
                    cluster_size=1024, version=26)
    describe("v26.adicht")


def slow():
    chans = [SynthChannel("Flow", "int16", None, range_volts=10.0)]
    r = SynthRecord(3000, start_utc=START, comments=[(1500, -1, "stim")])
    r.data = {0: np.round(1000 * np.sin(np.arange(3000) / 50.0)).astype(np.int64)}
    write_synthetic(os.path.join(OUT, "slow.adicht"), chans, [r], tick_rate=1000,
                    cluster_size=1024, version=29)
    describe("slow.adicht")


def small():
    chans = [SynthChannel("EMG", "int16", None, range_volts=0.5)]
    r = SynthRecord(3000, start_utc=START, comments=[(1500, -1, "stim")])
    r.data = {0: np.round(1000 * np.sin(np.arange(3000) / 50.0)).astype(np.int64)}
    write_synthetic(os.path.join(OUT, "small.adicht"), chans, [r], tick_rate=4000,
                    cluster_size=1024, version=29)
    describe("small.adicht")


def find_utf16(b, text, start=0):
    i = b.find(text.encode("utf-16-le"), start)
    assert i >= 0, text
    return i


def hostile():
    with open(os.path.join(OUT, "small.adicht"), "rb") as fh:
        good = fh.read()
    cluster = 1 << struct.unpack_from("<i", good, 0x98)[0]
    at = lambda c: 512 + (c - 2) * cluster  # noqa: E731
    cluster_map = at(struct.unpack_from("<q", good, 0xAC)[0])
    root = struct.unpack_from("<q", good, 0xB8 + 0x48)[0]
    table = at(root)
    count = struct.unpack_from("<i", good, table)[0]
    entries = {}
    for k in range(count):
        e = table + 8 + 160 * k
        name = good[e:e + 72].decode("utf-16-le").rstrip("\0")
        entries[name.lower()] = e
    map_e, blk_e = entries["map"], entries["blocks_0"]
    map_at = at(struct.unpack_from("<q", good, map_e + 0x48)[0])
    blk_first = struct.unpack_from("<q", good, blk_e + 0x48)[0]
    assert struct.unpack_from("<q", good, blk_e + 0x50)[0] > cluster
    cases = []

    def case(name, data, message, what):
        with open(os.path.join(OUT, name), "wb") as fh:
            fh.write(data)
        write_meta(name, {"written_by": f"{WRITER}, then corrupted by this script",
                          "what": what, "expected_error": message, "exit_code": 3})
        cases.append((name, data, message, what))

    b = bytearray(good)
    case("hostile_truncated.adicht", bytes(b[:3000]), "lies outside the 3000-byte file",
         "small.adicht cut at 3000 bytes: its cluster map and tables are gone")
    b = bytearray(good)
    struct.pack_into("<q", b, map_e + 0x50, 1 << 40)
    case("hostile_stream_size.adicht", bytes(b), "bytes in the Map stream",
         "the Map stream's directory entry declares 2^40 bytes")
    # The channel count in the Map header (the third int16 after the name).
    b = bytearray(good)
    name = b.find(b"ADInstruments Chart Data\0", map_at)
    struct.pack_into("<h", b, name + 25 + 4, 300)
    case("hostile_channels.adicht", bytes(b), "channels (300) exceeds the limit of 256",
         "the Map header declares 300 channels")
    # A sub-block's size field (the first one after the Blocks_0 magic).
    b = bytearray(good)
    sb = at(blk_first) + 4
    struct.pack_into("<i", b, sb, 0x7FFFFFF0)
    case("hostile_subblock.adicht", bytes(b), "declares 2147483632 bytes",
         "the first sub-block of Blocks_0 declares 2^31 - 16 bytes")
    # A PackBits stream cut: zero the body of the first sub-block after its size.
    b = bytearray(good)
    n = struct.unpack_from("<i", b, sb)[0]
    b[sb + 20:sb + 4 + n] = b"\x00" * (n - 16)
    case("hostile_packbits.adicht", bytes(b), "PackBits data does not give",
         "the first sub-block's PackBits data overwritten with literal headers of zeros")
    # The cluster map links the Blocks_0 chain to a cluster beyond the file.
    b = bytearray(good)
    struct.pack_into("<i", b, cluster_map + 8 * blk_first, 0x7FFFFFFF)
    case("hostile_chain.adicht", bytes(b), "cluster 2147483647 lies outside",
         "the cluster map links the Blocks_0 stream to cluster 2^31 - 1")
    return cases


def malformed_and_fuzz(cases):
    os.makedirs(FUZZ, exist_ok=True)
    for name in ("small.adicht",):
        with open(os.path.join(OUT, name), "rb") as fh:
            data = fh.read()
        with open(os.path.join(FUZZ, name), "wb") as fh:
            fh.write(data)
    blocks = ["# --- adicht ---",
              "# Written by scripts/make-adicht-fixtures.py from its small.adicht "
              "(adichtion's synthetic writer)."]
    for name, data, message, what in cases:
        if name not in ("hostile_truncated.adicht", "hostile_chain.adicht", "hostile_packbits.adicht"):
            continue
        m = "adicht_" + name[len("hostile_"):]
        with open(os.path.join(MALFORMED, m), "wb") as fh:
            fh.write(data)
        with open(os.path.join(FUZZ, m), "wb") as fh:
            fh.write(data)
        blocks.append(f'\n[[case]]\nfile = "{m}"\nwhat = "{what}"\nexit = 3\nmessage = "{message}"')
    print("\n".join(blocks))
    print("(append the block above to tests/malformed/expected.toml)", file=sys.stderr)


def main():
    os.makedirs(OUT, exist_ok=True)
    session()
    multi()
    v26()
    slow()
    small()
    malformed_and_fuzz(hostile())
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"fixtures: {total} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
