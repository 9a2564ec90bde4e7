"""Model servers read from their own exporters, end to end: `warroom simulate --stack …`
writing vLLM's HTTP server, SGLang or TGI as upstream spells them, Debian's Prometheus
scraping it, `warroom snapshot --json` reading it with no config (discovery picks the
stacks), and hand-written PromQL over the same series as the referee.

One rig per fleet, all under the gpu-oom scenario at full strength (its sick model is
the fleet's index 11, which SGLang serves whenever SGLang shares the fleet):

- ``vllm_http``: vLLM's engine and its HTTP server, no gateway at all: 5xx only from the
  HTTP server's status classes, joined to the model through the pod; no 429 source;
- ``mixed``: the generic gateway in front of vLLM and SGLang splitting the fleet;
- ``tgi``: TGI alone, no model label anywhere: the model is the pod's Deployment;
- ``underscore``: vLLM and SGLang spelled ``vllm_``/``sglang_`` (prometheus-client >=
  0.23 under OpenMetrics), behind vLLM's HTTP server.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
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
    scraping_simulator,
    snapshot_json,
    taken_at_unix,
    wait_for_scrapes,
)

from tui.sim.fleet import build_fleet
from tui.sim.scenarios import SCENARIOS
from tui.sim.stacks.serving import served
from tui.sources.stacks.base import POD_NAME_OF_DEPLOYMENT

pytestmark = pytest.mark.prometheus

SCENARIO = "gpu-oom"
RELATIVE = 0.10
"""The snapshot's 5xx against Prometheus's own figure: within 10 %."""
STACKS = {
    "vllm_http": "vllm_http,vllm,dcgm",
    "mixed": "vllm,sglang,generic,dcgm",
    "tgi": "tgi,dcgm",
    "underscore": "vllm_http,vllm-underscore,sglang-underscore,dcgm",
}

FLEET = build_fleet()
SICK = SCENARIOS[SCENARIO].expected(FLEET).model


def deployment(pod: str) -> str:
    found = re.fullmatch(POD_NAME_OF_DEPLOYMENT, pod)
    assert found, pod
    return found.group(1)


def pods_of(model: str) -> str:
    """A regex matching every pod of ``model`` (pod names need no escaping)."""
    pods = FLEET.model(model).pods
    assert all(re.fullmatch("[a-z0-9-]+", p) for p in pods)
    return "|".join(pods)


@dataclass
class Rig:
    name: str
    prometheus: PromServer
    home: Path
    _snapshots: dict[tuple[str, ...], dict[str, Any]] = field(default_factory=dict)

    def snapshot(self, *extra: str) -> dict[str, Any]:
        """`warroom snapshot --json` against this rig with a clean environment and no
        config file (discovery unless ``extra`` names stacks); one run per ``extra``."""
        if extra not in self._snapshots:
            self._snapshots[extra] = snapshot_json(
                self.prometheus.url, "--window", WINDOW, *extra, home=self.home
            )
        return self._snapshots[extra]

    def scalar(self, expr: str, at: float) -> float:
        result = self.prometheus.vector(expr, at)
        assert len(result) == 1, (expr, result)
        return float(result[0]["value"][1])


@pytest.fixture(scope="module")
def rigs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Rig]]:
    """Every rig started together (each Prometheus fills while the others start), then
    each waited on until its window holds MIN_SCRAPES scrapes."""
    with ExitStack() as stack:
        rigs: dict[str, Rig] = {}
        for name, stacks in STACKS.items():
            home = tmp_path_factory.mktemp(name)
            args = ("--scenario", SCENARIO, "--at", AT, "--speed", str(SPEED), "--stack", stacks)
            server = stack.enter_context(scraping_simulator(home, *args))
            rigs[name] = Rig(name, server, home)
        for rig in rigs.values():
            wait_for_scrapes(rig.prometheus, MIN_SCRAPES, WINDOW, metric="up")
        yield rigs


def rows(snapshot: dict[str, Any]) -> dict[str, dict[str, Any]]:
    names = [m["model"] for m in snapshot["models"]]
    assert len(names) == len(set(names)), names
    return {m["model"]: m for m in snapshot["models"]}


def served_by(stacks: str, family: str) -> frozenset[str]:
    return served(FLEET, tuple(stacks.split(",")))[family]


# -- the fleets are split as the rule says -------------------------------------------------


def test_the_split_rule_gives_sglang_every_third_model() -> None:
    names = [m.name for m in FLEET.models]
    split = served(FLEET, ("vllm", "sglang", "generic", "dcgm"))
    assert split["sglang"] == {names[i] for i in (2, 5, 8, 11)}
    assert split["vllm"] == set(names) - split["sglang"]
    assert names[11] == SICK
    three = served(FLEET, ("tgi", "vllm", "sglang"))
    assert three["vllm"] == {names[i] for i in (2, 5, 8, 11)}
    assert three["sglang"] == {names[i] for i in (1, 4, 7, 10)}
    assert served(FLEET, ("generic", "vllm", "dcgm")) == {"vllm": frozenset(names)}


def test_the_default_stack_writes_what_it_wrote_before_the_split() -> None:
    """One model server (the default ``generic,vllm,dcgm``): every emitter sees the whole
    fleet, so ``/metrics`` is byte for byte what the emitters write unsplit."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.registry import Collector

    from tui.sim.engine import Engine
    from tui.sim.exporter import FleetCollector
    from tui.sim.scenarios import scenario
    from tui.sim.stacks import DEFAULT_STACK, Reading, emitters

    def engine() -> Engine:
        e = Engine(build_fleet(), scenario(SCENARIO), start_s=600.0)
        e.advance(660.0)
        return e

    split = CollectorRegistry(auto_describe=False)
    split.register(FleetCollector(engine(), lambda: 660.0, DEFAULT_STACK, threading.Lock()))

    class Unsplit(Collector):
        def collect(self):  # type: ignore[no-untyped-def]
            e = engine()
            r = Reading(e.fleet, e.scenario, e.sample(), e.pods(), e.gpus(), e.in_flight())
            for name in DEFAULT_STACK:
                yield from emitters()[name](r)

    whole = CollectorRegistry(auto_describe=False)
    whole.register(Unsplit())
    assert generate_latest(split) == generate_latest(whole)


