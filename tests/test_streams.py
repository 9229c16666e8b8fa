"""engine.streams: multiplexed/raw framing, incremental text, JSON lines and progress messages."""

from __future__ import annotations

import json
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import StreamError
from engine.streams import (
    Frame,
    FrameDecoder,
    JSONLinesDecoder,
    Progress,
    RawDecoder,
    StreamKind,
    TextDecoder,
    check_progress,
    decoder_for,
)


def frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    """Split ``data`` at the given offsets (any order, duplicates allowed)."""
    points = sorted({min(max(c, 0), len(data)) for c in cuts})
    chunks, start = [], 0
    for point in [*points, len(data)]:
        chunks.append(data[start:point])
        start = point
    return chunks


def decode_all(decoder: FrameDecoder | RawDecoder, chunks: list[bytes]) -> list[Frame]:
    frames: list[Frame] = []
    for chunk in chunks:
        frames.extend(decoder.feed(chunk))
    decoder.close()
    return frames


# ---------------------------------------------------------------------------- FrameDecoder


def test_frames_keep_their_stream() -> None:
    data = frame(1, b"out\n") + frame(2, b"err\n") + frame(0, b"in") + frame(1, b"more")
    assert decode_all(FrameDecoder(), [data]) == [
        Frame(StreamKind.STDOUT, b"out\n"),
        Frame(StreamKind.STDERR, b"err\n"),
        Frame(StreamKind.STDIN, b"in"),
        Frame(StreamKind.STDOUT, b"more"),
    ]


def test_frame_split_byte_by_byte() -> None:
    data = frame(2, b"hello") + frame(1, b"world")
    frames = decode_all(FrameDecoder(), [bytes([b]) for b in data])
    assert frames == [Frame(StreamKind.STDERR, b"hello"), Frame(StreamKind.STDOUT, b"world")]


def test_large_frame_in_small_chunks() -> None:
    payload = bytes(range(256)) * 4096  # 1 MiB
    data = frame(1, payload)
    decoder = FrameDecoder()
    frames: list[Frame] = []
    for i in range(0, len(data), 65536):
        frames.extend(decoder.feed(data[i : i + 65536]))
    decoder.close()
    assert frames == [Frame(StreamKind.STDOUT, payload)]


def test_empty_frames_are_dropped() -> None:
    assert decode_all(FrameDecoder(), [frame(1, b"") + frame(2, b"x")]) == [
        Frame(StreamKind.STDERR, b"x")
    ]


def test_stream_3_raises_with_the_engine_text() -> None:
    decoder = FrameDecoder()
    with pytest.raises(StreamError, match="container is gone"):
        decoder.feed(frame(3, b"container is gone\n"))


def test_frames_before_an_error_are_delivered_first() -> None:
    decoder = FrameDecoder()
    data = frame(1, b"last words") + frame(3, b"boom")
    assert decoder.feed(data) == [Frame(StreamKind.STDOUT, b"last words")]
    with pytest.raises(StreamError, match="boom"):
        decoder.feed(b"")
    with pytest.raises(StreamError, match="boom"):  # and it stays failed
        decoder.close()


def test_unknown_stream_id_is_an_error_not_garbage() -> None:
    decoder = FrameDecoder()
    with pytest.raises(StreamError, match="out of sync"):
        decoder.feed(frame(7, b"x"))


def test_plain_text_fed_to_frame_decoder_is_detected() -> None:
    # What docker-py turns into "ValueError: 48 is not a valid stream": a raw stream decoded as
    # multiplexed. We must say so instead of emitting garbage.
    decoder = FrameDecoder()
    with pytest.raises(StreamError, match="out of sync"):
        decoder.feed(b"0123456789 hello from a tty\n")


def test_nonzero_padding_is_an_error() -> None:
    with pytest.raises(StreamError, match="01 00 01 00"):
        FrameDecoder().feed(b"\x01\x00\x01\x00\x00\x00\x00\x01x")


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (b"\x01\x00\x00", "3 bytes of a frame header"),
        (frame(1, b"abcdef")[:-2], "4 of the 6 bytes"),
    ],
)
def test_truncated_stream_raises_on_close(data: bytes, detail: str) -> None:
    decoder = FrameDecoder()
    assert decoder.feed(data) == []
    with pytest.raises(StreamError, match=detail):
        decoder.close()


