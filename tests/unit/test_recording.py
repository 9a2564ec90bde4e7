"""Recording an incident's snapshots to disk and playing them back: a lossless round trip,
a size that stays bounded, files that survive crashes, and a clock and source to replay
them with."""

from __future__ import annotations

import errno
import gzip
import itertools
import json
import math
import os
from dataclasses import fields, replace
from datetime import timedelta
from pathlib import Path

import pytest

from tui.clock import FrozenClock, utc
from tui.domain.model import (
    AGGREGATE,
    GpuEvent,
    GpuProcess,
    GpuState,
    KeyRejections,
    ModelHealth,
    Snapshot,
)
from tui.sim.source import DemoSource
from tui.sources.replay import ReplayClock, ReplaySource
from tui.store.incident import live_scope, open_or_start
from tui.store.recording import (
    FORMAT,
    Recorder,
    Recording,
    RecordingError,
    read_recording,
    recording_path,
    snapshot_from_json,
    snapshot_to_json,
)

EPOCH = 1_795_000_000.0
REFRESH_S = 5.0
MINUTES = 30

FLEET = live_scope("prod", "http://prometheus:9090")
"""The fleet whose incident these runs share."""


@pytest.fixture(scope="module")
def incident() -> tuple[Snapshot, ...]:
    """Thirty simulated minutes of ``gpu-oom`` over 12 models, one refresh every 5 s: the
    onset at 3 min, XID 31 and XID 43 shortly after."""
    clock = FrozenClock(EPOCH)
    demo = DemoSource("gpu-oom", models=12, clock=clock, epoch=EPOCH)
    snapshots = []
    for step in range(int(MINUTES * 60 / REFRESH_S) + 1):
        clock.at = EPOCH + step * REFRESH_S
        snapshots.append(demo.refresh_now())
    return tuple(snapshots)


def record_all(path: Path, snapshots: tuple[Snapshot, ...], **kwargs: float) -> Recorder:
    recorder = Recorder(path, source=snapshots[0].source, **kwargs)  # type: ignore[arg-type]
    for snapshot in snapshots:
        recorder.record(snapshot)
    return recorder


def members(*lines: object) -> bytes:
    """A recording written by hand: one gzip member per line (a str is written as is)."""
    return b"".join(
        gzip.compress(((x if isinstance(x, str) else json.dumps(x)) + "\n").encode()) for x in lines
    )


def header(**overrides: object) -> dict[str, object]:
    return {"format": FORMAT, "source": "demo gpu-oom", "started": "2026-11-18T11:06:40Z"} | (
        overrides
    )


def one_sentence(message: str, path: Path) -> None:
    assert str(path) in message
    assert "\n" not in message
    assert message.endswith(".")


def events_of(snapshots: tuple[Snapshot, ...] | list[Snapshot]) -> list[GpuEvent]:
    return [e for s in snapshots for e in s.events]


# -- round trip


def test_every_simulated_snapshot_round_trips(incident: tuple[Snapshot, ...]) -> None:
    assert all(s.gpus for s in incident)
    assert len(events_of(incident)) == 2  # XID 31 and XID 43
    for snapshot in incident:
        text = json.dumps(snapshot_to_json(snapshot))
        assert snapshot_from_json(json.loads(text)) == snapshot