# -- one row per served model, the sick one on top, its 5xx as Prometheus computes it ------


def test_vllm_http_server_alone_feeds_5xx_through_the_pods(rigs: dict[str, Rig]) -> None:
    rig = rigs["vllm_http"]
    snap = rig.snapshot()
    assert snap["error"] is None
    models = rows(snap)
    assert set(models) == {m.name for m in FLEET.models}
    top = snap["models"][0]
    assert top["model"] == SICK

    # The referee: every 5xx the sick model's pods answered over every request they did.
    pods = pods_of(SICK)
    at = taken_at_unix(snap)
    truth = rig.scalar(
        f'sum(rate(http_requests_total{{status="5xx",pod=~"{pods}"}}[{WINDOW}])) / '
        f'sum(rate(http_requests_total{{handler!="",pod=~"{pods}"}}[{WINDOW}]))',
        at,
    )
    assert truth == pytest.approx(0.20, abs=0.03)
    assert top["error_5xx_ratio"] == pytest.approx(truth, rel=RELATIVE)
    # Every model has a 5xx figure (0 where none), and none has a 429 source: a "4xx"
    # class cannot tell a 429 from a 400.
    assert all(m["error_5xx_ratio"] is not None for m in models.values())
    assert max(m["error_5xx_ratio"] for m in snap["models"][1:]) < 0.01
    assert all(m["rate_429_ratio"] is None for m in models.values())
    assert snap["aggregate"]["rate_429_ratio"] is None
    # vLLM's engine beside it: TTFT and queue for every model.
    assert all(m["ttft_p99_s"] is not None and m["queue_depth"] is not None
               for m in models.values())  # fmt: skip
    assert top["queue_depth"] >= 6


def test_vllm_http_p99_past_its_1s_top_bucket_is_a_lower_bound(rigs: dict[str, Rig]) -> None:
    """Read alone (the engine's finer histogram would otherwise speak for latency), the
    HTTP server's p99 is the 1 s bound, flagged, exactly where more than 1 % of the
    model's requests took longer than 1 s."""
    rig = rigs["vllm_http"]
    snap = rig.snapshot("--stack", "vllm_http")
    models = rows(snap)
    assert set(models) == {m.name for m in FLEET.models}
    at = taken_at_unix(snap)
    flagged = 0
    for model in FLEET.models:
        pods = pods_of(model.name)

        def bucket(le: str, pods: str = pods) -> str:
            return (
                f'sum(rate(http_request_duration_seconds_bucket{{le="{le}",pod=~"{pods}"}}'
                f"[{WINDOW}]))"
            )

        past = 1 - rig.scalar(bucket("1.0"), at) / rig.scalar(bucket("+Inf"), at)
        row = models[model.name]
        if past > 0.012:
            flagged += 1
            assert "p99_s" in row["beyond"], (model.name, past)
            assert row["p99_s"] == pytest.approx(1.0)
        elif past < 0.008:
            assert "p99_s" not in row["beyond"], (model.name, past)
            assert row["p99_s"] < 1.0
        assert row["ttft_p99_s"] is None  # the HTTP server has no TTFT
        assert row["rate_429_ratio"] is None
    assert flagged >= 3
    assert snap["models"][0]["model"] == SICK


