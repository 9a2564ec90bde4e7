"""`warroom serve` with a token (issue 21, item 5): the page, its websocket and its
downloads need it, as a browser brings it (``?token=`` once, then the cookie the server
set), and the token is said once, on stderr, never in the server's logs.

The in-process tests stand a recorder in for the cockpit (`FakeService`); the last one
runs `warroom serve` itself, a real cockpit behind the websocket.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from http.cookies import SimpleCookie
from pathlib import Path

import aiohttp
import pytest
from promserver import free_port
from serve_rig import FakeService, first_answer, recorded_server, serve_on_a_taken_port, serving

from tui.cli.serve import (
    REFUSED,
    TOKEN_ENV,
    cookie_name,
    resolve_token,
    token_matches,
    token_url,
)
from tui.errors import ConfigError

TOKEN = "wall-screen-token-0123456789abcdef"


@pytest.fixture
async def server(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """The guarded server asking for `TOKEN`, a recorder for each cockpit."""
    async with recorded_server(monkeypatch, token=TOKEN) as url:
        yield url


def browser() -> aiohttp.ClientSession:
    """A browser's cookie jar: it keeps cookies from an IP address, as browsers do."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def refused_socket(http: aiohttp.ClientSession, url: str, origin: str) -> int:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await http.ws_connect(url, headers={"Origin": origin})
    return refused.value.status


@pytest.mark.e2e
async def test_without_the_token_no_page_and_no_cockpit(server: str) -> None:
    async with browser() as http:
        async with http.get(server + "/") as response:
            assert response.status == 403
            assert await response.text() == REFUSED
        assert await refused_socket(http, server + "/ws?width=80&height=24", server) == 403
        async with http.get(server + "/ws") as response:  # a plain GET: the same answer
            assert response.status == 403
        async with http.get(server + "/download/some-key") as response:
            assert response.status == 403
    assert FakeService.started == []
    assert REFUSED.count(".") == 1 and REFUSED.endswith(".\n")  # one sentence


@pytest.mark.e2e
async def test_a_wrong_token_is_refused_everywhere(server: str) -> None:
    port = int(server.rsplit(":", 1)[1])
    wrong = TOKEN[:-1] + "X"
    async with browser() as http:
        for token in (wrong, TOKEN[:-1], TOKEN + "0", "", "é" * 20):
            async with http.get(server + "/", params={"token": token}) as response:
                assert response.status == 403, token
                assert await response.text() == REFUSED
            assert not http.cookie_jar.filter_cookies(server)  # no cookie was given
        assert await refused_socket(http, f"{server}/ws?token={wrong}", server) == 403
        http.cookie_jar.update_cookies({cookie_name(port): wrong})
        async with http.get(server + "/") as response:
            assert response.status == 403
        assert await refused_socket(http, server + "/ws", server) == 403
    assert FakeService.started == []


@pytest.mark.e2e
async def test_the_right_token_opens_the_page_and_its_websocket(server: str) -> None:
    port = int(server.rsplit(":", 1)[1])
    async with browser() as http:
        first = f"{server}/?token={TOKEN}&fontsize=24"
        async with http.get(first, allow_redirects=False) as moved:
            assert moved.status == 303
            # On to the page without the token: it stays off the wall's address bar.
            assert moved.headers["Location"] == "./?fontsize=24"
            cookie = SimpleCookie(moved.headers["Set-Cookie"])[cookie_name(port)]
            assert cookie.value == TOKEN
            assert cookie["httponly"] is True
            assert cookie["samesite"] == "Strict"
            assert cookie["path"] == "/"
            assert not cookie["secure"]  # served over http: a secure cookie would not come back
        async with http.get(first) as page:
            assert page.status == 200
            assert page.url.query.get("token") is None and page.url.query["fontsize"] == "24"
            assert page.headers["Referrer-Policy"] == "no-referrer"
            html = await page.text()
        assert TOKEN not in html
        assert f"ws://127.0.0.1:{port}/ws" in html  # the page's socket: no token in its URL
        # The page's script opens the socket; the browser brings the cookie.
        async with http.ws_connect(
            server + "/ws?width=120&height=40", headers={"Origin": server}
        ) as ws:
            await ws.send_json(["ping", "token"])
            assert (await ws.receive_json(timeout=5)) == ["pong", "token"]
        async with http.get(server + "/download/no-such-key") as response:
            assert response.status == 404  # past the token: only the key is unknown
        # The page again, from the cookie alone (the wall reloading it).
        async with http.get(server + "/") as page:
            assert page.status == 200
    assert FakeService.started == [(120, 40)]


@pytest.mark.e2e
async def test_a_client_that_is_no_browser_may_bring_the_token_on_the_socket(
    server: str,
) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(f"{server}/ws?token={TOKEN}") as ws:
        await ws.send_json(["ping", "x"])
        assert (await ws.receive_json(timeout=5)) == ["pong", "x"]


@pytest.mark.e2e
async def test_the_token_does_not_spare_the_origin_check(server: str) -> None:
    async with browser() as http:
        async with http.get(f"{server}/?token={TOKEN}") as page:
            assert page.status == 200
        assert await refused_socket(http, server + "/ws", "http://evil.example") == 403
    assert FakeService.started == []


