"""Istio's standard metrics from sidecar-injected pods, with a mesh gateway in front.

Names, tags and values from istio/proxy
``source/extensions/filters/http/istio_stats/istio_stats.cc``: the counter
``istio_requests_total`` and the histogram ``istio_request_duration_milliseconds``
(custom stat namespace ``istiocustom``, so Envoy's Prometheus writer drops its ``envoy_``
prefix), both with the same tags (``all_tags_``: ``reporter``, ``source_*``,
``destination_*``, ``request_protocol``, ``response_flags``,
``connection_security_policy``, ``response_code``, ``grpc_response_status``).
``reporter`` is ``destination`` on a sidecar's inbound listener, ``source`` on its
outbound one (``Reporter::ServerSidecar``/``ClientSidecar``); ``response_flags`` is
Envoy's short string, ``-`` when none. The duration buckets are Envoy's defaults, in ms
(`tui.sim.stacks.envoy_histogram`). The label meanings are in istio/istio.io
``content/en/docs/reference/config/telemetry/metrics/index.md``.

The awkward shape this reproduces: callers reach a sidecar-injected router Deployment
(`ROUTER`, e.g. an LLM gateway app), which forwards each request to the model's
Deployment. Three series sets come out of that:

- the router's inbound hop, ``reporter="destination"``, ``destination_workload=
  "llm-gateway"``: every request, every status, the router's own 429s included. The
  router's sidecar cannot see which model a request is for, so it has no model dimension;
- the router's outbound hop, ``reporter="source"``, ``source_workload="llm-gateway"``,
  ``destination_workload=<model Deployment>``: what it forwarded, no 429s;
- each model pod's inbound hop, ``reporter="destination"``, ``destination_workload=
  <model Deployment>``: the same forwarded requests again.

Summing every ``reporter="destination"`` series counts a forwarded request twice, and a
429 answered by the router never reaches a model workload. The model Deployment is the
fleet's pod name minus its ReplicaSet and pod hashes (``vllm-<model>``).

The engine keeps one latency histogram per model, not one per status, so the served
requests' durations are written under the ``response_code="200"`` series of each hop and
the router's rejections under ``"429"``; a reader summing over ``response_code`` (as any
latency query does) reads the same distribution. ``namespace`` and ``pod`` are what
Prometheus's Kubernetes pod discovery adds when it scrapes each sidecar's merged metrics
(port 15020), written into the exposition because one endpoint speaks for every pod.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric

from tui.sim.engine import HistogramSample
from tui.sim.fleet import NAMESPACE, ServedModel
from tui.sim.stacks.envoy_histogram import envoy_buckets, served
from tui.sim.stacks.reading import Reading

ROUTER = "llm-gateway"
"""The router Deployment every request passes through before it reaches a model."""
REJECTED = "429"
SERVED = ("200", "500", "503")
"""The engine's statuses a model server answers (429s stay at the router)."""
TAGS = [
    "reporter",
    "source_workload", "source_workload_namespace", "source_principal", "source_app",
    "source_version", "source_canonical_service", "source_canonical_revision",
    "source_cluster",
    "destination_workload", "destination_workload_namespace", "destination_principal",
    "destination_app", "destination_version", "destination_service",
    "destination_service_name", "destination_service_namespace",
    "destination_canonical_service", "destination_canonical_revision", "destination_cluster",
    "request_protocol", "response_flags", "connection_security_policy", "response_code",
    "grpc_response_status",
]  # fmt: skip
"""``all_tags_`` of istio_stats.cc, in its order."""
LABELS = [*TAGS, "namespace", "pod"]
CLUSTER = "Kubernetes"
"""``CLUSTER_ID`` of the proxies' node metadata: Istio's default cluster name."""


def deployment(pod: str) -> str:
    """A Deployment's pod name without its ReplicaSet hash and pod suffix."""
    return pod.rsplit("-", 2)[0]


def router_pod(seed: int) -> str:
    digest = hashlib.blake2b(f"{seed}:{ROUTER}".encode(), digest_size=8).hexdigest()
    return f"{ROUTER}-{digest[:9]}-{digest[9:14]}"


