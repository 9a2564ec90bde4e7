"""The sixteen ANSI colours the widgets name ("red", "yellow", "green"…) as drawn on a
light theme.

Textual turns named colours into RGB from an ANSI palette chosen by the theme's
darkness. Its light palette keeps the yellow and green of a dark one, which sit at
2:1 and 3:1 against a light background: the warning mark all but vanishes. This one
darkens them to 4.4:1 or better on textual-light (tests/app/test_display.py holds every
status colour to 3:1 on both the dark and the light theme).
"""

from __future__ import annotations

from rich.color_triplet import ColorTriplet
from rich.terminal_theme import TerminalTheme


def _rgb(r: int, g: int, b: int) -> tuple[int, int, int]:
    return ColorTriplet(r, g, b)


LIGHT = TerminalTheme(
    _rgb(247, 247, 247),
    _rgb(0, 0, 0),
    [
        _rgb(0, 0, 0),
        _rgb(160, 40, 35),  # red: breaches, failed gates
        _rgb(36, 110, 20),  # green: within the SLO, gates passed
        _rgb(138, 92, 0),  # yellow: warnings, skipped stages
        _rgb(50, 92, 192),
        _rgb(122, 62, 157),
        _rgb(0, 105, 140),  # cyan: plot lines, the hold bar
        _rgb(247, 247, 247),
        _rgb(119, 119, 119),
    ],
    [
        _rgb(200, 50, 50),
        _rgb(40, 130, 0),
        _rgb(150, 100, 0),
        _rgb(0, 100, 180),
        _rgb(170, 50, 170),
        _rgb(0, 120, 150),
        _rgb(247, 247, 247),
    ],
)
