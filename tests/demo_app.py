"""A deterministic cockpit over the simulated fleet, for Pilot tests, snapshots and the
README's screenshots.

The clock is frozen at a fixed instant, so every figure, age and timestamp on screen is
the same on every run and every day; the config ignores the developer's own environment
and XDG file; timers are off (``live=False``), so the only refresh is the one on mount.

Imported as ``demo_app``: pytest puts ``tests/`` on ``sys.path`` (rootdir-relative
"prepend" import mode, no ``__init__.py``), and ``scripts/screenshots.py`` does the same.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from tui.actions.kube import Mitigator
from tui.app import WarroomApp
from tui.clock import FrozenClock
from tui.collect import Collector
from tui.config import Config, load_config
from tui.evidence import build_pod_evidence
from tui.sources.base import HealthSource
from tui.sources.demo import DemoSource
from tui.sources.nvml import NvmlGpus
from tui.timeline import Timeline

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
) -> WarroomApp:
    """The app over ``scenario``, frozen ``at_s`` seconds in; the terminal size is the
    caller's (``run_test(size=...)``). ``wrap`` may put a test double around the real
    simulator; ``nvml`` adds this host's NVML reader; ``timeline`` records GPU events."""
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
