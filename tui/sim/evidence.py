"""The simulated fleet's pods as `KubeEvidence` would read them from a cluster: the same
bounds, the same parsers (`tui.sources.kube`), no network."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tui.clock import Clock
from tui.domain.model import GpuEvent
from tui.sim.fleet import Fleet
from tui.sim.pods import pod_log, pod_manifest, pod_model
from tui.sim.scenarios import Scenario
from tui.sources.kube import (
    PodEvidence,
    PodTarget,
    as_utc,
    events_from_log,
    events_from_pod,
    events_since,
    gathered,
    restart_count,
    since_seconds,
    unique_pods,
)


class DemoEvidence:
    """`KubeEvidence`'s reading of the simulated fleet: the same bounds, the same parsers,
    no network."""

    def __init__(
        self,
        fleet: Fleet,
        scenario: Scenario,
        epoch: float,
        clock: Clock,
        *,
        tail_lines: int = 200,
        max_pods: int = 4,
    ) -> None:
        self._fleet = fleet
        self._scenario = scenario
        self._epoch = epoch
        self._clock = clock
        self.tail_lines = tail_lines
        self.max_pods = max_pods

    async def aclose(self) -> None:
        pass

    async def read(self, targets: Sequence[PodTarget], since: datetime) -> PodEvidence:
        now, since = self._clock.now(), as_utc(since)
        t = max(0.0, now - self._epoch)
        since_s = since_seconds(now, since)
        events: list[GpuEvent] = []
        restarts: dict[str, int] = {}
        found: list[tuple[PodTarget, dict[str, Any]]] = []
        for target in unique_pods(targets):
            try:
                pod_model(self._fleet, target.pod)
            except KeyError:
                continue  # not a pod of this fleet: as if it were gone
            pod = pod_manifest(self._fleet, self._scenario, target.pod, t, self._epoch)
            if pod["metadata"]["namespace"] != target.namespace:
                continue
            found.append((target, pod))
            restarts[target.pod] = restart_count(pod)
            events += events_since(events_from_pod(pod, target), since)
        for target, _ in found[: self.max_pods]:
            log = pod_log(
                self._fleet,
                self._scenario,
                target.pod,
                t,
                self._epoch,
                since_s=since_s,
                tail_lines=self.tail_lines,
                timestamps=True,
            )
            events += events_since(events_from_log(log, target), since)
        return gathered(events, restarts, None)
