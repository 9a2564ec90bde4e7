"""``warroom simulate``: the simulated fleet's ``/metrics``, for a real Prometheus to scrape.

One endpoint speaks for the whole fleet: the gateway, every model server and every
dcgm-exporter, under the real metric and label names of the stacks chosen
(`tui.sim.stacks`); ``/metrics/<stack>`` serves one stack alone, for a scrape job of its
own. The body is always the text format 0.0.4, whatever the scraper asks for:
prometheus-client's OpenMetrics output would make Prometheus 2.42 store ``vllm:`` names
as ``vllm_`` (see FIELD-NOTES); a stack that wants the underscore spelling writes it.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType

from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from tui.sim.engine import Engine
from tui.sim.fleet import build_fleet
from tui.sim.scenarios import scenario as find_scenario
from tui.sim.stacks import DEFAULT_STACK, Reading, emitters
from tui.sim.stacks.serving import portion


class FleetCollector(Collector):
    """Reads the engine at the simulated time of each scrape and writes what the chosen
    stacks export. Several collectors may share one engine (one per path): the lock
    keeps a scrape's reading whole, and advancing to a time already reached is free."""

    def __init__(
        self,
        engine: Engine,
        now_s: Callable[[], float],
        stacks: tuple[str, ...],
        lock: threading.Lock,
        served: tuple[str, ...] = (),
    ) -> None:
        self._engine = engine
        self._now_s = now_s
        found = emitters()
        self._emitters = [(name, found[name]) for name in stacks]
        self._lock = lock
        self._served = served or stacks
        """Every stack the simulator serves (not only this path's): several model servers
        split the fleet between them (`tui.sim.stacks.serving.portion`)."""

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            self._engine.advance(self._now_s())
            reading = Reading(
                fleet=self._engine.fleet,
                scenario=self._engine.scenario,
                sample=self._engine.sample(),
                pods=self._engine.pods(),
                gpus=self._engine.gpus(),
                in_flight=self._engine.in_flight(),
            )
        for name, emit in self._emitters:
            yield from emit(portion(reading, name, self._served))


class _Handler(BaseHTTPRequestHandler):
    registries: dict[str, CollectorRegistry]
    """By path: ``/metrics`` (every stack) and ``/metrics/<stack>`` (that one alone)."""

    def do_GET(self) -> None:
        registry = self.registries.get(self.path.split("?")[0].rstrip("/"))
        if registry is None:
            paths = " ".join(self.registries)
            body = f"warroom simulator: metrics at {paths}\n".encode()
            self._send(404 if self.path != "/" else 200, "text/plain; charset=utf-8", body)
            return
        self._send(200, CONTENT_TYPE_PLAIN_0_0_4, generate_latest(registry))

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the scraper gave up (its scrape timeout): nothing to tell anyone

    def log_message(self, format: str, *args: object) -> None:
        pass  # a scrape every second would bury everything else on stderr


def make_server(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    scenario: str = "healthy",
    models: int = 12,
    gpus: int | None = None,
    seed: int = 7,
    at_s: float = 0.0,
    speed: float = 1.0,
    canary_weight: int = 0,
    stack: tuple[str, ...] = DEFAULT_STACK,
    names: tuple[str, ...] = (),
) -> tuple[ThreadingHTTPServer, Engine]:
    """A server (not yet serving) for the fleet; ValueError for a bad scenario, size,
    canary weight or model name.

    ``canary_weight``: percent of the gateway's traffic the canary serves from ``at_s``
    on (canary scenarios only; they otherwise start at 0 %, waiting for a driver).
    ``names``: the first models' names (`build_fleet`), written into every label that
    carries a model, escaped by prometheus-client as the text format wants (backslash,
    double quote, newline); everything else goes through as it is. Checked against
    Prometheus 2.42: it stores NUL, every other C0 and C1 control, DEL, bidi and
    zero-width characters, U+2028 and values of 200 kB as written, and fails the whole
    scrape (``up`` 0, "invalid UTF-8 label value") only on bytes that are not UTF-8,
    which a str cannot produce here.
    """
    if not 0 <= canary_weight <= 100:
        raise ValueError(f"The canary weight must be 0 to 100 %, not {canary_weight}.")
    fleet = build_fleet(models, gpus, seed, names)
    engine = Engine(fleet, find_scenario(scenario), start_s=at_s)
    if canary_weight:
        if engine.rollout is None:
            raise ValueError(
                f"The {scenario} scenario has no gateway canary to send {canary_weight} % "
                "of traffic to; pick a canary scenario (warroom scenarios)."
            )
        # The canary's Deployment already has its replicas (`Rollout`'s default): only
        # the route changes.
        engine.rollout.set_weight(at_s, canary_weight)
    started = time.monotonic()
    lock = threading.Lock()

    def now_s() -> float:
        return at_s + (time.monotonic() - started) * speed

    def registry(names: tuple[str, ...]) -> CollectorRegistry:
        found = CollectorRegistry(auto_describe=False)
        found.register(FleetCollector(engine, now_s, names, lock, stack))
        return found

    registries = {"/metrics": registry(stack)}
    registries.update({f"/metrics/{name}": registry((name,)) for name in stack})
    handler = type("FleetHandler", (_Handler,), {"registries": registries})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server, engine


def serve(**options: object) -> None:
    """Serve until interrupted, printing where, so a script can read the port."""
    server, engine = make_server(**options)  # type: ignore[arg-type]
    host, port = server.server_address[:2]
    fleet = engine.fleet
    print(
        f"warroom simulate: {engine.scenario.name}, {len(fleet.models)} models, "
        f"{len(fleet.gpus)} GPUs at http://{host}:{port}/metrics "
        f"(stack {','.join(options.get('stack') or DEFAULT_STACK)})",
        flush=True,
    )

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        sys.stdout.flush()
