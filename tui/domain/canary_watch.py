"""Watching a canary someone else drives (a pipeline's ``warroom canary drive``, Argo,
a colleague): the same view and the same judge, with nothing sent anywhere.

Where the rollout stands comes from the route's canary weight when warroom can read the
route, else from the traffic itself (the canary's share of the requests). The hold is
counted from when warroom saw the weight reach its present value: a watch that starts
mid-stage holds for longer than the driver did, never for less. Pure: the app reads,
this only decides what the readings mean.
"""

from __future__ import annotations

from dataclasses import replace

from tui.domain.canary import CanaryPolicy, Reading, judge
from tui.domain.drive_state import DriveState

SNAP_POINTS = 2
"""An observed share within this many points of a stage is that stage: a 5 % weight
serves 4.6 % or 5.3 % of a window's requests by chance alone."""
MIN_WINDOW_S = 60.0
"""The shortest window read while watching: before a stage has held a minute, the
minute before stands in, so the figures on screen are never a handful of requests."""


def observed_share(reading: Reading | None, stages: tuple[int, ...]) -> int | None:
    """The canary's share of the requests in ``reading``, in whole percent, snapped to a
    stage when close; None when nothing was served."""
    if reading is None:
        return None
    canary = reading.canary.requests if reading.canary is not None else 0.0
    stable = reading.baseline.requests if reading.baseline is not None else 0.0
    if canary + stable <= 0:
        return None
    share = 100.0 * canary / (canary + stable)
    near = min(stages, key=lambda s: abs(s - share))
    return near if abs(near - share) <= SNAP_POINTS else round(share)


def stage_index(stages: tuple[int, ...], weight: int) -> int | None:
    """The stage a weight is in: the highest one it has reached; None below the first."""
    reached = [i for i, pct in enumerate(stages) if pct <= weight]
    return reached[-1] if reached else None


class CanaryWatch:
    """Turns successive readings into the `DriveState` the canary view draws."""

    def __init__(self, policy: CanaryPolicy) -> None:
        self.policy = policy
        self.state = DriveState(phase="watching", message="reading the canary…")
        self._weight: int | None = None

    def window_s(self, now: float) -> float:
        """How far back the next reading should look: the stage so far, at least
        `MIN_WINDOW_S`."""
        started = self.state.stage_started
        return max(MIN_WINDOW_S, now - started) if started is not None else MIN_WINDOW_S

    def observe(
        self,
        now: float,
        reading: Reading | None,
        *,
        weight: int | None = None,
        error: str | None = None,
    ) -> DriveState:
        """One poll: the route's ``weight`` when it could be read (else the traffic says
        where the rollout is), the figures, and what went wrong reading them, if anything."""
        if weight is None:
            weight = observed_share(reading, self.policy.stages)
            source = "traffic share"
        else:
            source = "route weight"
        if weight is None:
            message = error or "No traffic on the gateway revisions to watch yet."
            self.state = replace(self.state, reading=reading, verdict=None, message=message)
            return self.state
        if weight != self._weight:
            # A new stage (or the first look): the hold starts over from here.
            previous = self._weight
            self._weight = weight
            self.state = replace(self.state, stage_started=now, elapsed_s=0.0)
            if previous is not None and weight == 0:
                self.state = replace(self.state, stage=None, stage_pct=0, verdict=None,
                                     message=f"The canary's {source} fell from {previous} % "
                                     "to 0 %: rolled back, or not started again.")  # fmt: skip
                return self.state
        index = stage_index(self.policy.stages, weight)
        started = self.state.stage_started if self.state.stage_started is not None else now
        elapsed = now - started
        if index is None:
            message = error or f"The canary serves no traffic ({source} {weight} %)."
            self.state = replace(self.state, stage=None, stage_pct=weight, elapsed_s=elapsed,
                                 reading=reading, verdict=None, message=message)  # fmt: skip
            return self.state
        verdict = judge(self.policy, index, elapsed, reading or Reading(None, None))
        history = self.state.history
        last = history[-1][1] if history else None
        decided = verdict.decision not in ("wait", "no-data")
        if decided and (last is None or (last.decision, last.stage_pct) != (
            verdict.decision, verdict.stage_pct)):  # fmt: skip
            history = (*history, (now, verdict))
        message = error or (
            f"At {weight} % by the {source}; the hold counts from when warroom saw it there."
        )
        self.state = replace(self.state, stage=index, stage_pct=weight, elapsed_s=elapsed,
                             reading=reading, verdict=verdict, history=history,
                             message=message)  # fmt: skip
        return self.state
