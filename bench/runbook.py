"""What walking a runbook costs on a big fleet: 200 models, 1024 GPUs (gpu-oom, 10 min in).

Figures, each the median (and 95th percentile) over ``--runs``:

- every signal: all of `tui.domain.signals` read for the sick model (what a check's live values
  and every question's evidence draw on);
- one question's evidence: the first question of the 5xx tree, as the navigator's card
  re-reads it after each refresh;
- the whole walk: `auto_walk` from the 5xx tree's start through the link to the GPU OOM
  leaf, as ``warroom triage`` does;
- loading the shipped runbooks: reading, validating and cross-checking all of them.

The navigator sends no PromQL of its own: it reads the snapshot the refresh already
holds. Run from the repository root:

    .venv/bin/python bench/runbook.py [--runs 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from tui.cli.wiring import build_pod_evidence  # noqa: E402
from tui.clock import FrozenClock  # noqa: E402
from tui.config import Config  # noqa: E402
from tui.domain.assessed import Assessed  # noqa: E402
from tui.domain.runbook import Question  # noqa: E402
from tui.domain.signals import SIGNALS, Facts, read  # noqa: E402
from tui.domain.triage import Walk, auto_walk, reading  # noqa: E402
from tui.refresh.collect import Collector  # noqa: E402
from tui.sim.source import DemoSource  # noqa: E402
from tui.store.runbook_files import load_runbooks  # noqa: E402

EPOCH = 1_795_000_000.0
AT_S = 600.0


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


async def facts_for_fleet() -> Facts:
    config = Config()
    demo = DemoSource("gpu-oom", models=200, gpus=1024, clock=FrozenClock(EPOCH + AT_S),
                      epoch=EPOCH, window_s=config.window_s, history_s=0.0,
                      evidence_s=config.history_s)  # fmt: skip
    pods, _ = build_pod_evidence(config, demo)
    collector = Collector(demo, config, clock=demo.clock, pods=pods)
    snap = await collector.collect()
    evidence = await collector.pod_evidence(snap)
    assert evidence is not None
    events = (*snap.events, *evidence.events)
    assessed = Assessed.build(snap, config.slo, events=events, within_s=config.history_s)
    assert assessed.symptom is not None
    return assessed.facts(assessed.symptom.model)


def fresh(facts: Facts) -> Facts:
    """Facts cache the model's GPUs and events; a fresh copy per run, as each refresh
    makes (the verdicts are the refresh's, made once)."""
    return Facts(facts.snapshot, facts.slo, facts.model, facts.events, facts.within_s,
                 verdicts=facts.verdicts)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    runs = parser.parse_args().runs
    facts = asyncio.run(facts_for_fleet())
    books = load_runbooks()
    first = books.books["errors-5xx"].step(books.books["errors-5xx"].start)
    assert isinstance(first, Question)

    def walk() -> Walk:
        w = Walk(books, books.books["errors-5xx"])
        auto_walk(w, fresh(facts))
        return w

    end = walk()
    print(f"fleet: {len(facts.snapshot.models)} models, {len(facts.snapshot.gpus)} GPUs, "
          f"{len(facts.events)} events; walk ends at {end.runbook.id}/{end.here.id} "
          f"after {len(end.path)} steps")  # fmt: skip
    rows = {
        "every signal": lambda: read(SIGNALS, fresh(facts)),
        "one question's evidence": lambda: reading(first, fresh(facts)),
        "the whole walk (auto_walk)": walk,
        "loading the shipped runbooks": load_runbooks,
    }
    print("| case | ms p50 | ms p95 |\n|---|---:|---:|")
    for name, fn in rows.items():
        p50, p95 = timed(fn, runs if "loading" not in name else max(10, runs // 10))
        print(f"| {name} | {p50:.2f} | {p95:.2f} |")


if __name__ == "__main__":
    main()
