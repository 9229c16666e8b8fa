"""The main window: sidebar of views, the current view, and a footer with the engine's state.

Views are named by module path and imported when the window is built, so ``portside --version``
and ``portside engine`` never pay for them. Under the sidebar, the account button shows the
signed-in Docker Hub user (or offers to sign in), and the Appearance button switches the theme
live (Light / Dark / Follow the system: ``app.theme.apply``, saved in ``Settings.theme``).

The sidebar switches views on ``currentRowChanged`` and also when only the *selection* changes
(a screen reader's "select" action on an item selects it without making it current).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QByteArray, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QKeySequence,
    QShortcut,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app import theme
from app.resources import icon
from app.settings import Settings
from engine.lifecycle.base import EngineState, EngineStatus

log = logging.getLogger(__name__)

# (key, sidebar title, icon, module, class)
VIEWS: tuple[tuple[str, str, str, str, str], ...] = (
    ("containers", "Containers", "nav-containers", "app.views.containers", "ContainersView"),
    ("images", "Images", "nav-images", "app.views.images", "ImagesView"),
    ("volumes", "Volumes", "nav-volumes", "app.views.volumes", "VolumesView"),
    ("networks", "Networks", "nav-networks", "app.views.networks", "NetworksView"),
    ("disk", "Disk usage", "nav-disk", "app.views.disk", "DiskUsageView"),
    ("accounts", "Accounts", "nav-accounts", "app.views.accounts", "AccountsView"),
)

STATE_TEXT = {
    EngineState.RUNNING: "Engine running",
    EngineState.STARTING: "Engine starting…",
    EngineState.STOPPING: "Engine stopping…",
    EngineState.STOPPED: "Engine stopped",
    EngineState.FAILED: "Engine failed",
}


def load_view_class(module: str, cls: str) -> type[QWidget]:
    """The view class ``cls`` from ``module``."""
    view_cls: type[QWidget] = getattr(importlib.import_module(module), cls)
    return view_cls


class Footer(QWidget):
    """Engine state + version + where it runs, and Start/Stop/Restart."""

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("footer")
        self.state_icon = QLabel()
        self.state_icon.setObjectName("engineStateIcon")
        self.state_label = QLabel()
        # a label is read by its text (the state itself); the description says what it is
        self.state_label.setAccessibleDescription("Engine status")
        self.state_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.start_button = QPushButton(icon("action-start"), "Start")
        self.stop_button = QPushButton(icon("action-stop"), "Stop")
        self.restart_button = QPushButton(icon("action-restart"), "Restart")
        for b in (self.start_button, self.stop_button, self.restart_button):
            b.setFlat(True)
        self.start_button.clicked.connect(ctx.start_engine)
        self.stop_button.clicked.connect(ctx.stop_engine)
        self.restart_button.clicked.connect(ctx.restart_engine)
        self.start_button.setAccessibleName("Start engine")
        self.stop_button.setAccessibleName("Stop engine")
        self.restart_button.setAccessibleName("Restart engine")
        self.busy_label = QLabel()
        self.busy_label.setObjectName("muted")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(theme.Sizes.SPACING, 2, theme.Sizes.SPACING, 2)
        layout.setSpacing(theme.Sizes.SPACING)
        layout.addWidget(self.state_icon)
        layout.addWidget(self.state_label, 1)
        layout.addWidget(self.busy_label)
        layout.addWidget(self.start_button)
        layout.addWidget(self.stop_button)
        layout.addWidget(self.restart_button)
        ctx.engine_status_changed.connect(self.refresh)
        ctx.connection_changed.connect(self.refresh)
        ctx.client_changed.connect(self.refresh)
        ctx.runner.busy_changed.connect(self._on_busy)
        self.refresh()

    def _on_busy(self, busy: bool) -> None:
        self.busy_label.setText("Working…" if busy else "")

    def refresh(self, *_: Any) -> None:
        from app.tray import STATE_ICONS

        status: EngineStatus = self.ctx.engine.status
        self.state_icon.setPixmap(icon(STATE_ICONS[status.state]).pixmap(18, 18))
        self.state_icon.setAccessibleName(STATE_TEXT[status.state])
        parts = [STATE_TEXT[status.state]]
        if status.state == EngineState.RUNNING and self.ctx.client is not None:
            if self.ctx.server_version:
                parts.append(f"Docker {self.ctx.server_version} (API {self.ctx.api_version})")
        elif status.state == EngineState.RUNNING:
            parts.append("connecting…")
        if self.ctx.attached:
            parts.append(f"attached to {status.endpoint or self.ctx.engine.endpoint}")
        elif self.ctx.engine.name == "Portside VM" and status.state is not EngineState.FAILED:
            # the VM says what it does: "Booting the Linux VM (QEMU, KVM)…", accelerator, resources
            parts.append(status.detail.splitlines()[0][:160] if status.detail else "Linux VM")
        else:
            parts.append("Portside's own engine")
        if status.state == EngineState.FAILED and status.detail:
            parts.append(status.detail.splitlines()[0][:160])
        self.state_label.setText(" · ".join(parts))
        self.state_label.setToolTip(status.detail or "")
        running = status.state == EngineState.RUNNING
        busy = status.state in (EngineState.STARTING, EngineState.STOPPING)
        self.start_button.setVisible(not running and not busy)
        self.start_button.setText("Retry" if self.ctx.attached else "Start")
        self.start_button.setAccessibleName(
            "Retry connecting to the engine" if self.ctx.attached else "Start engine"
        )
        self.stop_button.setVisible(running and not self.ctx.attached)
        self.restart_button.setVisible(running and not self.ctx.attached)


class MainWindow(QMainWindow):
    """Sidebar + stacked views + footer. Closing hides to the tray when that setting is on."""

    quit_requested = Signal()

    def __init__(
        self,
        ctx: Any,
        settings: Settings | None = None,
        parent: QWidget | None = None,
        *,
        views: tuple[tuple[str, str, str, str, str], ...] = VIEWS,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.settings = settings or Settings()
        self.tray_available: Callable[[], bool] = lambda: False
        self.setWindowTitle("Portside")
        self.setWindowIcon(icon("portside"))
        self.sidebar = QListWidget()
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setAccessibleName("Views")
        self.sidebar.setAccessibleDescription("Choose what the window shows")
        self.sidebar.setIconSize(QSize(theme.Sizes.ICON, theme.Sizes.ICON))
        self.sidebar.setFrameShape(QListWidget.Shape.NoFrame)
        self.sidebar.setSpacing(1)
        self.sidebar.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.sidebar.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.stack = QStackedWidget()
        self.stack.setContentsMargins(theme.Sizes.MARGIN, theme.Sizes.MARGIN - 4,
                                      theme.Sizes.MARGIN, theme.Sizes.SPACING)
        self.views: dict[str, QWidget] = {}
        for key, title, icon_name, module, cls in views:
            view = load_view_class(module, cls)(ctx)
            self.views[key] = view
            self.stack.addWidget(view)
            item = QListWidgetItem(icon(icon_name), title)
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setSizeHint(QSize(theme.Sizes.SIDEBAR_WIDTH - 16, theme.Sizes.NAV_ROW))
            self.sidebar.addItem(item)
        self.sidebar.currentRowChanged.connect(self._on_nav)
        self.sidebar.itemSelectionChanged.connect(self._on_nav_selection)

        body = QWidget()
        layout = QHBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.sidebar_panel = QWidget()
        self.sidebar_panel.setObjectName("sidebarPanel")
        self.sidebar_panel.setFixedWidth(theme.Sizes.SIDEBAR_WIDTH)
        side = QVBoxLayout(self.sidebar_panel)
        side.setContentsMargins(0, 0, 0, theme.Sizes.SPACING)
        side.setSpacing(2)
        brand_row = QHBoxLayout()
        brand_row.setContentsMargins(16, 14, 16, 6)
        brand_row.setSpacing(theme.Sizes.SPACING)
        logo = QLabel()
        logo.setPixmap(icon("portside").pixmap(24, 24))
        logo.setAccessibleName("Portside")
        brand = QLabel("Portside")
        brand.setObjectName("brand")
        brand_row.addWidget(logo)
        brand_row.addWidget(brand, 1)
        side.addLayout(brand_row)
        side.addWidget(self.sidebar, 1)
        self.account_button = QPushButton(icon("nav-accounts"), "")
        self.account_button.setFlat(True)
        self.account_button.setObjectName("accountButton")
        self.account_button.clicked.connect(self._on_account_button)
        side.addWidget(self.account_button)
        side.addWidget(self._make_theme_button())
        side.addWidget(self._make_settings_button())
        side.addWidget(self._make_help_button())
        layout.addWidget(self.sidebar_panel)
        layout.addWidget(self.stack, 1)
        accounts = self.views.get("accounts")
        if accounts is not None:
            accounts.hub_user_changed.connect(self._show_hub_user)  # type: ignore[attr-defined]
            self._show_hub_user(accounts.hub_user)  # type: ignore[attr-defined]
        else:
            self.account_button.hide()
        # the Containers header's primary action: run a new container (from any image)
        header = getattr(self.views.get("containers"), "header", None)
        if header is not None and "images" in self.views:
            header.add_primary("Run…", self.open_run_dialog, icon("action-start"),
                               tip="Run a new container from an image")
        self.setCentralWidget(body)
        self.footer = Footer(ctx)
        self.statusBar().addWidget(self.footer, 1)
        self.statusBar().setSizeGripEnabled(True)
        from app.engines.install import install as install_engines

        install_engines(self)  # the footer's engine switcher + the Engines window (issue 12)

        QShortcut(QKeySequence(Qt.Key.Key_F5), self, ctx.resync)
        QShortcut(QKeySequence.StandardKey.Quit, self, self.quit_requested.emit)
        ctx.set_visibility_provider(self._visible)
        ctx.runner.dialog_parent = lambda: self if shiboken6.isValid(self) else None

        keys = list(self.views)
        start = keys.index(self.settings.last_view) if self.settings.last_view in keys else 0
        self.sidebar.setCurrentRow(start)
        if self.settings.window_geometry:
            self.restoreGeometry(QByteArray.fromBase64(self.settings.window_geometry.encode()))
        else:
            self.resize(*theme.Sizes.MIN_WINDOW)

    # -- appearance ----------------------------------------------------------------------------
    @staticmethod
    def _sidebar_button(object_name: str, icon_name: str, name: str, tip: str) -> QToolButton:
        """A button at the foot of the sidebar: its text beside a 16 px icon, named, with a tip."""
        button = QToolButton()
        button.setObjectName(object_name)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        button.setIcon(icon(icon_name))
        button.setIconSize(QSize(16, 16))
        button.setAccessibleName(name)
        button.setToolTip(tip)
        return button

    def _make_theme_button(self) -> QToolButton:
        """The sidebar's Appearance button: a menu of Light / Dark / Follow the system."""
        button = self._sidebar_button(
            "themeButton", "appearance", "Appearance",
            "Light, dark, or follow the system (Ctrl+Shift+L switches)",
        )
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(button)
        menu.setAccessibleName("Appearance")
        group = QActionGroup(menu)
        group.setExclusive(True)
        self.theme_actions: dict[str, QAction] = {}
        for mode in theme.MODES:
            action = QAction(theme.MODE_TITLES[mode], menu)
            action.setCheckable(True)
            action.triggered.connect(lambda _checked=False, m=mode: self.set_theme(m))
            group.addAction(action)
            menu.addAction(action)
            self.theme_actions[mode] = action
        button.setMenu(menu)
        self.theme_menu = menu
        self.theme_button = button
        QShortcut(QKeySequence("Ctrl+Shift+L"), self, self.cycle_theme)
        self._show_theme(theme.normalise_mode(self.settings.theme))
        return button

    # -- settings and help --------------------------------------------------------------------
    def _make_settings_button(self) -> QToolButton:
        """The sidebar's Settings button (Ctrl+, and the platform's Preferences key)."""
        button = self._sidebar_button(
            "settingsButton", "settings", "Settings",
            "General, resources, engine, proxies, accounts, CLI (Ctrl+,)",
        )
        button.setText("Settings")
        button.clicked.connect(self.open_settings)
        self.settings_button = button
        self.settings_window: QWidget | None = None
        QShortcut(QKeySequence("Ctrl+,"), self, self.open_settings)
        if QKeySequence(QKeySequence.StandardKey.Preferences) != QKeySequence("Ctrl+,"):
            QShortcut(QKeySequence.StandardKey.Preferences, self, self.open_settings)
        return button

    def open_settings(self, tab: str = "") -> QWidget:
        """Show the Settings window (one per main window), on ``tab`` when given."""
        from app.settings_window import SettingsWindow

        window = self.settings_window
        if window is None or not shiboken6.isValid(window):
            window = SettingsWindow(self.ctx, self.settings, self)
            self.settings_window = window
        if tab:
            window.show_tab(tab)  # type: ignore[attr-defined]
        if window.isVisible():
            window.raise_()  # already open behind the main window: bring it forward
        window.show()
        window.activateWindow()
        return window

    def _make_help_button(self) -> QToolButton:
        """The sidebar's Help button; its menu (``help_menu``) is filled by the features."""
        button = self._sidebar_button(
            "helpButton", "help", "Help", "First-run guide, troubleshooting"
        )
        button.setText("Help")
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.help_menu = QMenu(button)
        self.help_menu.setAccessibleName("Help")
        button.setMenu(self.help_menu)
        self.help_button = button
        from app.wizard import add_help_item

        add_help_item(self)  # Help ▸ First-run guide…
        from app.troubleshoot import add_help_item as add_troubleshoot_item

        add_troubleshoot_item(self)  # Help ▸ Troubleshoot…
        from app.dialogs.about import add_help_item as add_about_item

        self.help_menu.addSeparator()
        add_about_item(self)  # Help ▸ About Portside
        return button

    def _show_theme(self, mode: str) -> None:
        self.theme_actions[mode].setChecked(True)
        self.theme_button.setText(f"Appearance: {theme.MODE_TITLES[mode].split()[-1].lower()}")

    def set_theme(self, mode: str) -> None:
        """Switch the look now and remember it ("system", "light" or "dark")."""
        mode = theme.normalise_mode(mode)
        self.settings.theme = mode
        qt_app = QApplication.instance()
        if isinstance(qt_app, QApplication):
            theme.apply(qt_app, mode)
        self._show_theme(mode)
        self.footer.refresh()

    def cycle_theme(self) -> None:
        """Ctrl+Shift+L: light -> dark -> system -> light."""
        modes = ("light", "dark", "system")
        now = theme.normalise_mode(self.settings.theme)
        self.set_theme(modes[(modes.index(now) + 1) % len(modes)])

    def open_run_dialog(self, image: str = "") -> QWidget:
        """The Run dialog for any image; the new container shows in Containers when it starts."""
        from app.dialogs.run import RunDialog

        images: Any = self.views["images"]
        dialog = RunDialog(self.ctx, image, images)
        dialog.started.connect(lambda _cid: self.show_view("containers"))
        images.keep_dialog(dialog).show()
        return dialog

    def _show_hub_user(self, user: str) -> None:
        """The signed-in Docker Hub user under the sidebar, or an offer to sign in."""
        if user:
            self.account_button.setText(user)
            self.account_button.setToolTip(f"Signed in to Docker Hub as {user}")
        else:
            self.account_button.setText("Sign in to Docker Hub")
            self.account_button.setToolTip("Sign in to Docker Hub or another registry")

    def _on_account_button(self) -> None:
        accounts = self.show_view("accounts")
        if not accounts.hub_user:  # type: ignore[attr-defined]
            from engine.registry import HUB_SERVER

            accounts.open_sign_in(HUB_SERVER)  # type: ignore[attr-defined]

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.settings.notices:
            QTimer.singleShot(0, self.show_settings_notices)

    def show_settings_notices(self) -> QMessageBox | None:
        """Tell the user what happened to their settings file (moved aside...), once."""
        notices, self.settings.notices[:] = list(self.settings.notices), []
        if not notices or not shiboken6.isValid(self):
            return None
        box = QMessageBox(
            QMessageBox.Icon.Warning, "Portside settings", "\n\n".join(notices),
            QMessageBox.StandardButton.Ok, self,
        )
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.settings_notice_box = box
        box.open()
        return box

    def _visible(self) -> bool:
        return shiboken6.isValid(self) and self.isVisible() and not self.isMinimized()

    def show_view(self, key: str) -> QWidget:
        keys = list(self.views)
        self.sidebar.setCurrentRow(keys.index(key))
        return self.views[key]

    def _on_nav_selection(self) -> None:
        selected = self.sidebar.selectedItems()
        if selected and self.sidebar.currentItem() is not selected[0]:
            self.sidebar.setCurrentItem(selected[0])

    def _on_nav(self, row: int) -> None:
        if row < 0:
            return
        self.stack.setCurrentIndex(row)
        key = self.sidebar.item(row).data(Qt.ItemDataRole.UserRole)
        self.settings.last_view = str(key)

    def save_state(self) -> None:
        self.settings.window_geometry = bytes(self.saveGeometry().toBase64().data()).decode()
        try:
            self.settings.save()
        except OSError as exc:
            log.warning("could not save settings to %s: %s", self.settings.path, exc)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        if self.settings.close_to_tray and self.tray_available():
            event.ignore()
            self.hide()
            self.ctx.notify("Portside is still running", "Open it again from the tray icon.")
            return
        event.ignore()
        self.quit_requested.emit()

    async def confirm_quit(self) -> bool:
        """Ask before stopping Portside's own engine while containers run."""
        if self.ctx.attached or self.ctx.client is None:
            return True
        try:
            running = await self.ctx.client.containers.list()
        except Exception:  # the engine is unreachable: nothing to lose by stopping it
            log.info("could not list containers before quitting", exc_info=True)
            return True
        if not running:
            return True
        if not self.isVisible():
            self.show()
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Quit Portside",
            f"{len(running)} container{'s are' if len(running) != 1 else ' is'} running. "
            "Quitting stops Portside's engine and them with it.",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        stop = box.addButton("Stop engine and quit", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def _answered(_result: int) -> None:
            if not future.done():
                future.set_result(box.clickedButton() is stop)

        box.finished.connect(_answered)
        box.open()
        return await future
