"""The cockpit in a browser, for the war room's wall screen: `warroom serve`.

textual-serve runs one cockpit process per browser tab and relays its terminal over a
websocket. Anyone who can reach the port sees the panes, so every served cockpit is a
kiosk (no mitigation keys, nothing sent to the cluster) whatever the options given, and
the server listens on the loopback interface unless told otherwise.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence

from tui.errors import ConfigError, WarroomError

FORCED = ("--kiosk",)
"""Options every served cockpit gets: a browser tab is not an operator's terminal."""


def cockpit_command(options: Sequence[str], *, wall: bool = True) -> str:
    """The shell command textual-serve starts for each tab: this Python, this warroom."""
    extra = [*FORCED, *(["--wall"] if wall and "--wall" not in options else [])]
    return shlex.join([sys.executable, "-m", "tui", *options, *extra])


def serve(
    options: Sequence[str],
    *,
    host: str,
    port: int,
    public_url: str | None = None,
    wall: bool = True,
) -> None:
    """Serve until Ctrl+C. ``options`` are the cockpit's own (``--demo``, ``--prometheus
    URL``, ``--theme light`` …), checked here first so a typo fails now, in this
    terminal, rather than in a browser on the wall."""
    from tui.cli import build_parser, load

    try:
        args = build_parser().parse_args(list(options))
    except SystemExit:
        raise ConfigError(f"The cockpit options {shlex.join(options)!r} are not valid.") from None
    if args.command is not None:
        raise ConfigError(f"warroom serve runs the cockpit, not `warroom {args.command}`.")
    load(args)
    try:
        from textual_serve.server import Server
    except ImportError:
        raise WarroomError(
            "warroom serve needs textual-serve: pip install 'warroom[serve]'."
        ) from None
    server = Server(
        cockpit_command(options, wall=wall),
        host=host,
        port=port,
        title="warroom",
        public_url=public_url,
    )
    try:
        server.serve()
    except OSError as exc:
        raise WarroomError(f"Cannot serve on {host}:{port}: {exc.strerror or exc}.") from None
