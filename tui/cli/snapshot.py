"""`warroom snapshot`: the numbers the panes show, for scripts and for pasting.

The JSON keys are a contract: later capabilities add keys beside these, never rename
them. Models come worst first by `tui.domain.severity.rank`, exactly as on screen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tui.config import Slo
from tui.domain.cause import SuspectedCause
from tui.domain.format import (
    figure_text,
    fmt_latency,
    fmt_percent,
    fmt_queue,
    fmt_ratio,
    fmt_rps,
    printable,
)
from tui.domain.model import GpuEvent, ModelHealth, Snapshot, iso_utc
from tui.domain.severity import judge, rank
from tui.domain.signals import SIGNALS


def snapshot_json(
    snap: Snapshot,
    slo: Slo,
    *,
    events: Sequence[GpuEvent] | None = None,
    causes: Mapping[str, SuspectedCause] | None = None,
) -> dict[str, Any]:
    """``events`` defaults to the snapshot's own; ``causes`` are by model name."""
    verdicts = judge(snap, slo)

    def model_entry(m: ModelHealth) -> dict[str, Any]:
        verdict = verdicts.of(m, slo)
        cause = (causes or {}).get(m.model)
        return {
            **m.as_json(),
            "severity": round(verdict.severity, 4),
            "worst_signal": verdict.worst,
            "suspected_cause": cause.as_json() if cause else None,
        }

    return {
        "taken_at": iso_utc(snap.taken_at),
        "source": snap.source,
        "stale": snap.stale,
        "stale_since": (iso_utc(snap.stale_since) if snap.stale_since else None),
        "error": snap.error,
        "queries": snap.queries,
        "stack": list(snap.stack),
        "unsourced": sorted(snap.unsourced),
        "breaching": verdicts.breaching,
        "models": [model_entry(m) for m in rank(snap.models, slo, verdicts)],
        "aggregate": model_entry(snap.aggregate),
        "rate_limited_keys": [k.as_json() for k in snap.rate_limited_keys],
        "gpus": [g.as_json() for g in sorted(snap.gpus, key=lambda g: (g.node, g.gpu))],
        "gpu_error": snap.gpu_error,
        "events": [
            e.as_json() for e in sorted(snap.events if events is None else events, key=_when)
        ],
        **snap.extras,
    }


def _when(event: GpuEvent) -> object:
    return event.at


def snapshot_table(
    snap: Snapshot, slo: Slo, *, causes: Mapping[str, SuspectedCause] | None = None
) -> str:
    columns = (
        ("p50", "p50_s", fmt_latency), ("p95", "p95_s", fmt_latency),
        ("p99", "p99_s", fmt_latency), ("ttft p99", "ttft_p99_s", fmt_latency),
        ("req/s", "rps", fmt_rps), ("5xx", "error_5xx_ratio", fmt_ratio),
        ("429", "rate_429_ratio", fmt_ratio), ("queue", "queue_depth", fmt_queue),
        ("kv", "kv_cache_ratio", fmt_percent),
    )  # fmt: skip
    header = ("model", *(name for name, _, _ in columns))
    rows = [header]
    for m in (*rank(snap.models, slo), snap.aggregate):
        rows.append(
            (printable(m.model), *(figure_text(m, f, fmt, snap.unsourced) for _, f, fmt in columns))
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    stack = f" ({' · '.join(snap.stack)})" if snap.stack else ""
    lines = [f"{snap.source}{stack} at {snap.taken_at:%Y-%m-%d %H:%M:%S} UTC"]
    for r in rows:
        cells = [r[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells))
    for model, cause in sorted((causes or {}).items()):
        lines.append(f"{model}: {cause.summary}")
    if snap.gpus:
        lines.append(f"{len(snap.gpus)} GPUs read")
    if snap.gpu_error:
        lines.append(snap.gpu_error)
    return _inert_lines(lines)


def triage_text(result: Mapping[str, Any]) -> str:
    """`warroom triage` without ``--json``: the path and where it ended, to paste."""
    lines = [f"{result['source']} at {result['taken_at']}"]
    symptom = result["symptom"]
    if symptom is None:
        lines.append("No model is at or past an SLO warning line.")
    else:
        lines.append(f"Worst symptom: {symptom['headline']}")
    book = result["runbook"]
    if book is None:
        lines.append("No runbook opened; pick one with --runbook ID.")
        return "\n".join(lines) + "\n"
    lines.append(f"Runbook: {book['id']} ({book['title']})")
    for taken in result["path"]:
        line = f"  {taken['runbook']}/{taken['step']}: {taken['text']}"
        if taken["kind"] == "question":
            ev = taken["evidence"]
            values = ", ".join(
                f"{k} {SIGNALS[k].show(v)}" for k, v in (ev or {}).get("values", {}).items()
            )
            line += f" -> {taken['answer']}" + (f" [{values}]" if values else "")
        lines.append(line)
    if result["reached"]:
        leaf = result["reached"]
        lines.append(f"Reached {leaf['runbook']}/{leaf['step']}: {leaf['text']}")
        for action in leaf.get("actions", []):
            how = "warroom mitigation" if action["automated"] else "by hand"
            lines.append(f"  - {action['id']}: {action['title']} ({how}: {action['changes']})")
    elif result["stopped_at"]:
        stop = result["stopped_at"]
        lines.append(f"Stopped at {stop['runbook']}/{stop['step']}: {stop['text']}")
        if "reason" in stop:
            lines.append(f"  live evidence cannot answer it: {stop['reason']}")
    return _inert_lines(lines)


def _inert_lines(lines: Sequence[str]) -> str:
    """The text to print: model, node and pod names and servers' words are outside
    text, so every line is made inert (`printable`) before it reaches a terminal."""
    return "\n".join(printable(line) for line in lines) + "\n"
