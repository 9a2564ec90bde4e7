"""The simulator's engine: integrates a scenario over time into cumulative counters.

Counters grow exactly as a gateway's and vLLM's would: requests by status, latency
histograms by bucket, rate-limit rejections by API key. Rates come from the scenario at
the midpoint of each step of at most `STEP_S`, so the counters over any window hold the
scenario's figures, and PromQL's ``rate`` and ``histogram_quantile`` recover them.
Gauges (queue depth, GPU utilization and memory, XID) are read at the current time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import lru_cache

from tui.sim.fleet import (
    GPU_MEMORY_MIB,
    LATENCY_SIGMA,
    TTFT_SIGMA,
    Fleet,
    Gpu,
    ServedModel,
    stable_fraction,
)
from tui.sim.rollout import CANARY, STABLE, Rollout
from tui.sim.scenarios import Conditions, Scenario

STEP_S = 5.0
STATUSES = ("200", "500", "503", "429")
"""Gateway status codes the simulator answers with. 5xx split: plain 500s are the
background; a failing backend shows mostly as 503."""
SHARE_503 = 0.7
REJECTED_LATENCY_S = 0.004
"""A 429 is answered by the rate limiter before any model sees the request."""

INF = math.inf
GATEWAY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 60.0, INF)
# vLLM's own bucket boundaries (vllm/engine/metrics.py), so queries behave as in production.
TTFT_BUCKETS = (
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, INF,
)  # fmt: skip
E2E_BUCKETS = (
    0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, INF,
)  # fmt: skip
MAX_BATCH = 256
"""vLLM's default max_num_seqs: requests running at once per engine."""


@lru_cache(maxsize=8192)
def _lognormal_cdf(bounds: tuple[float, ...], median_step: int, sigma: float) -> tuple[float, ...]:
    """Fraction of observations at or under each bound, for a log-normal distribution
    whose median is ``exp(median_step / 400)``. Medians are quantised to 0.25 % so the
    cache hits on every step of a steady model, which keeps 200 models cheap."""
    mu = median_step / 400
    out = []
    for le in bounds:
        if le == INF:
            out.append(1.0)
        else:
            out.append(0.5 * (1 + math.erf((math.log(le) - mu) / (sigma * math.sqrt(2)))))
    return tuple(out)


def _cdf(bounds: tuple[float, ...], median_s: float, sigma: float) -> tuple[float, ...]:
    return _lognormal_cdf(bounds, round(math.log(median_s) * 400), sigma)


class Histogram:
    """A cumulative histogram fed with fractional observation counts."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0.0] * len(bounds)
        self.sum = 0.0

    def observe(self, n: float, median_s: float, sigma: float) -> None:
        if n <= 0:
            return
        for i, fraction in enumerate(_cdf(self.bounds, median_s, sigma)):
            self.counts[i] += n * fraction
        # The mean of a log-normal: median * exp(sigma^2 / 2).
        self.sum += n * median_s * math.exp(sigma * sigma / 2)

    def observe_at(self, n: float, value_s: float) -> None:
        """``n`` observations of (about) one value, e.g. instant rejections."""
        if n <= 0:
            return
        for i, le in enumerate(self.bounds):
            if value_s <= le:
                self.counts[i] += n
        self.sum += n * value_s

    def frozen(self) -> HistogramSample:
        return HistogramSample(self.bounds, tuple(self.counts), self.sum)


@dataclass(frozen=True, slots=True)
class HistogramSample:
    bounds: tuple[float, ...]
    counts: tuple[float, ...]
    """Cumulative, one per bound; the last (+Inf) is the observation count."""
    sum: float

    @property
    def count(self) -> float:
        return self.counts[-1]

    def plus(self, other: HistogramSample) -> HistogramSample:
        counts = tuple(a + b for a, b in zip(self.counts, other.counts, strict=True))
        return HistogramSample(self.bounds, counts, self.sum + other.sum)

    def minus(self, earlier: HistogramSample) -> list[tuple[float, float]]:
        """(bound, increase) pairs since ``earlier``: what ``rate`` feeds histogram_quantile."""
        return [
            (le, now - then)
            for le, now, then in zip(self.bounds, self.counts, earlier.counts, strict=True)
        ]


@dataclass(frozen=True, slots=True)
class ModelSample:
    requests: dict[str, float]
    """Cumulative gateway requests by status code."""
    latency: HistogramSample
    """Gateway request duration, every status."""
    ttft: HistogramSample
    e2e: HistogramSample

    def plus(self, other: ModelSample) -> ModelSample:
        requests = {s: n + other.requests.get(s, 0.0) for s, n in self.requests.items()}
        return ModelSample(
            requests,
            self.latency.plus(other.latency),
            self.ttft.plus(other.ttft),
            self.e2e.plus(other.e2e),
        )


@dataclass(frozen=True, slots=True)
class RevisionSample:
    """One gateway revision's counters, every model together: what a canary is judged on."""

    requests: dict[str, float]
    latency: HistogramSample

    @property
    def total(self) -> float:
        return sum(self.requests.values())

    @property
    def errors(self) -> float:
        return sum(n for s, n in self.requests.items() if s.startswith("5"))


