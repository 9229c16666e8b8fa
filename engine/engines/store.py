"""The engines the user added, kept in ``<config dir>/engines.json`` (no secrets in it).

File layout (``PORTSIDE_CONFIG_DIR`` or the platform's config folder)::

    engines.json                {"version": 1, "engines": [{"id": "user:<uuid>", "name": …,
                                  "url": …, "tls": {"ca": path, "cert": path, "key": path,
                                  "verify": true}}]}
    engines.json.bak            the file before the last change
    engines/<uuid>/ca.pem       copies of the TLS files the user picked (folder 0700;
    engines/<uuid>/cert.pem     key.pem 0600, the others 0644): the entry keeps working when
    engines/<uuid>/key.pem      the originals move, and the key never enters a settings file

Every write is atomic (temp file + rename) with the previous file kept as ``.bak``; keys this
version does not know (in the file and in each entry) are kept. A corrupt file is never
overwritten: changes raise :class:`EnginesFileError` saying how to fix it, and listing skips it.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from engine.credentials.paths import atomic_write, config_dir
from engine.endpoint import Endpoint, TLSConfig
from engine.engines.entry import EngineEntry
from engine.errors import InvalidEndpoint, PortsideError

FILE_VERSION = 1
_KEEP = object()


class EnginesFileError(PortsideError):
    """``engines.json`` cannot be read or written; the message says what to do."""


def engines_file() -> Path:
    return Path(config_dir()) / "engines.json"


def tls_folder(entry_id: str) -> Path:
    return Path(config_dir()) / "engines" / entry_id.removeprefix("user:")


def _read() -> dict[str, Any]:
    path = engines_file()
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {"version": FILE_VERSION, "engines": []}
    except OSError as exc:
        raise EnginesFileError(f"Cannot read {path}: {exc}. Check its permissions.") from exc
    try:
        data = json.loads(raw)
        if not isinstance(data, dict) or not isinstance(data.get("engines", []), list):
            raise ValueError("it is not an object with an \"engines\" list")
    except ValueError as exc:
        raise EnginesFileError(
            f"{path} is not valid ({exc}). Fix it, or move it away to start with no added "
            f"engines (the previous version may be in {path}.bak)."
        ) from exc
    data.setdefault("engines", [])
    return data


def _write(data: dict[str, Any]) -> None:
    path = engines_file()
    body = (json.dumps(data, indent=2) + "\n").encode("utf-8")
    try:
        if path.exists():
            shutil.copy2(path, path.with_name(path.name + ".bak"))
        atomic_write(str(path), body, mode=0o600)
    except OSError as exc:
        raise EnginesFileError(
            f"Cannot write {path}: {exc}. Check the folder's permissions."
        ) from exc


def _entry(raw: dict[str, Any]) -> EngineEntry | None:
    if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) for k in
                                            ("id", "name", "url")):
        return None
    tls = None
    t = raw.get("tls")
    if isinstance(t, dict):
        def p(key: str) -> Path | None:
            v = t.get(key)
            return Path(v) if isinstance(v, str) and v else None

        tls = TLSConfig(ca_cert=p("ca"), client_cert=p("cert"), client_key=p("key"),
                        verify=bool(t.get("verify", True)))
    return EngineEntry(id=raw["id"], name=raw["name"], kind="user", url=raw["url"], tls=tls,
                       editable=True, description=str(raw.get("description", "")))


def user_entries() -> list[EngineEntry]:
    """The added engines; an unreadable file gives none (changes then say what is wrong)."""
    try:
        data = _read()
    except EnginesFileError:
        return []
    return [e for e in (_entry(r) for r in data["engines"]) if e is not None]


def _check(name: str, url: str, tls: TLSConfig | None) -> Endpoint:
    if not name.strip():
        raise InvalidEndpoint("Give the engine a name.")
    endpoint = Endpoint.parse(url, tls=tls)
    if tls is not None and endpoint.scheme != "tls":
        raise InvalidEndpoint(
            f"TLS settings only apply to tcp:// engines; {endpoint.url} uses "
            f"{endpoint.scheme}://. Remove the certificates or use tcp://host:2376."
        )
    return endpoint


def _copy_tls(entry_id: str, tls: TLSConfig) -> TLSConfig:
    """Copy the TLS files into the entry's own folder (key 0600); check they load together."""
    for label, path in (("CA certificate", tls.ca_cert), ("client certificate",
                        tls.client_cert), ("client key", tls.client_key)):
        if path is not None and not path.is_file():
            raise InvalidEndpoint(f"The {label} {path} does not exist.")
    if (tls.client_cert is None) != (tls.client_key is None):
        raise InvalidEndpoint("A TLS client certificate needs its key, and a key its certificate.")
    tls.ssl_context()  # raises InvalidEndpoint naming the files when they do not load
    folder = tls_folder(entry_id)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)

    def copy(src: Path | None, name: str, mode: int) -> Path | None:
        if src is None:
            return None
        dest = folder / name
        if src.resolve() != dest.resolve():
            atomic_write(str(dest), src.read_bytes(), mode=mode)
        os.chmod(dest, mode)
        return dest

    return TLSConfig(
        ca_cert=copy(tls.ca_cert, "ca.pem", 0o644),
        client_cert=copy(tls.client_cert, "cert.pem", 0o644),
        client_key=copy(tls.client_key, "key.pem", 0o600),
        verify=tls.verify,
    )


