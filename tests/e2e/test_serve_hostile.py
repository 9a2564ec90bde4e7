"""`warroom serve` against a hostile browser: the websocket is the cockpit's keyboard.

A page on another site may not open it (its Origin is refused with 403), and no URL or
resize message can make a cockpit draw a terminal larger than the bounds. The cockpit
process itself is replaced by a recorder: what is under test is what the server would
start it with.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from serve_rig import FakeService, recorded_server, serve_on_a_taken_port

from tui.cli.serve import MAX_HEIGHT, MAX_WIDTH, clamp_size, is_loopback


@pytest.fixture
async def server(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """The guarded server, no token, a recorder for each cockpit."""
    async with recorded_server(monkeypatch) as url:
        yield url


@pytest.mark.e2e
async def test_a_page_from_another_site_cannot_open_the_cockpit(server: str) -> None:
    async with aiohttp.ClientSession() as http:
        for origin in ("http://evil.example", "null", "http://127.0.0.1:1", "https://127.0.0.1"):
            async with http.get(server + "/ws", headers={"Origin": origin}) as response:
                assert response.status == 403, origin
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(server + "/ws", headers={"Origin": origin})
            assert refused.value.status == 403
    assert FakeService.started == []  # no cockpit was started for any of them


@pytest.mark.e2e
async def test_the_served_page_and_its_loopback_spellings_may(server: str) -> None:
    port = server.rsplit(":", 1)[1]
    origins = [server, f"http://localhost:{port}", f"http://[::1]:{port}", None]
    async with aiohttp.ClientSession() as http:
        for origin in origins:
            headers = {"Origin": origin} if origin else {}
            async with http.ws_connect(server + "/ws?width=120&height=40", headers=headers) as ws:
                await ws.send_json(["ping", "x"])
                assert (await ws.receive_json(timeout=5)) == ["pong", "x"]
    assert FakeService.started == [(120, 40)] * len(origins)


@pytest.mark.e2e
async def test_a_huge_terminal_is_bounded(server: str) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(server + "/ws?width=3000&height=1000") as ws,
    ):
        await ws.send_json(["resize", {"width": 100000, "height": -5}])
        await ws.send_json(["resize", {"width": "wide", "height": 30}])
        await ws.send_json(["ping", "done"])
        assert (await ws.receive_json(timeout=5)) == ["pong", "done"]
    assert FakeService.started == [(MAX_WIDTH, MAX_HEIGHT)]
    assert FakeService.resized == [(MAX_WIDTH, 1), (80, 30)]


def test_sizes_and_hosts() -> None:
    assert clamp_size("160", "45") == (160, 45)
    assert clamp_size("3000", "1000") == (MAX_WIDTH, MAX_HEIGHT)
    assert clamp_size("0", "x") == (1, 24)
    assert clamp_size(None, 10**400) == (80, MAX_HEIGHT)
    assert all(map(is_loopback, ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"]))
    assert not any(map(is_loopback, ["0.0.0.0", "::", "10.0.0.5", "wall.example"]))


def test_a_bind_beyond_this_machine_is_said_on_stderr() -> None:
    # The port is taken here first, so the server fails right after the warning.
    port, done = serve_on_a_taken_port("--host", "0.0.0.0")
    assert done.returncode != 0
    lines = done.stderr.splitlines()
    assert lines[0].startswith("warroom serve: listening on 0.0.0.0, not only this machine")
    assert "--public-url" in lines[0]
    # Beyond this machine a token is made up unless --no-token: said once, with its URL.
    assert "anyone with the token" in lines[0]
    assert lines[1].startswith(f"warroom serve: open http://0.0.0.0:{port}/?token=")


async def test_the_kiosk_cannot_export_the_report(tmp_path: Path) -> None:
    """A visitor at the wall pressed e, typed a root cause and overwrote the incident's
    report: on a kiosk the export is not offered and nothing is written."""
    from demo_app import frozen_demo_app, settle

    from tui.config import load_config
    from widgets.screens.report_form import ReportForm

    config = load_config(None, env={"XDG_STATE_HOME": str(tmp_path)}, flags={("kiosk",): True})
    app = frozen_demo_app("gpu-oom", at_s=900, config=config)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert not isinstance(app.screen, ReportForm)
        assert not app.check_action("export", ())
    assert not list(tmp_path.rglob("incident-*"))
