"""NVIDIA dcgm-exporter 4.x with Kubernetes pod mapping: one series per GPU and field.

Fields and help from NVIDIA/dcgm-exporter ``etc/default-counters.csv`` (4.5.x), among
them ``DCGM_FI_DEV_FB_RESERVED`` beside used and free, and ``DCGM_FI_DRIVER_VERSION``, a
``label`` counter written as a label on every series. Labels in the order
``internal/pkg/rendermetrics/render_metrics.go`` writes them: ``gpu``, ``UUID``,
``pci_bus_id``, ``device``, ``modelName``, the host label (``Hostname`` in released
versions, ``hostname`` on main since "Rename Hostname label to hostname", #655), the label
counters, then the pod mapper's attributes (``internal/pkg/transformation/kubernetes.go``,
``pkg/dcgmexporter/kubernetes.go`` in older releases): ``container``, ``namespace``,
``pod`` of the workload holding the GPU. XID also carries ``err_code`` and ``err_msg``
(``internal/pkg/collector/gpu_collector.go``, texts from ``xid_errors.go``).

Served as the exporter writes it: a Prometheus scraping it under the Helm chart's
ServiceMonitor (``honorLabels: false``) renames ``pod``/``namespace``/``container`` to
``exported_*`` itself, as the tests' scrape jobs do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from prometheus_client.core import GaugeMetricFamily, Metric

from tui.sim.engine import GpuGauges
from tui.sim.fleet import GPU_MEMORY_MIB, GPU_PRODUCT, NAMESPACE
from tui.sim.stacks.common import gauges
from tui.sim.stacks.reading import Reading

XID_MESSAGES = {
    0: "No Error",
    31: "GPU memory page fault",
    43: "GPU stopped processing",
    79: "GPU has fallen off the bus",
}
"""``err_msg`` by ``err_code``, from ``xid_errors.go``; any other code reads
``Unknown Error`` here (upstream has a text for most)."""
UNKNOWN_XID = "Unknown Error"
DRIVER_VERSION = "550.90.07"
FB_RESERVED_MIB = 336
"""What an H100 80GB HBM3 on driver 550.90.07 reports reserved (``nvidia-smi -q``: total
81559 MiB = reserved + used + free)."""
CONTAINER = "vllm"


def framebuffer(g: GpuGauges) -> tuple[float, float, float]:
    """(used, free, reserved) MiB as DCGM reports them on drivers >= 510
    (NVIDIA/DCGM ``dcgmlib/src/DcgmCacheManager.cpp`` reads ``nvmlMemory_v2_t``): the
    reserved part comes out of what the engine calls free, then used, so the three add
    up to the card and a full card still reads full."""
    short = max(0.0, FB_RESERVED_MIB - g.fb_free_mib)
    free = max(0.0, g.fb_free_mib - FB_RESERVED_MIB)
    used = max(0.0, g.fb_used_mib - short)
    return used, free, GPU_MEMORY_MIB - used - free


DCGM_GAUGES: tuple[tuple[str, str, Callable[[GpuGauges], float]], ...] = (
    ("DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %).", lambda g: round(g.util_ratio * 100)),
    ("DCGM_FI_DEV_FB_FREE", "Framebuffer memory free (in MiB).", lambda g: framebuffer(g)[1]),
    ("DCGM_FI_DEV_FB_USED", "Framebuffer memory used (in MiB).", lambda g: framebuffer(g)[0]),
    ("DCGM_FI_DEV_FB_RESERVED", "Framebuffer memory reserved (in MiB).",
     lambda g: framebuffer(g)[2]),
    ("DCGM_FI_DEV_GPU_TEMP", "GPU temperature (in C).", lambda g: g.temp_c),
    ("DCGM_FI_DEV_POWER_USAGE", "Power draw (in W).", lambda g: g.power_w),
)  # fmt: skip
HOST_LABEL = "Hostname"
"""Released dcgm-exporter's host label; `emit_main` writes main's ``hostname``."""


def labels(host_label: str = HOST_LABEL) -> list[str]:
    return [
        "gpu",
        "UUID",
        "pci_bus_id",
        "device",
        "modelName",
        host_label,
        "DCGM_FI_DRIVER_VERSION",
        "container",
        "namespace",
        "pod",
    ]


DCGM_LABELS = labels()


def emit(r: Reading, host_label: str = HOST_LABEL) -> Iterator[Metric]:
    names = labels(host_label)
    rows = [
        ([str(g.gpu.index), g.gpu.uuid, g.gpu.pci_bus_id, g.gpu.device, GPU_PRODUCT,
          g.gpu.node, DRIVER_VERSION, CONTAINER, NAMESPACE, g.gpu.pod], g)
        for g in r.gpus
    ]  # fmt: skip
    yield from gauges(DCGM_GAUGES, names, rows)
    xid = GaugeMetricFamily(
        "DCGM_FI_DEV_XID_ERRORS", "Value of the last XID error encountered.",
        labels=[*names, "err_code", "err_msg"],
    )  # fmt: skip
    for values, g in rows:
        xid.add_metric([*values, str(g.xid), XID_MESSAGES.get(g.xid, UNKNOWN_XID)], g.xid)
    yield xid


emit_main = partial(emit, host_label="hostname")
"""dcgm-exporter built from main after #655: the host label is ``hostname``."""
