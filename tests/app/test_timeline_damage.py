"""The timeline reads lines ending at ``\\n`` only, and skips lines it cannot read, naming
them once: on the cockpit's screen, on `warroom report`'s stderr and in the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui.clock import utc
from tui.store.timeline import Timeline

T0 = 1_790_000_000.0


def test_line_separators_in_labels_and_a_torn_line_lose_no_good_entry(tmp_path: Path) -> None:
    path = tmp_path / "i.jsonl"
    tl = Timeline(path)
    tl.append("runbook.opened", utc(T0), title="GPU\u2028OOM", model="llama-70b")
    tl.append("runbook.answer", utc(T0 + 1), text="pods\u0085restarting?", answer="yes")
    # A write torn inside a multibyte character, then garbage that is not UTF-8.
    with path.open("ab") as f:
        f.write('{"at":"2026-09-21T14:13:22Z","kind":"note","text":"é'.encode()[:-1] + b"\n")
        f.write(b"\xff\xfe not json\n")
    tl.append("runbook.answer", utc(T0 + 3), text="a\u2029b\x1cc\x1dd\x1ee\x0bf\x0cg", answer="no")
    tl.append("runbook.reached", utc(T0 + 4), title="Roll\u2028back")
    tl.append("note", utc(T0 + 5), text="last")

    again = Timeline(path)
    entries = again.entries()
    assert [e["kind"] for e in entries] == [
        "runbook.opened",
        "runbook.answer",
        "runbook.answer",
        "runbook.reached",
        "note",
    ]
    assert entries[0]["title"] == "GPU\u2028OOM"
    assert entries[1]["text"] == "pods\u0085restarting?"
    assert entries[2]["text"] == "a\u2029b\x1cc\x1dd\x1ee\x0bf\x0cg"
    assert again.damaged == [3, 4]
    note = again.damage_note()
    assert note is not None and str(path) in note and "3, 4" in note


def test_a_clean_timeline_names_no_damage(tmp_path: Path) -> None:
    path = tmp_path / "i.jsonl"
    Timeline(path).append("note", utc(T0), text="x\u2028y")
    tl = Timeline(path)
    assert tl.entries() == [{"at": "2026-09-21T14:13:20Z", "kind": "note", "text": "x\u2028y"}]
    assert tl.damaged == [] and tl.damage_note() is None


def test_report_reads_the_runbook_walked_despite_damage(tmp_path: Path) -> None:
    from tui.domain.report import decision_path

    path = tmp_path / "i.jsonl"
    lines = [
        {"at": "2026-09-21T14:13:20Z", "kind": "runbook.answer", "runbook": "gpu\u2028oom",
         "text": "OOM\u0085?", "answer": "yes"},
        {"at": "2026-09-21T14:13:21Z", "kind": "runbook.reached", "runbook": "gpu", "title": "t"},
    ]  # fmt: skip
    data = b"".join(json.dumps(e, ensure_ascii=False).encode() + b"\n" for e in lines)
    path.write_bytes(data[:10] + b"\xc3\n" + data)
    steps = decision_path(Timeline(path).entries())
    assert len(steps) == 2


# -- the damage is named once: on the cockpit's screen, on `warroom report`'s stderr and in
# the report it writes


def damaged_timeline(path: Path) -> Timeline:
    """An incident timeline with a torn multibyte line (3) and a garbage line (4)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tl = Timeline(path)
    tl.append("runbook.opened", utc(T0), runbook="gpu-oom", title="GPU OOM", model="llama-70b")
    tl.append("runbook.answer", utc(T0 + 1), runbook="gpu-oom", text="OOM?", answer="yes")
    with path.open("ab") as f:
        f.write('{"at":"2026-09-21T14:13:22Z","kind":"note","text":"模型'.encode()[:-2] + b"\n")
        f.write(b"\xff\xfe garbage \x9b not json\n")
    tl.append("note", utc(T0 + 5), text="last")
    return Timeline(path)


async def test_the_cockpit_names_a_damaged_timeline_once(tmp_path: Path) -> None:
    from demo_app import frozen_demo_app

    timeline = damaged_timeline(tmp_path / "incidents" / "20261118T110100Z.jsonl")
    app = frozen_demo_app("gpu-oom", timeline=timeline)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.refresh_data()  # a second refresh says nothing more
        await app.workers.wait_for_complete()
        await pilot.pause()
        said = [n for n in app._notifications if str(timeline.path) in n.message]
        assert len(said) == 1, [n.message for n in app._notifications]
        assert said[0].severity == "warning"
        assert "2 damaged lines" in said[0].message and "lines 3, 4" in said[0].message
        # The report made from the cockpit says it too, as a note on its timeline.
        report = app.incident_report()
        assert report is not None
        notes = [row.text for row in report.timeline if row.kind == "note"]
        assert len(notes) == 1 and "lines 3, 4" in notes[0]


async def test_a_clean_timeline_says_nothing_in_the_cockpit(tmp_path: Path) -> None:
    from demo_app import frozen_demo_app

    path = tmp_path / "incidents" / "20261118T110100Z.jsonl"
    path.parent.mkdir(parents=True)
    Timeline(path).append("note", utc(T0), text="x\u2028y")
    app = frozen_demo_app("gpu-oom", timeline=Timeline(path))
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not [n for n in app._notifications if "damaged" in n.message]
        report = app.incident_report()
        assert report is not None and not [r for r in report.timeline if r.kind == "note"]


def test_report_command_names_the_damage_on_stderr_and_in_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.cli import main

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    timeline = damaged_timeline(tmp_path / "incident.jsonl")
    out = tmp_path / "out"
    argv = ["report", "--demo", "--scenario", "gpu-oom", "--at", "15m", "--out", str(out),
            "--timeline", str(timeline.path), "--no-screenshot"]  # fmt: skip
    assert main(argv) == 0
    captured = capsys.readouterr()
    said = [line for line in captured.err.splitlines() if str(timeline.path) in line]
    assert said == [f"warroom: {timeline.damage_note()}"], captured.err
    assert "lines 3, 4" in said[0]
    markdown, data = (Path(p) for p in captured.out.split())
    assert "lines 3, 4" in markdown.read_text()
    notes = [row for row in json.loads(data.read_text())["timeline"] if row["kind"] == "note"]
    assert len(notes) == 1 and "lines 3, 4" in notes[0]["event"]
    # What the timeline did hold is in the report still.
    assert "Runbook opened: GPU OOM" in markdown.read_text()
