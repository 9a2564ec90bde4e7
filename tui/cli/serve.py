"""The cockpit in a browser, for the war room's wall screen: `warroom serve`.

textual-serve runs one cockpit process per browser tab and relays its terminal over a
websocket. Anyone who can reach the port sees the panes, so every served cockpit is a
kiosk (no mitigation keys, nothing sent to the cluster, nothing written to disk) whatever
the options given, and the server listens on the loopback interface unless told otherwise.

The websocket is the cockpit's keyboard, so the server guards it: an upgrade from a page
on another site (an ``Origin`` that is not the served one) is refused with 403, and the
terminal a tab asks for is bounded, so a URL cannot make a cockpit draw 3000 columns.

With a token (``--token``, ``$WARROOM_SERVE_TOKEN``, or made up when the server listens
beyond this machine) the page, its websocket and its downloads need it. The browser
brings it once, as ``?token=`` on the URL printed to stderr; the server answers with an
HttpOnly, SameSite=Strict cookie and sends the browser on to the URL without it, so the
token does not stay in the wall's address bar, and the websocket (whose URL the page's
script builds, with no room for a token) carries the cookie. The token is said once, on
that stderr line: the access log has it blanked, and the cockpits do not inherit it.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tui.errors import ConfigError, WarroomError

if TYPE_CHECKING:
    pass

import hmac
import ipaddress
import logging
import re
import secrets
from collections.abc import MutableMapping
from urllib.parse import quote

from tui.cli.parser import build_parser
from tui.cli.wiring import load

MAX_WIDTH = 500
MAX_HEIGHT = 200
"""The largest terminal a browser tab may ask for, in cells: a 4K wall at a small font."""

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})

TOKEN_ENV = "WARROOM_SERVE_TOKEN"
TOKEN_FORM = re.compile(r"[A-Za-z0-9._~-]{16,256}")
"""A token given: 16 or more characters that a URL and a cookie carry as they are."""
REFUSED = "This cockpit needs its token: open the URL that `warroom serve` printed.\n"

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


def resolve_token(
    given: str | None,
    *,
    no_token: bool = False,
    host: str,
    env: MutableMapping[str, str] = os.environ,
) -> str | None:
    """The token the server asks for, or None. ``given`` is ``--token``'s value ("" when
    the flag came without one: make one up). Else ``$WARROOM_SERVE_TOKEN``; else, when
    listening beyond this machine, one made up; ``no_token`` (``--no-token``, for a server
    behind a proxy that logs users in) asks for none. The variable is taken out of ``env``
    so the cockpits the server starts do not hold it."""
    from_env = env.pop(TOKEN_ENV, None) or None
    if no_token:
        if given is not None:
            raise ConfigError("warroom serve takes --token or --no-token, not both.")
        return None
    token = given if given is not None else from_env
    if token == "" or (token is None and not is_loopback(host)):
        return secrets.token_urlsafe(32)
    if token is not None and not TOKEN_FORM.fullmatch(token):
        where = "--token" if given is not None else f"${TOKEN_ENV}"
        raise ConfigError(
            f"The token from {where} must be 16 to 256 letters, digits or -._~ "
            "(or give --token alone for one made up)."
        )
    return token


def token_matches(presented: str | None, token: str) -> bool:
    """In constant time: a wrong token's first letters tell nothing by when it fails."""
    return presented is not None and hmac.compare_digest(
        presented.encode("utf-8", "surrogatepass"), token.encode()
    )


def token_url(public_url: str, token: str) -> str:
    """The URL a browser opens first: the page, with the token."""
    return f"{public_url.rstrip('/')}/?token={quote(token, safe='')}"


def cookie_name(port: int) -> str:
    """One cookie per port: two servers on one host (cookies ignore ports) keep theirs."""
    return f"warroom_token_{port}"


