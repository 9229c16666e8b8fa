"""A minimal, blocking D-Bus client: just enough to call methods on the session bus.

Why not ``jeepney``/``secretstorage``: ``docker-credential-portside get`` runs on every pull and
push, and importing jeepney alone costs ~28 ms (``typing``, ``enum``, ``socket``, ``re`` …), more
than the whole Go helper takes. This module imports only C built-ins (``_socket``, ``_struct``)
and ``os``, so the helper's cold start stays close to the interpreter's own.

Scope: unix-socket transports (``unix:path=``, ``unix:abstract=``), the ``EXTERNAL`` auth
mechanism, method calls with replies, every basic type plus arrays, structs, dicts and variants.
No signals, no file descriptors, no introspection.

Values map to Python as: integers → ``int``, ``b`` → ``bool``, ``d`` → ``float``, ``s``/``o``/``g``
→ ``str``, ``ay`` → ``bytes``, other arrays → ``list``, ``a{..}`` → ``dict``, structs → ``tuple``.
A variant is written from a ``(signature, value)`` pair and read back as its bare value.
"""

from __future__ import annotations

import _socket
import _struct
import os

from engine.errors import CredentialsError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_ALIGN = {
    "y": 1, "b": 4, "n": 2, "q": 2, "i": 4, "u": 4, "x": 8, "t": 8, "d": 8, "h": 4,
    "s": 4, "o": 4, "g": 1, "v": 1, "a": 4, "(": 8, "{": 8,
}  # fmt: skip
_FIXED = {"y": "B", "b": "I", "n": "h", "q": "H", "i": "i", "u": "I", "x": "q", "t": "Q",
          "d": "d", "h": "I"}  # fmt: skip

_METHOD_CALL, _METHOD_RETURN, _ERROR = 1, 2, 3
_HEADER_SIGS = {1: "o", 2: "s", 3: "s", 4: "s", 5: "u", 6: "s", 7: "s", 8: "g", 9: "u"}


class DBusError(CredentialsError):
    """A D-Bus error reply, or the bus could not be reached.

    Attributes:
        name: the D-Bus error name (``org.freedesktop.DBus.Error.ServiceUnknown`` …),
            ``"connect"`` when the bus itself could not be reached, ``"address"`` when the bus
            address is malformed, ``"message"`` when a reply could not be decoded.
    """

    def __init__(self, name: str, message: str) -> None:
        self.name = name
        self.message = message
        super().__init__(f"{name}: {message}" if message else name)


def split_types(sig: str) -> list[str]:
    """Split a signature into its complete types: ``"sa{sv}(ii)"`` → ``["s","a{sv}","(ii)"]``."""
    out = []
    i = 0
    while i < len(sig):
        end = _type_end(sig, i)
        out.append(sig[i:end])
        i = end
    return out


def _type_end(sig: str, i: int) -> int:
    c = sig[i]
    if c == "a":
        return _type_end(sig, i + 1)
    if c in "({":
        close = ")" if c == "(" else "}"
        j = i + 1
        while sig[j] != close:
            j = _type_end(sig, j)
        return j + 1
    if c not in _ALIGN:
        raise ValueError(f"unsupported D-Bus type {c!r} in signature {sig!r}")
    return i + 1


def _pad(buf: bytearray, n: int) -> None:
    buf.extend(bytes(-len(buf) % n))


def marshal(buf: bytearray, sig: str, value: Any) -> None:
    """Append ``value`` of the single complete type ``sig`` to ``buf`` (little-endian)."""
    c = sig[0]
    _pad(buf, _ALIGN[c])
    if c in _FIXED:
        buf.extend(_struct.pack("<" + _FIXED[c], value))
    elif c in "so":
        data = value.encode()
        buf.extend(_struct.pack("<I", len(data)))
        buf.extend(data)
        buf.append(0)
    elif c == "g":
        data = value.encode()
        buf.append(len(data))
        buf.extend(data)
        buf.append(0)
    elif c == "v":
        inner_sig, inner = value
        marshal(buf, "g", inner_sig)
        marshal(buf, inner_sig, inner)
    elif c == "a":
        at = len(buf)
        buf.extend(b"\0\0\0\0")
        elem = sig[1:]
        _pad(buf, _ALIGN[elem[0]])
        start = len(buf)
        if elem == "y":
            buf.extend(value)
        elif elem[0] == "{":
            key_sig, val_sig = split_types(elem[1:-1])
            for k, v in value.items():
                _pad(buf, 8)
                marshal(buf, key_sig, k)
                marshal(buf, val_sig, v)
        else:
            for item in value:
                marshal(buf, elem, item)
        buf[at : at + 4] = _struct.pack("<I", len(buf) - start)
    elif c == "(":
        for field_sig, field in zip(split_types(sig[1:-1]), value, strict=True):
            marshal(buf, field_sig, field)
    else:  # pragma: no cover - split_types rejects unknown codes first
        raise ValueError(f"cannot marshal D-Bus type {sig!r}")


