"""The canary driver end to end: the official client against kmock's emulator (the
HTTPRoute and the canary's Deployment), the simulated fleet following every patch the
server stores, and a clock the driver's own sleeps move. Each bad canary is rolled back
at 5 % with a drain and a non-zero exit; the good one is promoted.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from kube_emulator import DEPLOYMENTS, ROUTES, seed_canary
from kubernetes.client import ApiClient

from tui.actions.canary import EXIT_CODES, CanaryDriver
from tui.actions.kube import Mitigator
from tui.actions.plan import canary_percent
from tui.actions.simulated import SimulatedRoute, SimulatedWarmup
from tui.canary import CanaryPolicy
from tui.clock import FrozenClock
from tui.config import MitigationSettings
from tui.sources.demo import DemoSource
from tui.timeline import Timeline

NS = "inference"
EPOCH = 1_795_000_000.0
POLICY = CanaryPolicy()
"""The seed's defaults: 5 25 50 100, hold 300 s, errors x1.5, p99 x1.2, warm-up 90 s,
500 requests."""


class Rig:
    def __init__(self, kmock: Any, api: ApiClient, scenario: str, tmp_path: Path) -> None:
        self.clock = FrozenClock(EPOCH + 600)
        self.kmock = kmock
        self.source = DemoSource(scenario, clock=self.clock, epoch=EPOCH)
        self.settings = MitigationSettings(drain_poll_s=1)
        seed_canary(kmock, NS, canary_pct=0)
        self.mitigator = Mitigator(api, self.settings, clock=self.clock)
        self.mitigator.on_applied = lambda obj: self.source.follow(obj, self.settings)
        self.timeline = Timeline(tmp_path / "incident.jsonl")
        self.lines: list[str] = []

    async def sleep(self, seconds: float) -> None:
        self.clock.at += seconds

    def driver(self, policy: CanaryPolicy = POLICY) -> CanaryDriver:
        return CanaryDriver(
            policy, self.mitigator, self.source, clock=self.clock, sleep=self.sleep,
            warmup=SimulatedWarmup(self.source), timeline=self.timeline, poll_s=5,
            log=self.lines.append,
        )  # fmt: skip

    @property
    def canary_pct(self) -> int:
        route = json.loads(json.dumps(self.kmock.objects[ROUTES, NS, "llm-gateway"].raw))
        return canary_percent(route, "llm-gateway", "llm-gateway-canary")

    @property
    def canary_replicas(self) -> int:
        return self.kmock.objects[DEPLOYMENTS, NS, "llm-gateway-canary"].raw["spec"]["replicas"]

    @property
    def severed(self) -> int:
        assert self.source.engine.rollout is not None
        return self.source.engine.rollout.severed

    def kinds(self) -> list[str]:
        return [e["kind"] for e in self.timeline.entries()]


def _at(entry: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(entry["at"])


@pytest.mark.parametrize(
    ("scenario", "metric"), [("bad-canary-p99", "p99"), ("bad-canary-errors", "error_rate")]
)
async def test_a_bad_canary_is_rolled_back_at_5_percent_drained(
    kmock: Any, api: ApiClient, tmp_path: Path, scenario: str, metric: str
) -> None:
    rig = Rig(kmock, api, scenario, tmp_path)
    state = await rig.driver().run()

    assert state.phase == "rolled-back"
    assert EXIT_CODES[state.phase] != 0
    assert state.stage_pct == 5
    verdict = state.history[-1][1]
    assert verdict.decision == "rollback" and verdict.metric == metric
    assert verdict.value is not None and verdict.threshold is not None
    assert verdict.value > verdict.threshold
    assert verdict.samples is not None and verdict.samples >= POLICY.min_requests
    assert rig.canary_pct == 0 and rig.canary_replicas == 0
    assert rig.severed == 0, "the rollback drained: no request was cut"
    kinds = rig.kinds()
    assert kinds.index("canary.verdict") < kinds.index("action.requested")
    assert kinds[-3:] == ["action.step", "action.succeeded", "canary.rolled-back"]
    assert any("regressed at 5 %" in line for line in rig.lines)


async def test_the_judge_waits_for_the_hold_and_the_requests_before_a_verdict(
    kmock: Any, api: ApiClient, tmp_path: Path
) -> None:
    rig = Rig(kmock, api, "bad-canary-p99", tmp_path)
    state = await rig.driver().run()
    started = next(e for e in rig.timeline.entries() if e["kind"] == "canary.stage")
    verdict = next(e for e in rig.timeline.entries() if e["kind"] == "canary.verdict")
    held = (_at(verdict) - _at(started)).total_seconds()
    assert held >= POLICY.stage_hold_s
    assert state.history[-1][1].samples >= POLICY.min_requests


async def test_a_good_canary_is_promoted_through_every_stage(
    kmock: Any, api: ApiClient, tmp_path: Path
) -> None:
    rig = Rig(kmock, api, "good-canary", tmp_path)
    state = await rig.driver().run()
    assert state.phase == "promoted", rig.lines
    assert EXIT_CODES[state.phase] == 0
    assert [v.decision for _, v in state.history] == ["advance", "advance", "advance", "promote"]
    stages = [e["stage_pct"] for e in rig.timeline.entries() if e["kind"] == "canary.stage"]
    assert stages == [5, 25, 50, 100]
    assert rig.canary_pct == 100 and rig.canary_replicas == 2


async def test_a_cold_canary_warmed_first_is_not_rolled_back(
    kmock: Any, api: ApiClient, tmp_path: Path
) -> None:
    rig = Rig(kmock, api, "cold-canary", tmp_path)
    state = await rig.driver().run()
    assert state.phase == "promoted", rig.lines


async def test_a_cold_canary_without_warm_up_trips_the_p99_gate(
    kmock: Any, api: ApiClient, tmp_path: Path
) -> None:
    """The gotcha the warm-up exists for: cold weights look like a latency regression."""
    rig = Rig(kmock, api, "cold-canary", tmp_path)
    state = await rig.driver(replace(POLICY, warmup_s=0)).run()
    assert state.phase == "rolled-back"
    assert state.history[-1][1].metric == "p99"


async def test_a_canary_serving_another_model_version_is_refused_before_any_traffic(
    kmock: Any, api: ApiClient, tmp_path: Path
) -> None:
    rig = Rig(kmock, api, "canary-model-mismatch", tmp_path)
    state = await rig.driver().run()
    assert state.phase == "refused"
    assert EXIT_CODES[state.phase] not in (0, EXIT_CODES["rolled-back"])
    assert "model version" in state.message
    assert rig.canary_pct == 0 and rig.canary_replicas == 2
    assert not [r for r in kmock if r.method.value == "PATCH"], "no traffic moved"


async def test_abort_rolls_back_drained_at_the_current_stage(
    kmock: Any, api: ApiClient, tmp_path: Path
) -> None:
    rig = Rig(kmock, api, "good-canary", tmp_path)
    driver = rig.driver()
    driver.abort("the on-call pressed abort")
    state = await driver.run()
    assert state.phase == "rolled-back"
    assert rig.canary_pct == 0 and rig.canary_replicas == 0 and rig.severed == 0


async def test_the_demo_route_drives_the_same_loop_without_a_cluster(tmp_path: Path) -> None:
    clock = FrozenClock(EPOCH + 600)
    source = DemoSource("bad-canary-p99", clock=clock, epoch=EPOCH)
    route = SimulatedRoute(source, MitigationSettings(drain_poll_s=1))

    async def sleep(seconds: float) -> None:
        clock.at += seconds

    lines: list[str] = []
    driver = CanaryDriver(POLICY, route, source, clock=clock, sleep=sleep,
                          warmup=SimulatedWarmup(source), poll_s=5, log=lines.append)  # fmt: skip
    state = await driver.run()
    assert state.phase == "rolled-back" and state.stage_pct == 5
    assert source.engine.rollout is not None
    assert source.engine.rollout.weight == 0 and source.engine.rollout.replicas == 0
    assert source.engine.rollout.severed == 0
