#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, cut from the project's own files.

Writes fuzz/corpus/{wav,csv,edf,analyze,csv_lines,csv_long}/ (not committed;
the fuzzer adds to these folders as it runs). Standard library only; run from
anywhere:

    python3 fuzz/make-seeds.py

- wav: each sample WAV cut to its first ~0.1 s (header rewritten so the data
  chunk matches), plus the same cut with a LIST chunk and an odd-sized chunk
  before the data, and a truncated copy.
- csv: the first 80 lines of each sample CSV and of each CSV of the
  malformed corpus (long tables, header blocks, headerless tables).
- csv_lines: the csv seeds, and texts whose long parts are written as runs
  (`0xFF r n fragment`: the fragment 16·(r+1)² times, see `expand` in
  fuzz/src/lib.rs): a header line, a cell, a quoted cell of short lines, a
  preamble of comments, blank lines, a line of delimiters, each of megabytes.
- csv_long: the long-table generator's bytes (`long_table` in
  fuzz/src/lib.rs) for every layout flag, with and without a broken row.
- edf: each EDF/BDF fixture cut to at most 16 KiB (the reader recovers the
  whole records present).
- analyze: for each 16-bit mono sample WAV, the analyze target's header (see
  recording_from_bytes in fuzz/src/lib.rs) with the file's rate and full
  scale, followed by its first 2 s of samples, once per stimulus source.
"""

import math
import struct
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fuzz" / "corpus"


def chunks(data):
    """(id, body) of each RIFF chunk after the 12-byte header."""
    i = 12
    while i + 8 <= len(data):
        cid = data[i : i + 4]
        size = struct.unpack("<I", data[i + 4 : i + 8])[0]
        yield cid, data[i + 8 : i + 8 + size]
        i += 8 + size + (size & 1)


def riff(parts):
    body = b"WAVE"
    for cid, payload in parts:
        body += cid + struct.pack("<I", len(payload)) + payload
        if len(payload) & 1:
            body += b"\0"
    return b"RIFF" + struct.pack("<I", len(body)) + body


def wav_parts(path):
    data = path.read_bytes()
    parts = dict(chunks(data))
    return parts[b"fmt "], parts[b"data"]


def write(folder, name, data):
    d = OUT / folder
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def main():
    for wav in sorted((ROOT / "samples").glob("*.wav")):
        fmt, data = wav_parts(wav)
        channels, rate = struct.unpack("<HI", fmt[2:8])
        align = struct.unpack("<H", fmt[12:14])[0]
        n = max(1, rate // 10) * align
        cut = data[:n]
        write("wav", wav.stem + ".wav", riff([(b"fmt ", fmt), (b"data", cut)]))
        write(
            "wav",
            wav.stem + "_list.wav",
            riff([(b"fmt ", fmt), (b"LIST", b"INFOISFT\x05\0\0\0rns\0\0"), (b"data", cut)]),
        )
        write("wav", wav.stem + "_odd.wav", riff([(b"fmt ", fmt), (b"junk", b"abc"), (b"data", cut)]))
        write("wav", wav.stem + "_trunc.wav", riff([(b"fmt ", fmt), (b"data", cut)])[:-3])

        bits = struct.unpack("<H", fmt[14:16])[0]
        if channels == 1 and bits == 16:
            toml = wav.with_name(wav.name + ".rns.toml")
            fs_mv = 1.0
            if toml.exists():
                for line in toml.read_text().splitlines():
                    if line.strip().startswith("full_scale_mv"):
                        fs_mv = float(line.split("=")[1])
            rate_code = round(65535 * math.log(rate / 2000) / math.log(500))
            gain = fs_mv / 32768
            gain_code = max(0, min(255, round(128 + 16 * math.log10(gain))))
            samples = data[: 2 * rate * 2]
            for mode in range(4):
                # flags, rate, gain, offset, 10 stimuli every 1/3 s, spacing 1,
                # 1 segment, no gap, no trains, no exercise, no sweep rate, no muscle.
                stim = b"".join(struct.pack("<H", (rate // 3) * k + rate // 10) for k in range(10))
                head = (
                    bytes([mode])
                    + struct.pack("<H", rate_code)
                    + bytes([gain_code, 0, 10, 0])
                    + stim
                    + bytes([0, 0, 0, 0, 3, 1])
                )
                write("analyze", f"{wav.stem}_mode{mode}", head + samples)

    csvs = sorted((ROOT / "samples").glob("*.csv")) + sorted((ROOT / "tests" / "malformed").glob("*.csv"))
    for csv in csvs:
        lines = csv.read_bytes().splitlines(keepends=True)[:80]
        write("csv", csv.name, b"".join(lines))
        write("csv_lines", csv.name, b"".join(lines))

    def run(r, fragment):
        return bytes([0xFF, r, len(fragment)]) + fragment

    rows = b"".join(b"%.4f,0.5\n" % (i / 1e4) for i in range(40))
    head = b"time_s,emg_mV\n"
    for name, text in [
        ("long_header", b"time_s,emg_" + run(255, b"a" * 16) + b"\n" + rows),
        ("long_cell", head + rows + b"0.0040," + run(63, b"1234567890123456") + b"\n"),
        ("cell_2k", head + rows + b"0.0040," + run(10, b"9") + b"\n" + rows),
        ("quoted_lines", head + rows + b'0.0040,"' + run(100, b"12345\n") + b'"\n'),
        ("comments", run(150, b"# comment\n") + head + rows),
        ("blank_lines", head + rows + run(255, b"\n\n\n\n") + rows),
        ("delimiters", head + run(255, b",,,,")),
        ("long_name_row", b"sweep,time_ms," + run(20, b"emg_") + b"\n0,0,1\n0,0.1,1\n"),
    ]:
        write("csv_lines", name, text)

    for flags in range(0, 256, 5):
        names = (flags * 37) & 0xFF
        write("csv_long", f"flags{flags:03}", bytes([flags, names, 3, 20, 2, 3, 10, 20, 30, 140, 200]))
        write("csv_long", f"flags{flags:03}_broken", bytes([flags, names, 3, 20, 2, 3, 10, 20, 30, 240 + flags % 16]))

    for edf in sorted((ROOT / "tests" / "fixtures" / "edf").iterdir()):
        if edf.suffix in (".edf", ".bdf"):
            write("edf", edf.name, edf.read_bytes()[: 16 * 1024])


if __name__ == "__main__":
    main()
