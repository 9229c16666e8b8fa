"""The real-display part of the GUI suite: collected only when Qt runs on xcb (an X server).

The rest of the suite runs offscreen in one QApplication, so this part runs in its own pytest
process: ``tests/gui/test_display_xcb.py`` starts it under a private ``xvfb-run`` with
``QT_QPA_PLATFORM=xcb``. By hand::

    QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1920x1200x24" \\
        python -m pytest tests/gui/display

Under any other platform these tests are not collected (an offscreen run would prove nothing
about fonts, window sizes and focus on a real display).
"""

from __future__ import annotations

import os
from typing import Any

import pytest

collect_ignore_glob = [] if os.environ.get("QT_QPA_PLATFORM") == "xcb" else ["test_*.py"]


@pytest.fixture(autouse=True)
def _requires_xcb(qapp: Any) -> None:
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.platformName() == "xcb", (
        f"tests/gui/display needs the xcb platform, got {QGuiApplication.platformName()!r}"
    )