def test_close_on_clean_boundary_is_quiet() -> None:
    decoder = FrameDecoder()
    decoder.feed(frame(1, b"a"))
    decoder.close()


# ---------------------------------------------------------------------------- Raw / decoder_for


def test_raw_decoder_is_all_stdout() -> None:
    decoder = RawDecoder()
    assert decoder.feed(b"\x01\x00\x00\x00 tty bytes") == [
        Frame(StreamKind.STDOUT, b"\x01\x00\x00\x00 tty bytes")
    ]
    assert decoder.feed(b"") == []
    decoder.close()


@pytest.mark.parametrize(
    ("content_type", "tty", "expected"),
    [
        ("application/vnd.docker.multiplexed-stream", True, FrameDecoder),
        ("application/vnd.docker.raw-stream", False, RawDecoder),
        ("application/vnd.docker.raw-stream", None, RawDecoder),
        ("Application/VND.Docker.Raw-Stream; charset=utf-8", None, RawDecoder),
        (None, None, FrameDecoder),
        (None, False, FrameDecoder),
        (None, True, RawDecoder),
        ("text/plain", True, RawDecoder),
        ("", False, FrameDecoder),
    ],
)
def test_decoder_for(content_type: str | None, tty: bool | None, expected: type) -> None:
    assert type(decoder_for(content_type, tty)) is expected


# ---------------------------------------------------------------------------- TextDecoder


def test_text_multibyte_split_across_frames() -> None:
    text = TextDecoder()
    euro = "€".encode()  # 3 bytes
    assert text.feed(Frame(StreamKind.STDOUT, b"price " + euro[:1])) == (
        StreamKind.STDOUT,
        "price ",
    )
    # a stderr frame in between must not disturb stdout's pending bytes
    assert text.feed(Frame(StreamKind.STDERR, "ü".encode()[:1])) == (StreamKind.STDERR, "")
    assert text.feed(Frame(StreamKind.STDOUT, euro[1:] + b"5")) == (StreamKind.STDOUT, "€5")
    assert text.feed(Frame(StreamKind.STDERR, "ü".encode()[1:])) == (StreamKind.STDERR, "ü")
    assert text.flush() == []


def test_text_invalid_bytes_are_replaced_and_flush_ends_partial_chars() -> None:
    text = TextDecoder()
    assert text.feed(Frame(StreamKind.STDOUT, b"a\xffb")) == (StreamKind.STDOUT, "a\ufffdb")
    assert text.feed(Frame(StreamKind.STDERR, "€".encode()[:2])) == (StreamKind.STDERR, "")
    assert text.flush() == [(StreamKind.STDERR, "\ufffd")]


# ---------------------------------------------------------------------------- JSONLinesDecoder


def test_json_lines_with_crlf_blank_lines_and_splits() -> None:
    decoder = JSONLinesDecoder()
    assert decoder.feed(b'{"a": 1}\r\n\r\n{"b"') == [{"a": 1}]
    assert decoder.feed(b': "x"}\n   \n{"c": [1,') == [{"b": "x"}]
    assert decoder.feed(b"2]}") == []
    assert decoder.close() == [{"c": [1, 2]}]


def test_json_concatenated_objects_on_one_line() -> None:
    assert JSONLinesDecoder().feed(b'{"a":1}{"b":2} {"c":3}\n') == [{"a": 1}, {"b": 2}, {"c": 3}]


def test_json_long_line_in_many_chunks() -> None:
    message = {"stream": "x" * 5_000_000}
    data = json.dumps(message).encode() + b"\r\n"
    decoder = JSONLinesDecoder()
    out: list[dict[str, object]] = []
    for i in range(0, len(data), 4096):
        out.extend(decoder.feed(data[i : i + 4096]))
    assert out == [message]
    assert decoder.close() == []


def test_json_multibyte_split_across_chunks() -> None:
    data = json.dumps({"status": "Größe €"}, ensure_ascii=False).encode() + b"\n"
    cut = data.index("€".encode()) + 1
    decoder = JSONLinesDecoder()
    assert decoder.feed(data[:cut]) == []
    assert decoder.feed(data[cut:]) == [{"status": "Größe €"}]


def test_bad_json_raises_with_the_line_after_good_ones() -> None:
    decoder = JSONLinesDecoder()
    assert decoder.feed(b'{"ok": true}\nnot json at all\n{"never": 1}\n') == [{"ok": True}]
    with pytest.raises(StreamError, match="not json at all"):
        decoder.close()


