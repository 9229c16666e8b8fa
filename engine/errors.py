"""Every error Portside's engine layer raises, in one tree.

::

    PortsideError
    ├── EngineError                  anything to do with talking to a Docker engine
    │   ├── EngineUnreachable        socket/host cannot be reached (message names it)
    │   ├── InvalidEndpoint          a malformed DOCKER_HOST / --host / endpoint string
    │   ├── ApiVersionTooOld         the engine speaks an API older than we support
    │   ├── EngineAPIError           the engine answered with an error status
    │   │   ├── NotFound             404
    │   │   ├── Conflict             409 (name in use, container running, ...)
    │   │   ├── AuthRequired         401 / "unauthorized: authentication required"
    │   │   └── AuthDenied           403 / wrong credentials at /auth
    │   └── StreamError              an error inside a 200 stream (errorDetail, stream 3)
    ├── LifecycleError               starting/stopping an engine Portside manages
    │   ├── EngineNotInstalled       no dockerd (or rootless tooling); says what to install
    │   ├── EngineAlreadyRunning     the data root is locked by another Portside engine
    │   └── EngineStartFailed        dockerd exited or never answered; carries the log tail
    └── CredentialsError             keyring and docker config problems
        ├── KeyringUnavailable       no usable backend, or it is locked
        ├── CredentialsNotFound      no secret stored for that registry
        └── DockerConfigError        ~/.docker/config.json is unreadable/corrupt (path given)

Foreign exceptions (httpx, OSError, json) are translated where they occur with
``raise ... from exc`` so the original stays in ``__cause__``.
"""

from __future__ import annotations


class PortsideError(Exception):
    """Base class of every error Portside raises on purpose."""


class EngineError(PortsideError):
    """A problem talking to a Docker engine."""


class EngineUnreachable(EngineError):
    """The engine's socket or host cannot be reached."""

    def __init__(self, endpoint: str, reason: str = "") -> None:
        self.endpoint = endpoint
        self.reason = reason
        detail = f": {reason}" if reason else ""
        super().__init__(
            f"Cannot reach the Docker engine at {endpoint}{detail}. "
            "Is the engine running? Start it with `portside engine start`, "
            "or point DOCKER_HOST at a running engine."
        )


class InvalidEndpoint(EngineError):
    """An endpoint string (``DOCKER_HOST``, ``--host``) cannot be parsed."""


class ApiVersionTooOld(EngineError):
    """The engine's API version is below the minimum Portside supports."""

    def __init__(self, server_version: str, minimum: str) -> None:
        self.server_version = server_version
        self.minimum = minimum
        if server_version.startswith("unknown"):  # no usable Api-Version: not Docker at all
            super().__init__(
                "The server answered, but it is not a Docker engine: its /_ping reply has no "
                f"usable Api-Version header (API version {server_version}). Point DOCKER_HOST (or "
                "the endpoint you chose) at a Docker engine, or let Portside run its own with "
                "`portside engine start`."
            )
            return
        super().__init__(
            f"The Docker engine speaks API {server_version}, but Portside needs at least "
            f"{minimum} (Docker Engine 20.10 or newer). Upgrade the engine, or let Portside "
            "run its own with `portside engine start`."
        )


class EngineAPIError(EngineError):
    """The engine answered a request with an error status.

    Attributes:
        status: the HTTP status code.
        explanation: the engine's own message (its ``message`` field), verbatim.
    """

    def __init__(self, status: int, explanation: str, *, method: str = "", path: str = "") -> None:
        self.status = status
        self.explanation = explanation
        self.method = method
        self.path = path
        super().__init__(explanation or f"Engine returned HTTP {status} for {method} {path}")


class NotFound(EngineAPIError):
    """404: no such container, image, volume, network or exec instance."""


class Conflict(EngineAPIError):
    """409: a name is in use, a container is running, an image is in use, ..."""


class AuthRequired(EngineAPIError):
    """The registry needs credentials (or the ones sent were not accepted for this image)."""


class AuthDenied(EngineAPIError):
    """The registry refused the credentials (wrong user name or password)."""


class StreamError(EngineError):
    """An error reported inside a stream that started with HTTP 200.

    Pull/push/build progress carries it as ``errorDetail``; multiplexed logs/attach carry it as
    stream 3. The message is the engine's own.
    """

    def __init__(self, message: str, code: int | None = None) -> None:
        self.message = message
        self.code = code
        super().__init__(message)


class LifecycleError(PortsideError):
    """Starting, stopping or supervising an engine Portside manages failed."""


class EngineNotInstalled(LifecycleError):
    """The engine binaries are missing; the message says what to install."""


class EngineAlreadyRunning(LifecycleError):
    """Another Portside engine holds the lock on this data root."""


class EngineStartFailed(LifecycleError):
    """The engine exited during start-up or never answered ``/_ping``.

    Attributes:
        log_tail: the last lines of the engine's log, for showing to the user.
    """

    def __init__(self, message: str, log_tail: str = "") -> None:
        self.log_tail = log_tail
        full = f"{message}\n\nLast lines of the engine log:\n{log_tail}" if log_tail else message
        super().__init__(full)


class CredentialsError(PortsideError):
    """A problem with stored registry credentials."""


class KeyringUnavailable(CredentialsError):
    """No usable OS keyring, or it is locked. Nothing is stored in plaintext instead."""


class CredentialsNotFound(CredentialsError):
    """No credentials are stored for that registry."""


class DockerConfigError(CredentialsError):
    """The docker CLI's ``config.json`` cannot be read or written; the file is left untouched."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(
            f"{path} is not valid ({reason}). Portside left it untouched: fix or move it "
            "aside, then try again."
        )
