#!/usr/bin/env python3
"""Write tests/fixtures/pyedflib/: the EDF/BDF test files that ship with pyedflib, cut short.

pyedflib (BSD-3-Clause, (c) 2015-2020 Holger Nahrstaedt, 2011, 2015 Chris Lee-Messer, 2009-2020
Teunis van Beelen; its LICENSE is copied beside the fixtures) ships seven test recordings in its
wheel under pyedflib/tests/data/. Six of them have no signal at 2 kHz or more (128-1000 Hz EEG-like
test signals), one has a 2 kHz first signal; they are what `rns inspect` must list fully.

Standard-library Python only. Get the wheel (any platform's wheel of this version holds the same
files) and run the script from anywhere:

    pip download pyedflib==0.1.42 --no-deps --only-binary :all: -d /tmp/pyedflib
    python3 scripts/make-pyedflib-fixtures.py /tmp/pyedflib/pyedflib-0.1.42-*.whl

Each file keeps its header and its first KEEP[file] data records; the header's record count is
rewritten to match, nothing else changes (every annotation of the originals sits in their first
five records, so all are kept). Next to each file, <file>.meta.json gives what its header says,
read here independently of rns: the signals (label, dimension, samples per record, rate) and the
records kept, so the test compares `rns inspect` with it.
"""
import hashlib
import json
import sys
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "pyedflib"

# Records kept per file (of the original count).
KEEP = {
    "test_generator.edf": 20,  # of 600 (1 s records)
    "test_legacy.edf": 20,  # of 600
    "test_generator.bdf": 10,  # of 30
    "test_generator_datarec_generator_0_5.bdf": 20,  # of 60 (0.5 s records)
    "test_generator_datarec_generator_2.bdf": 15,  # of 15 (2 s records): whole
    "test_subsecond.edf": 100,  # of 698
    "test_utf8.edf": 100,  # of 698
}


def header(b):
    ns = int(b[252:256])
    n_records = int(b[236:244])
    duration = float(b[244:252])
    header_bytes = int(b[184:192])
    off = 256
    fields = {}
    for name, width in [("label", 16), ("transducer", 80), ("dimension", 8), ("pmin", 8),
                        ("pmax", 8), ("dmin", 8), ("dmax", 8), ("prefilter", 80), ("spr", 8),
                        ("reserved", 32)]:
        fields[name] = [b[off + i * width: off + (i + 1) * width].decode("latin-1").strip()
                        for i in range(ns)]
        off += ns * width
    return ns, n_records, duration, header_bytes, fields


def trim(name, raw):
    ns, n_records, duration, hb, f = header(raw)
    bps = 3 if raw[0] == 0xFF else 2
    spr = [int(s) for s in f["spr"]]
    record = sum(spr) * bps
    assert hb == 256 * (ns + 1) and len(raw) == hb + n_records * record, name
    keep = min(KEEP[name], n_records)
    out = bytearray(raw[: hb + keep * record])
    out[236:244] = f"{keep:<8}".encode("ascii")
    signals = [
        {
            "label": f["label"][i],
            "dimension": f["dimension"][i],
            "samples_per_record": spr[i],
            "sample_rate_hz": spr[i] / duration,
            "annotations": f["label"][i] in ("EDF Annotations", "BDF Annotations"),
        }
        for i in range(ns)
    ]
    meta = {
        "source": f"pyedflib 0.1.42 wheel, pyedflib/tests/data/{name}",
        "original_sha256": hashlib.sha256(raw).hexdigest(),
        "original_records": n_records,
        "records": keep,
        "record_duration_s": duration,
        "reserved": raw[192:236].decode("latin-1").strip(),
        "signals": signals,
    }
    return bytes(out), meta


def main(wheel):
    OUT.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as z:
        names = {Path(n).name: n for n in z.namelist() if n.startswith("pyedflib/tests/data/")
                 and n.endswith((".edf", ".bdf"))}
        assert sorted(names) == sorted(KEEP), sorted(names)
        for name in sorted(KEEP):
            data, meta = trim(name, z.read(names[name]))
            (OUT / name).write_bytes(data)
            (OUT / f"{name}.meta.json").write_text(json.dumps(meta, indent=2) + "\n")
            print(f"wrote {name}: {meta['records']} of {meta['original_records']} records, "
                  f"{len(data)} bytes")
        lic = [n for n in z.namelist() if n.endswith("licenses/LICENSE") or n.endswith("/LICENSE")]
        (OUT / "LICENSE").write_bytes(z.read(lic[0]))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
