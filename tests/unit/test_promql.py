"""The PromQL builder: pinned query text, label escaping, and what the queries compute.

Correctness is checked by Prometheus's own engine, without a server: `promtool test rules`
evaluates each built query against ``input_series`` and compares the result with
``exp_samples`` exactly (labels and values). Float figures are compared through
``round(1e6 * (query))`` so the check is exact on integers, not on the last bit of a
float.

The queries are built for stack adapters (`tui.sources.stacks`): every health part is named
``<stack>/<figure>`` and answers a vector ``by (warroom_model)``; these tests use the
shape a config with ``[metrics]`` and no stacks reads, the generic gateway and vLLM.
"""

from __future__ import annotations

import inspect
import json
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from tui.config import PROFILES, MetricProfile
from tui.domain.histogram import histogram_quantile
from tui.sources.promql import escape_label_value, selector
from tui.sources.queries import QuerySet, build_queries
from tui.sources.stacks import DEFAULT, PROFILE_STACKS, adapter_names, build

GENERIC = MetricProfile()


def queries(profile: MetricProfile = GENERIC, window: str = "5m") -> QuerySet:
    """The queries for ``profile`` read through the adapters its ``profile`` names (the
    generic gateway with the profile's names, and vLLM beside it)."""
    return build_queries(profile, window, build(PROFILE_STACKS[profile.profile], profile))


# -- pinned query text -------------------------------------------------------------------
#
# Written out from the adapters' rules, not from their output: every gateway series is
# selected with a non-empty model label (vLLM's own HTTP counter has the same name and no
# model), the model is copied into ``warroom_model``, and a figure a model has no series
# for reads 0 only where that is true (5xx: any traffic; 429: traffic with numeric codes).

W = "5m"
MODEL = "warroom_model"


def rate(series: str) -> str:
    return f"rate({series}[{W}])"


def vllm(name: str) -> str:
    """A vLLM family in either spelling (``vllm:x`` and ``vllm_x``)."""
    return f'{{__name__=~"vllm[:_]{name}"}}'


def relabel(expr: str, label: str) -> str:
    return f'label_replace({expr}, "{MODEL}", "$1", "{label}", "(?s)(.+)")'


def per_model(expr: str, label: str, *also: str) -> str:
    return f"sum by ({', '.join((MODEL, *also))}) ({relabel(expr, label)})"


def zero_filled(part: str, total: str) -> str:
    return f"({part}) or (0 * ({total}))"


def quantiles(buckets: str, by: str) -> str:
    return " or ".join(
        f'label_replace(histogram_quantile({q}, sum by ({by}) ({buckets})), "quantile", '
        f'"{q}", "", "")'
        for q in ("0.5", "0.95", "0.99")
    )


def p99(buckets: str, by: str) -> str:
    return f"histogram_quantile(0.99, sum by ({by}) ({buckets}))"


def over(buckets: str, by: str | None) -> str:
    """The top finite bucket's rate and the +Inf bucket's (``warroom_top="inf"``), from
    one evaluation of the buckets: the largest of each kind, the counts being cumulative."""
    lead = f"{by}, " if by else ""
    marked = f'label_replace(sum by ({lead}le) ({buckets}), "warroom_top", "inf", "le", "\\\\+Inf")'
    return f"max by ({lead}warroom_top) ({marked})"


def histogram_parts(stack: str, figure: str, buckets: str) -> dict[str, str]:
    if figure == "latency":
        found = {
            f"{stack}/latency": quantiles(buckets, f"{MODEL}, le"),
            f"{stack}/latency_all": quantiles(buckets, "le"),
        }
    else:
        found = {
            f"{stack}/{figure}": p99(buckets, f"{MODEL}, le"),
            f"{stack}/{figure}_all": p99(buckets, "le"),
        }
    found[f"{stack}/{figure}_over"] = over(buckets, MODEL)
    found[f"{stack}/{figure}_over_all"] = over(buckets, None)
    return found


GATEWAY = 'http_requests_total{model=~"(?s).+"}'
GENERIC_REQUESTS = per_model(rate(GATEWAY), "model")
GENERIC_ERRORS = zero_filled(
    per_model(rate('http_requests_total{model=~"(?s).+",status_code=~"5.."}'), "model"),
    GENERIC_REQUESTS,
)
GENERIC_LIMITED = zero_filled(
    per_model(rate('http_requests_total{model=~"(?s).+",status_code="429"}'), "model"),
    per_model(rate('http_requests_total{model=~"(?s).+",status_code=~"[1-5][0-9][0-9]"}'), "model"),
)
GENERIC_BUCKETS = per_model(
    rate('http_request_duration_seconds_bucket{model=~"(?s).+"}'), "model", "le"
)
VLLM_REQUESTS = per_model(rate(vllm("e2e_request_latency_seconds_count")), "model_name")
VLLM_LATENCY = per_model(rate(vllm("e2e_request_latency_seconds_bucket")), "model_name", "le")
VLLM_TTFT = per_model(rate(vllm("time_to_first_token_seconds_bucket")), "model_name", "le")
VLLM_QUEUE = per_model(vllm("num_requests_waiting"), "model_name")
KV_USAGE = f"({vllm('kv_cache_usage_perc')} or {vllm('gpu_cache_usage_perc')})"
VLLM_KV = f"max by ({MODEL}) ({relabel(KV_USAGE, 'model_name')})"
POD_MAP = (
    "topk by (namespace, pod) (1, group by (namespace, pod, warroom_model) "
    f"({relabel(vllm('num_requests_running'), 'model_name')}))"
)