def test_every_field_round_trips_exactly() -> None:
    at = utc(EPOCH) + timedelta(microseconds=123_456)
    gpu = GpuState(
        node="n1", gpu=3, uuid="GPU-1", model="m", pod="p", namespace="ns", product="H100",
        util_ratio=0.1 + 0.2, mem_used_bytes=1.5, mem_total_bytes=80 * 1024**3, temp_c=71.25,
        power_w=512.123456789, xid=43, processes=(GpuProcess(17, "vllm", 2.5e9),
        GpuProcess(18, None, None)), stale=True,
    )  # fmt: skip
    snapshot = Snapshot(
        taken_at=at,
        source="prometheus http://prom:9090",
        models=(ModelHealth("m", p50_s=1 / 3, p99_s=2.0000001, rps=0.0, stale=True),),
        aggregate=ModelHealth(AGGREGATE, error_5xx_ratio=1e-12),
        rate_limited_keys=(KeyRejections("sk-…9f", 1 / 7, 0.999999999),),
        error="Prometheus answered 503.",
        stale_since=at - timedelta(seconds=30),
        queries=9,
        gpus=(gpu,),
        events=(GpuEvent(at, "xid", "XID 43 (GPU stopped processing)", "n1", 3, "p", "m", "ns"),),
        gpu_error="No NVML on this host.",
        extras={"canary": {"weight": 5, "stages": [1, 5.5, None]}, "naïve": "ok"},
    )
    assert snapshot_from_json(json.loads(json.dumps(snapshot_to_json(snapshot)))) == snapshot


def test_the_json_names_every_field() -> None:
    """A field added to the model later must be added here too, or it is not recorded."""
    snapshot = Snapshot(utc(EPOCH), "s", (), ModelHealth(AGGREGATE), gpus=(GpuState("n", 0, "u"),))
    written = snapshot_to_json(snapshot)
    assert set(written) == {f.name for f in fields(Snapshot)}
    assert set(written["gpus"][0]) == {f.name for f in fields(GpuState)}  # type: ignore[index]
    event = GpuEvent(utc(EPOCH), "xid", "d")
    assert set(event.as_json()) == {f.name for f in fields(GpuEvent)} - {"at"} | {"time"}


def test_a_figure_json_cannot_hold_is_no_data() -> None:
    snapshot = Snapshot(utc(EPOCH), "s", (ModelHealth("m", p99_s=math.nan),), ModelHealth("a"))
    back = snapshot_from_json(json.loads(json.dumps(snapshot_to_json(snapshot))))
    assert back.models[0].p99_s is None


@pytest.mark.parametrize(
    "damage",
    [
        {"taken_at": 5},
        {"taken_at": "2026-11-18T11:06:40"},  # no time zone
        {"models": [{"model": "m", "p99_s": "slow"}]},
        {"models": [{"p99_s": 1.0}]},
        {"gpus": [{"node": "n", "gpu": True, "uuid": "u"}]},
        {"aggregate": None},
        {"extras": []},
    ],
)
def test_a_snapshot_of_the_wrong_shape_is_refused(damage: dict[str, object]) -> None:
    good = snapshot_to_json(Snapshot(utc(EPOCH), "s", (), ModelHealth(AGGREGATE)))
    with pytest.raises(ValueError):
        snapshot_from_json(good | damage)


# -- recording


def test_records_every_10_s_and_every_snapshot_with_new_events(
    tmp_path: Path, incident: tuple[Snapshot, ...]
) -> None:
    path = tmp_path / "i.recording.jsonl.gz"
    recorder = record_all(path, incident)
    recording = read_recording(path)
    assert recording.source == incident[0].source
    assert recording.started == incident[0].taken_at
    kept = recording.snapshots
    assert kept[0] == incident[0]
    assert (incident[-1].taken_at - kept[-1].taken_at).total_seconds() < 10
    for before, after in itertools.pairwise(kept):
        gap = (after.taken_at - before.taken_at).total_seconds()
        assert gap == 10 or (gap == 5 and after.events)
    assert recorder.written == len(recording.snapshots)
    assert events_of(recording.snapshots) == events_of(incident)
    assert not recorder.full


def test_an_error_is_recorded_when_it_begins_and_ends(tmp_path: Path) -> None:
    base = Snapshot(utc(EPOCH), "s", (), ModelHealth(AGGREGATE))
    at = [replace(base, taken_at=utc(EPOCH + s)) for s in range(0, 30, 5)]
    failing = replace(at[1], error="Prometheus answered 503.")
    gpu_failing = replace(at[3], gpu_error="No DCGM series.")
    sequence = [at[0], failing, replace(failing, taken_at=at[2].taken_at), gpu_failing, at[4]]
    recorder = Recorder(tmp_path / "r.gz", source="s")
    assert [recorder.record(s) for s in sequence] == [True, True, False, True, True]


