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

ROOT = Path(__file__).resolve().parent.parent
# As pytest does (tests/ has no __init__.py): a `tests` package installed by some other
# distribution could otherwise shadow this one.
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from demo_app import frozen_demo_app, settle  # noqa: E402

OUT = ROOT / "screenshots"
AT_S = 1200.0
"""`warroom --demo`'s default start: the onset (3m) and the climb are inside the plot."""
SHOTS: tuple[tuple[str, int, int], ...] = (
    ("gpu-oom", 200, 50),
    ("gpu-oom", 80, 24),
    ("healthy", 120, 40),
    ("key-429", 120, 40),
    ("saturation", 120, 40),
)


async def shoot(scenario: str, width: int, height: int) -> Path:
    app = frozen_demo_app(scenario, at_s=AT_S)
    async with app.run_test(size=(width, height)) as pilot:
        await settle(pilot)
        svg = app.export_screenshot(title=f"warroom --demo --scenario {scenario}")
    path = OUT / f"{scenario}-{width}x{height}.svg"
    path.write_text(svg, encoding="utf-8")
    return path


async def main() -> None:
    OUT.mkdir(exist_ok=True)
    for scenario, width, height in SHOTS:
        path = await shoot(scenario, width, height)
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    asyncio.run(main())
