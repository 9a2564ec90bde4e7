"""The navigator's two panes: the tree with the path taken, and the step in hand.

Both only render: the screen hands them the `Walk` and the `Facts` of the latest
refresh, and they draw what those say.
"""

from __future__ import annotations

from rich.console import Group
from rich.markup import escape
from rich.text import Text
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from tui.durations import human_age
from tui.format import model_label
from tui.mitigations import MITIGATIONS
from tui.runbook import Action, Check, Link, Note, Question, Runbook
from tui.signals import SIGNALS, Facts
from tui.triage import Walk, fill, reading

MAX_DEPTH = 40
"""Deeper than any runbook; stops a malformed tree drawing forever."""
GLYPH = {"question": "?", "check": "▸", "action": "◆", "note": "·", "link": "→"}


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


class StepCard(Static):
    """The step in hand: the question with its live evidence and suggested answer, the
    check's commands filled in, or the leaf's mitigations."""

    def show(self, walk: Walk, facts: Facts | None, window: str, age_s: float | None) -> None:
        self.update(Group(*self._lines(walk, facts, window, age_s)))

    def _lines(
        self, walk: Walk, facts: Facts | None, window: str, age_s: float | None
    ) -> list[Text]:
        step = walk.here
        out = [Text.from_markup(f"[bold]{GLYPH[step.kind]} {escape(step.text)}[/]")]
        if step.detail:
            out.append(Text(step.detail, style="dim"))
        stale = f" (data {human_age(age_s)} old)" if age_s is not None else ""
        match step:
            case Question():
                out.extend(self._question(step, facts, stale))
            case Check():
                out.append(Text("Run:", style="bold"))
                for cmd in step.run:
                    text = fill(cmd.text, facts, window) if facts else cmd.text
                    out.append(Text.assemble((f" {cmd.lang:>7} ", "dim"), (text, "bold cyan")))
                if step.shows and facts is not None:
                    out.append(Text("Live" + stale + ":", style="bold"))
                    for name in step.shows:
                        sig = SIGNALS[name]
                        out.append(Text(f"  {sig.says}: {sig.show(sig.read(facts))}"))
                out.append(Text("enter: next step" if step.next else "end of this runbook"))
            case Action():
                out.append(Text("Mitigations:", style="bold"))
                for mid in step.actions:
                    m = MITIGATIONS[mid]
                    how = "warroom" if m.automated else "by hand"
                    out.append(Text.assemble("  • ", (m.title, "bold"), (f"  [{how}]", "dim")))
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
        return out

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
