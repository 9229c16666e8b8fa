"""Settings > Proxies: the HTTP/HTTPS proxies and no-proxy list Portside's engine uses.

Data flow: the fields show ``engine.lifecycle.proxies.load`` of the engine folder; every edit is
checked with ``proxies.check`` (a URL with a password is refused with what to do instead: the
password would end up in plaintext in dockerd's environment). "Apply & restart" saves
``proxies.json`` (atomic, 0600, ``.bak``) and restarts the engine through the app's runner, since
dockerd reads proxies only from its environment when it starts. Pulls, pushes and builds then go
through them. For Portside's own native engine and its VM (:func:`proxy_paths`); the VM's
guest reaches a proxy on the host's localhost at 10.0.2.2 (proxies.for_vm_guest).
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.dialogs.base import guarded, still_alive
from app.dialogs.frame import WrapLabel, grow_to_fit, name_form_fields
from app.settings_window.engine_tab import managed_paths
from engine.errors import LifecycleError
from engine.lifecycle import proxies

log = logging.getLogger(__name__)

RUN_KEY = "engine.proxies"


def proxy_paths(ctx: Any) -> Any:
    """Where the proxies of the engine Portside starts live: the native engine's folder, or
    the VM's (whose guest init exports them for its dockerd); None for an attached engine."""
    paths = managed_paths(ctx)
    if paths is not None:
        return paths
    from engine.vm.engine import VMEngine

    engine = getattr(ctx, "engine", None)
    if isinstance(engine, VMEngine) and not getattr(ctx, "attached", False):
        return engine.paths.engine
    return None


class ProxiesTab(QWidget):
    """HTTP proxy, HTTPS proxy, no proxy for; Apply & restart."""

    def __init__(self, window: Any) -> None:
        super().__init__()
        self.ctx = window.ctx
        self.paths = proxy_paths(self.ctx)
        self.intro = WrapLabel(
            "Portside's engine uses these to pull, push and build (dockerd reads them when it "
            "starts). Leave a field empty for a direct connection. Proxy passwords are not "
            "stored: use a proxy that does not need one in its URL."
        )
        self.intro.setObjectName("muted")
        self.http = QLineEdit()
        self.http.setPlaceholderText("http://proxy.example.com:3128")
        self.https = QLineEdit()
        self.https.setPlaceholderText("http://proxy.example.com:3128")
        self.no_proxy = QLineEdit()
        self.no_proxy.setPlaceholderText("localhost,127.0.0.1,.internal.example.com")
        form = QFormLayout()
        form.addRow("HTTP proxy:", self.http)
        form.addRow("HTTPS proxy:", self.https)
        form.addRow("No proxy for:", self.no_proxy)
        name_form_fields(form)
        self.problems = WrapLabel()
        self.problems.setObjectName("fieldError")
        self.problems.setAccessibleName("Problems with the proxies")
        self.problems.hide()
        self.result = WrapLabel()
        self.result.setObjectName("muted")
        self.result.hide()
        self.apply_button = QPushButton("Apply && restart")
        self.apply_button.setObjectName("primaryButton")
        self.apply_button.setAccessibleName("Apply proxies and restart the engine")
        self.apply_button.clicked.connect(self.apply)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.apply_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(form)
        layout.addWidget(self.problems)
        layout.addWidget(self.result)
        layout.addStretch(1)
        layout.addLayout(row)
        self.first_field: QWidget = self.http
        saved = proxies.load(self.paths) if self.paths is not None else proxies.Proxies()
        self.http.setText(saved.http)
        self.https.setText(saved.https)
        self.no_proxy.setText(saved.no_proxy)
        self._saved = saved
        for edit in (self.http, self.https, self.no_proxy):
            edit.textChanged.connect(self._on_edit)
        if self.paths is None:
            what = getattr(getattr(self.ctx, "engine", None), "name", "this engine")
            self.intro.setText(
                f"Portside does not start {what}, so it cannot pass proxies to it. Set them "
                "where that engine runs."
            )
            for edit in (self.http, self.https, self.no_proxy):
                edit.setEnabled(False)
        self._on_edit()

    def current(self) -> proxies.Proxies:
        return proxies.Proxies(self.http.text().strip(), self.https.text().strip(),
                               self.no_proxy.text().strip())

    def _on_edit(self) -> None:
        problems = proxies.check(self.current())
        self.problems.setText("\n".join(problems))
        self.problems.setVisible(bool(problems))
        grow_to_fit(self)
        self.apply_button.setEnabled(
            self.paths is not None and not problems and not self.ctx.runner.in_flight(RUN_KEY)
        )

    def apply(self) -> None:
        if self.paths is None:
            return
        wanted = self.current()
        try:
            where = proxies.save(self.paths, wanted)
        except (LifecycleError, OSError) as exc:
            self.problems.setText(f"Not saved: {exc}")
            self.problems.show()
            return
        self._saved = wanted
        engine = self.ctx.engine
        self.result.setText(f"Saved in {where}. Restarting the engine…")
        self.result.show()
        self.apply_button.setEnabled(False)

        async def restart() -> None:
            await engine.restart()

        self.ctx.runner.run(
            restart, key=RUN_KEY, title="Restart the engine with the new proxies",
            # the Settings window may be closed and deleted during the restart (seconds)
            on_done=guarded(self, self._restarted), on_error=self._failed,
            work="Apply proxies and restart the engine",
        )

    def _restarted(self, _result: Any) -> None:
        self.result.setText("Saved. The engine restarted and uses these proxies.")
        self._on_edit()

    def _failed(self, exc: BaseException) -> bool:
        if not still_alive(self):
            return False  # the tab is gone: the runner tells the user the engine did not start
        self.result.setText(f"Saved, but the engine did not start again: {exc}")
        self._on_edit()
        return True
