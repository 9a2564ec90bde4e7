"""How much one refresh costs against a real Prometheus, at 10 and at 200 models.

For each fleet size: start `warroom simulate` and Debian's Prometheus scraping it every
second, wait until rates exist, then time

- a warroom refresh (`PrometheusSource.refresh`: its queries, concurrently, parsed into
  a Snapshot), counting the HTTP requests it really sends, and
- the raw PromQL: the very same query strings sent concurrently with a bare httpx
  client, bodies read but not parsed.

Two cases each: a refresh that also reads the GPUs (every `gpu_refresh_s`; here every
refresh, with ``gpu_refresh_s = 0``), and one between GPU reads (the panes' query only).
The ratio of the two timings is warroom's own overhead. Run from the repository root:

    .venv/bin/python bench/refresh.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from _rig import simulated_fleet, stop_on_sigterm  # also puts the repository on sys.path

from tui.clock import WallClock
from tui.config import load_config
from tui.sources.prometheus import PrometheusSource
from tui.sources.promql import HEALTH_QUERY

FLEETS = ((10, 40), (200, 1024))
WINDOW = "30s"


class Counting(httpx.AsyncHTTPTransport):
    """The real transport, counting requests: the figure is what went over the wire."""

    def __init__(self) -> None:
        super().__init__()
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return await super().handle_async_request(request)


CASES = (("with GPUs", 0.0), ("panes only", 300.0))
"""(case, gpu_refresh_s): GPUs read on every refresh, or not again within the run."""


async def measure(url: str, rounds: int, gpu_refresh_s: float) -> dict[str, float]:
    flags = {("prometheus", "url"): url, ("window",): WINDOW, ("gpu_refresh_s",): gpu_refresh_s}
    config = load_config(None, env={}, flags=flags)
    transport = Counting()
    source = PrometheusSource(config, clock=WallClock(), transport=transport)
    every = gpu_refresh_s == 0
    raw = httpx.AsyncClient(base_url=url, timeout=30)
    # Warms connections and Prometheus's caches, and finds the stacks (the first refresh
    # reads what Prometheus holds): only then are the queries known.
    await source.refresh()
    queries = [q for name, q in source.queries.items() if every or name == HEALTH_QUERY]

    async def raw_round() -> None:
        at = f"{time.time():.3f}"
        responses = await asyncio.gather(
            *(raw.post("/api/v1/query", data={"query": q, "time": at}) for q in queries)
        )
        for r in responses:
            r.raise_for_status()
            r.read()

    refresh_s: list[float] = []
    raw_s: list[float] = []
    per_refresh: set[int] = set()
    models = 0
    await raw_round()
    for _ in range(rounds):
        # Alternate so drift in Prometheus's load hits both the same.
        start = time.perf_counter()
        await raw_round()
        raw_s.append(time.perf_counter() - start)
        before = transport.requests
        start = time.perf_counter()
        snap = await source.refresh()
        refresh_s.append(time.perf_counter() - start)
        per_refresh.add(transport.requests - before)
        models = len(snap.models)
    await source.aclose()
    await raw.aclose()
    if len(per_refresh) != 1:
        raise SystemExit(f"queries per refresh varied between rounds: {sorted(per_refresh)}")
    return {
        "models": models,
        "queries": per_refresh.pop(),
        "refresh_ms": statistics.median(refresh_s) * 1000,
        "refresh_p95_ms": statistics.quantiles(refresh_s, n=20)[-1] * 1000,
        "raw_ms": statistics.median(raw_s) * 1000,
        "raw_p95_ms": statistics.quantiles(raw_s, n=20)[-1] * 1000,
    }


def run_fleet(models: int, gpus: int, rounds: int, workdir: Path) -> list[dict[str, float]]:
    with simulated_fleet(workdir, models, gpus, window=WINDOW) as fleet:
        return [asyncio.run(measure(fleet.url, rounds, gpu_s)) for _, gpu_s in CASES]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    stop_on_sigterm()
    print(f"{'models':>6} {'GPUs':>5} {'case':>11} {'queries/refresh':>15} "
          f"{'refresh ms (p50/p95)':>21} {'raw PromQL ms (p50/p95)':>24} "
          f"{'refresh/raw':>11}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for models, gpus in FLEETS:
            results = run_fleet(models, gpus, args.rounds, Path(tmp) / f"m{models}")
            for (case, _), r in zip(CASES, results, strict=True):
                print(
                    f"{r['models']:>6} {gpus:>5} {case:>11} {r['queries']:>15} "
                    f"{r['refresh_ms']:>12.1f} / {r['refresh_p95_ms']:<6.1f} "
                    f"{r['raw_ms']:>15.1f} / {r['raw_p95_ms']:<6.1f} "
                    f"{r['refresh_ms'] / r['raw_ms']:>10.2f}x",
                    flush=True,
                )


if __name__ == "__main__":
    main()
