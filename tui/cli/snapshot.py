"""`warroom snapshot`: the numbers the panes show, for scripts and for pasting.

The JSON keys are a contract: later capabilities add keys beside these, never rename
them. Models come worst first by `tui.domain.severity.rank`, exactly as on screen, from
the verdicts judged once (`tui.domain.assessed.Assessed`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tui.domain import json_out
from tui.domain.model import GpuEvent

if TYPE_CHECKING:
    pass

from collections.abc import Mapping

from tui.cli.wiring import collect_once, load
from tui.domain.assessed import Assessed
from tui.domain.format import (
    figure_text,
    fmt_latency,
    fmt_percent,
    fmt_queue,
    fmt_ratio,
    fmt_rps,
    printable,
)
from tui.domain.model import ModelHealth, iso_utc
from tui.domain.signals import SIGNALS


def snapshot_json(assessed: Assessed) -> dict[str, Any]:
    """The snapshot as judged once (`Assessed`), with every GPU event its causes were
    read from."""
    snap = assessed.snapshot

    def model_entry(m: ModelHealth) -> dict[str, Any]:
        verdict = assessed.of(m)
        cause = assessed.causes.get(m.model)
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
        "breaching": assessed.breaching,
        "models": [model_entry(m) for m in assessed.ranked],
        "aggregate": model_entry(snap.aggregate),
        "rate_limited_keys": [k.as_json() for k in snap.rate_limited_keys],
        "gpus": [g.as_json() for g in sorted(snap.gpus, key=lambda g: (g.node, g.gpu))],
        "gpu_error": snap.gpu_error,
        "events": [e.as_json() for e in sorted(assessed.events, key=_when)],
        **snap.extras,
    }


def _when(event: GpuEvent) -> object:
    return event.at


def snapshot_table(assessed: Assessed) -> str:
    snap = assessed.snapshot
    columns = (
        ("p50", "p50_s", fmt_latency), ("p95", "p95_s", fmt_latency),
        ("p99", "p99_s", fmt_latency), ("ttft p99", "ttft_p99_s", fmt_latency),
        ("req/s", "rps", fmt_rps), ("5xx", "error_5xx_ratio", fmt_ratio),
        ("429", "rate_429_ratio", fmt_ratio), ("queue", "queue_depth", fmt_queue),
        ("kv", "kv_cache_ratio", fmt_percent),
    )  # fmt: skip
    header = ("model", *(name for name, _, _ in columns))
    rows = [header]
    for m in (*assessed.ranked, snap.aggregate):
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
    for model, cause in sorted(assessed.causes.items()):
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


def command(args: argparse.Namespace) -> int:
    from tui.domain.assessed import Assessed

    config = load(args)
    snap, events, note = collect_once(args, config)
    assessed = Assessed.build(snap, config.slo, events=events, within_s=config.history_s)
    if note:
        print(f"warroom: {note}", file=sys.stderr)
    if args.json:
        json_out.dump(snapshot_json(assessed), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(snapshot_table(assessed))
    return 0
