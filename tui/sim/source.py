"""The embedded default: `HealthSource` over the in-process simulated fleet.

Figures are computed the way PromQL computes them from the exporter's series: counter
increases over the rate window, ratios of status-code rates, and Prometheus's own
``histogram_quantile`` over bucket increases. So ``warroom --demo`` and a Prometheus
scraping ``warroom simulate`` show the same numbers for the same scenario.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from tui.clock import Clock, utc
from tui.config import MitigationSettings
from tui.domain.canary import Reading, Side
from tui.domain.histogram import histogram_quantile
from tui.domain.model import (
    AGGREGATE,
    MIB,
    GpuEvent,
    GpuState,
    HistoryPoint,
    KeyRejections,
    ModelHealth,
    Snapshot,
)
from tui.domain.plan import canary_percent
from tui.domain.xid import XidChange, XidWatch
from tui.sim.engine import Engine, GpuGauges, RevisionSample, Sample
from tui.sim.fleet import GPU_PRODUCT, NAMESPACE, build_fleet
from tui.sim.rollout import CANARY, STABLE
from tui.sim.scenarios import scenario as find_scenario
from tui.sources.promql import RATE_LIMITED_STATUS, TOP_KEYS

SAMPLE_S = 5.0
"""How often the demo "scrapes" its counters, in simulated seconds."""
HISTORY_STEP_S = 10.0
CANARY_KEEP_S = 3600.0
ERROR_STATUSES = ("500", "503")


class DemoSource:
    def __init__(
        self,
        scenario: str = "healthy",
        *,
        models: int = 12,
        gpus: int | None = None,
        seed: int = 7,
        clock: Clock,
        epoch: float,
        window_s: float = 300.0,
        history_s: float = 1800.0,
        evidence_s: float | None = None,
    ) -> None:
        """Raises ValueError with one sentence for an unknown scenario or a bad fleet size."""
        self.scenario = find_scenario(scenario)
        self.fleet = build_fleet(models, gpus, seed)
        self.description = f"demo {self.scenario.name} · {len(self.fleet.models)} models"
        self.model_pods = {
            m.name: tuple(f"{NAMESPACE}/{pod}" for pod in m.pods) for m in self.fleet.models
        }
        """What vLLM's per-pod series would tell Prometheus: each model's pods."""
        self.clock = clock
        self.epoch = epoch
        self._window_s = window_s
        self._history_s = history_s
        self.evidence_s = history_s if evidence_s is None else evidence_s
        """How far back XID changes are looked for on the first refresh."""
        self._xids = XidWatch()
        # Only the last history-plus-window matters to anything shown; integrating from
        # there keeps a late --at cheap. Starting on a whole history step puts samples on
        # the instants `_catch_up` records history at, whatever the clock read.
        earliest = self._sim_now() - history_s - window_s
        start = max(0.0, math.floor(earliest / HISTORY_STEP_S) * HISTORY_STEP_S)
        self.engine = Engine(self.fleet, self.scenario, start_s=start)
        self._tenants = {k.key_id: k.tenant for k in self.fleet.keys}
        self._ring: deque[Sample] = deque()
        self._canary_ring: deque[tuple[float, dict[str, RevisionSample]]] = deque()
        """(time, each revision's counters): only the gateway part, an hour of it."""
        self._history: dict[str, list[HistoryPoint]] = defaultdict(list)
        self._lock = threading.Lock()

    def _sim_now(self) -> float:
        return max(0.0, self.clock.now() - self.epoch)

    async def refresh(self) -> Snapshot:
        # Catching up after a pause integrates many steps: off the event loop.
        return await asyncio.to_thread(self.refresh_now)

    async def history(self) -> dict[str, list[HistoryPoint]]:
        return await asyncio.to_thread(self.history_now)

    async def aclose(self) -> None:
        pass

    def refresh_now(self) -> Snapshot:
        with self._lock:
            now = self._catch_up(self._sim_now())
            old = self._window_start(now.t)
            queue = self._queue_by_model()
            kv = self._kv_cache_by_model()
            gpus = [gpu_state(g) for g in self.engine.gpus()]
            taken_at = utc(self.epoch + now.t)
            events: list[GpuEvent] = []
            if not self._xids.primed:
                events += self._prime_xids(now.t, {g.uuid: g for g in gpus})
            events += self._xids.observe(gpus, taken_at)
        models, aggregate = figures(old, now, queue)
        # The fullest pod's KV cache, as the Prometheus path reads vLLM's gauge.
        models = tuple(replace(m, kv_cache_ratio=kv.get(m.model)) for m in models)
        aggregate = replace(aggregate, kv_cache_ratio=max(kv.values(), default=None))
        return Snapshot(
            taken_at=taken_at,
            source=self.description,
            models=models,
            aggregate=aggregate,
            rate_limited_keys=rate_limited_keys(old, now, self._tenants),
            gpus=tuple(gpus),
            events=tuple(events),
            model_pods=self.model_pods,
        )

    # -- the gateway canary (canary scenarios)

    @property
    def has_canary(self) -> bool:
        return self.engine.rollout is not None

    def canary_now(self, window_s: float) -> Reading:
        """Canary and baseline over the last ``window_s`` seconds: what PromQL's
        ``increase(...[window])`` by revision gives from the exporter's series."""
        traits = self.scenario.canary
        if traits is None or window_s <= 0:
            return Reading(None, None)
        with self._lock:
            now = self._catch_up(self._sim_now())
            then = self._canary_at(now.t - window_s)
        versions = {STABLE: traits.baseline_model_version, CANARY: traits.model_version}
        sides = {}
        for revision in (STABLE, CANARY):
            new, old = now.gateway[revision], then[revision]
            requests = new.total - old.total
            buckets = new.latency.minus(old.latency)
            sides[revision] = Side(
                requests=requests,
                errors=new.errors - old.errors,
                p99_s=histogram_quantile(0.99, buckets) if requests > 0 else None,
                model_version=versions[revision],
            )
        return Reading(canary=sides[CANARY], baseline=sides[STABLE])

    async def canary(self, window_s: float) -> Reading:
        return await asyncio.to_thread(self.canary_now, window_s)

    def canary_in_flight_now(self) -> int | None:
        """Requests in flight on the canary now, as the gauge reads (whole requests)."""
        if self.engine.rollout is None:
            return None
        with self._lock:
            self._catch_up(self._sim_now())
            return round(self.engine.in_flight()[CANARY])

    async def canary_in_flight(self) -> int | None:
        return await asyncio.to_thread(self.canary_in_flight_now)

    def set_canary_weight(self, percent: int) -> None:
        """The route changed: ``percent`` of real traffic on the canary from now on."""
        assert self.engine.rollout is not None
        with self._lock:
            self._catch_up(self._sim_now())
            self.engine.rollout.set_weight(self.engine.t, percent)

    def scale_canary(self, replicas: int) -> int:
        """The canary's Deployment was scaled; the requests that severed."""
        with self._lock:
            self._catch_up(self._sim_now())
            return self.engine.scale_canary(self.engine.t, replicas)

    def warm_canary(self) -> None:
        """Synthetic warm-up requests sent straight to the canary's pods."""
        assert self.engine.rollout is not None
        with self._lock:
            self._catch_up(self._sim_now())
            self.engine.rollout.warm_up(self.engine.t)

    def follow(self, obj: Mapping[str, Any], settings: MitigationSettings) -> None:
        """React to an object the cluster now holds, as the fleet would: the route's
        weights move traffic, the canary Deployment's replicas start or stop pods."""
        if self.engine.rollout is None:
            return
        name = (obj.get("metadata") or {}).get("name")
        if obj.get("kind") == "HTTPRoute" and name == settings.canary_route:
            pct = canary_percent(obj, settings.stable_backend, settings.canary_backend,
                                 rule=settings.canary_route_rule)  # fmt: skip
            self.set_canary_weight(pct)
        elif obj.get("kind") == "Deployment" and name == settings.canary_deployment:
            self.scale_canary(int((obj.get("spec") or {}).get("replicas", 1)))

    def _canary_at(self, t: float) -> dict[str, RevisionSample]:
        """The latest kept canary counters at or before ``t`` (the oldest if none are)."""
        chosen = self._canary_ring[0][1]
        for at, gateway in self._canary_ring:
            if at > t:
                break
            chosen = gateway
        return chosen

    def _prime_xids(self, t: float, gpus: dict[str, GpuState]) -> list[GpuEvent]:
        """What the Prometheus source learns from its XID history query, from the script."""
        since = t - self.evidence_s
        changes: list[XidChange] = []
        already: dict[str, int] = {}
        for at_s, gpu, code in self.scenario.xid_changes(self.fleet, t):
            if at_s < since:
                already[gpu.uuid] = code
            else:
                changes.append(XidChange(gpus[gpu.uuid], code, utc(self.epoch + at_s)))
        return self._xids.prime(changes, already)

    def history_now(self) -> dict[str, list[HistoryPoint]]:
        with self._lock:
            now = self._catch_up(self._sim_now()).t
            since = now - self._history_s
            return {
                m: [p for p in pts if p.at - self.epoch >= since]
                for m, pts in self._history.items()
            }

    def _catch_up(self, t: float) -> Sample:
        """Advance to ``t`` taking a sample every `SAMPLE_S`; the sample at ``t``."""
        next_at = (self._ring[-1].t if self._ring else self.engine.t) + SAMPLE_S
        if not self._ring:
            self._ring.append(self.engine.sample())
            if self.engine.rollout is not None:
                self._keep_canary(self._ring[0])
        while next_at <= t:
            self.engine.advance(next_at)
            sample = self.engine.sample()
            self._ring.append(sample)
            if self.engine.rollout is not None:
                self._keep_canary(sample)
            # Trim as we go: a long catch-up (building the history) would otherwise hold
            # every sample and rescan them all for each history point.
            self._trim(sample.t)
            if sample.t % HISTORY_STEP_S == 0:
                self._record_history(sample)
            next_at += SAMPLE_S
        self._trim(t)
        self.engine.advance(t)
        return self.engine.sample()

    def _keep_canary(self, sample: Sample) -> None:
        """Canary windows reach back a whole stage (longer than the rate window), so
        those samples are kept apart, for up to `CANARY_KEEP_S`."""
        self._canary_ring.append((sample.t, sample.gateway))
        while len(self._canary_ring) > 2 and self._canary_ring[1][0] <= sample.t - CANARY_KEEP_S:
            self._canary_ring.popleft()

    def _trim(self, t: float) -> None:
        """Drop samples no window ending at ``t`` or later can start from."""
        horizon = t - self._window_s - SAMPLE_S
        while len(self._ring) > 2 and self._ring[1].t <= horizon:
            self._ring.popleft()

    def _window_start(self, t: float) -> Sample:
        """The latest sample at least a window before ``t`` (the oldest if none is)."""
        chosen = self._ring[0]
        for sample in self._ring:
            if sample.t > t - self._window_s:
                break
            chosen = sample
        return chosen

    def _record_history(self, sample: Sample) -> None:
        old = self._window_start(sample.t)
        if old.t >= sample.t:
            return
        models, aggregate = figures(old, sample, {}, p99_only=True)
        at = self.epoch + sample.t
        for health in (*models, aggregate):
            points = self._history[health.model]
            points.append(
                HistoryPoint(at, health.p99_s, health.error_5xx_ratio, health.rate_429_ratio)
            )
            if len(points) > 2 * self._history_s / HISTORY_STEP_S:
                del points[: len(points) // 2]

    def _kv_cache_by_model(self) -> dict[str, float]:
        kv: dict[str, float] = {}
        for pod in self.engine.pods():
            kv[pod.model] = max(kv.get(pod.model, 0.0), round(pod.kv_cache_usage, 4))
        return kv

    def _queue_by_model(self) -> dict[str, float]:
        queue: dict[str, float] = defaultdict(float)
        for pod in self.engine.pods():
            queue[pod.model] += round(pod.waiting)
        return queue


def gpu_state(g: GpuGauges) -> GpuState:
    """A simulated GPU as the DCGM path reads it: whole percent, MiB turned into bytes."""
    return GpuState(
        node=g.gpu.node,
        gpu=g.gpu.index,
        uuid=g.gpu.uuid,
        model=g.gpu.model,
        pod=g.gpu.pod,
        namespace=NAMESPACE,
        product=GPU_PRODUCT,
        util_ratio=round(g.util_ratio * 100) / 100,
        mem_used_bytes=g.fb_used_mib * MIB,
        mem_total_bytes=(g.fb_used_mib + g.fb_free_mib) * MIB,
        temp_c=g.temp_c,
        power_w=g.power_w,
        xid=g.xid,
    )


def figures(
    old: Sample, new: Sample, queue: dict[str, float], *, p99_only: bool = False
) -> tuple[tuple[ModelHealth, ...], ModelHealth]:
    """Every model's health and the whole API's over the interval between two samples.

    ``p99_only`` skips the other quantiles: history plots show only p99, and at 200
    models the quantiles are most of the cost of backfilling them.
    """
    dt = new.t - old.t
    models = []
    totals: dict[str, float] = defaultdict(float)
    latency: list[list[tuple[float, float]]] = []
    ttft: list[list[tuple[float, float]]] = []
    for name, now in new.models.items():
        then = old.models[name]
        increase = {s: now.requests[s] - then.requests[s] for s in now.requests}
        for status, n in increase.items():
            totals[status] += n
        model_latency = now.latency.minus(then.latency)
        model_ttft = now.ttft.minus(then.ttft)
        latency.append(model_latency)
        ttft.append(model_ttft)
        models.append(
            _health(name, dt, increase, model_latency, model_ttft, queue.get(name), p99_only)
        )
    aggregate = _health(
        AGGREGATE,
        dt,
        totals,
        _sum_buckets(latency),
        _sum_buckets(ttft),
        sum(queue.values()) if queue else None,
        p99_only,
    )
    return tuple(models), aggregate


def rate_limited_keys(
    old: Sample, new: Sample, tenants: Mapping[str, str] | None = None
) -> tuple[KeyRejections, ...]:
    """The top keys by 429s per second; ``tenants``: each key's owner, as the simulated
    rate limiter labels its counter (``tenant``)."""
    dt = new.t - old.t
    if dt <= 0:
        return ()
    rates = {k: (v - old.rejections[k]) / dt for k, v in new.rejections.items()}
    total = sum(rates.values())
    top = sorted(((k, r) for k, r in rates.items() if r > 0), key=lambda kv: (-kv[1], kv[0]))
    owner = tenants or {}
    return tuple(KeyRejections(k, r, r / total, owner.get(k)) for k, r in top[:TOP_KEYS])


def _health(
    model: str,
    dt: float,
    increase: dict[str, float],
    latency: list[tuple[float, float]],
    ttft: list[tuple[float, float]],
    queue: float | None,
    p99_only: bool = False,
) -> ModelHealth:
    total = sum(increase.values())
    if dt <= 0 or total <= 0:
        return ModelHealth(model=model, rps=0.0 if dt > 0 else None, queue_depth=queue)
    return ModelHealth(
        model=model,
        p50_s=None if p99_only else histogram_quantile(0.5, latency),
        p95_s=None if p99_only else histogram_quantile(0.95, latency),
        p99_s=histogram_quantile(0.99, latency),
        ttft_p99_s=None if p99_only else histogram_quantile(0.99, ttft),
        rps=total / dt,
        error_5xx_ratio=sum(increase.get(s, 0.0) for s in ERROR_STATUSES) / total,
        rate_429_ratio=increase.get(RATE_LIMITED_STATUS, 0.0) / total,
        queue_depth=queue,
    )


def _sum_buckets(per_model: list[list[tuple[float, float]]]) -> list[tuple[float, float]]:
    """``sum by (le)``: every model's histogram shares the same bounds."""
    if not per_model:
        return []
    return [(le, sum(b[i][1] for b in per_model)) for i, (le, _) in enumerate(per_model[0])]