def test_a_skipped_refresh_touches_no_file(tmp_path: Path, incident: tuple[Snapshot, ...]) -> None:
    path = tmp_path / "r.gz"
    recorder = Recorder(path, source="s", every_s=60.0)
    assert recorder.record(incident[0])
    path.unlink()
    assert not recorder.record(incident[1])  # would raise FileNotFoundError had it looked
    assert not path.exists()


def test_the_size_stays_under_max_bytes(tmp_path: Path, incident: tuple[Snapshot, ...]) -> None:
    path = tmp_path / "r.gz"
    # Whether the last refresh fills it exactly depends on the bytes per snapshot: this
    # bound does with the 429 keys' tenants in each (150 000 no longer did).
    max_bytes = 140_000
    recorder = Recorder(path, source="s", max_bytes=max_bytes)
    seen_every_s = []
    for snapshot in incident:
        recorder.record(snapshot)
        assert path.stat().st_size <= max_bytes
        seen_every_s.append(recorder.every_s)
    assert recorder.full
    # Doubled at half, again at three quarters, and so on (a snapshot may cross two marks).
    assert {20.0, 40.0, 80.0} <= set(seen_every_s)
    assert all(math.log2(every_s / 10.0).is_integer() for every_s in seen_every_s)
    assert seen_every_s == sorted(seen_every_s)
    assert recorder.size == path.stat().st_size > max_bytes - 5_000  # nothing more fits
    assert not recorder.record(replace(incident[-1], error="late"))  # full is for good
    assert read_recording(path).snapshots[-1].taken_at < incident[-1].taken_at


def test_a_file_too_small_for_one_snapshot_is_full_at_once(
    tmp_path: Path, incident: tuple[Snapshot, ...]
) -> None:
    path = tmp_path / "r.gz"
    recorder = Recorder(path, source="s", max_bytes=1_000)
    assert not recorder.record(incident[0])
    assert recorder.full
    assert path.stat().st_size == 0