def _principal(workload: str) -> str:
    return f"spiffe://cluster.local/ns/{NAMESPACE}/sa/{workload}"


def _peer(side: str, workload: str | None) -> dict[str, str]:
    """The ``source_*`` or ``destination_*`` tags of a workload (None: a caller outside
    the mesh, which istio_stats.cc reports as ``unknown``)."""
    if workload is None:
        values = dict.fromkeys(
            ("workload", "workload_namespace", "principal", "app", "version",
             "canonical_service", "cluster"), "unknown",
        )  # fmt: skip
        values["canonical_revision"] = "latest"
    else:
        values = {
            "workload": workload,
            "workload_namespace": NAMESPACE,
            "principal": _principal(workload),
            "app": workload,
            "version": "unknown",
            "canonical_service": workload,
            "canonical_revision": "latest",
            "cluster": CLUSTER,
        }
    out = {f"{side}_{k}": v for k, v in values.items()}
    if side == "destination" and workload is not None:
        out |= {
            "destination_service": f"{workload}.{NAMESPACE}.svc.cluster.local",
            "destination_service_name": workload,
            "destination_service_namespace": NAMESPACE,
        }
    return out


class _Hop:
    """One reporter's series: a counter per status and a duration histogram."""

    def __init__(self, reporter: str, source: str | None, destination: str, pod: str) -> None:
        self.tags = {
            "reporter": reporter,
            **_peer("source", source),
            **_peer("destination", destination),
            "request_protocol": "http",
            "response_flags": "-",
            # istio_stats.cc: mutual_tls/none on an inbound (server) report, unknown on an
            # outbound one; a caller from outside the mesh speaks plain HTTP.
            "connection_security_policy": (
                "unknown" if reporter == "source" else "none" if source is None else "mutual_tls"
            ),
            "grpc_response_status": "",
            "namespace": NAMESPACE,
            "pod": pod,
        }

    def values(self, code: str) -> list[str]:
        tags = {**self.tags, "response_code": code}
        return [tags[label] for label in LABELS]


def emit(r: Reading) -> Iterator[Metric]:
    requests = CounterMetricFamily("istio_requests", "Istio request count.", labels=LABELS)
    duration = HistogramMetricFamily(
        "istio_request_duration_milliseconds", "Istio request duration.", labels=LABELS
    )
    router = router_pod(r.fleet.seed)
    by_status = dict.fromkeys((*SERVED, REJECTED), 0.0)
    router_served: HistogramSample | None = None
    for model in r.fleet.models:
        m = r.sample.models[model.name]
        for status in by_status:
            by_status[status] += m.requests.get(status, 0.0)
        hist = served(m.latency, m.requests.get(REJECTED, 0.0))
        router_served = hist if router_served is None else router_served.plus(hist)
        buckets, total_ms = envoy_buckets(hist)
        for hop in _model_hops(model, router):
            for status in SERVED:
                requests.add_metric(hop.values(status), math.floor(m.requests.get(status, 0.0)))
            duration.add_metric(hop.values("200"), buckets, total_ms)

    inbound = _Hop("destination", None, ROUTER, router)
    for status, count in by_status.items():
        requests.add_metric(inbound.values(status), math.floor(count))
    if router_served is not None:
        buckets, total_ms = envoy_buckets(router_served)
        duration.add_metric(inbound.values("200"), buckets, total_ms)
        none = HistogramSample(router_served.bounds, (0.0,) * len(router_served.bounds), 0.0)
        buckets, total_ms = envoy_buckets(none, rejected=by_status[REJECTED])
        duration.add_metric(inbound.values(REJECTED), buckets, total_ms)
    yield requests
    yield duration


def _model_hops(model: ServedModel, router: str) -> tuple[_Hop, _Hop]:
    """The router's outbound report and the model pod's inbound report of the same
    forwarded requests. The engine's counters are per model: they sit on the model's
    first pod, as vLLM's do in `tui.sim.stacks.vllm`."""
    workload = deployment(model.pods[0])
    return (
        _Hop("source", ROUTER, workload, router),
        _Hop("destination", ROUTER, workload, model.pods[0]),
    )
