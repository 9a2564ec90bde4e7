"""The incident report as Markdown (to paste into the incident channel and the
postmortem) and as JSON with the same content. Pure; redaction happens where the files
are written (`report_markdown` takes the redactor, so secrets are found in each piece of
text before it is escaped for Markdown).

Every piece of text that comes from outside (model, node, pod and key names, log lines,
runbook text, what the engineer typed) is escaped for the place it lands: it can add
words to the document, never structure (no heading, fence, link, image, raw HTML, list
or table cell of its own), and control characters show as visible symbols."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tui.clock import utc
from tui.domain.format import (
    NO_DATA,
    fmt_latency,
    fmt_percent,
    fmt_queue,
    fmt_ratio,
    fmt_rps,
    model_label,
    printable,
)
from tui.domain.model import iso_utc
from tui.domain.report import SEVERITIES, ModelNumbers, Report, hms
from tui.durations import human_age

FORMAT = 1
"""The JSON report's version: fields are only ever added under it."""


def _iso(ts: float | None) -> str | None:
    return None if ts is None else iso_utc(utc(ts))


def report_json(r: Report) -> dict[str, Any]:
    criteria, response, notify = SEVERITIES[r.severity]
    return {
        "format": FORMAT,
        "title": r.title,
        "source": r.source,
        "exported_at": _iso(r.exported_at),
        "summary": r.summary,
        "severity": {
            "level": r.severity,
            "criteria": criteria,
            "response_time": response,
            "notification": notify,
            "why": r.severity_why,
            "suggested": r.severity_suggested,
        },
        "start": _iso(r.start),
        "end": _iso(r.end),
        "duration_s": None if r.duration_s is None else round(r.duration_s),
        "ongoing": r.end is None,
        "detection": r.detection,
        "impact": r.impact,
        "slo": r.slo,
        "models": [_model_json(m) for m in r.models],
        "gpu_evidence": r.gpu_evidence,
        "decision_path": [
            {
                "time": _iso(s.at),
                "runbook": s.runbook,
                "step": s.text,
                "answer": s.answer,
                "by": s.by,
                "evidence": s.evidence,
            }
            for s in r.path
        ],
        "timeline": [
            {"time": _iso(row.at), "kind": row.kind, "event": row.text} for row in r.timeline
        ],
        "root_cause": r.root_cause,
        "root_cause_suggested": r.root_cause_suggested,
        "resolution": r.resolution,
        "action_items": [
            {"action": a.action, "owner": a.owner, "due": a.due, "status": a.status}
            for a in r.action_items
        ],
        "lessons": r.lessons,
    }


def _model_json(m: ModelNumbers) -> dict[str, Any]:
    return {
        "model": m.model,
        "breached": m.breached,
        "worst_at": _iso(m.worst_at),
        "worst": dict(m.worst),
        "now": {**m.now, "rps": m.rps_now},
    }


