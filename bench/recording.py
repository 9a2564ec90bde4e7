"""What recording an incident costs: bytes on disk and time per snapshot, and how long a
replay takes to load, for 30 simulated minutes of gpu-oom refreshed every 5 s, at 12
models (48 GPUs) and at 200 models (1024 GPUs). Run from the repository root:

    .venv/bin/python bench/recording.py [--minutes 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from tui.clock import FrozenClock  # noqa: E402
from tui.sim.source import DemoSource  # noqa: E402
from tui.store.recording import Recorder, read_recording  # noqa: E402

EPOCH = 1_795_000_000.0
REFRESH_S = 5.0


def run(models: int, gpus: int | None, minutes: float, out: Path) -> str:
    clock = FrozenClock(EPOCH)
    demo = DemoSource("gpu-oom", models=models, gpus=gpus, clock=clock, epoch=EPOCH,
                      history_s=0.0)  # fmt: skip
    recorder = Recorder(out, source=demo.description)
    written_ms: list[float] = []
    skipped_us: list[float] = []
    for _ in range(int(minutes * 60 / REFRESH_S)):
        snap = demo.refresh_now()
        t0 = time.perf_counter()
        wrote = recorder.record(snap)
        dt = time.perf_counter() - t0
        (written_ms.append(dt * 1e3) if wrote else skipped_us.append(dt * 1e6))
        clock.at += REFRESH_S
    t0 = time.perf_counter()
    recording = read_recording(out)
    load_s = time.perf_counter() - t0
    size = out.stat().st_size
    return (
        f"| {models} models, {len(demo.fleet.gpus)} GPUs | {size / 1e6:.2f} MB "
        f"| {recorder.written} | {size / max(1, recorder.written) / 1e3:.1f} kB "
        f"| {statistics.median(written_ms):.2f} ms | {statistics.median(skipped_us):.1f} µs "
        f"| {load_s:.2f} s ({len(recording.snapshots)} snapshots) |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=30.0)
    args = parser.parse_args()
    print("| fleet | file | snapshots | per snapshot | write p50 | skip p50 | replay load |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for models, gpus in ((12, None), (200, 1024)):
            print(run(models, gpus, args.minutes, Path(tmp) / f"{models}.recording.jsonl.gz"))


if __name__ == "__main__":
    main()
