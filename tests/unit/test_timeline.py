"""The incident timeline on disk: append-only JSON lines that survive crashes and restarts."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tui.clock import utc
from tui.domain.model import GpuEvent
from tui.store.timeline import Timeline, default_state_dir

T0 = 1_790_000_000.0  # 2026-09-21T14:13:20Z
REPO = Path(__file__).resolve().parents[2]


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_append_writes_one_json_line_per_entry(tmp_path: Path) -> None:
    path = tmp_path / "i.jsonl"
    tl = Timeline(path)
    assert tl.entries() == []
    assert tl.append("note", utc(T0), text="paged: llama-70b 5xx") is True
    assert tl.append("model.breach", utc(T0 + 5), model="llama-70b", ratio=0.02) is True
    assert lines(path) == [
        '{"at":"2026-09-21T14:13:20Z","kind":"note","text":"paged: llama-70b 5xx"}',
        '{"at":"2026-09-21T14:13:25Z","kind":"model.breach","model":"llama-70b","ratio":0.02}',
    ]
    assert tl.entries() == [
        {"at": "2026-09-21T14:13:20Z", "kind": "note", "text": "paged: llama-70b 5xx"},
        {"at": "2026-09-21T14:13:25Z", "kind": "model.breach", "model": "llama-70b", "ratio": 0.02},
    ]


def test_non_ascii_is_written_as_is(tmp_path: Path) -> None:
    path = tmp_path / "i.jsonl"
    Timeline(path).append("note", utc(T0), text="naïve — ok")
    assert "naïve — ok" in path.read_text(encoding="utf-8")
    assert Timeline(path).entries()[0]["text"] == "naïve — ok"


def test_same_key_twice_writes_once(tmp_path: Path) -> None:
    path = tmp_path / "i.jsonl"
    tl = Timeline(path)
    assert tl.append("model.breach", utc(T0), key="breach:llama-70b:1") is True
    assert tl.append("model.breach", utc(T0 + 9), key="breach:llama-70b:1") is False
    assert tl.append("model.breach", utc(T0 + 9), key="breach:llama-70b:2") is True
    assert [e["key"] for e in tl.entries()] == ["breach:llama-70b:1", "breach:llama-70b:2"]
    assert len(lines(path)) == 2


def test_same_key_after_a_restart_writes_once(tmp_path: Path) -> None:
    path = tmp_path / "i.jsonl"
    assert Timeline(path).append("model.breach", utc(T0), key="k1") is True
    again = Timeline(path)
    assert again.append("model.breach", utc(T0 + 60), key="k1") is False
    assert again.append("note", utc(T0 + 60)) is True
    assert [(e["kind"], e.get("key")) for e in again.entries()] == [
        ("model.breach", "k1"),
        ("note", None),
    ]


def test_entries_without_a_key_are_never_deduplicated(tmp_path: Path) -> None:
    tl = Timeline(tmp_path / "i.jsonl")
    assert tl.append("note", utc(T0), text="x") is True
    assert tl.append("note", utc(T0), text="x") is True
    assert len(tl.entries()) == 2


def test_torn_last_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "i.jsonl"
    Timeline(path).append("note", utc(T0), text="first")
    with path.open("a", encoding="utf-8") as f:
        f.write('{"at":"2026-09-21T14:13:2')
    assert [e["text"] for e in Timeline(path).entries()] == ["first"]


def test_lines_that_are_not_objects_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "i.jsonl"
    path.write_text('[1, 2]\n"text"\n{"at":"x","kind":"note"}\n', encoding="utf-8")
    assert Timeline(path).entries() == [{"at": "x", "kind": "note"}]


def test_append_after_a_torn_last_line_is_readable(tmp_path: Path) -> None:
    path = tmp_path / "i.jsonl"
    Timeline(path).append("note", utc(T0), text="first")
    with path.open("a", encoding="utf-8") as f:
        f.write('{"at":"2026-09-21T14:13:2')
    tl = Timeline(path)
    assert tl.append("note", utc(T0 + 10), text="second", key="k2") is True
    assert [e["text"] for e in tl.entries()] == ["first", "second"]
    # The key is known after a restart only if its line can be read.
    assert Timeline(path).append("note", utc(T0 + 20), text="second", key="k2") is False


def test_append_after_a_torn_line_that_ended_its_line_still_works(tmp_path: Path) -> None:
    path = tmp_path / "i.jsonl"
    Timeline(path).append("note", utc(T0), text="first")
    with path.open("a", encoding="utf-8") as f:
        f.write('{"at":"2026-09-21T14:13:2\n')
    tl = Timeline(path)
    assert tl.append("note", utc(T0 + 10), text="second") is True
    assert [e["text"] for e in tl.entries()] == ["first", "second"]


def test_record_gpu_event_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "i.jsonl"
    event = GpuEvent(
        at=utc(T0),
        kind="xid",
        detail="XID 43 (GPU stopped processing)",
        node="gpu-node-006",
        gpu=6,
        pod="llama-a",
        model="llama-70b",
        namespace="inference",
    )
    tl = Timeline(path)
    assert tl.record_gpu_event(event) is True
    assert tl.record_gpu_event(event) is False
    (entry,) = Timeline(path).entries()
    assert entry == {
        "at": "2026-09-21T14:13:20Z",
        "kind": "gpu.xid",
        "node": "gpu-node-006",
        "gpu": 6,
        "pod": "llama-a",
        "namespace": "inference",
        "model": "llama-70b",
        "detail": "XID 43 (GPU stopped processing)",
        "key": (
            "gpu:2026-09-21 14:13:20+00:00|xid|gpu-node-006|6|llama-a|"
            "XID 43 (GPU stopped processing)"
        ),
    }
    # After a restart the same event is still recognised.
    assert Timeline(path).record_gpu_event(event) is False


def test_default_state_dir_honours_xdg_state_home(tmp_path: Path) -> None:
    assert default_state_dir({"XDG_STATE_HOME": str(tmp_path)}) == tmp_path / "warroom"


def test_default_state_dir_without_xdg_is_under_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/oncall")
    assert default_state_dir({}) == Path("/home/oncall/.local/state/warroom")
    assert default_state_dir({"XDG_STATE_HOME": ""}) == Path("/home/oncall/.local/state/warroom")


def test_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "i.jsonl"
    old = os.umask(0o022)
    try:
        Timeline(path).append("note", utc(T0))
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


CHILD = """
import sys, time
from pathlib import Path
from tui.clock import utc
from tui.store.timeline import Timeline
tl = Timeline(Path(sys.argv[1]))
tl.append("note", utc(1790000000.0), text="before the kill", key="k")
print("appended", flush=True)
time.sleep(60)
"""


def test_appended_entry_survives_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "i.jsonl"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "appended\n"
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert Timeline(path).entries() == [
        {"at": "2026-09-21T14:13:20Z", "kind": "note", "text": "before the kill", "key": "k"}
    ]
