"""JSON a person may `cat` (the report file, the timeline, `snapshot`/`triage`/`discover
--json`) keeps every script's letters readable but writes no character that can act on a
terminal as itself: C1 controls (U+009B is CSI to some terminals), DEL, line and
paragraph separators, bidi overrides and isolates, zero-width and private-use characters
and lone surrogates come out as ``\\uXXXX`` escapes, which read back as the same text."""

from __future__ import annotations

import importlib
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tui.clock import FrozenClock, utc
from tui.config import Slo
from tui.domain import json_out
from tui.domain.model import AGGREGATE, ModelHealth, Snapshot
from tui.domain.report import build_report
from tui.sim.source import DemoSource
from tui.store.report_files import write_report
from tui.store.timeline import Timeline

T0 = 1_795_000_000.0
CJK = "通义千问-72B"
HOSTILE = (
    f"{CJK}\x9b31m\x1b[2J\x7f\x85\u2028\u2029\u202eevil\u2066x\u2069\u200b\u200f"
    "\ue000\U000f0000\ud800 naïve — ok 🔥"
)
RAW = ("\x9b", "\x1b", "\x7f", "\x85", "\u2028", "\u2029", "\u202e", "\u2066", "\u2069",
       "\u200b", "\u200f", "\ue000", "\U000f0000", "\ud800")  # fmt: skip


def assert_inert(out: str) -> None:
    for ch in RAW:
        assert ch not in out, (ch, out)
    assert CJK in out and "naïve — ok 🔥" in out  # letters and symbols read as themselves
    out.encode("utf-8")  # a lone surrogate would not even encode


def test_inert_escapes_what_acts_on_a_terminal_and_keeps_letters() -> None:
    value = {"model": HOSTILE, HOSTILE: [HOSTILE, 1.5, None]}
    for kwargs in ({}, {"indent": 2}, {"separators": (",", ":")}):
        out = json_out.dumps(value, **kwargs)
        assert_inert(out)
        assert json.loads(out) == value
    out = json_out.dumps("\x9b\u202e\U000f0000")
    assert out == '"\\u009b\\u202e\\udb80\\udc00"'
    assert json_out.dumps("plain ascii") == '"plain ascii"'
    assert json_out.dumps("del\x7f") == '"del\\u007f"'


def test_dump_falls_back_to_ascii_where_the_output_cannot_hold_a_letter(tmp_path: Path) -> None:
    with (tmp_path / "out.txt").open("w", encoding="latin-1") as f:
        json_out.dump({"model": HOSTILE}, f)
    text = (tmp_path / "out.txt").read_text(encoding="latin-1")
    assert text.isascii() and json.loads(text) == {"model": HOSTILE}


@pytest.mark.parametrize("surrogate", [False, True])
def test_the_report_json_is_inert(tmp_path: Path, surrogate: bool) -> None:
    """Also with a lone surrogate (JSON from a server can carry one): the Markdown beside
    writes it as its escape rather than failing the export."""
    hostile = HOSTILE if surrogate else HOSTILE.replace("\ud800", "")
    snap = Snapshot(
        taken_at=datetime.fromtimestamp(T0, UTC), source=f"prometheus {hostile}",
        models=(ModelHealth(hostile, p99_s=1.0, error_5xx_ratio=0.0, rate_429_ratio=0.0),),
        aggregate=ModelHealth(AGGREGATE, p99_s=1.0, error_5xx_ratio=0.0, rate_429_ratio=0.0),
    )  # fmt: skip
    entries = [{"at": "2026-11-18T11:00:00Z", "kind": "runbook.answer", "runbook": hostile,
                "text": f"Is {hostile} out of memory?", "answer": "yes"}]  # fmt: skip
    report = build_report(snapshot=snap, points={}, events=[], causes={}, entries=entries,
                          slo=Slo(), now=T0)  # fmt: skip
    written = write_report(report, tmp_path)
    data = written.json.read_text(encoding="utf-8")
    assert_inert(data)
    loaded = json.loads(data)
    assert loaded["source"] == f"prometheus {hostile}"
    assert hostile in [m["model"] for m in loaded["models"]]
    assert loaded["decision_path"][0]["step"] == f"Is {hostile} out of memory?"
    markdown = written.markdown.read_text(encoding="utf-8")
    assert CJK in markdown and ("\\ud800" in markdown) == surrogate


def test_the_timeline_file_is_inert_and_reads_back_the_same(tmp_path: Path) -> None:
    path = tmp_path / "i.jsonl"
    Timeline(path).append("runbook.opened", utc(T0), title=HOSTILE, model=HOSTILE)
    text = path.read_text(encoding="utf-8")
    assert_inert(text)
    assert text.count("\n") == 1
    (entry,) = Timeline(path).entries()
    assert entry["title"] == entry["model"] == HOSTILE


# -- the --json commands


def hostile_snapshot() -> Snapshot:
    """The gpu-oom demo, ten minutes in, its models named with ``HOSTILE`` text."""
    demo = DemoSource("gpu-oom", models=4, clock=FrozenClock(T0 + 600), epoch=T0)
    snap = demo.refresh_now()
    return replace(
        snap,
        models=tuple(replace(m, model=f"{HOSTILE} {i}") for i, m in enumerate(snap.models)),
    )


@pytest.mark.parametrize("command", ["snapshot", "triage"])
def test_snapshot_and_triage_json_are_inert(
    command: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from tui import cli

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    snap = hostile_snapshot()

    def collect_once(args: Any, config: Any) -> tuple[Snapshot, list[Any], None]:
        return snap, list(snap.events), None

    # Each command's module reads through its own name for the wiring's collect_once.
    monkeypatch.setattr(importlib.import_module(f"tui.cli.{command}"), "collect_once", collect_once)
    assert cli.main([command, "--json", "--demo"]) == 0
    out = capsys.readouterr().out
    assert_inert(out)
    # The names read back as they were.
    assert any(s.startswith(f"{HOSTILE} ") for s in _strings(json.loads(out)))


def test_discover_json_is_inert(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from canned_prometheus import Canned, healthy_checks, run

    import tui.cli.discover
    from tui import cli

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    hostile = HOSTILE.replace("\ud800", "")  # the canned server's JSON cannot carry one
    checks = healthy_checks()
    checks["dcgm_exported"] = [({"job": hostile}, 1)]
    checks["istio_hops"] = [({"destination_workload": hostile}, 1)]
    discovery = run(Canned({"generic": 48, "vllm": 40}, checks))
    monkeypatch.setattr(tui.cli.discover, "run_discover", lambda config: discovery)
    assert cli.main(["discover", "--json", "--prometheus", "http://prom.test:9090"]) == 0
    out = capsys.readouterr().out
    for ch in RAW:
        assert ch not in out, (ch, out)
    assert CJK in out  # as discover shows it on screen: made printable, letters kept
    json.loads(out)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []
