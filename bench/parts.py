"""What each part of the health query costs Prometheus, sent alone, at fleet size.

The panes' figures come from one query whose parts Prometheus evaluates one after
another (`tui.sources.promql`): this times each part on its own against `warroom
simulate` scraped by a real Prometheus, so the costly ones (a histogram's bucket rates,
about 25 ms per evaluation at 200 models) can be told from the cheap ones.

    .venv/bin/python bench/parts.py [--models 200] [--gpus 1024] [--stack generic,vllm]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from _rig import simulated_fleet  # also puts the repository on sys.path

from tui.config import MetricProfile
from tui.sources.queries import build_queries
from tui.sources.stacks import build

WINDOW = "30s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--gpus", type=int, default=1024)
    parser.add_argument("--stack", default="generic,vllm", help="the adapters read")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    profile = MetricProfile()
    parts = build_queries(profile, WINDOW, build(args.stack.split(","), profile)).health
    workdir = Path(tempfile.mkdtemp())
    with simulated_fleet(workdir, args.models, args.gpus, window=WINDOW) as fleet:
        client = httpx.Client(base_url=fleet.url, timeout=60)
        rows = []
        for name, expr in parts.items():
            took = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                answer = client.post("/api/v1/query", data={"query": expr})
                answer.raise_for_status()
                took.append(time.perf_counter() - start)
            series = len(answer.json()["data"]["result"])
            rows.append((statistics.median(took) * 1000, name, series))
    print(f"{'ms':>8} {'series':>7}  part ({args.models} models, {args.stack})")
    for ms, name, series in sorted(rows, reverse=True):
        print(f"{ms:8.1f} {series:7d}  {name}")
    print(f"{sum(ms for ms, _, _ in rows):8.1f}          all parts, one after another")


if __name__ == "__main__":
    main()
