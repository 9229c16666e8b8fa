"""Pure, synchronous decoders for the byte streams a Docker engine sends.

Nothing here does I/O: the client feeds the chunks it reads from the socket, in whatever sizes they
arrive, and gets whole frames, text and JSON messages back. Any split of the same bytes into chunks
gives the same result.

* :class:`FrameDecoder` — the multiplexed framing of logs/attach/exec without a TTY: an 8-byte
  header ``[stream, 0, 0, 0, size (big-endian uint32)]`` then ``size`` bytes of payload. The stream
  id is kept (stdout and stderr stay apart). Stream 3 is an error from the daemon and becomes a
  :class:`~engine.errors.StreamError`; any other unknown header means the stream lost sync, which
  is an error too rather than garbage output.
* :class:`RawDecoder` — the raw stream of a TTY: everything is stdout.
* :func:`decoder_for` — picks one of the two from the Content-Type (API ≥ 1.42) or the TTY flag.
* :class:`TextDecoder` — incremental UTF-8 per stream, so a character split across frames or
  chunks decodes right.
* :class:`JSONLinesDecoder` — the JSON progress/event streams (``\\r\\n`` or ``\\n`` endings, lines
  split across chunks, blank lines, arbitrarily long lines).
* :func:`check_progress` and :class:`Progress` — errors inside a 200 progress stream, and a typed
  view of one progress message.
"""

from __future__ import annotations

import codecs
import json
import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from engine.errors import StreamError

__all__ = [
    "Frame",
    "FrameDecoder",
    "JSONLinesDecoder",
    "Progress",
    "RawDecoder",
    "StreamKind",
    "TextDecoder",
    "check_progress",
    "decoder_for",
]

MULTIPLEXED_CONTENT_TYPE = "application/vnd.docker.multiplexed-stream"
RAW_CONTENT_TYPE = "application/vnd.docker.raw-stream"

HEADER_SIZE = 8
_HEADER = struct.Struct(">B3sL")  # stream id, 3 padding bytes (always zero), payload size
# How much of a bad line or payload to quote in an error message.
_QUOTE_LIMIT = 200


class StreamKind(IntEnum):
    """The stream a multiplexed frame belongs to (the first header byte)."""

    STDIN = 0
    STDOUT = 1
    STDERR = 2
    SYSTEM_ERROR = 3


