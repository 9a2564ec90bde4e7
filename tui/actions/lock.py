"""One mitigation at a time per namespace, across every warroom in the war room: a Lease.

Two operators pressing the same key a second apart must not fire it twice. Before an
action warroom creates the Lease ``warroom-action-lock`` in the mitigations namespace,
holding it with its actor and the mitigation; it deletes it afterwards. If the Lease
exists, someone else holds it: the action is refused with who, what and since when —
unless the holder's lease has expired (a warroom killed mid-action), in which case it is
taken over with a JSON Patch guarded by the holder it read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tui.actions.kube import JSON_PATCH, ActionError, Mitigator
from tui.clock import Clock, WallClock
from tui.kubeclient import parse_time

LEASE_NAME = "warroom-action-lock"
LEASE_SECONDS = 300
"""Longer than any action (the drain timeout included); a crashed holder frees it then."""


class Locked(ActionError):
    """Someone else is carrying out a mitigation in this namespace."""


@dataclass(frozen=True, slots=True)
class Holder:
    who: str
    what: str
    since: datetime


def _micro_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ActionLock:
    def __init__(self, mitigator: Mitigator, *, clock: Clock | None = None) -> None:
        self._m = mitigator
        from kubernetes import client  # only once a cluster is there (tui/actions/kube.py)

        self._coord = client.CoordinationV1Api(mitigator.api)
        self._clock = clock or WallClock()
        self.namespace = mitigator.settings.namespace

    @asynccontextmanager
    async def held(self, actor: str, mitigation: str) -> AsyncIterator[None]:
        """Hold the lock around an action; raises `Locked` naming the holder."""
        await self._acquire(actor, mitigation)
        try:
            yield
        finally:
            await self._release(actor)

    async def _acquire(self, actor: str, mitigation: str) -> None:
        now = datetime.fromtimestamp(self._clock.now(), UTC)
        lease = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": LEASE_NAME, "namespace": self.namespace,
                         "annotations": {"warroom.io/mitigation": mitigation}},
            "spec": {"holderIdentity": actor, "leaseDurationSeconds": LEASE_SECONDS,
                     "acquireTime": _micro_time(now), "renewTime": _micro_time(now)},
        }  # fmt: skip
        try:
            await self._m.request(
                "taking the action lock", self._coord.create_namespaced_lease, self.namespace,
                lease,
            )  # fmt: skip
            return
        except ActionError as exc:
            if exc.status != 409:
                raise
        current = await self._read()
        spec = current.get("spec") or {}
        renewed = parse_time(spec.get("renewTime")) or now
        duration = float(spec.get("leaseDurationSeconds") or LEASE_SECONDS)
        holder = Holder(
            who=str(spec.get("holderIdentity") or "someone"),
            what=str((current.get("metadata") or {}).get("annotations", {})
                     .get("warroom.io/mitigation", "a mitigation")),
            since=parse_time(spec.get("acquireTime")) or renewed,
        )  # fmt: skip
        if (now - renewed).total_seconds() < duration:
            raise Locked(
                f"{holder.who} is carrying out {holder.what} in namespace {self.namespace} "
                f"(since {holder.since:%H:%M:%S}Z); wait for it to finish."
            )
        # The holder's lease ran out (a warroom killed mid-action): take it over, guarded
        # by the holder read, so two takers cannot both win.
        annotations = lease["metadata"]["annotations"]
        patch = [
            {"op": "test", "path": "/spec/holderIdentity", "value": spec.get("holderIdentity")},
            {"op": "replace", "path": "/spec", "value": lease["spec"]},
            {"op": "add", "path": "/metadata/annotations", "value": annotations},
        ]
        await self._m.request(
            "taking over an expired action lock", self._coord.patch_namespaced_lease,
            LEASE_NAME, self.namespace, patch, _content_type=JSON_PATCH,
        )  # fmt: skip

    async def _release(self, actor: str) -> None:
        current = await self._read()
        if (current.get("spec") or {}).get("holderIdentity") != actor:
            return  # taken over after ours expired: not ours to delete
        await self._m.request(
            "releasing the action lock", self._coord.delete_namespaced_lease, LEASE_NAME,
            self.namespace,
        )  # fmt: skip

    async def _read(self) -> dict[str, Any]:
        return await self._m.request(
            "reading the action lock", self._coord.read_namespaced_lease, LEASE_NAME,
            self.namespace,
        )  # fmt: skip
