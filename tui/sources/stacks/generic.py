"""The generic gateway: a request counter and a latency histogram labelled by model.

The names come from ``[metrics]`` (defaults: ``http_requests_total{model,status_code}``,
``http_request_duration_seconds_bucket{model}``), so any gateway instrumented with a
prometheus-client counter fits; the older ``profile`` settings (``istio``,
``ingress-nginx``) fill these names too. Status may hold codes (``503``) or classes
(``5xx``): 5xx reads either way, 429 only from codes (a ``4xx`` class cannot tell a 429
from a 400, so the 429 pane then says it has no source).
"""

from __future__ import annotations

from tui.config import MetricProfile
from tui.sources.stacks.base import Buckets, Query, Stack, by_model, zero_filled

ERROR_STATUS = "5.."
"""Matches a code (``503``) and a class (``5xx``) alike."""
NUMERIC_STATUS = "[1-5][0-9][0-9]"


class Generic(Stack):
    name = "generic"
    title = "gateway"
    layer = "gateway"
    source = "warroom's own default profile ([metrics] in the config)"

    def __init__(self, profile: MetricProfile) -> None:
        self._p = profile
        # Only series with the model label count: vLLM's own instrumentator writes the
        # same metric name with no model (``vllm_http`` reads those).
        self.detect = (f'{profile.requests_total}{{{profile.model_label}!=""}}',)

    def _by_model(self, q: Query, regex: dict[str, str] | None = None, **equal: str) -> str:
        p = self._p
        regex = {p.model_label: "(?s).+", **(regex or {})}
        return by_model(q.rate(p.requests_total, {**p.matchers, **equal}, regex), p.model_label)

    def requests(self, q: Query) -> str:
        return self._by_model(q)

    def errors(self, q: Query) -> str:
        status = self._p.status_label
        return zero_filled(self._by_model(q, {status: ERROR_STATUS}), self.requests(q))

    def limited(self, q: Query) -> str:
        status = self._p.status_label
        coded = self._by_model(q, {status: NUMERIC_STATUS})
        return zero_filled(self._by_model(q, **{status: "429"}), coded)

    def latency(self, q: Query) -> Buckets:
        p = self._p
        series = q.rate(p.latency_bucket, dict(p.matchers), {p.model_label: "(?s).+"})
        return Buckets(by_model(series, p.model_label, "le"), p.latency_unit_s)
