"""vLLM's engine metrics (v1 engine), per pod, labelled ``model_name`` and ``engine``.

Names and help from vllm-project/vllm ``vllm/v1/metrics/loggers.py`` (``PrometheusStatLogger``):
``vllm:num_requests_running``, ``vllm:num_requests_waiting``, ``vllm:kv_cache_usage_perc``
(gauges), ``vllm:time_to_first_token_seconds`` and ``vllm:e2e_request_latency_seconds``
(histograms). The ``namespace`` and ``pod`` labels are the ones Prometheus's Kubernetes
service discovery adds to each pod's scrape; one endpoint speaks for every pod here, so
they are written into the exposition (kept as they are: no target label collides).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import HistogramMetricFamily, Metric

from tui.sim.engine import PodGauges
from tui.sim.fleet import NAMESPACE
from tui.sim.stacks.common import buckets, gauges
from tui.sim.stacks.reading import Reading

POD_GAUGES: tuple[tuple[str, str, Callable[[PodGauges], float]], ...] = (
    ("vllm:num_requests_waiting", "Number of requests waiting to be processed.",
     lambda p: round(p.waiting)),
    ("vllm:num_requests_running", "Number of requests in model execution batches.",
     lambda p: p.running),
    ("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.",
     lambda p: round(p.kv_cache_usage, 4)),
)  # fmt: skip


def emit(r: Reading) -> Iterator[Metric]:
    # The histograms are per model here (the engine keeps one per model); vLLM writes one
    # per pod, which `sum by (model_name, le)` folds the same way.
    ttft = HistogramMetricFamily(
        "vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.",
        labels=["model_name", "engine", "namespace", "pod"],
    )  # fmt: skip
    e2e = HistogramMetricFamily(
        "vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.",
        labels=["model_name", "engine", "namespace", "pod"],
    )  # fmt: skip
    for model in r.fleet.models:
        m = r.sample.models[model.name]
        pod = model.pods[0]
        ttft.add_metric([model.name, "0", NAMESPACE, pod], buckets(m.ttft), m.ttft.sum)
        e2e.add_metric([model.name, "0", NAMESPACE, pod], buckets(m.e2e), m.e2e.sum)
    yield ttft
    yield e2e
    labels = ["model_name", "engine", "namespace", "pod"]
    yield from gauges(POD_GAUGES, labels, [([p.model, "0", NAMESPACE, p.pod], p) for p in r.pods])