@dataclass(frozen=True, slots=True)
class Sample:
    """Every counter of the fleet at one moment."""

    t: float
    models: dict[str, ModelSample]
    """Each model's counters, every gateway revision together."""
    rejections: dict[str, float]
    """Cumulative 429s by API key id."""
    revisions: dict[str, dict[str, ModelSample]] = field(default_factory=dict)
    """With a canary: each revision's share of ``models`` ({revision: {model: ...}})."""
    gateway: dict[str, RevisionSample] = field(default_factory=dict)
    """With a canary: each revision's counters, every model together."""


@dataclass(frozen=True, slots=True)
class PodGauges:
    pod: str
    model: str
    waiting: float
    running: float
    kv_cache_usage: float


@dataclass(frozen=True, slots=True)
class GpuGauges:
    gpu: Gpu
    util_ratio: float
    fb_used_mib: float
    fb_free_mib: float
    temp_c: float
    power_w: float
    xid: int


class _ModelState:
    __slots__ = ("e2e", "latency", "requests", "ttft")

    def __init__(self) -> None:
        self.requests = dict.fromkeys(STATUSES, 0.0)
        self.latency = Histogram(GATEWAY_BUCKETS)
        self.ttft = Histogram(TTFT_BUCKETS)
        self.e2e = Histogram(E2E_BUCKETS)

    def frozen(self) -> ModelSample:
        return ModelSample(
            dict(self.requests), self.latency.frozen(), self.ttft.frozen(), self.e2e.frozen()
        )

    def serve(
        self, model: ServedModel, c: Conditions, admitted: float, limited: float, extra: float
    ) -> None:
        """Count ``admitted`` requests answered under ``c``, plus rejected ones."""
        errors = admitted * c.error_5xx_ratio
        ok = admitted - errors
        self.requests["200"] += ok
        self.requests["500"] += errors * (1 - SHARE_503)
        self.requests["503"] += errors * SHARE_503
        self.requests["429"] += limited + extra
        latency_median = model.latency_p50_s * c.latency_scale
        self.latency.observe(admitted, latency_median, LATENCY_SIGMA)
        self.latency.observe_at(limited + extra, REJECTED_LATENCY_S)
        self.e2e.observe(ok, latency_median, LATENCY_SIGMA)
        self.ttft.observe(ok, model.ttft_p50_s * c.ttft_scale, TTFT_SIGMA)


def _kv_cache_usage(util: float) -> float:
    """vLLM's KV cache fills with the batch: about 60 % at a healthy 80 % utilization,
    then steeply to full (and preemption) as the GPU saturates past 90 %."""
    if util <= 0.9:
        return 0.15 + 0.6 * util
    return min(1.0, 0.69 + 3.1 * (util - 0.9))


