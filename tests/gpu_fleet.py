"""The simulator's GPU fleet as the grid's sources would report it: its GPUs, the events a
tracker would hold and the sick model, for the grid's tests and its benchmark."""

from __future__ import annotations

from datetime import UTC, datetime

from demo_app import AT_S, EPOCH

from tui.domain.model import GpuEvent, GpuState
from tui.sim.engine import Engine
from tui.sim.fleet import NAMESPACE, build_fleet
from tui.sim.scenarios import scenario
from tui.sim.source import gpu_state

OOM_WINDOW_S = 60.0


def at(t_s: float) -> datetime:
    return datetime.fromtimestamp(EPOCH + t_s, UTC)


def sim_fleet(
    name: str = "gpu-oom", *, at_s: float = AT_S, models: int = 200, gpus: int = 1024
) -> tuple[list[GpuState], list[GpuEvent], str | None]:
    """The simulator's GPUs as the grid's sources would report them, the events a tracker
    would hold (each new XID code; CUDA OOMs of the last minute) and the sick model."""
    fleet = build_fleet(models, gpus)
    scene = scenario(name)
    engine = Engine(fleet, scene, start_s=0.0)
    engine.advance(at_s)
    gauges = engine.gpus()
    states = [gpu_state(g) for g in gauges]
    events: list[GpuEvent] = []
    for g in gauges:
        if g.xid:
            # Dated by the first second the scenario reports the code, as a tracker sees it.
            first = next(t for t in range(int(at_s) + 1) if scene.xid(fleet, g.gpu, t) == g.xid)
            events.append(
                GpuEvent(
                    at(first),
                    "xid",
                    f"XID {g.xid}",
                    g.gpu.node,
                    g.gpu.index,
                    g.gpu.pod,
                    g.gpu.model,
                    NAMESPACE,
                )
            )
    for model in fleet.models:
        for pod in model.pods:
            held = [g for g in model.gpus if g.pod == pod]
            for oom in scene.cuda_ooms(fleet, model, pod, at_s):
                if oom.at_s < at_s - OOM_WINDOW_S:
                    continue
                g = held[oom.device]
                detail = (
                    "torch.OutOfMemoryError: CUDA out of memory. "
                    f"Tried to allocate {oom.tried_gib:.2f} GiB"
                )
                events.append(
                    GpuEvent(
                        at(oom.at_s), "oom", detail, g.node, g.index, pod, model.name, NAMESPACE
                    )
                )
    return states, events, scene.expected(fleet).model
