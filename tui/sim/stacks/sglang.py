"""SGLang's metrics (``--enable-metrics``), per pod, labelled ``model_name``.

Names, help, buckets and labels from sgl-project/sglang:

- ``python/sglang/srt/metrics/collector.py`` (moved to
  ``python/sglang/srt/observability/metrics_collector.py`` later), ``SchedulerMetricsCollector``:
  gauges ``sglang:num_running_reqs``, ``sglang:num_queue_reqs``, ``sglang:token_usage``
  (used KV-cache tokens over the pool, 0..1), labelled as the scheduler labels them in
  ``python/sglang/srt/managers/scheduler.py``: ``model_name``, ``engine_type``,
  ``tp_rank``, ``pp_rank`` (only attention-TP rank 0 reports unless
  ``--enable-metrics-for-all-schedulers``);
- the same file, ``TokenizerMetricsCollector`` (labels ``model_name``, ``engine_type``
  from ``python/sglang/srt/managers/tokenizer_manager.py``): counter
  ``sglang:num_requests_total`` (finished requests) and histograms
  ``sglang:time_to_first_token_seconds`` and ``sglang:e2e_request_latency_seconds`` with
  their default buckets;
- ``python/sglang/srt/utils/common.py``, ``add_prometheus_track_response_middleware``:
  ``sglang:http_requests_total{endpoint, method}`` and
  ``sglang:http_responses_total{endpoint, status_code, method}``, exact status codes, no
  model label (one model per server).

``namespace`` and ``pod`` are what Kubernetes service discovery attaches to the pod's
scrape. The pod answers the requests the platform admitted (the engine's 200s, 500s and
503s, spread evenly over the model's pods); the histograms are the engine's, read at
SGLang's bounds (`tui.sim.stacks.serving.cumulative_at`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString

from tui.sim.engine import HistogramSample, PodGauges
from tui.sim.fleet import NAMESPACE
from tui.sim.stacks.common import gauges
from tui.sim.stacks.reading import Reading
from tui.sim.stacks.serving import cumulative_at, per_pod

TTFT_BUCKETS = (
    0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400,
)  # fmt: skip
"""``TokenizerMetricsCollector``'s default ``bucket_time_to_first_token``."""
E2E_BUCKETS = (
    0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400, 600, 1200,
    1800, 2400,
)  # fmt: skip
"""``TokenizerMetricsCollector``'s default ``bucket_e2e_request_latency``."""
SCHEDULER_GAUGES: tuple[tuple[str, str, Callable[[PodGauges], float]], ...] = (
    ("sglang:num_running_reqs", "The number of running requests.", lambda p: p.running),
    ("sglang:num_queue_reqs", "The number of requests in the waiting queue.",
     lambda p: round(p.waiting)),
    ("sglang:token_usage", "The token usage.", lambda p: round(p.kv_cache_usage, 4)),
)  # fmt: skip
ENGINE_TYPE = "unified"
ENDPOINT = "/v1/chat/completions"
METHOD = "POST"
ANSWERED = ("200", "500", "503")
"""The engine's status codes the server answers itself (a gateway's 429 never reaches it)."""


def _buckets(h: HistogramSample, bounds: tuple[float, ...], pods: int) -> list[tuple[str, int]]:
    counts = cumulative_at(h, bounds)
    return [
        *((floatToGoString(le), per_pod(c, pods)) for le, c in zip(bounds, counts, strict=True)),
        ("+Inf", per_pod(h.count, pods)),
    ]


def emit(r: Reading) -> Iterator[Metric]:
    scheduler = ["model_name", "engine_type", "tp_rank", "pp_rank", "namespace", "pod"]
    yield from gauges(
        SCHEDULER_GAUGES,
        scheduler,
        [([p.model, ENGINE_TYPE, "0", "0", NAMESPACE, p.pod], p) for p in r.pods],
    )
    tokenizer = ["model_name", "engine_type", "namespace", "pod"]
    finished = CounterMetricFamily(
        "sglang:num_requests", "Number of requests processed.", labels=tokenizer
    )
    ttft = HistogramMetricFamily(
        "sglang:time_to_first_token_seconds", "Histogram of time to first token in seconds.",
        labels=tokenizer,
    )  # fmt: skip
    e2e = HistogramMetricFamily(
        "sglang:e2e_request_latency_seconds", "Histogram of End-to-end request latency in seconds",
        labels=tokenizer,
    )  # fmt: skip
    asked = CounterMetricFamily(
        "sglang:http_requests", "Total number of HTTP requests by endpoint and method",
        labels=["endpoint", "method", "namespace", "pod"],
    )  # fmt: skip
    answered = CounterMetricFamily(
        "sglang:http_responses", "Total number of HTTP responses by endpoint and status code",
        labels=["endpoint", "status_code", "method", "namespace", "pod"],
    )  # fmt: skip
    for model in r.fleet.models:
        m = r.sample.models[model.name]
        n = len(model.pods)
        ttft_buckets = _buckets(m.ttft, TTFT_BUCKETS, n)
        e2e_buckets = _buckets(m.e2e, E2E_BUCKETS, n)
        admitted = sum(m.requests.get(s, 0.0) for s in ANSWERED)
        for pod in model.pods:
            labels = [model.name, ENGINE_TYPE, NAMESPACE, pod]
            finished.add_metric(labels, per_pod(m.requests.get("200", 0.0), n))
            ttft.add_metric(labels, ttft_buckets, m.ttft.sum / n)
            e2e.add_metric(labels, e2e_buckets, m.e2e.sum / n)
            asked.add_metric([ENDPOINT, METHOD, NAMESPACE, pod], per_pod(admitted, n))
            for status in ANSWERED:
                count = per_pod(m.requests.get(status, 0.0), n)
                answered.add_metric([ENDPOINT, status, METHOD, NAMESPACE, pod], count)
    yield from (finished, ttft, e2e, asked, answered)
