"""LogPane and FramePayloads without an engine: bounded buffer, exact skip counts, frame parsing."""

from __future__ import annotations

import struct
from typing import Any

import pytest

from app.views.containers.logs import FramePayloads, LogPane, skipped_marker

pytestmark = pytest.mark.gui


def frame(stream: int, data: bytes) -> bytes:
    return struct.pack(">B3xL", stream, len(data)) + data


def test_frame_payloads_survive_any_chunk_split() -> None:
    raw = b"".join(frame(1 + n % 2, f"line {n}\n".encode()) for n in range(50))
    for step in (1, 3, 7, 64, len(raw)):
        parser = FramePayloads()
        out = b"".join(parser.feed(raw[i : i + step]) for i in range(0, len(raw), step))
        assert out == b"".join(f"line {n}\n".encode() for n in range(50)), step


def test_a_flood_keeps_the_newest_lines_and_counts_the_rest(qtbot: Any) -> None:
    pane = LogPane(cap=100)
    qtbot.addWidget(pane)
    for chunk in range(50):  # 50 chunks of 40 lines = 2,000 lines between two flushes
        pane.feed_bytes(b"".join(b"l%d\n" % (chunk * 40 + n) for n in range(40)))
    assert pane.buffered_lines <= 100 + 40  # bounded: whole chunks fell off, only counted
    pane.flush()
    text = pane.toPlainText()
    lines = text.splitlines()
    assert lines[0] == skipped_marker(2000 - 98)  # the marker, 98 lines, the empty last block
    assert lines[1] == "l1902" and lines[-1] == "l1999"
    assert pane.blockCount() <= 100
    pane.flush()  # nothing new: the timer stops
    assert not pane._timer.isActive()


def test_a_trickle_is_appended_whole_and_split_characters_stay_whole(qtbot: Any) -> None:
    pane = LogPane(cap=100)
    qtbot.addWidget(pane)
    data = "héllo wörld\nsecond\n".encode()
    pane.feed_bytes(data[:2])  # cut inside "é"
    pane.flush()
    pane.feed_bytes(data[2:])
    pane.flush()
    assert pane.toPlainText() == "héllo wörld\nsecond\n"
    assert pane.dropped_total == 0
