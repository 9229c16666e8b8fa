"""engine.log_lines without an engine: lines from frames and chunks split anywhere, timestamps."""

from __future__ import annotations

import struct

import pytest

from engine.errors import StreamError
from engine.log_lines import (
    STDERR,
    STDOUT,
    LogLines,
    LogsResponseParser,
    logs_request,
    parse_timestamp,
    timestamp_arg,
)


def frame(stream: int, data: bytes) -> bytes:
    return struct.pack(">B3xL", stream, len(data)) + data


def chunked(*chunks: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"


HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\n"
HEAD += b"Transfer-Encoding: chunked\r\n\r\n"

TS1 = "2026-11-29T22:28:37.465920552Z"
TS2 = "2026-11-29T22:28:37.465921834Z"


def test_frames_split_anywhere_give_the_same_lines() -> None:
    # "é" is cut between two frames of stdout, with a stderr frame in between.
    e = "é".encode()
    raw = (
        frame(1, f"{TS1} plain\n".encode())
        + frame(1, f"{TS1} caf".encode() + e[:1])
        + frame(2, f"{TS2} \x1b[31merr\x1b[0m\r\n".encode())
        + frame(1, e[1:] + b"!\n")
    )
    expected = [
        (TS1, STDOUT, "plain"),
        (TS2, STDERR, "\x1b[31merr\x1b[0m"),
        (TS1, STDOUT, "café!"),
    ]
    for step in (1, 2, 5, 9, len(raw)):
        lines = LogLines(multiplexed=True, timestamps=True)
        out = []
        for i in range(0, len(raw), step):
            out += lines.feed(raw[i : i + step])
        assert out + lines.close() == expected, step


def test_raw_tty_stream_is_stdout_and_an_unfinished_line_comes_out_at_close() -> None:
    lines = LogLines(multiplexed=False, timestamps=False)
    assert lines.feed(b"one\ntw") == [("", STDOUT, "one")]
    assert lines.feed(b"o") == []
    assert lines.close() == [("", STDOUT, "two")]


def test_an_error_frame_or_a_bad_header_raises() -> None:
    with pytest.raises(StreamError, match="boom"):
        LogLines(multiplexed=True, timestamps=False).feed(frame(3, b"boom"))
    with pytest.raises(StreamError, match="out of sync"):
        LogLines(multiplexed=True, timestamps=False).feed(b"\x07\x00\x00\x00\x00\x00\x00\x01x")


def test_chunked_body_parses_the_same_for_any_split() -> None:
    chunks = [frame(1, b"line %d\n" % n) for n in range(300)] + [b"x" * 5000]
    response = HEAD + chunked(*chunks)
    for step in (1, 3, 17, 1000, 4096, len(response)):
        parser = LogsResponseParser()
        body = b"".join(parser.feed(response[i : i + step]) for i in range(0, len(response), step))
        assert body == b"".join(chunks), step
        assert parser.done
        assert parser.head is not None and parser.head.status == 200


def test_a_malformed_chunk_is_an_error() -> None:
    parser = LogsResponseParser()
    with pytest.raises(StreamError):
        parser.feed(HEAD + b"zz\r\nabc\r\n")


def test_timestamps_round_trip_to_the_nanosecond() -> None:
    seconds = parse_timestamp(TS1)
    assert seconds is not None
    assert timestamp_arg(TS1) == f"{int(seconds)}.465920552"
    assert timestamp_arg("2026-11-29T23:28:37.5+01:00") == f"{int(seconds)}.500000000"
    assert parse_timestamp("2026-11-29T22:28:37Z") == pytest.approx(seconds - 0.465920552)
    assert parse_timestamp("not a time") is None and timestamp_arg("nope") is None


def test_request_asks_for_both_streams_with_timestamps() -> None:
    req = logs_request("a/b", "1.41", follow=True, tail=1000, until="5.000000000")
    line = req.split(b"\r\n", 1)[0].decode()
    assert line.startswith("GET /v1.41/containers/a%2Fb/logs?follow=1&stdout=1&stderr=1")
    assert "timestamps=1" in line and "tail=1000" in line and "until=5.000000000" in line
    assert line.endswith(" HTTP/1.0")  # the engine then sends the body unchunked


def test_an_unchunked_body_runs_until_the_connection_closes() -> None:
    parser = LogsResponseParser()
    head = b"HTTP/1.0 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n"
    assert parser.feed(head + b"one\n") == b"one\n"
    assert parser.feed(b"two\n") == b"two\n"
    assert not parser.done and parser.feed_eof()


def test_timestamps_that_are_not_fixed_width_are_split_at_the_first_space() -> None:
    lines = LogLines(multiplexed=False, timestamps=True)
    out = lines.feed(f"{TS1} a\r\n2026-11-29T22:28:37.5Z b c\n{TS2} d\n".encode())
    short = "2026-11-29T22:28:37.5Z"
    assert out == [(TS1, STDOUT, "a"), (short, STDOUT, "b c"), (TS2, STDOUT, "d")]
