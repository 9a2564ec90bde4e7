"""Istio's standard metrics, each request counted once although two hops report it.

Names and labels from istio/proxy
``source/extensions/filters/http/istio_stats/istio_stats.cc`` (label meanings in
istio/istio.io ``content/en/docs/reference/config/telemetry/metrics/index.md``):

- ``istio_requests_total{reporter, source_workload, source_workload_namespace,
  destination_workload, destination_workload_namespace, response_code, …}``, a counter
  every sidecar increments per request, ``reporter="destination"`` on its inbound side,
  ``"source"`` on its outbound side;
- ``istio_request_duration_milliseconds_bucket`` with the same labels, in ms on Envoy's
  default bounds (envoyproxy/envoy ``source/common/stats/histogram_impl.cc``: …, 5000,
  10000, 30000, … — no bound between 10 s and 30 s).

The shape this untangles: callers reach a sidecar-injected router (an LLM gateway
Deployment) that forwards each request to the model's Deployment. Both hops report the
request with ``reporter="destination"`` (and the router's outbound side again with
``"source"``), so summing every destination report counts it twice; a 429 the router
answers itself never reaches a model workload. So:

- **model rows** come from the model hop only: ``reporter="destination"`` series whose
  ``destination_workload_namespace``/``destination_workload`` is a model server's
  Deployment, joined to the served model by `Query.workloads` (the pod map's Deployment
  names). A workload that is no model server (the router) makes no row;
- **Σ** (`totals`) comes from the gateway hop: ``reporter="destination"`` series at
  workloads that are no model server but do send requests to one (the ``source_workload``
  of the model hop), so the router's own 429s count and nothing counts twice. With no
  such hop (callers reach the models straight), Σ is the sum of the model rows;
- **latency** is the model hop's, in ms (``Buckets(unit_s=0.001)``).

Limits, all from reading Istio's labels alone: a mesh service that calls a model itself
(not through the gateway) counts as a gateway hop, so its own inbound traffic enters Σ;
requests that reach a model straight from outside the mesh while a gateway hop exists
are in their model's row but not in Σ. Ambient mode's ``reporter="waypoint"`` and a
gateway without a sidecar (an Istio ingress gateway reports ``reporter="source"`` only)
are not read.
"""

from __future__ import annotations

from tui.sources.stacks.base import (
    MODEL,
    WORKLOAD,
    Buckets,
    Query,
    Stack,
    relabel,
    zero_filled,
)

REQUESTS = "istio_requests_total"
DURATION = "istio_request_duration_milliseconds_bucket"
INBOUND = {"reporter": "destination"}
ERROR_CODES = {"response_code": "5.."}
LIMITED = {"response_code": "429"}
JOIN = f"namespace, {WORKLOAD}"


def _at(expr: str, namespace: str, workload: str) -> str:
    """``expr`` with ``namespace`` and ``warroom_workload`` set from its Istio labels."""
    return relabel(relabel(expr, "namespace", namespace), WORKLOAD, workload)


class Istio(Stack):
    name = "istio"
    title = "Istio"
    layer = "gateway"
    source = "istio/proxy source/extensions/filters/http/istio_stats/istio_stats.cc"
    detect = ('istio_requests_total{reporter="destination"}',)

    # -- the pieces ------------------------------------------------------------------

    def _inbound(self, q: Query, metric: str, regex: dict[str, str] | None = None) -> str:
        """Every ``reporter="destination"`` series, labelled with the workload reporting."""
        series = q.rate(metric, {**q.matchers, **INBOUND}, regex)
        return _at(series, "destination_workload_namespace", "destination_workload")

    @staticmethod
    def _models(q: Query) -> str:
        """One series per model server Deployment: ``topk`` keeps one model should a
        Deployment's pods name two (mid-rollout), so the join can never be many-to-many."""
        return f"topk by ({JOIN}) (1, {q.workloads()})"

    def _model_hop(self, q: Query, metric: str, regex: dict[str, str] | None = None) -> str:
        """The inbound series at model servers, each with its ``warroom_model``."""
        inbound = self._inbound(q, metric, regex)
        return f"({inbound}) * on ({JOIN}) group_left ({MODEL}) ({self._models(q)})"

    def _gateway_hop(self, q: Query, regex: dict[str, str] | None = None) -> str:
        """The inbound requests at workloads that are no model server but call one."""
        callers = _at(self._model_hop(q, REQUESTS), "source_workload_namespace",
                      "source_workload")  # fmt: skip
        return (
            f"(({self._inbound(q, REQUESTS, regex)}) unless on ({JOIN}) ({self._models(q)}))"
            f" and on ({JOIN}) group by ({JOIN}) ({callers})"
        )

    # -- the figures -----------------------------------------------------------------

    def requests(self, q: Query) -> str:
        return f"sum by ({MODEL}) ({self._model_hop(q, REQUESTS)})"

    def errors(self, q: Query) -> str:
        part = f"sum by ({MODEL}) ({self._model_hop(q, REQUESTS, ERROR_CODES)})"
        return zero_filled(part, self.requests(q))

    def limited(self, q: Query) -> str:
        part = f"sum by ({MODEL}) ({self._model_hop(q, REQUESTS, LIMITED)})"
        return zero_filled(part, self.requests(q))

    def totals(self, q: Query) -> dict[str, str]:
        gateway = f"sum({self._gateway_hop(q)})"
        out = {"requests": f"{gateway} or sum({self.requests(q)})"}
        for figure, codes in (("errors", ERROR_CODES), ("limited", LIMITED)):
            rows = getattr(self, figure)(q)
            out[figure] = f"sum({self._gateway_hop(q, codes)}) or (0 * {gateway}) or sum({rows})"
        return out

    def latency(self, q: Query) -> Buckets:
        return Buckets(f"sum by ({MODEL}, le) ({self._model_hop(q, DURATION)})", 0.001)