def test_bad_json_alone_raises_at_once() -> None:
    with pytest.raises(StreamError, match=r"not valid JSON.*\{broken"):
        JSONLinesDecoder().feed(b"{broken\n")


def test_json_non_object_is_an_error() -> None:
    with pytest.raises(StreamError, match="not an object"):
        JSONLinesDecoder().feed(b"[1, 2]\n")


def test_json_truncated_last_line_raises_on_close() -> None:
    decoder = JSONLinesDecoder()
    assert decoder.feed(b'{"a": 1}\n{"b": ') == [{"a": 1}]
    with pytest.raises(StreamError, match="not valid JSON"):
        decoder.close()


def test_bad_line_quote_is_shortened() -> None:
    with pytest.raises(StreamError) as info:
        JSONLinesDecoder().feed(b"x" * 10_000 + b"\n")
    assert len(str(info.value)) < 400
    assert "10000 characters" in str(info.value)


# ---------------------------------------------------------------------------- progress


def test_check_progress_passes_normal_messages() -> None:
    msg = {"status": "Downloading", "id": "abc"}
    assert check_progress(msg) is msg


def test_check_progress_prefers_error_detail() -> None:
    msg = {
        "errorDetail": {"code": 1, "message": "manifest unknown: detail"},
        "error": "legacy text",
    }
    with pytest.raises(StreamError) as info:
        check_progress(msg)
    assert info.value.message == "manifest unknown: detail"
    assert info.value.code == 1


def test_check_progress_falls_back_to_legacy_error() -> None:
    with pytest.raises(StreamError) as info:
        check_progress({"error": "unauthorized: authentication required"})
    assert info.value.message == "unauthorized: authentication required"
    assert info.value.code is None
    with pytest.raises(StreamError, match="legacy"):
        check_progress({"errorDetail": {}, "error": "legacy"})
    with pytest.raises(StreamError, match="without a message"):
        check_progress({"errorDetail": {"code": 5}})


def test_progress_from_pull_message() -> None:
    msg = {
        "status": "Downloading",
        "progressDetail": {"current": 512, "total": 2048},
        "progress": "[=====>   ]",
        "id": "4f4fb700ef54",
    }
    progress = Progress.from_message(msg)
    assert progress.id == "4f4fb700ef54"
    assert progress.status == "Downloading"
    assert (progress.current, progress.total) == (512, 2048)
    assert progress.fraction == 0.25
    assert progress.stream is None and progress.aux is None
    assert progress.raw is msg


def test_progress_from_build_messages() -> None:
    step = Progress.from_message({"stream": "Step 1/2 : FROM busybox\n"})
    assert step.stream == "Step 1/2 : FROM busybox\n"
    assert (step.id, step.status, step.current, step.total) == (None, "", None, None)
    assert step.fraction is None
    done = Progress.from_message({"aux": {"ID": "sha256:abc"}})
    assert done.aux == {"ID": "sha256:abc"}


def test_progress_tolerates_odd_fields() -> None:
    progress = Progress.from_message(
        {"status": 5, "id": "", "progressDetail": {"current": True, "total": 10.0}}
    )
    assert (progress.status, progress.id, progress.current, progress.total) == ("", None, None, 10)


def test_progress_from_error_message_raises() -> None:
    with pytest.raises(StreamError, match="denied"):
        Progress.from_message({"errorDetail": {"message": "denied"}, "error": "denied"})


# ---------------------------------------------------------------------------- properties

payloads = st.lists(
    st.tuples(st.sampled_from([0, 1, 2]), st.binary(min_size=0, max_size=64)), max_size=12
)
cut_lists = st.lists(st.integers(min_value=0, max_value=2000), max_size=20)


@settings(max_examples=200, deadline=None)
@given(payloads, cut_lists)
def test_any_chunking_gives_the_same_frames(
    parts: list[tuple[int, bytes]], cuts: list[int]
) -> None:
    data = b"".join(frame(s, p) for s, p in parts)
    expected = [Frame(StreamKind(s), p) for s, p in parts if p]
    assert decode_all(FrameDecoder(), split_at(data, cuts)) == expected


