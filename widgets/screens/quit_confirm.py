"""`q` in the middle of an incident: a question before the cockpit ends.

Quitting leaves the incident open (its timeline stays on disk and the next warroom
resumes it), but a canary drive run by this cockpit or a mitigation it is carrying out
stops with it. So `q` asks while something is going on, and says what; y or enter
quits, n or escape stays. ctrl+q keeps Textual's meaning: quit now.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.widgets import Static

from tui.domain.format import printable
from widgets.keymap import bindings, current_keymap, say
from widgets.screens.steady import SteadyModal


def reasons_to_ask(
    *,
    breaching: int,
    timeline_open: bool,
    canary: str | None,
    mitigating: bool,
) -> list[str]:
    """What is going on, one line each; empty when `q` may quit at once. ``canary``: the
    drive's stage while this cockpit drives a rollout, else None."""
    reasons = []
    if breaching:
        reasons.append(f"{breaching} model{'s' if breaching > 1 else ''} breaching now.")
    if timeline_open:
        reasons.append("The incident's timeline holds entries and is not closed.")
    if canary is not None:
        reasons.append(f"The canary drive ({canary}) stops with warroom, where it stands.")
    if mitigating:
        reasons.append("A mitigation is in flight: it stops where it stands.")
    return reasons


class QuitConfirm(SteadyModal[bool]):
    BINDINGS: ClassVar[list[BindingType]] = bindings("quit")

    DEFAULT_CSS = """
    QuitConfirm { align: center middle; }
    QuitConfirm > Vertical {
        width: auto; max-width: 90%; height: auto;
        border: thick $warning; background: $surface; padding: 0 2;
    }
    QuitConfirm Static { width: auto; }
    QuitConfirm #quit-title { text-style: bold; }
    QuitConfirm #quit-keys { margin-top: 1; color: $text-muted; }
    """

    def __init__(self, reasons: Sequence[str], timeline: Path | None) -> None:
        super().__init__()
        self.reasons = list(reasons)
        self.timeline = timeline

    def compose(self) -> ComposeResult:
        where = (
            f"The incident stays open; its timeline is at {printable(str(self.timeline))}."
            if self.timeline is not None
            else "The incident stays open."
        )
        with Vertical():
            yield Static(Text("Quit warroom?"), id="quit-title")
            yield Static(Text(where))
            for reason in self.reasons:
                yield Static(Text(f"• {reason}"))
            # "y / enter  quit    n / escape  stay", on the keys the config gave them.
            keys = say("{quit.yes}  quit    {quit.no}  stay", current_keymap(self), every=True)
            yield Static(Text(keys), id="quit-keys")

    def action_answer(self, quit: bool) -> None:
        self.dismiss(quit)  # a burst of keys answers once (SteadyModal)