# In the order the adapters answer them: stack by stack, figure by figure.
HEALTH = {
    "generic/requests": GENERIC_REQUESTS,
    "generic/requests_all": f"sum({GENERIC_REQUESTS})",
    "generic/errors": GENERIC_ERRORS,
    "generic/errors_all": f"sum({GENERIC_ERRORS})",
    "generic/limited": GENERIC_LIMITED,
    "generic/limited_all": f"sum({GENERIC_LIMITED})",
    **histogram_parts("generic", "latency", GENERIC_BUCKETS),
    "vllm/requests": VLLM_REQUESTS,
    "vllm/requests_all": f"sum({VLLM_REQUESTS})",
    # No vLLM latency: the gateway reports latency, and speaks for it.
    **histogram_parts("vllm", "ttft", VLLM_TTFT),
    "vllm/queue": VLLM_QUEUE,
    "vllm/queue_all": f"sum({VLLM_QUEUE})",
    "vllm/kv_cache": VLLM_KV,
    "vllm/kv_cache_all": f"max({VLLM_KV})",
    "rejected_keys": (
        "topk(5, sum by (api_key_id) (rate(gateway_ratelimit_rejections_total[5m]))) or "
        'label_replace(sum(rate(gateway_ratelimit_rejections_total[5m])), "warroom_total", '
        '"true", "", "")'
    ),
    "rejected_key_tenants": (
        "sum by (api_key_id, tenant) (rate(gateway_ratelimit_rejections_total[5m])) "
        "and on (api_key_id) "
        "topk(5, sum by (api_key_id) (rate(gateway_ratelimit_rejections_total[5m])))"
    ),
}
INSTANT = {
    "health": " or ".join(
        f'label_replace({query}, "warroom_query", "{name}", "", "")'
        for name, query in HEALTH.items()
    )
}
GPU_BY = (
    "Hostname, hostname, gpu, UUID, modelName, pod, namespace, exported_pod, exported_namespace"
)
DCGM_GAUGES = (
    ("util", "DCGM_FI_DEV_GPU_UTIL"),
    ("fb_used", "DCGM_FI_DEV_FB_USED"),
    ("fb_free", "DCGM_FI_DEV_FB_FREE"),
    ("temp", "DCGM_FI_DEV_GPU_TEMP"),
    ("power", "DCGM_FI_DEV_POWER_USAGE"),
    ("xid", "DCGM_FI_DEV_XID_ERRORS"),
    ("fb_reserved", "DCGM_FI_DEV_FB_RESERVED"),
)
INSTANT["gpus"] = " or ".join(
    [
        f"label_replace(group by ({GPU_BY}) ({' or '.join(n for _, n in DCGM_GAUGES)}), "
        '"warroom_field", "identity", "", "")',
        *(
            f'label_replace(max by (Hostname, hostname, gpu) ({name}), "warroom_field", '
            f'"{field}", "", "")'
            for field, name in DCGM_GAUGES
        ),
    ]
)
INSTANT["pod_models"] = POD_MAP
XID_HISTORY = f"max by ({GPU_BY}) (DCGM_FI_DEV_XID_ERRORS) != 0"
# History follows the gateway: it speaks for traffic and latency when it is in use.
RANGE = {
    "p99": p99(GENERIC_BUCKETS, f"{MODEL}, le"),
    "p99_all": p99(GENERIC_BUCKETS, "le"),
    "error_5xx": f"({GENERIC_ERRORS}) / ({GENERIC_REQUESTS})",
    "error_5xx_all": f"sum({GENERIC_ERRORS}) / sum({GENERIC_REQUESTS})",
    "rate_429": f"({GENERIC_LIMITED}) / ({GENERIC_REQUESTS})",
    "rate_429_all": f"sum({GENERIC_LIMITED}) / sum({GENERIC_REQUESTS})",
}


def test_requests_query_is_pinned() -> None:
    q = queries()
    # Only gateway series that name a model; the model is copied to warroom_model.
    assert q.health["generic/requests"] == (
        "sum by (warroom_model) (label_replace(rate("
        'http_requests_total{model=~"(?s).+"}[5m]), "warroom_model", "$1", "model", "(?s)(.+)"))'
    )


def test_error_and_429_queries_are_pinned() -> None:
    q = queries()
    requests = q.health["generic/requests"]
    # 5xx: codes (503) and classes (5xx) alike; 0 for a model with traffic and no 5xx.
    assert q.health["generic/errors"] == (
        "(sum by (warroom_model) (label_replace(rate(http_requests_total"
        '{model=~"(?s).+",status_code=~"5.."}[5m]), "warroom_model", "$1", "model", "(?s)(.+)"))) '
        f"or (0 * ({requests}))"
    )
    # 429: 0 only for a model whose status holds numeric codes; a 4xx class cannot tell a
    # 429 from a 400, so such a model has no 429 figure at all.
    assert q.health["generic/limited"] == (
        "(sum by (warroom_model) (label_replace(rate(http_requests_total"
        '{model=~"(?s).+",status_code="429"}[5m]), "warroom_model", "$1", "model", "(?s)(.+)"))) '
        "or (0 * (sum by (warroom_model) (label_replace(rate(http_requests_total"
        '{model=~"(?s).+",status_code=~"[1-5][0-9][0-9]"}[5m]), "warroom_model", "$1", "model", '
        '"(?s)(.+)"))))'
    )


def test_latency_query_is_pinned() -> None:
    q = queries()
    buckets = (
        "sum by (warroom_model, le) (label_replace(rate(http_request_duration_seconds_bucket"
        '{model=~"(?s).+"}[5m]), "warroom_model", "$1", "model", "(?s)(.+)"))'
    )
    assert q.health["generic/latency"] == (
        f"label_replace(histogram_quantile(0.5, sum by (warroom_model, le) ({buckets})), "
        '"quantile", "0.5", "", "") or '
        f"label_replace(histogram_quantile(0.95, sum by (warroom_model, le) ({buckets})), "
        '"quantile", "0.95", "", "") or '
        f"label_replace(histogram_quantile(0.99, sum by (warroom_model, le) ({buckets})), "
        '"quantile", "0.99", "", "")'
    )
    per = f"sum by (warroom_model, le) ({buckets})"
    assert q.health["generic/latency_over"] == (
        "max by (warroom_model, warroom_top) "
        f'(label_replace({per}, "warroom_top", "inf", "le", "\\\\+Inf"))'
    )


