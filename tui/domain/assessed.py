"""One snapshot judged once: the verdicts, causes and worst symptom every reader shares.

`tui.domain.severity.assess` is the rule; `judge_rows` here is the one place it is
applied. The snapshot layer builds an `Assessed` each refresh (`Assessed.build`), and the
health table, the top line, the cause line, the navigator's facts, the report and the
headless output (`warroom snapshot`, `warroom triage`) read their verdicts from it:
none judges again, so none can disagree with another about what breaches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from tui.config import Slo
from tui.domain import severity
from tui.domain.cause import SuspectedCause, suspect
from tui.domain.model import AGGREGATE, GpuEvent, ModelHealth, Snapshot
from tui.domain.severity import Assessment, Level, rank
from tui.domain.signals import Facts
from tui.domain.triage import Symptom, worst_symptom

LOOK_BACK_S = 1800.0
"""How far back GPU events count as evidence when no look-back is given (`Facts`'s)."""


@dataclass(frozen=True, slots=True)
class Verdicts:
    """Every row's verdict for one snapshot (`tui.domain.severity.Judged`)."""

    judged: Mapping[str, tuple[ModelHealth, Assessment]]
    """By model name (the whole API under `tui.domain.model.AGGREGATE`): the row judged,
    and its verdict."""
    breaching: int
    """Models (not the whole API) at or past an SLO line."""

    def of(self, health: ModelHealth, slo: Slo) -> Assessment:
        """``health``'s verdict; judged on its own if it is not the row these were made
        from (a row from another snapshot)."""
        found = self.judged.get(health.model)
        if found is None or found[0] is not health:
            return judge_rows((health,), slo).judged[health.model][1]
        return found[1]


def judge_rows(rows: Iterable[ModelHealth], slo: Slo) -> Verdicts:
    """The verdict of each of ``rows`` under ``slo``: the one place a verdict is made."""
    held = tuple(rows)
    # Looked up on its module at each call, so a wrapper around the rule (a profiler's)
    # sees every verdict made.
    judged = {m.model: (m, severity.assess(m, slo)) for m in held}
    breaching = sum(
        1 for m in held if m.model != AGGREGATE and judged[m.model][1].level == Level.BREACH
    )
    return Verdicts(judged, breaching)


def judge(snapshot: Snapshot, slo: Slo) -> Verdicts:
    """The verdicts of ``snapshot``'s models and of the whole API."""
    return judge_rows((*snapshot.models, snapshot.aggregate), slo)


@dataclass(frozen=True, slots=True)
class Assessed:
    """A snapshot and everything judged from it, made once per refresh (`build`)."""

    snapshot: Snapshot
    slo: Slo
    verdicts: Verdicts
    ranked: tuple[ModelHealth, ...]
    """The snapshot's models worst first (`tui.domain.severity.rank`)."""
    symptom: Symptom | None
    """The worst breach or warning (`tui.domain.triage.worst_symptom`): the tree `t` opens."""
    causes: Mapping[str, SuspectedCause]
    """What GPU evidence says is behind each model's 5xx, sickest first
    (`tui.domain.cause.suspect`)."""
    events: tuple[GpuEvent, ...]
    """The GPU events the causes were read from."""
    within_s: float
    """Their look-back: the history window."""

    @classmethod
    def build(
        cls,
        snapshot: Snapshot,
        slo: Slo,
        *,
        events: Iterable[GpuEvent] = (),
        within_s: float = LOOK_BACK_S,
    ) -> Assessed:
        """``snapshot`` judged under ``slo``; its causes read from ``events`` (every GPU
        event known, not only the snapshot's) inside ``within_s`` of its time."""
        verdicts = judge(snapshot, slo)
        ranked = tuple(rank(snapshot.models, slo, verdicts))
        return cls(
            snapshot=snapshot,
            slo=slo,
            verdicts=verdicts,
            ranked=ranked,
            symptom=worst_symptom(snapshot.models, snapshot.aggregate, slo, verdicts),
            causes=_causes(snapshot, slo, verdicts, tuple(events), within_s),
            events=tuple(events),
            within_s=within_s,
        )

    @property
    def breaching(self) -> int:
        """Models (not the whole API) at or past an SLO line: what the top line counts,
        whatever the table's name filter shows."""
        return self.verdicts.breaching

    def of(self, health: ModelHealth) -> Assessment:
        """``health``'s verdict (a row of this snapshot, or of a narrowing of it)."""
        return self.verdicts.of(health, self.slo)

    def with_events(self, events: Iterable[GpuEvent]) -> Assessed:
        """The same verdicts, the causes read again from ``events``: pod evidence learned
        between two refreshes changes what is behind a 5xx, not how sick a model is."""
        held = tuple(events)
        if held == self.events:
            return self
        causes = _causes(self.snapshot, self.slo, self.verdicts, held, self.within_s)
        return replace(self, causes=causes, events=held)

    def facts(self, model: str) -> Facts:
        """What the navigator's evidence reads for ``model`` (`AGGREGATE`: API-wide)."""
        return Facts(self.snapshot, self.slo, model, self.events, self.within_s,
                     verdicts=self.verdicts)  # fmt: skip


def _causes(
    snapshot: Snapshot,
    slo: Slo,
    verdicts: Verdicts,
    events: tuple[GpuEvent, ...],
    within_s: float,
) -> dict[str, SuspectedCause]:
    return suspect(
        snapshot.models, snapshot.gpus, events, slo,
        now=snapshot.taken_at, within_s=within_s, verdicts=verdicts,
    )  # fmt: skip
