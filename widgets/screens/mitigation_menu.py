"""`m`: the mitigations warroom carries out, each enabled only when it may run.

One line each: what it does and what it changes; a disabled line says why (RBAC, read-
only, no Kubernetes API). Choosing one leads to its plan and the confirmation.

A scale says its numbers: the app reads the model's replicas once the menu is up and
hands them over (`show_replicas`), and the lines read "Scale llama-3 from 4 to 6
replicas"; a scale to zero says, in words, that it stops serving the model.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from functools import partial
from typing import ClassVar, Protocol

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.command import Hit, Provider
from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tui.domain.format import model_label
from tui.domain.mitigations import MITIGATIONS, SCALES, scale_words
from tui.domain.model import AGGREGATE
from widgets.keymap import bindings
from widgets.screens.steady import SteadyModal


class MitigationMenu(SteadyModal[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = bindings("menu")
    DEFAULT_CSS = """
    MitigationMenu { align: center middle; }
    MitigationMenu > OptionList { width: 90%; max-width: 110; height: auto; max-height: 80%;
                                  border: thick $warning; }
    """

    def __init__(
        self,
        ids: Sequence[str],
        blocked: Mapping[str, str | None],
        *,
        title: str,
        model: str = AGGREGATE,
        scale_step: int = 2,
    ) -> None:
        super().__init__()
        self.ids = list(ids)
        self.blocked = blocked
        self.title_text = title
        self.model = model
        self.scale_step = scale_step
        self.replicas: int | None = None
        self.replicas_note: str | None = None
        """Why the replicas could not be read, when they could not."""

    @property
    def scales(self) -> list[str]:
        """The scale mitigations on offer for one model: the app reads its replicas."""
        return [mid for mid in self.ids if mid in SCALES] if self.model != AGGREGATE else []

    def compose(self) -> ComposeResult:
        yield OptionList(*[Option(self._line(mid), id=mid, disabled=self._off(mid))
                           for mid in self.ids])  # fmt: skip

    def show_replicas(self, replicas: int | None, note: str | None = None) -> None:
        """The model's replicas as read (None and why, when they could not be)."""
        self.replicas, self.replicas_note = replicas, note
        # The read may land after the menu was closed (escape, or a choice made first).
        for menu in self.query(OptionList):
            for mid in self.scales:
                menu.replace_option_prompt(mid, self._line(mid))

    def _off(self, mitigation: str) -> bool:
        return self.blocked.get(mitigation) is not None

    def _line(self, mitigation: str) -> Text:
        m = MITIGATIONS[mitigation]
        # Text, not markup: a reason such as "[kubernetes] in the config" is literal.
        line = Text(f"{m.title} — {m.changes}")
        if mitigation in self.scales:
            name = model_label(self.model)
            words, warning = scale_words(mitigation, name, self.scale_step, self.replicas)
            line = Text(words)
            if warning:
                line.append(f"\n    ⚠ {warning} Its name must be typed to confirm.",
                            style="bold")  # fmt: skip
            elif self.replicas is None:
                line.append(
                    f" (replicas not read: {self.replicas_note})"
                    if self.replicas_note
                    else " (reading its replicas…)",
                    style="dim",
                )
        why = self.blocked.get(mitigation)
        if why:
            line.append(f"\n    ✖ {why}")
        return line

    def on_mount(self) -> None:
        menu = self.query_one(OptionList)
        # Content, not a str: the title names the model, and a str title is markup.
        menu.border_title = Content(self.title_text)
        menu.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self._close(event.option.id)

    def action_cancel(self) -> None:
        self._close(None)

    def _close(self, chosen: str | None) -> None:
        self.dismiss(chosen)  # once, however many enters the burst held (SteadyModal)


class _Mitigates(Protocol):
    def action_mitigate(self, ids: Sequence[str] | None = None) -> None: ...


class MitigationCommands(Provider):
    """The command palette's "Mitigate: …" entries, one per mitigation warroom runs."""

    async def search(self, query: str) -> AsyncIterator[Hit]:
        matcher = self.matcher(query)
        app: _Mitigates = self.app  # type: ignore[assignment]
        for mid in (mid for mid, m in MITIGATIONS.items() if m.automated):
            text = f"Mitigate: {MITIGATIONS[mid].title}"
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), partial(app.action_mitigate, [mid]),
                          help=MITIGATIONS[mid].changes)  # fmt: skip
