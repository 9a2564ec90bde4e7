"""Walking a runbook with live evidence: pure logic shared by the navigator and
``warroom triage``.

`worst_symptom` picks what to investigate (the sickest model's worst breached signal),
`Walk` holds the engineer's place in the trees — the path taken, each answer, and the
evidence as it stood when the answer was given — and `auto_walk` goes as far as live
evidence answers on its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tui.config import Slo
from tui.domain.format import model_label
from tui.domain.mitigations import MITIGATIONS
from tui.domain.model import AGGREGATE, ModelHealth, iso_utc
from tui.domain.runbook import (
    PLACEHOLDER,
    SYMPTOM_OF_SIGNAL,
    Action,
    Check,
    Link,
    Note,
    Question,
    Runbook,
    Runbooks,
)
from tui.domain.severity import Judged, Level, rank, threshold
from tui.domain.signals import SIGNALS, Facts, read

SIGNAL_NAMES = {"ttft_p99_s": "TTFT", "queue_depth": "queue", "kv_cache_ratio": "KV cache"}
"""How a headline names the signals that open a tree named after another symptom."""
AUTO_WALK_LIMIT = 200
"""Steps `auto_walk` takes at most: trees are checked loop-free, this is belt and braces."""


@dataclass(frozen=True, slots=True)
class Symptom:
    """The worst breach on screen: which tree to open, and for which model."""

    kind: str
    """``p99``, ``5xx`` or ``429`` (`tui.domain.runbook.SYMPTOMS`)."""
    model: str
    signal: str
    value: float
    threshold: float
    level: Level

    @property
    def headline(self) -> str:
        sig = SIGNALS[self.signal]
        state = "breach" if self.level == Level.BREACH else "warning"
        # The tree is the latency one for a slow first token, a deep queue or a full KV
        # cache, but the headline names what breached: "p99 breach" on a TTFT misleads.
        what = SIGNAL_NAMES.get(self.signal, self.kind)
        return (
            f"{what} {state} on {model_label(self.model)}: {sig.says} "
            f"{sig.show(self.value)} (SLO {sig.show(self.threshold)})"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "model": self.model,
            "signal": self.signal,
            "value": round(self.value, 6),
            "threshold": self.threshold,
            "level": self.level.name.lower(),
            "headline": self.headline,
        }


def worst_symptom(
    models: Iterable[ModelHealth], aggregate: ModelHealth, slo: Slo, verdicts: Judged
) -> Symptom | None:
    """The sickest model's worst signal at or past its warning line; the whole API's when
    no single model is (or none reports). None when everything is within SLO."""
    for health in [*rank(models, slo, verdicts), aggregate]:
        verdict = verdicts.of(health, slo)
        if verdict.worst is None or verdict.level < Level.WARN:
            continue
        value = getattr(health, verdict.worst)
        return Symptom(
            kind=SYMPTOM_OF_SIGNAL[verdict.worst],
            model=health.model,
            signal=verdict.worst,
            value=value,
            threshold=threshold(slo, verdict.worst),
            level=verdict.level,
        )
    return None


@dataclass(frozen=True, slots=True)
class Reading:
    """A question's evidence at one moment."""

    expr: str
    values: dict[str, float | None]
    suggested: bool | None
    """What the evidence says: True (yes), False (no), None (it cannot tell)."""

    def shown(self) -> str:
        """``gpu_util_max 97.0%`` … each signal the expression reads, with its value."""
        return ", ".join(f"{n} {SIGNALS[n].show(v)}" for n, v in self.values.items())

    def as_json(self) -> dict[str, Any]:
        return {
            "expression": self.expr,
            "values": {k: (None if v is None else round(v, 6)) for k, v in self.values.items()},
            "suggested": _yes_no(self.suggested),
        }


def reading(step: Question, facts: Facts) -> Reading | None:
    expr = step.expr
    if expr is None:
        return None
    values = read(expr.names, facts)
    return Reading(expr.text, values, expr.evaluate(values))


@dataclass(frozen=True, slots=True)
class Taken:
    """One step on the path: where the engineer was and what they decided there."""

    runbook: str
    step: str
    kind: str
    text: str
    answer: bool | None = None
    """A question's answer; None for the other kinds."""
    by: str | None = None
    """``evidence`` (accepted as suggested), ``engineer`` (typed, agreeing or not) or None."""
    reading: Reading | None = None
    shows: dict[str, float | None] = field(default_factory=dict)
    """A check's live values when it was passed."""

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "runbook": self.runbook,
            "step": self.step,
            "kind": self.kind,
            "text": self.text,
        }
        if self.kind == "question":
            out["answer"] = _yes_no(self.answer)
            out["by"] = self.by
            out["evidence"] = self.reading.as_json() if self.reading else None
        if self.shows:
            out["shows"] = {k: (None if v is None else round(v, 6)) for k, v in self.shows.items()}
        return out


StepT = Question | Check | Action | Note | Link


