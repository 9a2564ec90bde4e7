"""Scripted incidents from the runbooks, played on the simulated fleet.

A scenario says, for any moment ``t`` (seconds since the simulation began), how each
model is doing: traffic, errors, latency, queue, and its GPUs. Every incident starts
healthy, begins at `ONSET_S` and reaches full strength `RAMP_S` later, so a demo
started at ``--at 10m`` shows the onset inside the 30-minute history plot.

Each scenario also states what it should show (`Scenario.expected`): the integration
tests check that Prometheus, scraping the exporter, computes those figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from tui.sim.fleet import (
    LATENCY_SIGMA,
    TTFT_SIGMA,
    Z_99,
    ApiKey,
    Fleet,
    Gpu,
    ServedModel,
    stable_fraction,
)

ONSET_S = 180.0
RAMP_S = 60.0
TICK_S = 10.0
"""Jitter changes every tick: smooth enough to read, alive enough to look real."""

BASE_5XX_RATIO = 0.0008
BASE_429_RATIO = 0.003


@dataclass(frozen=True, slots=True)
class Conditions:
    """One model's state at one moment. Ratios 0..1; scales multiply the healthy value."""

    rps: float
    error_5xx_ratio: float
    latency_scale: float
    ttft_scale: float
    queue_waiting: float
    gpu_util: float
    gpu_mem_ratio: float
    """Framebuffer used / total on the model's GPUs."""


@dataclass(frozen=True, slots=True)
class Expectation:
    """What a scenario shows at full strength, for tests and `warroom scenarios`."""

    model: str | None = None
    """The model the incident is about (None: the whole fleet or none)."""
    error_5xx_ratio: float | None = None
    rate_429_ratio: float | None = None
    """The whole API's 429 ratio."""
    top_key: str | None = None
    top_key_min_share: float | None = None
    models: tuple[str, ...] = field(default_factory=tuple)
    """Every model the incident touches."""


@dataclass(frozen=True, slots=True)
class CanaryTraits:
    """How a gateway canary behaves against the stable build it is compared with."""

    latency_scale: float = 1.0
    """The canary's latency against the baseline's, once warm."""
    error_5xx_added: float = 0.0
    """5xx ratio the canary adds on top of the baseline's."""
    cold_latency_scale: float = 1.0
    """Latency of the canary's very first requests against a warm one's."""
    cold_s: float = 0.0
    """How long after its first request (warm-up included) the canary stays cold; the
    slowdown fades linearly over this time."""
    version: str = "v2.14.0"
    baseline_version: str = "v2.13.2"
    model_version: str = "2024-07-23"
    baseline_model_version: str = "2024-07-23"

    def latency_factor(self, serving_for_s: float | None) -> float:
        """The canary's latency against the baseline's after serving this long (None:
        it has not served yet, so the next request is as cold as it gets)."""
        if self.cold_s <= 0:
            return self.latency_scale
        age = serving_for_s or 0.0
        left = max(0.0, 1 - age / self.cold_s)
        return self.latency_scale * (1 + (self.cold_latency_scale - 1) * left)


@dataclass(frozen=True, slots=True)
class Termination:
    """A model-server container ending, as its pod's ``lastState.terminated`` shows it."""

    at_s: float
    reason: str
    """``Error`` (the engine died, e.g. on a CUDA OOM) or ``OOMKilled`` (host memory)."""
    exit_code: int


@dataclass(frozen=True, slots=True)
class CudaOom:
    """A CUDA out-of-memory error the model server logs."""

    at_s: float
    device: int
    """CUDA device index inside the pod: the pod's GPUs in index order."""
    tried_gib: float


def ramp(t: float) -> float:
    """0 before the onset, rising linearly to 1 over `RAMP_S`."""
    return min(1.0, max(0.0, (t - ONSET_S) / RAMP_S))


