"""The Prometheus source end to end: a real Prometheus on backfilled history, and every
way the HTTP exchange can go wrong, each ending in one sentence that names the URL and
never a credential.

The happy path runs against Debian's ``prometheus`` started on a data directory that
``promtool`` backfilled from an OpenMetrics file, queried at a fixed instant, so every
figure is known in advance. Failures are served by small real HTTP servers (the
standard library's ``ThreadingHTTPServer`` on 127.0.0.1).
"""

from __future__ import annotations

import base64
import importlib.abc
import json
import re
import shutil
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from promserver import PromServer, backfill, free_port, start_prometheus

from tui.clock import FrozenClock, utc
from tui.config import Config, load_config
from tui.domain.histogram import histogram_quantile
from tui.domain.model import AGGREGATE, ModelHealth, Snapshot
from tui.errors import ConfigError, SourceError
from tui.sources.prometheus import GPU_QUERIES, NO_KEY, REDISCOVER_S, PrometheusSource
from tui.sources.queries import build_queries
from tui.sources.stacks import DEFAULT, adapter_names, build
from tui.sources.stacks.discover import probe_query

# -- the backfilled history ----------------------------------------------------------------

STEP_S = 15
STEPS = 80  # 20 minutes
T_END = 1_790_000_100.0
T0 = T_END - STEP_S * STEPS
T_MID = T0 + 540  # the third model still has traffic here

A = "meta-llama/Llama-3.1-8B"
B = "mistral-7b"
C = "qwen-2"  # only during the first 10 minutes
PINNED = DEFAULT
"""``[metrics] stacks`` for tests about the health query: no discovery query runs."""

# Increments per 15 s step.
REQUESTS = {
    (A, "200"): 255,
    (A, "500"): 9,
    (A, "503"): 6,
    (A, "429"): 30,  # A: 300 per step = 20/s; 5% 5xx, 10% 429
    (B, "200"): 150,  # B: 10/s, no 5xx or 429 series at all
    (C, "200"): 15,
}
LATENCY_LES = ("0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf")
LATENCY = {  # cumulative bucket increments per step
    A: (30, 90, 180, 240, 282, 300, 300),
    B: (60, 150, 150, 150, 150, 150, 150),
    # 1 of 15 past the top finite bound (5 s): C's p95 and p99 lie beyond it, its p50 not.
    C: (6, 12, 12, 12, 12, 14, 15),
}
TTFT_LES = ("0.05", "0.1", "0.5", "1", "+Inf")
TTFT = {A: (90, 180, 270, 300, 300), B: (150, 150, 150, 150, 150)}
KV_SLOPE = 0.01
"""A's second engine's KV cache ramps from 0 to 0.8 at the end; its first holds at 0.5."""
REJECTIONS = {  # (api_key_id, tenant): increments per step
    ("k1", "t1"): 12,
    ("k1", "t2"): 6,  # k1: 18 per step = 1.2/s, summed over tenants
    ("k2", "t1"): 6,
    ("k3", "t3"): 3,
    ("k4", "t1"): 1.5,
    ("k5", "t2"): 0.9,
    ("k6", "t3"): 0.6,  # in the total (2/s), not in the top 5
}
QUANTILE_REL = 1e-6
"""Tolerance for quantiles: the buckets give them exactly; only float rounding differs."""


def bucket_quantile(q: float, les: Sequence[str], counts: Sequence[float]) -> float:
    """What the buckets imply, by PromQL's interpolation (`tui.domain.histogram`, itself tested
    against hand-worked cases in test_sim)."""
    value = histogram_quantile(q, [(float(le), c) for le, c in zip(les, counts, strict=True)])
    assert value is not None
    return value


def summed(*rows: Sequence[float]) -> list[float]:
    return [sum(col) for col in zip(*rows, strict=True)]


def om_labels(**labels: str) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def openmetrics() -> str:
    """The history as OpenMetrics: one family at a time, each series in time order.

    Every series is ``start + slope * i`` at step i: counters from 0, gauges ramping.
    """
    lines: list[str] = []

    def series(name: str, labels: dict[str, str], slope: float, start: float = 0.0) -> None:
        model = labels.get("model") or labels.get("model_name")
        last = STEPS // 2 if model == C else STEPS
        for i in range(last + 1):
            value = start + slope * i
            lines.append(f"{name}{om_labels(**labels)} {value!r} {T0 + STEP_S * i:.0f}")

    lines.append("# TYPE http_requests counter")
    for (model, status), inc in REQUESTS.items():
        series("http_requests_total", {"model": model, "status_code": status}, inc)

    lines.append("# TYPE http_request_duration_seconds histogram")
    for model, counts in LATENCY.items():
        for le, inc in zip(LATENCY_LES, counts, strict=True):
            series("http_request_duration_seconds_bucket", {"model": model, "le": le}, inc)
        series("http_request_duration_seconds_count", {"model": model}, counts[-1])
        series("http_request_duration_seconds_sum", {"model": model}, 0.5 * counts[-1])

    # A's vLLM writes colon names, B's the underscore spelling: the source reads both.
    for prefix, model in (("vllm:", A), ("vllm_", B)):
        name = f"{prefix}time_to_first_token_seconds"
        lines.append(f"# TYPE {name} histogram")
        for le, inc in zip(TTFT_LES, TTFT[model], strict=True):
            series(f"{name}_bucket", {"model_name": model, "le": le}, inc)
        series(f"{name}_count", {"model_name": model}, TTFT[model][-1])
        series(f"{name}_sum", {"model_name": model}, 0.1 * TTFT[model][-1])

    # A's queue ramps up to 3 + 4 waiting on two engines at the end; B's holds at 2.
    lines.append("# TYPE vllm:num_requests_waiting gauge")
    series("vllm:num_requests_waiting", {"model_name": A, "engine": "0"}, 0.0375)
    series("vllm:num_requests_waiting", {"model_name": A, "engine": "1"}, 0.05)
    lines.append("# TYPE vllm_num_requests_waiting gauge")
    series("vllm_num_requests_waiting", {"model_name": B}, 0.0, start=2.0)

    # KV cache: A on the current name, B on the name before vLLM 0.10 (underscore spelling).
    lines.append("# TYPE vllm:kv_cache_usage_perc gauge")
    series("vllm:kv_cache_usage_perc", {"model_name": A, "engine": "0"}, 0.0, start=0.5)
    series("vllm:kv_cache_usage_perc", {"model_name": A, "engine": "1"}, KV_SLOPE)
    lines.append("# TYPE vllm_gpu_cache_usage_perc gauge")
    series("vllm_gpu_cache_usage_perc", {"model_name": B}, 0.0, start=0.25)

    lines.append("# TYPE gateway_ratelimit_rejections counter")
    for (key, tenant), inc in REJECTIONS.items():
        series("gateway_ratelimit_rejections_total", {"api_key_id": key, "tenant": tenant}, inc)

    lines.append("# EOF")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return backfill(openmetrics(), tmp_path_factory.mktemp("backfill") / "data")


