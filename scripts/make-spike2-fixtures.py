#!/usr/bin/env python3
"""Write the Spike2 (.smr) test fixtures in tests/fixtures/spike2/ and a
<file>.meta.json beside each from an independent reader (Neo).

Usage (from the repository root):

    pip install numpy neo        # numpy 2.4.6, neo 0.14.6 were used
    python3 scripts/make-spike2-fixtures.py

The script first runs `cargo run --example export_session -- DIR` for the
project's synthetic signals (raw little-endian f32 in mV with their stimulus
times), as scripts/make-edf-fixtures.py does.

Writer: CED's own library (sonpy, PyPI) ships only a Windows module (sonpy.pyd
in sonpy 1.9.12, the only version on PyPI), so it cannot run here, and no other
tool writes Spike2 files. `write_smr` below packs the 32-bit .smr layout
(version 6) as Neo's Spike2RawIO documents it: a 512-byte file header, 140-byte
channel headers, and per channel a linked chain of data blocks (20-byte block
header, then items). Every fixture is then read back by Neo's Spike2RawIO, an
independent reader, and the meta JSON is what Neo reads, not what was written.
No independent .smrx (64-bit) writer or reader runs on Linux (sonpy is the
only one, and Neo's CedRawIO needs it), so there are no .smrx fixtures.

Fixtures (tick 1 µs):
- session.smr    "EMG ADM" Adc, 10 kHz, 13 s, scale 6.5536 mV so one step is
                 1 µV (the grid of tests/fixtures/edf/session.wav, its WAV
                 twin); "Stim" rising-event channel at every stimulus time.
- two_rates.smr  "EMG APB" Adc 5 kHz in uV, "Force" Adc 1 kHz in N,
                 "Ref" RealWave 5 kHz in mV, "Keyboard" marker channel with
                 two markers, 0.5 s.
- gapped.smr     the `gapped` signal (5 kHz) sampled in three runs starting
                 at 0.25, 3.35 and 6.15 s (1 s each, Spike2 paused between),
                 with "Stim" events at every stimulus and one in a gap.
- hostile_*.smr  corrupted copies of two_rates.smr (cut short, 30000
                 channels, a looping block chain, a zero sample interval,
                 the header cut short); their meta says what must be said.
"""

import json
import pathlib
import struct
import subprocess
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "spike2"
TICK_S = 1e-6
BLOCK_ITEMS = 4000


def pascal(text, size):
    b = text.encode("latin-1")[: size - 1]
    return bytes([len(b)]) + b + bytes(size - 1 - len(b))


def write_smr(path, channels):
    """Pack a version-6 .smr. Each channel is a dict with `kind` (1 Adc,
    3 rising events, 5 markers, 9 RealWave), `title`, and for waveforms
    `unit`, `interval` (ticks), `scale`, `offset`, `runs` [(start tick,
    values)] (int16 for Adc, float32 for RealWave); for events `ticks`."""
    nch = len(channels)
    body = bytearray(512 + 140 * nch)
    max_time = 0
    for ci, ch in enumerate(channels):
        kind = ch["kind"]
        blocks = []  # (start, end, item bytes, count)
        if kind in (1, 9):
            dt = "<i2" if kind == 1 else "<f4"
            for start, values in ch["runs"]:
                values = np.asarray(values, dtype=dt)
                for k in range(0, len(values), BLOCK_ITEMS):
                    part = values[k : k + BLOCK_ITEMS]
                    t0 = start + k * ch["interval"]
                    blocks.append(
                        (t0, t0 + (len(part) - 1) * ch["interval"], part.tobytes(), len(part))
                    )
        else:
            ticks = list(ch["ticks"])
            for k in range(0, max(len(ticks), 1), 500):
                part = ticks[k : k + 500]
                if not part:
                    break
                if kind == 3:
                    data = b"".join(struct.pack("<i", t) for t in part)
                else:
                    data = b"".join(struct.pack("<i4B", t, 49, 0, 0, 0) for t in part)
                blocks.append((part[0], part[-1], data, len(part)))
        offsets = []
        for start, end, data, count in blocks:
            offsets.append(len(body))
            body += bytes(20) + data
            max_time = max(max_time, end)
        for k, (start, end, data, count) in enumerate(blocks):
            at = offsets[k]
            pred = offsets[k - 1] if k > 0 else -1
            succ = offsets[k + 1] if k + 1 < len(blocks) else -1
            struct.pack_into("<iiiihh", body, at, pred, succ, start, end, ci + 1, count)
        o = 512 + 140 * ci
        struct.pack_into("<hii", body, o, 0, -1, offsets[0] if offsets else -1)
        struct.pack_into("<ih", body, o + 10, offsets[-1] if offsets else -1, len(blocks))
        n_extra = 4 if kind == 5 else 0
        struct.pack_into("<h", body, o + 16, n_extra)
        body[o + 26 : o + 98] = pascal(ch.get("comment", ""), 72)
        struct.pack_into("<i", body, o + 98, blocks[-1][1] if blocks else 0)
        struct.pack_into("<i", body, o + 102, ch.get("interval", 0))
        struct.pack_into("<h", body, o + 106, ci)
        body[o + 108 : o + 118] = pascal(ch["title"], 10)
        rate = 1.0 / (ch["interval"] * TICK_S) if kind in (1, 9) else ch.get("ideal", 1.0)
        struct.pack_into("<fB", body, o + 118, rate, kind)
        if kind in (1, 9):
            struct.pack_into("<ff", body, o + 124, ch.get("scale", 1.0), ch.get("offset", 0.0))
            body[o + 132 : o + 138] = pascal(ch["unit"], 6)
            struct.pack_into("<h", body, o + 138, 1)
    struct.pack_into("<h10s8shhhihhhhhi", body, 0, 6, b"(C) CED 87", b"rnsfixt ",
                     1, 1, 0, 512, nch, 140, 0, 0, 0, max_time)
    struct.pack_into("<d", body, 44, TICK_S)
    body[107:187] = pascal("rns-analyzer test fixture", 80)
    path.write_bytes(bytes(body))


