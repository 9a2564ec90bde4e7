"""SGLang's server metrics (``--enable-metrics``): TTFT, latency, queue, KV cache, status codes.

Names from sgl-project/sglang, each read in both spellings (``sglang:x`` and ``sglang_x``:
prometheus-client >= 0.23 rewrites the colon under OpenMetrics, FIELD-NOTES), so every
selector here names ``{__name__=~"sglang[:_]x"}`` itself:

- ``python/sglang/srt/metrics/collector.py`` (later
  ``python/sglang/srt/observability/metrics_collector.py``), ``SchedulerMetricsCollector``,
  labels ``model_name``, ``engine_type``, ``tp_rank``, ``pp_rank`` (+ ``dp_rank``):
  ``sglang:num_queue_reqs`` → queue; ``sglang:token_usage`` (used KV-cache tokens over
  the pool) → KV cache; ``sglang:num_running_reqs`` → the pod map;
- the same file, ``TokenizerMetricsCollector``, labels ``model_name``, ``engine_type``:
  ``sglang:time_to_first_token_seconds`` → TTFT; ``sglang:e2e_request_latency_seconds``
  → latency; ``sglang:num_requests_total`` (finished requests) → requests where the
  HTTP counter below is missing (SGLang before it);
- ``python/sglang/srt/utils/common.py``, ``add_prometheus_track_response_middleware``:
  ``sglang:http_responses_total{endpoint, status_code, method}`` → requests, 5xx and
  429 (exact codes). No model label (one model per server): through the pod.

With ``--enable-metrics-for-all-schedulers`` every tensor-parallel rank reports the same
queue: a pod's queue is its largest rank's, summed over data-parallel ranks and pods.
"""

from __future__ import annotations

from tui.sources.promql import check_label_name, escape_label_value
from tui.sources.stacks.base import (
    MODEL,
    Buckets,
    Query,
    Stack,
    by_model,
    relabel,
    through_pods,
    zero_filled,
)

LABEL = "model_name"
INFERENCE = {"method": "POST"}
ENDPOINTS = {"endpoint": "/generate|/encode|/classify|/v1/.+"}
"""The inference routes (SGLang's native ones and the OpenAI-compatible ``/v1/…``)."""


def sglang(name: str, equal: dict[str, str] | None = None,
           regex: dict[str, str] | None = None) -> str:  # fmt: skip
    """A selector for SGLang's family ``name`` (without prefix) in either spelling."""
    terms = [(k, "=", v) for k, v in (equal or {}).items()]
    terms += [(k, "=~", v) for k, v in (regex or {}).items()]
    parts = [f'__name__=~"sglang[:_]{escape_label_value(name)}"']
    parts += [f'{check_label_name(k)}{op}"{escape_label_value(v)}"' for k, op, v in sorted(terms)]
    return f"{{{','.join(parts)}}}"


class Sglang(Stack):
    name = "sglang"
    title = "SGLang"
    layer = "server"
    source = (
        "sgl-project/sglang python/sglang/srt/metrics/collector.py; "
        "python/sglang/srt/utils/common.py"
    )
    detect = (sglang("num_running_reqs"),)

    def _rate(self, q: Query, name: str, equal: dict[str, str] | None = None,
              regex: dict[str, str] | None = None) -> str:  # fmt: skip
        return f"rate({sglang(name, equal, regex)}[{q.window}])"

    def _http(self, q: Query, status: str | None = None) -> str:
        regex = {**ENDPOINTS, **({"status_code": status} if status else {})}
        answered = self._rate(q, "http_responses_total", INFERENCE, regex)
        per_pod = f"sum by (namespace, pod) ({answered})"
        return by_model(through_pods(per_pod, q))

    def requests(self, q: Query) -> str:
        finished = by_model(self._rate(q, "num_requests_total"), LABEL)
        return f"({self._http(q)}) or ({finished})"

    def errors(self, q: Query) -> str:
        # Against the HTTP counter alone: where it is missing there is no 5xx source.
        return zero_filled(self._http(q, "5.."), self._http(q))

    def limited(self, q: Query) -> str:
        return zero_filled(self._http(q, "429"), self._http(q))

    def latency(self, q: Query) -> Buckets:
        return Buckets(by_model(self._rate(q, "e2e_request_latency_seconds_bucket"), LABEL, "le"))

    def ttft(self, q: Query) -> Buckets:
        return Buckets(by_model(self._rate(q, "time_to_first_token_seconds_bucket"), LABEL, "le"))

    def queue(self, q: Query) -> str:
        per_rank = f"max by (namespace, pod, {LABEL}, dp_rank) ({sglang('num_queue_reqs')})"
        return by_model(per_rank, LABEL)

    def kv_cache(self, q: Query) -> str:
        return f"max by ({MODEL}) ({relabel(sglang('token_usage'), MODEL, LABEL)})"

    def pods(self) -> str:
        running = relabel(sglang("num_running_reqs"), MODEL, LABEL)
        return f"group by (namespace, pod, {MODEL}) ({running})"
