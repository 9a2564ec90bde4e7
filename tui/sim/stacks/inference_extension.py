"""The Gateway API Inference Extension's endpoint picker (EPP) in front of every pool.

Names, labels and buckets from kubernetes-sigs/gateway-api-inference-extension
``pkg/epp/metrics/metrics.go`` (the last release before the EPP moved out, #2967,
2026-06) and its new home llm-d/llm-d-router ``pkg/epp/metrics/metrics.go`` and
``pkg/epp/metrics/llm_d_router_metrics.go``. llm-d-router writes every family twice: the
``inference_objective_*``/``inference_pool_*`` names (deprecated, still recorded by the
same ``Record*`` call) and ``llm_d_router_epp_*``. This simulates that EPP, both names.
(Before gateway-api-inference-extension#1567, 2025-09, the first family was
``inference_model_*``.)

- ``request_total{model_name,target_model_name,priority}``: ``RecordRequestCounter`` runs
  in ``pkg/epp/handlers/server.go`` only after the director scheduled the request, so it
  counts scheduled requests. ``model_name`` is the model the client asked for,
  ``target_model_name`` the one it was rewritten to (the same without a rewrite).
- ``request_error_total{model_name,target_model_name,error_code}``, once per failed
  request (``pkg/common/error/error.go`` codes): ``ModelServerError`` when the model
  server answered non-200 (a scheduled request: also in ``request_total``);
  ``ResourceExhausted`` when the EPP sheds the request itself (answered 429, never
  scheduled). The engine's 5xx are the model servers' (``ModelServerError``), its 429s
  the EPP's sheds.
- ``request_duration_seconds``: ``RecordRequestLatencies`` when a scheduled request's
  response completes (``pkg/epp/handlers/response.go``): every status but the sheds.
  ``generalLatencyBuckets`` (5 ms to 1 h), re-cut from the engine's bounds as
  `tui.sim.stacks.rebucket` says; Go spells ``le`` ``1``, ``3600``.
- ``running_requests{model_name}`` and the pool gauges ``{name}``: averages over the
  pool's pods (``pkg/epp/datalayer/logger/logger.go``). A pool is named after its
  model server Deployment, as the project's guide does
  (``site-src/guides/getting-started-latest.md``: ``INFERENCE_POOL_NAME=vllm-qwen3-32b``
  for the ``vllm-qwen3-32b`` Deployment of ``config/manifests/vllm/gpu-deployment.yaml``).

A Go ``CounterVec`` child exists from its first increment: series with nothing counted
are not written.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from tui.sim.engine import PodGauges
from tui.sim.stacks.reading import Reading
from tui.sim.stacks.rebucket import buckets, go_le, whole

INF = float("inf")
GENERAL_LATENCY_BUCKETS = (
    0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6,
    8, 10, 15, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200,
    1800, 2700, 3600, INF,
)  # fmt: skip
"""pkg/epp/metrics/metrics.go ``generalLatencyBuckets``."""
PRIORITY = "0"
"""The InferenceObjective's priority; 0 without one."""
MODEL_SERVER_ERROR = "ModelServerError"
RESOURCE_EXHAUSTED = "ResourceExhausted"
LEGACY = "legacy"
LLM_D = "llm_d"


def _help(text: str, new_name: str | None = None) -> str:
    """``metricsutil.HelpMsgWithStability``: ``[ALPHA] ...``; llm-d-router prefixes the
    deprecated family's help with the name that replaces it."""
    if new_name is None:
        return f"[ALPHA] {text}"
    return f"[ALPHA] [Deprecated: Use {new_name}] {text}"


def _names(stem: str, legacy_subsystem: str = "inference_objective") -> dict[str, str]:
    return {LEGACY: f"{legacy_subsystem}_{stem}", LLM_D: f"llm_d_router_epp_{stem}"}


def deployment(pod: str) -> str:
    """The Deployment a pod belongs to: ``<deployment>-<replicaset hash>-<suffix>``."""
    return pod.rsplit("-", 2)[0]


def emit(r: Reading) -> Iterator[Metric]:
    yield from _objective(r)
    yield from _pools(r)