def neo_meta(path, extra):
    """What Neo's Spike2RawIO reads from `path`."""
    import neo
    from neo.rawio import Spike2RawIO

    r = Spike2RawIO(filename=str(path))
    r.parse_header()
    nseg = r.segment_count(0)
    sigs = r.header["signal_channels"]
    channels = []
    for stream_index in range(r.signal_streams_count()):
        stream_id = r.header["signal_streams"][stream_index]["id"]
        chans = [c for c in sigs if c["stream_id"] == stream_id]
        for k, c in enumerate(chans):
            segs, head = [], []
            for s in range(nseg):
                n = r.get_signal_size(0, s, stream_index)
                t0 = r.get_signal_t_start(0, s, stream_index)
                raw = r.get_analogsignal_chunk(0, s, 0, min(n, 32), stream_index, [k])
                vals = r.rescale_signal_raw_to_float(raw, dtype="float64", stream_index=stream_index, channel_indexes=[k])
                segs.append({"samples": int(n), "t_start_s": float(t0)})
                head.append([float(v) for v in vals[:, 0]])
            channels.append({
                "label": str(c["name"]),
                "unit": str(c["units"]),
                "sample_rate_hz": float(c["sampling_rate"]),
                "gain": float(c["gain"]),
                "offset": float(c["offset"]),
                "segments": segs,
                "samples_head": head,
            })
    events = []
    for i, e in enumerate(r.header["event_channels"]):
        times = []
        for s in range(nseg):
            ts, _, _ = r.get_event_timestamps(0, s, i)
            times += [float(t) for t in r.rescale_event_timestamp(ts, dtype="float64", event_channel_index=i)]
        events.append({"label": str(e["name"]), "times_s": sorted(set(times))})
    meta = {
        "file": path.name,
        "written_by": "scripts/make-spike2-fixtures.py write_smr (version 6 .smr)",
        "read_by": f"neo {neo.__version__} Spike2RawIO",
        "segments": nseg,
        "channels": channels,
        "events": events,
    }
    meta.update(extra)
    (path.parent / (path.name + ".meta.json")).write_text(json.dumps(meta, indent=1) + "\n")