def test_vllm_queries_are_pinned() -> None:
    q = queries()
    assert q.health["vllm/queue"] == (
        'sum by (warroom_model) (label_replace({__name__=~"vllm[:_]num_requests_waiting"}, '
        '"warroom_model", "$1", "model_name", "(?s)(.+)"))'
    )
    # The fullest pod; the name before v0.10 (gpu_cache_usage_perc) is read too.
    assert q.health["vllm/kv_cache"] == (
        'max by (warroom_model) (label_replace(({__name__=~"vllm[:_]kv_cache_usage_perc"} or '
        '{__name__=~"vllm[:_]gpu_cache_usage_perc"}), "warroom_model", "$1", "model_name", '
        '"(?s)(.+)"))'
    )
    assert q.instant["pod_models"] == (
        "topk by (namespace, pod) (1, group by (namespace, pod, warroom_model) "
        '(label_replace({__name__=~"vllm[:_]num_requests_running"}, "warroom_model", "$1", '
        '"model_name", "(?s)(.+)")))'
    )


def test_every_generic_and_vllm_query_is_pinned() -> None:
    assert queries() == QuerySet(
        health=HEALTH, instant=INSTANT, range=RANGE, xid_history=XID_HISTORY
    )
    # The joined query lists the parts in the adapters' order: the text is stable.
    assert list(queries().health) == list(HEALTH)


def test_window_is_written_as_a_promql_duration() -> None:
    assert "[90s]" in queries(window="90s").health["generic/requests"]
    assert "[1h]" in queries(window="60m").health["generic/requests"]
    assert "[90m]" in queries(window="1h30m").health["generic/requests"]


def test_istio_profile_adds_its_matchers_to_gateway_series_only() -> None:
    istio = MetricProfile(**PROFILES["istio"])
    q = queries(istio)
    workload = 'destination_workload=~"(?s).+",reporter="destination"'
    assert q.health["generic/requests"] == per_model(
        rate(f"istio_requests_total{{{workload}}}"), "destination_workload"
    )
    assert (
        f"istio_request_duration_milliseconds_bucket{{{workload}}}" in q.health["generic/latency"]
    )
    assert (
        'rate(istio_requests_total{destination_workload=~"(?s).+",reporter="destination",'
        'response_code=~"5.."}[5m])' in q.range["error_5xx"]
    )
    # Millisecond buckets: quantiles are scaled to seconds, the over-fraction is not.
    assert q.range["p99"].endswith(") * 0.001")
    assert q.health["generic/latency"].count(" * 0.001") == 3
    assert "0.001" not in q.health["generic/latency_over"]
    # vLLM and rate-limiter series do not carry the gateway's labels.
    for name, query in q.health.items():
        if not name.startswith("generic/"):
            assert "reporter" not in query, name
    assert "reporter" not in q.instant["pod_models"]


# -- a fixed number of queries -------------------------------------------------------------


def test_query_set_depends_on_profile_window_and_stacks_only() -> None:
    """Nothing about the models or their number: one health query answers them all."""
    assert list(inspect.signature(build_queries).parameters) == ["profile", "window", "stacks"]


@pytest.mark.parametrize("profile", sorted(PROFILES))
@pytest.mark.parametrize("window", ["30s", "5m", "1h"])
def test_number_of_queries_is_fixed(profile: str, window: str) -> None:
    q = queries(MetricProfile(**PROFILES[profile]), window)
    assert sorted(q.health) == sorted(HEALTH)
    assert list(q.instant) == ["health", "gpus", "pod_models"]
    assert sorted(q.range) == sorted(RANGE)


STACK_SETS = [DEFAULT, *((name,) for name in adapter_names()), adapter_names()]


@pytest.mark.parametrize("names", STACK_SETS, ids=",".join)
def test_any_adapters_make_one_health_query(names: tuple[str, ...]) -> None:
    """Whatever the adapters, a refresh sends the same three instant queries; the health
    query holds every part, each told apart by its tag, and each part is one adapter's
    figure (or the key table)."""
    q = build_queries(GENERIC, "5m", build(names, GENERIC))
    assert list(q.instant) == ["health", "gpus", "pod_models"]
    for part in q.health:
        stack, slash, figure = part.partition("/")
        keys = part in ("rejected_keys", "rejected_key_tenants")
        assert keys or (slash and stack in names and figure), part
        assert f'"warroom_query", "{part}", "", "")' in q.instant["health"]
    assert q.instant["health"].count('"warroom_query", "') == len(q.health)
    assert set(q.range) <= set(RANGE)


# -- invalid profiles ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ({"requests_total": "http-requests-total"}, "http-requests-total"),
        ({"requests_total": ""}, "''"),
        ({"latency_bucket": "9lives_bucket"}, "9lives_bucket"),
        ({"queue_waiting": 'x"}) or vector(1'}, "vector(1"),
        ({"model_label": "model name"}, "model name"),
        ({"status_label": "status:code"}, "status:code"),
        ({"api_key_label": "key-id"}, "key-id"),
        ({"server_model_label": ""}, "''"),
        ({"matchers": {"bad-label": "x"}}, "bad-label"),
    ],
)
def test_invalid_names_in_the_profile_raise_value_error(
    override: dict[str, Any], named: str
) -> None:
    with pytest.raises(ValueError, match="not a valid Prometheus") as caught:
        queries(MetricProfile(**override))
    assert named in str(caught.value)


def test_invalid_window_raises_value_error() -> None:
    with pytest.raises(ValueError, match="not a duration"):
        queries(window="five minutes")


# -- selector and escaping -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("plain-value_1.0", "plain-value_1.0"),
        ('say "hi"', 'say \\"hi\\"'),
        ("C:\\path\\", "C:\\\\path\\\\"),
        ("two\nlines\r\n", "two\\nlines\\r\\n"),
        ("tab\there", "tab\\there"),
        ("bell\x07del\x7f", "bell\\u0007del\\u007f"),
        ("é 模型 🚀", "é 模型 🚀"),
        ("", ""),
    ],
)
def test_escape_label_value(value: str, escaped: str) -> None:
    assert escape_label_value(value) == escaped


