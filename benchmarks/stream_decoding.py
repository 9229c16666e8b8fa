"""Throughput of engine.streams' incremental decoders against a one-shot baseline, side by side.

Each case decodes the same bytes two ways, alternating round by round:

* **portside** — the incremental decoder fed 64 KiB chunks, as the client does with a socket;
* **baseline** — the whole body already in memory, decoded in one pass with the simplest
  correct loop (``struct.unpack_from`` over one buffer for frames; ``splitlines`` + ``json.loads``
  for JSON lines). This is a lower bound: nothing incremental can skip that work.

The ratio shows what incremental, chunk-boundary-safe decoding costs over it.

Usage: ``.venv/bin/python benchmarks/stream_decoding.py [--rounds 7] [--mib 32]``
"""

from __future__ import annotations

import argparse
import codecs
import json
import statistics
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.streams import FrameDecoder, JSONLinesDecoder, StreamKind, TextDecoder

CHUNK = 64 * 1024


def make_logs(mib: int) -> bytes:
    """Log-like output: lines of 40–160 bytes, one frame per line, stdout and stderr mixed."""
    out = bytearray()
    i = 0
    while len(out) < mib * 1024 * 1024:
        line = f"2026-01-01T00:00:{i % 60:02d}Z worker-{i % 7} processed item {i} ✓ ".encode()
        line += b"x" * (i % 120) + b"\n"
        stream = 2 if i % 5 == 0 else 1
        out += struct.pack(">BxxxL", stream, len(line)) + line
        i += 1
    return bytes(out)


def make_progress(messages: int) -> bytes:
    """Pull-like progress: per-layer Downloading messages with progressDetail, CRLF-terminated."""
    lines = []
    for i in range(messages):
        msg = {
            "status": "Downloading",
            "progressDetail": {"current": i * 4096, "total": messages * 4096},
            "progress": "[=====>      ]  1.2MB/3.4MB",
            "id": f"{i % 5:012x}",
        }
        lines.append(json.dumps(msg).encode() + b"\r\n")
    return b"".join(lines)


def portside_logs(data: bytes) -> int:
    decoder, text = FrameDecoder(), TextDecoder()
    chars = 0
    for start in range(0, len(data), CHUNK):
        for frame in decoder.feed(data[start : start + CHUNK]):
            chars += len(text.feed(frame)[1])
    decoder.close()
    return chars + sum(len(t) for _, t in text.flush())


def baseline_logs(data: bytes) -> int:
    decoders = {
        StreamKind.STDOUT: codecs.getincrementaldecoder("utf-8")("replace"),
        StreamKind.STDERR: codecs.getincrementaldecoder("utf-8")("replace"),
    }
    chars, offset, end = 0, 0, len(data)
    while offset < end:
        stream, size = struct.unpack_from(">BxxxL", data, offset)
        offset += 8
        chars += len(decoders[StreamKind(stream)].decode(data[offset : offset + size]))
        offset += size
    return chars


def portside_json(data: bytes) -> int:
    decoder = JSONLinesDecoder()
    count = 0
    for start in range(0, len(data), CHUNK):
        count += len(decoder.feed(data[start : start + CHUNK]))
    return count + len(decoder.close())


def baseline_json(data: bytes) -> int:
    return sum(1 for line in data.splitlines() if line.strip() and json.loads(line))


def measure(fn: Callable[[bytes], int], data: bytes) -> tuple[float, int]:
    start = time.perf_counter()
    result = fn(data)
    return time.perf_counter() - start, result


def run_case(
    name: str,
    data: bytes,
    ours: Callable[[bytes], int],
    base: Callable[[bytes], int],
    rounds: int,
    unit: str,
    units: float,
) -> str:
    times_ours: list[float] = []
    times_base: list[float] = []
    for _ in range(rounds):
        t_ours, r_ours = measure(ours, data)
        t_base, r_base = measure(base, data)
        if r_ours != r_base:
            raise SystemExit(f"{name}: results differ ({r_ours} vs {r_base})")
        times_ours.append(t_ours)
        times_base.append(t_base)
    m_ours, m_base = statistics.median(times_ours), statistics.median(times_base)
    return (
        f"| {name} | {len(data) / 2**20:.1f} MiB | {units / m_ours:,.0f} {unit}/s "
        f"| {units / m_base:,.0f} {unit}/s | {m_ours / m_base:.2f}x |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--mib", type=int, default=32)
    args = parser.parse_args()
    logs = make_logs(args.mib)
    progress = make_progress(200_000)
    print("| case | input | portside (64 KiB chunks) | one-shot baseline | time vs baseline |")
    print("|---|---|---|---|---|")
    print(
        run_case(
            "logs: frames + UTF-8 text",
            logs,
            portside_logs,
            baseline_logs,
            args.rounds,
            "MiB",
            len(logs) / 2**20,
        )
    )
    print(
        run_case(
            "pull progress: JSON lines",
            progress,
            portside_json,
            baseline_json,
            args.rounds,
            "msgs",
            200_000,
        )
    )


if __name__ == "__main__":
    main()
