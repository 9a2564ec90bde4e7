"""End to end on the real data path: `warroom simulate` serving /metrics, Debian's
Prometheus scraping it every second, `warroom snapshot --json --prometheus` reading it.

The simulator runs 10x faster than real time, so a 30 s rate window holds 5 simulated
minutes of traffic: ratios and quantiles do not depend on the speed, request rates are
10x. Checks two things: the snapshot agrees with what Prometheus itself computes at the
same instant, and both show what the scenario scripts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest
from promserver import PromServer, scraping_simulator, taken_at_unix, wait_for_scrapes, warroom_json

from tui.sim.fleet import build_fleet
from tui.sim.scenarios import SCENARIOS

pytestmark = pytest.mark.prometheus

WINDOW = "30s"
SPEED = 10
AT = "10m"
"""Well past the onset: the incident is at full strength from the first scrape."""
MIN_SCRAPES = 15
TOLERANCE = 0.02
"""Absolute tolerance on a ratio against the scenario's scripted figure (its jitter is
±5 % of 20 %, i.e. ±0.01, plus the background errors)."""


@dataclass
class Rig:
    prometheus: PromServer
    scenario: str

    def snapshot(self) -> dict[str, Any]:
        return warroom_json(
            "snapshot", "--prometheus", self.prometheus.url, "--window", WINDOW, env=None
        )


@pytest.fixture(scope="module")
def rigs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Rig]]:
    """One simulator and one Prometheus per scenario, started together and torn down."""
    with ExitStack() as stack:
        rigs: dict[str, Rig] = {}
        for name in ("gpu-oom", "key-429", "saturation"):
            args = ("--scenario", name, "--at", AT, "--speed", str(SPEED))
            server = stack.enter_context(scraping_simulator(tmp_path_factory.mktemp(name), *args))
            rigs[name] = Rig(server, name)
        for rig in rigs.values():
            # Counters are whole requests: over two scrapes the quiet sick model has a
            # handful of errors, and one more or less moves its ratio by several points.
            # Wait for MIN_SCRAPES in the window (150 simulated seconds, ~80 errors).
            wait_for_scrapes(rig.prometheus, MIN_SCRAPES, WINDOW)
        yield rigs


def by_model(prometheus: PromServer, expr: str, at: float) -> dict[str, float]:
    return {s["metric"]["model"]: float(s["value"][1]) for s in prometheus.vector(expr, at)}


def test_gpu_oom_model_has_the_highest_5xx_through_prometheus(rigs: dict[str, Rig]) -> None:
    rig = rigs["gpu-oom"]
    snap = rig.snapshot()
    sick = SCENARIOS["gpu-oom"].expected(build_fleet()).model

    assert snap["source"] == f"prometheus {rig.prometheus.url}"
    assert snap["stale"] is False and snap["error"] is None
    top = snap["models"][0]
    assert top["model"] == sick
    assert top["error_5xx_ratio"] == pytest.approx(0.20, abs=TOLERANCE)
    assert max(m["error_5xx_ratio"] for m in snap["models"][1:]) < 0.01
    # The aggregate stays under the 1 % SLO: only the per-model split shows the incident.
    assert snap["aggregate"]["error_5xx_ratio"] < 0.01
    assert len(snap["models"]) == 12

    # What Prometheus computes itself, at the snapshot's instant, with hand-written PromQL.
    at = taken_at_unix(snap)
    errors = by_model(
        rig.prometheus,
        f'sum by (model) (rate(http_requests_total{{status_code=~"5.."}}[{WINDOW}]))'
        f" / sum by (model) (rate(http_requests_total[{WINDOW}]))",
        at,
    )
    p99 = by_model(
        rig.prometheus,
        f"histogram_quantile(0.99, sum by (model, le) "
        f"(rate(http_request_duration_seconds_bucket[{WINDOW}])))",
        at,
    )
    for m in snap["models"]:
        assert m["error_5xx_ratio"] == pytest.approx(errors[m["model"]], rel=1e-3, abs=1e-6)
        assert m["p99_s"] == pytest.approx(p99[m["model"]], rel=1e-3)


def test_key_429_surge_on_one_key_through_prometheus(rigs: dict[str, Rig]) -> None:
    rig = rigs["key-429"]
    snap = rig.snapshot()
    expected = SCENARIOS["key-429"].expected(build_fleet())

    assert snap["aggregate"]["rate_429_ratio"] == pytest.approx(expected.rate_429_ratio, abs=0.03)
    top = snap["rate_limited_keys"][0]
    assert top["api_key"] == expected.top_key
    assert top["share"] >= 0.9
    assert snap["models"][0]["model"] in expected.models

    # The same share, computed by Prometheus from the rejection counter directly.
    at = taken_at_unix(snap)
    share = rig.prometheus.vector(
        f'sum(rate(gateway_ratelimit_rejections_total{{api_key_id="{expected.top_key}"}}[{WINDOW}]))'
        f" / sum(rate(gateway_ratelimit_rejections_total[{WINDOW}]))",
        at,
    )
    assert top["share"] == pytest.approx(float(share[0]["value"][1]), rel=1e-3)


def test_queries_per_refresh_do_not_depend_on_the_fleet(rigs: dict[str, Rig]) -> None:
    counts = {rig.snapshot()["queries"] for rig in rigs.values()}
    # Three per refresh (the panes' one and the GPU grid's two); a one-shot snapshot is a
    # first refresh, which also reads the XID history once and finds the stacks once.
    assert counts == {5}


def test_demo_and_prometheus_agree_on_the_scenario(rigs: dict[str, Rig]) -> None:
    """The in-process demo computes the same figures the way PromQL does."""
    through_prometheus = rigs["gpu-oom"].snapshot()
    demo = warroom_json("snapshot", "--demo", "--scenario", "gpu-oom", "--at", AT, env=None)
    assert [m["model"] for m in demo["models"]][:1] == [through_prometheus["models"][0]["model"]]
    for field in ("error_5xx_ratio", "rate_429_ratio"):
        assert demo["models"][0][field] == pytest.approx(
            through_prometheus["models"][0][field], abs=0.01
        )
    prom = {m["model"]: m for m in through_prometheus["models"]}
    busy = [m for m in demo["models"] if m["rps"] >= 5]
    assert len(busy) >= 4
    for m in [*busy, demo["aggregate"]]:
        # Same buckets, same interpolation: the p99s agree within the jitter. Only busy
        # models: Prometheus has seconds of whole-number counters, and a quiet model's
        # tail is then a handful of requests.
        theirs = prom[m["model"]] if m is not demo["aggregate"] else through_prometheus["aggregate"]
        assert m["p99_s"] == pytest.approx(theirs["p99_s"], rel=0.15), m["model"]


@pytest.mark.parametrize(
    ("scenario", "runbook", "leaf", "evidence"),
    [
        ("saturation", "latency", "scale-out", "gpu_util_max"),
        ("key-429", "rate-limit-429", "single-key", "top_key_429_share"),
    ],
)
def test_triage_walks_to_the_leaf_on_live_prometheus_data(
    rigs: dict[str, Rig], scenario: str, runbook: str, leaf: str, evidence: str
) -> None:
    """The same walk as on the demo, with every answer computed from what Prometheus holds:
    GPU utilization from dcgm-exporter's gauge, the top key's share from the gateway's
    rejection counter."""
    rig = rigs[scenario]
    out = warroom_json("triage", "--prometheus", rig.prometheus.url, "--window", WINDOW, env=None)
    assert out["source"] == f"prometheus {rig.prometheus.url}"
    assert out["runbook"]["id"] == runbook
    first = out["path"][0]
    assert first["by"] == "evidence" and first["answer"] == "yes"
    assert first["evidence"]["values"][evidence] >= 0.9
    assert out["reached"]["step"] == leaf