def test_a_thirty_minute_gpu_oom_recording_at_12_models_takes_under_a_mebibyte(
    tmp_path: Path, incident: tuple[Snapshot, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    """About 775 kB (181 snapshots of 12 models and 48 GPUs, ~4.3 kB each); the GPUs'
    names, pods and UUIDs are some 60 % of it."""
    path = tmp_path / "r.gz"
    recorder = record_all(path, incident)
    size = path.stat().st_size
    with capsys.disabled():
        print(f"\n30 min gpu-oom, 12 models: {recorder.written} snapshots, {size} bytes")
    assert 500_000 < size < 1024**2
    assert recorder.every_s == 10.0


def test_a_recorder_appends_to_the_incident_it_resumes(
    tmp_path: Path, incident: tuple[Snapshot, ...]
) -> None:
    path = tmp_path / "r.gz"
    record_all(path, incident[:60])
    record_all(path, incident[60:])
    recording = read_recording(path)
    assert recording.started == incident[0].taken_at
    assert recording.snapshots == (
        read_recording_of(tmp_path / "before.gz", incident[:60])
        + read_recording_of(tmp_path / "after.gz", incident[60:])
    )


def read_recording_of(path: Path, snapshots: tuple[Snapshot, ...]) -> tuple[Snapshot, ...]:
    record_all(path, snapshots)
    return read_recording(path).snapshots


def test_a_recorder_cuts_off_a_torn_last_line_before_it_appends(
    tmp_path: Path, incident: tuple[Snapshot, ...]
) -> None:
    path = tmp_path / "r.gz"
    record_all(path, incident[:60])
    whole = path.stat().st_size
    with path.open("ab") as f:
        f.write(members(snapshot_to_json(incident[60]))[:-20])  # a crash mid-write
    record_all(path, incident[61:])
    assert read_recording(path).snapshots == (
        read_recording_of(tmp_path / "before.gz", incident[:60])
        + read_recording_of(tmp_path / "after.gz", incident[61:])
    )
    assert path.stat().st_size > whole


def test_the_recording_lives_beside_the_timeline_and_is_not_taken_for_one(
    tmp_path: Path, incident: tuple[Snapshot, ...]
) -> None:
    timeline = open_or_start(tmp_path, FLEET, incident[0].taken_at)
    path = recording_path(timeline.path)
    assert path.parent == timeline.path.parent
    assert path.name == timeline.path.stem + ".recording.jsonl.gz"
    timeline.append("note", incident[0].taken_at, text="paged")
    record_all(path, incident[:3])
    assert open_or_start(tmp_path, FLEET, incident[-1].taken_at).path == timeline.path


# -- reading damaged files


def test_a_file_torn_mid_last_line_still_reads(
    tmp_path: Path, incident: tuple[Snapshot, ...]
) -> None:
    path = tmp_path / "r.gz"
    record_all(path, incident[:10])
    data = path.read_bytes()
    for cut in (1, 10, 100, 1000):
        path.write_bytes(data[:-cut])
        assert [s.taken_at for s in read_recording(path).snapshots] == [
            s.taken_at for s in incident[0:8:2]
        ]
    path.write_bytes(data + b"\0" * 4096)  # a file system's repair after a crash
    assert len(read_recording(path).snapshots) == 5


def test_a_last_line_without_its_newline_is_a_torn_line(tmp_path: Path) -> None:
    snapshot = snapshot_to_json(Snapshot(utc(EPOCH), "s", (), ModelHealth(AGGREGATE)))
    path = tmp_path / "r.gz"
    path.write_bytes(
        members(header(), snapshot) + gzip.compress(json.dumps(snapshot)[:50].encode())
    )
    assert len(read_recording(path).snapshots) == 1


def test_garbage_in_the_middle_is_skipped_and_named(tmp_path: Path) -> None:
    """Damage loses only itself: the snapshots after it are read, and one sentence names
    the line (it used to end the whole replay there)."""
    snapshot = snapshot_to_json(Snapshot(utc(EPOCH), "s", (), ModelHealth(AGGREGATE)))
    path = tmp_path / "r.gz"
    path.write_bytes(members(header(), snapshot, "{not json", snapshot))
    r = read_recording(path)
    assert len(r.snapshots) == 2
    assert r.damage is not None
    one_sentence(r.damage, path)
    assert "line 3" in r.damage


def test_damaged_compression_in_the_middle_is_skipped_and_named(tmp_path: Path) -> None:
    snapshot = snapshot_to_json(Snapshot(utc(EPOCH), "s", (), ModelHealth(AGGREGATE)))
    first = members(header(), snapshot)
    path = tmp_path / "r.gz"
    path.write_bytes(first + b"\x1f\x8b\x08\x00" + bytes(6) + b"\xff garbage" + members(snapshot))
    r = read_recording(path)
    assert len(r.snapshots) == 2
    assert r.damage is not None
    one_sentence(r.damage, path)
    assert f"byte {len(first)}" in r.damage


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "no such file"),
        (b"", "is empty"),
        (b'{"format": 1}\n', "not gzip-compressed"),
        (members({"taken_at": "2026-11-18T11:06:40Z"}), "not a recording header"),
        (members("[1, 2]"), "not a recording header"),
        (members(header(format="1")), "not a recording header"),
        (members(header(format=FORMAT + 1)), f"format {FORMAT + 1}, newer than"),
        (members(header()), "no snapshots"),
    ],
)
def test_a_file_that_is_no_recording_says_why_in_one_sentence(
    tmp_path: Path, content: bytes | None, says: str
) -> None:
    path = tmp_path / "r.gz"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(RecordingError) as caught:
        read_recording(path)
    one_sentence(str(caught.value), path)
    assert says in str(caught.value)


