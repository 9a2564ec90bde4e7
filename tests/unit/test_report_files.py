"""Writing the report: three files side by side, secrets redacted in both Markdown and
JSON, nothing replaced unasked (and nothing written when refused), no temporary file
left behind; and `warroom report` headless on the demo."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tui.cli import main
from tui.config import Slo
from tui.domain.model import AGGREGATE, ModelHealth, Snapshot
from tui.domain.report import build_report
from tui.store.report_files import write_report

T0 = 1_795_000_000.0
TOKEN = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEyMyJ9.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2lnbmF0dXJlLXNpZ24"


def report_with_a_secret() -> object:
    snap = Snapshot(
        taken_at=datetime.fromtimestamp(T0, UTC), source="test", models=(),
        aggregate=ModelHealth(AGGREGATE, p99_s=1.0, error_5xx_ratio=0.0, rate_429_ratio=0.0),
    )  # fmt: skip
    entries = [{
        "at": "2026-11-18T11:00:00Z", "kind": "action.failed", "title": "Turn on the fallback",
        "error": f"401 from the API server; request had Authorization: Bearer {TOKEN}",
    }]  # fmt: skip
    return build_report(snapshot=snap, points={}, events=[], causes={}, entries=entries,
                        slo=Slo(), now=T0)  # fmt: skip


def test_secrets_never_reach_the_files(tmp_path: Path) -> None:
    written = write_report(report_with_a_secret(), tmp_path, svg="<svg/>")  # type: ignore[arg-type]
    markdown = written.markdown.read_text()
    data = written.json.read_text()
    for text in (markdown, data):
        assert TOKEN not in text and TOKEN[:20] not in text
        assert "[redacted" in text
    assert "Turn on the fallback" in markdown  # the context stays
    json.loads(data)
    assert written.svg is not None and written.svg.read_text() == "<svg/>"


def test_an_existing_report_is_not_replaced_unasked(tmp_path: Path) -> None:
    report = report_with_a_secret()
    first = write_report(report, tmp_path)  # type: ignore[arg-type]
    first.markdown.write_text("edited by hand")
    with pytest.raises(FileExistsError):
        write_report(report, tmp_path)  # type: ignore[arg-type]
    assert first.markdown.read_text() == "edited by hand"
    write_report(report, tmp_path, overwrite=True)  # type: ignore[arg-type]
    assert first.markdown.read_text().startswith("# Incident:")
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.json.name, first.markdown.name]


def test_report_headless_on_the_demo(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    out = tmp_path / "out"
    argv = ["report", "--demo", "--scenario", "gpu-oom", "--at", "15m", "--out", str(out)]
    assert main([*argv, "--severity", "SEV2", "--root-cause", "Batch too large."]) == 0
    paths = [Path(line) for line in capsys.readouterr().out.split()]
    assert [p.suffix for p in paths] == [".md", ".json", ".svg"]
    markdown = paths[0].read_text()
    assert "codellama-34b-instruct: 5xx crossed its SLO" in markdown
    assert "**Severity**: SEV2" in markdown and "set by the engineer (suggested SEV3" in markdown
    assert "Batch too large." in markdown and "xid: gpu-node-006 GPU 6" in markdown
    assert paths[2].read_text().startswith("<svg")
    data = json.loads(paths[1].read_text())
    assert data["severity"]["suggested"] == "SEV3" and data["models"][1]["breached"] is True


def test_report_names_a_missing_timeline(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                         ) -> None:  # fmt: skip
    missing = tmp_path / "nope.jsonl"
    argv = ["report", "--demo", "--timeline", str(missing), "--out", str(tmp_path)]
    assert main(argv) == 2
    assert f"There is no incident timeline at {missing}." in capsys.readouterr().err