class _Blank(logging.Filter):
    """Blanks the token out of every record: the access log writes each request's line,
    and a page opened with ``?token=`` is one."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "…"), None
        for key, value in list(vars(record).items()):
            if isinstance(value, str) and self.token in value and key != "msg":
                setattr(record, key, value.replace(self.token, "…"))
        return True


def _guarded_server(base: type) -> type:
    """textual-serve's Server, with the websocket's Origin checked and its size bounded,
    and, given a token, the page, the websocket and downloads refused without it."""
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
        def __init__(self, *args: Any, token: str | None = None, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.token = token

        def initialize_logging(self) -> None:
            super().initialize_logging()
            if self.token is not None:
                blank = _Blank(self.token)
                logging.getLogger("aiohttp.access").addFilter(blank)
                for handler in logging.getLogger().handlers:
                    handler.addFilter(blank)

        def _admitted(self, request: web.Request, *, query: bool = False) -> bool:
            """No token asked, or the request holds it: its cookie, or (``query``, for a
            client that is no browser) ``?token=``."""
            if self.token is None:
                return True
            held = request.cookies.get(cookie_name(self.port))
            if query and held is None:
                held = request.query.get("token")
            return token_matches(held, self.token)

        async def handle_index(self, request: web.Request) -> web.StreamResponse:
            given = request.query.get("token")
            if self.token is not None and given is not None:
                if not token_matches(given, self.token):
                    raise web.HTTPForbidden(text=REFUSED)
                # Kept in a cookie, and off the address bar: on to the page without it.
                rest = request.rel_url.without_query_params("token").query_string
                moved = web.HTTPSeeOther(location="./" + (f"?{rest}" if rest else ""))
                moved.set_cookie(
                    cookie_name(self.port), self.token, path="/", httponly=True,
                    samesite="Strict", secure=self.public_url.startswith("https:"),
                )  # fmt: skip
                moved.headers["Cache-Control"] = "no-store"
                moved.headers["Referrer-Policy"] = "no-referrer"
                raise moved
            if not self._admitted(request):
                raise web.HTTPForbidden(text=REFUSED)
            response: web.StreamResponse = await super().handle_index(request)
            response.headers["Referrer-Policy"] = "no-referrer"
            return response

        async def handle_download(self, request: web.Request) -> web.StreamResponse:
            if not self._admitted(request):
                raise web.HTTPForbidden(text=REFUSED)
            return await super().handle_download(request)  # type: ignore[no-any-return]

        async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
            if not origin_allowed(request.headers.get("Origin"), allowed_origins(self.public_url)):
                raise web.HTTPForbidden(text="This cockpit is not served to other sites.\n")
            if not self._admitted(request, query=True):
                raise web.HTTPForbidden(text=REFUSED)
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
    token: str | None = None,
    no_token: bool = False,
) -> None:
    """Serve until Ctrl+C. ``options`` are the cockpit's own (``--demo``, ``--prometheus
    URL``, ``--theme light`` …), already checked by the command line (`tui.cli`), so a
    typo fails in this terminal rather than in a browser on the wall. ``token`` and ``no_token`` are
    `resolve_token`'s."""
    try:
        from textual_serve.server import Server
    except ImportError:
        raise WarroomError(
            "warroom serve needs textual-serve: pip install 'warroom[serve]'."
        ) from None
    secret = resolve_token(token, no_token=no_token, host=host)
    if not is_loopback(host):
        who = "anyone who reaches" if secret is None else "anyone with the token who reaches"
        print(
            f"warroom serve: listening on {host}, not only this machine: {who} port {port} "
            "sees the cockpit (a read-only kiosk); give --public-url, the URL browsers use: "
            "only its pages may open the cockpit.",
            file=sys.stderr,
        )
    server = _guarded_server(Server)(
        cockpit_command(options, wall=wall),
        host=host,
        port=port,
        title="warroom",
        public_url=public_url,
        token=secret,
    )
    if secret is not None:
        # The one place the token is said: the access log has it blanked.
        print(f"warroom serve: open {token_url(server.public_url, secret)}", file=sys.stderr)
    try:
        server.serve()
    except OSError as exc:
        raise WarroomError(f"Cannot serve on {host}:{port}: {exc.strerror or exc}.") from None


def command(args: argparse.Namespace) -> int:

    options = list(args.options)
    if options[:1] == ["--"]:
        options = options[1:]
    # Checked here first, so a typo fails now, in this terminal, rather than in a
    # browser on the wall.
    try:
        cockpit = build_parser().parse_args(options)
    except SystemExit:
        raise ConfigError(f"The cockpit options {shlex.join(options)!r} are not valid.") from None
    if cockpit.command is not None:
        raise ConfigError(f"warroom serve runs the cockpit, not `warroom {cockpit.command}`.")
    load(cockpit)
    serve(options, host=args.host, port=args.port, public_url=args.public_url,
          wall=not args.desk, token=args.token, no_token=args.no_token)  # fmt: skip
    return 0
