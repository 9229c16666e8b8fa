"""The container page's Terminal tab: interactive shells over exec in a pyte-backed widget.

Modules: ``screen`` (pyte's VT state machine plus scrollback and the alternate screen), ``widget``
(paints the cell grid, keys and mouse in), ``keys`` (key -> xterm bytes), ``colours``, ``session``
(one exec with a TTY on the qasync loop), ``pane`` (a widget and its session), ``tab`` (the
``TerminalTab`` the page shows), ``system_terminal`` (``docker exec -it`` in the user's emulator).
"""

from app.views.container_page.terminal.tab import TerminalTab

__all__ = ["TerminalTab"]
