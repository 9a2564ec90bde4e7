"""`warroom discover`: the stacks a Prometheus holds, what feeds each pane figure, the
pitfalls seen in the data, and the config that pins the choice.

Unit tests answer the two queries from canned vectors (`canned_prometheus`: httpx's
MockTransport behind the real `PrometheusSource`); end-to-end tests run the command
against Debian's Prometheus scraping `warroom simulate`, once with the default stack in
one job and once with dcgm-exporter scraped as its Helm chart does
(``honorLabels: false``).
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from canned_prometheus import Canned, config, healthy_checks, run
from promserver import Job, PromServer, clean_env, free_port, run_warroom, scraping_simulator

from tui.cli.discover import (
    Discovery,
    _coarse,
    discover,
    discover_json,
    discover_text,
    printable,
)
from tui.config import Config, MetricProfile
from tui.errors import SourceError
from tui.sources.prometheus import PrometheusSource
from tui.sources.stacks import adapter_names
from tui.sources.stacks import build as build_stacks
from tui.sources.stacks.base import Buckets, Query, Stack
from tui.sources.stacks.discover import (
    families,
    feeds,
    probe_query,
    scan_query,
    selectors,
)

HOSTILE = "\x1b]0;owned\x07\x1b[2J\x9b31m\u202eevil\n"


def kinds(d: Discovery) -> dict[str, str]:
    return {p.kind: p.level for p in d.pitfalls}


# -- stacks, figures, the pin ----------------------------------------------------------


def test_two_requests_and_the_probe_is_the_cockpits() -> None:
    canned = Canned({"generic": 48, "vllm": 40}, healthy_checks())
    d = run(canned)
    assert d.requests == 2
    assert canned.sent is not None and len(canned.sent) == 2
    # The same probe the cockpit sends (`PrometheusSource._discover`), over the registry.
    cfg = config()
    assert canned.sent[0] == probe_query(build_stacks(adapter_names(), cfg.metrics))
    assert d.names == ("generic", "vllm")
    assert d.chosen_by == "discovered"
    assert [(f.name, f.series) for f in d.found] == [("generic", 48), ("vllm", 40)]
    # Every registered adapter is accounted for: new ones land here with no change.
    assert {f.name for f in d.found} | set(d.not_found) == set(adapter_names())


def test_default_stacks_feed_every_figure_gateway_first() -> None:
    d = run(Canned({"generic": 48, "vllm": 40}, healthy_checks()))
    assert d.no_source == ()
    assert d.pitfalls == ()
    out = discover_json(d)
    figures = {f["figure"]: f["sources"] for f in out["figures"]}
    assert [(s["stack"], s["role"]) for s in figures["requests"]] == [
        ("generic", "reads"),
        ("vllm", "fallback"),
    ]
    # vLLM's latency is not read where the gateway reports latency: no fallback.
    assert [(s["stack"], s["role"]) for s in figures["latency"]] == [("generic", "reads")]
    assert figures["errors"][0]["families"] == ["http_requests_total"]
    assert [s["stack"] for s in figures["ttft"]] == ["vllm"]
    assert figures["kv_cache"][0]["families"] == [
        "vllm:kv_cache_usage_perc",
        "vllm:gpu_cache_usage_perc",
    ]
    assert out["titles"] == ["gateway", "vLLM"]
    assert out["gpus"] == 48
    text = discover_text(d)
    assert "Reading: gateway · vLLM (generic, vllm; found in Prometheus" in text
    assert "Every figure has a source." in text
    assert "  none seen" in text


def test_pinned_stack_names_the_figures_with_no_source() -> None:
    d = run(Canned({"generic": 48, "vllm": 40}, healthy_checks()), config(stacks=["vllm"]))
    assert d.chosen_by == "config"
    assert d.names == ("vllm",)
    assert d.no_source == ("error_5xx_ratio", "rate_429_ratio")
    out = discover_json(d)
    assert out["no_source"] == ["error_5xx_ratio", "rate_429_ratio"]
    assert {f["figure"]: f["sources"] for f in out["figures"]}["errors"] == []
    text = discover_text(d)
    assert "  5xx                  no source" in text
    assert "  429                  no source" in text
    assert "No source for 5xx, 429: the panes show it as no source, never 0 %." in text


def test_the_no_source_answer_is_the_fold_s() -> None:
    """The figures said to have no source are the ones the cockpit shows as such."""
    cfg = config(stacks=["vllm"])
    d = run(Canned({"vllm": 40}, healthy_checks()), cfg)
    source = PrometheusSource(cfg)
    asyncio.run(source.aclose())
    assert set(d.no_source) == source._unsourced
    assert source.stacks == d.names


def test_pin_snippet_flag_and_env() -> None:
    d = run(Canned({"generic": 48, "vllm": 40}, healthy_checks()))
    out = discover_json(d)
    assert out["pin"] == {
        "toml": '[metrics]\nstacks = ["generic", "vllm"]\n',
        "flag": "--stack generic,vllm",
        "env": "WARROOM_STACK=generic,vllm",
    }
    text = discover_text(d)
    assert '  [metrics]\n  stacks = ["generic", "vllm"]\n' in text
    assert "--stack generic,vllm" in text and "WARROOM_STACK=generic,vllm" in text
    # The snippet is a config warroom reads back to the same stacks.
    import tomllib

    pinned = MetricProfile.model_validate(tomllib.loads(out["pin"]["toml"])["metrics"])
    assert pinned.stacks == ("generic", "vllm") and not pinned.discovered


def test_nothing_found_reads_the_default_and_says_so() -> None:
    d = run(Canned({}, {}))
    assert d.chosen_by == "fallback"
    assert d.names == ("generic", "vllm")
    assert kinds(d)["no_stack"] == "warning"
    assert "no_gpus" in kinds(d)
    assert "Stacks found\n  none\n" in discover_text(d)


def test_a_pinned_stack_without_series_is_a_pitfall() -> None:
    d = run(Canned({"vllm": 40}, healthy_checks()), config(stacks=["generic", "vllm"]))
    assert kinds(d)["pinned_absent"] == "warning"
    (p,) = [p for p in d.pitfalls if p.kind == "pinned_absent"]
    assert p.sentence.startswith("The config names generic but Prometheus holds none")


# -- pitfalls --------------------------------------------------------------------------


def test_dcgm_scraped_without_honor_labels() -> None:
    checks = {**healthy_checks(), "dcgm_exported": [({"job": "gpu-operator/dcgm"}, 48)]}
    d = run(Canned({"generic": 48, "vllm": 40}, checks))
    (p,) = d.pitfalls
    # Information, not a warning: warroom reads the exported labels itself.
    assert p.kind == "dcgm_honor_labels" and p.level == "info"
    assert "job gpu-operator/dcgm" in p.sentence and "honorLabels: true" in p.sentence
    assert "exported_pod" in p.sentence and "still tied to its model" in p.sentence


def test_istio_double_counting_names_the_gateway_workload() -> None:
    hop = {"destination_workload": "llm-router", "destination_workload_namespace": "gw"}
    checks = {**healthy_checks(), "istio_hops": [(hop, 1)]}
    d = run(Canned({"generic": 48, "vllm": 40}, checks))
    (p,) = d.pitfalls
    assert p.kind == "istio_double_count" and p.level == "warning"
    assert "gw/llm-router" in p.sentence and "twice" in p.sentence


@pytest.mark.skipif("istio" not in adapter_names(), reason="no istio adapter registered")
def test_istio_double_counting_is_only_informative_when_the_istio_stack_reads() -> None:
    hop = {"destination_workload": "llm-router", "destination_workload_namespace": "gw"}
    checks = {**healthy_checks(), "istio_hops": [(hop, 1)]}
    d = run(Canned({"istio": 30, "vllm": 40}, checks))
    assert "istio" in d.names
    assert kinds(d)["istio_double_count"] == "info"


def test_a_latency_histogram_coarser_than_the_slo() -> None:
    checks = healthy_checks()
    checks["buckets/generic/latency"] = [
        ({"__name__": "http_request_duration_seconds_bucket", "le": le}, 12)
        for le in ("0.1", "0.5", "1.0", "+Inf")
    ]
    d = run(Canned({"generic": 48, "vllm": 40}, checks))
    (p,) = d.pitfalls
    assert p.kind == "coarse_histogram"
    assert "http_request_duration_seconds_bucket tops out at 1 s" in p.sentence
    assert "below the 5 s p99 SLO" in p.sentence
    # A looser SLO is met by the same buckets.
    loose = config()
    loose = loose.model_copy(update={"slo": loose.slo.model_copy(update={"p99_s": 1.0})})
    assert run(Canned({"generic": 48, "vllm": 40}, checks), loose).pitfalls == ()


def test_a_ttft_histogram_coarser_than_its_slo() -> None:
    checks = healthy_checks()
    checks["buckets/vllm/ttft"] = [
        ({"__name__": "vllm:time_to_first_token_seconds_bucket", "le": le}, 12)
        for le in ("0.1", "0.5", "+Inf")
    ]
    d = run(Canned({"generic": 48, "vllm": 40}, checks))
    (p,) = d.pitfalls
    assert "tops out at 500 ms" in p.sentence and "below the 1 s TTFT p99 SLO" in p.sentence


class _MsGateway(Stack):
    name = "ms"
    title = "ms gateway"
    layer = "gateway"
    source = "test"
    detect = ("ms_requests_total",)

    def latency(self, q: Query) -> Buckets:
        return Buckets(f"sum by (warroom_model, le) ({q.rate('ms_duration_bucket')})", 0.001)


def test_bucket_bounds_are_read_in_the_histograms_unit() -> None:
    stack = _MsGateway()
    cfg = config()
    d = run(Canned({"generic": 48, "vllm": 40}, healthy_checks()))
    d = replace(d, stacks=(stack,), feeds=feeds([stack], scan_query(cfg.metrics)))
    ms = [({"__name__": "ms_duration_bucket", "le": le}, 1) for le in ("1000", "10000", "+Inf")]
    assert _coarse(d, {"buckets/ms/latency": ms}, cfg) == []
    short = [({"__name__": "ms_duration_bucket", "le": le}, 1) for le in ("250", "1000", "+Inf")]
    (p,) = _coarse(d, {"buckets/ms/latency": short}, cfg)
    assert "ms_duration_bucket tops out at 1 s" in p.sentence


def test_no_gpu_series() -> None:
    checks = {k: v for k, v in healthy_checks().items() if k != "gpus"}
    d = run(Canned({"generic": 48, "vllm": 40}, checks))
    (p,) = d.pitfalls
    assert p.kind == "no_gpus" and "DCGM_FI_DEV_GPU_UTIL" in p.sentence
    assert "falls back to this host's NVML" in p.sentence
    none = config().model_copy(update={"gpu_source": "none"})
    assert run(Canned({"generic": 48, "vllm": 40}, checks), none).pitfalls == ()


def test_vllm_names_stored_with_underscores_are_informative() -> None:
    checks = healthy_checks()
    checks["names/vllm"] = [({"__name__": "vllm_num_requests_running"}, 12)]
    d = run(Canned({"generic": 48, "vllm": 40}, checks))
    (p,) = d.pitfalls
    assert p.kind == "underscore_names" and p.level == "info"
    assert "vllm_num_requests_running" in p.sentence
    assert d.found[1].names == ("vllm_num_requests_running",)
    assert "i vLLM's metrics are stored as vllm_num_requests_running" in discover_text(d)


def test_failed_checks_leave_the_stacks_and_figures() -> None:
    d = run(Canned({"generic": 48, "vllm": 40}, {}, checks_status=422))
    assert d.names == ("generic", "vllm") and d.gpus is None
    (p,) = d.pitfalls
    assert p.kind == "checks_failed"
    assert "could not evaluate the checks query" in p.sentence


# -- hostile data, errors ----------------------------------------------------------------


def test_hostile_label_values_never_reach_the_terminal_raw() -> None:
    checks = healthy_checks()
    checks["dcgm_exported"] = [({"job": HOSTILE}, 1)]
    checks["istio_hops"] = [({"destination_workload": HOSTILE}, 1)]
    checks["names/vllm"] = [({"__name__": f"vllm_{HOSTILE}"}, 1)]
    checks["buckets/generic/latency"] = [({"__name__": HOSTILE, "le": "1"}, 1)]
    d = run(Canned({"generic": 48, "vllm": 40}, checks))
    assert len(d.pitfalls) == 4
    text = discover_text(d)
    dumped = json.dumps(discover_json(d), indent=2)
    for out in (text, dumped):
        assert not any(ch in out for ch in "\x1b\x07\x9b\u202e"), out
    assert "\\x1b]0;owned\\x07" in text
    assert "\n" not in "".join(p.sentence for p in d.pitfalls)


def test_printable() -> None:
    assert printable("llama-3.1-8b/ünï") == "llama-3.1-8b/ünï"
    assert printable("a\tb\x00c\x7f\x85\u2028\u200f") == "a\\x09b\\x00c\\x7f\\x85\\u2028\\u200f"
    assert printable("\ud800") == "\\ud800"


@pytest.mark.parametrize(
    ("response", "says"),
    [
        (httpx.Response(401), "refused the credentials (HTTP 401)"),
        (httpx.Response(200, text="<html>login</html>"), "something that is not JSON"),
        (
            httpx.Response(400, json={"status": "error", "errorType": "bad_data",
                                      "error": f"parse error {HOSTILE}"}),
            "could not evaluate the discovery query",
        ),
    ],
)  # fmt: skip
def test_errors_are_one_sentence(response: httpx.Response, says: str) -> None:
    transport = httpx.MockTransport(lambda _request: response)
    with pytest.raises(SourceError) as caught:
        asyncio.run(discover(config(), transport=transport))
    sentence = str(caught.value)
    assert says in sentence
    assert "\n" not in sentence and "\x1b" not in sentence and "\x07" not in sentence


def test_cli_prometheus_down_is_one_line_and_exit_1(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = subprocess.run(
        [sys.executable, "-m", "tui", "discover", "--prometheus", url],
        capture_output=True, text=True, timeout=60, env=clean_env(tmp_path), check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"warroom: Prometheus at {url} refused the connection")


def test_cli_discover_needs_prometheus(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tui", "discover", "--demo"],
        capture_output=True, text=True, timeout=60, env=clean_env(tmp_path), check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "--prometheus URL" in done.stderr


# -- reading the adapters' PromQL ------------------------------------------------------


def test_families_and_selectors_read_the_adapters_promql() -> None:
    profile = MetricProfile()
    q = scan_query(profile)
    stacks = {s.name: s for s in build_stacks(adapter_names(), profile)}
    generic = stacks["generic"].latency(q)
    assert generic is not None
    assert selectors(generic.expr) == ('http_request_duration_seconds_bucket{model=~"(?s).+"}',)
    vllm = stacks["vllm"].ttft(q)
    assert vllm is not None
    assert selectors(vllm.expr) == ('{__name__=~"vllm[:_]time_to_first_token_seconds_bucket"}',)
    assert families(vllm.expr) == ("vllm:time_to_first_token_seconds_bucket",)
    joined = (
        'sum by (warroom_model) ((rate(http_requests_total{status=~"5.."}[5m]) offset 1m)'
        " * on (namespace, pod) group_left (warroom_model) (warroom_pod_map))"
        ' or label_replace(vector(0), "x", "y", "", "") unless on (le) up'
    )
    assert families(joined) == ("http_requests_total", "up")
    # Every registered adapter's figures name at least one family each.
    for feed_list in feeds(list(stacks.values()), q).values():
        for feed in feed_list:
            assert feed.families, feed


# -- end to end: Debian's Prometheus scraping `warroom simulate` -------------------------

SPEED = "10"


@pytest.fixture(scope="module")
def rigs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, PromServer]]:
    """The default stack in one job, and the same with dcgm-exporter as its Helm chart
    scrapes it: a job of its own, ``honorLabels: false``, the exporter's pod as target."""
    dcgm_jobs = (
        Job("rest", "/metrics/generic"),
        Job("vllm", "/metrics/vllm"),
        Job("dcgm", "/metrics/dcgm", labels={"pod": "dcgm-exporter-x",
                                             "namespace": "gpu-operator"}, honor_labels=False),
    )  # fmt: skip
    with ExitStack() as stack:
        servers = {
            "default": stack.enter_context(
                scraping_simulator(tmp_path_factory.mktemp("default"), "--speed", SPEED)
            ),
            "dcgm": stack.enter_context(
                scraping_simulator(
                    tmp_path_factory.mktemp("dcgm"), "--speed", SPEED, jobs=dcgm_jobs
                )
            ),
        }
        everything = (
            'count(http_requests_total{model!=""}) and count(DCGM_FI_DEV_GPU_UTIL)'
            ' and count({__name__=~"vllm[:_]num_requests_running"})'
        )
        for server in servers.values():
            server.wait_for(everything, timeout_s=60, what="every stack's series")
        yield servers


