"""Stale data: last good values kept, marked, aged; vanished models carried, not dropped."""

from __future__ import annotations

from datetime import timedelta

from tui.clock import utc
from tui.model import AGGREGATE, HistoryPoint, ModelHealth, Snapshot
from tui.tracker import HealthTracker

T0 = 1_790_000_000.0


def snap(t: float, *names: str, p99: float = 1.0) -> Snapshot:
    return Snapshot(
        taken_at=utc(t),
        source="test",
        models=tuple(ModelHealth(n, p99_s=p99, error_5xx_ratio=0.0) for n in names),
        aggregate=ModelHealth(AGGREGATE, p99_s=p99),
    )


def test_failure_keeps_last_good_values_marked_stale() -> None:
    tr = HealthTracker(history_s=1800)
    tr.accept(snap(T0, "a", "b", p99=2.5))
    shown = tr.fail("Prometheus at http://x refused the connection.")
    assert shown is not None
    assert shown.error == "Prometheus at http://x refused the connection."
    assert shown.stale_since == utc(T0)
    assert all(m.stale and m.p99_s == 2.5 for m in shown.models)
    assert shown.aggregate.stale
    # A second failure does not move the age forward.
    again = tr.fail("still down")
    assert again is not None and again.stale_since == utc(T0)


def test_failure_before_any_data_shows_nothing() -> None:
    assert HealthTracker(1800).fail("down") is None


def test_recovery_clears_stale() -> None:
    tr = HealthTracker(1800)
    tr.accept(snap(T0, "a"))
    tr.fail("down")
    shown = tr.accept(snap(T0 + 10, "a"))
    assert not shown.stale and shown.error is None
    assert not shown.models[0].stale


def test_vanished_model_is_carried_stale_with_its_age() -> None:
    tr = HealthTracker(1800)
    tr.accept(snap(T0, "a", "b"))
    tr.accept(snap(T0 + 10, "a", "b"))
    shown = tr.accept(snap(T0 + 20, "a"))
    b = shown.model("b")
    assert b is not None and b.stale
    assert shown.stale_since == utc(T0 + 10)
    assert shown.taken_at - shown.stale_since == timedelta(seconds=10)


def test_history_grows_and_is_trimmed_to_the_window() -> None:
    tr = HealthTracker(history_s=60)
    tr.backfill({"a": [HistoryPoint(T0 - 100 + i * 10, 1.0, 0.0, 0.0) for i in range(10)]})
    tr.accept(snap(T0 + 5, "a", p99=3.0))
    pts = tr.points("a")
    assert pts[-1].p99_s == 3.0
    assert pts[0].at >= T0 + 5 - 60
    assert [p.at for p in pts] == sorted(p.at for p in pts)
    assert tr.points(AGGREGATE)[-1].p99_s == 3.0
