#!/usr/bin/env python3
"""Write the EDF/EDF+/BDF test fixtures in tests/fixtures/edf/ with writers
independent of the project, and a <file>.meta.json beside each from an
independent reader.

Usage (from the repository root):

    pip install pyedflib edfio          # pyedflib 0.1.42, edfio 0.4.18 were used
    scripts/make-edf-fixtures.py        # or: python3 scripts/make-edf-fixtures.py

The script first runs `cargo run --release --example export_session -- DIR`,
which writes the project's synthetic signals (raw little-endian f32 in mV,
with their stimulus times and trains as JSON) and the session's WAV twin.
The seeds are fixed, so the fixtures are reproducible.

Writers:
- pyedflib (EDFlib) writes the EDF+C session files, the plain EDF with two
  rates, the BDF with a Status channel and the base of the UTF-8 file.
- EDFlib cannot write EDF+D, so `gaps.edf` is written by `write_edf_by_hand`
  below: a direct packing of the EDF+ specification (fixed header, signal
  headers field by field, data records of 16-bit little-endian samples and
  an "EDF Annotations" signal holding TALs).
- EDFlib rejects non-ASCII labels, so `utf8.edf` is written by pyedflib with
  an ASCII label that this script then overwrites in the header bytes with a
  UTF-8 one (`label_patches` in its meta).
- The hostile files are copies of `two_rates.edf` (and of `utf8.edf` for the
  bad annotation) with header bytes overwritten or data cut. The record
  count field has 8 characters, so 99999999 stands in for "10^9 records".

Readers for the meta files: pyedflib's EdfReader, which also checks every
file both can read against edfio; edfio alone for `gaps.edf` (EDFlib refuses
discontinuous files; edfio reads them as if contiguous, which is enough for
counts, labels, rates and annotations). Both libraries give annotation onsets
relative to the first data record's start, as the analyzer does.

Fixtures (each < 300 KB):
- session.edf        EDF+C, 10 kHz, 13 s: baseline train, 5 s exercise,
                     two post-exercise trains; annotations baseline,
                     exercise (with duration), post exercise, post exercise 3 s.
                     1 digital step = 1 µV (physical range = digital range, uV).
- session_stim.edf   the same plus one "stim" annotation per stimulus.
- session.wav        the same signal as a 16-bit WAV, full scale 32.768 mV
                     (1 step = 1 µV), written by the project's encode_wav;
                     session.wav.rns.toml gives the full scale.
- two_rates.edf      plain EDF: "EMG APB" 5000 Hz in uV and "Force" 500 Hz in
                     N, analytic sines (round-trip check); 2 records of 1 s.
- status.bdf         BDF (24-bit): "EXG1" 4096 Hz in uV and a BioSemi-style
                     "Status" channel: trigger bit 0 pulses at each stimulus,
                     CMS bit 20 always set, epoch bit 16 flipping at 1.5 s.
- gaps.edf           EDF+D, 5 kHz, 0.5 s records starting at 0.25, 0.75, 1.25,
                     3.35, 3.85, 6.15, 6.65 s: three segments, one 3-stimulus
                     train in each, a "stim" annotation per stimulus plus one
                     in a gap, a TAL with two texts and one with a negative
                     onset.
- utf8.edf           EDF+C, label "EMG Abductor µ", annotation texts
                     "Übung" (with duration), "Ruhe – Pause", "µV-Kalibrierung".
- hostile_*.edf      corrupted copies; their meta gives the expected error.
"""

import datetime
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np
import pyedflib

try:
    import edfio
except ImportError:  # the cross-check is skipped, gaps.edf cannot be read
    edfio = None

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "edf")


# ---------------------------------------------------------------------------
# Readers -> meta


def norm_duration(d):
    return None if d is None or d < 0 else float(d)


