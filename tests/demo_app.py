"""A deterministic cockpit over the simulated fleet, for Pilot tests, snapshots and the
README's screenshots.

The clock is frozen at a fixed instant, so every figure, age and timestamp on screen is
the same on every run and every day; the config ignores the developer's own environment
and XDG file; timers are off (``live=False``), so the only refresh is the one on mount.

Imported as ``demo_app``: pytest puts ``tests/`` on ``sys.path`` (rootdir-relative
"prepend" import mode, no ``__init__.py``), and ``scripts/screenshots.py`` does the same.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

from tui.actions.canary import CanaryDriver
from tui.actions.kube import Mitigator
from tui.app import WarroomApp
from tui.cli.wiring import build_pod_evidence
from tui.clock import FrozenClock
from tui.config import Config, MitigationSettings, load_config
from tui.domain.canary import CanaryPolicy
from tui.refresh.collect import Collector
from tui.sim.route import SimulatedRoute, SimulatedWarmup
from tui.sim.source import DemoSource
from tui.sources.base import HealthSource
from tui.sources.nvml import NvmlGpus
from tui.store.recording import Recorder
from tui.store.timeline import Timeline

EPOCH = 1_795_000_000.0
"""A fixed instant for the scenario's start, so SVGs never change with the date."""
AT_S = 600.0
"""Ten minutes into the scenario: incidents start at 3 min and are in full swing by now."""


def frozen_demo_app(
    scenario: str,
    *,
    at_s: float = AT_S,
    wrap: Callable[[DemoSource], HealthSource] | None = None,
    models: int = 12,
    gpus: int | None = None,
    config: Config | None = None,
    timeline: Timeline | None = None,
    nvml: bool = False,
    mitigator: Mitigator | None = None,
    drive: Callable[[DemoSource, FrozenClock], CanaryDriver] | None = None,
    recorder: Recorder | None = None,
) -> WarroomApp:
    """The app over ``scenario``, frozen ``at_s`` seconds in; the terminal size is the
    caller's (``run_test(size=...)``). ``wrap`` may put a test double around the real
    simulator; ``nvml`` adds this host's NVML reader; ``timeline`` records GPU events;
    ``drive`` makes the canary drive the cockpit runs, from the simulator and the clock."""
    config = config or load_config(None, env={})
    clock = FrozenClock(EPOCH + at_s)
    demo = DemoSource(
        scenario,
        models=models,
        gpus=gpus,
        clock=clock,
        epoch=EPOCH,
        window_s=config.window_s,
        history_s=config.history_s,
    )
    source = wrap(demo) if wrap else demo
    pods, _ = build_pod_evidence(config, demo)
    collector = Collector(
        source, config, clock=clock, pods=pods, nvml=NvmlGpus(clock=clock) if nvml else None
    )
    return WarroomApp(
        collector,
        config,
        context="simulated",
        live=False,
        timeline=timeline,
        mitigator=mitigator,
        actor="sre@bastion",
        canary=drive(demo, clock) if drive else None,
        recorder=recorder,
    )


async def settle(pilot: Pilot[object]) -> None:
    """Wait for the history-load and refresh workers, then for the screen to settle.

    New rows reach the screen in steps (the table measures them on idle, then the layout
    grows it and adds its scrollbar), so one pause is not always enough for a screenshot.
    """
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()
    await pilot.pause()


class SteppedDrive:
    """A canary drive over the frozen demo: the driver's sleeps move the frozen clock, so
    a drive of minutes runs in a blink; past ``until`` (simulated seconds) they wait, so
    a test can press keys while a stage holds."""

    def __init__(
        self, timeline: Timeline | None = None, *, hold_at_s: float | None = None, **policy: Any
    ) -> None:
        self.timeline = timeline
        self.policy = CanaryPolicy(**policy)
        self.hold_at_s = hold_at_s
        """Where to stop first, in seconds after the drive starts."""
        self.until = math.inf
        self.clock: FrozenClock | None = None
        self.lines: list[str] = []
        self.driver: CanaryDriver | None = None

    def __call__(self, demo: DemoSource, clock: FrozenClock) -> CanaryDriver:
        self.clock = clock
        if self.hold_at_s is not None:
            self.until = clock.at + self.hold_at_s
        self.driver = CanaryDriver(
            self.policy, SimulatedRoute(demo, MitigationSettings()), demo, clock=clock,
            sleep=self.sleep, warmup=SimulatedWarmup(demo), timeline=self.timeline,
            actor="warroom canary drive (demo)", poll_s=15, log=self.lines.append,
        )  # fmt: skip
        return self.driver

    async def sleep(self, seconds: float) -> None:
        assert self.clock is not None
        while self.clock.at + seconds > self.until:
            await asyncio.sleep(0.01)
        self.clock.at += seconds
        await asyncio.sleep(0)
