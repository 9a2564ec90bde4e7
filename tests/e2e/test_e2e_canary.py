"""End to end for the gateway canary's figures: `warroom simulate --canary-weight`
serving /metrics, Debian's Prometheus scraping it every second, `PrometheusSource.canary`
and `canary_in_flight` reading it.

As in test_e2e_prometheus, the simulator runs 10x faster than real time: a 30 s window
holds 5 simulated minutes, so ratios and quantiles are the scenario's, counts are 10x.
Checks that the source reads what the scenario scripts (traffic split, the canary's p99
regression, flat errors, model versions), that it agrees with what Prometheus computes
itself from hand-written PromQL at the same instant, and what the judge makes of it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import pytest
from promserver import PromServer, scraping_simulator, wait_for_scrapes

from tui.clock import FrozenClock, WallClock
from tui.config import Config, load_config
from tui.domain.canary import CanaryPolicy, Reading, judge
from tui.domain.histogram import histogram_quantile
from tui.sim.engine import Engine
from tui.sim.fleet import build_fleet
from tui.sim.rollout import CANARY, STABLE
from tui.sim.scenarios import SCENARIOS
from tui.sources.prometheus import PrometheusSource

pytestmark = pytest.mark.prometheus

WINDOW_S = 30
SPEED = 10
AT = "10m"
AT_S = 600.0
WEIGHT = 25
MIN_SCRAPES = 15
"""For the p99 rig: 15 scrapes in the window, ~3,300 canary requests (150 simulated
seconds at ~22 rps), so the canary's 1 % tail holds some 30 requests."""
SPLIT_TOLERANCE = 0.005
"""The route splits every model's and status's requests exactly by weight; what moves
the measured share is the exporter flooring each of the canary's 48 series (12 models x
4 statuses) to whole requests, under 1 request per series out of thousands: < 0.002 on
the share. Both revisions are scraped together, so Prometheus's extrapolation to the
window's edges scales them alike."""

RIGS = {
    # name: (scenario, canary weight, scrapes to wait for)
    "p99": ("bad-canary-p99", WEIGHT, MIN_SCRAPES),
    "mismatch": ("canary-model-mismatch", WEIGHT, 3),
    "off": ("bad-canary-p99", 0, 3),
}


@dataclass
class Rig:
    prometheus: PromServer
    scenario: str
    weight: int
    config: Config

    def source(self, at: float | None = None) -> PrometheusSource:
        clock = WallClock() if at is None else FrozenClock(at)
        return PrometheusSource(self.config, clock=clock)

    def reading(self, at: float) -> Reading:
        async def read() -> Reading:
            source = self.source(at)
            try:
                return await source.canary(window_s=WINDOW_S)
            finally:
                await source.aclose()

        return asyncio.run(read())

    def in_flight(self) -> int | None:
        async def read() -> int | None:
            source = self.source()
            try:
                return await source.canary_in_flight()
            finally:
                await source.aclose()

        return asyncio.run(read())


@pytest.fixture(scope="module")
def rigs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Rig]]:
    """One simulator and one Prometheus per rig: the canary queries sum over every
    target, so two simulators behind one Prometheus would add up."""
    with ExitStack() as stack:
        rigs: dict[str, Rig] = {}
        for name, (scenario, weight, _) in RIGS.items():
            tmp = tmp_path_factory.mktemp(name)
            server = stack.enter_context(scraping_simulator(
                tmp, "--scenario", scenario, "--at", AT, "--speed", str(SPEED),
                "--canary-weight", str(weight)))  # fmt: skip
            config = load_config(
                None, env={"XDG_CONFIG_HOME": str(tmp)}, flags={("prometheus", "url"): server.url}
            )
            rigs[name] = Rig(server, scenario, weight, config)
        for name, rig in rigs.items():
            wait_for_scrapes(rig.prometheus, RIGS[name][2], f"{WINDOW_S}s")
        yield rigs


def now() -> float:
    """A wall-clock instant the source and the hand-written PromQL are both evaluated at."""
    return round(time.time(), 3)


def by_revision(prometheus: PromServer, expr: str, at: float) -> dict[str, float]:
    return {s["metric"]["revision"]: float(s["value"][1]) for s in prometheus.vector(expr, at)}


def scripted_p99s(scenario: str, weight: int) -> dict[str, float]:
    """Each revision's p99 as the engine's own counters give it over the first
    ``WINDOW_S`` real seconds (histogram interpolation included, as PromQL does it)."""
    engine = Engine(build_fleet(), SCENARIOS[scenario], start_s=AT_S)
    assert engine.rollout is not None
    engine.rollout.set_weight(AT_S, weight)
    engine.advance(AT_S + WINDOW_S * SPEED)
    gateway = engine.sample().gateway
    out: dict[str, float] = {}
    for revision in (STABLE, CANARY):
        latency = gateway[revision].latency
        p99 = histogram_quantile(0.99, list(zip(latency.bounds, latency.counts, strict=True)))
        assert p99 is not None
        out[revision] = p99
    return out


