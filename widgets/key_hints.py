"""The bottom line of keys: what the focused pane and the cockpit answer to, right now.

Textual's `Footer` is a row of widgets, one per key, that it unmounts and mounts afresh
whenever the bindings may have changed: on every focus change. `g` moves focus between
the health table and the GPU grid, whose keys differ (`s` sorts the table, `e` and `f`
walk and filter the grid), and rebuilding a dozen widgets was most of that key's time
to paint. `KeyHints` is one widget that renders the same line as text: a change of keys
is a repaint of one line, and no change at all is nothing. The keys read as Footer's
do (key bold in its colour, then its description; disabled ones dim; the command
palette's key on the right behind a thin rule); they are not clickable, as this is a
keyboard cockpit.
"""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

Hint = tuple[str, str, bool]
"""(key as displayed, description, enabled)."""


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

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._hints: tuple[tuple[Hint, ...], Hint | None] = ((), None)

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    @property
    def hints(self) -> tuple[tuple[Hint, ...], Hint | None]:
        """The keys shown, left to right, and the command palette's key (or None)."""
        return self._hints

    def _bindings_changed(self, *_: object) -> None:
        hints = self._read()
        if hints != self._hints:
            self._hints = hints
            self.refresh()

    def _read(self) -> tuple[tuple[Hint, ...], Hint | None]:
        """What Footer would show: each action once (its first shown binding), in the
        order the bindings are active; the palette's key apart."""
        app = self.app
        active = self.screen.active_bindings
        seen: set[str] = set()
        hints: list[Hint] = []
        for _, binding, enabled, _ in active.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            hints.append((app.get_key_display(binding), binding.description, enabled))
        palette: Hint | None = None
        entry = active.get(app.COMMAND_PALETTE_BINDING)
        if entry is not None and app.ENABLE_COMMAND_PALETTE:
            _, binding, enabled, _ = entry
            palette = (app.get_key_display(binding), binding.description, enabled)
        return tuple(hints), palette

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
        line = Text(no_wrap=True, overflow="crop", end="")
        for key, description, enabled in hints:
            # Whole keys only: a key whose description is cut off says nothing.
            hint = Text(end="")
            extra = Style() if enabled else dim
            hint.append(f" {key} ", key_style + extra)
            if description:
                hint.append(f"{description} ", description_style + extra)
            if line.cell_len + hint.cell_len > room:
                break
            line.append_text(hint)
        if tail.cell_len < width:
            line.append(" " * (width - line.cell_len - tail.cell_len))
            line.append_text(tail)
        return line
