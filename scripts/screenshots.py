"""Regenerate the README's screenshots (SVG) into screenshots/ from the simulated fleet.

Each one is the demo frozen twenty minutes into its scenario, as `warroom --demo` opens
(`tests/demo_app.py`, the same app the snapshot tests render), so the files change only
when the screen does.

    .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
# As pytest does (tests/ has no __init__.py): a `tests` package installed by some other
# distribution could otherwise shadow this one.
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from demo_app import SteppedDrive, frozen_demo_app, settle  # noqa: E402

from tui.config import load_config  # noqa: E402
from tui.domain.drive_state import END_PHASES  # noqa: E402

OUT = ROOT / "screenshots"
AT_S = 1200.0
"""`warroom --demo`'s default start: the onset (3m) and the climb are inside the plot."""


class Shot(NamedTuple):
    scenario: str
    width: int
    height: int
    keys: tuple[str, ...] = ()
    """Pressed before the picture is taken."""
    models: int = 12
    gpus: int | None = None
    name: str = ""
    """File name without ``.svg``; default ``<scenario>-<width>x<height>``."""
    drive_until_s: float | None = None
    """A canary scenario: run its drive this many seconds (inf: to its end) first; 550 s
    is 90 s of warm-up, 300 s at 5 % and 160 s into 25 %."""
    display: tuple[tuple[str, object], ...] = ()
    """``[display]`` settings, e.g. ``(("wall", True),)``, also shown as flags in the title."""


SHOTS: tuple[Shot, ...] = (
    Shot("gpu-oom", 200, 50),
    Shot("gpu-oom", 80, 24),
    Shot("gpu-oom", 200, 50, models=200, gpus=1024, name="gpu-oom-1024-gpus-200x50"),
    Shot("gpu-oom", 80, 24, keys=("g",), name="gpu-grid-80x24"),
    Shot("healthy", 120, 40),
    Shot("key-429", 120, 40),
    Shot("saturation", 120, 40),
    Shot("saturation", 120, 40, keys=("t",), name="runbook-saturation-120x40"),
    Shot("gpu-oom", 80, 24, keys=("t", "enter", "enter"), name="runbook-gpu-oom-80x24"),
    Shot(
        "gpu-oom",
        200,
        50,
        keys=("t", "enter", "enter", "enter", "enter"),
        name="runbook-gpu-oom-200x50",
    ),
    Shot("bad-canary-p99", 120, 40, drive_until_s=float("inf"), name="canary-rolled-back-120x40"),
    Shot("good-canary", 200, 50, drive_until_s=550.0, name="canary-ramping-200x50"),
    Shot(
        "gpu-oom",
        240,
        60,
        models=60,
        gpus=256,
        name="wall-gpu-oom-240x60",
        display=(("wall", True),),
    ),
    Shot("gpu-oom", 120, 40, name="light-gpu-oom-120x40", display=(("theme", "light"),)),
    Shot("gpu-oom", 80, 24, name="ascii-gpu-oom-80x24", display=(("ascii", True),)),
)


async def shoot(shot: Shot) -> Path:
    drive = SteppedDrive(hold_at_s=shot.drive_until_s) if shot.drive_until_s else None
    config = load_config(None, env={}, flags={("display", k): v for k, v in shot.display})
    app = frozen_demo_app(
        shot.scenario, at_s=AT_S, models=shot.models, gpus=shot.gpus, drive=drive, config=config
    )
    async with app.run_test(size=(shot.width, shot.height)) as pilot:
        if drive is not None:
            await drove(pilot, drive)
            # A held drive's worker never completes: settle would wait for it forever.
            for _ in range(5):
                await pilot.pause(0.05)
        else:
            await settle(pilot)
        for key in shot.keys:
            await pilot.press(key)
            await settle(pilot)
        title = f"warroom --demo --scenario {shot.scenario}"
        if shot.gpus:
            title += f" --models {shot.models} --gpus {shot.gpus}"
        for key, value in shot.display:
            title += f" --{key}" if value is True else f" --{key} {value}"
        svg = app.export_screenshot(title=title)
    path = OUT / f"{shot.name or f'{shot.scenario}-{shot.width}x{shot.height}'}.svg"
    path.write_text(svg, encoding="utf-8")
    return path


async def drove(pilot: object, drive: SteppedDrive) -> None:
    """Until the drive ends or waits at its stopping point."""
    for _ in range(2000):
        d, clock = drive.driver, drive.clock
        ready = d is not None and clock is not None
        if ready and (d.state.phase in END_PHASES or clock.at + d.poll_s > drive.until):
            return
        await asyncio.sleep(0.01)
    raise RuntimeError("the canary drive did not get there")


async def main() -> None:
    OUT.mkdir(exist_ok=True)
    for shot in SHOTS:
        path = await shoot(shot)
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    asyncio.run(main())
