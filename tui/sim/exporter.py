"""``warroom simulate``: the simulated fleet's ``/metrics``, for a real Prometheus to scrape.

One endpoint speaks for the whole fleet: the gateway, every vLLM engine and every
dcgm-exporter, under their real metric and label names. The body is always the text
format 0.0.4, whatever the scraper asks for: prometheus-client's OpenMetrics output
would make Prometheus 2.42 store ``vllm:`` names as ``vllm_`` (see FIELD-NOTES).
"""

from __future__ import annotations

import math
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any

from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from tui.sim.engine import Engine, GpuGauges, HistogramSample, PodGauges
from tui.sim.fleet import GPU_PRODUCT, NAMESPACE, build_fleet
from tui.sim.rollout import CANARY, STABLE
from tui.sim.scenarios import scenario as find_scenario

XID_MESSAGES = {
    0: "",
    31: "GPU memory page fault",
    43: "GPU stopped processing",
    79: "GPU has fallen off the bus",
}
POD_GAUGES: tuple[tuple[str, str, Callable[[PodGauges], float]], ...] = (
    ("vllm:num_requests_waiting", "Requests waiting to be processed.", lambda p: round(p.waiting)),
    ("vllm:num_requests_running", "Requests running on the GPU.", lambda p: p.running),
    ("vllm:kv_cache_usage_perc", "KV-cache usage, 1 means 100 percent.",
     lambda p: round(p.kv_cache_usage, 4)),
)  # fmt: skip
DCGM_GAUGES: tuple[tuple[str, str, Callable[[GpuGauges], float]], ...] = (
    ("DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %).", lambda g: round(g.util_ratio * 100)),
    ("DCGM_FI_DEV_FB_USED", "Framebuffer memory used (in MiB).", lambda g: g.fb_used_mib),
    ("DCGM_FI_DEV_FB_FREE", "Framebuffer memory free (in MiB).", lambda g: g.fb_free_mib),
    ("DCGM_FI_DEV_GPU_TEMP", "GPU temperature (in C).", lambda g: g.temp_c),
    ("DCGM_FI_DEV_POWER_USAGE", "Power draw (in W).", lambda g: g.power_w),
)
DCGM_LABELS = [
    "gpu",
    "UUID",
    "device",
    "pci_bus_id",
    "modelName",
    "Hostname",
    "container",
    "namespace",
    "pod",
]


def _buckets(h: HistogramSample) -> list[tuple[str, float]]:
    # Exported counts are whole requests, as a real counter's are; flooring keeps the
    # buckets cumulative because the engine's are.
    return [
        ("+Inf" if math.isinf(le) else f"{le:g}", math.floor(c))
        for le, c in zip(h.bounds, h.counts, strict=True)
    ]