class Engine:
    """The fleet under ``scenario``, integrated from ``start_s`` simulated seconds on."""

    def __init__(
        self,
        fleet: Fleet,
        scenario: Scenario,
        start_s: float = 0.0,
        rollout: Rollout | None = None,
    ) -> None:
        self.fleet = fleet
        self.scenario = scenario
        self.t = start_s
        self._models = {m.name: _ModelState() for m in fleet.models}
        self.rollout = rollout if rollout is not None or scenario.canary is None else Rollout()
        """The gateway canary, in the canary scenarios; None in the others."""
        self._canary_models: dict[str, _ModelState] = {}
        self._gateway = {r: _ModelState() for r in (STABLE, CANARY)} if self.rollout else {}
        self._rejections = {k.key_id: 0.0 for k in fleet.keys}
        self._conditions: dict[str, Conditions] = {}
        self._conditions_at = -1.0

    def advance(self, t: float) -> None:
        """Move to simulated time ``t``; moving backwards is ignored (counters only grow)."""
        while self.t < t:
            end = min(t, self.t + STEP_S)
            self._step(self.t, end)
            self.t = end

    def _step(self, start: float, end: float) -> None:
        dt = end - start
        mid = (start + end) / 2
        surge = self.scenario.surge(self.fleet, mid)
        surged = surge[1] if surge else {}
        background_429 = 0.0
        weight = self.rollout.weight_at(mid) if self.rollout else 0.0
        for model in self.fleet.models:
            c = self.scenario.conditions(self.fleet, model, mid)
            n = c.rps * dt
            limited = n * self.scenario.rejected_429_ratio(self.fleet, model, mid)
            background_429 += limited
            extra = surged.get(model.name, 0.0) * dt
            # The route splits every request, rejected ones included, by weight.
            split = [(self._models[model.name], STABLE, 1 - weight, c)]
            if weight > 0:
                split.append((self._canary_state(model), CANARY, weight, self._canary(c, mid)))
            for state, revision, share, conditions in split:
                args = (model, conditions, (n - limited) * share, limited * share, extra * share)
                state.serve(*args)
                if self.rollout:
                    self._gateway[revision].serve(*args)
        for key in self.fleet.keys:
            self._rejections[key.key_id] += background_429 * key.weight
        if surge:
            self._rejections[surge[0].key_id] += sum(surged.values()) * dt

    def _canary_state(self, model: ServedModel) -> _ModelState:
        if model.name not in self._canary_models:
            self._canary_models[model.name] = _ModelState()
        return self._canary_models[model.name]

    def _canary(self, c: Conditions, t: float) -> Conditions:
        """The baseline's conditions as the canary build serves them at ``t``."""
        assert self.rollout is not None and self.scenario.canary is not None
        traits = self.scenario.canary
        if self.rollout.replicas == 0:
            # A route to a backend with no endpoints: the gateway answers 503 at once.
            return replace(c, error_5xx_ratio=1.0, latency_scale=REJECTED_LATENCY_S)
        slower = self._canary_slowdown(t)
        return replace(
            c,
            error_5xx_ratio=min(1.0, c.error_5xx_ratio + traits.error_5xx_added),
            latency_scale=c.latency_scale * slower,
            ttft_scale=c.ttft_scale * slower,
        )

    def sample(self) -> Sample:
        stable = {name: s.frozen() for name, s in self._models.items()}
        if not self._canary_models:
            models = stable
            revisions: dict[str, dict[str, ModelSample]] = {}
        else:
            canary = {name: s.frozen() for name, s in self._canary_models.items()}
            models = {n: m.plus(canary[n]) if n in canary else m for n, m in stable.items()}
            revisions = {STABLE: stable, CANARY: canary}
        return Sample(
            t=self.t,
            models=models,
            rejections=dict(self._rejections),
            revisions=revisions,
            gateway={
                r: RevisionSample(dict(s.requests), s.latency.frozen())
                for r, s in self._gateway.items()
            },
        )

    def latency_profile(self) -> tuple[float, float]:
        """(median, sigma) of a request through the gateway, every model together: what
        sets how long in-flight requests take to drain."""
        median = sum(m.share * m.latency_p50_s for m in self.fleet.models)
        return median, LATENCY_SIGMA

    def _canary_slowdown(self, t: float) -> float:
        """The canary's latency against the baseline's at ``t``: its build, and how cold
        it still is."""
        assert self.rollout is not None and self.scenario.canary is not None
        since = self.rollout.serving_since
        return self.scenario.canary.latency_factor(None if since is None else t - since)

    def _canary_latency(self) -> tuple[float, float]:
        """(median, sigma) of a request through the canary now."""
        median, sigma = self.latency_profile()
        return median * self._canary_slowdown(self.t), sigma

    def in_flight(self) -> dict[str, float]:
        """Requests in flight on each gateway revision now (only with a canary)."""
        if self.rollout is None:
            return {}
        median, sigma = self.latency_profile()
        rps = self.fleet.total_rps
        mean = median * math.exp(sigma * sigma / 2)
        return {
            STABLE: rps * (1 - self.rollout.weight_at(self.t)) * mean,
            CANARY: self.rollout.in_flight(self.t, rps, *self._canary_latency()),
        }

    def scale_canary(self, t: float, replicas: int) -> int:
        """Scale the canary at ``t`` (the engine first catches up to it); the requests
        that severs, if any."""
        assert self.rollout is not None
        self.advance(t)
        return self.rollout.set_replicas(t, replicas, self.fleet.total_rps, *self._canary_latency())

    def conditions(self, model: ServedModel) -> Conditions:
        """The scenario at the current time, evaluated once per model however many gauge
        families a scrape reads from it."""
        if self._conditions_at != self.t:
            self._conditions = {}
            self._conditions_at = self.t
        if model.name not in self._conditions:
            self._conditions[model.name] = self.scenario.conditions(self.fleet, model, self.t)
        return self._conditions[model.name]

    def pods(self) -> list[PodGauges]:
        out = []
        for model in self.fleet.models:
            c = self.conditions(model)
            per_pod = len(model.pods)
            in_flight = c.rps * model.latency_p50_s * c.latency_scale
            for pod in model.pods:
                share = 1 / per_pod
                out.append(
                    PodGauges(
                        pod=pod,
                        model=model.name,
                        waiting=c.queue_waiting * share,
                        running=min(MAX_BATCH, round(in_flight * share)),
                        kv_cache_usage=_kv_cache_usage(c.gpu_util),
                    )
                )
        return out

    def gpus(self) -> list[GpuGauges]:
        out = []
        for model in self.fleet.models:
            c = self.conditions(model)
            for gpu in model.gpus:
                wobble = stable_fraction(self.fleet.seed, gpu.uuid, int(self.t // 5))
                util = min(1.0, max(0.0, c.gpu_util + 0.04 * (wobble - 0.5)))
                used = round(GPU_MEMORY_MIB * min(1.0, c.gpu_mem_ratio + 0.002 * wobble))
                out.append(
                    GpuGauges(
                        gpu=gpu,
                        util_ratio=util,
                        fb_used_mib=used,
                        fb_free_mib=GPU_MEMORY_MIB - used,
                        temp_c=round(34 + 46 * util + 3 * wobble),
                        power_w=round(85 + 560 * util + 20 * wobble, 1),
                        xid=self.scenario.xid(self.fleet, gpu, self.t),
                    )
                )
        return out
