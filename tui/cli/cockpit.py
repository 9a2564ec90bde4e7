"""`warroom` with no subcommand: the cockpit, live or on the demo."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from tui.config import Config

if TYPE_CHECKING:
    from tui.actions.canary import CanaryDriver
    from tui.actions.kube import Mitigator
    from tui.app import WarroomApp
    from tui.sim.source import DemoSource
    from tui.store.timeline import Timeline

from tui.cli.wiring import (
    build_collector,
    canary_parts,
    load,
    open_timeline,
    sleep_for,
    timeline_for,
)


def demo_drive(
    config: Config, demo: DemoSource, timeline: Timeline | None, mitigator: Mitigator | None
) -> CanaryDriver:
    """The drive a demo canary scenario plays in the cockpit: the deploy that scenario is
    about, run as the pipeline would (`warroom canary drive`), keys and view included."""
    from tui.actions.canary import CanaryDriver
    from tui.domain.canary import policy_of

    route, warmup = canary_parts(config, demo, mitigator, None)
    policy = policy_of(config.canary, config.mitigations.drain_timeout_s)
    driver = CanaryDriver(
        policy, route, demo, clock=demo.clock, sleep=sleep_for(demo.clock), warmup=warmup,
        timeline=timeline, actor="warroom canary drive (demo)", poll_s=config.canary.poll_s,
        log=lambda _: None,  # the view shows the last line; the timeline keeps what matters
    )  # fmt: skip
    return driver


def build_cockpit(args: argparse.Namespace) -> WarroomApp:
    """The cockpit `warroom` runs, not yet running."""
    config = load(args)
    collector = build_collector(args, config)
    from tui.app import WarroomApp
    from tui.cli.wiring import build_mitigator
    from tui.sim.source import DemoSource

    source = collector.source
    demo = source if isinstance(source, DemoSource) else None
    context = "simulated" if demo is not None else config.context
    mitigator, why_not = build_mitigator(config, demo)
    if config.kiosk:
        # A kiosk writes nothing: it reads the open incident, starts none, records nothing.
        read = open_timeline(config, demo)
        driver = None
        if demo is not None and demo.scenario.canary is not None and mitigator is None:
            # The demo's drive is the scenario's story: it moves the simulated fleet in
            # this process alone, so the wall plays it, with no timeline to write to.
            # Over a cluster (scripts/demo-cluster.py) a kiosk moves no route: its canary
            # screen watches whoever drives it, as over a real fleet.
            driver = demo_drive(config, demo, None, None)
        return WarroomApp(
            collector, config, context=context, report_timeline=read,
            mitigator=mitigator, mitigations_note=why_not, canary=driver,
        )  # fmt: skip
    timeline = timeline_for(config, demo)
    driver = None
    if demo is not None and demo.scenario.canary is not None:
        driver = demo_drive(config, demo, timeline, mitigator)
    from tui.store.recording import Recorder, recording_path

    recorder = Recorder(recording_path(timeline.path), source=source.description)
    return WarroomApp(
        collector,
        config,
        context=context,
        timeline=timeline,
        mitigator=mitigator,
        mitigations_note=why_not,
        canary=driver,
        recorder=recorder,
    )


def command(args: argparse.Namespace) -> int:
    app = build_cockpit(args)
    app.run()
    # A kiosk wrote neither (it holds no timeline nor recorder): nothing to point at.
    if app.timeline is not None:
        print(f"warroom: incident timeline at {app.timeline.path}", file=sys.stderr)
        if app.recorder is not None and app.recorder.written:
            print(f"warroom: replay with `warroom replay {app.recorder.path}`", file=sys.stderr)
    return app.return_code or 0
