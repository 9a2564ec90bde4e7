"""Marks for the history plots and the line of what is in force, from the incident timeline.

Grafana draws an annotation where a deploy or a change happened, so a line that bends
can be read against what was done; this is that for the cockpit's plots. A mark is a
mitigation carried out (``action.succeeded``), a canary step (its start, each stage, its
promotion) or a rollback (``rollout-undo``, the drained rollback, ``canary.rolled-back``):
the timeline is the only source, so a change made by another warroom on the same
incident is marked too, and one made outside warroom is not claimed.

What is in force folds the mitigations that set something lasting (fallback, overflow
routing, shedding, a batch cap, a model's replicas, the deploy freeze) in time order:
each switch holds its latest value since the moment it was set, and goes when it is set
back to what it was before the incident touched it (the first change's ``old``) or to
its normal value (fallback off, no freeze). A restart or a rollback is a moment, not a
state: it is a mark only.

Pure: `tui.store.timeline.TimelineAnnotations` reads the file and folds it here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from tui.clock import utc
from tui.domain.format import model_label, printable
from tui.domain.mitigations import MITIGATIONS, replicas_word
from tui.domain.model import AGGREGATE

UNSET = "(unset)"
"""How a plan writes a value that was not there (`tui.domain.plan.UNSET`)."""

MarkKind = Literal["M", "C", "R"]
"""The tag a plot draws at a mark: mitigation, canary step, rollback."""
MARK_ORDER: dict[MarkKind, int] = {"C": 0, "M": 1, "R": 2}
"""Which tag wins where two marks share a column: a rollback says the most."""

ROLLBACKS = ("rollout-undo", "drained-rollback")
FLEET_WIDE = ("drained-rollback",)
"""Mitigations on the gateway or the canary route, besides the switches' own: marked on
every model's plots whatever model was selected when they were carried out."""

CANARY_STEPS: dict[str, MarkKind] = {
    "canary.started": "C",
    "canary.stage": "C",
    "canary.promoted": "C",
    "canary.rolled-back": "R",
}


@dataclass(frozen=True, slots=True)
class Mark:
    at: float
    label: str
    """A few words: ``fallback on``, ``canary 25 %``, ``batch cap 16 on llama-70b``."""
    kind: MarkKind
    model: str | None = None
    """The model it acted on; None: the whole fleet (the gateway, the canary route)."""


@dataclass(frozen=True, slots=True)
class InForce:
    what: str
    """``fallback on``, ``batch cap 16 on llama-70b``: made inert (`printable`)."""
    since: float
    model: str | None = None

    @property
    def text(self) -> str:
        return f"{self.what} since {utc(self.since):%H:%M}Z"


@dataclass(frozen=True, slots=True)
class Annotations:
    marks: tuple[Mark, ...] = ()
    """Oldest first."""
    in_force: tuple[InForce, ...] = ()
    """The most recently set first: the change just made is the one to check."""

    def marks_for(self, model: str) -> tuple[Mark, ...]:
        """The marks a model's plots show: the fleet's and its own; the aggregate's, all."""
        if model == AGGREGATE:
            return self.marks
        return tuple(m for m in self.marks if m.model is None or m.model == model)

    @property
    def line(self) -> list[str]:
        """Each thing in force as the lasting line says it, newest first."""
        return [item.text for item in self.in_force]


# -- the switches ----------------------------------------------------------------------


def _value(v: str | None) -> str:
    return printable(v) if v is not None else ""


def _fallback(v: str | None, model: str | None) -> str:
    if v in ("true", None):
        return "fallback on"
    return "fallback off" if v in ("false", UNSET) else f"fallback {_value(v)}"


def _overflow(v: str | None, model: str | None) -> str:
    if v is None:
        return "overflow routing on"
    return "overflow routing off" if v == UNSET else f"overflow routing at {_value(v)}"


def _shedding(v: str | None, model: str | None) -> str:
    if v is None:
        return "shedding on"
    if v == UNSET:
        return "shedding off"
    try:
        return f"shedding {float(v) * 100:g} %"
    except ValueError:
        return f"shedding {_value(v)}"


def _on(model: str | None) -> str:
    return f" on {model_label(model)}" if model is not None else ""


def _batch_cap(v: str | None, model: str | None) -> str:
    if v == UNSET:
        return f"batch cap lifted{_on(model)}"
    cap = f" {_value(v)}" if v is not None else ""
    return f"batch cap{cap}{_on(model)}"


def _replicas(v: str | None, model: str | None) -> str:
    name = model_label(model) if model is not None else "the model"
    if v is None or not v.isdigit():
        return f"{name} scaled to {_value(v) or 'a new size'}"
    return f"{name} at {v} {replicas_word(int(v))}"


def _freeze(v: str | None, model: str | None) -> str:
    return "deploy freeze lifted" if v == UNSET else "deploy freeze"


@dataclass(frozen=True, slots=True)
class Switch:
    """Something a mitigation sets that lasts: the on and the off of one switch share it."""

    name: str
    words: Callable[[str | None, str | None], str]
    """(value set, model) -> what is in force, in the SRE's words."""
    normal: tuple[str, ...] = (UNSET,)
    """Values that mean nothing is in force any more."""
    per_model: bool = False
    implied: str | None = None
    """The value a mitigation sets when its entry names no change (a hand-written one)."""


