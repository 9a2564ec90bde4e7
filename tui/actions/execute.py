"""Carrying out a confirmed plan, with the incident timeline written around it.

Order, so a crash at any point leaves the truth on disk: the action lock (`ActionLock`)
is taken; ``action.requested`` is written (fsynced) before the first change; then the
dry run, the real patches, and ``action.succeeded`` or ``action.failed`` with the API's
sentence; then the lock is released. A plan with nothing to change writes
``action.noop`` and sends nothing; a lock held by someone else, ``action.refused``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from tui.actions.kube import ActionError, Conflict
from tui.actions.lock import LEASE_SECONDS, ActionLock, Locked
from tui.clock import Clock, utc
from tui.domain.plan import Drain, Plan
from tui.store.timeline import Timeline

Result = Literal["noop", "succeeded", "failed", "conflict", "locked"]
InFlight = Callable[[], Awaitable[int | None]]
"""Reads the canary's in-flight requests now; None when it cannot be read."""
Sleep = Callable[[float], Awaitable[None]]


class Cluster(Protocol):
    """What carries a plan out: the Kubernetes `Mitigator`, or the demo's simulated route."""

    host: str

    async def dry_run(self, plan: Plan) -> None: ...

    async def apply(self, plan: Plan) -> None: ...


@dataclass(frozen=True, slots=True)
class Drained:
    """How a drain ended."""

    in_flight: int | None
    """Requests still in flight when the wait ended (None: the gauge could not be read)."""
    waited_s: float

    @property
    def clean(self) -> bool:
        return self.in_flight == 0

    def sentence(self) -> str:
        if self.clean:
            return f"in-flight requests drained to 0 in {self.waited_s:.0f} s"
        if self.in_flight is None:
            return (
                f"the in-flight gauge could not be read for {self.waited_s:.0f} s "
                "(drain timeout); scaled down without knowing what was in flight"
            )
        return (
            f"drain timed out after {self.waited_s:.0f} s with {self.in_flight} requests still "
            "in flight; they were cut"
        )


async def wait_drained(
    in_flight: InFlight, drain: Drain, clock: Clock, sleep: Sleep = asyncio.sleep
) -> Drained:
    """Poll ``in_flight`` until it reads 0 or ``drain.timeout_s`` has passed."""
    started = clock.now()
    while True:
        try:
            count = await in_flight()
        except Exception:
            # Traffic has already moved: a failing read must not strand the rollback
            # half-done, so it counts as "unknown" and the timeout still ends the wait.
            count = None
        waited = clock.now() - started
        if count == 0 or waited >= drain.timeout_s:
            return Drained(count, waited)
        await sleep(min(drain.poll_s, max(0.0, drain.timeout_s - waited)))


@dataclass(frozen=True, slots=True)
class Outcome:
    result: Result
    message: str
    """One sentence for the screen."""


async def carry_out(
    mitigator: Cluster,
    plan: Plan,
    timeline: Timeline | None,
    *,
    clock: Clock,
    actor: str,
    model: str | None = None,
    lock: ActionLock | None = None,
    in_flight: InFlight | None = None,
    sleep: Sleep = asyncio.sleep,
) -> Outcome:
    """Run ``plan`` (already confirmed) and record it. ``timeline`` None: not recorded
    (tests of the calls alone); an unwritable timeline stops the action before any call,
    since an unrecorded change is exactly what must not happen. A plan with a drain needs
    ``in_flight``."""
    fields = {"actor": actor, "model": model, "context": mitigator.host, **plan.as_json()}
    if plan.noop:
        message = f"{plan.title}: already in place, nothing to change."
        _write(timeline, "action.noop", clock, **fields)
        return Outcome("noop", message)
    run = _Run(mitigator, plan, timeline, clock, fields, in_flight, sleep)
    if lock is None:
        return await run()
    outcome: Outcome | None = None
    try:
        async with lock.held(actor, plan.mitigation):
            outcome = await run()
    except Locked as exc:
        _write(timeline, "action.refused", clock, error=str(exc), **fields)
        return Outcome("locked", str(exc))
    except ActionError as exc:
        if outcome is None:
            # The lock could not be taken: nothing was requested, nothing sent.
            _write(timeline, "action.failed", clock, error=str(exc), **fields)
            return Outcome("failed", str(exc))
        # The action ran to its end and is recorded; only the release failed. Its outcome
        # stands (a change that was made must not read as failed), and the lock frees
        # itself when its lease runs out.
        _write(timeline, "action.step", clock, step="action lock not released",
               error=str(exc), mitigation=plan.mitigation)  # fmt: skip
        why, wait = str(exc).rstrip("."), f"{LEASE_SECONDS // 60} min"
        return replace(
            outcome,
            message=f"{outcome.message.rstrip('.')}; the action lock could not be released "
            f"({why}), so other mitigations in {lock.namespace} wait up to {wait}.",
        )
    return outcome


@dataclass(slots=True)
class _Run:
    mitigator: Cluster
    plan: Plan
    timeline: Timeline | None
    clock: Clock
    fields: dict[str, object]
    in_flight: InFlight | None
    sleep: Sleep

    async def __call__(self) -> Outcome:
        plan, fields = self.plan, self.fields
        self.write("action.requested", **fields)
        drained: Drained | None = None
        try:
            # Every patch is dry-run before the first real one: a drained rollback
            # whose scale-down the server would refuse never starts shifting traffic.
            await self.mitigator.dry_run(plan)
            first, rest = plan.phases()
            await self.mitigator.apply(first)
            if rest is not None and plan.drain is not None:
                drained = await self.drain(first, plan.drain)
                await self.mitigator.apply(rest)
        except Conflict as exc:
            self.write("action.failed", error=str(exc), conflict=True, **fields)
            return Outcome("conflict", str(exc))
        except ActionError as exc:
            self.write("action.failed", error=str(exc), **fields)
            return Outcome("failed", str(exc))
        extra: dict[str, object] = {}
        done = f"{plan.title}: done ({'; '.join(plan.lines())})."
        if drained is not None:
            extra = {"in_flight_at_scale_down": drained.in_flight, "drained": drained.clean,
                     "drain_waited_s": round(drained.waited_s, 1)}  # fmt: skip
            done = f"{plan.title}: done; {drained.sentence()}."
        self.write("action.succeeded", **extra, **fields)
        return Outcome("succeeded", done)

    async def drain(self, first: Plan, drain: Drain) -> Drained:
        self.write("action.step", step="traffic shifted", changes=first.as_json()["changes"],
                   mitigation=self.plan.mitigation)  # fmt: skip
        if self.in_flight is None:
            raise ActionError("This plan drains traffic but nothing reads the in-flight gauge.")
        drained = await wait_drained(self.in_flight, drain, self.clock, self.sleep)
        self.write("action.step", step="drained" if drained.clean else "drain timed out",
                   in_flight=drained.in_flight, waited_s=round(drained.waited_s, 1),
                   mitigation=self.plan.mitigation)  # fmt: skip
        return drained

    def write(self, kind: str, **fields: object) -> None:
        _write(self.timeline, kind, self.clock, **fields)


def _write(timeline: Timeline | None, kind: str, clock: Clock, **fields: object) -> None:
    if timeline is not None:
        timeline.append(kind, utc(clock.now()), **fields)
