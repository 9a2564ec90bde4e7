"""vLLM's HTTP server: prometheus-fastapi-instrumentator's default metrics, per pod.

vLLM mounts the instrumentator on its OpenAI server with the defaults
(vllm-project/vllm ``vllm/entrypoints/serve/instrumentator/metrics.py``:
``Instrumentator(excluded_handlers=["/metrics", "/health", …]).add().instrument(app)``),
so the families and labels are the instrumentator's own (trallnag/prometheus-fastapi-
instrumentator ``src/prometheus_fastapi_instrumentator/metrics.py``, ``default()``;
``middleware.py`` for the status grouping):

- ``http_requests_total{handler, method, status}``: ``status`` is a class (``2xx``,
  ``5xx``): ``should_group_status_codes`` defaults to True;
- ``http_request_duration_seconds{handler, method}``: ``latency_lowr_buckets`` default
  ``(0.1, 0.5, 1)`` plus ``+Inf``, and no status label.

No model label: one model per pod. ``namespace`` and ``pod`` are what Kubernetes service
discovery attaches to the pod's scrape. The pod sees the requests the platform admitted
(a gateway's 429 never reaches it): the engine's 200s as ``2xx``, its 500s and 503s as
``5xx``, spread evenly over the model's pods; the latency histogram is the engine's
request duration without the gateway's rejections, read at 0.1, 0.5 and 1 s (bounds the
engine has, so the counts are exact).
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString

from tui.sim.engine import REJECTED_LATENCY_S
from tui.sim.fleet import NAMESPACE
from tui.sim.stacks.reading import Reading
from tui.sim.stacks.serving import cumulative_at, per_pod

LOWR_BUCKETS = (0.1, 0.5, 1.0)
"""prometheus-fastapi-instrumentator ``metrics.default(latency_lowr_buckets=(0.1, 0.5, 1))``."""
HANDLER = "/v1/chat/completions"
METHOD = "POST"
STATUS_CLASS = {"200": "2xx", "500": "5xx", "503": "5xx"}
"""Engine status codes the pod answers, by the class the instrumentator writes."""
REJECTED = "429"
"""Answered by the gateway's rate limiter: never reaches the pod."""


def emit(r: Reading) -> Iterator[Metric]:
    requests = CounterMetricFamily(
        "http_requests", "Total number of requests by method, status and handler.",
        labels=["handler", "method", "status", "namespace", "pod"],
    )  # fmt: skip
    latency = HistogramMetricFamily(
        "http_request_duration_seconds",
        "Latency with only few buckets by handler. "
        "Made to be only used if aggregation by handler is important. ",
        labels=["handler", "method", "namespace", "pod"],
    )
    for model in r.fleet.models:
        m = r.sample.models[model.name]
        n = len(model.pods)
        by_class: dict[str, float] = {}
        for status, count in m.requests.items():
            if status in STATUS_CLASS:
                by_class[STATUS_CLASS[status]] = by_class.get(STATUS_CLASS[status], 0.0) + count
        # The engine's duration histogram holds the gateway's 429s at REJECTED_LATENCY_S,
        # under every bound here: take them out of each.
        rejected = m.requests.get(REJECTED, 0.0)
        counts = [max(0.0, c - rejected) for c in cumulative_at(m.latency, LOWR_BUCKETS)]
        total = max(0.0, m.latency.count - rejected)
        seconds = max(0.0, m.latency.sum - rejected * REJECTED_LATENCY_S)
        finite = zip(LOWR_BUCKETS, counts, strict=True)
        buckets = [
            *((floatToGoString(le), per_pod(c, n)) for le, c in finite),
            ("+Inf", per_pod(total, n)),
        ]
        for pod in model.pods:
            for status, count in by_class.items():
                requests.add_metric([HANDLER, METHOD, status, NAMESPACE, pod], per_pod(count, n))
            latency.add_metric([HANDLER, METHOD, NAMESPACE, pod], buckets, seconds / n)
    yield requests
    yield latency
