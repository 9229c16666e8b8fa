"""``portside`` (the desktop app): the qasync loop, the engine choice, the window and the tray.

By default Portside starts its own engine (``NativeEngine`` with ``EnginePaths.default()``) and
stops it on quit (asking first when containers run). With ``DOCKER_HOST`` set or ``--host URL``
it attaches to that engine (``ExternalEngine``), says so in the footer and leaves it running.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger("portside")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="portside",
        description="Portside: a desktop app for containers. "
        "`portside engine --help` for the headless engine commands.",
    )
    parser.add_argument(
        "--host",
        "-H",
        metavar="URL",
        help="attach to this Docker engine (unix:///path or tcp://host:port) instead of "
        "starting Portside's own; DOCKER_HOST does the same",
    )
    parser.add_argument("--hidden", action="store_true", help="start in the tray, window hidden")
    parser.add_argument("--debug", action="store_true", help="log debug messages")
    return parser.parse_args(argv)


def setup_logging(debug: bool) -> Path | None:
    import platformdirs

    level = logging.DEBUG if debug else logging.INFO
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    log_dir = Path(os.environ.get("PORTSIDE_LOG_DIR") or platformdirs.user_log_dir("portside"))
    log_file: Path | None = None
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        from logging.handlers import RotatingFileHandler

        path = log_dir / "portside.log"
        handlers.append(RotatingFileHandler(path, maxBytes=5_000_000, backupCount=2))
        log_file = path
    except OSError:
        pass
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    return log_file


def choose_engine(
    host: str | None, setting: str = "auto", platform: str = sys.platform
) -> tuple[Any, bool]:
    """(engine, attached): ``--host``/``DOCKER_HOST`` -> ExternalEngine, else the ``engine``
    setting: NativeEngine, or VMEngine (the default on macOS and Windows; engine/vm/choice.py)."""
    from engine.lifecycle import EnginePaths, ExternalEngine, NativeEngine
    from engine.vm.choice import engine_kind

    if host:
        return ExternalEngine(host), True
    if os.environ.get("DOCKER_HOST"):
        return ExternalEngine(None), True
    kind, note = engine_kind(setting, platform)
    if note:
        log.warning("%s", note)
    if kind == "vm":
        from engine.vm.engine import VMEngine

        return VMEngine(), False
    return NativeEngine(EnginePaths.default()), False


def install_signal_quit(on_signal: Any) -> Any:
    """Call ``on_signal(signum)`` on the Qt loop when SIGINT, SIGTERM or SIGHUP arrives.

    Qt's loop runs in C++, so Python signal handlers would only run at the next Python callback;
    instead the signal number is written to a socket (``signal.set_wakeup_fd``) that a
    QSocketNotifier watches: no timer, no idle wake-ups. Returns the notifier (keep it alive).
    """
    import signal
    import socket

    from PySide6.QtCore import QSocketNotifier

    read_end, write_end = socket.socketpair()
    read_end.setblocking(False)
    write_end.setblocking(False)
    signal.set_wakeup_fd(write_end.fileno())
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        # A Python-level handler keeps the default action (exit at once, engine orphaned) away;
        # the real work happens when the notifier reads the number from the socket.
        signal.signal(signum, lambda *_args: None)
    notifier = QSocketNotifier(read_end.fileno(), QSocketNotifier.Type.Read)

    def _read() -> None:
        try:
            data = read_end.recv(64)
        except BlockingIOError:
            return
        for signum in data:
            on_signal(signum)

    notifier.activated.connect(_read)
    notifier._sockets = (read_end, write_end)  # type: ignore[attr-defined]
    return notifier


def start_after_first_run(window: Any) -> Any:
    """First launch: open the first-run wizard over the window; the engine starts when the
    wizard starts it, or when the wizard closes with the engine still stopped (skipped).
    A wizard resumed past its start page starts the engine at once."""
    from app import wizard as first_run
    from app.wizard.wizard import KEYS
    from engine.lifecycle.base import EngineState

    ctx = window.ctx
    window.show()
    guide = first_run.open_first_run(window)
    step = str(window.settings.wizard_step or "")
    if step in KEYS and KEYS.index(step) > KEYS.index("start"):
        ctx.start()

    def closed(_finished: bool) -> None:
        if ctx.engine.status.state == EngineState.STOPPED:
            ctx.start()

    guide.closed.connect(closed)
    return guide


def run_gui(argv: list[str]) -> int:
    """Run the app until the user quits; returns the exit code."""
    args = parse_args(argv)
    setup_logging(args.debug)

    from PySide6.QtWidgets import QApplication, QSystemTrayIcon

    from app import theme
    from app.context import AppContext
    from app.loop import EventLoop
    from app.main_window import MainWindow
    from app.resources import icon
    from app.runner import Runner, install_crash_hook
    from app.settings import Settings
    from app.tray import Tray
    from app.wizard import wanted as first_run_wanted
    from app.wizard.choice import attach_host
    from engine.errors import PortsideError

    # loaded once: a corrupt file is moved aside here and its notice must reach the window
    settings = Settings.load()
    try:
        # --host, else DOCKER_HOST, else the engine the first-run wizard attached to
        engine, attached = choose_engine(attach_host(args.host, settings), settings.engine)
        client_factory = None
        if settings.engine_id and not args.host and not os.environ.get("DOCKER_HOST"):
            # the engine last chosen in the switcher (app/engines) wins over the older choices
            from app.engines.targets import remembered_target

            remembered = remembered_target(settings.engine_id)
            if remembered is not None:
                engine, attached = remembered.engine, remembered.attached
                client_factory = remembered.client_factory
    except PortsideError as exc:
        print(f"portside: {exc}", file=sys.stderr)
        return 2

    qt_app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(qt_app, QApplication)
    qt_app.setApplicationName("Portside")
    qt_app.setDesktopFileName("portside")
    qt_app.setWindowIcon(icon("portside"))
    qt_app.setQuitOnLastWindowClosed(False)

    loop = EventLoop(qt_app)
    asyncio.set_event_loop(loop)
    install_crash_hook(loop)

    # Our own light/dark palettes (also on plain X); the window's Appearance menu switches.
    theme.apply(qt_app, settings.theme)
    runner = Runner()
    ctx = AppContext(engine, attached=attached, runner=runner, client_factory=client_factory)
    window = MainWindow(ctx, settings)
    done = asyncio.Event()

    def open_window() -> None:
        window.show()
        window.raise_()
        window.activateWindow()

    quitting = False

    async def quit_app(ask: bool = True) -> None:
        nonlocal quitting
        if quitting:
            return
        quitting = True
        try:
            if ask and not await window.confirm_quit():
                quitting = False
                return
            window.save_state()
            window.hide()
            await ctx.shutdown()
        finally:
            if quitting:
                done.set()

    quit_tasks: set[asyncio.Task[None]] = set()

    def request_quit(ask: bool = True) -> None:
        task = asyncio.ensure_future(quit_app(ask))
        quit_tasks.add(task)
        task.add_done_callback(quit_tasks.discard)

    def on_signal(signum: int) -> None:
        # Ctrl+C, `kill`, a closed terminal or a logout: stop our engine cleanly without asking.
        log.info("signal %d: quitting", signum)
        request_quit(ask=False)

    signal_notifier = install_signal_quit(on_signal)

    tray = Tray(ctx, open_window, lambda: request_quit())
    tray_ok = QSystemTrayIcon.isSystemTrayAvailable()
    window.tray_available = lambda: tray_ok and tray.isVisible()
    from app.engines.install import install_tray

    install_tray(tray, window)  # the tray's Engine submenu
    if tray_ok:
        tray.show()
    window.quit_requested.connect(lambda: request_quit())

    async def main() -> None:
        if (settings.open_window_on_start and not args.hidden) or not tray_ok:
            window.show()
        elif settings.notices:  # shown in the window when it opens; say so from the tray now
            ctx.notify("Portside settings", settings.notices[0])
        if first_run_wanted(settings):
            start_after_first_run(window)
        else:
            ctx.start()
        # The start-up heap (modules, Qt wrappers, the window) lives as long as the app: kept
        # out of the collector, full collections only walk what came later (a log view holding
        # a big cap of lines made them 20-117 ms pauses).
        gc.freeze()
        await done.wait()

    try:
        with loop:
            loop.run_until_complete(main())
    except KeyboardInterrupt:
        return 130
    finally:
        tray.hide()
        signal_notifier.setEnabled(False)
    return 0
