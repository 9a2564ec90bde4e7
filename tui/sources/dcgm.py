"""dcgm-exporter series, as the Prometheus source reads them, turned into `GpuState`.

One query brings every gauge of every GPU, each series tagged with its field (see
`tui.sources.promql`); a second maps pods to the model they serve, because the exporter's
``modelName`` is the GPU product, not the served model. Parsing is pure so it is tested
without a server.

Whose GPU it is: dcgm-exporter's pod mapper (NVIDIA/dcgm-exporter
``internal/pkg/transformation/kubernetes.go``, ``pkg/dcgmexporter/kubernetes.go`` in older
releases) writes the workload's ``pod``, ``namespace`` and ``container`` into the
exposition. Its Helm chart scrapes it through a ServiceMonitor with ``honorLabels: false``
(``deployment/values.yaml``, ``deployment/templates/service-monitor.yaml``): those names
clash with the target labels of the exporter's own pod, so Prometheus keeps the workload's
as ``exported_pod``, ``exported_namespace``, ``exported_container`` and ``pod``/``namespace``
name the exporter. The workload is therefore ``exported_*`` where present, else the plain
labels (``honorLabels: true``, or a scrape without Kubernetes target labels).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tui.clock import utc
from tui.config import MetricProfile
from tui.domain.model import MIB, GpuState
from tui.domain.xid import XidChange
from tui.sources.promql import GPU_FIELD_LABEL, HOST_LABELS, IDENTITY_FIELD
from tui.sources.stacks.base import MODEL

Labels = Mapping[str, str]
_HOST, _HOST_NEWER = HOST_LABELS
EXPORTED = "exported_"
"""The prefix Prometheus gives a scraped label that clashes with a target label when
``honor_labels`` is false (prometheus ``scrape/target.go``)."""


@dataclass(frozen=True, slots=True)
class GpuKey:
    node: str
    gpu: int
    uuid: str
    product: str | None
    pod: str | None
    namespace: str | None

    def state(self, models: Mapping[str, str], **figures: Any) -> GpuState:
        """This GPU with ``figures``; its model found by namespace/pod in ``models``."""
        return GpuState(
            node=self.node,
            gpu=self.gpu,
            uuid=self.uuid,
            model=models.get(f"{self.namespace or ''}/{self.pod}") if self.pod else None,
            pod=self.pod,
            namespace=self.namespace,
            product=self.product,
            **figures,
        )


def workload(labels: Labels, profile: MetricProfile) -> tuple[str | None, str | None]:
    """The pod and namespace holding a series' GPU: ``exported_*`` when Prometheus renamed
    the exporter's labels (``honorLabels: false``), else the plain ones. Each label is
    taken on its own, so a target that only sets ``pod`` renames only that. Unallocated
    GPUs carry no (or empty) pod and namespace labels: None."""
    pod, namespace = profile.pod_label, profile.namespace_label
    return (
        labels.get(EXPORTED + pod) or labels.get(pod) or None,
        labels.get(EXPORTED + namespace) or labels.get(namespace) or None,
    )


def exporter_pods(labels: Iterable[Labels], profile: MetricProfile) -> frozenset[tuple[str, str]]:
    """``(namespace, pod)`` of the dcgm-exporters whose scrape renamed the workload labels:
    there every series' plain ``pod``/``namespace`` are the exporter's own, so on a GPU no
    workload holds (no ``exported_pod``) they name the exporter, not who holds the GPU.
    An exporter all of whose GPUs are idle cannot be told apart this way."""
    pod, namespace = profile.pod_label, profile.namespace_label
    return frozenset(
        (one.get(namespace, ""), one.get(pod, ""))
        for one in labels
        if one.get(EXPORTED + pod) and one.get(pod)
    )


def gpu_key(
    labels: Labels,
    profile: MetricProfile,
    exporters: frozenset[tuple[str, str]] = frozenset(),
) -> GpuKey | None:
    """Who a series is about; None when it names no GPU (not a dcgm-exporter series).
    ``exporters`` (`exporter_pods`) are pods known to be a dcgm-exporter itself."""
    spot = _spot(labels)
    if spot is None:
        return None
    node, index = spot
    pod, namespace = workload(labels, profile)
    if (
        exporters
        and not labels.get(EXPORTED + profile.pod_label)
        and (labels.get(profile.namespace_label, ""), labels.get(profile.pod_label, ""))
        in exporters
    ):
        pod = namespace = None
    return GpuKey(
        node=node,
        gpu=index,
        uuid=labels.get("UUID") or f"{node}/{index}",
        product=labels.get("modelName") or None,
        pod=pod,
        namespace=namespace,
    )


def pod_models(samples: Iterable[tuple[Labels, Any]], profile: MetricProfile) -> dict[str, str]:
    """``namespace/pod`` -> served model, from the pod map (`tui.sources.stacks.compose.pod_map`:
    ``namespace``, ``pod``, ``warroom_model``); a series with only the model server's own
    model label (``model_name``) is read too."""
    out = {}
    for labels, _ in samples:
        pod = labels.get(profile.pod_label)
        model = labels.get(MODEL) or labels.get(profile.server_model_label)
        if pod and model:
            out[f"{labels.get(profile.namespace_label, '')}/{pod}"] = model
    return out


def pods_by_model(models: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """`pod_models` turned round: served model -> its ``namespace/pod`` names, sorted."""
    out: dict[str, list[str]] = defaultdict(list)
    for pod, model in models.items():
        out[model].append(pod)
    return {model: tuple(sorted(pods)) for model, pods in out.items()}


def gpus_from_series(
    samples: Iterable[tuple[Labels, float | None]],
    models: Mapping[str, str],
    profile: MetricProfile,
) -> list[GpuState]:
    """One `GpuState` per GPU from the tagged gauges; a gauge that is missing or NaN for a
    GPU stays None rather than reading as zero. Who each GPU is comes from its identity
    series, else from the fullest labels its gauges carry.

    A series only finds its place (node and index) and what it names; who a GPU is gets
    built once per GPU at the end: at 1024 GPUs that is 7168 series every GPU refresh,
    and building an identity for each was most of the work."""
    fields: dict[tuple[str, int], dict[str, float | None]] = defaultdict(dict)
    who: dict[tuple[str, int], tuple[tuple[bool, bool, bool, bool], Labels]] = {}
    """Per GPU, the fullest labels seen and what they name (workload, pod, UUID, product)."""
    pod_label, namespace_label = profile.pod_label, profile.namespace_label
    exported_pod = EXPORTED + pod_label
    exporters: set[tuple[str, str]] = set()
    for labels, value in samples:
        field = labels.get(GPU_FIELD_LABEL)
        if not field:
            continue
        spot = _spot(labels)
        if spot is None:
            continue
        figures = fields[spot]  # every GPU named, even by its identity alone, is on the grid
        if field != IDENTITY_FIELD:
            figures[field] = _finite(value)
        renamed = bool(labels.get(exported_pod))
        if renamed and labels.get(pod_label):
            exporters.add((labels.get(namespace_label, ""), labels.get(pod_label, "")))
        # A pod label that changed between gauges gives two identities: the one naming the
        # workload (a renamed pod) wins, then one naming a pod, then the one with a UUID,
        # then the first.
        named = (
            renamed,
            bool(labels.get(pod_label)),
            bool(labels.get("UUID")),
            bool(labels.get("modelName")),
        )
        held = who.get(spot)
        if held is None or named > held[0]:
            who[spot] = (named, labels)
    gpus = []
    known = frozenset(exporters)
    for spot, f in fields.items():
        key = gpu_key(who[spot][1], profile, known)
        assert key is not None  # its labels gave the spot
        util, xid = f.get("util"), f.get("xid")
        used = f.get("fb_used")
        gpus.append(
            key.state(
                models,
                util_ratio=None if util is None else min(1.0, max(0.0, util / 100)),
                mem_used_bytes=None if used is None else used * MIB,
                mem_total_bytes=_total_mib(used, f.get("fb_free"), f.get("fb_reserved")),
                temp_c=f.get("temp"),
                power_w=f.get("power"),
                xid=None if xid is None else int(xid),
            )
        )
    return gpus


def _total_mib(used: float | None, free: float | None, reserved: float | None) -> float | None:
    """The card's framebuffer in bytes from dcgm-exporter's MiB gauges.

    DCGM reads NVML's ``nvmlMemory_v2_t`` on drivers >= 510 (NVIDIA/DCGM
    ``dcgmlib/src/DcgmCacheManager.cpp``): ``DCGM_FI_DEV_FB_USED`` then excludes what the
    driver and firmware reserve, ``DCGM_FI_DEV_FB_RESERVED`` (a default counter of
    dcgm-exporter since 4.3.1-4.4.0, ``etc/default-counters.csv``) holds it, and used +
    free + reserved is the card (81559 MiB on an H100 80GB, as ``nvidia-smi -q`` shows).
    Without a reserved figure (older exporter or driver: used then includes it) used +
    free is the card."""
    if used is None or free is None:
        return None
    return (used + free + (reserved or 0.0)) * MIB


def _spot(labels: Labels) -> tuple[str, int] | None:
    """Where a series' GPU sits: its node and index, as `gpu_key` reads them."""
    node = labels.get(_HOST) or labels.get(_HOST_NEWER) or labels.get("instance")
    if not node:
        return None
    try:
        return node, int(labels.get("gpu", ""))
    except ValueError:
        return None


def xid_changes(
    series: Iterable[tuple[Labels, list[tuple[float, float | None]]]],
    models: Mapping[str, str],
    profile: MetricProfile,
    *,
    start: float,
    step: float,
) -> tuple[list[XidChange], dict[str, int]]:
    """Changes of the last-XID gauge in a range answer of the ``!= 0`` history query.

    Only non-zero points come back, so a gap means the code was 0 in between. Returns the
    changes inside the range and, by GPU uuid, codes that were already set when it began.
    """
    changes: list[XidChange] = []
    already: dict[str, int] = {}
    rows = list(series)
    exporters = exporter_pods((labels for labels, _ in rows), profile)
    for labels, points in rows:
        key = gpu_key(labels, profile, exporters)
        if key is None:
            continue
        gpu = key.state(models)
        previous: tuple[float, int] | None = None
        for at, value in points:
            if _finite(value) is None:
                continue
            code = int(value)  # type: ignore[arg-type]
            gap = previous is None or at - previous[0] > 1.5 * step
            if previous is None and at <= start + step / 2:
                already[key.uuid] = code
            elif gap or code != previous[1]:  # type: ignore[index]
                changes.append(XidChange(gpu, code, utc(at)))
            previous = (at, code)
    return changes, already


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
