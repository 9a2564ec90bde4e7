"""The one key registry: every key warroom binds, and everything made from it.

Each `Key` says which key(s) run which action, the words the key line and the command
palette show, the longer help, and where it applies (its scope: the cockpit, a pane, a
screen). From `KEYS` come each class's ``BINDINGS`` (`bindings`), the key table of the
help screen (`help_table`), what the key line may show (`Key.show`) and the palette's
entries (`Key.not_in_palette`). Every binding carries a stable id (``cockpit.runbook``),
so the ``[keys]`` table of the config file can rebind it through Textual's keymap
(`tui.config` checks the table, `textual_keymap` makes it ``App.set_keymap``'s), and the
help, the key line and the palette all show the key that works.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.keys import KEY_DISPLAY_ALIASES, format_key

from tui.errors import ConfigError
from widgets.ascii import readable

Scope = Literal[
    "cockpit", "replay", "table", "grid", "filter", "runbook", "picker", "canary",
    "help", "quit", "confirm", "menu", "report",
]  # fmt: skip
SCOPES: dict[Scope, str] = {
    "cockpit": "the cockpit: the panes and every screen that is not modal",
    "replay": "the cockpit, while it plays a recording back",
    "table": "the health table, while it has the focus",
    "grid": "the GPU grid, while it has the focus",
    "filter": "the filter bar, while the name is typed",
    "runbook": "the runbook navigator",
    "picker": "the runbook picker (modal)",
    "canary": "the canary screen",
    "help": "this help (modal)",
    "quit": "the question before quitting (modal)",
    "confirm": "a mitigation's confirmation (modal)",
    "menu": "the mitigations menu (modal)",
    "report": "the report form (modal)",
}
"""Where each scope's keys apply; a binding id starts with its scope (``grid.filter``)."""

KEY_LINE: frozenset[Scope] = frozenset(("cockpit", "replay", "table", "grid", "filter", "runbook"))
"""Scopes shown on a key line (`widgets.key_hints`), each key as its `Key.show` says: the
panes' and the navigator's. The canary screen says its keys in its own view, and the
modal screens on their buttons and in their text."""

CURSOR = "a cursor key: there is nothing to look for by name"
QUITS_AT_ONCE = "the palette's Quit is the cockpit's, which asks first during an incident"


@dataclass(frozen=True, slots=True)
class Key:
    """One binding: its key(s), what it does, its words, and where it applies."""

    id: str
    """``scope.name``: stable, the name the ``[keys]`` config table rebinds it by."""
    keys: str
    """Textual key names, comma-separated: ``"escape,t"``."""
    action: str
    description: str
    """A word or two: the key line's and the palette's title."""
    help: str
    """A line for the help screen and the palette; ``{scope.name}`` stands for another
    binding's (first) key, so the text follows a rebinding."""
    key_display: str | None = None
    """How the key line shows the default key (a rebinding shows its own)."""
    show: bool = True
    """On the key line where it applies: the keys a glance looks for, not every key."""
    not_in_palette: str = ""
    """Why the command palette does not offer it; empty: the palette does."""
    priority: bool = False

    @property
    def scope(self) -> Scope:
        return self.id.partition(".")[0]  # type: ignore[return-value]

    def binding(self, keymap: Mapping[str, str] | None = None) -> Binding:
        """The Textual binding, on its rebound key(s) when ``keymap`` rebinds it."""
        rebound = (keymap or {}).get(self.id)
        return Binding(
            rebound or self.keys,
            self.action,
            self.description,
            show=self.show,
            # Textual drops a key's display when a keymap rebinds it: so does this.
            key_display=None if rebound else self.key_display,
            priority=self.priority,
            id=self.id,
        )

    def display_binding(self, keymap: Mapping[str, str] | None = None) -> Binding:
        """Its first key alone, for ``App.get_key_display`` (as the key line shows it)."""
        rebound = (keymap or {}).get(self.id)
        return Binding(
            keys_of(self, keymap)[0],
            self.action,
            self.description,
            key_display=None if rebound else self.key_display,
            id=self.id,
        )


