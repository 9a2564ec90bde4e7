"""One step of the collection loop, apart from the panes: the health source's snapshot
with the GPUs the config asks for, and the pod evidence behind sick models.

The app calls it every refresh, ``warroom snapshot`` once. Every part fails on its own:
no NVML, no Kubernetes or a forbidden log read costs that part only, with one sentence.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tui.clock import Clock
from tui.config import Config
from tui.domain.model import Snapshot
from tui.refresh.evidence import PodEvidenceReader, pod_targets
from tui.sources.base import HealthSource

if TYPE_CHECKING:
    from tui.sources.kube import PodEvidence
    from tui.sources.nvml import NvmlGpus


class Collector:
    def __init__(
        self,
        source: HealthSource,
        config: Config,
        *,
        clock: Clock,
        nvml: NvmlGpus | None = None,
        pods: PodEvidenceReader | None = None,
        pods_note: str | None = None,
    ) -> None:
        self.source = source
        self.config = config
        self.clock = clock
        self.nvml = nvml
        self.pods = pods
        self.pods_note = pods_note
        """Why there is no pod evidence, when it was asked for and cannot be had."""
        self._pods_read_at: float | None = None
        self._pods_since: datetime | None = None

    async def collect(self) -> Snapshot:
        """The source's refresh with GPUs per ``gpu_source``; raises `SourceError` as the
        source does (the GPU part never raises)."""
        snap = await self.source.refresh()
        choice = self.config.gpu_source
        if choice == "none":
            return replace(snap, gpus=(), events=(), gpu_error=None)
        if choice == "dcgm" or self.nvml is None:
            return snap
        if choice == "auto" and snap.gpus:
            return snap
        reading = await self.nvml.aread()
        if reading.gpus or choice == "nvml":
            return replace(snap, gpus=reading.gpus, events=reading.events, gpu_error=reading.error)
        # auto, and neither DCGM nor NVML has anything: say both in one sentence.
        why = (snap.gpu_error or "no DCGM series").rstrip(".")
        nvml_why = (reading.error or "NVML found no GPUs").rstrip(".")
        return replace(snap, gpu_error=f"No GPU data: {why}; and {_lower(nvml_why)}.")

    def evidence_due(self) -> bool:
        if self.pods is None:
            return False
        last = self._pods_read_at
        return last is None or self.clock.now() - last >= self.config.kubernetes.interval_s

    async def pod_evidence(self, snapshot: Snapshot) -> PodEvidence | None:
        """Read the pods behind models whose 5xx rose; None when no reader is configured
        or no model needs it. The first reading looks back over the history window,
        later ones from the previous reading on (a little overlap; events de-duplicate)."""
        if self.pods is None:
            return None
        targets = pod_targets(snapshot, self.config.slo)
        self._pods_read_at = self.clock.now()
        if not targets:
            return None
        now = snapshot.taken_at
        since = self._pods_since or now - timedelta(seconds=self.config.history_s)
        evidence = await self.pods.read(targets, since)
        self._pods_since = now - timedelta(seconds=self.config.kubernetes.interval_s)
        return evidence

    async def aclose(self) -> None:
        await self.source.aclose()
        if self.pods is not None:
            await self.pods.aclose()
        if self.nvml is not None:
            self.nvml.close()


def _lower(sentence: str) -> str:
    return sentence[:1].lower() + sentence[1:]
