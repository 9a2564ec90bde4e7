"""Domain types for one refresh: what every source returns and every widget renders.

Plain frozen dataclasses: a snapshot is a value. Sources build them, analysis reads
them, widgets render them, and `warroom snapshot --json` serialises them.
Ratios are 0..1 floats; latencies are seconds; ``None`` means "no data", never zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime

AGGREGATE = "(all models)"
"""Name of the row that stands for the whole API."""


@dataclass(frozen=True, slots=True)
class ModelHealth:
    """One model's serving health over the rate window, as the gateway and servers see it."""

    model: str
    p50_s: float | None = None
    p95_s: float | None = None
    p99_s: float | None = None
    ttft_p99_s: float | None = None
    rps: float | None = None
    error_5xx_ratio: float | None = None
    rate_429_ratio: float | None = None
    queue_depth: float | None = None
    kv_cache_ratio: float | None = None
    """The fullest KV cache among the model's pods (0..1): vLLM pre-allocates GPU memory,
    so this, not the framebuffer, is the memory-pressure signal."""
    beyond: frozenset[str] = frozenset()
    """Quantile fields whose value is only a lower bound: the quantile lies past the
    histogram's top finite bucket, and the value is that bucket's bound (shown ``>1 s``)."""
    stale: bool = False
    """True when these values are carried from an earlier refresh (the last one failed,
    or this model's series vanished); the snapshot's ``stale_since`` says since when."""

    def as_json(self) -> dict[str, object]:
        return {
            "model": self.model,
            "p50_s": _finite(self.p50_s),
            "p95_s": _finite(self.p95_s),
            "p99_s": _finite(self.p99_s),
            "ttft_p99_s": _finite(self.ttft_p99_s),
            "rps": _finite(self.rps),
            "error_5xx_ratio": _finite(self.error_5xx_ratio),
            "rate_429_ratio": _finite(self.rate_429_ratio),
            "queue_depth": _finite(self.queue_depth),
            "kv_cache_ratio": _finite(self.kv_cache_ratio),
            "beyond": sorted(self.beyond),
            "stale": self.stale,
        }

    def marked_stale(self) -> ModelHealth:
        return self if self.stale else replace(self, stale=True)


@dataclass(frozen=True, slots=True)
class KeyRejections:
    """429s attributed to one API key: tells a noisy tenant from a real limit problem."""

    api_key: str
    rate: float
    """Rejections per second over the rate window."""
    share: float
    """This key's fraction of all 429s (0..1)."""
    tenant: str | None = None
    """Who the key belongs to, from the counter's tenant label (``metrics.tenant_label``);
    None when the series carry none."""

    def as_json(self) -> dict[str, object]:
        return {
            "api_key": self.api_key,
            "tenant": self.tenant,
            "rate": _finite(self.rate),
            "share": _finite(self.share),
        }


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    """One point of a model's history plot."""

    at: float
    """Unix seconds."""
    p99_s: float | None
    error_5xx_ratio: float | None
    rate_429_ratio: float | None


MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class GpuProcess:
    """A process holding GPU memory, as NVML lists it (DCGM does not)."""

    pid: int
    name: str | None
    used_bytes: float | None

    def as_json(self) -> dict[str, object]:
        return {"pid": self.pid, "name": self.name, "used_bytes": _whole(self.used_bytes)}


@dataclass(frozen=True, slots=True)
class GpuState:
    """One GPU as the grid shows it, from DCGM (fleet-wide) or NVML (this host).

    ``model`` is the served model (from the pod's vLLM series), not the GPU product;
    ``None`` for a GPU no model server holds.
    """

    node: str
    gpu: int
    """Index on its node (dcgm-exporter's ``gpu`` label, NVML's device index)."""
    uuid: str
    model: str | None = None
    pod: str | None = None
    namespace: str | None = None
    product: str | None = None
    """E.g. ``NVIDIA H100 80GB HBM3`` (dcgm-exporter's ``modelName``)."""
    util_ratio: float | None = None
    mem_used_bytes: float | None = None
    mem_total_bytes: float | None = None
    temp_c: float | None = None
    power_w: float | None = None
    xid: int | None = None
    """The last XID code reported since the driver loaded (0: none; None: not known)."""
    processes: tuple[GpuProcess, ...] = ()
    """NVML only: processes using this GPU."""
    stale: bool = False

    @property
    def mem_ratio(self) -> float | None:
        if self.mem_used_bytes is None or not self.mem_total_bytes:
            return None
        return self.mem_used_bytes / self.mem_total_bytes

    def as_json(self) -> dict[str, object]:
        return {
            "node": self.node,
            "gpu": self.gpu,
            "uuid": self.uuid,
            "model": self.model,
            "pod": self.pod,
            "namespace": self.namespace,
            "product": self.product,
            "util_ratio": _finite(self.util_ratio),
            "mem_used_bytes": _whole(self.mem_used_bytes),
            "mem_total_bytes": _whole(self.mem_total_bytes),
            "temp_c": _finite(self.temp_c),
            "power_w": _finite(self.power_w),
            "xid": self.xid,
            "processes": [p.as_json() for p in self.processes],
            "stale": self.stale,
        }


