"""The ordering rule: worst multiple of an SLO threshold first."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from pytest import MonkeyPatch

from tui.config import Slo
from tui.domain import severity
from tui.domain.assessed import judge, judge_rows
from tui.domain.model import AGGREGATE, ModelHealth, Snapshot
from tui.domain.severity import Level, assess, level_of, pane_order, rank

SLO = Slo(p99_s=5.0, error_5xx_ratio=0.01, rate_429_ratio=0.05)


def h(
    name: str,
    p99: float | None = 1.0,
    e5: float | None = 0.0,
    r429: float | None = 0.0,
    rps: float = 1.0,
) -> ModelHealth:
    return ModelHealth(name, p99_s=p99, error_5xx_ratio=e5, rate_429_ratio=r429, rps=rps)


def test_worst_signal_decides() -> None:
    a = assess(h("m", p99=6.0, e5=0.05), SLO)
    assert a.worst == "error_5xx_ratio"
    assert a.severity == 5.0
    assert a.level == Level.BREACH


def test_warning_band() -> None:
    assert assess(h("m", p99=4.2), SLO).level == Level.WARN
    assert assess(h("m", p99=3.9), SLO).level == Level.OK


def test_no_data_is_its_own_level() -> None:
    a = assess(h("m", p99=None, e5=None, r429=None), SLO)
    assert a.level == Level.NO_DATA
    assert a.worst is None


def test_rank_worst_first_then_busier_then_name() -> None:
    models = [
        h("quiet-ok"),
        h("low-volume-5xx", e5=0.2, rps=2.0),
        h("slow", p99=7.5, rps=500.0),
        h("b-tied", p99=6.0, rps=10.0),
        h("a-tied", p99=6.0, rps=10.0),
        h("busy-tied", p99=6.0, rps=99.0),
    ]
    order = [m.model for m in rank(models, SLO, judge_rows(models, SLO))]
    assert order == ["low-volume-5xx", "slow", "busy-tied", "a-tied", "b-tied", "quiet-ok"]


def test_latency_is_never_a_mean() -> None:
    # The pane judges p99; a model with a fine median but a bad tail still breaches.
    m = ModelHealth(
        "tail", p50_s=0.4, p95_s=1.0, p99_s=30.0, error_5xx_ratio=0.0, rate_429_ratio=0.0
    )
    assert assess(m, SLO).worst == "p99_s"
    assert assess(m, SLO).level == Level.BREACH


def test_a_value_exactly_on_the_warning_line_warns() -> None:
    """0.05 x 0.8 is 0.04000000000000001 in floating point; 4 % of 429s must still warn."""
    slo = Slo()
    assert level_of(0.04, slo.rate_429_ratio, slo) == Level.WARN
    assert level_of(0.0399, slo.rate_429_ratio, slo) == Level.OK


def test_the_pane_ranks_the_sick_and_keeps_the_healthy_in_name_order() -> None:
    models = [
        h("zeta-busy-ok", rps=900.0),
        h("gone", p99=None, e5=None, r429=None),
        h("alpha-quiet-ok", p99=3.9, rps=1.0),
        h("warn-429", r429=0.045, rps=5.0),
        h("breach-5xx", e5=0.2, rps=2.0),
    ]
    order = [m.model for m in pane_order(models, SLO, judge_rows(models, SLO))]
    assert order == ["breach-5xx", "warn-429", "alpha-quiet-ok", "zeta-busy-ok", "gone"]
    # Healthy figures moving within their SLOs move no row...
    calmer = [
        replace(m, p99_s=0.1 if m.model == "alpha-quiet-ok" else 3.5, rps=9.0)
        if m.model.endswith("-ok") else m
        for m in models
    ]  # fmt: skip
    assert [m.model for m in pane_order(calmer, SLO, judge_rows(calmer, SLO))] == order
    # ...while one reaching its warning line joins the ranked, by severity.
    warned = [replace(m, p99_s=4.9) if m.model == "zeta-busy-ok" else m for m in models]
    assert [m.model for m in pane_order(warned, SLO, judge_rows(warned, SLO))][:3] == [
        "breach-5xx", "zeta-busy-ok", "warn-429"
    ]  # fmt: skip


# -- TTFT, queue and KV cache; verdicts once per refresh ----------------------------------


def test_ttft_queue_and_kv_cache_decide_like_the_others() -> None:
    calm = h("m")
    assert assess(replace(calm, ttft_p99_s=3.9), SLO).worst == "ttft_p99_s"
    assert assess(replace(calm, queue_depth=34), SLO).level == Level.BREACH
    assert assess(replace(calm, kv_cache_ratio=0.97), SLO).worst == "kv_cache_ratio"
    # The whole API's queue is a sum over every server, its KV cache the fullest pod
    # anywhere: neither is held to a per-model line.
    whole = replace(calm, model=AGGREGATE, queue_depth=340, kv_cache_ratio=0.99)
    assert assess(whole, SLO).level == Level.OK


def test_verdicts_are_judged_once_and_read_by_the_order(monkeypatch: MonkeyPatch) -> None:
    models = (h("a", p99=6.0), h("b", e5=0.009), h("c"))
    snap = Snapshot(
        taken_at=datetime(2026, 12, 7, tzinfo=UTC), source="test", models=models,
        aggregate=h(AGGREGATE),
    )  # fmt: skip
    verdicts = judge(snap, SLO)
    assert verdicts.breaching == 1
    calls: list[str] = []
    real = severity.assess
    monkeypatch.setattr(severity, "assess", lambda m, slo: calls.append(m.model) or real(m, slo))
    assert [m.model for m in pane_order(models, SLO, verdicts)] == ["a", "b", "c"]
    assert calls == []  # read, not judged again
    # A row that is not the one judged (another refresh's) is judged afresh.
    stranger = h("a", p99=1.0)
    assert verdicts.of(stranger, SLO).level == Level.OK
    assert calls == ["a"]