_KINDS = tuple(StreamKind)  # index by stream id: cheaper than StreamKind(id) per frame


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame of output: which stream, and its bytes (never empty)."""

    stream: StreamKind
    data: bytes


def _quote(data: bytes | str) -> str:
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    if len(text) > _QUOTE_LIMIT:
        return repr(text[:_QUOTE_LIMIT]) + f" … ({len(text)} characters)"
    return repr(text)


class FrameDecoder:
    """Decodes the multiplexed stream format into :class:`Frame` objects.

    Errors (a stream-3 frame, a corrupt header) are raised only after every frame before them has
    been returned: when a chunk holds good frames followed by an error, :meth:`feed` returns the
    good frames and the error is raised by the next :meth:`feed` or :meth:`close`. Once an error
    was raised the decoder keeps raising it.
    """

    def __init__(self) -> None:
        # Bytes of an unfinished frame, and how many bytes it needs before parsing can go on, so
        # a large frame arriving in many chunks is only appended to, never re-parsed.
        self._buffer = bytearray()
        self._need = HEADER_SIZE
        self._error: StreamError | None = None

    def feed(self, chunk: bytes) -> list[Frame]:
        """Add bytes read from the socket; return the frames they complete."""
        self._raise_pending()
        if self._buffer:
            self._buffer += chunk
            if len(self._buffer) < self._need:
                return []
            data = bytes(self._buffer)
            self._buffer.clear()
        else:
            data = bytes(chunk)
        frames: list[Frame] = []
        offset = 0
        total = len(data)
        unpack = _HEADER.unpack_from
        while total - offset >= HEADER_SIZE:
            stream_id, padding, size = unpack(data, offset)
            if padding != b"\x00\x00\x00" or stream_id > 3:
                self._error = StreamError(
                    "The engine's multiplexed stream is corrupt or out of sync: unexpected frame "
                    f"header {data[offset : offset + HEADER_SIZE].hex(' ')} "
                    f"(stream id {stream_id}). Output after this point cannot be trusted."
                )
                break
            end = offset + HEADER_SIZE + size
            if total < end:
                break
            payload = data[offset + HEADER_SIZE : end]
            offset = end
            if stream_id == 3:
                message = payload.decode("utf-8", errors="replace").strip()
                self._error = StreamError(
                    f"Error from the engine in the stream: {message or '(no message)'}"
                )
                break
            if payload:
                frames.append(Frame(_KINDS[stream_id], payload))
        if self._error is None and offset < total:
            self._buffer += data[offset:]
            left = total - offset
            self._need = HEADER_SIZE + (unpack(data, offset)[2] if left >= HEADER_SIZE else 0)
        if self._error is not None and not frames:
            self._raise_pending()
        return frames

    def close(self) -> None:
        """Signal the end of the stream; raise if an error is pending or a frame was cut off."""
        self._raise_pending()
        if self._buffer:
            left = len(self._buffer)
            if left < HEADER_SIZE:
                detail = f"{left} bytes of a frame header"
            else:
                size = int.from_bytes(self._buffer[4:HEADER_SIZE], "big")
                detail = f"{left - HEADER_SIZE} of the {size} bytes of a frame"
            self._buffer.clear()
            self._error = StreamError(
                f"The engine's stream ended in the middle of a frame ({detail} received). "
                "The connection was probably cut; try again."
            )
            self._raise_pending()

    def _raise_pending(self) -> None:
        if self._error is not None:
            raise self._error


class RawDecoder:
    """The raw (TTY) stream: every non-empty chunk is one STDOUT frame."""

    def feed(self, chunk: bytes) -> list[Frame]:
        """Return the chunk as a STDOUT frame (nothing for an empty chunk)."""
        return [Frame(StreamKind.STDOUT, bytes(chunk))] if chunk else []

    def close(self) -> None:
        """Nothing can be left over in a raw stream."""


def decoder_for(content_type: str | None, tty: bool | None) -> FrameDecoder | RawDecoder:
    """Pick the decoder for a logs/attach/exec response.

    The Content-Type decides when the engine sends one of the two stream types (API ≥ 1.42);
    otherwise the container's or exec's TTY setting does: with a TTY the stream is raw, without
    one (or when unknown) it is multiplexed.
    """
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type == MULTIPLEXED_CONTENT_TYPE:
        return FrameDecoder()
    if media_type == RAW_CONTENT_TYPE:
        return RawDecoder()
    return RawDecoder() if tty else FrameDecoder()


class TextDecoder:
    """Turns frames into text with one incremental UTF-8 decoder per stream.

    A multi-byte character split across frames (or chunks) comes out whole; invalid bytes become
    U+FFFD. Bytes of an unfinished character wait for the next frame of the same stream, or for
    :meth:`flush` at the end.
    """

    def __init__(self) -> None:
        self._decoders: dict[StreamKind, codecs.IncrementalDecoder] = {}

    def _decoder(self, stream: StreamKind) -> codecs.IncrementalDecoder:
        decoder = self._decoders.get(stream)
        if decoder is None:
            decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            self._decoders[stream] = decoder
        return decoder

    def feed(self, frame: Frame) -> tuple[StreamKind, str]:
        """Decode one frame; the text may be empty if it ended inside a character."""
        return frame.stream, self._decoder(frame.stream).decode(frame.data)

    def flush(self) -> list[tuple[StreamKind, str]]:
        """End of stream: what is left per stream (an unfinished character becomes U+FFFD)."""
        out: list[tuple[StreamKind, str]] = []
        for stream in sorted(self._decoders):
            text = self._decoders[stream].decode(b"", final=True)
            if text:
                out.append((stream, text))
        return out


class JSONLinesDecoder:
    """Splits a JSON-lines body into dicts, whatever the chunk boundaries.

    Lines end in ``\\n`` or ``\\r\\n``; blank lines are skipped. Several JSON objects on one line
    (``{...}{...}``) are accepted too, as docker's own decoder does. A line that is not JSON, or a
    JSON value that is not an object, raises :class:`~engine.errors.StreamError` quoting the line.
    """

    _decoder = json.JSONDecoder()

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._error: StreamError | None = None
        # Where to resume looking for a newline, so a long line fed in many chunks is not rescanned.
        self._scanned = 0

    def feed(self, chunk: bytes) -> list[dict[str, Any]]:
        """Add bytes; return the messages of every line they complete.

        As with :class:`FrameDecoder`, an error is raised only after the messages before it have
        been returned (by this call or the next :meth:`feed`/:meth:`close`), and is raised again
        by every later call.
        """
        if self._error is not None:
            raise self._error
        self._buffer += chunk
        messages: list[dict[str, Any]] = []
        start = 0
        search_from = self._scanned
        while True:
            newline = self._buffer.find(b"\n", search_from)
            if newline < 0:
                break
            line = bytes(self._buffer[start:newline])
            start = search_from = newline + 1
            try:
                self._parse_line(line, messages)
            except StreamError as exc:
                self._error = exc
                break
        del self._buffer[:start]
        self._scanned = len(self._buffer)
        if self._error is not None and not messages:
            raise self._error
        return messages

    def close(self) -> list[dict[str, Any]]:
        """End of stream: parse a last line that had no newline."""
        if self._error is not None:
            raise self._error
        rest = bytes(self._buffer)
        self._buffer.clear()
        self._scanned = 0
        messages: list[dict[str, Any]] = []
        try:
            self._parse_line(rest, messages)
        except StreamError as exc:
            self._error = exc
            raise
        return messages

    def _parse_line(self, raw: bytes, messages: list[dict[str, Any]]) -> None:
        """Append the objects on one line to ``messages``; StreamError at the first bad one."""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StreamError(
                f"The engine sent a line that is not valid UTF-8 in a JSON stream: {_quote(raw)}"
            ) from exc
        end = len(text)
        pos = _skip_space(text, 0)
        while pos < end:
            try:
                value, pos = self._decoder.raw_decode(text, pos)
            except json.JSONDecodeError as exc:
                raise StreamError(
                    f"The engine sent a line that is not valid JSON ({exc.msg} at column "
                    f"{exc.colno}): {_quote(text.strip())}"
                ) from exc
            if not isinstance(value, dict):
                raise StreamError(
                    "The engine sent a JSON value that is not an object in a message stream: "
                    f"{_quote(text.strip())}"
                )
            messages.append(value)
            pos = _skip_space(text, pos)


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def check_progress(msg: dict[str, Any]) -> dict[str, Any]:
    """Return ``msg`` unchanged, or raise StreamError if it reports an error.

    Pull/push/build/load streams answer HTTP 200 and report failure inside a message as
    ``errorDetail: {code, message}`` (plus the legacy ``error`` string). ``errorDetail.message`` is
    preferred; ``error`` is the fallback.
    """
    detail = msg.get("errorDetail")
    legacy = msg.get("error")
    if not detail and not legacy:
        return msg
    message = ""
    code: int | None = None
    if isinstance(detail, dict):
        message = str(detail.get("message") or "")
        raw_code = detail.get("code")
        if isinstance(raw_code, int) and not isinstance(raw_code, bool):
            code = raw_code
    elif isinstance(detail, str):
        message = detail
    if not message and legacy:
        message = str(legacy)
    raise StreamError(message or "The engine reported an error without a message.", code)


def _optional_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass
class Progress:
    """One message of a pull/push/build/load/import stream.

    Attributes:
        id: the layer or image id the message is about (``None`` for overall messages).
        status: e.g. ``"Downloading"``, ``"Pull complete"``; ``""`` for build output.
        current, total: bytes done / expected from ``progressDetail`` (``None`` when absent).
        stream: build output text (``{"stream": "Step 1/3 : FROM …\\n"}``).
        aux: auxiliary data, e.g. ``{"ID": "sha256:…"}`` at the end of a build, or a push digest.
        raw: the message as the engine sent it.
    """

    id: str | None
    status: str
    current: int | None
    total: int | None
    stream: str | None
    aux: dict[str, Any] | None
    raw: dict[str, Any]

    @classmethod
    def from_message(cls, msg: dict[str, Any]) -> Progress:
        """Build from one decoded message; raises StreamError if the message is an error."""
        check_progress(msg)
        detail = msg.get("progressDetail")
        if not isinstance(detail, dict):
            detail = {}
        aux = msg.get("aux")
        return cls(
            id=_optional_str(msg.get("id")) or None,
            status=_optional_str(msg.get("status")) or "",
            current=_optional_int(detail.get("current")),
            total=_optional_int(detail.get("total")),
            stream=_optional_str(msg.get("stream")),
            aux=aux if isinstance(aux, dict) else None,
            raw=msg,
        )

    @property
    def fraction(self) -> float | None:
        """``current / total`` clamped to 0..1, or ``None`` without a positive total."""
        if self.current is None or not self.total or self.total <= 0:
            return None
        return min(1.0, max(0.0, self.current / self.total))