def _tls_json(tls: TLSConfig | None) -> dict[str, Any] | None:
    if tls is None:
        return None
    return {"ca": str(tls.ca_cert or ""), "cert": str(tls.client_cert or ""),
            "key": str(tls.client_key or ""), "verify": tls.verify}


def add_engine(name: str, url: str, tls: TLSConfig | None = None) -> EngineEntry:
    """Add an engine by URL; TLS files are copied into Portside's config folder."""
    endpoint = _check(name, url, tls)
    data = _read()
    entry_id = f"user:{uuid.uuid4()}"
    stored = _copy_tls(entry_id, tls) if tls is not None else None
    raw = {"id": entry_id, "name": name.strip(), "url": endpoint.url, "tls": _tls_json(stored)}
    data["engines"].append(raw)
    data["version"] = FILE_VERSION
    _write(data)
    entry = _entry(raw)
    assert entry is not None
    return entry


def update_engine(
    entry_id: str, *, name: str | None = None, url: str | None = None, tls: Any = _KEEP
) -> EngineEntry:
    """Change an added engine's name, url and/or TLS settings (``tls=None`` drops TLS)."""
    data = _read()
    for raw in data["engines"]:
        if isinstance(raw, dict) and raw.get("id") == entry_id:
            break
    else:
        raise InvalidEndpoint(f"There is no added engine {entry_id!r} to edit.")
    current = _entry(raw)
    assert current is not None
    new_tls = current.tls if tls is _KEEP else tls
    new_name = current.name if name is None else name
    endpoint = _check(new_name, current.url if url is None else url, new_tls)
    if tls is not _KEEP:
        if new_tls is not None:
            new_tls = _copy_tls(entry_id, new_tls)
        else:
            shutil.rmtree(tls_folder(entry_id), ignore_errors=True)
    raw.update(name=new_name.strip(), url=endpoint.url, tls=_tls_json(new_tls))
    _write(data)
    entry = _entry(raw)
    assert entry is not None
    return entry


def remove_engine(entry_id: str) -> None:
    """Forget an added engine and delete its copies of the TLS files."""
    data = _read()
    kept = [r for r in data["engines"] if not (isinstance(r, dict) and r.get("id") == entry_id)]
    if len(kept) == len(data["engines"]):
        raise InvalidEndpoint(f"There is no added engine {entry_id!r} to remove.")
    data["engines"] = kept
    _write(data)
    shutil.rmtree(tls_folder(entry_id), ignore_errors=True)
