"""A local HTTP proxy in front of a real Prometheus that can be switched, while the
cockpit runs, into the ways a Prometheus (or what sits in front of it) goes wrong.

It forwards the query API untouched until told otherwise, then: stops listening (the
connection is refused), holds every answer, answers an HTTP error with a text body,
cuts the JSON in half, drops series from a valid answer, or rewrites sample values to
NaN and ±Inf. A fault may hit only the queries a predicate picks (``only``), so one
query can fail while the rest of the refresh is answered. The URL stays the same
through every switch, as a Prometheus behind a fixed address would.

The standard library's ``ThreadingHTTPServer`` on 127.0.0.1 with HTTP/1.0: every request
is its own connection, so a refused listener is felt by the very next request.
"""

from __future__ import annotations

import enum
import http.client
import itertools
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

NON_FINITE = ("NaN", "+Inf", "-Inf")
"""How Prometheus writes non-finite sample values in its JSON (as strings)."""

Labels = Mapping[str, str]


class Mode(enum.Enum):
    PASS = "pass"
    REFUSED = "refused"
    LATENCY = "latency"
    STATUS = "status"
    MALFORMED_JSON = "malformed-json"
    DROP_SERIES = "drop-series"
    NON_FINITE = "nan-inf"


@dataclass(frozen=True)
class Fault:
    """What the proxy does to the requests ``only`` picks (every request when None)."""

    mode: Mode = Mode.PASS
    only: Callable[[str], bool] | None = None
    """Picks by PromQL text; other queries are forwarded untouched."""
    delay_s: float = 0.0
    status: int = 500
    body: str = ""
    drop: Callable[[Labels], bool] | None = None
    """For `Mode.DROP_SERIES`: which series (by labels) leave the answer."""
    series: Callable[[Labels], bool] | None = None
    """For `Mode.NON_FINITE`: which series (by labels) are rewritten; every one when None."""

    def hits(self, query: str) -> bool:
        return self.only is None or self.only(query)


@dataclass
class Exchange:
    """One request the proxy saw, and what it did with it: logged as it arrives, so a
    request still held is already in the log."""

    path: str
    query: str
    mode: Mode
    status: int | None = None
    """The status answered, set just before it is sent; None while held."""
    delivered: bool | None = None
    """False when the client was gone before the answer (it gave up waiting)."""