def test_snapshots_are_read_oldest_first(tmp_path: Path) -> None:
    base = Snapshot(utc(EPOCH), "s", (), ModelHealth(AGGREGATE))
    late, early = (snapshot_to_json(replace(base, taken_at=utc(EPOCH + s))) for s in (20, 10))
    path = tmp_path / "r.gz"
    path.write_bytes(members(header(), late, early))
    read = read_recording(path).snapshots
    assert [s.taken_at for s in read] == [utc(EPOCH + 10), utc(EPOCH + 20)]


# -- replay clock


class FakeMonotonic:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_the_replay_clock_plays_pauses_and_resumes() -> None:
    wall = FakeMonotonic()
    clock = ReplayClock(EPOCH, EPOCH + 600, speed=4.0, monotonic=wall)
    assert clock.now() == EPOCH and not clock.paused
    wall.t += 10
    assert clock.now() == EPOCH + 40
    clock.pause()
    wall.t += 100
    assert clock.paused and clock.now() == EPOCH + 40
    clock.resume()
    wall.t += 5
    assert clock.now() == EPOCH + 60
    clock.toggle()
    assert clock.paused
    clock.toggle()
    assert not clock.paused
    clock.speed = 1.0
    wall.t += 5
    assert clock.now() == EPOCH + 65


def test_the_replay_clock_seeks_within_the_recording() -> None:
    wall = FakeMonotonic()
    clock = ReplayClock(EPOCH, EPOCH + 600, monotonic=wall)
    clock.seek(120)
    assert clock.now() == EPOCH + 120
    clock.seek(-30)
    assert clock.now() == EPOCH + 90
    clock.seek(-1_000)
    assert clock.now() == EPOCH
    clock.pause()
    clock.seek_to(EPOCH + 300)
    wall.t += 50
    assert clock.paused and clock.now() == EPOCH + 300  # a seek keeps a pause
    clock.seek_to(EPOCH + 10_000)
    assert clock.now() == EPOCH + 600 and clock.at_end


def test_the_replay_clock_stops_at_the_end_and_plays_again_from_the_start() -> None:
    wall = FakeMonotonic()
    clock = ReplayClock(EPOCH, EPOCH + 600, start=EPOCH + 590, monotonic=wall)
    wall.t += 5
    assert not clock.at_end
    wall.t += 60
    assert clock.now() == EPOCH + 600
    assert clock.at_end and clock.paused
    wall.t += 60
    assert clock.now() == EPOCH + 600
    clock.seek(-100)
    assert clock.paused and not clock.at_end
    clock.seek(100)
    clock.resume()
    assert clock.now() == EPOCH and not clock.paused


def test_a_replay_clock_over_a_recording_spans_its_snapshots(
    incident: tuple[Snapshot, ...],
) -> None:
    recording = Recording("s", incident[0].taken_at, incident)
    clock = ReplayClock.over(recording, monotonic=FakeMonotonic())
    assert (clock.first, clock.last) == (EPOCH, EPOCH + MINUTES * 60)
    assert clock.now() == EPOCH


# -- replay source


def replay(snapshots: tuple[Snapshot, ...]) -> tuple[ReplaySource, ReplayClock, FakeMonotonic]:
    wall = FakeMonotonic()
    recording = Recording("demo gpu-oom · 12 models", snapshots[0].taken_at, snapshots)
    clock = ReplayClock.over(recording, monotonic=wall)
    return ReplaySource(recording, clock), clock, wall


