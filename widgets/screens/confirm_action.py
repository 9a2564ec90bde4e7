"""The confirmation before a mitigation: exactly what will change, Cancel first.

Shows the cluster and namespace (production marked), every field old -> new, and what
happens on Apply (a server-side dry run, then the change, both recorded). A destructive
plan (a rollback, scaling to zero) also needs the object's name typed before Apply
enables: the focus then starts in that field, so the name's letters are typed there
(an `n` is a letter, not a cancel), and Enter there applies once the name is whole.
Escape, `n` (outside the field) and Cancel all dismiss with False. The mitigation menu
and the canary screen's abort both confirm through this one screen.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from tui.domain.plan import Plan
from widgets.keymap import bindings
from widgets.screens.steady import SteadyModal


class ConfirmAction(SteadyModal[bool]):
    BINDINGS: ClassVar[list[BindingType]] = bindings("confirm")
    DEFAULT_CSS = """
    ConfirmAction { align: center middle; }
    ConfirmAction > Vertical { width: 100; max-width: 96%; height: auto; max-height: 96%;
                               border: thick $warning; background: $surface; padding: 0 1; }
    ConfirmAction.-production > Vertical { border: thick $error; }
    ConfirmAction #ca-where { color: $text-muted; }
    ConfirmAction.-production #ca-where { color: $error; text-style: bold; }
    ConfirmAction #ca-changes { margin: 1 0; }
    ConfirmAction Horizontal { height: auto; width: 100%; align: right middle; }
    /* A prompt, not a value: dim and italic, unlike the typed name. */
    ConfirmAction #ca-typed > .input--placeholder { color: $text-disabled; text-style: italic; }
    ConfirmAction Button { margin-left: 2; }
    """

    def __init__(self, plan: Plan, *, where: str, production: bool) -> None:
        super().__init__()
        self.plan = plan
        self.where = where
        self.production = production
        # The object the destructive part acts on: in a drained rollback, the canary's
        # Deployment scaled to zero (it comes after the route).
        self.must_type = plan.pending[-1].target.name if plan.destructive else None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.plan.title, style="bold"), id="ca-title")
            mark = "PRODUCTION · " if self.production else ""
            yield Static(f"{mark}{self.where}", id="ca-where")
            yield Static(self._changes(), id="ca-changes")
            yield Static(
                "Apply sends a server-side dry run, then the change; both go into the "
                "incident timeline.",
                id="ca-how",
            )
            if self.must_type:
                yield Static(f"No key undoes this: type {self.must_type} to enable Apply.")
                yield Input(placeholder=f"type {self.must_type} to confirm", id="ca-typed")
            with Horizontal():
                yield Button("Cancel", id="ca-cancel", variant="primary")
                yield Button("Apply", id="ca-apply", variant="error", disabled=bool(self.must_type))

    def _changes(self) -> Text:
        text = Text()
        drain = self.plan.drain
        for i, edit in enumerate(self.plan.edits):
            if drain is not None and i == drain.after:
                text.append(f"{drain} (the in-flight gauge), and only then\n", style="yellow")
            if edit.noop:
                continue
            text.append(f"{edit.target}\n", style="bold")
            for change in edit.changes:
                text.append(f"  {change.field}: ")
                text.append(change.old, style="red")
                text.append(" -> ")
                text.append(f"{change.new}\n", style="green")
        for note in self.plan.notes:
            text.append(f"{note}\n", style="dim")
        text.rstrip()
        return text

    def on_mount(self) -> None:
        self.set_class(self.production, "-production")
        if self.must_type:
            # The name is what is asked for: on Cancel, its first `n` would cancel (issue
            # 22). An Enter by habit in the empty field still does nothing.
            self.query_one("#ca-typed", Input).focus()
        else:
            # Cancel holds the focus: an Enter pressed by habit does nothing harmful.
            self.query_one("#ca-cancel", Button).focus()

    @on(Input.Changed, "#ca-typed")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#ca-apply", Button).disabled = event.value.strip() != self.must_type

    @on(Input.Submitted, "#ca-typed")
    def _submitted(self, event: Input.Submitted) -> None:
        # The whole name typed, then Enter: as deliberate as pressing Apply.
        if event.value.strip() == self.must_type:
            self._close(True)
        else:
            self.app.bell()

    @on(Button.Pressed, "#ca-apply")
    def _apply(self) -> None:
        self._close(True)

    @on(Button.Pressed, "#ca-cancel")
    def _cancel(self) -> None:
        self._close(False)

    def action_cancel(self) -> None:
        self._close(False)

    def _close(self, apply: bool) -> None:
        self.dismiss(apply)  # once, however many enters the burst held (SteadyModal)
