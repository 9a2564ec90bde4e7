"""dcgm-exporter series, as the Prometheus source reads them, turned into `GpuState`.

One query brings every gauge of every GPU, each series tagged with its field (see
`tui.sources.promql`); a second maps pods to the model they serve, because the exporter's
``modelName`` is the GPU product, not the served model. Parsing is pure so it is tested
without a server.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tui.clock import utc
from tui.config import MetricProfile
from tui.model import MIB, GpuState
from tui.sources.promql import GPU_FIELD_LABEL, HOST_LABELS, IDENTITY_FIELD
from tui.xid import XidChange

Labels = Mapping[str, str]
_HOST, _HOST_NEWER = HOST_LABELS


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


def gpu_key(labels: Labels, profile: MetricProfile) -> GpuKey | None:
    """Who a series is about; None when it names no GPU (not a dcgm-exporter series)."""
    spot = _spot(labels)
    if spot is None:
        return None
    node, index = spot
    return GpuKey(
        node=node,
        gpu=index,
        uuid=labels.get("UUID") or f"{node}/{index}",
        product=labels.get("modelName") or None,
        # Unallocated GPUs carry empty pod and namespace labels.
        pod=labels.get(profile.pod_label) or None,
        namespace=labels.get(profile.namespace_label) or None,
    )


def pod_models(samples: Iterable[tuple[Labels, Any]], profile: MetricProfile) -> dict[str, str]:
    """``namespace/pod`` -> served model, from the model servers' per-pod series."""
    out = {}
    for labels, _ in samples:
        pod = labels.get(profile.pod_label)
        model = labels.get(profile.server_model_label)
        if pod and model:
            out[f"{labels.get(profile.namespace_label, '')}/{pod}"] = model
    return out


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
    who: dict[tuple[str, int], tuple[tuple[bool, bool, bool], Labels]] = {}
    """Per GPU, the fullest labels seen and what they name (pod, UUID, product)."""
    pod_label = profile.pod_label
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
        # A pod label that changed between gauges gives two identities: the one naming a
        # pod wins, then the one with a UUID, then the first.
        named = (
            bool(labels.get(pod_label)),
            bool(labels.get("UUID")),
            bool(labels.get("modelName")),
        )
        held = who.get(spot)
        if held is None or named > held[0]:
            who[spot] = (named, labels)
    gpus = []
    for spot, f in fields.items():
        key = gpu_key(who[spot][1], profile)
        assert key is not None  # its labels gave the spot
        used, free = f.get("fb_used"), f.get("fb_free")
        util, xid = f.get("util"), f.get("xid")
        gpus.append(
            key.state(
                models,
                util_ratio=None if util is None else min(1.0, max(0.0, util / 100)),
                mem_used_bytes=None if used is None else used * MIB,
                # dcgm-exporter reports MiB used and free; their sum is what the card offers.
                mem_total_bytes=None if used is None or free is None else (used + free) * MIB,
                temp_c=f.get("temp"),
                power_w=f.get("power"),
                xid=None if xid is None else int(xid),
            )
        )
    return gpus


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
    for labels, points in series:
        key = gpu_key(labels, profile)
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
