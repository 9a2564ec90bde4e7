"""LiteLLM proxy: every client request by the model asked for, with its HTTP status.

Names from BerriAI/litellm ``litellm/types/integrations/prometheus.py``
(``PrometheusMetricLabels``) as ``litellm/integrations/prometheus.py``
(``PrometheusLogger``) records them; prometheus-client exports the counters ``_total``.

The model row is ``requested_model``: the model name the client sent, which LiteLLM
routes as a model group (``model_name`` in its config). Warroom's convention is that it
is the name the model server serves under (vLLM's ``--served-model-name``), so the
proxy's row and vLLM's ``model_name`` row are one. A request whose model is unknown
(``requested_model=""``) has no row.

- requests: ``litellm_proxy_total_requests_metric_total``, every ``status_code``
  (``"200"`` from the success event, ``str(<exception status>)`` from the failure hook).
- 5xx: ``status_code=~"5.."``, and ``"None"``: a failure whose exception carried no
  status, which the proxy answers 500.
- 429: ``status_code="429"`` (LiteLLM writes codes, never classes).
- latency: ``litellm_request_total_latency_metric`` (``LATENCY_BUCKETS``, 5 ms to 10 min
  since BerriAI/litellm#25527; 5 min before). Observed on success only: the latency of
  the requests that worked.
- TTFT: ``litellm_llm_api_time_to_first_token_metric``, streaming requests only: what a
  caller waits for through the proxy.

``litellm_proxy_failed_requests_metric_total`` carries the same failures by API key
(``hashed_api_key``, ``api_key_alias``), the source of a per-key 429 figure (the stack
protocol has no such figure yet). No queue or KV-cache source.
"""

from __future__ import annotations

from tui.sources.stacks.base import Buckets, Query, Stack, by_model, zero_filled

LABEL = "requested_model"
REQUESTS = "litellm_proxy_total_requests_metric_total"
LATENCY = "litellm_request_total_latency_metric_bucket"
TTFT = "litellm_llm_api_time_to_first_token_metric_bucket"
ERROR_STATUS = "5..|None"


class Litellm(Stack):
    name = "litellm"
    title = "LiteLLM"
    layer = "gateway"
    source = "BerriAI/litellm litellm/types/integrations/prometheus.py"
    detect = (f'{REQUESTS}{{{LABEL}!=""}}',)

    def _requests(self, q: Query, regex: dict[str, str] | None = None, **equal: str) -> str:
        series = q.rate(REQUESTS, {**q.matchers, **equal}, {LABEL: "(?s).+", **(regex or {})})
        return by_model(series, LABEL)

    def requests(self, q: Query) -> str:
        return self._requests(q)

    def errors(self, q: Query) -> str:
        return zero_filled(self._requests(q, {"status_code": ERROR_STATUS}), self.requests(q))

    def limited(self, q: Query) -> str:
        return zero_filled(self._requests(q, status_code="429"), self.requests(q))

    def latency(self, q: Query) -> Buckets:
        return Buckets(by_model(q.rate(LATENCY, q.matchers, {LABEL: "(?s).+"}), LABEL, "le"))

    def ttft(self, q: Query) -> Buckets:
        return Buckets(by_model(q.rate(TTFT, q.matchers, {LABEL: "(?s).+"}), LABEL, "le"))
