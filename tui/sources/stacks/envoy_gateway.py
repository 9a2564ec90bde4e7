"""Envoy Gateway: Envoy's cluster stats, one cluster per route rule, joined to the model.

Cluster names from envoyproxy/gateway ``internal/gatewayapi/helpers.go``
(``irRouteDestinationName``): ``<route kind>/<namespace>/<route name>/rule/<index>``,
e.g. ``httproute/inference/vllm-llama-3-1-8b-instruct/rule/0`` (the default of the
EnvoyProxy ``telemetry.metrics.clusterStatName``, ``api/v1alpha1/
envoyproxy_metric_types.go``; a custom pattern is not read). Stat names and tags from
envoyproxy/envoy ``source/common/config/well_known_names.cc`` and
``source/server/admin/prometheus_stats.cc``:

- ``envoy_cluster_upstream_rq_xx{envoy_cluster_name, envoy_response_code_class="5"}``:
  responses by class, every response (requests);
- ``envoy_cluster_upstream_rq{envoy_cluster_name, envoy_response_code="429"}``: by code.
  Envoy's rate limit filters charge their 429s to the route's cluster
  (``docs/root/configuration/http/http_filters/rate_limit_filter.rst``), so a rejected
  request is in both, though it never went upstream;
- ``envoy_cluster_upstream_rq_time_bucket``: upstream time in ms on Envoy's default
  bounds (``source/common/stats/histogram_impl.cc``).

**Route to model, by convention:** the HTTPRoute that serves a model is named after the
model server's Deployment, in its namespace (``vllm-llama-3-1-8b-instruct`` for pods
``vllm-llama-3-1-8b-instruct-<hash>-<hash>``). The route's namespace and name, read off
the cluster name, join the Deployment map of `Query.workloads`; every rule of a route
adds up. A route that joins nothing (named otherwise, or a model with no server stack
in use) is a row of its own, named ``<namespace>/<route>``, so no traffic hides. No
configuration is needed either way.
"""

from __future__ import annotations

from tui.sources.promql import escape_label_value, selector
from tui.sources.stacks.base import MODEL, WORKLOAD, Buckets, Query, Stack, relabel, zero_filled

CLUSTER = "envoy_cluster_name"
ROUTE_CLUSTER = "[a-z]+route/([^/]+)/([^/]+)/rule/[0-9]+"
"""``irRouteDestinationName``: kind, namespace, name, rule index."""
ROUTE = "warroom_route"
"""The label holding ``<namespace>/<route>``: the row a route that joins nothing makes."""
JOIN = f"namespace, {WORKLOAD}"


def _from_cluster(expr: str, to: str, replacement: str) -> str:
    regex = escape_label_value(ROUTE_CLUSTER)
    return f'label_replace({expr}, "{to}", "{replacement}", "{CLUSTER}", "{regex}")'


class EnvoyGateway(Stack):
    name = "envoy_gateway"
    title = "Envoy Gateway"
    layer = "gateway"
    source = "envoyproxy/gateway internal/gatewayapi/helpers.go (irRouteDestinationName)"
    detect = (selector("envoy_cluster_upstream_rq_xx", regex={CLUSTER: ROUTE_CLUSTER}),)

    def _by_route(self, q: Query, metric: str, *also: str, **equal: str) -> str:
        """``metric``'s rate by route (``namespace``, ``warroom_workload``,
        ``warroom_route``) and ``also``."""
        series = q.rate(metric, {**q.matchers, **equal}, {CLUSTER: ROUTE_CLUSTER})
        series = _from_cluster(series, "namespace", "$1")
        series = _from_cluster(series, WORKLOAD, "$2")
        series = _from_cluster(series, ROUTE, "$1/$2")
        return f"sum by ({', '.join(('namespace', WORKLOAD, ROUTE, *also))}) ({series})"

    def _by_model(self, q: Query, metric: str, *also: str, **equal: str) -> str:
        routes = self._by_route(q, metric, *also, **equal)
        models = f"topk by ({JOIN}) (1, {q.workloads()})"
        by = ", ".join((MODEL, *also))
        joined = f"sum by ({by}) (({routes}) * on ({JOIN}) group_left ({MODEL}) ({models}))"
        alone = relabel(f"({routes}) unless on ({JOIN}) ({models})", MODEL, ROUTE)
        return f"({joined}) or sum by ({by}) ({alone})"

    def requests(self, q: Query) -> str:
        return self._by_model(q, "envoy_cluster_upstream_rq_xx")

    def errors(self, q: Query) -> str:
        part = self._by_model(q, "envoy_cluster_upstream_rq_xx", envoy_response_code_class="5")
        return zero_filled(part, self.requests(q))

    def limited(self, q: Query) -> str:
        part = self._by_model(q, "envoy_cluster_upstream_rq", envoy_response_code="429")
        return zero_filled(part, self.requests(q))

    def latency(self, q: Query) -> Buckets:
        return Buckets(self._by_model(q, "envoy_cluster_upstream_rq_time_bucket", "le"), 0.001)
