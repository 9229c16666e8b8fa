"""What a display test does with each state it shows: check it, keep its picture, report at the end.

Data flow: a test makes one :class:`Looks` (a folder name under ``$PORTSIDE_SCREENSHOTS`` and a
suffix that names the theme and size) and calls :meth:`Looks.check` for every state it shows.
``check`` lets Qt finish laying out, runs :func:`checks.clipped_texts` and
:func:`checks.a11y_problems` on the widget (and :func:`checks.undersized` where a window or
dialog must reach its size hint), keeps what they found under the state's name, and grabs the
picture: it must not be empty, and it is saved as ``<state>-<suffix>.png`` when the folder is
set. The test ends with :meth:`Looks.assert_fine`, which fails listing every state's problems, so
one run shows all of them rather than the first (:func:`assert_no_problems`, also for tests
that collect their own). The ``mode`` fixture runs a test in the light and the dark theme (and
puts the light one back), :data:`WINDOW_SIZES` at 1280x720 and 1920x1080; :func:`shown` puts a
widget on screen as a window of a given size; :func:`distinct_colours` tells a rendered view
from a blank one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QWidget

from tests.gui.display.checks import a11y_problems, clipped_texts, undersized


class Looks:
    """The problems found in each state a test showed, and where its screenshots go."""

    def __init__(self, folder: str, suffix: str) -> None:
        out = os.environ.get("PORTSIDE_SCREENSHOTS")
        self.shots = Path(out) / folder if out else None
        self.suffix = suffix
        self.problems: dict[str, list[str]] = {}

    def check(
        self, state: str, widget: QWidget, *, picture: QWidget | None = None, sized: bool = False
    ) -> None:
        """Check ``widget`` as shown now; ``picture``: what to grab instead (e.g. its window).

        ``sized``: the widget is a window or dialog that must not be smaller than its size hint.
        """
        QApplication.processEvents()
        found = clipped_texts(widget) + a11y_problems(widget)
        small = undersized(widget) if sized else None
        if small:
            found.append(small)
        if found:
            self.problems[state] = found
        image = (picture or widget).grab().toImage()
        assert not image.isNull(), state
        if self.shots is not None:
            self.shots.mkdir(parents=True, exist_ok=True)
            assert image.save(str(self.shots / f"{state}-{self.suffix}.png")), state

    def assert_fine(self) -> None:
        """Fail with every state's problems, if any state had one."""
        assert_no_problems(self.problems)


def assert_no_problems(problems: dict[str, list[str]]) -> None:
    """Fail listing every state that has problems, each under its name."""
    bad = {k: v for k, v in problems.items() if v}
    assert not bad, "\n".join(f"[{k}]\n  " + "\n  ".join(v) for k, v in bad.items())


W = TypeVar("W", bound=QWidget)


#: Runs a test at the two window sizes the app must fit (``size``: width, height).
WINDOW_SIZES = pytest.mark.parametrize(
    "size", [(1280, 720), (1920, 1080)], ids=lambda s: f"{s[0]}x{s[1]}"
)


@pytest.fixture(name="mode", params=["light", "dark"])
def _mode(request: Any, qapp: Any) -> Iterator[str]:
    """The theme, light then dark: a test using it runs in both; the light one is back after."""
    from app import theme

    theme.apply(qapp, request.param)
    yield request.param
    theme.apply(qapp, "light")


def shown(qtbot: Any, widget: W, size: tuple[int, int]) -> W:
    """``widget`` as a window of ``size``, on screen (closed by qtbot after the test)."""
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def distinct_colours(image: QImage, step: int) -> int:
    """How many colours a grid of pixels ``step`` apart holds (counting stops above 20)."""
    seen = set()
    for y in range(0, image.height(), step):
        for x in range(0, image.width(), step):
            seen.add(image.pixel(x, y))
            if len(seen) > 20:
                return len(seen)
    return len(seen)