def _copy_n(n: int) -> Key:
    return Key(
        f"runbook.copy_{n}", str(n), f"copy_command({n})", f"Copy {n}",
        f"at a check: copy command {n} (OSC 52, over SSH)", show=False,
        not_in_palette="a key per command of the check: the palette's Copy takes the marked one",
    )  # fmt: skip


KEYS: tuple[Key, ...] = (
    # -- the cockpit: the app's own, on every screen that is not modal
    Key("cockpit.quit", "q", "request_quit", "Quit",
        "quit; asks first ({quit.yes} / {quit.no}) while a model breaches, the incident is "
        "open or a drive runs"),
    Key("cockpit.help", "question_mark", "help", "Help", "this help", key_display="?"),
    Key("cockpit.refresh", "r", "refresh_now", "Refresh", "refresh now"),
    Key("cockpit.gpus", "g", "toggle_gpus", "GPUs",
        "to the GPU grid and back (below 160 columns it takes the plots' place)"),
    Key("cockpit.runbook", "t", "runbook", "Runbook",
        "the runbook navigator: opens on the tree for the worst symptom"),
    Key("cockpit.mitigate", "m", "mitigate", "Mitigate",
        "mitigations: each enabled only if RBAC allows it; a plan, a confirmation, then the "
        "change"),
    Key("cockpit.canary", "c", "canary", "Canary",
        "the canary: the drive this cockpit runs, else a watch on the rollout whoever drives "
        "it"),
    Key("cockpit.export", "e", "export", "Report",
        "export the incident report: severity and root cause to confirm, then Markdown, JSON, "
        "SVG"),
    Key("cockpit.filter", "slash", "filter_names", "Filter",
        "filter the table by name: enter keeps it, {filter.clear} clears it", key_display="/"),
    Key("cockpit.clear_filter", "escape", "clear_filter", "Clear filter",
        "clear a kept filter: every model again", key_display="esc"),
    # -- replay only: bound on the app, off outside a replay (`check_action`)
    Key("replay.pause", "space", "replay_pause", "Pause", "pause or resume the replay",
        show=False),
    Key("replay.back_1m", "left_square_bracket", "replay_seek(-60)", "−1m",
        "back a minute in the replay", key_display="["),
    Key("replay.forward_1m", "right_square_bracket", "replay_seek(60)", "+1m",
        "forward a minute in the replay", key_display="]"),
    Key("replay.back_10m", "left_curly_bracket", "replay_seek(-600)", "−10m",
        "back ten minutes in the replay", show=False),
    Key("replay.forward_10m", "right_curly_bracket", "replay_seek(600)", "+10m",
        "forward ten minutes in the replay", show=False),
    # Textual's own two, declared here so that they have ids (and can be rebound).
    Key("cockpit.palette", "ctrl+p", "command_palette", "palette",
        'command palette: every key\'s action by name ("report"…), each "Mitigate: …"',
        show=False, priority=True, not_in_palette="it opens the palette"),
    Key("cockpit.quit_now", "ctrl+q", "quit", "Quit", "quit at once", show=False,
        priority=True, not_in_palette=QUITS_AT_ONCE),
    # -- the health table (DataTable's cursor keys, with ids)
    Key("table.up", "up", "cursor_up", "Cursor up", "select the model above", show=False,
        not_in_palette=CURSOR),
    Key("table.down", "down", "cursor_down", "Cursor down", "select the model below",
        show=False, not_in_palette=CURSOR),
    Key("table.page_up", "pageup", "page_up", "Page up", "a page of models up", show=False,
        not_in_palette=CURSOR),
    Key("table.page_down", "pagedown", "page_down", "Page down", "a page of models down",
        show=False, not_in_palette=CURSOR),
    Key("table.home", "home", "scroll_home", "Home", "to the top of the table", show=False,
        not_in_palette=CURSOR),
    Key("table.end", "end", "scroll_end", "End", "to the bottom of the table", show=False,
        not_in_palette=CURSOR),
    Key("table.sort", "s", "cycle_sort", "Sort",
        "cycle the sort: severity, p99, 5xx, 429, req/s, name"),
    # -- the GPU grid
    Key("grid.left", "left", "move(0, -1)", "GPU left", "the GPU to the left", show=False,
        not_in_palette=CURSOR),
    Key("grid.right", "right", "move(0, 1)", "GPU right", "the GPU to the right", show=False,
        not_in_palette=CURSOR),
    Key("grid.up", "up", "move(-1, 0)", "Line up", "the line of GPUs above", show=False,
        not_in_palette=CURSOR),
    Key("grid.down", "down", "move(1, 0)", "Line down", "the line of GPUs below", show=False,
        not_in_palette=CURSOR),
    Key("grid.page_up", "pageup", "page(-1)", "Page up", "a page of GPUs up", show=False,
        not_in_palette=CURSOR),
    Key("grid.page_down", "pagedown", "page(1)", "Page down", "a page of GPUs down",
        show=False, not_in_palette=CURSOR),
    Key("grid.home", "home", "ends(0)", "First GPU", "the first GPU", show=False,
        not_in_palette=CURSOR),
    Key("grid.end", "end", "ends(-1)", "Last GPU", "the last GPU", show=False,
        not_in_palette=CURSOR),
    Key("grid.next_event", "e", "next_event", "Next event", "next GPU with an OOM or XID event"),
    Key("grid.filter", "f", "toggle_filter", "Filter model",
        "show only the nodes of the model selected in the table"),
    # -- the filter bar
    Key("filter.clear", "escape", "clear", "Clear filter", "clear the filter being typed",
        not_in_palette="the field's own escape: the palette's Clear filter is the cockpit's"),
    # -- the runbook navigator
    # One key, two meanings: a question's yes, a check's copy (`check_action` shows
    # whichever the step in hand answers to).
    Key("runbook.yes", "y", "answer(True)", "Yes", "yes to the question in hand"),
    Key("runbook.copy", "y", "copy_command", "Copy",
        "at a check: copy the marked command (OSC 52, over SSH)"),
    *(_copy_n(n) for n in range(1, 10)),
    Key("runbook.scroll_left", "left", "scroll_commands(-1)", "Scroll left",
        "scroll a check's commands left", show=False, not_in_palette=CURSOR),
    Key("runbook.scroll_right", "right", "scroll_commands(1)", "Scroll right",
        "scroll a check's commands right", show=False, not_in_palette=CURSOR),
    Key("runbook.no", "n", "answer(False)", "No", "no to the question in hand"),
    Key("runbook.accept", "enter", "accept", "Accept",
        "take the suggested answer, or move past a check or note"),
    Key("runbook.back", "backspace", "back", "Back", "back one step"),
    Key("runbook.restart", "r", "restart", "Restart", "start the runbook over"),
    Key("runbook.pick", "p", "pick", "Pick", "pick another runbook"),
    Key("runbook.mitigate", "a", "mitigate", "Act", "the mitigations that step names"),
    Key("runbook.close", "escape,t", "close", "Close",
        "back to the panes; `{cockpit.runbook}` resumes where you were", key_display="esc"),
    Key("runbook.quit", "q", "app.quit", "Quit", "quit at once, as {cockpit.quit_now} does",
        show=False, not_in_palette=QUITS_AT_ONCE),
    Key("picker.cancel", "escape", "cancel", "Cancel", "back to the runbook in hand"),
    # -- the canary screen
    Key("canary.pause", "p", "pause", "Pause", "pause the ramp, or resume it"),
    Key("canary.promote", "P", "promote", "Promote", "promote to 100 % now (confirmed first)"),
    Key("canary.abort", "A", "abort", "Abort", "abort: the drained rollback (confirmed first)"),
    Key("canary.back", "escape,c", "app.pop_screen", "Back", "back to the panes",
        key_display="esc"),
    Key("canary.quit", "q", "app.quit", "Quit", "quit at once, as {cockpit.quit_now} does",
        show=False, not_in_palette=QUITS_AT_ONCE),
    # -- modal screens
    Key("help.close", "escape,question_mark,q", "dismiss", "Close", "close this help"),
    Key("quit.yes", "y,enter", "answer(True)", "Quit", "quit"),
    Key("quit.no", "n,escape", "answer(False)", "Stay", "stay"),
    Key("confirm.cancel", "escape", "cancel", "Cancel", "cancel: nothing is sent"),
    # In the name field, n is typed: this one acts outside it only.
    Key("confirm.no", "n", "cancel", "Cancel", "cancel, outside the typed name", show=False,
        not_in_palette="the same Cancel as escape's"),
    Key("menu.cancel", "escape", "cancel", "Cancel", "close the menu: nothing changes"),
    Key("report.cancel", "escape", "cancel", "Cancel", "close the form: nothing is written"),
)  # fmt: skip
"""Every key, in each scope in the order its class binds them (the key line's order)."""

