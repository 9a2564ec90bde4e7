"""`warroom simulate` and `warroom scenarios`: the simulator's /metrics, and its scenarios."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from tui.errors import ConfigError, WarroomError

if TYPE_CHECKING:
    pass


def command(args: argparse.Namespace) -> int:
    from tui.sim.exporter import serve
    from tui.sim.stacks import parse_stack

    names = model_names_file(args.model_names) if args.model_names else ()
    try:
        serve(
            names=names,
            stack=parse_stack(args.stack),
            host=args.host,
            port=args.port,
            scenario=args.scenario,
            models=args.models,
            gpus=args.gpus,
            seed=args.seed,
            at_s=args.at,
            speed=args.speed,
            canary_weight=args.canary_weight,
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    except OSError as exc:
        raise WarroomError(f"Cannot serve on {args.host}:{args.port}: {exc.strerror}.") from None
    return 0


def model_names_file(path: Path) -> tuple[str, ...]:
    """``--model-names``: a JSON list of strings (checked further by `build_fleet`)."""
    import json

    try:
        names = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"Cannot read --model-names {path}: {exc.strerror or exc}.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"--model-names {path} is not JSON text ({exc}).") from None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"--model-names {path} must hold a JSON list of strings.")
    return tuple(names)


def list_scenarios() -> int:
    from tui.sim.scenarios import SCENARIOS

    width = max(len(n) for n in SCENARIOS)
    for name, scenario in SCENARIOS.items():
        print(f"{name:<{width}}  {scenario.summary}")
    return 0
