"""Three gateways that name the model their own way, end to end: LiteLLM
(``requested_model``), the Gateway API Inference Extension's endpoint picker
(``target_model_name``, its counts split over two counters and written under two names
at once) and ingress-nginx (no model at all: by Service, joined through the pod map).

Each rig is `warroom simulate --stack <gateway>,vllm,dcgm` scraped by a real Prometheus
as the real thing is scraped (one job per exporter, the controller's own target labels
where the Helm chart gives them), then `warroom snapshot --json` with no config at all,
so discovery has to find the gateway. Every figure checked against what Prometheus
computes from the exporter's own series with PromQL written here, independently of the
adapters. The PromQL of the awkward cases (a Service no model server answers, an EPP
writing old, current and llm-d names) runs through `promtool test rules` against
hand-written series.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import textwrap
from collections.abc import Callable, Iterator
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
    Job,
    PromServer,
    binary,
    scraping_simulator,
    snapshot_json,
    taken_at_unix,
    wait_for_scrapes,
)

from tui.config import MetricProfile, load_config
from tui.sim.fleet import build_fleet
from tui.sim.scenarios import SCENARIOS
from tui.sim.stacks.inference_extension import deployment
from tui.sources.prometheus import PrometheusSource
from tui.sources.stacks import build
from tui.sources.stacks.base import Query
from tui.sources.stacks.compose import pod_map

pytestmark = pytest.mark.prometheus

CLOSE = 0.10
FLEET = build_fleet(12)
MODELS = sorted(m.name for m in FLEET.models)
SICK = SCENARIOS["gpu-oom"].expected(FLEET).model
SERVICE_MODEL = {deployment(m.pods[0]): m.name for m in FLEET.models}
"""The simulated convention: each model's Service is named like its vLLM Deployment."""

LITELLM_POD = "litellm-5f7c9d8b6d-k8p2m"
EPP_POD = "vllm-epp-7b9c6d5f4-h2j8n"
NGINX_POD = "ingress-nginx-controller-6b8c9d7f5c-q2w8x"
SERVER_JOBS = (Job("vllm", "/metrics/vllm"), Job("dcgm-exporter", "/metrics/dcgm"))


@dataclass(frozen=True)
class Gateway:
    stack: str
    job: Job
    counter: str
    """A series every scrape writes, to wait on."""
    label: str
    """The label the independent PromQL groups by."""
    total_rps: str
    """Every request the gateway answered, per second, over all models."""
    total_5xx: str
    ratio_5xx: str
    p99: str
    model_of: Callable[[str], str] = lambda value: value


def _w(expr: str) -> str:
    return textwrap.dedent(expr).replace("\n", " ").replace("[W]", f"[{WINDOW}]")


GIE_ANSWERED = _w("""
    sum by (target_model_name) (rate(inference_objective_request_total[W]))
    + (sum by (target_model_name) (
         rate(inference_objective_request_error_total{error_code="ResourceExhausted"}[W]))
       or 0 * sum by (target_model_name) (rate(inference_objective_request_total[W])))
""")