def test_mixed_vllm_and_sglang_fleet_behind_a_gateway(rigs: dict[str, Rig]) -> None:
    rig = rigs["mixed"]
    snap = rig.snapshot()
    assert snap["error"] is None
    models = rows(snap)
    assert set(models) == {m.name for m in FLEET.models}
    assert SICK in served_by(STACKS["mixed"], "sglang")
    top = snap["models"][0]
    assert top["model"] == SICK
    at = taken_at_unix(snap)
    truth = rig.scalar(
        f'sum(rate(http_requests_total{{model="{SICK}",status_code=~"5.."}}[{WINDOW}])) / '
        f'sum(rate(http_requests_total{{model="{SICK}"}}[{WINDOW}]))',
        at,
    )
    assert top["error_5xx_ratio"] == pytest.approx(truth, rel=RELATIVE)
    # TTFT and queue from whichever server runs the model: SGLang's or vLLM's.
    for m in models.values():
        assert m["ttft_p99_s"] is not None, m["model"]
        assert m["queue_depth"] is not None, m["model"]
        assert m["kv_cache_ratio"] is not None, m["model"]
    assert top["queue_depth"] >= 6


def test_sglang_status_codes_feed_5xx_and_429_without_a_gateway(rigs: dict[str, Rig]) -> None:
    """The same mixed fleet read without its gateway: SGLang's own HTTP counter (exact
    codes, no model label) speaks for its models' 5xx and 429, through the pods."""
    rig = rigs["mixed"]
    snap = rig.snapshot("--stack", "vllm,sglang")
    models = rows(snap)
    assert set(models) == {m.name for m in FLEET.models}
    top = snap["models"][0]
    assert top["model"] == SICK
    pods = pods_of(SICK)
    truth = rig.scalar(
        f'sum(rate(sglang:http_responses_total{{status_code=~"5..",pod=~"{pods}"}}[{WINDOW}]))'
        f' / sum(rate(sglang:http_responses_total{{pod=~"{pods}"}}[{WINDOW}]))',
        taken_at_unix(snap),
    )
    assert truth == pytest.approx(0.20, abs=0.03)
    assert top["error_5xx_ratio"] == pytest.approx(truth, rel=RELATIVE)
    for name in served_by(STACKS["mixed"], "sglang"):
        # Exact codes: a 429 source that saw none reads 0, not "no source".
        assert models[name]["rate_429_ratio"] == 0.0
        assert models[name]["p99_s"] is not None and models[name]["ttft_p99_s"] is not None
    for name in served_by(STACKS["mixed"], "vllm"):
        # vLLM's engine counts no HTTP status at all.
        assert models[name]["error_5xx_ratio"] is None


def test_tgi_models_are_named_by_their_deployment(rigs: dict[str, Rig]) -> None:
    rig = rigs["tgi"]
    snap = rig.snapshot()
    assert snap["error"] is None
    models = rows(snap)
    by_deployment = {deployment(m.pods[0]): m.name for m in FLEET.models}
    assert set(models) == set(by_deployment)
    sick = deployment(FLEET.model(SICK).pods[0])
    top = snap["models"][0]
    assert top["model"] == sick
    pods = pods_of(SICK)
    truth = rig.scalar(
        f'sum(rate(tgi_request_failure{{err=~"generation|incomplete",pod=~"{pods}"}}'
        f"[{WINDOW}])) / "
        f'sum(rate(tgi_request_count{{pod=~"{pods}"}}[{WINDOW}]))',
        taken_at_unix(snap),
    )
    assert truth == pytest.approx(0.20, abs=0.03)
    assert top["error_5xx_ratio"] == pytest.approx(truth, rel=RELATIVE)
    for m in models.values():
        assert m["ttft_p99_s"] is None  # TGI exports no time to first token
        assert m["queue_depth"] is not None
        assert m["rate_429_ratio"] == 0.0  # "overloaded" is its 429: none here
        assert m["p99_s"] is not None and m["kv_cache_ratio"] is not None
    assert top["queue_depth"] >= 6
    # The GPUs find their model through the same pod map.
    gpu_models = {g.get("model") for g in snap["gpus"]}
    assert sick in gpu_models


