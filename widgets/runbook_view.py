"""The navigator's two panes: the tree with the path taken, and the step in hand.

Both only render: the screen hands them the `Walk` and the `Facts` of the latest
refresh, and they draw what those say.

A check's commands are drawn one a line, never wrapped (a command broken mid-way is
copied wrong by hand): the line scrolls sideways instead, and `y` copies it whole.
The text comes from runbook files and live label values, so the screen shows it inert
(`printable`); the clipboard gets the command itself, unless it holds a character a
shell would take as a key press.
"""

from __future__ import annotations

import unicodedata

from rich.console import Group
from rich.markup import escape
from rich.segment import Segment
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import HorizontalScroll, Vertical
from textual.strip import Strip
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from tui.domain.format import INERT_CATEGORIES, model_label, printable
from tui.domain.mitigations import MITIGATIONS
from tui.domain.model import KeyRejections
from tui.domain.runbook import Action, Check, Link, Note, Question, Runbook
from tui.domain.signals import SIGNALS, Facts
from tui.domain.triage import Walk, fill, reading
from tui.durations import human_age
from widgets.key_rejections import CONCENTRATED, fmt_key_rate, fmt_share, who

MAX_DEPTH = 40
"""Deeper than any runbook; stops a malformed tree drawing forever."""
GLYPH = {"question": "?", "check": "▸", "action": "◆", "note": "·", "link": "→"}
PROMPT = {"kubectl": "$", "shell": "$", "promql": "promql", "logs": "logs"}
"""What stands before a command: a shell prompt for what a shell runs (the command names
its own tool, ``kubectl logs``), the query language for the rest."""
MARK = "▶"
"""The command `y` copies next."""


class RunbookTree(Tree[str]):
    """The current runbook as a tree: the path taken in bold with its answers, the step in
    hand under the cursor, everything else dim."""

    ALLOW_SELECT = False

    def __init__(self, **kw: object) -> None:
        super().__init__("runbook", **kw)  # type: ignore[arg-type]
        self.show_root = False
        self.guide_depth = 3
        # The screen owns the keys (y, n, enter…): this pane only shows where you are.
        self.can_focus = False

    def render_line(self, y: int) -> Strip:
        """A line longer than the pane ends in ``…`` at its edge (the pane scrolls sideways
        for the rest): cut silently, a step reads as if it said all it says."""
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        # One cell more than the view: whether the line goes on past its edge.
        wide = self._render_line(y + scroll_y, scroll_x, scroll_x + width + 1, self.rich_style)
        if width < 2 or wide.cell_length <= width or not wide.crop(width).text.strip():
            return wide.crop(0, width)
        last = wide.crop(width - 1, width)
        style = next((seg.style for seg in last), None)
        return Strip.join([wide.crop(0, width - 1), Strip([Segment("…", style)], 1)])

    def show(self, walk: Walk) -> None:
        book = walk.runbook
        answered = {
            t.step: t.answer for t in walk.path if t.runbook == book.id and t.kind == "question"
        }
        passed = {t.step for t in walk.path if t.runbook == book.id}
        self.clear()
        current: list[TreeNode[str]] = []
        self._add(self.root, book, book.start, "", answered, passed, walk.step_id, current, 0, True)
        self.root.expand_all()
        if current:
            # After the new lines are laid out: moving now would land on the old first row.
            self.call_after_refresh(self.move_cursor, current[0], animate=False)

    def _add(
        self,
        parent: TreeNode[str],
        book: Runbook,
        step_id: str,
        branch: str,
        answered: dict[str, bool | None],
        passed: set[str],
        here: str,
        current: list[TreeNode[str]],
        depth: int,
        route: bool,
    ) -> None:
        """``route``: this occurrence lies on the path taken. A step reached two ways is
        drawn twice; only the occurrence on the route is bold or the cursor."""
        step = book.step(step_id)
        label = Text()
        if branch:
            label.append(f"{branch} ", style="bold" if branch.strip("→ ") else "dim")
        on_path = route and step.id in passed
        is_here = route and step.id == here
        style = "bold reverse" if is_here else ("bold" if on_path else "dim")
        label.append(f"{GLYPH[step.kind]} {step.text}", style=style)
        if on_path and step.id in answered:
            yes = answered[step.id]
            label.append("  YES" if yes else "  NO", style="bold green" if yes else "bold yellow")
        if isinstance(step, Link):
            label.append(f"  [{step.runbook}]", style="dim")
        children: list[tuple[str, str]] = []
        match step:
            case Question():
                children = [("yes", step.yes), ("no", step.no)]
                if on_path and step.id in answered:
                    # The branch taken first; the other stays visible below it.
                    children.sort(key=lambda c: c[0] != ("yes" if answered[step.id] else "no"))
            case Check() | Note() if step.next is not None:
                children = [("", step.next)]
        if not children or depth >= MAX_DEPTH:
            node = parent.add_leaf(label, data=step.id)
        else:
            node = parent.add(label, data=step.id, expand=True)
        if is_here:
            current.append(node)
        for name, target in children:
            taken = name == "" or (on_path and answered.get(step.id) == (name == "yes"))
            args = (answered, passed, here, current, depth + 1, on_path and taken)
            if name == "":
                # A straight sequence reads better as siblings than as ever-deeper nesting.
                self._add(parent, book, target, "", *args)
            else:
                self._add(node, book, target, f"{name}→", *args)


