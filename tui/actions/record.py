"""Carrying out a confirmed plan, with the incident timeline written around it.

Order, so a crash at any point leaves the truth on disk: the action lock (`ActionLock`)
is taken; ``action.requested`` is written (fsynced) before the first change; then the
dry run, the real patches, and ``action.succeeded`` or ``action.failed`` with the API's
sentence; then the lock is released. A plan with nothing to change writes
``action.noop`` and sends nothing; a lock held by someone else, ``action.refused``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tui.actions.kube import ActionError, Conflict, Mitigator
from tui.actions.lock import ActionLock, Locked
from tui.actions.plan import Plan
from tui.clock import Clock, utc
from tui.timeline import Timeline

Result = Literal["noop", "succeeded", "failed", "conflict", "locked"]


@dataclass(frozen=True, slots=True)
class Outcome:
    result: Result
    message: str
    """One sentence for the screen."""


async def carry_out(
    mitigator: Mitigator,
    plan: Plan,
    timeline: Timeline | None,
    *,
    clock: Clock,
    actor: str,
    model: str | None = None,
    lock: ActionLock | None = None,
) -> Outcome:
    """Run ``plan`` (already confirmed) and record it. ``timeline`` None: not recorded
    (tests of the calls alone); an unwritable timeline stops the action before any call,
    since an unrecorded change is exactly what must not happen."""
    fields = {"actor": actor, "model": model, "context": mitigator.host, **plan.as_json()}
    if plan.noop:
        message = f"{plan.title}: already in place, nothing to change."
        _write(timeline, "action.noop", clock, **fields)
        return Outcome("noop", message)
    try:
        if lock is None:
            return await _run(mitigator, plan, timeline, clock, fields)
        async with lock.held(actor, plan.mitigation):
            return await _run(mitigator, plan, timeline, clock, fields)
    except Locked as exc:
        _write(timeline, "action.refused", clock, error=str(exc), **fields)
        return Outcome("locked", str(exc))
    except ActionError as exc:
        # The lock itself could not be taken or released.
        _write(timeline, "action.failed", clock, error=str(exc), **fields)
        return Outcome("failed", str(exc))


async def _run(
    mitigator: Mitigator,
    plan: Plan,
    timeline: Timeline | None,
    clock: Clock,
    fields: dict[str, object],
) -> Outcome:
    _write(timeline, "action.requested", clock, **fields)
    try:
        await mitigator.dry_run(plan)
        await mitigator.apply(plan)
    except Conflict as exc:
        _write(timeline, "action.failed", clock, error=str(exc), conflict=True, **fields)
        return Outcome("conflict", str(exc))
    except ActionError as exc:
        _write(timeline, "action.failed", clock, error=str(exc), **fields)
        return Outcome("failed", str(exc))
    _write(timeline, "action.succeeded", clock, **fields)
    return Outcome("succeeded", f"{plan.title}: done ({'; '.join(plan.lines())}).")


def _write(timeline: Timeline | None, kind: str, clock: Clock, **fields: object) -> None:
    if timeline is not None:
        timeline.append(kind, utc(clock.now()), **fields)
