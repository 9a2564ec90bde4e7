"""ingress-nginx: the controller's request counter and duration histogram, by Service.

Names from kubernetes/ingress-nginx ``internal/ingress/metric/collectors/socket.go``
(``SocketCollector``): ``nginx_ingress_controller_requests`` and
``nginx_ingress_controller_request_duration_seconds``, labelled ``status``, ``namespace``
(the Ingress's), ``ingress``, ``service``, ``canary``, ``method``, ``path``, ``host``.

nginx knows no model. The convention warroom joins on: **the Service in front of a model
server is named like its Deployment** (``vllm-llama-3-1-8b``), in the Deployment's
namespace, so ``(namespace, service)`` meets the pod map's ``(namespace,
warroom_workload)`` (`tui.sources.stacks.base.Query.workloads`) and takes its model. A Service
that meets no model-server Deployment (no server stack in use, another naming, a
non-model backend) keeps a row of its own named after the Service: nothing disappears
(``or on (namespace, warroom_workload)``), nothing is counted twice.

The Ingress's namespace: the chart's ServiceMonitor leaves ``honorLabels`` false, so
Prometheus stores it as ``exported_namespace`` beside the controller pod's
``namespace``; it is read from ``exported_namespace`` where that is set, from
``namespace`` otherwise. Series with no Service (the default backend) are left out.

``status`` is the code (``"503"``), or with ``--report-status-classes`` the class
(``"5xx"``): 5xx reads either way, 429 only from codes (no source otherwise). The
controller answers its own rate limiting (``limit-rps``) with ``limit-req-status-code``,
**503** by default (``internal/ingress/controller/config/config.go``): such rejections
read as 5xx, not 429, unless that is set to 429. Buckets default to client_golang's
``DefBuckets`` (top finite bound **10 s**, ``--time-buckets``): a p99 past it reads
``>10s``. No TTFT, queue or KV-cache source.
"""

from __future__ import annotations

from tui.sources.stacks.base import MODEL, WORKLOAD, Buckets, Query, Stack, relabel, zero_filled

REQUESTS = "nginx_ingress_controller_requests"
LATENCY = "nginx_ingress_controller_request_duration_seconds_bucket"
SERVICE = "service"
SERVICE_NAME = "[a-z0-9].*"
"""A Service's name (a DNS label starts with a letter or digit): not ``""`` or ``-``."""
ERROR_STATUS = "5.."
NUMERIC_STATUS = "[1-5][0-9][0-9]"


def by_service_model(q: Query, metric: str, regex: dict[str, str] | None = None,
                     *by: str) -> str:  # fmt: skip
    """Rates of ``metric`` by model (and ``by``): each Service joined to the model its
    Deployment serves, or standing as its own row."""
    series = q.rate(metric, q.matchers, {SERVICE: SERVICE_NAME, **(regex or {})})
    ingress_ns = relabel(series, "namespace", "exported_namespace")
    keep = ", ".join(("namespace", SERVICE, *by))
    per_service = relabel(f"sum by ({keep}) ({ingress_ns})", WORKLOAD, SERVICE)
    served = f"topk by (namespace, {WORKLOAD}) (1, {q.workloads()})"
    joined = f"({per_service}) * on (namespace, {WORKLOAD}) group_left ({MODEL}) ({served})"
    alone = relabel(per_service, MODEL, SERVICE)
    group = ", ".join((MODEL, *by))
    return f"sum by ({group}) (({joined}) or on (namespace, {WORKLOAD}) ({alone}))"


class IngressNginx(Stack):
    name = "ingress_nginx"
    title = "ingress-nginx"
    layer = "gateway"
    source = "kubernetes/ingress-nginx internal/ingress/metric/collectors/socket.go"
    detect = (f'{REQUESTS}{{{SERVICE}=~"{SERVICE_NAME}"}}',)

    def requests(self, q: Query) -> str:
        return by_service_model(q, REQUESTS)

    def errors(self, q: Query) -> str:
        return zero_filled(by_service_model(q, REQUESTS, {"status": ERROR_STATUS}),
                           self.requests(q))  # fmt: skip

    def limited(self, q: Query) -> str:
        coded = by_service_model(q, REQUESTS, {"status": NUMERIC_STATUS})
        return zero_filled(by_service_model(q, REQUESTS, {"status": "429"}), coded)

    def latency(self, q: Query) -> Buckets:
        return Buckets(by_service_model(q, LATENCY, None, "le"))
