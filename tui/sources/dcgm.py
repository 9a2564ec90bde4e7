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
    node = next((labels[h] for h in HOST_LABELS if labels.get(h)), None) or labels.get("instance")
    try:
        index = int(labels.get("gpu", ""))
    except ValueError:
        return None
    if node is None:
        return None
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
    series, else from the fullest labels its gauges carry."""
    fields: dict[tuple[str, int], dict[str, float | None]] = defaultdict(dict)
    who: dict[tuple[str, int], GpuKey] = {}
    for labels, value in samples:
        key = gpu_key(labels, profile)
        field = labels.get(GPU_FIELD_LABEL)
        if key is None or not field:
            continue
        spot = (key.node, key.gpu)
        fields[spot]  # every GPU named, even by its identity alone, is on the grid
        if field != IDENTITY_FIELD:
            fields[spot][field] = _finite(value)
        held = who.get(spot)
        # A pod label that changed between gauges gives two identities: the one naming a
        # pod wins, then the one with a UUID, then the first.
        if held is None or _fuller(key, held):
            who[spot] = key
    gpus = []
    for spot, f in fields.items():
        key = who[spot]
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


def _fuller(key: GpuKey, held: GpuKey) -> bool:
    """``key`` says more about the GPU than ``held``."""
    return _says(key) > _says(held)


def _says(key: GpuKey) -> tuple[bool, bool, bool]:
    """What a GPU's labels name: its pod, its own UUID (not the node/index stand-in), its
    product."""
    return (key.pod is not None, key.uuid != f"{key.node}/{key.gpu}", key.product is not None)


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
