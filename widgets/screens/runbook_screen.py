"""`t`: the runbook navigator, walking a decision tree with live evidence.

The screen holds no data of its own: the app hands it the `Walk` (so closing and
reopening resumes where the engineer was) and fresh `Facts` after every refresh. Each
step taken is posted as a message; the app writes it to the incident timeline.

At a check, `y` copies the marked command to the terminal's clipboard and marks the next
(so y, paste, y, paste runs them in order), and `1`-`9` copy one by number. The copy is
an OSC 52 escape (`App.copy_to_clipboard`), which the terminal on the engineer's desk
answers: it works over SSH and inside tmux with ``set-clipboard on``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.domain.format import printable
from tui.domain.runbook import Action, Check, Runbook
from tui.domain.signals import Facts
from tui.domain.triage import Taken, Walk
from widgets.key_hints import KeyHints
from widgets.keymap import bindings
from widgets.runbook_view import (
    CommandLines,
    RunbookTree,
    StepCard,
    commands_of,
    header,
    paste_safe,
)
from widgets.screens.steady import SteadyModal

if TYPE_CHECKING:
    from tui.domain.runbook import Runbooks

WIDE_FROM = 120
"""From this width the tree and the step sit side by side; narrower, the step on top."""
SCROLL_COLUMNS = 8
"""How far ← and → move a check's commands sideways."""
SHOWN_IN_NOTE = 60
"""A copied command is named in the toast up to this many characters."""


