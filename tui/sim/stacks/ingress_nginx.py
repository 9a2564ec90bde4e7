"""ingress-nginx's controller in front of the fleet: one Ingress and Service per model.

Names, labels and buckets from kubernetes/ingress-nginx
``internal/ingress/metric/collectors/socket.go`` (``SocketCollector``), the values from
``rootfs/etc/nginx/lua/monitor.lua`` and ``rootfs/etc/nginx/template/nginx.tmpl``:

- ``nginx_ingress_controller_requests`` (counter) and
  ``nginx_ingress_controller_request_duration_seconds`` (nginx's ``$request_time``), both
  labelled ``status``, ``method``, ``path``, ``namespace`` (the Ingress's), ``ingress``,
  ``service``, ``canary`` and, with ``--metrics-per-host`` (default true), ``host``; plus
  the const labels ``controller_namespace``, ``controller_class``, ``controller_pod``.
- ``status`` is nginx's code (``"503"``); ``--report-status-classes`` (default false)
  would make it ``"5xx"``. ``canary`` is ``$proxy_alternative_upstream_name``, set to
  ``""`` in every location that is not a canary (Prometheus then stores no label).
- Buckets: ``--time-buckets`` defaults to client_golang's ``prometheus.DefBuckets``
  (``pkg/flags/flags.go``), 5 ms to **10 s**: a p99 past 10 s is only known as ``>10s``.

The label that names a model is none: nginx knows the Ingress and the Service. Each
model here is served through an Ingress and a Service named after its vLLM Deployment
(``vllm-<model>``) with its own host; that is the convention the adapter joins on.

The controller's own Helm chart scrapes it with ``honorLabels`` unset (false,
``charts/ingress-nginx/values.yaml``): Prometheus then keeps the controller pod's
``namespace`` and stores the Ingress's as ``exported_namespace`` (the project's Grafana
dashboard, ``deploy/grafana/dashboards/nginx.json``, filters on ``exported_namespace``).
The exposition here writes the Ingress's ``namespace``; the scrape job decides.

Status split of the histogram: 429s are the engine's rejections, at
`tui.sim.engine.REJECTED_LATENCY_S`; 200s are the engine's ``e2e`` histogram (exactly
the successful requests); 5xx are the rest of the engine's gateway histogram, read only
at the bounds the engine's two histograms share (0.5, 1, 2, 5, 10 s) and at a bound
between them the nearest lower shared one (none below 0.5 s: counted slower), then split
500/503 in the engine's fixed proportion. A Go ``CounterVec`` child exists from its
first increment: series with nothing counted are not written.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import HistogramMetricFamily, Metric

from tui.sim.engine import REJECTED_LATENCY_S, SHARE_503, ModelSample
from tui.sim.fleet import NAMESPACE
from tui.sim.stacks.inference_extension import deployment
from tui.sim.stacks.reading import Reading
from tui.sim.stacks.rebucket import cumulative, go_le, whole

INF = float("inf")
DEF_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, INF)
"""client_golang ``prometheus.DefBuckets``, ingress-nginx's default ``--time-buckets``."""
LABELS = [
    "canary", "controller_class", "controller_namespace", "controller_pod", "host",
    "ingress", "method", "namespace", "path", "service", "status",
]  # fmt: skip
"""socket.go ``requestTags`` + ``host`` + the const labels, in the order client_golang
writes them (sorted)."""
CONTROLLER = {
    "controller_class": "k8s.io/ingress-nginx",
    "controller_namespace": "ingress-nginx",
    "controller_pod": "ingress-nginx-controller-6b8c9d7f5c-q2w8x",
}
"""The controller's const labels: its IngressClass's ``spec.controller`` and its pod."""
HOST_DOMAIN = "llm.example.com"
REQUESTS = "nginx_ingress_controller_requests"
ERROR_SHARE = {"500": 1 - SHARE_503, "503": SHARE_503}


def emit(r: Reading) -> Iterator[Metric]:
    # client_golang names a counter as given: ``nginx_ingress_controller_requests``, no
    # ``_total``. prometheus-client cannot say that in its HELP/TYPE lines (it appends
    # ``_total`` to a counter family's name there) but writes the samples as named, and
    # the samples are what Prometheus stores and PromQL reads.
    requests = Metric(REQUESTS, "The total number of client requests", "counter")
    duration = HistogramMetricFamily(
        "nginx_ingress_controller_request_duration_seconds",
        "The request processing time in milliseconds", labels=LABELS,
    )  # fmt: skip
    for model in r.fleet.models:
        m = r.sample.models[model.name]
        name = deployment(model.pods[0])
        route = {
            **CONTROLLER, "canary": "", "host": f"{name.removeprefix('vllm-')}.{HOST_DOMAIN}",
            "ingress": name, "method": "POST", "namespace": NAMESPACE, "path": "/",
            "service": name,
        }  # fmt: skip
        for status, (counts, total_sum) in _by_status(m).items():
            labels = [{**route, "status": status}[n] for n in LABELS]
            count = whole(m.requests.get(status, 0.0))
            if count >= 1:
                requests.add_sample(REQUESTS, dict(zip(LABELS, labels, strict=True)), count)
            cut = [(go_le(le), whole(c)) for le, c in zip(DEF_BUCKETS, counts, strict=True)]
            if cut[-1][1] >= 1:
                duration.add_metric(labels, cut, max(0.0, total_sum))
    yield requests
    yield duration


def _by_status(m: ModelSample) -> dict[str, tuple[list[float], float]]:
    """Cumulative duration counts at `DEF_BUCKETS` and their sum, by status."""
    rejected = m.requests.get("429", 0.0)
    ok = cumulative(m.e2e, DEF_BUCKETS)
    out = {
        "200": (ok, m.e2e.sum),
        "429": ([rejected if le >= REJECTED_LATENCY_S else 0.0 for le in DEF_BUCKETS],
                rejected * REJECTED_LATENCY_S),
    }  # fmt: skip
    failed = _failed(m, rejected)
    failed_sum = m.latency.sum - m.e2e.sum - rejected * REJECTED_LATENCY_S
    for status, share in ERROR_SHARE.items():
        out[status] = ([c * share for c in failed], failed_sum * share)
    return out


def _failed(m: ModelSample, rejected: float) -> list[float]:
    """The 5xx's cumulative counts: the gateway histogram less the 429s less the
    successes, exact where both engine histograms have the bound (the nearest lower
    shared bound elsewhere, 0 below the first)."""
    gateway = dict(zip(m.latency.bounds, m.latency.counts, strict=True))
    e2e = dict(zip(m.e2e.bounds, m.e2e.counts, strict=True))
    shared = sorted(le for le in gateway if le in e2e)
    out = []
    for x in DEF_BUCKETS:
        below = [le for le in shared if le <= x]
        if not below:
            out.append(0.0)
            continue
        le = below[-1]
        # Every rejection sits at REJECTED_LATENCY_S, under every bound the engine has.
        out.append(max(0.0, gateway[le] - rejected - e2e[le]))
    return out