SWITCHES: dict[str, Switch] = {
    "fallback-on": Switch("fallback", _fallback, (UNSET, "false"), implied="true"),
    "fallback-off": Switch("fallback", _fallback, (UNSET, "false"), implied="false"),
    "overflow-routing": Switch("overflow", _overflow),
    "request-shedding": Switch("shedding", _shedding, (UNSET, "0", "0.0")),
    "batch-size-cap": Switch("batch-cap", _batch_cap, per_model=True),
    "scale-up": Switch("replicas", _replicas, (), per_model=True),
    "scale-down": Switch("replicas", _replicas, (), per_model=True),
    "deploy-freeze": Switch("freeze", _freeze, implied="true"),
    "deploy-unfreeze": Switch("freeze", _freeze, implied=UNSET),
}
"""The mitigations that set something lasting (`tui.domain.mitigations.MITIGATIONS` ids; their
values as `tui.actions.kube` plans them), by id."""
WORDS = {s.name: s.words for s in SWITCHES.values()}


# -- from the timeline -----------------------------------------------------------------


def entry_time(entry: Mapping[str, Any]) -> float | None:
    """When an entry was written; None for one whose time is missing or damaged."""
    at = entry.get("at")
    if not isinstance(at, str):
        return None
    try:
        when = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.timestamp() if when.tzinfo is not None else None


def relevant(entry: Mapping[str, Any]) -> bool:
    """An entry that marks a plot or sets what is in force."""
    kind = entry.get("kind")
    return kind == "action.succeeded" or kind in CANARY_STEPS


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _changes(entry: Mapping[str, Any]) -> list[tuple[str | None, str | None]]:
    """(old, new) of each field the entry's plan changed."""
    changes = entry.get("changes")
    if not isinstance(changes, list):
        return []
    return [(_str(c.get("old")), _str(c.get("new"))) for c in changes if isinstance(c, dict)]


@dataclass(slots=True)
class _Held:
    original: str | None
    """The value before the incident first changed it (the first change's ``old``)."""
    value: str | None = None
    since: float = 0.0
    model: str | None = None


@dataclass(slots=True)
class _Fold:
    marks: list[Mark] = field(default_factory=list)
    held: dict[tuple[str, str | None], _Held] = field(default_factory=dict)

    def action(self, at: float, entry: Mapping[str, Any]) -> None:
        mitigation = _str(entry.get("mitigation")) or ""
        model = _str(entry.get("model"))
        switch = SWITCHES.get(mitigation)
        kind: MarkKind = "R" if mitigation in ROLLBACKS else "M"
        if switch is None:
            if mitigation in FLEET_WIDE:
                model = None
            known = MITIGATIONS.get(mitigation)
            title = _str(entry.get("title")) or (known.title if known else mitigation)
            self.marks.append(Mark(at, printable(title) + _on(model), kind, model))
            return
        model = model if switch.per_model else None
        changes = _changes(entry)
        old, new = changes[0] if changes else (None, switch.implied)
        self.marks.append(Mark(at, switch.words(new, model), kind, model))
        slot = (switch.name, model)
        held = self.held.setdefault(slot, _Held(original=old))
        if new in switch.normal or (held.original is not None and new == held.original):
            del self.held[slot]  # back to what it was: nothing of it in force
            return
        held.value, held.since, held.model = new, at, model

    def canary(self, at: float, entry: Mapping[str, Any], kind: MarkKind) -> None:
        step = str(entry["kind"]).removeprefix("canary.")
        pct = entry.get("stage_pct")
        if step == "stage" and isinstance(pct, int | float) and not isinstance(pct, bool):
            label = f"canary {pct:g} %"
        else:
            label = f"canary {step.replace('-', ' ')}"
        self.marks.append(Mark(at, label, kind))


def annotate(entries: Iterable[Mapping[str, Any]], now: float | None = None) -> Annotations:
    """The marks and what is in force, from timeline ``entries`` up to ``now`` (a replay
    plays an incident whose later entries are on disk already)."""
    timed = []
    for entry in entries:
        at = entry_time(entry)
        if at is not None and relevant(entry) and (now is None or at <= now):
            timed.append((at, entry))
    timed.sort(key=lambda t: t[0])  # two warroom processes interleave whole lines
    fold = _Fold()
    for at, entry in timed:
        kind = entry["kind"]
        if kind == "action.succeeded":
            fold.action(at, entry)
        else:
            fold.canary(at, entry, CANARY_STEPS[kind])
    in_force = [
        InForce(WORDS[name](held.value, held.model), held.since, held.model)
        for (name, _), held in fold.held.items()
    ]
    in_force.sort(key=lambda i: i.since, reverse=True)
    return Annotations(tuple(fold.marks), tuple(in_force))


def plot_marks(marks: Sequence[Mark], now: float, window_s: float) -> tuple[tuple[float, str], ...]:
    """(minutes before ``now``, tag) of each mark inside the plots' window, the tag that
    wins a shared column last."""
    inside = [m for m in marks if -window_s <= m.at - now <= 0]
    inside.sort(key=lambda m: (MARK_ORDER[m.kind], m.at))
    return tuple(((m.at - now) / 60, m.kind) for m in inside)
