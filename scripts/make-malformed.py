#!/usr/bin/env python3
"""Write tests/malformed/: small broken (and oddly built but valid) recordings.

Each file is one way a recording goes wrong in practice: a half-copied USB
stick, a hand-edited spreadsheet, a recorder with a bad header. What `rns
analyze` must say about each is in tests/malformed/expected.toml, which this
script does not touch; tests/integration/malformed.rs checks every entry.

Standard library only, deterministic (fixed seed); run from anywhere:

    python3 scripts/make-malformed.py

The files are committed, so the tests need no Python.
"""

import math
import random
import struct
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "malformed"


def toy(fs, n, stims, seed=1):
    """A small RNS-like signal in mV: 5 mV biphasic artifacts, an 8 mV CMAP
    (negative half-sine, 3 ms after the stimulus, 6 ms long), 5 µV noise."""
    rng = random.Random(seed)
    x = [rng.gauss(0.0, 0.005) for _ in range(n)]
    w = max(1, int(0.0002 * fs))
    for t in stims:
        s = int(t * fs)
        for k in range(w):
            x[s + k] += 5.0
            x[s + w + k] -= 5.0
        on = s + int(0.003 * fs)
        ln = int(0.006 * fs)
        for k in range(ln):
            x[on + k] -= 8.0 * math.sin(math.pi * k / ln)
    return x


FS = 5000
N = 4000  # 0.8 s
STIMS = [0.05 + k / 3 for k in range(3)]
SIGNAL = toy(FS, N, STIMS)


def chunk(cid, payload, pad=True):
    out = cid + struct.pack("<I", len(payload)) + payload
    if pad and len(payload) % 2:
        out += b"\0"
    return out


def fmt_chunk(tag=1, channels=1, rate=10000, bits=16, block_align=None, byte_rate=None):
    if block_align is None:
        block_align = channels * bits // 8
    if byte_rate is None:
        byte_rate = (block_align * rate) & 0xFFFFFFFF
    return chunk(b"fmt ", struct.pack("<HHIIHH", tag, channels, rate, byte_rate, block_align, bits))


def riff(*chunks, size=None):
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body) if size is None else size) + body


def data_chunk(payload, declared=None):
    n = len(payload) if declared is None else declared
    return b"data" + struct.pack("<I", n) + payload


def i16(values):
    return b"".join(struct.pack("<h", v) for v in values)


def f32(values):
    return b"".join(struct.pack("<f", v) for v in values)


def write(name, data):
    (OUT / name).write_bytes(data)


def wavs():
    silence = i16([0] * 200)
    # Declared sizes beyond the file: the data chunk says 1 000 000 bytes, the
    # file holds 1001 (not whole 2-byte frames).
    write("wav_declared_size_beyond_file.wav", riff(fmt_chunk(), data_chunk(i16([0] * 500) + b"\0", declared=1_000_000)))
    # 10^9 declared samples (16-bit mono: 2·10^9 bytes), 2000 bytes present.
    write("wav_declares_1e9_samples.wav", riff(fmt_chunk(), data_chunk(i16([0] * 1000), declared=2_000_000_000)))
    write("wav_zero_channels.wav", riff(fmt_chunk(channels=0, block_align=2), data_chunk(silence)))
    write("wav_nine_channels.wav", riff(fmt_chunk(channels=9), data_chunk(i16([0] * 90))))
    for name, rate in [("0hz", 0), ("1hz", 1), ("1e9hz", 1_000_000_000)]:
        write(f"wav_rate_{name}.wav", riff(fmt_chunk(rate=rate), data_chunk(silence)))
    # Valid RIFF that a naive reader gets wrong: a LIST chunk before the data,
    # and an odd-sized chunk followed by its pad byte.
    sig = f32(SIGNAL)
    fmt = fmt_chunk(tag=3, rate=FS, bits=32)
    info = chunk(b"LIST", b"INFO" + chunk(b"ISFT", b"rns make-malformed\0"))
    write("wav_list_chunk.wav", riff(fmt, info, data_chunk(sig)))
    write("wav_odd_chunk.wav", riff(fmt, chunk(b"note", b"odd"), data_chunk(sig)))
    # Truncated: the data chunk declares the whole signal, the file stops
    # after 3500 whole frames (recovered), or in the middle of a frame.
    full = riff(fmt, data_chunk(sig))
    header = len(full) - len(sig)
    write("wav_truncated_on_frame.wav", full[: header + 4 * 3500])
    stereo = riff(fmt_chunk(channels=2), data_chunk(i16([0] * 400)))
    write("wav_truncated_mid_frame.wav", stereo[:-3])
    write("wav_header_only.wav", stereo[:44])
    write("wav_empty_data.wav", riff(fmt_chunk(), data_chunk(b"")))
    write("wav_float_nan.wav", riff(fmt_chunk(tag=3, bits=32), data_chunk(f32([0.0] * 5 + [float("nan")] + [0.0] * 10))))
    write("wav_adpcm.wav", riff(fmt_chunk(tag=2, bits=4, block_align=1024), data_chunk(b"\0" * 1024)))
    write("wav_no_fmt.wav", riff(data_chunk(silence)))


