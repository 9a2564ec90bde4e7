"""The fixed set of queries a refresh sends, built from the stack adapters in use.

Apart from `tui.sources.promql` (the PromQL text every adapter builds with), so the
adapters and the query set do not import each other: the set is made from adapters, the
adapters from PromQL text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tui.config import MetricProfile
from tui.durations import parse_duration, promql_duration
from tui.sources.promql import (
    GPU_FIELD_LABEL,
    GPU_FIELDS,
    HEALTH_PART_LABEL,
    HEALTH_QUERY,
    HOST_LABELS,
    IDENTITY_FIELD,
    KEY_TENANTS_PART,
    TOP_KEYS,
    TOTAL_LABEL,
    by_labels,
    selector,
    tagged_union,
)
from tui.sources.stacks.base import MODEL, Query, Stack
from tui.sources.stacks.compose import health_parts, pod_map, quantile


@dataclass(frozen=True, slots=True)
class QuerySet:
    """The PromQL a refresh and a history backfill send, by name."""

    health: dict[str, str]
    """The parts of the health query, by name: what each pane figure is read from."""
    instant: dict[str, str]
    """What a refresh sends: the health parts as one query (`HEALTH_QUERY`), then the GPUs'."""
    range: dict[str, str]
    xid_history: str
    """Range query sent once, on the first refresh: when each GPU's XID code last changed
    inside the history window (the gauge only holds the latest code)."""


def build_queries(profile: MetricProfile, window: str, stacks: Sequence[Stack]) -> QuerySet:
    """All queries for the adapters ``stacks`` with rate window ``window`` (e.g. ``5m``).

    Raises ValueError naming the bad metric or label name in the profile.
    """
    w = promql_duration(parse_duration(window))
    pods = pod_map(stacks)
    q = Query(window=w, pods=pods, matchers=dict(profile.matchers))

    def rate(metric: str) -> str:
        return f"rate({selector(metric)}[{w}])"

    keys = f"sum by ({by_labels(profile.api_key_label)}) ({rate(profile.rejections_total)})"
    by_tenant = by_labels(profile.api_key_label, profile.tenant_label)
    keys_by_tenant = f"sum by ({by_tenant}) ({rate(profile.rejections_total)})"
    keys_total = f"sum({rate(profile.rejections_total)})"
    health = {
        **health_parts(stacks, q),
        "rejected_keys": (
            f"topk({TOP_KEYS}, {keys}) or "
            f'label_replace({keys_total}, "{TOTAL_LABEL}", "true", "", "")'
        ),
        # Who is behind each of those keys: their series by tenant too (`and on` keeps
        # every tenant of a top key, where a join would fail on a key with two). The keys
        # are ranked above, by key alone, so a key split across tenants still ranks whole.
        KEY_TENANTS_PART: (
            f"{keys_by_tenant} and on ({by_labels(profile.api_key_label)}) topk({TOP_KEYS}, {keys})"
        ),
    }
    # One request for all of them: Prometheus evaluates the parts one after another
    # (about 60 ms more at 200 models) but the cockpit pays for one answer instead of
    # one per part (HTTP, pool and parsing: 10 ms of CPU instead of 22 per refresh), and
    # a struggling Prometheus gets one query slot taken per refresh, whatever the stacks.
    instant = {HEALTH_QUERY: tagged_union(health, HEALTH_PART_LABEL)}

    # -- history: the figures of the stack that speaks for traffic (a gateway if any).
    range_: dict[str, str] = {}
    speaker = sorted(stacks, key=lambda s: s.layer != "gateway")
    latency = next((b for s in speaker if (b := s.latency(q)) is not None), None)
    if latency is not None:
        range_["p99"] = quantile("0.99", latency, f"{MODEL}, le")
        range_["p99_all"] = quantile("0.99", latency, "le")
    for name, figure in (("error_5xx", "errors"), ("rate_429", "limited")):
        for stack in speaker:
            part, total = getattr(stack, figure)(q), stack.requests(q)
            if part is not None and total is not None:
                range_[name] = f"({part}) / ({total})"
                range_[f"{name}_all"] = f"sum({part}) / sum({total})"
                break

    # -- GPUs: every dcgm-exporter gauge in one query, each series tagged with its field.
    # ``max by`` keeps the labels the grid needs and drops the rest (device, pci_bus_id,
    # container, err_msg…). Who a GPU is (UUID, model, pod, namespace) comes once, in an
    # identity series; each gauge carries only the node and the index: at 1024 GPUs that
    # halves the answer (1.7 MB of JSON to read every GPU refresh, on both sides).
    # The workload's pod and namespace are ``exported_*`` under the dcgm-exporter Helm
    # chart's ServiceMonitor (``honorLabels: false``, NVIDIA/dcgm-exporter
    # ``deployment/values.yaml``): both spellings are kept (`tui.sources.dcgm.workload`).
    dcgm = profile.dcgm
    pod, namespace = profile.pod_label, profile.namespace_label
    gpu_by = by_labels(*HOST_LABELS, "gpu", "UUID", "modelName", pod, namespace,
                 f"exported_{pod}", f"exported_{namespace}")  # fmt: skip
    where_by = by_labels(*HOST_LABELS, "gpu")
    gauges = dict(zip(GPU_FIELDS, (dcgm.util, dcgm.fb_used, dcgm.fb_free, dcgm.temp,
                                   dcgm.power, dcgm.xid), strict=True))  # fmt: skip
    # Framebuffer reserved by driver and firmware: used + free + reserved is the card
    # (dcgm-exporter ``etc/default-counters.csv`` since 4.3.1-4.4.0); absent on older ones.
    gauges["fb_reserved"] = dcgm.fb_reserved
    every_gauge = " or ".join(selector(name, dcgm.matchers) for name in gauges.values())
    instant["gpus"] = tagged_union(
        {
            IDENTITY_FIELD: f"group by ({gpu_by}) ({every_gauge})",
            **{
                field: f"max by ({where_by}) ({selector(name, dcgm.matchers)})"
                for field, name in gauges.items()
            },
        },
        GPU_FIELD_LABEL,
    )
    instant["pod_models"] = pods
    xid_history = f"max by ({gpu_by}) ({selector(dcgm.xid, dcgm.matchers)}) != 0"
    return QuerySet(health=health, instant=instant, range=range_, xid_history=xid_history)
