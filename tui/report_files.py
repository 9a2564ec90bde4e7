"""Writing an incident report: Markdown, JSON and the screen as SVG, side by side, with
every secret redacted, never overwriting a report already there unless asked, and never
leaving a half-written file (each is written to a temporary name, then renamed)."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tui.clock import utc
from tui.redact import redact, redact_json
from tui.report import Report
from tui.report_text import report_json, report_markdown


@dataclass(frozen=True, slots=True)
class Written:
    markdown: Path
    json: Path
    svg: Path | None

    @property
    def paths(self) -> list[Path]:
        return [p for p in (self.markdown, self.json, self.svg) if p is not None]


def report_stem(report: Report) -> str:
    """``incident-20261123T141020Z``: named for the incident's start, so exporting the
    same incident twice lands on the same name and asks before replacing it."""
    at = report.start if report.start is not None else report.exported_at
    return f"incident-{utc(at):%Y%m%dT%H%M%SZ}"


def planned_paths(report: Report, out_dir: Path, *, screenshot: bool) -> Written:
    stem = out_dir / report_stem(report)
    return Written(
        stem.with_suffix(".md"), stem.with_suffix(".json"),
        stem.with_suffix(".svg") if screenshot else None,
    )  # fmt: skip


def existing(paths: Written) -> list[Path]:
    """The files an export would replace."""
    return [p for p in paths.paths if p.exists()]


def write_report(
    report: Report, out_dir: Path, *, svg: str | None = None, overwrite: bool = False
) -> Written:
    """Write the report (and the screenshot, when given). Raises FileExistsError when a
    file is already there and ``overwrite`` is False, before anything is written, and
    OSError when the directory cannot be written."""
    paths = planned_paths(report, out_dir, screenshot=svg is not None)
    there = existing(paths)
    if there and not overwrite:
        raise FileExistsError(f"{there[0]} already exists")
    out_dir.mkdir(parents=True, exist_ok=True)
    markdown = redact(report_markdown(report))
    data = json.dumps(redact_json(report_json(report)), indent=2, ensure_ascii=False) + "\n"
    _write(paths.markdown, markdown)
    _write(paths.json, data)
    if paths.svg is not None and svg is not None:
        # Not passed through the redactor: the screen shows no credentials, and Textual
        # splits text into spans a pattern would not see whole anyway.
        _write(paths.svg, svg)
    return paths


def _write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
