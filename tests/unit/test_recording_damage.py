"""A damaged recording loses only its damaged parts: reading resumes at the next whole gzip
member and says in one sentence what it skipped, a recorder that finds damage at the end
appends after it and says so, and the replay shows the sentence."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tui.clock import FrozenClock
from tui.domain.model import Snapshot
from tui.sim.source import DemoSource
from tui.sources.replay import ReplayClock, ReplaySource
from tui.store.recording import Recorder, Recording, RecordingError, read_recording

EPOCH = 1_795_000_000.0
GARBAGE = bytes(range(256)) * 16 + b"garbage, not gzip" * 100


@pytest.fixture(scope="module")
def incident() -> tuple[Snapshot, ...]:
    """Ten simulated minutes of ``gpu-oom``, one refresh every 10 s: each one recorded."""
    clock = FrozenClock(EPOCH)
    demo = DemoSource("gpu-oom", models=4, clock=clock, epoch=EPOCH)
    snapshots = []
    for step in range(61):
        clock.at = EPOCH + step * 10
        snapshots.append(demo.refresh_now())
    return tuple(snapshots)


def record(path: Path, snapshots: tuple[Snapshot, ...]) -> Recorder:
    recorder = Recorder(path, source=snapshots[0].source, every_s=10)
    for snapshot in snapshots:
        assert recorder.record(snapshot)
    return recorder


def times(snapshots: tuple[Snapshot, ...]) -> list[float]:
    return [s.taken_at.timestamp() for s in snapshots]


def one_sentence(text: str) -> None:
    assert text.endswith(".") and "\n" not in text
    assert text.count(". ") == 0, text


def test_half_a_recording_plus_garbage_keeps_what_came_before_and_after(
    tmp_path: Path, incident: tuple[Snapshot, ...]
) -> None:
    path = tmp_path / "r.recording.jsonl.gz"
    record(path, incident[:30])
    data = path.read_bytes()
    before = record(tmp_path / "before.recording.jsonl.gz", incident[:29]).size
    last = data[before:]  # the last snapshot's member
    assert read_recording_of(tmp_path, incident[:30]) == read_recording(path).snapshots
    # The last member cut in half, then garbage: what the file looked like.
    cut = len(data) - len(last) // 2
    path.write_bytes(data[:cut] + GARBAGE)

    recorder = record(path, incident[30:])
    assert recorder.damage is not None
    one_sentence(recorder.damage)
    assert str(path) in recorder.damage and f"byte {len(data) - len(last)}" in recorder.damage
    assert path.read_bytes().startswith(data[:cut] + GARBAGE)  # the damage is kept

    recording = read_recording(path)
    assert times(recording.snapshots) == times(incident[:29] + incident[30:])
    assert recording.snapshots[0] == read_recording_of(tmp_path, incident[:1])[0]
    assert recording.damage is not None
    one_sentence(recording.damage)
    assert str(path) in recording.damage
    assert f"{len(last) - len(last) // 2 + len(GARBAGE)} bytes" in recording.damage
    assert f"from byte {len(data) - len(last)}" in recording.damage

    # A second recorder finds an intact end: it neither cuts nor says anything.
    again = Recorder(path, source="x")
    again._open(incident[-1])
    assert again.damage is None


def read_recording_of(tmp_path: Path, snapshots: tuple[Snapshot, ...]) -> tuple[Snapshot, ...]:
    path = tmp_path / "clean.recording.jsonl.gz"
    record(path, snapshots)
    return read_recording(path).snapshots


def test_damage_between_members_and_a_bad_line_are_skipped(
    tmp_path: Path, incident: tuple[Snapshot, ...]
) -> None:
    path = tmp_path / "r.recording.jsonl.gz"
    record(path, incident[:20])
    first = path.read_bytes()
    bad_line = gzip.compress(b"{not json\n", mtime=0)
    path.write_bytes(first + b"\x1f\x8b\x08\x00" + bytes(6) + b"\xff garbage" + bad_line)
    with path.open("ab") as f:
        second = tmp_path / "second.recording.jsonl.gz"
        record(second, incident[20:])
        members = second.read_bytes()
        header_end = members.index(b"\x1f\x8b\x08", 1)
        f.write(members[header_end:])  # the snapshots, not a second header

    recording = read_recording(path)
    assert times(recording.snapshots) == times(incident)
    assert recording.damage is not None
    one_sentence(recording.damage)
    assert f"from byte {len(first)}" in recording.damage
    assert "line 22 is not a snapshot" in recording.damage


async def test_the_replay_shows_the_damage_and_plays_the_rest(
    tmp_path: Path, incident: tuple[Snapshot, ...]
) -> None:
    path = tmp_path / "r.recording.jsonl.gz"
    record(path, incident[:30])
    with path.open("ab") as f:
        f.write(GARBAGE)
    record(path, incident[30:])
    recording = read_recording(path)
    assert times(recording.snapshots) == times(incident)
    clock = ReplayClock.over(recording, monotonic=lambda: 0.0)
    source = ReplaySource(recording, clock)
    clock.seek_to(incident[45].taken_at.timestamp())
    shown = await source.refresh()
    assert shown.taken_at == incident[45].taken_at
    assert shown.error == recording.damage


def test_a_clean_recording_says_nothing(tmp_path: Path, incident: tuple[Snapshot, ...]) -> None:
    path = tmp_path / "r.recording.jsonl.gz"
    assert record(path, incident[:10]).damage is None
    assert read_recording(path).damage is None
    assert Recorder(path, source="x").damage is None


# -- a damaged header: what follows it still plays, the source read from the snapshots


def header_end(data: bytes) -> int:
    """Where the header's member ends: the first snapshot's member begins there."""
    return data.index(b"\x1f\x8b\x08", 1)


def assert_plays_without_its_header(
    path: Path, incident: tuple[Snapshot, ...], recording: Recording
) -> str:
    assert times(recording.snapshots) == times(incident)
    assert recording.source == incident[0].source
    assert recording.started == incident[0].taken_at
    assert recording.damage is not None
    one_sentence(recording.damage)
    assert str(path) in recording.damage and "its header is lost" in recording.damage
    assert "takes the source from its snapshots" in recording.damage
    return recording.damage


def test_a_recording_whose_first_bytes_are_damaged_plays_the_rest(
    tmp_path: Path, incident: tuple[Snapshot, ...]
) -> None:
    path = tmp_path / "r.recording.jsonl.gz"
    record(path, incident[:30])
    data = path.read_bytes()
    end = header_end(data)
    # The first bytes overwritten: the header's member is no gzip any more.
    path.write_bytes(b"\0garbage" + data[8:])
    damage = assert_plays_without_its_header(path, incident[:30], read_recording(path))
    assert f"{end} bytes from byte 0 do not decompress" in damage

    # The header's member intact in its framing, its deflate stream damaged.
    path.write_bytes(data[:12] + bytes(b ^ 0x5A for b in data[12 : end - 8]) + data[end - 8 :])
    assert_plays_without_its_header(path, incident[:30], read_recording(path))

    # A recorder opening it appends after the snapshots, and all of them play.
    record(path, incident[30:])
    assert_plays_without_its_header(path, incident, read_recording(path))


def test_a_first_line_that_is_no_header_is_named_and_the_snapshots_play(
    tmp_path: Path, incident: tuple[Snapshot, ...]
) -> None:
    path = tmp_path / "r.recording.jsonl.gz"
    record(path, incident[:10])
    data = path.read_bytes()
    path.write_bytes(
        gzip.compress(b'{"format": 1, "sou\xffrce": 7}\n', mtime=0) + data[header_end(data) :]
    )
    damage = assert_plays_without_its_header(path, incident[:10], read_recording(path))
    assert "decompress" not in damage and "not a snapshot" not in damage


def test_a_file_that_is_no_recording_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.recording.jsonl.gz"
    path.write_bytes(GARBAGE + b"\x1f\x8b\x08 but nothing that decompresses")
    with pytest.raises(RecordingError, match="not gzip-compressed"):
        read_recording(path)
    path.write_bytes(gzip.compress(b'{"taken_at": "2026-11-18T11:06:40Z"}\n'))
    with pytest.raises(RecordingError, match="not a recording header"):
        read_recording(path)


def test_replay_says_what_it_skipped_on_stderr(
    tmp_path: Path,
    incident: tuple[Snapshot, ...],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`warroom replay` plays the rest, and on leaving says what it skipped: the
    recording's damage and its incident timeline's, one line each."""
    from tui.app import WarroomApp
    from tui.cli import main
    from tui.store.timeline import Timeline

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    played: list[WarroomApp] = []
    monkeypatch.setattr(WarroomApp, "run", lambda self, *a, **k: played.append(self))
    path = tmp_path / "20261118T110100Z.recording.jsonl.gz"
    record(path, incident[:20])
    path.write_bytes(b"\0garbage" + path.read_bytes()[8:])
    timeline = tmp_path / "20261118T110100Z.jsonl"
    timeline.write_bytes(b'{"at":"2026-11-18T11:01:00Z","kind":"note","text":"x"}\n\xff\xfe\n')

    assert main(["replay", str(path)]) == 0
    (app,) = played
    assert app.replay is not None and app.report_timeline is not None
    assert app.source.description == f"replay {incident[0].source}"
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"warroom: {read_recording(path).damage}",
        f"warroom: {Timeline(timeline).damage_note()}",
    ]
    assert "its header is lost" in err[0] and "line 2" in err[1]
