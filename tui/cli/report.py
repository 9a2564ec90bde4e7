"""`warroom report`: the incident report, written without opening the cockpit."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from tui.errors import ConfigError, WarroomError

if TYPE_CHECKING:
    from tui.store.timeline import Timeline

from tui.cli.wiring import build_collector, load, open_timeline


def command(args: argparse.Namespace) -> int:
    """Open the cockpit headless on the source (health, history, pod evidence), take the
    report it would export with `e` and its screen, and write all three."""
    from tui.app import WarroomApp
    from tui.domain.report import Overrides, Report
    from tui.sim.source import DemoSource
    from tui.store.report_files import write_report
    from tui.store.timeline import Timeline, default_state_dir

    config = load(args)
    collector = build_collector(args, config)
    if args.timeline is not None:
        if not args.timeline.is_file():
            raise ConfigError(f"There is no incident timeline at {args.timeline}.")
        timeline: Timeline | None = Timeline(args.timeline)
    elif isinstance(collector.source, DemoSource):
        timeline = None
    else:
        timeline = open_timeline(config, None)  # read, never started by a report
    overrides = Overrides(severity=args.severity, root_cause=args.root_cause,
                          summary=args.summary, lessons=args.lessons)  # fmt: skip
    # Read, never written: the headless report records nothing in the incident.
    app = WarroomApp(collector, config, context=config.context, live=False,
                     report_timeline=timeline)  # fmt: skip

    async def take() -> tuple[Report | None, str | None]:
        async with app.run_test(size=(200, 50)) as pilot:
            await app.workers.wait_for_complete()
            for _ in range(3):
                await pilot.pause()
            report = app.incident_report(overrides)
            svg = None if args.no_screenshot else app.export_screenshot(title="warroom report")
            return report, svg

    report, svg = asyncio.run(take())
    if report is None:
        raise WarroomError(app.last_error or "No data to report.")
    damage = timeline.damage_note() if timeline is not None else None
    for note in (app.history_note, app.evidence_note, damage):
        if note:
            print(f"warroom: {note}", file=sys.stderr)
    out = args.out or (config.state_dir or default_state_dir()) / "reports"
    try:
        written = write_report(report, out, svg=svg, overwrite=args.force)
    except FileExistsError as exc:
        raise ConfigError(f"{exc}; pass --force to replace it.") from None
    except OSError as exc:
        raise WarroomError(
            f"The report cannot be written to {out}: {exc.strerror or exc}."
        ) from None
    for path in written.paths:
        print(path)
    return 0
