"""The generic gateway: ``http_requests_total{model,status_code}`` and a latency histogram
labelled by model, the shape a home-grown gateway instrumented with prometheus-client
writes (and warroom's own default profile), plus its rate limiter's rejections by API
key and, in the canary scenarios, its in-flight gauge and build info by revision."""

from __future__ import annotations

import math
from collections.abc import Iterator

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from tui.sim.rollout import CANARY, STABLE
from tui.sim.stacks.common import buckets
from tui.sim.stacks.reading import Reading


def emit(r: Reading) -> Iterator[Metric]:
    requests = CounterMetricFamily(
        "http_requests", "Requests answered by the inference gateway.",
        labels=["model", "status_code", "revision"],
    )  # fmt: skip
    latency = HistogramMetricFamily(
        "http_request_duration_seconds",
        "Gateway request duration, every status code.",
        labels=["model", "revision"],
    )
    # The gateway's series carry its revision (a pod label in a real cluster), so a
    # canary can be compared with the stable build serving the same models.
    by_revision = r.sample.revisions or {STABLE: r.sample.models}
    for revision, models in by_revision.items():
        for name, m in models.items():
            for status, count in m.requests.items():
                requests.add_metric([name, status, revision], math.floor(count))
            latency.add_metric([name, revision], buckets(m.latency), m.latency.sum)
    yield requests
    yield latency

    rejections = CounterMetricFamily(
        "gateway_ratelimit_rejections", "Requests the gateway's rate limiter answered 429.",
        labels=["api_key_id", "tenant"],
    )  # fmt: skip
    for key in r.fleet.keys:
        rejections.add_metric([key.key_id, key.tenant], math.floor(r.sample.rejections[key.key_id]))
    yield rejections

    traits = r.scenario.canary
    if traits is None:
        return
    flying = GaugeMetricFamily(
        "gateway_requests_in_flight", "Requests the gateway is serving now.",
        labels=["revision"],
    )  # fmt: skip
    for revision, n in r.in_flight.items():
        flying.add_metric([revision], round(n))
    info = GaugeMetricFamily(
        "gateway_build_info", "The gateway build and the model version behind it.",
        labels=["revision", "version", "model_version"],
    )  # fmt: skip
    info.add_metric([STABLE, traits.baseline_version, traits.baseline_model_version], 1)
    info.add_metric([CANARY, traits.version, traits.model_version], 1)
    yield flying
    yield info
