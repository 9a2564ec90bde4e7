"""The bottom line of keys: what the focused pane and the cockpit answer to, right now.

Textual's `Footer` is a row of widgets, one per key, that it unmounts and mounts afresh
whenever the bindings may have changed: on every focus change. `g` moves focus between
the health table and the GPU grid, whose keys differ (`s` sorts the table, `e` and `f`
walk and filter the grid), and rebuilding a dozen widgets was most of that key's time
to paint. `KeyHints` is one widget that renders the same line as text: a change of keys
is a repaint of one line, and no change at all is nothing. The keys read as Footer's
do (key bold in its colour, then its description; disabled ones dim; the command
palette's key on the right behind a thin rule); they are not clickable, as this is a
keyboard cockpit. Only the key registry's bindings are shown (`widgets.keymap`), those it
puts on the line, on whatever key the config's ``[keys]`` gave them.

A narrow line keeps the keys that matter most under stress: the owner ranks the
actions (``keep_first``), and what does not fit goes lowest rank first, whole; the
keys left keep their places in the line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from widgets.keymap import BY_ID

Hint = tuple[str, str, bool]
"""(key as displayed, description, enabled)."""
PALETTE_ACTIONS = ("command_palette", "app.command_palette")
PANE_KEYS = "*"
"""In ``keep_first``: where every action it does not name ranks (the focused pane's)."""


class KeyHints(Widget):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "key-hints--key",
        "key-hints--description",
        "key-hints--rule",
    }

    DEFAULT_CSS = """
    KeyHints {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        text-wrap: nowrap;
        text-overflow: clip;
        .key-hints--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .key-hints--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .key-hints--rule {
            color: $foreground 20%;
        }
    }
    """

    def __init__(
        self,
        *,
        keep_first: Sequence[str] = (),
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """``keep_first``: action names (without parameters), the one to keep longest
        first; `PANE_KEYS` stands for every action not named, else they rank last."""
        super().__init__(id=id, classes=classes)
        self._hints: tuple[tuple[Hint, ...], Hint | None] = ((), None)
        self._ranks: tuple[int, ...] = ()
        """Each hint's rank (lower stays longer), in the order of ``_hints``."""
        self._ids: tuple[str, ...] = ()
        self._keep_first = {name: rank for rank, name in enumerate(keep_first)}
        self._unnamed_rank = self._keep_first.get(PANE_KEYS, len(self._keep_first))

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    @property
    def hints(self) -> tuple[tuple[Hint, ...], Hint | None]:
        """The keys shown, left to right, and the command palette's key (or None)."""
        return self._hints

    @property
    def hint_ids(self) -> tuple[str, ...]:
        """The binding ids (`widgets.keymap`) of the keys shown, in their order."""
        return self._ids

    def _bindings_changed(self, *_: object) -> None:
        hints, ranks = self._read()
        if hints != self._hints or ranks != self._ranks:
            self._hints, self._ranks = hints, ranks
            self.refresh()

    def _rank(self, action: str) -> int:
        return self._keep_first.get(action.partition("(")[0], self._unnamed_rank)

    def _read(self) -> tuple[tuple[tuple[Hint, ...], Hint | None], tuple[int, ...]]:
        """What Footer would show: each action once (its first shown binding), in the
        order the bindings are active; the palette's key apart. Then each one's rank."""
        app = self.app
        active = self.screen.active_bindings
        seen: set[str] = set()
        hints: list[Hint] = []
        ranks: list[int] = []
        ids: list[str] = []
        palette: Hint | None = None
        for _, binding, enabled, _ in active.values():
            if binding.action in PALETTE_ACTIONS:
                # Apart, on the right; found by its action, as the keymap may move its key.
                if palette is None and app.ENABLE_COMMAND_PALETTE:
                    palette = (app.get_key_display(binding), binding.description, enabled)
                continue
            # The registry's keys only, those it puts on the line (`Key.show`).
            if not binding.show or binding.id not in BY_ID or binding.action in seen:
                continue
            seen.add(binding.action)
            hints.append((app.get_key_display(binding), binding.description, enabled))
            ranks.append(self._rank(binding.action))
            ids.append(binding.id)
        self._ids = tuple(ids)
        return (tuple(hints), palette), tuple(ranks)

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-hints--key")
        description_style = self.get_component_rich_style("key-hints--description")
        dim = Style(dim=True)
        hints, palette = self._hints
        width = self.size.width
        tail = Text(no_wrap=True, end="")
        if palette is not None:
            key, description, enabled = palette
            tail.append("▏", self.get_component_rich_style("key-hints--rule"))
            tail.append(key, key_style + (Style() if enabled else dim))
            tail.append(f" {description} ", description_style)
        room = width - tail.cell_len if tail.cell_len < width else width
        pieces: list[Text] = []
        for key, description, enabled in hints:
            hint = Text(end="")
            extra = Style() if enabled else dim
            hint.append(f" {key} ", key_style + extra)
            if description:
                hint.append(f"{description} ", description_style + extra)
            pieces.append(hint)
        # Whole keys only (a key whose description is cut off says nothing), the lowest
        # ranked dropped first; among equals, the rightmost.
        kept = set(range(len(pieces)))
        by_rank = sorted(kept, key=lambda i: (self._ranks[i], i))
        used = sum(p.cell_len for p in pieces)
        while used > room and by_rank:
            dropped = by_rank.pop()
            kept.discard(dropped)
            used -= pieces[dropped].cell_len
        line = Text(no_wrap=True, overflow="crop", end="")
        for i, piece in enumerate(pieces):
            if i in kept:
                line.append_text(piece)
        if tail.cell_len < width:
            line.append(" " * (width - line.cell_len - tail.cell_len))
            line.append_text(tail)
        return line