async def test_a_refresh_is_the_snapshot_recorded_at_or_before_now(
    incident: tuple[Snapshot, ...],
) -> None:
    source, clock, wall = replay(incident)
    assert source.description == "replay demo gpu-oom · 12 models"
    assert (await source.refresh()).taken_at == incident[0].taken_at
    wall.t += 12  # between the refreshes at 10 s and 15 s
    assert (await source.refresh()).taken_at == incident[2].taken_at
    clock.seek_to(EPOCH + 600)
    shown = await source.refresh()
    assert replace(shown, events=incident[120].events) == incident[120]
    clock.seek_to(EPOCH + MINUTES * 60 + 99)
    assert (await source.refresh()).taken_at == incident[-1].taken_at
    await source.aclose()


def test_events_are_delivered_once_across_refreshes_and_seeks(
    incident: tuple[Snapshot, ...],
) -> None:
    xid31, xid43 = events_of(incident)
    source, clock, wall = replay(incident)
    assert source.refresh_now().events == ()
    clock.seek_to(xid31.at.timestamp() - 1)
    assert source.refresh_now().events == ()
    wall.t += 10
    assert source.refresh_now().events == (xid31,)
    assert source.refresh_now().events == ()
    clock.seek(600)  # over XID 43
    assert source.refresh_now().events == (xid43,)
    clock.seek_to(EPOCH)  # back: nothing is delivered twice
    assert source.refresh_now().events == ()
    clock.seek_to(EPOCH + MINUTES * 60)
    assert source.refresh_now().events == ()


def test_a_replay_started_after_the_events_delivers_them_at_once(
    incident: tuple[Snapshot, ...],
) -> None:
    source, clock, _ = replay(incident)
    clock.seek_to(EPOCH + 900)
    assert source.refresh_now().events == tuple(events_of(incident))


def test_history_is_every_recorded_figure_up_to_now(incident: tuple[Snapshot, ...]) -> None:
    source, clock, _ = replay(incident)
    clock.seek_to(EPOCH + 62)
    history = source.history_now()
    assert set(history) == {m.model for m in incident[0].models} | {AGGREGATE}
    points = history[AGGREGATE]
    assert [p.at for p in points] == [EPOCH + s for s in range(0, 61, 5)]
    twelfth = incident[12].aggregate
    assert (points[-1].p99_s, points[-1].error_5xx_ratio, points[-1].rate_429_ratio) == (
        twelfth.p99_s,
        twelfth.error_5xx_ratio,
        twelfth.rate_429_ratio,
    )
    clock.seek_to(EPOCH + MINUTES * 60)
    assert len(source.history_now()[AGGREGATE]) == len(incident)


def test_history_leaves_out_carried_values(incident: tuple[Snapshot, ...]) -> None:
    stale = replace(
        incident[1],
        models=tuple(m.marked_stale() for m in incident[1].models),
        aggregate=incident[1].aggregate.marked_stale(),
        stale_since=incident[0].taken_at,
    )
    source, clock, _ = replay((incident[0], stale, incident[2]))
    clock.seek_to(EPOCH + 10)
    assert [p.at for p in source.history_now()[AGGREGATE]] == [EPOCH, EPOCH + 10]


def test_a_write_the_disk_cuts_short_is_undone_and_said(
    tmp_path: Path, incident: tuple[Snapshot, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "r.gz"
    recorder = Recorder(path, source="s")
    assert recorder.record(incident[0])
    whole = path.read_bytes()
    real_write = os.write
    calls = 0

    def disk_fills(fd: int, data: bytes) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            return real_write(fd, bytes(data)[:100])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", disk_fills)
    with pytest.raises(OSError):
        recorder.record(incident[2])
    assert path.read_bytes() == whole
    monkeypatch.undo()
    assert recorder.record(incident[2])
    assert read_recording(path).snapshots == (incident[0], incident[2])


def test_a_recording_that_cannot_be_written_raises_os_error(
    tmp_path: Path, incident: tuple[Snapshot, ...]
) -> None:
    recorder = Recorder(tmp_path / "gone" / "r.gz", source="s")
    with pytest.raises(OSError):
        recorder.record(incident[0])
