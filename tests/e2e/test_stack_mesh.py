"""The Istio and Envoy Gateway adapters, end to end: `warroom simulate --stack istio,…`
(or ``envoy_gateway,…``) serving the real exporters' shapes, Debian's Prometheus
scraping it, `warroom snapshot --json` reading it with no configuration, so discovery
has to find the stacks.

What is checked is what makes these two stacks awkward: with Istio both the router and
the model pod report every forwarded request as ``reporter="destination"``, and the
router's own 429s reach no model; with Envoy Gateway the model hides behind a route's
cluster name. Each served model must be exactly one row, the sick one first, with the
figures Prometheus computes itself from the raw series, and Σ must count each request
once, from the hop callers talk to. Two `promtool test rules` checks cover what the
simulated fleet does not show: a route that joins no model and a mesh service that is
no gateway.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from incident_checks import assert_discovered, assert_gpus_and_cause
from promserver import (
    AT,
    MIN_SCRAPES,
    SPEED,
    WINDOW,
    PromServer,
    binary,
    scraping_simulator,
    snapshot_json,
    taken_at_unix,
    wait_for_scrapes,
)

from tui.sim.fleet import build_fleet
from tui.sim.scenarios import SCENARIOS
from tui.sim.stacks.envoy_gateway import route_cluster
from tui.sim.stacks.istio import ROUTER, deployment
from tui.sources.stacks.base import Query
from tui.sources.stacks.envoy_gateway import EnvoyGateway
from tui.sources.stacks.istio import Istio

pytestmark = pytest.mark.prometheus

CLOSE = 0.10
"""The brief's tolerance against PromQL computed here (the same instant, so in practice
they agree to rounding)."""
RIGS = {
    "istio/gpu-oom": ("istio,vllm,dcgm", "gpu-oom", "istio_requests_total"),
    "istio/key-429": ("istio,vllm,dcgm", "key-429", "istio_requests_total"),
    "envoy_gateway/gpu-oom": ("envoy_gateway,vllm,dcgm", "gpu-oom", "envoy_cluster_upstream_rq_xx"),
}  # fmt: skip


@dataclass
class Rig:
    prometheus: PromServer
    home: Path
    """An empty config home: no warroom config, so the stacks are discovered."""

    def snapshot(self) -> dict[str, Any]:
        return snapshot_json(self.prometheus.url, "--window", WINDOW, home=self.home)

    def by(self, label: str, expr: str, at: float) -> dict[str, float]:
        return {s["metric"][label]: float(s["value"][1]) for s in self.prometheus.vector(expr, at)}

    def scalar(self, expr: str, at: float) -> float:
        found = self.prometheus.vector(expr, at)
        assert len(found) == 1, (expr, found)
        return float(found[0]["value"][1])


@pytest.fixture(scope="module")
def rigs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Rig]]:
    with ExitStack() as stack:
        rigs: dict[str, Rig] = {}
        for name, (stacks, scenario, _) in RIGS.items():
            workdir = tmp_path_factory.mktemp(name.replace("/", "-"))
            args = ("--stack", stacks, "--scenario", scenario, "--at", AT, "--speed", str(SPEED))
            server = stack.enter_context(scraping_simulator(workdir, *args))
            home = workdir / "config-home"
            home.mkdir()
            rigs[name] = Rig(server, home)
        for name, rig in rigs.items():
            wait_for_scrapes(rig.prometheus, MIN_SCRAPES, WINDOW, metric=RIGS[name][2])
        yield rigs


FLEET = build_fleet(12)
MODEL_OF_WORKLOAD = {deployment(m.pods[0]): m.name for m in FLEET.models}
MODEL_OF_ROUTE = {route_cluster(w): name for w, name in MODEL_OF_WORKLOAD.items()}


def models(rows: dict[str, float], names: Mapping[str, str]) -> dict[str, float]:
    """Rows keyed by a workload or a cluster name, re-keyed by the model it serves."""
    return {names[k]: v for k, v in rows.items() if k in names}


def assert_one_row_per_model(snap: dict[str, Any], sick: str) -> None:
    names = [m["model"] for m in snap["models"]]
    assert sorted(names) == sorted(m.name for m in FLEET.models), names
    assert names[0] == sick


def assert_rows_match(
    snap: dict[str, Any], errors: Mapping[str, float], p99: Mapping[str, float]
) -> None:
    assert set(errors) == set(p99) == {m.name for m in FLEET.models}
    for row in snap["models"]:
        name = row["model"]
        assert row["error_5xx_ratio"] == pytest.approx(errors[name], rel=CLOSE, abs=1e-6), name
        assert row["p99_s"] == pytest.approx(p99[name], rel=CLOSE), name


# -- Istio --------------------------------------------------------------------------------

MESH = 'istio_requests_total{reporter="destination"}'
ROUTER_HOP = f'istio_requests_total{{reporter="destination",destination_workload="{ROUTER}"}}'


def test_istio_one_row_per_model_and_the_sick_one_first(rigs: dict[str, Rig]) -> None:
    rig = rigs["istio/gpu-oom"]
    snap = rig.snapshot()
    sick = SCENARIOS["gpu-oom"].expected(FLEET).model

    assert snap["error"] is None
    assert "Istio" in snap["stack"] and "vLLM" in snap["stack"]
    assert_one_row_per_model(snap, sick)
    top = snap["models"][0]
    assert top["error_5xx_ratio"] == pytest.approx(0.20, abs=0.02)

    # The model hop, by Deployment, as Prometheus computes it from the raw series.
    at = taken_at_unix(snap)
    w = WINDOW
    errors = rig.by(
        "destination_workload",
        f'sum by (destination_workload) (rate(istio_requests_total{{reporter="destination",'
        f'response_code=~"5.."}}[{w}])) / sum by (destination_workload) (rate({MESH}[{w}]))',
        at,
    )
    p99 = rig.by(
        "destination_workload",
        f"histogram_quantile(0.99, sum by (destination_workload, le) (rate("
        f'istio_request_duration_milliseconds_bucket{{reporter="destination"}}[{w}]))) / 1000',
        at,
    )
    assert_rows_match(snap, models(errors, MODEL_OF_WORKLOAD), models(p99, MODEL_OF_WORKLOAD))


def test_istio_counts_each_request_once_from_the_router_hop(rigs: dict[str, Rig]) -> None:
    rig = rigs["istio/gpu-oom"]
    snap = rig.snapshot()
    at = taken_at_unix(snap)
    router = rig.scalar(f"sum(rate({ROUTER_HOP}[{WINDOW}]))", at)
    every_report = rig.scalar(f"sum(rate({MESH}[{WINDOW}]))", at)
    # The trap is real: summing every destination report counts a request twice.
    assert every_report == pytest.approx(2 * router, rel=0.02)

    whole = snap["aggregate"]
    assert whole["rps"] == pytest.approx(router, rel=1e-3)
    router_5xx = rig.scalar(
        f'sum(rate(istio_requests_total{{reporter="destination",destination_workload="{ROUTER}",'
        f'response_code=~"5.."}}[{WINDOW}])) / sum(rate({ROUTER_HOP}[{WINDOW}]))',
        at,
    )
    assert whole["error_5xx_ratio"] == pytest.approx(router_5xx, rel=1e-3, abs=1e-9)
    # Every model row together is the router hop less what the router answered itself.
    rows = sum(m["rps"] for m in snap["models"])
    assert rows == pytest.approx(router, rel=0.02)


def test_istio_gateway_answered_429s_count_in_the_whole_api(rigs: dict[str, Rig]) -> None:
    rig = rigs["istio/key-429"]
    snap = rig.snapshot()
    expected = SCENARIOS["key-429"].expected(FLEET)
    at = taken_at_unix(snap)

    assert len(snap["models"]) == len(FLEET.models)
    router_429 = rig.scalar(
        f'sum(rate(istio_requests_total{{reporter="destination",destination_workload="{ROUTER}",'
        f'response_code="429"}}[{WINDOW}])) / sum(rate({ROUTER_HOP}[{WINDOW}]))',
        at,
    )
    whole = snap["aggregate"]
    assert whole["rate_429_ratio"] > 0
    assert whole["rate_429_ratio"] == pytest.approx(router_429, rel=1e-3)
    assert whole["rate_429_ratio"] == pytest.approx(expected.rate_429_ratio, abs=0.03)
    assert whole["rps"] == pytest.approx(rig.scalar(f"sum(rate({ROUTER_HOP}[{WINDOW}]))", at),
                                         rel=1e-3)  # fmt: skip
    # The rejected requests never reached a model: no model row has a 429, and together
    # the rows are the router's traffic less its 429s.
    assert all(m["rate_429_ratio"] == 0 for m in snap["models"])
    rows = sum(m["rps"] for m in snap["models"])
    assert rows == pytest.approx(whole["rps"] * (1 - router_429), rel=0.02)


# -- Envoy Gateway ------------------------------------------------------------------------


def test_envoy_gateway_one_row_per_model_through_its_route(rigs: dict[str, Rig]) -> None:
    rig = rigs["envoy_gateway/gpu-oom"]
    snap = rig.snapshot()
    sick = SCENARIOS["gpu-oom"].expected(FLEET).model

    assert snap["error"] is None
    assert "Envoy Gateway" in snap["stack"] and "vLLM" in snap["stack"]
    assert_one_row_per_model(snap, sick)
    assert snap["models"][0]["error_5xx_ratio"] == pytest.approx(0.20, abs=0.02)

    at = taken_at_unix(snap)
    w = WINDOW
    cluster = "envoy_cluster_name"
    errors = rig.by(
        cluster,
        f'sum by ({cluster}) (rate(envoy_cluster_upstream_rq_xx{{envoy_response_code_class="5"}}'
        f"[{w}])) / sum by ({cluster}) (rate(envoy_cluster_upstream_rq_xx[{w}]))",
        at,
    )
    p99 = rig.by(
        cluster,
        f"histogram_quantile(0.99, sum by ({cluster}, le) "
        f"(rate(envoy_cluster_upstream_rq_time_bucket[{w}]))) / 1000",
        at,
    )
    assert_rows_match(snap, models(errors, MODEL_OF_ROUTE), models(p99, MODEL_OF_ROUTE))
    every = rig.scalar(f"sum(rate(envoy_cluster_upstream_rq_xx[{w}]))", at)
    assert snap["aggregate"]["rps"] == pytest.approx(every, rel=1e-3)


# -- what the simulated fleet does not show: promtool -------------------------------------

PODS = (
    'group by (namespace, pod, warroom_model) (label_replace(vllm_num_requests_running, '
    '"warroom_model", "$1", "model_name", "(.+)"))'
)  # fmt: skip
"""The pod map as the vLLM adapter builds it, over the input series below."""
MODEL_POD = 'vllm_num_requests_running{model_name="m",namespace="ai",pod="vllm-m-5d4c3b2a1-x7k2p"}'


def run_rules_test(
    tmp_path: Path,
    input_series: Mapping[str, str],
    expr_tests: Sequence[tuple[str, Sequence[tuple[str, float]]]],
) -> None:
    """`promtool test rules` on ``expr_tests`` ((expr, [(labels, value)]) at 10m)."""
    spec = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [{"series": s, "values": v} for s, v in input_series.items()],
            "promql_expr_test": [
                {"expr": expr, "eval_time": "10m",
                 "exp_samples": [{"labels": lb, "value": v} for lb, v in samples]}
                for expr, samples in expr_tests
            ],
        }],
    }  # fmt: skip
    file = tmp_path / "rules_test.yaml"
    file.write_text(json.dumps(spec, indent=1), encoding="utf-8")
    done = subprocess.run([binary("promtool"), "test", "rules", str(file)],
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, f"promtool test rules failed:\n{done.stdout}\n{done.stderr}"


def test_envoy_gateway_route_that_joins_no_model_is_a_row_of_its_own(tmp_path: Path) -> None:
    q = Query(window="5m", pods=PODS)
    stack = EnvoyGateway()
    xx = "envoy_cluster_upstream_rq_xx"
    run_rules_test(
        tmp_path,
        {
            MODEL_POD: "1+0x10",
            # 2 + 1 requests/s on the model's route (two rules), 1/s of them 5xx.
            f'{xx}{{envoy_cluster_name="httproute/ai/vllm-m/rule/0",envoy_response_code_class="2"}}': "0+120x10",  # noqa: E501
            f'{xx}{{envoy_cluster_name="httproute/ai/vllm-m/rule/1",envoy_response_code_class="5"}}': "0+60x10",  # noqa: E501
            # A route named otherwise: its own row, nothing hidden. Not a route's cluster:
            # not read at all.
            f'{xx}{{envoy_cluster_name="httproute/web/shop/rule/0",envoy_response_code_class="2"}}': "0+240x10",  # noqa: E501
            f'{xx}{{envoy_cluster_name="some_static_cluster",envoy_response_code_class="2"}}': "0+600x10",  # noqa: E501
        },
        [
            (stack.requests(q), [('{warroom_model="m"}', 3), ('{warroom_model="web/shop"}', 4)]),
            (stack.errors(q), [('{warroom_model="m"}', 1), ('{warroom_model="web/shop"}', 0)]),
        ],
    )


def test_istio_sum_leaves_out_mesh_services_that_are_no_gateway(tmp_path: Path) -> None:
    q = Query(window="5m", pods=PODS)
    stack = Istio()

    def series(reporter: str, source: str, destination: str, code: str, ns: str = "ai") -> str:
        return (
            f'istio_requests_total{{reporter="{reporter}",source_workload="{source}",'
            f'source_workload_namespace="ai",destination_workload="{destination}",'
            f'destination_workload_namespace="{ns}",response_code="{code}"}}'
        )

    run_rules_test(
        tmp_path,
        {
            MODEL_POD: "1+0x10",
            # The router gets 4/s, answers 1/s of them 429 and forwards 3/s to the model.
            series("destination", "unknown", "router", "200"): "0+180x10",
            series("destination", "unknown", "router", "429"): "0+60x10",
            series("source", "router", "vllm-m", "200"): "0+180x10",
            series("destination", "router", "vllm-m", "200"): "0+180x10",
            # An unrelated mesh service in another namespace: not the API's traffic.
            series("destination", "unknown", "shop", "200", ns="web"): "0+600x10",
        },
        [
            (stack.requests(q), [('{warroom_model="m"}', 3)]),
            (stack.limited(q), [('{warroom_model="m"}', 0)]),
            (stack.totals(q)["requests"], [("{}", 4)]),
            (stack.totals(q)["limited"], [("{}", 1)]),
            (stack.totals(q)["errors"], [("{}", 0)]),
        ],
    )


@pytest.mark.parametrize("name", ["istio/gpu-oom", "envoy_gateway/gpu-oom"])
def test_every_gpu_has_its_model_and_the_cause_line_names_the_sick_ones(
    rigs: dict[str, Rig], name: str
) -> None:
    assert_gpus_and_cause(rigs[name].snapshot(), SCENARIOS["gpu-oom"].expected(FLEET).model)


@pytest.mark.parametrize(
    ("name", "stack"), [("istio/gpu-oom", "istio"), ("envoy_gateway/gpu-oom", "envoy_gateway")]
)
def test_discover_names_the_stacks_and_what_they_cannot_feed(
    rigs: dict[str, Rig], name: str, stack: str
) -> None:
    assert_discovered(rigs[name].prometheus.url, rigs[name].home, {stack, "vllm"})