def start_on_copy(backfilled: Path, workdir: Path, *extra_args: str) -> PromServer:
    """Prometheus writes its WAL and lock into the data dir: each server gets a copy."""
    data = workdir / "data"
    shutil.copytree(backfilled, data)
    return start_prometheus(workdir, data_dir=data, extra_args=extra_args)


@pytest.fixture(scope="module")
def prometheus(backfilled: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PromServer]:
    server = start_on_copy(backfilled, tmp_path_factory.mktemp("prometheus"))
    try:
        yield server
    finally:
        server.stop()


def make_config(
    tmp_path: Path,
    url: str,
    *,
    stacks: Sequence[str] | None = None,
    flags: dict[tuple[str, ...], Any] | None = None,
    **settings: Any,
) -> Config:
    """The config as the CLI builds it, without reading any config file of this machine.

    ``stacks``: ``--stack``, so the stacks are not discovered (None: found by the first
    refresh, as with no ``[metrics]`` section); ``settings``: ``[prometheus]`` ones."""
    given: dict[tuple[str, ...], Any] = {("prometheus", "url"): url, ("history",): "20m"}
    if stacks is not None:
        given[("metrics", "stacks")] = tuple(stacks)
    for key, value in settings.items():
        given[("prometheus", key)] = value
    given.update(flags or {})
    return load_config(None, env={"XDG_CONFIG_HOME": str(tmp_path)}, flags=given)


def discovery_query(config: Config) -> str:
    """The probe the first refresh of an unpinned config sends."""
    return probe_query(build(adapter_names(), config.metrics))


@pytest.fixture
async def source(prometheus: PromServer, tmp_path: Path) -> AsyncIterator[PrometheusSource]:
    src = PrometheusSource(make_config(tmp_path, prometheus.url), clock=FrozenClock(T_END))
    yield src
    await src.aclose()


def by_model(snapshot: Snapshot) -> dict[str, ModelHealth]:
    return {m.model: m for m in snapshot.models}


@pytest.mark.prometheus
def test_backfilled_history_is_what_the_file_says(prometheus: PromServer) -> None:
    """Guards the fixture: the blocks are loaded by the time Prometheus is ready, and the
    colon names and both spellings arrived as written."""
    colon = prometheus.vector('{__name__="vllm:num_requests_waiting"}', at=T_END)
    engines = {s["metric"]["engine"]: float(s["value"][1]) for s in colon}
    assert engines == pytest.approx({"0": 3.0, "1": 4.0})
    underscore = prometheus.vector("vllm_num_requests_waiting", at=T_END)
    assert [float(s["value"][1]) for s in underscore] == [2.0]
    kv = prometheus.vector('{__name__="vllm:kv_cache_usage_perc"}', at=T_END)
    usage = {s["metric"]["engine"]: float(s["value"][1]) for s in kv}
    assert usage == pytest.approx({"0": 0.5, "1": 0.8})
    assert prometheus.vector("http_requests_total", at=T0 - 1) == []


