"""Fold the engine's per-layer pull/push progress into one bar (pure, no Qt).

The engine reports each layer separately (``Downloading 3 MB/10 MB``, ``Extracting``, ``Pull
complete``, ``Already exists``; for push ``Pushing``, ``Pushed``, ``Layer already exists``). The
dialog shows one bar: the sum of bytes done over the sum of bytes known, across every layer seen.
A finished layer counts as fully done; a layer that finished without ever reporting a size
(``Already exists``) counts in the layer tally only. Until any size is known the bar is
indeterminate (``fraction`` is None).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_DONE_STATUSES = (
    "pull complete",
    "already exists",
    "pushed",
    "layer already exists",
    "mounted from",
)
_DOWNLOAD_DONE = ("download complete", "verifying checksum")
_LAYER_STATUSES = (
    "pulling fs layer",
    "waiting",
    "downloading",
    "extracting",
    "preparing",
    "pushing",
    "retrying",
    *_DOWNLOAD_DONE,
    *_DONE_STATUSES,
)


@dataclass
class _Layer:
    current: int = 0
    total: int = 0
    done: bool = False


class ProgressFold:
    """Accumulates progress messages into one bar plus a human-readable status line."""

    def __init__(self) -> None:
        self._layers: dict[str, _Layer] = {}
        self.status = ""
        self.messages: list[str] = []  # non-layer lines (Digest:, Status:, pushed tag), in order

    @staticmethod
    def _is_layer_status(status: str) -> bool:
        low = status.lower()
        return any(low.startswith(s) for s in _LAYER_STATUSES)

    def feed(self, progress: Any) -> None:
        """Feed one ``engine.streams.Progress`` (or anything with id/status/current/total)."""
        self.update(
            getattr(progress, "id", None),
            getattr(progress, "status", "") or "",
            getattr(progress, "current", None),
            getattr(progress, "total", None),
        )

    def update(
        self, layer_id: str | None, status: str, current: int | None, total: int | None
    ) -> None:
        if not layer_id or not self._is_layer_status(status):
            if status:
                text = f"{layer_id}: {status}" if layer_id else status
                self.messages.append(text)
                self.status = text
            return
        layer = self._layers.setdefault(layer_id, _Layer())
        low = status.lower()
        if any(low.startswith(s) for s in _DONE_STATUSES):
            layer.done = True
            if layer.total:
                layer.current = layer.total
        elif low.startswith("downloading") or low.startswith("pushing"):
            if total and total > 0:
                layer.total = max(layer.total, total)
            if current is not None and not layer.done:
                layer.current = min(current, layer.total) if layer.total else current
        elif any(low.startswith(s) for s in _DOWNLOAD_DONE) and layer.total:
            layer.current = layer.total
        self.status = f"{status} ({self.layers_done}/{self.layers_seen} layers)"

    @property
    def layers_seen(self) -> int:
        return len(self._layers)

    @property
    def layers_done(self) -> int:
        return sum(1 for layer in self._layers.values() if layer.done)

    @property
    def current(self) -> int:
        return sum(layer.current for layer in self._layers.values())

    @property
    def total(self) -> int:
        return sum(layer.total for layer in self._layers.values())

    @property
    def complete(self) -> bool:
        return bool(self._layers) and self.layers_done == self.layers_seen

    @property
    def fraction(self) -> float | None:
        """0..1, or None while nothing measurable is known (show a busy bar)."""
        if self.complete:
            return 1.0
        total = self.total
        if total <= 0:
            return None
        return min(1.0, self.current / total)