def _both(
    kind: type[CounterMetricFamily | GaugeMetricFamily | HistogramMetricFamily],
    stem: str,
    text: str,
    labels: list[str],
) -> dict[str, Any]:
    """The family under both names: the deprecated one's help names its successor."""
    names = _names(stem)
    return {
        LEGACY: kind(names[LEGACY], _help(text, names[LLM_D]), labels=labels),
        LLM_D: kind(names[LLM_D], _help(text), labels=labels),
    }


def _objective(r: Reading) -> Iterator[Metric]:
    model_labels = ["model_name", "target_model_name"]
    requests = _both(
        CounterMetricFamily, "request_total",
        "Counter of inference objective requests broken out for each model and target model.",
        [*model_labels, "priority"],
    )  # fmt: skip
    errors = _both(
        CounterMetricFamily, "request_error_total",
        "Counter of inference objective requests errors broken out for each model and target "
        "model.", [*model_labels, "error_code"],
    )  # fmt: skip
    latency = _both(
        HistogramMetricFamily, "request_duration_seconds",
        "Inference objective response latency distribution in seconds for each model and "
        "target model.", model_labels,
    )  # fmt: skip
    running = _both(
        GaugeMetricFamily, "running_requests",
        "Inference objective number of running requests in each model.", ["model_name"],
    )  # fmt: skip

    in_flight: dict[str, float] = defaultdict(float)
    for p in r.pods:
        in_flight[p.model] += p.running
    for model in r.fleet.models:
        m = r.sample.models[model.name]
        n = m.requests
        # No rewrite: the target is the model asked for.
        names = [model.name, model.name]
        scheduled = whole(n.get("200", 0.0) + n.get("500", 0.0) + n.get("503", 0.0))
        failed = {
            MODEL_SERVER_ERROR: whole(n.get("500", 0.0) + n.get("503", 0.0)),
            RESOURCE_EXHAUSTED: whole(n.get("429", 0.0)),
        }
        served, served_sum = buckets(
            m.latency, GENERAL_LATENCY_BUCKETS, go_le, instant=n.get("429", 0.0),
            keep_instant=False,
        )  # fmt: skip
        for version in (LEGACY, LLM_D):
            if scheduled >= 1:
                requests[version].add_metric([*names, PRIORITY], scheduled)
            for code, count in failed.items():
                if count >= 1:
                    errors[version].add_metric([*names, code], count)
            if served[-1][1] >= 1:
                latency[version].add_metric(names, served, served_sum)
            running[version].add_metric([model.name], in_flight[model.name])
    for families in (requests, errors, latency, running):
        yield from families.values()


POOL_GAUGES = (
    ("average_kv_cache_utilization", "average_kv_cache_utilization",
     "The average kv cache utilization for an inference server pool.",
     lambda pods: sum(p.kv_cache_usage for p in pods) / len(pods)),
    ("average_queue_size", "average_queue_size",
     "The average number of requests pending in the model server queue.",
     lambda pods: sum(round(p.waiting) for p in pods) / len(pods)),
    ("average_running_requests", "average_running_requests",
     "The average number of running requests across model servers in the pool.",
     lambda pods: sum(p.running for p in pods) / len(pods)),
    ("ready_pods", "ready_endpoints",
     "The number of ready pods in the inference server pool.", len),
)  # fmt: skip
"""(``inference_pool_*`` name, ``llm_d_router_epp_*`` name, help, value of a pool's pods)."""


def _pools(r: Reading) -> Iterator[Metric]:
    pools: dict[str, list[PodGauges]] = defaultdict(list)
    for p in r.pods:
        pools[deployment(p.pod)].append(p)
    for legacy, new, text, value in POOL_GAUGES:
        old = GaugeMetricFamily(
            f"inference_pool_{legacy}", _help(text, f"llm_d_router_epp_{new}"), labels=["name"]
        )
        current = GaugeMetricFamily(
            f"llm_d_router_epp_{new}", _help(text.replace("ready pods", "ready endpoints")),
            labels=["name"],
        )  # fmt: skip
        for pool, pods in pools.items():
            old.add_metric([pool], value(pods))
            current.add_metric([pool], value(pods))
        yield old
        yield current