BY_ID: dict[str, Key] = {key.id: key for key in KEYS}


def bindings(*scopes: Scope) -> list[BindingType]:
    """A class's ``BINDINGS``: the registry's keys of ``scopes``, in registry order."""
    return [key.binding() for key in KEYS if key.scope in scopes]


def current_keymap(node: DOMNode) -> Mapping[str, str]:
    """The keymap the app runs with (binding id -> keys), as `textual_keymap` made it.

    Textual 8.2 sets it (``App.set_keymap``) but has no getter: this reads it, in one
    place."""
    keymap: Mapping[str, str] = getattr(node.app, "_keymap", {})
    return keymap


def keys_of(key: Key, keymap: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The key names that run ``key`` now: rebound by ``keymap``, else its own."""
    return _split((keymap or {}).get(key.id) or key.keys)


def _split(keys: str) -> tuple[str, ...]:
    """Textual's key names for a comma-separated list (``"?"`` -> ``question_mark``)."""
    return tuple(b.key for b in Binding.make_bindings([Binding(keys, "")]))


# -- the help screen's table ---------------------------------------------------------------

HELP_NAMES = {
    "up": "↑", "down": "↓", "left": "←", "right": "→",
    "pageup": "PgUp", "pagedown": "PgDn", "home": "Home", "end": "End", "minus": "-",
}  # fmt: skip
"""Keys the help names by their keycap; the others by their Textual name (``escape``,
``ctrl+p``) or their character (``?``, ``[``)."""


def help_key(key: str, *, ascii: bool = False) -> str:
    """One key as the help table writes it: ``↑``, ``PgUp``, ``?``, ``escape``, ``ctrl+p``."""
    *modifiers, base = key.split("+")
    if base in HELP_NAMES:
        base = HELP_NAMES[base]
        if ascii:
            # ``<-``, not the one cell the screen's filter would squeeze ``←`` to.
            base = readable(base)
    elif base not in KEY_DISPLAY_ALIASES and len(shown := format_key(base)) == 1:
        base = shown  # a character key: ?, /, [
    return "+".join([*modifiers, base])


@dataclass(frozen=True, slots=True)
class HelpRow:
    """A line of the help's key table. In both cells ``{scope.name}`` stands for a
    binding's keys (in ``keys`` all of them, in ``does`` its first), and
    ``{a|b|…}`` for several bindings' keys together (the same key said once, a run of
    digits as ``1-9``). ``does`` empty: the one binding's own help."""

    keys: str
    does: str = ""

    @property
    def ids(self) -> tuple[str, ...]:
        """The bindings whose keys the key cell shows."""
        return tuple(i for group in _PLACEHOLDER.findall(self.keys) for i in group.split("|"))


def _copies() -> str:
    return "{" + "|".join(f"runbook.copy_{n}" for n in range(1, 10)) + "}"


HELP_ROWS: tuple[HelpRow, ...] = (
    HelpRow("{table.up} {table.down} {table.page_up} {table.page_down} {table.home} "
            "{table.end}", "move the selection; the plots follow it"),
    HelpRow("{table.sort}"),
    HelpRow("{cockpit.gpus}"),
    HelpRow("{grid.left} {grid.right} {grid.up} {grid.down} (grid)",
            "move over GPUs; the detail pane follows"),
    HelpRow("{grid.page_up} {grid.page_down} {grid.home} {grid.end} (grid)",
            "a page of GPUs up or down, the first or the last GPU"),
    HelpRow("{grid.next_event} (grid)"),
    HelpRow("{grid.filter} (grid)"),
    HelpRow("{cockpit.runbook}"),
    HelpRow("{runbook.yes|runbook.copy} / {runbook.no} (runbook)",
            "answer the question; at a check, {runbook.copy} / " + _copies()
            + " copy a command (OSC 52, over SSH)"),
    HelpRow(_copies() + " (runbook, at a check)", "copy that command of the check"),
    HelpRow("{runbook.scroll_left} {runbook.scroll_right} (runbook, at a check)",
            "scroll the check's commands sideways"),
    HelpRow("{runbook.accept} (runbook)"),
    HelpRow("{runbook.back} / {runbook.restart} / {runbook.pick} (runbook)",
            "back one step / start over / pick another runbook"),
    HelpRow("{picker.cancel} (runbook picker)"),
    HelpRow("{runbook.close} (runbook)"),
    HelpRow("{runbook.quit|canary.quit} (runbook, canary)"),
    HelpRow("{cockpit.mitigate}"),
    HelpRow("{menu.cancel} (mitigations)"),
    HelpRow("{confirm.cancel} / {confirm.no} (confirmation)",
            "cancel: nothing is sent ({confirm.no} only outside the typed name)"),
    HelpRow("{runbook.mitigate} (runbook, at an action step)"),
    HelpRow("{cockpit.canary}"),
    HelpRow("{canary.pause} / {canary.promote} / {canary.abort} (canary)",
            "pause or resume / promote now / abort, drained ({canary.promote} and "
            "{canary.abort} confirm first)"),
    HelpRow("{canary.back} (canary)"),
    HelpRow("{cockpit.export}"),
    HelpRow("{report.cancel} (report form)"),
    HelpRow("{replay.pause}, {replay.back_1m} {replay.forward_1m}, {replay.back_10m} "
            "{replay.forward_10m} (replay)", "pause / resume, back or forward a minute, ten "
            "minutes"),
    HelpRow("{cockpit.palette}"),
    HelpRow("{cockpit.filter}"),
    HelpRow("{filter.clear} (typing a filter)"),
    HelpRow("{cockpit.clear_filter}"),
    HelpRow("{cockpit.refresh}"),
    HelpRow("{cockpit.help}"),
    HelpRow("{help.close} (help)"),
    HelpRow("{cockpit.quit}"),
    HelpRow("{quit.yes} (asked to quit)"),
    HelpRow("{quit.no} (asked to quit)"),
    HelpRow("{cockpit.quit_now}"),
)  # fmt: skip
"""The help's key table, top to bottom: every binding in the registry has a row."""

_PLACEHOLDER = re.compile(r"\{([a-z_]+\.[a-z_0-9]+(?:\|[a-z_]+\.[a-z_0-9]+)*)\}")


def _shown(
    group: str, keymap: Mapping[str, str] | None, *, every: bool, ascii: bool = False
) -> str:
    """A placeholder's keys: each binding's (``every``) or its first, the same key once,
    a run of three or more digits as ``1-9``; joined by `` / ``."""
    shown: list[str] = []
    for binding_id in group.split("|"):
        keys = keys_of(BY_ID[binding_id], keymap)
        for key in keys if every else keys[:1]:
            if (name := help_key(key, ascii=ascii)) not in shown:
                shown.append(name)
    digits = [int(s) for s in shown if len(s) == 1 and s.isdigit()]
    if len(digits) == len(shown) >= 3 and digits == list(range(digits[0], digits[-1] + 1)):
        return f"{digits[0]}-{digits[-1]}"
    return " / ".join(shown)


def say(
    text: str,
    keymap: Mapping[str, str] | None = None,
    *,
    every: bool = False,
    ascii: bool = False,
) -> str:
    """``text`` with each ``{scope.name}`` replaced by that binding's key (all its keys
    with ``every``), as the help writes keys."""
    return _PLACEHOLDER.sub(lambda m: _shown(m[1], keymap, every=every, ascii=ascii), text)


def _cell(text: str) -> str:
    # A key may be `|` itself, which would end a Markdown table cell.
    return text.replace("|", "\\|")


def help_table(keymap: Mapping[str, str] | None = None, *, ascii: bool = False) -> str:
    """The help screen's key table (Markdown), with the keys as ``keymap`` binds them."""
    lines = ["| key | does |", "|---|---|"]
    for row in HELP_ROWS:
        does = row.does or BY_ID[row.ids[0]].help
        keys = say(row.keys, keymap, every=True, ascii=ascii)
        lines.append(f"| {_cell(keys)} | {_cell(say(does, keymap, ascii=ascii))} |")
    return "\n".join(lines) + "\n"


# -- the config's [keys] table, for Textual's keymap -----------------------------------------

_OWNER: dict[str, str] = {"replay": "cockpit"}
"""Scopes bound on another scope's class: the replay keys are the app's."""
_TOGETHER: set[frozenset[str]] = {
    frozenset(("cockpit", pane)) for pane in ("table", "grid", "filter", "runbook", "canary")
}
"""Scopes whose keys are live at once (a pane's or a screen's before the app's): a key in
both would be the first one's only."""


def _owner(key: Key) -> str:
    return _OWNER.get(key.scope, key.scope)


def _live_together(a: Key, b: Key) -> bool:
    """Whether ``a`` and ``b`` can be in one chain of bindings, so one key cannot be both."""
    if a.priority or b.priority:  # the app's priority keys come before every screen's
        return True
    return _owner(a) == _owner(b) or frozenset((_owner(a), _owner(b))) in _TOGETHER


def _check_clashes(keymap: Mapping[str, str]) -> None:
    """One key for two bindings live at once, where the rebinding made it so."""
    for a in KEYS:
        for b in KEYS:
            if a.id >= b.id or not (a.id in keymap or b.id in keymap):
                continue
            if not _live_together(a, b):
                continue
            shared = set(keys_of(a, keymap)) & set(keys_of(b, keymap))
            # A key the two share by default shares by design (y: a question's yes, a
            # check's copy; e: the grid's next event before the report).
            shared -= set(keys_of(a)) & set(keys_of(b))
            if shared:
                key = help_key(sorted(shared)[0])
                raise ConfigError(
                    f"The config's [keys] give {key!r} to both {a.id} and {b.id}; give one "
                    "of them another key."
                )


def textual_keymap(keys: Mapping[str, str]) -> dict[str, str]:
    """The keymap for ``App.set_keymap`` from the config's ``[keys]`` (checked there:
    known ids, real keys). Raises `ConfigError` when a rebinding gives one key to two
    bindings live at once.

    Rebindings to a binding's own key are left out; added is every binding that shares a
    default key with a rebound one in the same class, on that key: Textual's keymap drops
    the whole key of a rebound binding, so `y`'s Copy would go with `y`'s Yes."""
    _check_clashes(keys)
    rebound = {i: k for i, k in keys.items() if _split(k) != keys_of(BY_ID[i])}
    kept: dict[str, str] = {}
    for binding_id in rebound:
        moved = BY_ID[binding_id]
        for other in KEYS:
            if other.id in rebound or _owner(other) != _owner(moved):
                continue
            if set(keys_of(other)) & set(keys_of(moved)):
                kept[other.id] = ",".join(keys_of(other))
    return {**kept, **rebound}
