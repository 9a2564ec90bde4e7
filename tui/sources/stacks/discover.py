"""Which stacks a Prometheus holds: one bounded probe query, no configuration.

Each adapter names the series that betray it (`Stack.detect`); the probe counts them
all in one instant query, each count tagged with its adapter, so discovery costs one
request however many adapters there are and reads a number per adapter, not series.

`warroom discover` reads the same probe (so it and the cockpit never disagree) and one
more query, the checks (`checks_parts`): the names each adapter's series are stored
under, each latency histogram's buckets, and the tell-tales of the usual scrape
pitfalls, again one tagged union whatever the number of adapters. What feeds which pane
figure (`feeds`) is read off the adapters' own PromQL, never a second list of names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from tui.config import MetricProfile
from tui.sources.promql import selector, tagged_union
from tui.sources.stacks.base import Buckets, Query, Stack

PROBE_LABEL = "warroom_stack"
CHECK_LABEL = "warroom_check"
"""Tags each part of the checks query (`checks_parts`)."""


def probe_query(candidates: Sequence[Stack]) -> str:
    """Counts of each candidate's tell-tale series, tagged ``warroom_stack="<name>"``."""
    return tagged_union(
        {s.name: f"count({' or '.join(s.detect)})" for s in candidates if s.detect},
        PROBE_LABEL,
    )


def present(
    candidates: Sequence[Stack], samples: Iterable[tuple[Mapping[str, str], float | None]]
) -> list[Stack]:
    """The candidates the probe found series of, in registry order."""
    found = {labels.get(PROBE_LABEL) for labels, value in samples if value}
    return [s for s in candidates if s.name in found]


def probe_counts(
    samples: Iterable[tuple[Mapping[str, str], float | None]],
) -> dict[str, int]:
    """Series counted per adapter name by the probe (absent: none found)."""
    out: dict[str, int] = {}
    for labels, value in samples:
        name = labels.get(PROBE_LABEL)
        if name is not None and value:
            out[name] = round(value)
    return out


# -- what feeds which figure ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Figure:
    """One pane figure, as `Stack` methods and `ModelHealth` fields name it."""

    key: str
    """The `Stack` method that answers it, e.g. ``errors``."""
    label: str
    """How the screen and `warroom discover` call it."""
    fields: tuple[str, ...]
    """The `ModelHealth` fields it fills (those `tui.sources.stacks.fold.unsourced` names)."""
    traffic: bool
    """Folded gateway first (requests, 5xx, 429, latency: what callers see), servers as
    the fallback; otherwise every stack that has it adds up (TTFT, queue, KV cache)."""


FIGURES: tuple[Figure, ...] = (
    Figure("requests", "requests", ("rps",), True),
    Figure("errors", "5xx", ("error_5xx_ratio",), True),
    Figure("limited", "429", ("rate_429_ratio",), True),
    Figure("latency", "latency p50/p95/p99", ("p50_s", "p95_s", "p99_s"), True),
    Figure("ttft", "TTFT p99", ("ttft_p99_s",), False),
    Figure("queue", "queue", ("queue_depth",), False),
    Figure("kv_cache", "KV cache", ("kv_cache_ratio",), False),
)

Role = Literal["reads", "fallback"]


@dataclass(frozen=True, slots=True)
class Feed:
    """One adapter feeding one figure."""

    stack: str
    title: str
    layer: str
    role: Role
    """``reads``: it speaks for the figure; ``fallback``: only for a model no gateway
    stack reports (the fold's rule, `tui.sources.stacks.fold`)."""
    families: tuple[str, ...]
    """The metric families its PromQL reads, ``vllm:`` names as upstream spells them."""


SCAN_WINDOW = "1234567s"
"""A rate window no adapter writes: marks where a range selector ends, so the series
selectors an adapter reads can be cut out of its PromQL (`selectors`)."""
POD_MAP = "warroom_pod_map"
"""Stands for the pod map in PromQL read only for its names: a join through the pods
is not a family of the figure."""


def scan_query(profile: MetricProfile) -> Query:
    """The `Query` whose PromQL `feeds` and `selectors` read (never sent as it is)."""
    return Query(window=SCAN_WINDOW, pods=POD_MAP, matchers=dict(profile.matchers))


def figure_expr(stack: Stack, key: str, q: Query) -> str | None:
    """The stack's PromQL for figure ``key`` (a histogram's bucket rates), or None."""
    answer: str | Buckets | None = getattr(stack, key)(q)
    return answer.expr if isinstance(answer, Buckets) else answer


def feeds(stacks: Sequence[Stack], q: Query) -> dict[str, list[Feed]]:
    """Per figure key, the adapters that feed it, as the fold picks them: gateway stacks
    for traffic and latency with the servers as fallback for traffic (not latency, which
    is then not read from them); all for TTFT, queue, KV cache.
    An empty list: no source (the screen says so, never 0)."""
    out: dict[str, list[Feed]] = {}
    for figure in FIGURES:
        having = [(s, e) for s in stacks if (e := figure_expr(s, figure.key, q)) is not None]
        fallback: list[tuple[Stack, str]] = []
        if figure.traffic:
            gateway = [(s, e) for s, e in having if s.layer == "gateway"]
            server = [(s, e) for s, e in having if s.layer != "gateway"]
            primary, fallback = (gateway, server) if gateway else (server, [])
            if figure.key == "latency":
                # A model server's latency is not read where a gateway reports latency
                # (`tui.sources.stacks.compose.health_parts`): no fallback to show.
                fallback = []
        else:
            primary = having
        out[figure.key] = [
            Feed(s.name, s.title, s.layer, role, families(e))
            for role, chosen in (("reads", primary), ("fallback", fallback))
            for s, e in chosen
        ]
    return out


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NAME_MATCHER = re.compile(r'__name__\s*=~?\s*"((?:[^"\\]|\\.)*)"')
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_IDENT = re.compile(r"(?<![\w.:])[A-Za-z_:][A-Za-z0-9_:]*")
_KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
     "group_left", "group_right", "Inf", "NaN", "inf", "nan"}
)  # fmt: skip
_EITHER_SPELLING = re.compile(r"^([a-z]+)\[:_\]")