def test_which_token() -> None:
    env: dict[str, str] = {}
    assert resolve_token(None, host="127.0.0.1", env=env) is None
    made = resolve_token("", host="127.0.0.1", env=env)
    assert made is not None and len(made) >= 40
    assert resolve_token("", host="127.0.0.1", env=env) != made  # made up each time
    off_loopback = resolve_token(None, host="0.0.0.0", env=env)
    assert off_loopback is not None and len(off_loopback) >= 40
    assert resolve_token(None, host="0.0.0.0", no_token=True, env=env) is None
    assert resolve_token(TOKEN, host="127.0.0.1", env=env) == TOKEN

    env = {TOKEN_ENV: TOKEN, "OTHER": "x"}
    assert resolve_token(None, host="127.0.0.1", env=env) == TOKEN
    assert env == {"OTHER": "x"}  # taken out: the cockpits the server starts lack it
    env = {TOKEN_ENV: TOKEN}
    assert resolve_token("given-on-the-line-0123", host="::1", env=env) == "given-on-the-line-0123"
    assert resolve_token(None, host="0.0.0.0", env={TOKEN_ENV: ""}) is not None  # empty: unset

    with pytest.raises(ConfigError, match="not both"):
        resolve_token(TOKEN, no_token=True, host="127.0.0.1", env={})
    for bad in ("short", "has space in it 0123456", "semi;colon-0123456789", "x" * 257):
        with pytest.raises(ConfigError, match="16 to 256"):
            resolve_token(bad, host="127.0.0.1", env={})
    with pytest.raises(ConfigError, match=r"\$WARROOM_SERVE_TOKEN"):
        resolve_token(None, host="127.0.0.1", env={TOKEN_ENV: "short"})


def test_token_comparison_and_url() -> None:
    assert token_matches(TOKEN, TOKEN)
    assert not token_matches(None, TOKEN)
    assert not token_matches("", TOKEN)
    assert not token_matches("é\udcff\ud800", TOKEN)  # not ASCII, not even UTF-8: no error
    assert token_url("http://wall:8000/", TOKEN) == f"http://wall:8000/?token={TOKEN}"
    assert token_url("https://sso.example/warroom", "a.b~c") == (
        "https://sso.example/warroom/?token=a.b~c"
    )


# -- the real thing -----------------------------------------------------------------------


def children(pid: int) -> list[int]:
    """The processes ``pid`` started (Linux's /proc), and theirs."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += [int(child), *children(int(child))]
    return found


@pytest.mark.e2e
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc")
async def test_served_with_a_token_it_is_said_once_on_stderr_and_nowhere_else(
    tmp_path: Path,
) -> None:
    port = free_port()
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    env = {**os.environ, TOKEN_ENV: TOKEN, "XDG_STATE_HOME": str(tmp_path / "state")}
    cockpit = ("--demo", "--scenario", "gpu-oom", "--at", "10m")
    server = f"http://127.0.0.1:{port}"
    with (
        out.open("wb") as stdout,
        err.open("wb") as stderr,
        serving(port, *cockpit, stdout=stdout, stderr=stderr, env=env) as proc,
    ):
        async with browser() as http:
            status, _ = await first_answer(http, server + "/", why=err.read_text)
            assert status == 403
            said = re.search(r"warroom serve: open (\S+)", err.read_text())
            assert said is not None, err.read_text()
            assert said.group(1) == f"{server}/?token={TOKEN}"
            async with http.get(server + "/?token=not-the-token-at-all") as response:
                assert response.status == 403
            async with http.get(said.group(1)) as page:  # what the person opens
                assert page.status == 200
            async with http.get(server + "/static/css/xterm.css") as static:
                assert static.status == 200
            async with http.ws_connect(
                server + "/ws?width=120&height=40", headers={"Origin": server}
            ) as ws:
                seen = b""
                while b"codellama" not in seen:  # the cockpit draws its table
                    message = await ws.receive(timeout=30)
                    assert message.type == aiohttp.WSMsgType.BINARY, message
                    seen += message.data
                cockpits = children(proc.pid)
                assert cockpits
                for pid in cockpits:
                    environ = Path(f"/proc/{pid}/environ").read_bytes()
                    assert TOKEN.encode() not in environ  # nor the cockpits' environment
    # Rich wraps the log's lines at 80 columns: read them whole, whitespace dropped.
    logged, stderr_text = re.sub(r"\s", "", out.read_text()), err.read_text()
    assert '"GET/?token=…HTTP/1.1"303' in logged  # the access log was on, the token blanked
    assert TOKEN not in logged
    assert stderr_text.count(TOKEN) == 1
    assert not (tmp_path / "state").exists()  # and the served kiosk wrote nothing


def serve_stderr(*flags: str) -> tuple[int, list[str]]:
    """`warroom serve FLAGS -- --demo` on a port taken here first: the server fails right
    after what it says before serving."""
    env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
    _, done = serve_on_a_taken_port(*flags, env=env)
    return done.returncode, done.stderr.splitlines()


def test_no_token_off_loopback_is_asked_for_by_name() -> None:
    code, lines = serve_stderr("--host", "0.0.0.0", "--no-token")
    assert code != 0
    assert "anyone who reaches port" in lines[0]
    assert not any("token=" in line for line in lines)


def test_token_and_no_token_together_fail_in_one_line() -> None:
    code, lines = serve_stderr("--token", TOKEN, "--no-token")
    assert code == 2
    assert lines == ["warroom: warroom serve takes --token or --no-token, not both."]
    code, lines = serve_stderr("--token", "short")
    assert code == 2 and len(lines) == 1 and "16 to 256" in lines[0]