def test_underscore_spellings_read_like_colons(rigs: dict[str, Rig]) -> None:
    rig = rigs["underscore"]
    # What Prometheus holds is the underscore spelling only.
    assert rig.prometheus.vector("count({__name__=~'vllm:.+|sglang:.+'})") == []
    assert rig.prometheus.vector("count(vllm_num_requests_running)")
    assert rig.prometheus.vector("count(sglang_num_running_reqs)")
    snap = rig.snapshot()
    models = rows(snap)
    assert set(models) == {m.name for m in FLEET.models}
    top = snap["models"][0]
    assert top["model"] == SICK
    pods = pods_of(SICK)
    truth = rig.scalar(
        f'sum(rate(sglang_http_responses_total{{status_code=~"5..",pod=~"{pods}"}}[{WINDOW}]))'
        f' / sum(rate(sglang_http_responses_total{{pod=~"{pods}"}}[{WINDOW}]))',
        taken_at_unix(snap),
    )
    assert top["error_5xx_ratio"] == pytest.approx(truth, rel=RELATIVE)
    for m in models.values():
        assert m["ttft_p99_s"] is not None, m["model"]
        assert m["queue_depth"] is not None, m["model"]
        assert m["kv_cache_ratio"] is not None, m["model"]
        assert m["error_5xx_ratio"] is not None, m["model"]
    for name in served_by(STACKS["underscore"], "vllm"):
        # vLLM's HTTP server joins through the pods the underscore gauges name.
        assert models[name]["rate_429_ratio"] is None


@pytest.mark.parametrize("name", ["vllm_http", "mixed", "tgi", "underscore"])
def test_every_gpu_has_its_model_and_the_cause_line_names_the_sick_ones(
    rigs: dict[str, Rig], name: str
) -> None:
    sick = deployment(FLEET.model(SICK).pods[0]) if name == "tgi" else SICK
    assert_gpus_and_cause(rigs[name].snapshot(), sick)


DISCOVERED = {
    "vllm_http": ({"vllm", "vllm_http"}, {"rate_429_ratio"}),
    "mixed": ({"generic", "vllm", "sglang"}, set()),
    "tgi": ({"tgi"}, {"ttft_p99_s"}),
    "underscore": ({"vllm", "vllm_http", "sglang"}, set()),
}
"""What `warroom discover` must name in each rig, and the figures nothing there feeds."""


@pytest.mark.parametrize("name", list(DISCOVERED))
def test_discover_names_the_stacks_and_what_they_cannot_feed(
    rigs: dict[str, Rig], name: str
) -> None:
    stacks, no_source = DISCOVERED[name]
    assert_discovered(rigs[name].prometheus.url, rigs[name].home, stacks, no_source)


def test_ttft_and_queue_agree_with_prometheus_for_both_servers(rigs: dict[str, Rig]) -> None:
    """The mixed fleet: the sick model's SGLang and the busiest vLLM model, each server's
    TTFT p99 and queue against PromQL written here from the raw series."""
    rig = rigs["mixed"]
    snap = rig.snapshot()
    models = rows(snap)
    at = taken_at_unix(snap)
    busiest = max(served_by(STACKS["mixed"], "vllm"), key=lambda n: FLEET.model(n).share)
    assert SICK in served_by(STACKS["mixed"], "sglang")
    for model, prefix in ((SICK, "sglang"), (busiest, "vllm")):
        pods = pods_of(model)
        ttft = rig.scalar(
            f"histogram_quantile(0.99, sum by (le) (rate({prefix}:time_to_first_token_seconds"
            f'_bucket{{pod=~"{pods}"}}[{WINDOW}])))',
            at,
        )
        waiting = "num_queue_reqs" if prefix == "sglang" else "num_requests_waiting"
        queue = rig.scalar(f'sum({prefix}:{waiting}{{pod=~"{pods}"}})', at)
        assert models[model]["ttft_p99_s"] == pytest.approx(ttft, rel=RELATIVE), model
        assert models[model]["queue_depth"] == pytest.approx(queue, rel=RELATIVE, abs=1), model