@settings(max_examples=200, deadline=None)
@given(payloads, cut_lists)
def test_any_chunking_before_an_error_gives_the_frames_then_the_error(
    parts: list[tuple[int, bytes]], cuts: list[int]
) -> None:
    data = b"".join(frame(s, p) for s, p in parts) + frame(3, b"daemon failed")
    decoder = FrameDecoder()
    frames: list[Frame] = []
    with pytest.raises(StreamError, match="daemon failed"):
        for chunk in split_at(data, cuts):
            frames.extend(decoder.feed(chunk))
        decoder.close()
    assert frames == [Frame(StreamKind(s), p) for s, p in parts if p]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), cut_lists)
def test_raw_any_chunking_gives_the_same_bytes(data: bytes, cuts: list[int]) -> None:
    frames = decode_all(RawDecoder(), split_at(data, cuts))
    assert all(f.stream is StreamKind.STDOUT and f.data for f in frames)
    assert b"".join(f.data for f in frames) == data


texts = st.lists(st.tuples(st.sampled_from([1, 2]), st.text(max_size=40)), max_size=10)


@settings(max_examples=200, deadline=None)
@given(texts, cut_lists)
def test_any_chunking_gives_the_same_text(parts: list[tuple[int, str]], cuts: list[int]) -> None:
    """Frames cut anywhere — including inside a UTF-8 character — decode to the original text."""
    # Re-frame the encoded text at arbitrary byte offsets per stream, as an engine might.
    data = b""
    for stream, text in parts:
        encoded = text.encode("utf-8")
        for piece in split_at(encoded, [c % (len(encoded) + 1) for c in cuts[:3]]):
            data += frame(stream, piece)
    decoder, text_decoder = FrameDecoder(), TextDecoder()
    got: dict[StreamKind, str] = {StreamKind.STDOUT: "", StreamKind.STDERR: ""}
    for chunk in split_at(data, cuts):
        for f in decoder.feed(chunk):
            kind, s = text_decoder.feed(f)
            got[kind] += s
    decoder.close()
    for kind, s in text_decoder.flush():
        got[kind] += s
    for kind in (StreamKind.STDOUT, StreamKind.STDERR):
        assert got[kind] == "".join(t for s, t in parts if s == kind)


scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
# One level of nesting is enough to put braces, brackets and escaped newlines inside a line.
json_values = (
    scalars
    | st.lists(scalars, max_size=3)
    | st.dictionaries(st.text(max_size=5), scalars, max_size=3)
)
messages = st.lists(st.dictionaries(st.text(max_size=8), json_values, max_size=4), max_size=8)


@settings(max_examples=150, deadline=None)
@given(messages, cut_lists, st.sampled_from([b"\n", b"\r\n"]), st.booleans(), st.booleans())
def test_any_chunking_gives_the_same_json_messages(
    msgs: list[dict[str, object]], cuts: list[int], ending: bytes, blank: bool, ascii_: bool
) -> None:
    lines = [json.dumps(m, ensure_ascii=ascii_).encode("utf-8") + ending for m in msgs]
    if blank:
        lines = [line + ending for line in lines]
    data = b"".join(lines)
    decoder = JSONLinesDecoder()
    out: list[dict[str, object]] = []
    for chunk in split_at(data, cuts):
        out.extend(decoder.feed(chunk))
    out.extend(decoder.close())
    assert out == msgs


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), cut_lists)
def test_raw_tty_text_survives_any_chunking(text: str, cuts: list[int]) -> None:
    decoder, text_decoder = RawDecoder(), TextDecoder()
    out = ""
    for chunk in split_at(text.encode("utf-8"), cuts):
        for f in decoder.feed(chunk):
            out += text_decoder.feed(f)[1]
    decoder.close()
    out += "".join(t for _, t in text_decoder.flush())
    assert out == text


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), cut_lists)
def test_garbage_gives_frames_or_stream_error_only(data: bytes, cuts: list[int]) -> None:
    """Arbitrary bytes never crash the decoder with anything but StreamError."""
    decoder = FrameDecoder()
    total = 0
    try:
        for chunk in split_at(data, cuts):
            total += sum(len(f.data) for f in decoder.feed(chunk))
        decoder.close()
    except StreamError:
        return
    assert total <= len(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), cut_lists)
def test_json_garbage_gives_dicts_or_stream_error_only(data: bytes, cuts: list[int]) -> None:
    decoder = JSONLinesDecoder()
    try:
        out = [m for chunk in split_at(data, cuts) for m in decoder.feed(chunk)]
        out += decoder.close()
    except StreamError:
        return
    assert all(isinstance(m, dict) for m in out)
