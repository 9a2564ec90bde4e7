"""Stale data: last good values kept, marked, aged; vanished models carried, not dropped."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from tui.clock import utc
from tui.domain.model import AGGREGATE, GpuEvent, GpuState, HistoryPoint, ModelHealth, Snapshot
from tui.refresh.tracker import EventLog, HealthTracker

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


def test_vanished_models_are_named_in_one_sentence() -> None:
    tr = HealthTracker(1800)
    tr.accept(snap(T0, "a", "b", "c", "d", "e"))
    shown = tr.accept(snap(T0 + 10, "a"))
    assert shown.error is not None and "\n" not in shown.error
    assert shown.error.startswith("No series for 4 models since ")
    assert "(b, c, d, …)" in shown.error and shown.error.endswith(".")
    one = tr.accept(snap(T0 + 20, "a", "b", "c", "d"))
    assert one.error is not None and one.error.startswith("No series for 1 model since")
    assert tr.accept(snap(T0 + 30, "a", "b", "c", "d", "e")).error is None


def test_a_model_gone_longer_than_the_history_is_dropped() -> None:
    tr = HealthTracker(history_s=600)
    tr.accept(snap(T0, "a", "retired"))
    assert tr.accept(snap(T0 + 600, "a")).model("retired") is not None
    shown = tr.accept(snap(T0 + 601, "a"))
    assert shown.model("retired") is None
    assert not shown.stale and shown.error is None


def test_a_refresh_without_one_usable_figure_says_so() -> None:
    tr = HealthTracker(1800)
    blank = replace(snap(T0, "a", "b"), models=(ModelHealth("a"), ModelHealth("b")))
    shown = tr.accept(blank)
    assert shown.error is not None and "No model has a usable figure (2 read" in shown.error
    assert tr.accept(snap(T0 + 10, "a", "b")).error is None


def test_history_grows_and_is_trimmed_to_the_window() -> None:
    tr = HealthTracker(history_s=60)
    tr.backfill({"a": [HistoryPoint(T0 - 100 + i * 10, 1.0, 0.0, 0.0) for i in range(10)]})
    tr.accept(snap(T0 + 5, "a", p99=3.0))
    pts = tr.points("a")
    assert pts[-1].p99_s == 3.0
    assert pts[0].at >= T0 + 5 - 60
    assert [p.at for p in pts] == sorted(p.at for p in pts)
    assert tr.points(AGGREGATE)[-1].p99_s == 3.0


# GPU events: each once, in time order, bounded.


def ev(t: float, detail: str = "XID 43 (GPU stopped processing)", gpu: int = 6) -> GpuEvent:
    return GpuEvent(at=utc(t), kind="xid", detail=detail, node="gpu-node-006", gpu=gpu)


def times(log: EventLog) -> list[float]:
    return [e.at.timestamp() - T0 for e in log.all()]


def test_event_log_takes_each_event_once() -> None:
    log = EventLog()
    assert log.add([ev(T0), ev(T0 + 5, gpu=7)]) == [ev(T0), ev(T0 + 5, gpu=7)]
    # The same events read again, and one new one beside them.
    assert log.add([ev(T0 + 5, gpu=7), ev(T0), ev(T0 + 9)]) == [ev(T0 + 9)]
    assert len(log) == 3
    assert times(log) == [0, 5, 9]


def test_event_log_tells_apart_events_differing_only_in_detail() -> None:
    log = EventLog()
    new = log.add(
        [ev(T0, "XID 31 (GPU memory page fault)"), ev(T0, "XID 43 (GPU stopped processing)")]
    )
    assert len(new) == 2
    assert len(log) == 2


def test_event_log_returns_new_events_oldest_first() -> None:
    log = EventLog()
    new = log.add([ev(T0 + 20), ev(T0), ev(T0 + 10)])
    assert [e.at for e in new] == [utc(T0), utc(T0 + 10), utc(T0 + 20)]


def test_event_log_keeps_time_order_when_older_events_arrive_later() -> None:
    log = EventLog()
    log.add([ev(T0 + 10), ev(T0 + 20)])
    log.add([ev(T0 + 5, "oom a"), ev(T0 + 15, "oom b")])
    assert times(log) == [5, 10, 15, 20]


def test_event_log_keeps_time_order_when_one_older_event_arrives_later() -> None:
    log = EventLog()
    log.add([ev(T0 + 10), ev(T0 + 20)])
    assert log.add([ev(T0 + 15, "oom")]) == [ev(T0 + 15, "oom")]
    assert times(log) == [10, 15, 20]


def test_event_log_drops_the_oldest_past_its_limit_and_forgets_its_key() -> None:
    log = EventLog(limit=3)
    log.add([ev(T0), ev(T0 + 1), ev(T0 + 2)])
    assert log.add([ev(T0 + 3)]) == [ev(T0 + 3)]
    assert len(log) == 3
    assert times(log) == [1, 2, 3]
    # Its key went with it: read again, the dropped event counts as new.
    assert log.add([ev(T0)]) == [ev(T0)]
    # Keys of events still held are remembered.
    assert log.add([ev(T0 + 3)]) == []


def test_event_log_bounded_in_one_large_batch() -> None:
    log = EventLog(limit=2)
    new = log.add([ev(T0 + i) for i in range(5)])
    assert len(new) == 5
    assert times(log) == [3, 4]
    assert log.add([ev(T0 + 4)]) == []


# GPUs: carried and marked stale when their reading fails, replaced when fresh.

GPU_A = GpuState("gpu-node-006", 6, "GPU-6-6", model="llama-70b", util_ratio=0.9, xid=0)
GPU_B = GpuState("gpu-node-006", 7, "GPU-6-7", model="llama-70b", util_ratio=0.4, xid=0)


def gsnap(
    t: float, *gpus: GpuState, gpu_error: str | None = None, events: tuple[GpuEvent, ...] = ()
) -> Snapshot:
    return replace(snap(t, "a"), gpus=gpus, gpu_error=gpu_error, events=tuple(events))


def test_gpus_read_at_is_none_before_any_gpu_reading() -> None:
    tr = HealthTracker(1800)
    assert tr.gpus_read_at is None
    tr.accept(gsnap(T0, gpu_error="no GPU source"))
    assert tr.gpus_read_at is None
    assert tr.current is not None and tr.current.gpus == ()


def test_fresh_gpus_are_shown_as_read() -> None:
    tr = HealthTracker(1800)
    shown = tr.accept(gsnap(T0, GPU_A, GPU_B))
    assert shown.gpus == (GPU_A, GPU_B)
    assert not any(g.stale for g in shown.gpus)
    assert tr.gpus_read_at == utc(T0)


def test_gpus_are_kept_stale_when_a_fresh_snapshot_has_none_but_a_gpu_error() -> None:
    tr = HealthTracker(1800)
    tr.accept(gsnap(T0, GPU_A, GPU_B))
    shown = tr.accept(gsnap(T0 + 10, gpu_error="GPU data not read: timed out"))
    assert shown.gpus == (replace(GPU_A, stale=True), replace(GPU_B, stale=True))
    assert shown.gpu_error == "GPU data not read: timed out"
    # The models are fresh: only the GPUs are old.
    assert not shown.stale and not shown.models[0].stale
    assert tr.gpus_read_at == utc(T0)
    # Another failed GPU reading keeps them, still stale, still dated from the first.
    again = tr.accept(gsnap(T0 + 20, gpu_error="GPU data not read: timed out"))
    assert again.gpus == (replace(GPU_A, stale=True), replace(GPU_B, stale=True))
    assert tr.gpus_read_at == utc(T0)


def test_no_gpus_and_no_error_clears_the_grid() -> None:
    tr = HealthTracker(1800)
    tr.accept(gsnap(T0, GPU_A))
    shown = tr.accept(gsnap(T0 + 10))
    assert shown.gpus == ()


def test_fresh_gpus_replace_stale_ones() -> None:
    tr = HealthTracker(1800)
    tr.accept(gsnap(T0, GPU_A, GPU_B))
    tr.accept(gsnap(T0 + 10, gpu_error="GPU data not read: timed out"))
    hot = replace(GPU_A, util_ratio=1.0, xid=43)
    shown = tr.accept(gsnap(T0 + 20, hot))
    assert shown.gpus == (hot,)
    assert shown.gpu_error is None
    assert tr.gpus_read_at == utc(T0 + 20)


def test_failed_refresh_marks_gpus_stale_and_keeps_events_in_the_log() -> None:
    tr = HealthTracker(1800)
    tr.accept(gsnap(T0, GPU_A, GPU_B, events=(ev(T0),)))
    shown = tr.fail("Prometheus at http://x refused the connection.")
    assert shown is not None
    assert shown.gpus == (replace(GPU_A, stale=True), replace(GPU_B, stale=True))
    assert shown.events == ()
    assert tr.events.all() == (ev(T0),)
    assert tr.gpus_read_at == utc(T0)
    recovered = tr.accept(gsnap(T0 + 10, GPU_A))
    assert recovered.gpus == (GPU_A,)


def test_accept_collects_events_and_reports_the_new_ones() -> None:
    tr = HealthTracker(1800)
    tr.accept(gsnap(T0, GPU_A, events=(ev(T0),)))
    assert tr.new_events == [ev(T0)]
    tr.accept(gsnap(T0 + 10, GPU_A, events=(ev(T0), ev(T0 + 10, gpu=7))))
    assert tr.new_events == [ev(T0 + 10, gpu=7)]
    tr.accept(gsnap(T0 + 20, GPU_A))
    assert tr.new_events == []
    assert tr.events.all() == (ev(T0), ev(T0 + 10, gpu=7))
