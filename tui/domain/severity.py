"""How sick a model is: one clear rule, used to order the pane and colour its cells.

Each judged signal (p99 latency, 5xx ratio, 429 ratio, TTFT p99, queue depth, KV-cache
usage) is divided by its SLO threshold. A model's severity is the worst of those
multiples: 2.0 means some signal is at twice its threshold. `rank` sorts by severity,
worst first; ties by request rate (the busier model hurts more people), then by name so
the order is stable. The pane (`pane_order`) ranks only the models at or near an SLO
that way and lists the rest by name: healthy rows that reshuffled on every jitter of
their p99 would hide a model from the eye looking for it, and repaint the whole pane
every refresh.
TTFT, queue and KV cache count like the others: a model whose requests wait 4 s for a
first token, or queue 34 deep, is breaching whatever its gateway p99 says (and its p99
may be unknowable past a coarse histogram's top bucket). The whole API's queue is a sum
over every server, its KV cache the fullest pod anywhere: neither is judged against a
per-model line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol

from tui.config import Slo
from tui.domain.model import AGGREGATE, ModelHealth


class Level(IntEnum):
    NO_DATA = -1
    OK = 0
    WARN = 1
    BREACH = 2


JUDGED_SIGNALS = (
    "p99_s", "error_5xx_ratio", "rate_429_ratio", "ttft_p99_s", "queue_depth", "kv_cache_ratio",
)  # fmt: skip
"""Signals that decide severity, in the order they are named when tied."""
HISTORY_SIGNALS = ("p99_s", "error_5xx_ratio", "rate_429_ratio")
"""The signals a history point holds (`tui.domain.model.HistoryPoint`)."""
PER_MODEL = frozenset({"queue_depth", "kv_cache_ratio"})
"""Signals whose line is per model: the whole API's figure (a sum of queues, the fullest
KV cache anywhere) is not judged against it; the model rows are."""


@dataclass(frozen=True, slots=True)
class Assessment:
    severity: float
    """Worst multiple of its SLO threshold among `JUDGED_SIGNALS`; 0.0 with no data."""
    level: Level
    worst: str | None
    """The signal behind ``severity`` (a field name of `ModelHealth`), None with no data."""


def threshold(slo: Slo, signal: str) -> float:
    return float(getattr(slo, signal))


def level_of(value: float | None, limit: float, slo: Slo) -> Level:
    if value is None:
        return Level.NO_DATA
    if value >= limit:
        return Level.BREACH
    # 0.05 * 0.8 is 0.04000000000000001 in floating point: a ratio of exactly 0.04 must
    # still warn, so the line gets a hair of slack.
    if value >= limit * slo.warn_fraction * (1 - 1e-9):
        return Level.WARN
    return Level.OK


def signal_level(health: ModelHealth, signal: str, slo: Slo) -> Level:
    """A quantile known only as "beyond the top bucket" is judged by that bound: at or
    past the line it breaches for sure; under it, the bound is all that is known."""
    return level_of(getattr(health, signal), threshold(slo, signal), slo)


def error_rose(health: ModelHealth, slo: Slo) -> bool:
    """The 5xx ratio is at or past its warning line: worth looking behind the model."""
    return signal_level(health, "error_5xx_ratio", slo) in (Level.WARN, Level.BREACH)


def assess(health: ModelHealth, slo: Slo) -> Assessment:
    worst: str | None = None
    severity = 0.0
    whole = health.model == AGGREGATE
    for signal in JUDGED_SIGNALS:
        value = getattr(health, signal)
        if value is None or (whole and signal in PER_MODEL):
            continue
        multiple = value / threshold(slo, signal)
        if worst is None or multiple > severity:
            worst, severity = signal, multiple
    if worst is None:
        return Assessment(0.0, Level.NO_DATA, None)
    return Assessment(severity, level_of(severity, 1.0, slo), worst)


class Judged(Protocol):
    """Every verdict of one snapshot, made once per refresh (`tui.domain.assessed`, the one
    place `assess` is applied): the orderings, the panes, the headless output and the
    report read these instead of each judging again."""

    @property
    def breaching(self) -> int:
        """Models (not the whole API) at or past an SLO line."""
        ...

    def of(self, health: ModelHealth, slo: Slo) -> Assessment:
        """``health``'s verdict."""
        ...


def rank(models: Iterable[ModelHealth], slo: Slo, verdicts: Judged) -> list[ModelHealth]:
    """Models worst first by the rule in this module's docstring."""
    return sorted(models, key=lambda m: (-verdicts.of(m, slo).severity, -(m.rps or 0.0), m.model))


def pane_order(models: Iterable[ModelHealth], slo: Slo, verdicts: Judged) -> list[ModelHealth]:
    """The health pane's order: breaching and warning models worst first (`rank`), then
    the fine ones by name, then those with no data by name."""
    by_level: dict[Level, list[ModelHealth]] = {level: [] for level in Level}
    for m in models:
        by_level[verdicts.of(m, slo).level].append(m)
    sick = rank([*by_level[Level.BREACH], *by_level[Level.WARN]], slo, verdicts)
    by_name = sorted(by_level[Level.OK], key=lambda m: m.model)
    return [*sick, *by_name, *sorted(by_level[Level.NO_DATA], key=lambda m: m.model)]
