"""What one engine in Portside's list is, and what probing it found (plain data, no I/O).

:mod:`engine.engines.sources` builds :class:`EngineEntry` values from Portside's own engines, the
docker CLI's contexts and ``DOCKER_HOST``; :mod:`engine.engines.store` from ``engines.json`` (the
engines the user added). :mod:`engine.engines.probe` answers with an :class:`EngineProbe`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from engine.endpoint import Endpoint, TLSConfig
from engine.errors import InvalidEndpoint

Kind = Literal["portside", "context", "env", "user"]
State = Literal["running", "unreachable", "tls-error", "ssh-error", "invalid", "error"]


@dataclass(frozen=True)
class EngineEntry:
    """One engine the app can attach to.

    Attributes:
        id: stable across launches: ``portside-native``, ``portside-vm``, ``context:<name>``,
            ``env`` (``DOCKER_HOST``) or ``user:<uuid>``.
        name: what the user sees.
        kind: where it comes from: ``portside``, ``context``, ``env`` or ``user``.
        url: ``unix:///…``, ``tcp://host:port`` or ``ssh://user@host[:port]``.
        tls: client TLS settings for a ``tcp://`` url (None = plain HTTP).
        editable: only the user's own entries can be edited or removed in Portside.
        description: a context's description, or where the entry comes from.
        current: the docker CLI's current context (``DOCKER_CONTEXT`` / ``currentContext``).
        problem: why this entry cannot be used as it is ("" when it can), e.g. DOCKER_HOST
            with DOCKER_TLS_VERIFY but no ca.pem; probing it reports ``invalid`` with this.
    """

    id: str
    name: str
    kind: Kind
    url: str
    tls: TLSConfig | None = None
    editable: bool = False
    description: str = ""
    current: bool = False
    problem: str = ""

    def endpoint(self) -> Endpoint:
        """The parsed endpoint; raises :class:`engine.errors.InvalidEndpoint` for a bad entry."""
        if self.problem:
            raise InvalidEndpoint(self.problem)
        return Endpoint.parse(self.url, tls=self.tls)


@dataclass(frozen=True)
class EngineProbe:
    """What one look at an engine found.

    Attributes:
        state: ``running``; ``unreachable`` (nothing answers); ``tls-error`` (TLS failed, the
            reason says which side); ``ssh-error`` (ssh or the remote docker CLI failed);
            ``invalid`` (the entry itself is wrong: bad url, unreadable certificate files);
            ``error`` (the engine answered with an error).
        reason: in words, what to do; "" when running.
        version: the engine's version ("" when not running).
        os: its operating system (``linux``), arch: its CPU (``x86_64``), name: its host name.
        api_version: the API version it speaks.
    """

    state: State
    reason: str = ""
    version: str = ""
    os: str = ""
    arch: str = ""
    name: str = ""
    api_version: str = ""

    @property
    def running(self) -> bool:
        return self.state == "running"