def noisy_key(facts: Facts | None) -> KeyRejections | None:
    """The API key taking most of the 429s, when one does: the key a leaf's key
    mitigations act on."""
    keys = facts.snapshot.rate_limited_keys if facts is not None else ()
    return keys[0] if keys and keys[0].share >= CONCENTRATED else None


def commands_of(step: Check, facts: Facts | None, window: str) -> list[str]:
    """A check's commands as they would be run: placeholders filled from live data."""
    return [fill(cmd.text, facts, window) if facts else cmd.text for cmd in step.run]


def paste_safe(command: str) -> bool:
    """Whether ``command`` can go to the clipboard as it is: nothing in it acts as a key
    when pasted into a terminal."""
    # The characters the screen shows as escapes: pasted into a shell, some act as keys
    # (a newline runs what came before it).
    return not any(unicodedata.category(ch) in INERT_CATEGORIES for ch in command)


def command_lines(step: Check, commands: list[str], marked: int | None) -> Text:
    """One line per command, numbered for the copy keys, inert, never wrapped."""
    width = max(len(PROMPT[cmd.lang]) for cmd in step.run)
    out = Text(no_wrap=True, overflow="ignore", end="")
    for i, (cmd, text) in enumerate(zip(step.run, commands, strict=True)):
        if i:
            out.append("\n")
        here = i == marked
        out.append(f"{MARK if here else ' '}{i + 1} ", style="bold" if here else "dim")
        out.append(f"{PROMPT[cmd.lang]:>{width}} ", style="dim")
        out.append(printable(text), style="bold cyan")
    return out