GATEWAYS = {
    "litellm": Gateway(
        stack="litellm",
        job=Job("litellm", "/metrics/litellm", {"namespace": "litellm", "pod": LITELLM_POD}),
        counter='litellm_proxy_total_requests_metric_total{status_code="200"}',
        label="requested_model",
        total_rps=_w("sum(rate(litellm_proxy_total_requests_metric_total[W]))"),
        total_5xx=_w('sum(rate(litellm_proxy_total_requests_metric_total{status_code=~"5.."}[W]))'),
        ratio_5xx=_w("""
            sum by (requested_model)
              (rate(litellm_proxy_total_requests_metric_total{status_code=~"5.."}[W]))
            / sum by (requested_model) (rate(litellm_proxy_total_requests_metric_total[W]))
        """),
        p99=_w("""histogram_quantile(0.99, sum by (requested_model, le)
                  (rate(litellm_request_total_latency_metric_bucket[W])))"""),
    ),
    "inference_extension": Gateway(
        stack="inference_extension",
        job=Job("epp", "/metrics/inference_extension", {"namespace": "inference", "pod": EPP_POD}),
        counter="inference_objective_request_total",
        label="target_model_name",
        total_rps=f"sum({GIE_ANSWERED})",
        total_5xx=_w("""sum(rate(
            inference_objective_request_error_total{error_code="ModelServerError"}[W]))"""),
        ratio_5xx=_w("""
            sum by (target_model_name)
              (rate(inference_objective_request_error_total{error_code="ModelServerError"}[W]))
        """)
        + f" / ({GIE_ANSWERED})",
        p99=_w("""histogram_quantile(0.99, sum by (target_model_name, le)
                  (rate(inference_objective_request_duration_seconds_bucket[W])))"""),
    ),
    "ingress_nginx": Gateway(
        stack="ingress_nginx",
        # The chart's ServiceMonitor: honorLabels false, the controller pod as target.
        job=Job(
            "ingress-nginx",
            "/metrics/ingress_nginx",
            {"namespace": "ingress-nginx", "pod": NGINX_POD},
        ),
        counter='nginx_ingress_controller_requests{status="200"}',
        label="service",
        total_rps=_w("sum(rate(nginx_ingress_controller_requests[W]))"),
        total_5xx=_w('sum(rate(nginx_ingress_controller_requests{status=~"5.."}[W]))'),
        ratio_5xx=_w("""
            sum by (service) (rate(nginx_ingress_controller_requests{status=~"5.."}[W]))
            / sum by (service) (rate(nginx_ingress_controller_requests[W]))
        """),
        p99=_w("""histogram_quantile(0.99, sum by (service, le)
                  (rate(nginx_ingress_controller_request_duration_seconds_bucket[W])))"""),
        model_of=lambda service: SERVICE_MODEL[service],
    ),
}


@dataclass
class Rig:
    gateway: Gateway
    prometheus: PromServer
    home: Path
    snapshot: dict[str, Any]
    stacks: tuple[str, ...]

    def by_model(self, expr: str, at: float) -> dict[str, float]:
        g = self.gateway
        return {
            g.model_of(s["metric"][g.label]): float(s["value"][1])
            for s in self.prometheus.vector(expr, at)
        }

    def scalar(self, expr: str, at: float) -> float:
        found = self.prometheus.vector(expr, at)
        assert len(found) == 1, (expr, found)
        return float(found[0]["value"][1])


def discovered(url: str, home: Path) -> tuple[str, ...]:
    """The stacks the cockpit's own source picks from this Prometheus, with no config."""
    config = load_config(
        None, env={"XDG_CONFIG_HOME": str(home)},
        flags={("prometheus", "url"): url, ("window",): WINDOW},
    )  # fmt: skip

    async def refresh() -> tuple[str, ...]:
        source = PrometheusSource(config)
        try:
            await source.refresh()
            return source.stacks
        finally:
            await source.aclose()

    return asyncio.run(refresh())


@pytest.fixture(scope="module")
def rigs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Rig]]:
    """One simulator and one Prometheus per gateway, all started before any is waited on."""
    with ExitStack() as stack:
        servers: dict[str, tuple[PromServer, Path]] = {}
        for name, g in GATEWAYS.items():
            home = tmp_path_factory.mktemp(name)
            args = ("--scenario", "gpu-oom", "--at", AT, "--speed", str(SPEED),
                    "--stack", f"{g.stack},vllm,dcgm")  # fmt: skip
            server = stack.enter_context(
                scraping_simulator(home, *args, jobs=(g.job, *SERVER_JOBS))
            )
            servers[name] = (server, home)
        rigs: dict[str, Rig] = {}
        for name, (server, home) in servers.items():
            g = GATEWAYS[name]
            wait_for_scrapes(server, MIN_SCRAPES, WINDOW, metric=g.counter)
            snap = snapshot_json(server.url, "--window", WINDOW, home=home)
            rigs[name] = Rig(g, server, home, snap, discovered(server.url, home))
        yield rigs


@pytest.fixture(params=list(GATEWAYS))
def rig(request: pytest.FixtureRequest, rigs: dict[str, Rig]) -> Rig:
    return rigs[request.param]


def test_discovery_picks_the_gateway_beside_vllm(rig: Rig) -> None:
    assert rig.gateway.stack in rig.stacks
    assert "vllm" in rig.stacks
    # Nothing else claims these series: no generic gateway, no second reading of them.
    assert set(rig.stacks) == {rig.gateway.stack, "vllm"}, rig.stacks


