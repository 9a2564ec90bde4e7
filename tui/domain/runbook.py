"""A runbook is a decision tree an engineer walks under stress: its schema and its rules.

One tree per file in ``runbooks/`` (see its README for the format). Four kinds of step:

- **question** — yes or no, optionally answered from live data by an ``evidence``
  expression (`tui.domain.expr` over `tui.domain.signals`); ``yes`` and ``no`` name the next steps;
- **check** — something to run (PromQL, kubectl, a log query), ready to copy, with the
  live signals that already answer part of it (``shows``);
- **action** — a leaf naming mitigations by id (`tui.domain.mitigations`);
- **note** — a fact or a conclusion; a leaf unless it has ``next``;
- **link** — go on in another runbook (the 5xx tree hands a GPU OOM to the OOM tree).

Pydantic checks each file's shape; `problems` checks the graph (every id resolves,
every step is reachable, nothing loops) and returns where each fault is, so the loader
can name the file, line and field.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from tui.domain.expr import Expr, compile_expr
from tui.domain.mitigations import MITIGATIONS
from tui.domain.signals import SIGNALS

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=60)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=400, strip_whitespace=True)]

SYMPTOMS = ("p99", "5xx", "429")
"""What the health pane can breach: the navigator opens on the tree for the worst one."""
SYMPTOM_OF_SIGNAL = {
    "p99_s": "p99", "error_5xx_ratio": "5xx", "rate_429_ratio": "429",
    # A slow first token, a deep queue or a full KV cache is a latency problem in the
    # making (the latency tree asks about saturation and queueing first).
    "ttft_p99_s": "p99", "queue_depth": "p99", "kv_cache_ratio": "p99",
}  # fmt: skip

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
"""``{{model}}`` in a check's command: filled from live data when shown. Double braces,
because PromQL uses single ones."""
PLACEHOLDERS = {
    "model": "the affected model",
    "namespace": "its pods' namespace",
    "pod": "one of its pods (the first with an OOM or XID, else the first)",
    "node": "that pod's node",
    "window": "the PromQL rate window",
    "api_key": "the API key with the most 429s",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Step(_Strict):
    id: Id
    text: Text
    """The question, the check's purpose, the action's summary or the note itself."""
    detail: Text | None = None
    """Why it matters or how to read it: one or two sentences the navigator shows below."""


class Question(_Step):
    kind: Literal["question"]
    evidence: str | None = None
    """Expression over live signals that answers it; None: the engineer answers."""
    yes: Id
    no: Id

    @field_validator("evidence")
    @classmethod
    def _compiles(cls, v: str | None) -> str | None:
        if v is not None:
            compile_expr(v, SIGNALS)
        return v

    @cached_property
    def expr(self) -> Expr | None:
        """Compiled once per step: the card re-reads it after every refresh."""
        return None if self.evidence is None else compile_expr(self.evidence, SIGNALS)


class Command(_Strict):
    lang: Literal["promql", "kubectl", "logs", "shell"]
    text: Text

    @field_validator("text")
    @classmethod
    def _known_placeholders(cls, v: str) -> str:
        for name in PLACEHOLDER.findall(v):
            if name not in PLACEHOLDERS:
                known = ", ".join("{{" + p + "}}" for p in PLACEHOLDERS)
                raise ValueError(f"{{{{{name}}}}} is not a placeholder warroom fills ({known})")
        return v


def _known_signal(name: str) -> str:
    if name not in SIGNALS:
        raise ValueError(f"{name!r} is not a signal warroom knows")
    return name


def _known_mitigation(name: str) -> str:
    if name not in MITIGATIONS:
        raise ValueError(f"{name!r} is not a mitigation warroom knows")
    return name


class Check(_Step):
    kind: Literal["check"]
    run: list[Command] = Field(min_length=1)
    shows: list[Annotated[str, AfterValidator(_known_signal)]] = Field(default_factory=list)
    """Live signals that already answer part of the check."""
    next: Id | None = None


class Action(_Step):
    kind: Literal["action"]
    actions: list[Annotated[str, AfterValidator(_known_mitigation)]] = Field(min_length=1)


class Note(_Step):
    kind: Literal["note"]
    next: Id | None = None


class Link(_Step):
    kind: Literal["link"]
    runbook: Id


Step = Annotated[Question | Check | Action | Note | Link, Field(discriminator="kind")]
STEP_KINDS = ("question", "check", "action", "note", "link")


class Runbook(_Strict):
    id: Id
    """Must equal the file's name without ``.yaml``."""
    title: Text
    symptoms: list[Literal["p99", "5xx", "429"]] = Field(default_factory=list)
    """Breaches this tree is opened for (`SYMPTOMS`); empty: only picked by hand."""
    summary: Text
    source: Text | None = None
    """The seed document the tree's facts come from."""
    gotchas: list[Text] = Field(default_factory=list)
    start: Id
    steps: list[Step] = Field(min_length=1)

    @field_validator("symptoms", mode="before")
    @classmethod
    def _symptoms_as_text(cls, v: object) -> object:
        # ``symptoms: [429]`` is a number in YAML; it means the 429 breach all the same.
        return [str(x) if isinstance(x, int) else x for x in v] if isinstance(v, list) else v

    def step(self, step_id: str) -> Question | Check | Action | Note | Link:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    @property
    def by_id(self) -> dict[str, Question | Check | Action | Note | Link]:
        return {s.id: s for s in self.steps}


