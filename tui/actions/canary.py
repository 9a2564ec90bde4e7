"""The canary driver: smoke-check, warm up, ramp the stages, promote at 100 %, and on a
regression roll back drained (deploy-inference-gateway).

Traffic moves through a `Route` — the Gateway API HTTPRoute through `Mitigator`, or the
demo's simulated route — a small interface, so a second backend (Argo Rollouts) is one
more class. Figures come from a `CanarySource`; every verdict comes from the pure
`tui.domain.canary.judge`. Each transition and comparison is one log line and, for the ones
that matter afterwards, one timeline entry; the rollback is an action like any other
(``action.requested`` before, ``action.succeeded`` after, with the drain in between).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from tui.actions.execute import Cluster, Outcome, Sleep, carry_out
from tui.actions.kube import ActionError
from tui.clock import Clock, utc
from tui.domain.canary import CanaryPolicy, Reading, Side, Verdict, fmt_figure, judge
from tui.domain.drive_state import LOG_KEPT, DriveState, Phase
from tui.domain.format import NO_DATA
from tui.domain.plan import Plan
from tui.errors import SourceError
from tui.sources.base import CanarySource
from tui.store.timeline import Timeline

EXIT_CODES = {"promoted": 0, "rolled-back": 1, "refused": 2, "failed": 3}
"""``warroom canary drive`` exit status: 0 only on promotion, so CI/CD fails the
pipeline on a bad deploy."""
PREFLIGHT_WINDOW_S = 300.0
"""How far back the model versions are read before any traffic moves."""


class Route(Cluster, Protocol):
    """Where canary traffic is set: plans, dry runs and applies like `Mitigator`."""

    @property
    def place(self) -> str:
        """Where its changes land, as a confirmation names it."""
        ...

    async def canary_weight(self) -> int: ...

    async def plan_weight(self, canary_pct: int) -> Plan: ...

    async def drained_rollback(self) -> Plan: ...


class Warmup(Protocol):
    """Smoke check and synthetic warm-up traffic, straight to the canary's pods."""

    async def smoke(self) -> str | None:
        """None when the canary answers as it should, else why not (one sentence)."""
        ...

    async def warm(self) -> None:
        """Start (or keep up) warm-up traffic to the canary."""
        ...