@pytest.mark.prometheus
async def test_refresh_reads_every_figure(source: PrometheusSource, prometheus: PromServer) -> None:
    snap = await source.refresh()

    assert snap.taken_at == utc(T_END)
    assert snap.source == f"prometheus {prometheus.url}"
    assert snap.error is None
    # No stacks named: the first refresh found the gateway and vLLM, and every figure
    # has a source.
    assert source.stacks == ("generic", "vllm")
    assert snap.stack == ("gateway", "vLLM")
    assert snap.unsourced == frozenset()
    models = by_model(snap)
    assert set(models) == {A, B}  # C's series ended more than a window ago

    a, b, agg = models[A], models[B], snap.aggregate
    assert a.rps == pytest.approx(20.0)
    assert a.error_5xx_ratio == pytest.approx(0.05)
    assert a.rate_429_ratio == pytest.approx(0.10)
    assert b.rps == pytest.approx(10.0)
    assert b.error_5xx_ratio == 0.0
    assert b.rate_429_ratio == 0.0
    assert agg.model == AGGREGATE
    assert agg.rps == pytest.approx(30.0)
    assert agg.error_5xx_ratio == pytest.approx(15 / 450)
    assert agg.rate_429_ratio == pytest.approx(30 / 450)

    latency_all = summed(LATENCY[A], LATENCY[B])
    for field_name, q in (("p50_s", 0.5), ("p95_s", 0.95), ("p99_s", 0.99)):
        for health, counts in ((a, LATENCY[A]), (b, LATENCY[B]), (agg, latency_all)):
            expected = bucket_quantile(q, LATENCY_LES, counts)
            assert getattr(health, field_name) == pytest.approx(expected, rel=QUANTILE_REL), (
                health.model,
                field_name,
            )
    assert a.p99_s == pytest.approx(2.5 + 2.5 * (297 - 282) / (300 - 282), rel=QUANTILE_REL)

    assert a.ttft_p99_s == pytest.approx(0.95, rel=QUANTILE_REL)
    assert b.ttft_p99_s == pytest.approx(0.0495, rel=QUANTILE_REL)
    ttft_all = bucket_quantile(0.99, TTFT_LES, summed(TTFT[A], TTFT[B]))
    assert agg.ttft_p99_s == pytest.approx(ttft_all, rel=QUANTILE_REL)

    assert a.queue_depth == pytest.approx(7.0)
    assert b.queue_depth == pytest.approx(2.0)
    assert agg.queue_depth == pytest.approx(9.0)

    # The fullest engine of each model, whichever name its vLLM writes.
    assert a.kv_cache_ratio == pytest.approx(KV_SLOPE * STEPS)
    assert b.kv_cache_ratio == pytest.approx(0.25)
    assert agg.kv_cache_ratio == pytest.approx(KV_SLOPE * STEPS)
    # Every quantile here lies inside its histogram's finite buckets.
    assert a.beyond == b.beyond == agg.beyond == frozenset()

    keys = [(k.api_key, k.rate, k.share) for k in snap.rate_limited_keys]
    assert [k for k, _, _ in keys] == ["k1", "k2", "k3", "k4", "k5"]
    assert [r for _, r, _ in keys] == pytest.approx([1.2, 0.4, 0.2, 0.1, 0.06])
    # Shares are of all 429s, the sixth key's included: the top 5 sum to 98%.
    assert [s for _, _, s in keys] == pytest.approx([0.6, 0.2, 0.1, 0.05, 0.03])
    # Each key's tenant beside it; k1's series carry two, the busier first.
    tenants = [k.tenant for k in snap.rate_limited_keys]
    assert tenants == ["t1, t2", "t1", "t3", "t1", "t2"]


@pytest.mark.prometheus
async def test_query_count_is_fixed_whatever_the_fleet(
    prometheus: PromServer, tmp_path: Path
) -> None:
    """The same queries for 3 models as for 2; with no stacks named, the first refresh
    sends one more (the discovery probe), and never again once it found them."""
    found = make_config(tmp_path, prometheus.url)
    pinned = make_config(tmp_path, prometheus.url, stacks=PINNED)
    assert found.metrics.discovered and not pinned.metrics.discovered
    stacks = build(PINNED, pinned.metrics)
    expected = len(build_queries(pinned.metrics, pinned.window, stacks).instant)
    between = expected - len(GPU_QUERIES)
    for config, discovery in ((found, 1), (pinned, 0)):
        counts = {}
        for at in (T_MID, T_END):
            clock = FrozenClock(at)
            src = PrometheusSource(config, clock=clock)
            try:
                first = await src.refresh()
                clock.at += config.gpu_refresh_s - 1
                soon = await src.refresh()
                clock.at += 1
                snap = await src.refresh()
            finally:
                await src.aclose()
            assert src.stacks == PINNED
            # The first refresh also reads the XID history once; the GPU series are read
            # again once gpu_refresh_s has passed, their figures kept in between.
            assert first.queries == discovery + expected + 1, config.metrics.stacks
            assert soon.queries == between and soon.gpus == first.gpus
            counts[len(snap.models)] = snap.queries
        assert counts == {3: expected, 2: expected}
    assert (expected, between) == (3, 1)


@pytest.mark.prometheus
async def test_history_has_points_per_model_and_for_the_aggregate(
    source: PrometheusSource,
) -> None:
    # No stacks named: nothing to ask before the first refresh has found them.
    assert source.range_queries == {}
    assert await source.history() == {}
    await source.refresh()
    history = await source.history()
    assert set(history) == {A, B, C, AGGREGATE}

    step = 30  # 20m history / 60 points is 20 s, but never finer than window / 10
    for model in (A, B, AGGREGATE):
        times = [p.at for p in history[model]]
        # The first evaluation (at T0) sees one sample only: no rate yet.
        assert times == [T0 + step * n for n in range(1, 41)], model
    # C stopped at T0 + 600; its rates last until the window holds under two samples.
    assert history[C][-1].at == T0 + 870

    a_p99 = bucket_quantile(0.99, LATENCY_LES, LATENCY[A])
    for point in history[A]:
        assert point.error_5xx_ratio == pytest.approx(0.05)
        assert point.rate_429_ratio == pytest.approx(0.10)
        assert point.p99_s == pytest.approx(a_p99, rel=QUANTILE_REL)
    for point in history[B]:
        # No 5xx or 429 series for B at all: the ratio is 0, not missing.
        assert point.error_5xx_ratio == 0.0
        assert point.rate_429_ratio == 0.0
    last = history[AGGREGATE][-1]
    assert last.error_5xx_ratio == pytest.approx(15 / 450)
    assert last.rate_429_ratio == pytest.approx(30 / 450)
    latency_all = summed(LATENCY[A], LATENCY[B])
    assert last.p99_s == pytest.approx(
        bucket_quantile(0.99, LATENCY_LES, latency_all), rel=QUANTILE_REL
    )