class RunbookScreen(Screen[None]):
    # `y` is a question's yes and a check's copy: `check_action` shows whichever the step
    # in hand answers to.
    BINDINGS: ClassVar[list[BindingType]] = bindings("runbook")
    DEFAULT_CSS = """
    RunbookScreen { layout: vertical; }
    RunbookScreen #rb-header { height: auto; padding: 0 1; background: $boost; }
    RunbookScreen #rb-note { height: auto; padding: 0 1; color: $warning; display: none; }
    RunbookScreen #rb-note.-shown { display: block; }
    RunbookScreen #rb-gotchas { height: auto; color: $text-muted; margin-top: 1; }
    RunbookScreen #rb-body { height: 1fr; layout: vertical; }
    RunbookScreen #rb-card { height: auto; max-height: 60%; border: round $primary;
                             padding: 0 1; }
    RunbookScreen RunbookTree { height: 1fr; border: round $panel; overflow-x: hidden; }
    RunbookScreen.-wide #rb-body { layout: horizontal; }
    RunbookScreen.-wide #rb-card { width: 1fr; height: 1fr; max-height: 100%; }
    RunbookScreen.-wide RunbookTree { width: 1fr; }
    """

    class Moved(Message):
        """A step was taken (an answer, a check passed, a link followed)."""

        def __init__(self, walk: Walk, taken: Taken) -> None:
            super().__init__()
            self.walk = walk
            self.taken = taken

    class Mitigate(Message):
        """`a` at a leaf: offer its mitigations."""

        def __init__(self, actions: list[str]) -> None:
            super().__init__()
            self.actions = actions

    class Retraced(Message):
        """The engineer went back: ``undone`` no longer stands."""

        def __init__(self, walk: Walk, undone: Taken) -> None:
            super().__init__()
            self.walk = walk
            self.undone = undone

    class Opened(Message):
        """A runbook was opened, restarted or picked."""

        def __init__(self, walk: Walk, model: str, why: str) -> None:
            super().__init__()
            self.walk = walk
            self.model = model
            self.why = why

    def __init__(
        self,
        walk: Walk,
        facts: Facts | None,
        *,
        symptom: str | None,
        window: str,
        age_s: float | None = None,
    ) -> None:
        super().__init__()
        self.walk = walk
        self.facts = facts
        self.symptom = symptom
        self.window = window
        self.age_s = age_s
        self.note: str | None = None
        self.marked = 0
        """At a check: the command `y` copies next."""
        self._marked_at: tuple[str, str] | None = None

    @property
    def model(self) -> str:
        return self.facts.model if self.facts else "?"

    def compose(self) -> ComposeResult:
        yield Static(id="rb-header")
        yield Static(id="rb-note")
        with Horizontal(id="rb-body"):
            with VerticalScroll(id="rb-card"):
                yield StepCard(id="rb-step")
                # Below the step: read once, then out of the way on a short screen.
                yield Static(id="rb-gotchas")
            yield RunbookTree(id="rb-tree")
        yield KeyHints()

    def on_mount(self) -> None:
        self._paint()

    def on_resize(self) -> None:
        self.set_class(self.size.width >= WIDE_FROM, "-wide")

    def update_facts(self, facts: Facts, age_s: float | None, symptom: str | None) -> None:
        """A refresh landed: the evidence on the card follows it; the tree does not move."""
        self.facts, self.age_s, self.symptom = facts, age_s, symptom
        # A refresh can land between the push and the mount (r then t, quickly): the
        # card is not there yet, and on_mount paints these facts.
        if self.is_mounted:
            self._paint_card()
            self._paint_header()

    # -- keys

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        at_check = isinstance(self.walk.here, Check)
        if action == "copy_command":
            return at_check
        if action == "answer" and parameters == (True,):
            # At a check `y` copies; at every other step it answers (or says why not).
            return not at_check
        return True

    def action_copy_command(self, number: int | None = None) -> None:
        step = self.walk.here
        if not isinstance(step, Check):
            return self._say("Only a check has commands to copy.")
        commands = commands_of(step, self.facts, self.window)
        index = self.marked if number is None else number - 1
        if not 0 <= index < len(commands):
            return self._say(f"This check has {len(commands)} command(s): 1-{len(commands)}.")
        command = commands[index]
        if not paste_safe(command):
            self.app.notify(
                f"Command {index + 1} was not copied: it holds control characters (from a "
                "label value or the runbook file) that a terminal would take as keys. Type "
                "it from the screen.",
                severity="warning",
                markup=False,
            )
            return
        self.app.copy_to_clipboard(command)
        shown = printable(command)
        if len(shown) > SHOWN_IN_NOTE:
            shown = shown[: SHOWN_IN_NOTE - 1] + "…"
        self.app.notify(
            f"Copied command {index + 1} of {len(commands)} to the clipboard: {shown}",
            markup=False,
        )
        self.marked = (index + 1) % len(commands)
        self._paint_card()

    def action_scroll_commands(self, direction: int) -> None:
        run = self.query_one(CommandLines)
        if run.has_class("-shown"):
            run.scroll_relative(x=direction * SCROLL_COLUMNS, animate=False)

    def action_answer(self, yes: bool) -> None:
        if self.facts is None:
            return self._say("No data yet: wait for the first refresh.")
        try:
            taken = self.walk.answer(yes, self.facts)
        except ValueError:
            return self._say("This step is not a question: enter moves on.")
        self._moved(taken)

    def action_accept(self) -> None:
        if self.facts is None:
            return self._say("No data yet: wait for the first refresh.")
        if self.walk.at_leaf:
            return self._say("This is the end of the runbook: backspace goes back, r restarts.")
        taken = self.walk.accept(self.facts)
        if taken is None:
            return self._say("Live data cannot answer this: press y or n.")
        self._moved(taken)

    def action_back(self) -> None:
        undone = self.walk.back()
        if undone is None:
            return self._say("Already at the start.")
        self.post_message(self.Retraced(self.walk, undone))
        self.note = None
        self._paint()

    def action_restart(self) -> None:
        self.walk.restart()
        self.post_message(self.Opened(self.walk, self.model, "restarted"))
        self.note = None
        self._paint()

    def action_pick(self) -> None:
        if not self.is_active:
            # Only the navigator on top offers the picker: one over the panes would
            # open a runbook into a closed navigator.
            return

        def picked(runbook_id: str | None) -> None:
            if runbook_id is None:
                return
            self.walk = Walk(self.walk.books, self.walk.books.books[runbook_id])
            self.post_message(self.Opened(self.walk, self.model, "picked"))
            self.note = None
            # Picked in the burst that opened both (t enter): on_mount paints this walk.
            if self.is_mounted:
                self._paint()

        self.app.push_screen(RunbookPicker(self.walk.books, self.walk.first.id), picked)

    def action_mitigate(self) -> None:
        step = self.walk.here
        if not isinstance(step, Action):
            return self._say("Mitigations are offered at an action step: walk to one first.")
        self.post_message(self.Mitigate(list(step.actions)))

    def action_close(self) -> None:
        self.dismiss(None)

    # -- painting

    def _moved(self, taken: Taken) -> None:
        self.note = None
        self.post_message(self.Moved(self.walk, taken))
        self._paint()

    def _say(self, note: str) -> None:
        self.note = note
        self._paint_note()

    def _paint_note(self) -> None:
        widget = self.query_one("#rb-note", Static)
        widget.update(self.note or "")
        widget.set_class(bool(self.note), "-shown")

    def _paint(self) -> None:
        self._paint_header()
        gotchas = self.walk.runbook.gotchas
        self.query_one("#rb-gotchas", Static).update(
            "Gotchas:\n" + "\n".join(f"! {g}" for g in gotchas) if gotchas else ""
        )
        self._paint_note()
        self.query_one(RunbookTree).show(self.walk)
        self._paint_card()
        # `y` copies at a check and answers elsewhere: the key line follows the step.
        self.refresh_bindings()

    def _paint_header(self) -> None:
        self.query_one("#rb-header", Static).update(header(self.walk, self.model, self.symptom))

    def _paint_card(self) -> None:
        here = (self.walk.runbook.id, self.walk.step_id)
        if here != self._marked_at:
            # A new check starts at its first command.
            self.marked, self._marked_at = 0, here
            self.query_one(CommandLines).scroll_to(x=0, animate=False)
        self.query_one(StepCard).show(
            self.walk, self.facts, self.window, self.age_s, marked=self.marked
        )


class RunbookPicker(SteadyModal[str | None]):
    """`p`: every runbook that loaded, and one line for each that did not."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("picker")
    DEFAULT_CSS = """
    RunbookPicker { align: center middle; }
    RunbookPicker > OptionList { width: 90%; max-width: 100; height: 80%;
                                 border: thick $primary; }
    """

    def __init__(self, books: Runbooks, current: str) -> None:
        super().__init__()
        self.books = books
        self.current = current

    def compose(self) -> ComposeResult:
        options: list[Option | None] = [
            Option(_line(b), id=rid) for rid, b in self.books.books.items()
        ]
        if self.books.errors:
            options.append(None)
            options += [Option(f"✖ {e}", disabled=True) for e in self.books.errors]
        yield OptionList(*options)

    def on_mount(self) -> None:
        ol = self.query_one(OptionList)
        ol.border_title = "Open a runbook"
        ol.highlighted = list(self.books.books).index(self.current)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self._close(event.option.id)

    def action_cancel(self) -> None:
        self._close(None)

    def _close(self, chosen: str | None) -> None:
        self.dismiss(chosen)  # once: a second enter would close the navigator beneath


def _line(book: Runbook) -> str:
    opens = f"  (opens on {', '.join(book.symptoms)})" if book.symptoms else ""
    return f"{book.title}{opens}"