def test_bad_canary_p99_figures_through_prometheus(rigs: dict[str, Rig]) -> None:
    rig = rigs["p99"]
    at = now()
    reading = rig.reading(at)
    canary, baseline = reading.canary, reading.baseline
    assert canary is not None and baseline is not None

    # The route's split, measured on requests served.
    share = canary.requests / (canary.requests + baseline.requests)
    assert share == pytest.approx(WEIGHT / 100, abs=SPLIT_TOLERANCE)
    assert canary.requests >= CanaryPolicy().min_requests

    # The scenario's regression: +60 % on the log-normal's median; through the gateway's
    # coarse buckets (2-3 s, 3-5 s) PromQL's interpolation reads it as ~1.73x. The engine
    # gives that figure from its own (unfloored) counters. Replaying the exporter's
    # whole-request counters at every scrape phase and 15-40 scrapes moves the ratio by
    # under 2 % (the canary's tail is ~30 requests), each p99 by under 2 %.
    scripted = scripted_p99s(rig.scenario, rig.weight)
    assert canary.p99_s is not None and baseline.p99_s is not None
    assert baseline.p99_s == pytest.approx(scripted[STABLE], rel=0.05)
    assert canary.p99_s == pytest.approx(scripted[CANARY], rel=0.05)
    assert canary.p99_s / baseline.p99_s == pytest.approx(
        scripted[CANARY] / scripted[STABLE], rel=0.04
    )
    assert canary.p99_s > baseline.p99_s * CanaryPolicy().p99_regression

    # Errors flat: both at most the background 5xx (~0.09 %; the canary's whole-request
    # counters show only a few errors in the window), far from the 0.4 % that counting
    # 429s as errors would read, and within the judge's floor (0.1 %) of each other,
    # where bad-canary-errors' +3 % would be 30 times over it.
    assert canary.error_rate is not None and baseline.error_rate is not None
    assert 0 < baseline.error_rate < 0.002
    assert canary.error_rate < 0.002
    assert abs(canary.error_rate - baseline.error_rate) < CanaryPolicy().error_rate_floor

    traits = SCENARIOS[rig.scenario].canary
    assert traits is not None
    assert canary.model_version == baseline.model_version == traits.model_version

    # What Prometheus computes itself at the same instant, from hand-written PromQL.
    w = f"{WINDOW_S}s"
    requests = by_revision(
        rig.prometheus, f"sum by (revision) (increase(http_requests_total[{w}]))", at
    )
    errors = by_revision(
        rig.prometheus,
        f'sum by (revision) (increase(http_requests_total{{status_code=~"5.."}}[{w}]))',
        at,
    )
    p99 = by_revision(
        rig.prometheus,
        "histogram_quantile(0.99, sum by (revision, le) "
        f"(increase(http_request_duration_seconds_bucket[{w}])))",
        at,
    )
    versions = {
        s["metric"]["revision"]: s["metric"]["model_version"]
        for s in rig.prometheus.vector("gateway_build_info", at)
    }
    for side, revision in ((canary, CANARY), (baseline, STABLE)):
        assert side.requests == pytest.approx(requests[revision], rel=1e-9)
        assert side.errors == pytest.approx(errors[revision], rel=1e-9)
        assert side.p99_s == pytest.approx(p99[revision], rel=1e-9)
        assert side.model_version == versions[revision]

    # The judge, at the end of a 25 % stage's hold, rolls back on p99 alone.
    policy = CanaryPolicy()
    verdict = judge(policy, policy.stages.index(WEIGHT), policy.stage_hold_s, reading)
    assert verdict.decision == "rollback"
    assert verdict.metric == "p99"
    assert [g.metric for g in verdict.gates if not g.passed] == ["p99"]


def test_canary_in_flight_through_prometheus(rigs: dict[str, Rig]) -> None:
    """Steady traffic: the canary's gauge holds its share of the rate times its mean
    latency (1.6x the baseline's), which the engine works out in closed form."""
    rig = rigs["p99"]
    engine = Engine(build_fleet(), SCENARIOS[rig.scenario], start_s=AT_S)
    assert engine.rollout is not None
    engine.rollout.set_weight(AT_S, rig.weight)
    engine.advance(AT_S + 600)  # long past the first requests' drain-in
    expected = engine.in_flight()[CANARY]

    flying = rig.in_flight()
    assert isinstance(flying, int)
    assert flying > 0
    assert abs(flying - expected) <= 1
    gauge = rig.prometheus.vector('gateway_requests_in_flight{revision="canary"}')
    assert flying == round(float(gauge[0]["value"][1]))


def test_model_mismatch_reads_two_versions(rigs: dict[str, Rig]) -> None:
    rig = rigs["mismatch"]
    reading = rig.reading(now())
    assert reading.canary is not None and reading.baseline is not None
    traits = SCENARIOS[rig.scenario].canary
    assert traits is not None
    assert reading.canary.model_version == traits.model_version
    assert reading.baseline.model_version == traits.baseline_model_version
    assert reading.canary.model_version != reading.baseline.model_version
    assert reading.canary.requests > 0
    verdict = judge(CanaryPolicy(), 1, 0.0, reading)
    assert verdict.decision == "refuse"
    assert verdict.metric == "model_version"


def test_no_weight_no_canary_side(rigs: dict[str, Rig]) -> None:
    """At 0 % the gateway has no canary request series at all, so `canary` reads no side
    for it (build info alone does not make one); the judge says no data."""
    rig = rigs["off"]
    reading = rig.reading(now())
    assert reading.canary is None
    assert reading.baseline is not None and reading.baseline.requests > 0
    verdict = judge(CanaryPolicy(), 0, 0.0, reading)
    assert verdict.decision == "no-data"
    # The gauge is there and reads zero: nothing in flight to drain.
    assert rig.in_flight() == 0
