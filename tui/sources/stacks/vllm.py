"""vLLM's engine metrics: TTFT, end-to-end latency, queue and KV cache, per model.

Names from vllm-project/vllm ``vllm/v1/metrics/loggers.py`` (``PrometheusStatLogger``),
labels ``model_name`` and ``engine``; ``namespace`` and ``pod`` come from the scrape
(Kubernetes service discovery). prometheus-client >= 0.23 writes ``vllm:x`` as ``vllm_x``
when Prometheus negotiates OpenMetrics, so every name matches both spellings
(`tui.sources.promql.selector`). ``vllm:kv_cache_usage_perc`` was
``vllm:gpu_cache_usage_perc`` before v0.10: both are read.

The engine counts no HTTP status, so vLLM alone feeds no 5xx or 429 figure (its HTTP
server's own counters do: `tui.sources.stacks.vllm_http`); its end-to-end histogram is the
latency figure when no gateway reports the model.
"""

from __future__ import annotations

from tui.config import MetricProfile
from tui.sources.promql import selector
from tui.sources.stacks.base import MODEL, Buckets, Query, Stack, by_model, relabel


class Vllm(Stack):
    name = "vllm"
    title = "vLLM"
    layer = "server"
    source = "vllm-project/vllm vllm/v1/metrics/loggers.py"
    # Any engine family will do: a scrape that keeps only some of them (a relabelling
    # allow-list, a recording of the histograms alone) is still vLLM.
    detect = (
        '{__name__=~"vllm[:_](num_requests_running|num_requests_waiting'
        '|time_to_first_token_seconds_count|e2e_request_latency_seconds_count)"}',
    )

    def __init__(self, profile: MetricProfile | None = None) -> None:
        # ``[metrics]`` may rename the model label and the TTFT, queue and per-pod gauges
        # (a relabelled scrape, a fork); their defaults are vLLM's own names.
        p = profile or MetricProfile()
        self._label, self._running = p.server_model_label, p.running
        self._ttft, self._waiting = p.ttft_bucket, p.queue_waiting
        self._pod, self._namespace = p.pod_label, p.namespace_label

    def requests(self, q: Query) -> str:
        # Finished requests (every finished_reason): the engine's own throughput.
        return by_model(q.rate("vllm:e2e_request_latency_seconds_count"), self._label)

    def latency(self, q: Query) -> Buckets:
        rates = q.rate("vllm:e2e_request_latency_seconds_bucket")
        return Buckets(by_model(rates, self._label, "le"))

    def ttft(self, q: Query) -> Buckets:
        return Buckets(by_model(q.rate(self._ttft), self._label, "le"))

    def queue(self, q: Query) -> str:
        return by_model(selector(self._waiting), self._label)

    def kv_cache(self, q: Query) -> str:
        usage = (f"{selector('vllm:kv_cache_usage_perc')} or "
                 f"{selector('vllm:gpu_cache_usage_perc')}")  # fmt: skip
        return f"max by ({MODEL}) ({relabel(f'({usage})', MODEL, self._label)})"

    def pods(self) -> str:
        running = relabel(selector(self._running), MODEL, self._label)
        if self._pod != "pod" or self._namespace != "namespace":
            running = relabel(relabel(running, "pod", self._pod), "namespace", self._namespace)
        return f"group by (namespace, pod, {MODEL}) ({running})"