EVENT_KINDS = ("oom", "oomkilled", "xid")
"""``oom``: a CUDA out-of-memory error in a model server's log; ``oomkilled``: a
container the kernel killed for host memory; ``xid``: a new XID code on a GPU."""


@dataclass(frozen=True, slots=True)
class GpuEvent:
    """Something that went wrong on a GPU or its pod, at a known time."""

    at: datetime
    """Timezone-aware UTC: when it happened (the log line's or termination's own time,
    or the sample at which a new XID code was first seen)."""
    kind: str
    """One of `EVENT_KINDS`."""
    detail: str
    """One line, e.g. ``XID 43 (GPU stopped processing)`` or the log line itself."""
    node: str | None = None
    gpu: int | None = None
    pod: str | None = None
    model: str | None = None
    namespace: str | None = None

    @property
    def key(self) -> tuple[object, ...]:
        """Identity for de-duplication: the same event read twice is one event."""
        return (self.at, self.kind, self.node, self.gpu, self.pod, self.detail)

    def as_json(self) -> dict[str, object]:
        return {
            "time": iso_utc(self.at),
            "kind": self.kind,
            "node": self.node,
            "gpu": self.gpu,
            "pod": self.pod,
            "namespace": self.namespace,
            "model": self.model,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one refresh learned. Models are unordered here; `severity.rank` orders them."""

    taken_at: datetime
    """When the data was read (the simulated time in demo mode), timezone-aware UTC."""
    source: str
    """Where the data came from, e.g. ``prometheus http://prom:9090`` or ``demo gpu-oom``."""
    models: tuple[ModelHealth, ...]
    aggregate: ModelHealth
    rate_limited_keys: tuple[KeyRejections, ...] = ()
    """Top API keys by 429 rate, largest first."""
    error: str | None = None
    """One sentence: why the latest refresh failed, wholly or in part. None when it did not."""
    stale_since: datetime | None = None
    """When the oldest carried-over value was last read fresh; None when nothing is stale."""
    queries: int = 0
    """PromQL queries this refresh sent (0 for the demo): constant whatever the fleet size."""
    gpus: tuple[GpuState, ...] = ()
    """Every GPU the GPU source reported, in no particular order."""
    events: tuple[GpuEvent, ...] = ()
    """GPU events this refresh learned of (new XID codes); older ones are the tracker's."""
    gpu_error: str | None = None
    """One sentence: why GPU data is missing or partial (e.g. no NVML on this host)."""
    stack: tuple[str, ...] = ()
    """The stacks the figures were read from, as the top line names them (``vLLM ·
    LiteLLM``); empty for the demo."""
    unsourced: frozenset[str] = frozenset()
    """`ModelHealth` fields no stack in use has a source for: shown as such, never as 0."""
    extras: dict[str, object] = field(default_factory=dict)
    """Room for later capabilities to add keys beside the ones above, never renaming them."""
    model_pods: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Served model -> its model-server pods as ``namespace/pod``, from the per-pod series
    that carry both (vLLM's): where a mitigation finds the model's Deployment."""

    @property
    def stale(self) -> bool:
        return self.stale_since is not None

    def model(self, name: str) -> ModelHealth | None:
        if name == AGGREGATE:
            return self.aggregate
        for m in self.models:
            if m.model == name:
                return m
        return None


def iso_utc(at: datetime) -> str:
    """``2026-11-23T10:00:05Z``: the one way times are written in JSON."""
    return at.isoformat().replace("+00:00", "Z")


def _whole(value: float | None) -> int | None:
    return None if value is None or not math.isfinite(value) else round(value)


def _finite(value: float | None) -> float | None:
    """JSON has no NaN or Inf: a non-finite value is reported as no data."""
    if value is None or not math.isfinite(value):
        return None
    return round(value, 6)