def jitter(fleet: Fleet, what: str, t: float, spread: float) -> float:
    """A factor in [1 - spread, 1 + spread], fixed per seed, ``what`` and tick."""
    tick = int(t // TICK_S)
    return 1.0 + spread * (2 * stable_fraction(fleet.seed, what, tick) - 1)


def _spread(fleet: Fleet, what: str) -> float:
    """A steady per-model factor in [0.3, 1.7]: no two healthy models look identical."""
    return 0.3 + 1.4 * stable_fraction(fleet.seed, what)


class Scenario:
    """The healthy fleet. Incidents subclass it and override what changes."""

    name = "healthy"
    summary = "Every model within SLO: the baseline to compare an incident against."
    canary: CanaryTraits | None = None
    """Set for the canary scenarios: a gateway canary deployed at 0 % traffic, waiting for
    a driver to ramp it."""

    def conditions(self, fleet: Fleet, model: ServedModel, t: float) -> Conditions:
        load = jitter(fleet, model.name + "/rps", t, 0.08)
        busy = min(1.0, 0.55 + 2.5 * model.share)
        return Conditions(
            rps=fleet.total_rps * model.share * load,
            error_5xx_ratio=BASE_5XX_RATIO
            * _spread(fleet, model.name + "/5xx")
            * jitter(fleet, model.name + "/5xx", t, 0.5),
            latency_scale=jitter(fleet, model.name + "/lat", t, 0.05),
            ttft_scale=jitter(fleet, model.name + "/ttft", t, 0.05),
            queue_waiting=round(3 * busy * stable_fraction(fleet.seed, model.name, int(t // 5))),
            gpu_util=min(0.9, busy * load * 0.8),
            gpu_mem_ratio=0.90 + 0.02 * stable_fraction(fleet.seed, model.name, "mem"),
        )

    def rejected_429_ratio(self, fleet: Fleet, model: ServedModel, t: float) -> float:
        """Ordinary rate limiting: a small share of every model's traffic, spread over keys."""
        return (
            BASE_429_RATIO
            * _spread(fleet, model.name + "/429")
            * jitter(fleet, model.name + "/429", t, 0.3)
        )

    def surge(self, fleet: Fleet, t: float) -> tuple[ApiKey, dict[str, float]] | None:
        """A key sending more than its limit allows: the key and its rejected requests per
        second by model, all answered 429. None when nobody is hammering."""
        return None

    def xid(self, fleet: Fleet, gpu: Gpu, t: float) -> int:
        """The last XID code dcgm-exporter reports for ``gpu`` (0: none since boot)."""
        return 0

    def xid_changes(self, fleet: Fleet, t: float) -> list[tuple[float, Gpu, int]]:
        """Every change of a GPU's XID code up to ``t``: (when, GPU, new code), in time
        order. Agrees with `xid`."""
        return []

    def terminations(
        self, fleet: Fleet, model: ServedModel, pod: str, t: float
    ) -> tuple[Termination, ...]:
        """Every time ``pod``'s model-server container ended up to ``t``, oldest first."""
        return ()

    def cuda_ooms(
        self, fleet: Fleet, model: ServedModel, pod: str, t: float
    ) -> tuple[CudaOom, ...]:
        """Every CUDA OOM ``pod`` logged up to ``t``, oldest first."""
        return ()

    def expected(self, fleet: Fleet) -> Expectation:
        return Expectation()


class GpuOom(Scenario):
    name = "gpu-oom"
    summary = (
        "One low-volume model's GPUs run out of memory: its 5xx climbs to ~20 % while the "
        "whole API's stays under 1 %."
    )
    error_5xx_ratio = 0.20
    target_share = 0.03
    """A model this small hides in the aggregate: 20 % of 3 % of traffic is 0.6 %."""

    def sick(self, fleet: Fleet) -> ServedModel:
        return fleet.closest_share(self.target_share)

    def conditions(self, fleet: Fleet, model: ServedModel, t: float) -> Conditions:
        healthy = super().conditions(fleet, model, t)
        if model is not self.sick(fleet):
            return healthy
        r = ramp(t)
        return Conditions(
            rps=healthy.rps,
            error_5xx_ratio=healthy.error_5xx_ratio
            + r * self.error_5xx_ratio * jitter(fleet, "oom/5xx", t, 0.05),
            # Failed requests return fast; the survivors queue behind restarting engines.
            latency_scale=healthy.latency_scale * (1 + 0.3 * r),
            ttft_scale=healthy.ttft_scale * (1 + 0.6 * r),
            queue_waiting=healthy.queue_waiting + round(6 * r),
            gpu_util=healthy.gpu_util,
            gpu_mem_ratio=healthy.gpu_mem_ratio + r * (0.995 - healthy.gpu_mem_ratio),
        )

    xid_schedule: tuple[tuple[int, float, int], ...] = (
        (0, ONSET_S + 30, 31),
        (1, ONSET_S + 75, 43),
    )
    """(position among the sick model's GPUs, when, code): XID 31 (GPU memory page fault)
    shortly after the onset on the first GPU, then XID 43 (GPU stopped processing) on the
    second, as a crashing engine leaves them."""

    def xid(self, fleet: Fleet, gpu: Gpu, t: float) -> int:
        if gpu.model != self.sick(fleet).name:
            return 0
        codes = [code for _, changed, code in self.xid_changes(fleet, t) if changed is gpu]
        return codes[-1] if codes else 0

    def xid_changes(self, fleet: Fleet, t: float) -> list[tuple[float, Gpu, int]]:
        gpus = self.sick(fleet).gpus
        return [
            (at_s, gpus[position], code)
            for position, at_s, code in self.xid_schedule
            if position < len(gpus) and at_s <= t
        ]

    first_oom_s = ONSET_S + 20
    oom_every_s = 45.0
    """Each sick pod logs a CUDA OOM this often once the incident is under way."""
    first_crash_s = ONSET_S + 60
    oomkilled_s = ONSET_S + 150
    """The first crash is the engine dying on a CUDA OOM (exit 1); from here on the
    restarted engine, swapping KV cache to host memory, blows the container's memory
    limit and is OOMKilled every `crash_every_s`."""
    crash_every_s = 120.0

    def cuda_ooms(
        self, fleet: Fleet, model: ServedModel, pod: str, t: float
    ) -> tuple[CudaOom, ...]:
        if model is not self.sick(fleet) or t < self.first_oom_s:
            return ()
        devices = sum(1 for g in model.gpus if g.pod == pod) or 1
        # Pods of one model do not fail in lockstep: each starts a little later.
        offset = 10 * model.pods.index(pod) % self.oom_every_s
        count = int((t - self.first_oom_s - offset) // self.oom_every_s) + 1
        return tuple(
            CudaOom(
                at_s=self.first_oom_s + offset + k * self.oom_every_s,
                device=k % devices,
                tried_gib=round(0.5 + 3 * stable_fraction(fleet.seed, pod, k), 2),
            )
            for k in range(max(0, count))
        )

    def terminations(
        self, fleet: Fleet, model: ServedModel, pod: str, t: float
    ) -> tuple[Termination, ...]:
        if model is not self.sick(fleet) or t < self.first_crash_s:
            return ()
        out = [Termination(self.first_crash_s, "Error", 1)]
        if t >= self.oomkilled_s:
            crashes = int((t - self.oomkilled_s) // self.crash_every_s)
            out += [
                Termination(self.oomkilled_s + k * self.crash_every_s, "OOMKilled", 137)
                for k in range(crashes + 1)
            ]
        return tuple(out)

    def expected(self, fleet: Fleet) -> Expectation:
        sick = self.sick(fleet).name
        return Expectation(model=sick, error_5xx_ratio=self.error_5xx_ratio, models=(sick,))


class Key429(Scenario):
    name = "key-429"
    summary = (
        "One API key hammers the gateway: ~25 % of all requests answered 429, over 90 % of "
        "them on that key."
    )
    surge_ratio = 0.35
    """The key's excess, as a fraction of the fleet's normal traffic; all of it is rejected,
    so 429s reach 0.35 / 1.35, about 26 %."""
    split = (0.7, 0.3)
    """The key calls the two busiest models."""

    def noisy_key(self, fleet: Fleet) -> ApiKey:
        return next(k for k in fleet.keys if k.tenant == "initech")

    def surge(self, fleet: Fleet, t: float) -> tuple[ApiKey, dict[str, float]] | None:
        r = ramp(t)
        if r <= 0:
            return None
        extra = fleet.total_rps * self.surge_ratio * r * jitter(fleet, "surge", t, 0.04)
        targets = fleet.models[: len(self.split)]
        weights = self.split[: len(targets)]
        return self.noisy_key(fleet), {
            m.name: extra * w / sum(weights) for m, w in zip(targets, weights, strict=True)
        }

    def expected(self, fleet: Fleet) -> Expectation:
        touched = tuple(m.name for m in fleet.models[: len(self.split)])
        return Expectation(
            model=touched[0],
            rate_429_ratio=self.surge_ratio / (1 + self.surge_ratio),
            top_key=self.noisy_key(fleet).key_id,
            top_key_min_share=0.9,
            models=touched,
        )


class Saturation(Scenario):
    name = "saturation"
    summary = (
        "The busiest models outgrow their GPUs: utilization 95-100 %, queues and TTFT p99 "
        "climb, p99 breaches, no errors."
    )
    busiest = 3
    p99_target_s = 7.0
    ttft_p99_target_s = 2.2

    def conditions(self, fleet: Fleet, model: ServedModel, t: float) -> Conditions:
        healthy = super().conditions(fleet, model, t)
        if model not in fleet.models[: self.busiest]:
            return healthy
        r = ramp(t)
        # Scale so the healthy p99 lands on the target whatever the model's size.
        latency_p99_s = model.latency_p50_s * math.exp(Z_99 * LATENCY_SIGMA)
        ttft_p99_s = model.ttft_p50_s * math.exp(Z_99 * TTFT_SIGMA)
        latency_full = max(1.0, self.p99_target_s / latency_p99_s)
        ttft_full = max(1.0, self.ttft_p99_target_s / ttft_p99_s)
        return Conditions(
            rps=healthy.rps * (1 + 0.6 * r),
            error_5xx_ratio=healthy.error_5xx_ratio,
            latency_scale=healthy.latency_scale * (1 + r * (latency_full - 1)),
            ttft_scale=healthy.ttft_scale * (1 + r * (ttft_full - 1)),
            queue_waiting=healthy.queue_waiting + round(r * 40 * jitter(fleet, "q", t, 0.2)),
            gpu_util=healthy.gpu_util
            + r * (0.95 + 0.05 * stable_fraction(model.name, t // 5) - healthy.gpu_util),
            gpu_mem_ratio=healthy.gpu_mem_ratio,
        )

    def expected(self, fleet: Fleet) -> Expectation:
        touched = tuple(m.name for m in fleet.models[: self.busiest])
        return Expectation(model=touched[0], error_5xx_ratio=0.0, models=touched)


class CanaryScenario(Scenario):
    """A healthy fleet with a gateway canary ready at 0 %: what happens depends on the
    driver ramping it."""

    def __init__(self, name: str, summary: str, traits: CanaryTraits) -> None:
        self.name = name
        self.summary = summary
        self.canary = traits


CANARY_SCENARIOS = (
    CanaryScenario(
        "good-canary",
        "A gateway canary as good as the stable build: the ramp goes 5 -> 25 -> 50 -> 100 %.",
        CanaryTraits(),
    ),
    CanaryScenario(
        "bad-canary-p99",
        "A gateway canary that adds a sync call on the hot path: p99 +60 %, errors flat.",
        CanaryTraits(latency_scale=1.6),
    ),
    CanaryScenario(
        "bad-canary-errors",
        "A gateway canary that fails 3 % of requests: errors regress, latency flat.",
        CanaryTraits(error_5xx_added=0.03),
    ),
    CanaryScenario(
        "cold-canary",
        "A good canary whose first requests are 4x slower (lazy weights, cold caches) for "
        "90 s: rolled back only if nothing warms it first.",
        CanaryTraits(cold_latency_scale=4.0, cold_s=90.0),
    ),
    CanaryScenario(
        "canary-model-mismatch",
        "A canary serving another model version than the baseline: the comparison must be refused.",
        CanaryTraits(model_version="2024-12-06"),
    ),
)

SCENARIOS: dict[str, Scenario] = {
    s.name: s for s in (Scenario(), GpuOom(), Key429(), Saturation(), *CANARY_SCENARIOS)
}


def scenario(name: str) -> Scenario:
    """The scenario called ``name``; ValueError with the known names otherwise."""
    try:
        return SCENARIOS[name]
    except KeyError:
        known = ", ".join(SCENARIOS)
        raise ValueError(f"There is no scenario {name!r}; pick one of: {known}.") from None