def test_lone_surrogate_is_rejected() -> None:
    with pytest.raises(ValueError, match="not valid Unicode"):
        escape_label_value("bad\ud800")


def test_selector_sorts_labels_and_marks_regex_matchers() -> None:
    assert selector("up") == "up"
    assert selector("up", {}) == "up"
    assert (
        selector("up", {"job": "api", "env": "prod"}, regex={"code": "5.."})
        == 'up{code=~"5..",env="prod",job="api"}'
    )


def test_selector_matches_both_spellings_of_vllm_names() -> None:
    assert selector("vllm:num_requests_running") == ('{__name__=~"vllm[:_]num_requests_running"}')
    assert selector("vllm:num_requests_running", {"model_name": "m"}) == (
        '{__name__=~"vllm[:_]num_requests_running",model_name="m"}'
    )
    # Only the vllm: prefix gets both spellings; other colon names are recording rules.
    assert selector("job:requests:rate5m") == "job:requests:rate5m"


def test_selector_rejects_invalid_names() -> None:
    with pytest.raises(ValueError, match="metric name"):
        selector("a-b")
    with pytest.raises(ValueError, match="label name"):
        selector("up", {"a b": "x"})
    with pytest.raises(ValueError, match="label name"):
        selector("up", regex={"__name__=~": "x"})


# -- promtool ------------------------------------------------------------------------------


def promtool() -> str:
    path = shutil.which("promtool")
    assert path is not None, (
        "promtool is not on PATH; install Debian's prometheus package "
        "(scripts/install-test-deps.sh does)."
    )
    return path


def labels(metric: str = "", **values: str) -> str:
    """A series literal from plain values (no escaping needed: tests pass simple names)."""
    return metric + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(values.items())) + "}"


