"""The drained rollback of a gateway canary, through the official client against kmock's
emulator, with the simulated fleet following the cluster (route weights move its traffic,
the canary's replicas start or stop its pods): traffic first, a wait on the in-flight
gauge, then the scale-down — and the simulator counts any request cut mid-flight.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from kube_emulator import DEPLOYMENTS, ROUTES, SSAR, answer_access_reviews, seed_canary, status
from kubernetes.client import ApiClient

from tui.actions.execute import carry_out
from tui.actions.kube import ActionError, Mitigator
from tui.clock import FrozenClock
from tui.config import MitigationSettings
from tui.domain.plan import canary_percent
from tui.sim.source import DemoSource
from tui.store.timeline import Timeline

NS = "inference"
EPOCH = 1_795_000_000.0


class Fleet:
    """The simulated fleet in a canary scenario, on a clock only the test moves."""

    def __init__(self, kmock: Any, settings: MitigationSettings, canary_pct: int) -> None:
        self.clock = FrozenClock(EPOCH + 600)
        self.source = DemoSource("bad-canary-p99", clock=self.clock, epoch=EPOCH)
        seed_canary(kmock, NS, canary_pct)
        self.source.set_canary_weight(canary_pct)
        self.clock.at += 300  # five minutes at that weight: a steady in-flight count
        kmock.follow(lambda resource, obj: self.source.follow(obj, settings))

    async def sleep(self, seconds: float) -> None:
        self.clock.at += seconds

    async def in_flight(self) -> int | None:
        return self.source.canary_in_flight_now()

    @property
    def severed(self) -> int:
        rollout = self.source.engine.rollout
        assert rollout is not None
        return rollout.severed


def route_of(kmock: Any) -> dict[str, Any]:
    return json.loads(json.dumps(kmock.objects[ROUTES, NS, "llm-gateway"].raw))


def canary_replicas(kmock: Any) -> int:
    return kmock.objects[DEPLOYMENTS, NS, "llm-gateway-canary"].raw["spec"]["replicas"]


def patches(kmock: Any) -> list[tuple[str, bool]]:
    """(resource plural, dry run?) of every PATCH, in the order the server got them."""
    return [(r.resource.plural, r.params.get("dryRun") == "All") for r in kmock
            if r.method.value == "PATCH"]  # fmt: skip


@pytest.fixture
def settings() -> MitigationSettings:
    return MitigationSettings(drain_timeout_s=120, drain_poll_s=1)


async def test_the_plan_shows_the_weight_the_drain_and_the_scale_down(
    kmock: Any, api: ApiClient, settings: MitigationSettings
) -> None:
    Fleet(kmock, settings, canary_pct=5)
    plan = await Mitigator(api, settings).plan("drained-rollback")
    assert plan.destructive
    assert plan.lines() == [
        f"HTTPRoute {NS}/llm-gateway: rule 0 backend llm-gateway weight: 95 -> 100",
        f"HTTPRoute {NS}/llm-gateway: rule 0 backend llm-gateway-canary weight: 5 -> 0",
        "then wait up to 120 s for in-flight requests to finish",
        f"Deployment {NS}/llm-gateway-canary: replicas: 2 -> 0",
    ]


async def test_a_drained_rollback_severs_no_request(
    kmock: Any, api: ApiClient, settings: MitigationSettings, tmp_path: Path
) -> None:
    fleet = Fleet(kmock, settings, canary_pct=5)
    assert (await fleet.in_flight() or 0) > 0, "the canary must be busy for this to mean much"
    timeline = Timeline(tmp_path / "incident.jsonl")
    mitigator = Mitigator(api, settings, clock=fleet.clock)
    plan = await mitigator.plan("drained-rollback")

    outcome = await carry_out(mitigator, plan, timeline, clock=fleet.clock, actor="sre",
                              in_flight=fleet.in_flight, sleep=fleet.sleep)  # fmt: skip

    assert outcome.result == "succeeded", outcome.message
    assert "drained to 0" in outcome.message
    assert fleet.severed == 0
    assert canary_percent(route_of(kmock), "llm-gateway", "llm-gateway-canary") == 0
    assert canary_replicas(kmock) == 0
    # Both patches dry-run first, then traffic, and only then the scale-down.
    assert patches(kmock) == [
        ("httproutes", True), ("deployments", True), ("httproutes", False),
        ("deployments", False),
    ]  # fmt: skip
    entries = list(timeline.entries())
    assert [(e["kind"], e.get("step")) for e in entries] == [
        ("action.requested", None),
        ("action.step", "traffic shifted"),
        ("action.step", "drained"),
        ("action.succeeded", None),
    ]
    assert entries[2]["in_flight"] == 0
    assert 0 < entries[2]["waited_s"] < 120
    assert entries[3]["drained"] is True and entries[3]["in_flight_at_scale_down"] == 0


async def test_scaling_straight_to_zero_is_what_severs_requests(
    kmock: Any, api: ApiClient, settings: MitigationSettings
) -> None:
    """The control for the test above: the simulator does count cut requests."""
    fleet = Fleet(kmock, settings, canary_pct=5)
    busy = await fleet.in_flight()
    mitigator = Mitigator(api, settings, clock=fleet.clock)
    plan = await mitigator.plan_canary_scale(0)
    outcome = await carry_out(mitigator, plan, None, clock=fleet.clock, actor="sre")
    assert outcome.result == "succeeded"
    assert busy and fleet.severed == busy


async def test_a_drain_timeout_scales_down_and_says_how_many_were_in_flight(
    kmock: Any, api: ApiClient, tmp_path: Path
) -> None:
    settings = MitigationSettings(drain_timeout_s=0)
    fleet = Fleet(kmock, settings, canary_pct=25)
    timeline = Timeline(tmp_path / "incident.jsonl")
    mitigator = Mitigator(api, settings, clock=fleet.clock)
    plan = await mitigator.plan("drained-rollback")
    outcome = await carry_out(mitigator, plan, timeline, clock=fleet.clock, actor="sre",
                              in_flight=fleet.in_flight, sleep=fleet.sleep)  # fmt: skip

    assert outcome.result == "succeeded"
    cut = fleet.severed
    assert cut > 0
    assert f"drain timed out after 0 s with {cut} requests still in flight" in outcome.message
    entries = list(timeline.entries())
    assert entries[2]["step"] == "drain timed out" and entries[2]["in_flight"] == cut
    assert entries[3]["drained"] is False and entries[3]["in_flight_at_scale_down"] == cut
    assert canary_replicas(kmock) == 0


async def test_an_unreadable_gauge_waits_out_the_timeout_then_says_so(
    kmock: Any, api: ApiClient, tmp_path: Path
) -> None:
    settings = MitigationSettings(drain_timeout_s=30, drain_poll_s=5)
    fleet = Fleet(kmock, settings, canary_pct=5)

    async def broken() -> int | None:
        raise OSError("Prometheus is down")

    mitigator = Mitigator(api, settings, clock=fleet.clock)
    plan = await mitigator.plan("drained-rollback")
    started = fleet.clock.now()
    outcome = await carry_out(mitigator, plan, None, clock=fleet.clock, actor="sre",
                              in_flight=broken, sleep=fleet.sleep)  # fmt: skip
    assert outcome.result == "succeeded"
    assert fleet.clock.now() - started == 30
    assert "could not be read for 30 s" in outcome.message
    assert canary_replicas(kmock) == 0


async def test_a_refused_scale_down_leaves_traffic_where_it_was(
    kmock: Any, api: ApiClient, settings: MitigationSettings, tmp_path: Path
) -> None:
    """The dry run of every patch comes first: a scale-down RBAC forbids stops the
    rollback before traffic moves, rather than half-way through it."""
    fleet = Fleet(kmock, settings, canary_pct=5)
    message = 'deployments "llm-gateway-canary" is forbidden'
    kmock["patch", DEPLOYMENTS].override << 403 << status(403, "Forbidden", message)
    timeline = Timeline(tmp_path / "incident.jsonl")
    mitigator = Mitigator(api, settings, clock=fleet.clock)
    plan = await mitigator.plan("drained-rollback")
    outcome = await carry_out(mitigator, plan, timeline, clock=fleet.clock, actor="sre",
                              in_flight=fleet.in_flight, sleep=fleet.sleep)  # fmt: skip
    assert outcome.result == "failed"
    assert "403" in outcome.message
    assert canary_percent(route_of(kmock), "llm-gateway", "llm-gateway-canary") == 5
    assert canary_replicas(kmock) == 2
    assert [e["kind"] for e in timeline.entries()] == ["action.requested", "action.failed"]


async def test_a_route_without_the_canary_backend_is_named(
    kmock: Any, api: ApiClient, settings: MitigationSettings
) -> None:
    Fleet(kmock, settings, canary_pct=5)
    other = MitigationSettings(canary_backend="gateway-next")
    with pytest.raises(ActionError, match="has no backend gateway-next"):
        await Mitigator(api, other).plan("drained-rollback")


async def test_rbac_on_httproutes_disables_the_drained_rollback(
    kmock: Any, api: ApiClient, settings: MitigationSettings
) -> None:
    answer_access_reviews(kmock, {("patch", "httproutes")})
    allowed = await Mitigator(api, settings).permissions(("drained-rollback", "scale-up"))
    assert allowed["scale-up"] is None
    assert (
        allowed["drained-rollback"]
        == "RBAC does not allow patch on httproutes in inference (no rule)."
    )
    assert any(r.resource == SSAR for r in kmock)