class CanaryDriver:
    def __init__(
        self,
        policy: CanaryPolicy,
        route: Route,
        source: CanarySource,
        *,
        clock: Clock,
        sleep: Sleep = asyncio.sleep,
        warmup: Warmup | None = None,
        timeline: Timeline | None = None,
        actor: str = "warroom canary drive",
        poll_s: float = 15.0,
        no_data_limit_s: float | None = None,
        log: Callable[[str], None] = print,
        on_change: Callable[[DriveState], None] | None = None,
    ) -> None:
        self.policy = policy
        self.route = route
        self.source = source
        self.clock = clock
        self.sleep = sleep
        self.warmup = warmup
        self.timeline = timeline
        self.actor = actor
        self.poll_s = poll_s
        self.no_data_limit_s = (
            no_data_limit_s if no_data_limit_s is not None else 2 * policy.stage_hold_s
        )
        """A stage that has had no figures for this long is rolled back: a canary nobody
        can judge is not one to leave serving traffic."""
        self._log = log
        self.on_change = on_change
        """Called with every new state: the cockpit repaints the canary view from it."""
        self.state = DriveState()
        self._abort: str | None = None
        self._promote = False
        self.rollback: Outcome | None = None
        self.baseline: Side | None = None
        """The stable build's figures before any traffic moved."""

    # -- keys of the canary view

    def pause(self, paused: bool = True) -> None:
        """Hold the current stage: comparisons go on, the ramp does not advance."""
        self._set(paused=paused)
        self.say(f"{'paused' if paused else 'resumed'} at {self.state.stage_pct} %")

    def abort(self, why: str = "aborted by the operator") -> None:
        """Roll back (drained) at the next step."""
        self._abort = why
        self.record("canary.abort-requested", reason=why, stage_pct=self.state.stage_pct)

    def promote_now(self, by: str | None = None) -> None:
        """Skip the remaining stages: straight to 100 % at the next step. An explicit
        promotion overrides a pause: holding at 100 % would only leave it half done."""
        self._promote = True
        if self.state.paused:
            self._set(paused=False)
        self.record("canary.promote-requested", by=by or self.actor,
                    stage_pct=self.state.stage_pct)  # fmt: skip

    # -- the loop

    async def run(self) -> DriveState:
        p = self.policy
        self.say(
            f"canary drive: stages {' '.join(map(str, p.stages))} %, hold {p.stage_hold_s:g} s, "
            f"min {p.min_requests} requests, gates error x{p.error_rate_regression:g} "
            f"p99 x{p.p99_regression:g}, warm-up {p.warmup_s:g} s"
        )
        self.record("canary.started", policy=_policy_json(p))
        try:
            if not await self._preflight():
                return self.state
            for index, pct in enumerate(p.stages):
                if not await self._stage(index, pct):
                    return self.state
            return self._end("promoted", f"promoted: the canary takes {p.stages[-1]} % of traffic")
        except ActionError as exc:
            return self._end("failed", f"stopped: {exc}")

    async def _preflight(self) -> bool:
        """Smoke check, same-model check and warm-up: all before any real traffic."""
        if self.warmup is not None:
            self._set(phase="smoke")
            failure = await self.warmup.smoke()
            if failure is not None:
                self._end("refused", f"smoke check failed, no traffic shifted: {failure}")
                return False
            self.say("smoke check passed")
        before = await self._read(PREFLIGHT_WINDOW_S)
        if before is not None:
            verdict = judge(self.policy, 0, 0.0, before)
            if verdict.decision == "refuse":
                self._end("refused", f"no traffic shifted: {verdict.reason}", verdict)
                return False
            self.baseline = before.baseline
            if self.baseline is not None:
                self.say(
                    f"baseline captured over {PREFLIGHT_WINDOW_S:g} s: "
                    f"{self.baseline.requests:.0f} requests, "
                    f"{_figure('error_rate', self.baseline.error_rate)} errors, "
                    f"p99 {_figure('p99', self.baseline.p99_s)}"
                )
        if self.policy.warmup_s > 0 and self.warmup is not None:
            self._set(phase="warm-up")
            self.say(f"warming the canary for {self.policy.warmup_s:g} s (not counted)")
            started = self.clock.now()
            while self.clock.now() - started < self.policy.warmup_s:
                await self.warmup.warm()
                await self.sleep(min(self.poll_s, self.policy.warmup_s))
        return True

    async def _stage(self, index: int, pct: int) -> bool:
        """Run one stage; False when the drive ended in it."""
        if self._promote and pct != self.policy.stages[-1]:
            return True
        await self._shift(pct)
        started = self.clock.now()
        self._set(phase="ramping", stage=index, stage_pct=pct, stage_started=started,
                  elapsed_s=0.0, reading=None, verdict=None)  # fmt: skip
        self.record("canary.stage", stage_pct=pct, stage=index)
        no_data_since: float | None = started
        last_wait_log = started
        while True:
            await self.sleep(self.poll_s)
            if self._abort is not None:
                await self._roll_back(self._abort, None)
                return False
            if self._promote and pct != self.policy.stages[-1]:
                self.say(f"promoting now by hand, from {pct} %")
                return True
            now = self.clock.now()
            elapsed = now - started
            reading = self._with_baseline(await self._read(elapsed))
            verdict = judge(self.policy, index, elapsed, reading or Reading(None, None))
            self._set(elapsed_s=elapsed, reading=reading, verdict=verdict)
            if verdict.decision == "no-data":
                no_data_since = no_data_since if no_data_since is not None else now
                if now - no_data_since >= self.no_data_limit_s:
                    await self._roll_back(
                        f"no figures to judge by for {now - no_data_since:.0f} s at {pct} %",
                        verdict,
                    )
                    return False
            else:
                no_data_since = None
            if verdict.decision in ("wait", "no-data"):
                if now - last_wait_log >= max(60.0, self.poll_s):
                    self.note(verdict.reason)
                    last_wait_log = now
                continue
            if verdict.decision in ("rollback", "refuse"):
                self._decided(now, verdict)
                await self._roll_back(verdict.reason, verdict)
                return False
            if self.state.paused:
                continue  # a passing stage holds while paused; a failing one still rolls back
            self._decided(now, verdict)
            return True

    async def _shift(self, pct: int) -> None:
        plan = await self.route.plan_weight(pct)
        if plan.noop:
            self.say(f"traffic already at {pct} % on the canary")
            return
        await self.route.dry_run(plan)
        await self.route.apply(plan)
        self.say(f"stage {pct} %: {'; '.join(plan.lines())}")

    async def _roll_back(self, why: str, verdict: Verdict | None) -> None:
        self.say(f"rolling back at {self.state.stage_pct} %: {why}", phase="rolling-back")
        plan = await self.route.drained_rollback()
        if plan.drain is not None:
            plan = replace(plan, drain=replace(plan.drain, timeout_s=self.policy.drain_timeout_s))
        self.say(f"rollback: {'; '.join(plan.lines())}")
        outcome = await carry_out(
            self.route, plan, self.timeline, clock=self.clock, actor=self.actor,
            in_flight=self.source.canary_in_flight, sleep=self.sleep,
        )  # fmt: skip
        self.rollback = outcome
        if outcome.result in ("succeeded", "noop"):
            self._end("rolled-back", f"rolled back: {outcome.message}", verdict)
            # Logged only: the state's message keeps what the rollback did.
            self._log(
                "next: triage with the runbook (warroom triage --runbook latency or "
                "errors-5xx) before redeploying this build"
            )
        else:
            self._end("failed", f"the rollback did not complete: {outcome.message}", verdict)

    def _with_baseline(self, reading: Reading | None) -> Reading | None:
        """The stable build serving alongside is the fairest baseline (same minutes, same
        load); once it serves too little to judge by (at 100 % it serves nothing), the
        baseline captured before the ramp stands in."""
        if reading is None or self.baseline is None:
            return reading
        live = reading.baseline
        if live is None or live.requests < self.policy.min_requests:
            return Reading(canary=reading.canary, baseline=self.baseline)
        return reading

    async def _read(self, window_s: float) -> Reading | None:
        try:
            return await self.source.canary(window_s)
        except SourceError as exc:
            self.note(f"no canary figures: {exc}")
            return None

    # -- reporting

    def _decided(self, now: float, verdict: Verdict) -> None:
        self._set(history=(*self.state.history, (now, verdict)))
        self.say(verdict.reason)
        self.record("canary.verdict", decision=verdict.decision, reason=verdict.reason,
                    stage_pct=verdict.stage_pct, metric=verdict.metric, value=verdict.value,
                    threshold=verdict.threshold, samples=verdict.samples)  # fmt: skip

    def _end(self, phase: Phase, message: str, verdict: Verdict | None = None) -> DriveState:
        if verdict is not None and verdict not in (v for _, v in self.state.history):
            self._set(history=(*self.state.history, (self.clock.now(), verdict)))
        # Phase and message in one change: whoever follows the state sees them together.
        self.say(message, phase=phase)
        self.record(f"canary.{phase}", message=message, stage_pct=self.state.stage_pct)
        return self.state

    def say(self, line: str, **changes: object) -> None:
        """A transition: logged, and the state's message until the next one."""
        log = (*self.state.log, (self.clock.now(), line))[-LOG_KEPT:]
        self._set(message=line, log=log, **changes)
        self._log(line)

    def note(self, line: str) -> None:
        """A progress line (a wait, a missed reading): logged, but the message stays the
        last transition; the verdict in hand already says the figures of the moment."""
        self._set(log=(*self.state.log, (self.clock.now(), line))[-LOG_KEPT:])
        self._log(line)

    def record(self, kind: str, **fields: object) -> None:
        if self.timeline is not None:
            self.timeline.append(kind, utc(self.clock.now()), actor=self.actor, **fields)

    def _set(self, **changes: object) -> None:
        self.state = replace(self.state, **changes)  # type: ignore[arg-type]
        if self.on_change is not None:
            self.on_change(self.state)


def _policy_json(p: CanaryPolicy) -> dict[str, object]:
    return {"stages": list(p.stages), "stage_hold_s": p.stage_hold_s,
            "error_rate_regression": p.error_rate_regression, "p99_regression": p.p99_regression,
            "warmup_s": p.warmup_s, "min_requests": p.min_requests,
            "drain_timeout_s": p.drain_timeout_s}  # fmt: skip


def _figure(metric: str, value: float | None) -> str:
    return NO_DATA if value is None else fmt_figure(metric, value)
