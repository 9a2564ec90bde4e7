"""The cockpit in a browser, for the war room's wall screen: `warroom serve`.

textual-serve runs one cockpit process per browser tab and relays its terminal over a
websocket. Anyone who can reach the port sees the panes, so every served cockpit is a
kiosk (no mitigation keys, nothing sent to the cluster) whatever the options given, and
the server listens on the loopback interface unless told otherwise.

The websocket is the cockpit's keyboard, so the server guards it: an upgrade from a page
on another site (an ``Origin`` that is not the served one) is refused with 403, and the
terminal a tab asks for is bounded, so a URL cannot make a cockpit draw 3000 columns.
"""

from __future__ import annotations

import ipaddress
import shlex
import sys
from collections.abc import Sequence
from typing import Any

from tui.errors import ConfigError, WarroomError

MAX_WIDTH = 500
MAX_HEIGHT = 200
"""The largest terminal a browser tab may ask for, in cells: a 4K wall at a small font."""

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})

FORCED = ("--kiosk",)
"""Options every served cockpit gets: a browser tab is not an operator's terminal."""


def cockpit_command(options: Sequence[str], *, wall: bool = True) -> str:
    """The shell command textual-serve starts for each tab: this Python, this warroom."""
    extra = [*FORCED, *(["--wall"] if wall and "--wall" not in options else [])]
    return shlex.join([sys.executable, "-m", "tui", *options, *extra])


def clamp_size(width: object, height: object) -> tuple[int, int]:
    """A terminal size from a browser, as textual-serve would read it, bounded to
    1..MAX_WIDTH by 1..MAX_HEIGHT."""

    def cells(value: object, default: int, most: int) -> int:
        try:
            number = int(value)  # type: ignore[call-overload]
        except (TypeError, ValueError, OverflowError):
            number = default
        return max(1, min(number, most))

    return cells(width, 80, MAX_WIDTH), cells(height, 24, MAX_HEIGHT)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) only listens on this machine."""
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _origin(url: str) -> tuple[str, str, int | None] | None:
    """``(scheme, host, port)`` of a URL or an Origin header, default ports filled in."""
    from yarl import URL

    try:
        parsed = URL(url)
    except (TypeError, ValueError):
        return None
    if not parsed.scheme or not parsed.host:
        return None
    return parsed.scheme.lower(), parsed.host.lower(), parsed.port


def allowed_origins(public_url: str) -> frozenset[tuple[str, str, int | None]]:
    """The origins whose pages may open the cockpit's websocket: the served URL's, and,
    when that is a loopback address, its other loopback spellings on the same port
    (a browser on this machine may have typed localhost for 127.0.0.1)."""
    served = _origin(public_url)
    if served is None:
        return frozenset()
    scheme, host, port = served
    if not is_loopback(host):
        return frozenset({served})
    return frozenset({served} | {(scheme, name, port) for name in LOOPBACK_NAMES})


def origin_allowed(origin: str | None, allowed: frozenset[tuple[str, str, int | None]]) -> bool:
    """No Origin (not a browser) passes; a browser's must be one of ``allowed``."""
    if origin is None:
        return True
    return _origin(origin) in allowed


def _guarded_server(base: type) -> type:
    """textual-serve's Server, with the websocket's Origin checked and its size bounded."""
    from aiohttp import web

    class _Bounded:
        """The app service, with every resize the browser sends bounded."""

        def __init__(self, service: Any) -> None:
            self._service = service

        def __getattr__(self, name: str) -> Any:
            return getattr(self._service, name)

        async def set_terminal_size(self, width: object, height: object) -> None:
            await self._service.set_terminal_size(*clamp_size(width, height))

    class GuardedServer(base):  # type: ignore[misc,valid-type]
        async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
            if not origin_allowed(request.headers.get("Origin"), allowed_origins(self.public_url)):
                raise web.HTTPForbidden(text="This cockpit is not served to other sites.\n")
            width, height = clamp_size(
                request.query.get("width", "80"), request.query.get("height", "24")
            )
            bounded = request.clone(
                rel_url=request.rel_url.update_query(width=str(width), height=str(height))
            )
            return await super().handle_websocket(bounded)

        async def _process_messages(self, websocket: Any, app_service: Any) -> None:
            await super()._process_messages(websocket, _Bounded(app_service))

    return GuardedServer


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
    if not is_loopback(host):
        print(
            f"warroom serve: listening on {host}, not only this machine: anyone who reaches "
            f"port {port} sees the cockpit (a read-only kiosk); give --public-url, the URL "
            "browsers use: only its pages may open the cockpit.",
            file=sys.stderr,
        )
    server = _guarded_server(Server)(
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