def families(expr: str) -> tuple[str, ...]:
    """The metric names ``expr`` reads, in order of first use: bare names and
    ``__name__`` matchers (``vllm[:_]x`` is shown as upstream writes it, ``vllm:x``)."""
    names: list[str] = []
    for m in _NAME_MATCHER.finditer(expr):
        names.append(_EITHER_SPELLING.sub(r"\1:", m.group(1)))
    text = _STRING.sub('""', expr)
    text = re.sub(r"\{[^{}]*\}", " ", text)
    text = re.sub(r"\[[^\[\]]*\]", " ", text)
    text = _GROUPING.sub(" ", text)
    for m in _IDENT.finditer(text):
        name = m.group(0)
        if name in _KEYWORDS or name == POD_MAP or text[m.end() :].lstrip().startswith("("):
            continue
        names.append(name)
    return tuple(dict.fromkeys(names))


_RANGE = re.compile(r"\b(?:rate|irate|increase)\((.*?)\[" + re.escape(SCAN_WINDOW) + r"\]\)")


def selectors(expr: str) -> tuple[str, ...]:
    """The series selectors ``expr`` (written with `scan_query`) takes rates of."""
    return tuple(dict.fromkeys(m.group(1).strip() for m in _RANGE.finditer(expr)))


def either_spelling(stack: Stack) -> tuple[str, ...]:
    """Prefixes (``vllm``) the adapter matches as ``vllm:`` and ``vllm_`` alike."""
    found = (m.group(1) for d in stack.detect for m in re.finditer(r"([a-z]+)\[:_\]", d))
    return tuple(dict.fromkeys(found))


# -- the checks query ----------------------------------------------------------------

HISTOGRAMS = ("latency", "ttft")
"""The figures read from a histogram, whose top finite bucket is checked."""
ISTIO_REQUESTS = 'istio_requests_total{reporter="destination"}'


def checks_parts(
    named: Sequence[Stack], used: Sequence[Stack], profile: MetricProfile, q: Query
) -> dict[str, str]:
    """The checks, by part name (each one bounded by families, buckets or jobs, never by
    series):

    - ``names/<stack>``: ``count by (__name__)`` of the stack's tell-tale series, for
      each of ``named``: which spelling Prometheus stored;
    - ``buckets/<stack>/<figure>``: ``count by (__name__, le)`` of the histogram each of
      ``used`` reads for latency and TTFT (``q`` is the real window: a stack whose
      selectors cannot be cut out is counted ``by (le)`` from its own PromQL);
    - ``dcgm_exported``: dcgm-exporter series carrying ``exported_pod``, by ``job``;
    - ``gpus``: every dcgm-exporter GPU, counted;
    - ``istio_hops``: workloads Istio reports as a destination that also send traffic
      another destination reports (a gateway hop in front of model workloads)."""
    parts: dict[str, str] = {}
    for s in named:
        if s.detect:
            parts[f"names/{s.name}"] = f"count by (__name__) ({' or '.join(s.detect)})"
    scan = scan_query(profile)
    for s in used:
        for figure in HISTOGRAMS:
            found = figure_expr(s, figure, scan)
            if found is None:
                continue
            cut = selectors(found)
            if cut:
                parts[f"buckets/{s.name}/{figure}"] = (
                    f"count by (__name__, le) ({' or '.join(cut)})"
                )
            elif (real := figure_expr(s, figure, q)) is not None:
                parts[f"buckets/{s.name}/{figure}"] = f"count by (le) ({real})"
    dcgm = profile.dcgm
    parts["dcgm_exported"] = (
        f"count by (job) ({selector(dcgm.util, dcgm.matchers, regex={'exported_pod': '.+'})})"
    )
    parts["gpus"] = f"count({selector(dcgm.util, dcgm.matchers)})"
    senders = (
        "label_replace(label_replace(group by (source_workload, source_workload_namespace) "
        '(istio_requests_total{reporter="destination",source_workload!~"|unknown"}), '
        '"destination_workload", "$1", "source_workload", "(.*)"), '
        '"destination_workload_namespace", "$1", "source_workload_namespace", "(.*)")'
    )
    parts["istio_hops"] = (
        f"group by (destination_workload, destination_workload_namespace) ({ISTIO_REQUESTS})"
        f" and on (destination_workload, destination_workload_namespace) {senders}"
    )
    return parts


def checks_query(parts: Mapping[str, str]) -> str:
    return tagged_union(parts, CHECK_LABEL)


def by_check(
    samples: Iterable[tuple[Mapping[str, str], float | None]],
) -> dict[str, list[tuple[Mapping[str, str], float | None]]]:
    """The checks query's samples, by part name."""
    out: dict[str, list[tuple[Mapping[str, str], float | None]]] = {}
    for labels, value in samples:
        part = labels.get(CHECK_LABEL)
        if part is not None:
            out.setdefault(part, []).append((labels, value))
    return out