class _Reader:
    """Reads values from a message buffer; offsets count from the start of ``data``."""

    def __init__(self, data: bytes, pos: int, endian: str) -> None:
        self.data = data
        self.pos = pos
        self.endian = endian

    def read(self, sig: str) -> Any:
        c = sig[0]
        self.pos += -self.pos % _ALIGN[c]
        data = self.data
        if c in _FIXED:
            fmt = self.endian + _FIXED[c]
            (value,) = _struct.unpack_from(fmt, data, self.pos)
            self.pos += _struct.calcsize(fmt)
            return bool(value) if c == "b" else value
        if c in "so":
            (n,) = _struct.unpack_from(self.endian + "I", data, self.pos)
            start = self.pos + 4
            self.pos = start + n + 1
            return data[start : start + n].decode()
        if c == "g":
            n = data[self.pos]
            start = self.pos + 1
            self.pos = start + n + 1
            return data[start : start + n].decode()
        if c == "v":
            return self.read(self.read("g"))
        if c == "a":
            (n,) = _struct.unpack_from(self.endian + "I", data, self.pos)
            self.pos += 4
            elem = sig[1:]
            self.pos += -self.pos % _ALIGN[elem[0]]
            end = self.pos + n
            if elem == "y":
                self.pos = end
                return data[end - n : end]
            if elem[0] == "{":
                key_sig, val_sig = split_types(elem[1:-1])
                result = {}
                while self.pos < end:
                    self.pos += -self.pos % 8
                    k = self.read(key_sig)
                    result[k] = self.read(val_sig)
                return result
            items = []
            while self.pos < end:
                items.append(self.read(elem))
            return items
        if c == "(":
            return tuple(self.read(t) for t in split_types(sig[1:-1]))
        raise ValueError(f"cannot read D-Bus type {sig!r}")


def parse_address(address: str) -> list[bytes]:
    """Socket addresses (abstract ones start with NUL) from a D-Bus server address string.

    Raises:
        DBusError: ``"address"`` when the string is malformed (a bad ``%`` escape, a NUL in a
            path), ``"connect"`` when it names no ``unix:`` transport Portside can use.
    """
    out: list[bytes] = []
    for entry in address.split(";"):
        transport, _, params = entry.partition(":")
        if transport != "unix":
            continue
        kv = dict(p.partition("=")[::2] for p in params.split(",") if p)
        try:
            if "path" in kv:
                path = _unescape(kv["path"])
                if not path or b"\0" in path:
                    raise ValueError("a unix path must be non-empty and hold no NUL byte")
                out.append(path)
            elif "abstract" in kv:
                out.append(b"\0" + _unescape(kv["abstract"]))
        except ValueError as exc:
            raise DBusError("address", f"{address} ({exc})") from exc
    if not out:
        raise DBusError("connect", f"no usable unix: transport in bus address {address!r}")
    return out


def _unescape(value: str) -> bytes:
    """The D-Bus address escaping: ``%XX`` is one byte, everything else is itself (UTF-8)."""
    raw = value.encode("utf-8", "surrogateescape")
    if b"%" not in raw:
        return raw
    out = bytearray()
    i = 0
    while i < len(raw):
        if raw[i] == 0x25:  # "%"
            pair = raw[i + 1 : i + 3]
            if len(pair) != 2 or not all(c in b"0123456789abcdefABCDEF" for c in pair):
                raise ValueError(f"bad escape {raw[i : i + 3].decode('utf-8', 'replace')!r}: "
                                 "a % must be followed by two hex digits")
            out.append(int(pair, 16))
            i += 3
        else:
            out.append(raw[i])
            i += 1
    return bytes(out)


def _escape(value: bytes) -> str:
    """The inverse of :func:`_unescape` (for a socket path Portside builds an address from)."""
    safe = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_/.*"
    return "".join(chr(c) if c in safe else f"%{c:02x}" for c in value)


def session_bus_address() -> str:
    """The session bus address: ``DBUS_SESSION_BUS_ADDRESS``, else ``$XDG_RUNTIME_DIR/bus``."""
    address = os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
    if address:
        return address
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime and os.path.exists(os.path.join(runtime, "bus")):
        return "unix:path=" + _escape(os.fsencode(os.path.join(runtime, "bus")))
    raise DBusError(
        "connect",
        "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set, no $XDG_RUNTIME_DIR/bus)",
    )


