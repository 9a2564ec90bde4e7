"""PromQL text for the Prometheus source: pure string building, no I/O.

Every refresh sends the same fixed set of queries, each grouped ``by`` the model label,
so the cost of a refresh grows with the series Prometheus reads, never with the number
of round trips: one for every pane figure, its parts told apart by a tag label, and two
for the GPUs when they are due. Part and query names are stable: the source parses
results by name and tests pin the exact strings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from tui.config import CanarySettings, MetricProfile

LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")

LATENCY_QUANTILES = ("0.5", "0.95", "0.99")
"""Quantiles of the gateway latency histogram, as written into the ``quantile`` label."""
QUANTILE_LABEL = "quantile"
TOTAL_LABEL = "warroom_total"
"""Marks the one series in the rejected-keys result that carries the total 429 rate
rather than one key's: a label no exporter uses, so it cannot collide with a key."""
HEALTH_QUERY = "health"
"""The name of the one query every pane figure comes from."""
HEALTH_PART_LABEL = "warroom_query"
"""Tags each series of the one health query with the part it answers (latency, requests…)."""
GPU_FIELD_LABEL = "warroom_field"
"""Tags each series of the one GPU query with the gauge it came from."""
GPU_FIELDS = ("util", "fb_used", "fb_free", "temp", "power", "xid")
IDENTITY_FIELD = "identity"
"""Tags the one series per GPU that carries who it is (UUID, model, pod); the gauges'
series carry only where it is (node and index)."""
HOST_LABELS = ("Hostname", "hostname")
"""dcgm-exporter's node label: ``Hostname`` in released versions, ``hostname`` on newer
main (FIELD-NOTES); grouping by both keeps whichever is there."""
TOP_KEYS = 5
KEY_TENANTS_PART = "rejected_key_tenants"
"""The health query's part naming the tenant of each top rate-limited key."""
ERROR_STATUS_RE = "5.."
RATE_LIMITED_STATUS = "429"

# vLLM's own metrics arrive as ``vllm:x`` or ``vllm_x`` depending on the client library
# and exposition format that wrote them (see FIELD-NOTES), so those names match both.
_BOTH_SPELLINGS_PREFIX = "vllm:"

# Go's strconv.Unquote (which PromQL uses for double-quoted strings) rejects raw
# newlines and would reinterpret backslashes; every other control character is escaped
# too so a label value never changes how the line reads in a log or a terminal.
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_label_value(value: str) -> str:
    """``value`` ready to sit between double quotes in PromQL, meaning exactly ``value``."""
    out: list[str] = []
    for ch in value:
        code = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDFFF:
            # A lone surrogate is not a character Prometheus could store or match.
            raise ValueError(f"label value {value!r} is not valid Unicode")
        else:
            out.append(ch)
    return "".join(out)


def check_label_name(name: str) -> str:
    if not LABEL_NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a valid Prometheus label name")
    return name


def check_metric_name(name: str) -> str:
    if not METRIC_NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a valid Prometheus metric name")
    return name


def selector(
    metric: str,
    matchers: Mapping[str, str] | None = None,
    *,
    regex: Mapping[str, str] | None = None,
) -> str:
    """A series selector: ``metric{a="x",b=~"y"}``, labels in name order.

    ``matchers`` are equality matchers, ``regex`` are ``=~`` matchers (the regex text is
    escaped as a string, not as a pattern). A ``vllm:`` name matches both spellings.
    """
    check_metric_name(metric)
    parts: list[str] = []
    if metric.startswith(_BOTH_SPELLINGS_PREFIX):
        rest = metric.removeprefix(_BOTH_SPELLINGS_PREFIX)
        parts.append(f'__name__=~"vllm[:_]{escape_label_value(rest)}"')
        name = ""
    else:
        name = metric
    terms = [(k, "=", v) for k, v in (matchers or {}).items()]
    terms += [(k, "=~", v) for k, v in (regex or {}).items()]
    for label, op, value in sorted(terms):
        check_label_name(label)
        parts.append(f'{label}{op}"{escape_label_value(value)}"')
    if not parts:
        return name
    return f"{name}{{{','.join(parts)}}}"


def by_labels(*labels: str) -> str:
    return ", ".join(check_label_name(label) for label in labels)


def _quantile(q: str, bucket_rates: str) -> str:
    return f"histogram_quantile({q}, {bucket_rates})"


def tagged_union(parts: Mapping[str, str], label: str) -> str:
    """``parts`` as one query, each part's series tagged ``label="its name"``.

    The tags keep every series: ``or`` drops a right-hand series only when a left-hand
    one has the same labels, and two parts never share a tag."""
    check_label_name(label)
    return " or ".join(
        f'label_replace({query}, "{label}", "{escape_label_value(name)}", "", "")'
        for name, query in parts.items()
    )


def canary_queries(
    profile: MetricProfile, canary: CanarySettings, window_s: float
) -> dict[str, str]:
    """The canary comparison over the last ``window_s`` (a stage since its start, warm-up
    excluded): requests by revision and status, p99 by revision, and the model version
    behind each revision. Counts use ``increase`` — the judge wants requests served, not
    a rate — over the window in whole seconds, however many models there are."""
    w = f"{max(1, round(window_s))}s"
    revision = check_label_name(canary.revision_label)
    gateway = dict(profile.matchers)
    requests = selector(profile.requests_total, gateway)
    buckets = selector(profile.latency_bucket, gateway)
    by_le = f"sum by ({by_labels(revision, 'le')}) (increase({buckets}[{w}]))"
    return {
        "canary_requests": (
            f"sum by ({by_labels(revision, profile.status_label)}) (increase({requests}[{w}]))"
        ),
        "canary_p99": _quantile("0.99", by_le),
        "canary_versions": (
            f"max by ({by_labels(revision, canary.model_version_label)}) "
            f"({selector(canary.build_info, canary.matchers)})"
        ),
    }


def in_flight_query(canary: CanarySettings) -> str:
    revision = check_label_name(canary.revision_label)
    return f"sum by ({revision}) ({selector(canary.in_flight, canary.matchers)})"