def test_one_row_per_served_model_and_the_sick_one_first(rig: Rig) -> None:
    snap = rig.snapshot
    assert snap["error"] is None and snap["stale"] is False
    assert sorted(m["model"] for m in snap["models"]) == MODELS
    assert snap["models"][0]["model"] == SICK
    # The gateway speaks for the sick model's 5xx: vLLM's engine counts no status.
    assert snap["models"][0]["error_5xx_ratio"] == pytest.approx(0.20, abs=0.05)
    assert max(m["error_5xx_ratio"] for m in snap["models"][1:]) < 0.02


def test_every_gpu_has_its_model_and_the_cause_line_names_the_sick_ones(rig: Rig) -> None:
    assert_gpus_and_cause(rig.snapshot, SICK)


def test_discover_names_the_gateway_and_vllm(rig: Rig) -> None:
    assert_discovered(rig.prometheus.url, rig.home, {rig.gateway.stack, "vllm"})


def test_sick_model_agrees_with_prometheus(rig: Rig) -> None:
    snap = rig.snapshot
    at = taken_at_unix(snap)
    sick = snap["models"][0]
    assert sick["model"] == SICK
    errors = rig.by_model(rig.gateway.ratio_5xx, at)
    p99 = rig.by_model(rig.gateway.p99, at)
    assert sick["error_5xx_ratio"] == pytest.approx(errors[SICK], rel=CLOSE)
    assert sick["p99_s"] == pytest.approx(p99[SICK], rel=CLOSE)
    # Every row's p99 is the gateway's histogram's (the server's would differ).
    for m in snap["models"]:
        assert m["p99_s"] == pytest.approx(p99[m["model"]], rel=CLOSE), m["model"]


def test_the_whole_api_is_counted_once(rig: Rig) -> None:
    """Σ is the gateway's own total: not doubled by a second name or a second hop, not
    the model servers' (which never see a rejected request)."""
    snap = rig.snapshot
    at = taken_at_unix(snap)
    total = rig.scalar(rig.gateway.total_rps, at)
    assert snap["aggregate"]["rps"] == pytest.approx(total, rel=0.01)
    assert sum(m["rps"] for m in snap["models"]) == pytest.approx(total, rel=0.01)
    errors = rig.scalar(rig.gateway.total_5xx, at) / total
    assert snap["aggregate"]["error_5xx_ratio"] == pytest.approx(errors, rel=CLOSE)


def test_the_simulated_exporters_keep_their_awkward_shapes(rigs: dict[str, Rig]) -> None:
    """What makes the adapters' PromQL necessary is really there."""
    epp, nginx = rigs["inference_extension"].prometheus, rigs["ingress_nginx"].prometheus
    # llm-d-router's EPP writes every count twice, under two names.
    legacy = epp.vector("sum(inference_objective_request_total)")
    llm_d = epp.vector("sum(llm_d_router_epp_request_total)")
    assert legacy and llm_d and legacy[0]["value"][1] == llm_d[0]["value"][1]
    # honorLabels false: the Ingress's namespace moved to exported_namespace.
    assert nginx.vector(
        'count(nginx_ingress_controller_requests{namespace="ingress-nginx",'
        'exported_namespace="inference"})'
    )
    # LiteLLM's le spelling is prometheus-client's: "1.0", not "1".
    assert rigs["litellm"].prometheus.vector(
        'count(litellm_request_total_latency_metric_bucket{le="1.0"})'
    )


# -- the PromQL of the awkward cases, on hand-written series (promtool test rules) -----