class Connection:
    """One authenticated connection to a message bus. Close it (or use ``with``) when done."""

    def __init__(self, address: str | None = None, *, timeout: float = 5.0) -> None:
        self.address = address if address is not None else session_bus_address()
        self._serial = 0
        self._buf = bytearray()
        self._pending: dict[int, tuple[int, str, str, list[Any]]] = {}
        last: OSError | None = None
        for sockaddr in parse_address(self.address):
            sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
            sock.settimeout(timeout)
            try:
                sock.connect(sockaddr)
            except OSError as exc:
                sock.close()
                last = exc
                continue
            self._sock = sock
            break
        else:
            reason = last.strerror if last is not None and last.strerror else str(last)
            raise DBusError("connect", f"cannot connect to the D-Bus session bus at "
                            f"{self.address}: {reason}")
        try:
            self._authenticate()
        except BaseException:
            self._sock.close()
            raise

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._sock.close()

    def _authenticate(self) -> None:
        uid = str(os.getuid()).encode().hex().encode()
        # AUTH, BEGIN and Hello go out in one write (pipelining is allowed by the spec); the
        # daemon answers OK, then Hello's reply.
        hello = self._encode_call("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                  "org.freedesktop.DBus", "Hello", "", ())
        try:
            self._sock.sendall(b"\0AUTH EXTERNAL " + uid + b"\r\nBEGIN\r\n" + hello)
            line = self._read_line()
        except OSError as exc:
            raise DBusError("connect", f"D-Bus authentication failed: {exc}") from exc
        if not line.startswith(b"OK "):
            raise DBusError("connect", f"the D-Bus daemon refused authentication ({line!r})")
        self.unique_name = self.wait(self._serial)[0]

    def _read_line(self) -> bytes:
        while b"\r\n" not in self._buf:
            chunk = self._sock.recv(4096)
            if not chunk:
                raise DBusError("connect", "the D-Bus daemon closed the connection")
            self._buf.extend(chunk)
        line, _, rest = bytes(self._buf).partition(b"\r\n")
        self._buf = bytearray(rest)
        return line

    def _encode_call(self, dest: str, path: str, iface: str, member: str, sig: str,
                     args: tuple[Any, ...]) -> bytes:
        self._serial += 1
        body = bytearray()
        for t, a in zip(split_types(sig), args, strict=True):
            marshal(body, t, a)
        fields: list[tuple[int, tuple[str, Any]]] = [
            (1, ("o", path)), (3, ("s", member)), (6, ("s", dest))
        ]
        if iface:
            fields.append((2, ("s", iface)))
        if sig:
            fields.append((8, ("g", sig)))
        head = bytearray(b"l\x01\x00\x01")
        head.extend(_struct.pack("<II", len(body), self._serial))
        marshal(head, "a(yv)", fields)
        _pad(head, 8)
        return bytes(head + body)

    def send(self, dest: str, path: str, iface: str, member: str, sig: str = "",
             *args: Any) -> int:
        """Send a method call without waiting; returns its serial for :meth:`wait`."""
        msg = self._encode_call(dest, path, iface, member, sig, args)
        try:
            self._sock.sendall(msg)
        except OSError as exc:
            raise DBusError("connect", f"lost the D-Bus connection: {exc}") from exc
        return self._serial

    def call(self, dest: str, path: str, iface: str, member: str, sig: str = "",
             *args: Any) -> list[Any]:
        """Call a method and return its reply's values (a D-Bus error raises :class:`DBusError`)."""
        return self.wait(self.send(dest, path, iface, member, sig, *args))

    def wait(self, serial: int) -> list[Any]:
        """The reply to the call with ``serial`` (replies to other calls are kept for later)."""
        while serial not in self._pending:
            self._read_message()
        kind, error_name, _sig, values = self._pending.pop(serial)
        if kind == _ERROR:
            message = values[0] if values and isinstance(values[0], str) else ""
            raise DBusError(error_name, message)
        return values

    def _recv_exact(self, n: int) -> bytes:
        while len(self._buf) < n:
            try:
                chunk = self._sock.recv(max(65536, n - len(self._buf)))
            except OSError as exc:
                raise DBusError("connect", f"lost the D-Bus connection: {exc}") from exc
            if not chunk:
                raise DBusError("connect", "the D-Bus daemon closed the connection")
            self._buf.extend(chunk)
        data = bytes(self._buf[:n])
        del self._buf[:n]
        return data

    def _read_message(self) -> None:
        fixed = self._recv_exact(16)
        endian = "<" if fixed[0:1] == b"l" else ">"
        kind = fixed[1]
        body_len, _serial, fields_len = _struct.unpack_from(endian + "III", fixed, 4)
        header_len = 16 + fields_len
        header_len += -header_len % 8
        data = fixed + self._recv_exact(header_len - 16 + body_len)
        try:
            reader = _Reader(data, 12, endian)
            fields = dict(reader.read("a(yv)"))
            if kind not in (_METHOD_RETURN, _ERROR) or 5 not in fields:
                return  # signals (NameAcquired …) and calls to us are not for this client
            sig = fields.get(8, "")
            body = _Reader(data, header_len, endian)
            values = [body.read(t) for t in split_types(sig)]
        except (ValueError, IndexError, KeyError, _struct.error) as exc:  # type: ignore[attr-defined]
            raise DBusError("message", f"a D-Bus reply could not be decoded ({exc})") from exc
        self._pending[fields[5]] = (kind, fields.get(4, ""), sig, values)
