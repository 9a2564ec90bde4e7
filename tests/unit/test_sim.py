"""The simulator: a deterministic fleet, scenarios that show what they promise, and an
exporter that speaks the real metric names."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tui.cli import main
from tui.clock import FrozenClock
from tui.config import Slo
from tui.domain.assessed import judge
from tui.domain.histogram import histogram_quantile
from tui.domain.model import AGGREGATE, Snapshot
from tui.domain.severity import Level, assess, rank
from tui.sim.engine import Engine
from tui.sim.exporter import make_server
from tui.sim.fleet import GPUS_PER_NODE, build_fleet
from tui.sim.scenarios import ONSET_S, SCENARIOS, scenario
from tui.sim.source import DemoSource

EPOCH = 1_795_000_000.0
SLO = Slo()


def demo(name: str, at_s: float = 600.0, **fleet: int) -> DemoSource:
    return DemoSource(name, clock=FrozenClock(EPOCH + at_s), epoch=EPOCH, **fleet)  # type: ignore[arg-type]


def snapshot(name: str, at_s: float = 600.0, **fleet: int) -> tuple[DemoSource, Snapshot]:
    source = demo(name, at_s, **fleet)
    return source, source.refresh_now()


# -- fleet ---------------------------------------------------------------------------


def test_fleet_is_a_function_of_its_arguments() -> None:
    assert build_fleet(12, seed=7).gpus == build_fleet(12, seed=7).gpus
    assert build_fleet(12, seed=7).gpus != build_fleet(12, seed=8).gpus


def test_large_fleet_has_the_asked_sizes_and_valid_names() -> None:
    fleet = build_fleet(200, 1024, seed=7)
    assert len(fleet.models) == 200
    assert len({m.name for m in fleet.models}) == 200
    gpus = fleet.gpus
    assert len(gpus) == 1024
    assert len({g.uuid for g in gpus}) == 1024
    nodes: dict[str, list[int]] = {}
    for g in gpus:
        nodes.setdefault(g.node, []).append(g.index)
    assert all(sorted(ix) == list(range(len(ix))) for ix in nodes.values())
    assert max(len(ix) for ix in nodes.values()) == GPUS_PER_NODE
    dns = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
    assert all(dns.fullmatch(p) and len(p) <= 253 for m in fleet.models for p in m.pods)
    assert sum(m.share for m in fleet.models) == pytest.approx(1.0)
    # Long-tailed: the busiest model takes many times the quietest one's traffic.
    assert fleet.models[0].share > 20 * fleet.models[-1].share


@pytest.mark.parametrize(
    ("models", "gpus", "words"),
    [(0, None, "--models"), (5000, None, "--models"), (12, 3, "--gpus"), (12, 100_000, "--gpus")],
)
def test_bad_fleet_sizes_are_one_sentence(models: int, gpus: int | None, words: str) -> None:
    with pytest.raises(ValueError, match=words) as caught:
        build_fleet(models, gpus)
    assert "\n" not in str(caught.value)


def test_unknown_scenario_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="healthy, gpu-oom, key-429, saturation"):
        scenario("nope")


def test_engine_is_deterministic_and_counters_only_grow() -> None:
    fleet = build_fleet(12, seed=3)
    a, b = Engine(fleet, SCENARIOS["gpu-oom"]), Engine(fleet, SCENARIOS["gpu-oom"])
    a.advance(400)
    b.advance(200)
    b.advance(400)
    assert a.sample() == b.sample()
    before = a.sample()
    a.advance(300)  # backwards: ignored
    a.advance(405)
    after = a.sample()
    for name, m in after.models.items():
        assert all(m.requests[s] >= before.models[name].requests[s] for s in m.requests)
        assert list(m.latency.counts) == sorted(m.latency.counts)


# -- scenarios, as the demo shows them -----------------------------------------------


def test_healthy_fleet_has_no_breach() -> None:
    _, snap = snapshot("healthy")
    levels = [assess(m, SLO).level for m in (*snap.models, snap.aggregate)]
    assert Level.BREACH not in levels
    assert all(m.rps and m.rps > 0 for m in snap.models)


def test_gpu_oom_sick_model_tops_the_list_while_the_aggregate_looks_fine() -> None:
    source, snap = snapshot("gpu-oom")
    expected = source.scenario.expected(source.fleet)
    worst = rank(snap.models, SLO, judge(snap, SLO))[0]
    assert worst.model == expected.model
    assert worst.error_5xx_ratio == pytest.approx(0.20, abs=0.02)
    # The whole API stays under the 1 % SLO: the aggregate alone would not page anyone.
    assert snap.aggregate.error_5xx_ratio is not None
    assert snap.aggregate.error_5xx_ratio < SLO.error_5xx_ratio * SLO.warn_fraction
    others = [m for m in snap.models if m.model != expected.model]
    assert all(m.error_5xx_ratio is not None and m.error_5xx_ratio < 0.005 for m in others)
    sick_gpus = [g for g in source.engine.gpus() if g.gpu.model == expected.model]
    assert all(g.fb_used_mib / (g.fb_used_mib + g.fb_free_mib) > 0.98 for g in sick_gpus)
    assert {g.xid for g in sick_gpus} >= {31, 43}


def test_gpu_oom_is_healthy_before_its_onset() -> None:
    _, snap = snapshot("gpu-oom", at_s=ONSET_S - 1)
    assert all(assess(m, SLO).level != Level.BREACH for m in snap.models)


def test_key_429_surge_sits_on_one_key() -> None:
    source, snap = snapshot("key-429")
    expected = source.scenario.expected(source.fleet)
    assert snap.aggregate.rate_429_ratio == pytest.approx(expected.rate_429_ratio, abs=0.03)
    top = snap.rate_limited_keys[0]
    assert top.api_key == expected.top_key
    assert top.share >= 0.9
    assert rank(snap.models, SLO, judge(snap, SLO))[0].model in expected.models


def test_saturation_climbs_without_errors() -> None:
    source, snap = snapshot("saturation")
    touched = source.scenario.expected(source.fleet).models
    for name in touched:
        m = snap.model(name)
        assert m is not None
        assert m.p99_s is not None and m.p99_s > SLO.p99_s
        assert m.ttft_p99_s is not None and m.ttft_p99_s > SLO.ttft_p99_s
        assert m.queue_depth is not None and m.queue_depth >= 30
        assert m.error_5xx_ratio is not None and m.error_5xx_ratio < 0.005
    utils = [g.util_ratio for g in source.engine.gpus() if g.gpu.model in touched]
    assert min(utils) >= 0.93 and max(utils) <= 1.0


def test_demo_history_covers_the_onset() -> None:
    source = demo("gpu-oom")
    sick = source.scenario.expected(source.fleet).model
    assert sick is not None
    points = source.history_now()[sick]
    assert points[0].at < EPOCH + ONSET_S < points[-1].at
    early = [p.error_5xx_ratio for p in points if p.at < EPOCH + ONSET_S]
    assert early and max(r for r in early if r is not None) < 0.01
    assert points[-1].error_5xx_ratio == pytest.approx(0.20, abs=0.02)


def test_same_seed_same_snapshot() -> None:
    assert snapshot("key-429")[1] == snapshot("key-429")[1]


# -- histogram_quantile, as PromQL defines it ----------------------------------------


@pytest.mark.parametrize(
    ("q", "buckets", "expected"),
    [
        (0.5, [(0.1, 10), (0.5, 20), (float("inf"), 20)], 0.1),
        (0.75, [(0.1, 10), (0.5, 20), (float("inf"), 20)], 0.3),
        (1.0, [(0.1, 10), (0.5, 20), (float("inf"), 20)], 0.5),
        (0.9, [(1.0, 5), (float("inf"), 10)], 1.0),  # rank in +Inf: highest finite bound
        (0.5, [(float("inf"), 4), (1.0, 4)], 0.5),  # order of buckets does not matter
        # A dip (6 then 5) is lifted to 6 as PromQL does, so rank 5 falls in the first bucket.
        (0.5, [(1.0, 6), (2.0, 5), (float("inf"), 10)], 5 / 6),
    ],
)
def test_histogram_quantile_matches_promql(
    q: float, buckets: list[tuple[float, float]], expected: float
) -> None:
    assert histogram_quantile(q, buckets) == pytest.approx(expected)


@pytest.mark.parametrize(
    "buckets", [[], [(float("inf"), 0)], [(1.0, 0), (float("inf"), 0)], [(1.0, 3), (2.0, 5)]]
)
def test_histogram_quantile_without_an_answer_is_none(buckets: list[tuple[float, float]]) -> None:
    assert histogram_quantile(0.99, buckets) is None


# -- the exporter --------------------------------------------------------------------


@pytest.fixture
def exporter() -> Iterator[str]:
    server, _ = make_server(scenario="gpu-oom", models=12, at_s=600.0, speed=1.0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_exporter_serves_real_names_in_text_format(exporter: str) -> None:
    # Ask for OpenMetrics as Prometheus does: the answer must still be text 0.0.4, or
    # Prometheus 2.42 would store vllm: names as vllm_.
    response = httpx.get(
        f"{exporter}/metrics", headers={"Accept": "application/openmetrics-text;version=1.0.0"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    for name in (
        "http_requests",
        "http_request_duration_seconds",
        "gateway_ratelimit_rejections",
        "vllm:time_to_first_token_seconds",
        "vllm:e2e_request_latency_seconds",
        "vllm:num_requests_waiting",
        "vllm:num_requests_running",
        "DCGM_FI_DEV_GPU_UTIL",
        "DCGM_FI_DEV_FB_USED",
        "DCGM_FI_DEV_FB_FREE",
        "DCGM_FI_DEV_XID_ERRORS",
    ):
        assert name in families, name
    statuses = {s.labels["status_code"] for s in families["http_requests"].samples}
    assert statuses == {"200", "500", "503", "429"}
    gpu = families["DCGM_FI_DEV_FB_USED"].samples[0].labels
    assert {"gpu", "UUID", "Hostname", "modelName", "pod", "namespace"} <= set(gpu)
    assert gpu["modelName"].startswith("NVIDIA ")
    xids = {s.value for s in families["DCGM_FI_DEV_XID_ERRORS"].samples}
    assert {31.0, 43.0} <= xids
    waiting = families["vllm:num_requests_waiting"].samples[0].labels
    assert {"model_name", "pod", "namespace"} <= set(waiting)


def test_exporter_counters_are_whole_numbers_and_grow(exporter: str) -> None:
    def requests() -> dict[tuple[str, str], float]:
        text = httpx.get(f"{exporter}/metrics").text
        family = next(f for f in text_string_to_metric_families(text) if f.name == "http_requests")
        return {(s.labels["model"], s.labels["status_code"]): s.value for s in family.samples}

    first = requests()
    assert all(v == int(v) for v in first.values())
    threading.Event().wait(0.3)
    second = requests()
    assert all(second[k] >= v for k, v in first.items())


def test_exporter_answers_404_elsewhere(exporter: str) -> None:
    assert httpx.get(f"{exporter}/nope").status_code == 404


def test_exporter_canary_weight_routes_traffic_from_the_start() -> None:
    server, engine = make_server(scenario="bad-canary-p99", at_s=600.0, canary_weight=25)
    server.server_close()
    assert engine.rollout is not None
    assert engine.rollout.weight_at(600.0) == 0.25
    assert engine.rollout.replicas > 0
    engine.advance(700.0)
    gateway = engine.sample().gateway
    share = gateway["canary"].total / (gateway["canary"].total + gateway["stable"].total)
    assert share == pytest.approx(0.25)


def test_simulate_canary_weight_needs_a_canary_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--port", "0", "--scenario", "healthy", "--canary-weight", "5"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("warroom: The healthy scenario has no gateway canary")
    assert err.endswith(".") and "\n" not in err and err.count(". ") == 0


@pytest.mark.parametrize("weight", ["150", "-1", "12.5"])
def test_simulate_canary_weight_is_a_percentage(
    weight: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["simulate", "--port", "0", "--scenario", "good-canary", "--canary-weight", weight])
    assert exited.value.code == 2
    assert "--canary-weight" in capsys.readouterr().err


def test_demo_history_at_any_start_instant() -> None:
    """A live demo starts at a fractional simulated second; its plots still fill."""
    source = demo("gpu-oom", at_s=3600.37)
    points = source.history_now()[AGGREGATE]
    assert len(points) >= 170  # 30 minutes at one point per 10 s, give or take the edges
    assert points[-1].at >= EPOCH + 3600.37 - 10