def meta_pyedflib(path):
    r = pyedflib.EdfReader(path)
    try:
        n = r.signals_in_file
        channels = []
        heads = []
        for i in range(n):
            channels.append(
                {
                    "label": r.getLabel(i),
                    "sample_rate_hz": float(r.getSampleFrequency(i)),
                    "samples": int(r.getNSamples()[i]),
                    "physical_dimension": r.getPhysicalDimension(i),
                    "physical_min": float(r.getPhysicalMinimum(i)),
                    "physical_max": float(r.getPhysicalMaximum(i)),
                    "digital_min": int(r.getDigitalMinimum(i)),
                    "digital_max": int(r.getDigitalMaximum(i)),
                }
            )
            heads.append([float(v) for v in r.readSignal(i, 0, 32)])
        on, du, tx = r.readAnnotations()
        annotations = [
            {"onset_s": float(o), "duration_s": norm_duration(d), "text": str(t)}
            for o, d, t in zip(on, du, tx)
        ]
        return {
            "read_by": f"pyedflib {pyedflib.__version__} EdfReader",
            "data_records": int(r.datarecords_in_file),
            "record_duration_s": float(r.datarecord_duration),
            "channels": channels,
            "annotations": annotations,
            "samples_head": heads,
        }
    finally:
        r.close()


def meta_edfio(path):
    e = edfio.read_bdf(path) if path.endswith(".bdf") else edfio.read_edf(path)
    channels = [
        {
            "label": s.label,
            "sample_rate_hz": float(s.sampling_frequency),
            "samples": int(len(s.data)),
            "physical_dimension": s.physical_dimension,
            "physical_min": float(s.physical_min),
            "physical_max": float(s.physical_max),
            "digital_min": int(s.digital_min),
            "digital_max": int(s.digital_max),
        }
        for s in e.signals
    ]
    annotations = [
        {"onset_s": float(a.onset), "duration_s": norm_duration(a.duration), "text": a.text}
        for a in e.annotations
    ]
    return {
        "read_by": f"edfio {edfio.__version__}",
        "data_records": int(e.num_data_records),
        "record_duration_s": float(e.data_record_duration),
        "channels": channels,
        "annotations": annotations,
        "samples_head": [[float(v) for v in s.data[:32]] for s in e.signals],
    }


def ann_key(a):
    return (round(a["onset_s"], 6), a["text"], a["duration_s"])


def cross_check(a, b, path):
    """The two libraries must agree on what the meta compares."""
    keys = ("label", "sample_rate_hz", "samples", "physical_dimension")
    ca = [{k: c[k] for k in keys} for c in a["channels"]]
    cb = [{k: c[k] for k in keys} for c in b["channels"]]
    assert ca == cb, (path, ca, cb)
    assert sorted(map(ann_key, a["annotations"])) == sorted(map(ann_key, b["annotations"])), path


