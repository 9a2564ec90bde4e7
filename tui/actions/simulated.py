"""The demo's gateway route, for ``--demo`` with no cluster: the same plans the
Kubernetes route makes (`Mitigator`), carried out on the simulated fleet instead.

With a cluster configured (``scripts/demo-cluster.py``) the demo uses the real client
and this is not used at all.
"""

from __future__ import annotations

from tui.actions.plan import Change, Edit, Plan, Target, drained_rollback
from tui.config import MitigationSettings
from tui.mitigations import MITIGATIONS
from tui.sources.demo import DemoSource


class SimulatedRoute:
    def __init__(self, source: DemoSource, settings: MitigationSettings) -> None:
        if source.engine.rollout is None:
            raise ValueError(f"The {source.scenario.name} scenario has no gateway canary.")
        self.source = source
        self.settings = settings
        self.host = "simulated"
        self._pct = 0

    @property
    def place(self) -> str:
        return f"the simulated fleet · namespace {self.settings.namespace}"

    def _route(self) -> Target:
        s = self.settings
        return Target("HTTPRoute", s.namespace, s.canary_route)

    async def canary_weight(self) -> int:
        return self._pct

    async def plan_weight(self, canary_pct: int) -> Plan:
        s = self.settings
        if canary_pct == self._pct:
            edit = Edit(self._route(), (), ())
        else:
            changes = (
                Change(f"rule {s.canary_route_rule} backend {s.stable_backend} weight",
                       str(100 - self._pct), str(100 - canary_pct)),
                Change(f"rule {s.canary_route_rule} backend {s.canary_backend} weight",
                       str(self._pct), str(canary_pct)),
            )  # fmt: skip
            edit = Edit(self._route(), changes, ({"weight": canary_pct},))
        return Plan("canary-weight", f"Send {canary_pct} % of traffic to the canary", (edit,))

    async def drained_rollback(self) -> Plan:
        s = self.settings
        shift = await self.plan_weight(0)
        replicas = self.source.engine.rollout.replicas if self.source.engine.rollout else 0
        target = Target("Deployment", s.namespace, s.canary_deployment)
        down = (
            Edit(target, (Change("replicas", str(replicas), "0"),), ({"replicas": 0},))
            if replicas
            else Edit(target, (), ())
        )
        return drained_rollback(shift.edits, down, title=MITIGATIONS["drained-rollback"].title,
                                timeout_s=s.drain_timeout_s, poll_s=s.drain_poll_s)  # fmt: skip

    async def dry_run(self, plan: Plan) -> None:
        pass  # the simulated route admits every change

    async def apply(self, plan: Plan) -> None:
        for edit in plan.pending:
            for op in edit.patch:
                if "weight" in op:
                    self._pct = int(op["weight"])
                    self.source.set_canary_weight(self._pct)
                if "replicas" in op:
                    self.source.scale_canary(int(op["replicas"]))


class SimulatedWarmup:
    """The demo canary's smoke check (it always answers) and warm-up traffic."""

    def __init__(self, source: DemoSource) -> None:
        self.source = source

    async def smoke(self) -> str | None:
        return None

    async def warm(self) -> None:
        self.source.warm_canary()