def report_markdown(r: Report, clean: Callable[[str], str] | None = None) -> str:
    """The report as Markdown. ``clean`` (the redactor) is applied to each piece of outside
    text before it is escaped, where its patterns still see the text as it was."""

    def md(text: str) -> str:
        return md_text(clean(text) if clean else text)

    def block(text: str) -> str:
        return md_text(clean(text) if clean else text, line_start=True)

    def code(text: str) -> str:
        return md_code(clean(text) if clean else text)

    criteria, response, notify = SEVERITIES[r.severity]
    out: list[str] = [f"# Incident: {md(r.title)}", ""]
    out += ["## Incident Summary", "", block(r.summary), ""]
    out += [
        f"- **Severity**: {md(r.severity)} — {criteria} (respond within {response}; "
        f"{notify}). Why: {md(r.severity_why)}.",
        f"- **Duration**: {_when(r.start)} – {_when(r.end) if r.end else 'ongoing at export'}"
        f" ({_duration(r.duration_s)})",
        f"- **Detection**: {md(r.detection)}",
        *(f"- **Impact**: {md(line)}" for line in r.impact),
        f"- **Source**: {md(r.source)}; exported {_when(r.exported_at)}",
        "",
    ]
    out += ["## Per-model numbers", "",
            "| model | worst at (UTC) | p99 worst | 5xx worst | 429 worst | p99 now | 5xx now "
            "| 429 now | TTFT now | queue now | KV now | req/s now |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for m in r.models:
        if m.model != r.models[0].model and not m.breached:
            continue
        out.append(
            f"| {md(model_label(m.model))} | {hms(m.worst_at)} "
            f"| {fmt_latency(m.worst['p99_s'])} | {fmt_ratio(m.worst['error_5xx_ratio'])} "
            f"| {fmt_ratio(m.worst['rate_429_ratio'])} | {fmt_latency(m.now['p99_s'])} "
            f"| {fmt_ratio(m.now['error_5xx_ratio'])} | {fmt_ratio(m.now['rate_429_ratio'])} "
            f"| {fmt_latency(m.now.get('ttft_p99_s'))} | {fmt_queue(m.now.get('queue_depth'))} "
            f"| {fmt_percent(m.now.get('kv_cache_ratio'))} | {fmt_rps(m.rps_now)} |"
        )
    out.append(
        "\nWorst: each figure at its highest over the incident, the value now included; "
        "worst at: when the model was furthest over an SLO line."
    )
    quiet = sum(1 for m in r.models[1:] if not m.breached)
    if quiet:
        out.append(f"\n{quiet} other models stayed within SLO throughout.")
    out += ["", "## GPU and OOM evidence", ""]
    out += [f"- {block(line)}" for line in r.gpu_evidence] or ["- None seen."]
    out += ["", "## Decision path", ""]
    if r.path:
        for i, s in enumerate(r.path, 1):
            answer = f" — **{md(s.answer)}**" if s.answer else ""
            if s.by and s.by != "evidence":
                answer += f" (by {md(s.by)})"
            evidence = f", on the evidence {code(s.evidence)}" if s.evidence else ""
            out.append(f"{i}. {hms(s.at)} {md(s.text)}{answer}{evidence}")
    else:
        out.append("No runbook was walked.")
    out += ["", "## Timeline", "", "| Time (UTC) | Event |", "|------------|-------|"]
    out += [f"| {hms(row.at)} | {md(row.text)} |" for row in r.timeline]
    out += ["", "## Root Cause", "", block(r.root_cause)]
    if r.root_cause != r.root_cause_suggested:
        out += ["", f"(warroom suggested: {md(r.root_cause_suggested)})"]
    out += ["", "## Resolution", ""] + [f"- {block(line)}" for line in r.resolution]
    out += ["", "## Action Items", "", "| Action | Owner | Due Date | Status |",
            "|--------|-------|----------|--------|"]  # fmt: skip
    out += [
        f"| {md(a.action)} | {md(a.owner)} | {md(a.due)} | {md(a.status)} |" for a in r.action_items
    ]
    lessons = block(r.lessons) if r.lessons else "_To be written in the postmortem._"
    out += ["", "## Lessons", "", lessons, ""]
    return "\n".join(out)


# Characters escaped wherever they are: code spans and fences (`), emphasis (*), links and
# images ([ ]), raw HTML and autolinks (<), table cells (|), strikethrough and fences (~),
# headings' closing sequence (#), entities (&). `_` only opens emphasis at a word's edge.
_ALWAYS = frozenset("`*[]<|~#&")
_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_WORD = re.compile(r"\w")
# What makes a block when it starts a line: a list (- + * 1. 1)), quote (>), thematic
# break or setext underline (- = _ *), heading (#), fence (` ~), HTML (<), table (|).
_LINE_START = frozenset("-+*>=_#`~<|")
_ORDERED = re.compile(r"\d{1,9}[.)]")
_MARKER = re.compile(r"\[redacted [a-z0-9-]+ [0-9a-f]{6}\]")
"""tui.domain.redact's marker: kept as written, so the redactor recognises it on a second pass."""


def visible(text: str) -> str:
    """Control characters (C0, DEL, C1) as visible, inert symbols: ``\\x1b`` shows as ␛,
    a newline as ␊; a tab becomes a space."""
    out = []
    for ch in text:
        c = ord(ch)
        if ch == "\t":
            out.append(" ")
        elif c < 0x20:
            out.append(chr(0x2400 + c))
        elif c == 0x7F:
            out.append("\u2421")
        elif 0x80 <= c < 0xA0:
            out.append(f"\\x{c:02x}")
        elif not ch.isprintable() and ch != " ":
            out.append(printable(ch))
        else:
            out.append(ch)
    return "".join(out)


def md_text(text: str, *, line_start: bool = False) -> str:
    """``text`` as inline Markdown that renders as exactly that text. With ``line_start``
    (a paragraph or a list item's content), what would start a block is escaped too."""
    text = visible(text)
    if line_start:
        text = text.lstrip(" ")  # four spaces would start a code block
    out: list[str] = []
    pos = 0
    for m in _MARKER.finditer(text):
        out.append(_escape(text[pos : m.start()], text, pos))
        out.append(m.group())
        pos = m.end()
    out.append(_escape(text[pos:], text, pos))
    escaped = "".join(out)
    if line_start:
        if escaped[:1] in _LINE_START or escaped.startswith("["):
            escaped = "\\" + escaped
        elif ordered := _ORDERED.match(escaped):
            end = ordered.end() - 1
            escaped = escaped[:end] + "\\" + escaped[end:]
    return escaped


def _escape(part: str, whole: str, offset: int) -> str:
    out: list[str] = []
    for i, ch in enumerate(part):
        at = offset + i
        before = whole[at - 1] if at > 0 else " "
        after = whole[at + 1] if at + 1 < len(whole) else " "
        if ch == "\\":
            # Only a backslash before punctuation escapes it; elsewhere (C:\Users, \n in
            # a log line) it already reads as itself.
            out.append("\\\\" if after in _PUNCT or at + 1 == len(whole) else ch)
        elif ch in _ALWAYS or (ch == "(" and before == "]"):
            # "(" after "]": a redaction marker's brackets are kept, and must not
            # become a link's text.
            out.append("\\" + ch)
        elif ch == "_" and not (_WORD.match(before) and _WORD.match(after)):
            out.append("\\_")
        else:
            out.append(ch)
    return "".join(out)


def md_code(text: str) -> str:
    """``text`` as an inline code span, its fence longer than any run of backticks in it."""
    text = visible(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _when(ts: float | None) -> str:
    return NO_DATA if ts is None else f"{utc(ts):%Y-%m-%d %H:%M:%S} UTC"


def _duration(seconds: float | None) -> str:
    return NO_DATA if seconds is None else human_age(seconds)