def run_rules_test(
    tmp_path: Path,
    input_series: Mapping[str, str],
    expr_tests: Sequence[tuple[str, Sequence[tuple[str, float]]]],
    *,
    eval_time: str = "10m",
) -> None:
    """Run `promtool test rules` on ``expr_tests`` ((expr, [(labels, value)]) pairs).

    The file is JSON, which YAML reads as is, so no string needs YAML quoting.
    """
    spec = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": series, "values": values} for series, values in input_series.items()
                ],
                "promql_expr_test": [
                    {
                        "expr": expr,
                        "eval_time": eval_time,
                        "exp_samples": [{"labels": lb, "value": v} for lb, v in samples],
                    }
                    for expr, samples in expr_tests
                ],
            }
        ],
    }
    file = tmp_path / "rules_test.yaml"
    file.write_text(json.dumps(spec, indent=1, ensure_ascii=False), encoding="utf-8")
    done = subprocess.run(
        [promtool(), "test", "rules", str(file)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"promtool test rules failed:\n{done.stdout}\n{done.stderr}"


def test_promtool_harness_detects_a_wrong_expectation(tmp_path: Path) -> None:
    """The harness fails when the answer differs, so a passing check means something."""
    with pytest.raises(AssertionError, match="promtool test rules failed"):
        run_rules_test(tmp_path, {"up": "1+0x10"}, [("up", [("up", 2)])])


# Hand-escaped PromQL string literals (written without escape_label_value) and the values
# they stand for. Near misses sit beside each other: a selector escaped the wrong way
# would pick the neighbour or nothing.
PROBES = [
    ('a\\"b\\\\c\\nd', 'a"b\\c\nd'),
    ('a\\"b\\\\c\\\\nd', 'a"b\\c\\nd'),
    ('a\\"b\\\\\\\\c\\nd', 'a"b\\\\c\nd'),
    ("tab\\tret\\rbell\\x07del\\x7f", "tab\tret\rbell\x07del\x7f"),
    ("é 模型 🚀", "é 模型 🚀"),
    ("ends with\\\\", "ends with\\"),
    ('quote at end\\"', 'quote at end"'),
]


def test_escaped_label_values_select_exactly_their_series(tmp_path: Path) -> None:
    series = {f'probe{{n="{i}",v="{lit}"}}': f"{i}+0x10" for i, (lit, _) in enumerate(PROBES)}
    series['regex_probe{r="a.b"}'] = "1+0x10"
    series['regex_probe{r="axb"}'] = "2+0x10"
    tests = [
        (selector("probe", {"v": value}), [(f'probe{{n="{i}",v="{lit}"}}', i)])
        for i, (lit, value) in enumerate(PROBES)
    ]
    # A regex matcher's text is escaped as a string: the backslash reaches the regex.
    tests.append((selector("regex_probe", regex={"r": r"a\.b"}), [('regex_probe{r="a.b"}', 1)]))
    run_rules_test(tmp_path, series, tests)


# -- what the instant and range queries compute ---------------------------------------------
#
# Two models over 10 minutes at 1-minute samples, evaluated at 10m with a 5m window:
#   a: 60 requests/min = 1/s: 51 x 200, 2 x 500, 1 x 503 (5% 5xx), 6 x 429 (10% 429);
#   b: 30 requests/min = 0.5/s, all 200 (no 5xx or 429 series at all).
# Beside them, vLLM's own HTTP server writes the gateway's metric names with no model
# label (prometheus-fastapi-instrumentator: ``handler``, ``method``, a ``status`` class):
# ten times the traffic, which no per-model or whole-API gateway figure may count.

LATENCY_LES = ("0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf")
TTFT_LES = ("0.05", "0.1", "0.5", "1", "+Inf")
E2E_LES = ("1", "5", "+Inf")
# Cumulative bucket increments per minute.
LATENCY_A = (6, 18, 36, 48, 56, 60, 60)
LATENCY_B = (12, 30, 30, 30, 30, 30, 30)
TTFT_A = (18, 36, 54, 60, 60)
TTFT_B = (30, 30, 30, 30, 30)
E2E_A = (24, 58, 60)
"""vLLM's end-to-end histogram for a: 2 of 60 past its top finite bound (5 s), so its
p99 lies beyond that bound (the over-fraction, 1/30, is past 1 - 0.99) and its p95 not."""
KV = {("a", "a-0"): 0.5, ("a", "a-1"): 0.75, ("b", "b-0"): 0.25}
"""KV-cache usage per (model, pod)."""
KEYS = {  # (api_key_id, tenant): rejections per minute
    ("k1", "t1"): 48,
    ("k1", "t2"): 24,  # k1 in total: 72/min = 1.2/s
    ("k2", "t1"): 24,
    ("k3", "t3"): 12,
    ("k4", "t1"): 6,
    ("k5", "t2"): 3.6,
    ("k6", "t3"): 2.4,  # the sixth key: in the total, not in the top 5
}
VLLM_HTTP = {"handler": "/v1/chat/completions", "method": "POST"}
"""The labels of vLLM's own HTTP counters, which carry no model."""


def bucket_quantile(q: float, les: Sequence[str], counts: Sequence[float]) -> float:
    """What the buckets imply, by PromQL's interpolation (`tui.domain.histogram`, itself tested
    against hand-worked cases in test_sim)."""
    value = histogram_quantile(q, [(float(le), c) for le, c in zip(les, counts, strict=True)])
    assert value is not None
    return value


LABEL = re.compile(r'(\w+)="([^"]*)"')
"""One ``name="value"`` pair of a `labels` literal."""


def ppm(x: float) -> int:
    return round(x * 1e6)


def scaled(expr: str) -> str:
    return f"round(1e6 * ({expr}))"


def over_fraction(counts: Sequence[float]) -> float:
    """Observations past the top finite bucket, as a fraction (cumulative counts)."""
    return 1 - counts[-2] / counts[-1]


def top_samples(values: dict[str, str], counts: Sequence[float]) -> list[tuple[str, int]]:
    """What an ``*_over`` part answers for cumulative per-minute ``counts``: the top finite
    bucket's rate and the +Inf bucket's, per second."""
    return [
        (labels(**values), ppm(counts[-2] / 60)),
        (labels(**values, warroom_top="inf"), ppm(counts[-1] / 60)),
    ]


def vllm_http_series(s: dict[str, str]) -> None:
    """vLLM's instrumentator: requests by status class and a latency histogram, per pod."""
    pod = {**VLLM_HTTP, "namespace": "inference", "pod": "vllm-a-0"}
    s[labels("http_requests_total", **pod, status="2xx")] = "0+600x10"
    s[labels("http_requests_total", **pod, status="5xx")] = "0+60x10"
    for le, n in (("0.1", 10), ("0.5", 300), ("1", 600), ("+Inf", 660)):
        s[labels("http_request_duration_seconds_bucket", **pod, le=le)] = f"0+{n}x10"


def input_series() -> dict[str, str]:
    s: dict[str, str] = {}
    for model, status, per_min in [
        ("a", "200", 51),
        ("a", "500", 2),
        ("a", "503", 1),
        ("a", "429", 6),
        ("b", "200", 30),
    ]:
        s[labels("http_requests_total", model=model, status_code=status)] = f"0+{per_min}x10"
    for model, counts in (("a", LATENCY_A), ("b", LATENCY_B)):
        for le, n in zip(LATENCY_LES, counts, strict=True):
            name = "http_request_duration_seconds_bucket"
            s[labels(name, model=model, le=le)] = f"0+{n}x10"
    vllm_http_series(s)
    # Model a's vLLM writes colon names, model b's underscore names: both are read.
    for prefix, model, counts in (("vllm:", "a", TTFT_A), ("vllm_", "b", TTFT_B)):
        for le, n in zip(TTFT_LES, counts, strict=True):
            name = f"{prefix}time_to_first_token_seconds_bucket"
            s[labels(name, model_name=model, le=le)] = f"0+{n}x10"
    for le, n in zip(E2E_LES, E2E_A, strict=True):
        s[labels("vllm:e2e_request_latency_seconds_bucket", model_name="a", le=le)] = f"0+{n}x10"
    s[labels("vllm:e2e_request_latency_seconds_count", model_name="a")] = f"0+{E2E_A[-1]}x10"
    s[labels("vllm:num_requests_waiting", model_name="a", engine="0")] = "3+0x10"
    s[labels("vllm:num_requests_waiting", model_name="a", engine="1")] = "4+0x10"
    s[labels("vllm_num_requests_waiting", model_name="b")] = "2+0x10"
    # a's pods on the current name, b's on the name before vLLM 0.10, underscore spelling.
    for (model, pod), usage in KV.items():
        name = "vllm:kv_cache_usage_perc" if model == "a" else "vllm_gpu_cache_usage_perc"
        s[labels(name, model_name=model, pod=pod)] = f"{usage}+0x10"
    for (key, tenant), per_min in KEYS.items():
        s[labels("gateway_ratelimit_rejections_total", api_key_id=key, tenant=tenant)] = (
            f"0+{per_min}x10"
        )
    return s


def quantile_samples(
    model_labels: dict[str, str], counts: Sequence[float], les: Sequence[str] = LATENCY_LES
) -> list[Any]:
    return [
        (labels(**model_labels, quantile=q), ppm(bucket_quantile(float(q), les, counts)))
        for q in ("0.5", "0.95", "0.99")
    ]


def test_instant_queries_compute_per_model_figures(tmp_path: Path) -> None:
    """Each part of the health query on its own, then the one query that joins them: it
    must answer every part's series, each tagged with the part's name."""
    q = queries()
    latency_all = [a + b for a, b in zip(LATENCY_A, LATENCY_B, strict=True)]
    ttft_all = [a + b for a, b in zip(TTFT_A, TTFT_B, strict=True)]
    key_rate = {"k1": 1.2, "k2": 0.4, "k3": 0.2, "k4": 0.1, "k5": 0.06}
    a, b = {MODEL: "a"}, {MODEL: "b"}
    parts: dict[str, list[tuple[str, int]]] = {
        # The instrumentator's 11/s have no model: counted nowhere, not even in the total.
        "generic/requests": [(labels(**a), ppm(1.0)), (labels(**b), ppm(0.5))],
        "generic/requests_all": [("{}", ppm(1.5))],
        # b has no 5xx or 429 series: 0, not missing (its status holds numeric codes).
        "generic/errors": [(labels(**a), ppm(3 / 60)), (labels(**b), 0)],
        "generic/errors_all": [("{}", ppm(3 / 60))],
        "generic/limited": [(labels(**a), ppm(6 / 60)), (labels(**b), 0)],
        "generic/limited_all": [("{}", ppm(6 / 60))],
        "generic/latency": quantile_samples(a, LATENCY_A) + quantile_samples(b, LATENCY_B),
        "generic/latency_all": quantile_samples({}, latency_all),
        "generic/latency_over": top_samples(a, LATENCY_A) + top_samples(b, LATENCY_B),
        "generic/latency_over_all": top_samples({}, latency_all),
        "vllm/requests": [(labels(**a), ppm(1.0))],
        "vllm/requests_all": [("{}", ppm(1.0))],
        "vllm/ttft": [
            (labels(**a), ppm(bucket_quantile(0.99, TTFT_LES, TTFT_A))),
            (labels(**b), ppm(bucket_quantile(0.99, TTFT_LES, TTFT_B))),
        ],
        "vllm/ttft_all": [("{}", ppm(bucket_quantile(0.99, TTFT_LES, ttft_all)))],
        "vllm/ttft_over": top_samples(a, TTFT_A) + top_samples(b, TTFT_B),
        "vllm/ttft_over_all": top_samples({}, ttft_all),
        "vllm/queue": [(labels(**a), ppm(7)), (labels(**b), ppm(2))],
        "vllm/queue_all": [("{}", ppm(9))],
        # The fullest pod, whichever name its vLLM writes.
        "vllm/kv_cache": [(labels(**a), ppm(0.75)), (labels(**b), ppm(0.25))],
        "vllm/kv_cache_all": [("{}", ppm(0.75))],
        "rejected_keys": (
            [(labels(api_key_id=k), ppm(v)) for k, v in key_rate.items()]
            + [(labels(warroom_total="true"), ppm(2.0))]
        ),
        # Every tenant of the top 5 keys (k1 under two), none of the sixth key's.
        "rejected_key_tenants": [
            (labels(api_key_id=k, tenant=t), ppm(per_min / 60))
            for (k, t), per_min in KEYS.items()
            if k in key_rate
        ],
    }
    assert sorted(parts) == sorted(q.health)
    joined = [
        (labels(**dict(LABEL.findall(series)), warroom_query=name), value)
        for name, samples in parts.items()
        for series, value in samples
    ]
    tests = [(scaled(q.health[name]), samples) for name, samples in parts.items()]
    tests.append((scaled(q.instant["health"]), joined))
    run_rules_test(tmp_path, input_series(), tests)


def test_figures_match_hand_computed_quantiles() -> None:
    """The interpolation helper itself, against values worked out by hand."""
    assert bucket_quantile(0.5, LATENCY_LES, LATENCY_A) == pytest.approx(0.25 + 0.25 * 2 / 3)
    assert bucket_quantile(0.99, LATENCY_LES, LATENCY_A) == pytest.approx(4.625)
    assert bucket_quantile(0.99, TTFT_LES, TTFT_B) == pytest.approx(0.0495)
    assert bucket_quantile(0.99, ("1", "+Inf"), (1, 100)) == 1.0
    # a's end-to-end p95 lies inside its top finite bucket, its p99 past it.
    assert bucket_quantile(0.95, E2E_LES, E2E_A) == pytest.approx(1 + 4 * 33 / 34)
    assert bucket_quantile(0.99, E2E_LES, E2E_A) == 5.0
    assert 0.01 < over_fraction(E2E_A) <= 0.05


def test_range_queries_compute_ratios_with_zero_not_absent(tmp_path: Path) -> None:
    r = queries().range
    latency_all = [a + b for a, b in zip(LATENCY_A, LATENCY_B, strict=True)]
    a, b = labels(**{MODEL: "a"}), labels(**{MODEL: "b"})
    tests = [
        (
            scaled(r["p99"]),
            [
                (a, ppm(bucket_quantile(0.99, LATENCY_LES, LATENCY_A))),
                (b, ppm(bucket_quantile(0.99, LATENCY_LES, LATENCY_B))),
            ],
        ),
        (scaled(r["p99_all"]), [("{}", ppm(bucket_quantile(0.99, LATENCY_LES, latency_all)))]),
        # b has no 5xx and no 429 series: its ratios must read 0, not be missing.
        (scaled(r["error_5xx"]), [(a, ppm(0.05)), (b, 0)]),
        (scaled(r["error_5xx_all"]), [("{}", ppm(3 / 90))]),
        (scaled(r["rate_429"]), [(a, ppm(0.10)), (b, 0)]),
        (scaled(r["rate_429_all"]), [("{}", ppm(6 / 90))]),
    ]
    run_rules_test(tmp_path, input_series(), tests)


def test_ratios_are_zero_when_no_model_has_errors(tmp_path: Path) -> None:
    r = queries().range
    series = {
        labels("http_requests_total", model="a", status_code="200"): "0+60x10",
        labels("http_requests_total", model="b", status_code="201"): "0+30x10",
    }
    a, b = labels(**{MODEL: "a"}), labels(**{MODEL: "b"})
    tests = [
        (r["error_5xx"], [(a, 0), (b, 0)]),
        (r["error_5xx_all"], [("{}", 0)]),
        (r["rate_429"], [(a, 0), (b, 0)]),
        (r["rate_429_all"], [("{}", 0)]),
    ]
    run_rules_test(tmp_path, series, tests)


def test_status_classes_give_a_5xx_ratio_and_no_429_figure(tmp_path: Path) -> None:
    """A status label holding classes (``5xx``, ``4xx``, ``2xx``): the 5xx figure reads
    them, but a ``4xx`` class cannot tell a 429 from a 400, so those models have no 429
    figure at all (the pane says "no source"), never a 0. A model beside them whose
    status holds codes keeps its 429 figure."""
    q = queries()
    series = {
        labels("http_requests_total", model="a", status_code="2xx"): "0+54x10",
        labels("http_requests_total", model="a", status_code="5xx"): "0+3x10",
        labels("http_requests_total", model="a", status_code="4xx"): "0+3x10",
        labels("http_requests_total", model="b", status_code="2xx"): "0+30x10",
        labels("http_requests_total", model="c", status_code="200"): "0+27x10",
        labels("http_requests_total", model="c", status_code="429"): "0+3x10",
    }
    a, b, c = (labels(**{MODEL: m}) for m in "abc")
    tests = [
        (scaled(q.health["generic/requests"]), [(a, ppm(1.0)), (b, ppm(0.5)), (c, ppm(0.5))]),
        (scaled(q.health["generic/errors"]), [(a, ppm(0.05)), (b, 0), (c, 0)]),
        (scaled(q.health["generic/limited"]), [(c, ppm(0.05))]),
        (scaled(q.range["error_5xx"]), [(a, ppm(0.05)), (b, 0), (c, 0)]),
        (scaled(q.range["rate_429"]), [(c, ppm(0.1))]),
    ]
    run_rules_test(tmp_path, series, tests)
    # With classes only, the whole API has no 429 figure either.
    classes_only = {k: v for k, v in series.items() if 'model="c"' not in k}
    tests = [
        (scaled(q.health["generic/errors_all"]), [("{}", ppm(0.05))]),
        (q.health["generic/limited"], []),
        (q.health["generic/limited_all"], []),
        (q.range["rate_429"], []),
        (q.range["rate_429_all"], []),
        (scaled(q.range["error_5xx_all"]), [("{}", ppm(3 / 90))]),
    ]
    run_rules_test(tmp_path, classes_only, tests)


def test_over_part_says_a_quantile_lies_past_the_top_bucket(tmp_path: Path) -> None:
    """A histogram whose p99 falls in the +Inf bucket: ``histogram_quantile`` answers the
    top finite bound, and the ``*_over`` part gives the fraction past it (> 1 - 0.99), so
    the screen can say the p99 is beyond that bound rather than at it."""
    q = queries()
    les = ("0.5", "1", "+Inf")
    slow, fast = (10, 50, 60), (60, 60, 60)
    series = {}
    for model, counts in (("slow", slow), ("fast", fast)):
        for le, n in zip(les, counts, strict=True):
            series[labels("http_request_duration_seconds_bucket", model=model, le=le)] = f"0+{n}x10"
    s, f = {MODEL: "slow"}, {MODEL: "fast"}
    assert bucket_quantile(0.99, les, slow) == 1.0  # the top finite bound
    over = q.health["generic/latency_over"]
    tests = [
        (
            scaled(q.health["generic/latency"]),
            quantile_samples(s, slow, les) + quantile_samples(f, fast, les),
        ),
        (scaled(over), top_samples(s, slow) + top_samples(f, fast)),
        (scaled(q.health["generic/latency_over_all"]), top_samples({}, (70, 110, 120))),
    ]
    run_rules_test(tmp_path, series, tests)
    # What the fold makes of them: past 1 - 0.99 for the slow model only.
    assert over_fraction(slow) == pytest.approx(1 / 6) and over_fraction(fast) == 0


def test_gateway_figures_ignore_series_without_the_model_label(tmp_path: Path) -> None:
    """vLLM's own ``http_requests_total{handler,method,status}`` and its latency histogram
    share the gateway's names but carry no model: no generic figure may count them (the
    ``vllm_http`` adapter reads them, through the pod map)."""
    q = queries()
    series: dict[str, str] = {}
    vllm_http_series(series)
    series[labels("http_requests_total", model="m", status_code="200")] = "0+60x10"
    for le, n in (("0.1", 30), ("1", 60), ("+Inf", 60)):
        series[labels("http_request_duration_seconds_bucket", model="m", le=le)] = f"0+{n}x10"
    m = {MODEL: "m"}
    les, counts = ("0.1", "1", "+Inf"), (30, 60, 60)
    tests = [
        (scaled(q.health["generic/requests"]), [(labels(**m), ppm(1.0))]),
        (scaled(q.health["generic/requests_all"]), [("{}", ppm(1.0))]),
        (scaled(q.health["generic/errors"]), [(labels(**m), 0)]),
        (scaled(q.health["generic/errors_all"]), [("{}", 0)]),
        (scaled(q.health["generic/latency"]), quantile_samples(m, counts, les)),
        (scaled(q.health["generic/latency_all"]), quantile_samples({}, counts, les)),
        # m's top finite bucket (1 s) holds all of it: 60 a minute, as the +Inf bucket.
        (scaled(q.health["generic/latency_over_all"]), top_samples({}, counts)),
        (scaled(q.range["error_5xx_all"]), [("{}", 0)]),
    ]
    run_rules_test(tmp_path, series, tests)


def test_istio_queries_compute_per_workload_figures(tmp_path: Path) -> None:
    """The matcher keeps the source-side duplicate (reporter="source") out of the sums."""
    istio = MetricProfile(**PROFILES["istio"])
    q = queries(istio)
    series = {}
    for reporter in ("destination", "source"):
        for code, per_min in (("200", 57), ("503", 3)):
            series[
                labels(
                    "istio_requests_total",
                    destination_workload="w",
                    reporter=reporter,
                    response_code=code,
                )
            ] = f"0+{per_min}x10"
    w = labels(**{MODEL: "w"})
    tests = [
        (scaled(q.health["generic/requests"]), [(w, ppm(1.0))]),
        (scaled(q.health["generic/errors"]), [(w, ppm(3 / 60))]),
        (scaled(q.health["generic/limited"]), [(w, 0)]),
        (scaled(q.range["error_5xx"]), [(w, ppm(0.05))]),
    ]
    run_rules_test(tmp_path, series, tests)


def test_gpu_query_tags_each_gauge_and_keeps_either_host_label(tmp_path: Path) -> None:
    """Released dcgm-exporter says ``Hostname``, newer main ``hostname``: both come
    through; the labels the grid does not need are dropped; an idle GPU (empty pod) stays;
    under the Helm chart's ServiceMonitor the workload is ``exported_pod``, kept too."""
    q = queries().instant
    common = {"gpu": "3", "UUID": "GPU-a", "modelName": "H100", "device": "nvidia3"}
    old = {**common, "Hostname": "n1", "pod": "p1", "namespace": "inference"}
    new = {"gpu": "0", "UUID": "GPU-b", "modelName": "H100", "hostname": "n2"}
    helm = {
        "gpu": "1", "UUID": "GPU-c", "modelName": "H100", "Hostname": "n3",
        "pod": "dcgm-exporter-x7k2p", "namespace": "gpu-operator",
        "exported_pod": "p2", "exported_namespace": "inference",
    }  # fmt: skip
    series = {
        labels("DCGM_FI_DEV_GPU_UTIL", **old): "87+0x10",
        labels("DCGM_FI_DEV_FB_USED", **old): "81000+0x10",
        labels("DCGM_FI_DEV_FB_RESERVED", **old): "500+0x10",
        labels("DCGM_FI_DEV_XID_ERRORS", **old, err_code="43", err_msg="x"): "43+0x10",
        labels("DCGM_FI_DEV_GPU_UTIL", **new): "5+0x10",
        labels("DCGM_FI_DEV_GPU_UTIL", **helm): "50+0x10",
        labels("vllm:num_requests_running", model_name="m", namespace="inference", pod="p1"): (
            "3+0x10"
        ),
    }
    kept = {k: v for k, v in old.items() if k != "device"}
    # Who each GPU is, once; its gauges by node and index only.
    tests = [
        (
            q["gpus"],
            [
                (labels(**kept, warroom_field="identity"), 1),
                (labels(Hostname="n1", gpu="3", warroom_field="util"), 87),
                (labels(Hostname="n1", gpu="3", warroom_field="fb_used"), 81000),
                (labels(Hostname="n1", gpu="3", warroom_field="fb_reserved"), 500),
                (labels(Hostname="n1", gpu="3", warroom_field="xid"), 43),
                (labels(**new, warroom_field="identity"), 1),
                (labels(hostname="n2", gpu="0", warroom_field="util"), 5),
                (labels(**helm, warroom_field="identity"), 1),
                (labels(Hostname="n3", gpu="1", warroom_field="util"), 50),
            ],
        ),
        # Each model-server pod and the model it serves, as warroom_model.
        (q["pod_models"], [(labels(namespace="inference", pod="p1", warroom_model="m"), 1)]),
    ]
    run_rules_test(tmp_path, series, tests)


def test_xid_history_keeps_only_gpus_with_a_code(tmp_path: Path) -> None:
    xid = queries().xid_history
    series = {
        labels("DCGM_FI_DEV_XID_ERRORS", Hostname="n1", gpu="0", UUID="a"): "0 0 0 31+0x7",
        labels("DCGM_FI_DEV_XID_ERRORS", Hostname="n1", gpu="1", UUID="b"): "0+0x10",
    }
    run_rules_test(tmp_path, series, [(xid, [(labels(Hostname="n1", UUID="a", gpu="0"), 31)])])


def test_canary_gauges_take_the_canary_matchers_not_the_profile_ones() -> None:
    """Istio's ``reporter`` narrows the request series; the gateway's own in-flight and
    build-info gauges do not carry it, and take the canary's own matchers instead."""
    from tui.config import CanarySettings
    from tui.sources.promql import canary_queries, in_flight_query

    profile = MetricProfile(**PROFILES["istio"])
    canary = CanarySettings(matchers={"namespace": "inference"})
    queries = canary_queries(profile, canary, 300)
    assert 'reporter="destination"' in queries["canary_requests"]
    assert 'namespace="inference"' not in queries["canary_requests"]
    assert queries["canary_versions"] == (
        'max by (revision, model_version) (gateway_build_info{namespace="inference"})'
    )
    assert in_flight_query(canary) == (
        'sum by (revision) (gateway_requests_in_flight{namespace="inference"})'
    )
    assert in_flight_query(CanarySettings()) == "sum by (revision) (gateway_requests_in_flight)"


def test_the_model_servers_names_from_the_config_are_read() -> None:
    profile = MetricProfile(
        ttft_bucket="my_ttft_bucket", queue_waiting="my_waiting",
        running="my_running", server_model_label="served_model",
    )  # fmt: skip
    q = build_queries(profile, "5m", build(["vllm"], profile))
    assert "rate(my_ttft_bucket[5m])" in q.health["vllm/ttft"]
    assert '"served_model", "(?s)(.+)")' in q.health["vllm/ttft"]
    assert q.health["vllm/queue"].startswith("sum by (warroom_model) (label_replace(my_waiting,")
    assert "my_running" in q.instant["pod_models"]
    # Renaming a model server's series says nothing of the gateway: still discovered.
    assert profile.discovered


def test_a_model_servers_latency_is_read_only_where_no_gateway_reports_latency(
    tmp_path: Path,
) -> None:
    """Its bucket rates cost Prometheus as much as the gateway's, and the gateway speaks
    for latency wherever it reports one: vLLM's end-to-end histogram is read when vLLM
    is the only stack, with its own over part (a's p99 lies past its 5 s top bucket)."""
    with_gateway = queries()
    assert not any(p.startswith("vllm/latency") for p in with_gateway.health)
    alone = build_queries(GENERIC, "5m", build(["vllm"], GENERIC))
    assert alone.health["vllm/latency"] == quantiles(VLLM_LATENCY, f"{MODEL}, le")
    a = {MODEL: "a"}
    tests = [
        (scaled(alone.health["vllm/latency"]), quantile_samples(a, E2E_A, E2E_LES)),
        (scaled(alone.health["vllm/latency_over"]), top_samples(a, E2E_A)),
        (scaled(alone.health["vllm/latency_over_all"]), top_samples({}, E2E_A)),
    ]
    run_rules_test(tmp_path, input_series(), tests)
    assert over_fraction(E2E_A) > 0.01  # the fold marks a's p99 beyond 5 s
