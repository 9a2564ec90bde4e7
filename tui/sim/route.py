"""The demo's gateway route, for ``--demo`` with no cluster: the HTTPRoute and the
canary's Deployment kept as objects in memory, planned by the same functions the
Kubernetes route uses (`Mitigator`), patched with the same JSON Patch, and followed by
the simulated fleet as it follows a cluster's objects.

With a cluster configured (``scripts/demo-cluster.py``) the demo uses the real client
and this is not used at all.
"""

from __future__ import annotations

from typing import Any

import jsonpatch

from tui.config import MitigationSettings
from tui.domain.mitigations import MITIGATIONS
from tui.domain.plan import (
    Plan,
    Target,
    canary_percent,
    drained_rollback,
    route_weights,
    scale,
)
from tui.sim.source import DemoSource


class SimulatedRoute:
    def __init__(self, source: DemoSource, settings: MitigationSettings) -> None:
        rollout = source.engine.rollout
        if rollout is None:
            raise ValueError(f"The {source.scenario.name} scenario has no gateway canary.")
        self.source = source
        self.settings = settings
        self.host = "simulated"
        s = settings
        backends = [{"name": s.stable_backend, "weight": 100},
                    {"name": s.canary_backend, "weight": 0}]  # fmt: skip
        route = {
            "kind": "HTTPRoute",
            "metadata": {"name": s.canary_route, "namespace": s.namespace},
            "spec": {"rules": [{"backendRefs": []}] * s.canary_route_rule
                     + [{"backendRefs": backends}]},
        }  # fmt: skip
        canary = {
            "kind": "Deployment",
            "metadata": {"name": s.canary_deployment, "namespace": s.namespace},
            "spec": {"replicas": rollout.replicas},
        }
        self._objects: dict[Target, dict[str, Any]] = {
            Target("HTTPRoute", s.namespace, s.canary_route): route,
            Target("Deployment", s.namespace, s.canary_deployment): canary,
        }

    @property
    def place(self) -> str:
        return f"the simulated fleet · namespace {self.settings.namespace}"

    def _get(self, kind: str, name: str) -> dict[str, Any]:
        return self._objects[Target(kind, self.settings.namespace, name)]

    async def canary_weight(self) -> int:
        s = self.settings
        route = self._get("HTTPRoute", s.canary_route)
        return canary_percent(route, s.stable_backend, s.canary_backend, rule=s.canary_route_rule)

    async def plan_weight(self, canary_pct: int) -> Plan:
        s = self.settings
        edit = route_weights(self._get("HTTPRoute", s.canary_route), s.stable_backend,
                             s.canary_backend, canary_pct, rule=s.canary_route_rule)  # fmt: skip
        return Plan("canary-weight", f"Send {canary_pct} % of traffic to the canary", (edit,))

    async def drained_rollback(self) -> Plan:
        s = self.settings
        shift = await self.plan_weight(0)
        down = scale(self._get("Deployment", s.canary_deployment), 0)
        return drained_rollback(shift.edits, down, title=MITIGATIONS["drained-rollback"].title,
                                timeout_s=s.drain_timeout_s, poll_s=s.drain_poll_s)  # fmt: skip

    async def dry_run(self, plan: Plan) -> None:
        pass  # the simulated route admits every change

    async def apply(self, plan: Plan) -> None:
        for edit in plan.pending:
            patched = jsonpatch.apply_patch(self._objects[edit.target], list(edit.patch))
            self._objects[edit.target] = patched
            self.source.follow(patched, self.settings)


class SimulatedWarmup:
    """The demo canary's smoke check (it always answers) and warm-up traffic."""

    def __init__(self, source: DemoSource) -> None:
        self.source = source

    async def smoke(self) -> str | None:
        return None

    async def warm(self) -> None:
        self.source.warm_canary()
