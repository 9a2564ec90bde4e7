"""What a canary drive looks like at each step: its phases and the state the view shows.

Pure: the driver (`tui.actions.canary`) replaces the state at each step, the watch
(`tui.domain.canary_watch`) builds it from a rollout someone else drives, and the view
(`widgets.canary_view`) draws it; none of the three imports another for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from tui.domain.canary import Reading, Verdict

Phase = Literal[
    "starting", "smoke", "warm-up", "ramping", "rolling-back", "promoted", "rolled-back",
    "refused", "failed", "watching",
]  # fmt: skip
"""``watching``: a rollout someone else drives, followed by `tui.domain.canary_watch`."""
END_PHASES = ("promoted", "rolled-back", "refused", "failed")
DECIDED: tuple[Phase, ...] = (*END_PHASES, "rolling-back")
"""Phases whose outcome is settled: pausing, promoting or aborting changes nothing."""
LOG_KEPT = 50
"""Log lines a `DriveState` carries for the view; the timeline keeps what matters."""


@dataclass(frozen=True, slots=True)
class DriveState:
    """What the canary view shows; replaced, never changed, at each step."""

    phase: Phase = "starting"
    stage: int | None = None
    """Index into the policy's stages; None before the first."""
    stage_pct: int = 0
    stage_started: float | None = None
    elapsed_s: float = 0.0
    reading: Reading | None = None
    verdict: Verdict | None = None
    history: tuple[tuple[float, Verdict], ...] = field(default_factory=tuple)
    """(when, verdict) for every decision that was not a wait, oldest first."""
    paused: bool = False
    message: str = ""
    """The last log line."""
    log: tuple[tuple[float, str], ...] = ()
    """(when, line) for the last `LOG_KEPT` log lines, oldest first."""
