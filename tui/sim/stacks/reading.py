"""The fleet at one simulated instant, as every stack emitter reads it: its own module, so
the emitters and the list of them (`tui.sim.stacks`) do not import each other."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from prometheus_client.core import Metric

from tui.sim.engine import GpuGauges, PodGauges, Sample
from tui.sim.fleet import Fleet
from tui.sim.scenarios import Scenario


@dataclass(frozen=True, slots=True)
class Reading:
    """The fleet at one simulated instant, as every emitter sees it."""

    fleet: Fleet
    scenario: Scenario
    sample: Sample
    pods: list[PodGauges]
    gpus: list[GpuGauges]
    in_flight: dict[str, float]


Emitter = Callable[[Reading], Iterable[Metric]]