class CommandLines(HorizontalScroll, can_focus=False):
    """A check's commands, scrolled sideways by the navigator's arrow keys (the card's
    own keys stay the screen's)."""

    DEFAULT_CSS = """
    CommandLines { height: auto; overflow-x: auto; overflow-y: hidden; display: none;
                   scrollbar-size-horizontal: 1; }
    CommandLines.-shown { display: block; }
    CommandLines > Static { width: auto; height: auto; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="rb-commands")

    def show(self, lines: Text | None) -> None:
        self.set_class(lines is not None, "-shown")
        self.query_one("#rb-commands", Static).update(lines if lines is not None else "")

    @property
    def text(self) -> str:
        """The commands as drawn (whole lines, however far they run past the edge)."""
        content = self.query_one("#rb-commands", Static).content
        return getattr(content, "plain", str(content))


class StepCard(Vertical):
    """The step in hand: the question with its live evidence and suggested answer, the
    check's commands filled in, or the leaf's mitigations."""

    DEFAULT_CSS = """
    StepCard { height: auto; }
    StepCard > Static { height: auto; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="rb-step-head")
        yield CommandLines(id="rb-run")
        yield Static(id="rb-step-tail")

    def show(
        self,
        walk: Walk,
        facts: Facts | None,
        window: str,
        age_s: float | None,
        *,
        marked: int | None = 0,
    ) -> None:
        """``marked``: the command `y` copies next, at a check."""
        head, tail = self._lines(walk, facts, window, age_s)
        self.query_one("#rb-step-head", Static).update(Group(*head))
        step = walk.here
        lines = None
        if isinstance(step, Check):
            lines = command_lines(step, commands_of(step, facts, window), marked)
        self.query_one(CommandLines).show(lines)
        tail_widget = self.query_one("#rb-step-tail", Static)
        tail_widget.update(Group(*tail))
        tail_widget.display = bool(tail)

    @property
    def text(self) -> str:
        """Everything the card says, as plain lines (head, commands, tail)."""
        parts = _plain(self.query_one("#rb-step-head", Static))
        run = self.query_one(CommandLines)
        if run.has_class("-shown"):
            parts.append(run.text)
        tail = self.query_one("#rb-step-tail", Static)
        if tail.display:
            parts += _plain(tail)
        return "\n".join(parts)

    def _lines(
        self, walk: Walk, facts: Facts | None, window: str, age_s: float | None
    ) -> tuple[list[Text], list[Text]]:
        """The lines above a check's commands, and those below them."""
        step = walk.here
        out = [Text.from_markup(f"[bold]{GLYPH[step.kind]} {escape(step.text)}[/]")]
        below: list[Text] = []
        if step.detail:
            out.append(Text(step.detail, style="dim"))
        stale = f" (data {human_age(age_s)} old)" if age_s is not None else ""
        match step:
            case Question():
                out.extend(self._question(step, facts, stale))
            case Check():
                keys = "1" if len(step.run) == 1 else f"1-{len(step.run)}"
                out.append(
                    Text.assemble(
                        ("Run:", "bold"),
                        (f"  y copies {MARK}, {keys} copy one; ← → scroll", "dim"),
                    )
                )
                if step.shows and facts is not None:
                    below.append(Text("Live" + stale + ":", style="bold"))
                    for name in step.shows:
                        sig = SIGNALS[name]
                        below.append(Text(f"  {sig.says}: {sig.show(sig.read(facts))}"))
                below.append(Text("enter: next step" if step.next else "end of this runbook"))
            case Action():
                out.append(Text("Mitigations:", style="bold"))
                key = noisy_key(facts)
                figures = True  # the key's numbers beside its first mention only
                for mid in step.actions:
                    m = MITIGATIONS[mid]
                    how = "warroom" if m.automated else "by hand"
                    title = Text.assemble("  • ", (m.title, "bold"))
                    if m.about == "api_key" and key is not None:
                        title.append(f": {who(key)}", style="bold yellow")
                        if figures:
                            share, rate = fmt_share(key.share), fmt_key_rate(key.rate)
                            title.append(f", {share} of the 429s at {rate}/s")
                            figures = False
                    title.append(f"  [{how}]", style="dim")
                    out.append(title)
                    out.append(Text(f"    changes: {m.changes}", style="dim"))
                    if m.how:
                        out.append(Text(f"    {m.how}", style="cyan"))
                out.append(Text("End of the runbook: backspace goes back, r starts over."))
            case Note():
                out.append(Text("enter: next step" if step.next else "End of the runbook."))
            case Link():
                target = walk.books.books.get(step.runbook)
                title = target.title if target else step.runbook
                out.append(Text(f"enter: continue in “{title}”"))
        return out, below

    def _question(self, step: Question, facts: Facts | None, stale: str) -> list[Text]:
        now = reading(step, facts) if facts is not None else None
        if step.evidence is None:
            return [Text("No live signal answers this: y yes, n no.", style="bold")]
        out = [Text.assemble(("Evidence", "bold"), (stale, "bold red"), f": {step.evidence}")]
        for name, value in (now.values if now else {}).items():
            sig = SIGNALS[name]
            out.append(Text(f"  {sig.says}: {sig.show(value)}"))
        if now is None or now.suggested is None:
            out.append(Text("Live data cannot answer this now: y yes, n no.", style="bold"))
        else:
            word = "YES" if now.suggested else "NO"
            out.append(
                Text.assemble(
                    "Suggested: ", (word, "bold reverse"), "  enter accepts, y / n to answer"
                )
            )
        return out


def _plain(widget: Static) -> list[str]:
    content = widget.content
    if isinstance(content, Group):
        return [getattr(line, "plain", str(line)) for line in content.renderables]
    return [getattr(content, "plain", str(content))]


def header(walk: Walk, model: str, symptom: str | None) -> Text:
    books = list(dict.fromkeys([t.runbook for t in walk.path] + [walk.runbook.id]))
    text = Text.assemble(("Runbook: ", "dim"), (walk.first.title, "bold"))
    text.append(f" · for {model_label(model)}")
    if len(books) > 1:
        # The walk followed a link: say which tree the step in hand belongs to.
        text.append("   " + " → ".join(books), style="dim")
    if symptom:
        text.append(f"\n{symptom}", style="bold red")
    return text
