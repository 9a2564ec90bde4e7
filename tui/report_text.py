"""The incident report as Markdown (to paste into the incident channel and the
postmortem) and as JSON with the same content. Pure; redaction happens where the files
are written."""

from __future__ import annotations

from typing import Any

from tui.clock import utc
from tui.durations import human_age
from tui.format import NO_DATA, fmt_latency, fmt_percent, fmt_queue, fmt_ratio, fmt_rps, model_label
from tui.model import iso_utc
from tui.report import SEVERITIES, ModelNumbers, Report, hms

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


def report_markdown(r: Report) -> str:
    criteria, response, notify = SEVERITIES[r.severity]
    out: list[str] = [f"# Incident: {r.title}", ""]
    out += ["## Incident Summary", "", r.summary, ""]
    out += [
        f"- **Severity**: {r.severity} — {criteria} (respond within {response}; {notify}). "
        f"Why: {r.severity_why}.",
        f"- **Duration**: {_when(r.start)} – {_when(r.end) if r.end else 'ongoing at export'}"
        f" ({_duration(r.duration_s)})",
        f"- **Detection**: {r.detection}",
        *(f"- **Impact**: {line}" for line in r.impact),
        f"- **Source**: {r.source}; exported {_when(r.exported_at)}",
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
            f"| {_cell(model_label(m.model))} | {hms(m.worst_at)} "
            f"| {fmt_latency(m.worst['p99_s'])} | {fmt_ratio(m.worst['error_5xx_ratio'])} "
            f"| {fmt_ratio(m.worst['rate_429_ratio'])} | {fmt_latency(m.now['p99_s'])} "
            f"| {fmt_ratio(m.now['error_5xx_ratio'])} | {fmt_ratio(m.now['rate_429_ratio'])} "
            f"| {fmt_latency(m.now.get('ttft_p99_s'))} | {fmt_queue(m.now.get('queue_depth'))} "
            f"| {fmt_percent(m.now.get('kv_cache_ratio'))} | {fmt_rps(m.rps_now)} |"
        )
    quiet = sum(1 for m in r.models[1:] if not m.breached)
    if quiet:
        out.append(f"\n{quiet} other models stayed within SLO throughout.")
    out += ["", "## GPU and OOM evidence", ""]
    out += [f"- {_cell(line)}" for line in r.gpu_evidence] or ["- None seen."]
    out += ["", "## Decision path", ""]
    if r.path:
        for i, s in enumerate(r.path, 1):
            answer = f" — **{s.answer}**" if s.answer else ""
            if s.by and s.by != "evidence":
                answer += f" (by {s.by})"
            evidence = f", on the evidence `{s.evidence}`" if s.evidence else ""
            out.append(f"{i}. {hms(s.at)} {s.text}{answer}{evidence}")
    else:
        out.append("No runbook was walked.")
    out += ["", "## Timeline", "", "| Time (UTC) | Event |", "|------------|-------|"]
    out += [f"| {hms(row.at)} | {_cell(row.text)} |" for row in r.timeline]
    out += ["", "## Root Cause", "", r.root_cause]
    if r.root_cause != r.root_cause_suggested:
        out += ["", f"(warroom suggested: {r.root_cause_suggested})"]
    out += ["", "## Resolution", ""] + [f"- {line}" for line in r.resolution]
    out += ["", "## Action Items", "", "| Action | Owner | Due Date | Status |",
            "|--------|-------|----------|--------|"]  # fmt: skip
    out += [f"| {_cell(a.action)} | {a.owner} | {a.due} | {a.status} |" for a in r.action_items]
    out += ["", "## Lessons", "", r.lessons or "_To be written in the postmortem._", ""]
    return "\n".join(out)


def _cell(text: str) -> str:
    """Markdown table cells: a pipe in a log line must not split the row."""
    return text.replace("|", "\\|").replace("\n", " ")


def _when(ts: float | None) -> str:
    return NO_DATA if ts is None else f"{utc(ts):%Y-%m-%d %H:%M:%S} UTC"


def _duration(seconds: float | None) -> str:
    return NO_DATA if seconds is None else human_age(seconds)
