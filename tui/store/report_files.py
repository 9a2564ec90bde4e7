"""Writing an incident report: Markdown, JSON and the screen as SVG, side by side, with
every secret redacted, never overwriting a report already there unless asked, and never
leaving a half-written file (each is written to a temporary name, then renamed)."""

from __future__ import annotations

import difflib
import html
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tui.clock import utc
from tui.domain import json_out
from tui.domain.redact import redact, redact_json
from tui.domain.report import Report
from tui.domain.report_text import report_json, report_markdown


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
    # Redacted piece by piece before Markdown escaping (which would hide a secret's shape),
    # then whole, for what spans pieces.
    markdown = redact(report_markdown(report, clean=redact))
    # Inert: `cat report.json` must not hand a C1 control or bidi override to a terminal.
    data = json_out.dumps(redact_json(report_json(report)), indent=2) + "\n"
    _write(paths.markdown, markdown)
    _write(paths.json, data)
    if paths.svg is not None and svg is not None:
        _write(paths.svg, redact_svg(svg))
    return paths


_TEXT = re.compile(r"(<text\b(?P<attrs>[^>]*)>)(?P<body>[^<]*)(</text>)")
_ATTR = re.compile(r'\b(x|y|textLength)="([^"]*)"')


def redact_svg(svg: str) -> str:
    """The screenshot (Rich's SVG export: one ``<text>`` per run of one style, spaces as
    ``&#160;``) with every secret the screen showed replaced as in the Markdown.

    The redactor reads each screen line whole, so a secret drawn in several styles is
    still seen; its characters are then taken out of the runs it spans, the marker put
    in the first of them."""
    runs = list(_TEXT.finditer(svg))
    if not runs:
        return svg
    texts = [html.unescape(m["body"]).replace("\xa0", " ") for m in runs]
    lines: dict[str, list[int]] = {}
    for i, m in enumerate(runs):
        lines.setdefault(dict(_ATTR.findall(m["attrs"])).get("y", ""), []).append(i)
    new = list(texts)
    for members in lines.values():
        members.sort(key=lambda i: _number(runs[i], "x"))
        _redact_line(members, runs, texts, new)
    out: list[str] = []
    pos = 0
    for m, old, text in zip(runs, texts, new, strict=True):
        if text == old:
            continue
        body = html.escape(text).replace(" ", "&#160;")
        out += [svg[pos : m.start("body")], body]
        pos = m.end("body")
    out.append(svg[pos:])
    return "".join(out)


def _number(m: re.Match[str], name: str) -> float:
    try:
        return float(dict(_ATTR.findall(m["attrs"])).get(name, "0"))
    except ValueError:
        return 0.0


def _redact_line(
    members: list[int], runs: list[re.Match[str]], texts: list[str], new: list[str]
) -> None:
    # The line as the screen shows it: runs side by side, a space where a blank run was
    # left out of the SVG.
    line = ""
    spans: list[tuple[int, int, int]] = []  # (run, start, end) in `line`
    end_x: float | None = None
    for i in members:
        x = _number(runs[i], "x")
        if end_x is not None and x > end_x + 0.01:
            line += " "
        spans.append((i, len(line), len(line) + len(texts[i])))
        line += texts[i]
        end_x = x + _number(runs[i], "textLength")
    redacted = redact(line)
    if redacted == line:
        return
    # Map the redactor's edits back onto the runs: the characters an edit replaces are
    # cut out of the runs they sit in, and its new text goes where the edit began.
    chars = [list(texts[i]) for i, _, _ in spans]
    matcher = difflib.SequenceMatcher(None, line, redacted, autojunk=False)
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        text = redacted[b1:b2]
        for k, (_, start, end) in enumerate(spans):
            if tag == "insert":
                if start <= a1 < end:
                    chars[k][a1 - start] = text + chars[k][a1 - start]
                    text = ""
                elif a1 == end and (k + 1 == len(spans) or spans[k + 1][1] > a1):
                    chars[k][-1] += text
                    text = ""
                continue
            for j in range(max(a1, start), min(a2, end)):
                chars[k][j - start] = text
                text = ""
    for (i, _, _), cs in zip(spans, chars, strict=True):
        new[i] = "".join(cs)


def _write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        # backslashreplace: a lone surrogate in a label (JSON can carry one) is written as
        # its escape rather than costing the whole report.
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
