"""``warroom canary drive``: the canary driver headless, for CI/CD.

The seed's variables (``STAGES``, ``STAGE_HOLD_S``, ``ERROR_RATE_REGRESSION``,
``P99_REGRESSION``, ``WARMUP_S``, ``MIN_REQUESTS``, and ``DRAIN_TIMEOUT_S``) are read from
the environment over the config; flags win over both. One log line per transition and
comparison on stdout, each stamped; the exit status is 0 only on promotion.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from tui.clock import Clock
from tui.config import Config
from tui.errors import ConfigError
from tui.sources.base import HealthSource

if TYPE_CHECKING:
    from tui.actions.canary import CanaryDriver, Route, Warmup
    from tui.store.timeline import Timeline

from dataclasses import replace

from tui.actions.canary import EXIT_CODES, CanaryDriver, Route, Warmup
from tui.cli.wiring import (
    build_mitigator,
    build_source,
    canary_parts,
    load,
    sleep_for,
    timeline_for,
)
from tui.clock import utc
from tui.domain.canary import CanaryPolicy, policy_from_env, policy_of
from tui.domain.model import iso_utc
from tui.sources.base import CanarySource
from tui.store.timeline import Timeline

FLAGS = {
    "stages": "stages",
    "hold": "stage_hold_s",
    "error_regression": "error_rate_regression",
    "p99_regression": "p99_regression",
    "warmup": "warmup_s",
    "min_requests": "min_requests",
    "drain_timeout": "drain_timeout_s",
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("gates (default: the environment's STAGES… then the config)")
    g.add_argument("--stages", help='percent per stage, e.g. "5 25 50 100"')
    g.add_argument("--hold", type=float, metavar="S", help="seconds to hold each stage")
    g.add_argument("--error-regression", type=float, metavar="X", help="error-rate gate factor")
    g.add_argument("--p99-regression", type=float, metavar="X", help="p99 gate factor")
    g.add_argument("--warmup", type=float, metavar="S", help="warm-up seconds (0: none)")
    g.add_argument("--min-requests", type=int, metavar="N", help="requests before judging")
    g.add_argument("--drain-timeout", type=float, metavar="S", help="rollback drain timeout")
    g.add_argument("--poll", type=float, metavar="S", help="seconds between comparisons")


def policy(args: argparse.Namespace, config: Config, env: dict[str, str]) -> CanaryPolicy:
    base = policy_of(config.canary, config.mitigations.drain_timeout_s)
    try:
        chosen = policy_from_env(env, base)
        flagged = {FLAGS[k]: v for k, v in vars(args).items() if k in FLAGS and v is not None}
        if "stages" in flagged:
            chosen = policy_from_env({"STAGES": flagged.pop("stages")}, chosen)
        return replace(chosen, **flagged)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


async def drive(
    args: argparse.Namespace,
    config: Config,
    source: HealthSource,
    clock: Clock,
    *,
    route: Route,
    warmup: Warmup | None,
    sleep: Callable[[float], Awaitable[None]],
    timeline: Timeline | None,
) -> int:
    if not isinstance(source, CanarySource):
        raise ConfigError(f"{source.description} cannot read a canary.")

    def log(line: str) -> None:
        print(f"{iso_utc(utc(clock.now()))} {line}", flush=True)

    chosen = policy(args, config, dict(os.environ))
    poll = args.poll if args.poll is not None else config.canary.poll_s
    driver = CanaryDriver(chosen, route, source, clock=clock, sleep=sleep, warmup=warmup,
                          timeline=timeline, poll_s=poll, log=log)  # fmt: skip
    try:
        state = await driver.run()
    finally:
        await source.aclose()
    return EXIT_CODES.get(state.phase, 3)


def command(args: argparse.Namespace) -> int:
    from tui.sim.source import DemoSource

    config = load(args)
    source, clock = build_source(args, config)
    demo = source if isinstance(source, DemoSource) else None
    route, warmup = canary_parts(config, demo, *build_mitigator(config, demo))
    timeline = timeline_for(config, demo)
    return asyncio.run(
        drive(args, config, source, clock, route=route, warmup=warmup, sleep=sleep_for(clock),
              timeline=timeline)
    )  # fmt: skip
