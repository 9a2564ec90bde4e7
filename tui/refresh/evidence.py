"""Which pods to read for OOM evidence, and what reads them.

Reading pod logs is the expensive part of GPU evidence, so it is bounded three ways:
only pods behind models whose 5xx rose, sickest model first; at most
``kubernetes.max_log_pods`` per reading (the reader enforces it); and at most one
reading every ``kubernetes.interval_s``. Which reader (a cluster's or the simulator's)
is chosen in `tui.cli.wiring`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from tui.config import Slo
from tui.domain.model import Snapshot
from tui.domain.severity import error_rose

if TYPE_CHECKING:
    from tui.sources.kube import PodEvidence, PodTarget


class PodEvidenceReader(Protocol):
    async def read(self, targets: Sequence[PodTarget], since: datetime) -> PodEvidence: ...

    async def aclose(self) -> None: ...


def pod_targets(snapshot: Snapshot, slo: Slo) -> list[PodTarget]:
    """Pods behind every model whose 5xx is at or past the warning line, sickest first;
    each with its GPUs in CUDA device order (index order on the node)."""
    from tui.sources.kube import targets_for

    rose = sorted(
        (m for m in snapshot.models if error_rose(m, slo)),
        key=lambda m: (-(m.error_5xx_ratio or 0.0), m.model),
    )
    return targets_for(snapshot.gpus, [m.model for m in rose])
