"""A restart reads the XIDs already recorded again, at other times: still one event each."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from demo_app import frozen_demo_app

from tui.clock import utc
from tui.domain.model import AGGREGATE, GpuState, ModelHealth, Snapshot
from tui.domain.report import all_events, group_events
from tui.domain.xid import XidChange, XidWatch
from tui.refresh.tracker import HealthTracker
from tui.store.incident import live_scope, open_or_start
from tui.store.timeline import Timeline

T0 = 1_790_000_000.0
GPUS = [
    GpuState(node="gpu-node-006", gpu=g, uuid=f"GPU-{g}", model="llama-70b",
             pod=f"llama-70b-{g}", namespace="inference", xid=43)
    for g in range(2)
]  # fmt: skip

FLEET = live_scope("prod", "http://prometheus:9090")
"""The fleet whose incident these runs share."""


def run_once(path: Path, started: float, changes: list[XidChange]) -> HealthTracker:
    """One warroom run: prime the watch from the history, read the GPUs, record."""
    timeline = open_or_start(path, FLEET, utc(started))
    tracker = HealthTracker(3600)
    watch = XidWatch()
    events = watch.prime(changes) + watch.observe(GPUS, utc(started))
    agg = ModelHealth(model=AGGREGATE)
    tracker.accept(Snapshot(taken_at=utc(started), source="t", models=(), aggregate=agg,
                            gpus=tuple(GPUS), events=tuple(events)))  # fmt: skip
    for e in tracker.new_events:
        timeline.record_gpu_event(e)
    return tracker


def test_restarts_keep_one_xid_per_gpu(tmp_path: Path) -> None:
    # The first run learned the XIDs live; later runs find them in the gauge's history,
    # at a step-aligned time that differs with each start.
    first = run_once(tmp_path, T0 + 10, [])
    assert len(first.events) == 2
    for n, started in enumerate((T0 + 100, T0 + 207), start=1):
        changes = [XidChange(replace(g, xid=0), 43, utc(T0 + 3 * n)) for g in GPUS]
        tracker = run_once(tmp_path, started, changes)
        timeline = open_or_start(tmp_path, FLEET, utc(started))
        entries = timeline.entries()
        assert [e["gpu"] for e in entries if e["kind"] == "gpu.xid"] == [0, 1]
        assert len(tracker.events) == 2
        # The report over the timeline alone (a replay, `warroom report`) says each once.
        groups = group_events(all_events(entries, ()))
        assert [g.count for g in groups] == [1, 1]
        assert all("×" not in g.text for g in groups)


def test_a_restarted_cockpit_reports_each_xid_once(tmp_path: Path) -> None:
    # The first run recorded the XIDs; the cockpit restarts on that incident and its first
    # refresh reads them again from the history, at another time.
    run_once(tmp_path, T0 + 10, [])
    started = T0 + 100
    timeline = open_or_start(tmp_path, FLEET, utc(started))
    app = frozen_demo_app("gpu-oom", timeline=timeline)
    watch = XidWatch()
    changes = [XidChange(replace(g, xid=0), 43, utc(T0 + 3)) for g in GPUS]
    events = watch.prime(changes) + watch.observe(GPUS, utc(started))
    assert {e.at for e in events}.isdisjoint(e.at for e in app.tracker.events.all())
    agg = ModelHealth(model=AGGREGATE)
    app.tracker.accept(Snapshot(taken_at=utc(started), source="t", models=(), aggregate=agg,
                                gpus=tuple(GPUS), events=tuple(events)))  # fmt: skip
    app.timeline_writer.append_gpu_events(app.tracker.new_events)
    # The report as `e` builds it: the tracker's events beside the timeline's, each once.
    report = app.incident_report()
    assert report is not None
    xids = [line for line in report.gpu_evidence if "XID 43" in line]
    assert len(xids) == 2
    assert all("×" not in line for line in xids)
    assert app.tracker.new_events == []
    assert [e.gpu for e in app.tracker.events.all() if e.kind == "xid"] == [0, 1]
    assert [e["gpu"] for e in timeline.entries() if e["kind"] == "gpu.xid"] == [0, 1]


def test_the_same_code_much_later_is_a_new_xid(tmp_path: Path) -> None:
    path = tmp_path / "i.jsonl"
    (event,) = XidWatch().prime([XidChange(GPUS[0], 43, utc(T0))])
    assert Timeline(path).record_gpu_event(event) is True
    (again,) = XidWatch().prime([XidChange(GPUS[0], 43, utc(T0 + 15))])
    assert Timeline(path).record_gpu_event(again) is False
    (later,) = XidWatch().prime([XidChange(GPUS[0], 43, utc(T0 + 3600))])
    assert Timeline(path).record_gpu_event(later) is True


def test_a_different_code_on_the_same_gpu_is_still_its_own_event(tmp_path: Path) -> None:
    path = tmp_path / "i.jsonl"
    tl = Timeline(path)
    watch = XidWatch()
    events = watch.prime([XidChange(GPUS[0], 43, utc(T0)), XidChange(GPUS[0], 79, utc(T0 + 5))])
    assert [tl.record_gpu_event(e) for e in events] == [True, True]
    assert len({e.key for e in events}) == 2
