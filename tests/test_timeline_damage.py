"""The timeline reads lines ending at ``\\n`` only, and skips (naming) lines it cannot read."""

from __future__ import annotations

import json
from pathlib import Path

from tui.clock import utc
from tui.timeline import Timeline

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
    from tui.report import decision_path

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