def warroom(prometheus: PromServer, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return run_warroom("discover", "--prometheus", prometheus.url, *args, env=clean_env(home))


@pytest.mark.prometheus
def test_e2e_default_stack_text(rigs: dict[str, PromServer], tmp_path: Path) -> None:
    out = warroom(rigs["default"], home=tmp_path).stdout
    assert out.startswith(f"Prometheus {rigs['default'].url} (2 requests)\n")
    found = out.split("Stacks found\n", 1)[1].split("\n\n", 1)[0]
    assert re.search(r"^  generic +gateway +gateway +\d+ series  http_requests_total$", found, re.M)
    assert re.search(r"^  vllm +vLLM +server +\d+ series  .*vllm:num_requests_running", found, re.M)
    (reading,) = re.findall(r"^Reading: (.*)$", out, re.M)
    assert reading.startswith("gateway · vLLM") and "found in Prometheus" in reading
    assert "Every figure has a source." in out
    assert re.search(r'^  \[metrics\]\n  stacks = \["generic", "vllm"[^\n]*\]$', out, re.M)
    assert re.search(r"--stack generic,vllm\S*, or set WARROOM_STACK=generic,vllm", out)
    assert "honorLabels" not in out


@pytest.mark.prometheus
def test_e2e_default_stack_json_agrees_with_the_cockpit(
    rigs: dict[str, PromServer], tmp_path: Path
) -> None:
    out = json.loads(warroom(rigs["default"], "--json", home=tmp_path).stdout)
    assert out["requests"] == 2
    assert {"generic", "vllm"} <= set(out["stacks"])
    assert out["chosen_by"] == "discovered"
    assert out["gpus"] and out["gpus"] > 0
    assert "vllm:num_requests_running" in {f["stack"]: f["names"] for f in out["found"]}["vllm"]
    assert "dcgm_honor_labels" not in {p["kind"] for p in out["pitfalls"]}
    # The cockpit's first refresh picks the same stacks and names the same gaps.
    source = PrometheusSource(Config.model_validate({"prometheus": {"url": rigs["default"].url}}))

    async def refresh() -> Any:
        try:
            return await source.refresh()
        finally:
            await source.aclose()

    snap = asyncio.run(refresh())
    assert list(snap.stack) == out["titles"]
    assert sorted(snap.unsourced) == sorted(out["no_source"])


@pytest.mark.prometheus
def test_e2e_pinned_stack_names_the_figures_with_no_source(
    rigs: dict[str, PromServer], tmp_path: Path
) -> None:
    done = warroom(rigs["default"], "--stack", "vllm", home=tmp_path)
    assert "Reading: vLLM (vllm; named in the config" in done.stdout
    assert "  5xx                  no source" in done.stdout
    assert "No source for 5xx, 429: the panes show it as no source, never 0 %." in done.stdout
    assert '  stacks = ["vllm"]' in done.stdout
    out = json.loads(warroom(rigs["default"], "--stack", "vllm", "--json", home=tmp_path).stdout)
    assert out["no_source"] == ["error_5xx_ratio", "rate_429_ratio"]


@pytest.mark.prometheus
def test_e2e_dcgm_scraped_with_honor_labels_false(
    rigs: dict[str, PromServer], tmp_path: Path
) -> None:
    out = json.loads(warroom(rigs["dcgm"], "--json", home=tmp_path).stdout)
    assert {"generic", "vllm"} <= set(out["stacks"])
    (p,) = [p for p in out["pitfalls"] if p["kind"] == "dcgm_honor_labels"]
    assert "(job dcgm)" in p["sentence"] and "honorLabels: true" in p["sentence"]
    text = warroom(rigs["dcgm"], home=tmp_path).stdout
    assert "i dcgm-exporter is scraped with honorLabels: false (job dcgm)" in text


def test_a_coarse_histogram_no_figure_reads_is_no_pitfall() -> None:
    """vLLM's HTTP server tops out at 1 s, but where a gateway reports latency its
    histogram is not read: warning about it would send the reader after nothing."""
    checks = healthy_checks()
    checks["buckets/vllm_http/latency"] = [
        ({"__name__": "http_request_duration_seconds_bucket", "le": le}, 12)
        for le in ("0.1", "0.5", "1.0", "+Inf")
    ]
    d = run(Canned({"generic": 48, "vllm": 40, "vllm_http": 40}, checks))
    assert "coarse_histogram" not in {p.kind for p in d.pitfalls}
    # Alone, it is the figure's only source, and the pitfall is told.
    alone = run(Canned({"vllm_http": 40, "vllm": 40}, checks))
    assert "coarse_histogram" in {p.kind for p in alone.pitfalls}
