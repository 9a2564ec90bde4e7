"""The fold of every adapter's answers into model rows: which stack speaks for which
figure, "no source" against zero, and quantiles known only as a lower bound."""

from __future__ import annotations

import pytest

from tui.config import MetricProfile
from tui.domain.model import AGGREGATE
from tui.sources.stacks import build
from tui.sources.stacks.base import MODEL, Stack
from tui.sources.stacks.fold import fold, unsourced


def m(model: str, **labels: str) -> dict[str, str]:
    return {MODEL: model, **labels}


GENERIC, VLLM = build(["generic", "vllm"], MetricProfile())


def test_the_gateway_speaks_for_traffic_and_the_server_for_ttft_queue_and_kv() -> None:
    rows, whole = fold(
        [GENERIC, VLLM],
        {
            "generic/requests": [(m("a"), 10.0)],
            "generic/errors": [(m("a"), 1.0)],
            "generic/limited": [(m("a"), 0.0)],
            "generic/latency": [(m("a", quantile="0.99"), 2.0)],
            "vllm/requests": [(m("a"), 9.0)],
            "vllm/latency": [(m("a", quantile="0.99"), 1.5)],
            "vllm/ttft": [(m("a"), 0.4)],
            "vllm/queue": [(m("a"), 34.0)],
            "vllm/kv_cache": [(m("a"), 0.97)],
            "generic/requests_all": [({}, 10.0)],
            "generic/errors_all": [({}, 1.0)],
        },
    )
    (a,) = rows
    assert (a.rps, a.error_5xx_ratio, a.rate_429_ratio, a.p99_s) == (10.0, 0.1, 0.0, 2.0)
    assert (a.ttft_p99_s, a.queue_depth, a.kv_cache_ratio) == (0.4, 34.0, 0.97)
    assert whole.model == AGGREGATE
    assert (whole.rps, whole.error_5xx_ratio) == (10.0, 0.1)


def test_a_model_no_gateway_reports_falls_back_to_its_servers_figures() -> None:
    rows, _ = fold(
        [GENERIC, VLLM],
        {
            "generic/requests": [(m("a"), 10.0)],
            "vllm/requests": [(m("a"), 9.0), (m("b"), 3.0)],
            "vllm/latency": [(m("b", quantile="0.99"), 4.0)],
        },
    )
    b = next(r for r in rows if r.model == "b")
    assert (b.rps, b.p99_s) == (3.0, 4.0)
    # vLLM's engine counts no status: b's 5xx and 429 have no source, not 0 %.
    assert b.error_5xx_ratio is None and b.rate_429_ratio is None


def test_a_quantile_past_the_top_finite_bucket_is_flagged_as_a_lower_bound() -> None:
    rows, whole = fold(
        [GENERIC],
        {
            "generic/requests": [(m("a"), 10.0)],
            # histogram_quantile answers the top finite bound (1 s) for a p99 in +Inf,
            # and 9 % of the requests lie past that bound: p99 and p95 are unknown, p50 is.
            "generic/latency": [(m("a", quantile=q), v) for q, v in
                                (("0.5", 0.4), ("0.95", 1.0), ("0.99", 1.0))],
            # The top finite bucket holds 91 of every 100 requests; the +Inf bucket all.
            "generic/latency_over": [(m("a"), 9.1), (m("a", warroom_top="inf"), 10.0)],
            "generic/latency_all": [({"quantile": "0.99"}, 1.0)],
            "generic/latency_over_all": [({}, 199.0), ({"warroom_top": "inf"}, 200.0)],
        },
    )  # fmt: skip
    (a,) = rows
    assert a.beyond == frozenset({"p95_s", "p99_s"})
    assert a.p99_s == 1.0
    assert whole.beyond == frozenset()