def csvs():
    rows = lambda n, rate=10000: "".join(f"{i / rate:.6f},0.0\n" for i in range(n))
    write("csv_nan_cell.csv", ("time_s,emg_mV\n" + rows(3) + "0.000300,NaN\n" + rows(3)).encode())
    write("csv_inf_cell.csv", ("time_s,emg_mV\n" + rows(3) + "0.000300,-inf\n").encode())
    write("csv_empty_cell.csv", ("time_s,emg_mV\n" + rows(3) + "0.000300,\n").encode())
    write("csv_text_cell.csv", ("time_s,emg_mV\n" + rows(3) + "0.000300,n/a\n").encode())
    write("csv_ragged_row.csv", ("time_s,emg_mV,trigger\n0.0,0.0,0\n0.0001,0.0,0\n0.0002,0.0\n").encode())
    write("csv_non_utf8_header.csv", b"time_s,EMG \xb5V\n" + rows(5).encode())
    write("csv_non_utf8_cell.csv", b"time_s,emg_mV\n" + rows(3).encode() + b"0.000300,0.\xff1\n")
    # A byte-order mark and CRLF line ends are fine; 50 ms of silence then
    # gives "nothing to analyse", not a header error.
    write("csv_bom_crlf.csv", b"\xef\xbb\xbf" + ("time_s,emg_mV\r\n" + rows(500).replace("\n", "\r\n")).encode())
    write("csv_only_header.csv", b"time_s,emg_mV\n")
    write("csv_one_row.csv", b"time_s,emg_mV\n0.0,0.0\n")
    write("csv_only_time_column.csv", ("time_s\n" + "".join(f"{i / 10000:.6f}\n" for i in range(10))).encode())
    write("csv_rate_1ghz.csv", ("time_s,emg_mV\n" + "".join(f"{i}e-9,0.0\n" for i in range(10))).encode())
    write("csv_rate_1hz.csv", ("time_s,emg_mV\n" + "".join(f"{i}.0,0.0\n" for i in range(10))).encode())
    write("csv_decreasing_time.csv", ("time_s,emg_mV\n" + rows(4) + "0.000200,0.0\n").encode())
    write("csv_irregular_time.csv", ("time_s,emg_mV\n" + rows(10) + "0.005000,0.0\n").encode())
    write("csv_no_time_column.csv", ("emg_mV\n" + "0.0\n" * 10).encode())
    write("csv_300_columns.csv", (",".join(f"c{i}" for i in range(300)) + "\n" + ",".join("0" for _ in range(300)) + "\n").encode())


def edf_header(ns, records, duration, labels, dims, pmin, pmax, dmin, dmax, spr, reserved=""):
    def f(v, w):
        s = str(v).encode("latin-1")
        return s[:w].ljust(w, b" ")

    h = f("0", 8) + f("X X X X", 80) + f("Startdate X X X X", 80) + f("01.01.24", 8) + f("00.00.00", 8)
    h += f(256 * (ns + 1), 8) + f(reserved, 44) + f(records, 8) + f(duration, 8) + f(ns, 4)
    for vals, w in [(labels, 16), ([""] * ns, 80), (dims, 8), (pmin, 8), (pmax, 8), (dmin, 8), (dmax, 8), ([""] * ns, 80), (spr, 8), ([""] * ns, 32)]:
        h += b"".join(f(v, w) for v in vals)
    return h


