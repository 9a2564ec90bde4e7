"""vLLM's HTTP server: request counts by status class and a coarse latency histogram.

vLLM instruments its OpenAI server with prometheus-fastapi-instrumentator's defaults
(vllm-project/vllm ``vllm/entrypoints/serve/instrumentator/metrics.py``; the families,
labels and buckets are trallnag/prometheus-fastapi-instrumentator
``src/prometheus_fastapi_instrumentator/metrics.py`` ``default()`` and ``middleware.py``):

- ``http_requests_total{handler, method, status}`` → requests and 5xx. ``status`` is a
  class (``2xx``, ``4xx``, ``5xx``): a ``4xx`` cannot tell a 429 from a 400, so this
  stack has no source for 429s (`limited` is None, never 0);
- ``http_request_duration_seconds_bucket{handler, method, le}`` → latency. Its buckets
  are 0.1, 0.5 and 1 s: a p99 past 1 s reads as the bound and the screen says ``>1 s``
  (`tui.sources.stacks.compose` computes the fraction past the top bucket).

Only inference calls count: POSTs to a templated route (``handler`` starts with ``/``;
untemplated paths are grouped as ``none``). These series carry no model (one model per
pod): they reach a model row through the pod they came from (`base.through_pods`), whose
model the engine's own gauges name (``vllm:num_requests_running{model_name}``, read in
either spelling). The generic gateway reads the same metric name but only series with a
``model`` label; these have ``handler`` and no ``model``.
"""

from __future__ import annotations

from tui.sources.promql import selector
from tui.sources.stacks.base import (
    MODEL,
    Buckets,
    Query,
    Stack,
    by_model,
    through_pods,
    zero_filled,
)
from tui.sources.stacks.vllm import Vllm

REQUESTS = "http_requests_total"
DURATION_BUCKET = "http_request_duration_seconds_bucket"
INFERENCE = {"method": "POST"}
TEMPLATED = {"handler": "/.+"}
ERROR_CLASS = "5.."
"""Matches the ``5xx`` class (and a code, should grouping be turned off)."""


class VllmHttp(Stack):
    name = "vllm_http"
    title = "vLLM HTTP"
    layer = "server"
    source = (
        "vllm-project/vllm vllm/entrypoints/serve/instrumentator/metrics.py; "
        "trallnag/prometheus-fastapi-instrumentator "
        "src/prometheus_fastapi_instrumentator/metrics.py"
    )
    # Present where an instrumented handler's counter sits on a pod that runs vLLM's
    # engine: any other FastAPI app with the instrumentator is not vLLM.
    detect = (
        f"({selector(REQUESTS, regex=TEMPLATED)} and on (namespace, pod) "
        f"{selector('vllm:num_requests_running')})",
    )

    def _per_model(self, q: Query, regex: dict[str, str] | None = None) -> str:
        counted = q.rate(REQUESTS, INFERENCE, {**TEMPLATED, **(regex or {})})
        per_pod = f"sum by (namespace, pod) ({counted})"
        return by_model(through_pods(per_pod, q))

    def requests(self, q: Query) -> str:
        return self._per_model(q)

    def errors(self, q: Query) -> str:
        return zero_filled(self._per_model(q, {"status": ERROR_CLASS}), self.requests(q))

    def latency(self, q: Query) -> Buckets:
        per_pod = f"sum by (namespace, pod, le) ({q.rate(DURATION_BUCKET, INFERENCE, TEMPLATED)})"
        return Buckets(f"sum by ({MODEL}, le) ({through_pods(per_pod, q)})")

    def pods(self) -> str:
        # The engine beside the HTTP server names the pod's model: this stack joins
        # through its own pods even when the engine's adapter is not in use.
        return Vllm().pods()