def write_meta(name, meta):
    meta = {"file": name, **meta}
    with open(os.path.join(OUT, name + ".meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2, ensure_ascii=False)
        f.write("\n")


def describe(name, written_by, expect=None, patches=None, reader="pyedflib"):
    path = os.path.join(OUT, name)
    if reader == "pyedflib":
        meta = meta_pyedflib(path)
        if edfio is not None and not patches:
            cross_check(meta, meta_edfio(path), name)
            meta["cross_checked_with"] = f"edfio {edfio.__version__}"
    else:
        meta = meta_edfio(path)
    meta = {"written_by": written_by, **meta}
    if patches:
        meta["label_patches"] = patches
    if expect is not None:
        meta["expect"] = expect
    write_meta(name, meta)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


# ---------------------------------------------------------------------------
# Writers


def header(label, dim, rate, pmin, pmax, dmin=-32768, dmax=32767):
    return dict(
        label=label,
        dimension=dim,
        sample_frequency=rate,
        physical_min=pmin,
        physical_max=pmax,
        digital_min=dmin,
        digital_max=dmax,
        transducer="",
        prefilter="",
    )


def pyedf_write(path, filetype, headers, data, annotations=(), annotation_signals=1):
    w = pyedflib.EdfWriter(path, len(headers), file_type=filetype)
    annotations = list(annotations)
    try:
        # A fixed start: pyedflib would stamp the current time, and the
        # fixtures must be reproducible byte for byte.
        w.setStartdatetime(datetime.datetime(2024, 1, 2, 10, 0, 0))
        if filetype in (pyedflib.FILETYPE_EDFPLUS, pyedflib.FILETYPE_BDFPLUS):
            # EDFlib stores at most one annotation per annotation signal and
            # data record, and silently drops the rest: give it room.
            w.set_number_of_annotation_signals(annotation_signals)
        w.setSignalHeaders(headers)
        for onset, duration, text in annotations:
            w.writeAnnotation(onset, -1 if duration is None else duration, text)
        w.writeSamples(data)
    finally:
        w.close()
    if annotations:
        r = pyedflib.EdfReader(path)
        try:
            kept = len(r.readAnnotations()[0])
        finally:
            r.close()
        assert kept == len(annotations), f"{path}: EDFlib kept {kept} of {len(annotations)} annotations"


def field(value, width):
    b = str(value).encode("utf-8")
    assert len(b) <= width, (value, width)
    return b + b" " * (width - len(b))


def write_edf_by_hand(path, reserved, record_duration, signals, records):
    """EDF(+) per the specification. `signals`: dicts with label, dim, pmin,
    pmax, dmin, dmax, spr; `records`: per record, one bytes object per signal
    (2 × spr bytes each)."""
    ns = len(signals)
    h = field("0", 8) + field("X X X X", 80) + field("Startdate 01-JAN-2024 X X X", 80)
    h += field("01.01.24", 8) + field("10.00.00", 8) + field(256 * (ns + 1), 8)
    h += field(reserved, 44) + field(len(records), 8) + field(record_duration, 8) + field(ns, 4)
    for key, width in [
        ("label", 16), ("transducer", 80), ("dim", 8), ("pmin", 8), ("pmax", 8),
        ("dmin", 8), ("dmax", 8), ("prefilter", 80), ("spr", 8), ("reserved", 32),
    ]:
        for s in signals:
            h += field(s.get(key, ""), width)
    assert len(h) == 256 * (ns + 1)
    with open(path, "wb") as f:
        f.write(h)
        for rec in records:
            for s, block in zip(signals, rec):
                assert len(block) == 2 * s["spr"], (s["label"], len(block))
                f.write(block)


def tal(onset, texts, duration=None):
    """One TAL: ±onset[\\x15duration]\\x14text\\x14...\\x00."""
    s = ("+" if onset >= 0 else "-") + fmt_time(abs(onset))
    if duration is not None:
        s += "\x15" + fmt_time(duration)
    s += "\x14" + "".join(t + "\x14" for t in texts) + "\x00"
    return s.encode("utf-8")


def fmt_time(t):
    s = f"{t:.6f}".rstrip("0").rstrip(".")
    return s or "0"


def load_export(tmp, name):
    with open(os.path.join(tmp, name + ".json"), encoding="utf-8") as f:
        info = json.load(f)
    x = np.fromfile(os.path.join(tmp, name + ".f32"), dtype="<f4").astype(np.float64)
    assert len(x) == info["samples"]
    return info, x


# ---------------------------------------------------------------------------
# Cases


def session(tmp):
    info, x_mv = load_export(tmp, "session")
    rate = info["sample_rate_hz"]
    # Physical range = digital range in uV: one digital step is 1 uV.
    h = [header("EMG ADM", "uV", rate, -32768, 32767)]
    roles = [
        (0.2, None, "baseline"),
        (3.0, 5.0, "exercise"),
        (8.8, None, "post exercise"),
        (11.1, None, "post exercise 3 s"),
    ]
    expect = {
        "format": "edf_plus",
        "stimuli_s": info["stimuli_s"],
        "trains": info["trains"],
        "exercise": info["exercise"],
        "roles": ["baseline", "post_exercise", "post_exercise"],
        "wav_twin": "session.wav",
        "twin_full_scale_mv": info["twin_full_scale_mv"],
    }
    pyedf_write(os.path.join(OUT, "session.edf"), pyedflib.FILETYPE_EDFPLUS, h, [x_mv * 1000.0], roles)
    describe("session.edf", "pyedflib EdfWriter (FILETYPE_EDFPLUS)", expect)
    stims = [(t, None, "stim") for t in info["stimuli_s"]]
    pyedf_write(
        os.path.join(OUT, "session_stim.edf"),
        pyedflib.FILETYPE_EDFPLUS,
        h,
        [x_mv * 1000.0],
        roles + stims,
        annotation_signals=3,
    )
    describe("session_stim.edf", "pyedflib EdfWriter (FILETYPE_EDFPLUS)", expect)
    shutil.copyfile(os.path.join(tmp, "session.wav"), os.path.join(OUT, "session.wav"))
    with open(os.path.join(OUT, "session.wav.rns.toml"), "w", encoding="utf-8") as f:
        f.write(
            "# WAV twin of session.edf: 16-bit, one step = 1 uV, as the EDF's digital unit.\n"
            f"full_scale_mv = {info['twin_full_scale_mv']}\n"
        )


def two_rates():
    t5 = np.arange(10000) / 5000.0
    t05 = np.arange(1000) / 500.0
    emg_uv = 1000.0 * np.sin(2 * np.pi * 37.0 * t5) + 200.0 * np.sin(2 * np.pi * 3.0 * t5)
    force_n = 50.0 + 40.0 * np.sin(2 * np.pi * 0.5 * t05)
    h = [
        header("EMG APB", "uV", 5000, -3000, 3000),
        header("Force", "N", 500, 0, 100),
    ]
    pyedf_write(os.path.join(OUT, "two_rates.edf"), pyedflib.FILETYPE_EDF, h, [emg_uv, force_n])
    expect = {
        "format": "edf",
        "analytic": {
            "EMG APB": "1000 sin(2 pi 37 t) + 200 sin(2 pi 3 t) uV, t = i / 5000",
            "Force": "50 + 40 sin(2 pi 0.5 t) N, t = i / 500",
        },
        "digital_step": {"EMG APB": 6000 / 65535, "Force": 100 / 65535},
    }
    describe("two_rates.edf", "pyedflib EdfWriter (FILETYPE_EDF)", expect)


def status_bdf(tmp):
    info, x_mv = load_export(tmp, "short4096")
    rate = int(info["sample_rate_hz"])
    n = len(x_mv)
    status = np.full(n, float(1 << 20))  # CMS in range
    status[int(1.5 * rate):] += float(1 << 16)  # new-epoch bit flips
    for t in info["stimuli_s"]:
        i = int(round(t * rate))
        status[i:i + 4] += 1.0  # trigger input 1 for 1 ms
    h = [
        header("EXG1", "uV", rate, -262144, 262143, -8388608, 8388607),
        header("Status", "Boolean", rate, -8388608, 8388607, -8388608, 8388607),
    ]
    pyedf_write(os.path.join(OUT, "status.bdf"), pyedflib.FILETYPE_BDF, h, [x_mv * 1000.0, status])
    expect = {"format": "bdf", "stimuli_s": info["stimuli_s"], "trains": info["trains"]}
    describe("status.bdf", "pyedflib EdfWriter (FILETYPE_BDF)", expect)


def gaps(tmp):
    info, x_mv = load_export(tmp, "gapped")
    rate = int(info["sample_rate_hz"])
    dur = 0.5
    spr = int(rate * dur)
    starts = [0.25, 0.75, 1.25, 3.35, 3.85, 6.15, 6.65]
    stims = info["stimuli_s"]
    extra = {
        0: [tal(-0.1, ["vor Start"])],
        4: [tal(2.5, ["stim"]), tal(5.0, ["Pause", "Elektrode geprüft"])],
    }
    ann_spr = 60  # 120 bytes per record for the TALs
    records = []
    for k, s in enumerate(starts):
        i0 = int(round(s * rate))
        dig = np.clip(np.round(x_mv[i0:i0 + spr] * 1000.0 / (6000.0 / 65535.0) - 0.5), -32768, 32767)
        tals = [tal(s, [""])]  # the time-keeping TAL: "+start\x14\x14\x00"
        tals += [tal(t, ["stim"]) for t in stims if s <= t < s + dur]
        tals += extra.get(k, [])
        block = b"".join(tals)
        assert len(block) <= 2 * ann_spr, len(block)
        records.append([dig.astype("<i2").tobytes(), block + b"\x00" * (2 * ann_spr - len(block))])
    signals = [
        dict(label="EMG ADM", dim="uV", pmin=-3000, pmax=3000, dmin=-32768, dmax=32767, spr=spr),
        dict(label="EDF Annotations", dim="", pmin=-1, pmax=1, dmin=-32768, dmax=32767, spr=ann_spr),
    ]
    write_edf_by_hand(os.path.join(OUT, "gaps.edf"), "EDF+D", "0.5", signals, records)
    expect = {
        "format": "edf_plus",
        "time_zero_s": starts[0],
        "segments": [
            {"start_s": 0.0, "duration_s": 1.5},
            {"start_s": 3.1, "duration_s": 1.0},
            {"start_s": 5.9, "duration_s": 1.0},
        ],
        "stimuli_s": [round(t - starts[0], 9) for t in stims],
        "stimulus_in_gap_s": 2.5 - starts[0],
    }
    describe(
        "gaps.edf",
        "hand-written EDF+D (scripts/make-edf-fixtures.py, write_edf_by_hand)",
        expect,
        reader="edfio",
    )


def utf8():
    name = "utf8.edf"
    path = os.path.join(OUT, name)
    t = np.arange(4000) / 2000.0
    h = [header("EMG Abductor u", "uV", 2000, -1000, 1000)]
    anns = [(0.5, 1.0, "Übung"), (1.6, None, "Ruhe – Pause"), (1.8, None, "µV-Kalibrierung")]
    pyedf_write(
        path,
        pyedflib.FILETYPE_EDFPLUS,
        h,
        [500.0 * np.sin(2 * np.pi * 10.0 * t)],
        anns,
        annotation_signals=2,
    )
    meta = meta_pyedflib(path)  # read before the patch: EDFlib refuses UTF-8 labels
    label = "EMG Abductor µ"
    with open(path, "r+b") as f:
        f.seek(256)
        f.write(field(label, 16))
    meta = {"written_by": "pyedflib EdfWriter (FILETYPE_EDFPLUS), label patched to UTF-8", **meta}
    meta["label_patches"] = {"0": label}
    meta["expect"] = {"format": "edf_plus"}
    write_meta(name, meta)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def hostile():
    base = os.path.join(OUT, "two_rates.edf")
    with open(base, "rb") as f:
        good = f.read()
    with open(os.path.join(OUT, "utf8.edf"), "rb") as f:
        good_plus = f.read()
    ns = 2

    def put(b, offset, text, width):
        b = bytearray(b)
        b[offset:offset + width] = field(text, width)
        return bytes(b)

    # Offset of signal i's field that starts at `start` × ns in the signal headers.
    def sig_field(start, width, i, n=ns):
        return 256 + start * n + i * width

    cases = [
        ("hostile_ns.edf", put(good, 252, "9999", 4),
         "number of signals set to 9999",
         "number of signals (9999) exceeds the limit of 512"),
        ("hostile_records.edf", put(good, 236, "99999999", 8),
         "number of data records set to 99999999 (the most the 8-character field holds)",
         "data records declared (99999999) × samples per record (5000) = samples per channel (499999995000) exceeds the limit of 1073741824"),
        ("hostile_header_len.edf", put(good, 184, "99999", 8),
         "header-size field set to 99999",
         "header length field says 99999 bytes, but 2 signal(s) need 256 × (2 + 1) = 768"),
        ("hostile_truncated.edf", good[:768 + 5000],
         "cut 5000 bytes into the first data record",
         "truncated data: header declares 2 data record(s) of 11000 bytes, the file holds 5000 data bytes (not one whole record)"),
        ("hostile_digital_range.edf", put(good, sig_field(128, 8, 0), "-32768", 8),
         "digital maximum of signal 0 set equal to its minimum",
         "channel 0 (\"EMG APB\"): digital minimum and maximum are both -32768, so its values cannot be scaled"),
    ]
    # A malformed onset: the time-keeping TAL of data record 1 ("+1") of utf8.edf.
    bad_tal = bytearray(good_plus)
    idx = bad_tal.index(b"+1\x14\x14", 768)
    bad_tal[idx:idx + 2] = b"+x"
    cases.append(
        ("hostile_tal.edf", bytes(bad_tal),
         "onset of the time-keeping annotation of data record 1 changed from +1 to +x (utf8.edf)",
         "malformed onset \"+x\""))
    for name, data, corruption, message in cases:
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        write_meta(
            name,
            {
                "derived_from": "utf8.edf" if name == "hostile_tal.edf" else "two_rates.edf",
                "corruption": corruption,
                "expected_error": message,
                "exit_code": 3,
            },
        )
        print(f"wrote {os.path.join(OUT, name)} ({len(data)} bytes)")


def main():
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["cargo", "run", "--quiet", "--release", "--example", "export_session", "--", tmp],
            cwd=ROOT,
            check=True,
        )
        session(tmp)
        two_rates()
        status_bdf(tmp)
        gaps(tmp)
        utf8()
        hostile()
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    biggest = max(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"total {total} bytes, largest file {biggest} bytes")
    if biggest >= 300_000 or total >= 1_500_000:
        sys.exit("fixtures exceed the size budget (300 KB per file, 1.5 MB in all)")


if __name__ == "__main__":
    main()