def test_two_servers_of_one_model_keep_the_worst_quantile_and_add_queues() -> None:
    class OtherServer(Stack):
        name, title, layer, source, detect = "other", "Other", "server", "-", ()

    rows, _ = fold(
        [VLLM, OtherServer()],
        {
            "vllm/requests": [(m("a"), 2.0)],
            "vllm/ttft": [(m("a"), 0.5)],
            "vllm/queue": [(m("a"), 3.0)],
            "vllm/kv_cache": [(m("a"), 0.4)],
            "other/requests": [(m("a"), 1.0)],
            "other/ttft": [(m("a"), 0.9)],
            "other/queue": [(m("a"), 4.0)],
            "other/kv_cache": [(m("a"), 0.7)],
        },
    )
    (a,) = rows
    # The same model under two servers: the busier one speaks for its traffic; queues
    # add up (pods of both wait), the worst TTFT and fullest KV cache stand.
    assert (a.rps, a.ttft_p99_s, a.queue_depth, a.kv_cache_ratio) == (2.0, 0.9, 7.0, 0.7)


def test_nan_from_a_histogram_with_no_traffic_reads_as_no_data() -> None:
    answers = {
        "generic/requests": [(m("a"), 0.0)],
        "generic/errors": [(m("a"), 0.0)],
        "generic/latency": [(m("a", quantile="0.99"), float("nan"))],
    }
    rows, _ = fold([GENERIC], answers)
    (a,) = rows
    assert a.p99_s is None
    assert a.error_5xx_ratio is None  # no traffic: no ratio, not 0 %


@pytest.mark.parametrize(
    ("names", "missing"),
    [
        (["generic", "vllm"], frozenset()),
        (["vllm"], frozenset({"error_5xx_ratio", "rate_429_ratio"})),
    ],
)
def test_unsourced_names_the_figures_no_stack_in_use_feeds(
    names: list[str], missing: frozenset[str]
) -> None:
    from tui.sources.queries import build_queries

    stacks = build(names, MetricProfile())
    parts = build_queries(MetricProfile(), "5m", stacks).health
    assert unsourced(stacks, parts) == missing


def test_two_stacks_that_saw_the_same_requests_are_not_added_up() -> None:
    class HttpServer(Stack):
        name, title, layer, source, detect = "http", "HTTP", "server", "-", ()

    rows, whole = fold(
        [VLLM, HttpServer()],
        {
            # vLLM's engine and its own HTTP server count the same requests of model a.
            "vllm/requests": [(m("a"), 9.0)],
            "http/requests": [(m("a"), 10.0)],
            "http/errors": [(m("a"), 1.0)],
            "vllm/requests_all": [({}, 9.0)],
            "http/requests_all": [({}, 10.0)],
            "http/errors_all": [({}, 1.0)],
        },
    )
    (a,) = rows
    assert (a.rps, a.error_5xx_ratio) == (10.0, 0.1)
    assert (whole.rps, whole.error_5xx_ratio) == (10.0, 0.1)


def test_stacks_serving_different_models_add_up_in_the_whole_api() -> None:
    class OtherServer(Stack):
        name, title, layer, source, detect = "other", "Other", "server", "-", ()

    _, whole = fold(
        [VLLM, OtherServer()],
        {
            "vllm/requests": [(m("a"), 9.0)],
            "other/requests": [(m("b"), 3.0)],
            "vllm/requests_all": [({}, 9.0)],
            "other/requests_all": [({}, 3.0)],
        },
    )
    assert whole.rps == 12.0


def test_a_stack_sharing_models_with_one_and_not_another_still_adds_up() -> None:
    class HttpServer(Stack):
        name, title, layer, source, detect = "http", "HTTP", "server", "-", ()

    class OtherServer(Stack):
        name, title, layer, source, detect = "other", "Other", "server", "-", ()

    _, whole = fold(
        [VLLM, HttpServer(), OtherServer()],
        {
            # vLLM's engine and its HTTP server both count model a; another server b.
            "vllm/requests": [(m("a"), 9.0)],
            "http/requests": [(m("a"), 10.0)],
            "other/requests": [(m("b"), 3.0)],
            "other/errors": [(m("b"), 3.0)],
            "vllm/requests_all": [({}, 9.0)],
            "http/requests_all": [({}, 10.0)],
            "http/errors_all": [({}, 0.0)],
            "other/requests_all": [({}, 3.0)],
            "other/errors_all": [({}, 3.0)],
        },
    )
    assert whole.rps == 13.0
    assert whole.error_5xx_ratio == pytest.approx(3 / 13)