@pytest.mark.prometheus
async def test_latency_unit_scales_quantiles(prometheus: PromServer, tmp_path: Path) -> None:
    """Millisecond buckets (latency_unit_s = 0.001) are read back as seconds."""
    config = make_config(tmp_path, prometheus.url)
    config = config.model_copy(
        update={"metrics": config.metrics.model_copy(update={"latency_unit_s": 0.001})}
    )
    src = PrometheusSource(config, clock=FrozenClock(T_END))
    try:
        snap = await src.refresh()
    finally:
        await src.aclose()
    a = by_model(snap)[A]
    expected = bucket_quantile(0.99, LATENCY_LES, LATENCY[A]) / 1000
    assert a.p99_s == pytest.approx(expected, rel=QUANTILE_REL)
    assert a.ttft_p99_s == pytest.approx(0.95, rel=QUANTILE_REL)  # vLLM's own seconds


@pytest.mark.prometheus
async def test_a_quantile_past_the_top_bucket_is_marked_beyond(
    prometheus: PromServer, tmp_path: Path
) -> None:
    """C (still serving at T_MID) has 1 request in 15 past the top finite bound: its p95
    and p99 read that bound and are marked as lying beyond it; its p50 is a figure like
    any other. The whole API's p99 is not beyond (1 in 465 is under 1 %)."""
    src = PrometheusSource(make_config(tmp_path, prometheus.url), clock=FrozenClock(T_MID))
    try:
        snap = await src.refresh()
    finally:
        await src.aclose()
    models = by_model(snap)
    c, a, agg = models[C], models[A], snap.aggregate
    assert c.p50_s == pytest.approx(0.1 + 0.15 * (7.5 - 6) / 6, rel=QUANTILE_REL)
    assert c.p95_s == pytest.approx(5.0) and c.p99_s == pytest.approx(5.0)
    assert c.beyond == frozenset({"p95_s", "p99_s"})
    assert a.beyond == frozenset()
    latency_all = summed(LATENCY[A], LATENCY[B], LATENCY[C])
    assert agg.p99_s == pytest.approx(
        bucket_quantile(0.99, LATENCY_LES, latency_all), rel=QUANTILE_REL
    )
    assert agg.p99_s < 5.0 and agg.beyond == frozenset()
    # C has no vLLM series at all: no KV figure (A's first engine is the fuller here).
    assert c.kv_cache_ratio is None
    assert a.kv_cache_ratio == pytest.approx(0.5)


@pytest.mark.prometheus
async def test_query_limit_error_from_prometheus_is_one_sentence(
    backfilled: Path, tmp_path: Path
) -> None:
    server = start_on_copy(backfilled, tmp_path / "limited", "--query.max-samples=10")
    try:
        config = make_config(tmp_path, server.url, stacks=PINNED)
        src = PrometheusSource(config, clock=FrozenClock(T_END))
        try:
            with pytest.raises(SourceError) as caught:
                await src.refresh()
        finally:
            await src.aclose()
    finally:
        server.stop()
    message = assert_one_sentence(caught.value, server.url)
    assert "could not evaluate the health query" in message
    assert "HTTP 422, execution: query processing would load too many samples" in message


# -- discovery: which stacks the Prometheus holds ---------------------------------------------


@pytest.mark.prometheus
async def test_discovery_picks_the_stacks_the_backfill_holds(
    prometheus: PromServer, tmp_path: Path
) -> None:
    """No stacks named: the first refresh sends one probe and reads the gateway and vLLM
    (the backfill holds http_requests_total with a model label and vLLM's engine
    families), then never probes again."""
    config = make_config(tmp_path, prometheus.url)
    assert config.metrics.discovered
    clock = FrozenClock(T_END)
    src = PrometheusSource(config, clock=clock)
    try:
        assert src.stacks == () and src.queries == {}
        snap = await src.refresh()
        assert src.stacks == ("generic", "vllm")
        assert snap.stack == ("gateway", "vLLM")
        assert snap.error is None
        # The probe, the health query, the GPU two and the XID history.
        assert snap.queries == 1 + 3 + 1
        assert set(src.queries) == {"health", "gpus", "pod_models"}
        clock.at += REDISCOVER_S + config.gpu_refresh_s
        later = await src.refresh()
        assert later.queries == 3  # no probe: the stacks stay found
        assert later.stack == snap.stack
    finally:
        await src.aclose()