def edfs():
    # Physical range ±1e300 mV: digital values scale to numbers no 32-bit
    # float holds.
    h = edf_header(1, 1, 1, ["EMG"], ["mV"], ["-1e300"], ["1e300"], [-32768], [32767], [5000])
    write("edf_physical_range_overflow.edf", h + i16([1000] * 5000))
    # 1 sample per 100 000 s record: a rate of 0.00001 Hz.
    h = edf_header(1, 1, 100000, ["EMG"], ["mV"], [-20], [20], [-32768], [32767], [1])
    write("edf_rate_near_zero.edf", h + i16([0]))
    h = edf_header(0, 1, 1, [], [], [], [], [], [], [])
    write("edf_zero_signals.edf", h)
    # The toy signal at 5 kHz in 0.1 s records; the header declares 9
    # records, the file holds 8 and half of the 9th (recovered: 8 records).
    scale = 32767 / 20.0
    digital = [max(-32768, min(32767, round(v * scale))) for v in SIGNAL]
    h = edf_header(1, 9, 0.1, ["EMG"], ["mV"], [-20], [20], [-32767], [32767], [500])
    write("edf_truncated_record.edf", h + i16(digital[:4000]) + i16([0] * 250))
    # A 100 Hz temperature before the EMG (5 kHz), 0.1 s records: the EMG is
    # the first signal at an accepted rate.
    h = edf_header(2, 8, 0.1, ["Temp", "EMG"], ["degC", "mV"], [-50, -20], [50, 20],
                   [-32767, -32767], [32767, 32767], [10, 500])
    write("edf_slow_first_signal.edf", h + b"".join(
        i16([11000] * 10) + i16(digital[r * 500:(r + 1) * 500]) for r in range(8)))
    # Every signal at 200 Hz (an EEG-like export): readable, not analysable.
    h = edf_header(2, 2, 1, ["Fp1", "Fp2"], ["uV", "uV"], [-500, -500], [500, 500],
                   [-32767, -32767], [32767, 32767], [200, 200])
    write("edf_all_signals_slow.edf", h + i16([0] * 800))


def sweeps_of_toy(pre=10, post=100):
    """The toy signal's responses as sweeps: `pre` samples before each stimulus, `post` after."""
    out = []
    for t in STIMS:
        s = int(t * FS)
        out.append(SIGNAL[s - pre: s + post])
    return out


def long_rows(sweeps, pre=10, skip_last=None, order=None, index=lambda k: k):
    """MonStim's long layout: recording_index, channel_index, stimulus_V, time_point, amplitude_mV."""
    rows = []
    for k in order if order is not None else range(len(sweeps)):
        sw = sweeps[k]
        n = len(sw) - (skip_last if skip_last and k == 1 else 0)
        for i in range(n):
            rows.append(f"{index(k)},1,{0.5 + 0.1 * k:.2f},{(i - pre) * 1000 / FS:.1f},{sw[i]:.6f}\n")
    return "".join(rows)


