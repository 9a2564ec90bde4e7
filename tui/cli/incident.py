"""`warroom incident list|new|close`: the incidents this machine keeps."""

from __future__ import annotations

import argparse
import getpass
import socket
import sys
import time
from typing import TYPE_CHECKING

from tui.errors import ConfigError, WarroomError

if TYPE_CHECKING:
    pass

from tui.cli.wiring import load, scope_for


def command(args: argparse.Namespace) -> int:
    """`warroom incident list|new|close`: the incidents on disk, and this scope's."""
    from tui.clock import utc
    from tui.domain.format import printable
    from tui.store import incident
    from tui.store.timeline import default_state_dir

    config = load(args)
    state = config.state_dir or default_state_dir()
    if args.what == "list":
        for found in incident.listed(state):
            status = "closed" if found.closed else "open"
            about = found.scope.about if found.scope else "(no scope: written before scopes)"
            print(f"{status:6}  {found.opened or '-':20}  {found.entries:5} entries  "
                  f"{printable(about)}  {found.path}")  # fmt: skip
        return 0
    if getattr(args, "demo", None):
        from tui.sim.scenarios import scenario as find_scenario

        name = getattr(args, "scenario", None) or "healthy"
        try:
            scope = incident.demo_scope(find_scenario(name).name)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    else:
        if config.prometheus.url is None:
            raise ConfigError(
                "An incident is about one fleet: pass --prometheus URL (and --context) "
                "or --demo --scenario NAME."
            )
        scope = scope_for(config, None)
    now = utc(time.time())
    by = f"{getpass.getuser()}@{socket.gethostname()}"
    try:
        current = incident.find_open(state, scope)
        if current is not None:
            incident.close(current, now, by)
            print(f"closed {current.path}")
        elif args.what == "close":
            print(f"warroom: no open incident of {printable(scope.about)}.", file=sys.stderr)
        if args.what == "new":
            print(f"started {incident.start(state, scope, now).path}")
    except OSError as exc:
        raise WarroomError(
            f"The incidents under {state} cannot be written ({exc.strerror or exc})."
        ) from None
    return 0