@pytest.mark.prometheus
async def test_discovery_in_an_empty_prometheus_says_so_and_looks_again(
    tmp_path: Path,
) -> None:
    """A Prometheus with no series (just started, or scraping nothing warroom knows): the
    snapshot carries one sentence saying so, the default stacks are read meanwhile, and
    the probe is sent again every REDISCOVER_S on the source's clock, not before."""
    server = start_prometheus(tmp_path / "empty")
    try:
        # Every refresh reads the GPUs (two queries), so the probe is what differs.
        config = make_config(tmp_path, server.url, flags={("gpu_refresh_s",): 0})
        clock = FrozenClock(T_END)
        src = PrometheusSource(config, clock=clock)
        try:
            first = await src.refresh()
            clock.at += REDISCOVER_S - 1
            before = await src.refresh()
            clock.at += 1
            again = await src.refresh()
            clock.at += 1
            after = await src.refresh()
        finally:
            await src.aclose()
    finally:
        server.stop()
    assert first.error is not None
    message = assert_one_sentence(SourceError(first.error), server.url)
    assert "holds no series of a stack warroom knows" in message
    assert f"looking again in {REDISCOVER_S:g}s" in message
    assert "[metrics] stacks" in message
    assert first.models == () and first.aggregate == ModelHealth(AGGREGATE)
    assert src.stacks == DEFAULT and first.stack == ("gateway", "vLLM")
    # The probe, the health query, the GPU two and the XID history; then the probe only
    # once REDISCOVER_S has passed since the last one.
    assert [s.queries for s in (first, before, again, after)] == [5, 3, 4, 3]
    assert {s.error for s in (before, again, after)} == {first.error}


async def test_a_stack_that_appears_is_found_by_the_next_probe(
    serve: Callable[[Answer], FakeServer], tmp_path: Path
) -> None:
    """Discovery found nothing; once vLLM's series appear, the next probe (after
    REDISCOVER_S) reads them, the note goes away, and the figures vLLM has no source for
    are said to have none."""
    vllm_seen: list[str] = []

    def answer(query: str) -> Reply:
        result = []
        if '"warroom_stack"' in query and vllm_seen:
            result = [{"metric": {"warroom_stack": "vllm"}, "value": [T_END, "3"]}]
        body = {"status": "success", "data": {"resultType": "vector", "result": result}}
        return Reply(200, body)

    fake = serve(answer)
    config = make_config(tmp_path, fake.url)
    probe = discovery_query(config)
    clock = FrozenClock(T_END)
    src = PrometheusSource(config, clock=clock)
    try:
        empty = await src.refresh()
        vllm_seen.append("vllm")
        clock.at += REDISCOVER_S - 1
        still = await src.refresh()
        clock.at += 1
        found = await src.refresh()
        clock.at += REDISCOVER_S
        settled = await src.refresh()
    finally:
        await src.aclose()
    probes = [r for r in fake.requests if r["form"]["query"][0] == probe]
    assert len(probes) == 2
    assert empty.error is not None and still.error == empty.error
    assert src.stacks == ("vllm",)
    assert found.error is None and settled.error is None
    assert found.stack == ("vLLM",)
    assert found.unsourced == frozenset({"error_5xx_ratio", "rate_429_ratio"})


async def test_a_failed_discovery_is_tried_again_on_the_next_refresh(
    serve: Callable[[Answer], FakeServer], tmp_path: Path
) -> None:
    fake = serve(Reply(503, "Service Unavailable", "text/plain"))
    config = make_config(tmp_path, fake.url)
    src = PrometheusSource(config, clock=FrozenClock(T_END))
    try:
        for _ in range(2):
            with pytest.raises(SourceError, match="HTTP 503 to the discovery query"):
                await src.refresh()
    finally:
        await src.aclose()
    # Nothing but the probe was sent: without stacks there is no health query to send.
    assert [r["form"]["query"][0] for r in fake.requests] == [discovery_query(config)] * 2
    assert src.stacks == ()


# -- failures, served by small real HTTP servers ----------------------------------------------


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | dict[str, Any] | list[Any] = b""
    content_type: str = "application/json"
    delay_s: float = 0.0
    echo_auth: bool = False
    """Quote the request's Authorization header in a text body or a JSON ``error``, as a
    careless proxy might."""


@dataclass
class FakeServer:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)


class LocalServer(ThreadingHTTPServer):
    request_queue_size = 64
    """A refresh opens 7 connections at once: the default backlog of 5 drops a SYN and
    the client's retry costs a second."""


Answer = Reply | Callable[[str], Reply]
"""A fixed reply, or one chosen by the PromQL query asked."""


@pytest.fixture
def serve() -> Iterator[Callable[[Answer], FakeServer]]:
    servers: list[LocalServer] = []
    release = threading.Event()

    def start(answer: Answer) -> FakeServer:
        fake = FakeServer(url="")

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                fake.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "form": form}
                )
                reply = answer if isinstance(answer, Reply) else answer(form["query"][0])
                if reply.delay_s:
                    release.wait(reply.delay_s)
                body = reply.body
                auth = self.headers.get("Authorization")
                if reply.echo_auth and isinstance(body, dict) and "error" in body:
                    body = {**body, "error": f"{body['error']} (got Authorization: {auth})"}
                elif reply.echo_auth and isinstance(body, str):
                    body = f"{body} (got Authorization: {auth})"
                if isinstance(body, dict | list):
                    body = json.dumps(body)
                if isinstance(body, str):
                    body = body.encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up (the timeout tests)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = LocalServer(("127.0.0.1", 0), Handler)
        servers.append(server)
        threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
        fake.url = f"http://127.0.0.1:{server.server_address[1]}"
        return fake

    yield start
    release.set()
    for server in servers:
        server.shutdown()
        server.server_close()


def assert_one_sentence(exc: BaseException, url: str) -> str:
    message = str(exc)
    assert "\n" not in message and "\r" not in message, message
    assert message[0].isupper(), message
    assert message.endswith((".", "?")), message
    assert url in message, message
    return message


