"""Per-model health read from Prometheus over its HTTP API.

A refresh sends the fixed query set of `tui.sources.promql` concurrently, all evaluated
at one instant so the figures agree with each other, and folds the results into one
`Snapshot`. Every failure becomes a `SourceError` whose sentence names what went wrong
and what to try, and never carries a credential.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import re
import ssl
from collections import defaultdict
from collections.abc import Awaitable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import unquote, unquote_plus

import httpx

from tui.clock import Clock, WallClock, utc
from tui.config import Config
from tui.domain.canary import Reading, Side
from tui.domain.model import (
    AGGREGATE,
    GpuEvent,
    GpuState,
    HistoryPoint,
    KeyRejections,
    Snapshot,
)
from tui.domain.xid import XidWatch
from tui.errors import ConfigError, SourceError
from tui.sources.dcgm import gpus_from_series, pod_models, pods_by_model, xid_changes
from tui.sources.promql import (
    HEALTH_PART_LABEL,
    HEALTH_QUERY,
    KEY_TENANTS_PART,
    TOTAL_LABEL,
    canary_queries,
    in_flight_query,
)
from tui.sources.queries import QuerySet, build_queries
from tui.sources.stacks import DEFAULT as DEFAULT_STACKS
from tui.sources.stacks import adapter_names, configured
from tui.sources.stacks import build as build_stacks
from tui.sources.stacks.base import MODEL, Stack
from tui.sources.stacks.discover import present, probe_query
from tui.sources.stacks.fold import fold, unsourced

HISTORY_POINTS = 60
"""Points per history plot: enough for a terminal-wide sparkline, cheap to fetch."""
NO_KEY = "(no key)"
"""Shown for 429s the rate limiter could not attribute to an API key."""

REDISCOVER_S = 60.0
"""How long a discovery that found no known stack waits before it looks again."""
GPU_QUERIES = ("gpus", "pod_models")
"""Queries whose failure costs only the GPU grid, never the health panes."""


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Sample:
    labels: dict[str, str]
    value: float | None


@dataclass(frozen=True, slots=True)
class _Series:
    labels: dict[str, str]
    points: list[tuple[float, float | None]]


def _number(text: Any) -> float | None:
    """A sample value as Prometheus writes it (a string); NaN and ±Inf mean no data."""
    value = float(text)
    return value if math.isfinite(value) else None


_SECRET_PARAM = re.compile(r"token|key|secret|passw|pwd|auth|sig|credential|session|^pass$")
"""A query parameter whose value is a secret (``access_token``, ``api_key``, ...)."""


def _query_secrets(url: httpx.URL) -> list[tuple[str, str]]:
    """``(name=value, value)`` of each query parameter of ``url`` whose name looks secret,
    raw as written in the URL; empty values are none."""
    found = []
    for part in url.query.decode("ascii", "replace").split("&"):
        name, eq, value = part.partition("=")
        if eq and value and _SECRET_PARAM.search(unquote_plus(name).lower()):
            found.append((part, value))
    return found


def display_url(url: str) -> str:
    """``url`` without any ``user:password@`` part, and with each secret-looking query
    parameter's value as ``***``, fit to show on screen and in logs."""
    parsed = httpx.URL(url)
    secrets = _query_secrets(parsed)
    if not parsed.userinfo and not secrets:
        return url
    if secrets:
        query = parsed.query.decode("ascii", "replace").split("&")
        hidden = {part for part, _ in secrets}
        query = [p.partition("=")[0] + "=***" if p in hidden else p for p in query]
        parsed = parsed.copy_with(query="&".join(query).encode("ascii"))
    if not parsed.userinfo:
        return str(parsed)
    return str(parsed.copy_with(username=None, password=None)).rstrip("/")


def split_base_url(url: str) -> tuple[httpx.URL, bytes]:
    """The configured URL as its base (scheme, credentials, host, path) and its query,
    raw as written (``access_token=...``); a fragment is never sent, so it is dropped."""
    parsed = httpx.URL(url)
    return parsed.copy_with(query=None, fragment=None), parsed.query