def successors(step: Question | Check | Action | Note | Link) -> list[tuple[str, str]]:
    """(field, step id) of every step this one leads to in the same runbook."""
    match step:
        case Question():
            return [("yes", step.yes), ("no", step.no)]
        case Check() | Note() if step.next is not None:
            return [("next", step.next)]
    return []


@dataclass(frozen=True, slots=True)
class Problem:
    loc: tuple[str | int, ...]
    """Where in the file: e.g. ``("steps", 3, "yes")``."""
    message: str


def problems(book: Runbook, known_runbooks: Mapping[str, Runbook] | None = None) -> list[Problem]:
    """Faults in ``book``'s graph: duplicate or dangling ids, unreachable steps, loops,
    links to runbooks that do not exist (when ``known_runbooks`` is given)."""
    out: list[Problem] = []
    index: dict[str, int] = {}
    for i, step in enumerate(book.steps):
        if step.id in index:
            out.append(Problem(("steps", i, "id"), f"step id {step.id!r} is used twice"))
        index.setdefault(step.id, i)
    if book.start not in index:
        out.append(Problem(("start",), f"there is no step {book.start!r}"))
    for i, step in enumerate(book.steps):
        for fieldname, target in successors(step):
            if target not in index:
                out.append(Problem(("steps", i, fieldname), f"there is no step {target!r}"))
            elif target == step.id:
                out.append(Problem(("steps", i, fieldname), "a step cannot lead to itself"))
        linked = step.runbook if isinstance(step, Link) else None
        if linked is not None and known_runbooks is not None and linked not in known_runbooks:
            out.append(Problem(("steps", i, "runbook"), f"there is no runbook {linked!r}"))
    if out:
        return out
    reached = set(_walk_from(book, book.start))
    for i, step in enumerate(book.steps):
        if step.id not in reached:
            what = f"step {step.id!r} cannot be reached from start"
            out.append(Problem(("steps", i, "id"), what))
    loop = _find_loop(book)
    if loop:
        i = index[loop[0]]
        out.append(Problem(("steps", i, "id"), "the steps loop: " + " -> ".join(loop)))
    return out


def _walk_from(book: Runbook, start: str) -> Iterator[str]:
    by_id = book.by_id
    seen: set[str] = set()
    todo = [start]
    while todo:
        sid = todo.pop()
        if sid in seen or sid not in by_id:
            continue
        seen.add(sid)
        yield sid
        todo.extend(target for _, target in successors(by_id[sid]))


def _find_loop(book: Runbook) -> list[str] | None:
    graph = {s.id: [t for _, t in successors(s)] for s in book.steps}
    return _cycle(graph, [book.start])


def link_loop(books: Mapping[str, Runbook]) -> list[str] | None:
    """Runbooks that link back to themselves through others (a -> b -> a), if any."""
    graph = {
        rid: sorted({s.runbook for s in b.steps if isinstance(s, Link) and s.runbook in books})
        for rid, b in books.items()
    }
    return _cycle(graph, sorted(graph))


def _cycle(graph: Mapping[str, list[str]], roots: list[str]) -> list[str] | None:
    """A cycle reachable from ``roots`` (depth-first), as the ids along it, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in graph.get(node, []):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[node] = 2
        return None

    for root in roots:
        if root in graph and root not in state and (found := visit(root)):
            return found
    return None


class RunbookError(ValueError):
    """One sentence: ``runbooks/latency.yaml line 14, steps[2].yes: there is no step 'x'.``"""

    def __init__(self, path: Path, message: str, line: int | None = None, where: str = "") -> None:
        self.path, self.line, self.where, self.reason = path, line, where, message
        place = str(path) + (f" line {line}" if line else "")
        # One line that ends as a sentence does, whatever the YAML parser or the schema
        # said: the cockpit shows it as a toast, the CLI as one line on stderr.
        said = " ".join(f"{place}{', ' + where if where else ''}: {message}".split())
        super().__init__(said if said.endswith((".", "?")) else f"{said}.")


@dataclass
class Runbooks:
    books: dict[str, Runbook] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    errors: list[RunbookError] = field(default_factory=list)

    def for_symptom(self, symptom: str) -> Runbook | None:
        """The runbook opened for ``symptom`` (p99, 5xx, 429): the first by id."""
        for rid in sorted(self.books):
            if symptom in self.books[rid].symptoms:
                return self.books[rid]
        return None