async def failure(config: Config, *, history: bool = False) -> str:
    src = PrometheusSource(config, clock=FrozenClock(T_END))
    try:
        with pytest.raises(SourceError) as caught:
            await (src.history() if history else src.refresh())
    finally:
        await src.aclose()
    return str(caught.value)


async def test_connection_refused(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    message = await failure(make_config(tmp_path, url))
    assert_one_sentence(SourceError(message), url)
    assert "refused the connection" in message


async def test_timeout(serve: Callable[[Answer], FakeServer], tmp_path: Path) -> None:
    fake = serve(Reply(body={"status": "success"}, delay_s=10))
    started = time.monotonic()
    message = await failure(make_config(tmp_path, fake.url, stacks=PINNED, timeout_s=0.2))
    assert time.monotonic() - started < 3
    assert_one_sentence(SourceError(message), fake.url)
    assert "did not answer the health query within 0.2s" in message


# (reply, words the sentence must hold)
FAILURES: dict[str, tuple[Reply, str]] = {
    "http-500": (
        Reply(500, "internal server error", "text/plain"),
        "answered HTTP 500 to the health query",
    ),
    "html-login-page": (
        Reply(200, "<html><body><form>Sign in</form></body></html>", "text/html; charset=utf-8"),
        "something that is not JSON (text/html; charset=utf-8)",
    ),
    "json-cut-short": (
        Reply(200, '{"status":"success","data":{"resultType":"vec', "application/json"),
        "with JSON that does not parse (cut short or garbled)",
    ),
    "json-not-a-query-result": (
        Reply(200, {"hello": "world"}),
        "JSON that is not a query result",
    ),
    "json-list": (Reply(200, [1, 2, 3]), "JSON that is not a query result"),
    "success-without-data": (
        Reply(200, {"status": "success", "data": "nope"}),
        "JSON that is not a query result",
    ),
    "matrix-for-an-instant-query": (
        Reply(200, {"status": "success", "data": {"resultType": "matrix", "result": []}}),
        "with a matrix instead of a vector",
    ),
    "malformed-vector": (
        Reply(
            200,
            {
                "status": "success",
                "data": {"resultType": "vector", "result": [{"metric": {}, "value": "7"}]},
            },
        ),
        "with a malformed vector",
    ),
    "prometheus-bad-data": (
        Reply(
            400,
            {
                "status": "error",
                "errorType": "bad_data",
                "error": 'invalid parameter "query": 1:6: parse error: unexpected <bool>',
            },
        ),
        "could not evaluate the health query (HTTP 400, bad_data: invalid parameter",
    ),
    "unauthorized": (
        Reply(401, "Unauthorized", "text/plain"),
        "refused the credentials (HTTP 401)",
    ),
    "forbidden": (
        Reply(403, {"status": "error", "error": "forbidden"}),
        "refused the credentials (HTTP 403)",
    ),
}


@pytest.mark.parametrize("case", list(FAILURES))
async def test_failure_is_one_sentence_naming_the_url(
    case: str, serve: Callable[[Answer], FakeServer], tmp_path: Path
) -> None:
    reply, words = FAILURES[case]
    fake = serve(reply)
    config = make_config(tmp_path, fake.url, stacks=PINNED)
    message = await failure(config)
    assert_one_sentence(SourceError(message), fake.url)
    assert words in message
    assert fake.requests, "the source never reached the server"
    assert discovery_query(config) not in {r["form"]["query"][0] for r in fake.requests}


@pytest.mark.parametrize("case", list(FAILURES))
async def test_discovery_failure_is_one_sentence_naming_discovery(
    case: str, serve: Callable[[Answer], FakeServer], tmp_path: Path
) -> None:
    """No stacks named: the probe goes first, and its failure is the refresh's, named."""
    reply, words = FAILURES[case]
    fake = serve(reply)
    config = make_config(tmp_path, fake.url)
    message = await failure(config)
    assert_one_sentence(SourceError(message), fake.url)
    assert words.replace("health query", "discovery query") in message
    # Every sentence that names a query names the probe (a refused login names none).
    named = set(re.findall(r"\bthe (\w+) query\b", message))
    assert named == {"discovery"} or (not named and "credentials" in message), message
    assert [r["form"]["query"][0] for r in fake.requests] == [discovery_query(config)]


async def test_history_failure_is_one_sentence(
    serve: Callable[[Answer], FakeServer], tmp_path: Path
) -> None:
    fake = serve(Reply(502, "<html>Bad Gateway</html>", "text/html"))
    message = await failure(make_config(tmp_path, fake.url, stacks=PINNED), history=True)
    assert_one_sentence(SourceError(message), fake.url)
    assert "answered HTTP 502 to the p99 query" in message
    assert {r["path"] for r in fake.requests} == {"/api/v1/query_range"}


async def test_multi_line_error_from_the_server_stays_one_line(
    serve: Callable[[Answer], FakeServer], tmp_path: Path
) -> None:
    fake = serve(
        Reply(
            422,
            {
                "status": "error",
                "errorType": "execution",
                "error": "expanding series: rpc error:\n  code = Unavailable\n",
            },
        )
    )
    message = await failure(make_config(tmp_path, fake.url, stacks=PINNED))
    assert_one_sentence(SourceError(message), fake.url)
    assert "rpc error: code = Unavailable" in message


TOKEN = "tok-Zq8w-SECRET"
PASSWORD = "pw-Hx3v-SECRET"


@pytest.mark.parametrize("case", list(FAILURES))
async def test_credentials_never_appear_in_errors(
    case: str, serve: Callable[[Answer], FakeServer], tmp_path: Path
) -> None:
    reply, _ = FAILURES[case]
    # The server echoes the Authorization header into every answer it can.
    fake = serve(Reply(reply.status, reply.body, reply.content_type, echo_auth=True))
    for settings in ({"bearer_token": TOKEN}, {"username": "ops", "password": PASSWORD}):
        message = await failure(make_config(tmp_path, fake.url, stacks=PINNED, **settings))
        assert_one_sentence(SourceError(message), fake.url)
        secret = settings.get("bearer_token") or settings["password"]
        basic = base64.b64encode(f"ops:{PASSWORD}".encode()).decode()
        assert secret not in message
        assert basic not in message
        assert "SECRET" not in message
    sent = [r["headers"].get("Authorization") for r in fake.requests]
    assert f"Bearer {TOKEN}" in sent
    assert f"Basic {base64.b64encode(f'ops:{PASSWORD}'.encode()).decode()}" in sent


async def test_password_in_the_url_is_neither_shown_nor_leaked(
    serve: Callable[[Answer], FakeServer], tmp_path: Path
) -> None:
    fake = serve(
        Reply(400, {"status": "error", "errorType": "bad_data", "error": "x"}, echo_auth=True)
    )
    with_userinfo = fake.url.replace("http://", f"http://ops:{PASSWORD}@")
    message = await failure(make_config(tmp_path, with_userinfo, stacks=PINNED))
    assert_one_sentence(SourceError(message), fake.url)
    assert "ops:" not in message
    assert "SECRET" not in message
    assert base64.b64encode(f"ops:{PASSWORD}".encode()).decode() not in message


async def test_password_inside_its_own_base64_is_still_hidden(
    serve: Callable[[Answer], FakeServer], tmp_path: Path
) -> None:
    """base64("ops:...") starts with "b3Bz": masking that password first would cut the
    header's base64 apart and leave the rest (which decodes to ":b3Bz") readable."""
    error = {"status": "error", "errorType": "bad_data", "error": "x"}
    fake = serve(Reply(400, error, echo_auth=True))
    config = make_config(tmp_path, fake.url, stacks=PINNED, username="ops", password="b3Bz")
    message = await failure(config)
    assert "(got Authorization: Basic ***)" in message


async def test_timeout_and_refusal_hide_credentials(
    serve: Callable[[Answer], FakeServer], tmp_path: Path
) -> None:
    refused = f"http://ops:{PASSWORD}@127.0.0.1:{free_port()}"
    message = await failure(make_config(tmp_path, refused, stacks=PINNED, bearer_token=TOKEN))
    assert_one_sentence(SourceError(message), refused.replace(f"ops:{PASSWORD}@", ""))
    assert "SECRET" not in message
    fake = serve(Reply(delay_s=10))
    slow = fake.url.replace("http://", f"http://ops:{PASSWORD}@")
    message = await failure(make_config(tmp_path, slow, stacks=PINNED, timeout_s=0.2))
    assert "did not answer the health query" in message
    assert_one_sentence(SourceError(message), fake.url)
    assert "SECRET" not in message


async def test_requests_are_evaluated_at_the_clock_instant(
    serve: Callable[[Answer], FakeServer], tmp_path: Path
) -> None:
    """Every query of one refresh carries the same time, so the figures agree."""
    empty = {"status": "success", "data": {"resultType": "vector", "result": []}}
    fake = serve(Reply(200, empty))
    config = make_config(tmp_path, fake.url, bearer_token=TOKEN)
    src = PrometheusSource(config, clock=FrozenClock(T_END))
    try:
        snap = await src.refresh()
    finally:
        await src.aclose()
    # The discovery probe (no stacks named), the health query, the two GPU queries, and
    # the XID history once on the first refresh.
    assert snap.queries == 5
    assert snap.models == ()
    assert snap.rate_limited_keys == ()
    assert snap.aggregate == ModelHealth(AGGREGATE)
    # The probe found nothing: the default stacks are read, and the snapshot says why.
    assert snap.error is not None and "holds no series of a stack" in snap.error
    instant = [r["form"] for r in fake.requests if r["path"] == "/api/v1/query"]
    ranged = [r["form"] for r in fake.requests if r["path"] == "/api/v1/query_range"]
    assert sorted(f["query"][0] for f in instant) == sorted(
        [discovery_query(config), *src.queries.values()]
    )
    assert {f["time"][0] for f in instant} == {f"{T_END:.3f}"}
    assert [f["end"][0] for f in ranged] == [f"{T_END:.3f}"]
    # A vector where the XID history needs a matrix costs the GPU grid, not the panes.
    assert snap.gpus == ()
    assert snap.gpu_error is not None and "xid_history" in snap.gpu_error
    assert {f["timeout"][0] for f in instant + ranged} == {"5"}


async def test_unattributed_rejections_and_non_finite_values(
    serve: Callable[[Answer], FakeServer], tmp_path: Path
) -> None:
    """A 429 series without a key label shows as NO_KEY; NaN and Inf read as no data."""

    def vector(*items: tuple[dict[str, str], str]) -> Reply:
        result = [{"metric": m, "value": [T_END, v]} for m, v in items]
        return Reply(200, {"status": "success", "data": {"resultType": "vector", "result": result}})

    def part(name: str, labels: dict[str, str]) -> dict[str, str]:
        return {**labels, "warroom_query": name}

    health = vector(
        (part("rejected_keys", {"api_key_id": "k1"}), "3"),
        (part("rejected_keys", {}), "1"),
        (part("rejected_keys", {"warroom_total": "true"}), "4"),
        (part("vllm/ttft", {"warroom_model": "m"}), "NaN"),
        (part("vllm/kv_cache", {"warroom_model": "m"}), "-Inf"),
        (part("generic/latency", {"warroom_model": "m", "quantile": "0.99"}), "+Inf"),
        (part("generic/requests", {"warroom_model": "m"}), "NaN"),
        # Series no part claims (a tag this cockpit never sends, a stack not in use) are
        # left alone.
        (part("elsewhere", {"warroom_model": "x"}), "5"),
        (part("sglang/requests", {"warroom_model": "y"}), "5"),
    )
    fake = serve(lambda query: health if '"warroom_query"' in query else vector())
    config = make_config(tmp_path, fake.url, stacks=PINNED)
    src = PrometheusSource(config, clock=FrozenClock(T_END))
    try:
        snap = await src.refresh()
    finally:
        await src.aclose()
    assert [(k.api_key, k.rate, k.share) for k in snap.rate_limited_keys] == [
        ("k1", 3.0, 0.75),
        (NO_KEY, 1.0, 0.25),
    ]
    # A request rate that is NaN is no traffic figure at all, not zero requests.
    assert snap.models == (ModelHealth("m"),)
    assert snap.aggregate == ModelHealth(AGGREGATE)


def test_unusable_profile_or_missing_url_is_a_config_error(tmp_path: Path) -> None:
    config = make_config(tmp_path, "http://127.0.0.1:9")
    bad = config.model_copy(
        update={"metrics": config.metrics.model_copy(update={"model_label": "model-id"})}
    )
    with pytest.raises(ConfigError, match=r"^The metric profile cannot be used: .*model-id"):
        PrometheusSource(bad)
    no_url = config.model_copy(
        update={"prometheus": config.prometheus.model_copy(update={"url": None})}
    )
    with pytest.raises(ConfigError, match="No Prometheus URL is configured"):
        PrometheusSource(no_url)


async def test_httpcore_finds_the_event_loop_without_searching_for_a_module() -> None:
    """httpcore imports sniffio inside every lock it sets up; with sniffio missing, each
    of those is a failed import that walks sys.path again (Python does not remember a
    failure), several per request. The project depends on sniffio so that never runs."""
    from httpcore._synchronization import AsyncLock

    searched: list[str] = []

    class Watch(importlib.abc.MetaPathFinder):
        def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
            searched.append(fullname)

    watch = Watch()
    sys.meta_path.insert(0, watch)
    try:
        async with AsyncLock():
            pass
    finally:
        sys.meta_path.remove(watch)
    assert searched == []


# -- a query string in the URL (``?access_token=``, as some hosted front-ends want it) ----


@pytest.mark.prometheus
@pytest.mark.parametrize("query", ["?access_token=x", "/?access_token=x&org=ops%2Fsre"])
async def test_a_query_string_in_the_url_goes_with_every_request(
    prometheus: PromServer, tmp_path: Path, query: str
) -> None:
    """Prometheus ignores parameters it does not know: every query answers as without."""
    src = PrometheusSource(make_config(tmp_path, prometheus.url + query), clock=FrozenClock(T_END))
    try:
        snap = await src.refresh()
        history = await src.history()
    finally:
        await src.aclose()
    assert snap.error is None, snap.error
    assert snap.source == f"prometheus {prometheus.url}{query.replace('=x', '=***')}"
    assert src.stacks == ("generic", "vllm")  # the discovery probe went through too
    assert by_model(snap)[A].rps == pytest.approx(20.0)
    assert by_model(snap)[B].rps == pytest.approx(10.0)
    assert len(history[A]) > 1


@pytest.mark.parametrize(
    ("base", "sent"),
    [
        ("/api/prom?access_token=tok%2F1&x=1", "/api/prom/api/v1/{}?access_token=tok%2F1&x=1"),
        ("/api/prom/?access_token=a+b", "/api/prom/api/v1/{}?access_token=a+b"),
        ("?access_token=t#frag", "/api/v1/{}?access_token=t"),
        ("/api/prom", "/api/prom/api/v1/{}"),
    ],
)
async def test_the_api_path_goes_after_the_base_path_and_the_query_after_it(
    serve: Callable[[Answer], FakeServer], tmp_path: Path, base: str, sent: str
) -> None:
    """Each request goes to ``<base path>/api/v1/query`` with the base's query as the user
    wrote it; a token in it never shows in a sentence."""
    empty = {"status": "success", "data": {"resultType": "vector", "result": []}}
    fake = serve(Reply(200, empty))
    src = PrometheusSource(
        make_config(tmp_path, fake.url + base, stacks=PINNED), clock=FrozenClock(T_END)
    )
    try:
        await src.refresh()
    finally:
        await src.aclose()
    assert {r["path"] for r in fake.requests} == {sent.format("query"), sent.format("query_range")}
    # The form is in the body, as before: the query string holds only the user's.
    assert all("query" in r["form"] and "timeout" in r["form"] for r in fake.requests)
    assert "tok%2F1" not in src.description and "a+b" not in src.description
