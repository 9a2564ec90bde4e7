"""A Prometheus for `warroom discover` that answers from canned vectors: the stacks probe
with series counts per adapter, the checks with the series a test gives, through
httpx's MockTransport behind the real `PrometheusSource`.

Imported as ``canned_prometheus``: pytest puts ``tests/`` on ``sys.path``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import httpx

from tui.cli.discover import Discovery, discover
from tui.config import Config
from tui.sources.stacks.discover import CHECK_LABEL, PROBE_LABEL

URL = "http://prom.test:9090"
Series = tuple[dict[str, str], float]
"""A series' labels and its value."""


@dataclass
class Canned:
    """Answers the probe with ``found`` (adapter -> series count) and the checks with
    ``checks`` (part -> series); records every query it was sent."""

    found: dict[str, int]
    checks: dict[str, list[Series]]
    checks_status: int = 200
    sent: list[str] | None = None

    def handler(self, request: httpx.Request) -> httpx.Response:
        query = parse_qs(request.content.decode())["query"][0]
        assert self.sent is not None
        self.sent.append(query)
        if CHECK_LABEL in query:
            if self.checks_status != 200:
                return httpx.Response(
                    self.checks_status,
                    json={"status": "error", "errorType": "execution", "error": "too many"},
                )
            result = [
                _item({**labels, CHECK_LABEL: part}, value)
                for part, series in self.checks.items()
                for labels, value in series
            ]
        else:
            result = [_item({PROBE_LABEL: n}, c) for n, c in self.found.items()]
        return httpx.Response(
            200, json={"status": "success", "data": {"resultType": "vector", "result": result}}
        )


def _item(labels: dict[str, str], value: float) -> dict[str, Any]:
    return {"metric": labels, "value": [1700000000.0, f"{value:g}"]}


def config(**metrics: Any) -> Config:
    data: dict[str, Any] = {"prometheus": {"url": URL}}
    if metrics:
        data["metrics"] = metrics
    return Config.model_validate(data)


def healthy_checks() -> dict[str, list[Series]]:
    return {
        "names/generic": [({"__name__": "http_requests_total"}, 48)],
        "names/vllm": [({"__name__": "vllm:num_requests_running"}, 12)],
        "buckets/generic/latency": [
            ({"__name__": "http_request_duration_seconds_bucket", "le": le}, 12)
            for le in ("0.5", "1", "5", "60", "+Inf")
        ],
        "buckets/vllm/ttft": [
            ({"__name__": "vllm:time_to_first_token_seconds_bucket", "le": le}, 12)
            for le in ("0.5", "1", "10", "+Inf")
        ],
        "gpus": [({}, 48)],
    }


def run(canned: Canned, cfg: Config | None = None) -> Discovery:
    canned.sent = []
    transport = httpx.MockTransport(canned.handler)
    return asyncio.run(discover(cfg or config(), transport=transport, at=1700000000.0))