class Walk:
    """The engineer's place in the runbooks. Each move returns what was taken, so the
    caller can put it in the incident timeline."""

    def __init__(self, books: Runbooks, runbook: Runbook) -> None:
        self.books = books
        self.first = runbook
        self.runbook = runbook
        self.step_id = runbook.start
        self.path: list[Taken] = []
        self._places: list[tuple[str, str]] = []
        """Where each `path` entry was taken, to go back to."""

    @property
    def here(self) -> StepT:
        return self.runbook.step(self.step_id)

    @property
    def at_leaf(self) -> bool:
        step = self.here
        return isinstance(step, Action) or (isinstance(step, Note) and step.next is None)

    def answer(self, yes: bool, facts: Facts) -> Taken:
        step = self.here
        if not isinstance(step, Question):
            raise ValueError(f"{step.id} is not a question")
        return self._answer(step, yes, reading(step, facts))

    def _answer(self, step: Question, yes: bool, now: Reading | None) -> Taken:
        agreed = now is not None and now.suggested is yes
        taken = self._take(step, answer=yes, by="evidence" if agreed else "engineer", reading=now)
        self.step_id = step.yes if yes else step.no
        return taken

    def advance(self, facts: Facts) -> Taken | None:
        """Past a check, a note with ``next``, or through a link; None at a leaf or a
        question (which needs an answer)."""
        step = self.here
        match step:
            case Check() | Note() if step.next is not None:
                shows = read(step.shows, facts) if isinstance(step, Check) else {}
                taken = self._take(step, shows=shows)
                self.step_id = step.next
                return taken
            case Link():
                taken = self._take(step)
                self.runbook = self.books.books[step.runbook]
                self.step_id = self.runbook.start
                return taken
        return None

    def accept(self, facts: Facts) -> Taken | None:
        """Enter: take the suggested answer of a question, or move past anything else."""
        step = self.here
        if isinstance(step, Question):
            now = reading(step, facts)
            if now is None or now.suggested is None:
                return None
            return self._answer(step, now.suggested, now)
        return self.advance(facts)

    def back(self) -> Taken | None:
        """Undo the last step; returns it (None at the start)."""
        if not self.path:
            return None
        undone = self.path.pop()
        rid, self.step_id = self._places.pop()
        self.runbook = self.books.books.get(rid, self.first)
        return undone

    def restart(self) -> None:
        self.runbook = self.first
        self.step_id = self.first.start
        self.path.clear()
        self._places.clear()

    def _take(self, step: StepT, **kw: Any) -> Taken:
        taken = Taken(self.runbook.id, step.id, step.kind, step.text, **kw)
        self.path.append(taken)
        self._places.append((self.runbook.id, step.id))
        return taken


def auto_walk(walk: Walk, facts: Facts) -> None:
    """Answer and pass steps while live evidence decides; stop at a leaf or at the first
    question the evidence cannot answer."""
    for _ in range(AUTO_WALK_LIMIT):
        if walk.at_leaf or walk.accept(facts) is None:
            return


def fill(text: str, facts: Facts, window: str) -> str:
    """A check's command with ``{{placeholders}}`` filled from live data; one with no
    value reads ``<pod>`` and so on, for the engineer to fill."""
    values = placeholder_values(facts, window)

    def sub(m: Any) -> str:
        return values.get(m.group(1)) or f"<{m.group(1)}>"

    return PLACEHOLDER.sub(sub, text)


def placeholder_values(facts: Facts, window: str) -> dict[str, str | None]:
    gpus = facts.gpus if facts.model != AGGREGATE else []
    hit = {e.pod for e in facts.recent if e.pod}
    pods = sorted(gpus, key=lambda g: (g.pod not in hit, g.pod or "", g.node, g.gpu))
    first = next((g for g in pods if g.pod), None)
    keys = facts.snapshot.rate_limited_keys
    return {
        "model": None if facts.model == AGGREGATE else facts.model,
        "namespace": first.namespace if first else None,
        "pod": first.pod if first else None,
        "node": first.node if first else None,
        "window": window,
        "api_key": keys[0].api_key if keys else None,
    }


def leaf_json(step: StepT) -> dict[str, Any]:
    out: dict[str, Any] = {"step": step.id, "kind": step.kind, "text": step.text}
    if isinstance(step, Action):
        out["actions"] = [
            {
                "id": a,
                "title": MITIGATIONS[a].title,
                "changes": MITIGATIONS[a].changes,
                "automated": MITIGATIONS[a].automated,
            }
            for a in step.actions
        ]
    return out


def step_json(step: StepT) -> dict[str, Any]:
    return step.model_dump(exclude_none=True)


def triage_json(
    walk: Walk | None,
    facts: Facts,
    symptom: Symptom | None,
    books: Runbooks,
) -> dict[str, Any]:
    """``warroom triage --json``: the tree, the path, and where the walk ended."""
    snap = facts.snapshot
    out: dict[str, Any] = {
        "taken_at": iso_utc(snap.taken_at),
        "source": snap.source,
        "stale": snap.stale,
        "symptom": symptom.as_json() if symptom else None,
        "model": facts.model if walk else None,
        "runbook_errors": [str(e) for e in books.errors],
    }
    if walk is None:
        out |= {"runbook": None, "path": [], "reached": None, "stopped_at": None}
        return out
    tree = walk.first
    out["runbook"] = {
        "id": tree.id,
        "title": tree.title,
        "summary": tree.summary,
        "gotchas": tree.gotchas,
        "start": tree.start,
        "steps": [step_json(s) for s in tree.steps],
    }
    out["path"] = [t.as_json() for t in walk.path]
    here = walk.here
    if walk.at_leaf:
        out["reached"] = {"runbook": walk.runbook.id, **leaf_json(here)}
        out["stopped_at"] = None
    else:
        stop: dict[str, Any] = {"runbook": walk.runbook.id, **leaf_json(here)}
        if isinstance(here, Question):
            now = reading(here, facts)
            stop["evidence"] = now.as_json() if now else None
            stop["reason"] = (
                "no evidence expression: the engineer answers"
                if now is None
                else "the signals it reads have no data"
            )
        out["reached"] = None
        out["stopped_at"] = stop
    return out


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")
