"""The live signals a runbook question can read: pure functions of one snapshot.

Every signal is about *the affected model* — the one the navigator was opened for —
unless its name starts with ``api_`` (the whole API) or ``fleet_`` (every GPU). The
catalogue is the evidence language's whole vocabulary: a runbook naming anything else
fails validation, so a typo cannot silently make a question unanswerable.

A signal with no data reads ``None``: the question it feeds is left to the engineer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property

from tui.config import Slo
from tui.domain.cause import GPU_OOM_KINDS, Placement, recent_events
from tui.domain.format import fmt_latency, fmt_queue, fmt_ratio, fmt_rps
from tui.domain.model import AGGREGATE, GpuEvent, GpuState, ModelHealth, Snapshot
from tui.domain.severity import Judged


@dataclass(frozen=True)
class Facts:
    """What the evidence is read from: one snapshot, seen for one model."""

    snapshot: Snapshot
    slo: Slo
    model: str
    """The affected model, or `AGGREGATE` when the symptom is API-wide."""
    events: tuple[GpuEvent, ...] = ()
    """Every GPU event known so far (the tracker's log); signals count the recent ones."""
    within_s: float = 1800.0
    """Look-back for event counts: the history window."""
    verdicts: Judged = field(kw_only=True)
    """The snapshot's verdicts, made once by its refresh (`tui.domain.assessed`)."""

    @property
    def health(self) -> ModelHealth | None:
        return self.snapshot.model(self.model)

    @cached_property
    def gpus(self) -> list[GpuState]:
        """The affected model's GPUs; every GPU when the symptom is API-wide."""
        if self.model == AGGREGATE:
            return list(self.snapshot.gpus)
        return [g for g in self.snapshot.gpus if g.model == self.model]

    @cached_property
    def recent(self) -> list[GpuEvent]:
        recent = recent_events(self.events, now=self.snapshot.taken_at, within_s=self.within_s)
        if self.model == AGGREGATE:
            return recent
        return Placement.of(self.snapshot.gpus).behind(self.model, recent)


Unit = str
"""``ratio`` (0..1, shown as %), ``seconds``, ``rps``, ``count`` or ``number``."""


@dataclass(frozen=True, slots=True)
class Signal:
    name: str
    says: str
    """What it measures, in the words the navigator shows beside the value."""
    unit: Unit
    read: Callable[[Facts], float | None] = field(repr=False)

    def show(self, value: float | None) -> str:
        return show(value, self.unit)


def show(value: float | None, unit: Unit) -> str:
    match unit:
        case "ratio":
            return fmt_ratio(value)
        case "seconds":
            return fmt_latency(value)
        case "rps":
            return fmt_rps(value) + ("/s" if value is not None else "")
        case "count":
            return fmt_queue(value)
    return "–" if value is None else f"{value:g}"


def _of(attr: str, scope: str = "model") -> Callable[[Facts], float | None]:
    def read(f: Facts) -> float | None:
        health = f.snapshot.aggregate if scope == "api" else f.health
        return None if health is None else getattr(health, attr)

    return read


def _gpu(
    attr: str, how: Callable[[list[float]], float], *, fleet: bool = False
) -> Callable[[Facts], float | None]:
    """``how`` over the affected model's GPUs (every GPU with ``fleet``), skipping those
    with no data."""

    def read(f: Facts) -> float | None:
        gpus = f.snapshot.gpus if fleet else f.gpus
        values = [v for g in gpus if (v := getattr(g, attr)) is not None]
        return how(values) if values else None

    return read


def _events(kinds: Iterable[str]) -> Callable[[Facts], float | None]:
    wanted = set(kinds)

    def read(f: Facts) -> float | None:
        return float(sum(1 for e in f.recent if e.kind in wanted))

    return read


def _gpus_with_xid(f: Facts) -> float | None:
    known = [g for g in f.gpus if g.xid is not None]
    return float(sum(1 for g in known if g.xid)) if known else None


def _models_breaching(f: Facts) -> float | None:
    return float(f.verdicts.breaching)


def _share_of_api(attr_ratio: str) -> Callable[[Facts], float | None]:
    """The model's part of the whole API's errors (or 429s): near 1 means it is the API's
    problem, near 0 that it hides in the aggregate."""

    def read(f: Facts) -> float | None:
        m, api = f.health, f.snapshot.aggregate
        if m is None or m.rps is None or api.rps is None:
            return None
        mine, total = getattr(m, attr_ratio), getattr(api, attr_ratio)
        if mine is None or total is None or total * api.rps == 0:
            return None
        return min(1.0, mine * m.rps / (total * api.rps))

    return read


def _top_key(attr: str) -> Callable[[Facts], float | None]:
    def read(f: Facts) -> float | None:
        keys = f.snapshot.rate_limited_keys
        return getattr(keys[0], attr) if keys else None

    return read


def _ttft_share(f: Facts) -> float | None:
    m = f.health
    if m is None or m.ttft_p99_s is None or not m.p99_s:
        return None
    return m.ttft_p99_s / m.p99_s


def _slo(name: str) -> Callable[[Facts], float | None]:
    return lambda f: float(getattr(f.slo, name))


_SIGNALS = (
    Signal("p99_s", "p99 latency", "seconds", _of("p99_s")),
    Signal("p95_s", "p95 latency", "seconds", _of("p95_s")),
    Signal("p50_s", "median latency", "seconds", _of("p50_s")),
    Signal("ttft_p99_s", "time to first token, p99", "seconds", _of("ttft_p99_s")),
    Signal("ttft_share_of_p99", "TTFT p99 as a share of p99", "ratio", _ttft_share),
    Signal("rps", "requests per second", "rps", _of("rps")),
    Signal("error_5xx_ratio", "5xx ratio", "ratio", _of("error_5xx_ratio")),
    Signal("rate_429_ratio", "429 ratio", "ratio", _of("rate_429_ratio")),
    Signal("queue_depth", "requests waiting in the model servers", "count", _of("queue_depth")),
    Signal(
        "kv_cache_ratio",
        "KV-cache usage of the model's fullest pod",
        "ratio",
        _of("kv_cache_ratio"),
    ),
    Signal(
        "share_of_api_5xx",
        "its part of the API's 5xx",
        "ratio",
        _share_of_api("error_5xx_ratio"),
    ),
    Signal(
        "share_of_api_429",
        "its part of the API's 429s",
        "ratio",
        _share_of_api("rate_429_ratio"),
    ),
    Signal("api_p99_s", "whole API p99 latency", "seconds", _of("p99_s", "api")),
    Signal("api_error_5xx_ratio", "whole API 5xx ratio", "ratio", _of("error_5xx_ratio", "api")),
    Signal("api_rate_429_ratio", "whole API 429 ratio", "ratio", _of("rate_429_ratio", "api")),
    Signal("api_rps", "whole API requests per second", "rps", _of("rps", "api")),
    Signal("api_queue_depth", "requests waiting, whole fleet", "count", _of("queue_depth", "api")),
    Signal("models_breaching", "models breaching an SLO", "count", _models_breaching),
    Signal("models_total", "models serving", "count", lambda f: float(len(f.snapshot.models))),
    Signal("gpu_util_max", "highest GPU utilization", "ratio", _gpu("util_ratio", max)),
    Signal(
        "gpu_util_mean",
        "mean GPU utilization",
        "ratio",
        _gpu("util_ratio", lambda v: sum(v) / len(v)),
    ),
    Signal("gpu_mem_max", "fullest GPU memory", "ratio", _gpu("mem_ratio", max)),
    Signal("gpus", "GPUs serving it", "count", lambda f: float(len(f.gpus))),
    Signal("gpus_with_xid", "GPUs reporting an XID", "count", _gpus_with_xid),
    Signal("cuda_oom_events", "CUDA OOMs logged (look-back)", "count", _events(["oom"])),
    Signal(
        "oomkilled_events",
        "containers OOMKilled, host memory (look-back)",
        "count",
        _events(["oomkilled"]),
    ),
    # The GPU's memory only: an OOMKill is the container's host-memory limit (exit 137),
    # which `oomkilled_events` counts.
    Signal(
        "gpu_oom_events", "GPU OOMs: CUDA OOMs logged (look-back)", "count", _events(GPU_OOM_KINDS)
    ),
    Signal("xid_events", "new XID codes (look-back)", "count", _events(["xid"])),
    Signal(
        "fleet_gpus",
        "GPUs reporting metrics, whole fleet",
        "count",
        lambda f: float(len(f.snapshot.gpus)),
    ),
    Signal(
        "fleet_gpu_util_max",
        "highest GPU utilization, whole fleet",
        "ratio",
        _gpu("util_ratio", max, fleet=True),
    ),
    Signal("top_key_429_share", "the top API key's share of 429s", "ratio", _top_key("share")),
    Signal("top_key_429_rate", "the top API key's 429s per second", "rps", _top_key("rate")),
    Signal("slo_p99_s", "p99 SLO", "seconds", _slo("p99_s")),
    Signal("slo_error_5xx_ratio", "5xx SLO", "ratio", _slo("error_5xx_ratio")),
    Signal("slo_rate_429_ratio", "429 SLO", "ratio", _slo("rate_429_ratio")),
    Signal("slo_ttft_p99_s", "TTFT p99 SLO", "seconds", _slo("ttft_p99_s")),
    Signal("slo_queue_depth", "queue depth threshold", "count", _slo("queue_depth")),
    Signal("slo_kv_cache_ratio", "KV-cache usage threshold", "ratio", _slo("kv_cache_ratio")),
)

SIGNALS: dict[str, Signal] = {s.name: s for s in _SIGNALS}


def read(names: Iterable[str], facts: Facts) -> dict[str, float | None]:
    """The current value of each named signal (``None``: no data)."""
    return {name: SIGNALS[name].read(facts) for name in names}
