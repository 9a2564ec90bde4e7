"""The export form: warroom's suggested severity and root cause, for the engineer to
accept or correct before the report is written, and where it will be written.

Keyboard only: tab between fields, enter on Export. When a report of this incident is
already there, Export is replaced by Replace, so nothing is overwritten unasked. Escape
cancels. It renders what it is given and returns `ExportChoice`; it writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static

from tui.domain.format import printable
from tui.domain.report import SEVERITIES, Overrides, Report, Severity
from widgets.keymap import bindings
from widgets.screens.steady import SteadyModal


@dataclass(frozen=True, slots=True)
class ExportChoice:
    overrides: Overrides
    replace: bool


class ReportForm(SteadyModal[ExportChoice | None]):
    BINDINGS: ClassVar[list[BindingType]] = bindings("report")
    DEFAULT_CSS = """
    ReportForm { align: center middle; }
    ReportForm > VerticalScroll { width: 110; max-width: 96%; height: auto; max-height: 100%;
                            border: thick $accent; background: $surface; padding: 0 1; }
    ReportForm Label { margin-top: 1; color: $text-muted; }
    ReportForm Input, ReportForm Select { margin-top: 0; }
    ReportForm #rf-why, ReportForm #rf-where { color: $text-muted; }
    ReportForm #rf-exists { color: $warning; text-style: bold; }
    ReportForm Horizontal { height: auto; width: 100%; align: right middle; margin-top: 1; }
    ReportForm Button { margin-left: 2; }
    """

    def __init__(self, report: Report, paths: list[Path], existing: list[Path]) -> None:
        super().__init__()
        self.report = report
        self.paths = paths
        self.existing = existing

    def compose(self) -> ComposeResult:
        r = self.report
        # Compact fields and a scrolling frame: the whole form, buttons included, fits
        # an 80x24 SSH session.
        with VerticalScroll():
            # Text, not markup: the title and the why name models, outside text.
            heading = ("Export the incident report", "bold")
            title = Text.assemble(heading, f" · {printable(r.title)}")
            yield Static(title, id="rf-title")
            yield Label("Severity (suggested from the evidence)")
            options = [(f"{sev} — {SEVERITIES[sev][0]}", sev) for sev in SEVERITIES]
            yield Select(options, value=r.severity, allow_blank=False, compact=True,
                         id="rf-severity")  # fmt: skip
            why = printable(f"suggested {r.severity_suggested}: {r.severity_why}")
            yield Static(Text(why), id="rf-why")
            yield Label("Root cause")
            yield Input(printable(r.root_cause), compact=True, id="rf-cause")
            yield Label("Lessons (optional)")
            yield Input(r.lessons, placeholder="for the postmortem", compact=True,
                        id="rf-lessons")  # fmt: skip
            where = "Writes " + ", ".join(str(p) for p in self.paths)
            yield Static(Text(printable(where)), id="rf-where")
            if self.existing:
                yield Static(
                    f"{self.existing[0].name} is already there: Replace overwrites it.",
                    id="rf-exists",
                )
            with Horizontal():
                yield Button("Cancel", id="rf-cancel")
                label = "Replace" if self.existing else "Export"
                yield Button(
                    label, id="rf-export", variant="warning" if self.existing else "primary"
                )

    def on_mount(self) -> None:
        self.query_one("#rf-severity", Select).focus()

    def choice(self) -> ExportChoice:
        severity = cast(Severity, self.query_one("#rf-severity", Select).value)
        cause = self.query_one("#rf-cause", Input).value.strip()
        lessons = self.query_one("#rf-lessons", Input).value.strip()
        return ExportChoice(
            Overrides(severity=severity, root_cause=cause or None, lessons=lessons or None),
            replace=bool(self.existing),
        )

    @on(Button.Pressed, "#rf-export")
    def _export(self) -> None:
        self._close(self.choice())

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self._close(self.choice())

    @on(Button.Pressed, "#rf-cancel")
    def _cancel(self) -> None:
        self._close(None)

    def action_cancel(self) -> None:
        self._close(None)

    def _close(self, choice: ExportChoice | None) -> None:
        self.dismiss(choice)  # once, however many enters the burst held (SteadyModal)