class _Listener(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64
    """A refresh opens about ten connections at once: the default backlog of 5 drops a
    SYN, and the client's retry would cost a second."""


@dataclass
class FaultyProxy:
    """Forwards to ``upstream`` (``http://host:port``); `close` stops it."""

    upstream: str
    exchanges: list[Exchange] = field(default_factory=list)
    _fault: Fault = field(default_factory=Fault)
    _port: int = 0
    _server: _Listener | None = None
    _thread: threading.Thread | None = None
    _release: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        parts = urlsplit(self.upstream)
        if parts.scheme != "http" or parts.hostname is None or parts.port is None:
            raise ValueError(f"{self.upstream!r} is not an http://host:port URL")
        self._upstream = (parts.hostname, parts.port)
        self._listen()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    # -- switching modes -------------------------------------------------------------

    def pass_through(self) -> None:
        self._switch(Fault())

    def refuse(self) -> None:
        """Stop listening: connections to the URL are refused until the next switch."""
        self._switch(Fault(Mode.REFUSED))

    def delay(self, seconds: float, *, only: Callable[[str], bool] | None = None) -> None:
        """Hold each answer ``seconds`` before forwarding the request."""
        self._switch(Fault(Mode.LATENCY, only, delay_s=seconds))

    def fail(self, status: int, body: str, *, only: Callable[[str], bool] | None = None) -> None:
        """Answer ``status`` with ``body`` as plain text, without asking Prometheus."""
        self._switch(Fault(Mode.STATUS, only, status=status, body=body))

    def truncate_json(self, *, only: Callable[[str], bool] | None = None) -> None:
        """Forward, then send back the first half of Prometheus's JSON (a well-formed
        HTTP answer whose body does not parse)."""
        self._switch(Fault(Mode.MALFORMED_JSON, only))

    def drop_series(
        self, where: Callable[[Labels], bool], *, only: Callable[[str], bool] | None = None
    ) -> None:
        """Forward, then remove the series ``where`` picks: still a valid answer."""
        self._switch(Fault(Mode.DROP_SERIES, only, drop=where))

    def non_finite(
        self,
        *,
        only: Callable[[str], bool] | None = None,
        where: Callable[[Labels], bool] | None = None,
    ) -> None:
        """Forward, then rewrite every sample value (of the series ``where`` picks) to
        NaN, +Inf and -Inf in turn."""
        self._switch(Fault(Mode.NON_FINITE, only, series=where))

    def forget(self) -> None:
        with self._lock:
            self.exchanges.clear()

    def seen(self) -> list[Exchange]:
        with self._lock:
            return list(self.exchanges)

    def faulted(self) -> list[Exchange]:
        """Exchanges a fault was applied to (not forwarded untouched)."""
        with self._lock:
            return [e for e in self.exchanges if e.mode is not Mode.PASS]

    def _switch(self, fault: Fault) -> None:
        # Answers held by a previous delay go on at once rather than outliving the mode.
        self._release.set()
        self._release = threading.Event()
        self._fault = fault
        if fault.mode is Mode.REFUSED:
            self._stop_listening()
        elif self._server is None:
            self._listen()

    # -- the listener ----------------------------------------------------------------

    def _listen(self) -> None:
        """Bind (the same port once one was picked, so the URL never changes)."""
        server = _Listener(("127.0.0.1", self._port), self._handler())
        self._port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.01,), name="faulty-proxy", daemon=True
        )
        self._thread.start()

    def _stop_listening(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def close(self) -> None:
        self._release.set()
        self._stop_listening()

    def __enter__(self) -> FaultyProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- one request -----------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                proxy._serve(self, b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                proxy._serve(self, self.rfile.read(length))

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def _serve(self, request: BaseHTTPRequestHandler, body: bytes) -> None:
        fault, release = self._fault, self._release
        query = _query_of(request.path, body)
        mode = fault.mode if fault.hits(query) else Mode.PASS
        exchange = Exchange(request.path.split("?")[0], query, mode)
        with self._lock:
            self.exchanges.append(exchange)
        if mode is Mode.LATENCY:
            release.wait(fault.delay_s)
        if mode is Mode.STATUS:
            status, content_type, answer = fault.status, "text/plain; charset=utf-8", fault.body
            reply = answer.encode()
        else:
            status, content_type, reply = self._forward(request, body)
            reply = _rewrite(mode, fault, reply)
        exchange.status = status
        try:
            request.send_response(status)
            request.send_header("Content-Type", content_type)
            request.send_header("Content-Length", str(len(reply)))
            request.end_headers()
            request.wfile.write(reply)
        except OSError:
            exchange.delivered = False  # the client gave up waiting (the timeout case)
        else:
            exchange.delivered = True

    def _forward(self, request: BaseHTTPRequestHandler, body: bytes) -> tuple[int, str, bytes]:
        # Only what the query API needs: Accept-Encoding stays behind so the body comes
        # back as plain JSON the faults can rewrite.
        headers = {
            name: value
            for name in ("Content-Type", "Authorization")
            if (value := request.headers.get(name)) is not None
        }
        connection = http.client.HTTPConnection(*self._upstream, timeout=30)
        try:
            connection.request(request.command, request.path, body or None, headers)
            response = connection.getresponse()
            content_type = response.getheader("Content-Type") or "application/octet-stream"
            return response.status, content_type, response.read()
        finally:
            connection.close()


def _query_of(path: str, body: bytes) -> str:
    form = parse_qs(body.decode("utf-8", "replace")) if body else {}
    if not form:
        form = parse_qs(urlsplit(path).query)
    return (form.get("query") or [""])[0]


def _rewrite(mode: Mode, fault: Fault, reply: bytes) -> bytes:
    if mode is Mode.MALFORMED_JSON:
        return reply[: len(reply) // 2]
    if mode not in (Mode.DROP_SERIES, Mode.NON_FINITE):
        return reply
    answer = json.loads(reply)
    result = answer.get("data", {}).get("result")
    if not isinstance(result, list):
        return reply  # an error answer: nothing to rewrite
    if mode is Mode.DROP_SERIES:
        assert fault.drop is not None
        answer["data"]["result"] = [s for s in result if not fault.drop(s["metric"])]
    else:
        values = itertools.cycle(NON_FINITE)
        picked = [s for s in result if fault.series is None or fault.series(s["metric"])]
        for point in _points(picked):
            point[1] = next(values)
    return json.dumps(answer).encode()


def _points(result: list[dict[str, Any]]) -> Iterator[list[Any]]:
    """Every ``[time, "value"]`` pair of a vector (``value``) or matrix (``values``)."""
    for series in result:
        if "value" in series:
            yield series["value"]
        yield from series.get("values", ())
