"""`warroom replay`: a recorded incident played back in the cockpit."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from tui.config import load_config

if TYPE_CHECKING:
    from tui.app import WarroomApp
    from tui.store.recording import Recording
    from tui.store.timeline import Timeline


def build_replay(
    args: argparse.Namespace, *, monotonic: Callable[[], float] = time.monotonic
) -> tuple[WarroomApp, Recording, Timeline | None]:
    """The cockpit `warroom replay` runs over a recording, not yet running, with the
    recording and the incident's timeline beside it (read, never written).

    The GPUs, their events and the pod evidence are the recorded ones: the collector has
    no NVML reader (this host's GPUs are not the incident's), and ``gpu_source`` is
    ``auto`` whatever the config says, since ``none`` would drop the recorded grid."""
    from tui.app import WarroomApp
    from tui.refresh.collect import Collector
    from tui.sources.replay import ReplayClock, ReplaySource
    from tui.store.recording import read_recording
    from tui.store.timeline import Timeline

    config = load_config(args.config, flags={("gpu_source",): "auto"})
    recording = read_recording(args.recording)
    clock = ReplayClock.over(recording, speed=args.speed, monotonic=monotonic)
    collector = Collector(ReplaySource(recording, clock), config, clock=clock)
    name = args.recording.name.removesuffix(".recording.jsonl.gz")
    beside = args.recording.with_name(f"{name}.jsonl")
    timeline = Timeline(beside) if beside.is_file() else None
    app = WarroomApp(
        collector, config, context="replay", replay=clock, report_timeline=timeline,
    )  # fmt: skip
    return app, recording, timeline


def command(args: argparse.Namespace) -> int:
    """The cockpit over a recording: space pauses, [ and ] seek a minute, { and } ten;
    `e` remakes the report from it and its incident's timeline (read, never written)."""
    app, recording, timeline = build_replay(args)
    app.run()
    # Said on screen too; here each sentence outlasts the screen.
    for note in (recording.damage, timeline.damage_note() if timeline else None):
        if note:
            print(f"warroom: {note}", file=sys.stderr)
    return app.return_code or 0