def key_tenants(samples: Iterable[_Sample], key_label: str, tenant_label: str) -> dict[str, str]:
    """Each key's tenant from its series by tenant; a key found under several (a label
    that changed under it) names them busiest first."""
    rates: dict[str, dict[str, float]] = {}
    for sample in samples:
        tenant = sample.labels.get(tenant_label)
        if tenant and sample.value is not None and sample.value > 0:
            owned = rates.setdefault(sample.labels.get(key_label) or NO_KEY, {})
            owned[tenant] = owned.get(tenant, 0.0) + sample.value
    return {
        key: ", ".join(sorted(owned, key=lambda t: (-owned[t], t))) for key, owned in rates.items()
    }


class PrometheusSource:
    """`HealthSource` backed by a Prometheus (or Prometheus-compatible) query API."""

    def __init__(
        self,
        config: Config,
        *,
        clock: Clock | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        settings = config.prometheus
        if settings.url is None:
            raise ConfigError(
                "No Prometheus URL is configured; set PROMETHEUS_URL or [prometheus] url."
            )
        self._config = config
        self._stacks: list[Stack] = []
        self._queries: QuerySet | None = None
        """None until the stacks are known: named in the config, or found in Prometheus
        by the first refresh (`_discover`)."""
        self._discover_again_at: float | None = None
        """When a discovery that found nothing is tried again (clock seconds)."""
        named = configured(config.metrics)
        if named is not None:
            self._use(named)
        self._clock = clock or WallClock()
        self._url = display_url(settings.url)
        self._timeout_s = settings.timeout_s
        self._xids = XidWatch()
        self._gpus_read: tuple[float, list[GpuState], str | None] | None = None
        """When the GPU series were last read (clock seconds), the GPUs and any sentence:
        reused until ``gpu_refresh_s`` has passed."""
        self._model_pods: dict[str, tuple[str, ...]] = {}
        """Each model's pods as the last good reading of the per-pod series named them:
        kept through a failed one, so a mitigation still finds the model's Deployment."""
        self.description = f"prometheus {self._url}"
        self._note: str | None = None
        """One sentence the snapshot carries while discovery found nothing."""

        self._secrets: list[str] = []
        headers: dict[str, str] = {}
        token = self._bearer_token()
        if token:
            self._secrets.append(token)
            headers["Authorization"] = f"Bearer {token}"
        auth: httpx.BasicAuth | None = None
        if settings.username is not None:
            password = settings.password.get_secret_value() if settings.password else ""
            if password:
                self._secrets += [password, _basic_credentials(settings.username, password)]
            auth = httpx.BasicAuth(settings.username, password)
        parsed_url = httpx.URL(settings.url)
        if parsed_url.password:
            # httpx sends these as basic auth: its header encodes the password as base64.
            self._secrets += [
                parsed_url.password,
                _basic_credentials(parsed_url.username, parsed_url.password),
            ]
        for _, value in _query_secrets(parsed_url):
            # A server quoting the request may write the value as sent or decoded.
            self._secrets += [value, unquote_plus(value), unquote(value)]

        # The API path goes after the base path, the base's query (``?access_token=``, as
        # some hosted Prometheus front-ends want it) after the API path, on every request.
        self._base, self._query = split_base_url(settings.url)
        self._client = httpx.AsyncClient(
            base_url=self._base,
            headers=headers,
            auth=auth,
            verify=self._tls(),
            timeout=settings.timeout_s,
            transport=transport,
        )

    def _use(self, stacks: list[Stack]) -> None:
        try:
            self._queries = build_queries(self._config.metrics, self._config.window, stacks)
        except ValueError as exc:
            raise ConfigError(f"The metric profile cannot be used: {exc}.") from None
        self._stacks = stacks
        self._unsourced = unsourced(stacks, self._queries.health)

    @property
    def stacks(self) -> tuple[str, ...]:
        """The adapters in use, by name (empty until discovery has run)."""
        return tuple(s.name for s in self._stacks)

    @property
    def queries(self) -> Mapping[str, str]:
        """The instant queries one refresh sends, by name (none before discovery)."""
        return self._queries.instant if self._queries else {}

    @property
    def range_queries(self) -> Mapping[str, str]:
        """The range queries `history` sends, by name."""
        return self._queries.range if self._queries else {}

    async def instant(
        self, name: str, query: str, at: float
    ) -> list[tuple[dict[str, str], float | None]]:
        """One instant query, named in its error sentence, as (labels, value) pairs at
        ``at``; raises `SourceError` as a refresh does."""
        return [(s.labels, s.value) for s in await self._instant(name, query, at)]

    async def _discover(self, at: float) -> int:
        """Pick the adapters from what Prometheus holds; the queries it took (0 or 1)."""
        if self._queries is not None and (
            self._discover_again_at is None or at < self._discover_again_at
        ):
            return 0
        candidates = build_stacks(adapter_names(), self._config.metrics)
        samples = await self._instant("discovery", probe_query(candidates), at)
        found = present(candidates, ((s.labels, s.value) for s in samples))
        if found:
            self._discover_again_at = None
            self._note = None
        else:
            # An empty Prometheus (just started, or scraping nothing warroom knows): read
            # the default shape meanwhile and look again in a minute.
            found = build_stacks(DEFAULT_STACKS, self._config.metrics)
            self._discover_again_at = at + REDISCOVER_S
            self._note = (
                f"Prometheus at {self._url} holds no series of a stack warroom knows "
                f"({', '.join(adapter_names())}); looking again in {REDISCOVER_S:g}s, "
                "or name them in [metrics] stacks."
            )
        self._use(found)
        return 1

    def _bearer_token(self) -> str | None:
        settings = self._config.prometheus
        if settings.bearer_token is not None:
            return settings.bearer_token.get_secret_value().strip() or None
        if settings.bearer_token_file is None:
            return None
        path = settings.bearer_token_file
        try:
            return path.read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise ConfigError(
                f"The Prometheus bearer token file {path} cannot be read "
                f"({exc.strerror or exc}); check prometheus.bearer_token_file."
            ) from None

    def _tls(self) -> ssl.SSLContext | bool:
        settings = self._config.prometheus
        if settings.insecure_skip_verify:
            return False
        if settings.ca_file is None:
            return True
        try:
            return ssl.create_default_context(cafile=str(settings.ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"The Prometheus CA file {settings.ca_file} cannot be loaded "
                f"({getattr(exc, 'strerror', None) or exc}); check prometheus.ca_file."
            ) from None

    async def refresh(self) -> Snapshot:
        at = self._clock.now()
        discovery = await self._discover(at) if self._config.metrics.discovered else 0
        assert self._queries is not None  # named in the config, or just discovered
        health = self._instant(HEALTH_QUERY, self._queries.instant[HEALTH_QUERY], at)
        # The GPU grid fails on its own: the health panes never wait on it to be right.
        # Both end before a failure is raised, so no request outlives the refresh.
        samples, gpu_reading = await asyncio.gather(health, self._gpus(at), return_exceptions=True)
        if isinstance(samples, BaseException):
            raise samples
        if isinstance(gpu_reading, BaseException):
            raise gpu_reading
        gpus, events, gpu_error, gpu_queries = gpu_reading
        by_part: dict[str, list[_Sample]] = {name: [] for name in self._queries.health}
        for sample in samples:
            part = by_part.get(sample.labels.get(HEALTH_PART_LABEL, ""))
            if part is not None:
                part.append(sample)
        models, aggregate = fold(
            self._stacks,
            {name: [(x.labels, x.value) for x in found] for name, found in by_part.items()},
        )
        return Snapshot(
            taken_at=utc(at),
            source=self.description,
            models=models,
            aggregate=aggregate,
            rate_limited_keys=self._keys(
                by_part["rejected_keys"], by_part.get(KEY_TENANTS_PART, [])
            ),
            error=self._note,
            queries=discovery + 1 + gpu_queries,
            gpus=tuple(gpus),
            events=tuple(events),
            gpu_error=gpu_error,
            model_pods=self._model_pods,
            stack=tuple(s.title for s in self._stacks),
            unsourced=self._unsourced,
        )

    # -- the gateway canary --------------------------------------------------------

    async def canary(self, window_s: float) -> Reading:
        """Canary and baseline over the last ``window_s``; raises `SourceError`."""
        c = self._config.canary
        try:
            queries = canary_queries(self._config.metrics, c, window_s)
        except ValueError as exc:
            raise ConfigError(f"The canary settings cannot be used: {exc}.") from None
        at = self._clock.now()
        names = list(queries)
        results = dict(zip(names, await _gather(
            self._instant(n, queries[n], at) for n in names), strict=True))  # fmt: skip
        status_label = self._config.metrics.status_label
        requests: dict[str, float] = defaultdict(float)
        errors: dict[str, float] = defaultdict(float)
        for sample in results["canary_requests"]:
            revision = sample.labels.get(c.revision_label)
            if revision is None or sample.value is None:
                continue
            requests[revision] += sample.value
            if sample.labels.get(status_label, "").startswith("5"):
                errors[revision] += sample.value
        p99 = {
            r: _times(x.value, self._unit)
            for x in results["canary_p99"]
            if (r := x.labels.get(c.revision_label)) is not None
        }
        versions = {
            r: x.labels.get(c.model_version_label)
            for x in results["canary_versions"]
            if (r := x.labels.get(c.revision_label)) is not None
        }

        def side(revision: str) -> Side | None:
            if revision not in requests:
                return None
            return Side(requests[revision], errors[revision], p99.get(revision),
                        versions.get(revision))  # fmt: skip

        return Reading(canary=side(c.canary_revision), baseline=side(c.stable_revision))

    async def canary_in_flight(self) -> int | None:
        """The canary's in-flight requests now; None when the gauge has no series.
        Raises `SourceError` when Prometheus cannot answer."""
        c = self._config.canary
        samples = await self._instant("in_flight", in_flight_query(c), self._clock.now())
        for sample in samples:
            if (
                sample.labels.get(c.revision_label) == c.canary_revision
                and sample.value is not None
            ):
                return round(sample.value)
        return None

    async def _gpus(self, at: float) -> tuple[list[GpuState], list[GpuEvent], str | None, int]:
        """Every GPU, the XID events since the last reading, a sentence if GPU data is
        missing, and how many queries it took (none between readings, one more on the
        first). A failed reading is tried again on the next refresh."""
        last = self._gpus_read
        if last is not None and at - last[0] < self._config.gpu_refresh_s:
            return last[1], [], last[2], 0
        names = list(GPU_QUERIES)
        assert self._queries is not None
        queries = [self._instant(n, self._queries.instant[n], at) for n in names]
        first = not self._xids.primed
        if first:
            queries.append(self._xid_history(at))
        try:
            answers = await _gather(queries)
        except SourceError as exc:
            return [], [], f"GPU data not read: {exc}", len(queries)
        samples, pods = answers[0], answers[1]
        profile = self._config.metrics
        models = pod_models(((s.labels, s.value) for s in pods), profile)
        self._model_pods = pods_by_model(models)
        gpus = gpus_from_series(((s.labels, s.value) for s in samples), models, profile)
        events: list[GpuEvent] = []
        if first:
            changes, already = xid_changes(
                ((s.labels, s.points) for s in answers[2]),
                models,
                profile,
                start=at - self._config.history_s,
                step=self._xid_step,
            )
            events += self._xids.prime(changes, already)
        events += self._xids.observe(gpus, utc(at))
        error = None
        if not gpus:
            error = (
                f"Prometheus at {self._url} has no {profile.dcgm.util} series; "
                "is dcgm-exporter scraped, or set gpu_source to nvml on a GPU host."
            )
        self._gpus_read = (at, gpus, error)
        return gpus, events, error, len(queries)

    @property
    def _xid_step(self) -> int:
        return max(1, round(self._config.history_s / 240))

    async def _xid_history(self, at: float) -> list[_Series]:
        assert self._queries is not None
        span = self._config.history_s
        return await self._range(
            "xid_history", self._queries.xid_history, at - span, at, self._xid_step
        )

    async def history(self) -> dict[str, list[HistoryPoint]]:
        if self._queries is None:
            return {}  # the first refresh has not found the stacks yet
        end = self._clock.now()
        span = self._config.history_s
        # Finer than the rate window adds points that only repeat each other.
        step = max(1, round(max(span / HISTORY_POINTS, self._config.window_s / 10)))
        names = list(self._queries.range)
        results = await _gather(
            self._range(name, self._queries.range[name], end - span, end, step) for name in names
        )
        by_name = dict(zip(names, results, strict=True))
        model_label = MODEL
        rows: dict[str, dict[float, dict[str, float | None]]] = defaultdict(
            lambda: defaultdict(dict)
        )
        fields = {
            "p99": "p99_s",
            "error_5xx": "error_5xx_ratio",
            "rate_429": "rate_429_ratio",
        }
        for name, field in fields.items():
            for series in by_name.get(name, []):
                model = series.labels.get(model_label)
                if model is None:
                    continue
                for at, value in series.points:
                    rows[model][at][field] = value
            for series in by_name.get(f"{name}_all", []):
                for at, value in series.points:
                    rows[AGGREGATE][at][field] = value
        return {
            model: [
                HistoryPoint(
                    at=at,
                    p99_s=values.get("p99_s"),
                    error_5xx_ratio=values.get("error_5xx_ratio"),
                    rate_429_ratio=values.get("rate_429_ratio"),
                )
                for at, values in sorted(points.items())
            ]
            for model, points in rows.items()
        }

    async def aclose(self) -> None:
        await self._client.aclose()

    @property
    def _unit(self) -> float:
        return self._config.metrics.latency_unit_s

    # -- folding results into domain types -------------------------------------------

    def _keys(
        self, samples: list[_Sample], tenant_samples: list[_Sample]
    ) -> tuple[KeyRejections, ...]:
        label = self._config.metrics.api_key_label
        total: float | None = None
        keys: list[tuple[str, float]] = []
        for sample in samples:
            if TOTAL_LABEL in sample.labels:
                total = sample.value
            elif sample.value is not None and sample.value > 0:
                keys.append((sample.labels.get(label) or NO_KEY, sample.value))
        # The total comes from the same evaluation; without it, the keys shown are all
        # there is to share between.
        denominator = total if total else sum(rate for _, rate in keys)
        keys.sort(key=lambda kv: (-kv[1], kv[0]))
        tenants = key_tenants(tenant_samples, label, self._config.metrics.tenant_label)
        return tuple(
            KeyRejections(
                api_key=key,
                rate=rate,
                share=rate / denominator if denominator else 0.0,
                tenant=tenants.get(key),
            )
            for key, rate in keys
        )

    # -- HTTP ------------------------------------------------------------------------

    async def _instant(self, name: str, query: str, at: float) -> list[_Sample]:
        data = await self._call(name, "/api/v1/query", {"query": query, "time": _ts(at)})
        try:
            return [
                _Sample(_labels(item), _number(item["value"][1]))
                for item in self._result(name, data, "vector")
            ]
        except (KeyError, IndexError, TypeError, ValueError):
            raise self._malformed(name, "vector") from None

    async def _range(
        self, name: str, query: str, start: float, end: float, step: int
    ) -> list[_Series]:
        form = {"query": query, "start": _ts(start), "end": _ts(end), "step": str(step)}
        data = await self._call(name, "/api/v1/query_range", form)
        try:
            return [
                _Series(_labels(item), [(float(t), _number(v)) for t, v in item["values"]])
                for item in self._result(name, data, "matrix")
            ]
        except (KeyError, IndexError, TypeError, ValueError):
            raise self._malformed(name, "matrix") from None

    def _result(self, name: str, data: dict[str, Any], expected: str) -> list[Any]:
        kind = data.get("resultType")
        result = data.get("result")
        if kind != expected:
            raise self._error(
                f"Prometheus at {self._url} answered the {name} query with a "
                f"{kind or 'result of unknown type'} instead of a {expected}; "
                "check that the URL points at a Prometheus-compatible query API."
            )
        if not isinstance(result, list):
            raise self._malformed(name, expected)
        return result

    def _malformed(self, name: str, expected: str) -> SourceError:
        return self._error(
            f"Prometheus at {self._url} answered the {name} query with a malformed "
            f"{expected}; check that the URL points at a Prometheus-compatible query API."
        )

    async def _call(self, name: str, path: str, form: dict[str, str]) -> dict[str, Any]:
        # Prometheus gives up at the same deadline as the client, so a slow query does
        # not keep running on the server after nobody waits for it.
        form = {**form, "timeout": f"{self._timeout_s:g}"}
        try:
            response = await self._client.post(self.api_url(path), data=form)
        except httpx.TimeoutException:
            raise self._error(
                f"Prometheus at {self._url} did not answer the {name} query within "
                f"{self._timeout_s:g}s; raise prometheus.timeout_s or shorten the window."
            ) from None
        except httpx.ConnectError as exc:
            raise self._error(self._connect_failure(exc)) from None
        except httpx.HTTPError as exc:
            raise self._error(
                f"The request to Prometheus at {self._url} for the {name} query failed "
                f"({type(exc).__name__}: {exc}); check the URL and the network."
            ) from None

        status = response.status_code
        if status in (401, 403):
            raise self._error(
                f"Prometheus at {self._url} refused the credentials (HTTP {status}); "
                "check the bearer token or username and password in the config."
            )
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if isinstance(body, dict) and body.get("status") == "error":
            error_type = body.get("errorType") or "error"
            error = str(body.get("error") or "no detail given").rstrip(".")
            raise self._error(
                f"Prometheus at {self._url} could not evaluate the {name} query "
                f"(HTTP {status}, {error_type}: {error}); check the metric profile, "
                "the window and Prometheus's query limits."
            )
        if status >= 400:
            raise self._error(
                f"Prometheus at {self._url} answered HTTP {status} to the {name} query; "
                "check that the URL points at Prometheus and that it is healthy."
            )
        if body is None:
            kind = response.headers.get("content-type", "unknown type")
            if "json" in kind.lower():
                # Labelled JSON but unreadable: an answer cut short or rewritten on the
                # way, not a wrong URL or a login page.
                raise self._error(
                    f"Prometheus at {self._url} answered the {name} query with JSON that "
                    "does not parse (cut short or garbled); check any proxy or load "
                    "balancer between warroom and Prometheus."
                )
            raise self._error(
                f"Prometheus at {self._url} answered the {name} query with something "
                f"that is not JSON ({kind}); check that the URL points at Prometheus "
                "and not at a login page or proxy."
            )
        data = body.get("data") if isinstance(body, dict) else None
        if (
            not isinstance(body, dict)
            or body.get("status") != "success"
            or not isinstance(data, dict)
        ):
            raise self._error(
                f"Prometheus at {self._url} answered the {name} query with JSON that is "
                "not a query result; check that the URL points at a Prometheus query API."
            )
        return data

    def _connect_failure(self, exc: httpx.ConnectError) -> str:
        for cause in _causes(exc):
            if isinstance(cause, ssl.SSLError):
                return (
                    f"TLS with Prometheus at {self._url} failed ({_reason(cause)}); "
                    "set prometheus.ca_file to its CA, or insecure_skip_verify."
                )
            if isinstance(cause, ConnectionRefusedError):
                break
        else:
            if "refused" not in str(exc).lower():
                return (
                    f"Cannot connect to Prometheus at {self._url} ({_reason(exc)}); "
                    "check PROMETHEUS_URL and the network."
                )
        return (
            f"Prometheus at {self._url} refused the connection; "
            "is it running and is PROMETHEUS_URL right?"
        )

    def api_url(self, path: str) -> httpx.URL:
        """``path`` (``/api/v1/query``) under the base URL's path, with its query as the
        user wrote it: a query parameter is part of every request, never of the path."""
        raw = self._base.raw_path.rstrip(b"/") + path.encode("ascii")
        return self._base.copy_with(raw_path=raw + (b"?" + self._query if self._query else b""))

    def _error(self, sentence: str) -> SourceError:
        # Longest first: a password can be part of the base64 text that also holds it.
        for secret in sorted(self._secrets, key=len, reverse=True):
            sentence = sentence.replace(secret, "***")
        # Text quoted from the server may span lines; the sentence must stay on one.
        return SourceError(" ".join(sentence.split()))


async def _gather(calls: Iterable[Awaitable[T]]) -> list[T]:
    """Run ``calls`` concurrently; raise the first failure (in query order) once all end.

    Waiting for all keeps no request running behind the caller's back.
    """
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return cast(list[T], results)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        yield cause
        cause = cause.__cause__ or cause.__context__


def _basic_credentials(username: str, password: str) -> str:
    """The base64 text of a basic-auth header, as httpx writes it: a secret as well."""
    return base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def _labels(item: dict[str, Any]) -> dict[str, str]:
    labels = item["metric"]
    if not isinstance(labels, dict):
        raise TypeError("labels are not an object")
    return labels


def _times(value: float | None, unit: float) -> float | None:
    return None if value is None else value * unit


def _ts(unix: float) -> str:
    return f"{unix:.3f}"


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.rstrip(".")
