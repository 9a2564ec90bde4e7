"""The command palette's entries: Textual's own, less the two a cockpit must not offer,
then every action a key offers (`widgets.command_palette.key_commands`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from textual.app import App, SystemCommand
from textual.dom import DOMNode
from textual.screen import Screen

from widgets.command_palette import key_commands
from widgets.gpu_grid import GpuGrid
from widgets.health_table import HealthTable
from widgets.screens.cockpit import CockpitScreen


def palette_commands(
    app: App[Any],
    screen: Screen[object],
    textuals: Iterable[SystemCommand],
    *,
    kiosk: bool,
    can_mitigate: bool,
    toggle_gpus: Callable[[], None],
) -> Iterator[SystemCommand]:
    for command in textuals:
        # A kiosk saves no screenshot either: in a terminal it is a file on this disk.
        # Textual's Quit quits at once: the palette's is `q`'s, which asks first.
        if not (kiosk and command.title == "Screenshot") and command.title != "Quit":
            yield command

    async def run(node: DOMNode, action: str) -> None:
        """A key's action chosen in the palette: a pane's on that pane, in view."""
        if isinstance(node, GpuGrid) and not node.has_focus:
            toggle_gpus()
        await app.run_action(action, node)

    # Every action a key offers, the panes' keys on the panes' screen only.
    panes: list[DOMNode] = []
    if isinstance(screen, CockpitScreen):
        panes = [*screen.query(HealthTable), *screen.query(GpuGrid)]
    else:  # a screen over the panes: its own keys
        panes = [screen]
    for command in key_commands(app, panes, run):
        # No cluster to act on: the key says so, the palette offers nothing.
        if not (command.title == "Mitigate" and not can_mitigate):
            yield command