def layouts():
    sweeps = sweeps_of_toy()
    head = "recording_index,channel_index,stimulus_V,time_point,amplitude_mV\n"
    write("csv_long_valid.csv", (head + long_rows(sweeps)).encode())
    write("csv_long_missing_time.csv", ("recording_index,channel_index,stimulus_V,amplitude_mV\n"
                                        + "".join(f"{k},1,0.5,{v:.6f}\n" for k, sw in enumerate(sweeps) for v in sw)).encode())
    write("csv_long_missing_values.csv", ("recording_index,channel_index,stimulus_V,time_point\n"
                                          + "".join(f"{k},1,0.5,{(i - 10) * 0.2:.1f}\n" for k in range(3) for i in range(110))).encode())
    write("csv_long_uneven_sweeps.csv", (head + long_rows(sweeps, skip_last=5)).encode())
    write("csv_long_sweeps_out_of_order.csv", (head + long_rows(sweeps, order=[0, 2, 1])).encode())
    write("csv_long_fractional_index.csv", (head + long_rows(sweeps, index=lambda k: k / 2)).encode())
    block = "Subject,M12\nDate,2024-05-01\nSampling rate,5000 Hz\n"
    write("csv_header_block_only.csv", block.encode())
    values = "".join(f"{v:.6f}\n" for v in SIGNAL)
    write("csv_header_block_rate.csv", (block + "emg_mV\n" + values).encode())
    write("csv_header_block_rates_disagree.csv", (block + "fs,10000\nemg_mV\n" + values).encode())
    rng = random.Random(3)
    write("csv_headerless_no_time.csv", "".join(f"{rng.gauss(0, 1):.4f},{v:.6f}\n" for v in SIGNAL).encode())
    write("csv_headerless_valid.csv", "".join(f"{i / FS:.6f},{v:.6f}\n" for i, v in enumerate(SIGNAL)).encode())
    # Noise beside a stimulus intensity that steps up 3 times: no trigger.
    noise = [rng.gauss(0.0, 0.005) for _ in range(N)]
    write("csv_intensity_not_trigger.csv", ("time_s,emg_mV,stimulus_V\n" + "".join(
        f"{i / FS:.6f},{v:.6f},{0.3 + 0.1 * (i // 1000):.2f}\n" for i, v in enumerate(noise))).encode())


def hostile_round_2():
    """Streaming WAV sizes, ambiguous fmt chunks, WAVE_FORMAT_EXTENSIBLE
    containers, UTF-16 text, repeated times, over-long cells."""
    sig = f32(SIGNAL)
    fmt = fmt_chunk(tag=3, rate=FS, bits=32)
    # A streaming writer leaves the data size at 0xFFFFFFFF (and the RIFF
    # size too): the data run to the end of the file.
    write("wav_size_unset.wav", riff(fmt, data_chunk(sig, declared=0xFFFFFFFF), size=0xFFFFFFFF))
    write("wav_size_unset_mid_frame.wav", riff(fmt, data_chunk(sig[:-2], declared=0xFFFFFFFF), size=0xFFFFFFFF))
    # Two fmt chunks: the second says another rate.
    write("wav_two_fmt_chunks.wav", riff(fmt, fmt_chunk(tag=3, rate=2 * FS, bits=32), data_chunk(sig)))
    # 24 valid bits left-justified in 32-bit containers (WAVE_FORMAT_EXTENSIBLE),
    # full scale 10 mV given in the sidecar-free default of 1 mV: the values
    # are the signal / 10, read back exactly as 24-bit samples.
    pcm_guid = bytes.fromhex("0100000000001000800000aa00389b71")
    ext = struct.pack("<HHIIHHHHI", 0xFFFE, 1, FS, 4 * FS, 4, 32, 22, 24, 4) + pcm_guid
    top = lambda v: struct.pack("<i", max(-(1 << 23), min((1 << 23) - 1, round(v / 10 * (1 << 23)))) << 8)
    write("wav_extensible_24in32.wav", riff(chunk(b"fmt ", ext), data_chunk(b"".join(top(v) for v in SIGNAL))))
    rows = lambda n, rate=10000: "".join(f"{i / rate:.6f},0.0\n" for i in range(n))
    # UTF-16 without a byte-order mark (a spreadsheet's "Unicode text").
    write("csv_utf16le_no_bom.csv", ("time_s,emg_mV\n" + rows(20)).encode("utf-16-le"))
    # Times printed with too few decimals for the rate: 0.0001 twice.
    write("csv_repeated_time.csv", ("time_s,emg_mV\n" + "".join(f"{i / 20000:.4f},0.0\n" for i in range(10))).encode())
    # A 2000-digit cell, and a 2000-character column name.
    write("csv_long_cell.csv", ("time_s,emg_mV\n" + rows(3) + "0.000300," + "1" * 2000 + "\n").encode())
    write("csv_long_column_name.csv", ("time_s,emg_" + "a" * 2000 + "\n" + rows(10)).encode())


def other():
    rng = random.Random(7)
    write("unknown_binary.dat", bytes(rng.randrange(256) for _ in range(512)))
    write("garbage_named.wav", bytes(rng.randrange(256) for _ in range(512)))
    write("empty.csv", b"")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    wavs()
    csvs()
    edfs()
    layouts()
    hostile_round_2()
    other()


if __name__ == "__main__":
    main()
