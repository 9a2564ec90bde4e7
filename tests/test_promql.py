"""The PromQL builder: pinned query text, label escaping, and what the queries compute.

Correctness is checked by Prometheus's own engine, without a server: `promtool test rules`
evaluates each built query against ``input_series`` and compares the result with
``exp_samples`` exactly (labels and values). Float figures are compared through
``round(1e6 * (query))`` so the check is exact on integers, not on the last bit of a
float.
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
from tui.histogram import histogram_quantile
from tui.sources.promql import (
    QuerySet,
    build_queries,
    escape_label_value,
    selector,
)

GENERIC = MetricProfile()

# -- pinned query text -------------------------------------------------------------------

LATENCY_BY_MODEL = "sum by (model, le) (rate(http_request_duration_seconds_bucket[5m]))"
LATENCY_ALL = "sum by (le) (rate(http_request_duration_seconds_bucket[5m]))"
REQUESTS = "rate(http_requests_total[5m])"
ERRORS = 'rate(http_requests_total{status_code=~"5.."}[5m])'
LIMITED = 'rate(http_requests_total{status_code="429"}[5m])'
TTFT_RATE = 'rate({__name__=~"vllm[:_]time_to_first_token_seconds_bucket"}[5m])'


def tagged(inner: str) -> str:
    return " or ".join(
        f'label_replace(histogram_quantile({q}, {inner}), "quantile", "{q}", "", "")'
        for q in ("0.5", "0.95", "0.99")
    )


GENERIC_HEALTH = {
    "latency": tagged(LATENCY_BY_MODEL),
    "latency_all": tagged(LATENCY_ALL),
    "requests": f"sum by (model, status_code) ({REQUESTS})",
    "ttft": f"histogram_quantile(0.99, sum by (model_name, le) ({TTFT_RATE}))",
    "ttft_all": f"histogram_quantile(0.99, sum by (le) ({TTFT_RATE}))",
    "queue": 'sum by (model_name) ({__name__=~"vllm[:_]num_requests_waiting"})',
    "rejected_keys": (
        "topk(5, sum by (api_key_id) (rate(gateway_ratelimit_rejections_total[5m]))) or "
        'label_replace(sum(rate(gateway_ratelimit_rejections_total[5m])), "warroom_total", '
        '"true", "", "")'
    ),
}
GENERIC_INSTANT = {
    "health": " or ".join(
        f'label_replace({query}, "warroom_query", "{name}", "", "")'
        for name, query in GENERIC_HEALTH.items()
    )
}
GPU_BY = "Hostname, hostname, gpu, UUID, modelName, pod, namespace"
DCGM_GAUGES = (
    ("util", "DCGM_FI_DEV_GPU_UTIL"),
    ("fb_used", "DCGM_FI_DEV_FB_USED"),
    ("fb_free", "DCGM_FI_DEV_FB_FREE"),
    ("temp", "DCGM_FI_DEV_GPU_TEMP"),
    ("power", "DCGM_FI_DEV_POWER_USAGE"),
    ("xid", "DCGM_FI_DEV_XID_ERRORS"),
)
GENERIC_INSTANT["gpus"] = " or ".join(
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
GENERIC_INSTANT["pod_models"] = (
    'group by (namespace, pod, model_name) ({__name__=~"vllm[:_]num_requests_running"})'
)
GENERIC_XID_HISTORY = f"max by ({GPU_BY}) (DCGM_FI_DEV_XID_ERRORS) != 0"
GENERIC_RANGE = {
    "p99": f"histogram_quantile(0.99, {LATENCY_BY_MODEL})",
    "p99_all": f"histogram_quantile(0.99, {LATENCY_ALL})",
    "error_5xx": (
        f"(sum by (model) ({ERRORS}) or 0 * sum by (model) ({REQUESTS})) "
        f"/ sum by (model) ({REQUESTS})"
    ),
    "error_5xx_all": f"(sum({ERRORS}) or 0 * sum({REQUESTS})) / sum({REQUESTS})",
    "rate_429": (
        f"(sum by (model) ({LIMITED}) or 0 * sum by (model) ({REQUESTS})) "
        f"/ sum by (model) ({REQUESTS})"
    ),
    "rate_429_all": f"(sum({LIMITED}) or 0 * sum({REQUESTS})) / sum({REQUESTS})",
}


def test_requests_query_is_pinned() -> None:
    q = build_queries(GENERIC, "5m")
    assert q.health["requests"] == "sum by (model, status_code) (rate(http_requests_total[5m]))"


def test_latency_query_is_pinned() -> None:
    q = build_queries(GENERIC, "5m")
    assert q.health["latency"] == (
        "label_replace(histogram_quantile(0.5, sum by (model, le) (rate("
        'http_request_duration_seconds_bucket[5m]))), "quantile", "0.5", "", "") or '
        "label_replace(histogram_quantile(0.95, sum by (model, le) (rate("
        'http_request_duration_seconds_bucket[5m]))), "quantile", "0.95", "", "") or '
        "label_replace(histogram_quantile(0.99, sum by (model, le) (rate("
        'http_request_duration_seconds_bucket[5m]))), "quantile", "0.99", "", "")'
    )


def test_every_generic_query_is_pinned() -> None:
    q = build_queries(GENERIC, "5m")
    assert q == QuerySet(
        health=GENERIC_HEALTH,
        instant=GENERIC_INSTANT,
        range=GENERIC_RANGE,
        xid_history=GENERIC_XID_HISTORY,
    )


def test_window_is_written_as_a_promql_duration() -> None:
    assert "[90s]" in build_queries(GENERIC, "90s").health["requests"]
    assert "[1h]" in build_queries(GENERIC, "60m").health["requests"]
    assert "[90m]" in build_queries(GENERIC, "1h30m").health["requests"]


def test_istio_profile_adds_its_matchers_to_gateway_series_only() -> None:
    istio = MetricProfile(**PROFILES["istio"])
    q = build_queries(istio, "5m")
    assert q.health["requests"] == (
        "sum by (destination_workload, response_code) "
        '(rate(istio_requests_total{reporter="destination"}[5m]))'
    )
    assert (
        'istio_request_duration_milliseconds_bucket{reporter="destination"}'
        in (q.health["latency"])
    )
    assert (
        'rate(istio_requests_total{reporter="destination",response_code=~"5.."}[5m])'
        in (q.range["error_5xx"])
    )
    # vLLM and rate-limiter series do not carry the gateway's labels.
    assert "reporter" not in q.health["ttft"]
    assert "reporter" not in q.health["queue"]
    assert "reporter" not in q.health["rejected_keys"]


# -- a fixed number of queries -------------------------------------------------------------


def test_query_set_depends_on_profile_and_window_only() -> None:
    assert list(inspect.signature(build_queries).parameters) == ["profile", "window"]


@pytest.mark.parametrize("profile", sorted(PROFILES))
@pytest.mark.parametrize("window", ["30s", "5m", "1h"])
def test_number_of_queries_is_fixed(profile: str, window: str) -> None:
    q = build_queries(MetricProfile(**PROFILES[profile]), window)
    assert sorted(q.health) == sorted(GENERIC_HEALTH)
    assert sorted(q.instant) == sorted(GENERIC_INSTANT)
    assert sorted(q.range) == sorted(GENERIC_RANGE)
    assert len(q.instant) == 3
    assert len(q.range) == 6


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
        build_queries(MetricProfile(**override), "5m")
    assert named in str(caught.value)


def test_invalid_window_raises_value_error() -> None:
    with pytest.raises(ValueError, match="not a duration"):
        build_queries(GENERIC, "five minutes")


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

LATENCY_LES = ("0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf")
TTFT_LES = ("0.05", "0.1", "0.5", "1", "+Inf")
# Cumulative bucket increments per minute.
LATENCY_A = (6, 18, 36, 48, 56, 60, 60)
LATENCY_B = (12, 30, 30, 30, 30, 30, 30)
TTFT_A = (18, 36, 54, 60, 60)
TTFT_B = (30, 30, 30, 30, 30)
KEYS = {  # (api_key_id, tenant): rejections per minute
    ("k1", "t1"): 48,
    ("k1", "t2"): 24,  # k1 in total: 72/min = 1.2/s
    ("k2", "t1"): 24,
    ("k3", "t3"): 12,
    ("k4", "t1"): 6,
    ("k5", "t2"): 3.6,
    ("k6", "t3"): 2.4,  # the sixth key: in the total, not in the top 5
}


def bucket_quantile(q: float, les: Sequence[str], counts: Sequence[float]) -> float:
    """What the buckets imply, by PromQL's interpolation (`tui.histogram`, itself tested
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
    # Model a's vLLM writes colon names, model b's underscore names: both are read.
    for prefix, model, counts in (("vllm:", "a", TTFT_A), ("vllm_", "b", TTFT_B)):
        for le, n in zip(TTFT_LES, counts, strict=True):
            name = f"{prefix}time_to_first_token_seconds_bucket"
            s[labels(name, model_name=model, le=le)] = f"0+{n}x10"
    s[labels("vllm:num_requests_waiting", model_name="a", engine="0")] = "3+0x10"
    s[labels("vllm:num_requests_waiting", model_name="a", engine="1")] = "4+0x10"
    s[labels("vllm_num_requests_waiting", model_name="b")] = "2+0x10"
    for (key, tenant), per_min in KEYS.items():
        s[labels("gateway_ratelimit_rejections_total", api_key_id=key, tenant=tenant)] = (
            f"0+{per_min}x10"
        )
    return s


