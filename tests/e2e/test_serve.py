"""`warroom serve`: the cockpit in a browser for the wall screen, through textual-serve.

The test is the browser: it loads the page, opens the websocket the page would open,
and reads the terminal stream the served cockpit writes, as xterm.js would draw it.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from subprocess import DEVNULL

import aiohttp
import pytest
from promserver import free_port
from serve_rig import first_answer, serving

from tui.cli.serve import cockpit_command

ESCAPES = re.compile(rb"\x1b\[[0-9;?<>]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]")


@pytest.fixture
def served() -> Iterator[str]:
    """`warroom serve` over the gpu-oom demo in a process of its own; its URL."""
    port = free_port()
    cockpit = ("--demo", "--scenario", "gpu-oom", "--at", "10m")
    with serving(port, *cockpit, stdout=DEVNULL, stderr=DEVNULL):
        yield f"http://127.0.0.1:{port}"


async def page(url: str) -> str:
    async with aiohttp.ClientSession() as http:
        status, html = await first_answer(http, url + "/")
    assert status == 200
    return html


async def read_screen(ws: aiohttp.ClientWebSocketResponse, until: bytes, timeout: float) -> bytes:
    """The terminal stream, escapes stripped, up to and including ``until``."""
    seen = b""
    deadline = time.monotonic() + timeout
    while until not in ESCAPES.sub(b"", seen):
        left = deadline - time.monotonic()
        assert left > 0, f"{until!r} never came; the screen said {ESCAPES.sub(b'', seen)[-400:]!r}"
        try:
            message = await ws.receive(timeout=left)
        except TimeoutError:
            message = None
        if message is None:
            raise AssertionError(
                f"{until!r} never came; the screen said {ESCAPES.sub(b'', seen)!r}"
            )
        if message.type == aiohttp.WSMsgType.BINARY:
            seen += message.data
        elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            raise AssertionError(f"the cockpit closed; it said {ESCAPES.sub(b'', seen)!r}")
    return ESCAPES.sub(b"", seen)


@pytest.mark.e2e
async def test_a_browser_tab_gets_a_kiosk_cockpit_on_the_wall_layout(served: str) -> None:
    html = await page(served)
    assert "ws://127.0.0.1" in html and "/ws" in html  # the page opens the cockpit's socket
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(served + "/ws?width=160&height=45", headers={"Origin": served}) as ws,
    ):
        screen = await read_screen(ws, b"codellama-34b-instruct", timeout=30)
        assert b"all models" in screen
        assert b"Mitigate" not in screen  # the wall layout shows no key hints
        # m is no key on a kiosk: it opens nothing, and the help that follows shows.
        await ws.send_json(["stdin", "m?"])
        said = await read_screen(ws, b"the runbook navigator", timeout=15)  # the help's line for t
        assert b"warroom keys" in said
        assert b"Cancel" not in said  # no mitigation menu (its only key) was opened


@pytest.mark.e2e
async def test_a_page_on_another_site_cannot_drive_the_cockpit(served: str) -> None:
    await page(served)
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(served + "/ws", headers={"Origin": "http://evil.example"})
    assert refused.value.status == 403


def test_every_served_cockpit_is_a_kiosk() -> None:
    command = cockpit_command(["--prometheus", "http://prom:9090"])
    assert command.endswith("-m tui --prometheus http://prom:9090 --kiosk --wall")
    assert cockpit_command(["--demo"], wall=False).endswith("-m tui --demo --kiosk")


def test_bad_cockpit_options_fail_before_serving() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tui", "serve", "--port", "1", "--", "--demo", "--theme", "pink"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert "'pink' is not a theme" in done.stderr
