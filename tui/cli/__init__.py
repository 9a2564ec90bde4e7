"""The ``warroom`` command: the cockpit by default, plus headless sub-commands.

    warroom [--demo [--scenario NAME] | --prometheus URL]      the cockpit
    warroom snapshot --json [source options]                    one refresh as JSON
    warroom simulate --port P [--scenario NAME] [--stack A,B]   serve the simulator's /metrics
    warroom discover --prometheus URL [--json]                  which stacks, how each is read
    warroom scenarios                                           list the demo scenarios
    warroom triage [--json] [source options]                    walk the worst symptom's runbook
    warroom runbooks check [DIR...] | list | signals            validate and list runbooks

Every user-facing failure is one sentence on stderr: exit 2 for bad configuration or
arguments, 1 for a data source that cannot be read.
"""

from __future__ import annotations

import os
import select
import sys
from collections.abc import Sequence
from importlib import import_module
from typing import Any

from tui.errors import ConfigError, WarroomError

SUBCOMMANDS = {
    "simulate": "simulate", "scenarios": "simulate", "incident": "incident",
    "snapshot": "snapshot", "discover": "discover", "triage": "triage",
    "runbooks": "runbooks", "canary": "drive", "report": "report", "replay": "replay",
    "serve": "serve",
}  # fmt: skip
"""The module (`tui.cli.<name>`) of each subcommand; no subcommand is the cockpit."""

EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE: what a shell reports for a command whose reader went away early."""


def main(argv: Sequence[str] | None = None) -> int:
    """The `warroom` command. Its output piped to a reader that stops early (``| head``)
    ends it quietly with `EXIT_BROKEN_PIPE`, as Python's docs advise (signal module,
    "Note on SIGPIPE"), not with a traceback."""
    try:
        code = _main(argv)
        # Now, not at exit: a closed pipe found while Python flushes on its way out is
        # printed as "Exception ignored" and cannot be caught.
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        if not _reader_gone(sys.stdout):
            raise  # some other pipe or socket: not ours to hide
        # Whatever is still buffered goes nowhere, so the flush at exit finds no pipe.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_BROKEN_PIPE


def _reader_gone(stream: Any) -> bool:
    """True when ``stream`` is a pipe whose reading end is closed; True too where that
    cannot be asked (no poll), as stdout is what a command writes to."""
    try:
        poller = select.poll()
        poller.register(stream.fileno(), select.POLLOUT)
        return any(mask & (select.POLLERR | select.POLLHUP) for _, mask in poller.poll(0))
    except (AttributeError, OSError, ValueError):
        return True


def _main(argv: Sequence[str] | None) -> int:
    from tui.cli.parser import build_parser

    args = build_parser().parse_args(argv)
    # Each subcommand's module is imported when it runs: the cockpit's start-up pays
    # for none of the others (and none pays for Textual but the cockpit and replay).
    module = import_module(f"tui.cli.{SUBCOMMANDS.get(args.command, 'cockpit')}")
    try:
        if args.command == "scenarios":
            return module.list_scenarios()
        return module.command(args)
    except ConfigError as exc:
        print(f"warroom: {exc}", file=sys.stderr)
        return 2
    except WarroomError as exc:
        print(f"warroom: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
