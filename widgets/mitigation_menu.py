"""`m`: the mitigations warroom carries out, each enabled only when it may run.

One line each: what it does and what it changes; a disabled line says why (RBAC, read-
only, no Kubernetes API). Choosing one leads to its plan and the confirmation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from functools import partial
from typing import ClassVar, Protocol

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.command import Hit, Provider
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tui.mitigations import MITIGATIONS


class MitigationMenu(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    MitigationMenu { align: center middle; }
    MitigationMenu > OptionList { width: 90%; max-width: 110; height: auto; max-height: 80%;
                                  border: thick $warning; }
    """

    def __init__(
        self, ids: Sequence[str], blocked: Mapping[str, str | None], *, title: str
    ) -> None:
        super().__init__()
        self.ids = list(ids)
        self.blocked = blocked
        self.title_text = title

    def compose(self) -> ComposeResult:
        options = []
        for mid in self.ids:
            m = MITIGATIONS[mid]
            why = self.blocked.get(mid)
            line = f"{m.title} — {m.changes}" + (f"\n    ✖ {why}" if why else "")
            # Text, not markup: a reason such as "[kubernetes] in the config" is literal.
            options.append(Option(Text(line), id=mid, disabled=why is not None))
        yield OptionList(*options)

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
        # Two enters in one burst (a double tap, or keys queued over a slow SSH link)
        # select twice: the second lands after the menu has closed, and dismissing again
        # would close the screen beneath it, or stop warroom when that is the last one.
        if self.is_active:
            self.dismiss(chosen)


class _Mitigates(Protocol):
    def action_mitigate(self, ids: Sequence[str] | None = None) -> None: ...


class MitigationCommands(Provider):
    """The command palette's "Mitigate: …" entries, one per mitigation warroom runs."""

    async def search(self, query: str) -> AsyncIterator[Hit]:
        from tui.actions.kube import SUPPORTED

        matcher = self.matcher(query)
        app: _Mitigates = self.app  # type: ignore[assignment]
        for mid in SUPPORTED:
            text = f"Mitigate: {MITIGATIONS[mid].title}"
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), partial(app.action_mitigate, [mid]),
                          help=MITIGATIONS[mid].changes)  # fmt: skip