class FleetCollector(Collector):
    """Reads the engine at the simulated time of each scrape."""

    def __init__(self, engine: Engine, now_s: Callable[[], float]) -> None:
        self._engine = engine
        self._now_s = now_s
        self._lock = threading.Lock()

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            self._engine.advance(self._now_s())
            sample = self._engine.sample()
            pods = self._engine.pods()
            gpus = self._engine.gpus()
            in_flight = self._engine.in_flight()
        fleet = self._engine.fleet

        requests = CounterMetricFamily(
            "http_requests", "Requests answered by the inference gateway.",
            labels=["model", "status_code", "revision"],
        )  # fmt: skip
        latency = HistogramMetricFamily(
            "http_request_duration_seconds",
            "Gateway request duration, every status code.",
            labels=["model", "revision"],
        )
        ttft = HistogramMetricFamily(
            "vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.",
            labels=["model_name", "engine"],
        )  # fmt: skip
        e2e = HistogramMetricFamily(
            "vllm:e2e_request_latency_seconds", "Histogram of end to end request latency.",
            labels=["model_name", "engine"],
        )  # fmt: skip
        # The gateway's series carry its revision (a pod label in a real cluster), so a
        # canary can be compared with the stable build serving the same models.
        by_revision = sample.revisions or {STABLE: sample.models}
        for revision, models in by_revision.items():
            for name, m in models.items():
                for status, count in m.requests.items():
                    requests.add_metric([name, status, revision], math.floor(count))
                latency.add_metric([name, revision], _buckets(m.latency), m.latency.sum)
        for name, m in sample.models.items():
            ttft.add_metric([name, "0"], _buckets(m.ttft), m.ttft.sum)
            e2e.add_metric([name, "0"], _buckets(m.e2e), m.e2e.sum)
        yield from (requests, latency, ttft, e2e)
        yield from _gateway_gauges(self._engine, in_flight)

        rejections = CounterMetricFamily(
            "gateway_ratelimit_rejections", "Requests the gateway's rate limiter answered 429.",
            labels=["api_key_id", "tenant"],
        )  # fmt: skip
        for key in fleet.keys:
            rejections.add_metric(
                [key.key_id, key.tenant], math.floor(sample.rejections[key.key_id])
            )
        yield rejections

        pod_labels = ["model_name", "engine", "namespace", "pod"]
        yield from _gauges(
            POD_GAUGES, pod_labels, [([p.model, "0", NAMESPACE, p.pod], p) for p in pods]
        )

        rows = [
            ([str(g.gpu.index), g.gpu.uuid, g.gpu.device, g.gpu.pci_bus_id, GPU_PRODUCT,
              g.gpu.node, "vllm", NAMESPACE, g.gpu.pod], g)
            for g in gpus
        ]  # fmt: skip
        yield from _gauges(DCGM_GAUGES, DCGM_LABELS, rows)
        xid = GaugeMetricFamily(
            "DCGM_FI_DEV_XID_ERRORS", "Value of the last XID error encountered.",
            labels=[*DCGM_LABELS, "err_code", "err_msg"],
        )  # fmt: skip
        for labels, g in rows:
            xid.add_metric([*labels, str(g.xid), XID_MESSAGES.get(g.xid, "")], g.xid)
        yield xid


def _gateway_gauges(engine: Engine, in_flight: dict[str, float]) -> list[GaugeMetricFamily]:
    """The gateway's in-flight gauge and build info per revision (canary scenarios)."""
    traits = engine.scenario.canary
    if traits is None:
        return []
    flying = GaugeMetricFamily(
        "gateway_requests_in_flight", "Requests the gateway is serving now.",
        labels=["revision"],
    )  # fmt: skip
    for revision, n in in_flight.items():
        flying.add_metric([revision], round(n))
    info = GaugeMetricFamily(
        "gateway_build_info", "The gateway build and the model version behind it.",
        labels=["revision", "version", "model_version"],
    )  # fmt: skip
    info.add_metric([STABLE, traits.baseline_version, traits.baseline_model_version], 1)
    info.add_metric([CANARY, traits.version, traits.model_version], 1)
    return [flying, info]


def _gauges(
    specs: tuple[tuple[str, str, Callable[[Any], float]], ...],
    labels: list[str],
    rows: Iterable[tuple[list[str], Any]],
) -> list[GaugeMetricFamily]:
    """One gauge family per (name, help, value of a row) spec, one sample per row."""
    families = [GaugeMetricFamily(name, text, labels=labels) for name, text, _ in specs]
    for values, row in rows:
        for family, (_, _, value) in zip(families, specs, strict=True):
            family.add_metric(values, value(row))
    return families


class _Handler(BaseHTTPRequestHandler):
    registry: CollectorRegistry

    def do_GET(self) -> None:
        if self.path.split("?")[0] != "/metrics":
            body = b"warroom simulator: metrics at /metrics\n"
            self._send(404 if self.path != "/" else 200, "text/plain; charset=utf-8", body)
            return
        self._send(200, CONTENT_TYPE_PLAIN_0_0_4, generate_latest(self.registry))

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
) -> tuple[ThreadingHTTPServer, Engine]:
    """A server (not yet serving) for the fleet; ValueError for a bad scenario, size or
    canary weight.

    ``canary_weight``: percent of the gateway's traffic the canary serves from ``at_s``
    on (canary scenarios only; they otherwise start at 0 %, waiting for a driver).
    """
    if not 0 <= canary_weight <= 100:
        raise ValueError(f"The canary weight must be 0 to 100 %, not {canary_weight}.")
    fleet = build_fleet(models, gpus, seed)
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
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FleetCollector(engine, lambda: at_s + (time.monotonic() - started) * speed))
    handler = type("FleetHandler", (_Handler,), {"registry": registry})
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
        f"{len(fleet.gpus)} GPUs at http://{host}:{port}/metrics",
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
