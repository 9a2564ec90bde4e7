"""Envoy Gateway's proxy: Envoy cluster stats, one cluster per HTTPRoute rule.

Cluster names from envoyproxy/gateway ``internal/gatewayapi/helpers.go``
(``irRouteDestinationName``: ``<route kind lowercased>/<namespace>/<name>/rule/<index>``,
e.g. ``httproute/inference/vllm-llama-3-1-8b-instruct/rule/0``; ``api/v1alpha1/
envoyproxy_metric_types.go`` documents it as ``clusterStatName``'s default), used as the
xDS cluster's name by ``internal/xds/translator/cluster.go`` (``buildXdsCluster``).

Stat names from envoyproxy/envoy: the cluster's dynamic HTTP stats ``upstream_rq_<code>``,
``upstream_rq_<class>xx``, ``upstream_rq_total`` and the ``upstream_rq_time`` histogram
(ms, default buckets: `tui.sim.stacks.envoy_histogram`), tagged by
``source/common/config/well_known_names.cc`` (``envoy.cluster_name``,
``envoy.response_code`` from ``_rq(_(\\d{3}))$``, ``envoy.response_code_class`` from
``_rq_(\\d)xx$``) and written by ``source/server/admin/prometheus_stats.cc``: ``envoy_``
prefix, dots as ``_``, counters with no ``_total`` suffix::

    envoy_cluster_upstream_rq{envoy_response_code="503",envoy_cluster_name="httproute/…"}
    envoy_cluster_upstream_rq_xx{envoy_response_code_class="5",envoy_cluster_name="…"}

A 429 from Envoy Gateway's rate limit never goes upstream, but the rate limit filter
charges it to the route's cluster (envoyproxy/envoy
``docs/root/configuration/http/http_filters/rate_limit_filter.rst``: "429 responses …
are emitted to the normal cluster dynamic HTTP statistics", plus
``cluster.<route target cluster>.ratelimit.over_limit``): it is in ``upstream_rq{429}``
and ``upstream_rq_xx{4}``, not in ``upstream_rq_total`` nor ``upstream_rq_time``.

By this simulator's convention each model has one HTTPRoute named like its Deployment
(``vllm-<model>``, the fleet's pod name minus its two hash segments) in the models'
namespace. Envoy writes counters as ``# TYPE … counter`` without ``_total``;
prometheus-client's text writer would add ``_total`` to a counter family's TYPE line, so
they are written untyped: Prometheus stores the same samples. ``namespace``/``pod`` are
the proxy pod's scrape labels.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator

from prometheus_client.core import (
    HistogramMetricFamily,
    Metric,
    UnknownMetricFamily,
)

from tui.sim.fleet import NAMESPACE
from tui.sim.stacks.envoy_histogram import envoy_buckets, served
from tui.sim.stacks.istio import deployment
from tui.sim.stacks.reading import Reading

PROXY_NAMESPACE = "envoy-gateway-system"
GATEWAY = "llm-gateway"
"""The Gateway resource (in the models' namespace) whose Envoy proxy serves the routes."""
REJECTED = "429"
LABELS = ["envoy_cluster_name", "namespace", "pod"]


def route_cluster(route: str, rule: int = 0, namespace: str = NAMESPACE) -> str:
    """``irRouteDestinationName`` for an HTTPRoute's rule."""
    return f"httproute/{namespace}/{route}/rule/{rule}"


def proxy_pod(seed: int) -> str:
    """Envoy Gateway names a Gateway's proxy Deployment ``envoy-<ns>-<gateway>-<hash8>``
    (``internal/infrastructure/kubernetes/proxy/resource.go``,
    ``ExpectedResourceHashedName``); its pods add the usual two hashes."""
    digest = hashlib.blake2b(f"{seed}:{GATEWAY}:proxy".encode(), digest_size=12).hexdigest()
    return f"envoy-{NAMESPACE}-{GATEWAY}-{digest[:8]}-{digest[8:17]}-{digest[17:22]}"


def emit(r: Reading) -> Iterator[Metric]:
    pod = proxy_pod(r.fleet.seed)
    by_code = UnknownMetricFamily(
        "envoy_cluster_upstream_rq", "", labels=["envoy_response_code", *LABELS]
    )
    by_class = UnknownMetricFamily(
        "envoy_cluster_upstream_rq_xx", "", labels=["envoy_response_code_class", *LABELS]
    )
    sent = UnknownMetricFamily("envoy_cluster_upstream_rq_total", "", labels=LABELS)
    over_limit = UnknownMetricFamily("envoy_cluster_ratelimit_over_limit", "", labels=LABELS)
    upstream_time = HistogramMetricFamily("envoy_cluster_upstream_rq_time", "", labels=LABELS)
    for model in r.fleet.models:
        m = r.sample.models[model.name]
        where = [route_cluster(deployment(model.pods[0])), PROXY_NAMESPACE, pod]
        # Whole requests, and each class the sum of its codes, as Envoy's counters are.
        codes = {code: math.floor(count) for code, count in m.requests.items()}
        classes: dict[str, int] = {}
        for code, count in codes.items():
            by_code.add_metric([code, *where], count)
            classes[code[0]] = classes.get(code[0], 0) + count
        for cls, count in sorted(classes.items()):
            by_class.add_metric([cls, *where], count)
        rejected = m.requests.get(REJECTED, 0.0)
        sent.add_metric(where, sum(codes.values()) - codes.get(REJECTED, 0))
        over_limit.add_metric(where, codes.get(REJECTED, 0))
        buckets, total_ms = envoy_buckets(served(m.latency, rejected))
        upstream_time.add_metric(where, buckets, total_ms)
    yield by_code
    yield by_class
    yield sent
    yield over_limit
    yield upstream_time