def main():
    tmp = ROOT / "target" / "spike2-session"
    subprocess.run(["cargo", "run", "--example", "export_session", "--", str(tmp)], cwd=ROOT, check=True)
    OUT.mkdir(parents=True, exist_ok=True)

    # session.smr: 1 step = 1 µV, as the WAV twin.
    s = json.loads((tmp / "session.json").read_text())
    x = np.fromfile(tmp / "session.f32", dtype="<f4").astype(np.float64)
    digital = np.clip(np.round(x * 1000.0), -32768, 32767).astype("<i2")
    stim = [int(round(t / TICK_S)) for t in s["stimuli_s"]]
    write_smr(OUT / "session.smr", [
        {"kind": 1, "title": "EMG ADM", "unit": "mV", "interval": 100, "scale": 6.5536,
         "offset": 0.0, "runs": [(0, digital)]},
        {"kind": 3, "title": "Stim", "ticks": stim, "ideal": 3.0},
    ])
    neo_meta(OUT / "session.smr", {"expect": {
        "format": "smr", "stimuli_s": s["stimuli_s"], "trains": s["trains"],
        "twin": "tests/fixtures/edf/session.wav", "twin_full_scale_mv": 32.768,
        "digital_step_mv": 0.001}})

    # two_rates.smr
    t5 = np.arange(2500) / 5000.0
    t1 = np.arange(500) / 1000.0
    emg_uv = 1000.0 * np.sin(2 * np.pi * 50 * t5)
    force = 50.0 + 40.0 * np.sin(2 * np.pi * 2 * t1)
    ref_mv = (0.25 * np.cos(2 * np.pi * 20 * t5)).astype("<f4")
    write_smr(OUT / "two_rates.smr", [
        # 3000 uV full scale: one step is 3000/32768 uV.
        {"kind": 1, "title": "EMG APB", "unit": "uV", "interval": 200, "scale": 3000.0 * 6553.6 / 32768,
         "offset": 0.0, "runs": [(0, np.round(emg_uv * 32768 / 3000.0).astype("<i2"))]},
        {"kind": 1, "title": "Force", "unit": "N", "interval": 1000, "scale": 100.0 * 6553.6 / 32768,
         "offset": 0.0, "runs": [(0, np.round(force * 32768 / 100.0).astype("<i2"))]},
        {"kind": 9, "title": "Ref", "unit": "mV", "interval": 200, "runs": [(0, ref_mv)]},
        {"kind": 5, "title": "Keyboard", "ticks": [100000, 300000]},
    ])
    neo_meta(OUT / "two_rates.smr", {"expect": {"format": "smr", "stimuli_s": [0.1, 0.3]}})

    # gapped.smr: three 1-s runs of the gapped signal.
    g = json.loads((tmp / "gapped.json").read_text())
    y = np.fromfile(tmp / "gapped.f32", dtype="<f4").astype(np.float64)
    rate = g["sample_rate_hz"]
    starts = [0.25, 3.35, 6.15]
    runs = []
    for t0 in starts:
        i0 = int(round(t0 * rate))
        runs.append((int(round(t0 / TICK_S)), np.round(y[i0 : i0 + int(rate)] * 1000.0).astype("<i2")))
    stim = sorted(g["stimuli_s"] + [2.0])  # 2.0 s lies in a gap
    write_smr(OUT / "gapped.smr", [
        {"kind": 1, "title": "EMG", "unit": "mV", "interval": 200, "scale": 6.5536,
         "offset": 0.0, "runs": runs},
        {"kind": 3, "title": "Stim", "ticks": [int(round(t / TICK_S)) for t in stim]},
    ])
    neo_meta(OUT / "gapped.smr", {"expect": {
        "format": "smr", "segment_starts_s": starts, "stimuli_s": g["stimuli_s"]}})
    hostile()
    print("wrote", sorted(p.name for p in OUT.iterdir()))


def hostile():
    """Corrupted copies of two_rates.smr: each must give exit 3 and one line."""
    base = bytearray((OUT / "two_rates.smr").read_bytes())
    cases = {}
    # Cut inside the first data block: no whole block of samples is left.
    cases["hostile_truncated.smr"] = (bytes(base[:2000]), "no waveform channel with samples")
    # 30000 channel headers declared.
    b = bytearray(base)
    struct.pack_into("<h", b, 30, 30000)
    cases["hostile_channels.smr"] = (bytes(b), "channels")
    # Channel 1's block links on into channel 2's chain: shared blocks (a
    # loop through many blocks is refused the same way).
    b = bytearray(base)
    first = struct.unpack_from("<i", b, 512 + 6)[0]
    second = struct.unpack_from("<i", b, 512 + 140 + 6)[0]
    struct.pack_into("<i", b, first + 4, second)
    cases["hostile_loop.smr"] = (bytes(b), "block chain loops or runs into another channel")
    # Channel 1 sampled every 0 ticks.
    b = bytearray(base)
    struct.pack_into("<i", b, 512 + 102, 0)
    cases["hostile_interval.smr"] = (bytes(b), "outside the accepted range")
    # The header alone.
    cases["hostile_header_only.smr"] = (bytes(base[:300]), "shorter than its 512-byte header")
    for name, (data, expect) in cases.items():
        (OUT / name).write_bytes(data)
        (OUT / (name + ".meta.json")).write_text(json.dumps(
            {"file": name, "derived_from": "two_rates.smr", "expect_message": expect}, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
