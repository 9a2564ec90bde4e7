"""LiteLLM proxy (``litellm --config``, ``callbacks: ["prometheus"]``) in front of the fleet.

Names, label lists and buckets from BerriAI/litellm
``litellm/types/integrations/prometheus.py`` (``PrometheusMetricLabels``,
``LATENCY_BUCKETS``) and how ``litellm/integrations/prometheus.py``
(``PrometheusLogger``) fills them:

- ``litellm_proxy_total_requests_metric`` (a prometheus-client ``Counter``, so exported
  ``_total``): every client request, ``status_code="200"`` from
  ``async_log_success_event``, ``str(<exception status>)`` (``"429"``, ``"500"``,
  ``"503"``) from ``async_post_call_failure_hook``. ``requested_model`` is the model name
  the client asked for (the ``model_group``).
- ``litellm_proxy_failed_requests_metric``: the same failures again, with
  ``exception_status`` and ``exception_class`` (``_get_exception_class_name``: the
  provider, capitalised, then the class: ``Hosted_vllm.ServiceUnavailableError``; the
  proxy's own rate limiter, ``litellm/proxy/hooks/parallel_request_limiter_v3.py``,
  raises fastapi's ``HTTPException(status_code=429)``).
- ``litellm_request_total_latency_metric``: observed by ``_set_latency_metrics`` from the
  success event only, so it holds successful requests (here the engine's ``e2e``
  histogram: the requests the model answered 200).
- ``litellm_llm_api_time_to_first_token_metric``: streaming requests only; every
  simulated client streams.
- ``get_labels`` appends ``org_id`` and ``org_alias`` to these four families.

Buckets: ``LATENCY_BUCKETS`` since BerriAI/litellm#25527 (2026-04, 18 bounds, 5 ms to
10 min; the 35-bound list before it had 0.5 s steps from 1 s to 10 s). prometheus-client
spells ``le`` with ``floatToGoString`` (``"1.0"``, ``"600.0"``). Re-cut from the engine's
bounds as `tui.sim.stacks.rebucket` says.

Unset labels read ``"None"``: ``prometheus_label_factory`` passes ``None`` and
prometheus-client writes ``str(None)``. Each API key is a LiteLLM virtual key (alias =
the engine's key id, ``hashed_api_key`` = the SHA-256 ``hash_token`` stores) of its
tenant's team. Each model is called by a few keys (`_callers_of`), which share its
answered requests; the 429s follow the engine's rejections by key (`_Rejections`). A
labelled child exists from its first increment, so a series with nothing counted yet is
not written: a key's first 429 on a model starts a new series, which ``rate()`` only
counts from its second sample, so a quiet model's 429 ratio reads lower than the
engine's (as it does on a real proxy, whose rare 429s are spread over many keys).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric

from tui.sim.engine import HistogramSample
from tui.sim.fleet import ApiKey, Fleet, stable_fraction
from tui.sim.stacks.reading import Reading
from tui.sim.stacks.rebucket import cumulative, python_le, whole

INF = float("inf")
LATENCY_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0,
    300.0, 420.0, 600.0, INF,
)  # fmt: skip
"""litellm/types/integrations/prometheus.py ``LATENCY_BUCKETS`` (BerriAI/litellm#25527)."""

# litellm/types/integrations/prometheus.py, PrometheusMetricLabels (+ org_id, org_alias
# from PrometheusMetricLabels.get_labels for these families).
TOTAL_LABELS = [
    "end_user", "hashed_api_key", "api_key_alias", "requested_model", "team", "team_alias",
    "user", "status_code", "user_email", "route", "client_ip", "user_agent", "model_id",
    "org_id", "org_alias",
]  # fmt: skip
FAILED_LABELS = [
    "end_user", "hashed_api_key", "api_key_alias", "requested_model", "team", "team_alias",
    "user", "user_email", "exception_status", "exception_class", "route", "client_ip",
    "user_agent", "model_id", "org_id", "org_alias",
]  # fmt: skip
LATENCY_LABELS = [
    "end_user", "hashed_api_key", "api_key_alias", "requested_model", "team", "team_alias",
    "user", "model", "model_id", "org_id", "org_alias",
]  # fmt: skip
TTFT_LABELS = [
    "model", "hashed_api_key", "api_key_alias", "team", "team_alias", "requested_model",
    "end_user", "user", "model_id", "org_id", "org_alias",
]  # fmt: skip

UNSET = "None"
ROUTE = "/v1/chat/completions"
USER_AGENT = "OpenAI/Python 1.99.9"
PROVIDER = "Hosted_vllm"
"""``hosted_vllm`` (LiteLLM's provider for a vLLM server) as the exception class shows it."""
EXCEPTION_CLASS = {
    "429": "HTTPException",
    "500": f"{PROVIDER}.InternalServerError",
    "503": f"{PROVIDER}.ServiceUnavailableError",
}
FAILED = ("429", "500", "503")
CALLERS_PER_MODEL = 3


@dataclass(frozen=True, slots=True)
class _Caller:
    key: ApiKey
    hashed: str
    team: str
    ip: str


def _callers(fleet: Fleet) -> list[_Caller]:
    out = []
    for i, key in enumerate(fleet.keys):
        token = f"sk-{fleet.seed}-{key.key_id}"
        team = hashlib.sha256(f"team:{key.tenant}".encode()).hexdigest()
        out.append(_Caller(
            key=key,
            hashed=hashlib.sha256(token.encode()).hexdigest(),
            team=f"{team[:8]}-{team[8:12]}-{team[12:16]}-{team[16:20]}-{team[20:32]}",
            ip=f"10.42.{i // 250}.{i % 250 + 2}",
        ))  # fmt: skip
    return out


def _callers_of(fleet: Fleet, model: str, callers: list[_Caller]) -> list[tuple[_Caller, float]]:
    """The `CALLERS_PER_MODEL` keys that call ``model`` and each one's share of its
    traffic: drawn by key weight (``u ** (1 / weight)``, the largest win), fixed per
    fleet. Every key with a latency histogram on every model would be 16 children of
    two 19-bucket histograms per model: a real proxy's cardinality, a slow simulator."""
    scored = sorted(
        callers,
        key=lambda c: -(stable_fraction(fleet.seed, model, c.key.key_id) ** (1 / c.key.weight)),
    )[:CALLERS_PER_MODEL]
    total = sum(c.key.weight for c in scored)
    return [(c, c.key.weight / total) for c in scored]


def _model_id(fleet: Fleet, model: str) -> str:
    """The deployment's ``model_id``: LiteLLM hashes the deployment's params into it."""
    return hashlib.sha256(f"{fleet.seed}:hosted_vllm/{model}".encode()).hexdigest()


@dataclass
class _Split:
    """Cumulative 429s by (model, key) whose row sums are the engine's 429s by model and
    column sums its rejections by key: each scrape's increments are spread in proportion
    (an increment of a model's 429s goes to the keys in the shares of that increment of
    the keys' rejections), so every cell only grows and both margins stay the engine's.

    A counter counts whole requests: ``whole`` holds each cell as whole 429s, a model's
    adding up to its whole 429s, each cell within one of its share (`_settle`). Flooring
    each cell instead would lose up to one request per key and model, most of a quiet
    model's 429s."""

    t: float
    by_model: dict[str, float]
    by_key: dict[str, float]
    cells: dict[tuple[str, str], float] = field(default_factory=dict)
    whole: dict[tuple[str, str], int] = field(default_factory=dict)


class _Rejections:
    """One `_Split` per fleet, shared by the paths that serve it (``/metrics`` and
    ``/metrics/litellm`` read one engine); scrapes run in threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._splits: dict[Fleet, _Split] = {}

    def cells(self, r: Reading) -> dict[tuple[str, str], int]:
        by_model = {name: m.requests.get("429", 0.0) for name, m in r.sample.models.items()}
        by_key = dict(r.sample.rejections)
        weights = {k.key_id: k.weight for k in r.fleet.keys}
        with self._lock:
            split = self._splits.get(r.fleet)
            if split is not None and r.sample.t <= split.t:
                return dict(split.whole)  # this instant (or an older one) is counted
            if split is None or _went_back(split, by_model, by_key):
                split = _Split(r.sample.t, dict.fromkeys(by_model, 0.0), dict.fromkeys(by_key, 0.0))
                if len(self._splits) >= 8:
                    self._splits.pop(next(iter(self._splits)))
                self._splits[r.fleet] = split
            rise_k = {k: by_key[k] - split.by_key.get(k, 0.0) for k in by_key}
            total_k = sum(rise_k.values())
            shares = {k: v / total_k for k, v in rise_k.items()} if total_k > 0 else weights
            for model, now in by_model.items():
                rise = now - split.by_model.get(model, 0.0)
                if rise <= 0:
                    continue
                for key, share in shares.items():
                    split.cells[model, key] = split.cells.get((model, key), 0.0) + rise * share
                _settle(split, model, whole(now), list(shares))
            split.t, split.by_model, split.by_key = r.sample.t, by_model, by_key
            return dict(split.whole)


def _settle(split: _Split, model: str, target: int, keys: list[str]) -> None:
    """Hand out the model's new whole 429s (up to ``target`` in all) to the keys furthest
    below their share: whole units of shortfall first, then one each by largest
    remainder. Cells only grow, and the model's cells add up to ``target``."""
    have = {k: split.whole.get((model, k), 0) for k in keys}
    left = target - sum(have.values())
    if left <= 0:
        return
    short = sorted(((split.cells.get((model, k), 0.0) - have[k], k) for k in keys), reverse=True)
    for gap, key in short:
        units = min(left, max(0, int(gap)))
        have[key] += units
        left -= units
    for _fraction, key in sorted(((g - int(g), k) for g, k in short if g > 0), reverse=True):
        if left <= 0:
            break
        have[key] += 1
        left -= 1
    for key, n in have.items():
        split.whole[model, key] = n


def _went_back(split: _Split, by_model: dict[str, float], by_key: dict[str, float]) -> bool:
    """A reading behind the split's: another engine on the same fleet (a new run)."""
    return any(v < split.by_model.get(k, 0.0) - 1e-6 for k, v in by_model.items()) or any(
        v < split.by_key.get(k, 0.0) - 1e-6 for k, v in by_key.items()
    )


REJECTIONS = _Rejections()


def _cut(h: HistogramSample) -> tuple[list[tuple[str, float]], float]:
    """``h`` at LiteLLM's bounds, not yet floored (each key takes its share first)."""
    counts = cumulative(h, LATENCY_BUCKETS)
    return [(python_le(le), n) for le, n in zip(LATENCY_BUCKETS, counts, strict=True)], h.sum


def emit(r: Reading) -> Iterator[Metric]:
    callers = _callers(r.fleet)
    total = CounterMetricFamily(
        "litellm_proxy_total_requests_metric",
        "Total number of requests made to the proxy server - track number of client side requests",
        labels=TOTAL_LABELS,
    )
    failed = CounterMetricFamily(
        "litellm_proxy_failed_requests_metric",
        "Total number of failed responses from proxy - the client did not get a success "
        "response from litellm proxy",
        labels=FAILED_LABELS,
    )
    latency = HistogramMetricFamily(
        "litellm_request_total_latency_metric", "Total latency (seconds) for a request to LiteLLM",
        labels=LATENCY_LABELS,
    )  # fmt: skip
    ttft = HistogramMetricFamily(
        "litellm_llm_api_time_to_first_token_metric",
        "Time to first token for a models LLM API call", labels=TTFT_LABELS,
    )  # fmt: skip
    rejected = REJECTIONS.cells(r)
    for model in r.fleet.models:
        m = r.sample.models[model.name]
        model_id = _model_id(r.fleet, model.name)
        # Successful requests only (the success event observes it): the engine's e2e.
        ok = _cut(m.e2e)
        first = _cut(m.ttft)
        calling = dict(_callers_of(r.fleet, model.name, callers))
        for c in callers:
            who = {
                "end_user": UNSET, "hashed_api_key": c.hashed, "api_key_alias": c.key.key_id,
                "requested_model": model.name, "team": c.team, "team_alias": c.key.tenant,
                "user": UNSET, "user_email": UNSET, "route": ROUTE, "client_ip": c.ip,
                "user_agent": USER_AGENT, "org_id": UNSET, "org_alias": UNSET,
            }  # fmt: skip
            share = calling.get(c, 0.0)
            for status in ("200", *FAILED):
                if status == "429":
                    # Any key may be turned away from any model: the 429s follow the
                    # engine's rejections by key, callers or not.
                    count = rejected.get((model.name, c.key.key_id), 0)
                else:
                    count = whole(m.requests.get(status, 0.0) * share)
                if count < 1:
                    continue
                # A rate-limited request is turned away before the router picks a
                # deployment: no model_id on it.
                row = {**who, "status_code": status,
                       "model_id": UNSET if status == "429" else model_id}  # fmt: skip
                total.add_metric([row[n] for n in TOTAL_LABELS], count)
                if status in FAILED:
                    row |= {"exception_status": status, "exception_class": EXCEPTION_CLASS[status]}
                    failed.add_metric([row[n] for n in FAILED_LABELS], count)
            if not share:
                continue
            row = {**who, "model": model.name, "model_id": model_id}
            for family, names, (counts, total_sum) in (
                (latency, LATENCY_LABELS, ok), (ttft, TTFT_LABELS, first),
            ):  # fmt: skip
                cut = [(le, whole(n * share)) for le, n in counts]
                if cut[-1][1] >= 1:
                    family.add_metric([row[n] for n in names], cut, total_sum * share)
    yield total
    yield failed
    yield latency
    yield ttft
