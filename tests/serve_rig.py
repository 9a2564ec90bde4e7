"""`warroom serve` for the serve tests: textual-serve's server in this process with a
recorder standing in for the cockpit (`FakeService`), or the real command in a process
of its own, the wait for its first answer, and the command run on a port already taken
(it fails right after what it says before serving).

Imported as ``serve_rig``: pytest puts ``tests/`` on ``sys.path``.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from typing import Any, ClassVar

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from promserver import free_port

from tui.cli.serve import _guarded_server

STARTUP_S = 30.0
"""How long a served process may take to answer its first request: generous, for a
loaded 2-core machine; a passing test waits only as long as the start takes."""


class FakeService:
    """Stands in for textual-serve's AppService: records the sizes, starts nothing."""

    started: ClassVar[list[tuple[int, int]]] = []
    resized: ClassVar[list[tuple[int, int]]] = []

    def __init__(self, command: str, **_: Any) -> None:
        self.command = command

    async def start(self, width: int, height: int) -> None:
        FakeService.started.append((width, height))

    async def set_terminal_size(self, width: int, height: int) -> None:
        FakeService.resized.append((width, height))

    async def send_bytes(self, data: bytes) -> bool:
        return True

    async def stop(self) -> None:
        pass


@asynccontextmanager
async def recorded_server(
    monkeypatch: pytest.MonkeyPatch, *, token: str | None = None
) -> AsyncIterator[str]:
    """warroom's guarded textual-serve server on 127.0.0.1, in this process, with
    `FakeService` (its records emptied) in place of each cockpit; yields its URL."""
    import textual_serve.server as textual_serve

    monkeypatch.setattr(textual_serve, "AppService", FakeService)
    FakeService.started, FakeService.resized = [], []
    port = free_port()
    served = _guarded_server(textual_serve.Server)("true", host="127.0.0.1", port=port, token=token)
    test_server = TestServer(await served._make_app(), host="127.0.0.1", port=port)
    await test_server.start_server()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await test_server.close()


@contextmanager
def serving(port: int, *cockpit: str, **popen: Any) -> Iterator[subprocess.Popen[bytes]]:
    """`warroom serve --port PORT -- COCKPIT...` in a process of its own (``popen``: its
    streams and environment), stopped on the way out."""
    command = [sys.executable, "-m", "tui", "serve", "--port", str(port), "--", *cockpit]
    proc = subprocess.Popen(command, **popen)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


async def first_answer(
    http: aiohttp.ClientSession, url: str, *, why: Callable[[], str] = str
) -> tuple[int, str]:
    """GET ``url`` until the starting server answers: its status and text. ``why`` says
    what the server printed, should it never answer."""
    deadline = time.monotonic() + STARTUP_S
    while True:
        try:
            async with http.get(url) as response:
                return response.status, await response.text()
        except aiohttp.ClientConnectorError:
            assert time.monotonic() < deadline, f"{url} did not answer in {STARTUP_S:g}s. {why()}"
            await asyncio.sleep(0.2)


def serve_on_a_taken_port(
    *flags: str, env: Mapping[str, str] | None = None
) -> tuple[str, subprocess.CompletedProcess[str]]:
    """`warroom serve FLAGS -- --demo` on a port taken here first (on every address): the
    server fails right after what it says before serving. The port, and how it ended."""
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        done = subprocess.run(
            [sys.executable, "-m", "tui", "serve", "--port", port, *flags, "--", "--demo"],
            capture_output=True, text=True, timeout=30, env=env,
        )  # fmt: skip
    return port, done