def _promtool(tmp_path: Path, series: list[tuple[str, str]],
              checks: list[tuple[str, dict[str, float]]]) -> None:  # fmt: skip
    """Evaluate each expression at 10m over ``series`` (selector, promtool values) and
    compare with ``{warroom_model: value}``."""
    tests: dict[str, Any] = {
        "interval": "1m",
        "input_series": [{"series": s, "values": v} for s, v in series],
        "promql_expr_test": [
            {
                "expr": expr,
                "eval_time": "10m",
                "exp_samples": [
                    {"labels": f'{{warroom_model="{model}"}}', "value": value}
                    for model, value in expected.items()
                ],
            }
            for expr, expected in checks
        ],
    }
    file = tmp_path / "test.yml"
    # JSON is YAML: no quoting rules to get wrong in the PromQL.
    file.write_text(json.dumps({"evaluation_interval": "1m", "tests": [tests]}))
    done = subprocess.run([binary("promtool"), "test", "rules", str(file)],
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def _query() -> Query:
    vllm = build(["vllm"], MetricProfile())
    return Query(window="5m", pods=pod_map(vllm))


PER_SECOND = "0+60x10"
"""A counter growing 1 per second, sampled every minute."""


def test_ingress_nginx_joins_services_and_keeps_the_rest(tmp_path: Path) -> None:
    (nginx,) = build(["ingress_nginx"], MetricProfile())
    q = _query()
    pod = 'vllm:num_requests_running{model_name="model-a",namespace="inference",'
    scraped = 'namespace="ingress-nginx",exported_namespace='
    series = [
        (pod + 'pod="vllm-model-a-7d9f8b6c5d-x2x9k"}', "1x10"),
        (pod + 'pod="vllm-model-a-7d9f8b6c5d-p4k7q"}', "1x10"),
        # Two controller pods' series for the model's Service: one row, summed.
        (f'nginx_ingress_controller_requests{{{scraped}"inference",service="vllm-model-a",'
         'status="200",controller_pod="c1"}', PER_SECOND),
        (f'nginx_ingress_controller_requests{{{scraped}"inference",service="vllm-model-a",'
         'status="503",controller_pod="c2"}', "0+30x10"),
        # A Service no model server answers: its own row.
        (f'nginx_ingress_controller_requests{{{scraped}"tools",service="open-webui",'
         'status="200"}', "0+120x10"),
        # The same Service name in another namespace is another Service: not the model's.
        (f'nginx_ingress_controller_requests{{{scraped}"staging",service="vllm-model-a",'
         'status="429"}', PER_SECOND),
        # Scraped with honorLabels true: the Ingress's namespace is `namespace` itself.
        ('nginx_ingress_controller_requests{namespace="inference",service="vllm-model-a",'
         'status="200",controller_pod="c3"}', PER_SECOND),
        # The default backend (no Service): no row.
        (f'nginx_ingress_controller_requests{{{scraped}"",service="",status="404"}}',
         "0+600x10"),
    ]  # fmt: skip
    _promtool(tmp_path, series, [
        (nginx.requests(q), {"model-a": 2.5, "open-webui": 2.0, "vllm-model-a": 1.0}),
        (nginx.errors(q), {"model-a": 0.5, "open-webui": 0.0, "vllm-model-a": 0.0}),
        (nginx.limited(q), {"model-a": 0.0, "open-webui": 0.0, "vllm-model-a": 1.0}),
    ])  # fmt: skip


def test_inference_extension_counts_each_request_once_whatever_the_names(
    tmp_path: Path,
) -> None:
    (epp,) = build(["inference_extension"], MetricProfile())
    q = _query()
    a = 'job="epp",instance="a",model_name="m1",target_model_name="m1"'
    series = [
        # llm-d-router: the deprecated and the new name, the same counts.
        (f'inference_objective_request_total{{{a},priority="0"}}', PER_SECOND),
        (f'llm_d_router_epp_request_total{{{a},priority="0"}}', PER_SECOND),
        (f'inference_objective_request_error_total{{{a},error_code="ModelServerError"}}',
         "0+15x10"),
        (f'llm_d_router_epp_request_error_total{{{a},error_code="ModelServerError"}}',
         "0+15x10"),
        # Shed by the EPP: answered 429, never in request_total.
        (f'inference_objective_request_error_total{{{a},error_code="ResourceExhausted"}}',
         "0+30x10"),
        (f'llm_d_router_epp_request_error_total{{{a},error_code="ResourceExhausted"}}',
         "0+30x10"),
        # An older EPP: inference_model_*, no priority label.
        ('inference_model_request_total{job="epp",instance="b",model_name="m2",'
         'target_model_name="m2"}', "0+120x10"),
        # A future llm-d-router with the old names gone; a request with no target.
        ('llm_d_router_epp_request_total{job="epp",instance="c",model_name="m3",'
         'priority="0"}', PER_SECOND),
        ('llm_d_router_epp_request_error_total{job="epp",instance="c",model_name="m3",'
         'error_code="ServiceUnavailable"}', "0+7.5x10"),
    ]  # fmt: skip
    _promtool(tmp_path, series, [
        (epp.requests(q), {"m1": 1.5, "m2": 2.0, "m3": 1.125}),
        (epp.errors(q), {"m1": 0.25, "m2": 0.0, "m3": 0.125}),
        (epp.limited(q), {"m1": 0.5, "m2": 0.0, "m3": 0.0}),
    ])  # fmt: skip