def quantile_samples(model_labels: dict[str, str], counts: Sequence[float]) -> list[Any]:
    return [
        (labels(**model_labels, quantile=q), ppm(bucket_quantile(float(q), LATENCY_LES, counts)))
        for q in ("0.5", "0.95", "0.99")
    ]


def test_instant_queries_compute_per_model_figures(tmp_path: Path) -> None:
    """Each part of the health query on its own, then the one query that joins them: it
    must answer every part's series, each tagged with the part's name."""
    q = build_queries(GENERIC, "5m")
    latency_all = [a + b for a, b in zip(LATENCY_A, LATENCY_B, strict=True)]
    ttft_all = [a + b for a, b in zip(TTFT_A, TTFT_B, strict=True)]
    key_rate = {"k1": 1.2, "k2": 0.4, "k3": 0.2, "k4": 0.1, "k5": 0.06}
    parts: dict[str, list[tuple[str, int]]] = {
        "requests": [
            (labels(model="a", status_code="200"), ppm(51 / 60)),
            (labels(model="a", status_code="500"), ppm(2 / 60)),
            (labels(model="a", status_code="503"), ppm(1 / 60)),
            (labels(model="a", status_code="429"), ppm(6 / 60)),
            (labels(model="b", status_code="200"), ppm(30 / 60)),
        ],
        "latency": (
            quantile_samples({"model": "a"}, LATENCY_A)
            + quantile_samples({"model": "b"}, LATENCY_B)
        ),
        "latency_all": quantile_samples({}, latency_all),
        "ttft": [
            (labels(model_name="a"), ppm(bucket_quantile(0.99, TTFT_LES, TTFT_A))),
            (labels(model_name="b"), ppm(bucket_quantile(0.99, TTFT_LES, TTFT_B))),
        ],
        "ttft_all": [("{}", ppm(bucket_quantile(0.99, TTFT_LES, ttft_all)))],
        "queue": [(labels(model_name="a"), ppm(7)), (labels(model_name="b"), ppm(2))],
        "rejected_keys": (
            [(labels(api_key_id=k), ppm(v)) for k, v in key_rate.items()]
            + [(labels(warroom_total="true"), ppm(2.0))]
        ),
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


def test_range_queries_compute_ratios_with_zero_not_absent(tmp_path: Path) -> None:
    r = build_queries(GENERIC, "5m").range
    latency_all = [a + b for a, b in zip(LATENCY_A, LATENCY_B, strict=True)]
    tests = [
        (
            scaled(r["p99"]),
            [
                (labels(model="a"), ppm(bucket_quantile(0.99, LATENCY_LES, LATENCY_A))),
                (labels(model="b"), ppm(bucket_quantile(0.99, LATENCY_LES, LATENCY_B))),
            ],
        ),
        (scaled(r["p99_all"]), [("{}", ppm(bucket_quantile(0.99, LATENCY_LES, latency_all)))]),
        # b has no 5xx and no 429 series: its ratios must read 0, not be missing.
        (scaled(r["error_5xx"]), [(labels(model="a"), ppm(0.05)), (labels(model="b"), 0)]),
        (scaled(r["error_5xx_all"]), [("{}", ppm(3 / 90))]),
        (scaled(r["rate_429"]), [(labels(model="a"), ppm(0.10)), (labels(model="b"), 0)]),
        (scaled(r["rate_429_all"]), [("{}", ppm(6 / 90))]),
    ]
    run_rules_test(tmp_path, input_series(), tests)


def test_ratios_are_zero_when_no_model_has_errors(tmp_path: Path) -> None:
    r = build_queries(GENERIC, "5m").range
    series = {
        labels("http_requests_total", model="a", status_code="200"): "0+60x10",
        labels("http_requests_total", model="b", status_code="201"): "0+30x10",
    }
    tests = [
        (r["error_5xx"], [(labels(model="a"), 0), (labels(model="b"), 0)]),
        (r["error_5xx_all"], [("{}", 0)]),
        (r["rate_429"], [(labels(model="a"), 0), (labels(model="b"), 0)]),
        (r["rate_429_all"], [("{}", 0)]),
    ]
    run_rules_test(tmp_path, series, tests)


def test_istio_queries_compute_per_workload_figures(tmp_path: Path) -> None:
    """The matcher keeps the source-side duplicate (reporter="source") out of the sums."""
    istio = MetricProfile(**PROFILES["istio"])
    q = build_queries(istio, "5m")
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
    tests = [
        (
            scaled(q.health["requests"]),
            [
                (labels(destination_workload="w", response_code="200"), ppm(57 / 60)),
                (labels(destination_workload="w", response_code="503"), ppm(3 / 60)),
            ],
        ),
        (scaled(q.range["error_5xx"]), [(labels(destination_workload="w"), ppm(0.05))]),
    ]
    run_rules_test(tmp_path, series, tests)


def test_gpu_query_tags_each_gauge_and_keeps_either_host_label(tmp_path: Path) -> None:
    """Released dcgm-exporter says ``Hostname``, newer main ``hostname``: both come
    through; the labels the grid does not need are dropped; an idle GPU (empty pod) stays."""
    q = build_queries(GENERIC, "5m").instant
    common = {"gpu": "3", "UUID": "GPU-a", "modelName": "H100", "device": "nvidia3"}
    old = {**common, "Hostname": "n1", "pod": "p1", "namespace": "inference"}
    new = {"gpu": "0", "UUID": "GPU-b", "modelName": "H100", "hostname": "n2"}
    series = {
        labels("DCGM_FI_DEV_GPU_UTIL", **old): "87+0x10",
        labels("DCGM_FI_DEV_FB_USED", **old): "81000+0x10",
        labels("DCGM_FI_DEV_XID_ERRORS", **old, err_code="43", err_msg="x"): "43+0x10",
        labels("DCGM_FI_DEV_GPU_UTIL", **new): "5+0x10",
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
                (labels(Hostname="n1", gpu="3", warroom_field="xid"), 43),
                (labels(**new, warroom_field="identity"), 1),
                (labels(hostname="n2", gpu="0", warroom_field="util"), 5),
            ],
        ),
        (q["pod_models"], [(labels(model_name="m", namespace="inference", pod="p1"), 1)]),
    ]
    run_rules_test(tmp_path, series, tests)


def test_xid_history_keeps_only_gpus_with_a_code(tmp_path: Path) -> None:
    xid = build_queries(GENERIC, "5m").xid_history
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
